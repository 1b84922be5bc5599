/*
 * state.c - runtime state per uid in state_dir: failed attempts, lockout,
 * the last accepted TOTP step and the last login.
 *
 * One small file per uid, named by the number only (never by a path built
 * from a name).  state_dir must already exist, root-owned and closed to
 * group and others; it is never created here.  Files are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW relative to the folder's descriptor and every
 * file is checked with fstat after opening, so a planted symlink, a hard
 * link or a file of another owner is refused rather than followed
 * (CVE-2024-47191 in pam_oath).  An exclusive flock serialises processes.
 * A file created here is root:root 0600 whatever a setuid caller's group.
 *
 * The lockout routine (iam_lockout_begin/settle) is the one way every
 * password and code check counts: pam_iam's auth, passwd's current
 * password, the role helper's code.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/state.h"
#include "util_int.h"

#define STATE_MAGIC	"IAMSTATE1"
#define STATE_MAX	1024

struct iam_state_handle {
	int fd;
};

static int
open_dir(const char *state_dir, int strict_flags)
{
	if (state_dir == NULL)
		return -EINVAL;
	return iam_open_strict(state_dir, strict_flags | IAM_STRICT_DIR |
			       IAM_STRICT_SECRET, NULL, 0);
}

static int
check_file(int fd, int strict_flags)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return -EPERM;
	if (!(strict_flags & IAM_STRICT_ANY_OWNER) && st.st_uid != 0)
		return -EPERM;
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return -EPERM;
	return 0;
}

/* Open dfd/UID read-write, creating it when create; checked. */
static int
open_file(int dfd, uint32_t uid, bool create, int strict_flags)
{
	char name[16];
	int fd, r;

	r = iam_snprintf(name, sizeof(name), "%" PRIu32, uid);
	if (r < 0)
		return r;
	for (int tries = 0; tries < 3; tries++) {
		fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
			    O_NOCTTY | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT && create) {
			fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL |
				    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
			if (fd < 0 && errno == EEXIST)
				continue;
			/* root:root whatever a setuid caller's group. */
			if (fd >= 0 && ((geteuid() == 0 &&
					 fchown(fd, 0, 0) < 0) ||
					fchmod(fd, 0600) < 0)) {
				r = -errno;
				close(fd);
				return r;
			}
		}
		if (fd < 0)
			return errno == ELOOP || errno == EMLINK ? -ELOOP :
				-errno;
		r = check_file(fd, strict_flags);
		if (r < 0) {
			close(fd);
			return r;
		}
		return fd;
	}
	return -EEXIST;
}

static int
parse_u64(const char **p, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (*s != ' ' && *s != '\n')
		return -EBADMSG;
	*p = s + 1;
	*ret = v;
	return 0;
}

/*
 * "IAMSTATE1 FAILURES LOCK_START LAST_STEP LAST_LOGIN LAST_FAILURE" and,
 * in files written since named devices and recovery codes exist,
 * " RC_SET RC_USED" and up to IAM_MFA_MAX_DEVICES " TAG STEP" pairs.
 * The five-number form of older files still reads (no marks, no steps).
 */
