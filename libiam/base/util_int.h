/*
 * util_int.h - primitives libiam's files share that are not part of the
 * public interface (hidden visibility; FNV-1a is in fnv.h).
 */
#ifndef IAM_UTIL_INT_H
#define IAM_UTIL_INT_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
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

#include <stdint.h>

/*
 * A generation's number "N" (folder gen/N): decimal digits without a
 * leading zero, 1 up to 19 digits.  0 or -EBADMSG.
 */
IAM_PRIVATE int iam_generation_parse(const char *s, uint64_t *ret_gen);

/*
 * Around a write of a privileged process (trail, state, credentials,
 * publication): with euid 0, RLIMIT_FSIZE is lifted to infinity and
 * SIGXFSZ blocked (one the write raises is discarded); restore puts both
 * back.  Nothing happens for another euid.  errno is kept.
 */
struct iam_fsize_guard {
	struct rlimit old;
	sigset_t mask;
	bool lifted, blocked, was_pending;
};

IAM_PRIVATE void iam_fsize_lift(struct iam_fsize_guard *g);
IAM_PRIVATE void iam_fsize_restore(struct iam_fsize_guard *g);

/*
 * Of the strict opening (host/store.c), shared with atomic.c: every folder
 * above path root-owned and not writable by others (0, or -EPERM/-ELOOP
 * with why in err); a folder opened O_NOFOLLOW|O_DIRECTORY (fd or -errno).
 */
IAM_PRIVATE int iam_check_parents(const char *path, int flags, char *err,
				  size_t errlen);
IAM_PRIVATE int iam_open_dir_nofollow(const char *path);

/*
 * Read fd to its end onto b (NUL-terminated; b->buf is set after a 0,
 * even for nothing read), EINTR retried; b grows only when full.  0,
 * -EFBIG once more than max bytes are in b, or -errno.
 */
struct iam_buf;
IAM_PRIVATE int iam_buf_read_fd(struct iam_buf *b, int fd, size_t max);

/*
 * A fresh temporary name ".BASE.<16 random hex digits>" in buf: 0, -EIO
 * (no randomness) or -ENAMETOOLONG.
 */
IAM_PRIVATE int iam_temp_name(char *buf, size_t len, const char *base);

/*
 * A block of an arena (policy, request, JSON document): blocks stand
 * newest first and are freed together.  iam_block_push(): a new block of
 * size bytes, none used, put at *head (NULL when out of memory).
 * iam_blocks_free(): all of them, their used bytes wiped first if asked.
 */
struct iam_block {
	struct iam_block *next;
	size_t used, size;
	max_align_t data[];
};

IAM_PRIVATE void iam_blocks_free(struct iam_block *head, bool wipe);

/* Inline: a request takes its first block on the policy decision's path. */
static inline struct iam_block *
iam_block_push(struct iam_block **head, size_t size)
{
	struct iam_block *b;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + size);
	if (b == NULL)
		return NULL;
	b->next = *head;
	b->used = 0;
	b->size = size;
	*head = b;
	return b;
}

