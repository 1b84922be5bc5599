/*
 * iam/identity.h - the identity model: account, password policy, users,
 * groups, roles, policies, tags, SSH keys and credentials, loaded from the
 * identity file (iam-identity(5)) and merged with the credentials store.
 * Implemented in libiam/identity/: identity.c loads, identity_validate.c
 * checks and indexes, identity_write.c writes.
 *
 * Invariants of a loaded identity (iam_identity_parse() returned 0):
 *
 *  - Every rule of iam-identity(5) holds: names and ids unique, ids in the
 *    configured ranges and clear of the host's own accounts, every
 *    reference resolves, every policy compiled.
 *  - const strings are borrowed from the identity: most live in the JSON
 *    document it keeps (doc), the others in its own storage.  They live
 *    until iam_identity_free().
 *  - The credentials (password.hash, password.history[] and its array,
 *    mfa.secret) are malloc'd and owned by the identity, so the
 *    credentials store may replace them (free the old one with
 *    iam_drop_string()).  iam_identity_free() wipes and frees them.
 *  - Arrays (users, groups, ...) are malloc'd and owned by the identity; a
 *    caller that edits the model may realloc them, then must call
 *    iam_identity_reindex() before the next lookup.
 *  - The lists of a user, group or role (groups, policies, tags.v) live
 *    in the identity's own storage, as its strings do: never free or
 *    realloc them; to change one, point it at storage of your own that
 *    outlives the identity.
 */
#ifndef IAM_IDENTITY_H
#define IAM_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam/config.h"
#include "iam/json.h"
#include "iam/policy.h"
#include "iam/util.h"

/*
 * Limits on the identity file, each refused with its own message.  The
 * whole file, its users and its groups are capped by settings of
 * iam.conf(5) (identity_max_bytes, _users, _groups); these are their
 * defaults, and the LIMIT ones the highest values the settings take.
 */
#define IAM_ID_MAX_BYTES	(1024u << 20)	/* whole file (default) */
#define IAM_ID_MIN_BYTES	1024u		/* lowest identity_max_bytes */
#define IAM_ID_LIMIT_BYTES	(16ull << 30)	/* highest identity_max_bytes */
#define IAM_ID_MAX_DEPTH	64		/* JSON nesting */
#define IAM_ID_MAX_STRING	(64u << 10)	/* one string */
#define IAM_ID_MAX_USERS	2000000		/* users (default) */
#define IAM_ID_MAX_GROUPS	2000000		/* groups (default) */
#define IAM_ID_LIMIT_ENTRIES	(1u << 24)	/* highest _users, _groups */
#define IAM_ID_MAX_ROLES	10000
#define IAM_ID_MAX_POLICIES	100000
#define IAM_ID_MAX_PER_USER	1000	/* groups, policies, tags, keys of one user */
#define IAM_ID_MAX_HISTORY	24	/* reuse_prevention upper bound */
#define IAM_ID_MAX_TAGS		50	/* tags of one user or role */
#define IAM_ID_MAX_RETIRED	1000000	/* retired_ids entries */
#define IAM_ID_MAX_TAG_KEY	128	/* characters of a tag key */
#define IAM_ID_MAX_TAG_VALUE	256	/* characters of a tag value */
#define IAM_ID_MAX_GECOS	256	/* bytes of gecos */
#define IAM_ID_MAX_PATH		1024	/* bytes of home or shell */
#define IAM_ID_MAX_SSH_KEY	16384	/* bytes of one SSH key line */

enum iam_totp_algo { IAM_TOTP_SHA1, IAM_TOTP_SHA256, IAM_TOTP_SHA512 };

struct iam_account {
	const char *id;		/* 12 digits, "123456789012" */
	const char *alias;	/* may be NULL */
};

struct iam_lockout {
	uint32_t max_failed_attempts;	/* >= 1; 0 when lockout is off */
	uint32_t lockout_seconds;	/* >= 1 */
};

struct iam_password_policy {
	uint32_t minimum_length;	/* 6-128; default 8 */
	bool require_uppercase, require_lowercase;
	bool require_numbers, require_symbols;
	uint32_t max_age_days;		/* 1-1095; 0 = never expires */
	uint32_t reuse_prevention;	/* 1-24; 0 = no history */
	bool hard_expiry;		/* expired: PAM_ACCT_EXPIRED */
	bool allow_users_to_change;	/* default true */
	uint32_t ssh_key_max_age_days;	/* 0 = no limit */
	struct iam_lockout lockout;
};

