/*
 * nssdb_write.c - builder of the public snapshot nss.db (format in
 * nssdb.h): users, groups and memberships of a validated identity, no
 * secret of any kind.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iam/snapshot.h"
#include "nssdb.h"

struct builder {
	const struct iam_identity *id;
	struct iam_buf strings;
	struct iam_buf names;	/* member names, a run per group */
	uint32_t *gslots;	/* group index + 1 by name hash, 0 empty */
	uint32_t gmask;		/* slots - 1 */
	uint32_t *ugids;	/* supplementary gids, a run per user */
	uint32_t *ugids_at;	/* n_users + 1 run starts */
	uint32_t *members;	/* user indices, a run per group */
	uint32_t *members_at;	/* n_groups + 1 run starts */
	size_t n_gids, n_members;
	struct iam_nssdb_urec *urecs;
	struct iam_nssdb_grec *grecs;
};

/*
 * Fields end up in colon-separated passwd(5) and group(5) lines and on
 * terminals: refuse a colon or a control character, whatever the
 * validation before us let through.
 */
static int
field_ok(const char *s, int is_name)
{
	const unsigned char *p;

	if (s == NULL || (is_name && *s == '\0'))
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == ':' || *p < 0x20 || *p == 0x7f ||
		    p - (const unsigned char *)s >= IAM_NSSDB_MAX_STRING)
			return 0;
	return 1;
}

static int
add_string(struct builder *b, const char *s, uint32_t *ret_off)
{
	size_t off = b->strings.len;

	if (off > IAM_NSSDB_MAX_SIZE)
		return -E2BIG;
	if (iam_buf_add(&b->strings, s, strlen(s) + 1) < 0)
		return -ENOMEM;
	*ret_off = (uint32_t)off;
	return 0;
}

/*
 * Zeros up to the next multiple of 8: each record's strings start and
 * end on one, so the reader sums them 8 bytes at a time.
 */
