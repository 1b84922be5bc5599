/*
 * test_authdb.c - the private snapshot auth.db: build, strict open,
 * lookup of every field, flat lookups, corruption answered -EBADMSG.
 */
#include "fixtures.h"
#include "authdb_format.h"
#include "util_int.h"

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

/* The file as iam_authdb_write() left it in dir/auth.db. */
static void
read_db(const char *path, struct iam_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(iam_buf_read_fd(out, fd, 64u << 20), 0);
	close(fd);
}

/*
 * Published, auth.db goes to its file through a small window: the bytes
 * are those built in memory, past several windows (long fields), with
 * devices and recovery codes; a write that fails is told from a build
 * that fails.
 */
Test(authdb, written_through_the_window_as_built_in_memory)
{
	static char gecos[3001];
	static struct iam_mfa dev[2];
	static char *codes[2] = {
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$tnSYvahCwPBHKZUspmcxMfb0.WiB9W.zEaKlOBL35rC",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$tnSYvahCwPBHKZUspmcxMfb0.WiB9W.zEaKlOBL35rD",
	};
	struct iam_buf mem = IAM_BUF_INIT, file = IAM_BUF_INIT;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	char path[256];
	bool io = true;
	int fd;

	build(&mem, 60);
	iam_buf_wipe(&mem);
	memset(gecos, 'g', sizeof(gecos) - 1);
	for (size_t i = 0; i < 60; i++)
		ident.users[i].gecos = gecos;
	dev[0] = (struct iam_mfa){ .secret = FX_SECRET, .name = "phone",
				   .enabled = 1700000000,
				   .algorithm = IAM_TOTP_SHA1, .digits = 6,
				   .period = 30 };
	dev[1] = (struct iam_mfa){ .secret = FX_SECRET, .name = "key",
				   .enabled = 1700000001,
				   .algorithm = IAM_TOTP_SHA512, .digits = 8,
				   .period = 60 };
	ident.users[5].mfa_devices = dev;
	ident.users[5].n_mfa_devices = 2;
	ident.users[5].recovery_codes = codes;
	ident.users[5].n_recovery_codes = 2;
	cr_assert_eq(iam_authdb_build(&ident.id, 42, &mem), 0);
	cr_assert_gt(mem.len, 3 * (64u << 10), "several windows: %zu", mem.len);

	fx_mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(iam_authdb_write(&ident.id, 42, fd, &io), 0);
	cr_expect(!io);
	close(fd);
	read_db(path, &file);
	cr_assert_eq(file.len, mem.len);
	cr_expect_eq(memcmp(file.buf, mem.buf, mem.len), 0);

	cr_assert_eq(iam_authdb_open_flags(dir, fx_strict_flags(), &db, NULL, 0), 0);
	cr_assert_eq(iam_authdb_lookup(db, "user5", &u), 0);
	cr_expect_str_eq(u->gecos, gecos);
	cr_assert_eq(u->n_mfa_devices, 3, "default, phone, key");
	cr_expect_str_eq(u->mfa_devices[1].name, "phone");
	cr_expect_str_eq(u->mfa_devices[2].name, "key");
	cr_expect_eq(u->mfa_devices[2].algorithm, IAM_TOTP_SHA512);
	cr_expect_eq(u->mfa_devices[2].period, 60);
	cr_expect_eq(u->mfa_devices[2].enabled, 1700000001);
	cr_assert_eq(u->n_recovery_codes, 2);
	cr_expect_str_eq(u->recovery_codes[1], codes[1]);
	iam_auth_user_free(u);
	iam_authdb_close(db);

	/* a file that cannot be written: the write's error, told as such */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	io = false;
	cr_expect_eq(iam_authdb_write(&ident.id, 42, fd, &io), -EBADF);
	cr_expect(io);
	/* an identity that cannot be built: a build error, not a write error
	   (a large one may have written its first window; the publication
	   removes the folder of the new generation either way) */
	ident.users[7].permissions_boundary = "NoSuchPolicy";
	cr_expect_eq(iam_authdb_write(&ident.id, 42, fd, &io), -EINVAL);
	cr_expect(!io);
	ident.users[7].permissions_boundary = NULL;
	close(fd);
	iam_buf_wipe(&mem);
	iam_buf_wipe(&file);
}

/*
 * Version 1 files (every part summed with FNV-1a) stay readable until
 * the next publication replaces them, and damage in them is still
 * refused.
 */
