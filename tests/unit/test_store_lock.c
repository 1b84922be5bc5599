/*
 * test_store_lock.c - the store's lock is waited for a bounded time and
 * names its holder (libiam/host/store.c); a setuid caller's locked
 * section runs in a child that is root entirely (libiam/host/privsep.c).
 *
 * Runs as root through scripts/run-unit.sh; a "user" here is uid 1000
 * taken by a forked test process with setresuid (real 1000, effective
 * and saved 0: what a setuid-root program started by that user has).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "fixtures.h"
#include "privsep_int.h"

#define USER_UID	1000

static char tmp[64];
static struct iam_config *cfg;

static const char *
at(const char *name)
{
	return fx_path(tmp, name);
}

static void
setup(void)
{
	FX_NEED_ROOT();
	fx_tmpdir(tmp, sizeof(tmp), "storelock", 0755);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->credentials_dir);
	cfg->credentials_dir = strdup(at("credentials"));
	cr_assert_not_null(cfg->credentials_dir);
}

static void
teardown(void)
{
	cfg = iam_config_free(cfg);
	fx_rmtree(tmp);
}

TestSuite(store_lock, .init = setup, .fini = teardown);
TestSuite(privsep, .init = setup, .fini = teardown);

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A process holding the store's lock until killed; its pid. */
static pid_t
hold_lock(void)
{
	int p[2];
	char c;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = iam_store_lock(cfg);

		if (fd < 0 || write(p[1], "l", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "the holder could not lock");
	close(p[0]);
	return pid;
}

static void
end(pid_t pid)
{
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

Test(store_lock, a_stopped_holder_costs_the_bound_then_etimedout_naming_it)
{
	char why[160], want[160];
	long long t0, ms;
	pid_t holder = hold_lock(), pid = 0;
	int fd;

	cr_assert_eq(kill(holder, SIGSTOP), 0);
	t0 = ms_now();
	fd = iam_store_lock_wait(cfg, 400);
	ms = ms_now() - t0;
	cr_assert_eq(fd, -ETIMEDOUT, "got %d", fd);
	cr_assert(ms >= 400 && ms < 1500, "gave up after %lld ms", ms);
	cr_assert_eq(iam_store_lock_holder(cfg, &pid), 0);
	cr_assert_eq(pid, holder);
	snprintf(want, sizeof(want), "the credential store is locked by "
		 "another change (pid %ld)", (long)holder);
	cr_assert_str_eq(iam_store_lock_strerror(cfg, -ETIMEDOUT, why,
						 sizeof(why)), want);
	end(holder);
	/* Released with its holder: taken at once, no holder left. */
	fd = iam_store_lock_wait(cfg, 0);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	iam_store_unlock(fd);
	cr_assert_eq(iam_store_lock_holder(cfg, &pid), -ENOENT);
}

Test(store_lock, the_default_bound_is_thirty_seconds_and_other_errors_say_why)
{
	char why[160];

	cr_assert_eq(IAM_STORE_LOCK_WAIT_MS, 30000);
	cr_assert_str_eq(iam_store_lock_strerror(cfg, -EPERM, why, sizeof(why)),
			 "cannot take the store's lock: Operation not permitted");
	/* Nobody holds it: the message still says what happened, no pid. */
	cr_assert_str_eq(iam_store_lock_strerror(cfg, -ETIMEDOUT, why,
						 sizeof(why)),
			 "the credential store is locked by another change");
}

Test(store_lock, a_holder_that_lets_go_within_the_bound_is_waited_for)
{
	pid_t holder = hold_lock();
	long long t0 = ms_now();
	int fd;

	if (fork() == 0) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		kill(holder, SIGKILL);
		_exit(0);
	}
	fd = iam_store_lock_wait(cfg, 5000);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_lt(ms_now() - t0, 2000);
	iam_store_unlock(fd);
	(void)waitpid(holder, NULL, 0);
	(void)wait(NULL);
}

/* ---- The root child of a setuid caller ------------------------------- */

/* Become what a setuid-root program started by USER_UID is. */
static void
as_setuid_program(void)
{
	if (setresgid(USER_UID, 0, 0) < 0 || setresuid(USER_UID, 0, 0) < 0)
		_exit(90);
}

/* Run fn in a forked setuid-like process; its exit status. */
static int
in_setuid_program(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		as_setuid_program();
		fn();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the caller died");
	return WEXITSTATUS(status);
}

/* What the child is, as a fault; -ESTALE as fn's own result. */
static int
describe_child(void *arg, struct iam_faults *f)
{
	struct sigaction sa;
	uid_t r, e, s;
	gid_t gr, ge, gs;

	struct stat null, st;
	struct rlimit as, data, stack, nofile;
	int fds = 0;
	DIR *d;

	(void)arg;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	sigaction(SIGTSTP, NULL, &sa);
	/* Open: 0-2 on /dev/null, the pipe, and this listing's own. */
	d = opendir("/proc/self/fd");
	while (d != NULL && readdir(d) != NULL)
		fds++;
	if (d != NULL)
		closedir(d);
	stat("/dev/null", &null);
	for (int i = 0; i <= 2; i++)
		if (fstat(i, &st) < 0 || st.st_rdev != null.st_rdev)
			fds = -1;
	getrlimit(RLIMIT_AS, &as);
	getrlimit(RLIMIT_DATA, &data);
	getrlimit(RLIMIT_STACK, &stack);
	getrlimit(RLIMIT_NOFILE, &nofile);
	iam_fault(f, NULL, "pid %ld sid %ld uids %u %u %u gids %u %u %u "
		  "groups %d tstp %s fds %d limits %s nofile %s",
		  (long)getpid(), (long)getsid(0),
		  r, e, s, gr, ge, gs, getgroups(0, NULL),
		  sa.sa_handler == SIG_IGN ? "ignored" : "not ignored",
		  fds - 2,
		  as.rlim_cur == RLIM_INFINITY && data.rlim_cur == RLIM_INFINITY &&
		  stack.rlim_cur == RLIM_INFINITY ? "lifted" : "kept",
		  nofile.rlim_cur >= 1024 ? "lifted" : "kept");
	return -ESTALE;
}

static void
check_the_child(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	char want[128];
	long pid, sid;
	int r;

	/*
	 * The user's (soft) limits, which the child must not keep.  A hard
	 * limit lowered too is lifted only with CAP_SYS_RESOURCE; without
	 * it the child refuses (the change is not made).
	 */
	static const struct { int res; rlim_t cur; } user[] = {
		{ RLIMIT_NOFILE, 100 }, { RLIMIT_AS, 1 << 30 },
		{ RLIMIT_DATA, 1 << 30 }, { RLIMIT_STACK, 1 << 20 },
	};
	struct rlimit rl;

	if (!iam_privsep_wanted())
		_exit(1);
	for (size_t i = 0; i < sizeof(user) / sizeof(user[0]); i++) {
		if (getrlimit(user[i].res, &rl) < 0)
			_exit(6);
		rl.rlim_cur = user[i].cur;
		if (setrlimit(user[i].res, &rl) < 0)
			_exit(6);
	}
	r = iam_privsep_run(describe_child, NULL, &f);
	if (r != -ESTALE || f.n != 1)
		_exit(2);
	if (sscanf(f.v[0], "pid %ld sid %ld", &pid, &sid) != 2 ||
	    pid == getpid() || sid != pid)
		_exit(3);
	snprintf(want, sizeof(want), "uids 0 0 0 gids 0 0 0 groups 0 tstp "
		 "ignored");
	if (strstr(f.v[0], want) == NULL)
		_exit(4);
	/* 0-2 on /dev/null, the pipe, the listing: none of the parent's. */
	if (strstr(f.v[0], "fds 5 ") == NULL)
		_exit(5);
	if (strstr(f.v[0], "limits lifted nofile lifted") == NULL)
		_exit(7);
	iam_faults_release(&f);
}

Test(privsep, a_setuid_caller_runs_the_section_in_a_root_child_of_its_own_session)
{
	int rc = in_setuid_program(check_the_child);

	cr_assert_eq(rc, 0, "step %d failed (1 not wanted, 2 result, 3 not "
		     "its own process and session, 4 not root entirely, 5 "
		     "descriptors of the parent kept, 6 limits not set, 7 the user's "
		     "limits kept)", rc);
}

Test(privsep, a_process_that_is_root_entirely_keeps_the_section_in_process)
{
	cr_assert_not(iam_privsep_wanted());
}

/* Holds the store's lock 300 ms, leaves its pid, then a mark. */
static int
slow_section(void *arg, struct iam_faults *f)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	char pid[32];
	int fd, lock;

	(void)arg;
	(void)f;
	lock = iam_store_lock(cfg);
	if (lock < 0)
		return lock;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	fd = open(at("child.pid"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
		return -EIO;
	close(fd);
	nanosleep(&ts, NULL);
	fd = open(at("done"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	close(fd);
	iam_store_unlock(lock);
	return 0;
}

static void
run_slow_section(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;

	_exit(iam_privsep_run(slow_section, NULL, &f) == 0 ? 0 : 5);
}

/* The pid slow_section() left, once it is there. */
static pid_t
child_pid(void)
{
	char buf[32] = "";
	int fd;

	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		ssize_t n;

		fd = open(at("child.pid"), O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			return (pid_t)atol(buf);
		}
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("the child never took the lock");
	return -1;
}

Test(privsep, the_user_cannot_stop_the_child_and_a_stopped_caller_stops_nothing)
{
	pid_t caller, kid, user;
	long long t0;
	int status, fd;

	caller = fork();
	cr_assert_geq(caller, 0);
	if (caller == 0) {
		as_setuid_program();
		run_slow_section();
	}
	kid = child_pid();
	/* The user may stop the setuid program, not the child. */
	user = fork();
	cr_assert_geq(user, 0);
	if (user == 0) {
		if (setresgid(USER_UID, USER_UID, USER_UID) < 0 ||
		    setresuid(USER_UID, USER_UID, USER_UID) < 0)
			_exit(90);
		if (kill(caller, SIGSTOP) != 0)
			_exit(1);
		_exit(kill(kid, SIGSTOP) == -1 && errno == EPERM ? 0 : 2);
	}
	cr_assert_eq(waitpid(user, &status, 0), user);
	cr_assert_eq(WEXITSTATUS(status), 0, "the user %s",
		     WEXITSTATUS(status) == 2 ? "stopped the root child" :
		     "could not stop the setuid program");
	/* The caller stopped: the child ends its section, the lock frees. */
	t0 = ms_now();
	fd = iam_store_lock_wait(cfg, 5000);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_lt(ms_now() - t0, 2000);
	cr_assert_eq(access(at("done"), F_OK), 0);
	iam_store_unlock(fd);
	cr_assert_eq(kill(caller, SIGCONT), 0);
	cr_assert_eq(waitpid(caller, &status, 0), caller);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the caller did not get the child's result");
}

static int
die(void *arg, struct iam_faults *f)
{
	(void)arg;
	iam_fault(f, NULL, "never sent");
	raise(SIGKILL);
	return 0;
}

static int
many_faults(void *arg, struct iam_faults *f)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		iam_fault(f, "/some/path", "fault %03d %s", i, "..................."
			  "..................................................");
	return -EINVAL;
}

static void
check_results(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	int r;

	r = iam_privsep_run(die, NULL, &f);
	if (r != -ECHILD || f.n != 1 ||
	    strstr(f.v[0], "killed (signal 9)") == NULL)
		_exit(1);
	iam_faults_release(&f);
	r = iam_privsep_run(many_faults, NULL, &f);
	if (r != -EINVAL || f.n == 0 || f.n + f.dropped != 100 ||
	    strcmp(f.v[0], "/some/path: fault 000 ....................."
		   "................................................") != 0)
		_exit(2);
	iam_faults_release(&f);
}

Test(privsep, a_killed_child_is_an_error_and_faults_come_back_bounded)
{
	int rc = in_setuid_program(check_results);

	cr_assert_eq(rc, 0, "step %d failed (1 killed child, 2 faults)", rc);
}
