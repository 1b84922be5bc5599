/*
 * edit.c - iamctl edit: change the identity file by hand, like vipw and
 * visudo.  The store's lock is held throughout; the file is copied into
 * a root 0700 folder, $EDITOR runs on the copy, and only a valid result
 * is installed and published.  A file changed underneath (by a writer
 * that ignores the lock) is never overwritten.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl edit\n"
	      "  Edit the identity file with $EDITOR (default vi) under the\n"
	      "  store's lock; a valid result is installed and published, an\n"
	      "  invalid one shows its faults and may be edited again.\n", f);
}

static int
write_copy(const char *path, const struct iam_buf *b)
{
	size_t off = 0;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	while (off < b->len) {
		ssize_t n = write(fd, b->buf + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Run the editor on path: sh -c '$EDITOR "$1"', as visudo allows arguments. */
static int
run_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	pid_t pid;
	int st;

	/* Only root gets here (need_root), so the environment is root's own. */
	if (editor == NULL || editor[0] == '\0')
		editor = getenv("EDITOR");
	if (editor == NULL || editor[0] == '\0')
		editor = "vi";
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char cmd[PATH_MAX];

		if (iam_snprintf(cmd, sizeof(cmd), "%s \"$1\"", editor) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -ECANCELED;
	return 0;
}

static bool
again(void)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return false;
	if (read_line("Edit again? [y/N] ", true, answer, sizeof(answer)) < 0)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int
edit_loop(struct edit *e, const char *copy)
{
	struct iam_buf text = IAM_BUF_INIT;
	int r, rc = EXIT_REFUSED;

	for (;;) {
		r = run_editor(copy);
		if (r < 0) {
			iamctl_err("edit: the editor failed%s; nothing changed",
				   r == -ECANCELED ? "" : " to start");
			break;
		}
		iam_buf_wipe(&text);
		r = iam_read_strict(copy, IAM_STRICT_SECRET,
				    e->cfg->identity_max_bytes, &text, NULL, 0);
		if (r < 0) {
			iamctl_err("edit: %s: %s; nothing changed", copy,
				   strerror(-r));
			break;
		}
		if (text.len == e->orig.len &&
		    (text.len == 0 || memcmp(text.buf, e->orig.buf,
					     text.len) == 0)) {
			printf("no changes\n");
			rc = EXIT_OK;
			break;
		}
		rc = edit_commit_text(e, text.buf ? text.buf : "", text.len,
				      "identity file edited",
				      (struct iam_event_param[]){
				      { "command", "edit" } }, 1);
		if (rc == EXIT_OK || !e->invalid || !again())
			break;
	}
	iam_buf_wipe(&text);
	return rc;
}

/* Remove the private folder with the copy and any editor backup files. */
static void
remove_tree(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	dp = fdopendir(dfd);
	if (dp == NULL) {
		close(dfd);
		return;
	}
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(dp), d->d_name, 0);
	}
	closedir(dp);
	rmdir(dir);
}

/*
 * The private folder of this edit, beside the identity file (root's
 * alone, unlike /tmp), with its lock held for as long as we run: a
 * publication removes the folder of a killed edit, never a live one's.
 * Returns the lock's descriptor, or -errno.
 */
static int
make_edit_folder(const struct iam_config *cfg, char *dir, size_t len)
{
	const char *slash = strrchr(cfg->identity_file, '/');
	char lock[PATH_MAX];
	int fd;

	if (slash == NULL || slash == cfg->identity_file)
		return -EINVAL;
	if (iam_snprintf(dir, len, "%.*s/" IAM_EDIT_DIR_PREFIX "XXXXXX",
			 (int)(slash - cfg->identity_file),
			 cfg->identity_file) < 0 ||
	    iam_snprintf(lock, sizeof(lock), "%s/lock", dir) < 0)
		return -ENAMETOOLONG;
	/* mkdtemp makes the folder 0700, and we are root. */
	if (mkdtemp(dir) == NULL)
		return -errno;
	(void)iam_snprintf(lock, sizeof(lock), "%s/lock", dir);
	fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	fd = fd >= 0 ? (close(fd), -EAGAIN) : -errno;
	remove_tree(dir);
	return fd;
}

int
cmd_edit(struct iamctl *ctl, int argc, char **argv)
{
	char dir[PATH_MAX], copy[PATH_MAX];
	struct edit e;
	int r, rc, lockfd;

	rc = root_command(argc, argv, usage, "edit", NULL);
	if (rc >= 0)
		return rc;
	rc = edit_open_flags(ctl, &e, false);
	if (rc != EXIT_OK)
		return rc;
	lockfd = make_edit_folder(e.cfg, dir, sizeof(dir));
	if (lockfd < 0) {
		iamctl_err("edit: cannot make a private folder beside %s: %s",
			   e.cfg->identity_file, strerror(-lockfd));
		edit_close(&e);
		return EXIT_REFUSED;
	}
	r = iam_snprintf(copy, sizeof(copy), "%s/identity.json", dir);
	if (r == 0)
		r = write_copy(copy, &e.orig);
	if (r < 0) {
		iamctl_err("edit: %s: %s", copy, strerror(-r));
		rc = EXIT_REFUSED;
	} else {
		rc = edit_loop(&e, copy);
	}
	remove_tree(dir);
	close(lockfd);
	edit_close(&e);
	return rc;
}
