/*
 * fuzz_chkpwd.c - libFuzzer target on the input of the setuid-root
 * iam-chkpwd: the request lines pam_iam writes (SERVICE, USER, PASSWORD,
 * CODE), split as the helper splits them, then the code line checked
 * against two devices, a recovery code and a spent one (which must never
 * match) through the state as the
 * helper checks it (iam_mfa_verify, iam_lockout_settle_mfa) in a
 * private state folder.
 *
 * The helper's source is built in (without its main), so the very
 * functions the installed helper runs are fuzzed.
 */
#include <stdint.h>

#define IAM_CHKPWD_NO_MAIN
#include "../../iamctl/chkpwd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char state_dir[] = "/tmp/fuzz-chkpwd.XXXXXX";
static struct iam_auth_user user;
static struct iam_auth_mfa devices[2];
static const char *recovery[2];	/* one live, one spent */
static int64_t clock_now = 1800000000;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *h = NULL, *spent = NULL;

	(void)argc;
	(void)argv;
	if (mkdtemp(state_dir) == NULL || chmod(state_dir, 0700) < 0)
		abort();
	if (iam_recovery_hash("ABCD-EFGH-IJKL-MNOP", &h) < 0 ||
	    iam_recovery_hash("QRST-UVWX-YZ23-4567", &spent) < 0 ||
	    asprintf((char **)&recovery[1], "%c%s", IAM_RECOVERY_SPENT,
		     spent) < 0)
		abort();
	recovery[0] = h;
	free(spent);
	devices[0] = (struct iam_auth_mfa){ "default",
		"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", IAM_TOTP_SHA1, 6, 30, 0, 0 };
	devices[1] = (struct iam_auth_mfa){ "phone",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", IAM_TOTP_SHA256, 8, 60, 0,
		iam_mfa_device_tag("phone") };
	user.uid = 70001;
	user.name = "ann";
	user.mfa_secret = devices[0].secret;
	user.mfa_devices = devices;
	user.n_mfa_devices = 2;
	user.recovery_codes = recovery;
	user.n_recovery_codes = 2;
	user.recovery_set = iam_recovery_set_tag(recovery, 2);
	/* Lockout off, the clock moving on: every input is checked. */
	user.password_policy.lockout.max_failed_attempts = 0;
	user.password_policy.lockout.lockout_seconds = 900;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request *q = calloc(1, sizeof(*q));
	struct iam_mfa_match m;
	struct iam_lockout_try t;
	char norm[IAM_RECOVERY_RAW + 1];
	int r, v;

	if (q == NULL)
		abort();
	if (size > INPUT_MAX) {
		free(q);
		return 0;
	}
	memcpy(q->buf, data, size);
	r = parse_request(q, size);
	if (r == 0) {
		if (strlen(q->service) > SERVICE_MAX ||
		    strlen(q->user) > NAME_LEN || q->user[0] == '\0' ||
		    strlen(q->password) > IAM_PASSWORD_MAX ||
		    strlen(q->code) > CODE_MAX ||
		    strchr(q->code, '\n') != NULL)
			abort();
		clock_now += IAM_LOCKOUT_DELAY + 30;
		r = iam_lockout_begin(state_dir, user.uid,
				      IAM_STRICT_ANY_OWNER,
				      &user.password_policy.lockout,
				      clock_now, &t);
		if (r != 0)
			abort();
		v = iam_mfa_verify(&user, q->code, clock_now, 1, &t.counted,
				   &m);
		if (v != 0 && v != -EACCES && v != -EALREADY)
			abort();
		if (v == 0 && m.recovery >= 0 &&
		    iam_recovery_normalise(q->code, norm) < 0)
			abort();	/* only a code of the right shape */
		if (v == 0 && m.recovery == 1)
			abort();	/* a spent code never matches */
		r = iam_lockout_settle_mfa(&t, v == 0 ? IAM_LOCKOUT_OK :
					   IAM_LOCKOUT_FAILED,
					   v == 0 ? &m : NULL, NULL);
		if (r != 0 && r != -EALREADY)
			abort();
	}
	iam_wipe(q, sizeof(*q));
	free(q);
	return 0;
}
