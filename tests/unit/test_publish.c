/*
 * test_publish.c - the credentials store and publishing (libiam/creds.c,
 * libiam/publish.c): credentials override the identity file and survive
 * its replacement; a publication writes both snapshots or nothing;
 * concurrent writers never lose an update.
 *
 * Runs as root (owner checks) through scripts/run-unit.sh; every path
 * lives in a fresh folder under /tmp.
 */
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "iam/auth.h"
#include "iam/who.h"
#include "fixtures.h"

#define N_USERS		20
#define FIRST_UID	70001
#define SECRET		"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

/* Test-only fault injection of store.c. */
extern int store_fail_point;

static char tmp[64];
static struct iam_config *cfg;
static char hashes[N_USERS][128];

static const char *
at(const char *name)
{
	return fx_path(tmp, name);
}

static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* The whole file; *len set; NULL when missing. */
static char *
slurp(const char *path, size_t *len)
{
	struct iam_buf b = IAM_BUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		cr_assert_eq(iam_buf_add(&b, buf, (size_t)n), 0);
	close(fd);
	cr_assert_eq(iam_buf_add(&b, "", 0), 0);
	return iam_buf_detach(&b, len);
}

static void
hash_for(int i, const char *pw, char *out, size_t len)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char salt[32];
	const char *h;

	cr_assert_not_null(cd);
	snprintf(salt, sizeof(salt), "$6$salt%02d$", i);
	h = crypt_r(pw, salt, cd);
	cr_assert(h != NULL && h[0] == '$');
	snprintf(out, len, "%s", h);
	free(cd);
}

/*
 * The identity file: N_USERS users u00.. with uids from FIRST_UID, group
 * staff; user_extra is added to every user object, u02 has an MFA device.
 */
static void
write_identity(const char *user_extra, const char *top_extra)
{
	struct iam_buf b = IAM_BUF_INIT;

	iam_buf_adds(&b, "{ \"account\": { \"id\": \"123456789012\" },\n"
		     "  \"groups\": [ { \"name\": \"staff\", \"gid\": 70100 } ],\n"
		     "  \"users\": [\n");
	for (int i = 0; i < N_USERS; i++) {
		iam_buf_addf(&b, "    { \"name\": \"u%02d\", \"uid\": %d, "
			     "\"primary_group\": \"staff\"%s%s }%s\n", i,
			     FIRST_UID + i, user_extra ? user_extra : "",
			     i == 2 ? ", \"mfa\": { \"type\": \"totp\", \"secret\": \""
				      SECRET "\", \"algorithm\": \"SHA1\", "
				      "\"digits\": 6, \"period\": 30 }" : "",
			     i + 1 < N_USERS ? "," : "");
	}
	iam_buf_addf(&b, "  ]%s\n}\n", top_extra ? top_extra : "");
	put(cfg->identity_file, b.buf, b.len, 0600);
	iam_buf_release(&b);
}

static void
write_host_files(void)
{
	cr_assert_eq(mkdir(at("host"), 0755), 0);
	cr_assert_eq(mkdir(at("host/etc"), 0755), 0);
	put(at("host/etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n", 32, 0644);
	put(at("host/etc/group"), "root:x:0:\n", 10, 0644);
	put(at("host/etc/subuid"), "", 0, 0644);
	put(at("host/etc/subgid"), "", 0, 0644);
}

static char *
dupe(const char *s)
{
	char *p = strdup(s);

	cr_assert_not_null(p);
	return p;
}

static void
setup(void)
{
	FX_NEED_ROOT();
	fx_tmpdir(tmp, sizeof(tmp), "publish", 0755);
	cr_assert_eq(mkdir(at("var"), 0755), 0);
	cr_assert_eq(mkdir(at("etc"), 0755), 0);
	write_host_files();
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->identity_file);
	free(cfg->credentials_dir);
	free(cfg->state_dir);
	free(cfg->snapshot_dir);
	cfg->identity_file = dupe(at("etc/identity.json"));
	cfg->credentials_dir = dupe(at("var/credentials"));
	cfg->state_dir = dupe(at("var/state"));
	cfg->snapshot_dir = dupe(at("var/snap"));
	for (int i = 0; i < N_USERS; i++) {
		char pw[32];

		snprintf(pw, sizeof(pw), "password-%d", i);
		hash_for(i, pw, hashes[i], sizeof(hashes[i]));
	}
	write_identity(NULL, NULL);
	store_fail_point = 0;
}

static void
teardown(void)
{
	cfg = iam_config_free(cfg);
	if (tmp[0] == '\0')
		return;
	fx_rmtree(tmp);
}

TestSuite(publish, .init = setup, .fini = teardown);
TestSuite(creds, .init = setup, .fini = teardown);

static const char *
host(void)
{
	return at("host");
}

static void
publish_ok(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	int r = iam_publish(cfg, host(), &f);

	cr_assert_eq(r, 0, "publish: %s; first fault: %s", strerror(-r),
		     f.n ? f.v[0] : "(none)");
	cr_assert_eq(f.n, 0);
	iam_faults_release(&f);
}

/* The fault list contains text. */
static bool
has_fault(const struct iam_faults *f, const char *text)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->v[i], text) != NULL)
			return true;
	return false;
}

static void
dump_faults(const struct iam_faults *f)
{
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, "  fault: %s\n", f->v[i]);
}

/* Byte copies of everything published, to compare later. */
struct published {
	char *nss, *auth, *gen, *keys;
	size_t nss_len, auth_len, gen_len, keys_len;
};

static void
snap_save(struct published *p)
{
	p->nss = slurp(at("var/snap/nss.db"), &p->nss_len);
	p->auth = slurp(at("var/snap/auth/auth.db"), &p->auth_len);
	p->gen = slurp(at("var/snap/generation"), &p->gen_len);
	p->keys = slurp(at("var/snap/keys.db"), &p->keys_len);
	cr_assert_not_null(p->keys);
	cr_assert_not_null(p->nss);
	cr_assert_not_null(p->auth);
	cr_assert_not_null(p->gen);
}

