/*
 * iam/creds.h - the credentials store: one root 0600 JSON file per user
 * under credentials_dir, layout in iam/store.h (libiam/host/creds.c).
 */
#ifndef IAM_CREDS_H
#define IAM_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/config.h"
#include "iam/identity.h"
#include "iam/util.h"

/* ---- The credentials store ------------------------------------------- */

/*
 * One user's runtime credentials, credentials_dir/UID.json (root 0600).
 * What is set here overrides the identity file's initial credentials and
 * survives every replacement of the identity file.
 */
struct iam_creds {
	uint32_t uid;		/* the user, by id (never by name) */
	bool has_password;	/* the store decides the password */
	struct iam_password password;	/* hash NULL: no password */
	bool has_mfa;		/* the store decides the MFA device */
	struct iam_mfa mfa;	/* secret NULL: no device (disabled) */
	struct iam_mfa *devices;	/* named devices beside "default" */
	size_t n_devices;
	char **recovery;	/* crypt(3) hashes of the recovery codes */
	size_t n_recovery;
};

/* A fresh, empty record for uid.  Release with iam_creds_free(). */
int iam_creds_new(uint32_t uid, struct iam_creds **ret_creds);

/*
 * A record holding a copy of u's current (merged) password and MFA, both
 * marked as decided by the store: the starting point of a change when
 * the user has no credential file yet.  Release with iam_creds_free().
 */
int iam_creds_from_user(const struct iam_user *u, struct iam_creds **ret_creds);

/*
 * Load credentials_dir/UID.json.  -ENOENT when the user has none;
 * -EPERM insecure file (owner, mode, symlink); -EINVAL malformed (each
 * fault, "FILE: password.hash: ...", goes to faults, which may be NULL).
 * You own *ret_creds; release it with iam_creds_free().
 */
int iam_creds_load(const struct iam_config *cfg, uint32_t uid,
		   struct iam_creds **ret_creds, struct iam_faults *faults);

/*
 * Write creds to credentials_dir/UID.json atomically (root 0600),
 * creating credentials_dir (root 0700) when missing.  The record is
 * checked first (hash format, base32 secret of at least 128 bits, digits
 * 6-8, period 15-300, history at most IAM_ID_MAX_HISTORY): -EINVAL and
 * nothing written.  The caller holds the store's lock.
 */
int iam_creds_save(const struct iam_config *cfg, const struct iam_creds *creds);

/* Wipe and release a record; NULL is fine.  Returns NULL. */
struct iam_creds *iam_creds_free(struct iam_creds *creds);

/*
 * Set a new password hash (copied), changed at time changed.  The hash
 * it replaces, if any, becomes history[0]; the history keeps at most
 * keep earlier hashes (capped at IAM_ID_MAX_HISTORY), newest first.
 * Marks the password as decided by the store.  -ENOMEM, -EINVAL.
 */
int iam_creds_set_password(struct iam_creds *creds, const char *hash,
			   int64_t changed, bool must_change, uint32_t keep);

/*
 * Enrol the device m (secret copied), or with m == NULL remove it (the
 * identity file's initial device then no longer applies either).
 */
int iam_creds_set_mfa(struct iam_creds *creds, const struct iam_mfa *m);

/*
 * Named devices (AWS's arn:iam:iam::ACCOUNT:mfa/USER/NAME).  The device
 * "default" is the "mfa" object (iam_creds_set_mfa()); others are
 * added here, at most IAM_MFA_MAX_DEVICES in all.  add: m->name must be
 * a valid name other than "default" (-EINVAL), not taken (-EEXIST), with
 * room left (-ENOSPC); the secret and name are copied.  remove: -ENOENT.
 */
int iam_creds_add_device(struct iam_creds *creds, const struct iam_mfa *m);
int iam_creds_remove_device(struct iam_creds *creds, const char *name);

/* Number of enrolled devices, "default" included. */
size_t iam_creds_device_count(const struct iam_creds *creds);

/*
 * Replace the recovery codes with n hashes (copied; n 0 removes them).
 * Each is a crypt(3) hash made by iam_recovery_hash().  -EINVAL, -ENOMEM.
 */
int iam_creds_set_recovery(struct iam_creds *creds, char *const *hashes,
			   size_t n);

/* True when name is a device name: [A-Za-z0-9_.@+=-]{1,64}. */
bool iam_mfa_name_valid(const char *name);

/*
 * Override every user's initial credentials in id with the stored ones:
 * for each credentials_dir/UID.json whose uid is a user of id.  A file
 * for a uid no longer in id is ignored and kept.  A missing
 * credentials_dir means no stored credentials.  An insecure or malformed
 * file is a fault (-EINVAL / -EPERM); id is then partly merged and must
 * not be published.
 */
int iam_creds_apply(const struct iam_config *cfg, struct iam_identity *id,
		    struct iam_faults *faults);

#endif
