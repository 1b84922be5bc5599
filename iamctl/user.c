/*
 * user.c - iamctl user add|del|list|show|disable|enable.
 *
 * New ids never reuse a retired one and never collide with the host's
 * own accounts or subordinate ids; without --primary-group the user
 * gets a group of its own name and, where free, its own id, as Debian's
 * useradd does (USERGROUPS_ENAB).  Deleting a user retires the uid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "iam/roles.h"
#include "jsonout.h"

#define MAX_LIST 64	/* --group and --tag options of one command */

static void
usage(FILE *f)
{
	fputs("usage: iamctl user add NAME [--uid N] [--primary-group G] "
	      "[--group G]...\n"
	      "                 [--gecos S] [--home DIR] [--shell PATH] "
	      "[--tag KEY=VALUE]...\n"
	      "       iamctl user del NAME\n"
	      "       iamctl user list [--json]\n"
	      "       iamctl user show NAME [--json]\n"
	      "       iamctl user disable NAME\n"
	      "       iamctl user enable NAME\n", f);
}

struct add_opts {
	const char *name, *uid, *primary, *gecos, *home, *shell;
	const char *groups[MAX_LIST];
	size_t n_groups;
	const char *tags[MAX_LIST];
	size_t n_tags;
};

static int
parse_add(int argc, char **argv, struct add_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 2; i < argc; i++) {
		const char *v;
		int m = 0;

		if ((m = opt_value(argc, argv, &i, "--uid", &o->uid)) ||
		    (m = opt_value(argc, argv, &i, "--primary-group",
				   &o->primary)) ||
		    (m = opt_value(argc, argv, &i, "--gecos", &o->gecos)) ||
		    (m = opt_value(argc, argv, &i, "--home", &o->home)) ||
		    (m = opt_value(argc, argv, &i, "--shell", &o->shell))) {
			if (m < 0)
				return -1;
		} else if ((m = opt_value(argc, argv, &i, "--group", &v))) {
			if (m < 0 || o->n_groups == MAX_LIST)
				return -1;
			o->groups[o->n_groups++] = v;
		} else if ((m = opt_value(argc, argv, &i, "--tag", &v))) {
			if (m < 0 || o->n_tags == MAX_LIST ||
			    strchr(v, '=') == NULL || v[0] == '=') {
				iamctl_err("user add: --tag wants KEY=VALUE");
				return -1;
			}
			o->tags[o->n_tags++] = v;
		} else if (argv[i][0] == '-' || o->name != NULL) {
			iamctl_err("user add: unexpected '%s'", argv[i]);
			return -1;
		} else {
			o->name = argv[i];
		}
	}
	if (o->name == NULL) {
		iamctl_err("user add: NAME missing");
		return -1;
	}
	return 0;
}

/* The uid and the gid of the new user's own group (or 0 for none). */
static int
choose_ids(struct edit *e, const struct add_opts *o, bool own_group,
	   uint32_t *uid, uint32_t *gid)
{
	const struct iam_config *cfg = e->cfg;
	struct host_ids h;
	char why[160];
	int r, rc = EXIT_REFUSED;

	r = host_ids_load(&h);
	if (r < 0) {
		iamctl_err("user add: cannot read the local account files: %s",
			   strerror(-r));
		return EXIT_REFUSED;
	}
	if (o->uid != NULL) {
		if (parse_id(o->uid, cfg->uid_min, cfg->uid_max, uid) < 0) {
			iamctl_err("user add: uid '%s' is not a number in "
				   "%u-%u", o->uid, cfg->uid_min, cfg->uid_max);
			goto out;
		}
		if (id_taken(e->id, &h, *uid, false, why, sizeof(why))) {
			iamctl_err("user add: %s", why);
			goto out;
		}
	} else if (id_pick(e->id, &h, cfg->uid_min, cfg->uid_max, true,
			   own_group && cfg->gid_min <= cfg->uid_min &&
			   cfg->gid_max >= cfg->uid_max, uid) < 0 &&
		   id_pick(e->id, &h, cfg->uid_min, cfg->uid_max, true, false,
			   uid) < 0) {
		iamctl_err("user add: no free uid left in %u-%u",
			   cfg->uid_min, cfg->uid_max);
		goto out;
	}
	*gid = 0;
	if (own_group) {
		/* The same id as the uid where it is free, as useradd does. */
		if (*uid >= cfg->gid_min && *uid <= cfg->gid_max &&
		    id_taken(e->id, &h, *uid, true, why, sizeof(why)) == NULL)
			*gid = *uid;
		else if (id_pick(e->id, &h, cfg->gid_min, cfg->gid_max, false,
				 true, gid) < 0) {
			iamctl_err("user add: no free gid left in %u-%u",
				   cfg->gid_min, cfg->gid_max);
			goto out;
		}
	}
	rc = EXIT_OK;
out:
	host_ids_release(&h);
	return rc;
}

