/*
 * test_nssdb.c - the nss.db builder and reader (libiam/nssdb_write.c,
 * libiam/nssdb.c) in memory: round trip, refusals of the builder, and bad
 * snapshots (empty, truncated, flipped bytes, huge counts, offsets past
 * the end), none of which may crash or give a wrong answer.
 */
#include <stdint.h>

#include "test_nss_fixture.h"

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
	struct iam_identity *id = fx_identity(fx_users, FX_NUSERS, fx_groups,
					      FX_NGROUPS);

	fx_build(id, gen, b);
	fx_identity_free(id);
}

/* n users u0..u(n-1), each in 3 of ng groups: a snapshot of some KiB. */
static void
build_many(struct iam_buf *b, size_t n, size_t ng)
{
	struct fx_user *u = calloc(n, sizeof(*u));
	struct fx_group *g = calloc(ng, sizeof(*g));
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
		u[i] = (struct fx_user){ un[i], 60000 + (uint32_t)i,
					 90000 + (uint32_t)(i % ng), "gecos",
					 "/home/x", "/bin/sh",
					 { gn[i % ng], gn[(i + 1) % ng],
					   gn[(i * 7) % ng], NULL } };
	}
	id = fx_identity(u, n, g, ng);
	fx_build(id, 7, b);
	fx_identity_free(id);
	free(u);
	free(g);
	free(un);
	free(gn);
}

/* Recompute the checksum after a deliberate edit, so the structure is tested. */
static void
reseal(unsigned char *p, size_t n)
{
	uint64_t sum = iam_nssdb_checksum(p + IAM_NSSDB_SUMMED_FROM,
					  n - IAM_NSSDB_SUMMED_FROM);

	memcpy(p + offsetof(struct iam_nssdb_header, checksum), &sum, 8);
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
	struct iam_identity *id = fx_identity(NULL, 0, NULL, 0);
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;

	fx_build(id, 3, &b);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -ENOENT);
	cr_expect_eq(iam_nssdb_user_by_uid(&db, 1, &u), -ENOENT);
	cr_expect_eq(iam_nssdb_group_by_gid(&db, 1, &g), -ENOENT);
	cr_expect_eq(iam_nssdb_user_at(&db, 0, &u), -ENOENT);
	iam_buf_release(&b);
	fx_identity_free(id);
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
	struct fx_user u[2];
	struct fx_group g[2] = { { "g", 1000 }, { "h", 1001 } };
	struct iam_identity *id;
	struct iam_buf b = IAM_BUF_INIT;

	struct { const char *why; struct fx_user a, c; const struct fx_group *gr; } cases[] = {
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
	struct fx_group dup[2] = { { "g", 1000 }, { "g", 1001 } };
	struct fx_group dupgid[2] = { { "g", 1000 }, { "h", 1000 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u[0] = cases[i].a;
		u[1] = cases[i].c;
		id = fx_identity(u, 2, cases[i].gr, 2);
		cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "%s", cases[i].why);
		cr_expect_eq(b.len, 0, "%s: nothing written", cases[i].why);
		fx_identity_free(id);
	}
	u[0] = cases[0].a;
	u[1] = cases[1].c;
	u[1].name = "y";
	u[1].uid = 2;
	id = fx_identity(u, 2, dup, 2);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "same group name");
	fx_identity_free(id);
	id = fx_identity(u, 2, dupgid, 2);
	cr_expect_eq(iam_nssdb_build(id, 1, &b), -EINVAL, "same gid");
	fx_identity_free(id);
	cr_expect_eq(b.len, 0);
	iam_buf_release(&b);
}

