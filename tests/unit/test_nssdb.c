/*
 * test_nssdb.c - the nss.db builder and reader (libiam/nssdb_write.c,
 * libiam/nssdb.c) in memory: round trip, refusals of the builder, and bad
 * snapshots (empty, truncated, flipped bytes, huge counts, offsets past
 * the end), none of which may crash or give a wrong answer.
 */
#include <stdint.h>

#include "fixtures.h"

/* An 8-aligned private copy, as mmap would give. */
static unsigned char *
copy8(const void *p, size_t n)
{
	void *q = NULL;

	cr_assert_eq(posix_memalign(&q, 8, n ? n : 8), 0);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
build_fixture(struct iam_buf *b, uint64_t gen)
{
	struct iam_identity *id = fx_nss_identity(fx_nss_users, FX_NSS_NUSERS, fx_nss_groups,
					      FX_NSS_NGROUPS);

	fx_nss_build(id, gen, b);
	fx_nss_identity_free(id);
}

static void build_many_with(struct iam_buf *b, size_t n, size_t ng,
			    void (*also)(const struct iam_identity *id,
					 const struct iam_buf *b));

/* n users u0..u(n-1), each in 3 of ng groups: a snapshot of some KiB. */
static void
build_many(struct iam_buf *b, size_t n, size_t ng)
{
	build_many_with(b, n, ng, NULL);
}

/* As build_many(), then also(id, b) with the identity built from. */
static void
build_many_with(struct iam_buf *b, size_t n, size_t ng,
		void (*also)(const struct iam_identity *id,
			     const struct iam_buf *b))
{
	struct fx_nss_user *u = calloc(n, sizeof(*u));
	struct fx_nss_group *g = calloc(ng, sizeof(*g));
	char (*un)[24] = calloc(n, 24), (*gn)[24] = calloc(ng, 24);
	struct iam_identity *id;
	size_t i;

	cr_assert(u && g && un && gn);
	for (i = 0; i < ng; i++) {
		snprintf(gn[i], 24, "g%zu", i);
		g[i].name = gn[i];
		g[i].gid = 90000 + (uint32_t)i;
	}
	for (i = 0; i < n; i++) {
		snprintf(un[i], 24, "u%zu", i);
		u[i] = (struct fx_nss_user){ un[i], 60000 + (uint32_t)i,
					 90000 + (uint32_t)(i % ng), "gecos",
					 "/home/x", "/bin/sh",
					 { gn[i % ng], gn[(i + 1) % ng],
					   gn[(i * 7) % ng], NULL } };
	}
	id = fx_nss_identity(u, n, g, ng);
	fx_nss_build(id, 7, b);
	if (also != NULL)
		also(id, b);
	fx_nss_identity_free(id);
	free(u);
	free(g);
	free(un);
	free(gn);
}

/* Recompute the checksums after a deliberate edit, so the structure is tested. */
static void
reseal(unsigned char *p, size_t n)
{
	if (iam_nssdb_seal(p, n) < 0) {	/* the header alone, then */
		uint64_t sum = iam_nssdb_checksum(p + IAM_NSSDB_SUMMED_FROM,
			sizeof(struct iam_nssdb_header) - IAM_NSSDB_SUMMED_FROM);

		memcpy(p + offsetof(struct iam_nssdb_header, checksum), &sum, 8);
	}
}

static struct iam_nssdb_header *
hdr(unsigned char *p)
{
	return (struct iam_nssdb_header *)(void *)p;
}

Test(nssdb, round_trip_answers_every_user_and_group)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	const char *name;
	size_t len;

	build_fixture(&b, 42);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_expect_eq(db.generation, 42);
	cr_expect_eq(db.n_users, 3);
	cr_expect_eq(db.n_groups, 4);

	cr_assert_eq(iam_nssdb_user_by_name(&db, "alice", &u), 0);
	cr_expect_str_eq(u.name, "alice");
	cr_expect_eq(u.uid, 70001);
	cr_expect_eq(u.gid, 80001);
	cr_expect_str_eq(u.gecos, "Alice Liddell");
	cr_expect_str_eq(u.home, "/home/alice");
	cr_expect_str_eq(u.shell, "/bin/bash");
	cr_assert_eq(u.n_gids, 3);
	cr_expect_eq(u.gids[0], 80001);
	cr_expect_eq(u.gids[1], 80002);
	cr_expect_eq(u.gids[2], 80003);

	cr_assert_eq(iam_nssdb_user_by_uid(&db, 70002, &u), 0);
	cr_expect_str_eq(u.name, "bob");
	cr_expect_str_eq(u.gecos, "");
	cr_assert_eq(iam_nssdb_user_by_uid(&db, 70003, &u), 0);
	cr_expect_eq(u.n_gids, 0);

	cr_assert_eq(iam_nssdb_group_by_name(&db, "iamusers", &g), 0);
	cr_expect_eq(g.gid, 80001);
	cr_assert_eq(g.n_members, 2);
	cr_assert_eq(iam_nssdb_group_member(&db, &g, 0, &name, &len), 0);
	cr_expect_str_eq(name, "alice");
	cr_assert_eq(iam_nssdb_group_member(&db, &g, 1, &name, &len), 0);
	cr_expect_str_eq(name, "bob");
	cr_expect_eq(iam_nssdb_group_member(&db, &g, 2, &name, &len), -EBADMSG);

	cr_assert_eq(iam_nssdb_group_by_gid(&db, 80003, &g), 0);
	cr_expect_str_eq(g.name, "ops");
	cr_expect_eq(g.n_members, 1);
	cr_assert_eq(iam_nssdb_group_by_gid(&db, 80004, &g), 0);
	cr_expect_str_eq(g.name, "empty");
	cr_expect_eq(g.n_members, 0);
	iam_buf_release(&b);
}

