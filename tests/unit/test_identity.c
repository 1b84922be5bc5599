/*
 * test_identity.c - the identity file loader and validator
 * (libiam/identity*.c, iam-identity(5)).
 *
 * Every bad file must be refused with a fault naming the JSON path of the
 * problem, and a refused file must never yield an identity.  The host's
 * own accounts come from tests/unit/identity-bad/host/etc/{passwd,group,
 * subuid,subgid}.
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
#include "fixtures.h"
#include "identity_int.h"

#define DATA SRC_DIR "/tests/unit/identity-bad"
#define HOST DATA "/host"
#define EXAMPLE SRC_DIR "/etc/identity.example.json"

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

TestSuite(identity, .init = setup, .fini = teardown);

/* A sentinel: a refused file must leave *ret_id untouched. */
static struct iam_identity untouched;

static bool
has_fault(const struct iam_faults *f, const char *want)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->v[i], want) != NULL)
			return true;
	return false;
}

static char *
all_faults(const struct iam_faults *f)
{
	struct iam_buf b = IAM_BUF_INIT;

	for (size_t i = 0; i < f->n; i++)
		iam_buf_addf(&b, "  %s\n", f->v[i]);
	return iam_buf_detach(&b, NULL);
}

/* Parse text; assert it is refused with a fault containing want. */
static void
expect_refused(const char *label, const char *text, size_t len,
	       const char *want)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	int r = iam_identity_parse(text, len, cfg, HOST, &id, &f);
	char *got = all_faults(&f);

	cr_expect_eq(r, -EINVAL, "%s: returned %d, faults:\n%s", label, r, got);
	cr_expect_eq(id, &untouched, "%s: an identity was handed back", label);
	cr_expect(has_fault(&f, want), "%s: no fault with \"%s\"; got:\n%s",
		  label, want, got);
	free(got);
	iam_faults_release(&f);
}

static struct iam_identity *
load_ok(const char *path)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	int r = iam_identity_load(path, false, cfg, HOST, &id, &f);
	char *got = all_faults(&f);

	cr_assert_eq(r, 0, "%s: returned %d, faults:\n%s", path, r, got);
	cr_assert_eq(f.n, 0);
	cr_assert_not_null(id);
	free(got);
	iam_faults_release(&f);
	return id;
}

/* ---- The example --------------------------------------------------------- */

