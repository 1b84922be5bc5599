/*
 * identity_write.c - serialise the model back to an identity file
 * (iam-identity(5)): pretty JSON in a stable key order, generated with
 * yajl_gen (every string escaped and UTF-8 checked), defaults left out so
 * that a saved file stays as short as the administrator wrote it.
 */
#include <errno.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "identity_int.h"
#include "json_int.h"

/* Every generator call goes through one status; the first failure sticks. */
struct gen {
	yajl_gen g;
	yajl_gen_status st;
};

static void
key(struct gen *g, const char *k)
{
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_string(g->g, (const unsigned char *)k,
					strlen(k));
}

static void
str(struct gen *g, const char *k, const char *s)
{
	key(g, k);
	if (s == NULL && g->st == yajl_gen_status_ok)
		g->st = yajl_gen_invalid_string;	/* a required field */
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_string(g->g, (const unsigned char *)s,
					strlen(s));
}

static void
num(struct gen *g, const char *k, long long n)
{
	key(g, k);
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_integer(g->g, n);
}

static void
boolean(struct gen *g, const char *k, bool b)
{
	key(g, k);
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_bool(g->g, b);
}

static void
gen_time_member(struct gen *g, const char *k, int64_t t)
{
	char buf[32];

	if (t == 0)
		return;
	if (iam_format_time(t, buf, sizeof(buf)) < 0) {
		g->st = yajl_gen_invalid_string;
		return;
	}
	str(g, k, buf);
}

/* One structural event (yajl_gen_map_open, ..._array_close...). */
static void
gen_bracket(struct gen *g, yajl_gen_status (*event)(yajl_gen))
{
	if (g->st == yajl_gen_status_ok)
		g->st = event(g->g);
}

/* Member k, a map or an array opening as its value. */
static void
key_open(struct gen *g, const char *k, yajl_gen_status (*open)(yajl_gen))
{
	key(g, k);
	gen_bracket(g, open);
}

/* key_open() for a member left out when empty (n items): whether open. */
static bool
key_open_items(struct gen *g, const char *k, size_t n,
	       yajl_gen_status (*open)(yajl_gen))
{
	if (n > 0)
		key_open(g, k, open);
	return n > 0;
}

/* A JSON value as it was parsed (policy documents, initial credentials). */
static void
json(struct gen *g, const struct iam_json *v)
{
	if (g->st != yajl_gen_status_ok)
		return;
	switch (v->type) {
	case IAM_JSON_NULL:
		g->st = yajl_gen_null(g->g);
		break;
	case IAM_JSON_BOOL:
		g->st = yajl_gen_bool(g->g, v->u.boolean);
		break;
	case IAM_JSON_NUMBER:
		g->st = yajl_gen_number(g->g, v->u.number.text,
					strlen(v->u.number.text));
		break;
	case IAM_JSON_STRING:
		g->st = yajl_gen_string(g->g, (const unsigned char *)v->u.string,
					v->len);
		break;
	case IAM_JSON_ARRAY:
		gen_bracket(g, yajl_gen_array_open);
		for (size_t i = 0; i < v->len; i++)
			json(g, &v->u.items[i]);
		gen_bracket(g, yajl_gen_array_close);
		break;
	case IAM_JSON_OBJECT:
		gen_bracket(g, yajl_gen_map_open);
		for (size_t i = 0; i < v->len; i++) {
			key(g, v->u.members[i].key);
			json(g, &v->u.members[i].value);
		}
		gen_bracket(g, yajl_gen_map_close);
		break;
	}
}

static void
names(struct gen *g, const char *k, const char *const *v, size_t n)
{
	if (!key_open_items(g, k, n, yajl_gen_array_open))
		return;
	for (size_t i = 0; i < n && g->st == yajl_gen_status_ok; i++)
		g->st = yajl_gen_string(g->g, (const unsigned char *)v[i],
					strlen(v[i]));
	gen_bracket(g, yajl_gen_array_close);
}

