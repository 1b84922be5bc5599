/*
 * iam/state.h - the runtime state per uid in state_dir (failures,
 * lockout, the last accepted TOTP steps) and the one lockout routine
 * around every password and code check (libiam/host/state.c).
 */
#ifndef IAM_STATE_H
#define IAM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/config.h"
#include "iam/identity.h"
#include "iam/totp.h"

/* ---- Runtime state per uid (state_dir) -------------------------------- */

/*
 * One file per uid, state_dir/UID (root 0600), in state_dir (root 0700,
 * never created here).  Files are created O_CREAT|O_EXCL|O_NOFOLLOW and
 * every open file is checked with fstat: a symlink, a non-regular file or
 * a wrong owner or mode is refused (-ELOOP, -EPERM).
 */
/* The last accepted step of one named device (tag: iam_mfa_device_tag()). */
struct iam_state_step {
	uint32_t tag;		/* 0: unused slot */
	uint64_t step;
};

struct iam_state {
	uint32_t failures;	/* consecutive failed attempts */
	int64_t lock_start;	/* when the failure that locked happened; 0 none */
	uint64_t last_step;	/* last accepted TOTP step of the device
				   "default"; 0 none */
	int64_t last_login;	/* epoch seconds of the last success; 0 none */
	int64_t last_failure;	/* epoch seconds of the last failure; 0 none */
	uint32_t rc_set;	/* recovery code set rc_used refers to; 0 none */
	uint32_t rc_used;	/* bit i: recovery code i of rc_set used */
	struct iam_state_step steps[IAM_MFA_MAX_DEVICES];	/* named devices */
};

/* The last accepted step of the device tagged tag (0: "default") in s. */
uint64_t iam_state_device_step(const struct iam_state *s, uint32_t tag);

/*
 * Record step as the last accepted step of the device tagged tag (0:
 * last_step); a full table drops the slot with the oldest step.
 */
void iam_state_set_device_step(struct iam_state *s, uint32_t tag,
			       uint64_t step);

/*
 * Recovery codes of set set_tag used so far, as a bit mask (0 when s
 * refers to another set: regenerating voids the old marks with the codes).
 */
uint32_t iam_state_recovery_used(const struct iam_state *s, uint32_t set_tag);

struct iam_state_handle;

/*
 * Open (creating when missing) and lock (flock, exclusive) the state of
 * uid.  The lock is held until iam_state_close().  -ENOENT state_dir
 * missing, -EPERM insecure, -ELOOP symlink, -EBADMSG corrupt.
 * The check of the folder uses strict_flags (IAM_STRICT_ANY_OWNER only in
 * tests).
 */
int iam_state_open(const char *state_dir, uint32_t uid, int strict_flags,
		   struct iam_state_handle **ret_h, struct iam_state *ret_state);

/* Write the state back (whole file, fsync'd).  -ENOSPC, -EIO ... */
int iam_state_save(struct iam_state_handle *h, const struct iam_state *s);

/* Release the lock and the descriptor; NULL is fine.  Returns NULL. */
struct iam_state_handle *iam_state_close(struct iam_state_handle *h);

/* Read the state of uid without creating it; -ENOENT when none. */
int iam_state_read(const char *state_dir, uint32_t uid, int strict_flags,
		   struct iam_state *ret_state);

/*
 * True when s is locked at time now under lockout lk (max_failed_attempts
 * 0 means lockout is off).
 */
bool iam_state_locked(const struct iam_state *s,
		      const struct iam_lockout *lk, int64_t now);

/*
 * Count one failed attempt at now, before anything is verified: an
 * expired lock starts a fresh count, and the failure that reaches
 * max_failed_attempts starts the lock.  The caller saves s.
 * iam_lockout_begin() counts this way for every check.
 */
void iam_state_count_failure(struct iam_state *s,
			     const struct iam_lockout *lk, int64_t now);

/* ---- Lockout: one routine for every password and code check ---------- */

/*
 * With lockout off, a failed check makes the next check of that user
 * wait: a check less than IAM_LOCKOUT_DELAY seconds (counted in whole
 * seconds, so more than IAM_LOCKOUT_DELAY - 1 of real time) after the
 * last failure is refused without checking.
 */
#define IAM_LOCKOUT_DELAY	3

/*
 * One check of a password or a code of one user, between
 * iam_lockout_begin() and iam_lockout_settle().  The state lock is not
 * held in between, so a check stopped half-way holds up nobody.
 */
struct iam_lockout_try {
	const char *state_dir;	/* borrowed from the caller */
	uint32_t uid;
	int strict_flags;
	int64_t now;		/* epoch seconds of the attempt */
	struct iam_lockout lk;	/* the user's lockout (copied) */
	struct iam_state before;	/* the state as found */
	struct iam_state counted;	/* as saved, this attempt counted */
};

enum iam_lockout_result {
	IAM_LOCKOUT_FAILED,	/* wrong password or code: stays counted */
	IAM_LOCKOUT_OK,		/* right: the counter is reset */
	IAM_LOCKOUT_UNCOUNTED,	/* a right password that cannot go on (no
				   device): the attempt is taken back */
};

/*
 * Start one check: under the state lock, refuse while locked (-EBUSY;
 * not counted, the lock not extended), or with lockout off within
 * IAM_LOCKOUT_DELAY seconds of the last failure (-EAGAIN; not counted);
 * else count the attempt as a failure (the failure that reaches
 * max_failed_attempts starts the lock), save, and release the lock before
 * anything is verified.  *ret_try is set in every case (the state as
 * found in ret_try->before, as counted in ret_try->counted).  Other
 * negative errnos: the state is unusable (see iam_state_open()).
 */
int iam_lockout_begin(const char *state_dir, uint32_t uid, int strict_flags,
		      const struct iam_lockout *lk, int64_t now,
		      struct iam_lockout_try *ret_try);

/*
 * Settle a check begun by iam_lockout_begin(), under the lock again.
 * IAM_LOCKOUT_OK resets the counter (and the delay of lockout off),
 * records now as the last login and, when step is not 0, the accepted
 * TOTP step; when a concurrent check took that step meanwhile it is
 * -EALREADY (a replay, which stays counted).  IAM_LOCKOUT_UNCOUNTED takes
 * the attempt back (a lock it started too).  IAM_LOCKOUT_FAILED changes
 * nothing.  *ret_locked (may be NULL) is set true when this failed (or
 * replayed) attempt started a lock.  -errno when the state is unusable.
 */
int iam_lockout_settle(const struct iam_lockout_try *t,
		       enum iam_lockout_result res, uint64_t step,
		       bool *ret_locked);

/*
 * iam_lockout_settle() for a code: with IAM_LOCKOUT_OK, records m's step
 * for m's device, or marks m's recovery code used; -EALREADY when a
 * concurrent check took that step or used that code meanwhile (a replay,
 * which stays counted).  m NULL: no code.
 */
int iam_lockout_settle_mfa(const struct iam_lockout_try *t,
			   enum iam_lockout_result res,
			   const struct iam_mfa_match *m, bool *ret_locked);

/*
 * Check that state_dir is usable (exists, a root-owned folder closed to
 * group and others) without touching any file: the same check for every
 * name, known or not.
 */
int iam_state_dir_check(const char *state_dir, int strict_flags);

/* Clear failures and lockout of uid (iamctl unlock).  -ENOENT: no state. */
int iam_state_unlock(const char *state_dir, uint32_t uid, int strict_flags);

#endif