Test(identity, example_loads_with_zero_faults)
{
	struct iam_identity *id = load_ok(EXAMPLE);
	const struct iam_user *alice, *bob;
	const struct iam_group *g;

	cr_expect_str_eq(id->account.id, "123456789012");
	cr_expect_str_eq(id->account.alias, "acme-prod");
	cr_expect_eq(id->n_users, 4);
	cr_expect_eq(id->n_groups, 3);
	cr_expect_eq(id->n_roles, 1);
	cr_expect_eq(id->n_policies, 6);
	cr_expect_eq(id->password_policy.minimum_length, 14);
	cr_expect_eq(id->password_policy.lockout.max_failed_attempts, 5);
	cr_expect_eq(id->n_retired, 1);

	alice = iam_identity_user(id, "alice");
	cr_assert_not_null(alice);
	cr_expect_eq(alice, iam_identity_user_by_uid(id, 70001));
	cr_expect_eq(alice->gid, 70101, "gid resolved from primary_group");
	cr_expect_eq(alice->n_groups, 2);
	cr_expect_eq(alice->n_inline, 1);
	cr_expect_not_null(alice->inline_policies[0].compiled);
	cr_expect_str_eq(alice->permissions_boundary, "DeveloperBoundary");
	cr_expect_eq(alice->tags.n, 2);
	cr_expect_eq(alice->mfa.algorithm, IAM_TOTP_SHA1);
	cr_expect_str_eq(alice->mfa.secret, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
	cr_expect_eq(alice->n_ssh_keys, 1);
	cr_expect(alice->ssh_keys[0].active);
	cr_expect_eq(alice->created, 1788253200);	/* 2026-09-01T09:00:00Z */

	bob = iam_identity_user(id, "bob");
	cr_assert_not_null(bob);
	cr_expect_str_eq(bob->home, "/home/bob", "home defaults to /home/NAME");
	cr_expect_str_eq(bob->shell, "/bin/bash", "shell defaults to bash");
	cr_expect_null(bob->mfa.secret, "bob has no MFA device");
	cr_expect_not_null(bob->password.hash);
	cr_expect_not(bob->disabled);
	cr_expect(iam_identity_user(id, "dave")->disabled);
	cr_expect_str_eq(iam_identity_user(id, "dave")->gecos,
			 "Dave Former-Contractor");
	cr_expect_eq(iam_identity_user(id, "carol")->mfa.digits, 8);
	cr_expect_eq(iam_identity_user(id, "carol")->mfa.algorithm,
		     IAM_TOTP_SHA256);
	cr_expect_not(iam_identity_user(id, "carol")->ssh_keys[0].active);

	g = iam_identity_group(id, "operators");
	cr_assert_not_null(g);
	cr_expect_eq(g, iam_identity_group_by_gid(id, 70103));
	cr_expect_not_null(iam_identity_role(id, "deployer"));
	cr_expect_not_null(iam_identity_role(id, "deployer")->trust_policy.compiled);
	cr_expect_not_null(iam_identity_policy(id, "DevSudo")->compiled);

	cr_expect_null(iam_identity_user(id, "mallory"));
	cr_expect_null(iam_identity_user(id, ""));
	cr_expect_null(iam_identity_user_by_uid(id, 0));
	cr_expect_null(iam_identity_user_by_uid(id, 70099));
	cr_expect_null(iam_identity_group(id, "alice"));
	cr_expect_null(iam_identity_policy(id, "Nope"));
	iam_identity_free(id);
}

Test(identity, credentials_are_owned_and_replaceable)
{
	struct iam_identity *id = load_ok(EXAMPLE);
	struct iam_user *u = &id->users[0];

	/* The credentials store replaces them: they must be malloc'd. */
	u->password.hash = iam_drop_string(u->password.hash);
	u->password.hash = strdup("$6$abc$" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	u->mfa.secret = iam_drop_string(u->mfa.secret);
	u->password.history = calloc(2, sizeof(char *));
	u->password.history[0] = strdup("$y$old");
	u->password.history[1] = strdup("$y$older");
	u->password.n_history = 2;
	cr_expect_null(iam_identity_free(id));
	cr_expect_null(iam_identity_free(NULL));
}

Test(identity, round_trip_gives_the_same_model)
{
	struct iam_identity *a = load_ok(EXAMPLE), *b = NULL;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_buf out = IAM_BUF_INIT, out2 = IAM_BUF_INIT;

	/* Credentials merged from the store are not written back. */
	a->users[0].password.hash = iam_drop_string(a->users[0].password.hash);
	a->users[0].password.hash = strdup("$y$j9T$store$override");
	cr_assert_eq(iam_identity_write(a, &out), 0);
	cr_expect_null(strstr(out.buf, "store$override"));
	cr_assert_eq(iam_identity_parse(out.buf, out.len, cfg, HOST, &b, &f), 0,
		     "rewritten file refused:\n%s", all_faults(&f));
	cr_assert_eq(b->n_users, a->n_users);
	for (size_t i = 0; i < a->n_users; i++) {
		const struct iam_user *x = &a->users[i], *y = &b->users[i];

		cr_expect_str_eq(x->name, y->name);
		cr_expect_eq(x->uid, y->uid);
		cr_expect_eq(x->gid, y->gid);
		cr_expect_str_eq(x->gecos, y->gecos);
		cr_expect_str_eq(x->home, y->home);
		cr_expect_str_eq(x->shell, y->shell);
		cr_expect_eq(x->created, y->created);
		cr_expect_eq(x->n_groups, y->n_groups);
		for (size_t j = 0; j < x->n_groups; j++)
			cr_expect_str_eq(x->groups[j], y->groups[j]);
		cr_expect_eq(x->n_policies, y->n_policies);
		cr_expect_eq(x->n_inline, y->n_inline);
		cr_expect_eq(x->tags.n, y->tags.n);
		for (size_t j = 0; j < x->tags.n; j++) {
			cr_expect_str_eq(x->tags.v[j].key, y->tags.v[j].key);
			cr_expect_str_eq(x->tags.v[j].value, y->tags.v[j].value);
		}
		cr_expect_eq(x->n_ssh_keys, y->n_ssh_keys);
		for (size_t j = 0; j < x->n_ssh_keys; j++) {
			cr_expect_str_eq(x->ssh_keys[j].key, y->ssh_keys[j].key);
			cr_expect_eq(x->ssh_keys[j].active, y->ssh_keys[j].active);
			cr_expect_eq(x->ssh_keys[j].created,
				     y->ssh_keys[j].created);
		}
		cr_expect_eq(x->disabled, y->disabled);
		cr_expect_eq(x->mfa.digits, y->mfa.digits);
		cr_expect_eq(x->password.must_change, y->password.must_change);
	}
	/* The file's own initial hash came back, not the store's. */
	cr_expect_str_eq(b->users[0].password.hash,
			 "$y$j9T$HVaMC32.DAF9NYetHa2Ej0$KIdqHcTYbStEIq1oq6b.NCT30QG1NiV/eu1gZXxCOBC");
	cr_expect_eq(b->n_groups, a->n_groups);
	cr_expect_eq(b->n_roles, a->n_roles);
	cr_expect_eq(b->roles[0].max_session_seconds,
		     a->roles[0].max_session_seconds);
	cr_expect_eq(b->n_policies, a->n_policies);
	cr_expect_eq(b->n_retired, a->n_retired);
	cr_expect_eq(memcmp(&a->password_policy, &b->password_policy,
			    sizeof(a->password_policy)), 0);
	/* And writing again is byte for byte stable. */
	cr_assert_eq(iam_identity_write(b, &out2), 0);
	cr_expect_eq(out.len, out2.len);
	cr_expect_str_eq(out.buf, out2.buf);
	iam_buf_wipe(&out);
	iam_buf_wipe(&out2);
	iam_identity_free(a);
	iam_identity_free(b);
}

Test(identity, edited_model_is_reindexed)
{
	struct iam_identity *id = load_ok(EXAMPLE);

	id->users[1].name = iam_identity_strdup(id, "robert");
	id->users[1].primary_group = "operators";
	cr_assert_eq(iam_identity_reindex(id), 0);
	cr_expect_null(iam_identity_user(id, "bob"));
	cr_expect_eq(iam_identity_user(id, "robert"), &id->users[1]);
	cr_expect_eq(id->users[1].gid, 70103);
	iam_identity_free(id);
}

Test(identity, users_are_found_without_their_indexes)
{
	struct iam_identity *id = load_ok(EXAMPLE);

	cr_assert_gt(id->n_users, 1);
	iam_id_drop_user_indexes(id);
	for (size_t i = 0; i < id->n_users; i++) {
		cr_expect_eq(iam_identity_user(id, id->users[i].name),
			     &id->users[i], "%s", id->users[i].name);
		cr_expect_eq(iam_identity_user_by_uid(id, id->users[i].uid),
			     &id->users[i], "%u", id->users[i].uid);
	}
	cr_expect_null(iam_identity_user(id, "nobody-here"));
	cr_expect_null(iam_identity_user_by_uid(id, 4000000000u));
	/* groups keep theirs, and reindexing brings the users' back */
	cr_expect_not_null(iam_identity_group(id, id->users[0].primary_group));
	cr_assert_eq(iam_identity_reindex(id), 0);
	cr_expect_eq(iam_identity_user(id, id->users[1].name), &id->users[1]);
	iam_identity_free(id);
}

/* ---- Bad files: the table -------------------------------------------------- */

#define ACC "\"account\":{\"id\":\"123456789012\"}"
#define GRP "\"groups\":[{\"name\":\"devs\",\"gid\":70101}]"
#define POLDOC "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":" \
	"\"Allow\",\"Action\":\"host:Login\",\"Resource\":\"*\"}]}"
#define POL "\"policies\":{\"P\":" POLDOC "}"
/* One user: name, uid, then more fields of the user. */
#define USER(name, uid, more) "{" ACC "," GRP "," POL ",\"users\":[{\"name\":" \
	name ",\"uid\":" uid ",\"primary_group\":\"devs\"" more "}]}"
#define U(more) USER("\"ann\"", "70001", more)
/* More top-level members after the defaults. */
#define TOP(more) "{" ACC "," GRP "," POL more "}"
#define KEY_ED25519 "AAAAC3NzaC1lZDI1NTE5AAAAIO+1AR/oTOBKgVLVRHSbGqcaXcVOCDZJTTDOea2v08lk"
#define SSH(key) U(",\"ssh_keys\":[{\"id\":\"k\",\"key\":\"" key "\"}]")
#define TRUST(stmt) TOP(",\"roles\":[{\"name\":\"r\",\"trust_policy\":" \
	"{\"Version\":\"2012-10-17\",\"Statement\":[" stmt "]}}]")

struct bad {
	const char *label;
	const char *file;	/* in DATA, or NULL */
	const char *text;	/* when no file */
	const char *want;	/* substring of one fault: path and reason */
};

static const struct bad bad[] = {
	/* Syntax and the strict parser */
	{ "truncated JSON", "truncated.json", NULL, "premature end of input" },
	{ "invalid UTF-8", "invalid-utf8.json", NULL, "invalid UTF-8" },
	{ "NUL inside a string", "nul-in-string.json", NULL,
	  "users[0].name: string contains a NUL character" },
	{ "duplicate key", "duplicate-key.json", NULL,
	  "users[0].uid: duplicate key" },
	{ "root is no object", NULL, "[1,2]", "must hold a JSON object" },
	{ "empty file", NULL, "", "premature end of input" },
	{ "trailing garbage", NULL, TOP("") " {}", "line 1" },
	/* ids */
	{ "fractional uid", NULL, USER("\"ann\"", "70001.5", ""),
	  "users[0].uid: 70001.5 is not a whole number" },
	{ "exponent uid", NULL, USER("\"ann\"", "7e4", ""),
	  "users[0].uid: 7e4 is not a whole number" },
	{ "negative uid", NULL, USER("\"ann\"", "-70001", ""),
	  "users[0].uid: -70001 is outside 70000-99999" },
	{ "huge uid", NULL, USER("\"ann\"", "123456789012345678901234567890", ""),
	  "users[0].uid: 123456789012345678901234567890 is outside 70000-99999" },
	{ "string uid", NULL, USER("\"ann\"", "\"70001\"", ""),
	  "users[0].uid: must be a number, not a string \"70001\"" },
	{ "null uid", NULL, USER("\"ann\"", "null", ""),
	  "users[0].uid: must be a number, not null" },
	{ "uid below range", NULL, USER("\"ann\"", "0", ""),
	  "users[0].uid: 0 is outside 70000-99999" },
	{ "uid above range", NULL, USER("\"ann\"", "100000", ""),
	  "users[0].uid: 100000 is outside 70000-99999" },
	{ "gid out of range", NULL, "{" ACC ",\"groups\":[{\"name\":\"devs\","
	  "\"gid\":1000}]}", "groups[0].gid: 1000 is outside 70000-99999" },
	{ "retired uid", NULL, "{" ACC "," GRP ",\"retired_ids\":[70001],"
	  "\"users\":[{\"name\":\"ann\",\"uid\":70001,\"primary_group\":\"devs\"}]}",
	  "users[0].uid: 70001 is a retired id" },
	{ "retired id not a number", NULL, TOP(",\"retired_ids\":[\"x\"]"),
	  "retired_ids[0]: must be a number" },
	/* duplicates */
	{ "duplicate user names", NULL, TOP(",\"users\":["
	  "{\"name\":\"ann\",\"uid\":70001,\"primary_group\":\"devs\"},"
	  "{\"name\":\"ann\",\"uid\":70002,\"primary_group\":\"devs\"}]"),
	  "users[1].name: \"ann\" is also the name of users[0]" },
	{ "duplicate uids", NULL, TOP(",\"users\":["
	  "{\"name\":\"ann\",\"uid\":70001,\"primary_group\":\"devs\"},"
	  "{\"name\":\"ben\",\"uid\":70001,\"primary_group\":\"devs\"}]"),
	  "users[1].uid: 70001 is also the uid of users[0]" },
	{ "duplicate group names", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"devs\",\"gid\":70101},{\"name\":\"devs\",\"gid\":70102}]}",
	  "groups[1].name: \"devs\" is also the name of groups[0]" },
	{ "duplicate gids", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"devs\",\"gid\":70101},{\"name\":\"ops\",\"gid\":70101}]}",
	  "groups[1].gid: 70101 is also the gid of groups[0]" },
	{ "duplicate policy names", NULL, "{" ACC ",\"policies\":{\"P\":" POLDOC
	  ",\"P\":" POLDOC "}}", "policies.P: duplicate key" },
	{ "duplicate role names", NULL, TOP(",\"roles\":["
	  "{\"name\":\"r\",\"trust_policy\":{\"Version\":\"2012-10-17\","
	  "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
	  "\"Principal\":{\"AWS\":\"arn:iam:iam::123456789012:user/ann\"}}]}},"
	  "{\"name\":\"r\",\"trust_policy\":{\"Version\":\"2012-10-17\","
	  "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
	  "\"Principal\":{\"AWS\":\"arn:iam:iam::123456789012:user/ann\"}}]}}]"),
	  "roles[1].name: \"r\" is also the name of roles[0]" },
	{ "duplicate ssh key ids", NULL, U(",\"ssh_keys\":["
	  "{\"id\":\"k\",\"key\":\"ssh-ed25519 " KEY_ED25519 "\"},"
	  "{\"id\":\"k\",\"key\":\"ssh-ed25519 " KEY_ED25519 "\"}]"),
	  "users[0].ssh_keys: key id \"k\" is used twice" },
	{ "group listed twice", NULL, U(",\"groups\":[\"devs\",\"devs\"]"),
	  "users[0].groups: \"devs\" is listed twice" },
	/* the host */
	{ "name of a local account", NULL, USER("\"localbob\"", "70001", ""),
	  "users[0].name: \"localbob\" is a local account in " HOST "/etc/passwd" },
	{ "name of a local group", NULL, USER("\"sudo\"", "70001", ""),
	  "users[0].name: \"sudo\" is a local group in " HOST "/etc/group" },
	{ "uid of a local account", NULL, USER("\"ann\"", "70050", ""),
	  "users[0].uid: 70050 is the uid of local account \"localbob\"" },
	{ "group name of a local group", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"localgrp\",\"gid\":70101}]}",
	  "groups[0].name: \"localgrp\" is a local group" },
	{ "gid of a local group", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"devs\",\"gid\":70060}]}",
	  "groups[0].gid: 70060 is the gid of local group \"localgrp\"" },
	{ "uid in a subordinate range", NULL, USER("\"ann\"", "70550", ""),
	  "users[0].uid: 70550 lies in the subordinate id range 70500-70599" },
	{ "gid in a subordinate range", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"devs\",\"gid\":70600}]}",
	  "groups[0].gid: 70600 lies in the subordinate id range 70600-70699" },
	/* names */
	{ "name with ':'", NULL, USER("\"ann:x\"", "70001", ""),
	  "users[0].name: \"ann:x\" is not a valid name" },
	{ "name with '/'", NULL, USER("\"../ann\"", "70001", ""),
	  "users[0].name: \"../ann\" is not a valid name" },
	{ "name with a newline", NULL, USER("\"ann\\nroot::0:0\"", "70001", ""),
	  "users[0].name: \"ann\\nroot::0:0\" is not a valid name" },
	{ "upper-case name", NULL, USER("\"Ann\"", "70001", ""),
	  "users[0].name: \"Ann\" is not a valid name" },
	{ "name of 33 characters", NULL,
	  USER("\"abcdefghijabcdefghijabcdefghijabc\"", "70001", ""),
	  "users[0].name: \"abcdefghijabcdefghijabcdefghijabc\" is not a valid" },
	{ "name starting with a digit", NULL, USER("\"1ann\"", "70001", ""),
	  "users[0].name: \"1ann\" is not a valid name" },
	{ "group name with space", NULL, "{" ACC ",\"groups\":["
	  "{\"name\":\"dev ops\",\"gid\":70101}]}",
	  "groups[0].name: \"dev ops\" is not a valid name" },
	{ "bad role name", NULL, TOP(",\"roles\":[{\"name\":\"has space\","
	  "\"trust_policy\":{\"Version\":\"2012-10-17\",\"Statement\":[{"
	  "\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":"
	  "{\"AWS\":\"arn:iam:iam::123456789012:user/ann\"}}]}}]"),
	  "roles[0].name: \"has space\" is not a valid role name" },
	/* passwd fields */
	{ "gecos with ':'", NULL, U(",\"gecos\":\"Ann:Smith\""),
	  "users[0].gecos: must not contain ':'" },
	{ "gecos with a newline", NULL, U(",\"gecos\":\"Ann\\nroot\""),
	  "users[0].gecos: must not contain a control character" },
	{ "home with ':'", NULL, U(",\"home\":\"/home/a:b\""),
	  "users[0].home: must not contain ':'" },
	{ "home with a newline", NULL, U(",\"home\":\"/home/ann\\n\""),
	  "users[0].home: must not contain a control character" },
	{ "relative home", NULL, U(",\"home\":\"home/ann\""),
	  "users[0].home: \"home/ann\" is not an absolute path" },
	{ "shell with ':'", NULL, U(",\"shell\":\"/bin/ba:sh\""),
	  "users[0].shell: must not contain ':'" },
	{ "shell with a newline", NULL, U(",\"shell\":\"/bin/sh\\n\""),
	  "users[0].shell: must not contain a control character" },
	{ "relative shell", NULL, U(",\"shell\":\"bash\""),
	  "users[0].shell: \"bash\" is not an absolute path" },
	{ "string over 64 KiB", NULL, NULL, "is over the limit of 65536" },
	/* required fields, unknown keys, types */
	{ "missing name", NULL, TOP(",\"users\":[{\"uid\":70001,"
	  "\"primary_group\":\"devs\"}]"), "users[0].name: required field is missing" },
	{ "missing uid", NULL, TOP(",\"users\":[{\"name\":\"ann\","
	  "\"primary_group\":\"devs\"}]"), "users[0].uid: required field is missing" },
	{ "missing primary_group", NULL, TOP(",\"users\":[{\"name\":\"ann\","
	  "\"uid\":70001}]"), "users[0].primary_group: required field is missing" },
	{ "missing account", NULL, "{" GRP "}", "account: required field is missing" },
	{ "missing gid", NULL, "{" ACC ",\"groups\":[{\"name\":\"devs\"}]}",
	  "groups[0].gid: required field is missing" },
	{ "unknown user key", NULL, U(",\"nmae\":\"x\""), "users[0].nmae: unknown field" },
	{ "unknown top-level key", NULL, TOP(",\"colour\":1"), "colour: unknown field" },
	{ "unknown policy-policy key", NULL,
	  TOP(",\"password_policy\":{\"min_length\":8}"),
	  "password_policy.min_length: unknown field" },
	{ "groups not an array", NULL, U(",\"groups\":\"devs\""),
	  "users[0].groups: must be an array, not a string \"devs\"" },
	{ "disabled not a boolean", NULL, U(",\"disabled\":\"yes\""),
	  "users[0].disabled: must be a boolean, not a string" },
	{ "users not an array", NULL, TOP(",\"users\":{}"),
	  "users: must be an array, not an object" },
	{ "user not an object", NULL, TOP(",\"users\":[42]"),
	  "users[0]: must be an object, not a number" },
	{ "group entry not a string", NULL, U(",\"groups\":[7]"),
	  "users[0].groups[0]: must be a string, not a number" },
	/* references */
	{ "primary group not defined", NULL, "{" ACC ",\"users\":[{\"name\":"
	  "\"ann\",\"uid\":70001,\"primary_group\":\"ghosts\"}]}",
	  "users[0].primary_group: no group named \"ghosts\"" },
	{ "supplementary group not defined", NULL, U(",\"groups\":[\"ghosts\"]"),
	  "users[0].groups[0]: no group named \"ghosts\"" },
	{ "user policy not defined", NULL, U(",\"policies\":[\"Nope\"]"),
	  "users[0].policies[0]: no policy named \"Nope\"" },
	{ "boundary not defined", NULL, U(",\"permissions_boundary\":\"Nope\""),
	  "users[0].permissions_boundary: no policy named \"Nope\"" },
	{ "group policy not defined", NULL, "{" ACC ",\"groups\":[{\"name\":"
	  "\"devs\",\"gid\":70101,\"policies\":[\"Nope\"]}]}",
	  "groups[0].policies[0]: no policy named \"Nope\"" },
	{ "role policy not defined", NULL, TOP(",\"roles\":[{\"name\":\"r\","
	  "\"policies\":[\"Nope\"],\"trust_policy\":{\"Version\":\"2012-10-17\","
	  "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
	  "\"Principal\":{\"AWS\":\"arn:iam:iam::123456789012:user/ann\"}}]}}]"),
	  "roles[0].policies[0]: no policy named \"Nope\"" },
	/* credentials */
	{ "md5crypt hash", NULL,
	  U(",\"password\":{\"hash\":\"$1$abcdefgh$0123456789abcdefghijkl\"}"),
	  "users[0].password.hash: not a yescrypt" },
	{ "truncated yescrypt hash", NULL,
	  U(",\"password\":{\"hash\":\"$y$j9T$HVaMC32.DAF9NYetHa2Ej0$KIdq\"}"),
	  "users[0].password.hash: not a yescrypt" },
	{ "locked hash", NULL, U(",\"password\":{\"hash\":\"!\"}"),
	  "users[0].password.hash: not a yescrypt" },
	{ "plain-text password", NULL, U(",\"password\":{\"hash\":\"hunter2\"}"),
	  "users[0].password.hash: not a yescrypt" },
	{ "bcrypt cost 99", NULL, U(",\"password\":{\"hash\":"
	  "\"$2b$99$spYF.X8gd3Kw1Yhfa0gf0uj9x7i9cSHTe5dUVVvmYGET5n1aw2G.6\"}"),
	  "users[0].password.hash: not a yescrypt" },
	{ "bad changed time", NULL, U(",\"password\":{\"hash\":"
	  "\"$2b$12$spYF.X8gd3Kw1Yhfa0gf0uj9x7i9cSHTe5dUVVvmYGET5n1aw2G.6\","
	  "\"changed\":\"yesterday\"}"),
	  "users[0].password.changed: \"yesterday\" is not an ISO 8601 time" },
	{ "base32 with '1'", NULL,
	  U(",\"mfa\":{\"secret\":\"JBSWY3DPEHPK3PXP1BSWY3DPEHPK3PXP\"}"),
	  "users[0].mfa.secret: is not base32" },
	{ "lower-case base32", NULL,
	  U(",\"mfa\":{\"secret\":\"jbswy3dpehpk3pxpjbswy3dpehpk3pxp\"}"),
	  "users[0].mfa.secret: is not base32" },
	{ "base32 of 80 bits", NULL, U(",\"mfa\":{\"secret\":\"JBSWY3DPEHPK3PXP\"}"),
	  "users[0].mfa.secret: is shorter than 128 bits" },
	{ "base32 padding inside", NULL,
	  U(",\"mfa\":{\"secret\":\"JBSWY3DP=HPK3PXPJBSWY3DPEHPK3PXP\"}"),
	  "users[0].mfa.secret: is not base32" },
	{ "missing secret", NULL, U(",\"mfa\":{\"type\":\"totp\"}"),
	  "users[0].mfa.secret: required field is missing" },
	{ "mfa algorithm MD5", NULL, U(",\"mfa\":{\"secret\":"
	  "\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\",\"algorithm\":\"MD5\"}"),
	  "users[0].mfa.algorithm: \"MD5\" must be SHA1, SHA256 or SHA512" },
	{ "mfa digits 9", NULL, U(",\"mfa\":{\"secret\":"
	  "\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\",\"digits\":9}"),
	  "users[0].mfa.digits: 9 is outside 6-8" },
	{ "mfa period 5", NULL, U(",\"mfa\":{\"secret\":"
	  "\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\",\"period\":5}"),
	  "users[0].mfa.period: 5 is outside 15-300" },
	{ "mfa type hotp", NULL, U(",\"mfa\":{\"secret\":"
	  "\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\",\"type\":\"hotp\"}"),
	  "users[0].mfa.type: \"hotp\" is not a known device type" },
	/* ssh keys */
	{ "ssh key with options", NULL,
	  SSH("command=\\\"/bin/sh\\\" ssh-ed25519 " KEY_ED25519),
	  "users[0].ssh_keys[0].key: options (such as command=" },
	{ "ssh key of unknown type", NULL, SSH("ssh-dss " KEY_ED25519),
	  "users[0].ssh_keys[0].key: unknown key type" },
	{ "ssh key bad base64", NULL, SSH("ssh-ed25519 AAAA$$$$"),
	  "users[0].ssh_keys[0].key: the key data is not valid base64" },
	{ "ssh key type mismatch", NULL, SSH("ssh-rsa " KEY_ED25519),
	  "users[0].ssh_keys[0].key: the key data does not hold a key of the stated type" },
	{ "ssh key with newline", NULL,
	  SSH("ssh-ed25519 " KEY_ED25519 " a\\nssh-ed25519 " KEY_ED25519),
	  "users[0].ssh_keys[0].key: must be one line" },
	{ "ssh key without data", NULL, SSH("ssh-ed25519"),
	  "users[0].ssh_keys[0].key: the base64 key data is missing" },
	{ "ssh key bad status", NULL, U(",\"ssh_keys\":[{\"id\":\"k\",\"key\":"
	  "\"ssh-ed25519 " KEY_ED25519 "\",\"status\":\"Enabled\"}]"),
	  "users[0].ssh_keys[0].status: \"Enabled\" must be Active or Inactive" },
	{ "ssh key missing id", NULL, U(",\"ssh_keys\":[{\"key\":"
	  "\"ssh-ed25519 " KEY_ED25519 "\"}]"),
	  "users[0].ssh_keys[0].id: required field is missing" },
	/* policies */
	{ "invalid policy document", NULL, "{" ACC ",\"policies\":{\"Bad\":"
	  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Permit\","
	  "\"Action\":\"host:Login\",\"Resource\":\"*\"}]}}}",
	  "policies.Bad.Statement[0].Effect" },
	{ "policy not an object", NULL, "{" ACC ",\"policies\":{\"Bad\":[]}}",
	  "policies.Bad: a policy document must be an object" },
	{ "invalid inline policy", NULL, U(",\"inline_policies\":{\"Mine\":"
	  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"}]}}"),
	  "users[0].inline_policies.Mine.Statement[0]" },
	{ "bad policy name", NULL, "{" ACC ",\"policies\":{\"has space\":" POLDOC "}}",
	  "policies.has space: \"has space\" is not a valid policy name" },
	{ "trust policy without Principal", NULL,
	  TRUST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}"),
	  "roles[0].trust_policy.Statement[0]" },
	{ "role without trust policy", NULL, TOP(",\"roles\":[{\"name\":\"r\"}]"),
	  "roles[0].trust_policy: required field is missing" },
	{ "role session too short", NULL, TOP(",\"roles\":[{\"name\":\"r\","
	  "\"max_session_seconds\":100,\"trust_policy\":{\"Version\":\"2012-10-17\","
	  "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
	  "\"Principal\":{\"AWS\":\"arn:iam:iam::123456789012:user/ann\"}}]}}]"),
	  "roles[0].max_session_seconds: 100 is outside 900-43200" },
	/* account, password policy, times, tags */
	{ "account id of 5 digits", NULL, "{\"account\":{\"id\":\"12345\"}}",
	  "account.id: \"12345\" is not a 12-digit account id" },
	{ "account id as number", NULL, "{\"account\":{\"id\":123456789012}}",
	  "account.id: must be a string, not a number 123456789012" },
	{ "bad alias", NULL, "{\"account\":{\"id\":\"123456789012\","
	  "\"alias\":\"-Bad\"}}", "account.alias: \"-Bad\" is not a valid alias" },
	{ "minimum_length 5", NULL, TOP(",\"password_policy\":{\"minimum_length\":5}"),
	  "password_policy.minimum_length: 5 is outside 6-128" },
	{ "max_age_days 2000", NULL, TOP(",\"password_policy\":{\"max_age_days\":2000}"),
	  "password_policy.max_age_days: 2000 is outside 1-1095" },
	{ "reuse_prevention 25", NULL,
	  TOP(",\"password_policy\":{\"reuse_prevention\":25}"),
	  "password_policy.reuse_prevention: 25 is outside 1-24" },
	{ "lockout attempts 1001", NULL, TOP(",\"password_policy\":{\"lockout\":"
	  "{\"max_failed_attempts\":1001}}"),
	  "password_policy.lockout.max_failed_attempts: 1001 is outside" },
	{ "lockout a number", NULL, TOP(",\"password_policy\":{\"lockout\":5}"),
	  "password_policy.lockout: must be an object, not a number 5" },
	{ "lockout seconds 0", NULL, TOP(",\"password_policy\":{\"lockout\":"
	  "{\"lockout_seconds\":0}}"),
	  "password_policy.lockout.lockout_seconds: 0 is outside" },
	{ "created not ISO 8601", NULL, U(",\"created\":\"01/09/2026\""),
	  "users[0].created: \"01/09/2026\" is not an ISO 8601 time" },
	{ "created Feb 30", NULL, U(",\"created\":\"2026-02-30T00:00:00Z\""),
	  "users[0].created: \"2026-02-30T00:00:00Z\" is not an ISO 8601 time" },
	{ "tag key of 129 characters", NULL, U(",\"tags\":{\""
	  "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	  "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghi"
	  "\":\"x\"}"), "users[0].tags.abcdefghij" },
	{ "tag value not a string", NULL, U(",\"tags\":{\"Team\":7}"),
	  "users[0].tags.Team: must be a string, not a number" },
	{ "tag keys differing in case", NULL,
	  U(",\"tags\":{\"Team\":\"a\",\"team\":\"b\"}"),
	  "users[0].tags: tag key \"team\" is given twice" },
	{ "reserved tag key", NULL, U(",\"tags\":{\"aws:x\":\"a\"}"),
	  "users[0].tags.aws:x: tag keys starting with aws: are reserved" },
	/* times: the first of a file empty, and one after a bad one */
	{ "empty created", NULL, U(",\"created\":\"\""),
	  "users[0].created: \"\" is not an ISO 8601 time" },
	{ "empty password change time", NULL,
	  U(",\"password\":{\"changed\":\"\"}"),
	  "users[0].password.changed: \"\" is not an ISO 8601 time" },
	{ "empty time after a bad one", NULL,
	  "{" ACC "," GRP ",\"users\":[{\"name\":\"a\",\"uid\":70001,"
	  "\"primary_group\":\"devs\",\"created\":\"bogus\"},{\"name\":"
	  "\"b\",\"uid\":70002,\"primary_group\":\"devs\",\"created\":\"\"}]}",
	  "users[1].created: \"\" is not an ISO 8601 time" },
	{ "a tag key beyond ASCII seen before, too long in characters", NULL,
	  "{" ACC "," GRP ",\"users\":[{\"name\":\"a\",\"uid\":70001,"
	  "\"primary_group\":\"devs\",\"tags\":{\"\u00e9\":\"1\"}},{\"name\":"
	  "\"b\",\"uid\":70002,\"primary_group\":\"devs\",\"tags\":{\"\u00e9\":"
	  "\"1\",\"aws:q\":\"2\"}}]}",
	  "users[1].tags.aws:q: tag keys starting with aws: are reserved" },
};

