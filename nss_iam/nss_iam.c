/*
 * nss_iam.c - NSS entry points for passwd, group and initgroups, answered
 * from the public snapshot IAM_NSS_DB_CURRENT (libiam/nssdb.h), or
 * IAM_NSS_DB on a host still in the flat layout of earlier versions.
 *
 * Loaded into every process that resolves a name, so: libc only, no
 * logging, no NSS call of its own, no allocation except growing the
 * caller's initgroups array, and no syscall on the lookup path.
 *
 * The snapshot is mapped once.  A newly published one (publishing writes
 * a new generation and renames the link current to it; the old file
 * stays valid while mapped) is noticed by a stat() through current at
 * most once per second, timed with CLOCK_MONOTONIC_COARSE, which the
 * vDSO answers without entering the kernel.  nss.db is the only file a
 * lookup reads, so every answer comes from one generation.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/*
 * The reader is compiled into this file, not linked beside it, so that
 * the lookups (IAM_NSSDB_LOOKUP) inline into each entry point: no call,
 * no record copied out twice.  It is libc only, as this module must be.
 */
#include "nssdb.c"

#define EXPORT __attribute__((visibility("default")))

/*
 * The current snapshot, *live: one of two slots.  Lookups take no lock:
 * a reader counts itself in readers[phase] before it loads live and
 * uncounts itself when it has copied out of the mapping.  A refresh maps
 * the new file into the spare slot, points live at it, then waits until
 * every reader that may still hold the old slot is gone, the two
 * counters drained in turn (new readers count in the other one, so a
 * busy process cannot starve it), and only then unmaps the old file.
 * refresh_lock keeps to one the threads that stat(); the others go on
 * with the mapping they have.  No destructor unmaps the snapshot: glibc
 * never unloads an NSS module, and at exit() another thread may still
 * be reading it.
 */
struct snap {
	struct iam_nssdb db;		/* db.base == NULL: none */
	int err;			/* why there is none */
	struct stat st;			/* of the file mapped, or zero */
};
static struct snap snaps[2] = { { .err = -ENOENT }, { .err = -ENOENT } };
static struct snap *live = &snaps[0];
static struct snap *spare = &snaps[1];	/* held by no reader; NULL: none */
static unsigned long readers[2];
static unsigned int phase;
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static long next_check;			/* coarse monotonic seconds */
static int checked;			/* the first check is done */

