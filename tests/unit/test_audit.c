/*
 * test_audit.c - the audit trail: CloudTrail-shaped lines generated with
 * yajl_gen, one write per event, strict file and folder rules.
 */
#include <sys/file.h>

#include "fixtures.h"

static char dir[64];
static struct iam_config *cfg;

static void
setup(void)
{
	char path[128];

	fx_tmpdir(dir, sizeof(dir), "trail", 0700);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	snprintf(path, sizeof(path), "%s/trail.jsonl", dir);
	free(cfg->trail_file);
	cfg->trail_file = strdup(path);
}

static void
teardown(void)
{
	fx_rmtree(dir);
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

	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	cr_assert_eq(stat(cfg->trail_file, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	t = fx_slurp(cfg->trail_file);
	cr_assert_not_null(t);
	cr_expect_eq(strlen(t) > 0 && strchr(strchr(t, '\n') + 1, '\n') != NULL, 1);
	free(t);
}

Test(audit, insecure_folder_or_file_or_symlink_refuses)
{
	struct iam_event ev = { .source = "iamctl", .name = "Unlock" };
	char target[128];

	cr_assert_eq(chmod(dir, 0777), 0);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), -EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	fx_write(target, "", 0, 0600);
	cr_assert_eq(symlink(target, cfg->trail_file), 0);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), -ELOOP);
	cr_assert_eq(unlink(cfg->trail_file), 0);
	fx_write(cfg->trail_file, "", 0, 0622);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), -EPERM);
}

/* ---- No event dropped for its size ------------------------------------- */

static char *
filled(size_t n, const char *unit)
{
	size_t k = strlen(unit);
	char *s = malloc(n * k + 1);

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * k, unit, k);
	s[n * k] = '\0';
	return s;
}

/* Format ev; the line must be under 64 KiB and parse; *ret_doc is kept. */
static const struct iam_json *
format_fits(const struct iam_event *ev, struct iam_json_doc **ret_doc)
{
	struct iam_buf b = IAM_BUF_INIT;

	cr_assert_eq(iam_trail_format(ev, &b), 0);
	cr_expect_lt(b.len, 64u << 10, "a record of %zu bytes", b.len);
	cr_expect_null(memchr(b.buf, '\n', b.len - 1));
	cr_assert_eq(iam_json_parse(b.buf, b.len, NULL, ret_doc, NULL, 0), 0);
	iam_buf_release(&b);
	return iam_json_root(*ret_doc);
}

static bool
truncated(const struct iam_json *root)
{
	const struct iam_json *t = iam_json_get(root, "truncated");

	return t != NULL && t->type == IAM_JSON_BOOL && t->u.boolean;
}

Test(audit, a_field_over_4_kib_is_cut_and_marked)
{
	char *big = filled(300 * 1024, "x");
	struct iam_event_param p[] = {
		{ "command", big }, { "runAs", "root" },
	};
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .user_name = "alice",
		.params = p, .n_params = 2, .error_code = "AccessDenied",
	};
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *rp;

	root = format_fits(&ev, &doc);
	cr_expect_str_eq(iam_json_get(root, "eventName")->u.string, "SudoRun");
	cr_expect_str_eq(iam_json_get(root, "errorCode")->u.string,
			 "AccessDenied");
	rp = iam_json_get(root, "requestParameters");
	cr_expect_eq(strlen(iam_json_get(rp, "command")->u.string), 4096);
	cr_expect_str_eq(iam_json_get(rp, "runAs")->u.string, "root");
	cr_expect(truncated(root));
	iam_json_free(doc);
	free(big);
}

Test(audit, a_short_record_is_not_marked)
{
	char *edge = filled(4096, "y");
	struct iam_event_param p[] = { { "command", edge } };
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .params = p,
		.n_params = 1,
	};
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root = format_fits(&ev, &doc);

	cr_expect_str_eq(iam_json_get(iam_json_get(root, "requestParameters"),
				      "command")->u.string, edge);
	cr_expect_null(iam_json_get(root, "truncated"));
	iam_json_free(doc);
	free(edge);
}

Test(audit, a_cut_never_splits_a_character)
{
	char *e = filled(3000, "\xc3\xa9");	/* é, 6000 bytes */
	char *euro = filled(2000, "\xe2\x82\xac");	/* €, 6000 bytes */
	struct iam_event_param p[] = { { "a", e }, { "b", euro } };
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .params = p,
		.n_params = 2,
	};
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root = format_fits(&ev, &doc), *rp;

	rp = iam_json_get(root, "requestParameters");
	cr_expect_eq(strlen(iam_json_get(rp, "a")->u.string), 4096);
	cr_expect_eq(strncmp(iam_json_get(rp, "a")->u.string, e, 4096), 0);
	cr_expect_eq(strlen(iam_json_get(rp, "b")->u.string), 4095);
	cr_expect_eq(strncmp(iam_json_get(rp, "b")->u.string, euro, 4095), 0);
	cr_expect(truncated(root));
	iam_json_free(doc);
	free(e);
	free(euro);
}

