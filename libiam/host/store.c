/*
 * store.c - files on a host: strict opening (the StrictModes habit of
 * sshd), strict folders, the store's lock, sane descriptors (atomic
 * replacement is in atomic.c).
 *
 * The store's lock is credentials_dir/.lock: credentials_dir is root
 * 0700, so no other user can even open the lock file to hold it, and a
 * setuid caller holds it only in a child that is root entirely
 * (privsep.c).  Still, a root process stopped or hung under it would
 * hold up every writer: it is waited for a bounded time, and the
 * refusal names the holder.
 */
#include <dirent.h>
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
#include <sys/sysmacros.h>
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

/* Milliseconds on the monotonic clock (never stepped back by a clock change). */
static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * flock(fd, op) tried without blocking, then again after naps of 1 ms
 * doubled up to 64 ms, until ms milliseconds have passed: -ETIMEDOUT.
 * Never a blocking flock, so no holder can make the caller wait longer.
 */
static int
flock_within(int fd, int op, long ms)
{
	struct timespec nap = { 0, 1000000 };
	long long end = now_ms() + ms;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		(void)nanosleep(&nap, NULL);
		if (nap.tv_nsec < 64000000)
			nap.tv_nsec *= 2;
	}
}

int
iam_flock_bounded(int fd, int op)
{
	return flock_within(fd, op, IAM_LOCK_WAIT_MS);
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
	return iam_store_lock_wait(cfg, IAM_STORE_LOCK_WAIT_MS);
}

int
iam_store_lock_wait(const struct iam_config *cfg, unsigned int ms)
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
	if (r == 0)
		r = flock_within(fd, LOCK_EX, ms);
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

/*
 * pid, a process of root's, has the file named want open: a descriptor
 * under /proc/PID/fd (at most 4096 looked at) whose link reads want.
 * Overlayfs may show a lock under its own device while stat() gives the
 * upper layer's: a lock on an inode of that number is the store's when
 * its holder has the store's lock file open.  Only the links are read,
 * never the files: a user's descriptor on a file system that does not
 * answer (FUSE) cannot hold this up, and a user's process is not looked
 * at (only root can open the lock file).
 */
static bool
holds_open(long pid, const char *want)
{
	char dir[64], fd[320], link[PATH_MAX];
	struct dirent *e;
	struct stat pst;
	bool found = false;
	ssize_t len;
	int n = 0;
	DIR *d;

	(void)snprintf(dir, sizeof(dir), "/proc/%ld", pid);
	if (stat(dir, &pst) < 0 || pst.st_uid != 0)
		return false;
	(void)snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	d = opendir(dir);
	if (d == NULL)
		return false;
	while (!found && n++ < 4096 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(fd, sizeof(fd), "%s/%s", dir, e->d_name);
		len = readlink(fd, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

/*
 * One line of /proc/locks: "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INO
 * START END" (major and minor in hex); a waiter's line has "->" after
 * "N:" and is skipped.  The kernel's word, unlike a pid written into the
 * file: it names the holder now, and a holder that died holds nothing.
 */
static bool
holder_line(const char *line, const struct stat *st, const char *want,
	    pid_t *ret_pid)
{
	char type[16], kind[16], mode[16];
	unsigned int maj, min;
	unsigned long long ino;
	long pid;

	if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", type, kind,
		   mode, &pid, &maj, &min, &ino) != 7)
		return false;
	if (strcmp(type, "FLOCK") != 0 || pid <= 0 || pid > INT_MAX ||
	    ino != (unsigned long long)st->st_ino)
		return false;
	if ((maj != major(st->st_dev) || min != minor(st->st_dev)) &&
	    !holds_open(pid, want))
		return false;
	*ret_pid = (pid_t)pid;
	return true;
}

/*
 * The name the kernel gives the lock file in /proc/PID/fd links (the
 * folders' links resolved as it sees them), or path itself.
 */
static void
lock_file_name(const char *path, char *buf, size_t len)
{
	char self[64];
	ssize_t n = -1;
	int fd;

	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		n = readlink(self, buf, len - 1);
		close(fd);
	}
	if (n > 0)
		buf[n] = '\0';
	else
		(void)snprintf(buf, len, "%s", path);
}

int
iam_store_lock_holder(const struct iam_config *cfg, pid_t *ret_pid)
{
	char path[PATH_MAX], line[256], want[PATH_MAX];
	struct stat st;
	bool whole = true;
	FILE *f;
	int r = -ENOENT;

	if (iam_snprintf(path, sizeof(path), "%s/.lock",
			 cfg->credentials_dir) < 0)
		return -ENAMETOOLONG;
	if (lstat(path, &st) < 0)
		return -errno;
	lock_file_name(path, want, sizeof(want));
	f = fopen("/proc/locks", "re");
	if (f == NULL)
		return -errno;
	/* A line longer than the buffer is skipped, all of its pieces. */
	while (r == -ENOENT && fgets(line, sizeof(line), f) != NULL) {
		bool start = whole;

		whole = strchr(line, '\n') != NULL;
		if (start && holder_line(line, &st, want, ret_pid))
			r = 0;
	}
	fclose(f);
	return r;
}

const char *
iam_store_lock_strerror(const struct iam_config *cfg, int r, char *buf,
			size_t len)
{
	pid_t pid;

	if (r != -ETIMEDOUT)
		(void)snprintf(buf, len, "cannot take the store's lock: %s",
			       strerror(-r));
	else if (iam_store_lock_holder(cfg, &pid) == 0)
		(void)snprintf(buf, len, IAM_STORE_LOCKED_MSG " (pid %ld)",
			       (long)pid);
	else
		(void)snprintf(buf, len, IAM_STORE_LOCKED_MSG);
	return buf;
}
