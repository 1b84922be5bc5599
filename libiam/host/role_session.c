/*
 * role_session.c - the role session records under run_dir/roles
 * (iam/role_session.h).
 *
 * A role session record is only ever believed when it is exactly what
 * the setuid helper writes: a regular root-owned 0600 file with one
 * link, in a root 0700 folder, whose every field parses, whose key field
 * names the file, of the asking uid, of this boot, and not yet expired
 * on CLOCK_BOOTTIME.  Anything else is as if there were no session, so
 * a failure can only ever take the role's rights away.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam/role_session.h"
#include "util_int.h"

#define SESSION_MAGIC	"IAMROLE1"
#define RECORD_MAX	2048
#define BOOT_ID_FILE	"/proc/sys/kernel/random/boot_id"

/* ---- Role session records ---------------------------------------------- */

static int
read_boot_id(char *buf, size_t len)
{
	char text[64];
	ssize_t n;
	size_t k;
	int fd;

	fd = open(BOOT_ID_FILE, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	k = strspn(text, "0123456789abcdef-");
	if (k < 32 || k >= len || (text[k] != '\n' && text[k] != '\0'))
		return -EBADMSG;
	memcpy(buf, text, k);
	buf[k] = '\0';
	return 0;
}

int
iam_role_clock_now(struct iam_role_clock *ret_now)
{
	struct iam_role_clock c;
	struct timespec ts;
	int r;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return -errno;
	c.boot = (int64_t)ts.tv_sec;
	c.wall = (int64_t)time(NULL);
	r = read_boot_id(c.boot_id, sizeof(c.boot_id));
	if (r < 0)
		return r;
	*ret_now = c;
	return 0;
}

/* A login session key as iam_session_key() makes it. */
static bool
role_session_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n >= sizeof(((struct iam_role_session *)0)->key) ||
	    key[0] == '.')
		return false;
	return strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

static bool
role_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789+=,.@_-") == n;
}

static bool
hex_id_valid(const char *s)
{
	return strlen(s) == IAM_ROLE_ID_LEN &&
	       strspn(s, "0123456789abcdef") == IAM_ROLE_ID_LEN;
}

static bool
boot_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 32 && n < 40 && strspn(s, "0123456789abcdef-") == n;
}

bool
iam_role_reason_valid(const char *reason)
{
	const unsigned char *p = (const unsigned char *)reason;
	size_t n;

	if (reason == NULL || strlen(reason) > IAM_ROLE_REASON_MAX)
		return false;
	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		/* UTF-8: lead byte, then continuation bytes; no overlongs. */
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return false;
		if ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] > 0x9f) ||
		    (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] > 0x8f))
			return false;
		for (size_t i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		/* U+0080-U+009F are control characters too. */
		if (*p == 0xc2 && p[1] < 0xa0)
			return false;
		p += n + 1;
	}
	return true;
}

static bool
session_valid(const struct iam_role_session *s)
{
	return hex_id_valid(s->id) && iam_name_valid(s->user) &&
	       role_name_valid(s->role) && role_session_key_valid(s->key) &&
	       boot_id_valid(s->boot_id) && s->start >= 0 &&
	       s->expiry > s->start && s->wall_start >= 0 &&
	       s->wall_expiry >= s->wall_start &&
	       iam_role_reason_valid(s->reason);
}

int
iam_role_session_new(const char *user, uint32_t uid, const char *role,
		     const char *key, const char *reason, uint32_t seconds,
		     const struct iam_role_clock *now,
		     struct iam_role_session *ret_s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[IAM_ROLE_ID_LEN / 2];
	struct iam_role_session s;
	int r;

	if (user == NULL || role == NULL || key == NULL || now == NULL ||
	    seconds == 0 || ret_s == NULL)
		return -EINVAL;
	if (reason == NULL)
		reason = "";
	memset(&s, 0, sizeof(s));
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++) {
		s.id[2 * i] = hex[raw[i] >> 4];
		s.id[2 * i + 1] = hex[raw[i] & 15];
	}
	s.uid = uid;
	s.start = now->boot;
	s.expiry = now->boot + seconds;
	s.wall_start = now->wall;
	s.wall_expiry = now->wall + seconds;
	r = iam_snprintf(s.user, sizeof(s.user), "%s", user);
	r = r ? r : iam_snprintf(s.role, sizeof(s.role), "%s", role);
	r = r ? r : iam_snprintf(s.key, sizeof(s.key), "%s", key);
	r = r ? r : iam_snprintf(s.boot_id, sizeof(s.boot_id), "%s",
				 now->boot_id);
	r = r ? r : iam_snprintf(s.reason, sizeof(s.reason), "%s", reason);
	if (r < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	if (!session_valid(&s))
		return -EINVAL;
	*ret_s = s;
	return 0;
}

