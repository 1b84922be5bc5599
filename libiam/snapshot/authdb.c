/*
 * authdb.c - the reader of the private snapshot auth/auth.db (layout in
 * iam/authdb.h, offsets in authdb_format.h; the builder is
 * authdb_write.c).  The reader maps the file and trusts nothing in it:
 * every offset, length and count is checked against the mapping before
 * use, and each part carries its own checksum, so a lookup verifies only
 * what it reads and its cost stays flat in the number of users.
 * Over 600 lines: the bounds checks of the mapping (cur, part, map32) and
 * every decoder of a record that relies on them stay in one file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/authdb.h"
#include "authdb_format.h"

struct iam_authdb {
	const unsigned char *map;
	size_t size;
	bool copy;		/* map is a malloc'd copy, not a mapping */
	uint32_t version;	/* of the format: which checksum */
	uint64_t generation;
	uint32_t n_users, n_buckets, buckets;
	uint32_t n_pol, poltab;
	/* globals, decoded once */
	struct iam_password_policy pp;
	const char *account_id, *account_alias;
};

/* A bounded cursor over a part of the map. */
struct cur {
	const unsigned char *p;
	size_t len, at;
	bool bad;
};

/* The next n bytes of c into dst; fewer left make c bad (dst untouched). */
static inline void
take(struct cur *c, void *dst, size_t n)
{
	if (c->bad || c->len - c->at < n) {
		c->bad = true;
		return;
	}
	memcpy(dst, c->p + c->at, n);
	c->at += n;
}

static uint32_t
get32(struct cur *c)
{
	uint32_t v = 0;

	take(c, &v, sizeof(v));
	return v;
}

static uint64_t
get64(struct cur *c)
{
	uint64_t v = 0;

	take(c, &v, sizeof(v));
	return v;
}

/* A length-prefixed NUL-terminated string; NULL when bad. */
static const char *
getstr(struct cur *c, uint32_t *ret_len)
{
	uint32_t n = get32(c);
	const char *s;

	if (c->bad || c->len - c->at < (size_t)n + 1 ||
	    c->p[c->at + n] != '\0' || memchr(c->p + c->at, '\0', n) != NULL) {
		c->bad = true;
		return NULL;
	}
	s = (const char *)c->p + c->at;
	c->at += (size_t)n + 1;
	if (ret_len != NULL)
		*ret_len = n;
	return s;
}

static uint32_t
map32(const struct iam_authdb *db, size_t at)
{
	uint32_t v;

	memcpy(&v, db->map + at, 4);
	return v;
}

/* A checksummed part at off: [u64 checksum][len - 8 bytes]. */
static int
part(const struct iam_authdb *db, uint32_t off, uint32_t len, struct cur *c)
{
	uint64_t sum;

	if (off < HDR_SIZE || len < 16 || off > db->size ||
	    len > db->size - off)
		return -EBADMSG;
	memcpy(&sum, db->map + off, 8);
	if (sum != authdb_sum(db->version, db->map + off + 8, len - 8))
		return -EBADMSG;
	c->p = db->map + off;
	c->len = len;
	c->at = 8;
	c->bad = false;
	return 0;
}

static int
read_globals(struct iam_authdb *db, uint32_t off, uint32_t len)
{
	struct iam_password_policy *pp = &db->pp;
	struct cur c;
	uint32_t flags, has_alias;

	if (part(db, off, len, &c) < 0)
		return -EBADMSG;
	flags = get32(&c);
	pp->require_uppercase = flags & P_UPPER;
	pp->require_lowercase = flags & P_LOWER;
	pp->require_numbers = flags & P_NUMBERS;
	pp->require_symbols = flags & P_SYMBOLS;
	pp->hard_expiry = flags & P_HARD;
	pp->allow_users_to_change = flags & P_CHANGE;
	pp->minimum_length = get32(&c);
	pp->max_age_days = get32(&c);
	pp->reuse_prevention = get32(&c);
	pp->ssh_key_max_age_days = get32(&c);
	pp->lockout.max_failed_attempts = get32(&c);
	pp->lockout.lockout_seconds = get32(&c);
	has_alias = get32(&c);
	db->account_id = getstr(&c, NULL);
	db->account_alias = getstr(&c, NULL);
	if (c.bad)
		return -EBADMSG;
	if (!has_alias)
		db->account_alias = NULL;
	return 0;
}

