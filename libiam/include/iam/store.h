/*
 * iam/store.h - files on a host: strict opening, atomic writes, the
 * store's lock, the credentials store and publishing of snapshots.
 *
 * Every file or folder holding secrets or settings is opened with
 * O_NOFOLLOW|O_CLOEXEC and checked on the open descriptor: owned by root,
 * not writable by group or others (nor readable by them for secrets), its
 * parent folders not writable by others (a sticky folder may be a parent).
 *
 * Layout on a host (iam.conf(5) names the folders):
 *
 *   credentials_dir/          root 0700
 *     .lock                   root 0600, the store's lock (flock)
 *     UID.json                root 0600, one user's runtime credentials
 *   snapshot_dir/             root 0755
 *     current -> gen/N        the generation served (a symbolic link,
 *                             replaced by one rename per publication)
 *     gen/                    root 0755
 *       N/                    root 0755, one generation, never changed
 *         nss.db              root 0644, public NSS snapshot
 *         keys.db             root 0644, public SSH keys (iam/keys.h)
 *         generation          root 0600, N
 *         source              root 0600, what the identity file was
 *         auth/               root 0700
 *           auth.db           root 0600, private snapshot
 *           roles.db          root 0600, roles (iam/roles.h)
 *     nss.db -> current/nss.db, keys.db -> current/keys.db,
 *     generation -> current/generation, auth -> current/auth
 *                             fixed links for the documented paths
 *
 * Writers of the identity file, the credentials or the snapshots hold the
 * store's lock for the whole read-modify-publish sequence, so two writers
 * never lose each other's update.
 */
#ifndef IAM_STORE_H
#define IAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam/config.h"
#include "iam/identity.h"
#include "iam/util.h"

/* ---- Strict files ---------------------------------------------------- */

/* Flags for iam_open_strict() and iam_ensure_dir(). */
#define IAM_STRICT_SECRET	0x01	/* also refuse group/other readable */
#define IAM_STRICT_DIR		0x02	/* the path must be a folder */
#define IAM_STRICT_ANY_OWNER	0x04	/* tests only: skip the owner check */

/*
 * Open path read-only under the strict rules above (flags IAM_STRICT_*).
 * Returns a descriptor (>= 0) or a negative errno: -ENOENT missing,
 * -ELOOP a symlink, -EPERM wrong owner or mode (why in err: "FILE: is
 * writable by group or others"), -ENOTDIR.
 */
int iam_open_strict(const char *path, int flags, char *err, size_t errlen);

/* A strict file mapped read-only (iam_map_strict()). */
struct iam_map {
	void *p;		/* NULL when nothing is mapped */
	size_t size;
};

/*
 * Open path as iam_open_strict() does and map it read-only (private);
 * its size must be min to max bytes (min at least 1), else -EBADMSG
 * ("FILE: is truncated or too large" in err).  Release with iam_unmap().
 */
int iam_map_strict(const char *path, int flags, size_t min, size_t max,
		   struct iam_map *ret_map, char *err, size_t errlen);

/* Unmap; a map never set or already released is fine. */
void iam_unmap(struct iam_map *m);

/*
 * Read a whole strict file of at most max bytes into a fresh buffer.
 * You own *ret_buf (NUL-terminated); free it (iam_buf_wipe for secrets).
 */
int iam_read_strict(const char *path, int flags, size_t max,
		    struct iam_buf *ret_buf, char *err, size_t errlen);

/*
 * Make sure path is a folder owned by root with no permission beyond
 * mode (0700 or 0755): a missing one is created (mkdir, then fchmod to
 * mode, whatever the umask); an existing one that is a symbolic link, not
 * a folder, not owned by root, or open beyond mode is refused (-ELOOP,
 * -ENOTDIR, -EPERM, reason in err).  Its parents must pass the strict
 * rules; only the last component is created.  Returns an O_DIRECTORY
 * descriptor (>= 0) that you close, or a negative errno.
 */
int iam_ensure_dir(const char *path, mode_t mode, int flags, char *err,
		   size_t errlen);

/* ---- Atomic writes --------------------------------------------------- */

/*
 * Replace path atomically with len bytes at data, with the given mode:
 * temporary file in the same folder (O_CREAT|O_EXCL|O_NOFOLLOW), fchmod
 * (mode), write everything (a short write is retried, an error fails),
 * fsync, rename, fsync the folder.  A reader never sees half a file; on
 * any failure the old file is untouched and the temporary file removed.
 * The folder must exist, be owned by root (or the caller) and not be
 * writable by group or others.  The caller holds the store's lock.
 */
int iam_write_atomic(const char *path, const void *data, size_t len,
		     mode_t mode);

/*
 * Several files replaced together: each iam_atomic_add() writes and
 * fsyncs its temporary file; iam_atomic_commit() renames them all, in the
 * order added, then fsyncs their folders.  A failure before the first
 * rename leaves every old file intact.  iam_atomic_free() removes the
 * temporary files not yet renamed; NULL is fine; returns NULL.
 */
struct iam_atomic;
int iam_atomic_new(struct iam_atomic **ret_set);
int iam_atomic_add(struct iam_atomic *set, const char *path, const void *data,
		   size_t len, mode_t mode);
int iam_atomic_commit(struct iam_atomic *set);
struct iam_atomic *iam_atomic_free(struct iam_atomic *set);

/*
 * Make fds 0, 1 and 2 open (to /dev/null when closed), so that no file
 * the library opens can become a process's stdin/stdout/stderr.
 */
int iam_sanitize_fds(void);

/* ---- The store's lock ------------------------------------------------ */

/*
 * Take the store's lock, waiting: flock(LOCK_EX) on credentials_dir/.lock
 * (created root 0600; credentials_dir is created root 0700 when
 * missing).  One lock guards the identity file, the credentials and the
 * snapshots.  Returns a descriptor for iam_store_unlock(), or a negative
 * errno.  Not recursive: a holder calls the *_locked variants.
 */