static void
tags(struct gen *g, const struct iam_tags *t)
{
	if (!key_open_items(g, "tags", t->n, yajl_gen_map_open))
		return;
	for (size_t i = 0; i < t->n; i++)
		str(g, t->v[i].key, t->v[i].value);
	gen_bracket(g, yajl_gen_map_close);
}

static void
policy_map(struct gen *g, const char *k, const struct iam_named_policy *v,
	   size_t n)
{
	if (!key_open_items(g, k, n, yajl_gen_map_open))
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i].doc == NULL) {
			g->st = yajl_gen_invalid_string;
			return;
		}
		key(g, v[i].name);
		json(g, v[i].doc);
	}
	gen_bracket(g, yajl_gen_map_close);
}

static void
account(struct gen *g, const struct iam_identity *id)
{
	const struct iam_password_policy *pp = &id->password_policy;

	key_open(g, "account", yajl_gen_map_open);
	if (id->account.id != NULL)
		str(g, "id", id->account.id);
	if (id->account.alias != NULL)
		str(g, "alias", id->account.alias);
	gen_bracket(g, yajl_gen_map_close);
	key_open(g, "password_policy", yajl_gen_map_open);
	num(g, "minimum_length", pp->minimum_length);
	boolean(g, "require_uppercase", pp->require_uppercase);
	boolean(g, "require_lowercase", pp->require_lowercase);
	boolean(g, "require_numbers", pp->require_numbers);
	boolean(g, "require_symbols", pp->require_symbols);
	if (pp->max_age_days > 0)
		num(g, "max_age_days", pp->max_age_days);
	if (pp->reuse_prevention > 0)
		num(g, "reuse_prevention", pp->reuse_prevention);
	boolean(g, "hard_expiry", pp->hard_expiry);
	boolean(g, "allow_users_to_change", pp->allow_users_to_change);
	if (pp->ssh_key_max_age_days > 0)
		num(g, "ssh_key_max_age_days", pp->ssh_key_max_age_days);
	key(g, "lockout");
	if (pp->lockout.max_failed_attempts > 0) {
		gen_bracket(g, yajl_gen_map_open);
		num(g, "max_failed_attempts", pp->lockout.max_failed_attempts);
		num(g, "lockout_seconds", pp->lockout.lockout_seconds);
		gen_bracket(g, yajl_gen_map_close);
	} else if (g->st == yajl_gen_status_ok) {
		g->st = yajl_gen_null(g->g);	/* off: absent would mean on */
	}
	gen_bracket(g, yajl_gen_map_close);
	if (id->n_retired > 0) {
		key_open(g, "retired_ids", yajl_gen_array_open);
		for (size_t i = 0; i < id->n_retired; i++)
			if (g->st == yajl_gen_status_ok)
				g->st = yajl_gen_integer(g->g,
							 id->retired_ids[i]);
		gen_bracket(g, yajl_gen_array_close);
	}
}

static void
ssh_keys(struct gen *g, const struct iam_user *u)
{
	if (!key_open_items(g, "ssh_keys", u->n_ssh_keys, yajl_gen_array_open))
		return;
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];

		gen_bracket(g, yajl_gen_map_open);
		str(g, "id", k->id);
		str(g, "key", k->key);
		gen_time_member(g, "created", k->created);
		str(g, "status", k->active ? "Active" : "Inactive");
		gen_bracket(g, yajl_gen_map_close);
	}
	gen_bracket(g, yajl_gen_array_close);
}

