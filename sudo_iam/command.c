/*
 * command.c - the command sudo is about to run, as a policy sees it: the
 * canonical path (no "..", no symbolic link gets a command past a path
 * pattern), the command line and the run-as names.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sudo_iam.h"

#define NSS_BUF_MAX	(1u << 20)	/* getpwuid_r/getgrgid_r buffers */

const char *
sudo_iam_info(char *const vec[], const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; vec != NULL && vec[i] != NULL; i++)
		if (strncmp(vec[i], key, n) == 0 && vec[i][n] == '=')
			return vec[i] + n + 1;
	return NULL;
}

/* An id of command_info ("runas_uid=0"); -ENOENT when absent. */
static int
info_id(char *const info[], const char *key, uint32_t *ret)
{
	const char *v = sudo_iam_info(info, key);
	long long id;
	int r;

	if (v == NULL)
		return -ENOENT;
	r = iam_parse_ll(v, 0, UINT32_MAX - 1, &id);
	if (r < 0)
		return -EINVAL;
	*ret = (uint32_t)id;
	return 0;
}

/*
 * The id sudo runs the command with: the effective one when given, else
 * the real one.  Both given and different is refused: one request
 * names one run-as user.
 */
static int
runas_id(char *const info[], const char *real, const char *eff,
	 uint32_t *ret)
{
	uint32_t r_id = 0, e_id = 0;
	int rr = info_id(info, real, &r_id);
	int re = info_id(info, eff, &e_id);

	if ((rr < 0 && rr != -ENOENT) || (re < 0 && re != -ENOENT))
		return -EINVAL;
	if (rr == -ENOENT && re == -ENOENT)
		return -ENOENT;
	if (rr == 0 && re == 0 && r_id != e_id)
		return -EINVAL;
	*ret = re == 0 ? e_id : r_id;
	return 0;
}

/* The name of uid (or gid with group), else "#ID" as sudoers writes it. */
static int
id_name(uint32_t id, bool group, char *buf, size_t len)
{
	size_t size = 1024;
	char *mem = NULL;
	const char *name = NULL;
	int r;

	for (;;) {
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		char *p = realloc(mem, size);

		if (p == NULL) {
			free(mem);
			return -ENOMEM;
		}
		mem = p;
		if (group) {
			r = getgrgid_r((gid_t)id, &gr, mem, size, &grp);
			name = grp != NULL ? grp->gr_name : NULL;
		} else {
			r = getpwuid_r((uid_t)id, &pw, mem, size, &pwp);
			name = pwp != NULL ? pwp->pw_name : NULL;
		}
		if (r != ERANGE || size >= NSS_BUF_MAX)
			break;
		size *= 2;
	}
	/*
	 * "#ID" only for an id NSS truly does not know; a lookup that
	 * failed must not turn a name a Deny is written on into a number.
	 */
	if (name != NULL)
		r = iam_snprintf(buf, len, "%s", name);
	else if (r != 0 && r != ENOENT && r != ESRCH && r != EBADF &&
		 r != EPERM)
		r = -r;
	else
		r = iam_snprintf(buf, len, "#%" PRIu32, id);
	free(mem);
	return r;
}

static int
runas_names(struct sudo_iam_command *cmd, char *const info[])
{
	uint32_t uid, gid;
	int r;

	r = runas_id(info, "runas_uid", "runas_euid", &uid);
	if (r < 0) {
		cmd->why = "no usable run-as user in command_info";
		return -EINVAL;
	}
	r = id_name(uid, false, cmd->runas_user, sizeof(cmd->runas_user));
	if (r < 0) {
		cmd->why = "run-as user name";
		return r;
	}
	r = runas_id(info, "runas_gid", "runas_egid", &gid);
	if (r == -ENOENT)
		return 0;	/* iam:RunAsGroup is then absent */
	if (r < 0) {
		cmd->why = "no usable run-as group in command_info";
		return -EINVAL;
	}
	r = id_name(gid, true, cmd->runas_group, sizeof(cmd->runas_group));
	if (r < 0)
		cmd->why = "run-as group name";
	return r;
}

/*
 * May the entry e inside folder d change under us?  Only root may change
 * a folder's entries, except that a sticky folder (/tmp) may hold an
 * entry of root's, which nobody else may rename or remove.
 */
static bool
entry_fixed(const struct stat *d, const struct stat *e)
{
	if (!S_ISDIR(d->st_mode) || d->st_uid != 0)
		return false;
	if ((d->st_mode & S_IWOTH) || ((d->st_mode & S_IWGRP) && d->st_gid != 0))
		return (d->st_mode & S_ISVTX) && e->st_uid == 0;
	return true;
}

