/*
 * audit.c - the audit trail.
 *
 * Each event is generated with yajl_gen, so every string is escaped, and
 * written with one write() on an O_APPEND descriptor opened afresh, so
 * concurrent writers never interleave and log rotation needs no signal.
 * The trail is the one place libiam writes to syslog: it is the audit
 * record itself (DESIGN: "also to syslog (authpriv)"), not a diagnostic.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "iam.h"
#include "iam/audit.h"
#include "util_int.h"

/*
 * No event is dropped for its size: a string over TRAIL_FIELD_MAX bytes
 * is cut (on a character boundary) and the record marked
 * "truncated": true; when the record is still too long, it is generated
 * again with smaller fields and fewer items until it fits.
 */
#define TRAIL_MAX_LINE	((64u << 10) - 1)	/* bytes, without the '\n' */
#define TRAIL_FIELD_MAX	4096u

/* How much of each field one generation keeps, and whether it cut. */
struct cap {
	size_t field;		/* bytes of one string */
	size_t items;		/* items of one array, object or parameters */
	bool cut;
};

static int
gen_ok(yajl_gen_status s)
{
	return s == yajl_gen_status_ok ? 0 :
		s == yajl_gen_invalid_string ? -EILSEQ : -ENOMEM;
}

/* The length of s cut to at most max bytes, not inside a UTF-8 sequence. */
static size_t
cut_length(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* A string, cut to c->field bytes; bytes that are not UTF-8 become '?'. */
static int
gen_capped_str(yajl_gen g, const char *s, struct cap *c)
{
	size_t n = strlen(s);
	char *copy;
	int r;

	if (n > c->field) {
		n = cut_length(s, n, c->field);
		c->cut = true;
	}
	r = gen_ok(yajl_gen_string(g, (const unsigned char *)s, n));
	if (r != -EILSEQ)
		return r;
	copy = strndup(s, n);
	if (copy == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	r = gen_ok(yajl_gen_string(g, (const unsigned char *)copy, n));
	free(copy);
	return r;
}

static int
gen_kv(yajl_gen g, const char *key, const char *value, struct cap *c)
{
	int r;

	if (value == NULL)
		return 0;
	r = gen_capped_str(g, key, c);
	return r ? r : gen_capped_str(g, value, c);
}

/* How many of n items fit under c; marks the cut. */
static size_t
items(size_t n, struct cap *c)
{
	if (n <= c->items)
		return n;
	c->cut = true;
	return c->items;
}

/* Re-emit a parsed JSON value through the generator. */
static int
gen_json(yajl_gen g, const struct iam_json *v, int depth, struct cap *c)
{
	size_t n;
	int r = 0;

	if (depth > 16) {
		c->cut = true;
		return gen_ok(yajl_gen_null(g));
	}
	switch (v->type) {
	case IAM_JSON_NULL:
		return gen_ok(yajl_gen_null(g));
	case IAM_JSON_BOOL:
		return gen_ok(yajl_gen_bool(g, v->u.boolean));
	case IAM_JSON_NUMBER:
		return gen_ok(yajl_gen_number(g, v->u.number.text,
					      strlen(v->u.number.text)));
	case IAM_JSON_STRING:
		return gen_capped_str(g, v->u.string, c);
	case IAM_JSON_ARRAY:
		n = items(v->len, c);
		r = gen_ok(yajl_gen_array_open(g));
		for (size_t i = 0; r == 0 && i < n; i++)
			r = gen_json(g, &v->u.items[i], depth + 1, c);
		return r ? r : gen_ok(yajl_gen_array_close(g));
	case IAM_JSON_OBJECT:
		n = items(v->len, c);
		r = gen_ok(yajl_gen_map_open(g));
		for (size_t i = 0; r == 0 && i < n; i++) {
			r = gen_capped_str(g, v->u.members[i].key, c);
			r = r ? r : gen_json(g, &v->u.members[i].value,
					     depth + 1, c);
		}
		return r ? r : gen_ok(yajl_gen_map_close(g));
	}
	return -EINVAL;
}

/* The decision as a parsed object; -EINVAL when it is none. */
static int
parse_decision(const char *text, struct iam_json_doc **ret_doc)
{
	/* Any size: the record is cut to fit, never refused for it. */
	static const struct iam_json_limits limits = {
		.max_bytes = 64u << 20, .max_depth = 64,
		.max_string = 64u << 20, .max_items = 1000000,
	};
	struct iam_json_doc *doc = NULL;
	int r;

	r = iam_json_parse(text, strlen(text), &limits, &doc, NULL, 0);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || iam_json_root(doc)->type != IAM_JSON_OBJECT) {
		iam_json_free(doc);
		return -EINVAL;
	}
	*ret_doc = doc;
	return 0;
}

static int
gen_identity(yajl_gen g, const struct iam_event *ev, struct cap *c)
{
	int r;

	r = gen_capped_str(g, "userIdentity", c);
	r = r ? r : gen_ok(yajl_gen_map_open(g));
	r = r ? r : gen_kv(g, "type", ev->user_type ? ev->user_type :
			   "IAMUser", c);
	r = r ? r : gen_kv(g, "userName", ev->user_name, c);
	r = r ? r : gen_kv(g, "arn", ev->user_arn, c);
	return r ? r : gen_ok(yajl_gen_map_close(g));
}

static int
gen_event(yajl_gen g, const struct iam_event *ev,
	  const struct iam_json *decision, struct cap *c)
{
	char when[32];
	int64_t t = ev->time != 0 ? ev->time : (int64_t)time(NULL);
	size_t n;
	int r;

	r = iam_format_time(t, when, sizeof(when));
	r = r ? r : gen_ok(yajl_gen_map_open(g));
	r = r ? r : gen_kv(g, "eventVersion", "1.08", c);
	r = r ? r : gen_kv(g, "eventTime", when, c);
	r = r ? r : gen_kv(g, "eventSource", ev->source, c);
	r = r ? r : gen_kv(g, "eventName", ev->name, c);
	r = r ? r : gen_identity(g, ev, c);
	r = r ? r : gen_kv(g, "sourceIPAddress", ev->source_ip, c);
	if (r == 0 && ev->n_params > 0) {
		n = items(ev->n_params, c);
		r = gen_capped_str(g, "requestParameters", c);
		r = r ? r : gen_ok(yajl_gen_map_open(g));
		for (size_t i = 0; r == 0 && i < n; i++)
			r = gen_kv(g, ev->params[i].key, ev->params[i].value,
				   c);
		r = r ? r : gen_ok(yajl_gen_map_close(g));
	}
	r = r ? r : gen_kv(g, "errorCode", ev->error_code, c);
	r = r ? r : gen_kv(g, "errorMessage", ev->error_message, c);
	if (r == 0 && decision != NULL) {
		r = gen_capped_str(g, "decision", c);
		r = r ? r : gen_json(g, decision, 0, c);
	}
	if (r == 0 && c->cut) {
		r = gen_capped_str(g, "truncated", c);
		r = r ? r : gen_ok(yajl_gen_bool(g, 1));
	}
	return r ? r : gen_ok(yajl_gen_map_close(g));
}

/* One generation of the record under c, appended to out when it fits. */
static int
format_capped(const struct iam_event *ev, const struct iam_json *decision,
	      struct cap *c, struct iam_buf *out)
{
	const unsigned char *text;
	size_t len;
	yajl_gen g;
	int r;

	g = yajl_gen_alloc(NULL);
	if (g == NULL)
		return -ENOMEM;
	if (!yajl_gen_config(g, yajl_gen_validate_utf8, 1)) {
		yajl_gen_free(g);
		return -ENOMEM;
	}
	r = gen_event(g, ev, decision, c);
	if (r == 0 && yajl_gen_get_buf(g, &text, &len) != yajl_gen_status_ok)
		r = -ENOMEM;
	if (r == 0 && len > TRAIL_MAX_LINE)
		r = -E2BIG;
	r = r ? r : iam_buf_add(out, text, len);
	r = r ? r : iam_buf_add(out, "\n", 1);
	yajl_gen_free(g);
	return r == -EILSEQ ? -EINVAL : r;
}

int
iam_trail_format(const struct iam_event *ev, struct iam_buf *out)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *decision = NULL;
	struct cap c = { .field = TRAIL_FIELD_MAX, .items = 256 };
	int r;

	if (ev == NULL || out == NULL || ev->source == NULL || ev->name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ev->n_params; i++)
		if (ev->params == NULL || ev->params[i].key == NULL)
			return -EINVAL;
	if (ev->decision_json != NULL) {
		r = parse_decision(ev->decision_json, &doc);
		if (r < 0)
			return r;
		decision = iam_json_root(doc);
	}
	/* Smaller fields and fewer items until the record fits. */
	for (;;) {
		r = format_capped(ev, decision, &c, out);
		if (r != -E2BIG || c.field <= 16)
			break;
		c.field /= 4;
		c.items = c.items > 4 ? c.items / 4 : 1;
	}
	iam_json_free(doc);
	return r;
}

