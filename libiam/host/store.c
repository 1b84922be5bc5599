/*
 * store.c - files on a host: strict opening (the StrictModes habit of
 * sshd), strict folders, the store's lock, sane descriptors (atomic
 * replacement is in atomic.c).
 *
 * The store's lock is credentials_dir/.lock: credentials_dir is root
 * 0700, so no other user can even open the lock file to hold it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam/store.h"
#include "util_int.h"

int
iam_sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", O_RDWR);
		if (nfd < 0)
			return -errno;
		if (nfd != fd) {
			close(nfd);
			return -EBADF;
		}
	}
	return 0;
}

int
iam_setuid_harden(void)
{
	static const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	static const struct rlimit none = { 0, 0 };

	if (iam_sanitize_fds() < 0)
		return -EBADF;
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)signal(SIGXFSZ, SIG_IGN);
	if (geteuid() == 0 && setrlimit(RLIMIT_FSIZE, &unlimited) < 0)
		return -errno;
	(void)setrlimit(RLIMIT_CORE, &none);
	if (clearenv() != 0)
		return -ENOMEM;
	umask(077);
	return geteuid() == 0 ? 0 : -EPERM;
}

static int
refuse(char *err, size_t errlen, int r, const char *path, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

/* The mode and owner rules, applied to one fstat()ed object. */
static int
check_stat(const struct stat *st, const char *path, int flags, bool parent,
	   char *err, size_t errlen)
{
	bool sticky = parent && (st->st_mode & S_ISVTX);

	if (!(flags & IAM_STRICT_ANY_OWNER) && st->st_uid != 0)
		return refuse(err, errlen, -EPERM, path, "is not owned by root");
	if ((st->st_mode & S_IWOTH) && !sticky)
		return refuse(err, errlen, -EPERM, path,
			      "is writable by others");
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky)
		return refuse(err, errlen, -EPERM, path,
			      "is writable by group");
	if (!parent && (st->st_mode & S_IWGRP))
		return refuse(err, errlen, -EPERM, path,
			      "is writable by group or others");
	if (!parent && (flags & IAM_STRICT_SECRET) && (st->st_mode & 0044))
		return refuse(err, errlen, -EPERM, path,
			      "is readable by group or others");
	return 0;
}

/* Every folder above path: root-owned, not writable by others. */
int
iam_check_parents(const char *path, int flags, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (iam_snprintf(dir, sizeof(dir), "%s", path) < 0)
		return refuse(err, errlen, -ENAMETOOLONG, path, "path too long");
	for (;;) {
		slash = strrchr(dir, '/');
		if (slash == NULL)
			return 0;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) < 0)
			return refuse(err, errlen, -errno, dir, strerror(errno));
		if (check_stat(&st, dir, flags, true, err, errlen) < 0)
			return -EPERM;
		if (strcmp(dir, "/") == 0)
			return 0;
	}
}

int
iam_open_strict(const char *path, int flags, char *err, size_t errlen)
{
	/* No O_DIRECTORY (a symlink would be ENOTDIR, not ELOOP); O_NONBLOCK
	   so a FIFO put in place of a file cannot block the caller. */
	int oflags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct stat st;
	int fd, r;

	if (path == NULL || path[0] != '/')
		return refuse(err, errlen, -EINVAL, path ? path : "(null)",
			      "is not an absolute path");
	fd = open(path, oflags);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			return refuse(err, errlen, r, path, "is a symbolic link");
		return refuse(err, errlen, r, path, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return refuse(err, errlen, r, path, strerror(-r));
	}
	if ((flags & IAM_STRICT_DIR) && !S_ISDIR(st.st_mode)) {
		close(fd);
		return refuse(err, errlen, -ENOTDIR, path, "is not a folder");
	}
	if (!(flags & IAM_STRICT_DIR) && !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(err, errlen, -EPERM, path, "is not a regular file");
	}
	r = check_stat(&st, path, flags, false, err, errlen);
	if (r == 0)
		r = iam_check_parents(path, flags, err, errlen);
	return iam_keep_fd(fd, r);
}

DIR *
iam_fdopendir(int fd)
{
	DIR *d;
	int e;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int
iam_opendir_fd(int fd, DIR **ret)
{
	if (fd < 0)
		return fd;
	*ret = iam_fdopendir(fd);
	return *ret != NULL ? 0 : -errno;
}

DIR *
iam_opendir_dup(int dirfd)
{
	DIR *d = iam_fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 3));

	if (d != NULL)
		rewinddir(d);	/* the offset is shared with dirfd */
	return d;
}

int
iam_map_strict(const char *path, int flags, size_t min, size_t max,
	       struct iam_map *ret_map, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd, r;

	fd = iam_open_strict(path, flags, err, errlen);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return refuse(err, errlen, r, path, strerror(-r));
	}
	if (min == 0)
		min = 1;
	if (st.st_size < 0 || (uint64_t)st.st_size < min ||
	    (uint64_t)st.st_size > max) {
		close(fd);
		return refuse(err, errlen, -EBADMSG, path,
			      "is truncated or too large");
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	r = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r < 0)
		return refuse(err, errlen, r, path, strerror(-r));
	ret_map->p = p;
	ret_map->size = (size_t)st.st_size;
	return 0;
}