static char *
read_data(const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", DATA, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Every field a model without sources keeps of a user. */
static void
expect_same_user(const char *label, const struct iam_user *a,
		 const struct iam_user *b)
{
	cr_expect(same_str(a->name, b->name), "%s", label);
	cr_expect_eq(a->uid, b->uid, "%s", label);
	cr_expect(same_str(a->primary_group, b->primary_group), "%s", label);
	cr_expect(same_str(a->gecos, b->gecos), "%s", label);
	cr_expect(same_str(a->home, b->home), "%s", label);
	cr_expect(same_str(a->shell, b->shell), "%s", label);
	cr_expect_eq(a->created, b->created, "%s", label);
	cr_assert_eq(a->n_groups, b->n_groups, "%s", label);
	for (size_t i = 0; i < a->n_groups; i++)
		cr_expect(same_str(a->groups[i], b->groups[i]), "%s", label);
	cr_assert_eq(a->n_policies, b->n_policies, "%s", label);
	for (size_t i = 0; i < a->n_policies; i++)
		cr_expect(same_str(a->policies[i], b->policies[i]), "%s",
			  label);
	cr_expect(same_str(a->permissions_boundary, b->permissions_boundary),
		  "%s", label);
	cr_assert_eq(a->tags.n, b->tags.n, "%s", label);
	for (size_t i = 0; i < a->tags.n; i++) {
		cr_expect(same_str(a->tags.v[i].key, b->tags.v[i].key));
		cr_expect(same_str(a->tags.v[i].value, b->tags.v[i].value));
	}
	cr_expect(same_str(a->password.hash, b->password.hash), "%s", label);
	cr_expect_eq(a->password.changed, b->password.changed, "%s", label);
	cr_expect_eq(a->password.must_change, b->password.must_change, "%s",
		     label);
	cr_expect(same_str(a->mfa.secret, b->mfa.secret), "%s", label);
	cr_expect_eq(a->n_ssh_keys, b->n_ssh_keys, "%s", label);
	cr_expect_eq(a->n_inline, b->n_inline, "%s", label);
	cr_expect_eq(a->disabled, b->disabled, "%s", label);
	cr_expect_null(b->file_password, "%s", label);
	cr_expect_null(b->file_mfa, "%s", label);
}

/*
 * text as a publication loads it (consumed, no sources: users read from
 * the parse's events) gives what the whole tree gives: the same answer,
 * fault for fault, and the same users.
 */
static void
expect_same_published(const char *label, const char *text, size_t len)
{
	struct iam_faults fa = IAM_FAULTS_INIT, fb = IAM_FAULTS_INIT;
	struct iam_identity *a = NULL, *b = NULL;
	char *copy = malloc(len + 1);
	int ra, rb;

	cr_assert_not_null(copy);
	memcpy(copy, text, len);
	ra = iam_identity_parse(text, len, cfg, HOST, &a, &fa);
	rb = iam_id_parse(copy, len, cfg, HOST,
			  IAM_ID_CONSUME | IAM_ID_NO_SOURCES, &b, &fb);
	cr_expect_eq(rb, ra, "%s", label);
	cr_assert_eq(fb.n, fa.n, "%s: %s", label, all_faults(&fb));
	for (size_t i = 0; i < fa.n; i++)
		cr_expect_str_eq(fb.v[i], fa.v[i], "%s", label);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(copy[i], 0, "%s: byte %zu not wiped", label, i);
	cr_assert_eq(a == NULL, b == NULL, "%s", label);
	for (size_t i = 0; a != NULL && i < a->n_users; i++)
		expect_same_user(label, &a->users[i], &b->users[i]);
	iam_identity_free(a);
	iam_identity_free(b);
	iam_faults_release(&fa);
	iam_faults_release(&fb);
	free(copy);
}

Test(identity, every_bad_file_is_refused_with_its_path)
{
	size_t distinct = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		size_t len;
		char *text;

		if (b->file != NULL) {
			text = read_data(b->file, &len);
		} else if (b->text == NULL) {
			/* a string one byte over the 64 KiB limit */
			len = 65537;
			text = malloc(len + 256);
			len = (size_t)sprintf(text, "{\"account\":{\"id\":\"1"
					      "23456789012\"},\"users\":[{\""
					      "gecos\":\"");
			memset(text + len, 'a', 65537);
			len += 65537;
			len += (size_t)sprintf(text + len, "\"}]}");
		} else {
			text = strdup(b->text);
			len = strlen(text);
		}
		expect_refused(b->label, text, len, b->want);
		expect_same_published(b->label, text, len);
		free(text);
		distinct++;
	}
	cr_expect_geq(distinct, 40);
}

