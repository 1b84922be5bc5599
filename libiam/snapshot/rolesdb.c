/*
 * rolesdb.c - the private role snapshot auth/roles.db (iam/rolesdb.h):
 * built from the identity at publication, and one role looked up by
 * bisecting the mapped file and parsing one line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "iam/rolesdb.h"
#include "util_int.h"

#define ROLESDB_MAGIC	IAM_ROLESDB_MAGIC

/* ---- The role snapshot: building -------------------------------------- */

static int
put_counted_string(struct iam_buf *b, const char *s)
{
	struct iam_json v = { .type = IAM_JSON_STRING, .len = strlen(s) };

	v.u.string = s;
	return iam_json_write(&v, b);
}

/* Managed policies sorted by name, for lookups while building. */
struct by_name {
	const struct iam_named_policy **v;
	size_t n;
};

static int
cmp_policy(const void *a, const void *b)
{
	const struct iam_named_policy *x = *(const struct iam_named_policy *const *)a;
	const struct iam_named_policy *y = *(const struct iam_named_policy *const *)b;

	return strcmp(x->name, y->name);
}

static int
by_name_build(struct by_name *x, const struct iam_identity *id)
{
	x->n = 0;
	x->v = calloc(id->n_policies ? id->n_policies : 1, sizeof(*x->v));
	if (x->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < id->n_policies; i++)
		if (id->policies[i].name != NULL)
			x->v[x->n++] = &id->policies[i];
	qsort(x->v, x->n, sizeof(*x->v), cmp_policy);
	return 0;
}

static const struct iam_named_policy *
by_name_find(const struct by_name *x, const char *name)
{
	struct iam_named_policy key = { .name = name };
	const struct iam_named_policy *k = &key, *const *hit;

	hit = bsearch(&k, x->v, x->n, sizeof(*x->v), cmp_policy);
	return hit != NULL ? *hit : NULL;
}

static int
add_role(struct iam_buf *b, const struct by_name *pols,
	 const struct iam_role *role)
{
	int r;

	if (role->name == NULL || role->trust_policy.doc == NULL)
		return -EINVAL;
	r = iam_buf_adds(b, "{\"name\":");
	r = r ? r : put_counted_string(b, role->name);
	r = r ? r : iam_buf_addf(b, ",\"max_session_seconds\":%" PRIu32
				 ",\"tags\":{", role->max_session_seconds);
	for (size_t i = 0; r == 0 && i < role->tags.n; i++) {
		r = i ? iam_buf_adds(b, ",") : 0;
		r = r ? r : put_counted_string(b, role->tags.v[i].key);
		r = r ? r : iam_buf_adds(b, ":");
		r = r ? r : put_counted_string(b, role->tags.v[i].value);
	}
	r = r ? r : iam_buf_adds(b, "},\"trust_policy\":");
	r = r ? r : iam_json_write(role->trust_policy.doc, b);
	r = r ? r : iam_buf_adds(b, ",\"policies\":[");
	for (size_t i = 0; r == 0 && i < role->n_policies; i++) {
		const struct iam_named_policy *p;

		p = by_name_find(pols, role->policies[i]);
		if (p == NULL || p->doc == NULL)
			return -EINVAL;
		r = i ? iam_buf_adds(b, ",") : 0;
		r = r ? r : iam_buf_adds(b, "{\"name\":");
		r = r ? r : put_counted_string(b, p->name);
		r = r ? r : iam_buf_adds(b, ",\"document\":");
		r = r ? r : iam_json_write(p->doc, b);
		r = r ? r : iam_buf_adds(b, "}");
	}
	return r ? r : iam_buf_adds(b, "]}");
}

static int
cmp_role(const void *a, const void *b)
{
	const struct iam_role *x = *(const struct iam_role *const *)a;
	const struct iam_role *y = *(const struct iam_role *const *)b;

	return strcmp(x->name, y->name);
}

int
iam_rolesdb_build(const struct iam_identity *id, uint64_t generation,
		  struct iam_buf *out)
{
	const struct iam_role **sorted;
	struct by_name pols;
	int r;