Test(audit, many_fields_and_a_huge_decision_still_fit)
{
	size_t n = 20000;
	struct iam_event_param *p = calloc(n, sizeof(*p));
	char *ctl = filled(300 * 1024, "\x01");	/* 6 bytes each, escaped */
	char *val = filled(1024, "v"), *decision, *big;
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .user_name = ctl,
		.params = p, .n_params = n, .error_code = "AccessDenied",
	};
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	size_t len = 300 * 1024 + 64;

	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++) {
		char *k = malloc(16);

		cr_assert_not_null(k);
		snprintf(k, 16, "arg%zu", i);
		p[i] = (struct iam_event_param){ k, val };
	}
	decision = malloc(len);
	cr_assert_not_null(decision);
	big = filled(300 * 1024, "r");
	snprintf(decision, len, "{\"decision\":\"ExplicitDeny\","
		 "\"resource\":\"%s\"}", big);
	free(big);
	ev.decision_json = decision;
	root = format_fits(&ev, &doc);
	cr_expect_str_eq(iam_json_get(root, "eventName")->u.string, "SudoRun");
	cr_expect_str_eq(iam_json_get(root, "errorCode")->u.string,
			 "AccessDenied");
	cr_expect_str_eq(iam_json_get(iam_json_get(root, "decision"),
				      "decision")->u.string, "ExplicitDeny");
	cr_expect_not_null(iam_json_get(iam_json_get(root,
				"requestParameters"), "arg0"));
	cr_expect(truncated(root));
	iam_json_free(doc);
	for (size_t i = 0; i < n; i++)
		free((char *)p[i].key);
	free(p);
	free(ctl);
	free(val);
	free(decision);
}

Test(audit, a_300_kb_event_is_written_whole_and_under_64_kib)
{
	char *big = filled(300 * 1024, "z");
	struct iam_event_param p[] = { { "command", big } };
	struct iam_event ev = {
		.source = "sudo_iam", .name = "SudoRun", .params = p,
		.n_params = 1, .error_code = "AccessDenied",
	};
	char line[70000];
	FILE *f;

	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	f = fopen(cfg->trail_file, "re");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_expect_lt(strlen(line), 64u << 10);
	cr_expect(strstr(line, "\"eventName\":\"SudoRun\"") != NULL);
	cr_expect(strstr(line, "\"truncated\":true") != NULL);
	fclose(f);
	free(big);
}

/* A setuid caller's group (its effective gid) never owns what is created. */
Test(audit, folder_and_file_created_root_root_whatever_the_callers_group)
{
	struct iam_event ev = { .source = "iamctl", .name = "AssumeRole" };
	char sub[128], path[160];
	struct stat st;

	FX_NEED_ROOT();
	snprintf(sub, sizeof(sub), "%s/log", dir);
	snprintf(path, sizeof(path), "%s/trail.jsonl", sub);
	free(cfg->trail_file);
	cfg->trail_file = strdup(path);
	cr_assert_eq(setegid(70100), 0);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	cr_assert_eq(setegid(0), 0);
	cr_assert_eq(stat(sub, &st), 0);
	cr_expect(st.st_uid == 0 && st.st_gid == 0, "folder %u:%u",
		  (unsigned)st.st_uid, (unsigned)st.st_gid);
	cr_expect_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect(st.st_uid == 0 && st.st_gid == 0, "file %u:%u",
		  (unsigned)st.st_uid, (unsigned)st.st_gid);
	cr_expect_eq(st.st_mode & 07777, 0600);
}

/*
 * A holder of the trail's lock that never lets go (a user stopped su,
 * sudo or passwd while pam_iam wrote its line) holds up no one: the line
 * goes out, whole, after a bounded wait.
 */
Test(audit, a_stopped_lock_holder_delays_a_write_but_never_blocks_it,
     .timeout = 15)
{
	struct iam_event ev = { .source = "pam_iam", .name = "Login" };
	struct timespec a, b;
	double secs;
	char *t;
	int fd;

	cr_assert_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	fd = open(cfg->trail_file, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(iam_trail_write_flags(cfg, &ev, fx_strict_flags()), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	cr_expect(secs >= 1.5 && secs < 5, "waited %.2f s", secs);
	t = fx_slurp(cfg->trail_file);
	cr_assert_not_null(t);
	cr_expect(strstr(strchr(t, '\n') + 1, "\"eventName\":\"Login\"") != NULL,
		  "the second line: %s", t);
	free(t);
}
