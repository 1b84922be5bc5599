/*
 * session.c - the session phase: SessionOpen and SessionClose events
 * with service, tty, source address and the session's length, and the
 * source address of a login that authenticated elsewhere (an SSH key),
 * so sudo_iam can use it as aws:SourceIp for this login session.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_iam.h"
#include "phase.h"

static void
cleanup_opened(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* This handle's successful authentication of this user, or NULL. */
static const struct pam_iam_authed *
authenticated_here(struct phase *p)
{
	const void *data = NULL;
	const struct pam_iam_authed *au;

	if (pam_get_data(p->pamh, PAM_IAM_DATA_AUTH, &data) != PAM_SUCCESS ||
	    data == NULL)
		return NULL;
	au = data;
	return au->uid == p->rec->uid ? au : NULL;
}

/*
 * The MFA time an sshd child's authentication left for this process
 * (see hand_off() in auth.c), taken once: the record is removed.  Only a
 * record of this user, at most HANDOFF_MAX_AGE old, counts.
 */
#define HANDOFF_MAX_AGE 600

static int64_t
handed_off(struct phase *p)
{
	struct iam_session_rec h;
	char key[96];
	int64_t t = 0;

	if (iam_session_handoff_key(getpid(), key, sizeof(key)) < 0 ||
	    iam_session_read(p->o.cfg->run_dir, key, &h, 0) < 0)
		return 0;
	(void)iam_session_remove(p->o.cfg->run_dir, key, 0);
	if (h.uid == p->rec->uid && h.mfa_time > 0 && p->now >= h.mfa_time &&
	    p->now - h.mfa_time <= HANDOFF_MAX_AGE)
		t = h.mfa_time;
	return t;
}

/*
 * Record this login session's source address and MFA time under the
 * session's key as it is now.  The key may differ from the one seen at
 * authentication: pam_loginuid, earlier in sshd's and login's session
 * stacks, gives the process a new kernel audit session, and the user's
 * shell and its sudo inherit that one.  A login whose authentication did
 * not run here (an SSH key, su by root, cron) gets no MFA; its record
 * also replaces a stale MFA time an earlier session may have left under
 * the same key, but never the login session's source address.
 */
static int
record_source(struct phase *p)
{
	const struct pam_iam_authed *au = authenticated_here(p);
	struct iam_session_rec rec = { .mfa_time = 0, .uid = p->rec->uid };
	char key[96];
	int r;

	if (au != NULL)
		rec.mfa_time = au->mfa_time;
	else
		rec.mfa_time = handed_off(p);
	r = iam_session_key(p->rec->uid, p->tty, key, sizeof(key));
	/*
	 * Only a new network login (PAM_RHOST an address) sets the source
	 * address; su, sudo, login and the rest keep the one this login
	 * session recorded, so an IpAddress condition still applies.
	 */
	if (r == 0)
		iam_session_source(p->o.cfg->run_dir, key, p->rhost, &rec, 0);
	r = r ? r : iam_session_write(p->o.cfg->run_dir, key, &rec, 0);
	if (r < 0)
		pam_syslog(p->pamh, LOG_ERR, "cannot record the session of "
			   "%s under %s: %s", p->user, p->o.cfg->run_dir,
			   strerror(-r));
	return r;
}

int
pam_iam_session_open(struct phase *p)
{
	struct iam_event_param params[] = {
		{ "service", p->service },
		{ "tty", p->tty },
	};
	struct pam_iam_opened *op;
	int r;

	r = record_source(p);
	if (r < 0) {
		(void)pam_iam_trail(p, "SessionOpen", "Unavailable", params, 2,
				    NULL);
		return r == -ENOMEM ? PAM_BUF_ERR : PAM_SESSION_ERR;
	}
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return PAM_BUF_ERR;
	op->uid = p->rec->uid;
	op->opened = p->now;
	if (pam_set_data(p->pamh, PAM_IAM_DATA_SESSION, op, cleanup_opened) !=
	    PAM_SUCCESS) {
		free(op);
		return PAM_BUF_ERR;
	}
	if (pam_iam_trail(p, "SessionOpen", NULL, params, 2, NULL) < 0)
		return PAM_SESSION_ERR;
	pam_syslog(p->pamh, LOG_INFO, "session opened for %s (service %s, "
		   "tty %s, rhost %s)", p->user, p->service ? p->service : "",
		   p->tty ? p->tty : "", p->rhost ? p->rhost : "");
	return PAM_SUCCESS;
}

int
pam_iam_session_close(struct phase *p)
{
	const struct pam_iam_opened *op = NULL;
	const void *data = NULL;
	char secs[32] = "", opened[32] = "";
	struct iam_event_param params[] = {
		{ "service", p->service },
		{ "tty", p->tty },
		{ "sessionOpened", NULL },
		{ "sessionSeconds", NULL },
	};

	if (pam_get_data(p->pamh, PAM_IAM_DATA_SESSION, &data) ==
	    PAM_SUCCESS && data != NULL) {
		op = data;
		if (op->uid == p->rec->uid && p->now >= op->opened &&
		    iam_format_time(op->opened, opened, sizeof(opened)) == 0 &&
		    iam_snprintf(secs, sizeof(secs), "%" PRId64,
				 p->now - op->opened) == 0) {
			params[2].value = opened;
			params[3].value = secs;
		}
	}
	if (pam_iam_trail(p, "SessionClose", NULL, params, 4, NULL) < 0)
		return PAM_SESSION_ERR;
	pam_syslog(p->pamh, LOG_INFO, "session closed for %s (%s s)", p->user,
		   secs[0] ? secs : "unknown");
	return PAM_SUCCESS;
}
