/*
 * iam/atomic.h - atomic replacement of files, one or several together
 * (libiam/host/atomic.c).
 */
#ifndef IAM_ATOMIC_H
#define IAM_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

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

#endif
