/*
 * test_roles.c - roles: the role snapshot (build, strict read, lookup,
 * corruption), durations, sts:AssumeRole against the caller's own
 * policies and the trust policy, the role session's request context,
 * the code check with replay and lockout, and role session records
 * (round trip, and every record that must count as no session: wrong
 * owner, mode, link, hard link, expired, other boot, other uid, other
 * login session, corrupt).
 */
#include <sys/wait.h>

#include "fixtures.h"
#include "iam/roles.h"

static char dir[64];

static void
setup(void)
{
	fx_tmpdir(dir, sizeof(dir), "roles", 0700);
}

static void
teardown(void)
{
	fx_rmtree(dir);
}

/* ---- Policies and a role ---------------------------------------------- */

#define ARN_ALICE "arn:iam:iam::" FX_ACCOUNT ":user/alice"
#define ARN_ROLE  "arn:iam:iam::" FX_ACCOUNT ":role/deployer"

static const char trust_text[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":["
	"{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
	" \"Principal\":{\"AWS\":[\"" ARN_ALICE "\","
	"  \"arn:iam:iam::" FX_ACCOUNT ":user/carol\"]},"
	" \"Condition\":{\"Bool\":{\"aws:MultiFactorAuthPresent\":\"true\"}}},"
	"{\"Sid\":\"NotFromOutside\",\"Effect\":\"Deny\","
	" \"Action\":\"sts:AssumeRole\",\"Principal\":{\"AWS\":\"" ARN_ALICE "\"},"
	" \"Condition\":{\"StringEquals\":{\"iam:Tty\":\"badtty\"}}}]}";

static const char deploy_text[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Deploy\","
	"\"Effect\":\"Allow\",\"Action\":\"sudo:Run\",\"Resource\":\"*\","
	"\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/Duty\":\"deploy\"}}}]}";

struct fixture {
	struct fx_identity t;
	struct iam_json_doc *trust_doc, *deploy_doc;
	struct iam_named_policy policies[3];
	struct iam_role role;
	const char *role_policies[1];
	struct iam_tag role_tags[1];
};

static void
fixture_init(struct fixture *f)
{
	static const struct fx_user u[] = {
		{ "alice", 70001, NULL, FX_SECRET, IAM_TOTP_SHA1, 6, false },
	};

	fx_identity_init(&f->t, u, 1, 3, 900);
	cr_assert_eq(iam_json_parse(trust_text, strlen(trust_text), NULL,
				    &f->trust_doc, NULL, 0), 0);
	cr_assert_eq(iam_json_parse(deploy_text, strlen(deploy_text), NULL,
				    &f->deploy_doc, NULL, 0), 0);
	f->policies[0] = f->t.policies[0];
	f->policies[1] = f->t.policies[1];
	f->policies[2] = (struct iam_named_policy){ "DeployAccess",
		iam_json_root(f->deploy_doc), NULL };
	f->t.id.policies = f->policies;
	f->t.id.n_policies = 3;
	f->role_policies[0] = "DeployAccess";
	f->role_tags[0] = (struct iam_tag){ (char *)"Duty", (char *)"deploy" };
	f->role = (struct iam_role){
		.name = "deployer", .max_session_seconds = 7200,
		.tags = { f->role_tags, 1 },
		.trust_policy = { "deployer", iam_json_root(f->trust_doc), NULL },
		.policies = f->role_policies, .n_policies = 1,
	};
	f->t.id.roles = &f->role;
	f->t.id.n_roles = 1;
}

static void
fixture_release(struct fixture *f)
{
	iam_json_free(f->trust_doc);
	iam_json_free(f->deploy_doc);
	fx_identity_release(&f->t);
}

static void
publish_roles(struct fixture *f)
{
	struct iam_buf b = IAM_BUF_INIT;
	char path[128];

	cr_assert_eq(iam_rolesdb_build(&f->t.id, 7, &b), 0);
	snprintf(path, sizeof(path), "%s/roles.db", dir);
	fx_write(path, b.buf, b.len, 0600);
	iam_buf_release(&b);
}

TestSuite(rolesdb, .init = setup, .fini = teardown);

Test(rolesdb, builds_and_finds_a_role_with_its_policies)
{
	struct fixture f;
	struct iam_role_rec *r = NULL;

	fixture_init(&f);
	publish_roles(&f);
	cr_assert_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r), 0);
	cr_expect_str_eq(r->name, "deployer");
	cr_expect_str_eq(r->account_id, FX_ACCOUNT);
	cr_expect_eq(r->max_session_seconds, 7200);
	cr_assert_eq(r->n_tags, 1);
	cr_expect_str_eq(r->tags[0].key, "Duty");
	cr_expect_str_eq(r->tags[0].value, "deploy");
	cr_assert_eq(r->n_policies, 1);
	cr_expect_str_eq(iam_policy_name(r->policies[0]), "DeployAccess");
	cr_expect_eq(iam_policy_statement_count(r->trust), 2);
	cr_expect_not_null(r->set);
	cr_expect_not_null(r->trust_set);
	cr_expect_null(iam_role_rec_free(r));
	cr_expect_null(iam_role_rec_free(NULL));
	fixture_release(&f);
}

