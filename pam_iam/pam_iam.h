/*
 * pam_iam.h - internal interface between the files of pam_iam.
 */
#ifndef PAM_IAM_H
#define PAM_IAM_H

#include <stdbool.h>
#include <security/pam_modules.h>

#include "iam.h"

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

/*
 * Parse argv and load the configuration.  Returns PAM_SUCCESS, or
 * PAM_AUTHINFO_UNAVAIL (unknown argument, unusable iam.conf; logged),
 * PAM_BUF_ERR.  Release with pam_iam_opts_release() in every case.
 */
int pam_iam_args(pam_handle_t *pamh, int flags, int argc, const char **argv,
		 struct pam_iam_opts *o);
void pam_iam_opts_release(struct pam_iam_opts *o);

/* A negative errno as the PAM code of DESIGN.md's table. */
int pam_iam_errno_code(int r);

#endif
