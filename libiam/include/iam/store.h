/*
 * iam/store.h - files on a host: strict opening, atomic writes, the
 * store's lock, the credentials store and publishing of snapshots.
 *
 * Every file or folder holding secrets or settings is opened with
 * O_NOFOLLOW|O_CLOEXEC and checked on the open descriptor: owned by root,
 * not writable by group or others (nor readable by them for secrets), its
 * parent folders not writable by others (a sticky folder may be a parent).
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

/* Flags for iam_open_strict(). */
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

/*
 * Read a whole strict file of at most max bytes into a fresh buffer.
 * You own *ret_buf (NUL-terminated); free it (iam_buf_wipe for secrets).
 */
int iam_read_strict(const char *path, int flags, size_t max,
		    struct iam_buf *ret_buf, char *err, size_t errlen);

/*
 * Replace path atomically with len bytes at data, with the given mode:
 * temporary file in the same folder (O_EXCL|O_NOFOLLOW), fchmod(mode),
 * write everything, fsync, rename, fsync the folder.  A reader never sees
 * half a file.  The caller holds the store's lock.
 */
int iam_write_atomic(const char *path, const void *data, size_t len,
		     mode_t mode);

/*
 * Make fds 0, 1 and 2 open (to /dev/null when closed), so that no file
 * the library opens can become a process's stdin/stdout/stderr.
 */
int iam_sanitize_fds(void);

/*
 * Take the store's lock (flock on a lock file in credentials_dir's
 * parent ... see store.c), waiting.  Returns a descriptor to pass to
 * iam_store_unlock().
 */
int iam_store_lock(const struct iam_config *cfg);
void iam_store_unlock(int lockfd);

#endif
