/*
 * json.c - a strict JSON tree in one arena, parsed with yajl's callbacks.
 *
 * Values are collected on a stack while their container is open; when it
 * closes, its children are copied into one contiguous arena array, so the
 * finished tree needs no per-node allocation and no per-node free.  Keys
 * are interned: every occurrence of one key text shares one copy, so a
 * file of many alike objects stores each key once, and two keys of a
 * document are equal exactly when their pointers are.
 *
 * Over 600 lines: the parser, its arena and key interning, and the tree's
 * accessors and writers share the private node layout.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "iam.h"
#include "json_int.h"
#include "util_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define JSON_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSON_ASAN 1
#endif
#endif
#ifdef JSON_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_BLOCK (64u << 10)

/*
 * Two arenas: strings and keys in one (they last as long as the document,
 * and carry the secrets, so it is wiped when freed), the tree's nodes and
 * numbers' text in the other.  A split parse (iam_json_parse_split())
 * rewinds the nodes' arena after each item it hands out, so the strings
 * an item's reader kept stay valid while its nodes are reused.
 */
struct iam_json_doc {
	struct iam_block *blocks;	/* nodes, numbers' text */
	struct iam_block *text;		/* strings and keys */
	struct iam_json root;
	struct parser *ps;		/* the parse building it, until done */
};

struct slot {
	const char *key;	/* member key when the parent is an object */
	struct iam_json v;
};

struct frame {
	enum iam_json_type type;	/* IAM_JSON_ARRAY or IAM_JSON_OBJECT */
	size_t base;			/* first child's index in the stack */
	const char *key;		/* pending key of an object */
	const char *split;		/* array handed out item by item: its key */
	size_t handed;			/* items of it handed out so far */
	struct iam_block *mark;		/* nodes' arena where its next item */
	size_t mark_used;		/* starts */
};

/* The keys seen so far, by their text: open addressing, linear probing. */
struct key_set {
	const char **v;		/* mask + 1 slots, NULL when empty */
	size_t *len;
	size_t mask, n;
	uint64_t seed;		/* of iam_table_hash(), secret, per process */
};

#define GUESS_DEPTH	8
#define GUESS_MEMBERS	24
#define FAST_DEPTH	8	/* containers open in an item read as events */
#define SHARE_MEMO	1024	/* iam_json_doc_share()'s memo, a power of 2 */

struct share_slot {
	const char *p;
	size_t len;
};

struct parser {
	struct iam_json_doc *doc;
	struct key_set keys;
	struct iam_json_limits lim;
	struct slot *stack;
	size_t n_stack, alloc_stack;
	struct frame *frames;
	size_t depth, alloc_frames;
	char err[256];		/* our own reason, when a callback stopped */
	char errpath[512];	/* path where that happened */
	size_t n_strings;		/* keys and strings seen so far */
	size_t bad_string;		/* the first with a lone surrogate escape (1-based), 0 */
	/* the two keys last seen at depth d, member m (on_map_key()) */
	struct guess {
		const char *key;
		size_t len;
	} guess[GUESS_DEPTH][GUESS_MEMBERS][2];
	const struct iam_json_split *split;	/* NULL: build the whole tree */
	const char *shared[4];		/* split->shared, interned */
	size_t n_shared;
	size_t shared_new, shared_hits;	/* share()'s texts added, found */
	const char *transient[8];	/* split->transient, interned; an
					   item's own members: parent NULL */
	size_t n_transient;		/* pairs */
	int split_err;			/* what split->each() returned, < 0 */
	uint32_t split_seen;		/* split->keys[i] split: bit i */
	/* the text and where yajl is in it, for an item parsed again */
	const char *buf;
	size_t len;
	size_t base;			/* of the window being parsed */
	yajl_handle h;
	bool finishing;			/* in yajl_complete_parse(): at len */
	/* the item being read by split->events, when fast */
	bool fast;
	bool reparsing;			/* to_tree() at work: no fast item */
	size_t fast_depth;		/* containers open inside it */
	size_t fast_count[FAST_DEPTH];	/* values of each so far */
	size_t item_start;		/* offset of its '{' in buf */
	size_t item_strings;		/* n_strings, shared_new and */
	size_t item_shared_new;		/* shared_hits at its start */
	size_t item_shared_hits;
	/* share()'s answers for the names a reader of events shares,
	   SHARE_MEMO of them direct-mapped by their last bytes (NULL: no
	   memo); a miss is only slower */
	struct share_slot *share_memo;
};

/* n bytes of the arena *head aligned to align (a power of two, at most
   max_align_t's). */
static void *
arena_alloc_aligned(struct iam_block **head, size_t n, size_t align)
{
	struct iam_block *b = *head;
	size_t off = b != NULL ? (b->used + align - 1) & ~(align - 1) : 0;

	if (b == NULL || off > b->size || b->size - off < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = iam_block_push(head, size);
		if (b == NULL)
			return NULL;
		ASAN_POISON_MEMORY_REGION(b->data, b->size);
		off = 0;
	}
	b->used = off + n;
	ASAN_UNPOISON_MEMORY_REGION((char *)b->data + off, n);
	return (char *)b->data + off;
}

/* Nodes of the tree. */
static void *
arena_alloc(struct iam_json_doc *doc, size_t n)
{
	return arena_alloc_aligned(&doc->blocks, n, sizeof(max_align_t));
}

/* Text needs no alignment: strings are packed byte by byte. */
static char *
arena_strdup(struct iam_block **head, const unsigned char *s, size_t len)
{
	return iam_copy_string(arena_alloc_aligned(head, len + 1, 1), s, len);
}

/*
 * Give back the nodes' arena down to where it stood at (mark, used):
 * later blocks are freed, the rest of mark's made unusable under
 * AddressSanitizer, so a reader that kept a node of a handed-out item is
 * caught there.  Nodes hold no secret (strings are in the other arena).
 */
static void
arena_rewind(struct iam_json_doc *doc, struct iam_block *mark, size_t used)
{
	while (doc->blocks != mark) {
		struct iam_block *b = doc->blocks;

		doc->blocks = b->next;
		b->next = NULL;
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
		iam_blocks_free(b, false);
	}
	if (mark != NULL) {
		ASAN_POISON_MEMORY_REGION((char *)mark->data + used,
					  mark->size - used);
		mark->used = used;
	}
}

