/*
 * eval.c - policy sets and their index, and evaluation (requests are in
 * request.c, policy variables in variables.c, explanations in explain.c).
 * Over 600 lines because the matching of a policy text, the index and
 * the evaluation loop are the hot path of every decision: one file lets
 * the compiler inline them into each other.
 *
 * A set numbers every statement of its policies (identity policies in
 * the order given, then the boundary) and files each statement under
 * the index keys that can make it match:
 *   E(action, resource)  literal action, every Resource literal
 *   A(action)            literal action, any other Resource
 *   S(service)           a wildcard after "service:"
 *   generic              NotAction, or a wildcard in the service part
 * A statement sits under at most one key that a given request can hit,
 * so the request's four posting lists, merged in statement order, hold
 * every statement that can match and none twice.  Evaluation then
 * checks only those, allocates nothing and writes only to the caller's
 * struct iam_result.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"

/* ---- Matching a policy text --------------------------------------------------- */

/* Equality of n bytes, ASCII letters folded under IAM_GLOB_NOCASE. */
static inline bool
text_eq(const char *a, const char *b, size_t n, unsigned flags)
{
	if (!(flags & IAM_GLOB_NOCASE))
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + ('a' - 'A'));
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + ('a' - 'A'));
		if (x != y)
			return false;
	}
	return true;
}

static inline bool
ptext_match(struct eval_ctx *ctx, const struct ptext *t, const char *subject,
	    size_t slen, unsigned flags, size_t at)
{
	const char *p;
	size_t n;

	if (t->flags & PT_STAR)
		return true;
	if (!(t->flags & PT_VARS)) {
		if (t->flags & PT_WILD) {
			/* The literal head and tail settle most patterns. */
			if (slen < (size_t)t->pre + t->suf ||
			    !text_eq(t->s, subject, t->pre, flags) ||
			    !text_eq(t->s + t->len - t->suf,
				     subject + slen - t->suf, t->suf, flags))
				return false;
			if (t->flags & PT_ONESTAR)
				return true;
			return iam_glob_match_flags(t->s, t->len, subject, slen,
						    flags);
		}
		if (t->len != slen)
			return false;
		if (flags & IAM_GLOB_NOCASE)
			return strncasecmp(t->s, subject, slen) == 0;
		return memcmp(t->s, subject, slen) == 0;
	}
	if (!(t->flags & PT_WILD)) {
		/* No wildcard at all: the expansion is compared as text. */
		if (!iam_expand(ctx, t, false, at, &p, &n))
			return false;
		return n == slen && text_eq(p, subject, n, flags);
	}
	if (!iam_expand(ctx, t, true, at, &p, &n))
		return false;
	return iam_glob_match_flags(p, n, subject, slen, flags | GLOB_ESCAPES);
}

bool
iam_ptext_match(struct eval_ctx *ctx, const struct ptext *t,
		const char *subject, size_t slen, unsigned flags, size_t at)
{
	return ptext_match(ctx, t, subject, slen, flags, at);
}

/* ---- Sets and the index -------------------------------------------------------- */

struct entry {
	const struct iam_policy *pol;
	const struct statement *st;
	bool boundary;
};

struct bucket {
	int kind;		/* 0: empty slot */
	char *action;		/* lower-case action or service */
	size_t alen;
	const char *resource;	/* K_EXACT only, borrowed from the policy */
	size_t rlen;
	uint64_t hash;
	uint32_t *ids;
	uint32_t n, alloc;
};

struct iam_policy_set {
	struct entry *e;
	uint32_t n;
	bool has_boundary;
	struct bucket *tab;
	size_t tab_mask;	/* slots - 1 */
	size_t used;
	uint32_t *generic;
	uint32_t n_generic, alloc_generic;
};