/* iam_nssdb_write() of id into a file: the same bytes as b, and a write
   that fails is told apart from a refusal. */
static void
check_written(const struct iam_identity *id, const struct iam_buf *b)
{
	char path[] = "/tmp/iam-nssdb-write.XXXXXX";
	char *back;
	bool io = true;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, "x", 1), 1);	/* written from where it stands */
	cr_assert_eq(iam_nssdb_write(id, 7, fd, &io), 0);
	cr_assert_not(io);
	cr_assert_eq(lseek(fd, 0, SEEK_END), (off_t)b->len + 1);
	back = malloc(b->len + 1);
	cr_assert_not_null(back);
	cr_assert_eq(pread(fd, back, b->len + 1, 0), (ssize_t)b->len + 1);
	cr_assert_eq(back[0], 'x');
	cr_assert_eq(memcmp(back + 1, b->buf, b->len), 0);
	close(fd);
	free(back);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	io = false;
	cr_assert_eq(iam_nssdb_write(id, 7, fd, &io), -ENOSPC);
	cr_assert(io, "a failed write is told as one");
	close(fd);
}

Test(nssdb, written_through_a_window_is_the_snapshot_built_in_memory)
{
	struct iam_buf b = IAM_BUF_INIT;
	unsigned char *p;

	/* some 500 KiB: many windows, tables and strings across their ends */
	build_many_with(&b, 3000, 97, check_written);
	cr_assert_gt(b.len, 7 * 64 * 1024);
	/* every sum the builder wrote as it went is the reader's own */
	p = copy8(b.buf, b.len);
	cr_assert_eq(iam_nssdb_seal(p, b.len), 0);
	cr_assert_eq(memcmp(p, b.buf, b.len), 0, "a sum differs from a reseal");
	free(p);
	iam_buf_release(&b);
	build_many_with(&b, 1, 1, check_written);
	iam_buf_release(&b);
}

/* Two users with one uid: refused after the first window failed to go
   out, and the refusal is the identity's, not the disk's. */
static void
check_refusal_after_a_failed_write(const struct iam_identity *cid,
				   const struct iam_buf *b)
{
	struct iam_identity *id = (struct iam_identity *)cid;
	uint32_t uid = id->users[2999].uid;
	struct iam_buf again = IAM_BUF_INIT;
	bool io = true;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_gt(b->len, 2 * 64 * 1024);
	id->users[2999].uid = id->users[0].uid;
	cr_expect_eq(iam_nssdb_build(id, 7, &again), -EINVAL);
	cr_expect_eq(iam_nssdb_write(id, 7, fd, &io), -EINVAL);
	cr_expect_not(io, "the uid given twice is named, not the disk");
	id->users[2999].uid = uid;
	iam_buf_release(&again);
	close(fd);
}

Test(nssdb, a_refusal_after_a_failed_write_is_the_identitys)
{
	struct iam_buf b = IAM_BUF_INIT;

	build_many_with(&b, 3000, 97, check_refusal_after_a_failed_write);
	iam_buf_release(&b);
}

Test(nssdb, more_entries_than_the_format_holds_are_refused_whole)
{
	struct iam_identity *id = fx_nss_identity(fx_nss_users, FX_NSS_NUSERS,
						  fx_nss_groups, FX_NSS_NGROUPS);
	struct iam_buf b = IAM_BUF_INIT;
	size_t n = id->n_users, ng = id->n_groups;
	bool io = true;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	/* refused on the counts alone: the arrays are never read */
	id->n_users = IAM_NSSDB_MAX_ENTRIES + 1;
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -E2BIG);
	cr_expect_eq(iam_nssdb_write(id, 1, fd, &io), -E2BIG);
	cr_expect_not(io, "a refusal is not a failed write");
	id->n_users = n;
	id->n_groups = IAM_NSSDB_MAX_ENTRIES + 1;
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -E2BIG);
	cr_expect_eq(iam_nssdb_write(id, 1, fd, &io), -E2BIG);
	id->n_groups = ng;
	cr_expect_null(b.buf);
	close(fd);
	fx_nss_identity_free(id);
}

Test(nssdb, unknown_names_and_ids_are_enoent)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;

	build_fixture(&b, 1);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "mallory", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alic", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alicee", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 0, &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 80001, &u), -ENOENT);
	cr_expect_eq(iam_nssdb_group_by_name(&db, "alice", &g), -ENOENT);
	cr_expect_eq(iam_nssdb_group_by_gid(&db, 70001, &g), -ENOENT);
	cr_expect_eq(iam_nssdb_user_at(&db, 3, &u), -ENOENT);
	cr_expect_eq(iam_nssdb_group_at(&db, 4, &g), -ENOENT);
	iam_buf_release(&b);
}

Test(nssdb, empty_identity_builds_a_valid_empty_snapshot)
{
	struct iam_identity *id = fx_nss_identity(NULL, 0, NULL, 0);
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;

	fx_nss_build(id, 3, &b);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 1, &u), -ENOENT);
	cr_expect_eq(iam_nssdb_group_by_gid(&db, 1, &g), -ENOENT);
	cr_expect_eq(iam_nssdb_user_at(&db, 0, &u), -ENOENT);
	iam_buf_release(&b);
	fx_nss_identity_free(id);
}

Test(nssdb, many_users_all_found_by_name_and_id)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	char name[16];
	uint32_t i;

	build_many(&b, 2000, 100);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		cr_assert_eq(iam_nssdb_user_by_name(&db, name, &u), 0, "%s", name);
		cr_assert_eq(u.uid, 60000 + i);
		cr_assert_eq(iam_nssdb_user_by_uid(&db, 60000 + i, &u), 0);
		cr_assert_str_eq(u.name, name);
		cr_assert(u.n_gids >= 1 && u.n_gids <= 3);
	}
	iam_buf_release(&b);
}

