/*
 * sudo_iam.c - the sudo approval plugin: entry points and options only.
 * Every command sudo's policy accepted is then a sudo:Run request
 * (check.c); the plugin approves only what IAM allows, or what sudoers
 * alone decides for someone who is not an IAM user.
 *
 * sudo opens the plugin, calls check() once and closes it; sudo is
 * single-threaded, so the state of that one run lives in one static.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sudo_plugin.h>

#include "sudo_iam.h"

static struct {
	sudo_printf_t say;
	struct sudo_iam_opts opts;
	bool opened;
} plugin;

static void
tell_user(int type, const char *msg)
{
	if (plugin.say != NULL)
		(void)plugin.say(type, "%s\n", msg);
}

static void
opts_release(struct sudo_iam_opts *o)
{
	free(o->config);
	free(o->user);
	free(o->tty);
	sudo_iam_env_ask_release(&o->env);
	memset(o, 0, sizeof(*o));
	o->unknown_user = -1;
}

/* One plugin option; -EINVAL names the fault in *why. */
static int
parse_option(struct sudo_iam_opts *o, const char *opt, const char **why)
{
	const char *v;

	if (strncmp(opt, "config=", 7) == 0) {
		v = opt + 7;
		if (o->config != NULL || v[0] != '/') {
			*why = "config= must be given once, as an absolute path";
			return -EINVAL;
		}
		o->config = strdup(v);
		return o->config != NULL ? 0 : -ENOMEM;
	}
	if (strncmp(opt, "unknown_user=", 13) == 0) {
		v = opt + 13;
		if (o->unknown_user >= 0) {
			*why = "unknown_user= given twice";
			return -EINVAL;
		}
		if (strcmp(v, "defer") == 0)
			o->unknown_user = IAM_UNKNOWN_DEFER;
		else if (strcmp(v, "deny") == 0)
			o->unknown_user = IAM_UNKNOWN_DENY;
		else {
			*why = "unknown_user= must be defer or deny";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown option";
	return -EINVAL;
}

static int
parse_user_info(struct sudo_iam_opts *o, char *const user_info[])
{
	const char *user = sudo_iam_info(user_info, "user");
	const char *uid = sudo_iam_info(user_info, "uid");
	const char *tty = sudo_iam_info(user_info, "tty");
	long long v;

	/* Missing facts are not an error here: check() refuses IAM users. */
	if (uid != NULL && iam_parse_ll(uid, 0, UINT32_MAX - 1, &v) == 0) {
		o->uid = (uint32_t)v;
		o->have_uid = true;
	}
	if (user != NULL && user[0] != '\0' &&
	    (o->user = strdup(user)) == NULL)
		return -ENOMEM;
	if (tty != NULL && tty[0] != '\0' && (o->tty = strdup(tty)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
iam_open(unsigned int version, sudo_conv_t conv, sudo_printf_t pf,
	 char *const settings[], char *const user_info[], int submit_optind,
	 char *const submit_argv[], char *const submit_envp[],
	 char *const options[], const char **errstr)
{
	const char *why = NULL;

	(void)conv;
	opts_release(&plugin.opts);
	plugin.say = pf;
	plugin.opened = false;
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
		tell_user(SUDO_CONV_ERROR_MSG,
			  "sudo_iam: incompatible sudo plugin API version");
		*errstr = "sudo_iam: incompatible plugin API";
		return -1;
	}
	for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
		int r = parse_option(&plugin.opts, options[i], &why);

		/* Out of memory: opened stays false, check() refuses. */
		if (r == -ENOMEM)
			return 1;
		if (r < 0) {
			syslog(LOG_AUTHPRIV | LOG_ERR, "sudo_iam: option "
			       "\"%s\": %s", options[i], why);
			if (plugin.say != NULL)
				(void)plugin.say(SUDO_CONV_ERROR_MSG,
						 "sudo_iam: option \"%s\": %s\n",
						 options[i], why);
			*errstr = "sudo_iam: bad plugin option";
			opts_release(&plugin.opts);
			return -1;
		}
	}
	if (parse_user_info(&plugin.opts, user_info) < 0)
		return 1;
	/*
	 * The user's environment never changes a path or a setting here:
	 * it is only compared with what the command will get.
	 */
	plugin.opts.edit = sudo_iam_flag(settings, "sudoedit", 0) == 1;
	if (sudo_iam_env_ask_init(&plugin.opts.env, settings, submit_optind,
				  submit_argv, submit_envp) < 0)
		return 1;
	plugin.opened = true;
	return 1;
}

static void
iam_close(void)
{
	opts_release(&plugin.opts);
	plugin.opened = false;
}

/*
 * A refusal decided by a variable or a file names it:
 * "sudo: denied by IAM policy (no allow for variable FOO)".
 */
static void
say_denied(const struct sudo_iam_outcome *out, const char *why)
{
	const char *link = strcmp(out->kind, "file") == 0 ? "to edit" :
		"for variable";

	if (plugin.say == NULL)
		return;
	if (out->what[0] != '\0')
		(void)plugin.say(SUDO_CONV_ERROR_MSG, "sudo: denied by IAM "
				 "policy (%s %s %s)\n", why, link, out->what);
	else
		(void)plugin.say(SUDO_CONV_ERROR_MSG, "sudo: denied by IAM "
				 "policy (%s %s with an unprintable name)\n",
				 why, link);
}

static void
say_refused(const struct sudo_iam_outcome *out)
{
	if (plugin.say == NULL)
		return;
	if (out->what[0] != '\0')
		(void)plugin.say(SUDO_CONV_ERROR_MSG, SUDO_IAM_MSG_REFUSED
				 "\n", out->what);
	else
		(void)plugin.say(SUDO_CONV_ERROR_MSG, "%s\n",
				 SUDO_IAM_MSG_INVALID);
}

static int
iam_check(char *const command_info[], char *const run_argv[],
	  char *const run_envp[], const char **errstr)
{
	enum sudo_iam_verdict v = SUDO_IAM_UNAVAIL;
	struct sudo_iam_outcome out = { NULL, "" };

	if (plugin.opened)
		v = sudo_iam_decide(&plugin.opts, command_info, run_argv,
				    run_envp, &out);
	switch (v) {
	case SUDO_IAM_ALLOW:
	case SUDO_IAM_DEFER:
		return 1;
	case SUDO_IAM_REFUSED:
		say_refused(&out);
		break;
	case SUDO_IAM_EXPLICIT:
		if (out.kind != NULL)
			say_denied(&out, "explicit deny");
		else
			tell_user(SUDO_CONV_ERROR_MSG, SUDO_IAM_MSG_EXPLICIT);
		break;
	case SUDO_IAM_DISABLED:
		tell_user(SUDO_CONV_ERROR_MSG, SUDO_IAM_MSG_DISABLED);
		break;
	case SUDO_IAM_NO_ALLOW:
		if (out.kind != NULL) {
			say_denied(&out, "no allow");
			break;
		}
		/* fall through */
	case SUDO_IAM_NOT_IAM:
		tell_user(SUDO_CONV_ERROR_MSG, SUDO_IAM_MSG_NO_ALLOW);
		break;
	case SUDO_IAM_UNAVAIL:
	default:
		tell_user(SUDO_CONV_ERROR_MSG, SUDO_IAM_MSG_UNAVAIL);
		*errstr = "IAM unavailable";
		return 0;
	}
	*errstr = "denied by IAM policy";
	return 0;
}

static int
iam_show_version(int verbose)
{
	(void)verbose;
	if (plugin.say != NULL)
		(void)plugin.say(SUDO_CONV_INFO_MSG,
				 "sudo_iam approval plugin version %s\n",
				 IAM_VERSION);
	return 1;
}

__attribute__((visibility("default"))) struct approval_plugin sudo_iam = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = iam_open,
	.close = iam_close,
	.check = iam_check,
	.show_version = iam_show_version,
};
