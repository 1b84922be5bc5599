/*
 * account.c - the account phase, in DESIGN.md's order: disabled, then
 * host:Login, then the MFA requirement, then password expiry last, so a
 * user the policy refuses is never offered a password change instead.
 * Every outcome of an IAM user is a Login event in the trail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_iam.h"
#include "phase.h"

#define MSG_DISABLED	"Account disabled."
#define MSG_DENIED	"Access denied by IAM policy."
#define MSG_NEED_MFA	"Access denied: this login needs MFA."
#define MSG_EXPIRED	"Password expired; choose a new one."
#define MSG_HARD	"Password expired; ask an administrator to reset it."

#define DAY		86400
#define WARN_DAYS	7

struct account {
	struct phase *p;
	int64_t mfa_time;		/* this session's TOTP check, 0 none */
	struct iam_buf decision;	/* host:Login decision, JSON */
};

/* Report one outcome: the trail decides whether a success may stand. */
static int
outcome(struct account *a, const char *error, int code)
{
	struct phase *p = a->p;
	struct iam_event_param params[] = {
		{ "phase", "account" },
		{ "service", p->service },
		{ "tty", p->tty },
		{ "mfa", a->mfa_time > 0 ? "true" : "false" },
	};
	int r;

	r = pam_iam_trail(p, "Login", error, params,
			  sizeof(params) / sizeof(params[0]),
			  a->decision.len > 0 ? a->decision.buf : NULL);
	if (r < 0 && (code == PAM_SUCCESS || code == PAM_NEW_AUTHTOK_REQD))
		return pam_iam_errno_code(r);
	return code;
}

/* Anything unexpected while deciding: log, record, refuse. */
static int
broken(struct account *a, int r, const char *what)
{
	pam_syslog(a->p->pamh, r == -ENOMEM ? LOG_CRIT : LOG_ERR,
		   "account of %s: %s: %s", a->p->user, what, strerror(-r));
	return outcome(a, "Unavailable", pam_iam_errno_code(r));
}

static void
log_denial(struct account *a, const struct iam_result *res)
{
	const struct iam_match *m = &res->decider;
	char idx[16];

	if (!res->decided) {
		pam_syslog(a->p->pamh, LOG_NOTICE, "host:Login denied for %s "
			   "(%s%s): no statement allows it; service=%s "
			   "rhost=%s", a->p->user,
			   iam_decision_name(res->decision),
			   res->boundary_denied ? ", outside the permissions "
			   "boundary" : "", a->p->service ? a->p->service : "",
			   a->p->rhost ? a->p->rhost : "");
		return;
	}
	(void)snprintf(idx, sizeof(idx), "%u", m->index);
	pam_syslog(a->p->pamh, LOG_NOTICE, "host:Login denied for %s (%s) "
		   "by policy %s statement %s; service=%s rhost=%s",
		   a->p->user, iam_decision_name(res->decision), m->policy,
		   m->sid != NULL ? m->sid : idx,
		   a->p->service ? a->p->service : "",
		   a->p->rhost ? a->p->rhost : "");
}