Test(nssdb, builder_refuses_what_would_break_lookups)
{
	struct fx_nss_user u[2];
	struct fx_nss_group g[2] = { { "g", 1000 }, { "h", 1001 } };
	struct iam_identity *id;
	struct iam_buf b = IAM_BUF_INIT;

	struct { const char *why; struct fx_nss_user a, c; const struct fx_nss_group *gr; } cases[] = {
		{ "same name", { "x", 1, 1000, "", "/", "/bin/sh", { NULL } },
		  { "x", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "same uid", { "x", 1, 1000, "", "/", "/bin/sh", { NULL } },
		  { "y", 1, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "colon in gecos", { "x", 1, 1000, "a:b", "/", "/bin/sh", { NULL } },
		  { "y", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "newline in home", { "x", 1, 1000, "", "/\n", "/bin/sh", { NULL } },
		  { "y", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "control character in shell", { "x", 1, 1000, "", "/", "/bin/sh\033", { NULL } },
		  { "y", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "empty name", { "", 1, 1000, "", "/", "/bin/sh", { NULL } },
		  { "y", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
		{ "unknown group", { "x", 1, 1000, "", "/", "/bin/sh", { "nope", NULL } },
		  { "y", 2, 1000, "", "/", "/bin/sh", { NULL } }, g },
	};
	struct fx_nss_group dup[2] = { { "g", 1000 }, { "g", 1001 } };
	struct fx_nss_group dupgid[2] = { { "g", 1000 }, { "h", 1000 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u[0] = cases[i].a;
		u[1] = cases[i].c;
		id = fx_nss_identity(u, 2, cases[i].gr, 2);
		cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "%s", cases[i].why);
		cr_expect_eq(b.len, 0, "%s: nothing written", cases[i].why);
		fx_nss_identity_free(id);
	}
	u[0] = cases[0].a;
	u[1] = cases[1].c;
	u[1].name = "y";
	u[1].uid = 2;
	id = fx_nss_identity(u, 2, dup, 2);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "same group name");
	fx_nss_identity_free(id);
	id = fx_nss_identity(u, 2, dupgid, 2);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "same gid");
	fx_nss_identity_free(id);
	cr_expect_eq(b.len, 0);
	iam_buf_release(&b);
}

/* A model edited through the library with no name in a user's groups. */
Test(nssdb, a_missing_group_name_is_refused_not_taken_for_another)
{
	struct fx_nss_user u[2] = {
		{ "x", 1, 1000, "", "/", "/bin/sh", { "g", NULL } },
		{ "y", 2, 1000, "", "/", "/bin/sh", { "h", NULL } } };
	struct fx_nss_group g[2] = { { "g", 1000 }, { "h", 1001 } };
	struct iam_identity *id = fx_nss_identity(u, 2, g, 2);
	struct iam_buf b = IAM_BUF_INIT;

	id->users[1].groups[0] = NULL;
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL);
	cr_expect_eq(b.len, 0, "nothing written");
	fx_nss_identity_free(id);
	iam_buf_release(&b);
}

/*
 * The builder checks fields 8 bytes at a time: a bad byte is found at
 * every position of a word and of the tail, and what is allowed (bytes
 * 0x20-0x7e but ':', UTF-8 above 0x7f) passes, up to the length cap.
 */
Test(nssdb, builder_checks_every_byte_of_every_field)
{
	static const unsigned char bad[] = { ':', 0x01, '\n', 0x1f, 0x7f };
	static const unsigned char good[] = { ' ', '~', 0x80, 0xc3, 0xff };
	struct fx_nss_group g[1] = { { "g", 1000 } };
	struct fx_nss_user u[1] = { { "x", 1, 1000, "", "/", "/bin/sh", { NULL } } };
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_identity *id;
	static char field[IAM_NSSDB_MAX_STRING + 2];
	size_t len, at, k;

	for (len = 1; len <= 19; len++)
		for (at = 0; at < len; at++)
			for (k = 0; k < sizeof(bad) + sizeof(good); k++) {
				int want = k < sizeof(bad) ? -EINVAL : 0;

				memset(field, 'a', len);
				field[len] = '\0';
				field[at] = (char)(k < sizeof(bad) ? bad[k] :
						   good[k - sizeof(bad)]);
				u[0].gecos = field;
				id = fx_nss_identity(u, 1, g, 1);
				cr_expect_eq(iam_nssdb_build(id, 1, &b), want,
					     "byte 0x%02x at %zu of %zu",
					     (unsigned char)field[at], at, len);
				fx_nss_identity_free(id);
				iam_buf_release(&b);
			}
	/* the cap: IAM_NSSDB_MAX_STRING bytes pass, one more does not */
	memset(field, 'a', IAM_NSSDB_MAX_STRING + 1);
	field[IAM_NSSDB_MAX_STRING] = '\0';
	u[0].gecos = field;
	id = fx_nss_identity(u, 1, g, 1);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), 0);
	fx_nss_identity_free(id);
	iam_buf_release(&b);
	field[IAM_NSSDB_MAX_STRING] = 'a';
	field[IAM_NSSDB_MAX_STRING + 1] = '\0';
	id = fx_nss_identity(u, 1, g, 1);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL);
	cr_expect_eq(b.len, 0);
	fx_nss_identity_free(id);
	/* a bad byte in a group name too, past the first word */
	u[0].gecos = "";
	g[0].name = "group:name";
	id = fx_nss_identity(u, 1, g, 1);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL);
	fx_nss_identity_free(id);
	iam_buf_release(&b);
}

