/*
 * iam/snapshot.h - the builders of the published snapshots nss.db
 * (iam/nssdb_write.h) and auth/auth.db (iam/authdb.h), in one include.
 *
 * Publishing (iam_publish()) validates the identity file with the
 * credentials, then asks each builder for the bytes of its snapshot and
 * writes them all atomically.  Builders are pure: they read the merged
 * identity and append to out, nothing else.
 */
#ifndef IAM_SNAPSHOT_H
#define IAM_SNAPSHOT_H

#include "iam/nssdb_write.h"
#include "iam/authdb.h"

#endif