static int
check_fd(int fd, bool dir, int strict_flags)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return -EPERM;
	if (!dir && st.st_nlink != 1)
		return -EPERM;
	if (!(strict_flags & IAM_STRICT_ANY_OWNER) && st.st_uid != 0)
		return -EPERM;
	if (st.st_mode & 022)
		return -EPERM;
	return 0;
}

/* Root's group too, for what a setuid process creates (tests: any owner). */
static int
own_root(int fd)
{
	return geteuid() == 0 ? fchown(fd, 0, 0) : 0;
}

/* Open (creating when missing) the trail file for appending. */
static int
open_trail(const char *path, int strict_flags)
{
	char dir[PATH_MAX];
	const char *base;
	char *slash;
	bool created;
	int dfd, fd, r;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	r = iam_snprintf(dir, sizeof(dir), "%s", path);
	if (r < 0)
		return r;
	slash = strrchr(dir, '/');
	base = path + (slash - dir) + 1;
	if (*base == '\0')
		return -EINVAL;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	created = mkdir(dir, 0700) == 0;
	dfd = iam_open_strict(dir, strict_flags | IAM_STRICT_DIR, NULL, 0);
	if (dfd < 0)
		return dfd;
	/* Made here: root:root whatever a setuid caller's group. */
	if (created && (own_root(dfd) < 0 || fchmod(dfd, 0700) < 0)) {
		r = -errno;
		close(dfd);
		return r;
	}
	fd = openat(dfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0 && (own_root(fd) < 0 || fchmod(fd, 0600) < 0)) {
			close(fd);
			fd = -1;
		} else if (fd < 0 && errno == EEXIST) {
			fd = openat(dfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW |
				    O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		}
	}
	r = fd < 0 ? -errno : 0;
	close(dfd);
	if (r < 0)
		return r;
	r = check_fd(fd, false, strict_flags);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * The trail's lock, waited for at most TRAIL_LOCK_MS.  Its holder may be
 * a process a user can stop (su, sudo or passwd run pam_iam as root with
 * the user's real uid): a stopped holder must not hold up every login
 * and sudo on the host, so after the wait the line goes out unlocked.
 * O_APPEND keeps a single write whole and at the end; only the cut-back
 * of a short write needs the lock.  True when the lock is held.
 */
#define TRAIL_LOCK_MS	2000

static bool
lock_trail(int fd)
{
	for (int waited = 0; waited < TRAIL_LOCK_MS; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		(void)nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 },
				NULL);
	}
	return false;
}

