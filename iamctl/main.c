/*
 * main.c - iamctl: option parsing and command dispatch.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "iamctl.h"
#include "cmd.h"

struct command {
	const char *name;
	iamctl_cmd_fn *fn;
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, "init [--account-id ID] [--alias NAME]  a first, empty identity" },
	{ "validate", cmd_validate, "validate [FILE]             print every fault, or OK" },
	{ "sync", cmd_sync, "sync                        validate and publish the snapshots" },
	{ "edit", cmd_edit, "edit                        edit the identity file like vipw" },
	{ "user", cmd_user, "user add|del|list|show|disable|enable ... [--json]" },
	{ "group", cmd_group, "group add|del|add-user|remove-user|list ... [--json]" },
	{ "policy", cmd_policy, "policy put|del|list|show|attach|detach|simulate ... [--json]" },
	{ "passwd", cmd_passwd, "passwd USER [--stdin] [--must-change [--force]]" },
	{ "mfa", cmd_mfa, "mfa enable|disable|list|recovery-codes USER [--device NAME]" },
	{ "unlock", cmd_unlock, "unlock USER                 clear a lockout" },
	{ "ssh-keys", cmd_ssh_keys, "ssh-keys USER               active keys (AuthorizedKeysCommand)" },
	{ "ssh-key", cmd_ssh_key, "ssh-key add|activate|deactivate|del|list ... [--json]" },
	{ "simulate", cmd_simulate, "simulate USER ACTION RESOURCE [--context K=V]... [--json]" },
	{ "assume-role", cmd_assume_role, "assume-role ROLE [--duration S] [--reason TEXT]" },
	{ "whoami", cmd_whoami, "whoami [--json]             the active role session" },
	{ "drop-role", cmd_drop_role, "drop-role                   end the role session" },
	{ "sessions", cmd_sessions, "sessions [--json] [--revoke ID]  role sessions on this host" },
	{ "credential-report", cmd_credential_report, "credential-report [--json]  CSV of every user's credentials" },
	{ "trail", cmd_trail, "trail [--user U] [--actor A] [--event E] [--since T] [--json]" },
	{ "doctor", cmd_doctor, "doctor [--json]             check this host's wiring" },
	{ "fleet", cmd_fleet, "fleet init|enroll-host|revoke-host|push|status|pull ..." },
};

/*
 * -h or --help anywhere among a command's words, before a "--", asks for
 * its usage: "iamctl mfa enable --help" is never a user named "--help".
 */
bool
iamctl_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int
iamctl_words(int argc, char **argv, void (*usage)(FILE *), int min, int max)
{
	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc < min || argc > max) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

bool
iamctl_take_flag(int *argc, char **argv, const char *flag)
{
	bool found = false;
	int k = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], flag) == 0)
			found = true;
		else
			argv[k++] = argv[i];
	}
	argv[k] = NULL;
	*argc = k;
	return found;
}

bool
iamctl_bad_name(const char *cmd, const char *name)
{
	if (name[0] != '-')
		return false;
	iamctl_err("%s: '%s' is not a name (names never begin with '-')", cmd,
		   name);
	return true;
}

int
iamctl_exec(struct iamctl *ctl, const char *path, int argc, char **argv)
{
	char **args = calloc((size_t)argc + 4, sizeof(*args));
	int n = 0;

	if (args == NULL) {
		iamctl_err("%s: out of memory", argv[0]);
		return EXIT_USAGE;
	}
	args[n++] = (char *)path;
	/* The helper honours it only for a real root, as iamctl does. */
	if (ctl->real_root && ctl->config_path != NULL) {
		args[n++] = (char *)"--config";
		args[n++] = (char *)ctl->config_path;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(path, args);
	iamctl_err("%s: cannot run %s: %s", argv[0], path, strerror(errno));
	free(args);
	return EXIT_USAGE;
}

struct iam_config *
iamctl_config(struct iamctl *ctl)
{
	const char *path = IAM_DEFAULT_CONFIG;
	bool chosen = false;
	char err[512];
	int r;

	if (ctl->cfg != NULL)
		return ctl->cfg;
	/* Outside a root caller, --config is ignored (iamctl(8)). */
	if (ctl->config_path != NULL && ctl->real_root) {
		path = ctl->config_path;
		chosen = true;
	}
	r = iam_config_load(path, chosen, &ctl->cfg, err,
			    sizeof(err));
	if (r < 0) {
		iamctl_err("%s", err);
		return NULL;
	}
	return ctl->cfg;
}

static void
usage(FILE *f)
{
	fputs("usage: iamctl [--config FILE] COMMAND ...\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fputs("\nSee iamctl(8).  COMMAND --help describes one command.\n", f);
}

int
main(int argc, char **argv)
{
	struct iamctl ctl = { .real_root = getuid() == 0 };
	int i = 1, rc;

	/* warnx() names the program, whatever argv[0] says */
	program_invocation_short_name = (char *)"iamctl";
	if (iam_sanitize_fds() < 0)
		return EXIT_USAGE;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctl.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctl.config_path = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("iamctl %s\n", IAM_VERSION);
			return EXIT_OK;
		} else {
			iamctl_err("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			rc = commands[c].fn(&ctl, argc - i, argv + i);
			ctl.cfg = iam_config_free(ctl.cfg);
			return rc;
		}
	}
	iamctl_err("unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
