/*
 * request.c - requests: the action, the resource and the context keys of
 * one question to the policy engine, with the hashes the index of a set
 * is looked up by (FNV-1a, keys case-folded).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "policy_int.h"
#include "util_int.h"

/* ---- Hashing (FNV-1a of fnv.h; keys case-folded) ----------------------- */

/* ASCII lower case, whatever the locale (key names are ASCII). */
static inline unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline uint64_t
fnv_fold(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= ascii_lower((unsigned char)s[i]);
		h *= IAM_FNV1A_PRIME;
	}
	return h;
}

uint64_t
iam_key_hash(const char *s, size_t n)
{
	return fnv_fold(IAM_FNV1A_OFFSET, s, n);
}

uint64_t
iam_index_hash(int kind, const char *action, size_t alen, const char *res,
	   size_t rlen)
{
	uint64_t h = IAM_FNV1A_OFFSET ^ (uint64_t)kind;

	h = fnv_fold(h * IAM_FNV1A_PRIME, action, alen);
	h = (h ^ 0xff) * IAM_FNV1A_PRIME;
	return res != NULL ? iam_fnv1a_more(h, res, rlen) : h;
}

/* ---- Requests ------------------------------------------------------------------ */

/* A block of a request's strings and value lists. */
#define REQ_BLOCK	2048

static void *
req_alloc_block(struct iam_request *req, size_t n)
{
	struct iam_block *b;

	b = iam_block_push(&req->blocks, n > REQ_BLOCK ? n : REQ_BLOCK);
	if (b == NULL)
		return NULL;
	b->used = n;
	return b->data;
}

/* n bytes owned by req, aligned for any pointer; NULL when out of memory. */
static inline void *
req_alloc(struct iam_request *req, size_t n)
{
	struct iam_block *b = req->blocks;
	void *p;

	n = (n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
	if (b == NULL || b->size - b->used < n)
		return req_alloc_block(req, n);
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}


static char *
req_strndup(struct iam_request *req, const char *s, size_t n)
{
	return iam_copy_string(req_alloc(req, n + 1), s, n);
}

static bool
request_action_valid(const char *a)
{
	const char *colon = strchr(a, ':');

	if (colon == NULL || colon == a || colon[1] == '\0' ||
	    strchr(colon + 1, ':') != NULL)
		return false;
	for (; *a != '\0'; a++)
		if (!isalnum((unsigned char)*a) && *a != ':' && *a != '-' &&
		    *a != '_' && *a != '.')
			return false;
	return true;
}

int
iam_request_new(const char *action, const char *resource,
		struct iam_request **ret_req)
{
	struct iam_request *r;
	size_t al, rl;

	if (action == NULL || resource == NULL || ret_req == NULL)
		return -EINVAL;
	al = strnlen(action, IAM_REQUEST_MAX_ACTION + 1);
	rl = strnlen(resource, IAM_REQUEST_MAX_RESOURCE + 1);
	if (al > IAM_REQUEST_MAX_ACTION || rl > IAM_REQUEST_MAX_RESOURCE ||
	    rl == 0 || !request_action_valid(action))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->action = req_strndup(r, action, al);
	r->resource = req_strndup(r, resource, rl);
	if (r->action == NULL || r->resource == NULL) {
		iam_request_free(r);
		return -ENOMEM;
	}
	r->action_len = al;
	r->resource_len = rl;
	r->service_len = (size_t)(strchr(action, ':') - action);
	r->h_exact = iam_index_hash(K_EXACT, action, al, resource, rl);
	r->h_action = iam_index_hash(K_ACTION, action, al, NULL, 0);
	r->h_service = iam_index_hash(K_SERVICE, action, r->service_len, NULL, 0);
	*ret_req = r;
	return 0;
}

/* ASCII case-insensitive equality of n bytes, whatever the locale. */
static inline bool
fold_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y && ascii_lower(x) != ascii_lower(y))
			return false;
	}
	return true;
}