Test(identity, users_read_from_the_parse_are_the_trees_users)
{
	/* every shape a user may have: some read straight from the parse,
	   the rest (text beyond ASCII, mfa, keys, inline policies) built
	   from their trees; keys in any order; the file past one window */
	static const char *const shapes[] = {
		"",
		",\"gecos\":\"Ann A\",\"home\":\"/srv/ann\",\"shell\":\"/bin/sh\"",
		",\"gecos\":\"\",\"created\":\"2026-01-02T03:04:05Z\"",
		",\"gecos\":\"Ren\u00e9e\"",
		",\"groups\":[],\"policies\":[],\"tags\":{}",
		",\"groups\":[\"devs\"],\"policies\":[\"P\"],"
		"\"permissions_boundary\":\"P\"",
		",\"tags\":{\"Team\":\"core\",\"cost\":\"\",\"A-b\":\"x y\"}",
		",\"password\":{}",
		",\"password\":{\"must_change\":true,\"changed\":"
		"\"2026-10-01T12:00:00Z\",\"hash\":\"$y$j9T$HVaMC32.DAF9NYetHa2Ej0$"
		"KIdqHcTYbStEIq1oq6b.NCT30QG1NiV/eu1gZXxCOBC\"}",
		",\"disabled\":true",
		",\"disabled\":false,\"password\":{\"must_change\":false}",
		",\"mfa\":{\"type\":\"totp\",\"secret\":\"JBSWY3DPEHPK3PXP\"}",
		",\"ssh_keys\":[{\"id\":\"k\",\"key\":\"ssh-ed25519 "
		KEY_ED25519 "\"}]",
		",\"inline_policies\":{\"Own\":" POLDOC "}",
	};
	const size_t n = 9000;
	struct iam_buf t = IAM_BUF_INIT;
	size_t sn = sizeof(shapes) / sizeof(shapes[0]);
	size_t len;
	char *ex = read_data("../../../etc/identity.example.json", &len);

	expect_same_published("example", ex, len);
	free(ex);
	iam_buf_adds(&t, "{" ACC ",\"groups\":[{\"name\":\"devs\",\"gid\":70101},"
		     "{\"name\":\"ops\",\"gid\":70102}]," POL ",\"users\":[");
	for (size_t i = 0; i < n; i++)
		iam_buf_addf(&t, "%s{%s\"name\":\"u%zu\",\"uid\":%zu,"
			     "\"primary_group\":\"%s\"%s%s}", i ? "," : "",
			     i % 3 == 0 ? "\"groups\":[\"ops\",\"devs\"]," : "",
			     i, 70001 + i, i % 2 ? "devs" : "ops",
			     shapes[i % sn],
			     i % 7 == 0 ? ",\"policies\":[\"P\"]" : "");
	iam_buf_adds(&t, "]}");
	cr_assert_gt(t.len, (size_t)1 << 20);
	expect_same_published("users of every shape", t.buf, t.len);
	iam_buf_release(&t);
}

