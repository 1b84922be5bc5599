/*
 * atomic.c - atomic replacement of files (iam/atomic.h): each new file
 * written beside its target and fsync'd, then renamed over it; a set of
 * files is committed only when every one was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/atomic.h"
#include "iam/store.h"
#include "util_int.h"

/* ---- Atomic writes ----------------------------------------------------- */

/*
 * Test-only fault injection: when set to N > 0, the Nth call of
 * iam_atomic_commit() from then on fails with -EIO after every temporary
 * file was written and before the first rename.  Not part of the
 * exported interface (libiam.map exports iam_* only).
 */
int store_fail_point;

struct atomic_file {
	int dirfd;		/* the folder of the file */
	char *base;		/* final name inside it */
	char tmp[NAME_MAX + 1];	/* temporary name inside it */
	bool done;		/* renamed into place */
};

struct iam_atomic {
	struct atomic_file *v;
	size_t n;
};

int
iam_atomic_new(struct iam_atomic **ret_set)
{
	struct iam_atomic *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	*ret_set = s;
	return 0;
}

struct iam_atomic *
iam_atomic_free(struct iam_atomic *s)
{
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].done)
			unlinkat(s->v[i].dirfd, s->v[i].tmp, 0);
		close(s->v[i].dirfd);
		free(s->v[i].base);
	}
	free(s->v);
	free(s);
	return NULL;
}

/*
 * The folder of an atomic write: a real folder owned by root (or by the
 * caller), not writable by group or others, parents likewise.
 */
static int
open_write_dir(const char *dir)
{
	int flags = geteuid() == 0 ? 0 : IAM_STRICT_ANY_OWNER;
	struct stat st;
	int fd, r;

	fd = iam_open_dir_nofollow(dir);
	if (fd < 0)
		return fd;
	r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		 (st.st_mode & 0022))
		r = -EPERM;
	else
		r = iam_check_parents(dir, flags, NULL, 0);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int
iam_write_all(int fd, const void *data, size_t len)
{
	struct iam_fsize_guard g;
	const char *p = data;
	int r = 0;

	/* Whatever RLIMIT_FSIZE a setuid caller brought (fsize.c). */
	iam_fsize_lift(&g);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	iam_fsize_restore(&g);
	return r;
}

static int
make_temp(int dirfd, const char *base, char *tmp, size_t tmplen)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = iam_temp_name(tmp, tmplen, base);

		if (fd < 0)
			return fd;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int
iam_own_and_mode(int fd, mode_t mode)
{
	if (geteuid() == 0 && fchown(fd, 0, 0) < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		return -errno;
	return 0;
}

int
iam_fill_file(int fd, const void *data, size_t len, mode_t mode)
{
	int r;

	r = iam_own_and_mode(fd, mode);
	if (r == 0)
		r = iam_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int
iam_atomic_add(struct iam_atomic *s, const char *path, const void *data,
	       size_t len, mode_t mode)
{
	char dir[PATH_MAX];
	struct atomic_file *v, *f;
	const char *slash;
	int fd, r;

	slash = path ? strrchr(path, '/') : NULL;
	if (slash == NULL || path[0] != '/' || slash[1] == '\0' ||
	    strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return -EINVAL;
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		strcpy(dir, "/");
	v = reallocarray(s->v, s->n + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	s->v = v;
	f = &s->v[s->n];
	memset(f, 0, sizeof(*f));
	f->base = strdup(slash + 1);
	if (f->base == NULL)
		return -ENOMEM;
	f->dirfd = open_write_dir(dir);
	if (f->dirfd < 0) {
		r = f->dirfd;
		goto fail_base;
	}
	fd = make_temp(f->dirfd, f->base, f->tmp, sizeof(f->tmp));
	if (fd < 0) {
		r = fd;
		goto fail_dir;
	}
	r = iam_fill_file(fd, data, len, mode);
	if (r < 0) {
		unlinkat(f->dirfd, f->tmp, 0);
		goto fail_dir;
	}
	s->n++;
	return 0;
fail_dir:
	close(f->dirfd);
fail_base:
	free(f->base);
	return r;
}

int
iam_atomic_commit(struct iam_atomic *s)
{
	if (store_fail_point > 0 && --store_fail_point == 0)
		return -EIO;
	for (size_t i = 0; i < s->n; i++) {
		struct atomic_file *f = &s->v[i];

		if (f->done)
			continue;
		if (renameat(f->dirfd, f->tmp, f->dirfd, f->base) < 0)
			return -errno;
		f->done = true;
	}
	for (size_t i = 0; i < s->n; i++)
		if (fsync(s->v[i].dirfd) < 0)
			return -errno;
	return 0;
}

int
iam_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct iam_atomic *s;
	int r;

	r = iam_atomic_new(&s);
	if (r < 0)
		return r;
	r = iam_atomic_add(s, path, data, len, mode);
	if (r == 0)
		r = iam_atomic_commit(s);
	iam_atomic_free(s);
	return r;
}