	if (id == NULL || out == NULL || id->account.id == NULL ||
	    strpbrk(id->account.id, " \t\n") != NULL)
		return -EINVAL;
	sorted = calloc(id->n_roles ? id->n_roles : 1, sizeof(*sorted));
	if (sorted == NULL)
		return -ENOMEM;
	r = by_name_build(&pols, id);
	if (r < 0) {
		free(sorted);
		return r;
	}
	for (size_t i = 0; i < id->n_roles; i++) {
		sorted[i] = &id->roles[i];
		if (sorted[i]->name == NULL)
			r = -EINVAL;
	}
	if (r == 0)
		qsort(sorted, id->n_roles, sizeof(*sorted), cmp_role);
	r = r ? r : iam_buf_addf(out, ROLESDB_MAGIC " %" PRIu64 " %s %zu\n",
				 generation, id->account.id, id->n_roles);
	/* One line a role, sorted by name: "NAME<TAB>JSON". */
	for (size_t i = 0; r == 0 && i < id->n_roles; i++) {
		r = iam_buf_addf(out, "%s\t", sorted[i]->name);
		r = r ? r : add_role(out, &pols, sorted[i]);
		r = r ? r : iam_buf_adds(out, "\n");
	}
	free(pols.v);
	free(sorted);
	return r;
}

/* ---- The role snapshot: reading --------------------------------------- */

struct iam_role_rec *
iam_role_rec_free(struct iam_role_rec *role)
{
	if (role == NULL)
		return NULL;
	iam_policy_set_free(role->set);
	iam_policy_set_free(role->trust_set);
	for (size_t i = 0; i < role->n_policies; i++)
		iam_policy_free(role->policies[i]);
	free(role->policies);
	iam_policy_free(role->trust);
	for (size_t i = 0; i < role->n_tags; i++) {
		free((char *)role->tags[i].key);
		free((char *)role->tags[i].value);
	}
	free(role->tags);
	free(role->account_id);
	free(role->name);
	free(role);
	return NULL;
}

static const char *
str_member(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v = iam_json_get(obj, key);

	return v != NULL && v->type == IAM_JSON_STRING ? v->u.string : NULL;
}

static int
compile_doc(const struct iam_json *doc, const char *name, bool trust,
	    struct iam_policy **ret)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	int r;

	if (doc == NULL || doc->type != IAM_JSON_OBJECT || name == NULL)
		return -EBADMSG;
	r = iam_policy_compile(doc, name, trust, name, ret, &faults);
	iam_faults_release(&faults);
	if (r == -ENOMEM)
		return r;
	return r < 0 ? -EBADMSG : 0;
}

