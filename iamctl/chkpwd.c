/*
 * chkpwd.c - iam-chkpwd, installed setuid root (4755) in
 * IAM_LIBEXECDIR: checks the password (and code) of the calling uid's
 * own IAM user for pam_iam in a process that is not root (a screen
 * locker), as pam_unix's unix_chkpwd does for /etc/shadow.
 *
 * pam_iam writes, on standard input (a pipe), four lines:
 *
 *   SERVICE\nUSER\nPASSWORD\nCODE\n
 *
 * (CODE empty when no code was asked).  The answer is the exit status
 * alone: 0 yes, 1 no (anything else: no).  USER must be the IAM user of
 * the real uid: any other name is refused, counted as a failure of the
 * caller and written to the trail.  Every check goes through the lockout
 * routine (iam_lockout_begin/settle), with the same replay rules per
 * device and recovery codes as pam_iam, and is written to the trail as
 * pam_iam's Login event (requestParameters.helper "iam-chkpwd").  SERVICE decides only whether a code is due
 * (mfa_exempt_services), as it does for pam_iam's own callers.
 *
 * Hardening as the role helper's: sane descriptors, no core dumps, a
 * cleared environment, --config only for a real root; once the request
 * is read, root entirely (become_root()), so the caller cannot stop it
 * while it holds a lock.
 */
#include <err.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"

#define EXIT_YES	0
#define EXIT_NO		1
#define EXIT_USAGE	2
#define NAME_LEN	32	/* iam_name_valid()'s longest */
#define SERVICE_MAX	64
#define CODE_MAX	64	/* a recovery code with spaces fits */
#define INPUT_MAX	(SERVICE_MAX + NAME_LEN + IAM_PASSWORD_MAX + \
			 CODE_MAX + 8)

/* The four lines, pointing into one buffer that is wiped at the end. */
struct request {
	char buf[INPUT_MAX + 1];
	const char *service, *user, *password, *code;
};

struct chk {
	struct iam_config *cfg;
	uid_t uid;			/* the caller: the real uid at start */
	struct iam_auth_user *u;	/* the caller's record */
	char caller[NAME_LEN + 1];
	char arn[512];
	const char *service;
	bool code_ok;
};

/*
 * Split buf (len bytes, NUL added) into the four lines.  Every line must
 * end in '\n', hold no NUL and stay within its cap; nothing may follow
 * the fourth.  -EINVAL otherwise.
 */
static int
parse_request(struct request *q, size_t len)
{
	static const size_t caps[4] = { SERVICE_MAX, NAME_LEN,
					IAM_PASSWORD_MAX, CODE_MAX };
	const char **line[4] = { &q->service, &q->user, &q->password,
				 &q->code };
	char *p = q->buf, *end = q->buf + len;

	if (len > INPUT_MAX)
		return -EINVAL;
	q->buf[len] = '\0';
	if (memchr(q->buf, '\0', len) != NULL)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL || (size_t)(nl - p) > caps[i])
			return -EINVAL;
		*nl = '\0';
		*line[i] = p;
		p = nl + 1;
	}
	if (p != end || q->user[0] == '\0')
		return -EINVAL;
	return 0;
}

/* All of standard input, at most INPUT_MAX bytes; -E2BIG beyond. */
static int
read_request(int fd, struct request *q, size_t *ret_len)
{
	size_t n = 0;

	for (;;) {
		ssize_t k = read(fd, q->buf + n, INPUT_MAX + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -EIO;
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > INPUT_MAX)
			return -E2BIG;
	}
	*ret_len = n;
	return 0;
}

static void
event(struct chk *c, const char *name, const char *error, const char *asked,
      const char *left)
{
	struct iam_event_param params[5] = {
		{ "service", c->service },
		{ "mfa", c->code_ok ? "true" : "false" },
		{ "helper", "iam-chkpwd" },
	};
	struct iam_event ev = {
		.time = (int64_t)time(NULL),
		.source = "pam_iam",	/* its check, done here */
		.name = name,
		.user_type = "IAMUser",
		.user_name = c->caller,
		.user_arn = c->arn,
		.params = params,
		.error_code = error,
	};
	size_t n = 3;

	if (asked != NULL)
		params[n++] = (struct iam_event_param){ "userNameAsked", asked };
	if (left != NULL)
		params[n++] = (struct iam_event_param){ "recoveryCodesLeft",
							left };
	ev.n_params = n;
	if (iam_trail_write(c->cfg, &ev) < 0)
		warnx("%s: the trail could not record %s", c->cfg->trail_file,
		      name);
}

