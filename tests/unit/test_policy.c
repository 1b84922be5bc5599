/*
 * test_policy.c - the policy compiler refuses what AWS refuses, naming
 * the JSON path; wildcards are linear; requests, sets, the index, the
 * explanations and evaluation from many threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "policy_int.h"

static struct iam_policy *
compile_ok(const char *text)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = NULL;
	int r = iam_policy_compile_text(text, strlen(text), "T", false, "",
					&p, &f);

	cr_assert_eq(r, 0, "does not compile: %s", f.n ? f.v[0] : "?");
	iam_faults_release(&f);
	return p;
}

/* The policy is refused, and some fault starts with want_path ": ". */
static void
refused(const char *text, bool trust, const char *want)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = (struct iam_policy *)0x1;
	bool found = false;
	int r;

	r = iam_policy_compile_text(text, strlen(text), "T", trust,
				    "policies.T", &p, &f);
	cr_assert_eq(r, -EINVAL, "accepted: %s", text);
	cr_assert_eq(p, (struct iam_policy *)0x1, "ret_policy set on failure");
	for (size_t i = 0; i < f.n; i++)
		found |= strncmp(f.v[i], want, strlen(want)) == 0;
	cr_assert(found, "no fault \"%s...\" for %s (first: %s)", want, text,
		  f.n ? f.v[0] : "none");
	iam_faults_release(&f);
}

#define ST(x) "{\"Version\":\"2012-10-17\",\"Statement\":[" x "]}"
#define OK_ST "{\"Effect\":\"Allow\",\"Action\":\"host:Login\",\"Resource\":\"*\"}"

Test(policy_invalid, unknown_top_level_element)
{
	refused("{\"Version\":\"2012-10-17\",\"Statment\":[]}", false,
		"policies.T.Statment: unknown element");
}

Test(policy_invalid, unknown_statement_element)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Foo\":1}"),
		false, "policies.T.Statement[0].Foo: unknown element");
}

Test(policy_invalid, unknown_version)
{
	refused("{\"Version\":\"2012-10-18\",\"Statement\":[" OK_ST "]}", false,
		"policies.T.Version: must be");
	refused("{\"Version\":2012,\"Statement\":[" OK_ST "]}", false,
		"policies.T.Version: must be");
}

Test(policy_invalid, effect_other_than_allow_or_deny)
{
	refused(ST("{\"Effect\":\"allow\",\"Action\":\"a:b\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Effect: must be Allow or Deny");
	refused(ST("{\"Effect\":\"Permit\",\"Action\":\"a:b\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Effect: must be Allow or Deny");
	refused(ST("{\"Action\":\"a:b\",\"Resource\":\"*\"}"), false,
		"policies.T.Statement[0]: missing Effect");
}

Test(policy_invalid, missing_action_or_resource)
{
	refused(ST("{\"Effect\":\"Allow\",\"Resource\":\"*\"}"), false,
		"policies.T.Statement[0]: missing Action or NotAction");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\"}"), false,
		"policies.T.Statement[0]: missing Resource or NotResource");
}

Test(policy_invalid, both_action_and_not_action)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"NotAction\":\"a:c\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0]: has both Action and NotAction");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"NotResource\":\"*\"}"),
		false, "policies.T.Statement[0]: has both Resource and NotResource");
}

Test(policy_invalid, unknown_operator)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"StringEqual\":{\"a:b\":\"x\"}}}"),
		false, "policies.T.Statement[0].Condition.StringEqual: unknown condition operator");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"ForSomeValues:StringEquals\":{\"a:b\":\"x\"}}}"),
		false, "policies.T.Statement[0].Condition.ForSomeValues:StringEquals: unknown");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"NullIfExists\":{\"a:b\":\"true\"}}}"),
		false, "policies.T.Statement[0].Condition.NullIfExists: unknown");
}

Test(policy_invalid, malformed_arn_cidr_date_in_conditions)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:iam:user/x\"}}}"),
		false, "policies.T.Statement[0].Condition.ArnLike.aws:PrincipalArn: \"arn:iam:user/x\" is not an ARN");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]}}}"),
		false, "policies.T.Statement[0].Condition.IpAddress.aws:SourceIp[1]: \"10.0.0.0/33\" is not an IP address");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"300.1.1.1\"}}}"),
		false, "policies.T.Statement[0].Condition.NotIpAddress.aws:SourceIp: ");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2026-13-01T00:00:00Z\"}}}"),
		false, "policies.T.Statement[0].Condition.DateLessThan.aws:CurrentTime: \"2026-13-01T00:00:00Z\" is not an ISO 8601 date");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"NumericLessThan\":{\"a:n\":\"ten\"}}}"),
		false, "policies.T.Statement[0].Condition.NumericLessThan.a:n: \"ten\" is not a number");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"a:n\":\"yes\"}}}"),
		false, "policies.T.Statement[0].Condition.Bool.a:n: \"yes\" must be true or false");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"BinaryEquals\":{\"a:n\":\"abc\"}}}"),
		false, "policies.T.Statement[0].Condition.BinaryEquals.a:n: \"abc\" is not base64");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"Null\":{\"a:n\":\"maybe\"}}}"),
		false, "policies.T.Statement[0].Condition.Null.a:n: \"maybe\" must be true or false");
}

