/*
 * test_fleet_creds.c - credential records that travel between hosts:
 * sealed with the fleet key, signed by the host; every tampering refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "fleet_host.h"

static const char plain[] =
	"{\"uid\":70001,\"password\":{\"hash\":\"$6$salt$hash\",\"changed\":\"2026-12-01T00:00:00Z\"}}";
static uint8_t pk[32], sk[64], pk2[32], sk2[64], key[32], key2[32];

static void
setup(void)
{
	cr_assert_eq(fleet_crypto_init(), 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(key2, sizeof(key2));
}

TestSuite(fleet_creds, .init = setup);

static void
make(struct iam_buf *rec)
{
	cr_assert_eq(fleet_cred_make(sk, key, 70001, "web1", 1800000000123456789LL,
				     plain, strlen(plain), rec), 0);
}

Test(fleet_creds, a_record_round_trips_and_opens)
{
	struct iam_buf rec = IAM_BUF_INIT, out = IAM_BUF_INIT;
	struct fleet_cred c;
	char err[128] = "";

	make(&rec);
	cr_assert_eq(fleet_cred_parse(rec.buf, rec.len, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.uid, 70001);
	cr_expect_str_eq(c.host, "web1");
	cr_expect_eq(c.time, 1800000000123456789LL);
	cr_expect_eq(fleet_cred_verify(&c, pk), 0);
	cr_assert_eq(fleet_cred_open(&c, key, &out), 0);
	cr_expect_eq(out.len, strlen(plain));
	cr_expect_eq(memcmp(out.buf, plain, out.len), 0);
	cr_expect_null(strstr(rec.buf, "$6$"), "the hash never travels in the clear");
	iam_buf_wipe(&out);
	fleet_cred_release(&c);
	iam_buf_release(&rec);
}

Test(fleet_creds, another_host_key_or_fleet_key_is_refused)
{
	struct iam_buf rec = IAM_BUF_INIT, out = IAM_BUF_INIT;
	struct fleet_cred c;
	char err[128];

	make(&rec);
	cr_assert_eq(fleet_cred_parse(rec.buf, rec.len, &c, err, sizeof(err)), 0);
	cr_expect_eq(fleet_cred_verify(&c, pk2), -EBADMSG);
	cr_expect_eq(fleet_cred_open(&c, key2, &out), -EBADMSG);
	iam_buf_wipe(&out);
	fleet_cred_release(&c);
	iam_buf_release(&rec);
}

Test(fleet_creds, every_signed_field_is_bound)
{
	struct iam_buf rec = IAM_BUF_INIT;
	struct fleet_cred c;
	char err[128];

	make(&rec);
	cr_assert_eq(fleet_cred_parse(rec.buf, rec.len, &c, err, sizeof(err)), 0);
	c.uid = 70002;
	cr_expect_eq(fleet_cred_verify(&c, pk), -EBADMSG, "uid");
	c.uid = 70001;
	c.time++;
	cr_expect_eq(fleet_cred_verify(&c, pk), -EBADMSG, "time: newer by forgery");
	c.time--;
	strcpy(c.host, "web2");
	cr_expect_eq(fleet_cred_verify(&c, pk), -EBADMSG, "host");
	strcpy(c.host, "web1");
	c.sealed.buf[30] ^= 1;
	cr_expect_eq(fleet_cred_verify(&c, pk), -EBADMSG, "sealed box");
	fleet_cred_release(&c);
	iam_buf_release(&rec);
}

Test(fleet_creds, malformed_records_are_refused)
{
	static const char *const bad[] = {
		"", "{}", "[]",
		"{\"uid\":70001,\"host\":\"w\",\"time\":1,\"sealed\":\"AA==\",\"signature\":\"AA==\"}",
		"{\"uid\":-1,\"host\":\"w\",\"time\":1,\"sealed\":\"AA==\",\"signature\":\"AA==\"}",
		"{\"uid\":1,\"host\":\"\",\"time\":1,\"sealed\":\"AA==\",\"signature\":\"AA==\"}",
		"{\"uid\":1,\"host\":\"w\",\"time\":0,\"sealed\":\"AA==\",\"signature\":\"AA==\"}",
		"{\"uid\":1,\"host\":\"w\",\"time\":1,\"sealed\":\"AA==\",\"signature\":\"AA==\",\"x\":1}",
	};
	struct fleet_cred c;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(fleet_cred_parse(bad[i], strlen(bad[i]), &c, err,
					      sizeof(err)), -EINVAL, "case %zu", i);
}
