/*
 * identity_int.h - pieces shared by identity.c (model building),
 * identity_validate.c (checks across the model and against the host) and
 * identity_write.c (serialisation).  Not part of the public interface:
 * every symbol here has hidden visibility.
 */
#ifndef IAM_IDENTITY_INT_H
#define IAM_IDENTITY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam.h"

#define IAM_HIDDEN __attribute__((visibility("hidden")))

/*
 * Hash table over the positions of one array of the model.  slot[h] holds
 * 1 + the position of the first entry (in file order) with that key, 0 when
 * empty; entries without a valid key are left out.  dups lists the entries
 * whose key an earlier entry already has, each with the latest such
 * earlier entry, for the duplicate checks.
 */
struct iam_id_dup {
	size_t later, prev;
};

struct iam_id_index {
	uint32_t *slot;		/* entries are at most IAM_ID_LIMIT_ENTRIES */
	size_t mask;		/* slots - 1, a power of two minus one */
	struct iam_id_dup *dups;
	size_t n_dups;
};

/* The lookup indexes of an identity, in iam_id_priv.ix. */
enum iam_id_ix {
	IAM_IX_USER_BY_NAME, IAM_IX_USER_BY_UID,
	IAM_IX_GROUP_BY_NAME, IAM_IX_GROUP_BY_GID,
	IAM_IX_ROLE_BY_NAME, IAM_IX_POLICY_BY_NAME,
	IAM_IX_COUNT
};

/* The loader's own storage, behind iam_identity.priv. */
struct iam_id_priv {
	char **strs;		/* strings owned by the identity */
	size_t n_strs, alloc_strs;
	/*
	 * Every user's password.hash lives in the document's text arena
	 * (wiped with it), never malloc'd: an IAM_ID_NO_SOURCES model,
	 * whose credentials only iam_creds_apply() merges (merge_lent()).
	 */
	bool hashes_lent;
	struct iam_id_index ix[IAM_IX_COUNT];
};

/*
 * Free the indexes of users by name and by uid (at a million users, 17
 * MB): for a model that is about to be published, whose snapshot
 * builders never look a user up.  A lookup of a user after it scans the
 * users, so it is slow, never wrong; iam_identity_reindex() builds them
 * again.
 */
IAM_HIDDEN void iam_id_drop_user_indexes(struct iam_identity *id);

/* Quote s for a message: "..." with control characters escaped and
   anything past 48 characters cut with "...".  Returns buf. */
IAM_HIDDEN const char *iam_id_quote(const char *s, char *buf, size_t len);

/*
 * iam_identity_parse() and iam_identity_load() for libiam's own use.
 * flags: IAM_ID_NO_SOURCES, for a model that is only published, never
 * written back: file_password and file_mfa stay NULL (a million users'
 * copies of them are 136 MB), and password hashes are lent from the
 * document (struct iam_id_priv.hashes_lent), not copied.  IAM_ID_CONSUME (iam_id_parse()): buf is
 * the caller's own writable copy, wiped as it is parsed and wholly by
 * the return, on every path.
 */
#define IAM_ID_NO_SOURCES	0x1
#define IAM_ID_CONSUME		0x2
IAM_HIDDEN int iam_id_parse(const char *buf, size_t len,
			    const struct iam_config *cfg,
			    const char *host_root, int flags,
			    struct iam_identity **ret_id,
			    struct iam_faults *faults);
IAM_HIDDEN int iam_id_load(const char *path, bool strict,
			   const struct iam_config *cfg, const char *host_root,
			   int flags, struct iam_identity **ret_id,
			   struct iam_faults *faults);

/* Build the lookup indexes of id (iam_identity_reindex()). */
IAM_HIDDEN int iam_id_index(struct iam_identity *id);

/* Release the lookup indexes of priv. */
IAM_HIDDEN void iam_id_index_release(struct iam_id_priv *p);

/*
 * Checks across the model: duplicate names and ids, references, retired
 * ids, and the host's own accounts and subordinate ids under host_root.
 * Every fault goes to faults.  -ENOMEM.
 */
IAM_HIDDEN int iam_id_cross_check(const struct iam_identity *id,
				  const struct iam_config *cfg,
				  const char *host_root,
				  struct iam_faults *faults);

#endif
