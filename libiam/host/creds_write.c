/*
 * creds_write.c - writing one record of the credentials store (format in
 * creds.c): checked, generated with yajl_gen, replaced atomically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "json_int.h"
#include "iam.h"
#include "iam/creds.h"
#include "creds_int.h"

/* ---- Writing ---------------------------------------------------------- */

struct gen_out {
	struct iam_buf *b;
	bool failed;
};

static void
gen_print(void *ctx, const char *s, size_t len)
{
	struct gen_out *o = ctx;

	if (!o->failed && iam_buf_add(o->b, s, len) < 0)
		o->failed = true;
}

static yajl_gen_status
gen_str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Member k with the string v. */
static void
creds_gen_member(yajl_gen g, const char *k, const char *v)
{
	gen_str(g, k);
	gen_str(g, v);
}

/* Member k with the time t in ISO 8601; left out when t is 0. */
static void
creds_gen_time(yajl_gen g, const char *k, int64_t t)
{
	char when[32];

	if (t != 0 && iam_format_time(t, when, sizeof(when)) == 0)
		creds_gen_member(g, k, when);
}

static yajl_gen_status
gen_password(yajl_gen g, const struct iam_password *p)
{
	if (p->hash == NULL)
		return yajl_gen_null(g);
	yajl_gen_map_open(g);
	creds_gen_member(g, "hash", p->hash);
	creds_gen_time(g, "changed", p->changed);
	gen_str(g, "must_change");
	yajl_gen_bool(g, p->must_change);
	gen_str(g, "history");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->n_history; i++)
		gen_str(g, p->history[i]);
	yajl_gen_array_close(g);
	return yajl_gen_map_close(g);
}

static yajl_gen_status
gen_mfa(yajl_gen g, const struct iam_mfa *m)
{
	if (m->secret == NULL)
		return yajl_gen_null(g);
	yajl_gen_map_open(g);
	if (m->name != NULL)
		creds_gen_member(g, "name", m->name);
	creds_gen_time(g, "enabled", m->enabled);
	creds_gen_member(g, "secret", m->secret);
	creds_gen_member(g, "algorithm", iam_creds_algo_names[m->algorithm]);
	gen_str(g, "digits");
	yajl_gen_integer(g, m->digits);
	gen_str(g, "period");
	yajl_gen_integer(g, m->period);
	return yajl_gen_map_close(g);
}

static int
serialise(const struct iam_creds *c, struct iam_buf *out)
{
	struct gen_out o = { .b = out };
	yajl_gen g;
	yajl_gen_status s;

	/* One allocation up front, so no realloc leaves a copy behind. */
	if (iam_buf_grow(out, CREDS_MAX_BYTES) < 0)
		return -ENOMEM;
	g = yajl_gen_alloc(iam_yajl_wiping());
	if (g == NULL)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_print_callback, gen_print, &o);
	yajl_gen_map_open(g);
	gen_str(g, "uid");
	yajl_gen_integer(g, c->uid);
	if (c->has_password) {
		gen_str(g, "password");
		gen_password(g, &c->password);
	}
	if (c->has_mfa) {
		gen_str(g, "mfa");
		gen_mfa(g, &c->mfa);
	}
	/* Written only when present: older files stay as they were. */
	if (c->n_devices > 0) {
		gen_str(g, "mfa_devices");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < c->n_devices; i++)
			gen_mfa(g, &c->devices[i]);
		yajl_gen_array_close(g);
	}
	if (c->n_recovery > 0) {
		gen_str(g, "recovery_codes");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < c->n_recovery; i++)
			gen_str(g, c->recovery[i]);
		yajl_gen_array_close(g);
	}
	s = yajl_gen_map_close(g);
	yajl_gen_free(g);
	if (s != yajl_gen_status_ok || o.failed)
		return -ENOMEM;
	return iam_buf_adds(out, "\n");
}

int
iam_creds_save(const struct iam_config *cfg, const struct iam_creds *c)
{
	struct iam_faults scratch = IAM_FAULTS_INIT;
	struct iam_buf b = IAM_BUF_INIT;
	char path[PATH_MAX];
	int dfd, r;

	r = c->uid == UINT32_MAX ? -EINVAL : iam_creds_check(c, NULL, &scratch);
	iam_faults_release(&scratch);
	if (r < 0)
		return r;
	r = iam_snprintf(path, sizeof(path), "%s/%u.json", cfg->credentials_dir,
			 c->uid);
	if (r < 0)
		return r;
	dfd = iam_ensure_dir(cfg->credentials_dir, 0700, 0, NULL, 0);
	if (dfd < 0)
		return dfd;
	close(dfd);
	r = serialise(c, &b);
	if (r == 0)
		r = iam_write_atomic(path, b.buf, b.len, 0600);
	iam_buf_wipe(&b);
	return r;
}