static long
now_coarse(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return __atomic_load_n(&next_check, __ATOMIC_RELAXED);
	return (long)ts.tv_sec;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode &&
	       a->st_uid == b->st_uid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Wait until no reader can hold the slot live pointed at before: flip
 * the phase and wait for the old counter, twice, so a reader that read
 * the phase just before a flip is waited for too.  A reader is inside
 * for one copy out of the mapping: the wait yields, then naps.  A count
 * that never comes back (a lookup left by longjmp from a signal handler,
 * a thread cancelled inside one, a handler's lookup waiting on the lookup
 * it interrupted) is given up on after DRAIN_MS: 0 drained, -1 not.
 */
#define DRAIN_MS 2000

static int
drain_readers(void)
{
	struct timespec nap = { 0, 1000000 };
	unsigned int p;
	int k, spins, napped = 0;

	for (k = 0; k < 2; k++) {
		p = __atomic_load_n(&phase, __ATOMIC_RELAXED);
		__atomic_store_n(&phase, p ^ 1, __ATOMIC_SEQ_CST);
		for (spins = 0;
		     __atomic_load_n(&readers[p], __ATOMIC_SEQ_CST) != 0;
		     spins++) {
			if (spins < 100) {
				sched_yield();
				continue;
			}
			if (napped++ >= DRAIN_MS)
				return -1;
			(void)nanosleep(&nap, NULL);
		}
	}
	return 0;
}

/*
 * Out of the lookups' way (they are inlined, this is not), and leaving
 * errno as it found it: stat() and open() may set it, a lookup must not.
 */
static __attribute__((noinline)) void
refresh(long now)
{
	struct snap *old, *next;
	struct stat seen;
	const char *path;
	int r, saved = errno;

	/*
	 * Until the first check is done there is nothing to go on with:
	 * wait for it.  Later, whoever loses the race keeps the old mapping.
	 */
	if (!__atomic_load_n(&checked, __ATOMIC_ACQUIRE))
		pthread_mutex_lock(&refresh_lock);
	else if (pthread_mutex_trylock(&refresh_lock) != 0)
		return;
	if (now < __atomic_load_n(&next_check, __ATOMIC_ACQUIRE))
		goto out_unlock;
	path = IAM_NSS_DB_CURRENT;
	r = stat(path, &seen);
	if (r < 0 && errno == ENOENT) {
		path = IAM_NSS_DB;
		r = stat(path, &seen);
	}
	old = live;
	if (r == 0 && old->db.base != NULL && same_file(&seen, &old->st))
		goto out_done;
	/* the spare slot: no reader holds it since the last refresh */
	next = spare;
	if (next == NULL)
		goto out_done;		/* none to be had: keep the old one */
	memset(next, 0, sizeof(*next));
	r = r == 0 ? iam_nssdb_open(path, &next->db, &next->st) : -errno;
	next->err = r < 0 ? r : 0;
	__atomic_store_n(&live, next, __ATOMIC_SEQ_CST);
	if (drain_readers() == 0) {
		iam_nssdb_close(&old->db);
		memset(old, 0, sizeof(*old));
		spare = old;
	} else {
		/* a reader may hold old for good: leave it mapped, as it is */
		spare = calloc(1, sizeof(*spare));
	}
out_done:
	__atomic_store_n(&next_check, now + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&checked, 1, __ATOMIC_RELEASE);
out_unlock:
	pthread_mutex_unlock(&refresh_lock);
	errno = saved;
}

/* A reader's hold on the current snapshot. */
struct hold {
	const struct iam_nssdb *db;
	unsigned int phase;
};

static inline void
release(const struct hold *h)
{
	__atomic_fetch_sub(&readers[h->phase], 1, __ATOMIC_RELEASE);
}

/* Hold the current snapshot; 0 or the reason there is none. */
static inline __attribute__((always_inline)) int
acquire(struct hold *h)
{
	const struct snap *s;
	long now = now_coarse();
	int r;

	if (now >= __atomic_load_n(&next_check, __ATOMIC_ACQUIRE))
		refresh(now);
	h->phase = __atomic_load_n(&phase, __ATOMIC_RELAXED) & 1;
	__atomic_fetch_add(&readers[h->phase], 1, __ATOMIC_SEQ_CST);
	s = __atomic_load_n(&live, __ATOMIC_SEQ_CST);
	if (s->db.base == NULL) {
		r = s->err < 0 ? s->err : -ENOENT;
		release(h);
		return r;
	}
	h->db = &s->db;
	return 0;
}

/* Map a reader result (0 / -errno) to NSS, as nss-systemd does. */
static enum nss_status
status(int r, int *errnop)
{
	if (r == 0)
		return NSS_STATUS_SUCCESS;
	if (r == -ENOENT) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	if (r == -ERANGE) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	if (r == -ENOMEM) {
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	}
	*errnop = -r;
	return NSS_STATUS_UNAVAIL;
}

/* The snapshot is unusable: a missing file is not "no such user". */
static int
unusable(int r)
{
	return r == -ENOENT ? -EIO : r;
}

static char *
put(char **p, const char *s, size_t len)
{
	char *d = *p;

	memcpy(d, s, len);
	d[len] = '\0';
	*p += len + 1;
	return d;
}

static inline int
pack_passwd(const struct iam_nssdb_user *u, struct passwd *pw, char *buf,
	    size_t len)
{
	size_t need = u->name_len + u->gecos_len + u->home_len +
		      u->shell_len + 4 + 2;
	char *p = buf;

	if (len < need)
		return -ERANGE;
	/*
	 * The reader checked that name, gecos, home and shell lie one after
	 * the other, each ended by its NUL: one copy takes all four.
	 */
	memcpy(p, u->name, need - 2);
	pw->pw_name = p;
	pw->pw_gecos = p + u->name_len + 1;
	pw->pw_dir = pw->pw_gecos + u->gecos_len + 1;
	pw->pw_shell = pw->pw_dir + u->home_len + 1;
	p += need - 2;
	pw->pw_passwd = put(&p, "*", 1);
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return 0;
}

/*
 * The group's member names were checked with its record: copy them in
 * one go, then point gr_mem at each.
 */
/*
 * Point mem[0..n-1] at the n names of the member block p (size bytes,
 * each name ended by a NUL, none empty, the last byte a NUL), as
 * iam_nssdb_next_member() would walk it, but in one pass of 8 bytes at
 * a time: a group's members are the hot part of getgrnam and getgrent.
 * 0, or -EBADMSG when the block is not n such names.
 */
static inline int
index_members(char **mem, char *p, size_t size, uint32_t n)
{
	const uint64_t m7 = 0x7f7f7f7f7f7f7f7fULL;
	size_t off = 0, start = 0, at;
	uint32_t i = 0;
	uint64_t w, z;

	for (;; off += 8) {
		if (off + 8 <= size) {
			memcpy(&w, p + off, 8);
			/* the high bit of each byte that is 0, exactly */
			z = ~(((w & m7) + m7) | w | m7);
		} else {
			for (z = 0, at = off; at < size; at++)
				if (p[at] == '\0')
					z |= 0x80ULL << ((at - off) * 8);
		}
		for (; z != 0; z &= z - 1) {
			at = off + (size_t)__builtin_ctzll(z) / 8;
			if (at == start || i == n ||
			    at - start > IAM_NSSDB_MAX_STRING)
				return -EBADMSG;
			mem[i++] = p + start;
			start = at + 1;
		}
		if (off + 8 >= size)
			break;
	}
	return i == n && start == size ? 0 : -EBADMSG;
}

static int
pack_group(const struct iam_nssdb_group *g, struct group *gr, char *buf,
	   size_t len)
{
	size_t need, pad;
	char **mem, *p;

	/* gr_mem is an array of pointers in buf: align it first */
	pad = (sizeof(char *) - (uintptr_t)buf % sizeof(char *)) %
	      sizeof(char *);
	need = pad + ((size_t)g->n_members + 1) * sizeof(char *) +
	       g->members_size + g->name_len + 1 + 2;
	if (len < need)
		return -ERANGE;
	mem = (char **)(void *)(buf + pad);
	p = (char *)(mem + g->n_members + 1);
	memcpy(p, g->members, g->members_size);
	if (index_members(mem, p, g->members_size, g->n_members) < 0)
		return -EBADMSG;
	mem[g->n_members] = NULL;
	p += g->members_size;
	gr->gr_name = put(&p, g->name, g->name_len);
	gr->gr_passwd = put(&p, "*", 1);
	gr->gr_gid = g->gid;
	gr->gr_mem = mem;
	return 0;
}

/* ---- passwd ----------------------------------------------------------- */

enum key_kind { BY_NAME, BY_ID };

/* Inlined into getpwnam_r and getpwuid_r: errno is left alone. */
static inline __attribute__((always_inline)) enum nss_status
lookup_pw(enum key_kind kind, const char *name, uid_t uid, struct passwd *pw,
      char *buf, size_t len, int *errnop)
{
	struct iam_nssdb_user u;
	struct hold h;
	int r;

	if (kind == BY_NAME && (name == NULL || *name == '\0'))
		return status(-ENOENT, errnop);
	r = acquire(&h);
	if (r < 0)
		return status(unusable(r), errnop);
	/* getpwnam and getpwuid answer no gids: they are not read */
	r = iam_nssdb_user(h.db, kind == BY_NAME ? name : NULL, (uint32_t)uid,
			   0, &u);
	if (r == 0)
		r = pack_passwd(&u, pw, buf, len);
	release(&h);
	return status(r, errnop);
}

EXPORT enum nss_status _nss_iam_getpwnam_r(const char *name, struct passwd *pw,
					   char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_getpwuid_r(uid_t uid, struct passwd *pw,
					   char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_setpwent(int stayopen);
EXPORT enum nss_status _nss_iam_endpwent(void);
EXPORT enum nss_status _nss_iam_getpwent_r(struct passwd *pw, char *buf,
					   size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_getgrnam_r(const char *name, struct group *gr,
					   char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_getgrgid_r(gid_t gid, struct group *gr,
					   char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_setgrent(int stayopen);
EXPORT enum nss_status _nss_iam_endgrent(void);
EXPORT enum nss_status _nss_iam_getgrent_r(struct group *gr, char *buf,
					   size_t len, int *errnop);
EXPORT enum nss_status _nss_iam_initgroups_dyn(const char *user, gid_t group,
					       long *start, long *size,
					       gid_t **groupsp, long limit,
					       int *errnop);

enum nss_status
_nss_iam_getpwnam_r(const char *name, struct passwd *pw, char *buf,
		    size_t len, int *errnop)
{
	return lookup_pw(BY_NAME, name, 0, pw, buf, len, errnop);
}

enum nss_status
_nss_iam_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
		    int *errnop)
{
	return lookup_pw(BY_ID, NULL, uid, pw, buf, len, errnop);
}

/*
 * Enumeration cursors.  getpwent_r(3) and getgrent_r(3) share one
 * position per process between all threads (see their NOTES), so each is
 * a global behind its own mutex.  The cursor remembers the generation it
 * walks: when a new snapshot replaces it mid-walk, the walk ends rather
 * than list someone twice or skip someone.
 */
struct cursor {
	pthread_mutex_t lock;
	uint32_t next;
	uint64_t generation;
	int started;
};
static struct cursor pw_cursor = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };
static struct cursor gr_cursor = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };

/*
 * fork() in a threaded process copies the locks but not the threads that
 * hold them: a child could then wait forever on a lock no one releases.
 * Take every lock around fork, in the order the lookups take them.
 */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&pw_cursor.lock);
	pthread_mutex_lock(&gr_cursor.lock);
	pthread_mutex_lock(&refresh_lock);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&refresh_lock);
	pthread_mutex_unlock(&gr_cursor.lock);
	pthread_mutex_unlock(&pw_cursor.lock);
}