Test(nssdb, builder_drops_a_group_listed_twice)
{
	struct fx_user u[1] = { { "x", 1, 1000, "", "/", "/bin/sh",
				  { "g", "h", "g", NULL } } };
	struct fx_group g[2] = { { "g", 1000 }, { "h", 1001 } };
	struct iam_identity *id = fx_identity(u, 1, g, 2);
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user x;
	struct iam_nssdb_group gr;

	fx_build(id, 1, &b);
	cr_assert_eq(iam_nssdb_open_mem(b.buf, b.len, &db), 0);
	cr_assert_eq(iam_nssdb_user_by_name(&db, "x", &x), 0);
	cr_expect_eq(x.n_gids, 2);
	cr_assert_eq(iam_nssdb_group_by_name(&db, "g", &gr), 0);
	cr_expect_eq(gr.n_members, 1);
	iam_buf_release(&b);
	fx_identity_free(id);
}

Test(nssdb, snapshot_holds_no_secret)
{
	struct fx_user fu[1] = { { "x", 1, 1000, "", "/", "/bin/sh", { NULL } } };
	struct fx_group fg[1] = { { "g", 1000 } };
	struct iam_identity *id = fx_identity(fu, 1, fg, 1);
	struct iam_buf b = IAM_BUF_INIT;
	char hash[] = "$y$j9T$SECRETHASHSECRETHASH", totp[] = "JBSWY3DPEHPK3PXPJBSWY3DP";

	id->users[0].password.hash = hash;
	id->users[0].mfa.secret = totp;
	fx_build(id, 1, &b);
	cr_expect_null(memmem(b.buf, b.len, "SECRETHASH", 10));
	cr_expect_null(memmem(b.buf, b.len, "JBSWY3DP", 8));
	iam_buf_release(&b);
	fx_identity_free(id);
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

Test(nssdb, every_byte_flipped_is_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	size_t i;
	int bit;

	build_fixture(&b, 9);
	p = copy8(b.buf, b.len);
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			p[i] ^= (unsigned char)(1u << bit);
			cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG,
				     "byte %zu bit %d", i, bit);
			p[i] ^= (unsigned char)(1u << bit);
		}
	cr_expect_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, flipped_bytes_in_a_large_snapshot_are_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	unsigned char *p;
	size_t i, step;

	build_many(&b, 2000, 100);
	p = copy8(b.buf, b.len);
	step = b.len / 3000 + 1;
	for (i = 0; i < b.len; i += step) {
		p[i] ^= 0x5a;
		cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), -EBADMSG,
			     "byte %zu", i);
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

		if (f == 1 || f == 2)	/* uid, gid: any value is a value */
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

	/* a member index past the users */
	memcpy(p, b.buf, b.len);
	((uint32_t *)(void *)(p + hdr(p)->sect[IAM_NSSDB_MEMBERS].off))[0] = 77;
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_assert_eq(iam_nssdb_group_by_gid(&db, 80001, &g), 0);
	{
		const char *n;
		size_t len;

		cr_expect_eq(iam_nssdb_group_member(&db, &g, 0, &n, &len), -EBADMSG);
	}
	free(p);
	iam_buf_release(&b);
}

Test(nssdb, damaged_index_never_returns_another_entry)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	unsigned char *p;
	uint32_t *ht, slots, i;

	build_fixture(&b, 1);
	p = copy8(b.buf, b.len);
	/* every slot of the name index points at bob */
	ht = (uint32_t *)(void *)(p + hdr(p)->sect[IAM_NSSDB_USER_NAME_HT].off);
	slots = hdr(p)->sect[IAM_NSSDB_USER_NAME_HT].size / 4;
	for (i = 0; i < slots; i++)
		ht[i] = 2;
	reseal(p, b.len);
	cr_assert_eq(iam_nssdb_open_mem(p, b.len, &db), 0);
	cr_expect_eq(iam_nssdb_user_by_name(&db, "alice", &u), -ENOENT,
		     "a full table ends the probe, and never says bob");
	cr_assert_eq(iam_nssdb_user_by_name(&db, "bob", &u), 0);
	cr_expect_eq(u.uid, 70002);
	/* slots pointing past the records */
	for (i = 0; i < slots; i++)
		ht[i] = 0xffffffffu;
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

	fx_need_root();
	fx_snapshot_dir();
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
