/*
 * test_authdb.c - the private snapshot auth.db: build, strict open,
 * lookup of every field, flat lookups, corruption answered -EBADMSG.
 */
#include "fixtures.h"

static struct fx_identity ident;

static void
build(struct iam_buf *b, size_t n)
{
	static struct fx_user u[64];
	static char names[64][32];

	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "user%zu", i);
		u[i] = (struct fx_user){ names[i], 70000 + (uint32_t)i,
			"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$tnSYvahCwPBHKZUspmcxMfb0.WiB9W.zEaKlOBL35rC",
			i % 2 ? FX_SECRET : NULL, IAM_TOTP_SHA256, 8, i == 3 };
	}
	fx_identity_init(&ident, u, n, 5, 900);
	cr_assert_eq(iam_authdb_build(&ident.id, 42, b), 0);
}

static void
write_db(const char *dir, const struct iam_buf *b)
{
	char path[256];

	fx_mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	fx_write(path, b->buf, b->len, 0600);
}

static char dir[64];

static void
setup(void)
{
	fx_tmpdir(dir, sizeof(dir), "authdb", 0700);
}

static void
teardown(void)
{
	fx_rmtree(dir);
	fx_identity_release(&ident);
}

TestSuite(authdb, .init = setup, .fini = teardown);

Test(authdb, every_field_round_trips)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;

	build(&b, 8);
	write_db(dir, &b);
	cr_assert_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), 0);
	cr_expect_eq(iam_authdb_generation(db), 42);
	cr_expect_eq(iam_authdb_count(db), 8);
	cr_assert_eq(iam_authdb_lookup(db, "user3", &u), 0);
	db = iam_authdb_close(db);	/* the record outlives the mapping */
	cr_expect_str_eq(u->name, "user3");
	cr_expect_eq(u->uid, 70003);
	cr_expect_eq(u->gid, 70100);
	cr_expect_str_eq(u->primary_group, "staff");
	cr_expect(u->disabled);
	cr_expect_str_eq(u->password_hash, ident.users[3].password.hash);
	cr_expect_str_eq(u->mfa_secret, FX_SECRET);
	cr_expect_eq(u->mfa_algorithm, IAM_TOTP_SHA256);
	cr_expect_eq(u->mfa_digits, 8);
	cr_expect_eq(u->mfa_period, 30);
	cr_assert_eq(u->n_groups, 1);
	cr_expect_str_eq(u->groups[0], "admins");
	cr_assert_eq(u->n_tags, 1);
	cr_expect_str_eq(u->tags[0].key, "Team");
	cr_expect_str_eq(u->tags[0].value, "payments");
	cr_expect_str_eq(u->account_id, FX_ACCOUNT);
	cr_expect_str_eq(u->account_alias, FX_ALIAS);
	cr_expect_eq(u->password_policy.lockout.max_failed_attempts, 5);
	cr_expect_eq(u->password_policy.lockout.lockout_seconds, 900);
	/* Own managed, then the groups' (admins has SudoAll), then inline. */
	cr_assert_eq(u->n_policies, 3);
	cr_expect_eq(u->policies[0].kind, IAM_AUTH_POLICY_MANAGED);
	cr_expect_str_eq(u->policies[0].name, "DevHostAccess");
	cr_expect(strstr(u->policies[0].json, "host:Login") != NULL);
	cr_expect_eq(u->policies[1].kind, IAM_AUTH_POLICY_GROUP);
	cr_expect_str_eq(u->policies[1].name, "SudoAll");
	cr_expect_str_eq(u->policies[1].via, "admins");
	cr_expect_eq(u->policies[2].kind, IAM_AUTH_POLICY_INLINE);
	cr_expect_str_eq(u->policies[2].name, "NoSudo");
	cr_expect(strstr(u->policies[2].json, "\"Deny\"") != NULL);
	cr_expect_eq(strlen(u->policies[2].json), u->policies[2].json_len);
	iam_auth_user_free(u);
	cr_assert_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), 0);
	cr_assert_eq(iam_authdb_lookup(db, "user2", &u), 0);
	cr_expect_null(u->mfa_secret);
	cr_expect(!u->disabled);
	u = iam_auth_user_free(u);
	cr_expect_eq(iam_authdb_lookup(db, "nobody", &u), -ENOENT);
	cr_expect_eq(iam_authdb_lookup(db, "../etc", &u), -ENOENT);
	cr_expect_null(u);
	iam_authdb_close(db);
	cr_expect_null(iam_auth_user_free(NULL));
	cr_expect_null(iam_authdb_close(NULL));
	iam_buf_wipe(&b);
}

Test(authdb, every_truncation_and_flipped_byte_is_refused_or_harmless)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_authdb *db;
	struct iam_auth_user *u;
	char path[256];

	build(&b, 4);
	write_db(dir, &b);
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	for (size_t cut = 0; cut < b.len; cut += 7) {
		fx_write(path, b.buf, cut, 0600);
		db = NULL;
		cr_expect_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0),
			     -EBADMSG, "truncated at %zu", cut);
		iam_authdb_close(db);
	}
	for (size_t at = 0; at < b.len; at++) {
		int r;

		b.buf[at] ^= 0x40;
		fx_write(path, b.buf, b.len, 0600);
		b.buf[at] ^= 0x40;
		db = NULL;
		r = iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0);
		if (r == 0) {
			for (int i = 0; i < 4; i++) {
				char name[16];

				snprintf(name, sizeof(name), "user%d", i);
				u = NULL;
				r = iam_authdb_lookup(db, name, &u);
				/* Found intact, or refused: never wrong. */
				cr_expect(r == 0 || r == -EBADMSG ||
					  r == -ENOENT, "byte %zu: %d", at, r);
				if (r == 0) {
					cr_expect_str_eq(u->name, name);
					cr_expect_eq(u->uid, 70000u + (uint32_t)i);
				}
				iam_auth_user_free(u);
			}
		} else {
			cr_expect_eq(r, -EBADMSG, "byte %zu: %d", at, r);
		}
		iam_authdb_close(db);
	}
	iam_buf_wipe(&b);
}

Test(authdb, insecure_files_are_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_authdb *db = NULL;
	char path[256], link[256], err[256];

	build(&b, 2);
	write_db(dir, &b);
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_expect_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, err, sizeof(err)),
		     -EPERM);
	cr_expect(strstr(err, "readable") != NULL, "%s", err);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	snprintf(link, sizeof(link), "%s/real", dir);
	cr_assert_eq(rename(path, link), 0);
	cr_assert_eq(symlink(link, path), 0);
	cr_expect_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), -ELOOP);
	cr_assert_eq(unlink(path), 0);
	cr_expect_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), -ENOENT);
	cr_expect_null(db);
	iam_buf_wipe(&b);
}
