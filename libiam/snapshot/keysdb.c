/*
 * keysdb.c - build and read keys.db, the public SSH key snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnv.h"
#include "iam.h"
#include "iam/keysdb.h"

#define HDR_SIZE	64
#define MAX_FILE	(256u << 20)
#define MAX_LINE	IAM_ID_MAX_SSH_KEY
/* checksum, length, uid, name length, key count */
#define MIN_RECORD	(8 + 4 + 4 + 2 + 2)

struct header {
	char magic[8];
	uint32_t version;
	uint32_t n_buckets;
	uint64_t file_size;
	uint64_t generation;
	uint32_t n_users;
	uint32_t pad;
	uint64_t checksum;	/* FNV-1a of the header with this field 0 */
	char reserved[16];
};
_Static_assert(sizeof(struct header) == HDR_SIZE, "header size");

/*
 * 0 for never; otherwise at least 1, so that a creation time that is
 * unknown (0) or absurdly early still gives an expired key, never one
 * that lives for ever.
 */
int64_t
iam_ssh_key_expiry(const struct iam_ssh_key *k, uint32_t max_days)
{
	int64_t max = (int64_t)max_days * 86400;

	if (max_days == 0)
		return 0;
	if (k->created <= 0)
		return 1;
	if (k->created > INT64_MAX - max)
		return INT64_MAX;
	return k->created + max;
}

/* Bytes p..p+n of a record, and p moved past them. */
static inline void
put(unsigned char **p, const void *v, size_t n)
{
	memcpy(*p, v, n);
	*p += n;
}

/*
 * A user's record, sized first and written in place: checksum, length,
 * uid, name, then each active key with its expiry.
 */
static int
put_record(struct iam_buf *b, const struct iam_user *u, uint32_t max_days)
{
	size_t nlen = strlen(u->name), len = MIN_RECORD + nlen;
	uint16_t n = 0, l16;
	unsigned char *q, *p;
	uint64_t sum;
	int r;

	if (nlen > UINT16_MAX)
		return -E2BIG;
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		size_t l;

		if (!u->ssh_keys[i].active)
			continue;
		l = strlen(u->ssh_keys[i].key);
		if (l > MAX_LINE)
			return -E2BIG;
		len += 10 + l;
		n++;
	}
	if (len > UINT32_MAX)
		return -E2BIG;
	if ((r = iam_buf_grow(b, len)) < 0)
		return r;
	q = p = (unsigned char *)b->buf + b->len;
	p += 8;
	put(&p, &(uint32_t){ (uint32_t)len }, 4);
	put(&p, &u->uid, 4);
	put(&p, &(uint16_t){ (uint16_t)nlen }, 2);
	put(&p, u->name, nlen);
	put(&p, &n, 2);
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];
		int64_t exp;

		if (!k->active)
			continue;
		exp = iam_ssh_key_expiry(k, max_days);
		l16 = (uint16_t)strlen(k->key);
		put(&p, &exp, 8);
		put(&p, &l16, 2);
		put(&p, k->key, l16);
	}
	sum = iam_fnv1a(q + 8, len - 8);
	memcpy(q, &sum, 8);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int
iam_keysdb_build(const struct iam_identity *id, uint64_t generation,
		 struct iam_buf *out)
{
	struct header h = { .version = IAM_KEYSDB_VERSION };
	size_t base = out->len, n = 0, nb = 8;
	uint32_t *buckets;
	int r;

	for (size_t i = 0; i < id->n_users; i++)
		n += !id->users[i].disabled;
	while (nb < 2 * n + 1)
		nb *= 2;
	if (nb > UINT32_MAX / 4)
		return -E2BIG;
	memcpy(h.magic, IAM_KEYSDB_MAGIC, 8);
	h.n_buckets = (uint32_t)nb;
	h.generation = generation;
	h.n_users = (uint32_t)n;
	r = iam_buf_grow(out, sizeof(h) + nb * 4);
	if (r < 0)
		return r;
	memset(out->buf + out->len, 0, sizeof(h) + nb * 4);
	out->len += sizeof(h) + nb * 4;
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];
		size_t off = out->len - base, slot;

		if (u->disabled)
			continue;
		if (off > UINT32_MAX)
			return -E2BIG;
		r = put_record(out, u, id->password_policy.ssh_key_max_age_days);
		if (r < 0)
			return r;
		buckets = (uint32_t *)(out->buf + base + HDR_SIZE);
		slot = iam_fnv1a(u->name, strlen(u->name)) & (nb - 1);
		while (buckets[slot] != 0)
			slot = (slot + 1) & (nb - 1);
		buckets[slot] = (uint32_t)off;
	}
	if (out->len - base > MAX_FILE)
		return -E2BIG;
	h.file_size = out->len - base;
	h.checksum = 0;
	memcpy(out->buf + base, &h, sizeof(h));
	h.checksum = iam_fnv1a(out->buf + base, HDR_SIZE);
	memcpy(out->buf + base, &h, sizeof(h));
	return 0;
}

