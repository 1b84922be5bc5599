/*
 * policy.c - compile AWS IAM policy documents (iam-policy(5)).
 *
 * The compiler walks the JSON tree once, checks every element the way
 * AWS's policy validator does and copies what evaluation needs into one
 * arena per policy.  It keeps going after a fault so that one run names
 * every fault; the compiled form is handed out only when there was none.
 *
 * Over 600 lines: one compiler of one grammar; its state (struct
 * compiler, the arena) stays private to this file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "util_int.h"

/* ---- Arena ---------------------------------------------------------------- */

struct arena {
	struct iam_block *head;
};

void *
iam_arena_alloc(struct arena *a, size_t n)
{
	struct iam_block *c = a->head;
	size_t size;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (c == NULL || c->size - c->used < n) {
		size = n > 16384 ? n : 16384;
		c = iam_block_push(&a->head, size);
		if (c == NULL)
			return NULL;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	iam_blocks_free(a->head, false);
	free(a);
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	return iam_copy_string(iam_arena_alloc(a, n + 1), s, n);
}

/* ---- Compiler state -------------------------------------------------------- */

struct compiler {
	struct iam_policy *pol;
	struct iam_faults *faults;
	size_t faults_at_start;
	bool oom;
};

static size_t
fault_count(const struct iam_faults *f)
{
	return f->n + f->dropped + (f->oom ? 1 : 0);
}

static void fault(struct compiler *cc, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fault(struct compiler *cc, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iam_faultv(cc->faults, path, fmt, ap);
	va_end(ap);
}

/* A JSON path: parent, then ".key" or "[i]".  Truncation is harmless
 * (the path only labels a message) but is kept recognisable. */
struct path {
	char s[768];
};

static void
path_key(struct path *out, const char *parent, const char *key)
{
	if (snprintf(out->s, sizeof(out->s), "%s%s%s", parent,
		     parent[0] ? "." : "", key) >= (int)sizeof(out->s))
		strcpy(out->s + sizeof(out->s) - 4, "...");
}

static void
path_idx(struct path *out, const char *parent, size_t i)
{
	if (snprintf(out->s, sizeof(out->s), "%s[%zu]", parent, i) >=
	    (int)sizeof(out->s))
		strcpy(out->s + sizeof(out->s) - 4, "...");
}

/* The path of item i of v: path[i] in an array, path for a lone value. */
static void
path_item(struct path *out, const char *path, const struct iam_json *v,
	  size_t i)
{
	if (v->type == IAM_JSON_ARRAY)
		path_idx(out, path, i);
	else
		snprintf(out->s, sizeof(out->s), "%s", path);
}

/*
 * The items of an element that is one value or an array of them: v
 * itself, or the array's items.  An empty array is faulted at path with
 * empty_why: false.
 */
static bool
items_of(struct compiler *cc, const struct iam_json *v, const char *path,
	 const char *empty_why, const struct iam_json **ret_items,
	 size_t *ret_n)
{
	*ret_items = v;
	*ret_n = 1;
	if (v->type != IAM_JSON_ARRAY)
		return true;
	*ret_items = v->u.items;
	*ret_n = v->len;
	if (v->len == 0) {
		fault(cc, path, "%s", empty_why);
		return false;
	}
	return true;
}

static void *
cc_alloc(struct compiler *cc, size_t n)
{
	void *p = iam_arena_alloc(cc->pol->arena, n);

	if (p == NULL)
		cc->oom = true;
	else
		memset(p, 0, n);
	return p;
}

/*
 * items_of() an element that must not be an empty array, and a zeroed
 * array of as many entries of size bytes: NULL when it is empty (a fault)
 * or there is no memory.
 */
static void *
items_array(struct compiler *cc, const struct iam_json *v, const char *path,
	    size_t size, const struct iam_json **ret_items, size_t *ret_n)
{
	if (!items_of(cc, v, path, "must not be an empty array", ret_items,
		      ret_n))
		return NULL;
	return cc_alloc(cc, *ret_n * size);
}

/* ---- Texts and variables ----------------------------------------------------- */

/* True when s holds a well-formed ${...}. */
static bool
has_variable(const char *s)
{
	const char *p = s, *end;

	while ((p = strstr(p, "${")) != NULL) {
		end = strchr(p + 2, '}');
		if (end == NULL)
			return false;
		if (end > p + 2)
			return true;
		p += 2;
	}
	return false;
}

static bool
make_ptext(struct compiler *cc, const char *s, bool vars, struct ptext *t)
{
	size_t n = strlen(s);

	t->s = arena_strndup(cc->pol->arena, s, n);
	if (t->s == NULL) {
		cc->oom = true;
		return false;
	}
	t->len = (uint32_t)n;
	t->flags = 0;
	if (strpbrk(s, "*?") != NULL)
		t->flags |= PT_WILD;
	if (vars && has_variable(s))
		t->flags |= PT_VARS;
	if (strcmp(s, "*") == 0)
		t->flags |= PT_STAR;
	t->pre = t->suf = 0;
	if ((t->flags & (PT_WILD | PT_VARS)) == PT_WILD) {
		const char *last = s;

		t->pre = (uint32_t)strcspn(s, "*?");
		for (const char *q = s; *q != '\0'; q++)
			if (*q == '*' || *q == '?')
				last = q;
		t->suf = (uint32_t)(n - (size_t)(last - s) - 1);
		if (s[t->pre] == '*' && last == s + t->pre)
			t->flags |= PT_ONESTAR;
	}
	return true;
}

/* Colon-separated parts of an ARN, not counting colons inside ${...}. */
static size_t
arn_parts(const char *s, size_t n)
{
	size_t parts = 1, depth = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{')
			depth++;
		else if (s[i] == '}' && depth > 0)
			depth--;
		else if (s[i] == ':' && depth == 0)
			parts++;
	}
	return parts;
}

bool
iam_arn_valid(const char *s, size_t n)
{
	return n >= 4 && strncmp(s, "arn:", 4) == 0 && arn_parts(s, n) >= 6;
}

/* Whether v has type t; else a fault at path, "what, not <its type>". */
static bool
has_type(struct compiler *cc, const char *path, const struct iam_json *v,
	 enum iam_json_type t, const char *what)
{
	if (v->type == t)
		return true;
	fault(cc, path, "%s, not %s", what, iam_json_type_name(v->type));
	return false;
}

/* ---- Action, Resource, Principal ------------------------------------------- */

static bool
action_valid(const char *s, bool trust, const char **why)
{
	const char *colon = strchr(s, ':');

	if (strcmp(s, "*") == 0 && !trust)
		return true;
	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    strchr(colon + 1, ':') != NULL) {
		*why = "must be \"*\" or \"service:Action\"";
		return false;
	}
	for (const char *p = s; p < colon; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '*' && *p != '?') {
			*why = "has an invalid service prefix";
			return false;
		}
	}
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '*' && *p != '?' && *p != '.') {
			*why = "has an invalid action name";
			return false;
		}
	}
	if (trust && strncasecmp(s, "sts:", 4) != 0) {
		*why = "a trust policy allows only sts: actions";
		return false;
	}
	return true;
}

