/*
 * report.c - iamctl credential-report: one CSV line per user with AWS's
 * credential report columns, from the identity file merged with the
 * credentials store and each user's runtime state.  No secret is read
 * into the output: only whether a credential exists and when it changed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl credential-report\n"
	      "  Print a CSV line per user: user,arn,user_creation_time,\n"
	      "  password_enabled,password_last_changed,password_next_rotation,\n"
	      "  mfa_active,ssh_key_1_active,ssh_key_1_last_rotated,last_login,\n"
	      "  locked,groups,policies\n", f);
}

/* One CSV field (RFC 4180): quoted when it holds , " or a line break. */
static void
field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static void
time_field(int64_t t, const char *none)
{
	char buf[32];

	if (t <= 0 || iam_format_time(t, buf, sizeof(buf)) < 0)
		field(none, false);
	else
		field(buf, false);
}

static void
list_field(const char *const *v, size_t n, bool last)
{
	struct iam_buf b = IAM_BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if (iam_buf_addf(&b, "%s%s", i ? ";" : "", v[i]) < 0)
			break;
	field(b.buf ? b.buf : "", last);
	iam_buf_release(&b);
}

static void
row(const struct iam_config *cfg, const struct iam_identity *id,
    const struct iam_user *u, int64_t now)
{
	const struct iam_password_policy *pp = &id->password_policy;
	const struct iam_ssh_key *k1 = u->n_ssh_keys > 0 ? &u->ssh_keys[0] :
				       NULL;
	int64_t k1_exp = k1 != NULL ?
			 iam_ssh_key_expiry(k1, pp->ssh_key_max_age_days) : 0;
	struct iam_state st;
	bool has_state;
	char arn[256], num[24];
	uint32_t used;

	has_state = iam_state_read(cfg->state_dir, u->uid, 0, &st) == 0;
	snprintf(arn, sizeof(arn), "arn:iam:iam::%s:user/%s", id->account.id,
		 u->name);
	field(u->name, false);
	field(arn, false);
	time_field(u->created, "N/A");
	field(u->password.hash ? "true" : "false", false);
	time_field(u->password.hash ? u->password.changed : 0, "N/A");
	time_field(u->password.hash && pp->max_age_days > 0 &&
		   u->password.changed > 0 ? u->password.changed +
		   (int64_t)pp->max_age_days * 86400 : 0, "N/A");
	field(u->mfa.secret || u->n_mfa_devices ? "true" : "false", false);
	/* Active means it logs in: status Active and not past its age. */
	field(k1 != NULL && k1->active && (k1_exp == 0 || now < k1_exp) ?
	      "true" : "false", false);
	time_field(k1 != NULL ? k1->created : 0, "N/A");
	time_field(has_state ? st.last_login : 0, "no_information");
	field(has_state && iam_state_locked(&st, &pp->lockout, now) ?
	      "true" : "false", false);
	list_field(u->groups, u->n_groups, false);
	list_field(u->policies, u->n_policies, false);
	snprintf(num, sizeof(num), "%zu", (u->mfa.secret ? 1 : 0) +
		 u->n_mfa_devices);
	field(num, false);
	used = iam_state_recovery_used(has_state ? &st : &(struct iam_state){ 0 },
				       iam_recovery_set_tag(
				       (const char *const *)u->recovery_codes,
				       u->n_recovery_codes));
	snprintf(num, sizeof(num), "%d", (int)u->n_recovery_codes -
		 __builtin_popcount(used));
	field(num, true);
}

int
cmd_credential_report(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_identity *id = NULL;
	int64_t now = time(NULL);
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = need_root("credential-report");
	if (rc == EXIT_OK)
		rc = load_identity(ctl, &id);
	if (rc != EXIT_OK)
		return rc;
	puts("user,arn,user_creation_time,password_enabled,"
	     "password_last_changed,password_next_rotation,mfa_active,"
	     "ssh_key_1_active,ssh_key_1_last_rotated,last_login,locked,"
	     "groups,policies,mfa_devices,recovery_codes_left");
	for (size_t i = 0; i < id->n_users; i++)
		row(ctl->cfg, id, &id->users[i], now);
	iam_identity_free(id);
	if (fflush(stdout) != 0 || ferror(stdout))
		return EXIT_USAGE;
	return EXIT_OK;
}
