/*
 * authdb.c - the private snapshot auth/auth.db: builder and reader.
 *
 * The layout is described in iam/authdb.h.  The builder is pure (it only
 * appends to a buffer); the reader maps the file and trusts nothing in it:
 * every offset, length and count is checked against the mapping before
 * use, and each part carries its own checksum, so a lookup verifies only
 * what it reads and its cost stays flat in the number of users.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnv.h"
#include "iam.h"
#include "iam/authdb.h"

#define HDR_SIZE	128
#define MAX_FILE	0xfffffff8u	/* offsets are 32 bits */
#define MAX_LIST	100000u		/* any per-record count */
#define NO_INDEX	0xffffffffu

/* Header field offsets. */
#define H_MAGIC		0
#define H_VERSION	8
#define H_HDRSIZE	12
#define H_GENERATION	16
#define H_FILESIZE	24
#define H_CHECKSUM	32
#define H_NUSERS	40
#define H_NBUCKETS	44
#define H_BUCKETS	48
#define H_GLOBALS	52
#define H_GLOBALS_LEN	56
#define H_POLTAB	60
#define H_NPOL		64

/* Record flags. */
#define R_DISABLED	0x1
#define R_MUST_CHANGE	0x2
#define R_PASSWORD	0x4
#define R_MFA		0x8

/* Fixed part of a record, after its 8-byte checksum. */
#define R_LEN		8
#define R_UID		12
#define R_GID		16
#define R_FLAGS		20
#define R_CREATED	24
#define R_CHANGED	32
#define R_ALGO		40
#define R_DIGITS	44
#define R_PERIOD	48
#define R_NHIST		52
#define R_NGROUPS	56
#define R_NTAGS		60
#define R_NREFS		64
#define R_NINLINE	68
#define R_FIXED		72

/* Password policy flags in the globals. */
#define P_UPPER		0x01
#define P_LOWER		0x02
#define P_NUMBERS	0x04
#define P_SYMBOLS	0x08
#define P_HARD		0x10
#define P_CHANGE	0x20

static uint32_t
name_hash(const char *name)
{
	uint64_t h = iam_fnv1a(name, strlen(name));

	return (uint32_t)(h ^ (h >> 32));
}

/* ---- Builder ----------------------------------------------------------- */

static int
put32(struct iam_buf *b, uint32_t v)
{
	return iam_buf_add(b, &v, sizeof(v));
}

static int
put64(struct iam_buf *b, uint64_t v)
{
	return iam_buf_add(b, &v, sizeof(v));
}

static int
putstr(struct iam_buf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	int r;

	if (n > UINT32_MAX - 1)
		return -E2BIG;
	r = put32(b, (uint32_t)n);
	if (r == 0)
		r = iam_buf_add(b, s != NULL ? s : "", n + 1);
	return r;
}

static int
pad8(struct iam_buf *b, size_t base)
{
	static const char zero[8];
	size_t rem = (b->len - base) % 8;

	return rem != 0 ? iam_buf_add(b, zero, 8 - rem) : 0;
}

static void
set32(struct iam_buf *b, size_t at, uint32_t v)
{
	memcpy(b->buf + at, &v, sizeof(v));
}

static void
set64(struct iam_buf *b, size_t at, uint64_t v)
{
	memcpy(b->buf + at, &v, sizeof(v));
}

/* Sorted index of names, for lookups while building. */
struct name_index {
	const char **names;
	uint32_t *idx;
	size_t n;
};

/* qsort_r order of indexes into the names array arg. */
static int
cmp_idx_by_name(const void *a, const void *b, void *arg)
{
	const char *const *names = arg;

	return strcmp(names[*(const uint32_t *)a], names[*(const uint32_t *)b]);
}