/* Every group named must exist: a reference to a missing one is refused. */
static int
check_groups(struct edit *e, const struct add_opts *o)
{
	if (o->primary != NULL && iam_identity_group(e->id, o->primary) == NULL) {
		iamctl_err("user add: no such group '%s'", o->primary);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < o->n_groups; i++) {
		if (iam_identity_group(e->id, o->groups[i]) == NULL) {
			iamctl_err("user add: no such group '%s'", o->groups[i]);
			return EXIT_REFUSED;
		}
	}
	if (o->primary == NULL && iam_identity_group(e->id, o->name) != NULL) {
		iamctl_err("user add: a group named '%s' exists already; to "
			   "make it the primary group, add --primary-group %s",
			   o->name, o->name);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static struct iam_json
user_object(struct edit *e, const struct add_opts *o, uint32_t uid)
{
	struct iam_json u = j_set(e, NULL, "name", j_string(e, o->name));
	struct iam_json groups = { .type = IAM_JSON_ARRAY };
	struct iam_json tags = { .type = IAM_JSON_OBJECT };
	char now[32];

	u = j_set(e, &u, "uid", j_int(e, uid));
	u = j_set(e, &u, "primary_group",
		  j_string(e, o->primary ? o->primary : o->name));
	if (o->gecos != NULL)
		u = j_set(e, &u, "gecos", j_string(e, o->gecos));
	if (o->home != NULL)
		u = j_set(e, &u, "home", j_string(e, o->home));
	if (o->shell != NULL)
		u = j_set(e, &u, "shell", j_string(e, o->shell));
	if (iam_format_time(time(NULL), now, sizeof(now)) == 0)
		u = j_set(e, &u, "created", j_string(e, now));
	for (size_t i = 0; i < o->n_groups; i++)
		if (j_find_string(&groups, o->groups[i]) < 0)
			groups = j_push(e, &groups, j_string(e, o->groups[i]));
	if (o->n_groups > 0)
		u = j_set(e, &u, "groups", groups);
	for (size_t i = 0; i < o->n_tags; i++) {
		char *kv = strdup(o->tags[i]), *eq;

		if (kv == NULL) {
			e->oom = true;
			break;
		}
		eq = strchr(kv, '=');
		*eq = '\0';
		tags = j_set(e, &tags, kv, j_string(e, eq + 1));
		free(kv);
	}
	if (o->n_tags > 0)
		u = j_set(e, &u, "tags", tags);
	return u;
}

static int
user_add(struct iamctl *ctl, int argc, char **argv)
{
	struct add_opts o;
	struct edit e;
	uint32_t uid = 0, gid = 0;
	char what[256], uidtext[16];
	int rc;

	if (parse_add(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!iam_name_valid(o.name)) {
		iamctl_err("user add: '%s' is not a valid name "
			   "(^[a-z_][a-z0-9_.-]{0,31}$)", o.name);
		return EXIT_REFUSED;
	}
	rc = edit_open(ctl, &e);
	if (rc != EXIT_OK)
		return rc;
	if (iam_identity_user(e.id, o.name) != NULL) {
		iamctl_err("user add: user '%s' exists already", o.name);
		rc = EXIT_REFUSED;
		goto out;
	}
	rc = check_groups(&e, &o);
	if (rc == EXIT_OK)
		rc = choose_ids(&e, &o, o.primary == NULL, &uid, &gid);
	if (rc != EXIT_OK)
		goto out;
	e.root = j_set(&e, &e.root, "users",
		       j_push(&e, iam_json_get(&e.root, "users"),
			      user_object(&e, &o, uid)));
	if (o.primary == NULL) {
		struct iam_json g = j_set(&e, NULL, "name",
					  j_string(&e, o.name));

		g = j_set(&e, &g, "gid", j_int(&e, gid));
		e.root = j_set(&e, &e.root, "groups",
			       j_push(&e, iam_json_get(&e.root, "groups"), g));
		snprintf(what, sizeof(what), "user %s added (uid %u, own "
			 "group %s gid %u)", o.name, uid, o.name, gid);
	} else {
		snprintf(what, sizeof(what), "user %s added (uid %u, primary "
			 "group %s)", o.name, uid, o.primary);
	}
	snprintf(uidtext, sizeof(uidtext), "%u", uid);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "user add" }, { "userName", o.name },
		{ "uid", uidtext } }, 3);
out:
	edit_close(&e);
	return rc;
}

