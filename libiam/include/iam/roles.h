/*
 * iam/roles.h - roles on a host: the private role snapshot auth/roles.db,
 * the checks of sts:AssumeRole, the request context of a role session,
 * and the role session records under run_dir.
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
#ifndef IAM_ROLES_H
#define IAM_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/auth.h"
#include "iam/config.h"
#include "iam/decide.h"
#include "iam/identity.h"
#include "iam/policy.h"

/* ---- The role snapshot auth/roles.db ---------------------------------
 *
 * Written by iam_rolesdb_build() and published with the other snapshots
 * as IAM_AUTH_DIR "/roles.db" (root 0600).  Text, one line each:
 *
 *   IAMROLES1 GENERATION ACCOUNT COUNT
 *   NAME<TAB>{"name":"deployer","max_session_seconds":3600,
 *             "tags":{"Duty":"deploy"},"trust_policy":{...},
 *             "policies":[{"name":"DeployAccess","document":{...}}]}
 *   ...
 *
 * with the role lines sorted by name (strcmp), so a lookup bisects the
 * mapped file and parses one line: its cost grows with log(roles), not
 * with the size of the file.  Only a role session (assume-role, or sudo
 * while one is active) reads it; every other decision never opens it.
 */
#define IAM_ROLESDB_FILE	"roles.db"
#define IAM_ROLESDB_MAGIC	"IAMROLES1"
#define IAM_ROLESDB_MAX_BYTES	(64u << 20)

/*
 * Append the role snapshot of id (roles with their trust policy, tags,
 * maximum duration and the documents of their policies) to out.
 * -ENOMEM; -EINVAL when a role references a missing policy (the identity
 * was not validated).
 */
int iam_rolesdb_build(const struct iam_identity *id, uint64_t generation,
		      struct iam_buf *out);

/* One role, as the snapshot has it, with its policies compiled. */
struct iam_role_rec {
	char *name;
	char *account_id;		/* "123456789012" */
	uint32_t max_session_seconds;	/* 900-43200 */
	struct iam_auth_tag *tags;	/* the role's tags (strings owned) */
	size_t n_tags;
	struct iam_policy *trust;	/* trust policy (Principal), owned */
	struct iam_policy_set *trust_set;	/* over trust alone */
	struct iam_policy **policies;	/* the role's policies, owned */
	size_t n_policies;
	struct iam_policy_set *set;	/* over policies */
};

/*
 * Read dir/roles.db (dir NULL: IAM_AUTH_DIR) with the strict rules of a
 * secret (strict_flags: IAM_STRICT_ANY_OWNER in tests only) and return
 * the role called name, compiled.  -ENOENT no such role (or no snapshot
 * file), -EPERM / -ELOOP insecure, -EBADMSG corrupt (including a policy
 * that no longer compiles), -ENOMEM.  Release with iam_role_rec_free().
 */
int iam_rolesdb_lookup(const char *dir, int strict_flags, const char *name,
		       struct iam_role_rec **ret_role);

/*
 * The same lookup in len bytes of a role snapshot built by
 * iam_rolesdb_build() (iamctl simulate, on an identity not published
 * yet).  Same returns as iam_rolesdb_lookup().
 */
int iam_rolesdb_find(const char *text, size_t len, const char *name,
		     struct iam_role_rec **ret_role);

/* Release a role; NULL is fine.  Returns NULL. */
struct iam_role_rec *iam_role_rec_free(struct iam_role_rec *role);

/* ---- Deciding --------------------------------------------------------- */

/*
 * Duration of a new session: asked == 0 gives the default, the smaller
 * of the role's maximum and IAM_ROLE_DEFAULT_SECONDS; otherwise asked
 * itself, from 1 up to the role's maximum (a shorter session only ever
 * takes rights away, so there is no lower bound but 1).  -EDOM above
 * the maximum.
 */
#define IAM_ROLE_DEFAULT_SECONDS	3600
int iam_role_duration(const struct iam_role_rec *role, uint32_t asked,
		      uint32_t *ret_seconds);

/* Why sts:AssumeRole was refused. */
enum iam_assume_verdict {
	IAM_ASSUME_ALLOW = 0,
	IAM_ASSUME_OWN_DENY,		/* the caller's policies deny it explicitly */
	IAM_ASSUME_OWN_NO_ALLOW,	/* the caller's policies do not allow it */
	IAM_ASSUME_TRUST_DENY,		/* the trust policy denies it explicitly */
	IAM_ASSUME_TRUST_NO_ALLOW,	/* the trust policy does not name the
					   caller (or its conditions fail) */
};

/* A sentence for a person: "the trust policy of the role does not ...". */
const char *iam_assume_verdict_text(enum iam_assume_verdict v);

/*
 * Decide sts:AssumeRole on the role's ARN for user u: its own policies
 * (principal) must allow it and the role's trust policy must allow it,
 * both with the same request (iam_request_for_user() with facts: a
 * caller that just gave a code passes mfa_time = now).  own and trust
 * receive both decisions for the trail (trust is left untouched when the
 * own policies already refused; their policy names are borrowed from
 * principal and role, which must outlive them).  Returns 0 and
 * *ret_verdict; a negative
 * errno when it could not be decided (the caller refuses).
 */
int iam_role_check_assume(const struct iam_config *cfg,
			  const struct iam_auth_user *u,
			  const struct iam_principal *principal,
			  const struct iam_role_rec *role,
			  const struct iam_session_facts *facts,
			  struct iam_result *own, struct iam_result *trust,
			  enum iam_assume_verdict *ret_verdict);

/*
 * The request of user u acting in a session of role: every context key
 * of iam_request_for_user() with these changes: aws:PrincipalArn is the
 * role's ARN, aws:PrincipalType is AssumedRole, aws:PrincipalTag/KEY are
 * the role's tags, iam:PrincipalGroups is absent; aws:username and
 * aws:userid still name the person, and iam:RoleSessionId (when id is
 * not NULL) the session.  You own *ret_req; iam_request_free().
 */
int iam_request_for_role(const struct iam_config *cfg,
			 const struct iam_auth_user *u,
			 const struct iam_role_rec *role, const char *id,
			 const struct iam_session_facts *facts,
			 const char *action, const char *resource,
			 struct iam_request **ret_req);

/*
 * Check one TOTP code of u through the lockout routine of pam_iam
 * (iam_lockout_begin/settle): refused unchecked while locked (-EBUSY) or,
 * with lockout off, within IAM_LOCKOUT_DELAY seconds of the last failure
 * (-EAGAIN); the failure counter is raised and saved before the code is
 * checked and reset on success; a step at or before the last accepted one
 * is a replay (-EALREADY); the accepted step is saved.  -ENOKEY no device
 * enrolled, -EACCES wrong code, other negative errnos for an unusable
 * state_dir.  *ret_locked (may be NULL) is set true when this failure
 * started a lockout.
 */
int iam_role_mfa_check(const struct iam_config *cfg,
		       const struct iam_auth_user *u, const char *code,
		       int64_t now, int strict_flags, bool *ret_locked);

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