/*
 * The slot holding key (len bytes, any case, hash its folded hash), or
 * the empty slot where it would go.
 */
static size_t
find_slot(const struct iam_request *req, uint64_t hash, const char *key,
	  size_t len)
{
	for (size_t i = iam_req_slot0(hash);; i = (i + 1) & (REQ_SLOTS - 1)) {
		const struct ctxkey *k;

		if (req->slot[i] == 0)
			return i;
		k = &req->keys[req->slot[i] - 1];
		if (k->hash == hash && k->len == len && fold_eq(k->lc, key, len))
			return i;
	}
}

const struct ctxkey *
iam_request_find(const struct iam_request *req, uint64_t hash,
		 const char *key, size_t len)
{
	size_t i = find_slot(req, hash, key, len);

	return req->slot[i] == 0 ? NULL : &req->keys[req->slot[i] - 1];
}

static int
add_value(struct iam_request *req, struct ctxkey *k, const char *value,
	  size_t vl)
{
	char **v;
	uint32_t *l;

	if (k->n >= IAM_REQUEST_MAX_VALUES)
		return -E2BIG;
	if (k->n + 1 >= k->alloc) {
		/* a list that grows moves to a larger one; the old stays put */
		size_t alloc = k->alloc > 2 ? k->alloc * 2 : 4;

		v = req_alloc(req, alloc * sizeof(*v));
		l = req_alloc(req, alloc * sizeof(*l));
		if (v == NULL || l == NULL)
			return -ENOMEM;
		memcpy(v, k->values, (k->n + 1) * sizeof(*v));
		if (k->n > 0)
			memcpy(l, k->lens, k->n * sizeof(*l));
		k->values = v;
		k->lens = l;
		k->alloc = alloc;
	}
	k->values[k->n] = req_strndup(req, value, vl);
	if (k->values[k->n] == NULL)
		return -ENOMEM;
	k->lens[k->n] = (uint32_t)vl;
	k->values[++k->n] = NULL;
	return 0;
}

/*
 * Drop the newest key, which was just created and holds no value yet
 * (its bytes stay in the request's blocks until it is freed).
 */
static void
drop_new_key(struct iam_request *req, size_t slot)
{
	req->slot[slot] = 0;
	req->n_keys--;
}

/*
 * The key named key (kl bytes, checked), created without values when
 * absent: *ret_slot is then its slot and *ret_new true.
 */
static int
find_or_create_key(struct iam_request *req, const char *key, size_t kl,
		   struct ctxkey **ret, size_t *ret_slot, bool *ret_new)
{
	char lc[IAM_REQUEST_MAX_KEY + 1];
	uint64_t h = IAM_FNV1A_OFFSET;
	size_t slot;
	struct ctxkey *k;

	/* iam_key_hash(), folding into lc on the way */
	for (size_t i = 0; i < kl; i++) {
		lc[i] = (char)ascii_lower((unsigned char)key[i]);
		h = (h ^ (unsigned char)lc[i]) * IAM_FNV1A_PRIME;
	}
	slot = find_slot(req, h, key, kl);

