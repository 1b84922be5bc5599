/*
 * totp.c - time-based one-time passwords (RFC 6238) through liboath, with
 * the step of the match returned so a step is never accepted twice; a
 * user's devices and recovery codes checked together (iam_mfa_verify).
 */
#include <crypt.h>
#include <errno.h>
#include <liboath/oath.h>
#include <sys/random.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "iam/totp.h"

#define MAX_WINDOW	10
/*
 * Recovery codes carry 80 random bits: no guessing gets anywhere near,
 * so the hash needs no cost (sha512crypt at its minimum rounds); it only
 * keeps the codes unreadable in the store.  Checking all ten is cheap.
 */
#define RECOVERY_ROUNDS	1000

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

/* ---- Devices and recovery codes --------------------------------------- */

static uint32_t
fnv32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

uint32_t
iam_mfa_device_tag(const char *name)
{
	uint32_t h;

	if (name == NULL || strcmp(name, IAM_MFA_DEFAULT) == 0)
		return 0;
	h = fnv32(name);
	return h != 0 ? h : 1;
}

uint32_t
iam_recovery_set_tag(const char *const *hashes, size_t n)
{
	uint32_t h;

	if (n == 0 || hashes == NULL || hashes[0] == NULL)
		return 0;
	/*
	 * The first hash's salt is random: a new set gets a new tag; a
	 * spent first code leaves it as it was.
	 */
	h = fnv32(hashes[0] + (hashes[0][0] == IAM_RECOVERY_SPENT));
	return h != 0 ? h : 1;
}

int
iam_recovery_left(const char *const *hashes, size_t n, uint32_t used)
{
	int left = 0;

	for (size_t i = 0; hashes != NULL && i < n; i++)
		if (hashes[i] != NULL && hashes[i][0] != IAM_RECOVERY_SPENT &&
		    (i >= 32 || (used & (1u << i)) == 0))
			left++;
	return left;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int
iam_recovery_normalise(const char *in, char out[IAM_RECOVERY_RAW + 1])
{
	size_t k = 0;

	if (in == NULL)
		return -EINVAL;
	for (size_t i = 0; in[i] != '\0' && i < 64; i++) {
		char c = in[i];

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (k == IAM_RECOVERY_RAW || strchr(b32, c) == NULL ||
		    c == '\0') {
			iam_wipe(out, IAM_RECOVERY_RAW + 1);
			return -EINVAL;
		}
		out[k++] = c;
	}
	out[k] = '\0';
	if (k != IAM_RECOVERY_RAW || strlen(in) >= 64) {
		iam_wipe(out, IAM_RECOVERY_RAW + 1);
		return -EINVAL;
	}
	return 0;
}

int
iam_recovery_generate(char code[IAM_RECOVERY_LEN + 1])
{
	unsigned char raw[IAM_RECOVERY_RAW];
	size_t k = 0;

	/* One random byte per character, 5 bits of each: 80 bits. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -errno ? -errno : -EIO;
	for (size_t i = 0; i < IAM_RECOVERY_RAW; i++) {
		if (i > 0 && i % 4 == 0)
			code[k++] = '-';
		code[k++] = b32[raw[i] & 31];
	}
	code[k] = '\0';
	iam_wipe(raw, sizeof(raw));
	return 0;
}

int
iam_recovery_hash(const char *code, char **ret_hash)
{
	char norm[IAM_RECOVERY_RAW + 1], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *h;
	int r = 0;

	if (iam_recovery_normalise(code, norm) < 0)
		return -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -ENOMEM;
	if (crypt_gensalt_rn("$6$", RECOVERY_ROUNDS, NULL, 0, setting,
			     sizeof(setting)) == NULL)
		r = -EIO;
	h = r ? NULL : crypt_r(norm, setting, cd);
	if (r == 0 && (h == NULL || h[0] == '*'))
		r = -EIO;
	if (r == 0 && (*ret_hash = strdup(h)) == NULL)
		r = -ENOMEM;
	iam_wipe(norm, sizeof(norm));
	iam_wipe(cd, sizeof(*cd));
	free(cd);
	return r;
}

/*
 * Index of the hash norm matches, or -1; every hash is computed, a
 * spent one too (IAM_RECOVERY_SPENT), which never matches.
 */
static int
recovery_match(const char *norm, const char *const *hashes, size_t n)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	int found = -1;

	if (cd == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		bool spent = hashes[i][0] == IAM_RECOVERY_SPENT;
		const char *stored = hashes[i] + spent;
		const char *h = crypt_r(norm, stored, cd);
		size_t len = strlen(stored);

		if (h != NULL && h[0] != '*' && strlen(h) == len &&
		    ct_equal(h, stored, len) && !spent && found < 0)
			found = (int)i;
	}
	iam_wipe(cd, sizeof(*cd));
	free(cd);
	return found;
}

int
iam_mfa_verify(const struct iam_auth_user *u, const char *code, int64_t now,
	       int window, const struct iam_state *st,
	       struct iam_mfa_match *m)
{
	const struct iam_state none = { 0 };
	char given[16] = "", norm[IAM_RECOVERY_RAW + 1];
	const struct iam_auth_mfa *devs;
	struct iam_auth_mfa one;
	size_t n;
	int r = -EACCES;

	*m = (struct iam_mfa_match)IAM_MFA_MATCH_NONE;
	if (u == NULL || code == NULL)
		return -EINVAL;
	if (st == NULL)
		st = &none;
	devs = u->mfa_devices;
	n = u->n_mfa_devices;
	if (n == 0 && u->mfa_secret != NULL) {
		/* A record filled in by hand: its one device is "default". */
		one = (struct iam_auth_mfa){
			.name = IAM_MFA_DEFAULT, .secret = u->mfa_secret,
			.algorithm = u->mfa_algorithm, .digits = u->mfa_digits,
			.period = u->mfa_period,
		};
		devs = &one;
		n = 1;
	}
	if (n == 0)
		return -ENOENT;
	/* A zero-padded copy: iam_totp_verify() reads digits bytes. */
	memcpy(given, code, strnlen(code, sizeof(given) - 1));
	/* Every device is checked, whatever matched. */
	for (size_t i = 0; i < n; i++) {
		const struct iam_auth_mfa *d = &devs[i];
		struct iam_totp t = { d->secret, d->algorithm, d->digits,
				      d->period };
		uint64_t step = 0;
		int v;

		v = iam_totp_verify(&t, given, now, window,
				    iam_state_device_step(st, d->tag), &step);
		if (v == 0 && r != 0) {
			r = 0;
			m->tag = d->tag;
			m->step = step;
		} else if (v == -EALREADY && r == -EACCES) {
			r = -EALREADY;
		}
	}
	iam_wipe(given, sizeof(given));
	if (r != 0 && u->n_recovery_codes > 0 &&
	    iam_recovery_normalise(code, norm) == 0) {
		int i = recovery_match(norm, u->recovery_codes,
				       u->n_recovery_codes);
		uint32_t used = iam_state_recovery_used(st, u->recovery_set);

		if (i >= 0 && (used & (1u << i)) != 0) {
			r = -EALREADY;
		} else if (i >= 0) {
			r = 0;
			m->recovery = i;
			m->recovery_set = u->recovery_set;
		}
		iam_wipe(norm, sizeof(norm));
	}
	return r;
}
