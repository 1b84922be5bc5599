/*
 * mknssdb.c - write an nss.db with iam_nssdb_build(), for the NSS
 * integration test and benchmark (the publisher proper is `iamctl sync`).
 *
 *   mknssdb [-g GEN] -o NSSDB -s SPEC
 *	SPEC lines:  user:NAME:UID:GID:GECOS:HOME:SHELL:GROUP,GROUP,...
 *		     group:NAME:GID
 *   mknssdb [-g GEN] -o NSSDB -n USERS [-G GROUPS] [-p PASSWD] [-r GROUP]
 *	USERS synthetic users iu000000.. (uid 200000..), each in 3 to 5 of
 *	GROUPS (default 1000) groups ig0000.. (gid 300000..); -p and -r also
 *	write the same users and groups in passwd(5) and group(5) lines,
 *	for comparing with nss_files.
 *
 * The snapshot is written like the publisher does: a temporary file in
 * the same folder, mode 0644, fsync, rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam/snapshot.h"

static void
die(const char *what)
{
	fprintf(stderr, "mknssdb: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die("calloc");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die("strdup");
	return p;
}

static void
write_atomic(const char *path, const void *p, size_t len)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	if ((fd = mkstemp(tmp)) < 0)
		die(tmp);
	if (write(fd, p, len) != (ssize_t)len || fchmod(fd, 0644) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		die(path);
	}
}

/* Split s at sep in place into at most max fields; returns the count. */
static size_t
split(char *s, char sep, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = s;
	for (; *s != '\0' && n < max; s++)
		if (*s == sep) {
			*s = '\0';
			f[n++] = s + 1;
		}
	return n;
}

static void
load_spec(const char *path, struct iam_identity *id)
{
	FILE *fp = fopen(path, "re");
	char line[4096], *f[8], *g[64];
	size_t nu = 0, ng = 0, n, k;
	struct iam_user *u;

	if (fp == NULL)
		die(path);
	id->users = xcalloc(1000000, sizeof(*id->users));
	id->groups = xcalloc(10000, sizeof(*id->groups));
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		n = split(xstrdup(line), ':', f, 8);
		if (n == 3 && strcmp(f[0], "group") == 0 && ng < 10000) {
			id->groups[ng].name = f[1];
			id->groups[ng++].gid = (uint32_t)strtoul(f[2], NULL, 10);
		} else if (n == 8 && strcmp(f[0], "user") == 0 && nu < 1000000) {
			u = &id->users[nu++];
			u->name = f[1];
			u->uid = (uint32_t)strtoul(f[2], NULL, 10);
			u->gid = (uint32_t)strtoul(f[3], NULL, 10);
			u->gecos = f[4];
			u->home = f[5];
			u->shell = f[6];
			k = f[7][0] ? split(f[7], ',', g, 64) : 0;
			u->groups = xcalloc(k, sizeof(char *));
			memcpy(u->groups, g, k * sizeof(char *));
			u->n_groups = k;
		} else {
			fprintf(stderr, "mknssdb: %s: bad line: %s\n", path, line);
			exit(1);
		}
	}
	fclose(fp);
	id->n_users = nu;
	id->n_groups = ng;
}

