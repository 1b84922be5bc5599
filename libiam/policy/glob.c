/*
 * glob.c - '*' and '?' wildcards, as AWS matches Action, Resource and
 * StringLike/ArnLike values.
 *
 * A pattern is cut at its stars into segments.  The first segment must
 * match at the start of the subject, the last at its end, and each
 * segment in between is placed at its leftmost occurrence after the one
 * before: with only '*' and fixed-width '?', the leftmost placement never
 * loses a match, so no backtracking (and no recursion) is needed.  The
 * leftmost occurrence is found with memmem (two-way, linear) for plain
 * text and with the bit-parallel Shift-And scan when the segment holds
 * '?' or case folding is asked for; each subject byte is looked at once
 * per segment search, and the searches never overlap.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy_int.h"

enum { T_LIT, T_ANY, T_STAR, T_END };

struct tok {
	int kind;
	unsigned char c;
};

static inline unsigned char
fold(unsigned char c, unsigned flags)
{
	if ((flags & IAM_GLOB_NOCASE) && c >= 'A' && c <= 'Z')
		return (unsigned char)(c + ('a' - 'A'));
	return c;
}

/* Read the token at *i and advance past it. */
static inline struct tok
next_tok(const char *p, size_t plen, size_t *i, unsigned flags)
{
	struct tok t = { T_END, 0 };
	unsigned char c;

	if (*i >= plen)
		return t;
	c = (unsigned char)p[(*i)++];
	if ((flags & GLOB_ESCAPES) && c == '\\' && *i < plen) {
		t.kind = T_LIT;
		t.c = fold((unsigned char)p[(*i)++], flags);
	} else if (c == '*') {
		t.kind = T_STAR;
	} else if (c == '?') {
		t.kind = T_ANY;
	} else {
		t.kind = T_LIT;
		t.c = fold(c, flags);
	}
	return t;
}

struct seg {
	size_t start;		/* pattern index of the first token */
	size_t end;		/* pattern index just past the last token */
	size_t ntok;
	bool plain;		/* literal bytes only, as written */
};

/* Read a segment starting at *i, stopping after the star that ends it. */
static bool
next_seg(const char *p, size_t plen, size_t *i, unsigned flags,
	 struct seg *sg)
{
	const char *star;
	struct tok t;
	size_t before;

	sg->start = *i;
	sg->ntok = 0;
	if (!(flags & GLOB_ESCAPES)) {
		/* Without escapes a segment is the bytes up to the next star. */
		star = memchr(p + *i, '*', plen - *i);
		sg->end = star != NULL ? (size_t)(star - p) : plen;
		sg->ntok = sg->end - sg->start;
		sg->plain = !(flags & IAM_GLOB_NOCASE) &&
			    memchr(p + sg->start, '?', sg->ntok) == NULL;
		*i = star != NULL ? sg->end + 1 : plen;
		return star != NULL;
	}
	sg->plain = false;
	for (;;) {
		before = *i;
		t = next_tok(p, plen, i, flags);
		if (t.kind == T_END || t.kind == T_STAR) {
			sg->end = before;
			return t.kind == T_STAR;
		}
		sg->ntok++;
	}
}

/* Compare the segment with the subject at s (the caller checked room). */
static bool
seg_at(const char *p, const struct seg *sg, const unsigned char *s,
       unsigned flags)
{
	size_t i = sg->start, k = 0;
	struct tok t;

	if (sg->plain)
		return memcmp(p + sg->start, s, sg->ntok) == 0;
	while (i < sg->end) {
		t = next_tok(p, sg->end, &i, flags);
		if (t.kind == T_LIT && fold(s[k], flags) != t.c)
			return false;
		k++;
	}
	return true;
}

/*
 * Leftmost occurrence of the segment in s[from, to); returns its start,
 * or SIZE_MAX.  Segments over 64 tokens scan their first 64 bit-parallel
 * and verify the rest at each candidate.
 */
