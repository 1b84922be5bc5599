/*
 * test_pam_auth.c - pam_sm_authenticate through the real libpam
 * (pam_start_confdir) and the built pam_iam.so, with a scripted
 * conversation that records every prompt.
 */
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "fixtures.h"

static struct fx_host host;
static struct fx_identity ident;
static char *hash_y;

#define P_PASS		"Password for %s@" FX_ALIAS ": "
#define P_CODE		"Verification code: "
#define M_FAILED	"Authentication failed."

static void
ensure_passwd(const char *name, uint32_t uid)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		fx_passwd_add(name, uid);
}

static void
publish(uint32_t max_failed, uint32_t lock_seconds, const char *hash_s,
	const char *hash_b)
{
	const struct fx_user users[] = {
		{ "alice", 70001, hash_y, FX_SECRET, IAM_TOTP_SHA1, 6, false },
		{ "bob", 70002, hash_y, FX_SECRET, IAM_TOTP_SHA256, 8, false },
		{ "carol", 70003, hash_y, FX_SECRET2, IAM_TOTP_SHA512, 7, false },
		{ "dave", 70004, hash_y, NULL, 0, 0, false },
		{ "erin", 70005, hash_y, FX_SECRET, IAM_TOTP_SHA1, 6, false },
		{ "frank", 70006, hash_s, FX_SECRET, IAM_TOTP_SHA1, 6, false },
		{ "gina", 70007, hash_b, FX_SECRET, IAM_TOTP_SHA1, 6, false },
	};

	fx_identity_release(&ident);
	fx_identity_init(&ident, users, 7, max_failed, lock_seconds);
	fx_host_publish(&host, &ident.id);
}

static void
setup(void)
{
	if (!fx_private_root())
		return;
	cr_assert_eq(iam_password_hash(FX_PASSWORD, IAM_HASH_YESCRYPT, &hash_y),
		     0);
	fx_host_init(&host);
	fx_host_conf(&host, NULL);
	fx_host_service(&host, "");
	/*
	 * IAM users resolve through nss_iam; only localuser is local.
	 * nss.db first: nss_iam keeps a missing one's answer for a second.
	 * erin: nss.db (and NSS) say 70099, the private snapshot 70005.
	 */
	publish(5, 900, NULL, NULL);
	ident.users[4].uid = 70099;
	fx_nss_publish(&ident.id);
	ident.users[4].uid = 70005;
	fx_nss_setup();
	ensure_passwd("localuser", 1500);
}

static void
teardown(void)
{
	if (!fx_private_root())
		return;
	fx_identity_release(&ident);
	fx_host_cleanup(&host);
	free(hash_y);
}

TestSuite(pam_auth, .init = setup, .fini = teardown, .timeout = 60);

static void
expect_prompts(const struct fx_conv *c, const char *user, bool code,
	       const char *last_msg)
{
	char want[128];
	size_t i = 0;

	snprintf(want, sizeof(want), P_PASS, user);
	cr_assert_geq(c->n_log, 1);
	cr_expect_str_eq(c->log[i], want);
	cr_expect_eq(c->styles[i], PAM_PROMPT_ECHO_OFF);
	i++;
	if (code) {
		cr_assert_gt(c->n_log, i);
		cr_expect_str_eq(c->log[i], P_CODE);
		cr_expect_eq(c->styles[i], PAM_PROMPT_ECHO_OFF);
		i++;
	}
	if (last_msg != NULL) {
		cr_assert_gt(c->n_log, i, "no message after the prompts");
		cr_expect_str_eq(c->log[i], last_msg);
		cr_expect_eq(c->styles[i], PAM_ERROR_MSG);
		i++;
	}
	cr_expect_eq(c->n_log, i, "unexpected extra prompt or message");
}

static struct iam_state
state_of(uint32_t uid)
{
	struct iam_state s;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(iam_state_read(host.state, uid, 0, &s), 0);
	return s;
}

static bool
trail_has(const char *needle)
{
	char *t = fx_slurp(host.trail);
	bool found = t != NULL && strstr(t, needle) != NULL;

	free(t);
	return found;
}

static int
login(const char *user, const char *pw, const char *code, struct fx_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->answers[0] = pw;
	c->answers[1] = code;
	c->n_answers = 2;
	return fx_auth(&host, user, c, 0, NULL);
}

Test(pam_auth, right_password_and_code_succeed)
{
	struct fx_conv c;
	char code[16], *t;

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	expect_prompts(&c, "alice", true, NULL);
	cr_expect_eq(state_of(70001).failures, 0);
	cr_expect_neq(state_of(70001).last_step, 0);
	t = fx_slurp(host.trail);
	cr_assert_not_null(t);
	cr_expect(strstr(t, "\"eventName\":\"Login\"") != NULL);
	cr_expect(strstr(t, "\"userName\":\"alice\"") != NULL);
	cr_expect(strstr(t, "arn:iam:iam::" FX_ACCOUNT ":user/alice") != NULL);
	cr_expect(strstr(t, "\"sourceIPAddress\":\"192.0.2.10\"") != NULL);
	cr_expect(strstr(t, "errorCode") == NULL);
	cr_expect(strstr(t, FX_PASSWORD) == NULL, "password in the trail");
	cr_expect(strstr(t, code) == NULL, "code in the trail");
	free(t);
}

