/*
 * bench_policy.c - the policy engine's speed, beside a naive scan of every
 * statement measured in the same run (DESIGN.md "Speed").
 *
 *   bench_policy                  times: median ns per decision
 *   bench_policy --ir-table DIR   the same loops under callgrind: Ir per
 *                                 decision (runs itself with --loop)
 *   bench_policy --loop CFG MODE N   N decisions of one configuration
 *                                 (CFG: user, 10, 100, 1000, 10000;
 *                                 MODE: index, naive), for callgrind
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iam.h"
#include "policy_int.h"

struct bench {
	struct iam_policy **pols;
	size_t n;
	struct iam_policy_set *set;
	struct iam_request *req;
};

static struct iam_result res;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct iam_policy *
compile(const char *text, const char *name)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p;

	if (iam_policy_compile_text(text, strlen(text), name, false, "", &p,
				    &f) < 0) {
		fprintf(stderr, "bench: %s: %s\n", name, f.n ? f.v[0] : "?");
		exit(2);
	}
	iam_faults_release(&f);
	return p;
}

static void
context(struct iam_request *r)
{
	iam_request_add(r, "aws:username", "alice");
	iam_request_add(r, "aws:userid", "70001");
	iam_request_add(r, "aws:PrincipalArn", "arn:iam:iam::123456789012:user/alice");
	iam_request_add(r, "aws:PrincipalAccount", "123456789012");
	iam_request_add(r, "aws:PrincipalType", "User");
	iam_request_add(r, "aws:PrincipalTag/Team", "payments");
	iam_request_add(r, "aws:ResourceTag/Environment", "Development");
	iam_request_add(r, "aws:MultiFactorAuthPresent", "true");
	iam_request_add(r, "aws:MultiFactorAuthAge", "300");
	iam_request_add(r, "aws:SourceIp", "192.0.2.44");
	iam_request_add(r, "aws:CurrentTime", "2026-09-01T09:00:00Z");
	iam_request_add(r, "iam:Hostname", "web1");
	iam_request_add(r, "iam:Service", "sudo");
	iam_request_add(r, "iam:PrincipalGroups", "developers");
	iam_request_add(r, "iam:PrincipalGroups", "admins");
	iam_request_add(r, "iam:Command", "/usr/bin/systemctl restart nginx");
	iam_request_add(r, "iam:RunAsUser", "root");
}

/* Append tmpl to buf at o with every "%d" replaced by n. */
static size_t
subst(char *buf, size_t o, size_t len, const char *tmpl, size_t n)
{
	for (const char *t = tmpl; *t != '\0' && o + 24 < len; t++) {
		if (t[0] == '%' && t[1] == 'd') {
			o += (size_t)snprintf(buf + o, len - o, "%zu", n);
			t++;
		} else {
			buf[o++] = *t;
		}
	}
	buf[o] = '\0';
	return o;
}

/* A user with 10 policies of 5 statements, conditions and variables. */
static void
setup_user(struct bench *b)
{
	static const char *const st[5] = {
		"{\"Sid\":\"Login%d\",\"Effect\":\"Allow\",\"Action\":\"host:Login\",\"Resource\":\"arn:iam:host::123456789012:host/*\","
		"\"Condition\":{\"StringEquals\":{\"iam:Service\":[\"sshd\",\"login\"]},\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}}",
		"{\"Sid\":\"Sudo%d\",\"Effect\":\"Allow\",\"Action\":\"sudo:Run\",\"Resource\":\"arn:iam:sudo::123456789012:host/*/command/usr/bin/systemctl\","
		"\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/Environment\":\"Development\"},\"StringLike\":{\"iam:Command\":\"/usr/bin/systemctl restart *\"},"
		"\"NumericLessThan\":{\"aws:MultiFactorAuthAge\":\"900\"}}}",
		"{\"Sid\":\"Self%d\",\"Effect\":\"Allow\",\"Action\":\"iam:ChangePassword\",\"Resource\":\"arn:iam:iam::123456789012:user/${aws:username}\"}",
		"{\"Sid\":\"NoShell%d\",\"Effect\":\"Deny\",\"Action\":\"sudo:Run\",\"Resource\":\"arn:iam:sudo::*:host/*/command/bin/*sh\","
		"\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalTag/Team\":\"${aws:PrincipalTag/Team}\"}}}",
		"{\"Sid\":\"Team%d\",\"Effect\":\"Allow\",\"Action\":[\"sudo:Run\",\"host:*\"],\"Resource\":\"*\","
		"\"Condition\":{\"ForAnyValue:StringEquals\":{\"iam:PrincipalGroups\":[\"ops%d\",\"dba\"]},\"Bool\":{\"aws:MultiFactorAuthPresent\":\"true\"}}}",
	};
	char buf[4096], name[32];
	size_t o;

	b->n = 10;
	b->pols = calloc(b->n, sizeof(*b->pols));
	for (size_t p = 0; p < b->n; p++) {
		o = (size_t)snprintf(buf, sizeof(buf), "{\"Version\":\"2012-10-17\",\"Statement\":[");
		for (int s = 0; s < 5; s++) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, s ? "," : "");
			o = subst(buf, o, sizeof(buf), st[s], p);
		}
		snprintf(buf + o, sizeof(buf) - o, "]}");
		snprintf(name, sizeof(name), "P%zu", p);
		b->pols[p] = compile(buf, name);
	}
	iam_policy_set_new((const struct iam_policy *const *)b->pols, b->n, NULL, &b->set);
	iam_request_new("sudo:Run", "arn:iam:sudo::123456789012:host/web1/command/usr/bin/systemctl", &b->req);
	context(b->req);
}

