/*
 * nssdb.c - reader of the public snapshot nss.db (format in nssdb.h).
 *
 * libc only: this file is compiled into libiam, and included by
 * nss_iam.c into libnss_iam.so.2, which is loaded into every process that
 * resolves a name (there the point lookups inline into the entry points).  It never
 * calls NSS, never logs, never allocates, and trusts no byte of the file.
 *
 * Over 600 lines: the whole reader is this one libc-only file, because
 * libnss_iam.so.2 compiles it in and links nothing else of libiam.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nssdb.h"

#define P1 0x9e3779b97f4a7c15ULL
#define P2 0xc2b2ae3d27d4eb4fULL

enum { HT_USER_NAME, HT_USER_UID, HT_GROUP_NAME, HT_GROUP_GID };

/* Point lookups: inlined into nss_iam's entry points, a call elsewhere. */
#ifdef IAM_NSS_MODULE
#define IAM_NSSDB_LOOKUP __attribute__((always_inline)) inline
#else
#define IAM_NSSDB_LOOKUP
#endif

uint64_t
iam_nssdb_checksum(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h[4] = { P1, P2, P1 ^ P2, ~P1 };
	uint64_t w, r;
	size_t i;

	for (; n >= 32; s += 32, n -= 32) {
		for (i = 0; i < 4; i++) {
			memcpy(&w, s + 8 * i, 8);
			h[i] = (h[i] ^ w) * P1;
		}
	}
	for (i = 0; n > 0; i++) {
		w = 0;
		memcpy(&w, s, n < 8 ? n : 8);
		h[i] = (h[i] ^ w) * P1;
		s += n < 8 ? n : 8;
		n -= n < 8 ? n : 8;
	}
	r = h[0];
	for (i = 1; i < 4; i++)
		r = (r * P2) ^ h[i];
	r ^= r >> 31;
	r *= P1;
	r ^= r >> 29;
	return r;
}

