/*
 * fuzz_role_helper.c - libFuzzer target on the input of the setuid-root
 * iam-role-helper: its argument vector and the verification code line.
 *
 * The helper's source is built in (without its main), so the very
 * functions the installed helper runs are fuzzed.  The first byte picks
 * the input:
 *   even: the rest is argv, arguments separated by NUL bytes; parsed as
 *         the helper's main, assume-role and mfa parse it, for a real
 *         uid of root and of a user.
 *   odd:  the rest is standard input: the code line is read as the
 *         helper reads it, then checked against a device through the
 *         lockout routine in a private state folder.
 */
#include <fcntl.h>
#include <stdint.h>

#define IAM_ROLE_HELPER_NO_MAIN
#include "../../iamctl/role_helper.c"

#define FUZZ_ARGS_MAX	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct iam_config *cfg;
static struct iam_auth_user user;
static int64_t clock_now = 1800000000;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz-role-helper.XXXXXX";

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || chmod(dir, 0700) < 0 ||
	    iam_config_defaults(&cfg) < 0)
		abort();
	free(cfg->state_dir);
	cfg->state_dir = strdup(dir);
	if (cfg->state_dir == NULL)
		abort();
	user.uid = 70001;
	user.name = "ann";
	user.mfa_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
	user.mfa_algorithm = IAM_TOTP_SHA1;
	user.mfa_digits = 6;
	user.mfa_period = 30;
	/* Lockout off, the clock moving on: every input is checked. */
	user.password_policy.lockout.max_failed_attempts = 0;
	user.password_policy.lockout.lockout_seconds = 900;
	return 0;
}

static void
fuzz_argv(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[FUZZ_ARGS_MAX + 2];
	const char *config;
	enum command cmd;
	int argc = 1, i;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = (char *)"iam-role-helper";
	for (size_t k = 0; k <= size && argc < FUZZ_ARGS_MAX + 1;) {
		argv[argc++] = copy + k;
		k += strlen(copy + k) + 1;
	}
	argv[argc] = NULL;
	for (uid_t ruid = 0; ruid <= 1; ruid++) {
		if (parse_command(argc, argv, ruid ? 70001 : 0, &config, &cmd,
				  &i) < 0)
			continue;
		if (config != NULL && ruid != 0)
			abort();	/* only a real root picks the settings */
		if (i >= argc)
			abort();
		if (cmd == CMD_MFA) {
			struct selfserve ss;

			/* Only a valid device name, only known verbs. */
			if (parse_mfa(argc - i, argv + i, &ss) == 0 &&
			    (ss.user == NULL ||
			     (ss.device != NULL &&
			      !iam_mfa_name_valid(ss.device)) ||
			     (ss.verb == MFA_RECOVERY && ss.device != NULL)))
				abort();
		}
		if (cmd == CMD_ASSUME_ROLE) {
			struct assume a;

			memset(&a, 0, sizeof(a));
			if (parse_assume(argc - i, argv + i, &a) == 0 &&
			    (a.role_name == NULL || a.reason == NULL ||
			     a.asked > 43200 * 10 ||
			     !iam_role_reason_valid(a.reason)))
				abort();
		}
	}
	free(copy);
}

static void
fuzz_code(const uint8_t *data, size_t size)
{
	char code[CODE_MAX + 2];
	int p[2], r;

	if (size > 60000 || pipe2(p, O_CLOEXEC) < 0)
		return;
	if (write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	memset(code, 'x', sizeof(code));
	r = read_code(p[0], code, sizeof(code));
	close(p[0]);
	if (r < 0) {
		for (size_t k = 0; k < sizeof(code); k++)
			if (code[k] != 0)
				abort();	/* wiped */
		return;
	}
	if (strlen(code) > CODE_MAX || strchr(code, '\n') != NULL)
		abort();
	clock_now += IAM_LOCKOUT_DELAY + 30;
	r = iam_role_mfa_check(cfg, &user, code, clock_now,
			       IAM_STRICT_ANY_OWNER, NULL);
	if (r != 0 && r != -EACCES && r != -EALREADY) {
		fprintf(stdout, "mfa check: %s\n", strerror(-r));
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_code(data + 1, size - 1);
	else
		fuzz_argv(data + 1, size - 1);
	return 0;
}