Test(policy_invalid, malformed_resource_and_action)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"host/web1\"}"),
		false, "policies.T.Statement[0].Resource: \"host/web1\" is not \"*\" or an ARN");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":[\"*\",\"arn:iam:host\"]}"),
		false, "policies.T.Statement[0].Resource[1]: ");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"Login\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Action: \"Login\" must be");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Action: must not be an empty array");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":[\"a:b\",3],\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Action[1]: must be a string");
}

Test(policy_invalid, wrong_shapes)
{
	refused("[]", false, "policies.T: a policy must be a JSON object");
	refused("{\"Version\":\"2012-10-17\"}", false, "policies.T: missing Statement");
	refused("{\"Version\":\"2012-10-17\",\"Statement\":[]}", false,
		"policies.T.Statement: must hold at least one statement");
	refused("{\"Version\":\"2012-10-17\",\"Statement\":\"x\"}", false,
		"policies.T.Statement: must be an object or an array");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":[]}"),
		false, "policies.T.Statement[0].Condition: must be an object");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{}}}"),
		false, "policies.T.Statement[0].Condition.StringEquals: must name at least one");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"a:b\":[]}}}"),
		false, "policies.T.Statement[0].Condition.StringEquals.a:b: must not be an empty array");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"a:b\":{\"x\":1}}}}"),
		false, "policies.T.Statement[0].Condition.StringEquals.a:b: must be a string");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"nokey\":\"x\"}}}"),
		false, "policies.T.Statement[0].Condition.StringEquals.nokey: is not a condition key");
}

Test(policy_invalid, sid_rules)
{
	refused(ST("{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\"},"
		   "{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Action\":\"a:c\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[1].Sid: duplicate Sid \"A\"");
	refused(ST("{\"Sid\":\"has space\",\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\"}"),
		false, "policies.T.Statement[0].Sid: ");
}

Test(policy_invalid, principal_only_in_trust_policies)
{
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Principal\":\"*\"}"),
		false, "policies.T.Statement[0].Principal: not allowed in an identity policy");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}"), true,
		"policies.T.Statement[0]: missing Principal");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"host:Login\",\"Principal\":\"*\"}"), true,
		"policies.T.Statement[0].Action: \"host:Login\" a trust policy allows only sts:");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\",\"Principal\":\"*\"}"), true,
		"policies.T.Statement[0].Resource: not allowed in a trust policy");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"x\"}}"), true,
		"policies.T.Statement[0].Principal.Service: unknown principal type");
	refused(ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"AWS\":\"arn:iam:iam::1:user/*\"}}"), true,
		"policies.T.Statement[0].Principal.AWS: ");
}

Test(policy_invalid, json_syntax_and_strictness)
{
	refused("{\"Version\":\"2012-10-17\",", false, "policies.T: ");
	refused("{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\",\"Statement\":[" OK_ST "]}",
		false, "policies.T: ");
}

Test(policy_invalid, every_fault_is_reported_at_once)
{
	const char *t = ST("{\"Effect\":\"Maybe\",\"Action\":\"a:b\",\"Resource\":\"*\"},"
			   "{\"Effect\":\"Allow\",\"Resource\":\"*\"},"
			   "{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"*\",\"Condition\":{\"Bogus\":{}}}");
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = NULL;

	cr_assert_eq(iam_policy_compile_text(t, strlen(t), "T", false, "", &p, &f), -EINVAL);
	cr_expect_eq(f.n, 3, "faults: %zu", f.n);
	cr_expect_null(p);
	iam_faults_release(&f);
}