static void
snap_same(const struct published *p)
{
	struct published now;

	snap_save(&now);
	cr_assert_eq(now.nss_len, p->nss_len, "nss.db changed size");
	cr_assert_eq(memcmp(now.nss, p->nss, p->nss_len), 0, "nss.db changed");
	cr_assert_eq(now.auth_len, p->auth_len, "auth.db changed size");
	cr_assert_eq(memcmp(now.auth, p->auth, p->auth_len), 0,
		     "auth.db changed");
	cr_assert_str_eq(now.gen, p->gen, "generation changed");
	cr_assert_eq(now.keys_len, p->keys_len, "keys.db changed size");
	cr_assert_eq(memcmp(now.keys, p->keys, p->keys_len), 0,
		     "keys.db changed");
	free(now.keys);
	free(now.nss);
	free(now.auth);
	free(now.gen);
}

static void
snap_free(struct published *p)
{
	free(p->nss);
	free(p->auth);
	free(p->gen);
	free(p->keys);
}

/* Only the expected names in a folder: no temporary file left behind. */
static void
only_entries(const char *dir, const char *const *names)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	cr_assert_not_null(d, "%s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t i;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], de->d_name) == 0)
				break;
		cr_assert_not_null(names[i], "unexpected %s/%s", dir,
				   de->d_name);
	}
	closedir(d);
}

static struct iam_authdb *
authdb(void)
{
	struct iam_authdb *db = NULL;
	char err[512] = "";
	int r = iam_authdb_open(at("var/snap/current/auth"), &db, err, sizeof(err));

	cr_assert_eq(r, 0, "%s", err);
	return db;
}

static struct iam_auth_user *
auth_user(struct iam_authdb *db, const char *name)
{
	struct iam_auth_user *u = NULL;

	cr_assert_eq(iam_authdb_lookup(db, name, &u), 0, "%s missing", name);
	return u;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* ---- Publishing -------------------------------------------------------- */

Test(publish, writes_both_snapshots_with_their_modes)
{
	struct iam_authdb *db;
	struct iam_auth_user *u;

	publish_ok();
	cr_assert_eq(mode_of(at("var/snap")), 0755);
	cr_assert_eq(mode_of(at("var/snap/gen")), 0755);
	cr_assert_eq(mode_of(at("var/snap/gen/1")), 0755);
	cr_assert_eq(mode_of(at("var/snap/current/nss.db")), 0644);
	cr_assert_eq(mode_of(at("var/snap/current/auth")), 0700);
	cr_assert_eq(mode_of(at("var/snap/current/auth/auth.db")), 0600);
	cr_assert_eq(mode_of(at("var/snap/current/generation")), 0600);
	cr_assert_eq(mode_of(at("var/credentials")), 0700);
	cr_assert_eq(mode_of(at("var/state")), 0700);
	db = authdb();
	cr_assert_eq(iam_authdb_count(db), N_USERS);
	cr_assert_eq(iam_authdb_generation(db), 1);
	u = auth_user(db, "u02");
	cr_assert_str_eq(u->mfa_secret, SECRET);
	iam_auth_user_free(u);
	iam_authdb_close(db);
}

Test(publish, generation_grows_and_survives_a_lost_generation_file)
{
	struct iam_authdb *db;
	uint64_t g = 0;

	publish_ok();
	publish_ok();
	cr_assert_eq(iam_snapshot_generation(cfg, &g), 0);
	cr_assert_eq(g, 2);
	cr_assert_eq(unlink(at("var/snap/generation")), 0);
	publish_ok();
	db = authdb();
	cr_assert_eq(iam_authdb_generation(db), 3,
		     "generation went back after its file was lost");
	iam_authdb_close(db);
}

Test(publish, a_garbage_generation_file_or_current_does_not_block_publishing)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_authdb *db;
	char link[64];
	ssize_t n;

	publish_ok();
	/* The flat generation file of old, garbage: ignored, then replaced. */
	cr_assert_eq(unlink(at("var/snap/generation")), 0);
	put(at("var/snap/generation"), "\x01garbage\n", 9, 0600);
	publish_ok();
	n = readlink(at("var/snap/generation"), link, sizeof(link) - 1);
	cr_assert_gt(n, 0, "the garbage file was not replaced by the link");
	link[n] = '\0';
	cr_assert_str_eq(link, "current/generation");
	/* current itself garbage (a regular file): readers fail closed... */
	cr_assert_eq(unlink(at("var/snap/current")), 0);
	put(at("var/snap/current"), "garbage", 7, 0600);
	{
		char path[256];

		cr_assert_eq(iam_snapshot_path(cfg, "auth", path, sizeof(path)),
			     -EBADMSG);
	}
	cr_assert_lt(iam_publish_check(cfg, &f), 0);
	cr_assert(has_fault(&f, "sync --repair"));
	iam_faults_release(&f);
	/* ...and the next publication carries on from gen/. */
	publish_ok();
	db = authdb();
	cr_assert_eq(iam_authdb_generation(db), 3);
	iam_authdb_close(db);
	/* A folder there: only --repair removes it. */
	cr_assert_eq(unlink(at("var/snap/current")), 0);
	cr_assert_eq(mkdir(at("var/snap/current"), 0755), 0);
	cr_assert_lt(iam_publish(cfg, host(), &f), 0);
	iam_faults_release(&f);
	cr_assert_eq(iam_publish_repair(cfg, host(), &f), 0);
	cr_assert_eq(iam_publish_check(cfg, &f), 0, "%s", f.n ? f.v[0] : "");
	db = authdb();
	cr_assert_eq(iam_authdb_generation(db), 4);
	iam_authdb_close(db);
	{
		static const char *const gens[] = { "4", NULL };

		only_entries(at("var/snap/gen"), gens);
	}
	iam_faults_release(&f);
}

