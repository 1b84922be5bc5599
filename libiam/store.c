/*
 * store.c - files on a host: strict opening (the StrictModes habit of
 * sshd), atomic replacement, the store's lock, sane descriptors.
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
static int
check_parents(const char *path, int flags, char *err, size_t errlen)
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
	int oflags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd, r;

	if (path == NULL || path[0] != '/')
		return refuse(err, errlen, -EINVAL, path ? path : "(null)",
			      "is not an absolute path");
	if (flags & IAM_STRICT_DIR)
		oflags |= O_DIRECTORY;
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
	if (!(flags & IAM_STRICT_DIR) && !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(err, errlen, -EPERM, path, "is not a regular file");
	}
	r = check_stat(&st, path, flags, false, err, errlen);
	if (r == 0)
		r = check_parents(path, flags, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
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
	for (;;) {
		ssize_t n;

		if (b.len > max) {
			r = refuse(err, errlen, -EFBIG, path,
				   "is over the size limit");
			break;
		}
		r = iam_buf_grow(&b, 64 << 10);
		if (r < 0)
			break;
		n = read(fd, b.buf + b.len, b.alloc - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = refuse(err, errlen, -errno, path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.buf[b.len] = '\0';
	}
	close(fd);
	if (r < 0) {
		if (flags & IAM_STRICT_SECRET)
			iam_buf_wipe(&b);
		else
			iam_buf_release(&b);
		return r;
	}
	if (b.buf == NULL && iam_buf_grow(&b, 0) < 0)
		return -ENOMEM;
	*ret_buf = b;
	return 0;
}
