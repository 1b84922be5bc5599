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

#define K_NEW "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/7ITKabin+ku+cM0XSP2Ixzj9lv83Qri3FU6c/Bg0B"
#define K_OLD "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR7hbT8HyHd7FYYXUppQx79sErPOq71j+lK0sMJyEWn"
#define K_OFF "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAf92f7md56IZQZFf3ZNk7YvuBuz3Qdk2nh62jEfGP5O"
#define K_BOB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtbMc/5qFUZvQz40x4fEnpPfh06rWRPxkrNCEAJkb9i"

static struct iam_ssh_key alice_keys[] = {
	{ "new", K_NEW " alice@laptop", NOW - 10 * DAY, true },
	{ "old", K_OLD " alice@old", NOW - 100 * DAY, true },
	{ "off", K_OFF " alice@off", NOW - 1 * DAY, false },
};
static struct iam_ssh_key bob_keys[] = {
	{ "k", K_BOB " bob@x", NOW - DAY, true },
};
static struct iam_ssh_key dave_keys[] = {
	{ "undated", K_BOB " dave@x", 0, true },
};
static struct iam_user users[] = {
	{ .name = "alice", .uid = 70001, .ssh_keys = alice_keys, .n_ssh_keys = 3 },
	{ .name = "bob", .uid = 70002, .ssh_keys = bob_keys, .n_ssh_keys = 1,
	  .disabled = true },
	{ .name = "carol", .uid = 70003 },
	{ .name = "dave", .uid = 70004, .ssh_keys = dave_keys, .n_ssh_keys = 1 },
};
#define N_USERS (sizeof(users) / sizeof(users[0]))

/* The uid NSS would give name: the table's, or an unrelated one. */
static uint32_t
uid_of(const char *name)
{
	for (size_t i = 0; i < N_USERS; i++)
		if (strcmp(users[i].name, name) == 0)
			return users[i].uid;
	return 1000;
}

static char dir[] = "/tmp/iam-keys.XXXXXX";
static char path[256];

