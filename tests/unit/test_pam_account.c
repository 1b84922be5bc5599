/*
 * test_pam_account.c - pam_sm_acct_mgmt through the real libpam and the
 * built pam_iam.so: each outcome in DESIGN.md's order, host:Login with
 * its context (source address, MFA, host tags, groups, explicit Deny),
 * mfa = "required", and the Login events of the trail.
 */
#include "fixtures.h"

static char *hash;

#define M_DENIED	"Access denied by IAM policy."
#define M_DISABLED	"Account disabled."
#define M_NEED_MFA	"Access denied: this login needs MFA."
#define M_EXPIRED	"Password expired; choose a new one."

static const char identity_fmt[] =
"{ \"account\": { \"id\": \"123456789012\", \"alias\": \"acme\" },\n"
"  \"password_policy\": { \"minimum_length\": 10, \"max_age_days\": 90,\n"
"    \"hard_expiry\": %1$s, \"allow_users_to_change\": true },\n"
"  \"groups\": [ { \"name\": \"iamstaff\", \"gid\": 70100 },\n"
"               { \"name\": \"admins\", \"gid\": 70101 } ],\n"
"  \"users\": [\n"
"   { \"name\": \"alice\", \"uid\": 70001, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"], \"tags\": { \"Team\": \"payments\" },\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" } },\n"
"   { \"name\": \"dis\", \"uid\": 70002, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"], \"disabled\": true,\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" } },\n"
"   { \"name\": \"denied\", \"uid\": 70003, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\", \"DenyLogin\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" } },\n"
"   { \"name\": \"expired\", \"uid\": 70004, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%4$s\" } },\n"
"   { \"name\": \"deniedexp\", \"uid\": 70005, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\", \"DenyLogin\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%4$s\" } },\n"
"   { \"name\": \"mustc\", \"uid\": 70006, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\",\n"
"                   \"must_change\": true } },\n"
"   { \"name\": \"warn\", \"uid\": 70007, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%5$s\" } },\n"
"   { \"name\": \"net\", \"uid\": 70008, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginFromTen\"] },\n"
"   { \"name\": \"mfa\", \"uid\": 70009, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginWithMfa\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" },\n"
"     \"mfa\": { \"type\": \"totp\", \"secret\": \"" FX_SECRET "\" } },\n"
"   { \"name\": \"dev\", \"uid\": 70010, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginOnDev\"] },\n"
"   { \"name\": \"admuser\", \"uid\": 70011, \"primary_group\": \"iamstaff\",\n"
"     \"groups\": [\"admins\"], \"policies\": [\"LoginForAdmins\"] },\n"
"   { \"name\": \"nonadm\", \"uid\": 70012, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginForAdmins\"] },\n"
"   { \"name\": \"nopol\", \"uid\": 70013, \"primary_group\": \"iamstaff\" },\n"
"   { \"name\": \"undated\", \"uid\": 70014, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"], \"password\": { \"hash\": \"%2$s\" } }\n"
"  ],\n"
"  \"policies\": {\n"
"   \"LoginAll\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\",\n"
"     \"Resource\": \"arn:iam:host::123456789012:host/web1\" } ] },\n"
"   \"DenyLogin\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Sid\": \"NoLoginHere\", \"Effect\": \"Deny\",\n"
"     \"Action\": \"host:Login\", \"Resource\": \"*\" } ] },\n"
"   \"LoginFromTen\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\",\n"
"     \"Condition\": { \"IpAddress\": { \"aws:SourceIp\": \"10.0.0.0/8\" } } } ] },\n"
"   \"LoginWithMfa\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\",\n"
"     \"Condition\": { \"Bool\": { \"aws:MultiFactorAuthPresent\": \"true\" } } } ] },\n"
"   \"LoginOnDev\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\",\n"
"     \"Condition\": { \"StringEquals\": {\n"
"       \"aws:ResourceTag/Environment\": \"Development\" } } } ] },\n"
"   \"LoginForAdmins\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\",\n"
"     \"Condition\": { \"ForAnyValue:StringEquals\": {\n"
"       \"iam:PrincipalGroups\": \"admins\" } } } ] }\n"
"  } }\n";

