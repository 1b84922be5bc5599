/*
 * publish.c - from the identity file and the credentials store to the
 * snapshots the host serves, as one transaction.
 *
 * A publication is a *generation*: a complete set written into a folder
 * of its own, snapshot_dir/gen/N/ (nss.db and keys.db 0644, generation
 * 0600, auth/ 0700 with auth.db and roles.db 0600), every file and
 * folder fsynced, and then made current by one atomic step: the rename
 * of a fresh symbolic link over snapshot_dir/current ("gen/N").  Readers
 * resolve current once per lookup (iam_snapshot_path()) and take every
 * file of that lookup from the one folder, so a kill, an I/O error or a
 * full disk at any instant leaves them on the whole old set or the whole
 * new set.  A generation folder is never changed once written; the one
 * current before the last switch is kept (a reader may have resolved it
 * an instant before), every older one is removed after the switch, and
 * whatever an interrupted publication left behind is removed by the next.
 *
 * snapshot_dir/nss.db, keys.db, generation and auth are fixed symbolic
 * links into current/, for people and tools that read the documented
 * paths.  A host still in the flat layout of earlier versions (no
 * current) is read as it is and moved over by its first publication.
 *
 * The identity file is committed inside the same transaction when the
 * caller hands its new text (iamctl): after the generation is written
 * and before the switch, with the old file kept as a hard link until the
 * switch succeeded, so a failure puts it back by one rename.  A kill
 * between the two renames leaves the identity file ahead of the served
 * set, never behind it: nothing a reader sees changed, and the next
 * publication (iam-sync.path runs one when the file changes) serves it.
 *
 * Over 600 lines: the one publication transaction; not split while the
 * streaming loader is written into it (names, leftovers and the doctor's
 * check are the parts that can leave).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/keys.h"
#include "iam/roles.h"
#include "authdb_format.h"
#include "nssdb.h"
#include "privsep_int.h"
#include "identity_int.h"
#include "util_int.h"

#define CURRENT		"current"
#define GEN_DIR		"gen"
#define GENERATION_FILE	"generation"
#define SOURCE_FILE	"source"

/* Test-only, in store.c: the Nth commit from now fails with -EIO. */
extern int store_fail_point;

/* The fixed links of the documented paths, each into current/. */
static const char *const compat_names[] = {
	"nss.db", IAM_KEYSDB_FILE, GENERATION_FILE, "auth", NULL
};

/* ---- Names ------------------------------------------------------------- */

/*
 * "." BASE "." and 16 hex digits: a temporary file of iam_write_atomic()
 * (store.c make_temp()) for the file BASE.  base NULL: any BASE that is
 * a credential file name (digits ".json").
 */
