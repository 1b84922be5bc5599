/*
 * pam_iam.c - PAM entry points of the account, session and password
 * phases, and what they share: who the user is, the trail, messages.
 * Authentication lives in auth.c; the phases in account.c, session.c
 * and password.c.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>

#include "pam_iam.h"
#include "phase.h"

void
pam_iam_say(struct phase *p, int style, const char *text)
{
	if (!p->o.quiet)
		(void)pam_prompt(p->pamh, style, NULL, "%s", text);
}

int64_t
pam_iam_mfa_time(struct phase *p)
{
	const void *data = NULL;
	const struct pam_iam_authed *au;

	/*
	 * Only this handle's authentication counts.  The run_dir record is
	 * keyed by the kernel audit session, which during sshd's account
	 * phase is still sshd's own (pam_loginuid runs later, in the
	 * session phase): it cannot tell this login from an earlier one,
	 * so it must not vouch for MFA here.
	 */
	if (pam_get_data(p->pamh, PAM_IAM_DATA_AUTH, &data) != PAM_SUCCESS ||
	    data == NULL)
		return 0;
	au = data;
	if (p->rec == NULL || au->uid != p->rec->uid || au->mfa_time <= 0)
		return 0;
	return au->mfa_time;
}

int
pam_iam_trail(struct phase *p, const char *event, const char *error,
	      const struct iam_event_param *params, size_t n_params,
	      const char *decision_json)
{
	const struct iam_config *cfg = p->o.cfg;
	struct iam_event ev = {
		.time = p->now,
		.source = "pam_iam",
		.name = event,
		.user_type = p->rec != NULL ? "IAMUser" : "Unknown",
		.user_name = p->rec != NULL ? p->rec->name : NULL,
		.user_arn = p->rec != NULL ? p->arn : NULL,
		.source_ip = p->rhost != NULL && p->rhost[0] != '\0' ?
			p->rhost : NULL,
		.params = params,
		.n_params = n_params,
		.error_code = error,
		.decision_json = decision_json,
	};
	int r;

	r = iam_trail_write(cfg, &ev);
	if (r == 0)
		return 0;
	if (cfg->trail_required) {
		pam_syslog(p->pamh, LOG_ERR, "cannot write the trail %s: %s; "
			   "refusing (trail_required)", cfg->trail_file,
			   strerror(-r));
		return r;
	}
	pam_syslog(p->pamh, LOG_WARNING, "cannot write the trail %s: %s; "
		   "proceeding (trail_required = false)", cfg->trail_file,
		   strerror(-r));
	return 0;
}

/* The snapshot is unusable: local ids stay local, the rest is refused. */
static int
phase_unavailable(struct phase *p, int r, const char *why, const char *event)
{
	const struct iam_config *cfg = p->o.cfg;
	struct passwd *pw = pam_modutil_getpwnam(p->pamh, p->user);

	if (pw != NULL && (pw->pw_uid < cfg->uid_min ||
			   pw->pw_uid > cfg->uid_max))
		return PAM_USER_UNKNOWN;
	pam_syslog(p->pamh, LOG_ERR, "IAM unavailable: %s", why);
	if (event != NULL)
		(void)pam_iam_trail(p, event, "Unavailable", NULL, 0, NULL);
	return pam_iam_errno_code(r);
}

/*
 * The user's record in the private snapshot, from the generation who
 * was decided on (iam_who_record()); a torn snapshot fails closed.
 */
static int
load_phase_record(struct phase *p, const char *event)
{
	int r;

	if (iam_who_record(&p->who, p->o.cfg->snapshot_dir, p->user) < 0)
		return phase_unavailable(p, p->who.err, p->who.why, event);
	p->rec = p->who.rec;
	p->who.rec = NULL;
	r = iam_arn_user(p->rec->account_id, p->rec->name, p->arn,
			 sizeof(p->arn));
	return r < 0 ? PAM_BUF_ERR : PAM_SUCCESS;
}

