/*
 * totp.c - time-based one-time passwords (RFC 6238) through liboath, with
 * the step of the match returned so a step is never accepted twice.
 */
#include <errno.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "iam/auth.h"

#define MAX_WINDOW	10

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status;

static void
oath_setup(void)
{
	oath_status = oath_init();
}

static int
algo_flags(enum iam_totp_algo a, int *ret)
{
	switch (a) {
	case IAM_TOTP_SHA1:
		*ret = 0;
		return 0;
	case IAM_TOTP_SHA256:
		*ret = OATH_TOTP_HMAC_SHA256;
		return 0;
	case IAM_TOTP_SHA512:
		*ret = OATH_TOTP_HMAC_SHA512;
		return 0;
	}
	return -EINVAL;
}

/* Decode the base32 secret; the caller wipes and frees *ret_key. */
static int
decode(const struct iam_totp *t, int *ret_flags, char **ret_key,
       size_t *ret_len)
{
	char *key = NULL;
	size_t len = 0;

	if (t == NULL || t->secret == NULL || t->digits < 6 || t->digits > 8 ||
	    t->period < 1 || algo_flags(t->algorithm, ret_flags) < 0)
		return -EINVAL;
	if (pthread_once(&oath_once, oath_setup) != 0 || oath_status != OATH_OK)
		return -EIO;
	if (oath_base32_decode(t->secret, strlen(t->secret), &key, &len) !=
	    OATH_OK || len < 16) {
		if (key != NULL) {
			iam_wipe(key, len);
			free(key);
		}
		return -EINVAL;
	}
	*ret_key = key;
	*ret_len = len;
	return 0;
}

uint64_t
iam_totp_step(const struct iam_totp *t, int64_t now)
{
	if (now < 0 || t->period == 0)
		return 0;
	return (uint64_t)now / t->period;
}

static int
gen(const struct iam_totp *t, const char *key, size_t len, int flags,
    uint64_t step, char *out)
{
	time_t at = (time_t)(step * t->period);

	return oath_totp_generate2(key, len, at, t->period, 0, t->digits,
				   flags, out) == OATH_OK ? 0 : -EINVAL;
}

int
iam_totp_generate(const struct iam_totp *t, int64_t now, char *buf,
		  size_t buflen)
{
	char *key;
	size_t len;
	int flags, r;

	if (buf == NULL || buflen < 9)
		return -ERANGE;
	r = decode(t, &flags, &key, &len);
	if (r < 0)
		return r;
	r = gen(t, key, len, flags, iam_totp_step(t, now), buf);
	iam_wipe(key, len);
	free(key);
	return r;
}

static unsigned
ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

static bool
well_formed(const char *code, uint32_t digits)
{
	size_t n = strnlen(code, 16);

	if (n != digits)
		return false;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

int
iam_totp_verify(const struct iam_totp *t, const char *code, int64_t now,
		int window, uint64_t after_step, uint64_t *ret_step)
{
	char want[16], given[16] = { 0 };
	char *key;
	size_t len;
	uint64_t cur, found = 0;
	bool fresh = false, stale = false, ok;
	int flags, r = 0;

	if (code == NULL || window < 0 || window > MAX_WINDOW || now < 0)
		return -EINVAL;
	r = decode(t, &flags, &key, &len);
	if (r < 0)
		return r;
	/*
	 * The comparison always reads t->digits bytes: give it a zeroed
	 * copy, so a short answer never reads past its end.
	 */
	snprintf(given, sizeof(given), "%.*s", (int)sizeof(given) - 1, code);
	ok = well_formed(code, t->digits);
	cur = iam_totp_step(t, now);
	/* Every step of the window is computed, whatever matched. */
	for (int64_t off = -window; off <= window && r == 0; off++) {
		uint64_t step;
		unsigned eq;

		if (off < 0 && (uint64_t)-off > cur)
			continue;
		step = cur + (uint64_t)off;
		r = gen(t, key, len, flags, step, want);
		if (r < 0)
			break;
		eq = ok & ct_equal(want, given, t->digits);
		if (eq && step > after_step && !fresh) {
			fresh = true;
			found = step;
		} else if (eq && step <= after_step) {
			stale = true;
		}
	}
	iam_wipe(want, sizeof(want));
	iam_wipe(given, sizeof(given));
	iam_wipe(key, len);
	free(key);
	if (r < 0)
		return r;
	if (fresh) {
		*ret_step = found;
		return 0;
	}
	return stale ? -EALREADY : -EACCES;
}
