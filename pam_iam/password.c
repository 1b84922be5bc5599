/*
 * password.c - the password phase: a change checked against the
 * account's password policy, committed to the credentials store and
 * published.
 *
 * PAM_PRELIM_CHECK asks and checks the current password (unless the
 * caller is really root and this is not a forced change at login) and
 * whether the user may change it (iam:ChangePassword and
 * allow_users_to_change, neither asked of root).  PAM_UPDATE_AUTHTOK
 * asks the new password twice (or takes it from an earlier module with
 * use_authtok), checks it against every rule and the history, hashes it
 * with hash_method and commits it.  Every outcome is a ChangePassword
 * event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <security/pam_ext.h>

#include "pam_iam.h"
#include "phase.h"
#include "iam/pwpolicy.h"

#define PROMPT_CURRENT	"Current password: "
#define PROMPT_NEW	"New password: "
#define PROMPT_AGAIN	"Retype new password: "
#define MSG_FAILED	"Authentication failed."
#define MSG_DISABLED	"Account disabled."

/* pam_set_data(): the prelim check passed for this uid. */
#define DATA_CHECKED	"pam_iam_chauthtok_checked"

struct change {
	struct phase *p;
	bool root;		/* really root, not a forced change */
	char *new_pw;		/* own copy; wiped */
	char msg[256];		/* "Password rejected: RULE.", "" none */
};