Test(rolesdb, unknown_role_and_missing_file_are_enoent)
{
	struct fixture f;
	struct iam_role_rec *r = NULL;

	fixture_init(&f);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r), -ENOENT);
	publish_roles(&f);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "Deployer", &r), -ENOENT);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "ghost", &r), -ENOENT);
	cr_expect_null(r);
	fixture_release(&f);
}

Test(rolesdb, missing_policy_is_refused_at_build)
{
	struct fixture f;
	struct iam_buf b = IAM_BUF_INIT;

	fixture_init(&f);
	f.role_policies[0] = "NoSuchPolicy";
	cr_expect_eq(iam_rolesdb_build(&f.t.id, 1, &b), -EINVAL);
	iam_buf_release(&b);
	fixture_release(&f);
}

#define ROLE_LINE(name, max, trust)                                          \
	name "\t{\"name\":\"" name "\",\"max_session_seconds\":" #max        \
	",\"tags\":{},\"trust_policy\":" trust ",\"policies\":[]}\n"
#define GOOD_TRUST                                                           \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","  \
	"\"Action\":\"sts:AssumeRole\",\"Principal\":\"*\"}]}"

Test(rolesdb, insecure_or_corrupt_snapshot_is_refused)
{
	static const char *const bad[] = {
		"\n",
		"IAMROLES1 1 123456789012 1",
		"IAMROLES2 1 123456789012 1\n" ROLE_LINE("deployer", 900, GOOD_TRUST),
		"IAMROLES1 1 12345x 1\n" ROLE_LINE("deployer", 900, GOOD_TRUST),
		/* no final newline */
		"IAMROLES1 1 123456789012 1\ndeployer\t{}",
		/* a line without a tab */
		"IAMROLES1 1 123456789012 1\ndeployer {}\n",
		/* a line whose JSON names another role */
		"IAMROLES1 1 123456789012 1\n"
		"deployer\t{\"name\":\"other\",\"max_session_seconds\":900,"
		"\"tags\":{},\"trust_policy\":" GOOD_TRUST ",\"policies\":[]}\n",
		/* out of range, broken JSON, a trust policy that does not compile */
		"IAMROLES1 1 123456789012 1\n" ROLE_LINE("deployer", 0, GOOD_TRUST),
		"IAMROLES1 1 123456789012 1\ndeployer\t{\"name\":\n",
		"IAMROLES1 1 123456789012 1\n" ROLE_LINE("deployer", 900,
			"{\"Version\":\"2012-10-17\",\"Statement\":[]}"),
	};
	static const char good[] =
		"IAMROLES1 1 123456789012 3\n" ROLE_LINE("alpha", 900, GOOD_TRUST)
		ROLE_LINE("deployer", 1200, GOOD_TRUST)
		ROLE_LINE("zeta", 1500, GOOD_TRUST);
	struct fixture f;
	struct iam_role_rec *r = NULL;
	char path[128];

	fixture_init(&f);
	snprintf(path, sizeof(path), "%s/roles.db", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_write(path, bad[i], strlen(bad[i]), 0600);
		cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r),
			     -EBADMSG, "case %zu", i);
	}
	fx_write(path, "", 0, 0600);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r), -EBADMSG,
		     "empty file");
	fx_write(path, good, strlen(good), 0600);
	cr_assert_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r), 0,
		     "control: a well-formed snapshot");
	cr_expect_eq(r->max_session_seconds, 1200);
	r = iam_role_rec_free(r);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer\tx", &r), -EINVAL);
	publish_roles(&f);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &r), -EPERM);
	cr_expect_null(r);
	fixture_release(&f);
}

Test(rolesdb, bisects_many_sorted_roles)
{
	struct fixture f;
	struct iam_role roles[257];
	char names[257][16];
	struct iam_role_rec *r = NULL;

	fixture_init(&f);
	/* Built from an unsorted array, looked up by every name. */
	for (int i = 0; i < 257; i++) {
		snprintf(names[i], sizeof(names[i]), "r%03d", (i * 101) % 257);
		roles[i] = f.role;
		roles[i].name = names[i];
		roles[i].max_session_seconds = 900 + (uint32_t)((i * 101) % 257);
	}
	f.t.id.roles = roles;
	f.t.id.n_roles = 257;
	publish_roles(&f);
	for (int i = 0; i < 257; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%03d", i);
		cr_assert_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), name, &r), 0, "%s",
			     name);
		cr_expect_str_eq(r->name, name);
		cr_expect_eq(r->max_session_seconds, 900 + (uint32_t)i);
		r = iam_role_rec_free(r);
	}
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "r", &r), -ENOENT);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "r0000", &r), -ENOENT);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "r256x", &r), -ENOENT);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "zzz", &r), -ENOENT);
	cr_expect_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "a", &r), -ENOENT);
	fixture_release(&f);
}

