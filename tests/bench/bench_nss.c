/*
 * bench_nss.c - time one NSS module's entry point, for tests/bench/bench-nss.sh.
 *
 *   bench_nss MODULE.so PREFIX OP ITERS [KEY]
 *
 * loads MODULE.so (libnss_files.so.2 or libnss_iam.so.2), calls
 * _nss_PREFIX_<OP> ITERS times inside run_ops() (so callgrind can count
 * just that function with --toggle-collect=run_ops) after one warm-up
 * call, and prints "ns_per_op N".  OP is pwnam, pwuid, grnam, grouplist
 * (initgroups_dyn), enum (a full getpwent pass; per entry) or mem (prints
 * the private memory the module adds to this process, in KiB).  first-OP
 * makes one call without the warm-up: the first lookup of a process,
 * opening and mapping the snapshot included.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *,
				    size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t,
				    int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *,
				    size_t, int *);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *,
				     gid_t **, long, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*getpwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*getgrent_fn)(struct group *, char *, size_t, int *);

static void *lib;
static const char *prefix;
static char buf[1 << 22];

static void *
fn(const char *name)
{
	char full[128];
	void *p;

	snprintf(full, sizeof(full), "_nss_%s_%s", prefix, name);
	p = dlsym(lib, full);
	if (p == NULL) {
		fprintf(stderr, "bench_nss: %s missing\n", full);
		exit(1);
	}
	return p;
}

static pwnam_fn f_pwnam;
static pwuid_fn f_pwuid;
static grnam_fn f_grnam;
static initgr_fn f_initgr;
static setent_fn f_setpwent;
static getpwent_fn f_getpwent;
static endent_fn f_endpwent;
static setent_fn f_setgrent;
static getgrent_fn f_getgrent;
static endent_fn f_endgrent;

static void
resolve(void)
{
	f_pwnam = (pwnam_fn)fn("getpwnam_r");
	f_pwuid = (pwuid_fn)fn("getpwuid_r");
	f_grnam = (grnam_fn)fn("getgrnam_r");
	f_initgr = (initgr_fn)fn("initgroups_dyn");
	f_setpwent = (setent_fn)fn("setpwent");
	f_getpwent = (getpwent_fn)fn("getpwent_r");
	f_endpwent = (endent_fn)fn("endpwent");
	f_setgrent = (setent_fn)fn("setgrent");
	f_getgrent = (getgrent_fn)fn("getgrent_r");
	f_endgrent = (endent_fn)fn("endgrent");
}

enum op { PWNAM, PWUID, GRNAM, GROUPLIST, ENUM, GRENT, LIBC_PWNAM, NOPS };

static int
op_code(const char *op)
{
	const char *names[] = { "pwnam", "pwuid", "grnam", "grouplist", "enum",
				"grent", "libc-pwnam" };

	for (int i = 0; i < NOPS; i++)
		if (strcmp(op, names[i]) == 0)
			return i;
	fprintf(stderr, "bench_nss: unknown op %s\n", op);
	exit(2);
}

static uid_t key_id;

static long
one(int op, const char *key)
{
	struct passwd pw;
	struct group gr;
	enum nss_status st;
	int err;
	long n = 0;

	if (op == PWNAM) {
		st = f_pwnam(key, &pw, buf, sizeof(buf), &err);
		return st == NSS_STATUS_SUCCESS;
	}
	if (op == PWUID) {
		st = f_pwuid(key_id,
						  &pw, buf, sizeof(buf), &err);
		return st == NSS_STATUS_SUCCESS;
	}
	if (op == GRNAM) {
		st = f_grnam(key, &gr, buf, sizeof(buf), &err);
		if (st != NSS_STATUS_SUCCESS)
			return 0;
		while (gr.gr_mem[n] != NULL)
			n++;
		return n;	/* members */
	}
	if (op == GRENT) {	/* members of every group */
		f_setgrent(0);
		while (f_getgrent(&gr, buf, sizeof(buf), &err) ==
		       NSS_STATUS_SUCCESS)
			for (char **m = gr.gr_mem; *m != NULL; m++)
				n++;
		f_endgrent();
		return n;
	}
	if (op == LIBC_PWNAM) {	/* through glibc and nsswitch.conf */
		struct passwd *res = NULL;

		getpwnam_r(key, &pw, buf, sizeof(buf), &res);
		return res != NULL;
	}
	if (op == GROUPLIST) {
		long start = 1, size = 16;
		gid_t *g = malloc(16 * sizeof(gid_t));

		g[0] = 0;
		st = f_initgr(key, 0, &start, &size, &g,
						       0, &err);
		free(g);
		return st == NSS_STATUS_SUCCESS ? start - 1 : -1;
	}
	if (op == ENUM) {
		f_setpwent(0);
		while (f_getpwent(&pw, buf, sizeof(buf),
						       &err) == NSS_STATUS_SUCCESS)
			n++;
		f_endpwent();
		return n;
	}
	return -1;
}

__attribute__((noinline)) static long
run_ops(int op, const char *key, long iters)
{
	long i, r = 0;

	for (i = 0; i < iters; i++)
		r = one(op, key);
	return r;
}

/*
 * Private memory of this process in KiB, from /proc/self/smaps, leaving
 * out the mapping of nss.db itself: that is the page cache of one file,
 * shared by every process on the host (on tmpfs, as in the benchmark's
 * namespace, its pages even count as "dirty").  *ret_db gets that
 * mapping's resident size.
 */
static long
private_kb(long *ret_db)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	long kb, total = 0, db = 0;
	int is_db = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, " kB") == NULL) {	/* a mapping's first line */
			if (isxdigit((unsigned char)line[0]))
				is_db = strstr(line, "/nss.db") != NULL;
			continue;
		}
		if (is_db && sscanf(line, "Rss: %ld kB", &kb) == 1)
			db += kb;
		if (!is_db && (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1 ||
			       sscanf(line, "Private_Clean: %ld kB", &kb) == 1))
			total += kb;
	}
	fclose(f);
	*ret_db = db;
	return total;
}

int
main(int argc, char **argv)
{
	struct timespec a, b;
	const char *op, *key;
	long iters, r, p0, db;
	int first = 0;
	double ns;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_nss MODULE.so PREFIX OP ITERS [KEY]\n");
		return 2;
	}
	op = argv[3];
	iters = strtol(argv[4], NULL, 10);
	key = argc > 5 ? argv[5] : "";
	prefix = argv[2];
	p0 = private_kb(&db);
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		fprintf(stderr, "bench_nss: %s\n", dlerror());
		return 1;
	}
	resolve();
	if (strcmp(op, "mem") == 0) {
		/* map the snapshot and walk every entry point once */
		one(PWNAM, key);
		one(GROUPLIST, key);
		one(GRNAM, "ig0000");
		one(ENUM, "");
		r = private_kb(&db) - p0;
		printf("private_kb %ld nss.db_resident_kb %ld\n", r, db);
		return 0;
	}
	key_id = (uid_t)strtoul(key, NULL, 10);
	if (strncmp(op, "first-", 6) == 0) {
		op += 6;
		first = 1;
		iters = 1;
	}
	if (!first)
		r = one(op_code(op), key);	/* warm-up: maps the snapshot */
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = run_ops(op_code(op), key, iters);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
	     (double)iters;
	if ((strcmp(op, "enum") == 0 || strcmp(op, "grent") == 0 ||
	     strcmp(op, "grnam") == 0) && r > 0)
		ns /= (double)r;	/* per entry, per member */
	printf("ns_per_op %.1f result %ld\n", ns, r);
	return 0;
}
