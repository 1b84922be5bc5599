/*
 * test_policy_conformance.c - the AWS conformance suite of the policy
 * engine, read from the JSON files of tests/unit/policy-cases.
 *
 * Each file is {"doc": URL, "request": {...}, "cases": [...]}.  A case
 * names the AWS documentation page whose rule it checks ("doc", else the
 * file's), its policies ("statements": one 2012-10-17 policy "P1" made
 * of them; or "policies": {"NAME": document, ...}), an optional
 * "boundary" document, and either one "request" + "expect" or several
 * "checks": [{"request", "expect", "decided_by"?}].  A request is
 * {"action", "resource", "context": {"KEY": "V" or ["V1", ...]}} where
 * "" and [] are kept as an AWS request carries them; keys the case
 * leaves out come from the file's "request".  A case with neither
 * "statements" nor "policies" is a request with no policy at all.  "decided_by" is
 * "POLICY/SID" or "POLICY/INDEX".  Every check is also run through the
 * naive evaluator, which must agree with the indexed one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "policy_int.h"

#define CASES_DIR SRC_DIR "/tests/unit/policy-cases"

struct runner {
	const char *file;
	const char *name;
	const char *doc;
	size_t checks, failures;
	char why[1024];
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const struct iam_json *
field(const struct iam_json *c, const struct iam_json *dflt, const char *k)
{
	const struct iam_json *v = iam_json_get(c, k);

	return v != NULL ? v : iam_json_get(dflt, k);
}

static int
build_request(const struct iam_json *rq, const struct iam_json *dflt,
	      struct iam_request **ret)
{
	const struct iam_json *a = field(rq, dflt, "action");
	const struct iam_json *r = field(rq, dflt, "resource");
	const struct iam_json *ctx[2] = { iam_json_get(dflt, "context"),
					  iam_json_get(rq, "context") };
	struct iam_request *req;

	cr_assert(a != NULL && r != NULL, "request needs action and resource");
	cr_assert_eq(iam_request_new(a->u.string, r->u.string, &req), 0,
		     "bad request %s %s", a->u.string, r->u.string);
	for (int c = 0; c < 2; c++) {
		if (ctx[c] == NULL)
			continue;
		for (size_t i = 0; i < ctx[c]->len; i++) {
			const struct iam_json_member *m = &ctx[c]->u.members[i];

			/* The case's own context replaces the file's key. */
			if (c == 0 && ctx[1] != NULL &&
			    iam_json_get(ctx[1], m->key) != NULL)
				continue;
			/* "" and [] are kept: an AWS request may carry them. */
			if (m->value.type == IAM_JSON_STRING) {
				const char *v = m->value.u.string;

				cr_assert_eq(iam_request_add_values(req, m->key,
					     &v, 1), 0);
				continue;
			}
			cr_assert_eq(iam_request_add_values(req, m->key, NULL,
							    0), 0);
			for (size_t j = 0; j < m->value.len; j++) {
				const char *v = m->value.u.items[j].u.string;

				cr_assert_eq(iam_request_add_values(req, m->key,
					     &v, 1), 0);
			}
		}
	}
	*ret = req;
	return 0;
}

static struct iam_policy *
compile(struct runner *rn, const struct iam_json *doc, const char *name)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = NULL;
	int r = iam_policy_compile(doc, name, false, name, &p, &f);

	cr_assert_eq(r, 0, "%s: case \"%s\": policy %s does not compile: %s",
		     rn->file, rn->name, name, f.n ? f.v[0] : "?");
	iam_faults_release(&f);
	return p;
}

static void
check_one(struct runner *rn, const struct iam_policy_set *set,
	  const struct iam_json *chk, const struct iam_json *dflt)
{
	static struct iam_result res, naive;
	const struct iam_json *want = iam_json_get(chk, "expect");
	const struct iam_json *by = iam_json_get(chk, "decided_by");
	const struct iam_json *rq = iam_json_get(chk, "request");
	struct iam_request *req;
	char got_by[256] = "";

	cr_assert_not_null(want, "%s: case \"%s\": no expect", rn->file,
			   rn->name);
	build_request(rq, dflt, &req);
	rn->checks++;
	cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
	cr_assert_eq(iam_policy_evaluate_naive(set, req, &naive), 0);
	if (res.decided)
		snprintf(got_by, sizeof(got_by), "%s/%s", res.decider.policy,
			 res.decider.sid ? res.decider.sid : "");
	if (res.decided && res.decider.sid == NULL)
		snprintf(got_by, sizeof(got_by), "%s/%u", res.decider.policy,
			 res.decider.index);
	if (strcmp(iam_decision_name(res.decision), want->u.string) != 0 ||
	    (by != NULL && strcmp(by->u.string, got_by) != 0) ||
	    res.decision != naive.decision ||
	    res.n_matched != naive.n_matched) {
		rn->failures++;
		cr_log_error("%s: case \"%s\" (%s): %s %s: got %s (by %s, "
			     "naive %s), want %s%s%s", rn->file, rn->name,
			     rn->doc, iam_request_action(req),
			     iam_request_resource(req),
			     iam_decision_name(res.decision), got_by,
			     iam_decision_name(naive.decision), want->u.string,
			     by ? " by " : "", by ? by->u.string : "");
	}
	iam_request_free(req);
}

