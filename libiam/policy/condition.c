/*
 * condition.c - the Condition element: every AWS condition operator, the
 * IfExists suffix and the ForAnyValue:/ForAllValues: set qualifiers.
 *
 * Rules (AWS IAM User Guide, "Condition operators" and "Set operators
 * for multivalued context keys"):
 *  - operators AND together, keys within an operator AND together,
 *    values of one key OR together, and a negated operator (StringNot*,
 *    NumericNotEquals, DateNotEquals, NotIpAddress, ArnNot*) is the NOR
 *    of its values;
 *  - a key absent from the request makes a condition false, except for
 *    negated operators (true), ...IfExists (true), ForAllValues: (true)
 *    and Null (which tests exactly that);
 *  - ForAnyValue: needs one request value to satisfy the operator,
 *    ForAllValues: needs every request value to; an empty or absent key
 *    fails ForAnyValue: and satisfies ForAllValues:;
 *  - ARN operators never match a request value that is not an ARN, the
 *    negated ones (ArnNotEquals, ArnNotLike) included.
 *
 * A condition is three-valued (enum tri): besides holding or not, it is
 * unknown when a policy variable it needs cannot be resolved and the
 * values that can be resolved do not settle it.  eval.c turns unknown
 * into "matches" for a Deny and "does not match" for an Allow.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util_int.h"
#include "policy_int.h"

/* ---- Operator names --------------------------------------------------------- */

static const struct {
	const char *name;
	enum cond_op op;
	bool negated;
} ops[] = {
	{ "StringEquals", OP_STRING_EQUALS, false },
	{ "StringNotEquals", OP_STRING_NOT_EQUALS, true },
	{ "StringEqualsIgnoreCase", OP_STRING_EQUALS_IC, false },
	{ "StringNotEqualsIgnoreCase", OP_STRING_NOT_EQUALS_IC, true },
	{ "StringLike", OP_STRING_LIKE, false },
	{ "StringNotLike", OP_STRING_NOT_LIKE, true },
	{ "NumericEquals", OP_NUMERIC_EQ, false },
	{ "NumericNotEquals", OP_NUMERIC_NE, true },
	{ "NumericLessThan", OP_NUMERIC_LT, false },
	{ "NumericLessThanEquals", OP_NUMERIC_LE, false },
	{ "NumericGreaterThan", OP_NUMERIC_GT, false },
	{ "NumericGreaterThanEquals", OP_NUMERIC_GE, false },
	{ "DateEquals", OP_DATE_EQ, false },
	{ "DateNotEquals", OP_DATE_NE, true },
	{ "DateLessThan", OP_DATE_LT, false },
	{ "DateLessThanEquals", OP_DATE_LE, false },
	{ "DateGreaterThan", OP_DATE_GT, false },
	{ "DateGreaterThanEquals", OP_DATE_GE, false },
	{ "Bool", OP_BOOL, false },
	{ "BinaryEquals", OP_BINARY_EQUALS, false },
	{ "IpAddress", OP_IP_ADDRESS, false },
	{ "NotIpAddress", OP_NOT_IP_ADDRESS, true },
	{ "ArnEquals", OP_ARN_EQUALS, false },
	{ "ArnNotEquals", OP_ARN_NOT_EQUALS, true },
	{ "ArnLike", OP_ARN_LIKE, false },
	{ "ArnNotLike", OP_ARN_NOT_LIKE, true },
	{ "Null", OP_NULL, false },
};

bool
iam_cond_parse_op(const char *name, struct condition *c)
{
	size_t n;

	c->set = SET_NONE;
	c->if_exists = false;
	if (strncmp(name, "ForAnyValue:", 12) == 0) {
		c->set = SET_ANY;
		name += 12;
	} else if (strncmp(name, "ForAllValues:", 13) == 0) {
		c->set = SET_ALL;
		name += 13;
	}
	n = strlen(name);
	if (n > 8 && strcmp(name + n - 8, "IfExists") == 0) {
		c->if_exists = true;
		n -= 8;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].name) != n || strncmp(ops[i].name, name, n) != 0)
			continue;
		/* Null tests presence itself: no IfExists, no set qualifier. */
		if (ops[i].op == OP_NULL && (c->if_exists || c->set != SET_NONE))
			return false;
		c->op = ops[i].op;
		c->negated = ops[i].negated;
		return true;
	}
	return false;
}

