/*
 * iam/role_session.h - the role session records under run_dir/roles
 * (libiam/host/role_session.c).
 *
 * A role session belongs to one login session of one user: the record
 * run_dir/roles/KEY (KEY from iam_session_key()) is written by the
 * setuid helper iam-role-helper as root 0600 and read by sudo_iam.  A
 * record that is missing, corrupt, not root's, open to group or others,
 * a link, of another user, of another login session, of an earlier boot
 * or past its expiry is no session at all.  Expiry is measured on
 * CLOCK_BOOTTIME, which never runs backwards and counts suspend, so
 * setting the wall clock back never extends a session.
 */
#ifndef IAM_ROLE_SESSION_H
#define IAM_ROLE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Role session records (run_dir/roles) ---------------------------- */

#define IAM_ROLE_SESSION_DIR	"roles"
#define IAM_ROLE_ID_LEN		32	/* hex digits of a session id */
#define IAM_ROLE_REASON_MAX	256	/* bytes of --reason */

/* A clock reading: boot time (never backwards), wall time, this boot. */
struct iam_role_clock {
	int64_t boot;		/* CLOCK_BOOTTIME, seconds */
	int64_t wall;		/* epoch seconds, for display only */
	char boot_id[40];	/* /proc/sys/kernel/random/boot_id */
};

/* Read the clocks and the boot id.  -errno when one is unavailable. */
int iam_role_clock_now(struct iam_role_clock *ret_now);

struct iam_role_session {
	char id[IAM_ROLE_ID_LEN + 1];	/* random, hex */
	char user[64];			/* IAM user name */
	uint32_t uid;
	char role[72];			/* role name */
	char key[96];			/* login session key (iam_session_key) */
	char boot_id[40];		/* boot the session belongs to */
	int64_t start, expiry;		/* CLOCK_BOOTTIME seconds */
	int64_t wall_start, wall_expiry;	/* epoch seconds, display only */
	char reason[IAM_ROLE_REASON_MAX + 1];	/* "" when none */
};

/*
 * True when reason can be recorded: at most IAM_ROLE_REASON_MAX bytes,
 * valid UTF-8, no control character.
 */
bool iam_role_reason_valid(const char *reason);

/*
 * Fill a new session starting at now for seconds, with a random id.
 * -EINVAL bad name, key, reason or duration; -ENAMETOOLONG.
 */
int iam_role_session_new(const char *user, uint32_t uid, const char *role,
			 const char *key, const char *reason, uint32_t seconds,
			 const struct iam_role_clock *now,
			 struct iam_role_session *ret_s);

/*
 * Write run_dir/roles/KEY (root 0600, O_EXCL|O_NOFOLLOW temporary file
 * and rename), creating run_dir and run_dir/roles (root 0700) when
 * missing.  Replaces an earlier session of the same login session.
 */
int iam_role_session_write(const char *run_dir,
			   const struct iam_role_session *s, int strict_flags);

/*
 * Read run_dir/roles/KEY as it is, without judging it: -ENOENT none,
 * -ELOOP link, -EPERM wrong owner, mode, type or link count, -EBADMSG
 * corrupt (including a key field that is not KEY).
 */
int iam_role_session_read(const char *run_dir, const char *key,
			  int strict_flags, struct iam_role_session *ret_s);

/*
 * The active session of login session key for uid at now (NULL: the
 * clocks are read once a record was found): read, then refused (-ENOENT,
 * as if there were none) when of another uid, another boot, or expired.  Other errors as iam_role_session_read(): the caller
 * treats them as no session too, and may log them.
 */
int iam_role_session_active(const char *run_dir, const char *key,
			    uint32_t uid, const struct iam_role_clock *now,
			    int strict_flags, struct iam_role_session *ret_s);

/*
 * Remove run_dir/roles/KEY when its id is id (id NULL: whatever it
 * holds).  -ENOENT when there is no such record, -ESTALE when it holds
 * another session.
 */
int iam_role_session_remove(const char *run_dir, const char *key,
			    const char *id, int strict_flags);

/*
 * Call fn for every record of run_dir/roles, in name order: with the
 * session and err 0, or with NULL and the error of a record that cannot
 * be read (key names it).  A nonzero return of fn stops the walk and is
 * returned.  -ENOENT when run_dir/roles does not exist.
 */
typedef int iam_role_session_fn(const char *key,
				const struct iam_role_session *s, int err,
				void *arg);
int iam_role_session_list(const char *run_dir, int strict_flags,
			  iam_role_session_fn *fn, void *arg);

/*
 * End every session of uid (a user disabled or deleted).  Returns the
 * number of sessions removed, or a negative errno.
 */
int iam_role_sessions_end_uid(const char *run_dir, uint32_t uid,
			      int strict_flags);

#endif
