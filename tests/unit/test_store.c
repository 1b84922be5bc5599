/*
 * test_store.c - strict files and folders, atomic writes, the store's
 * lock, sane descriptors (libiam/host/store.c).
 *
 * Owner checks need root: run through scripts/run-unit.sh, which gives
 * each binary a private mount namespace.  Without root they skip.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "fixtures.h"

/* Test-only fault injection of store.c. */
extern int store_fail_point;

static char tmp[64];

static void
setup(void)
{
	FX_NEED_ROOT();
	fx_tmpdir(tmp, sizeof(tmp), "store", 0755);
	store_fail_point = 0;
}

static void
teardown(void)
{
	if (tmp[0] == '\0')
		return;
	fx_rmtree(tmp);
}

TestSuite(store, .init = setup, .fini = teardown);

static const char *
at(const char *name)
{
	return fx_path(tmp, name);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* Number of entries in a folder besides "." and "..". */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- Strict files ----------------------------------------------------- */

Test(store, accepts_a_root_file_not_writable_by_others)
{
	char err[512] = "";
	int fd;

	put(at("ok.conf"), "x", 0644);
	fd = iam_open_strict(at("ok.conf"), 0, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
}

Test(store, refuses_a_symlink)
{
	char err[512] = "";

	put(at("real"), "x", 0600);
	cr_assert_eq(symlink(at("real"), at("link")), 0);
	cr_assert_eq(iam_open_strict(at("link"), 0, err, sizeof(err)), -ELOOP);
	cr_assert(strstr(err, "link: is a symbolic link"), "%s", err);
}

Test(store, refuses_a_file_of_another_owner)
{
	char err[512] = "";

	put(at("theirs"), "x", 0600);
	cr_assert_eq(chown(at("theirs"), 1234, 0), 0);
	cr_assert_eq(iam_open_strict(at("theirs"), 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "theirs: is not owned by root"), "%s", err);
}

Test(store, refuses_group_writable)
{
	char err[512] = "";

	put(at("gw"), "x", 0664);
	cr_assert_eq(iam_open_strict(at("gw"), 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "gw: is writable by group"), "%s", err);
}

Test(store, refuses_world_writable)
{
	char err[512] = "";

	put(at("ww"), "x", 0646);
	cr_assert_eq(iam_open_strict(at("ww"), 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "ww: is writable by others"), "%s", err);
}

Test(store, refuses_a_secret_readable_by_others)
{
	char err[512] = "";
	int fd;

	put(at("secret"), "x", 0604);
	cr_assert_eq(iam_open_strict(at("secret"), IAM_STRICT_SECRET, err,
				     sizeof(err)), -EPERM);
	cr_assert(strstr(err, "secret: is readable by group or others"), "%s",
		  err);
	put(at("secret2"), "x", 0640);
	cr_assert_eq(iam_open_strict(at("secret2"), IAM_STRICT_SECRET, err,
				     sizeof(err)), -EPERM);
	/* The same modes are fine for a file that holds no secret. */
	fd = iam_open_strict(at("secret"), 0, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
}

Test(store, refuses_a_parent_folder_writable_by_others)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("open"), 0755), 0);
	cr_assert_eq(chmod(at("open"), 0777), 0);
	put(at("open/file"), "x", 0600);
	cr_assert_eq(iam_open_strict(at("open/file"), 0, err, sizeof(err)),
		     -EPERM);
	cr_assert(strstr(err, "/open: is writable by others"), "%s", err);
}

Test(store, refuses_a_parent_folder_of_another_owner)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("theirs"), 0755), 0);
	cr_assert_eq(chown(at("theirs"), 1234, 1234), 0);
	put(at("theirs/file"), "x", 0600);
	cr_assert_eq(iam_open_strict(at("theirs/file"), 0, err, sizeof(err)),
		     -EPERM);
	cr_assert(strstr(err, "/theirs: is not owned by root"), "%s", err);
}

Test(store, accepts_a_sticky_parent_like_tmp)
{
	char err[512] = "";
	int fd;

	cr_assert_eq(mkdir(at("sticky"), 0755), 0);
	cr_assert_eq(chmod(at("sticky"), 01777), 0);
	put(at("sticky/file"), "x", 0600);
	fd = iam_open_strict(at("sticky/file"), IAM_STRICT_SECRET, err,
			     sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
}

Test(store, refuses_a_folder_where_a_file_is_expected)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("dir"), 0755), 0);
	cr_assert_eq(iam_open_strict(at("dir"), 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "is not a regular file"), "%s", err);
}

Test(store, refuses_a_relative_path)
{
	char err[512] = "";

	cr_assert_eq(iam_open_strict("etc/iam.conf", 0, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "is not an absolute path"), "%s", err);
}