/* ---- Value parsers --------------------------------------------------------- */

int
iam_parse_number(const char *s, struct number *ret)
{
	struct number v = { .is_int = true };
	const char *p = s;
	bool neg = false, digits = false;
	double frac = 0.1;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	/* Up to 15 digits alone: exact in a double as well. */
	for (const char *q = p;; q++) {
		if (*q >= '0' && *q <= '9' && q - p < 15) {
			v.i = v.i * 10 + (*q - '0');
			continue;
		}
		if (*q != '\0' || q == p)
			break;
		v.d = (double)v.i;
		if (neg) {
			v.i = -v.i;
			v.d = -v.d;
		}
		*ret = v;
		return 0;
	}
	v.i = 0;
	for (; isdigit((unsigned char)*p); p++) {
		int d = *p - '0';

		digits = true;
		v.d = v.d * 10 + d;
		if (v.is_int && v.i > (INT64_MAX - d) / 10)
			v.is_int = false;
		else if (v.is_int)
			v.i = v.i * 10 + d;
	}
	if (*p == '.') {
		v.is_int = false;
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++, frac /= 10)
			v.d += (*p - '0') * frac;
	}
	if (!digits || *p != '\0')
		return -EINVAL;
	if (neg) {
		v.i = -v.i;
		v.d = -v.d;
	}
	*ret = v;
	return 0;
}

static int
cmp_number(const struct number *a, const struct number *b)
{
	if (a->is_int && b->is_int)
		return (a->i > b->i) - (a->i < b->i);
	return (a->d > b->d) - (a->d < b->d);
}

int
iam_parse_date(const char *s, int64_t *ret)
{
	long long v;
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p != '\0' && strspn(p, "0123456789") == strlen(p)) {
		if (iam_parse_ll(s, -62135596800LL, 253402300799LL, &v) < 0)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return iam_parse_time(s, ret);
}

int
iam_parse_cidr(const char *s, bool prefix_ok, struct cidr *ret)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct cidr c = { 0 };
	long long bits;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = 4;
		c.bits = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = 6;
		c.bits = 128;
		/* An IPv4-mapped address is that IPv4 address. */
		if (memcmp(c.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(c.addr, c.addr + 12, 4);
			memset(c.addr + 4, 0, 12);
			c.family = 4;
			c.bits = 32;
		}
	} else {
		return -EINVAL;
	}
	if (slash != NULL) {
		if (!prefix_ok || iam_parse_ll(slash + 1, 0, c.bits, &bits) < 0)
			return -EINVAL;
		c.bits = (uint8_t)bits;
	}
	*ret = c;
	return 0;
}

static bool
cidr_contains(const struct cidr *net, const struct cidr *a)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;

	if (net->family != a->family)
		return false;
	if (memcmp(net->addr, a->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ a->addr[full]) & (0xff00u >> rest)) == 0;
}