static inline uint64_t
load64(const void *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t
load32(const void *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/*
 * 8 bytes at a time; the last 1 to 7 in one step too, read as two
 * overlapping 4-byte words or three single bytes.  The length is mixed
 * in first, so the overlap is never ambiguous.
 */
static inline uint32_t
hash_name(const char *s, size_t len)
{
	uint64_t h = P1 ^ ((uint64_t)len * P2), w;

	for (; len > 8; s += 8, len -= 8)
		h = ((h ^ load64(s)) * P2) ^ (h >> 32);
	if (len >= 4)
		w = load32(s) | load32(s + len - 4) << 32;
	else if (len > 0)
		w = (uint64_t)(unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[len / 2] << 8 |
		    (uint64_t)(unsigned char)s[len - 1] << 16;
	else
		w = 0;
	h = (h ^ w) * P1;
	h ^= h >> 29;
	h *= P2;
	return (uint32_t)(h >> 32);
}

uint32_t
iam_nssdb_hash_name(const char *s, size_t len)
{
	return hash_name(s, len);
}

static inline uint32_t
mix32(uint32_t id)
{
	id ^= id >> 16;
	id *= 0x7feb352du;
	id ^= id >> 15;
	id *= 0x846ca68bu;
	id ^= id >> 16;
	return id;
}

uint32_t
iam_nssdb_hash_id(uint32_t id)
{
	return mix32(id);
}

/*
 * A slot's check: a bijection of idx for any tag and of tag for any idx,
 * so one field changed always shows; not linear in any bit, so two
 * fields changed together do not cancel out; and never 0 for the empty
 * slot (0, 0), so a zeroed page of a table is damage, not "no entry".
 */
static inline uint32_t
slot_check(uint32_t idx, uint32_t tag)
{
	return mix32(idx ^ mix32(tag ^ 0x9e3779b9u));
}

/* Does sect describe count records of size bytes inside the file? */
static int
sect_ok(const struct iam_nssdb_header *h, enum iam_nssdb_section i,
	uint64_t count, uint64_t size, size_t file_size)
{
	const struct iam_nssdb_sect *s = &h->sect[i];

	if (s->off % 8 != 0 || s->off < sizeof(*h))
		return 0;
	if ((uint64_t)s->off + s->size > file_size)
		return 0;
	return count * size == s->size;
}

static int
ht_ok(const struct iam_nssdb_header *h, enum iam_nssdb_section i,
      uint32_t entries, size_t file_size)
{
	uint32_t slots = h->sect[i].size / sizeof(struct iam_nssdb_slot);

	if (!sect_ok(h, i, slots, sizeof(struct iam_nssdb_slot), file_size))
		return 0;
	if (slots == 0)
		return entries == 0;
	/* a power of two with at least one empty slot */
	return (slots & (slots - 1)) == 0 && slots > entries;
}

/*
 * The sections follow each other in order from the end of the header,
 * each 8-aligned, the bytes between them zero, the last one ending the
 * file: no byte of the file lies outside what some check covers.
 */
static int
layout_ok(const unsigned char *base, const struct iam_nssdb_header *h,
	  size_t size)
{
	uint64_t at = sizeof(*h), end;
	int i;

	for (i = 0; i < IAM_NSSDB_NSECT; i++) {
		if (h->sect[i].off < at || h->sect[i].off - at >= 8 ||
		    h->sect[i].off > size)
			return 0;
		for (; at < h->sect[i].off; at++)
			if (base[at] != 0)
				return 0;
		end = (uint64_t)h->sect[i].off + h->sect[i].size;
		if (end > size)
			return 0;
		at = end;
	}
	if (size < at || size - at >= 8)
		return 0;
	for (; at < size; at++)
		if (base[at] != 0)
			return 0;
	return 1;
}

static uint64_t
header_sum(const unsigned char *base)
{
	return iam_nssdb_checksum(base + IAM_NSSDB_SUMMED_FROM,
				  sizeof(struct iam_nssdb_header) -
				  IAM_NSSDB_SUMMED_FROM);
}

/* The header alone, checked; the records are checked when read. */
static int
header_ok(const unsigned char *base, size_t size,
	  const struct iam_nssdb_header *h)
{
	if (memcmp(h->magic, IAM_NSSDB_MAGIC, 8) != 0 ||
	    h->version != IAM_NSSDB_VERSION || h->header_size != sizeof(*h) ||
	    h->file_size != size || h->reserved[0] != 0 || h->reserved[1] != 0)
		return 0;
	if (header_sum(base) != h->checksum)
		return 0;
	if (!layout_ok(base, h, size) ||
	    !sect_ok(h, IAM_NSSDB_USERS, h->n_users,
		     sizeof(struct iam_nssdb_urec), size) ||
	    !sect_ok(h, IAM_NSSDB_GROUPS, h->n_groups,
		     sizeof(struct iam_nssdb_grec), size) ||
	    !sect_ok(h, IAM_NSSDB_GIDS, h->n_gids, 4, size) ||
	    !sect_ok(h, IAM_NSSDB_MEMBERS, h->sect[IAM_NSSDB_MEMBERS].size, 1,
		     size) ||
	    !sect_ok(h, IAM_NSSDB_STRINGS, h->sect[IAM_NSSDB_STRINGS].size, 1,
		     size) ||
	    !ht_ok(h, IAM_NSSDB_USER_NAME_HT, h->n_users, size) ||
	    !ht_ok(h, IAM_NSSDB_USER_UID_HT, h->n_users, size) ||
	    !ht_ok(h, IAM_NSSDB_GROUP_NAME_HT, h->n_groups, size) ||
	    !ht_ok(h, IAM_NSSDB_GROUP_GID_HT, h->n_groups, size))
		return 0;
	/* every string is NUL-terminated inside its section */
	if (h->sect[IAM_NSSDB_STRINGS].size == 0 ||
	    base[h->sect[IAM_NSSDB_STRINGS].off +
		 h->sect[IAM_NSSDB_STRINGS].size - 1] != '\0')
		return 0;
	if (h->sect[IAM_NSSDB_MEMBERS].size > 0 &&
	    base[h->sect[IAM_NSSDB_MEMBERS].off +
		 h->sect[IAM_NSSDB_MEMBERS].size - 1] != '\0')
		return 0;
	return 1;
}

static void
fill(struct iam_nssdb *db, const unsigned char *base, size_t size,
     const struct iam_nssdb_header *h)
{
	size_t i;

	memset(db, 0, sizeof(*db));
	db->base = base;
	db->size = size;
	db->generation = h->generation;
	db->n_users = h->n_users;
	db->n_groups = h->n_groups;
	db->n_gids = h->n_gids;
	db->n_members = h->n_members;
	db->users = (const void *)(base + h->sect[IAM_NSSDB_USERS].off);
	db->groups = (const void *)(base + h->sect[IAM_NSSDB_GROUPS].off);
	for (i = 0; i < 4; i++) {
		db->ht[i] = (const void *)(base +
					   h->sect[IAM_NSSDB_USER_NAME_HT + i].off);
		db->ht_slots[i] = h->sect[IAM_NSSDB_USER_NAME_HT + i].size /
				  sizeof(struct iam_nssdb_slot);
	}
	db->gids = (const void *)(base + h->sect[IAM_NSSDB_GIDS].off);
	db->members = (const char *)base + h->sect[IAM_NSSDB_MEMBERS].off;
	db->members_size = h->sect[IAM_NSSDB_MEMBERS].size;
	db->strings = (const char *)base + h->sect[IAM_NSSDB_STRINGS].off;
	db->strings_size = h->sect[IAM_NSSDB_STRINGS].size;
}

int
iam_nssdb_open_mem(const void *p, size_t size, struct iam_nssdb *ret_db)
{
	const unsigned char *base = p;
	struct iam_nssdb_header h;

	if (p == NULL || (uintptr_t)p % 8 != 0 || size < sizeof(h) ||
	    size > IAM_NSSDB_MAX_SIZE)
		return -EBADMSG;
	memcpy(&h, base, sizeof(h));
	if (!header_ok(base, size, &h))
		return -EBADMSG;
	fill(ret_db, base, size, &h);
	return 0;
}

/* A file and its folder must be root's and not writable by others. */
static int
secure(const struct stat *st, mode_t type)
{
	return (st->st_mode & S_IFMT) == type && st->st_uid == 0 &&
	       (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * The folder of path; when it is the link current (root's, in a folder
 * of root's that no one else may write, or the link could be changed),
 * the generation folder it names.  Checked once per generation opened.
 */
static int
folder_secure(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	struct stat st;

	if (slash == NULL)
		return 0;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return 0;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (lstat(dir, &st) != 0)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		char *up;

		if (st.st_uid != 0 || stat(dir, &st) != 0 ||
		    !secure(&st, S_IFDIR))
			return 0;
		up = strrchr(dir, '/');
		if (up == NULL || up == dir)
			return 0;
		*up = '\0';
		if (lstat(dir, &st) != 0)
			return 0;
	}
	return secure(&st, S_IFDIR);
}

int
iam_nssdb_open(const char *path, struct iam_nssdb *ret_db,
	       struct stat *st_out)
{
	struct iam_nssdb db;
	struct stat st;
	void *p;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out_close;
	}
	if (!secure(&st, S_IFREG) || !folder_secure(path)) {
		r = -EPERM;
		goto out_close;
	}
	if (st.st_size < (off_t)sizeof(struct iam_nssdb_header) ||
	    (uint64_t)st.st_size > IAM_NSSDB_MAX_SIZE) {
		r = -EBADMSG;
		goto out_close;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto out_close;
	}
	r = iam_nssdb_open_mem(p, (size_t)st.st_size, &db);
	if (r < 0) {
		munmap(p, (size_t)st.st_size);
		goto out_close;
	}
	db.mapped = true;
	*ret_db = db;
	if (st_out != NULL)
		*st_out = st;
out_close:
	close(fd);
	return r;
}

void
iam_nssdb_close(struct iam_nssdb *db)
{
	if (db == NULL)
		return;
	if (db->mapped && db->base != NULL)
		munmap((void *)db->base, db->size);
	memset(db, 0, sizeof(*db));
}

/*
 * Record sums: one step per 8 bytes -- xor the word in, multiply by an
 * odd constant, fold the high half down -- each a bijection of the
 * running value, so a change confined to one word always changes the
 * sum.  The fold matters: a product's top bit depends on the factor's
 * top bit alone, so without it the same bit flipped in two words would
 * cancel out.  mix_words() takes whole words (strings padded to 8 bytes);
 * mix_bytes() takes any run, its last 1 to 7 bytes one more word, their
 * count in its top byte.
 */
static inline uint64_t
sum_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * P1;
	return h ^ h >> 32;
}

static inline uint64_t
mix_words(uint64_t h, const unsigned char *s, size_t words)
{
	for (; words >= 2; s += 16, words -= 2)
		h = sum_step(sum_step(h, load64(s)), load64(s + 8));
	if (words > 0)
		h = sum_step(h, load64(s));
	return h;
}

static inline uint64_t
mix_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t w;

	h = mix_words(h, s, n / 8);
	s += n & ~(size_t)7;
	n &= 7;
	if (n > 0) {
		w = (uint64_t)n << 56;
		if (n & 4)
			w |= load32(s + (n & 3)) << ((n & 3) * 8);
		if (n & 2)
			w |= (uint64_t)(s[n & 1] | s[(n & 1) + 1] << 8)
			     << ((n & 1) * 8);
		if (n & 1)
			w |= s[0];
		h = sum_step(h, w);
	}
	return h;
}

static inline uint64_t
finish(uint64_t h)
{
	h ^= h >> 31;
	h *= P2;
	h ^= h >> 29;
	return h;
}

/* The sum of a user's gids: each step a bijection, folded, as above. */
static inline uint32_t
gids_sum(const uint32_t *g, uint32_t n, uint32_t i)
{
	uint32_t h = 0x9e3779b9u ^ i;

	for (; n > 0; g++, n--) {
		h = (h ^ *g) * 0x85ebca77u;
		h ^= h >> 16;
	}
	return h ^ (h >> 16);
}

/*
 * The sum of user record u at index i: its first four words (gids_sum
 * included) and the run of its four strings at s, run bytes with their
 * NULs, then zeros to a multiple of 8.
 */
static inline uint64_t
user_sum(const struct iam_nssdb_urec *u, uint32_t i, const unsigned char *s,
	 size_t run)
{
	return finish(mix_words(mix_words(P2 ^ i, (const void *)u, 4), s,
				(run + 8) / 8));
}

/* The sum of group record g at index i, its name (nl bytes, a NUL, zeros
   to a multiple of 8) and its member names. */
static inline uint64_t
group_sum(const struct iam_nssdb_grec *g, uint32_t i, const char *name,
	  size_t nl, const char *members, size_t members_size)
{
	uint64_t h = mix_words(P1 ^ i, (const void *)g, 3);

	h = mix_words(h, (const unsigned char *)name, (nl + 8) / 8);
	return finish(mix_bytes(h, members, members_size));
}

uint64_t
iam_nssdb_user_sum(const struct iam_nssdb_urec *u, uint32_t i,
		   const void *run, size_t run_len)
{
	return user_sum(u, i, run, run_len);
}

uint64_t
iam_nssdb_group_sum(const struct iam_nssdb_grec *g, uint32_t i,
		    const char *name, const char *members)
{
	return group_sum(g, i, name, g->name_len, members, g->members_size);
}

uint32_t
iam_nssdb_gids_sum(const uint32_t *gids, uint32_t n, uint32_t i)
{
	return gids_sum(gids, n, i);
}

/* Does s hold a NUL in its first n bytes?  8 bytes at a time. */
static inline int
has_nul(const char *s, size_t n)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		w = load64(s);
		if ((w - lo) & ~w & hi)
			return 1;
	}
	for (; n > 0; s++, n--)
		if (*s == '\0')
			return 1;
	return 0;
}