static int
read_state(int fd, struct iam_state *ret)
{
	char buf[STATE_MAX + 1];
	uint64_t v[5 + 2 + 2 * IAM_MFA_MAX_DEVICES];
	const char *p;
	ssize_t n;
	int k;

	n = pread(fd, buf, STATE_MAX, 0);
	if (n < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	if (n == 0)
		return 0;	/* freshly created */
	buf[n] = '\0';
	if (strncmp(buf, STATE_MAGIC " ", sizeof(STATE_MAGIC)) != 0)
		return -EBADMSG;
	p = buf + sizeof(STATE_MAGIC);
	for (k = 0; k < (int)(sizeof(v) / sizeof(v[0])); k++) {
		if (parse_u64(&p, &v[k]) < 0)
			return -EBADMSG;
		if (p[-1] == '\n')
			break;
	}
	k++;
	if (p[-1] != '\n' || *p != '\0' || v[0] > UINT32_MAX ||
	    v[1] > INT64_MAX || v[3] > INT64_MAX || v[4] > INT64_MAX ||
	    (k != 5 && (k < 7 || (k - 7) % 2 != 0)))
		return -EBADMSG;
	ret->failures = (uint32_t)v[0];
	ret->lock_start = (int64_t)v[1];
	ret->last_step = v[2];
	ret->last_login = (int64_t)v[3];
	ret->last_failure = (int64_t)v[4];
	if (k == 5)
		return 0;
	if (v[5] > UINT32_MAX || v[6] > UINT32_MAX)
		return -EBADMSG;
	ret->rc_set = (uint32_t)v[5];
	ret->rc_used = (uint32_t)v[6];
	for (int i = 0; 7 + 2 * i < k; i++) {
		if (v[7 + 2 * i] == 0 || v[7 + 2 * i] > UINT32_MAX)
			return -EBADMSG;
		ret->steps[i].tag = (uint32_t)v[7 + 2 * i];
		ret->steps[i].step = v[8 + 2 * i];
	}
	return 0;
}

uint64_t
iam_state_device_step(const struct iam_state *s, uint32_t tag)
{
	if (tag == 0)
		return s->last_step;
	for (size_t i = 0; i < IAM_MFA_MAX_DEVICES; i++)
		if (s->steps[i].tag == tag)
			return s->steps[i].step;
	return 0;
}

uint32_t
iam_state_recovery_used(const struct iam_state *s, uint32_t set_tag)
{
	return set_tag != 0 && s->rc_set == set_tag ? s->rc_used : 0;
}

void
iam_state_set_device_step(struct iam_state *s, uint32_t tag, uint64_t step)
{
	size_t at = 0;

	if (tag == 0) {
		s->last_step = step;
		return;
	}
	for (size_t i = 0; i < IAM_MFA_MAX_DEVICES; i++) {
		if (s->steps[i].tag == tag) {
			at = i;
			break;
		}
		if (s->steps[i].tag == 0 || s->steps[i].step < s->steps[at].step)
			at = i;
		if (s->steps[i].tag == 0)
			break;
	}
	s->steps[at].tag = tag;
	s->steps[at].step = step;
}

/* The state file of uid in state_dir, under the strict rules. */
static int
open_state_file(const char *state_dir, uint32_t uid, bool create,
		int strict_flags)
{
	int dfd, fd;

	dfd = open_dir(state_dir, strict_flags);
	if (dfd < 0)
		return dfd;
	fd = open_file(dfd, uid, create, strict_flags);
	close(dfd);
	return fd;
}

/* The state file of uid, opened under the strict rules and locked. */
static int
open_locked(const char *state_dir, uint32_t uid, bool create, int strict_flags)
{
	int fd;

	fd = open_state_file(state_dir, uid, create, strict_flags);
	if (fd < 0)
		return fd;
	return iam_keep_fd(fd, iam_flock_bounded(fd, LOCK_EX));
}

int
iam_state_open(const char *state_dir, uint32_t uid, int strict_flags,
	       struct iam_state_handle **ret_h, struct iam_state *ret_state)
{
	struct iam_state_handle *h;
	struct iam_state s;
	int fd, r;

	fd = open_locked(state_dir, uid, true, strict_flags);
	if (fd < 0)
		return fd;
	r = read_state(fd, &s);
	if (r < 0)
		goto out_close;
	h = malloc(sizeof(*h));
	if (h == NULL) {
		r = -ENOMEM;
		goto out_close;
	}
	h->fd = fd;
	*ret_h = h;
	*ret_state = s;
	return 0;
out_close:
	close(fd);
	return r;
}

int
iam_state_save(struct iam_state_handle *h, const struct iam_state *s)
{
	struct iam_fsize_guard g;
	struct iam_buf b = IAM_BUF_INIT;
	ssize_t n;
	int r;

	if (h == NULL || s == NULL || s->lock_start < 0 || s->last_login < 0 ||
	    s->last_failure < 0)
		return -EINVAL;
	r = iam_buf_addf(&b, "%s %" PRIu32 " %" PRId64 " %" PRIu64 " %"
			 PRId64 " %" PRId64, STATE_MAGIC, s->failures,
			 s->lock_start, s->last_step, s->last_login,
			 s->last_failure);
	/* The short form while nothing else is known: older readers agree. */
	if (r == 0 && (s->rc_set != 0 || s->steps[0].tag != 0))
		r = iam_buf_addf(&b, " %" PRIu32 " %" PRIu32, s->rc_set,
				 s->rc_used);
	for (size_t i = 0; r == 0 && i < IAM_MFA_MAX_DEVICES &&
	     s->steps[i].tag != 0; i++)
		r = iam_buf_addf(&b, " %" PRIu32 " %" PRIu64, s->steps[i].tag,
				 s->steps[i].step);
	r = r ? r : iam_buf_adds(&b, "\n");
	if (r == 0 && b.len > STATE_MAX)
		r = -E2BIG;
	if (r < 0)
		goto out;
	/* Whatever RLIMIT_FSIZE a setuid caller brought (fsize.c). */
	iam_fsize_lift(&g);
	n = pwrite(h->fd, b.buf, b.len, 0);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != b.len)
		r = -EIO;
	else if (ftruncate(h->fd, n) < 0 || fsync(h->fd) < 0)
		r = -errno;
	iam_fsize_restore(&g);
out:
	iam_buf_release(&b);
	return r;
}

