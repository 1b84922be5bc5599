/*
 * decide.c - a principal's compiled policies, the request context
 * shared by every part that asks the policy engine, and the one
 * decision path (as a user, or in a role session).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iam.h"
#include "util_int.h"

int
iam_arn_user(const char *account, const char *name, char *buf, size_t len)
{
	return iam_snprintf(buf, len, "arn:iam:iam::%s:user/%s", account, name);
}

int
iam_arn_role(const char *account, const char *name, char *buf, size_t len)
{
	return iam_snprintf(buf, len, "arn:iam:iam::%s:role/%s", account, name);
}

int
iam_arn_host(const char *account, const char *host, char *buf, size_t len)
{
	return iam_snprintf(buf, len, "arn:iam:host::%s:host/%s", account, host);
}

int
iam_arn_sudo(const char *account, const char *host, const char *path,
	     char *buf, size_t len)
{
	if (path == NULL || path[0] != '/')
		return -EINVAL;
	return iam_snprintf(buf, len, "arn:iam:sudo::%s:host/%s/command/%s",
			    account, host, path + 1);
}

int
iam_arn_sudo_env(const char *account, const char *host, const char *name,
		 char *buf, size_t len)
{
	if (name == NULL || name[0] == '\0')
		return -EINVAL;
	return iam_snprintf(buf, len, "arn:iam:sudo::%s:host/%s/env/%s",
			    account, host, name);
}

int
iam_arn_sudo_file(const char *account, const char *host, const char *path,
		  char *buf, size_t len)
{
	if (path == NULL || path[0] != '/' || path[1] == '\0')
		return -EINVAL;
	return iam_snprintf(buf, len, "arn:iam:sudo::%s:host/%s/file/%s",
			    account, host, path + 1);
}

bool
iam_is_ip_address(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (s == NULL || *s == '\0')
		return false;
	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

struct iam_principal *
iam_principal_free(struct iam_principal *p)
{
	if (p == NULL)
		return NULL;
	iam_policy_set_free(p->set);
	for (size_t i = 0; i < p->n_policies; i++)
		iam_policy_free(p->policies[i]);
	free(p->policies);
	iam_policy_free(p->boundary);
	free(p);
	return NULL;
}

static int
compile(const struct iam_auth_policy *ap, struct iam_policy **ret)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	int r;

	r = iam_policy_compile_text(ap->json, ap->json_len, ap->name, false,
				    ap->name, ret, &faults);
	iam_faults_release(&faults);
	if (r == -ENOMEM)
		return r;
	return r < 0 ? -EBADMSG : 0;
}

int
iam_principal_new(const struct iam_auth_user *u, struct iam_principal **ret)
{
	struct iam_principal *p = calloc(1, sizeof(*p));
	int r = -ENOMEM;

	if (p == NULL)
		return -ENOMEM;
	p->policies = calloc(u->n_policies ? u->n_policies : 1,
			     sizeof(*p->policies));
	if (p->policies == NULL)
		goto fail;
	for (size_t i = 0; i < u->n_policies; i++) {
		const struct iam_auth_policy *ap = &u->policies[i];

		if (ap->kind == IAM_AUTH_POLICY_BOUNDARY) {
			if (p->boundary != NULL) {
				r = -EBADMSG;
				goto fail;
			}
			r = compile(ap, &p->boundary);
		} else {
			r = compile(ap, &p->policies[p->n_policies]);
			if (r == 0)
				p->n_policies++;
		}
		if (r < 0)
			goto fail;
	}
	r = iam_policy_set_new((const struct iam_policy *const *)p->policies,
			       p->n_policies, p->boundary, &p->set);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	iam_principal_free(p);
	return r;
}

int
iam_request_add_nonempty(struct iam_request *req, const char *key,
			 const char *value)
{
	if (value == NULL || *value == '\0')
		return 0;
	return iam_request_add(req, key, value);
}

static int
add_principal(struct iam_request *req, const struct iam_auth_user *u)
{
	char buf[512];
	int r;

	r = iam_request_add_nonempty(req, "aws:username", u->name);
	if (r == 0)
		r = iam_snprintf(buf, sizeof(buf), "%" PRIu32, u->uid);
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:userid", buf);
	if (r == 0)
		r = iam_arn_user(u->account_id, u->name, buf, sizeof(buf));
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:PrincipalArn", buf);
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:PrincipalType", "User");
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:PrincipalAccount", u->account_id);
	for (size_t i = 0; r == 0 && i < u->n_tags; i++) {
		r = iam_snprintf(buf, sizeof(buf), "aws:PrincipalTag/%s",
				 u->tags[i].key);
		if (r == 0)
			r = iam_request_add_nonempty(req, buf, u->tags[i].value);
	}
	for (size_t i = 0; r == 0 && i < u->n_groups; i++)
		r = iam_request_add_nonempty(req, "iam:PrincipalGroups", u->groups[i]);
	return r;
}

static int
add_session(struct iam_request *req, const struct iam_session_facts *f,
	    int64_t now)
{
	char buf[64];
	int64_t age = now - f->mfa_time;
	bool mfa = f->mfa_time > 0 && age >= 0;
	int r;

	/* A negative age (the clock went back) counts as no MFA at all. */
	r = iam_request_add_nonempty(req, "aws:MultiFactorAuthPresent", mfa ? "true" : "false");
	if (r == 0 && mfa) {
		r = iam_snprintf(buf, sizeof(buf), "%" PRId64, age);
		if (r == 0)
			r = iam_request_add_nonempty(req, "aws:MultiFactorAuthAge", buf);
	}
	if (r == 0 && iam_is_ip_address(f->source_ip))
		r = iam_request_add_nonempty(req, "aws:SourceIp", f->source_ip);
	if (r == 0)
		r = iam_format_time(now, buf, sizeof(buf));
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:CurrentTime", buf);
	if (r == 0)
		r = iam_snprintf(buf, sizeof(buf), "%" PRId64, now);
	if (r == 0)
		r = iam_request_add_nonempty(req, "aws:EpochTime", buf);
	if (r == 0)
		r = iam_request_add_nonempty(req, "iam:Service", f->service);
	if (r == 0)
		r = iam_request_add_nonempty(req, "iam:Tty", f->tty);
	return r;
}

