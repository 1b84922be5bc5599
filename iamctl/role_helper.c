/*
 * role_helper.c - iam-role-helper, the setuid-root helper through which
 * an ordinary user runs `iamctl assume-role`, `whoami` and `drop-role`.
 *
 *   iam-role-helper assume-role ROLE [--duration SECONDS] [--reason TEXT]
 *   iam-role-helper whoami
 *   iam-role-helper drop-role
 *   iam-role-helper mfa enable|disable|recovery-codes USER [--device NAME]
 *   (--config FILE before the command, honoured for a real uid 0 only)
 *
 * mfa is self-service, as AWS lets a user manage their own MFA device:
 * for the caller's own name only (any other name is refused, counted as
 * a failure and written to the trail), allowed by iam:EnableMFADevice
 * and iam:CreateVirtualMFADevice (enable, recovery-codes) or
 * iam:DeactivateMFADevice (disable) on the caller's own user ARN
 * (iam_decide), after the current password and, where the caller has a
 * device, a current code or a recovery code (one lockout try).  Then the
 * helper becomes root entirely and runs `iamctl mfa VERB CALLER` (a
 * fixed path, a cleared environment), which does the change exactly as
 * for an administrator: QR code, confirmation code, commit, trail.
 *
 * Least privilege: before anything else, descriptors 0-2 are made sane,
 * the process is made non-dumpable, the environment is cleared and the
 * umask is set; then it becomes root entirely, so the caller cannot stop
 * it while it holds a lock; the settings come from the default iam.conf
 * unless the real uid is 0; the caller is identified only by the real
 * uid (NSS name, which must be an IAM user of the private snapshot with
 * the same uid).
 * The helper only ever acts on the caller's own login session record,
 * never on a path or a user taken from its arguments, and every file it
 * writes is created with its mode set explicitly.
 */
#include <err.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam/roles.h"

#define EXIT_OK		0
#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define CODE_MAX	16	/* longer answers are refused unchecked */

/* Who asks, and the state of the one operation. */
struct helper {
	struct iam_config *cfg;
	uid_t caller;			/* the real uid at start */
	struct iam_who who;		/* who asks; owns u */
	struct iam_auth_user *u;	/* the caller's record */
	char arn[512];			/* the caller's ARN */
	char key[128];			/* the caller's login session key */
	char source_ip[256];		/* recorded by pam_iam, or "" */
	const char *tty;		/* the caller's terminal, or NULL */
	char ttybuf[PATH_MAX];
};

static void
usage(FILE *f)
{
	fputs("usage: iamctl assume-role ROLE [--duration SECONDS] "
	      "[--reason TEXT]\n"
	      "       iamctl whoami\n"
	      "       iamctl drop-role\n"
	      "       iamctl mfa enable|disable|recovery-codes YOURNAME "
	      "[--device NAME] [--no-qr]\n", f);
}

/* ---- Trail -------------------------------------------------------------- */

static int
trail_event(struct helper *h, const char *name, const char *error,
      const char *message, const struct iam_event_param *params, size_t n,
      const struct iam_result *res)
{
	struct iam_buf decision = IAM_BUF_INIT;
	struct iam_event ev = {
		.source = "iamctl",
		.name = name,
		.user_type = "IAMUser",
		.user_name = h->u->name,
		.user_arn = h->arn,
		.source_ip = h->source_ip[0] ? h->source_ip : NULL,
		.params = params,
		.n_params = n,
		.error_code = error,
		.error_message = message,
	};
	int r = 0;

	if (res != NULL) {
		r = iam_result_write_json(res, &decision);
		ev.decision_json = decision.buf;
	}
	if (r == 0)
		r = iam_trail_write(h->cfg, &ev);
	iam_buf_release(&decision);
	if (r < 0)
		warnx("%s: the trail could not record %s: %s",
		      h->cfg->trail_file, name, strerror(-r));
	return r;
}

/* ---- Who asks --------------------------------------------------------- */

static const char *
caller_tty(char *buf, size_t len)
{
	for (int fd = 0; fd <= 2; fd++)
		if (isatty(fd) && ttyname_r(fd, buf, len) == 0)
			return buf;
	return NULL;
}