/* Offset off holds len bytes and a NUL, zeros to a multiple of 8 after. */
static inline int
padded_ok(const struct iam_nssdb *db, uint32_t off, size_t len)
{
	/* 64 bits: a 32-bit offset and lengths of 16 bits cannot wrap */
	return off % 8 == 0 &&
	       (uint64_t)off + (((uint64_t)len + 8) & ~(uint64_t)7) <=
	       db->strings_size;
}

/*
 * Bounds and sum of user record i, *x filled.  The four strings lie one
 * after the other from u->strs, their lengths in the record: a NUL must
 * end each, so they are summed in one run, whole words.  A NUL inside
 * one would only shorten it, and the sum says its bytes are the
 * publisher's; the name is checked for one by the callers that do not
 * compare it with a key.  The gids are checked, against their own sum,
 * only when gids is set; otherwise x has none.  The caller compares
 * *ret_sum with the record's.
 */
static inline __attribute__((always_inline)) int
user_rec(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_user *x,
	 uint64_t *ret_sum, int gids)
{
	const struct iam_nssdb_urec *u = &db->users[i];
	size_t nl = u->name_len, gl = u->gecos_len, hl = u->home_len,
	       sl = u->shell_len, run = nl + gl + hl + sl + 3;
	const unsigned char *s;

	if (nl == 0 || !padded_ok(db, u->strs, run))
		return -EBADMSG;
	s = (const unsigned char *)db->strings + u->strs;
	x->name = (const char *)s;
	x->gecos = x->name + nl + 1;
	x->home = x->gecos + gl + 1;
	x->shell = x->home + hl + 1;
	if (x->name[nl] != '\0' || x->gecos[gl] != '\0' ||
	    x->home[hl] != '\0' || x->shell[sl] != '\0')
		return -EBADMSG;
	x->name_len = nl;
	x->gecos_len = gl;
	x->home_len = hl;
	x->shell_len = sl;
	x->uid = u->uid;
	x->gid = u->gid;
	x->gids = NULL;
	x->n_gids = 0;
	*ret_sum = user_sum(u, i, s, run);
	if (gids) {
		if (u->gids > db->n_gids || u->n_gids > db->n_gids - u->gids ||
		    gids_sum(db->gids + u->gids, u->n_gids, i) != u->gids_sum)
			return -EBADMSG;
		x->gids = db->gids + u->gids;
		x->n_gids = u->n_gids;
	}
	return 0;
}

