/*
 * iamctl.h - shared pieces of the administrator's tool.
 *
 * Each command group lives in its own file and exposes one cmd_* entry
 * point: parse argv, call libiam, print.  Exit statuses (iamctl(8)):
 * 0 success or Allow, 1 a refusal, a fault found or a deny, 2 a usage
 * error or an input that cannot be opened or read.
 */
#ifndef IAMCTL_H
#define IAMCTL_H

#include <err.h>
#include <stdbool.h>
#include <stdio.h>

#include "iam.h"

#define EXIT_OK		0
#define EXIT_REFUSED	1
#define EXIT_USAGE	2

struct iamctl {
	const char *config_path;	/* --config, honoured only for root */
	struct iam_config *cfg;		/* loaded lazily by iamctl_config() */
	bool real_root;			/* getuid() == 0 */
};

/*
 * The configuration, loaded on first use from --config (real root only)
 * or the default path.  Prints the reason and returns NULL on failure.
 */
struct iam_config *iamctl_config(struct iamctl *ctl);

/*
 * Print "iamctl: " and the message to stderr: err.h's warnx, with the
 * program's name set by main() whatever argv[0] says.
 */
#define iamctl_err warnx

/*
 * Run iam-role-helper with argv (argc at most IAMCTL_HELPER_MAX_ARGS),
 * passing --config on for a real root only, as iamctl honours it.
 * Returns EXIT_USAGE, with the reason printed, only when it cannot run.
 */
#define IAMCTL_HELPER_MAX_ARGS	12
int iamctl_exec_role_helper(struct iamctl *ctl, int argc, char **argv);

/*
 * Run the program at path with argv, --config passed on for a real root
 * only (as iamctl honours it): iamctl_exec_role_helper() and iamctl
 * fleet.  Returns EXIT_USAGE, with the reason printed, only when it
 * cannot run.
 */
int iamctl_exec(struct iamctl *ctl, const char *path, int argc, char **argv);

/*
 * True when -h or --help is one of argv[1..] (before a "--"): every
 * command then prints its usage to stdout and exits 0.
 */
bool iamctl_wants_help(int argc, char **argv);

/*
 * The start every command shares: with -h or --help (iamctl_wants_help),
 * usage(stdout) and EXIT_OK; with argc outside [min, max], usage(stderr)
 * and EXIT_USAGE.  Otherwise -1: the command goes on.
 */
int iamctl_words(int argc, char **argv, void (*usage)(FILE *), int min,
		 int max);

/*
 * Remove every argv[1..] equal to flag ("--json"), closing the gap and
 * updating *argc; true when there was one.
 */
bool iamctl_take_flag(int *argc, char **argv, const char *flag);

/*
 * A word in a name's place (user, group, policy, role, key id) that
 * begins with '-' is an option, not a name: print why and return true
 * (the caller exits EXIT_USAGE).
 */
bool iamctl_bad_name(const char *cmd, const char *name);

/* Command entry points: argv[0] is the command name. */
typedef int iamctl_cmd_fn(struct iamctl *ctl, int argc, char **argv);

iamctl_cmd_fn cmd_validate, cmd_sync, cmd_edit, cmd_user, cmd_group,
	cmd_policy, cmd_passwd, cmd_mfa, cmd_unlock, cmd_ssh_keys, cmd_ssh_key,
	cmd_simulate, cmd_assume_role, cmd_whoami, cmd_drop_role, cmd_sessions,
	cmd_credential_report, cmd_trail, cmd_doctor, cmd_policy_simulate;

#endif
