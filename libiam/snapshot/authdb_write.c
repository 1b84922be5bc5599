/*
 * authdb_write.c - the builder of the private snapshot auth/auth.db
 * (layout in iam/authdb.h, offsets in authdb_format.h).  Pure: it reads
 * the merged identity and only appends to a buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "iam/authdb.h"
#include "authdb_format.h"

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

/* The n words of v, in order. */
static int
put32s(struct iam_buf *b, const uint32_t *v, size_t n)
{
	return iam_buf_add(b, v, n * sizeof(*v));
}

/* The n strings of v (NULL as ""), in order. */
static int
putstrs(struct iam_buf *b, const char *const *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = putstr(b, v[i]);
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
	const uint32_t words[] = {
		flags, pp->minimum_length, pp->max_age_days,
		pp->reuse_prevention, pp->ssh_key_max_age_days,
		pp->lockout.max_failed_attempts, pp->lockout.lockout_seconds,
		bd->id->account.alias != NULL,
	};
	const char *const strings[] = {
		bd->id->account.id, bd->id->account.alias,
	};

	r = r ? r : put64(b, 0);	/* checksum, patched below */
	r = r ? r : put32s(b, words, sizeof(words) / sizeof(words[0]));
	r = r ? r : putstrs(b, strings, sizeof(strings) / sizeof(strings[0]));
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
	const uint32_t counts[] = {
		(uint32_t)u->mfa.algorithm, u->mfa.digits, u->mfa.period,
		(uint32_t)u->password.n_history, (uint32_t)u->n_groups,
		(uint32_t)u->tags.n, 0 /* refs, patched */, (uint32_t)u->n_inline,
	};
	const char *const strings[] = {
		u->name, u->primary_group, u->gecos, u->home, u->shell,
		u->password.hash, u->mfa.secret,
	};
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
	r = r ? r : put32s(b, counts, sizeof(counts) / sizeof(counts[0]));
	r = r ? r : putstrs(b, strings, sizeof(strings) / sizeof(strings[0]));
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
		h = authdb_name_hash(u->name);
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
	/* the identity's own caps apply when it is loaded; here the format's */
	if (id->n_users > IAM_ID_LIMIT_ENTRIES)
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