Test(rolesdb, published_with_the_other_snapshots)
{
	struct fx_host h;
	struct iam_role_rec *r = NULL;
	struct stat st;
	char path[192];

	FX_NEED_ROOT();
	fx_host_init(&h);
	/* Publishing goes through the identity file, like iamctl sync. */
	snprintf(path, sizeof(path), "%s/identity.json", h.root);
	{
		static const char text[] =
			"{\"account\":{\"id\":\"" FX_ACCOUNT "\"},"
			"\"groups\":[{\"name\":\"g\",\"gid\":70100}],"
			"\"users\":[{\"name\":\"alice\",\"uid\":70001,"
			"\"primary_group\":\"g\"}],"
			"\"roles\":[{\"name\":\"deployer\","
			"\"max_session_seconds\":1800,\"tags\":{\"Duty\":\"deploy\"},"
			"\"trust_policy\":{\"Version\":\"2012-10-17\",\"Statement\":"
			"[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
			"\"Principal\":{\"AWS\":\"" ARN_ALICE "\"}}]},"
			"\"policies\":[\"P\"]}],"
			"\"policies\":{\"P\":{\"Version\":\"2012-10-17\","
			"\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			"\"sudo:Run\",\"Resource\":\"*\"}]}}}";
		char extra[256];
		struct iam_config *cfg = NULL;
		char err[256];

		fx_write(path, text, strlen(text), 0600);
		snprintf(extra, sizeof(extra), "identity_file = \"%s\";", path);
		fx_host_conf(&h, extra);
		cr_assert_eq(iam_config_load(h.conf, true, &cfg, err,
					     sizeof(err)), 0, "%s", err);
		cr_assert_eq(iam_publish(cfg, NULL, NULL), 0);
		iam_config_free(cfg);
	}
	snprintf(path, sizeof(path), "%s/roles.db", h.auth);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_expect_eq(st.st_uid, 0);
	cr_assert_eq(iam_rolesdb_lookup(h.auth, 0, "deployer", &r), 0);
	cr_expect_eq(r->max_session_seconds, 1800);
	iam_role_rec_free(r);
	fx_host_cleanup(&h);
}

/* ---- Durations ---------------------------------------------------------- */

TestSuite(roles, .init = setup, .fini = teardown);

Test(roles, duration_defaults_and_limits)
{
	struct iam_role_rec r = { .max_session_seconds = 7200 };
	uint32_t s = 0;

	cr_expect_eq(iam_role_duration(&r, 0, &s), 0);
	cr_expect_eq(s, 3600, "default is at most one hour");
	r.max_session_seconds = 900;
	cr_expect_eq(iam_role_duration(&r, 0, &s), 0);
	cr_expect_eq(s, 900, "default is the maximum when below an hour");
	cr_expect_eq(iam_role_duration(&r, 900, &s), 0);
	cr_expect_eq(s, 900);
	cr_expect_eq(iam_role_duration(&r, 1, &s), 0);
	cr_expect_eq(s, 1);
	s = 42;
	cr_expect_eq(iam_role_duration(&r, 901, &s), -EDOM);
	cr_expect_eq(s, 42, "not set on failure");
	r.max_session_seconds = 0;
	cr_expect_eq(iam_role_duration(&r, 10, &s), -EINVAL);
}

/* ---- sts:AssumeRole ---------------------------------------------------- */

static struct iam_principal *
principal_of(const char *const *texts, size_t n)
{
	struct iam_principal *p = calloc(1, sizeof(*p));
	struct iam_faults faults = IAM_FAULTS_INIT;

	cr_assert_not_null(p);
	p->policies = calloc(n ? n : 1, sizeof(*p->policies));
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "Own%zu", i);
		cr_assert_eq(iam_policy_compile_text(texts[i], strlen(texts[i]),
						     name, false, name,
						     &p->policies[i], &faults), 0);
		p->n_policies++;
	}
	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)
					p->policies, n, NULL, &p->set), 0);
	iam_faults_release(&faults);
	return p;
}