/* host:Login on this host with the full context: 0 allow, 1 deny. */
static int
decide_login(struct account *a)
{
	struct phase *p = a->p;
	struct iam_session_facts facts = {
		.service = p->service, .tty = p->tty, .source_ip = p->rhost,
		.mfa_time = a->mfa_time, .now = p->now,
	};
	struct iam_principal *pr = NULL;
	struct iam_result *res;
	char host[256], arn[512];
	int r;

	res = malloc(sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	r = iam_config_hostname(p->o.cfg, host, sizeof(host));
	r = r ? r : iam_arn_host(p->rec->account_id, host, arn, sizeof(arn));
	r = r ? r : iam_principal_new(p->rec, &pr);
	r = r ? r : iam_decide(p->o.cfg, p->rec, pr, NULL, &facts,
			       &(struct iam_ask){ .action = "host:Login",
						  .resource = arn }, res, NULL);
	r = r ? r : iam_result_write_json(res, &a->decision);
	if (r == 0 && res->decision != IAM_ALLOW) {
		log_denial(a, res);
		r = 1;
	}
	iam_principal_free(pr);
	free(res);
	return r;
}

/*
 * Whole days left before the password expires (negative: expired), or
 * INT64_MAX when it never does (iam_password_expiry(), the rule
 * credential-report shows).
 */
static int64_t
days_left(const struct iam_auth_user *u, int64_t now)
{
	int64_t expires = iam_password_expiry(u->password_hash != NULL,
					      u->password_changed, u->created,
					      u->password_policy.max_age_days);

	if (expires == 0)
		return INT64_MAX;
	if (now >= expires)
		return -1;
	return (expires - now) / DAY;
}

static int
check_expiry(struct account *a)
{
	struct phase *p = a->p;
	const struct iam_auth_user *u = p->rec;
	int64_t left = days_left(u, p->now);
	char msg[128];

	if (u->must_change) {
		pam_syslog(p->pamh, LOG_NOTICE, "%s must change the password",
			   p->user);
		pam_iam_say(p, PAM_ERROR_MSG, MSG_EXPIRED);
		return outcome(a, "PasswordExpired", PAM_NEW_AUTHTOK_REQD);
	}
	if (left < 0) {
		pam_syslog(p->pamh, LOG_NOTICE, "password of %s expired "
			   "(max_age_days %u)%s", p->user,
			   u->password_policy.max_age_days,
			   u->password_policy.hard_expiry ? "; hard expiry" : "");
		if (u->password_policy.hard_expiry) {
			pam_iam_say(p, PAM_ERROR_MSG, MSG_HARD);
			return outcome(a, "PasswordExpired", PAM_ACCT_EXPIRED);
		}
		pam_iam_say(p, PAM_ERROR_MSG, MSG_EXPIRED);
		return outcome(a, "PasswordExpired", PAM_NEW_AUTHTOK_REQD);
	}
	if (left < WARN_DAYS) {
		if (left == 0)
			(void)snprintf(msg, sizeof(msg), "Your password "
				       "expires today.");
		else
			(void)snprintf(msg, sizeof(msg), "Your password "
				       "expires in %lld day%s.", (long long)left,
				       left == 1 ? "" : "s");
		pam_iam_say(p, PAM_TEXT_INFO, msg);
	}
	return outcome(a, NULL, PAM_SUCCESS);
}

int
pam_iam_account(struct phase *p)
{
	struct account a = { .p = p, .decision = IAM_BUF_INIT };
	const struct iam_config *cfg = p->o.cfg;
	int r;

	a.mfa_time = pam_iam_mfa_time(p);
	if (p->rec->disabled) {
		pam_syslog(p->pamh, LOG_NOTICE, "account of %s is disabled",
			   p->user);
		pam_iam_say(p, PAM_ERROR_MSG, MSG_DISABLED);
		r = outcome(&a, "AccountDisabled", PAM_PERM_DENIED);
		goto out;
	}
	r = decide_login(&a);
	if (r < 0) {
		r = broken(&a, r, "cannot decide host:Login");
		goto out;
	}
	if (r == 1) {
		/* The statement is in the log and the trail, never shown. */
		pam_iam_say(p, PAM_ERROR_MSG, MSG_DENIED);
		r = outcome(&a, "AccessDenied", PAM_PERM_DENIED);
		goto out;
	}
	if (cfg->mfa == IAM_MFA_REQUIRED && a.mfa_time == 0 &&
	    !iam_config_mfa_exempt(cfg, p->service)) {
		pam_syslog(p->pamh, LOG_NOTICE, "%s refused: mfa = required "
			   "and no verification code in this session "
			   "(service %s)", p->user,
			   p->service ? p->service : "");
		pam_iam_say(p, PAM_ERROR_MSG, MSG_NEED_MFA);
		r = outcome(&a, "MFARequired", PAM_PERM_DENIED);
		goto out;
	}
	r = check_expiry(&a);
out:
	iam_buf_release(&a.decision);
	return r;
}
