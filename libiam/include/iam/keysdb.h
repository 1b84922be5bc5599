/*
 * iam/keysdb.h - the public SSH key snapshot keys.db, for sshd's
 * AuthorizedKeysCommand.
 *
 * keys.db (root 0644) holds, for every enabled user, the uid and the
 * public key lines of their Active keys with each key's expiry; nothing
 * else.  Public keys
 * are not secrets, but the file decides who may log in, so the reader
 * refuses a file or folder that is not root-owned or is writable by
 * others.  Expiry is checked when reading, so a key past its maximum age
 * stops working by itself, without a publish.
 *
 * Layout, integers in host byte order:
 *
 *   header   64 bytes: magic "IAMKEYS1", version, bucket count, file
 *            size, generation, user count, header checksum
 *   buckets  n_buckets x u32 record offset (0 empty); open addressing,
 *            linear probing on the FNV-1a hash of the user name
 *   records  u64 checksum of the rest of the record, u32 record length,
 *            u32 uid, u16 name length, name, u16 key count, then per
 *            key: i64 expiry (0 never), u16 line length, line
 *
 * The uid lets the reader hand a user's keys only to the account NSS
 * resolves that name to: a local account created later under the same
 * name never receives an IAM user's keys.
 *
 * A lookup reads the header, a few buckets and one record: its cost does
 * not grow with the number of users.
 */
#ifndef IAM_KEYSDB_H
#define IAM_KEYSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iam/identity.h"
#include "iam/util.h"

#define IAM_KEYSDB_FILE		"keys.db"
#define IAM_KEYSDB_MAGIC	"IAMKEYS1"
#define IAM_KEYSDB_VERSION	2

/*
 * Append keys.db for id to out: Active keys of users that are not
 * disabled, each with its expiry (created + ssh_key_max_age_days, or
 * never; a key without a creation time expires at once when there is a
 * maximum age).  -ENOMEM, -E2BIG.
 */
int iam_keysdb_build(const struct iam_identity *id, uint64_t generation,
		     struct iam_buf *out);

/*
 * When key k stops working under ssh_key_max_age_days max_days: 0 for
 * never (no maximum), else epoch seconds (created + max_days days); a
 * key without a creation time has expired already (1).  keys.db, iamctl
 * ssh-key list, credential-report and doctor all use this one rule.
 */
int64_t iam_ssh_key_expiry(const struct iam_ssh_key *k, uint32_t max_days);

/*
 * Print to out the key lines of user name that are unexpired at now, one
 * a line, from the snapshot at path (strict: root-owned, not writable by
 * others, parents likewise; strict_flags as iam_open_strict()).  uid is
 * the uid the caller's NSS gives name; an IAM user with another uid gets
 * nothing.  Every line printed is a valid key line (iam_ssh_key_valid()).
 * Returns the number of lines printed (0 for an unknown user or another
 * uid), or -ENOENT / -EPERM / -ELOOP (unusable file, reason in err) or
 * -EBADMSG (corrupt).  Nothing is printed on failure.
 */
int iam_keysdb_print(const char *path, int strict_flags, const char *name,
		     uint32_t uid, int64_t now, FILE *out, char *err,
		     size_t errlen);

/*
 * Whether key (a line "TYPE BASE64 [comment]"; a newline ends it too) is
 * one of the unexpired keys of user name with uid in the snapshot at
 * path, compared as iam_ssh_key_same() does.  1 yes, 0 no (also for an
 * unknown name or another uid), or the errors of iam_keysdb_print().
 */
int iam_keysdb_has_key(const char *path, int strict_flags, const char *name,
		       uint32_t uid, int64_t now, const char *key, char *err,
		       size_t errlen);

/* Length of "TYPE BASE64": a key line up to its comment (space, newline). */
size_t iam_ssh_key_material_len(const char *line);

/* True when two key lines hold the same key (TYPE and BASE64), comments aside. */
bool iam_ssh_key_same(const char *a, const char *b);

#endif