/* True when a user other than skip uses group as primary or member. */
static bool
group_used(const struct iam_identity *id, const char *group, const char *skip)
{
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		if (strcmp(u->name, skip) == 0)
			continue;
		if (strcmp(u->primary_group, group) == 0)
			return true;
		for (size_t k = 0; k < u->n_groups; k++)
			if (strcmp(u->groups[k], group) == 0)
				return true;
	}
	return false;
}

/*
 * A disabled or deleted user keeps no elevation: end their role sessions
 * at once (sudo_iam also ignores them, since the user is gone from the
 * snapshot or disabled there, but a re-enabled user must not get them
 * back).
 */
static void
end_role_sessions(struct iamctl *ctl, const char *name, uint32_t uid,
		  const char *why)
{
	char uidtext[16];
	int n;

	n = iam_role_sessions_end_uid(ctl->cfg->run_dir, uid, 0);
	if (n < 0 && n != -ENOENT) {
		iamctl_err("%s: role sessions of %s not ended: %s",
			   ctl->cfg->run_dir, name, strerror(-n));
		return;
	}
	if (n <= 0)
		return;
	snprintf(uidtext, sizeof(uidtext), "%u", uid);
	(void)trail(ctl->cfg, "RoleSessionEnd", NULL, (struct iam_event_param[]){
		{ "userName", name }, { "uid", uidtext }, { "why", why } }, 3);
	printf("%d role session%s of %s ended\n", n, n == 1 ? "" : "s", name);
}

static int
user_del(struct iamctl *ctl, const char *name)
{
	const struct iam_user *u;
	struct iam_json retired;
	struct edit e;
	char what[256], uidtext[16];
	bool own = false;
	uint32_t uid;
	size_t idx;
	int rc;

	rc = edit_open_user(ctl, &e, "user del", name, &idx);
	if (rc != EXIT_OK)
		return rc;
	u = iam_identity_user(e.id, name);
	e.root = j_set(&e, &e.root, "users",
		       j_remove(&e, iam_json_get(&e.root, "users"), idx));
	retired = j_push(&e, iam_json_get(&e.root, "retired_ids"),
			 j_int(&e, u->uid));
	e.root = j_set(&e, &e.root, "retired_ids", retired);
	/* Its own group goes with it when nobody else uses it (userdel). */
	if (strcmp(u->primary_group, u->name) == 0 &&
	    !group_used(e.id, u->name, u->name)) {
		ssize_t g = j_find_named(iam_json_get(&e.root, "groups"),
					 u->name);

		if (g >= 0) {
			e.root = j_set(&e, &e.root, "groups",
				       j_remove(&e, iam_json_get(&e.root,
								 "groups"),
						(size_t)g));
			own = true;
		}
	}
	snprintf(what, sizeof(what), "user %s deleted (uid %u retired%s)",
		 name, u->uid, own ? ", own group deleted" : "");
	snprintf(uidtext, sizeof(uidtext), "%u", u->uid);
	uid = u->uid;
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "user del" }, { "userName", name },
		{ "uid", uidtext } }, 3);
	if (rc == EXIT_OK)
		end_role_sessions(ctl, name, uid, "user deleted");
	edit_close(&e);
	return rc;
}

static int
user_able(struct iamctl *ctl, const char *name, bool disable)
{
	const char *cmd = disable ? "user disable" : "user enable";
	const struct iam_user *u;
	struct edit e;
	char what[128];
	uint32_t uid;
	size_t idx;
	int rc;

	rc = edit_open_user(ctl, &e, cmd, name, &idx);
	if (rc != EXIT_OK)
		return rc;
	u = iam_identity_user(e.id, name);
	if (u->disabled == disable) {
		printf("user %s is already %s\n", name,
		       disable ? "disabled" : "enabled");
		goto out;
	}
	if (disable)
		edit_set_in(&e, "users", idx, "disabled", j_bool(true));
	else
		edit_del_in(&e, "users", idx, "disabled");
	snprintf(what, sizeof(what), "user %s %s", name,
		 disable ? "disabled" : "enabled");
	uid = u->uid;
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", cmd }, { "userName", name } }, 2);
	if (rc == EXIT_OK && disable)
		end_role_sessions(ctl, name, uid, "user disabled");
out:
	edit_close(&e);
	return rc;
}

