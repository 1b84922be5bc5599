/*
 * test_nss_fixture.h - hand-made identities for the nss.db tests, and
 * publishing them at the module's fixed path IAM_NSS_DB (the tests run in
 * a private mount namespace where /var is a throw-away overlay).
 */
#ifndef TEST_NSS_FIXTURE_H
#define TEST_NSS_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam/snapshot.h"
#include "nssdb.h"

struct fx_user {
	const char *name;
	uint32_t uid, gid;
	const char *gecos, *home, *shell;
	const char *groups[8];	/* NULL-terminated */
};

struct fx_group {
	const char *name;
	uint32_t gid;
};

/* alice and bob in iamusers; alice also in admins and ops. */
static const struct fx_user fx_users[] = {
	{ "alice", 70001, 80001, "Alice Liddell", "/home/alice", "/bin/bash",
	  { "iamusers", "admins", "ops", NULL } },
	{ "bob", 70002, 80001, "", "/home/bob", "/bin/sh",
	  { "iamusers", NULL } },
	{ "carol", 70003, 80004, "Carol", "/home/carol", "/bin/zsh",
	  { NULL } },
};
static const struct fx_group fx_groups[] = {
	{ "iamusers", 80001 }, { "admins", 80002 }, { "ops", 80003 },
	{ "empty", 80004 },
};
#define FX_NUSERS (sizeof(fx_users) / sizeof(fx_users[0]))
#define FX_NGROUPS (sizeof(fx_groups) / sizeof(fx_groups[0]))

static inline struct iam_identity *
fx_identity(const struct fx_user *u, size_t nu, const struct fx_group *g,
	    size_t ng)
{
	struct iam_identity *id = calloc(1, sizeof(*id));
	size_t i, k;

	cr_assert_not_null(id);
	id->users = calloc(nu + 1, sizeof(*id->users));
	id->groups = calloc(ng + 1, sizeof(*id->groups));
	cr_assert(id->users && id->groups);
	for (i = 0; i < nu; i++) {
		struct iam_user *x = &id->users[i];

		x->name = u[i].name;
		x->uid = u[i].uid;
		x->gid = u[i].gid;
		x->gecos = u[i].gecos;
		x->home = u[i].home;
		x->shell = u[i].shell;
		for (k = 0; u[i].groups[k] != NULL; k++)
			;
		x->groups = (const char **)u[i].groups;
		x->n_groups = k;
	}
	for (i = 0; i < ng; i++) {
		id->groups[i].name = g[i].name;
		id->groups[i].gid = g[i].gid;
	}
	id->n_users = nu;
	id->n_groups = ng;
	return id;
}

static inline void
fx_identity_free(struct iam_identity *id)
{
	if (id == NULL)
		return;
	free(id->users);
	free(id->groups);
	free(id);
}

static inline void
fx_build(const struct iam_identity *id, uint64_t gen, struct iam_buf *out)
{
	int r = iam_nssdb_build(id, gen, out);

	cr_assert_eq(r, 0, "iam_nssdb_build: %s", strerror(-r));
}

/* The folder of IAM_NSS_DB, root 0755, as the publisher leaves it. */
static inline void
fx_snapshot_dir(void)
{
	if (mkdir(IAM_SNAPSHOT_DIR, 0755) != 0)
		cr_assert_eq(errno, EEXIST, "mkdir %s: %s", IAM_SNAPSHOT_DIR,
			     strerror(errno));
	cr_assert_eq(chown(IAM_SNAPSHOT_DIR, 0, 0), 0);
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR, 0755), 0);
}

/* Write len bytes as IAM_NSS_DB, by rename like the publisher, mode 0644. */
static inline void
fx_publish_bytes(const void *p, size_t len, mode_t mode)
{
	char tmp[] = IAM_SNAPSHOT_DIR "/.nss.db.XXXXXX";
	int fd;

	fx_snapshot_dir();
	fd = mkstemp(tmp);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(rename(tmp, IAM_NSS_DB), 0, "rename: %s", strerror(errno));
}

static inline void
fx_publish(const struct iam_identity *id, uint64_t gen)
{
	struct iam_buf b = IAM_BUF_INIT;

	fx_build(id, gen, &b);
	fx_publish_bytes(b.buf, b.len, 0644);
	iam_buf_release(&b);
}

/* The fixed path is only safe to touch inside scripts/run-unit.sh's namespace. */
static inline void
fx_need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root in a private namespace (scripts/run-unit.sh)");
	if (access("/proc/1/ns/mnt", F_OK) == 0) {
		char a[64] = "", b[64] = "";

		if (readlink("/proc/self/ns/mnt", a, sizeof(a) - 1) > 0 &&
		    readlink("/proc/1/ns/mnt", b, sizeof(b) - 1) > 0 &&
		    strcmp(a, b) == 0)
			cr_skip_test("refusing to write " IAM_NSS_DB
				     " in the host's mount namespace");
	}
	/* the tests of one binary share the namespace: start from nothing */
	if (unlink(IAM_NSS_DB) != 0 && errno == EISDIR)
		rmdir(IAM_NSS_DB);
	if (rmdir(IAM_NSS_DB) != 0 && errno != ENOENT && errno != ENOTDIR)
		cr_assert_fail("cannot clear %s: %s", IAM_NSS_DB, strerror(errno));
	fx_snapshot_dir();
}

#endif
