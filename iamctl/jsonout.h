/*
 * jsonout.h - the one JSON writer of iamctl's --json output.
 *
 * Every listing command prints through it: yajl_gen (every string
 * escaped; bytes that are not UTF-8 become '?'), indented two spaces,
 * written to standard output as it grows.  A failure is kept in the
 * writer and every later call does nothing, so a command builds its
 * document without checking each call and asks jout_end() once.
 */
#ifndef IAMCTL_JSONOUT_H
#define IAMCTL_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jout {
	void *g;	/* the yajl_gen */
	int err;	/* the first failure: 0 or a negative errno */
};

/* Start a document.  -ENOMEM (also kept in j->err). */
int jout_begin(struct jout *j);

/*
 * Write what is left and a newline, and release the generator.  Returns
 * an exit status: EXIT_OK, EXIT_REFUSED when the document could not be
 * made, EXIT_USAGE when standard output could not be written.
 */
int jout_end(struct jout *j);

void jout_map(struct jout *j);
void jout_map_end(struct jout *j);
void jout_array(struct jout *j);
void jout_array_end(struct jout *j);
void jout_key(struct jout *j, const char *key);

/* Values: a NULL string is null; a time t <= 0 is null, else ISO 8601. */
void jout_str(struct jout *j, const char *s);
void jout_bool(struct jout *j, bool v);
void jout_int(struct jout *j, long long v);
void jout_null(struct jout *j);
void jout_time(struct jout *j, int64_t t);
void jout_strs(struct jout *j, const char *const *v, size_t n);

/* "key": value, the same value kinds. */
void jout_kstr(struct jout *j, const char *key, const char *s);
void jout_kbool(struct jout *j, const char *key, bool v);
void jout_kint(struct jout *j, const char *key, long long v);
void jout_ktime(struct jout *j, const char *key, int64_t t);
void jout_kstrs(struct jout *j, const char *key, const char *const *v,
		size_t n);

#endif
