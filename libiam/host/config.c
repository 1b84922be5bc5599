/*
 * config.c - iam.conf(5): defaults, then the file (libconfig).
 *
 * Any fault in the file rejects the whole file: an unknown setting, a
 * wrong type, a value out of range, a syntax error.  The message names
 * the file and the line, so the administrator can fix it at once.
 *
 * About 600 lines: one loader, its defaults and one check per setting.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "util_int.h"
#include "iam.h"

#define CONFIG_MAX_BYTES (256u << 10)

static const char *const defaults_exempt[] = { "cron" };

/* How a setting of the settings table is read into its field. */
enum setting_kind {
	SETTING_PATH,		/* an absolute path (char *) */
	SETTING_TEXT,		/* any string (char *) */
	SETTING_BOOL,		/* bool */
	SETTING_ID,		/* a uid or gid, 1000-4294967294 (uint32_t) */
	SETTING_BYTES,		/* a size, [min, max] (size_t) */
	SETTING_COUNT,		/* a count, [min, max] (uint32_t) */
	SETTING_ENUM,		/* one of names, its index (an enum) */
	SETTING_OPTIONAL,	/* an absolute path, or "" for none (char *) */
};

static const char *const mfa_names[] = { "optional", "required" };
static const char *const hash_names[] = { "yescrypt", "sha512crypt", "bcrypt" };
static const char *const unknown_names[] = { "defer", "deny" };

/* A setting of the table: its name is the field's. */
#define SETTING(f, k, ...)	{ .name = #f, .kind = SETTING_##k, \
				  .off = offsetof(struct iam_config, f), __VA_ARGS__ }
static const struct setting {
	const char *name;
	enum setting_kind kind;
	size_t off;
	long long min, max;		/* SETTING_BYTES, SETTING_COUNT */
	const char *const *names;	/* SETTING_ENUM */
	int n_names;
} settings[] = {
	SETTING(identity_file, PATH), SETTING(credentials_dir, PATH),
	SETTING(state_dir, PATH), SETTING(run_dir, PATH),
	SETTING(trail_file, PATH), SETTING(snapshot_dir, PATH),
	SETTING(hostname, TEXT),
	SETTING(trail_required, BOOL), SETTING(uniform_prompts, BOOL),
	SETTING(uid_min, ID), SETTING(uid_max, ID),
	SETTING(gid_min, ID), SETTING(gid_max, ID),
	SETTING(identity_max_bytes, BYTES, .min = IAM_ID_MIN_BYTES,
		.max = IAM_ID_LIMIT_BYTES),
	SETTING(identity_max_users, COUNT, .min = 1, .max = IAM_ID_LIMIT_ENTRIES),
	SETTING(identity_max_groups, COUNT, .min = 1, .max = IAM_ID_LIMIT_ENTRIES),
	SETTING(rehash_max_users, COUNT, .min = 0, .max = IAM_ID_LIMIT_ENTRIES),
	SETTING(mfa, ENUM, .names = mfa_names, .n_names = 2),
	SETTING(hash_method, ENUM, .names = hash_names, .n_names = 3),
	SETTING(sudo_unknown_user, ENUM, .names = unknown_names, .n_names = 2),
};
#undef SETTING

/* The string settings of fleet = { ... }; each name is its field's. */
#define FLEET_STRING(f, k)	{ #f, SETTING_##k, \
				  offsetof(struct iam_fleet_config, f) }
static const struct fleet_string {
	const char *name;
	enum setting_kind kind;	/* SETTING_OPTIONAL: "" turns the file off */
	size_t off;
} fleet_strings[] = {
	FLEET_STRING(prefix, TEXT), FLEET_STRING(account, TEXT),
	FLEET_STRING(user, TEXT), FLEET_STRING(admin_key, PATH),
	FLEET_STRING(trusted_keys, PATH), FLEET_STRING(host_key, PATH),
	FLEET_STRING(fleet_key, PATH), FLEET_STRING(state_dir, PATH),
	FLEET_STRING(ca_file, OPTIONAL), FLEET_STRING(cert_file, OPTIONAL),
	FLEET_STRING(key_file, OPTIONAL), FLEET_STRING(password_file, OPTIONAL),
};
#undef FLEET_STRING

/* Whether a string setting of kind with value v must be an absolute path. */
static bool
wants_path(enum setting_kind kind, const char *v)
{
	return kind == SETTING_PATH ||
	       (kind == SETTING_OPTIONAL && !(v != NULL && v[0] == '\0'));
}

