/*
 * edit.c - the files of a sudoedit, as a policy sees them.  sudo hands
 * the plugin the user's editor as the command (command_info
 * sudoedit=true), then "--" and the files; the editor runs as the user
 * and never counts.  Each file is one sudo:Edit request on its
 * canonical path.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sudo_iam.h"

/*
 * The files in run_argv, found as sudo's front end finds them
 * (src/sudo_edit.c): the last sudoedit_nfiles words after a "--", else
 * what follows the first "--".
 */
static int
find_files(struct sudo_iam_edit *ed, char *const info[], char *const argv[])
{
	const char *nf = sudo_iam_info(info, "sudoedit_nfiles");
	size_t argc = 0, first = 0;
	long long n = 0;

	while (argv != NULL && argv[argc] != NULL)
		argc++;
	if (nf != NULL) {
		if (iam_parse_ll(nf, 1, SUDO_IAM_EDIT_MAX, &n) < 0 ||
		    argc < (size_t)n + 2 ||
		    strcmp(argv[argc - (size_t)n - 1], "--") != 0)
			return -EINVAL;
		first = argc - (size_t)n;
	} else {
		for (size_t i = 1; i < argc && first == 0; i++)
			if (strcmp(argv[i], "--") == 0)
				first = i + 1;
		if (first == 0 || first >= argc)
			return -EINVAL;
	}
	if (argc - first > SUDO_IAM_EDIT_MAX)
		return -E2BIG;
	ed->given = argv + first;
	ed->n = argc - first;
	return 0;
}

/* An absolute path sudo will open: as given, or under our own cwd. */
static int
absolute(const char *given, char out[PATH_MAX])
{
	char cwd[PATH_MAX];

	if (given[0] == '/')
		return iam_snprintf(out, PATH_MAX, "%s", given);
	/* sudo opens a relative path from this same working folder. */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -errno;
	return iam_snprintf(out, PATH_MAX, "%s%s%s", cwd,
			    strcmp(cwd, "/") != 0 ? "/" : "", given);
}

/*
 * A file that does not exist yet: its folder's canonical path and its
 * name.  abs is cut at its last '/': it names the folder afterwards.
 */
static int
new_file(char abs[PATH_MAX], char out[PATH_MAX], const char **why)
{
	char real[PATH_MAX];
	char *slash = strrchr(abs, '/');
	const char *base = slash + 1;
	struct stat st;

	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		*why = "not a file name";
		return -EINVAL;
	}
	*slash = '\0';
	if (realpath(abs[0] != '\0' ? abs : "/", real) == NULL ||
	    stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*why = "its folder cannot be resolved";
		return -ENOENT;
	}
	return iam_snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") != 0 ?
			    real : "", base);
}

/*
 * The canonical path of one file.  sudo opens the path it was given, so
 * when that differs from the canonical one (a link or ".." on the way),
 * or sudoers lets sudoedit follow links or skip its folder checks, every
 * entry on the way must be one only root may change.
 */
static int
canonical_file(const char *given, bool strict, char out[PATH_MAX],
	       const char **why)
{
	char abs[PATH_MAX], given_abs[PATH_MAX];
	struct stat st;
	int r;

	*why = "cannot resolve the file's path";
	if (given[0] == '\0' || absolute(given, abs) < 0)
		return -EINVAL;
	memcpy(given_abs, abs, sizeof(abs));
	if (lstat(abs, &st) == 0) {
		if (realpath(abs, out) == NULL || stat(out, &st) < 0)
			return -ENOENT;
		if (!S_ISREG(st.st_mode)) {
			*why = "not a regular file";
			return -EINVAL;
		}
	} else if (errno == ENOENT) {
		r = new_file(abs, out, why);
		if (r < 0)
			return r;
		/* The folder is what must be fixed: the file is not there. */
		if (abs[0] == '\0')
			strcpy(abs, "/");
	} else {
		return -errno;
	}
	if ((strict || strcmp(given_abs, out) != 0) &&
	    (r = sudo_iam_path_fixed(abs)) < 0) {
		*why = "the file's path passes through a link or folder "
		       "another user may change";
		return r;
	}
	return 0;
}

int
sudo_iam_edit_init(struct sudo_iam_edit *ed, char *const command_info[],
		   char *const run_argv[])
{
	bool strict;
	int r;

	memset(ed, 0, sizeof(*ed));
	ed->files = (struct iam_buf)IAM_BUF_INIT;
	r = find_files(ed, command_info, run_argv);
	if (r < 0) {
		ed->why = "no files to edit in sudo's command";
		return r;
	}
	strict = sudo_iam_flag(command_info, "sudoedit_checkdir", 1) == 0 ||
		 sudo_iam_flag(command_info, "sudoedit_follow", 0) == 1;
	ed->paths = calloc(ed->n, sizeof(*ed->paths));
	if (ed->paths == NULL) {
		ed->why = "out of memory";
		return -ENOMEM;
	}
	for (size_t i = 0; i < ed->n; i++) {
		r = canonical_file(ed->given[i], strict, ed->paths[i],
				   &ed->why);
		if (r < 0) {
			ed->bad = ed->given[i];
			return r;
		}
		if (r == 0 && i > 0)
			r = iam_buf_adds(&ed->files, " ");
		if (r == 0)
			r = iam_buf_adds(&ed->files, ed->paths[i]);
		if (r < 0) {
			ed->why = "out of memory";
			return r;
		}
	}
	return 0;
}

void
sudo_iam_edit_release(struct sudo_iam_edit *ed)
{
	free(ed->paths);
	iam_buf_release(&ed->files);
	memset(ed, 0, sizeof(*ed));
}
