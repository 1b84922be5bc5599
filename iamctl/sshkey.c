/*
 * sshkey.c - iamctl ssh-key add|activate|deactivate|del|list: a user's
 * SSH public keys, kept in the identity file like AWS access keys, with
 * an id, a creation time and an Active/Inactive status.
 *
 * Changes go through the edit layer (cmd.h): the whole result is
 * validated, written atomically, published (keys.db) and recorded as an
 * IdentityCommit.  A key is refused before anything changes when it is
 * malformed or already belongs to any user: one key must never open two
 * accounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "jsonout.h"

#define MAX_KEY_FILE	(IAM_ID_MAX_SSH_KEY + 4096)
#define DAY		86400

static void
usage(FILE *f)
{
	fputs("usage: iamctl ssh-key add USER FILE|- [--id ID]\n"
	      "       iamctl ssh-key activate USER ID\n"
	      "       iamctl ssh-key deactivate USER ID\n"
	      "       iamctl ssh-key del USER ID\n"
	      "       iamctl ssh-key list USER [--json]\n", f);
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
	      "add         read one OpenSSH public key line (a .pub file, or\n"
	      "            standard input for -) and give it to USER as an\n"
	      "            Active key created now; its id is ID or\n"
	      "            key-YYYYMMDD-N.  Refused when the line is not a\n"
	      "            public key, carries options, or is already a key\n"
	      "            of any user.\n"
	      "activate    let a key log in again.\n"
	      "deactivate  stop a key from logging in; it stays listed.\n"
	      "del         delete a key.\n"
	      "list        the user's keys with their age; 'expired' past\n"
	      "            password_policy.ssh_key_max_age_days.\n"
	      "\n"
	      "Exit status: 0 done, 1 refused, 2 usage error or unreadable "
	      "input.\n", stdout);
}

/* ---- Reading a key line ----------------------------------------------- */

/*
 * The key line of the file's text, trimmed of surrounding blanks, in
 * place.  NULL and *why set when the text is not exactly one line.
 */
static char *
one_line(struct iam_buf *b, const char **why)
{
	char *s = b->buf;
	size_t n = b->len;

	if (s == NULL || n == 0) {
		*why = "it holds no key";
		return NULL;
	}
	if (memchr(s, '\0', n) != NULL) {
		*why = "it contains a NUL byte";
		return NULL;
	}
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	s[n] = '\0';
	s += strspn(s, " \t");
	if (*s == '\0') {
		*why = "it holds no key";
		return NULL;
	}
	if (strncmp(s, "-----BEGIN", 10) == 0 ||
	    strncmp(s, "PuTTY-User-Key-File", 19) == 0) {
		*why = "it is a private key; give the public key (.pub)";
		return NULL;
	}
	if (strpbrk(s, "\r\n") != NULL) {
		*why = "it must hold exactly one key line";
		return NULL;
	}
	return s;
}

/*
 * Read and check the key line of path ("-": standard input) into line.
 * Returns an exit status after printing why.
 */
static int
read_key(const char *path, struct iam_buf *b, char **ret_line)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	const char *why = NULL;
	struct stat st;
	char *line;
	int fd, r;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	     open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		iamctl_err("ssh-key add: %s: %s", name, strerror(errno));
		return EXIT_USAGE;
	}
	if (fd != STDIN_FILENO &&
	    (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		iamctl_err("ssh-key add: %s: not a regular file", name);
		close(fd);
		return EXIT_USAGE;
	}
	r = read_fd(fd, b, MAX_KEY_FILE, false);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r == -EFBIG) {
		iamctl_err("ssh-key add: %s: too large for a public key "
			   "(over %d bytes)", name, MAX_KEY_FILE);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		iamctl_err("ssh-key add: %s: %s", name, strerror(-r));
		return EXIT_USAGE;
	}
	line = one_line(b, &why);
	if (line == NULL || !iam_ssh_key_valid(line, &why)) {
		iamctl_err("ssh-key add: %s: not an OpenSSH public key line: "
			   "%s", name, why);
		return EXIT_REFUSED;
	}
	*ret_line = line;
	return EXIT_OK;
}

/* ---- Finding things in the tree ---------------------------------------- */

static const struct iam_json *
user_node(struct edit *e, size_t idx)
{
	return &iam_json_get(&e->root, "users")->u.items[idx];
}