Test(policy_valid, accepts_aws_shapes)
{
	struct iam_policy *p;

	p = compile_ok("{\"Version\":\"2012-10-17\",\"Id\":\"x\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"host:*\",\"sudo:Run\"],\"NotResource\":[\"arn:iam:host::123:host/a\"]}}");
	cr_expect_eq(iam_policy_statement_count(p), 1);
	cr_expect_str_eq(iam_policy_name(p), "T");
	iam_policy_free(p);
	p = compile_ok(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"arn:iam:iam::${aws:PrincipalAccount}:user/${aws:username}\",\"Condition\":{\"ForAllValues:StringLikeIfExists\":{\"a:b\":[\"x\",1,true]},\"ArnLike\":{\"a:c\":\"${aws:PrincipalArn}\"}}}"));
	iam_policy_free(p);
	cr_expect_null(iam_policy_free(NULL));
}

/* ---- Trust policies --------------------------------------------------------- */

Test(policy_trust, principal_decides)
{
	const char *t = ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"AWS\":[\"arn:iam:iam::123456789012:user/alice\",\"999999999999\"]},\"Condition\":{\"Bool\":{\"aws:MultiFactorAuthPresent\":\"true\"}}}");
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p;
	struct iam_policy_set *set;
	struct iam_request *req;
	static struct iam_result res;
	const struct { const char *arn, *acct, *mfa; enum iam_decision want; } c[] = {
		{ "arn:iam:iam::123456789012:user/alice", "123456789012", "true", IAM_ALLOW },
		{ "arn:iam:iam::123456789012:user/alice", "123456789012", "false", IAM_IMPLICIT_DENY },
		{ "arn:iam:iam::123456789012:user/bob", "123456789012", "true", IAM_IMPLICIT_DENY },
		{ "arn:iam:iam::999999999999:user/eve", "999999999999", "true", IAM_ALLOW },
	};

	cr_assert_eq(iam_policy_compile_text(t, strlen(t), "deployer-trust", true, "", &p, &f), 0,
		     "%s", f.n ? f.v[0] : "");
	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)&p, 1, NULL, &set), 0);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cr_assert_eq(iam_request_new("sts:AssumeRole", "arn:iam:iam::123456789012:role/deployer", &req), 0);
		iam_request_add(req, "aws:PrincipalArn", c[i].arn);
		iam_request_add(req, "aws:PrincipalAccount", c[i].acct);
		iam_request_add(req, "aws:MultiFactorAuthPresent", c[i].mfa);
		cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
		cr_expect_eq(res.decision, c[i].want, "case %zu", i);
		iam_request_free(req);
	}
	iam_policy_set_free(set);
	iam_policy_free(p);
}

/* ---- Wildcards -------------------------------------------------------------- */

static bool
g(const char *p, const char *s)
{
	return iam_glob_match(p, strlen(p), s, strlen(s), 0);
}

Test(glob, basics)
{
	cr_expect(g("", ""));
	cr_expect(!g("", "a"));
	cr_expect(g("*", ""));
	cr_expect(g("*", "anything"));
	cr_expect(g("a*", "a"));
	cr_expect(g("*a", "ba"));
	cr_expect(!g("*a", "ab"));
	cr_expect(g("a*b*c", "aXbYc"));
	cr_expect(g("a*b*c", "abc"));
	cr_expect(!g("a*b*c", "acb"));
	cr_expect(g("a?c", "abc"));
	cr_expect(!g("a?c", "ac"));
	cr_expect(g("*?", "x"));
	cr_expect(!g("*?", ""));
	cr_expect(g("**a**", "a"));
	cr_expect(g("a*a*a", "aaa"));
	cr_expect(!g("a*a*a", "aa"));
	cr_expect(g("*ab*ab*", "xxabyyab"));
	cr_expect(!g("*ab?ab*", "abab"));
	cr_expect(g("*ab?ab*", "abxab"));
	cr_expect(!g("abc", "ABC"));
	cr_expect(iam_glob_match("a*C", 3, "AbC", 3, IAM_GLOB_NOCASE));
	cr_expect(iam_glob_match("*b?*", 4, "xBy", 3, IAM_GLOB_NOCASE));
	cr_expect(!g("a", "a\xff"));
}

Test(glob, escapes_make_wildcards_literal)
{
	cr_expect(iam_glob_match_flags("a\\*b", 4, "a*b", 3, GLOB_ESCAPES));
	cr_expect(!iam_glob_match_flags("a\\*b", 4, "axb", 3, GLOB_ESCAPES));
	cr_expect(iam_glob_match_flags("*\\?", 3, "x?", 2, GLOB_ESCAPES));
	cr_expect(!iam_glob_match_flags("*\\?", 3, "xy", 2, GLOB_ESCAPES));
	cr_expect(iam_glob_match_flags("\\\\*", 3, "\\zz", 3, GLOB_ESCAPES));
}

