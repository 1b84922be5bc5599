/*
 * password.c - crypt(3) password hashes: checking in constant time, the
 * dummy hash that makes unknown names cost the same as the configured
 * method and cost, and new hashes.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "iam.h"
#include "iam/password.h"

#define BCRYPT_COST	11

/* A yescrypt hash nobody's password matches: stands in for a bad hash. */
static const char dummy_yescrypt[] =
	"$y$j9T$k2XAnEHBqQ1Ct2aMXFKNa/$tp.6NrfNtmvgaP3NlOT2UY/U4mTvPraaCqSUv2Senf/";

/* crypt_gensalt_rn()'s prefix and cost count of new hashes of method. */
static const char *
method_prefix(enum iam_hash_method method, unsigned long *count)
{
	switch (method) {
	case IAM_HASH_SHA512CRYPT:
		*count = 0;
		return "$6$";
	case IAM_HASH_BCRYPT:
		*count = BCRYPT_COST;
		return "$2b$";
	case IAM_HASH_YESCRYPT:
	default:
		*count = 0;
		return "$y$";
	}
}

/*
 * The setting (method, cost, salt) new hashes of method get.  Hashing
 * with a bare setting costs exactly what a real hash of that method and
 * cost costs, and no password yields the setting itself, so a setting
 * made from fixed bytes is the dummy hash.  0, -EINVAL.
 */
static int
make_setting(enum iam_hash_method method, const unsigned char *rnd,
	     size_t n, char *buf, size_t len)
{
	unsigned long count = 0;
	const char *prefix = method_prefix(method, &count);

	if (crypt_gensalt_rn(prefix, count, (const char *)rnd, (int)n, buf,
			     (int)len) == NULL)
		return -EINVAL;
	return 0;
}

const char *
iam_password_dummy_hash(enum iam_hash_method method)
{
	static __thread char dummy[3][CRYPT_GENSALT_OUTPUT_SIZE];
	static const unsigned char fixed[16] = "iam dummy salt!";
	unsigned int i = (unsigned int)method < 3 ? (unsigned int)method : 0;

	/* Built with the method's current cost, so it follows that cost. */
	if (dummy[i][0] == '\0' &&
	    make_setting((enum iam_hash_method)i, fixed, sizeof(fixed),
			 dummy[i], sizeof(dummy[i])) < 0)
		return dummy_yescrypt;
	return dummy[i];
}

bool
iam_password_hash_current(const char *hash, enum iam_hash_method method)
{
	static const unsigned char fixed[16] = "iam dummy salt!";
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *salt;

	if (hash == NULL || make_setting(method, fixed, sizeof(fixed),
					 setting, sizeof(setting)) < 0)
		return false;
	/* Method and cost are everything before the salt. */
	salt = strrchr(setting, '$');
	if (salt == NULL || strncmp(hash, setting,
				    (size_t)(salt + 1 - setting)) != 0)
		return false;
	/* "$6$rounds=N$" is sha512crypt at another cost. */
	return method != IAM_HASH_SHA512CRYPT ||
		strncmp(hash, "$6$rounds=", 10) != 0;
}

static bool
supported_prefix(const char *hash)
{
	return strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$6$", 3) == 0 ||
		strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0 ||
		strncmp(hash, "$2a$", 4) == 0;
}

/* The characters of crypt's base64: ./0-9A-Za-z; one look-up each. */
#define B64C_RANGE(a, b)	[a ... b] = 1
static const unsigned char b64crypt[256] = {
	B64C_RANGE('.', '9'), B64C_RANGE('A', 'Z'), B64C_RANGE('a', 'z'),
};
#undef B64C_RANGE

static size_t
b64crypt_span(const char *s)
{
	size_t k = 0;

	while (b64crypt[(unsigned char)s[k]])
		k++;
	return k;
}

/* n (or, with n == 0, one or more) characters of crypt's base64, then end */
static const char *
crypt_chars(const char *s, size_t n, char end)
{
	size_t k = b64crypt_span(s);

	if (k == 0 || (n != 0 && k != n) || s[k] != end)
		return NULL;
	return s + k + (end != '\0');
}

/*
 * The shape of a crypt(3) hash this host accepts: yescrypt, sha512crypt
 * (optional rounds=N with 4-9 digits), bcrypt (cost 04-31), each with
 * its exact salt and hash lengths.
 */
static bool
hash_shape_ok(const char *h)
{
	if (h == NULL)
		return false;
	if (strncmp(h, "$y$", 3) == 0) {
		/* $y$PARAMS$SALT$HASH, the hash 43 characters */
		h = crypt_chars(h + 3, 0, '$');
		if (h != NULL)
			h = crypt_chars(h, 0, '$');
		return h != NULL && crypt_chars(h, 43, '\0') != NULL;
	}
	if (strncmp(h, "$6$", 3) == 0) {
		/* $6$[rounds=N$]SALT$HASH, salt 1-16, hash 86 characters */
		size_t salt;

		h += 3;
		if (strncmp(h, "rounds=", 7) == 0) {
			size_t d = strspn(h + 7, "0123456789");

			if (d < 4 || d > 9 || h[7] == '0' || h[7 + d] != '$')
				return false;
			h += 7 + d + 1;
		}
		salt = b64crypt_span(h);
		if (salt < 1 || salt > 16 || h[salt] != '$')
			return false;
		return crypt_chars(h + salt + 1, 86, '\0') != NULL;
	}
	if (strncmp(h, "$2b$", 4) == 0 || strncmp(h, "$2a$", 4) == 0 ||
	    strncmp(h, "$2y$", 4) == 0) {
		/* $2b$CC$ then 22 characters of salt and 31 of hash */
		int cost;

		h += 4;
		if (h[0] < '0' || h[0] > '9' || h[1] < '0' || h[1] > '9' ||
		    h[2] != '$')
			return false;
		cost = (h[0] - '0') * 10 + (h[1] - '0');
		if (cost < 4 || cost > 31)
			return false;
		return crypt_chars(h + 3, 53, '\0') != NULL;
	}
	return false;
}