static const char own_allow[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:iam:iam::*:role/*\"}]}";
static const char own_deny[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"NoDeployer\","
	"\"Effect\":\"Deny\",\"Action\":\"sts:AssumeRole\",\"Resource\":\""
	ARN_ROLE "\"}]}";
static const char own_other[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:iam:iam::*:role/other\"}]}";

struct assume_case {
	struct fixture f;
	struct iam_role_rec *role;
	struct iam_auth_user u;
	struct iam_config *cfg;
	struct iam_result own, trust;
};

static void
assume_init(struct assume_case *c, const char *name)
{
	static struct iam_auth_tag tags[] = { { "Team", "payments" } };
	static const char *groups[] = { "admins" };

	fixture_init(&c->f);
	publish_roles(&c->f);
	cr_assert_eq(iam_rolesdb_lookup(dir, fx_strict_flags(), "deployer", &c->role), 0);
	memset(&c->u, 0, sizeof(c->u));
	c->u.name = name;
	c->u.uid = 70001;
	c->u.account_id = FX_ACCOUNT;
	c->u.tags = tags;
	c->u.n_tags = 1;
	c->u.groups = groups;
	c->u.n_groups = 1;
	cr_assert_eq(iam_config_defaults(&c->cfg), 0);
}

static void
assume_release(struct assume_case *c)
{
	iam_role_rec_free(c->role);
	iam_config_free(c->cfg);
	fixture_release(&c->f);
}

static enum iam_assume_verdict
assume(struct assume_case *c, const char *const *own, size_t n,
       int64_t mfa_time, const char *tty)
{
	struct iam_session_facts facts = { .service = "iamctl", .tty = tty,
		.mfa_time = mfa_time, .now = 1800000000 };
	struct iam_principal *p = principal_of(own, n);
	enum iam_assume_verdict v = IAM_ASSUME_ALLOW;

	cr_assert_eq(iam_role_check_assume(c->cfg, &c->u, p, c->role, &facts,
					   &c->own, &c->trust, &v), 0);
	iam_principal_free(p);
	return v;
}

TestSuite(assume, .init = setup, .fini = teardown);

Test(assume, allowed_by_own_policy_and_trust_with_mfa)
{
	struct assume_case c;
	const char *own[] = { own_allow };

	assume_init(&c, "alice");
	cr_expect_eq(assume(&c, own, 1, 1800000000, "pts/1"), IAM_ASSUME_ALLOW);
	cr_expect_eq(c.own.decision, IAM_ALLOW);
	cr_expect_eq(c.trust.decision, IAM_ALLOW);
	assume_release(&c);
}

Test(assume, trust_policy_must_name_the_caller)
{
	struct assume_case c;
	const char *own[] = { own_allow };

	assume_init(&c, "bob");
	cr_expect_eq(assume(&c, own, 1, 1800000000, "pts/1"),
		     IAM_ASSUME_TRUST_NO_ALLOW);
	cr_expect_eq(c.trust.decision, IAM_IMPLICIT_DENY);
	assume_release(&c);
}

Test(assume, trust_condition_needs_mfa)
{
	struct assume_case c;
	const char *own[] = { own_allow };

	assume_init(&c, "alice");
	cr_expect_eq(assume(&c, own, 1, 0, "pts/1"), IAM_ASSUME_TRUST_NO_ALLOW);
	assume_release(&c);
}

Test(assume, trust_explicit_deny_wins)
{
	struct assume_case c;
	const char *own[] = { own_allow };

	assume_init(&c, "alice");
	cr_expect_eq(assume(&c, own, 1, 1800000000, "badtty"),
		     IAM_ASSUME_TRUST_DENY);
	cr_expect_str_eq(c.trust.decider.sid, "NotFromOutside");
	assume_release(&c);
}

Test(assume, own_policies_must_allow_and_their_deny_wins)
{
	struct assume_case c;
	const char *other[] = { own_other };
	const char *denied[] = { own_allow, own_deny };

	assume_init(&c, "alice");
	cr_expect_eq(assume(&c, NULL, 0, 1800000000, "pts/1"),
		     IAM_ASSUME_OWN_NO_ALLOW);
	cr_expect_eq(assume(&c, other, 1, 1800000000, "pts/1"),
		     IAM_ASSUME_OWN_NO_ALLOW);
	cr_expect_eq(assume(&c, denied, 2, 1800000000, "pts/1"),
		     IAM_ASSUME_OWN_DENY);
	cr_expect_eq(c.own.decision, IAM_EXPLICIT_DENY);
	cr_expect_str_eq(iam_assume_verdict_text(IAM_ASSUME_OWN_DENY),
			 "your policies explicitly deny sts:AssumeRole on this role");
	assume_release(&c);
}

Test(assume, role_request_carries_the_role_as_principal)
{
	struct assume_case c;
	struct iam_request *req = NULL;
	struct iam_session_facts facts = { .service = "sudo", .tty = "pts/2",
		.mfa_time = 1799999990, .now = 1800000000 };
	const char *const *v;
	struct iam_result res;

	assume_init(&c, "alice");
	cr_assert_eq(iam_request_for_role(c.cfg, &c.u, c.role,
					  "0123456789abcdef0123456789abcdef",
					  &facts, "sudo:Run", "arn:x", &req), 0);
	cr_assert_eq(iam_request_get(req, "aws:PrincipalArn", &v), 1);
	cr_expect_str_eq(v[0], ARN_ROLE);
	cr_assert_eq(iam_request_get(req, "aws:PrincipalType", &v), 1);
	cr_expect_str_eq(v[0], "AssumedRole");
	cr_assert_eq(iam_request_get(req, "aws:PrincipalTag/Duty", &v), 1);
	cr_expect_str_eq(v[0], "deploy");
	cr_expect_eq(iam_request_get(req, "aws:PrincipalTag/Team", &v), 0,
		     "the user's tags are not the role's");
	cr_expect_eq(iam_request_get(req, "iam:PrincipalGroups", &v), 0);
	cr_assert_eq(iam_request_get(req, "aws:username", &v), 1);
	cr_expect_str_eq(v[0], "alice");
	cr_assert_eq(iam_request_get(req, "aws:MultiFactorAuthAge", &v), 1);
	cr_expect_str_eq(v[0], "10");
	cr_assert_eq(iam_request_get(req, "iam:RoleSessionId", &v), 1);
	cr_assert_eq(iam_request_get(req, "iam:Tty", &v), 1);
	cr_expect_str_eq(v[0], "pts/2");
	/* The role's own policy keys on its tag. */
	cr_assert_eq(iam_policy_evaluate(c.role->set, req, &res), 0);
	cr_expect_eq(res.decision, IAM_ALLOW);
	iam_request_free(req);
	assume_release(&c);
}