static int
push_id(uint32_t **ids, uint32_t *n, uint32_t *alloc, uint32_t id)
{
	uint32_t *v;

	if (*n > 0 && (*ids)[*n - 1] == id)
		return 0;	/* the same statement under one key twice */
	if (*n == *alloc) {
		uint32_t na = *alloc ? *alloc * 2 : 4;

		v = reallocarray(*ids, na, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		*ids = v;
		*alloc = na;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

static bool
bucket_is(const struct bucket *b, int kind, uint64_t hash, const char *a,
	  size_t alen, const char *r, size_t rlen)
{
	return b->kind == kind && b->hash == hash && b->alen == alen &&
	       strncasecmp(b->action, a, alen) == 0 &&
	       (kind != K_EXACT ||
		(b->rlen == rlen && memcmp(b->resource, r, rlen) == 0));
}

static const struct bucket *
bucket_lookup(const struct iam_policy_set *set, int kind, uint64_t hash,
       const char *a, size_t alen, const char *r, size_t rlen)
{
	size_t i;

	if (set->tab == NULL)
		return NULL;
	for (i = hash & set->tab_mask; set->tab[i].kind != 0;
	     i = (i + 1) & set->tab_mask)
		if (bucket_is(&set->tab[i], kind, hash, a, alen, r, rlen))
			return &set->tab[i];
	return NULL;
}

static int
grow_table(struct iam_policy_set *set)
{
	size_t slots = set->tab ? (set->tab_mask + 1) * 2 : 64, j;
	struct bucket *nt = calloc(slots, sizeof(*nt));

	if (nt == NULL)
		return -ENOMEM;
	if (set->tab != NULL) {
		for (size_t i = 0; i <= set->tab_mask; i++) {
			if (set->tab[i].kind == 0)
				continue;
			for (j = set->tab[i].hash & (slots - 1); nt[j].kind != 0;
			     j = (j + 1) & (slots - 1))
				;
			nt[j] = set->tab[i];
		}
		free(set->tab);
	}
	set->tab = nt;
	set->tab_mask = slots - 1;
	return 0;
}

static int
file_under(struct iam_policy_set *set, int kind, const char *a, size_t alen,
	   const char *r, size_t rlen, uint32_t id)
{
	uint64_t h = iam_index_hash(kind, a, alen, r, rlen);
	struct bucket *b;
	size_t i;

	if ((set->used + 1) * 4 > (set->tab ? set->tab_mask + 1 : 0) * 3 &&
	    grow_table(set) < 0)
		return -ENOMEM;
	for (i = h & set->tab_mask; set->tab[i].kind != 0;
	     i = (i + 1) & set->tab_mask)
		if (bucket_is(&set->tab[i], kind, h, a, alen, r, rlen))
			break;
	b = &set->tab[i];
	if (b->kind == 0) {
		b->action = strndup(a, alen);
		if (b->action == NULL)
			return -ENOMEM;
		for (size_t k = 0; k < alen; k++)
			b->action[k] = (char)tolower((unsigned char)a[k]);
		b->kind = kind;
		b->alen = alen;
		b->resource = r;
		b->rlen = rlen;
		b->hash = h;
		set->used++;
	}
	return push_id(&b->ids, &b->n, &b->alloc, id);
}

/* Is any action pattern of st "service:*"-like for this service? */
static bool
service_wild(const struct statement *st, const char *a, size_t svc)
{
	for (uint32_t i = 0; i < st->n_actions; i++) {
		const struct ptext *t = &st->actions[i];
		const char *colon = strchr(t->s, ':');

		if ((t->flags & PT_WILD) && colon != NULL &&
		    (size_t)(colon - t->s) == svc &&
		    strncasecmp(t->s, a, svc) == 0)
			return true;
	}
	return false;
}

static bool
resources_literal(const struct statement *st)
{
	if (st->not_resource || st->no_resource || st->n_resources == 0 ||
	    st->n_resources * st->n_actions > 64)
		return false;
	for (uint32_t i = 0; i < st->n_resources; i++)
		if (st->resources[i].flags & (PT_WILD | PT_VARS))
			return false;
	return true;
}

static bool
is_generic(const struct statement *st)
{
	if (st->not_action)
		return true;
	for (uint32_t i = 0; i < st->n_actions; i++) {
		const char *s = st->actions[i].s, *colon = strchr(s, ':');

		if (colon == NULL || strcspn(s, "*?") < (size_t)(colon - s))
			return true;
	}
	return false;
}

static int
index_statement(struct iam_policy_set *set, const struct statement *st,
		uint32_t id)
{
	bool lit = resources_literal(st);
	int r = 0;

	if (is_generic(st))
		return push_id(&set->generic, &set->n_generic,
			       &set->alloc_generic, id);
	for (uint32_t i = 0; i < st->n_actions && r == 0; i++) {
		const struct ptext *t = &st->actions[i];
		size_t svc = (size_t)(strchr(t->s, ':') - t->s);

		if (t->flags & PT_WILD) {
			r = file_under(set, K_SERVICE, t->s, svc, NULL, 0, id);
			continue;
		}
		if (service_wild(st, t->s, svc))
			continue;
		if (!lit) {
			r = file_under(set, K_ACTION, t->s, t->len, NULL, 0, id);
			continue;
		}
		for (uint32_t j = 0; j < st->n_resources && r == 0; j++)
			r = file_under(set, K_EXACT, t->s, t->len,
				       st->resources[j].s,
				       st->resources[j].len, id);
	}
	return r;
}

static int
add_policy(struct iam_policy_set *set, const struct iam_policy *p,
	   bool boundary)
{
	int r;

	for (uint32_t i = 0; i < p->n_st; i++) {
		struct entry *e = &set->e[set->n];

		e->pol = p;
		e->st = &p->st[i];
		e->boundary = boundary;
		r = index_statement(set, e->st, set->n);
		if (r < 0)
			return r;
		set->n++;
	}
	return 0;
}

struct iam_policy_set *
iam_policy_set_free(struct iam_policy_set *set)
{
	if (set == NULL)
		return NULL;
	if (set->tab != NULL) {
		for (size_t i = 0; i <= set->tab_mask; i++) {
			free(set->tab[i].action);
			free(set->tab[i].ids);
		}
		free(set->tab);
	}
	free(set->generic);
	free(set->e);
	free(set);
	return NULL;
}

int
iam_policy_set_new(const struct iam_policy *const *policies, size_t n,
		   const struct iam_policy *boundary,
		   struct iam_policy_set **ret_set)
{
	struct iam_policy_set *set;
	size_t total = 0;
	int r = 0;

	if ((policies == NULL && n > 0) || ret_set == NULL ||
	    n > IAM_SET_MAX_POLICIES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (policies[i] == NULL)
			return -EINVAL;
		total += policies[i]->n_st;
	}
	if (boundary != NULL)
		total += boundary->n_st;
	if (total > UINT32_MAX / 2)
		return -E2BIG;
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return -ENOMEM;
	set->e = calloc(total ? total : 1, sizeof(*set->e));
	if (set->e == NULL) {
		free(set);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		bool seen = false;

		/* A policy attached twice (user and group) counts once. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = policies[j] == policies[i];
		if (!seen)
			r = add_policy(set, policies[i], false);
	}
	if (r == 0 && boundary != NULL) {
		set->has_boundary = true;
		r = add_policy(set, boundary, true);
	}
	if (r < 0) {
		iam_policy_set_free(set);
		return r;
	}
	*ret_set = set;
	return 0;
}

/* ---- Evaluation ---------------------------------------------------------------- */

static bool
principal_ok(struct eval_ctx *ctx, const struct statement *st)
{
	const char *const *arn = NULL, *const *acct = NULL;
	size_t na, nc;
	bool any = false;

	na = iam_request_get(ctx->req, "aws:PrincipalArn", &arn);
	nc = iam_request_get(ctx->req, "aws:PrincipalAccount", &acct);
	for (uint32_t i = 0; i < st->n_principals && !any; i++) {
		const struct principal *p = &st->principals[i];

		if (p->kind == PR_ANY)
			any = true;
		else if (p->kind == PR_ACCOUNT)
			any = nc == 1 && strcmp(acct[0], p->s) == 0;
		else
			any = na == 1 && strcmp(arn[0], p->s) == 0;
	}
	return st->not_principal ? !any : any;
}

static bool
action_ok(const struct statement *st, const struct iam_request *req)
{
	bool any = false;

	for (uint32_t i = 0; i < st->n_actions && !any; i++)
		any = ptext_match(NULL, &st->actions[i], req->action,
				      req->action_len, IAM_GLOB_NOCASE, 0);
	return st->not_action ? !any : any;
}

/*
 * Resource or NotResource: a pattern that matches decides; otherwise a
 * pattern whose variable cannot be resolved makes the outcome unknown.
 */
static enum tri
resource_ok(struct eval_ctx *ctx, const struct statement *st)
{
	const struct iam_request *req = ctx->req;
	bool any = false, saved = ctx->missing, missing;

	if (st->no_resource)
		return T_YES;
	ctx->missing = false;
	for (uint32_t i = 0; i < st->n_resources && !any; i++)
		any = ptext_match(ctx, &st->resources[i], req->resource,
				      req->resource_len, 0, 0);
	missing = ctx->missing;
	ctx->missing = saved;
	if (any)
		return st->not_resource ? T_NO : T_YES;
	if (missing)
		return T_UNKNOWN;
	return st->not_resource ? T_YES : T_NO;
}

/*
 * Every element must match.  An element or condition whose outcome is
 * unknown (an unresolvable policy variable) matches in a Deny and does
 * not in an Allow, so such a variable never weakens a Deny.
 */
static bool
statement_matches(struct eval_ctx *ctx, const struct entry *e,
		  bool action_known, bool resource_known)
{
	const struct statement *st = e->st;
	enum tri res = T_YES, conds;

	if (!action_known && !action_ok(st, ctx->req))
		return false;
	if (!resource_known && (res = resource_ok(ctx, st)) == T_NO)
		return false;
	if (st->principals != NULL && !principal_ok(ctx, st))
		return false;
	if (st->n_conds == 0)
		return res == T_YES || st->deny;
	conds = iam_conds_hold(ctx, st->conds, st->n_conds);
	if (conds == T_NO)
		return false;
	/* Neither is T_NO here: both T_YES exactly when the or is T_YES. */
	return (res | conds) == T_YES || st->deny;
}

struct tally {
	bool deny, id_allow, b_allow;
	bool have_deny, have_allow;
	struct iam_match first_deny, first_allow;
};

static void
record_match(struct iam_result *res, struct tally *t, const struct entry *e)
{
	struct iam_match m = {
		.policy = e->pol->name, .sid = e->st->sid,
		.index = e->st->index, .deny = e->st->deny,
		.boundary = e->boundary,
	};

	if (res->n_kept < IAM_RESULT_MAX_MATCHES)
		res->matched[res->n_kept++] = m;
	res->n_matched++;
	if (m.deny) {
		if (!t->have_deny)
			t->first_deny = m;
		t->have_deny = true;
	} else if (m.boundary) {
		t->b_allow = true;
	} else {
		if (!t->have_allow)
			t->first_allow = m;
		t->have_allow = true;
	}
}

static void
result_start(struct iam_result *res, struct eval_ctx *ctx,
	     const struct iam_request *req)
{
	res->decision = IAM_IMPLICIT_DENY;
	res->decided = false;
	res->boundary_denied = false;
	res->n_matched = 0;
	res->n_kept = 0;
	ctx->req = req;
	ctx->scratch = res->scratch;
	ctx->scratch_len = sizeof(res->scratch);
	ctx->overflow = false;
	ctx->missing = false;
}

static int
result_finish(const struct iam_policy_set *set, struct iam_result *res,
	      const struct eval_ctx *ctx, const struct tally *t)
{
	if (ctx->overflow) {
		res->decision = IAM_IMPLICIT_DENY;
		return -E2BIG;
	}
	if (t->have_deny) {
		res->decision = IAM_EXPLICIT_DENY;
		res->decider = t->first_deny;
		res->decided = true;
	} else if (t->have_allow && (!set->has_boundary || t->b_allow)) {
		res->decision = IAM_ALLOW;
		res->decider = t->first_allow;
		res->decided = true;
	} else {
		res->boundary_denied = t->have_allow;
	}
	return 0;
}

/* Posting lists the request hits, with what each already guarantees. */
struct list {
	const uint32_t *ids;
	uint32_t n, at;
	bool action_known, resource_known;
};

static int
hit_lists(const struct iam_policy_set *set, const struct iam_request *req,
	  struct list *l)
{
	const struct bucket *b;
	int n = 0;

	b = bucket_lookup(set, K_EXACT, req->h_exact, req->action, req->action_len,
		   req->resource, req->resource_len);
	if (b != NULL)
		l[n++] = (struct list){ b->ids, b->n, 0, true, true };
	b = bucket_lookup(set, K_ACTION, req->h_action, req->action, req->action_len,
		   NULL, 0);
	if (b != NULL)
		l[n++] = (struct list){ b->ids, b->n, 0, true, false };
	b = bucket_lookup(set, K_SERVICE, req->h_service, req->action,
		   req->service_len, NULL, 0);
	if (b != NULL)
		l[n++] = (struct list){ b->ids, b->n, 0, false, false };
	if (set->n_generic > 0)
		l[n++] = (struct list){ set->generic, set->n_generic, 0, false,
					false };
	return n;
}

int
iam_policy_evaluate(const struct iam_policy_set *set,
		    const struct iam_request *req, struct iam_result *ret_result)
{
	struct eval_ctx ctx;
	struct tally t = { 0 };
	struct list l[4];
	int nl, best;

	if (set == NULL || req == NULL || ret_result == NULL)
		return -EINVAL;
	result_start(ret_result, &ctx, req);
	nl = hit_lists(set, req, l);
	if (nl == 1) {
		/* One list: already in set order. */
		for (uint32_t i = 0; i < l[0].n && !ctx.overflow; i++) {
			const struct entry *e = &set->e[l[0].ids[i]];

			if (statement_matches(&ctx, e, l[0].action_known,
					      l[0].resource_known))
				record_match(ret_result, &t, e);
		}
		return result_finish(set, ret_result, &ctx, &t);
	}
	/* Merge the sorted lists, so statements are met in set order. */
	for (;;) {
		best = -1;
		for (int i = 0; i < nl; i++)
			if (l[i].at < l[i].n && (best < 0 ||
			    l[i].ids[l[i].at] < l[best].ids[l[best].at]))
				best = i;
		if (best < 0 || ctx.overflow)
			break;
		const struct entry *e = &set->e[l[best].ids[l[best].at++]];

		if (statement_matches(&ctx, e, l[best].action_known,
				      l[best].resource_known))
			record_match(ret_result, &t, e);
	}
	return result_finish(set, ret_result, &ctx, &t);
}

int
iam_policy_evaluate_naive(const struct iam_policy_set *set,
			  const struct iam_request *req,
			  struct iam_result *ret_result)
{
	struct eval_ctx ctx;
	struct tally t = { 0 };

	if (set == NULL || req == NULL || ret_result == NULL)
		return -EINVAL;
	result_start(ret_result, &ctx, req);
	for (uint32_t i = 0; i < set->n && !ctx.overflow; i++)
		if (statement_matches(&ctx, &set->e[i], false, false))
			record_match(ret_result, &t, &set->e[i]);
	return result_finish(set, ret_result, &ctx, &t);
}

size_t
iam_policy_set_candidates(const struct iam_policy_set *set,
			  const struct iam_request *req)
{
	struct list l[4];
	int nl = hit_lists(set, req, l);
	size_t n = 0;

	for (int i = 0; i < nl; i++)
		n += l[i].n;
	return n;
}
