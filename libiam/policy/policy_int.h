/*
 * policy_int.h - the compiled form of policies, shared by policy.c
 * (compiler), condition.c (condition operators), glob.c (wildcards) and
 * eval.c (sets, requests, evaluation).  Not installed.
 */
#ifndef IAM_POLICY_INT_H
#define IAM_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iam/policy.h"

#define IAM_INTERNAL __attribute__((visibility("hidden")))

/* Flags of a compiled text (pattern or condition value). */
#define PT_WILD		0x1	/* holds an unescaped '*' or '?' */
#define PT_VARS		0x2	/* holds ${...} to expand (Version 2012-10-17) */
#define PT_STAR		0x4	/* exactly "*" */

#define PT_ONESTAR	0x8	/* one '*', no '?', no variables: pre '*' suf */

/*
 * A text from a policy: Action/Resource pattern or condition value.
 * For a wildcard pattern without variables, pre and suf count the
 * literal bytes before its first and after its last wildcard: a subject
 * must start and end with them, which settles most matches without
 * the general matcher.
 */
struct ptext {
	const char *s;		/* NUL-terminated, in the policy's arena */
	uint32_t len;
	uint8_t flags;		/* PT_* */
	uint32_t pre;		/* PT_WILD without PT_VARS: literal head */
	uint32_t suf;		/* ... and literal tail */
};

/* Condition operators, before qualifiers. */
enum cond_op {
	OP_STRING_EQUALS, OP_STRING_NOT_EQUALS,
	OP_STRING_EQUALS_IC, OP_STRING_NOT_EQUALS_IC,
	OP_STRING_LIKE, OP_STRING_NOT_LIKE,
	OP_NUMERIC_EQ, OP_NUMERIC_NE, OP_NUMERIC_LT, OP_NUMERIC_LE,
	OP_NUMERIC_GT, OP_NUMERIC_GE,
	OP_DATE_EQ, OP_DATE_NE, OP_DATE_LT, OP_DATE_LE, OP_DATE_GT,
	OP_DATE_GE,
	OP_BOOL,
	OP_BINARY_EQUALS,
	OP_IP_ADDRESS, OP_NOT_IP_ADDRESS,
	OP_ARN_EQUALS, OP_ARN_NOT_EQUALS, OP_ARN_LIKE, OP_ARN_NOT_LIKE,
	OP_NULL,
};

enum cond_set { SET_NONE, SET_ANY, SET_ALL };

struct number {
	bool is_int;
	int64_t i;
	double d;
};

struct cidr {
	uint8_t family;		/* 4 or 6 */
	uint8_t bits;		/* prefix length */
	uint8_t addr[16];
};

/* One policy value of a condition, pre-parsed for its operator. */
struct cond_value {
	struct ptext text;
	union {
		struct number num;
		int64_t time;
		bool boolean;
		struct cidr ip;
		struct {
			const uint8_t *p;
			size_t n;
		} bin;
	} u;
};

struct condition {
	enum cond_op op;
	enum cond_set set;
	bool if_exists;
	bool negated;		/* a Not operator: NOR across values */
	const char *key;	/* as written */
	const char *key_lc;	/* lower case */
	uint32_t key_len;
	bool vars;		/* a value holds a policy variable */
	uint64_t key_hash;	/* iam_key_hash(key) */
	struct cond_value *values;
	uint32_t n_values;
};

struct principal {
	uint8_t kind;		/* PR_ANY, PR_ACCOUNT, PR_ARN */
	const char *s;		/* account id or ARN */
};
#define PR_ANY		0
#define PR_ACCOUNT	1
#define PR_ARN		2

struct statement {
	const char *sid;	/* or NULL */
	uint32_t index;
	bool deny;
	bool not_action;
	bool not_resource;
	bool no_resource;	/* trust policy: applies to any resource */
	bool not_principal;
	struct ptext *actions;
	uint32_t n_actions;
	struct ptext *resources;
	uint32_t n_resources;
	struct condition *conds;
	uint32_t n_conds;
	struct principal *principals;	/* trust policies; NULL otherwise */
	uint32_t n_principals;
};

struct arena;

struct iam_policy {
	char *name;
	bool trust;
	bool variables;		/* Version 2012-10-17 */
	struct statement *st;
	uint32_t n_st;
	struct arena *arena;	/* every byte of the compiled form */
};

/*
 * The outcome of an element or condition: it matches, it does not, or
 * it depends on a policy variable that cannot be resolved (unknown: a
 * Deny statement counts it as matching, an Allow as not matching).
 */
enum tri { T_NO = 0, T_YES = 1, T_UNKNOWN = 2 };

/* Working state of one evaluation, in the caller's struct iam_result. */
struct eval_ctx {
	const struct iam_request *req;
	char *scratch;
	size_t scratch_len;
	bool overflow;		/* a variable did not fit: deny */
	bool missing;		/* a policy variable was absent */
};

/* Hash of a context key name, ASCII case folded (FNV-1a 64). */
IAM_INTERNAL uint64_t iam_key_hash(const char *s, size_t n);

/*
 * Hash of an index key of a policy set: an action and a resource
 * (K_EXACT), an action (K_ACTION) or a service (K_SERVICE), the action
 * ASCII case folded (request.c; the set files statements under it).
 */
enum { K_EXACT = 1, K_ACTION, K_SERVICE };
IAM_INTERNAL uint64_t iam_index_hash(int kind, const char *action,
				     size_t alen, const char *res, size_t rlen);

