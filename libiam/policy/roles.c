/*
 * roles.c - deciding about roles (iam/roles.h): the duration of a new
 * session, the checks of sts:AssumeRole (the user's one decision, then
 * the role's trust policy on the same request), the request context of
 * a role session and the MFA check of assume-role under the lockout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "iam.h"
#include "iam/roles.h"
#include "util_int.h"

/* ---- Deciding --------------------------------------------------------- */

int
iam_role_duration(const struct iam_role_rec *role, uint32_t asked,
		  uint32_t *ret_seconds)
{
	uint32_t max;

	if (role == NULL || role->max_session_seconds == 0)
		return -EINVAL;
	max = role->max_session_seconds;
	if (asked == 0) {
		*ret_seconds = max < IAM_ROLE_DEFAULT_SECONDS ? max :
			IAM_ROLE_DEFAULT_SECONDS;
		return 0;
	}
	if (asked > max)
		return -EDOM;
	*ret_seconds = asked;
	return 0;
}

const char *
iam_assume_verdict_text(enum iam_assume_verdict v)
{
	switch (v) {
	case IAM_ASSUME_ALLOW:
		return "allowed";
	case IAM_ASSUME_OWN_DENY:
		return "your policies explicitly deny sts:AssumeRole on this role";
	case IAM_ASSUME_OWN_NO_ALLOW:
		return "your policies do not allow sts:AssumeRole on this role";
	case IAM_ASSUME_TRUST_DENY:
		return "the role's trust policy explicitly denies you";
	case IAM_ASSUME_TRUST_NO_ALLOW:
		return "the role's trust policy does not allow you";
	}
	return "refused";
}

int
iam_role_check_assume(const struct iam_config *cfg,
		      const struct iam_auth_user *u,
		      const struct iam_principal *principal,
		      const struct iam_role_rec *role,
		      const struct iam_session_facts *facts,
		      struct iam_result *own, struct iam_result *trust,
		      enum iam_assume_verdict *ret_verdict)
{
	struct iam_request *req = NULL;
	enum iam_assume_verdict v;
	char arn[512];
	int r;

	if (cfg == NULL || u == NULL || principal == NULL || role == NULL ||
	    own == NULL || trust == NULL || ret_verdict == NULL)
		return -EINVAL;
	r = iam_arn_role(role->account_id, role->name, arn, sizeof(arn));
	/* The user's side is the host's one decision; the trust policy is
	   then asked with the very request it was made on. */
	r = r ? r : iam_decide(cfg, u, principal, NULL, facts,
			       &(struct iam_ask){ .action = "sts:AssumeRole",
						  .resource = arn }, own, &req);
	if (r < 0)
		goto out;
	if (own->decision == IAM_EXPLICIT_DENY) {
		v = IAM_ASSUME_OWN_DENY;
	} else if (own->decision != IAM_ALLOW) {
		v = IAM_ASSUME_OWN_NO_ALLOW;
	} else {
		r = iam_policy_evaluate(role->trust_set, req, trust);
		if (r < 0)
			goto out;
		v = trust->decision == IAM_ALLOW ? IAM_ASSUME_ALLOW :
			trust->decision == IAM_EXPLICIT_DENY ?
			IAM_ASSUME_TRUST_DENY : IAM_ASSUME_TRUST_NO_ALLOW;
	}
	*ret_verdict = v;
out:
	iam_request_free(req);
	return r;
}

static int
add_role_principal(struct iam_request *req, const struct iam_auth_user *u,
		   const struct iam_role_rec *role, const char *id)
{
	char buf[512];
	int r;

	r = iam_request_add_nonempty(req, "aws:username", u->name);
	r = r ? r : iam_snprintf(buf, sizeof(buf), "%" PRIu32, u->uid);
	r = r ? r : iam_request_add_nonempty(req, "aws:userid", buf);
	r = r ? r : iam_arn_role(role->account_id, role->name, buf,
				 sizeof(buf));
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalArn", buf);
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalType", "AssumedRole");
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalAccount", role->account_id);
	r = r ? r : iam_request_add_nonempty(req, "iam:RoleSessionId", id);
	for (size_t i = 0; r == 0 && i < role->n_tags; i++) {
		r = iam_snprintf(buf, sizeof(buf), "aws:PrincipalTag/%s",
				 role->tags[i].key);
		r = r ? r : iam_request_add_nonempty(req, buf, role->tags[i].value);
	}
	return r;
}

int
iam_request_for_role(const struct iam_config *cfg,
		     const struct iam_auth_user *u,
		     const struct iam_role_rec *role, const char *id,
		     const struct iam_session_facts *facts,
		     const char *action, const char *resource,
		     struct iam_request **ret_req)
{
	struct iam_request *req = NULL;
	int r;

	if (cfg == NULL || u == NULL || role == NULL || ret_req == NULL)
		return -EINVAL;
	r = iam_request_new(action, resource, &req);
	if (r < 0)
		return r;
	r = add_role_principal(req, u, role, id);
	r = r ? r : iam_request_add_context(req, cfg, facts);
	if (r < 0) {
		iam_request_free(req);
		return r;
	}
	*ret_req = req;
	return 0;
}

int
iam_role_mfa_check(const struct iam_config *cfg,
		   const struct iam_auth_user *u, const char *code,
		   int64_t now, int strict_flags, bool *ret_locked)
{
	struct iam_lockout_try lt;
	struct iam_mfa_match m;
	struct iam_auth_user devices_only;
	int r, v;

	if (cfg == NULL || u == NULL || code == NULL)
		return -EINVAL;
	if (u->n_mfa_devices == 0 && u->mfa_secret == NULL)
		return -ENOKEY;
	r = iam_lockout_begin(cfg->state_dir, u->uid, strict_flags,
			      &u->password_policy.lockout, now, &lt);
	if (r < 0)
		return r;
	/* A code of any device; recovery codes are for logging in only. */
	devices_only = *u;
	devices_only.n_recovery_codes = 0;
	v = iam_mfa_verify(&devices_only, code, now, cfg->totp_window,
			   &lt.counted, &m);
	r = iam_lockout_settle_mfa(&lt, v == 0 ? IAM_LOCKOUT_OK :
				   IAM_LOCKOUT_FAILED, &m, ret_locked);
	if (r == 0 && v < 0)
		r = v == -EALREADY ? v : -EACCES;
	return r;
}