struct iam_state_handle *
iam_state_close(struct iam_state_handle *h)
{
	if (h == NULL)
		return NULL;
	close(h->fd);	/* releases the flock */
	free(h);
	return NULL;
}

int
iam_state_read(const char *state_dir, uint32_t uid, int strict_flags,
	       struct iam_state *ret_state)
{
	struct iam_state s;
	int fd, r;

	fd = open_state_file(state_dir, uid, false, strict_flags);
	if (fd < 0)
		return fd;
	r = iam_flock_bounded(fd, LOCK_SH);
	r = r ? r : read_state(fd, &s);
	close(fd);
	if (r == 0)
		*ret_state = s;
	return r;
}

int
iam_state_dir_check(const char *state_dir, int strict_flags)
{
	int dfd = open_dir(state_dir, strict_flags);

	if (dfd < 0)
		return dfd;
	/* Writable: a read-only file system refuses before anything counts. */
	if (faccessat(dfd, ".", W_OK, AT_EACCESS) < 0) {
		int r = -errno;

		close(dfd);
		return r;
	}
	close(dfd);
	return 0;
}

bool
iam_state_locked(const struct iam_state *s, const struct iam_lockout *lk,
		 int64_t now)
{
	if (lk->max_failed_attempts == 0 || s->lock_start == 0)
		return false;
	/*
	 * A clock set back keeps the lock for its length counted from now
	 * (it never ends early), but never for longer than the clock moved
	 * plus that length: a lock is not a way to freeze an account.
	 */
	if (now < s->lock_start)
		return s->lock_start - now < (int64_t)lk->lockout_seconds * 2;
	return now - s->lock_start < (int64_t)lk->lockout_seconds;
}

void
iam_state_count_failure(struct iam_state *s, const struct iam_lockout *lk,
			int64_t now)
{
	if (s->lock_start != 0 && !iam_state_locked(s, lk, now)) {
		s->failures = 0;
		s->lock_start = 0;
	}
	if (s->failures < UINT32_MAX)
		s->failures++;
	s->last_failure = now;
	if (lk->max_failed_attempts > 0 &&
	    s->failures >= lk->max_failed_attempts)
		s->lock_start = now;
}

int
iam_state_unlock(const char *state_dir, uint32_t uid, int strict_flags)
{
	struct iam_state_handle h;
	struct iam_state s;
	int r;

	h.fd = open_locked(state_dir, uid, false, strict_flags);
	if (h.fd < 0)
		return h.fd;
	/* A damaged file is replaced: unlocking is how an admin repairs it. */
	if (read_state(h.fd, &s) < 0)
		memset(&s, 0, sizeof(s));
	s.failures = 0;
	s.lock_start = 0;
	r = iam_state_save(&h, &s);
	close(h.fd);
	return r;
}

/* ---- Lockout ------------------------------------------------------------ */

/* Lockout off: is now too soon after the last failure of s? */
static bool
too_soon(const struct iam_state *s, const struct iam_lockout *lk, int64_t now)
{
	int64_t d;

	if (lk->max_failed_attempts != 0 || s->last_failure == 0)
		return false;
	/* A clock set back delays by at most as much, never for good. */
	d = now - s->last_failure;
	return d > -IAM_LOCKOUT_DELAY && d < IAM_LOCKOUT_DELAY;
}

