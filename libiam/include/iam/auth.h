/*
 * iam/auth.h - what an authentication needs: the private snapshot
 * auth/auth.db and its reader, password hashes, TOTP codes, the runtime
 * state per uid (failures, lockout, last accepted TOTP step) and the
 * per login session records under run_dir.
 */
#ifndef IAM_AUTH_H
#define IAM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam/config.h"
#include "iam/identity.h"
#include "iam/util.h"

/* ---- The private snapshot auth/auth.db --------------------------------
 *
 * Written by iam_authdb_build() (iam/snapshot.h), published as
 * IAM_AUTH_DIR "/auth.db" (root 0600 in a root 0700 folder).  Layout, all
 * integers in host byte order:
 *
 *   header     128 bytes: magic "IAMAUTH1", version, generation, file
 *              size, user count, bucket count, offsets, header checksum
 *   globals    account id and alias, password policy; own checksum
 *   buckets    n_buckets x (u32 name hash, u32 record offset); open
 *              addressing with linear probing, offset 0 is an empty slot
 *   policies   managed policy table: n x (u32 offset, u32 length) of a
 *              blob with its own checksum, name and JSON text
 *   records    one per user, each with its own checksum
 *
 * A lookup reads the header, one or a few buckets, one record and the
 * policies that record references, so its cost does not grow with the
 * number of users.  Every offset and length is bounds-checked on use; any
 * inconsistency is -EBADMSG.
 */

#define IAM_AUTHDB_FILE		"auth.db"
#define IAM_AUTHDB_MAGIC	"IAMAUTH1"	/* 8 bytes, no NUL */
#define IAM_AUTHDB_VERSION	1

/* Where a policy of a user comes from. */
enum iam_auth_policy_kind {
	IAM_AUTH_POLICY_MANAGED,	/* managed policy attached to the user */
	IAM_AUTH_POLICY_INLINE,		/* the user's inline policy */
	IAM_AUTH_POLICY_GROUP,		/* managed policy of one of the groups */
	IAM_AUTH_POLICY_BOUNDARY,	/* the permissions boundary */
};

struct iam_auth_policy {
	enum iam_auth_policy_kind kind;
	const char *name;	/* policy name */
	const char *via;	/* group name for IAM_AUTH_POLICY_GROUP, else NULL */
	const char *json;	/* the document as compact JSON text */
	size_t json_len;
};

struct iam_auth_tag {
	const char *key;
	const char *value;
};

/* One TOTP device of a user's record. */
struct iam_auth_mfa {
	const char *name;		/* "default" for the "mfa" object */
	const char *secret;		/* base32 */
	enum iam_totp_algo algorithm;
	uint32_t digits;		/* 6-8 */
	uint32_t period;		/* seconds */
	int64_t enabled;		/* epoch seconds; 0 unknown */
	uint32_t tag;			/* its replay key, iam_mfa_device_tag() */
};

/*
 * One user's record.  Every string is owned by the record (NUL-terminated)
 * and lives until iam_auth_user_free(), which wipes the secrets.
 */
struct iam_auth_user {
	const char *name;
	uint32_t uid;
	uint32_t gid;
	const char *primary_group;
	const char *gecos, *home, *shell;
	int64_t created;		/* epoch seconds; 0 unknown */
	bool disabled;
	const char *password_hash;	/* NULL: no password set */
	int64_t password_changed;	/* epoch seconds; 0 unknown */
	bool must_change;
	const char **history;		/* earlier hashes, newest first */
	size_t n_history;
	const char *mfa_secret;		/* base32; NULL: no device enrolled */
	enum iam_totp_algo mfa_algorithm;
	uint32_t mfa_digits;		/* 6-8 */
	uint32_t mfa_period;		/* seconds */
	/* Every device, "default" (the fields above) first when enrolled. */
	struct iam_auth_mfa *mfa_devices;
	size_t n_mfa_devices;
	const char **recovery_codes;	/* crypt(3) hashes */
	size_t n_recovery_codes;
	uint32_t recovery_set;		/* iam_recovery_set_tag(); 0 none */
	const char **groups;		/* IAM groups (supplementary) */
	size_t n_groups;
	struct iam_auth_tag *tags;
	size_t n_tags;
	struct iam_auth_policy *policies;	/* own, inline, group, boundary */
	size_t n_policies;
	const char *account_id;		/* "123456789012" */
	const char *account_alias;	/* NULL when none */
	struct iam_password_policy password_policy;
	uint64_t generation;		/* of the snapshot it came from */
	void *priv;			/* reader's storage */
};

