/*
 * policy.c - iamctl policy put|del|list|show|attach|detach|simulate.
 *
 * Managed policies live in the identity file's "policies" object and are
 * attached by name to users, groups and roles.  A document is validated
 * as part of the whole file, so a policy AWS would refuse is refused
 * here and nothing changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "jsonout.h"

#define POLICY_MAX_BYTES (1u << 20)	/* one policy document file */

static void
usage(FILE *f)
{
	fputs("usage: iamctl policy put NAME FILE\n"
	      "       iamctl policy del NAME\n"
	      "       iamctl policy list [--json]\n"
	      "       iamctl policy show NAME [--json]\n"
	      "       iamctl policy attach NAME (--user U | --group G | --role R)\n"
	      "       iamctl policy detach NAME (--user U | --group G | --role R)\n"
	      "       iamctl policy simulate --policy FILE [--policy FILE]... "
	      "[--boundary FILE]\n"
	      "                              --request FILE [--json]\n", f);
}

/* Read FILE ("-": standard input), at most POLICY_MAX_BYTES. */
static int
read_input(const char *path, struct iam_buf *out)
{
	char chunk[8192];
	int fd, r = 0;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	     open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > POLICY_MAX_BYTES) {
			r = -EFBIG;
			break;
		}
		r = iam_buf_add(out, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (r == 0 && out->buf == NULL)
		r = iam_buf_adds(out, "");
	return r;
}

static int
policy_put(struct iamctl *ctl, const char *name, const char *file)
{
	struct iam_json_doc *doc = NULL;
	struct iam_buf in = IAM_BUF_INIT;
	const struct iam_json *pols;
	struct edit e;
	char err[512], what[256];
	bool existed;
	int r, rc;

	r = read_input(file, &in);
	if (r < 0) {
		iamctl_err("policy put: %s: %s", file,
			   r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		iam_buf_release(&in);
		return r == -EFBIG ? EXIT_REFUSED : EXIT_USAGE;
	}
	r = iam_json_parse(in.buf, in.len, NULL, &doc, err, sizeof(err));
	iam_buf_release(&in);
	if (r < 0) {
		iamctl_err("policy put: %s: %s", file, err);
		return EXIT_REFUSED;
	}
	if (iam_json_root(doc)->type != IAM_JSON_OBJECT) {
		iamctl_err("policy put: %s: a policy document is a JSON object",
			   file);
		iam_json_free(doc);
		return EXIT_REFUSED;
	}
	rc = edit_open(ctl, &e);
	if (rc != EXIT_OK) {
		iam_json_free(doc);
		return rc;
	}
	pols = iam_json_get(&e.root, "policies");
	existed = iam_json_get(pols, name) != NULL;
	e.root = j_set(&e, &e.root, "policies",
		       j_set(&e, pols, name, *iam_json_root(doc)));
	snprintf(what, sizeof(what), "policy %s %s", name,
		 existed ? "replaced" : "added");
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "policy put" }, { "policyName", name } }, 2);
	if (rc == EXIT_OK) {
		snprintf(what, sizeof(what), "policies.%s", name);
		(void)warn_aws_policy(file, what, iam_json_root(doc));
	}
	edit_close(&e);
	iam_json_free(doc);
	return rc;
}

/* Is name one of the n names of v? */
static bool
named_in(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/* Print where policy name is attached; true when anywhere. */
static bool
attachments(const struct iam_identity *id, const char *name, bool print)
{
	bool any = false;

#define SEEN(fmt, who)                                                  \
	do {                                                            \
		any = true;                                             \
		if (print)                                              \
			iamctl_err("policy del: '%s' is attached to " fmt, \
				   name, who);                          \
	} while (0)
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		for (size_t k = 0; k < u->n_policies; k++)
			if (strcmp(u->policies[k], name) == 0)
				SEEN("user '%s'", u->name);
		if (u->permissions_boundary != NULL &&
		    strcmp(u->permissions_boundary, name) == 0)
			SEEN("user '%s' as its permissions boundary", u->name);
	}
	for (size_t i = 0; i < id->n_groups; i++)
		for (size_t k = 0; k < id->groups[i].n_policies; k++)
			if (strcmp(id->groups[i].policies[k], name) == 0)
				SEEN("group '%s'", id->groups[i].name);
	for (size_t i = 0; i < id->n_roles; i++)
		for (size_t k = 0; k < id->roles[i].n_policies; k++)
			if (strcmp(id->roles[i].policies[k], name) == 0)
				SEEN("role '%s'", id->roles[i].name);
#undef SEEN
	return any;
}

