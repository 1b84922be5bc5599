/*
 * pam_iam.h - internal interface between the files of pam_iam.
 */
#ifndef PAM_IAM_H
#define PAM_IAM_H

#include <stdbool.h>
#include <stdint.h>
#include <security/pam_modules.h>

#include "iam.h"
#include "iam/who.h"

#define PAM_IAM_EXPORT __attribute__((visibility("default")))

/* pam_set_data() names. */
#define PAM_IAM_DATA_AUTH	"pam_iam_auth"		/* struct pam_iam_authed */

/* Module arguments over iam.conf over the defaults. */
struct pam_iam_opts {
	bool debug;		/* LOG_DEBUG lines */
	bool try_first_pass;	/* use an earlier module's password, else ask */
	bool use_first_pass;	/* use an earlier module's password, never ask */
	bool use_authtok;	/* password phase: the new token of an earlier module */
	bool one_prompt;	/* password and code in one answer, code last */
	bool nodelay;		/* no delay requested on a failure (pam_unix's
				   nodelay) */
	bool bad_arg;		/* an unknown argument was given */
	bool named;		/* config= given: the file must exist */
	bool quiet;		/* PAM_SILENT: no message to the user */
	const char *config;	/* config= or IAM_DEFAULT_CONFIG */
	struct iam_config *cfg;	/* loaded settings; owned */
};

/* What a successful authentication leaves for later phases. */
struct pam_iam_authed {
	uint32_t uid;		/* the IAM user's uid */
	int64_t mfa_time;	/* when a code was verified; 0 none */
	char key[96];		/* run_dir session key used, "" none */
};

/* The delay requested on an authentication failure: pam_unix's default. */
#define PAM_IAM_FAIL_DELAY_USEC	2000000u

/*
 * Parse argv, decide who user is (iam_who() on the public snapshot at
 * its compiled path, before iam.conf is read), then load the settings.  Returns
 * PAM_USER_UNKNOWN for a local name (w->kind IAM_WHO_LOCAL; nothing of
 * IAM was read but the snapshot, nothing logged); otherwise PAM_SUCCESS
 * with o->cfg loaded, or PAM_AUTHINFO_UNAVAIL (unknown argument,
 * unusable iam.conf; logged) or PAM_BUF_ERR.  w->kind is set in every
 * case.  Release o with pam_iam_opts_release() and w with
 * iam_who_release() in every case.
 */
int pam_iam_start(pam_handle_t *pamh, int flags, int argc, const char **argv,
		  const char *user, struct pam_iam_opts *o,
		  struct iam_who *w);
void pam_iam_opts_release(struct pam_iam_opts *o);

/*
 * A right password stored with another method or cost than hash_method:
 * hash it with hash_method and commit it to the credentials store, then
 * publish (password.c), keeping its age, history and must_change.  A
 * failure is logged and changes nothing; -ESTALE when the stored
 * password changed meanwhile.
 */
int pam_iam_rehash(pam_handle_t *pamh, const struct iam_config *cfg,
		   const struct iam_auth_user *u, const char *password);

/* A PAM item, or NULL when unset. */
const void *pam_iam_item(pam_handle_t *pamh, int type);

/* What a failed conversation returns: PAM_INCOMPLETE, PAM_BUF_ERR or
   PAM_CONV_ERR. */
int pam_iam_conv_code(int r);

/* A negative errno as the PAM code of DESIGN.md's table. */
int pam_iam_errno_code(int r);

#endif
