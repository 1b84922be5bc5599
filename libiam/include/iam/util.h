/*
 * iam/util.h - small primitives every part of libiam uses: growable byte
 * buffers, fault lists, secret wiping and bounded number parsing.
 */
#ifndef IAM_UTIL_H
#define IAM_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

/* ---- Secrets --------------------------------------------------------- */

/* Overwrite n bytes at p so the compiler cannot elide it; NULL is fine. */
void iam_wipe(void *p, size_t n);

/* Overwrite a NUL-terminated string in place; NULL is fine. */
void iam_wipe_string(char *s);

/* Wipe and free a string; returns NULL for "s = iam_drop_string(s);". */
char *iam_drop_string(char *s);

/* ---- Byte buffers (after git's strbuf) ------------------------------- */

/*
 * A growable byte buffer.  buf is always NUL-terminated once anything was
 * added; len never counts that NUL.  Initialise with IAM_BUF_INIT.
 * A buffer that may hold a secret is released with iam_buf_wipe().
 */
struct iam_buf {
	char *buf;	/* the bytes, NUL-terminated; NULL until first growth */
	size_t len;	/* bytes in use, not counting the NUL */
	size_t alloc;	/* bytes allocated */
};
#define IAM_BUF_INIT { NULL, 0, 0 }

/* Make room for extra more bytes (and the NUL).  -ENOMEM, -EOVERFLOW. */
int iam_buf_grow(struct iam_buf *b, size_t extra);
/* Append n bytes / a string / printf output.  -ENOMEM on failure. */
int iam_buf_add(struct iam_buf *b, const void *p, size_t n);
int iam_buf_adds(struct iam_buf *b, const char *s);
int iam_buf_addf(struct iam_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free the storage and reset to IAM_BUF_INIT. */
void iam_buf_release(struct iam_buf *b);
/* Wipe the storage, then release it. */
void iam_buf_wipe(struct iam_buf *b);
/* Hand the storage to the caller ("you now own it; free() it"). */
char *iam_buf_detach(struct iam_buf *b, size_t *ret_len);

/* ---- Fault lists ------------------------------------------------------ */

/*
 * A list of human-readable faults, each "PATH: message" where PATH is a
 * JSON path such as users[3].uid or a file name with a line.  Validation
 * collects every fault instead of stopping at the first.  At most
 * IAM_FAULTS_MAX are kept; later ones only raise 'dropped'.
 */
#define IAM_FAULTS_MAX 1000
struct iam_faults {
	char **v;	/* the messages, each malloc'd */
	size_t n;	/* number kept */
	size_t alloc;	/* slots allocated in v */
	size_t dropped;	/* faults not kept because of the cap */
	bool oom;	/* a fault could not be recorded: treat as invalid */
};
#define IAM_FAULTS_INIT { NULL, 0, 0, 0, false }

/* Record "path: message".  path may be NULL or empty (no prefix). */
void iam_fault(struct iam_faults *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void iam_faultv(struct iam_faults *f, const char *path, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));
/* True when any fault was recorded (or one was lost to lack of memory). */
bool iam_faults_any(const struct iam_faults *f);
/* Free every message; the list is empty and reusable afterwards. */
void iam_faults_release(struct iam_faults *f);

/* ---- Bounded parsing -------------------------------------------------- */

/*
 * Parse a decimal integer that must fill the whole string and lie within
 * [min, max].  No sign for unsigned use, no spaces, no leading '+'.
 * -EINVAL (not a number), -EDOM (out of bounds; -ERANGE means only
 * "buffer too small", iam.h).
 */
int iam_parse_ll(const char *s, long long min, long long max,
		 long long *ret_value);

/*
 * Parse an ISO 8601 / RFC 3339 time: "2026-09-01T09:00:00Z",
 * "2026-09-01T09:00:00+02:00", fractional seconds allowed, or a date
 * "2026-09-01" (midnight UTC).  Returns seconds since the epoch.
 * -EINVAL when malformed or out of range.
 */
int iam_parse_time(const char *s, int64_t *ret_epoch);

/* Format epoch seconds as "2026-09-01T09:00:00Z" into buf (>= 21 bytes). */
int iam_format_time(int64_t epoch, char *buf, size_t len);

/* snprintf that fails with -ENAMETOOLONG on truncation. */
int iam_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when s matches ^[a-z_][a-z0-9_.-]{0,31}$ (user and group names). */
bool iam_name_valid(const char *s);

#endif