static void
run_case(struct runner *rn, const struct iam_json *c,
	 const struct iam_json *file)
{
	const struct iam_json *sts = iam_json_get(c, "statements");
	const struct iam_json *pols = iam_json_get(c, "policies");
	const struct iam_json *bnd = iam_json_get(c, "boundary");
	const struct iam_json *checks = iam_json_get(c, "checks");
	const struct iam_json *doc = field(c, file, "doc");
	const struct iam_json *dflt = iam_json_get(file, "request");
	struct iam_policy *p[16] = { 0 }, *b = NULL;
	struct iam_policy_set *set;
	size_t n = 0;

	rn->name = iam_json_get(c, "name")->u.string;
	cr_assert(doc != NULL && strncmp(doc->u.string,
		  "https://docs.aws.amazon.com/", 28) == 0,
		  "%s: case \"%s\" cites no AWS documentation page", rn->file,
		  rn->name);
	rn->doc = doc->u.string;
	if (sts != NULL) {
		/* {"Version": "2012-10-17", "Statement": sts} built by hand. */
		struct iam_json_member m[2] = {
			{ "Version", { .type = IAM_JSON_STRING, .len = 10,
				       .u.string = "2012-10-17" } },
			{ "Statement", *sts },
		};
		struct iam_json d = { .type = IAM_JSON_OBJECT, .len = 2,
				      .u.members = m };

		p[n++] = compile(rn, &d, "P1");
	}
	for (size_t i = 0; pols != NULL && i < pols->len && n < 16; i++)
		p[n++] = compile(rn, &pols->u.members[i].value,
				 pols->u.members[i].key);
	if (bnd != NULL)
		b = compile(rn, bnd, "Boundary");
	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)p,
					n, b, &set), 0);
	if (checks == NULL) {
		check_one(rn, set, c, dflt);
	} else {
		for (size_t i = 0; i < checks->len; i++)
			check_one(rn, set, &checks->u.items[i], dflt);
	}
	iam_policy_set_free(set);
	for (size_t i = 0; i < n; i++)
		iam_policy_free(p[i]);
	iam_policy_free(b);
}

static void
run_file(struct runner *rn, const char *path)
{
	struct iam_json_doc *doc;
	const struct iam_json *root, *cases;
	char err[256];
	size_t len;
	char *text = slurp(path, &len);

	cr_assert_eq(iam_json_parse(text, len, NULL, &doc, err, sizeof(err)),
		     0, "%s: %s", path, err);
	root = iam_json_root(doc);
	cases = iam_json_get(root, "cases");
	cr_assert(cases != NULL && cases->type == IAM_JSON_ARRAY);
	for (size_t i = 0; i < cases->len; i++)
		run_case(rn, &cases->u.items[i], root);
	iam_json_free(doc);
	free(text);
}

Test(policy_conformance, every_case_decides_as_aws_documents)
{
	struct runner rn = { 0 };
	struct dirent *de;
	char path[4096];
	DIR *d = opendir(CASES_DIR);
	size_t files = 0;

	cr_assert_not_null(d, "%s: %s", CASES_DIR, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", CASES_DIR, de->d_name);
		rn.file = de->d_name;
		run_file(&rn, path);
		files++;
	}
	closedir(d);
	cr_log_info("conformance: %zu checks in %zu files, %zu failed",
		    rn.checks, files, rn.failures);
	cr_expect_geq(rn.checks, 250, "only %zu conformance checks", rn.checks);
	cr_expect_eq(rn.failures, 0, "%zu of %zu checks failed", rn.failures,
		     rn.checks);
}