static void
publish(uint32_t max_days)
{
	struct iam_identity id = { .users = users, .n_users = N_USERS };
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
lookup_uid(const char *name, uint32_t uid, int64_t now, char *out,
	   size_t outlen)
{
	char err[256];
	FILE *f = fmemopen(out, outlen, "w");
	int r;

	memset(out, 0, outlen);
	r = iam_keysdb_print(path, IAM_STRICT_ANY_OWNER, name, uid, now, f,
			     err, sizeof(err));
	fclose(f);
	return r;
}

static int
lookup(const char *name, int64_t now, char *out, size_t outlen)
{
	return lookup_uid(name, uid_of(name), now, out, outlen);
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
	cr_expect_str_eq(out, K_NEW " alice@laptop\n");
	publish(0);
	cr_assert_eq(lookup("alice", NOW, out, sizeof(out)), 2,
		     "no maximum age: the old key still works");
	cr_expect_str_eq(out, K_NEW " alice@laptop\n" K_OLD " alice@old\n");
	cr_expect(strstr(out, "alice@off") == NULL, "inactive key printed");
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
	cr_expect_eq(iam_keysdb_print(path, IAM_STRICT_ANY_OWNER, "alice",
				      70001, NOW, f, err, sizeof(err)), -EPERM);
	fclose(f);
	cr_expect(strstr(err, "writable") != NULL, "%s", err);
	unlink(path);
	cr_expect_eq(lookup("alice", NOW, out, sizeof(out)), -ENOENT);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_expect_eq(lookup("alice", NOW, out, sizeof(out)), -ELOOP);
}

Test(keysdb, every_flipped_byte_and_truncation_is_refused_or_harmless)
{
	struct iam_identity id = { .users = users, .n_users = N_USERS };
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

Test(keysdb, expiry_is_exact_to_the_second)
{
	char out[1024];

	publish(90);
	/* K_NEW was created 10 days before NOW: it lives 80 more days. */
	cr_expect_eq(lookup("alice", NOW + 80 * DAY - 1, out, sizeof(out)), 1);
	cr_expect_eq(lookup("alice", NOW + 80 * DAY, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "");
}

Test(keysdb, a_key_without_creation_time_expires_under_a_maximum_age)
{
	char out[1024];

	publish(0);
	cr_expect_eq(lookup("dave", NOW, out, sizeof(out)), 1,
		     "no maximum age: an undated key works");
	publish(365);
	cr_expect_eq(lookup("dave", NOW, out, sizeof(out)), 0,
		     "an undated key under a maximum age must not live for ever");
	cr_expect_str_eq(out, "");
}

Test(keysdb, another_account_of_the_same_name_gets_no_key)
{
	char out[1024];

	publish(0);
	/* A local account "alice" (uid 1000) added after the IAM user. */
	cr_expect_eq(lookup_uid("alice", 1000, NOW, out, sizeof(out)), 0);
	cr_expect_eq(lookup_uid("alice", 0, NOW, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(lookup_uid("alice", 70001, NOW, out, sizeof(out)), 2);
}

Test(keysdb, lookup_cost_does_not_grow_with_users)
{
	enum { N = 20000 };
	struct iam_identity id = { 0 };
	struct iam_user *many = calloc(N, sizeof(*many));
	char (*names)[16] = calloc(N, sizeof(*names));
	struct iam_buf b = IAM_BUF_INIT;
	char out[1024];
	FILE *f;

	cr_assert(many != NULL && names != NULL);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "u%zu", i);
		many[i] = (struct iam_user){ .name = names[i],
			.uid = (uint32_t)(70000 + i),
			.ssh_keys = bob_keys, .n_ssh_keys = 1 };
	}
	id.users = many;
	id.n_users = N;
	cr_assert_eq(iam_keysdb_build(&id, 3, &b), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b.buf, 1, b.len, f), b.len);
	fclose(f);
	for (size_t i = 0; i < N; i += 997) {
		cr_assert_eq(lookup_uid(names[i], (uint32_t)(70000 + i), NOW,
					out, sizeof(out)), 1, "%s", names[i]);
		cr_assert_str_eq(out, K_BOB " bob@x\n");
	}
	cr_expect_eq(lookup_uid("u20000", 90000, NOW, out, sizeof(out)), 0);
	iam_buf_release(&b);
	free(many);
	free(names);
}

Test(keysdb, a_line_that_is_not_a_key_is_never_printed)
{
	static struct iam_ssh_key evil[] = {
		{ "x", "command=\"/bin/sh\" " K_NEW, NOW, true },
	};
	struct iam_user u = { .name = "eve", .uid = 70009, .ssh_keys = evil,
			      .n_ssh_keys = 1 };
	struct iam_identity id = { .users = &u, .n_users = 1 };
	struct iam_buf b = IAM_BUF_INIT;
	char out[1024];
	FILE *f;

	/* The builder trusts validation; the reader checks again. */
	cr_assert_eq(iam_keysdb_build(&id, 1, &b), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b.buf, 1, b.len, f), b.len);
	fclose(f);
	cr_expect_eq(lookup_uid("eve", 70009, NOW, out, sizeof(out)), -EBADMSG);
	cr_expect_str_eq(out, "");
	iam_buf_release(&b);
}

Test(keysdb, expiry_rule)
{
	struct iam_ssh_key k = { "k", K_NEW, NOW, true };

	cr_expect_eq(iam_ssh_key_expiry(&k, 0), 0, "no maximum: never");
	cr_expect_eq(iam_ssh_key_expiry(&k, 90), NOW + 90 * DAY);
	k.created = 0;
	cr_expect_eq(iam_ssh_key_expiry(&k, 90), 1, "undated: expired");
	k.created = -90 * DAY;
	cr_expect_eq(iam_ssh_key_expiry(&k, 90), 1,
		     "a date before 1970 must not turn into 'never'");
	k.created = INT64_MAX - DAY;
	cr_expect_eq(iam_ssh_key_expiry(&k, 36500), INT64_MAX, "no overflow");
}

/* pam_iam's question: is the key sshd accepted one of this user's? */
static int
has(const char *name, uint32_t uid, int64_t now, const char *key)
{
	char err[256] = "";

	return iam_keysdb_has_key(path, IAM_STRICT_ANY_OWNER, name, uid, now,
				  key, err, sizeof(err));
}

Test(keysdb, has_key_answers_for_active_unexpired_keys_of_that_uid_only)
{
	publish(90);
	/* sshd's SSH_AUTH_INFO_0 form: no comment, a newline after. */
	cr_expect_eq(has("alice", 70001, NOW, K_NEW "\n"), 1);
	cr_expect_eq(has("alice", 70001, NOW, K_NEW " another comment"), 1);
	cr_expect_eq(has("alice", 70001, NOW, K_OLD), 0, "expired key");
	cr_expect_eq(has("alice", 70001, NOW, K_OFF), 0, "inactive key");
	cr_expect_eq(has("alice", 70001, NOW, K_BOB), 0, "bob's key");
	cr_expect_eq(has("alice", 1000, NOW, K_NEW), 0, "another uid");
	cr_expect_eq(has("bob", 70002, NOW, K_BOB), 0, "disabled user");
	cr_expect_eq(has("nobody", 1000, NOW, K_NEW), 0);
	cr_expect_eq(has("alice", 70001, NOW + 81 * DAY, K_NEW), 0);
	/* A prefix of the key, or the type alone, is not the key. */
	cr_expect_eq(has("alice", 70001, NOW, "ssh-ed25519"), 0);
	cr_expect_eq(has("alice", 70001, NOW, "ssh-ed25519 AAAAC3Nz"), 0);
	cr_expect_eq(has("alice", 70001, NOW, ""), 0);
	publish(0);
	cr_expect_eq(has("alice", 70001, NOW, K_OLD), 1, "no maximum age");
	chmod(path, 0666);
	cr_expect_eq(has("alice", 70001, NOW, K_NEW), -EPERM);
}

Test(keysdb, key_comparison_ignores_comments_only)
{
	cr_expect(iam_ssh_key_same(K_NEW " a", K_NEW " b"));
	cr_expect(iam_ssh_key_same(K_NEW, K_NEW "\n"));
	cr_expect(!iam_ssh_key_same(K_NEW, K_OLD));
	cr_expect(!iam_ssh_key_same("ssh-rsa" K_NEW + 11, K_NEW));
	cr_expect(!iam_ssh_key_same("", ""));
	cr_expect_eq(iam_ssh_key_material_len(K_NEW " c"), strlen(K_NEW));
}
