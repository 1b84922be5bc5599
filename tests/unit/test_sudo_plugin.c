/*
 * test_sudo_plugin.c - the sudo approval plugin (sudo_iam/): the built
 * sudo_iam.so is loaded with dlopen and driven as sudo drives it (open,
 * check, close) with crafted user_info and command_info vectors and a
 * printf that records what the user would see.
 *
 * Runs as root (scripts/run-unit.sh): each test unshares its mount
 * namespace and binds an /etc/passwd naming the IAM users over the real
 * one, so that NSS resolves them as nss_iam would; every other path
 * lives in a fresh folder under /tmp.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sudo_plugin.h>

#include "iam.h"
#include "fixtures.h"

#define ACCOUNT		"123456789012"
#define ARN_CMD		"arn:iam:sudo::" ACCOUNT ":host/web1/command"
#define ARN_ENV		"arn:iam:sudo::" ACCOUNT ":host/web1/env"
#define ARN_FILE	"arn:iam:sudo::" ACCOUNT ":host/web1/file"
#define MSG_EXPLICIT	"sudo: denied by IAM policy (explicit deny)\n"
#define MSG_NO_ALLOW	"sudo: denied by IAM policy (no allow)\n"
#define MSG_DISABLED	"sudo: denied by IAM policy (account disabled)\n"
#define MSG_UNAVAIL	"sudo: IAM unavailable; refused\n"

enum { ALICE = 70001, MONA, DAVE, MALLORY, ERIN, WENDY };
#define MALLORY_LOCAL	1234	/* /etc/passwd disagrees with the snapshot */
#define LOCAL_UID	1500	/* a local account, not in the snapshot */
#define STRAY_UID	70050	/* local name with a uid in the IAM range */

static char tmp[64];
static void *libiam, *so;
static struct approval_plugin *plugin;
static char said[8192];
static int said_type;

/* ---- Fixture ---------------------------------------------------------- */

static const char *
at(const char *name)
{
	return fx_path(tmp, name);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	size_t len = strlen(text);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* iam.conf of the fixture, with extra settings appended. */
static void
write_conf(const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "identity_file = \"%s/etc/identity.json\";\n"
		 "credentials_dir = \"%s/var/credentials\";\n"
		 "state_dir = \"%s/var/state\";\n"
		 "snapshot_dir = \"%s/var/snap\";\n"
		 "run_dir = \"%s/run\";\n"
		 "trail_file = \"%s/log/trail.jsonl\";\n"
		 "hostname = \"web1\";\n%s\n",
		 tmp, tmp, tmp, tmp, tmp, tmp,
		 extra ? extra : "host_tags = { Environment = \"Development\"; };");
	put(at("etc/iam.conf"), text, 0644);
}