static int
role_tags(struct iam_role_rec *role, const struct iam_json *tags)
{
	if (tags == NULL || tags->type != IAM_JSON_OBJECT ||
	    tags->len > IAM_ID_MAX_TAGS)
		return -EBADMSG;
	role->tags = calloc(tags->len ? tags->len : 1, sizeof(*role->tags));
	if (role->tags == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < tags->len; i++) {
		const struct iam_json_member *m = &tags->u.members[i];

		if (m->value.type != IAM_JSON_STRING)
			return -EBADMSG;
		role->tags[i].key = strdup(m->key);
		role->tags[i].value = strdup(m->value.u.string);
		role->n_tags++;
		if (role->tags[i].key == NULL || role->tags[i].value == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
role_policies(struct iam_role_rec *role, const struct iam_json *pols)
{
	int r;

	if (pols == NULL || pols->type != IAM_JSON_ARRAY ||
	    pols->len > IAM_ID_MAX_PER_USER)
		return -EBADMSG;
	role->policies = calloc(pols->len ? pols->len : 1,
				sizeof(*role->policies));
	if (role->policies == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < pols->len; i++) {
		const struct iam_json *p = &pols->u.items[i];

		r = compile_doc(iam_json_get(p, "document"),
				str_member(p, "name"), false,
				&role->policies[role->n_policies]);
		if (r < 0)
			return r;
		role->n_policies++;
	}
	r = iam_policy_set_new((const struct iam_policy *const *)role->policies,
			       role->n_policies, NULL, &role->set);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	r = iam_policy_set_new((const struct iam_policy *const *)&role->trust,
			       1, NULL, &role->trust_set);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	return 0;
}

static int
role_from_json(const struct iam_json *v, const char *account,
	       struct iam_role_rec **ret)
{
	struct iam_role_rec *role = calloc(1, sizeof(*role));
	const struct iam_json *max;
	int r = -ENOMEM;

	if (role == NULL)
		return -ENOMEM;
	role->name = strdup(str_member(v, "name"));
	role->account_id = strdup(account);
	if (role->name == NULL || role->account_id == NULL)
		goto fail;
	max = iam_json_get(v, "max_session_seconds");
	r = -EBADMSG;
	if (max == NULL || max->type != IAM_JSON_NUMBER ||
	    !max->u.number.is_int || max->u.number.i < 1 ||
	    max->u.number.i > 43200)
		goto fail;
	role->max_session_seconds = (uint32_t)max->u.number.i;
	r = role_tags(role, iam_json_get(v, "tags"));
	r = r ? r : compile_doc(iam_json_get(v, "trust_policy"), role->name,
				true, &role->trust);
	r = r ? r : role_policies(role, iam_json_get(v, "policies"));
	if (r < 0)
		goto fail;
	*ret = role;
	return 0;
fail:
	iam_role_rec_free(role);
	return r;
}

/* The header line: magic, generation, account id, count. */
static int
read_header(const char *p, size_t len, char *account, size_t alen,
	    size_t *ret_end)
{
	const char *nl = memchr(p, '\n', len);
	char line[128], *f[5], *save = NULL, *q;
	size_t n;
	int i;

	if (nl == NULL || (n = (size_t)(nl - p)) >= sizeof(line))
		return -EBADMSG;
	memcpy(line, p, n);
	line[n] = '\0';
	for (i = 0, q = line; i < 5; i++, q = NULL)
		if ((f[i] = strtok_r(q, " ", &save)) == NULL)
			break;
	if (i != 4 || strcmp(f[0], ROLESDB_MAGIC) != 0 ||
	    strspn(f[2], "0123456789") != strlen(f[2]) ||
	    iam_snprintf(account, alen, "%s", f[2]) < 0)
		return -EBADMSG;
	*ret_end = n + 1;
	return 0;
}

/* Start of the line holding p[at], not before lo. */
static size_t
line_start(const char *p, size_t lo, size_t at)
{
	while (at > lo && p[at - 1] != '\n')
		at--;
	return at;
}

/*
 * Bisect the sorted lines of p[lo, hi) for the one named name, as
 * look(1) does: O(log n) lines compared, one parsed.
 */
static int
find_line(const char *p, size_t lo, size_t hi, const char *name,
	  const char **ret_json, size_t *ret_len)
{
	size_t nlen = strlen(name);

	while (lo < hi) {
		size_t mid = line_start(p, lo, lo + (hi - lo) / 2);
		const char *nl = memchr(p + mid, '\n', hi - mid);
		const char *tab;
		size_t end, klen;
		int c;

		if (nl == NULL)
			return -EBADMSG;
		end = (size_t)(nl - p);
		tab = memchr(p + mid, '\t', end - mid);
		if (tab == NULL)
			return -EBADMSG;
		klen = (size_t)(tab - (p + mid));
		c = memcmp(p + mid, name, klen < nlen ? klen : nlen);
		if (c == 0)
			c = klen < nlen ? -1 : klen > nlen ? 1 : 0;
		if (c == 0) {
			*ret_json = tab + 1;
			*ret_len = end - (size_t)(tab + 1 - p);
			return 0;
		}
		if (c < 0)
			lo = end + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

int
iam_rolesdb_find(const char *text, size_t len, const char *name,
		 struct iam_role_rec **ret_role)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	const char *json = NULL;
	char account[32], why[256];
	size_t start = 0, jlen = 0;
	int r;

	if (text == NULL || name == NULL || ret_role == NULL ||
	    strchr(name, '\t') != NULL || strchr(name, '\n') != NULL)
		return -EINVAL;
	if (len == 0)
		return -EBADMSG;
	r = read_header(text, len, account, sizeof(account), &start);
	if (r == 0 && text[len - 1] != '\n')
		r = -EBADMSG;
	r = r ? r : find_line(text, start, len, name, &json, &jlen);
	r = r ? r : iam_json_parse(json, jlen, NULL, &doc, why, sizeof(why));
	if (r < 0)
		return r == -ENOENT || r == -ENOMEM ? r : -EBADMSG;
	root = iam_json_root(doc);
	r = -EBADMSG;
	if (root->type == IAM_JSON_OBJECT && str_member(root, "name") != NULL &&
	    strcmp(str_member(root, "name"), name) == 0)
		r = role_from_json(root, account, ret_role);
	iam_json_free(doc);
	return r;
}

int
iam_rolesdb_lookup(const char *dir, int strict_flags, const char *name,
		   struct iam_role_rec **ret_role)
{
	char path[PATH_MAX];
	struct iam_map m;
	int r;

	if (name == NULL || ret_role == NULL || strchr(name, '\t') != NULL ||
	    strchr(name, '\n') != NULL)
		return -EINVAL;
	r = iam_snprintf(path, sizeof(path), "%s/" IAM_ROLESDB_FILE,
			 dir != NULL ? dir : IAM_AUTH_DIR);
	r = r ? r : iam_map_strict(path, strict_flags | IAM_STRICT_SECRET, 1,
				   IAM_ROLESDB_MAX_BYTES, &m, NULL, 0);
	if (r < 0)
		return r;
	r = iam_rolesdb_find(m.p, m.size, name, ret_role);
	iam_unmap(&m);
	return r;
}
