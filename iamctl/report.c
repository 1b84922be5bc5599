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
#include "jsonout.h"

#define REPORT_KEYS	2	/* key columns, as AWS's two access keys */

static void
usage(FILE *f)
{
	fputs("usage: iamctl credential-report [--json]\n"
	      "  Print a CSV line per user: user,arn,user_creation_time,\n"
	      "  password_enabled,password_last_changed,password_next_rotation,\n"
	      "  mfa_active,ssh_key_1_active,ssh_key_1_last_rotated,\n"
	      "  ssh_key_2_active,ssh_key_2_last_rotated,last_login,locked,\n"
	      "  groups,policies; with --json, an array of objects with\n"
	      "  these keys (null for N/A).\n", f);
}

/* What one line of the report says about one user. */
struct row {
	char arn[256];
	bool password;			/* password_enabled */
	int64_t pw_changed, pw_next;	/* 0: N/A */
	bool key_active[REPORT_KEYS];
	int64_t key_created[REPORT_KEYS];	/* 0: N/A (no such key) */
	int64_t last_login;		/* 0: no_information */
	bool locked;
	int mfa_devices;		/* enrolled TOTP devices */
	int recovery_left;		/* recovery codes not used yet */
};

/* Active means it logs in: status Active and not past its age. */
static bool
key_logs_in(const struct iam_ssh_key *k, uint32_t max_days, int64_t now)
{
	int64_t exp = iam_ssh_key_expiry(k, max_days);

	return k->active && (exp == 0 || now < exp);
}

/*
 * The two keys of the columns, in the user's order: with more than two,
 * the keys that log in come first, so an active key is never hidden
 * behind an old inactive one.
 */
static void
pick_keys(const struct iam_user *u, uint32_t max_days, int64_t now,
	  struct row *r)
{
	size_t chosen[REPORT_KEYS], n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < u->n_ssh_keys && n < REPORT_KEYS; i++) {
			bool in = key_logs_in(&u->ssh_keys[i], max_days, now);

			if (u->n_ssh_keys > REPORT_KEYS && in != (pass == 0))
				continue;
			if (u->n_ssh_keys <= REPORT_KEYS && pass == 1)
				break;
			chosen[n++] = i;
		}
	if (n == 2 && chosen[0] > chosen[1]) {
		size_t t = chosen[0];

		chosen[0] = chosen[1];
		chosen[1] = t;
	}
	for (size_t k = 0; k < n; k++) {
		const struct iam_ssh_key *key = &u->ssh_keys[chosen[k]];

		r->key_active[k] = key_logs_in(key, max_days, now);
		r->key_created[k] = key->created;
	}
}

static void
make_row(const struct iam_config *cfg, const struct iam_identity *id,
	 const struct iam_user *u, int64_t now, struct row *r)
{
	const struct iam_password_policy *pp = &id->password_policy;
	struct iam_state st;
	bool has_state;

	memset(r, 0, sizeof(*r));
	has_state = iam_state_read(cfg->state_dir, u->uid, 0, &st) == 0;
	snprintf(r->arn, sizeof(r->arn), "arn:iam:iam::%s:user/%s",
		 id->account.id, u->name);
	r->password = u->password.hash != NULL;
	r->pw_changed = r->password ? u->password.changed : 0;
	/* The expiry pam_iam enforces (one rule, iam/pwpolicy.h). */
	r->pw_next = iam_password_expiry(r->password, u->password.changed,
					 u->created, pp->max_age_days);
	pick_keys(u, pp->ssh_key_max_age_days, now, r);
	r->last_login = has_state ? st.last_login : 0;
	r->locked = has_state && iam_state_locked(&st, &pp->lockout, now);
	r->mfa_devices = (u->mfa.secret != NULL ? 1 : 0) +
			 (int)u->n_mfa_devices;
	r->recovery_left = iam_recovery_left(
		(const char *const *)u->recovery_codes, u->n_recovery_codes,
		iam_state_recovery_used(has_state ? &st : &(struct iam_state){ 0 },
					iam_recovery_set_tag(
					(const char *const *)u->recovery_codes,
					u->n_recovery_codes)));
}