Test(nssdb, builder_drops_a_group_listed_twice)
{
	struct fx_nss_user u[1] = { { "x", 1, 1000, "", "/", "/bin/sh",
				  { "g", "h", "g", NULL } } };
	struct fx_nss_group g[2] = { { "g", 1000 }, { "h", 1001 } };
	struct iam_identity *id = fx_nss_identity(u, 1, g, 2);
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user x;
	struct iam_nssdb_group gr;

	fx_nss_build(id, 1, &b);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_assert_eq(iam_nssdb_user_by_name(&db, "x", &x), 0);
	cr_expect_eq(x.n_gids, 2);
	cr_assert_eq(iam_nssdb_group_by_name(&db, "g", &gr), 0);
	cr_expect_eq(gr.n_members, 1);
	iam_buf_release(&b);
	fx_nss_identity_free(id);
}

Test(nssdb, snapshot_holds_no_secret)
{
	struct fx_nss_user fu[1] = { { "x", 1, 1000, "", "/", "/bin/sh", { NULL } } };
	struct fx_nss_group fg[1] = { { "g", 1000 } };
	struct iam_identity *id = fx_nss_identity(fu, 1, fg, 1);
	struct iam_buf b = IAM_BUF_INIT;
	char hash[] = "$y$j9T$SECRETHASHSECRETHASH", totp[] = "JBSWY3DPEHPK3PXPJBSWY3DP";

	id->users[0].password.hash = hash;
	id->users[0].mfa.secret = totp;
	fx_nss_build(id, 1, &b);
	cr_expect_null(memmem(b.buf, b.len, "SECRETHASH", 10));
	cr_expect_null(memmem(b.buf, b.len, "JBSWY3DP", 8));
	iam_buf_release(&b);
	fx_nss_identity_free(id);
}

/* ---- bad snapshots ------------------------------------------------------- */

Test(nssdb, empty_and_short_input_is_refused)
{
	unsigned char *p = copy8("", 0);
	struct iam_nssdb db;

	cr_expect_eq(iam_nssdb_open_mem(p, 0, &db), -EBADMSG);
	cr_expect_eq(iam_nssdb_open_mem(p, 7, &db), -EBADMSG);
	cr_expect_eq(iam_nssdb_open_mem(NULL, 0, &db), -EBADMSG);
	free(p);
}

Test(nssdb, truncated_at_every_4k_boundary_is_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	size_t n, cuts = 0;

	build_many(&b, 2000, 100);
	cr_assert_gt(b.len, 5 * 4096);
	p = copy8(b.buf, b.len);
	for (n = 0; n < b.len; n += 4096, cuts++)
		cr_assert_eq(iam_nssdb_open_mem(p, n, &db), -EBADMSG, "cut at %zu", n);
	/* and one byte short, and the sizes at every section start */
	cr_expect_eq(iam_nssdb_open_mem(p, b.len - 1, &db), -EBADMSG);
	for (int s = 0; s < IAM_NSSDB_NSECT; s++)
		cr_expect_eq(iam_nssdb_open_mem(p, hdr(p)->sect[s].off, &db),
			     -EBADMSG);
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_gt(cuts, 5);
	free(p);
	iam_buf_release(&b);
}

/*
 * Every answer the reader can give on a snapshot, one line each: every
 * user and group by index, by name, by id (each key of the clean
 * snapshot, and some that are in none), with every member name.  A line
 * is "E" when the reader said -EBADMSG.
 */
#define SWEEP_MAX 4096

struct sweep {
	char line[SWEEP_MAX][160];
	size_t n, bad;
};

struct keys {
	char names[SWEEP_MAX / 8][64], gnames[SWEEP_MAX / 8][64];
	uint32_t uids[SWEEP_MAX / 8], gids[SWEEP_MAX / 8];
	size_t nu, ng;
};

static void
say_user(struct sweep *s, int r, const struct iam_nssdb_user *u)
{
	char *l = s->line[s->n++];
	size_t k, n;

	cr_assert_lt(s->n, SWEEP_MAX);
	if (r == -EBADMSG) {
		strcpy(l, "E");
		s->bad++;
		return;
	}
	if (r != 0) {
		snprintf(l, 160, "r%d", r);
		return;
	}
	n = (size_t)snprintf(l, 160, "%s:%u:%u:%s:%s:%s:", u->name, u->uid,
			     u->gid, u->gecos, u->home, u->shell);
	for (k = 0; k < u->n_gids && n < 150; k++)
		n += (size_t)snprintf(l + n, 160 - n, "%u,", u->gids[k]);
}

static void
say_group(struct sweep *s, const struct iam_nssdb *db, int r,
	  const struct iam_nssdb_group *g)
{
	char *l = s->line[s->n++];
	const char *m;
	size_t k, n, len;

	cr_assert_lt(s->n, SWEEP_MAX);
	if (r == 0) {
		n = (size_t)snprintf(l, 160, "%s:%u:", g->name, g->gid);
		for (k = 0; k < g->n_members && r == 0; k++) {
			r = iam_nssdb_group_member(db, g, (uint32_t)k, &m, &len);
			if (r == 0 && n < 150)
				n += (size_t)snprintf(l + n, 160 - n, "%s,", m);
		}
	}
	if (r == -EBADMSG) {
		strcpy(l, "E");
		s->bad++;
	} else if (r != 0) {
		snprintf(l, 160, "r%d", r);
	}
}

static int
sweep(const unsigned char *p, size_t len, const struct keys *k,
      struct sweep *s)
{
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	uint32_t i;

