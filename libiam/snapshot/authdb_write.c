/*
 * authdb_write.c - the builder of the private snapshot auth/auth.db
 * (layout in iam/authdb.h, offsets in authdb_format.h).  Pure: it reads
 * the merged identity and writes either into a buffer or, through a
 * small window, into a file.  Each part is sized first and then written
 * in place, field after field, with one check for room.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iam.h"
#include "iam/authdb.h"
#include "authdb_format.h"
#include "util_int.h"

/* Bytes a window of a file collects before they are written out. */
#define WINDOW		(64u << 10)

/*
 * Where the bytes go.  File offset f (from the header's first byte) is
 * w->buf[skip + f - at] while it is in the window.  In memory w is the
 * caller's buffer and nothing leaves it; into a file (fd >= 0) the window
 * is written out whole (at `at`, where the file stands) and emptied
 * between records.  The header
 * and the buckets are kept aside and placed last.
 */
struct out {
	struct iam_buf *w;
	int fd;
	size_t skip;
	size_t at;
	bool io;	/* a write to fd failed */
};

static size_t
out_pos(const struct out *o)
{
	return o->at + o->w->len - o->skip;
}

static unsigned char *
out_at(const struct out *o, size_t f)
{
	return (unsigned char *)o->w->buf + o->skip + (f - o->at);
}

/*
 * Room for n more bytes at the end of the window; iam_buf_grow() wipes
 * the old storage when it moves (it holds password hashes).
 */
static int
out_room(struct out *o, size_t n)
{
	return iam_buf_grow(o->w, n);
}

/* n bytes at the end of the window, to be filled by the caller. */
static unsigned char *
out_take(struct out *o, size_t n)
{
	unsigned char *p = (unsigned char *)o->w->buf + o->w->len;

	o->w->len += n;
	o->w->buf[o->w->len] = '\0';
	return p;
}

/* Into a file: write the window out once it holds enough. */
static int
out_flush(struct out *o, size_t least)
{
	int r;

	if (o->fd < 0 || o->w->len < least)
		return 0;
	r = iam_write_all(o->fd, o->w->buf, o->w->len);
	o->io = r < 0;
	if (r < 0)
		return r;
	o->at += o->w->len;
	o->w->len = 0;
	return 0;
}

/* ---- Writing fields in place -------------------------------------------- */

static inline void
w32(unsigned char **p, uint32_t v)
{
	memcpy(*p, &v, 4);
	*p += 4;
}

static inline void
w64(unsigned char **p, uint64_t v)
{
	memcpy(*p, &v, 8);
	*p += 8;
}

/* u32 length, the bytes, a NUL (NULL as ""). */
static inline void
wstr(unsigned char **p, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	w32(p, (uint32_t)n);
	memcpy(*p, s != NULL ? s : "", n + 1);
	*p += n + 1;
}

/* wstr() of a string of n bytes. */
static inline void
wstrn(unsigned char **p, const char *s, size_t n)
{
	w32(p, (uint32_t)n);
	memcpy(*p, s != NULL ? s : "", n + 1);
	*p += n + 1;
}

/* Bytes wstr() writes; the caller's size check bounds them. */
static inline size_t
strsize(const char *s)
{
	return 5 + (s != NULL ? strlen(s) : 0);
}

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Zeros from p up to end (the padding of a part). */
static void
wpad(unsigned char *p, unsigned char *end)
{
	if (end > p)
		memset(p, 0, (size_t)(end - p));
}

/* The checksum of the part of len bytes at p, into its first 8 bytes. */
static void
seal_part(unsigned char *p, size_t len)
{
	uint64_t sum = iam_sum64(p + 8, len - 8);

	memcpy(p, &sum, 8);
}

/* ---- Names to indexes ----------------------------------------------------- */

/* Open addressing by name hash: slot holds index + 1, 0 is empty. */
struct name_ht {
	const char *const *names;
	uint32_t *slot;
	uint32_t mask;
	struct iam_name_memo *memo;	/* names found; NULL: none */
};

/*
 * A name's slot hash, for the builder's own tables (the buckets of the
 * file keep authdb_name_hash()): every byte, 8 a step.
 */
