/*
 * test_decide.c - the request context every part sends to the policy
 * engine, a snapshot user's policies compiled into one set, and the one
 * decision path iam_decide(): for a table of users, groups (primary
 * included), boundaries, role sessions and facts, `iamctl simulate`
 * answers what iam_decide() answers on the published snapshot (the call
 * sudo_iam makes) and what pam_iam's account phase decides.
 */
#include <errno.h>
#include <string.h>

#include "pam_phase_fixture.h"
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

/* ---- simulate = enforcement --------------------------------------------- */

#define SUDO "arn:iam:sudo::123456789012:host/web1/command"
#define HOST "arn:iam:host::123456789012:host/web1"

static const char table_identity[] =
"{ \"account\": { \"id\": \"123456789012\" },\n"
"  \"groups\": [ { \"name\": \"ops\", \"gid\": 70120,\n"
"                 \"policies\": [\"NoId\", \"NoCron\"] },\n"
"               { \"name\": \"iamstaff\", \"gid\": 70121 },\n"
"               { \"name\": \"admins\", \"gid\": 70122,\n"
"                 \"policies\": [\"SudoAll\"] } ],\n"
"  \"users\": [\n"
"   { \"name\": \"dave\", \"uid\": 70021, \"primary_group\": \"ops\",\n"
"     \"policies\": [\"OpsSudo\", \"LoginAll\"] },\n"
"   { \"name\": \"erin\", \"uid\": 70022, \"primary_group\": \"iamstaff\",\n"
"     \"groups\": [\"admins\"], \"policies\": [\"Facts\"],\n"
"     \"permissions_boundary\": \"HostOnly\" },\n"
"   { \"name\": \"frank\", \"uid\": 70023, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"TeamHost\"] } ],\n"
"  \"roles\": [ { \"name\": \"deployer\", \"max_session_seconds\": 3600,\n"
"     \"tags\": { \"Duty\": \"deploy\" },\n"
"     \"trust_policy\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"       \"Effect\": \"Allow\", \"Action\": \"sts:AssumeRole\",\n"
"       \"Principal\": { \"AWS\": \"arn:iam:iam::123456789012:user/dave\" } } ] },\n"
"     \"policies\": [\"DeployRun\"] } ],\n"
"  \"policies\": {\n"
"   \"LoginAll\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\" } ] },\n"
"   \"OpsSudo\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"     { \"Effect\": \"Allow\", \"Action\": \"sudo:Run\", \"Resource\": \"" SUDO "/usr/bin/*\" },\n"
"     { \"Sid\": \"NoCat\", \"Effect\": \"Deny\", \"Action\": \"sudo:Run\",\n"
"       \"Resource\": \"" SUDO "/usr/bin/cat\" } ] },\n"
"   \"NoId\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Sid\": \"NoId\", \"Effect\": \"Deny\", \"Action\": \"sudo:Run\",\n"
"     \"Resource\": \"" SUDO "/usr/bin/id\" } ] },\n"
"   \"NoCron\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Sid\": \"NoCron\", \"Effect\": \"Deny\", \"Action\": \"host:Login\",\n"
"     \"Resource\": \"*\",\n"
"     \"Condition\": { \"StringEquals\": { \"iam:Service\": \"cron\" } } } ] },\n"
"   \"SudoAll\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"sudo:Run\", \"Resource\": \"*\" } ] },\n"
"   \"HostOnly\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:*\", \"Resource\": \"*\" } ] },\n"
"   \"Facts\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\",\n"
"     \"Condition\": { \"IpAddress\": { \"aws:SourceIp\": \"192.0.2.0/24\" },\n"
"       \"StringLike\": { \"iam:Tty\": \"pts/*\" },\n"
"       \"NumericLessThanEquals\": { \"aws:MultiFactorAuthAge\": \"60\" } } } ] },\n"
"   \"TeamHost\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"     { \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\" },\n"
"     { \"Sid\": \"OnlyTeamHost\", \"Effect\": \"Deny\", \"Action\": \"*\",\n"
"       \"NotResource\": \"arn:iam:host::123456789012:host/${aws:PrincipalTag/team}\" } ] },\n"
"   \"DeployRun\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"     { \"Effect\": \"Allow\", \"Action\": \"sudo:Run\", \"Resource\": \"" SUDO "/usr/sbin/*\",\n"
"       \"Condition\": { \"NumericLessThan\": { \"aws:MultiFactorAuthAge\": \"900\" },\n"
"         \"StringEquals\": { \"aws:PrincipalTag/Duty\": \"deploy\" } } },\n"
"     { \"Effect\": \"Allow\", \"Action\": \"sudo:Run\", \"Resource\": \"" SUDO "/usr/bin/cat\" } ] }\n"
"  } }\n";

struct row {
	const char *user, *role;
	int mfa_age;			/* -1: no MFA */
	const char *ip, *service, *tty;
	const char *action, *resource;
	enum iam_decision want;
	bool pam;			/* also ask pam_iam's account phase */
};

static const struct row rows[] = {
	{ "dave", NULL, -1, NULL, "sudo", "pts/1", "sudo:Run", SUDO "/usr/bin/id",
	  IAM_EXPLICIT_DENY, false },	/* the primary group's Deny */
	{ "dave", NULL, -1, NULL, "sudo", "pts/1", "sudo:Run", SUDO "/usr/bin/true",
	  IAM_ALLOW, false },
	{ "dave", NULL, -1, NULL, "sudo", "pts/1", "sudo:Run", SUDO "/usr/bin/cat",
	  IAM_EXPLICIT_DENY, false },
	{ "dave", "deployer", -1, NULL, "sudo", "pts/1", "sudo:Run",
	  SUDO "/usr/sbin/iamctl", IAM_ALLOW, false },	/* assuming is MFA */
	{ "dave", "deployer", 1200, NULL, "sudo", "pts/1", "sudo:Run",
	  SUDO "/usr/sbin/iamctl", IAM_IMPLICIT_DENY, false },
	{ "dave", "deployer", -1, NULL, "sudo", "pts/1", "sudo:Run",
	  SUDO "/usr/bin/cat", IAM_EXPLICIT_DENY, false },	/* own Deny */
	{ "dave", "deployer", -1, NULL, "sudo", "pts/1", "sudo:Run",
	  SUDO "/usr/bin/id", IAM_EXPLICIT_DENY, false },	/* group Deny */
	{ "dave", "deployer", -1, NULL, "sudo", "pts/1", "sudo:Run",
	  SUDO "/usr/bin/true", IAM_IMPLICIT_DENY, false },	/* own Allow */
	{ "dave", NULL, -1, "10.0.0.1", "iamtest", "pts/3", "host:Login", HOST,
	  IAM_ALLOW, true },
	{ "dave", NULL, -1, "10.0.0.1", "cron", "pts/3", "host:Login", HOST,
	  IAM_EXPLICIT_DENY, true },
	{ "erin", NULL, 30, "192.0.2.7", "sshd", "pts/3", "host:Login", HOST,
	  IAM_ALLOW, false },
	{ "erin", NULL, 30, "198.51.100.1", "sshd", "pts/3", "host:Login", HOST,
	  IAM_IMPLICIT_DENY, false },
	{ "erin", NULL, 30, "192.0.2.7", "sshd", "tty1", "host:Login", HOST,
	  IAM_IMPLICIT_DENY, false },
	{ "erin", NULL, 90, "192.0.2.7", "sshd", "pts/3", "host:Login", HOST,
	  IAM_IMPLICIT_DENY, false },
	{ "erin", NULL, -1, "192.0.2.7", "iamtest", "pts/3", "host:Login", HOST,
	  IAM_IMPLICIT_DENY, true },
	{ "erin", NULL, -1, NULL, "sudo", "pts/1", "sudo:Run", SUDO "/usr/bin/true",
	  IAM_IMPLICIT_DENY, false },	/* the boundary allows host:* only */
	{ "frank", NULL, -1, NULL, "iamtest", "pts/3", "host:Login", HOST,
	  IAM_EXPLICIT_DENY, true },	/* no team tag: the Deny applies */
};

static void
setup_table(void)
{
	if (!t_private_root())
		return;
	f_nss_setup();
	f_reset("host_tags = { Environment = \"Development\"; };");
	f_services(NULL);
	f_publish_text(table_identity);
	setenv("LD_LIBRARY_PATH", BUILD_DIR, 1);
}

TestSuite(decide_table, .init = setup_table, .timeout = 120);

/* What iam_decide() answers on the published snapshot, as sudo_iam asks. */
static enum iam_decision
enforced(const struct iam_config *cfg, const struct row *w)
{
	char dir[256];
	int64_t now = (int64_t)time(NULL);
	struct iam_session_facts f = { .service = w->service, .tty = w->tty,
				       .source_ip = w->ip, .now = now };
	struct iam_ask ask = { .action = w->action, .resource = w->resource };
	struct iam_as_role as = { 0 };
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	struct iam_principal *pr = NULL;
	struct iam_role_rec *role = NULL;
	struct iam_result *res = malloc(sizeof(*res));
	enum iam_decision d;

	cr_assert_not_null(res);
	cr_assert_eq(iam_snapshot_path(cfg, "auth", dir, sizeof(dir)), 0);
	cr_assert_eq(iam_authdb_open(dir, &db, NULL, 0), 0);
	cr_assert_eq(iam_authdb_lookup(db, w->user, &u), 0);
	cr_assert_eq(iam_principal_new(u, &pr), 0);
	if (w->mfa_age >= 0)
		f.mfa_time = now - w->mfa_age;
	if (w->role != NULL) {
		cr_assert_eq(iam_rolesdb_lookup(dir, 0, w->role, &role), 0);
		as.role = role;
		as.started = w->mfa_age >= 0 ? f.mfa_time : now;
	}
	cr_assert_eq(iam_decide(cfg, u, pr, role ? &as : NULL, &f, &ask, res,
				NULL), 0);
	d = res->decision;
	free(res);
	iam_role_rec_free(role);
	iam_principal_free(pr);
	iam_auth_user_free(u);
	iam_authdb_close(db);
	return d;
}

/* What `iamctl simulate ... --json` answers. */
static enum iam_decision
simulated(const struct row *w)
{
	char cmd[2048], out[8192] = "", opt[512] = "";
	size_t n = 0, got;
	FILE *p;

	if (w->role != NULL)
		n += (size_t)snprintf(opt + n, sizeof(opt) - n, " --role %s",
				      w->role);
	if (w->mfa_age >= 0)
		n += (size_t)snprintf(opt + n, sizeof(opt) - n,
				      " --mfa-age %d", w->mfa_age);
	if (w->ip != NULL)
		n += (size_t)snprintf(opt + n, sizeof(opt) - n,
				      " --source-ip %s", w->ip);
	n += (size_t)snprintf(opt + n, sizeof(opt) - n, " --service %s --tty %s",
			      w->service, w->tty);
	snprintf(cmd, sizeof(cmd), BUILD_DIR "/iamctl --config " F_CONF
		 " simulate %s %s '%s'%s --json 2>&1", w->user, w->action,
		 w->resource, opt);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	pclose(p);
	if (strncmp(out, "{\"decision\":\"Allow\"", 19) == 0)
		return IAM_ALLOW;
	if (strncmp(out, "{\"decision\":\"ExplicitDeny\"", 26) == 0)
		return IAM_EXPLICIT_DENY;
	cr_assert(strncmp(out, "{\"decision\":\"ImplicitDeny\"", 26) == 0,
		  "%s: %s", cmd, out);
	return IAM_IMPLICIT_DENY;
}

Test(decide_table, simulate_answers_what_the_host_enforces)
{
	struct iam_config *cfg = NULL;

	T_NEED_ROOT();
	cr_assert_eq(iam_config_load(F_CONF, true, &cfg, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		enum iam_decision e = enforced(cfg, w), s = simulated(w);

		cr_expect_eq(e, w->want, "row %zu (%s %s %s): iam_decide %s, "
			     "want %s", i, w->user, w->action, w->resource,
			     iam_decision_name(e), iam_decision_name(w->want));
		cr_expect_eq(s, e, "row %zu (%s %s %s%s%s): simulate %s, "
			     "enforcement %s", i, w->user, w->action,
			     w->resource, w->role ? " as " : "",
			     w->role ? w->role : "", iam_decision_name(s),
			     iam_decision_name(e));
		if (w->pam) {
			struct t_conv c = { 0 };
			struct f_run o = { .service = w->service,
					   .rhost = w->ip, .tty = w->tty };
			int pr = f_account(w->user, &c, &o);

			cr_expect_eq(pr == PAM_SUCCESS, e == IAM_ALLOW,
				     "row %zu: pam_iam account %d, "
				     "enforcement %s", i, pr,
				     iam_decision_name(e));
		}
	}
	iam_config_free(cfg);
}
