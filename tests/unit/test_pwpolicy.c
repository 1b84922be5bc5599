/*
 * test_pwpolicy.c - the password policy applied to new passwords
 * (libiam/identity/pwpolicy.c): each rule refuses with its words, in order, and
 * a password passing every rule is accepted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iam.h"
#include "iam/auth.h"
#include "iam/pwpolicy.h"

static struct iam_password_policy
strict_policy(void)
{
	struct iam_password_policy pp = {
		.minimum_length = 14, .require_uppercase = true,
		.require_lowercase = true, .require_numbers = true,
		.require_symbols = true, .reuse_prevention = 3,
	};

	return pp;
}

static int
check(const struct iam_password_policy *pp, const char *user, const char *pw,
      char *why, size_t len)
{
	return iam_password_policy_check(pp, user, pw, NULL, 0, why, len);
}

Test(pwpolicy, accepts_a_password_that_passes_every_rule)
{
	struct iam_password_policy pp = strict_policy();
	char why[160] = "untouched";

	cr_assert_eq(check(&pp, "alice", "Correct-Horse-9-Battery", why,
			   sizeof(why)), 0);
	cr_assert_str_empty(why);
}

Test(pwpolicy, refuses_a_short_password_with_the_minimum_in_words)
{
	struct iam_password_policy pp = strict_policy();
	char why[160];

	cr_assert_eq(check(&pp, "alice", "Sh0rt-Pass!", why, sizeof(why)),
		     -EPERM);
	cr_assert_str_eq(why, "Password rejected: it must have at least 14 "
			 "characters.");
}

Test(pwpolicy, counts_characters_not_bytes)
{
	struct iam_password_policy pp = { .minimum_length = 8 };
	char why[160];

	/* Seven characters, fourteen bytes: too short. */
	cr_assert_eq(check(&pp, "alice", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
			   why, sizeof(why)), -EPERM);
	cr_assert(strstr(why, "at least 8") != NULL);
	cr_assert_eq(check(&pp, "alice", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
			   why, sizeof(why)), 0);
}

Test(pwpolicy, refuses_each_missing_class)
{
	struct iam_password_policy pp = strict_policy();
	char why[160];

	cr_assert_eq(check(&pp, "alice", "correct-horse-9-battery", why,
			   sizeof(why)), -EPERM);
	cr_assert(strstr(why, "uppercase") != NULL, "%s", why);
	cr_assert_eq(check(&pp, "alice", "CORRECT-HORSE-9-BATTERY", why,
			   sizeof(why)), -EPERM);
	cr_assert(strstr(why, "lowercase") != NULL, "%s", why);
	cr_assert_eq(check(&pp, "alice", "Correct-Horse-X-Battery", why,
			   sizeof(why)), -EPERM);
	cr_assert(strstr(why, "number") != NULL, "%s", why);
	cr_assert_eq(check(&pp, "alice", "CorrectHorse9Battery", why,
			   sizeof(why)), -EPERM);
	cr_assert(strstr(why, "symbol") != NULL, "%s", why);
}

Test(pwpolicy, classes_not_required_are_not_checked)
{
	struct iam_password_policy pp = { .minimum_length = 6 };
	char why[160];

	cr_assert_eq(check(&pp, "alice", "aaaaaaaa", why, sizeof(why)), 0);
}

Test(pwpolicy, refuses_the_user_name_in_any_case)
{
	struct iam_password_policy pp = strict_policy();
	char why[160];

	cr_assert_eq(check(&pp, "alice", "My-ALICE-Password-9", why,
			   sizeof(why)), -EPERM);
	cr_assert_str_eq(why, "Password rejected: it must not contain the "
			 "user name.");
}

Test(pwpolicy, refuses_one_of_the_last_passwords_only_within_reuse_prevention)
{
	struct iam_password_policy pp = strict_policy();
	const char *pw = "Correct-Horse-9-Battery";
	const char *hist[4] = { NULL, NULL, NULL, NULL };
	char *h = NULL, *other = NULL, why[160];

	cr_assert_eq(iam_password_hash(pw, IAM_HASH_SHA512CRYPT, &h), 0);
	cr_assert_eq(iam_password_hash("Other-Horse-8-Battery",
				       IAM_HASH_SHA512CRYPT, &other), 0);
	/* The current password's hash first, then the history. */
	hist[0] = other;
	hist[1] = h;
	cr_assert_eq(iam_password_policy_check(&pp, "alice", pw, hist, 2, why,
					       sizeof(why)), -EPERM);
	cr_assert_str_eq(why, "Password rejected: it must not be one of the "
			 "last 3 passwords.");
	/* Beyond reuse_prevention entries, an old password may come back. */
	hist[0] = other;
	hist[1] = other;
	hist[2] = other;
	hist[3] = h;
	cr_assert_eq(iam_password_policy_check(&pp, "alice", pw, hist, 4, why,
					       sizeof(why)), 0);
	pp.reuse_prevention = 0;
	cr_assert_eq(iam_password_policy_check(&pp, "alice", pw, hist + 3, 1,
					       why, sizeof(why)), 0);
	iam_drop_string(h);
	iam_drop_string(other);
}

Test(pwpolicy, refuses_an_overlong_password_without_hashing)
{
	struct iam_password_policy pp = strict_policy();
	char pw[IAM_PASSWORD_MAX + 2], why[160];

	memset(pw, 'A', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	cr_assert_eq(check(&pp, "alice", pw, why, sizeof(why)), -EPERM);
	cr_assert(strstr(why, "at most 512 bytes") != NULL, "%s", why);
}

Test(pwpolicy, never_puts_the_password_into_the_reason)
{
	struct iam_password_policy pp = strict_policy();
	const char *pws[] = { "x", "lowercaseonly-long", "ALICE-alice-9!zzzz" };
	char why[160];

	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(check(&pp, "alice", pws[i], why, sizeof(why)),
			     -EPERM);
		cr_assert(strstr(why, pws[i]) == NULL);
	}
}

Test(pwpolicy, rejects_null_arguments_and_truncates_safely)
{
	struct iam_password_policy pp = strict_policy();
	char why[8];

	cr_assert_eq(iam_password_policy_check(NULL, "a", "b", NULL, 0, why,
					       sizeof(why)), -EINVAL);
	cr_assert_eq(iam_password_policy_check(&pp, NULL, "b", NULL, 0, why,
					       sizeof(why)), -EINVAL);
	cr_assert_eq(iam_password_policy_check(&pp, "a", NULL, NULL, 0, why,
					       sizeof(why)), -EINVAL);
	cr_assert_eq(iam_password_policy_check(&pp, "a", "b", NULL, 2, why,
					       sizeof(why)), -EINVAL);
	cr_assert_eq(check(&pp, "alice", "x", why, sizeof(why)), -EPERM);
	cr_assert_eq(strlen(why), sizeof(why) - 1);
	cr_assert_eq(check(&pp, "alice", "x", NULL, 0), -EPERM);
}

Test(pwpolicy, password_expiry_rule)
{
	const int64_t day = 86400;

	cr_expect_eq(iam_password_expiry(false, 1000, 500, 90), 0, "no password");
	cr_expect_eq(iam_password_expiry(true, 1000, 500, 0), 0, "no maximum");
	cr_expect_eq(iam_password_expiry(true, 1000, 500, 90), 1000 + 90 * day);
	cr_expect_eq(iam_password_expiry(true, 0, 500, 90), 500 + 90 * day,
		     "created when the change time is unknown");
	cr_expect_eq(iam_password_expiry(true, 0, 0, 90), 1,
		     "an age that cannot be told has expired");
}
