/*
 * iam/pwpolicy.h - the password policy of the identity file applied to
 * a new password: length, character classes, the user's name, reuse.
 * Shared by iamctl passwd and pam_iam's password phase, so both refuse
 * the same passwords with the same words.
 */
#ifndef IAM_PWPOLICY_H
#define IAM_PWPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/identity.h"

/*
 * Check password for user against pp:
 *  - at least pp->minimum_length characters (UTF-8 characters, not
 *    bytes) and at most IAM_PASSWORD_MAX bytes;
 *  - an uppercase letter, a lowercase letter, a number, a symbol (ASCII
 *    punctuation), each when the policy requires it;
 *  - not containing the user name, compared without regard to case;
 *  - not one of the last pp->reuse_prevention passwords: history holds
 *    crypt(3) hashes, newest first, the current password's hash first;
 *    only the first reuse_prevention entries are compared (none when
 *    reuse_prevention is 0).  NULL entries are skipped.
 * The rules are checked in that order and the first one broken is
 * reported, so a reader learns nothing about earlier passwords unless
 * every other rule holds.
 *
 * Returns 0 when the password may be used; -EPERM when a rule refuses it,
 * with why set to one sentence "Password rejected: RULE." (RULE in words,
 * e.g. "it must have at least 14 characters"), ready for pam_error or
 * stderr; -EINVAL for a NULL argument, -ENOMEM.  why (whylen bytes) is
 * always NUL-terminated when whylen > 0; it never contains the password.
 */
int iam_password_policy_check(const struct iam_password_policy *pp,
			      const char *user, const char *password,
			      const char *const *history, size_t n_history,
			      char *why, size_t whylen);

/*
 * When a password stops working under max_age_days: 0 for never (no
 * password, or no maximum age); else epoch seconds, changed (or created
 * when the change time is unknown) plus max_age_days days.  A password
 * whose age cannot be told has expired already (1): fail closed.
 * pam_iam's account phase and iamctl credential-report use this one rule.
 */
int64_t iam_password_expiry(bool has_password, int64_t changed,
			    int64_t created, uint32_t max_age_days);

#endif
