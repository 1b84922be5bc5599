/*
 * test_pam_password.c - pam_sm_chauthtok through the real libpam and the
 * built pam_iam.so: current password unless really root, the new one
 * twice, iam:ChangePassword and allow_users_to_change, each rule of the
 * password policy, the history, the commit (credentials store and
 * publication) and a publication that fails.
 */
#include "pam_phase_fixture.h"

static char *hash;

#define P_CURRENT	"Current password: "
#define P_NEW		"New password: "
#define P_AGAIN		"Retype new password: "
#define NEW1		"Brand-new-Pass1"
#define NEW2		"Second-new-Pass2"
#define CREDS_ALICE	"/var/lib/iam/credentials/70001.json"

static const char identity_fmt[] =
"{ \"account\": { \"id\": \"123456789012\" },\n"
"  \"password_policy\": { \"minimum_length\": 12, \"require_uppercase\": true,\n"
"    \"require_lowercase\": true, \"require_numbers\": true,\n"
"    \"require_symbols\": true, \"max_age_days\": 90, \"reuse_prevention\": 3,\n"
"    \"allow_users_to_change\": %1$s },\n"
"  \"groups\": [ { \"name\": \"iamstaff\", \"gid\": 70100 } ],\n"
"  \"users\": [\n"
"   { \"name\": \"alice\", \"uid\": 70001, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\", \"ChangeOwn\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" } },\n"
"   { \"name\": \"bob\", \"uid\": 70002, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\" } },\n"
"   { \"name\": \"carol\", \"uid\": 70003, \"primary_group\": \"iamstaff\",\n"
"     \"policies\": [\"LoginAll\", \"ChangeOwn\"],\n"
"     \"password\": { \"hash\": \"%2$s\", \"changed\": \"%3$s\",\n"
"                   \"must_change\": true } }\n"
"  ],\n"
"  \"policies\": {\n"
"   \"LoginAll\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"host:Login\", \"Resource\": \"*\" } ] },\n"
"   \"ChangeOwn\": { \"Version\": \"2012-10-17\", \"Statement\": [ {\n"
"     \"Effect\": \"Allow\", \"Action\": \"iam:ChangePassword\",\n"
"     \"Resource\": \"arn:iam:iam::123456789012:user/${aws:username}\" } ] }\n"
"  } }\n";

static void
publish(bool allow)
{
	char fresh[32], text[8192];
	int n;

	f_time((int64_t)time(NULL) - DAY, fresh);
	n = snprintf(text, sizeof(text), identity_fmt, allow ? "true" : "false",
		     hash, fresh);
	cr_assert(n > 0 && (size_t)n < sizeof(text));
	f_publish_text(text);
}

static void
setup(void)
{
	if (!t_private_root())
		return;
	f_nss_setup();
	f_reset(NULL);
	f_services(NULL);
	cr_assert_eq(iam_password_hash(F_OLDPW, IAM_HASH_SHA512CRYPT, &hash),
		     0);
	publish(true);
}

static void
teardown(void)
{
	free(hash);
	hash = NULL;
}

TestSuite(password, .init = setup, .fini = teardown, .timeout = 90);

/* As the user would run passwd: real uid theirs, effective uid root. */
static void
become(uid_t uid)
{
	cr_assert_eq(setresuid(uid, 0, 0), 0);
	cr_assert_eq(getuid(), uid);
}

static int
change(const char *user, int flags, const char *a0, const char *a1,
       const char *a2, struct t_conv *c)
{
	*c = (struct t_conv){ .answers = { a0, a1, a2 },
			      .n_answers = a2 ? 3 : a1 ? 2 : 1 };
	return f_chauthtok(user, c, flags);
}