	s->n = s->bad = 0;
	if (iam_nssdb_open_mem(p, len, &db) != 0)
		return -1;
	for (i = 0; i < db.n_users; i++)
		say_user(s, iam_nssdb_user_at(&db, i, &u), &u);
	for (i = 0; i < db.n_groups; i++)
		say_group(s, &db, iam_nssdb_group_at(&db, i, &g), &g);
	for (i = 0; i < k->nu; i++) {
		say_user(s, iam_nssdb_user_by_name(&db, k->names[i], &u), &u);
		say_user(s, iam_nssdb_user_by_uid(&db, k->uids[i], &u), &u);
		/* getpwnam's and getpwuid's lookups: the gids left unread */
		say_user(s, iam_nssdb_user(&db, k->names[i], 0, 0, &u), &u);
		say_user(s, iam_nssdb_user(&db, NULL, k->uids[i], 0, &u), &u);
	}
	for (i = 0; i < k->ng; i++) {
		say_group(s, &db, iam_nssdb_group_by_name(&db, k->gnames[i], &g), &g);
		say_group(s, &db, iam_nssdb_group_by_gid(&db, k->gids[i], &g), &g);
	}
	return 0;
}

/* The keys of a clean snapshot, and a few in none. */
static void
keys_of(const unsigned char *p, size_t len, struct keys *k)
{
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	uint32_t i;

	memset(k, 0, sizeof(*k));
	cr_assert_eq(iam_nssdb_open_mem(p, len, &db), 0);
	cr_assert_lt(db.n_users + 3, SWEEP_MAX / 8);
	cr_assert_lt(db.n_groups + 3, SWEEP_MAX / 8);
	for (i = 0; i < db.n_users; i++) {
		cr_assert_eq(iam_nssdb_user_at(&db, i, &u), 0);
		snprintf(k->names[k->nu], 64, "%s", u.name);
		k->uids[k->nu++] = u.uid;
	}
	for (i = 0; i < db.n_groups; i++) {
		cr_assert_eq(iam_nssdb_group_at(&db, i, &g), 0);
		snprintf(k->gnames[k->ng], 64, "%s", g.name);
		k->gids[k->ng++] = g.gid;
	}
	snprintf(k->names[k->nu], 64, "mallory");
	k->uids[k->nu++] = 0;
	snprintf(k->names[k->nu], 64, "u");
	k->uids[k->nu++] = 99999;
	snprintf(k->gnames[k->ng], 64, "wheel");
	k->gids[k->ng++] = 0;
}

/* Is byte at of p inside a hash slot that is empty in the clean copy? */
static int
in_empty_slot(const unsigned char *clean, size_t at)
{
	const struct iam_nssdb_header *h = (const void *)clean;
	const struct iam_nssdb_slot *slot;
	int t;

	for (t = IAM_NSSDB_USER_NAME_HT; t <= IAM_NSSDB_GROUP_GID_HT; t++)
		if (at >= h->sect[t].off && at < h->sect[t].off + h->sect[t].size) {
			slot = (const void *)(clean + h->sect[t].off);
			return slot[(at - h->sect[t].off) / sizeof(*slot)].idx == 0;
		}
	return 0;
}

/*
 * Damage at byte at: refused when opened, or every answer is the clean
 * one or -EBADMSG, and the damage is reported by some answer unless it
 * lies in an empty hash slot no lookup of an existing key walks over.
 */
static void
expect_caught(const unsigned char *clean, const unsigned char *p, size_t len,
	      const struct keys *k, const struct sweep *ref, struct sweep *s,
	      size_t at, int bit)
{
	size_t i;

	if (sweep(p, len, k, s) < 0)
		return;
	cr_assert_eq(s->n, ref->n, "byte %zu bit %d: entries changed", at, bit);
	for (i = 0; i < s->n; i++)
		cr_assert(!strcmp(s->line[i], "E") ||
			  !strcmp(s->line[i], ref->line[i]),
			  "byte %zu bit %d: a wrong answer: %s instead of %s",
			  at, bit, s->line[i], ref->line[i]);
	if (!in_empty_slot(clean, at))
		cr_assert_gt(s->bad, 0, "byte %zu bit %d: damage not reported",
			     at, bit);
}