/* The real uid's IAM record: its name through NSS, its uid the same. */
static int
identify(struct chk *c)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096], dir[PATH_MAX], why[512] = "";
	struct iam_authdb *db = NULL;
	uid_t uid = c->uid;
	int r;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL ||
	    strlen(pw.pw_name) > NAME_LEN)
		return -ENOENT;
	r = iam_snapshot_path(c->cfg, "auth", dir, sizeof(dir));
	if (r == 0)
		r = iam_authdb_open(dir, &db, why, sizeof(why));
	if (r < 0) {
		warnx("IAM unavailable: %s", why[0] ? why : strerror(-r));
		return r;
	}
	r = iam_authdb_lookup(db, pw.pw_name, &c->u);
	iam_authdb_close(db);
	if (r == 0 && c->u->uid != (uint32_t)uid) {
		c->u = iam_auth_user_free(c->u);
		r = -ENOENT;
	}
	if (r < 0)
		return r;
	memcpy(c->caller, pw.pw_name, strlen(pw.pw_name) + 1);
	return iam_arn_user(c->u->account_id, c->u->name, c->arn,
			    sizeof(c->arn));
}

/*
 * A used recovery code is spent in the credentials store (the state's
 * mark refuses it here meanwhile), so every host sharing the store
 * refuses it.
 */
static void
spend_recovery(struct chk *c, int i)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	int r;

	r = iam_creds_spend_recovery(c->cfg, c->u->uid,
				     c->u->recovery_codes[i], &f);
	if (r < 0 && r != -ENOENT)
		warnx("%s: the used recovery code of %s stays in the store: %s",
		      c->cfg->credentials_dir, c->caller, strerror(-r));
	iam_faults_release(&f);
}

/* Another name than the caller's: refused unchecked, counted, recorded. */
static int
other_name(struct chk *c, const char *asked)
{
	struct iam_lockout_try t;
	int r;

	r = iam_lockout_begin(c->cfg->state_dir, c->u->uid, 0,
			      &c->u->password_policy.lockout,
			      (int64_t)time(NULL), &t);
	if (r == 0)
		(void)iam_lockout_settle(&t, IAM_LOCKOUT_FAILED, 0, NULL);
	event(c, "Login", "NotCaller", asked, NULL);
	return EXIT_NO;
}

static int
check(struct chk *c, const struct request *q)
{
	const struct iam_config *cfg = c->cfg;
	bool has_device = c->u->mfa_secret != NULL;
	bool code_due = !iam_config_mfa_exempt(cfg, q->service) &&
		(has_device || cfg->mfa == IAM_MFA_REQUIRED);
	enum iam_lockout_result res = IAM_LOCKOUT_FAILED;
	struct iam_mfa_match m = IAM_MFA_MATCH_NONE;
	const char *error = NULL;
	struct iam_lockout_try t;
	int64_t now = (int64_t)time(NULL);
	bool locked = false;
	int r, v;

	/* A screen locker asks nothing else: a disabled user unlocks nothing. */
	if (c->u->disabled) {
		event(c, "Login", "AccountDisabled", NULL, NULL);
		return EXIT_NO;
	}
	r = iam_lockout_begin(cfg->state_dir, c->u->uid, 0,
			      &c->u->password_policy.lockout, now, &t);
	if (r == -EBUSY || r == -EAGAIN) {
		event(c, "Login", "AccountLocked", NULL, NULL);
		return EXIT_NO;
	}
	if (r < 0) {
		warnx("state of %s unusable: %s", c->caller, strerror(-r));
		event(c, "Login", "Unavailable", NULL, NULL);
		return EXIT_NO;
	}
	v = iam_password_verify(q->password, c->u->password_hash);
	if (v != 0 || c->u->password_hash == NULL) {
		error = "InvalidPassword";
	} else if (code_due && !has_device) {
		error = "MFANotEnrolled";
		res = IAM_LOCKOUT_UNCOUNTED;
	} else if (code_due) {
		v = iam_mfa_verify(c->u, q->code, now, cfg->totp_window,
				   &t.counted, &m);
		c->code_ok = v == 0;
		error = v == 0 ? NULL : v == -EALREADY ? "MFAReplay" :
			"InvalidMFA";
		res = v == 0 ? IAM_LOCKOUT_OK : IAM_LOCKOUT_FAILED;
	} else {
		res = IAM_LOCKOUT_OK;
	}
	r = iam_lockout_settle_mfa(&t, res, c->code_ok ? &m : NULL, &locked);
	if (r == -EALREADY) {
		c->code_ok = false;
		error = "MFAReplay";
		res = IAM_LOCKOUT_FAILED;
	} else if (r < 0) {
		warnx("state of %s unusable: %s", c->caller, strerror(-r));
		error = "Unavailable";
		res = IAM_LOCKOUT_FAILED;
	}
	if (res == IAM_LOCKOUT_OK && c->code_ok && m.recovery >= 0) {
		uint32_t used = iam_state_recovery_used(&t.counted,
							m.recovery_set) |
				(1u << m.recovery);
		char left[16];

		snprintf(left, sizeof(left), "%d",
			 iam_recovery_left(c->u->recovery_codes,
					   c->u->n_recovery_codes, used));
		event(c, "MFARecoveryCodeUsed", NULL, NULL, left);
		spend_recovery(c, m.recovery);
	}
	event(c, "Login", error, NULL, NULL);
	if (locked)
		event(c, "Lockout", "AccountLocked", NULL, NULL);
	return res == IAM_LOCKOUT_OK ? EXIT_YES : EXIT_NO;
}

