/*
 * fleet_model.c - the identity as etcd objects: sets of (key, value),
 * the canonical split of a validated identity, the assembly of an
 * identity file from objects, and the root hash over them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fleet.h"

/* ---- Object sets ------------------------------------------------------ */

int
fleet_set_add(struct fleet_set *s, const char *key, const char *val,
	      size_t len, int64_t mod_rev)
{
	struct fleet_obj *o;

	if (strlen(key) > FLEET_MAX_KEY || len > FLEET_MAX_OBJECT ||
	    s->n >= FLEET_MAX_OBJECTS)
		return -E2BIG;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 64;
		struct fleet_obj *nv = reallocarray(s->v, na, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->alloc = na;
	}
	o = &s->v[s->n];
	o->key = strdup(key);
	o->val = malloc(len + 1);
	if (o->key == NULL || o->val == NULL) {
		free(o->key);
		free(o->val);
		return -ENOMEM;
	}
	memcpy(o->val, val, len);
	o->val[len] = '\0';
	o->len = len;
	o->mod_rev = mod_rev;
	crypto_hash_sha256(o->hash, (const unsigned char *)val, len);
	s->n++;
	return 0;
}

static int
obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fleet_obj *)a)->key,
		      ((const struct fleet_obj *)b)->key);
}

int
fleet_set_sort(struct fleet_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), obj_cmp);
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->v[i - 1].key, s->v[i].key) == 0)
			return -EEXIST;
	return 0;
}

static size_t
set_lower_bound(const struct fleet_set *s, const char *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct fleet_obj *
fleet_set_find(const struct fleet_set *s, const char *key)
{
	size_t i = set_lower_bound(s, key);

	if (i < s->n && strcmp(s->v[i].key, key) == 0)
		return &s->v[i];
	return NULL;
}

void
fleet_set_del(struct fleet_set *s, const char *key)
{
	size_t i = set_lower_bound(s, key);

	if (i >= s->n || strcmp(s->v[i].key, key) != 0)
		return;
	free(s->v[i].key);
	iam_wipe(s->v[i].val, s->v[i].len);
	free(s->v[i].val);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

int
fleet_set_put(struct fleet_set *s, const char *key, const char *val,
	      size_t len, int64_t mod_rev)
{
	struct fleet_obj tmp;
	size_t i = set_lower_bound(s, key);
	int r;

	if (i < s->n && strcmp(s->v[i].key, key) == 0) {
		char *nv = malloc(len + 1);

		if (nv == NULL)
			return -ENOMEM;
		if (len > FLEET_MAX_OBJECT) {
			free(nv);
			return -E2BIG;
		}
		memcpy(nv, val, len);
		nv[len] = '\0';
		iam_wipe(s->v[i].val, s->v[i].len);
		free(s->v[i].val);
		s->v[i].val = nv;
		s->v[i].len = len;
		s->v[i].mod_rev = mod_rev;
		crypto_hash_sha256(s->v[i].hash, (const unsigned char *)nv, len);
		return 0;
	}
	r = fleet_set_add(s, key, val, len, mod_rev);
	if (r < 0)
		return r;
	tmp = s->v[s->n - 1];
	memmove(&s->v[i + 1], &s->v[i], (s->n - 1 - i) * sizeof(*s->v));
	s->v[i] = tmp;
	return 0;
}

void
fleet_set_release(struct fleet_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		iam_wipe(s->v[i].val, s->v[i].len);
		free(s->v[i].val);
	}
	free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}

/* ---- Keys -------------------------------------------------------------- */

static const char *const kinds[] = { "users/", "groups/", "roles/",
				     "policies/", "hosts/" };

bool
fleet_key_covered(const char *rel)
{
	if (strcmp(rel, "account") == 0)
		return true;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(rel, kinds[i], strlen(kinds[i])) == 0)
			return true;
	return false;
}

/* Role, policy and host names: [A-Za-z0-9+=,.@_-]{1,128}. */
static bool
wide_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789+=,.@_-") == n;
}

int
fleet_key_check(const char *rel, char *err, size_t errlen)
{
	if (strlen(rel) > FLEET_MAX_KEY) {
		snprintf(err, errlen, "key of %zu bytes is too long", strlen(rel));
		return -EINVAL;
	}
	if (strcmp(rel, "account") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *name = rel + strlen(kinds[i]);

		if (strncmp(rel, kinds[i], strlen(kinds[i])) != 0)
			continue;
		if (i < 2 ? iam_name_valid(name) : wide_name_valid(name))
			return 0;
		snprintf(err, errlen, "\"%s\": not a valid name", rel);
		return -EINVAL;
	}
	snprintf(err, errlen, "\"%s\": not a kind of object the fleet knows", rel);
	return -EINVAL;
}

/* ---- Split ------------------------------------------------------------- */

