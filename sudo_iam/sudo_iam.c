/*
 * sudo_iam.c - the sudo approval plugin.  Until the decision path lands
 * it refuses every command: never approve what was not decided.
 */
#include <sudo_plugin.h>

static sudo_printf_t say;

static int
iam_open(unsigned int version, sudo_conv_t conv, sudo_printf_t pf,
	 char *const settings[], char *const user_info[], int submit_optind,
	 char *const submit_argv[], char *const submit_envp[],
	 char *const options[], const char **errstr)
{
	(void)conv; (void)settings; (void)user_info; (void)submit_optind;
	(void)submit_argv; (void)submit_envp; (void)options; (void)errstr;
	say = pf;
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR)
		return -1;
	return 1;
}

static int
iam_check(char *const command_info[], char *const run_argv[],
	  char *const run_envp[], const char **errstr)
{
	(void)command_info; (void)run_argv; (void)run_envp;
	*errstr = "IAM unavailable";
	say(SUDO_CONV_ERROR_MSG, "sudo: IAM unavailable; refused\n");
	return 0;
}

__attribute__((visibility("default"))) struct approval_plugin sudo_iam = {
	.type = SUDO_APPROVAL_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = iam_open,
	.check = iam_check,
};
