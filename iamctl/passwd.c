/*
 * passwd.c - iamctl passwd USER [--stdin] [--must-change [--force]]: set
 * a user's password in the credentials store, checked against the
 * password policy and the history, then publish.
 *
 * --must-change makes the next login ask for a new password; a user who
 * may not change it could then never log in, so that is refused unless
 * --force, decided as pam_iam's password phase decides it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "iam/decide.h"
#include "iam/pwpolicy.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl passwd USER [--stdin] [--must-change [--force]]\n"
	      "  Set USER's password: asked twice on a terminal, or one line\n"
	      "  read from standard input with --stdin.  It must pass the\n"
	      "  password policy; --must-change forces a change at the next\n"
	      "  login, otherwise that flag is cleared.  --must-change is\n"
	      "  refused when USER may not change a password (no\n"
	      "  iam:ChangePassword on their own ARN, or\n"
	      "  allow_users_to_change false) unless --force.\n", f);
}

/* The new password: twice on a terminal, once with --stdin. */
static int
ask(bool from_stdin, char *pw, size_t len)
{
	char again[IAM_PASSWORD_MAX + 2];
	int r;

	if (!from_stdin && !isatty(STDIN_FILENO)) {
		iamctl_err("passwd: standard input is not a terminal; use "
			   "--stdin");
		return EXIT_USAGE;
	}
	r = read_line("New password: ", false, pw, len);
	if (r == 0 && !from_stdin) {
		r = read_line("Retype new password: ", false, again,
			      sizeof(again));
		if (r == 0 && strcmp(pw, again) != 0) {
			iam_wipe(again, sizeof(again));
			iamctl_err("passwd: the passwords do not match; "
				   "nothing changed");
			return EXIT_REFUSED;
		}
		iam_wipe(again, sizeof(again));
	}
	if (r == -E2BIG) {
		iamctl_err("passwd: Password rejected: it must be at most %d "
			   "bytes long.", IAM_PASSWORD_MAX);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		iamctl_err("passwd: no password read%s",
			   r == -ENODATA ? " (end of input)" : "");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * May the user change their own password at the next login?  pam_iam's
 * password phase asks allow_users_to_change, then iam:ChangePassword on
 * the user's ARN for the published record, with the login's MFA when
 * the user has a device: the same here.  1 yes, 0 no (why says),
 * or a negative errno (why says).
 */
static int
may_change(const struct iam_config *cfg, const char *name, char *why,
	   size_t len)
{
	struct iam_session_facts facts = { .now = (int64_t)time(NULL) };
	struct iam_auth_user *rec = NULL;
	struct iam_principal *pr = NULL;
	struct iam_request *req = NULL;
	struct iam_authdb *db = NULL;
	struct iam_result *res = NULL;
	char dir[4096], arn[512];
	int r;

	r = iam_snapshot_path(cfg, "auth", dir, sizeof(dir));
	r = r ? r : iam_authdb_open(dir, &db, why, len);
	r = r ? r : iam_authdb_lookup(db, name, &rec);
	db = iam_authdb_close(db);
	if (r < 0) {
		if (r != -EPERM)
			(void)iam_snprintf(why, len, "%s/%s: %s", dir,
					   IAM_AUTHDB_FILE, r == -ENOENT ?
					   "no published record (run iamctl "
					   "sync)" : strerror(-r));
		return r;
	}
	if (!rec->password_policy.allow_users_to_change) {
		snprintf(why, len, "password_policy.allow_users_to_change is "
			 "false");
		r = 0;
		goto out;
	}
	facts.mfa_time = rec->mfa_secret != NULL ? facts.now : 0;
	res = malloc(sizeof(*res));
	r = res == NULL ? -ENOMEM : 0;
	r = r ? r : iam_arn_user(rec->account_id, rec->name, arn, sizeof(arn));
	r = r ? r : iam_principal_new(rec, &pr);
	r = r ? r : iam_request_for_user(cfg, rec, &facts,
					 "iam:ChangePassword", arn, &req);
	r = r ? r : iam_policy_evaluate(pr->set, req, res);
	if (r < 0) {
		snprintf(why, len, "cannot decide iam:ChangePassword: %s",
			 strerror(-r));
		goto out;
	}
	r = res->decision == IAM_ALLOW;
	if (!r)
		(void)iam_snprintf(why, len, "no policy allows them "
				   "iam:ChangePassword on %s (%s%s%s)", arn,
				   iam_decision_name(res->decision),
				   res->decided ? " by policy " : "",
				   res->decided ? res->decider.policy : "");
out:
	free(res);
	iam_request_free(req);
	iam_principal_free(pr);
	iam_auth_user_free(rec);
	return r;
}

/* --must-change for a user who cannot change it: refused unless --force. */
static int
check_must_change(const struct iam_config *cfg, const char *name, bool force)
{
	char why[512] = "";
	int r = may_change(cfg, name, why, sizeof(why));

	if (r == 1)
		return EXIT_OK;
	if (force) {
		fprintf(stderr, "iamctl: passwd: warning: %s cannot change a "
			"password at the next login (%s); --force: the flag is "
			"set anyway\n", name, why);
		return EXIT_OK;
	}
	iamctl_err("passwd: %s cannot change a password at the next login: "
		   "%s; --must-change would lock them out, nothing changed "
		   "(allow it, or add --force)", name, why);
	return EXIT_REFUSED;
}

/* The stored record of u, or a fresh one from its merged credentials. */
static int
creds_of(const struct iam_config *cfg, const struct iam_user *u,
	 struct iam_creds **ret)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	int r;

	r = iam_creds_load(cfg, u->uid, ret, &faults);
	if (r == -ENOENT)
		r = iam_creds_from_user(u, ret);
	if (r < 0) {
		print_faults(cfg->credentials_dir, &faults);
		iamctl_err("%s: credentials of uid %u unusable: %s",
			   cfg->credentials_dir, u->uid, strerror(-r));
	}
	iam_faults_release(&faults);
	return r;
}

struct new_pw {
	const struct iam_user *u;
	const char *hash;
	int64_t now;
	bool must_change;
	uint32_t keep;
};

/* Applied to the record as stored under the lock, so nothing of it is lost. */
static int
new_pw_change(struct iam_creds **cr, void *arg)
{
	struct new_pw *np = arg;
	int r = 0;

	if (*cr == NULL)
		r = iam_creds_from_user(np->u, cr);
	return r ? r : iam_creds_set_password(*cr, np->hash, np->now,
					      np->must_change, np->keep);
}

/* Policy and history check, then hash and commit. */
static int
set_password(struct iamctl *ctl, const struct iam_identity *id,
	     const struct iam_user *u, const char *pw, bool must_change)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	const struct iam_password_policy *pp = &id->password_policy;
	const char *hist[IAM_ID_MAX_HISTORY + 1];
	struct iam_creds *creds = NULL;
	struct new_pw np = { .u = u, .now = time(NULL),
			     .must_change = must_change,
			     .keep = pp->reuse_prevention };
	char why[160], *hash = NULL;
	size_t n = 0;
	int r, rc = EXIT_REFUSED;

	/* The current password counts as one of the last ones. */
	if (u->password.hash != NULL)
		hist[n++] = u->password.hash;
	for (size_t i = 0; i < u->password.n_history && n < IAM_ID_MAX_HISTORY + 1; i++)
		hist[n++] = u->password.history[i];
	r = iam_password_policy_check(pp, u->name, pw, hist, n, why,
				      sizeof(why));
	if (r < 0) {
		iamctl_err("passwd: %s", r == -EPERM ? why : strerror(-r));
		trail(ctl->cfg, "ChangePassword", "PasswordPolicy",
		      (struct iam_event_param[]){ { "userName", u->name } }, 1);
		return EXIT_REFUSED;
	}
	r = iam_password_hash(pw, ctl->cfg->hash_method, &hash);
	if (r < 0) {
		iamctl_err("passwd: Password rejected: %s.", r == -E2BIG ?
			   "it is too long for the configured hash (bcrypt "
			   "uses at most 72 bytes)" : strerror(-r));
		return EXIT_REFUSED;
	}
	np.hash = hash;
	r = creds_of(ctl->cfg, u, &creds);
	if (r == 0)
		r = iam_creds_set_password(creds, hash, np.now, must_change,
					   pp->reuse_prevention);
	/* The event first: a change the required trail cannot record is not made. */
	if (r == 0 && trail(ctl->cfg, "ChangePassword", NULL,
			    (struct iam_event_param[]){ { "userName", u->name },
			    { "mustChange", must_change ? "true" : "false" } },
			    2) < 0 && ctl->cfg->trail_required) {
		iamctl_err("passwd: %s: not changed (the trail is required and "
			   "unavailable)", u->name);
		goto out;
	}
	if (r == 0)
		r = iam_creds_update(ctl->cfg, u->uid, new_pw_change, &np,
				     NULL, &faults);
	if (r < 0) {
		print_faults(ctl->cfg->identity_file, &faults);
		iamctl_err("passwd: %s: not changed (%s)", u->name,
			   strerror(-r));
		(void)trail(ctl->cfg, "ChangePassword", "CommitFailed",
			    (struct iam_event_param[]){ { "userName", u->name } },
			    1);
	} else {
		printf("password of %s changed%s\n", u->name,
		       must_change ? "; it must be changed at the next login"
				   : "");
		fflush(stdout);
		rc = EXIT_OK;
	}
out:
	iam_faults_release(&faults);
	iam_creds_free(creds);
	iam_drop_string(hash);
	return rc;
}

int
cmd_passwd(struct iamctl *ctl, int argc, char **argv)
{
	char pw[IAM_PASSWORD_MAX + 2];
	struct iam_identity *id = NULL;
	const struct iam_user *u;
	const char *name = NULL;
	bool from_stdin = false, must_change = false, force = false;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stdin") == 0)
			from_stdin = true;
		else if (strcmp(argv[i], "--must-change") == 0)
			must_change = true;
		else if (strcmp(argv[i], "--force") == 0)
			force = true;
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (name == NULL || (force && !must_change)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = load_for(ctl, "passwd", NEED_ROOT | NEED_STORE, &id, name, &u);
	if (rc != EXIT_OK)
		return rc;
	rc = must_change ? check_must_change(ctl->cfg, u->name, force) :
	     EXIT_OK;
	if (rc == EXIT_OK)
		rc = ask(from_stdin, pw, sizeof(pw));
	if (rc == EXIT_OK)
		rc = set_password(ctl, id, u, pw, must_change);
	iam_wipe(pw, sizeof(pw));
	iam_identity_free(id);
	return rc;
}