static void
user(struct gen *g, const struct iam_user *u)
{
	char home[64];

	gen_bracket(g, yajl_gen_map_open);
	str(g, "name", u->name);
	num(g, "uid", u->uid);
	str(g, "primary_group", u->primary_group);
	if (u->gecos != NULL && u->gecos[0] != '\0')
		str(g, "gecos", u->gecos);
	if (u->home != NULL &&
	    (iam_snprintf(home, sizeof(home), "/home/%s", u->name) < 0 ||
	     strcmp(u->home, home) != 0))
		str(g, "home", u->home);
	if (u->shell != NULL && strcmp(u->shell, "/bin/bash") != 0)
		str(g, "shell", u->shell);
	gen_time_member(g, "created", u->created);
	names(g, "groups", u->groups, u->n_groups);
	names(g, "policies", u->policies, u->n_policies);
	policy_map(g, "inline_policies", u->inline_policies, u->n_inline);
	if (u->permissions_boundary != NULL)
		str(g, "permissions_boundary", u->permissions_boundary);
	tags(g, &u->tags);
	if (u->file_password != NULL) {
		key(g, "password");
		json(g, u->file_password);
	}
	if (u->file_mfa != NULL) {
		key(g, "mfa");
		json(g, u->file_mfa);
	}
	ssh_keys(g, u);
	if (u->disabled)
		boolean(g, "disabled", true);
	gen_bracket(g, yajl_gen_map_close);
}

static void
role(struct gen *g, const struct iam_role *r)
{
	gen_bracket(g, yajl_gen_map_open);
	str(g, "name", r->name);
	num(g, "max_session_seconds", r->max_session_seconds);
	tags(g, &r->tags);
	if (r->trust_policy.doc != NULL) {
		key(g, "trust_policy");
		json(g, r->trust_policy.doc);
	}
	names(g, "policies", r->policies, r->n_policies);
	gen_bracket(g, yajl_gen_map_close);
}

static void
identity(struct gen *g, const struct iam_identity *id)
{
	gen_bracket(g, yajl_gen_map_open);
	account(g, id);
	key_open(g, "users", yajl_gen_array_open);
	for (size_t i = 0; i < id->n_users; i++)
		user(g, &id->users[i]);
	gen_bracket(g, yajl_gen_array_close);
	key_open(g, "groups", yajl_gen_array_open);
	for (size_t i = 0; i < id->n_groups; i++) {
		const struct iam_group *gr = &id->groups[i];

		gen_bracket(g, yajl_gen_map_open);
		str(g, "name", gr->name);
		num(g, "gid", gr->gid);
		names(g, "policies", gr->policies, gr->n_policies);
		gen_bracket(g, yajl_gen_map_close);
	}
	gen_bracket(g, yajl_gen_array_close);
	if (key_open_items(g, "roles", id->n_roles, yajl_gen_array_open)) {
		for (size_t i = 0; i < id->n_roles; i++)
			role(g, &id->roles[i]);
		gen_bracket(g, yajl_gen_array_close);
	}
	policy_map(g, "policies", id->policies, id->n_policies);
	gen_bracket(g, yajl_gen_map_close);
}

int
iam_identity_write(const struct iam_identity *id, struct iam_buf *out)
{
	/* initial credentials may be in yajl's buffer too: wiped when freed */
	struct gen g = { yajl_gen_alloc(iam_yajl_wiping()),
			 yajl_gen_status_ok };
	const unsigned char *text;
	size_t len;
	int r;

	if (g.g == NULL)
		return -ENOMEM;
	yajl_gen_config(g.g, yajl_gen_beautify, 1);
	yajl_gen_config(g.g, yajl_gen_indent_string, "  ");
	yajl_gen_config(g.g, yajl_gen_validate_utf8, 1);
	identity(&g, id);
	if (g.st == yajl_gen_status_ok)
		g.st = yajl_gen_get_buf(g.g, &text, &len);
	if (g.st == yajl_gen_status_ok) {
		r = iam_buf_add(out, text, len);
		if (r == 0 && (len == 0 || text[len - 1] != '\n'))
			r = iam_buf_adds(out, "\n");
		/* The text may hold initial credentials. */
		iam_wipe((void *)text, len);
	} else {
		r = g.st == yajl_gen_invalid_string ? -EINVAL : -ENOMEM;
	}
	yajl_gen_free(g.g);
	return r;
}