/* Index of the key with "id": id in the array keys, or -1. */
static ssize_t
find_key(const struct iam_json *keys, const char *id)
{
	if (keys == NULL || keys->type != IAM_JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < keys->len; i++) {
		const struct iam_json *v = iam_json_get(&keys->u.items[i], "id");

		if (v != NULL && v->type == IAM_JSON_STRING &&
		    strcmp(v->u.string, id) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static bool
has_key_id(const struct iam_user *u, const char *id)
{
	for (size_t i = 0; i < u->n_ssh_keys; i++)
		if (strcmp(u->ssh_keys[i].id, id) == 0)
			return true;
	return false;
}

/* ---- add ---------------------------------------------------------------- */

/* The owner of an equal key anywhere in the identity, or an exit status. */
static int
refuse_duplicate(const struct iam_identity *id, const char *line)
{
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];

		for (size_t k = 0; k < u->n_ssh_keys; k++) {
			if (!iam_ssh_key_same(u->ssh_keys[k].key, line))
				continue;
			iamctl_err("ssh-key add: this key is already key '%s' "
				   "of user '%s'; nothing changed",
				   u->ssh_keys[k].id, u->name);
			return EXIT_REFUSED;
		}
	}
	return EXIT_OK;
}

/* A free id "key-YYYYMMDD-N" for u, into buf. */
static int
new_key_id(const struct iam_user *u, time_t now, char *buf, size_t len)
{
	struct tm tm;
	char day[16];

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y%m%d", &tm) == 0)
		return -EINVAL;
	for (unsigned n = 1; n <= IAM_ID_MAX_PER_USER + 1; n++) {
		if (iam_snprintf(buf, len, "key-%s-%u", day, n) < 0)
			return -ENAMETOOLONG;
		if (!has_key_id(u, buf))
			return 0;
	}
	return -ENOSPC;
}

static bool
key_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789+=,.@_-") == n;
}

static struct iam_json
key_object(struct edit *e, const char *kid, const char *line, time_t now)
{
	struct iam_json k = j_set(e, NULL, "id", j_string(e, kid));
	char created[32];

	if (iam_format_time((int64_t)now, created, sizeof(created)) < 0) {
		e->oom = true;
		return k;
	}
	k = j_set(e, &k, "key", j_string(e, line));
	k = j_set(e, &k, "created", j_string(e, created));
	return j_set(e, &k, "status", j_string(e, "Active"));
}

struct add_opts {
	const char *user, *file, *id;
};

static int
parse_add(int argc, char **argv, struct add_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 2; i < argc; i++) {
		int m = opt_value(argc, argv, &i, "--id", &o->id);

		if (m < 0)
			return -1;
		if (m > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return -1;
		if (o->user == NULL)
			o->user = argv[i];
		else if (o->file == NULL)
			o->file = argv[i];
		else
			return -1;
	}
	return o->user != NULL && o->file != NULL ? 0 : -1;
}

static int
key_add(struct iamctl *ctl, const struct add_opts *o)
{
	const struct iam_user *u;
	struct iam_buf text = IAM_BUF_INIT;
	struct iam_json keys;
	struct edit e;
	char kid[80], what[256];
	char *line = NULL;
	time_t now = time(NULL);
	size_t idx;
	int rc;

	if (o->id != NULL && !key_id_valid(o->id)) {
		iamctl_err("ssh-key add: '%s' is not a valid key id "
			   "([A-Za-z0-9+=,.@_-], 1-64 characters)", o->id);
		return EXIT_REFUSED;
	}
	rc = read_key(o->file, &text, &line);
	if (rc != EXIT_OK)
		goto out_text;
	rc = edit_open_user(ctl, &e, "ssh-key add", o->user, &idx);
	if (rc != EXIT_OK)
		goto out_text;
	rc = refuse_duplicate(e.id, line);
	if (rc != EXIT_OK)
		goto out;
	u = iam_identity_user(e.id, o->user);
	if (o->id != NULL && has_key_id(u, o->id)) {
		iamctl_err("ssh-key add: user '%s' has a key '%s' already",
			   o->user, o->id);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (o->id != NULL)
		snprintf(kid, sizeof(kid), "%s", o->id);
	else if (new_key_id(u, now, kid, sizeof(kid)) < 0) {
		iamctl_err("ssh-key add: no free key id for '%s'", o->user);
		rc = EXIT_REFUSED;
		goto out;
	}
	keys = j_push(&e, iam_json_get(user_node(&e, idx), "ssh_keys"),
		      key_object(&e, kid, line, now));
	edit_set_in(&e, "users", idx, "ssh_keys", keys);
	snprintf(what, sizeof(what), "ssh key %s added to user %s", kid,
		 o->user);
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", "ssh-key add" }, { "userName", o->user },
		{ "keyId", kid } }, 3);