Test(identity, control_row_is_valid)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const char *t = U(",\"ssh_keys\":[{\"id\":\"k\",\"key\":\"ssh-ed25519 "
			  KEY_ED25519 " ann@x\"}]");

	/* The skeleton of the table, with no fault, is accepted. */
	cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	cr_expect_str_eq(id->users[0].home, "/home/ann");
	cr_expect_str_eq(id->users[0].gecos, "");
	iam_identity_free(id);
}

Test(identity, several_faults_in_one_file_are_all_reported)
{
	static const char *const want[] = {
		"account.id: \"12345\" is not a 12-digit account id",
		"password_policy.minimum_length: 3 is outside 6-128",
		"password_policy.lockout.max_failed_attempts: 1001 is outside",
		"users[0].shell: \"bin/sh\" is not an absolute path",
		"users[1].name: \"Ben\" is not a valid name",
		"users[1].uid: 70001.5 is not a whole number",
		"users[1].primary_group: no group named \"nobody-here\"",
		"users[1].password.hash: not a yescrypt",
		"users[1].mfa.secret: is shorter than 128 bits",
		"users[1].colour: unknown field",
		"users[2].name: \"ann\" is also the name of users[0]",
		"users[2].uid: 1000 is outside 70000-99999",
		"users[2].gecos: must not contain ':'",
		"groups[0].policies[0]: no policy named \"Missing\"",
		"policies.Broken.Statement[0].Effect",
	};
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	size_t len;
	char *text = read_data("several-faults.json", &len), *got;

	cr_expect_eq(iam_identity_parse(text, len, cfg, HOST, &id, &f), -EINVAL);
	cr_expect_eq(id, &untouched);
	got = all_faults(&f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(has_fault(&f, want[i]), "missing \"%s\" in:\n%s",
			  want[i], got);
	cr_expect_geq(f.n, sizeof(want) / sizeof(want[0]));
	free(got);
	free(text);
	iam_faults_release(&f);
}

/* ---- Limits, generated ------------------------------------------------------ */

Test(identity, nesting_100000_deep_is_refused)
{
	size_t depth = 100000, len;
	char *text = malloc(2 * depth + 64);

	len = (size_t)sprintf(text, "{\"account\":");
	memset(text + len, '[', depth);
	len += depth;
	memset(text + len, ']', depth);
	len += depth;
	text[len++] = '}';
	expect_refused("100000 deep", text, len, "nesting deeper than 64 levels");
	free(text);
}

Test(identity, string_of_100_mb_is_refused_quickly)
{
	size_t n = 100u << 20, len;
	char *text = malloc(n + 64);
	struct timespec a, b;
	double ms;

	len = (size_t)sprintf(text, "{\"account\":{\"id\":\"");
	memset(text + len, 'x', n);
	len += n;
	len += (size_t)sprintf(text + len, "\"}}");
	cfg->identity_max_bytes = 64u << 20;
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect_refused("100 MB string", text, len,
		       "is over the limit of 67108864 "
		       "(identity_max_bytes in iam.conf)");
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
	     (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_expect_lt(ms, 50.0, "took %.1f ms", ms);
	free(text);
}

Test(identity, file_over_the_size_limit_is_not_read_whole)
{
	char path[] = "/tmp/iam-id-big.XXXXXX";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	/* sparse: 100 MB that costs nothing to create */
	cr_assert_eq(ftruncate(fd, 100 << 20), 0);
	close(fd);
	cfg->identity_max_bytes = 64u << 20;
	cr_expect_eq(iam_identity_load(path, false, cfg, HOST, &id, &f), -EFBIG);
	cr_expect_eq(id, &untouched);
	cr_expect(has_fault(&f, "is over the size limit of 67108864 bytes "
			    "(identity_max_bytes in iam.conf)"),
		  "%s", all_faults(&f));
	unlink(path);
	iam_faults_release(&f);
}

/* "KEY":[{},{},...] with n empty objects, in an identity file. */
static char *
many_entries(const char *key, size_t n, size_t *ret_len)
{
	char *text = malloc(3 * n + 128);
	size_t len;

	len = (size_t)sprintf(text, "{\"account\":{\"id\":\"123456789012\"},"
			      "\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		memcpy(text + len, i ? ",{}" : "{}", i ? 3 : 2);
		len += i ? 3 : 2;
	}
	len += (size_t)sprintf(text + len, "]}");
	*ret_len = len;
	return text;
}

Test(identity, too_many_users_is_refused)
{
	size_t len;
	char *text = many_entries("users", IAM_ID_MAX_USERS + 1, &len);

	expect_refused("2000001 users", text, len,
		       "users: 2000001 entries are over the limit of 2000000 "
		       "(identity_max_users in iam.conf)");
	free(text);
}

Test(identity, user_and_group_caps_are_settings)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	size_t len;
	char *text;

	cfg->identity_max_users = 10;
	text = many_entries("users", 11, &len);
	expect_refused("11 users", text, len, "users: 11 entries are over the "
		       "limit of 10 (identity_max_users in iam.conf)");
	free(text);
	cfg->identity_max_groups = 3;
	text = many_entries("groups", 4, &len);
	expect_refused("4 groups", text, len, "groups: 4 entries are over the "
		       "limit of 3 (identity_max_groups in iam.conf)");
	free(text);
	/* At the cap: no fault about the count (only about the empty
	   entries themselves). */
	text = many_entries("groups", 3, &len);
	cr_expect_eq(iam_identity_parse(text, len, cfg, HOST, &id, &f), -EINVAL);
	cr_expect_not(has_fault(&f, "over the limit"), "%s", all_faults(&f));
	cr_expect(has_fault(&f, "groups[2].name: required field is missing"),
		  "%s", all_faults(&f));
	free(text);
	iam_faults_release(&f);
	/* A file over identity_max_bytes, by one byte. */
	cfg->identity_max_bytes = 1024;
	text = many_entries("roles", 400, &len);
	cr_assert_gt(len, 1024);
	expect_refused("a file of 1 KiB and more", text, len,
		       "over the limit of 1024 (identity_max_bytes in "
		       "iam.conf)");
	free(text);
}

Test(identity, too_many_groups_of_a_user_is_refused)
{
	struct iam_buf b = IAM_BUF_INIT;

	iam_buf_adds(&b, "{" ACC "," GRP ",\"users\":[{\"name\":\"ann\","
		     "\"uid\":70001,\"primary_group\":\"devs\",\"groups\":[");
	for (int i = 0; i <= IAM_ID_MAX_PER_USER; i++)
		iam_buf_addf(&b, "%s\"g%d\"", i ? "," : "", i);
	iam_buf_adds(&b, "]}]}");
	expect_refused("1001 groups", b.buf, b.len,
		       "users[0].groups: 1001 entries are over the limit of 1000");
	iam_buf_release(&b);
}

/* ---- Files -------------------------------------------------------------------- */

Test(identity, missing_file_is_an_error_naming_it)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;

	cr_expect_eq(iam_identity_load("/nonexistent/identity.json", false, cfg,
				       HOST, &id, &f), -ENOENT);
	cr_expect_eq(id, &untouched);
	cr_expect(has_fault(&f, "/nonexistent/identity.json"));
	iam_faults_release(&f);
}