/* Bounds and sum of group record i, *x filled, as above. */
static inline __attribute__((always_inline)) int
group_rec(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_group *x,
	  uint64_t *ret_sum)
{
	const struct iam_nssdb_grec *g = &db->groups[i];
	size_t nl = g->name_len;

	if (nl == 0 || nl > IAM_NSSDB_MAX_STRING ||
	    !padded_ok(db, g->name, nl) ||
	    g->members > db->members_size ||
	    g->members_size > db->members_size - g->members ||
	    (g->n_members == 0) != (g->members_size == 0) ||
	    g->n_members > g->members_size / 2 + 1)
		return -EBADMSG;
	x->name = db->strings + g->name;
	x->name_len = nl;
	x->members = db->members + g->members;
	x->members_size = g->members_size;
	if (x->name[nl] != '\0' ||
	    (x->members_size > 0 && x->members[x->members_size - 1] != '\0'))
		return -EBADMSG;
	x->gid = g->gid;
	x->index = i;
	x->n_members = g->n_members;
	*ret_sum = group_sum(g, i, x->name, nl, x->members, x->members_size);
	return 0;
}

/* Record i checked, its sum too, into *x: 0 or -EBADMSG. */
static inline __attribute__((always_inline)) int
user_ok(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_user *x,
	int gids)
{
	uint64_t sum;

	if (i >= db->n_users || user_rec(db, i, x, &sum, gids) < 0 ||
	    sum != db->users[i].sum)
		return -EBADMSG;
	return 0;
}