static int
policy_del(struct iamctl *ctl, const char *name)
{
	struct edit e;
	char what[256];
	int rc;

	rc = edit_open_policy(ctl, &e, "policy del", name);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	if (attachments(e.id, name, true)) {
		iamctl_err("policy del: detach it first; nothing changed");
		goto out;
	}
	e.root = j_set(&e, &e.root, "policies",
		       j_del(&e, iam_json_get(&e.root, "policies"), name));
	snprintf(what, sizeof(what), "policy %s deleted", name);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "policy del" }, { "policyName", name } }, 2);
out:
	edit_close(&e);
	return rc;
}

/* Where policy name is attached: kind 0 users, 1 groups, 2 roles, 3 as
 * a boundary.  The names go into v (room for every user, group, role). */
static size_t
attached_to(const struct iam_identity *id, const char *name, int kind,
	    const char **v)
{
	size_t n = 0;

	for (size_t i = 0; kind == 0 && i < id->n_users; i++)
		if (named_in(id->users[i].policies, id->users[i].n_policies,
			     name))
			v[n++] = id->users[i].name;
	for (size_t i = 0; kind == 3 && i < id->n_users; i++)
		if (id->users[i].permissions_boundary != NULL &&
		    strcmp(id->users[i].permissions_boundary, name) == 0)
			v[n++] = id->users[i].name;
	for (size_t i = 0; kind == 1 && i < id->n_groups; i++)
		if (named_in(id->groups[i].policies, id->groups[i].n_policies,
			     name))
			v[n++] = id->groups[i].name;
	for (size_t i = 0; kind == 2 && i < id->n_roles; i++)
		if (named_in(id->roles[i].policies, id->roles[i].n_policies,
			     name))
			v[n++] = id->roles[i].name;
	return n;
}

/* policy list --json: each policy and where it is attached. */
static int
list_json(const struct iam_identity *id)
{
	static const char *const keys[] = { "users", "groups", "roles",
					    "boundary_of" };
	size_t most = id->n_users + id->n_groups + id->n_roles + 1;
	const char **v = calloc(most, sizeof(*v));
	struct jout j;

	if (v == NULL) {
		iamctl_err("policy list: out of memory");
		return EXIT_REFUSED;
	}
	jout_begin(&j);
	jout_array(&j);
	for (size_t i = 0; i < id->n_policies; i++) {
		const char *name = id->policies[i].name;

		jout_map(&j);
		jout_kstr(&j, "name", name);
		jout_kbool(&j, "attached", attachments(id, name, false));
		for (int k = 0; k < 4; k++)
			jout_kstrs(&j, keys[k], v, attached_to(id, name, k, v));
		jout_map_end(&j);
	}
	jout_array_end(&j);
	free(v);
	return jout_end(&j);
}

static int
policy_read(struct iamctl *ctl, const char *name, bool json)
{
	struct iam_buf out = IAM_BUF_INIT;
	const struct iam_named_policy *p;
	struct iam_identity *id = NULL;
	int rc;

	rc = load_for(ctl, name != NULL ? "policy show" : "policy list", NEED_ROOT, &id, NULL, NULL);
	if (rc != EXIT_OK)
		return rc;
	if (name == NULL && json) {
		rc = list_json(id);
	} else if (name == NULL) {
		for (size_t i = 0; i < id->n_policies; i++)
			printf("%s%s\n", id->policies[i].name,
			       attachments(id, id->policies[i].name, false) ?
			       "" : " (not attached)");
	} else if ((p = iam_identity_policy(id, name)) == NULL) {
		iamctl_err("policy show: no such policy '%s'", name);
		rc = EXIT_REFUSED;
	} else if (iam_json_write_pretty(p->doc, &out) < 0) {
		iamctl_err("policy show: out of memory");
		rc = EXIT_REFUSED;
	} else {
		printf("%s\n", out.buf);
	}
	iam_buf_release(&out);
	iam_identity_free(id);
	if (fflush(stdout) != 0)
		rc = EXIT_USAGE;
	return rc;
}