/* fd, when r (how a step on it went) is 0; else fd closed, and r. */
static inline int
iam_keep_fd(int fd, int r)
{
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The n bytes at s and a NUL into dst (n + 1 bytes), unless dst is NULL. */
static inline char *
iam_copy_string(char *dst, const void *s, size_t n)
{
	if (dst != NULL) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
	return dst;
}

/*
 * The seed of libiam's in-memory hash tables: random, once per process
 * (the address of a stack variable, randomised by ASLR, should
 * getrandom() fail), never 0, and the same for every thread from its
 * first use, so that no identity file can be written whose names all
 * land on one slot.
 */
IAM_PRIVATE uint64_t iam_table_seed(void);

/*
 * The hash of n bytes at p for such a table (never stored), under seed:
 * 8 bytes a step, the last 1 to 8 bytes one more word, the length mixed
 * in first so that the overlap of that word is never ambiguous.
 */
static inline uint64_t
iam_table_hash(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ n, w = 0, k = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		/* folded each step: a top bit flipped in two words would
		   otherwise cancel out whatever the seed */
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	if (n >= 8) {
		memcpy(&w, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		w = a | (uint64_t)b << 32;
	} else if (n > 0) {
		w = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 |
		    (uint64_t)s[n - 1] << 16;
	}
	h = (h ^ w) * k;
	/* a product's high bytes come from all of its factors' bytes, its
	   low ones from the low ones alone: mix before a mask */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Whether s holds a control character (below 0x20, or 0x7f). */
IAM_PRIVATE bool iam_has_control(const char *s);

/* Free the n strings of v, then v (NULL with n == 0 is fine). */
IAM_PRIVATE void iam_strv_free(char **v, size_t n);

/*
 * A new file's owner root (when euid is 0) and its mode, whatever the
 * umask or a setuid caller's group: 0 or -errno.  iam_fill_file(): that,
 * then all of data written and fsynced; fd is closed either way.
 */
IAM_PRIVATE int iam_own_and_mode(int fd, mode_t mode);
IAM_PRIVATE int iam_fill_file(int fd, const void *data, size_t len,
			      mode_t mode);

/* Write all of data to fd (EINTR retried, a short write is -EIO). */
IAM_PRIVATE int iam_write_all(int fd, const void *data, size_t len);

/*
 * flock(fd, op) (LOCK_SH or LOCK_EX), waiting at most IAM_LOCK_WAIT_MS.
 * A user's state lock is held for a few system calls,
 * but by processes a user may stop (su, sudo, passwd run with the user's
 * real uid): a stopped holder then costs a bounded wait and a refusal
 * (-ETIMEDOUT), never a login that hangs.  0 or -errno.
 */
#define IAM_LOCK_WAIT_MS	5000
IAM_PRIVATE int iam_flock_bounded(int fd, int op);

/*
 * A directory stream on fd (fdopendir), closing fd when it fails (errno
 * kept).  iam_opendir_dup(): on a duplicate of dirfd (close-on-exec),
 * rewound, so dirfd stays the caller's.  NULL and errno on failure.
 */
IAM_PRIVATE DIR *iam_fdopendir(int fd);
/* The stream into *ret: 0, or -errno (an fd < 0 is an opener's -errno). */
IAM_PRIVATE int iam_opendir_fd(int fd, DIR **ret);
IAM_PRIVATE DIR *iam_opendir_dup(int dirfd);

/*
 * Names already resolved, by the address of their text.  A loaded
 * identity keeps the names its users and groups refer to once as a rule
 * (iam_json_split.shared), so a builder that resolves every user's
 * groups meets the same few addresses again and again.  Sound only while
 * no name is written or freed, which holds for a const identity; a miss
 * costs nothing but the lookup that follows it.  NULL is never a name:
 * never found, never put (an empty slot holds NULL).
 */
#define IAM_NAME_MEMO	1024
struct iam_name_memo {
	const char *name[IAM_NAME_MEMO];
	uint32_t idx[IAM_NAME_MEMO];
};

static inline size_t
iam_name_memo_slot(const char *name)
{
	return (size_t)(((uint64_t)(uintptr_t)name * 0x9e3779b97f4a7c15ULL) >>
			54) & (IAM_NAME_MEMO - 1);
}

/* Whether name's address was put, with its index in *ret. */
static inline bool
iam_name_memo_get(const struct iam_name_memo *m, const char *name,
		  uint32_t *ret)
{
	size_t s = iam_name_memo_slot(name);

	if (m == NULL || name == NULL || m->name[s] != name)
		return false;
	*ret = m->idx[s];
	return true;
}

static inline void
iam_name_memo_put(struct iam_name_memo *m, const char *name, uint32_t idx)
{
	size_t s = iam_name_memo_slot(name);

	if (m != NULL && name != NULL) {
		m->name[s] = name;
		m->idx[s] = idx;
	}
}

struct iam_request;

/* Add key=value to req when value is neither NULL nor empty. */
IAM_PRIVATE int iam_request_add_nonempty(struct iam_request *req,
					 const char *key, const char *value);

#endif
