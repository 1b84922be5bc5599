/*
 * creds.c - the credentials store: one root 0600 JSON file per user,
 * credentials_dir/UID.json, holding what changes at run time (password
 * hash, change time, history, must-change, MFA device).  These override
 * the identity file's initial credentials and survive every replacement
 * of the identity file.
 *
 *   { "uid": 70001,
 *     "password": { "hash": "$y$...", "changed": "2026-10-01T12:00:00Z",
 *                   "must_change": false, "history": [ "$y$...", ... ] },
 *     "mfa": { "secret": "JBSW...", "algorithm": "SHA1", "digits": 6,
 *              "period": 30 } }
 *
 * A member that is absent leaves the identity file's value in force;
 * "password": null or "mfa": null removes it.  Files are keyed by uid,
 * never by a path built from a name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "iam.h"

#define CREDS_MAX_BYTES		(64u << 10)
#define CREDS_MAX_HASH		512
#define CREDS_MAX_SECRET	256
#define CREDS_FILE_MAX		32	/* "4294967295.json" and NUL */

/* ---- Records ---------------------------------------------------------- */

static void
password_clear(struct iam_password *p)
{
	p->hash = iam_drop_string(p->hash);
	for (size_t i = 0; i < p->n_history; i++)
		iam_drop_string(p->history[i]);
	free(p->history);
	memset(p, 0, sizeof(*p));
}

static void
mfa_clear(struct iam_mfa *m)
{
	m->secret = iam_drop_string(m->secret);
	memset(m, 0, sizeof(*m));
}

int
iam_creds_new(uint32_t uid, struct iam_creds **ret_creds)
{
	struct iam_creds *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->uid = uid;
	*ret_creds = c;
	return 0;
}

struct iam_creds *
iam_creds_free(struct iam_creds *c)
{
	if (c == NULL)
		return NULL;
	password_clear(&c->password);
	mfa_clear(&c->mfa);
	iam_wipe(c, sizeof(*c));
	free(c);
	return NULL;
}

static int
copy_password(const struct iam_password *src, struct iam_password *dst)
{
	struct iam_password p = { .changed = src->changed,
				  .must_change = src->must_change };

	if (src->hash != NULL && (p.hash = strdup(src->hash)) == NULL)
		return -ENOMEM;
	if (src->n_history > 0) {
		p.history = calloc(src->n_history, sizeof(char *));
		if (p.history == NULL)
			goto oom;
		for (; p.n_history < src->n_history; p.n_history++) {
			p.history[p.n_history] = strdup(src->history[p.n_history]);
			if (p.history[p.n_history] == NULL)
				goto oom;
		}
	}
	*dst = p;
	return 0;
oom:
	password_clear(&p);
	return -ENOMEM;
}

int
iam_creds_from_user(const struct iam_user *u, struct iam_creds **ret_creds)
{
	struct iam_creds *c;
	int r;

	r = iam_creds_new(u->uid, &c);
	if (r < 0)
		return r;
	r = copy_password(&u->password, &c->password);
	if (r == 0 && u->mfa.secret != NULL)
		r = iam_creds_set_mfa(c, &u->mfa);
	if (r < 0) {
		iam_creds_free(c);
		return r;
	}
	c->has_password = true;
	c->has_mfa = true;
	*ret_creds = c;
	return 0;
}

int
iam_creds_set_password(struct iam_creds *c, const char *hash, int64_t changed,
		       bool must_change, uint32_t keep)
{
	struct iam_password *p = &c->password;
	char *h;

	if (hash == NULL)
		return -EINVAL;
	if (keep > IAM_ID_MAX_HISTORY)
		keep = IAM_ID_MAX_HISTORY;
	h = strdup(hash);
	if (h == NULL)
		return -ENOMEM;
	if (p->hash != NULL && keep > 0) {
		char **v;

		if (p->history == NULL || p->n_history < keep) {
			v = reallocarray(p->history, p->n_history + 1,
					 sizeof(char *));
			if (v == NULL) {
				iam_drop_string(h);
				return -ENOMEM;
			}
			p->history = v;
			p->n_history++;
		} else {
			iam_drop_string(p->history[p->n_history - 1]);
		}
		memmove(p->history + 1, p->history,
			(p->n_history - 1) * sizeof(char *));
		p->history[0] = p->hash;
		p->hash = NULL;
	}
	p->hash = iam_drop_string(p->hash);
	while (p->n_history > keep)
		iam_drop_string(p->history[--p->n_history]);
	p->hash = h;
	p->changed = changed;
	p->must_change = must_change;
	c->has_password = true;
	return 0;
}

