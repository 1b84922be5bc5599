/*
 * fnv.h - FNV-1a (64 bit), the one hash of libiam's snapshots, indexes
 * and checksums.  Header-only, so nss_iam (which links libc alone) can
 * use it too.  Private: not installed.
 */
#ifndef IAM_FNV_H
#define IAM_FNV_H

#include <stddef.h>
#include <stdint.h>

#define IAM_FNV1A_OFFSET	0xcbf29ce484222325ULL
#define IAM_FNV1A_PRIME		0x100000001b3ULL

/* Continue hash h over n bytes at p. */
static inline uint64_t
iam_fnv1a_more(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
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

#endif
