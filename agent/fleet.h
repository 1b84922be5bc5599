/*
 * fleet.h - one identity for many hosts through etcd (iam-agent(8)).
 *
 * Built into iamctl and iam-agent only, never into libiam.so: PAM, NSS
 * and sudo load neither libcurl nor libsodium and never touch the network.
 *
 * Layout under PREFIX + ACCOUNT + "/" in etcd (keys below are relative):
 *
 *   account          account, password_policy, retired_ids (one object)
 *   users/NAME       one user, as the identity file writes it
 *   groups/NAME      one group
 *   roles/NAME       one role
 *   policies/NAME    one managed policy document
 *   hosts/NAME       an enrolled host: its public key, signed by an admin
 *   manifest         generation, time, root hash, Ed25519 signature
 *   status/HOSTNAME  what a host applied (on a lease; not signed)
 *
 * The root hash is SHA-256 over the sorted list of covered keys (every
 * key of the first six kinds), each key followed by a NUL and the
 * SHA-256 of its value.  A host applies a state only when, at one etcd
 * revision, the covered objects hash to the root of a manifest signed by
 * a trusted key with a generation above the last it applied.
 *
 * Functions return 0 or a negative errno; messages go to err (errlen
 * bytes, always terminated) and name what was refused.
 */
#ifndef IAM_FLEET_H
#define IAM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam.h"

#define FLEET_MAX_OBJECT	(1u << 20)	/* one value (etcd: 1.5 MiB per request) */
#define FLEET_MAX_MANIFEST	4096		/* the manifest's text */
#define FLEET_MAX_OBJECTS	1000000		/* covered keys of one state */
#define FLEET_MAX_KEY		256		/* a relative key */
#define FLEET_MAX_TRUSTED	64		/* files in trusted-keys/ */
#define FLEET_SIG_BYTES		64
#define FLEET_PK_BYTES		32
#define FLEET_SK_BYTES		64
#define FLEET_HASH_BYTES	32
#define FLEET_KEY_ID_LEN	16		/* hex characters */

/* Append s as a JSON string (escaped by libiam's writer) to out. */
int fleet_json_string(struct iam_buf *out, const char *s);

/* ---- Object sets ------------------------------------------------------ */

struct fleet_obj {
	char *key;		/* relative key, "users/alice" */
	char *val;		/* the value (NUL-terminated, len bytes) */
	size_t len;
	int64_t mod_rev;	/* etcd mod_revision; 0 when not from etcd */
	uint8_t hash[32];	/* SHA-256 of the value, kept with it */
};

/* Objects sorted by key (fleet_set_sort), keys unique. */
struct fleet_set {
	struct fleet_obj *v;
	size_t n, alloc;
};
#define FLEET_SET_INIT { NULL, 0, 0 }

/* Add a copy of key/val.  -ENOMEM, -E2BIG over the caps. */
int fleet_set_add(struct fleet_set *s, const char *key, const char *val,
		  size_t len, int64_t mod_rev);
/* Sort by key; -EEXIST when a key is there twice. */
int fleet_set_sort(struct fleet_set *s);
/* The object with key in a sorted set, or NULL. */
const struct fleet_obj *fleet_set_find(const struct fleet_set *s,
				       const char *key);
/* Remove key from a sorted set (no-op when absent). */
void fleet_set_del(struct fleet_set *s, const char *key);
/* Insert or replace key in a sorted set.  -ENOMEM. */
int fleet_set_put(struct fleet_set *s, const char *key, const char *val,
		  size_t len, int64_t mod_rev);
void fleet_set_release(struct fleet_set *s);

/* True for the keys the root hash covers (identity objects and hosts/). */
bool fleet_key_covered(const char *rel);

/*
 * Check a relative key: a covered kind with a well-formed name
 * (users/ and groups/ as iam_name_valid, roles/ policies/ hosts/ as
 * [A-Za-z0-9+=,.@_-]{1,128}).  Returns 0 or -EINVAL with why in err.
 */
int fleet_key_check(const char *rel, char *err, size_t errlen);

/* ---- Identity <-> objects --------------------------------------------- */

/*
 * The canonical objects of a validated identity: iam_identity_write's
 * stable text, split per object, each written compactly.  Refuses
 * (-EPERM, reason in err) an identity file that carries an MFA secret:
 * MFA secrets never travel in the clear.  The text is read under
 * fleet_identity_limits().  Adds to out (not sorted).
 */
/*
 * The JSON limits of an identity's text of len bytes in the fleet: those
 * of the identity file (iam.conf's identity_max_bytes, _users, _groups;
 * not the parser's defaults of 64 MiB and 1M items), and at least len
 * bytes, for iam_identity_write()'s indented text of an identity that
 * loaded under them may be longer than its file.
 */
void fleet_identity_limits(const struct iam_config *cfg, size_t len,
			   struct iam_json_limits *ret);

int fleet_split_identity(const struct iam_config *cfg,
			 const struct iam_identity *id, struct fleet_set *out,
			 char *err, size_t errlen);

/*
 * The identity file text of the covered identity objects of a sorted
 * set (hosts/ are left out).  Every value must parse as strict JSON of
 * the right type and a named object must carry its key's name: -EINVAL
 * with the key and reason in err.  out receives the text.
 */
int fleet_assemble(const struct fleet_set *s, struct iam_buf *out,
		   char *err, size_t errlen);

