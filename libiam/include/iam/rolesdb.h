/*
 * iam/rolesdb.h - the private role snapshot auth/roles.db: its builder
 * and its reader (libiam/snapshot/rolesdb.c).
 */
#ifndef IAM_ROLESDB_H
#define IAM_ROLESDB_H

#include <stddef.h>
#include <stdint.h>

#include "iam/authdb.h"
#include "iam/identity.h"
#include "iam/policy.h"
#include "iam/util.h"

/* ---- The role snapshot auth/roles.db ---------------------------------
 *
 * Written by iam_rolesdb_build() and published with the other snapshots
 * as IAM_AUTH_DIR "/roles.db" (root 0600).  Text, one line each:
 *
 *   IAMROLES1 GENERATION ACCOUNT COUNT
 *   NAME<TAB>{"name":"deployer","max_session_seconds":3600,
 *             "tags":{"Duty":"deploy"},"trust_policy":{...},
 *             "policies":[{"name":"DeployAccess","document":{...}}]}
 *   ...
 *
 * with the role lines sorted by name (strcmp), so a lookup bisects the
 * mapped file and parses one line: its cost grows with log(roles), not
 * with the size of the file.  Only a role session (assume-role, or sudo
 * while one is active) reads it; every other decision never opens it.
 */
#define IAM_ROLESDB_FILE	"roles.db"
#define IAM_ROLESDB_MAGIC	"IAMROLES1"
#define IAM_ROLESDB_MAX_BYTES	(64u << 20)

/*
 * Append the role snapshot of id (roles with their trust policy, tags,
 * maximum duration and the documents of their policies) to out.
 * -ENOMEM; -EINVAL when a role references a missing policy (the identity
 * was not validated).
 */
int iam_rolesdb_build(const struct iam_identity *id, uint64_t generation,
		      struct iam_buf *out);

/* One role, as the snapshot has it, with its policies compiled. */
struct iam_role_rec {
	char *name;
	char *account_id;		/* "123456789012" */
	uint32_t max_session_seconds;	/* 900-43200 */
	struct iam_auth_tag *tags;	/* the role's tags (strings owned) */
	size_t n_tags;
	struct iam_policy *trust;	/* trust policy (Principal), owned */
	struct iam_policy_set *trust_set;	/* over trust alone */
	struct iam_policy **policies;	/* the role's policies, owned */
	size_t n_policies;
	struct iam_policy_set *set;	/* over policies */
};

/*
 * Read dir/roles.db (dir NULL: IAM_AUTH_DIR) with the strict rules of a
 * secret (strict_flags: IAM_STRICT_ANY_OWNER in tests only) and return
 * the role called name, compiled.  -ENOENT no such role (or no snapshot
 * file), -EPERM / -ELOOP insecure, -EBADMSG corrupt (including a policy
 * that no longer compiles), -ENOMEM.  Release with iam_role_rec_free().
 */
int iam_rolesdb_lookup(const char *dir, int strict_flags, const char *name,
		       struct iam_role_rec **ret_role);

/*
 * The same lookup in len bytes of a role snapshot built by
 * iam_rolesdb_build() (iamctl simulate, on an identity not published
 * yet).  Same returns as iam_rolesdb_lookup().
 */
int iam_rolesdb_find(const char *text, size_t len, const char *name,
		     struct iam_role_rec **ret_role);

/* Release a role; NULL is fine.  Returns NULL. */
struct iam_role_rec *iam_role_rec_free(struct iam_role_rec *role);

#endif