Test(authdb, a_version_1_file_is_read_and_checked)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	unsigned char *p;
	uint32_t nb, bk, off = 0, len = 0, npol, poltab, v1 = 1;
	uint64_t sum;

	build(&b, 8);
	p = (unsigned char *)b.buf;
	memcpy(&nb, p + H_NBUCKETS, 4);
	memcpy(&bk, p + H_BUCKETS, 4);
	memcpy(&npol, p + H_NPOL, 4);
	memcpy(&poltab, p + H_POLTAB, 4);
	/* every part: globals, policies, records */
	for (uint32_t i = 0; i < 1 + npol + nb; i++) {
		if (i == 0) {
			memcpy(&off, p + H_GLOBALS, 4);
			memcpy(&len, p + H_GLOBALS_LEN, 4);
		} else if (i <= npol) {
			memcpy(&off, p + poltab + 8 * (i - 1), 4);
			memcpy(&len, p + poltab + 8 * (i - 1) + 4, 4);
		} else {
			memcpy(&off, p + bk + 8 * (i - 1 - npol) + 4, 4);
			if (off == 0)
				continue;
			memcpy(&len, p + off + R_LEN, 4);
		}
		sum = iam_fnv1a(p + off + 8, len - 8);
		memcpy(p + off, &sum, 8);
	}
	memcpy(p + H_VERSION, &v1, 4);
	memset(p + H_CHECKSUM, 0, 8);
	sum = iam_fnv1a(p, HDR_SIZE);
	memcpy(p + H_CHECKSUM, &sum, 8);

	cr_assert_eq(iam_authdb_open_buffer(b.buf, b.len, &db), 0);
	cr_assert_eq(iam_authdb_lookup(db, "user3", &u), 0);
	cr_expect_eq(u->uid, 70003);
	cr_expect_str_eq(u->mfa_secret, FX_SECRET);
	cr_expect_eq(u->n_policies, 3);
	u = iam_auth_user_free(u);
	iam_authdb_close(db);
	/* a byte of user3's record damaged: refused, not misread */
	cr_assert_eq(iam_authdb_open_buffer(b.buf, b.len, &db), 0);
	for (uint32_t s = 0; s < nb; s++) {
		memcpy(&off, p + bk + 8 * s + 4, 4);
		if (off != 0 && strcmp((char *)p + off + R_FIXED + 4, "user3") == 0)
			break;
	}
	iam_authdb_close(db);
	p[off + R_UID] ^= 0x01;
	cr_assert_eq(iam_authdb_open_buffer(b.buf, b.len, &db), 0);
	cr_expect_eq(iam_authdb_lookup(db, "user3", &u), -EBADMSG);
	cr_expect_null(u);
	iam_authdb_close(db);
	/* a version 2 sum under a version 1 header: refused */
	p[off + R_UID] ^= 0x01;
	v1 = IAM_AUTHDB_VERSION;
	memcpy(p + H_VERSION, &v1, 4);
	cr_expect_eq(iam_authdb_open_buffer(b.buf, b.len, &db), -EBADMSG);
	iam_buf_wipe(&b);
}

/* iam_sum64: any one bit changed, and any zero added or cut, changes it. */
Test(authdb, sum64_sees_every_bit_and_the_length)
{
	unsigned char buf[72];
	uint64_t base;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 1; n <= 64; n++) {
		base = iam_sum64(buf, n);
		for (size_t bit = 0; bit < 8 * n; bit++) {
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			cr_expect_neq(iam_sum64(buf, n), base, "n %zu bit %zu", n, bit);
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		}
	}
	memset(buf, 0, sizeof(buf));
	for (size_t n = 0; n < 64; n++)
		cr_expect_neq(iam_sum64(buf, n), iam_sum64(buf, n + 1), "%zu", n);
}

/*
 * No fixed pattern of two flipped bits cancels out: every pair of bits of
 * 16, 40 and 64 bytes (two fills each).  Without the fold of each step,
 * bit 34 of one word and bit 63 of its lane's next word did.
 */
Test(authdb, two_flipped_bits_never_cancel_in_sum64)
{
	unsigned char buf[64];
	static const size_t sizes[] = { 16, 40, 64 };

	for (int fill = 0; fill < 2; fill++)
		for (size_t k = 0; k < 3; k++) {
			size_t n = sizes[k], same = 0;
			uint64_t base;

			for (size_t i = 0; i < n; i++)
				buf[i] = fill ? (unsigned char)(i * 37 + 11) : 0;
			base = iam_sum64(buf, n);
			for (size_t a = 0; a < 8 * n; a++)
				for (size_t b = a + 1; b < 8 * n; b++) {
					buf[a / 8] ^= (unsigned char)(1u << (a % 8));
					buf[b / 8] ^= (unsigned char)(1u << (b % 8));
					same += iam_sum64(buf, n) == base;
					buf[a / 8] ^= (unsigned char)(1u << (a % 8));
					buf[b / 8] ^= (unsigned char)(1u << (b % 8));
				}
			cr_expect_eq(same, 0, "%zu pairs of %zu bytes (fill %d) cancel",
				     same, n, fill);
		}
}

/* FNV-1a taken 8 bytes a load: the same value as byte after byte. */
Test(authdb, fnv1a_by_words_is_fnv1a)
{
	unsigned char buf[80];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 151 + 7);
	for (size_t at = 0; at < 8; at++)
		for (size_t n = 0; n + at <= sizeof(buf); n++) {
			uint64_t h = IAM_FNV1A_OFFSET;

			for (size_t i = 0; i < n; i++)
				h = (h ^ buf[at + i]) * IAM_FNV1A_PRIME;
			cr_expect_eq(iam_fnv1a(buf + at, n), h, "at %zu n %zu", at, n);
		}
	/* the published value of "a", as a fixed point */
	cr_expect_eq(iam_fnv1a("a", 1), 0xaf63dc4c8601ec8cULL);
}
