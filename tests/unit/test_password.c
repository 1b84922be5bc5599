/*
 * test_password.c - crypt(3) hashes: verification of every supported
 * kind, the dummy hash for unknown names, length limits, new hashes.
 */
#include <criterion/criterion.h>
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iam.h"
#include "iam/auth.h"

static void
roundtrip(enum iam_hash_method m, const char *prefix)
{
	char *h = NULL, *h2 = NULL;

	cr_assert_eq(iam_password_hash("s3cret pass", m, &h), 0);
	cr_assert_eq(strncmp(h, prefix, strlen(prefix)), 0, "%s", h);
	cr_assert(iam_password_hash_valid(h));
	cr_expect_eq(iam_password_verify("s3cret pass", h), 0);
	cr_expect_eq(iam_password_verify("s3cret pasS", h), -EACCES);
	cr_expect_eq(iam_password_verify("", h), -EACCES);
	/* A fresh salt every time. */
	cr_assert_eq(iam_password_hash("s3cret pass", m, &h2), 0);
	cr_expect_str_neq(h, h2);
	free(h);
	free(h2);
}

Test(password, yescrypt_roundtrip)
{
	roundtrip(IAM_HASH_YESCRYPT, "$y$");
}

Test(password, sha512crypt_roundtrip)
{
	roundtrip(IAM_HASH_SHA512CRYPT, "$6$");
}

Test(password, bcrypt_roundtrip)
{
	roundtrip(IAM_HASH_BCRYPT, "$2b$");
}