static int
check_header(struct iam_authdb *db)
{
	const unsigned char *h = db->map;
	uint64_t sum, size;
	unsigned char copy[HDR_SIZE];
	uint32_t v;

	if (db->size < HDR_SIZE || memcmp(h, IAM_AUTHDB_MAGIC, 8) != 0)
		return -EBADMSG;
	memcpy(&v, h + H_VERSION, 4);
	if (v != IAM_AUTHDB_VERSION && v != AUTHDB_VERSION_FNV)
		return -EBADMSG;
	memcpy(copy, h, HDR_SIZE);
	memcpy(&sum, copy + H_CHECKSUM, 8);
	memset(copy + H_CHECKSUM, 0, 8);
	if (sum != authdb_sum(v, copy, HDR_SIZE))
		return -EBADMSG;
	if (map32(db, H_HDRSIZE) != HDR_SIZE)
		return -EBADMSG;
	db->version = v;
	memcpy(&size, h + H_FILESIZE, 8);
	if (size != db->size)
		return -EBADMSG;
	memcpy(&db->generation, h + H_GENERATION, 8);
	db->n_users = map32(db, H_NUSERS);
	db->n_buckets = map32(db, H_NBUCKETS);
	db->buckets = map32(db, H_BUCKETS);
	db->poltab = map32(db, H_POLTAB);
	db->n_pol = map32(db, H_NPOL);
	if (db->n_buckets < 16 || (db->n_buckets & (db->n_buckets - 1)) != 0 ||
	    db->n_users >= db->n_buckets || db->buckets < HDR_SIZE ||
	    db->buckets > db->size ||
	    (db->size - db->buckets) / 8 < db->n_buckets ||
	    db->poltab > db->size || (db->size - db->poltab) / 8 < db->n_pol)
		return -EBADMSG;
	return read_globals(db, map32(db, H_GLOBALS), map32(db, H_GLOBALS_LEN));
}

struct iam_authdb *
iam_authdb_close(struct iam_authdb *db)
{
	if (db == NULL)
		return NULL;
	if (db->copy) {
		explicit_bzero((void *)db->map, db->size);
		free((void *)db->map);
		free(db);
		return NULL;
	}
	munmap((void *)db->map, db->size);
	free(db);
	return NULL;
}

int
iam_authdb_open_flags(const char *dir, int strict_flags,
		      struct iam_authdb **ret_db, char *err, size_t errlen)
{
	struct iam_authdb *db;
	char path[PATH_MAX];
	struct iam_map m;
	int dfd, r;

	if (dir == NULL)
		dir = IAM_AUTH_DIR;
	dfd = iam_open_strict(dir, strict_flags | IAM_STRICT_DIR |
			      IAM_STRICT_SECRET, err, errlen);
	if (dfd < 0)
		return dfd;
	close(dfd);
	r = iam_snprintf(path, sizeof(path), "%s/%s", dir, IAM_AUTHDB_FILE);
	if (r < 0)
		return r;
	r = iam_map_strict(path, strict_flags | IAM_STRICT_SECRET, HDR_SIZE,
			   MAX_FILE, &m, err, errlen);
	if (r < 0)
		return r;
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		iam_unmap(&m);
		return -ENOMEM;
	}
	db->map = m.p;
	db->size = m.size;
	r = check_header(db);
	if (r < 0) {
		if (err != NULL && errlen > 0)
			iam_snprintf(err, errlen, "%s: %s", path,
				     "is corrupt");
		iam_authdb_close(db);
		return r;
	}
	*ret_db = db;
	return 0;
}

int
iam_authdb_open(const char *dir, struct iam_authdb **ret_db, char *err,
		size_t errlen)
{
	return iam_authdb_open_flags(dir, 0, ret_db, err, errlen);
}

int
iam_authdb_open_buffer(const void *buf, size_t len,
		       struct iam_authdb **ret_db)
{
	struct iam_authdb *db;
	unsigned char *copy;
	int r;