static void
publish(bool hard)
{
	char fresh[32], old[32], warn[32], text[16384];
	int64_t now = (int64_t)time(NULL);
	int n;

	fx_time(now - DAY, fresh);
	fx_time(now - 100 * DAY, old);
	fx_time(now - 85 * DAY, warn);
	n = snprintf(text, sizeof(text), identity_fmt, hard ? "true" : "false",
		     hash, fresh, old, warn);
	cr_assert(n > 0 && (size_t)n < sizeof(text));
	fx_publish_text(text);
}

static void
setup_with(const char *conf)
{
	fx_phase_nss_setup();
	fx_reset(conf);
	fx_services(NULL);
	if (hash == NULL)
		cr_assert_eq(iam_password_hash(FX_OLDPW, IAM_HASH_SHA512CRYPT,
					       &hash), 0);
	publish(false);
}

static void
setup(void)
{
	if (fx_private_root())
		setup_with(NULL);
}

static void
setup_dev(void)
{
	if (fx_private_root())
		setup_with("host_tags = { Environment = \"Development\"; };");
}

static void
setup_mfa(void)
{
	if (fx_private_root())
		setup_with("mfa = \"required\";");
}

static void
teardown(void)
{
	free(hash);
	hash = NULL;
}

TestSuite(account, .init = setup, .fini = teardown, .timeout = 60);

static int
account_of(const char *user, struct fx_conv *c, const char *rhost)
{
	struct fx_run o = { .rhost = rhost };

	return fx_account(user, c, &o);
}

Test(account, allowed_user_passes_and_is_recorded)
{
	struct fx_conv c = { 0 };
	char *line;

	FX_NEED_ROOT();
	cr_assert_eq(account_of("alice", &c, "192.0.2.7"), PAM_SUCCESS);
	cr_assert_eq(c.n_log, 0, "no message: %s", c.log[0]);
	line = fx_trail_last();
	cr_assert_not_null(line);
	cr_assert(strstr(line, "\"eventName\":\"Login\""), "%s", line);
	cr_assert(strstr(line, "\"userName\":\"alice\""), "%s", line);
	cr_assert(strstr(line, "\"sourceIPAddress\":\"192.0.2.7\""), "%s",
		  line);
	cr_assert(strstr(line, "\"phase\":\"account\""), "%s", line);
	cr_assert(strstr(line, "\"decision\":{\"decision\":\"Allow\""), "%s",
		  line);
	cr_assert_null(strstr(line, "errorCode"), "%s", line);
	free(line);
}

Test(account, name_that_is_not_an_iam_user_is_unknown)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("root", &c, NULL), PAM_USER_UNKNOWN);
	cr_assert_eq(account_of("nosuchuser", &c, NULL), PAM_USER_UNKNOWN);
	cr_assert_eq(c.n_log, 0);
	cr_assert_eq(fx_trail_count("\"Login\"", NULL), 0,
		     "local users leave nothing in the trail");
}

Test(account, disabled_user_is_refused_before_the_policy)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("dis", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_DISABLED));
	cr_assert_eq(fx_trail_count("\"userName\":\"dis\"",
				   "\"errorCode\":\"AccountDisabled\""), 1);
}

Test(account, explicit_deny_beats_allow_and_names_the_statement)
{
	struct fx_conv c = { 0 };
	char *line;

	FX_NEED_ROOT();
	cr_assert_eq(account_of("denied", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_DENIED));
	cr_assert_eq(c.n_log, 1, "only the denial, never the policy");
	line = fx_trail_last();
	cr_assert(strstr(line, "\"errorCode\":\"AccessDenied\""), "%s", line);
	cr_assert(strstr(line, "\"decision\":\"ExplicitDeny\""), "%s", line);
	cr_assert(strstr(line, "\"sid\":\"NoLoginHere\""), "%s", line);
	free(line);
}

Test(account, no_policy_is_an_implicit_deny)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("nopol", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_DENIED));
	cr_assert_eq(fx_trail_count("\"userName\":\"nopol\"",
				   "\"ImplicitDeny\""), 1);
}

Test(account, expired_password_asks_for_a_change)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("expired", &c, NULL), PAM_NEW_AUTHTOK_REQD);
	cr_assert(fx_said(&c, M_EXPIRED));
	cr_assert_eq(fx_trail_count("\"userName\":\"expired\"",
				   "\"errorCode\":\"PasswordExpired\""), 1);
}

Test(account, must_change_asks_for_a_change)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("mustc", &c, NULL), PAM_NEW_AUTHTOK_REQD);
	cr_assert(fx_said(&c, M_EXPIRED));
}