Test(publish, a_host_in_the_flat_layout_of_old_moves_over_and_keeps_counting)
{
	static const char *const names[] = { "nss.db", "keys.db", "generation",
					     "auth", NULL };
	struct iam_authdb *db;
	char path[200];

	cr_assert_eq(mkdir(at("var/snap"), 0755), 0);
	cr_assert_eq(mkdir(at("var/snap/auth"), 0700), 0);
	put(at("var/snap/generation"), "41\n", 3, 0600);
	put(at("var/snap/nss.db"), "old", 3, 0644);
	put(at("var/snap/keys.db"), "old", 3, 0644);
	put(at("var/snap/auth/auth.db"), "old", 3, 0600);
	put(at("var/snap/auth/.auth.db.0123456789abcdef"), "x", 1, 0600);
	/* Readers of the flat layout read it as it is until then. */
	cr_assert_eq(iam_snapshot_path(cfg, "auth", path, sizeof(path)), 0);
	cr_assert_str_eq(path, at("var/snap/auth"));
	publish_ok();
	db = authdb();
	cr_assert_eq(iam_authdb_generation(db), 42);
	iam_authdb_close(db);
	for (size_t i = 0; names[i] != NULL; i++) {
		char want[64], have[64];
		ssize_t n;

		snprintf(path, sizeof(path), "var/snap/%s", names[i]);
		n = readlink(at(path), have, sizeof(have) - 1);
		cr_assert_gt(n, 0, "%s is not a link", names[i]);
		have[n] = '\0';
		snprintf(want, sizeof(want), "current/%s", names[i]);
		cr_assert_str_eq(have, want);
	}
	cr_assert_eq(iam_snapshot_path(cfg, "auth", path, sizeof(path)), 0);
	cr_assert_str_eq(path, at("var/snap/gen/42/auth"));
}

Test(publish, a_damaged_snapshot_is_reported_and_rebuilt)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;

	publish_ok();
	snap_save(&before);
	cr_assert_eq(iam_publish_check(cfg, &f), 0, "%s", f.n ? f.v[0] : "");
	put(at("var/snap/current/keys.db"), "IAMKEYS1 broken", 15, 0644);
	cr_assert_lt(iam_publish_check(cfg, &f), 0);
	cr_assert(has_fault(&f, "keys.db: unreadable"), "%s", f.n ? f.v[0] : "");
	iam_faults_release(&f);
	cr_assert_eq(iam_publish_repair(cfg, host(), &f), 0);
	cr_assert_eq(iam_publish_check(cfg, &f), 0, "%s", f.n ? f.v[0] : "");
	snap_free(&before);
	iam_faults_release(&f);
}

Test(publish, generations_are_switched_by_one_link_and_old_ones_removed)
{
	char link[64];
	ssize_t n;

	publish_ok();
	publish_ok();
	publish_ok();
	n = readlink(at("var/snap/current"), link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	cr_assert_str_eq(link, "gen/3");
	{
		/* The previous one stays for readers that resolved it. */
		static const char *const gens[] = { "2", "3", NULL };

		only_entries(at("var/snap/gen"), gens);
	}
	/* An unfinished generation and temporaries of a killed publication. */
	cr_assert_eq(mkdir(at("var/snap/gen/4"), 0755), 0);
	put(at("var/snap/gen/4/nss.db"), "half", 4, 0644);
	cr_assert_eq(symlink("gen/4", at("var/snap/.current.0123456789abcdef")), 0);
	put(at("var/snap/.nss.db.0123456789abcdef"), "x", 1, 0600);
	put(at("etc/.identity.json.0123456789abcdef"), "x", 1, 0600);
	cr_assert_eq(mkdir(at("var/credentials"), 0700) == 0 || errno == EEXIST, 1);
	put(at("var/credentials/.70001.json.0123456789abcdef"), "x", 1, 0600);
	{
		struct iam_faults f = IAM_FAULTS_INIT;

		cr_assert_eq(iam_publish_check(cfg, &f), 0);
		iam_faults_release(&f);
	}
	publish_ok();
	cr_assert_eq(access(at("var/snap/.current.0123456789abcdef"), F_OK), -1);
	cr_assert_eq(access(at("var/snap/.nss.db.0123456789abcdef"), F_OK), -1);
	cr_assert_eq(access(at("etc/.identity.json.0123456789abcdef"), F_OK), -1);
	cr_assert_eq(access(at("var/credentials/.70001.json.0123456789abcdef"),
			    F_OK), -1);
	n = readlink(at("var/snap/current"), link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(link, "gen/5", "an unfinished number is skipped");
	{
		static const char *const gens[] = { "3", "5", NULL };

		only_entries(at("var/snap/gen"), gens);
	}
}

Test(publish, identity_text_is_committed_with_the_generation_or_not_at_all)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;
	struct iam_auth_user *u;
	struct iam_authdb *db;
	size_t len, nlen;
	char *old, *now;

	publish_ok();
	snap_save(&before);
	old = slurp(cfg->identity_file, &len);
	write_identity(", \"gecos\": \"committed\"", NULL);
	now = slurp(cfg->identity_file, &nlen);
	put(cfg->identity_file, old, len, 0600);
	/* Failing at the switch: the file is back byte for byte. */
	store_fail_point = 1;
	cr_assert_eq(iam_publish_text_locked(cfg, host(), now, nlen, &f), -EIO);
	iam_faults_release(&f);
	snap_same(&before);
	{
		size_t l2;
		char *back = slurp(cfg->identity_file, &l2);

		cr_assert_eq(l2, len);
		cr_assert_eq(memcmp(back, old, len), 0, "identity changed");
		free(back);
	}
	/* Invalid text: refused, nothing written. */
	cr_assert_eq(iam_publish_text_locked(cfg, host(), "{", 1, &f), -EINVAL);
	iam_faults_release(&f);
	snap_same(&before);
	/* And through. */
	cr_assert_eq(iam_publish_text_locked(cfg, host(), now, nlen, &f), 0);
	db = authdb();
	u = auth_user(db, "u05");
	cr_assert_str_eq(u->gecos, "committed");
	iam_auth_user_free(u);
	iam_authdb_close(db);
	cr_assert_eq(iam_publish_check(cfg, &f), 0, "%s", f.n ? f.v[0] : "");
	{
		static const char *const etc[] = { "identity.json", NULL };

		only_entries(at("etc"), etc);
	}
	/* A hand edit afterwards: doctor's check says so. */
	put(cfg->identity_file, now, nlen, 0600);
	cr_assert_lt(iam_publish_check(cfg, &f), 0);
	cr_assert(has_fault(&f, "changed after the last published snapshot"));
	iam_faults_release(&f);
	snap_free(&before);
	free(old);
	free(now);
}

Test(publish, failed_validation_changes_nothing)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;

	publish_ok();
	snap_save(&before);
	write_identity(", \"home\": \"relative/home\"", NULL);
	cr_assert_eq(iam_publish(cfg, host(), &f), -EINVAL);
	if (!has_fault(&f, "users[0].home"))
		dump_faults(&f);
	cr_assert(has_fault(&f, "users[0].home"), "fault names the JSON path");
	snap_same(&before);
	snap_free(&before);
	iam_faults_release(&f);
}