Test(pam_auth, success_records_mfa_and_rhost_under_run_dir)
{
	struct iam_session_rec rec;
	struct fx_conv c;
	char code[16], key[96];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_assert_eq(iam_session_key(70001, "pts/7", key, sizeof(key)), 0);
	cr_assert_eq(iam_session_read(host.run, key, &rec, 0), 0);
	cr_expect_eq(rec.uid, 70001);
	cr_expect_str_eq(rec.rhost, "192.0.2.10");
	cr_expect(rec.mfa_time > time(NULL) - 60);
}

Test(pam_auth, wrong_password_still_asks_the_code)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", "wrong password", code, &c), PAM_AUTH_ERR);
	expect_prompts(&c, "alice", true, M_FAILED);
	cr_expect_eq(state_of(70001).failures, 1);
	cr_expect(trail_has("\"errorCode\":\"InvalidPassword\""));
	/* The right code with a wrong password was not consumed. */
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
}

Test(pam_auth, wrong_code_fails)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	code[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_AUTH_ERR);
	expect_prompts(&c, "alice", true, M_FAILED);
	cr_expect(trail_has("\"errorCode\":\"InvalidMFA\""));
	cr_expect_eq(state_of(70001).failures, 1);
}

Test(pam_auth, previous_and_next_step_inside_the_window)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA256, 8, -1, code);
	cr_assert_eq(login("bob", FX_PASSWORD, code, &c), PAM_SUCCESS);
	fx_code(FX_SECRET2, IAM_TOTP_SHA512, 7, 1, code);
	cr_assert_eq(login("carol", FX_PASSWORD, code, &c), PAM_SUCCESS);
}

Test(pam_auth, code_outside_the_window_fails)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 3, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_AUTH_ERR);
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, -3, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_AUTH_ERR);
}

Test(pam_auth, replayed_step_is_refused)
{
	struct fx_conv c;
	char code[16], prev[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, -1, prev);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_AUTH_ERR);
	expect_prompts(&c, "alice", true, M_FAILED);
	cr_expect(trail_has("\"errorCode\":\"MFAReplay\""));
	/* An earlier step, still inside the window, is refused too. */
	cr_assert_eq(login("alice", FX_PASSWORD, prev, &c), PAM_AUTH_ERR);
}

Test(pam_auth, one_prompt_takes_password_and_code_together)
{
	struct fx_conv c;
	char code[16], both[128];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_host_service(&host, "one_prompt");
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	snprintf(both, sizeof(both), "%s%s", FX_PASSWORD, code);
	memset(&c, 0, sizeof(c));
	c.answers[0] = both;
	c.n_answers = 1;
	cr_assert_eq(fx_auth(&host, "alice", &c, 0, NULL), PAM_SUCCESS);
	cr_assert_eq(c.n_log, 1);
	cr_expect_str_eq(c.log[0], "Password and verification code: ");
	/* A wrong code in the same answer fails. */
	snprintf(both, sizeof(both), "%s000000", FX_PASSWORD);
	memset(&c, 0, sizeof(c));
	c.answers[0] = both;
	c.n_answers = 1;
	cr_assert_eq(fx_auth(&host, "alice", &c, 0, NULL), PAM_AUTH_ERR);
}

Test(pam_auth, use_first_pass_takes_the_earlier_password)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	/* pam_unix asks first and leaves the password as PAM_AUTHTOK. */
	fx_host_service_pre(&host, "auth optional pam_unix.so", "use_first_pass");
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_assert_eq(c.n_log, 2);
	cr_expect_str_eq(c.log[0], "Password: ");
	cr_expect_str_eq(c.log[1], P_CODE);
	/* No earlier password: use_first_pass never asks, and fails. */
	fx_host_service(&host, "use_first_pass");
	memset(&c, 0, sizeof(c));
	cr_assert_neq(fx_auth(&host, "alice", &c, 0, NULL), PAM_SUCCESS);
	cr_expect_eq(c.n_log, 0);
}

Test(pam_auth, try_first_pass_asks_when_there_is_none)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_host_service(&host, "try_first_pass");
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	expect_prompts(&c, "alice", true, NULL);
}

/*
 * Under mfa = "optional" a user without a device gets the code prompt
 * too, so nothing tells who has one; the answer is ignored, whatever it
 * is (sshd's PasswordAuthentication answers it with the password).
 */
Test(pam_auth, user_without_a_device_gets_the_code_prompt_answer_ignored)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
	expect_prompts(&c, "dave", true, NULL);
	cr_assert_eq(login("dave", FX_PASSWORD, FX_PASSWORD, &c), PAM_SUCCESS);
	cr_assert_eq(login("dave", FX_PASSWORD, "000000", &c), PAM_SUCCESS);
	cr_assert_eq(login("dave", "wrong", "000000", &c), PAM_AUTH_ERR);
	expect_prompts(&c, "dave", true, M_FAILED);
	/* A client that answers the password prompt only (sudo -S). */
	memset(&c, 0, sizeof(c));
	c.answers[0] = FX_PASSWORD;
	c.n_answers = 1;
	c.fail_after = 1;
	cr_assert_eq(fx_auth(&host, "dave", &c, 0, NULL), PAM_SUCCESS);
	memset(&c, 0, sizeof(c));
	c.answers[0] = "wrong";
	c.n_answers = 1;
	c.fail_after = 1;
	cr_assert_eq(fx_auth(&host, "dave", &c, 0, NULL), PAM_AUTH_ERR);
	cr_expect(!trail_has("\"errorCode\":\"InvalidMFA\""));
}

