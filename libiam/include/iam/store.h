/*
 * iam/store.h - files on a host: strict opening, strict folders, the
 * store's lock (libiam/host/store.c).  Atomic writes are in iam/atomic.h,
 * the credentials store in iam/creds.h, publishing in iam/publish.h; the
 * three are included here for the users of this header when it held them.
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
 *         keys.db             root 0644, public SSH keys (iam/keysdb.h)
 *         generation          root 0600, N
 *         source              root 0600, what the identity file was
 *         auth/               root 0700
 *           auth.db           root 0600, private snapshot
 *           roles.db          root 0600, roles (iam/rolesdb.h)
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

/*
 * Make fds 0, 1 and 2 open (to /dev/null when closed), so that no file
 * the library opens can become a process's stdin/stdout/stderr.
 */
int iam_sanitize_fds(void);

/*
 * What a setuid-root helper does before it opens a file or reads any
 * input: sane fds 0-2, not dumpable, SIGXFSZ ignored and RLIMIT_FSIZE
 * lifted (the caller's limits never cut a state, record or trail write
 * short), no core file, an empty environment, umask 077.  -EPERM when
 * the effective uid is not 0 (not installed setuid root), -EBADF,
 * -ENOMEM or the errno of setrlimit.
 */
int iam_setuid_harden(void);

/* ---- The store's lock ------------------------------------------------ */

/*
 * How long a writer waits for the store's lock before it gives up: 30
 * seconds (lckpwdf(3) waits 15).  A change holds the lock for
 * milliseconds, at a million users some twenty seconds; a holder that
 * never lets go (a stopped or hung process) then costs every other
 * writer this wait and a clear refusal, never a hang.
 */
#define IAM_STORE_LOCK_WAIT_MS	30000

/* The refusal of a writer that waited IAM_STORE_LOCK_WAIT_MS in vain. */
#define IAM_STORE_LOCKED_MSG	"the credential store is locked by another change"

/*
 * Take the store's lock: flock(LOCK_EX) on credentials_dir/.lock
 * (created root 0600; credentials_dir is created root 0700 when
 * missing), waiting at most IAM_STORE_LOCK_WAIT_MS (iam_store_lock())
 * or ms milliseconds (iam_store_lock_wait(), 0: not at all).  One lock
 * guards the identity file, the credentials and the snapshots.  Returns
 * a descriptor for iam_store_unlock(), -ETIMEDOUT when another process
 * held the lock all that time, or another negative errno.  Not
 * recursive: a holder calls the *_locked variants.
 */
int iam_store_lock(const struct iam_config *cfg);
int iam_store_lock_wait(const struct iam_config *cfg, unsigned int ms);
void iam_store_unlock(int lockfd);

/*
 * The process holding the store's lock now, from the kernel's table of
 * locks (/proc/locks): 0 and *ret_pid, -ENOENT when nobody holds it (or
 * the holder is outside this pid namespace), or the errno of reading.
 */
int iam_store_lock_holder(const struct iam_config *cfg, pid_t *ret_pid);

/*
 * What a failed iam_store_lock() (r) means, in buf (len bytes): for
 * -ETIMEDOUT IAM_STORE_LOCKED_MSG with " (pid N)" when the holder is
 * known, else "cannot take the store's lock: " and the errno's text.
 * Returns buf.
 */
const char *iam_store_lock_strerror(const struct iam_config *cfg, int r,
				    char *buf, size_t len);

#include "iam/atomic.h"
#include "iam/creds.h"
#include "iam/publish.h"

#endif