static int
add_host(struct iam_request *req, const struct iam_config *cfg)
{
	char buf[512];
	int r;

	r = iam_config_hostname(cfg, buf, sizeof(buf));
	if (r == 0)
		r = iam_request_add_nonempty(req, "iam:Hostname", buf);
	for (size_t i = 0; r == 0 && i < cfg->n_host_tags; i++) {
		r = iam_snprintf(buf, sizeof(buf), "aws:ResourceTag/%s",
				 cfg->host_tags[i].key);
		if (r == 0)
			r = iam_request_add_nonempty(req, buf, cfg->host_tags[i].value);
	}
	return r;
}

int
iam_request_add_context(struct iam_request *req, const struct iam_config *cfg,
			const struct iam_session_facts *facts)
{
	static const struct iam_session_facts none;
	int64_t now;
	int r;

	if (facts == NULL)
		facts = &none;
	now = facts->now ? facts->now : (int64_t)time(NULL);
	r = add_session(req, facts, now);
	return r ? r : add_host(req, cfg);
}

/* The request of one principal, with the action's own keys. */
static int
build_request(const struct iam_config *cfg, const struct iam_auth_user *u,
	      const struct iam_as_role *as,
	      const struct iam_session_facts *facts,
	      const struct iam_ask *ask, struct iam_request **ret)
{
	struct iam_request *req = NULL;
	int r;

	if (as != NULL)
		r = iam_request_for_role(cfg, u, as->role, as->session_id,
					 facts, ask->action, ask->resource,
					 &req);
	else
		r = iam_request_for_user(cfg, u, facts, ask->action,
					 ask->resource, &req);
	if (r == 0 && ask->add_keys != NULL)
		r = ask->add_keys(req, ask->arg);
	if (r < 0)
		req = iam_request_free(req);
	*ret = req;
	return r;
}

/* Evaluate one principal; the request is kept in *ret_req. */
static int
evaluate_as(const struct iam_config *cfg, const struct iam_auth_user *u,
	    const struct iam_policy_set *set, const struct iam_as_role *as,
	    const struct iam_session_facts *facts, const struct iam_ask *ask,
	    struct iam_result *res, struct iam_request **ret_req)
{
	int r;

	r = build_request(cfg, u, as, facts, ask, ret_req);
	if (r == 0)
		r = iam_policy_evaluate(set, *ret_req, res);
	return r;
}

int
iam_request_for_user(const struct iam_config *cfg,
		     const struct iam_auth_user *u,
		     const struct iam_session_facts *facts,
		     const char *action, const char *resource,
		     struct iam_request **ret_req)
{
	struct iam_request *req = NULL;
	int r;

	r = iam_request_new(action, resource, &req);
	if (r < 0)
		return r;
	r = add_principal(req, u);
	if (r == 0)
		r = iam_request_add_context(req, cfg, facts);
	if (r < 0) {
		iam_request_free(req);
		return r;
	}
	*ret_req = req;
	return 0;
}

int
iam_decide(const struct iam_config *cfg, const struct iam_auth_user *u,
	   const struct iam_principal *pr, const struct iam_as_role *as,
	   const struct iam_session_facts *facts, const struct iam_ask *ask,
	   struct iam_result *res, struct iam_request **ret_req)
{
	static const struct iam_session_facts none;
	struct iam_session_facts f;
	struct iam_request *req = NULL, *own_req = NULL;
	struct iam_result *own = NULL;
	int r;

	if (cfg == NULL || u == NULL || pr == NULL || ask == NULL ||
	    res == NULL || (as != NULL && as->role == NULL))
		return -EINVAL;
	f = facts != NULL ? *facts : none;
	if (f.now == 0)
		f.now = (int64_t)time(NULL);
	if (as == NULL) {
		r = evaluate_as(cfg, u, pr->set, NULL, &f, ask, res, &req);
		goto out;
	}
	/* The code given to assume the role is MFA in this session. */
	if (as->started > f.mfa_time)
		f.mfa_time = as->started;
	r = evaluate_as(cfg, u, as->role->set, as, &f, ask, res, &req);
	if (r < 0 || res->decision == IAM_EXPLICIT_DENY)
		goto out;
	/* The user's own explicit Deny still wins over the role. */
	own = malloc(sizeof(*own));
	if (own == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = evaluate_as(cfg, u, pr->set, NULL, &f, ask, own, &own_req);
	if (r == 0 && own->decision == IAM_EXPLICIT_DENY) {
		memcpy(res, own, sizeof(*res));
		iam_request_free(req);
		req = own_req;
		own_req = NULL;
	}
out:
	free(own);
	iam_request_free(own_req);
	if (r == 0 && ret_req != NULL)
		*ret_req = req;
	else
		iam_request_free(req);
	return r;
}