/* Bounds-checked cursor over one record. */
struct cursor {
	const unsigned char *p;
	size_t left;
};

static int
take(struct cursor *c, void *dst, size_t n)
{
	if (n > c->left)
		return -EBADMSG;
	if (dst != NULL)
		memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/*
 * Find name's record: 0 and *ret (its keys) and *ret_uid set, -ENOENT,
 * or -EBADMSG.
 */
static int
find(const unsigned char *map, size_t size, const char *name,
     struct cursor *ret, uint32_t *ret_uid)
{
	struct header h;
	size_t nlen = strlen(name), nb, slot;
	uint64_t sum;

	if (size < HDR_SIZE)
		return -EBADMSG;
	memcpy(&h, map, sizeof(h));
	sum = h.checksum;
	h.checksum = 0;
	if (memcmp(h.magic, IAM_KEYSDB_MAGIC, 8) != 0 ||
	    h.version != IAM_KEYSDB_VERSION || h.file_size != size ||
	    iam_fnv1a(&h, sizeof(h)) != sum)
		return -EBADMSG;
	nb = h.n_buckets;
	if (nb == 0 || (nb & (nb - 1)) != 0 || nb > (size - HDR_SIZE) / 4)
		return -EBADMSG;
	slot = iam_fnv1a(name, nlen) & (nb - 1);
	for (size_t probes = 0; probes < nb; probes++) {
		uint32_t off, len, uid;
		uint16_t l16;
		struct cursor c;

		memcpy(&off, map + HDR_SIZE + slot * 4, 4);
		if (off == 0)
			return -ENOENT;
		if (off < HDR_SIZE + nb * 4 || off > size - MIN_RECORD)
			return -EBADMSG;
		memcpy(&sum, map + off, 8);
		memcpy(&len, map + off + 8, 4);
		if (len < MIN_RECORD || len > size - off ||
		    iam_fnv1a(map + off + 8, len - 8) != sum)
			return -EBADMSG;
		c = (struct cursor){ map + off + 12, len - 12 };
		if (take(&c, &uid, 4) < 0 || take(&c, &l16, 2) < 0 ||
		    l16 > c.left)
			return -EBADMSG;
		if (l16 == nlen && memcmp(c.p, name, nlen) == 0) {
			take(&c, NULL, l16);
			*ret = c;
			*ret_uid = uid;
			return 0;
		}
		slot = (slot + 1) & (nb - 1);
	}
	return -ENOENT;
}

/*
 * Only a valid key line ever reaches sshd: no options, no second line,
 * even from a damaged file whose checksum happens to match.
 */
static bool
line_ok(const struct cursor *c, uint16_t l)
{
	char line[MAX_LINE + 1];

	if (l > c->left || l > MAX_LINE || memchr(c->p, '\0', l) != NULL)
		return false;
	memcpy(line, c->p, l);
	line[l] = '\0';
	return iam_ssh_key_valid(line, NULL);
}

size_t
iam_ssh_key_material_len(const char *line)
{
	size_t t = strcspn(line, " \n");

	return line[t] == ' ' ? t + 1 + strcspn(line + t + 1, " \n") : t;
}

bool
iam_ssh_key_same(const char *a, const char *b)
{
	size_t n = iam_ssh_key_material_len(a);

	return n > 0 && n == iam_ssh_key_material_len(b) &&
		memcmp(a, b, n) == 0;
}

/*
 * Call fn with each unexpired key line of a record (NUL-terminated, no
 * newline) until fn returns non-zero; that value is returned, or 0 after
 * the last line, or -EBADMSG for a damaged record.
 */
static int
each_key_line(struct cursor c, int64_t now,
	      int (*fn)(void *ctx, const char *line, uint16_t len), void *ctx)
{
	char line[MAX_LINE + 1];
	uint16_t n, l;
	int64_t exp;
	int r;

	r = take(&c, &n, 2);
	for (uint16_t i = 0; r == 0 && i < n; i++) {
		r = take(&c, &exp, 8);
		r = r ? r : take(&c, &l, 2);
		if (r == 0 && !line_ok(&c, l))
			r = -EBADMSG;
		if (r == 0 && (exp == 0 || exp > now)) {
			memcpy(line, c.p, l);
			line[l] = '\0';
			r = fn(ctx, line, l);
			if (r != 0)
				return r;
		}
		r = r ? r : take(&c, NULL, l);
	}
	return r;
}

struct collected {
	struct iam_buf lines;
	int count;
};

static int
collect_line(void *ctx, const char *line, uint16_t len)
{
	struct collected *k = ctx;
	int r;

	r = iam_buf_add(&k->lines, line, len);
	r = r ? r : iam_buf_add(&k->lines, "\n", 1);
	k->count++;
	return r;
}

/* Collect the unexpired lines first, so nothing is printed on failure. */
static int
print_record(struct cursor c, int64_t now, FILE *out)
{
	struct collected k = { IAM_BUF_INIT, 0 };
	int r;

	r = each_key_line(c, now, collect_line, &k);
	if (r == 0 && k.lines.len > 0 &&
	    fwrite(k.lines.buf, 1, k.lines.len, out) != k.lines.len)
		r = -EIO;
	iam_buf_release(&k.lines);
	return r < 0 ? r : k.count;
}

static int
match_line(void *ctx, const char *line, uint16_t len)
{
	(void)len;
	return iam_ssh_key_same(line, ctx) ? 1 : 0;
}

/* A user's keys mapped: the map, its size, and the user's record. */
struct user_keys {
	struct iam_map m;
	struct cursor rec;
};

/*
 * Map path and find name's record of uid: 1 found, 0 not this IAM user
 * (absent, or another uid), or a negative errno (reason in err).
 */
static int
map_user_keys(const char *path, int strict_flags, const char *name,
	      uint32_t uid, struct user_keys *k, char *err, size_t errlen)
{
	uint32_t owner = 0;
	int r;

	k->m.p = NULL;
	if (!iam_name_valid(name))
		return 0;
	r = iam_map_strict(path, strict_flags & ~IAM_STRICT_SECRET, HDR_SIZE,
			   MAX_FILE, &k->m, err, errlen);
	if (r == -EBADMSG)
		snprintf(err, errlen, "%s: corrupt snapshot", path);
	if (r < 0)
		return r;
	r = find(k->m.p, k->m.size, name, &k->rec, &owner);
	if (r == -ENOENT || (r == 0 && owner != uid))
		return 0;	/* not this IAM user: another account of that name */
	if (r == -EBADMSG)
		snprintf(err, errlen, "%s: corrupt snapshot", path);
	return r < 0 ? r : 1;
}


int
iam_keysdb_print(const char *path, int strict_flags, const char *name,
		 uint32_t uid, int64_t now, FILE *out, char *err,
		 size_t errlen)
{
	struct user_keys k;
	int r;

	r = map_user_keys(path, strict_flags, name, uid, &k, err, errlen);
	if (r == 1)
		r = print_record(k.rec, now, out);
	iam_unmap(&k.m);
	if (r == -EBADMSG)
		snprintf(err, errlen, "%s: corrupt snapshot", path);
	return r;
}

int
iam_keysdb_has_key(const char *path, int strict_flags, const char *name,
		   uint32_t uid, int64_t now, const char *key, char *err,
		   size_t errlen)
{
	struct user_keys k;
	int r;

	if (iam_ssh_key_material_len(key) == 0)
		return 0;
	r = map_user_keys(path, strict_flags, name, uid, &k, err, errlen);
	if (r == 1)
		r = each_key_line(k.rec, now, match_line, (void *)key);
	iam_unmap(&k.m);
	if (r == -EBADMSG)
		snprintf(err, errlen, "%s: corrupt snapshot", path);
	return r;
}
