/*
 * bench_sudo.c - the sudo approval plugin's own cost per sudo invocation
 * (open + check + close, as sudo calls it), against a published snapshot
 * of N users.
 *
 *   bench_sudo setup DIR N     write DIR/etc/iam.conf, an identity of N
 *                              users and publish it under DIR/var/snap
 *   bench_sudo run DIR ITER    load BUILD_DIR/sudo_iam.so and decide
 *                              ITER times "u0 runs /usr/bin/id as root";
 *                              print the mean and median in microseconds
 *
 * "run" expects NSS to resolve u0 to uid 200000 (tests/bench/bench-sudo.sh
 * binds such an /etc/passwd in a private mount namespace).  Run it under
 * callgrind with --toggle-collect=decide_loop for instruction counts.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sudo_plugin.h>

#include "iam.h"

#define FIRST_UID 200000	/* a range that holds 100k users and more */

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench_sudo: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(2);
}

static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    fchmod(fd, mode) < 0)
		die(path, errno);
	close(fd);
}

static void
mkdir_p(const char *dir, const char *sub)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path, errno);
}

static int
setup(const char *dir, long n)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = NULL;
	char path[4096], host[4096], err[256] = "";
	int r;

	mkdir_p(dir, "etc");
	mkdir_p(dir, "var");
	mkdir_p(dir, "host");
	mkdir_p(dir, "host/etc");
	snprintf(path, sizeof(path), "%s/host/etc/passwd", dir);
	put(path, "root:x:0:0:root:/root:/bin/sh\n", 30, 0644);
	snprintf(path, sizeof(path), "%s/host/etc/group", dir);
	put(path, "root:x:0:\n", 10, 0644);
	snprintf(path, sizeof(path), "%s/host/etc/subuid", dir);
	put(path, "", 0, 0644);
	snprintf(path, sizeof(path), "%s/host/etc/subgid", dir);
	put(path, "", 0, 0644);
	iam_buf_addf(&b, "identity_file = \"%s/etc/identity.json\";\n"
		     "credentials_dir = \"%s/var/credentials\";\n"
		     "state_dir = \"%s/var/state\";\n"
		     "snapshot_dir = \"%s/var/snap\";\n"
		     "run_dir = \"%s/run\";\n"
		     "trail_file = \"%s/log/trail.jsonl\";\n"
		     "hostname = \"bench\";\n"
		     "uid_min = 200000; uid_max = 1999999;\n"
		     "gid_min = 200000; gid_max = 1999999;\n"
		     "host_tags = { Environment = \"Development\"; };\n",
		     dir, dir, dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/etc/iam.conf", dir);
	put(path, b.buf, b.len, 0644);
	iam_buf_release(&b);

	iam_buf_adds(&b, "{ \"account\": { \"id\": \"123456789012\" },\n"
		     "  \"groups\": [ { \"name\": \"ops\", \"gid\": 200000,"
		     " \"policies\": [\"NoStop\"] } ],\n  \"users\": [\n");
	for (long i = 0; i < n; i++)
		iam_buf_addf(&b, "    { \"name\": \"u%ld\", \"uid\": %ld, "
			     "\"primary_group\": \"ops\", \"policies\": "
			     "[\"DevBin\"], \"tags\": { \"Team\": \"t%ld\" } }%s\n",
			     i, FIRST_UID + i, i % 10, i + 1 < n ? "," : "");
	iam_buf_adds(&b, "  ],\n  \"policies\": {\n"
"    \"DevBin\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"DevBin\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"arn:iam:sudo::123456789012:host/*/command/usr/bin/*\",\n"
"        \"Condition\": { \"StringEquals\": { \"iam:RunAsUser\": \"root\",\n"
"          \"aws:ResourceTag/Environment\": \"Development\" } } } ] },\n"
"    \"NoStop\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"NoStop\", \"Effect\": \"Deny\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"StringLike\":\n"
"          { \"iam:Command\": \"/usr/bin/systemctl stop *\" } } } ] } }\n}\n");
	if (b.buf == NULL)
		die("identity", -ENOMEM);
	snprintf(path, sizeof(path), "%s/etc/identity.json", dir);
	put(path, b.buf, b.len, 0600);
	iam_buf_release(&b);

	snprintf(path, sizeof(path), "%s/etc/iam.conf", dir);
	r = iam_config_load(path, true, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench_sudo: %s\n", err);
		return 2;
	}
	snprintf(host, sizeof(host), "%s/host", dir);
	r = iam_publish(cfg, host, &f);
	if (r < 0) {
		fprintf(stderr, "bench_sudo: publish: %s %s\n", strerror(-r),
			f.n ? f.v[0] : "");
		return 2;
	}
	iam_faults_release(&f);
	iam_config_free(cfg);
	return 0;
}