/* One CSV field (RFC 4180): quoted when it holds , " or a line break. */
static void
csv_field(const char *s, bool last)
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
		csv_field(none, false);
	else
		csv_field(buf, false);
}

static void
list_field(const char *const *v, size_t n, bool last)
{
	struct iam_buf b = IAM_BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if (iam_buf_addf(&b, "%s%s", i ? ";" : "", v[i]) < 0)
			break;
	csv_field(b.buf ? b.buf : "", last);
	iam_buf_release(&b);
}

/*
 * The columns of a row, once for both outputs: j NULL writes a CSV field
 * (last ends the line), else a member of the JSON object.
 */
static void
col_str(struct jout *j, const char *key, const char *s)
{
	if (j != NULL)
		jout_kstr(j, key, s);
	else
		csv_field(s, false);
}

static void
col_bool(struct jout *j, const char *key, bool v)
{
	if (j != NULL)
		jout_kbool(j, key, v);
	else
		csv_field(v ? "true" : "false", false);
}

/* A time; none is the CSV's word for no time (JSON: null). */
static void
col_time(struct jout *j, const char *key, int64_t t, const char *none)
{
	if (j != NULL)
		jout_ktime(j, key, t);
	else
		time_field(t, none);
}

static void
col_list(struct jout *j, const char *key, const char *const *v, size_t n)
{
	if (j != NULL)
		jout_kstrs(j, key, v, n);
	else
		list_field(v, n, false);
}

static void
col_int(struct jout *j, const char *key, int v, bool last)
{
	char num[16];

	if (j != NULL) {
		jout_kint(j, key, v);
		return;
	}
	snprintf(num, sizeof(num), "%d", v);
	csv_field(num, last);
}

/* One user's row: a CSV line (j NULL) or a JSON object. */
static void
put_row(struct jout *j, const struct iam_user *u, const struct row *r)
{
	char key[48];

	if (j != NULL)
		jout_map(j);
	col_str(j, "user", u->name);
	col_str(j, "arn", r->arn);
	col_time(j, "user_creation_time", u->created, "N/A");
	col_bool(j, "password_enabled", r->password);
	col_time(j, "password_last_changed", r->pw_changed, "N/A");
	col_time(j, "password_next_rotation", r->pw_next, "N/A");
	col_bool(j, "mfa_active", r->mfa_devices > 0);
	for (int k = 0; k < REPORT_KEYS; k++) {
		snprintf(key, sizeof(key), "ssh_key_%d_active", k + 1);
		col_bool(j, key, r->key_active[k]);
		snprintf(key, sizeof(key), "ssh_key_%d_last_rotated", k + 1);
		col_time(j, key, r->key_created[k], "N/A");
	}
	col_time(j, "last_login", r->last_login, "no_information");
	col_bool(j, "locked", r->locked);
	col_list(j, "groups", u->groups, u->n_groups);
	col_list(j, "policies", u->policies, u->n_policies);
	col_int(j, "mfa_devices", r->mfa_devices, false);
	col_int(j, "recovery_codes_left", r->recovery_left, true);
	if (j != NULL)
		jout_map_end(j);
}

int
cmd_credential_report(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_identity *id = NULL;
	int64_t now = time(NULL);
	struct row r;
	struct jout j;
	bool json;
	int rc;

	rc = root_command(argc, argv, usage, "credential-report", &json);
	if (rc >= 0)
		return rc;
	rc = load_for(ctl, "credential-report", 0, &id, NULL, NULL);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		jout_begin(&j);
		jout_array(&j);
	} else {
		puts("user,arn,user_creation_time,password_enabled,"
		     "password_last_changed,password_next_rotation,mfa_active,"
		     "ssh_key_1_active,ssh_key_1_last_rotated,"
		     "ssh_key_2_active,ssh_key_2_last_rotated,last_login,"
		     "locked,groups,policies,mfa_devices,recovery_codes_left");
	}
	for (size_t i = 0; i < id->n_users; i++) {
		make_row(ctl->cfg, id, &id->users[i], now, &r);
		put_row(json ? &j : NULL, &id->users[i], &r);
	}
	iam_identity_free(id);
	if (json) {
		jout_array_end(&j);
		return jout_end(&j);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return EXIT_USAGE;
	return EXIT_OK;
}