static bool
is_temp_of(const char *name, const char *base)
{
	size_t n = strlen(name), b;

	if (n < 19 || name[0] != '.' || name[n - 17] != '.')
		return false;
	for (size_t i = n - 16; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	b = n - 18;
	if (base != NULL)
		return strlen(base) == b && memcmp(name + 1, base, b) == 0;
	if (b <= 5 || memcmp(name + 1 + b - 5, ".json", 5) != 0)
		return false;
	for (size_t i = 1; i < 1 + b - 5; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/* A temporary link of a switch: ".current." and 16 hex digits. */
static bool
is_current_temp(const char *name)
{
	return is_temp_of(name, CURRENT);
}

/* The target of the link current: "gen/N".  -ENOENT none; -EBADMSG. */
static int
read_current_at(int snapfd, uint64_t *ret_gen)
{
	char t[64];
	ssize_t n;

	n = readlinkat(snapfd, CURRENT, t, sizeof(t) - 1);
	if (n < 0)
		return errno == EINVAL ? -EBADMSG : -errno;
	t[n] = '\0';
	if (strncmp(t, GEN_DIR "/", sizeof(GEN_DIR)) != 0 ||
	    iam_generation_parse(t + sizeof(GEN_DIR), ret_gen) < 0)
		return -EBADMSG;
	return 0;
}

int
iam_snapshot_path(const struct iam_config *cfg, const char *name, char *buf,
		  size_t len)
{
	char path[PATH_MAX], t[64];
	const char *sep = name != NULL && name[0] != '\0' ? "/" : "";
	uint64_t gen;
	ssize_t n;
	int r;

	if (name == NULL)
		name = "";
	r = iam_snprintf(path, sizeof(path), "%s/" CURRENT, cfg->snapshot_dir);
	if (r < 0)
		return r;
	n = readlink(path, t, sizeof(t) - 1);
	if (n < 0 && errno == ENOENT)	/* the flat layout of old */
		return iam_snprintf(buf, len, "%s%s%s", cfg->snapshot_dir,
				    sep, name);
	if (n < 0)
		return errno == EINVAL ? -EBADMSG : -errno;
	t[n] = '\0';
	if (strncmp(t, GEN_DIR "/", sizeof(GEN_DIR)) != 0 ||
	    iam_generation_parse(t + sizeof(GEN_DIR), &gen) < 0)
		return -EBADMSG;
	return iam_snprintf(buf, len, "%s/%s%s%s", cfg->snapshot_dir, t, sep,
			    name);
}

/* ---- Reading what is there --------------------------------------------- */

/* The generation in the header of a flat nss.db; 0 when unusable. */
static uint64_t
flat_nssdb_generation(int snapfd)
{
	struct iam_nssdb_header h;
	ssize_t n;
	int fd;

	fd = openat(snapfd, "nss.db", O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK);
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

/*
 * A flat generation file of old; 0 when absent, a link, or not a number:
 * it only ever helps numbering, so garbage in it is ignored rather than
 * blocking every later publication.
 */
static uint64_t
flat_generation_file(int snapfd)
{
	char text[32];
	uint64_t g;
	ssize_t n;
	int fd;

	fd = openat(snapfd, GENERATION_FILE, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	return iam_generation_parse(text, &g) == 0 ? g : 0;
}

/* Open a folder below dirfd: no symbolic link, a real folder. */
static int
open_subdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

static int
open_snapshot_dir(const struct iam_config *cfg)
{
	int fd = open(cfg->snapshot_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

/* Highest generation folder in gen/ (0 none) and the highest below cur. */
static void
scan_generations(int genfd, uint64_t cur, uint64_t *ret_max,
		 uint64_t *ret_prev)
{
	uint64_t max = 0, prev = 0, g;
	struct dirent *de;
	DIR *d;

	*ret_max = *ret_prev = 0;
	d = iam_opendir_dup(genfd);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (iam_generation_parse(de->d_name, &g) < 0)
			continue;
		if (g > max)
			max = g;
		if (g < cur && g > prev)
			prev = g;
	}
	closedir(d);
	*ret_max = max;
	*ret_prev = prev;
}

int
iam_snapshot_generation(const struct iam_config *cfg, uint64_t *ret_gen)
{
	uint64_t g = 0;
	int fd, r;

	fd = open_snapshot_dir(cfg);
	if (fd == -ENOENT) {
		*ret_gen = 0;
		return 0;
	}
	if (fd < 0)
		return fd;
	r = read_current_at(fd, &g);
	if (r == -ENOENT) {
		uint64_t a = flat_generation_file(fd);
		uint64_t b = flat_nssdb_generation(fd);

		g = a > b ? a : b;
		r = 0;
	}
	close(fd);
	if (r < 0)
		return r;
	*ret_gen = g;
	return 0;
}

/* ---- Removing ---------------------------------------------------------- */

/*
 * Remove name below dirfd and, when it is a real folder, what it holds
 * (a generation is two levels deep; depth caps the walk).  Best effort:
 * the first error is returned, the rest is still tried.
 */
static int
remove_at(int at, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int r;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth <= 0)
		return -ELOOP;
	r = iam_opendir_fd(open_subdir(at, name), &d);
	if (r < 0)
		return r;
	while ((de = readdir(d)) != NULL) {
		int q;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		q = remove_at(dirfd(d), de->d_name, depth - 1);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    r == 0)
		r = -errno;
	return r;
}

/* ---- Leftovers --------------------------------------------------------- */

typedef void (*leftover_fn)(void *ctx, int dirfd, const char *dir,
			    const char *name, const char *what);

/* Call fn for every entry of the folder path that pick() names. */
static void
each_in(const char *path, bool (*pick)(const char *name, const void *arg,
				       const char **what),
	const void *arg, leftover_fn fn, void *ctx)
{
	struct dirent *de;
	const char *what;
	DIR *d;

	d = iam_fdopendir(open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC | O_NOCTTY));
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (pick(de->d_name, arg, &what))
			fn(ctx, dirfd(d), path, de->d_name, what);
	closedir(d);
}

static bool
pick_snapshot_temp(const char *name, const void *arg, const char **what)
{
	static const char *const bases[] = {
		"nss.db", IAM_KEYSDB_FILE, GENERATION_FILE, "auth", NULL
	};

	(void)arg;
	*what = "a temporary file of an interrupted publication";
	if (is_current_temp(name))
		return true;
	for (size_t i = 0; bases[i] != NULL; i++)
		if (is_temp_of(name, bases[i]))
			return true;
	return false;
}

static bool
pick_auth_temp(const char *name, const void *arg, const char **what)
{
	(void)arg;
	*what = "a temporary file of an interrupted publication";
	return is_temp_of(name, IAM_AUTHDB_FILE) ||
	       is_temp_of(name, IAM_ROLESDB_FILE);
}

static bool
pick_identity_temp(const char *name, const void *base, const char **what)
{
	*what = "a temporary copy of the identity file left by an "
		"interrupted change";
	return is_temp_of(name, base);
}

/*
 * The private folder of an `iamctl edit` (EDIT_DIR_PREFIX, in the
 * identity file's folder) whose editor is gone: the live one holds an
 * exclusive flock on its "lock" file for as long as it runs.
 */
static bool
pick_edit_folder(const char *name, const void *dir, const char **what)
{
	char path[PATH_MAX];
	bool stale;
	int fd;

	*what = "the private folder of an interrupted iamctl edit (a copy of "
		"the identity file)";
	if (strncmp(name, IAM_EDIT_DIR_PREFIX,
		    sizeof(IAM_EDIT_DIR_PREFIX) - 1) != 0 ||
	    iam_snprintf(path, sizeof(path), "%s/%s/lock", (const char *)dir,
			 name) < 0)
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT;	/* killed before it took the lock */
	stale = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return stale;
}

static bool
pick_creds_temp(const char *name, const void *arg, const char **what)
{
	(void)arg;
	*what = "a temporary credential file left by an interrupted change";
	return is_temp_of(name, NULL);
}

struct gen_keep {
	uint64_t a, b;		/* generations to keep (0: none) */
};

static bool
pick_stale_generation(const char *name, const void *arg, const char **what)
{
	const struct gen_keep *k = arg;
	uint64_t g;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	if (iam_generation_parse(name, &g) < 0) {
		*what = "not a generation";
		return true;
	}
	if (g == k->a || g == k->b)
		return false;
	*what = g > k->a && g > k->b ?
		"a generation an interrupted publication left unfinished" :
		"an old generation";
	return true;
}

/*
 * Every leftover: temporaries of the publisher, of the identity file
 * and of the credentials, and generation folders other than keep (when
 * keep is NULL, generations are left out).
 */
static void
each_leftover(const struct iam_config *cfg, const struct gen_keep *keep,
	      leftover_fn fn, void *ctx)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *slash;

	each_in(cfg->snapshot_dir, pick_snapshot_temp, NULL, fn, ctx);
	if (iam_snprintf(path, sizeof(path), "%s/auth", cfg->snapshot_dir) == 0)
		each_in(path, pick_auth_temp, NULL, fn, ctx);
	if (keep != NULL &&
	    iam_snprintf(path, sizeof(path), "%s/" GEN_DIR,
			 cfg->snapshot_dir) == 0)
		each_in(path, pick_stale_generation, keep, fn, ctx);
	slash = strrchr(cfg->identity_file, '/');
	if (slash != NULL && slash[1] != '\0' &&
	    (size_t)(slash - cfg->identity_file) < sizeof(dir)) {
		memcpy(dir, cfg->identity_file,
		       (size_t)(slash - cfg->identity_file));
		dir[slash - cfg->identity_file] = '\0';
		each_in(dir[0] ? dir : "/", pick_identity_temp, slash + 1, fn,
			ctx);
		each_in(dir[0] ? dir : "/", pick_edit_folder, dir[0] ? dir :
			"", fn, ctx);
	}
	each_in(cfg->credentials_dir, pick_creds_temp, NULL, fn, ctx);
}

static void
remove_leftover(void *ctx, int dirfd, const char *dir, const char *name,
		const char *what)
{
	(void)ctx;
	(void)dir;
	(void)what;
	remove_at(dirfd, name, 3);
}

struct leftover_ctx {
	void (*fn)(void *ctx, const char *path, const char *what);
	void *ctx;
};

static void
report_leftover(void *ctx, int dirfd, const char *dir, const char *name,
		const char *what)
{
	struct leftover_ctx *l = ctx;
	char path[PATH_MAX];

	(void)dirfd;
	if (iam_snprintf(path, sizeof(path), "%s/%s", dir, name) == 0)
		l->fn(l->ctx, path, what);
}

/* The generations kept: current and the newest below it. */
static int
generations_to_keep(const struct iam_config *cfg, struct gen_keep *ret_keep)
{
	char path[PATH_MAX];
	uint64_t cur, max, prev;
	int snapfd, genfd, r;

	snapfd = open_snapshot_dir(cfg);
	if (snapfd < 0)
		return snapfd;
	r = read_current_at(snapfd, &cur);
	if (r == 0 && (r = iam_snprintf(path, sizeof(path), "%s/" GEN_DIR,
					cfg->snapshot_dir)) == 0) {
		genfd = open_subdir(snapfd, GEN_DIR);
		if (genfd >= 0) {
			scan_generations(genfd, cur, &max, &prev);
			close(genfd);
		} else {
			prev = 0;
		}
		ret_keep->a = cur;
		ret_keep->b = prev;
	}
	close(snapfd);
	return r;
}

int
iam_publish_leftovers(const struct iam_config *cfg,
		      void (*fn)(void *ctx, const char *path, const char *what),
		      void *ctx)
{
	struct leftover_ctx l = { fn, ctx };
	struct gen_keep keep;
	bool known = generations_to_keep(cfg, &keep) == 0;

	each_leftover(cfg, known ? &keep : NULL, report_leftover, &l);
	return 0;
}

/* The highest generation folder in gen/, finished or not; 0 none. */
static uint64_t
highest_generation(const struct iam_config *cfg)
{
	uint64_t max = 0, prev;
	int snapfd, genfd;

	snapfd = open_snapshot_dir(cfg);
	if (snapfd < 0)
		return 0;
	genfd = open_subdir(snapfd, GEN_DIR);
	if (genfd >= 0) {
		scan_generations(genfd, 0, &max, &prev);
		close(genfd);
	}
	close(snapfd);
	return max;
}

/* ---- Writing a generation ---------------------------------------------- */

/* A new file name below dirfd: written, mode set, fsynced, closed. */
static int
write_new_at(int dirfd, const char *name, const void *data, size_t len,
	     mode_t mode)
{
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	return iam_fill_file(fd, data, len, mode);
}

/* A new folder below dirfd, root's, mode as given; its descriptor. */
static int
mkdir_new_at(int dirfd, const char *name, mode_t mode)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0)
		return -errno;
	fd = open_subdir(dirfd, name);
	if (fd < 0)
		return fd;
	return iam_keep_fd(fd, iam_own_and_mode(fd, mode));
}

/* What one generation holds besides the snapshots built as it is written. */
struct gen_files {
	struct iam_buf source;
	char gtext[32];
};

static void
gen_files_release(struct gen_files *g)
{
	iam_buf_release(&g->source);
}

/* A snapshot builder: iam_keysdb_build() and its kind. */
typedef int (*snapshot_builder)(const struct iam_identity *id,
				uint64_t generation, struct iam_buf *out);

/*
 * Build one snapshot into memory, write it as name below dirfd, release
 * it: only one is held at a time.  *ret_built tells a failure to build
 * from one to write.
 */
static int
build_write_at(int dirfd, const char *name, mode_t mode, snapshot_builder fn,
	       const struct iam_identity *id, uint64_t gen, bool secret,
	       bool *ret_built)
{
	struct iam_buf b = IAM_BUF_INIT;
	int r;

	r = fn(id, gen, &b);
	*ret_built = r == 0;
	if (r == 0)
		r = write_new_at(dirfd, name, b.buf, b.len, mode);
	if (secret)
		iam_buf_wipe(&b);
	else
		iam_buf_release(&b);
	return r;
}

/* A snapshot writer: iam_authdb_write() and its kind. */
typedef int (*snapshot_writer)(const struct iam_identity *id,
			       uint64_t generation, int fd, bool *ret_io);

/*
 * auth.db and nss.db, the two that grow with the users, are written as
 * they are built: never whole in memory.
 */
static int
stream_write_at(int dirfd, const char *name, mode_t mode, snapshot_writer fn,
		const struct iam_identity *id, uint64_t gen, bool *ret_built)
{
	bool io = false;
	int fd, r;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	r = iam_own_and_mode(fd, mode);
	io = r < 0;
	if (r == 0) {
		r = fn(id, gen, fd, &io);
		*ret_built = r == 0 || io;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * Build and write gen/N completely and durably, one snapshot at a time;
 * on failure nothing of it stays.  *ret_built is false when a snapshot
 * could not be built (the identity's fault, not the disk's).
 */
static int
write_generation(int genfd, const char *name, const struct iam_identity *id,
		 uint64_t gen, const struct gen_files *g, bool *ret_built)
{
	int dfd, afd = -1, r;

	*ret_built = true;
	dfd = mkdir_new_at(genfd, name, 0755);
	if (dfd < 0)
		return dfd;
	r = stream_write_at(dfd, "nss.db", 0644, iam_nssdb_write, id, gen,
			    ret_built);
	if (r == 0)
		r = build_write_at(dfd, IAM_KEYSDB_FILE, 0644, iam_keysdb_build,
				   id, gen, false, ret_built);
	if (r == 0)
		r = write_new_at(dfd, GENERATION_FILE, g->gtext,
				 strlen(g->gtext), 0600);
	if (r == 0)
		r = write_new_at(dfd, SOURCE_FILE, g->source.buf, g->source.len,
				 0600);
	if (r == 0) {
		afd = mkdir_new_at(dfd, "auth", 0700);
		if (afd < 0)
			r = afd;
	}
	if (r == 0)
		r = stream_write_at(afd, IAM_AUTHDB_FILE, 0600,
				    iam_authdb_write, id, gen, ret_built);
	if (r == 0)
		r = build_write_at(afd, IAM_ROLESDB_FILE, 0600,
				   iam_rolesdb_build, id, gen, false, ret_built);
	if (r == 0 && fsync(afd) < 0)
		r = -errno;
	if (r == 0 && fsync(dfd) < 0)
		r = -errno;
	if (r == 0 && fsync(genfd) < 0)
		r = -errno;
	if (afd >= 0)
		close(afd);
	close(dfd);
	if (r < 0)
		remove_at(genfd, name, 3);
	return r;
}

/* A symbolic link to target under a fresh name ".BASE.<16 hex>". */
static int
link_temp_at(int dirfd, const char *base, const char *target, char *tmp,
	     size_t tmplen)
{
	for (int tries = 0; tries < 100; tries++) {
		int r = iam_temp_name(tmp, tmplen, base);

		if (r < 0)
			return r;
		if (symlinkat(target, dirfd, tmp) == 0) {
			/* A symlink's owner: root's, like everything here. */
			if (geteuid() == 0 &&
			    fchownat(dirfd, tmp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0) {
				r = -errno;
				unlinkat(dirfd, tmp, 0);
				return r;
			}
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/*
 * The fixed links nss.db, keys.db, generation and auth into current/.
 * A host coming from the flat layout has files and an auth/ folder
 * there: each is replaced (the readers use current/ already).  Best
 * effort: what fails now is done by the next publication.
 */
static void
ensure_compat_links(int snapfd)
{
	for (size_t i = 0; compat_names[i] != NULL; i++) {
		const char *name = compat_names[i];
		char want[64], have[64], tmp[NAME_MAX + 1];
		struct stat st;
		ssize_t n;

		snprintf(want, sizeof(want), CURRENT "/%s", name);
		n = readlinkat(snapfd, name, have, sizeof(have) - 1);
		if (n >= 0) {
			have[n] = '\0';
			if (strcmp(have, want) == 0)
				continue;
		}
		/* A folder of old (auth/) cannot be renamed over. */
		if (fstatat(snapfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && remove_at(snapfd, name, 2) < 0)
			continue;
		if (link_temp_at(snapfd, name, want, tmp, sizeof(tmp)) < 0)
			continue;
		if (renameat(snapfd, tmp, snapfd, name) < 0)
			unlinkat(snapfd, tmp, 0);
	}
	fsync(snapfd);
}

/* Remove every entry of gen/ but the generations of keep. */
static void
remove_stale_generations(int genfd, const struct gen_keep *keep)
{
	struct dirent *de;
	const char *what;
	DIR *d;

	d = iam_opendir_dup(genfd);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (pick_stale_generation(de->d_name, keep, &what))
			remove_at(genfd, de->d_name, 3);
	closedir(d);
	fsync(genfd);
}

/* ---- The identity file inside the transaction ------------------------- */

struct id_commit {
	int dirfd;			/* the folder of the identity file */
	const char *base;		/* its name there */
	char tmp[NAME_MAX + 1];		/* the new text, before the rename */
	char keep[NAME_MAX + 1];	/* the old file, a hard link */
	bool have_tmp, have_keep, renamed;
	struct stat st;			/* of the new file */
};

/* Open the folder of the identity file: root's, not writable by others. */
static int
open_identity_dir(const struct iam_config *cfg, struct id_commit *c)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(cfg->identity_file, '/');
	struct stat st;
	int fd;

	if (slash == NULL || slash[1] == '\0' ||
	    (size_t)(slash - cfg->identity_file) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, cfg->identity_file, (size_t)(slash - cfg->identity_file));
	dir[slash - cfg->identity_file] = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		  O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022)) {
		close(fd);
		return -EPERM;
	}
	c->dirfd = fd;
	c->base = slash + 1;
	return 0;
}

/* A fresh name ".BASE.<16 hex>" free in dirfd (for a link or a file). */
static int
temp_name(int dirfd, const char *base, char *tmp, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat st;
		int r = iam_temp_name(tmp, len, base);

		if (r < 0)
			return r;
		if (fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			return 0;
	}
	return -EEXIST;
}

/* Write the new text beside the identity file; nothing visible yet. */
static int
identity_stage(const struct iam_config *cfg, struct id_commit *c,
	       const char *text, size_t len)
{
	int fd, r;

	r = open_identity_dir(cfg, c);
	if (r < 0)
		return r;
	r = temp_name(c->dirfd, c->base, c->tmp, sizeof(c->tmp));
	if (r < 0)
		return r;
	fd = openat(c->dirfd, c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	c->have_tmp = true;
	r = iam_own_and_mode(fd, 0600);
	if (r == 0)
		r = iam_write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, &c->st) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Keep the old file as a hard link, then rename the new text into place. */
static int
identity_swap(struct id_commit *c)
{
	int r;

	r = temp_name(c->dirfd, c->base, c->keep, sizeof(c->keep));
	if (r < 0)
		return r;
	if (linkat(c->dirfd, c->base, c->dirfd, c->keep, 0) == 0)
		c->have_keep = true;
	else if (errno != ENOENT)
		return -errno;
	if (renameat(c->dirfd, c->tmp, c->dirfd, c->base) < 0)
		return -errno;
	c->have_tmp = false;
	c->renamed = true;
	if (fsync(c->dirfd) < 0)
		return -errno;
	return 0;
}

/* After a failure: the old file back in place, temporaries gone. */
static int
identity_rollback(struct id_commit *c)
{
	int r = 0;

	if (c->dirfd < 0)
		return 0;
	if (c->have_tmp && unlinkat(c->dirfd, c->tmp, 0) < 0 && errno != ENOENT)
		r = -errno;
	if (c->renamed) {
		if (c->have_keep) {
			if (renameat(c->dirfd, c->keep, c->dirfd, c->base) < 0)
				r = -errno;
			else
				c->have_keep = false;
		} else if (unlinkat(c->dirfd, c->base, 0) < 0) {
			r = -errno;
		}
		if (fsync(c->dirfd) < 0 && r == 0)
			r = -errno;
	}
	if (c->have_keep)
		unlinkat(c->dirfd, c->keep, 0);
	return r;
}

static void
identity_done(struct id_commit *c)
{
	if (c->dirfd < 0)
		return;
	if (c->have_keep)
		unlinkat(c->dirfd, c->keep, 0);
	close(c->dirfd);
	c->dirfd = -1;
}

/* ---- One publication ---------------------------------------------------- */

/* snapshot_dir and gen/ 0755, the runtime folders 0700, all root's. */
static int
ensure_folders(const struct iam_config *cfg, struct iam_faults *faults)
{
	const struct {
		const char *path;
		const char *sub;
		mode_t mode;
	} dirs[] = {
		{ cfg->snapshot_dir, NULL, 0755 },
		{ cfg->snapshot_dir, GEN_DIR, 0755 },
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

/* The identity file's identity, for doctor: changed since published? */
static int
source_line(struct iam_buf *out, const struct stat *st)
{
	return iam_buf_addf(out, "identity %llu %llu %lld %lld.%09ld\n",
			    (unsigned long long)st->st_dev,
			    (unsigned long long)st->st_ino,
			    (long long)st->st_size,
			    (long long)st->st_mtim.tv_sec,
			    (long)st->st_mtim.tv_nsec);
}

struct pub {
	const struct iam_config *cfg;
	const char *host_root;
	struct iam_faults *faults;
	bool need_uid;		/* the identity must have want_uid */
	uint32_t want_uid;
	const char *text;	/* the identity file's new text, or NULL */
	size_t len;
	bool repair;		/* also drop the previous generation */
};

/* Load and validate what is to be published, with the credentials. */
static int
load_source(const struct pub *p, struct iam_identity **ret_id)
{
	const struct iam_config *cfg = p->cfg;
	struct iam_faults *faults = p->faults;
	size_t before = faults->n + faults->dropped;
	struct iam_identity *id = NULL;
	int r;

	/* published, never written back: the file's own credentials'
	   sources are not kept */
	if (p->text != NULL)
		r = iam_id_parse(p->text, p->len, cfg, p->host_root,
				 IAM_ID_NO_SOURCES, &id, faults);
	else
		r = iam_id_load(cfg->identity_file, true, cfg, p->host_root,
				IAM_ID_NO_SOURCES, &id, faults);
	if (r < 0) {
		if (r != -EINVAL && !iam_faults_any(faults))
			iam_fault(faults, cfg->identity_file, "%s",
				  strerror(-r));
		return r;
	}
	r = iam_creds_apply(cfg, id, faults);
	if (r == 0 && p->need_uid &&
	    iam_identity_user_by_uid(id, p->want_uid) == NULL) {
		iam_fault(faults, cfg->identity_file, "no user has uid %u",
			  p->want_uid);
		r = -ENOENT;
	}
	if (r == 0 && (faults->n + faults->dropped > before || faults->oom))
		r = -EINVAL;
	if (r < 0) {
		iam_identity_free(id);
		return r;
	}
	/* the snapshots' builders look no user up: their room goes to them */
	iam_id_drop_user_indexes(id);
	*ret_id = id;
	return 0;
}

/*
 * A `current` that is not a link cannot be renamed over when it is a
 * folder; repairing removes it (readers fail closed on it anyway).
 */
static int
repair_current(int snapfd)
{
	struct stat st;

	if (fstatat(snapfd, CURRENT, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    S_ISLNK(st.st_mode))
		return 0;
	return remove_at(snapfd, CURRENT, 3);
}

/*
 * The whole publication under the lock: validate, write gen/N, commit
 * the identity text (when given), switch current, then clean up.
 */
static int
publish(const struct pub *p)
{
	const struct iam_config *cfg = p->cfg;
	struct iam_faults *faults = p->faults;
	struct id_commit idc = { .dirfd = -1 };
	struct gen_files g = { IAM_BUF_INIT, "" };
	struct iam_identity *id = NULL;
	uint64_t cur = 0, max = 0, prev = 0, hw, gen;
	char name[32], target[64], ltmp[NAME_MAX + 1];
	int snapfd = -1, genfd = -1, r, cr;
	bool have_gen = false, have_link = false, built = true;

	/*
	 * What an interrupted publication left goes first, to free its
	 * space; the numbers it used are not used again.
	 */
	{
		struct gen_keep keep;

		hw = highest_generation(cfg);
		each_leftover(cfg, generations_to_keep(cfg, &keep) == 0 ?
			      &keep : NULL, remove_leftover, NULL);
	}
	r = load_source(p, &id);
	/* Only now: a refused publication creates nothing either. */
	if (r == 0)
		r = ensure_folders(cfg, faults);
	if (r < 0)
		goto out;
	snapfd = open_snapshot_dir(cfg);
	if (snapfd < 0) {
		r = snapfd;
		iam_fault(faults, cfg->snapshot_dir, "%s", strerror(-r));
		goto out;
	}
	genfd = open_subdir(snapfd, GEN_DIR);
	if (genfd < 0) {
		r = genfd;
		iam_fault(faults, cfg->snapshot_dir, GEN_DIR ": %s",
			  strerror(-r));
		goto out;
	}
	if (p->repair && (r = repair_current(snapfd)) < 0) {
		iam_fault(faults, cfg->snapshot_dir, CURRENT
			  ": cannot be removed: %s", strerror(-r));
		goto out;
	}
	/* A broken current does not block: numbering goes on from gen/. */
	cr = read_current_at(snapfd, &cur);
	if (cr < 0)
		cur = 0;
	scan_generations(genfd, cur, &max, &prev);
	(void)prev;
	gen = cur > max ? cur : max;
	gen = hw > gen ? hw : gen;
	if (cr == -ENOENT) {
		uint64_t a = flat_generation_file(snapfd);
		uint64_t b = flat_nssdb_generation(snapfd);

		gen = a > gen ? a : gen;
		gen = b > gen ? b : gen;
	}
	gen++;
	snprintf(name, sizeof(name), "%llu", (unsigned long long)gen);
	snprintf(target, sizeof(target), GEN_DIR "/%s", name);

	snprintf(g.gtext, sizeof(g.gtext), "%llu\n", (unsigned long long)gen);
	if (p->text != NULL)
		r = identity_stage(cfg, &idc, p->text, p->len);
	if (r == 0) {
		struct stat st;

		if (p->text != NULL)
			r = source_line(&g.source, &idc.st);
		else if (stat(cfg->identity_file, &st) == 0)
			r = source_line(&g.source, &st);
	}
	if (r < 0) {
		iam_fault(faults, cfg->identity_file, "cannot be written: %s",
			  strerror(-r));
		goto out;
	}
	r = write_generation(genfd, name, id, gen, &g, &built);
	if (r < 0 && !built) {
		iam_fault(faults, NULL, "building the snapshots: %s",
			  strerror(-r));
		goto out;
	}
	if (r == 0) {
		have_gen = true;
		r = link_temp_at(snapfd, CURRENT, target, ltmp, sizeof(ltmp));
		have_link = r == 0;
	}
	if (r < 0) {
		iam_fault(faults, cfg->snapshot_dir, "writing the snapshots: %s",
			  strerror(-r));
		goto out;
	}
	if (p->text != NULL && (r = identity_swap(&idc)) < 0) {
		iam_fault(faults, cfg->identity_file, "cannot be written: %s",
			  strerror(-r));
		goto out;
	}
	if (store_fail_point > 0 && --store_fail_point == 0)
		r = -EIO;
	/* The one step that makes the change visible. */
	else if (renameat(snapfd, ltmp, snapfd, CURRENT) < 0)
		r = -errno;
	if (r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST) {
		iam_fault(faults, cfg->snapshot_dir, CURRENT ": a folder, not a "
			  "link; run iamctl sync --repair");
		r = -EEXIST;	/* a refusal, not an input that cannot be read */
		goto out;
	}
	if (r < 0) {
		iam_fault(faults, cfg->snapshot_dir, "writing the snapshots: %s",
			  strerror(-r));
		goto out;
	}
	have_link = false;
	have_gen = false;
	/*
	 * Visible now, so done: an error from here on cannot be reported
	 * as "nothing changed".  The folder is synced so that the switch
	 * survives a power cut; should that fail, the generation is still
	 * complete on disk either way.
	 */
	fsync(snapfd);
	identity_done(&idc);
	{
		struct gen_keep keep = { gen, p->repair ? 0 : cur };

		remove_stale_generations(genfd, &keep);
	}
	ensure_compat_links(snapfd);
	each_leftover(cfg, NULL, remove_leftover, NULL);
	r = 0;
out:
	if (r < 0) {
		int q = identity_rollback(&idc);

		if (q < 0)
			iam_fault(faults, cfg->identity_file, "could not be "
				  "restored after the failed publication: %s",
				  strerror(-q));
		if (have_link)
			unlinkat(snapfd, ltmp, 0);
		if (have_gen)
			remove_at(genfd, name, 3);
	}
	identity_done(&idc);
	if (genfd >= 0)
		close(genfd);
	if (snapfd >= 0)
		close(snapfd);
	gen_files_release(&g);
	iam_identity_free(id);
	return r;
}

int
iam_publish_locked(const struct iam_config *cfg, const char *host_root,
		   struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct pub p = { .cfg = cfg, .host_root = host_root,
			 .faults = faults ? faults : &scratch };
	int r;

	r = publish(&p);
	iam_faults_release(&scratch);
	return r;
}

int
iam_publish_text_locked(const struct iam_config *cfg, const char *host_root,
			const char *text, size_t len, struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct pub p = { .cfg = cfg, .host_root = host_root,
			 .faults = faults ? faults : &scratch,
			 .text = text ? text : "", .len = len };
	int r;

	r = publish(&p);
	iam_faults_release(&scratch);
	return r;
}

/* Take the lock, publish as p says, unlock. */
static int
publish_under_lock(struct pub *p)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	int lockfd, r;

	if (p->faults == NULL)
		p->faults = &scratch;
	/* Before any file is opened: never a snapshot as fd 1 or 2. */
	r = iam_sanitize_fds();
	if (r < 0)
		goto out;
	lockfd = iam_store_lock(p->cfg);
	if (lockfd < 0) {
		char why[160];

		iam_fault(p->faults, p->cfg->credentials_dir, "%s",
			  iam_store_lock_strerror(p->cfg, lockfd, why,
						  sizeof(why)));
		r = lockfd;
		goto out;
	}
	r = publish(p);
	iam_store_unlock(lockfd);
out:
	iam_faults_release(&scratch);
	return r;
}

int
iam_publish(const struct iam_config *cfg, const char *host_root,
	    struct iam_faults *faults)
{
	struct pub p = { .cfg = cfg, .host_root = host_root, .faults = faults };

	return publish_under_lock(&p);
}

int
iam_publish_repair(const struct iam_config *cfg, const char *host_root,
		   struct iam_faults *faults)
{
	struct pub p = { .cfg = cfg, .host_root = host_root, .faults = faults,
			 .repair = true };

	return publish_under_lock(&p);
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

/*
 * The credential file is an input of the generation, so it is written
 * first and published after, under the one lock.  A failure before the
 * switch puts the old file back and changes nothing a reader sees; a
 * kill between the two leaves a credential file ahead of the served
 * generation (readers still on the old set, whole), which the next
 * publication serves.  The reverse order could serve a password that
 * no file holds, and the next publication would take it back.
 *
 * The record is read, changed (by change, when given) and written all
 * under the lock, so a change made by another process between a
 * caller's own read and its write is never overwritten with stale data.
 */
static int
commit_locked(const struct iam_config *cfg, uint32_t uid,
	      const struct iam_creds *creds, iam_creds_change_fn change,
	      void *arg, const char *host_root, struct iam_faults *faults)
{
	struct iam_buf old = IAM_BUF_INIT;
	struct pub p = { .cfg = cfg, .host_root = host_root,
			 .need_uid = true, .want_uid = uid, .faults = faults };
	struct iam_creds *cur = NULL;
	char path[PATH_MAX];
	bool existed;
	int lockfd, r;

	r = iam_sanitize_fds();
	if (r == 0)
		r = iam_snprintf(path, sizeof(path), "%s/%u.json",
				 cfg->credentials_dir, uid);
	if (r < 0)
		return r;
	lockfd = iam_store_lock(cfg);
	if (lockfd < 0) {
		char why[160];

		iam_fault(faults, cfg->credentials_dir, "%s",
			  iam_store_lock_strerror(cfg, lockfd, why,
						  sizeof(why)));
		return lockfd;
	}
	r = iam_read_strict(path, IAM_STRICT_SECRET, 1u << 20, &old, NULL, 0);
	existed = r == 0;
	if (r < 0 && r != -ENOENT) {
		iam_fault(faults, path, "unreadable or insecure: %s",
			  strerror(-r));
		goto out_unlock;
	}
	if (change != NULL) {
		r = existed ? iam_creds_load(cfg, uid, &cur, faults) : 0;
		r = r ? r : change(&cur, arg);
		if (r == 0 && (cur == NULL || cur->uid != uid))
			r = -EINVAL;
		if (r < 0)
			goto out_unlock;
		creds = cur;
	}
	r = iam_creds_save(cfg, creds);
	if (r < 0) {
		iam_fault(faults, path, "cannot be written: %s", strerror(-r));
		/* A rename that went through before a failed folder sync. */
		if (restore(path, &old, existed) < 0)
			iam_fault(faults, path, "could not be restored");
		goto out_unlock;
	}
	r = publish(&p);
	if (r < 0 && restore(path, &old, existed) < 0)
		iam_fault(faults, path, "could not be restored after the "
			  "failed publication");
out_unlock:
	iam_store_unlock(lockfd);
	iam_creds_free(cur);
	iam_buf_wipe(&old);
	return r;
}

/* What commit_locked() is asked, for the child of commit_record(). */
struct commit_args {
	const struct iam_config *cfg;
	uint32_t uid;
	const struct iam_creds *creds;
	iam_creds_change_fn change;
	void *arg;
	const char *host_root;
};

static int
commit_in_child(void *arg, struct iam_faults *faults)
{
	const struct commit_args *a = arg;

	return commit_locked(a->cfg, a->uid, a->creds, a->change, a->arg,
			     a->host_root, faults);
}

/*
 * commit_locked(), in a child that is root entirely when this process
 * runs setuid for a user (passwd, su, sudo, login): that user cannot
 * stop it while it holds the store's lock (privsep.c).  Only the result
 * and the faults come back, so a change callback's writes into its arg
 * are lost there: pam_iam's callbacks return all they have to say in
 * their result; iamctl's, which record more, run as root entirely.
 */
static int
commit_record(const struct commit_args *a, struct iam_faults *faults)
{
	if (iam_privsep_wanted())
		return iam_privsep_run(commit_in_child, (void *)a, faults);
	return commit_locked(a->cfg, a->uid, a->creds, a->change, a->arg,
			     a->host_root, faults);
}

int
iam_creds_commit(const struct iam_config *cfg, uint32_t uid,
		 const struct iam_creds *creds, const char *host_root,
		 struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct commit_args a = { .cfg = cfg, .uid = uid, .creds = creds,
				 .host_root = host_root };
	int r;

	if (creds == NULL || creds->uid != uid)
		return -EINVAL;
	r = commit_record(&a, faults ? faults : &scratch);
	iam_faults_release(&scratch);
	return r;
}

int
iam_creds_update(const struct iam_config *cfg, uint32_t uid,
		 iam_creds_change_fn change, void *arg,
		 const char *host_root, struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct commit_args a = { .cfg = cfg, .uid = uid, .change = change,
				 .arg = arg, .host_root = host_root };
	int r;

	if (change == NULL)
		return -EINVAL;
	r = commit_record(&a, faults ? faults : &scratch);
	iam_faults_release(&scratch);
	return r;
}

/* ---- Checking what is published (doctor) ------------------------------- */

/* The generation in the header of dir/name (nss.db or keys.db). */
static int
header_generation(const char *dir, const char *name, uint64_t *ret_gen)
{
	unsigned char h[64];
	char path[PATH_MAX], err[PATH_MAX + 64];
	size_t off;
	ssize_t n;
	int fd, r;

	r = iam_snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (r < 0)
		return r;
	fd = iam_open_strict(path, 0, err, sizeof(err));
	if (fd < 0)
		return fd;
	n = read(fd, h, sizeof(h));
	close(fd);
	if (strcmp(name, "nss.db") == 0) {
		if (n < 40 || memcmp(h, IAM_NSSDB_MAGIC, 8) != 0)
			return -EBADMSG;
		off = offsetof(struct iam_nssdb_header, generation);
	} else {
		if (n < 64 || memcmp(h, IAM_KEYSDB_MAGIC, 8) != 0)
			return -EBADMSG;
		off = 24;	/* magic, version, buckets, file size */
	}
	memcpy(ret_gen, h + off, sizeof(*ret_gen));
	return 0;
}

/* The generation on the first line of roles.db: "IAMROLES1 N ...". */
static int
roles_generation(const char *dir, uint64_t *ret_gen)
{
	struct iam_buf b = IAM_BUF_INIT;
	char path[PATH_MAX], *sp;
	long long v;
	int r;

	r = iam_snprintf(path, sizeof(path), "%s/auth/" IAM_ROLESDB_FILE, dir);
	if (r == 0)
		r = iam_read_strict(path, IAM_STRICT_SECRET,
				    IAM_ROLESDB_MAX_BYTES, &b, NULL, 0);
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (b.len > sizeof(IAM_ROLESDB_MAGIC) &&
	    memcmp(b.buf, IAM_ROLESDB_MAGIC " ", sizeof(IAM_ROLESDB_MAGIC)) == 0) {
		sp = strchr(b.buf + sizeof(IAM_ROLESDB_MAGIC), ' ');
		if (sp != NULL) {
			*sp = '\0';
			if (iam_parse_ll(b.buf + sizeof(IAM_ROLESDB_MAGIC), 0,
					 LLONG_MAX, &v) == 0) {
				*ret_gen = (uint64_t)v;
				r = 0;
			}
		}
	}
	iam_buf_release(&b);
	return r;
}

static void
check_one(struct iam_faults *f, const char *dir, const char *name, int r,
	  uint64_t got, uint64_t want)
{
	if (r < 0)
		iam_fault(f, dir, "%s: unreadable (%s): a torn or damaged "
			  "generation; run iamctl sync --repair", name,
			  r == -EBADMSG ? "corrupt" : strerror(-r));
	else if (got != want)
		iam_fault(f, dir, "%s: generation %llu in a folder of generation "
			  "%llu: a torn set; run iamctl sync --repair", name,
			  (unsigned long long)got, (unsigned long long)want);
}

static bool
newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * A credential file written after the generation served (gen, made at
 * time *made) holds a change that never reached a publication: a passwd
 * or su killed between the two steps of iam_creds_commit(), whose
 * command failed.  The next publication, for whatever reason, would
 * serve it; said here so an administrator serves it now or restores it.
 */
static void
check_credentials(const struct iam_config *cfg, const struct timespec *made,
		  uint64_t gen, struct iam_faults *faults)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int dfd;

	dfd = iam_open_strict(cfg->credentials_dir, IAM_STRICT_DIR |
			      IAM_STRICT_SECRET, NULL, 0);
	if (dfd < 0)
		return;		/* none yet, or iamctl doctor's files check */
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.' || n < 6 ||
		    strcmp(e->d_name + n - 5, ".json") != 0 ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || !newer(&st.st_mtim, made))
			continue;
		iam_fault(faults, cfg->credentials_dir, "%s: changed after the "
			  "last published generation %llu (a change that was "
			  "never published, its command failed or was "
			  "killed); run iamctl sync to serve it, or restore "
			  "the file", e->d_name, (unsigned long long)gen);
	}
	closedir(d);
}

int
iam_publish_check(const struct iam_config *cfg, struct iam_faults *faults)
{
	char dir[PATH_MAX], err[PATH_MAX + 64];
	struct iam_authdb *db = NULL;
	struct stat st;
	uint64_t cur, g;
	size_t before = faults->n + faults->dropped;
	int snapfd, r;

	snapfd = open_snapshot_dir(cfg);
	if (snapfd < 0) {
		iam_fault(faults, cfg->snapshot_dir, "%s: nothing is published; "
			  "run iamctl sync", strerror(-snapfd));
		return -EINVAL;
	}
	r = read_current_at(snapfd, &cur);
	if (r == -ENOENT) {
		if (fstatat(snapfd, "nss.db", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			iam_fault(faults, cfg->snapshot_dir, "published in the "
				  "flat layout of an earlier version (no "
				  CURRENT "); run iamctl sync");
		else
			iam_fault(faults, cfg->snapshot_dir, CURRENT ": missing: "
				  "nothing is published; run iamctl sync");
		close(snapfd);
		return -EINVAL;
	}
	if (r < 0) {
		iam_fault(faults, cfg->snapshot_dir, CURRENT ": %s; run iamctl "
			  "sync --repair", r == -EBADMSG ?
			  "not a link to " GEN_DIR "/N" : strerror(-r));
		close(snapfd);
		return -EINVAL;
	}
	for (size_t i = 0; compat_names[i] != NULL; i++) {
		char have[64], want[64];
		ssize_t n = readlinkat(snapfd, compat_names[i], have,
				       sizeof(have) - 1);

		snprintf(want, sizeof(want), CURRENT "/%s", compat_names[i]);
		if (n >= 0)
			have[n] = '\0';
		if (n < 0 || strcmp(have, want) != 0)
			iam_fault(faults, cfg->snapshot_dir, "%s: not the link "
				  "%s; run iamctl sync", compat_names[i], want);
	}
	close(snapfd);
	r = iam_snapshot_path(cfg, NULL, dir, sizeof(dir));
	if (r < 0 || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		iam_fault(faults, cfg->snapshot_dir, CURRENT ": its generation "
			  "%llu is missing; run iamctl sync --repair",
			  (unsigned long long)cur);
		return -EINVAL;
	}
	check_credentials(cfg, &st.st_mtim, cur, faults);
	r = header_generation(dir, "nss.db", &g);
	check_one(faults, dir, "nss.db", r, g, cur);
	r = header_generation(dir, IAM_KEYSDB_FILE, &g);
	check_one(faults, dir, IAM_KEYSDB_FILE, r, g, cur);
	r = roles_generation(dir, &g);
	check_one(faults, dir, "auth/" IAM_ROLESDB_FILE, r, g, cur);
	{
		char adir[PATH_MAX];

		r = iam_snprintf(adir, sizeof(adir), "%s/auth", dir);
		if (r == 0)
			r = iam_authdb_open(adir, &db, err, sizeof(err));
		g = r == 0 ? iam_authdb_generation(db) : 0;
		db = iam_authdb_close(db);
		check_one(faults, dir, "auth/" IAM_AUTHDB_FILE, r, g, cur);
	}
	{
		struct iam_buf b = IAM_BUF_INIT;
		char path[PATH_MAX];

		r = iam_snprintf(path, sizeof(path), "%s/" GENERATION_FILE, dir);
		if (r == 0)
			r = iam_read_strict(path, IAM_STRICT_SECRET, 32, &b,
					    NULL, 0);
		if (r == 0) {
			b.buf[strcspn(b.buf, "\n")] = '\0';
			if (iam_generation_parse(b.buf, &g) < 0)
				r = -EBADMSG;
		}
		iam_buf_release(&b);
		check_one(faults, dir, GENERATION_FILE, r, g, cur);
	}
	/* Ahead of the served set: a hand edit, or a change killed midway. */
	{
		struct iam_buf b = IAM_BUF_INIT, now = IAM_BUF_INIT;
		char path[PATH_MAX];

		if (iam_snprintf(path, sizeof(path), "%s/" SOURCE_FILE, dir) == 0 &&
		    iam_read_strict(path, IAM_STRICT_SECRET, 256, &b, NULL, 0) == 0 &&
		    stat(cfg->identity_file, &st) == 0 &&
		    source_line(&now, &st) == 0 &&
		    (now.len != b.len || memcmp(now.buf, b.buf, b.len) != 0))
			iam_fault(faults, cfg->identity_file, "changed after "
				  "the last published snapshot (generation %llu; "
				  "a hand edit, or a change interrupted before "
				  "its switch): the host still serves the old "
				  "one; run iamctl sync (or iamctl validate to "
				  "see why it would be refused)",
				  (unsigned long long)cur);
		iam_buf_release(&b);
		iam_buf_release(&now);
	}
	return faults->n + faults->dropped > before ? -EINVAL : 0;
}