/* The char * field at off in the structure at base. */
static char **
string_at(void *base, size_t off)
{
	return (char **)((char *)base + off);
}

/* The enum fields are stored as the int set_enum() gives. */
_Static_assert(sizeof(enum iam_mfa_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum iam_hash_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum iam_unknown_user) == sizeof(int), "enum size");

static char *
xstrdup(const char *s, int *r)
{
	char *p = strdup(s);

	if (p == NULL)
		*r = -ENOMEM;
	return p;
}

static void
fleet_defaults(struct iam_fleet_config *f, int *r)
{
	f->prefix = xstrdup("/iam/", r);
	f->account = xstrdup("", r);
	f->ca_file = xstrdup("", r);
	f->cert_file = xstrdup("", r);
	f->key_file = xstrdup("", r);
	f->user = xstrdup("", r);
	f->password_file = xstrdup("", r);
	f->admin_key = xstrdup(IAM_SYSCONFDIR "/iam/admin.key", r);
	f->trusted_keys = xstrdup(IAM_SYSCONFDIR "/iam/trusted-keys", r);
	f->host_key = xstrdup(IAM_SYSCONFDIR "/iam/host.key", r);
	f->fleet_key = xstrdup(IAM_SYSCONFDIR "/iam/fleet.key", r);
	f->state_dir = xstrdup("/var/lib/iam/fleet", r);
}

static void
fleet_free(struct iam_fleet_config *f)
{
	iam_strv_free(f->endpoints, f->n_endpoints);
	for (size_t i = 0; i < sizeof(fleet_strings) / sizeof(fleet_strings[0]); i++)
		free(*string_at(f, fleet_strings[i].off));
}

struct iam_config *
iam_config_free(struct iam_config *c)
{
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (settings[i].kind == SETTING_PATH ||
		    settings[i].kind == SETTING_TEXT)
			free(*string_at(c, settings[i].off));
	for (size_t i = 0; i < c->n_host_tags; i++) {
		free(c->host_tags[i].key);
		free(c->host_tags[i].value);
	}
	free(c->host_tags);
	iam_strv_free(c->mfa_exempt_services, c->n_mfa_exempt);
	fleet_free(&c->fleet);
	free(c->path);
	free(c);
	return NULL;
}

int
iam_config_defaults(struct iam_config **ret_cfg)
{
	struct iam_config *c = calloc(1, sizeof(*c));
	int r = 0;

	if (c == NULL)
		return -ENOMEM;
	c->identity_file = xstrdup(IAM_SYSCONFDIR "/iam/identity.json", &r);
	c->credentials_dir = xstrdup("/var/lib/iam/credentials", &r);
	c->state_dir = xstrdup("/var/lib/iam/state", &r);
	c->run_dir = xstrdup("/run/iam", &r);
	c->trail_file = xstrdup("/var/log/iam/trail.jsonl", &r);
	c->snapshot_dir = xstrdup(IAM_SNAPSHOT_DIR, &r);
	c->hostname = xstrdup("", &r);
	c->trail_required = true;
	c->uid_min = c->gid_min = 70000;
	c->uid_max = c->gid_max = 99999;
	c->mfa = IAM_MFA_OPTIONAL;
	c->mfa_exempt_services = calloc(1, sizeof(char *));
	if (c->mfa_exempt_services == NULL)
		r = -ENOMEM;
	else if ((c->mfa_exempt_services[0] = xstrdup(defaults_exempt[0], &r)))
		c->n_mfa_exempt = 1;
	c->totp_window = 1;
	c->hash_method = IAM_HASH_YESCRYPT;
	c->uniform_prompts = true;
	c->sudo_unknown_user = IAM_UNKNOWN_DEFER;
	c->log_level = LOG_NOTICE;
	c->identity_max_bytes = IAM_ID_MAX_BYTES;
	c->identity_max_users = IAM_ID_MAX_USERS;
	c->rehash_max_users = IAM_REHASH_MAX_USERS;
	c->identity_max_groups = IAM_ID_MAX_GROUPS;
	fleet_defaults(&c->fleet, &r);
	if (r < 0) {
		iam_config_free(c);
		return r;
	}
	*ret_cfg = c;
	return 0;
}

