/*
 * identity.c - the identity file (iam-identity(5)): walk the strict JSON
 * tree into the model, checking every field where it stands (types,
 * unknown keys, ranges, shapes), then hand the model to the checks across
 * it (identity_validate.c).  Every fault is recorded with its JSON path
 * and the walk goes on, so one run reports them all.  users and groups
 * are walked item by item as the parser completes each
 * (iam_json_parse_split()), so their trees are never all in memory.
 *
 * Over 600 lines: one walk of the grammar of iam-identity(5), with the
 * loader that feeds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity_int.h"
#include "json_int.h"
#include "util_int.h"

/* A million users take 240 MB of records (identity.h): keep it so. */
_Static_assert(sizeof(struct iam_user) <= 240, "struct iam_user grew");

/*
 * users and groups are built item by item while the file is parsed
 * (iam_json_parse_split()), so their JSON trees are never in memory
 * together; their faults wait in lists of their own, so that a file that
 * turns out not to be JSON reports only that, and the rest come in the
 * order of the other sections.
 */
enum { SPLIT_GROUPS, SPLIT_USERS, SPLIT_N };

struct split_array {
	bool on;		/* the array was split: built below */
	size_t seen;		/* its items */
	size_t alloc;		/* slots of the model's array */
	struct iam_faults f;	/* faults of its items */
};

/* A part of a JSON path: ".key", or "[idx]" when key is NULL. */
struct seg {
	const char *key;
	size_t idx;
};

#define MAX_SEGS 32	/* the walk goes some 6 deep */

/*
 * collect()'s answer for one key of the document against one table: the
 * keys of a document are interned (one pointer per text, kept as long as
 * the document), and the tables are static, so the same two pointers
 * always get the same answer.  Direct-mapped by both pointers.
 */
#define KEY_MEMO 256
struct key_memo {
	const char *const *keys;	/* the table, NULL when empty */
	const char *key;		/* the document's key */
	size_t j;			/* its index in keys, or MAX_FIELDS */
};

/*
 * A user read straight from the parse's events (fast_events below): the
 * members build_user() reads, as they come.
 */
enum fast_field {
	FF_NONE, FF_NAME, FF_UID, FF_PRIMARY, FF_GECOS, FF_HOME, FF_SHELL,
	FF_CREATED, FF_GROUPS, FF_POLICIES, FF_BOUNDARY, FF_TAGS,
	FF_PASSWORD, FF_DISABLED,
	FF_HASH, FF_CHANGED, FF_MUST_CHANGE,	/* of "password" */
	FF_N
};

struct fast_names {
	const char **v;
	size_t n, alloc;
};

#define FAST_MEMO 64
struct fast_user {
	struct iam_json_doc *doc;
	size_t idx;
	enum fast_field field;	/* the member whose value comes next */
	enum fast_field in;	/* the member whose container is open */
	uint32_t seen;		/* members given: bit by enum fast_field */
	const char *str[FF_N];	/* their strings, kept */
	uint32_t uid;
	int64_t created, changed;
	bool disabled, must_change;
	struct fast_names groups, policies, tags;	/* tags: key, value */
	bool copied;		/* a name of groups or policies not shared */
	const char *tag_key;
	const char *tag_key_ok;	/* the last tag key that passed */
	char time_text[32];	/* the last time read, and its value, */
	size_t time_len;
	int64_t time;
	bool time_kept;		/* when one was read and passed */
	struct {			/* a document's key: its member */
		const char *key;
		enum fast_field field;
	} memo[FAST_MEMO];
};

struct walk {
	const struct iam_config *cfg;
	struct iam_faults *f;
	struct iam_identity *id;
	int err;		/* -ENOMEM once an allocation failed */
	struct seg segs[MAX_SEGS];	/* path of the value being checked */
	size_t nseg;
	char path[1024];	/* path(): segs written out */
	struct split_array split[SPLIT_N];
	bool sources;		/* keep file_password and file_mfa */
	struct iam_json_doc *doc;	/* lasting storage of the model's lists */
	struct key_memo memo[KEY_MEMO];	/* collect()'s answers */
	struct fast_user fu;
};

/* ---- JSON paths and faults ------------------------------------------ */

/*
 * Where to cut buf[0..len) so that no UTF-8 sequence is left half: drop
 * trailing continuation bytes and the lead byte they belong to, never
 * going below min.
 */
static size_t
utf8_cut(const char *buf, size_t len, size_t min)
{
	size_t i = len;

	while (i > min && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > min && (unsigned char)buf[i - 1] >= 0xc0)
		i--;
	else if (i < len)
		i = len;	/* only continuation bytes: keep as it was */
	return i;
}

/*
 * The path is kept as its parts and written out only for a fault: most
 * values have none, and a million users have some forty million parts.
 */
static size_t
push_key(struct walk *w, const char *key)
{
	size_t old = w->nseg;

	if (w->nseg < MAX_SEGS)
		w->segs[w->nseg++] = (struct seg){ key, 0 };
	return old;
}

static size_t
push_idx(struct walk *w, size_t idx)
{
	size_t old = w->nseg;

	if (w->nseg < MAX_SEGS)
		w->segs[w->nseg++] = (struct seg){ NULL, idx };
	return old;
}

static void
pop(struct walk *w, size_t old)
{
	w->nseg = old;
}

