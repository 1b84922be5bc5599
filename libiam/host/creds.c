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
 *              "period": 30, "enabled": "2026-10-01T12:00:00Z" },
 *     "mfa_devices": [ { "name": "phone", "secret": "...", "algorithm":
 *              "SHA1", "digits": 6, "period": 30, "enabled": "..." } ],
 *     "recovery_codes": [ "$6$rounds=1000$...", ... ] }
 *
 * A member that is absent leaves the identity file's value in force;
 * "password": null or "mfa": null removes it.  "mfa" is the device named
 * "default" (so a file written before named devices existed means
 * exactly what it meant); "mfa_devices" are the others, at most
 * IAM_MFA_MAX_DEVICES in all; "recovery_codes" holds only crypt(3)
 * hashes of the one-time codes.  Both exist only in this store.  Files are keyed by uid,
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
#include "iam/creds.h"

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
	free(m->name);
	memset(m, 0, sizeof(*m));
}

static void
devices_clear(struct iam_mfa **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		mfa_clear(&(*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static void
recovery_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		iam_drop_string((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* A copy of m (secret and name), into *dst. */
static int
copy_mfa(const struct iam_mfa *m, struct iam_mfa *dst)
{
	struct iam_mfa c = *m;

	c.secret = m->secret ? strdup(m->secret) : NULL;
	c.name = m->name ? strdup(m->name) : NULL;
	if ((m->secret && !c.secret) || (m->name && !c.name)) {
		mfa_clear(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

static int
copy_devices(const struct iam_mfa *src, size_t n, struct iam_mfa **ret_v)
{
	struct iam_mfa *v;
	size_t k;

	*ret_v = NULL;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		if (copy_mfa(&src[k], &v[k]) < 0) {
			devices_clear(&v, &k);
			return -ENOMEM;
		}
	}
	*ret_v = v;
	return 0;
}

static int
copy_strings(char *const *src, size_t n, char ***ret_v)
{
	char **v;
	size_t k;

	*ret_v = NULL;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		if ((v[k] = strdup(src[k])) == NULL) {
			recovery_clear(&v, &k);
			return -ENOMEM;
		}
	}
	*ret_v = v;
	return 0;
}

bool
iam_mfa_name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_.@+=-");
	return n > 0 && n <= IAM_MFA_NAME_MAX && name[n] == '\0';
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
	devices_clear(&c->devices, &c->n_devices);
	recovery_clear(&c->recovery, &c->n_recovery);
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
	if (r == 0)
		r = copy_devices(u->mfa_devices, u->n_mfa_devices, &c->devices);
	if (r == 0)
		c->n_devices = u->n_mfa_devices;
	if (r == 0)
		r = copy_strings(u->recovery_codes, u->n_recovery_codes,
				 &c->recovery);
	if (r == 0)
		c->n_recovery = u->n_recovery_codes;
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
	struct iam_mfa n = { 0 };

	if (m != NULL && m->secret == NULL)
		return -EINVAL;
	if (m != NULL) {
		n = *m;
		n.name = NULL;	/* the "mfa" object is "default" */
		if ((n.secret = strdup(m->secret)) == NULL)
			return -ENOMEM;
	}
	mfa_clear(&c->mfa);
	c->mfa = n;
	c->has_mfa = true;
	return 0;
}

size_t
iam_creds_device_count(const struct iam_creds *c)
{
	return (c->mfa.secret != NULL ? 1 : 0) + c->n_devices;
}

int
iam_creds_add_device(struct iam_creds *c, const struct iam_mfa *m)
{
	struct iam_mfa *v;
	int r;

	if (m == NULL || m->secret == NULL || !iam_mfa_name_valid(m->name) ||
	    strcmp(m->name, IAM_MFA_DEFAULT) == 0)
		return -EINVAL;
	for (size_t i = 0; i < c->n_devices; i++)
		if (strcmp(c->devices[i].name, m->name) == 0)
			return -EEXIST;
	if (iam_creds_device_count(c) >= IAM_MFA_MAX_DEVICES)
		return -ENOSPC;
	v = reallocarray(c->devices, c->n_devices + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	c->devices = v;
	r = copy_mfa(m, &v[c->n_devices]);
	if (r == 0)
		c->n_devices++;
	return r;
}

int
iam_creds_remove_device(struct iam_creds *c, const char *name)
{
	for (size_t i = 0; name != NULL && i < c->n_devices; i++) {
		if (strcmp(c->devices[i].name, name) != 0)
			continue;
		mfa_clear(&c->devices[i]);
		memmove(&c->devices[i], &c->devices[i + 1],
			(c->n_devices - i - 1) * sizeof(*c->devices));
		c->n_devices--;
		return 0;
	}
	return -ENOENT;
}

int
iam_creds_set_recovery(struct iam_creds *c, char *const *hashes, size_t n)
{
	char **v;
	int r;

	if (n > IAM_RECOVERY_CODES || (n > 0 && hashes == NULL))
		return -EINVAL;
	r = copy_strings(hashes, n, &v);
	if (r < 0)
		return r;
	recovery_clear(&c->recovery, &c->n_recovery);
	c->recovery = v;
	c->n_recovery = n;
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

/* Recovery code hashes: sha512crypt (iam_recovery_hash()). */
static bool
recovery_hash_ok(const char *h)
{
	return strlen(h) <= CREDS_MAX_HASH && strncmp(h, "$6$", 3) == 0 &&
	       strchr(h + 3, '$') != NULL;
}

static bool
check_device(const struct iam_mfa *m, const char *file, const char *where,
	     struct iam_faults *f)
{
	const char *why = NULL;
	bool bad = false;

	if (strlen(m->secret) > CREDS_MAX_SECRET ||
	    !iam_totp_secret_valid(m->secret, &why)) {
		iam_fault(f, file, "%s.secret: %s", where,
			  why ? why : "is too long");
		bad = true;
	}
	if ((unsigned)m->algorithm > IAM_TOTP_SHA512) {
		iam_fault(f, file, "%s.algorithm: unknown", where);
		bad = true;
	}
	if (m->digits < 6 || m->digits > 8) {
		iam_fault(f, file, "%s.digits: %u is outside 6-8", where,
			  m->digits);
		bad = true;
	}
	if (m->period < 15 || m->period > 300) {
		iam_fault(f, file, "%s.period: %u is outside 15-300", where,
			  m->period);
		bad = true;
	}
	return bad;
}

static bool
check_devices(const struct iam_creds *c, const char *file,
	      struct iam_faults *f)
{
	bool bad = false;

	if (iam_creds_device_count(c) > IAM_MFA_MAX_DEVICES) {
		iam_fault(f, file, "mfa_devices: more than %d devices in all",
			  IAM_MFA_MAX_DEVICES);
		bad = true;
	}
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct iam_mfa *d = &c->devices[i];
		char where[48];

		snprintf(where, sizeof(where), "mfa_devices[%zu]", i);
		if (d->secret == NULL || !iam_mfa_name_valid(d->name) ||
		    strcmp(d->name, IAM_MFA_DEFAULT) == 0) {
			iam_fault(f, file, "%s: needs a secret and a name other "
				  "than \"default\"", where);
			bad = true;
			continue;
		}
		bad |= check_device(d, file, where, f);
		for (size_t j = 0; j < i; j++) {
			if (c->devices[j].name != NULL &&
			    strcmp(c->devices[j].name, d->name) == 0) {
				iam_fault(f, file, "%s.name: \"%s\" twice",
					  where, d->name);
				bad = true;
			}
		}
	}
	if (c->n_recovery > IAM_RECOVERY_CODES) {
		iam_fault(f, file, "recovery_codes: more than %d codes",
			  IAM_RECOVERY_CODES);
		bad = true;
	}
	for (size_t i = 0; i < c->n_recovery; i++) {
		if (!recovery_hash_ok(c->recovery[i])) {
			iam_fault(f, file, "recovery_codes[%zu]: not a "
				  "sha512crypt hash", i);
			bad = true;
		}
	}
	return bad;
}

static int
check_creds(const struct iam_creds *c, const char *file, struct iam_faults *f)
{
	const struct iam_password *p = &c->password;
	const struct iam_mfa *m = &c->mfa;
	bool bad = check_devices(c, file, f);

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
	if (c->has_mfa && m->secret != NULL)
		bad |= check_device(m, file, "mfa", f);
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

		for (i = 0; i < 3 && strcmp(a->u.string, algo_names[i]); i++)
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
	if (v->type == IAM_JSON_NULL)
		return 0;
	if (v->type != IAM_JSON_OBJECT) {
		rfault(rd, "mfa: must be an object or null");
		return 0;
	}
	return read_device(rd, v, "mfa.", false, &c->mfa);
}

static int
read_devices(struct reader *rd, const struct iam_json *v, struct iam_creds *c)
{
	int r = 0;

	if (v->type != IAM_JSON_ARRAY) {
		rfault(rd, "mfa_devices: must be an array");
		return 0;
	}
	if (v->len > IAM_MFA_MAX_DEVICES) {
		rfault(rd, "mfa_devices: more than %d devices",
		       IAM_MFA_MAX_DEVICES);
		return 0;
	}
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
	int r = 0;

	if (v->type != IAM_JSON_ARRAY) {
		rfault(rd, "recovery_codes: must be an array");
		return 0;
	}
	if (v->len > IAM_RECOVERY_CODES) {
		rfault(rd, "recovery_codes: more than %d codes",
		       IAM_RECOVERY_CODES);
		return 0;
	}
	c->recovery = calloc(v->len ? v->len : 1, sizeof(char *));
	if (c->recovery == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->len && r == 0; i++) {
		if (v->u.items[i].type != IAM_JSON_STRING) {
			rfault(rd, "recovery_codes[%zu]: must be a string", i);
			continue;
		}
		c->recovery[c->n_recovery] = dup_string(rd, &v->u.items[i], &r);
		if (r == 0)
			c->n_recovery++;
	}
	return r;
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
	char when[32];

	if (m->secret == NULL)
		return yajl_gen_null(g);
	yajl_gen_map_open(g);
	if (m->name != NULL) {
		gen_str(g, "name");
		gen_str(g, m->name);
	}
	if (m->enabled != 0 && iam_format_time(m->enabled, when,
					       sizeof(when)) == 0) {
		gen_str(g, "enabled");
		gen_str(g, when);
	}
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
	/* Written only when present: older files stay as they were. */
	if (c->n_devices > 0) {
		gen_str(g, "mfa_devices");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < c->n_devices; i++)
			gen_mfa(g, &c->devices[i]);
		yajl_gen_array_close(g);
	}
	if (c->n_recovery > 0) {
		gen_str(g, "recovery_codes");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < c->n_recovery; i++)
			gen_str(g, c->recovery[i]);
		yajl_gen_array_close(g);
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
	devices_clear(&u->mfa_devices, &u->n_mfa_devices);
	u->mfa_devices = c->devices;
	u->n_mfa_devices = c->n_devices;
	c->devices = NULL;
	c->n_devices = 0;
	recovery_clear(&u->recovery_codes, &u->n_recovery_codes);
	u->recovery_codes = c->recovery;
	u->n_recovery_codes = c->n_recovery;
	c->recovery = NULL;
	c->n_recovery = 0;
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
