/*
 * test_json.c - the strict JSON tree: shapes, limits and the JSON path
 * named in every error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "json_int.h"
#include "util_int.h"

static int
parse(const char *text, const struct iam_json_limits *lim,
      struct iam_json_doc **doc, char *err, size_t errlen)
{
	return iam_json_parse(text, strlen(text), lim, doc, err, errlen);
}

static void
expect_error(const char *text, const struct iam_json_limits *lim,
	     const char *want)
{
	struct iam_json_doc *doc = NULL;
	char err[512];
	int r = parse(text, lim, &doc, err, sizeof(err));

	cr_assert_lt(r, 0, "accepted: %s", text);
	cr_assert_null(doc, "document handed out on failure");
	cr_expect(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err,
		  want);
}

Test(json, builds_a_tree_in_document_order)
{
	struct iam_json_doc *doc;
	const struct iam_json *root, *v;
	char err[256];

	cr_assert_eq(parse("{\"b\": [1, -2, 3.5, true, null, \"x\"], \"a\": {}}",
			   NULL, &doc, err, sizeof(err)), 0, "%s", err);
	root = iam_json_root(doc);
	cr_assert_eq(root->type, IAM_JSON_OBJECT);
	cr_assert_eq(root->len, 2);
	cr_expect_str_eq(root->u.members[0].key, "b");
	v = iam_json_get(root, "b");
	cr_assert_eq(v->type, IAM_JSON_ARRAY);
	cr_assert_eq(v->len, 6);
	cr_expect(v->u.items[0].u.number.is_int);
	cr_expect_eq(v->u.items[1].u.number.i, -2);
	cr_expect_not(v->u.items[2].u.number.is_int);
	cr_expect_str_eq(v->u.items[2].u.number.text, "3.5");
	cr_expect_eq(v->u.items[3].type, IAM_JSON_BOOL);
	cr_expect_eq(v->u.items[4].type, IAM_JSON_NULL);
	cr_expect_str_eq(v->u.items[5].u.string, "x");
	cr_expect_not_null(iam_json_get_ci(root, "B"));
	cr_expect_null(iam_json_get(root, "B"));
	cr_expect_eq(iam_json_get(root, "a")->len, 0);
	iam_json_free(doc);
}

Test(json, huge_integers_are_not_integers)
{
	struct iam_json_doc *doc;
	char err[256];

	cr_assert_eq(parse("[99999999999999999999, 1e3]", NULL, &doc, err,
			   sizeof(err)), 0);
	cr_expect_not(iam_json_root(doc)->u.items[0].u.number.is_int);
	cr_expect_not(iam_json_root(doc)->u.items[1].u.number.is_int);
	iam_json_free(doc);
}

Test(json, integers_read_the_same_on_both_sides_of_18_digits)
{
	static const struct {
		const char *text;
		bool is_int;
		long long i;
	} cases[] = {
		{ "0", true, 0 },
		{ "-0", true, 0 },
		{ "7", true, 7 },
		{ "-7", true, -7 },
		{ "999999999999999999", true, 999999999999999999LL },
		{ "-999999999999999999", true, -999999999999999999LL },
		{ "1000000000000000000", true, 1000000000000000000LL },
		{ "9223372036854775807", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "9223372036854775808", false, 0 },
		{ "-9223372036854775809", false, 0 },
		{ "12.0", false, 0 },
		{ "-1e2", false, 0 },
		{ "10E0", false, 0 },
	};
	struct iam_json_doc *doc;
	const struct iam_json *v;
	char text[64], err[256];

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		snprintf(text, sizeof(text), "[%s]", cases[k].text);
		cr_assert_eq(parse(text, NULL, &doc, err, sizeof(err)), 0,
			     "%s: %s", text, err);
		v = &iam_json_root(doc)->u.items[0];
		cr_expect_eq(v->u.number.is_int, cases[k].is_int, "%s", text);
		if (cases[k].is_int)
			cr_expect_eq(v->u.number.i, cases[k].i, "%s", text);
		cr_expect_str_eq(v->u.number.text, cases[k].text);
		iam_json_free(doc);
	}
}

Test(json, table_hash_keeps_top_bits_flipped_in_two_words_apart)
{
	unsigned char a[32], b[32];
	uint64_t seeds[] = { 1, 0x9e3779b97f4a7c15ULL, iam_table_seed() };

	memset(a, 'k', sizeof(a));
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
		for (size_t n = 16; n <= sizeof(a); n += 8) {
			memcpy(b, a, sizeof(b));
			b[7] ^= 0x80;
			b[15] ^= 0x80;
			cr_expect_neq(iam_table_hash(seeds[s], a, n),
				      iam_table_hash(seeds[s], b, n),
				      "length %zu, seed %zu", n, s);
		}
	cr_expect_eq(iam_table_seed(), iam_table_seed(), "one seed a process");
	cr_expect_neq(iam_table_seed(), 0);
}

Test(json, refuses_duplicate_keys_with_their_path)
{
	expect_error("{\"users\": [{\"name\": \"a\", \"name\": \"b\"}]}", NULL,
		     "users[0].name: duplicate key");
}

Test(json, refuses_duplicate_keys_in_large_objects)
{
	struct iam_buf b = IAM_BUF_INIT;

	iam_buf_adds(&b, "{");
	for (int i = 0; i < 100; i++)
		iam_buf_addf(&b, "\"k%d\": %d,", i, i);
	iam_buf_adds(&b, "\"k42\": 0}");
	expect_error(b.buf, NULL, "k42: duplicate key");
	iam_buf_release(&b);
}

Test(json, refuses_nul_inside_strings_and_keys)
{
	expect_error("{\"a\": [\"x\\u0000y\"]}", NULL,
		     "a[0]: string contains a NUL character");
	expect_error("{\"a\\u0000\": 1}", NULL, "key contains a NUL character");
}

/*
 * Plain ASCII is judged 8 bytes at a time, the rest byte by byte: a NUL,
 * a byte of valid UTF-8 and a byte that is not, at every place of every
 * length up to 24, in a string and in a key, are each told apart.
 */
