/*
 * bench_pam.c - one pam_iam authentication's own cost, without the
 * password hash, against a published snapshot of N users, next to the
 * cost of the hash itself.
 *
 *   bench_pam setup DIR N      write DIR/etc/iam.conf and an identity of
 *                              N users (each with a yescrypt password and
 *                              a TOTP device) and publish it under
 *                              DIR/var/snap
 *   bench_pam own DIR ITER     ITER times what pam_sm_authenticate does
 *                              for a user besides hashing: load iam.conf,
 *                              open auth.db, look the user up, check the
 *                              state folder, open and lock the state,
 *                              raise the counter, check a TOTP code,
 *                              reset the state, record the MFA session
 *                              under run_dir, write the trail
 *   bench_pam hash DIR ITER    ITER times the password check alone
 *                              (crypt_r with the users' yescrypt hash)
 *
 *   bench_pam names ITER [M]   for each hash_method (or method M, 0-2),
 *                              ITER times a wrong password against a
 *                              real hash of that method (a known name)
 *                              and against its dummy hash (an unknown
 *                              name), interleaved: "METHOD known_us
 *                              unknown_us" (medians); callgrind with
 *                              --toggle-collect=known_once or
 *                              unknown_once for instruction counts
 *
 * "own" and "hash" print the mean and median in microseconds.  Each
 * iteration of "own" takes the next user (u0, u7919, ...) so lookups
 * spread over the whole snapshot and each state file is the user's own.
 * The NSS lookup pam_iam also makes (the name must resolve to the same
 * uid) is not counted: it is nss_iam's cost, measured by bench-nss.  Run
 * under callgrind with --toggle-collect=own_loop or hash_loop for
 * instruction counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam/audit.h"
#include "iam/auth.h"

#define FIRST_UID	200000	/* a range that holds 100k users and more */
#define PASSWORD	"Bench-Passw0rd!x"
#define SECRET		"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench_pam: %s: %s\n", what, strerror(r < 0 ? -r : r));
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
mkdir_p(const char *dir, const char *sub, mode_t mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die(path, errno);
	if (chmod(path, mode) < 0)
		die(path, errno);
}

static int
setup(const char *dir, long n)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = NULL;
	char path[4096], host[4096], err[256] = "";
	char *hash = NULL;
	int r;

	mkdir_p(dir, "etc", 0755);
	mkdir_p(dir, "var", 0755);
	mkdir_p(dir, "log", 0700);
	mkdir_p(dir, "host", 0755);
	mkdir_p(dir, "host/etc", 0755);
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
		     "gid_min = 200000; gid_max = 1999999;\n",
		     dir, dir, dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/etc/iam.conf", dir);
	put(path, b.buf, b.len, 0644);
	iam_buf_release(&b);
	r = iam_password_hash(PASSWORD, IAM_HASH_YESCRYPT, &hash);
	if (r < 0)
		die("hash", r);
	iam_buf_adds(&b, "{ \"account\": { \"id\": \"123456789012\", "
		     "\"alias\": \"bench\" },\n"
		     "  \"groups\": [ { \"name\": \"ops\", \"gid\": 200000 } ],\n"
		     "  \"users\": [\n");
	for (long i = 0; i < n; i++)
		iam_buf_addf(&b, "    { \"name\": \"u%ld\", \"uid\": %ld, "
			     "\"primary_group\": \"ops\", \"password\": "
			     "{ \"hash\": \"%s\" }, \"mfa\": { \"type\": "
			     "\"totp\", \"secret\": \"%s\", \"algorithm\": "
			     "\"SHA1\", \"digits\": 6, \"period\": 30 } }%s\n",
			     i, FIRST_UID + i, hash, SECRET,
			     i + 1 < n ? "," : "");
	iam_buf_adds(&b, "  ]\n}\n");
	free(hash);
	if (b.buf == NULL)
		die("identity", -ENOMEM);
	snprintf(path, sizeof(path), "%s/etc/identity.json", dir);
	put(path, b.buf, b.len, 0600);
	iam_buf_release(&b);
	snprintf(path, sizeof(path), "%s/etc/iam.conf", dir);
	r = iam_config_load(path, true, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench_pam: %s\n", err);
		return 2;
	}
	snprintf(host, sizeof(host), "%s/host", dir);
	r = iam_publish(cfg, host, &f);
	if (r < 0) {
		fprintf(stderr, "bench_pam: publish: %s %s\n", strerror(-r),
			f.n ? f.v[0] : "");
		return 2;
	}
	iam_faults_release(&f);
	iam_config_free(cfg);
	return 0;
}