struct iam_tags {
	struct iam_tag *v;	/* key/value pairs, keys unique */
	size_t n;
};

struct iam_ssh_key {
	const char *id;		/* unique within the user, [A-Za-z0-9_.@+=-]{1,64} */
	const char *key;	/* "TYPE BASE64 [comment]", validated */
	int64_t created;	/* epoch seconds */
	bool active;		/* status "Active" */
};

/* Password credential; hash == NULL means no password is set. */
struct iam_password {
	char *hash;		/* crypt(3) hash: $y$, $6$, $2b$ */
	int64_t changed;	/* epoch seconds; 0 unknown */
	char **history;		/* earlier hashes, newest first */
	uint32_t n_history;	/* at most IAM_ID_MAX_HISTORY */
	bool must_change;	/* change forced at next login */
};

/* TOTP device; secret == NULL means no device is enrolled. */
struct iam_mfa {
	char *secret;		/* base32, >= 128 bits; a secret: wipe */
	char *name;		/* NULL: the device "default" (the identity
				   file's or the store's "mfa" object) */
	int64_t enabled;	/* epoch seconds of enrolment; 0 unknown */
	enum iam_totp_algo algorithm;
	uint16_t digits;	/* 6-8 */
	uint16_t period;	/* seconds, 15-300; default 30 */
};

#define IAM_MFA_MAX_DEVICES	8		/* TOTP devices of one user (AWS's limit) */
#define IAM_MFA_DEFAULT		"default"	/* name of the "mfa" device */
#define IAM_MFA_NAME_MAX	64		/* bytes of a device name */
#define IAM_RECOVERY_CODES	10		/* codes of one set */

/* A named policy document and its compiled form. */
struct iam_named_policy {
	const char *name;
	const struct iam_json *doc;	/* the document as written */
	struct iam_policy *compiled;	/* owned; iam_policy_free() */
};

/*
 * One user.  The fields are ordered, and the counts are 32-bit, so that
 * a million of them fit in 240 MB (every count is capped far below by
 * the IAM_ID_MAX_* limits above).
 */
struct iam_user {
	const char *name;
	const char *primary_group;	/* name of an IAM group */
	const char *gecos;		/* "" when absent */
	const char *home;		/* /home/NAME when absent */
	const char *shell;		/* /bin/bash when absent */
	int64_t created;		/* epoch seconds; 0 unknown */
	uint32_t uid;
	uint32_t gid;			/* resolved gid of primary_group */
	const char **groups;		/* IAM group names (supplementary) */
	const char **policies;		/* names of managed policies attached */
	struct iam_named_policy *inline_policies;
	const char *permissions_boundary;	/* policy name or NULL */
	struct iam_tags tags;
	struct iam_password password;	/* merged: credentials store wins */
	struct iam_mfa mfa;		/* merged: credentials store wins */
	/* Named devices beside "default" (credentials store only). */
	struct iam_mfa *mfa_devices;
	/* Hashes of the recovery codes (credentials store only). */
	char **recovery_codes;
	struct iam_ssh_key *ssh_keys;
	uint32_t n_groups;
	uint32_t n_policies;
	uint32_t n_inline;
	uint32_t n_mfa_devices;
	uint32_t n_recovery_codes;
	uint32_t n_ssh_keys;
	bool disabled;
	/*
	 * The initial credentials exactly as the identity file wrote them
	 * ("password" and "mfa" objects, or NULL): iam_identity_write()
	 * saves these, never the credentials store's, which live in
	 * password and mfa above once merged.
	 */
	const struct iam_json *file_password;
	const struct iam_json *file_mfa;
};

struct iam_group {
	const char *name;
	uint32_t gid;
	const char **policies;	/* managed policy names */
	size_t n_policies;
};

struct iam_role {
	const char *name;
	uint32_t max_session_seconds;	/* 900-43200; default 3600 */
	struct iam_tags tags;
	struct iam_named_policy trust_policy;	/* with Principal */
	const char **policies;
	size_t n_policies;
};

struct iam_identity {
	struct iam_account account;
	struct iam_password_policy password_policy;
	uint32_t *retired_ids;	/* never handed out again */
	size_t n_retired;
	struct iam_user *users;
	size_t n_users;
	struct iam_group *groups;
	size_t n_groups;
	struct iam_role *roles;
	size_t n_roles;
	struct iam_named_policy *policies;	/* managed policies by name */
	size_t n_policies;
	struct iam_json_doc *doc;	/* the parsed file; owned */
	void *priv;			/* loader's own storage and indexes */
};