/*
 * Start the child with fresh locks, and with no reader counted: the
 * threads that were reading are not in the child, and the forking one
 * is not inside a lookup.
 */
static void
fork_child(void)
{
	static const pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;

	readers[0] = readers[1] = 0;
	refresh_lock = mx;
	gr_cursor.lock = mx;
	pw_cursor.lock = mx;
}

__attribute__((constructor)) static void
module_init(void)
{
	/* on failure (ENOMEM) the module works; only that hazard remains */
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void
cursor_reset(struct cursor *c)
{
	pthread_mutex_lock(&c->lock);
	c->next = 0;
	c->started = 0;
	pthread_mutex_unlock(&c->lock);
}

/* Under c->lock, holding db: may the walk go on? */
static int
cursor_valid(struct cursor *c, const struct iam_nssdb *db)
{
	if (!c->started) {
		c->started = 1;
		c->generation = db->generation;
		c->next = 0;
	}
	return c->generation == db->generation;
}

/* The next entry of the walk c, a group's or a user's, into ent. */
static enum nss_status
walk_next(struct cursor *c, int groups, void *ent, char *buf, size_t len,
	  int *errnop)
{
	struct iam_nssdb_user u;
	struct iam_nssdb_group g;
	struct hold h;
	int saved = errno, r;

	pthread_mutex_lock(&c->lock);
	r = acquire(&h);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		return status(unusable(r), errnop);
	}
	if (!cursor_valid(c, h.db))
		r = -ENOENT;
	else if (groups && (r = iam_nssdb_group_at(h.db, c->next, &g)) == 0)
		r = pack_group(&g, ent, buf, len);
	else if (!groups && (r = iam_nssdb_user_at(h.db, c->next, &u)) == 0)
		r = pack_passwd(&u, ent, buf, len);
	if (r == 0)
		c->next++;
	release(&h);
	pthread_mutex_unlock(&c->lock);
	errno = saved;
	return status(r, errnop);
}

