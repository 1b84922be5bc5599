/*
 * iam/totp.h - one-time codes: TOTP (RFC 6238), a user's named devices
 * and recovery codes, checked together (libiam/base/totp.c).
 */
#ifndef IAM_TOTP_H
#define IAM_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "iam/authdb.h"
#include "iam/identity.h"

/* ---- TOTP (RFC 6238) --------------------------------------------------- */

struct iam_totp {
	const char *secret;		/* base32 */
	enum iam_totp_algo algorithm;
	uint32_t digits;		/* 6-8 */
	uint32_t period;		/* seconds, >= 1 */
};

/*
 * Check code against the device at time now, accepting the steps from
 * now - window to now + window, but only a step later than after_step
 * (the last step accepted for that user; 0 when none).  Every step of the
 * window is computed and compared in constant time, whatever matches.
 * Returns 0 and sets *ret_step to the matched step; -EACCES wrong code;
 * -EALREADY the code matches only steps at or before after_step (replay);
 * -EINVAL malformed secret or parameters.
 */
int iam_totp_verify(const struct iam_totp *t, const char *code, int64_t now,
		    int window, uint64_t after_step, uint64_t *ret_step);

/* The code of the step holding time now, into buf (>= 9 bytes). */
int iam_totp_generate(const struct iam_totp *t, int64_t now, char *buf,
		      size_t len);

/* The step holding time now. */
uint64_t iam_totp_step(const struct iam_totp *t, int64_t now);

/* ---- Devices and recovery codes --------------------------------------- */

/*
 * The replay key of a device in the state file: 0 for "default" (and
 * NULL), whose step is iam_state.last_step as it always was; otherwise
 * a non-zero hash of the name.
 */
uint32_t iam_mfa_device_tag(const char *name);

/* The tag of a set of recovery hashes (0 when n is 0). */
uint32_t iam_recovery_set_tag(const char *const *hashes, size_t n);

#define IAM_RECOVERY_RAW	16	/* base32 characters: 80 bits */
#define IAM_RECOVERY_LEN	19	/* "ABCD-EFGH-JKLM-NPQR" */

/* One new code from getrandom, "XXXX-XXXX-XXXX-XXXX" (base32). */
int iam_recovery_generate(char code[IAM_RECOVERY_LEN + 1]);

/*
 * A code as typed (any case, dashes and spaces ignored) to its 16
 * characters; -EINVAL when it is not one.
 */
int iam_recovery_normalise(const char *in, char out[IAM_RECOVERY_RAW + 1]);

/* The stored form of a code: sha512crypt, own salt.  You free() it. */
int iam_recovery_hash(const char *code, char **ret_hash);

/*
 * A spent code keeps its place in the set, its hash marked with a
 * leading IAM_RECOVERY_SPENT (iam_creds_spend_recovery()): it never
 * matches again, on any host sharing the store, and the set's tag and
 * the other codes' places (the state's marks) stay as they were.
 */
#define IAM_RECOVERY_SPENT	'!'

/*
 * How many codes of the set (hashes, n) are left: neither spent nor
 * marked in used (iam_state_recovery_used() of the set's tag).
 */
int iam_recovery_left(const char *const *hashes, size_t n, uint32_t used);

/*
 * What a right code matched: a step of one device (tag 0 is the device
 * "default", whose step is iam_state.last_step), or one recovery code.
 */
struct iam_mfa_match {
	uint32_t tag;		/* device tag; 0 "default" */
	uint64_t step;		/* matched step; 0 none */
	int recovery;		/* index of the recovery code; -1 none */
	uint32_t recovery_set;	/* the set's tag when recovery >= 0 */
};

#define IAM_MFA_MATCH_NONE	{ .tag = 0, .step = 0, .recovery = -1 }

struct iam_state;

/*
 * Check code against every device of u (each against its own last step
 * in st, which may be NULL for none) and, when it has the shape of one,
 * against u's recovery codes not yet used.  Every device is checked,
 * whatever matched.  0 and *m set; -EALREADY only a replayed step or a
 * used recovery code matched; -EACCES nothing matched; -ENOENT u has no
 * device.  Settle with iam_lockout_settle_mfa(m).
 */
int iam_mfa_verify(const struct iam_auth_user *u, const char *code,
		   int64_t now, int window, const struct iam_state *st,
		   struct iam_mfa_match *m);

#endif
