/*
 * init.c - iamctl init: a first, empty identity for a new host.
 *
 * Writes iam.conf where absent (every setting at its default) and a
 * minimal identity file (the account, a password policy with lockout,
 * no users) root 0600, then publishes it.  An existing identity file is
 * never overwritten: both files are created with link(), which fails
 * when the name exists, from a complete temporary file, so a reader
 * never sees half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define ACCOUNT_ID_LEN	12

static const char conf_text[] =
	"# iam.conf - settings of iam for Linux hosts (libconfig syntax),\n"
	"# written by iamctl init.  Every setting is at its default while it\n"
	"# is absent; see iam.conf(5) for each one.  Root-owned, not writable\n"
	"# by group or others, or it is refused.\n";

static void
usage_init(FILE *f)
{
	fputs("usage: iamctl init [--account-id ID] [--alias NAME]\n\n"
	      "Write a minimal identity file (the account, a password policy "
	      "with\nlockout, no users) and iam.conf where absent, then "
	      "publish.  An\nexisting identity file is never overwritten.  "
	      "ID: 12 digits (default:\nrandom); NAME: the account alias "
	      "(3-63 of a-z, 0-9 and -).\n", f);
}

static bool
account_id_valid(const char *s)
{
	return strlen(s) == ACCOUNT_ID_LEN &&
	       strspn(s, "0123456789") == ACCOUNT_ID_LEN;
}

static int
random_account_id(char *buf, size_t len)
{
	unsigned long long v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return -errno;
	return iam_snprintf(buf, len, "%012llu", v % 1000000000000ULL);
}

/*
 * Create path holding text (root, mode), or fail with -EEXIST when the
 * name exists: a complete temporary file is linked to the name.
 */
static int
create_new(const char *path, const char *text, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	ssize_t w;
	int fd, r = 0;

	if (iam_snprintf(tmp, sizeof(tmp), "%s.init.XXXXXX", path) < 0)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	return r;
}

/* Write iam.conf with every setting at its default, where absent. */
static int
init_config(const char *path)
{
	struct stat st;
	int r;

	if (lstat(path, &st) == 0 || errno != ENOENT)
		return EXIT_OK;
	if (make_parent(path, false) < 0)
		return EXIT_REFUSED;
	r = create_new(path, conf_text, sizeof(conf_text) - 1, 0644);
	if (r == -EEXIST)
		return EXIT_OK;
	if (r < 0) {
		iamctl_err("init: %s: cannot be written: %s", path, strerror(-r));
		return EXIT_REFUSED;
	}
	printf("wrote %s\n", path);
	return EXIT_OK;
}

static int
identity_text(struct iam_buf *out, const char *id, const char *alias)
{
	char account[128];
	int r;

	if (alias != NULL) {
		/* The alias is checked by validation; keep JSON intact. */
		if (strpbrk(alias, "\"\\") != NULL || strlen(alias) > 63)
			return -EINVAL;
		r = iam_snprintf(account, sizeof(account),
				 "{ \"id\": \"%s\", \"alias\": \"%s\" }", id,
				 alias);
	} else {
		r = iam_snprintf(account, sizeof(account), "{ \"id\": \"%s\" }",
				 id);
	}
	if (r < 0)
		return r;
	return iam_buf_addf(out,
		"{\n"
		"  \"account\": %s,\n"
		"  \"password_policy\": {\n"
		"    \"minimum_length\": 12,\n"
		"    \"reuse_prevention\": 5,\n"
		"    \"allow_users_to_change\": true,\n"
		"    \"lockout\": { \"max_failed_attempts\": 5, "
		"\"lockout_seconds\": 900 }\n"
		"  },\n"
		"  \"users\": [],\n"
		"  \"groups\": [],\n"
		"  \"policies\": {}\n"
		"}\n", account);
}

/* The identity file must not exist yet: init never overwrites one. */
static int
refuse_existing(const char *file)
{
	struct stat st;

	if (lstat(file, &st) < 0 && errno == ENOENT)
		return EXIT_OK;
	iamctl_err("init: %s exists; nothing changed (iamctl edit changes it)",
		   file);
	return EXIT_REFUSED;
}

