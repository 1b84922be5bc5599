/*
 * fnv.h - FNV-1a (64 bit), the one hash of libiam's snapshot indexes and
 * of their older checksums, and iam_sum64(), the checksum of auth.db's
 * parts from its version 2 on (8 bytes a step, not one).  Header-only,
 * so nss_iam (which links libc alone) can use them too.  Private: not
 * installed.
 */
#ifndef IAM_FNV_H
#define IAM_FNV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IAM_FNV1A_OFFSET	0xcbf29ce484222325ULL
#define IAM_FNV1A_PRIME		0x100000001b3ULL

/*
 * Continue hash h over n bytes at p.  The same bytes in the same order,
 * taken from one load of 8 where the byte order allows.
 */
static inline uint64_t
iam_fnv1a_more(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		h = (h ^ (w & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 8) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 16) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 24) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 32) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 40) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ ((w >> 48) & 0xff)) * IAM_FNV1A_PRIME;
		h = (h ^ (w >> 56)) * IAM_FNV1A_PRIME;
	}
#endif
	for (; i < n; i++) {
		h ^= s[i];
		h *= IAM_FNV1A_PRIME;
	}
	return h;
}

/* FNV-1a of n bytes at p. */
static inline uint64_t
iam_fnv1a(const void *p, size_t n)
{
	return iam_fnv1a_more(IAM_FNV1A_OFFSET, p, n);
}

/*
 * splitmix64's finalizer: every bit of h reaches every bit of the result,
 * so a table may take its index from any bits (the low ones, masked).
 */
static inline uint64_t
iam_mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

#define IAM_SUM64_P1	0x9e3779b97f4a7c15ULL
#define IAM_SUM64_P2	0xc2b2ae3d27d4eb4fULL

static inline uint64_t
iam_rotl64(uint64_t x, unsigned k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * One step of a lane: (h ^ word), rotated, times an odd constant, then
 * the product's high half folded into its low half -- each a bijection of
 * h, so a change confined to one 8-byte word always changes the lane.
 * The fold matters: a product's top bit depends on its factor's top bit
 * alone, so without it one bit flipped in a word and the top bit flipped
 * in the lane's next word would cancel out.
 */
static inline uint64_t
iam_sum64_step(uint64_t h, uint64_t w, unsigned k, uint64_t p)
{
	h = iam_rotl64(h ^ w, k) * p;
	return h ^ (h >> 32);
}

/*
 * Checksum of n bytes at p: two lanes of 8-byte words, stepped as above,
 * the rotation carrying every bit into the whole lane; no fixed pattern
 * of two flipped bits cancels (test_authdb sweeps every pair).  n itself
 * is summed, so zeros added or cut change it too.  A checksum against
 * damage, not against forgery (as FNV-1a before it).
 */
static inline uint64_t
iam_sum64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t a = IAM_FNV1A_OFFSET ^ ((uint64_t)n * IAM_SUM64_P2);
	uint64_t b = IAM_SUM64_P1, w, v;

	for (; n >= 16; s += 16, n -= 16) {
		memcpy(&w, s, 8);
		memcpy(&v, s + 8, 8);
		a = iam_sum64_step(a, w, 29, IAM_SUM64_P1);
		b = iam_sum64_step(b, v, 31, IAM_SUM64_P2);
	}
	if (n > 0) {
		w = v = 0;
		memcpy(&w, s, n < 8 ? n : 8);
		if (n > 8)
			memcpy(&v, s + 8, n - 8);
		a = iam_sum64_step(a, w, 29, IAM_SUM64_P1);
		b = iam_sum64_step(b, v, 31, IAM_SUM64_P2);
	}
	a ^= iam_rotl64(b * IAM_SUM64_P1, 32);
	a ^= a >> 33;
	a *= IAM_SUM64_P2;
	a ^= a >> 29;
	return a;
}

#endif
