/*
 * password.c - crypt(3) password hashes: checking in constant time, the
 * dummy hash that makes unknown names cost the same, and new hashes.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "iam.h"
#include "iam/auth.h"

#define BCRYPT_COST	11

/*
 * Hashes of a password nobody knows, at the cost new hashes get, so an
 * unknown name or a user without a password costs one real hash.
 */
static const char dummy_yescrypt[] =
	"$y$j9T$k2XAnEHBqQ1Ct2aMXFKNa/$tp.6NrfNtmvgaP3NlOT2UY/U4mTvPraaCqSUv2Senf/";
static const char dummy_sha512[] =
	"$6$k2XAnEHBqQ1Ct2aM$kY5skkI0kSi8HHigjzfDXACFVBRsuuCqAuvPWGmSpn9oHmfC"
	"J1llZW5VJ6SI5o5KFmeOK6onMw44XB0RO0f4N0";
static const char dummy_bcrypt[] =
	"$2b$11$KBCwKxOzLha2MUDgW0PjXeBhuyd0l5UQ.bh1m8qaAMMLsuXVZe2jS";

const char *
iam_password_dummy_hash(enum iam_hash_method method)
{
	switch (method) {
	case IAM_HASH_SHA512CRYPT:
		return dummy_sha512;
	case IAM_HASH_BCRYPT:
		return dummy_bcrypt;
	case IAM_HASH_YESCRYPT:
	default:
		return dummy_yescrypt;
	}
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
	const char *prefix, *out;
	unsigned long count = 0;
	size_t len;
	char *h;
	int r = 0;

	if (password == NULL || ret_hash == NULL)
		return -EINVAL;
	len = strnlen(password, IAM_PASSWORD_MAX + 1);
	if (len > IAM_PASSWORD_MAX || len >= CRYPT_MAX_PASSPHRASE_SIZE)
		return -E2BIG;
	switch (method) {
	case IAM_HASH_SHA512CRYPT:
		prefix = "$6$";
		break;
	case IAM_HASH_BCRYPT:
		if (len > IAM_BCRYPT_MAX)
			return -E2BIG;
		prefix = "$2b$";
		count = BCRYPT_COST;
		break;
	case IAM_HASH_YESCRYPT:
	default:
		prefix = "$y$";
		break;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	if (crypt_gensalt_rn(prefix, count, (const char *)rnd, sizeof(rnd),
			     salt, sizeof(salt)) == NULL) {
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
