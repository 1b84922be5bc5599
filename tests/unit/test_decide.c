/*
 * test_decide.c - the request context every part sends to the policy
 * engine, and a snapshot user's policies compiled into one set.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "iam.h"

static struct iam_tag host_tags[] = { { "Environment", "Development" } };
static const char *groups[] = { "developers", "admins" };
static struct iam_auth_tag tags[] = { { "Team", "payments" } };

static struct iam_config *
config(void)
{
	struct iam_config *cfg;

	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->hostname);
	cfg->hostname = strdup("web1");
	cfg->host_tags = host_tags;
	cfg->n_host_tags = 1;
	return cfg;
}

static void
release(struct iam_config *cfg)
{
	cfg->host_tags = NULL;
	cfg->n_host_tags = 0;
	iam_config_free(cfg);
}

static struct iam_auth_user
alice(void)
{
	return (struct iam_auth_user){
		.name = "alice", .uid = 70001, .account_id = "123456789012",
		.groups = groups, .n_groups = 2, .tags = tags, .n_tags = 1,
	};
}

static const char *
one(const struct iam_request *req, const char *key)
{
	const char *const *v;
	size_t n = iam_request_get(req, key, &v);

	return n == 1 ? v[0] : NULL;
}

Test(decide, request_carries_every_context_key)
{
	struct iam_config *cfg = config();
	struct iam_auth_user u = alice();
	struct iam_session_facts f = { .service = "sshd", .tty = "ssh",
				       .source_ip = "10.1.2.3",
				       .mfa_time = 1000, .now = 1600 };
	struct iam_request *req;
	const char *const *v;

	cr_assert_eq(iam_request_for_user(cfg, &u, &f, "host:Login",
					  "arn:iam:host::123456789012:host/web1",
					  &req), 0);
	cr_expect_str_eq(one(req, "aws:username"), "alice");
	cr_expect_str_eq(one(req, "aws:userid"), "70001");
	cr_expect_str_eq(one(req, "aws:PrincipalArn"),
			 "arn:iam:iam::123456789012:user/alice");
	cr_expect_str_eq(one(req, "aws:PrincipalType"), "User");
	cr_expect_str_eq(one(req, "aws:PrincipalAccount"), "123456789012");
	cr_expect_str_eq(one(req, "aws:PrincipalTag/Team"), "payments");
	cr_expect_eq(iam_request_get(req, "iam:PrincipalGroups", &v), 2);
	cr_expect_str_eq(one(req, "aws:MultiFactorAuthPresent"), "true");
	cr_expect_str_eq(one(req, "aws:MultiFactorAuthAge"), "600");
	cr_expect_str_eq(one(req, "aws:SourceIp"), "10.1.2.3");
	cr_expect_str_eq(one(req, "aws:EpochTime"), "1600");
	cr_expect_str_eq(one(req, "aws:CurrentTime"), "1970-01-01T00:26:40Z");
	cr_expect_str_eq(one(req, "aws:ResourceTag/Environment"), "Development");
	cr_expect_str_eq(one(req, "iam:Hostname"), "web1");
	cr_expect_str_eq(one(req, "iam:Service"), "sshd");
	cr_expect_str_eq(one(req, "iam:Tty"), "ssh");
	/* context keys are case-insensitive */
	cr_expect_str_eq(one(req, "AWS:USERNAME"), "alice");
	iam_request_free(req);
	release(cfg);
}

Test(decide, absent_facts_leave_keys_out_but_mfa_present_false)
{
	struct iam_config *cfg = config();
	struct iam_auth_user u = alice();
	struct iam_session_facts f = { .source_ip = "host.example.com",
				       .tty = "", .now = 5000 };
	struct iam_request *req;
	const char *const *v;

	u.n_groups = 0;
	cr_assert_eq(iam_request_for_user(cfg, &u, &f, "host:Login", "*", &req), 0);
	cr_expect_str_eq(one(req, "aws:MultiFactorAuthPresent"), "false");
	cr_expect_eq(iam_request_get(req, "aws:MultiFactorAuthAge", &v), 0);
	cr_expect_eq(iam_request_get(req, "aws:SourceIp", &v), 0,
		     "a host name is not a source address");
	cr_expect_eq(iam_request_get(req, "iam:PrincipalGroups", &v), 0);
	cr_expect_eq(iam_request_get(req, "iam:Tty", &v), 0, "empty value sent");
	cr_expect_eq(iam_request_get(req, "iam:Service", &v), 0);
	iam_request_free(req);
	release(cfg);
}

