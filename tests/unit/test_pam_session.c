/*
 * test_pam_session.c - pam_sm_open_session / pam_sm_close_session: the
 * SessionOpen and SessionClose events, the session's length, and the
 * run_dir record of a login that did not authenticate here.
 */
#include "pam_phase_fixture.h"

static void
setup(void)
{
	if (!t_private_root())
		return;
	f_nss_setup();
	f_reset(NULL);
	f_services(NULL);
	f_publish_simple();
}

TestSuite(session, .init = setup, .timeout = 60);

static pam_handle_t *
start(const char *user, struct t_conv *c, struct pam_conv *conv)
{
	struct f_run o = { .rhost = "192.0.2.9", .tty = "pts/4" };

	return f_start(user, c, &o, conv);
}

Test(session, open_and_close_write_both_events_with_the_length)
{
	struct t_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char *line;

	T_NEED_ROOT();
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	line = f_trail_last();
	cr_assert(strstr(line, "\"eventName\":\"SessionOpen\""), "%s", line);
	cr_assert(strstr(line, "\"sourceIPAddress\":\"192.0.2.9\""), "%s",
		  line);
	cr_assert(strstr(line, "\"service\":\"iamtest\""), "%s", line);
	cr_assert(strstr(line, "\"tty\":\"pts/4\""), "%s", line);
	free(line);
	sleep(2);
	cr_assert_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	line = f_trail_last();
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
	struct t_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96];

	T_NEED_ROOT();
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
	struct t_conv c = { .answers = { F_OLDPW }, .n_answers = 1 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96];

	T_NEED_ROOT();
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
	cr_assert_eq(f_trail_count("\"SessionOpen\"", "alice"), 1);
	cr_assert_eq(f_trail_count("\"SessionClose\"", "alice"), 1);
}

Test(session, local_user_is_not_recorded)
{
	struct t_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;

	T_NEED_ROOT();
	pamh = start("root", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_USER_UNKNOWN);
	cr_assert_eq(pam_close_session(pamh, 0), PAM_USER_UNKNOWN);
	pam_end(pamh, PAM_SUCCESS);
	cr_assert_eq(f_trail_count("Session", NULL), 0);
}

Test(session, unusable_run_dir_refuses_the_session)
{
	struct t_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;

	T_NEED_ROOT();
	t_mkdir("/run/iam", 0777);
	pamh = start("alice", &c, &conv);
	cr_assert_eq(pam_open_session(pamh, 0), PAM_SESSION_ERR);
	pam_end(pamh, PAM_SESSION_ERR);
	cr_assert_eq(f_trail_count("\"SessionOpen\"",
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
	struct t_conv c = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh;
	char key[96], hkey[96];
	int64_t now = (int64_t)time(NULL);

	T_NEED_ROOT();
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