static int
pad_strings(struct builder *b)
{
	static const char zero[8];
	size_t k = (8 - b->strings.len % 8) % 8;

	if (k > 0 && iam_buf_add(&b->strings, zero, k) < 0)
		return -ENOMEM;
	return 0;
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

static int
find_group(const struct builder *b, const char *name, uint32_t *ret_idx)
{
	uint32_t h = iam_nssdb_hash_name(name, strlen(name)) & b->gmask, g;

	for (; b->gslots[h] != 0; h = (h + 1) & b->gmask) {
		g = b->gslots[h] - 1;
		if (strcmp(b->id->groups[g].name, name) == 0) {
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
	uint32_t *gidx = NULL, *fill = NULL, g;
	size_t i, j, k, total = 0;
	int r = -ENOMEM;

	for (i = 0; i < id->n_users; i++) {
		if (id->users[i].n_groups > IAM_ID_MAX_PER_USER)
			return -E2BIG;
		total += id->users[i].n_groups;
	}
	if (total > UINT32_MAX / 4)
		return -E2BIG;
	b->ugids = calloc(total + 1, sizeof(uint32_t));
	gidx = calloc(total + 1, sizeof(uint32_t));
	b->ugids_at = calloc(id->n_users + 1, sizeof(uint32_t));
	b->members_at = calloc(id->n_groups + 1, sizeof(uint32_t));
	fill = calloc(id->n_groups + 1, sizeof(uint32_t));
	if (!b->ugids || !gidx || !b->ugids_at || !b->members_at || !fill)
		goto out;
	for (i = 0; i < id->n_users; i++) {
		b->ugids_at[i] = (uint32_t)b->n_gids;
		for (j = 0; j < id->users[i].n_groups; j++) {
			if (find_group(b, id->users[i].groups[j], &g) < 0) {
				r = -EINVAL;	/* validation let a name through */
				goto out;
			}
			for (k = b->ugids_at[i]; k < b->n_gids; k++)
				if (gidx[k] == g)
					break;
			if (k < b->n_gids)
				continue;
			gidx[b->n_gids] = g;
			b->ugids[b->n_gids++] = id->groups[g].gid;
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
	free(gidx);
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
static int
ht_put(const struct builder *b, int which, struct iam_nssdb_slot *t,
       uint32_t slots, uint32_t idx)
{
	const struct iam_identity *id = b->id;
	uint32_t mask = slots - 1, h, o, tag;

	switch (which) {
	case 0: h = iam_nssdb_hash_name(id->users[idx].name,
				       strlen(id->users[idx].name)); break;
	case 1: h = iam_nssdb_hash_id(id->users[idx].uid); break;
	case 2: h = iam_nssdb_hash_name(id->groups[idx].name,
				       strlen(id->groups[idx].name)); break;
	default: h = iam_nssdb_hash_id(id->groups[idx].gid); break;
	}
	tag = h;
	for (; t[h & mask].idx != 0; h++) {
		o = t[h & mask].idx - 1;
		if ((which == 0 && !strcmp(id->users[o].name, id->users[idx].name)) ||
		    (which == 1 && id->users[o].uid == id->users[idx].uid) ||
		    (which == 2 && !strcmp(id->groups[o].name, id->groups[idx].name)) ||
		    (which == 3 && id->groups[o].gid == id->groups[idx].gid))
			return -EINVAL;
	}
	t[h & mask].idx = idx + 1;
	t[h & mask].tag = tag;
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

/* Records with their string offsets, in identity order. */
static int
records(struct builder *b)
{
	const struct iam_identity *id = b->id;
	uint32_t off;
	size_t i, k;
	int r;

	b->urecs = calloc(id->n_users + 1, sizeof(*b->urecs));
	b->grecs = calloc(id->n_groups + 1, sizeof(*b->grecs));
	if (b->urecs == NULL || b->grecs == NULL)
		return -ENOMEM;
	for (i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];
		struct iam_nssdb_urec *x = &b->urecs[i];

		if (!field_ok(u->name, 1) || !field_ok(u->gecos, 0) ||
		    !field_ok(u->home, 0) || !field_ok(u->shell, 0))
			return -EINVAL;
		/* the four strings one after the other, as the reader wants */
		if ((r = add_string(b, u->name, &x->strs)) < 0 ||
		    (r = add_string(b, u->gecos, &off)) < 0 ||
		    (r = add_string(b, u->home, &off)) < 0 ||
		    (r = add_string(b, u->shell, &off)) < 0 ||
		    (r = pad_strings(b)) < 0)
			return r;
		x->name_len = (uint16_t)strlen(u->name);
		x->gecos_len = (uint16_t)strlen(u->gecos);
		x->home_len = (uint16_t)strlen(u->home);
		x->shell_len = (uint16_t)strlen(u->shell);
		x->uid = u->uid;
		x->gid = u->gid;
		x->gids = b->ugids_at[i];
		x->n_gids = b->ugids_at[i + 1] - b->ugids_at[i];
	}
	for (i = 0; i < id->n_groups; i++) {
		struct iam_nssdb_grec *x = &b->grecs[i];

		if (!field_ok(id->groups[i].name, 1))
			return -EINVAL;
		if ((r = add_string(b, id->groups[i].name, &x->name)) < 0 ||
		    (r = pad_strings(b)) < 0)
			return r;
		x->name_len = (uint32_t)strlen(id->groups[i].name);
		x->gid = id->groups[i].gid;
		x->members = (uint32_t)b->names.len;
		x->n_members = b->members_at[i + 1] - b->members_at[i];
		for (k = b->members_at[i]; k < b->members_at[i + 1]; k++) {
			const char *m = id->users[b->members[k]].name;

			if (b->names.len > IAM_NSSDB_MAX_SIZE)
				return -E2BIG;
			if (iam_buf_add(&b->names, m, strlen(m) + 1) < 0)
				return -ENOMEM;
		}
		x->members_size = (uint32_t)b->names.len - x->members;
	}
	return 0;
}

/* The four hash indexes, into tables of the given slot counts. */
static int
indexes(const struct builder *b, struct iam_nssdb_slot *const t[4],
	const uint32_t slots[4])
{
	size_t n;
	uint32_t i;
	int w, r;

	for (w = 0; w < 4; w++) {
		n = w < 2 ? b->id->n_users : b->id->n_groups;
		for (i = 0; i < n; i++)
			if ((r = ht_put(b, w, t[w], slots[w], i)) < 0)
				return r;
	}
	return 0;
}

static int
emit(struct builder *b, uint64_t generation, struct iam_buf *out)
{
	const struct iam_identity *id = b->id;
	struct iam_nssdb_header h;
	size_t sizes[IAM_NSSDB_NSECT], total, i;
	uint32_t slots[4];
	struct iam_nssdb_slot *t[4] = { NULL, NULL, NULL, NULL };
	const void *src[IAM_NSSDB_NSECT];
	unsigned char *base = NULL;
	int r = -ENOMEM;

	slots[0] = slots[1] = slots_for(id->n_users);
	slots[2] = slots[3] = slots_for(id->n_groups);
	for (i = 0; i < 4; i++)
		if ((t[i] = calloc((size_t)slots[i] + 1, sizeof(**t))) == NULL)
			goto out;
	if ((r = indexes(b, t, slots)) < 0)
		goto out;
	r = -ENOMEM;
	sizes[IAM_NSSDB_USERS] = id->n_users * sizeof(struct iam_nssdb_urec);
	sizes[IAM_NSSDB_GROUPS] = id->n_groups * sizeof(struct iam_nssdb_grec);
	for (i = 0; i < 4; i++) {
		sizes[IAM_NSSDB_USER_NAME_HT + i] = (size_t)slots[i] * sizeof(**t);
		src[IAM_NSSDB_USER_NAME_HT + i] = t[i];
	}
	sizes[IAM_NSSDB_GIDS] = b->n_gids * 4;
	sizes[IAM_NSSDB_MEMBERS] = b->names.len;
	sizes[IAM_NSSDB_STRINGS] = b->strings.len;
	src[IAM_NSSDB_USERS] = b->urecs;
	src[IAM_NSSDB_GROUPS] = b->grecs;
	src[IAM_NSSDB_GIDS] = b->ugids;
	src[IAM_NSSDB_MEMBERS] = b->names.buf;
	src[IAM_NSSDB_STRINGS] = b->strings.buf;

	memset(&h, 0, sizeof(h));
	total = layout(&h, sizes);
	if (total > IAM_NSSDB_MAX_SIZE) {
		r = -E2BIG;
		goto out;
	}
	memcpy(h.magic, IAM_NSSDB_MAGIC, 8);
	h.version = IAM_NSSDB_VERSION;
	h.header_size = sizeof(h);
	h.file_size = total;
	h.generation = generation;
	h.n_users = (uint32_t)id->n_users;
	h.n_groups = (uint32_t)id->n_groups;
	h.n_gids = (uint32_t)b->n_gids;
	h.n_members = (uint32_t)b->n_members;

	if ((base = calloc(1, total)) == NULL)
		goto out;
	for (i = 0; i < IAM_NSSDB_NSECT; i++)
		if (sizes[i] > 0)
			memcpy(base + h.sect[i].off, src[i], sizes[i]);
	memcpy(base, &h, sizeof(h));
	if (iam_nssdb_seal(base, total) < 0) {
		r = -EINVAL;
		goto out;
	}
	r = iam_buf_add(out, base, total) < 0 ? -ENOMEM : 0;
out:
	free(base);
	for (i = 0; i < 4; i++)
		free(t[i]);
	return r;
}

int
iam_nssdb_build(const struct iam_identity *id, uint64_t generation,
		struct iam_buf *out)
{
	struct builder b;
	int r = -ENOMEM;

	/* the identity's own caps apply when it is loaded; here the format's */
	if (id->n_users > IAM_NSSDB_MAX_ENTRIES ||
	    id->n_groups > IAM_NSSDB_MAX_ENTRIES)
		return -E2BIG;
	memset(&b, 0, sizeof(b));
	b.id = id;
	b.strings = (struct iam_buf)IAM_BUF_INIT;
	b.names = (struct iam_buf)IAM_BUF_INIT;
	if ((r = group_slots(&b)) < 0 || (r = memberships(&b)) < 0 ||
	    (r = records(&b)) < 0)
		goto out;
	/* the section must end with a NUL even when there is no string */
	if (b.strings.len == 0 && iam_buf_add(&b.strings, "", 1) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = emit(&b, generation, out);
out:
	free(b.gslots);
	free(b.ugids);
	free(b.ugids_at);
	free(b.members);
	free(b.members_at);
	free(b.urecs);
	free(b.grecs);
	iam_buf_release(&b.strings);
	iam_buf_release(&b.names);
	return r;
}
