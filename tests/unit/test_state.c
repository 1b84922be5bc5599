/*
 * test_state.c - runtime state per uid: creation, round trip, locking,
 * lockout arithmetic, refusal of symlinks, wrong modes, missing folders.
 */
#include <sys/wait.h>

#include "pam_test_helpers.h"

static char dir[64];

static int
fl(void)
{
	return geteuid() == 0 ? 0 : IAM_STRICT_ANY_OWNER;
}

static void
setup(void)
{
	strcpy(dir, "/tmp/iam-state.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0700), 0);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = setup, .fini = teardown);

Test(state, created_0600_and_round_trips)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s, t;
	struct stat st;
	char path[128];

	cr_expect_eq(iam_state_read(dir, 70001, fl(), &s), -ENOENT);
	cr_assert_eq(iam_state_open(dir, 70001, fl(), &h, &s), 0);
	cr_expect_eq(s.failures, 0);
	s.failures = 3;
	s.lock_start = 1700000000;
	s.last_step = 56666666;
	s.last_login = 1690000000;
	s.last_failure = 1700000001;
	cr_assert_eq(iam_state_save(h, &s), 0);
	h = iam_state_close(h);
	cr_assert_eq(iam_state_read(dir, 70001, fl(), &t), 0);
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

	cr_expect_eq(iam_state_unlock(dir, 70002, fl()), -ENOENT);
	cr_assert_eq(iam_state_open(dir, 70002, fl(), &h, &s), 0);
	s.failures = 9;
	s.lock_start = 5;
	s.last_step = 77;
	cr_assert_eq(iam_state_save(h, &s), 0);
	iam_state_close(h);
	cr_assert_eq(iam_state_unlock(dir, 70002, fl()), 0);
	cr_assert_eq(iam_state_read(dir, 70002, fl(), &s), 0);
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
	t_write(target, "precious\n", 9, 0600);
	cr_assert_eq(symlink(target, path), 0);
	cr_expect_eq(iam_state_open(dir, 70003, fl(), &h, &s), -ELOOP);
	t = t_slurp(target);
	cr_expect_str_eq(t, "precious\n");
	free(t);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(link(target, path), 0);
	cr_expect_eq(iam_state_open(dir, 70003, fl(), &h, &s), -EPERM);
	cr_assert_eq(unlink(path), 0);
	t_write(path, "", 0, 0644);
	cr_expect_eq(iam_state_open(dir, 70003, fl(), &h, &s), -EPERM);
	cr_assert_eq(unlink(path), 0);
	t_write(path, "garbage\n", 8, 0600);
	cr_expect_eq(iam_state_open(dir, 70003, fl(), &h, &s), -EBADMSG);
	cr_expect_null(h);
}

Test(state, folder_missing_or_open_to_others_is_refused)
{
	struct iam_state_handle *h = NULL;
	struct iam_state s;
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/none", dir);
	cr_expect_eq(iam_state_open(missing, 1, fl(), &h, &s), -ENOENT);
	cr_expect_eq(access(missing, F_OK), -1, "state_dir was created");
	cr_expect_eq(iam_state_dir_check(missing, fl()), -ENOENT);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(iam_state_open(dir, 1, fl(), &h, &s), -EPERM);
	cr_expect_eq(iam_state_dir_check(dir, fl()), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_expect_eq(iam_state_dir_check(dir, fl()), 0);
}

Test(state, concurrent_writers_never_lose_a_count)
{
	struct iam_state s;

	for (int i = 0; i < 16; i++) {
		if (fork() == 0) {
			struct iam_state_handle *h = NULL;
			struct iam_state x;

			if (iam_state_open(dir, 70004, fl(), &h, &x) != 0)
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
	cr_assert_eq(iam_state_read(dir, 70004, fl(), &s), 0);
	cr_expect_eq(s.failures, 16);
}