/*
 * Build the model from the len bytes of an identity file at buf, and
 * validate it completely (iam-identity(5)): every fault is added to
 * faults with its JSON path, for example
 *   users[3].uid: 0 is outside 70000-99999
 * Checks against the host (local accounts in /etc/passwd and /etc/group,
 * /etc/subuid and /etc/subgid) use the files under host_root ("/" or
 * NULL for the real ones; tests pass a folder).
 * Returns 0 and sets *ret_id only when there is no fault at all;
 * -EINVAL when faults were found; -ENOMEM.  Release with
 * iam_identity_free().
 */
int iam_identity_parse(const char *buf, size_t len,
		       const struct iam_config *cfg, const char *host_root,
		       struct iam_identity **ret_id, struct iam_faults *faults);

/*
 * The JSON limits an identity file is parsed with under cfg (its
 * identity_max_bytes, nesting, string and item caps), for a caller that
 * parses the file's tree itself.
 */
void iam_identity_json_limits(const struct iam_config *cfg,
			      struct iam_json_limits *ret);

/*
 * Read path (at most cfg's identity_max_bytes) and iam_identity_parse() it.
 * When strict, the file is opened with iam_open_strict() as a secret
 * (root-owned, not readable or writable by group or others, parents not
 * writable by others, no symbolic link); otherwise only its content is
 * checked, and "-" reads standard input.  Returns what
 * iam_identity_parse() returns once the file was read; when it could not
 * be read, the errno of the failure (-ENOENT, -EACCES, -EISDIR, ...),
 * with a fault naming the file.  A file refused by the strict rules is
 * -EPERM or -ELOOP, a file over the size limit -EFBIG, each with a fault.
 */
int iam_identity_load(const char *path, bool strict,
		      const struct iam_config *cfg, const char *host_root,
		      struct iam_identity **ret_id, struct iam_faults *faults);

/* Release an identity; NULL is fine.  Wipes secrets.  Returns NULL. */
struct iam_identity *iam_identity_free(struct iam_identity *id);

/*
 * Lookups; borrowed pointers or NULL.  O(log n) through sorted indexes
 * built at load (and by iam_identity_reindex()).
 */
const struct iam_user *iam_identity_user(const struct iam_identity *id,
					 const char *name);
const struct iam_user *iam_identity_user_by_uid(const struct iam_identity *id,
						uint32_t uid);
const struct iam_group *iam_identity_group(const struct iam_identity *id,
					   const char *name);
const struct iam_group *iam_identity_group_by_gid(const struct iam_identity *id,
						  uint32_t gid);
const struct iam_role *iam_identity_role(const struct iam_identity *id,
					 const char *name);
const struct iam_named_policy *iam_identity_policy(const struct iam_identity *id,
						   const char *name);

/*
 * Rebuild the lookup indexes after the arrays of id were edited.
 * -ENOMEM (the old indexes are then kept, and stale).
 */
int iam_identity_reindex(struct iam_identity *id);

/*
 * A copy of s that lives as long as id (for a caller that edits the
 * model and needs a string with the identity's lifetime).  NULL when out
 * of memory.  Not for secrets.
 */
const char *iam_identity_strdup(struct iam_identity *id, const char *s);

/*
 * Check a TOTP secret: base32 (RFC 4648, A-Z and 2-7, optional '='
 * padding) of at least 128 bits.  On failure, *ret_why (when not NULL)
 * points to a static reason.
 */
bool iam_totp_secret_valid(const char *secret, const char **ret_why);

/*
 * Check one OpenSSH public key line "TYPE BASE64 [COMMENT]": a known
 * type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521,
 * sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com),
 * valid base64 whose embedded type equals TYPE, no options prefix, no
 * control character.  On failure, *ret_why (when not NULL) points to a
 * static reason.
 */
bool iam_ssh_key_valid(const char *line, const char **ret_why);

/*
 * Serialise the identity back to identity-file JSON (pretty, stable key
 * order, defaults left out), without the credentials that came from the
 * credentials store (file_password and file_mfa are written as they
 * were).  Appends to out; release out with iam_buf_wipe(), since initial
 * credentials may be in it.  -ENOMEM; -EINVAL when the model cannot be
 * written (a required name missing, a string not UTF-8, a policy without
 * its document): out may then hold a partial text.
 */
int iam_identity_write(const struct iam_identity *id, struct iam_buf *out);

#endif