/*
 * Once the request is read, root entirely: the caller can no longer
 * stop (SIGSTOP) or kill the check while it holds the lock of the state
 * or of the trail, and the terminal's job-control, interrupt and hang-up
 * signals are ignored.  Until then (waiting for standard input) the
 * caller may still kill it: it holds nothing.
 */
static int
become_root(void)
{
	static const int ignored[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGINT,
				       SIGQUIT, SIGHUP, SIGPIPE };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void)signal(ignored[i], SIG_IGN);
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
	    setresuid(0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* "--config PATH" (honoured for a real root only) or nothing. */
static int
parse_args(int argc, char **argv, uid_t ruid, const char **ret_config)
{
	*ret_config = NULL;
	if (argc == 1)
		return 0;
	if (argc == 3 && strcmp(argv[1], "--config") == 0) {
		if (ruid == 0)
			*ret_config = argv[2];
		return 0;
	}
	return -EINVAL;
}

#ifndef IAM_CHKPWD_NO_MAIN	/* tests/fuzz/fuzz_chkpwd.c */
int
main(int argc, char **argv)
{
	struct chk c = { .uid = getuid() };
	struct request *q;
	const char *config = NULL;
	char why[512] = "";
	size_t len = 0;
	int rc = EXIT_NO;

	/* warnx() names the program, whatever argv[0] says */
	program_invocation_short_name = (char *)"iam-chkpwd";
	rc = iam_setuid_harden();
	if (rc == -EPERM)
		warnx("must be installed setuid root");
	if (rc < 0)
		return EXIT_NO;
	rc = EXIT_NO;
	if (parse_args(argc, argv, c.uid, &config) < 0) {
		warnx("usage: iam-chkpwd [--config PATH] < SERVICE USER "
		      "PASSWORD CODE lines (run by pam_iam)");
		return EXIT_USAGE;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return EXIT_NO;
	if (read_request(STDIN_FILENO, q, &len) < 0 ||
	    parse_request(q, len) < 0) {
		warnx("malformed request");
		goto out;
	}
	if (become_root() < 0) {
		warnx("cannot become root: %s", strerror(errno));
		goto out;
	}
	if (iam_config_load(config ? config : IAM_DEFAULT_CONFIG,
			    config != NULL, &c.cfg, why, sizeof(why)) < 0) {
		warnx("%s", why);
		goto out;
	}
	c.service = q->service;
	if (identify(&c) < 0) {
		warnx("uid %u is not an IAM user", (unsigned)c.uid);
		goto out;
	}
	if (strcmp(q->user, c.caller) != 0)
		rc = other_name(&c, q->user);
	else
		rc = check(&c, q);
out:
	iam_wipe(q, sizeof(*q));
	free(q);
	iam_auth_user_free(c.u);
	iam_config_free(c.cfg);
	return rc;
}
#endif