/* ---- The code ------------------------------------------------------------ */

Test(roles, code_check_replay_lockout_and_enrolment)
{
	struct iam_auth_user u;
	struct iam_config *cfg = NULL;
	struct iam_state st;
	char code[16], wrong[16];
	bool locked = false;
	int64_t now;

	fx_step_margin();
	now = (int64_t)time(NULL);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->state_dir);
	cfg->state_dir = strdup(dir);
	memset(&u, 0, sizeof(u));
	u.name = "alice";
	u.uid = 70001;
	u.mfa_algorithm = IAM_TOTP_SHA1;
	u.mfa_digits = 6;
	u.mfa_period = 30;
	u.password_policy.lockout.max_failed_attempts = 3;
	u.password_policy.lockout.lockout_seconds = 900;
	cr_expect_eq(iam_role_mfa_check(cfg, &u, "123456", now, fx_strict_flags(), NULL),
		     -ENOKEY, "no device enrolled");
	u.mfa_secret = FX_SECRET;
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now, fx_strict_flags(), NULL), 0);
	cr_assert_eq(iam_state_read(dir, 70001, fx_strict_flags(), &st), 0);
	cr_expect_eq(st.failures, 0);
	cr_expect_gt(st.last_step, 0);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now, fx_strict_flags(), NULL),
		     -EALREADY, "a step is never accepted twice");
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, wrong, now, fx_strict_flags(), &locked),
		     -EACCES);
	cr_expect_not(locked);
	cr_assert_eq(iam_state_read(dir, 70001, fx_strict_flags(), &st), 0);
	cr_expect_eq(st.failures, 2, "the replay counted too");
	cr_expect_eq(iam_role_mfa_check(cfg, &u, wrong, now, fx_strict_flags(), &locked),
		     -EACCES);
	cr_expect(locked, "the third failure locks");
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 1, code);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now, fx_strict_flags(), NULL),
		     -EBUSY, "locked: refused unchecked, even a right code");
	cr_assert_eq(iam_state_read(dir, 70001, fx_strict_flags(), &st), 0);
	cr_expect_eq(st.failures, 3, "a locked attempt does not extend the lock");
	{
		struct iam_totp t = { FX_SECRET, IAM_TOTP_SHA1, 6, 30 };

		cr_assert_eq(iam_totp_generate(&t, now + 901, code, 16), 0);
	}
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now + 901, fx_strict_flags(), NULL),
		     0, "the lock ends");
	cr_assert_eq(iam_state_read(dir, 70001, fx_strict_flags(), &st), 0);
	cr_expect_eq(st.failures, 0);
	cr_expect_eq(st.lock_start, 0);
	iam_config_free(cfg);
}

/* Lockout off: a failed code makes the next one within the delay refused. */
Test(roles, code_check_with_lockout_off_is_slowed)
{
	struct iam_auth_user u;
	struct iam_config *cfg = NULL;
	struct iam_state st;
	char code[16], wrong[16];
	int64_t now;

	fx_step_margin();
	now = (int64_t)time(NULL);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->state_dir);
	cfg->state_dir = strdup(dir);
	memset(&u, 0, sizeof(u));
	u.name = "alice";
	u.uid = 70002;
	u.mfa_secret = FX_SECRET;
	u.mfa_algorithm = IAM_TOTP_SHA1;
	u.mfa_digits = 6;
	u.mfa_period = 30;
	u.password_policy.lockout.max_failed_attempts = 0;
	u.password_policy.lockout.lockout_seconds = 900;
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, wrong, now, fx_strict_flags(), NULL),
		     -EACCES);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now + 2, fx_strict_flags(), NULL),
		     -EAGAIN, "within the delay: refused, not checked");
	cr_assert_eq(iam_state_read(dir, 70002, fx_strict_flags(), &st), 0);
	cr_expect_eq(st.failures, 1, "the refused try is not counted");
	cr_expect_eq(st.last_step, 0);
	cr_expect_eq(iam_role_mfa_check(cfg, &u, code, now + IAM_LOCKOUT_DELAY,
					fx_strict_flags(), NULL), 0);
	iam_config_free(cfg);
}