int
iam_creds_set_mfa(struct iam_creds *c, const struct iam_mfa *m)
{
	char *s = NULL;

	if (m != NULL && (m->secret == NULL || (s = strdup(m->secret)) == NULL))
		return m->secret == NULL ? -EINVAL : -ENOMEM;
	mfa_clear(&c->mfa);
	if (m != NULL) {
		c->mfa = *m;
		c->mfa.secret = s;
	}
	c->has_mfa = true;
	return 0;
}

/* ---- Checks ----------------------------------------------------------- */

static const char *const algo_names[] = { "SHA1", "SHA256", "SHA512" };

/* Same shapes as the identity file's (iam_password_hash_valid()). */
static bool
hash_ok(const char *h)
{
	return strlen(h) <= CREDS_MAX_HASH && iam_password_hash_valid(h);
}

static int
check_creds(const struct iam_creds *c, const char *file, struct iam_faults *f)
{
	const struct iam_password *p = &c->password;
	const struct iam_mfa *m = &c->mfa;
	bool bad = false;

	if (c->has_password && p->hash != NULL && !hash_ok(p->hash)) {
		iam_fault(f, file, "password.hash: not a yescrypt, sha512crypt "
			  "or bcrypt hash");
		bad = true;
	}
	if (c->has_password && p->n_history > IAM_ID_MAX_HISTORY) {
		iam_fault(f, file, "password.history: more than %d hashes",
			  IAM_ID_MAX_HISTORY);
		bad = true;
	}
	for (size_t i = 0; c->has_password && i < p->n_history; i++) {
		if (!hash_ok(p->history[i])) {
			iam_fault(f, file, "password.history[%zu]: not a "
				  "yescrypt, sha512crypt or bcrypt hash", i);
			bad = true;
		}
	}
	if (c->has_mfa && m->secret != NULL) {
		const char *why = NULL;

		if (strlen(m->secret) > CREDS_MAX_SECRET ||
		    !iam_totp_secret_valid(m->secret, &why)) {
			iam_fault(f, file, "mfa.secret: %s",
				  why ? why : "is too long");
			bad = true;
		}
		if ((unsigned)m->algorithm > IAM_TOTP_SHA512) {
			iam_fault(f, file, "mfa.algorithm: unknown");
			bad = true;
		}
		if (m->digits < 6 || m->digits > 8) {
			iam_fault(f, file, "mfa.digits: %u is outside 6-8",
				  m->digits);
			bad = true;
		}
		if (m->period < 15 || m->period > 300) {
			iam_fault(f, file, "mfa.period: %u is outside 15-300",
				  m->period);
			bad = true;
		}
	}
	return bad ? -EINVAL : 0;
}

/* ---- Reading ---------------------------------------------------------- */

/* One file being read: its name for faults, where faults go. */
struct reader {
	char file[PATH_MAX];
	struct iam_faults *faults;
	bool bad;
};

