/*
 * iam/password.h - crypt(3) password hashes: checking, the dummy hash of
 * unknown names, new hashes and the one validator
 * (libiam/base/password.c).
 */
#ifndef IAM_PASSWORD_H
#define IAM_PASSWORD_H

#include <stdbool.h>

#include "iam/config.h"

/* ---- Passwords -------------------------------------------------------- */

#define IAM_PASSWORD_MAX	512	/* longer answers are refused unhashed */
#define IAM_BCRYPT_MAX		72	/* bcrypt ignores bytes beyond this */

/*
 * Check password against a crypt(3) hash (yescrypt "$y$", sha512crypt
 * "$6$", bcrypt "$2b$"/"$2y$"/"$2a$") with crypt_r and a constant-time
 * comparison.  hash NULL (unknown user, no password set) checks against a
 * fixed dummy hash of the same cost and then fails, so the work is the
 * same.  A password over IAM_PASSWORD_MAX bytes is refused without
 * hashing.
 * Returns 0 on a match, -EACCES on a mismatch, -E2BIG too long, -EINVAL
 * an unusable hash, -ENOMEM.
 */
int iam_password_verify(const char *password, const char *hash);

/*
 * The dummy hash used for unknown names: the setting (method, cost, a
 * fixed salt) of method's new hashes, so checking a password against it
 * costs what a real hash of method costs and never matches.  Borrowed,
 * static (per thread).
 */
const char *iam_password_dummy_hash(enum iam_hash_method method);

/*
 * True when hash was made with method at the cost new hashes of method
 * get (iam_password_hash()); false for another method or cost, or NULL.
 */
bool iam_password_hash_current(const char *hash, enum iam_hash_method method);

/*
 * Hash a new password with method (salt from getrandom).  bcrypt refuses
 * passwords over IAM_BCRYPT_MAX bytes (-E2BIG); every method refuses over
 * IAM_PASSWORD_MAX.  You own *ret_hash; free() it.
 */
int iam_password_hash(const char *password, enum iam_hash_method method,
		      char **ret_hash);

/*
 * The one password-hash validator (identity file, credential store,
 * pam_iam): yescrypt ($y$), sha512crypt ($6$, optional rounds=N$ of 4-9
 * digits) or bcrypt ($2b$, $2a$, $2y$, cost 04-31), each with its exact
 * salt and hash lengths and a setting libxcrypt accepts
 * (crypt_checksalt).  Anything else, including locked, empty or
 * truncated hashes, is refused.
 */
bool iam_password_hash_valid(const char *hash);

#endif