/* ---- Role session records ------------------------------------------------ */

TestSuite(records, .init = setup, .fini = teardown);

static const struct iam_role_clock clock0 = {
	1000, 1800000000, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
};

static void
new_session(struct iam_role_session *s, const char *key, uint32_t secs)
{
	cr_assert_eq(iam_role_session_new("alice", 70001, "deployer", key,
					  "deploy release 42", secs, &clock0,
					  s), 0);
}

static void
record_path(char *buf, size_t len, const char *key)
{
	snprintf(buf, len, "%s/roles/%s", dir, key);
}

Test(records, round_trip_root_0600)
{
	struct iam_role_session s, t;
	struct stat st;
	char path[128];

	new_session(&s, "s42", 600);
	cr_expect_eq(strlen(s.id), IAM_ROLE_ID_LEN);
	cr_expect_eq(s.expiry - s.start, 600);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	record_path(path, sizeof(path), "s42");
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_expect_eq(st.st_uid, geteuid());
	snprintf(path, sizeof(path), "%s/roles", dir);
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), 0);
	cr_expect_eq(memcmp(&s, &t, sizeof(s)), 0);
	cr_assert_eq(iam_role_session_active(dir, "s42", 70001, &clock0, fx_strict_flags(),
					     &t), 0);
	cr_expect_str_eq(t.role, "deployer");
	cr_expect_str_eq(t.reason, "deploy release 42");
}

Test(records, two_sessions_get_different_ids)
{
	struct iam_role_session a, b;

	new_session(&a, "s1", 60);
	new_session(&b, "s1", 60);
	cr_expect_str_neq(a.id, b.id);
}

Test(records, expired_other_boot_other_uid_are_no_session)
{
	struct iam_role_session s, t;
	struct iam_role_clock c = clock0;

	new_session(&s, "s42", 2);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	c.boot = clock0.boot + 1;
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &c, fx_strict_flags(), &t), 0);
	c.boot = clock0.boot + 2;
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &c, fx_strict_flags(), &t),
		     -ENOENT, "expired at start + duration");
	c.boot = clock0.boot - 1;
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &c, fx_strict_flags(), &t),
		     -ENOENT, "before its start");
	c = clock0;
	/* Only the wall clock moves back: the boot clock decides. */
	c.wall -= 86400;
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &c, fx_strict_flags(), &t), 0);
	c = clock0;
	c.boot_id[0] = 'a';
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &c, fx_strict_flags(), &t),
		     -ENOENT, "another boot");
	cr_expect_eq(iam_role_session_active(dir, "s42", 70002, &clock0, fx_strict_flags(),
					     &t), -ENOENT, "another uid");
	cr_expect_eq(iam_role_session_active(dir, "s43", 70001, &clock0, fx_strict_flags(),
					     &t), -ENOENT, "another session");
}

Test(records, copied_under_another_session_key_is_refused)
{
	struct iam_role_session s, t;
	char from[128], to[128];
	char *text;

	new_session(&s, "s42", 600);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	record_path(from, sizeof(from), "s42");
	record_path(to, sizeof(to), "s43");
	text = fx_slurp(from);
	cr_assert_not_null(text);
	fx_write(to, text, strlen(text), 0600);
	free(text);
	cr_expect_eq(iam_role_session_read(dir, "s43", fx_strict_flags(), &t), -EBADMSG);
	cr_expect_eq(iam_role_session_active(dir, "s43", 70001, &clock0, fx_strict_flags(),
					     &t), -EBADMSG);
}

Test(records, wrong_owner_mode_link_are_refused)
{
	struct iam_role_session s, t;
	char path[128], other[128];

	new_session(&s, "s42", 600);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	record_path(path, sizeof(path), "s42");
	cr_assert_eq(chmod(path, 0644), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), -EPERM);
	cr_assert_eq(chmod(path, 0620), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), -EPERM);
	cr_assert_eq(chmod(path, 0700), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), -EPERM,
		     "an executable bit is not what the helper writes");
	cr_assert_eq(chmod(path, 0600), 0);
	/* A hard link elsewhere: two names for one record. */
	snprintf(other, sizeof(other), "%s/hard", dir);
	cr_assert_eq(link(path, other), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), -EPERM);
	cr_assert_eq(unlink(other), 0);
	/* A symbolic link under another key. */
	record_path(other, sizeof(other), "s43");
	cr_assert_eq(symlink(path, other), 0);
	cr_expect_eq(iam_role_session_read(dir, "s43", fx_strict_flags(), &t), -ELOOP);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), 0);
}