static void
rfault(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
rfault(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iam_faultv(rd->faults, rd->file, fmt, ap);
	va_end(ap);
	rd->bad = true;
}

static const struct iam_json *
creds_member(struct reader *rd, const struct iam_json *obj, const char *key,
       enum iam_json_type type, const char *where)
{
	const struct iam_json *v = iam_json_get(obj, key);

	if (v == NULL || v->type == type)
		return v;
	rfault(rd, "%s%s: must be a %s", where, key, iam_json_type_name(type));
	return NULL;
}

static bool
only_keys(struct reader *rd, const struct iam_json *obj, const char *where,
	  const char *const *keys)
{
	bool ok = true;

	for (size_t i = 0; i < obj->len; i++) {
		const char *k = obj->u.members[i].key;
		size_t j;

		for (j = 0; keys[j] != NULL && strcmp(keys[j], k) != 0; j++)
			;
		if (keys[j] == NULL) {
			rfault(rd, "%s%s: unknown key", where, k);
			ok = false;
		}
	}
	return ok;
}

static char *
dup_string(struct reader *rd, const struct iam_json *v, int *r)
{
	char *s;

	if (v == NULL)
		return NULL;
	s = strdup(v->u.string);
	if (s == NULL) {
		*r = -ENOMEM;
		rd->bad = true;
	}
	return s;
}

static uint32_t
get_uint(struct reader *rd, const struct iam_json *v, const char *where,
	 uint32_t min, uint32_t max, uint32_t dflt)
{
	if (v == NULL)
		return dflt;
	if (v->type != IAM_JSON_NUMBER || !v->u.number.is_int ||
	    v->u.number.i < min || v->u.number.i > max) {
		rfault(rd, "%s: must be an integer in %u-%u", where, min, max);
		return dflt;
	}
	return (uint32_t)v->u.number.i;
}

static int
read_password(struct reader *rd, const struct iam_json *v, struct iam_creds *c)
{
	static const char *const keys[] = { "hash", "changed", "must_change",
					    "history", NULL };
	struct iam_password *p = &c->password;
	const struct iam_json *h, *t, *m, *hist;
	int r = 0;

	c->has_password = true;
	if (v->type == IAM_JSON_NULL)
		return 0;
	if (v->type != IAM_JSON_OBJECT) {
		rfault(rd, "password: must be an object or null");
		return 0;
	}
	only_keys(rd, v, "password.", keys);
	h = creds_member(rd, v, "hash", IAM_JSON_STRING, "password.");
	t = creds_member(rd, v, "changed", IAM_JSON_STRING, "password.");
	m = creds_member(rd, v, "must_change", IAM_JSON_BOOL, "password.");
	hist = creds_member(rd, v, "history", IAM_JSON_ARRAY, "password.");
	if (h == NULL)
		rfault(rd, "password.hash: missing");
	p->hash = dup_string(rd, h, &r);
	if (t != NULL && iam_parse_time(t->u.string, &p->changed) < 0)
		rfault(rd, "password.changed: not an ISO 8601 time");
	p->must_change = m != NULL && m->u.boolean;
	if (hist == NULL)
		return r;
	if (hist->len > IAM_ID_MAX_HISTORY) {
		rfault(rd, "password.history: more than %d hashes",
		       IAM_ID_MAX_HISTORY);
		return r;
	}
	p->history = calloc(hist->len ? hist->len : 1, sizeof(char *));
	if (p->history == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < hist->len && r == 0; i++) {
		if (hist->u.items[i].type != IAM_JSON_STRING) {
			rfault(rd, "password.history[%zu]: must be a string", i);
			continue;
		}
		p->history[p->n_history] = dup_string(rd, &hist->u.items[i], &r);
		if (r == 0)
			p->n_history++;
	}
	return r;
}

static int
read_mfa(struct reader *rd, const struct iam_json *v, struct iam_creds *c)
{
	static const char *const keys[] = { "secret", "algorithm", "digits",
					    "period", NULL };
	struct iam_mfa *m = &c->mfa;
	const struct iam_json *s, *a;
	int r = 0;

	c->has_mfa = true;
	if (v->type == IAM_JSON_NULL)
		return 0;
	if (v->type != IAM_JSON_OBJECT) {
		rfault(rd, "mfa: must be an object or null");
		return 0;
	}
	only_keys(rd, v, "mfa.", keys);
	s = creds_member(rd, v, "secret", IAM_JSON_STRING, "mfa.");
	a = creds_member(rd, v, "algorithm", IAM_JSON_STRING, "mfa.");
	if (s == NULL)
		rfault(rd, "mfa.secret: missing");
	m->secret = dup_string(rd, s, &r);
	m->algorithm = IAM_TOTP_SHA1;
	if (a != NULL) {
		size_t i;

		for (i = 0; i < 3 && strcmp(a->u.string, algo_names[i]); i++)
			;
		if (i == 3)
			rfault(rd, "mfa.algorithm: must be SHA1, SHA256 or SHA512");
		else
			m->algorithm = (enum iam_totp_algo)i;
	}
	m->digits = get_uint(rd, iam_json_get(v, "digits"), "mfa.digits",
			     6, 8, 6);
	m->period = get_uint(rd, iam_json_get(v, "period"), "mfa.period",
			     15, 300, 30);
	return r;
}

static int
parse_creds(struct reader *rd, const char *buf, size_t len, uint32_t uid,
	    struct iam_creds *c)
{
	static const char *const keys[] = { "uid", "password", "mfa", NULL };
	const struct iam_json_limits lim = { .max_bytes = CREDS_MAX_BYTES,
					     .max_depth = 4,
					     .max_string = 4096,
					     .max_items = 64 };
	const struct iam_json *root, *v;
	struct iam_json_doc *doc;
	char msg[256];
	int r;

	r = iam_json_parse(buf, len, &lim, &doc, msg, sizeof(msg));
	if (r < 0) {
		if (r == -EINVAL || r == -E2BIG)
			rfault(rd, "%s", msg);
		return r;
	}
	root = iam_json_root(doc);
	if (root->type != IAM_JSON_OBJECT) {
		rfault(rd, "must be a JSON object");
		goto out;
	}
	only_keys(rd, root, "", keys);
	if (get_uint(rd, iam_json_get(root, "uid"), "uid", 0, UINT32_MAX - 1,
		     UINT32_MAX) != uid)
		rfault(rd, "uid: does not match the file name");
	v = iam_json_get(root, "password");
	if (v != NULL)
		r = read_password(rd, v, c);
	v = iam_json_get(root, "mfa");
	if (r == 0 && v != NULL)
		r = read_mfa(rd, v, c);
	if (r == 0 && !rd->bad && check_creds(c, rd->file, rd->faults) < 0)
		rd->bad = true;
out:
	iam_json_free(doc);
	return r;
}

/* Read UID.json inside the open credentials folder dirfd. */
static int
load_at(int dirfd, const char *dir, uint32_t uid, struct iam_creds **ret,
	struct iam_faults *faults)
{
	struct reader rd = { .faults = faults };
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_creds *c = NULL;
	char name[CREDS_FILE_MAX];
	struct stat st;
	int fd, r;

	snprintf(name, sizeof(name), "%u.json", uid);
	if (iam_snprintf(rd.file, sizeof(rd.file), "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			rfault(&rd, "%s", r == -ELOOP ? "is a symbolic link" :
			       strerror(-r));
		return r;
	}
	r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		rfault(&rd, "is not a regular file");
	else if (st.st_uid != 0)
		rfault(&rd, "is not owned by root");
	else if (st.st_mode & 0077)
		rfault(&rd, "is accessible by group or others");
	else if (st.st_size > CREDS_MAX_BYTES)
		rfault(&rd, "is over the size limit");
	if (r == 0 && rd.bad)
		r = -EPERM;
	if (r == 0)
		r = iam_buf_grow(&b, (size_t)st.st_size + 1);
	while (r == 0) {
		ssize_t n = read(fd, b.buf + b.len, b.alloc - b.len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break;
		b.len += (size_t)n;
		b.buf[b.len] = '\0';
		if (b.len + 1 >= b.alloc) {
			rfault(&rd, "grew while being read");
			r = -EIO;
		}
	}
	close(fd);
	if (r == 0)
		r = iam_creds_new(uid, &c);
	if (r == 0)
		r = parse_creds(&rd, b.buf ? b.buf : "", b.len, uid, c);
	iam_buf_wipe(&b);
	if (r == 0 && rd.bad)
		r = -EINVAL;
	if (r < 0) {
		iam_creds_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static int
open_creds_dir(const struct iam_config *cfg, struct iam_faults *faults)
{
	char err[PATH_MAX + 64];
	int fd;

	fd = iam_open_strict(cfg->credentials_dir,
			     IAM_STRICT_DIR | IAM_STRICT_SECRET, err,
			     sizeof(err));
	if (fd < 0 && fd != -ENOENT)
		iam_fault(faults, NULL, "%s", err);
	return fd;
}

int
iam_creds_load(const struct iam_config *cfg, uint32_t uid,
	       struct iam_creds **ret_creds, struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	int dfd, r;

	if (faults == NULL)
		faults = &scratch;
	dfd = open_creds_dir(cfg, faults);
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	r = load_at(dfd, cfg->credentials_dir, uid, ret_creds, faults);
	close(dfd);
out:
	iam_faults_release(&scratch);
	return r;
}

/* ---- Writing ---------------------------------------------------------- */

struct gen_out {
	struct iam_buf *b;
	bool failed;
};

static void
gen_print(void *ctx, const char *s, size_t len)
{
	struct gen_out *o = ctx;

	if (!o->failed && iam_buf_add(o->b, s, len) < 0)
		o->failed = true;
}

static yajl_gen_status
gen_str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static yajl_gen_status
gen_password(yajl_gen g, const struct iam_password *p)
{
	char when[32];

	if (p->hash == NULL)
		return yajl_gen_null(g);
	yajl_gen_map_open(g);
	gen_str(g, "hash");
	gen_str(g, p->hash);
	if (p->changed != 0 && iam_format_time(p->changed, when,
					       sizeof(when)) == 0) {
		gen_str(g, "changed");
		gen_str(g, when);
	}
	gen_str(g, "must_change");
	yajl_gen_bool(g, p->must_change);
	gen_str(g, "history");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->n_history; i++)
		gen_str(g, p->history[i]);
	yajl_gen_array_close(g);
	return yajl_gen_map_close(g);
}

static yajl_gen_status
gen_mfa(yajl_gen g, const struct iam_mfa *m)
{
	if (m->secret == NULL)
		return yajl_gen_null(g);
	yajl_gen_map_open(g);
	gen_str(g, "secret");
	gen_str(g, m->secret);
	gen_str(g, "algorithm");
	gen_str(g, algo_names[m->algorithm]);
	gen_str(g, "digits");
	yajl_gen_integer(g, m->digits);
	gen_str(g, "period");
	yajl_gen_integer(g, m->period);
	return yajl_gen_map_close(g);
}

static int
serialise(const struct iam_creds *c, struct iam_buf *out)
{
	struct gen_out o = { .b = out };
	yajl_gen g;
	yajl_gen_status s;

	/* One allocation up front, so no realloc leaves a copy behind. */
	if (iam_buf_grow(out, CREDS_MAX_BYTES) < 0)
		return -ENOMEM;
	g = yajl_gen_alloc(NULL);
	if (g == NULL)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_print_callback, gen_print, &o);
	yajl_gen_map_open(g);
	gen_str(g, "uid");
	yajl_gen_integer(g, c->uid);
	if (c->has_password) {
		gen_str(g, "password");
		gen_password(g, &c->password);
	}
	if (c->has_mfa) {
		gen_str(g, "mfa");
		gen_mfa(g, &c->mfa);
	}
	s = yajl_gen_map_close(g);
	yajl_gen_free(g);
	if (s != yajl_gen_status_ok || o.failed)
		return -ENOMEM;
	return iam_buf_adds(out, "\n");
}

int
iam_creds_save(const struct iam_config *cfg, const struct iam_creds *c)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct iam_buf b = IAM_BUF_INIT;
	char path[PATH_MAX];
	int dfd, r;

	r = c->uid == UINT32_MAX ? -EINVAL : check_creds(c, NULL, &scratch);
	iam_faults_release(&scratch);
	if (r < 0)
		return r;
	r = iam_snprintf(path, sizeof(path), "%s/%u.json", cfg->credentials_dir,
			 c->uid);
	if (r < 0)
		return r;
	dfd = iam_ensure_dir(cfg->credentials_dir, 0700, 0, NULL, 0);
	if (dfd < 0)
		return dfd;
	close(dfd);
	r = serialise(c, &b);
	if (r == 0)
		r = iam_write_atomic(path, b.buf, b.len, 0600);
	iam_buf_wipe(&b);
	return r;
}

/* ---- Merging into an identity ----------------------------------------- */

/* "70001.json" -> 70001; false for anything else (".lock", temp files). */
static bool
file_uid(const char *name, uint32_t *ret_uid)
{
	char digits[16];
	size_t n = strspn(name, "0123456789");
	long long v;

	if (n == 0 || n >= sizeof(digits) || strcmp(name + n, ".json") != 0 ||
	    (name[0] == '0' && n > 1))
		return false;
	memcpy(digits, name, n);
	digits[n] = '\0';
	if (iam_parse_ll(digits, 0, UINT32_MAX - 1, &v) < 0)
		return false;
	*ret_uid = (uint32_t)v;
	return true;
}

/* Move c's decided credentials into u, wiping what they replace. */
static void
merge(struct iam_user *u, struct iam_creds *c)
{
	if (c->has_password) {
		password_clear(&u->password);
		u->password = c->password;
		memset(&c->password, 0, sizeof(c->password));
	}
	if (c->has_mfa) {
		mfa_clear(&u->mfa);
		u->mfa = c->mfa;
		memset(&c->mfa, 0, sizeof(c->mfa));
	}
}

int
iam_creds_apply(const struct iam_config *cfg, struct iam_identity *id,
		struct iam_faults *faults)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct dirent *de;
	DIR *d;
	int dfd, fd2, r = 0, bad = 0;

	if (faults == NULL)
		faults = &scratch;
	dfd = open_creds_dir(cfg, faults);
	if (dfd == -ENOENT) {
		r = 0;
		goto out;
	}
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	d = fd2 < 0 ? NULL : fdopendir(fd2);
	if (d == NULL) {
		r = -errno;
		if (fd2 >= 0)
			close(fd2);
		close(dfd);
		goto out;
	}
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		const struct iam_user *cu;
		struct iam_creds *c;
		uint32_t uid;
		int lr;

		if (!file_uid(de->d_name, &uid))
			continue;
		cu = iam_identity_user_by_uid(id, uid);
		if (cu == NULL)
			continue;	/* kept for a user who may return */
		lr = load_at(dfd, cfg->credentials_dir, uid, &c, faults);
		if (lr == -ENOMEM)
			r = lr;
		else if (lr < 0 && lr != -ENOENT)
			bad = lr;
		if (lr < 0)
			continue;
		merge(&id->users[cu - id->users], c);
		iam_creds_free(c);
	}
	if (r == 0 && de == NULL && errno != 0)
		r = -errno;
	closedir(d);
	close(dfd);
	if (r == 0)
		r = bad;
out:
	iam_faults_release(&scratch);
	return r;
}
