/*
 * iam/nssdb_write.h - the builder of the public snapshot nss.db
 * (libiam/snapshot/nssdb_write.c).  Its format and reader are private
 * to libiam and nss_iam (libiam/snapshot/nssdb.h).
 */
#ifndef IAM_NSSDB_WRITE_H
#define IAM_NSSDB_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "iam/identity.h"
#include "iam/util.h"

/*
 * The public NSS snapshot nss.db (root 0644): users, groups, memberships;
 * no secret of any kind.  Format in libiam/snapshot/nssdb.h.  -ENOMEM, -E2BIG.
 */
int iam_nssdb_build(const struct iam_identity *id, uint64_t generation,
		    struct iam_buf *out);

/*
 * The same bytes written to fd, from where it stands, through a 64 KiB
 * window: the file is never whole in memory.  *ret_io is set when a
 * write failed (the error returned); otherwise a failure is the
 * identity's, as iam_nssdb_build()'s.
 */
int iam_nssdb_write(const struct iam_identity *id, uint64_t generation,
		    int fd, bool *ret_io);

#endif
