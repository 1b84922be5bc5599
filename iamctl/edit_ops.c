/*
 * edit_ops.c - changing the identity file safely, and the small pieces
 * every administrator's command shares (see cmd.h).
 *
 * The tree of the file as read is never modified: a change builds new
 * arrays and objects that point at the old nodes (struct iam_json is
 * plain data), the new tree is written as text, and that text goes
 * through the same complete validation as any hand edit before anything
 * on disk changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"

/* ---- Allocation tracking for the tree helpers ------------------------ */

static void *
track(struct edit *e, void *p)
{
	if (p == NULL) {
		e->oom = true;
		return NULL;
	}
	if (e->n_allocs == e->cap_allocs) {
		size_t cap = e->cap_allocs ? e->cap_allocs * 2 : 32;
		void **v = reallocarray(e->allocs, cap, sizeof(*v));

		if (v == NULL) {
			free(p);
			e->oom = true;
			return NULL;
		}
		e->allocs = v;
		e->cap_allocs = cap;
	}
	e->allocs[e->n_allocs++] = p;
	return p;
}

static const struct iam_json null_value = { .type = IAM_JSON_NULL };

struct iam_json
j_string(struct edit *e, const char *s)
{
	struct iam_json v = { .type = IAM_JSON_STRING };
	char *c = track(e, strdup(s));

	if (c == NULL)
		return null_value;
	v.len = strlen(c);
	v.u.string = c;
	return v;
}

struct iam_json
j_int(struct edit *e, int64_t n)
{
	struct iam_json v = { .type = IAM_JSON_NUMBER };
	char *text = NULL;

	if (asprintf(&text, "%lld", (long long)n) < 0)
		text = NULL;
	if (track(e, text) == NULL)
		return null_value;
	v.u.number.text = text;
	v.u.number.is_int = true;
	v.u.number.i = n;
	return v;
}

struct iam_json
j_bool(bool b)
{
	struct iam_json v = { .type = IAM_JSON_BOOL };

	v.u.boolean = b;
	return v;
}

/*
 * A tracked copy of the members (type IAM_JSON_OBJECT) or the items
 * (IAM_JSON_ARRAY) of src with room for extra more; *ret_n is how many
 * were copied: none when src is NULL or of another type.
 */
static void *
copy_of(struct edit *e, const struct iam_json *src, enum iam_json_type type,
	size_t extra, size_t *ret_n)
{
	bool obj = type == IAM_JSON_OBJECT;
	size_t size = obj ? sizeof(struct iam_json_member)
			  : sizeof(struct iam_json);
	size_t n = src != NULL && src->type == type ? src->len : 0;
	void *p = track(e, calloc(n + extra + 1, size));

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, obj ? (const void *)src->u.members
			      : (const void *)src->u.items, n * size);
	*ret_n = n;
	return p;
}

struct iam_json
j_set(struct edit *e, const struct iam_json *obj, const char *key,
      struct iam_json val)
{
	struct iam_json v = { .type = IAM_JSON_OBJECT };
	struct iam_json_member *m;
	size_t n, i;

	m = copy_of(e, obj, IAM_JSON_OBJECT, 1, &n);
	if (m == NULL)
		return null_value;
	for (i = 0; i < n; i++)
		if (strcmp(m[i].key, key) == 0)
			break;
	if (i == n) {
		m[i].key = track(e, strdup(key));
		if (m[i].key == NULL)
			return null_value;
		n++;
	}
	m[i].value = val;
	v.len = n;
	v.u.members = m;
	return v;
}

struct iam_json
j_del(struct edit *e, const struct iam_json *obj, const char *key)
{
	struct iam_json v = { .type = IAM_JSON_OBJECT };
	struct iam_json_member *m;
	size_t n, k = 0;

	m = copy_of(e, obj, IAM_JSON_OBJECT, 0, &n);
	if (m == NULL)
		return null_value;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].key, key) != 0)
			m[k++] = m[i];
	v.len = k;
	v.u.members = m;
	return v;
}