Test(pam_auth, uniform_prompts_false_drops_the_code_prompt_without_device)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_host_conf(&host, "uniform_prompts = false;");
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
	expect_prompts(&c, "dave", false, NULL);
	cr_assert_eq(login("nosuchuser", "x", NULL, &c), PAM_USER_UNKNOWN);
	expect_prompts(&c, "nosuchuser", false, M_FAILED);
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	expect_prompts(&c, "alice", true, NULL);
}

/*
 * The transcript (every prompt and message, with its style) is the same
 * for an unknown name, an IAM user with a device and one without, with
 * a wrong password, under mfa = "optional" (the default).
 */
Test(pam_auth, transcripts_of_unknown_with_and_without_device_are_equal)
{
	const char *names[] = { "nosuchuser", "alice", "dave" };
	struct fx_conv c[3];

	FX_NEED_ROOT();
	for (int i = 0; i < 3; i++) {
		cr_assert_neq(login(names[i], "wrong", "123456", &c[i]),
			      PAM_SUCCESS);
		expect_prompts(&c[i], names[i], true, M_FAILED);
	}
	for (int i = 1; i < 3; i++) {
		cr_assert_eq(c[i].n_log, c[0].n_log);
		for (size_t j = 1; j < c[0].n_log; j++) {
			cr_expect_str_eq(c[i].log[j], c[0].log[j]);
			cr_expect_eq(c[i].styles[j], c[0].styles[j]);
		}
	}
}

/* A local name (/etc/passwd) is never prompted and never told a thing. */
Test(pam_auth, local_names_get_no_iam_prompt_and_no_message)
{
	const char *names[] = { "localuser", "root" };
	struct fx_conv c;

	FX_NEED_ROOT();
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(login(names[i], "x", "1", &c), PAM_USER_UNKNOWN);
		cr_expect_eq(c.n_log, 0, "%s: %s", names[i], c.log[0]);
	}
	fx_host_conf(&host, "mfa = \"required\";");
	cr_assert_eq(login("localuser", "x", "1", &c), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 0);
}

Test(pam_auth, mfa_required_not_enrolled_told_after_right_password_only)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	fx_host_conf(&host, "mfa = \"required\";");
	cr_assert_eq(login("dave", "wrong password", "123456", &c),
		     PAM_AUTH_ERR);
	expect_prompts(&c, "dave", true, M_FAILED);
	cr_assert_eq(login("dave", FX_PASSWORD, "123456", &c), PAM_AUTH_ERR);
	expect_prompts(&c, "dave", true,
		       "MFA is required for this account; ask an administrator "
		       "to enrol a device.");
	cr_expect(trail_has("\"errorCode\":\"MFANotEnrolled\""));
	/* A right password is not a guess: the counter keeps the one. */
	cr_expect_eq(state_of(70004).failures, 1);
}

Test(pam_auth, every_hash_kind_verifies)
{
	struct fx_conv c;
	char *hs = NULL, *hb = NULL, code[16];

	FX_NEED_ROOT();
	cr_assert_eq(iam_password_hash(FX_PASSWORD, IAM_HASH_SHA512CRYPT, &hs), 0);
	cr_assert_eq(iam_password_hash(FX_PASSWORD, IAM_HASH_BCRYPT, &hb), 0);
	cr_assert_eq(strncmp(hs, "$6$", 3), 0);
	cr_assert_eq(strncmp(hb, "$2b$", 4), 0);
	publish(5, 900, hs, hb);
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_expect_eq(login("alice", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_expect_eq(login("frank", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_expect_eq(login("gina", FX_PASSWORD, code, &c), PAM_SUCCESS);
	cr_expect_eq(login("frank", FX_PASSWORD "x", code, &c), PAM_AUTH_ERR);
	cr_expect_eq(login("gina", FX_PASSWORD "x", code, &c), PAM_AUTH_ERR);
	free(hs);
	free(hb);
}

static double
ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 +
		(double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

Test(pam_auth, one_mebibyte_answer_is_refused_unhashed)
{
	struct fx_conv c;
	struct timespec a;
	char *big = malloc(1 << 20);
	double big_ms = 1e9, normal_ms = 1e9, hash_ms;

	FX_NEED_ROOT();
	publish(100, 900, NULL, NULL);
	cr_assert_not_null(big);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	/* Best of three as well: the first hash of a process is cold. */
	hash_ms = 1e9;
	for (int i = 0; i < 3; i++) {
		double t;

		clock_gettime(CLOCK_MONOTONIC, &a);
		cr_assert_eq(iam_password_verify("wrong", hash_y), -EACCES);
		t = ms_since(&a);
		hash_ms = t < hash_ms ? t : hash_ms;
	}
	/* Best of three, against a normal wrong password in the same run. */
	for (int i = 0; i < 3; i++) {
		double t;

		clock_gettime(CLOCK_MONOTONIC, &a);
		cr_assert_eq(login("dave", big, NULL, &c), PAM_AUTH_ERR);
		t = ms_since(&a);
		big_ms = t < big_ms ? t : big_ms;
		clock_gettime(CLOCK_MONOTONIC, &a);
		cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
		t = ms_since(&a);
		normal_ms = t < normal_ms ? t : normal_ms;
	}
	/* Refused answers count like any other failure. */
	cr_expect_eq(state_of(70004).failures, 6);
	cr_expect_lt(big_ms, normal_ms - hash_ms / 2,
		     "1 MiB answer %.1f ms, normal %.1f ms, hash %.1f ms: hashed?",
		     big_ms, normal_ms, hash_ms);
	/* 513 bytes: refused too; 512 bytes: checked. */
	big[513] = '\0';
	cr_assert_eq(login("dave", big, NULL, &c), PAM_AUTH_ERR);
	free(big);
}

Test(pam_auth, lockout_after_n_failures_refuses_unchecked)
{
	struct fx_conv c;
	struct iam_state s1, s2;

	FX_NEED_ROOT();
	publish(3, 900, NULL, NULL);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	s1 = state_of(70004);
	cr_assert_eq(s1.failures, 3);
	cr_assert_neq(s1.lock_start, 0);
	cr_expect(trail_has("\"eventName\":\"Lockout\""));
	sleep(1);
	/* The right password while locked: refused, not even checked. */
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_MAXTRIES);
	expect_prompts(&c, "dave", true, M_FAILED);
	cr_expect(trail_has("\"errorCode\":\"AccountLocked\""));
	s2 = state_of(70004);
	cr_expect_eq(s2.lock_start, s1.lock_start, "the lock was extended");
	cr_expect_eq(s2.failures, 3);
}

Test(pam_auth, lockout_expires_after_lockout_seconds)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	publish(2, 2, NULL, NULL);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_MAXTRIES);
	sleep(3);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
	cr_expect_eq(state_of(70004).failures, 0);
	cr_expect_eq(state_of(70004).lock_start, 0);
}

Test(pam_auth, unlock_clears_a_lockout)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	publish(2, 900, NULL, NULL);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_MAXTRIES);
	cr_assert_eq(iam_state_unlock(host.state, 70004, 0), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
}

Test(pam_auth, success_resets_the_counter)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	cr_assert_eq(state_of(70004).failures, 2);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
	cr_assert_eq(state_of(70004).failures, 0);
}