/* Validate the new identity completely before anything is written. */
static int
check_text(const struct iam_config *cfg, const struct iam_buf *text)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	int r;

	r = iam_identity_parse(text->buf, text->len, cfg, NULL, &id, &faults);
	id = iam_identity_free(id);
	if (r < 0)
		print_faults(cfg->identity_file, &faults);
	iam_faults_release(&faults);
	if (r < 0) {
		iamctl_err("init: %s; nothing changed", r == -ENOMEM ?
			   "out of memory" : "refused (faults above)");
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Create and publish the new identity, under the store's lock. */
static int
init_identity(const struct iam_config *cfg, const struct iam_buf *text)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	const char *file = cfg->identity_file;
	int r;

	if (refuse_existing(file) != EXIT_OK)
		return EXIT_REFUSED;
	if (make_parent(file, false) < 0)
		return EXIT_REFUSED;
	r = create_new(file, text->buf, text->len, 0600);
	if (r < 0) {
		iamctl_err("init: %s: %s; nothing changed", file,
			   r == -EEXIST ? "exists" : strerror(-r));
		return EXIT_REFUSED;
	}
	r = iam_publish_locked(cfg, NULL, &faults);
	if (r < 0) {
		print_faults(file, &faults);
		iam_faults_release(&faults);
		unlink(file);
		iamctl_err("init: publishing failed (%s); %s removed",
			   strerror(-r), file);
		return EXIT_REFUSED;
	}
	iam_faults_release(&faults);
	return EXIT_OK;
}

int
cmd_init(struct iamctl *ctl, int argc, char **argv)
{
	const char *id_opt = NULL, *alias = NULL, *conf_path;
	struct iam_event_param params[1];
	struct iam_buf text = IAM_BUF_INIT;
	struct iam_config *cfg;
	char id[ACCOUNT_ID_LEN + 1];
	uint64_t gen = 0;
	int i, r, rc, lockfd;

	if (iamctl_wants_help(argc, argv)) {
		usage_init(stdout);
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if ((r = opt_value(argc, argv, &i, "--account-id", &id_opt)) != 0 ||
		    (r = opt_value(argc, argv, &i, "--alias", &alias)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		iamctl_err("init: unknown argument '%s'", argv[i]);
		usage_init(stderr);
		return EXIT_USAGE;
	}
	if (id_opt != NULL && !account_id_valid(id_opt)) {
		iamctl_err("init: --account-id: '%s' is not 12 digits", id_opt);
		return EXIT_USAGE;
	}
	rc = need_root("init");
	if (rc != EXIT_OK)
		return rc;

	/* An absent iam.conf loads as the defaults init writes into it. */
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	if (refuse_existing(cfg->identity_file) != EXIT_OK)
		return EXIT_REFUSED;

	if (id_opt != NULL)
		memcpy(id, id_opt, sizeof(id));
	else if ((r = random_account_id(id, sizeof(id))) < 0) {
		iamctl_err("init: no random account id: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (identity_text(&text, id, alias) < 0) {
		iamctl_err("init: --alias: '%s' is not a valid alias", alias);
		iam_buf_wipe(&text);
		return EXIT_USAGE;
	}

	rc = check_text(cfg, &text);
	/* Outside a root caller, --config is ignored (iamctl(8)). */
	conf_path = ctl->config_path != NULL && ctl->real_root ?
		ctl->config_path : IAM_DEFAULT_CONFIG;
	if (rc == EXIT_OK)
		rc = init_config(conf_path);
	if (rc != EXIT_OK || store_prepare(cfg) < 0) {
		iam_buf_wipe(&text);
		return rc != EXIT_OK ? rc : EXIT_REFUSED;
	}
	lockfd = iam_store_lock(cfg);
	if (lockfd < 0) {
		char why[160];

		iamctl_err("%s: %s", cfg->credentials_dir,
			   iam_store_lock_strerror(cfg, lockfd, why,
						   sizeof(why)));
		iam_buf_wipe(&text);
		return EXIT_REFUSED;
	}
	rc = init_identity(cfg, &text);
	iam_store_unlock(lockfd);
	iam_buf_wipe(&text);
	if (rc != EXIT_OK)
		return rc;

	printf("wrote %s (account %s)\n", cfg->identity_file, id);
	if (iam_snapshot_generation(cfg, &gen) == 0)
		printf("published generation %llu\n", (unsigned long long)gen);
	else
		printf("published\n");
	params[0] = (struct iam_event_param){ "change", "init" };
	if (trail(cfg, "IdentityCommit", NULL, params, 1) < 0 &&
	    cfg->trail_required)
		return EXIT_REFUSED;
	return EXIT_OK;
}
