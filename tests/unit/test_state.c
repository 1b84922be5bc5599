/*
 * test_state.c - runtime state per uid: creation, round trip, locking,
 * lockout arithmetic, refusal of symlinks, wrong modes, missing folders.
 */
#include <sys/wait.h>

#include "fixtures.h"

static char dir[64];

static void
setup(void)
{
	fx_tmpdir(dir, sizeof(dir), "state", 0700);
}

static void
teardown(void)
{
	fx_rmtree(dir);
}

TestSuite(state, .init = setup, .fini = teardown);

Test(state, created_0600_and_round_trips)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s, t;
	struct stat st;
	char path[128];

	cr_expect_eq(iam_state_read(dir, 70001, fx_strict_flags(), &s), -ENOENT);
	cr_assert_eq(iam_state_open(dir, 70001, fx_strict_flags(), &h, &s), 0);
	cr_expect_eq(s.failures, 0);
	s.failures = 3;
	s.lock_start = 1700000000;
	s.last_step = 56666666;
	s.last_login = 1690000000;
	s.last_failure = 1700000001;
	cr_assert_eq(iam_state_save(h, &s), 0);
	h = iam_state_close(h);
	cr_assert_eq(iam_state_read(dir, 70001, fx_strict_flags(), &t), 0);
	cr_expect_eq(memcmp(&s, &t, sizeof(s)), 0);
	snprintf(path, sizeof(path), "%s/70001", dir);
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_expect_null(iam_state_close(NULL));
}

Test(state, lockout_arithmetic)
{
	struct iam_lockout lk = { 3, 900 }, off = { 0, 900 };
	struct iam_state s = { .failures = 3, .lock_start = 1000 };

	cr_expect(iam_state_locked(&s, &lk, 1000));
	cr_expect(iam_state_locked(&s, &lk, 1899));
	cr_expect(!iam_state_locked(&s, &lk, 1900));
	cr_expect(!iam_state_locked(&s, &off, 1000));
	/* The clock went back: still locked, but not frozen for a day. */
	cr_expect(iam_state_locked(&s, &lk, 500));
	cr_expect(!iam_state_locked(&s, &lk, 1000 - 86400));
	s.lock_start = 0;
	cr_expect(!iam_state_locked(&s, &lk, 1000));
}

Test(state, unlock_clears_and_keeps_the_step)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s;

	cr_expect_eq(iam_state_unlock(dir, 70002, fx_strict_flags()), -ENOENT);
	cr_assert_eq(iam_state_open(dir, 70002, fx_strict_flags(), &h, &s), 0);
	s.failures = 9;
	s.lock_start = 5;
	s.last_step = 77;
	cr_assert_eq(iam_state_save(h, &s), 0);
	iam_state_close(h);
	cr_assert_eq(iam_state_unlock(dir, 70002, fx_strict_flags()), 0);
	cr_assert_eq(iam_state_read(dir, 70002, fx_strict_flags(), &s), 0);
	cr_expect_eq(s.failures, 0);
	cr_expect_eq(s.lock_start, 0);
	cr_expect_eq(s.last_step, 77, "unlock must not allow a replay");
}

Test(state, symlink_hardlink_and_wrong_mode_are_refused)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s;
	char path[128], target[128], *t;

	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(path, sizeof(path), "%s/70003", dir);
	fx_write(target, "precious\n", 9, 0600);
	cr_assert_eq(symlink(target, path), 0);
	cr_expect_eq(iam_state_open(dir, 70003, fx_strict_flags(), &h, &s), -ELOOP);
	t = fx_slurp(target);
	cr_expect_str_eq(t, "precious\n");
	free(t);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(link(target, path), 0);
	cr_expect_eq(iam_state_open(dir, 70003, fx_strict_flags(), &h, &s), -EPERM);
	cr_assert_eq(unlink(path), 0);
	fx_write(path, "", 0, 0644);
	cr_expect_eq(iam_state_open(dir, 70003, fx_strict_flags(), &h, &s), -EPERM);
	cr_assert_eq(unlink(path), 0);
	fx_write(path, "garbage\n", 8, 0600);
	cr_expect_eq(iam_state_open(dir, 70003, fx_strict_flags(), &h, &s), -EBADMSG);
	cr_expect_null(h);
}

