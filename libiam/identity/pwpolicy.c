/*
 * pwpolicy.c - the identity file's password policy applied to a new
 * password (iam/pwpolicy.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iam.h"
#include "iam/password.h"
#include "iam/pwpolicy.h"

static int
refuse_rule(char *why, size_t whylen, const char *rule)
{
	if (whylen > 0)
		snprintf(why, whylen, "Password rejected: %s.", rule);
	return -EPERM;
}

/* Characters, not bytes: continuation bytes of UTF-8 do not count. */
static size_t
characters(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

struct classes {
	bool upper, lower, digit, symbol;
};

static struct classes
classes_of(const char *s)
{
	struct classes c = { false, false, false, false };

	/* ASCII only: the C locale of a PAM stack must not change the answer. */
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 'A' && ch <= 'Z')
			c.upper = true;
		else if (ch >= 'a' && ch <= 'z')
			c.lower = true;
		else if (ch >= '0' && ch <= '9')
			c.digit = true;
		else if (ch > ' ' && ch < 0x7f)
			c.symbol = true;
	}
	return c;
}

/* strcasestr without the locale: ASCII case folding only. */
static bool
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return false;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

int
iam_password_policy_check(const struct iam_password_policy *pp,
			  const char *user, const char *password,
			  const char *const *history, size_t n_history,
			  char *why, size_t whylen)
{
	struct classes c;
	char rule[96];
	size_t n;

	if (whylen > 0)
		why[0] = '\0';
	if (pp == NULL || user == NULL || password == NULL ||
	    (history == NULL && n_history > 0))
		return -EINVAL;
	if (strnlen(password, IAM_PASSWORD_MAX + 1) > IAM_PASSWORD_MAX) {
		snprintf(rule, sizeof(rule), "it must be at most %d bytes long",
			 IAM_PASSWORD_MAX);
		return refuse_rule(why, whylen, rule);
	}
	if (characters(password) < pp->minimum_length) {
		snprintf(rule, sizeof(rule), "it must have at least %u "
			 "characters", pp->minimum_length);
		return refuse_rule(why, whylen, rule);
	}
	c = classes_of(password);
	if (pp->require_uppercase && !c.upper)
		return refuse_rule(why, whylen, "it must contain an uppercase "
				   "letter (A-Z)");
	if (pp->require_lowercase && !c.lower)
		return refuse_rule(why, whylen, "it must contain a lowercase "
				   "letter (a-z)");
	if (pp->require_numbers && !c.digit)
		return refuse_rule(why, whylen,
				   "it must contain a number (0-9)");
	if (pp->require_symbols && !c.symbol)
		return refuse_rule(why, whylen, "it must contain a symbol "
				   "such as ! @ # $ % ^ & *");
	if (contains_ci(password, user))
		return refuse_rule(why, whylen,
				   "it must not contain the user name");
	n = n_history < pp->reuse_prevention ? n_history : pp->reuse_prevention;
	for (size_t i = 0; i < n; i++) {
		int r;

		if (history[i] == NULL)
			continue;
		r = iam_password_verify(password, history[i]);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			snprintf(rule, sizeof(rule), "it must not be one of "
				 "the last %u passwords", pp->reuse_prevention);
			return refuse_rule(why, whylen, rule);
		}
	}
	return 0;
}

int64_t
iam_password_expiry(bool has_password, int64_t changed, int64_t created,
		    uint32_t max_age_days)
{
	int64_t since = changed > 0 ? changed : created;

	if (!has_password || max_age_days == 0)
		return 0;
	if (since <= 0)
		return 1;
	return since + (int64_t)max_age_days * 86400;
}