struct iam_json
j_push(struct edit *e, const struct iam_json *arr, struct iam_json val)
{
	struct iam_json v = { .type = IAM_JSON_ARRAY };

	v.u.items = copy_of(e, arr, IAM_JSON_ARRAY, 1, &v.len);
	if (v.u.items == NULL)
		return null_value;
	v.u.items[v.len++] = val;
	return v;
}

struct iam_json
j_remove(struct edit *e, const struct iam_json *arr, size_t idx)
{
	struct iam_json v = { .type = IAM_JSON_ARRAY };

	v.u.items = copy_of(e, arr, IAM_JSON_ARRAY, 0, &v.len);
	if (v.u.items == NULL)
		return null_value;
	if (idx < v.len) {
		v.len--;
		memmove(&v.u.items[idx], &v.u.items[idx + 1],
			(v.len - idx) * sizeof(*v.u.items));
	}
	return v;
}

struct iam_json
j_replace(struct edit *e, const struct iam_json *arr, size_t idx,
	  struct iam_json val)
{
	struct iam_json v = { .type = IAM_JSON_ARRAY };

	v.u.items = copy_of(e, arr, IAM_JSON_ARRAY, 0, &v.len);
	if (v.u.items == NULL)
		return null_value;
	if (idx < v.len)
		v.u.items[idx] = val;
	return v;
}

ssize_t
j_find_string(const struct iam_json *arr, const char *s)
{
	if (arr == NULL || arr->type != IAM_JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < arr->len; i++)
		if (arr->u.items[i].type == IAM_JSON_STRING &&
		    strcmp(arr->u.items[i].u.string, s) == 0)
			return (ssize_t)i;
	return -1;
}

