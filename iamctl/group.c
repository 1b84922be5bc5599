/*
 * group.c - iamctl group add|del|add-user|remove-user|list.
 *
 * Membership lives in each user's "groups" list, so adding a member
 * changes the user, and deleting a group removes it from every user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jsonout.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl group add NAME [--gid N]\n"
	      "       iamctl group del NAME\n"
	      "       iamctl group add-user GROUP USER\n"
	      "       iamctl group remove-user GROUP USER\n"
	      "       iamctl group list [--json]\n", f);
}

static int
group_add(struct iamctl *ctl, const char *name, const char *gidopt)
{
	struct host_ids h;
	struct iam_json g;
	struct edit e;
	char what[160], why[160], gidtext[16];
	uint32_t gid;
	int r, rc;

	if (!iam_name_valid(name)) {
		iamctl_err("group add: '%s' is not a valid name "
			   "(^[a-z_][a-z0-9_.-]{0,31}$)", name);
		return EXIT_REFUSED;
	}
	rc = edit_open(ctl, &e);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	if (iam_identity_group(e.id, name) != NULL) {
		iamctl_err("group add: group '%s' exists already", name);
		goto out;
	}
	r = host_ids_load(&h);
	if (r < 0) {
		iamctl_err("group add: cannot read the local account files: "
			   "%s", strerror(-r));
		goto out;
	}
	if (gidopt != NULL) {
		if (parse_id(gidopt, e.cfg->gid_min, e.cfg->gid_max, &gid) < 0)
			iamctl_err("group add: gid '%s' is not a number in "
				   "%u-%u", gidopt, e.cfg->gid_min,
				   e.cfg->gid_max);
		else if (id_taken(e.id, &h, gid, true, why, sizeof(why)))
			iamctl_err("group add: %s", why);
		else
			rc = EXIT_OK;
	} else if (id_pick(e.id, &h, e.cfg->gid_min, e.cfg->gid_max, false,
			   true, &gid) < 0) {
		iamctl_err("group add: no free gid left in %u-%u",
			   e.cfg->gid_min, e.cfg->gid_max);
	} else {
		rc = EXIT_OK;
	}
	host_ids_release(&h);
	if (rc != EXIT_OK)
		goto out;
	g = j_set(&e, NULL, "name", j_string(&e, name));
	g = j_set(&e, &g, "gid", j_int(&e, gid));
	e.root = j_set(&e, &e.root, "groups",
		       j_push(&e, iam_json_get(&e.root, "groups"), g));
	snprintf(what, sizeof(what), "group %s added (gid %u)", name, gid);
	snprintf(gidtext, sizeof(gidtext), "%u", gid);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "group add" }, { "groupName", name },
		{ "gid", gidtext } }, 3);
out:
	edit_close(&e);
	return rc;
}

/* Drop group from the "groups" list of user index i, if it is there. */
static void
drop_member(struct edit *e, size_t i, const char *group)
{
	const struct iam_json *users = iam_json_get(&e->root, "users");
	const struct iam_json *list = iam_json_get(&users->u.items[i], "groups");
	ssize_t k = j_find_string(list, group);

	if (k < 0)
		return;
	if (list->len == 1)
		edit_del_in(e, "users", i, "groups");
	else
		edit_set_in(e, "users", i, "groups",
			    j_remove(e, list, (size_t)k));
}

static int
group_del(struct iamctl *ctl, const char *name)
{
	const struct iam_json *users;
	struct edit e;
	char what[160];
	size_t g;
	int rc;

	rc = edit_open_group(ctl, &e, "group del", name, &g);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	for (size_t i = 0; i < e.id->n_users; i++) {
		if (strcmp(e.id->users[i].primary_group, name) == 0) {
			iamctl_err("group del: '%s' is the primary group of "
				   "user '%s'; refused", name,
				   e.id->users[i].name);
			goto out;
		}
	}
	e.root = j_set(&e, &e.root, "groups",
		       j_remove(&e, iam_json_get(&e.root, "groups"), g));
	users = iam_json_get(&e.root, "users");
	for (size_t i = 0; users != NULL && users->type == IAM_JSON_ARRAY &&
			   i < users->len; i++) {
		drop_member(&e, i, name);
		users = iam_json_get(&e.root, "users");
	}
	snprintf(what, sizeof(what), "group %s deleted", name);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "group del" }, { "groupName", name } }, 2);
out:
	edit_close(&e);
	return rc;
}

