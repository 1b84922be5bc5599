/*
 * iam/publish.h - publishing: from the identity file and the credentials
 * store to a new generation of snapshots, as one transaction under the
 * store's lock (libiam/snapshot/publish.c).
 */
#ifndef IAM_PUBLISH_H
#define IAM_PUBLISH_H

#include <stdint.h>

#include "iam/config.h"
#include "iam/creds.h"
#include "iam/util.h"

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