Test(store, read_strict_reads_whole_file_and_enforces_the_limit)
{
	struct iam_buf b = IAM_BUF_INIT;
	char err[512] = "";

	put(at("f"), "hello world", 0600);
	cr_assert_eq(iam_read_strict(at("f"), IAM_STRICT_SECRET, 100, &b, err,
				     sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.len, 11);
	cr_assert_str_eq(b.buf, "hello world");
	iam_buf_wipe(&b);
	cr_assert_eq(iam_read_strict(at("f"), 0, 5, &b, err, sizeof(err)),
		     -EFBIG);
	cr_assert(strstr(err, "is over the size limit"), "%s", err);
	cr_assert_null(b.buf, "ret_buf touched on failure");
}

/* ---- Strict folders --------------------------------------------------- */

Test(store, ensure_dir_creates_root_0700_whatever_the_umask)
{
	mode_t old = umask(0777);
	struct stat st;
	int fd;

	fd = iam_ensure_dir(at("creds"), 0700, 0, NULL, 0);
	umask(old);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(st.st_uid, 0);
	close(fd);
	old = umask(0777);
	fd = iam_ensure_dir(at("pub"), 0755, 0, NULL, 0);
	umask(old);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(mode_of(at("pub")), 0755);
}

Test(store, ensure_dir_keeps_a_good_existing_folder)
{
	int fd;

	cr_assert_eq(mkdir(at("d"), 0700), 0);
	put(at("d/keep"), "x", 0600);
	fd = iam_ensure_dir(at("d"), 0700, 0, NULL, 0);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_str_eq(slurp(at("d/keep")), "x");
}

Test(store, ensure_dir_refuses_a_symlink)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("real"), 0700), 0);
	cr_assert_eq(symlink(at("real"), at("link")), 0);
	cr_assert_eq(iam_ensure_dir(at("link"), 0700, 0, err, sizeof(err)),
		     -ELOOP);
	cr_assert(strstr(err, "link: is a symbolic link"), "%s", err);
}

Test(store, ensure_dir_refuses_wrong_owner)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("d"), 0700), 0);
	cr_assert_eq(chown(at("d"), 1234, 0), 0);
	cr_assert_eq(iam_ensure_dir(at("d"), 0700, 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "is not owned by root"), "%s", err);
}

Test(store, ensure_dir_refuses_a_folder_too_open)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("d"), 0700), 0);
	cr_assert_eq(chmod(at("d"), 0755), 0);
	cr_assert_eq(iam_ensure_dir(at("d"), 0700, 0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "has mode 0755, more open than 0700"), "%s", err);
	cr_assert_eq(mode_of(at("d")), 0755, "the folder was changed");
}

Test(store, ensure_dir_refuses_a_file)
{
	char err[512] = "";

	put(at("f"), "x", 0600);
	cr_assert_eq(iam_ensure_dir(at("f"), 0700, 0, err, sizeof(err)),
		     -ENOTDIR);
	cr_assert(strstr(err, "is not a folder"), "%s", err);
}

Test(store, ensure_dir_refuses_under_an_open_parent)
{
	char err[512] = "";

	cr_assert_eq(mkdir(at("open"), 0777), 0);
	cr_assert_eq(chmod(at("open"), 0777), 0);
	cr_assert_eq(iam_ensure_dir(at("open/creds"), 0700, 0, err,
				    sizeof(err)), -EPERM);
	cr_assert(strstr(err, "is writable by others"), "%s", err);
	cr_assert_eq(access(at("open/creds"), F_OK), -1, "created anyway");
}

/* ---- Atomic writes ---------------------------------------------------- */

Test(store, atomic_write_sets_modes_under_umask_777)
{
	mode_t old = umask(0777);
	int r1, r2;
	struct stat st;

	r1 = iam_write_atomic(at("pub"), "public\n", 7, 0644);
	r2 = iam_write_atomic(at("priv"), "secret\n", 7, 0600);
	umask(old);
	cr_assert_eq(r1, 0, "%s", strerror(-r1));
	cr_assert_eq(r2, 0, "%s", strerror(-r2));
	cr_assert_eq(mode_of(at("pub")), 0644);
	cr_assert_eq(mode_of(at("priv")), 0600);
	cr_assert_eq(stat(at("priv"), &st), 0);
	cr_assert_eq(st.st_uid, 0);
	cr_assert_eq(st.st_gid, 0);
	cr_assert_str_eq(slurp(at("pub")), "public\n");
	cr_assert_eq(entries(tmp), 2, "a temporary file was left");
}