Test(decide, negative_mfa_age_counts_as_absent)
{
	struct iam_config *cfg = config();
	struct iam_auth_user u = alice();
	struct iam_session_facts f = { .mfa_time = 2000, .now = 1000 };
	struct iam_request *req;
	const char *const *v;

	cr_assert_eq(iam_request_for_user(cfg, &u, &f, "sudo:Run", "*", &req), 0);
	cr_expect_str_eq(one(req, "aws:MultiFactorAuthPresent"), "false");
	cr_expect_eq(iam_request_get(req, "aws:MultiFactorAuthAge", &v), 0);
	iam_request_free(req);
	release(cfg);
}

Test(decide, arns_follow_the_design_table)
{
	char buf[128];

	cr_assert_eq(iam_arn_sudo("123456789012", "web1", "/usr/bin/systemctl",
				  buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "arn:iam:sudo::123456789012:host/web1/command/usr/bin/systemctl");
	cr_expect_eq(iam_arn_sudo("1", "h", "relative", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(iam_arn_host("123456789012", "web1", buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "arn:iam:host::123456789012:host/web1");
	cr_assert_eq(iam_arn_role("123456789012", "deployer", buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "arn:iam:iam::123456789012:role/deployer");
	cr_expect_eq(iam_arn_user("123456789012", "alice", buf, 10), -ENAMETOOLONG);
}

static struct iam_auth_policy
doc(enum iam_auth_policy_kind kind, const char *name, const char *json)
{
	return (struct iam_auth_policy){ .kind = kind, .name = name,
					 .json = json, .json_len = strlen(json) };
}

static enum iam_decision
decide(struct iam_auth_policy *pol, size_t n, const char *action)
{
	struct iam_config *cfg = config();
	struct iam_auth_user u = alice();
	struct iam_principal *p;
	struct iam_request *req;
	static struct iam_result res;

	u.policies = pol;
	u.n_policies = n;
	cr_assert_eq(iam_principal_new(&u, &p), 0);
	cr_assert_eq(iam_request_for_user(cfg, &u, NULL, action,
					  "arn:iam:host::123456789012:host/web1",
					  &req), 0);
	cr_assert_eq(iam_policy_evaluate(p->set, req, &res), 0);
	iam_request_free(req);
	iam_principal_free(p);
	release(cfg);
	return res.decision;
}

#define ALLOW_ALL "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"
#define DENY_LOGIN "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"host:Login\",\"Resource\":\"*\"}]}"
#define HOST_ONLY "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"host:*\",\"Resource\":\"*\"}]}"
#define GROUP_COND "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"host:Login\",\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":{\"iam:PrincipalGroups\":\"admins\"}}}]}"

Test(decide, principal_joins_managed_inline_group_and_boundary)
{
	struct iam_auth_policy allow[] = {
		doc(IAM_AUTH_POLICY_GROUP, "Admin", ALLOW_ALL) };
	struct iam_auth_policy denied[] = {
		doc(IAM_AUTH_POLICY_GROUP, "Admin", ALLOW_ALL),
		doc(IAM_AUTH_POLICY_INLINE, "NoLogin", DENY_LOGIN) };
	struct iam_auth_policy bounded[] = {
		doc(IAM_AUTH_POLICY_MANAGED, "Admin", ALLOW_ALL),
		doc(IAM_AUTH_POLICY_BOUNDARY, "HostOnly", HOST_ONLY) };
	struct iam_auth_policy groups_cond[] = {
		doc(IAM_AUTH_POLICY_MANAGED, "AdminsLogin", GROUP_COND) };

	cr_expect_eq(decide(NULL, 0, "host:Login"), IAM_IMPLICIT_DENY);
	cr_expect_eq(decide(allow, 1, "host:Login"), IAM_ALLOW);
	cr_expect_eq(decide(denied, 2, "host:Login"), IAM_EXPLICIT_DENY);
	cr_expect_eq(decide(bounded, 2, "host:Login"), IAM_ALLOW);
	cr_expect_eq(decide(bounded, 2, "sudo:Run"), IAM_IMPLICIT_DENY,
		     "the boundary must allow too");
	cr_expect_eq(decide(groups_cond, 1, "host:Login"), IAM_ALLOW);
}

Test(decide, damaged_policy_text_is_refused)
{
	struct iam_auth_user u = alice();
	struct iam_auth_policy bad[] = {
		doc(IAM_AUTH_POLICY_MANAGED, "Bad", "{\"Version\":\"2012-10-17\"") };
	struct iam_principal *p = NULL;

	u.policies = bad;
	u.n_policies = 1;
	cr_expect_eq(iam_principal_new(&u, &p), -EBADMSG);
	cr_expect_null(p);
}
