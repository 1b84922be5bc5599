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

/* Positions in one array of the model, sorted by a key. */
struct iam_id_index {
	size_t *v;
	size_t n;	/* entries without a valid key are left out */
};

/* The loader's own storage, behind iam_identity.priv. */
struct iam_id_priv {
	char **strs;		/* strings owned by the identity */
	size_t n_strs, alloc_strs;
	struct iam_id_index user_by_name, user_by_uid;
	struct iam_id_index group_by_name, group_by_gid;
	struct iam_id_index role_by_name, policy_by_name;
};

/* Quote s for a message: "..." with control characters escaped and
   anything past 48 characters cut with "...".  Returns buf. */
IAM_HIDDEN const char *iam_id_quote(const char *s, char *buf, size_t len);

/* Build the lookup indexes of id (iam_identity_reindex()). */
IAM_HIDDEN int iam_id_index(struct iam_identity *id);

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
