/*
 * bench_identity.c - the cost of loading an identity file, next to the
 * baselines of DESIGN.md's Speed table measured in the same run: yajl's
 * stream parse (callbacks that do nothing) and yajl's own tree.
 *
 *   bench_identity USERS                print a table of median times
 *   bench_identity USERS MODE           run MODE once inside measure(),
 *                                       for callgrind --toggle-collect
 *   bench_identity USERS print          write the identity file to stdout
 *                                       (uids and gids from 100000)
 * MODE: stream, yajltree, tree (iam_json_parse), identity (parse and
 * validate the whole model), published (the model as a publication loads
 * it: no sources kept, users read straight from the parse's events).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "iam.h"
#include "identity_int.h"

#define HASH "$y$j9T$HVaMC32.DAF9NYetHa2Ej0$KIdqHcTYbStEIq1oq6b.NCT30QG1NiV/eu1gZXxCOBC"

static struct iam_buf text = IAM_BUF_INIT;
static struct iam_config *cfg;

static void
generate(unsigned users)
{
	unsigned groups = 1000;

	iam_buf_adds(&text, "{\"account\":{\"id\":\"123456789012\",\"alias\":\"bench\"},"
		     "\"password_policy\":{\"minimum_length\":14},\"users\":[");
	for (unsigned i = 0; i < users; i++)
		iam_buf_addf(&text, "%s{\"name\":\"user%u\",\"uid\":%u,"
			     "\"primary_group\":\"group%u\",\"gecos\":\"User %u\","
			     "\"groups\":[\"group%u\",\"group%u\",\"group%u\"],"
			     "\"policies\":[\"Login\"],\"tags\":{\"Team\":\"t%u\"},"
			     "\"password\":{\"hash\":\"%s\",\"changed\":\"2026-10-01T12:00:00Z\"}}",
			     i ? "," : "", i, 100000 + i, i % groups, i,
			     i % groups, (i + 7) % groups, (i + 31) % groups,
			     i % 50, HASH);
	iam_buf_adds(&text, "],\"groups\":[");
	for (unsigned g = 0; g < groups; g++)
		iam_buf_addf(&text, "%s{\"name\":\"group%u\",\"gid\":%u}",
			     g ? "," : "", g, 100000 + g);
	iam_buf_adds(&text, "],\"policies\":{\"Login\":{\"Version\":\"2012-10-17\","
		     "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"host:Login\","
		     "\"Resource\":\"*\"}]}}}");
}

static int nop(void *c) { (void)c; return 1; }
static int nop_b(void *c, int b) { (void)c; (void)b; return 1; }
static int nop_s(void *c, const char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int nop_u(void *c, const unsigned char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }

static const yajl_callbacks nops = {
	.yajl_null = nop, .yajl_boolean = nop_b, .yajl_number = nop_s,
	.yajl_string = nop_u, .yajl_start_map = nop, .yajl_map_key = nop_u,
	.yajl_end_map = nop, .yajl_start_array = nop, .yajl_end_array = nop,
};

/* One run of mode; callgrind counts what happens inside. */
__attribute__((noinline)) int measure(const char *mode);

__attribute__((noinline)) int
measure(const char *mode)
{
	if (strcmp(mode, "stream") == 0) {
		yajl_handle h = yajl_alloc(&nops, NULL, NULL);
		int ok = yajl_parse(h, (const unsigned char *)text.buf,
				    text.len) == yajl_status_ok &&
			 yajl_complete_parse(h) == yajl_status_ok;

		yajl_free(h);
		return ok ? 0 : -1;
	}
	if (strcmp(mode, "yajltree") == 0) {
		yajl_val v = yajl_tree_parse(text.buf, NULL, 0);

		yajl_tree_free(v);
		return v ? 0 : -1;
	}
	if (strcmp(mode, "tree") == 0) {
		struct iam_json_doc *doc = NULL;
		int r = iam_json_parse(text.buf, text.len, NULL, &doc, NULL, 0);

		iam_json_free(doc);
		return r;
	}
	if (strcmp(mode, "identity") == 0 || strcmp(mode, "published") == 0) {
		struct iam_faults f = IAM_FAULTS_INIT;
		struct iam_identity *id = NULL;
		int r = mode[0] == 'i' ?
			iam_identity_parse(text.buf, text.len, cfg, HOST_ROOT,
					   &id, &f) :
			iam_id_parse(text.buf, text.len, cfg, HOST_ROOT,
				     IAM_ID_NO_SOURCES, &id, &f);

		if (r < 0 && f.n > 0)
			fprintf(stderr, "bench_identity: %s\n", f.v[0]);
		iam_identity_free(id);
		iam_faults_release(&f);
		return r;
	}
	return -1;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median_ms(const char *mode)
{
	double t[5];

	for (int i = 0; i < 5; i++) {
		double t0 = seconds();

		if (measure(mode) < 0) {
			fprintf(stderr, "bench_identity: %s failed\n", mode);
			exit(1);
		}
		t[i] = (seconds() - t0) * 1e3;
	}
	qsort(t, 5, sizeof(t[0]), cmp_double);
	return t[2];
}

int
main(int argc, char **argv)
{
	unsigned users = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;
	const char *modes[] = { "stream", "yajltree", "tree", "identity",
				"published" };
	double base = 0;

	if (iam_config_defaults(&cfg) < 0)
		return 1;
	cfg->uid_min = cfg->gid_min = 100000;
	cfg->uid_max = cfg->gid_max = 1999999;
	generate(users);
	if (argc > 2 && strcmp(argv[2], "print") == 0)
		return fwrite(text.buf, 1, text.len, stdout) != text.len;
	if (argc > 2)
		return measure(argv[2]) < 0;
	printf("identity file: %u users, %.1f MB\n", users, text.len / 1e6);
	printf("%-10s %10s %8s\n", "mode", "median ms", "ratio");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		double ms = median_ms(modes[i]);

		if (i == 0)
			base = ms;
		printf("%-10s %10.1f %7.2fx\n", modes[i], ms, ms / base);
	}
	iam_buf_release(&text);
	iam_config_free(cfg);
	return 0;
}
