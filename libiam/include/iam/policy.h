/*
 * iam/policy.h - the policy engine: AWS IAM identity-policy JSON compiled
 * once, evaluated many times, every decision explained.
 *
 * A compiled policy (struct iam_policy) and a compiled set (struct
 * iam_policy_set) are immutable after compilation, so one set may be
 * evaluated from many threads at once.
 */
#ifndef IAM_POLICY_H
#define IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/json.h"
#include "iam/util.h"

struct iam_policy;

/*
 * Compile one policy document.  name labels the policy in explanations
 * (copied).  Every fault is added to faults with its JSON path under
 * path_prefix (e.g. "policies.DevHostAccess" gives
 * "policies.DevHostAccess.Statement[0].Effect: must be Allow or Deny").
 * trust selects the role trust-policy grammar (Principal required,
 * sts:AssumeRole).  Returns 0 and sets *ret_policy only when valid;
 * -EINVAL with faults otherwise; -ENOMEM.  Release with iam_policy_free().
 */
int iam_policy_compile(const struct iam_json *doc, const char *name,
		       bool trust, const char *path_prefix,
		       struct iam_policy **ret_policy,
		       struct iam_faults *faults);

/* Release a compiled policy; NULL is fine.  Returns NULL. */
struct iam_policy *iam_policy_free(struct iam_policy *p);

#endif