Test(state, folder_missing_or_open_to_others_is_refused)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s;
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/none", dir);
	cr_expect_eq(iam_state_open(missing, 1, fx_strict_flags(), &h, &s), -ENOENT);
	cr_expect_eq(access(missing, F_OK), -1, "state_dir was created");
	cr_expect_eq(iam_state_dir_check(missing, fx_strict_flags()), -ENOENT);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(iam_state_open(dir, 1, fx_strict_flags(), &h, &s), -EPERM);
	cr_expect_eq(iam_state_dir_check(dir, fx_strict_flags()), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_expect_eq(iam_state_dir_check(dir, fx_strict_flags()), 0);
}

Test(state, concurrent_writers_never_lose_a_count)
{
	struct iam_state s;

	for (int i = 0; i < 16; i++) {
		if (fork() == 0) {
			struct iam_state_handle *h = NULL;
			struct iam_state x;

			if (iam_state_open(dir, 70004, fx_strict_flags(), &h, &x) != 0)
				_exit(1);
			x.failures++;
			usleep(2000);
			_exit(iam_state_save(h, &x) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 16; i++) {
		int st;

		cr_assert_neq(wait(&st), -1);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cr_assert_eq(iam_state_read(dir, 70004, fx_strict_flags(), &s), 0);
	cr_expect_eq(s.failures, 16);
}

/* ---- The lockout routine ----------------------------------------------- */

static struct iam_state
read_state_of(uint32_t uid)
{
	struct iam_state s;

	cr_assert_eq(iam_state_read(dir, uid, fx_strict_flags(), &s), 0);
	return s;
}

Test(state, lockout_counts_before_the_check_and_releases_the_lock)
{
	struct iam_lockout lk = { 5, 900 };
	struct iam_lockout_try t;
	pid_t pid;
	int st;

	cr_assert_eq(iam_lockout_begin(dir, 70010, fx_strict_flags(), &lk, 1000, &t), 0);
	/* Counted and saved: a check killed now still counts. */
	cr_expect_eq(t.counted.failures, 1);
	cr_expect_eq(read_state_of(70010).failures, 1);
	cr_expect_eq(read_state_of(70010).last_failure, 1000);
	/* Released: another check of this user proceeds meanwhile. */
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct iam_lockout_try u;

		alarm(5);
		_exit(iam_lockout_begin(dir, 70010, fx_strict_flags(), &lk, 1000, &u) == 0 &&
		      u.counted.failures == 2 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the state stayed locked during the check");
	cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_OK, 42, NULL), 0);
	cr_expect_eq(read_state_of(70010).failures, 0);
	cr_expect_eq(read_state_of(70010).last_step, 42);
	cr_expect_eq(read_state_of(70010).last_login, 1000);
	cr_expect_eq(read_state_of(70010).last_failure, 0);
}

Test(state, lockout_refuses_unchecked_and_never_extends)
{
	struct iam_lockout lk = { 3, 900 };
	struct iam_lockout_try t;
	bool locked;
	int started = 0;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(iam_lockout_begin(dir, 70011, fx_strict_flags(), &lk, 1000 + i,
					       &t), 0);
		locked = false;
		cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_FAILED, 0,
						&locked), 0);
		started += locked;
	}
	cr_expect_eq(started, 1, "one Lockout, by the failure at the limit");
	cr_expect_eq(read_state_of(70011).lock_start, 1002);
	/* While locked: refused, not counted, the lock not moved. */
	for (int64_t now = 1003; now < 1902; now += 100) {
		cr_expect_eq(iam_lockout_begin(dir, 70011, fx_strict_flags(), &lk, now, &t),
			     -EBUSY);
		cr_expect_eq(read_state_of(70011).failures, 3);
		cr_expect_eq(read_state_of(70011).lock_start, 1002);
	}
	/* lockout_seconds after the failure that locked: a fresh count. */
	cr_assert_eq(iam_lockout_begin(dir, 70011, fx_strict_flags(), &lk, 1902, &t), 0);
	cr_expect_eq(t.counted.failures, 1);
	cr_expect_eq(t.counted.lock_start, 0);
}

