/*
 * test_trail_write.c - the audit trail under load and under failure:
 * 20 writers at once, a deleted trail file, user-chosen strings, and a
 * trail that cannot be written with trail_required true and false (the
 * login refused or allowed, and why in syslog).
 */
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "fixtures.h"

#define WRITERS	20
#define EVENTS	500

static void
setup(void)
{
	if (!fx_private_root())
		return;
	fx_phase_nss_setup();
	fx_reset(NULL);
	fx_services(NULL);
	fx_publish_simple();
}

TestSuite(trail, .init = setup, .timeout = 120);

static struct iam_config *
config(void)
{
	struct iam_config *cfg = NULL;
	char err[256] = "";

	cr_assert_eq(iam_config_load(FX_CONF, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	return cfg;
}

static void
writer(const struct iam_config *cfg, int id)
{
	char name[16], seq[16];
	struct iam_event_param params[] = { { "seq", seq } };
	struct iam_event ev = {
		.source = "iamctl", .name = "IdentityCommit",
		.user_name = name, .params = params, .n_params = 1,
	};

	snprintf(name, sizeof(name), "w%d", id);
	for (int i = 0; i < EVENTS; i++) {
		snprintf(seq, sizeof(seq), "%d", i);
		if (iam_trail_write(cfg, &ev) != 0)
			_exit(1);
	}
	_exit(0);
}

static const char *
str(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v = iam_json_get(obj, key);

	cr_assert_not_null(v, "no %s", key);
	cr_assert_eq(v->type, IAM_JSON_STRING);
	return v->u.string;
}

Test(trail, twenty_writers_at_once_never_interleave)
{
	static bool seen[WRITERS][EVENTS];
	struct iam_config *cfg = config();
	char *all, *save = NULL, *l;
	pid_t pids[WRITERS];
	size_t lines = 0;
	int st;

	FX_NEED_ROOT();
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0)
			writer(cfg, i);
	}
	for (int i = 0; i < WRITERS; i++) {
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	all = fx_slurp(FX_TRAIL);
	cr_assert_not_null(all);
	for (l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct iam_json_doc *doc = NULL;
		const struct iam_json *root;
		long long w, s;
		char err[128] = "";

		cr_assert_eq(iam_json_parse(l, strlen(l), NULL, &doc, err,
					    sizeof(err)), 0, "line %zu: %s: %s",
			     lines, err, l);
		root = iam_json_root(doc);
		cr_assert_str_eq(str(root, "eventName"), "IdentityCommit");
		cr_assert_eq(iam_parse_ll(str(iam_json_get(root,
					  "userIdentity"), "userName") + 1, 0,
					  WRITERS - 1, &w), 0);
		cr_assert_eq(iam_parse_ll(str(iam_json_get(root,
					  "requestParameters"), "seq"), 0,
					  EVENTS - 1, &s), 0);
		cr_assert(!seen[w][s], "duplicate %lld/%lld", w, s);
		seen[w][s] = true;
		iam_json_free(doc);
		lines++;
	}
	cr_assert_eq(lines, WRITERS * EVENTS);
	free(all);
	iam_config_free(cfg);
}

Test(trail, deleted_trail_file_is_recreated_0600)
{
	struct iam_config *cfg = config();
	struct iam_event ev = { .source = "pam_iam", .name = "Login",
				.user_name = "alice" };
	struct stat st;

	FX_NEED_ROOT();
	umask(0);
	cr_assert_eq(iam_trail_write(cfg, &ev), 0);
	cr_assert_eq(unlink(FX_TRAIL), 0);
	cr_assert_eq(iam_trail_write(cfg, &ev), 0);
	cr_assert_eq(stat(FX_TRAIL, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_uid, 0);
	cr_assert_eq(fx_trail_count("\"Login\"", NULL), 1);
	iam_config_free(cfg);
}

Test(trail, user_chosen_strings_come_out_escaped)
{
	struct iam_config *cfg = config();
	struct iam_event_param params[] = {
		{ "command", "/bin/echo a\nb\"c\\d\t" },
	};
	struct iam_event ev = { .source = "sudo_iam", .name = "SudoRun",
				.user_name = "al\"ice\\", .params = params,
				.n_params = 1 };
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	char *all;

	FX_NEED_ROOT();
	cr_assert_eq(iam_trail_write(cfg, &ev), 0);
	all = fx_slurp(FX_TRAIL);
	cr_assert_eq(strchr(all, '\n'), all + strlen(all) - 1, "one line");
	cr_assert_eq(iam_json_parse(all, strlen(all), NULL, &doc, NULL, 0), 0);
	root = iam_json_root(doc);
	cr_assert_str_eq(str(iam_json_get(root, "userIdentity"), "userName"),
			 "al\"ice\\");
	cr_assert_str_eq(str(iam_json_get(root, "requestParameters"),
			     "command"), "/bin/echo a\nb\"c\\d\t");
	iam_json_free(doc);
	free(all);
	iam_config_free(cfg);
}

/* Account of alice with the trail broken by breakit; returns its code. */
static int
login_with_broken_trail(bool required, void (*breakit)(void),
			struct iam_buf *log)
{
	struct fx_conv c = { 0 };
	struct fx_run o = { 0 };
	char text[128];
	int s, r;

	snprintf(text, sizeof(text), "trail_required = %s;\n"
		 "hostname = \"web1\";\n", required ? "true" : "false");
	fx_write(FX_CONF, text, strlen(text), 0644);
	s = fx_syslog_capture();
	breakit();
	r = fx_account("alice", &c, &o);
	fx_syslog_read(s, log);
	close(s);
	return r;
}

static void
folder_writable_by_others(void)
{
	cr_assert_eq(chmod("/var/log/iam", 0777), 0);
}

/*
 * Without CAP_SYS_RESOURCE (this test process only): libiam cannot lift
 * a caller's RLIMIT_FSIZE, so a limit below the trail's next line holds.
 */
static void
drop_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	cr_assert_eq(syscall(SYS_capget, &h, d), 0);
	d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	cr_assert_eq(syscall(SYS_capset, &h, d), 0);
}

static void
write_fails(void)
{
	struct rlimit rl = { 0, 0 };
	int fd;

	drop_sys_resource();
	/* Any byte more is refused: the append fails with EFBIG. */
	fd = open(FX_TRAIL, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	close(fd);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

Test(trail, insecure_folder_with_trail_required_refuses_the_login)
{
	struct iam_buf log = IAM_BUF_INIT;

	FX_NEED_ROOT();
	cr_assert_eq(login_with_broken_trail(true, folder_writable_by_others,
					     &log), PAM_AUTHINFO_UNAVAIL);
	cr_assert(strstr(log.buf, "cannot write the trail " FX_TRAIL),
		  "syslog: %s", log.buf);
	cr_assert(strstr(log.buf, "refusing (trail_required)"), "%s", log.buf);
	iam_buf_release(&log);
}

Test(trail, insecure_folder_without_trail_required_proceeds)
{
	struct iam_buf log = IAM_BUF_INIT;

	FX_NEED_ROOT();
	cr_assert_eq(login_with_broken_trail(false, folder_writable_by_others,
					     &log), PAM_SUCCESS);
	cr_assert(strstr(log.buf, "cannot write the trail " FX_TRAIL),
		  "syslog: %s", log.buf);
	cr_assert(strstr(log.buf, "proceeding (trail_required = false)"),
		  "%s", log.buf);
	/* The event itself still reached syslog. */
	cr_assert(strstr(log.buf, "\"eventName\":\"Login\""), "%s", log.buf);
	iam_buf_release(&log);
}

Test(trail, failing_write_with_trail_required_refuses_the_login)
{
	struct iam_buf log = IAM_BUF_INIT;

	FX_NEED_ROOT();
	cr_assert_eq(login_with_broken_trail(true, write_fails, &log),
		     PAM_AUTHINFO_UNAVAIL);
	cr_assert(strstr(log.buf, "cannot write the trail"), "%s", log.buf);
	iam_buf_release(&log);
}

Test(trail, failing_write_without_trail_required_proceeds)
{
	struct iam_buf log = IAM_BUF_INIT;

	FX_NEED_ROOT();
	cr_assert_eq(login_with_broken_trail(false, write_fails, &log),
		     PAM_SUCCESS);
	cr_assert(strstr(log.buf, "proceeding"), "%s", log.buf);
	iam_buf_release(&log);
}

/*
 * A 300 KB event whose file write fails still reaches syslog, cut to
 * fit and marked: padding cannot keep a refusal out of both copies.
 */
Test(trail, huge_event_with_a_failing_write_still_reaches_syslog)
{
	static char msg[256 << 10];
	struct iam_config *cfg;
	size_t n = 300 * 1024;
	char *big = malloc(n + 1);
	struct iam_event_param params[] = { { "command", big } };
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .user_name = "alice",
		.params = params, .n_params = 1, .error_code = "AccessDenied",
	};
	bool found = false;
	ssize_t k;
	int s;

	FX_NEED_ROOT();
	cr_assert_not_null(big);
	memset(big, 'p', n);
	big[n] = '\0';
	cfg = config();
	s = fx_syslog_capture();
	write_fails();
	cr_expect_lt(iam_trail_write(cfg, &ev), 0, "the write did not fail");
	while ((k = recv(s, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[k] = '\0';
		if (strstr(msg, "\"eventName\":\"SudoRun\"") == NULL)
			continue;
		found = true;
		cr_expect(strstr(msg, "\"truncated\":true") != NULL);
		cr_expect(strstr(msg, "\"errorCode\":\"AccessDenied\"") != NULL);
		cr_expect_lt(k, 64 << 10, "a message of %zd bytes", k);
	}
	cr_expect(found, "no SudoRun in syslog");
	close(s);
	iam_config_free(cfg);
	free(big);
}

static struct iam_event small_ev = {
	.source = "sudo_iam", .name = "SudoRun", .user_name = "alice",
	.error_code = "AccessDenied",
};

/* A limit the next line crosses: no torn line, the file as it was. */
Test(trail, short_write_is_cut_back_to_the_size_before)
{
	struct iam_config *cfg;
	struct rlimit rl;
	struct stat st;
	off_t before;

	FX_NEED_ROOT();
	cfg = config();
	cr_assert_eq(iam_trail_write(cfg, &small_ev), 0);
	cr_assert_eq(stat(FX_TRAIL, &st), 0);
	before = st.st_size;
	drop_sys_resource();
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 10;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_expect_lt(iam_trail_write(cfg, &small_ev), 0);
	cr_assert_eq(stat(FX_TRAIL, &st), 0);
	cr_expect_eq(st.st_size, before, "%lld bytes, %lld before",
		     (long long)st.st_size, (long long)before);
	iam_config_free(cfg);
}

/* With CAP_SYS_RESOURCE (a root caller of setuid su): lifted, written. */
Test(trail, caller_fsize_limit_is_lifted_for_the_write)
{
	struct iam_config *cfg;
	struct rlimit rl;
	struct stat st;
	off_t before;

	FX_NEED_ROOT();
	cfg = config();
	cr_assert_eq(iam_trail_write(cfg, &small_ev), 0);
	cr_assert_eq(stat(FX_TRAIL, &st), 0);
	before = st.st_size;
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 10;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		cr_skip_test("no CAP_SYS_RESOURCE here");
	rl.rlim_cur = rl.rlim_max = (rlim_t)before + 10;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_expect_eq(iam_trail_write(cfg, &small_ev), 0);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_expect_eq(rl.rlim_cur, (rlim_t)before + 10, "the limit not put back");
	cr_assert_eq(stat(FX_TRAIL, &st), 0);
	cr_expect_gt(st.st_size, before);
	iam_config_free(cfg);
}
