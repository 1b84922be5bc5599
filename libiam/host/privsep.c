/*
 * privsep.c - a locked section of a setuid program, run in a child that
 * is root entirely.
 *
 * passwd, su, sudo and login run setuid root with the user's real uid,
 * so the user may send them any signal, SIGSTOP included.  pam_iam in
 * them takes the store's lock to commit a password change or a re-hash;
 * stopped there, one user's passwd would hold up every iamctl change,
 * sync, the fleet agent and every other user's change.  The section
 * under the lock therefore runs in a child that becomes root entirely
 * (the kernel lets a user signal only processes whose real or saved uid
 * is theirs) in a session of its own (no terminal's ^C, ^Z or hang-up
 * reaches it), as OpenSSH and sudo keep work the user must not
 * interrupt out of the user's reach.  The parent, still the user's,
 * only waits for the result: stopped or killed, it stops nothing else.
 *
 * The child runs library code after fork(): the programs concerned are
 * single-threaded (glibc keeps malloc and stdio usable after fork in any
 * case), and the child ends with _exit(), so it never flushes or runs
 * what belongs to the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iam.h"
#include "privsep_int.h"

/* The result on the pipe: int32 r, uint32 faults dropped, then the
 * faults, each NUL-terminated, in at most IAM_PRIVSEP_RESULT_MAX bytes. */
#define HEAD_LEN	8

bool
iam_privsep_wanted(void)
{
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) < 0)
		return false;
	return (r == 0 || e == 0 || s == 0) && !(r == 0 && e == 0 && s == 0);
}

/*
 * Out of the user's reach: the parent's handlers gone (a handler of
 * su or sudo has no business in this process), the job-control and
 * terminal signals ignored, a session of its own, root entirely, not
 * dumpable, and none of the limits or the scheduling the user set on
 * the setuid program (a CPU or file-size limit would kill the child
 * midway, an address-space, data, stack or descriptor limit make it fail
 * at a call of the user's choosing; SCHED_IDLE or nice 19 would starve
 * it while it holds the lock).
 */
static int
become_root_alone(void)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE,
				       SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ };
	static const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	static const struct rlimit none = { 0, 0 };
	/* what a user's limit could make fail at a point of their choosing */
	static const int lifted[] = { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_AS,
				      RLIMIT_DATA, RLIMIT_STACK };
	struct rlimit nofile;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct sched_param sp = { 0 };
	sigset_t empty;
	uid_t r, e, s;

	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void)sigaction(ignored[i], &ign, NULL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
	if (setsid() < 0)
		return -errno;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
	    setresuid(0, 0, 0) < 0)
		return -errno;
	if (getresuid(&r, &e, &s) < 0 || r != 0 || e != 0 || s != 0)
		return -EPERM;
	(void)setrlimit(RLIMIT_CORE, &none);
	for (size_t i = 0; i < sizeof(lifted) / sizeof(lifted[0]); i++)
		if (setrlimit(lifted[i], &unlimited) < 0)
			return -errno;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return -errno;
	if (nofile.rlim_cur < 1024 || nofile.rlim_max < 1024) {
		nofile.rlim_cur = nofile.rlim_max = 1024;
		if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			return -errno;
	}
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	(void)setpriority(PRIO_PROCESS, 0, 0);
	(void)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, 0);
	umask(077);
	return 0;
}

/* r and as many faults as fit, in one write to the pipe: 0 or -EPIPE. */
static int
send_result(int fd, int r, const struct iam_faults *f)
{
	char buf[IAM_PRIVSEP_RESULT_MAX];
	uint32_t dropped = (uint32_t)(f->dropped + (f->oom ? 1 : 0));
	int32_t code = r;
	size_t len = HEAD_LEN;

	for (size_t i = 0; i < f->n; i++) {
		size_t n = strlen(f->v[i]) + 1;

		if (n > sizeof(buf) - len) {
			dropped++;
			continue;
		}
		memcpy(buf + len, f->v[i], n);
		len += n;
	}
	memcpy(buf, &code, sizeof(code));
	memcpy(buf + sizeof(code), &dropped, sizeof(dropped));
	/* No more than PIPE_BUF into an empty pipe: never blocks, never
	   split; a parent gone (EPIPE) is nobody to tell. */
	return write(fd, buf, len) == (ssize_t)len ? 0 : -EPIPE;
}