Test(pam_auth, unknown_name_gets_the_prompts_of_a_known_one)
{
	struct fx_conv known, unknown;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("alice", "wrong", code, &known), PAM_AUTH_ERR);
	cr_assert_eq(login("nosuchuser", "wrong", code, &unknown),
		     PAM_USER_UNKNOWN);
	expect_prompts(&unknown, "nosuchuser", true, M_FAILED);
	cr_assert_eq(known.n_log, unknown.n_log);
	for (size_t i = 0; i < known.n_log; i++)
		cr_expect_eq(known.styles[i], unknown.styles[i]);
	cr_expect(trail_has("\"errorCode\":\"NoSuchUser\""));
	cr_expect(!trail_has("nosuchuser"), "unknown name in the trail");
}

/*
 * Break-glass: a client that answers only the password prompt (sudo -S
 * with one line) must not be stopped by the code prompt when the name is
 * not an IAM user; the stack goes on to pam_unix.  An IAM user gets no
 * such pass.
 */
Test(pam_auth, unanswered_code_prompt_leaves_local_names_to_pam_unix)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	memset(&c, 0, sizeof(c));
	c.answers[0] = "local-password";
	c.n_answers = 1;
	c.fail_after = 1;
	cr_assert_eq(fx_auth(&host, "nosuchuser", &c, 0, NULL), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 1, "only the password prompt was answered");
	memset(&c, 0, sizeof(c));
	c.answers[0] = FX_PASSWORD;
	c.n_answers = 1;
	c.fail_after = 1;
	cr_assert_eq(fx_auth(&host, "alice", &c, 0, NULL), PAM_CONV_ERR);
	cr_expect(!trail_has("\"userName\":\"alice\""), "no login recorded");
}

Test(pam_auth, mfa_required_asks_every_name_both)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	fx_host_conf(&host, "mfa = \"required\";");
	cr_assert_eq(login("nosuchuser", "x", "1", &c), PAM_USER_UNKNOWN);
	expect_prompts(&c, "nosuchuser", true, M_FAILED);
	cr_assert_eq(login("dave", "x", "1", &c), PAM_AUTH_ERR);
	expect_prompts(&c, "dave", true, M_FAILED);
}

