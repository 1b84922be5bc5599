/*
 * auth.c - pam_sm_authenticate and pam_sm_setcred: IAM password and TOTP.
 *
 * A local name (/etc/passwd) is never prompted.  Every other name gets
 * the same prompts and the same work (a dummy hash of the configured
 * method and cost, and a dummy code check, for names that are not IAM
 * users and users without a device), so nothing tells who exists, who
 * has a device or whether the password was right.  The failure counter is
 * raised under its lock before anything is verified, so killing the
 * client in the middle still counts.  Anything unexpected denies.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <syslog.h>
#include <time.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>

#include "pam_iam.h"
#include "iam/keys.h"
#include "iam/audit.h"
#include "iam/auth.h"

#define MSG_FAILED	"Authentication failed."
#define MSG_NO_MFA	"MFA is required for this account; ask an " \
			"administrator to enrol a device."
#define PROMPT_CODE	"Verification code: "
#define PROMPT_ONE	"Password and verification code: "

#ifndef IAM_LIBEXECDIR
#define IAM_LIBEXECDIR	"/usr/libexec/iam"
#endif
#define CHKPWD		IAM_LIBEXECDIR "/iam-chkpwd"

/* Checked for names without a device, so their work is the same. */
static const char dummy_secret[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

enum outcome {
	OK,
	BAD_PASSWORD,
	BAD_CODE,
	REPLAY,
	NOT_ENROLLED,
	LOCKED,
	UNKNOWN,
};

struct attempt {
	pam_handle_t *pamh;
	struct pam_iam_opts *o;
	const char *user;
	const char *service, *rhost, *tty;
	struct iam_who who;		/* who is asking (who.c) */
	struct iam_auth_user *rec;	/* NULL: not an IAM user */
	bool ask_code;			/* the code prompt is due */
	bool mfa_required;		/* mfa = required for this service */
	char *password;			/* own copy; wiped */
	char *code;			/* own copy; wiped */
	int64_t now;
	struct iam_mfa_match match;	/* what the code matched */
	bool code_ok;
	bool key_proven;		/* sshd's key step proved an IAM key:
					   only the code is asked */
	bool via_helper;		/* not root: iam-chkpwd checks */
	char arn[384];
	char alias[128];		/* account alias, "" none */
};

static void
tell_user(struct attempt *a, int style, const char *text)
{
	if (!a->o->quiet)
		(void)pam_prompt(a->pamh, style, NULL, "%s", text);
}

/* ---- The trail and the log -------------------------------------------- */

static const char *const error_codes[] = {
	[OK] = NULL,
	[BAD_PASSWORD] = "InvalidPassword",
	[BAD_CODE] = "InvalidMFA",
	[REPLAY] = "MFAReplay",
	[NOT_ENROLLED] = "MFANotEnrolled",
	[LOCKED] = "AccountLocked",
	[UNKNOWN] = "NoSuchUser",
};

static int
trail_login(struct attempt *a, const char *event, const char *error)
{
	struct iam_event_param params[] = {
		{ "service", a->service },
		{ "tty", a->tty },
		{ "mfa", a->code_ok ? "true" : "false" },
	};
	struct iam_event ev = {
		.time = a->now,
		.source = "pam_iam",
		.name = event,
		.user_type = a->rec != NULL ? "IAMUser" : "Unknown",
		/* Unknown names are often mistyped passwords: never kept. */
		.user_name = a->rec != NULL ? a->user : NULL,
		.user_arn = a->rec != NULL ? a->arn : NULL,
		.source_ip = a->rhost,
		.params = params,
		.n_params = sizeof(params) / sizeof(params[0]),
		.error_code = error,
	};
	int r;

	r = iam_trail_write(a->o->cfg, &ev);
	if (r < 0) {
		pam_syslog(a->pamh, a->o->cfg->trail_required ? LOG_ERR :
			   LOG_WARNING, "cannot write the trail %s: %s",
			   a->o->cfg->trail_file, strerror(-r));
		if (!a->o->cfg->trail_required)
			r = 0;
	}
	return r;
}

static void
log_outcome(struct attempt *a, enum outcome out)
{
	const char *rh = a->rhost != NULL ? a->rhost : "";

	if (out == OK) {
		pam_syslog(a->pamh, LOG_INFO, "authentication of %s succeeded "
			   "(mfa=%s) rhost=%s", a->user,
			   a->code_ok ? "yes" : "no", rh);
	} else if (out == UNKNOWN) {
		pam_syslog(a->pamh, LOG_NOTICE, "authentication failure for a "
			   "name that is not an IAM user; rhost=%s", rh);
		if (a->o->debug)
			pam_syslog(a->pamh, LOG_DEBUG, "unknown name \"%s\"",
				   a->user);
	} else {
		pam_syslog(a->pamh, LOG_NOTICE, "authentication failure for "
			   "%s: %s; rhost=%s", a->user, error_codes[out], rh);
	}
}

/* ---- Who is an IAM user ----------------------------------------------- */

/* The snapshot is unusable: local ids stay local, the rest is refused. */
static int
refuse_unavailable(struct attempt *a, int r, const char *why)
{
	const struct iam_config *cfg = a->o->cfg;
	struct passwd *pw = pam_modutil_getpwnam(a->pamh, a->user);

	if (pw != NULL && (pw->pw_uid < cfg->uid_min ||
			   pw->pw_uid > cfg->uid_max))
		return PAM_USER_UNKNOWN;
	pam_syslog(a->pamh, LOG_ERR, "IAM unavailable: %s", why);
	(void)trail_login(a, "Login", "Unavailable");
	return pam_iam_errno_code(r);
}

/*
 * The private snapshot: the account alias (every name sees it) and the
 * user's record.  Every name that is not local does the same lookup.
 * nss.db and NSS agreed on an IAM user's uid (who.c); a private snapshot
 * that lacks the name or holds another uid is torn, and fails closed.
 */
static int
load_attempt_record(struct attempt *a)
{
	int r;

	if (iam_who_record(&a->who, a->o->cfg->snapshot_dir, a->user) < 0)
		return refuse_unavailable(a, a->who.err, a->who.why);
	memcpy(a->alias, a->who.alias, sizeof(a->alias));
	a->rec = a->who.rec;
	a->who.rec = NULL;
	if (a->rec == NULL)
		return PAM_SUCCESS;
	r = iam_arn_user(a->rec->account_id, a->rec->name, a->arn,
			 sizeof(a->arn));
	return r < 0 ? PAM_BUF_ERR : PAM_SUCCESS;
}

/* ---- Prompts ----------------------------------------------------------- */

/* Split "PASSWORDCODE" of one_prompt: the code is the last digits. */
static int
split_one(struct attempt *a, const char *both)
{
	size_t n = strlen(both);
	size_t digits = a->rec != NULL && a->rec->mfa_secret != NULL ?
		a->rec->mfa_digits : 6;

	if (n > IAM_PASSWORD_MAX + 8)
		digits = 0;	/* refused unhashed anyway */
	if (n < digits)
		digits = n;
	a->password = strndup(both, n - digits);
	a->code = strdup(both + n - digits);
	if (a->password == NULL || a->code == NULL)
		return PAM_BUF_ERR;
	/* Later modules (pam_unix) get the password alone. */
	return pam_set_item(a->pamh, PAM_AUTHTOK, a->password);
}

/*
 * The password as pam_get_authtok(3) would get it (try_first_pass,
 * use_first_pass), but with the conversation's own error kept, so a
 * conversation failure is PAM_CONV_ERR and not an authentication failure.
 */
static int
ask_password(struct attempt *a, const char *prompt, const char **ret_tok)
{
	const void *old = NULL;
	char *resp = NULL;
	int r;

	if (a->o->try_first_pass || a->o->use_first_pass) {
		r = pam_get_item(a->pamh, PAM_AUTHTOK, &old);
		if (r == PAM_SUCCESS && old != NULL) {
			*ret_tok = old;
			return PAM_SUCCESS;
		}
		if (a->o->use_first_pass)
			return PAM_AUTH_ERR;
	}
	r = pam_prompt(a->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
	if (r != PAM_SUCCESS || resp == NULL) {
		resp = iam_drop_string(resp);
		return pam_iam_conv_code(r);
	}
	r = pam_set_item(a->pamh, PAM_AUTHTOK, resp);
	resp = iam_drop_string(resp);
	if (r != PAM_SUCCESS)
		return r == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_SYSTEM_ERR;
	r = pam_get_item(a->pamh, PAM_AUTHTOK, &old);
	if (r != PAM_SUCCESS || old == NULL)
		return PAM_SYSTEM_ERR;
	*ret_tok = old;
	return PAM_SUCCESS;
}

static int
get_password(struct attempt *a)
{
	const char *tok = NULL;
	char prompt[160];
	int r;

	if (a->key_proven)
		return PAM_SUCCESS;

	if (a->o->one_prompt && a->ask_code)
		r = iam_snprintf(prompt, sizeof(prompt), "%s", PROMPT_ONE);
	else if (a->alias[0] != '\0')
		r = iam_snprintf(prompt, sizeof(prompt), "Password for %s@%s: ",
				 a->user, a->alias);
	else
		r = iam_snprintf(prompt, sizeof(prompt), "Password: ");
	if (r < 0)
		r = iam_snprintf(prompt, sizeof(prompt), "Password: ");
	r = ask_password(a, prompt, &tok);
	if (r != PAM_SUCCESS)
		return r;
	if (a->o->one_prompt && a->ask_code)
		return split_one(a, tok);
	a->password = strdup(tok);
	return a->password != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
}

static int
get_code(struct attempt *a)
{
	char *resp = NULL;
	int r;

	if (!a->ask_code || a->code != NULL)
		return PAM_SUCCESS;
	r = pam_prompt(a->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", PROMPT_CODE);
	if (r != PAM_SUCCESS || resp == NULL) {
		resp = iam_drop_string(resp);
		return pam_iam_conv_code(r);
	}
	a->code = resp;
	return PAM_SUCCESS;
}

/* ---- Checks ------------------------------------------------------------ */

static bool
password_ok(struct attempt *a)
{
	const char *hash = NULL;
	int r;

	if (a->rec != NULL)
		hash = a->rec->password_hash;
	if (hash == NULL)
		hash = iam_password_dummy_hash(a->o->cfg->hash_method);
	r = iam_password_verify(a->password, hash);
	return r == 0 && a->rec != NULL && a->rec->password_hash != NULL;
}

/*
 * OK, BAD_CODE or REPLAY: a code of any of the user's devices (each
 * against its own last step in st) or one unused recovery code; a dummy
 * check when there is no device.
 */
static enum outcome
code_check(struct attempt *a, const struct iam_state *st)
{
	struct iam_totp t = {
		.secret = dummy_secret, .algorithm = IAM_TOTP_SHA1,
		.digits = 6, .period = 30,
	};
	bool real = a->rec != NULL && a->rec->mfa_secret != NULL;
	char code[16] = "";
	uint64_t step;
	int r;

	if (!a->ask_code)
		return OK;
	if (real) {
		r = iam_mfa_verify(a->rec, a->code != NULL ? a->code : "",
				   a->now, a->o->cfg->totp_window, st,
				   &a->match);
		if (r == 0) {
			a->code_ok = true;
			return OK;
		}
		return r == -EALREADY ? REPLAY : BAD_CODE;
	}
	/*
	 * The comparison reads as many bytes as the device has digits,
	 * whatever the answer's length: give it a zero-padded copy, so a
	 * short answer is never read past its end.
	 */
	if (a->code != NULL)
		memcpy(code, a->code, strnlen(a->code, sizeof(code) - 1));
	(void)iam_totp_verify(&t, code, a->now, a->o->cfg->totp_window, 0,
			      &step);
	iam_wipe(code, sizeof(code));
	/*
	 * No device: the answer was asked only so that nothing tells this
	 * user apart, and is ignored, whatever it is (mfa = "required"
	 * without a device is NOT_ENROLLED before this).
	 */
	return OK;
}

/* ---- After the checks -------------------------------------------------- */

static void
cleanup_authed(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/*
 * sshd authenticates keyboard-interactive logins in a child process and
 * opens the session in its parent, so PAM data set here never reaches
 * the session phase.  Leave the MFA record for the parent as well; its
 * session phase takes it (pam_iam_session_open) and removes it.
 */
static int
hand_off(struct attempt *a, const struct iam_session_rec *rec)
{
	char key[96];
	int r;

	if (a->service == NULL || strcmp(a->service, "sshd") != 0)
		return 0;
	r = iam_session_handoff_key(getppid(), key, sizeof(key));
	return r ? r : iam_session_write(a->o->cfg->run_dir, key, rec, 0);
}

static int
record_session(struct attempt *a)
{
	struct iam_session_rec rec = { .mfa_time = a->now, .uid = a->rec->uid };
	struct pam_iam_authed *au;
	char key[96];
	int r;

	au = calloc(1, sizeof(*au));
	if (au == NULL)
		return -ENOMEM;
	au->uid = a->rec->uid;
	if (a->code_ok) {
		r = iam_session_key(a->rec->uid, a->tty, key, sizeof(key));
		/*
		 * A network login sets the address; sudo or su inside a
		 * login session (no PAM_RHOST) keeps the one it recorded.
		 */
		if (r == 0)
			iam_session_source(a->o->cfg->run_dir, key, a->rhost,
					   &rec, 0);
		r = r ? r : iam_session_write(a->o->cfg->run_dir, key, &rec, 0);
		r = r ? r : hand_off(a, &rec);
		if (r < 0) {
			free(au);
			pam_syslog(a->pamh, LOG_ERR, "cannot record the MFA "
				   "session under %s: %s", a->o->cfg->run_dir,
				   strerror(-r));
			return r;
		}
		au->mfa_time = a->now;
		memcpy(au->key, key, sizeof(au->key));
	}
	if (pam_set_data(a->pamh, PAM_IAM_DATA_AUTH, au, cleanup_authed) !=
	    PAM_SUCCESS) {
		free(au);
		return -ENOMEM;
	}
	return 0;
}

static int
result_code(enum outcome out)
{
	switch (out) {
	case OK:
		return PAM_SUCCESS;
	case LOCKED:
		return PAM_MAXTRIES;
	case UNKNOWN:
		return PAM_USER_UNKNOWN;
	default:
		return PAM_AUTH_ERR;
	}
}

/* Report one outcome: trail, log, message, code. */
static int
report_outcome(struct attempt *a, enum outcome out)
{
	int r;

	log_outcome(a, out);
	r = trail_login(a, "Login", error_codes[out]);
	if (out == OK && r < 0) {
		/* Refused after all: nothing may vouch for this login. */
		(void)pam_set_data(a->pamh, PAM_IAM_DATA_AUTH, NULL, NULL);
		return pam_iam_errno_code(r);
	}
	if (out == NOT_ENROLLED)
		tell_user(a, PAM_ERROR_MSG, MSG_NO_MFA);
	else if (out != OK)
		tell_user(a, PAM_ERROR_MSG, MSG_FAILED);
	return result_code(out);
}

/*
 * The work of an unknown name's check (the dummy hash and code), for a
 * refusal that checks nothing (locked, or too soon after a failure): its
 * time does not tell an IAM user from a name IAM does not know.
 */
static void
unknown_work(struct attempt *a)
{
	struct iam_auth_user *rec = a->rec;

	a->rec = NULL;
	(void)password_ok(a);
	(void)code_check(a, NULL);
	a->rec = rec;
}

/* Unknown names: the same work as a user, then PAM_USER_UNKNOWN. */
static int
check_unknown(struct attempt *a)
{
	(void)password_ok(a);
	(void)code_check(a, NULL);
	return report_outcome(a, UNKNOWN);
}

/* An unknown name whose code prompt went unanswered: PAM_USER_UNKNOWN. */
static int
check_unknown_unanswered(struct attempt *a)
{
	(void)password_ok(a);
	return report_outcome(a, UNKNOWN);
}

static int
state_error(struct attempt *a, int r)
{
	pam_syslog(a->pamh, LOG_ERR, "state of %s in %s unusable: %s", a->user,
		   a->o->cfg->state_dir, strerror(-r));
	(void)trail_login(a, "Login", "Unavailable");
	return pam_iam_errno_code(r);
}

/*
 * After the checks, through the lockout routine: a success resets the
 * counter and records the step, unless a concurrent login took that step
 * meanwhile (then it is a replay, already counted); a right password
 * without the device it needs takes its count back.
 */
static int
settle(struct attempt *a, enum outcome *out, const struct iam_lockout_try *t,
       bool *ret_locked)
{
	enum iam_lockout_result res = *out == OK ? IAM_LOCKOUT_OK :
		*out == NOT_ENROLLED ? IAM_LOCKOUT_UNCOUNTED :
		IAM_LOCKOUT_FAILED;
	int r;

	r = iam_lockout_settle_mfa(t, res, a->code_ok ? &a->match : NULL,
				   ret_locked);
	if (r == -EALREADY) {
		*out = REPLAY;
		a->code_ok = false;
		return 0;
	}
	return r;
}

/* A recovery code let this user in: the log and the trail say so. */
static void
recovery_used(struct attempt *a, const struct iam_state *st)
{
	uint32_t used = iam_state_recovery_used(st, a->rec->recovery_set) |
			(1u << a->match.recovery);
	int left = iam_recovery_left(a->rec->recovery_codes,
				     a->rec->n_recovery_codes, used);
	char n[16];
	struct iam_event_param params[] = {
		{ "service", a->service },
		{ "tty", a->tty },
		{ "recoveryCodesLeft", n },
	};
	struct iam_event ev = {
		.time = a->now,
		.source = "pam_iam",
		.name = "MFARecoveryCodeUsed",
		.user_type = "IAMUser",
		.user_name = a->user,
		.user_arn = a->arn,
		.source_ip = a->rhost,
		.params = params,
		.n_params = sizeof(params) / sizeof(params[0]),
	};

	struct iam_faults f = IAM_FAULTS_INIT;
	int r;

	snprintf(n, sizeof(n), "%d", left < 0 ? 0 : left);
	pam_syslog(a->pamh, LOG_NOTICE, "%s used a recovery code; %s left",
		   a->user, n);
	if (iam_trail_write(a->o->cfg, &ev) < 0)
		pam_syslog(a->pamh, LOG_WARNING, "cannot write the trail %s",
			   a->o->cfg->trail_file);
	/* Out of the store too, so no host that shares it takes it again. */
	r = iam_creds_spend_recovery(a->o->cfg, a->rec->uid,
				     a->rec->recovery_codes[a->match.recovery],
				     &f);
	if (r < 0 && r != -ENOENT)
		pam_syslog(a->pamh, LOG_ERR, "the used recovery code of %s "
			   "stays in the store: %s", a->user, strerror(-r));
	iam_faults_release(&f);
}

static int
check_user(struct attempt *a)
{
	struct iam_lockout_try t;
	enum outcome out;
	bool locked = false;
	int r;

	/*
	 * Counted and saved before anything is verified, the lock released
	 * before the hash; refused unchecked while locked (the lock is not
	 * extended) or, with lockout off, too soon after a failure.
	 */
	r = iam_lockout_begin(a->o->cfg->state_dir, a->rec->uid, 0,
			      &a->rec->password_policy.lockout, a->now, &t);
	if (r == -EBUSY || r == -EAGAIN) {
		unknown_work(a);
		return report_outcome(a, LOCKED);
	}
	if (r < 0)
		return state_error(a, r);
	out = a->key_proven || password_ok(a) ? OK : BAD_PASSWORD;
	if (out == OK && a->mfa_required && a->rec->mfa_secret == NULL) {
		/* Told only now, after a right password. */
		(void)code_check(a, &t.counted);
		out = NOT_ENROLLED;
	} else if (out == OK) {
		out = code_check(a, &t.counted);
	} else {
		(void)code_check(a, &t.counted);
	}
	r = settle(a, &out, &t, &locked);
	if (r < 0)
		return state_error(a, r);
	if (out == OK && (r = record_session(a)) < 0)
		return pam_iam_errno_code(r);
	if (out == OK && a->code_ok && a->match.recovery >= 0)
		recovery_used(a, &t.counted);
	if (locked) {
		pam_syslog(a->pamh, LOG_NOTICE, "%s locked after %u failed "
			   "attempts", a->user, t.counted.failures);
		(void)trail_login(a, "Lockout", "AccountLocked");
	}
	return report_outcome(a, out);
}

/*
 * sshd with "AuthenticationMethods publickey,keyboard-interactive": the
 * key step has passed when keyboard-interactive runs, and sshd says which
 * key in its PAM environment (SSH_AUTH_INFO_0, a line "publickey TYPE
 * BASE64").  When that key is one of this user's Active, unexpired keys
 * in keys.db, the key stands in for the password and only the code is
 * asked: key and then code, as the SSH key documentation promises.  The
 * environment alone vouches for nothing: the key must be the user's own.
 */
static bool
key_proven(struct attempt *a)
{
	const char *info, *line;
	char path[PATH_MAX], err[256];

	if (a->service == NULL || strcmp(a->service, "sshd") != 0)
		return false;
	info = pam_getenv(a->pamh, "SSH_AUTH_INFO_0");
	/* keys.db of the generation the user's record came from. */
	if (info == NULL || iam_generation_path(&a->who.gen, IAM_KEYSDB_FILE,
						path, sizeof(path)) < 0)
		return false;
	for (line = info; line != NULL && *line != '\0'; ) {
		if (strncmp(line, "publickey ", 10) == 0 &&
		    iam_keysdb_has_key(path, 0, a->user, a->rec->uid, a->now,
				       line + 10, err, sizeof(err)) == 1)
			return true;
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return false;
}

/* Write all of buf to fd (a socket: no SIGPIPE for the application). */
static int
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The check of a caller that is not root, by the setuid helper
 * iam-chkpwd over a socket: "SERVICE\nUSER\nPASSWORD\nCODE\n" in,
 * the exit status out (0 yes, anything else no).  The helper counts,
 * settles and writes the trail itself; it refuses any name but the
 * caller's own.
 */
static int
check_via_helper(struct attempt *a)
{
	static char *const argv[] = { (char *)"iam-chkpwd", NULL };
	static char *const envp[] = { NULL };
	const char *service = a->service != NULL ? a->service : "";
	const char *code = a->code != NULL ? a->code : "";
	struct iam_buf b = IAM_BUF_INIT;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	int sv[2], status = 0, r;
	pid_t pid, w;

	if (a->password == NULL || strchr(a->password, '\n') != NULL ||
	    strchr(code, '\n') != NULL || strchr(service, '\n') != NULL) {
		tell_user(a, PAM_ERROR_MSG, MSG_FAILED);
		return PAM_AUTH_ERR;
	}
	r = iam_buf_addf(&b, "%s\n%s\n%s\n%s\n", service, a->user,
			 a->password, code);
	if (r < 0)
		return PAM_BUF_ERR;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		iam_buf_wipe(&b);
		return PAM_SYSTEM_ERR;
	}
	/*
	 * An application that ignores SIGCHLD (its children reaped by the
	 * kernel) or reaps them in a handler would take the helper's exit
	 * status from us: the default while we wait, as pam_unix does.
	 */
	(void)sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		if (dup2(sv[1], STDIN_FILENO) < 0)
			_exit(127);
		execve(CHKPWD, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	if (pid > 0) {
		r = send_all(sv[0], b.buf, b.len);
		(void)shutdown(sv[0], SHUT_WR);
	}
	close(sv[0]);
	iam_buf_wipe(&b);
	if (pid < 0) {
		pam_syslog(a->pamh, LOG_ERR, "cannot run %s: %s", CHKPWD,
			   strerror(errno));
		(void)sigaction(SIGCHLD, &old, NULL);
		return PAM_SYSTEM_ERR;
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	(void)sigaction(SIGCHLD, &old, NULL);
	if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    r == 0) {
		pam_syslog(a->pamh, LOG_INFO, "authentication of %s succeeded "
			   "through %s", a->user, CHKPWD);
		return PAM_SUCCESS;
	}
	if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		pam_syslog(a->pamh, LOG_ERR, "cannot run %s", CHKPWD);
	else
		pam_syslog(a->pamh, LOG_NOTICE, "authentication failure for "
			   "%s through %s", a->user, CHKPWD);
	tell_user(a, PAM_ERROR_MSG, MSG_FAILED);
	return PAM_AUTH_ERR;
}

/*
 * After a right password: one stored with another method or cost than
 * hash_method is re-hashed with it, so over time every check costs what
 * the dummy hash of an unknown name costs.  A failure changes nothing.
 * Re-hashing publishes a whole generation inside the login, so above
 * rehash_max_users users it is left to the user's next password change
 * (the stored hash keeps working).
 */
static void
rehash_if_due(struct attempt *a)
{
	const struct iam_config *cfg = a->o->cfg;

	/* Only root can write the store (not a screen locker). */
	if (geteuid() != 0 || a->key_proven || a->password == NULL ||
	    a->rec->password_hash == NULL ||
	    iam_password_hash_current(a->rec->password_hash,
				      cfg->hash_method))
		return;
	if (cfg->rehash_max_users == 0 ||
	    a->who.n_users > cfg->rehash_max_users) {
		pam_syslog(a->pamh, LOG_INFO, "password of %s not re-hashed "
			   "with hash_method at login: %zu users are over "
			   "rehash_max_users (%u)", a->rec->name,
			   a->who.n_users, cfg->rehash_max_users);
		return;
	}
	(void)pam_iam_rehash(a->pamh, cfg, a->rec, a->password);
}

/*
 * Who is asking, then the settings, then the user's record.  A local
 * name leaves here with PAM_USER_UNKNOWN before anything is asked or
 * shown, whatever state iam.conf is in.
 */
static int
prepare(struct attempt *a, int flags, int argc, const char **argv)
{
	const struct iam_config *cfg;
	int r;

	r = pam_get_user(a->pamh, &a->user, NULL);
	if (r != PAM_SUCCESS || a->user == NULL || a->user[0] == '\0')
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE :
			r == PAM_SUCCESS ? PAM_USER_UNKNOWN : r;
	r = pam_iam_start(a->pamh, flags, argc, argv, a->user, a->o, &a->who);
	if (r != PAM_SUCCESS)
		return r;
	cfg = a->o->cfg;
	a->service = pam_iam_item(a->pamh, PAM_SERVICE);
	a->rhost = pam_iam_item(a->pamh, PAM_RHOST);
	a->tty = pam_iam_item(a->pamh, PAM_TTY);
	a->now = (int64_t)time(NULL);
	if (geteuid() != 0 && a->who.kind == IAM_WHO_UNKNOWN)
		return PAM_USER_UNKNOWN;	/* nothing to check as a user */
	if (geteuid() != 0 && a->who.kind == IAM_WHO_USER) {
		/*
		 * A screen locker, running as the user: auth/ and state/
		 * are root's, so iam-chkpwd checks.  Whether the user has
		 * a device is not known here: the code is asked wherever
		 * one may be due, and ignored for a user without one.
		 */
		a->via_helper = true;
		a->ask_code = !iam_config_mfa_exempt(cfg, a->service);
		return PAM_SUCCESS;
	}
	r = load_attempt_record(a);
	if (r != PAM_SUCCESS)
		return r;
	/* The same check for every name, so a missing folder reveals nothing. */
	r = iam_state_dir_check(cfg->state_dir, 0);
	if (r < 0)
		return a->rec != NULL ? state_error(a, r) :
			refuse_unavailable(a, r, "state folder unusable");
	a->mfa_required = cfg->mfa == IAM_MFA_REQUIRED &&
		!iam_config_mfa_exempt(cfg, a->service);
	/*
	 * The code prompt: every name gets it where a code is due, so
	 * nothing tells who has a device (the answer of a user without one
	 * is ignored); uniform_prompts = false asks only users with a
	 * device.  A service exempt from mfa = "required" asks nobody.
	 */
	if (cfg->mfa == IAM_MFA_REQUIRED)
		a->ask_code = a->mfa_required;
	else
		a->ask_code = cfg->uniform_prompts ||
			(a->rec != NULL && a->rec->mfa_secret != NULL);
	a->key_proven = a->ask_code && a->rec != NULL &&
		a->rec->mfa_secret != NULL && key_proven(a);
	return PAM_SUCCESS;
}

PAM_IAM_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
		    const char **argv)
{
	struct pam_iam_opts o;
	struct attempt a = { .pamh = pamh, .o = &o };
	int r;

	memset(&o, 0, sizeof(o));
	r = prepare(&a, flags, argc, argv);
	r = r != PAM_SUCCESS ? r : get_password(&a);
	/* The code prompt follows whatever the password was. */
	r = r != PAM_SUCCESS ? r : get_code(&a);
	if (a.via_helper) {
		/* No answer to the code prompt: an empty code. */
		if (r == PAM_CONV_ERR && a.password != NULL && a.code == NULL)
			r = PAM_SUCCESS;
		if (r == PAM_SUCCESS)
			r = check_via_helper(&a);
		goto out;
	}
	/*
	 * A name that is not an IAM user answered the password but not the
	 * code (sudo -S with one line, a client that answers one prompt):
	 * nothing here depends on that answer, so the stack goes on to
	 * pam_unix with the password, as for any unknown name.
	 */
	if (r == PAM_CONV_ERR && a.rec == NULL && a.password != NULL)
		r = check_unknown_unanswered(&a);
	/*
	 * A user without a device: the code prompt was asked only so that
	 * nothing tells them apart, and its answer, even none, is ignored.
	 */
	else if (r == PAM_CONV_ERR && a.rec != NULL && a.password != NULL &&
		 a.code == NULL && a.rec->mfa_secret == NULL &&
		 !a.mfa_required)
		r = PAM_SUCCESS;
	/*
	 * An answer over IAM_PASSWORD_MAX bytes is refused by
	 * iam_password_verify() without hashing, and counts as a failure.
	 */
	if (r == PAM_SUCCESS)
		r = a.rec != NULL ? check_user(&a) : check_unknown(&a);
	if (r == PAM_SUCCESS)
		rehash_if_due(&a);
out:
	/*
	 * pam_unix's delay on every failure of a name that is not local
	 * (an IAM user's, an unknown name's), so the time of a failure
	 * does not tell an IAM user from a name pam_unix turns down.
	 */
	if (r != PAM_SUCCESS && r != PAM_INCOMPLETE &&
	    a.who.kind != IAM_WHO_LOCAL && !o.nodelay)
		(void)pam_fail_delay(pamh, PAM_IAM_FAIL_DELAY_USEC);
	a.password = iam_drop_string(a.password);
	a.code = iam_drop_string(a.code);
	a.rec = iam_auth_user_free(a.rec);
	pam_iam_opts_release(&o);
	iam_who_release(&a.who);
	return r;
}

/*
 * Nothing to establish: credentials are the process's, set by the
 * application.  An IAM user gets PAM_SUCCESS even where authentication
 * ran in another process (sshd's privilege separation calls setcred in
 * its monitor); a name that is not IAM is none of this module's
 * business (PAM_IGNORE); an IAM user while IAM is unusable fails closed.
 */
PAM_IAM_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_iam_opts o;
	struct iam_who w;
	const char *user = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS ||
	    user == NULL || user[0] == '\0')
		return PAM_IGNORE;
	r = pam_iam_start(pamh, flags, argc, argv, user, &o, &w);
	pam_iam_opts_release(&o);
	iam_who_release(&w);
	if (w.kind == IAM_WHO_LOCAL || w.kind == IAM_WHO_UNKNOWN)
		return PAM_IGNORE;
	if (r != PAM_SUCCESS || w.kind != IAM_WHO_USER)
		return r == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CRED_UNAVAIL;
	return PAM_SUCCESS;
}