static inline uint64_t
load_word(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

static inline uint64_t
load_half(const unsigned char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

/*
 * The last 1 to 8 bytes of s[0..len) as one word: the last 8 (they
 * overlap what came before when len > 8), two 4-byte halves that may
 * overlap, or up to three single bytes.  Callers mix the length in, so
 * the overlap is never ambiguous.
 */
static inline uint64_t
tail_word(const unsigned char *s, size_t len)
{
	if (len >= 8)
		return load_word(s + len - 8);
	if (len >= 4)
		return load_half(s) | load_half(s + len - 4) << 32;
	if (len > 0)
		return (uint64_t)s[0] | (uint64_t)s[len / 2] << 8 |
		       (uint64_t)s[len - 1] << 16;
	return 0;
}

/*
 * Is s[0..len) plain ASCII text: no NUL and no byte above 0x7f?  Eight
 * bytes at a time: a word has a zero byte exactly when (w - 0x01..) & ~w
 * has a high bit set, and its high bits show the rest.  tail_word()'s
 * bytes are all bytes of s, and every byte of s is in a word or in it.
 */
static inline bool
plain_ascii(const unsigned char *s, size_t len)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t w, acc = 0;
	size_t i;

	if (len < 4) {
		for (i = 0; i < len; i++)
			if (s[i] == '\0' || s[i] > 0x7f)
				return false;
		return true;
	}
	for (i = 0; i + 8 < len; i += 8) {
		w = load_word(s + i);
		acc |= ((w - lo) & ~w) | w;
	}
	w = tail_word(s, len);
	acc |= ((w - lo) & ~w) | w;
	return (acc & hi) == 0;
}

/*
 * a[0..len) and b[0..len) hold the same bytes: the usual key or name,
 * at most 16 bytes, in two words read within both (tail_word() and the
 * first word cover every byte), without a call.
 */
static inline bool
same_text(const unsigned char *a, const unsigned char *b, size_t len)
{
	if (len > 16)
		return memcmp(a, b, len) == 0;
	if (len > 8 && load_word(a) != load_word(b))
		return false;
	return tail_word(a, len) == tail_word(b, len);
}

static int
key_set_grow(struct key_set *ks)
{
	size_t cap = ks->v != NULL ? (ks->mask + 1) * 2 : 64;
	const char **v = calloc(cap, sizeof(*v));
	size_t *len = calloc(cap, sizeof(*len));

	if (v == NULL || len == NULL) {
		free(v);
		free(len);
		return -ENOMEM;
	}
	for (size_t i = 0; ks->v != NULL && i <= ks->mask; i++) {
		size_t h;

		if (ks->v[i] == NULL)
			continue;
		h = iam_table_hash(ks->seed, (const unsigned char *)ks->v[i],
			       ks->len[i]) &
		    (cap - 1);
		while (v[h] != NULL)
			h = (h + 1) & (cap - 1);
		v[h] = ks->v[i];
		len[h] = ks->len[i];
	}
	free(ks->v);
	free(ks->len);
	ks->v = v;
	ks->len = len;
	ks->mask = cap - 1;
	return 0;
}

/*
 * The document's one copy of key s[0..len), made on first sight; with
 * add false, only found (NULL when it is not there yet).
 */
static const char *
find_key(struct parser *ps, const unsigned char *s, size_t len, bool add)
{
	struct key_set *ks = &ps->keys;
	size_t h;
	char *p;

	if ((ks->v == NULL || 2 * (ks->n + 1) > ks->mask + 1) &&
	    key_set_grow(ks) < 0)
		return NULL;
	for (h = iam_table_hash(ks->seed, s, len) & ks->mask; ks->v[h] != NULL;
	     h = (h + 1) & ks->mask)
		if (ks->len[h] == len &&
		    same_text((const unsigned char *)ks->v[h], s, len))
			return ks->v[h];
	if (!add)
		return NULL;
	p = arena_strdup(&ps->doc->text, s, len);
	if (p == NULL)
		return NULL;
	ks->v[h] = p;
	ks->len[h] = len;
	ks->n++;
	return p;
}

static const char *
intern_key(struct parser *ps, const unsigned char *s, size_t len)
{
	return find_key(ps, s, len, true);
}

/*
 * A shared string's one copy.  Names that come back are what sharing is
 * for; names that do not (a group of each user's own, a file of unique
 * names) would only grow the key set, 16 bytes a slot.  So once past
 * SHARED_TRIAL new texts, a text seen for the first time is added only
 * while shared texts come back at least SHARED_GAIN times as often as new
 * ones come; otherwise it is copied as any string is.
 */
#define SHARED_TRIAL	4096
#define SHARED_GAIN	4

static const char *
share(struct parser *ps, const unsigned char *s, size_t len, bool *ret_copy)
{
	bool add = ps->shared_new < SHARED_TRIAL ||
		   ps->shared_hits >= SHARED_GAIN * ps->shared_new;
	size_t n = ps->keys.n;
	const char *p = find_key(ps, s, len, add);

	*ret_copy = p == NULL && !add;
	if (*ret_copy)
		return arena_strdup(&ps->doc->text, s, len);
	if (p != NULL && ps->keys.n == n)
		ps->shared_hits++;
	else if (p != NULL)
		ps->shared_new++;
	return p;
}

/* The JSON path of the value being parsed: users[3].name */
static void
current_path(const struct parser *ps, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ps->depth && off < len; i++) {
		const struct frame *f = &ps->frames[i];
		int n;

		if (f->type == IAM_JSON_ARRAY) {
			/* index of the child being parsed */
			size_t idx = f->handed + (i + 1 < ps->depth ?
				     ps->frames[i + 1].base - f->base :
				     ps->n_stack - f->base);

			n = snprintf(buf + off, len - off, "[%zu]", idx);
		} else if (f->key != NULL) {
			n = snprintf(buf + off, len - off, "%s%s",
				     off ? "." : "", f->key);
		} else {
			n = 0;
		}
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int __attribute__((format(printf, 2, 3)))
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	current_path(ps, ps->errpath, sizeof(ps->errpath));
	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	va_end(ap);
	return 0;	/* yajl: stop parsing */
}

/*
 * Hand the item just completed in the split array f to its reader, then
 * take it off the stack and give its nodes' memory back.
 */
static int
hand_out(struct parser *ps, struct frame *f)
{
	const struct iam_json *item = &ps->stack[--ps->n_stack].v;
	int r = ps->split->each(ps->split->ctx, ps->doc, f->split, f->handed,
				item);

	if (r < 0) {
		ps->split_err = r;
		return fail(ps, "%s", strerror(-r));
	}
	f->handed++;
	arena_rewind(ps->doc, f->mark, f->mark_used);
	return 1;
}

static int
push(struct parser *ps, const struct iam_json *v)
{
	struct frame *top = ps->depth ? &ps->frames[ps->depth - 1] : NULL;

	if (top != NULL &&
	    ps->n_stack - top->base + top->handed >= ps->lim.max_items)
		return fail(ps, "more than %zu items", ps->lim.max_items);
	if (ps->n_stack == ps->alloc_stack) {
		size_t alloc = ps->alloc_stack ? ps->alloc_stack * 2 : 64;
		struct slot *s = reallocarray(ps->stack, alloc, sizeof(*s));

		if (s == NULL)
			return fail(ps, "out of memory");
		ps->stack = s;
		ps->alloc_stack = alloc;
	}
	ps->stack[ps->n_stack].key = top && top->type == IAM_JSON_OBJECT ?
				     top->key : NULL;
	ps->stack[ps->n_stack].v = *v;
	ps->n_stack++;
	if (top != NULL && top->split != NULL)
		return hand_out(ps, top);
	return 1;
}

/*
 * An item read as events (split->events) is given up: its text so far,
 * through the token just read, is parsed again by a second yajl handle
 * with the tree's callbacks, so the tree stands as if the item had never
 * been read otherwise, and the events after it build the rest.  A number
 * ends only where the next token starts: a blank after it has yajl end
 * it.  The strings' count and the sharing's tally go back to where the
 * item started, as the same strings come again.
 */
static const yajl_callbacks callbacks;

/*
 * The item's text from its start to end parsed again as a tree (a blank
 * after it when it ends in a number; yajl's end of input after it when
 * at_end), the callbacks seeing what they would have seen the first time.
 */
static yajl_status
reparse(struct parser *ps, size_t end, bool number, bool at_end)
{
	yajl_handle h;
	yajl_status st;

	ps->fast = false;
	ps->n_strings = ps->item_strings;
	ps->shared_new = ps->item_shared_new;
	ps->shared_hits = ps->item_shared_hits;
	h = yajl_alloc(&callbacks, iam_yajl_wiping(), ps);
	if (h == NULL) {
		fail(ps, "out of memory");
		return yajl_status_error;
	}
	yajl_config(h, yajl_allow_trailing_garbage, 1);
	ps->reparsing = true;
	st = yajl_parse(h, (const unsigned char *)ps->buf + ps->item_start,
			end - ps->item_start);
	if (st == yajl_status_ok && number)
		st = yajl_parse(h, (const unsigned char *)" ", 1);
	if (st == yajl_status_ok && at_end)
		st = yajl_complete_parse(h);
	ps->reparsing = false;
	yajl_free(h);
	return st;
}

static __attribute__((noinline)) int
to_tree(struct parser *ps, bool number)
{
	/* yajl_complete_parse() ends the text with a blank of its own */
	size_t upto = ps->finishing ? ps->len :
		      ps->base + yajl_get_bytes_consumed(ps->h);

	if (reparse(ps, upto, number, false) == yajl_status_ok)
		return 1;
	/* a callback's fault (the text itself passed once already) */
	return ps->err[0] != '\0' ? 0 : fail(ps, "item could not be parsed");
}

/* The reader gave up (0) or failed (< 0): the item goes to the tree, or
   the parse stops. */
static __attribute__((noinline)) int
fast_refused(struct parser *ps, int r, bool number)
{
	if (r == 0)
		return to_tree(ps, number);
	ps->fast = false;
	ps->split_err = r;
	return fail(ps, "%s", strerror(-r));
}

/* What an event's reader answered: go on, give the item up, or stop. */
static inline int
fast_result(struct parser *ps, int r, bool number)
{
	return r > 0 ? 1 : fast_refused(ps, r, number);
}

/* One more value in the container the fast item has open: within the
   limit of items a tree would keep. */
static inline bool
fast_room(struct parser *ps)
{
	return ps->fast_count[ps->fast_depth]++ < ps->lim.max_items;
}

/*
 * Whether the object being opened is an item to be read as events, and
 * if so its start: a split array's item (frames: the root object, the
 * array) whose reader takes it.
 */
static bool
fast_start(struct parser *ps)
{
	const struct iam_json_events *ev = ps->split ? ps->split->events : NULL;
	const struct frame *f;
	size_t at;

	if (ev == NULL || ps->reparsing || ps->depth != 2 || ps->h == NULL)
		return false;
	f = &ps->frames[1];
	if (f->split == NULL)
		return false;
	at = ps->base + yajl_get_bytes_consumed(ps->h);
	if (at == 0 || ps->buf[at - 1] != '{' ||
	    !ev->start(ps->split->ctx, ps->doc, f->split, f->handed))
		return false;
	ps->fast = true;
	ps->fast_depth = 0;
	ps->fast_count[0] = 0;
	ps->item_start = at - 1;
	ps->item_strings = ps->n_strings;
	ps->item_shared_new = ps->shared_new;
	ps->item_shared_hits = ps->shared_hits;
	return true;
}

static int
fast_open(struct parser *ps, enum iam_json_type type)
{
	if (ps->depth + 1 + ps->fast_depth >= ps->lim.max_depth ||
	    ps->fast_depth + 1 >= FAST_DEPTH || !fast_room(ps))
		return to_tree(ps, false);
	ps->fast_count[++ps->fast_depth] = 0;
	return fast_result(ps, ps->split->events->open(ps->split->ctx, type),
			   false);
}

static int
fast_close(struct parser *ps)
{
	const struct iam_json_events *ev = ps->split->events;
	struct frame *f = &ps->frames[ps->depth - 1];
	int r;

	if (ps->fast_depth > 0) {
		ps->fast_depth--;
		return fast_result(ps, ev->close(ps->split->ctx), false);
	}
	/* the item's end: it counts as an item of the array */
	if (f->handed >= ps->lim.max_items)
		return to_tree(ps, false);
	r = ev->end(ps->split->ctx);
	if (r <= 0)
		return fast_result(ps, r, false);
	ps->fast = false;
	f->handed++;
	arena_rewind(ps->doc, f->mark, f->mark_used);
	return 1;
}

static int
on_null(void *ctx)
{
	struct parser *ps = ctx;
	struct iam_json v = { .type = IAM_JSON_NULL };

	if (ps->fast)
		return to_tree(ps, false);	/* no reader keeps a null */
	return push(ps, &v);
}

static __attribute__((noinline)) int
tree_boolean(struct parser *ps, int b)
{
	struct iam_json v = { .type = IAM_JSON_BOOL, .u.boolean = b != 0 };

	return push(ps, &v);
}

static int
on_boolean(void *ctx, int b)
{
	struct parser *ps = ctx;

	if (!ps->fast)
		return tree_boolean(ps, b);
	return fast_room(ps) ?
	       fast_result(ps, ps->split->events->boolean(ps->split->ctx,
							   b != 0), false) :
	       to_tree(ps, false);
}

/*
 * The usual number, an integer of 1 to 18 digits (it cannot overflow),
 * read directly: true and *ret when s is one.  Anything else is left to
 * iam_parse_ll().
 */
static inline bool
small_int(const char *s, size_t len, long long *ret)
{
	bool neg = len > 0 && s[0] == '-';
	long long v = 0;
	size_t i = neg;

	if (len - i == 0 || len - i > 18)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = neg ? -v : v;
	return true;
}

static __attribute__((noinline)) int
tree_number(struct parser *ps, const char *s, size_t len)
{
	struct iam_json v = { .type = IAM_JSON_NUMBER };
	long long i;
	char *text;

	if (len > 64)
		return fail(ps, "number of %zu digits is too long", len);
	text = arena_strdup(&ps->doc->blocks, (const unsigned char *)s, len);
	if (text == NULL)
		return fail(ps, "out of memory");
	v.u.number.text = text;
	if (small_int(text, len, &i)) {
		v.u.number.is_int = true;
		v.u.number.i = i;
	} else if (strspn(text + (text[0] == '-'), "0123456789") ==
	    len - (text[0] == '-') &&
	    iam_parse_ll(text, INT64_MIN, INT64_MAX, &i) == 0) {
		v.u.number.is_int = true;
		v.u.number.i = i;
	}
	return push(ps, &v);
}

static int
on_number(void *ctx, const char *s, size_t len)
{
	struct parser *ps = ctx;

	if (!ps->fast)
		return tree_number(ps, s, len);
	return len <= 64 && fast_room(ps) ?
	       fast_result(ps, ps->split->events->number(ps->split->ctx, s,
							  len), true) :
	       to_tree(ps, true);
}

bool
iam_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c;
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n;
		uint64_t w;

		/* ASCII, the usual text, eight bytes at a time */
		while (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* no overlong form */
			else if (c == 0xed)
				hi = 0x9f;	/* no surrogate */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;	/* no overlong form */
			else if (c == 0xf4)
				hi = 0x8f;	/* nothing above U+10FFFF */
		} else {
			return false;	/* 80-C1 (overlong, stray), F5-FF */
		}
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

static int
hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * yajl decodes the escape of a lone UTF-16 surrogate (\ud800 without its
 * low half, or a low half alone) to '?', so the raw text is looked at
 * first: the ordinal (1-based, keys and strings in document order, as
 * yajl calls back) of the first string holding one, or 0.
 */
static size_t
lone_surrogate_string(const char *buf, size_t len)
{
	size_t n = 0;
	bool in = false;

	/* Without a backslash followed by u anywhere there is no such
	   escape, and most files have none: memchr() instead of the walk. */
	for (const char *p = buf, *end = buf + len;; p++) {
		p = memchr(p, '\\', (size_t)(end - p));
		if (p == NULL)
			return 0;
		if (p + 1 < end && p[1] == 'u')
			break;
	}

	for (size_t i = 0; i < len; i++) {
		int v, w;

		if (!in) {
			if (buf[i] == '"') {
				in = true;
				n++;
			}
			continue;
		}
		if (buf[i] == '"') {
			in = false;
			continue;
		}
		if (buf[i] != '\\' || i + 1 >= len)
			continue;
		if (buf[i + 1] != 'u' || len - i < 6 ||
		    (v = hex4(buf + i + 2)) < 0) {
			i++;	/* the escaped character; yajl judges the rest */
			continue;
		}
		if (v >= 0xdc00 && v <= 0xdfff)
			return n;
		if (v >= 0xd800 && v <= 0xdbff) {
			if (len - i < 12 || buf[i + 6] != '\\' ||
			    buf[i + 7] != 'u' || (w = hex4(buf + i + 8)) < 0xdc00 ||
			    w > 0xdfff)
				return n;
			i += 6;
		}
		i += 5;
	}
	return 0;
}

/* The limits every string and key must meet; 0 when one is broken. */
static int
string_ok(struct parser *ps, const unsigned char *s, size_t len,
	  const char *what)
{
	bool plain;

	if (len > ps->lim.max_string)
		return fail(ps, "%s of %zu bytes is over the limit of %zu",
			    what, len, ps->lim.max_string);
	/* the usual text, plain ASCII, has no NUL and no UTF-8 to judge */
	plain = plain_ascii(s, len);

	if (!plain && memchr(s, '\0', len) != NULL)
		return fail(ps, "%s contains a NUL character", what);
	if (++ps->n_strings == ps->bad_string)
		return fail(ps, "%s has the escape of a lone UTF-16 surrogate "
			    "(\\uD800-\\uDFFF without its pair)", what);
	if (!plain && !iam_utf8_valid((const char *)s, len))
		return fail(ps, "%s is not valid UTF-8 (RFC 3629: an overlong "
			    "form, a surrogate or a code point above U+10FFFF)",
			    what);
	return 1;
}

/*
 * Whether the string being parsed is one of split->shared: a member of a
 * split item named there, or an item of the array that such a member is
 * (frames: the root object, the split array, the item, an array).
 */
static bool
shared_string(const struct parser *ps)
{
	const struct frame *f = ps->frames;
	const char *key = NULL;

	if (ps->n_shared == 0 || ps->depth < 3 || ps->depth > 4 ||
	    f[1].split == NULL || f[2].type != IAM_JSON_OBJECT)
		return false;
	if (ps->depth == 3 || f[3].type == IAM_JSON_ARRAY)
		key = f[2].key;
	for (size_t i = 0; key != NULL && i < ps->n_shared; i++)
		if (key == ps->shared[i])
			return true;
	return false;
}

/* Whether the string being parsed is one of split->transient. */
static bool
transient_string(const struct parser *ps)
{
	const struct frame *f = ps->frames, *top;
	const char *parent;

	if (ps->n_transient == 0 || ps->depth < 3 || ps->depth > 4 ||
	    f[1].split == NULL || f[2].type != IAM_JSON_OBJECT)
		return false;
	top = &f[ps->depth - 1];
	if (top->type != IAM_JSON_OBJECT)
		return false;
	parent = ps->depth == 3 ? NULL : f[2].key;
	for (size_t i = 0; i < ps->n_transient; i++)
		if (top->key == ps->transient[2 * i + 1] &&
		    parent == ps->transient[2 * i])
			return true;
	return false;
}

static const char *
checked_string(struct parser *ps, const unsigned char *s, size_t len)
{
	const char *p;
	bool copy;

	if (!string_ok(ps, s, len, "string"))
		return NULL;
	/* the key set holds the one copy of a shared string; a transient
	   one goes with the item's nodes */
	p = shared_string(ps) ? share(ps, s, len, &copy) :
	    transient_string(ps) ? arena_strdup(&ps->doc->blocks, s, len) :
				   arena_strdup(&ps->doc->text, s, len);
	if (p == NULL)
		fail(ps, "out of memory");
	return p;
}

/* split->shared and ->transient as the document's keys: -ENOMEM. */
static int
intern_names(struct parser *ps)
{
	const struct iam_json_split *split = ps->split;
	const char *const *t;

	for (size_t i = 0; split != NULL && split->shared != NULL &&
	     split->shared[i] != NULL && i < 4; i++) {
		const char *k = split->shared[i];

		ps->shared[i] = intern_key(ps, (const unsigned char *)k,
					   strlen(k));
		if (ps->shared[i] == NULL)
			return -ENOMEM;
		ps->n_shared = i + 1;
	}
	t = split != NULL ? split->transient : NULL;
	for (size_t i = 0; t != NULL && t[2 * i] != NULL &&
	     t[2 * i + 1] != NULL && i < 4; i++) {
		const char *parent = t[2 * i], *k = t[2 * i + 1];

		ps->transient[2 * i] = parent[0] == '\0' ? NULL :
			intern_key(ps, (const unsigned char *)parent,
				   strlen(parent));
		ps->transient[2 * i + 1] =
			intern_key(ps, (const unsigned char *)k, strlen(k));
		if ((parent[0] != '\0' && ps->transient[2 * i] == NULL) ||
		    ps->transient[2 * i + 1] == NULL)
			return -ENOMEM;
		ps->n_transient = i + 1;
	}
	return 0;
}

/* A string of the tree (out of line: the fast path needs no frame). */
static __attribute__((noinline)) int
tree_string(struct parser *ps, const unsigned char *s, size_t len)
{
	struct iam_json v = { .type = IAM_JSON_STRING, .len = len };

	v.u.string = checked_string(ps, s, len);
	if (v.u.string == NULL)
		return 0;
	return push(ps, &v);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct parser *ps = ctx;

	if (!ps->fast)
		return tree_string(ps, s, len);
	/* anything but plain text within the limits: the tree's */
	if (len > ps->lim.max_string || !plain_ascii(s, len) ||
	    ps->n_strings + 1 == ps->bad_string || !fast_room(ps))
		return to_tree(ps, false);
	ps->n_strings++;
	return fast_result(ps, ps->split->events->string(ps->split->ctx, s,
							  len), false);
}

static int
open_container(struct parser *ps, enum iam_json_type type)
{
	if (ps->fast)
		return fast_open(ps, type);
	if (ps->depth >= ps->lim.max_depth)
		return fail(ps, "nesting deeper than %zu levels",
			    ps->lim.max_depth);
	if (type == IAM_JSON_OBJECT && fast_start(ps))
		return 1;
	if (ps->depth == ps->alloc_frames) {
		size_t alloc = ps->alloc_frames ? ps->alloc_frames * 2 : 16;
		struct frame *f = reallocarray(ps->frames, alloc, sizeof(*f));

		if (f == NULL)
			return fail(ps, "out of memory");
		ps->frames = f;
		ps->alloc_frames = alloc;
	}
	ps->frames[ps->depth] = (struct frame){
		.type = type, .base = ps->n_stack, .key = NULL };
	if (type == IAM_JSON_ARRAY && ps->depth == 1 && ps->split != NULL &&
	    ps->frames[0].type == IAM_JSON_OBJECT) {
		const char *key = ps->frames[0].key;
		struct frame *f = &ps->frames[1];

		/* a key given twice is refused at the object's end; its
		   second array is built whole until then */
		for (size_t k = 0; k < 32 && ps->split->keys[k] != NULL; k++) {
			if (strcmp(ps->split->keys[k], key) != 0 ||
			    ps->split_seen & 1u << k)
				continue;
			ps->split_seen |= 1u << k;
			f->split = key;
			f->mark = ps->doc->blocks;
			f->mark_used = f->mark != NULL ? f->mark->used : 0;
			break;
		}
	}
	ps->depth++;
	return 1;
}

static int
on_start_map(void *ctx)
{
	return open_container(ctx, IAM_JSON_OBJECT);
}

static int
on_start_array(void *ctx)
{
	return open_container(ctx, IAM_JSON_ARRAY);
}

/*
 * A key not guessed: judged, interned and made the first guess at depth
 * d, member m.  NULL when the parse stopped; give_up when a fast item is
 * to be given up (a key that is not plain text, or at a limit).
 */
static const char give_up[1];

static __attribute__((noinline)) const char *
new_key(struct parser *ps, size_t d, size_t m, const unsigned char *s,
	size_t len)
{
	const char *key;

	if (ps->fast && (len > ps->lim.max_string || !plain_ascii(s, len) ||
			 ps->n_strings + 1 == ps->bad_string))
		return give_up;
	if (!string_ok(ps, s, len, "key"))
		return NULL;
	key = intern_key(ps, s, len);
	if (key == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	if (d < GUESS_DEPTH && m < GUESS_MEMBERS) {
		ps->guess[d][m][1] = ps->guess[d][m][0];
		ps->guess[d][m][0] = (struct guess){ key, len };
	}
	return key;
}

/*
 * The objects of an array mostly have the same keys in the same order:
 * the two keys the last objects at this depth had at this place are
 * tried first (two, for objects of two kinds at one depth).  Being the
 * same bytes as a key judged already, only its place among the strings
 * is left to judge.  NULL when neither is s[0..len).
 */
static inline const char *
guessed_key(const struct parser *ps, size_t d, size_t m,
	    const unsigned char *s, size_t len)
{
	const struct guess *g;

	if (d >= GUESS_DEPTH || m >= GUESS_MEMBERS)
		return NULL;
	g = ps->guess[d][m];
	if (g[0].len == len && g[0].key != NULL &&
	    same_text((const unsigned char *)g[0].key, s, len))
		return g[0].key;
	if (g[1].len == len && g[1].key != NULL &&
	    same_text((const unsigned char *)g[1].key, s, len))
		return g[1].key;
	return NULL;
}

/* A key of a fast item (an item read as events has no frames). */
static int
fast_map_key(struct parser *ps, const unsigned char *s, size_t len)
{
	size_t d = ps->depth + ps->fast_depth;
	const char *key = guessed_key(ps, d, ps->fast_count[ps->fast_depth],
				      s, len);

	if (key == NULL)
		key = new_key(ps, d, ps->fast_count[ps->fast_depth], s, len);
	else if (ps->n_strings + 1 != ps->bad_string)
		ps->n_strings++;
	else
		key = give_up;
	if (key == NULL)
		return 0;
	if (key == give_up)
		return to_tree(ps, false);
	return fast_result(ps, ps->split->events->key(ps->split->ctx, key),
			   false);
}

static __attribute__((noinline)) int
tree_map_key(struct parser *ps, const unsigned char *s, size_t len)
{
	struct frame *top = &ps->frames[ps->depth - 1];
	size_t d = ps->depth - 1, m = ps->n_stack - top->base;
	const char *key = guessed_key(ps, d, m, s, len);

	if (key != NULL) {
		if (++ps->n_strings == ps->bad_string)
			return fail(ps, "key has the escape of a lone UTF-16 "
				    "surrogate (\\uD800-\\uDFFF without its "
				    "pair)");
	} else if ((key = new_key(ps, d, m, s, len)) == NULL) {
		return 0;
	}
	top->key = key;
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct parser *ps = ctx;

	return ps->fast ? fast_map_key(ps, s, len) : tree_map_key(ps, s, len);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A duplicate key is an error, never "last one wins". */
static const char *
duplicate_key(const struct slot *s, size_t n)
{
	const char **keys;
	const char *dup = NULL;

	if (n < 16) {
		/* interned keys: equal text, equal pointer */
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (s[i].key == s[j].key)
					return s[i].key;
		return NULL;
	}
	keys = reallocarray(NULL, n, sizeof(*keys));
	if (keys == NULL)
		return "";	/* treated as failure by the caller */
	for (size_t i = 0; i < n; i++)
		keys[i] = s[i].key;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (size_t i = 1; i < n && dup == NULL; i++)
		if (strcmp(keys[i], keys[i - 1]) == 0)
			dup = keys[i];
	free(keys);
	return dup;
}

static __attribute__((noinline)) int
tree_close(struct parser *ps)
{
	struct frame *top = &ps->frames[ps->depth - 1];
	size_t n = ps->n_stack - top->base;
	struct slot *kids = ps->stack ? &ps->stack[top->base] : NULL;
	struct iam_json v = { .type = top->type, .len = n };

	if (top->type == IAM_JSON_OBJECT) {
		struct iam_json_member *m;
		const char *dup = duplicate_key(kids, n);

		if (dup != NULL) {
			top->key = dup;
			return fail(ps, "duplicate key");
		}
		m = arena_alloc(ps->doc, n ? n * sizeof(*m) : 1);
		if (m == NULL)
			return fail(ps, "out of memory");
		for (size_t i = 0; i < n; i++) {
			m[i].key = kids[i].key;
			m[i].value = kids[i].v;
		}
		v.u.members = m;
	} else {
		struct iam_json *items = arena_alloc(ps->doc,
						     n ? n * sizeof(*items) : 1);

		if (items == NULL)
			return fail(ps, "out of memory");
		for (size_t i = 0; i < n; i++)
			items[i] = kids[i].v;
		v.u.items = items;
	}
	ps->n_stack = top->base;
	ps->depth--;
	return push(ps, &v);
}

static int
close_container(void *ctx)
{
	struct parser *ps = ctx;

	return ps->fast ? fast_close(ps) : tree_close(ps);
}

/*
 * yajl's own memory: its lexer keeps a token cut by the end of a window,
 * and its decoder a string with escapes, in buffers of its own, which
 * may hold a hash or a secret; they are wiped before they go back.
 */
static void *
yajl_mem_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void
yajl_mem_free(void *ctx, void *p)
{
	(void)ctx;
	if (p != NULL) {
		iam_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void *
yajl_mem_realloc(void *ctx, void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return yajl_mem_malloc(ctx, n);
	old = malloc_usable_size(p);
	q = malloc(n ? n : 1);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	yajl_mem_free(ctx, p);
	return q;
}

static yajl_alloc_funcs yajl_mem = {
	yajl_mem_malloc, yajl_mem_realloc, yajl_mem_free, NULL
};

yajl_alloc_funcs *
iam_yajl_wiping(void)
{
	return &yajl_mem;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = close_container,
	.yajl_start_array = on_start_array,
	.yajl_end_array = close_container,
};

static size_t
line_of(const char *buf, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* yajl's own message, first line only, without its trailing newline. */
static void
yajl_reason(yajl_handle h, const char *buf, size_t len, char *out, size_t n)
{
	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf,
					    len);
	const char *m = msg ? (const char *)msg : "parse error";
	size_t l = strcspn(m, "\n");

	if (strncmp(m, "lexical error: ", 15) == 0) {
		m += 15;
		l -= 15;
	} else if (strncmp(m, "parse error: ", 13) == 0) {
		m += 13;
		l -= 13;
	}
	snprintf(out, n, "%.*s", (int)l, m);
	if (strstr(out, "invalid bytes in UTF8") != NULL)
		snprintf(out, n, "invalid UTF-8 in string");
	else if (strstr(out, "premature EOF") != NULL)
		snprintf(out, n, "premature end of input");
	if (msg != NULL)
		yajl_free_error(h, msg);
}

/*
 * The offset of the first byte at or after off that is not JSON's white
 * space (RFC 8259 section 2); len when there is none.
 */
static inline bool
is_white_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_white_space(const char *s, size_t off, size_t len)
{
	while (off < len && is_white_space(s[off]))
		off++;
	return off;
}

static void
set_defaults(struct iam_json_limits *lim, const struct iam_json_limits *in)
{
	*lim = (struct iam_json_limits){ 64u << 20, 64, 64u << 10, 1000000 };
	if (in == NULL)
		return;
	if (in->max_bytes)
		lim->max_bytes = in->max_bytes;
	if (in->max_depth)
		lim->max_depth = in->max_depth;
	if (in->max_string)
		lim->max_string = in->max_string;
	if (in->max_items)
		lim->max_items = in->max_items;
}

int
iam_json_parse(const char *buf, size_t len, const struct iam_json_limits *limits,
	       struct iam_json_doc **ret_doc, char *err, size_t errlen)
{
	return iam_json_parse_split(buf, len, limits, NULL, ret_doc, err,
				    errlen);
}

/*
 * Newlines in s[0..n): sixteen bytes a step, as GCC's vector extension
 * (SSE2 on x86-64, NEON on arm64): a lane compared equal is -1, so
 * subtracting the comparison counts, in byte lanes emptied before any
 * can pass 255.
 */
typedef unsigned char nl_v16 __attribute__((vector_size(16)));

static size_t
count_newlines(const char *s, size_t n)
{
	const nl_v16 nl = { '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
			    '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n' };
	size_t count = 0, i = 0;

	while (n - i >= 16) {
		nl_v16 lanes = { 0 };

		for (size_t k = 0; k < 255 && n - i >= 16; k++, i += 16) {
			nl_v16 v;

			memcpy(&v, s + i, 16);
			lanes -= (nl_v16)(v == nl);
		}
		for (size_t k = 0; k < 16; k++)
			count += lanes[k];
	}
	for (; i < n; i++)
		count += s[i] == '\n';
	return count;
}

/*
 * Text the caller gave to be wiped as it is consumed: buf[0..done) is
 * wiped, its whole pages given back, and lines counts its newlines.
 */
struct consumed {
	char *buf;
	size_t done;
	size_t lines;		/* newlines in buf[0..done) */
	size_t last_line;	/* of its last byte not white space; 0 */
	uintptr_t page;		/* the page size */
	uintptr_t pages;	/* given back up to here */
};

static void
consume(struct consumed *c, size_t upto)
{
	uintptr_t end;

	size_t k = upto, nl_after = 0, n;

	if (c->buf == NULL || upto <= c->done)
		return;
	while (k > c->done && is_white_space(c->buf[k - 1]))
		nl_after += c->buf[--k] == '\n';
	n = count_newlines(c->buf + c->done, upto - c->done);
	if (k > c->done)
		c->last_line = c->lines + n - nl_after + 1;
	c->lines += n;
	iam_wipe(c->buf + c->done, upto - c->done);
	c->done = upto;
	end = ((uintptr_t)c->buf + upto) & ~(c->page - 1);
	if (end > c->pages) {
		/* best effort: the bytes are wiped either way */
		(void)madvise((void *)c->pages, end - c->pages, MADV_DONTNEED);
		c->pages = end;
	}
}

/* The line of offset off of the text, when off is not consumed yet. */
static size_t
line_at(const struct consumed *c, const char *buf, size_t off)
{
	return c->lines + line_of(buf + c->done, off - c->done);
}

/* Where a text cut short stops: the line of its last byte not white
   space (1 when there is none). */
static size_t
end_line(const struct consumed *c, const char *buf, size_t len)
{
	size_t i = len;

	while (i > c->done && is_white_space(buf[i - 1]))
		i--;
	if (i > c->done)
		return line_at(c, buf, i - 1);
	return c->last_line ? c->last_line : 1;
}

/* Text consumed a window at a time; fuzzing builds set a small one. */
#ifndef IAM_JSON_WINDOW
#define IAM_JSON_WINDOW (1u << 20)
#endif

int
iam_json_parse_split(const char *buf, size_t len,
		     const struct iam_json_limits *limits,
		     const struct iam_json_split *split,
		     struct iam_json_doc **ret_doc, char *err, size_t errlen)
{
	struct parser ps = { .split = split };
	struct consumed c = { 0 };
	size_t base = 0, n = len, window = len;
	char reason[256];
	yajl_handle h;
	yajl_status st = yajl_status_ok;
	bool at_end = false;	/* the failure is yajl_complete_parse()'s */
	int r = -EINVAL;

	set_defaults(&ps.lim, limits);
	ps.keys.seed = iam_table_seed();
	if (err == NULL || errlen == 0) {
		err = reason;
		errlen = sizeof(reason);
	}
	err[0] = '\0';
	if (len > ps.lim.max_bytes) {
		snprintf(err, errlen, "input of %zu bytes is over the limit of %zu",
			 len, ps.lim.max_bytes);
		return -E2BIG;
	}
	if (split != NULL && split->consumed != NULL) {
		long page = sysconf(_SC_PAGESIZE);

		c.buf = (char *)buf;
		c.page = page > 0 ? (uintptr_t)page : 4096;
		c.pages = ((uintptr_t)buf + c.page - 1) & ~(c.page - 1);
		window = IAM_JSON_WINDOW;
	}
	ps.doc = calloc(1, sizeof(*ps.doc));
	if (ps.doc == NULL)
		return -ENOMEM;
	if (intern_names(&ps) < 0) {
		free(ps.keys.v);
		free(ps.keys.len);
		iam_json_free(ps.doc);
		return -ENOMEM;
	}
	ps.bad_string = lone_surrogate_string(buf, len);
	h = yajl_alloc(&callbacks, &yajl_mem, &ps);
	if (h == NULL) {
		free(ps.doc);
		return -ENOMEM;
	}
	ps.h = h;
	ps.buf = buf;
	ps.len = len;
	if (split != NULL && split->events != NULL)
		ps.share_memo = calloc(SHARE_MEMO, sizeof(*ps.share_memo));
	ps.doc->ps = &ps;
	/*
	 * yajl's own check of what follows the value takes a token cut by
	 * the end of the input (a lone '"') for the end: it is told to stop
	 * after the value, and everything after it must be white space.
	 * The text goes to yajl in windows when it is to be consumed (yajl
	 * keeps a token cut by a window's end), else at once.
	 */
	yajl_config(h, yajl_allow_trailing_garbage, 1);
	for (;;) {
		size_t used;

		n = len - base < window ? len - base : window;
		ps.base = base;
		st = yajl_parse(h, (const unsigned char *)buf + base, n);
		if (st != yajl_status_ok)
			break;
		used = yajl_get_bytes_consumed(h);
		if (used < n || base + n == len) {
			size_t at = skip_white_space(buf, base + used, len);

			if (at < len) {
				snprintf(ps.err, sizeof(ps.err), "line %zu: "
					 "trailing garbage",
					 line_at(&c, buf, at));
				st = yajl_status_error;
			}
			break;
		}
		/* an item read as events keeps its text, to be parsed again
		   if given up */
		consume(&c, ps.fast && ps.item_start < base + n ?
			    ps.item_start : base + n);
		base += n;
	}
	if (st == yajl_status_ok) {
		at_end = true;
		ps.finishing = true;
		st = yajl_complete_parse(h);
	}
	/*
	 * yajl stopped inside an item read as events: the item is parsed
	 * again as a tree, stopping where yajl stopped, so the error names
	 * the path a tree's parse would.
	 */
	if (st != yajl_status_ok && ps.fast && ps.err[0] == '\0')
		(void)reparse(&ps, at_end ? len : base + n, false, at_end);
	ps.doc->ps = NULL;
	if (st == yajl_status_ok && ps.n_stack == 1 && ps.depth == 0) {
		ps.doc->root = ps.stack[0].v;
		*ret_doc = ps.doc;
		ps.doc = NULL;
		r = 0;
	} else if (ps.split_err < 0) {
		snprintf(err, errlen, "%s%s%s", ps.errpath,
			 ps.errpath[0] ? ": " : "", ps.err);
		r = ps.split_err;
	} else if (ps.err[0] != '\0') {
		snprintf(err, errlen, "%s%s%s", ps.errpath,
			 ps.errpath[0] ? ": " : "", ps.err);
		if (strcmp(ps.err, "out of memory") == 0)
			r = -ENOMEM;
	} else {
		size_t off = base + yajl_get_bytes_consumed(h);
		char path[512];

		yajl_reason(h, buf + base, n, reason, sizeof(reason));
		current_path(&ps, path, sizeof(path));
		/* yajl's word when it stopped at a token; ok: at the end */
		if (st == yajl_status_ok)
			snprintf(reason, sizeof(reason), "premature end of input");
		snprintf(err, errlen, "%s%sline %zu: %s", path,
			 path[0] ? ": " : "",
			 at_end ? end_line(&c, buf, len) :
			 line_at(&c, buf, off < len ? off : len), reason);
	}
	if (split != NULL && split->consumed != NULL)
		*split->consumed = c.done;
	yajl_free(h);
	free(ps.share_memo);
	free(ps.stack);
	free(ps.frames);
	free(ps.keys.v);
	free(ps.keys.len);
	iam_json_free(ps.doc);
	return r;
}

const struct iam_json *
iam_json_root(const struct iam_json_doc *doc)
{
	return &doc->root;
}

struct iam_json_doc *
iam_json_free(struct iam_json_doc *doc)
{
	if (doc == NULL)
		return NULL;
	for (struct iam_block *b = doc->blocks; b != NULL; b = b->next)
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
	for (struct iam_block *b = doc->text; b != NULL; b = b->next)
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
	iam_blocks_free(doc->blocks, false);
	/* Identity and credential documents carry hashes and secrets. */
	iam_blocks_free(doc->text, true);
	free(doc);
	return NULL;
}

/* *out: a copy of v whose nodes and numbers live in doc's lasting arena. */
static int
keep_node(struct iam_json_doc *doc, const struct iam_json *v,
	  struct iam_json *out)
{
	size_t n = v->len;

	*out = *v;
	switch (v->type) {
	case IAM_JSON_NUMBER: {
		const char *t = v->u.number.text;

		out->u.number.text = arena_strdup(&doc->text,
						  (const unsigned char *)t,
						  strlen(t));
		return out->u.number.text != NULL ? 0 : -ENOMEM;
	}
	case IAM_JSON_ARRAY: {
		struct iam_json *items = arena_alloc_aligned(&doc->text,
			n ? n * sizeof(*items) : 1, sizeof(max_align_t));

		if (items == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (keep_node(doc, &v->u.items[i], &items[i]) < 0)
				return -ENOMEM;
		out->u.items = items;
		return 0;
	}
	case IAM_JSON_OBJECT: {
		struct iam_json_member *m = arena_alloc_aligned(&doc->text,
			n ? n * sizeof(*m) : 1, sizeof(max_align_t));

		if (m == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			m[i].key = v->u.members[i].key;
			if (keep_node(doc, &v->u.members[i].value,
				      &m[i].value) < 0)
				return -ENOMEM;
		}
		out->u.members = m;
		return 0;
	}
	default:
		return 0;	/* strings and keys already last */
	}
}

size_t
iam_json_doc_text_bytes(const struct iam_json_doc *doc)
{
	size_t n = 0;

	for (const struct iam_block *b = doc->text; b != NULL; b = b->next)
		n += b->used;
	return n;
}

void *
iam_json_doc_alloc(struct iam_json_doc *doc, size_t n)
{
	void *p = arena_alloc_aligned(&doc->text, n, sizeof(void *));

	return p != NULL ? memset(p, 0, n) : NULL;
}

const char *
iam_json_doc_strdup(struct iam_json_doc *doc, const unsigned char *s,
		    size_t len)
{
	return arena_strdup(&doc->text, s, len);
}

const char *
iam_json_doc_share(struct iam_json_doc *doc, const unsigned char *s,
		   size_t len, bool *ret_copy)
{
	struct parser *ps = doc->ps;
	struct share_slot *m;
	uint64_t h;
	const char *p;

	*ret_copy = false;
	if (ps == NULL)
		return NULL;
	if (ps->share_memo == NULL)
		return share(ps, s, len, ret_copy);
	h = (tail_word(s, len) ^ len) * 0x9e3779b97f4a7c15ULL;
	m = &ps->share_memo[h >> (64 - __builtin_ctz(SHARE_MEMO))];
	if (m->p != NULL && m->len == len &&
	    same_text((const unsigned char *)m->p, s, len)) {
		ps->shared_hits++;	/* as share() would count it */
		return m->p;
	}
	p = share(ps, s, len, ret_copy);
	if (p != NULL && !*ret_copy) {
		m->p = p;
		m->len = len;
	}
	return p;
}

const struct iam_json *
iam_json_keep(struct iam_json_doc *doc, const struct iam_json *v)
{
	struct iam_json *out = arena_alloc_aligned(&doc->text, sizeof(*out),
						   sizeof(max_align_t));

	if (out == NULL || keep_node(doc, v, out) < 0)
		return NULL;
	return out;
}

const struct iam_json *
iam_json_get(const struct iam_json *v, const char *key)
{
	if (v == NULL || v->type != IAM_JSON_OBJECT)
		return NULL;
	/* The first byte filters most members without a call. */
	for (size_t i = 0; i < v->len; i++)
		if (v->u.members[i].key[0] == key[0] &&
		    strcmp(v->u.members[i].key, key) == 0)
			return &v->u.members[i].value;
	return NULL;
}

const struct iam_json *
iam_json_get_ci(const struct iam_json *v, const char *key)
{
	if (v == NULL || v->type != IAM_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->len; i++)
		if (strcasecmp(v->u.members[i].key, key) == 0)
			return &v->u.members[i].value;
	return NULL;
}

const char *
iam_json_type_name(enum iam_json_type t)
{
	switch (t) {
	case IAM_JSON_NULL:
		return "null";
	case IAM_JSON_BOOL:
		return "boolean";
	case IAM_JSON_NUMBER:
		return "number";
	case IAM_JSON_STRING:
		return "string";
	case IAM_JSON_ARRAY:
		return "array";
	case IAM_JSON_OBJECT:
		return "object";
	}
	return "value";
}

static int
gen_value(yajl_gen g, const struct iam_json *v)
{
	yajl_gen_status s = yajl_gen_status_ok;

	switch (v->type) {
	case IAM_JSON_NULL:
		s = yajl_gen_null(g);
		break;
	case IAM_JSON_BOOL:
		s = yajl_gen_bool(g, v->u.boolean);
		break;
	case IAM_JSON_NUMBER:
		s = yajl_gen_number(g, v->u.number.text,
				    strlen(v->u.number.text));
		break;
	case IAM_JSON_STRING:
		s = yajl_gen_string(g, (const unsigned char *)v->u.string,
				    v->len);
		break;
	case IAM_JSON_ARRAY:
		s = yajl_gen_array_open(g);
		for (size_t i = 0; s == yajl_gen_status_ok && i < v->len; i++)
			if (gen_value(g, &v->u.items[i]) < 0)
				return -ENOMEM;
		if (s == yajl_gen_status_ok)
			s = yajl_gen_array_close(g);
		break;
	case IAM_JSON_OBJECT:
		s = yajl_gen_map_open(g);
		for (size_t i = 0; s == yajl_gen_status_ok && i < v->len; i++) {
			const char *k = v->u.members[i].key;

			s = yajl_gen_string(g, (const unsigned char *)k,
					    strlen(k));
			if (s == yajl_gen_status_ok &&
			    gen_value(g, &v->u.members[i].value) < 0)
				return -ENOMEM;
		}
		if (s == yajl_gen_status_ok)
			s = yajl_gen_map_close(g);
		break;
	}
	return s == yajl_gen_status_ok ? 0 : -ENOMEM;
}

static int
write_json(const struct iam_json *v, bool pretty, struct iam_buf *out)
{
	const unsigned char *text;
	size_t len;
	/* the document may hold hashes and secrets: so may yajl's buffer */
	yajl_gen g = yajl_gen_alloc(iam_yajl_wiping());
	int r;

	if (g == NULL)
		return -ENOMEM;
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	r = gen_value(g, v);
	if (r == 0 && yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok)
		r = iam_buf_add(out, text, len);
	else if (r == 0)
		r = -ENOMEM;
	yajl_gen_free(g);
	return r;
}

int
iam_json_write(const struct iam_json *v, struct iam_buf *out)
{
	return write_json(v, false, out);
}

int
iam_json_write_pretty(const struct iam_json *v, struct iam_buf *out)
{
	return write_json(v, true, out);
}
