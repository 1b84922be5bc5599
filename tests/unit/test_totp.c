/*
 * test_totp.c - TOTP codes: RFC 6238 vectors for SHA1/SHA256/SHA512,
 * the window, the matched step, replay refusal, malformed input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iam.h"
#include "iam/auth.h"

#define S1 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define S256 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===="
#define S512 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA="

static void
vector(const char *secret, enum iam_totp_algo a, int64_t t, const char *want)
{
	struct iam_totp tp = { secret, a, 8, 30 };
	char buf[16];
	uint64_t step = 0;

	cr_assert_eq(iam_totp_generate(&tp, t, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, want);
	cr_expect_eq(iam_totp_verify(&tp, want, t, 0, 0, &step), 0);
	cr_expect_eq(step, (uint64_t)t / 30);
}

Test(totp, rfc6238_vectors)
{
	vector(S1, IAM_TOTP_SHA1, 59, "94287082");
	vector(S256, IAM_TOTP_SHA256, 59, "46119246");
	vector(S512, IAM_TOTP_SHA512, 59, "90693936");
	vector(S1, IAM_TOTP_SHA1, 1111111109, "07081804");
	vector(S256, IAM_TOTP_SHA256, 1111111109, "68084774");
	vector(S512, IAM_TOTP_SHA512, 1111111109, "25091201");
	vector(S1, IAM_TOTP_SHA1, 20000000000, "65353130");
}

Test(totp, six_and_seven_digits_and_period)
{
	struct iam_totp t6 = { S1, IAM_TOTP_SHA1, 6, 30 };
	struct iam_totp t7 = { S1, IAM_TOTP_SHA1, 7, 60 };
	char buf[16];
	uint64_t step;

	cr_assert_eq(iam_totp_generate(&t6, 59, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "287082");
	cr_assert_eq(iam_totp_generate(&t7, 1000, buf, sizeof(buf)), 0);
	cr_expect_eq(strlen(buf), 7);
	cr_expect_eq(iam_totp_verify(&t7, buf, 1000, 0, 0, &step), 0);
	cr_expect_eq(step, 1000 / 60);
	/* A code of the wrong length never matches. */
	cr_expect_eq(iam_totp_verify(&t6, "0287082", 59, 1, 0, &step), -EACCES);
}

Test(totp, window_accepts_neighbours_only)
{
	struct iam_totp t = { S1, IAM_TOTP_SHA1, 6, 30 };
	int64_t now = 1700000000;
	char prev[16], next[16], far[16];
	uint64_t step = 0;

	cr_assert_eq(iam_totp_generate(&t, now - 30, prev, sizeof(prev)), 0);
	cr_assert_eq(iam_totp_generate(&t, now + 30, next, sizeof(next)), 0);
	cr_assert_eq(iam_totp_generate(&t, now + 60, far, sizeof(far)), 0);
	cr_expect_eq(iam_totp_verify(&t, prev, now, 1, 0, &step), 0);
	cr_expect_eq(step, (uint64_t)(now - 30) / 30);
	cr_expect_eq(iam_totp_verify(&t, next, now, 1, 0, &step), 0);
	cr_expect_eq(step, (uint64_t)(now + 30) / 30);
	cr_expect_eq(iam_totp_verify(&t, far, now, 1, 0, &step), -EACCES);
	cr_expect_eq(iam_totp_verify(&t, prev, now, 0, 0, &step), -EACCES);
	cr_expect_eq(iam_totp_verify(&t, far, now, 2, 0, &step), 0);
}

Test(totp, a_step_is_never_accepted_twice)
{
	struct iam_totp t = { S1, IAM_TOTP_SHA1, 6, 30 };
	int64_t now = 1700000000;
	uint64_t cur = (uint64_t)now / 30, step = 0;
	char code[16], prev[16];

	cr_assert_eq(iam_totp_generate(&t, now, code, sizeof(code)), 0);
	cr_assert_eq(iam_totp_generate(&t, now - 30, prev, sizeof(prev)), 0);
	cr_expect_eq(iam_totp_verify(&t, code, now, 1, cur, &step), -EALREADY);
	cr_expect_eq(iam_totp_verify(&t, prev, now, 1, cur, &step), -EALREADY);
	cr_expect_eq(iam_totp_verify(&t, code, now, 1, cur - 1, &step), 0);
	cr_expect_eq(step, cur);
}

Test(totp, malformed_input_is_refused)
{
	struct iam_totp t = { S1, IAM_TOTP_SHA1, 6, 30 };
	struct iam_totp bad = { "NOT*BASE32!", IAM_TOTP_SHA1, 6, 30 };
	struct iam_totp shortkey = { "GEZDGNBV", IAM_TOTP_SHA1, 6, 30 };
	struct iam_totp digits = { S1, IAM_TOTP_SHA1, 9, 30 };
	struct iam_totp period = { S1, IAM_TOTP_SHA1, 6, 0 };
	uint64_t step = 42;

	cr_expect_eq(iam_totp_verify(&bad, "123456", 59, 1, 0, &step), -EINVAL);
	cr_expect_eq(iam_totp_verify(&shortkey, "123456", 59, 1, 0, &step),
		     -EINVAL);
	cr_expect_eq(iam_totp_verify(&digits, "123456", 59, 1, 0, &step),
		     -EINVAL);
	cr_expect_eq(iam_totp_verify(&period, "123456", 59, 1, 0, &step),
		     -EINVAL);
	cr_expect_eq(iam_totp_verify(&t, NULL, 59, 1, 0, &step), -EINVAL);
	cr_expect_eq(iam_totp_verify(&t, "12a456", 59, 1, 0, &step), -EACCES);
	cr_expect_eq(iam_totp_verify(&t, "", 59, 1, 0, &step), -EACCES);
	cr_expect_eq(iam_totp_verify(&t, "287082", 59, 11, 0, &step), -EINVAL);
	cr_expect_eq(step, 42, "ret_step touched on failure");
}