static inline __attribute__((always_inline)) int
group_ok(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_group *x)
{
	uint64_t sum;

	if (i >= db->n_groups || group_rec(db, i, x, &sum) < 0 ||
	    sum != db->groups[i].sum)
		return -EBADMSG;
	return 0;
}

uint32_t
iam_nssdb_slot_check(uint32_t idx, uint32_t tag)
{
	return slot_check(idx, tag);
}

/*
 * The probe sequence of hash h in table t: for each occupied slot that
 * carries h, match() checks the record (its sum too) and compares its
 * key: 1 found, 0 go on, or a negative error.  The walk is bounded by
 * the slot count, so a table without an empty slot cannot loop.  Every
 * slot on the way is checked, and every record whose slot carries the
 * key's hash, the ones that turn out not to match too: damage on the
 * path of a key is -EBADMSG, never a "no such entry" that hides it.
 * Inlined into each lookup with its match(), so nothing is copied twice.
 */
struct key {
	const char *s;		/* a name, or NULL: id */
	size_t len;
	uint32_t id;
	int gids;		/* a user's gids are wanted */
};

typedef int (*match_fn)(const struct iam_nssdb *db, uint32_t idx,
			const struct key *key, void *ret);

static inline __attribute__((always_inline)) int
probe(const struct iam_nssdb *db, int t, uint32_t h, match_fn match,
      const struct key *key, void *ret)
{
	uint32_t slots, mask, n, v;
	const struct iam_nssdb_slot *slot;
	int r;

	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	slots = db->ht_slots[t];
	mask = slots - 1;
	for (n = 0; n < slots; n++) {
		slot = &db->ht[t][(h + n) & mask];
		v = slot->idx;
		if (slot->check != slot_check(v, slot->tag))
			return -EBADMSG;	/* a changed slot hides nothing */
		if (v == 0)
			return -ENOENT;
		if (slot->tag != h)
			continue;		/* another key's slot */
		r = match(db, v - 1, key, ret);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return -ENOENT;
}

/*
 * Are the len bytes of a record's name (padded with zeros to a multiple
 * of 8 past its NUL) those of key (len bytes and a NUL)?  8 at a time.
 */
static inline int
same_name(const char *name, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		if (load64(name + i) != load64(key + i))
			return 0;
	if (len - i >= 4)
		return load32(name + i) == load32(key + i) &&
		       load32(name + len - 4) == load32(key + len - 4);
	for (; i < len; i++)
		if (name[i] != key[i])
			return 0;
	return 1;
}

static inline __attribute__((always_inline)) int
match_user(const struct iam_nssdb *db, uint32_t idx, const struct key *k,
	   void *ret)
{
	struct iam_nssdb_user *u = ret;

	if (user_ok(db, idx, u, k->gids) < 0)
		return -EBADMSG;
	if (k->s == NULL)
		return u->uid != k->id ? 0 :
		       has_nul(u->name, u->name_len) ? -EBADMSG : 1;
	return u->name_len == k->len && same_name(u->name, k->s, k->len);
}

static inline __attribute__((always_inline)) int
match_group(const struct iam_nssdb *db, uint32_t idx, const struct key *k,
	    void *ret)
{
	struct iam_nssdb_group *g = ret;

	if (group_ok(db, idx, g) < 0)
		return -EBADMSG;
	if (k->s == NULL)
		return g->gid != k->id ? 0 :
		       has_nul(g->name, g->name_len) ? -EBADMSG : 1;
	return g->name_len == k->len && same_name(g->name, k->s, k->len);
}

/* A name key: 0, or -ENOENT when no entry can have it. */
static inline int
name_key(const char *name, struct key *k)
{
	k->s = name;
	k->len = strnlen(name, IAM_NSSDB_MAX_STRING + 1);
	if (k->len == 0 || k->len > IAM_NSSDB_MAX_STRING)
		return -ENOENT;
	return 0;
}

IAM_NSSDB_LOOKUP int
iam_nssdb_user(const struct iam_nssdb *db, const char *name, uint32_t uid,
	       int gids, struct iam_nssdb_user *ret)
{
	struct key k = { NULL, 0, uid, gids };

	if (name == NULL)
		return probe(db, HT_USER_UID, iam_nssdb_hash_id(uid),
			     match_user, &k, ret);
	if (name_key(name, &k) < 0)
		return -ENOENT;
	return probe(db, HT_USER_NAME, hash_name(k.s, k.len),
		     match_user, &k, ret);
}

int
iam_nssdb_user_by_name(const struct iam_nssdb *db, const char *name,
		       struct iam_nssdb_user *ret)
{
	return iam_nssdb_user(db, name, 0, 1, ret);
}

int
iam_nssdb_user_by_uid(const struct iam_nssdb *db, uint32_t uid,
		      struct iam_nssdb_user *ret)
{
	return iam_nssdb_user(db, NULL, uid, 1, ret);
}

IAM_NSSDB_LOOKUP int
iam_nssdb_group_by_name(const struct iam_nssdb *db, const char *name,
			struct iam_nssdb_group *ret)
{
	struct key k = { NULL, 0, 0, 0 };

	if (name_key(name, &k) < 0)
		return -ENOENT;
	return probe(db, HT_GROUP_NAME, hash_name(k.s, k.len),
		     match_group, &k, ret);
}

IAM_NSSDB_LOOKUP int
iam_nssdb_group_by_gid(const struct iam_nssdb *db, uint32_t gid,
		       struct iam_nssdb_group *ret)
{
	struct key k = { NULL, 0, gid, 0 };

	return probe(db, HT_GROUP_GID, iam_nssdb_hash_id(gid), match_group,
		     &k, ret);
}

int
iam_nssdb_user_at(const struct iam_nssdb *db, uint32_t i,
		  struct iam_nssdb_user *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	if (i >= db->n_users)
		return -ENOENT;
	if (user_ok(db, i, ret, 1) < 0 || has_nul(ret->name, ret->name_len))
		return -EBADMSG;
	return 0;
}

int
iam_nssdb_group_at(const struct iam_nssdb *db, uint32_t i,
		   struct iam_nssdb_group *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	if (i >= db->n_groups)
		return -ENOENT;
	if (group_ok(db, i, ret) < 0 || has_nul(ret->name, ret->name_len))
		return -EBADMSG;
	return 0;
}

int
iam_nssdb_next_member(const struct iam_nssdb_group *g, uint32_t *pos,
		      const char **ret_name, size_t *ret_len)
{
	const char *s, *nul;
	size_t max;

	if (*pos >= g->members_size)
		return *pos == g->members_size ? -ENOENT : -EBADMSG;
	s = g->members + *pos;
	max = g->members_size - *pos;
	if (max > IAM_NSSDB_MAX_STRING + 1)
		max = IAM_NSSDB_MAX_STRING + 1;
	nul = memchr(s, '\0', max);
	if (nul == NULL || nul == s)
		return -EBADMSG;
	*ret_len = (size_t)(nul - s);
	*ret_name = s;
	*pos += (uint32_t)(nul - s) + 1;
	return 0;
}

int
iam_nssdb_group_member(const struct iam_nssdb *db,
		       const struct iam_nssdb_group *g, uint32_t i,
		       const char **ret_name, size_t *ret_len)
{
	uint32_t pos = 0, k;
	int r;

	if (db == NULL || db->base == NULL || g == NULL ||
	    i >= g->n_members)
		return -EBADMSG;
	for (k = 0; k <= i; k++)
		if ((r = iam_nssdb_next_member(g, &pos, ret_name, ret_len)) < 0)
			return -EBADMSG;
	return 0;
}

/* ---- Sealing (the builder's last step) ---------------------------------- */

int
iam_nssdb_seal(void *p, size_t size)
{
	unsigned char *base = p;
	struct iam_nssdb_header h;
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	struct iam_nssdb_urec *ur;
	struct iam_nssdb_grec *gr;
	struct iam_nssdb_slot *slot;
	uint64_t sum;
	uint32_t i, t;

	if (p == NULL || (uintptr_t)p % 8 != 0 || size < sizeof(h) ||
	    size > IAM_NSSDB_MAX_SIZE)
		return -EBADMSG;
	memcpy(&h, base, sizeof(h));
	h.checksum = header_sum(base);
	memcpy(base + offsetof(struct iam_nssdb_header, checksum), &h.checksum,
	       sizeof(h.checksum));
	if (!header_ok(base, size, &h))
		return -EBADMSG;
	fill(&db, base, size, &h);
	ur = (void *)(base + h.sect[IAM_NSSDB_USERS].off);
	gr = (void *)(base + h.sect[IAM_NSSDB_GROUPS].off);
	for (i = 0; i < db.n_users; i++) {
		if (ur[i].gids <= db.n_gids &&
		    ur[i].n_gids <= db.n_gids - ur[i].gids)
			ur[i].gids_sum = gids_sum(db.gids + ur[i].gids,
						  ur[i].n_gids, i);
		if (user_rec(&db, i, &u, &sum, 0) == 0)
			ur[i].sum = sum;
	}
	for (i = 0; i < db.n_groups; i++)
		if (group_rec(&db, i, &g, &sum) == 0)
			gr[i].sum = sum;
	for (t = 0; t < 4; t++) {
		slot = (void *)(base + h.sect[IAM_NSSDB_USER_NAME_HT + t].off);
		for (i = 0; i < db.ht_slots[t]; i++)
			slot[i].check = slot_check(slot[i].idx, slot[i].tag);
	}
	return 0;
}
