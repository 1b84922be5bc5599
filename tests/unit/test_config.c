/*
 * test_config.c - iam.conf(5): defaults, every setting, and every kind of
 * bad file refused with "FILE:LINE: message" (libiam/host/config.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"
#include "fixtures.h"

static char tmp[64];
static char conf[128];

static void
setup(void)
{
	/* Loading checks the owner: root only (scripts/run-unit.sh). */
	FX_NEED_ROOT();
	fx_tmpdir(tmp, sizeof(tmp), "config", 0755);
	snprintf(conf, sizeof(conf), "%s/iam.conf", tmp);
}

static void
teardown(void)
{
	fx_rmtree(tmp);
}

TestSuite(config, .init = setup, .fini = teardown);

static void
write_conf(const char *text, size_t len)
{
	int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
}

/* Load text; expect -EINVAL and an error that starts "FILE:LINE: ". */
static void
refused(const char *text, int line, const char *what)
{
	struct iam_config *cfg = NULL;
	char err[512] = "", want[256];

	write_conf(text, strlen(text));
	cr_assert_eq(iam_config_load(conf, true, &cfg, err, sizeof(err)),
		     -EINVAL, "accepted: %s", text);
	cr_assert_null(cfg, "ret_cfg set on failure");
	snprintf(want, sizeof(want), "%s:%d: ", conf, line);
	cr_assert_eq(strncmp(err, want, strlen(want)), 0,
		     "error \"%s\" does not start with \"%s\"", err, want);
	cr_assert(strstr(err, what) != NULL, "error \"%s\" lacks \"%s\"",
		  err, what);
}

static void
assert_defaults(const struct iam_config *c)
{
	cr_assert_str_eq(c->identity_file, IAM_SYSCONFDIR "/iam/identity.json");
	cr_assert_str_eq(c->credentials_dir, "/var/lib/iam/credentials");
	cr_assert_str_eq(c->state_dir, "/var/lib/iam/state");
	cr_assert_str_eq(c->run_dir, "/run/iam");
	cr_assert_str_eq(c->trail_file, "/var/log/iam/trail.jsonl");
	cr_assert_str_eq(c->snapshot_dir, IAM_SNAPSHOT_DIR);
	cr_assert(c->trail_required);
	cr_assert_str_eq(c->hostname, "");
	cr_assert_eq(c->n_host_tags, 0);
	cr_assert_eq(c->uid_min, 70000);
	cr_assert_eq(c->uid_max, 99999);
	cr_assert_eq(c->gid_min, 70000);
	cr_assert_eq(c->gid_max, 99999);
	cr_assert_eq(c->mfa, IAM_MFA_OPTIONAL);
	cr_assert_eq(c->n_mfa_exempt, 1);
	cr_assert_str_eq(c->mfa_exempt_services[0], "cron");
	cr_assert_eq(c->totp_window, 1);
	cr_assert_eq(c->hash_method, IAM_HASH_YESCRYPT);
	cr_assert(c->uniform_prompts);
	cr_assert_eq(c->sudo_unknown_user, IAM_UNKNOWN_DEFER);
	cr_assert_eq(c->log_level, LOG_NOTICE);
	cr_assert_eq(c->identity_max_bytes, 1024u << 20);
	cr_assert_eq(c->identity_max_users, 2000000);
	cr_assert_eq(c->identity_max_groups, 2000000);
	cr_assert_eq(c->rehash_max_users, 100000);
}

Test(config, absent_file_gives_every_default)
{
	struct iam_config *c = NULL;
	char err[512] = "";

	cr_assert_eq(iam_config_load(conf, false, &c, err, sizeof(err)), 0,
		     "%s", err);
	assert_defaults(c);
	cr_assert_null(c->path);
	iam_config_free(c);
}

/* One answer for pam_iam and iam-chkpwd: listed, not listed, no service. */
Test(config, mfa_exempt_services_by_name)
{
	struct iam_config *c = NULL;
	char err[512] = "";

	cr_assert_eq(iam_config_load(conf, false, &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(iam_config_mfa_exempt(c, "cron"));
	cr_assert_not(iam_config_mfa_exempt(c, "sshd"));
	cr_assert_not(iam_config_mfa_exempt(c, "cro"));
	cr_assert_not(iam_config_mfa_exempt(c, NULL));
	iam_config_free(c);
}

Test(config, absent_file_is_an_error_when_it_must_exist)
{
	struct iam_config *c = NULL;
	char err[512] = "";

	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)),
		     -ENOENT);
	cr_assert_null(c);
	cr_assert(strstr(err, conf) != NULL, "%s", err);
}

