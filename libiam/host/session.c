/*
 * session.c - per login session records under run_dir: when MFA was last
 * passed and from where, keyed by the kernel audit session id so one
 * session's MFA never vouches for another.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/session.h"
#include "iam/store.h"

#define SESSION_MAGIC	"IAMSESS1"
#define SESSION_DIR	"sessions"
#define UNSET_SESSION	4294967295ULL

/* A small /proc file, whole, NUL-terminated: its length, -errno or -EIO. */
static ssize_t
read_proc_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return n;
}

static int
kernel_session(uint64_t *ret)
{
	char buf[32];
	long long v;
	ssize_t n;
	int r;

	n = read_proc_file("/proc/self/sessionid", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	buf[strcspn(buf, "\n")] = '\0';
	r = iam_parse_ll(buf, 0, (long long)UNSET_SESSION, &v);
	if (r < 0)
		return r;
	if ((uint64_t)v == UNSET_SESSION)
		return -ENOENT;
	*ret = (uint64_t)v;
	return 0;
}

int
iam_session_key(uint32_t uid, const char *tty, char *buf, size_t len)
{
	char t[64];
	uint64_t sid = 0;
	size_t i;

	if (kernel_session(&sid) == 0)
		return iam_snprintf(buf, len, "s%" PRIu64, sid);
	if (tty == NULL || tty[0] == '\0')
		tty = "notty";
	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	/* Only safe characters reach a file name. */
	for (i = 0; tty[i] != '\0' && i < sizeof(t) - 1; i++) {
		char c = tty[i];

		t[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '-' ? c : '_';
	}
	t[i] = '\0';
	return iam_snprintf(buf, len, "u%" PRIu32 "-%s", uid, t);
}

static bool
session_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 80 || key[0] == '.')
		return false;
	return strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

static int
ensure_private_dir(const char *path, int strict_flags)
{
	bool created = mkdir(path, 0700) == 0;
	int fd, r = 0;

	fd = iam_open_strict(path, strict_flags | IAM_STRICT_DIR |
			     IAM_STRICT_SECRET, NULL, 0);
	if (fd < 0)
		return fd;
	/* Made here: root:root 0700 whatever a setuid caller's group. */
	if (created && ((geteuid() == 0 && fchown(fd, 0, 0) < 0) ||
			fchmod(fd, 0700) < 0))
		r = -errno;
	close(fd);
	return r;
}

int
iam_run_dir_prepare(const char *run_dir, int strict_flags)
{
	char sub[PATH_MAX];
	int r;

	if (run_dir == NULL || run_dir[0] != '/')
		return -EINVAL;
	r = ensure_private_dir(run_dir, strict_flags);
	r = r ? r : iam_snprintf(sub, sizeof(sub), "%s/%s", run_dir,
				 SESSION_DIR);
	return r ? r : ensure_private_dir(sub, strict_flags);
}

int
iam_session_write(const char *run_dir, const char *key,
		  const struct iam_session_rec *rec, int strict_flags)
{
	char path[PATH_MAX], line[512];
	char rhost[sizeof(rec->rhost)];
	size_t n;
	int r;

	if (key == NULL || !session_key_valid(key) || rec == NULL || rec->mfa_time < 0)
		return -EINVAL;
	/* The address is stored as one token: no blank, no control. */
	n = strnlen(rec->rhost, sizeof(rec->rhost) - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)rec->rhost[i];

		rhost[i] = c > 0x20 && c < 0x7f ? (char)c : '_';
	}
	rhost[n] = '\0';
	r = iam_run_dir_prepare(run_dir, strict_flags);
	r = r ? r : iam_snprintf(path, sizeof(path), "%s/%s/%s", run_dir,
				 SESSION_DIR, key);
	r = r ? r : iam_snprintf(line, sizeof(line), "%s %" PRIu32 " %" PRId64
				 " %s\n", SESSION_MAGIC, rec->uid,
				 rec->mfa_time, n > 0 ? rhost : "-");
	return r ? r : iam_write_atomic(path, line, strlen(line), 0600);
}