	*ret_slot = slot;
	*ret_new = false;
	if (req->slot[slot] != 0) {
		*ret = &req->keys[req->slot[slot] - 1];
		return 0;
	}
	if (req->n_keys >= IAM_REQUEST_MAX_KEYS)
		return -E2BIG;
	if (req->n_keys == req->alloc) {
		/* a larger array in the blocks; the old one stays put */
		size_t alloc = req->alloc ? req->alloc * 2 : 32;
		struct ctxkey *v = req_alloc(req, alloc * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		if (req->n_keys > 0)
			memcpy(v, req->keys, req->n_keys * sizeof(*v));
		req->keys = v;
		req->alloc = alloc;
	}
	k = &req->keys[req->n_keys];
	memset(k, 0, sizeof(*k));
	k->values = req_alloc(req, sizeof(*k->values) + 2 * (kl + 1));
	if (k->values == NULL)
		return -ENOMEM;
	k->values[0] = NULL;
	k->alloc = 1;
	k->name = (char *)(k->values + 1);
	k->lc = k->name + kl + 1;
	memcpy(k->name, key, kl);
	k->name[kl] = '\0';
	memcpy(k->lc, lc, kl);
	k->lc[kl] = '\0';
	k->len = kl;
	k->hash = h;
	req->n_keys++;
	req->slot[slot] = (uint16_t)req->n_keys;
	*ret = k;
	*ret_new = true;
	return 0;
}

/* A key's length: -EINVAL when it is NULL or empty, -E2BIG over the cap. */
static int
key_length(const char *key, size_t *ret)
{
	if (key == NULL)
		return -EINVAL;
	*ret = strnlen(key, IAM_REQUEST_MAX_KEY + 1);
	if (*ret == 0)
		return -EINVAL;
	return *ret > IAM_REQUEST_MAX_KEY ? -E2BIG : 0;
}

int
iam_request_add(struct iam_request *req, const char *key, const char *value)
{
	size_t kl, vl, slot;
	struct ctxkey *k;
	bool created;
	int r;

	if (req == NULL || key == NULL || value == NULL)
		return -EINVAL;
	kl = strnlen(key, IAM_REQUEST_MAX_KEY + 1);
	vl = strnlen(value, IAM_REQUEST_MAX_VALUE + 1);
	if (kl == 0 || vl == 0)
		return -EINVAL;
	if (kl > IAM_REQUEST_MAX_KEY || vl > IAM_REQUEST_MAX_VALUE)
		return -E2BIG;
	r = find_or_create_key(req, key, kl, &k, &slot, &created);
	if (r < 0)
		return r;
	r = add_value(req, k, value, vl);
	/* A key this call created is kept only with its value. */
	if (r < 0 && created)
		drop_new_key(req, slot);
	return r;
}

/* Add values to key (replace: instead of its values); all checked first. */
static int
put_values(struct iam_request *req, const char *key,
	   const char *const *values, size_t n, bool replace)
{
	size_t kl, slot;
	struct ctxkey *k;
	bool created;
	int r;

	if (req == NULL || (values == NULL && n > 0))
		return -EINVAL;
	r = key_length(key, &kl);
	if (r < 0)
		return r;
	if (n > IAM_REQUEST_MAX_VALUES)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (values[i] == NULL)
			return -EINVAL;
		if (strnlen(values[i], IAM_REQUEST_MAX_VALUE + 1) >
		    IAM_REQUEST_MAX_VALUE)
			return -E2BIG;
	}
	r = find_or_create_key(req, key, kl, &k, &slot, &created);
	if (r == 0 && replace) {
		k->n = 0;
		k->values[0] = NULL;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_value(req, k, values[i], strlen(values[i]));
	if (r < 0 && created)
		drop_new_key(req, slot);
	return r;
}

int
iam_request_add_values(struct iam_request *req, const char *key,
		       const char *const *values, size_t n)
{
	return put_values(req, key, values, n, false);
}

int
iam_request_set_values(struct iam_request *req, const char *key,
		       const char *const *values, size_t n)
{
	return put_values(req, key, values, n, true);
}

size_t
iam_request_get(const struct iam_request *req, const char *key,
		const char *const **ret_values)
{
	size_t n = strnlen(key, IAM_REQUEST_MAX_KEY + 1);
	const struct ctxkey *k;

	if (n > IAM_REQUEST_MAX_KEY)
		return 0;
	k = iam_request_find(req, iam_key_hash(key, n), key, n);
	if (k == NULL)
		return 0;
	*ret_values = (const char *const *)k->values;
	return k->n;
}

const char *
iam_request_action(const struct iam_request *req)
{
	return req->action;
}

const char *
iam_request_resource(const struct iam_request *req)
{
	return req->resource;
}

struct iam_request *
iam_request_free(struct iam_request *req)
{
	if (req != NULL)
		iam_blocks_free(req->blocks, false);
	free(req);
	return NULL;
}