/*
 * The real uid's name through NSS, which must be an IAM user of that uid
 * (iam_who_decide()); the caller's record and the role come from one
 * generation of the snapshot.
 */
static int
identify_caller(struct helper *h)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	struct iam_session_rec rec;
	uid_t uid = h->caller;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		warnx("uid %u has no name", (unsigned)uid);
		return EXIT_REFUSED;
	}
	iam_who_decide(h->cfg->snapshot_dir, pw.pw_name, IAM_WHO_PRIVATE,
		       &h->who);
	if (h->who.kind == IAM_WHO_UNAVAILABLE) {
		warnx("IAM unavailable: %s", h->who.why);
		return EXIT_REFUSED;
	}
	if (h->who.kind != IAM_WHO_USER || h->who.rec->uid != (uint32_t)uid) {
		warnx("%s is not an IAM user", pw.pw_name);
		return EXIT_REFUSED;
	}
	h->u = h->who.rec;
	if (iam_arn_user(h->u->account_id, h->u->name, h->arn,
			 sizeof(h->arn)) < 0)
		return EXIT_REFUSED;
	h->tty = caller_tty(h->ttybuf, sizeof(h->ttybuf));
	if (iam_session_key(h->u->uid, h->tty, h->key, sizeof(h->key)) < 0) {
		warnx("cannot name this login session");
		return EXIT_REFUSED;
	}
	/* The source address pam_iam recorded, as root, for this session. */
	if (iam_session_read(h->cfg->run_dir, h->key, &rec, 0) == 0 &&
	    rec.uid == h->u->uid && iam_is_ip_address(rec.rhost))
		memcpy(h->source_ip, rec.rhost, sizeof(h->source_ip));
	return EXIT_OK;
}

/* ---- The code ----------------------------------------------------------- */

/*
 * One line from fd (standard input), echo off on a terminal, at most
 * len - 2 bytes (a final '\r' not counted): a longer line is -E2BIG and
 * wiped.  One byte a read, so no stdio buffer keeps a copy.
 */
