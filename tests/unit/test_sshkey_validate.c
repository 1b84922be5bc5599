/*
 * test_sshkey_validate.c - the SSH key rules of iam-identity(5) that look
 * across users and at the clock (libiam/identity_validate.c), and the
 * shape of one key line as iamctl ssh-key add and keys.db rely on it.
 *
 * One public key opening two accounts, or a key dated in the future so
 * that ssh_key_max_age_days never catches it, is a fault of the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "iam.h"

#define HOST SRC_DIR "/tests/unit/identity-bad/host"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/7ITKabin+ku+cM0XSP2Ixzj9lv83Qri3FU6c/Bg0B"
#define K2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR7hbT8HyHd7FYYXUppQx79sErPOq71j+lK0sMJyEWn"

static struct iam_config *cfg;

static void
setup(void)
{
	cr_assert_eq(iam_config_defaults(&cfg), 0);
}

static void
teardown(void)
{
	cfg = iam_config_free(cfg);
}

TestSuite(sshkey_validate, .init = setup, .fini = teardown);

static bool
has_fault(const struct iam_faults *f, const char *want)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->v[i], want) != NULL)
			return true;
	return false;
}

/*
 * An identity with users ann and bob whose "ssh_keys" arrays are the
 * JSON texts a and b (NULL: none).
 */
static char *
doc(const char *a, const char *b)
{
	char *s = NULL;

	cr_assert(asprintf(&s,
		"{\"account\":{\"id\":\"123456789012\"},"
		"\"groups\":[{\"name\":\"devs\",\"gid\":70101}],"
		"\"users\":["
		"{\"name\":\"ann\",\"uid\":70001,\"primary_group\":\"devs\"%s%s},"
		"{\"name\":\"bob\",\"uid\":70002,\"primary_group\":\"devs\"%s%s}]}",
		a ? ",\"ssh_keys\":" : "", a ? a : "",
		b ? ",\"ssh_keys\":" : "", b ? b : "") > 0);
	return s;
}

/* Parse text: 0 when accepted; otherwise the faults are in f. */
static int
parse(const char *text, struct iam_faults *f)
{
	struct iam_identity *id = NULL;
	int r;

	r = iam_identity_parse(text, strlen(text), cfg, HOST, &id, f);
	if (r < 0)
		cr_assert_null(id, "a refused file yielded an identity");
	iam_identity_free(id);
	return r;
}

static void
expect_fault(const char *text, const char *want)
{
	struct iam_faults f = IAM_FAULTS_INIT;

	cr_expect_lt(parse(text, &f), 0, "accepted: %s", text);
	cr_expect(has_fault(&f, want), "no fault '%s' (%zu faults, first: %s)",
		  want, f.n, f.n ? f.v[0] : "-");
	iam_faults_release(&f);
}

static void
expect_ok(const char *text)
{
	struct iam_faults f = IAM_FAULTS_INIT;

	cr_expect_eq(parse(text, &f), 0, "refused: %s", f.n ? f.v[0] : "?");
	iam_faults_release(&f);
}

Test(sshkey_validate, distinct_keys_of_two_users_are_accepted)
{
	char *t = doc("[{\"id\":\"a\",\"key\":\"" K1 " ann@x\"}]",
		      "[{\"id\":\"b\",\"key\":\"" K2 " bob@x\"}]");

	expect_ok(t);
	free(t);
}

Test(sshkey_validate, one_key_in_two_users_is_refused)
{
	char *t = doc("[{\"id\":\"a\",\"key\":\"" K1 " ann@x\"}]",
		      "[{\"id\":\"b\",\"key\":\"" K1 " bob@x\"}]");

	expect_fault(t, "users[1].ssh_keys[0].key: the same key as "
		     "users[0].ssh_keys[0]");
	free(t);
}

Test(sshkey_validate, an_inactive_copy_is_refused_too)
{
	char *t = doc("[{\"id\":\"a\",\"key\":\"" K1 "\",\"status\":\"Inactive\"}]",
		      "[{\"id\":\"b\",\"key\":\"" K1 "\"}]");

	/* Reactivating either would silently open the other account. */
	expect_fault(t, "users[1].ssh_keys[0].key: the same key as "
		     "users[0].ssh_keys[0]");
	free(t);
}

Test(sshkey_validate, the_same_key_twice_in_one_user_is_refused)
{
	char *t = doc("[{\"id\":\"a\",\"key\":\"" K2 " one\"},"
		      "{\"id\":\"b\",\"key\":\"" K1 "\"},"
		      "{\"id\":\"c\",\"key\":\"" K2 " other comment\"}]", NULL);

	expect_fault(t, "users[0].ssh_keys[2].key: the same key as "
		     "users[0].ssh_keys[0]");
	free(t);
}

Test(sshkey_validate, a_creation_time_in_the_future_is_refused)
{
	char *t = doc("[{\"id\":\"a\",\"key\":\"" K1 "\","
		      "\"created\":\"2199-01-01T00:00:00Z\"}]", NULL);

	expect_fault(t, "users[0].ssh_keys[0].created: 2199-01-01T00:00:00Z "
		     "is in the future");
	free(t);
}

Test(sshkey_validate, a_creation_time_within_a_day_of_the_clock_is_accepted)
{
	char when[32], keys[512];
	char *t;

	/* Clocks of the admin's machine and the host may differ a little. */
	cr_assert_eq(iam_format_time((int64_t)time(NULL) + 3600, when,
				     sizeof(when)), 0);
	snprintf(keys, sizeof(keys), "[{\"id\":\"a\",\"key\":\"" K1 "\","
		 "\"created\":\"%s\"}]", when);
	t = doc(keys, NULL);
	expect_ok(t);
	free(t);
}

Test(sshkey_validate, key_lines)
{
	static const struct {
		const char *line;
		const char *why;	/* NULL: valid */
	} v[] = {
		{ K1, NULL },
		{ K1 " a comment with spaces", NULL },
		{ "no-pty " K1, "unknown key type" },
		{ "command=\"/bin/sh\" " K1, "options" },
		{ "environment=\"LD_PRELOAD=/tmp/x\"," K1, "options" },
		{ " " K1, "unknown key type" },
		{ K1 "\n" K2, "one line" },
		{ K1 " comment\r", "one line" },
		{ K1 " bell\a", "control character" },
		{ "ssh-ed25519", "missing" },
		{ "ssh-ed25519 AAAA", "stated type" },
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/7ITKabin+ku+cM0XSP2Ixzj9lv83Qri3FU6c/Bg0", "base64" },
		{ "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIL/7ITKabin+ku+cM0XSP2Ixzj9lv83Qri3FU6c/Bg0B", "stated type" },
		{ "", "unknown key type" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *why = NULL;
		bool ok = iam_ssh_key_valid(v[i].line, &why);

		if (v[i].why == NULL) {
			cr_expect(ok, "refused #%zu: %s", i, why);
			continue;
		}
		cr_expect_not(ok, "accepted #%zu", i);
		cr_expect(why != NULL && strstr(why, v[i].why) != NULL,
			  "#%zu: '%s', wanted '%s'", i, why, v[i].why);
	}
}
