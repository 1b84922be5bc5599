/*
 * generation.c - one generation of a published snapshot, as a handle.
 *
 * current is read once and the folder gen/N it names is opened without
 * following links; every file of one lookup (nss.db, auth/auth.db,
 * auth/roles.db, keys.db) is then named under that folder, so a lookup
 * never straddles a publication that switches current meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iam.h"
#include "iam/generation.h"
#include "util_int.h"

#define CURRENT		"current"
#define GEN_DIR		"gen"
#define MAX_GEN_DIGITS	19

int
iam_generation_parse(const char *s, uint64_t *ret_gen)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return -EBADMSG;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= MAX_GEN_DIGITS)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret_gen = v;
	return 0;
}

/* A folder opened at dfd/name, no link followed, writable by its owner only. */
static int
open_folder_at(int dfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int
iam_generation_open(const char *snapshot_dir, struct iam_generation *g)
{
	char t[64];
	int sfd, gfd, r;
	ssize_t n;

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	r = iam_snprintf(g->base, sizeof(g->base), "%s", snapshot_dir);
	if (r < 0)
		return r;
	sfd = open_folder_at(AT_FDCWD, snapshot_dir);
	if (sfd < 0)
		return sfd;
	n = readlinkat(sfd, CURRENT, t, sizeof(t) - 1);
	if (n < 0 && errno == ENOENT) {
		/* The flat layout of earlier versions. */
		g->fd = sfd;
		return iam_snprintf(g->dir, sizeof(g->dir), "%s", snapshot_dir);
	}
	if (n < 0) {
		r = errno == EINVAL ? -EBADMSG : -errno;
		close(sfd);
		return r;
	}
	t[n] = '\0';
	if (strncmp(t, GEN_DIR "/", sizeof(GEN_DIR)) != 0 ||
	    iam_generation_parse(t + sizeof(GEN_DIR), &g->gen) < 0) {
		close(sfd);
		return -EBADMSG;
	}
	gfd = open_folder_at(sfd, GEN_DIR);
	close(sfd);
	if (gfd < 0)
		return gfd;
	g->fd = open_folder_at(gfd, t + sizeof(GEN_DIR));
	close(gfd);
	if (g->fd < 0)
		return g->fd;
	return iam_snprintf(g->dir, sizeof(g->dir), "%s/%s", snapshot_dir, t);
}

void
iam_generation_close(struct iam_generation *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

int
iam_generation_path(const struct iam_generation *g, const char *name,
		    char *buf, size_t len)
{
	if (name == NULL || name[0] == '\0')
		return iam_snprintf(buf, len, "%s", g->dir);
	return iam_snprintf(buf, len, "%s/%s", g->dir, name);
}