Test(identity, strict_load_refuses_a_readable_secret)
{
	char dir[] = "/tmp/iam-id-strict.XXXXXX", path[64];
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	size_t len;
	char *text = read_data("../../../etc/identity.example.json", &len);
	FILE *fp;

	FX_NEED_ROOT();
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/identity.json", dir);
	fp = fopen(path, "w");
	fwrite(text, 1, len, fp);
	fclose(fp);
	chmod(path, 0644);
	cr_expect_eq(iam_identity_load(path, true, cfg, HOST, &id, &f), -EPERM);
	cr_expect_eq(id, &untouched);
	cr_expect(has_fault(&f, "readable by group or others"), "%s",
		  all_faults(&f));
	iam_faults_release(&f);
	chmod(path, 0600);
	id = NULL;
	cr_expect_eq(iam_identity_load(path, true, cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	iam_identity_free(id);
	iam_faults_release(&f);
	unlink(path);
	rmdir(dir);
	free(text);
}

Test(identity, unreadable_host_file_fails_closed)
{
	char dir[] = "/tmp/iam-id-host.XXXXXX", p[128];
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	const char *t = U("");

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/etc", dir);
	mkdir(p, 0755);
	/* a folder where /etc/passwd should be: it cannot be read */
	snprintf(p, sizeof(p), "%s/etc/passwd", dir);
	mkdir(p, 0755);
	cr_expect_eq(iam_identity_parse(t, strlen(t), cfg, dir, &id, &f), -EINVAL);
	cr_expect_eq(id, &untouched);
	cr_expect(has_fault(&f, "/etc/passwd: cannot read"), "%s",
		  all_faults(&f));
	rmdir(p);
	snprintf(p, sizeof(p), "%s/etc", dir);
	rmdir(p);
	rmdir(dir);
	iam_faults_release(&f);
}

/* ---- Shapes ------------------------------------------------------------------- */

Test(identity, hash_shapes)
{
	cr_expect(iam_password_hash_valid("$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB"));
	cr_expect(iam_password_hash_valid("$6$pvmn4htoh.wWMtTq$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/"));
	cr_expect(iam_password_hash_valid("$6$rounds=5000$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91"));
	cr_expect(iam_password_hash_valid("$2b$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a"));
	cr_expect(iam_password_hash_valid("$2y$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a"));
	cr_expect_not(iam_password_hash_valid("$2x$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a"));
	cr_expect_not(iam_password_hash_valid("$6$pvmn4htoh.wWMtTq$ILMhIry"));
	cr_expect_not(iam_password_hash_valid("$6$$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/"));
	cr_expect_not(iam_password_hash_valid("$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB:"));
	cr_expect_not(iam_password_hash_valid("$5$salt$hash"));
	cr_expect_not(iam_password_hash_valid("*"));
	cr_expect_not(iam_password_hash_valid(""));
	cr_expect_not(iam_password_hash_valid(NULL));
}

Test(identity, totp_secret_shapes)
{
	const char *why = NULL;

	cr_expect(iam_totp_secret_valid("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", NULL));
	cr_expect(iam_totp_secret_valid("M456R6QL7OERDBKAWLU5GIPUJFD3VKJRPPJ664EGY6EVRXQU5MLA====", NULL));
	cr_expect(iam_totp_secret_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL),
		  "26 characters are 130 bits");
	cr_expect_not(iam_totp_secret_valid("ABCDEFGHIJKLMNOPQRSTUVWXY", &why));
	cr_expect_str_eq(why, "is shorter than 128 bits (26 base32 characters)");
	cr_expect_not(iam_totp_secret_valid("M456R6QL7OERDBKAWLU5GIPUJFD3VKJRPPJ664EGY6EVRXQU5MLA==", &why));
	cr_expect_not(iam_totp_secret_valid("JBSWY3DPEHPK3PXP JBSWY3DPEHPK3PXP", NULL));
	cr_expect_not(iam_totp_secret_valid("", NULL));
}

Test(identity, ssh_key_shapes)
{
	static const char *const good[] = {
		"ssh-ed25519 " KEY_ED25519,
		"ssh-ed25519 " KEY_ED25519 " alice@laptop with spaces",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC2mUaXy10dWUuVacZUIYkB8R7awAQgmySQK1YyEd36KuG3MHaSBUc80P3XSB4GVBs1YnMycGhs5mTv7SZynjmosxr+Uv51hZmqRHYyhh+fbKz+3d6xLDi0fUPTKS4I177g+kbS7zLKRwzpoxo9s+Utb+0PucUAYxTbV2vNTpOgZQv70K/T/sw8xhfPfqw3ByjLNW9TSAipY2d5Kjfmlalbl1uKZKUIUZidJ7Zf7bkHyXedVNfoiYpJeo5+8X9K/0ZPlesR8Pqa7JviMUWhJDungTXgS1lDmkIRqW91ilVj3OVPjLTJgaU173BYhBJy+r9vIRPXWQgXff9z/EYeQ4lZIByHvf6GKyXmdariK+YpZ8iE0pLP8DCcImuq+dk/CBRJCIZPoPDpyebZLvzxi+2FB/LRnPXioDRu9OYm+lwtnu72yqd9yC9FjE65O0PXMEFtIxQufWvI/Uyq9RR4birp5Gira8sMPPa6Wj8zeHJZKxm46RmvDt6zrKIXdPLDb8E= user@rsa",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJUGIDbbaUoYiyDwz6WYRIYsLDmWv+sgIxpd0l17BVPqW1g+K86LsXvv3Udl7vZrDvQnTzaPBiLAO5c4iMCg8kQ= user@ecdsa",
		"ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBS7hNIRPUnReoqDn4vpEg80ckCKRkE7dyqIdecMXyMInHlPh+B5xjVFW3CAswEho+NNoUaLthB+HjTamwSim1QvQmr6wc++hw5dycV/7Z1/WeDICsXdmYDd9jh0DoYq+A== x",
		"ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHtA2yeFaWYzXbdT99gA2vV+fgowtAB/O3NiFCZBgIb1KntydhxT79rIscXWj0heyrtvMHJ/312ABX6sDtUAibxAwAGyhzoIh/M0lEd97XUYcjQpaq5/SVeMrit8kIce3hnwzFjx8WYkP8cJeTckYnNFfsDZ+nzLM0494dcFkQ0598jIA== x",
	};
	static const char *const badk[] = {
		"",
		"ssh-ed25519",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",	/* type only */
		"ssh-ed25519 " KEY_ED25519 "\n",
		"ssh-ed25519\t" KEY_ED25519,
		"from=\"10.0.0.1\" ssh-ed25519 " KEY_ED25519,
		"restrict,command=\"x\" ssh-ed25519 " KEY_ED25519,
		"ssh-ed25519-cert-v01@openssh.com " KEY_ED25519,
		"ecdsa-sha2-nistp384 " KEY_ED25519,
		"ssh-ed25519 " KEY_ED25519 "=",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = "";

		cr_expect(iam_ssh_key_valid(good[i], &why), "good[%zu]: %s", i,
			  why);
	}
	for (size_t i = 0; i < sizeof(badk) / sizeof(badk[0]); i++)
		cr_expect_not(iam_ssh_key_valid(badk[i], NULL), "bad[%zu]", i);
}

/* ---- Scale -------------------------------------------------------------------- */

Test(identity, lookups_over_20000_users)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_buf b = IAM_BUF_INIT;
	size_t n = 20000;

	iam_buf_adds(&b, "{" ACC "," GRP ",\"users\":[");
	/* descending, so the index really has to sort */
	for (size_t i = 0; i < n; i++)
		iam_buf_addf(&b, "%s{\"name\":\"u%05zu\",\"uid\":%zu,"
			     "\"primary_group\":\"devs\"}", i ? "," : "",
			     n - i, 75000 + n - i);
	iam_buf_adds(&b, "]}");
	cr_assert_eq(iam_identity_parse(b.buf, b.len, cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	for (size_t i = 1; i <= n; i++) {
		char name[16];
		const struct iam_user *u;

		snprintf(name, sizeof(name), "u%05zu", i);
		u = iam_identity_user(id, name);
		cr_assert_not_null(u, "%s", name);
		cr_assert_eq(u->uid, 75000 + i);
		cr_assert_eq(iam_identity_user_by_uid(id, (uint32_t)(75000 + i)), u);
	}
	cr_expect_null(iam_identity_user(id, "u00000"));
	iam_identity_free(id);
	iam_buf_release(&b);
}

/* ---- Indexes and member order ------------------------------------------------- */

/* Whether f holds faults containing want[0..n), in that order. */
static bool
faults_in_order(const struct iam_faults *f, const char *const *want, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < f->n && k < n; i++)
		if (strstr(f->v[i], want[k]) != NULL)
			k++;
	return k == n;
}

Test(identity, duplicates_are_told_in_key_order_against_the_one_before)
{
	static const char *const want[] = {
		"users[3].name: \"a\" is also the name of users[1]",
		"users[2].name: \"b\" is also the name of users[0]",
		"users[4].name: \"b\" is also the name of users[2]",
		"users[3].uid: 70001 is also the uid of users[1]",
		"users[4].uid: 70001 is also the uid of users[3]",
		"users[2].uid: 70002 is also the uid of users[0]",
	};
	const char *t = "{" ACC "," GRP ",\"users\":["
		"{\"name\":\"b\",\"uid\":70002,\"primary_group\":\"devs\"},"
		"{\"name\":\"a\",\"uid\":70001,\"primary_group\":\"devs\"},"
		"{\"name\":\"b\",\"uid\":70002,\"primary_group\":\"devs\"},"
		"{\"name\":\"a\",\"uid\":70001,\"primary_group\":\"devs\"},"
		"{\"name\":\"b\",\"uid\":70001,\"primary_group\":\"devs\"}]}";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	char *got;

	cr_expect_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f),
		     -EINVAL);
	cr_expect_eq(id, &untouched);
	got = all_faults(&f);
	cr_expect_eq(f.n, 6, "%s", got);
	cr_expect(faults_in_order(&f, want, sizeof(want) / sizeof(want[0])),
		  "faults out of order:\n%s", got);
	free(got);
	iam_faults_release(&f);
}