static uint32_t
name_key(const char *s)
{
	size_t n = strlen(s), i;
	uint64_t h = (uint64_t)n * IAM_SUM64_P2, w = 0;

	if (n < 8) {
		unsigned char t[8] = { 0 };

		for (i = 0; i < n; i++)
			t[i] = (unsigned char)s[i];
		memcpy(&w, t, 8);
		h = iam_rotl64(h ^ w, 29) * IAM_SUM64_P1;
	} else {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			h = iam_rotl64(h ^ w, 29) * IAM_SUM64_P1;
		}
		memcpy(&w, s + n - 8, 8);
		h = iam_rotl64(h ^ w, 31) * IAM_SUM64_P2;
	}
	return (uint32_t)iam_mix64(h);	/* every bit into the masked ones */
}

static int
ht_build(struct name_ht *x, const char *const *names, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	x->names = names;
	x->mask = (uint32_t)(slots - 1);
	x->slot = calloc(slots, sizeof(*x->slot));
	if (x->slot == NULL)
		return -ENOMEM;
	x->memo = calloc(1, sizeof(*x->memo));	/* none: only slower */
	/* the first of equal names wins, as a sorted search's would not */
	for (size_t i = 0; i < n; i++) {
		uint32_t h = name_key(names[i]) & x->mask;

		while (x->slot[h] != 0) {
			if (strcmp(names[x->slot[h] - 1], names[i]) == 0)
				break;
			h = (h + 1) & x->mask;
		}
		if (x->slot[h] == 0)
			x->slot[h] = (uint32_t)i + 1;
	}
	return 0;
}

static uint32_t
ht_find(const struct name_ht *x, const char *name)
{
	uint32_t h, i;

	if (name == NULL)
		return NO_INDEX;
	if (iam_name_memo_get(x->memo, name, &i))
		return i;
	for (h = name_key(name) & x->mask; x->slot[h] != 0;
	     h = (h + 1) & x->mask) {
		i = x->slot[h] - 1;
		if (strcmp(name, x->names[i]) == 0) {
			iam_name_memo_put(x->memo, name, i);
			return i;
		}
	}
	return NO_INDEX;
}

/* ---- The builder ------------------------------------------------------------ */

/* A policy a record references, resolved before the record is sized. */
struct ref {
	uint32_t kind;
	uint32_t policy;
	const char *via;
};

struct builder {
	const struct iam_identity *id;
	struct out o;
	struct name_ht groups, policies;
	const char **gnames, **pnames;
	struct ref *refs;
	size_t n_refs, cap_refs;
	uint32_t *seen;		/* a record's groups so far, by index */
	size_t cap_seen;
	struct iam_buf json;	/* a record's inline documents, NUL after each */
	uint32_t *lens;		/* a record's string lengths, in written order */
	size_t n_lens, cap_lens, at_lens;
	uint32_t *buckets;	/* n_buckets x (hash, offset) */
	uint32_t nbuckets;
	unsigned char hdr[HDR_SIZE];
};

static void
set32(unsigned char *p, size_t at, uint32_t v)
{
	memcpy(p + at, &v, sizeof(v));
}

static void
set64(unsigned char *p, size_t at, uint64_t v)
{
	memcpy(p + at, &v, sizeof(v));
}

static int
add_globals(struct builder *bd)
{
	const struct iam_password_policy *pp = &bd->id->password_policy;
	const char *acct = bd->id->account.id, *alias = bd->id->account.alias;
	size_t start = out_pos(&bd->o), len;
	unsigned char *p, *q;
	uint32_t flags = 0;
	int r;

	flags |= pp->require_uppercase ? P_UPPER : 0;
	flags |= pp->require_lowercase ? P_LOWER : 0;
	flags |= pp->require_numbers ? P_NUMBERS : 0;
	flags |= pp->require_symbols ? P_SYMBOLS : 0;
	flags |= pp->hard_expiry ? P_HARD : 0;
	flags |= pp->allow_users_to_change ? P_CHANGE : 0;
	len = pad8(8 + 8 * 4 + strsize(acct) + strsize(alias));
	if (len > MAX_FILE)
		return -E2BIG;
	if ((r = out_room(&bd->o, len)) < 0)
		return r;
	p = q = out_take(&bd->o, len);
	p += 8;
	w32(&p, flags);
	w32(&p, pp->minimum_length);
	w32(&p, pp->max_age_days);
	w32(&p, pp->reuse_prevention);
	w32(&p, pp->ssh_key_max_age_days);
	w32(&p, pp->lockout.max_failed_attempts);
	w32(&p, pp->lockout.lockout_seconds);
	w32(&p, alias != NULL);
	wstr(&p, acct);
	wstr(&p, alias);
	wpad(p, q + len);
	seal_part(q, len);
	set32(bd->hdr, H_GLOBALS, (uint32_t)start);
	set32(bd->hdr, H_GLOBALS_LEN, (uint32_t)len);
	return 0;
}

