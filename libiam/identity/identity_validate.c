/*
 * identity_validate.c - the checks of iam-identity(5) that look across
 * the model or at the host: unique names and ids, references between
 * users, groups, roles and policies, retired ids, and collisions with the
 * host's own accounts and subordinate ids; the shapes of password hashes,
 * TOTP secrets and SSH keys; the hash indexes behind the lookups.
 *
 * The host's accounts are read straight from HOST_ROOT/etc/passwd and
 * HOST_ROOT/etc/group, never through NSS: getpwnam() would see the IAM
 * users themselves (nss_iam) and could recurse into this very code.
 *
 * Over 600 lines: the checks across the model share its indexes; not
 * split while the streaming loader is written against them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util_int.h"
#include "identity_int.h"
#include "iam/keys.h"

#define HOST_MAX_LINES	4000000	/* entries read from one host file */

/* ---- Shapes of credentials and keys ---------------------------------- */

bool
iam_totp_secret_valid(const char *s, const char **ret_why)
{
	const char *why = NULL;
	size_t n, pad;

	if (s == NULL)
		s = "";
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	pad = strspn(s + n, "=");
	if (s[n + pad] != '\0')
		why = "is not base32 (A-Z and 2-7, as RFC 4648)";
	else if (pad > 0 && ((n + pad) % 8 != 0 || pad == 2 || pad == 5 ||
			     pad == 7))
		why = "has wrong '=' padding for base32";
	else if (n * 5 < 128)
		why = "is shorter than 128 bits (26 base32 characters)";
	else if (n > 1024)
		why = "is longer than 1024 base32 characters";
	if (why != NULL && ret_why != NULL)
		*ret_why = why;
	return why == NULL;
}