Test(publish, first_publish_that_fails_validation_writes_no_snapshot)
{
	struct iam_faults f = IAM_FAULTS_INIT;

	write_identity(NULL, ", \"unknown_key\": 1");
	cr_assert_eq(iam_publish(cfg, host(), &f), -EINVAL);
	cr_assert(iam_faults_any(&f));
	cr_assert_eq(access(at("var/snap/nss.db"), F_OK), -1);
	cr_assert_eq(access(at("var/snap/auth/auth.db"), F_OK), -1);
	cr_assert_eq(access(at("var/snap/generation"), F_OK), -1);
	cr_assert_eq(access(at("var/snap"), F_OK), -1, "folders created");
	cr_assert_eq(access(at("var/state"), F_OK), -1, "folders created");
	iam_faults_release(&f);
}

Test(publish, broken_identity_after_good_publish_keeps_old_snapshots)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;
	size_t len;
	char *good;

	publish_ok();
	snap_save(&before);
	good = slurp(cfg->identity_file, &len);
	put(cfg->identity_file, good, len / 2, 0600);	/* truncated */
	cr_assert_eq(iam_publish(cfg, host(), &f), -EINVAL);
	cr_assert(iam_faults_any(&f));
	snap_same(&before);
	iam_faults_release(&f);
	/* Insecure (readable by others): refused as well. */
	put(cfg->identity_file, good, len, 0644);
	cr_assert_lt(iam_publish(cfg, host(), &f), 0);
	cr_assert(has_fault(&f, "readable by group or others"));
	snap_same(&before);
	iam_faults_release(&f);
	/* Missing. */
	cr_assert_eq(unlink(cfg->identity_file), 0);
	cr_assert_eq(iam_publish(cfg, host(), &f), -ENOENT);
	snap_same(&before);
	iam_faults_release(&f);
	snap_free(&before);
	free(good);
}

Test(publish, failure_between_write_and_rename_keeps_old_and_no_temporary)
{
	static const char *const snap[] = { "nss.db", "keys.db", "generation", "auth",
					    "current", "gen", NULL };
	static const char *const gens[] = { "1", NULL };
	static const char *const auth[] = { "auth.db", "roles.db", NULL };
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;
	struct iam_authdb *db;

	publish_ok();
	snap_save(&before);
	write_identity(", \"gecos\": \"changed\"", NULL);
	store_fail_point = 1;
	cr_assert_eq(iam_publish(cfg, host(), &f), -EIO);
	cr_assert(has_fault(&f, "writing the snapshots"));
	snap_same(&before);
	only_entries(at("var/snap"), snap);
	only_entries(at("var/snap/current/auth"), auth);
	only_entries(at("var/snap/gen"), gens);
	iam_faults_release(&f);
	/* The next publication goes through. */
	publish_ok();
	db = authdb();
	{
		struct iam_auth_user *u = auth_user(db, "u05");

		cr_assert_str_eq(u->gecos, "changed");
		iam_auth_user_free(u);
	}
	iam_authdb_close(db);
	snap_free(&before);
}

Test(publish, umask_777_and_closed_stdio_still_give_the_right_modes)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct iam_creds *c = NULL;
		struct stat st, null;

		close(0);
		close(1);
		close(2);
		umask(0777);
		if (iam_publish(cfg, host(), NULL) != 0)
			_exit(10);
		if (iam_creds_new(FIRST_UID, &c) < 0 ||
		    iam_creds_set_password(c, hashes[0], 1, false, 5) < 0 ||
		    iam_creds_commit(cfg, FIRST_UID, c, host(), NULL) != 0)
			_exit(11);
		iam_creds_free(c);
		/* 0-2 were made /dev/null, so no snapshot became stdout. */
		if (stat("/dev/null", &null) < 0 || fstat(1, &st) < 0 ||
		    st.st_rdev != null.st_rdev)
			_exit(12);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed at step %d",
		     WEXITSTATUS(status));
	cr_assert_eq(mode_of(at("var/snap")), 0755);
	cr_assert_eq(mode_of(at("var/snap/current/nss.db")), 0644);
	cr_assert_eq(mode_of(at("var/snap/current/keys.db")), 0644);
	cr_assert_eq(mode_of(at("var/snap/current/auth")), 0700);
	cr_assert_eq(mode_of(at("var/snap/current/auth/auth.db")), 0600);
	cr_assert_eq(mode_of(at("var/snap/current/generation")), 0600);
	cr_assert_eq(mode_of(at("var/credentials")), 0700);
	cr_assert_eq(mode_of(at("var/credentials/.lock")), 0600);
	cr_assert_eq(mode_of(at("var/credentials/70001.json")), 0600);
	cr_assert_eq(mode_of(at("var/state")), 0700);
}

