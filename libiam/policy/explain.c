/*
 * explain.c - a decision explained: its name, and every statement that
 * decided it, as JSON (yajl_gen) or as text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "policy_int.h"

/* ---- Explanations -------------------------------------------------------------- */

const char *
iam_decision_name(enum iam_decision d)
{
	switch (d) {
	case IAM_ALLOW:
		return "Allow";
	case IAM_EXPLICIT_DENY:
		return "ExplicitDeny";
	case IAM_IMPLICIT_DENY:
		break;
	}
	return "ImplicitDeny";
}

#define GEN(x) do { if ((x) != yajl_gen_status_ok) goto out; } while (0)

static yajl_gen_status
gen_str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static yajl_gen_status
gen_match(yajl_gen g, const struct iam_match *m)
{
	yajl_gen_status s;

	if ((s = yajl_gen_map_open(g)) || (s = gen_str(g, "policy")) ||
	    (s = gen_str(g, m->policy)) || (s = gen_str(g, "sid")) ||
	    (s = m->sid ? gen_str(g, m->sid) : yajl_gen_null(g)) ||
	    (s = gen_str(g, "index")) ||
	    (s = yajl_gen_integer(g, m->index)) ||
	    (s = gen_str(g, "effect")) ||
	    (s = gen_str(g, m->deny ? "Deny" : "Allow")) ||
	    (s = gen_str(g, "boundary")) || (s = yajl_gen_bool(g, m->boundary)))
		return s;
	return yajl_gen_map_close(g);
}

int
iam_result_write_json(const struct iam_result *res, struct iam_buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;
	int r = -ENOMEM;

	if (g == NULL)
		return -ENOMEM;
	GEN(yajl_gen_map_open(g));
	GEN(gen_str(g, "decision"));
	GEN(gen_str(g, iam_decision_name(res->decision)));
	GEN(gen_str(g, "matched"));
	GEN(yajl_gen_array_open(g));
	for (size_t i = 0; i < res->n_kept; i++)
		GEN(gen_match(g, &res->matched[i]));
	GEN(yajl_gen_array_close(g));
	GEN(gen_str(g, "decided_by"));
	GEN(res->decided ? gen_match(g, &res->decider) : yajl_gen_null(g));
	if (res->n_matched > res->n_kept) {
		GEN(gen_str(g, "matched_not_listed"));
		GEN(yajl_gen_integer(g, (long long)(res->n_matched - res->n_kept)));
	}
	GEN(yajl_gen_map_close(g));
	GEN(yajl_gen_get_buf(g, &text, &len));
	r = iam_buf_add(out, text, len);
out:
	yajl_gen_free(g);
	return r;
}

static int
label(struct iam_buf *out, const struct iam_match *m)
{
	int r = iam_buf_addf(out, "policy \"%s\"%s, ", m->policy,
			     m->boundary ? " (permissions boundary)" : "");

	if (r == 0 && m->sid != NULL)
		r = iam_buf_addf(out, "statement \"%s\" (Statement[%u])",
				 m->sid, m->index);
	else if (r == 0)
		r = iam_buf_addf(out, "Statement[%u]", m->index);
	if (r == 0)
		r = iam_buf_addf(out, ": %s\n", m->deny ? "Deny" : "Allow");
	return r;
}

static bool
same(const struct iam_match *a, const struct iam_match *b)
{
	return a->policy == b->policy && a->index == b->index &&
	       a->boundary == b->boundary;
}

int
iam_result_write_text(const struct iam_result *res,
		      const struct iam_request *req, struct iam_buf *out)
{
	int r = iam_buf_addf(out, "%s\n", iam_decision_name(res->decision));

	if (r == 0 && res->decided) {
		r = iam_buf_adds(out, res->decision == IAM_ALLOW ?
				 "  allowed by " : "  denied by ");
		if (r == 0)
			r = label(out, &res->decider);
	} else if (r == 0 && res->boundary_denied) {
		r = iam_buf_addf(out, "  the permissions boundary does not "
				 "allow %s on %s\n", req->action, req->resource);
	} else if (r == 0) {
		r = iam_buf_addf(out, "  no statement allows %s on %s\n",
				 req->action, req->resource);
	}
	for (size_t i = 0; r == 0 && i < res->n_kept; i++) {
		if (res->decided && same(&res->matched[i], &res->decider))
			continue;
		r = iam_buf_adds(out, "  also matched: ");
		if (r == 0)
			r = label(out, &res->matched[i]);
	}
	if (r == 0 && res->n_matched > res->n_kept)
		r = iam_buf_addf(out, "  (%zu more matching statements not "
				 "listed)\n", res->n_matched - res->n_kept);
	return r;
}
