/*
 * creds_read.c - reading the credentials store (format in creds.c): one
 * strict JSON file per uid, every member checked, and the records merged
 * into an identity (iam_creds_apply).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/creds.h"
#include "creds_int.h"
#include "identity_int.h"
#include "json_int.h"

/* ---- Reading ---------------------------------------------------------- */

/* One file being read: its name for faults, where faults go. */
struct reader {
	char file[PATH_MAX];
	struct iam_faults *faults;
	bool bad;
};

static void __attribute__((format(printf, 2, 3)))
rfault(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	rd->bad = true;
	va_start(ap, fmt);
	iam_faultv(rd->faults, rd->file, fmt, ap);
	va_end(ap);
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

/* Whether v is an object; null is none, anything else a fault at name. */
static bool
object_or_null(struct reader *rd, const struct iam_json *v, const char *name)
{
	if (v->type != IAM_JSON_OBJECT && v->type != IAM_JSON_NULL)
		rfault(rd, "%s: must be an object or null", name);
	return v->type == IAM_JSON_OBJECT;
}

/* Whether v is an array of at most max items (else a fault: name: ...). */
static bool
array_within(struct reader *rd, const struct iam_json *v, const char *name,
	     int max, const char *what)
{
	if (v->type != IAM_JSON_ARRAY) {
		rfault(rd, "%s: must be an array", name);
		return false;
	}
	if (v->len > (size_t)max) {
		rfault(rd, "%s: more than %d %s", name, max, what);
		return false;
	}
	return true;
}

/*
 * The strings of the array v into a new *ret (*n of them); an item that
 * is not a string is a fault at name[i].
 */
static int
read_strings(struct reader *rd, const struct iam_json *v, const char *name,
	     char ***ret, size_t *n)
{
	int r = 0;

	*ret = calloc(v->len ? v->len : 1, sizeof(char *));
	if (*ret == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->len && r == 0; i++) {
		if (v->u.items[i].type != IAM_JSON_STRING) {
			rfault(rd, "%s[%zu]: must be a string", name, i);
			continue;
		}
		(*ret)[*n] = dup_string(rd, &v->u.items[i], &r);
		if (r == 0)
			(*n)++;
	}
	return r;
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
	if (!object_or_null(rd, v, "password"))
		return 0;
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
	if (!array_within(rd, hist, "password.history", IAM_ID_MAX_HISTORY,
			  "hashes"))
		return r;
	if (r == 0) {
		size_t n = 0;

		r = read_strings(rd, hist, "password.history", &p->history,
				 &n);
		p->n_history = (uint32_t)n;	/* capped just above */
	}
	return r;
}

/* One device object (where: "mfa." or "mfa_devices[N]."). */
static int
read_device(struct reader *rd, const struct iam_json *v, const char *where,
	    bool named, struct iam_mfa *m)
{
	static const char *const keys[] = { "secret", "algorithm", "digits",
					    "period", "enabled", NULL };
	static const char *const nkeys[] = { "name", "secret", "algorithm",
					     "digits", "period", "enabled",
					     NULL };
	const struct iam_json *s, *a, *e, *n = NULL;
	char at[64];
	int r = 0;

	only_keys(rd, v, where, named ? nkeys : keys);
	s = creds_member(rd, v, "secret", IAM_JSON_STRING, where);
	a = creds_member(rd, v, "algorithm", IAM_JSON_STRING, where);
	e = creds_member(rd, v, "enabled", IAM_JSON_STRING, where);
	if (named) {
		n = creds_member(rd, v, "name", IAM_JSON_STRING, where);
		if (n == NULL)
			rfault(rd, "%sname: missing", where);
		m->name = dup_string(rd, n, &r);
	}
	if (s == NULL)
		rfault(rd, "%ssecret: missing", where);
	m->secret = dup_string(rd, s, &r);
	m->algorithm = IAM_TOTP_SHA1;
	if (a != NULL) {
		size_t i;

		for (i = 0; i < 3 && strcmp(a->u.string, iam_creds_algo_names[i]); i++)
			;
		if (i == 3)
			rfault(rd, "%salgorithm: must be SHA1, SHA256 or "
			       "SHA512", where);
		else
			m->algorithm = (enum iam_totp_algo)i;
	}
	if (e != NULL && iam_parse_time(e->u.string, &m->enabled) < 0)
		rfault(rd, "%senabled: not an ISO 8601 time", where);
	snprintf(at, sizeof(at), "%sdigits", where);
	m->digits = get_uint(rd, iam_json_get(v, "digits"), at, 6, 8, 6);
	snprintf(at, sizeof(at), "%speriod", where);
	m->period = get_uint(rd, iam_json_get(v, "period"), at, 15, 300, 30);
	return r;
}

static int
read_mfa(struct reader *rd, const struct iam_json *v, struct iam_creds *c)
{
	c->has_mfa = true;
	if (!object_or_null(rd, v, "mfa"))
		return 0;
	return read_device(rd, v, "mfa.", false, &c->mfa);
}

static int
read_devices(struct reader *rd, const struct iam_json *v, struct iam_creds *c)
{
	int r = 0;

	if (!array_within(rd, v, "mfa_devices", IAM_MFA_MAX_DEVICES, "devices"))
		return 0;
	c->devices = calloc(v->len ? v->len : 1, sizeof(*c->devices));
	if (c->devices == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->len && r == 0; i++) {
		char where[48];

		snprintf(where, sizeof(where), "mfa_devices[%zu].", i);
		if (v->u.items[i].type != IAM_JSON_OBJECT) {
			rfault(rd, "mfa_devices[%zu]: must be an object", i);
			continue;
		}
		r = read_device(rd, &v->u.items[i], where, true,
				&c->devices[c->n_devices]);
		c->n_devices++;
	}
	return r;
}

static int
read_recovery(struct reader *rd, const struct iam_json *v,
	      struct iam_creds *c)
{
	if (!array_within(rd, v, "recovery_codes", IAM_RECOVERY_CODES, "codes"))
		return 0;
	return read_strings(rd, v, "recovery_codes", &c->recovery,
			    &c->n_recovery);
}

static int
parse_creds(struct reader *rd, const char *buf, size_t len, uint32_t uid,
	    struct iam_creds *c)
{
	static const char *const keys[] = { "uid", "password", "mfa",
					    "mfa_devices", "recovery_codes",
					    NULL };
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
	v = iam_json_get(root, "mfa_devices");
	if (r == 0 && v != NULL)
		r = read_devices(rd, v, c);
	v = iam_json_get(root, "recovery_codes");
	if (r == 0 && v != NULL)
		r = read_recovery(rd, v, c);
	if (r == 0 && !rd->bad && iam_creds_check(c, rd->file, rd->faults) < 0)
		rd->bad = true;
out:
	iam_json_free(doc);
	return r;
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
	if (r == 0)
		r = iam_buf_read_fd(&b, fd, (size_t)st.st_size);
	if (r == -EFBIG) {
		rfault(&rd, "grew while being read");
		r = -EIO;
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

/*
 * iam_creds_merge() of c into id's user u.  When id's hashes are lent
 * (iam_id_priv.hashes_lent), the lent hash is not freed and the merged
 * one is copied into the document's arena too (the store's copy
 * wiped), so the model stays of one kind.  0 or -ENOMEM (u unchanged).
 */
static int
merge_into(struct iam_identity *id, struct iam_user *u, struct iam_creds *c)
{
	struct iam_id_priv *p = id->priv;
	char *h = c->has_password ? c->password.hash : NULL, *copy = NULL;
	size_t n;

	if (p == NULL || !p->hashes_lent) {
		iam_creds_merge(u, c);
		return 0;
	}
	if (h != NULL) {
		n = strlen(h) + 1;
		copy = iam_json_doc_alloc(id->doc, n);
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, h, n);
	}
	/* the lent hash stays in the arena: the merge must not free it */
	if (c->has_password)
		u->password.hash = NULL;
	iam_creds_merge(u, c);
	if (copy != NULL) {
		iam_drop_string(u->password.hash);
		u->password.hash = copy;
	}
	return 0;
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
		if (merge_into(id, &id->users[cu - id->users], c) < 0)
			r = -ENOMEM;
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
