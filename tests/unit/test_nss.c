/*
 * test_nss.c - the built libnss_iam.so.2 through dlopen, reading the
 * fixed path IAM_NSS_DB: each entry point with growing buffers, unknown
 * entries, missing / insecure / corrupt snapshots, enumeration,
 * initgroups_dyn, a re-publish seen by a loaded module, and 32 threads
 * reading while the snapshot is replaced 100 times.
 *
 * Criterion runs every test in its own process, so each test loads the
 * module fresh and its first lookup maps the snapshot of that moment.
 */
#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/wait.h>
#include <time.h>

#include "fixtures.h"

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *,
				       size_t, int *);
typedef enum nss_status (*getpwuid_fn)(uid_t, struct passwd *, char *,
				       size_t, int *);
typedef enum nss_status (*getpwent_fn)(struct passwd *, char *, size_t,
				       int *);
typedef enum nss_status (*getgrnam_fn)(const char *, struct group *, char *,
				       size_t, int *);
typedef enum nss_status (*getgrgid_fn)(gid_t, struct group *, char *, size_t,
				       int *);
typedef enum nss_status (*getgrent_fn)(struct group *, char *, size_t, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long *, long *,
					 gid_t **, long, int *);

static struct {
	void *h;
	getpwnam_fn getpwnam;
	getpwuid_fn getpwuid;
	setent_fn setpwent;
	getpwent_fn getpwent;
	endent_fn endpwent;
	getgrnam_fn getgrnam;
	getgrgid_fn getgrgid;
	setent_fn setgrent;
	getgrent_fn getgrent;
	endent_fn endgrent;
	initgroups_fn initgroups;
} m;

static void *
sym(const char *name)
{
	void *p = dlsym(m.h, name);

	cr_assert_not_null(p, "%s missing", name);
	return p;
}

static void
load(void)
{
	m.h = dlopen(BUILD_DIR "/libnss_iam.so.2", RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(m.h, "dlopen: %s", dlerror());
	m.getpwnam = (getpwnam_fn)sym("_nss_iam_getpwnam_r");
	m.getpwuid = (getpwuid_fn)sym("_nss_iam_getpwuid_r");
	m.setpwent = (setent_fn)sym("_nss_iam_setpwent");
	m.getpwent = (getpwent_fn)sym("_nss_iam_getpwent_r");
	m.endpwent = (endent_fn)sym("_nss_iam_endpwent");
	m.getgrnam = (getgrnam_fn)sym("_nss_iam_getgrnam_r");
	m.getgrgid = (getgrgid_fn)sym("_nss_iam_getgrgid_r");
	m.setgrent = (setent_fn)sym("_nss_iam_setgrent");
	m.getgrent = (getgrent_fn)sym("_nss_iam_getgrent_r");
	m.endgrent = (endent_fn)sym("_nss_iam_endgrent");
	m.initgroups = (initgroups_fn)sym("_nss_iam_initgroups_dyn");
}

/* Publish the fixture, then load the module. */
static void
setup_fixture(void)
{
	struct iam_identity *id;

	fx_nss_fresh();
	id = fx_nss_identity(fx_nss_users, FX_NSS_NUSERS, fx_nss_groups, FX_NSS_NGROUPS);
	fx_nssdb_publish(id, 1);
	fx_nss_identity_free(id);
	load();
}

static void
setup_empty_dir(void)
{
	fx_nss_fresh();
	fx_nss_snapshot_dir();
	unlink(IAM_NSS_DB);
	load();
}

/*
 * Call a lookup with buffers of 0, 1, 2, ... bytes until it stops saying
 * ERANGE: the first answers must be TRYAGAIN/ERANGE, then SUCCESS, and
 * the next `more` sizes must succeed too.  The call names the buffer and
 * its length b_ and n_, and the caller's int err.  Evaluates to the size
 * that first fit.
 */
#define GROWING(call, more)							\
	({									\
		size_t n_, fit_ = 0;						\
		enum nss_status st_;						\
		for (n_ = 0; n_ < 4096; n_++) {					\
			char *b_ = malloc(n_ ? n_ : 1);				\
			err = 0;						\
			st_ = call;						\
			free(b_);						\
			if (st_ == NSS_STATUS_TRYAGAIN) {			\
				cr_assert_eq(err, ERANGE);			\
				cr_assert_eq(fit_, 0, "ERANGE after a fit");	\
				continue;					\
			}							\
			cr_assert_eq(st_, NSS_STATUS_SUCCESS, "status %d", st_);\
			if (fit_ == 0)						\
				fit_ = n_;					\
			if (n_ >= fit_ + (more))				\
				break;						\
		}								\
		cr_assert_gt(fit_, 0);						\
		fit_;								\
	})

Test(nss, getpwnam_r_grows_then_answers, .init = setup_fixture)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	size_t fit;

	fit = GROWING(m.getpwnam("alice", &pw, b_, n_, &err), 64);
	/* alice, *, Alice Liddell, /home/alice, /bin/bash with their NULs */
	cr_expect_eq(fit, 6 + 2 + 14 + 12 + 10);
	cr_assert_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(pw.pw_name, "alice");
	cr_expect_str_eq(pw.pw_passwd, "*");
	cr_expect_eq(pw.pw_uid, 70001);
	cr_expect_eq(pw.pw_gid, 80001);
	cr_expect_str_eq(pw.pw_gecos, "Alice Liddell");
	cr_expect_str_eq(pw.pw_dir, "/home/alice");
	cr_expect_str_eq(pw.pw_shell, "/bin/bash");
	cr_expect(pw.pw_name >= buf && pw.pw_shell < buf + sizeof(buf),
		  "strings live in the caller's buffer");
}