/* Compare against a plain dynamic-programming matcher on many inputs. */
static bool
dp_match(const char *p, size_t pl, const char *s, size_t sl)
{
	bool *row = calloc(sl + 1, sizeof(bool)), *nrow = calloc(sl + 1, sizeof(bool));
	bool r;

	row[0] = true;
	for (size_t i = 1; i <= sl; i++)
		row[i] = false;
	for (size_t j = 0; j < pl; j++) {
		nrow[0] = row[0] && p[j] == '*';
		for (size_t i = 1; i <= sl; i++) {
			if (p[j] == '*')
				nrow[i] = row[i] || nrow[i - 1];
			else
				nrow[i] = row[i - 1] && (p[j] == '?' || p[j] == s[i - 1]);
		}
		memcpy(row, nrow, (sl + 1) * sizeof(bool));
	}
	r = row[sl];
	free(row);
	free(nrow);
	return r;
}

Test(glob, agrees_with_a_reference_matcher)
{
	const char alpha[] = "ab*?";
	char p[12], s[16];
	unsigned seed = 12345;

	for (int n = 0; n < 200000; n++) {
		size_t pl = (size_t)(rand_r(&seed) % 10), sl = (size_t)(rand_r(&seed) % 14);

		for (size_t i = 0; i < pl; i++)
			p[i] = alpha[rand_r(&seed) % 4];
		for (size_t i = 0; i < sl; i++)
			s[i] = alpha[rand_r(&seed) % 2];
		cr_assert_eq(iam_glob_match(p, pl, s, sl, 0), dp_match(p, pl, s, sl),
			     "pattern %.*s subject %.*s", (int)pl, p, (int)sl, s);
	}
}

/*
 * Compiled Resource and Action patterns (checked by their literal head
 * and tail before the general matcher) decide as the matcher does.
 */
static bool
allows(const struct iam_policy *p, const char *action, const char *resource)
{
	static struct iam_result res, naive;
	struct iam_policy_set *set;
	struct iam_request *req;
	bool r;

	cr_assert_eq(iam_policy_set_new(&p, 1, NULL, &set), 0);
	cr_assert_eq(iam_request_new(action, resource, &req), 0);
	cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
	cr_assert_eq(iam_policy_evaluate_naive(set, req, &naive), 0);
	cr_assert_eq(res.decision, naive.decision, "%s %s", action, resource);
	r = res.decision == IAM_ALLOW;
	iam_request_free(req);
	iam_policy_set_free(set);
	return r;
}

static struct iam_policy *
compile_or_null(const char *head, const char *pat, const char *tail)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = NULL;
	char text[256];

	snprintf(text, sizeof(text), "%s%s%s", head, pat, tail);
	if (iam_policy_compile_text(text, strlen(text), "G", false, "", &p,
				    &f) < 0)
		p = NULL;
	iam_faults_release(&f);
	return p;
}

Test(glob, compiled_patterns_agree_with_the_matcher)
{
	const char alpha[] = "aB*?";
	char pat[16], subj[16], a[64], r[64];
	unsigned seed = 4242;
	int compiled = 0;

	for (int n = 0; n < 3000; n++) {
		size_t pl = 1 + (size_t)(rand_r(&seed) % 8);
		size_t sl = 1 + (size_t)(rand_r(&seed) % 10);
		struct iam_policy *pa, *pr;

		for (size_t i = 0; i < pl; i++)
			pat[i] = alpha[rand_r(&seed) % 4];
		pat[pl] = '\0';
		for (size_t i = 0; i < sl; i++)
			subj[i] = "aBAb"[rand_r(&seed) % 4];
		subj[sl] = '\0';
		snprintf(a, sizeof(a), "s:%s", subj);
		snprintf(r, sizeof(r), "arn:p:s:r:1:%s", subj);
		/* As an Action (any case), then as a Resource (exact case). */
		pa = compile_or_null("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s:",
				     pat, "\",\"Resource\":\"*\"}]}");
		pr = compile_or_null("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s:Go\",\"Resource\":\"arn:p:s:r:1:",
				     pat, "\"}]}");
		cr_assert_not_null(pr, "resource %s refused", pat);
		if (pa != NULL) {
			compiled++;
			cr_assert_eq(allows(pa, a, "arn:p:s:r:1:x"),
				     iam_glob_match(pat, pl, subj, sl,
						    IAM_GLOB_NOCASE),
				     "action pattern %s subject %s", pat, subj);
		}
		cr_assert_eq(allows(pr, "s:Go", r),
			     iam_glob_match(pat, pl, subj, sl, 0),
			     "resource pattern %s subject %s", pat, subj);
		iam_policy_free(pa);
		iam_policy_free(pr);
	}
	cr_expect_gt(compiled, 1000, "only %d action patterns compiled",
		     compiled);
}