/* Read a string-or-array element into an array of texts. */
static bool
string_list(struct compiler *cc, const struct iam_json *v, const char *path,
	    bool vars, struct ptext **ret, uint32_t *ret_n, bool is_action,
	    bool trust)
{
	const struct iam_json *items;
	size_t n;
	struct path p;
	const char *why;
	struct ptext *out;

	if (v->type != IAM_JSON_ARRAY && v->type != IAM_JSON_STRING) {
		fault(cc, path, "must be a string or an array of strings, not %s",
		      iam_json_type_name(v->type));
		return false;
	}
	out = items_array(cc, v, path, sizeof(*out), &items, &n);
	if (out == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct iam_json *it = &items[i];

		path_item(&p, path, v, i);
		if (!has_type(cc, p.s, it, IAM_JSON_STRING, "must be a string"))
			continue;
		if (it->len == 0) {
			fault(cc, p.s, "must not be empty");
			continue;
		}
		if (it->len > IAM_POLICY_MAX_PATTERN) {
			fault(cc, p.s, "is longer than %d bytes",
			      IAM_POLICY_MAX_PATTERN);
			continue;
		}
		if (iam_has_control(it->u.string)) {
			fault(cc, p.s, "holds a control character");
			continue;
		}
		if (is_action && !action_valid(it->u.string, trust, &why)) {
			fault(cc, p.s, "\"%s\" %s", it->u.string, why);
			continue;
		}
		if (!is_action && strcmp(it->u.string, "*") != 0 &&
		    !iam_arn_valid(it->u.string, it->len)) {
			fault(cc, p.s, "\"%s\" is not \"*\" or an ARN "
			      "(arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)",
			      it->u.string);
			continue;
		}
		make_ptext(cc, it->u.string, vars && !is_action, &out[i]);
	}
	*ret = out;
	*ret_n = (uint32_t)n;
	return true;
}