static int
index_build(struct name_index *x, const char **names, size_t n)
{
	x->names = names;
	x->n = n;
	x->idx = calloc(n > 0 ? n : 1, sizeof(*x->idx));
	if (x->idx == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		x->idx[i] = (uint32_t)i;
	qsort_r(x->idx, n, sizeof(*x->idx), cmp_idx_by_name, (void *)names);
	return 0;
}

static uint32_t
index_find(const struct name_index *x, const char *name)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, x->names[x->idx[mid]]);

		if (c == 0)
			return x->idx[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_INDEX;
}

struct builder {
	const struct iam_identity *id;
	struct iam_buf *out;
	size_t base;
	struct name_index groups, policies;
	const char **gnames, **pnames;
};

static int
add_globals(struct builder *bd)
{
	const struct iam_password_policy *pp = &bd->id->password_policy;
	struct iam_buf *b = bd->out;
	size_t start = b->len;
	uint32_t flags = 0;
	int r = 0;

	flags |= pp->require_uppercase ? P_UPPER : 0;
	flags |= pp->require_lowercase ? P_LOWER : 0;
	flags |= pp->require_numbers ? P_NUMBERS : 0;
	flags |= pp->require_symbols ? P_SYMBOLS : 0;
	flags |= pp->hard_expiry ? P_HARD : 0;
	flags |= pp->allow_users_to_change ? P_CHANGE : 0;
	r = r ? r : put64(b, 0);	/* checksum, patched below */
	r = r ? r : put32(b, flags);
	r = r ? r : put32(b, pp->minimum_length);
	r = r ? r : put32(b, pp->max_age_days);
	r = r ? r : put32(b, pp->reuse_prevention);
	r = r ? r : put32(b, pp->ssh_key_max_age_days);
	r = r ? r : put32(b, pp->lockout.max_failed_attempts);
	r = r ? r : put32(b, pp->lockout.lockout_seconds);
	r = r ? r : put32(b, bd->id->account.alias != NULL);
	r = r ? r : putstr(b, bd->id->account.id);
	r = r ? r : putstr(b, bd->id->account.alias);
	r = r ? r : pad8(b, bd->base);
	if (r < 0)
		return r;
	set64(b, start, iam_fnv1a(b->buf + start + 8, b->len - start - 8));
	set32(b, bd->base + H_GLOBALS, (uint32_t)(start - bd->base));
	set32(b, bd->base + H_GLOBALS_LEN, (uint32_t)(b->len - start));
	return 0;
}

/* The managed policy table and its blobs. */
static int
add_policies(struct builder *bd)
{
	const struct iam_identity *id = bd->id;
	struct iam_buf *b = bd->out;
	size_t tab = b->len;
	int r;

	for (size_t i = 0; i < id->n_policies; i++) {
		r = put64(b, 0);
		if (r < 0)
			return r;
	}
	set32(b, bd->base + H_POLTAB, (uint32_t)(tab - bd->base));
	set32(b, bd->base + H_NPOL, (uint32_t)id->n_policies);
	for (size_t i = 0; i < id->n_policies; i++) {
		const struct iam_named_policy *p = &id->policies[i];
		struct iam_buf json = IAM_BUF_INIT;
		size_t start = b->len;

		r = p->doc != NULL ? iam_json_write(p->doc, &json) : -EINVAL;
		r = r ? r : put64(b, 0);
		r = r ? r : putstr(b, p->name);
		r = r ? r : putstr(b, json.buf);
		r = r ? r : pad8(b, bd->base);
		iam_buf_release(&json);
		if (r < 0)
			return r;
		if (b->len - bd->base > MAX_FILE)
			return -E2BIG;
		set64(b, start, iam_fnv1a(b->buf + start + 8, b->len - start - 8));
		set32(b, tab + 8 * i, (uint32_t)(start - bd->base));
		set32(b, tab + 8 * i + 4, (uint32_t)(b->len - start));
	}
	return 0;
}

static int
add_ref(struct builder *bd, uint32_t kind, const char *name, const char *via,
	uint32_t *count)
{
	uint32_t pi = index_find(&bd->policies, name);
	int r;

	if (pi == NO_INDEX)
		return -EINVAL;
	r = put32(bd->out, kind);
	r = r ? r : put32(bd->out, pi);
	r = r ? r : putstr(bd->out, via);
	if (r == 0)
		(*count)++;
	return r;
}

