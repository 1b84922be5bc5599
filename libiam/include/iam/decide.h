/*
 * iam/decide.h - one decision for one principal: the policies that apply
 * to a user of the private snapshot, compiled into a set, and the request
 * context every part supplies (DESIGN: "What the host asks").
 *
 * pam_iam's account and password phases, sudo_iam and iamctl build their
 * requests here, so a context key means the same everywhere.
 */
#ifndef IAM_DECIDE_H
#define IAM_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/auth.h"
#include "iam/config.h"
#include "iam/policy.h"

/* Facts about the login session that asks; any field may be NULL / 0. */
struct iam_session_facts {
	const char *service;	/* iam:Service (PAM service) */
	const char *tty;	/* iam:Tty */
	const char *source_ip;	/* aws:SourceIp, used only if it parses as
				   an IPv4 or IPv6 address */
	int64_t mfa_time;	/* last TOTP check of this session; 0 none */
	int64_t now;		/* epoch seconds; 0: time(NULL) */
};

/* The compiled policies of one user (and, in a role session, the role). */
struct iam_principal {
	struct iam_policy **policies;	/* identity policies, owned */
	size_t n_policies;
	struct iam_policy *boundary;	/* permissions boundary or NULL */
	struct iam_policy_set *set;	/* over the above */
};

/*
 * Compile the policies of a snapshot record: managed, inline, group
 * policies and the boundary.  A document that does not compile (it passed
 * validation when published, so the snapshot is damaged) is -EBADMSG.
 * You own *ret; release it with iam_principal_free().
 */
int iam_principal_new(const struct iam_auth_user *u,
		      struct iam_principal **ret);
struct iam_principal *iam_principal_free(struct iam_principal *p);

/* Resource ARNs of DESIGN's table; -ENAMETOOLONG when buf is too small. */
int iam_arn_user(const char *account, const char *name, char *buf, size_t len);
int iam_arn_role(const char *account, const char *name, char *buf, size_t len);
int iam_arn_host(const char *account, const char *host, char *buf, size_t len);
/* path is the canonical command path, with its leading '/'. */
int iam_arn_sudo(const char *account, const char *host, const char *path,
		 char *buf, size_t len);
/* name is a variable's name (sudo:SetEnv); -EINVAL when empty. */
int iam_arn_sudo_env(const char *account, const char *host, const char *name,
		     char *buf, size_t len);
/* path is a file's canonical path, with its leading '/' (sudo:Edit). */
int iam_arn_sudo_file(const char *account, const char *host, const char *path,
		      char *buf, size_t len);

/*
 * A request for action on resource carrying every context key DESIGN lists
 * for user u: aws:username, aws:userid, aws:PrincipalArn,
 * aws:PrincipalType (User), aws:PrincipalAccount, aws:PrincipalTag/KEY,
 * iam:PrincipalGroups (absent when none), aws:MultiFactorAuthPresent
 * (always), aws:MultiFactorAuthAge (only with MFA and a non-negative age),
 * aws:SourceIp, aws:CurrentTime, aws:EpochTime, aws:ResourceTag/KEY (host
 * tags), iam:Hostname, iam:Service, iam:Tty.  Empty values are left out.
 * The caller adds action-specific keys (iam:Command...) with
 * iam_request_add().  You own *ret_req; release it with iam_request_free().
 */
int iam_request_for_user(const struct iam_config *cfg,
			 const struct iam_auth_user *u,
			 const struct iam_session_facts *facts,
			 const char *action, const char *resource,
			 struct iam_request **ret_req);

/*
 * Add the keys of the session and the host to req: aws:MultiFactorAuth*,
 * aws:SourceIp, aws:CurrentTime, aws:EpochTime, iam:Service, iam:Tty,
 * iam:Hostname, aws:ResourceTag/KEY.  iam_request_for_user() and the role
 * session's request (iam/roles.h) both end with it, so the keys mean the
 * same for a user and a role.  facts may be NULL.  -ENOMEM, -E2BIG.
 */
int iam_request_add_context(struct iam_request *req,
			    const struct iam_config *cfg,
			    const struct iam_session_facts *facts);

/* ---- One decision --------------------------------------------------- */

struct iam_role_rec;	/* iam/rolesdb.h */

/* The role session a decision is made in. */
struct iam_as_role {
	const struct iam_role_rec *role;	/* its policies decide */
	const char *session_id;		/* iam:RoleSessionId, or NULL */
	int64_t started;		/* wall-clock start, epoch seconds: the
					   code given to assume the role is MFA
					   of that moment; 0 none */
};

/* What is asked, and the keys only this action has (iam:Command...). */
struct iam_ask {
	const char *action;
	const char *resource;
	/* Called on every request built for the decision; may be NULL. */
	int (*add_keys)(struct iam_request *req, void *arg);
	void *arg;
};

/*
 * The one decision path of the host (pam_iam, sudo_iam, iamctl
 * simulate): ask->action on ask->resource for user u of the private
 * snapshot, whose compiled policies pr come from iam_principal_new(u).
 *
 * As the user (as == NULL): pr's set with iam_request_for_user().
 * In a role session (as != NULL): the role's policies with
 * iam_request_for_role(), where assuming the role counts as MFA from
 * as->started (when later than facts->mfa_time); and unless the role
 * already denies explicitly, u's own policies are asked too with
 * iam_request_for_user() under the same facts: their explicit Deny wins,
 * nothing else of them counts.
 *
 * Fills *res (the deciding result: the user's when their Deny won).
 * When ret_req is not NULL it receives the request of that result (you
 * own it; iam_request_free()).  A negative errno means no decision: the
 * caller refuses.
 */
int iam_decide(const struct iam_config *cfg, const struct iam_auth_user *u,
	       const struct iam_principal *pr, const struct iam_as_role *as,
	       const struct iam_session_facts *facts,
	       const struct iam_ask *ask, struct iam_result *res,
	       struct iam_request **ret_req);

/* True when s is a literal IPv4 or IPv6 address (no names, no ports). */
bool iam_is_ip_address(const char *s);

#endif