Test(config, shipped_file_is_all_defaults)
{
	struct iam_config *c = NULL;
	char err[512] = "", path[256];
	FILE *in, *out;
	int ch;

	/* etc/iam.conf lists every setting commented out. */
	snprintf(path, sizeof(path), "%s/etc/iam.conf", SRC_DIR);
	in = fopen(path, "re");
	cr_assert_not_null(in);
	out = fopen(conf, "we");
	cr_assert_not_null(out);
	while ((ch = getc(in)) != EOF)
		putc(ch, out);
	fclose(in);
	fclose(out);
	cr_assert_eq(chmod(conf, 0644), 0);
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), 0,
		     "%s", err);
	assert_defaults(c);
	iam_config_free(c);
}

Test(config, shipped_file_uncommented_parses)
{
	struct iam_config *c = NULL;
	char err[512] = "", path[256];
	char line[512];
	FILE *in, *out;
	int n = 0;

	/* Every "#name = value;" line of etc/iam.conf, uncommented. */
	snprintf(path, sizeof(path), "%s/etc/iam.conf", SRC_DIR);
	in = fopen(path, "re");
	cr_assert_not_null(in);
	out = fopen(conf, "we");
	cr_assert_not_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    strchr(line, '=') != NULL) {
			fputs(line + 1, out);
			n++;
		}
	}
	fclose(in);
	fclose(out);
	cr_assert_eq(n, 24, "%d settings in etc/iam.conf, not 24", n);
	cr_assert_eq(chmod(conf, 0644), 0);
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), 0,
		     "%s", err);
	assert_defaults(c);
	iam_config_free(c);
}

Test(config, every_setting_is_read)
{
	static const char text[] =
		"identity_file = \"/srv/iam/identity.json\";\n"
		"credentials_dir = \"/srv/iam/credentials\";\n"
		"state_dir = \"/srv/iam/state\";\n"
		"run_dir = \"/run/iam2\";\n"
		"trail_file = \"/srv/log/trail.jsonl\";\n"
		"snapshot_dir = \"/srv/iam/snap\";\n"
		"trail_required = false;\n"
		"hostname = \"web1\";\n"
		"host_tags = { Environment = \"Production\"; Team = \"ops\"; };\n"
		"uid_min = 80000; uid_max = 80999;\n"
		"gid_min = 81000; gid_max = 81999;\n"
		"mfa = \"required\";\n"
		"mfa_exempt_services = [ \"cron\", \"atd\" ];\n"
		"totp_window = 3;\n"
		"hash_method = \"sha512crypt\";\n"
		"uniform_prompts = false;\n"
		"sudo_unknown_user = \"deny\";\n"
		"log_level = \"debug\";\n"
		"identity_max_bytes = 4294967296L;\n"
		"identity_max_users = 3000000;\n"
		"identity_max_groups = 500;\n"
		"rehash_max_users = 0;\n";
	struct iam_config *c = NULL;
	char err[512] = "";

	write_conf(text, strlen(text));
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(c->identity_file, "/srv/iam/identity.json");
	cr_assert_str_eq(c->credentials_dir, "/srv/iam/credentials");
	cr_assert_str_eq(c->state_dir, "/srv/iam/state");
	cr_assert_str_eq(c->run_dir, "/run/iam2");
	cr_assert_str_eq(c->trail_file, "/srv/log/trail.jsonl");
	cr_assert_str_eq(c->snapshot_dir, "/srv/iam/snap");
	cr_assert_not(c->trail_required);
	cr_assert_str_eq(c->hostname, "web1");
	cr_assert_eq(c->n_host_tags, 2);
	cr_assert_str_eq(c->host_tags[0].key, "Environment");
	cr_assert_str_eq(c->host_tags[0].value, "Production");
	cr_assert_str_eq(c->host_tags[1].key, "Team");
	cr_assert_str_eq(c->host_tags[1].value, "ops");
	cr_assert_eq(c->uid_min, 80000);
	cr_assert_eq(c->uid_max, 80999);
	cr_assert_eq(c->gid_min, 81000);
	cr_assert_eq(c->gid_max, 81999);
	cr_assert_eq(c->mfa, IAM_MFA_REQUIRED);
	cr_assert_eq(c->n_mfa_exempt, 2);
	cr_assert_str_eq(c->mfa_exempt_services[1], "atd");
	cr_assert_eq(c->totp_window, 3);
	cr_assert_eq(c->hash_method, IAM_HASH_SHA512CRYPT);
	cr_assert_not(c->uniform_prompts);
	cr_assert_eq(c->sudo_unknown_user, IAM_UNKNOWN_DENY);
	cr_assert_eq(c->log_level, LOG_DEBUG);
	cr_assert_eq(c->identity_max_bytes, 4294967296ull);
	cr_assert_eq(c->identity_max_users, 3000000);
	cr_assert_eq(c->identity_max_groups, 500);
	cr_assert_eq(c->rehash_max_users, 0);
	cr_assert_str_eq(c->path, conf);
	iam_config_free(c);
}