Test(glob, long_segments_over_64_characters)
{
	char p[300], s[1000];

	memset(s, 'a', sizeof(s));
	memset(p, 'a', sizeof(p));
	p[0] = '*';
	p[100] = '?';
	p[299] = '*';
	s[999] = 'b';
	cr_expect(iam_glob_match(p, sizeof(p), s, sizeof(s), 0));
	s[500] = 'b';
	cr_expect(iam_glob_match(p, sizeof(p), s, sizeof(s), 0));
	memset(s + 200, 'b', 600);
	cr_expect(!iam_glob_match(p, sizeof(p), s, sizeof(s), 0));
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

Test(glob, two_hundred_stars_against_100k_characters_is_fast)
{
	size_t sl = 100000, pl = 401;
	char *s = malloc(sl), *p = malloc(pl);
	double t0, worst = 0;

	memset(s, 'a', sl);
	for (size_t i = 0; i < pl; i++)
		p[i] = i % 2 ? 'a' : '*';
	p[pl - 2] = 'b';	/* "*a*a*...*b*": every segment but one matches */
	for (int round = 0; round < 5; round++) {
		t0 = now_ms();
		cr_assert(!iam_glob_match(p, pl, s, sl, 0));
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	/* '?' segments take the bit-parallel path. */
	for (size_t i = 1; i < pl; i += 2)
		p[i] = '?';
	p[pl - 2] = 'b';
	t0 = now_ms();
	cr_assert(!iam_glob_match(p, pl, s, sl, IAM_GLOB_NOCASE));
	if (now_ms() - t0 > worst)
		worst = now_ms() - t0;
	cr_log_info("200 stars vs 100,000 characters: worst %.3f ms", worst);
	cr_expect_lt(worst, 1.0, "took %.3f ms", worst);
	free(s);
	free(p);
}

/* ---- Requests --------------------------------------------------------------- */

Test(request, refuses_bad_input)
{
	struct iam_request *r = NULL;
	char big[IAM_REQUEST_MAX_VALUE + 2];

	cr_expect_eq(iam_request_new("Login", "*", &r), -EINVAL);
	cr_expect_eq(iam_request_new("host:Log*", "*", &r), -EINVAL);
	cr_expect_eq(iam_request_new("host:Login", "", &r), -EINVAL);
	cr_expect_eq(iam_request_new(NULL, "x", &r), -EINVAL);
	cr_expect_null(r);
	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &r), 0);
	cr_expect_eq(iam_request_add(r, "aws:username", ""), -EINVAL);
	cr_expect_eq(iam_request_add(r, "", "x"), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(iam_request_add(r, "a:b", big), -E2BIG);
	iam_request_free(r);
	cr_expect_null(iam_request_free(NULL));
}

Test(request, keys_are_case_insensitive_and_multi_valued)
{
	struct iam_request *r;
	const char *const *v;

	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &r), 0);
	cr_assert_eq(iam_request_add(r, "iam:PrincipalGroups", "dev"), 0);
	cr_assert_eq(iam_request_add(r, "IAM:principalgroups", "ops"), 0);
	cr_assert_eq(iam_request_get(r, "iam:PRINCIPALGROUPS", &v), 2);
	cr_expect_str_eq(v[0], "dev");
	cr_expect_str_eq(v[1], "ops");
	cr_expect_eq(iam_request_get(r, "iam:Other", &v), 0);
	cr_expect_str_eq(iam_request_action(r), "host:Login");
	iam_request_free(r);
}

Test(request, every_key_found_in_any_case_up_to_the_limit)
{
	struct iam_request *r;
	const char *const *v;
	char k[64], val[64];

	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &r), 0);
	for (int i = 0; i < IAM_REQUEST_MAX_KEYS; i++) {
		snprintf(k, sizeof(k), "ctx:Key%d", i);
		snprintf(val, sizeof(val), "value-%d", i);
		cr_assert_eq(iam_request_add(r, k, val), 0, "%s", k);
	}
	cr_expect_eq(iam_request_add(r, "ctx:OneTooMany", "x"), -E2BIG);
	cr_expect_eq(iam_request_get(r, "ctx:OneTooMany", &v), 0);
	/* A known key still takes more values at the limit. */
	cr_expect_eq(iam_request_add(r, "CTX:KEY7", "again"), 0);
	for (int i = 0; i < IAM_REQUEST_MAX_KEYS; i++) {
		snprintf(k, sizeof(k), "CTX:kEY%d", i);
		snprintf(val, sizeof(val), "value-%d", i);
		cr_assert_eq(iam_request_get(r, k, &v), i == 7 ? 2 : 1, "%s", k);
		cr_expect_str_eq(v[0], val);
	}
	cr_expect_eq(iam_request_get(r, "ctx:Key7", &v), 2);
	cr_expect_str_eq(v[1], "again");
	cr_expect_null(v[2]);
	cr_expect_eq(iam_request_get(r, "ctx:Key", &v), 0);
	cr_expect_eq(iam_request_get(r, "ctx:Key2560", &v), 0);
	iam_request_free(r);
}