Test(nss, getpwuid_r_grows_then_answers, .init = setup_fixture)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;

	(void)GROWING(m.getpwuid(70002, &pw, b_, n_, &err), 64);
	cr_assert_eq(m.getpwuid(70002, &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(pw.pw_name, "bob");
	cr_expect_str_eq(pw.pw_passwd, "*");
	cr_expect_str_eq(pw.pw_gecos, "");
	cr_expect_str_eq(pw.pw_shell, "/bin/sh");
}

static void
expect_members(const struct group *gr, const char *const *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cr_assert_not_null(gr->gr_mem[i]);
		cr_expect_str_eq(gr->gr_mem[i], want[i]);
	}
	cr_expect_null(gr->gr_mem[n]);
}

Test(nss, getgrnam_r_grows_then_answers, .init = setup_fixture)
{
	struct group gr;
	char buf[1024];
	int err = 0;
	const char *members[] = { "alice", "bob" };

	(void)GROWING(m.getgrnam("iamusers", &gr, b_, n_, &err), 64);
	cr_assert_eq(m.getgrnam("iamusers", &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(gr.gr_name, "iamusers");
	cr_expect_str_eq(gr.gr_passwd, "*");
	cr_expect_eq(gr.gr_gid, 80001);
	expect_members(&gr, members, 2);
	/* an unaligned buffer still gets an aligned gr_mem */
	cr_assert_eq(m.getgrnam("iamusers", &gr, buf + 3, sizeof(buf) - 3, &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_eq((uintptr_t)gr.gr_mem % sizeof(char *), 0);
	expect_members(&gr, members, 2);
}

Test(nss, getgrgid_r_grows_then_answers, .init = setup_fixture)
{
	struct group gr;
	char buf[1024];
	int err = 0;
	const char *members[] = { "alice" };

	(void)GROWING(m.getgrgid(80002, &gr, b_, n_, &err), 64);
	cr_assert_eq(m.getgrgid(80002, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(gr.gr_name, "admins");
	expect_members(&gr, members, 1);
	cr_assert_eq(m.getgrgid(80004, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(gr.gr_name, "empty");
	expect_members(&gr, NULL, 0);
}

Test(nss, getpwent_r_and_getgrent_r_grow_without_skipping, .init = setup_fixture)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	m.setpwent(0);
	(void)GROWING(m.getpwent(&pw, b_, n_, &err), 0);
	m.endpwent();
	m.setgrent(0);
	(void)GROWING(m.getgrent(&gr, b_, n_, &err), 0);
	m.endgrent();
	{
		char buf[1024];

		m.setpwent(0);
		cr_assert_eq(m.getpwent(&pw, buf, 4, &err), NSS_STATUS_TRYAGAIN);
		cr_assert_eq(m.getpwent(&pw, buf, sizeof(buf), &err),
			     NSS_STATUS_SUCCESS);
		cr_expect_str_eq(pw.pw_name, "alice", "ERANGE did not advance");
		m.endpwent();
	}
}

Test(nss, unknown_names_and_ids_are_notfound, .init = setup_fixture)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err = 0;
	long start = 1, size = 4;
	gid_t *g = calloc(4, sizeof(gid_t));

	cr_expect_eq(m.getpwnam("mallory", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getpwnam("", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getpwnam("root", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getpwuid(0, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getpwuid(70004, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getgrnam("alice", &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.getgrgid(70001, &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	cr_expect_eq(m.initgroups("mallory", 100, &start, &size, &g, 0, &err),
		     NSS_STATUS_NOTFOUND);
	cr_expect_eq(start, 1, "nothing added");
	free(g);
}

/* ---- enumeration ---------------------------------------------------------- */

#define MANY 1500

static void
setup_many(void)
{
	static struct fx_nss_user u[MANY];
	static struct fx_nss_group g[50];
	static char un[MANY][24], gn[50][24];
	struct iam_identity *id;
	size_t i;

	fx_nss_fresh();
	for (i = 0; i < 50; i++) {
		snprintf(gn[i], 24, "grp%zu", i);
		g[i] = (struct fx_nss_group){ gn[i], 90000 + (uint32_t)i };
	}
	for (i = 0; i < MANY; i++) {
		snprintf(un[i], 24, "user%zu", i);
		u[i] = (struct fx_nss_user){ un[i], 100000 + (uint32_t)i, 90000,
					 "", "/home/u", "/bin/sh",
					 { gn[i % 50], gn[(i / 50) % 50], NULL } };
	}
	id = fx_nss_identity(u, MANY, g, 50);
	fx_nssdb_publish(id, 5);
	fx_nss_identity_free(id);
	load();
}

Test(nss, enumeration_lists_every_user_and_group_once, .init = setup_many)
{
	static unsigned char seen_u[MANY], seen_g[50];
	struct passwd pw;
	struct group gr;
	char buf[8192];
	int err = 0, pass;
	size_t n, members = 0;
	enum nss_status st;

	for (pass = 0; pass < 2; pass++) {
		memset(seen_u, 0, sizeof(seen_u));
		m.setpwent(0);
		for (n = 0; (st = m.getpwent(&pw, buf, sizeof(buf), &err)) ==
			    NSS_STATUS_SUCCESS; n++) {
			cr_assert(pw.pw_uid >= 100000 && pw.pw_uid < 100000 + MANY);
			cr_assert_eq(seen_u[pw.pw_uid - 100000]++, 0, "uid %u twice",
				     pw.pw_uid);
		}
		cr_expect_eq(st, NSS_STATUS_NOTFOUND);
		cr_expect_eq(n, MANY);
		cr_expect_eq(m.getpwent(&pw, buf, sizeof(buf), &err),
			     NSS_STATUS_NOTFOUND, "stays at the end");
		m.endpwent();
	}
	m.setgrent(0);
	for (n = 0; (st = m.getgrent(&gr, buf, sizeof(buf), &err)) ==
		    NSS_STATUS_SUCCESS; n++) {
		cr_assert(gr.gr_gid >= 90000 && gr.gr_gid < 90050);
		cr_assert_eq(seen_g[gr.gr_gid - 90000]++, 0);
		for (size_t k = 0; gr.gr_mem[k] != NULL; k++)
			members++;
	}
	cr_expect_eq(st, NSS_STATUS_NOTFOUND);
	cr_expect_eq(n, 50);
	/* every user is in two groups, or one when both picks coincide */
	cr_expect_geq(members, MANY);
	cr_expect_leq(members, 2 * MANY);
	m.endgrent();
}

/* ---- initgroups ------------------------------------------------------------ */

Test(nss, initgroups_dyn_grows_a_small_array, .init = setup_fixture)
{
	long start = 1, size = 1;
	gid_t *g = malloc(sizeof(gid_t));
	int err = 0;

	g[0] = 80001;	/* the primary group, as glibc passes it */
	cr_assert_eq(m.initgroups("alice", 80001, &start, &size, &g, 0, &err),
		     NSS_STATUS_SUCCESS);
	cr_assert_eq(start, 3, "80002 and 80003 added, 80001 not twice");
	cr_expect_geq(size, 3);
	cr_expect_eq(g[0], 80001);
	cr_expect_eq(g[1], 80002);
	cr_expect_eq(g[2], 80003);
	free(g);
}

Test(nss, initgroups_dyn_keeps_to_the_limit, .init = setup_fixture)
{
	long start = 1, size = 1;
	gid_t *g = malloc(sizeof(gid_t));
	int err = 0;

	g[0] = 100;
	cr_assert_eq(m.initgroups("alice", 100, &start, &size, &g, 2, &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_eq(start, 2);
	cr_expect_eq(size, 2);
	cr_expect_eq(g[1], 80001);
	free(g);
}

Test(nss, initgroups_dyn_of_a_user_without_groups_adds_none, .init = setup_fixture)
{
	long start = 1, size = 1;
	gid_t *g = malloc(sizeof(gid_t));
	int err = 0;

	g[0] = 80004;
	cr_assert_eq(m.initgroups("carol", 80004, &start, &size, &g, 0, &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_eq(start, 1);
	free(g);
}

/* ---- unusable snapshots ------------------------------------------------------ */

/* Every entry point answers UNAVAIL (never NOTFOUND, never SUCCESS). */
static void
expect_unavail(const char *why)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err = 0;
	long start = 1, size = 1;
	gid_t *g = malloc(sizeof(gid_t));

	g[0] = 1;
	cr_expect_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getpwnam", why);
	cr_expect_neq(err, 0);
	cr_expect_eq(m.getpwuid(70001, &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getpwuid", why);
	cr_expect_eq(m.getgrnam("iamusers", &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getgrnam", why);
	cr_expect_eq(m.getgrgid(80001, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getgrgid", why);
	m.setpwent(0);
	cr_expect_eq(m.getpwent(&pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getpwent", why);
	m.setgrent(0);
	cr_expect_eq(m.getgrent(&gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "%s: getgrent", why);
	cr_expect_eq(m.initgroups("alice", 1, &start, &size, &g, 0, &err),
		     NSS_STATUS_UNAVAIL, "%s: initgroups", why);
	cr_expect_eq(start, 1);
	free(g);
}

static void
publish_fixture_bytes(struct iam_buf *b)
{
	struct iam_identity *id = fx_nss_identity(fx_nss_users, FX_NSS_NUSERS, fx_nss_groups,
					      FX_NSS_NGROUPS);

	fx_nss_build(id, 1, b);
	fx_nss_identity_free(id);
}

Test(nss, missing_snapshot_is_unavail, .init = setup_empty_dir)
{
	expect_unavail("missing");
}

Test(nss, missing_folder_is_unavail)
{
	fx_nss_fresh();
	unlink(IAM_NSS_DB);
	rmdir(IAM_SNAPSHOT_DIR);
	load();
	expect_unavail("missing folder");
}

Test(nss, empty_snapshot_is_unavail, .init = setup_empty_dir)
{
	fx_nssdb_publish_bytes("", 0, 0644);
	expect_unavail("empty");
}

Test(nss, corrupt_snapshot_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	b.buf[offsetof(struct iam_nssdb_header, n_users)] ^= 1;
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	expect_unavail("one bit flipped in the header");
	iam_buf_release(&b);
}

/*
 * A snapshot of version 2 (written before this reader) is UNAVAIL until
 * the publisher writes version 3 (the Debian postinst publishes on
 * upgrade): never misread as the new layout.
 */
Test(nss, a_version_2_snapshot_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;
	uint32_t v2 = 2;

	publish_fixture_bytes(&b);
	memcpy(b.buf + offsetof(struct iam_nssdb_header, version), &v2, 4);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	expect_unavail("version 2");
	iam_buf_release(&b);
}

/*
 * Records are checked where they are read: a flipped bit in one user's
 * or one group's bytes makes every entry point that reads them answer
 * UNAVAIL, never NOTFOUND and never another entry.
 */
static void
publish_flipped(size_t at)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	b.buf[at] ^= 4;
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	iam_buf_release(&b);
}

static size_t
section_of(int s)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb_header h;

	publish_fixture_bytes(&b);
	memcpy(&h, b.buf, sizeof(h));
	iam_buf_release(&b);
	return h.sect[s].off;
}

Test(nss, corrupt_user_record_is_unavail_where_read, .init = setup_empty_dir)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	long start = 1, size = 1;
	gid_t *g = malloc(sizeof(gid_t));

	/* alice's uid: the lookup by uid 70001 no longer matches her */
	publish_flipped(section_of(IAM_NSSDB_USERS) +
			offsetof(struct iam_nssdb_urec, uid));
	load();
	cr_expect_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(m.getpwuid(70001, &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL, "not NOTFOUND");
	cr_expect_eq(m.getpwuid(70001 ^ 4, &pw, buf, sizeof(buf), &err) ==
		     NSS_STATUS_SUCCESS, 0, "never the damaged record");
	m.setpwent(0);
	cr_expect_eq(m.getpwent(&pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(m.initgroups("alice", 1, &start, &size, &g, 0, &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(start, 1);
	/* bob's record is sound */
	cr_expect_eq(m.getpwnam("bob", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(pw.pw_name, "bob");
	free(g);
}

/*
 * A member block that its sum vouches for (resealed) but that does not
 * hold n_members names is UNAVAIL where getgrnam and getgrent list the
 * members.  Edits: 0 the first name empty; 1 it and the next run
 * together; 2 both (as many names as the record says, one empty).  One
 * test each: a loaded module looks for a new snapshot once a second.
 */
static void
expect_member_block_edit_unavail(int edit)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct group gr;
	char buf[1024];
	size_t at;
	int err = 0;

	publish_fixture_bytes(&b);
	at = section_of(IAM_NSSDB_MEMBERS);
	if (edit != 1)
		b.buf[at] = '\0';
	if (edit != 0) {
		at += 1 + strlen(b.buf + at + 1);
		b.buf[at] = 'x';
	}
	cr_assert_eq(iam_nssdb_seal(b.buf, b.len), 0);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	load();
	cr_expect_eq(m.getgrnam("iamusers", &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	m.setgrent(0);
	cr_expect_eq(m.getgrent(&gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(m.getgrgid(80003, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	iam_buf_release(&b);
}

Test(nss, a_resealed_member_block_with_an_empty_name_is_unavail, .init = setup_empty_dir)
{
	expect_member_block_edit_unavail(0);
}

Test(nss, a_resealed_member_block_with_names_run_together_is_unavail, .init = setup_empty_dir)
{
	expect_member_block_edit_unavail(1);
}

Test(nss, a_resealed_member_block_of_the_right_count_one_empty_is_unavail, .init = setup_empty_dir)
{
	expect_member_block_edit_unavail(2);
}

Test(nss, corrupt_group_record_is_unavail_where_read, .init = setup_empty_dir)
{
	struct group gr;
	char buf[1024];
	int err = 0;

	/* the first member name of the first group: alice becomes another */
	publish_flipped(section_of(IAM_NSSDB_MEMBERS));
	load();
	cr_expect_eq(m.getgrnam("iamusers", &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(m.getgrgid(80001, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	m.setgrent(0);
	cr_expect_eq(m.getgrent(&gr, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	cr_expect_eq(m.getgrgid(80003, &gr, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_expect_str_eq(gr.gr_name, "ops");
}

Test(nss, truncated_snapshot_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len - 8, 0644);
	expect_unavail("truncated");
	iam_buf_release(&b);
}

Test(nss, snapshot_writable_by_others_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0646);
	expect_unavail("mode 0646");
	iam_buf_release(&b);
}

Test(nss, snapshot_writable_by_group_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0664);
	expect_unavail("mode 0664");
	iam_buf_release(&b);
}

Test(nss, snapshot_not_owned_by_root_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	cr_assert_eq(chown(IAM_NSS_DB, 65534, 0), 0);
	expect_unavail("owned by nobody");
	iam_buf_release(&b);
}

Test(nss, snapshot_in_a_writable_folder_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR, 0777), 0);
	expect_unavail("folder 0777");
	iam_buf_release(&b);
}

Test(nss, snapshot_behind_a_symlink_is_unavail, .init = setup_empty_dir)
{
	struct iam_buf b = IAM_BUF_INIT;
	char real[] = IAM_SNAPSHOT_DIR "/real.db";

	publish_fixture_bytes(&b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	cr_assert_eq(rename(IAM_NSS_DB, real), 0);
	cr_assert_eq(symlink(real, IAM_NSS_DB), 0);
	expect_unavail("symlink");
	iam_buf_release(&b);
}

Test(nss, a_folder_in_place_of_the_snapshot_is_unavail, .init = setup_empty_dir)
{
	cr_assert_eq(mkdir(IAM_NSS_DB, 0755), 0);
	expect_unavail("a folder");
}

/* ---- re-publishing ----------------------------------------------------------- */

static struct iam_identity *
gen_identity(unsigned gen, char *gecos, char *home)
{
	static struct fx_nss_user u[2];
	static struct fx_nss_group g[1] = { { "iamusers", 80001 } };

	sprintf(gecos, "generation %u", gen);
	sprintf(home, "/home/g%u", gen);
	u[0] = (struct fx_nss_user){ "alice", 70001, 80001, gecos, home, "/bin/bash",
				 { "iamusers", NULL } };
	u[1] = (struct fx_nss_user){ "bob", 70002, 80001, "", "/home/bob", "/bin/sh",
				 { NULL } };
	return fx_nss_identity(u, 2, g, 1);
}

static void
publish_gen(unsigned gen)
{
	char gecos[32], home[32];
	struct iam_identity *id = gen_identity(gen, gecos, home);

	fx_nssdb_publish(id, gen);
	fx_nss_identity_free(id);
}

static unsigned
alice_gen(void)
{
	struct passwd pw;
	char buf[512];
	int err = 0;
	unsigned g1, g2;

	cr_assert_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_SUCCESS);
	cr_assert_eq(sscanf(pw.pw_gecos, "generation %u", &g1), 1);
	cr_assert_eq(sscanf(pw.pw_dir, "/home/g%u", &g2), 1);
	cr_assert_eq(g1, g2);
	return g1;
}

Test(nss, a_loaded_module_sees_a_new_snapshot_within_a_second)
{
	struct passwd pw;
	char buf[512];
	int err = 0;

	fx_nss_fresh();
	publish_gen(1);
	load();
	cr_assert_eq(alice_gen(), 1);
	publish_gen(2);
	usleep(1100 * 1000);
	cr_expect_eq(alice_gen(), 2);
	/* a snapshot that turns bad is not served from the old mapping */
	fx_nssdb_publish_bytes("garbage", 7, 0644);
	usleep(1100 * 1000);
	cr_expect_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
	publish_gen(3);
	usleep(1100 * 1000);
	cr_expect_eq(alice_gen(), 3);
	unlink(IAM_NSS_DB);
	usleep(1100 * 1000);
	cr_expect_eq(m.getpwnam("alice", &pw, buf, sizeof(buf), &err),
		     NSS_STATUS_UNAVAIL);
}

#define THREADS 32
#define REPUBLISH 100

static volatile int stop;
static unsigned started;	/* readers that have made one lookup */

struct worker {
	pthread_t t;
	unsigned long lookups, bad;
	unsigned min_gen, max_gen;
};

static void *
reader(void *arg)
{
	struct worker *w = arg;
	struct passwd pw;
	struct group gr;
	char buf[512];
	int err;
	unsigned g1, g2;

	w->min_gen = ~0u;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		err = 0;
		if (m.getpwnam("alice", &pw, buf, sizeof(buf), &err) !=
			    NSS_STATUS_SUCCESS ||
		    strcmp(pw.pw_name, "alice") != 0 || pw.pw_uid != 70001 ||
		    sscanf(pw.pw_gecos, "generation %u", &g1) != 1 ||
		    sscanf(pw.pw_dir, "/home/g%u", &g2) != 1 || g1 != g2 ||
		    g1 > REPUBLISH || strcmp(pw.pw_shell, "/bin/bash") != 0) {
			if (w->bad++ == 0)
				fprintf(stderr, "bad pw: err %d %s %s\n", err, pw.pw_gecos, pw.pw_dir);
		}
		else {
			w->min_gen = g1 < w->min_gen ? g1 : w->min_gen;
			w->max_gen = g1 > w->max_gen ? g1 : w->max_gen;
		}
		if (m.getpwuid(70002, &pw, buf, sizeof(buf), &err) !=
			    NSS_STATUS_SUCCESS || strcmp(pw.pw_name, "bob") != 0) {
			if (w->bad++ == 0) fprintf(stderr, "bad uid: err %d\n", err);
		}
		if (m.getgrgid(80001, &gr, buf, sizeof(buf), &err) !=
			    NSS_STATUS_SUCCESS ||
		    strcmp(gr.gr_name, "iamusers") != 0 ||
		    gr.gr_mem[0] == NULL || strcmp(gr.gr_mem[0], "alice") != 0 ||
		    gr.gr_mem[1] != NULL) {
			if (w->bad++ == 0) fprintf(stderr, "bad gr: err %d\n", err);
		}
		if (w->lookups == 0)
			__atomic_add_fetch(&started, 1, __ATOMIC_RELAXED);
		w->lookups += 3;
	}
	return NULL;
}

Test(nss, threads_see_old_or_new_records_while_republishing, .timeout = 120)
{
	static struct worker w[THREADS];
	unsigned long total = 0, bad = 0;
	unsigned i, lo = ~0u, hi = 0;

	fx_nss_fresh();
	publish_gen(0);
	load();
	/*
	 * Map generation 0 before the first republish: on a loaded machine
	 * the threads may start after it, and would never see 0 otherwise.
	 */
	cr_assert_eq(alice_gen(), 0);
	for (i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&w[i].t, NULL, reader, &w[i]), 0);
	/* Every reader sees the first snapshot once, however loaded the machine. */
	while (__atomic_load_n(&started, __ATOMIC_RELAXED) < THREADS)
		usleep(1000);
	/* spread over about 3 s so the module swaps mappings several times */
	for (i = 1; i <= REPUBLISH; i++) {
		publish_gen(i);
		usleep(30 * 1000);
	}
	usleep(1100 * 1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].lookups;
		bad += w[i].bad;
		lo = w[i].min_gen < lo ? w[i].min_gen : lo;
		hi = w[i].max_gen > hi ? w[i].max_gen : hi;
	}
	cr_expect_eq(bad, 0, "%lu of %lu answers were neither old nor new", bad, total);
	cr_expect_gt(total, 1000);
	cr_expect_eq(lo, 0);
	cr_expect_eq(hi, REPUBLISH, "the last snapshot was seen");
	cr_expect_eq(alice_gen(), REPUBLISH);
}

/* ---- fork ------------------------------------------------------------------- */

static void *
enumerator(void *arg)
{
	struct passwd pw;
	char buf[512];
	int err;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		m.setpwent(0);
		while (m.getpwent(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS)
			;
		m.endpwent();
	}
	return NULL;
}

static void *
looker(void *arg)
{
	struct passwd pw;
	char buf[512];
	int err;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		(void)m.getpwnam("alice", &pw, buf, sizeof(buf), &err);
	return NULL;
}

/*
 * fork() while other threads hold the module's locks: the child must not
 * inherit a lock that nobody will release.
 */
Test(nss, a_child_forked_while_threads_look_up_does_not_hang, .init = setup_fixture,
     .timeout = 60)
{
	pthread_t t[4];
	struct passwd pw;
	char buf[512];
	int i, err, status;
	pid_t pid;

	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, i % 2 ? looker : enumerator,
					    NULL), 0);
	for (i = 0; i < 200; i++) {
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			alarm(5);
			m.setpwent(0);
			err = m.getpwent(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
			      m.getpwnam("bob", &pw, buf, sizeof(buf), &err) ==
				      NSS_STATUS_SUCCESS;
			_exit(err ? 0 : 1);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "child %d: status %#x", i, status);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}