Test(account, denied_and_expired_is_denied_not_asked_to_change)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("deniedexp", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_DENIED));
	cr_assert(!fx_said(&c, M_EXPIRED));
	cr_assert_eq(fx_trail_count("\"userName\":\"deniedexp\"",
				   "PasswordExpired"), 0);
}

Test(account, hard_expiry_expires_the_account)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	publish(true);
	cr_assert_eq(account_of("expired", &c, NULL), PAM_ACCT_EXPIRED);
	cr_assert_eq(account_of("alice", &c, NULL), PAM_SUCCESS);
}

Test(account, warns_in_the_last_week)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("warn", &c, NULL), PAM_SUCCESS);
	cr_assert_eq(c.n_log, 1);
	cr_assert_eq(c.styles[0], PAM_TEXT_INFO);
	cr_assert(strstr(c.log[0], "expires in 4 days") ||
		  strstr(c.log[0], "expires in 5 days"), "%s", c.log[0]);
}

Test(account, silent_flag_says_nothing)
{
	struct fx_conv c = { 0 };
	struct fx_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh = fx_start("denied", &c, &o, &conv);

	FX_NEED_ROOT();
	cr_assert_eq(pam_acct_mgmt(pamh, PAM_SILENT), PAM_PERM_DENIED);
	pam_end(pamh, PAM_PERM_DENIED);
	cr_assert_eq(c.n_log, 0);
}

Test(account, source_address_inside_outside_and_absent)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("net", &c, "10.1.2.3"), PAM_SUCCESS);
	cr_assert_eq(account_of("net", &c, "192.168.1.1"), PAM_PERM_DENIED);
	cr_assert_eq(account_of("net", &c, NULL), PAM_PERM_DENIED);
	/* A host name is not an address: aws:SourceIp stays absent. */
	cr_assert_eq(account_of("net", &c, "ten.example"), PAM_PERM_DENIED);
}

Test(account, policy_requiring_mfa_sees_this_sessions_code)
{
	struct fx_conv c = { 0 };
	struct fx_run o = { .auth = true };
	char code[16];

	FX_NEED_ROOT();
	/* An SSH key login: no authentication in this handle, no MFA. */
	cr_assert_eq(account_of("mfa", &c, NULL), PAM_PERM_DENIED);
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	c = (struct fx_conv){ .answers = { FX_OLDPW, code }, .n_answers = 2 };
	cr_assert_eq(fx_account("mfa", &c, &o), PAM_SUCCESS);
	cr_assert_eq(fx_trail_count("\"userName\":\"mfa\"",
				   "\"mfa\":\"true\""), 2);
}

Test(account, host_tag_condition, .init = setup_dev)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("dev", &c, NULL), PAM_SUCCESS);
}

Test(account, host_tag_condition_fails_elsewhere)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("dev", &c, NULL), PAM_PERM_DENIED);
}

Test(account, group_condition)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("admuser", &c, NULL), PAM_SUCCESS);
	cr_assert_eq(account_of("nonadm", &c, NULL), PAM_PERM_DENIED);
}

Test(account, mfa_required_refuses_a_session_without_code, .init = setup_mfa)
{
	struct fx_conv c = { 0 };
	struct fx_run cron = { .service = "cron" };
	struct fx_run o = { .auth = true };
	char code[16];

	FX_NEED_ROOT();
	cr_assert_eq(account_of("alice", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_NEED_MFA));
	cr_assert_eq(fx_trail_count("\"userName\":\"alice\"",
				   "\"errorCode\":\"MFARequired\""), 1);
	/* An exempt service passes without a code. */
	c = (struct fx_conv){ 0 };
	cr_assert_eq(fx_account("alice", &c, &cron), PAM_SUCCESS);
	/* A session that verified a code passes. */
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	c = (struct fx_conv){ .answers = { FX_OLDPW, code }, .n_answers = 2 };
	cr_assert_eq(fx_account("mfa", &c, &o), PAM_SUCCESS);
}

Test(account, mfa_required_comes_after_the_policy, .init = setup_mfa)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	cr_assert_eq(account_of("denied", &c, NULL), PAM_PERM_DENIED);
	cr_assert(fx_said(&c, M_DENIED));
	cr_assert(!fx_said(&c, M_NEED_MFA));
}