Test(publish, twenty_concurrent_credential_changes_are_all_kept)
{
	pid_t pids[N_USERS];
	struct iam_authdb *db;
	uint64_t gen = 0;

	publish_ok();
	for (int i = 0; i < N_USERS; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct iam_creds *c = NULL;
			uint32_t uid = (uint32_t)(FIRST_UID + i);

			if (iam_creds_new(uid, &c) < 0 ||
			    iam_creds_set_password(c, hashes[i], 1000 + i,
						   false, 5) < 0)
				_exit(1);
			if (iam_creds_commit(cfg, uid, c, host(), NULL) != 0)
				_exit(2);
			iam_creds_free(c);
			_exit(0);
		}
	}
	for (int i = 0; i < N_USERS; i++) {
		int status;

		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "writer %d failed (%d)", i, WEXITSTATUS(status));
	}
	db = authdb();
	for (int i = 0; i < N_USERS; i++) {
		struct iam_creds *c = NULL;
		struct iam_auth_user *u;
		char name[16];

		cr_assert_eq(iam_creds_load(cfg, (uint32_t)(FIRST_UID + i), &c,
					    NULL), 0);
		cr_assert_str_eq(c->password.hash, hashes[i]);
		cr_assert_eq(c->password.changed, 1000 + i);
		iam_creds_free(c);
		snprintf(name, sizeof(name), "u%02d", i);
		u = auth_user(db, name);
		cr_assert_str_eq(u->password_hash, hashes[i],
				 "%s lost its change in auth.db", name);
		iam_auth_user_free(u);
	}
	cr_assert_eq(iam_authdb_generation(db), 1 + N_USERS);
	iam_authdb_close(db);
	cr_assert_eq(iam_snapshot_generation(cfg, &gen), 0);
	cr_assert_eq(gen, 1 + N_USERS);
}

/* ---- The credentials store -------------------------------------------- */

Test(creds, saved_record_loads_back_whole)
{
	struct iam_mfa m = { .secret = SECRET, .algorithm = IAM_TOTP_SHA256,
			     .digits = 8, .period = 60 };
	struct iam_creds *c, *back = NULL;
	int lock;

	cr_assert_eq(iam_creds_new(FIRST_UID, &c), 0);
	cr_assert_eq(iam_creds_set_password(c, hashes[0], 100, true, 3), 0);
	cr_assert_eq(iam_creds_set_password(c, hashes[1], 200, false, 3), 0);
	cr_assert_eq(iam_creds_set_mfa(c, &m), 0);
	lock = iam_store_lock(cfg);
	cr_assert_geq(lock, 0);
	cr_assert_eq(iam_creds_save(cfg, c), 0);
	iam_store_unlock(lock);
	cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &back, NULL), 0);
	cr_assert(back->has_password && back->has_mfa);
	cr_assert_str_eq(back->password.hash, hashes[1]);
	cr_assert_eq(back->password.changed, 200);
	cr_assert_not(back->password.must_change);
	cr_assert_eq(back->password.n_history, 1);
	cr_assert_str_eq(back->password.history[0], hashes[0]);
	cr_assert_str_eq(back->mfa.secret, SECRET);
	cr_assert_eq(back->mfa.algorithm, IAM_TOTP_SHA256);
	cr_assert_eq(back->mfa.digits, 8);
	cr_assert_eq(back->mfa.period, 60);
	cr_assert_eq(mode_of(at("var/credentials/70001.json")), 0600);
	iam_creds_free(back);
	iam_creds_free(c);
	cr_assert_null(iam_creds_free(NULL));
}

Test(creds, history_is_newest_first_and_bounded)
{
	struct iam_creds *c;

	cr_assert_eq(iam_creds_new(FIRST_UID, &c), 0);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(iam_creds_set_password(c, hashes[i], i, false, 3), 0);
	cr_assert_str_eq(c->password.hash, hashes[5]);
	cr_assert_eq(c->password.n_history, 3);
	cr_assert_str_eq(c->password.history[0], hashes[4]);
	cr_assert_str_eq(c->password.history[1], hashes[3]);
	cr_assert_str_eq(c->password.history[2], hashes[2]);
	cr_assert_eq(iam_creds_set_password(c, hashes[6], 7, false, 1), 0);
	cr_assert_eq(c->password.n_history, 1);
	cr_assert_str_eq(c->password.history[0], hashes[5]);
	cr_assert_eq(iam_creds_set_password(c, hashes[7], 8, false, 0), 0);
	cr_assert_eq(c->password.n_history, 0);
	iam_creds_free(c);
}

Test(creds, missing_record_is_enoent)
{
	struct iam_creds *c = NULL;

	cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, NULL), -ENOENT);
	cr_assert_eq(mkdir(cfg->credentials_dir, 0700), 0);
	cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, NULL), -ENOENT);
	cr_assert_null(c);
}