Test(records, owned_by_the_user_is_refused)
{
	struct iam_role_session s, t;
	char path[128];

	FX_NEED_ROOT();
	new_session(&s, "s42", 600);
	cr_assert_eq(iam_role_session_write(dir, &s, 0), 0);
	record_path(path, sizeof(path), "s42");
	cr_assert_eq(chown(path, 70001, 70001), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", 0, &t), -EPERM);
	cr_expect_eq(iam_role_session_active(dir, "s42", 70001, &clock0, 0,
					     &t), -EPERM);
	cr_assert_eq(chown(path, 0, 0), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", 0, &t), 0);
	/* A roles folder open to others makes every record untrustworthy. */
	snprintf(path, sizeof(path), "%s/roles", dir);
	cr_assert_eq(chmod(path, 0777), 0);
	cr_expect_eq(iam_role_session_read(dir, "s42", 0, &t), -EPERM);
}

Test(records, corrupt_records_are_refused)
{
	static const char *const bad[] = {
		"",
		"IAMROLE1\n",
		"IAMROLE2\nid=0123456789abcdef0123456789abcdef\n",
		/* a field missing */
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\n",
		/* expiry before start */
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=999\nwall_start=1\nwall_expiry=601\nreason=\n",
		/* a bad id */
		"IAMROLE1\nid=XYZ\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\nreason=\n",
		/* a negative uid */
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=-1\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\nreason=\n",
		/* trailing garbage */
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\nreason=\nx=1\n",
		/* no final newline */
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\nreason=",
	};
	static const char good[] =
		"IAMROLE1\nid=0123456789abcdef0123456789abcdef\nuser=alice\n"
		"uid=70001\nrole=deployer\nkey=s42\n"
		"boot=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\nstart=1000\n"
		"expiry=1600\nwall_start=1\nwall_expiry=601\nreason=\n";
	struct iam_role_session s, t;
	char path[128];

	new_session(&s, "s42", 600);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	record_path(path, sizeof(path), "s42");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_write(path, bad[i], strlen(bad[i]), 0600);
		cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t),
			     -EBADMSG, "case %zu", i);
	}
	fx_write(path, good, strlen(good), 0600);
	cr_expect_eq(iam_role_session_read(dir, "s42", fx_strict_flags(), &t), 0,
		     "control: the well-formed record is read");
}

Test(records, bad_arguments_are_refused)
{
	struct iam_role_session s;
	char longreason[IAM_ROLE_REASON_MAX + 2];

	cr_expect_eq(iam_role_session_new("alice", 70001, "deployer", "../x",
					  "", 60, &clock0, &s), -EINVAL);
	cr_expect_eq(iam_role_session_new("alice", 70001, "deployer", "s1",
					  "", 0, &clock0, &s), -EINVAL);
	cr_expect_eq(iam_role_session_new("Alice!", 70001, "deployer", "s1",
					  "", 60, &clock0, &s), -EINVAL);
	cr_expect_eq(iam_role_session_new("alice", 70001, "de/ployer", "s1",
					  "", 60, &clock0, &s), -EINVAL);
	cr_expect_eq(iam_role_session_new("alice", 70001, "deployer", "s1",
					  "line\nbreak", 60, &clock0, &s),
		     -EINVAL);
	memset(longreason, 'a', sizeof(longreason) - 1);
	longreason[sizeof(longreason) - 1] = '\0';
	cr_expect_eq(iam_role_session_new("alice", 70001, "deployer", "s1",
					  longreason, 60, &clock0, &s),
		     -EINVAL);
	cr_expect_eq(iam_role_session_read(dir, "../etc", fx_strict_flags(), &s), -EINVAL);
	cr_expect_eq(iam_role_session_read("relative", "s1", fx_strict_flags(), &s),
		     -EINVAL);
	cr_expect_eq(iam_role_session_read(dir, "s1", fx_strict_flags(), &s), -ENOENT);
}

Test(records, reasons)
{
	char max[IAM_ROLE_REASON_MAX + 1];

	cr_expect(iam_role_reason_valid(""));
	cr_expect(iam_role_reason_valid("deploy release 42 (ticket #7)"));
	cr_expect(iam_role_reason_valid("d\xc3\xa9ploiement \xe2\x9c\x93"));
	cr_expect_not(iam_role_reason_valid("tab\there"));
	cr_expect_not(iam_role_reason_valid("esc\x1b[31m"));
	cr_expect_not(iam_role_reason_valid("del\x7f"));
	cr_expect_not(iam_role_reason_valid("c1 \xc2\x9b control"));
	cr_expect_not(iam_role_reason_valid("bad \xff utf8"));
	cr_expect_not(iam_role_reason_valid("overlong \xc0\xaf"));
	cr_expect_not(iam_role_reason_valid("cut \xe2\x9c"));
	cr_expect_not(iam_role_reason_valid("surrogate \xed\xa0\x80"));
	memset(max, 'r', sizeof(max) - 1);
	max[sizeof(max) - 1] = '\0';
	cr_expect(iam_role_reason_valid(max));
	cr_expect_not(iam_role_reason_valid(NULL));
}