/* Append ".key" (control characters shown as '?', long keys cut). */
static size_t
path_key(char *path, size_t size, size_t old, const char *key)
{
	size_t i = old, n;

	if (old > 0 && i + 1 < size)
		path[i++] = '.';
	for (n = 0; key[n] != '\0' && i + 4 < size; n++) {
		unsigned char c = (unsigned char)key[n];

		if (n == 64) {
			i = utf8_cut(path, i, old);
			memcpy(path + i, "...", 3);
			i += 3;
			break;
		}
		path[i++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	path[i] = '\0';
	return i;
}

/* Append "[idx]", when it fits. */
static size_t
path_idx(char *path, size_t size, size_t old, size_t idx)
{
	size_t i = old, n = 0;
	char digits[24];

	do {
		digits[n++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx > 0);
	if (old + n + 3 > size)
		return old;
	path[i++] = '[';
	while (n > 0)
		path[i++] = digits[--n];
	path[i++] = ']';
	path[i] = '\0';
	return i;
}

/* The JSON path of the value being checked: users[3].password.hash */
static const char *
path(struct walk *w)
{
	size_t len = 0;

	w->path[0] = '\0';
	for (size_t i = 0; i < w->nseg; i++)
		len = w->segs[i].key != NULL ?
		      path_key(w->path, sizeof(w->path), len, w->segs[i].key) :
		      path_idx(w->path, sizeof(w->path), len, w->segs[i].idx);
	return w->path;
}

static void __attribute__((format(printf, 2, 3)))
fault(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iam_faultv(w->f, path(w), fmt, ap);
	va_end(ap);
}

/* fault() at path.key */
static void __attribute__((format(printf, 3, 4)))
fault_at(struct walk *w, const char *key, const char *fmt, ...)
{
	size_t old = push_key(w, key);
	va_list ap;

	va_start(ap, fmt);
	iam_faultv(w->f, path(w), fmt, ap);
	va_end(ap);
	pop(w, old);
}

const char *
iam_id_quote(const char *s, char *buf, size_t len)
{
	size_t i = 0, n;

	if (len < 8) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[i++] = '"';
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n == 48 || i + 8 >= len) {
			i = utf8_cut(buf, i, 1);
			memcpy(buf + i, "...", 3);
			i += 3;
			break;
		}
		if (c == '\n') {
			buf[i++] = '\\';
			buf[i++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			i += (size_t)snprintf(buf + i, len - i, "\\x%02x", c);
		} else if (c == '"' || c == '\\') {
			buf[i++] = '\\';
			buf[i++] = (char)c;
		} else {
			buf[i++] = (char)c;
		}
	}
	buf[i++] = '"';
	buf[i] = '\0';
	return buf;
}

/* A string value for a message: quoted, or the number as written. */
static const char *
shown(const struct iam_json *v, char *buf, size_t len)
{
	if (v->type == IAM_JSON_STRING)
		return iam_id_quote(v->u.string, buf, len);
	if (v->type == IAM_JSON_NUMBER)
		return v->u.number.text;
	return iam_json_type_name(v->type);
}

static const char *
a_type(enum iam_json_type t)
{
	switch (t) {
	case IAM_JSON_OBJECT:
		return "an object";
	case IAM_JSON_ARRAY:
		return "an array";
	case IAM_JSON_STRING:
		return "a string";
	case IAM_JSON_NUMBER:
		return "a number";
	case IAM_JSON_BOOL:
		return "a boolean";
	case IAM_JSON_NULL:
		break;
	}
	return "null";
}

/* ---- Storage --------------------------------------------------------- */

static void *
xcalloc(struct walk *w, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		w->err = -ENOMEM;
	return p;
}

/*
 * n zeroed entries of size bytes that live as long as the identity (the
 * document's lasting arena): the lists of a user, group or role, so a
 * million users are not four million small blocks.
 */
static void *
lasting(struct walk *w, size_t n, size_t size)
{
	void *p = NULL;

	if (n == 0)
		n = 1;
	if (n <= SIZE_MAX / size)
		p = iam_json_doc_alloc(w->doc, n * size);
	if (p == NULL)
		w->err = -ENOMEM;
	return p;
}

static const char *
own_string(struct iam_identity *id, char *s)
{
	struct iam_id_priv *p = id->priv;

	if (s == NULL)
		return NULL;
	if (p->n_strs == p->alloc_strs) {
		size_t alloc = p->alloc_strs ? p->alloc_strs * 2 : 16;
		char **v = reallocarray(p->strs, alloc, sizeof(*v));

		if (v == NULL) {
			free(s);
			return NULL;
		}
		p->strs = v;
		p->alloc_strs = alloc;
	}
	p->strs[p->n_strs++] = s;
	return s;
}

const char *
iam_identity_strdup(struct iam_identity *id, const char *s)
{
	if (id == NULL || s == NULL)
		return NULL;
	return own_string(id, strdup(s));
}

/* ---- Typed fields ---------------------------------------------------- */

/*
 * The members of one object, gathered in a single pass: v[j] is the value
 * of keys[j], or NULL when the object does not have it.  Lookups name a
 * key with the same string constant as the table, so a pointer compare
 * finds it (strcmp() is only the fallback), and mostly in table order, so
 * the entry after the last one found is tried first.
 */
#define MAX_FIELDS 20	/* the longest table, a user's, has 16 */

struct fields {
	const char *const *keys;		/* allowed keys, NULL-ended */
	const struct iam_json *v[MAX_FIELDS];
	size_t next;				/* after the last lookup */
};

/*
 * Gather obj's members into fs; fault every key not in keys.  Members
 * mostly come in table order, so each search starts after the last match.
 */
static void
collect(struct walk *w, const struct iam_json *obj, const char *const *keys,
	struct fields *fs)
{
	size_t n = 0, j = 0;

	memset(fs, 0, sizeof(*fs));
	fs->keys = keys;
	while (n < MAX_FIELDS && keys[n] != NULL)
		n++;
	for (size_t i = 0; i < obj->len; i++) {
		const char *k = obj->u.members[i].key;
		struct key_memo *m = &w->memo[((uintptr_t)k >> 3 ^
					       (uintptr_t)keys >> 4) %
					      KEY_MEMO];
		size_t tried;

		if (m->keys == keys && m->key == k) {
			tried = m->j < n ? 0 : n;
			j = m->j;
		} else {
			for (tried = 0; tried < n;
			     tried++, j = j + 1 < n ? j + 1 : 0)
				if (k[0] == keys[j][0] && strcmp(k, keys[j]) == 0)
					break;
			*m = (struct key_memo){ keys, k,
						tried < n ? j : MAX_FIELDS };
		}
		if (tried < n) {
			fs->v[j] = &obj->u.members[i].value;
			j = j + 1 < n ? j + 1 : 0;
		} else {
			fault_at(w, k, "unknown field");
			j = 0;
		}
	}
}

/* collect() of v, which must be an object (else a fault and false). */
static bool
collect_object(struct walk *w, const struct iam_json *v,
	       const char *const *keys, struct fields *fs)
{
	if (v->type != IAM_JSON_OBJECT) {
		fault(w, "must be an object, not %s", a_type(v->type));
		return false;
	}
	collect(w, v, keys, fs);
	return true;
}

/* The value of key in fs, or NULL. */
static const struct iam_json *
lookup(struct fields *fs, const char *key)
{
	size_t j = fs->next;

	if (j >= MAX_FIELDS || fs->keys[j] != key) {
		for (j = 0; j < MAX_FIELDS && fs->keys[j] != NULL; j++)
			if (fs->keys[j] == key)
				break;
	}
	if (j >= MAX_FIELDS || fs->keys[j] == NULL) {
		for (j = 0; j < MAX_FIELDS && fs->keys[j] != NULL; j++)
			if (strcmp(fs->keys[j], key) == 0)
				break;
	}
	if (j >= MAX_FIELDS || fs->keys[j] == NULL)
		return NULL;
	fs->next = j + 1;
	return fs->v[j];
}

/* obj.key when it has type; faults a wrong type or a missing field. */
static const struct iam_json *
field(struct walk *w, struct fields *obj, const char *key,
      enum iam_json_type type, bool required)
{
	const struct iam_json *v = lookup(obj, key);

	if (v == NULL) {
		if (required)
			fault_at(w, key, "required field is missing");
		return NULL;
	}
	if (v->type != type) {
		char q[80];

		if (v->type == IAM_JSON_STRING || v->type == IAM_JSON_NUMBER)
			fault_at(w, key, "must be %s, not %s %s", a_type(type),
				 a_type(v->type), shown(v, q, sizeof(q)));
		else
			fault_at(w, key, "must be %s, not %s", a_type(type),
				 a_type(v->type));
		return NULL;
	}
	return v;
}

/*
 * The optional field(), when it holds at most max items (else a fault
 * "N what are over the limit of max" and NULL).
 */
static const struct iam_json *
field_capped(struct walk *w, struct fields *obj, const char *key,
	     enum iam_json_type type, size_t max, const char *what)
{
	const struct iam_json *v = field(w, obj, key, type, false);

	if (v != NULL && v->len > max) {
		fault_at(w, key, "%zu %s are over the limit of %zu", v->len,
			 what, max);
		return NULL;
	}
	return v;
}

/*
 * The optional object obj.key, its members collected into fs (keys: the
 * allowed ones) and its path entered (pop(w, *old) leaves it); NULL when
 * it is absent.
 */
static const struct iam_json *
enter_object(struct walk *w, struct fields *obj, const char *key,
	     const char *const *keys, struct fields *fs, size_t *old)
{
	const struct iam_json *v = field(w, obj, key, IAM_JSON_OBJECT, false);

	if (v != NULL) {
		*old = push_key(w, key);
		collect(w, v, keys, fs);
	}
	return v;
}

/* A whole number within [min, max], at the current path. */
static bool
number_in(struct walk *w, const struct iam_json *v, long long min,
	  long long max, long long *ret)
{
	const char *t;
	char q[80];

	if (v->type != IAM_JSON_NUMBER) {
		if (v->type == IAM_JSON_STRING)
			fault(w, "must be a number, not a string %s",
			      shown(v, q, sizeof(q)));
		else
			fault(w, "must be a number, not %s", a_type(v->type));
		return false;
	}
	t = v->u.number.text;
	if (!v->u.number.is_int) {
		size_t skip = t[0] == '-';

		if (strspn(t + skip, "0123456789") == strlen(t + skip))
			fault(w, "%s is outside %lld-%lld", t, min, max);
		else
			fault(w, "%s is not a whole number", t);
		return false;
	}
	if (v->u.number.i < min || v->u.number.i > max) {
		fault(w, "%s is outside %lld-%lld", t, min, max);
		return false;
	}
	*ret = v->u.number.i;
	return true;
}

static bool
get_u32(struct walk *w, struct fields *obj, const char *key,
	long long min, long long max, bool required, uint32_t *ret)
{
	const struct iam_json *v = lookup(obj, key);
	long long n;
	size_t old;
	bool ok;

	if (v == NULL) {
		if (required)
			fault_at(w, key, "required field is missing");
		return false;
	}
	old = push_key(w, key);
	ok = number_in(w, v, min, max, &n);
	pop(w, old);
	if (ok)
		*ret = (uint32_t)n;
	return ok;
}

static bool
get_bool(struct walk *w, struct fields *obj, const char *key,
	 bool *ret)
{
	const struct iam_json *v = field(w, obj, key, IAM_JSON_BOOL, false);

	if (v == NULL)
		return false;
	*ret = v->u.boolean;
	return true;
}

static const char *
get_str(struct walk *w, struct fields *obj, const char *key,
	bool required)
{
	const struct iam_json *v = field(w, obj, key, IAM_JSON_STRING, required);

	return v ? v->u.string : NULL;
}

static bool
get_time(struct walk *w, struct fields *obj, const char *key,
	 int64_t *ret)
{
	const char *s = get_str(w, obj, key, false);
	char q[80];

	if (s == NULL)
		return false;
	if (iam_parse_time(s, ret) < 0) {
		fault_at(w, key, "%s is not an ISO 8601 time such as "
			 "2026-09-01T09:00:00Z", iam_id_quote(s, q, sizeof(q)));
		return false;
	}
	return true;
}

/* Free text of passwd(5) fields: no ':' and no control character. */
static bool
text_clean(const char *s, size_t n, size_t max)
{
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* text_clean(), or a fault that says why not. */
static bool
text_ok(struct walk *w, const char *key, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (text_clean(s, n, max))
		return true;
	if (n > max) {
		fault_at(w, key, "is longer than %zu bytes", max);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':') {
			fault_at(w, key, "must not contain ':'");
			return false;
		}
		if (c < 0x20 || c == 0x7f) {
			fault_at(w, key, "must not contain a control character");
			return false;
		}
	}
	return true;
}

static const char *
get_path(struct walk *w, struct fields *obj, const char *key)
{
	const char *s = get_str(w, obj, key, false);
	char q[80];

	if (s == NULL || !text_ok(w, key, s, IAM_ID_MAX_PATH))
		return NULL;
	if (s[0] != '/') {
		fault_at(w, key, "%s is not an absolute path",
			 iam_id_quote(s, q, sizeof(q)));
		return NULL;
	}
	return s;
}

/* A user or group name: ^[a-z_][a-z0-9_.-]{0,31}$ */
static const char *
get_name(struct walk *w, struct fields *obj)
{
	const char *s = get_str(w, obj, "name", true);
	char q[80];

	if (s != NULL && !iam_name_valid(s)) {
		fault_at(w, "name", "%s is not a valid name "
			 "(^[a-z_][a-z0-9_.-]{0,31}$)",
			 iam_id_quote(s, q, sizeof(q)));
		return NULL;
	}
	return s;
}

/* Role and policy names, as AWS spells them: [A-Za-z0-9+=,.@_-]{1,max} */
static bool
aws_name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n >= 1 && n <= max &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789+=,.@_-") == n;
}

/* A key id or role name (AWS's characters, 1-64); NULL when invalid. */
static const char *
get_aws_name(struct walk *w, struct fields *obj, const char *key,
	     const char *what)
{
	const char *s = get_str(w, obj, key, true);
	char q[80];

	if (s != NULL && !aws_name_valid(s, 64)) {
		fault_at(w, key, "%s is not a valid %s "
			 "([A-Za-z0-9+=,.@_-], 1-64 characters)",
			 iam_id_quote(s, q, sizeof(q)), what);
		return NULL;
	}
	return s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_str_ci(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The first string listed twice in v (compared with cmp), or NULL;
 * sorting a copy keeps this O(n log n) for long lists.
 */
static const char *
first_duplicate(struct walk *w, const char **v, size_t n,
		int (*cmp)(const void *, const void *))
{
	const char **s, *dup = NULL;

	if (n < 2)
		return NULL;
	if (n <= 8) {
		/* short lists, the usual case: no copy, no sort */
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (cmp(&v[i], &v[j]) == 0)
					return v[i];
		return NULL;
	}
	s = reallocarray(NULL, n, sizeof(*s));
	if (s == NULL) {
		w->err = -ENOMEM;
		return NULL;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp);
	for (size_t i = 1; i < n && dup == NULL; i++)
		if (cmp(&s[i - 1], &s[i]) == 0)
			dup = s[i];
	free(s);
	return dup;
}

/* An array of names (groups, policies): strings, each listed once. */
static void
get_names(struct walk *w, struct fields *obj, const char *key,
	  size_t max, const char ***ret, size_t *ret_n)
{
	const struct iam_json *a = field_capped(w, obj, key, IAM_JSON_ARRAY, max,
						"entries");
	const char **v, *dup;
	size_t n = 0, old;
	char q[80];

	if (a == NULL)
		return;
	v = lasting(w, a->len, sizeof(*v));
	if (v == NULL)
		return;
	old = push_key(w, key);
	for (size_t i = 0; i < a->len; i++) {
		const struct iam_json *it = &a->u.items[i];
		size_t o2;

		if (it->type == IAM_JSON_STRING) {
			v[n++] = it->u.string;
			continue;
		}
		o2 = push_idx(w, i);
		fault(w, "must be a string, not %s", a_type(it->type));
		pop(w, o2);
	}
	dup = first_duplicate(w, v, n, cmp_str);
	if (dup != NULL)
		fault(w, "%s is listed twice", iam_id_quote(dup, q, sizeof(q)));
	pop(w, old);
	*ret = v;
	*ret_n = n;
}

/* Characters (not bytes) of a UTF-8 string the parser already checked. */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* "tags": { "KEY": "VALUE", ... } */
static void
get_tags(struct walk *w, struct fields *obj, struct iam_tags *ret)
{
	const struct iam_json *t = field_capped(w, obj, "tags", IAM_JSON_OBJECT,
						IAM_ID_MAX_TAGS, "tags");
	const char *few[8], **keys, *dup;
	size_t old;
	char q[80];

	if (t == NULL)
		return;
	ret->v = lasting(w, t->len, sizeof(*ret->v));
	/* the usual handful of tags needs no allocation for the keys */
	keys = t->len <= 8 ? few : xcalloc(w, t->len, sizeof(*keys));
	if (ret->v == NULL || keys == NULL) {
		if (keys != few)
			free(keys);
		return;
	}
	old = push_key(w, "tags");
	for (size_t i = 0; i < t->len; i++) {
		const struct iam_json_member *m = &t->u.members[i];
		size_t kl = utf8_len(m->key);

		keys[i] = m->key;
		if (kl < 1 || kl > IAM_ID_MAX_TAG_KEY || iam_has_control(m->key))
			fault_at(w, m->key, "tag key must be 1-%d characters "
				 "without control characters",
				 IAM_ID_MAX_TAG_KEY);
		else if (strncasecmp(m->key, "aws:", 4) == 0)
			fault_at(w, m->key, "tag keys starting with aws: "
				 "are reserved");
		if (m->value.type != IAM_JSON_STRING)
			fault_at(w, m->key, "must be a string, not %s",
				 a_type(m->value.type));
		else if (utf8_len(m->value.u.string) > IAM_ID_MAX_TAG_VALUE ||
			 iam_has_control(m->value.u.string))
			fault_at(w, m->key, "tag value must be at most %d "
				 "characters without control characters",
				 IAM_ID_MAX_TAG_VALUE);
		else
			ret->v[ret->n++] = (struct iam_tag){
				.key = (char *)m->key,
				.value = (char *)m->value.u.string };
	}
	/* As in AWS, keys that differ only in case are the same key. */
	dup = first_duplicate(w, keys, t->len, cmp_str_ci);
	if (dup != NULL)
		fault(w, "tag key %s is given twice (keys ignore case)",
		      iam_id_quote(dup, q, sizeof(q)));
	if (keys != few)
		free(keys);
	pop(w, old);
}

/* ---- Sections -------------------------------------------------------- */

static void
build_account(struct walk *w, struct fields *root)
{
	static const char *const keys[] = { "id", "alias", NULL };
	const struct iam_json *a = field(w, root, "account", IAM_JSON_OBJECT,
					 true);
	struct iam_account *acc = &w->id->account;
	struct fields fa;
	const char *s;
	size_t old;
	char q[80];

	if (a == NULL)
		return;
	old = push_key(w, "account");
	collect(w, a, keys, &fa);
	s = get_str(w, &fa, "id", true);
	if (s != NULL && (strlen(s) != 12 || strspn(s, "0123456789") != 12))
		fault_at(w, "id", "%s is not a 12-digit account id",
			 iam_id_quote(s, q, sizeof(q)));
	else
		acc->id = s;
	s = get_str(w, &fa, "alias", false);
	/* AWS account aliases: 3-63 of [a-z0-9-], no hyphen at either end. */
	if (s != NULL && (strlen(s) < 3 || strlen(s) > 63 ||
			  strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			  strlen(s) || s[0] == '-' || s[strlen(s) - 1] == '-'))
		fault_at(w, "alias", "%s is not a valid alias (3-63 of a-z, "
			 "0-9 and '-', no '-' at either end)",
			 iam_id_quote(s, q, sizeof(q)));
	else
		acc->alias = s;
	pop(w, old);
}

static void
build_password_policy(struct walk *w, struct fields *root)
{
	static const char *const keys[] = {
		"minimum_length", "require_uppercase", "require_lowercase",
		"require_numbers", "require_symbols", "max_age_days",
		"reuse_prevention", "hard_expiry", "allow_users_to_change",
		"ssh_key_max_age_days", "lockout", NULL };
	static const char *const lkeys[] = {
		"max_failed_attempts", "lockout_seconds", NULL };
	struct iam_password_policy *pp = &w->id->password_policy;
	const struct iam_json *p, *l;
	struct fields fp, fl;
	size_t old;

	pp->minimum_length = 8;
	pp->allow_users_to_change = true;
	/* Lockout is on unless the file turns it off. */
	pp->lockout.max_failed_attempts = 5;
	pp->lockout.lockout_seconds = 900;
	p = field(w, root, "password_policy", IAM_JSON_OBJECT, false);
	if (p == NULL)
		return;
	old = push_key(w, "password_policy");
	collect(w, p, keys, &fp);
	get_u32(w, &fp, "minimum_length", 6, 128, false, &pp->minimum_length);
	get_bool(w, &fp, "require_uppercase", &pp->require_uppercase);
	get_bool(w, &fp, "require_lowercase", &pp->require_lowercase);
	get_bool(w, &fp, "require_numbers", &pp->require_numbers);
	get_bool(w, &fp, "require_symbols", &pp->require_symbols);
	get_u32(w, &fp, "max_age_days", 1, 1095, false, &pp->max_age_days);
	get_u32(w, &fp, "reuse_prevention", 1, IAM_ID_MAX_HISTORY, false,
		&pp->reuse_prevention);
	get_bool(w, &fp, "hard_expiry", &pp->hard_expiry);
	get_bool(w, &fp, "allow_users_to_change", &pp->allow_users_to_change);
	get_u32(w, &fp, "ssh_key_max_age_days", 1, 36500, false,
		&pp->ssh_key_max_age_days);
	l = lookup(&fp, "lockout");
	if (l != NULL && l->type == IAM_JSON_NULL) {
		/* "lockout": null turns it off. */
		pp->lockout.max_failed_attempts = 0;
		l = NULL;
	} else {
		l = field(w, &fp, "lockout", IAM_JSON_OBJECT, false);
	}
	if (l != NULL) {
		size_t o2 = push_key(w, "lockout");

		collect(w, l, lkeys, &fl);
		/* max_failed_attempts 0 turns it off. */
		get_u32(w, &fl, "max_failed_attempts", 0, 1000, false,
			&pp->lockout.max_failed_attempts);
		get_u32(w, &fl, "lockout_seconds", 1, 31622400, false,
			&pp->lockout.lockout_seconds);
		pop(w, o2);
	}
	pop(w, old);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
build_retired(struct walk *w, struct fields *root)
{
	const struct iam_json *a = field_capped(w, root, "retired_ids",
						IAM_JSON_ARRAY,
						IAM_ID_MAX_RETIRED, "ids");
	struct iam_identity *id = w->id;
	size_t old;

	if (a == NULL)
		return;
	id->retired_ids = xcalloc(w, a->len, sizeof(*id->retired_ids));
	if (id->retired_ids == NULL)
		return;
	old = push_key(w, "retired_ids");
	for (size_t i = 0; i < a->len; i++) {
		size_t o2 = push_idx(w, i);
		long long n;

		if (number_in(w, &a->u.items[i], 1, UINT32_MAX - 1, &n))
			id->retired_ids[id->n_retired++] = (uint32_t)n;
		pop(w, o2);
	}
	pop(w, old);
	qsort(id->retired_ids, id->n_retired, sizeof(uint32_t), cmp_u32);
}

/* Compile one policy document found at the current path. */
static void
compile_policy(struct walk *w, const char *name, const struct iam_json *doc,
	       bool trust, struct iam_named_policy *ret)
{
	size_t n0 = w->f->n;
	int r;

	ret->name = name;
	ret->doc = doc;
	if (doc->type != IAM_JSON_OBJECT) {
		fault(w, "a policy document must be an object, not %s",
		      a_type(doc->type));
		return;
	}
	r = iam_policy_compile(doc, name, trust, path(w), &ret->compiled,
			       w->f);
	if (r == -ENOMEM)
		w->err = r;
	else if (r < 0 && w->f->n == n0 && !w->f->dropped)
		fault(w, "invalid policy");
}

/* An object of named policy documents: "policies", "inline_policies". */
static void
build_policy_map(struct walk *w, struct fields *obj, const char *key,
		 size_t max, struct iam_named_policy **ret, size_t *ret_n)
{
	const struct iam_json *m = field_capped(w, obj, key, IAM_JSON_OBJECT,
						max, "policies");
	struct iam_named_policy *v;
	size_t old;
	char q[80];

	if (m == NULL)
		return;
	v = xcalloc(w, m->len, sizeof(*v));
	if (v == NULL)
		return;
	old = push_key(w, key);
	for (size_t i = 0; i < m->len; i++) {
		const struct iam_json_member *e = &m->u.members[i];
		size_t o2 = push_key(w, e->key);

		if (!aws_name_valid(e->key, 128))
			fault(w, "%s is not a valid policy name "
			      "([A-Za-z0-9+=,.@_-], 1-128 characters)",
			      iam_id_quote(e->key, q, sizeof(q)));
		compile_policy(w, e->key, &e->value, false, &v[i]);
		pop(w, o2);
	}
	pop(w, old);
	*ret = v;
	*ret_n = m->len;
}

static void
build_ssh_key(struct walk *w, const struct iam_json *k, struct iam_ssh_key *ret)
{
	static const char *const keys[] = { "id", "key", "created", "status",
					    NULL };
	struct fields fk;
	const char *s, *why;
	char q[80];

	if (!collect_object(w, k, keys, &fk))
		return;
	ret->id = get_aws_name(w, &fk, "id", "key id");
	s = get_str(w, &fk, "key", true);
	if (s != NULL && !iam_ssh_key_valid(s, &why))
		fault_at(w, "key", "%s", why);
	else
		ret->key = s;
	get_time(w, &fk, "created", &ret->created);
	ret->active = true;
	s = get_str(w, &fk, "status", false);
	if (s != NULL && strcmp(s, "Active") != 0 && strcmp(s, "Inactive") != 0)
		fault_at(w, "status", "%s must be Active or Inactive",
			 iam_id_quote(s, q, sizeof(q)));
	else if (s != NULL)
		ret->active = strcmp(s, "Active") == 0;
}

static void
build_ssh_keys(struct walk *w, struct fields *obj, struct iam_user *u)
{
	const struct iam_json *a = field_capped(w, obj, "ssh_keys",
						IAM_JSON_ARRAY,
						IAM_ID_MAX_PER_USER, "keys");
	const char **ids, *dup;
	size_t old, n = 0;
	char q[80];

	if (a == NULL)
		return;
	u->ssh_keys = xcalloc(w, a->len, sizeof(*u->ssh_keys));
	ids = xcalloc(w, a->len, sizeof(*ids));
	if (u->ssh_keys == NULL || ids == NULL) {
		free(ids);
		return;
	}
	u->n_ssh_keys = a->len;
	old = push_key(w, "ssh_keys");
	for (size_t i = 0; i < a->len; i++) {
		size_t o2 = push_idx(w, i);

		build_ssh_key(w, &a->u.items[i], &u->ssh_keys[i]);
		if (u->ssh_keys[i].id != NULL)
			ids[n++] = u->ssh_keys[i].id;
		pop(w, o2);
	}
	dup = first_duplicate(w, ids, n, cmp_str);
	if (dup != NULL)
		fault(w, "key id %s is used twice",
		      iam_id_quote(dup, q, sizeof(q)));
	free(ids);
	pop(w, old);
}

static void
build_password(struct walk *w, struct fields *obj, struct iam_user *u)
{
	static const char *const keys[] = { "hash", "changed", "must_change",
					    NULL };
	struct fields fp;
	const char *h;
	size_t old;

	u->file_password = enter_object(w, obj, "password", keys, &fp, &old);
	if (u->file_password == NULL)
		return;
	h = get_str(w, &fp, "hash", false);
	/* The hash itself is never echoed: it is a secret. */
	if (h != NULL && !iam_password_hash_valid(h)) {
		fault_at(w, "hash", "not a yescrypt ($y$), sha512crypt ($6$) "
			 "or bcrypt ($2b$) hash");
	} else if (h != NULL && !w->sources) {
		/* lent: h is in the document's text arena, wiped with it */
		u->password.hash = (char *)h;
	} else if (h != NULL) {
		u->password.hash = strdup(h);
		if (u->password.hash == NULL)
			w->err = -ENOMEM;
	}
	get_time(w, &fp, "changed", &u->password.changed);
	get_bool(w, &fp, "must_change", &u->password.must_change);
	pop(w, old);
}

static void
build_mfa(struct walk *w, struct fields *obj, struct iam_user *u)
{
	static const char *const keys[] = { "type", "secret", "algorithm",
					    "digits", "period", NULL };
	struct iam_mfa *mfa = &u->mfa;
	struct fields fm;
	const char *s, *why;
	uint32_t digits, period;
	size_t old;
	char q[80];

	u->file_mfa = enter_object(w, obj, "mfa", keys, &fm, &old);
	if (u->file_mfa == NULL)
		return;
	s = get_str(w, &fm, "type", false);
	if (s != NULL && strcmp(s, "totp") != 0)
		fault_at(w, "type", "%s is not a known device type (totp)",
			 iam_id_quote(s, q, sizeof(q)));
	mfa->algorithm = IAM_TOTP_SHA1;
	s = get_str(w, &fm, "algorithm", false);
	if (s != NULL && strcmp(s, "SHA256") == 0)
		mfa->algorithm = IAM_TOTP_SHA256;
	else if (s != NULL && strcmp(s, "SHA512") == 0)
		mfa->algorithm = IAM_TOTP_SHA512;
	else if (s != NULL && strcmp(s, "SHA1") != 0)
		fault_at(w, "algorithm", "%s must be SHA1, SHA256 or SHA512",
			 iam_id_quote(s, q, sizeof(q)));
	digits = 6;
	period = 30;
	get_u32(w, &fm, "digits", 6, 8, false, &digits);
	get_u32(w, &fm, "period", 15, 300, false, &period);
	mfa->digits = (uint16_t)digits;		/* 6-8 */
	mfa->period = (uint16_t)period;		/* 15-300 */
	s = get_str(w, &fm, "secret", true);
	/* The secret itself is never echoed. */
	if (s != NULL && !iam_totp_secret_valid(s, &why)) {
		fault_at(w, "secret", "%s", why);
	} else if (s != NULL) {
		mfa->secret = strdup(s);
		if (mfa->secret == NULL)
			w->err = -ENOMEM;
	}
	pop(w, old);
}

static void
build_user(struct walk *w, const struct iam_json *v, struct iam_user *u)
{
	struct fields fv;
	static const char *const keys[] = {
		"name", "uid", "primary_group", "gecos", "home", "shell",
		"created", "groups", "policies", "inline_policies",
		"permissions_boundary", "tags", "password", "mfa", "ssh_keys",
		"disabled", NULL };
	const struct iam_config *cfg = w->cfg;
	const char *s;
	size_t n;

	if (!collect_object(w, v, keys, &fv))
		return;
	u->name = get_name(w, &fv);
	get_u32(w, &fv, "uid", cfg->uid_min, cfg->uid_max, true, &u->uid);
	u->primary_group = get_str(w, &fv, "primary_group", true);
	s = get_str(w, &fv, "gecos", false);
	u->gecos = s != NULL && text_ok(w, "gecos", s, IAM_ID_MAX_GECOS) ?
		   s : "";
	u->home = get_path(w, &fv, "home");
	if (u->home == NULL && u->name != NULL &&
	    lookup(&fv, "home") == NULL) {
		size_t nl = strlen(u->name);
		char *h = lasting(w, sizeof("/home/") + nl, 1);

		if (h != NULL) {
			memcpy(h, "/home/", 6);
			memcpy(h + 6, u->name, nl + 1);
			u->home = h;
		}
	}
	u->shell = get_path(w, &fv, "shell");
	if (u->shell == NULL)
		u->shell = "/bin/bash";
	get_time(w, &fv, "created", &u->created);
	/* each list is capped at IAM_ID_MAX_PER_USER, and left as it is
	   when absent */
	n = u->n_groups;
	get_names(w, &fv, "groups", IAM_ID_MAX_PER_USER, &u->groups, &n);
	u->n_groups = (uint32_t)n;
	n = u->n_policies;
	get_names(w, &fv, "policies", IAM_ID_MAX_PER_USER, &u->policies, &n);
	u->n_policies = (uint32_t)n;
	n = u->n_inline;
	build_policy_map(w, &fv, "inline_policies", IAM_ID_MAX_PER_USER,
			 &u->inline_policies, &n);
	u->n_inline = (uint32_t)n;
	u->permissions_boundary = get_str(w, &fv, "permissions_boundary",
					  false);
	get_tags(w, &fv, &u->tags);
	build_password(w, &fv, u);
	build_mfa(w, &fv, u);
	build_ssh_keys(w, &fv, u);
	get_bool(w, &fv, "disabled", &u->disabled);
}

static void
build_group(struct walk *w, const struct iam_json *v, struct iam_group *g)
{
	struct fields fv;
	static const char *const keys[] = { "name", "gid", "policies", NULL };

	if (!collect_object(w, v, keys, &fv))
		return;
	g->name = get_name(w, &fv);
	get_u32(w, &fv, "gid", w->cfg->gid_min, w->cfg->gid_max, true, &g->gid);
	get_names(w, &fv, "policies", IAM_ID_MAX_PER_USER, &g->policies,
		  &g->n_policies);
}

static void
build_role(struct walk *w, const struct iam_json *v, struct iam_role *r)
{
	struct fields fv;
	static const char *const keys[] = { "name", "max_session_seconds",
					    "tags", "trust_policy", "policies",
					    NULL };
	const struct iam_json *t;

	if (!collect_object(w, v, keys, &fv))
		return;
	r->name = get_aws_name(w, &fv, "name", "role name");
	r->max_session_seconds = 3600;
	get_u32(w, &fv, "max_session_seconds", 900, 43200, false,
		&r->max_session_seconds);
	get_tags(w, &fv, &r->tags);
	t = field(w, &fv, "trust_policy", IAM_JSON_OBJECT, true);
	if (t != NULL) {
		size_t old = push_key(w, "trust_policy");

		compile_policy(w, r->name ? r->name : "trust_policy", t, true,
			       &r->trust_policy);
		pop(w, old);
	}
	get_names(w, &fv, "policies", IAM_ID_MAX_PER_USER, &r->policies,
		  &r->n_policies);
}

/*
 * users, groups, roles: an array of objects, each built by fn; more than
 * max entries is refused, naming the setting of iam.conf(5) that raises
 * the cap when there is one.
 */
#define BUILD_ARRAY(w, root, key, max, setting, arr, n, fn)                \
	do {                                                               \
		const struct iam_json *a_ = field(w, root, key,            \
						  IAM_JSON_ARRAY, false);  \
		size_t old_;                                               \
		if (a_ == NULL)                                            \
			break;                                             \
		if (a_->len > (size_t)(max)) {                             \
			fault_at(w, key, "%zu entries are over the limit " \
				 "of %zu%s%s%s", a_->len, (size_t)(max),   \
				 (setting) ? " (" : "",                    \
				 (setting) ? (setting) : "",               \
				 (setting) ? " in iam.conf)" : "");        \
			break;                                             \
		}                                                          \
		(arr) = xcalloc(w, a_->len, sizeof(*(arr)));               \
		if ((arr) == NULL)                                         \
			break;                                             \
		(n) = a_->len;                                             \
		old_ = push_key(w, key);                                   \
		for (size_t i_ = 0; i_ < a_->len; i_++) {                  \
			size_t o2_ = push_idx(w, i_);                      \
			fn(w, &a_->u.items[i_], &(arr)[i_]);               \
			pop(w, o2_);                                       \
		}                                                          \
		pop(w, old_);                                              \
	} while (0)

/* The limit of the split array k, and the setting that raises it. */
static size_t
split_max(const struct walk *w, int k, const char **ret_setting)
{
	*ret_setting = k == SPLIT_USERS ? "identity_max_users" :
					  "identity_max_groups";
	return k == SPLIT_USERS ? w->cfg->identity_max_users :
				  w->cfg->identity_max_groups;
}

/*
 * The lasting copy of an item's value the model keeps (the user's
 * initial credentials as written, inline policy documents): the item's
 * own nodes are reused once it is built.
 */
static const struct iam_json *
keep(struct walk *w, struct iam_json_doc *doc, const struct iam_json *v)
{
	const struct iam_json *k;

	if (v == NULL)
		return NULL;
	k = iam_json_keep(doc, v);
	if (k == NULL)
		w->err = -ENOMEM;
	return k;
}

/*
 * Make room for item idx of the model's array *arr of size-byte entries,
 * and clear that entry.  The room ahead is left untouched: realloc() of
 * a large block remaps it, so pages not yet used take no memory.
 */
static int
split_room(struct split_array *a, void **arr, size_t size, size_t idx)
{
	if (idx >= a->alloc) {
		size_t alloc = a->alloc < 64 ? 64 : a->alloc + a->alloc / 2;
		void *v = reallocarray(*arr, alloc, size);

		if (v == NULL)
			return -ENOMEM;
		*arr = v;
		a->alloc = alloc;
	}
	memset((char *)*arr + idx * size, 0, size);
	return 0;
}

/*
 * Give back split_room()'s growth room once all n entries are in: a
 * million users' worth is large.  Kept as it is when that fails.
 */
static void
split_trim(const struct split_array *a, void **arr, size_t n, size_t size)
{
	void *v;

	if (n == 0 || n >= a->alloc)
		return;
	v = reallocarray(*arr, n, size);
	if (v != NULL)
		*arr = v;
}

/*
 * Item idx of split array k has come: 1 when its entry in the model is
 * ready (cleared, counted), 0 when the array is over its limit (refused
 * as a whole by build()), < 0 on error.
 */
static int
split_item(struct walk *w, struct iam_json_doc *doc, int k, size_t idx)
{
	struct iam_identity *id = w->id;
	struct split_array *a = &w->split[k];
	const char *setting;

	a->on = true;
	a->seen = idx + 1;
	w->doc = doc;
	if (w->err < 0)
		return w->err;
	if (idx >= split_max(w, k, &setting))
		return 0;
	if (k == SPLIT_USERS ?
	    split_room(a, (void **)&id->users, sizeof(*id->users), idx) :
	    split_room(a, (void **)&id->groups, sizeof(*id->groups), idx))
		return -ENOMEM;
	if (k == SPLIT_USERS)
		id->n_users = idx + 1;
	else
		id->n_groups = idx + 1;
	return 1;
}

/* iam_json_split's reader: build users[idx] or groups[idx] at once. */
static int
build_item(void *ctx, struct iam_json_doc *doc, const char *key, size_t idx,
	   const struct iam_json *item)
{
	struct walk *w = ctx;
	struct iam_identity *id = w->id;
	int k = strcmp(key, "users") == 0 ? SPLIT_USERS : SPLIT_GROUPS;
	struct split_array *a = &w->split[k];
	struct iam_faults *main_f = w->f;
	size_t old;
	int r = split_item(w, doc, k, idx);

	if (r <= 0)
		return r;
	w->f = &a->f;
	old = push_key(w, key);
	push_idx(w, idx);
	if (k == SPLIT_USERS) {
		struct iam_user *u = &id->users[idx];

		build_user(w, item, u);
		u->file_password = w->sources ?
				   keep(w, doc, u->file_password) : NULL;
		u->file_mfa = w->sources ? keep(w, doc, u->file_mfa) : NULL;
		for (size_t i = 0; i < u->n_inline; i++)
			u->inline_policies[i].doc =
				keep(w, doc, u->inline_policies[i].doc);
	} else {
		build_group(w, item, &id->groups[idx]);
	}
	pop(w, old);
	w->f = main_f;
	return w->err;
}

/* ---- Users straight from the parse's events -------------------------- */

/*
 * A user of the usual shape is built from the parse's events, with no
 * tree (iam_json_events): the members build_user() reads, each checked as
 * build_user() checks it, and the user taken only when every check
 * passes, so it is the user build_user() would build and there is no
 * fault to tell.  Anything else (a fault of any kind, mfa, ssh_keys,
 * inline_policies, text that is not plain ASCII) gives the user up to
 * build_user(), which then says what is wrong.  Only a model that keeps
 * no source (IAM_ID_NO_SOURCES) reads users so: the sources are trees.
 */
static const struct {
	const char *name;
	enum fast_field field;
} fast_members[] = {
	{ "name", FF_NAME }, { "uid", FF_UID },
	{ "primary_group", FF_PRIMARY }, { "gecos", FF_GECOS },
	{ "home", FF_HOME }, { "shell", FF_SHELL },
	{ "created", FF_CREATED }, { "groups", FF_GROUPS },
	{ "policies", FF_POLICIES },
	{ "permissions_boundary", FF_BOUNDARY }, { "tags", FF_TAGS },
	{ "password", FF_PASSWORD }, { "disabled", FF_DISABLED },
	{ "hash", FF_HASH }, { "changed", FF_CHANGED },
	{ "must_change", FF_MUST_CHANGE },
};

static int fast_key(void *ctx, const char *key);

/*
 * A key not in the memo (seldom: the keys of a document are few): the
 * member it names (FF_NONE: none we take) put there, then read again.
 */
static __attribute__((noinline)) int
fast_key_learn(void *ctx, const char *key)
{
	struct fast_user *fu = &((struct walk *)ctx)->fu;
	size_t h = ((uintptr_t)key >> 3) % FAST_MEMO;
	enum fast_field f = FF_NONE;

	for (size_t i = 0; i < sizeof(fast_members) / sizeof(fast_members[0]);
	     i++)
		if (strcmp(key, fast_members[i].name) == 0)
			f = fast_members[i].field;
	fu->memo[h].key = key;
	fu->memo[h].field = f;
	return fast_key(ctx, key);
}

static bool
fast_start(void *ctx, struct iam_json_doc *doc, const char *key, size_t idx)
{
	struct walk *w = ctx;
	struct fast_user *fu = &w->fu;

	if (strcmp(key, "users") != 0)
		return false;
	fu->doc = doc;
	fu->idx = idx;
	fu->field = fu->in = FF_NONE;
	fu->seen = 0;
	fu->groups.n = fu->policies.n = fu->tags.n = 0;
	fu->copied = false;
	fu->disabled = fu->must_change = false;
	return true;
}

static int
fast_key(void *ctx, const char *key)
{
	struct fast_user *fu = &((struct walk *)ctx)->fu;
	size_t h = ((uintptr_t)key >> 3) % FAST_MEMO;
	enum fast_field f;

	if (fu->in == FF_TAGS) {
		fu->tag_key = key;
		fu->field = FF_TAGS;
		return 1;
	}
	if (fu->memo[h].key != key)
		return fast_key_learn(ctx, key);
	f = fu->memo[h].field;
	/* a member of the user's own, or of its password; given once */
	if (f == FF_NONE || (fu->in == FF_PASSWORD) != (f >= FF_HASH) ||
	    fu->seen & 1u << f)
		return 0;
	fu->seen |= 1u << f;
	fu->field = f;
	return 1;
}

static int
fast_open(void *ctx, enum iam_json_type type)
{
	struct fast_user *fu = &((struct walk *)ctx)->fu;
	enum fast_field f = fu->field;

	if (fu->in != FF_NONE ||
	    type != (f == FF_GROUPS || f == FF_POLICIES ? IAM_JSON_ARRAY :
		     f == FF_TAGS || f == FF_PASSWORD ? IAM_JSON_OBJECT :
		     IAM_JSON_NULL))
		return 0;
	fu->in = f;
	fu->field = f == FF_GROUPS || f == FF_POLICIES ? f : FF_NONE;
	return 1;
}

static int
fast_close(void *ctx)
{
	struct fast_user *fu = &((struct walk *)ctx)->fu;

	fu->in = fu->field = FF_NONE;
	return 1;
}

static __attribute__((noinline)) int
fast_grow(struct fast_names *l)
{
	size_t alloc = l->alloc ? 2 * l->alloc : 32;
	const char **v = reallocarray(l->v, alloc, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	l->alloc = alloc;
	return 0;
}

/* One more entry of a list (2 pointers a tag). */
static inline int
fast_add(struct fast_names *l, const char *a, const char *b)
{
	if (l->n + 2 > l->alloc && fast_grow(l) < 0)
		return -ENOMEM;
	l->v[l->n++] = a;
	if (b != NULL)
		l->v[l->n++] = b;
	return 1;
}

/*
 * A time as get_time() takes it; false when it would not.  Users made
 * together share their times: the last one read is kept with its value.
 */
static bool
fast_time(struct fast_user *fu, const unsigned char *s, size_t len,
	  int64_t *ret)
{
	if (len >= sizeof(fu->time_text))
		return false;
	if (!fu->time_kept || len != fu->time_len ||
	    memcmp(fu->time_text, s, len) != 0) {
		memcpy(fu->time_text, s, len);
		fu->time_text[len] = '\0';
		fu->time_len = len;
		fu->time_kept = iam_parse_time(fu->time_text, &fu->time) == 0;
		if (!fu->time_kept)
			return false;
	}
	*ret = fu->time;
	return true;
}

static int
fast_string(void *ctx, const unsigned char *s, size_t len)
{
	struct walk *w = ctx;
	struct fast_user *fu = &w->fu;
	enum fast_field f = fu->field;
	const char *p;
	bool copy;

	switch (f) {
	case FF_CREATED:
		return fast_time(fu, s, len, &fu->created) ?
		       (fu->field = FF_NONE, 1) : 0;
	case FF_CHANGED:
		return fast_time(fu, s, len, &fu->changed) ?
		       (fu->field = FF_NONE, 1) : 0;
	case FF_PRIMARY:
		p = iam_json_doc_share(fu->doc, s, len, &copy);
		break;
	case FF_GROUPS:
	case FF_POLICIES:
		if (fu->in != f)
			return 0;
		p = iam_json_doc_share(fu->doc, s, len, &copy);
		if (p == NULL)
			return -ENOMEM;
		fu->copied |= copy;
		/* more than build_user() takes: its fault */
		if ((f == FF_GROUPS ? fu->groups.n : fu->policies.n) >=
		    IAM_ID_MAX_PER_USER)
			return 0;
		return fast_add(f == FF_GROUPS ? &fu->groups : &fu->policies, p,
				NULL);
	case FF_TAGS:
		if (fu->in != FF_TAGS)
			return 0;	/* "tags" itself a string */
		/* fall through */
	case FF_NAME:
	case FF_GECOS:
	case FF_HOME:
	case FF_SHELL:
	case FF_BOUNDARY:
	case FF_HASH:
		p = iam_json_doc_strdup(fu->doc, s, len);
		break;
	default:
		return 0;
	}
	if (p == NULL)
		return -ENOMEM;
	switch (f) {
	case FF_NAME:
		if (!iam_name_valid(p))
			return 0;
		break;
	case FF_GECOS:
		if (!text_clean(p, len, IAM_ID_MAX_GECOS))
			return 0;
		break;
	case FF_HOME:
	case FF_SHELL:
		if (!text_clean(p, len, IAM_ID_MAX_PATH) || p[0] != '/')
			return 0;
		break;
	case FF_HASH:
		if (!iam_password_hash_valid(p))
			return 0;
		break;
	case FF_TAGS:
		/* get_tags()'s checks; a value is plain ASCII, a key may
		   be any UTF-8 the parse judged before, and its length in
		   bytes is at least its length in characters, so the
		   bounds are as strict as the tree's or stricter; a key
		   that passed once passes again */
		if (fu->tag_key != fu->tag_key_ok &&
		    (strlen(fu->tag_key) < 1 ||
		     strlen(fu->tag_key) > IAM_ID_MAX_TAG_KEY ||
		     iam_has_control(fu->tag_key) ||
		     strncasecmp(fu->tag_key, "aws:", 4) == 0))
			return 0;
		fu->tag_key_ok = fu->tag_key;
		if (fu->tags.n >= 2 * IAM_ID_MAX_TAGS ||
		    len > IAM_ID_MAX_TAG_VALUE || iam_has_control(p))
			return 0;
		return fast_add(&fu->tags, fu->tag_key, p);
	default:
		break;
	}
	fu->str[f] = p;
	fu->field = FF_NONE;
	return 1;
}

static int
fast_number(void *ctx, const char *s, size_t len)
{
	struct walk *w = ctx;
	struct fast_user *fu = &w->fu;
	long long v = 0;

	/* a uid of plain digits within the range; the rest is get_u32()'s */
	if (fu->field != FF_UID || len < 1 || len > 18)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v < w->cfg->uid_min || v > w->cfg->uid_max)
		return 0;
	fu->uid = (uint32_t)v;
	fu->field = FF_NONE;
	return 1;
}

static int
fast_boolean(void *ctx, bool b)
{
	struct fast_user *fu = &((struct walk *)ctx)->fu;

	if (fu->field == FF_DISABLED)
		fu->disabled = b;
	else if (fu->field == FF_MUST_CHANGE)
		fu->must_change = b;
	else
		return 0;
	fu->field = FF_NONE;
	return 1;
}

/* A list of the model's own, from a fast one: lasting(), as get_names(). */
static const char **
fast_list(struct walk *w, const struct fast_names *l)
{
	const char **v = lasting(w, l->n, sizeof(*v));

	if (v != NULL && l->n > 0)
		memcpy(v, l->v, l->n * sizeof(*v));
	return v;
}

/*
 * Whether a list of names has one twice, as get_names() would find: a
 * short list of shared names, equal only when their pointers are, by
 * its pointers.
 */
static bool
fast_twice(struct walk *w, const struct fast_names *l, bool copied)
{
	if (copied || l->n > 8)
		return first_duplicate(w, l->v, l->n, cmp_str) != NULL;
	for (size_t i = 1; i < l->n; i++)
		for (size_t j = 0; j < i; j++)
			if (l->v[i] == l->v[j])
				return true;
	return false;
}

/* The user complete: taken when build_user() would find no fault. */
static int
fast_end(void *ctx)
{
	struct walk *w = ctx;
	struct fast_user *fu = &w->fu;
	const uint32_t required = 1u << FF_NAME | 1u << FF_UID |
				  1u << FF_PRIMARY;
	const char *few[IAM_ID_MAX_TAGS];
	struct iam_user *u;
	size_t n_tags = fu->tags.n / 2;
	int r;

	if ((fu->seen & required) != required ||
	    fast_twice(w, &fu->groups, fu->copied) ||
	    fast_twice(w, &fu->policies, fu->copied))
		return w->err < 0 ? w->err : 0;
	for (size_t i = 0; i < n_tags; i++)
		few[i] = fu->tags.v[2 * i];
	if (first_duplicate(w, few, n_tags, cmp_str_ci) != NULL)
		return w->err < 0 ? w->err : 0;
	if (w->err < 0)
		return w->err;
	r = split_item(w, fu->doc, SPLIT_USERS, fu->idx);
	if (r <= 0)
		return r < 0 ? r : 1;	/* over the limit: refused as a whole */
	u = &w->id->users[fu->idx];
	u->name = fu->str[FF_NAME];
	u->uid = fu->uid;
	u->primary_group = fu->str[FF_PRIMARY];
	u->gecos = fu->seen & 1u << FF_GECOS ? fu->str[FF_GECOS] : "";
	u->home = fu->str[FF_HOME];
	if (!(fu->seen & 1u << FF_HOME)) {
		size_t nl = strlen(u->name);
		char *h = lasting(w, sizeof("/home/") + nl, 1);

		if (h == NULL)
			return w->err;
		memcpy(h, "/home/", 6);
		memcpy(h + 6, u->name, nl + 1);
		u->home = h;
	}
	u->shell = fu->seen & 1u << FF_SHELL ? fu->str[FF_SHELL] : "/bin/bash";
	if (fu->seen & 1u << FF_CREATED)
		u->created = fu->created;
	if (fu->seen & 1u << FF_GROUPS) {
		u->groups = fast_list(w, &fu->groups);
		u->n_groups = (uint32_t)fu->groups.n;
	}
	if (fu->seen & 1u << FF_POLICIES) {
		u->policies = fast_list(w, &fu->policies);
		u->n_policies = (uint32_t)fu->policies.n;
	}
	u->permissions_boundary = fu->seen & 1u << FF_BOUNDARY ?
				  fu->str[FF_BOUNDARY] : NULL;
	if (fu->seen & 1u << FF_TAGS) {
		u->tags.v = lasting(w, n_tags, sizeof(*u->tags.v));
		for (size_t i = 0; u->tags.v != NULL && i < n_tags; i++)
			u->tags.v[u->tags.n++] = (struct iam_tag){
				.key = (char *)fu->tags.v[2 * i],
				.value = (char *)fu->tags.v[2 * i + 1] };
	}
	if (fu->seen & 1u << FF_HASH)
		u->password.hash = (char *)fu->str[FF_HASH];	/* lent */
	if (fu->seen & 1u << FF_CHANGED)
		u->password.changed = fu->changed;
	u->password.must_change = fu->must_change;
	u->disabled = fu->disabled;
	return w->err < 0 ? w->err : 1;
}

static const struct iam_json_events fast_events = {
	.start = fast_start,
	.key = fast_key,
	.string = fast_string,
	.number = fast_number,
	.boolean = fast_boolean,
	.open = fast_open,
	.close = fast_close,
	.end = fast_end,
};

/* Move the faults of from to the end of to (within its cap). */
static void
move_faults(struct iam_faults *to, struct iam_faults *from)
{
	for (size_t i = 0; i < from->n; i++)
		iam_fault(to, NULL, "%s", from->v[i]);
	to->dropped += from->dropped;
	to->oom |= from->oom;
	iam_faults_release(from);
}

static void free_user(struct iam_user *u, bool hash_lent);

/*
 * Where build() would have built split array k: its faults, or the one
 * fault of an array over its limit (then nothing of it is kept).
 */
static void
finish_split(struct walk *w, int k)
{
	struct split_array *a = &w->split[k];
	struct iam_identity *id = w->id;
	const char *setting;
	size_t max = split_max(w, k, &setting);

	if (a->seen > max) {
		fault_at(w, k == SPLIT_USERS ? "users" : "groups",
			 "%zu entries are over the limit of %zu (%s in "
			 "iam.conf)", a->seen, max, setting);
		iam_faults_release(&a->f);
		if (k == SPLIT_USERS) {
			for (size_t i = 0; i < id->n_users; i++)
				free_user(&id->users[i], !w->sources);
			free(id->users);
			id->users = NULL;
			id->n_users = 0;
		} else {
			free(id->groups);
			id->groups = NULL;
			id->n_groups = 0;
		}
		return;
	}
	move_faults(w->f, &a->f);
	if (k == SPLIT_USERS)
		split_trim(a, (void **)&id->users, id->n_users,
			   sizeof(*id->users));
	else
		split_trim(a, (void **)&id->groups, id->n_groups,
			   sizeof(*id->groups));
}

static void
build(struct walk *w, const struct iam_json *root)
{
	static const char *const keys[] = {
		"account", "password_policy", "retired_ids", "users", "groups",
		"roles", "policies", NULL };
	struct iam_identity *id = w->id;
	struct fields fr;

	if (root->type != IAM_JSON_OBJECT) {
		iam_fault(w->f, NULL, "the identity file must hold a JSON "
			  "object, not %s", a_type(root->type));
		return;
	}
	collect(w, root, keys, &fr);
	build_account(w, &fr);
	build_password_policy(w, &fr);
	build_retired(w, &fr);
	build_policy_map(w, &fr, "policies", IAM_ID_MAX_POLICIES,
			 &id->policies, &id->n_policies);
	if (w->split[SPLIT_GROUPS].on)
		finish_split(w, SPLIT_GROUPS);
	else
		BUILD_ARRAY(w, &fr, "groups", w->cfg->identity_max_groups,
			    "identity_max_groups", id->groups, id->n_groups,
			    build_group);
	if (w->split[SPLIT_USERS].on)
		finish_split(w, SPLIT_USERS);
	else
		BUILD_ARRAY(w, &fr, "users", w->cfg->identity_max_users,
			    "identity_max_users", id->users, id->n_users,
			    build_user);
	BUILD_ARRAY(w, &fr, "roles", IAM_ID_MAX_ROLES, (const char *)NULL,
		    id->roles, id->n_roles, build_role);
}

/* ---- Entry points ---------------------------------------------------- */

static bool
faults_grew(const struct iam_faults *f, size_t n, size_t dropped)
{
	return f->n > n || f->dropped > dropped || f->oom;
}

void
iam_identity_json_limits(const struct iam_config *cfg,
			 struct iam_json_limits *ret)
{
	size_t items = cfg->identity_max_users > cfg->identity_max_groups ?
		       cfg->identity_max_users : cfg->identity_max_groups;

	/* One past the caps on users and groups, so the walk refuses them
	   with its own message; no other array or object is near 1M. */
	if (items < IAM_ID_MAX_RETIRED)
		items = IAM_ID_MAX_RETIRED;
	*ret = (struct iam_json_limits){
		.max_bytes = cfg->identity_max_bytes,
		.max_depth = IAM_ID_MAX_DEPTH, .max_string = IAM_ID_MAX_STRING,
		.max_items = items + 1 };
}

/*
 * iam_identity_parse(); with consumed, buf is the caller's own text and
 * is wiped a window at a time as it is parsed (iam_json_split), *consumed
 * telling how far.
 */
static int
parse_inner(const char *buf, size_t len, size_t *consumed,
	    const struct iam_config *cfg, const char *host_root, int flags,
	    struct iam_identity **ret_id, struct iam_faults *faults)
{
	static const char *const split_keys[] = { "users", "groups", NULL };
	/* the names users and groups refer to: one copy of each */
	static const char *const shared[] = { "primary_group", "groups",
					      "policies", NULL };
	static const char *const times[] = { "", "created",
					     "password", "changed", NULL };
	struct iam_json_limits lim;
	struct iam_faults local = IAM_FAULTS_INIT;
	struct iam_json_split split = { .keys = split_keys,
					.each = build_item,
					.shared = shared };
	struct walk *w;
	size_t n0, d0;
	char err[1024];
	int r;

	if (cfg == NULL)
		return -EINVAL;
	iam_identity_json_limits(cfg, &lim);
	if (faults == NULL)
		faults = &local;
	n0 = faults->n;
	d0 = faults->dropped;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cfg = cfg;
	w->f = faults;
	w->sources = !(flags & IAM_ID_NO_SOURCES);
	split.ctx = w;
	/* times are kept as numbers; a model that keeps no source has no
	   use for their text (a million users' "changed" are 21 MB) */
	if (!w->sources) {
		split.transient = times;
		split.events = &fast_events;
	}
	w->id = calloc(1, sizeof(*w->id));
	if (w->id == NULL || (w->id->priv = calloc(1, sizeof(struct iam_id_priv)))
	    == NULL) {
		r = -ENOMEM;
		goto out;
	}
	((struct iam_id_priv *)w->id->priv)->hashes_lent = !w->sources;
	split.consumed = consumed;
	r = iam_json_parse_split(buf, len, &lim, &split, &w->id->doc, err,
				 sizeof(err));
	w->doc = w->id->doc;
	if (r == 0 && w->err < 0)
		r = w->err;
	if (r == -ENOMEM)
		goto out;
	if (r == -E2BIG) {
		iam_fault(faults, NULL, "%s (identity_max_bytes in iam.conf)",
			  err);
		r = -EINVAL;
		goto out;
	}
	if (r < 0) {
		iam_fault(faults, NULL, "%s", err);
		r = -EINVAL;
		goto out;
	}
	build(w, iam_json_root(w->id->doc));
	r = w->err;
	if (r == 0)
		r = iam_id_index(w->id);
	if (r == 0)
		r = iam_id_cross_check(w->id, cfg, host_root, faults);
	if (r == 0 && faults_grew(faults, n0, d0))
		r = -EINVAL;
	if (r == 0) {
		*ret_id = w->id;
		w->id = NULL;
	}
out:
	iam_identity_free(w->id);
	for (int k = 0; k < SPLIT_N; k++)
		iam_faults_release(&w->split[k].f);
	free(w->fu.groups.v);
	free(w->fu.policies.v);
	free(w->fu.tags.v);
	free(w);
	iam_faults_release(&local);
	return r;
}

/*
 * parse_inner(); with IAM_ID_CONSUME, buf is wiped as the parse consumes
 * it (*consumed leading bytes), the rest after it, on every path, so the
 * file's text and the model built from it are never in memory together.
 */
static int
parse_text(const char *buf, size_t len, const struct iam_config *cfg,
	   const char *host_root, int flags, struct iam_identity **ret_id,
	   struct iam_faults *faults)
{
	size_t wiped = 0;
	bool consume = flags & IAM_ID_CONSUME && buf != NULL;
	int r = parse_inner(buf, len, consume ? &wiped : NULL, cfg, host_root,
			    flags, ret_id, faults);

	if (consume)
		iam_wipe((char *)buf + wiped, len - wiped);
	return r;
}

int
iam_id_parse(const char *buf, size_t len, const struct iam_config *cfg,
	     const char *host_root, int flags, struct iam_identity **ret_id,
	     struct iam_faults *faults)
{
	return parse_text(buf, len, cfg, host_root, flags, ret_id, faults);
}

int
iam_identity_parse(const char *buf, size_t len, const struct iam_config *cfg,
		   const char *host_root, struct iam_identity **ret_id,
		   struct iam_faults *faults)
{
	return iam_id_parse(buf, len, cfg, host_root, 0, ret_id, faults);
}

/* Read a file as it is (iamctl validate FILE); "-" is standard input. */
static int
read_plain(const char *path, size_t max, struct iam_buf *ret, char *err,
	   size_t errlen)
{
	struct iam_buf b = IAM_BUF_INIT;
	bool in = strcmp(path, "-") == 0;
	struct stat st;
	int fd, r = 0;

	fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		r = -errno;
	else if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		r = -EFBIG;	/* refused without reading it */
	else if (S_ISREG(st.st_mode))
		r = iam_buf_grow(&b, (size_t)st.st_size + 1);
	if (r == 0)
		r = iam_buf_read_fd(&b, fd, max);
	if (fd >= 0 && !in)
		close(fd);
	if (r == -EFBIG)
		snprintf(err, errlen, "%s: is over the size limit of %zu bytes "
			 "(identity_max_bytes in iam.conf)", path, max);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	if (r < 0) {
		iam_buf_wipe(&b);
		return r;
	}
	*ret = b;
	return 0;
}

int
iam_id_load(const char *path, bool strict, const struct iam_config *cfg,
	    const char *host_root, int flags, struct iam_identity **ret_id,
	    struct iam_faults *faults)
{
	struct iam_faults local = IAM_FAULTS_INIT;
	struct iam_buf b = IAM_BUF_INIT;
	char err[1024] = "";
	int r;

	if (cfg == NULL)
		return -EINVAL;
	if (faults == NULL)
		faults = &local;
	if (strict)
		r = iam_read_strict(path, IAM_STRICT_SECRET,
				    cfg->identity_max_bytes, &b, err,
				    sizeof(err));
	else
		r = read_plain(path, cfg->identity_max_bytes, &b, err,
			       sizeof(err));
	if (r < 0) {
		if (r == -EFBIG && strict)
			snprintf(err, sizeof(err), "%s: is over the size limit "
				 "of %zu bytes (identity_max_bytes in iam.conf)",
				 path, cfg->identity_max_bytes);
		iam_fault(faults, NULL, "%s", err[0] ? err : strerror(-r));
	} else {
		r = parse_text(b.buf, b.len, cfg, host_root,
			       flags | IAM_ID_CONSUME, ret_id, faults);
		iam_buf_release(&b);	/* wiped on every path */
	}
	iam_faults_release(&local);
	return r;
}

int
iam_identity_load(const char *path, bool strict, const struct iam_config *cfg,
		  const char *host_root, struct iam_identity **ret_id,
		  struct iam_faults *faults)
{
	return iam_id_load(path, strict, cfg, host_root, 0, ret_id, faults);
}

/* ---- Release --------------------------------------------------------- */

/*
 * The initial credentials inside the JSON document are secrets too: wipe
 * them from the tree itself, so a document refused before its users were
 * built is wiped as well.
 */
static void
wipe_member(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v = iam_json_get(obj, key);

	if (v != NULL && v->type == IAM_JSON_STRING)
		iam_wipe((char *)v->u.string, v->len);
}

static void
wipe_secrets(const struct iam_json *root)
{
	const struct iam_json *users = iam_json_get(root, "users");

	if (users == NULL || users->type != IAM_JSON_ARRAY)
		return;
	for (size_t i = 0; i < users->len; i++) {
		const struct iam_json *u = &users->u.items[i];

		wipe_member(iam_json_get(u, "password"), "hash");
		wipe_member(iam_json_get(u, "mfa"), "secret");
	}
}

static void
free_policies(struct iam_named_policy *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		iam_policy_free(v[i].compiled);
	free(v);
}

/* groups, policies, tags.v and a default home are in the document's
   lasting arena (lasting()), released with it. */
static void
free_user(struct iam_user *u, bool hash_lent)
{
	free_policies(u->inline_policies, u->n_inline);
	if (!hash_lent)
		iam_drop_string(u->password.hash);
	for (size_t i = 0; i < u->password.n_history; i++)
		iam_drop_string(u->password.history[i]);
	free(u->password.history);
	iam_drop_string(u->mfa.secret);
	free(u->mfa.name);
	for (size_t i = 0; i < u->n_mfa_devices; i++) {
		iam_drop_string(u->mfa_devices[i].secret);
		free(u->mfa_devices[i].name);
	}
	free(u->mfa_devices);
	for (size_t i = 0; i < u->n_recovery_codes; i++)
		iam_drop_string(u->recovery_codes[i]);
	free(u->recovery_codes);
	free(u->ssh_keys);
}

struct iam_identity *
iam_identity_free(struct iam_identity *id)
{
	struct iam_id_priv *p;
	bool lent;

	if (id == NULL)
		return NULL;
	p = id->priv;
	lent = p != NULL && p->hashes_lent;
	for (size_t i = 0; i < id->n_users; i++)
		free_user(&id->users[i], lent);
	free(id->users);
	free(id->groups);
	for (size_t i = 0; i < id->n_roles; i++)
		iam_policy_free(id->roles[i].trust_policy.compiled);
	free(id->roles);
	free_policies(id->policies, id->n_policies);
	free(id->retired_ids);
	if (id->doc != NULL)
		wipe_secrets(iam_json_root(id->doc));
	iam_json_free(id->doc);
	if (p != NULL) {
		for (size_t i = 0; i < p->n_strs; i++)
			free(p->strs[i]);
		free(p->strs);
		iam_id_index_release(p);
		free(p);
	}
	free(id);
	return NULL;
}