static char conf[4200];
static long n_users;

static double
us_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
		(double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

/* What pam_sm_authenticate does for user NAME besides hashing. */
static void
own_once(const char *name, const char *code, int64_t now)
{
	struct iam_config *cfg = NULL;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	struct iam_state_handle *h = NULL;
	struct iam_state s;
	struct iam_totp t;
	struct iam_session_rec rec = { .mfa_time = now };
	struct iam_event_param params[] = {
		{ "service", "login" }, { "tty", "pts/1" }, { "mfa", "true" },
	};
	struct iam_event ev = {
		.time = now, .source = "pam_iam", .name = "Login",
		.user_type = "IAMUser", .user_name = name,
		.user_arn = "arn:iam:iam::123456789012:user/bench",
		.params = params, .n_params = 3,
	};
	char dir[4096], key[96], err[256];
	uint64_t step = 0;
	int r;

	r = iam_config_load(conf, false, &cfg, err, sizeof(err));
	if (r < 0)
		die(err, r);
	r = iam_snapshot_path(cfg, "auth", dir, sizeof(dir));
	r = r ? r : iam_authdb_open(dir, &db, err, sizeof(err));
	if (r < 0)
		die(err, r);
	r = iam_authdb_lookup(db, name, &u);
	if (r < 0)
		die(name, r);
	db = iam_authdb_close(db);
	r = iam_state_dir_check(cfg->state_dir, 0);
	r = r ? r : iam_state_open(cfg->state_dir, u->uid, 0, &h, &s);
	if (r < 0)
		die("state", r);
	s.failures++;
	s.last_failure = now;
	r = iam_state_save(h, &s);
	t = (struct iam_totp){ .secret = u->mfa_secret,
			       .algorithm = u->mfa_algorithm,
			       .digits = u->mfa_digits,
			       .period = u->mfa_period };
	r = r ? r : iam_totp_verify(&t, code, now, cfg->totp_window, 0, &step);
	if (r < 0)
		die("totp", r);
	s.failures = 0;
	s.last_step = step;
	s.last_login = now;
	r = iam_state_save(h, &s);
	h = iam_state_close(h);
	rec.uid = u->uid;
	r = r ? r : iam_session_key(u->uid, "pts/1", key, sizeof(key));
	r = r ? r : iam_session_write(cfg->run_dir, key, &rec, 0);
	r = r ? r : iam_trail_write(cfg, &ev);
	if (r < 0)
		die("state, session or trail", r);
	u = iam_auth_user_free(u);
	cfg = iam_config_free(cfg);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(double *t, long iters)
{
	double sum = 0;

	for (long i = 0; i < iters; i++)
		sum += t[i];
	qsort(t, (size_t)iters, sizeof(*t), cmp_double);
	printf("%.1f %.1f\n", sum / (double)iters, t[iters / 2]);
}

/* The measured part of "own". */
__attribute__((noinline)) static void
own_loop(long iters, double *t, const char *code, int64_t now)
{
	struct timespec a, b;
	char name[32];

	for (long i = 0; i < iters; i++) {
		snprintf(name, sizeof(name), "u%ld", (i * 7919) % n_users);
		clock_gettime(CLOCK_MONOTONIC, &a);
		own_once(name, code, now);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = us_between(&a, &b);
	}
}

/* The measured part of "hash". */
__attribute__((noinline)) static void
hash_loop(long iters, double *t, const char *hash)
{
	struct timespec a, b;

	for (long i = 0; i < iters; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (iam_password_verify(PASSWORD, hash) != 0)
			die("password", -EACCES);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = us_between(&a, &b);
	}
}

static int
run(const char *what, const char *dir, long iters)
{
	struct iam_config *cfg = NULL;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	struct iam_totp t0 = { .secret = SECRET, .algorithm = IAM_TOTP_SHA1,
			       .digits = 6, .period = 30 };
	char path[4096], err[256], code[16];
	int64_t now = (int64_t)time(NULL);
	double *t;
	int r;

	snprintf(conf, sizeof(conf), "%s/etc/iam.conf", dir);
	r = iam_config_load(conf, true, &cfg, err, sizeof(err));
	if (r < 0)
		die(err, r);
	mkdir_p(dir, "var/state", 0700);
	r = iam_snapshot_path(cfg, "auth", path, sizeof(path));
	r = r ? r : iam_authdb_open(path, &db, err, sizeof(err));
	r = r ? r : iam_authdb_lookup(db, "u0", &u);
	if (r < 0)
		die("auth.db", r);
	n_users = (long)iam_authdb_count(db);
	t = calloc((size_t)iters, sizeof(*t));
	if (t == NULL || n_users <= 0)
		die("setup", -ENOMEM);
	if (strcmp(what, "own") == 0) {
		r = iam_totp_generate(&t0, now, code, sizeof(code));
		if (r < 0)
			die("totp", r);
		own_loop(iters, t, code, now);
	} else {
		hash_loop(iters, t, u->password_hash);
	}
	report(t, iters);
	free(t);
	iam_auth_user_free(u);
	iam_authdb_close(db);
	iam_config_free(cfg);
	return 0;
}

/* One wrong-password check, apart for callgrind's --toggle-collect. */
__attribute__((noinline)) static void
known_once(const char *hash)
{
	(void)iam_password_verify("Not-The-Passw0rd!", hash);
}

__attribute__((noinline)) static void
unknown_once(const char *hash)
{
	(void)iam_password_verify("Not-The-Passw0rd!", hash);
}

static double
timed(void (*fn)(const char *), const char *hash)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	fn(hash);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return us_between(&a, &b);
}

/*
 * Unknown names cost what known ones cost: a wrong password against a
 * real hash of each method and against that method's dummy, the two
 * interleaved so the machine's drift falls on both alike.
 */
static int
names(long iters, int only)
{
	static const char *const label[] = { "yescrypt", "sha512crypt",
		"bcrypt" };
	double *tk = calloc((size_t)iters, sizeof(double));
	double *tu = calloc((size_t)iters, sizeof(double));

	if (tk == NULL || tu == NULL)
		die("names", -ENOMEM);
	for (int m = 0; m < 3; m++) {
		const char *dummy;
		char *hash = NULL;
		int r;

		if (only >= 0 && m != only)
			continue;
		r = iam_password_hash(PASSWORD, (enum iam_hash_method)m, &hash);
		if (r < 0)
			die("hash", r);
		dummy = iam_password_dummy_hash((enum iam_hash_method)m);
		for (long i = 0; i < iters; i++) {
			tk[i] = timed(known_once, hash);
			tu[i] = timed(unknown_once, dummy);
		}
		qsort(tk, (size_t)iters, sizeof(double), cmp_double);
		qsort(tu, (size_t)iters, sizeof(double), cmp_double);
		printf("%s %.1f %.1f\n", label[m], tk[iters / 2], tu[iters / 2]);
		free(hash);
	}
	free(tk);
	free(tu);
	return 0;
}

int
main(int argc, char **argv)
{
	long n;

	if (argc == 4 && strcmp(argv[1], "setup") == 0 &&
	    (n = strtol(argv[3], NULL, 10)) > 0)
		return setup(argv[2], n);
	if (argc == 4 && (strcmp(argv[1], "own") == 0 ||
			  strcmp(argv[1], "hash") == 0) &&
	    (n = strtol(argv[3], NULL, 10)) > 0)
		return run(argv[1], argv[2], n);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "names") == 0 &&
	    (n = strtol(argv[2], NULL, 10)) > 0)
		return names(n, argc == 4 ? atoi(argv[3]) : -1);
	fprintf(stderr, "usage: bench_pam setup DIR N | own DIR ITER | "
		"hash DIR ITER | names ITER [METHOD 0-2]\n");
	return 2;
}
