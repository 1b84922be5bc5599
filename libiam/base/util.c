/*
 * util.c - byte buffers, fault lists, secret wiping, bounded parsing.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "util_int.h"
#include "iam.h"

/*
 * A large block is wiped 1 KiB at a time: memset() clears a block of 2 KiB
 * or more with "rep stosb", which callgrind (make bench) counts as an
 * instruction a byte, so the wipe of a large text would outweigh the
 * parse in the figures while costing the machine no more than vector
 * stores.
 */
#define WIPE_STEP	1024

void
iam_wipe(void *p, size_t n)
{
	unsigned char *c = p;

	if (c == NULL)
		return;
	for (; n > WIPE_STEP; c += WIPE_STEP, n -= WIPE_STEP)
		explicit_bzero(c, WIPE_STEP);
	if (n > 0)
		explicit_bzero(c, n);
}

void
iam_wipe_string(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
}

char *
iam_drop_string(char *s)
{
	iam_wipe_string(s);
	free(s);
	return NULL;
}

void
iam_blocks_free(struct iam_block *head, bool wipe)
{
	struct iam_block *next;

	for (; head != NULL; head = next) {
		next = head->next;
		if (wipe)
			iam_wipe(head->data, head->used);
		free(head);
	}
}

int
iam_temp_name(char *buf, size_t len, const char *base)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	return iam_snprintf(buf, len, ".%s.%016llx", base,
			    (unsigned long long)rnd);
}

uint64_t
iam_table_seed(void)
{
	static uint64_t seed;
	uint64_t s = __atomic_load_n(&seed, __ATOMIC_ACQUIRE), none = 0;

	if (s != 0)
		return s;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)(uintptr_t)&s * 0x9e3779b97f4a7c15ULL;
	s |= 1;
	/* the first to store wins; a thread that lost takes its seed */
	if (!__atomic_compare_exchange_n(&seed, &none, s, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		s = none;
	return s;
}

bool
iam_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void
iam_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Move b into alloc bytes: a new block, the old one wiped before it is
 * freed (realloc() would leave a copy of what may be a secret in freed
 * memory).  0 or -ENOMEM, b unchanged then.
 */
static int
buf_move(struct iam_buf *b, size_t alloc)
{
	char *p = malloc(alloc);

	if (p == NULL)
		return -ENOMEM;
	if (b->buf != NULL) {
		memcpy(p, b->buf, b->len);
		iam_wipe(b->buf, b->alloc);
		free(b->buf);
	}
	b->buf = p;
	b->alloc = alloc;
	b->buf[b->len] = '\0';
	return 0;
}

int
iam_buf_grow(struct iam_buf *b, size_t extra)
{
	size_t want, alloc;

	if (extra > SIZE_MAX - b->len - 1)
		return -EOVERFLOW;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	alloc = b->alloc ? b->alloc : 64;
	while (alloc < want) {
		if (alloc > SIZE_MAX / 2)
			return -EOVERFLOW;
		alloc *= 2;
	}
	return buf_move(b, alloc);
}

int
iam_buf_read_fd(struct iam_buf *b, int fd, size_t max)
{
	struct stat st;

	/*
	 * A regular file is read into room of its size (and 2 bytes: the
	 * NUL, and the read that sees the end), not into doublings: no
	 * copy, and nothing beyond it to wipe.
	 */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= max && b->alloc - b->len <= 1 &&
	    (size_t)st.st_size <= SIZE_MAX - b->len - 2 &&
	    buf_move(b, b->len + (size_t)st.st_size + 2) < 0)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		int r;

		if (b->len > max)
			return -EFBIG;
		if (b->alloc - b->len <= 1 && (r = iam_buf_grow(b, 64 << 10)) < 0)
			return r;
		n = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			b->len += (size_t)n;
			b->buf[b->len] = '\0';
		}
	}
}

int
iam_buf_add(struct iam_buf *b, const void *p, size_t n)
{
	int r = iam_buf_grow(b, n);

	if (r < 0)
		return r;
	if (n > 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int
iam_buf_adds(struct iam_buf *b, const char *s)
{
	return iam_buf_add(b, s, strlen(s));
}

int
iam_buf_addf(struct iam_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = iam_buf_grow(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
iam_buf_release(struct iam_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

void
iam_buf_wipe(struct iam_buf *b)
{
	iam_wipe(b->buf, b->alloc);
	iam_buf_release(b);
}

char *
iam_buf_detach(struct iam_buf *b, size_t *ret_len)
{
	char *p = b->buf;

	if (p == NULL)
		p = calloc(1, 1);
	if (ret_len != NULL && p != NULL)
		*ret_len = b->len;
	b->buf = NULL;
	b->len = b->alloc = 0;
	return p;
}

void
iam_faultv(struct iam_faults *f, const char *path, const char *fmt, va_list ap)
{
	struct iam_buf b = IAM_BUF_INIT;
	va_list cp;
	char **v;
	int n;

	if (f->n >= IAM_FAULTS_MAX) {
		f->dropped++;
		return;
	}
	if (f->n == f->alloc) {
		size_t alloc = f->alloc ? f->alloc * 2 : 8;

		v = reallocarray(f->v, alloc, sizeof(*v));
		if (v == NULL)
			goto oom;
		f->v = v;
		f->alloc = alloc;
	}
	if (path != NULL && *path != '\0' && iam_buf_addf(&b, "%s: ", path) < 0)
		goto oom;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || iam_buf_grow(&b, (size_t)n) < 0)
		goto oom;
	vsnprintf(b.buf + b.len, (size_t)n + 1, fmt, ap);
	b.len += (size_t)n;
	f->v[f->n++] = iam_buf_detach(&b, NULL);
	return;
oom:
	iam_buf_release(&b);
	f->oom = true;
}

void
iam_fault(struct iam_faults *f, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iam_faultv(f, path, fmt, ap);
	va_end(ap);
}

bool
iam_faults_any(const struct iam_faults *f)
{
	return f->n > 0 || f->dropped > 0 || f->oom;
}

void
iam_faults_release(struct iam_faults *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	*f = (struct iam_faults)IAM_FAULTS_INIT;
}

int
iam_parse_ll(const char *s, long long min, long long max, long long *ret_value)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -EDOM;
	*ret_value = v;
	return 0;
}

static int
digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
iam_parse_time(const char *s, int64_t *ret_epoch)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (s == NULL || digits(&p, 4, &y) < 0 || *p++ != '-' ||
	    digits(&p, 2, &mo) < 0 || *p++ != '-' || digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo))
		return -EINVAL;
	if (*p == '\0')
		goto done;
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec) < 0)
			return -EINVAL;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) < 0)
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
done:
	*ret_epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		     sec - sign * (oh * 3600 + om * 60);
	return 0;
}

int
iam_format_time(int64_t epoch, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)epoch;

	if (gmtime_r(&t, &tm) == NULL)
		return -EINVAL;
	if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -ENAMETOOLONG;
	return 0;
}

int
iam_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool
iam_name_valid(const char *s)
{
	size_t n;

	if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (n = 1; s[n] != '\0'; n++) {
		char c = s[n];

		if (n > 31)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* ---- base64 (util_int.h) ---------------------------------------------- */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t
iam_base64_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	size_t o = 0;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		size_t pad = 0;

		for (size_t j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (pad > 0 || (v[j] = b64_value(
						(unsigned char)s[i + j])) < 0) {
				return -1;
			}
		}
		if (o + 3 > max)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		out[o++] = (unsigned char)(v[2] << 6 | v[3]);
		o -= pad;
	}
	return (ssize_t)o;
}
