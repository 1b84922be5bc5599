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
#include "iam/auth.h"

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

bool
iam_password_hash_valid(const char *hash)
{
	if (hash == NULL || !supported_prefix(hash) ||
	    strlen(hash) >= CRYPT_OUTPUT_SIZE)
		return false;
	return crypt_checksalt(hash) == CRYPT_SALT_OK;
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
	if (!iam_password_hash_valid(hash))
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