/*
 * Nothing of the parent's but the pipe, moved to descriptor 3: the
 * application's descriptors (the user's terminal, its sockets and
 * pipes) closed, 0-2 on /dev/null.  Returns 3 or -errno.
 */
static int
keep_only_pipe(int fd)
{
	int null;

	if (fd != 3 && dup2(fd, 3) < 0)
		return -errno;
	(void)close_range(4, ~0U, 0);
	null = open("/dev/null", O_RDWR | O_NOCTTY);
	if (null < 0)
		return -errno;
	for (int i = 0; i <= 2; i++) {
		if (i != null && dup2(null, i) < 0)
			return -errno;
	}
	if (null > 2)
		close(null);
	(void)fcntl(3, F_SETFL, O_NONBLOCK);
	return 3;
}

static void __attribute__((noreturn))
child(int fd, iam_privsep_fn fn, void *arg)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	int r;

	r = keep_only_pipe(fd);
	if (r < 0)
		_exit(1);	/* no pipe to say it on: -ECHILD */
	fd = r;
	r = become_root_alone();
	if (r < 0)
		iam_fault(&f, NULL, "cannot become root to make the change: %s",
			  strerror(-r));
	else
		r = fn(arg, &f);
	(void)send_result(fd, r, &f);
	iam_faults_release(&f);
	/* The outcome in the exit status too, should the message be lost. */
	_exit(r == 0 ? 0 : 1);
}

/* Up to len bytes from fd, until end of file (EINTR retried). */
static size_t
read_result(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* fn's result and faults from what the child sent; -EIO if none. */
static int
take_result(const char *buf, size_t len, struct iam_faults *faults)
{
	int32_t code;
	uint32_t dropped;
	size_t off = HEAD_LEN;

	if (len < HEAD_LEN)
		return -EIO;
	memcpy(&code, buf, sizeof(code));
	memcpy(&dropped, buf + sizeof(code), sizeof(dropped));
	while (off < len) {
		const char *s = buf + off;
		const char *nul = memchr(s, '\0', len - off);

		if (nul == NULL)
			break;
		iam_fault(faults, NULL, "%s", s);
		off += (size_t)(nul - s) + 1;
	}
	faults->dropped += dropped;
	return code > 0 || code < -4095 ? -EIO : code;
}

/* The outcome of a child that sent no result, from how it ended. */
static int
no_result(int status, struct iam_faults *faults)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;	/* done; only its message was lost */
	if (WIFSIGNALED(status)) {
		/* Killed midway: the change was made whole or not at all,
		   which of the two nobody here can tell. */
		iam_fault(faults, NULL, "the process making the change was "
			  "killed (signal %d)", WTERMSIG(status));
		return -ECHILD;
	}
	iam_fault(faults, NULL, "the process making the change failed "
		  "without a result");
	return -EIO;
}

int
iam_privsep_run(iam_privsep_fn fn, void *arg, struct iam_faults *faults)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	char buf[IAM_PRIVSEP_RESULT_MAX];
	int p[2], status = 0, r;
	size_t len;
	pid_t pid, w;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/*
	 * An application that ignores SIGCHLD (its children reaped by the
	 * kernel) or reaps them in a handler would take the child's exit
	 * from us: the default while we wait, as check_via_helper does.
	 */
	(void)sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(p[1], fn, arg);
	}
	r = pid < 0 ? -errno : 0;
	close(p[1]);
	len = pid > 0 ? read_result(p[0], buf, sizeof(buf)) : 0;
	close(p[0]);
	if (pid > 0) {
		do
			w = waitpid(pid, &status, 0);
		while (w < 0 && errno == EINTR);
		r = len < HEAD_LEN && w == pid ? no_result(status, faults) :
			take_result(buf, len, faults);
	}
	(void)sigaction(SIGCHLD, &old, NULL);
	explicit_bzero(buf, sizeof(buf));
	return r;
}