struct iam_authdb;

/*
 * Open dir/auth.db (dir NULL: IAM_AUTH_DIR) with the strict rules: the
 * folder root-owned 0700-like (no group/other access), the file root-owned
 * and readable by root only.  The header is checked completely.
 * -ENOENT missing, -ELOOP symlink, -EPERM insecure (reason in err),
 * -EBADMSG corrupt or truncated, -ENOMEM.
 * You own *ret_db; release it with iam_authdb_close().
 */
int iam_authdb_open(const char *dir, struct iam_authdb **ret_db, char *err,
		    size_t errlen);

/* Same, without the owner checks: for tests running as a normal user. */
int iam_authdb_open_flags(const char *dir, int strict_flags,
			  struct iam_authdb **ret_db, char *err, size_t errlen);

/*
 * The same reader over len bytes built by iam_authdb_build() (copied),
 * for a decision on an identity that is not published yet (iamctl
 * simulate).  -EBADMSG, -ENOMEM.  Release with iam_authdb_close(), which
 * wipes the copy.
 */
int iam_authdb_open_buffer(const void *buf, size_t len,
			   struct iam_authdb **ret_db);

/* Unmap and release; NULL is fine.  Returns NULL. */
struct iam_authdb *iam_authdb_close(struct iam_authdb *db);

/* Generation of an open snapshot. */
uint64_t iam_authdb_generation(const struct iam_authdb *db);

/*
 * Account id and alias (NULL when none) of an open snapshot, borrowed
 * until iam_authdb_close().  Prompts show the alias for every name.
 */
const char *iam_authdb_account_id(const struct iam_authdb *db);
const char *iam_authdb_account_alias(const struct iam_authdb *db);

/* Number of users in an open snapshot. */
size_t iam_authdb_count(const struct iam_authdb *db);

/*
 * Look a user up by name.  -ENOENT when absent, -EBADMSG when the record
 * or anything it references is damaged, -ENOMEM.
 * You own *ret_user; release it with iam_auth_user_free().
 */
int iam_authdb_lookup(const struct iam_authdb *db, const char *name,
		      struct iam_auth_user **ret_user);

/* Wipe the secrets and free a record; NULL is fine.  Returns NULL. */
struct iam_auth_user *iam_auth_user_free(struct iam_auth_user *u);

/* ---- Passwords -------------------------------------------------------- */

#define IAM_PASSWORD_MAX	512	/* longer answers are refused unhashed */
#define IAM_BCRYPT_MAX		72	/* bcrypt ignores bytes beyond this */

/*
 * Check password against a crypt(3) hash (yescrypt "$y$", sha512crypt
 * "$6$", bcrypt "$2b$"/"$2y$"/"$2a$") with crypt_r and a constant-time
 * comparison.  hash NULL (unknown user, no password set) checks against a
 * fixed dummy hash of the same cost and then fails, so the work is the
 * same.  A password over IAM_PASSWORD_MAX bytes is refused without
 * hashing.
 * Returns 0 on a match, -EACCES on a mismatch, -E2BIG too long, -EINVAL
 * an unusable hash, -ENOMEM.
 */
int iam_password_verify(const char *password, const char *hash);

/*
 * The dummy hash used for unknown names: the setting (method, cost, a
 * fixed salt) of method's new hashes, so checking a password against it
 * costs what a real hash of method costs and never matches.  Borrowed,
 * static (per thread).
 */
const char *iam_password_dummy_hash(enum iam_hash_method method);

/*
 * True when hash was made with method at the cost new hashes of method
 * get (iam_password_hash()); false for another method or cost, or NULL.
 */
bool iam_password_hash_current(const char *hash, enum iam_hash_method method);

/*
 * Hash a new password with method (salt from getrandom).  bcrypt refuses
 * passwords over IAM_BCRYPT_MAX bytes (-E2BIG); every method refuses over
 * IAM_PASSWORD_MAX.  You own *ret_hash; free() it.
 */
int iam_password_hash(const char *password, enum iam_hash_method method,
		      char **ret_hash);

