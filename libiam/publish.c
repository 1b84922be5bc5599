/*
 * publish.c - from the identity file and the credentials store to the
 * snapshots the host serves: snapshot_dir/nss.db (public, 0644) and
 * snapshot_dir/auth/auth.db and snapshot_dir/auth/roles.db (private,
 * 0600).
 *
 * Everything is validated before anything is written, and the files are
 * replaced together (iam_atomic_*): a fault leaves the last good
 * snapshots in place, so logins keep working on them.  The generation
 * is one above the highest of snapshot_dir/generation and the current
 * nss.db's header, so it only ever grows, even when one of them is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iam.h"
#include "iam/keys.h"
#include "iam/roles.h"
#include "nssdb.h"

#define GENERATION_FILE	"generation"
#define AUTH_DB		"auth/auth.db"
#define ROLES_DB	"auth/" IAM_ROLESDB_FILE

/* The generation recorded in snapshot_dir/generation; 0 when absent. */
static int
read_generation_file(const struct iam_config *cfg, uint64_t *ret_gen)
{
	struct iam_buf b = IAM_BUF_INIT;
	char path[PATH_MAX];
	long long v;
	int r;

	r = iam_snprintf(path, sizeof(path), "%s/" GENERATION_FILE,
			 cfg->snapshot_dir);
	if (r < 0)
		return r;
	r = iam_read_strict(path, IAM_STRICT_SECRET, 64, &b, NULL, 0);
	if (r == -ENOENT) {
		*ret_gen = 0;
		return 0;
	}
	if (r < 0)
		return r;
	if (b.len > 0 && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	r = iam_parse_ll(b.buf, 0, LLONG_MAX, &v);
	iam_buf_release(&b);
	if (r < 0)
		return -EINVAL;
	*ret_gen = (uint64_t)v;
	return 0;
}

/* The generation in the header of the current nss.db; 0 when unusable. */
static uint64_t
nssdb_generation(const struct iam_config *cfg)
{
	struct iam_nssdb_header h;
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (iam_snprintf(path, sizeof(path), "%s/nss.db", cfg->snapshot_dir) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	do
		n = read(fd, &h, sizeof(h));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, IAM_NSSDB_MAGIC, sizeof(h.magic)) != 0)
		return 0;
	return h.generation;
}

int
iam_snapshot_generation(const struct iam_config *cfg, uint64_t *ret_gen)
{
	uint64_t g, n;
	int r;

	r = read_generation_file(cfg, &g);
	if (r < 0)
		return r;
	n = nssdb_generation(cfg);
	*ret_gen = n > g ? n : g;
	return 0;
}

/* snapshot_dir 0755, auth/ and the runtime folders 0700, all root's. */
static int
ensure_folders(const struct iam_config *cfg, struct iam_faults *faults)
{
	const struct {
		const char *path;
		const char *sub;
		mode_t mode;
	} dirs[] = {
		{ cfg->snapshot_dir, NULL, 0755 },
		{ cfg->snapshot_dir, "auth", 0700 },
		{ cfg->credentials_dir, NULL, 0700 },
		{ cfg->state_dir, NULL, 0700 },
	};
	char path[PATH_MAX], err[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd, r;

		r = iam_snprintf(path, sizeof(path), "%s%s%s", dirs[i].path,
				 dirs[i].sub ? "/" : "",
				 dirs[i].sub ? dirs[i].sub : "");
		if (r < 0) {
			iam_fault(faults, dirs[i].path, "path too long");
			return r;
		}
		fd = iam_ensure_dir(path, dirs[i].mode, 0, err, sizeof(err));
		if (fd < 0) {
			iam_fault(faults, NULL, "%s", err);
			return fd;
		}
		close(fd);
	}
	return 0;
}

/* Build both snapshots of id and replace them, with the generation. */
static int
write_snapshots(const struct iam_config *cfg, const struct iam_identity *id,
		struct iam_faults *faults)
{
	struct iam_buf nss = IAM_BUF_INIT, auth = IAM_BUF_INIT;
	struct iam_buf keys = IAM_BUF_INIT, roles = IAM_BUF_INIT;
	struct iam_atomic *set = NULL;
	char path[PATH_MAX], gtext[32];
	uint64_t gen;
	int r;

	r = iam_snapshot_generation(cfg, &gen);
	if (r < 0) {
		iam_fault(faults, cfg->snapshot_dir, GENERATION_FILE
			  ": unreadable or insecure (%s)", strerror(-r));
		return r;
	}
	gen++;
	snprintf(gtext, sizeof(gtext), "%llu\n", (unsigned long long)gen);
	r = iam_authdb_build(id, gen, &auth);
	if (r == 0)
		r = iam_nssdb_build(id, gen, &nss);
	if (r == 0)
		r = iam_keysdb_build(id, gen, &keys);
	if (r == 0)
		r = iam_rolesdb_build(id, gen, &roles);
	if (r < 0) {
		iam_fault(faults, NULL, "building the snapshots: %s",
			  strerror(-r));
		goto out;
	}
	r = iam_atomic_new(&set);
	/* The generation first: a crash after it skips a number, never reuses one. */
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/" GENERATION_FILE,
					cfg->snapshot_dir)) == 0)
		r = iam_atomic_add(set, path, gtext, strlen(gtext), 0600);
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/" AUTH_DB,
					cfg->snapshot_dir)) == 0)
		r = iam_atomic_add(set, path, auth.buf, auth.len, 0600);
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/" ROLES_DB,
					cfg->snapshot_dir)) == 0)
		r = iam_atomic_add(set, path, roles.buf, roles.len, 0600);
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/nss.db",
					cfg->snapshot_dir)) == 0)
		r = iam_atomic_add(set, path, nss.buf, nss.len, 0644);
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/" IAM_KEYSDB_FILE,
					cfg->snapshot_dir)) == 0)
		r = iam_atomic_add(set, path, keys.buf, keys.len, 0644);
	if (r == 0)
		r = iam_atomic_commit(set);
	if (r < 0)
		iam_fault(faults, cfg->snapshot_dir, "writing the snapshots: %s",
			  strerror(-r));
	iam_atomic_free(set);
