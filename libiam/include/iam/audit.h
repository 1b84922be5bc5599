/*
 * iam/audit.h - the audit trail: one JSON object a line, shaped after
 * CloudTrail, appended to trail_file and copied to syslog (authpriv).
 * Every part writes its events through iam_trail_write().
 */
#ifndef IAM_AUDIT_H
#define IAM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "iam/config.h"
#include "iam/util.h"

/* One entry of requestParameters: a string value. */
struct iam_event_param {
	const char *key;
	const char *value;	/* NULL: the entry is left out */
};

/*
 * One event.  Strings may be NULL: the field is then left out (never
 * written empty).  Never put a password, a code, a hash or a secret here.
 */
struct iam_event {
	int64_t time;			/* epoch seconds; 0 means now */
	const char *source;		/* eventSource: pam_iam, sudo_iam, iamctl */
	const char *name;		/* eventName: Login, Lockout, Unlock ... */
	const char *user_type;		/* userIdentity.type; NULL: IAMUser */
	const char *user_name;		/* userIdentity.userName */
	const char *user_arn;		/* userIdentity.arn */
	const char *source_ip;		/* sourceIPAddress */
	const struct iam_event_param *params;	/* requestParameters */
	size_t n_params;
	const char *error_code;		/* errorCode; NULL on success */
	const char *error_message;	/* errorMessage; optional */
	const char *decision_json;	/* compact JSON object of a decision
					   (iam_result_write_json), or NULL */
};

/*
 * Append the event as one line of JSON ending in '\n' to out (strings
 * escaped by yajl_gen; bytes that are not UTF-8 become '?').  No event is
 * refused for its size: a string over 4 KiB is cut (never inside a
 * character) and the record gets "truncated": true; a record still over
 * 64 KiB is made again with shorter strings and fewer items until it
 * fits, so a line is always under 64 KiB.
 * -EINVAL (no source or name, or decision_json is not a JSON object),
 * -ENOMEM.
 */
int iam_trail_format(const struct iam_event *ev, struct iam_buf *out);

/*
 * Write the event to cfg->trail_file with a single write() on an
 * O_APPEND descriptor, and to syslog (LOG_AUTHPRIV); the syslog copy is
 * sent first, so it goes out even when the file cannot be written.  A missing trail
 * file is created O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600 (a missing
 * folder root 0700); the folder must be root-owned and not writable by
 * group or others, the file root-owned, regular, not a link and not
 * writable by group or others.  Returns 0, or a negative errno when the
 * event could not be recorded (-EPERM insecure, -ELOOP symlink, -EIO
 * short write, ...): callers with trail_required refuse then.
 */
int iam_trail_write(const struct iam_config *cfg, const struct iam_event *ev);

/* Same, with the owner checks of iam_open_strict() flags (tests). */
int iam_trail_write_flags(const struct iam_config *cfg,
			  const struct iam_event *ev, int strict_flags);

#endif
