/*
 * creds_int.h - what the files of the credentials store share: limits
 * and the checks of a record (creds.c), used when one is read
 * (creds_read.c) and before one is written (creds_write.c).  Private:
 * not installed.
 */
#ifndef IAM_CREDS_INT_H
#define IAM_CREDS_INT_H

#include "iam/creds.h"
#include "util_int.h"

#include "iam/creds.h"

#define CREDS_MAX_BYTES		(64u << 10)
#define CREDS_MAX_HASH		512
#define CREDS_MAX_SECRET	256
#define CREDS_FILE_MAX		32	/* "4294967295.json" and NUL */

/*
 * Check every field of c (hash shapes, devices, recovery codes), each
 * fault named after file in f.  0, or -EINVAL when a fault was found.
 */
IAM_PRIVATE int iam_creds_check(const struct iam_creds *c, const char *file,
				struct iam_faults *f);

/* The names of enum iam_totp_algo in a record. */
IAM_PRIVATE extern const char *const iam_creds_algo_names[3];

/* Move c's decided credentials into u, wiping what they replace. */
IAM_PRIVATE void iam_creds_merge(struct iam_user *u, struct iam_creds *c);

#endif