Test(nssdb, every_byte_flipped_is_refused_or_caught_where_read)
{
	struct iam_buf b = IAM_BUF_INIT;
	static struct sweep ref, s;
	static struct keys k;
	unsigned char *p;
	size_t i;
	int bit;

	build_fixture(&b, 9);
	p = copy8(b.buf, b.len);
	keys_of(p, b.len, &k);
	cr_assert_eq(sweep(p, b.len, &k, &ref), 0);
	cr_assert_eq(ref.bad, 0);
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			p[i] ^= (unsigned char)(1u << bit);
			expect_caught((const unsigned char *)b.buf, p, b.len,
				      &k, &ref, &s, i, bit);
			p[i] ^= (unsigned char)(1u << bit);
		}
	/* the header and the padding are refused when opened */
	for (i = 0; i < sizeof(struct iam_nssdb_header); i++) {
		struct iam_nssdb db;

		p[i] ^= 0x10;
		cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG,
			     "header byte %zu", i);
		p[i] ^= 0x10;
	}
	cr_expect_eq(sweep(p, b.len, &k, &s), 0);
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, flipped_bytes_in_a_large_snapshot_are_caught)
{
	struct iam_buf b = IAM_BUF_INIT;
	static struct sweep ref, s;
	static struct keys k;
	unsigned char *p;
	size_t i, step;

	build_many(&b, 300, 40);
	p = copy8(b.buf, b.len);
	keys_of(p, b.len, &k);
	cr_assert_eq(sweep(p, b.len, &k, &ref), 0);
	step = b.len / 1500 + 1;
	for (i = 0; i < b.len; i += step) {
		p[i] ^= 0x5a;
		expect_caught((const unsigned char *)b.buf, p, b.len, &k,
			      &ref, &s, i, -1);
		p[i] ^= 0x5a;
	}
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, header_claiming_huge_counts_is_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	uint32_t huge[] = { 5, 1000, 0x10000000, 0x7fffffff, 0xffffffff };
	size_t i;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		memcpy(p, b.buf, b.len);
		hdr(p)->n_users = huge[i];
		reseal(p, b.len);
		cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG, "users %u", huge[i]);
		memcpy(p, b.buf, b.len);
		hdr(p)->n_groups = huge[i];
		reseal(p, b.len);
		cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
		memcpy(p, b.buf, b.len);
		hdr(p)->n_gids = huge[i];
		reseal(p, b.len);
		cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
		memcpy(p, b.buf, b.len);
		hdr(p)->sect[IAM_NSSDB_USERS].size = huge[i] * 32;
		reseal(p, b.len);
		cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	}
	memcpy(p, b.buf, b.len);
	hdr(p)->file_size = UINT64_MAX;
	reseal(p, b.len);
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, section_offsets_past_the_end_are_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	uint32_t offs[] = { 0, 8, 0xfffffff8, 0x80000000 };
	int s;
	size_t i;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	for (s = 0; s < IAM_NSSDB_NSECT; s++) {
		for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			memcpy(p, b.buf, b.len);
			if (hdr(p)->sect[s].size == 0 && offs[i] < b.len)
				continue;	/* an empty section may sit anywhere inside */
			hdr(p)->sect[s].off = offs[i];
			reseal(p, b.len);
			cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG,
				     "section %d at %u", s, offs[i]);
		}
		memcpy(p, b.buf, b.len);
		hdr(p)->sect[s].off += 4;	/* misaligned */
		reseal(p, b.len);
		cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	}
	free(p);
	iam_buf_release(&b);
}

/* Edit one user record's field and reseal; lookups must refuse, not lie. */
Test(nssdb, record_offsets_past_the_end_are_caught_at_lookup)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	struct iam_nssdb_urec *rec;
	struct iam_nssdb_grec *grec;
	unsigned char *p;
	size_t f;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	for (f = 0; f < 8; f++) {
		uint32_t *field;

		/* uid, gid: any value is a value; 7, the gids' sum, is resealed */
		if (f == 1 || f == 2 || f == 7)
			continue;
		memcpy(p, b.buf, b.len);
		rec = (void *)(p + hdr(p)->sect[IAM_NSSDB_USERS].off);
		field = (uint32_t *)(void *)&rec[0] + f;
		*field = 0xfffffff0u;
		reseal(p, b.len);
		cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
		cr_expect_eq(iam_nssdb_user_at(&db, 0, &u), -EBADMSG, "field %zu", f);
		cr_expect_eq(iam_nssdb_user_by_uid(&db, 70001, &u), -EBADMSG);
		/* the other users are still answered */
		cr_expect_eq(iam_nssdb_user_by_uid(&db, 70002, &u), 0);
	}
	memcpy(p, b.buf, b.len);
	grec = (void *)(p + hdr(p)->sect[IAM_NSSDB_GROUPS].off);
	grec[0].n_members = 1000;
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_group_by_gid(&db, 80001, &g), -EBADMSG);

	/* member names running past the group's own (a NUL made a letter) */
	memcpy(p, b.buf, b.len);
	grec = (void *)(p + hdr(p)->sect[IAM_NSSDB_GROUPS].off);
	cr_assert_gt(grec[0].members_size, 2);
	p[hdr(p)->sect[IAM_NSSDB_MEMBERS].off + grec[0].members +
	  grec[0].members_size - 1] = 'x';
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_group_by_gid(&db, 80001, &g), -EBADMSG);
	/* more members claimed than names written */
	memcpy(p, b.buf, b.len);
	grec = (void *)(p + hdr(p)->sect[IAM_NSSDB_GROUPS].off);
	grec[0].n_members++;
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_assert_eq(iam_nssdb_group_by_gid(&db, 80001, &g), 0);
	{
		const char *n;
		size_t len;

		cr_expect_eq(iam_nssdb_group_member(&db, &g, 1, &n, &len), 0);
		cr_expect_eq(iam_nssdb_group_member(&db, &g, g.n_members - 1,
						    &n, &len), -EBADMSG);
	}
	free(p);
	iam_buf_release(&b);
}

/* Version 2 had no string lengths and other hashes: refused, not misread. */
Test(nssdb, a_version_2_snapshot_is_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	cr_assert_eq(hdr(p)->version, 3);
	hdr(p)->version = 2;
	reseal(p, b.len);
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	free(p);
	iam_buf_release(&b);
}

/*
 * Alice's record edited and resealed, so only the structure checks stand
 * between the edit and an answer: a length that does not end at a NUL,
 * strings that do not start on 8 bytes, a NUL inside her name.
 */
static unsigned char *
alice_edited(const struct iam_buf *b, struct iam_nssdb *db,
	     void (*edit)(unsigned char *p, struct iam_nssdb_urec *alice))
{
	unsigned char *p = copy8(b->buf, b->len);
	struct iam_nssdb_urec *rec;

	rec = (void *)(p + hdr(p)->sect[IAM_NSSDB_USERS].off);
	cr_assert_eq(rec[0].uid, 70001);
	edit(p, &rec[0]);
	reseal(p, b->len);
	cr_assert_eq(iam_nssdb_open_mem(p, b->len, db), 0);
	return p;
}

static void
name_one_longer(unsigned char *p, struct iam_nssdb_urec *alice)
{
	(void)p;
	alice->name_len++;
}