int
pam_iam_phase_begin(struct phase *p, pam_handle_t *pamh, int flags, int argc,
		    const char **argv, const char *event_name)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->pamh = pamh;
	p->now = (int64_t)time(NULL);
	r = pam_get_user(pamh, &p->user, NULL);
	if (r == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (r != PAM_SUCCESS)
		return r;
	if (p->user == NULL || p->user[0] == '\0')
		return PAM_USER_UNKNOWN;
	/* Who is asking first: nothing of IAM touches a local name. */
	r = pam_iam_start(pamh, flags, argc, argv, p->user, &p->o, &p->who);
	p->opts_loaded = true;
	if (p->who.kind == IAM_WHO_LOCAL || p->who.kind == IAM_WHO_UNKNOWN)
		return PAM_USER_UNKNOWN;
	if (r != PAM_SUCCESS)
		return r;
	p->service = pam_iam_item(pamh, PAM_SERVICE);
	p->tty = pam_iam_item(pamh, PAM_TTY);
	p->rhost = pam_iam_item(pamh, PAM_RHOST);
	if (p->who.kind == IAM_WHO_UNAVAILABLE)
		return phase_unavailable(p, p->who.err, p->who.why, event_name);
	return load_phase_record(p, event_name);
}

void
pam_iam_phase_end(struct phase *p)
{
	p->rec = iam_auth_user_free(p->rec);
	if (p->opts_loaded) {
		pam_iam_opts_release(&p->o);
		iam_who_release(&p->who);
	}
	p->opts_loaded = false;
}

/*
 * The session of a user who is not IAM's: none of ours (PAM_IGNORE),
 * unless it is a local account's opened on behalf of an IAM user --
 * sudo's run-as user, with PAM_RUSER the IAM user who asked.  That one
 * is accepted (and logged), so a session stack of pam_iam alone does
 * not fail for want of a module that answered (libpam's verdict on a
 * stack that only ignored).  A session phase grants nothing: sudo_iam
 * decided the command.
 */
static int
session_not_ours(const struct phase *p)
{
	pam_handle_t *pamh = p->pamh;
	const void *ruser = NULL;
	struct iam_who w;
	int r = PAM_IGNORE;

	/* Only a local account (/etc/passwd), never a name nobody has. */
	if (!p->opts_loaded || p->who.kind != IAM_WHO_LOCAL)
		return PAM_IGNORE;
	if (pam_get_item(pamh, PAM_RUSER, &ruser) != PAM_SUCCESS ||
	    ruser == NULL || *(const char *)ruser == '\0')
		return PAM_IGNORE;
	iam_who(IAM_SNAPSHOT_DIR, ruser, IAM_WHO_PASSWD_LOCAL, &w);
	if (w.kind == IAM_WHO_USER) {
		pam_syslog(pamh, LOG_INFO, "session of %s on behalf of IAM "
			   "user %s", p->user, (const char *)ruser);
		r = PAM_SUCCESS;
	}
	iam_who_release(&w);
	return r;
}

/* The entry points that run as one phase (pam_iam_phase_begin). */
enum step { STEP_ACCOUNT, STEP_OPEN, STEP_CLOSE, STEP_CHAUTHTOK };

static int
run_phase(pam_handle_t *pamh, int flags, int argc, const char **argv,
	  enum step s)
{
	static const char *const event[] = {
		[STEP_ACCOUNT] = "Login", [STEP_OPEN] = "SessionOpen",
		[STEP_CLOSE] = "SessionClose",
		[STEP_CHAUTHTOK] = "ChangePassword",
	};
	struct phase p;
	int r;

	r = pam_iam_phase_begin(&p, pamh, flags, argc, argv, event[s]);
	if (r == PAM_SUCCESS) {
		switch (s) {
		case STEP_ACCOUNT:
			r = pam_iam_account(&p);
			break;
		case STEP_OPEN:
			r = pam_iam_session_open(&p);
			break;
		case STEP_CLOSE:
			r = pam_iam_session_close(&p);
			break;
		case STEP_CHAUTHTOK:
			r = pam_iam_chauthtok(&p, flags);
			break;
		}
	} else if (r == PAM_USER_UNKNOWN && s == STEP_CHAUTHTOK) {
		r = PAM_IGNORE;		/* not an IAM user: none of ours */
	} else if (r == PAM_USER_UNKNOWN && s != STEP_ACCOUNT) {
		r = session_not_ours(&p);
	}
	pam_iam_phase_end(&p);
	return r;
}

PAM_IAM_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_phase(pamh, flags, argc, argv, STEP_ACCOUNT);
}

PAM_IAM_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	return run_phase(pamh, flags, argc, argv, STEP_OPEN);
}

PAM_IAM_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
		     const char **argv)
{
	return run_phase(pamh, flags, argc, argv, STEP_CLOSE);
}

PAM_IAM_EXPORT int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_phase(pamh, flags, argc, argv, STEP_CHAUTHTOK);
}