static void
print_list(const char *label, const char *const *v, size_t n)
{
	printf("%-22s", label);
	if (n == 0)
		fputs("-", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
	putchar('\n');
}

static void
print_time(const char *label, int64_t t)
{
	char buf[32];

	if (t == 0 || iam_format_time(t, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "unknown");
	printf("%-22s%s\n", label, buf);
}

static const char *
algo_name(enum iam_totp_algo a)
{
	return a == IAM_TOTP_SHA256 ? "SHA256" :
	       a == IAM_TOTP_SHA512 ? "SHA512" : "SHA1";
}

/* Everything about a user but its secrets: no hash, no MFA secret. */
static void
show(const struct iam_identity *id, const struct iam_user *u)
{
	char buf[64];

	printf("%-22s%s\n", "name:", u->name);
	printf("%-22sarn:iam:iam::%s:user/%s\n", "arn:", id->account.id,
	       u->name);
	printf("%-22s%u\n", "uid:", u->uid);
	printf("%-22s%s (gid %u)\n", "primary group:", u->primary_group,
	       u->gid);
	print_list("groups:", u->groups, u->n_groups);
	printf("%-22s%s\n", "gecos:", u->gecos);
	printf("%-22s%s\n", "home:", u->home);
	printf("%-22s%s\n", "shell:", u->shell);
	print_time("created:", u->created);
	print_list("policies:", u->policies, u->n_policies);
	printf("%-22s", "inline policies:");
	for (size_t i = 0; i < u->n_inline; i++)
		printf("%s%s", i ? ", " : "", u->inline_policies[i].name);
	puts(u->n_inline ? "" : "-");
	printf("%-22s%s\n", "permissions boundary:",
	       u->permissions_boundary ? u->permissions_boundary : "-");
	printf("%-22s", "tags:");
	for (size_t i = 0; i < u->tags.n; i++)
		printf("%s%s=%s", i ? ", " : "", u->tags.v[i].key,
		       u->tags.v[i].value);
	puts(u->tags.n ? "" : "-");
	if (u->password.hash == NULL) {
		printf("%-22snot set\n", "password:");
	} else {
		if (u->password.changed == 0 ||
		    iam_format_time(u->password.changed, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "at an unknown time");
		printf("%-22sset, changed %s%s\n", "password:", buf,
		       u->password.must_change ? ", must change at next login"
					       : "");
	}
	if (u->mfa.secret == NULL)
		printf("%-22snot enabled\n", "mfa:");
	else
		printf("%-22senabled (%s, %u digits)\n", "mfa:",
		       algo_name(u->mfa.algorithm), u->mfa.digits);
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];

		if (iam_format_time(k->created, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "unknown");
		printf("%-22s%s (%s, created %s)\n", i ? "" : "ssh keys:",
		       k->id, k->active ? "Active" : "Inactive", buf);
	}
	if (u->n_ssh_keys == 0)
		printf("%-22s-\n", "ssh keys:");
	printf("%-22s%s\n", "status:", u->disabled ? "disabled" : "enabled");
}

/* Open a user's object with what list and show both say first. */
static void
json_user_head(struct jout *j, const struct iam_identity *id,
	       const struct iam_user *u)
{
	char arn[512];

	snprintf(arn, sizeof(arn), "arn:iam:iam::%s:user/%s", id->account.id,
		 u->name);
	jout_map(j);
	jout_kstr(j, "name", u->name);
	jout_kstr(j, "arn", arn);
	jout_kint(j, "uid", u->uid);
	jout_kstr(j, "primary_group", u->primary_group);
	jout_kint(j, "gid", u->gid);
}

/* user list --json: one object a user, the columns of the table. */
static int
list_json(const struct iam_identity *id)
{
	struct jout j;

	jout_begin(&j);
	jout_array(&j);
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		json_user_head(&j, id, u);
		jout_kbool(&j, "disabled", u->disabled);
		jout_kbool(&j, "mfa_enabled", u->mfa.secret != NULL);
		jout_map_end(&j);
	}
	jout_array_end(&j);
	return jout_end(&j);
}

static void
show_json_keys(struct jout *j, const struct iam_user *u)
{
	jout_key(j, "ssh_keys");
	jout_array(j);
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];

		jout_map(j);
		jout_kstr(j, "id", k->id);
		jout_kstr(j, "status", k->active ? "Active" : "Inactive");
		jout_ktime(j, "created", k->created);
		jout_map_end(j);
	}
	jout_array_end(j);
}