static int
parse_bool(const char *s, bool *ret)
{
	if (strcasecmp(s, "true") == 0)
		*ret = true;
	else if (strcasecmp(s, "false") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

const char *
iam_cond_prepare(const struct condition *c, struct cond_value *v,
		 struct arena *a)
{
	const char *s = v->text.s;
	uint8_t *bin;
	ssize_t n;

	switch (c->op) {
	case OP_NUMERIC_EQ: case OP_NUMERIC_NE: case OP_NUMERIC_LT:
	case OP_NUMERIC_LE: case OP_NUMERIC_GT: case OP_NUMERIC_GE:
		return iam_parse_number(s, &v->u.num) < 0 ?
		       "is not a number" : NULL;
	case OP_DATE_EQ: case OP_DATE_NE: case OP_DATE_LT: case OP_DATE_LE:
	case OP_DATE_GT: case OP_DATE_GE:
		return iam_parse_date(s, &v->u.time) < 0 ?
		       "is not an ISO 8601 date or epoch seconds" : NULL;
	case OP_BOOL:
	case OP_NULL:
		return parse_bool(s, &v->u.boolean) < 0 ?
		       "must be true or false" : NULL;
	case OP_BINARY_EQUALS:
		bin = iam_arena_alloc(a, v->text.len / 4 * 3 + 3);
		if (bin == NULL)
			return "out of memory";
		n = iam_base64_decode(s, v->text.len, bin,
				      v->text.len / 4 * 3 + 3);
		if (n < 0)
			return "is not base64";
		v->u.bin.p = bin;
		v->u.bin.n = (size_t)n;
		return NULL;
	case OP_IP_ADDRESS: case OP_NOT_IP_ADDRESS:
		return iam_parse_cidr(s, true, &v->u.ip) < 0 ?
		       "is not an IP address or CIDR block" : NULL;
	case OP_ARN_EQUALS: case OP_ARN_NOT_EQUALS: case OP_ARN_LIKE:
	case OP_ARN_NOT_LIKE:
		if (v->text.flags & PT_VARS)
			return NULL;
		return iam_arn_valid(s, v->text.len) ? NULL :
		       "is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)";
	default:
		return NULL;
	}
}

/* ---- Matching one request value against one policy value ------------------ */

/*
 * Cut an ARN (pattern with escapes when esc) into its 6 parts; the last
 * part keeps any further colons.  False when there are fewer than 6.
 */
static bool
arn_split(const char *s, size_t n, bool esc, const char **part, size_t *len)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i < n && k < 5; i++) {
		if (esc && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == ':') {
			part[k] = s + start;
			len[k++] = i - start;
			start = i + 1;
		}
	}
	if (k < 5)
		return false;
	part[5] = s + start;
	len[5] = n - start;
	return true;
}

static bool
arn_match(struct eval_ctx *ctx, const struct cond_value *pv, const char *cv,
	  size_t cl)
{
	const char *pp[6], *cp[6], *pat = pv->text.s;
	size_t pl[6], cln[6], plen = pv->text.len;
	unsigned flags = 0;

	if (pv->text.flags & PT_VARS) {
		if (!iam_expand(ctx, &pv->text, true, 0, &pat, &plen))
			return false;
		flags = GLOB_ESCAPES;
	}
	if (!arn_split(pat, plen, flags != 0, pp, pl) ||
	    !arn_split(cv, cl, false, cp, cln))
		return false;
	for (int i = 0; i < 6; i++)
		if (!iam_glob_match_flags(pp[i], pl[i], cp[i], cln[i], flags))
			return false;
	return true;
}

static bool
string_match(struct eval_ctx *ctx, const struct condition *c,
	     const struct cond_value *pv, const char *cv, size_t cl)
{
	const char *s = pv->text.s;
	size_t n = pv->text.len;

	switch (c->op) {
	case OP_STRING_LIKE: case OP_STRING_NOT_LIKE:
		return iam_ptext_match(ctx, &pv->text, cv, cl, 0, 0);
	default:
		break;
	}
	if ((pv->text.flags & PT_VARS) &&
	    !iam_expand(ctx, &pv->text, false, 0, &s, &n))
		return false;
	if (n != cl)
		return false;
	if (c->op == OP_STRING_EQUALS_IC || c->op == OP_STRING_NOT_EQUALS_IC)
		return strncasecmp(s, cv, n) == 0;
	return memcmp(s, cv, n) == 0;
}