Test(state, lockout_off_delays_the_next_check_after_a_failure)
{
	struct iam_lockout off = { 0, 900 };
	struct iam_lockout_try t;

	for (int i = 0; i < 30; i++) {
		int64_t now = 1000 + i * IAM_LOCKOUT_DELAY;

		cr_assert_eq(iam_lockout_begin(dir, 70012, fx_strict_flags(), &off, now,
					       &t), 0, "try %d", i);
		cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_FAILED, 0,
						NULL), 0);
		/* Within the delay: refused unchecked, not counted. */
		for (int64_t d = 0; d < IAM_LOCKOUT_DELAY; d++)
			cr_expect_eq(iam_lockout_begin(dir, 70012, fx_strict_flags(), &off,
						       now + d, &t), -EAGAIN);
		cr_expect_eq(read_state_of(70012).failures, (uint32_t)i + 1);
	}
	cr_expect_eq(read_state_of(70012).lock_start, 0, "off never locks");
	cr_expect_geq(IAM_LOCKOUT_DELAY, 3, "at least 2 s of real time");
	/* A success ends the delay. */
	cr_assert_eq(iam_lockout_begin(dir, 70012, fx_strict_flags(), &off, 2000, &t), 0);
	cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_OK, 0, NULL), 0);
	cr_expect_eq(iam_lockout_begin(dir, 70012, fx_strict_flags(), &off, 2000, &t), 0);
	/* With lockout on there is no delay. */
	{
		struct iam_lockout on = { 5, 900 };

		cr_expect_eq(iam_lockout_begin(dir, 70012, fx_strict_flags(), &on, 2000,
					       &t), 0);
	}
}

Test(state, lockout_settle_replay_and_take_back)
{
	struct iam_lockout lk = { 2, 900 };
	struct iam_lockout_try t, u;
	bool locked = false;

	/* Two checks at once take the same step: the second is a replay. */
	cr_assert_eq(iam_lockout_begin(dir, 70013, fx_strict_flags(), &lk, 1000, &t), 0);
	cr_assert_eq(iam_lockout_begin(dir, 70013, fx_strict_flags(), &lk, 1000, &u), 0);
	cr_expect_eq(u.counted.lock_start, 1000, "the second reached 2");
	cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_OK, 50, NULL), 0);
	cr_expect_eq(iam_lockout_settle(&u, IAM_LOCKOUT_OK, 50, &locked),
		     -EALREADY);
	cr_expect(locked, "the replay reached the limit: one Lockout");
	cr_expect_eq(read_state_of(70013).last_step, 50);
	/* A right password without its device takes its count back. */
	cr_assert_eq(iam_state_unlock(dir, 70013, fx_strict_flags()), 0);
	cr_assert_eq(iam_lockout_begin(dir, 70013, fx_strict_flags(), &lk, 2000, &t), 0);
	cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_FAILED, 0, NULL), 0);
	cr_assert_eq(iam_lockout_begin(dir, 70013, fx_strict_flags(), &lk, 2001, &t), 0);
	cr_expect_eq(t.counted.lock_start, 2001);
	cr_assert_eq(iam_lockout_settle(&t, IAM_LOCKOUT_UNCOUNTED, 0, &locked),
		     0);
	cr_expect(!locked);
	cr_expect_eq(read_state_of(70013).failures, 1);
	cr_expect_eq(read_state_of(70013).lock_start, 0, "its lock goes too");
	cr_expect_eq(read_state_of(70013).last_failure, 2000);
}

Test(state, lockout_with_an_unusable_state_refuses)
{
	struct iam_lockout lk = { 5, 900 };
	struct iam_lockout_try t;
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/none", dir);
	cr_expect_eq(iam_lockout_begin(missing, 1, fx_strict_flags(), &lk, 1000, &t),
		     -ENOENT);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(iam_lockout_begin(dir, 1, fx_strict_flags(), &lk, 1000, &t), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
}

/* A setuid caller's group (its effective gid) never owns a state file. */
Test(state, created_root_root_whatever_the_callers_group)
{
	struct iam_lockout lk = { 5, 900 };
	struct iam_lockout_try t;
	struct stat st;
	char path[128];

	FX_NEED_ROOT();
	cr_assert_eq(setegid(70100), 0);
	cr_expect_eq(iam_lockout_begin(dir, 70014, fx_strict_flags(), &lk, 1000, &t), 0);
	cr_assert_eq(setegid(0), 0);
	snprintf(path, sizeof(path), "%s/70014", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_uid, 0);
	cr_expect_eq(st.st_gid, 0, "group %u", (unsigned)st.st_gid);
	cr_expect_eq(st.st_mode & 07777, 0600);
}