/* user show --json: what the text shows, typed; never a secret. */
static int
show_json(const struct iam_identity *id, const struct iam_user *u)
{
	struct jout j;

	jout_begin(&j);
	json_user_head(&j, id, u);
	jout_kstrs(&j, "groups", u->groups, u->n_groups);
	jout_kstr(&j, "gecos", u->gecos);
	jout_kstr(&j, "home", u->home);
	jout_kstr(&j, "shell", u->shell);
	jout_ktime(&j, "created", u->created);
	jout_kstrs(&j, "policies", u->policies, u->n_policies);
	jout_key(&j, "inline_policies");
	jout_array(&j);
	for (size_t i = 0; i < u->n_inline; i++)
		jout_str(&j, u->inline_policies[i].name);
	jout_array_end(&j);
	jout_kstr(&j, "permissions_boundary", u->permissions_boundary);
	jout_key(&j, "tags");
	jout_map(&j);
	for (size_t i = 0; i < u->tags.n; i++)
		jout_kstr(&j, u->tags.v[i].key, u->tags.v[i].value);
	jout_map_end(&j);
	jout_key(&j, "password");
	jout_map(&j);
	jout_kbool(&j, "set", u->password.hash != NULL);
	jout_ktime(&j, "changed", u->password.hash != NULL ?
		   u->password.changed : 0);
	jout_kbool(&j, "must_change", u->password.hash != NULL &&
		   u->password.must_change);
	jout_map_end(&j);
	jout_key(&j, "mfa");
	jout_map(&j);
	jout_kbool(&j, "enabled", u->mfa.secret != NULL);
	if (u->mfa.secret != NULL) {
		jout_kstr(&j, "algorithm", algo_name(u->mfa.algorithm));
		jout_kint(&j, "digits", u->mfa.digits);
	}
	jout_map_end(&j);
	show_json_keys(&j, u);
	jout_kbool(&j, "disabled", u->disabled);
	jout_map_end(&j);
	return jout_end(&j);
}

static int
user_read(struct iamctl *ctl, const char *name, bool json)
{
	struct iam_identity *id = NULL;
	const struct iam_user *u;
	int rc;

	rc = load_for(ctl, name != NULL ? "user show" : "user list", NEED_ROOT, &id, NULL, NULL);
	if (rc != EXIT_OK)
		return rc;
	if (name == NULL && json) {
		rc = list_json(id);
	} else if (name == NULL) {
		printf("%-32s %6s  %-20s %-8s %s\n", "NAME", "UID",
		       "PRIMARY GROUP", "STATUS", "MFA");
		for (size_t i = 0; i < id->n_users; i++) {
			u = &id->users[i];
			printf("%-32s %6u  %-20s %-8s %s\n", u->name, u->uid,
			       u->primary_group,
			       u->disabled ? "disabled" : "enabled",
			       u->mfa.secret ? "yes" : "no");
		}
	} else if ((u = iam_identity_user(id, name)) == NULL) {
		iamctl_err("user show: no such user '%s'", name);
		rc = EXIT_REFUSED;
	} else if (json) {
		rc = show_json(id, u);
	} else {
		show(id, u);
	}
	iam_identity_free(id);
	if (fflush(stdout) != 0)
		rc = EXIT_USAGE;
	return rc;
}

int
cmd_user(struct iamctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	bool json = false;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0)
		json = iamctl_take_flag(&argc, argv, "--json");
	if (strcmp(sub, "list") == 0 && argc == 2)
		return user_read(ctl, NULL, json);
	if (strcmp(sub, "add") != 0 && argc != 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "show") != 0 && strcmp(sub, "del") != 0 &&
	    strcmp(sub, "disable") != 0 && strcmp(sub, "enable") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "add") != 0 && iamctl_bad_name("user", argv[2]))
		return EXIT_USAGE;
	if (strcmp(sub, "show") == 0)
		return user_read(ctl, argv[2], json);
	rc = need_root("user");
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(sub, "add") == 0)
		return user_add(ctl, argc, argv);
	if (strcmp(sub, "del") == 0)
		return user_del(ctl, argv[2]);
	if (strcmp(sub, "disable") == 0)
		return user_able(ctl, argv[2], true);
	if (strcmp(sub, "enable") == 0)
		return user_able(ctl, argv[2], false);
	usage(stderr);
	return EXIT_USAGE;
}