static int
read_secret(int fd, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool restore = false, over = false;
	size_t n = 0;
	int r = 0;
	char c;

	if (isatty(fd)) {
		/*
		 * Echo off (discarding what was typed ahead) before the
		 * prompt shows, so an answer to the prompt is never lost.
		 */
		if (tcgetattr(fd, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
		}
		fputs(prompt, stderr);
		fflush(stderr);
	}
	for (;;) {
		ssize_t k = read(fd, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -EIO;
			break;
		}
		if (k == 0 || c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
		else
			over = true;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n + 2 > len)
		over = true;
	buf[n] = '\0';
	c = 0;
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (r == 0 && over)
		r = -E2BIG;
	if (r == 0 && n == 0)
		r = -ENODATA;
	if (r < 0)
		iam_wipe(buf, len);
	return r;
}

static int
read_code(int fd, char *buf, size_t len)
{
	return read_secret(fd, "Verification code: ", buf, len);
}

/* ---- assume-role -------------------------------------------------------- */

struct assume {
	const char *role_name;
	uint32_t asked;			/* --duration, 0: the default */
	const char *reason;		/* --reason, "" none */
	struct iam_role_rec *role;
	uint32_t seconds;
	char role_arn[512];
	char duration[16];
	struct iam_role_session s;
	char expires[32];
	struct iam_principal *pr;	/* the caller's policies; the results
					   borrow their names */
	struct iam_result *own, *trust;
};

static int
parse_assume(int argc, char **argv, struct assume *a)
{
	long long v;

	if (argc < 2 || argv[1][0] == '-')
		return -EINVAL;
	a->role_name = argv[1];
	a->reason = "";
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return -EINVAL;
		if (strcmp(argv[i], "--duration") == 0) {
			if (iam_parse_ll(argv[++i], 1, 43200 * 10LL, &v) < 0) {
				warnx("assume-role: --duration takes a number "
				      "of seconds from 1");
				return -EINVAL;
			}
			a->asked = (uint32_t)v;
		} else if (strcmp(argv[i], "--reason") == 0) {
			a->reason = argv[++i];
			if (!iam_role_reason_valid(a->reason)) {
				warnx("assume-role: --reason must be at most "
				      "%d bytes of UTF-8 text without "
				      "control characters",
				      IAM_ROLE_REASON_MAX);
				return -EINVAL;
			}
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* Refuse: tell the caller why and write the AssumeRole event. */
static int
refuse_assume(struct helper *h, struct assume *a, const char *code,
       const struct iam_result *res, const char *fmt, ...)
{
	struct iam_event_param params[] = {
		{ "roleName", a->role_name },
		{ "roleArn", a->role_arn[0] ? a->role_arn : NULL },
		{ "durationSeconds", a->duration[0] ? a->duration : NULL },
		{ "reason", a->reason[0] ? a->reason : NULL },
		{ "loginSession", h->key },
	};
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	warnx("assume-role: refused: %s", why);
	trail_event(h, "AssumeRole", code, why, params,
	      sizeof(params) / sizeof(params[0]), res);
	return EXIT_REFUSED;
}

static int
check_code(struct helper *h, struct assume *a, int64_t now)
{
	char code[CODE_MAX + 2];
	bool locked = false;
	int r;

	if (h->u->mfa_secret == NULL)
		return refuse_assume(h, a, "MFANotEnrolled", NULL, "%s has no MFA "
			      "device; ask an administrator to enrol one",
			      h->u->name);
	r = read_code(STDIN_FILENO, code, sizeof(code));
	if (r == -ENODATA)
		return refuse_assume(h, a, "InvalidMFA", NULL, "no verification code "
			      "given");
	if (r < 0)
		return refuse_assume(h, a, "InvalidMFA", NULL, "the verification code "
			      "could not be read");
	r = iam_role_mfa_check(h->cfg, h->u, code, now, 0, &locked);
	iam_wipe(code, sizeof(code));
	if (locked)
		trail_event(h, "Lockout", "AccountLocked", NULL, NULL, 0, NULL);
	switch (r) {
	case 0:
		return EXIT_OK;
	case -EBUSY:
		return refuse_assume(h, a, "AccountLocked", NULL, "too many failed "
			      "attempts; try again later");
	case -EAGAIN:
		return refuse_assume(h, a, "AccountLocked", NULL, "too soon after a "
			      "failed attempt; the code was not checked; wait "
			      "%d seconds", IAM_LOCKOUT_DELAY);
	case -EALREADY:
		return refuse_assume(h, a, "MFAReplay", NULL, "this verification "
			      "code was already used; wait for the next one");
	case -EACCES:
		return refuse_assume(h, a, "InvalidMFA", NULL, "wrong verification "
			      "code");
	default:
		return refuse_assume(h, a, "Unavailable", NULL, "the state of %s is "
			      "unusable (%s)", h->u->name, strerror(-r));
	}
}

static int
check_policies(struct helper *h, struct assume *a, int64_t now)
{
	struct iam_session_facts facts = {
		.service = "iamctl",
		.tty = h->tty,
		.source_ip = h->source_ip[0] ? h->source_ip : NULL,
		.mfa_time = now,	/* the code just given */
		.now = now,
	};
	enum iam_assume_verdict v = IAM_ASSUME_OWN_NO_ALLOW;
	int r;

	a->own = calloc(1, sizeof(*a->own));
	a->trust = calloc(1, sizeof(*a->trust));
	r = a->own != NULL && a->trust != NULL ? 0 : -ENOMEM;
	r = r ? r : iam_principal_new(h->u, &a->pr);
	r = r ? r : iam_role_check_assume(h->cfg, h->u, a->pr, a->role, &facts,
					  a->own, a->trust, &v);
	if (r < 0)
		return refuse_assume(h, a, "Unavailable", NULL, "cannot decide "
			      "sts:AssumeRole: %s", strerror(-r));
	if (v == IAM_ASSUME_ALLOW)
		return EXIT_OK;
	return refuse_assume(h, a, "AccessDenied", v == IAM_ASSUME_OWN_DENY ||
		      v == IAM_ASSUME_OWN_NO_ALLOW ? a->own : a->trust,
		      "%s", iam_assume_verdict_text(v));
}

/* A session this login session had before is replaced: say so. */
static void
end_previous(struct helper *h, const struct iam_role_clock *now)
{
	struct iam_role_session old;

	if (iam_role_session_active(h->cfg->run_dir, h->key, h->u->uid, now,
				    0, &old) < 0)
		return;
	trail_event(h, "RoleSessionEnd", NULL, NULL, (struct iam_event_param[]){
		{ "roleName", old.role }, { "roleSessionId", old.id },
		{ "loginSession", h->key }, { "endedBy", h->u->name },
		{ "why", "replaced" } }, 5, NULL);
}

static int
write_role_session(struct helper *h, struct assume *a, const struct iam_role_clock *now)
{
	struct iam_event_param params[] = {
		{ "roleName", a->role->name },
		{ "roleArn", a->role_arn },
		{ "durationSeconds", a->duration },
		{ "reason", a->reason[0] ? a->reason : NULL },
		{ "loginSession", h->key },
		{ "roleSessionId", a->s.id },
		{ "expires", a->expires },
	};
	int r;

	r = iam_role_session_new(h->u->name, h->u->uid, a->role->name, h->key,
				 a->reason, a->seconds, now, &a->s);
	r = r ? r : iam_format_time(a->s.wall_expiry, a->expires,
				    sizeof(a->expires));
	if (r < 0)
		return refuse_assume(h, a, "Unavailable", NULL, "cannot start a "
			      "session: %s", strerror(-r));
	/*
	 * The trail first: a helper killed between the two leaves at worst
	 * an event without a session, never a session the trail lacks.
	 */
	if (trail_event(h, "AssumeRole", NULL, NULL, params,
		  sizeof(params) / sizeof(params[0]), a->trust) < 0 &&
	    h->cfg->trail_required) {
		warnx("assume-role: refused: the trail is unavailable");
		return EXIT_REFUSED;
	}
	end_previous(h, now);
	r = iam_role_session_write(h->cfg->run_dir, &a->s, 0);
	if (r < 0) {
		warnx("assume-role: %s: cannot record the session: %s",
		      h->cfg->run_dir, strerror(-r));
		trail_event(h, "RoleSessionEnd", "Unavailable", NULL,
		      (struct iam_event_param[]){ { "roleName", a->role->name },
			{ "roleSessionId", a->s.id },
			{ "loginSession", h->key },
			{ "why", "not recorded" } }, 4, NULL);
		return EXIT_REFUSED;
	}
	printf("Assumed role %s (%s) for %" PRIu32 " seconds, until %s.\n"
	       "Session %s; sudo in this login session now acts as the role.\n",
	       a->role->name, a->role_arn, a->seconds, a->expires, a->s.id);
	return EXIT_OK;
}

static int
assume_role(struct helper *h, int argc, char **argv)
{
	struct assume a;
	struct iam_role_clock now;
	char dir[PATH_MAX];
	int r, rc;

	memset(&a, 0, sizeof(a));
	if (parse_assume(argc, argv, &a) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = identify_caller(h);
	if (rc != EXIT_OK)
		return rc;
	if (h->u->disabled)
		return refuse_assume(h, &a, "AccountDisabled", NULL, "account "
			      "disabled");
	(void)iam_arn_role(h->u->account_id, a.role_name, a.role_arn,
			   sizeof(a.role_arn));
	r = iam_generation_path(&h->who.gen, "auth", dir, sizeof(dir));
	r = r ? r : iam_rolesdb_lookup(dir, 0, a.role_name, &a.role);
	if (r == -ENOENT)
		return refuse_assume(h, &a, "AccessDenied", NULL, "no role named %s",
			      a.role_name);
	if (r < 0)
		return refuse_assume(h, &a, "Unavailable", NULL, "the role snapshot "
			      "is unusable (%s)", strerror(-r));
	r = iam_role_duration(a.role, a.asked, &a.seconds);
	(void)iam_snprintf(a.duration, sizeof(a.duration), "%" PRIu32,
			   r == 0 ? a.seconds : a.asked);
	if (r < 0) {
		rc = refuse_assume(h, &a, "AccessDenied", NULL, "a duration of %" PRIu32
			    " seconds is above the maximum of role %s (%" PRIu32
			    " seconds)", a.asked, a.role->name,
			    a.role->max_session_seconds);
		goto out;
	}
	r = iam_role_clock_now(&now);
	if (r < 0) {
		rc = refuse_assume(h, &a, "Unavailable", NULL, "no clock: %s",
			    strerror(-r));
		goto out;
	}
	rc = check_code(h, &a, now.wall);
	if (rc == EXIT_OK)
		rc = check_policies(h, &a, now.wall);
	if (rc == EXIT_OK)
		rc = write_role_session(h, &a, &now);
out:
	free(a.own);
	free(a.trust);
	iam_principal_free(a.pr);
	iam_role_rec_free(a.role);
	return rc;
}

/* ---- whoami, drop-role -------------------------------------------------- */

static int
whoami(struct helper *h)
{
	struct iam_role_session s;
	struct iam_role_clock now;
	char when[32], arn[512];
	int r, rc;

	rc = identify_caller(h);
	if (rc != EXIT_OK)
		return rc;
	printf("user:    %s (%s)\n", h->u->name, h->arn);
	r = iam_role_clock_now(&now);
	if (r == 0 && !h->u->disabled)
		r = iam_role_session_active(h->cfg->run_dir, h->key, h->u->uid,
					    &now, 0, &s);
	if (r < 0 || h->u->disabled) {
		printf("role:    none (no active role session in this login "
		       "session)\n");
		return EXIT_OK;
	}
	if (iam_arn_role(h->u->account_id, s.role, arn, sizeof(arn)) < 0 ||
	    iam_format_time(s.wall_expiry, when, sizeof(when)) < 0)
		return EXIT_REFUSED;
	printf("role:    %s (%s)\n", s.role, arn);
	printf("session: %s\n", s.id);
	printf("expires: %s (%" PRId64 " seconds left)\n", when,
	       s.expiry - now.boot);
	if (s.reason[0] != '\0')
		printf("reason:  %s\n", s.reason);
	return EXIT_OK;
}

static int
drop_role(struct helper *h)
{
	struct iam_role_session s;
	struct iam_role_clock now;
	int r, rc;

	rc = identify_caller(h);
	if (rc != EXIT_OK)
		return rc;
	r = iam_role_clock_now(&now);
	if (r == 0)
		r = iam_role_session_active(h->cfg->run_dir, h->key, h->u->uid,
					    &now, 0, &s);
	if (r < 0) {
		/* An expired record of this caller is cleared quietly. */
		if (iam_role_session_read(h->cfg->run_dir, h->key, 0, &s) == 0 &&
		    s.uid == h->u->uid)
			(void)iam_role_session_remove(h->cfg->run_dir, h->key,
						      s.id, 0);
		warnx("drop-role: no active role session in this login "
		      "session");
		return EXIT_REFUSED;
	}
	r = iam_role_session_remove(h->cfg->run_dir, h->key, s.id, 0);
	if (r < 0) {
		warnx("drop-role: %s: %s", h->cfg->run_dir, strerror(-r));
		return EXIT_REFUSED;
	}
	trail_event(h, "RoleSessionEnd", NULL, NULL, (struct iam_event_param[]){
		{ "roleName", s.role }, { "roleSessionId", s.id },
		{ "loginSession", h->key }, { "endedBy", h->u->name },
		{ "why", "dropped" } }, 5, NULL);
	printf("Role session %s (%s) ended.\n", s.id, s.role);
	return EXIT_OK;
}

/* ---- MFA self-service ---------------------------------------------------- */

#ifndef IAM_BINDIR
#define IAM_BINDIR	"/usr/bin"
#endif
#define IAMCTL		IAM_BINDIR "/iamctl"

enum mfa_verb { MFA_ENABLE, MFA_DISABLE, MFA_RECOVERY };

struct selfserve {
	enum mfa_verb verb;
	const char *verb_word;
	const char *user;
	const char *device;	/* NULL: iamctl's default choice */
	bool no_qr;
};

/* argv: "mfa" VERB USER [--device NAME | --device=NAME] [--no-qr] */
static int
parse_mfa(int argc, char **argv, struct selfserve *s)
{
	memset(s, 0, sizeof(*s));
	if (argc < 3)
		return -EINVAL;
	s->verb_word = argv[1];
	if (strcmp(argv[1], "enable") == 0)
		s->verb = MFA_ENABLE;
	else if (strcmp(argv[1], "disable") == 0)
		s->verb = MFA_DISABLE;
	else if (strcmp(argv[1], "recovery-codes") == 0)
		s->verb = MFA_RECOVERY;
	else
		return -EINVAL;
	s->user = argv[2];
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0 && i + 1 < argc &&
		    s->device == NULL && s->verb != MFA_RECOVERY)
			s->device = argv[++i];
		else if (strncmp(argv[i], "--device=", 9) == 0 &&
			 s->device == NULL && s->verb != MFA_RECOVERY)
			s->device = argv[i] + 9;
		else if (strcmp(argv[i], "--no-qr") == 0 &&
			 s->verb == MFA_ENABLE)
			s->no_qr = true;
		else
			return -EINVAL;
	}
	if (s->device != NULL && !iam_mfa_name_valid(s->device))
		return -EINVAL;
	return 0;
}

static int
mfa_refuse(struct helper *h, const struct selfserve *s, const char *code,
	   const struct iam_result *res, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
mfa_refuse(struct helper *h, const struct selfserve *s, const char *code,
	   const struct iam_result *res, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warnx("mfa %s: %s", s->verb_word, msg);
	trail_event(h, "MFASelfService", code, msg, (struct iam_event_param[]){
		{ "verb", s->verb_word }, { "userName", s->user },
		{ "device", s->device } }, 3, res);
	return EXIT_REFUSED;
}

/* A refused attempt that checked nothing still counts for the caller. */
static void
count_failure(struct helper *h)
{
	struct iam_lockout_try t;

	if (iam_lockout_begin(h->cfg->state_dir, h->u->uid, 0,
			      &h->u->password_policy.lockout,
			      (int64_t)time(NULL), &t) == 0)
		(void)iam_lockout_settle(&t, IAM_LOCKOUT_FAILED, 0, NULL);
}

/* Each action of the verb, on the caller's own ARN, through iam_decide. */
static int
mfa_policy(struct helper *h, const struct selfserve *s, int64_t now)
{
	static const char *const enable[] = { "iam:CreateVirtualMFADevice",
					      "iam:EnableMFADevice", NULL };
	static const char *const disable[] = { "iam:DeactivateMFADevice",
					       NULL };
	const char *const *actions = s->verb == MFA_DISABLE ? disable : enable;
	struct iam_session_facts facts = {
		.service = "iamctl",
		.tty = h->tty,
		.source_ip = h->source_ip[0] ? h->source_ip : NULL,
		.now = now,
	};
	struct iam_principal *pr = NULL;
	struct iam_result *res = calloc(1, sizeof(*res));
	int r, rc = EXIT_OK;

	r = res != NULL ? iam_principal_new(h->u, &pr) : -ENOMEM;
	if (r < 0)
		return mfa_refuse(h, s, "Unavailable", NULL, "cannot compile "
				  "your policies: %s", strerror(-r));
	for (size_t i = 0; actions[i] != NULL && rc == EXIT_OK; i++) {
		struct iam_ask ask = { .action = actions[i],
				       .resource = h->arn };

		r = iam_decide(h->cfg, h->u, pr, NULL, &facts, &ask, res,
			       NULL);
		if (r < 0)
			rc = mfa_refuse(h, s, "Unavailable", NULL, "cannot "
					"decide %s: %s", actions[i],
					strerror(-r));
		else if (res->decision != IAM_ALLOW)
			rc = mfa_refuse(h, s, "AccessDenied", res, "%s on %s "
					"is not allowed to you (%s)",
					actions[i], h->arn,
					res->decision == IAM_EXPLICIT_DENY ?
					"explicit deny" : "no allow");
	}
	iam_principal_free(pr);
	free(res);
	return rc;
}

/*
 * A used recovery code is spent in the credentials store (the state's
 * mark refuses it here meanwhile), so every host sharing the store
 * refuses it.
 */
static void
spend_recovery(struct helper *h, int i)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	int r;

	r = iam_creds_spend_recovery(h->cfg, h->u->uid,
				     h->u->recovery_codes[i], &f);
	if (r < 0 && r != -ENOENT)
		warnx("%s: your used recovery code stays in the store: %s",
		      h->cfg->credentials_dir, strerror(-r));
	iam_faults_release(&f);
}

/* The current password and, with a device, a code: one lockout try. */
static int
mfa_prove(struct helper *h, const struct selfserve *s, int64_t now)
{
	/* Room for a recovery code as printed, with dashes or spaces. */
	char password[IAM_PASSWORD_MAX + 2], code[48] = "";
	bool device = h->u->mfa_secret != NULL, locked = false;
	struct iam_mfa_match m = IAM_MFA_MATCH_NONE;
	enum iam_lockout_result res = IAM_LOCKOUT_FAILED;
	const char *error = NULL;
	struct iam_lockout_try t;
	int r, v;

	r = read_secret(STDIN_FILENO, "Current password: ", password,
			sizeof(password));
	if (r < 0)
		return mfa_refuse(h, s, "InvalidPassword", NULL, "no password "
				  "given");
	if (device && read_secret(STDIN_FILENO, "Verification code (or a "
				  "recovery code): ", code,
				  sizeof(code)) < 0) {
		iam_wipe(password, sizeof(password));
		return mfa_refuse(h, s, "InvalidMFA", NULL, "no verification "
				  "code given");
	}
	r = iam_lockout_begin(h->cfg->state_dir, h->u->uid, 0,
			      &h->u->password_policy.lockout, now, &t);
	if (r == 0) {
		v = iam_password_verify(password, h->u->password_hash);
		if (v != 0 || h->u->password_hash == NULL) {
			error = "InvalidPassword";
		} else if (device) {
			v = iam_mfa_verify(h->u, code, now,
					   h->cfg->totp_window, &t.counted, &m);
			error = v == 0 ? NULL : v == -EALREADY ? "MFAReplay" :
				"InvalidMFA";
		}
		res = error == NULL ? IAM_LOCKOUT_OK : IAM_LOCKOUT_FAILED;
		r = iam_lockout_settle_mfa(&t, res, res == IAM_LOCKOUT_OK ?
					   &m : NULL, &locked);
		if (r == -EALREADY)
			error = "MFAReplay";
	}
	iam_wipe(password, sizeof(password));
	iam_wipe(code, sizeof(code));
	if (locked)
		trail_event(h, "Lockout", "AccountLocked", NULL, NULL, 0, NULL);
	if (r == -EBUSY || r == -EAGAIN)
		return mfa_refuse(h, s, "AccountLocked", NULL, "too many failed "
				  "attempts; try again later");
	if (r < 0 && r != -EALREADY)
		return mfa_refuse(h, s, "Unavailable", NULL, "your state is "
				  "unusable (%s)", strerror(-r));
	if (error != NULL)
		return mfa_refuse(h, s, error, NULL, "%s",
				  strcmp(error, "InvalidPassword") == 0 ?
				  "wrong password" : strcmp(error,
				  "MFAReplay") == 0 ? "this code was already "
				  "used" : "wrong verification code");
	if (m.recovery >= 0) {
		char left[16];

		snprintf(left, sizeof(left), "%d", iam_recovery_left(
			 h->u->recovery_codes, h->u->n_recovery_codes,
			 iam_state_recovery_used(&t.counted, m.recovery_set) |
			 (1u << m.recovery)));
		trail_event(h, "MFARecoveryCodeUsed", NULL, NULL,
		      (struct iam_event_param[]){ { "service", "iamctl" },
						  { "recoveryCodesLeft",
						    left } }, 2, NULL);
		spend_recovery(h, m.recovery);
	}
	return EXIT_OK;
}

static int
mfa_self(struct helper *h, int argc, char **argv)
{
	char *args[12];
	struct selfserve s;
	int64_t now = (int64_t)time(NULL);
	int rc, n = 0;

	rc = identify_caller(h);
	if (rc != EXIT_OK)
		return rc;
	if (parse_mfa(argc, argv, &s) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(s.user, h->u->name) != 0) {
		count_failure(h);
		return mfa_refuse(h, &s, "NotCaller", NULL, "you may manage "
				  "only your own MFA devices (%s), not %s's",
				  h->u->name, s.user);
	}
	if (h->u->disabled)
		return mfa_refuse(h, &s, "AccountDisabled", NULL, "account "
				  "disabled");
	rc = mfa_policy(h, &s, now);
	rc = rc ? rc : mfa_prove(h, &s, now);
	if (rc != EXIT_OK)
		return rc;
	trail_event(h, "MFASelfService", NULL, NULL, (struct iam_event_param[]){
		{ "verb", s.verb_word }, { "userName", s.user },
		{ "device", s.device } }, 3, NULL);
	args[n++] = (char *)"iamctl";
	args[n++] = (char *)"mfa";
	args[n++] = (char *)s.verb_word;
	args[n++] = (char *)h->u->name;
	if (s.device != NULL) {
		args[n++] = (char *)"--device";
		args[n++] = (char *)s.device;
	}
	if (s.no_qr)
		args[n++] = (char *)"--no-qr";
	args[n] = NULL;
	fflush(NULL);
	/* Root entirely, so iamctl acts as an administrator would. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		warnx("cannot become root: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	execve(IAMCTL, args, (char *[]){ (char *)"PATH=/usr/sbin:/usr/bin:"
					  "/sbin:/bin", NULL });
	warnx("cannot run %s: %s", IAMCTL, strerror(errno));
	return EXIT_REFUSED;
}

/* ---- main ------------------------------------------------------------------ */

/*
 * Root entirely once the caller is known (h->caller): the caller can no
 * longer stop (SIGSTOP) the helper while it holds the lock of the state
 * or of the trail, and the terminal's job-control keys are ignored here
 * and in the iamctl it runs for a self-service change, which must not be
 * suspended while it holds the store's lock.  ^C still ends it (a dead
 * process holds no lock).
 */
static int
become_root(void)
{
	static const int ignored[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void)signal(ignored[i], SIG_IGN);
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
	    setresuid(0, 0, 0) < 0)
		return -errno;
	return 0;
}

enum command {
	CMD_ASSUME_ROLE,
	CMD_WHOAMI,
	CMD_DROP_ROLE,
	CMD_MFA,
};

/* What argv asks: the command at argv[*ret_i]; -EINVAL for a usage error. */
static int
parse_command(int argc, char **argv, uid_t ruid, const char **ret_config,
	      enum command *ret_cmd, int *ret_i)
{
	const char *config = NULL;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		/* Only a real root chooses the settings. */
		if (ruid == 0)
			config = argv[2];
		i = 3;
	}
	if (i >= argc)
		return -EINVAL;
	if (strcmp(argv[i], "assume-role") == 0)
		*ret_cmd = CMD_ASSUME_ROLE;
	else if (strcmp(argv[i], "whoami") == 0 && argc - i == 1)
		*ret_cmd = CMD_WHOAMI;
	else if (strcmp(argv[i], "drop-role") == 0 && argc - i == 1)
		*ret_cmd = CMD_DROP_ROLE;
	else if (strcmp(argv[i], "mfa") == 0)
		*ret_cmd = CMD_MFA;
	else
		return -EINVAL;
	*ret_config = config;
	*ret_i = i;
	return 0;
}

#ifndef IAM_ROLE_HELPER_NO_MAIN	/* tests/fuzz/fuzz_role_helper.c */
int
main(int argc, char **argv)
{
	struct helper h;
	const char *config = NULL;
	enum command cmd;
	char why[512] = "";
	int i = 1, rc;

	/* warnx() speaks as iamctl, whose commands these are */
	program_invocation_short_name = (char *)"iamctl";
	rc = iam_setuid_harden();
	if (rc == -EPERM)
		warnx("iam-role-helper must be installed setuid root");
	if (rc < 0)
		return EXIT_REFUSED;
	memset(&h, 0, sizeof(h));
	h.who.gen.fd = -1;
	h.caller = getuid();
	if (parse_command(argc, argv, h.caller, &config, &cmd, &i) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (become_root() < 0) {
		warnx("cannot become root: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	if (iam_config_load(config ? config : IAM_DEFAULT_CONFIG,
			    config != NULL, &h.cfg, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_USAGE;
	}
	if (cmd == CMD_ASSUME_ROLE)
		rc = assume_role(&h, argc - i, argv + i);
	else if (cmd == CMD_WHOAMI)
		rc = whoami(&h);
	else if (cmd == CMD_MFA)
		rc = mfa_self(&h, argc - i, argv + i);
	else
		rc = drop_role(&h);
	fflush(stdout);
	iam_who_release(&h.who);
	iam_config_free(h.cfg);
	return rc;
}
#endif
