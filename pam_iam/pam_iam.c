/*
 * pam_iam.c - PAM entry points of the account, session and password
 * phases.  Until they land, each answers PAM_AUTHINFO_UNAVAIL: never a
 * success, and the recommended stack falls through to pam_unix for local
 * users and root.  Authentication lives in auth.c.
 */
#include "pam_iam.h"

#define UNAVAIL(fn)                                                         \
	PAM_IAM_EXPORT int fn(pam_handle_t *pamh, int flags, int argc,      \
			      const char **argv)                            \
	{                                                                   \
		(void)pamh; (void)flags; (void)argc; (void)argv;            \
		return PAM_AUTHINFO_UNAVAIL;                                \
	}
UNAVAIL(pam_sm_acct_mgmt)
UNAVAIL(pam_sm_open_session)
UNAVAIL(pam_sm_close_session)
UNAVAIL(pam_sm_chauthtok)