static bool
account_id(const char *s)
{
	size_t n = strlen(s);

	if (n != 12)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static void
one_principal(struct compiler *cc, const struct iam_json *v, const char *path,
	      struct principal *pr)
{
	const char *s;
	size_t n;

	if (!has_type(cc, path, v, IAM_JSON_STRING, "must be a string"))
		return;
	s = v->u.string;
	n = v->len;
	if (strcmp(s, "*") == 0) {
		pr->kind = PR_ANY;
	} else if (account_id(s)) {
		pr->kind = PR_ACCOUNT;
		pr->s = arena_strndup(cc->pol->arena, s, n);
	} else if (iam_arn_valid(s, n) && strpbrk(s, "*?") == NULL) {
		/* arn:...:ACCOUNT:root names the whole account, as in AWS. */
		if (n > 5 && strcmp(s + n - 5, ":root") == 0 &&
		    arn_parts(s, n) == 6) {
			const char *acc = s;

			for (int i = 0; i < 4; i++)
				acc = strchr(acc, ':') + 1;
			pr->kind = PR_ACCOUNT;
			pr->s = arena_strndup(cc->pol->arena, acc,
					      (size_t)(strchr(acc, ':') - acc));
		} else {
			pr->kind = PR_ARN;
			pr->s = arena_strndup(cc->pol->arena, s, n);
		}
	} else {
		fault(cc, path, "\"%s\" is not \"*\", an account id or an ARN "
		      "without wildcards", s);
		return;
	}
	if (pr->kind != PR_ANY && pr->s == NULL)
		cc->oom = true;
}

static void
principal(struct compiler *cc, const struct iam_json *v, const char *path,
	  struct statement *st)
{
	const struct iam_json *aws, *items;
	struct path p, q;
	size_t n;

	if (v->type == IAM_JSON_STRING && strcmp(v->u.string, "*") == 0) {
		st->principals = cc_alloc(cc, sizeof(*st->principals));
		if (st->principals != NULL) {
			st->principals[0].kind = PR_ANY;
			st->n_principals = 1;
		}
		return;
	}
	if (v->type != IAM_JSON_OBJECT) {
		fault(cc, path, "must be \"*\" or {\"AWS\": ARN or [ARN, ...]}");
		return;
	}
	for (size_t i = 0; i < v->len; i++) {
		if (strcmp(v->u.members[i].key, "AWS") != 0) {
			path_key(&p, path, v->u.members[i].key);
			fault(cc, p.s, "unknown principal type (only \"AWS\")");
		}
	}
	aws = iam_json_get(v, "AWS");
	path_key(&p, path, "AWS");
	if (aws == NULL) {
		fault(cc, path, "missing \"AWS\"");
		return;
	}
	st->principals = items_array(cc, aws, p.s, sizeof(*st->principals),
				     &items, &n);
	if (st->principals == NULL)
		return;
	st->n_principals = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		path_item(&q, p.s, aws, i);
		one_principal(cc, &items[i], q.s, &st->principals[i]);
	}
}

/* ---- Conditions --------------------------------------------------------------- */

static bool
op_takes_variables(enum cond_op op)
{
	return op <= OP_STRING_NOT_LIKE ||
	       (op >= OP_ARN_EQUALS && op <= OP_ARN_NOT_LIKE);
}

static void
cond_values(struct compiler *cc, const struct iam_json *v, const char *path,
	    struct condition *c)
{
	const struct iam_json *items;
	size_t n;
	struct path p;
	const char *text, *why;
	char num[64];

	c->values = items_array(cc, v, path, sizeof(*c->values), &items, &n);
	if (c->values == NULL)
		return;
	c->n_values = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct iam_json *it = &items[i];

		path_item(&p, path, v, i);
		switch (it->type) {
		case IAM_JSON_STRING:
			text = it->u.string;
			break;
		case IAM_JSON_BOOL:
			text = it->u.boolean ? "true" : "false";
			break;
		case IAM_JSON_NUMBER:
			snprintf(num, sizeof(num), "%s", it->u.number.text);
			text = num;
			break;
		default:
			fault(cc, p.s, "must be a string, number or boolean, "
			      "not %s", iam_json_type_name(it->type));
			continue;
		}
		if (strlen(text) > IAM_POLICY_MAX_PATTERN) {
			fault(cc, p.s, "is longer than %d bytes",
			      IAM_POLICY_MAX_PATTERN);
			continue;
		}
		if (!make_ptext(cc, text, cc->pol->variables &&
				op_takes_variables(c->op), &c->values[i].text))
			return;
		if (c->values[i].text.flags & PT_VARS)
			c->vars = true;
		why = iam_cond_prepare(c, &c->values[i], cc->pol->arena);
		if (why != NULL) {
			if (strcmp(why, "out of memory") == 0)
				cc->oom = true;
			else
				fault(cc, p.s, "\"%s\" %s", text, why);
		}
	}
}