/*
 * n statements in policies of 10: actions spread over 20 services of 25
 * actions, each on its own host resource; a third carry a condition.
 * The request hits one statement of them.
 */
static void
setup_scale(struct bench *b, size_t n)
{
	struct iam_buf t = IAM_BUF_INIT;
	char name[32];

	b->n = n / 10;
	b->pols = calloc(b->n, sizeof(*b->pols));
	for (size_t p = 0; p < b->n; p++) {
		iam_buf_adds(&t, "{\"Version\":\"2012-10-17\",\"Statement\":[");
		for (size_t s = 0; s < 10; s++) {
			size_t i = p * 10 + s;

			iam_buf_addf(&t, "%s{\"Effect\":\"%s\",\"Action\":\"svc%zu:Action%zu\","
				     "\"Resource\":\"arn:iam:host::123456789012:host/h%zu\"%s}",
				     s ? "," : "", i % 13 ? "Allow" : "Deny", i % 20, i % 25, i,
				     i % 3 ? "" : ",\"Condition\":{\"StringEquals\":{\"iam:Service\":\"sshd\"}}");
		}
		iam_buf_adds(&t, "]}");
		snprintf(name, sizeof(name), "S%zu", p);
		b->pols[p] = compile(t.buf, name);
		t.len = 0;
	}
	iam_buf_release(&t);
	iam_policy_set_new((const struct iam_policy *const *)b->pols, b->n, NULL, &b->set);
	/* Statement 7 of the first policy: svc7:Action7 on host/h7. */
	iam_request_new("svc7:Action7", "arn:iam:host::123456789012:host/h7", &b->req);
	context(b->req);
}

static void
teardown(struct bench *b)
{
	iam_policy_set_free(b->set);
	for (size_t i = 0; i < b->n; i++)
		iam_policy_free(b->pols[i]);
	free(b->pols);
	iam_request_free(b->req);
}

/* The measured loop; callgrind counts only inside it. */
__attribute__((noinline)) static int
measured(const struct bench *b, bool naive, long n)
{
	int bad = 0;

	for (long i = 0; i < n; i++) {
		int r = naive ? iam_policy_evaluate_naive(b->set, b->req, &res) :
				iam_policy_evaluate(b->set, b->req, &res);

		bad += r != 0;
	}
	return bad;
}