/* Own managed policies, then those of every group (primary first). */
static int
add_refs(struct builder *bd, const struct iam_user *u, uint32_t *count)
{
	int r;

	for (size_t i = 0; i < u->n_policies; i++) {
		r = add_ref(bd, IAM_AUTH_POLICY_MANAGED, u->policies[i], NULL,
			    count);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i <= u->n_groups; i++) {
		const char *g = i == 0 ? u->primary_group : u->groups[i - 1];
		const struct iam_group *grp;
		uint32_t gi;
		bool seen = false;

		if (g == NULL)
			continue;
		for (size_t j = 0; i > 0 && j < i - 1; j++)
			seen |= strcmp(u->groups[j], g) == 0;
		if (i > 0 && u->primary_group != NULL)
			seen |= strcmp(u->primary_group, g) == 0;
		if (seen)
			continue;
		gi = index_find(&bd->groups, g);
		if (gi == NO_INDEX)
			return -EINVAL;
		grp = &bd->id->groups[gi];
		for (size_t k = 0; k < grp->n_policies; k++) {
			r = add_ref(bd, IAM_AUTH_POLICY_GROUP,
				    grp->policies[k], g, count);
			if (r < 0)
				return r;
		}
	}
	if (u->permissions_boundary != NULL)
		return add_ref(bd, IAM_AUTH_POLICY_BOUNDARY,
			       u->permissions_boundary, NULL, count);
	return 0;
}

static int
add_inline(struct builder *bd, const struct iam_user *u)
{
	int r = 0;

	for (size_t i = 0; i < u->n_inline && r == 0; i++) {
		struct iam_buf json = IAM_BUF_INIT;

		r = u->inline_policies[i].doc != NULL ?
			iam_json_write(u->inline_policies[i].doc, &json) :
			-EINVAL;
		r = r ? r : putstr(bd->out, u->inline_policies[i].name);
		r = r ? r : putstr(bd->out, json.buf);
		iam_buf_release(&json);
	}
	return r;
}

/*
 * The tail of a record: u32 named devices, u32 recovery codes, u64
 * enable time of "default", then each device (name, secret, algorithm,
 * digits, period, enable time) and each recovery hash.  At least 16
 * bytes, so a record without it (at most 7 bytes of padding) reads as
 * no named devices and no recovery codes.
 */
static int
add_devices(struct iam_buf *b, const struct iam_user *u)
{
	int r = 0;

	if (u->n_mfa_devices > IAM_MFA_MAX_DEVICES ||
	    u->n_recovery_codes > IAM_RECOVERY_CODES)
		return -E2BIG;
	r = r ? r : put32(b, (uint32_t)u->n_mfa_devices);
	r = r ? r : put32(b, (uint32_t)u->n_recovery_codes);
	r = r ? r : put64(b, (uint64_t)u->mfa.enabled);
	for (size_t i = 0; r == 0 && i < u->n_mfa_devices; i++) {
		const struct iam_mfa *m = &u->mfa_devices[i];

		r = putstr(b, m->name);
		r = r ? r : putstr(b, m->secret);
		r = r ? r : put32(b, (uint32_t)m->algorithm);
		r = r ? r : put32(b, m->digits);
		r = r ? r : put32(b, m->period);
		r = r ? r : put64(b, (uint64_t)m->enabled);
	}
	for (size_t i = 0; r == 0 && i < u->n_recovery_codes; i++)
		r = putstr(b, u->recovery_codes[i]);
	return r;
}

