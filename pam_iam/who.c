/*
 * who.c - who is asking, decided before iam.conf is read.
 *
 * A name in /etc/passwd is local: pam_iam never prompts it, never shows
 * it a message and never depends on anything of IAM for it.  Otherwise
 * the public snapshot at its compiled path (nss.db) and NSS must agree on
 * the name's uid for it to be an IAM user.  A name that is neither is
 * "unknown": authentication treats it like an IAM user (the same prompts
 * and work), every other phase leaves it alone.  When the snapshot is
 * unusable, a uid that NSS resolves outside uid_min-uid_max is local
 * (the defaults when the settings are unusable as well); anything else
 * may be an IAM user, and fails closed.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>

#include "pam_iam.h"
#include "nssdb.h"

/* A name of /etc/passwd, read directly (never through NSS). */
static bool
in_etc_passwd(pam_handle_t *pamh, const char *user)
{
	return pam_modutil_check_user_in_passwd(pamh, user, NULL) ==
		PAM_SUCCESS;
}

void
pam_iam_who(pam_handle_t *pamh, const char *user, bool debug,
	    struct pam_iam_who *w)
{
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct passwd *pw;
	const char *path;
	int r;

	memset(w, 0, sizeof(*w));
	if (in_etc_passwd(pamh, user)) {
		w->kind = PAM_IAM_LOCAL;
		return;
	}
	memset(&db, 0, sizeof(db));
	/* As nss_iam reads: the generation served, else a flat-layout host. */
	path = IAM_NSS_DB_CURRENT;
	r = iam_nssdb_open(path, &db, NULL);
	if (r == -ENOENT) {
		path = IAM_NSS_DB;
		r = iam_nssdb_open(path, &db, NULL);
	}
	if (r == 0) {
		r = iam_nssdb_user_by_name(&db, user, &u);
		if (r == 0)
			w->uid = u.uid;
		iam_nssdb_close(&db);
		if (r == -ENOENT) {
			/* Not in the snapshot: a name IAM does not know. */
			w->kind = PAM_IAM_UNKNOWN;
			return;
		}
	}
	if (r < 0) {
		w->kind = PAM_IAM_UNUSABLE;
		w->err = r;
		(void)snprintf(w->why, sizeof(w->why), "%s: %s", path,
			       r == -EBADMSG ? "corrupt" :
			       r == -EPERM ? "insecure owner or mode" :
			       strerror(-r));
		return;
	}
	/* NSS must resolve the name to the same uid, else it is not ours. */
	pw = pam_modutil_getpwnam(pamh, user);
	if (pw == NULL || pw->pw_uid != w->uid) {
		if (debug)
			pam_syslog(pamh, LOG_DEBUG, "%s: NSS disagrees with the "
				   "snapshot; not an IAM user", user);
		w->kind = PAM_IAM_UNKNOWN;
		return;
	}
	w->kind = PAM_IAM_USER;
}

void
pam_iam_who_settle(pam_handle_t *pamh, const char *user,
		   const struct iam_config *cfg, struct pam_iam_who *w)
{
	uint32_t lo = 70000, hi = 99999;	/* iam.conf(5)'s defaults */
	struct passwd *pw;

	if (w->kind != PAM_IAM_UNUSABLE)
		return;
	if (cfg != NULL) {
		lo = cfg->uid_min;
		hi = cfg->uid_max;
	}
	pw = pam_modutil_getpwnam(pamh, user);
	if (pw != NULL && (pw->pw_uid < lo || pw->pw_uid > hi))
		w->kind = PAM_IAM_LOCAL;
}
