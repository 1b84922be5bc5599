/*
 * fuzz_nssdb.c - libFuzzer target on the nss.db reader (libiam/snapshot/nssdb.c),
 * the code every process runs on the snapshot.
 *
 * The first input byte picks the mode: odd, the rest is used as is; even,
 * every checksum (header, records, gids, slots) is recomputed first, so the
 * fuzzer gets past them and reaches the structure checks and the lookups.  Whatever the reader
 * accepts must answer consistently: an entry found by name has that
 * name, by id that id, and every string lies inside the input, whether
 * the lookup reads the user's gids (getgrouplist) or not (getpwnam).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nssdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
inside(const struct iam_nssdb *db, const char *s, size_t len)
{
	const char *b = (const char *)db->base;

	check(s >= b && s + len < b + db->size && s[len] == '\0');
}

static void
walk(const struct iam_nssdb *db)
{
	struct iam_nssdb_user u, v;
	struct iam_nssdb_group g, h;
	const char *name;
	size_t len;
	uint32_t i, k;

	for (i = 0; i < db->n_users && i < 4096; i++) {
		if (iam_nssdb_user_at(db, i, &u) != 0)
			continue;
		inside(db, u.name, u.name_len);
		inside(db, u.gecos, u.gecos_len);
		inside(db, u.home, u.home_len);
		inside(db, u.shell, u.shell_len);
		for (k = 0; k < u.n_gids; k++)
			check((const unsigned char *)&u.gids[k] >= db->base &&
			      (const unsigned char *)(&u.gids[k] + 1) <= db->base + db->size);
		if (iam_nssdb_user_by_name(db, u.name, &v) == 0)
			check(v.name_len == u.name_len && !strcmp(v.name, u.name));
		if (iam_nssdb_user_by_uid(db, u.uid, &v) == 0)
			check(v.uid == u.uid);
		if (iam_nssdb_user(db, u.name, 0, 0, &v) == 0) {
			check(v.name_len == u.name_len && !strcmp(v.name, u.name));
			check(v.gids == NULL && v.n_gids == 0);
			inside(db, v.shell, v.shell_len);
		}
		if (iam_nssdb_user(db, NULL, u.uid, 0, &v) == 0)
			check(v.uid == u.uid && v.gids == NULL);
	}
	for (i = 0; i < db->n_groups && i < 4096; i++) {
		if (iam_nssdb_group_at(db, i, &g) != 0)
			continue;
		inside(db, g.name, g.name_len);
		for (k = 0; k < g.n_members && k < 4096; k++)
			if (iam_nssdb_group_member(db, &g, k, &name, &len) == 0)
				inside(db, name, len);
		if (iam_nssdb_group_by_name(db, g.name, &h) == 0)
			check(!strcmp(h.name, g.name));
		if (iam_nssdb_group_by_gid(db, g.gid, &h) == 0)
			check(h.gid == g.gid);
	}
	if (iam_nssdb_user_by_name(db, "alice", &u) == 0)
		check(!strcmp(u.name, "alice"));
	if (iam_nssdb_user_by_uid(db, 70001, &u) == 0)
		check(u.uid == 70001);
	if (iam_nssdb_user(db, "alice", 0, 0, &u) == 0) {
		check(!strcmp(u.name, "alice"));
		inside(db, u.gecos, u.gecos_len);
		inside(db, u.home, u.home_len);
	}
	if (iam_nssdb_user(db, NULL, 70001, 0, &u) == 0) {
		check(u.uid == 70001);
		inside(db, u.name, u.name_len);
	}
	if (iam_nssdb_group_by_gid(db, 80001, &g) == 0)
		check(g.gid == 80001);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iam_nssdb db;
	unsigned char *p;
	int reseal;

	if (size < 1)
		return 0;
	reseal = (data[0] & 1) == 0;
	data++;
	size--;
	/* an exact-size heap copy: ASan sees any read past the end */
	p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	if (reseal)
		(void)iam_nssdb_seal(p, size);
	if (iam_nssdb_open_mem(p, size, &db) == 0)
		walk(&db);
	free(p);
	return 0;
}
