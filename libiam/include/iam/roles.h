/*
 * iam/roles.h - deciding about roles (libiam/policy/roles.c): the checks
 * of sts:AssumeRole, the request context of a role session, and the MFA
 * check of assume-role.  The role snapshot is in iam/rolesdb.h, the role
 * session records in iam/role_session.h; both are included here.
 */
#ifndef IAM_ROLES_H
#define IAM_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/auth.h"
#include "iam/config.h"
#include "iam/decide.h"
#include "iam/identity.h"
#include "iam/policy.h"
#include "iam/rolesdb.h"
#include "iam/role_session.h"

/* ---- Deciding --------------------------------------------------------- */

/*
 * Duration of a new session: asked == 0 gives the default, the smaller
 * of the role's maximum and IAM_ROLE_DEFAULT_SECONDS; otherwise asked
 * itself, from 1 up to the role's maximum (a shorter session only ever
 * takes rights away, so there is no lower bound but 1).  -EDOM above
 * the maximum.
 */
#define IAM_ROLE_DEFAULT_SECONDS	3600
int iam_role_duration(const struct iam_role_rec *role, uint32_t asked,
		      uint32_t *ret_seconds);

/* Why sts:AssumeRole was refused. */
enum iam_assume_verdict {
	IAM_ASSUME_ALLOW = 0,
	IAM_ASSUME_OWN_DENY,		/* the caller's policies deny it explicitly */
	IAM_ASSUME_OWN_NO_ALLOW,	/* the caller's policies do not allow it */
	IAM_ASSUME_TRUST_DENY,		/* the trust policy denies it explicitly */
	IAM_ASSUME_TRUST_NO_ALLOW,	/* the trust policy does not name the
					   caller (or its conditions fail) */
};

/* A sentence for a person: "the trust policy of the role does not ...". */
const char *iam_assume_verdict_text(enum iam_assume_verdict v);

/*
 * Decide sts:AssumeRole on the role's ARN for user u: its own policies
 * (principal) must allow it and the role's trust policy must allow it,
 * both with the same request (iam_request_for_user() with facts: a
 * caller that just gave a code passes mfa_time = now).  own and trust
 * receive both decisions for the trail (trust is left untouched when the
 * own policies already refused; their policy names are borrowed from
 * principal and role, which must outlive them).  Returns 0 and
 * *ret_verdict; a negative
 * errno when it could not be decided (the caller refuses).
 */
int iam_role_check_assume(const struct iam_config *cfg,
			  const struct iam_auth_user *u,
			  const struct iam_principal *principal,
			  const struct iam_role_rec *role,
			  const struct iam_session_facts *facts,
			  struct iam_result *own, struct iam_result *trust,
			  enum iam_assume_verdict *ret_verdict);

/*
 * The request of user u acting in a session of role: every context key
 * of iam_request_for_user() with these changes: aws:PrincipalArn is the
 * role's ARN, aws:PrincipalType is AssumedRole, aws:PrincipalTag/KEY are
 * the role's tags, iam:PrincipalGroups is absent; aws:username and
 * aws:userid still name the person, and iam:RoleSessionId (when id is
 * not NULL) the session.  You own *ret_req; iam_request_free().
 */
int iam_request_for_role(const struct iam_config *cfg,
			 const struct iam_auth_user *u,
			 const struct iam_role_rec *role, const char *id,
			 const struct iam_session_facts *facts,
			 const char *action, const char *resource,
			 struct iam_request **ret_req);

/*
 * Check one TOTP code of u through the lockout routine of pam_iam
 * (iam_lockout_begin/settle): refused unchecked while locked (-EBUSY) or,
 * with lockout off, within IAM_LOCKOUT_DELAY seconds of the last failure
 * (-EAGAIN); the failure counter is raised and saved before the code is
 * checked and reset on success; a step at or before the last accepted one
 * is a replay (-EALREADY); the accepted step is saved.  -ENOKEY no device
 * enrolled, -EACCES wrong code, other negative errnos for an unusable
 * state_dir.  *ret_locked (may be NULL) is set true when this failure
 * started a lockout.
 */
int iam_role_mfa_check(const struct iam_config *cfg,
		       const struct iam_auth_user *u, const char *code,
		       int64_t now, int strict_flags, bool *ret_locked);

#endif