/*
 * The one password-hash validator (identity file, credential store,
 * pam_iam): yescrypt ($y$), sha512crypt ($6$, optional rounds=N$ of 4-9
 * digits) or bcrypt ($2b$, $2a$, $2y$, cost 04-31), each with its exact
 * salt and hash lengths and a setting libxcrypt accepts
 * (crypt_checksalt).  Anything else, including locked, empty or
 * truncated hashes, is refused.
 */
bool iam_password_hash_valid(const char *hash);

/* ---- TOTP (RFC 6238) --------------------------------------------------- */

struct iam_totp {
	const char *secret;		/* base32 */
	enum iam_totp_algo algorithm;
	uint32_t digits;		/* 6-8 */
	uint32_t period;		/* seconds, >= 1 */
};

/*
 * Check code against the device at time now, accepting the steps from
 * now - window to now + window, but only a step later than after_step
 * (the last step accepted for that user; 0 when none).  Every step of the
 * window is computed and compared in constant time, whatever matches.
 * Returns 0 and sets *ret_step to the matched step; -EACCES wrong code;
 * -EALREADY the code matches only steps at or before after_step (replay);
 * -EINVAL malformed secret or parameters.
 */
int iam_totp_verify(const struct iam_totp *t, const char *code, int64_t now,
		    int window, uint64_t after_step, uint64_t *ret_step);

/* The code of the step holding time now, into buf (>= 9 bytes). */
int iam_totp_generate(const struct iam_totp *t, int64_t now, char *buf,
		      size_t len);

/* The step holding time now. */
uint64_t iam_totp_step(const struct iam_totp *t, int64_t now);

/* ---- Devices and recovery codes --------------------------------------- */

/*
 * The replay key of a device in the state file: 0 for "default" (and
 * NULL), whose step is iam_state.last_step as it always was; otherwise
 * a non-zero hash of the name.
 */
uint32_t iam_mfa_device_tag(const char *name);

/* The tag of a set of recovery hashes (0 when n is 0). */
uint32_t iam_recovery_set_tag(const char *const *hashes, size_t n);

#define IAM_RECOVERY_RAW	16	/* base32 characters: 80 bits */
#define IAM_RECOVERY_LEN	19	/* "ABCD-EFGH-JKLM-NPQR" */

/* One new code from getrandom, "XXXX-XXXX-XXXX-XXXX" (base32). */
int iam_recovery_generate(char code[IAM_RECOVERY_LEN + 1]);

/*
 * A code as typed (any case, dashes and spaces ignored) to its 16
 * characters; -EINVAL when it is not one.
 */
int iam_recovery_normalise(const char *in, char out[IAM_RECOVERY_RAW + 1]);

/* The stored form of a code: sha512crypt, own salt.  You free() it. */
int iam_recovery_hash(const char *code, char **ret_hash);

/*
 * A spent code keeps its place in the set, its hash marked with a
 * leading IAM_RECOVERY_SPENT (iam_creds_spend_recovery()): it never
 * matches again, on any host sharing the store, and the set's tag and
 * the other codes' places (the state's marks) stay as they were.
 */
#define IAM_RECOVERY_SPENT	'!'

/*
 * How many codes of the set (hashes, n) are left: neither spent nor
 * marked in used (iam_state_recovery_used() of the set's tag).
 */
int iam_recovery_left(const char *const *hashes, size_t n, uint32_t used);

/*
 * What a right code matched: a step of one device (tag 0 is the device
 * "default", whose step is iam_state.last_step), or one recovery code.
 */
struct iam_mfa_match {
	uint32_t tag;		/* device tag; 0 "default" */
	uint64_t step;		/* matched step; 0 none */
	int recovery;		/* index of the recovery code; -1 none */
	uint32_t recovery_set;	/* the set's tag when recovery >= 0 */
};

#define IAM_MFA_MATCH_NONE	{ .tag = 0, .step = 0, .recovery = -1 }

struct iam_state;

/*
 * Check code against every device of u (each against its own last step
 * in st, which may be NULL for none) and, when it has the shape of one,
 * against u's recovery codes not yet used.  Every device is checked,
 * whatever matched.  0 and *m set; -EALREADY only a replayed step or a
 * used recovery code matched; -EACCES nothing matched; -ENOENT u has no
 * device.  Settle with iam_lockout_settle_mfa(m).
 */
int iam_mfa_verify(const struct iam_auth_user *u, const char *code,
		   int64_t now, int window, const struct iam_state *st,
		   struct iam_mfa_match *m);

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
