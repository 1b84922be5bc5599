/*
 * iam/session.h - per login session records under run_dir: when MFA was
 * last passed and from where (libiam/host/session.c).
 */
#ifndef IAM_SESSION_H
#define IAM_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- Per login session records (run_dir) ------------------------------ */

struct iam_session_rec {
	int64_t mfa_time;	/* epoch seconds of the last TOTP check; 0 none */
	uint32_t uid;		/* whose session */
	char rhost[256];	/* PAM_RHOST as given, "" when none */
};

/*
 * The key of the calling process's login session: "s<ID>" from
 * /proc/self/sessionid, or, when there is none (4294967295 or no file),
 * "u<UID>-<tty with / as _>" from user and tty.  -ENAMETOOLONG.
 */
int iam_session_key(uint32_t uid, const char *tty, char *buf, size_t len);

/*
 * Make sure run_dir exists as a root 0700 folder (created when missing)
 * and is safe.  -EPERM insecure, -ELOOP symlink.
 */
int iam_run_dir_prepare(const char *run_dir, int strict_flags);

/* Write run_dir/sessions/KEY atomically (root 0600). */
int iam_session_write(const char *run_dir, const char *key,
		      const struct iam_session_rec *rec, int strict_flags);

/* Read run_dir/sessions/KEY.  -ENOENT when none. */
int iam_session_read(const char *run_dir, const char *key,
		     struct iam_session_rec *ret_rec, int strict_flags);

/*
 * The source address of the login session record about to be written
 * under key, into rec->rhost: rhost when it is an IPv4 or IPv6 address
 * (a new network login), else the address already recorded under key,
 * so su, sudo, login or any service without PAM_RHOST never erases or
 * replaces the address of the login session; "" when there is none.
 */
void iam_session_source(const char *run_dir, const char *key,
			const char *rhost, struct iam_session_rec *rec,
			int strict_flags);

/* Remove run_dir/sessions/KEY.  -ENOENT when none. */
int iam_session_remove(const char *run_dir, const char *key, int strict_flags);

/*
 * The key of a hand-off record for process pid: "p<PID>-<start time>".
 * OpenSSH runs keyboard-interactive authentication in a child of the
 * process that later opens the session, so what authentication learned
 * (the MFA time) cannot travel in PAM data; the child leaves it under
 * the key of its parent, which the session phase reads under its own.
 * The start time keeps a recycled pid from ever matching.
 */
int iam_session_handoff_key(pid_t pid, char *buf, size_t len);

#endif
