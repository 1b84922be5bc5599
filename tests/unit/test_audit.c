/*
 * test_audit.c - the audit trail: CloudTrail-shaped lines generated with
 * yajl_gen, one write per event, strict file and folder rules.
 */
#include "pam_test_helpers.h"

static char dir[64];
static struct iam_config *cfg;

static int
fl(void)
{
	return geteuid() == 0 ? 0 : IAM_STRICT_ANY_OWNER;
}

static void
setup(void)
{
	char path[128];

	strcpy(dir, "/tmp/iam-trail.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	snprintf(path, sizeof(path), "%s/trail.jsonl", dir);
	free(cfg->trail_file);
	cfg->trail_file = strdup(path);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	cfg = iam_config_free(cfg);
}

TestSuite(audit, .init = setup, .fini = teardown);

static const struct iam_event_param params[] = {
	{ "service", "sshd" }, { "tty", "ssh" }, { "skipped", NULL },
};

Test(audit, format_is_one_cloudtrail_shaped_line)
{
	struct iam_event ev = {
		.time = 1788253200, .source = "pam_iam", .name = "Login",
		.user_name = "al\"ice\n", .user_arn = "arn:iam:iam::1:user/alice",
		.source_ip = "192.0.2.1", .params = params, .n_params = 3,
		.error_code = "InvalidPassword",
		.decision_json = "{\"decision\":\"Allow\",\"matched\":[]}",
	};
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *ui;

	cr_assert_eq(iam_trail_format(&ev, &b), 0);
	cr_assert_eq(b.buf[b.len - 1], '\n');
	cr_expect_null(memchr(b.buf, '\n', b.len - 1));
	cr_assert_eq(iam_json_parse(b.buf, b.len, NULL, &doc, NULL, 0), 0);
	root = iam_json_root(doc);
	cr_expect_str_eq(iam_json_get(root, "eventTime")->u.string,
			 "2026-09-01T09:00:00Z");
	cr_expect_str_eq(iam_json_get(root, "eventSource")->u.string, "pam_iam");
	cr_expect_str_eq(iam_json_get(root, "eventName")->u.string, "Login");
	ui = iam_json_get(root, "userIdentity");
	cr_expect_str_eq(iam_json_get(ui, "type")->u.string, "IAMUser");
	cr_expect_str_eq(iam_json_get(ui, "userName")->u.string, "al\"ice\n");
	cr_expect_str_eq(iam_json_get(root, "sourceIPAddress")->u.string,
			 "192.0.2.1");
	cr_expect_str_eq(iam_json_get(iam_json_get(root, "requestParameters"),
				      "service")->u.string, "sshd");
	cr_expect_null(iam_json_get(iam_json_get(root, "requestParameters"),
				    "skipped"));
	cr_expect_str_eq(iam_json_get(root, "errorCode")->u.string,
			 "InvalidPassword");
	cr_expect_str_eq(iam_json_get(iam_json_get(root, "decision"),
				      "decision")->u.string, "Allow");
	iam_json_free(doc);
	iam_buf_release(&b);
}

Test(audit, bad_events_are_refused)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_event ev = { .source = "pam_iam" };

	cr_expect_eq(iam_trail_format(&ev, &b), -EINVAL);
	ev.name = "Login";
	ev.decision_json = "[1]";
	cr_expect_eq(iam_trail_format(&ev, &b), -EINVAL);
	ev.decision_json = "{broken";
	cr_expect_eq(iam_trail_format(&ev, &b), -EINVAL);
	ev.decision_json = NULL;
	ev.user_name = "\xff\xfe";
	cr_expect_eq(iam_trail_format(&ev, &b), 0);
	cr_expect(strstr(b.buf, "\"??\"") != NULL, "%s", b.buf);
	iam_buf_release(&b);
}

Test(audit, write_creates_0600_and_appends)
{
	struct iam_event ev = { .source = "iamctl", .name = "Unlock" };
	struct stat st;
	char *t;

	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fl()), 0);
	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fl()), 0);
	cr_assert_eq(stat(cfg->trail_file, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	t = t_slurp(cfg->trail_file);
	cr_assert_not_null(t);
	cr_expect_eq(strlen(t) > 0 && strchr(strchr(t, '\n') + 1, '\n') != NULL, 1);
	free(t);
}

Test(audit, insecure_folder_or_file_or_symlink_refuses)
{
	struct iam_event ev = { .source = "iamctl", .name = "Unlock" };
	char target[128];

	cr_assert_eq(chmod(dir, 0777), 0);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fl()), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	t_write(target, "", 0, 0600);
	cr_assert_eq(symlink(target, cfg->trail_file), 0);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fl()), -ELOOP);
	cr_assert_eq(unlink(cfg->trail_file), 0);
	t_write(cfg->trail_file, "", 0, 0622);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fl()), -EPERM);
}