static int
add_record(struct builder *bd, const struct iam_user *u, uint32_t *ret_off)
{
	struct iam_buf *b = bd->out;
	size_t start = b->len;
	uint32_t flags = 0, nrefs = 0;
	int r = 0;

	if (u->n_groups > MAX_LIST || u->tags.n > MAX_LIST ||
	    u->password.n_history > MAX_LIST || u->n_inline > MAX_LIST)
		return -E2BIG;
	flags |= u->disabled ? R_DISABLED : 0;
	flags |= u->password.must_change ? R_MUST_CHANGE : 0;
	flags |= u->password.hash != NULL ? R_PASSWORD : 0;
	flags |= u->mfa.secret != NULL ? R_MFA : 0;
	r = r ? r : put64(b, 0);		/* checksum */
	r = r ? r : put32(b, 0);		/* length */
	r = r ? r : put32(b, u->uid);
	r = r ? r : put32(b, u->gid);
	r = r ? r : put32(b, flags);
	r = r ? r : put64(b, (uint64_t)u->created);
	r = r ? r : put64(b, (uint64_t)u->password.changed);
	r = r ? r : put32(b, (uint32_t)u->mfa.algorithm);
	r = r ? r : put32(b, u->mfa.digits);
	r = r ? r : put32(b, u->mfa.period);
	r = r ? r : put32(b, (uint32_t)u->password.n_history);
	r = r ? r : put32(b, (uint32_t)u->n_groups);
	r = r ? r : put32(b, (uint32_t)u->tags.n);
	r = r ? r : put32(b, 0);		/* refs, patched */
	r = r ? r : put32(b, (uint32_t)u->n_inline);
	r = r ? r : putstr(b, u->name);
	r = r ? r : putstr(b, u->primary_group);
	r = r ? r : putstr(b, u->gecos);
	r = r ? r : putstr(b, u->home);
	r = r ? r : putstr(b, u->shell);
	r = r ? r : putstr(b, u->password.hash);
	r = r ? r : putstr(b, u->mfa.secret);
	for (size_t i = 0; r == 0 && i < u->password.n_history; i++)
		r = putstr(b, u->password.history[i]);
	for (size_t i = 0; r == 0 && i < u->n_groups; i++)
		r = putstr(b, u->groups[i]);
	for (size_t i = 0; r == 0 && i < u->tags.n; i++) {
		r = putstr(b, u->tags.v[i].key);
		r = r ? r : putstr(b, u->tags.v[i].value);
	}
	r = r ? r : add_refs(bd, u, &nrefs);
	r = r ? r : add_inline(bd, u);
	r = r ? r : add_devices(b, u);
	r = r ? r : pad8(b, bd->base);
	if (r < 0)
		return r;
	if (b->len - bd->base > MAX_FILE || nrefs > MAX_LIST)
		return -E2BIG;
	set32(b, start + R_LEN, (uint32_t)(b->len - start));
	set32(b, start + R_NREFS, nrefs);
	set64(b, start, iam_fnv1a(b->buf + start + 8, b->len - start - 8));
	*ret_off = (uint32_t)(start - bd->base);
	return 0;
}

static int
add_records(struct builder *bd, size_t buckets, uint32_t nbuckets)
{
	const struct iam_identity *id = bd->id;

	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];
		uint32_t h, off, slot;
		int r;

		if (u->name == NULL)
			return -EINVAL;
		r = add_record(bd, u, &off);
		if (r < 0)
			return r;
		h = name_hash(u->name);
		for (slot = h & (nbuckets - 1);; slot = (slot + 1) & (nbuckets - 1)) {
			uint32_t cur;

			memcpy(&cur, bd->out->buf + buckets + 8 * slot + 4,
			       sizeof(cur));
			if (cur == 0)
				break;
		}
		set32(bd->out, buckets + 8 * slot, h);
		set32(bd->out, buckets + 8 * slot + 4, off);
	}
	return 0;
}

