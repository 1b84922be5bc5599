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

static void
open_map(struct gen *g)
{
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_map_open(g->g);
}

static void
close_map(struct gen *g)
{
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_map_close(g->g);
}

static void
open_array(struct gen *g)
{
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_array_open(g->g);
}

static void
close_array(struct gen *g)
{
	if (g->st == yajl_gen_status_ok)
		g->st = yajl_gen_array_close(g->g);
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
		open_array(g);
		for (size_t i = 0; i < v->len; i++)
			json(g, &v->u.items[i]);
		close_array(g);
		break;
	case IAM_JSON_OBJECT:
		open_map(g);
		for (size_t i = 0; i < v->len; i++) {
			key(g, v->u.members[i].key);
			json(g, &v->u.members[i].value);
		}
		close_map(g);
		break;
	}
}

static void
names(struct gen *g, const char *k, const char *const *v, size_t n)
{
	if (n == 0)
		return;
	key(g, k);
	open_array(g);
	for (size_t i = 0; i < n && g->st == yajl_gen_status_ok; i++)
		g->st = yajl_gen_string(g->g, (const unsigned char *)v[i],
					strlen(v[i]));
	close_array(g);
}

static void
tags(struct gen *g, const struct iam_tags *t)
{
	if (t->n == 0)
		return;
	key(g, "tags");
	open_map(g);
	for (size_t i = 0; i < t->n; i++)
		str(g, t->v[i].key, t->v[i].value);
	close_map(g);
}

static void
policy_map(struct gen *g, const char *k, const struct iam_named_policy *v,
	   size_t n)
{
	if (n == 0)
		return;
	key(g, k);
	open_map(g);
	for (size_t i = 0; i < n; i++) {
		if (v[i].doc == NULL) {
			g->st = yajl_gen_invalid_string;
			return;
		}
		key(g, v[i].name);
		json(g, v[i].doc);
	}
	close_map(g);
}

static void
account(struct gen *g, const struct iam_identity *id)
{
	const struct iam_password_policy *pp = &id->password_policy;

	key(g, "account");
	open_map(g);
	if (id->account.id != NULL)
		str(g, "id", id->account.id);
	if (id->account.alias != NULL)
		str(g, "alias", id->account.alias);
	close_map(g);
	key(g, "password_policy");
	open_map(g);
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
		open_map(g);
		num(g, "max_failed_attempts", pp->lockout.max_failed_attempts);
		num(g, "lockout_seconds", pp->lockout.lockout_seconds);
		close_map(g);
	} else if (g->st == yajl_gen_status_ok) {
		g->st = yajl_gen_null(g->g);	/* off: absent would mean on */
	}
	close_map(g);
	if (id->n_retired > 0) {
		key(g, "retired_ids");
		open_array(g);
		for (size_t i = 0; i < id->n_retired; i++)
			if (g->st == yajl_gen_status_ok)
				g->st = yajl_gen_integer(g->g,
							 id->retired_ids[i]);
		close_array(g);
	}
}

static void
ssh_keys(struct gen *g, const struct iam_user *u)
{
	if (u->n_ssh_keys == 0)
		return;
	key(g, "ssh_keys");
	open_array(g);
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];

		open_map(g);
		str(g, "id", k->id);
		str(g, "key", k->key);
		gen_time_member(g, "created", k->created);
		str(g, "status", k->active ? "Active" : "Inactive");
		close_map(g);
	}
	close_array(g);
}

static void
user(struct gen *g, const struct iam_user *u)
{
	char home[64];

	open_map(g);
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
	close_map(g);
}

static void
identity(struct gen *g, const struct iam_identity *id)
{
	open_map(g);
	account(g, id);
	key(g, "users");
	open_array(g);
	for (size_t i = 0; i < id->n_users; i++)
		user(g, &id->users[i]);
	close_array(g);
	key(g, "groups");
	open_array(g);
	for (size_t i = 0; i < id->n_groups; i++) {
		const struct iam_group *gr = &id->groups[i];

		open_map(g);
		str(g, "name", gr->name);
		num(g, "gid", gr->gid);
		names(g, "policies", gr->policies, gr->n_policies);
		close_map(g);
	}
	close_array(g);
	if (id->n_roles > 0) {
		key(g, "roles");
		open_array(g);
		for (size_t i = 0; i < id->n_roles; i++) {
			const struct iam_role *r = &id->roles[i];

			open_map(g);
			str(g, "name", r->name);
			num(g, "max_session_seconds", r->max_session_seconds);
			tags(g, &r->tags);
			if (r->trust_policy.doc != NULL) {
				key(g, "trust_policy");
				json(g, r->trust_policy.doc);
			}
			names(g, "policies", r->policies, r->n_policies);
			close_map(g);
		}
		close_array(g);
	}
	policy_map(g, "policies", id->policies, id->n_policies);
	close_map(g);
}

int
iam_identity_write(const struct iam_identity *id, struct iam_buf *out)
{
	struct gen g = { yajl_gen_alloc(NULL), yajl_gen_status_ok };
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