static void
synthetic(struct iam_identity *id, size_t nu, size_t ng, const char *pw_path,
	  const char *gr_path)
{
	FILE *pw = NULL, *gr = NULL;
	char name[32];
	size_t i, j, k, n;
	unsigned seed = 1;
	uint32_t pick[5];

	id->users = xcalloc(nu, sizeof(*id->users));
	id->groups = xcalloc(ng, sizeof(*id->groups));
	for (j = 0; j < ng; j++) {
		snprintf(name, sizeof(name), "ig%04zu", j);
		id->groups[j].name = xstrdup(name);
		id->groups[j].gid = 300000 + (uint32_t)j;
	}
	for (i = 0; i < nu; i++) {
		struct iam_user *u = &id->users[i];

		snprintf(name, sizeof(name), "iu%06zu", i);
		u->name = xstrdup(name);
		u->uid = 200000 + (uint32_t)i;
		u->gecos = "IAM user";
		snprintf(name, sizeof(name), "/home/iu%06zu", i);
		u->home = xstrdup(name);
		u->shell = "/bin/bash";
		n = 3 + (size_t)rand_r(&seed) % 3;
		if (n > ng)
			n = ng;
		for (k = 0; k < n;) {
			uint32_t g = (uint32_t)((size_t)rand_r(&seed) % ng);

			for (j = 0; j < k && pick[j] != g; j++)
				;
			if (j == k)	/* not drawn yet */
				pick[k++] = g;
		}
		u->groups = xcalloc(n, sizeof(char *));
		for (k = 0; k < n; k++)
			u->groups[k] = id->groups[pick[k]].name;
		u->n_groups = n;
		u->gid = id->groups[pick[0]].gid;
	}
	id->n_users = nu;
	id->n_groups = ng;
	if (pw_path != NULL && (pw = fopen(pw_path, "we")) == NULL)
		die(pw_path);
	if (gr_path != NULL && (gr = fopen(gr_path, "we")) == NULL)
		die(gr_path);
	for (i = 0; pw != NULL && i < nu; i++) {
		const struct iam_user *u = &id->users[i];

		fprintf(pw, "%s:x:%u:%u:%s:%s:%s\n", u->name, u->uid, u->gid,
			u->gecos, u->home, u->shell);
	}
	if (gr != NULL) {
		struct iam_buf *mem = xcalloc(ng, sizeof(*mem));

		for (i = 0; i < nu; i++)
			for (k = 0; k < id->users[i].n_groups; k++) {
				/* synthetic group names are ig<index> */
				j = strtoul(id->users[i].groups[k] + 2, NULL, 10);
				if ((mem[j].len && iam_buf_adds(&mem[j], ",") < 0) ||
				    iam_buf_adds(&mem[j], id->users[i].name) < 0)
					die("memory");
			}
		for (j = 0; j < ng; j++) {
			fprintf(gr, "%s:x:%u:%s\n", id->groups[j].name,
				id->groups[j].gid, mem[j].len ? mem[j].buf : "");
			iam_buf_release(&mem[j]);
		}
		free(mem);
	}
	if ((pw != NULL && fclose(pw) != 0) || (gr != NULL && fclose(gr) != 0))
		die("write");
}

int
main(int argc, char **argv)
{
	struct iam_identity id;
	struct iam_buf out = IAM_BUF_INIT;
	const char *o = NULL, *spec = NULL, *pw = NULL, *gr = NULL;
	unsigned long long gen = 1;
	size_t nu = 0, ng = 1000;
	int c, r;

	while ((c = getopt(argc, argv, "g:o:s:n:G:p:r:")) != -1) {
		switch (c) {
		case 'g': gen = strtoull(optarg, NULL, 10); break;
		case 'o': o = optarg; break;
		case 's': spec = optarg; break;
		case 'n': nu = strtoul(optarg, NULL, 10); break;
		case 'G': ng = strtoul(optarg, NULL, 10); break;
		case 'p': pw = optarg; break;
		case 'r': gr = optarg; break;
		default:
			fprintf(stderr, "usage: mknssdb [-g GEN] -o NSSDB "
				"(-s SPEC | -n USERS [-G GROUPS] [-p PASSWD] [-r GROUP])\n");
			return 2;
		}
	}
	if (o == NULL || (spec == NULL) == (nu == 0) || ng == 0) {
		fprintf(stderr, "mknssdb: need -o and one of -s, -n\n");
		return 2;
	}
	memset(&id, 0, sizeof(id));
	if (spec != NULL)
		load_spec(spec, &id);
	else
		synthetic(&id, nu, ng, pw, gr);
	r = iam_nssdb_build(&id, gen, &out);
	if (r < 0) {
		fprintf(stderr, "mknssdb: build: %s\n", strerror(-r));
		return 1;
	}
	write_atomic(o, out.buf, out.len);
	iam_buf_release(&out);
	return 0;
}
