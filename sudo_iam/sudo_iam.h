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
#define SUDO_IAM_MSG_REFUSED	"sudo: denied by IAM policy (variable %s is never allowed)"
#define SUDO_IAM_MSG_INVALID	"sudo: denied by IAM policy (a variable with an invalid name is never allowed)"

#define SUDO_IAM_NAME_MAX	256	/* run-as user and group names */
#define SUDO_IAM_ENV_NAME_MAX	128	/* a variable's name */
#define SUDO_IAM_ENV_MAX	256	/* variables decided for one command */
#define SUDO_IAM_EDIT_MAX	256	/* files of one sudoedit */

/*
 * What the user asked of the environment, read from open()'s settings,
 * submit_argv and submit_envp (env.c).
 */
struct sudo_iam_env_ask {
	char **set;		/* names given as NAME=VALUE to sudo, owned */
	size_t n_set;
	bool preserve;		/* -E or --preserve-env[=LIST] */
	char **submit;		/* copy of submit_envp when preserve, owned */
	size_t n_submit;
	bool too_big;		/* over the caps: an IAM user is refused */
};

/* What the plugin was told when sudo opened it. */
struct sudo_iam_opts {
	char *config;		/* config=PATH, or NULL: IAM_DEFAULT_CONFIG */
	int unknown_user;	/* unknown_user=, or -1: from iam.conf */
	char *user;		/* user_info user=, NULL when missing */
	uint32_t uid;		/* user_info uid= */
	bool have_uid;
	char *tty;		/* user_info tty=, NULL without a terminal */
	bool edit;		/* settings sudoedit=true */
	struct sudo_iam_env_ask env;
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
	SUDO_IAM_REFUSED,	/* an IAM user, a variable never allowed */
};

/* What decided a refusal, for the user's message. */
struct sudo_iam_outcome {
	const char *kind;	/* "variable", "file", or NULL: the command */
	char what[PATH_MAX];	/* its name or canonical path; "" unsayable */
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
/*
 * For sudoedit: only the run-as names, and given = the editor (which
 * is never decided).  Returns 0 or a negative errno with cmd->why set.
 */
int sudo_iam_command_init_edit(struct sudo_iam_command *cmd,
			       char *const command_info[]);
void sudo_iam_command_release(struct sudo_iam_command *cmd);

/*
 * 0 when every entry on the absolute path given (links followed as the
 * kernel follows them) sits in a folder only root may change (a sticky
 * folder may hold an entry of root's); a negative errno otherwise.
 */
int sudo_iam_path_fixed(const char *given);

/* The value of key in a sudo "name=value" vector (NULL when absent). */
const char *sudo_iam_info(char *const vec[], const char *key);

/*
 * A boolean of a sudo vector as sudo reads it (sudo_strtobool, the last
 * entry wins, a bad value is skipped): 1, 0, or absent when not there.
 */
int sudo_iam_flag(char *const vec[], const char *key, int absent);

/* ---- The environment (env.c) --------------------------------------------- */

/*
 * Read what the user asked from open()'s arguments.  Returns 0 or
 * -ENOMEM; release with sudo_iam_env_ask_release() in any case.
 */
int sudo_iam_env_ask_init(struct sudo_iam_env_ask *a, char *const settings[],
			  int submit_optind, char *const submit_argv[],
			  char *const submit_envp[]);
void sudo_iam_env_ask_release(struct sudo_iam_env_ask *a);

enum sudo_iam_env_class {
	SUDO_IAM_ENV_RESET,	/* what env_reset gives: not asked */
	SUDO_IAM_ENV_DECIDE,	/* set or preserved by the user: sudo:SetEnv */
	SUDO_IAM_ENV_REFUSED,	/* never allowed to an IAM user */
	SUDO_IAM_ENV_INVALID,	/* not a NAME=VALUE with a valid name: refused */
};

/* One entry of run_envp; its name (cut to the cap) is copied to name. */
enum sudo_iam_env_class sudo_iam_env_classify(
	const struct sudo_iam_env_ask *a, const char *entry,
	char name[SUDO_IAM_ENV_NAME_MAX + 1]);

/* The variables of one command to decide, or the one refused. */
struct sudo_iam_env {
	char **names;		/* distinct names to ask sudo:SetEnv for */
	size_t n;
	char refused[SUDO_IAM_ENV_NAME_MAX + 1];	/* first refused, or "" */
	bool refused_invalid;	/* refused for its invalid name */
};

/*
 * Sort every entry of run_envp.  Returns 0 (ret->refused set when one is
 * refused), -E2BIG over the caps, -ENOMEM.  Release with
 * sudo_iam_env_release() in any case.
 */
int sudo_iam_env_collect(const struct sudo_iam_env_ask *a,
			 char *const run_envp[], struct sudo_iam_env *ret);
void sudo_iam_env_release(struct sudo_iam_env *e);

/* ---- sudoedit (edit.c) ----------------------------------------------------- */

struct sudo_iam_edit {
	char *const *given;	/* the files as sudo will open them, borrowed */
	size_t n;
	char (*paths)[PATH_MAX];	/* their canonical paths, owned */
	struct iam_buf files;	/* the canonical paths, by spaces */
	const char *why;	/* why they could not be resolved, or NULL */
	const char *bad;	/* the file that could not, or NULL */
};

/*
 * The files of a sudoedit from command_info and run_argv, each
 * canonical: realpath, or for a file not there yet its folder's
 * realpath and its name.  Returns 0 or a negative errno with why set;
 * release with sudo_iam_edit_release() in any case.
 */
int sudo_iam_edit_init(struct sudo_iam_edit *ed, char *const command_info[],
		       char *const run_argv[]);
void sudo_iam_edit_release(struct sudo_iam_edit *ed);

/* ---- The decision (check.c) ------------------------------------------------ */

/*
 * Decide one command (or sudoedit) for the user of opts and write the
 * SudoRun event; out says what decided a refusal.  Never returns
 * SUDO_IAM_ALLOW or SUDO_IAM_DEFER on an error.
 */
enum sudo_iam_verdict sudo_iam_decide(const struct sudo_iam_opts *opts,
				      char *const command_info[],
				      char *const run_argv[],
				      char *const run_envp[],
				      struct sudo_iam_outcome *out);

#endif