Test(store, atomic_write_gives_root_group_even_with_another_egid)
{
	gid_t old = getegid();
	struct stat st;
	int r;

	cr_assert_eq(setegid(1234), 0);
	r = iam_write_atomic(at("f"), "x", 1, 0644);
	cr_assert_eq(setegid(old), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(stat(at("f"), &st), 0);
	cr_assert_eq(st.st_gid, 0, "group of a setuid caller leaked in");
}

Test(store, atomic_write_replaces_and_never_follows_a_symlink)
{
	put(at("victim"), "victim", 0600);
	cr_assert_eq(symlink(at("victim"), at("target")), 0);
	cr_assert_eq(iam_write_atomic(at("target"), "new", 3, 0600), 0);
	cr_assert_str_eq(slurp(at("victim")), "victim");
	cr_assert_eq(mode_of(at("target")) & 07777, 0600);
	cr_assert_str_eq(slurp(at("target")), "new");
	put(at("old"), "old content", 0600);
	cr_assert_eq(iam_write_atomic(at("old"), "", 0, 0600), 0);
	cr_assert_str_eq(slurp(at("old")), "");
}

Test(store, atomic_write_writes_large_files_whole)
{
	size_t n = 8u << 20;
	char *big = malloc(n);
	struct stat st;

	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i * 31);
	cr_assert_eq(iam_write_atomic(at("big"), big, n, 0600), 0);
	cr_assert_eq(stat(at("big"), &st), 0);
	cr_assert_eq((size_t)st.st_size, n);
	free(big);
}

Test(store, atomic_write_refuses_a_folder_writable_by_others)
{
	cr_assert_eq(mkdir(at("open"), 0777), 0);
	cr_assert_eq(chmod(at("open"), 0777), 0);
	cr_assert_eq(iam_write_atomic(at("open/f"), "x", 1, 0600), -EPERM);
	cr_assert_eq(entries(at("open")), 0);
}

Test(store, atomic_write_refuses_a_symlinked_folder)
{
	cr_assert_eq(mkdir(at("real"), 0755), 0);
	cr_assert_eq(symlink(at("real"), at("link")), 0);
	cr_assert_eq(iam_write_atomic(at("link/f"), "x", 1, 0600), -ELOOP);
	cr_assert_eq(entries(at("real")), 0);
}

Test(store, atomic_write_refuses_bad_paths)
{
	cr_assert_eq(iam_write_atomic("relative", "x", 1, 0600), -EINVAL);
	cr_assert_eq(iam_write_atomic(at(""), "x", 1, 0600), -EINVAL);
	cr_assert_eq(iam_write_atomic(at(".."), "x", 1, 0600), -EINVAL);
	cr_assert_eq(iam_write_atomic(at("missing/f"), "x", 1, 0600), -ENOENT);
}

Test(store, failure_before_rename_keeps_old_files_and_no_temporary)
{
	struct iam_atomic *set;

	put(at("a"), "old a", 0644);
	put(at("b"), "old b", 0600);
	cr_assert_eq(iam_atomic_new(&set), 0);
	cr_assert_eq(iam_atomic_add(set, at("a"), "new a", 5, 0644), 0);
	cr_assert_eq(iam_atomic_add(set, at("b"), "new b", 5, 0600), 0);
	cr_assert_eq(entries(tmp), 4, "temporary files are written by add");
	store_fail_point = 1;
	cr_assert_eq(iam_atomic_commit(set), -EIO);
	iam_atomic_free(set);
	cr_assert_str_eq(slurp(at("a")), "old a");
	cr_assert_str_eq(slurp(at("b")), "old b");
	cr_assert_eq(entries(tmp), 2, "a temporary file was left");
}

Test(store, atomic_set_replaces_all_files)
{
	struct iam_atomic *set;

	put(at("a"), "old a", 0644);
	cr_assert_eq(iam_atomic_new(&set), 0);
	cr_assert_eq(iam_atomic_add(set, at("a"), "new a", 5, 0644), 0);
	cr_assert_eq(iam_atomic_add(set, at("b"), "new b", 5, 0600), 0);
	cr_assert_eq(iam_atomic_commit(set), 0);
	iam_atomic_free(set);
	cr_assert_str_eq(slurp(at("a")), "new a");
	cr_assert_str_eq(slurp(at("b")), "new b");
	cr_assert_eq(entries(tmp), 2);
	cr_assert_null(iam_atomic_free(NULL));
}

/* ---- Descriptors 0-2 --------------------------------------------------- */

