/*
 * sudo_iam.h - internals of the sudo approval plugin, shared by its
 * files.  Nothing here is exported: the version script keeps every
 * symbol but the plugin struct sudo_iam local.
 */
#ifndef SUDO_IAM_H
#define SUDO_IAM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam.h"

#define SUDO_IAM_MSG_EXPLICIT	"sudo: denied by IAM policy (explicit deny)"
#define SUDO_IAM_MSG_NO_ALLOW	"sudo: denied by IAM policy (no allow)"
#define SUDO_IAM_MSG_DISABLED	"sudo: denied by IAM policy (account disabled)"
#define SUDO_IAM_MSG_UNAVAIL	"sudo: IAM unavailable; refused"

#define SUDO_IAM_NAME_MAX	256	/* run-as user and group names */

/* What the plugin was told when sudo opened it. */
struct sudo_iam_opts {
	char *config;		/* config=PATH, or NULL: IAM_DEFAULT_CONFIG */
	int unknown_user;	/* unknown_user=, or -1: from iam.conf */
	char *user;		/* user_info user=, NULL when missing */
	uint32_t uid;		/* user_info uid= */
	bool have_uid;
	char *tty;		/* user_info tty=, NULL without a terminal */
};

/* The outcome of one check, from the most to the least common. */
enum sudo_iam_verdict {
	SUDO_IAM_ALLOW,		/* an IAM user, allowed by policy */
	SUDO_IAM_DEFER,		/* not an IAM user: sudoers alone decides */
	SUDO_IAM_NO_ALLOW,	/* an IAM user, implicit deny */
	SUDO_IAM_EXPLICIT,	/* an IAM user, explicit deny */
	SUDO_IAM_DISABLED,	/* a disabled IAM user */
	SUDO_IAM_NOT_IAM,	/* not an IAM user, unknown_user = deny */
	SUDO_IAM_UNAVAIL,	/* IAM unusable: refused */
};

/* The command sudo is about to run, as the policy sees it. */
struct sudo_iam_command {
	char path[PATH_MAX];	/* canonical path (realpath); "" unresolved */
	const char *given;	/* command_info command=, borrowed */
	struct iam_buf line;	/* canonical path and arguments, by spaces */
	char *const *args;	/* run_argv + 1, borrowed */
	size_t n_args;
	char runas_user[SUDO_IAM_NAME_MAX];	/* "" unknown */
	char runas_group[SUDO_IAM_NAME_MAX];	/* "" unknown */
	const char *why;	/* why it could not be resolved, or NULL */
};

/*
 * Fill cmd from sudo's command_info and run_argv: the canonical path of
 * command=, the command line, the run-as user and group by name.
 * Returns 0, or a negative errno with cmd->why set (the command cannot be
 * decided; an IAM user is then refused).  Release with
 * sudo_iam_command_release() in any case.
 */
int sudo_iam_command_init(struct sudo_iam_command *cmd,
			  char *const command_info[], char *const run_argv[]);
void sudo_iam_command_release(struct sudo_iam_command *cmd);

/* The value of key in a sudo "name=value" vector (NULL when absent). */
const char *sudo_iam_info(char *const vec[], const char *key);

/*
 * Decide one command for the user of opts and write the SudoRun event.
 * Never returns SUDO_IAM_ALLOW or SUDO_IAM_DEFER on an error.
 */
enum sudo_iam_verdict sudo_iam_decide(const struct sudo_iam_opts *opts,
				      char *const command_info[],
				      char *const run_argv[]);

#endif