Test(config, each_enum_value_is_read)
{
	static const struct {
		const char *text;
		enum iam_hash_method hash;
	} cases[] = {
		{ "hash_method = \"yescrypt\";", IAM_HASH_YESCRYPT },
		{ "hash_method = \"bcrypt\";", IAM_HASH_BCRYPT },
	};
	static const char *const levels[] = { "emerg", "alert", "crit", "err",
					      "warning", "notice", "info",
					      "debug" };
	char text[128], err[512];
	struct iam_config *c;

	for (size_t i = 0; i < 2; i++) {
		write_conf(cases[i].text, strlen(cases[i].text));
		cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)),
			     0, "%s", err);
		cr_assert_eq(c->hash_method, cases[i].hash);
		iam_config_free(c);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(text, sizeof(text), "log_level = \"%s\";", levels[i]);
		write_conf(text, strlen(text));
		cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)),
			     0, "%s", err);
		cr_assert_eq(c->log_level, i, "%s", levels[i]);
		iam_config_free(c);
	}
}

Test(config, empty_lists_are_allowed)
{
	static const char text[] = "mfa_exempt_services = [ ];\nhost_tags = { };\n";
	struct iam_config *c = NULL;
	char err[512] = "";

	write_conf(text, strlen(text));
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(c->n_mfa_exempt, 0);
	cr_assert_eq(c->n_host_tags, 0);
	iam_config_free(c);
}

Test(config, unknown_setting_names_the_line)
{
	refused("mfa = \"optional\";\n\nmfa_mode = \"required\";\n", 3,
		"unknown setting \"mfa_mode\"");
}

Test(config, unknown_group_setting_names_the_line)
{
	refused("# comment\npam = { debug = true; };\n", 2,
		"unknown setting \"pam\"");
}

Test(config, wrong_types_name_the_line)
{
	refused("uid_min = \"70000\";\n", 1, "uid_min: must be an integer");
	refused("\ntrail_required = 1;\n", 2, "trail_required: must be true or false");
	refused("\n\nidentity_file = 5;\n", 3, "identity_file: must be a string");
	refused("mfa = true;\n", 1, "mfa: must be a string");
	refused("uniform_prompts = \"no\";\n", 1,
		"uniform_prompts: must be true or false");
	refused("totp_window = 1.5;\n", 1, "totp_window: must be an integer");
	refused("host_tags = [ \"a\" ];\n", 1, "host_tags: must be a group");
	refused("host_tags = {\n  Team = 5;\n};\n", 2,
		"host_tags.Team: must be a string");
	refused("mfa_exempt_services = \"cron\";\n", 1,
		"mfa_exempt_services: must be a list");
	refused("mfa_exempt_services = ( \"cron\",\n 5 );\n", 2,
		"mfa_exempt_services[1]: must be a string");
	refused("hostname = [ \"a\" ];\n", 1, "hostname: must be a string");
}

Test(config, syntax_errors_name_the_line)
{
	refused("mfa = \"optional\";\nuid_min = 70000\nuid_max = ;\n", 3,
		"syntax error");
	refused("hostname = \"unterminated;\n", 2, "");
	refused("\n\n\nhost_tags = { Team = \"x\";\n", 5, "");
}