int
iam_hash_method_parse(const char *s, enum iam_hash_method *ret)
{
	if (strcmp(s, "yescrypt") == 0)
		*ret = IAM_HASH_YESCRYPT;
	else if (strcmp(s, "sha512crypt") == 0)
		*ret = IAM_HASH_SHA512CRYPT;
	else if (strcmp(s, "bcrypt") == 0)
		*ret = IAM_HASH_BCRYPT;
	else
		return -EINVAL;
	return 0;
}

static const struct {
	const char *name;
	int prio;
} levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

/* One loader context: the file's name for messages, the first fault. */
struct loader {
	const char *path;
	char *err;
	size_t errlen;
	int r;
};

static int __attribute__((format(printf, 3, 4)))
bad(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (l->r < 0)
		return l->r;	/* keep the first fault */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s:%d: %s", l->path,
		 s ? config_setting_source_line(s) : 0, msg);
	l->r = -EINVAL;
	return l->r;
}

static int
set_string(struct loader *l, const config_setting_t *s, char **dst, bool path)
{
	const char *v = config_setting_get_string(s);
	char *p;

	if (config_setting_type(s) != CONFIG_TYPE_STRING || v == NULL)
		return bad(l, s, "%s: must be a string", config_setting_name(s));
	if (path && v[0] != '/')
		return bad(l, s, "%s: \"%s\" is not an absolute path",
			   config_setting_name(s), v);
	if (path && strstr(v, "/../") != NULL)
		return bad(l, s, "%s: \"%s\" contains \"..\"",
			   config_setting_name(s), v);
	p = strdup(v);
	if (p == NULL)
		return l->r = -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

static int
set_id(struct loader *l, const config_setting_t *s, uint32_t *dst)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return bad(l, s, "%s: must be an integer", config_setting_name(s));
	v = config_setting_get_int64(s);
	if (v < 1000 || v > 4294967294LL)
		return bad(l, s, "%s: %lld is outside 1000-4294967294",
			   config_setting_name(s), v);
	*dst = (uint32_t)v;
	return 0;
}

/* A count or size within [min, max]. */
static int
set_limit(struct loader *l, const config_setting_t *s, long long min,
	  long long max, long long *dst)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return bad(l, s, "%s: must be an integer", config_setting_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return bad(l, s, "%s: %lld is outside %lld-%lld",
			   config_setting_name(s), v, min, max);
	*dst = v;
	return 0;
}

static int
set_enum(struct loader *l, const config_setting_t *s, const char *const *names,
	 int n, int *dst)
{
	const char *v = config_setting_get_string(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING || v == NULL)
		return bad(l, s, "%s: must be a string", config_setting_name(s));
	for (int i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*dst = i;
			return 0;
		}
	}
	return bad(l, s, "%s: unknown value \"%s\"", config_setting_name(s), v);
}

static int
set_host_tags(struct loader *l, const config_setting_t *s, struct iam_config *c)
{
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return bad(l, s, "host_tags: must be a group { KEY = \"VALUE\"; }");
	c->host_tags = calloc(n ? (size_t)n : 1, sizeof(*c->host_tags));
	if (c->host_tags == NULL)
		return l->r = -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(t);

		if (config_setting_type(t) != CONFIG_TYPE_STRING || v == NULL)
			return bad(l, t, "host_tags.%s: must be a string",
				   config_setting_name(t));
		c->host_tags[i].key = strdup(config_setting_name(t));
		c->host_tags[i].value = strdup(v);
		c->n_host_tags++;
		if (c->host_tags[i].key == NULL || c->host_tags[i].value == NULL)
			return l->r = -ENOMEM;
	}
	return 0;
}

/* A libconfig array or list (of any length). */
static bool
is_list(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	       config_setting_type(s) == CONFIG_TYPE_LIST;
}

/*
 * The strings of list s into *v (*n of them), replacing the list there;
 * an element that is not a string, or that ok() refuses, is "name[i]:
 * why".
 */