static void
home_one_shorter(unsigned char *p, struct iam_nssdb_urec *alice)
{
	(void)p;
	alice->home_len--;
}

static void
strings_moved_by_one(unsigned char *p, struct iam_nssdb_urec *alice)
{
	(void)p;
	alice->strs++;
}

static void
nul_inside_the_name(unsigned char *p, struct iam_nssdb_urec *alice)
{
	p[hdr(p)->sect[IAM_NSSDB_STRINGS].off + alice->strs + 2] = '\0';
}

Test(nssdb, string_lengths_and_offsets_are_checked_at_lookup)
{
	void (*edits[])(unsigned char *, struct iam_nssdb_urec *) = {
		name_one_longer, home_one_shorter, strings_moved_by_one,
		nul_inside_the_name,
	};
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	unsigned char *p;
	size_t e;

	build_fixture(&b, 1);
	for (e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
		p = alice_edited(&b, &db, edits[e]);
		cr_expect_eq(iam_nssdb_user_at(&db, 0, &u), -EBADMSG, "edit %zu", e);
		cr_expect_eq(iam_nssdb_user_by_uid(&db, 70001, &u), -EBADMSG,
			     "edit %zu", e);
		cr_expect_eq(iam_nssdb_user(&db, NULL, 70001, 0, &u), -EBADMSG,
			     "edit %zu", e);
		/* by name: refused, or (a NUL inside) no longer hers */
		cr_expect_neq(iam_nssdb_user(&db, "alice", 0, 0, &u), 0,
			      "edit %zu", e);
		cr_expect_neq(iam_nssdb_user_by_name(&db, "al", &u), 0);
		/* the others are still answered */
		cr_expect_eq(iam_nssdb_user(&db, "bob", 0, 0, &u), 0);
		cr_expect_str_eq(u.home, "/home/bob");
		free(p);
	}
	iam_buf_release(&b);
}

/* getpwnam leaves the gids unread; what reads them checks their sum. */
Test(nssdb, a_damaged_gid_is_caught_by_what_reads_the_gids)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	unsigned char *p;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	p[hdr(p)->sect[IAM_NSSDB_GIDS].off] ^= 1;	/* alice's first gid */
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -EBADMSG);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 70001, &u), -EBADMSG);
	cr_expect_eq(iam_nssdb_user_at(&db, 0, &u), -EBADMSG);
	cr_assert_eq(iam_nssdb_user(&db, "alice", 0, 0, &u), 0);
	cr_expect_eq(u.uid, 70001);
	cr_expect_str_eq(u.shell, "/bin/bash");
	cr_expect_null(u.gids);
	cr_expect_eq(u.n_gids, 0);
	free(p);
	iam_buf_release(&b);
}

/*
 * No two flipped bits of a user record's fixed fields cancel out in its
 * sum: a product's top bit depends on the factor's top bit alone, so
 * without the fold in each step the top bit of uid and that of the gids
 * index flipped together gave another uid as the answer.
 */
Test(nssdb, two_flipped_bits_of_a_record_are_caught)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	unsigned char *p, *rec;
	size_t i, j, n = offsetof(struct iam_nssdb_urec, sum) * 8;
	int wrong = 0;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	rec = p + hdr(p)->sect[IAM_NSSDB_USERS].off;	/* alice's */
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	for (i = 0; i < n; i++) {
		rec[i / 8] ^= 1u << i % 8;
		for (j = i + 1; j < n; j++) {
			rec[j / 8] ^= 1u << j % 8;
			/* getpwnam's lookup: the gids left unread */
			if (iam_nssdb_user(&db, "alice", 0, 0, &u) != -EBADMSG)
				wrong++;
			rec[j / 8] ^= 1u << j % 8;
		}
		rec[i / 8] ^= 1u << i % 8;
	}
	cr_expect_eq(wrong, 0, "%d pairs of flipped bits not caught", wrong);
	cr_assert_eq(iam_nssdb_user_by_uid(&db, 70001, &u), 0);
	cr_expect_str_eq(u.name, "alice");
	free(p);
	iam_buf_release(&b);
}

/*
 * A slot's fields changed together (a bit of its tag and a bit of its
 * check), or a table's page zeroed, never hide an entry as "no such
 * user": the lookup is answered rightly or refused as damaged.
 */
