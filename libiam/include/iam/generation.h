/*
 * iam/generation.h - one generation of a published snapshot, as a handle
 * (libiam/snapshot/generation.c).
 */
#ifndef IAM_GENERATION_H
#define IAM_GENERATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * One generation of a snapshot: current is read once, the folder gen/N
 * opened (O_DIRECTORY|O_NOFOLLOW, owned by root or the caller, writable
 * by nobody else), and every file of a lookup is named under it.  A host
 * without current (the flat layout of earlier versions) gives the
 * snapshot folder itself.
 */
struct iam_generation {
	int fd;			/* the folder, -1 when closed */
	uint64_t gen;		/* N; 0 for the flat layout */
	char base[4096];	/* the snapshot folder it was opened from */
	char dir[4096];		/* base/gen/N, or base */
};

/*
 * Open the generation served under snapshot_dir.  -ENOENT no snapshot
 * folder, -EBADMSG current is not a link to gen/N, -EPERM an insecure
 * folder, -ELOOP a link where a folder must be, -ENAMETOOLONG.  Release
 * with iam_generation_close() (also after a failure).
 */
int iam_generation_open(const char *snapshot_dir, struct iam_generation *g);
void iam_generation_close(struct iam_generation *g);

/* g->dir "/" name (name NULL or "": g->dir).  -ENAMETOOLONG. */
int iam_generation_path(const struct iam_generation *g, const char *name,
			char *buf, size_t len);

#endif
