/*
 * test_pam_session.c - pam_sm_open_session / pam_sm_close_session: the
 * SessionOpen and SessionClose events, the session's length, and the
 * run_dir record of a login that did not authenticate here.
 */
#include "fixtures.h"

static void
setup(void)
{
	if (!fx_private_root())
		return;
	fx_phase_nss_setup();
	fx_reset(NULL);
	fx_services(NULL);
	fx_publish_simple();
}

TestSuite(session, .init = setup, .timeout = 60);

static pam_handle_t *
start(const char *user, struct fx_conv *c, struct pam_conv *conv)
{
	struct fx_run o = { .rhost = "192.0.2.9", .tty = "pts/4" };

	return fx_start(user, c, &o, conv);
}

Test(session, open_and_close_write_both_events_with_the_length)
{
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char *line;

	FX_NEED_ROOT();
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	line = fx_trail_last();
	cr_assert(strstr(line, "\"eventName\":\"SessionOpen\""), "%s", line);
	cr_assert(strstr(line, "\"sourceIPAddress\":\"192.0.2.9\""), "%s",
		  line);
	cr_assert(strstr(line, "\"service\":\"iamtest\""), "%s", line);
	cr_assert(strstr(line, "\"tty\":\"pts/4\""), "%s", line);
	free(line);
	sleep(2);
	cr_assert_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	line = fx_trail_last();
	cr_assert(strstr(line, "\"eventName\":\"SessionClose\""), "%s", line);
	cr_assert(strstr(line, "\"sourceIPAddress\":\"192.0.2.9\""), "%s",
		  line);
	cr_assert(strstr(line, "\"sessionSeconds\":\"2\"") ||
		  strstr(line, "\"sessionSeconds\":\"3\""), "%s", line);
	cr_assert(strstr(line, "\"sessionOpened\":\""), "%s", line);
	free(line);
	cr_assert_eq(c.n_log, 0, "sessions say nothing");
}

Test(session, key_login_records_its_source_address)
{
	struct iam_session_rec stale = { .mfa_time = 0, .uid = 70001 };
	struct iam_session_rec rec;
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96];

	FX_NEED_ROOT();
	/* An earlier session under the same key passed MFA elsewhere. */
	stale.mfa_time = (int64_t)time(NULL) - 10;
	strcpy(stale.rhost, "10.9.9.9");
	cr_assert_eq(iam_session_key(70001, "pts/4", key, sizeof(key)), 0);
	cr_assert_eq(iam_session_write("/run/iam", key, &stale, 0), 0);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_eq(rec.uid, 70001);
	cr_assert_str_eq(rec.rhost, "192.0.2.9");
	cr_assert_eq(rec.mfa_time, 0, "a key login never inherits MFA");
}

Test(session, authenticated_session_records_under_the_current_key)
{
	struct iam_session_rec rec;
	struct fx_conv c = { .answers = { FX_OLDPW }, .n_answers = 1 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96];

	FX_NEED_ROOT();
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	cr_assert_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	/*
	 * The session phase records the login under the session's key as it
	 * is now (pam_loginuid may have changed it since auth), carrying
	 * the MFA time auth saw: none here, a password-only login.
	 */
	cr_assert_eq(iam_session_key(70001, "pts/4", key, sizeof(key)), 0);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_eq(rec.uid, 70001);
	cr_assert_eq(rec.mfa_time, 0);
	cr_assert_eq(fx_trail_count("\"SessionOpen\"", "alice"), 1);
	cr_assert_eq(fx_trail_count("\"SessionClose\"", "alice"), 1);
}

/*
 * A name that is not an IAM user (root, a local user, an unknown name,
 * sudo's run-as root) is PAM_IGNORE in both session calls, whatever
 * state iam.conf is in, and nothing is recorded.
 */