/* Building the user request: its action, resource and 17 context values. */
__attribute__((noinline, noclone)) static int
measured_build(long n)
{
	int bad = 0;

	for (long i = 0; i < n; i++) {
		struct iam_request *r = NULL;

		bad += iam_request_new("sudo:Run", "arn:iam:sudo::123456789012:host/web1/command/usr/bin/systemctl", &r) != 0;
		context(r);
		iam_request_free(r);
	}
	return bad;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ns per decision over 31 rounds. */
static double
median_ns(const struct bench *b, bool naive)
{
	double t[31], t0;
	long per = 200;

	/* Size a round to about 2 ms. */
	t0 = now_ns();
	measured(b, naive, per);
	while (now_ns() - t0 < 2e6 && per < 10000000) {
		per *= 2;
		t0 = now_ns();
		measured(b, naive, per);
	}
	for (int i = 0; i < 31; i++) {
		t0 = now_ns();
		if (measured(b, naive, per) != 0) {
			fprintf(stderr, "bench: evaluation failed\n");
			exit(2);
		}
		t[i] = (now_ns() - t0) / (double)per;
	}
	qsort(t, 31, sizeof(t[0]), cmp_double);
	return t[15];
}

static void
setup(struct bench *b, const char *cfg)
{
	memset(b, 0, sizeof(*b));
	if (strcmp(cfg, "user") == 0)
		setup_user(b);
	else
		setup_scale(b, (size_t)strtoul(cfg, NULL, 10));
}

static double
compile_example(size_t *ret_n)
{
	FILE *f = fopen(SRC_DIR "/etc/identity.example.json", "re");
	struct iam_json_doc *doc;
	const struct iam_json *pols;
	char buf[1 << 16];
	size_t len;
	double t0, best = 1e18;

	if (f == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (iam_json_parse(buf, len, NULL, &doc, NULL, 0) < 0)
		return -1;
	pols = iam_json_get(iam_json_root(doc), "policies");
	*ret_n = pols ? pols->len : 0;
	for (int round = 0; round < 200 && pols != NULL; round++) {
		t0 = now_ns();
		for (size_t i = 0; i < pols->len; i++) {
			struct iam_faults fl = IAM_FAULTS_INIT;
			struct iam_policy *p;

			if (iam_policy_compile(&pols->u.members[i].value,
					       pols->u.members[i].key, false, "",
					       &p, &fl) == 0)
				iam_policy_free(p);
			iam_faults_release(&fl);
		}
		if (now_ns() - t0 < best)
			best = now_ns() - t0;
	}
	iam_json_free(doc);
	return best;
}

static const char *const scale[] = { "10", "100", "1000", "10000" };

static void
times(void)
{
	struct bench b;
	double idx, nv, first = 0, c;
	size_t np = 0;

	setup(&b, "user");
	idx = median_ns(&b, false);
	nv = median_ns(&b, true);
	printf("policy: one decision, 10 policies x 5 statements (conditions, variables):\n"
	       "  indexed %.0f ns   naive scan %.0f ns   ratio %.2f\n", idx, nv, idx / nv);
	teardown(&b);
	printf("policy: scaling (request hits one statement)\n"
	       "  %-10s %12s %12s %10s %12s\n", "statements", "indexed ns", "naive ns",
	       "idx/naive", "idx vs 10");
	for (size_t i = 0; i < 4; i++) {
		setup(&b, scale[i]);
		idx = median_ns(&b, false);
		nv = median_ns(&b, true);
		if (i == 0)
			first = idx;
		printf("  %-10s %12.0f %12.0f %10.3f %11.2fx\n", scale[i], idx, nv,
		       idx / nv, idx / first);
		teardown(&b);
	}
	c = compile_example(&np);
	if (c >= 0)
		printf("policy: compiling the example identity file's %zu policies: %.1f us\n",
		       np, c / 1e3);
}

/* Run one loop under callgrind and return Ir per decision, or -1. */
static double
ir_of(const char *self, const char *dir, const char *cfg, const char *mode)
{
	char cmd[2048], out[1024], line[4096];
	long n = 2000;
	double base = -1, full = -1;
	FILE *f;

	for (int pass = 0; pass < 2; pass++) {
		/* Two counts (n and 2n) cancel the set-up cost inside the loop. */
		long k = pass ? 2 * n : n;

		snprintf(out, sizeof(out), "%s/callgrind.%s.%s.%d", dir, cfg, mode, pass);
		snprintf(cmd, sizeof(cmd), "valgrind --tool=callgrind --toggle-collect=measured "
			 "--toggle-collect=measured_build "
			 "--callgrind-out-file=%s %s --loop %s %s %ld >/dev/null 2>&1",
			 out, self, cfg, mode, k);
		if (system(cmd) != 0)
			return -1;
		f = fopen(out, "re");
		if (f == NULL)
			return -1;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "totals:", 7) == 0 ||
			    strncmp(line, "summary:", 8) == 0) {
				if (pass)
					full = strtod(line + (line[0] == 't' ? 7 : 8), NULL);
				else
					base = strtod(line + (line[0] == 't' ? 7 : 8), NULL);
			}
		}
		fclose(f);
	}
	if (base < 0 || full < 0)
		return -1;
	return (full - base) / (double)n;
}

static int
ir_table(const char *self, const char *dir)
{
	const char *cfgs[] = { "user", "10", "100", "1000", "10000" };
	double idx, nv, first = 1, user = 1;

	printf("policy: callgrind instructions (Ir) per decision\n"
	       "  %-10s %12s %12s %10s\n", "config", "indexed Ir", "naive Ir", "idx/naive");
	for (size_t i = 0; i < 5; i++) {
		idx = ir_of(self, dir, cfgs[i], "index");
		nv = ir_of(self, dir, cfgs[i], "naive");
		if (idx < 0 || nv < 0) {
			printf("  %-10s (callgrind failed)\n", cfgs[i]);
			continue;
		}
		printf("  %-10s %12.0f %12.0f %10.3f\n", strcmp(cfgs[i], "user") ? cfgs[i] :
		       "10x5 user", idx, nv, idx / nv);
		if (i == 0)
			user = idx;
		if (i == 1)
			first = idx;
		if (i == 4)
			printf("  10,000 statements cost %.2fx what 10 cost (aim <= 10x)\n",
			       idx / first);
	}
	idx = ir_of(self, dir, "user", "build");
	printf("policy: building the user's request (17 context values): %.0f Ir, "
	       "%.2fx its decision (aim <= 1x)\n", idx, idx / user);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench b;

	if (argc == 5 && strcmp(argv[1], "--loop") == 0) {
		setup(&b, argv[2]);
		if (strcmp(argv[3], "build") == 0)
			measured_build(strtol(argv[4], NULL, 10));
		else
			measured(&b, strcmp(argv[3], "naive") == 0,
				 strtol(argv[4], NULL, 10));
		teardown(&b);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--ir-table") == 0)
		return ir_table(argv[0], argv[2]);
	times();
	return 0;
}