static int
membership(struct iamctl *ctl, const char *group, const char *user, bool add)
{
	const char *cmd = add ? "group add-user" : "group remove-user";
	const struct iam_json *users, *list;
	const struct iam_user *u;
	struct edit e;
	char what[160];
	ssize_t i;
	int rc;

	rc = edit_open_group(ctl, &e, cmd, group, NULL);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	users = iam_json_get(&e.root, "users");
	i = j_find_named(users, user);
	u = iam_identity_user(e.id, user);
	if (i < 0 || u == NULL) {
		iamctl_err("%s: no such user '%s'", cmd, user);
		goto out;
	}
	list = iam_json_get(&users->u.items[i], "groups");
	if (add && j_find_string(list, group) >= 0) {
		printf("user %s is already a member of %s\n", user, group);
		rc = EXIT_OK;
		goto out;
	}
	if (!add && j_find_string(list, group) < 0) {
		iamctl_err("%s: user '%s' is not a member of '%s'%s", cmd, user,
			   group, strcmp(u->primary_group, group) == 0 ?
			   " (it is the primary group)" : "");
		goto out;
	}
	if (add)
		edit_set_in(&e, "users", (size_t)i, "groups",
			    j_push(&e, list, j_string(&e, group)));
	else
		drop_member(&e, (size_t)i, group);
	snprintf(what, sizeof(what), "user %s %s group %s", user,
		 add ? "added to" : "removed from", group);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", cmd }, { "groupName", group },
		{ "userName", user } }, 3);
out:
	edit_close(&e);
	return rc;
}

/* The users that list group g among their groups (as getent group). */
static size_t
members(const struct iam_identity *id, const char *g, const char **v)
{
	size_t n = 0;

	for (size_t i = 0; i < id->n_users; i++)
		for (size_t k = 0; k < id->users[i].n_groups; k++)
			if (strcmp(id->users[i].groups[k], g) == 0) {
				v[n++] = id->users[i].name;
				break;
			}
	return n;
}

static void
print_words(const char *const *v, size_t n, bool last)
{
	if (n == 0)
		fputs("-", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", v[i]);
	putchar(last ? '\n' : ' ');
}

static int
group_list(struct iamctl *ctl, bool json)
{
	struct iam_identity *id = NULL;
	const char **who = NULL;
	struct jout j;
	int rc;

	rc = load_for(ctl, "group list", NEED_ROOT, &id, NULL, NULL);
	if (rc != EXIT_OK)
		return rc;
	who = calloc(id->n_users + 1, sizeof(*who));
	if (who == NULL) {
		iamctl_err("group list: out of memory");
		iam_identity_free(id);
		return EXIT_REFUSED;
	}
	if (json) {
		jout_begin(&j);
		jout_array(&j);
	} else {
		printf("%-32s %6s  %-30s %s\n", "NAME", "GID", "MEMBERS",
		       "POLICIES");
	}
	for (size_t i = 0; i < id->n_groups; i++) {
		const struct iam_group *g = &id->groups[i];
		size_t n = members(id, g->name, who);

		if (json) {
			jout_map(&j);
			jout_kstr(&j, "name", g->name);
			jout_kint(&j, "gid", g->gid);
			jout_kstrs(&j, "members", who, n);
			jout_kstrs(&j, "policies", g->policies, g->n_policies);
			jout_map_end(&j);
			continue;
		}
		printf("%-32s %6u  ", g->name, g->gid);
		print_words(who, n, false);
		print_words(g->policies, g->n_policies, true);
	}
	if (json) {
		jout_array_end(&j);
		rc = jout_end(&j);
	} else if (fflush(stdout) != 0) {
		rc = EXIT_USAGE;
	}
	free(who);
	iam_identity_free(id);
	return rc;
}

int
cmd_group(struct iamctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *gid = NULL;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "list") == 0) {
		bool json = iamctl_take_flag(&argc, argv, "--json");

		if (argc != 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return group_list(ctl, json);
	}
	for (int i = 2; i < argc && i < (strcmp(sub, "add") == 0 ? 3 : 4); i++)
		if (iamctl_bad_name("group", argv[i]))
			return EXIT_USAGE;
	if (strcmp(sub, "add") == 0 && argc >= 3) {
		int i = 3, m = 0;

		if (argc > 3 &&
		    ((m = opt_value(argc, argv, &i, "--gid", &gid)) != 1 ||
		     i + 1 != argc))
			m = -1;
		if (m < 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
	} else if (!((strcmp(sub, "del") == 0 && argc == 3) ||
		     ((strcmp(sub, "add-user") == 0 ||
		       strcmp(sub, "remove-user") == 0) && argc == 4))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = need_root("group");
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(sub, "add") == 0)
		return group_add(ctl, argv[2], gid);
	if (strcmp(sub, "del") == 0)
		return group_del(ctl, argv[2]);
	return membership(ctl, argv[2], argv[3], strcmp(sub, "add-user") == 0);
}