out:
	edit_close(&e);
out_text:
	/* A private key given by mistake is not left in memory. */
	iam_buf_wipe(&text);
	return rc;
}

/* ---- activate, deactivate, del ---------------------------------------- */

enum key_op { OP_ACTIVATE, OP_DEACTIVATE, OP_DEL };

static const char *const op_cmd[] = {
	"ssh-key activate", "ssh-key deactivate", "ssh-key del"
};

static int
key_change(struct iamctl *ctl, enum key_op op, const char *user,
	   const char *kid)
{
	const char *cmd = op_cmd[op];
	const struct iam_json *keys;
	const struct iam_user *u;
	struct iam_json item;
	struct edit e;
	char what[256];
	ssize_t k;
	size_t idx;
	int rc;

	rc = edit_open_user(ctl, &e, cmd, user, &idx);
	if (rc != EXIT_OK)
		return rc;
	keys = iam_json_get(user_node(&e, idx), "ssh_keys");
	k = find_key(keys, kid);
	if (k < 0) {
		iamctl_err("%s: user '%s' has no key '%s'", cmd, user, kid);
		rc = EXIT_REFUSED;
		goto out;
	}
	u = iam_identity_user(e.id, user);
	if (op == OP_DEL) {
		if (keys->len == 1)
			edit_del_in(&e, "users", idx, "ssh_keys");
		else
			edit_set_in(&e, "users", idx, "ssh_keys",
				    j_remove(&e, keys, (size_t)k));
		snprintf(what, sizeof(what), "ssh key %s of user %s deleted",
			 kid, user);
	} else {
		bool activate = op == OP_ACTIVATE;

		if ((size_t)k < u->n_ssh_keys &&
		    u->ssh_keys[k].active == activate) {
			printf("ssh key %s of user %s is already %s\n", kid,
			       user, activate ? "Active" : "Inactive");
			goto out;
		}
		item = j_set(&e, &keys->u.items[k], "status",
			     j_string(&e, activate ? "Active" : "Inactive"));
		edit_set_in(&e, "users", idx, "ssh_keys",
			    j_replace(&e, keys, (size_t)k, item));
		snprintf(what, sizeof(what), "ssh key %s of user %s %s", kid,
			 user, activate ? "activated" : "deactivated");
	}
	rc = edit_commit(&e, what, (struct iam_event_param[]){
		{ "command", cmd }, { "userName", user }, { "keyId", kid } },
		3);
out:
	edit_close(&e);
	return rc;
}

/* ---- list --------------------------------------------------------------- */

static void
age_state(const struct iam_ssh_key *k, uint32_t max_days, int64_t now,
	  char *age, size_t alen, char *state, size_t slen)
{
	int64_t days = (now - k->created) / DAY;
	int64_t exp = iam_ssh_key_expiry(k, max_days);

	if (k->created <= 0)
		snprintf(age, alen, "unknown");
	else
		snprintf(age, alen, "%lld", (long long)(days < 0 ? 0 : days));
	if (exp == 0)
		snprintf(state, slen, "-");
	else if (now >= exp)
		snprintf(state, slen, "expired");
	else
		snprintf(state, slen, "expires in %lldd",
			 (long long)((exp - now + DAY - 1) / DAY));
}

static void
print_key(const struct iam_ssh_key *k, uint32_t max_days, int64_t now)
{
	size_t tlen = strcspn(k->key, " ");
	const char *comment = k->key + iam_ssh_key_material_len(k->key);
	char created[32], age[24], state[32];

	comment += strspn(comment, " ");
	if (k->created <= 0 ||
	    iam_format_time(k->created, created, sizeof(created)) < 0)
		snprintf(created, sizeof(created), "unknown");
	age_state(k, max_days, now, age, sizeof(age), state, sizeof(state));
	printf("%-24s %-20.*s %-8s %-20s %7s  %-16s %s\n", k->id, (int)tlen,
	       k->key, k->active ? "Active" : "Inactive", created, age, state,
	       *comment ? comment : "-");
}