/*
 * A setting crypt_r() may be given: a supported method libxcrypt accepts.
 * A dummy hash (a setting alone) is one; it never verifies a password.
 */
static bool
setting_usable(const char *hash)
{
	return hash != NULL && supported_prefix(hash) &&
		strlen(hash) < CRYPT_OUTPUT_SIZE &&
		crypt_checksalt(hash) == CRYPT_SALT_OK;
}

/*
 * What of a hash of good shape crypt_checksalt() has left to judge: the
 * method and its cost, everything before the salt, and the salt's
 * length (its characters the shape checked).  Returns that prefix's
 * length and the salt's.
 */
static size_t
judged_prefix(const char *h, size_t *ret_salt)
{
	const char *last = strrchr(h, '$'), *p = last - 1;

	if (h[1] == '2') {	/* $2b$CC$ then 22 of salt, no '$' after */
		*ret_salt = 22;
		return 7;
	}
	while (*p != '$')	/* $y$PARAMS$ and $6$[rounds=N$] end in '$' */
		p--;
	*ret_salt = (size_t)(last - p - 1);
	return (size_t)(p + 1 - h);
}

/*
 * A file of a million users holds a million hashes of a handful of
 * methods and costs: the last judgement of libxcrypt is kept per thread
 * and reused for a hash that differs from the last one only in salt and
 * hash characters, which hash_shape_ok() has checked.
 */
bool
iam_password_hash_valid(const char *hash)
{
	static __thread char last[64];
	static __thread size_t last_len, last_salt;
	static __thread bool last_ok;
	size_t len, salt;

	if (!hash_shape_ok(hash) || strlen(hash) >= CRYPT_OUTPUT_SIZE)
		return false;
	len = judged_prefix(hash, &salt);
	if (len == last_len && salt == last_salt &&
	    memcmp(hash, last, len) == 0)
		return last_ok;
	last_ok = setting_usable(hash);
	if (len < sizeof(last)) {
		memcpy(last, hash, len);
		last_len = len;
		last_salt = salt;
	} else {
		last_len = 0;
	}
	return last_ok;
}

/* Compare n bytes without an early exit. */
static int
ct_diff(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d;
}

int
iam_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *setting = hash, *out;
	size_t want, got;
	int r;

	if (password == NULL)
		return -EINVAL;
	if (strnlen(password, IAM_PASSWORD_MAX + 1) > IAM_PASSWORD_MAX)
		return -E2BIG;
	/* The same work for a hash that is not usable: never a shortcut. */
	if (!setting_usable(hash))
		setting = dummy_yescrypt;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -ENOMEM;
	out = crypt_r(password, setting, cd);
	if (out == NULL || out[0] == '*') {
		r = -EINVAL;
		goto out_wipe;
	}
	want = strlen(setting);
	got = strlen(out);
	/* crypt_r output of a match has exactly the setting's length. */
	if (got == want && ct_diff(out, setting, want) == 0)
		r = 0;
	else
		r = -EACCES;
	if (setting != hash)
		r = hash == NULL ? -EACCES : -EINVAL;
out_wipe:
	iam_wipe(cd, sizeof(*cd));
	free(cd);
	return r;
}

int
iam_password_hash(const char *password, enum iam_hash_method method,
		  char **ret_hash)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char rnd[16];
	struct crypt_data *cd;
	const char *out;
	size_t len;
	char *h;
	int r = 0;

	if (password == NULL || ret_hash == NULL)
		return -EINVAL;
	len = strnlen(password, IAM_PASSWORD_MAX + 1);
	if (len > IAM_PASSWORD_MAX || len >= CRYPT_MAX_PASSPHRASE_SIZE)
		return -E2BIG;
	if (method == IAM_HASH_BCRYPT && len > IAM_BCRYPT_MAX)
		return -E2BIG;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	if (make_setting(method, rnd, sizeof(rnd), salt, sizeof(salt)) < 0) {
		iam_wipe(rnd, sizeof(rnd));
		return -EINVAL;
	}
	iam_wipe(rnd, sizeof(rnd));
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -ENOMEM;
	out = crypt_r(password, salt, cd);
	if (out == NULL || out[0] == '*')
		r = -EINVAL;
	else if ((h = strdup(out)) == NULL)
		r = -ENOMEM;
	else
		*ret_hash = h;
	iam_wipe(cd, sizeof(*cd));
	free(cd);
	return r;
}
