/*
 * test_keysdb.c - keys.db: exactly the Active, unexpired keys of enabled
 * users; nothing for anyone else; damage refused, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "iam/keys.h"

#define DAY 86400
#define NOW (int64_t)1800000000

static struct iam_ssh_key alice_keys[] = {
	{ "new", "ssh-ed25519 AAAAnew alice@laptop", NOW - 10 * DAY, true },
	{ "old", "ssh-ed25519 AAAAold alice@old", NOW - 100 * DAY, true },
	{ "off", "ssh-ed25519 AAAAoff alice@off", NOW - 1 * DAY, false },
};
static struct iam_ssh_key bob_keys[] = {
	{ "k", "ssh-ed25519 AAAAbob bob@x", NOW - DAY, true },
};
static struct iam_user users[] = {
	{ .name = "alice", .uid = 70001, .ssh_keys = alice_keys, .n_ssh_keys = 3 },
	{ .name = "bob", .uid = 70002, .ssh_keys = bob_keys, .n_ssh_keys = 1,
	  .disabled = true },
	{ .name = "carol", .uid = 70003 },
};

static char dir[] = "/tmp/iam-keys.XXXXXX";
static char path[256];

static void
publish(uint32_t max_days)
{
	struct iam_identity id = { .users = users, .n_users = 3 };
	struct iam_buf b = IAM_BUF_INIT;
	FILE *f;

	id.password_policy.ssh_key_max_age_days = max_days;
	cr_assert_eq(iam_keysdb_build(&id, 7, &b), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b.buf, 1, b.len, f), b.len);
	fclose(f);
	chmod(path, 0644);
	iam_buf_release(&b);
}

static int
lookup(const char *name, int64_t now, char *out, size_t outlen)
{
	char err[256];
	FILE *f = fmemopen(out, outlen, "w");
	int r;

	memset(out, 0, outlen);
	r = iam_keysdb_print(path, IAM_STRICT_ANY_OWNER, name, now, f, err,
			     sizeof(err));
	fclose(f);
	return r;
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/keys.db", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(keysdb, .init = setup, .fini = teardown);

Test(keysdb, prints_active_unexpired_keys_only)
{
	char out[1024];

	publish(90);
	cr_assert_eq(lookup("alice", NOW, out, sizeof(out)), 1);
	cr_expect_str_eq(out, "ssh-ed25519 AAAAnew alice@laptop\n");
	publish(0);
	cr_assert_eq(lookup("alice", NOW, out, sizeof(out)), 2,
		     "no maximum age: the old key still works");
	cr_expect(strstr(out, "AAAAold") != NULL);
	cr_expect(strstr(out, "AAAAoff") == NULL, "inactive key printed");
}

Test(keysdb, keys_expire_by_themselves)
{
	char out[1024];

	publish(90);
	cr_assert_eq(lookup("alice", NOW + 81 * DAY, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "");
}

Test(keysdb, nothing_for_unknown_disabled_or_keyless_users)
{
	char out[1024];

	publish(0);
	cr_expect_eq(lookup("bob", NOW, out, sizeof(out)), 0, "disabled user");
	cr_expect_eq(lookup("carol", NOW, out, sizeof(out)), 0);
	cr_expect_eq(lookup("mallory", NOW, out, sizeof(out)), 0);
	cr_expect_eq(lookup("../etc/passwd", NOW, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "");
}

Test(keysdb, insecure_or_missing_snapshot_prints_nothing)
{
	char out[1024], err[256];
	FILE *f;

	publish(0);
	chmod(path, 0666);
	f = fmemopen(out, sizeof(out), "w");
	cr_expect_eq(iam_keysdb_print(path, IAM_STRICT_ANY_OWNER, "alice", NOW,
				      f, err, sizeof(err)), -EPERM);
	fclose(f);
	cr_expect(strstr(err, "writable") != NULL, "%s", err);
	unlink(path);
	cr_expect_eq(lookup("alice", NOW, out, sizeof(out)), -ENOENT);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_expect_eq(lookup("alice", NOW, out, sizeof(out)), -ELOOP);
}

Test(keysdb, every_flipped_byte_and_truncation_is_refused_or_harmless)
{
	struct iam_identity id = { .users = users, .n_users = 3 };
	struct iam_buf b = IAM_BUF_INIT;
	char out[4096];

	cr_assert_eq(iam_keysdb_build(&id, 1, &b), 0);
	for (size_t i = 0; i < b.len; i++) {
		FILE *f = fopen(path, "w");
		int r;

		b.buf[i] ^= 0x5a;
		fwrite(b.buf, 1, b.len, f);
		fclose(f);
		b.buf[i] ^= 0x5a;
		r = lookup("alice", NOW, out, sizeof(out));
		/* either refused, or exactly the right answer */
		if (r >= 0)
			cr_assert(r == 0 || strstr(out, "alice@") != NULL,
				  "wrong answer after flipping byte %zu", i);
		else
			cr_assert_eq(r, -EBADMSG, "byte %zu: %d", i, r);
		cr_assert(strstr(out, "bob@") == NULL);
	}
	for (size_t n = 0; n < b.len; n += 7) {
		FILE *f = fopen(path, "w");

		fwrite(b.buf, 1, n, f);
		fclose(f);
		cr_assert_eq(lookup("alice", NOW, out, sizeof(out)), -EBADMSG,
			     "truncated to %zu bytes", n);
	}
	iam_buf_release(&b);
}