ssize_t
j_find_named(const struct iam_json *arr, const char *name)
{
	if (arr == NULL || arr->type != IAM_JSON_ARRAY)
		return -1;
	for (size_t i = 0; i < arr->len; i++) {
		const struct iam_json *n = iam_json_get(&arr->u.items[i],
							"name");

		if (n != NULL && n->type == IAM_JSON_STRING &&
		    strcmp(n->u.string, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

enum named { NAMED_USER, NAMED_GROUP, NAMED_POLICY };

/* edit_open_user(), edit_open_group() or edit_open_policy(). */
static int
edit_open_named(struct iamctl *ctl, struct edit *e, const char *cmd,
		enum named kind, const char *name, size_t *ret)
{
	static const char *const word[] = { "user", "group", "policy" };
	ssize_t i = -1;
	bool found;
	int rc;

	rc = edit_open(ctl, e);
	if (rc != EXIT_OK)
		return rc;
	if (kind == NAMED_POLICY) {
		/* "policies" is an object: its members are named by key. */
		found = iam_identity_policy(e->id, name) != NULL;
	} else {
		i = j_find_named(iam_json_get(&e->root, kind == NAMED_GROUP ?
					      "groups" : "users"), name);
		found = i >= 0 && (kind == NAMED_GROUP ?
				   iam_identity_group(e->id, name) != NULL :
				   iam_identity_user(e->id, name) != NULL);
	}
	if (!found) {
		iamctl_err("%s: no such %s '%s'", cmd, word[kind], name);
		edit_close(e);
		return EXIT_REFUSED;
	}
	if (ret != NULL)
		*ret = (size_t)i;
	return EXIT_OK;
}

int
edit_open_user(struct iamctl *ctl, struct edit *e, const char *cmd,
	       const char *name, size_t *ret)
{
	return edit_open_named(ctl, e, cmd, NAMED_USER, name, ret);
}

int
edit_open_group(struct iamctl *ctl, struct edit *e, const char *cmd,
		const char *name, size_t *ret)
{
	return edit_open_named(ctl, e, cmd, NAMED_GROUP, name, ret);
}

int
edit_open_policy(struct iamctl *ctl, struct edit *e, const char *cmd,
		 const char *name)
{
	return edit_open_named(ctl, e, cmd, NAMED_POLICY, name, NULL);
}

void
edit_set_in(struct edit *e, const char *array, size_t idx, const char *key,
	    struct iam_json val)
{
	const struct iam_json *arr = iam_json_get(&e->root, array);
	struct iam_json item;

	if (arr == NULL || arr->type != IAM_JSON_ARRAY || idx >= arr->len) {
		e->oom = true;	/* a caller's bug: refuse the change */
		return;
	}
	item = j_set(e, &arr->u.items[idx], key, val);
	e->root = j_set(e, &e->root, array, j_replace(e, arr, idx, item));
}

void
edit_del_in(struct edit *e, const char *array, size_t idx, const char *key)
{
	const struct iam_json *arr = iam_json_get(&e->root, array);
	struct iam_json item;

	if (arr == NULL || arr->type != IAM_JSON_ARRAY || idx >= arr->len) {
		e->oom = true;
		return;
	}
	item = j_del(e, &arr->u.items[idx], key);
	e->root = j_set(e, &e->root, array, j_replace(e, arr, idx, item));
}

/* ---- Shared pieces ---------------------------------------------------- */

void
print_faults(const char *file, const struct iam_faults *f)
{
	size_t flen = strlen(file);

	for (size_t i = 0; i < f->n; i++) {
		/* Faults naming a file already say which. */
		if (f->v[i][0] == '/' || strncmp(f->v[i], file, flen) == 0)
			fprintf(stderr, "%s\n", f->v[i]);
		else
			fprintf(stderr, "%s: %s\n", file, f->v[i]);
	}
	if (f->dropped > 0)
		fprintf(stderr, "%s: %zu more faults not shown\n", file,
			f->dropped);
	if (f->oom)
		fprintf(stderr, "%s: out of memory while recording faults\n",
			file);
}

int
need_root(const char *cmd)
{
	if (geteuid() == 0 && getuid() == 0)
		return EXIT_OK;
	iamctl_err("%s: must be run as root", cmd);
	return EXIT_REFUSED;
}

int
root_command(int argc, char **argv, void (*usage)(FILE *), const char *cmd,
	     bool *json)
{
	int rc;

	if (json != NULL)
		*json = iamctl_take_flag(&argc, argv, "--json");
	rc = iamctl_words(argc, argv, usage, 1, 1);
	if (rc < 0 && need_root(cmd) != EXIT_OK)
		rc = EXIT_REFUSED;
	return rc;
}

int
read_fd(int fd, struct iam_buf *b, size_t max, bool drain)
{
	char chunk[4096];
	ssize_t n;
	int r = 0;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		/* after a failure, drain: read the rest, keep nothing more */
		if (r == 0 && b->len + (size_t)n > max)
			r = -EFBIG;
		else if (r == 0 && iam_buf_add(b, chunk, (size_t)n) < 0)
			r = -ENOMEM;
		if (r < 0 && !drain)
			break;
	}
	if (iam_buf_adds(b, "") < 0 && r == 0)
		r = -ENOMEM;
	return r;
}

uid_t
actor(char *name, size_t len)
{
	struct passwd *pw;
	long long v;
	uid_t uid = getuid();
	char text[32];
	ssize_t n;
	int fd;

	/* The kernel's login uid survives su and sudo; the environment does not count. */
	fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0) {
			text[n] = '\0';
			text[strcspn(text, "\n")] = '\0';
			if (iam_parse_ll(text, 0, UINT32_MAX - 1, &v) == 0)
				uid = (uid_t)v;
		}
	}
	pw = getpwuid(uid);
	if (pw == NULL || pw->pw_name == NULL ||
	    iam_snprintf(name, len, "%s", pw->pw_name) < 0)
		snprintf(name, len, "uid %u", (unsigned)uid);
	return uid;
}

int
trail(const struct iam_config *cfg, const char *event, const char *error,
      const struct iam_event_param *params, size_t n_params)
{
	struct iam_event ev = { 0 };
	char who[64];
	uid_t uid;
	int r;

	uid = actor(who, sizeof(who));
	ev.source = "iamctl";
	ev.name = event;
	ev.user_type = uid == 0 ? "Root" : "LocalUser";
	ev.user_name = who;
	ev.params = params;
	ev.n_params = n_params;
	ev.error_code = error;
	r = iam_trail_write(cfg, &ev);
	if (r < 0)
		iamctl_err("%s: the trail could not record %s: %s",
			   cfg->trail_file, event, strerror(-r));
	return r;
}

int
read_line(const char *prompt, bool echo, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO), restore = false;
	size_t n = 0;
	bool over = false;
	int r = 0;
	char c;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	/* One byte at a time: no stdio buffer keeps a copy of the secret. */
	for (;;) {
		ssize_t k = read(STDIN_FILENO, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -EIO;
			break;
		}
		if (k == 0) {
			if (n == 0)
				r = -ENODATA;
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
		else
			over = true;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	c = 0;
	if (r == 0 && over) {
		iam_wipe(buf, len);
		r = -E2BIG;
	}
	return r;
}

int
parse_id(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	long long v;
	int r;

	r = iam_parse_ll(s, min, max, &v);
	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

int
opt_value(int argc, char **argv, int *i, const char *opt, const char **ret)
{
	size_t n = strlen(opt);
	const char *a = argv[*i];

	if (strncmp(a, opt, n) != 0)
		return 0;
	if (a[n] == '=') {
		*ret = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		iamctl_err("option %s needs a value", opt);
		return -1;
	}
	*ret = argv[++*i];
	return 1;
}

int
load_identity(struct iamctl *ctl, struct iam_identity **ret_id)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_config *cfg;
	int r;

	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	r = iam_identity_load(cfg->identity_file, true, cfg, NULL, &id,
			      &faults);
	if (r == 0)
		r = iam_creds_apply(cfg, id, &faults);
	if (r == 0 && iam_faults_any(&faults))
		r = -EINVAL;
	if (r < 0) {
		print_faults(cfg->identity_file, &faults);
		if (!iam_faults_any(&faults))
			iamctl_err("%s: %s", cfg->identity_file, strerror(-r));
		iam_faults_release(&faults);
		iam_identity_free(id);
		return r == -ENOENT || r == -EACCES || r == -EISDIR ||
		       r == -EIO ? EXIT_USAGE : EXIT_REFUSED;
	}
	iam_faults_release(&faults);
	*ret_id = id;
	return EXIT_OK;
}

int
load_for(struct iamctl *ctl, const char *cmd, unsigned need,
	 struct iam_identity **ret_id, const char *name,
	 const struct iam_user **ret_u)
{
	struct iam_identity *id = NULL;
	int rc = need & NEED_ROOT ? need_root(cmd) : EXIT_OK;

	if (rc == EXIT_OK && (need & NEED_STORE) && iamctl_config(ctl) == NULL)
		rc = EXIT_USAGE;
	if (rc == EXIT_OK && (need & NEED_STORE) &&
	    store_prepare(ctl->cfg) < 0)
		rc = EXIT_REFUSED;
	if (rc == EXIT_OK)
		rc = load_identity(ctl, &id);
	if (rc != EXIT_OK)
		return rc;
	if (name != NULL) {
		*ret_u = iam_identity_user(id, name);
		if (*ret_u == NULL) {
			iamctl_err("%s: no such user '%s'", cmd, name);
			iam_identity_free(id);
			return EXIT_REFUSED;
		}
	}
	*ret_id = id;
	return EXIT_OK;
}

/* ---- Opening and committing an edit --------------------------------- */

int
make_parent(const char *path, bool if_missing)
{
	char dir[PATH_MAX], err[PATH_MAX + 128] = "";
	struct stat st;
	char *slash;
	int fd;

	if (iam_snprintf(dir, sizeof(dir), "%s", path) < 0)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (if_missing && (lstat(dir, &st) == 0 || errno != ENOENT))
		return 0;
	fd = iam_ensure_dir(dir, 0755, 0, err, sizeof(err));
	if (fd < 0) {
		iamctl_err("%s", err[0] ? err : strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

int
store_prepare(const struct iam_config *cfg)
{
	/*
	 * The store creates only the last component of credentials_dir; on
	 * a fresh host its parent (/var/lib/iam) may be missing too.
	 */
	return make_parent(cfg->credentials_dir, true);
}

int
edit_open(struct iamctl *ctl, struct edit *e)
{
	return edit_open_flags(ctl, e, true);
}

int
edit_open_flags(struct iamctl *ctl, struct edit *e, bool need_valid)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	char err[PATH_MAX + 128];
	int r, rc = EXIT_REFUSED;

	memset(e, 0, sizeof(*e));
	e->lockfd = -1;
	e->cfg = iamctl_config(ctl);
	if (e->cfg == NULL)
		return EXIT_USAGE;
	err[0] = '\0';
	if (store_prepare(e->cfg) < 0)
		goto fail;
	e->lockfd = iam_store_lock(e->cfg);
	if (e->lockfd < 0) {
		char why[160];

		iamctl_err("%s: %s", e->cfg->credentials_dir,
			   iam_store_lock_strerror(e->cfg, e->lockfd, why,
						   sizeof(why)));
		goto fail;
	}
	err[0] = '\0';
	r = iam_read_strict(e->cfg->identity_file, IAM_STRICT_SECRET,
			    e->cfg->identity_max_bytes, &e->orig, err,
			    sizeof(err));
	if (r < 0) {
		if (r == -EFBIG)
			iamctl_err("%s: is over the size limit of %zu bytes "
				   "(identity_max_bytes in iam.conf)",
				   e->cfg->identity_file,
				   e->cfg->identity_max_bytes);
		else if (err[0] != '\0')
			iamctl_err("%s", err);
		else
			iamctl_err("%s: %s", e->cfg->identity_file,
				   strerror(-r));
		if (r == -ENOENT || r == -EACCES || r == -EISDIR)
			rc = EXIT_USAGE;
		goto fail;
	}
	if (!need_valid)
		return EXIT_OK;
	r = iam_identity_parse(e->orig.buf ? e->orig.buf : "", e->orig.len,
			       e->cfg, NULL, &e->id, &faults);
	if (r == 0) {
		struct iam_json_limits lim;

		iam_identity_json_limits(e->cfg, &lim);
		r = iam_json_parse(e->orig.buf, e->orig.len, &lim, &e->doc,
				   err, sizeof(err));
	}
	if (r < 0) {
		print_faults(e->cfg->identity_file, &faults);
		iamctl_err("%s: the identity file has faults; fix them first "
			   "(iamctl validate, iamctl edit)",
			   e->cfg->identity_file);
		goto fail;
	}
	iam_faults_release(&faults);
	e->root = *iam_json_root(e->doc);
	return EXIT_OK;
fail:
	iam_faults_release(&faults);
	edit_close(e);
	return rc;
}

void
edit_close(struct edit *e)
{
	for (size_t i = 0; i < e->n_allocs; i++)
		free(e->allocs[i]);
	free(e->allocs);
	e->allocs = NULL;
	e->n_allocs = e->cap_allocs = 0;
	e->id = iam_identity_free(e->id);
	e->doc = iam_json_free(e->doc);
	iam_buf_wipe(&e->orig);
	if (e->lockfd >= 0)
		iam_store_unlock(e->lockfd);
	e->lockfd = -1;
}

/* The file must still be what we read: a hand edit is never overwritten. */
static bool
unchanged(struct edit *e)
{
	struct iam_buf now = IAM_BUF_INIT;
	bool same;

	if (iam_read_strict(e->cfg->identity_file, IAM_STRICT_SECRET,
			    e->cfg->identity_max_bytes, &now, NULL, 0) < 0)
		return false;
	same = now.len == e->orig.len &&
	       (now.len == 0 || memcmp(now.buf, e->orig.buf, now.len) == 0);
	iam_buf_wipe(&now);
	return same;
}

int
edit_commit_text(struct edit *e, const char *text, size_t len,
		 const char *what, const struct iam_event_param *params,
		 size_t n_params)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *nid = NULL;
	struct iam_event_param p[16];
	const char *file = e->cfg->identity_file;
	size_t np = 0;
	int r;

	e->invalid = false;
	if (len > e->cfg->identity_max_bytes) {
		iamctl_err("refused: %s would be %zu bytes, over the limit of "
			   "%zu (identity_max_bytes in iam.conf); nothing "
			   "changed", file, len, e->cfg->identity_max_bytes);
		return EXIT_REFUSED;
	}
	r = iam_identity_parse(text, len, e->cfg, NULL, &nid, &faults);
	nid = iam_identity_free(nid);
	if (r < 0) {
		print_faults(file, &faults);
		iam_faults_release(&faults);
		iamctl_err("refused: %s; nothing changed",
			   r == -ENOMEM ? "out of memory" :
			   "the result would not be valid (faults above)");
		e->invalid = r != -ENOMEM;
		return EXIT_REFUSED;
	}
	if (!unchanged(e)) {
		iamctl_err("refused: %s changed underneath; nothing changed",
			   file);
		return EXIT_REFUSED;
	}
	/*
	 * The event before the change: with trail_required a change the
	 * trail cannot record is not made.  A commit that then fails gets
	 * a second event saying so.
	 */
	p[np++] = (struct iam_event_param){ "change", what };
	for (size_t i = 0; i < n_params && np < 16; i++)
		p[np++] = params[i];
	if (trail(e->cfg, "IdentityCommit", NULL, p, np) < 0 &&
	    e->cfg->trail_required) {
		iamctl_err("refused: the trail is required and unavailable; "
			   "nothing changed");
		return EXIT_REFUSED;
	}
	/* The identity file and the generation, one transaction. */
	r = iam_publish_text_locked(e->cfg, NULL, text, len, &faults);
	if (r < 0) {
		print_faults(file, &faults);
		iam_faults_release(&faults);
		iamctl_err("refused: publishing failed (%s); nothing changed",
			   strerror(-r));
		(void)trail(e->cfg, "IdentityCommit", "CommitFailed", p, np);
		return EXIT_REFUSED;
	}
	iam_faults_release(&faults);
	printf("%s\n", what);
	fflush(stdout);
	return EXIT_OK;
}

int
edit_commit(struct edit *e, const char *what,
	    const struct iam_event_param *params, size_t n_params)
{
	struct iam_buf text = IAM_BUF_INIT;
	int r, rc;

	if (e->oom) {
		iamctl_err("out of memory; nothing changed");
		return EXIT_REFUSED;
	}
	r = iam_json_write_pretty(&e->root, &text);
	if (r == 0)
		r = iam_buf_adds(&text, "\n");
	if (r < 0) {
		iam_buf_wipe(&text);
		iamctl_err("out of memory; nothing changed");
		return EXIT_REFUSED;
	}
	/*
	 * The text is all that is committed: the trees and the model go
	 * before it is validated and published, so at a million users the
	 * edit holds one model at a time, not three.
	 */
	e->root = (struct iam_json){ .type = IAM_JSON_NULL };
	for (size_t i = 0; i < e->n_allocs; i++)
		free(e->allocs[i]);
	e->n_allocs = 0;
	e->id = iam_identity_free(e->id);
	e->doc = iam_json_free(e->doc);
	rc = edit_commit_text(e, text.buf, text.len, what, params, n_params);
	iam_buf_wipe(&text);
	return rc;
}
