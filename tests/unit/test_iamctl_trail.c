/*
 * test_iamctl_trail.c - `iamctl trail`: filters by user, event and time
 * (ISO 8601 or an age), the table and --json, bad input.
 */
#include "fixtures.h"

static void
setup(void)
{
	if (!fx_private_root())
		return;
	fx_reset(NULL);
	setenv("LD_LIBRARY_PATH", BUILD_DIR, 1);
}

TestSuite(iamctl_trail, .init = setup, .timeout = 60);

static void
event(int64_t t, const char *name, const char *user, const char *error)
{
	struct iam_config *cfg = NULL;
	struct iam_event ev = { .time = t, .source = "pam_iam", .name = name,
				.user_name = user, .source_ip = "192.0.2.1",
				.error_code = error };

	cr_assert_eq(iam_config_load(FX_CONF, true, &cfg, NULL, 0), 0);
	cr_assert_eq(iam_trail_write(cfg, &ev), 0);
	iam_config_free(cfg);
}

/* Run iamctl with args; its output into out, its exit status back. */
static int
iamctl(const char *args, struct iam_buf *out)
{
	char cmd[1024], chunk[4096];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), BUILD_DIR "/iamctl --config " FX_CONF
		 " trail %s 2>&1", args);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		cr_assert_eq(iam_buf_add(out, chunk, n), 0);
	if (out->buf == NULL)
		cr_assert_eq(iam_buf_adds(out, ""), 0);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
sample(void)
{
	int64_t now = (int64_t)time(NULL);

	event(now - 3 * DAY, "Login", "alice", NULL);
	event(now - 2 * 3600, "Login", "bob", "AccessDenied");
	event(now - 600, "SessionOpen", "alice", NULL);
	event(now - 60, "Login", "alice", "MFARequired");
}

Test(iamctl_trail, table_lists_every_event)
{
	struct iam_buf out = IAM_BUF_INIT;

	FX_NEED_ROOT();
	sample();
	cr_assert_eq(iamctl("", &out), 0, "%s", out.buf);
	cr_assert_eq(lines(out.buf), 5, "header and 4 events: %s", out.buf);
	cr_assert(strstr(out.buf, "AccessDenied"));
	cr_assert(strstr(out.buf, "SessionOpen"));
	iam_buf_release(&out);
}

Test(iamctl_trail, filters_by_user_event_and_time)
{
	struct iam_buf out = IAM_BUF_INIT;

	FX_NEED_ROOT();
	sample();
	cr_assert_eq(iamctl("--user alice --json", &out), 0);
	cr_assert_eq(lines(out.buf), 3, "%s", out.buf);
	cr_assert_null(strstr(out.buf, "\"bob\""));
	iam_buf_release(&out);
	cr_assert_eq(iamctl("--event login --json", &out), 0);
	cr_assert_eq(lines(out.buf), 3, "%s", out.buf);
	iam_buf_release(&out);
	cr_assert_eq(iamctl("--since 15m --json", &out), 0);
	cr_assert_eq(lines(out.buf), 2, "%s", out.buf);
	iam_buf_release(&out);
	cr_assert_eq(iamctl("--since 1d --user alice --event Login --json",
			    &out), 0);
	cr_assert_eq(lines(out.buf), 1, "%s", out.buf);
	cr_assert(strstr(out.buf, "MFARequired"));
	iam_buf_release(&out);
	cr_assert_eq(iamctl("--since 2000-01-01T00:00:00Z --json", &out), 0);
	cr_assert_eq(lines(out.buf), 4, "%s", out.buf);
	iam_buf_release(&out);
}

Test(iamctl_trail, json_lines_are_the_events_themselves)
{
	struct iam_buf out = IAM_BUF_INIT;
	char *all;

	FX_NEED_ROOT();
	sample();
	cr_assert_eq(iamctl("--json", &out), 0);
	all = fx_slurp(FX_TRAIL);
	cr_assert_str_eq(out.buf, all);
	free(all);
	iam_buf_release(&out);
}

Test(iamctl_trail, table_never_prints_control_characters)
{
	struct iam_buf out = IAM_BUF_INIT;

	FX_NEED_ROOT();
	event(0, "Login", "evil\x1b[2Jname\nforged", NULL);
	cr_assert_eq(iamctl("", &out), 0);
	cr_assert_null(strchr(out.buf, '\x1b'));
	cr_assert_eq(lines(out.buf), 2, "%s", out.buf);
	iam_buf_release(&out);
}

Test(iamctl_trail, bad_input_is_refused)
{
	struct iam_buf out = IAM_BUF_INIT;
	int fd;

	FX_NEED_ROOT();
	cr_assert_eq(iamctl("", &out), 2, "no trail yet: %s", out.buf);
	iam_buf_release(&out);
	sample();
	cr_assert_eq(iamctl("--since yesterday", &out), 2);
	cr_assert(strstr(out.buf, "--since \"yesterday\""), "%s", out.buf);
	iam_buf_release(&out);
	cr_assert_eq(iamctl("--bogus", &out), 2);
	iam_buf_release(&out);
	fd = open(FX_TRAIL, O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "{\"half\n", 7), 7);
	close(fd);
	cr_assert_eq(iamctl("--json", &out), 1);
	cr_assert(strstr(out.buf, "1 line not an event"), "%s", out.buf);
	cr_assert_eq(lines(out.buf), 5, "the 4 good events still: %s",
		     out.buf);
	iam_buf_release(&out);
}