static bool
value_match(struct eval_ctx *ctx, const struct condition *c,
	    const struct cond_value *pv, const char *cv, size_t cl)
{
	struct number num;
	struct cidr ip;
	int64_t t;
	bool b;
	ssize_t n;

	switch (c->op) {
	case OP_STRING_EQUALS: case OP_STRING_NOT_EQUALS:
	case OP_STRING_EQUALS_IC: case OP_STRING_NOT_EQUALS_IC:
	case OP_STRING_LIKE: case OP_STRING_NOT_LIKE:
		return string_match(ctx, c, pv, cv, cl);
	case OP_NUMERIC_EQ: case OP_NUMERIC_NE:
		return iam_parse_number(cv, &num) == 0 &&
		       cmp_number(&num, &pv->u.num) == 0;
	case OP_NUMERIC_LT:
		return iam_parse_number(cv, &num) == 0 &&
		       cmp_number(&num, &pv->u.num) < 0;
	case OP_NUMERIC_LE:
		return iam_parse_number(cv, &num) == 0 &&
		       cmp_number(&num, &pv->u.num) <= 0;
	case OP_NUMERIC_GT:
		return iam_parse_number(cv, &num) == 0 &&
		       cmp_number(&num, &pv->u.num) > 0;
	case OP_NUMERIC_GE:
		return iam_parse_number(cv, &num) == 0 &&
		       cmp_number(&num, &pv->u.num) >= 0;
	case OP_DATE_EQ: case OP_DATE_NE:
		return iam_parse_date(cv, &t) == 0 && t == pv->u.time;
	case OP_DATE_LT:
		return iam_parse_date(cv, &t) == 0 && t < pv->u.time;
	case OP_DATE_LE:
		return iam_parse_date(cv, &t) == 0 && t <= pv->u.time;
	case OP_DATE_GT:
		return iam_parse_date(cv, &t) == 0 && t > pv->u.time;
	case OP_DATE_GE:
		return iam_parse_date(cv, &t) == 0 && t >= pv->u.time;
	case OP_BOOL:
		return parse_bool(cv, &b) == 0 && b == pv->u.boolean;
	case OP_BINARY_EQUALS:
		if (cl / 4 * 3 + 3 > ctx->scratch_len)
			return false;
		n = iam_base64_decode(cv, cl, (unsigned char *)ctx->scratch,
				      ctx->scratch_len);
		return n >= 0 && (size_t)n == pv->u.bin.n &&
		       memcmp(ctx->scratch, pv->u.bin.p, (size_t)n) == 0;
	case OP_IP_ADDRESS: case OP_NOT_IP_ADDRESS:
		return iam_parse_cidr(cv, false, &ip) == 0 &&
		       cidr_contains(&pv->u.ip, &ip);
	case OP_ARN_EQUALS: case OP_ARN_NOT_EQUALS:
	case OP_ARN_LIKE: case OP_ARN_NOT_LIKE:
		return arn_match(ctx, pv, cv, cl);
	case OP_NULL:
		break;
	}
	return false;
}

/*
 * Request values vals[0..n) against the policy values: true when a pair
 * matches.  A policy variable that is absent sets ctx->missing.
 */
static bool
any_pair(struct eval_ctx *ctx, const struct condition *c,
	 const char *const *vals, const uint32_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < c->n_values; j++) {
			const struct cond_value *pv = &c->values[j];

			/* StringEquals and StringNotEquals on plain text. */
			if (c->op <= OP_STRING_NOT_EQUALS &&
			    !(pv->text.flags & PT_VARS)) {
				if (pv->text.len == lens[i] &&
				    memcmp(pv->text.s, vals[i], lens[i]) == 0)
					return true;
			} else if (value_match(ctx, c, pv, vals[i], lens[i])) {
				return true;
			}
		}
	}
	return false;
}

/*
 * A negated ARN operator and a request value that is not an ARN: the
 * condition does not hold (ARN operators never match such a value).
 */
static inline bool
non_arn_value(const struct condition *c, const char *const *vals,
	      const uint32_t *lens, size_t n)
{
	if (c->op != OP_ARN_NOT_EQUALS && c->op != OP_ARN_NOT_LIKE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!iam_arn_valid(vals[i], lens[i]))
			return true;
	return false;
}

/*
 * holds() for a negated operator or one with variables: NOR of the
 * pairs when negated; unknown when no pair matched but one could not be
 * compared for an unresolvable variable (iam-policy(5)).
 */