/*
 * A request (eval.c builds it; condition.c reads it).  Context keys live
 * in an array in the order first added; an open addressed table of key
 * positions, filled as keys are added, finds a key by its folded hash
 * without a scan.  Each key keeps its name in lower case and every
 * value's length, so evaluation compares names with memcmp and never
 * measures a value again.  Every string and value list lives in blocks
 * the request owns (a few allocations per request, not a few per key),
 * freed with it.
 */
#define REQ_SLOTS	(2 * IAM_REQUEST_MAX_KEYS)	/* power of two */

struct ctxkey {
	char *name;		/* as first given */
	char *lc;		/* lower case */
	size_t len;
	uint64_t hash;		/* iam_key_hash(name) */
	char **values;		/* NULL-terminated; n == 0 is an empty list */
	uint32_t *lens;		/* length of each value */
	size_t n, alloc;
};

struct iam_request {
	char *action;
	size_t action_len;
	size_t service_len;	/* bytes before ':' */
	char *resource;
	size_t resource_len;
	uint64_t h_exact, h_action, h_service;
	struct ctxkey *keys;
	size_t n_keys, alloc;
	struct iam_block *blocks;	/* newest first */
	uint16_t slot[REQ_SLOTS];	/* key position + 1; 0: empty */
};

/* First slot to probe for a key of this hash. */
static inline size_t
iam_req_slot0(uint64_t hash)
{
	return (size_t)(hash ^ (hash >> 32)) & (REQ_SLOTS - 1);
}

/*
 * The key named key_lc (len bytes, in lower case, hash its folded
 * hash), or NULL when the request lacks it.  The table is never full
 * (REQ_SLOTS > IAM_REQUEST_MAX_KEYS), so the probe ends.
 */
static inline const struct ctxkey *
iam_request_find_lc(const struct iam_request *req, uint64_t hash,
		    const char *key_lc, size_t len)
{
	for (size_t i = iam_req_slot0(hash);; i = (i + 1) & (REQ_SLOTS - 1)) {
		const struct ctxkey *k;

		if (req->slot[i] == 0)
			return NULL;
		k = &req->keys[req->slot[i] - 1];
		if (k->hash == hash && k->len == len &&
		    memcmp(k->lc, key_lc, len) == 0)
			return k;
	}
}

/* The same for a name in any case. */
IAM_INTERNAL const struct ctxkey *iam_request_find(const struct iam_request *req,
						   uint64_t hash,
						   const char *key, size_t len);

/*
 * Glob match where the pattern may carry '\' escapes (each '\x' is the
 * literal x): used for patterns whose variables were expanded.
 */
#define GLOB_ESCAPES	0x100
IAM_INTERNAL bool iam_glob_match_flags(const char *pattern, size_t plen,
				       const char *subject, size_t slen,
				       unsigned flags);

/*
 * Expand t into ctx's scratch as a glob pattern with escapes (or as
 * plain text when !as_glob).  Returns false when a variable is missing
 * or multi-valued (ctx->missing set: the item's outcome is unknown) or
 * when the scratch overflowed (ctx->overflow set).
 */
IAM_INTERNAL bool iam_expand(struct eval_ctx *ctx, const struct ptext *t,
			     bool as_glob, size_t at, const char **ret,
			     size_t *ret_len);

/* Match one text (Action with nocase, Resource, StringLike value). */
IAM_INTERNAL bool iam_ptext_match(struct eval_ctx *ctx, const struct ptext *t,
				  const char *subject, size_t slen,
				  unsigned flags, size_t at);

/* ---- condition.c ---- */

/*
 * Parse an operator name ("ForAnyValue:StringLikeIfExists") into c.
 * Returns false for an unknown operator or qualifier.
 */
IAM_INTERNAL bool iam_cond_parse_op(const char *name, struct condition *c);

/*
 * Pre-parse one policy value for c's operator.  Returns NULL when valid,
 * else a message ("is not a valid CIDR").  Values with variables are
 * kept as text and checked when evaluated.
 */
IAM_INTERNAL const char *iam_cond_prepare(const struct condition *c,
					  struct cond_value *v,
					  struct arena *a);

/*
 * Whether the conditions of a statement hold: T_NO when one fails,
 * else T_UNKNOWN when one depends on a policy variable that cannot be
 * resolved, else T_YES.
 */
IAM_INTERNAL enum tri iam_conds_hold(struct eval_ctx *ctx,
				     const struct condition *conds, uint32_t n);

/* Parsers shared with tests. */
IAM_INTERNAL int iam_parse_number(const char *s, struct number *ret);
IAM_INTERNAL int iam_parse_cidr(const char *s, bool need_prefix_ok,
				struct cidr *ret);
IAM_INTERNAL int iam_parse_date(const char *s, int64_t *ret);
IAM_INTERNAL bool iam_arn_valid(const char *s, size_t n);

/* ---- policy.c arena ---- */

IAM_INTERNAL void *iam_arena_alloc(struct arena *a, size_t n);

/* ---- eval.c: reference evaluation without the index (benchmarks, tests) */

IAM_INTERNAL int iam_policy_evaluate_naive(const struct iam_policy_set *set,
					   const struct iam_request *req,
					   struct iam_result *ret_result);

/* Candidates the index yields for req (tests check the index prunes). */
IAM_INTERNAL size_t iam_policy_set_candidates(const struct iam_policy_set *set,
					      const struct iam_request *req);

#endif
