/*
 * nssdb.c - reader of the public snapshot nss.db (format in nssdb.h).
 *
 * libc only: this file is compiled into libiam and into libnss_iam.so.2,
 * which is loaded into every process that resolves a name.  It never
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

uint32_t
iam_nssdb_hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

uint32_t
iam_nssdb_hash_id(uint32_t id)
{
	id ^= id >> 16;
	id *= 0x7feb352du;
	id ^= id >> 15;
	id *= 0x846ca68bu;
	id ^= id >> 16;
	return id;
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

/* The string at offset off, bounds-checked; NULL when damaged. */
static const char *
str_at(const struct iam_nssdb *db, uint32_t off, size_t *ret_len)
{
	const char *s, *nul;
	size_t max;

	if (off >= db->strings_size)
		return NULL;
	s = db->strings + off;
	max = db->strings_size - off;
	if (max > IAM_NSSDB_MAX_STRING + 1)
		max = IAM_NSSDB_MAX_STRING + 1;
	nul = memchr(s, '\0', max);
	if (nul == NULL)
		return NULL;
	*ret_len = (size_t)(nul - s);
	return s;
}

/*
 * Record sums: one multiply-xor step per 8 bytes, each step a bijection
 * of the running value, so a change confined to one word always changes
 * the sum.  The caller sums lengths, or NULs, with the bytes they count.
 */
static uint64_t
mix_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * P1;
	}
	if (n > 0) {
		w = n;		/* the tail's length, in its top byte */
		w <<= 56;
		memcpy(&w, s, n);
		h = (h ^ w) * P1;
	}
	return h;
}

static uint64_t
finish(uint64_t h)
{
	h ^= h >> 31;
	h *= P2;
	h ^= h >> 29;
	return h;
}

/*
 * Bounds and sum of user record i; the strings' lengths in x.  The four
 * strings lie one after the other, so their bytes and NULs are summed
 * in one run.
 */
static int
urec_sum(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_user *x,
	 uint64_t *ret_sum)
{
	const struct iam_nssdb_urec *u = &db->users[i];
	uint64_t h;

	x->name = str_at(db, u->name, &x->name_len);
	x->gecos = str_at(db, u->gecos, &x->gecos_len);
	x->home = str_at(db, u->home, &x->home_len);
	x->shell = str_at(db, u->shell, &x->shell_len);
	if (x->name == NULL || x->gecos == NULL || x->home == NULL ||
	    x->shell == NULL || x->name_len == 0 ||
	    x->gecos != x->name + x->name_len + 1 ||
	    x->home != x->gecos + x->gecos_len + 1 ||
	    x->shell != x->home + x->home_len + 1)
		return -EBADMSG;
	if (u->gids > db->n_gids || u->n_gids > db->n_gids - u->gids)
		return -EBADMSG;
	x->uid = u->uid;
	x->gid = u->gid;
	x->gids = db->gids + u->gids;
	x->n_gids = u->n_gids;
	h = mix_bytes(P2 ^ i, u, offsetof(struct iam_nssdb_urec, sum));
	h = mix_bytes(h, x->name,
		      (size_t)(x->shell + x->shell_len + 1 - x->name));
	h = mix_bytes(h, x->gids, (size_t)x->n_gids * 4);
	*ret_sum = finish(h);
	return 0;
}

/* Bounds and sum of group record i. */
static int
grec_sum(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_group *x,
	 uint64_t *ret_sum)
{
	const struct iam_nssdb_grec *g = &db->groups[i];
	uint64_t h;

	x->name = str_at(db, g->name, &x->name_len);
	if (x->name == NULL || x->name_len == 0)
		return -EBADMSG;
	if (g->members > db->members_size ||
	    g->members_size > db->members_size - g->members ||
	    (g->n_members == 0) != (g->members_size == 0) ||
	    g->n_members > g->members_size / 2 + 1 || g->reserved != 0)
		return -EBADMSG;
	x->members = db->members + g->members;
	x->members_size = g->members_size;
	if (x->members_size > 0 && x->members[x->members_size - 1] != '\0')
		return -EBADMSG;
	x->gid = g->gid;
	x->index = i;
	x->n_members = g->n_members;
	h = mix_bytes(P1 ^ i, g, offsetof(struct iam_nssdb_grec, sum));
	h = mix_bytes(h, x->name, x->name_len + 1);
	h = mix_bytes(h, x->members, x->members_size);
	*ret_sum = finish(h);
	return 0;
}

static int
user_at(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_user *ret)
{
	struct iam_nssdb_user x;
	uint64_t sum;

	if (i >= db->n_users)
		return -EBADMSG;
	if (urec_sum(db, i, &x, &sum) < 0 || sum != db->users[i].sum)
		return -EBADMSG;
	*ret = x;
	return 0;
}

static int
group_at(const struct iam_nssdb *db, uint32_t i, struct iam_nssdb_group *ret)
{
	struct iam_nssdb_group x;
	uint64_t sum;

	if (i >= db->n_groups)
		return -EBADMSG;
	if (grec_sum(db, i, &x, &sum) < 0 || sum != db->groups[i].sum)
		return -EBADMSG;
	*ret = x;
	return 0;
}

uint32_t
iam_nssdb_slot_check(uint32_t idx, uint32_t tag)
{
	uint32_t t = iam_nssdb_hash_id(tag);

	/* bijections that keep 0 at 0, each changing whole when one word does */
	return iam_nssdb_hash_id(idx) ^ (t << 13 | t >> 19);
}

