/*
 * iam/snapshot.h - builders of the published snapshots.
 *
 * Publishing (iam_publish() in iam/store.h) validates the identity file
 * with the credentials, then asks each builder for the bytes of its
 * snapshot and writes them all atomically.  Builders are pure: they read
 * the merged identity and append to out, nothing else.
 */
#ifndef IAM_SNAPSHOT_H
#define IAM_SNAPSHOT_H

#include <stdint.h>

#include "iam/identity.h"
#include "iam/util.h"

/*
 * The public NSS snapshot nss.db (root 0644): users, groups, memberships;
 * no secret of any kind.  Format in libiam/nssdb.h.  -ENOMEM, -E2BIG.
 */
int iam_nssdb_build(const struct iam_identity *id, uint64_t generation,
		    struct iam_buf *out);

/*
 * The private snapshot auth/auth.db (root 0600 in a root 0700 folder):
 * per user what a login or a sudo decision needs (credentials merged,
 * policies, groups, tags), read in time independent of the number of
 * users.  The buffer holds secrets: release it with iam_buf_wipe().
 */
int iam_authdb_build(const struct iam_identity *id, uint64_t generation,
		     struct iam_buf *out);

#endif