Test(config, out_of_range_values_are_refused)
{
	refused("\ntotp_window = 11;\n", 2, "totp_window: 11 is outside 0-10");
	refused("totp_window = -1;\n", 1, "outside 0-10");
	refused("uid_min = 0;\n", 1, "uid_min: 0 is outside 1000-4294967294");
	refused("gid_max = 4294967295L;\n", 1, "gid_max");
	refused("identity_max_bytes = 1023;\n", 1,
		"identity_max_bytes: 1023 is outside 1024-17179869184");
	refused("identity_max_bytes = 17179869185L;\n", 1,
		"identity_max_bytes: 17179869185 is outside");
	refused("identity_max_users = 0;\n", 1,
		"identity_max_users: 0 is outside 1-16777216");
	refused("identity_max_groups = 16777217;\n", 1,
		"identity_max_groups: 16777217 is outside 1-16777216");
	refused("identity_max_users = \"1M\";\n", 1,
		"identity_max_users: must be an integer");
	refused("rehash_max_users = -1;\n", 1,
		"rehash_max_users: -1 is outside 0-16777216");
	refused("rehash_max_users = true;\n", 1,
		"rehash_max_users: must be an integer");
	refused("uid_min = 90000;\nuid_max = 80000;\n", 1,
		"uid_min 90000 is above uid_max 80000");
	refused("gid_min = 90000;\ngid_max = 80000;\n", 1,
		"gid_min 90000 is above gid_max 80000");
	refused("mfa = \"sometimes\";\n", 1, "mfa: unknown value \"sometimes\"");
	refused("hash_method = \"md5crypt\";\n", 1, "unknown value \"md5crypt\"");
	refused("sudo_unknown_user = \"allow\";\n", 1, "unknown value \"allow\"");
	refused("log_level = \"loud\";\n", 1, "unknown value \"loud\"");
}

Test(config, relative_paths_are_refused)
{
	refused("state_dir = \"var/lib/iam/state\";\n", 1,
		"state_dir: \"var/lib/iam/state\" is not an absolute path");
	refused("\ntrail_file = \"/var/log/../../tmp/x\";\n", 2, "contains \"..\"");
}

Test(config, include_is_refused_with_its_line)
{
	char inc[160];
	char text[256];
	int fd;

	/* Even an included file that exists and is harmless. */
	snprintf(inc, sizeof(inc), "%s/other.conf", tmp);
	fd = open(inc, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(text, sizeof(text), "mfa = \"optional\";\n  @include \"%s\"\n",
		 inc);
	refused(text, 2, "@include is not allowed");
}

Test(config, nul_byte_is_refused)
{
	static const char text[] = "mfa = \"optional\";\0\nuid_min = 1;\n";
	struct iam_config *c = NULL;
	char err[512] = "";

	write_conf(text, sizeof(text) - 1);
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), -EINVAL);
	cr_assert_null(c);
	cr_assert(strstr(err, "contains a NUL byte"), "%s", err);
}

Test(config, insecure_file_is_refused_not_defaulted)
{
	struct iam_config *c = NULL;
	char err[512] = "";

	write_conf("mfa = \"required\";\n", 19);
	cr_assert_eq(chmod(conf, 0666), 0);
	/* A writable file must not silently fall back to the defaults. */
	cr_assert_eq(iam_config_load(conf, false, &c, err, sizeof(err)), -EPERM);
	cr_assert_null(c);
	cr_assert(strstr(err, "is writable by"), "%s", err);
	cr_assert_eq(chmod(conf, 0644), 0);
	cr_assert_eq(chown(conf, 1234, 0), 0);
	cr_assert_eq(iam_config_load(conf, false, &c, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "is not owned by root"), "%s", err);
}

Test(config, symlinked_file_is_refused)
{
	struct iam_config *c = NULL;
	char err[512] = "", link[160];

	write_conf("mfa = \"required\";\n", 19);
	snprintf(link, sizeof(link), "%s/link.conf", tmp);
	cr_assert_eq(symlink(conf, link), 0);
	cr_assert_eq(iam_config_load(link, false, &c, err, sizeof(err)), -ELOOP);
	cr_assert_null(c);
	cr_assert(strstr(err, "is a symbolic link"), "%s", err);
}

Test(config, hostname_comes_from_setting_or_system)
{
	struct iam_config *c = NULL;
	char err[512], buf[256], sys[256];

	write_conf("hostname = \"web1\";\n", 19);
	cr_assert_eq(iam_config_load(conf, true, &c, err, sizeof(err)), 0);
	cr_assert_eq(iam_config_hostname(c, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "web1");
	cr_assert_eq(iam_config_hostname(c, buf, 4), -ENAMETOOLONG);
	free(c->hostname);
	c->hostname = strdup("");
	cr_assert_eq(iam_config_hostname(c, buf, sizeof(buf)), 0);
	cr_assert_eq(gethostname(sys, sizeof(sys)), 0);
	sys[strcspn(sys, ".")] = '\0';
	cr_assert_str_eq(buf, sys);
	iam_config_free(c);
	cr_assert_null(iam_config_free(NULL));
}
