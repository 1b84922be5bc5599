/*
 * iam/policy.h - the policy engine: AWS IAM identity-policy JSON compiled
 * once, evaluated many times, every decision explained (iam-policy(5)).
 * Implemented in libiam/policy/: policy.c compiles, request.c builds
 * requests, eval.c evaluates, explain.c explains, glob.c matches.
 *
 * Invariants:
 *
 *  - A compiled policy (struct iam_policy) and a compiled set (struct
 *    iam_policy_set) are immutable after compilation, so one set may be
 *    evaluated from many threads at once without locking.
 *  - Evaluation allocates nothing: the caller supplies the struct
 *    iam_result that receives the decision, the explanation and the
 *    working space for policy variables.
 *  - The decision starts as IAM_IMPLICIT_DENY.  Only a matching Allow
 *    statement (and, with a permissions boundary, a matching Allow of the
 *    boundary) turns it into IAM_ALLOW; any matching Deny gives
 *    IAM_EXPLICIT_DENY.  A failed evaluation returns a negative errno and
 *    the caller must deny.
 *  - A document AWS would reject is rejected whole at compile time, each
 *    fault named by its JSON path; nothing is ever half-applied.
 *
 * Typical use (pam_iam's account phase):
 *
 *	struct iam_policy_set *set;
 *	struct iam_request *req;
 *	struct iam_result res;
 *
 *	iam_policy_set_new(pols, n, boundary, &set);
 *	iam_request_new("host:Login", host_arn, &req);
 *	iam_request_add(req, "aws:username", "alice");
 *	if (iam_policy_evaluate(set, req, &res) < 0 ||
 *	    res.decision != IAM_ALLOW)
 *		deny;
 */
#ifndef IAM_POLICY_H
#define IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/json.h"
#include "iam/util.h"

/* ---- Limits ------------------------------------------------------------ */

#define IAM_POLICY_MAX_STATEMENTS	10000	/* in one policy document */
#define IAM_POLICY_MAX_PATTERN		4096	/* one Action/Resource/value */
#define IAM_REQUEST_MAX_ACTION		256	/* "service:Action" */
#define IAM_REQUEST_MAX_RESOURCE	8192	/* the resource ARN */
#define IAM_REQUEST_MAX_KEY		256	/* one context key name */
#define IAM_REQUEST_MAX_VALUE		4096	/* one context value */
#define IAM_REQUEST_MAX_KEYS		256	/* distinct context keys */
#define IAM_REQUEST_MAX_VALUES		1024	/* values of one key */
#define IAM_SET_MAX_POLICIES		4096	/* policies in one set */

/* ---- Compiling policies ---------------------------------------------- */

struct iam_policy;

/*
 * Compile one policy document.  name labels the policy in explanations
 * (copied).  Every fault is added to faults with its JSON path under
 * path_prefix (e.g. "policies.DevHostAccess" gives
 * "policies.DevHostAccess.Statement[0].Effect: must be Allow or Deny").
 * trust selects the role trust-policy grammar (Principal required,
 * sts: actions only, no Resource).  Returns 0 and sets *ret_policy only
 * when valid; -EINVAL with faults otherwise; -ENOMEM.  Release with
 * iam_policy_free().
 */
int iam_policy_compile(const struct iam_json *doc, const char *name,
		       bool trust, const char *path_prefix,
		       struct iam_policy **ret_policy,
		       struct iam_faults *faults);

/*
 * Parse len bytes of policy JSON text with the strict JSON parser, then
 * iam_policy_compile() it.  A JSON syntax error is one fault.  Same
 * returns and ownership as iam_policy_compile().
 */
int iam_policy_compile_text(const char *text, size_t len, const char *name,
			    bool trust, const char *path_prefix,
			    struct iam_policy **ret_policy,
			    struct iam_faults *faults);

/* Release a compiled policy; NULL is fine.  Returns NULL. */
struct iam_policy *iam_policy_free(struct iam_policy *p);

/* The name given at compile time (borrowed from p). */
const char *iam_policy_name(const struct iam_policy *p);

/* Number of statements of p. */
size_t iam_policy_statement_count(const struct iam_policy *p);

/* ---- Policy sets -------------------------------------------------------- */

/*
 * The policies that apply to one principal, indexed for evaluation: the
 * identity policies (own, inline, groups', or a role's) and optionally a
 * permissions boundary.
 */
struct iam_policy_set;

/*
 * Build a set over n compiled policies and an optional boundary (NULL:
 * none).  The set borrows the policies: they must outlive it.  The same
 * policy may appear several times (a user and a group attaching it); it
 * is then evaluated once.  n may be 0 (every request is then denied).
 * You own *ret_set; release it with iam_policy_set_free().
 * -EINVAL (NULL policy, too many), -ENOMEM.
 */
int iam_policy_set_new(const struct iam_policy *const *policies, size_t n,
		       const struct iam_policy *boundary,
		       struct iam_policy_set **ret_set);

/* Release a set (not its policies); NULL is fine.  Returns NULL. */
struct iam_policy_set *iam_policy_set_free(struct iam_policy_set *set);

/* ---- Requests ------------------------------------------------------------ */

/*
 * One request: an action ("sudo:Run"), a resource ARN and the context
 * keys.  Key names are matched without regard to ASCII case, as AWS
 * matches condition keys; values are kept as given.  A key may carry
 * several values (iam:PrincipalGroups, iam:CommandArgs).
 */
struct iam_request;

/*
 * Start a request.  action must be "service:Name" (no wildcard), resource
 * a non-empty string without wildcards is not required (it is matched
 * against the policies' patterns as text).  Both are copied.
 * You own *ret_req; release it with iam_request_free().
 * -EINVAL (malformed or over the limits above), -ENOMEM.
 */
