/*
 * fsize.c - a caller's RLIMIT_FSIZE around the writes of a privileged
 * process.
 *
 * A setuid su or passwd, or sudo, runs under the invoking user's
 * resource limits: a small RLIMIT_FSIZE would cut a trail line, a state
 * file or a credential file short (SIGXFSZ ignored) or kill the process
 * mid-write.  With euid 0 the limit is lifted for the write and put back
 * after; SIGXFSZ is blocked meanwhile, and one it raised (the lift
 * failed) is taken off again, so it neither kills nor lingers.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "iam/util.h"
#include "util_int.h"

void
iam_fsize_lift(struct iam_fsize_guard *g)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	sigset_t xfsz, pending;
	int saved = errno;

	memset(g, 0, sizeof(*g));
	if (geteuid() != 0)
		return;
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	if (sigprocmask(SIG_BLOCK, &xfsz, &g->mask) == 0) {
		g->blocked = true;
		g->was_pending = sigpending(&pending) == 0 &&
				 sigismember(&pending, SIGXFSZ) == 1;
	}
	if (getrlimit(RLIMIT_FSIZE, &g->old) == 0 &&
	    g->old.rlim_cur != RLIM_INFINITY &&
	    setrlimit(RLIMIT_FSIZE, &unlimited) == 0)
		g->lifted = true;
	errno = saved;
}

void
iam_fsize_restore(struct iam_fsize_guard *g)
{
	const struct timespec now = { 0, 0 };
	sigset_t xfsz, pending;
	int saved = errno;

	if (g->lifted)
		(void)setrlimit(RLIMIT_FSIZE, &g->old);
	if (g->blocked) {
		sigemptyset(&xfsz);
		sigaddset(&xfsz, SIGXFSZ);
		/* Raised by our write: taken off, never delivered. */
		if (!g->was_pending && sigpending(&pending) == 0 &&
		    sigismember(&pending, SIGXFSZ) == 1)
			(void)sigtimedwait(&xfsz, NULL, &now);
		(void)sigprocmask(SIG_SETMASK, &g->mask, NULL);
	}
	memset(g, 0, sizeof(*g));
	errno = saved;
}