static int
policy_attach(struct iamctl *ctl, int argc, char **argv, bool attach)
{
	const char *cmd = attach ? "policy attach" : "policy detach";
	const char *name = argv[2], *who = NULL, *kind = NULL, *array = NULL;
	const char *key = NULL;
	const struct iam_json *list;
	struct edit e;
	char what[256];
	ssize_t i, k;
	int rc, m, j = 3;

	if ((m = opt_value(argc, argv, &j, "--user", &who)) == 1)
		kind = "user", array = "users", key = "userName";
	else if (m == 0 && (m = opt_value(argc, argv, &j, "--group", &who)) == 1)
		kind = "group", array = "groups", key = "groupName";
	else if (m == 0 && (m = opt_value(argc, argv, &j, "--role", &who)) == 1)
		kind = "role", array = "roles", key = "roleName";
	if (kind == NULL || j + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (iamctl_bad_name(cmd, who)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = edit_open_policy(ctl, &e, cmd, name);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	i = j_find_named(iam_json_get(&e.root, array), who);
	if (i < 0) {
		iamctl_err("%s: no such %s '%s'", cmd, kind, who);
		goto out;
	}
	list = iam_json_get(&iam_json_get(&e.root, array)->u.items[i],
			    "policies");
	k = j_find_string(list, name);
	if (attach && k >= 0) {
		printf("policy %s is already attached to %s %s\n", name, kind,
		       who);
		rc = EXIT_OK;
		goto out;
	}
	if (!attach && k < 0) {
		iamctl_err("%s: policy '%s' is not attached to %s '%s'", cmd,
			   name, kind, who);
		goto out;
	}
	if (attach)
		edit_set_in(&e, array, (size_t)i, "policies",
			    j_push(&e, list, j_string(&e, name)));
	else if (list->len == 1)
		edit_del_in(&e, array, (size_t)i, "policies");
	else
		edit_set_in(&e, array, (size_t)i, "policies",
			    j_remove(&e, list, (size_t)k));
	snprintf(what, sizeof(what), "policy %s %s %s %s", name,
		 attach ? "attached to" : "detached from", kind, who);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", cmd }, { "policyName", name },
		{ key, who } }, 3);
out:
	edit_close(&e);
	return rc;
}

int
cmd_policy(struct iamctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	bool json = false;
	int rc;

	if (strcmp(sub, "simulate") == 0)
		return cmd_policy_simulate(ctl, argc - 1, argv + 1);
	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	/* policy show prints JSON in any case: --json is accepted alike. */
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0)
		json = iamctl_take_flag(&argc, argv, "--json");
	if (argc > 2 && iamctl_bad_name("policy", argv[2]))
		return EXIT_USAGE;
	if (strcmp(sub, "list") == 0 && argc == 2)
		return policy_read(ctl, NULL, json);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return policy_read(ctl, argv[2], json);
	if (!((strcmp(sub, "put") == 0 && argc == 4) ||
	      (strcmp(sub, "del") == 0 && argc == 3) ||
	      ((strcmp(sub, "attach") == 0 || strcmp(sub, "detach") == 0) &&
	       argc >= 4))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = need_root("policy");
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(sub, "put") == 0)
		return policy_put(ctl, argv[2], argv[3]);
	if (strcmp(sub, "del") == 0)
		return policy_del(ctl, argv[2]);
	return policy_attach(ctl, argc, argv, strcmp(sub, "attach") == 0);
}