Test(account, broken_snapshot_refuses_iam_users_only)
{
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	fx_write("/var/lib/iam/auth/auth.db", "garbage", 7, 0600);
	cr_assert_eq(account_of("alice", &c, NULL), PAM_AUTHINFO_UNAVAIL);
	/* root is a local uid: the stack falls through to pam_unix. */
	cr_assert_eq(account_of("root", &c, NULL), PAM_USER_UNKNOWN);
}

Test(account, unknown_argument_refuses)
{
	struct fx_conv c = { 0 };
	char text[512];

	FX_NEED_ROOT();
	snprintf(text, sizeof(text), "account required %s/pam_iam.so "
		 "config=" FX_CONF " bogus\n", BUILD_DIR);
	fx_service("iamtest", text);
	cr_assert_eq(account_of("alice", &c, NULL), PAM_AUTHINFO_UNAVAIL);
}

/*
 * Who is an IAM user is decided before iam.conf is read: whatever state
 * the file is in, root and local users get PAM_USER_UNKNOWN (the
 * recommended line's user_unknown=ignore, on to pam_unix) and IAM users
 * are refused.
 */
Test(account, broken_settings_refuse_iam_users_only)
{
	static const char *const bad[] = { "no_such_setting = 1;\n",
		"mfa = ;\n" };
	struct fx_conv c = { 0 };

	FX_NEED_ROOT();
	for (int i = 0; i < 6; i++) {
		unlink(FX_CONF);
		rmdir(FX_CONF);
		if (i < 2)
			fx_write(FX_CONF, bad[i], strlen(bad[i]), 0644);
		else if (i == 2)
			fx_write(FX_CONF, "\n", 1, 0666);
		else if (i == 3)
			cr_assert_eq(mkdir(FX_CONF, 0755), 0);
		else if (i == 4)
			cr_assert_eq(mkfifo(FX_CONF, 0644), 0);
		else {
			fx_write(FX_CONF, "\n", 1, 0644);
			cr_assert_eq(chown(FX_CONF, 65534, 0), 0);
		}
		cr_expect_eq(account_of("alice", &c, NULL),
			     PAM_AUTHINFO_UNAVAIL, "state %d", i);
		cr_expect_eq(account_of("root", &c, NULL), PAM_USER_UNKNOWN,
			     "state %d", i);
		cr_expect_eq(account_of("nobody", &c, NULL), PAM_USER_UNKNOWN,
			     "state %d", i);
		cr_expect_eq(account_of("nosuchuser", &c, NULL),
			     PAM_USER_UNKNOWN, "state %d", i);
	}
	cr_expect_eq(c.n_log, 0);
}

/*
 * The 6th field of user's line of iamctl credential-report
 * (password_next_rotation), as the administrator reads it.
 */
static void
report_rotation(const char *user, char *out, size_t len)
{
	char cmd[512], line[2048];
	size_t n = strlen(user);
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), BUILD_DIR "/iamctl --config " FX_CONF
		 " credential-report");
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		if (strncmp(line, user, n) != 0 || line[n] != ',')
			continue;
		for (int i = 0; i < 5 && p != NULL; i++)
			p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
		cr_assert_not_null(p);
		snprintf(out, len, "%.*s", (int)strcspn(p, ","), p);
		found = true;
	}
	cr_assert_eq(pclose(f), 0);
	cr_assert(found, "%s not in the report", user);
}

Test(account, password_expiry_is_the_one_credential_report_shows)
{
	struct fx_conv c = { 0 };
	char when[64];

	FX_NEED_ROOT();
	/* No change time: its age cannot be told, so it has expired. */
	cr_assert_eq(account_of("undated", &c, NULL), PAM_NEW_AUTHTOK_REQD);
	cr_assert(fx_said(&c, M_EXPIRED));
	report_rotation("undated", when, sizeof(when));
	cr_expect_str_neq(when, "N/A", "PAM enforces an expiry the report "
			  "does not show");
	cr_expect_str_eq(when, "1970-01-01T00:00:01Z");
	/* Expired and current passwords: the same dates on both sides. */
	report_rotation("expired", when, sizeof(when));
	cr_expect_str_neq(when, "N/A");
	report_rotation("alice", when, sizeof(when));
	cr_expect_str_neq(when, "N/A");
	report_rotation("nopol", when, sizeof(when));
	cr_expect_str_eq(when, "N/A", "no password, no rotation");
	memset(&c, 0, sizeof(c));
	cr_assert_eq(account_of("alice", &c, NULL), PAM_SUCCESS);
}
