/*
 * nssdb_write.c - builder of the public snapshot nss.db (format in
 * nssdb.h): users, groups and memberships of a validated identity, no
 * secret of any kind.  The file is written in order, each record with
 * its sum as it goes, into one block or through a small window into a
 * file: beside the identity only a hash table at a time is held.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iam/snapshot.h"
#include "nssdb.h"
#include "util_int.h"

struct builder {
	const struct iam_identity *id;
	uint32_t *gslots;	/* group index + 1 by name hash, 0 empty */
	uint32_t gmask;		/* slots - 1 */
	uint32_t *ugidx;	/* groups' indices, a run per user */
	uint32_t *ugids_at;	/* n_users + 1 run starts */
	uint32_t *members;	/* user indices, a run per group */
	uint32_t *members_at;	/* n_groups + 1 run starts */
	size_t n_gids, n_members;
	uint16_t (*ulen)[4];	/* each user's name, gecos, home, shell length */
	uint32_t *glen;		/* each group's name length */
	size_t strings_size, members_size;
	size_t user_strings;	/* bytes of the users' strings */
	char *run;		/* one user's strings (user_run()) */
	uint32_t gids[IAM_ID_MAX_PER_USER];	/* gid_run()'s */
	struct iam_buf names;	/* one group's member names (member_run()) */
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Whether a byte of w is below 0x20, ':' or 0x7f (exact, word-wide). */
static inline uint64_t
word_bad(uint64_t w)
{
	uint64_t colon = w ^ (ONES * ':'), del = w ^ (ONES * 0x7f);

	return ((w - ONES * 0x20) & ~w & HIGHS) |
	       ((colon - ONES) & ~colon & HIGHS) |
	       ((del - ONES) & ~del & HIGHS);
}

/*
 * Fields end up in colon-separated passwd(5) and group(5) lines and on
 * terminals: refuse a colon or a control character, whatever the
 * validation before us let through.  The length, or -1 when refused;
 * checked 8 bytes at a time.
 */
static long
field_len(const char *s, int is_name)
{
	size_t n, i;
	uint64_t w;

	if (s == NULL)
		return -1;
	n = strlen(s);
	if ((is_name && n == 0) || n > IAM_NSSDB_MAX_STRING)
		return -1;
	if (n < 8) {
		/* every byte in a lane, the lanes left over a harmless 'a' */
		uint32_t a, b;

		if (n >= 4) {
			memcpy(&a, s, 4);
			memcpy(&b, s + n - 4, 4);
			w = a | (uint64_t)b << 32;
		} else {
			w = ONES * 'a';
			for (i = 0; i < n; i++)
				w = w << 8 | (unsigned char)s[i];
		}
		return word_bad(w) ? -1 : (long)n;
	}
	/* whole words, then the last 8 bytes (overlapping: checked twice) */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (word_bad(w))
			return -1;
	}
	memcpy(&w, s + n - 8, 8);
	return word_bad(w) ? -1 : (long)n;
}

/* Index every group by its name's hash: O(1) per name resolved. */
static int
group_slots(struct builder *b)
{
	const struct iam_identity *id = b->id;
	uint32_t slots = 8, h;

	while (slots < 2 * id->n_groups)
		slots *= 2;
	b->gslots = calloc(slots, sizeof(uint32_t));
	if (b->gslots == NULL)
		return -ENOMEM;
	b->gmask = slots - 1;
	for (size_t i = 0; i < id->n_groups; i++) {
		const char *name = id->groups[i].name;

		if (name == NULL)
			return -EINVAL;
		h = iam_nssdb_hash_name(name, strlen(name)) & b->gmask;
		while (b->gslots[h] != 0)
			h = (h + 1) & b->gmask;
		b->gslots[h] = (uint32_t)i + 1;
	}
	return 0;
}