/* ssh-key list --json: each key, and whether it logs in now. */
static int
list_json(const struct iam_user *u, uint32_t max_days, int64_t now)
{
	struct jout j;

	jout_begin(&j);
	jout_array(&j);
	for (size_t i = 0; i < u->n_ssh_keys; i++) {
		const struct iam_ssh_key *k = &u->ssh_keys[i];
		const char *comment = k->key + iam_ssh_key_material_len(k->key);
		int64_t exp = iam_ssh_key_expiry(k, max_days);
		char type[64];

		snprintf(type, sizeof(type), "%.*s",
			 (int)strcspn(k->key, " "), k->key);
		comment += strspn(comment, " ");
		jout_map(&j);
		jout_kstr(&j, "id", k->id);
		jout_kstr(&j, "type", type);
		jout_kstr(&j, "status", k->active ? "Active" : "Inactive");
		jout_ktime(&j, "created", k->created);
		jout_key(&j, "age_days");
		if (k->created > 0)
			jout_int(&j, now > k->created ?
				 (now - k->created) / DAY : 0);
		else
			jout_null(&j);
		jout_ktime(&j, "expires", exp);
		jout_kbool(&j, "expired", exp != 0 && now >= exp);
		jout_kbool(&j, "logs_in", k->active && !u->disabled &&
			   (exp == 0 || now < exp));
		jout_kstr(&j, "comment", *comment ? comment : NULL);
		jout_map_end(&j);
	}
	jout_array_end(&j);
	return jout_end(&j);
}

static int
key_list(struct iamctl *ctl, const char *user, bool json)
{
	struct iam_identity *id = NULL;
	const struct iam_user *u;
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = load_for(ctl, "ssh-key list", 0, &id, user, &u);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		rc = list_json(u, id->password_policy.ssh_key_max_age_days,
			       now);
		iam_identity_free(id);
		return rc;
	}
	printf("%-24s %-20s %-8s %-20s %7s  %-16s %s\n", "ID", "TYPE",
	       "STATUS", "CREATED", "AGE(d)", "EXPIRY", "COMMENT");
	for (size_t i = 0; i < u->n_ssh_keys; i++)
		print_key(&u->ssh_keys[i],
			  id->password_policy.ssh_key_max_age_days, now);
	if (u->disabled)
		printf("(user %s is disabled: none of these keys logs in)\n",
		       user);
	iam_identity_free(id);
	if (fflush(stdout) != 0)
		return EXIT_USAGE;
	return EXIT_OK;
}

/* ---- Entry point -------------------------------------------------------- */

int
cmd_ssh_key(struct iamctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct add_opts o;
	bool json = false;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		help();
		return EXIT_OK;
	}
	if (strcmp(sub, "list") == 0)
		json = iamctl_take_flag(&argc, argv, "--json");
	if (strcmp(sub, "add") == 0) {
		if (parse_add(argc, argv, &o) < 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (iamctl_bad_name("ssh-key", o.user))
			return EXIT_USAGE;
	} else if ((strcmp(sub, "list") == 0 && argc != 3) ||
		   ((strcmp(sub, "activate") == 0 ||
		     strcmp(sub, "deactivate") == 0 ||
		     strcmp(sub, "del") == 0) && argc != 4) ||
		   (strcmp(sub, "list") != 0 && strcmp(sub, "activate") != 0 &&
		    strcmp(sub, "deactivate") != 0 && strcmp(sub, "del") != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; strcmp(sub, "add") != 0 && i < argc; i++)
		if (iamctl_bad_name("ssh-key", argv[i]))
			return EXIT_USAGE;
	rc = need_root("ssh-key");
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(sub, "add") == 0)
		return key_add(ctl, &o);
	if (strcmp(sub, "list") == 0)
		return key_list(ctl, argv[2], json);
	if (strcmp(sub, "activate") == 0)
		return key_change(ctl, OP_ACTIVATE, argv[2], argv[3]);
	if (strcmp(sub, "deactivate") == 0)
		return key_change(ctl, OP_DEACTIVATE, argv[2], argv[3]);
	return key_change(ctl, OP_DEL, argv[2], argv[3]);
}