Test(password, known_vectors_of_each_kind)
{
	/* Made with another crypt(3) front end for the password "password". */
	char *h = NULL;

	cr_assert_eq(iam_password_hash("password", IAM_HASH_SHA512CRYPT, &h), 0);
	cr_expect_eq(iam_password_verify("password", h), 0);
	free(h);
	cr_expect_eq(iam_password_verify("password",
		"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"), 0);
	cr_expect_eq(iam_password_verify("password",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$tnSYvahCwPBHKZUspmcxMfb0.WiB9W.zEaKlOBL35rC"), 0);
	cr_expect_eq(iam_password_verify("password",
		"$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"), 0);
}

Test(password, unknown_or_missing_hash_costs_a_hash_and_fails)
{
	struct timespec a, b;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(iam_password_verify("anything", NULL), -EACCES);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		(double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_expect_gt(ms, 5.0, "the dummy hash was not computed (%.2f ms)", ms);
	cr_expect_eq(iam_password_verify("x", "not-a-hash"), -EINVAL);
	cr_expect_eq(iam_password_verify("x", "$1$md5$deprecated"), -EINVAL);
	cr_expect_eq(iam_password_verify("x", "!"), -EINVAL);
	cr_expect_eq(iam_password_verify("x", ""), -EINVAL);
}

Test(password, dummy_hashes_never_verify_a_guess)
{
	const enum iam_hash_method m[] = { IAM_HASH_YESCRYPT,
		IAM_HASH_SHA512CRYPT, IAM_HASH_BCRYPT };

	for (int i = 0; i < 3; i++) {
		const char *d = iam_password_dummy_hash(m[i]);

		/* A setting alone: usable by crypt, never a valid hash. */
		cr_assert_eq(crypt_checksalt(d), CRYPT_SALT_OK, "%s", d);
		cr_assert_not(iam_password_hash_valid(d), "%s", d);
		cr_expect_eq(iam_password_verify("", d), -EACCES);
		cr_expect_eq(iam_password_verify("password", d), -EACCES);
	}
}

Test(password, over_512_bytes_refused_without_hashing)
{
	char big[600];
	char *h = NULL;
	struct timespec a, b;
	double ms;

	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(iam_password_verify(big, iam_password_dummy_hash(
		IAM_HASH_YESCRYPT)), -E2BIG);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		(double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_expect_lt(ms, 2.0, "%.2f ms", ms);
	cr_expect_eq(iam_password_hash(big, IAM_HASH_YESCRYPT, &h), -E2BIG);
	/* crypt(3) takes at most 511 bytes: a 512-byte one cannot be set. */
	big[512] = '\0';
	cr_expect_eq(iam_password_hash(big, IAM_HASH_SHA512CRYPT, &h), -E2BIG);
	big[511] = '\0';
	cr_expect_eq(iam_password_hash(big, IAM_HASH_SHA512CRYPT, &h), 0);
	cr_expect_eq(iam_password_verify(big, h), 0);
	free(h);
}

Test(password, bcrypt_refuses_over_72_bytes_at_set_time)
{
	char p[80];
	char *h = NULL;

	memset(p, 'b', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	cr_expect_eq(iam_password_hash(p, IAM_HASH_BCRYPT, &h), -E2BIG);
	cr_expect_null(h);
	p[72] = '\0';
	cr_expect_eq(iam_password_hash(p, IAM_HASH_BCRYPT, &h), 0);
	free(h);
}

Test(password, null_arguments)
{
	char *h = NULL;

	cr_expect_eq(iam_password_verify(NULL, "$y$x"), -EINVAL);
	cr_expect_eq(iam_password_hash(NULL, IAM_HASH_YESCRYPT, &h), -EINVAL);
	cr_expect(!iam_password_hash_valid(NULL));
}

/*
 * The dummy hash of each method has that method's cost, so an unknown
 * name costs what a known one does; a hash is "current" only with the
 * method and cost new hashes get.
 */
Test(password, dummy_hash_has_the_method_and_cost_of_new_hashes)
{
	const enum iam_hash_method m[] = { IAM_HASH_YESCRYPT,
		IAM_HASH_SHA512CRYPT, IAM_HASH_BCRYPT };

	for (int i = 0; i < 3; i++) {
		char *h = NULL;

		cr_assert_eq(iam_password_hash("pw", m[i], &h), 0);
		cr_expect(iam_password_hash_current(h, m[i]), "%s", h);
		cr_expect(iam_password_hash_current(
			iam_password_dummy_hash(m[i]), m[i]));
		for (int j = 0; j < 3; j++)
			if (j != i)
				cr_expect(!iam_password_hash_current(h, m[j]),
					  "%s as %d", h, j);
		free(h);
	}
	cr_expect(!iam_password_hash_current(
		"$6$rounds=10000$abcdefgh$0123456789", IAM_HASH_SHA512CRYPT));
	cr_expect(!iam_password_hash_current(
		"$2b$12$KBCwKxOzLha2MUDgW0PjXeBhuyd0l5UQ.bh1m8qaAMMLsuXVZe2jS",
		IAM_HASH_BCRYPT));
	cr_expect(!iam_password_hash_current(
		"$y$j8T$k2XAnEHBqQ1Ct2aMXFKNa/$tp.6NrfNtmvgaP3NlOT2UY/U4mTvPraaCqSUv2Senf/",
		IAM_HASH_YESCRYPT));
	cr_expect(!iam_password_hash_current(NULL, IAM_HASH_YESCRYPT));
}

/*
 * One password-hash validator: the identity file, the credential store
 * and pam_iam used two that disagreed on the last three of these nine
 * (a truncated sha512crypt, an empty salt, a trailing ':').
 */
Test(password, one_hash_validator_answers_the_nine_shapes)
{
	static const struct { const char *h; bool ok; } v[] = {
		{ "$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB", true },
		{ "$6$pvmn4htoh.wWMtTq$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/", true },
		{ "$6$rounds=5000$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91", true },
		{ "$2b$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a", true },
		{ "$2y$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a", true },
		{ "$2x$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a", false },
		{ "$6$pvmn4htoh.wWMtTq$ILMhIry", false },
		{ "$6$$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/", false },
		{ "$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB:", false },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_expect_eq(iam_password_hash_valid(v[i].h), v[i].ok,
			     "%s: expected %s", v[i].h, v[i].ok ? "valid" :
			     "refused");
	/* bcrypt costs outside 04-31 and rounds with a leading zero. */
	cr_expect_not(iam_password_hash_valid("$2b$03$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a"));
	cr_expect_not(iam_password_hash_valid("$2b$32$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a"));
	cr_expect_not(iam_password_hash_valid("$6$rounds=0999$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91"));
	/* A refused hash never verifies, whatever the password. */
	cr_expect_neq(iam_password_verify("x", "$6$pvmn4htoh.wWMtTq$ILMhIry"), 0);
}

/*
 * The validator keeps libxcrypt's last judgement per thread and reuses
 * it for a hash differing only in salt and hash characters: each hash,
 * judged right after each other, gets the answer a fresh thread gives.
 */
static const char *const judged[] = {
	"$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
	"$y$j9T$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtn",
	"$y$j9T$OXp/GwF3TnE0H.m.bLPMR$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
	"$y$j9T$OXp/GwF3TnE0H.m.bLPM:0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
	"$y$jBT$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
	"$6$pvmn4htoh.wWMtTq$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/",
	"$6$rounds=5000$pvmn4htoh.wWMtTq$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/",
	"$6$rounds=0500$pvmn4htoh.wWMtTq$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/",
	"$6$pvmn4htoh.wWMtTqX$ILMhIryS8piZ7L.0POP69EF9dmT6iojLuRRvZgZxPELCm45O5syH23C0CcMPQtJF/oNKQxx2OBvqHEmXUjWDP/",
	"$2b$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a",
	"$2b$03$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a",
	"$2b$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8",
	"$2y$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a",
	"$2x$05$GQOpAtKmwvxZnFBZDNCR7eRdXeJkHEMtFpJfzh4Ie6RrTXGp28Y8a",
	"$y$j9T$$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
	"$y$$OXp/GwF3TnE0H.m.bLPMR0$g9cEIFuSX2q.kwXDNsmbf1Uv5TTJ99DkA2Aq0wDgtnB",
};
#define N_JUDGED (sizeof(judged) / sizeof(judged[0]))

static void *
judge_alone(void *arg)
{
	return (void *)(uintptr_t)iam_password_hash_valid(arg);
}

Test(password, a_reused_judgement_is_the_one_a_fresh_thread_gives)
{
	bool alone[N_JUDGED];
	size_t n_valid = 0;

	for (size_t i = 0; i < N_JUDGED; i++) {
		pthread_t t;
		void *r;

		cr_assert_eq(pthread_create(&t, NULL, judge_alone,
					    (void *)judged[i]), 0);
		cr_assert_eq(pthread_join(t, &r), 0);
		alone[i] = r != NULL;
		n_valid += alone[i];
	}
	/* the list holds both kinds */
	cr_expect_geq(n_valid, 4);
	cr_expect_leq(n_valid, N_JUDGED - 6);
	/* every ordered pair, one right after the other, in this thread */
	for (size_t i = 0; i < N_JUDGED; i++)
		for (size_t j = 0; j < N_JUDGED; j++) {
			cr_expect_eq(iam_password_hash_valid(judged[i]),
				     alone[i], "%s", judged[i]);
			cr_expect_eq(iam_password_hash_valid(judged[j]),
				     alone[j], "%s after %s", judged[j],
				     judged[i]);
		}
}
