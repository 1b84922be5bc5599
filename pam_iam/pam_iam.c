/*
 * pam_iam.c - PAM entry points.  Until authentication lands, every phase
 * answers PAM_AUTHINFO_UNAVAIL: never a success, and the recommended stack
 * falls through to pam_unix for local users and root.
 */
#include <security/pam_modules.h>

#define EXPORT __attribute__((visibility("default")))
#define UNAVAIL(fn)                                                         \
	EXPORT int fn(pam_handle_t *pamh, int flags, int argc,              \
		      const char **argv)                                    \
	{                                                                   \
		(void)pamh; (void)flags; (void)argc; (void)argv;            \
		return PAM_AUTHINFO_UNAVAIL;                                \
	}
UNAVAIL(pam_sm_authenticate)
UNAVAIL(pam_sm_setcred)
UNAVAIL(pam_sm_acct_mgmt)
UNAVAIL(pam_sm_open_session)
UNAVAIL(pam_sm_close_session)
UNAVAIL(pam_sm_chauthtok)