/* The index of the group named name, through memo m (NULL: none). */
static int
find_group(const struct builder *b, struct iam_name_memo *m, const char *name,
	   uint32_t *ret_idx)
{
	uint32_t h, g;

	if (name == NULL)
		return -ENOENT;
	if (iam_name_memo_get(m, name, ret_idx))
		return 0;
	h = iam_nssdb_hash_name(name, strlen(name)) & b->gmask;
	for (; b->gslots[h] != 0; h = (h + 1) & b->gmask) {
		g = b->gslots[h] - 1;
		if (strcmp(b->id->groups[g].name, name) == 0) {
			iam_name_memo_put(m, name, g);
			*ret_idx = g;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Resolve every user's group names to group indices: the user's gids in
 * the order written (duplicates dropped), and each group's members in
 * user order.
 */
static int
memberships(struct builder *b)
{
	const struct iam_identity *id = b->id;
	struct iam_name_memo *memo = NULL;
	uint32_t *gidx, *fill = NULL, g;
	size_t i, j, k, total = 0;
	int r = -ENOMEM;

	for (i = 0; i < id->n_users; i++) {
		if (id->users[i].n_groups > IAM_ID_MAX_PER_USER)
			return -E2BIG;
		total += id->users[i].n_groups;
	}
	if (total > UINT32_MAX / 4)
		return -E2BIG;
	gidx = b->ugidx = calloc(total + 1, sizeof(uint32_t));
	b->ugids_at = calloc(id->n_users + 1, sizeof(uint32_t));
	b->members_at = calloc(id->n_groups + 1, sizeof(uint32_t));
	fill = calloc(id->n_groups + 1, sizeof(uint32_t));
	memo = calloc(1, sizeof(*memo));	/* none: only slower */
	if (!gidx || !b->ugids_at || !b->members_at || !fill)
		goto out;
	for (i = 0; i < id->n_users; i++) {
		b->ugids_at[i] = (uint32_t)b->n_gids;
		for (j = 0; j < id->users[i].n_groups; j++) {
			if (find_group(b, memo, id->users[i].groups[j],
				       &g) < 0) {
				r = -EINVAL;	/* validation let a name through */
				goto out;
			}
			for (k = b->ugids_at[i]; k < b->n_gids; k++)
				if (gidx[k] == g)
					break;
			if (k < b->n_gids)
				continue;
			gidx[b->n_gids++] = g;
			b->members_at[g + 1]++;
		}
	}
	b->ugids_at[id->n_users] = (uint32_t)b->n_gids;
	for (i = 0; i < id->n_groups; i++)
		b->members_at[i + 1] += b->members_at[i];
	b->n_members = b->n_gids;
	b->members = calloc(b->n_members + 1, sizeof(uint32_t));
	if (b->members == NULL)
		goto out;
	for (i = 0; i < id->n_users; i++)
		for (k = b->ugids_at[i]; k < b->ugids_at[i + 1]; k++) {
			g = gidx[k];
			b->members[b->members_at[g] + fill[g]++] = (uint32_t)i;
		}
	r = 0;
out:
	free(memo);
	free(fill);
	return r;
}

static uint32_t
slots_for(size_t n)
{
	uint32_t s = 8;

	if (n == 0)
		return 0;
	while (s < 2 * n)
		s *= 2;
	return s;
}

/*
 * Put idx into table t at hash h.  Two entries with the same key would
 * make one of them unreachable: refuse them (-EINVAL), whatever the
 * validation before us let through.
 */
/* The hash of entry idx's key in index which: a slot's tag. */
static uint32_t
key_hash(const struct builder *b, int which, uint32_t idx)
{
	const struct iam_identity *id = b->id;

	switch (which) {
	case 0: return iam_nssdb_hash_name(id->users[idx].name,
					  b->ulen[idx][0]);
	case 1: return iam_nssdb_hash_id(id->users[idx].uid);
	case 2: return iam_nssdb_hash_name(id->groups[idx].name, b->glen[idx]);
	default: return iam_nssdb_hash_id(id->groups[idx].gid);
	}
}

static int
ht_put(const struct builder *b, int which, uint32_t *t, uint32_t slots,
       uint32_t idx)
{
	const struct iam_identity *id = b->id;
	uint32_t mask = slots - 1, h = key_hash(b, which, idx), o;

	for (; t[h & mask] != 0; h++) {
		o = t[h & mask] - 1;
		if ((which == 0 && !strcmp(id->users[o].name, id->users[idx].name)) ||
		    (which == 1 && id->users[o].uid == id->users[idx].uid) ||
		    (which == 2 && !strcmp(id->groups[o].name, id->groups[idx].name)) ||
		    (which == 3 && id->groups[o].gid == id->groups[idx].gid))
			return -EINVAL;
	}
	t[h & mask] = idx + 1;
	return 0;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Lay the sections out after the header; returns the file size. */
static size_t
layout(struct iam_nssdb_header *h, const size_t sizes[IAM_NSSDB_NSECT])
{
	size_t off = sizeof(*h);
	int i;

	for (i = 0; i < IAM_NSSDB_NSECT; i++) {
		h->sect[i].off = (uint32_t)off;
		h->sect[i].size = (uint32_t)sizes[i];
		off = align8(off + sizes[i]);
	}
	return off;
}

/*
 * Check every field and size the strings and members sections: each
 * user's four strings, then each group's name, from a multiple of 8.
 */
static int
measure(struct builder *b)
{
	const struct iam_identity *id = b->id;
	size_t strings = 0, members = 0;
	long l[4];

	b->ulen = calloc(id->n_users + 1, sizeof(*b->ulen));
	b->glen = calloc(id->n_groups + 1, sizeof(*b->glen));
	if (b->ulen == NULL || b->glen == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		if ((l[0] = field_len(u->name, 1)) < 0 ||
		    (l[1] = field_len(u->gecos, 0)) < 0 ||
		    (l[2] = field_len(u->home, 0)) < 0 ||
		    (l[3] = field_len(u->shell, 0)) < 0)
			return -EINVAL;
		for (int k = 0; k < 4; k++)
			b->ulen[i][k] = (uint16_t)l[k];
		strings += align8((size_t)(l[0] + l[1] + l[2] + l[3]) + 4);
		members += (size_t)(l[0] + 1) *
			(b->ugids_at[i + 1] - b->ugids_at[i]);
	}
	b->user_strings = strings;
	for (size_t i = 0; i < id->n_groups; i++) {
		if ((l[0] = field_len(id->groups[i].name, 1)) < 0)
			return -EINVAL;
		b->glen[i] = (uint32_t)l[0];
		strings += align8((size_t)l[0] + 1);
	}
	/* the section must end with a NUL even when there is no string */
	b->strings_size = strings > 0 ? strings : 1;
	b->members_size = members;
	return 0;
}

/* Bytes a file's window collects before they are written out. */
#define WINDOW		(64u << 10)

/*
 * Where the bytes go, in file order: into one block of the whole file's
 * size (mem), or into a file (fd) through a window.
 */
struct sink {
	unsigned char *mem;	/* memory: the file; file: the window */
	size_t pos;		/* bytes put so far */
	size_t fill;		/* file: bytes in the window */
	int fd;			/* -1 in memory */
	int err;		/* the first failure to write, or 0 */
};

/* The window out to the file; after a failure its bytes are dropped. */
static void
sink_flush(struct sink *k)
{
	int r;

	if (k->fd < 0)
		return;
	if (k->fill > 0 && k->err == 0) {
		r = iam_write_all(k->fd, k->mem, k->fill);
		if (r < 0)
			k->err = r;
	}
	k->fill = 0;
}

/* n bytes of p, or zeros when p is NULL. */
static void
put(struct sink *k, const void *p, size_t n)
{
	const unsigned char *s = p;

	if (k->fd < 0) {
		if (p != NULL)
			memcpy(k->mem + k->pos, p, n);
		else
			memset(k->mem + k->pos, 0, n);
		k->pos += n;
		return;
	}
	k->pos += n;
	while (n > 0) {
		size_t c = WINDOW - k->fill < n ? WINDOW - k->fill : n;

		if (s != NULL) {
			memcpy(k->mem + k->fill, s, c);
			s += c;
		} else {
			memset(k->mem + k->fill, 0, c);
		}
		k->fill += c;
		n -= c;
		if (k->fill == WINDOW)
			sink_flush(k);
	}
}

/* Zeros up to file offset off, where the next section starts. */
static void
pad_to(struct sink *k, size_t off)
{
	put(k, NULL, off - k->pos);
}

/*
 * User i's four strings one after the other into b->run, each with its
 * NUL, then zeros to a multiple of 8: the bytes its record's strs points
 * at.  Their count, padding included.
 */
static size_t
user_run(const struct builder *b, size_t i)
{
	const struct iam_user *u = &b->id->users[i];
	const uint16_t *l = b->ulen[i];
	size_t n = align8((size_t)l[0] + l[1] + l[2] + l[3] + 4);
	char *p = b->run;

	memset(p + n - 8, 0, 8);
	memcpy(p, u->name, (size_t)l[0] + 1);
	p += l[0] + 1;
	memcpy(p, u->gecos, (size_t)l[1] + 1);
	p += l[1] + 1;
	memcpy(p, u->home, (size_t)l[2] + 1);
	p += l[2] + 1;
	memcpy(p, u->shell, (size_t)l[3] + 1);
	return n;
}

/* Group i's member names, each with its NUL, into b->names. */
static int
member_run(struct builder *b, size_t i)
{
	size_t n = 0, k;
	char *p;

	for (k = b->members_at[i]; k < b->members_at[i + 1]; k++)
		n += (size_t)b->ulen[b->members[k]][0] + 1;
	b->names.len = 0;	/* its bytes are overwritten, never read past len */
	if (iam_buf_grow(&b->names, n) < 0)
		return -ENOMEM;
	p = b->names.buf;
	for (k = b->members_at[i]; k < b->members_at[i + 1]; k++) {
		uint32_t m = b->members[k];
		size_t l = (size_t)b->ulen[m][0] + 1;

		memcpy(p, b->id->users[m].name, l);
		p += l;
	}
	b->names.len = n;
	return 0;
}

/* The gids of ugidx[at..at+n) (n at most IAM_ID_MAX_PER_USER) into b->gids. */
static const uint32_t *
gid_run(struct builder *b, size_t at, size_t n)
{
	for (size_t j = 0; j < n; j++)
		b->gids[j] = b->id->groups[b->ugidx[at + j]].gid;
	return b->gids;
}

/* User records with their sums; the strings go at string offset 0 on. */
static void
user_records(struct builder *b, struct sink *k)
{
	size_t off = 0;

	for (size_t i = 0; i < b->id->n_users; i++) {
		const struct iam_user *u = &b->id->users[i];
		const uint16_t *l = b->ulen[i];
		size_t n = user_run(b, i);
		struct iam_nssdb_urec x = {
			.strs = (uint32_t)off,
			.uid = u->uid,
			.gid = u->gid,
			.gids = b->ugids_at[i],
			.n_gids = b->ugids_at[i + 1] - b->ugids_at[i],
			.name_len = l[0],
			.gecos_len = l[1],
			.home_len = l[2],
			.shell_len = l[3],
		};

		x.gids_sum = iam_nssdb_gids_sum(gid_run(b, x.gids, x.n_gids),
						x.n_gids, (uint32_t)i);
		x.sum = iam_nssdb_user_sum(&x, (uint32_t)i, b->run,
					   (size_t)l[0] + l[1] + l[2] + l[3] + 3);
		put(k, &x, sizeof(x));
		off += n;
	}
}

/* Group records with their sums, their names after the users' strings. */
static int
group_records(struct builder *b, struct sink *k)
{
	size_t off = b->user_strings, at = 0;
	char name[IAM_NSSDB_MAX_STRING + 16];

	for (size_t i = 0; i < b->id->n_groups; i++) {
		size_t n = align8((size_t)b->glen[i] + 1);
		struct iam_nssdb_grec x;

		if (member_run(b, i) < 0)
			return -ENOMEM;
		x = (struct iam_nssdb_grec){
			.name = (uint32_t)off,
			.gid = b->id->groups[i].gid,
			.members = (uint32_t)at,
			.n_members = b->members_at[i + 1] - b->members_at[i],
			.members_size = (uint32_t)b->names.len,
			.name_len = b->glen[i],
		};
		memset(name + n - 8, 0, 8);
		memcpy(name, b->id->groups[i].name, (size_t)b->glen[i] + 1);
		x.sum = iam_nssdb_group_sum(&x, (uint32_t)i, name,
					    b->names.buf);
		put(k, &x, sizeof(x));
		off += n;
		at += b->names.len;
	}
	return 0;
}

/*
 * Hash index w (user name, uid, group name, gid) into a table of its
 * own, out to k with each slot's tag and check.  One table is held at a
 * time, and only its entries' indices (a third of the slots' size): the
 * tags are hashed again as the slots go out.
 */
static int
index_table(const struct builder *b, int w, uint32_t slots, struct sink *k)
{
	size_t n = w < 2 ? b->id->n_users : b->id->n_groups;
	struct iam_nssdb_slot out[256];
	uint32_t *t, empty = iam_nssdb_slot_check(0, 0);
	int r = 0;

	if (slots == 0)
		return 0;
	t = calloc(slots, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && r == 0; i++)
		r = ht_put(b, w, t, slots, i);
	for (uint32_t i = 0; i < slots && r == 0; i++) {
		struct iam_nssdb_slot *o = &out[i % 256];

		o->idx = t[i];
		o->tag = t[i] != 0 ? key_hash(b, w, t[i] - 1) : 0;
		o->check = t[i] != 0 ? iam_nssdb_slot_check(o->idx, o->tag) :
				       empty;
		if (i % 256 == 255 || i + 1 == slots)
			put(k, out, (size_t)(i % 256 + 1) * sizeof(*out));
	}
	free(t);
	return r;
}

/* Every user's strings, then every group's name. */
static void
strings(struct builder *b, struct sink *k)
{
	char name[IAM_NSSDB_MAX_STRING + 16];

	for (size_t i = 0; i < b->id->n_users; i++)
		put(k, b->run, user_run(b, i));
	for (size_t i = 0; i < b->id->n_groups; i++) {
		size_t n = align8((size_t)b->glen[i] + 1);

		memset(name + n - 8, 0, 8);
		memcpy(name, b->id->groups[i].name, (size_t)b->glen[i] + 1);
		put(k, name, n);
	}
	if (b->strings_size == 1)
		put(k, NULL, 1);	/* the one NUL of a section without strings */
}

/* Each group's member names, in group order. */
static int
members(struct builder *b, struct sink *k)
{
	for (size_t i = 0; i < b->id->n_groups; i++) {
		if (member_run(b, i) < 0)
			return -ENOMEM;
		put(k, b->names.buf, b->names.len);
	}
	return 0;
}

/* The header and its layout; the file's size in *ret_total. */
static int
header(const struct builder *b, uint64_t generation,
       struct iam_nssdb_header *h, uint32_t slots[4], size_t *ret_total)
{
	const struct iam_identity *id = b->id;
	size_t sizes[IAM_NSSDB_NSECT], total, i;

	slots[0] = slots[1] = slots_for(id->n_users);
	slots[2] = slots[3] = slots_for(id->n_groups);
	sizes[IAM_NSSDB_USERS] = id->n_users * sizeof(struct iam_nssdb_urec);
	sizes[IAM_NSSDB_GROUPS] = id->n_groups * sizeof(struct iam_nssdb_grec);
	for (i = 0; i < 4; i++)
		sizes[IAM_NSSDB_USER_NAME_HT + i] =
			(size_t)slots[i] * sizeof(struct iam_nssdb_slot);
	sizes[IAM_NSSDB_GIDS] = b->n_gids * 4;
	sizes[IAM_NSSDB_MEMBERS] = b->members_size;
	sizes[IAM_NSSDB_STRINGS] = b->strings_size;
	for (i = 0; i < IAM_NSSDB_NSECT; i++)
		if (sizes[i] > IAM_NSSDB_MAX_SIZE)
			return -E2BIG;

	memset(h, 0, sizeof(*h));
	total = layout(h, sizes);
	if (total > IAM_NSSDB_MAX_SIZE)
		return -E2BIG;
	memcpy(h->magic, IAM_NSSDB_MAGIC, 8);
	h->version = IAM_NSSDB_VERSION;
	h->header_size = sizeof(*h);
	h->file_size = total;
	h->generation = generation;
	h->n_users = (uint32_t)id->n_users;
	h->n_groups = (uint32_t)id->n_groups;
	h->n_gids = (uint32_t)b->n_gids;
	h->n_members = (uint32_t)b->n_members;
	h->checksum = iam_nssdb_checksum((const unsigned char *)h +
					 IAM_NSSDB_SUMMED_FROM,
					 sizeof(*h) - IAM_NSSDB_SUMMED_FROM);
	*ret_total = total;
	return 0;
}

/*
 * The file in order, section after section, each record with its sum
 * and each gap zeros: every byte is written once.
 */
static int
emit(struct builder *b, const struct iam_nssdb_header *h,
     const uint32_t slots[4], size_t total, struct sink *k)
{
	int r;

	put(k, h, sizeof(*h));
	pad_to(k, h->sect[IAM_NSSDB_USERS].off);
	user_records(b, k);
	pad_to(k, h->sect[IAM_NSSDB_GROUPS].off);
	if ((r = group_records(b, k)) < 0)
		return r;
	for (int w = 0; w < 4; w++) {
		pad_to(k, h->sect[IAM_NSSDB_USER_NAME_HT + w].off);
		if ((r = index_table(b, w, slots[w], k)) < 0)
			return r;
	}
	pad_to(k, h->sect[IAM_NSSDB_GIDS].off);
	for (size_t at = 0, n; at < b->n_gids; at += n) {
		n = b->n_gids - at < IAM_ID_MAX_PER_USER ? b->n_gids - at :
							   IAM_ID_MAX_PER_USER;
		put(k, gid_run(b, at, n), n * 4);
	}
	pad_to(k, h->sect[IAM_NSSDB_MEMBERS].off);
	if ((r = members(b, k)) < 0)
		return r;
	pad_to(k, h->sect[IAM_NSSDB_STRINGS].off);
	strings(b, k);
	pad_to(k, total);
	sink_flush(k);
	return k->err;
}

/* Everything emit() needs of the identity, checked and measured. */
static int
prepare(struct builder *b, const struct iam_identity *id)
{
	int r;

	/* release() is safe from here on, whatever is returned */
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->names = (struct iam_buf)IAM_BUF_INIT;
	/* the identity's own caps apply when it is loaded; here the format's */
	if (id->n_users > IAM_NSSDB_MAX_ENTRIES ||
	    id->n_groups > IAM_NSSDB_MAX_ENTRIES)
		return -E2BIG;
	b->run = malloc(4 * (IAM_NSSDB_MAX_STRING + 1) + 16);
	if (b->run == NULL)
		return -ENOMEM;
	if ((r = group_slots(b)) < 0 || (r = memberships(b)) < 0 ||
	    (r = measure(b)) < 0)
		return r;
	return 0;
}

static void
release(struct builder *b)
{
	free(b->gslots);
	free(b->ugidx);
	free(b->ugids_at);
	free(b->members);
	free(b->members_at);
	free(b->ulen);
	free(b->glen);
	free(b->run);
	iam_buf_release(&b->names);
}

/*
 * The whole file into k: into memory (k->fd < 0; k->mem becomes the
 * file and the NUL an iam_buf keeps after it) or through a window into
 * k->fd.  k->mem is the caller's to free, whatever is returned.
 */
static int
write_out(const struct iam_identity *id, uint64_t generation, struct sink *k)
{
	struct builder b;
	struct iam_nssdb_header h;
	uint32_t slots[4];
	size_t total = 0;
	int r;

	if ((r = prepare(&b, id)) < 0 ||
	    (r = header(&b, generation, &h, slots, &total)) < 0)
		goto out;
	k->mem = malloc(k->fd < 0 ? total + 1 : WINDOW);
	if (k->mem == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = emit(&b, &h, slots, total, k);
	if (r == 0 && k->fd < 0)
		k->mem[total] = '\0';
out:
	release(&b);
	return r;
}

int
iam_nssdb_build(const struct iam_identity *id, uint64_t generation,
		struct iam_buf *out)
{
	struct sink k = { .fd = -1 };
	int r = write_out(id, generation, &k);

	if (r == 0 && out->buf == NULL) {
		/* the common case: the block becomes the buffer, no copy */
		out->buf = (char *)k.mem;
		out->len = k.pos;
		out->alloc = k.pos + 1;
		k.mem = NULL;
	} else if (r == 0 && iam_buf_add(out, k.mem, k.pos) < 0) {
		r = -ENOMEM;
	}
	free(k.mem);
	return r;
}

int
iam_nssdb_write(const struct iam_identity *id, uint64_t generation, int fd,
		bool *ret_io)
{
	struct sink k = { .fd = fd };
	int r = write_out(id, generation, &k);

	/* a refusal after a failed write is still the identity's */
	*ret_io = r < 0 && r == k.err;
	free(k.mem);
	return r;
}
