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
 * hashes of the one-time codes (a used code is marked spent with a
 * leading '!', so every host that shares the store refuses it).  Both
 * exist only in this store.
 * Files are keyed by uid, never by a path built from a name.
 *
 * This file holds the records and their checks; reading a file and
 * merging into an identity are in creds_read.c, writing in creds_write.c.
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
devices_clear(struct iam_mfa **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mfa_clear(&(*v)[i]);
	free(*v);
	*v = NULL;
}

static void
recovery_clear(char ***v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		iam_drop_string((*v)[i]);
	free(*v);
	*v = NULL;
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

/*
 * Copies of the n devices at src into a new *v, *ret_k of them: on
 * failure those made so far stay there for devices_clear().
 */
static int
copy_devices(const struct iam_mfa *src, size_t n, struct iam_mfa **v,
	     size_t *ret_k)
{
	*ret_k = 0;
	*v = n > 0 ? calloc(n, sizeof(**v)) : NULL;
	if (n > 0 && *v == NULL)
		return -ENOMEM;
	for (; *ret_k < n; (*ret_k)++)
		if (copy_mfa(&src[*ret_k], &(*v)[*ret_k]) < 0)
			return -ENOMEM;
	return 0;
}

/* The same for strings (recovery_clear()). */
static int
copy_strings(char *const *src, size_t n, char ***v, size_t *ret_k)
{
	*ret_k = 0;
	*v = n > 0 ? calloc(n, sizeof(**v)) : NULL;
	if (n > 0 && *v == NULL)
		return -ENOMEM;
	for (; *ret_k < n; (*ret_k)++)
		if (((*v)[*ret_k] = strdup(src[*ret_k])) == NULL)
			return -ENOMEM;
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
	devices_clear(&c->devices, c->n_devices);
	c->n_devices = 0;
	recovery_clear(&c->recovery, c->n_recovery);
	c->n_recovery = 0;
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
		r = copy_devices(u->mfa_devices, u->n_mfa_devices, &c->devices,
				 &c->n_devices);
	if (r == 0)
		r = copy_strings(u->recovery_codes, u->n_recovery_codes,
				 &c->recovery, &c->n_recovery);
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
	size_t k;
	int r;

	if (n > IAM_RECOVERY_CODES || (n > 0 && hashes == NULL))
		return -EINVAL;
	r = copy_strings(hashes, n, &v, &k);
	if (r < 0) {
		recovery_clear(&v, k);
		return r;
	}
	recovery_clear(&c->recovery, c->n_recovery);
	c->n_recovery = 0;
	c->recovery = v;
	c->n_recovery = n;
	return 0;
}

/*
 * Mark the hash arg of the record spent (IAM_RECOVERY_SPENT): it keeps
 * its place, so the set's tag and the state's marks of the other codes
 * stay right on every host and in every generation still being read.
 */
static int
spend_change(struct iam_creds **cr, void *arg)
{
	const char *hash = arg;
	struct iam_creds *c = *cr;
	char *spent;

	if (c == NULL || hash[0] == IAM_RECOVERY_SPENT)
		return -ENOENT;
	for (size_t i = 0; i < c->n_recovery; i++) {
		if (strcmp(c->recovery[i], hash) != 0)
			continue;
		if (asprintf(&spent, "%c%s", IAM_RECOVERY_SPENT, hash) < 0)
			return -ENOMEM;
		iam_drop_string(c->recovery[i]);
		c->recovery[i] = spent;
		return 0;
	}
	return -ENOENT;
}

int
iam_creds_spend_recovery(const struct iam_config *cfg, uint32_t uid,
			 const char *hash, struct iam_faults *faults)
{
	if (cfg == NULL || hash == NULL)
		return -EINVAL;
	return iam_creds_update(cfg, uid, spend_change, (void *)hash, NULL,
				faults);
}

/* ---- Checks ----------------------------------------------------------- */

const char *const iam_creds_algo_names[3] = { "SHA1", "SHA256", "SHA512" };

/* Same shapes as the identity file's (iam_password_hash_valid()). */
static bool
hash_ok(const char *h)
{
	return strlen(h) <= CREDS_MAX_HASH && iam_password_hash_valid(h);
}

/*
 * Recovery code hashes: sha512crypt (iam_recovery_hash()), a spent one
 * marked with a leading IAM_RECOVERY_SPENT.
 */
static bool
recovery_hash_ok(const char *h)
{
	if (h[0] == IAM_RECOVERY_SPENT)
		h++;
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

int
iam_creds_check(const struct iam_creds *c, const char *file, struct iam_faults *f)
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

/* Move c's decided credentials into u, wiping what they replace. */
void
iam_creds_merge(struct iam_user *u, struct iam_creds *c)
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
	devices_clear(&u->mfa_devices, u->n_mfa_devices);
	u->mfa_devices = c->devices;
	u->n_mfa_devices = c->n_devices;
	c->devices = NULL;
	c->n_devices = 0;
	recovery_clear(&u->recovery_codes, u->n_recovery_codes);
	u->recovery_codes = c->recovery;
	u->n_recovery_codes = c->n_recovery;
	c->recovery = NULL;
	c->n_recovery = 0;
}