void
iam_unmap(struct iam_map *m)
{
	if (m->p != NULL)
		munmap(m->p, m->size);
	m->p = NULL;
	m->size = 0;
}

int
iam_read_strict(const char *path, int flags, size_t max,
		struct iam_buf *ret_buf, char *err, size_t errlen)
{
	struct iam_buf b = IAM_BUF_INIT;
	int fd, r = 0;

	fd = iam_open_strict(path, flags, err, errlen);
	if (fd < 0)
		return fd;
	r = iam_buf_read_fd(&b, fd, max);
	if (r == -EFBIG)
		r = refuse(err, errlen, r, path, "is over the size limit");
	else if (r < 0)
		r = refuse(err, errlen, r, path, strerror(-r));
	close(fd);
	if (r < 0) {
		if (flags & IAM_STRICT_SECRET)
			iam_buf_wipe(&b);
		else
			iam_buf_release(&b);
		return r;
	}
	*ret_buf = b;
	return 0;
}

/*
 * Open a folder without following a final symbolic link.  O_DIRECTORY
 * is left out on purpose: with it a symlink gives ENOTDIR rather than
 * ELOOP, and the reason would be lost.  O_NONBLOCK: a FIFO never blocks.
 */
int
iam_open_dir_nofollow(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/* ---- Folders ----------------------------------------------------------- */

int
iam_ensure_dir(const char *path, mode_t mode, int flags, char *err,
	       size_t errlen)
{
	bool created = false;
	struct stat st;
	int fd, r;

	if (path == NULL || path[0] != '/')
		return refuse(err, errlen, -EINVAL, path ? path : "(null)",
			      "is not an absolute path");
	r = iam_check_parents(path, flags, err, errlen);
	if (r < 0)
		return r;
	/* 0700 whatever mode: the explicit fchmod below widens it. */
	if (mkdir(path, 0700) == 0)
		created = true;
	else if (errno != EEXIST)
		return refuse(err, errlen, -errno, path, strerror(errno));
	fd = iam_open_dir_nofollow(path);
	if (fd < 0) {
		r = fd;
		if (r == -ELOOP)
			return refuse(err, errlen, r, path, "is a symbolic link");
		if (r == -ENOTDIR)
			return refuse(err, errlen, r, path, "is not a folder");
		return refuse(err, errlen, r, path, strerror(-r));
	}
	if (created && ((geteuid() == 0 && fchown(fd, 0, 0) < 0) ||
			fchmod(fd, mode) < 0)) {
		r = refuse(err, errlen, -errno, path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = refuse(err, errlen, -errno, path, strerror(errno));
		goto fail;
	}
	if (!(flags & IAM_STRICT_ANY_OWNER) && st.st_uid != 0) {
		r = refuse(err, errlen, -EPERM, path, "is not owned by root");
		goto fail;
	}
	if (st.st_mode & 0077 & ~mode) {
		char why[64];

		snprintf(why, sizeof(why), "has mode %04o, more open than %04o",
			 (unsigned)(st.st_mode & 07777), (unsigned)mode);
		r = refuse(err, errlen, -EPERM, path, why);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int
iam_flock_bounded(int fd, int op)
{
	struct timespec nap = { 0, 1000000 };	/* 1 ms, doubled up to 64 ms */
	long waited_ms = 0;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited_ms >= IAM_LOCK_WAIT_MS)
			return -ETIMEDOUT;
		(void)nanosleep(&nap, NULL);
		waited_ms += nap.tv_nsec / 1000000;
		if (nap.tv_nsec < 64000000)
			nap.tv_nsec *= 2;
	}
}

/* ---- The store's lock ------------------------------------------------- */

/*
 * Create the missing folders above path (root 0755), as on a fresh host
 * where /var/lib/iam does not exist yet.  Existing ones are left alone:
 * iam_ensure_dir() then checks every parent.
 */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];

	if (iam_snprintf(dir, sizeof(dir), "%s", path) < 0)
		return -ENAMETOOLONG;
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) == 0) {
			if ((geteuid() == 0 && chown(dir, 0, 0) < 0) ||
			    chmod(dir, 0755) < 0)
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

int
iam_store_lock(const struct iam_config *cfg)
{
	struct stat st;
	int dfd, fd, r = 0;

	r = make_parents(cfg->credentials_dir);
	if (r < 0)
		return r;
	dfd = iam_ensure_dir(cfg->credentials_dir, 0700, 0, NULL, 0);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY, 0600);
	if (fd < 0)
		r = -errno;
	close(dfd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		r = -EPERM;
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
		r = -errno;
	else if (st.st_gid != 0 && geteuid() == 0 && fchown(fd, 0, 0) < 0)
		r = -errno;
	while (r == 0 && flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

void
iam_store_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);	/* releases the flock */
}