Test(session, names_that_are_not_iam_are_ignored)
{
	const char *names[] = { "root", "nobody", "nosuchuser" };
	struct fx_run o = { .service = "ignoreprobe", .rhost = "192.0.2.9" };
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;

	FX_NEED_ROOT();
	fx_service_ignore_probe();
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 3; i++) {
			pamh = fx_start(names[i], &c, &o, &conv);
			cr_expect_eq(pam_open_session(pamh, 0), PAM_SUCCESS,
				     "%s: not PAM_IGNORE", names[i]);
			cr_expect_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
			cr_expect_eq(pam_setcred(pamh, PAM_ESTABLISH_CRED),
				     PAM_SUCCESS);
			pam_end(pamh, PAM_SUCCESS);
		}
		/* A broken iam.conf changes nothing for them. */
		fx_write(FX_CONF, "no_such_setting = 1;\n", 21, 0666);
	}
	/* An IAM user is no PAM_IGNORE (pam_iam's answer dies in the probe). */
	pamh = fx_start("alice", &c, &o, &conv);
	cr_expect_neq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(fx_trail_count("Session", NULL), 0);
	cr_assert_eq(c.n_log, 0);
}

/*
 * The source address of the login session survives su, sudo and any
 * service without PAM_RHOST (or with one that is not an address); only
 * a new network login sets it.
 */
Test(session, source_address_survives_later_services_without_an_address)
{
	struct fx_run ssh = { .service = "iamtest", .rhost = "192.0.2.9",
			     .tty = "pts/4" };
	struct fx_run su = { .service = "iamtest", .tty = "pts/4" };
	struct fx_run named = { .service = "iamtest", .rhost = "evil.example",
			       .tty = "pts/4" };
	struct fx_run again = { .service = "iamtest", .rhost = "2001:db8::7",
			       .tty = "pts/4" };
	struct iam_session_rec rec;
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96];

	FX_NEED_ROOT();
	cr_assert_eq(iam_session_key(70001, "pts/4", key, sizeof(key)), 0);
	pamh = fx_start("alice", &c, &ssh, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_str_eq(rec.rhost, "192.0.2.9");
	pamh = fx_start("alice", &c, &su, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_expect_str_eq(rec.rhost, "192.0.2.9", "su erased the address");
	pamh = fx_start("alice", &c, &named, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_expect_str_eq(rec.rhost, "192.0.2.9", "a name replaced it");
	pamh = fx_start("alice", &c, &again, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_expect_str_eq(rec.rhost, "2001:db8::7");
}

Test(session, unusable_run_dir_refuses_the_session)
{
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;

	FX_NEED_ROOT();
	fx_mkdir("/run/iam", 0777);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SESSION_ERR);
	pam_end(pamh, PAM_SESSION_ERR);
	cr_assert_eq(fx_trail_count("\"SessionOpen\"",
				   "\"errorCode\":\"Unavailable\""), 1);
}

/*
 * sshd authenticates in a child: the child's hand-off record, left under
 * this process's hand-off key, carries the MFA time into the session
 * phase once; another user's hand-off, or an old one, never does.
 */
Test(session, sshd_child_hand_off_is_taken_once)
{
	struct iam_session_rec h = { .uid = 70001 }, rec;
	struct fx_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96], hkey[96];
	int64_t now = (int64_t)time(NULL);

	FX_NEED_ROOT();
	cr_assert_eq(iam_session_handoff_key(getpid(), hkey, sizeof(hkey)), 0);
	cr_assert_eq(hkey[0], 'p');
	cr_assert_eq(iam_session_key(70001, "pts/4", key, sizeof(key)), 0);

	h.mfa_time = now - 5;
	cr_assert_eq(iam_session_write("/run/iam", hkey, &h, 0), 0);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_eq(rec.mfa_time, now - 5);
	cr_assert_eq(iam_session_read("/run/iam", hkey, &h, 0), -ENOENT,
		     "the hand-off is taken once");

	/* Another user's hand-off, and a stale one, count for nothing. */
	h.uid = 70002;
	h.mfa_time = now - 5;
	cr_assert_eq(iam_session_write("/run/iam", hkey, &h, 0), 0);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_eq(rec.mfa_time, 0);
	h.uid = 70001;
	h.mfa_time = now - 3600;
	cr_assert_eq(iam_session_write("/run/iam", hkey, &h, 0), 0);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(iam_session_read("/run/iam", key, &rec, 0), 0);
	cr_assert_eq(rec.mfa_time, 0);
}