Test(nssdb, damaged_slots_never_hide_an_entry)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_slot *ht;
	unsigned char *p;
	uint32_t slots, i, tb, cb;
	int r, hidden = 0, other = 0;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	ht = (void *)(p + hdr(p)->sect[IAM_NSSDB_USER_UID_HT].off);
	slots = hdr(p)->sect[IAM_NSSDB_USER_UID_HT].size / sizeof(*ht);
	for (i = 0; i < slots; i++) {
		for (tb = 0; tb < 32; tb++) {
			for (cb = 0; cb < 32; cb++) {
				ht[i].tag ^= 1u << tb;
				ht[i].check ^= 1u << cb;
				r = iam_nssdb_user_by_uid(&db, 70001, &u);
				if (r == -ENOENT)
					hidden++;
				else if (r == 0 && strcmp(u.name, "alice") != 0)
					other++;
				ht[i].tag ^= 1u << tb;
				ht[i].check ^= 1u << cb;
			}
		}
	}
	cr_expect_eq(hidden, 0, "%d damaged slots hid alice", hidden);
	cr_expect_eq(other, 0, "%d damaged slots gave another user", other);
	/* a zeroed table: every slot (0, 0, 0) */
	memset(ht, 0, slots * sizeof(*ht));
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 70001, &u), -EBADMSG);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 4242, &u), -EBADMSG);
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, damaged_index_never_returns_another_entry)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	unsigned char *p;
	struct iam_nssdb_slot *ht;
	uint32_t slots, i;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	/* every slot of the name index points at bob, half with alice's hash */
	ht = (void *)(p + hdr(p)->sect[IAM_NSSDB_USER_NAME_HT].off);
	slots = hdr(p)->sect[IAM_NSSDB_USER_NAME_HT].size / sizeof(*ht);
	for (i = 0; i < slots; i++) {
		ht[i].idx = 2;
		ht[i].tag = i % 2 ? iam_nssdb_hash_name("alice", 5) :
				    iam_nssdb_hash_name("bob", 3);
	}
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -ENOENT,
		     "a full table ends the probe, and never says bob");
	cr_assert_eq(iam_nssdb_user_by_name(&db, "bob", &u), 0);
	cr_expect_eq(u.uid, 70002);
	/* slots pointing past the records */
	for (i = 0; i < slots; i++)
		ht[i].idx = 0xffffffffu;
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -EBADMSG);
	/* slot count that is not a power of two */
	memcpy(p, b.buf, b.len);
	hdr(p)->sect[IAM_NSSDB_USER_UID_HT].size -= 4;
	reseal(p, b.len);
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, unterminated_strings_are_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	const struct iam_nssdb_header *h;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	h = hdr(p);
	p[h->sect[IAM_NSSDB_STRINGS].off + h->sect[IAM_NSSDB_STRINGS].size - 1] = 'x';
	reseal(p, b.len);
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG);
	free(p);
	iam_buf_release(&b);
}

/*
 * Random edits with a valid checksum: whatever the reader answers must be
 * what was asked for (the name or id matches) and lie inside the input.
 */
Test(nssdb, resealed_random_damage_never_gives_a_wrong_answer)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	unsigned char *p;
	unsigned int seed = 12345, round, k;
	const char *names[] = { "alice", "bob", "carol", "mallory" };
	const char *gnames[] = { "iamusers", "admins", "ops", "empty", "x" };

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	for (round = 0; round < 20000; round++) {
		memcpy(p, b.buf, b.len);
		for (k = 0; k < 1 + round % 4; k++) {
			size_t at = IAM_NSSDB_SUMMED_FROM +
				    (size_t)rand_r(&seed) % (b.len - IAM_NSSDB_SUMMED_FROM);
			p[at] = (unsigned char)rand_r(&seed);
		}
		reseal(p, b.len);
		if (iam_nssdb_open_mem(p, b.len, &db) != 0)
			continue;
		for (k = 0; k < 4; k++)
			if (iam_nssdb_user_by_name(&db, names[k], &u) == 0) {
				cr_assert_str_eq(u.name, names[k]);
				cr_assert((const unsigned char *)u.shell >= p &&
					  (const unsigned char *)u.shell < p + b.len);
			}
		for (k = 70000; k < 70005; k++)
			if (iam_nssdb_user_by_uid(&db, k, &u) == 0)
				cr_assert_eq(u.uid, k);
		for (k = 0; k < 5; k++)
			if (iam_nssdb_group_by_name(&db, gnames[k], &g) == 0)
				cr_assert_str_eq(g.name, gnames[k]);
		for (k = 0; k < db.n_users; k++)
			(void)iam_nssdb_user_at(&db, k, &u);
	}
	free(p);
	iam_buf_release(&b);
}

/* ---- Through the link current (the reader's path on a published host) ---- */

Test(nssdb, opened_through_current_only_when_the_link_and_its_folders_are_roots)
{
	struct iam_nssdb db;
	struct iam_buf b = IAM_BUF_INIT;
	int fd;

	fx_nss_fresh();
	fx_nss_snapshot_dir();
	build_fixture(&b, 7);
	cr_assert(mkdir(IAM_SNAPSHOT_DIR "/gen", 0755) == 0 || errno == EEXIST);
	cr_assert(mkdir(IAM_SNAPSHOT_DIR "/gen/7", 0755) == 0 || errno == EEXIST);
	fd = open(IAM_SNAPSHOT_DIR "/gen/7/nss.db", O_WRONLY | O_CREAT | O_TRUNC |
		  O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b.buf, b.len), (ssize_t)b.len);
	close(fd);
	unlink(IAM_SNAPSHOT_DIR "/current");
	cr_assert_eq(symlink("gen/7", IAM_SNAPSHOT_DIR "/current"), 0);
	memset(&db, 0, sizeof(db));
	cr_assert_eq(iam_nssdb_open(IAM_NSS_DB_CURRENT, &db, NULL), 0);
	cr_assert_eq(db.generation, 7);
	iam_nssdb_close(&db);
	/* Whoever may write the link's folder could point it anywhere. */
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR, 0777), 0);
	cr_assert_eq(iam_nssdb_open(IAM_NSS_DB_CURRENT, &db, NULL), -EPERM);
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR, 0755), 0);
	/* The generation's folder itself. */
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR "/gen/7", 0777), 0);
	cr_assert_eq(iam_nssdb_open(IAM_NSS_DB_CURRENT, &db, NULL), -EPERM);
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR "/gen/7", 0755), 0);
	/* A link that is not root's. */
	cr_assert_eq(lchown(IAM_SNAPSHOT_DIR "/current", 1, 1), 0);
	cr_assert_eq(iam_nssdb_open(IAM_NSS_DB_CURRENT, &db, NULL), -EPERM);
	cr_assert_eq(lchown(IAM_SNAPSHOT_DIR "/current", 0, 0), 0);
	cr_assert_eq(iam_nssdb_open(IAM_NSS_DB_CURRENT, &db, NULL), 0);
	iam_nssdb_close(&db);
	unlink(IAM_SNAPSHOT_DIR "/current");
	iam_buf_release(&b);
}