Test(password, root_changes_without_the_current_password)
{
	struct t_conv c;
	struct stat st;

	T_NEED_ROOT();
	cr_assert_eq(change("alice", 0, NEW1, NEW1, NULL, &c), PAM_SUCCESS);
	cr_assert_str_eq(c.log[0], P_NEW);
	cr_assert_str_eq(c.log[1], P_AGAIN);
	cr_assert(!f_said(&c, P_CURRENT));
	cr_assert_eq(stat(CREDS_ALICE, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(f_auth("alice", NEW1), PAM_SUCCESS);
	cr_assert_eq(f_auth("alice", F_OLDPW), PAM_AUTH_ERR);
	cr_assert_eq(f_trail_count("\"ChangePassword\"", "\"byRoot\":\"true\""),
		     1);
}

Test(password, user_changes_own_password_with_the_current_one)
{
	struct t_conv c;
	char *all;

	T_NEED_ROOT();
	umask(0);	/* the caller's umask changes no mode */
	become(70001);
	cr_assert_eq(change("alice", 0, F_OLDPW, NEW1, NEW1, &c), PAM_SUCCESS);
	cr_assert_str_eq(c.log[0], P_CURRENT);
	cr_assert_str_eq(c.log[1], P_NEW);
	cr_assert_str_eq(c.log[2], P_AGAIN);
	cr_assert_eq(f_auth("alice", NEW1), PAM_SUCCESS);
	all = t_slurp(F_TRAIL);
	cr_assert(strstr(all, "\"eventName\":\"ChangePassword\""));
	/* Never a password or a hash in the trail. */
	cr_assert_null(strstr(all, NEW1));
	cr_assert_null(strstr(all, F_OLDPW));
	cr_assert_null(strstr(all, "$6$"));
	cr_assert_null(strstr(all, "$y$"));
	free(all);
}

Test(password, wrong_current_password_is_refused)
{
	struct t_conv c;
	struct stat st;

	T_NEED_ROOT();
	become(70001);
	cr_assert_eq(change("alice", 0, "Wrong-Passw0rd!", NEW1, NEW1, &c),
		     PAM_AUTH_ERR);
	cr_assert(f_said(&c, "Authentication failed."));
	cr_assert(!f_said(&c, P_NEW));
	cr_assert_eq(stat(CREDS_ALICE, &st), -1);
	cr_assert_eq(f_auth("alice", F_OLDPW), PAM_SUCCESS);
	cr_assert_eq(f_trail_count("\"ChangePassword\"", "InvalidPassword"), 1);
}

Test(password, forced_change_at_login_asks_for_the_current_password)
{
	struct t_conv c;
	struct f_run o = { 0 };

	T_NEED_ROOT();
	c = (struct t_conv){ 0 };
	cr_assert_eq(f_account("carol", &c, &o), PAM_NEW_AUTHTOK_REQD);
	/* sshd and login run as root, but a forced change is not root's. */
	cr_assert_eq(change("carol", PAM_CHANGE_EXPIRED_AUTHTOK, "bad-guess",
			    NEW1, NEW1, &c), PAM_AUTH_ERR);
	cr_assert_str_eq(c.log[0], P_CURRENT);
	cr_assert_eq(change("carol", PAM_CHANGE_EXPIRED_AUTHTOK, F_OLDPW, NEW1,
			    NEW1, &c), PAM_SUCCESS);
	cr_assert_str_eq(c.log[0], P_CURRENT);
	c = (struct t_conv){ 0 };
	cr_assert_eq(f_account("carol", &c, &o), PAM_SUCCESS,
		     "must_change cleared by the change");
	cr_assert_eq(f_auth("carol", NEW1), PAM_SUCCESS);
}

Test(password, each_rule_is_refused_with_its_message)
{
	static const struct { const char *pw, *msg; } cases[] = {
		{ "Sh0rt!", "Password rejected: it must have at least 12 " },
		{ "no-upper-case-1", "Password rejected: it must contain an "
		  "uppercase" },
		{ "NO-LOWER-CASE-1", "Password rejected: it must contain a "
		  "lowercase" },
		{ "No-Numbers-Here", "Password rejected: it must contain a "
		  "number (0-9)." },
		{ "NoSymbols12345", "Password rejected: it must contain a "
		  "symbol" },
		{ "xx-ALICE-pw-12", "Password rejected: it must not contain "
		  "the user name." },
	};
	struct t_conv c;

	T_NEED_ROOT();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(change("alice", 0, cases[i].pw, cases[i].pw, NULL,
				    &c), PAM_AUTHTOK_ERR, "%s", cases[i].pw);
		cr_assert(c.n_log >= 3);
		cr_assert_eq(c.styles[2], PAM_ERROR_MSG);
		cr_assert(strncmp(c.log[2], cases[i].msg,
				  strlen(cases[i].msg)) == 0,
			  "%s: got \"%s\"", cases[i].pw, c.log[2]);
	}
	cr_assert_eq(f_auth("alice", F_OLDPW), PAM_SUCCESS,
		     "nothing was changed");
	cr_assert_eq(f_trail_count("\"ChangePassword\"",
				   "\"errorCode\":\"PasswordPolicy\""), 6);
}

Test(password, mismatched_retype_is_refused)
{
	struct t_conv c;

	T_NEED_ROOT();
	cr_assert_eq(change("alice", 0, NEW1, NEW2, NULL, &c), PAM_AUTHTOK_ERR);
	cr_assert(f_said(&c, "Password rejected: the two passwords do not "
			 "match."));
	cr_assert_eq(f_auth("alice", F_OLDPW), PAM_SUCCESS);
}

Test(password, history_reuse_is_refused)
{
	struct t_conv c;

	T_NEED_ROOT();
	cr_assert_eq(change("alice", 0, NEW1, NEW1, NULL, &c), PAM_SUCCESS);
	cr_assert_eq(change("alice", 0, NEW2, NEW2, NULL, &c), PAM_SUCCESS);
	/* The current one and both earlier ones are within the last 3. */
	cr_assert_eq(change("alice", 0, NEW2, NEW2, NULL, &c), PAM_AUTHTOK_ERR);
	cr_assert(strstr(c.log[2], "Password rejected: it must not be one of"),
		  "%s", c.log[2]);
	cr_assert_eq(change("alice", 0, F_OLDPW, F_OLDPW, NULL, &c),
		     PAM_AUTHTOK_ERR);
	cr_assert(strstr(c.log[2], "Password rejected: it must not be one of"),
		  "%s", c.log[2]);
	cr_assert_eq(change("alice", 0, NEW1, NEW1, NULL, &c), PAM_AUTHTOK_ERR);
	cr_assert_eq(f_auth("alice", NEW2), PAM_SUCCESS);
}

Test(password, policy_without_change_password_refuses_the_user_not_root)
{
	struct t_conv c;
	pid_t pid;
	int st;

	T_NEED_ROOT();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (setresuid(70002, 0, 0) != 0)
			_exit(9);
		if (change("bob", 0, F_OLDPW, NEW1, NEW1, &c) != PAM_AUTHTOK_ERR)
			_exit(1);
		if (!f_said(&c, "Password rejected: changing it is not allowed "
			    "by IAM policy.") || f_said(&c, P_NEW))
			_exit(2);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d", st);
	cr_assert_eq(f_auth("bob", F_OLDPW), PAM_SUCCESS);
	/* Root is asked neither iam:ChangePassword nor the current one. */
	cr_assert_eq(change("bob", 0, NEW1, NEW1, NULL, &c), PAM_SUCCESS);
	cr_assert_eq(f_auth("bob", NEW1), PAM_SUCCESS);
}

Test(password, allow_users_to_change_false_refuses_the_user)
{
	struct t_conv c;

	T_NEED_ROOT();
	publish(false);
	become(70001);
	cr_assert_eq(change("alice", 0, F_OLDPW, NEW1, NEW1, &c),
		     PAM_AUTHTOK_ERR);
	cr_assert(f_said(&c, "Password rejected: users may not change their "
			 "own passwords on this account."));
	cr_assert_eq(f_auth("alice", F_OLDPW), PAM_SUCCESS);
}

static void
expect_unchanged_after_failed_publish(const char *keep_pw, bool existed)
{
	struct t_conv c;
	char *before = t_slurp(CREDS_ALICE), *after;

	cr_assert_eq(existed, before != NULL);
	/* Injected: the identity file turns insecure, publishing fails. */
	cr_assert_eq(chmod("/etc/iam/identity.json", 0644), 0);
	cr_assert_eq(change("alice", 0, NEW2, NEW2, NULL, &c), PAM_AUTHTOK_ERR);
	cr_assert(f_said(&c, "Password change failed; the old password stays "
			 "in force."));
	cr_assert_eq(chmod("/etc/iam/identity.json", 0600), 0);
	after = t_slurp(CREDS_ALICE);
	if (existed)
		cr_assert_str_eq(after, before, "credentials byte for byte");
	else
		cr_assert_null(after, "no credential file left behind");
	cr_assert_eq(f_auth("alice", keep_pw), PAM_SUCCESS);
	cr_assert_eq(f_auth("alice", NEW2), PAM_AUTH_ERR);
	cr_assert_eq(f_trail_count("\"ChangePassword\"",
				   "\"errorCode\":\"Unavailable\""), 1);
	free(before);
	free(after);
}

Test(password, failed_publication_without_credentials_changes_nothing)
{
	T_NEED_ROOT();
	expect_unchanged_after_failed_publish(F_OLDPW, false);
}

Test(password, failed_publication_keeps_credentials_byte_for_byte)
{
	struct t_conv c;

	T_NEED_ROOT();
	cr_assert_eq(change("alice", 0, NEW1, NEW1, NULL, &c), PAM_SUCCESS);
	expect_unchanged_after_failed_publish(NEW1, true);
}

Test(password, use_authtok_takes_the_earlier_modules_password)
{
	struct t_conv c = { 0 };
	struct f_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char text[512];

	T_NEED_ROOT();
	snprintf(text, sizeof(text), "password required %s/pam_iam.so "
		 "config=" F_CONF " use_authtok\n", BUILD_DIR);
	f_service("iamtest", text);
	pamh = f_start("alice", &c, &o, &conv);
	cr_assert_eq(pam_chauthtok(pamh, 0), PAM_AUTHTOK_ERR,
		     "no earlier module set a password");
	pam_end(pamh, PAM_AUTHTOK_ERR);
	/* An earlier module (pam_pwhistory here) asked for it already. */
	snprintf(text, sizeof(text), "password requisite pam_pwhistory.so\n"
		 "password required %s/pam_iam.so config=" F_CONF
		 " use_authtok\n", BUILD_DIR);
	f_service("iamtest", text);
	c = (struct t_conv){ .answers = { NEW1, NEW1 }, .n_answers = 2 };
	pamh = f_start("alice", &c, &o, &conv);
	cr_assert_eq(pam_chauthtok(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(c.n_log, 2, "only the earlier module's two prompts");
	f_services(NULL);
	cr_assert_eq(f_auth("alice", NEW1), PAM_SUCCESS);
}

Test(password, local_user_is_left_to_pam_unix)
{
	struct f_run o = { .service = "ignoreprobe" };
	const char *names[] = { "root", "nobody", "nosuchuser" };
	struct t_conv c;
	struct pam_conv conv;
	pam_handle_t *pamh;

	T_NEED_ROOT();
	/* Through a stack of pam_iam only, PAM_IGNORE fails the stack. */
	cr_assert_neq(change("root", 0, NEW1, NEW1, NULL, &c), PAM_SUCCESS);
	cr_assert_eq(c.n_log, 0);
	f_service_ignore_probe();
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		pamh = f_start(names[i], &c, &o, &conv);
		cr_expect_eq(pam_chauthtok(pamh, 0), PAM_SUCCESS,
			     "%s: not PAM_IGNORE", names[i]);
		pam_end(pamh, PAM_SUCCESS);
		cr_expect_eq(c.n_log, 0);
	}
}

/*
 * One counter for every password check (the identity names no lockout:
 * 5 failures, 900 s): passwd's current password and the auth phase count
 * together, and the lock refuses the right password in both, unchecked.
 */
Test(password, passwd_and_auth_share_one_lockout_counter)
{
	struct t_conv c;
	struct stat st;

	T_NEED_ROOT();
	become(70001);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(change("alice", 0, "Wrong-Passw0rd!", NEW1, NEW1,
				    &c), PAM_AUTH_ERR);
	cr_assert_eq(f_auth("alice", "Wrong-Passw0rd!"), PAM_AUTH_ERR);
	cr_assert_eq(f_trail_count("\"eventName\":\"Lockout\"", NULL), 0);
	cr_assert_eq(f_auth("alice", "Wrong-Passw0rd!"), PAM_AUTH_ERR);
	cr_assert_eq(f_trail_count("\"eventName\":\"Lockout\"", "\"alice\""),
		     1, "the fifth failure, whichever check, locks");
	cr_expect_eq(f_auth("alice", F_OLDPW), PAM_MAXTRIES);
	cr_expect_eq(change("alice", 0, F_OLDPW, NEW1, NEW1, &c), PAM_MAXTRIES);
	cr_expect(f_said(&c, "Authentication failed."));
	cr_expect(!f_said(&c, P_NEW));
	cr_expect_eq(stat(CREDS_ALICE, &st), -1, "changed while locked");
	cr_expect_eq(f_trail_count("\"ChangePassword\"", "AccountLocked"), 1);
}

Test(password, passwd_reaching_the_limit_writes_the_lockout_event)
{
	struct t_conv c;

	T_NEED_ROOT();
	for (int i = 0; i < 4; i++)
		cr_assert_eq(f_auth("alice", "Wrong-Passw0rd!"), PAM_AUTH_ERR);
	become(70001);
	cr_assert_eq(change("alice", 0, "Wrong-Passw0rd!", NEW1, NEW1, &c),
		     PAM_AUTH_ERR);
	cr_expect_eq(f_trail_count("\"eventName\":\"Lockout\"", "\"alice\""),
		     1);
	cr_expect_eq(change("alice", 0, F_OLDPW, NEW1, NEW1, &c), PAM_MAXTRIES);
}