Test(identity, lookups_find_the_first_of_each_key_and_nothing_else)
{
	const char *t = "{" ACC ",\"groups\":[{\"name\":\"devs\",\"gid\":70101},"
		"{\"name\":\"ops\",\"gid\":70102}],\"users\":["
		"{\"name\":\"ann\",\"uid\":70001,\"primary_group\":\"ops\"},"
		"{\"name\":\"bob\",\"uid\":70002,\"primary_group\":\"devs\"}]}";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;

	cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	cr_expect_eq(iam_identity_user(id, "bob"), &id->users[1]);
	cr_expect_eq(iam_identity_user_by_uid(id, 70001), &id->users[0]);
	cr_expect_eq(iam_identity_group(id, "ops"), &id->groups[1]);
	cr_expect_eq(iam_identity_group_by_gid(id, 70101), &id->groups[0]);
	cr_expect_eq(id->users[0].gid, 70102);
	cr_expect_eq(id->users[1].gid, 70101);
	cr_expect_null(iam_identity_user(id, "bo"));
	cr_expect_null(iam_identity_user(id, "bobb"));
	cr_expect_null(iam_identity_user(id, ""));
	cr_expect_null(iam_identity_user_by_uid(id, 70003));
	cr_expect_null(iam_identity_group_by_gid(id, 0));
	cr_expect_null(iam_identity_role(id, "r"));
	cr_expect_null(iam_identity_policy(id, "P"));
	/* a user renamed in place is found under the new name only */
	id->users[1].name = "carol";
	cr_assert_eq(iam_identity_reindex(id), 0);
	cr_expect_eq(iam_identity_user(id, "carol"), &id->users[1]);
	cr_expect_null(iam_identity_user(id, "bob"));
	iam_identity_free(id);
	iam_faults_release(&f);
}

Test(identity, members_in_any_order_are_all_read)
{
	/* a user's fields backwards, with an unknown one in between */
	const char *t = "{\"users\":[{\"disabled\":true,\"tags\":{\"Team\":\"x\"},"
		"\"shell\":\"/bin/sh\",\"home\":\"/srv/ann\",\"gecos\":\"Ann\","
		"\"primary_group\":\"devs\",\"uid\":70001,\"name\":\"ann\"}],"
		GRP "," ACC "}";
	const char *unknown = "{" ACC "," GRP ",\"users\":[{\"uid\":70001,"
		"\"colour\":\"red\",\"name\":\"ann\",\"primary_group\":\"devs\"}]}";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const struct iam_user *u;

	cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	u = iam_identity_user(id, "ann");
	cr_assert_not_null(u);
	cr_expect_eq(u->uid, 70001);
	cr_expect(u->disabled);
	cr_expect_str_eq(u->shell, "/bin/sh");
	cr_expect_str_eq(u->home, "/srv/ann");
	cr_expect_str_eq(u->gecos, "Ann");
	cr_expect_eq(u->tags.n, 1);
	cr_expect_eq(u->gid, 70101);
	iam_identity_free(id);
	expect_refused("unknown field amid known ones", unknown, strlen(unknown),
		       "users[0].colour: unknown field");
	iam_faults_release(&f);
}

/* No lockout means 5 failures, 900 s; null or 0 attempts turn it off. */
Test(identity, lockout_is_on_unless_turned_off)
{
	static const struct {
		const char *text;
		uint32_t max, seconds;
	} cases[] = {
		{ TOP(""), 5, 900 },
		{ TOP(",\"password_policy\":{}"), 5, 900 },
		{ TOP(",\"password_policy\":{\"lockout\":{}}"), 5, 900 },
		{ TOP(",\"password_policy\":{\"lockout\":null}"), 0, 900 },
		{ TOP(",\"password_policy\":{\"lockout\":"
		      "{\"max_failed_attempts\":0}}"), 0, 900 },
		{ TOP(",\"password_policy\":{\"lockout\":"
		      "{\"max_failed_attempts\":3,\"lockout_seconds\":60}}"),
		  3, 60 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iam_faults f = IAM_FAULTS_INIT;
		struct iam_identity *id = NULL;
		const char *t = cases[i].text;

		cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id,
						&f), 0, "%s: %s", t,
			     all_faults(&f));
		cr_expect_eq(id->password_policy.lockout.max_failed_attempts,
			     cases[i].max, "%s", t);
		cr_expect_eq(id->password_policy.lockout.lockout_seconds,
			     cases[i].seconds, "%s", t);
		/* Written back, it stays as it was (off is written null). */
		{
			struct iam_buf b = IAM_BUF_INIT;
			struct iam_identity *again = NULL;

			cr_assert_eq(iam_identity_write(id, &b), 0);
			cr_assert_eq(iam_identity_parse(b.buf, b.len, cfg, HOST,
							&again, &f), 0, "%s",
				     b.buf);
			cr_expect_eq(again->password_policy.lockout
				     .max_failed_attempts, cases[i].max, "%s",
				     b.buf);
			iam_identity_free(again);
			iam_buf_release(&b);
		}
		iam_identity_free(id);
		iam_faults_release(&f);
	}
}

Test(identity, default_home_is_under_home)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const char *t = U("");

	cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	cr_expect_str_eq(id->users[0].home, "/home/ann");
	iam_identity_free(id);
	iam_faults_release(&f);
}

/* Write text to dir/etc/name. */
static void
host_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/etc/%s", dir, name);
	fp = fopen(p, "w");
	cr_assert_not_null(fp, "%s", p);
	fputs(text, fp);
	fclose(fp);
}

