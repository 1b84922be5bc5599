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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "iam.h"
#include "iam/audit.h"

#define TRAIL_MAX_LINE	(256u << 10)

static int
gen_ok(yajl_gen_status s)
{
	return s == yajl_gen_status_ok ? 0 :
		s == yajl_gen_invalid_string ? -EILSEQ : -ENOMEM;
}

/* A string; bytes that are not valid UTF-8 become '?'. */
static int
gen_str(yajl_gen g, const char *s)
{
	size_t n = strlen(s);
	char *copy;
	int r;

	r = gen_ok(yajl_gen_string(g, (const unsigned char *)s, n));
	if (r != -EILSEQ)
		return r;
	copy = strdup(s);
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
gen_kv(yajl_gen g, const char *key, const char *value)
{
	int r;

	if (value == NULL)
		return 0;
	r = gen_str(g, key);
	return r ? r : gen_str(g, value);
}

/* Re-emit a parsed JSON value through the generator. */
static int
gen_json(yajl_gen g, const struct iam_json *v, int depth)
{
	int r = 0;

	if (depth > 16)
		return -EINVAL;
	switch (v->type) {
	case IAM_JSON_NULL:
		return gen_ok(yajl_gen_null(g));
	case IAM_JSON_BOOL:
		return gen_ok(yajl_gen_bool(g, v->u.boolean));
	case IAM_JSON_NUMBER:
		return gen_ok(yajl_gen_number(g, v->u.number.text,
					      strlen(v->u.number.text)));
	case IAM_JSON_STRING:
		return gen_str(g, v->u.string);
	case IAM_JSON_ARRAY:
		r = gen_ok(yajl_gen_array_open(g));
		for (size_t i = 0; r == 0 && i < v->len; i++)
			r = gen_json(g, &v->u.items[i], depth + 1);
		return r ? r : gen_ok(yajl_gen_array_close(g));
	case IAM_JSON_OBJECT:
		r = gen_ok(yajl_gen_map_open(g));
		for (size_t i = 0; r == 0 && i < v->len; i++) {
			r = gen_str(g, v->u.members[i].key);
			r = r ? r : gen_json(g, &v->u.members[i].value,
					     depth + 1);
		}
		return r ? r : gen_ok(yajl_gen_map_close(g));
	}
	return -EINVAL;
}

static int
gen_decision(yajl_gen g, const char *text)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	int r;

	r = iam_json_parse(text, strlen(text), NULL, &doc, NULL, 0);
	if (r < 0)
		return -EINVAL;
	root = iam_json_root(doc);
	r = root->type == IAM_JSON_OBJECT ? 0 : -EINVAL;
	r = r ? r : gen_str(g, "decision");
	r = r ? r : gen_json(g, root, 0);
	iam_json_free(doc);
	return r;
}

static int
gen_identity(yajl_gen g, const struct iam_event *ev)
{
	int r;

	r = gen_str(g, "userIdentity");
	r = r ? r : gen_ok(yajl_gen_map_open(g));
	r = r ? r : gen_kv(g, "type", ev->user_type ? ev->user_type :
			   "IAMUser");
	r = r ? r : gen_kv(g, "userName", ev->user_name);
	r = r ? r : gen_kv(g, "arn", ev->user_arn);
	return r ? r : gen_ok(yajl_gen_map_close(g));
}

static int
gen_event(yajl_gen g, const struct iam_event *ev)
{
	char when[32];
	int64_t t = ev->time != 0 ? ev->time : (int64_t)time(NULL);
	int r;

	r = iam_format_time(t, when, sizeof(when));
	r = r ? r : gen_ok(yajl_gen_map_open(g));
	r = r ? r : gen_kv(g, "eventVersion", "1.08");
	r = r ? r : gen_kv(g, "eventTime", when);
	r = r ? r : gen_kv(g, "eventSource", ev->source);
	r = r ? r : gen_kv(g, "eventName", ev->name);
	r = r ? r : gen_identity(g, ev);
	r = r ? r : gen_kv(g, "sourceIPAddress", ev->source_ip);
	if (r == 0 && ev->n_params > 0) {
		r = gen_str(g, "requestParameters");
		r = r ? r : gen_ok(yajl_gen_map_open(g));
		for (size_t i = 0; r == 0 && i < ev->n_params; i++)
			r = gen_kv(g, ev->params[i].key, ev->params[i].value);
		r = r ? r : gen_ok(yajl_gen_map_close(g));
	}
	r = r ? r : gen_kv(g, "errorCode", ev->error_code);
	r = r ? r : gen_kv(g, "errorMessage", ev->error_message);
	if (r == 0 && ev->decision_json != NULL)
		r = gen_decision(g, ev->decision_json);
	return r ? r : gen_ok(yajl_gen_map_close(g));
}

int
iam_trail_format(const struct iam_event *ev, struct iam_buf *out)
{
	const unsigned char *text;
	size_t len;
	yajl_gen g;
	int r;

	if (ev == NULL || out == NULL || ev->source == NULL || ev->name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ev->n_params; i++)
		if (ev->params == NULL || ev->params[i].key == NULL)
			return -EINVAL;
	g = yajl_gen_alloc(NULL);
	if (g == NULL)
		return -ENOMEM;
	if (!yajl_gen_config(g, yajl_gen_validate_utf8, 1)) {
		yajl_gen_free(g);
		return -ENOMEM;
	}
	r = gen_event(g, ev);
	if (r == 0 && yajl_gen_get_buf(g, &text, &len) != yajl_gen_status_ok)
		r = -ENOMEM;
	if (r == 0 && len > TRAIL_MAX_LINE)
		r = -E2BIG;
	r = r ? r : iam_buf_add(out, text, len);
	r = r ? r : iam_buf_add(out, "\n", 1);
	yajl_gen_free(g);
	return r == -EILSEQ ? -EINVAL : r;
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

/* Open (creating when missing) the trail file for appending. */
static int
open_trail(const char *path, int strict_flags)
{
	char dir[PATH_MAX];
	const char *base;
	char *slash;
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
	if (mkdir(dir, 0700) == 0)
		(void)chmod(dir, 0700);
	dfd = iam_open_strict(dir, strict_flags | IAM_STRICT_DIR, NULL, 0);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0 && fchmod(fd, 0600) < 0) {
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

int
iam_trail_write_flags(const struct iam_config *cfg,
		      const struct iam_event *ev, int strict_flags)
{
	struct iam_buf line = IAM_BUF_INIT;
	ssize_t n;
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
	n = write(fd, line.buf, line.len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != line.len)
		r = -EIO;
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