Test(creds, invalid_records_are_not_saved)
{
	struct iam_mfa shortsecret = { .secret = "JBSWY3DPEHPK3PXP",
				       .digits = 6, .period = 30 };
	struct iam_mfa digits = { .secret = SECRET, .digits = 9, .period = 30 };
	struct iam_mfa period = { .secret = SECRET, .digits = 6, .period = 5 };
	struct iam_mfa lower = { .secret = "jbswy3dpehpk3pxpjbswy3dpehpk3pxp",
				 .digits = 6, .period = 30 };
	const struct iam_mfa *bad[] = { &shortsecret, &digits, &period, &lower };
	struct iam_creds *c;

	cr_assert_eq(iam_creds_new(FIRST_UID, &c), 0);
	cr_assert_eq(iam_creds_set_password(c, "plaintext-password", 1, false,
					    0), 0);
	cr_assert_eq(iam_creds_save(cfg, c), -EINVAL);
	cr_assert_eq(iam_creds_set_password(c, "$1$abcdefgh$0123456789abcdefghijkl",
					    1, false, 0), 0);
	cr_assert_eq(iam_creds_save(cfg, c), -EINVAL, "md5crypt accepted");
	cr_assert_eq(iam_creds_set_password(c, hashes[0], 1, false, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(iam_creds_set_mfa(c, bad[i]), 0);
		cr_assert_eq(iam_creds_save(cfg, c), -EINVAL, "mfa case %zu", i);
	}
	cr_assert_eq(access(at("var/credentials/70001.json"), F_OK), -1);
	iam_creds_free(c);
}

/* Write a credential file by hand (root 0600 unless mode says). */
static void
put_creds(uint32_t uid, const char *text, mode_t mode)
{
	char name[64];

	if (access(cfg->credentials_dir, F_OK) != 0)
		cr_assert_eq(mkdir(cfg->credentials_dir, 0700), 0);
	snprintf(name, sizeof(name), "var/credentials/%u.json", uid);
	put(at(name), text, strlen(text), mode);
}

static void
load_refused(const char *text, mode_t mode, int want, const char *fault)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_creds *c = NULL;

	put_creds(FIRST_UID, text, mode);
	cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, &f), want,
		     "accepted: %s", text);
	cr_assert_null(c);
	if (!has_fault(&f, fault))
		dump_faults(&f);
	cr_assert(has_fault(&f, fault), "no fault \"%s\"", fault);
	cr_assert(has_fault(&f, "70001.json"), "fault does not name the file");
	iam_faults_release(&f);
}

Test(creds, malformed_files_are_refused_with_the_reason)
{
	load_refused("{ \"uid\": 70001, \"password\": { \"hash\": \"x\" } }",
		     0600, -EINVAL, "password.hash: not a yescrypt");
	load_refused("{ \"uid\": 70002 }", 0600, -EINVAL,
		     "uid: does not match the file name");
	load_refused("{ \"uid\": 70001, \"extra\": 1 }", 0600, -EINVAL,
		     "extra: unknown key");
	load_refused("{ \"uid\": 70001, \"mfa\": { \"secret\": \"ABC\" } }",
		     0600, -EINVAL, "mfa.secret: is shorter than 128 bits");
	load_refused("{ \"uid\": 70001, \"mfa\": { \"secret\": \"" SECRET
		     "\", \"digits\": 10 } }", 0600, -EINVAL, "mfa.digits");
	load_refused("{ \"uid\": 70001, \"mfa\": { \"secret\": \"" SECRET
		     "\", \"algorithm\": \"MD5\" } }", 0600, -EINVAL,
		     "mfa.algorithm");
	load_refused("{ \"uid\": 70001, \"password\": { \"hash\": 5 } }", 0600,
		     -EINVAL, "password.hash: must be a string");
	load_refused("{ \"uid\": 70001, \"password\": { \"changed\": \"now\" } }",
		     0600, -EINVAL, "password.hash: missing");
	load_refused("{ \"uid\": 70001, \"password\": [] }", 0600, -EINVAL,
		     "password: must be an object or null");
	load_refused("{ \"uid\": 70001, ", 0600, -EINVAL, "70001.json");
	load_refused("[]", 0600, -EINVAL, "must be a JSON object");
}

Test(creds, insecure_files_are_refused)
{
	char path[256];

	load_refused("{ \"uid\": 70001 }", 0644, -EPERM,
		     "is accessible by group or others");
	load_refused("{ \"uid\": 70001 }", 0620, -EPERM,
		     "is accessible by group or others");
	snprintf(path, sizeof(path), "%s", at("var/credentials/70001.json"));
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(chown(path, 1234, 0), 0);
	{
		struct iam_faults f = IAM_FAULTS_INIT;
		struct iam_creds *c = NULL;

		cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, &f), -EPERM);
		cr_assert(has_fault(&f, "is not owned by root"));
		iam_faults_release(&f);
	}
	cr_assert_eq(unlink(path), 0);
	put(at("elsewhere.json"), "{ \"uid\": 70001 }", 16, 0600);
	cr_assert_eq(symlink(at("elsewhere.json"), path), 0);
	{
		struct iam_faults f = IAM_FAULTS_INIT;
		struct iam_creds *c = NULL;

		cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, &f), -ELOOP);
		cr_assert(has_fault(&f, "is a symbolic link"));
		iam_faults_release(&f);
	}
}

Test(creds, an_open_credentials_folder_is_refused)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_creds *c = NULL;

	put_creds(FIRST_UID, "{ \"uid\": 70001 }", 0600);
	cr_assert_eq(chmod(cfg->credentials_dir, 0755), 0);
	cr_assert_eq(iam_creds_load(cfg, FIRST_UID, &c, &f), -EPERM);
	cr_assert(has_fault(&f, "credentials"));
	iam_faults_release(&f);
	cr_assert_eq(iam_publish(cfg, host(), &f), -EPERM);
	iam_faults_release(&f);
}