static void
write_identity(void)
{
	char text[8192];

	snprintf(text, sizeof(text),
"{ \"account\": { \"id\": \"" ACCOUNT "\" },\n"
"  \"groups\": [ { \"name\": \"staff\", \"gid\": 70100 },\n"
"    { \"name\": \"ops\", \"gid\": 70101, \"policies\": [\"NoStop\"] } ],\n"
"  \"users\": [\n"
"    { \"name\": \"alice\", \"uid\": 70001, \"primary_group\": \"staff\",\n"
"      \"groups\": [\"ops\"], \"policies\": [\"SudoBin\"] },\n"
"    { \"name\": \"mona\", \"uid\": 70002, \"primary_group\": \"staff\",\n"
"      \"policies\": [\"FreshMFA\"] },\n"
"    { \"name\": \"dave\", \"uid\": 70003, \"primary_group\": \"staff\",\n"
"      \"policies\": [\"SudoBin\"], \"disabled\": true },\n"
"    { \"name\": \"mallory\", \"uid\": 70004, \"primary_group\": \"staff\",\n"
"      \"policies\": [\"SudoBin\"] },\n"
"    { \"name\": \"erin\", \"uid\": 70005, \"primary_group\": \"staff\",\n"
"      \"policies\": [\"DevOnly\"] },\n"
"    { \"name\": \"wendy\", \"uid\": 70006, \"primary_group\": \"staff\",\n"
"      \"policies\": [\"Everything\"] } ],\n"
"  \"policies\": {\n"
"    \"SudoBin\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"BinAsRoot\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"" ARN_CMD "/usr/bin/*\",\n"
"        \"Condition\": { \"StringEquals\": { \"iam:RunAsUser\": \"root\" } } },\n"
"      { \"Sid\": \"TarAsBackup\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"" ARN_CMD "/usr/bin/tar\",\n"
"        \"Condition\": { \"StringEquals\": { \"iam:RunAsUser\": \"backup\" } } },\n"
"      { \"Sid\": \"Tools\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"" ARN_CMD "%s/tools/*\" },\n"
"      { \"Sid\": \"Foo\", \"Effect\": \"Allow\", \"Action\": \"sudo:SetEnv\",\n"
"        \"Resource\": \"" ARN_ENV "/FOO\" },\n"
"      { \"Sid\": \"NoFooForTar\", \"Effect\": \"Deny\", \"Action\": \"sudo:SetEnv\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"StringEquals\":\n"
"          { \"iam:CommandPath\": \"/usr/bin/tar\" } } },\n"
"      { \"Sid\": \"EditConf\", \"Effect\": \"Allow\", \"Action\": \"sudo:Edit\",\n"
"        \"Resource\": \"" ARN_FILE "%s/edit/allowed.conf\" },\n"
"      { \"Sid\": \"NoEditShadow\", \"Effect\": \"Deny\", \"Action\": \"sudo:Edit\",\n"
"        \"Resource\": \"" ARN_FILE "/etc/shadow\" } ] },\n"
"    \"Everything\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"All\", \"Effect\": \"Allow\", \"Action\": \"*\",\n"
"        \"Resource\": \"*\" } ] },\n"
"    \"NoStop\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"NoStop\", \"Effect\": \"Deny\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"StringLike\":\n"
"          { \"iam:Command\": \"/usr/bin/systemctl stop *\" } } },\n"
"      { \"Sid\": \"NoForce\", \"Effect\": \"Deny\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"ForAnyValue:StringEquals\":\n"
"          { \"iam:CommandArgs\": \"--force\" } } } ] },\n"
"    \"FreshMFA\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"Fresh\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"NumericLessThan\":\n"
"          { \"aws:MultiFactorAuthAge\": \"900\" } } } ] },\n"
"    \"DevOnly\": { \"Version\": \"2012-10-17\", \"Statement\": [\n"
"      { \"Sid\": \"Dev\", \"Effect\": \"Allow\", \"Action\": \"sudo:Run\",\n"
"        \"Resource\": \"*\", \"Condition\": { \"StringEquals\":\n"
"          { \"aws:ResourceTag/Environment\": \"Development\" } } } ] } }\n"
"}\n", tmp, tmp);
	put(at("etc/identity.json"), text, 0600);
}

static void
publish(void)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = NULL;
	char err[256] = "";
	int r;

	cr_assert_eq(iam_config_load(at("etc/iam.conf"), true, &cfg, err,
				     sizeof(err)), 0, "%s", err);
	r = iam_publish(cfg, at("host"), &f);
	cr_assert_eq(r, 0, "publish: %s; %s", strerror(-r),
		     f.n ? f.v[0] : "");
	iam_faults_release(&f);
	iam_config_free(cfg);
}

/*
 * Give this test process its own mount namespace and an /etc/passwd
 * with the fixture's users bound over the real one, so NSS resolves them
 * as nss_iam would and the host's files are never touched.
 */
static bool
private_passwd(const char *extra)
{
	char cmd[512];

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	snprintf(cmd, sizeof(cmd), "cp /etc/passwd '%s/passwd'", tmp);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(chmod(at("passwd"), 0644), 0);
	append(at("passwd"), extra);
	cr_assert_eq(mount(at("passwd"), "/etc/passwd", NULL, MS_BIND, NULL), 0,
		     "%s", strerror(errno));
	return true;
}

static void
setup(void)
{
	FX_NEED_ROOT();
	fx_tmpdir(tmp, sizeof(tmp), "sudo", 0755);
	cr_assert_eq(mkdir(at("etc"), 0755), 0);
	cr_assert_eq(mkdir(at("var"), 0755), 0);
	cr_assert_eq(mkdir(at("tools"), 0755), 0);
	cr_assert_eq(mkdir(at("edit"), 0755), 0);
	cr_assert_eq(mkdir(at("host"), 0755), 0);
	cr_assert_eq(mkdir(at("host/etc"), 0755), 0);
	put(at("host/etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n", 0644);
	put(at("host/etc/group"), "root:x:0:\n", 0644);
	put(at("host/etc/subuid"), "", 0644);
	put(at("host/etc/subgid"), "", 0644);
	/* A link in an allowed folder to a command outside it. */
	cr_assert_eq(symlink("/usr/sbin/nologin", at("tools/sneaky")), 0);
	put(at("tools/ok"), "#!/bin/sh\n", 0755);
	write_conf(NULL);
	write_identity();
	publish();
	/* NSS as nss_iam would answer; mallory resolves to another uid. */
	if (!private_passwd(
	       "alice:x:70001:70100::/home/alice:/bin/sh\n"
	       "mona:x:70002:70100::/home/mona:/bin/sh\n"
	       "dave:x:70003:70100::/home/dave:/bin/sh\n"
	       "mallory:x:1234:1234::/home/mallory:/bin/sh\n"
	       "erin:x:70005:70100::/home/erin:/bin/sh\n"
	       "wendy:x:70006:70100::/home/wendy:/bin/sh\n"
	       "localu:x:1500:1500::/home/localu:/bin/sh\n"
	       "stray:x:70050:70050::/home/stray:/bin/sh\n"))
		cr_skip_test("needs a private mount namespace");
	libiam = dlopen(BUILD_DIR "/libiam.so.1", RTLD_NOW | RTLD_GLOBAL);
	cr_assert_not_null(libiam, "%s", dlerror());
	so = dlopen(BUILD_DIR "/sudo_iam.so", RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(so, "%s", dlerror());
	plugin = dlsym(so, "sudo_iam");
	cr_assert_not_null(plugin);
}

static void
teardown(void)
{
	if (so != NULL)
		dlclose(so);
	if (libiam != NULL)
		dlclose(libiam);
	so = libiam = NULL;
	if (tmp[0] == '\0')
		return;
	fx_rmtree(tmp);
}

TestSuite(sudo, .init = setup, .fini = teardown);

/* ---- Driving the plugin as sudo does ---------------------------------- */

static int
capture(int type, const char *fmt, ...)
{
	size_t n = strlen(said);
	va_list ap;
	int r;

	said_type = type;
	va_start(ap, fmt);
	r = vsnprintf(said + n, sizeof(said) - n, fmt, ap);
	va_end(ap);
	return r;
}

struct call {
	const char *options;	/* space-separated; NULL: config= fixture */
	const char *user;	/* user_info user= (NULL: left out) */
	long uid;		/* user_info uid= (-1: left out) */
	const char *tty;
	const char *command;	/* command_info command= */
	const char *args[8];	/* run_argv[1..] */
	long runas_uid;		/* -1: left out */
	long runas_gid;		/* -1: left out */
	const char *extra;	/* one more command_info entry */
	const char *extra2;	/* and another */
	unsigned version;	/* 0: SUDO_API_VERSION */
	const char *settings[4];	/* open()'s settings */
	const char *words[6];	/* sudo's words before the command */
	const char *submit_env[8];	/* NULL: { "PATH=/evil" } */
	const char *run_env[8];	/* NULL: { "PATH=/evil" } */
};

static int open_rc;
static const char *errstr;

/* open + check + close; returns check()'s result (or open()'s if not 1). */
static int
run(const struct call *c)
{
	char opt_copy[512], *options[8] = { NULL }, *save = NULL, *tok;
	char user[64], uid[32], tty[64], cmd[512], ruid[32], rgid[32];
	char *user_info[8] = { NULL }, *command_info[8] = { NULL };
	char *run_argv[10] = { NULL }, *submit_argv[20] = { "sudo" };
	char *settings[5] = { NULL }, *envp[] = { "PATH=/evil", NULL };
	char **submit_envp = envp, **run_envp = envp;
	size_t n = 0, i;
	int rc, optind = 1;

	said[0] = '\0';
	said_type = 0;
	errstr = NULL;
	if (c->options != NULL)
		snprintf(opt_copy, sizeof(opt_copy), "%s", c->options);
	else
		snprintf(opt_copy, sizeof(opt_copy), "config=%s",
			 at("etc/iam.conf"));
	for (tok = strtok_r(opt_copy, " ", &save); tok != NULL && n < 7;
	     tok = strtok_r(NULL, " ", &save))
		options[n++] = tok;
	n = 0;
	if (c->user != NULL) {
		snprintf(user, sizeof(user), "user=%s", c->user);
		user_info[n++] = user;
	}
	if (c->uid >= 0) {
		snprintf(uid, sizeof(uid), "uid=%ld", c->uid);
		user_info[n++] = uid;
	}
	if (c->tty != NULL) {
		snprintf(tty, sizeof(tty), "tty=%s", c->tty);
		user_info[n++] = tty;
	}
	user_info[n++] = "host=web1";
	n = 0;
	snprintf(cmd, sizeof(cmd), "command=%s", c->command);
	command_info[n++] = cmd;
	if (c->runas_uid >= 0) {
		snprintf(ruid, sizeof(ruid), "runas_uid=%ld", c->runas_uid);
		command_info[n++] = ruid;
	}
	if (c->runas_gid >= 0) {
		snprintf(rgid, sizeof(rgid), "runas_gid=%ld", c->runas_gid);
		command_info[n++] = rgid;
	}
	if (c->extra != NULL)
		command_info[n++] = (char *)c->extra;
	if (c->extra2 != NULL)
		command_info[n++] = (char *)c->extra2;
	run_argv[0] = (char *)c->command;
	for (i = 0; i < 8 && c->args[i] != NULL; i++)
		run_argv[i + 1] = (char *)c->args[i];
	/* submit_argv: sudo, its words, then the command as run_argv has it. */
	for (i = 0; i < 6 && c->words[i] != NULL; i++)
		submit_argv[optind++] = (char *)c->words[i];
	for (i = 0; run_argv[i] != NULL; i++)
		submit_argv[optind + (int)i] = run_argv[i];
	for (i = 0; i < 4 && c->settings[i] != NULL; i++)
		settings[i] = (char *)c->settings[i];
	if (c->submit_env[0] != NULL)
		submit_envp = (char **)c->submit_env;
	if (c->run_env[0] != NULL)
		run_envp = (char **)c->run_env;
	open_rc = plugin->open(c->version ? c->version : SUDO_API_VERSION,
			       NULL, capture, settings, user_info, optind,
			       submit_argv, submit_envp,
			       options[0] != NULL ? options : NULL, &errstr);
	if (open_rc != 1)
		return open_rc;
	rc = plugin->check(command_info, run_argv, run_envp, &errstr);
	plugin->close();
	return rc;
}

/* A call for an IAM user running command as root. */
#define AS(name, id, cmd, ...) \
	(&(struct call){ .user = (name), .uid = (id), .command = (cmd), \
			 .args = { __VA_ARGS__ }, .runas_uid = 0, \
			 .runas_gid = 0 })

static void
approved(const struct call *c)
{
	int rc = run(c);

	cr_assert_eq(rc, 1, "%s %s: check() = %d, said \"%s\"", c->user,
		     c->command, rc, said);
	cr_assert_str_empty(said, "approval said \"%s\"", said);
}

static void
refused(const struct call *c, const char *msg)
{
	int rc = run(c);

	cr_assert_eq(rc, 0, "%s %s: check() = %d (nothing may run)", c->user,
		     c->command, rc);
	cr_assert_str_eq(said, msg);
	cr_assert_eq(said_type, SUDO_CONV_ERROR_MSG);
	cr_assert_not_null(errstr);
}

/* The last line of the trail; "" when there is none. */
static const char *
last_event(void)
{
	static char line[16384];
	char buf[65536];
	ssize_t n;
	int fd = open(at("log/trail.jsonl"), O_RDONLY | O_CLOEXEC);
	char *end, *start;

	line[0] = '\0';
	if (fd < 0)
		return line;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return line;
	buf[n] = '\0';
	end = buf + n - 1;
	if (*end == '\n')
		*end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	if (strlen(start) < sizeof(line))
		memcpy(line, start, strlen(start) + 1);
	return line;
}

static size_t
trail_lines(void)
{
	char buf[65536];
	ssize_t n;
	size_t lines = 0;
	int fd = open(at("log/trail.jsonl"), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

static void
event_has(const char *text)
{
	const char *ev = last_event();

	cr_assert(strstr(ev, text) != NULL, "trail event lacks %s: %s", text,
		  ev);
}

static void
session_record(uint32_t uid, uint32_t rec_uid, int64_t mfa_time,
	       const char *rhost)
{
	struct iam_session_rec rec = { .mfa_time = mfa_time, .uid = rec_uid };
	char key[96];

	snprintf(rec.rhost, sizeof(rec.rhost), "%s", rhost ? rhost : "");
	cr_assert_eq(iam_session_key(uid, "/dev/pts/7", key, sizeof(key)), 0);
	cr_assert_eq(iam_session_write(at("run"), key, &rec, 0), 0);
}

/* ---- Loading -------------------------------------------------------------- */

Test(sudo, loads_with_rtld_now_as_an_approval_plugin)
{
	cr_assert_eq(plugin->type, SUDO_APPROVAL_PLUGIN);
	cr_assert_eq(SUDO_API_VERSION_GET_MAJOR(plugin->version),
		     SUDO_API_VERSION_MAJOR);
	cr_assert_not_null(plugin->open);
	cr_assert_not_null(plugin->check);
	cr_assert_not_null(plugin->close);
	cr_assert_null(dlsym(so, "sudo_iam_decide"), "internals exported");
}

Test(sudo, show_version_prints_the_version)
{
	char *empty[] = { NULL };

	said[0] = '\0';
	cr_assert_eq(plugin->open(SUDO_API_VERSION, NULL, capture, empty, empty,
				  0, empty, empty, NULL, &errstr), 1);
	cr_assert_eq(plugin->show_version(0), 1);
	plugin->close();
	cr_assert(strstr(said, "sudo_iam") && strstr(said, IAM_VERSION));
}

/* ---- Decisions for IAM users ------------------------------------------------ */

Test(sudo, allowed_command_is_approved_silently)
{
	approved(AS("alice", ALICE, "/usr/bin/id", "-u"));
	event_has("\"eventName\":\"SudoRun\"");
	event_has("\"eventSource\":\"sudo_iam\"");
	event_has("\"userName\":\"alice\"");
	event_has("\"command\":\"/usr/bin/id -u\"");
	event_has("\"runAsUser\":\"root\"");
	event_has("\"decision\":\"Allow\"");
	event_has("\"sid\":\"BinAsRoot\"");
	event_has("arn:iam:iam::" ACCOUNT ":user/alice");
}

Test(sudo, command_outside_the_allowed_path_is_refused)
{
	refused(AS("alice", ALICE, "/usr/sbin/nologin"), MSG_NO_ALLOW);
	event_has("\"decision\":\"ImplicitDeny\"");
	event_has("\"errorCode\":\"AccessDenied\"");
	event_has("\"command\":\"/usr/sbin/nologin\"");
}

Test(sudo, dot_dot_cannot_reach_past_a_path_pattern)
{
	refused(AS("alice", ALICE, "/usr/bin/../sbin/nologin"), MSG_NO_ALLOW);
	/* The trail shows the canonical path, not the one typed. */
	event_has("\"command\":\"/usr/sbin/nologin\"");
}

Test(sudo, symlink_in_an_allowed_folder_is_judged_by_its_target)
{
	approved(AS("alice", ALICE, at("tools/ok")));
	refused(AS("alice", ALICE, at("tools/sneaky")), MSG_NO_ALLOW);
	event_has("\"command\":\"/usr/sbin/nologin\"");
}

/*
 * sudo execs the path it was given: a link the user may swap after the
 * check would run another command than the allowed one it pointed to.
 */
Test(sudo, link_in_a_folder_the_user_owns_is_refused)
{
	cr_assert_eq(mkdir(at("home"), 0755), 0);
	cr_assert_eq(chown(at("home"), ALICE, 70100), 0);
	cr_assert_eq(symlink("/usr/bin/id", at("home/id")), 0);
	refused(AS("alice", ALICE, at("home/id")), MSG_UNAVAIL);
	cr_assert_eq(symlink(at("home"), at("tools/home")), 0);
	refused(AS("alice", ALICE, at("tools/home/id")), MSG_UNAVAIL);
	/* "..": the folder reached through the link counts, too. */
	cr_assert_eq(mkdir(at("home/sub"), 0755), 0);
	cr_assert_eq(symlink(at("home/sub"), at("tools/sub")), 0);
	refused(AS("alice", ALICE, at("tools/sub/../../../../../usr/bin/id")),
		MSG_UNAVAIL);
	/* A root link whose target is a link the user may swap. */
	cr_assert_eq(symlink("/usr/bin/id", at("home/hop")), 0);
	cr_assert_eq(symlink(at("home/hop"), at("tools/chain")), 0);
	refused(AS("alice", ALICE, at("tools/chain")), MSG_UNAVAIL);
	cr_assert_eq(symlink("../home/hop", at("tools/rel")), 0);
	refused(AS("alice", ALICE, at("tools/rel")), MSG_UNAVAIL);
	/* World-writable, not sticky: anyone may swap the link. */
	cr_assert_eq(mkdir(at("open"), 0777), 0);
	cr_assert_eq(chmod(at("open"), 0777), 0);
	cr_assert_eq(symlink("/usr/bin/id", at("open/id")), 0);
	refused(AS("alice", ALICE, at("open/id")), MSG_UNAVAIL);
	/* A root-owned link in root's folders is judged by its target. */
	cr_assert_eq(symlink("/usr/bin/id", at("tools/id")), 0);
	approved(AS("alice", ALICE, at("tools/id")));
	event_has("\"command\":\"/usr/bin/id\"");
}

Test(sudo, explicit_deny_beats_a_wildcard_allow)
{
	approved(AS("alice", ALICE, "/usr/bin/systemctl", "--version"));
	refused(AS("alice", ALICE, "/usr/bin/systemctl", "stop", "x"),
		MSG_EXPLICIT);
	event_has("\"decision\":\"ExplicitDeny\"");
	event_has("\"sid\":\"NoStop\"");
}

Test(sudo, every_argument_is_a_command_args_value)
{
	approved(AS("alice", ALICE, "/usr/bin/id", "-u", "-n"));
	refused(AS("alice", ALICE, "/usr/bin/id", "-u", "--force"),
		MSG_EXPLICIT);
	event_has("\"sid\":\"NoForce\"");
}

Test(sudo, run_as_user_is_decided_by_policy)
{
	struct call c = *AS("alice", ALICE, "/usr/bin/id", "-u");

	c.runas_uid = 34;	/* backup */
	c.runas_gid = 34;
	refused(&c, MSG_NO_ALLOW);
	event_has("\"runAsUser\":\"backup\"");
	event_has("\"runAsGroup\":\"backup\"");
	c.command = "/usr/bin/tar";
	approved(&c);
	event_has("\"sid\":\"TarAsBackup\"");
}

Test(sudo, missing_run_as_user_refuses_an_iam_user)
{
	struct call c = *AS("alice", ALICE, "/usr/bin/id");

	c.runas_uid = -1;
	refused(&c, MSG_UNAVAIL);
}

Test(sudo, chroot_commands_are_refused_for_iam_users)
{
	struct call c = *AS("alice", ALICE, "/usr/bin/id");

	c.extra = "chroot=/srv/jail";
	refused(&c, MSG_UNAVAIL);
}

Test(sudo, disabled_user_is_always_refused)
{
	refused(AS("dave", DAVE, "/usr/bin/id"), MSG_DISABLED);
	event_has("\"errorCode\":\"AccountDisabled\"");
	event_has("\"userName\":\"dave\"");
}

Test(sudo, mfa_age_comes_from_this_sessions_record)
{
	struct call c = *AS("mona", MONA, "/usr/bin/id");
	int64_t now = (int64_t)time(NULL);

	c.tty = "/dev/pts/7";
	refused(&c, MSG_NO_ALLOW);		/* no record: no MFA */
	session_record(MONA, MONA, now - 60, "192.0.2.7");
	approved(&c);
	event_has("\"sourceIPAddress\":\"192.0.2.7\"");
	event_has("\"mfaAge\":\"6");
	session_record(MONA, MONA, now - 1200, NULL);
	refused(&c, MSG_NO_ALLOW);		/* 20 minutes old */
	event_has("\"mfaAge\":\"12");
}

Test(sudo, another_sessions_record_never_counts)
{
	struct call c = *AS("mona", MONA, "/usr/bin/id");
	int64_t now = (int64_t)time(NULL);

	c.tty = "/dev/pts/7";
	/* A record under mona's key that belongs to another uid. */
	session_record(MONA, ALICE, now - 10, NULL);
	refused(&c, MSG_NO_ALLOW);
	/* alice's fresh record on another terminal. */
	session_record(ALICE, ALICE, now - 10, NULL);
	c.tty = "/dev/pts/8";
	refused(&c, MSG_NO_ALLOW);
}

Test(sudo, mfa_time_in_the_future_counts_as_absent)
{
	struct call c = *AS("mona", MONA, "/usr/bin/id");

	c.tty = "/dev/pts/7";
	session_record(MONA, MONA, (int64_t)time(NULL) + 3600, NULL);
	refused(&c, MSG_NO_ALLOW);
	cr_assert_null(strstr(last_event(), "mfaAge"));
}

Test(sudo, production_host_refuses_what_development_allows)
{
	approved(AS("erin", ERIN, "/usr/bin/id"));
	write_conf("host_tags = { Environment = \"Production\"; };");
	refused(AS("erin", ERIN, "/usr/bin/id"), MSG_NO_ALLOW);
	write_conf("");
	refused(AS("erin", ERIN, "/usr/bin/id"), MSG_NO_ALLOW);
}

/* ---- Who is an IAM user ---------------------------------------------------- */

Test(sudo, local_user_defers_to_sudoers_by_default)
{
	approved(AS("localu", LOCAL_UID, "/usr/sbin/nologin"));
	event_has("\"decision\":\"Deferred\"");
	event_has("\"type\":\"LocalUser\"");
	approved(AS("root", 0, "/usr/sbin/nologin"));
}

Test(sudo, local_user_refused_with_unknown_user_deny)
{
	struct call c = *AS("localu", LOCAL_UID, "/usr/sbin/nologin");
	char opts[512];

	snprintf(opts, sizeof(opts), "config=%s unknown_user=deny",
		 at("etc/iam.conf"));
	c.options = opts;
	refused(&c, MSG_NO_ALLOW);
	event_has("\"decision\":\"NotAnIAMUser\"");
}

Test(sudo, unknown_user_comes_from_iam_conf_and_the_option_overrides_it)
{
	struct call c = *AS("localu", LOCAL_UID, "/usr/bin/id");
	char opts[512];

	write_conf("sudo_unknown_user = \"deny\";");
	refused(&c, MSG_NO_ALLOW);
	snprintf(opts, sizeof(opts), "config=%s unknown_user=defer",
		 at("etc/iam.conf"));
	c.options = opts;
	approved(&c);
}

Test(sudo, name_resolving_to_another_uid_is_not_an_iam_user)
{
	/* The snapshot's mallory is 70004; NSS says 1234. */
	approved(AS("mallory", MALLORY_LOCAL, "/usr/sbin/nologin"));
	event_has("\"type\":\"LocalUser\"");
	/* A process claiming the snapshot's uid is not enough either. */
	approved(AS("mallory", MALLORY, "/usr/sbin/nologin"));
	event_has("\"type\":\"LocalUser\"");
}

Test(sudo, missing_user_info_refuses_everyone)
{
	struct call c = *AS("localu", LOCAL_UID, "/usr/bin/id");

	c.user = NULL;
	refused(&c, MSG_UNAVAIL);
	c.user = "localu";
	c.uid = -1;
	refused(&c, MSG_UNAVAIL);
}

/* ---- Fail closed, break-glass open --------------------------------------- */

static void
iam_refused_local_deferred(void)
{
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	event_has("\"errorCode\":\"Unavailable\"");
	/* Not in the snapshot, but inside the IAM uid range. */
	refused(AS("stray", STRAY_UID, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
	approved(AS("root", 0, "/usr/bin/id"));
}

Test(sudo, missing_snapshot_refuses_iam_users_only)
{
	cr_assert_eq(unlink(at("var/snap/auth/auth.db")), 0);
	iam_refused_local_deferred();
}

Test(sudo, insecure_snapshot_refuses_iam_users_only)
{
	cr_assert_eq(chmod(at("var/snap/auth/auth.db"), 0644), 0);
	iam_refused_local_deferred();
}

Test(sudo, snapshot_owned_by_another_user_is_refused)
{
	cr_assert_eq(chown(at("var/snap/auth/auth.db"), 1500, 0), 0);
	iam_refused_local_deferred();
}

Test(sudo, open_snapshot_folder_is_refused)
{
	cr_assert_eq(chmod(at("var/snap/auth"), 0777), 0);
	iam_refused_local_deferred();
}

Test(sudo, corrupt_snapshot_refuses_iam_users_only)
{
	int fd = open(at("var/snap/auth/auth.db"), O_RDWR | O_CLOEXEC);
	struct stat st;
	char junk[64];

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	memset(junk, 0x5a, sizeof(junk));
	/* Damage the header, then, in another run, the records. */
	cr_assert_eq(pwrite(fd, junk, sizeof(junk), 8), (ssize_t)sizeof(junk));
	close(fd);
	iam_refused_local_deferred();
}

Test(sudo, damaged_record_refuses_iam_users_only)
{
	int fd = open(at("var/snap/auth/auth.db"), O_RDWR | O_CLOEXEC);
	static char db[1 << 20];
	ssize_t n;
	char *p;

	cr_assert_geq(fd, 0);
	n = read(fd, db, sizeof(db));
	cr_assert_gt(n, 0);
	/* A byte of alice's record, just past her name. */
	p = memmem(db, (size_t)n, "alice", 6);
	cr_assert_not_null(p);
	p[8] ^= 0x40;
	cr_assert_eq(pwrite(fd, p + 8, 1, p + 8 - db), 1);
	close(fd);
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
}

Test(sudo, truncated_snapshot_refuses_iam_users_only)
{
	cr_assert_eq(truncate(at("var/snap/auth/auth.db"), 100), 0);
	iam_refused_local_deferred();
}

Test(sudo, missing_settings_refuse_iam_users_only)
{
	cr_assert_eq(unlink(at("etc/iam.conf")), 0);
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
}

Test(sudo, insecure_settings_refuse_iam_users_only)
{
	cr_assert_eq(chmod(at("etc/iam.conf"), 0666), 0);
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
	/* The default range still marks IAM uids when settings are bad. */
	refused(AS("stray", STRAY_UID, "/usr/bin/id"), MSG_UNAVAIL);
}

Test(sudo, invalid_settings_refuse_iam_users_only)
{
	write_conf("no_such_setting = 1;");
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
	write_conf("host_tags = { Environment = ");
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
}

Test(sudo, unusable_trail_refuses_an_iam_approval)
{
	size_t before;

	approved(AS("alice", ALICE, "/usr/bin/id"));
	before = trail_lines();
	cr_assert_eq(chmod(at("log"), 0777), 0);
	refused(AS("alice", ALICE, "/usr/bin/id"), MSG_UNAVAIL);
	/* Break-glass: local users never wait on the trail. */
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
	cr_assert_eq(chmod(at("log"), 0700), 0);
	cr_assert_eq(trail_lines(), before);
}

Test(sudo, unusable_trail_allowed_when_not_required)
{
	write_conf("trail_required = false; host_tags = { Environment = \"Development\"; };");
	cr_assert_eq(mkdir(at("log"), 0777), 0);
	cr_assert_eq(chmod(at("log"), 0777), 0);
	approved(AS("alice", ALICE, "/usr/bin/id"));
}

Test(sudo, command_that_cannot_be_resolved_is_refused)
{
	refused(AS("alice", ALICE, "/usr/bin/no-such-command"), MSG_UNAVAIL);
	refused(AS("alice", ALICE, "relative/id"), MSG_UNAVAIL);
}

Test(sudo, command_line_over_the_limits_is_refused)
{
	static char big[IAM_REQUEST_MAX_VALUE + 16];

	memset(big, 'a', sizeof(big) - 1);
	refused(AS("alice", ALICE, "/usr/bin/id", big), MSG_UNAVAIL);
}

Test(sudo, each_decision_is_one_trail_line)
{
	size_t before = trail_lines();

	approved(AS("alice", ALICE, "/usr/bin/id"));
	refused(AS("alice", ALICE, "/usr/sbin/nologin"), MSG_NO_ALLOW);
	refused(AS("dave", DAVE, "/usr/bin/id"), MSG_DISABLED);
	approved(AS("localu", LOCAL_UID, "/usr/bin/id"));
	cr_assert_eq(trail_lines(), before + 4);
}

/* ---- Options -------------------------------------------------------------- */

static void
open_refused(const char *options)
{
	struct call c = *AS("localu", LOCAL_UID, "/usr/bin/id");

	c.options = options;
	cr_assert_eq(run(&c), -1, "options \"%s\" accepted", options);
	cr_assert_eq(said_type, SUDO_CONV_ERROR_MSG);
	cr_assert(strstr(said, "sudo_iam: option") != NULL, "said \"%s\"",
		  said);
	cr_assert_not_null(errstr);
}

Test(sudo, bad_options_make_open_fail)
{
	open_refused("debug");
	open_refused("unknown_user=allow");
	open_refused("config=relative/iam.conf");
	open_refused("unknown_user=deny unknown_user=defer");
	open_refused("config=/a config=/b");
}

Test(sudo, incompatible_api_version_makes_open_fail)
{
	struct call c = *AS("localu", LOCAL_UID, "/usr/bin/id");

	c.version = SUDO_API_MKVERSION(SUDO_API_VERSION_MAJOR + 1, 0);
	cr_assert_eq(run(&c), -1);
	cr_assert_not_null(errstr);
}

Test(sudo, check_without_open_refuses)
{
	char *info[] = { "command=/usr/bin/id", "runas_uid=0", NULL };
	char *argv[] = { "/usr/bin/id", NULL };
	char *env[] = { NULL };

	/* An open that failed leaves nothing to approve with. */
	cr_assert_eq(run(&(struct call){ .options = "bogus", .user = "localu",
				       .uid = LOCAL_UID,
				       .command = "/usr/bin/id" }), -1);
	said[0] = '\0';
	cr_assert_eq(plugin->check(info, argv, env, &errstr), 0);
	cr_assert_str_eq(said, MSG_UNAVAIL);
}

Test(sudo, environment_never_changes_the_settings)
{
	/* run() passes PATH=/evil; IAM_CONFIG-like variables are ignored. */
	setenv("IAM_CONFIG", "/nonexistent", 1);
	approved(AS("alice", ALICE, "/usr/bin/id"));
}

/* ---- The environment: sudo:SetEnv ------------------------------------------ */

#define MSG_VAR_NO_ALLOW(v)	"sudo: denied by IAM policy (no allow for variable " v ")\n"
#define MSG_VAR_EXPLICIT(v)	"sudo: denied by IAM policy (explicit deny for variable " v ")\n"
#define MSG_VAR_NEVER(v)	"sudo: denied by IAM policy (variable " v " is never allowed)\n"
#define MSG_VAR_INVALID		"sudo: denied by IAM policy (a variable with an invalid name is never allowed)\n"

/* sudo NAME=VALUE... CMD as root, the command getting env. */
static struct call *
with_env(const char *user, long uid, const char *cmd, const char *word,
	 const char *const env[])
{
	static struct call c;

	c = *AS(user, uid, cmd);
	c.words[0] = word;
	for (size_t i = 0; env[i] != NULL && i < 7; i++)
		c.run_env[i] = env[i];
	return &c;
}

Test(sudo, reset_environment_asks_nothing_more)
{
	const char *const env[] = { "PATH=/usr/sbin:/usr/bin", "TERM=xterm",
		"HOME=/root", "SHELL=/bin/bash", "LANG=C.UTF-8",
		"SUDO_USER=erin", "SUDO_COMMAND=/usr/bin/id", NULL };
	struct call *c = with_env("erin", ERIN, "/usr/bin/id", NULL, env);

	/* erin may set no variable: a plain command is decided as before. */
	c->submit_env[0] = "HOME=/home/erin";
	approved(c);
	event_has("\"action\":\"sudo:Run\"");
	cr_assert_null(strstr(last_event(), "\"environment\""));
}

Test(sudo, variable_set_on_the_command_line_is_asked_by_name)
{
	const char *const env[] = { "PATH=/usr/bin", "FOO=1", NULL };
	const char *const bar[] = { "PATH=/usr/bin", "BAR=secret", NULL };

	approved(with_env("alice", ALICE, "/usr/bin/id", "FOO=1", env));
	event_has("\"environment\":\"FOO\"");
	refused(with_env("alice", ALICE, "/usr/bin/id", "BAR=secret", bar),
		MSG_VAR_NO_ALLOW("BAR"));
	event_has("\"action\":\"sudo:SetEnv\"");
	event_has("\"resource\":\"" ARN_ENV "/BAR\"");
	event_has("\"errorCode\":\"AccessDenied\"");
	/* Names, never values: a value may be a secret. */
	cr_assert_null(strstr(last_event(), "secret"), "%s", last_event());
	/* A user without any SetEnv allow gets nothing past sudoers. */
	refused(with_env("erin", ERIN, "/usr/bin/id", "FOO=1", env),
		MSG_VAR_NO_ALLOW("FOO"));
}

Test(sudo, variable_allow_may_hang_on_the_command)
{
	const char *const env[] = { "PATH=/usr/bin", "FOO=1", NULL };

	/* SudoBin allows FOO, NoFooForTar denies any variable for tar. */
	refused(with_env("alice", ALICE, "/usr/bin/tar", "FOO=1", env),
		MSG_VAR_EXPLICIT("FOO"));
	event_has("\"sid\":\"NoFooForTar\"");
}

Test(sudo, loader_and_interpreter_variables_are_refused_whatever_the_policy)
{
	static const char *const bad[] = {
		"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp",
		"LD_AUDIT=/tmp/a.so", "GCONV_PATH=/tmp", "BASH_ENV=/tmp/rc",
		"ENV=/tmp/rc", "PYTHONPATH=/tmp", "PYTHONSTARTUP=/tmp/x",
		"PERL5LIB=/tmp", "PERL5OPT=-Mevil", "PERLLIB=/tmp",
		"RUBYOPT=-revil", "RUBYLIB=/tmp", "NODE_OPTIONS=--require=x",
		"GLIBC_TUNABLES=glibc.x=1", "IFS=/", "JAVA_TOOL_OPTIONS=-x",
		"TERMINFO=/tmp", "ZDOTDIR=/tmp", "SHELLOPTS=xtrace",
		"PS4=$(evil)", "_RLD_ROOT=/tmp", NULL };

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *env[] = { "PATH=/usr/bin", bad[i], NULL };
		char name[64], msg[160];
		size_t n = strcspn(bad[i], "=");

		snprintf(name, sizeof(name), "%.*s", (int)n, bad[i]);
		snprintf(msg, sizeof(msg), "sudo: denied by IAM policy "
			 "(variable %s is never allowed)\n", name);
		/* wendy may do anything: still refused. */
		refused(with_env("wendy", WENDY, "/usr/bin/id", bad[i], env),
			msg);
		event_has("\"decision\":\"RefusedVariable\"");
	}
}

Test(sudo, refused_variable_counts_wherever_it_came_from)
{
	/* Not set by the user: sudoers' env_keep let it through. */
	const char *const env[] = { "PATH=/usr/bin",
		"LD_LIBRARY_PATH=/home/wendy/lib", NULL };

	refused(with_env("wendy", WENDY, "/usr/bin/id", NULL, env),
		MSG_VAR_NEVER("LD_LIBRARY_PATH"));
	/* Someone who is not an IAM user is sudoers' business. */
	approved(with_env("localu", LOCAL_UID, "/usr/bin/id", NULL, env));
}

Test(sudo, bash_functions_and_odd_names_are_refused)
{
	const char *const fn[] = { "FOO=() { /tmp/evil; }", NULL };
	const char *const bashfn[] = { "BASH_FUNC_id%%=() { :; }", NULL };
	const char *const odd[] = { "A-B=1", NULL };
	const char *const bare[] = { "PATH=/usr/bin", "NOVALUE", NULL };
	const char *const twice[] = { "FOO=1", "FOO=() { :; }", NULL };

	refused(with_env("wendy", WENDY, "/usr/bin/id", "FOO=() { /tmp/evil; }",
			 fn), MSG_VAR_NEVER("FOO"));
	refused(with_env("wendy", WENDY, "/usr/bin/id", NULL, bashfn),
		MSG_VAR_INVALID);
	refused(with_env("wendy", WENDY, "/usr/bin/id", "A-B=1", odd),
		MSG_VAR_INVALID);
	refused(with_env("wendy", WENDY, "/usr/bin/id", NULL, bare),
		MSG_VAR_INVALID);
	/* A duplicate cannot hide behind an allowed first entry. */
	refused(with_env("alice", ALICE, "/usr/bin/id", "FOO=1", twice),
		MSG_VAR_NEVER("FOO"));
}

Test(sudo, an_option_argument_is_not_a_variable)
{
	const char *const env[] = { "PATH=/usr/bin", "TERM=xterm", NULL };
	struct call *c = with_env("erin", ERIN, "/usr/bin/id", "-p", env);

	/* sudo -p a=b id: "a=b" is the prompt; no "a" reaches the command. */
	c->words[1] = "a=b";
	approved(c);
}

static struct call *
preserving(const char *user, long uid, const char *setting, const char *word,
	   const char *const submit[], const char *const env[])
{
	struct call *c = with_env(user, uid, "/usr/bin/id", word, env);

	c->settings[0] = setting;
	for (size_t i = 0; submit[i] != NULL && i < 7; i++)
		c->submit_env[i] = submit[i];
	return c;
}

Test(sudo, preserved_environment_asks_each_variable_env_reset_would_drop)
{
	const char *const user_env[] = { "HOME=/home/alice", "FOO=1",
		"TERM=xterm", "PATH=/home/alice/bin:/usr/bin",
		"SUDO_USER=alice", "LANG=C", NULL };
	/* What sudoers gives under -E: the user's, PATH from secure_path. */
	const char *const run_env[] = { "HOME=/home/alice", "FOO=1",
		"TERM=xterm", "PATH=/usr/sbin:/usr/bin", "SUDO_USER=alice",
		"LANG=C", "USER=root", NULL };
	const char *const foo_only[] = { "FOO=1", "TERM=xterm",
		"SUDO_USER=alice", "USER=root", NULL };

	refused(preserving("alice", ALICE, "preserve_environment=true", NULL,
			   user_env, run_env), MSG_VAR_NO_ALLOW("HOME"));
	event_has("\"environment\":\"HOME FOO\"");
	approved(preserving("alice", ALICE, "preserve_environment=true", NULL,
			    user_env, foo_only));
	event_has("\"environment\":\"FOO\"");
	/* The same entries without -E: what env_reset kept, nothing asked. */
	approved(preserving("erin", ERIN, "preserve_environment=false", NULL,
			    user_env, foo_only));
}

Test(sudo, preserve_env_list_is_seen_though_sudo_cut_it)
{
	const char *const user_env[] = { "FOO=1", "BAR=2", NULL };
	const char *const run_env[] = { "PATH=/usr/bin", "FOO=1", "BAR=2",
		NULL };

	/* sudo's strtok left "--preserve-env=FOO" of "FOO,BAR". */
	refused(preserving("alice", ALICE, NULL, "--preserve-env=FOO",
			   user_env, run_env), MSG_VAR_NO_ALLOW("BAR"));
	/* getopt_long takes an abbreviation. */
	refused(preserving("alice", ALICE, NULL, "--preserve-e=BAR",
			   user_env, run_env), MSG_VAR_NO_ALLOW("BAR"));
	refused(preserving("wendy", WENDY, NULL, "--preserve-env=LD_PRELOAD",
			   (const char *const[]){ "LD_PRELOAD=/tmp/e.so", NULL },
			   (const char *const[]){ "LD_PRELOAD=/tmp/e.so", NULL }),
		MSG_VAR_NEVER("LD_PRELOAD"));
}

Test(sudo, too_many_variables_refuse_an_iam_user)
{
	static char names[300][16];
	static const char *env[301];
	struct call *c = with_env("wendy", WENDY, "/usr/bin/id",
				  NULL, (const char *const[]){ NULL });
	char *settings[] = { "preserve_environment=true", NULL };
	char *argv[] = { "/usr/bin/id", NULL };
	char *info[] = { "command=/usr/bin/id", "runas_uid=0", NULL };
	char *user_info[] = { "user=wendy", "uid=70006", NULL };
	char opt[256];
	char *options[] = { opt, NULL };

	(void)c;
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "V%d=1", i);
		env[i] = names[i];
	}
	snprintf(opt, sizeof(opt), "config=%s", at("etc/iam.conf"));
	said[0] = '\0';
	cr_assert_eq(plugin->open(SUDO_API_VERSION, NULL, capture, settings,
				  user_info, 1, argv, (char **)env, options,
				  &errstr), 1);
	cr_assert_eq(plugin->check(info, argv, (char **)env, &errstr), 0);
	plugin->close();
	cr_assert_str_eq(said, MSG_UNAVAIL);
}

/* ---- sudoedit: sudo:Edit ------------------------------------------------------ */

#define MSG_EDIT_NO_ALLOW(f)	"sudo: denied by IAM policy (no allow to edit " f ")\n"

/* sudoedit FILES as root with editor EDITOR (its words, then "--"). */
static struct call *
editing(const char *user, long uid, const char *editor, const char *f1,
	const char *f2)
{
	static struct call c;

	c = *AS(user, uid, editor);
	c.extra = "sudoedit=true";
	c.settings[0] = "sudoedit=true";
	c.args[0] = "--";
	c.args[1] = f1;
	c.args[2] = f2;
	return &c;
}

static char *
file_text(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char *
edit_denied(const char *how, const char *path)
{
	static char msg[512];

	snprintf(msg, sizeof(msg), "sudo: denied by IAM policy (%s to edit "
		 "%s)\n", how, path);
	return msg;
}

Test(sudo, sudoedit_is_decided_by_its_files_never_by_its_editor)
{
	static char target[256];
	struct call *c;

	snprintf(target, sizeof(target), "%s", at("edit/target"));
	/*
	 * alice may run all of /usr/bin as root; SUDO_EDITOR="/usr/bin/tail -f
	 * /var/log/app.log" once made that the command decided.
	 */
	c = editing("alice", ALICE, "/usr/bin/tail", NULL, NULL);
	c->args[0] = "-f";
	c->args[1] = "/var/log/app.log";
	c->args[2] = "--";
	c->args[3] = target;
	refused(c, edit_denied("no allow", target));
	event_has("\"action\":\"sudo:Edit\"");
	event_has("\"editor\":\"/usr/bin/tail\"");
	cr_assert_null(strstr(last_event(), "\"command\""), "%s", last_event());
	cr_assert_null(file_text(target), "nothing was created");
	/* An Edit allow on the file: the editor does not matter. */
	put(at("edit/allowed.conf"), "old\n", 0644);
	approved(editing("alice", ALICE, "/usr/sbin/nologin",
			 at("edit/allowed.conf"), NULL));
	event_has("\"decision\":\"Allow\"");
	event_has("\"sid\":\"EditConf\"");
	cr_assert_str_eq(file_text(at("edit/allowed.conf")), "old\n");
}

Test(sudo, every_file_must_be_allowed)
{
	static char second[256];

	put(at("edit/allowed.conf"), "", 0644);
	put(at("edit/other.conf"), "", 0644);
	snprintf(second, sizeof(second), "%s", at("edit/other.conf"));
	refused(editing("alice", ALICE, "/usr/bin/vi", at("edit/allowed.conf"),
			second), edit_denied("no allow", second));
	/* wendy may do anything, but sudoedit is still decided per file. */
	approved(editing("wendy", WENDY, "/usr/bin/vi", at("edit/allowed.conf"),
			 second));
	event_has("\"files\":\"");
}

Test(sudo, a_new_file_is_canonical_by_its_folder)
{
	/* Not there yet, reached through "..": the folder's realpath. */
	cr_assert_eq(mkdir(at("edit/sub"), 0755), 0);
	approved(editing("alice", ALICE, "/usr/bin/vi",
			 at("edit/sub/../allowed.conf"), NULL));
	/* Relative to the working folder, as sudo opens it. */
	cr_assert_eq(chdir(at("edit/sub")), 0);
	approved(editing("alice", ALICE, "/usr/bin/vi", "../allowed.conf",
			 NULL));
	cr_assert_eq(chdir("/"), 0);
	/* A folder that is not there, a name that is not a file. */
	refused(editing("alice", ALICE, "/usr/bin/vi", at("nope/allowed.conf"),
			NULL), MSG_UNAVAIL);
	refused(editing("alice", ALICE, "/usr/bin/vi", at("edit/"), NULL),
		MSG_UNAVAIL);
	refused(editing("alice", ALICE, "/usr/bin/vi", at("edit/sub"), NULL),
		MSG_UNAVAIL);
	refused(editing("alice", ALICE, "/usr/bin/vi", "", NULL), MSG_UNAVAIL);
}

Test(sudo, a_link_is_judged_by_its_target_and_must_be_fixed)
{
	/* root's link in root's folder: the file it names is decided. */
	cr_assert_eq(symlink("/etc/shadow", at("edit/shadow")), 0);
	refused(editing("erin", ERIN, "/usr/bin/vi", at("edit/shadow"), NULL),
		edit_denied("no allow", "/etc/shadow"));
	event_has("\"resource\":\"" ARN_FILE "/etc/shadow\"");
	refused(editing("alice", ALICE, "/usr/bin/vi", at("edit/shadow"), NULL),
		edit_denied("explicit deny", "/etc/shadow"));
	/* A link alice could swap after the check is refused. */
	cr_assert_eq(mkdir(at("mine"), 0755), 0);
	cr_assert_eq(chown(at("mine"), ALICE, 70100), 0);
	put(at("edit/allowed.conf"), "", 0644);
	cr_assert_eq(symlink(at("edit/allowed.conf"), at("mine/conf")), 0);
	refused(editing("alice", ALICE, "/usr/bin/vi", at("mine/conf"), NULL),
		MSG_UNAVAIL);
	/* A dangling link cannot be canonicalised. */
	cr_assert_eq(symlink(at("edit/none"), at("edit/dangling")), 0);
	refused(editing("wendy", WENDY, "/usr/bin/vi", at("edit/dangling"),
			NULL), MSG_UNAVAIL);
}

Test(sudo, sudoedit_without_its_folder_checks_needs_a_fixed_path)
{
	struct call *c;

	cr_assert_eq(mkdir(at("mine"), 0755), 0);
	cr_assert_eq(chown(at("mine"), ALICE, 70100), 0);
	put(at("mine/f"), "", 0644);
	approved(editing("wendy", WENDY, "/usr/bin/vi", at("mine/f"), NULL));
	/* sudoers' !sudoedit_checkdir: the path must be root's alone. */
	c = editing("wendy", WENDY, "/usr/bin/vi", at("mine/f"), NULL);
	c->extra2 = "sudoedit_checkdir=false";
	refused(c, MSG_UNAVAIL);
	c = editing("wendy", WENDY, "/usr/bin/vi", at("mine/f"), NULL);
	c->extra2 = "sudoedit_follow=true";
	refused(c, MSG_UNAVAIL);
}

Test(sudo, sudoedit_files_are_found_as_sudo_finds_them)
{
	struct call *c;

	put(at("edit/allowed.conf"), "", 0644);
	/* sudoedit_nfiles: the last word after "--". */
	c = editing("alice", ALICE, "/usr/bin/vi", at("edit/allowed.conf"),
		    NULL);
	c->extra2 = "sudoedit_nfiles=1";
	approved(c);
	c = editing("alice", ALICE, "/usr/bin/vi", at("edit/allowed.conf"),
		    NULL);
	c->extra2 = "sudoedit_nfiles=2";
	refused(c, MSG_UNAVAIL);
	/* No "--": no files. */
	c = editing("alice", ALICE, "/usr/bin/vi", NULL, NULL);
	c->args[0] = at("edit/allowed.conf");
	refused(c, MSG_UNAVAIL);
	/* open() and check() must agree on the mode. */
	c = editing("alice", ALICE, "/usr/bin/vi", at("edit/allowed.conf"),
		    NULL);
	c->settings[0] = NULL;
	refused(c, MSG_UNAVAIL);
	c = editing("alice", ALICE, "/usr/bin/id", at("edit/allowed.conf"),
		    NULL);
	c->extra = NULL;
	refused(c, MSG_UNAVAIL);
	/* A local user's sudoedit is sudoers' business. */
	approved(editing("localu", LOCAL_UID, "/usr/bin/vi", at("edit/x"),
			 NULL));
}