Test(request, add_values_keeps_empty_strings_and_empty_lists)
{
	struct iam_request *r;
	const char *const *v = NULL;
	const char *empty = "", *two[] = { "a", "" }, *bad[] = { "x", NULL };
	char big[IAM_REQUEST_MAX_VALUE + 2];
	const char *bigp = big;

	cr_assert_eq(iam_request_new("s3:ListBucket", "arn:aws:s3:::b", &r), 0);
	cr_expect_eq(iam_request_add_values(r, "s3:prefix", &empty, 1), 0);
	cr_expect_eq(iam_request_get(r, "s3:prefix", &v), 1);
	cr_expect_str_eq(v[0], "");
	cr_expect_null(v[1]);
	/* An empty list: present, no values, found as a count of 0. */
	cr_expect_eq(iam_request_add_values(r, "aws:TagKeys", NULL, 0), 0);
	cr_expect_eq(iam_request_get(r, "aws:TagKeys", &v), 0);
	cr_expect_eq(iam_request_add_values(r, "aws:TagKeys", two, 2), 0);
	cr_expect_eq(iam_request_get(r, "AWS:tagkeys", &v), 2);
	cr_expect_str_eq(v[1], "");
	cr_expect_eq(iam_request_add_values(r, "", two, 1), -EINVAL);
	cr_expect_eq(iam_request_add_values(r, "k:x", NULL, 1), -EINVAL);
	/* A refused call leaves no half-made key behind. */
	cr_expect_eq(iam_request_add_values(r, "k:new", bad, 2), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(iam_request_add_values(r, "k:new", &bigp, 1), -E2BIG);
	cr_expect_eq(iam_request_get(r, "k:new", &v), 0);
	/* iam_request_add() still refuses "" for the host's own keys. */
	cr_expect_eq(iam_request_add(r, "s3:prefix", ""), -EINVAL);
	iam_request_free(r);
}

Test(request, set_values_replaces_every_value)
{
	struct iam_request *r;
	const char *const *v = NULL;
	const char *one[] = { "web" }, *two[] = { "db", "ops" };

	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &r), 0);
	cr_assert_eq(iam_request_add(r, "iam:PrincipalGroups", "dev"), 0);
	cr_assert_eq(iam_request_add(r, "iam:PrincipalGroups", "adm"), 0);
	cr_expect_eq(iam_request_set_values(r, "IAM:PRINCIPALGROUPS", one, 1), 0);
	cr_expect_eq(iam_request_get(r, "iam:PrincipalGroups", &v), 1);
	cr_expect_str_eq(v[0], "web");
	cr_expect_null(v[1]);
	cr_expect_eq(iam_request_set_values(r, "aws:New", two, 2), 0);
	cr_expect_eq(iam_request_get(r, "aws:new", &v), 2);
	cr_expect_eq(iam_request_set_values(r, "aws:New", NULL, 0), 0);
	cr_expect_eq(iam_request_get(r, "aws:new", &v), 0);
	iam_request_free(r);
}

Test(request, set_values_refused_leaves_the_key_as_it_was)
{
	struct iam_request *r;
	const char *const *v = NULL;
	const char *bad[] = { "web", NULL };

	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &r), 0);
	cr_assert_eq(iam_request_add(r, "iam:PrincipalGroups", "dev"), 0);
	cr_assert_eq(iam_request_add(r, "iam:PrincipalGroups", "adm"), 0);
	/* A bad value refuses the whole call before the key is touched. */
	cr_expect_eq(iam_request_set_values(r, "iam:PrincipalGroups", bad, 2),
		     -EINVAL);
	cr_expect_eq(iam_request_get(r, "iam:PrincipalGroups", &v), 2);
	cr_expect_str_eq(v[0], "dev");
	cr_expect_str_eq(v[1], "adm");
	/* Nor is a key made that did not exist. */
	cr_expect_eq(iam_request_set_values(r, "aws:New", bad, 2), -EINVAL);
	cr_expect_eq(iam_request_get(r, "aws:New", &v), 0);
	iam_request_free(r);
}