enum nss_status
_nss_iam_setpwent(int stayopen)
{
	(void)stayopen;
	cursor_reset(&pw_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_iam_endpwent(void)
{
	cursor_reset(&pw_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_iam_getpwent_r(struct passwd *pw, char *buf, size_t len, int *errnop)
{
	return walk_next(&pw_cursor, 0, pw, buf, len, errnop);
}

/* ---- group ------------------------------------------------------------ */

static inline __attribute__((always_inline)) enum nss_status
lookup_gr(enum key_kind kind, const char *name, gid_t gid, struct group *gr,
      char *buf, size_t len, int *errnop)
{
	struct iam_nssdb_group g;
	struct hold h;
	int r;

	if (kind == BY_NAME && (name == NULL || *name == '\0'))
		return status(-ENOENT, errnop);
	r = acquire(&h);
	if (r < 0)
		return status(unusable(r), errnop);
	r = kind == BY_NAME ? iam_nssdb_group_by_name(h.db, name, &g) :
			      iam_nssdb_group_by_gid(h.db, (uint32_t)gid, &g);
	if (r == 0)
		r = pack_group(&g, gr, buf, len);
	release(&h);
	return status(r, errnop);
}

enum nss_status
_nss_iam_getgrnam_r(const char *name, struct group *gr, char *buf,
		    size_t len, int *errnop)
{
	return lookup_gr(BY_NAME, name, 0, gr, buf, len, errnop);
}

enum nss_status
_nss_iam_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
		    int *errnop)
{
	return lookup_gr(BY_ID, NULL, gid, gr, buf, len, errnop);
}

enum nss_status
_nss_iam_setgrent(int stayopen)
{
	(void)stayopen;
	cursor_reset(&gr_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_iam_endgrent(void)
{
	cursor_reset(&gr_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_iam_getgrent_r(struct group *gr, char *buf, size_t len, int *errnop)
{
	return walk_next(&gr_cursor, 1, gr, buf, len, errnop);
}

/* ---- initgroups -------------------------------------------------------- */

/* Append gid to the caller's array, growing it up to limit. */
static int
add_gid(gid_t gid, long *start, long *size, gid_t **groupsp, long limit)
{
	gid_t *g = *groupsp;
	long i, n;

	for (i = 0; i < *start; i++)
		if (g[i] == gid)
			return 0;
	if (*start == *size) {
		if (limit > 0 && *size >= limit)
			return -E2BIG;
		if (*size > LONG_MAX / 2 || *size < 1)
			n = *size < 1 ? 8 : LONG_MAX;
		else
			n = *size * 2;
		if (limit > 0 && n > limit)
			n = limit;
		if ((size_t)n > SIZE_MAX / sizeof(gid_t))
			return -ENOMEM;
		g = realloc(g, (size_t)n * sizeof(gid_t));
		if (g == NULL)
			return -ENOMEM;
		*groupsp = g;
		*size = n;
	}
	g[(*start)++] = gid;
	return 0;
}

enum nss_status
_nss_iam_initgroups_dyn(const char *user, gid_t group, long *start,
			long *size, gid_t **groupsp, long limit, int *errnop)
{
	struct iam_nssdb_user u;
	struct hold h;
	int saved = errno, r;
	uint32_t i;

	if (user == NULL || *user == '\0')
		return status(-ENOENT, errnop);
	r = acquire(&h);
	if (r < 0)
		return status(unusable(r), errnop);
	r = iam_nssdb_user_by_name(h.db, user, &u);
	for (i = 0; r == 0 && i < u.n_gids; i++) {
		if (u.gids[i] == (uint32_t)group)
			continue;
		r = add_gid(u.gids[i], start, size, groupsp, limit);
	}
	release(&h);
	errno = saved;
	if (r == -E2BIG)	/* the caller's limit: what fits is the answer */
		r = 0;
	return status(r, errnop);
}
