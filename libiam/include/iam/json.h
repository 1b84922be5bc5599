/*
 * iam/json.h - a strict JSON document tree, parsed with yajl.
 *
 * One parse builds the whole tree in a single arena, so a document is
 * released with one call and lookups never allocate.  The parser is strict
 * where identity and policy files need it to be: invalid UTF-8, a NUL
 * inside a string (\u0000), a duplicate key in an object, and anything
 * beyond the limits (size, depth, string length, items per container) are
 * errors that name the JSON path where they happened.
 */
#ifndef IAM_JSON_H
#define IAM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam/util.h"

enum iam_json_type {
	IAM_JSON_NULL,
	IAM_JSON_BOOL,
	IAM_JSON_NUMBER,
	IAM_JSON_STRING,
	IAM_JSON_ARRAY,
	IAM_JSON_OBJECT,
};

struct iam_json_member;

/* One value.  Every pointer inside lives in the document's arena. */
struct iam_json {
	enum iam_json_type type;
	size_t len;	/* string: bytes; array: items; object: members */
	union {
		bool boolean;
		struct {
			const char *text;	/* as written, NUL-terminated */
			bool is_int;		/* an integer that fits int64 */
			int64_t i;		/* its value when is_int */
		} number;
		const char *string;	/* NUL-terminated, no NUL inside */
		struct iam_json *items;	/* array: len items in order */
		struct iam_json_member *members; /* object: in document order */
	} u;
};

struct iam_json_member {
	const char *key;	/* NUL-terminated, unique within its object */
	struct iam_json value;
};

/* Limits on a document; a zero field means "use the default". */
struct iam_json_limits {
	size_t max_bytes;	/* whole input; default 64 MiB */
	size_t max_depth;	/* nesting; default 64 */
	size_t max_string;	/* one string or key, bytes; default 64 KiB */
	size_t max_items;	/* items of one array or object; default 1,000,000 */
};

struct iam_json_doc;

/*
 * Whether len bytes at s are valid UTF-8 as RFC 3629 defines it: no
 * overlong form (C0 AF), no surrogate (ED A0 80), nothing above U+10FFFF,
 * no stray continuation byte.  Every string iam_json_parse() accepts is.
 */
bool iam_utf8_valid(const char *s, size_t len);

/*
 * Parse len bytes at buf.  On success *ret_doc owns the tree; release it
 * with iam_json_free().  On failure returns -EINVAL (or -ENOMEM, -E2BIG for
 * the size limit) and, when err is not NULL, writes one line such as
 * "users[3].name: invalid UTF-8 in string" or "line 4: premature end of
 * input" into err (errlen bytes, always NUL-terminated).
 */
int iam_json_parse(const char *buf, size_t len,
		   const struct iam_json_limits *limits,
		   struct iam_json_doc **ret_doc, char *err, size_t errlen);

/* The root value of a parsed document (borrowed from doc). */
const struct iam_json *iam_json_root(const struct iam_json_doc *doc);

/* Release a document and everything in it; NULL is fine.  Returns NULL. */
struct iam_json_doc *iam_json_free(struct iam_json_doc *doc);

/* Member of an object by exact key, or NULL (also when v is no object). */
const struct iam_json *iam_json_get(const struct iam_json *v, const char *key);

/* Member by key compared without regard to ASCII case, or NULL. */
const struct iam_json *iam_json_get_ci(const struct iam_json *v,
				       const char *key);

/* Name of a type for messages: "string", "object", ... */
const char *iam_json_type_name(enum iam_json_type t);

/*
 * Append v as compact JSON text to out (strings escaped by yajl_gen).
 * -ENOMEM on failure; out then holds a partial text the caller releases.
 */
int iam_json_write(const struct iam_json *v, struct iam_buf *out);

/* Like iam_json_write(), indented by two spaces, one member a line. */
int iam_json_write_pretty(const struct iam_json *v, struct iam_buf *out);

#endif