/*
 * Walk the probe sequence of hash h in table t; for each occupied slot
 * call match(), which says 1 found, 0 go on, or a negative error.  The
 * walk is bounded by the slot count, so a table without an empty slot
 * cannot loop.  Every slot on the way is checked, and every record whose
 * slot carries the key's hash, the ones that turn out not to match too:
 * damage on the path of a key is -EBADMSG, never a "no such entry" that
 * hides it.
 */
typedef int (*match_fn)(const struct iam_nssdb *db, uint32_t idx,
			const void *key, void *ret);

static int
probe(const struct iam_nssdb *db, int t, uint32_t h, match_fn match,
      const void *key, void *ret)
{
	uint32_t slots = db->ht_slots[t], mask = slots - 1, n, v;
	const struct iam_nssdb_slot *slot;
	int r;

	if (slots == 0)
		return -ENOENT;
	for (n = 0; n < slots; n++) {
		slot = &db->ht[t][(h + n) & mask];
		v = slot->idx;
		if (slot->check != iam_nssdb_slot_check(v, slot->tag))
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

struct name_key {
	const char *s;
	size_t len;
};

static int
match_user_name(const struct iam_nssdb *db, uint32_t idx, const void *key,
		void *ret)
{
	const struct name_key *k = key;
	struct iam_nssdb_user u;
	int r;

	r = user_at(db, idx, &u);
	if (r < 0)
		return r;
	if (u.name_len != k->len || memcmp(u.name, k->s, k->len) != 0)
		return 0;
	*(struct iam_nssdb_user *)ret = u;
	return 1;
}

static int
match_user_uid(const struct iam_nssdb *db, uint32_t idx, const void *key,
	       void *ret)
{
	struct iam_nssdb_user u;
	int r;

	if (idx >= db->n_users)
		return -EBADMSG;
	r = user_at(db, idx, &u);
	if (r < 0)
		return r;
	if (u.uid != *(const uint32_t *)key)
		return 0;
	*(struct iam_nssdb_user *)ret = u;
	return 1;
}

static int
match_group_name(const struct iam_nssdb *db, uint32_t idx, const void *key,
		 void *ret)
{
	const struct name_key *k = key;
	struct iam_nssdb_group g;
	int r;

	r = group_at(db, idx, &g);
	if (r < 0)
		return r;
	if (g.name_len != k->len || memcmp(g.name, k->s, k->len) != 0)
		return 0;
	*(struct iam_nssdb_group *)ret = g;
	return 1;
}

static int
match_group_gid(const struct iam_nssdb *db, uint32_t idx, const void *key,
		void *ret)
{
	struct iam_nssdb_group g;
	int r;

	if (idx >= db->n_groups)
		return -EBADMSG;
	r = group_at(db, idx, &g);
	if (r < 0)
		return r;
	if (g.gid != *(const uint32_t *)key)
		return 0;
	*(struct iam_nssdb_group *)ret = g;
	return 1;
}

int
iam_nssdb_user_by_name(const struct iam_nssdb *db, const char *name,
		       struct iam_nssdb_user *ret)
{
	struct name_key k;

	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	k.s = name;
	k.len = strnlen(name, IAM_NSSDB_MAX_STRING + 1);
	if (k.len == 0 || k.len > IAM_NSSDB_MAX_STRING)
		return -ENOENT;
	return probe(db, HT_USER_NAME, iam_nssdb_hash_name(k.s, k.len),
		     match_user_name, &k, ret);
}

int
iam_nssdb_user_by_uid(const struct iam_nssdb *db, uint32_t uid,
		      struct iam_nssdb_user *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	return probe(db, HT_USER_UID, iam_nssdb_hash_id(uid), match_user_uid,
		     &uid, ret);
}

int
iam_nssdb_user_at(const struct iam_nssdb *db, uint32_t i,
		  struct iam_nssdb_user *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	if (i >= db->n_users)
		return -ENOENT;
	return user_at(db, i, ret);
}

int
iam_nssdb_group_by_name(const struct iam_nssdb *db, const char *name,
			struct iam_nssdb_group *ret)
{
	struct name_key k;

	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	k.s = name;
	k.len = strnlen(name, IAM_NSSDB_MAX_STRING + 1);
	if (k.len == 0 || k.len > IAM_NSSDB_MAX_STRING)
		return -ENOENT;
	return probe(db, HT_GROUP_NAME, iam_nssdb_hash_name(k.s, k.len),
		     match_group_name, &k, ret);
}

int
iam_nssdb_group_by_gid(const struct iam_nssdb *db, uint32_t gid,
		       struct iam_nssdb_group *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	return probe(db, HT_GROUP_GID, iam_nssdb_hash_id(gid), match_group_gid,
		     &gid, ret);
}

int
iam_nssdb_group_at(const struct iam_nssdb *db, uint32_t i,
		   struct iam_nssdb_group *ret)
{
	if (db == NULL || db->base == NULL)
		return -EBADMSG;
	if (i >= db->n_groups)
		return -ENOENT;
	return group_at(db, i, ret);
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
	for (i = 0; i < db.n_users; i++)
		if (urec_sum(&db, i, &u, &sum) == 0)
			ur[i].sum = sum;
	for (i = 0; i < db.n_groups; i++)
		if (grec_sum(&db, i, &g, &sum) == 0)
			gr[i].sum = sum;
	for (t = 0; t < 4; t++) {
		slot = (void *)(base + h.sect[IAM_NSSDB_USER_NAME_HT + t].off);
		for (i = 0; i < db.ht_slots[t]; i++)
			slot[i].check = iam_nssdb_slot_check(slot[i].idx,
							     slot[i].tag);
	}
	return 0;
}