static void
condition_block(struct compiler *cc, const struct iam_json *v,
		const char *path, struct statement *st)
{
	size_t total = 0, k = 0;
	struct path p, q;

	if (!has_type(cc, path, v, IAM_JSON_OBJECT, "must be an object"))
		return;
	for (size_t i = 0; i < v->len; i++) {
		const struct iam_json *keys = &v->u.members[i].value;

		if (keys->type == IAM_JSON_OBJECT)
			total += keys->len;
	}
	if (total == 0) {
		if (v->len == 0)
			return;
	}
	st->conds = cc_alloc(cc, (total ? total : 1) * sizeof(*st->conds));
	if (st->conds == NULL)
		return;
	for (size_t i = 0; i < v->len; i++) {
		const struct iam_json_member *m = &v->u.members[i];
		struct condition proto = { 0 };

		path_key(&p, path, m->key);
		if (!iam_cond_parse_op(m->key, &proto)) {
			fault(cc, p.s, "unknown condition operator");
			continue;
		}
		if (m->value.type != IAM_JSON_OBJECT) {
			fault(cc, p.s, "must be an object of condition keys, "
			      "not %s", iam_json_type_name(m->value.type));
			continue;
		}
		if (m->value.len == 0) {
			fault(cc, p.s, "must name at least one condition key");
			continue;
		}
		for (size_t j = 0; j < m->value.len; j++) {
			const struct iam_json_member *km = &m->value.u.members[j];
			struct condition *c = &st->conds[k];
			size_t kl = strlen(km->key);
			char *lc;

			path_key(&q, p.s, km->key);
			if (kl == 0 || kl > IAM_REQUEST_MAX_KEY ||
			    strchr(km->key, ':') == NULL || iam_has_control(km->key)) {
				fault(cc, q.s, "is not a condition key "
				      "(\"prefix:name\")");
				continue;
			}
			*c = proto;
			c->key = arena_strndup(cc->pol->arena, km->key, kl);
			lc = arena_strndup(cc->pol->arena, km->key, kl);
			if (c->key == NULL || lc == NULL) {
				cc->oom = true;
				return;
			}
			for (char *s = lc; *s != '\0'; s++)
				*s = (char)tolower((unsigned char)*s);
			c->key_lc = lc;
			c->key_len = (uint32_t)kl;
			c->key_hash = iam_key_hash(km->key, kl);
			cond_values(cc, &km->value, q.s, c);
			k++;
		}
	}
	st->n_conds = (uint32_t)k;
}

/* ---- Statements and documents ---------------------------------------------- */

static const char *const statement_keys[] = {
	"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
	"Condition", "Principal", "NotPrincipal", NULL
};

static bool
known_key(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

static void
sid(struct compiler *cc, const struct iam_json *v, const char *path,
    struct statement *st)
{
	if (!has_type(cc, path, v, IAM_JSON_STRING, "must be a string"))
		return;
	for (const char *s = v->u.string; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s)) {
			fault(cc, path, "\"%s\": only letters A-Z, a-z and "
			      "digits 0-9", v->u.string);
			return;
		}
	}
	if (v->len == 0)
		return;
	st->sid = arena_strndup(cc->pol->arena, v->u.string, v->len);
	if (st->sid == NULL)
		cc->oom = true;
}

/*
 * Exactly one of element name and Not<name> in v: its value, its path in
 * p and *ret_not whether it is the Not form; else a fault at path ("has
 * both", or "missing <missing>") and NULL.
 */
static const struct iam_json *
element_or_not(struct compiler *cc, const struct iam_json *v, const char *path,
	       const char *name, const char *missing, struct path *p,
	       bool *ret_not)
{
	const struct iam_json *a, *na;
	char not[32];

	snprintf(not, sizeof(not), "Not%s", name);
	a = iam_json_get(v, name);
	na = iam_json_get(v, not);
	if (a != NULL && na != NULL) {
		fault(cc, path, "has both %s and %s", name, not);
		return NULL;
	}
	if (a == NULL && na == NULL) {
		fault(cc, path, "missing %s", missing);
		return NULL;
	}
	path_key(p, path, a != NULL ? name : not);
	*ret_not = a == NULL;
	return a != NULL ? a : na;
}