static int
roles_dir(const char *run_dir, char *buf, size_t len)
{
	if (run_dir == NULL || run_dir[0] != '/')
		return -EINVAL;
	return iam_snprintf(buf, len, "%s/" IAM_ROLE_SESSION_DIR, run_dir);
}

static int
record_path(const char *run_dir, const char *key, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int r;

	if (key == NULL || !role_session_key_valid(key))
		return -EINVAL;
	r = roles_dir(run_dir, dir, sizeof(dir));
	return r ? r : iam_snprintf(buf, len, "%s/%s", dir, key);
}

int
iam_role_session_write(const char *run_dir, const struct iam_role_session *s,
		       int strict_flags)
{
	char dir[PATH_MAX], path[PATH_MAX], text[RECORD_MAX];
	int fd, r;

	if (s == NULL || !session_valid(s))
		return -EINVAL;
	r = iam_run_dir_prepare(run_dir, strict_flags);
	r = r ? r : roles_dir(run_dir, dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = iam_ensure_dir(dir, 0700, strict_flags, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	r = record_path(run_dir, s->key, path, sizeof(path));
	r = r ? r : iam_snprintf(text, sizeof(text),
				 SESSION_MAGIC "\nid=%s\nuser=%s\nuid=%" PRIu32
				 "\nrole=%s\nkey=%s\nboot=%s\nstart=%" PRId64
				 "\nexpiry=%" PRId64 "\nwall_start=%" PRId64
				 "\nwall_expiry=%" PRId64 "\nreason=%s\n",
				 s->id, s->user, s->uid, s->role, s->key,
				 s->boot_id, s->start, s->expiry,
				 s->wall_start, s->wall_expiry, s->reason);
	return r ? r : iam_write_atomic(path, text, strlen(text), 0600);
}

/* Read the file at path: regular, one link, root's, 0600 at most. */
static int
read_record(const char *path, int strict_flags, struct iam_buf *b)
{
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = iam_open_strict(path, strict_flags | IAM_STRICT_SECRET, NULL, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		 (st.st_mode & 07177) != 0)
		r = -EPERM;
	else if (st.st_size > RECORD_MAX)
		r = -EBADMSG;
	if (r == 0)
		r = iam_buf_grow(b, RECORD_MAX + 1);
	while (r == 0) {
		n = read(fd, b->buf + b->len, RECORD_MAX + 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else if ((b->len += (size_t)n) > RECORD_MAX)
			r = -EBADMSG;
	}
	close(fd);
	if (r == 0)
		b->buf[b->len] = '\0';
	return r;
}

/* The value of line "name=VALUE" at *p; advances *p past the line. */
static const char *
record_field(char **p, const char *name)
{
	size_t n = strlen(name);
	char *line = *p, *nl;

	nl = strchr(line, '\n');
	if (nl == NULL || strncmp(line, name, n) != 0 || line[n] != '=')
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return line + n + 1;
}

static int
copy_field(char **p, const char *name, char *dst, size_t len)
{
	const char *v = record_field(p, name);

	if (v == NULL)
		return -EBADMSG;
	return iam_snprintf(dst, len, "%s", v) < 0 ? -EBADMSG : 0;
}

static int
num_field(char **p, const char *name, long long max, long long *ret)
{
	const char *v = record_field(p, name);

	if (v == NULL || iam_parse_ll(v, 0, max, ret) < 0)
		return -EBADMSG;
	return 0;
}

static int
parse_record(char *text, struct iam_role_session *s)
{
	char *p = text;
	long long v[5] = { 0 };
	int r;

	memset(s, 0, sizeof(*s));
	if (strncmp(p, SESSION_MAGIC "\n", sizeof(SESSION_MAGIC)) != 0)
		return -EBADMSG;
	p += sizeof(SESSION_MAGIC);
	r = copy_field(&p, "id", s->id, sizeof(s->id));
	r = r ? r : copy_field(&p, "user", s->user, sizeof(s->user));
	r = r ? r : num_field(&p, "uid", UINT32_MAX, &v[0]);
	r = r ? r : copy_field(&p, "role", s->role, sizeof(s->role));
	r = r ? r : copy_field(&p, "key", s->key, sizeof(s->key));
	r = r ? r : copy_field(&p, "boot", s->boot_id, sizeof(s->boot_id));
	r = r ? r : num_field(&p, "start", INT64_MAX / 2, &v[1]);
	r = r ? r : num_field(&p, "expiry", INT64_MAX / 2, &v[2]);
	r = r ? r : num_field(&p, "wall_start", INT64_MAX / 2, &v[3]);
	r = r ? r : num_field(&p, "wall_expiry", INT64_MAX / 2, &v[4]);
	r = r ? r : copy_field(&p, "reason", s->reason, sizeof(s->reason));
	if (r == 0 && *p != '\0')
		r = -EBADMSG;
	s->uid = (uint32_t)v[0];
	s->start = v[1];
	s->expiry = v[2];
	s->wall_start = v[3];
	s->wall_expiry = v[4];
	if (r == 0 && !session_valid(s))
		r = -EBADMSG;
	return r;
}

int
iam_role_session_read(const char *run_dir, const char *key, int strict_flags,
		      struct iam_role_session *ret_s)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_role_session s;
	char path[PATH_MAX];
	int r;

	if (ret_s == NULL)
		return -EINVAL;
	r = record_path(run_dir, key, path, sizeof(path));
	r = r ? r : read_record(path, strict_flags, &b);
	r = r ? r : parse_record(b.buf, &s);
	/* The file's name is the login session; a record moved elsewhere is void. */
	if (r == 0 && strcmp(s.key, key) != 0)
		r = -EBADMSG;
	iam_buf_release(&b);
	if (r == 0)
		*ret_s = s;
	return r;
}

int
iam_role_session_active(const char *run_dir, const char *key, uint32_t uid,
			const struct iam_role_clock *now, int strict_flags,
			struct iam_role_session *ret_s)
{
	struct iam_role_session s;
	struct iam_role_clock clock;
	int r;

	if (ret_s == NULL)
		return -EINVAL;
	r = iam_role_session_read(run_dir, key, strict_flags, &s);
	if (r < 0)
		return r;
	/* Read only when there is a record: no session costs one open(). */
	if (now == NULL) {
		r = iam_role_clock_now(&clock);
		if (r < 0)
			return r;
		now = &clock;
	}
	if (s.uid != uid || strcmp(s.boot_id, now->boot_id) != 0 ||
	    now->boot < s.start || now->boot >= s.expiry)
		return -ENOENT;
	*ret_s = s;
	return 0;
}

int
iam_role_session_remove(const char *run_dir, const char *key, const char *id,
			int strict_flags)
{
	struct iam_role_session s;
	char path[PATH_MAX];
	int r;

	r = record_path(run_dir, key, path, sizeof(path));
	if (r < 0)
		return r;
	if (id != NULL) {
		r = iam_role_session_read(run_dir, key, strict_flags, &s);
		if (r < 0)
			return r;
		if (strcmp(s.id, id) != 0)
			return -ESTALE;
	}
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in run_dir/roles, sorted; the folder itself checked. */
static int
list_names(const char *run_dir, int strict_flags, char ***ret, size_t *ret_n)
{
	char dir[PATH_MAX], **v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int r;

	r = roles_dir(run_dir, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = iam_opendir_fd(iam_open_strict(dir, strict_flags | IAM_STRICT_DIR |
					   IAM_STRICT_SECRET, NULL, 0), &d);
	if (r < 0)
		return r;
	while ((de = readdir(d)) != NULL) {
		if (!role_session_key_valid(de->d_name))
			continue;
		if (n == alloc) {
			size_t na = alloc ? 2 * alloc : 16;
			char **nv = na > 1000000 ? NULL :
				reallocarray(v, na, sizeof(*v));

			if (nv == NULL) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			alloc = na;
		}
		if ((v[n] = strdup(de->d_name)) == NULL) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; v != NULL && i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_names);
	*ret = v;
	*ret_n = n;
	return 0;
}

int
iam_role_session_list(const char *run_dir, int strict_flags,
		      iam_role_session_fn *fn, void *arg)
{
	struct iam_role_session s;
	char **names = NULL;
	size_t n = 0;
	int r, stop = 0;

	if (fn == NULL)
		return -EINVAL;
	r = list_names(run_dir, strict_flags, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (stop == 0) {
			r = iam_role_session_read(run_dir, names[i],
						  strict_flags, &s);
			stop = fn(names[i], r == 0 ? &s : NULL, r, arg);
		}
		free(names[i]);
	}
	free(names);
	return stop;
}

struct end_uid {
	const char *run_dir;
	uint32_t uid;
	int strict_flags;
	int removed;
	int err;
};

static int
end_one(const char *key, const struct iam_role_session *s, int err, void *arg)
{
	struct end_uid *e = arg;
	int r;

	(void)err;
	if (s == NULL || s->uid != e->uid)
		return 0;
	r = iam_role_session_remove(e->run_dir, key, s->id, e->strict_flags);
	if (r == 0)
		e->removed++;
	else if (r != -ENOENT && r != -ESTALE)
		e->err = r;
	return 0;
}

int
iam_role_sessions_end_uid(const char *run_dir, uint32_t uid, int strict_flags)
{
	struct end_uid e = { run_dir, uid, strict_flags, 0, 0 };
	int r;

	r = iam_role_session_list(run_dir, strict_flags, end_one, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return e.err < 0 ? e.err : e.removed;
}