/* The managed policy table and its blobs. */
static int
add_policies(struct builder *bd)
{
	const struct iam_identity *id = bd->id;
	size_t tab = out_pos(&bd->o), n = id->n_policies;
	unsigned char *p, *q;
	int r;

	if (n > MAX_FILE / 8)
		return -E2BIG;
	if ((r = out_room(&bd->o, 8 * n)) < 0)
		return r;
	memset(out_take(&bd->o, 8 * n), 0, 8 * n);
	set32(bd->hdr, H_POLTAB, (uint32_t)tab);
	set32(bd->hdr, H_NPOL, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct iam_named_policy *pol = &id->policies[i];
		size_t start = out_pos(&bd->o), len;

		bd->json.len = 0;
		if (pol->doc == NULL)
			return -EINVAL;
		if ((r = iam_json_write(pol->doc, &bd->json)) < 0)
			return r;
		len = pad8(8 + strsize(pol->name) + 5 + bd->json.len);
		if (len > MAX_FILE - start)
			return -E2BIG;
		if ((r = out_room(&bd->o, len)) < 0)
			return r;
		p = q = out_take(&bd->o, len);
		p += 8;
		wstr(&p, pol->name);
		wstr(&p, bd->json.buf);
		wpad(p, q + len);
		seal_part(q, len);
		set32(out_at(&bd->o, tab + 8 * i), 0, (uint32_t)start);
		set32(out_at(&bd->o, tab + 8 * i), 4, (uint32_t)len);
	}
	return 0;
}