static void
statement(struct compiler *cc, const struct iam_json *v, const char *path,
	  uint32_t index, struct statement *st)
{
	const struct iam_json *a, *r, *nr, *e, *x;
	bool trust = cc->pol->trust;
	struct path p;

	st->index = index;
	if (!has_type(cc, path, v, IAM_JSON_OBJECT, "must be an object"))
		return;
	for (size_t i = 0; i < v->len; i++) {
		const char *k = v->u.members[i].key;

		path_key(&p, path, k);
		if (!known_key(statement_keys, k))
			fault(cc, p.s, "unknown element");
		else if (!trust && (strcmp(k, "Principal") == 0 ||
				    strcmp(k, "NotPrincipal") == 0))
			fault(cc, p.s, "not allowed in an identity policy");
	}
	if ((x = iam_json_get(v, "Sid")) != NULL) {
		path_key(&p, path, "Sid");
		sid(cc, x, p.s, st);
	}
	path_key(&p, path, "Effect");
	e = iam_json_get(v, "Effect");
	if (e == NULL)
		fault(cc, path, "missing Effect");
	else if (e->type != IAM_JSON_STRING ||
		 (strcmp(e->u.string, "Allow") != 0 &&
		  strcmp(e->u.string, "Deny") != 0))
		fault(cc, p.s, "must be Allow or Deny");
	else
		st->deny = strcmp(e->u.string, "Deny") == 0;

	a = element_or_not(cc, v, path, "Action", "Action or NotAction", &p,
			   &st->not_action);
	if (a != NULL)
		string_list(cc, a, p.s, false, &st->actions, &st->n_actions,
			    true, trust);

	if (trust) {
		r = iam_json_get(v, "Resource");
		nr = iam_json_get(v, "NotResource");
		if (r != NULL || nr != NULL) {
			path_key(&p, path, r != NULL ? "Resource" : "NotResource");
			fault(cc, p.s, "not allowed in a trust policy");
		}
		st->no_resource = true;
	} else if ((r = element_or_not(cc, v, path, "Resource",
				       "Resource or NotResource", &p,
				       &st->not_resource)) != NULL) {
		string_list(cc, r, p.s, cc->pol->variables, &st->resources,
			    &st->n_resources, false, false);
	}

	if (trust && (x = element_or_not(cc, v, path, "Principal", "Principal",
					 &p, &st->not_principal)) != NULL)
		principal(cc, x, p.s, st);
	if ((x = iam_json_get(v, "Condition")) != NULL) {
		path_key(&p, path, "Condition");
		condition_block(cc, x, p.s, st);
	}
}

static int
cmp_sid(const void *a, const void *b)
{
	const struct statement *x = *(const struct statement *const *)a;
	const struct statement *y = *(const struct statement *const *)b;

	return strcmp(x->sid, y->sid);
}

/* AWS refuses two statements with one Sid in a policy. */
static void
unique_sids(struct compiler *cc, const char *stpath)
{
	struct iam_policy *pol = cc->pol;
	const struct statement **v;
	size_t n = 0;
	struct path p;

	v = calloc(pol->n_st ? pol->n_st : 1, sizeof(*v));
	if (v == NULL) {
		cc->oom = true;
		return;
	}
	for (uint32_t i = 0; i < pol->n_st; i++)
		if (pol->st[i].sid != NULL)
			v[n++] = &pol->st[i];
	qsort(v, n, sizeof(*v), cmp_sid);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i - 1]->sid, v[i]->sid) == 0) {
			path_idx(&p, stpath, v[i]->index);
			snprintf(p.s + strlen(p.s), sizeof(p.s) - strlen(p.s),
				 ".Sid");
			fault(cc, p.s, "duplicate Sid \"%s\"", v[i]->sid);
		}
	}
	free(v);
}