Test(identity, subordinate_ranges_are_found_behind_narrow_ones)
{
	char dir[] = "/tmp/iam-id-sub.XXXXXX", p[128];
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;
	const char *in = USER("\"ann\"", "79000", "");
	const char *out = USER("\"ann\"", "90001", "");

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/etc", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	host_file(dir, "passwd", "root:x:0:0::/root:/bin/sh\n");
	host_file(dir, "group", "root:x:0:\n");
	/* a wide range, then narrow ones starting inside it */
	host_file(dir, "subuid", "wide:70000:20000\nn1:78000:10\n"
		  "n2:78500:10\nn3:89000:5\n");
	host_file(dir, "subgid", "");
	cr_expect_eq(iam_identity_parse(in, strlen(in), cfg, dir, &id, &f),
		     -EINVAL);
	cr_expect_eq(id, &untouched);
	cr_expect(has_fault(&f, "users[0].uid: 79000 lies in the subordinate "
			    "id range 70000-89999 of \"wide\""), "%s",
		  all_faults(&f));
	iam_faults_release(&f);
	id = NULL;
	cr_expect_eq(iam_identity_parse(out, strlen(out), cfg, dir, &id, &f), 0,
		     "%s", all_faults(&f));
	iam_identity_free(id);
	iam_faults_release(&f);
	for (size_t i = 0; i < 4; i++) {
		static const char *const n[] = { "passwd", "group", "subuid",
						 "subgid" };

		snprintf(p, sizeof(p), "%s/etc/%s", dir, n[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/etc", dir);
	rmdir(p);
	rmdir(dir);
}

/* ---- users and groups built one at a time ---------------------------- */

/*
 * users and groups are built while the file is parsed, item by item: a
 * file that is not JSON after them reports only that, their faults come
 * in the order of the sections whatever the order of the file, and what
 * the model keeps of an item (initial credentials, inline policies)
 * outlives the item's tree.
 */
Test(identity, users_built_while_parsing_report_like_a_whole_tree)
{
	const char *late_error = "{\"users\":[{\"name\":\"Bad Name\",\"uid\":1}],"
		ACC "," GRP ",\"roles\":[}";
	const char *order = "{\"users\":[{\"name\":\"ann\",\"uid\":70001,"
		"\"primary_group\":\"devs\",\"colour\":\"red\"}],"
		"\"groups\":[{\"name\":\"devs\",\"gid\":70101,\"x\":1}],"
		"\"account\":{\"id\":\"12\"}}";
	const char *twice = "{" ACC "," GRP ",\"users\":[{\"name\":\"ann\","
		"\"uid\":70001,\"primary_group\":\"devs\"}],\"users\":[{\"name\":"
		"\"bob\",\"uid\":70002,\"primary_group\":\"devs\"}]}";
	const char *scalars = "{" ACC "," GRP ",\"users\":[1,\"x\",null]}";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = &untouched;

	/* a JSON error after the users: that fault alone */
	cr_expect_eq(iam_identity_parse(late_error, strlen(late_error), cfg,
					HOST, &id, &f), -EINVAL);
	cr_expect_eq(f.n, 1, "%s", all_faults(&f));
	cr_expect(has_fault(&f, "roles"), "%s", all_faults(&f));
	cr_expect_not(has_fault(&f, "Bad Name"));
	cr_expect_eq(id, &untouched);
	iam_faults_release(&f);

	/* account, then groups, then users, as the sections are checked */
	cr_expect_eq(iam_identity_parse(order, strlen(order), cfg, HOST, &id,
					&f), -EINVAL);
	cr_assert_eq(f.n, 3, "%s", all_faults(&f));
	cr_expect(strstr(f.v[0], "account.id:") == f.v[0], "%s", f.v[0]);
	cr_expect_str_eq(f.v[1], "groups[0].x: unknown field");
	cr_expect_str_eq(f.v[2], "users[0].colour: unknown field");
	iam_faults_release(&f);

	/* "users" twice: the duplicate key, nothing built kept */
	expect_refused("users twice", twice, strlen(twice),
		       "users: duplicate key");
	cr_expect_eq(iam_identity_parse(twice, strlen(twice), cfg, HOST, &id,
					&f), -EINVAL);
	cr_expect_eq(f.n, 1, "%s", all_faults(&f));
	iam_faults_release(&f);

	/* items that are not objects, each at its own index */
	cr_expect_eq(iam_identity_parse(scalars, strlen(scalars), cfg, HOST,
					&id, &f), -EINVAL);
	cr_expect(has_fault(&f, "users[0]: must be an object, not a number"),
		  "%s", all_faults(&f));
	cr_expect(has_fault(&f, "users[1]: must be an object, not a string"));
	cr_expect(has_fault(&f, "users[2]: must be an object, not null"));
	cr_expect_eq(id, &untouched);
	iam_faults_release(&f);
}

Test(identity, what_a_user_keeps_outlives_its_tree)
{
	struct iam_buf t = IAM_BUF_INIT, out = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const size_t n = 3000;

	/* enough users that their trees' memory is reused many times over */
	iam_buf_addf(&t, "{" ACC "," GRP ",\"users\":[");
	for (size_t i = 0; i < n; i++)
		iam_buf_addf(&t, "%s{\"name\":\"u%zu\",\"uid\":%zu,"
			     "\"primary_group\":\"devs\",\"groups\":[\"devs\"],"
			     "\"tags\":{\"Seq\":\"s%zu\"},"
			     "\"password\":{\"changed\":\"2026-10-01T12:00:00Z\","
			     "\"must_change\":%s},"
			     "\"mfa\":{\"secret\":\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\","
			     "\"digits\":%d},"
			     "\"inline_policies\":{\"P%zu\":{\"Version\":"
			     "\"2012-10-17\",\"Statement\":[{\"Effect\":"
			     "\"Allow\",\"Action\":\"host:Login\",\"Resource\":"
			     "\"*\",\"Condition\":{\"NumericLessThan\":"
			     "{\"aws:EpochTime\":%zu}}}]}}}",
			     i ? "," : "", i, 80001 + i, i,
			     i % 2 ? "true" : "false", 6 + (int)(i % 3), i,
			     1000000 + i);
	iam_buf_addf(&t, "]}");
	cr_assert_eq(iam_identity_parse(t.buf, t.len, cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	cr_assert_eq(id->n_users, n);
	for (size_t i = 0; i < n; i += 997) {
		const struct iam_user *u = &id->users[i];
		const struct iam_json *d;
		char name[32];

		snprintf(name, sizeof(name), "u%zu", i);
		cr_expect_str_eq(u->name, name);
		cr_expect_eq(u->mfa.digits, 6 + i % 3);
		cr_assert_not_null(u->file_password);
		d = iam_json_get(u->file_password, "must_change");
		cr_assert_not_null(d);
		cr_expect_eq(d->u.boolean, i % 2 == 1);
		d = iam_json_get(u->file_mfa, "digits");
		cr_assert_not_null(d);
		cr_expect_str_eq(d->u.number.text, i % 3 == 0 ? "6" :
				 i % 3 == 1 ? "7" : "8");
		cr_assert_eq(u->n_inline, 1);
		d = iam_json_get(u->inline_policies[0].doc, "Statement");
		cr_assert_not_null(d);
		cr_expect_eq(d->len, 1);
		cr_expect_eq(iam_json_get(iam_json_get(iam_json_get(
			&d->u.items[0], "Condition"), "NumericLessThan"),
			"aws:EpochTime")->u.number.i, (int64_t)(1000000 + i));
	}
	/* and the whole model is written back as it was read */
	cr_assert_eq(iam_identity_write(id, &out), 0);
	cr_expect_not_null(strstr(out.buf, "\"aws:EpochTime\": 1002999"));
	cr_expect_not_null(strstr(out.buf, "\"Seq\": \"s2999\""));
	iam_buf_wipe(&out);
	iam_buf_wipe(&t);
	iam_identity_free(id);
	iam_faults_release(&f);
}

/*
 * A file is parsed a window (1 MiB) at a time and each window wiped once
 * parsed, so its text and its model are not in memory together: faults
 * past the first window still name their line, and a file that is
 * refused or accepted is the same either way.
 */
static void
write_file(const char *path, const struct iam_buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b->buf, b->len), (ssize_t)b->len);
	close(fd);
}

/* n users, one line each, after the account and a group (lines 1-3) */
static void
users_text(struct iam_buf *b, size_t n)
{
	iam_buf_addf(b, "{" ACC ",\n" GRP ",\n\"users\":[\n");
	for (size_t i = 0; i < n; i++)
		iam_buf_addf(b, "%s{\"name\":\"u%zu\",\"uid\":%zu,"
			     "\"primary_group\":\"devs\",\"gecos\":\"User %zu of "
			     "many, with some words to make the file long\"}\n",
			     i ? "," : "", i, 80001 + i, i);
}

Test(identity, a_file_past_one_window_names_its_lines)
{
	char path[] = "/tmp/iam-id-win.XXXXXX";
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const size_t n = 15000;	/* ~1.6 MB: two windows */
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);

	/* whole: every user loaded */
	users_text(&b, n);
	iam_buf_addf(&b, "]}\n\n");
	cr_assert_gt(b.len, 1u << 20);
	write_file(path, &b);
	cr_assert_eq(iam_identity_load(path, false, cfg, HOST, &id, &f), 0,
		     "%s", all_faults(&f));
	cr_expect_eq(id->n_users, n);
	cr_expect_str_eq(id->users[n - 1].name, "u14999");
	id = iam_identity_free(id);

	/* a syntax error on the line of user 14000 (line 4 + 14000) */
	iam_buf_release(&b);
	users_text(&b, 14000);
	iam_buf_addf(&b, ",{\"name\":\"x\",\"uid\":1,,}]}\n");
	write_file(path, &b);
	id = &untouched;
	cr_expect_eq(iam_identity_load(path, false, cfg, HOST, &id, &f),
		     -EINVAL);
	cr_expect_eq(f.n, 1, "%s", all_faults(&f));
	cr_expect(has_fault(&f, "users[14000].uid: line 14004: "), "%s",
		  all_faults(&f));
	cr_expect_eq(id, &untouched);
	iam_faults_release(&f);

	/* cut short: named at its last line, past the first window */
	iam_buf_release(&b);
	users_text(&b, n);
	iam_buf_addf(&b, "\n\n");
	write_file(path, &b);
	cr_expect_eq(iam_identity_load(path, false, cfg, HOST, &id, &f),
		     -EINVAL);
	cr_expect(has_fault(&f, "line 15003: premature end of input"), "%s",
		  all_faults(&f));
	cr_expect_eq(f.n, 1);
	iam_faults_release(&f);

	/* something after the object, far past the first window */
	iam_buf_release(&b);
	users_text(&b, n);
	iam_buf_addf(&b, "]}\n\n{}\n");
	write_file(path, &b);
	cr_expect_eq(iam_identity_load(path, false, cfg, HOST, &id, &f),
		     -EINVAL);
	cr_expect(has_fault(&f, "line 15006: trailing garbage"), "%s",
		  all_faults(&f));
	cr_expect_eq(f.n, 1);
	cr_expect_eq(id, &untouched);
	iam_faults_release(&f);

	/* newlines alone, 1.2 MB of them, then a text cut short */
	iam_buf_release(&b);
	for (size_t i = 0; i < 1200000; i++)
		iam_buf_add(&b, "\n", 1);
	iam_buf_addf(&b, "{\"account\":\n\n");
	write_file(path, &b);
	cr_expect_eq(iam_identity_load(path, false, cfg, HOST, &id, &f),
		     -EINVAL);
	cr_expect(has_fault(&f, "line 1200001: premature end of input"), "%s",
		  all_faults(&f));
	iam_faults_release(&f);

	iam_buf_release(&b);
	unlink(path);
}

/* A text given to be consumed is wiped whole, accepted or refused. */
Test(identity, a_consumed_text_is_wiped_on_every_path)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	const char *tails[] = { "]}\n", "]}{}", "", ",{\"name\":1}]}" };

	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		size_t nonzero = 0;

		iam_buf_release(&b);
		users_text(&b, 12000);
		iam_buf_addf(&b, "%s", tails[t]);
		cr_assert_eq(iam_id_parse(b.buf, b.len, cfg, HOST,
					  IAM_ID_CONSUME, &id, &f),
			     t == 0 ? 0 : -EINVAL, "tail %zu: %s", t,
			     all_faults(&f));
		for (size_t i = 0; i < b.len; i++)
			nonzero += b.buf[i] != 0;
		cr_expect_eq(nonzero, 0, "tail %zu: %zu bytes left", t,
			     nonzero);
		if (t == 0) {
			cr_expect_eq(id->n_users, 12000);
			cr_expect_str_eq(id->users[11999].name, "u11999");
		}
		id = iam_identity_free(id);
		iam_faults_release(&f);
	}
	iam_buf_release(&b);
}