/*
 * sudo runs the path it was given, not the canonical one decided here.
 * When the two differ (a symbolic link or ".." on the way), a link in a
 * folder the user may write could be swapped between this check and the
 * exec, and another command would run than the one decided.  So walk
 * the given path as the kernel will, into every link's target, and
 * refuse unless each entry met on the way is fixed.  cur never holds a
 * link, so ".." is its textual parent.
 */
int
sudo_iam_path_fixed(const char *given)
{
	char todo[PATH_MAX], cur[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
	char *p = todo, *name, *slash;
	struct stat d, e;
	int links = 0;
	ssize_t k;

	if (iam_snprintf(todo, sizeof(todo), "%s", given) < 0)
		return -ENAMETOOLONG;
	strcpy(cur, "/");
	while (*p != '\0') {
		for (name = p; *p != '/' && *p != '\0'; p++)
			;
		if (*p == '/')
			*p++ = '\0';
		if (name[0] == '\0' || strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			slash = strrchr(cur, '/');
			if (slash == cur)
				slash++;
			*slash = '\0';
			continue;
		}
		if (iam_snprintf(next, sizeof(next), "%s%s%s", cur,
				 cur[1] != '\0' ? "/" : "", name) < 0)
			return -ENAMETOOLONG;
		if (stat(cur, &d) < 0 || lstat(next, &e) < 0)
			return -errno;
		if (!entry_fixed(&d, &e))
			return -EPERM;
		if (!S_ISLNK(e.st_mode)) {
			memcpy(cur, next, sizeof(cur));
			continue;
		}
		if (++links > 40)
			return -ELOOP;
		k = readlink(next, link, sizeof(link) - 1);
		if (k <= 0)
			return k < 0 ? -errno : -ENOENT;
		link[k] = '\0';
		/* The target, then what was left of the path. */
		if (iam_snprintf(next, sizeof(next), "%s/%s", link, p) < 0)
			return -ENAMETOOLONG;
		memcpy(todo, next, sizeof(todo));
		p = todo;
		if (link[0] == '/')
			strcpy(cur, "/");
	}
	return 0;
}

static int
canonical_path(struct sudo_iam_command *cmd, char *const info[])
{
	int r;

	cmd->given = sudo_iam_info(info, "command");
	if (cmd->given == NULL || cmd->given[0] != '/') {
		cmd->why = "no absolute command in command_info";
		return -EINVAL;
	}
	/*
	 * A chroot moves the command under another root, where our
	 * realpath would resolve a different file: refuse rather than guess.
	 */
	if (sudo_iam_info(info, "chroot") != NULL) {
		cmd->why = "commands run in a chroot cannot be decided";
		return -EINVAL;
	}
	if (realpath(cmd->given, cmd->path) == NULL) {
		int e = errno;

		cmd->path[0] = '\0';
		cmd->why = "cannot resolve the command's path";
		return -e;
	}
	if (strcmp(cmd->given, cmd->path) != 0 &&
	    (r = sudo_iam_path_fixed(cmd->given)) < 0) {
		cmd->why = "the command's path passes through a link or "
			   "folder another user may change";
		return r;
	}
	return 0;
}

static int
command_line(struct sudo_iam_command *cmd, char *const run_argv[])
{
	int r;

	cmd->args = run_argv != NULL && run_argv[0] != NULL ? run_argv + 1 :
		NULL;
	cmd->n_args = 0;
	while (cmd->args != NULL && cmd->args[cmd->n_args] != NULL)
		cmd->n_args++;
	r = iam_buf_adds(&cmd->line, cmd->path);
	for (size_t i = 0; r == 0 && i < cmd->n_args; i++) {
		r = iam_buf_adds(&cmd->line, " ");
		if (r == 0)
			r = iam_buf_adds(&cmd->line, cmd->args[i]);
	}
	if (r < 0)
		cmd->why = "out of memory";
	return r;
}

int
sudo_iam_command_init(struct sudo_iam_command *cmd,
		      char *const command_info[], char *const run_argv[])
{
	int r;

	memset(cmd, 0, sizeof(*cmd));
	cmd->line = (struct iam_buf)IAM_BUF_INIT;
	r = canonical_path(cmd, command_info);
	if (r == 0)
		r = command_line(cmd, run_argv);
	if (r == 0)
		r = runas_names(cmd, command_info);
	return r;
}

int
sudo_iam_command_init_edit(struct sudo_iam_command *cmd,
			   char *const command_info[])
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->line = (struct iam_buf)IAM_BUF_INIT;
	cmd->given = sudo_iam_info(command_info, "command");
	return runas_names(cmd, command_info);
}

void
sudo_iam_command_release(struct sudo_iam_command *cmd)
{
	iam_buf_release(&cmd->line);
}