int iam_request_new(const char *action, const char *resource,
		    struct iam_request **ret_req);

/*
 * Add one value to the context key key (both copied).  Calling it again
 * with the same key (in any case) adds another value, making the key
 * multi-valued.  Empty keys and values are refused (-EINVAL): a key the
 * host does not know is left absent, never empty.  -E2BIG over the
 * limits, -ENOMEM.
 */
int iam_request_add(struct iam_request *req, const char *key,
		    const char *value);

/*
 * Add n values to key as an AWS request may carry them: a value may be
 * the empty string, and n == 0 makes the key present with no values (an
 * empty list, which every operator treats as an absent key:
 * ForAllValues: holds, ForAnyValue: fails).  For requests that come
 * from outside the host (iamctl policy simulate); the host's own keys go
 * through iam_request_add().  Values are copied.  -EINVAL (NULL, empty
 * key), -E2BIG over the limits, -ENOMEM; on failure a key this call
 * created is not kept.
 */
int iam_request_add_values(struct iam_request *req, const char *key,
			   const char *const *values, size_t n);

/*
 * Replace every value of key by values[0..n), as
 * iam_request_add_values() adds them (a key absent so far is added):
 * what `iamctl simulate --context` does to a key the host computed.
 * Same returns; on failure the key may be left with fewer values.
 */
int iam_request_set_values(struct iam_request *req, const char *key,
			   const char *const *values, size_t n);

/*
 * Values of key (any case): sets *ret_values to the borrowed array and
 * returns the count, or 0 when the key is absent or an empty list.
 */
size_t iam_request_get(const struct iam_request *req, const char *key,
		       const char *const **ret_values);

/* The action and resource of req (borrowed). */
const char *iam_request_action(const struct iam_request *req);
const char *iam_request_resource(const struct iam_request *req);

/* Release a request; NULL is fine.  Returns NULL. */
struct iam_request *iam_request_free(struct iam_request *req);

/* ---- Evaluation ------------------------------------------------------------ */

enum iam_decision {
	IAM_IMPLICIT_DENY = 0,	/* nothing allowed it (the default) */
	IAM_ALLOW,		/* allowed, and not denied anywhere */
	IAM_EXPLICIT_DENY,	/* a Deny statement matched */
};

/* One statement that matched a request. */
struct iam_match {
	const char *policy;	/* policy name, borrowed from the set */
	const char *sid;	/* the statement's Sid, or NULL */
	uint32_t index;		/* position in the policy's Statement array */
	bool deny;		/* Effect Deny (else Allow) */
	bool boundary;		/* a statement of the permissions boundary */
};

#define IAM_RESULT_MAX_MATCHES	32	/* matches kept in a result */
#define IAM_RESULT_SCRATCH	32768	/* working space for variables */

/*
 * What iam_policy_evaluate() found.  Large (about 33 KiB): declare it
 * once, where a deep stack is not a concern, or allocate it.
 */
struct iam_result {
	enum iam_decision decision;
	bool decided;		/* decider below is valid */
	struct iam_match decider;	/* the statement that decided: the
					   first matching Deny, else the
					   first matching identity Allow */
	bool boundary_denied;	/* an identity Allow matched, but the
				   boundary allowed nothing: implicit deny */
	size_t n_matched;	/* every statement that matched */
	size_t n_kept;		/* of which kept in matched[] (in order) */
	struct iam_match matched[IAM_RESULT_MAX_MATCHES];
	char scratch[IAM_RESULT_SCRATCH];	/* private working space */
};

/*
 * Evaluate req against set, with AWS's identity-policy logic: an
 * explicit Deny anywhere (identity policies or boundary) wins; otherwise
 * an identity Allow is needed and, when the set has a boundary, a
 * boundary Allow too; otherwise implicit deny.  Allocates nothing and
 * only reads set and req, so it is safe from many threads at once.
 * Returns 0 and fills *ret_result; -EINVAL for NULL arguments; -E2BIG
 * when a policy variable expands beyond the result's working space (the
 * caller must deny).  *ret_result may be partly written on failure.
 */
int iam_policy_evaluate(const struct iam_policy_set *set,
			const struct iam_request *req,
			struct iam_result *ret_result);

/* "Allow", "ExplicitDeny", "ImplicitDeny". */
const char *iam_decision_name(enum iam_decision d);

/*
 * Append the decision as one compact JSON object (the "decision" of the
 * audit trail and of `iamctl simulate --json`):
 *   {"decision":"Allow","matched":[{"policy":"P","sid":"S","index":0,
 *    "effect":"Allow","boundary":false}],"decided_by":{...} or null}
 * sid is null for a statement without Sid.  -ENOMEM.
 */
int iam_result_write_json(const struct iam_result *res, struct iam_buf *out);

/*
 * Append an explanation for a person, several lines, each ending in
 * '\n': the decision, the statement that decided it and every other
 * statement that matched.  -ENOMEM.
 */
int iam_result_write_text(const struct iam_result *res,
			  const struct iam_request *req, struct iam_buf *out);

/* ---- Wildcard matching ------------------------------------------------------ */

#define IAM_GLOB_NOCASE	0x1	/* ASCII letters match either case */

/*
 * Match subject (slen bytes) against pattern (plen bytes), where '*'
 * matches any run of bytes (also empty) and '?' exactly one byte.
 * Iterative, no recursion, no allocation; linear in plen + slen for
 * runs between stars of up to 64 characters.
 */
bool iam_glob_match(const char *pattern, size_t plen, const char *subject,
		    size_t slen, unsigned flags);

#endif