/* ---- Root hash and manifest ------------------------------------------- */

/* The root hash of the covered keys of a sorted set; count receives their number. */
void fleet_root_hash(const struct fleet_set *s, uint8_t root[FLEET_HASH_BYTES],
		     uint64_t *ret_count);

struct fleet_manifest {
	char account[13];		/* 12 digits */
	uint64_t generation;		/* >= 1, one above the last */
	int64_t time;			/* epoch seconds of the push */
	uint8_t root[FLEET_HASH_BYTES];
	uint64_t count;			/* covered objects */
	char key_id[FLEET_KEY_ID_LEN + 1];	/* signer: hex of SHA-256(pk)[0..8] */
	uint8_t sig[FLEET_SIG_BYTES];	/* Ed25519 over fleet_manifest_signed() */
};

/* The key id of a public key (16 hex characters and a NUL). */
void fleet_key_id(const uint8_t pk[FLEET_PK_BYTES],
		  char id[FLEET_KEY_ID_LEN + 1]);

/* Sign m (sets key_id and sig) with the secret key sk. */
int fleet_manifest_sign(struct fleet_manifest *m,
			const uint8_t sk[FLEET_SK_BYTES]);

/* The manifest as JSON text (one line).  -ENOMEM. */
int fleet_manifest_format(const struct fleet_manifest *m, struct iam_buf *out);

/*
 * Parse a manifest strictly: exactly the known members with their types,
 * at most FLEET_MAX_MANIFEST bytes.  -EINVAL with the reason in err.
 */
int fleet_manifest_parse(const char *text, size_t len,
			 struct fleet_manifest *ret, char *err, size_t errlen);

/* ---- Keys ------------------------------------------------------------- */

struct fleet_trusted {
	char key_id[FLEET_KEY_ID_LEN + 1];
	uint8_t pk[FLEET_PK_BYTES];
};

struct fleet_keyring {
	struct fleet_trusted v[FLEET_MAX_TRUSTED];
	size_t n;
};

/*
 * Load every *.pub of the folder dir (root 0755, files root 0644, no
 * links; strict_flags as iam_open_strict, tests pass
 * IAM_STRICT_ANY_OWNER).  A malformed or insecure file refuses the whole
 * folder.  -ENOENT when the folder is missing.
 */
int fleet_keyring_load(const char *dir, int strict_flags,
		       struct fleet_keyring *ring, char *err, size_t errlen);

/*
 * Verify m against the ring: -ENOKEY when its key id is not trusted,
 * -EBADMSG when the signature does not verify.
 */
int fleet_manifest_verify(const struct fleet_manifest *m,
			  const struct fleet_keyring *ring);

/*
 * A one-line secret file (root's, not for others, at most 512 bytes) into
 * text, its final newlines cut; *ret_rest: what follows prefix, NULL when
 * the text does not start with it.  0 or -errno (err says why).
 */
int fleet_secret_read(const char *path, int strict_flags, const char *prefix,
		      struct iam_buf *text, const char **ret_rest, char *err,
		      size_t errlen);

/* Key files: one line "iam-ed25519-secret BASE64" (root 0600). */
int fleet_secret_key_load(const char *path, int strict_flags,
			  uint8_t sk[FLEET_SK_BYTES], char *err, size_t errlen);
int fleet_secret_key_format(const uint8_t sk[FLEET_SK_BYTES],
			    struct iam_buf *out);
/* Public key files: one line "iam-ed25519 BASE64 COMMENT" (root 0644). */
int fleet_public_key_format(const uint8_t pk[FLEET_PK_BYTES],
			    const char *comment, struct iam_buf *out);
int fleet_public_key_parse(const char *text, size_t len,
			   uint8_t pk[FLEET_PK_BYTES]);
/* The fleet's sealing key: "iam-fleet-key BASE64" (32 bytes). */
int fleet_sealing_key_format(const uint8_t key[32], struct iam_buf *out);

/* ---- Enrolled hosts --------------------------------------------------- */

struct fleet_host {
	char name[129];
	uint8_t pk[FLEET_PK_BYTES];	/* the host's public key */
	bool revoked;
	int64_t time;			/* of enrolment or revocation */
	char key_id[FLEET_KEY_ID_LEN + 1];	/* the admin who signed */
	uint8_t sig[FLEET_SIG_BYTES];
};

int fleet_host_sign(struct fleet_host *h, const uint8_t sk[FLEET_SK_BYTES]);
int fleet_host_format(const struct fleet_host *h, struct iam_buf *out);
int fleet_host_parse(const char *text, size_t len, struct fleet_host *ret,
		     char *err, size_t errlen);
int fleet_host_verify(const struct fleet_host *h,
		      const struct fleet_keyring *ring);

/* ---- Encoding helpers ------------------------------------------------- */

/* Standard base64 of n bytes, appended to out.  -ENOMEM. */
int fleet_b64_encode(const void *p, size_t n, struct iam_buf *out);
/* Decode standard base64 (no spaces) into out.  -EINVAL. */
int fleet_b64_decode(const char *s, size_t len, struct iam_buf *out);

/* 64 lowercase hex characters of a hash, NUL-terminated. */
void fleet_hex(const uint8_t *p, size_t n, char *out);

/* Start libsodium once; -EIO when it cannot. */
int fleet_crypto_init(void);

#endif
