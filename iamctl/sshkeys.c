/*
 * sshkeys.c - iamctl ssh-keys USER: the user's Active, unexpired public
 * keys, one a line, for sshd's AuthorizedKeysCommand.
 *
 * It runs as the unprivileged AuthorizedKeysCommandUser and reads only
 * the public snapshot keys.db.  It fails closed: an unknown or disabled
 * user gets no line; a missing, insecure or corrupt snapshot gets no line
 * and a non-zero exit with the reason on stderr (sshd logs it).  Keys go
 * only to the account NSS resolves the name to, and only when that is
 * the IAM user's uid (DESIGN: who is an IAM user).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iamctl.h"
#include "iam/keys.h"

int
cmd_ssh_keys(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_config *cfg;
	struct passwd *pw;
	char path[4096], err[512];
	int r;

	if (iamctl_wants_help(argc, argv)) {
		puts("usage: iamctl ssh-keys USER\n\n"
		     "Print USER's Active, unexpired SSH public keys, one a line,\n"
		     "for sshd's AuthorizedKeysCommand (see iamctl(8)).");
		return EXIT_OK;
	}
	if (argc != 2 || iamctl_bad_name("ssh-keys", argv[1])) {
		iamctl_err("usage: iamctl ssh-keys USER");
		return EXIT_USAGE;
	}
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_REFUSED;
	if (iam_snapshot_path(cfg, IAM_KEYSDB_FILE, path, sizeof(path)) < 0) {
		iamctl_err("%s: no usable generation", cfg->snapshot_dir);
		return EXIT_REFUSED;
	}
	/* No account of that name (or no answer from NSS): no keys. */
	pw = iam_name_valid(argv[1]) ? getpwnam(argv[1]) : NULL;
	if (pw == NULL)
		return EXIT_OK;
	r = iam_keysdb_print(path, 0, argv[1], (uint32_t)pw->pw_uid,
			     (int64_t)time(NULL), stdout, err, sizeof(err));
	if (r < 0) {
		iamctl_err("%s", err);
		return EXIT_REFUSED;
	}
	if (fflush(stdout) != 0) {
		iamctl_err("writing the keys: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}
