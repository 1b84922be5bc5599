/*
 * test_creds_mfa.c - named MFA devices and recovery codes: the
 * credentials store's format (a file written before devices existed is
 * device "default", unchanged), its limits, the private snapshot
 * carrying every device, per-device replay and one-time recovery codes
 * through the state (older state files still read).
 *
 * Runs as root (owner checks) through scripts/run-unit.sh; every path
 * lives in a fresh folder under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "iam.h"
#include "iam/auth.h"
#include "fixtures.h"

#define UID1	70001
#define S1	"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define S2	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define S3	"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"

static char tmp[64];
static struct iam_config *cfg;

static const char *
at(const char *name)
{
	return fx_path(tmp, name);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static char *
dupe(const char *s)
{
	char *p = strdup(s);

	cr_assert_not_null(p);
	return p;
}

static void
setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (run through scripts/run-unit.sh)");
	strcpy(tmp, "/tmp/iam-mfa.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_eq(chmod(tmp, 0755), 0);
	cr_assert_eq(mkdir(at("var"), 0755), 0);
	cr_assert_eq(mkdir(at("etc"), 0755), 0);
	cr_assert_eq(mkdir(at("var/credentials"), 0700), 0);
	cr_assert_eq(mkdir(at("var/state"), 0700), 0);
	cr_assert_eq(mkdir(at("host"), 0755), 0);
	cr_assert_eq(mkdir(at("host/etc"), 0755), 0);
	put(at("host/etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n", 0644);
	put(at("host/etc/group"), "root:x:0:\n", 0644);
	put(at("host/etc/subuid"), "", 0644);
	put(at("host/etc/subgid"), "", 0644);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->identity_file);
	free(cfg->credentials_dir);
	free(cfg->state_dir);
	free(cfg->snapshot_dir);
	cfg->identity_file = dupe(at("etc/identity.json"));
	cfg->credentials_dir = dupe(at("var/credentials"));
	cfg->state_dir = dupe(at("var/state"));
	cfg->snapshot_dir = dupe(at("var/snap"));
	put(cfg->identity_file,
	    "{ \"account\": { \"id\": \"123456789012\" },\n"
	    "  \"groups\": [ { \"name\": \"staff\", \"gid\": 70100 } ],\n"
	    "  \"users\": [ { \"name\": \"ann\", \"uid\": 70001,"
	    " \"primary_group\": \"staff\" } ] }\n", 0600);
}

static void
teardown(void)
{
	char cmd[128];

	iam_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(mfa, .init = setup, .fini = teardown);

/* Publish, then ann's record from the private snapshot. */
static struct iam_auth_user *
publish_and_lookup(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_authdb *db = NULL;
	struct iam_auth_user *u = NULL;
	char err[256] = "", dir[512];
	int r;

	r = iam_publish(cfg, at("host"), &f);
	for (size_t i = 0; r != 0 && i < f.n; i++)
		cr_log_error("%s", f.v[i]);
	cr_assert_eq(r, 0, "publish: %s", strerror(-r));
	iam_faults_release(&f);
	cr_assert_eq(iam_snapshot_path(cfg, "auth", dir, sizeof(dir)), 0);
	cr_assert_eq(iam_authdb_open(dir, &db, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(iam_authdb_lookup(db, "ann", &u), 0);
	iam_authdb_close(db);
	return u;
}

static void
code_of(const char *secret, int64_t now, char *out)
{
	struct iam_totp t = { secret, IAM_TOTP_SHA1, 6, 30 };

	cr_assert_eq(iam_totp_generate(&t, now, out, 16), 0);
}

Test(mfa, a_file_written_before_devices_is_device_default)
{
	struct iam_creds *c = NULL;
	struct iam_auth_user *u;
	char path[300];

	/* Exactly what creds.c wrote before named devices existed. */
	snprintf(path, sizeof(path), "%s/%u.json", cfg->credentials_dir, UID1);
	put(path, "{\n    \"uid\": 70001,\n    \"mfa\": {\n        \"secret\": \""
	    S1 "\",\n        \"algorithm\": \"SHA1\",\n        \"digits\": 6,"
	    "\n        \"period\": 30\n    }\n}\n", 0600);
	cr_assert_eq(iam_creds_load(cfg, UID1, &c, NULL), 0);
	cr_expect_str_eq(c->mfa.secret, S1);
	cr_expect_null(c->mfa.name);
	cr_expect_eq(c->n_devices, 0);
	cr_expect_eq(c->n_recovery, 0);
	cr_expect_eq(iam_creds_device_count(c), 1);
	iam_creds_free(c);
	u = publish_and_lookup();
	cr_assert_eq(u->n_mfa_devices, 1);
	cr_expect_str_eq(u->mfa_devices[0].name, "default");
	cr_expect_str_eq(u->mfa_devices[0].secret, S1);
	cr_expect_eq(u->mfa_devices[0].tag, 0, "its replay key is last_step");
	cr_expect_str_eq(u->mfa_secret, S1);
	cr_expect_eq(u->n_recovery_codes, 0);
	iam_auth_user_free(u);
}

Test(mfa, devices_and_recovery_round_trip_through_store_and_snapshot)
{
	struct iam_creds *c = NULL, *back = NULL;
	struct iam_mfa d = { .secret = (char *)S2, .algorithm = IAM_TOTP_SHA256,
			     .digits = 8, .period = 60, .name = (char *)"phone",
			     .enabled = 1800000000 };
	char *h[IAM_RECOVERY_CODES];
	char code[IAM_RECOVERY_LEN + 1], first[IAM_RECOVERY_LEN + 1];
	struct iam_auth_user *u;

	cr_assert_eq(iam_creds_new(UID1, &c), 0);
	cr_assert_eq(iam_creds_set_mfa(c, &(struct iam_mfa){ .secret =
				(char *)S1, .digits = 6, .period = 30 }), 0);
	cr_assert_eq(iam_creds_add_device(c, &d), 0);
	cr_expect_eq(iam_creds_add_device(c, &d), -EEXIST);
	d.name = (char *)"default";
	cr_expect_eq(iam_creds_add_device(c, &d), -EINVAL);
	d.name = (char *)"../x";
	cr_expect_eq(iam_creds_add_device(c, &d), -EINVAL);
	for (int i = 0; i < IAM_RECOVERY_CODES; i++) {
		cr_assert_eq(iam_recovery_generate(code), 0);
		cr_assert_eq(strlen(code), IAM_RECOVERY_LEN);
		if (i == 0)
			memcpy(first, code, sizeof(first));
		cr_assert_eq(iam_recovery_hash(code, &h[i]), 0);
		cr_expect_null(strstr(h[i], code));
	}
	cr_assert_eq(iam_creds_set_recovery(c, h, IAM_RECOVERY_CODES), 0);
	cr_assert_eq(iam_creds_save(cfg, c), 0);
	cr_assert_eq(iam_creds_load(cfg, UID1, &back, NULL), 0);
	cr_assert_eq(back->n_devices, 1);
	cr_expect_str_eq(back->devices[0].name, "phone");
	cr_expect_eq(back->devices[0].algorithm, IAM_TOTP_SHA256);
	cr_expect_eq(back->devices[0].digits, 8);
	cr_expect_eq(back->devices[0].period, 60);
	cr_expect_eq(back->devices[0].enabled, 1800000000);
	cr_assert_eq(back->n_recovery, IAM_RECOVERY_CODES);
	cr_expect_str_eq(back->recovery[3], h[3]);
	u = publish_and_lookup();
	cr_assert_eq(u->n_mfa_devices, 2);
	cr_expect_str_eq(u->mfa_devices[1].name, "phone");
	cr_expect_str_eq(u->mfa_devices[1].secret, S2);
	cr_expect_eq(u->mfa_devices[1].tag, iam_mfa_device_tag("phone"));
	cr_expect_neq(u->mfa_devices[1].tag, 0);
	cr_assert_eq(u->n_recovery_codes, IAM_RECOVERY_CODES);
	cr_expect_neq(u->recovery_set, 0);
	{
		struct iam_mfa_match m;
		char lower[IAM_RECOVERY_LEN + 1];

		for (size_t i = 0; i <= IAM_RECOVERY_LEN; i++)
			lower[i] = (char)(first[i] >= 'A' && first[i] <= 'Z' ?
					  first[i] - 'A' + 'a' : first[i]);
		cr_expect_eq(iam_mfa_verify(u, lower, 1800000000, 1, NULL, &m),
			     0, "a recovery code in any case");
		cr_expect_eq(m.recovery, 0);
		cr_expect_eq(iam_mfa_verify(u, "AAAA-AAAA-AAAA-AAAA",
					    1800000000, 1, NULL, &m), -EACCES);
	}
	iam_auth_user_free(u);
	for (int i = 0; i < IAM_RECOVERY_CODES; i++)
		free(h[i]);
	iam_creds_free(c);
	iam_creds_free(back);
}

Test(mfa, limits_and_malformed_files_are_refused)
{
	struct iam_creds *c = NULL;
	struct iam_faults f = IAM_FAULTS_INIT;
	char path[300], name[16];
	struct iam_mfa d = { .secret = (char *)S2, .digits = 6, .period = 30 };

	cr_assert_eq(iam_creds_new(UID1, &c), 0);
	cr_assert_eq(iam_creds_set_mfa(c, &(struct iam_mfa){ .secret =
				(char *)S1, .digits = 6, .period = 30 }), 0);
	for (int i = 0; i < IAM_MFA_MAX_DEVICES - 1; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d.name = name;
		cr_assert_eq(iam_creds_add_device(c, &d), 0);
	}
	d.name = (char *)"ninth";
	cr_expect_eq(iam_creds_add_device(c, &d), -ENOSPC, "8 devices at most");
	cr_expect_eq(iam_creds_remove_device(c, "nope"), -ENOENT);
	cr_expect_eq(iam_creds_remove_device(c, "d3"), 0);
	cr_expect_eq(iam_creds_device_count(c), IAM_MFA_MAX_DEVICES - 1);
	iam_creds_free(c);

	snprintf(path, sizeof(path), "%s/%u.json", cfg->credentials_dir, UID1);
	put(path, "{ \"uid\": 70001, \"mfa_devices\": [ { \"name\": \"a\", "
	    "\"secret\": \"" S2 "\" }, { \"name\": \"a\", \"secret\": \"" S3
	    "\" } ] }\n", 0600);
	cr_expect_eq(iam_creds_load(cfg, UID1, &c, &f), -EINVAL,
		     "a name twice");
	iam_faults_release(&f);
	put(path, "{ \"uid\": 70001, \"mfa_devices\": [ { \"name\": "
	    "\"default\", \"secret\": \"" S2 "\" } ] }\n", 0600);
	cr_expect_eq(iam_creds_load(cfg, UID1, &c, &f), -EINVAL,
		     "\"default\" is the mfa object's");
	iam_faults_release(&f);
	put(path, "{ \"uid\": 70001, \"recovery_codes\": [ \"ABCD-EFGH-IJKL-"
	    "MNOP\" ] }\n", 0600);
	cr_expect_eq(iam_creds_load(cfg, UID1, &c, &f), -EINVAL,
		     "a code in clear is not a hash");
	cr_assert_gt(f.n, 0);
	cr_expect_not_null(strstr(f.v[0], "recovery_codes[0]"));
	iam_faults_release(&f);
	put(path, "{ \"uid\": 70001, \"mfa_devices\": [ { \"name\": \"x\", "
	    "\"secret\": \"" S2 "\", \"color\": \"red\" } ] }\n", 0600);
	cr_expect_eq(iam_creds_load(cfg, UID1, &c, &f), -EINVAL, "unknown key");
	iam_faults_release(&f);
}

Test(mfa, replay_is_per_device_and_recovery_codes_pass_once)
{
	struct iam_auth_mfa devs[2] = {
		{ "default", S1, IAM_TOTP_SHA1, 6, 30, 0, 0 },
		{ "phone", S2, IAM_TOTP_SHA1, 6, 30, 0, 0 },
	};
	struct iam_auth_user u = { .name = "ann", .uid = UID1 };
	struct iam_lockout_try t;
	struct iam_mfa_match m;
	struct iam_state st;
	const char *rc[1];
	char *h = NULL, c1[16], c2[16];
	int64_t now = (int64_t)time(NULL);

	devs[1].tag = iam_mfa_device_tag("phone");
	cr_assert_eq(iam_recovery_hash("abcd efgh ijkl mnop", &h), 0);
	rc[0] = h;
	u.mfa_secret = S1;
	u.mfa_devices = devs;
	u.n_mfa_devices = 2;
	u.recovery_codes = rc;
	u.n_recovery_codes = 1;
	u.recovery_set = iam_recovery_set_tag(rc, 1);
	u.password_policy.lockout.max_failed_attempts = 5;
	u.password_policy.lockout.lockout_seconds = 900;
	code_of(S1, now, c1);
	code_of(S2, now, c2);

	/* Device default's code, then phone's of the same step: both pass. */
	for (int pass = 0; pass < 2; pass++) {
		const char *code = pass == 0 ? c1 : c2;

		cr_assert_eq(iam_lockout_begin(cfg->state_dir, UID1, 0,
					       &u.password_policy.lockout, now,
					       &t), 0);
		cr_assert_eq(iam_mfa_verify(&u, code, now, 1, &t.counted, &m),
			     0, "device %d", pass);
		cr_expect_eq(m.tag, devs[pass].tag);
		cr_assert_eq(iam_lockout_settle_mfa(&t, IAM_LOCKOUT_OK, &m,
						    NULL), 0);
	}
	/* Each again: a replay, per device. */
	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(iam_state_read(cfg->state_dir, UID1, 0, &st), 0);
		cr_expect_eq(iam_mfa_verify(&u, pass == 0 ? c1 : c2, now, 1,
					    &st, &m), -EALREADY);
	}
	cr_expect_eq(iam_state_device_step(&st, 0), (uint64_t)now / 30);
	cr_expect_eq(iam_state_device_step(&st, devs[1].tag),
		     (uint64_t)now / 30);

	/* The recovery code passes once, then is a replay. */
	cr_assert_eq(iam_lockout_begin(cfg->state_dir, UID1, 0,
				       &u.password_policy.lockout, now, &t), 0);
	cr_assert_eq(iam_mfa_verify(&u, "ABCD-EFGH-IJKL-MNOP", now, 1,
				    &t.counted, &m), 0);
	cr_expect_eq(m.recovery, 0);
	/* A concurrent use in between makes this one a replay. */
	{
		struct iam_lockout_try t2 = t;

		cr_assert_eq(iam_lockout_settle_mfa(&t2, IAM_LOCKOUT_OK, &m,
						    NULL), 0);
	}
	cr_expect_eq(iam_lockout_settle_mfa(&t, IAM_LOCKOUT_OK, &m, NULL),
		     -EALREADY);
	cr_assert_eq(iam_state_read(cfg->state_dir, UID1, 0, &st), 0);
	cr_expect_eq(iam_state_recovery_used(&st, u.recovery_set), 1u);
	cr_expect_eq(iam_mfa_verify(&u, "abcdefghijklmnop", now, 1, &st, &m),
		     -EALREADY);
	/* Another set (regenerated): the old marks do not apply. */
	cr_expect_eq(iam_state_recovery_used(&st, u.recovery_set + 1), 0u);
	free(h);
}

/*
 * A spent code (iam_creds_spend_recovery()) keeps its place marked '!':
 * it never matches again, the set's tag and the other codes' places
 * stay, and the store reads it back.
 */
Test(mfa, a_spent_recovery_code_never_matches_and_keeps_the_set)
{
	struct iam_auth_user u = { .name = "ann", .uid = UID1 };
	struct iam_creds *c = NULL, *back = NULL;
	struct iam_mfa_match m;
	const char *rc[2];
	char *h0 = NULL, *h1 = NULL, *spent;
	int64_t now = (int64_t)time(NULL);

	cr_assert_eq(iam_recovery_hash("ABCD-EFGH-IJKL-MNOP", &h0), 0);
	cr_assert_eq(iam_recovery_hash("QRST-UVWX-YZ23-4567", &h1), 0);
	cr_assert_geq(asprintf(&spent, "!%s", h0), 0);
	rc[0] = h0;
	rc[1] = h1;
	u.recovery_set = iam_recovery_set_tag(rc, 2);
	rc[0] = spent;
	cr_expect_eq(iam_recovery_set_tag(rc, 2), u.recovery_set,
		     "spending the first code keeps the set's tag");
	u.mfa_secret = S1;
	u.mfa_algorithm = IAM_TOTP_SHA1;
	u.mfa_digits = 6;
	u.mfa_period = 30;
	u.recovery_codes = rc;
	u.n_recovery_codes = 2;
	cr_expect_eq(iam_mfa_verify(&u, "abcd-efgh-ijkl-mnop", now, 1, NULL,
				    &m), -EACCES, "a spent code never matches");
	cr_expect_eq(iam_mfa_verify(&u, "QRST-UVWX-YZ23-4567", now, 1, NULL,
				    &m), 0);
	cr_expect_eq(m.recovery, 1, "the other code keeps its place");
	cr_expect_eq(iam_recovery_left(rc, 2, 0), 1);
	cr_expect_eq(iam_recovery_left(rc, 2, 1u), 1, "spent and marked: once");
	cr_expect_eq(iam_recovery_left(rc, 2, 2u), 0);
	cr_assert_eq(iam_creds_new(UID1, &c), 0);
	cr_assert_eq(iam_creds_set_recovery(c, (char *const *)rc, 2), 0);
	cr_assert_eq(iam_creds_save(cfg, c), 0);
	cr_assert_eq(iam_creds_load(cfg, UID1, &back, NULL), 0);
	cr_assert_eq(back->n_recovery, 2);
	cr_expect_str_eq(back->recovery[0], spent);
	iam_creds_free(c);
	iam_creds_free(back);
	free(spent);
	free(h0);
	free(h1);
}

Test(mfa, an_older_state_file_still_reads)
{
	struct iam_state st;
	char path[300];

	snprintf(path, sizeof(path), "%s/%u", cfg->state_dir, UID1);
	put(path, "IAMSTATE1 2 0 59000000 1700000000 1700000100\n", 0600);
	cr_assert_eq(iam_state_read(cfg->state_dir, UID1, 0, &st), 0);
	cr_expect_eq(st.failures, 2);
	cr_expect_eq(st.last_step, 59000000);
	cr_expect_eq(iam_state_device_step(&st, 0), 59000000);
	cr_expect_eq(st.rc_set, 0);
	put(path, "IAMSTATE1 2 0 59000000 1700000000 1700000100 7\n", 0600);
	cr_expect_eq(iam_state_read(cfg->state_dir, UID1, 0, &st), -EBADMSG,
		     "a set without its marks");
	put(path, "IAMSTATE1 0 0 1 2 3 9 1 0 5\n", 0600);
	cr_expect_eq(iam_state_read(cfg->state_dir, UID1, 0, &st), -EBADMSG,
		     "a device tag 0");
}
