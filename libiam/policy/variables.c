/*
 * variables.c - policy variables (${aws:username}, ${aws:PrincipalTag/K},
 * ${*}, ...) expanded from a request's context into the scratch buffer
 * of an evaluation.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"

/* ---- Policy variables ---------------------------------------------------------- */

static bool
put_expanded(struct eval_ctx *ctx, size_t *o, char c, bool escape)
{
	if (*o + 2 >= ctx->scratch_len) {
		ctx->overflow = true;
		return false;
	}
	if (escape)
		ctx->scratch[(*o)++] = '\\';
	ctx->scratch[(*o)++] = c;
	return true;
}

/*
 * The value of ${inner}: "*", "?", "$" stand for themselves; otherwise
 * a context key with an optional default, "key, 'default'".
 */
static bool
variable(struct eval_ctx *ctx, const char *in, size_t n, const char **ret,
	 size_t *ret_len)
{
	const char *comma = memchr(in, ',', n), *q, *end = in + n;
	const struct ctxkey *k;
	size_t kl = comma ? (size_t)(comma - in) : n;

	if (n == 1 && (*in == '*' || *in == '?' || *in == '$')) {
		*ret = in;
		*ret_len = 1;
		return true;
	}
	while (kl > 0 && in[kl - 1] == ' ')
		kl--;
	k = iam_request_find(ctx->req, iam_key_hash(in, kl), in, kl);
	if (k != NULL && k->n == 1) {
		*ret = k->values[0];
		*ret_len = k->lens[0];
		return true;
	}
	/* A multi-valued key is no variable (AWS); try the default. */
	if (comma == NULL)
		return false;
	for (q = comma + 1; q < end && *q == ' '; q++)
		;
	if (q >= end || *q != '\'')
		return false;
	while (end > q + 1 && end[-1] == ' ')
		end--;
	if (end - q < 2 || end[-1] != '\'')
		return false;
	*ret = q + 1;
	*ret_len = (size_t)(end - q - 2);
	return true;
}

bool
iam_expand(struct eval_ctx *ctx, const struct ptext *t, bool as_glob,
	   size_t at, const char **ret, size_t *ret_len)
{
	const char *s = t->s, *end = s + t->len, *close, *v;
	size_t o = at, vl;

	while (s < end) {
		if (s[0] == '$' && s + 1 < end && s[1] == '{' &&
		    (close = memchr(s + 2, '}', (size_t)(end - s - 2))) != NULL &&
		    close > s + 2) {
			if (!variable(ctx, s + 2, (size_t)(close - s - 2), &v,
				      &vl)) {
				ctx->missing = true;
				return false;
			}
			/* Substituted text is literal, never a wildcard. */
			for (size_t i = 0; i < vl; i++)
				if (!put_expanded(ctx, &o, v[i], as_glob &&
					 (v[i] == '*' || v[i] == '?' ||
					  v[i] == '\\')))
					return false;
			s = close + 1;
			continue;
		}
		if (!put_expanded(ctx, &o, *s, as_glob && *s == '\\'))
			return false;
		s++;
	}
	ctx->scratch[o] = '\0';
	*ret = ctx->scratch + at;
	*ret_len = o - at;
	return true;
}