out:
	iam_buf_release(&nss);
	iam_buf_release(&keys);
	iam_buf_release(&roles);
	iam_buf_wipe(&auth);
	return r;
}

/*
 * The whole publication under the lock.  When need_uid, the identity
 * must have a user with uid want_uid (a credential change for a user
 * the identity file does not have is refused).
 */
static int
publish(const struct iam_config *cfg, const char *host_root,
	struct iam_faults *faults, bool need_uid, uint32_t want_uid)
{
	struct iam_identity *id = NULL;
	size_t before = faults->n + faults->dropped;
	int r;

	r = iam_identity_load(cfg->identity_file, true, cfg, host_root, &id,
			      faults);
	if (r < 0) {
		if (r != -EINVAL && !iam_faults_any(faults))
			iam_fault(faults, cfg->identity_file, "%s",
				  strerror(-r));
		return r;
	}
	r = iam_creds_apply(cfg, id, faults);
	if (r == 0 && need_uid && iam_identity_user_by_uid(id, want_uid) == NULL) {
		iam_fault(faults, cfg->identity_file, "no user has uid %u",
			  want_uid);
		r = -ENOENT;
	}
	if (r == 0 && (faults->n + faults->dropped > before || faults->oom))
		r = -EINVAL;
	/* Only now: a refused publication creates nothing either. */
	if (r == 0)
		r = ensure_folders(cfg, faults);
	if (r == 0)
		r = write_snapshots(cfg, id, faults);
	iam_identity_free(id);
	return r;
}

int
iam_publish_locked(const struct iam_config *cfg, const char *host_root,
		   struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	int r;

	r = publish(cfg, host_root, faults ? faults : &scratch, false, 0);
	iam_faults_release(&scratch);
	return r;
}

int
iam_publish(const struct iam_config *cfg, const char *host_root,
	    struct iam_faults *faults)
{
	int lockfd, r;

	/* Before any file is opened: never a snapshot as fd 1 or 2. */
	r = iam_sanitize_fds();
	if (r < 0)
		return r;
	lockfd = iam_store_lock(cfg);
	if (lockfd < 0) {
		if (faults != NULL)
			iam_fault(faults, cfg->credentials_dir,
				  "cannot take the store's lock: %s",
				  strerror(-lockfd));
		return lockfd;
	}
	r = iam_publish_locked(cfg, host_root, faults);
	iam_store_unlock(lockfd);
	return r;
}

/* Put back the credential file as it was before a failed commit. */
static int
restore(const char *path, const struct iam_buf *old, bool existed)
{
	if (existed)
		return iam_write_atomic(path, old->buf, old->len, 0600);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int
iam_creds_commit(const struct iam_config *cfg, uint32_t uid,
		 const struct iam_creds *creds, const char *host_root,
		 struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct iam_buf old = IAM_BUF_INIT;
	char path[PATH_MAX];
	bool existed;
	int lockfd, r;

	if (creds == NULL || creds->uid != uid)
		return -EINVAL;
	if (faults == NULL)
		faults = &scratch;
	r = iam_sanitize_fds();
	if (r == 0)
		r = iam_snprintf(path, sizeof(path), "%s/%u.json",
				 cfg->credentials_dir, uid);
	if (r < 0)
		goto out;
	lockfd = iam_store_lock(cfg);
	if (lockfd < 0) {
		iam_fault(faults, cfg->credentials_dir,
			  "cannot take the store's lock: %s", strerror(-lockfd));
		r = lockfd;
		goto out;
	}
	r = iam_read_strict(path, IAM_STRICT_SECRET, 1u << 20, &old, NULL, 0);
	existed = r == 0;
	if (r < 0 && r != -ENOENT) {
		iam_fault(faults, path, "unreadable or insecure: %s",
			  strerror(-r));
		goto out_unlock;
	}
	r = iam_creds_save(cfg, creds);
	if (r < 0) {
		iam_fault(faults, path, "cannot be written: %s", strerror(-r));
		goto out_unlock;
	}
	r = publish(cfg, host_root, faults, true, uid);
	if (r < 0 && restore(path, &old, existed) < 0)
		iam_fault(faults, path, "could not be restored after the "
			  "failed publication");
out_unlock:
	iam_store_unlock(lockfd);
out:
	iam_buf_wipe(&old);
	iam_faults_release(&scratch);
	return r;
}