static int
add_json(struct fleet_set *out, const char *key, const struct iam_json *v)
{
	struct iam_buf b = IAM_BUF_INIT;
	int r = iam_json_write(v, &b);

	if (r == 0)
		r = fleet_set_add(out, key, b.buf ? b.buf : "", b.len, 0);
	iam_buf_wipe(&b);
	return r;
}

static int
split_named(const struct iam_json *arr, const char *kind, struct fleet_set *out,
	    char *err, size_t errlen)
{
	char key[FLEET_MAX_KEY + 1];
	int r;

	for (size_t i = 0; i < arr->len; i++) {
		const struct iam_json *it = &arr->u.items[i];
		const struct iam_json *name = iam_json_get(it, "name");
		const struct iam_json *mfa = iam_json_get(it, "mfa");

		if (name == NULL || name->type != IAM_JSON_STRING)
			return -EINVAL;
		if (mfa != NULL && iam_json_get(mfa, "secret") != NULL) {
			snprintf(err, errlen, "%s[%zu] (%s): an MFA secret is "
				 "never pushed in the clear; enrol the device "
				 "on a host instead", kind, i, name->u.string);
			return -EPERM;
		}
		if (iam_snprintf(key, sizeof(key), "%s/%s", kind,
				 name->u.string) < 0)
			return -E2BIG;
		r = add_json(out, key, it);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool
is_collection(const char *k)
{
	return strcmp(k, "users") == 0 || strcmp(k, "groups") == 0 ||
	       strcmp(k, "roles") == 0 || strcmp(k, "policies") == 0;
}

static int
split_root(const struct iam_json *root, struct fleet_set *out, char *err,
	   size_t errlen)
{
	struct iam_json account = { .type = IAM_JSON_OBJECT };
	struct iam_json_member *m;
	char key[FLEET_MAX_KEY + 1];
	int r = 0;

	m = calloc(root->len ? root->len : 1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	account.u.members = m;
	for (size_t i = 0; i < root->len && r == 0; i++) {
		const struct iam_json_member *mb = &root->u.members[i];
		const struct iam_json *v = &mb->value;

		if (!is_collection(mb->key)) {
			m[account.len++] = *mb;
		} else if (strcmp(mb->key, "policies") == 0) {
			for (size_t p = 0; p < v->len && r == 0; p++) {
				r = iam_snprintf(key, sizeof(key), "policies/%s",
						 v->u.members[p].key);
				if (r == 0)
					r = add_json(out, key,
						     &v->u.members[p].value);
			}
		} else if (v->type == IAM_JSON_ARRAY) {
			r = split_named(v, strcmp(mb->key, "users") == 0 ?
					"users" : strcmp(mb->key, "groups") == 0 ?
					"groups" : "roles", out, err, errlen);
		}
	}
	if (r == 0)
		r = add_json(out, "account", &account);
	free(m);
	return r;
}

void
fleet_identity_limits(const struct iam_config *cfg, size_t len,
		      struct iam_json_limits *ret)
{
	iam_identity_json_limits(cfg, ret);
	if (ret->max_bytes < len)
		ret->max_bytes = len;
}

int
fleet_split_identity(const struct iam_config *cfg,
		     const struct iam_identity *id, struct fleet_set *out,
		     char *err, size_t errlen)
{
	struct iam_buf text = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	struct iam_json_limits lim;
	int r;

	r = iam_identity_write(id, &text);
	fleet_identity_limits(cfg, text.len, &lim);
	if (r == 0)
		r = iam_json_parse(text.buf, text.len, &lim, &doc, err, errlen);
	if (r == 0 && iam_json_root(doc)->type != IAM_JSON_OBJECT)
		r = -EINVAL;
	if (r == 0)
		r = split_root(iam_json_root(doc), out, err, errlen);
	if (r < 0 && r != -EPERM && err[0] == '\0')
		snprintf(err, errlen, "the identity cannot be split into "
			 "objects: %s", strerror(-r));
	iam_json_free(doc);
	iam_buf_wipe(&text);
	return r;
}

/* ---- Assemble ----------------------------------------------------------- */

static const struct iam_json_limits object_limits = {
	.max_bytes = FLEET_MAX_OBJECT,
	.max_depth = 32,
	.max_string = 64u << 10,
	.max_items = 100000,
};

/* Parse the value of o strictly; it must be an object. */
static int
parse_object(const struct fleet_obj *o, struct iam_json_doc **ret,
	     char *err, size_t errlen)
{
	char why[256];
	int r;

	why[0] = '\0';
	r = iam_json_parse(o->val, o->len, &object_limits, ret, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", o->key, why[0] ? why : strerror(-r));
		return -EINVAL;
	}
	if (iam_json_root(*ret)->type != IAM_JSON_OBJECT) {
		*ret = iam_json_free(*ret);
		snprintf(err, errlen, "%s: not a JSON object", o->key);
		return -EINVAL;
	}
	return 0;
}

int
fleet_json_string(struct iam_buf *out, const char *s)
{
	struct iam_json v = { .type = IAM_JSON_STRING, .len = strlen(s) };

	v.u.string = s;
	return iam_json_write(&v, out);
}

static int
assemble_account(const struct fleet_set *s, struct iam_buf *out, char *err,
		 size_t errlen)
{
	const struct fleet_obj *o = fleet_set_find(s, "account");
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	int r;

	if (o == NULL) {
		snprintf(err, errlen, "account: missing");
		return -EINVAL;
	}
	r = parse_object(o, &doc, err, errlen);
	if (r < 0)
		return r;
	root = iam_json_root(doc);
	r = iam_buf_adds(out, "{");
	for (size_t i = 0; i < root->len && r == 0; i++) {
		if (is_collection(root->u.members[i].key)) {
			snprintf(err, errlen, "account: holds \"%s\"",
				 root->u.members[i].key);
			r = -EINVAL;
			break;
		}
		if (i > 0)
			r = iam_buf_adds(out, ",");
		if (r == 0)
			r = fleet_json_string(out, root->u.members[i].key);
		if (r == 0)
			r = iam_buf_adds(out, ":");
		if (r == 0)
			r = iam_json_write(&root->u.members[i].value, out);
	}
	iam_json_free(doc);
	return r;
}

/*
 * One object of a kind: parse, check its name, and write it again from
 * its tree (never its raw text, which the parser may have read only in
 * part).
 */
static int
assemble_one(const struct fleet_obj *o, const char *name, bool by_key,
	     bool first, struct iam_buf *out, char *err, size_t errlen)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *n;
	int r;

	r = fleet_key_check(o->key, err, errlen);
	if (r < 0)
		return r;
	r = parse_object(o, &doc, err, errlen);
	if (r < 0)
		return r;
	n = iam_json_get(iam_json_root(doc), "name");
	if (!by_key && (n == NULL || n->type != IAM_JSON_STRING ||
			strcmp(n->u.string, name) != 0)) {
		snprintf(err, errlen, "%s: its \"name\" is not \"%s\"", o->key,
			 name);
		iam_json_free(doc);
		return -EINVAL;
	}
	r = first ? 0 : iam_buf_adds(out, ",");
	if (r == 0 && by_key) {
		r = fleet_json_string(out, name);
		if (r == 0)
			r = iam_buf_adds(out, ":");
	}
	if (r == 0)
		r = iam_json_write(iam_json_root(doc), out);
	iam_json_free(doc);
	return r;
}

static int
assemble_kind(const struct fleet_set *s, const char *kind, struct iam_buf *out,
	      char *err, size_t errlen)
{
	bool by_key = strcmp(kind, "policies") == 0;
	size_t klen = strlen(kind);
	bool first = true;
	int r;

	r = iam_buf_addf(out, ",\"%s\":%s", kind, by_key ? "{" : "[");
	for (size_t i = 0; i < s->n && r == 0; i++) {
		const char *k = s->v[i].key;

		if (strncmp(k, kind, klen) != 0 || k[klen] != '/')
			continue;
		r = assemble_one(&s->v[i], k + klen + 1, by_key, first, out,
				 err, errlen);
		first = false;
	}
	if (r == 0)
		r = iam_buf_adds(out, by_key ? "}" : "]");
	return r;
}

int
fleet_assemble(const struct fleet_set *s, struct iam_buf *out, char *err,
	       size_t errlen)
{
	static const char *const order[] = { "users", "groups", "roles",
					     "policies" };
	int r;

	err[0] = '\0';
	r = assemble_account(s, out, err, errlen);
	if (r == 0 && out->len > 0 && out->buf[out->len - 1] == '{') {
		snprintf(err, errlen, "account: empty");
		r = -EINVAL;
	}
	for (size_t i = 0; i < 4 && r == 0; i++)
		r = assemble_kind(s, order[i], out, err, errlen);
	if (r == 0)
		r = iam_buf_adds(out, "}\n");
	if (r < 0 && err[0] == '\0')
		snprintf(err, errlen, "the objects cannot be assembled: %s",
			 strerror(-r));
	return r;
}

/* ---- Root hash ----------------------------------------------------------- */

void
fleet_root_hash(const struct fleet_set *s, uint8_t root[FLEET_HASH_BYTES],
		uint64_t *ret_count)
{
	crypto_hash_sha256_state st;
	uint64_t n = 0;

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < s->n; i++) {
		if (!fleet_key_covered(s->v[i].key))
			continue;
		crypto_hash_sha256_update(&st, (const unsigned char *)s->v[i].key,
					  strlen(s->v[i].key) + 1);
		crypto_hash_sha256_update(&st, s->v[i].hash, sizeof(s->v[i].hash));
		n++;
	}
	crypto_hash_sha256_final(&st, root);
	if (ret_count != NULL)
		*ret_count = n;
}