static void
document(struct compiler *cc, const struct iam_json *doc, const char *prefix)
{
	const struct iam_json *ver, *sts, *items, *id;
	struct iam_policy *pol = cc->pol;
	struct path p, q;
	size_t n;

	if (!has_type(cc, prefix, doc, IAM_JSON_OBJECT,
		      "a policy must be a JSON object"))
		return;
	for (size_t i = 0; i < doc->len; i++) {
		const char *k = doc->u.members[i].key;

		if (strcmp(k, "Version") != 0 && strcmp(k, "Statement") != 0 &&
		    strcmp(k, "Id") != 0) {
			path_key(&p, prefix, k);
			fault(cc, p.s, "unknown element");
		}
	}
	path_key(&p, prefix, "Version");
	ver = iam_json_get(doc, "Version");
	if (ver != NULL) {
		if (ver->type == IAM_JSON_STRING &&
		    strcmp(ver->u.string, "2012-10-17") == 0)
			pol->variables = true;
		else if (ver->type != IAM_JSON_STRING ||
			 strcmp(ver->u.string, "2008-10-17") != 0)
			fault(cc, p.s, "must be \"2012-10-17\" or \"2008-10-17\"");
	}
	id = iam_json_get(doc, "Id");
	if (id != NULL && id->type != IAM_JSON_STRING) {
		path_key(&p, prefix, "Id");
		fault(cc, p.s, "must be a string");
	}
	path_key(&p, prefix, "Statement");
	sts = iam_json_get(doc, "Statement");
	if (sts == NULL) {
		fault(cc, prefix[0] ? prefix : NULL, "missing Statement");
		return;
	}
	if (sts->type != IAM_JSON_ARRAY && sts->type != IAM_JSON_OBJECT) {
		fault(cc, p.s, "must be an object or an array of objects");
		return;
	}
	if (!items_of(cc, sts, p.s, "must hold at least one statement",
		      &items, &n))
		return;
	if (n > IAM_POLICY_MAX_STATEMENTS) {
		fault(cc, p.s, "more than %d statements",
		      IAM_POLICY_MAX_STATEMENTS);
		return;
	}
	pol->st = cc_alloc(cc, n * sizeof(*pol->st));
	if (pol->st == NULL)
		return;
	pol->n_st = (uint32_t)n;
	for (size_t i = 0; i < n && !cc->oom; i++) {
		path_item(&q, p.s, sts, i);
		statement(cc, &items[i], q.s, (uint32_t)i, &pol->st[i]);
	}
	if (!cc->oom)
		unique_sids(cc, p.s);
}

int
iam_policy_compile(const struct iam_json *doc, const char *name, bool trust,
		   const char *path_prefix, struct iam_policy **ret_policy,
		   struct iam_faults *faults)
{
	struct compiler cc = { 0 };
	struct iam_policy *pol;

	if (doc == NULL || name == NULL || ret_policy == NULL || faults == NULL)
		return -EINVAL;
	pol = calloc(1, sizeof(*pol));
	if (pol == NULL)
		return -ENOMEM;
	pol->trust = trust;
	pol->name = strdup(name);
	pol->arena = calloc(1, sizeof(*pol->arena));
	if (pol->name == NULL || pol->arena == NULL) {
		iam_policy_free(pol);
		return -ENOMEM;
	}
	cc.pol = pol;
	cc.faults = faults;
	cc.faults_at_start = fault_count(faults);
	document(&cc, doc, path_prefix != NULL ? path_prefix : "");
	if (cc.oom) {
		iam_policy_free(pol);
		return -ENOMEM;
	}
	if (fault_count(faults) != cc.faults_at_start) {
		iam_policy_free(pol);
		return -EINVAL;
	}
	*ret_policy = pol;
	return 0;
}

int
iam_policy_compile_text(const char *text, size_t len, const char *name,
			bool trust, const char *path_prefix,
			struct iam_policy **ret_policy,
			struct iam_faults *faults)
{
	struct iam_json_doc *doc;
	char err[512];
	int r;

	if (text == NULL || faults == NULL)
		return -EINVAL;
	r = iam_json_parse(text, len, NULL, &doc, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		iam_fault(faults, path_prefix, "%s", err);
		return -EINVAL;
	}
	r = iam_policy_compile(iam_json_root(doc), name, trust, path_prefix,
			       ret_policy, faults);
	iam_json_free(doc);
	return r;
}

struct iam_policy *
iam_policy_free(struct iam_policy *p)
{
	if (p == NULL)
		return NULL;
	arena_free(p->arena);
	free(p->name);
	free(p);
	return NULL;
}

const char *
iam_policy_name(const struct iam_policy *p)
{
	return p->name;
}

size_t
iam_policy_statement_count(const struct iam_policy *p)
{
	return p->n_st;
}