Test(json, every_byte_of_a_string_or_key_is_judged)
{
	static const struct {
		const char *in;		/* JSON text of the one odd byte */
		const char *fault;	/* NULL: accepted */
	} odd[] = {
		{ "\\u0000", "contains a NUL character" },
		{ "\xc3\xa9", NULL },
		{ "\xe2\x82\xac", NULL },
		{ "\xff", "UTF-8" },			/* yajl's refusal */
		{ "\x80", "UTF-8" },
		{ "\xc0\xaf", "is not valid UTF-8" },	/* overlong: ours */
		{ "\xed\xa0\x80", "is not valid UTF-8" },	/* a surrogate */
		{ "\x7f", NULL },
	};
	char text[128], s[64], err[512];

	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
		for (size_t len = 1; len <= 24; len++)
			for (size_t at = 0; at < len; at++)
				for (int key = 0; key < 2; key++) {
					struct iam_json_doc *doc = NULL;
					int r;

					snprintf(s, sizeof(s), "%.*s%s%.*s",
						 (int)at, "abcdefghijklmnopqrstuvwx",
						 odd[k].in, (int)(len - at - 1),
						 "ABCDEFGHIJKLMNOPQRSTUVWX");
					snprintf(text, sizeof(text), key ?
						 "{\"%s\":1}" : "[\"%s\"]", s);
					r = parse(text, NULL, &doc, err, sizeof(err));
					if (odd[k].fault == NULL) {
						cr_expect_eq(r, 0, "%s: %s", text, err);
					} else {
						cr_expect_lt(r, 0, "accepted: %s", text);
						cr_expect(strstr(err, odd[k].fault) != NULL,
							  "%s: %s", text, err);
					}
					iam_json_free(doc);
				}
}

Test(json, refuses_invalid_utf8_with_its_path)
{
	expect_error("{\"users\": [{\"name\": \"\xc3\x28\"}]}", NULL,
		     "users[0].name: line 1: invalid UTF-8");
}

Test(json, refuses_overlong_surrogate_and_out_of_range_utf8)
{
	/* Each passes yajl's own check; RFC 3629 forbids them all. */
	static const char *const bad[] = {
		"\xc0\xaf",		/* overlong '/' */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\xaf",		/* overlong, three bytes */
		"\xf0\x80\x80\xaf",	/* overlong, four bytes */
		"\xed\xa0\x80",		/* the surrogate U+D800 itself */
		"\xed\xbf\xbf",		/* U+DFFF */
		"\xf4\x90\x80\x80",	/* U+110000 */
		"\xf5\x80\x80\x80",	/* never a lead byte */
		"\x80",			/* stray continuation */
		"a\xe2\x82",		/* cut short */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text),
			 "{\"users\": [{\"gecos\": \"%s\"}]}", bad[i]);
		expect_error(text, NULL, "users[0].gecos: ");
		cr_assert_not(iam_utf8_valid(bad[i], strlen(bad[i])),
			      "case %zu", i);
	}
	expect_error("{\"\xc0\xaf\": 1}", NULL, "key is not valid UTF-8");
}

Test(json, accepts_every_valid_utf8_boundary)
{
	static const char *const good[] = {
		"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf", "Zo\xc3\xab \xf0\x9f\x98\x80",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct iam_json_doc *doc = NULL;
		char text[128], err[256];

		snprintf(text, sizeof(text), "{\"g\": \"%s\"}", good[i]);
		cr_assert_eq(parse(text, NULL, &doc, err, sizeof(err)), 0,
			     "case %zu: %s", i, err);
		iam_json_free(doc);
	}
}

/* The ASCII run is checked eight bytes at a time: a fault at every
   offset of a long string, and every valid sequence there, are seen. */
