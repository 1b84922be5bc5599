/*
 * hostids.c - which ids iamctl may hand out: not used by IAM, not
 * retired, not a local account or group, not inside a subordinate id
 * range.  The host's files are read directly, never through NSS, so an
 * answer of nss_iam itself can never hide a local entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define HOST_MAX_LINES 1000000

struct id_range {
	uint64_t start, count;
};

static const char *const files[4] = {
	"/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid" };

/* "name:x:id:..." (passwd, group) or "owner:start:count" (sub*id). */
static int
parse_line(char *line, bool sub, struct id_range *ret)
{
	char *f[4] = { NULL };
	long long a, b = 1;
	size_t k = 0;

	if (line[0] == '\0' || line[0] == '#' || line[0] == '+' ||
	    line[0] == '-')
		return -EINVAL;
	for (char *s = line; k < 4 && s != NULL; k++) {
		f[k] = s;
		s = strchr(s, ':');
		if (s != NULL)
			*s++ = '\0';
	}
	if (k < 3)
		return -EINVAL;
	if (sub ? iam_parse_ll(f[1], 0, UINT32_MAX, &a) < 0 ||
		  iam_parse_ll(f[2], 1, UINT32_MAX, &b) < 0
		: iam_parse_ll(f[2], 0, UINT32_MAX, &a) < 0)
		return -EINVAL;
	ret->start = (uint64_t)a;
	ret->count = (uint64_t)b;
	return 0;
}

static int
load_file(struct host_ids *h, int k)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	FILE *fp;
	int r = 0;

	fp = fopen(files[k], "re");
	if (fp == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		struct id_range e;

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (parse_line(line, k >= 2, &e) < 0)
			continue;
		if (h->n[k] == alloc) {
			struct id_range *v;

			alloc = alloc ? alloc * 2 : 64;
			v = h->n[k] >= HOST_MAX_LINES ? NULL :
			    reallocarray(h->r[k], alloc, sizeof(*v));
			if (v == NULL) {
				r = -ENOMEM;
				break;
			}
			h->r[k] = v;
		}
		h->r[k][h->n[k]++] = e;
	}
	if (r == 0 && ferror(fp))
		r = -EIO;
	fclose(fp);
	free(line);
	return r;
}

int
host_ids_load(struct host_ids *h)
{
	int r = 0;

	memset(h, 0, sizeof(*h));
	for (int k = 0; k < 4 && r == 0; k++)
		r = load_file(h, k);
	if (r < 0)
		host_ids_release(h);
	return r;
}

void
host_ids_release(struct host_ids *h)
{
	for (int k = 0; k < 4; k++) {
		free(h->r[k]);
		h->r[k] = NULL;
		h->n[k] = 0;
	}
}

static bool
in_file(const struct host_ids *h, int k, uint32_t n)
{
	for (size_t i = 0; i < h->n[k]; i++)
		if (n >= h->r[k][i].start &&
		    n - h->r[k][i].start < h->r[k][i].count)
			return true;
	return false;
}

/* retired_ids is kept sorted by the loader. */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

const char *
id_taken(const struct iam_identity *id, const struct host_ids *h, uint32_t n,
	 bool as_gid, char *buf, size_t len)
{
	const char *why = NULL;

	if (!as_gid && iam_identity_user_by_uid(id, n) != NULL)
		why = "is the uid of an IAM user";
	else if (as_gid && iam_identity_group_by_gid(id, n) != NULL)
		why = "is the gid of an IAM group";
	else if (id->n_retired > 0 &&
		 bsearch(&n, id->retired_ids, id->n_retired, sizeof(uint32_t),
			 cmp_u32) != NULL)
		why = "is retired (retired_ids)";
	if (why == NULL && in_file(h, as_gid ? 1 : 0, n))
		why = as_gid ? "belongs to a local group in /etc/group" :
			       "belongs to a local account in /etc/passwd";
	if (why == NULL && in_file(h, as_gid ? 3 : 2, n))
		why = as_gid ? "lies in a subordinate id range of /etc/subgid" :
			       "lies in a subordinate id range of /etc/subuid";
	if (why == NULL)
		return NULL;
	snprintf(buf, len, "%s %u %s", as_gid ? "gid" : "uid", n, why);
	return buf;
}

int
id_pick(const struct iam_identity *id, const struct host_ids *h, uint32_t min,
	uint32_t max, bool want_uid, bool want_gid, uint32_t *ret)
{
	char why[128];

	for (uint64_t n = min; n <= max; n++) {
		if (want_uid && id_taken(id, h, (uint32_t)n, false, why,
					 sizeof(why)) != NULL)
			continue;
		if (want_gid && id_taken(id, h, (uint32_t)n, true, why,
					 sizeof(why)) != NULL)
			continue;
		*ret = (uint32_t)n;
		return 0;
	}
	return -ENOSPC;
}