static int
set_strings(struct loader *l, const config_setting_t *s, const char *name,
	    bool (*ok)(const char *), const char *why, char ***v, size_t *n)
{
	int len = config_setting_length(s);

	iam_strv_free(*v, *n);
	*n = 0;
	*v = calloc(len ? (size_t)len : 1, sizeof(char *));
	if (*v == NULL)
		return l->r = -ENOMEM;
	for (int i = 0; i < len; i++) {
		const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
		const char *str = config_setting_get_string(t);

		if (str == NULL || (ok != NULL && !ok(str)))
			return bad(l, t, "%s[%d]: %s", name, i, why);
		if (((*v)[i] = strdup(str)) == NULL)
			return l->r = -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int
set_exempt(struct loader *l, const config_setting_t *s, struct iam_config *c)
{
	if (!is_list(s))
		return bad(l, s, "mfa_exempt_services: must be a list of strings");
	return set_strings(l, s, "mfa_exempt_services", NULL, "must be a string",
			   &c->mfa_exempt_services, &c->n_mfa_exempt);
}

static int
set_bool(struct loader *l, const config_setting_t *s, bool *dst)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return bad(l, s, "%s: must be true or false", config_setting_name(s));
	*dst = config_setting_get_bool(s) != 0;
	return 0;
}

/* An etcd client URL: http:// or https://, at most 256 bytes, no blanks. */
static bool
endpoint_valid(const char *v)
{
	return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) &&
	       strlen(v) <= 256 && strpbrk(v, " \t\r\n") == NULL;
}

static int
set_endpoints(struct loader *l, const config_setting_t *s,
	      struct iam_fleet_config *f)
{
	if (!is_list(s) || config_setting_length(s) > 64)
		return bad(l, s, "fleet.endpoints: must be a list of at most 64 URLs");
	return set_strings(l, s, "fleet.endpoints", endpoint_valid,
			   "must be an http:// or https:// URL",
			   &f->endpoints, &f->n_endpoints);
}

/* fleet = { ... }: every member known, paths absolute (or "" for none). */
static int
set_fleet(struct loader *l, const config_setting_t *s, struct iam_fleet_config *f)
{
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return bad(l, s, "fleet: must be a group { endpoints = [ ... ]; ... }");
	for (int i = 0; i < n && l->r == 0; i++) {
		const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(t);
		const char *v = config_setting_get_string(t);
		const struct fleet_string *fs = NULL;

		if (strcmp(name, "endpoints") == 0) {
			set_endpoints(l, t, f);
			continue;
		}
		if (strcmp(name, "prefix") == 0 &&
		    (v == NULL || v[0] != '/' || v[strlen(v) - 1] != '/' ||
		     strlen(v) > 128))
			return bad(l, t, "fleet.prefix: must be a string "
				   "that starts and ends with /");
		for (size_t k = 0; k < sizeof(fleet_strings) / sizeof(fleet_strings[0]); k++)
			if (strcmp(name, fleet_strings[k].name) == 0)
				fs = &fleet_strings[k];
		if (fs == NULL)
			return bad(l, t, "fleet: unknown setting \"%s\"", name);
		set_string(l, t, string_at(f, fs->off), wants_path(fs->kind, v));
	}
	if (l->r == 0 && f->account[0] != '\0' &&
	    (strlen(f->account) != 12 ||
	     strspn(f->account, "0123456789") != 12))
		return bad(l, s, "fleet.account: must be 12 digits");
	return l->r;
}

static int
apply_table_setting(struct loader *l, const config_setting_t *s,
		    const struct setting *t, struct iam_config *c)
{
	void *dst = (char *)c + t->off;
	long long n;
	int v = 0;

	switch (t->kind) {
	case SETTING_PATH:
	case SETTING_TEXT:
	case SETTING_OPTIONAL:
		return set_string(l, s, dst,
				  wants_path(t->kind, config_setting_get_string(s)));
	case SETTING_BOOL:
		return set_bool(l, s, dst);
	case SETTING_ID:
		return set_id(l, s, dst);
	case SETTING_BYTES:
		if (set_limit(l, s, t->min, t->max, &n) == 0)
			*(size_t *)dst = (size_t)n;
		break;
	case SETTING_COUNT:
		if (set_limit(l, s, t->min, t->max, &n) == 0)
			*(uint32_t *)dst = (uint32_t)n;
		break;
	case SETTING_ENUM:
		if (set_enum(l, s, t->names, t->n_names, &v) == 0)
			memcpy(dst, &v, sizeof(v));
		break;
	}
	return l->r;
}

