/*
 * env.c - the variables an IAM user brings into a sudo command beyond
 * what sudoers' env_reset gives: each is a sudo:SetEnv request on its
 * name, and some are refused whatever a policy says.
 *
 * What the user asked is read from what sudo gave open(): the
 * NAME=VALUE words of its command line (before submit_optind), -E
 * (settings preserve_environment=true) and --preserve-env=LIST.  What
 * the command gets is run_envp, given to check().  A name of run_envp
 * is decided when the user set it on the command line, or, with -E or
 * --preserve-env, when its entry is the user's own (the same NAME=VALUE
 * as in submit_envp) and env_reset would not have kept it anyway.
 * Every entry of run_envp is looked at, so a duplicate or an odd name
 * cannot slip past: an invalid name, a bash function or a variable that
 * makes a loader or an interpreter run code of the caller's choosing is
 * refused for an IAM user, whoever put it there (sudoers' env_keep too).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sudo_iam.h"

#define ENV_SUBMIT_MAX	4096		/* entries of submit_envp copied */
#define ENV_SUBMIT_BYTES (1u << 20)	/* and their size */

/*
 * Refused whatever the policy says.  A trailing '*' matches any rest.
 * sudoers' env_delete list (plugins/sudoers/env.c initial_badenv_table,
 * sudo 1.9.16), what glibc drops for setuid programs (unsecvars.h), the
 * interpreters' option and path variables and bash's exported functions.
 */
static const char *const refused_names[] = {
	/* dynamic loaders and libc */
	"LD_*", "_RLD*", "DYLD_*", "LDR_*", "LIBPATH", "SHLIB_PATH",
	"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
	"LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
	"PATH_LOCALE", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
	/* shells */
	"IFS", "CDPATH", "ENV", "BASH_ENV", "BASH_FUNC_*", "BASHOPTS",
	"SHELLOPTS", "PS4", "GLOBIGNORE", "FPATH", "NULLCMD", "READNULLCMD",
	"ZDOTDIR", "TMPPREFIX",
	/* terminals */
	"TERMINFO", "TERMINFO_DIRS", "TERMPATH", "TERMCAP",
	/* interpreters and runtimes */
	"PYTHON*", "PERL5*", "PERLLIB", "PERLIO_DEBUG", "RUBY*",
	"NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
	"CLASSPATH", "GIT_SSH_COMMAND", "GIT_CONFIG_*",
	/* Kerberos and SecurID (sudoers drops them when built with them) */
	"KRB5_CONFIG*", "KRB5_KTNAME", "VAR_ACE", "USR_ACE", "DLC_ACE",
	NULL
};

/*
 * What env_reset keeps from the user's own environment by default
 * (initial_keepenv_table and initial_checkenv_table, whose values
 * sudoers checks) and what sudoers sets itself.  Preserving one of
 * these with -E asks nothing env_reset would not give.
 */
static const char *const reset_names[] = {
	"COLORS", "DISPLAY", "HOSTNAME", "KRB5CCNAME", "LS_COLORS", "PATH",
	"PS1", "PS2", "XAUTHORITY", "XAUTHORIZATION", "XDG_CURRENT_DESKTOP",
	"COLORTERM", "LANG", "LANGUAGE", "LC_*", "LINGUAS", "TERM", "TZ",
	"SUDO_COMMAND", "SUDO_USER", "SUDO_UID", "SUDO_GID", "SUDO_HOME",
	NULL
};

static bool
listed(const char *const list[], const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		size_t n = strlen(list[i]);

		if (list[i][n - 1] == '*' ? strncmp(name, list[i], n - 1) == 0 :
		    strcmp(name, list[i]) == 0)
			return true;
	}
	return false;
}