int
iam_lockout_begin(const char *state_dir, uint32_t uid, int strict_flags,
		  const struct iam_lockout *lk, int64_t now,
		  struct iam_lockout_try *ret_try)
{
	struct iam_state_handle *h = NULL;
	struct iam_lockout_try t = {
		.state_dir = state_dir, .uid = uid,
		.strict_flags = strict_flags, .now = now,
	};
	int r;

	if (lk == NULL || ret_try == NULL)
		return -EINVAL;
	t.lk = *lk;
	r = iam_state_open(state_dir, uid, strict_flags, &h, &t.before);
	if (r < 0)
		return r;
	t.counted = t.before;
	if (iam_state_locked(&t.before, lk, now))
		r = -EBUSY;	/* refused unchecked; the lock not extended */
	else if (too_soon(&t.before, lk, now))
		r = -EAGAIN;
	else {
		/* Counted before the check: a check killed half-way counts. */
		iam_state_count_failure(&t.counted, lk, now);
		r = iam_state_save(h, &t.counted);
	}
	/* Released before the check, so a stopped client holds up nobody. */
	iam_state_close(h);
	*ret_try = t;
	return r;
}

int
iam_lockout_settle(const struct iam_lockout_try *t,
		   enum iam_lockout_result res, uint64_t step, bool *ret_locked)
{
	struct iam_mfa_match m = IAM_MFA_MATCH_NONE;

	m.step = step;
	return iam_lockout_settle_mfa(t, res, &m, ret_locked);
}

/* Was what m matched taken by a concurrent check since? */
static bool
match_taken(const struct iam_state *s, const struct iam_mfa_match *m)
{
	if (m->recovery >= 0)
		return m->recovery >= 32 || (iam_state_recovery_used(
			s, m->recovery_set) & (1u << m->recovery)) != 0;
	return m->step != 0 && iam_state_device_step(s, m->tag) >= m->step;
}

static void
match_record(struct iam_state *s, const struct iam_mfa_match *m)
{
	if (m->recovery >= 0) {
		if (s->rc_set != m->recovery_set) {
			s->rc_set = m->recovery_set;
			s->rc_used = 0;
		}
		s->rc_used |= 1u << m->recovery;
	} else if (m->step != 0) {
		iam_state_set_device_step(s, m->tag, m->step);
	}
}

int
iam_lockout_settle_mfa(const struct iam_lockout_try *t,
		       enum iam_lockout_result res,
		       const struct iam_mfa_match *m, bool *ret_locked)
{
	const struct iam_state *c = &t->counted, *b = &t->before;
	bool started = c->lock_start == t->now && b->lock_start != t->now;
	const struct iam_mfa_match none = IAM_MFA_MATCH_NONE;
	struct iam_state_handle *h = NULL;
	struct iam_state s;
	int r;

	if (m == NULL)
		m = &none;
	if (ret_locked != NULL)
		*ret_locked = res == IAM_LOCKOUT_FAILED && started;
	if (res == IAM_LOCKOUT_FAILED)
		return 0;
	r = iam_state_open(t->state_dir, t->uid, t->strict_flags, &h, &s);
	if (r < 0)
		return r;
	/* Nothing counted since this attempt: its failure time goes too. */
	if (s.failures == c->failures && s.last_failure == c->last_failure)
		s.last_failure = b->last_failure;
	if (res == IAM_LOCKOUT_OK && match_taken(&s, m)) {
		r = -EALREADY;	/* a concurrent check took this step */
		if (ret_locked != NULL)
			*ret_locked = started;
	} else if (res == IAM_LOCKOUT_OK) {
		s.failures = 0;
		s.lock_start = 0;
		s.last_failure = 0;	/* no delay after a success */
		s.last_login = t->now;
		match_record(&s, m);
		r = iam_state_save(h, &s);
	} else {
		/* A right password: no guess to count. */
		if (s.failures > 0)
			s.failures--;
		if (started && s.lock_start == t->now)
			s.lock_start = b->lock_start;
		r = iam_state_save(h, &s);
	}
	iam_state_close(h);
	return r;
}