/*
 * One line at the end of the trail, whole or not at all: under an
 * exclusive flock (every writer is root and takes it; lock_trail()), with
 * a caller's RLIMIT_FSIZE lifted (fsize.c); a short or failed write is
 * cut back to the size before it, so no torn line glues itself to the
 * next event.
 */
static int
append_line(int fd, const struct iam_buf *line)
{
	struct iam_fsize_guard g;
	bool locked = lock_trail(fd);
	struct stat st;
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	iam_fsize_lift(&g);
	n = write(fd, line->buf, line->len);
	r = n < 0 ? -errno : (size_t)n != line->len ? -EIO : 0;
	/* Unlocked, the size before may no longer be this line's start. */
	if (r < 0 && n > 0 && locked && ftruncate(fd, st.st_size) < 0)
		r = -errno;
	iam_fsize_restore(&g);
out:
	if (locked)
		(void)flock(fd, LOCK_UN);
	return r;
}

int
iam_trail_write_flags(const struct iam_config *cfg,
		      const struct iam_event *ev, int strict_flags)
{
	struct iam_buf line = IAM_BUF_INIT;
	int fd, r;

	if (cfg == NULL)
		return -EINVAL;
	r = iam_trail_format(ev, &line);
	if (r < 0)
		goto out;
	/* The syslog copy goes out whatever happens to the file. */
	syslog(LOG_AUTHPRIV | (ev->error_code ? LOG_NOTICE : LOG_INFO),
	       "iam: %.*s", (int)(line.len - 1), line.buf);
	fd = open_trail(cfg->trail_file, strict_flags);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = append_line(fd, &line);
	if (close(fd) < 0 && r == 0)
		r = -errno;
out:
	iam_buf_release(&line);
	return r;
}

int
iam_trail_write(const struct iam_config *cfg, const struct iam_event *ev)
{
	return iam_trail_write_flags(cfg, ev, 0);
}