static int
apply_setting(struct loader *l, const config_setting_t *s,
	      struct iam_config *c)
{
	const char *name = config_setting_name(s);
	int v = 0;

	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(name, settings[i].name) == 0)
			return apply_table_setting(l, s, &settings[i], c);
	if (strcmp(name, "host_tags") == 0)
		return set_host_tags(l, s, c);
	if (strcmp(name, "fleet") == 0)
		return set_fleet(l, s, &c->fleet);
	if (strcmp(name, "mfa_exempt_services") == 0)
		return set_exempt(l, s, c);
	if (strcmp(name, "totp_window") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_INT)
			return bad(l, s, "totp_window: must be an integer");
		v = config_setting_get_int(s);
		if (v < 0 || v > 10)
			return bad(l, s, "totp_window: %d is outside 0-10", v);
		c->totp_window = v;
		return 0;
	}
	if (strcmp(name, "log_level") == 0) {
		const char *names[sizeof(levels) / sizeof(levels[0])];

		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			names[i] = levels[i].name;
		if (set_enum(l, s, names, 8, &v) == 0)
			c->log_level = levels[v].prio;
		return l->r;
	}
	return bad(l, s, "unknown setting \"%s\"", name);
}

static int
check_ranges(struct loader *l, const config_t *cf, const struct iam_config *c)
{
	const config_setting_t *root = config_root_setting(cf);

	if (c->uid_min > c->uid_max)
		return bad(l, config_setting_get_member(root, "uid_min"),
			   "uid_min %u is above uid_max %u", c->uid_min, c->uid_max);
	if (c->gid_min > c->gid_max)
		return bad(l, config_setting_get_member(root, "gid_min"),
			   "gid_min %u is above gid_max %u", c->gid_min, c->gid_max);
	return 0;
}

static int
parse_text(struct loader *l, const char *text, struct iam_config *c)
{
	config_setting_t *root;
	config_t cf;
	int n;

	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		snprintf(l->err, l->errlen, "%s:%d: %s", l->path,
			 config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	root = config_root_setting(&cf);
	n = config_setting_length(root);
	for (int i = 0; i < n && l->r == 0; i++)
		apply_setting(l, config_setting_get_elem(root, (unsigned)i), c);
	if (l->r == 0)
		check_ranges(l, &cf, c);
	config_destroy(&cf);
	return l->r;
}

/*
 * libconfig would read an @include'd file without our checks on owner
 * and mode; a settings file may not pull in others.
 */
static bool
forbids_include(struct loader *l, const char *text)
{
	int line = 1;

	for (const char *p = text; *p != '\0'; p++) {
		const char *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, "@include", 8) == 0) {
			snprintf(l->err, l->errlen,
				 "%s:%d: @include is not allowed", l->path, line);
			return true;
		}
		p = strchr(q, '\n');
		if (p == NULL)
			break;
		line++;
	}
	return false;
}

int
iam_config_load(const char *path, bool must_exist, struct iam_config **ret_cfg,
		char *err, size_t errlen)
{
	struct iam_buf text = IAM_BUF_INIT;
	struct iam_config *c = NULL;
	struct loader l = { .path = path, .err = err, .errlen = errlen };
	int r;

	r = iam_config_defaults(&c);
	if (r < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return r;
	}
	r = iam_read_strict(path, 0, CONFIG_MAX_BYTES, &text, err, errlen);
	if (r == -ENOENT && !must_exist) {
		*ret_cfg = c;
		return 0;
	}
	if (r < 0)
		goto out;
	if (forbids_include(&l, text.buf)) {
		r = -EINVAL;
		goto out;
	}
	if (strlen(text.buf) != text.len) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		r = -EINVAL;
		goto out;
	}
	r = parse_text(&l, text.buf, c);
	if (r < 0)
		goto out;
	c->path = strdup(path);
	if (c->path == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret_cfg = c;
	c = NULL;
out:
	iam_buf_release(&text);
	iam_config_free(c);
	return r;
}

bool
iam_config_mfa_exempt(const struct iam_config *cfg, const char *service)
{
	for (size_t i = 0; service != NULL && i < cfg->n_mfa_exempt; i++)
		if (strcmp(cfg->mfa_exempt_services[i], service) == 0)
			return true;
	return false;
}

int
iam_config_hostname(const struct iam_config *cfg, char *buf, size_t len)
{
	char host[256];

	if (cfg->hostname != NULL && cfg->hostname[0] != '\0')
		return iam_snprintf(buf, len, "%s", cfg->hostname);
	if (gethostname(host, sizeof(host)) < 0)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	return iam_snprintf(buf, len, "%s", host);
}