	if (buf == NULL || len < HDR_SIZE || len > MAX_FILE)
		return -EBADMSG;
	db = calloc(1, sizeof(*db));
	copy = malloc(len);
	if (db == NULL || copy == NULL) {
		free(db);
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	db->map = copy;
	db->size = len;
	db->copy = true;
	r = check_header(db);
	if (r < 0) {
		iam_authdb_close(db);
		return r;
	}
	*ret_db = db;
	return 0;
}

uint64_t
iam_authdb_generation(const struct iam_authdb *db)
{
	return db->generation;
}

const char *
iam_authdb_account_id(const struct iam_authdb *db)
{
	return db->account_id;
}

const char *
iam_authdb_account_alias(const struct iam_authdb *db)
{
	return db->account_alias;
}

size_t
iam_authdb_count(const struct iam_authdb *db)
{
	return db->n_users;
}

/* What a record owns: its copy of the record, and policy texts. */
struct user_store {
	struct iam_buf rec;	/* the record's bytes; holds secrets */
	struct iam_buf extra;	/* policy names and texts, account strings */
};

struct iam_auth_user *
iam_auth_user_free(struct iam_auth_user *u)
{
	struct user_store *st;

	if (u == NULL)
		return NULL;
	st = u->priv;
	if (st != NULL) {
		iam_buf_wipe(&st->rec);
		iam_buf_wipe(&st->extra);
		free(st);
	}
	free(u->history);
	free(u->groups);
	free(u->tags);
	free(u->policies);
	free(u->mfa_devices);
	free(u->recovery_codes);
	iam_wipe(u, sizeof(*u));
	free(u);
	return NULL;
}

/*
 * Decoding works on a private copy of the record, so the record's strings
 * outlive the mapping and are wiped on release.  Policy texts and the
 * account strings go to a second buffer; pointers into it are made once
 * it stops growing.
 */
struct decode {
	const struct iam_authdb *db;
	struct iam_auth_user *u;
	struct user_store *st;
	struct cur c;
	size_t *json_at;	/* offsets in extra of each policy's name/json */
	size_t acct_at, alias_at;
};

static int
decode_lists(struct decode *d, uint32_t nhist, uint32_t ngroups,
	     uint32_t ntags)
{
	struct iam_auth_user *u = d->u;

	if (nhist > MAX_LIST || ngroups > MAX_LIST || ntags > MAX_LIST)
		return -EBADMSG;
	u->history = calloc(nhist + 1, sizeof(*u->history));
	u->groups = calloc(ngroups + 1, sizeof(*u->groups));
	u->tags = calloc(ntags + 1, sizeof(*u->tags));
	if (u->history == NULL || u->groups == NULL || u->tags == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < nhist; i++)
		u->history[i] = getstr(&d->c, NULL);
	for (uint32_t i = 0; i < ngroups; i++)
		u->groups[i] = getstr(&d->c, NULL);
	for (uint32_t i = 0; i < ntags; i++) {
		u->tags[i].key = getstr(&d->c, NULL);
		u->tags[i].value = getstr(&d->c, NULL);
	}
	u->n_history = nhist;
	u->n_groups = ngroups;
	u->n_tags = ntags;
	return d->c.bad ? -EBADMSG : 0;
}

/* Append a managed policy's name and JSON to the store. */
static int
fetch_policy(struct decode *d, uint32_t pi, size_t *ret_name,
	     size_t *ret_json, size_t *ret_len)
{
	const struct iam_authdb *db = d->db;
	const char *name, *json;
	uint32_t off, len, nlen, jlen;
	struct cur pc;
	int r;

	if (pi >= db->n_pol)
		return -EBADMSG;
	off = map32(db, (size_t)db->poltab + 8 * (size_t)pi);
	len = map32(db, (size_t)db->poltab + 8 * (size_t)pi + 4);
	r = part(db, off, len, &pc);
	if (r < 0)
		return r;
	name = getstr(&pc, &nlen);
	json = getstr(&pc, &jlen);
	if (pc.bad)
		return -EBADMSG;
	*ret_name = d->st->extra.len;
	r = iam_buf_add(&d->st->extra, name, (size_t)nlen + 1);
	*ret_json = d->st->extra.len;
	r = r ? r : iam_buf_add(&d->st->extra, json, (size_t)jlen + 1);
	*ret_len = jlen;
	return r;
}

static int
decode_policies(struct decode *d, uint32_t nrefs, uint32_t ninline)
{
	struct iam_auth_user *u = d->u;
	size_t n = (size_t)nrefs + ninline;
	int r;

	if (nrefs > MAX_LIST || ninline > MAX_LIST)
		return -EBADMSG;
	u->policies = calloc(n + 1, sizeof(*u->policies));
	d->json_at = calloc(2 * n + 1, sizeof(*d->json_at));
	if (u->policies == NULL || d->json_at == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < nrefs; i++) {
		struct iam_auth_policy *p = &u->policies[i];
		uint32_t kind = get32(&d->c), pi = get32(&d->c);
		const char *via = getstr(&d->c, NULL);

		if (d->c.bad || kind > IAM_AUTH_POLICY_BOUNDARY ||
		    kind == IAM_AUTH_POLICY_INLINE)
			return -EBADMSG;
		p->kind = kind;
		p->via = kind == IAM_AUTH_POLICY_GROUP ? via : NULL;
		r = fetch_policy(d, pi, &d->json_at[2 * i],
				 &d->json_at[2 * i + 1], &p->json_len);
		if (r < 0)
			return r;
	}
	for (uint32_t i = nrefs; i < n; i++) {
		struct iam_auth_policy *p = &u->policies[i];
		uint32_t jlen = 0;

		p->kind = IAM_AUTH_POLICY_INLINE;
		p->name = getstr(&d->c, NULL);
		p->json = getstr(&d->c, &jlen);
		p->json_len = jlen;
		if (d->c.bad)
			return -EBADMSG;
	}
	u->n_policies = n;
	return 0;
}

/* The tail written by add_devices(); none in records written before. */
static int
decode_devices(struct decode *d)
{
	struct iam_auth_user *u = d->u;
	struct cur *c = &d->c;
	uint32_t nd, nrc;
	int64_t enabled;
	size_t k = 0;

	if (c->len - c->at < 16) {
		nd = nrc = 0;
		enabled = 0;
	} else {
		nd = get32(c);
		nrc = get32(c);
		enabled = (int64_t)get64(c);
	}
	if (nd > IAM_MFA_MAX_DEVICES || nrc > IAM_RECOVERY_CODES ||
	    (u->mfa_secret != NULL && nd >= IAM_MFA_MAX_DEVICES))
		return -EBADMSG;
	u->mfa_devices = calloc(nd + 1, sizeof(*u->mfa_devices));
	u->recovery_codes = calloc(nrc + 1, sizeof(*u->recovery_codes));
	if (u->mfa_devices == NULL || u->recovery_codes == NULL)
		return -ENOMEM;
	if (u->mfa_secret != NULL)
		u->mfa_devices[k++] = (struct iam_auth_mfa){
			.name = IAM_MFA_DEFAULT, .secret = u->mfa_secret,
			.algorithm = u->mfa_algorithm, .digits = u->mfa_digits,
			.period = u->mfa_period, .enabled = enabled, .tag = 0,
		};
	for (uint32_t i = 0; i < nd; i++, k++) {
		struct iam_auth_mfa *m = &u->mfa_devices[k];

		m->name = getstr(c, NULL);
		m->secret = getstr(c, NULL);
		m->algorithm = (enum iam_totp_algo)get32(c);
		m->digits = get32(c);
		m->period = get32(c);
		m->enabled = (int64_t)get64(c);
		if (c->bad || m->algorithm > IAM_TOTP_SHA512 ||
		    m->digits < 6 || m->digits > 8 || m->period < 1 ||
		    m->secret[0] == '\0' || m->name[0] == '\0')
			return -EBADMSG;
		m->tag = iam_mfa_device_tag(m->name);
	}
	u->n_mfa_devices = k;
	for (uint32_t i = 0; i < nrc; i++)
		u->recovery_codes[i] = getstr(c, NULL);
	if (c->bad)
		return -EBADMSG;
	u->n_recovery_codes = nrc;
	u->recovery_set = iam_recovery_set_tag(u->recovery_codes, nrc);
	/*
	 * A user with named devices only: the single-device fields name
	 * the first, so every "has a device" test keeps meaning that.
	 */
	if (u->mfa_secret == NULL && k > 0) {
		u->mfa_secret = u->mfa_devices[0].secret;
		u->mfa_algorithm = u->mfa_devices[0].algorithm;
		u->mfa_digits = u->mfa_devices[0].digits;
		u->mfa_period = u->mfa_devices[0].period;
	}
	return 0;
}

static int
decode_record(struct decode *d, const char *name)
{
	struct iam_auth_user *u = d->u;
	struct cur *c = &d->c;
	uint32_t flags, nh, ng, nt, nr, ni;
	int r;
	const char *hash, *secret;

	(void)get32(c);			/* length, checked by the caller */
	u->uid = get32(c);
	u->gid = get32(c);
	flags = get32(c);
	u->created = (int64_t)get64(c);
	u->password_changed = (int64_t)get64(c);
	u->mfa_algorithm = (enum iam_totp_algo)get32(c);
	u->mfa_digits = get32(c);
	u->mfa_period = get32(c);
	nh = get32(c);
	ng = get32(c);
	nt = get32(c);
	nr = get32(c);
	ni = get32(c);
	u->name = getstr(c, NULL);
	u->primary_group = getstr(c, NULL);
	u->gecos = getstr(c, NULL);
	u->home = getstr(c, NULL);
	u->shell = getstr(c, NULL);
	hash = getstr(c, NULL);
	secret = getstr(c, NULL);
	if (c->bad)
		return -EBADMSG;
	if (strcmp(u->name, name) != 0)
		return -ENOENT;
	if (u->mfa_algorithm > IAM_TOTP_SHA512)
		return -EBADMSG;
	if ((flags & R_MFA) && (u->mfa_digits < 6 || u->mfa_digits > 8 ||
				u->mfa_period < 1 || secret[0] == '\0'))
		return -EBADMSG;
	if ((flags & R_PASSWORD) && hash[0] == '\0')
		return -EBADMSG;
	u->disabled = flags & R_DISABLED;
	u->must_change = flags & R_MUST_CHANGE;
	u->password_hash = (flags & R_PASSWORD) ? hash : NULL;
	u->mfa_secret = (flags & R_MFA) ? secret : NULL;
	r = decode_lists(d, nh, ng, nt);
	r = r < 0 ? r : decode_policies(d, nr, ni);
	return r < 0 ? r : decode_devices(d);
}

/* Pointers into the second buffer, once it no longer moves. */
static void
fixup(struct decode *d, uint32_t nrefs)
{
	struct iam_auth_user *u = d->u;
	const char *base = d->st->extra.buf;

	for (size_t i = 0; i < nrefs && i < u->n_policies; i++) {
		u->policies[i].name = base + d->json_at[2 * i];
		u->policies[i].json = base + d->json_at[2 * i + 1];
	}
	u->account_id = base + d->acct_at;
	u->account_alias = d->db->account_alias != NULL ?
		base + d->alias_at : NULL;
}

static int
add_account(struct decode *d)
{
	const struct iam_authdb *db = d->db;
	int r;

	d->acct_at = d->st->extra.len;
	r = iam_buf_add(&d->st->extra, db->account_id,
			strlen(db->account_id) + 1);
	d->alias_at = d->st->extra.len;
	if (r == 0 && db->account_alias != NULL)
		r = iam_buf_add(&d->st->extra, db->account_alias,
				strlen(db->account_alias) + 1);
	return r;
}

static int
load_record(const struct iam_authdb *db, uint32_t off, const char *name,
	    struct iam_auth_user **ret_user)
{
	struct decode d = { .db = db };
	uint32_t len, nrefs;
	uint64_t sum;
	int r;