/* nss.db says one uid, the private snapshot another: fail closed. */
Test(pam_auth, private_snapshot_disagreeing_with_nss_db_fails_closed)
{
	struct fx_conv c;
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	cr_assert_eq(login("erin", FX_PASSWORD, code, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	cr_expect(trail_has("\"errorCode\":\"Unavailable\""));
}

Test(pam_auth, silent_flag_shows_no_message)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	memset(&c, 0, sizeof(c));
	c.answers[0] = "wrong";
	c.n_answers = 1;
	cr_assert_eq(fx_auth(&host, "dave", &c, PAM_SILENT, NULL), PAM_AUTH_ERR);
	cr_assert_eq(c.n_log, 2);
	cr_expect_eq(c.styles[0], PAM_PROMPT_ECHO_OFF);
	cr_expect_eq(c.styles[1], PAM_PROMPT_ECHO_OFF);
}

Test(pam_auth, conversation_failure_is_conv_err)
{
	struct fx_conv c;
	int r;

	FX_NEED_ROOT();
	memset(&c, 0, sizeof(c));
	c.fail = true;
	r = fx_auth(&host, "dave", &c, 0, NULL);
	cr_assert_eq(r, PAM_CONV_ERR, "got %d (%s)", r, pam_strerror(NULL, r));
}

/* An IAM name fails closed; root and a local name are untouched. */
static void
expect_iam_refused_local_untouched(void)
{
	struct fx_conv c;

	cr_expect_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	cr_expect_eq(login("nosuchuser", "x", NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	cr_expect_eq(login("localuser", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 0);
	cr_expect_eq(login("root", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 0);
}

Test(pam_auth, unknown_argument_denies)
{
	FX_NEED_ROOT();
	fx_host_service(&host, "use_frist_pass");
	expect_iam_refused_local_untouched();
}

/*
 * Who is asking is decided before iam.conf is read: whatever state the
 * file is in, IAM names fail closed and local names go to pam_unix.
 */
Test(pam_auth, invalid_or_insecure_settings_deny)
{
	FX_NEED_ROOT();
	fx_host_conf(&host, "no_such_setting = 1;");
	expect_iam_refused_local_untouched();
	fx_host_conf(&host, "mfa = ;");
	expect_iam_refused_local_untouched();
	fx_host_conf(&host, NULL);
	cr_assert_eq(chmod(host.conf, 0666), 0);
	expect_iam_refused_local_untouched();
	cr_assert_eq(chown(host.conf, 1500, 0), 0);
	cr_assert_eq(chmod(host.conf, 0644), 0);
	expect_iam_refused_local_untouched();
	cr_assert_eq(unlink(host.conf), 0);
	cr_assert_eq(mkdir(host.conf, 0755), 0);
	expect_iam_refused_local_untouched();
	cr_assert_eq(rmdir(host.conf), 0);
	cr_assert_eq(mkfifo(host.conf, 0644), 0);
	expect_iam_refused_local_untouched();
	cr_assert_eq(unlink(host.conf), 0);
	/* config= names a file that must exist. */
	expect_iam_refused_local_untouched();
}

Test(pam_auth, snapshot_missing_denies_iam_names_but_not_local_ones)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	cr_assert_eq(unlink(host.db), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	cr_expect(trail_has("\"errorCode\":\"Unavailable\""));
	cr_assert_eq(login("localuser", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_assert_eq(login("root", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 0);
}

/*
 * The public snapshot missing or corrupt: no name can be told to be an
 * IAM user; NSS uids outside uid_min-uid_max are local, the rest fail
 * closed, even with iam.conf unusable too (the built-in range).
 */
Test(pam_auth, public_snapshot_missing_or_corrupt_keeps_local_uids_local)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	fx_write(IAM_NSS_DB, "garbage", 7, 0644);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	cr_assert_eq(login("localuser", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_assert_eq(unlink(IAM_NSS_DB), 0);
	cr_assert_eq(login("nosuchuser", "x", NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(login("root", "x", NULL, &c), PAM_USER_UNKNOWN);
	fx_host_conf(&host, "no_such_setting = 1;");
	cr_assert_eq(login("root", "x", NULL, &c), PAM_USER_UNKNOWN);
	cr_expect_eq(c.n_log, 0);
	cr_assert_eq(login("dave", "x", NULL, &c), PAM_AUTHINFO_UNAVAIL);
}

Test(pam_auth, snapshot_symlink_insecure_or_corrupt_denies)
{
	struct fx_conv c;
	char moved[192], *data;
	struct stat st;

	FX_NEED_ROOT();
	snprintf(moved, sizeof(moved), "%s/real.db", host.auth);
	cr_assert_eq(rename(host.db, moved), 0);
	cr_assert_eq(symlink(moved, host.db), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(unlink(host.db), 0);
	cr_assert_eq(rename(moved, host.db), 0);

	cr_assert_eq(chmod(host.db, 0606), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(chmod(host.db, 0600), 0);
	cr_assert_eq(chmod(host.auth, 0777), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(chmod(host.auth, 0700), 0);

	cr_assert_eq(stat(host.db, &st), 0);
	cr_assert_eq(truncate(host.db, st.st_size / 2), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);

	/* One flipped byte in dave's record. */
	publish(5, 900, NULL, NULL);
	data = fx_slurp(host.db);
	cr_assert_not_null(data);
	{
		char *p = memmem(data, (size_t)st.st_size, "dave", 5);

		cr_assert_not_null(p);
		p[0] = 'D';
		fx_write(host.db, data, (size_t)st.st_size, 0600);
	}
	free(data);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(login("alice", FX_PASSWORD, "1", &c), PAM_AUTH_ERR);
}

Test(pam_auth, state_folder_missing_symlink_or_unwritable_denies)
{
	struct fx_conv c;
	char moved[192];

	FX_NEED_ROOT();
	snprintf(moved, sizeof(moved), "%s/state.real", host.root);
	cr_assert_eq(rename(host.state, moved), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_expect_eq(c.n_log, 0);
	/* Not created by the module. */
	cr_expect_eq(access(host.state, F_OK), -1);
	cr_assert_eq(symlink(moved, host.state), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(unlink(host.state), 0);
	cr_assert_eq(rename(moved, host.state), 0);
	cr_assert_eq(chmod(host.state, 0777), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(chmod(host.state, 0700), 0);
	/* Read-only: root cannot write either. */
	cr_assert_eq(mount("tmpfs", host.state, "tmpfs", MS_RDONLY, "mode=0700"),
		     0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(umount(host.state), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
}

Test(pam_auth, planted_state_symlink_is_refused_and_not_followed)
{
	struct fx_conv c;
	char link[192], target[192], *t;

	FX_NEED_ROOT();
	snprintf(target, sizeof(target), "%s/victim", host.root);
	fx_write(target, "keep me\n", 8, 0644);
	snprintf(link, sizeof(link), "%s/70004", host.state);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	t = fx_slurp(target);
	cr_expect_str_eq(t, "keep me\n");
	free(t);
	/* A state file of the wrong mode is refused too. */
	cr_assert_eq(unlink(link), 0);
	fx_write(link, "", 0, 0644);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
}

Test(pam_auth, unusable_trail_refuses_when_required)
{
	struct fx_conv c;

	FX_NEED_ROOT();
	cr_assert_eq(chmod(host.logdir, 0777), 0);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_AUTHINFO_UNAVAIL);
	fx_host_conf(&host, "trail_required = false;");
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
}

Test(pam_auth, concurrent_failures_are_all_counted)
{
	pid_t pids[20];

	FX_NEED_ROOT();
	publish(100, 900, NULL, NULL);
	for (int i = 0; i < 20; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct fx_conv c;

			_exit(login("dave", "wrong", NULL, &c) == PAM_AUTH_ERR ?
			      0 : 1);
		}
	}
	for (int i = 0; i < 20; i++) {
		int st;

		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cr_assert_eq(state_of(70004).failures, 20);
}

/*
 * pam_setcred alone (no authentication in this handle) through a stack
 * of pam_iam only.  libpam turns a stack whose every module answered
 * PAM_IGNORE into PAM_PERM_DENIED, which pam_iam's setcred never returns
 * itself.
 */
static int
setcred_of(const char *user)
{
	struct fx_conv c = { .n_answers = 0 };
	struct pam_conv conv = { fx_conv_fn, &c };
	pam_handle_t *pamh = NULL;
	int r;

	fx_load_libiam();
	cr_assert_eq(pam_start_confdir("iamtest", user, &conv, host.pamdir,
				       &pamh), PAM_SUCCESS);
	r = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	pam_end(pamh, PAM_SUCCESS);
	return r;
}

/*
 * sshd's privilege separation: authentication in a child, setcred in
 * the monitor.  An IAM user's setcred succeeds where authentication did
 * not run; a name that is not IAM is PAM_IGNORE; an IAM user while the
 * settings are unusable fails closed.
 */
Test(pam_auth, setcred_succeeds_for_iam_users_and_ignores_the_rest)
{
	FX_NEED_ROOT();
	cr_expect_eq(setcred_of("dave"), PAM_SUCCESS);
	cr_expect_eq(setcred_of("alice"), PAM_SUCCESS);
	cr_expect_eq(setcred_of("nosuchuser"), PAM_PERM_DENIED);
	cr_expect_eq(setcred_of("localuser"), PAM_PERM_DENIED);
	cr_expect_eq(setcred_of("root"), PAM_PERM_DENIED);
	fx_host_conf(&host, "no_such_setting = 1;");
	cr_expect_eq(setcred_of("dave"), PAM_CRED_UNAVAIL);
	cr_expect_eq(setcred_of("root"), PAM_PERM_DENIED);
}

/*
 * A login refused because the trail cannot record it leaves nothing
 * behind that vouches for it: no credentials, no MFA for the account
 * phase, whatever a later module of the stack decides.
 */
Test(pam_auth, login_refused_for_the_trail_leaves_no_credentials)
{
	struct fx_conv c = { .answers = { FX_PASSWORD }, .n_answers = 1 };
	struct pam_conv conv = { fx_conv_fn, &c };
	pam_handle_t *pamh = NULL;

	FX_NEED_ROOT();
	fx_load_libiam();
	cr_assert_eq(chmod(host.logdir, 0777), 0);
	cr_assert_eq(pam_start_confdir("iamtest", "dave", &conv, host.pamdir,
				       &pamh), PAM_SUCCESS);
	cr_assert_eq(pam_authenticate(pamh, 0), PAM_AUTHINFO_UNAVAIL);
	pam_end(pamh, PAM_SUCCESS);
}

Test(pam_auth, module_exports_only_pam_sm_symbols)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s/pam_iam.so | "
		 "awk '{print $3}' | grep -v '^pam_sm_' | grep -v '^$' | "
		 "grep -q .", BUILD_DIR);
	cr_assert_neq(system(cmd), 0, "pam_iam.so exports more than pam_sm_*");
}

/* ---- sshd: a proven IAM key stands in for the password ------------------ */

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+1AR/oTOBKgVLVRHSbGqcaXcVOCDZJTTDOea2v08lk"
#define OTHER_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2hrqcIJ75mdPqApuWEe2yXq8yxXDLVVpkRmCxjSCoL"

/* keys.db with alice's one key, and a service named sshd. */
static void
sshd_setup(void)
{
	struct iam_ssh_key k = { "laptop", ALICE_KEY " alice@laptop", 0, true };
	struct iam_user u = { .name = "alice", .uid = 70001,
			      .ssh_keys = &k, .n_ssh_keys = 1 };
	struct iam_identity id = { .users = &u, .n_users = 1 };
	struct iam_buf b = IAM_BUF_INIT;
	char path[256], text[1024];
	int n;

	k.created = (int64_t)time(NULL) - 86400;
	cr_assert_eq(iam_keysdb_build(&id, 1, &b), 0);
	snprintf(path, sizeof(path), "%s/keys.db", host.snap);
	fx_write(path, b.buf, b.len, 0644);
	iam_buf_release(&b);
	snprintf(path, sizeof(path), "%s/sshd", host.pamdir);
	n = snprintf(text, sizeof(text), "auth required %s/pam_iam.so config=%s\n",
		     BUILD_DIR, host.conf);
	fx_write(path, text, (size_t)n, 0644);
}

/* Authenticate user through service with SSH_AUTH_INFO_0 set to info. */
static int
sshd_auth(const char *service, const char *user, const char *info,
	  struct fx_conv *c)
{
	struct pam_conv conv = { fx_conv_fn, c };
	pam_handle_t *pamh = NULL;
	char env[512];
	int r;

	cr_assert_eq(pam_start_confdir(service, user, &conv, host.pamdir, &pamh),
		     PAM_SUCCESS);
	pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
	snprintf(env, sizeof(env), "SSH_AUTH_INFO_0=%s", info);
	cr_assert_eq(pam_putenv(pamh, env), PAM_SUCCESS);
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	return r;
}

Test(pam_auth, sshd_after_the_users_own_key_asks_only_the_code)
{
	struct fx_conv c = { .n_answers = 1 };
	char code[16];

	FX_NEED_ROOT();
	sshd_setup();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	c.answers[0] = code;
	cr_assert_eq(sshd_auth("sshd", "alice", "publickey " ALICE_KEY "\n", &c),
		     PAM_SUCCESS);
	cr_assert_eq(c.n_log, 1, "one prompt only");
	cr_expect_str_eq(c.log[0], "Verification code: ");
}

Test(pam_auth, another_key_or_another_service_still_needs_the_password)
{
	struct fx_conv c;
	char code[16];
	int r;

	FX_NEED_ROOT();
	sshd_setup();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	/* A key that is not alice's: the environment alone vouches for nothing. */
	memset(&c, 0, sizeof(c));
	c.answers[0] = code;
	c.n_answers = 1;
	r = sshd_auth("sshd", "alice", "publickey " OTHER_KEY "\n", &c);
	cr_assert_eq(r, PAM_AUTH_ERR, "the code was taken as the password: "
		     "%s", pam_strerror(NULL, r));
	cr_expect(strncmp(c.log[0], "Password", 8) == 0, "%s", c.log[0]);
	cr_expect_str_eq(c.log[1], "Verification code: ");
	/* Not sshd: SSH_AUTH_INFO_0 means nothing. */
	memset(&c, 0, sizeof(c));
	c.answers[0] = code;
	c.n_answers = 1;
	cr_assert_eq(sshd_auth("iamtest", "alice", "publickey " ALICE_KEY "\n",
			       &c), PAM_AUTH_ERR);
	cr_expect(strncmp(c.log[0], "Password", 8) == 0, "%s", c.log[0]);
	/* No key step at all. */
	memset(&c, 0, sizeof(c));
	c.answers[0] = code;
	c.n_answers = 1;
	cr_assert_eq(sshd_auth("sshd", "alice", "password\n", &c), PAM_AUTH_ERR);
	cr_expect(strncmp(c.log[0], "Password", 8) == 0, "%s", c.log[0]);
}

/* Lockout off: a failure makes the next try wait; nothing ever locks. */
Test(pam_auth, lockout_off_delays_the_next_try_after_a_failure)
{
	struct fx_conv c;
	struct iam_state s;

	FX_NEED_ROOT();
	publish(0, 900, NULL, NULL);
	cr_assert_eq(login("dave", "wrong", NULL, &c), PAM_AUTH_ERR);
	s = state_of(70004);
	/* At once: the right password is refused without being checked. */
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_MAXTRIES);
	expect_prompts(&c, "dave", true, M_FAILED);
	cr_expect_eq(state_of(70004).failures, s.failures, "counted");
	cr_expect_eq(state_of(70004).lock_start, 0);
	sleep(IAM_LOCKOUT_DELAY);
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
	/* After a success there is no delay. */
	cr_assert_eq(login("dave", FX_PASSWORD, NULL, &c), PAM_SUCCESS);
}

/* ---- The fail delay: the same for every failure of a non-local name ---- */

static unsigned int delay_usec;
static int delay_calls;

static void
record_delay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)appdata;
	delay_usec = usec;
	delay_calls++;
}

/*
 * One authentication with PAM_FAIL_DELAY set: libpam then hands the
 * delay to record_delay instead of sleeping.  It spreads the largest
 * delay requested over base/2 to 3*base/2 (pam_delay.c), so a request of
 * 2 s is seen as 1-3 s, and none at all as 0.
 */
static int
auth_delay(const char *user, const char *pw, const char *code)
{
	struct fx_conv c = { .answers = { pw, code }, .n_answers = 2 };
	struct pam_conv conv = { fx_conv_fn, &c };
	void (*fn)(int, unsigned int, void *) = record_delay;
	pam_handle_t *pamh = NULL;
	int r;

	fx_load_libiam();
	delay_usec = 0;
	delay_calls = 0;
	cr_assert_eq(pam_start_confdir("iamtest", user, &conv, host.pamdir,
				       &pamh), PAM_SUCCESS);
	cr_assert_eq(pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)fn),
		     PAM_SUCCESS);
	r = pam_authenticate(pamh, 0);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

Test(pam_auth, every_failure_requests_pam_unix_delay)
{
	char code[16], bad[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	memcpy(bad, code, sizeof(bad));
	bad[0] = bad[0] == '9' ? '0' : (char)(bad[0] + 1);

	cr_assert_eq(auth_delay("alice", "wrong password", code), PAM_AUTH_ERR);
	cr_expect_eq(delay_calls, 1, "no delay for a wrong password");
	cr_expect(delay_usec >= 1000000 && delay_usec <= 3000000,
		  "wrong password: %u us", delay_usec);

	cr_assert_eq(auth_delay("alice", FX_PASSWORD, bad), PAM_AUTH_ERR);
	cr_expect_eq(delay_calls, 1, "no delay for a wrong code");
	cr_expect(delay_usec >= 1000000 && delay_usec <= 3000000,
		  "wrong code: %u us", delay_usec);

	cr_assert_eq(auth_delay("nosuchuser", "whatever", "123456"),
		     PAM_USER_UNKNOWN);
	cr_expect_eq(delay_calls, 1, "no delay for an unknown name");
	cr_expect(delay_usec >= 1000000 && delay_usec <= 3000000,
		  "unknown name: %u us", delay_usec);

	/* Not on a success; a local name is pam_unix's to delay. */
	cr_assert_eq(auth_delay("alice", FX_PASSWORD, code), PAM_SUCCESS);
	cr_expect_eq(delay_usec, 0, "a success: %u us", delay_usec);
	/* libpam calls back on any failure; nothing requested is 0. */
	auth_delay("localuser", "whatever", "123456");
	cr_expect_eq(delay_usec, 0, "a local name: %u us", delay_usec);
}

Test(pam_auth, nodelay_requests_no_delay)
{
	char code[16];

	FX_NEED_ROOT();
	fx_step_margin();
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, code);
	fx_host_service(&host, "nodelay");
	cr_assert_eq(auth_delay("alice", "wrong password", code), PAM_AUTH_ERR);
	cr_expect_eq(delay_usec, 0, "nodelay: %u us", delay_usec);
	cr_assert_eq(auth_delay("nosuchuser", "whatever", "123456"),
		     PAM_USER_UNKNOWN);
	cr_expect_eq(delay_usec, 0, "nodelay, unknown name: %u us", delay_usec);
}

Test(pam_auth, any_device_passes_replay_per_device_recovery_code_once)
{
	struct iam_mfa phone = { .secret = (char *)FX_SECRET2,
				 .algorithm = IAM_TOTP_SHA1, .digits = 6,
				 .period = 30, .name = (char *)"phone" };
	char *rc[1] = { NULL };
	char c1[16], c2[16];
	struct fx_conv c;

	FX_NEED_ROOT();
	fx_step_margin();
	cr_assert_eq(iam_recovery_hash("ABCD-EFGH-IJKL-MNOP", &rc[0]), 0);
	ident.users[0].mfa_devices = &phone;
	ident.users[0].n_mfa_devices = 1;
	ident.users[0].recovery_codes = rc;
	ident.users[0].n_recovery_codes = 1;
	fx_host_publish(&host, &ident.id);
	ident.users[0].mfa_devices = NULL;
	ident.users[0].n_mfa_devices = 0;
	ident.users[0].recovery_codes = NULL;
	ident.users[0].n_recovery_codes = 0;
	fx_code(FX_SECRET, IAM_TOTP_SHA1, 6, 0, c1);
	fx_code(FX_SECRET2, IAM_TOTP_SHA1, 6, 0, c2);
	/* Device default, then phone of the same step: both pass. */
	cr_expect_eq(login("alice", FX_PASSWORD, c1, &c), PAM_SUCCESS);
	cr_expect_eq(login("alice", FX_PASSWORD, c2, &c), PAM_SUCCESS,
		     "a code of the second device");
	/* Each again: refused, each for its own device. */
	cr_expect_eq(login("alice", FX_PASSWORD, c1, &c), PAM_AUTH_ERR);
	expect_prompts(&c, "alice", true, M_FAILED);
	cr_expect_eq(login("alice", FX_PASSWORD, c2, &c), PAM_AUTH_ERR);
	cr_expect(trail_has("\"errorCode\":\"MFAReplay\""));
	/* A recovery code at the code prompt, once. */
	cr_expect_eq(login("alice", FX_PASSWORD, "abcd efgh ijkl mnop", &c),
		     PAM_SUCCESS);
	cr_expect(trail_has("\"eventName\":\"MFARecoveryCodeUsed\""));
	cr_expect(trail_has("\"recoveryCodesLeft\":\"0\""));
	cr_expect_eq(login("alice", FX_PASSWORD, "ABCD-EFGH-IJKL-MNOP", &c),
		     PAM_AUTH_ERR, "a used recovery code");
	/* A recovery code does not stand in for the password. */
	cr_expect_eq(login("alice", "wrong-password", "ABCD-EFGH-IJKL-MNOP",
			   &c), PAM_AUTH_ERR);
	free(rc[0]);
}