Test(json, utf8_checks_every_offset_of_a_long_string)
{
	static const char *const bad[] = {
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80",
		"\xff", "\xc3",
	};
	static const char *const good[] = {
		"\xc3\xab", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	};
	char text[64];

	for (size_t off = 0; off < 20; off++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			size_t n = strlen(bad[i]);

			memset(text, 'a', off);
			memcpy(text + off, bad[i], n);
			memset(text + off + n, 'b', 11);
			cr_expect_not(iam_utf8_valid(text, off + n + 11),
				      "bad %zu at %zu", i, off);
			/* and as the very end of the text */
			cr_expect_not(iam_utf8_valid(text, off + n),
				      "bad %zu ending at %zu", i, off);
		}
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			size_t n = strlen(good[i]);

			memset(text, 'a', off);
			memcpy(text + off, good[i], n);
			memset(text + off + n, 'b', 11);
			cr_expect(iam_utf8_valid(text, off + n + 11),
				  "good %zu at %zu", i, off);
			/* cut short by one byte: invalid */
			cr_expect_not(iam_utf8_valid(text, off + n - 1),
				      "good %zu cut at %zu", i, off);
		}
	}
}

Test(json, refuses_escapes_of_lone_surrogates_with_the_path)
{
	struct iam_json_doc *doc = NULL;
	char err[256];

	expect_error("{\"users\": [{\"gecos\": \"a\\ud800\"}]}", NULL,
		     "users[0].gecos: string has the escape of a lone UTF-16 "
		     "surrogate");
	expect_error("{\"users\": [{\"gecos\": \"\\udc00b\"}]}", NULL,
		     "users[0].gecos: string has the escape");
	expect_error("{\"a\": \"ok\", \"b\": [\"\\ud800\\u0041\"]}", NULL,
		     "b[0]: string has the escape");
	expect_error("{\"a\": \"\\\\\", \"\\uD800x\": 1}", NULL,
		     "key has the escape");
	/* a key the same bytes, once decoded, as the one before it at its
	   place in the object before (yajl decodes the escape to '?') */
	expect_error("[{\"a?b\": 1, \"c\": 2}, {\"a\\uD800b\": 1}]", NULL,
		     "[1]: key has the escape of a lone UTF-16 surrogate");
	expect_error("[{\"x\": 1, \"a?\": 1}, {\"x\": 1, \"a\\udc00\": 1}]",
		     NULL, "key has the escape");
	/* after backslashes that are no \\u escape, and a long text */
	expect_error("{\"a\": \"\\\\ \\\" \\n \\/ x\", \"pad\": \"................"
		     "..........................\", \"b\": \"\\uDBFF\"}", NULL,
		     "b: string has the escape");
	/* A pair is one character; an escaped backslash is not an escape. */
	cr_assert_eq(parse("{\"a\": \"\\ud83d\\ude00 \\\\ud800\"}", NULL, &doc,
			   err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(iam_json_get(iam_json_root(doc), "a")->u.string,
			 "\xf0\x9f\x98\x80 \\ud800");
	iam_json_free(doc);
}

Test(json, refuses_truncated_input)
{
	expect_error("{\"users\": [{\"name\": \"a\"", NULL,
		     "premature end of input");
	expect_error("", NULL, "premature end of input");
	/* named at the line where the text stops, not at its first line */
	expect_error("{\"a\":\n[1,\n2\n\n", NULL,
		     "a[2]: line 3: premature end of input");
}

/* A complete input with a token out of place is not cut short. */
Test(json, a_token_out_of_place_is_named_not_taken_for_the_end)
{
	expect_error("[1,]", NULL, "line 1: unallowed token");
	expect_error("{\"a\": 1,}", NULL, "line 1: ");
	expect_error("{\"a\":}", NULL, "line 1: unallowed token");
	expect_error("[1,2", NULL, "premature end of input");
}

Test(json, refuses_trailing_garbage_and_comments)
{
	expect_error("{} {}", NULL, "line 1");
	expect_error("{/* c */}", NULL, "line 1");
	/* A token cut by the end of the input is garbage too. */
	expect_error("{\"a\": 1}\n\"", NULL, "line 2: trailing garbage");
	expect_error("{\"a\": 1}\"abc\"", NULL, "trailing garbage");
	expect_error("{\"a\": 1} tru", NULL, "trailing garbage");
	expect_error("[1] 5", NULL, "trailing garbage");
}

Test(json, takes_white_space_after_the_value)
{
	struct iam_json_doc *d = NULL;
	char err[256];

	cr_assert_eq(iam_json_parse("{\"a\": 1} \t\r\n\n", 13, NULL, &d, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(iam_json_root(d)->type, IAM_JSON_OBJECT);
	iam_json_free(d);
	cr_assert_eq(iam_json_parse("5", 1, NULL, &d, err, sizeof(err)), 0,
		     "%s", err);
	iam_json_free(d);
}

Test(json, enforces_depth_without_recursion)
{
	size_t n = 100000;
	char *deep = malloc(n + 1);

	memset(deep, '[', n);
	deep[n] = '\0';
	expect_error(deep, NULL, "nesting deeper than 64 levels");
	free(deep);
}

Test(json, enforces_string_item_and_size_limits)
{
	struct iam_json_limits lim = { .max_string = 4, .max_items = 3,
				       .max_bytes = 64 };
	struct iam_json_doc *doc = NULL;
	char err[256];
	char big[100];

	expect_error("[\"12345\"]", &lim, "[0]: string of 5 bytes is over the limit of 4");
	expect_error("{\"a\": [1, 2, 3, 4]}", &lim, "a[3]: more than 3 items");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '1';
	cr_expect_eq(iam_json_parse(big, strlen(big), &lim, &doc, err,
				    sizeof(err)), -E2BIG);
	cr_expect(strstr(err, "over the limit of 64") != NULL, "%s", err);
}

Test(json, writes_back_what_it_read)
{
	const char *text = "{\"a\":[1,\"x\\\"y\\n\",true,null,{\"b\":-2.5}]}";
	struct iam_buf out = IAM_BUF_INIT;
	struct iam_json_doc *doc;

	cr_assert_eq(parse(text, NULL, &doc, NULL, 0), 0);
	cr_assert_eq(iam_json_write(iam_json_root(doc), &out), 0);
	cr_expect_str_eq(out.buf, text);
	iam_buf_release(&out);
	cr_assert_eq(iam_json_write_pretty(iam_json_root(doc), &out), 0);
	cr_expect(strstr(out.buf, "\n  \"a\": [") != NULL, "%s", out.buf);
	iam_buf_release(&out);
	iam_json_free(doc);
}

Test(json, keys_alike_in_many_objects_share_one_copy)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	char err[256], key[32];

	/* 3000 objects: two keys they all have, one key of their own */
	iam_buf_adds(&b, "[");
	for (int i = 0; i < 3000; i++)
		iam_buf_addf(&b, "%s{\"name\":\"n%d\",\"own%d\":%d,\"uid\":%d}",
			     i ? "," : "", i, i, i, i);
	iam_buf_adds(&b, "]");
	cr_assert_eq(iam_json_parse(b.buf, b.len, NULL, &doc, err, sizeof(err)),
		     0, "%s", err);
	root = iam_json_root(doc);
	cr_assert_eq(root->len, 3000);
	for (size_t i = 0; i < 3000; i++) {
		const struct iam_json *o = &root->u.items[i];

		cr_assert_eq(o->len, 3);
		cr_assert_eq(o->u.members[0].key, root->u.items[0].u.members[0].key);
		cr_assert_eq(o->u.members[2].key, root->u.items[0].u.members[2].key);
		cr_assert_str_eq(o->u.members[0].key, "name");
		snprintf(key, sizeof(key), "own%zu", i);
		cr_assert_str_eq(o->u.members[1].key, key);
		cr_assert_not_null(iam_json_get(o, key));
		cr_assert_eq(iam_json_get(o, key)->u.number.i, (int64_t)i);
		cr_assert_eq(iam_json_get(o, "uid")->u.number.i, (int64_t)i);
		snprintf(key, sizeof(key), "n%zu", i);
		cr_assert_str_eq(iam_json_get(o, "name")->u.string, key);
		cr_assert_null(iam_json_get(o, "own"));
	}
	iam_json_free(doc);
	iam_buf_release(&b);
}

Test(json, duplicate_keys_are_found_among_shared_keys)
{
	/* the key was seen before, in an earlier object */
	expect_error("[{\"a\":1,\"b\":2},{\"b\":1,\"a\":2,\"b\":3}]", NULL,
		     "[1].b: duplicate key");
	/* keys that differ only after a common prefix or in length */
	expect_error("{\"ab\":1,\"abc\":2,\"a\":3,\"abc\":4}", NULL,
		     "abc: duplicate key");
	expect_error("{\"\":1,\"x\":2,\"\":3}", NULL, "duplicate key");
}

Test(json, packed_strings_keep_containers_aligned)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *o;
	char err[256];
	const char *text = "{\"a\":\"x\",\"bcd\":[\"yz\",1,{\"e\":\"fghij\","
		"\"k\":[true,null,\"l\"]}],\"m\":-12.5,\"nopqrstuvwxyz0123\":"
		"\"\\u00e9t\\u00e9\"}";

	cr_assert_eq(parse(text, NULL, &doc, err, sizeof(err)), 0, "%s", err);
	root = iam_json_root(doc);
	cr_assert_eq(root->len, 4);
	cr_expect_str_eq(iam_json_get(root, "a")->u.string, "x");
	o = iam_json_get(root, "bcd");
	cr_assert_eq(o->type, IAM_JSON_ARRAY);
	cr_expect_eq((uintptr_t)o->u.items % _Alignof(struct iam_json), 0);
	cr_expect_str_eq(o->u.items[0].u.string, "yz");
	cr_expect_eq(o->u.items[1].u.number.i, 1);
	o = &o->u.items[2];
	cr_expect_eq((uintptr_t)o->u.members % _Alignof(struct iam_json_member),
		     0);
	cr_expect_str_eq(iam_json_get(o, "e")->u.string, "fghij");
	cr_expect_str_eq(iam_json_get(o, "k")->u.items[2].u.string, "l");
	cr_expect_str_eq(iam_json_get(root, "m")->u.number.text, "-12.5");
	cr_expect_str_eq(iam_json_get(root, "nopqrstuvwxyz0123")->u.string,
			 "\xc3\xa9t\xc3\xa9");
	iam_json_free(doc);
}

/* ---- Shared strings of split items -------------------------------------- */

struct seen {
	const char *pg[2], *g[2][2], *tag, *nested, *gecos, *pol[3], *gname;
};

static const char *
str_of(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v = iam_json_get(obj, key);

	cr_assert_not_null(v, "no %s", key);
	cr_assert_eq(v->type, IAM_JSON_STRING, "%s is not a string", key);
	return v->u.string;
}

static const char *
item_of(const struct iam_json *obj, const char *key, size_t i)
{
	const struct iam_json *a = iam_json_get(obj, key);

	cr_assert(a != NULL && a->type == IAM_JSON_ARRAY && i < a->len);
	cr_assert_eq(a->u.items[i].type, IAM_JSON_STRING);
	return a->u.items[i].u.string;
}

static int
remember(void *ctx, struct iam_json_doc *doc, const char *key, size_t idx,
	 const struct iam_json *item)
{
	struct seen *s = ctx;

	(void)doc;
	if (strcmp(key, "groups") == 0) {
		s->gname = str_of(item, "name");
		s->pol[2] = item_of(item, "policies", 0);
		return 0;
	}
	s->pg[idx] = str_of(item, "primary_group");
	s->g[idx][0] = item_of(item, "groups", 0);
	s->pol[idx] = item_of(item, "policies", 0);
	if (idx == 0) {
		s->g[0][1] = item_of(item, "groups", 1);
		s->tag = str_of(iam_json_get(item, "tags"), "groups");
		s->nested = item_of(iam_json_get(item, "x"), "groups", 0);
	} else {
		s->gecos = str_of(item, "gecos");
	}
	return 0;
}

Test(json, shared_members_of_split_items_keep_one_copy_of_each_text)
{
	static const char text[] =
		"{\"users\":["
		"{\"name\":\"a\",\"primary_group\":\"g1\",\"groups\":[\"g1\",\"g2\"],"
		"\"tags\":{\"groups\":\"g1\"},\"x\":{\"groups\":[\"g1\"]},"
		"\"policies\":[\"P\"]},"
		"{\"name\":\"b\",\"primary_group\":\"g2\",\"groups\":[\"g2\"],"
		"\"gecos\":\"g1\",\"policies\":[\"P\"]}],"
		"\"groups\":[{\"name\":\"g1\",\"policies\":[\"P\"]}],"
		"\"other\":{\"groups\":[\"g1\"]}}";
	static const char *const keys[] = { "users", "groups", NULL };
	static const char *const shared[] = { "primary_group", "groups",
					      "policies", NULL };
	struct seen s = { 0 };
	struct iam_json_split split = { .keys = keys, .each = remember,
					.ctx = &s, .shared = shared };
	struct iam_json_doc *doc = NULL;
	const char *other;
	char err[256];

	cr_assert_eq(iam_json_parse_split(text, sizeof(text) - 1, NULL, &split,
					  &doc, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.pg[0], "g1");
	cr_expect_str_eq(s.g[0][1], "g2");
	/* the same text under a shared member: one copy */
	cr_expect_eq(s.pg[0], s.g[0][0]);
	cr_expect_eq(s.g[0][1], s.pg[1]);
	cr_expect_eq(s.pg[1], s.g[1][0]);
	cr_expect_eq(s.pol[0], s.pol[1]);
	cr_expect_eq(s.pol[1], s.pol[2]);
	cr_expect_str_eq(s.pol[0], "P");
	/* under any other member, or deeper, each string is its own */
	cr_expect_str_eq(s.tag, "g1");
	cr_expect_neq(s.tag, s.pg[0]);
	cr_expect_str_eq(s.nested, "g1");
	cr_expect_neq(s.nested, s.pg[0]);
	cr_expect_str_eq(s.gecos, "g1");
	cr_expect_neq(s.gecos, s.pg[0]);
	cr_expect_str_eq(s.gname, "g1");
	cr_expect_neq(s.gname, s.pg[0]);
	other = item_of(iam_json_get(iam_json_root(doc), "other"), "groups", 0);
	cr_expect_str_eq(other, "g1");
	cr_expect_neq(other, s.pg[0]);
	iam_json_free(doc);
}

struct times_seen {
	const char *changed[2], *created[2], *gecos[2], *tag[2];
	char text[2][32];
};

static int
remember_times(void *ctx, struct iam_json_doc *doc, const char *key,
	       size_t idx, const struct iam_json *item)
{
	struct times_seen *s = ctx;
	const struct iam_json *pw = iam_json_get(item, "password");

	(void)doc;
	(void)key;
	cr_assert(idx < 2 && pw != NULL);
	s->changed[idx] = str_of(pw, "changed");
	s->created[idx] = str_of(item, "created");
	s->gecos[idx] = str_of(item, "gecos");
	s->tag[idx] = str_of(iam_json_get(item, "tags"), "created");
	snprintf(s->text[idx], sizeof(s->text[idx]), "%s", s->changed[idx]);
	return 0;
}

Test(json, transient_members_of_split_items_go_with_the_items_nodes)
{
	static const char text[] =
		"{\"users\":["
		"{\"gecos\":\"A\",\"created\":\"2026-01-01T00:00:00Z\","
		"\"tags\":{\"created\":\"t1\"},"
		"\"password\":{\"changed\":\"2026-02-01T00:00:00Z\"}},"
		"{\"gecos\":\"B\",\"created\":\"2026-01-02T00:00:00Z\","
		"\"tags\":{\"created\":\"t2\"},"
		"\"password\":{\"changed\":\"2026-02-02T00:00:00Z\"}}]}";
	static const char *const keys[] = { "users", NULL };
	static const char *const times[] = { "", "created",
					     "password", "changed", NULL };
	struct times_seen s = { 0 };
	struct iam_json_split split = { .keys = keys, .each = remember_times,
					.ctx = &s };
	struct iam_json_doc *doc = NULL;
	size_t kept;
	char err[256];

	/* first without: what the document keeps of every string */
	cr_assert_eq(iam_json_parse_split(text, sizeof(text) - 1, NULL, &split,
					  &doc, err, sizeof(err)), 0, "%s", err);
	kept = iam_json_doc_text_bytes(doc);
	iam_json_free(doc);
	doc = NULL;
	split.transient = times;
	cr_assert_eq(iam_json_parse_split(text, sizeof(text) - 1, NULL, &split,
					  &doc, err, sizeof(err)), 0, "%s", err);
	/* each item read its own text */
	cr_expect_str_eq(s.text[0], "2026-02-01T00:00:00Z");
	cr_expect_str_eq(s.text[1], "2026-02-02T00:00:00Z");
	/* and the document keeps none of the four times (20 bytes, NUL) */
	cr_expect_eq(iam_json_doc_text_bytes(doc), kept - 4 * 21,
		     "%zu bytes kept, %zu without times",
		     iam_json_doc_text_bytes(doc), kept);
	/* what the reader may keep lasts as long as the document */
	cr_expect_neq(s.gecos[0], s.gecos[1]);
	cr_expect_str_eq(s.gecos[0], "A");
	cr_expect_str_eq(s.gecos[1], "B");
	/* a member of that name deeper in the item (a tag) is kept too */
	cr_expect_neq(s.tag[0], s.tag[1]);
	cr_expect_str_eq(s.tag[0], "t1");
	iam_json_free(doc);
	/* a document that is one string has no frame to look at */
	doc = NULL;
	cr_assert_eq(iam_json_parse_split("\"u\"", 3, NULL, &split, &doc, err,
					  sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(iam_json_root(doc)->u.string, "u");
	iam_json_free(doc);
}

struct names_seen {
	const char *early[2], *late[2], *common[2];
};

static int
remember_names(void *ctx, struct iam_json_doc *doc, const char *key,
	       size_t idx, const struct iam_json *item)
{
	struct names_seen *s = ctx;
	const char *g0 = item_of(item, "groups", 0);

	(void)doc;
	(void)key;
	if (idx == 0)
		s->common[0] = g0;
	if (idx == 1 || idx == 2)
		s->early[idx - 1] = item_of(item, "groups", 1);
	if (idx == 9998 || idx == 9999)
		s->late[idx - 9998] = item_of(item, "groups", 1);
	if (idx == 9999)
		s->common[1] = g0;
	return 0;
}

/*
 * Names that never come back stop being added to the shared set: 10,000
 * users with one name in common and one of their own each.
 */
Test(json, shared_names_that_do_not_come_back_are_not_kept_in_the_set)
{
	static const char *const keys[] = { "users", NULL };
	static const char *const shared[] = { "groups", NULL };
	struct names_seen s = { 0 };
	struct iam_json_split split = { .keys = keys, .each = remember_names,
					.ctx = &s, .shared = shared };
	struct iam_json_doc *doc = NULL;
	struct iam_buf t = IAM_BUF_INIT;
	char err[256];

	iam_buf_adds(&t, "{\"users\":[");
	for (int i = 0; i < 10000; i++)
		iam_buf_addf(&t, "%s{\"groups\":[\"common\",\"%s%d\"]}",
			     i ? "," : "",
			     i == 1 || i == 2 ? "early" :
			     i >= 9998 ? "late" : "own", i >= 9998 || i == 1 ||
			     i == 2 ? 0 : i);
	iam_buf_adds(&t, "]}");
	cr_assert_eq(iam_json_parse_split(t.buf, t.len, NULL, &split, &doc,
					  err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(s.early[0], "early0");
	cr_expect_str_eq(s.late[1], "late0");
	/* the name everyone has stays one copy from first to last */
	cr_expect_eq(s.common[0], s.common[1]);
	/* while the set was on trial, a repeated new name was shared */
	cr_expect_eq(s.early[0], s.early[1]);
	/* past it, with names mostly new, a new one is copied each time */
	cr_expect_neq(s.late[0], s.late[1]);
	cr_expect_str_eq(s.late[0], s.late[1]);
	iam_json_free(doc);
	iam_buf_release(&t);
}

/*
 * A reader of events (iam_json_events) that writes down what it is given
 * and gives an item up at its give_up-th event (0: never), or at a key
 * its object has had (duplicates are a reader's to refuse); the items
 * handed to each() instead are written out as JSON, one a line.
 */
struct ev_log {
	struct iam_buf log;
	struct iam_buf trees;
	size_t n, give_up, taken;
	size_t depth, n_keys[8];
	const char *keys[8][16];
};

static int
ev_step(struct ev_log *l, const char *what, const char *s, size_t len)
{
	iam_buf_addf(&l->log, "%s%.*s ", what, (int)len, s ? s : "");
	return ++l->n == l->give_up ? 0 : 1;
}

static bool
ev_start(void *ctx, struct iam_json_doc *doc, const char *key, size_t idx)
{
	struct ev_log *l = ctx;

	(void)doc;
	l->n = 0;
	l->depth = 0;
	l->n_keys[0] = 0;
	iam_buf_addf(&l->log, "%s[%zu]: ", key, idx);
	return true;
}

static int
ev_key(void *ctx, const char *key)
{
	struct ev_log *l = ctx;

	/* keys are the document's copies: one pointer a text */
	if (l->depth >= 8 || l->n_keys[l->depth] >= 16)
		return 0;
	for (size_t i = 0; i < l->n_keys[l->depth]; i++)
		if (l->keys[l->depth][i] == key)
			return 0;
	l->keys[l->depth][l->n_keys[l->depth]++] = key;
	return ev_step(ctx, "k:", key, strlen(key));
}

static int
ev_string(void *ctx, const unsigned char *s, size_t len)
{
	return ev_step(ctx, "s:", (const char *)s, len);
}

static int
ev_number(void *ctx, const char *s, size_t len)
{
	return ev_step(ctx, "n:", s, len);
}

static int
ev_boolean(void *ctx, bool b)
{
	return ev_step(ctx, b ? "true" : "false", NULL, 0);
}

static int
ev_open(void *ctx, enum iam_json_type type)
{
	struct ev_log *l = ctx;

	if (++l->depth < 8)
		l->n_keys[l->depth] = 0;
	return ev_step(ctx, type == IAM_JSON_OBJECT ? "{" : "[", NULL, 0);
}

static int
ev_close(void *ctx)
{
	struct ev_log *l = ctx;

	l->depth--;
	return ev_step(ctx, "}", NULL, 0);
}

static int
ev_end(void *ctx)
{
	struct ev_log *l = ctx;
	int r = ev_step(l, "end", NULL, 0);

	iam_buf_adds(&l->log, "\n");
	l->taken += r;
	return r;
}

static int
ev_tree(void *ctx, struct iam_json_doc *doc, const char *key, size_t idx,
	const struct iam_json *item)
{
	struct ev_log *l = ctx;

	(void)doc;
	iam_buf_addf(&l->trees, "%s[%zu] ", key, idx);
	iam_json_write(item, &l->trees);
	iam_buf_adds(&l->trees, "\n");
	return 0;
}

static const struct iam_json_events ev_reader = {
	.start = ev_start, .key = ev_key, .string = ev_string,
	.number = ev_number, .boolean = ev_boolean, .open = ev_open,
	.close = ev_close, .end = ev_end,
};

/* text parsed with split "users" (events: with ev_reader); its error. */
static int
ev_parse(const char *text, size_t len, const struct iam_json_limits *lim,
	 bool events, struct ev_log *l, char *err, size_t errlen,
	 struct iam_json_doc **ret)
{
	static const char *const keys[] = { "users", NULL };
	struct iam_json_split split = { .keys = keys, .each = ev_tree,
					.ctx = l,
					.events = events ? &ev_reader : NULL };
	struct iam_json_doc *doc = NULL;
	int r = iam_json_parse_split(text, len, lim, &split, &doc, err,
				     errlen);

	if (ret != NULL)
		*ret = doc;
	else
		iam_json_free(doc);
	return r;
}

Test(json, a_reader_of_events_is_given_each_item_in_order)
{
	static const char text[] = "{\"users\":[{\"a\":\"x\",\"b\":[1,{\"c\":"
		"true}],\"d\":{}},{\"e\":-2}],\"other\":[{\"f\":1}]}";
	struct ev_log l = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };
	struct iam_json_doc *doc;
	char err[256];

	cr_assert_eq(ev_parse(text, sizeof(text) - 1, NULL, true, &l, err,
			      sizeof(err), &doc), 0, "%s", err);
	cr_expect_str_eq(l.log.buf,
		"users[0]: k:a s:x k:b [ n:1 { k:c true } } k:d { } end \n"
		"users[1]: k:e n:-2 end \n");
	cr_expect_eq(l.taken, 2);
	cr_expect_eq(l.trees.len, 0, "%s", l.trees.buf);
	/* the split array stands empty; the rest is the tree's */
	cr_expect_eq(iam_json_get(iam_json_root(doc), "users")->len, 0);
	cr_expect_eq(iam_json_get(iam_json_root(doc), "other")->len, 1);
	iam_json_free(doc);
	iam_buf_release(&l.log);
	iam_buf_release(&l.trees);
}

Test(json, an_item_given_up_at_any_event_is_the_tree_it_would_have_been)
{
	/* items of one shape: numbers end an object, an array and the
	   item itself, where a number ends only at the next token */
	static const char text[] = "{\"users\":["
		"{\"n\":\"ann\",\"o\":{\"p\":7,\"q\":[true,\"y\",\"z\"]},"
		"\"r\":[1,2.5e3],\"s\":false,\"u\":12},"
		"{\"n\":\"bob\",\"o\":{\"p\":8,\"q\":[false,\"y\",\"z\"]},"
		"\"r\":[3,-4],\"s\":true,\"u\":-1}"
		"],\"tail\":1}";
	struct ev_log ref = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };
	size_t events;
	char err[256];

	cr_assert_eq(ev_parse(text, sizeof(text) - 1, NULL, false, &ref, err,
			      sizeof(err), NULL), 0, "%s", err);
	/* a reader that never gives up takes each item whole */
	{
		struct ev_log l = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };

		cr_assert_eq(ev_parse(text, sizeof(text) - 1, NULL, true, &l,
				      err, sizeof(err), NULL), 0, "%s", err);
		cr_expect_eq(l.taken, 2);
		cr_expect_eq(l.trees.len, 0);
		events = l.n;
		iam_buf_release(&l.log);
		iam_buf_release(&l.trees);
	}
	cr_assert_eq(events, 23, "%zu", events);
	/* given up at each of them, the last being the item's end */
	for (size_t g = 1; g <= events; g++) {
		struct ev_log l = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT, .give_up = g };

		cr_assert_eq(ev_parse(text, sizeof(text) - 1, NULL, true, &l,
				      err, sizeof(err), NULL), 0,
			     "give up at %zu: %s", g, err);
		cr_expect_str_eq(l.trees.buf, ref.trees.buf,
				 "given up at event %zu", g);
		iam_buf_release(&l.log);
		iam_buf_release(&l.trees);
	}
	iam_buf_release(&ref.log);
	iam_buf_release(&ref.trees);
}

Test(json, a_null_gives_an_item_up_to_the_tree)
{
	static const char text[] = "{\"users\":[{\"a\":[1,null,2],\"b\":3}]}";
	struct ev_log l = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };
	char err[256];

	cr_assert_eq(ev_parse(text, sizeof(text) - 1, NULL, true, &l, err,
			      sizeof(err), NULL), 0, "%s", err);
	cr_expect_eq(l.taken, 0);
	cr_expect_str_eq(l.trees.buf, "users[0] {\"a\":[1,null,2],\"b\":3}\n");
	iam_buf_release(&l.log);
	iam_buf_release(&l.trees);
}

Test(json, an_error_inside_a_read_item_is_the_trees_error)
{
	static const struct {
		const char *text;
		struct iam_json_limits lim;
	} bad[] = {
		{ "{\"users\":[{\"a\":{\"b\":[1,2", { 0 } },
		{ "{\"users\":[{\"a\":{\"b\":12", { 0 } },
		{ "{\"users\":[{\"a\":\"unterminated", { 0 } },
		{ "{\"users\":[{\"a\":[1,2,]}]}", { 0 } },
		{ "{\"users\":[{\"a\":1,\"a\":2}]}", { 0 } },
		{ "{\"users\":[{\"t\":{\"k\":\"v\",\"k\":\"w\"}}]}", { 0 } },
		{ "{\"users\":[{\"a\":\"\\ud800\"}]}", { 0 } },
		{ "{\"users\":[{\"\\ud800\":1}]}", { 0 } },
		{ "{\"users\":[{\"a\":\"x\\u0000y\"}]}", { 0 } },
		{ "{\"users\":[{\"a\":\"\xc3\x28\"}]}", { 0 } },
		{ "{\"users\":[{\"a\":\"0123456789\"}]}", { .max_string = 8 } },
		{ "{\"users\":[{\"a0123456789\":1}]}", { .max_string = 8 } },
		{ "{\"users\":[{\"a\":{\"b\":[[1]]}}]}", { .max_depth = 5 } },
		{ "{\"users\":[{\"a\":[1,2,3]}]}", { .max_items = 2 } },
		{ "{\"users\":[{\"a\":1,\"b\":2,\"c\":3}]}", { .max_items = 2 } },
		{ "{\"users\":[{},{},{}]}", { .max_items = 2 } },
		{ "{\"users\":[{\"a\":123456789012345678901234567890123456789"
		  "01234567890123456789012345678901234567890}]}", { 0 } },
		{ "{\"users\":[{\"a\":1}]} x", { 0 } },
		{ "{\"users\":[{\"a\":1}", { 0 } },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ev_log a = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };
		struct ev_log b = { .log = IAM_BUF_INIT, .trees = IAM_BUF_INIT };
		const char *t = bad[i].text;
		char ea[256], eb[256];
		int ra = ev_parse(t, strlen(t), &bad[i].lim, false, &a, ea,
				  sizeof(ea), NULL);
		int rb = ev_parse(t, strlen(t), &bad[i].lim, true, &b, eb,
				  sizeof(eb), NULL);

		cr_expect_lt(ra, 0, "accepted: %s", t);
		cr_expect_eq(rb, ra, "%s", t);
		cr_expect_str_eq(eb, ea, "%s", t);
		iam_buf_release(&a.log);
		iam_buf_release(&a.trees);
		iam_buf_release(&b.log);
		iam_buf_release(&b.trees);
	}
}
