/*
 * jsonout.c - the JSON writer of --json (jsonout.h): yajl_gen, written
 * to standard output in pieces of at most FLUSH_AT bytes, so a report
 * of many users never holds the whole document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "iamctl.h"
#include "jsonout.h"

#define FLUSH_AT	(64u << 10)

static void
gen_status(struct jout *j, yajl_gen_status s)
{
	if (j->err == 0 && s != yajl_gen_status_ok)
		j->err = s == yajl_gen_invalid_string ? -EILSEQ : -ENOMEM;
}

/* Hand what was generated to stdout once it is big enough (or at_end). */
static void
flush(struct jout *j, bool at_end)
{
	const unsigned char *buf;
	size_t len;

	if (j->g == NULL || j->err != 0 ||
	    yajl_gen_get_buf(j->g, &buf, &len) != yajl_gen_status_ok)
		return;
	if (!at_end && len < FLUSH_AT)
		return;
	if (len > 0 && fwrite(buf, 1, len, stdout) != len)
		j->err = -EIO;
	yajl_gen_clear(j->g);
}

int
jout_begin(struct jout *j)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	j->g = g;
	j->err = 0;
	if (g == NULL || !yajl_gen_config(g, yajl_gen_beautify, 1) ||
	    !yajl_gen_config(g, yajl_gen_indent_string, "  ") ||
	    !yajl_gen_config(g, yajl_gen_validate_utf8, 1))
		j->err = -ENOMEM;
	return j->err;
}

int
jout_end(struct jout *j)
{
	int err;

	flush(j, true);
	if (j->err == 0 && (putchar('\n') == EOF || fflush(stdout) != 0))
		j->err = -EIO;
	if (j->g != NULL)
		yajl_gen_free(j->g);
	j->g = NULL;
	err = j->err;
	if (err == -EIO) {
		iamctl_err("standard output: %s", strerror(EIO));
		return EXIT_USAGE;
	}
	if (err < 0) {
		iamctl_err("cannot make the JSON output: %s", strerror(-err));
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* One yajl_gen step of no value, unless an error came before. */
static void
step(struct jout *j, yajl_gen_status (*op)(yajl_gen))
{
	if (j->err == 0)
		gen_status(j, op(j->g));
}

void
jout_map(struct jout *j)
{
	step(j, yajl_gen_map_open);
}

void
jout_map_end(struct jout *j)
{
	step(j, yajl_gen_map_close);
	flush(j, false);
}

void
jout_array(struct jout *j)
{
	step(j, yajl_gen_array_open);
}

void
jout_array_end(struct jout *j)
{
	step(j, yajl_gen_array_close);
}

void
jout_str(struct jout *j, const char *s)
{
	yajl_gen_status st;
	char *copy;
	size_t n;

	if (j->err != 0)
		return;
	if (s == NULL) {
		jout_null(j);
		return;
	}
	n = strlen(s);
	st = yajl_gen_string(j->g, (const unsigned char *)s, n);
	if (st != yajl_gen_invalid_string) {
		gen_status(j, st);
		return;
	}
	/* Not UTF-8: every byte outside ASCII becomes '?'. */
	copy = strdup(s);
	if (copy == NULL) {
		j->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	gen_status(j, yajl_gen_string(j->g, (const unsigned char *)copy, n));
	free(copy);
}

void
jout_key(struct jout *j, const char *key)
{
	jout_str(j, key);
}

void
jout_bool(struct jout *j, bool v)
{
	if (j->err == 0)
		gen_status(j, yajl_gen_bool(j->g, v));
}

void
jout_int(struct jout *j, long long v)
{
	if (j->err == 0)
		gen_status(j, yajl_gen_integer(j->g, v));
}

void
jout_null(struct jout *j)
{
	step(j, yajl_gen_null);
}

void
jout_time(struct jout *j, int64_t t)
{
	char buf[32];

	if (t <= 0 || iam_format_time(t, buf, sizeof(buf)) < 0)
		jout_null(j);
	else
		jout_str(j, buf);
}

void
jout_strs(struct jout *j, const char *const *v, size_t n)
{
	jout_array(j);
	for (size_t i = 0; i < n; i++)
		jout_str(j, v[i]);
	jout_array_end(j);
}

void
jout_kstr(struct jout *j, const char *key, const char *s)
{
	jout_key(j, key);
	jout_str(j, s);
}

void
jout_kbool(struct jout *j, const char *key, bool v)
{
	jout_key(j, key);
	jout_bool(j, v);
}

void
jout_kint(struct jout *j, const char *key, long long v)
{
	jout_key(j, key);
	jout_int(j, v);
}

void
jout_ktime(struct jout *j, const char *key, int64_t t)
{
	jout_key(j, key);
	jout_time(j, t);
}

void
jout_kstrs(struct jout *j, const char *key, const char *const *v, size_t n)
{
	jout_key(j, key);
	jout_strs(j, v, n);
}
