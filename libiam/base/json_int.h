/*
 * json_int.h - libiam's own use of the JSON parser (iam/json.h): a parse
 * that hands the items of a document's large arrays to their reader one
 * at a time, so the tree of a million users is never in memory at once.
 */
#ifndef IAM_JSON_INT_H
#define IAM_JSON_INT_H

#include <yajl/yajl_common.h>

#include "iam/json.h"
#include "util_int.h"

/*
 * The arrays to split: the values of keys[] (NULL-ended, at most 32) in the
 * top-level object.  Each of their items, once complete, goes to
 * each(ctx, doc, key, idx, item), key being the document's copy of the
 * key and idx the item's index; item and the nodes under it are valid
 * only during the call (their memory is reused for the next item),
 * while the strings and keys under it last as long as doc.  A negative
 * return stops the parse with that value.  In the finished tree a split
 * array stands empty (len 0).
 */
struct iam_json_split {
	const char *const *keys;
	int (*each)(void *ctx, struct iam_json_doc *doc, const char *key,
		    size_t idx, const struct iam_json *item);
	void *ctx;
	/*
	 * NULL, or: the text is the caller's own, writable, to be wiped as
	 * it is consumed.  It then goes to yajl a window at a time, each
	 * window wiped (and its whole pages given back) once parsed, so the
	 * text and the model built from it are not in memory together; on
	 * return *consumed is how many leading bytes were wiped.
	 */
	size_t *consumed;
	/*
	 * NULL, or member names (NULL-ended, at most 4) whose strings in an
	 * item are stored once for the whole document: the member's value
	 * when it is a string, the strings of its array when it is one.
	 * Names of groups and policies repeat in every user; equal strings
	 * then share one copy, which is never to be written (not a secret).
	 */
	const char *const *shared;
	/*
	 * NULL, or members whose string value in an item lasts only as long
	 * as the item's nodes, for a value its reader converts and keeps
	 * nothing of (a time): pairs of the key of the member's object in
	 * the item ("" for the item itself) and the member's name, NULL
	 * after the last (at most 4 pairs).
	 */
	const char *const *transient;
	/*
	 * NULL, or a reader that takes the items of the split arrays from
	 * the parse's events as they come, with no tree built (below).
	 */
	const struct iam_json_events *events;
};

/*
 * The events of one item of a split array that is an object, for a
 * reader that builds what it keeps straight from them.  start() says
 * whether to take the item (false: it is built as a tree and handed to
 * each() as usual); the events of a taken item follow, its own members
 * at depth 0 (open() and close() bracket the containers inside it), and
 * end() comes at its closing brace.
 *
 * Keys and strings have passed the parse's checks (length, UTF-8, NUL).
 * A string is plain ASCII, as is a key seen for the first time (other
 * text gives the item to the tree); a key whose text the parse judged
 * before may be any UTF-8.  A key is the document's copy (one pointer a
 * text); a string is the parser's bytes, s[len] not NUL, to be copied
 * with iam_json_doc_strdup() or _share() when kept.  The parse's limits
 * (depth, items) are kept as for a tree; a key given twice in one object
 * is the reader's to refuse, by giving the item up (the tree then
 * refuses it).
 *
 * Every callback returns 1 to go on, < 0 to stop the parse with that
 * error, or 0 to give the item up: it is then parsed again from its
 * text, built as a tree and handed to each() as if never taken, so
 * faults and errors are a tree's own.  A reader therefore takes only
 * what it can build exactly as each() would, and gives up the rest.
 */
struct iam_json_events {
	bool (*start)(void *ctx, struct iam_json_doc *doc, const char *key,
		      size_t idx);
	int (*key)(void *ctx, const char *key);
	int (*string)(void *ctx, const unsigned char *s, size_t len);
	int (*number)(void *ctx, const char *s, size_t len);
	int (*boolean)(void *ctx, bool b);
	int (*open)(void *ctx, enum iam_json_type type);
	int (*close)(void *ctx);
	int (*end)(void *ctx);
};

/*
 * A lasting copy of s[0..len) in doc's text arena (NUL ended), and the
 * one shared copy of a split->shared string; NULL when out of memory.
 * _share() is only for a reader of events, during the parse; *ret_copy
 * says the text was copied rather than shared (sharing a file of unique
 * names does not pay): shared copies are equal only when their pointers
 * are.
 */
IAM_PRIVATE const char *iam_json_doc_strdup(struct iam_json_doc *doc,
					    const unsigned char *s,
					    size_t len);
IAM_PRIVATE const char *iam_json_doc_share(struct iam_json_doc *doc,
					   const unsigned char *s, size_t len,
					   bool *ret_copy);

/* iam_json_parse(), the arrays named by split (NULL: none) split. */
IAM_PRIVATE int iam_json_parse_split(const char *buf, size_t len,
				     const struct iam_json_limits *limits,
				     const struct iam_json_split *split,
				     struct iam_json_doc **ret_doc, char *err,
				     size_t errlen);

/*
 * A copy of v (a value of doc, or of an item being handed out) that lasts
 * as long as doc; NULL when out of memory.
 */
IAM_PRIVATE const struct iam_json *iam_json_keep(struct iam_json_doc *doc,
						 const struct iam_json *v);

/*
 * n bytes, zeroed and aligned for pointers and sizes (not for long
 * double), that last as long as doc and are wiped with it; NULL when out
 * of memory.
 */
IAM_PRIVATE void *iam_json_doc_alloc(struct iam_json_doc *doc, size_t n);

/* Bytes of doc's lasting text arena in use: what its strings keep. */
IAM_PRIVATE size_t iam_json_doc_text_bytes(const struct iam_json_doc *doc);

/*
 * Allocation functions for yajl (yajl_alloc(), yajl_gen_alloc()) that
 * wipe a block before it is freed and move it on realloc, so what yajl
 * held of a document with hashes or secrets is not left in freed memory.
 */
IAM_PRIVATE yajl_alloc_funcs *iam_yajl_wiping(void);

#endif