static void
cleanup_checked(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

static int
trail_change(struct change *c, const char *error)
{
	struct iam_event_param params[] = {
		{ "service", c->p->service },
		{ "tty", c->p->tty },
		{ "byRoot", c->root ? "true" : "false" },
		{ "reason", c->msg[0] ? c->msg : NULL },
	};

	return pam_iam_trail(c->p, "ChangePassword", error, params,
			     sizeof(params) / sizeof(params[0]), NULL);
}

/* c->msg ("Password rejected: RULE."): logged, shown, recorded. */
static int
reject_new_password(struct change *c, const char *error)
{
	pam_syslog(c->p->pamh, LOG_NOTICE, "password change of %s refused: "
		   "%s", c->p->user, c->msg);
	pam_iam_say(c->p, PAM_ERROR_MSG, c->msg);
	(void)trail_change(c, error);
	return PAM_AUTHTOK_ERR;
}

/* ---- The current password, counted as an authentication ---------------- */

static int
state_broken(struct change *c, int r)
{
	pam_syslog(c->p->pamh, LOG_ERR, "state of %s in %s unusable: %s",
		   c->p->user, c->p->o.cfg->state_dir, strerror(-r));
	(void)trail_change(c, "Unavailable");
	return pam_iam_errno_code(r);
}

/*
 * Check the current password under the lockout of the auth phase: the
 * counter is raised before the check and reset on success, so passwd is
 * no way around the lockout for a password guesser.
 */
static int
verify_current(struct change *c, const char *pw)
{
	struct iam_lockout_try t;
	bool locked = false;
	int r, v;

	r = iam_lockout_begin(c->p->o.cfg->state_dir, c->p->rec->uid, 0,
			      &c->p->rec->password_policy.lockout, c->p->now,
			      &t);
	if (r == -EBUSY || r == -EAGAIN) {
		pam_syslog(c->p->pamh, LOG_NOTICE, "password change of %s "
			   "refused: %s", c->p->user, r == -EBUSY ?
			   "account locked" : "too soon after a failure");
		pam_iam_say(c->p, PAM_ERROR_MSG, MSG_FAILED);
		(void)trail_change(c, "AccountLocked");
		return PAM_MAXTRIES;
	}
	if (r < 0)
		return state_broken(c, r);
	v = iam_password_verify(pw, c->p->rec->password_hash);
	if (c->p->rec->password_hash == NULL)
		v = -EACCES;
	r = iam_lockout_settle(&t, v == 0 ? IAM_LOCKOUT_OK :
			       IAM_LOCKOUT_FAILED, 0, &locked);
	if (r < 0)
		return state_broken(c, r);
	if (locked) {
		pam_syslog(c->p->pamh, LOG_NOTICE, "%s locked after %u failed "
			   "attempts", c->p->user, t.counted.failures);
		(void)pam_iam_trail(c->p, "Lockout", "AccountLocked", NULL, 0,
				    NULL);
	}
	if (v != 0) {
		pam_syslog(c->p->pamh, LOG_NOTICE, "password change of %s: "
			   "wrong current password", c->p->user);
		pam_iam_say(c->p, PAM_ERROR_MSG, MSG_FAILED);
		(void)trail_change(c, "InvalidPassword");
		return PAM_AUTH_ERR;
	}
	return PAM_SUCCESS;
}

static int
ask_current(struct change *c)
{
	const char *tok = NULL;
	int r;

	r = pam_get_authtok(c->p->pamh, PAM_OLDAUTHTOK, &tok, PROMPT_CURRENT);
	if (r != PAM_SUCCESS || tok == NULL)
		return r == PAM_SUCCESS ? PAM_CONV_ERR :
			r == PAM_AUTHTOK_ERR ? PAM_AUTH_ERR : pam_iam_conv_code(r);
	return verify_current(c, tok);
}

/* ---- May the user change it ------------------------------------------- */

/* 0 allowed, 1 refused (c->msg says why), or a negative errno. */
static int
may_change(struct change *c)
{
	struct phase *p = c->p;
	struct iam_session_facts facts = {
		.service = p->service, .tty = p->tty, .source_ip = p->rhost,
		.mfa_time = pam_iam_mfa_time(p), .now = p->now,
	};
	struct iam_principal *pr = NULL;
	struct iam_result *res;
	int r;

	if (!p->rec->password_policy.allow_users_to_change) {
		(void)snprintf(c->msg, sizeof(c->msg), "Password rejected: "
			       "users may not change their own passwords on "
			       "this account.");
		return 1;
	}
	res = malloc(sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	r = iam_principal_new(p->rec, &pr);
	r = r ? r : iam_decide(p->o.cfg, p->rec, pr, NULL, &facts,
			       &(struct iam_ask){ .action = "iam:ChangePassword",
						  .resource = p->arn }, res, NULL);
	if (r == 0 && res->decision != IAM_ALLOW) {
		pam_syslog(p->pamh, LOG_NOTICE, "iam:ChangePassword %s for %s%s"
			   "%s", iam_decision_name(res->decision), p->user,
			   res->decided ? " by policy " : "",
			   res->decided ? res->decider.policy : "");
		(void)snprintf(c->msg, sizeof(c->msg), "Password rejected: "
			       "changing it is not allowed by IAM policy.");
		r = 1;
	}
	iam_principal_free(pr);
	free(res);
	return r;
}

static int
prelim(struct change *c)
{
	uint32_t *mark;
	int r;

	if (c->p->rec->disabled && !c->root) {
		pam_syslog(c->p->pamh, LOG_NOTICE, "password change of %s "
			   "refused: account disabled", c->p->user);
		pam_iam_say(c->p, PAM_ERROR_MSG, MSG_DISABLED);
		(void)trail_change(c, "AccountDisabled");
		return PAM_PERM_DENIED;
	}
	if (!c->root) {
		r = ask_current(c);
		if (r != PAM_SUCCESS)
			return r;
		r = may_change(c);
		if (r < 0) {
			pam_syslog(c->p->pamh, LOG_ERR, "cannot decide "
				   "iam:ChangePassword for %s: %s", c->p->user,
				   strerror(-r));
			(void)trail_change(c, "Unavailable");
			return pam_iam_errno_code(r);
		}
		if (r == 1)
			return reject_new_password(c, "AccessDenied");
	}
	mark = malloc(sizeof(*mark));
	if (mark == NULL)
		return PAM_BUF_ERR;
	*mark = c->p->rec->uid;
	if (pam_set_data(c->p->pamh, DATA_CHECKED, mark, cleanup_checked) !=
	    PAM_SUCCESS) {
		free(mark);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* ---- The new password ------------------------------------------------- */

static int
ask_new(struct change *c)
{
	const char *tok = NULL;
	char *first = NULL, *again = NULL;
	int r;

	if (c->p->o.use_authtok) {
		/* pam_pwquality (or another module) asked already. */
		if (pam_get_item(c->p->pamh, PAM_AUTHTOK, (const void **)&tok)
		    != PAM_SUCCESS || tok == NULL) {
			pam_syslog(c->p->pamh, LOG_ERR, "use_authtok: no new "
				   "password from an earlier module");
			return PAM_AUTHTOK_ERR;
		}
		c->new_pw = strdup(tok);
		return c->new_pw != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	r = pam_prompt(c->p->pamh, PAM_PROMPT_ECHO_OFF, &first, "%s",
		       PROMPT_NEW);
	if (r == PAM_SUCCESS && first != NULL)
		r = pam_prompt(c->p->pamh, PAM_PROMPT_ECHO_OFF, &again, "%s",
			       PROMPT_AGAIN);
	if (r != PAM_SUCCESS || first == NULL || again == NULL) {
		r = r == PAM_SUCCESS ? PAM_CONV_ERR : pam_iam_conv_code(r);
		goto out;
	}
	if (strcmp(first, again) != 0) {
		(void)snprintf(c->msg, sizeof(c->msg), "Password rejected: "
			       "the two passwords do not match.");
		r = reject_new_password(c, "PasswordPolicy");
		goto out;
	}
	c->new_pw = first;
	first = NULL;
	r = PAM_SUCCESS;
out:
	first = iam_drop_string(first);
	again = iam_drop_string(again);
	return r;
}

/*
 * The password policy (iam_password_policy_check(), shared with iamctl
 * passwd): length, classes, the user name, the last reuse_prevention
 * passwords (the current one first).  0 passes, 1 refused (c->msg), or
 * a negative errno.
 */
static int
check_policy(struct change *c)
{
	const struct iam_auth_user *u = c->p->rec;
	const char **hist;
	size_t n = 0;
	int r;

	hist = calloc(u->n_history + 1, sizeof(*hist));
	if (hist == NULL)
		return -ENOMEM;
	if (u->password_hash != NULL)
		hist[n++] = u->password_hash;
	for (size_t i = 0; i < u->n_history; i++)
		hist[n++] = u->history[i];
	r = iam_password_policy_check(&u->password_policy, u->name, c->new_pw,
				      hist, n, c->msg, sizeof(c->msg));
	free(hist);
	if (r == -EPERM)
		return 1;
	if (r < 0)
		return r;
	if (c->p->o.cfg->hash_method == IAM_HASH_BCRYPT &&
	    strlen(c->new_pw) > IAM_BCRYPT_MAX) {
		(void)snprintf(c->msg, sizeof(c->msg), "Password rejected: "
			       "it is longer than %d bytes, which bcrypt "
			       "cannot hash.", IAM_BCRYPT_MAX);
		return 1;
	}
	return 0;
}

/* ---- Commit ------------------------------------------------------------ */

/*
 * The credential record of u to change (*cr, read under the store's
 * lock): the stored one, or a fresh one holding the snapshot's current
 * password and history, so the history of the identity file's initial
 * password carries over.
 */
static int
creds_of(struct iam_creds **cr, const struct iam_auth_user *u)
{
	struct iam_password *pw;
	int r;

	if (*cr == NULL) {
		r = iam_creds_new(u->uid, cr);
		if (r < 0)
			return r;
	}
	if ((*cr)->has_password)
		return 0;
	pw = &(*cr)->password;
	pw->history = calloc(u->n_history ? u->n_history : 1, sizeof(char *));
	pw->hash = u->password_hash ? strdup(u->password_hash) : NULL;
	r = pw->history == NULL || (u->password_hash && !pw->hash) ? -ENOMEM : 0;
	for (size_t i = 0; r == 0 && i < u->n_history; i++) {
		pw->history[i] = strdup(u->history[i]);
		if (pw->history[i] == NULL)
			r = -ENOMEM;
		else
			pw->n_history++;
	}
	pw->changed = u->password_changed;
	pw->must_change = u->must_change;
	(*cr)->has_password = true;
	return r;
}

/*
 * creds_of(), then -ESTALE unless the stored password is still the one
 * u was checked against (changed or reset meanwhile).
 */
static int
creds_as_checked(struct iam_creds **cr, const struct iam_auth_user *u)
{
	int r = creds_of(cr, u);

	if (r == 0 && ((*cr)->password.hash == NULL ||
		       u->password_hash == NULL ||
		       strcmp((*cr)->password.hash, u->password_hash) != 0))
		r = -ESTALE;
	return r;
}

/* The first ten faults of a publication that failed. */
static void
log_faults(pam_handle_t *pamh, const struct iam_faults *f)
{
	for (size_t i = 0; i < f->n && i < 10; i++)
		pam_syslog(pamh, LOG_ERR, "publishing: %s", f->v[i]);
}

struct rehash {
	const struct iam_auth_user *u;
	char *hash;
};

static int
rehash_change(struct iam_creds **cr, void *arg)
{
	struct rehash *rh = arg;
	int r;

	/* Changed meanwhile (passwd, iamctl): that one stands. */
	r = creds_as_checked(cr, rh->u);
	if (r == 0) {
		/* The same password: its age, history and must_change stay. */
		(*cr)->password.hash = iam_drop_string((*cr)->password.hash);
		(*cr)->password.hash = rh->hash;
		rh->hash = NULL;
	}
	return r;
}

int
pam_iam_rehash(pam_handle_t *pamh, const struct iam_config *cfg,
	       const struct iam_auth_user *u, const char *password)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct rehash rh = { .u = u };
	int r;

	r = iam_password_hash(password, cfg->hash_method, &rh.hash);
	r = r ? r : iam_creds_update(cfg, u->uid, rehash_change, &rh, NULL,
				     &faults);
	if (r < 0 && r != -ESTALE) {
		log_faults(pamh, &faults);
		pam_syslog(pamh, LOG_WARNING, "password of %s not re-hashed "
			   "with hash_method: %s", u->name, strerror(-r));
	} else if (r == 0) {
		pam_syslog(pamh, LOG_INFO, "password of %s re-hashed with "
			   "hash_method", u->name);
	}
	iam_faults_release(&faults);
	rh.hash = iam_drop_string(rh.hash);
	return r;
}

struct set_pw {
	const struct iam_auth_user *u;
	char *hash;
	int64_t now;
	uint32_t keep;
};

static int
set_pw_change(struct iam_creds **cr, void *arg)
{
	struct set_pw *sp = arg;
	int r;

	/* Reset or changed meanwhile: the current password checked is gone. */
	r = creds_as_checked(cr, sp->u);
	r = r ? r : iam_creds_set_password(*cr, sp->hash, sp->now, false,
					   sp->keep > 0 ? sp->keep - 1 : 0);
	return r;
}

/*
 * c->msg for a store whose lock another process held for all of
 * IAM_STORE_LOCK_WAIT_MS: the fault that says so names its pid.
 */
static void
locked_message(struct change *c, const struct iam_faults *f)
{
	const char *why = IAM_STORE_LOCKED_MSG;

	for (size_t i = 0; i < f->n; i++) {
		const char *m = strstr(f->v[i], IAM_STORE_LOCKED_MSG);

		if (m != NULL)
			why = m;
	}
	(void)snprintf(c->msg, sizeof(c->msg), "Password change failed: %s; "
		       "try again later.", why);
}

static int
commit(struct change *c)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct set_pw sp = { .u = c->p->rec, .now = c->p->now,
			     .keep = c->p->rec->password_policy.reuse_prevention };
	int r;

	r = iam_password_hash(c->new_pw, c->p->o.cfg->hash_method, &sp.hash);
	r = r ? r : iam_creds_update(c->p->o.cfg, c->p->rec->uid,
				     set_pw_change, &sp, NULL, &faults);
	if (r == -ESTALE) {
		pam_syslog(c->p->pamh, LOG_WARNING, "password change of %s "
			   "not committed: the password was changed by "
			   "another process meanwhile", c->p->user);
	} else if (r == -ETIMEDOUT) {
		locked_message(c, &faults);
		pam_syslog(c->p->pamh, LOG_ERR, "password change of %s not "
			   "committed: %s", c->p->user, c->msg);
	} else if (r < 0) {
		log_faults(c->p->pamh, &faults);
		pam_syslog(c->p->pamh, r == -ENOMEM ? LOG_CRIT : LOG_ERR,
			   "password change of %s not committed: %s",
			   c->p->user, strerror(-r));
	}
	iam_faults_release(&faults);
	sp.hash = iam_drop_string(sp.hash);
	return r;
}

static int
update(struct change *c)
{
	const void *mark = NULL;
	int r;

	/* The prelim check of this handle must have passed for this user. */
	if (pam_get_data(c->p->pamh, DATA_CHECKED, &mark) != PAM_SUCCESS ||
	    mark == NULL || *(const uint32_t *)mark != c->p->rec->uid) {
		pam_syslog(c->p->pamh, LOG_ERR, "password update of %s without "
			   "a successful preliminary check; refusing",
			   c->p->user);
		return PAM_AUTHTOK_ERR;
	}
	r = ask_new(c);
	if (r != PAM_SUCCESS || c->new_pw == NULL)
		return r == PAM_SUCCESS ? PAM_AUTHTOK_ERR : r;
	r = check_policy(c);
	if (r == 1)
		return reject_new_password(c, "PasswordPolicy");
	r = r < 0 ? r : commit(c);
	if (r == -ESTALE) {
		pam_iam_say(c->p, PAM_ERROR_MSG, "Password change failed: the "
			    "password was changed meanwhile; try again.");
		(void)trail_change(c, "Unavailable");
		return PAM_AUTHTOK_ERR;
	}
	if (r == -ETIMEDOUT) {
		pam_iam_say(c->p, PAM_ERROR_MSG, c->msg);
		(void)trail_change(c, "Unavailable");
		return PAM_AUTHTOK_LOCK_BUSY;
	}
	if (r == -ECHILD) {
		/* Its process was killed (root, the kernel): whole or none. */
		pam_iam_say(c->p, PAM_ERROR_MSG, "Password change interrupted; "
			    "either the old or the new password is in force.");
		(void)trail_change(c, "Unavailable");
		return PAM_AUTHTOK_ERR;
	}
	if (r < 0) {
		pam_iam_say(c->p, PAM_ERROR_MSG, "Password change failed; "
			    "the old password stays in force.");
		(void)trail_change(c, "Unavailable");
		return r == -ENOMEM ? PAM_BUF_ERR : PAM_AUTHTOK_ERR;
	}
	/* Later modules of the stack get the new password. */
	r = pam_set_item(c->p->pamh, PAM_AUTHTOK, c->new_pw);
	pam_syslog(c->p->pamh, LOG_NOTICE, "password of %s changed%s",
		   c->p->user, c->root ? " by root" : "");
	/* Committed already: a trail failure is logged, not undone. */
	(void)trail_change(c, NULL);
	return r == PAM_SUCCESS ? PAM_SUCCESS : PAM_AUTHTOK_ERR;
}

int
pam_iam_chauthtok(struct phase *p, int flags)
{
	struct change c = { .p = p };
	int r;

	c.root = getuid() == 0 && !(flags & PAM_CHANGE_EXPIRED_AUTHTOK);
	if (flags & PAM_PRELIM_CHECK)
		r = prelim(&c);
	else if (flags & PAM_UPDATE_AUTHTOK)
		r = update(&c);
	else
		r = PAM_SERVICE_ERR;
	c.new_pw = iam_drop_string(c.new_pw);
	return r;
}
