/*
 * privsep_int.h - a locked section run in a child that is root entirely
 * (libiam/host/privsep.c), for the setuid programs pam_iam runs in.
 */
#ifndef IAM_PRIVSEP_INT_H
#define IAM_PRIVSEP_INT_H

#include <stdbool.h>

#include "iam/util.h"
#include "util_int.h"

/*
 * True when this process runs for a user who may signal it: one of its
 * uids is 0 and another is not (a setuid-root passwd, su, sudo, login
 * started by that user).  A process that is root entirely (sshd, iamctl
 * as root, the agent) or not root at all gets false.
 */
IAM_PRIVATE bool iam_privsep_wanted(void);

/*
 * Run fn(arg, faults) in a child that first becomes root entirely
 * (groups, gids and uids 0) in a session of its own, so the user who
 * started this process can neither stop nor kill it and no terminal
 * signal reaches it; the user's resource limits that would stop it
 * midway (CPU, file size) and scheduling are reset.  The caller waits
 * for it (SIGCHLD at its default meanwhile) and gets fn's result and
 * its faults (at most IAM_PRIVSEP_RESULT_MAX bytes of them; the rest
 * are counted in faults->dropped).  If this process is killed or
 * stopped, the child goes on to its end.
 *
 * fn works on a copy of this process's memory, with none of its
 * descriptors (0-2 on /dev/null): what it writes into arg never comes
 * back.  Returns fn's result (also when only its faults were lost: the
 * child's exit status says whether it was 0), the errno of becoming
 * root, -ECHILD when the child was killed (by root or the kernel: fn's
 * work done whole or not at all, unknown which), -EIO when it failed
 * without a result, or the errno of pipe/fork.
 */
#define IAM_PRIVSEP_RESULT_MAX	4096	/* PIPE_BUF: one write, never blocked */

typedef int (*iam_privsep_fn)(void *arg, struct iam_faults *faults);

IAM_PRIVATE int iam_privsep_run(iam_privsep_fn fn, void *arg,
				struct iam_faults *faults);

#endif
