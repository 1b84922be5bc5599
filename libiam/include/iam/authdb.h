/*
 * iam/authdb.h - the private snapshot auth/auth.db: its builder and its
 * reader (libiam/snapshot/authdb.c).
 */
#ifndef IAM_AUTHDB_H
#define IAM_AUTHDB_H

#include <stddef.h>
#include <stdint.h>

#include "iam/config.h"
#include "iam/identity.h"
#include "iam/util.h"

/* ---- The private snapshot auth/auth.db --------------------------------
 *
 * Written by iam_authdb_build() (below), published as
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
 *
 * Version 2 sums the header and every part 8 bytes a step; version 1
 * (FNV-1a, byte after byte) is still read, until the next publication
 * replaces it.  The builder sizes each part before writing it in place,
 * and a publication streams the file to disk through a small window.
 */

#define IAM_AUTHDB_FILE		"auth.db"
#define IAM_AUTHDB_MAGIC	"IAMAUTH1"	/* 8 bytes, no NUL */
#define IAM_AUTHDB_VERSION	2

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

/*
 * The private snapshot auth/auth.db (root 0600 in a root 0700 folder):
 * per user what a login or a sudo decision needs (credentials merged,
 * policies, groups, tags), read in time independent of the number of
 * users.  The buffer holds secrets: release it with iam_buf_wipe().
 */
int iam_authdb_build(const struct iam_identity *id, uint64_t generation,
		     struct iam_buf *out);

#endif