Test(store, sanitize_fds_opens_closed_standard_descriptors)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct stat st, null;

		close(0);
		close(1);
		close(2);
		if (iam_sanitize_fds() < 0)
			_exit(1);
		if (stat("/dev/null", &null) < 0)
			_exit(2);
		for (int fd = 0; fd <= 2; fd++) {
			if (fstat(fd, &st) < 0 || st.st_rdev != null.st_rdev)
				_exit(3);
			if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
				_exit(4);
		}
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(store, sanitize_fds_leaves_open_descriptors_alone)
{
	struct stat before, after;

	cr_assert_eq(fstat(1, &before), 0);
	cr_assert_eq(iam_sanitize_fds(), 0);
	cr_assert_eq(fstat(1, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino);
}

/* ---- The store's lock -------------------------------------------------- */

static struct iam_config *
config_in_tmp(void)
{
	struct iam_config *cfg;

	cr_assert_eq(iam_config_defaults(&cfg), 0);
	free(cfg->credentials_dir);
	cfg->credentials_dir = strdup(at("credentials"));
	cr_assert_not_null(cfg->credentials_dir);
	return cfg;
}

Test(store, lock_creates_a_private_folder_and_lock_file)
{
	struct iam_config *cfg = config_in_tmp();
	mode_t old = umask(0777);
	int fd = iam_store_lock(cfg);

	umask(old);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(mode_of(at("credentials")), 0700);
	cr_assert_eq(mode_of(at("credentials/.lock")), 0600);
	/* Held: another open file description cannot take it. */
	{
		int other = open(at("credentials/.lock"), O_RDWR | O_CLOEXEC);

		cr_assert_geq(other, 0);
		cr_assert_eq(flock(other, LOCK_EX | LOCK_NB), -1);
		cr_assert_eq(errno, EWOULDBLOCK);
		close(other);
	}
	iam_store_unlock(fd);
	iam_config_free(cfg);
}

Test(store, lock_waits_for_the_holder)
{
	struct iam_config *cfg = config_in_tmp();
	int p[2], fd, status;
	char c;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct timespec ts = { 0, 300 * 1000 * 1000 };

		fd = iam_store_lock(cfg);
		if (fd < 0)
			_exit(1);
		if (write(p[1], "l", 1) != 1)
			_exit(2);
		nanosleep(&ts, NULL);
		put(at("released"), "x", 0600);
		iam_store_unlock(fd);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	fd = iam_store_lock(cfg);
	cr_assert_geq(fd, 0);
	cr_assert_eq(access(at("released"), F_OK), 0,
		     "the lock was taken while the other process held it");
	iam_store_unlock(fd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(WEXITSTATUS(status), 0);
	close(p[0]);
	iam_config_free(cfg);
}

Test(store, lock_refuses_an_insecure_credentials_folder)
{
	struct iam_config *cfg = config_in_tmp();

	cr_assert_eq(mkdir(at("credentials"), 0700), 0);
	cr_assert_eq(chmod(at("credentials"), 0755), 0);
	cr_assert_eq(iam_store_lock(cfg), -EPERM);
	cr_assert_eq(access(at("credentials/.lock"), F_OK), -1);
	iam_config_free(cfg);
}

/* ---- The test hook stays private -------------------------------------- */

Test(store, fault_injection_hook_is_not_exported)
{
	void *h = dlopen(BUILD_DIR "/libiam.so.1", RTLD_NOW | RTLD_LOCAL);

	cr_assert_not_null(h, "%s", dlerror());
	cr_assert_null(dlsym(h, "store_fail_point"),
		       "the test-only hook is reachable from the library");
	cr_assert_not_null(dlsym(h, "iam_write_atomic"));
	dlclose(h);
}

/* ---- iam_map_strict: the one strict mapping of a snapshot file -------- */

Test(store_map, maps_within_its_size_cap_and_refuses_the_rest)
{
	char dir[] = "/tmp/iam-map.XXXXXX", path[64], link[64], err[256];
	struct iam_map m = { 0 };
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	cr_assert_eq(iam_map_strict(path, IAM_STRICT_ANY_OWNER, 4, 10, &m, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.size, 10);
	cr_assert_eq(memcmp(m.p, "0123456789", 10), 0);
	iam_unmap(&m);
	cr_assert_null(m.p);
	iam_unmap(&m);
	cr_assert_eq(iam_map_strict(path, IAM_STRICT_ANY_OWNER, 4, 9, &m, err,
				    sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "too large") != NULL, "%s", err);
	cr_assert_eq(iam_map_strict(path, IAM_STRICT_ANY_OWNER, 11, 99, &m,
				    err, sizeof(err)), -EBADMSG);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(iam_map_strict(link, IAM_STRICT_ANY_OWNER, 1, 99, &m, err,
				    sizeof(err)), -ELOOP);
	chmod(path, 0666);
	cr_assert_eq(iam_map_strict(path, IAM_STRICT_ANY_OWNER, 1, 99, &m, err,
				    sizeof(err)), -EPERM);
	cr_assert_null(m.p);
	unlink(link);
	unlink(path);
	rmdir(dir);
}
