/*
 * unlock.c - iamctl unlock USER: clear a user's failed attempts and
 * lockout in state_dir, and write an Unlock event to the trail.
 *
 * The uid comes from the published private snapshot (what pam_iam
 * reads), so unlocking works even while the identity file has a broken
 * hand edit.  The state file is never created here: no state, no lock.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int
lookup_uid(const struct iam_config *cfg, const char *name, uint32_t *ret_uid,
	   char *arn, size_t arnlen)
{
	char dir[PATH_MAX], err[512] = "";
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	int r;

	r = iam_snapshot_path(cfg, "auth", dir, sizeof(dir));
	r = r ? r : iam_authdb_open(dir, &db, err, sizeof(err));
	if (r < 0) {
		iamctl_err("%s", err[0] ? err : strerror(-r));
		return r;
	}
	r = iam_authdb_lookup(db, name, &u);
	db = iam_authdb_close(db);
	if (r == -ENOENT) {
		iamctl_err("\"%s\": no such IAM user", name);
		return r;
	}
	if (r < 0) {
		iamctl_err("%s/auth.db: %s", dir, r == -EBADMSG ?
			   "corrupt" : strerror(-r));
		return r;
	}
	*ret_uid = u->uid;
	if (iam_snprintf(arn, arnlen, "arn:iam:iam::%s:user/%s",
			 u->account_id, u->name) < 0)
		arn[0] = '\0';
	u = iam_auth_user_free(u);
	return 0;
}

int
cmd_unlock(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_config *cfg;
	struct iam_state before;
	char arn[384], uidtext[16];
	uint32_t uid;
	int r;

	if (iamctl_wants_help(argc, argv)) {
		puts("usage: iamctl unlock USER\n"
		     "  Clear USER's failed attempts and lockout.");
		return EXIT_OK;
	}
	if (argc != 2 || iamctl_bad_name("unlock", argv[1])) {
		fputs("usage: iamctl unlock USER\n", stderr);
		return EXIT_USAGE;
	}
	if (need_root(argv[0]) != EXIT_OK)
		return EXIT_REFUSED;
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	if (!iam_name_valid(argv[1])) {
		iamctl_err("\"%s\": not a valid user name", argv[1]);
		return EXIT_REFUSED;
	}
	if (lookup_uid(cfg, argv[1], &uid, arn, sizeof(arn)) < 0)
		return EXIT_REFUSED;
	r = iam_state_read(cfg->state_dir, uid, 0, &before);
	if (r == -ENOENT) {
		printf("%s: not locked (no failed attempts recorded)\n",
		       argv[1]);
		return EXIT_OK;
	}
	r = iam_state_unlock(cfg->state_dir, uid, 0);
	if (r < 0) {
		iamctl_err("%s: cannot unlock %s: %s", cfg->state_dir, argv[1],
			   strerror(-r));
		return EXIT_REFUSED;
	}
	snprintf(uidtext, sizeof(uidtext), "%u", (unsigned)uid);
	{
		struct iam_event_param params[] = {
			{ "userName", argv[1] },
			{ "userArn", arn[0] ? arn : NULL },
			{ "uid", uidtext },
		};

		r = trail(cfg, "Unlock", NULL, params, 3);
	}
	printf("%s: unlocked\n", argv[1]);
	return r < 0 ? EXIT_REFUSED : EXIT_OK;
}