Test(creds, stored_credentials_override_and_survive_identity_replacement)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_authdb *db;
	struct iam_auth_user *u;
	struct iam_creds *c;
	struct iam_mfa m = { .secret = SECRET, .algorithm = IAM_TOTP_SHA1,
			     .digits = 6, .period = 30 };
	char extra[256];

	/* The identity file carries an initial password for everyone. */
	snprintf(extra, sizeof(extra), ", \"password\": { \"hash\": \"%s\", "
		 "\"must_change\": true }", hashes[9]);
	write_identity(extra, NULL);
	publish_ok();
	cr_assert_eq(iam_creds_new(FIRST_UID + 1, &c), 0);
	cr_assert_eq(iam_creds_set_password(c, hashes[1], 5000, false, 5), 0);
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID + 1, c, host(), &f), 0);
	iam_creds_free(c);
	/* Another user's record holds only a device. */
	cr_assert_eq(iam_creds_new(FIRST_UID + 4, &c), 0);
	cr_assert_eq(iam_creds_set_mfa(c, &m), 0);
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID + 4, c, host(), &f), 0);
	iam_creds_free(c);
	/* Configuration management replaces the identity file. */
	write_identity(extra, NULL);
	publish_ok();
	db = authdb();
	u = auth_user(db, "u01");
	cr_assert_str_eq(u->password_hash, hashes[1]);
	cr_assert_not(u->must_change);
	cr_assert_eq(u->password_changed, 5000);
	iam_auth_user_free(u);
	u = auth_user(db, "u03");
	cr_assert_str_eq(u->password_hash, hashes[9], "initial one applies");
	cr_assert(u->must_change);
	iam_auth_user_free(u);
	u = auth_user(db, "u04");
	cr_assert_str_eq(u->password_hash, hashes[9], "a device only keeps it");
	cr_assert_str_eq(u->mfa_secret, SECRET);
	iam_auth_user_free(u);
	iam_authdb_close(db);
	iam_faults_release(&f);
}

Test(creds, disabling_mfa_overrides_the_identity_device)
{
	struct iam_authdb *db;
	struct iam_auth_user *u;
	struct iam_creds *c;

	publish_ok();
	cr_assert_eq(iam_creds_new(FIRST_UID + 2, &c), 0);
	cr_assert_eq(iam_creds_set_mfa(c, NULL), 0);
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID + 2, c, host(), NULL), 0);
	iam_creds_free(c);
	db = authdb();
	u = auth_user(db, "u02");
	cr_assert_null(u->mfa_secret, "identity file's device still applies");
	iam_auth_user_free(u);
	iam_authdb_close(db);
}

Test(creds, from_user_copies_the_merged_credentials)
{
	struct iam_identity *id = NULL;
	struct iam_faults f = IAM_FAULTS_INIT;
	const struct iam_user *u;
	struct iam_creds *c;
	char extra[256];

	snprintf(extra, sizeof(extra), ", \"password\": { \"hash\": \"%s\" }",
		 hashes[3]);
	write_identity(extra, NULL);
	cr_assert_eq(iam_identity_load(cfg->identity_file, true, cfg, host(),
				       &id, &f), 0);
	u = iam_identity_user(id, "u02");
	cr_assert_not_null(u);
	cr_assert_eq(iam_creds_from_user(u, &c), 0);
	cr_assert_str_eq(c->password.hash, hashes[3]);
	cr_assert_str_eq(c->mfa.secret, SECRET);
	cr_assert_eq(iam_creds_set_password(c, hashes[4], 9, false, 5), 0);
	cr_assert_str_eq(c->password.history[0], hashes[3]);
	iam_creds_free(c);
	iam_identity_free(id);
	iam_faults_release(&f);
}

Test(creds, failed_commit_restores_the_old_file_byte_for_byte)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_creds *c;
	char *before, *after;
	size_t blen, alen, ilen;
	char *good;

	publish_ok();
	cr_assert_eq(iam_creds_new(FIRST_UID, &c), 0);
	cr_assert_eq(iam_creds_set_password(c, hashes[0], 1, false, 5), 0);
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID, c, host(), NULL), 0);
	before = slurp(at("var/credentials/70001.json"), &blen);
	cr_assert_not_null(before);
	/* Broken identity file: the change cannot be published. */
	good = slurp(cfg->identity_file, &ilen);
	put(cfg->identity_file, "{ \"users\": [", 12, 0600);
	cr_assert_eq(iam_creds_set_password(c, hashes[1], 2, false, 5), 0);
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID, c, host(), &f), -EINVAL);
	after = slurp(at("var/credentials/70001.json"), &alen);
	cr_assert_eq(alen, blen);
	cr_assert_eq(memcmp(before, after, blen), 0, "credential file changed");
	free(after);
	iam_faults_release(&f);
	/* Failure injected in the publication's renames: restored too. */
	put(cfg->identity_file, good, ilen, 0600);
	store_fail_point = 2;	/* 1: the credential file, 2: the snapshots */
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID, c, host(), &f), -EIO);
	after = slurp(at("var/credentials/70001.json"), &alen);
	cr_assert_eq(alen, blen);
	cr_assert_eq(memcmp(before, after, blen), 0, "credential file changed");
	free(after);
	iam_faults_release(&f);
	/* A user without a file before: the file is removed again. */
	put(cfg->identity_file, "{", 1, 0600);
	c->uid = FIRST_UID + 4;
	cr_assert_eq(iam_creds_commit(cfg, FIRST_UID + 4, c, host(), &f), -EINVAL);
	cr_assert_eq(access(at("var/credentials/70005.json"), F_OK), -1);
	iam_faults_release(&f);
	iam_creds_free(c);
	free(before);
	free(good);
}

Test(creds, commit_for_a_uid_outside_the_identity_is_refused)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;
	struct iam_creds *c;

	publish_ok();
	snap_save(&before);
	cr_assert_eq(iam_creds_new(79999, &c), 0);
	cr_assert_eq(iam_creds_set_password(c, hashes[0], 1, false, 5), 0);
	cr_assert_eq(iam_creds_commit(cfg, 79999, c, host(), &f), -ENOENT);
	cr_assert(has_fault(&f, "no user has uid 79999"));
	cr_assert_eq(access(at("var/credentials/79999.json"), F_OK), -1);
	snap_same(&before);
	cr_assert_eq(iam_creds_commit(cfg, 70001, c, host(), &f), -EINVAL,
		     "uid and record disagree");
	snap_free(&before);
	iam_creds_free(c);
	iam_faults_release(&f);
}