int iam_store_lock(const struct iam_config *cfg);
void iam_store_unlock(int lockfd);

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

/* ---- Publishing ------------------------------------------------------ */

/*
 * Publish: take the store's lock, load and validate the identity file
 * (strict) with the stored credentials, and only when all is valid write
 * a new generation snapshot_dir/gen/N (N one above every generation
 * there) and make it current by one rename of the link snapshot_dir/current;
 * then remove older generations (the one current before is kept) and
 * what interrupted publications left (temporary snapshot, identity and
 * credential files).  Creates a missing snapshot_dir and gen/ (0755),
 * credentials_dir and state_dir (0700).  On any fault nothing a reader
 * sees changes: the host keeps serving the last good generation.
 * host_root: as iam_identity_load() ("/" or NULL for the real host).
 * faults (may be NULL) receives every fault found.
 * Returns 0, -EINVAL (faults), or the errno of what failed.
 */
int iam_publish(const struct iam_config *cfg, const char *host_root,
		struct iam_faults *faults);

/* The same, for a caller that already holds the store's lock. */
int iam_publish_locked(const struct iam_config *cfg, const char *host_root,
		       struct iam_faults *faults);

/*
 * Commit text as the new identity file and publish it, one transaction
 * (the caller holds the store's lock): text is validated with the
 * credentials, the generation written, the file replaced (the old one
 * kept as a hard link), current switched, the old file's link dropped.
 * Any failure before the switch puts the old file back: a non-zero
 * return means no reader and no file changed; 0 means all did.
 */
int iam_publish_text_locked(const struct iam_config *cfg,
			    const char *host_root, const char *text,
			    size_t len, struct iam_faults *faults);

/*
 * iam_publish(), for a damaged publication: a `current` that is not a
 * link is removed first, and after the switch every other generation
 * goes, the previous one included.  (An ordinary publication already
 * rebuilds every file from the identity file and the credentials and
 * ignores an unreadable generation file.)
 */
int iam_publish_repair(const struct iam_config *cfg, const char *host_root,
		       struct iam_faults *faults);

/*
 * Lock, save creds, publish, unlock.  When publishing fails (for example
 * a broken identity file, or a uid that is not a user of it), the
 * credential file is restored byte for byte (or removed when it did not
 * exist) and the error returned.
 */
int iam_creds_commit(const struct iam_config *cfg, uint32_t uid,
		     const struct iam_creds *creds, const char *host_root,
		     struct iam_faults *faults);

/*
 * Change the credential record of uid under the store's lock: the
 * stored record is read under the lock (*creds is NULL when uid has
 * none yet; change may then create one), change edits it in place, and
 * the result is saved and published as by iam_creds_commit().  change
 * returns 0 to go on or a -errno that is returned as it is with nothing
 * written; -ESTALE by convention when the record is no longer the one
 * the caller's decision was based on (changed by another process).
 */
typedef int (*iam_creds_change_fn)(struct iam_creds **creds, void *arg);

int iam_creds_update(const struct iam_config *cfg, uint32_t uid,
		     iam_creds_change_fn change, void *arg,
		     const char *host_root, struct iam_faults *faults);

/*
 * Spend one recovery code: mark hash (one of the record's recovery code
 * hashes, as the private snapshot carried it) spent in uid's record
 * (IAM_RECOVERY_SPENT) through iam_creds_update(), so the store, and
 * every host that shares it, never takes that code again; the state's
 * mark refuses it meanwhile.  -ENOENT when the record does not hold it
 * (spent or regenerated in the meantime); other errors as
 * iam_creds_update().
 */
int iam_creds_spend_recovery(const struct iam_config *cfg, uint32_t uid,
			     const char *hash, struct iam_faults *faults);

/*
 * The generation served (0 when nothing was published yet): N of
 * current, or for a host still in the flat layout of earlier versions
 * the number in its generation file or nss.db.  -EBADMSG for a current
 * that is not a link to gen/N.
 */
int iam_snapshot_generation(const struct iam_config *cfg, uint64_t *ret_gen);

/*
 * The path of name ("nss.db", "keys.db", "auth", NULL for the folder
 * itself) in the generation served now: current is resolved once, so
 * every file of one lookup taken under the returned folder comes from
 * one generation.  A host without current (the flat layout of earlier
 * versions) gives snapshot_dir/name.  -EBADMSG: current is not a link
 * to gen/N (fail closed); -ENAMETOOLONG.
 */
int iam_snapshot_path(const struct iam_config *cfg, const char *name,
		      char *buf, size_t len);

/*
 * Check the publication: current is a link to a generation whose files
 * are all there, readable and of that generation, the fixed links point
 * into current/, and the identity file is the one that was published.
 * Each problem goes to faults with its fix.  0 or -EINVAL.
 */
int iam_publish_check(const struct iam_config *cfg, struct iam_faults *faults);

/*
 * `iamctl edit` works on a copy in a private folder (0700) named
 * IAM_EDIT_DIR_PREFIX + six characters in the identity file's folder,
 * holding an exclusive flock on the file "lock" inside it while it runs:
 * a folder whose lock nobody holds was left by a killed edit.
 */
#define IAM_EDIT_DIR_PREFIX	".iamctl-edit."

/*
 * Call fn with the path of each leftover of an interrupted change
 * (temporary snapshot, identity or credential files, the folder of a
 * killed edit, unfinished or old generations) and why it is one.  The
 * next publication removes them.
 */
int iam_publish_leftovers(const struct iam_config *cfg,
			  void (*fn)(void *ctx, const char *path,
				     const char *what),
			  void *ctx);

#endif