static enum tri __attribute__((noinline))
holds_other(struct eval_ctx *ctx, const struct condition *c,
	    const char *const *vals, const uint32_t *lens, size_t n)
{
	bool saved, any, missing;

	saved = ctx->missing;
	ctx->missing = false;
	any = any_pair(ctx, c, vals, lens, n);
	missing = ctx->missing;
	ctx->missing = saved;
	if (any)
		return c->negated ? T_NO : T_YES;
	if (c->negated && non_arn_value(c, vals, lens, n))
		return T_NO;
	/* Without variables nothing can be missing. */
	if (missing)
		return T_UNKNOWN;
	return c->negated ? T_YES : T_NO;
}

/* Apply the operator's sense to the pairs of values: OR, or NOR. */
static inline enum tri
holds(struct eval_ctx *ctx, const struct condition *c,
      const char *const *vals, const uint32_t *lens, size_t n)
{
	/* The common case: a plain operator on literal values. */
	if (!c->vars && !c->negated)
		return any_pair(ctx, c, vals, lens, n) ? T_YES : T_NO;
	return holds_other(ctx, c, vals, lens, n);
}

/* False when a policy value names a variable the request lacks. */
static bool
vars_resolve(struct eval_ctx *ctx, const struct condition *c)
{
	const char *s;
	size_t n;

	for (uint32_t j = 0; j < c->n_values; j++)
		if ((c->values[j].text.flags & PT_VARS) &&
		    !iam_expand(ctx, &c->values[j].text, false, 0, &s, &n))
			return false;
	return true;
}

/*
 * ForAnyValue (decisive T_YES) and ForAllValues (T_NO): each value of k
 * alone; the first that gives decisive decides, else any unknown is.
 */
static inline enum tri
each_value(struct eval_ctx *ctx, const struct condition *c,
	   const struct ctxkey *k, size_t n, enum tri decisive)
{
	enum tri t, acc = decisive == T_YES ? T_NO : T_YES;

	for (size_t i = 0; i < n; i++) {
		t = holds(ctx, c, (const char *const *)&k->values[i], &k->lens[i],
			  1);
		if (t == decisive)
			return t;
		if (t == T_UNKNOWN)
			acc = T_UNKNOWN;
	}
	return acc;
}

static enum tri
cond_holds(struct eval_ctx *ctx, const struct condition *c)
{
	const struct ctxkey *k;
	size_t n;

	k = iam_request_find_lc(ctx->req, c->key_hash, c->key_lc, c->key_len);
	n = k != NULL ? k->n : 0;
	if (c->op == OP_NULL) {
		/* "true": the key must be absent; "false": present. */
		for (uint32_t j = 0; j < c->n_values; j++)
			if (c->values[j].u.boolean == (n == 0))
				return T_YES;
		return T_NO;
	}
	if (n == 0) {
		if (c->if_exists || c->set == SET_ALL)
			return T_YES;
		if (c->set == SET_ANY || !c->negated)
			return T_NO;
		/* A negated operator: its values must name something. */
		return vars_resolve(ctx, c) ? T_YES : T_UNKNOWN;
	}
	switch (c->set) {
	case SET_ANY:
		/* One value that holds decides; else any unknown is. */
		return each_value(ctx, c, k, n, T_YES);
	case SET_ALL:
		/* One value that fails decides; else any unknown is. */
		return each_value(ctx, c, k, n, T_NO);
	case SET_NONE:
		break;
	}
	/* No qualifier: any pair of values that matches decides. */
	return holds(ctx, c, (const char *const *)k->values, k->lens, n);
}

enum tri
iam_conds_hold(struct eval_ctx *ctx, const struct condition *conds, uint32_t n)
{
	unsigned acc = T_YES;

	for (uint32_t i = 0; i < n; i++) {
		enum tri t = cond_holds(ctx, &conds[i]);

		if (t == T_NO)
			return T_NO;
		acc |= t;
	}
	/* T_YES | T_UNKNOWN has the T_UNKNOWN bit. */
	return (acc & T_UNKNOWN) ? T_UNKNOWN : T_YES;
}