/* A name a shell could export: [A-Za-z_][A-Za-z0-9_]*, capped. */
static bool
name_valid(const char *s, size_t len)
{
	if (len == 0 || len > SUDO_IAM_ENV_NAME_MAX ||
	    (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* sudo_strtobool(): -1 for a value sudo would not take. */
static int
parse_yes_no(const char *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
sudo_iam_flag(char *const vec[], const char *key, int absent)
{
	size_t n = strlen(key);
	int last = absent, b;

	/* As sudo reads them: the last one wins, a bad value is skipped. */
	for (size_t i = 0; vec != NULL && vec[i] != NULL; i++)
		if (strncmp(vec[i], key, n) == 0 && vec[i][n] == '=' &&
		    (b = parse_yes_no(vec[i] + n + 1)) >= 0)
			last = b;
	return last;
}

/* The option word names --preserve-env (getopt_long takes a prefix). */
static bool
preserve_env_option(const char *word)
{
	const char *eq = strchr(word, '=');
	size_t n = eq != NULL ? (size_t)(eq - word) - 2 :
		strlen(word) - 2;

	return n > 0 && strncmp(word + 2, "preserve-env", n) == 0 &&
	       n <= strlen("preserve-env");
}

static int
add_name(struct sudo_iam_env_ask *a, const char *word, size_t len)
{
	char **v;

	if (a->n_set >= SUDO_IAM_ENV_MAX) {
		a->too_big = true;
		return 0;
	}
	v = reallocarray(a->set, a->n_set + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	a->set = v;
	if ((v[a->n_set] = strndup(word, len)) == NULL)
		return -ENOMEM;
	a->n_set++;
	return 0;
}

/*
 * The words of sudo's command line before the command.  sudo takes a
 * word that is not an option, does not start with '/' or '=' and holds
 * a '=' as a variable.  An option's argument of that shape (sudo -p a=b)
 * is taken too: its name only counts when run_envp holds it, and then
 * deciding it is the safe side.
 */
static int
scan_argv(struct sudo_iam_env_ask *a, int optind, char *const argv[])
{
	int r = 0;

	for (int i = 1; r == 0 && i < optind && argv[i] != NULL; i++) {
		const char *w = argv[i], *eq = strchr(w, '=');

		if (w[0] == '-' && w[1] == '-' && w[2] != '\0') {
			/* sudo cuts LIST at its commas: the rest is gone. */
			if (preserve_env_option(w) && eq != NULL)
				a->preserve = true;
		} else if (w[0] != '-' && w[0] != '/' && w[0] != '=' &&
			   eq != NULL) {
			r = add_name(a, w, (size_t)(eq - w));
		}
	}
	return r;
}

static int
copy_submit(struct sudo_iam_env_ask *a, char *const envp[])
{
	size_t n = 0, bytes = 0;

	while (envp != NULL && envp[n] != NULL) {
		bytes += strlen(envp[n]) + 1;
		if (++n > ENV_SUBMIT_MAX || bytes > ENV_SUBMIT_BYTES) {
			a->too_big = true;
			return 0;
		}
	}
	a->submit = calloc(n + 1, sizeof(char *));
	if (a->submit == NULL)
		return -ENOMEM;
	for (a->n_submit = 0; a->n_submit < n; a->n_submit++)
		if ((a->submit[a->n_submit] = strdup(envp[a->n_submit])) ==
		    NULL)
			return -ENOMEM;
	return 0;
}

int
sudo_iam_env_ask_init(struct sudo_iam_env_ask *a, char *const settings[],
		      int submit_optind, char *const submit_argv[],
		      char *const submit_envp[])
{
	int r;

	memset(a, 0, sizeof(*a));
	a->preserve = sudo_iam_flag(settings, "preserve_environment", 0) == 1;
	r = scan_argv(a, submit_optind, submit_argv);
	/*
	 * Copied now: sudo's own setenv() may change the strings behind
	 * submit_envp before check().
	 */
	if (r == 0 && a->preserve)
		r = copy_submit(a, submit_envp);
	return r;
}

void
sudo_iam_env_ask_release(struct sudo_iam_env_ask *a)
{
	for (size_t i = 0; i < a->n_set; i++)
		free(a->set[i]);
	free(a->set);
	for (size_t i = 0; a->submit != NULL && a->submit[i] != NULL; i++)
		free(a->submit[i]);
	free(a->submit);
	memset(a, 0, sizeof(*a));
}

/* Is name one of the n strings of names (exactly)? */
static bool
have(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

enum sudo_iam_env_class
sudo_iam_env_classify(const struct sudo_iam_env_ask *a, const char *entry,
		      char name[SUDO_IAM_ENV_NAME_MAX + 1])
{
	const char *eq = strchr(entry, '=');
	size_t len = eq != NULL ? (size_t)(eq - entry) : strlen(entry);

	(void)iam_snprintf(name, SUDO_IAM_ENV_NAME_MAX + 1, "%.*s",
			   (int)(len > SUDO_IAM_ENV_NAME_MAX ?
				 SUDO_IAM_ENV_NAME_MAX : len), entry);
	if (eq == NULL || !name_valid(entry, len))
		return SUDO_IAM_ENV_INVALID;
	/* A bash function, whatever its name (sudoers' "*=()*"). */
	if (listed(refused_names, name) || strncmp(eq + 1, "()", 2) == 0)
		return SUDO_IAM_ENV_REFUSED;
	if (have(a->set, a->n_set, name))
		return SUDO_IAM_ENV_DECIDE;
	if (a->preserve && !listed(reset_names, name) &&
	    have(a->submit, a->n_submit, entry))
		return SUDO_IAM_ENV_DECIDE;
	return SUDO_IAM_ENV_RESET;
}

int
sudo_iam_env_collect(const struct sudo_iam_env_ask *a, char *const run_envp[],
		     struct sudo_iam_env *ret)
{
	char name[SUDO_IAM_ENV_NAME_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	if (a->too_big)
		return -E2BIG;
	for (size_t i = 0; run_envp != NULL && run_envp[i] != NULL; i++) {
		enum sudo_iam_env_class k;
		char **v;

		k = sudo_iam_env_classify(a, run_envp[i], name);
		if (k == SUDO_IAM_ENV_RESET)
			continue;
		if (k != SUDO_IAM_ENV_DECIDE) {
			/* The first refusal decides; the rest is not asked. */
			memcpy(ret->refused, name, sizeof(name));
			ret->refused_invalid = k == SUDO_IAM_ENV_INVALID;
			return 0;
		}
		/* Each entry is classified, a name is asked once. */
		if (have(ret->names, ret->n, name))
			continue;
		if (ret->n >= SUDO_IAM_ENV_MAX)
			return -E2BIG;
		v = reallocarray(ret->names, ret->n + 1, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		ret->names = v;
		if ((v[ret->n] = strdup(name)) == NULL)
			return -ENOMEM;
		ret->n++;
	}
	return 0;
}

void
sudo_iam_env_release(struct sudo_iam_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->names[i]);
	free(e->names);
	memset(e, 0, sizeof(*e));
}