int
iam_session_read(const char *run_dir, const char *key,
		 struct iam_session_rec *ret_rec, int strict_flags)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_session_rec rec;
	char path[PATH_MAX];
	char *f[4], *save = NULL, *p;
	long long v = 0;
	int r, i;

	if (run_dir == NULL || key == NULL || !session_key_valid(key))
		return -EINVAL;
	r = iam_snprintf(path, sizeof(path), "%s/%s/%s", run_dir, SESSION_DIR,
			 key);
	r = r ? r : iam_read_strict(path, strict_flags | IAM_STRICT_SECRET,
				    1024, &b, NULL, 0);
	if (r < 0)
		return r;
	if (b.len == 0 || b.buf[b.len - 1] != '\n') {
		iam_buf_release(&b);
		return -EBADMSG;
	}
	b.buf[b.len - 1] = '\0';
	for (i = 0, p = b.buf; i < 4; i++, p = NULL)
		if ((f[i] = strtok_r(p, " ", &save)) == NULL)
			break;
	memset(&rec, 0, sizeof(rec));
	r = i == 4 && strtok_r(NULL, " ", &save) == NULL &&
		strcmp(f[0], SESSION_MAGIC) == 0 ? 0 : -EBADMSG;
	r = r ? r : iam_parse_ll(f[1], 0, UINT32_MAX, &v);
	rec.uid = (uint32_t)v;
	r = r ? r : iam_parse_ll(f[2], 0, INT64_MAX, &v);
	rec.mfa_time = v;
	if (r == 0 && strcmp(f[3], "-") != 0)
		r = iam_snprintf(rec.rhost, sizeof(rec.rhost), "%s", f[3]);
	iam_buf_release(&b);
	if (r < 0)
		return r == -EINVAL || r == -EDOM ? -EBADMSG : r;
	*ret_rec = rec;
	return 0;
}

void
iam_session_source(const char *run_dir, const char *key, const char *rhost,
		   struct iam_session_rec *rec, int strict_flags)
{
	struct iam_session_rec old;

	rec->rhost[0] = '\0';
	if (rhost != NULL && iam_is_ip_address(rhost) &&
	    strlen(rhost) < sizeof(rec->rhost)) {
		memcpy(rec->rhost, rhost, strlen(rhost) + 1);
		return;
	}
	if (iam_session_read(run_dir, key, &old, strict_flags) == 0)
		memcpy(rec->rhost, old.rhost, sizeof(rec->rhost));
}

int
iam_session_remove(const char *run_dir, const char *key, int strict_flags)
{
	char path[PATH_MAX];
	int r;

	if (run_dir == NULL || key == NULL || !session_key_valid(key))
		return -EINVAL;
	r = iam_snprintf(path, sizeof(path), "%s/%s", run_dir, SESSION_DIR);
	r = r ? r : iam_open_strict(path, strict_flags | IAM_STRICT_DIR |
				    IAM_STRICT_SECRET, NULL, 0);
	if (r < 0)
		return r;
	if (unlinkat(r, key, 0) < 0) {
		int e = -errno;

		close(r);
		return e;
	}
	close(r);
	return 0;
}

/* Field 22 of /proc/PID/stat: the start time, in clock ticks since boot. */
static int
start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int r;

	r = iam_snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (r < 0)
		return r;
	n = read_proc_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EBADMSG;
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -EBADMSG;
	}
	errno = 0;
	*ret = strtoull(p + 1, NULL, 10);
	return errno ? -errno : 0;
}

int
iam_session_handoff_key(pid_t pid, char *buf, size_t len)
{
	unsigned long long start;
	int r = start_time(pid, &start);

	if (r < 0)
		return r;
	return iam_snprintf(buf, len, "p%d-%llu", (int)pid, start);
}