bool
iam_ssh_key_valid(const char *line, const char **ret_why)
{
	static const char *const types[] = {
		"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com", NULL };
	unsigned char blob[IAM_ID_MAX_SSH_KEY];
	const char *why = NULL, *p;
	size_t tlen, blen, i;
	ssize_t n;

	if (line == NULL)
		line = "";
	tlen = strcspn(line, " ");
	blen = strcspn(line + tlen + (line[tlen] == ' '), " ");
	p = line + tlen + (line[tlen] == ' ');
	for (i = 0; types[i] != NULL; i++)
		if (strlen(types[i]) == tlen &&
		    strncmp(line, types[i], tlen) == 0)
			break;
	if (strlen(line) > IAM_ID_MAX_SSH_KEY)
		why = "key line is too long";
	else if (strpbrk(line, "\n\r") != NULL)
		why = "must be one line (it contains a newline)";
	else if (strpbrk(line, "\t\001\002\003\004\005\006\007\010\013\014\016"
			 "\017\020\021\022\023\024\025\026\027\030\031\032"
			 "\033\034\035\036\037\177") != NULL)
		why = "contains a control character";
	else if (types[i] == NULL && strpbrk(line, "=\",") != NULL &&
		 strcspn(line, "=\",") < tlen)
		why = "options (such as command=\"...\") are not allowed before "
		      "the key";
	else if (types[i] == NULL)
		why = "unknown key type (ssh-ed25519, ssh-rsa, "
		      "ecdsa-sha2-nistp256/384/521, sk-*@openssh.com)";
	else if (blen == 0)
		why = "the base64 key data is missing";
	else if ((n = iam_base64_decode(p, blen, blob, sizeof(blob))) < 0)
		why = "the key data is not valid base64";
	else if ((size_t)n < 4 + tlen + 4 ||
		 ((size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
		  (size_t)blob[2] << 8 | blob[3]) != tlen ||
		 memcmp(blob + 4, line, tlen) != 0)
		why = "the key data does not hold a key of the stated type";
	if (why != NULL && ret_why != NULL)
		*ret_why = why;
	return why == NULL;
}

/* ---- Indexes and lookups --------------------------------------------- */

struct sort_ctx {
	const char *(*name)(const void *base, size_t i);
	uint32_t (*id)(const void *base, size_t i);
	const void *base;
};

static const char *
user_name(const void *b, size_t i)
{
	return ((const struct iam_user *)b)[i].name;
}

static uint32_t
user_uid(const void *b, size_t i)
{
	return ((const struct iam_user *)b)[i].uid;
}

static const char *
group_name(const void *b, size_t i)
{
	return ((const struct iam_group *)b)[i].name;
}

static uint32_t
group_gid(const void *b, size_t i)
{
	return ((const struct iam_group *)b)[i].gid;
}

static const char *
role_name(const void *b, size_t i)
{
	return ((const struct iam_role *)b)[i].name;
}

static const char *
named_policy_name(const void *b, size_t i)
{
	return ((const struct iam_named_policy *)b)[i].name;
}

/* Seeded: the identity file's names never choose their slots. */
static uint64_t
hash_str(const char *s)
{
	return iam_table_hash(iam_table_seed(), s, strlen(s));
}

static uint64_t
hash_id(uint32_t id)
{
	return iam_table_hash(iam_table_seed(), &id, sizeof(id));
}

static uint64_t
key_hash(const struct sort_ctx *c, size_t i)
{
	return c->name != NULL ? hash_str(c->name(c->base, i)) :
				 hash_id(c->id(c->base, i));
}

static bool
key_eq(const struct sort_ctx *c, size_t i, size_t j)
{
	return c->name != NULL ?
	       strcmp(c->name(c->base, i), c->name(c->base, j)) == 0 :
	       c->id(c->base, i) == c->id(c->base, j);
}

/* Key order, ties in file order: the order in which duplicates are told. */
static int
cmp_dup(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	size_t x = ((const struct iam_id_dup *)a)->later;
	size_t y = ((const struct iam_id_dup *)b)->later;
	int r;

	if (c->name != NULL) {
		r = strcmp(c->name(c->base, x), c->name(c->base, y));
	} else {
		uint32_t i = c->id(c->base, x), j = c->id(c->base, y);

		r = i < j ? -1 : i > j;
	}
	return r != 0 ? r : (x < y ? -1 : x > y);
}

static void
index_release(struct iam_id_index *ix)
{
	free(ix->slot);
	free(ix->dups);
	*ix = (struct iam_id_index){ NULL, 0, NULL, 0 };
}

/*
 * One pass in file order: each entry either takes an empty slot or meets
 * an earlier entry with its key, which makes it a duplicate of the latest
 * such entry (last[] follows it).  Built in O(n), looked up in O(1).
 */
static int
make_index(struct iam_id_index *ret, const void *base, size_t n,
	   const char *(*name)(const void *, size_t),
	   uint32_t (*id)(const void *, size_t))
{
	struct sort_ctx c = { name, id, base };
	struct iam_id_index ix = { NULL, 0, NULL, 0 };
	size_t cap = 8, alloc_dups = 0;
	uint32_t *last = NULL;

	if (n >= UINT32_MAX / 2)
		return -E2BIG;	/* slots hold index + 1 in 32 bits */
	while (cap < 2 * n)
		cap *= 2;
	ix.mask = cap - 1;
	ix.slot = calloc(cap, sizeof(*ix.slot));
	last = calloc(cap, sizeof(*last));
	if (ix.slot == NULL || last == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		size_t h;

		if (name != NULL ? name(base, i) == NULL : id(base, i) == 0)
			continue;
		for (h = key_hash(&c, i) & ix.mask; ix.slot[h] != 0;
		     h = (h + 1) & ix.mask)
			if (key_eq(&c, ix.slot[h] - 1, i))
				break;
		if (ix.slot[h] == 0) {
			ix.slot[h] = (uint32_t)i + 1;
			last[h] = (uint32_t)i;
			continue;
		}
		if (ix.n_dups == alloc_dups) {
			size_t a = alloc_dups ? alloc_dups * 2 : 8;
			struct iam_id_dup *d = reallocarray(ix.dups, a,
							    sizeof(*d));

			if (d == NULL)
				goto nomem;
			ix.dups = d;
			alloc_dups = a;
		}
		ix.dups[ix.n_dups++] = (struct iam_id_dup){ i, last[h] };
		last[h] = (uint32_t)i;
	}
	if (ix.n_dups > 1)
		qsort_r(ix.dups, ix.n_dups, sizeof(*ix.dups), cmp_dup, &c);
	free(last);
	*ret = ix;
	return 0;
nomem:
	free(last);
	index_release(&ix);
	return -ENOMEM;
}

void
iam_id_index_release(struct iam_id_priv *p)
{
	for (size_t i = 0; i < IAM_IX_COUNT; i++)
		index_release(&p->ix[i]);
}

/* iam_identity_group() and _policy() through memo m (NULL: none). */
static const struct iam_group *
group_of(const struct iam_identity *id, struct iam_name_memo *m,
	 const char *name)
{
	const struct iam_group *g;
	uint32_t i;

	if (iam_name_memo_get(m, name, &i))
		return &id->groups[i];
	g = iam_identity_group(id, name);
	if (g != NULL)
		iam_name_memo_put(m, name, (uint32_t)(g - id->groups));
	return g;
}

static const struct iam_named_policy *
policy_of(const struct iam_identity *id, struct iam_name_memo *m,
	  const char *name)
{
	const struct iam_named_policy *p;
	uint32_t i;

	if (iam_name_memo_get(m, name, &i))
		return &id->policies[i];
	p = iam_identity_policy(id, name);
	if (p != NULL)
		iam_name_memo_put(m, name, (uint32_t)(p - id->policies));
	return p;
}

int
iam_id_index(struct iam_identity *id)
{
	struct iam_name_memo *memo;
	struct iam_id_index ix[IAM_IX_COUNT];
	struct iam_id_priv *p = id->priv;
	int r;

	memset(ix, 0, sizeof(ix));
	r = make_index(&ix[IAM_IX_USER_BY_NAME], id->users, id->n_users,
		       user_name, NULL);
	if (r == 0)
		r = make_index(&ix[IAM_IX_USER_BY_UID], id->users, id->n_users,
			       NULL, user_uid);
	if (r == 0)
		r = make_index(&ix[IAM_IX_GROUP_BY_NAME], id->groups,
			       id->n_groups, group_name, NULL);
	if (r == 0)
		r = make_index(&ix[IAM_IX_GROUP_BY_GID], id->groups,
			       id->n_groups, NULL, group_gid);
	if (r == 0)
		r = make_index(&ix[IAM_IX_ROLE_BY_NAME], id->roles, id->n_roles,
			       role_name, NULL);
	if (r == 0)
		r = make_index(&ix[IAM_IX_POLICY_BY_NAME], id->policies,
			       id->n_policies, named_policy_name, NULL);
	if (r < 0) {
		for (size_t i = 0; i < IAM_IX_COUNT; i++)
			index_release(&ix[i]);
		return r;
	}
	iam_id_index_release(p);
	memcpy(p->ix, ix, sizeof(ix));
	/* A user's gid is its primary group's. */
	memo = calloc(1, sizeof(*memo));	/* none: only slower */
	for (size_t i = 0; i < id->n_users; i++) {
		struct iam_user *u = &id->users[i];
		const struct iam_group *g = u->primary_group ?
			group_of(id, memo, u->primary_group) : NULL;

		u->gid = g != NULL ? g->gid : 0;
	}
	free(memo);
	return 0;
}

void
iam_id_drop_user_indexes(struct iam_identity *id)
{
	struct iam_id_priv *p = id->priv;

	index_release(&p->ix[IAM_IX_USER_BY_NAME]);
	index_release(&p->ix[IAM_IX_USER_BY_UID]);
}

int
iam_identity_reindex(struct iam_identity *id)
{
	return id != NULL && id->priv != NULL ? iam_id_index(id) : -EINVAL;
}

/*
 * Position in base (n entries) of the (first) entry named key, or
 * SIZE_MAX.  Without its index (iam_id_drop_user_indexes(), or none
 * could be built) the entries are scanned: slower, never a wrong answer.
 */
static size_t
find_name(const struct iam_id_index *ix, const void *base, size_t n,
	  const char *(*name)(const void *, size_t), const char *key)
{
	if (ix->slot == NULL) {
		for (size_t i = 0; i < n; i++)
			if (name(base, i) != NULL &&
			    strcmp(name(base, i), key) == 0)
				return i;
		return SIZE_MAX;
	}
	for (size_t h = hash_str(key) & ix->mask; ix->slot[h] != 0;
	     h = (h + 1) & ix->mask)
		if (strcmp(name(base, ix->slot[h] - 1), key) == 0)
			return ix->slot[h] - 1;
	return SIZE_MAX;
}

static size_t
find_id(const struct iam_id_index *ix, const void *base, size_t n,
	uint32_t (*id)(const void *, size_t), uint32_t key)
{
	if (ix->slot == NULL) {
		for (size_t i = 0; i < n; i++)
			if (id(base, i) == key)
				return i;
		return SIZE_MAX;
	}
	for (size_t h = hash_id(key) & ix->mask; ix->slot[h] != 0;
	     h = (h + 1) & ix->mask)
		if (id(base, ix->slot[h] - 1) == key)
			return ix->slot[h] - 1;
	return SIZE_MAX;
}

#define PRIV(id) ((const struct iam_id_priv *)(id)->priv)

const struct iam_user *
iam_identity_user(const struct iam_identity *id, const char *name)
{
	size_t i;

	if (id == NULL || name == NULL)
		return NULL;
	i = find_name(&PRIV(id)->ix[IAM_IX_USER_BY_NAME],
		      id->users, id->n_users, user_name, name);
	return i == SIZE_MAX ? NULL : &id->users[i];
}

const struct iam_user *
iam_identity_user_by_uid(const struct iam_identity *id, uint32_t uid)
{
	size_t i;

	if (id == NULL || uid == 0)
		return NULL;
	i = find_id(&PRIV(id)->ix[IAM_IX_USER_BY_UID],
		    id->users, id->n_users, user_uid, uid);
	return i == SIZE_MAX ? NULL : &id->users[i];
}

const struct iam_group *
iam_identity_group(const struct iam_identity *id, const char *name)
{
	size_t i;

	if (id == NULL || name == NULL)
		return NULL;
	i = find_name(&PRIV(id)->ix[IAM_IX_GROUP_BY_NAME],
		      id->groups, id->n_groups, group_name, name);
	return i == SIZE_MAX ? NULL : &id->groups[i];
}

const struct iam_group *
iam_identity_group_by_gid(const struct iam_identity *id, uint32_t gid)
{
	size_t i;

	if (id == NULL || gid == 0)
		return NULL;
	i = find_id(&PRIV(id)->ix[IAM_IX_GROUP_BY_GID],
		    id->groups, id->n_groups, group_gid, gid);
	return i == SIZE_MAX ? NULL : &id->groups[i];
}

const struct iam_role *
iam_identity_role(const struct iam_identity *id, const char *name)
{
	size_t i;

	if (id == NULL || name == NULL)
		return NULL;
	i = find_name(&PRIV(id)->ix[IAM_IX_ROLE_BY_NAME],
		      id->roles, id->n_roles, role_name, name);
	return i == SIZE_MAX ? NULL : &id->roles[i];
}

const struct iam_named_policy *
iam_identity_policy(const struct iam_identity *id, const char *name)
{
	size_t i;

	if (id == NULL || name == NULL)
		return NULL;
	i = find_name(&PRIV(id)->ix[IAM_IX_POLICY_BY_NAME],
		      id->policies, id->n_policies, named_policy_name, name);
	return i == SIZE_MAX ? NULL : &id->policies[i];
}

/* ---- Duplicates and references --------------------------------------- */

/* Each entry whose name an earlier one has: fault the later entry. */
static void
dup_names(struct iam_faults *f, const struct iam_id_index *ix,
	  const void *base, const char *(*name)(const void *, size_t),
	  const char *arr)
{
	char path[64], q[80];

	for (size_t i = 0; i < ix->n_dups; i++) {
		const struct iam_id_dup *d = &ix->dups[i];

		snprintf(path, sizeof(path), "%s[%zu].name", arr, d->later);
		iam_fault(f, path, "%s is also the name of %s[%zu]",
			  iam_id_quote(name(base, d->prev), q, sizeof(q)), arr,
			  d->prev);
	}
}

static void
dup_ids(struct iam_faults *f, const struct iam_id_index *ix, const void *base,
	uint32_t (*id)(const void *, size_t), const char *arr,
	const char *key)
{
	char path[64];

	for (size_t i = 0; i < ix->n_dups; i++) {
		const struct iam_id_dup *d = &ix->dups[i];

		snprintf(path, sizeof(path), "%s[%zu].%s", arr, d->later, key);
		iam_fault(f, path, "%u is also the %s of %s[%zu]",
			  id(base, d->prev), key, arr, d->prev);
	}
}

static void
need_policy(const struct iam_identity *id, struct iam_faults *f,
	    const char *path, const char *name)
{
	char q[80];

	if (iam_identity_policy(id, name) == NULL)
		iam_fault(f, path, "no policy named %s in policies",
			  iam_id_quote(name, q, sizeof(q)));
}

static void
need_policies(const struct iam_identity *id, struct iam_faults *f,
	      struct iam_name_memo *pm, const char *arr, size_t i,
	      const char *const *v, size_t n)
{
	char path[96];

	for (size_t j = 0; j < n; j++) {
		if (policy_of(id, pm, v[j]) != NULL)
			continue;
		snprintf(path, sizeof(path), "%s[%zu].policies[%zu]", arr, i, j);
		need_policy(id, f, path, v[j]);
	}
}

/* The references of user i; gm, pm: memos of groups, policies. */
static void
user_refs(const struct iam_identity *id, struct iam_faults *f, size_t i,
	  struct iam_name_memo *gm, struct iam_name_memo *pm)
{
	const struct iam_user *u = &id->users[i];
	char path[96], q[80];

	if (u->primary_group != NULL && u->gid == 0 &&
	    group_of(id, gm, u->primary_group) == NULL) {
		snprintf(path, sizeof(path), "users[%zu].primary_group", i);
		iam_fault(f, path, "no group named %s in groups",
			  iam_id_quote(u->primary_group, q, sizeof(q)));
	}
	for (size_t j = 0; j < u->n_groups; j++) {
		if (group_of(id, gm, u->groups[j]) != NULL)
			continue;
		snprintf(path, sizeof(path), "users[%zu].groups[%zu]", i, j);
		iam_fault(f, path, "no group named %s in groups",
			  iam_id_quote(u->groups[j], q, sizeof(q)));
	}
	need_policies(id, f, pm, "users", i, u->policies, u->n_policies);
	if (u->permissions_boundary != NULL &&
	    iam_identity_policy(id, u->permissions_boundary) == NULL) {
		snprintf(path, sizeof(path), "users[%zu].permissions_boundary",
			 i);
		need_policy(id, f, path, u->permissions_boundary);
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- SSH keys across users ------------------------------------------ */

/* A key's creation may be this far ahead of the clock (clock skew). */
#define SSH_KEY_SKEW	86400

struct key_ref {
	const char *key;	/* the line; compared up to its comment */
	size_t user, idx;
};

static int
cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t nx = iam_ssh_key_material_len(x->key);
	size_t ny = iam_ssh_key_material_len(y->key);
	int c = memcmp(x->key, y->key, nx < ny ? nx : ny);

	if (c != 0 || nx != ny)
		return c != 0 ? c : (nx < ny ? -1 : 1);
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * One public key must not open two accounts (nor stand twice in one),
 * whatever its comment or status; and a creation time in the future
 * would stretch ssh_key_max_age_days.
 */
static void
ssh_key_checks(const struct iam_identity *id, struct iam_faults *f)
{
	struct key_ref *v;
	int64_t late = (int64_t)time(NULL) + SSH_KEY_SKEW;
	size_t n = 0, total = 0;
	char path[96], when[32];

	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		total += u->n_ssh_keys;
		for (size_t k = 0; k < u->n_ssh_keys; k++) {
			if (u->ssh_keys[k].created <= late)
				continue;
			snprintf(path, sizeof(path), "users[%zu].ssh_keys[%zu]."
				 "created", i, k);
			if (iam_format_time(u->ssh_keys[k].created, when,
					    sizeof(when)) < 0)
				snprintf(when, sizeof(when), "the time");
			iam_fault(f, path, "%s is in the future", when);
		}
	}
	if (total < 2)
		return;
	v = calloc(total, sizeof(*v));
	if (v == NULL) {
		f->oom = true;
		return;
	}
	for (size_t i = 0; i < id->n_users; i++)
		for (size_t k = 0; k < id->users[i].n_ssh_keys; k++)
			if (id->users[i].ssh_keys[k].key != NULL)
				v[n++] = (struct key_ref){
					id->users[i].ssh_keys[k].key, i, k };
	qsort(v, n, sizeof(*v), cmp_key_ref);
	for (size_t i = 1, first = 0; i < n; i++) {
		size_t m = iam_ssh_key_material_len(v[i].key);

		if (m != iam_ssh_key_material_len(v[first].key) ||
		    memcmp(v[i].key, v[first].key, m) != 0) {
			first = i;
			continue;
		}
		snprintf(path, sizeof(path), "users[%zu].ssh_keys[%zu].key",
			 v[i].user, v[i].idx);
		iam_fault(f, path, "the same key as users[%zu].ssh_keys[%zu]; "
			  "a key may appear only once",
			  v[first].user, v[first].idx);
	}
	free(v);
}

static void
model_checks(const struct iam_identity *id, struct iam_faults *f)
{
	const struct iam_id_priv *p = id->priv;
	/* none: only slower */
	struct iam_name_memo *gm = calloc(1, sizeof(*gm));
	struct iam_name_memo *pm = calloc(1, sizeof(*pm));
	char path[96];

	dup_names(f, &p->ix[IAM_IX_USER_BY_NAME], id->users, user_name,
		  "users");
	dup_ids(f, &p->ix[IAM_IX_USER_BY_UID], id->users, user_uid, "users",
		"uid");
	dup_names(f, &p->ix[IAM_IX_GROUP_BY_NAME], id->groups, group_name,
		  "groups");
	dup_ids(f, &p->ix[IAM_IX_GROUP_BY_GID], id->groups, group_gid,
		"groups", "gid");
	dup_names(f, &p->ix[IAM_IX_ROLE_BY_NAME], id->roles, role_name,
		  "roles");
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		user_refs(id, f, i, gm, pm);
		if (u->uid != 0 && id->n_retired > 0 &&
		    bsearch(&u->uid, id->retired_ids,
					   id->n_retired, sizeof(uint32_t),
					   cmp_u32) != NULL) {
			snprintf(path, sizeof(path), "users[%zu].uid", i);
			iam_fault(f, path, "%u is a retired id (retired_ids) "
				  "and is never handed out again", u->uid);
		}
	}
	for (size_t i = 0; i < id->n_groups; i++)
		need_policies(id, f, pm, "groups", i, id->groups[i].policies,
			      id->groups[i].n_policies);
	for (size_t i = 0; i < id->n_roles; i++)
		need_policies(id, f, pm, "roles", i, id->roles[i].policies,
			      id->roles[i].n_policies);
	free(gm);
	free(pm);
	ssh_key_checks(id, f);
}

/* ---- The host's own accounts ----------------------------------------- */

struct host_ent {
	char *name;
	uint64_t start, count;	/* id, 1; or a subordinate range */
};

/*
 * A name's sign, from its length and its first and last bytes: the
 * host's few names set few of the bits, so most IAM names are told
 * apart from all of them without a search.
 */
#define NAME_SIGNS 8192

static inline size_t
name_sign(const char *s)
{
	size_t n = strlen(s);
	unsigned char a = n ? (unsigned char)s[0] : 0,
		      z = n ? (unsigned char)s[n - 1] : 0;

	return ((size_t)a * 131 + z * 7 + n) % NAME_SIGNS;
}

struct host_file {
	char path[4096];
	struct host_ent *v;
	size_t n, alloc;
	struct host_ent **by_name;	/* sorted views of v */
	struct host_ent **by_start;
	uint64_t max_count;		/* the widest range of v */
	/* name_sign() of every name: a name whose bit is clear is not one */
	uint64_t signs[NAME_SIGNS / 64];
};

static int
cmp_ent_name(const void *a, const void *b)
{
	return strcmp((*(struct host_ent *const *)a)->name,
		      (*(struct host_ent *const *)b)->name);
}

static int
cmp_ent_start(const void *a, const void *b)
{
	const struct host_ent *x = *(struct host_ent *const *)a;
	const struct host_ent *y = *(struct host_ent *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void
host_release(struct host_file *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	free(h->by_name);
	free(h->by_start);
}

/* "name:x:id:..." (passwd, group) or "owner:start:count" (subuid). */
static int
host_line(struct host_file *h, char *line, bool sub)
{
	char *field[4] = { NULL };
	long long a, b = 1;
	size_t k = 0;

	if (line[0] == '\0' || line[0] == '#' || line[0] == '+' ||
	    line[0] == '-')
		return 0;
	for (char *s = line; k < 4 && s != NULL; k++) {
		field[k] = s;
		s = strchr(s, ':');
		if (s != NULL)
			*s++ = '\0';
	}
	if (sub ? (k < 3 || iam_parse_ll(field[1], 0, UINT32_MAX, &a) < 0 ||
		   iam_parse_ll(field[2], 1, UINT32_MAX, &b) < 0)
		: (k < 3 || iam_parse_ll(field[2], 0, UINT32_MAX, &a) < 0))
		a = -1;	/* no usable id: the name still counts */
	if (h->n == h->alloc) {
		size_t alloc = h->alloc ? h->alloc * 2 : 64;
		struct host_ent *v;

		if (h->n >= HOST_MAX_LINES)
			return -E2BIG;
		v = reallocarray(h->v, alloc, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		h->v = v;
		h->alloc = alloc;
	}
	h->v[h->n].name = strdup(field[0]);
	if (h->v[h->n].name == NULL)
		return -ENOMEM;
	h->v[h->n].start = a < 0 ? UINT64_MAX : (uint64_t)a;
	h->v[h->n].count = a < 0 ? 0 : (uint64_t)b;
	h->n++;
	return 0;
}

/*
 * Read HOST_ROOT/file.  A missing file has no entries; one that cannot be
 * read is a fault, so validation fails closed.
 */
static int
host_load(struct host_file *h, const char *root, const char *file, bool sub,
	  struct iam_faults *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int r = 0;

	if (root == NULL || strcmp(root, "/") == 0)
		root = "";
	if (iam_snprintf(h->path, sizeof(h->path), "%s%s", root, file) < 0) {
		iam_fault(f, NULL, "%s%s: path too long", root, file);
		return 0;
	}
	fp = fopen(h->path, "re");
	if (fp == NULL) {
		if (errno != ENOENT)
			iam_fault(f, NULL, "%s: cannot read: %s", h->path,
				  strerror(errno));
		return errno == ENOMEM ? -ENOMEM : 0;
	}
	while (r == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		r = host_line(h, line, sub);
	}
	if (r == 0 && ferror(fp))
		iam_fault(f, NULL, "%s: cannot read", h->path);
	fclose(fp);
	free(line);
	if (r == -E2BIG) {
		iam_fault(f, NULL, "%s: more than %d entries", h->path,
			  HOST_MAX_LINES);
		r = 0;
	}
	if (r < 0)
		return r;
	h->by_name = reallocarray(NULL, h->n ? h->n : 1, sizeof(*h->by_name));
	h->by_start = reallocarray(NULL, h->n ? h->n : 1, sizeof(*h->by_start));
	if (h->by_name == NULL || h->by_start == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++) {
		size_t sign = h->v[i].name != NULL ? name_sign(h->v[i].name) : 0;

		h->by_name[i] = h->by_start[i] = &h->v[i];
		if (h->v[i].count > h->max_count)
			h->max_count = h->v[i].count;
		h->signs[sign / 64] |= 1ULL << (sign % 64);
	}
	qsort(h->by_name, h->n, sizeof(*h->by_name), cmp_ent_name);
	qsort(h->by_start, h->n, sizeof(*h->by_start), cmp_ent_start);
	return 0;
}

static const struct host_ent *
host_by_name(const struct host_file *h, const char *name)
{
	struct host_ent key = { .name = (char *)name }, *kp = &key, **e;

	size_t sign = name_sign(name);

	if (h->n == 0 || !(h->signs[sign / 64] >> (sign % 64) & 1))
		return NULL;
	e = bsearch(&kp, h->by_name, h->n, sizeof(*h->by_name), cmp_ent_name);
	return e != NULL ? *e : NULL;
}

/* An entry whose [start, start + count) holds id, or NULL. */
static const struct host_ent *
host_by_id(const struct host_file *h, uint32_t id)
{
	size_t lo = 0, hi = h->n;

	/* The last entry starting at or below id, then look back. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->by_start[mid]->start <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0) {
		const struct host_ent *e = h->by_start[lo];

		if (e->start != UINT64_MAX && id - e->start < e->count)
			return e;
		/* Starts only go down from here: no range reaches id. */
		if (e->start != UINT64_MAX && id - e->start >= h->max_count)
			break;
	}
	return NULL;
}

enum { H_PASSWD, H_GROUP, H_SUBUID, H_SUBGID, H_N };

static void
host_name_check(struct host_file *h, struct iam_faults *f, const char *arr,
		size_t i, const char *name)
{
	static const char *const what[] = { "local account", "local group" };
	char path[64], q[80];

	for (int k = H_PASSWD; k <= H_GROUP && name != NULL; k++) {
		if (host_by_name(&h[k], name) == NULL)
			continue;
		snprintf(path, sizeof(path), "%s[%zu].name", arr, i);
		iam_fault(f, path, "%s is a %s in %s",
			  iam_id_quote(name, q, sizeof(q)), what[k],
			  h[k].path);
	}
}

static void
host_id_check(struct host_file *h, struct iam_faults *f, const char *arr,
	      size_t i, const char *key, uint32_t id, int local, int sub)
{
	const struct host_ent *e;
	char path[64], q[80];

	if (id == 0)
		return;
	/* The path is formatted only for a fault: this runs for every id. */
	e = host_by_id(&h[local], id);
	if (e != NULL || host_by_id(&h[sub], id) != NULL)
		snprintf(path, sizeof(path), "%s[%zu].%s", arr, i, key);
	if (e != NULL)
		iam_fault(f, path, "%u is the %s of %s %s in %s", id, key,
			  local == H_PASSWD ? "local account" : "local group",
			  iam_id_quote(e->name, q, sizeof(q)), h[local].path);
	e = host_by_id(&h[sub], id);
	if (e != NULL)
		iam_fault(f, path, "%u lies in the subordinate id range "
			  "%llu-%llu of %s in %s", id,
			  (unsigned long long)e->start,
			  (unsigned long long)(e->start + e->count - 1),
			  iam_id_quote(e->name, q, sizeof(q)), h[sub].path);
}

static int
host_checks(const struct iam_identity *id, const char *root,
	    struct iam_faults *f)
{
	static const char *const files[H_N] = {
		"/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid" };
	struct host_file h[H_N];
	int r = 0;

	memset(h, 0, sizeof(h));
	for (int k = 0; k < H_N && r == 0; k++)
		r = host_load(&h[k], root, files[k], k >= H_SUBUID, f);
	for (size_t i = 0; r == 0 && i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		host_name_check(h, f, "users", i, u->name);
		host_id_check(h, f, "users", i, "uid", u->uid, H_PASSWD,
			      H_SUBUID);
	}
	for (size_t i = 0; r == 0 && i < id->n_groups; i++) {
		const struct iam_group *g = &id->groups[i];

		host_name_check(h, f, "groups", i, g->name);
		host_id_check(h, f, "groups", i, "gid", g->gid, H_GROUP,
			      H_SUBGID);
	}
	for (int k = 0; k < H_N; k++)
		host_release(&h[k]);
	return r;
}

int
iam_id_cross_check(const struct iam_identity *id, const struct iam_config *cfg,
		   const char *host_root, struct iam_faults *faults)
{
	(void)cfg;
	model_checks(id, faults);
	return host_checks(id, host_root, faults);
}