Test(creds, file_of_a_removed_user_is_ignored_and_kept)
{
	char text[512];

	/* Even a malformed one: it belongs to nobody in the identity. */
	put_creds(79990, "not json", 0600);
	snprintf(text, sizeof(text), "{ \"uid\": 79991, \"password\": { "
		 "\"hash\": \"%s\" } }", hashes[0]);
	put_creds(79991, text, 0600);
	put_creds(FIRST_UID + 3, "{ \"uid\": 70004 }", 0600);
	publish_ok();
	cr_assert_eq(access(at("var/credentials/79990.json"), F_OK), 0);
	cr_assert_eq(access(at("var/credentials/79991.json"), F_OK), 0);
}

Test(creds, a_bad_file_of_a_current_user_refuses_the_publication)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct published before;

	publish_ok();
	snap_save(&before);
	put_creds(FIRST_UID + 7, "{ \"uid\": 70008, \"password\": { \"hash\": "
		  "\"plain\" } }", 0600);
	cr_assert_eq(iam_publish(cfg, host(), &f), -EINVAL);
	cr_assert(has_fault(&f, "70008.json: password.hash"));
	snap_same(&before);
	iam_faults_release(&f);
	put_creds(FIRST_UID + 7, "{ \"uid\": 70008 }", 0640);
	cr_assert_eq(iam_publish(cfg, host(), &f), -EPERM);
	cr_assert(has_fault(&f, "70008.json: is accessible by group or others"));
	snap_same(&before);
	iam_faults_release(&f);
	snap_free(&before);
}

/* ---- One generation per lookup (iam/who.h) ----------------------------- */

Test(publish, a_generation_handle_keeps_its_generation_across_a_switch)
{
	struct iam_generation g;
	struct iam_authdb *db = NULL;
	char dir[512], now[512], err[256] = "";

	publish_ok();
	cr_assert_eq(iam_generation_open(cfg->snapshot_dir, &g), 0);
	cr_assert_eq(g.gen, 1);
	/* A publication switches current while the lookup is under way. */
	write_identity(", \"tags\": { \"team\": \"b\" }", NULL);
	publish_ok();
	cr_assert_eq(iam_snapshot_path(cfg, "auth", now, sizeof(now)), 0);
	cr_assert(strstr(now, "/gen/2/auth") != NULL, "%s", now);
	/* Every file of the lookup still comes from the generation opened. */
	cr_assert_eq(iam_generation_path(&g, "auth", dir, sizeof(dir)), 0);
	cr_assert(strstr(dir, "/gen/1/auth") != NULL, "%s", dir);
	cr_assert_eq(iam_authdb_open(dir, &db, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(iam_authdb_generation(db), 1);
	iam_authdb_close(db);
	iam_generation_close(&g);
	cr_assert_eq(g.fd, -1);
}

Test(publish, who_is_asking_fails_closed_on_a_bad_current_and_spares_locals)
{
	struct iam_who w;

	publish_ok();
	/* A name NSS does not resolve is not an IAM user. */
	iam_who(cfg->snapshot_dir, "u00", 0, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNKNOWN);
	cr_assert_eq(iam_who_record(&w, cfg->snapshot_dir, "u00"), 0);
	cr_assert_null(w.rec);
	iam_who_release(&w);
	iam_who(cfg->snapshot_dir, "nobody-of-iam", 0, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNKNOWN);
	iam_who_release(&w);
	/* As root from auth.db (sudo_iam, the role helper): the same answer. */
	iam_who_decide(cfg->snapshot_dir, "u00", IAM_WHO_PRIVATE, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNKNOWN);
	cr_assert_null(w.rec);
	iam_who_release(&w);
	iam_who_decide(cfg->snapshot_dir, "nobody-of-iam", IAM_WHO_PRIVATE, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNKNOWN);
	iam_who_release(&w);
	/* current pointing anywhere but gen/N: unavailable, never a guess. */
	cr_assert_eq(unlink(at("var/snap/current")), 0);
	cr_assert_eq(symlink("/etc", at("var/snap/current")), 0);
	iam_who(cfg->snapshot_dir, "u00", 0, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNAVAILABLE);
	cr_assert_eq(w.err, -EBADMSG);
	cr_assert(strstr(w.why, "corrupt") != NULL, "%s", w.why);
	cr_assert_eq(iam_who_record(&w, cfg->snapshot_dir, "u00"), -EBADMSG);
	iam_who_release(&w);
	iam_who_decide(cfg->snapshot_dir, "u00", IAM_WHO_PRIVATE, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNAVAILABLE);
	cr_assert_eq(w.err, -EBADMSG);
	/* root's uid is outside the IAM range: local while IAM is broken. */
	iam_who_settle(&w, "root", cfg->uid_min, cfg->uid_max);
	cr_assert_eq(w.kind, IAM_WHO_LOCAL);
	iam_who_release(&w);
	/* A name of /etc/passwd is local before any snapshot is read. */
	iam_who(cfg->snapshot_dir, "root", IAM_WHO_PASSWD_LOCAL, &w);
	cr_assert_eq(w.kind, IAM_WHO_LOCAL);
	cr_assert_eq(w.gen.fd, -1);
	iam_who_release(&w);
	/* A snapshot folder writable by others is refused. */
	cr_assert_eq(chmod(at("var/snap"), 0777), 0);
	iam_who(cfg->snapshot_dir, "u00", 0, &w);
	cr_assert_eq(w.kind, IAM_WHO_UNAVAILABLE);
	cr_assert_eq(w.err, -EPERM);
	iam_who_release(&w);
}