Test(records, remove_list_and_end_by_uid)
{
	struct iam_role_session a, b, c, t;

	new_session(&a, "s1", 600);
	new_session(&b, "s2", 600);
	cr_assert_eq(iam_role_session_new("bob", 70002, "deployer", "s3", "",
					  600, &clock0, &c), 0);
	cr_assert_eq(iam_role_session_write(dir, &a, fx_strict_flags()), 0);
	cr_assert_eq(iam_role_session_write(dir, &b, fx_strict_flags()), 0);
	cr_assert_eq(iam_role_session_write(dir, &c, fx_strict_flags()), 0);
	cr_expect_eq(iam_role_session_remove(dir, "s1", b.id, fx_strict_flags()), -ESTALE,
		     "the record holds another session");
	cr_expect_eq(iam_role_session_read(dir, "s1", fx_strict_flags(), &t), 0);
	cr_expect_eq(iam_role_sessions_end_uid(dir, 70001, fx_strict_flags()), 2);
	cr_expect_eq(iam_role_session_read(dir, "s1", fx_strict_flags(), &t), -ENOENT);
	cr_expect_eq(iam_role_session_read(dir, "s2", fx_strict_flags(), &t), -ENOENT);
	cr_expect_eq(iam_role_session_read(dir, "s3", fx_strict_flags(), &t), 0,
		     "bob's session stays");
	cr_expect_eq(iam_role_session_remove(dir, "s3", c.id, fx_strict_flags()), 0);
	cr_expect_eq(iam_role_session_remove(dir, "s3", c.id, fx_strict_flags()), -ENOENT);
	cr_expect_eq(iam_role_sessions_end_uid(dir, 70001, fx_strict_flags()), 0);
}

static int
count_one(const char *key, const struct iam_role_session *s, int err,
	  void *arg)
{
	int *n = arg;

	(void)key;
	if (s != NULL)
		n[0]++;
	else if (err == -EBADMSG)
		n[1]++;
	return 0;
}

Test(records, list_reports_good_and_bad_records)
{
	struct iam_role_session a;
	char path[128];
	int n[2] = { 0, 0 };

	cr_expect_eq(iam_role_session_list(dir, fx_strict_flags(), count_one, n), -ENOENT);
	new_session(&a, "s1", 600);
	cr_assert_eq(iam_role_session_write(dir, &a, fx_strict_flags()), 0);
	record_path(path, sizeof(path), "s2");
	fx_write(path, "junk\n", 5, 0600);
	cr_expect_eq(iam_role_session_list(dir, fx_strict_flags(), count_one, n), 0);
	cr_expect_eq(n[0], 1);
	cr_expect_eq(n[1], 1);
}

Test(records, clock_reads_this_boot)
{
	struct iam_role_clock a, b;

	cr_assert_eq(iam_role_clock_now(&a), 0);
	cr_assert_eq(iam_role_clock_now(&b), 0);
	cr_expect_geq(strlen(a.boot_id), 32);
	cr_expect_str_eq(a.boot_id, b.boot_id);
	cr_expect_geq(b.boot, a.boot);
	cr_expect_gt(a.wall, 1600000000);
}

Test(records, active_reads_the_clocks_itself)
{
	struct iam_role_session s, t;
	struct iam_role_clock now;

	cr_assert_eq(iam_role_clock_now(&now), 0);
	cr_assert_eq(iam_role_session_new("alice", 70001, "deployer", "s9", "",
					  600, &now, &s), 0);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	cr_expect_eq(iam_role_session_active(dir, "s9", 70001, NULL, fx_strict_flags(), &t),
		     0);
	cr_expect_str_eq(t.id, s.id);
	cr_expect_eq(iam_role_session_active(dir, "s8", 70001, NULL, fx_strict_flags(), &t),
		     -ENOENT);
	/* Written at an earlier boot: the real clock refuses it. */
	cr_assert_eq(iam_role_session_new("alice", 70001, "deployer", "s7", "",
					  600, &clock0, &s), 0);
	cr_assert_eq(iam_role_session_write(dir, &s, fx_strict_flags()), 0);
	cr_expect_eq(iam_role_session_active(dir, "s7", 70001, NULL, fx_strict_flags(), &t),
		     -ENOENT);
}

/* -ERANGE means only "buffer too small": a number out of bounds is -EDOM. */
Test(roles_errno, out_of_bounds_is_edom_never_erange)
{
	long long v;
	char buf[8];
	struct iam_totp t = { "JBSWY3DPEHPK3PXP", IAM_TOTP_SHA1, 6, 30 };

	cr_expect_eq(iam_parse_ll("11", 0, 10, &v), -EDOM);
	cr_expect_eq(iam_parse_ll("-1", 0, 10, &v), -EDOM);
	cr_expect_eq(iam_parse_ll("99999999999999999999", 0, 10, &v), -EDOM);
	cr_expect_eq(iam_parse_ll("x", 0, 10, &v), -EINVAL);
	cr_expect_eq(iam_totp_generate(&t, 0, buf, sizeof(buf)), -ERANGE);
}