static int
quiet(int type, const char *fmt, ...)
{
	(void)type;
	(void)fmt;
	return 0;
}

static struct approval_plugin *plugin;
static char opt[4200];

/* The measured part: what one sudo invocation costs the plugin. */
__attribute__((noinline)) static int
decide_loop(long iters, double *us)
{
	char *options[] = { opt, NULL };
	char *user_info[] = { "user=u0", "uid=200000", "gid=200000", NULL };
	char *command_info[] = { "command=/usr/bin/id", "runas_uid=0",
				 "runas_gid=0", NULL };
	char *argv[] = { "/usr/bin/id", "-u", NULL };
	char *empty[] = { NULL };
	const char *errstr;
	struct timespec a, b;
	int approved = 0;

	for (long i = 0; i < iters; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (plugin->open(SUDO_API_VERSION, NULL, quiet, empty,
				 user_info, 1, argv, empty, options,
				 &errstr) != 1)
			return -1;
		approved += plugin->check(command_info, argv, empty, &errstr);
		plugin->close();
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 +
			(double)(b.tv_nsec - a.tv_nsec) / 1e3;
	}
	return approved;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
run(const char *dir, long iters)
{
	double *us = calloc((size_t)iters, sizeof(double)), sum = 0;
	void *lib, *so;
	int approved;

	if (us == NULL)
		die("calloc", ENOMEM);
	snprintf(opt, sizeof(opt), "config=%s/etc/iam.conf", dir);
	lib = dlopen(BUILD_DIR "/libiam.so.1", RTLD_NOW | RTLD_GLOBAL);
	so = lib ? dlopen(BUILD_DIR "/sudo_iam.so", RTLD_NOW) : NULL;
	plugin = so ? dlsym(so, "sudo_iam") : NULL;
	if (plugin == NULL) {
		fprintf(stderr, "bench_sudo: %s\n", dlerror());
		return 2;
	}
	approved = decide_loop(iters, us);
	if (approved != iters) {
		fprintf(stderr, "bench_sudo: %d of %ld approved: is u0 "
			"resolved to uid 200000?\n", approved, iters);
		return 1;
	}
	for (long i = 0; i < iters; i++)
		sum += us[i];
	qsort(us, (size_t)iters, sizeof(double), cmp);
	printf("%.1f %.1f\n", sum / (double)iters, us[iters / 2]);
	free(us);
	return 0;
}

int
main(int argc, char **argv)
{
	long long n;

	if (argc != 4 || iam_parse_ll(argv[3], 1, 10000000, &n) < 0) {
		fprintf(stderr, "usage: bench_sudo setup DIR N | run DIR ITER\n");
		return 2;
	}
	if (strcmp(argv[1], "setup") == 0)
		return setup(argv[2], (long)n);
	if (strcmp(argv[1], "run") == 0)
		return run(argv[2], (long)n);
	fprintf(stderr, "usage: bench_sudo setup DIR N | run DIR ITER\n");
	return 2;
}
