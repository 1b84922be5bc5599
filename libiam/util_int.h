/*
 * util_int.h - primitives libiam's files share that are not part of the
 * public interface (hidden visibility; FNV-1a is in fnv.h).
 */
#ifndef IAM_UTIL_INT_H
#define IAM_UTIL_INT_H

#include <stddef.h>
#include <sys/types.h>

#define IAM_PRIVATE __attribute__((visibility("hidden")))

/*
 * Strict base64 (RFC 4648 alphabet, padded, '=' only in the last two
 * places) of the n characters at s into out (max bytes).  Returns the
 * number of bytes decoded (0 for n == 0), or -1 when s is not base64 or
 * out is too small (n / 4 * 3 bytes always suffice).
 */
IAM_PRIVATE ssize_t iam_base64_decode(const char *s, size_t n,
				      unsigned char *out, size_t max);

#endif
