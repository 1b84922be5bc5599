/*
 * fuzz_snapshots.c - libFuzzer target on the snapshot builders and their
 * readers together: every identity the loader accepts is built into
 * auth.db and nss.db, each read back, and must answer exactly what the
 * model holds (every user by name, and by uid in nss.db, with its uid,
 * gid and groups; every group by name and gid with its members; no
 * answer for a name that is not there).  Inputs the loader refuses stop
 * there.  Host checks read the empty host folder tests/fuzz/host.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iam.h"
#include "iam/nssdb_write.h"
#include "nssdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_authdb(const struct iam_identity *id, const struct iam_buf *b)
{
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;

	check(iam_authdb_open_buffer(b->buf, b->len, &db) == 0);
	check(iam_authdb_count(db) == id->n_users);
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *m = &id->users[i];

		check(iam_authdb_lookup(db, m->name, &u) == 0);
		check(strcmp(u->name, m->name) == 0 && u->uid == m->uid &&
		      u->gid == m->gid && u->n_groups == m->n_groups &&
		      u->disabled == m->disabled);
		for (size_t k = 0; k < m->n_groups; k++)
			check(strcmp(u->groups[k], m->groups[k]) == 0);
		u = iam_auth_user_free(u);
	}
	check(iam_authdb_lookup(db, "no-such-user.", &u) == -ENOENT);
	iam_authdb_close(db);
}

static void
check_nssdb(const struct iam_identity *id, const struct iam_buf *b)
{
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	void *copy;

	/* the reader wants the file's alignment, as a mapping has */
	copy = aligned_alloc(8, (b->len + 7) & ~(size_t)7);
	check(copy != NULL);
	memcpy(copy, b->buf, b->len);
	check(iam_nssdb_open_mem(copy, b->len, &db) == 0);
	check(db.n_users == id->n_users && db.n_groups == id->n_groups);
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *m = &id->users[i];

		check(iam_nssdb_user_by_name(&db, m->name, &u) == 0);
		check(strcmp(u.name, m->name) == 0 && u.uid == m->uid &&
		      u.gid == m->gid);
		check(iam_nssdb_user_by_uid(&db, m->uid, &u) == 0);
		check(strcmp(u.name, m->name) == 0);
	}
	for (size_t i = 0; i < id->n_groups; i++) {
		const struct iam_group *m = &id->groups[i];

		check(iam_nssdb_group_by_name(&db, m->name, &g) == 0);
		check(strcmp(g.name, m->name) == 0 && g.gid == m->gid);
		check(iam_nssdb_group_by_gid(&db, m->gid, &g) == 0);
		check(strcmp(g.name, m->name) == 0);
		for (uint32_t k = 0; k < g.n_members; k++) {
			const char *name;
			size_t len;

			check(iam_nssdb_group_member(&db, &g, k, &name,
						     &len) == 0);
			check(strlen(name) == len);
		}
	}
	check(iam_nssdb_user_by_name(&db, "no-such-user.", &u) == -ENOENT);
	free(copy);
}

/* iam_nssdb_write() gives the bytes iam_nssdb_build() gave. */
static void
check_written(const struct iam_identity *id, const struct iam_buf *b)
{
	static int fd = -1;
	char *back = malloc(b->len + 1);
	bool io = true;

	if (fd < 0)
		fd = memfd_create("fuzz-nssdb", MFD_CLOEXEC);
	check(fd >= 0 && back != NULL && ftruncate(fd, 0) == 0 &&
	      lseek(fd, 0, SEEK_SET) == 0);
	check(iam_nssdb_write(id, 7, fd, &io) == 0 && !io);
	check(lseek(fd, 0, SEEK_END) == (off_t)b->len);
	check(pread(fd, back, b->len + 1, 0) == (ssize_t)b->len);
	check(memcmp(back, b->buf, b->len) == 0);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iam_config *cfg;
	struct iam_identity *id = NULL;
	struct iam_buf b = IAM_BUF_INIT;

	if (cfg == NULL && iam_config_defaults(&cfg) < 0)
		abort();
	if (iam_identity_parse((const char *)data, size, cfg, FUZZ_HOST_ROOT,
			       &id, NULL) != 0)
		return 0;
	check(iam_authdb_build(id, 7, &b) == 0);
	check_authdb(id, &b);
	iam_buf_wipe(&b);
	check(iam_nssdb_build(id, 7, &b) == 0);
	check_nssdb(id, &b);
	check_written(id, &b);
	iam_buf_release(&b);
	iam_identity_free(id);
	return 0;
}