static int
builder_index(struct builder *bd)
{
	const struct iam_identity *id = bd->id;
	int r;

	bd->gnames = calloc(id->n_groups + 1, sizeof(*bd->gnames));
	bd->pnames = calloc(id->n_policies + 1, sizeof(*bd->pnames));
	if (bd->gnames == NULL || bd->pnames == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < id->n_groups; i++)
		bd->gnames[i] = id->groups[i].name != NULL ? id->groups[i].name : "";
	for (size_t i = 0; i < id->n_policies; i++)
		bd->pnames[i] = id->policies[i].name != NULL ?
			id->policies[i].name : "";
	r = index_build(&bd->groups, bd->gnames, id->n_groups);
	return r ? r : index_build(&bd->policies, bd->pnames, id->n_policies);
}

int
iam_authdb_build(const struct iam_identity *id, uint64_t generation,
		 struct iam_buf *out)
{
	struct builder bd = { .id = id, .out = out };
	uint32_t nbuckets = 16;
	size_t buckets;
	int r;

	if (id == NULL || out == NULL)
		return -EINVAL;
	if (id->n_users > IAM_ID_MAX_USERS)
		return -E2BIG;
	while (nbuckets < 2 * id->n_users)
		nbuckets *= 2;
	/* Keep the header at an 8-byte boundary of the output. */
	r = pad8(out, 0);
	if (r < 0)
		return r;
	bd.base = out->len;
	r = iam_buf_grow(out, HDR_SIZE + (size_t)nbuckets * 8);
	if (r < 0)
		return r;
	memset(out->buf + out->len, 0, HDR_SIZE + (size_t)nbuckets * 8);
	out->len += HDR_SIZE;
	buckets = out->len;
	out->len += (size_t)nbuckets * 8;
	out->buf[out->len] = '\0';
	memcpy(out->buf + bd.base + H_MAGIC, IAM_AUTHDB_MAGIC, 8);
	set32(out, bd.base + H_VERSION, IAM_AUTHDB_VERSION);
	set32(out, bd.base + H_HDRSIZE, HDR_SIZE);
	set64(out, bd.base + H_GENERATION, generation);
	set32(out, bd.base + H_NUSERS, (uint32_t)id->n_users);
	set32(out, bd.base + H_NBUCKETS, nbuckets);
	set32(out, bd.base + H_BUCKETS, (uint32_t)(buckets - bd.base));

	r = builder_index(&bd);
	r = r ? r : add_globals(&bd);
	r = r ? r : add_policies(&bd);
	r = r ? r : add_records(&bd, buckets, nbuckets);
	free(bd.groups.idx);
	free(bd.policies.idx);
	free(bd.gnames);
	free(bd.pnames);
	if (r < 0)
		return r;
	if (out->len - bd.base > MAX_FILE)
		return -E2BIG;
	set64(out, bd.base + H_FILESIZE, out->len - bd.base);
	set64(out, bd.base + H_CHECKSUM,
	      iam_fnv1a(out->buf + bd.base, HDR_SIZE));
	return 0;
}

/* ---- Reader ------------------------------------------------------------ */

struct iam_authdb {
	const unsigned char *map;
	size_t size;
	bool copy;		/* map is a malloc'd copy, not a mapping */
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

static uint32_t
get32(struct cur *c)
{
	uint32_t v = 0;

	if (c->bad || c->len - c->at < 4) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p + c->at, 4);
	c->at += 4;
	return v;
}

static uint64_t
get64(struct cur *c)
{
	uint64_t v = 0;

	if (c->bad || c->len - c->at < 8) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p + c->at, 8);
	c->at += 8;
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
	if (sum != iam_fnv1a(db->map + off + 8, len - 8))
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
	memcpy(copy, h, HDR_SIZE);
	memcpy(&sum, copy + H_CHECKSUM, 8);
	memset(copy + H_CHECKSUM, 0, 8);
	if (sum != iam_fnv1a(copy, HDR_SIZE))
		return -EBADMSG;
	memcpy(&v, h + H_VERSION, 4);
	if (v != IAM_AUTHDB_VERSION || map32(db, H_HDRSIZE) != HDR_SIZE)
		return -EBADMSG;
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
	if (sum != iam_fnv1a(db->map + off + 8, len - 8))
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
	h = name_hash(name);
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