static size_t
seg_find(const char *p, const struct seg *sg, const unsigned char *s,
	 size_t from, size_t to, unsigned flags)
{
	uint8_t idx[256];
	uint64_t mask[65], wild = 0, d = 0, hit;
	size_t i = sg->start, k, head, nslots = 0, rest_at = sg->end, j;
	struct seg rest;
	struct tok t;
	const void *m;

	if (sg->ntok > to - from)
		return SIZE_MAX;
	if (sg->plain) {
		m = memmem(s + from, to - from, p + sg->start, sg->ntok);
		return m == NULL ? SIZE_MAX : (size_t)((const unsigned char *)m - s);
	}
	head = sg->ntok < 64 ? sg->ntok : 64;
	memset(idx, 0, sizeof(idx));
	for (k = 0; k < head; k++) {
		t = next_tok(p, sg->end, &i, flags);
		if (t.kind == T_ANY) {
			wild |= (uint64_t)1 << k;
			continue;
		}
		if (idx[t.c] == 0) {
			idx[t.c] = (uint8_t)++nslots;
			mask[nslots] = 0;
			if ((flags & IAM_GLOB_NOCASE) && t.c >= 'a' && t.c <= 'z')
				idx[t.c - ('a' - 'A')] = (uint8_t)nslots;
		}
		mask[idx[t.c]] |= (uint64_t)1 << k;
	}
	rest_at = i;
	mask[0] = wild;
	for (k = 1; k <= nslots; k++)
		mask[k] |= wild;
	rest.start = rest_at;
	rest.end = sg->end;
	rest.ntok = sg->ntok - head;
	rest.plain = false;
	hit = (uint64_t)1 << (head - 1);
	for (j = from; j < to; j++) {
		d = ((d << 1) | 1) & mask[idx[s[j]]];
		if (!(d & hit))
			continue;
		if (rest.ntok == 0)
			return j + 1 - head;
		if (j + 1 + rest.ntok <= to && seg_at(p, &rest, s + j + 1, flags))
			return j + 1 - head;
	}
	return SIZE_MAX;
}

bool
iam_glob_match_flags(const char *pattern, size_t plen, const char *subject,
		     size_t slen, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)subject;
	struct seg first, last, mid;
	size_t i = 0, j, pos, end, last_star = SIZE_MAX, at;
	bool star;
	struct tok t;

	star = next_seg(pattern, plen, &i, flags, &first);
	if (!star)
		return first.ntok == slen && seg_at(pattern, &first, s, flags);
	if (first.ntok > slen || !seg_at(pattern, &first, s, flags))
		return false;
	/* Find where the last segment starts: just after the last star. */
	if (!(flags & GLOB_ESCAPES)) {
		const char *ls = memrchr(pattern + i, '*', plen - i);

		if (ls != NULL)
			last_star = (size_t)(ls - pattern) + 1;
	} else {
		for (j = i; j < plen;) {
			t = next_tok(pattern, plen, &j, flags);
			if (t.kind == T_STAR)
				last_star = j;
		}
	}
	at = last_star == SIZE_MAX ? i : last_star;
	next_seg(pattern, plen, &at, flags, &last);
	pos = first.ntok;
	if (last.ntok > slen - pos)
		return false;
	end = slen - last.ntok;
	if (!seg_at(pattern, &last, s + end, flags))
		return false;
	/* The segments between the first and the last star. */
	while (last_star != SIZE_MAX && i < last_star) {
		next_seg(pattern, plen, &i, flags, &mid);
		if (mid.ntok == 0)
			continue;
		at = seg_find(pattern, &mid, s, pos, end, flags);
		if (at == SIZE_MAX)
			return false;
		pos = at + mid.ntok;
	}
	return true;
}

bool
iam_glob_match(const char *pattern, size_t plen, const char *subject,
	       size_t slen, unsigned flags)
{
	if (pattern == NULL || subject == NULL)
		return false;
	return iam_glob_match_flags(pattern, plen, subject, slen,
				    flags & IAM_GLOB_NOCASE);
}