	if (off < HDR_SIZE || off > db->size || db->size - off < R_FIXED)
		return -EBADMSG;
	len = map32(db, (size_t)off + R_LEN);
	nrefs = map32(db, (size_t)off + R_NREFS);
	if (len < R_FIXED || len > db->size - off)
		return -EBADMSG;
	memcpy(&sum, db->map + off, 8);
	if (sum != authdb_sum(db->version, db->map + off + 8, len - 8))
		return -EBADMSG;
	d.u = calloc(1, sizeof(*d.u));
	d.st = calloc(1, sizeof(*d.st));
	if (d.u == NULL || d.st == NULL) {
		free(d.u);
		free(d.st);
		return -ENOMEM;
	}
	d.u->priv = d.st;
	r = iam_buf_add(&d.st->rec, db->map + off, len);
	if (r == 0) {
		d.c.p = (const unsigned char *)d.st->rec.buf;
		d.c.len = len;
		d.c.at = 8;
		r = decode_record(&d, name);
	}
	r = r ? r : add_account(&d);
	if (r == 0)
		fixup(&d, nrefs);
	free(d.json_at);
	if (r < 0) {
		iam_auth_user_free(d.u);
		return r;
	}
	d.u->password_policy = db->pp;
	d.u->generation = db->generation;
	*ret_user = d.u;
	return 0;
}

int
iam_authdb_lookup(const struct iam_authdb *db, const char *name,
		  struct iam_auth_user **ret_user)
{
	uint32_t h, mask, slot;

	if (db == NULL || name == NULL)
		return -EINVAL;
	if (!iam_name_valid(name))
		return -ENOENT;
	h = authdb_name_hash(name);
	mask = db->n_buckets - 1;
	slot = h & mask;
	for (uint32_t n = 0; n < db->n_buckets; n++, slot = (slot + 1) & mask) {
		size_t at = (size_t)db->buckets + 8 * (size_t)slot;
		uint32_t off = map32(db, at + 4);
		int r;

		if (off == 0)
			return -ENOENT;
		if (map32(db, at) != h)
			continue;
		r = load_record(db, off, name, ret_user);
		if (r != -ENOENT)
			return r;
	}
	return -EBADMSG;
}