static int
push_ref(struct builder *bd, uint32_t kind, const char *name, const char *via)
{
	uint32_t pi = ht_find(&bd->policies, name);

	if (pi == NO_INDEX)
		return -EINVAL;
	if (bd->n_refs == bd->cap_refs) {
		size_t cap = bd->cap_refs ? 2 * bd->cap_refs : 16;
		struct ref *v = reallocarray(bd->refs, cap, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		bd->refs = v;
		bd->cap_refs = cap;
	}
	bd->refs[bd->n_refs++] = (struct ref){ kind, pi, via };
	return 0;
}

/*
 * Own managed policies, then those of every group (primary first), each
 * group once: equal names are the same group, so the groups are told
 * apart by their index.
 */
static int
resolve_refs(struct builder *bd, const struct iam_user *u)
{
	size_t n_seen = 0;
	int r;

	bd->n_refs = 0;
	if (u->n_groups + 1 > bd->cap_seen) {
		uint32_t *v = reallocarray(bd->seen, u->n_groups + 1,
					   sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		bd->seen = v;
		bd->cap_seen = u->n_groups + 1;
	}
	for (size_t i = 0; i < u->n_policies; i++) {
		r = push_ref(bd, IAM_AUTH_POLICY_MANAGED, u->policies[i], NULL);
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
		gi = ht_find(&bd->groups, g);
		if (gi == NO_INDEX)
			return -EINVAL;
		for (size_t j = 0; j < n_seen && !seen; j++)
			seen = bd->seen[j] == gi;
		if (seen)
			continue;
		bd->seen[n_seen++] = gi;
		grp = &bd->id->groups[gi];
		for (size_t k = 0; k < grp->n_policies; k++) {
			r = push_ref(bd, IAM_AUTH_POLICY_GROUP, grp->policies[k],
				     g);
			if (r < 0)
				return r;
		}
	}
	if (u->permissions_boundary != NULL)
		return push_ref(bd, IAM_AUTH_POLICY_BOUNDARY,
				u->permissions_boundary, NULL);
	return 0;
}

/* The inline documents as text, one after the other in bd->json. */
static int
inline_texts(struct builder *bd, const struct iam_user *u)
{
	int r = 0;

	bd->json.len = 0;
	for (size_t i = 0; i < u->n_inline && r == 0; i++) {
		r = u->inline_policies[i].doc != NULL ?
			iam_json_write(u->inline_policies[i].doc, &bd->json) :
			-EINVAL;
		r = r ? r : iam_buf_add(&bd->json, "", 1);
	}
	return r;
}

/* strsize() of s, its length kept for write_record(). */
static inline size_t
slen(struct builder *bd, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	bd->lens[bd->n_lens++] = (uint32_t)n;
	return 5 + n;
}

/*
 * Bytes of a record (before padding): the fixed part, the strings, the
 * lists, the references and inline documents resolved in bd, then the
 * tail of devices and recovery codes.  The lengths of the strings are
 * kept in bd->lens in the order write_record() writes them.
 */
static int
record_size(struct builder *bd, const struct iam_user *u, size_t *ret)
{
	size_t n = R_FIXED, want;

	want = 7 + u->password.n_history + u->n_groups + 2 * u->tags.n +
	       bd->n_refs + u->n_inline + 2 * u->n_mfa_devices +
	       u->n_recovery_codes;
	if (want > bd->cap_lens) {
		uint32_t *v = reallocarray(bd->lens, want, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		bd->lens = v;
		bd->cap_lens = want;
	}
	bd->n_lens = bd->at_lens = 0;
	n += slen(bd, u->name) + slen(bd, u->primary_group) +
	     slen(bd, u->gecos) + slen(bd, u->home) + slen(bd, u->shell) +
	     slen(bd, u->password.hash) + slen(bd, u->mfa.secret);
	for (size_t i = 0; i < u->password.n_history; i++)
		n += slen(bd, u->password.history[i]);
	for (size_t i = 0; i < u->n_groups; i++)
		n += slen(bd, u->groups[i]);
	for (size_t i = 0; i < u->tags.n; i++) {
		n += slen(bd, u->tags.v[i].key);
		n += slen(bd, u->tags.v[i].value);
	}
	for (size_t i = 0; i < bd->n_refs; i++)
		n += 8 + slen(bd, bd->refs[i].via);
	for (size_t i = 0; i < u->n_inline; i++)
		n += slen(bd, u->inline_policies[i].name) + 4;
	n += bd->json.len;	/* each text with its NUL */
	n += 16;
	for (size_t i = 0; i < u->n_mfa_devices; i++) {
		n += slen(bd, u->mfa_devices[i].name);
		n += slen(bd, u->mfa_devices[i].secret) + 12 + 8;
	}
	for (size_t i = 0; i < u->n_recovery_codes; i++)
		n += slen(bd, u->recovery_codes[i]);
	*ret = n;
	return 0;
}

/* The next string, with the length record_size() kept. */
static inline void
wnext(struct builder *bd, unsigned char **p, const char *s)
{
	wstrn(p, s, bd->lens[bd->at_lens++]);
}

/*
 * The tail of a record: u32 named devices, u32 recovery codes, u64
 * enable time of "default", then each device (name, secret, algorithm,
 * digits, period, enable time) and each recovery hash.  At least 16
 * bytes, so a record without it (at most 7 bytes of padding) reads as
 * no named devices and no recovery codes.
 */
static void
write_devices(struct builder *bd, unsigned char **p, const struct iam_user *u)
{
	w32(p, (uint32_t)u->n_mfa_devices);
	w32(p, (uint32_t)u->n_recovery_codes);
	w64(p, (uint64_t)u->mfa.enabled);
	for (size_t i = 0; i < u->n_mfa_devices; i++) {
		const struct iam_mfa *m = &u->mfa_devices[i];

		wnext(bd, p, m->name);
		wnext(bd, p, m->secret);
		w32(p, (uint32_t)m->algorithm);
		w32(p, m->digits);
		w32(p, m->period);
		w64(p, (uint64_t)m->enabled);
	}
	for (size_t i = 0; i < u->n_recovery_codes; i++)
		wnext(bd, p, u->recovery_codes[i]);
}

static void
write_record(struct builder *bd, const struct iam_user *u,
	     unsigned char *q, size_t len)
{
	unsigned char *p = q + 8;
	const char *json = bd->json.buf;
	uint32_t flags = 0;

	flags |= u->disabled ? R_DISABLED : 0;
	flags |= u->password.must_change ? R_MUST_CHANGE : 0;
	flags |= u->password.hash != NULL ? R_PASSWORD : 0;
	flags |= u->mfa.secret != NULL ? R_MFA : 0;
	w32(&p, (uint32_t)len);
	w32(&p, u->uid);
	w32(&p, u->gid);
	w32(&p, flags);
	w64(&p, (uint64_t)u->created);
	w64(&p, (uint64_t)u->password.changed);
	w32(&p, (uint32_t)u->mfa.algorithm);
	w32(&p, u->mfa.digits);
	w32(&p, u->mfa.period);
	w32(&p, (uint32_t)u->password.n_history);
	w32(&p, (uint32_t)u->n_groups);
	w32(&p, (uint32_t)u->tags.n);
	w32(&p, (uint32_t)bd->n_refs);
	w32(&p, (uint32_t)u->n_inline);
	wnext(bd, &p, u->name);
	wnext(bd, &p, u->primary_group);
	wnext(bd, &p, u->gecos);
	wnext(bd, &p, u->home);
	wnext(bd, &p, u->shell);
	wnext(bd, &p, u->password.hash);
	wnext(bd, &p, u->mfa.secret);
	for (size_t i = 0; i < u->password.n_history; i++)
		wnext(bd, &p, u->password.history[i]);
	for (size_t i = 0; i < u->n_groups; i++)
		wnext(bd, &p, u->groups[i]);
	for (size_t i = 0; i < u->tags.n; i++) {
		wnext(bd, &p, u->tags.v[i].key);
		wnext(bd, &p, u->tags.v[i].value);
	}
	for (size_t i = 0; i < bd->n_refs; i++) {
		w32(&p, bd->refs[i].kind);
		w32(&p, bd->refs[i].policy);
		wnext(bd, &p, bd->refs[i].via);
	}
	for (size_t i = 0; i < u->n_inline; i++) {
		wnext(bd, &p, u->inline_policies[i].name);
		wstr(&p, json);
		json += strlen(json) + 1;
	}
	write_devices(bd, &p, u);
	wpad(p, q + len);
	seal_part(q, len);
}

static int
add_record(struct builder *bd, const struct iam_user *u, uint32_t *ret_off)
{
	size_t start = out_pos(&bd->o), len;
	int r;

	if (u->n_groups > MAX_LIST || u->tags.n > MAX_LIST ||
	    u->password.n_history > MAX_LIST || u->n_inline > MAX_LIST ||
	    u->n_mfa_devices > IAM_MFA_MAX_DEVICES ||
	    u->n_recovery_codes > IAM_RECOVERY_CODES)
		return -E2BIG;
	if ((r = resolve_refs(bd, u)) < 0 || (r = inline_texts(bd, u)) < 0)
		return r;
	if (bd->n_refs > MAX_LIST)
		return -E2BIG;
	if ((r = record_size(bd, u, &len)) < 0)
		return r;
	len = pad8(len);
	if (len > MAX_FILE - start)
		return -E2BIG;
	if ((r = out_room(&bd->o, len)) < 0)
		return r;
	write_record(bd, u, out_take(&bd->o, len), len);
	*ret_off = (uint32_t)start;
	return out_flush(&bd->o, WINDOW);
}

static int
add_records(struct builder *bd)
{
	const struct iam_identity *id = bd->id;
	uint32_t mask = bd->nbuckets - 1;

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
		for (slot = h & mask; bd->buckets[2 * slot + 1] != 0;
		     slot = (slot + 1) & mask)
			;
		bd->buckets[2 * slot] = h;
		bd->buckets[2 * slot + 1] = off;
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
	r = ht_build(&bd->groups, bd->gnames, id->n_groups);
	return r ? r : ht_build(&bd->policies, bd->pnames, id->n_policies);
}

/*
 * The parts after the header and the buckets, into bd->o (positioned
 * after them), then the header completed in bd->hdr.
 */
static int
build(struct builder *bd, uint64_t generation)
{
	const struct iam_identity *id = bd->id;
	size_t head, size;
	int r;

	/* the identity's own caps apply when it is loaded; here the format's */
	if (id->n_users > IAM_ID_LIMIT_ENTRIES)
		return -E2BIG;
	bd->nbuckets = 16;
	while (bd->nbuckets < 2 * id->n_users)
		bd->nbuckets *= 2;
	head = HDR_SIZE + (size_t)bd->nbuckets * 8;
	bd->buckets = calloc(bd->nbuckets, 8);
	if (bd->buckets == NULL)
		return -ENOMEM;
	memcpy(bd->hdr + H_MAGIC, IAM_AUTHDB_MAGIC, 8);
	set32(bd->hdr, H_VERSION, IAM_AUTHDB_VERSION);
	set32(bd->hdr, H_HDRSIZE, HDR_SIZE);
	set64(bd->hdr, H_GENERATION, generation);
	set32(bd->hdr, H_NUSERS, (uint32_t)id->n_users);
	set32(bd->hdr, H_NBUCKETS, bd->nbuckets);
	set32(bd->hdr, H_BUCKETS, HDR_SIZE);
	/* the window starts after the header and the buckets */
	bd->o.at = bd->o.fd >= 0 ? head : 0;
	if (bd->o.fd >= 0 && lseek(bd->o.fd, (off_t)head, SEEK_SET) < 0) {
		bd->o.io = true;
		return -errno;
	}
	if (bd->o.fd < 0) {
		r = out_room(&bd->o, head);
		if (r < 0)
			return r;
		out_take(&bd->o, head);
	}
	r = builder_index(bd);
	r = r ? r : add_globals(bd);
	r = r ? r : add_policies(bd);
	r = r ? r : add_records(bd);
	if (r < 0)
		return r;
	size = out_pos(&bd->o);
	if (size > MAX_FILE)
		return -E2BIG;
	set64(bd->hdr, H_FILESIZE, size);
	set64(bd->hdr, H_CHECKSUM, iam_sum64(bd->hdr, HDR_SIZE));
	return 0;
}

static void
builder_release(struct builder *bd)
{
	free(bd->groups.slot);
	free(bd->groups.memo);
	free(bd->policies.slot);
	free(bd->policies.memo);
	free(bd->gnames);
	free(bd->pnames);
	free(bd->refs);
	free(bd->seen);
	free(bd->lens);
	free(bd->buckets);
	iam_buf_release(&bd->json);
}

int
iam_authdb_build(const struct iam_identity *id, uint64_t generation,
		 struct iam_buf *out)
{
	struct builder bd = { .id = id, .o = { .w = out, .fd = -1 },
			      .json = IAM_BUF_INIT };
	static const char zero[8];
	int r;

	if (id == NULL || out == NULL)
		return -EINVAL;
	/* Keep the header at an 8-byte boundary of the output. */
	if (out->len % 8 != 0 &&
	    (r = iam_buf_add(out, zero, 8 - out->len % 8)) < 0)
		return r;
	bd.o.skip = out->len;
	r = build(&bd, generation);
	if (r == 0) {
		memcpy(out_at(&bd.o, 0), bd.hdr, HDR_SIZE);
		memcpy(out_at(&bd.o, HDR_SIZE), bd.buckets,
		       (size_t)bd.nbuckets * 8);
	}
	builder_release(&bd);
	return r;
}

int
iam_authdb_write(const struct iam_identity *id, uint64_t generation, int fd,
		 bool *ret_io)
{
	struct iam_buf window = IAM_BUF_INIT;
	struct builder bd = { .id = id, .o = { .w = &window, .fd = fd },
			      .json = IAM_BUF_INIT };
	int r;

	if (id == NULL || fd < 0)
		return -EINVAL;
	/*
	 * The parts go after the header and the buckets, which are written
	 * last, at the start: write(2) in order, the calls a publication
	 * makes everywhere else.
	 */
	r = out_room(&bd.o, WINDOW);
	r = r ? r : build(&bd, generation);
	if (r == 0 && (r = out_flush(&bd.o, 0)) == 0) {
		r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
		r = r ? r : iam_write_all(fd, bd.hdr, HDR_SIZE);
		r = r ? r : iam_write_all(fd, bd.buckets,
					  (size_t)bd.nbuckets * 8);
		bd.o.io = r < 0;
	}
	*ret_io = bd.o.io;
	builder_release(&bd);
	iam_buf_wipe(&window);
	return r;
}