Test(request, numbers_parse_exactly)
{
	struct number n;

	cr_assert_eq(iam_parse_number("123456789012345", &n), 0);
	cr_expect(n.is_int);
	cr_expect_eq(n.i, 123456789012345LL);
	cr_expect(n.d == 123456789012345.0);
	cr_assert_eq(iam_parse_number("-9223372036854775807", &n), 0);
	cr_expect(n.is_int);
	cr_expect_eq(n.i, -9223372036854775807LL);
	cr_assert_eq(iam_parse_number("9223372036854775808", &n), 0);
	cr_expect(!n.is_int);
	cr_assert_eq(iam_parse_number("+7", &n), 0);
	cr_expect(n.is_int && n.i == 7 && n.d == 7.0);
	cr_assert_eq(iam_parse_number("-0", &n), 0);
	cr_expect(n.is_int && n.i == 0 && n.d == 0.0);
	cr_assert_eq(iam_parse_number("007", &n), 0);
	cr_expect(n.is_int && n.i == 7);
	cr_assert_eq(iam_parse_number("2.5", &n), 0);
	cr_expect(!n.is_int && n.d == 2.5);
	cr_expect_eq(iam_parse_number("", &n), -EINVAL);
	cr_expect_eq(iam_parse_number("-", &n), -EINVAL);
	cr_expect_eq(iam_parse_number("12a", &n), -EINVAL);
	cr_expect_eq(iam_parse_number("1.", &n), -EINVAL);
	cr_expect_eq(iam_parse_number(" 1", &n), -EINVAL);
}

/* ---- Sets, index, explanations ---------------------------------------------------- */

Test(set, index_prunes_and_agrees_with_a_full_scan)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_policy *p;
	struct iam_policy_set *set;
	struct iam_request *req;
	static struct iam_result res, naive;

	iam_buf_adds(&b, "{\"Version\":\"2012-10-17\",\"Statement\":[");
	for (int i = 0; i < 1000; i++)
		iam_buf_addf(&b, "%s{\"Effect\":\"%s\",\"Action\":\"svc%d:Act%d\",\"Resource\":\"arn:iam:svc%d::1:r/%d\"}",
			     i ? "," : "", i % 7 == 0 ? "Deny" : "Allow", i % 50, i % 20, i % 50, i);
	iam_buf_adds(&b, ",{\"Effect\":\"Allow\",\"Action\":\"svc3:*\",\"Resource\":\"*\"}");
	iam_buf_adds(&b, ",{\"Effect\":\"Allow\",\"NotAction\":\"svc4:*\",\"Resource\":\"arn:iam:x::1:y/z\"}]}");
	p = compile_ok(b.buf);
	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)&p, 1, NULL, &set), 0);
	for (int i = 0; i < 1000; i += 7) {
		char a[64], r[64];

		snprintf(a, sizeof(a), "svc%d:Act%d", i % 50, i % 20);
		snprintf(r, sizeof(r), "arn:iam:svc%d::1:r/%d", i % 50, i);
		cr_assert_eq(iam_request_new(a, r, &req), 0);
		cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
		cr_assert_eq(iam_policy_evaluate_naive(set, req, &naive), 0);
		cr_expect_eq(res.decision, naive.decision, "%s %s", a, r);
		cr_expect_eq(res.n_matched, naive.n_matched, "%s %s", a, r);
		cr_expect_lt(iam_policy_set_candidates(set, req), 10, "%s: %zu candidates", a,
			     iam_policy_set_candidates(set, req));
		iam_request_free(req);
	}
	iam_policy_set_free(set);
	iam_policy_free(p);
	iam_buf_release(&b);
}

Test(set, empty_set_denies_and_null_is_refused)
{
	struct iam_policy_set *set = NULL;
	struct iam_request *req;
	static struct iam_result res;
	const struct iam_policy *none[1] = { NULL };

	cr_expect_eq(iam_policy_set_new(none, 1, NULL, &set), -EINVAL);
	cr_assert_eq(iam_policy_set_new(NULL, 0, NULL, &set), 0);
	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/h", &req), 0);
	cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
	cr_expect_eq(res.decision, IAM_IMPLICIT_DENY);
	cr_expect_eq(iam_policy_evaluate(NULL, req, &res), -EINVAL);
	iam_request_free(req);
	cr_expect_null(iam_policy_set_free(set));
}

Test(set, variable_overflow_fails_closed)
{
	struct iam_policy *p = compile_ok(ST("{\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"arn:iam:x::1:${a:v}${a:v}${a:v}${a:v}${a:v}${a:v}${a:v}${a:v}${a:v}\"}"));
	struct iam_policy_set *set;
	struct iam_request *req;
	static struct iam_result res;
	char v[IAM_REQUEST_MAX_VALUE + 1];

	memset(v, '*', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)&p, 1, NULL, &set), 0);
	cr_assert_eq(iam_request_new("a:b", "arn:iam:x::1:y", &req), 0);
	cr_assert_eq(iam_request_add(req, "a:v", v), 0);
	cr_expect_eq(iam_policy_evaluate(set, req, &res), -E2BIG);
	cr_expect_neq(res.decision, IAM_ALLOW);
	iam_request_free(req);
	iam_policy_set_free(set);
	iam_policy_free(p);
}

Test(explain, json_and_text_name_policy_and_statement)
{
	struct iam_policy *p = compile_ok(ST("{\"Sid\":\"Ok\",\"Effect\":\"Allow\",\"Action\":\"host:*\",\"Resource\":\"*\"},"
					     "{\"Effect\":\"Deny\",\"Action\":\"host:Login\",\"Resource\":\"arn:iam:host::1:host/prod\"}"));
	struct iam_policy_set *set;
	struct iam_request *req;
	static struct iam_result res;
	struct iam_buf j = IAM_BUF_INIT, t = IAM_BUF_INIT;

	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)&p, 1, NULL, &set), 0);
	cr_assert_eq(iam_request_new("host:Login", "arn:iam:host::1:host/prod", &req), 0);
	cr_assert_eq(iam_policy_evaluate(set, req, &res), 0);
	cr_expect_eq(res.decision, IAM_EXPLICIT_DENY);
	cr_expect_eq(res.n_matched, 2);
	cr_assert_eq(iam_result_write_json(&res, &j), 0);
	cr_expect_str_eq(j.buf, "{\"decision\":\"ExplicitDeny\",\"matched\":["
			 "{\"policy\":\"T\",\"sid\":\"Ok\",\"index\":0,\"effect\":\"Allow\",\"boundary\":false},"
			 "{\"policy\":\"T\",\"sid\":null,\"index\":1,\"effect\":\"Deny\",\"boundary\":false}],"
			 "\"decided_by\":{\"policy\":\"T\",\"sid\":null,\"index\":1,\"effect\":\"Deny\",\"boundary\":false}}");
	cr_assert_eq(iam_result_write_text(&res, req, &t), 0);
	cr_expect_str_eq(t.buf, "ExplicitDeny\n"
			 "  denied by policy \"T\", Statement[1]: Deny\n"
			 "  also matched: policy \"T\", statement \"Ok\" (Statement[0]): Allow\n");
	iam_buf_release(&j);
	iam_buf_release(&t);
	iam_request_free(req);
	iam_policy_set_free(set);
	iam_policy_free(p);
}

/* ---- Threads ------------------------------------------------------------------ */

struct worker {
	const struct iam_policy_set *set;
	int bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct iam_result *res = malloc(sizeof(*res));
	struct iam_request *allow, *deny;

	iam_request_new("iam:ChangePassword", "arn:iam:iam::1:user/alice", &allow);
	iam_request_add(allow, "aws:username", "alice");
	iam_request_new("iam:ChangePassword", "arn:iam:iam::1:user/bob", &deny);
	iam_request_add(deny, "aws:username", "alice");
	for (int i = 0; i < 20000; i++) {
		if (iam_policy_evaluate(w->set, allow, res) != 0 || res->decision != IAM_ALLOW)
			w->bad++;
		if (iam_policy_evaluate(w->set, deny, res) != 0 || res->decision != IAM_IMPLICIT_DENY)
			w->bad++;
	}
	iam_request_free(allow);
	iam_request_free(deny);
	free(res);
	return NULL;
}

Test(threads, one_set_many_threads)
{
	struct iam_policy *p = compile_ok(ST("{\"Effect\":\"Allow\",\"Action\":\"iam:ChangePassword\",\"Resource\":\"arn:iam:iam::1:user/${aws:username}\"}"));
	struct iam_policy_set *set;
	pthread_t th[8];
	struct worker w[8];

	cr_assert_eq(iam_policy_set_new((const struct iam_policy *const *)&p, 1, NULL, &set), 0);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ set, 0 };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(w[i].bad, 0, "thread %d saw %d wrong decisions", i, w[i].bad);
	}
	iam_policy_set_free(set);
	iam_policy_free(p);
}
