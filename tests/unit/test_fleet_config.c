/*
 * test_fleet_config.c - the fleet = { } group of iam.conf: defaults,
 * every member read, and each fault refused with the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "iam.h"

static char tmp[64];
static char conf[128];

static void
setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (run through scripts/run-unit.sh)");
	strcpy(tmp, "/tmp/iam-fleet-config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_eq(chmod(tmp, 0755), 0);
	snprintf(conf, sizeof(conf), "%s/iam.conf", tmp);
}

static void
teardown(void)
{
	if (tmp[0] == '\0')
		return;
	unlink(conf);
	rmdir(tmp);
	tmp[0] = '\0';
}

TestSuite(fleet_config, .init = setup, .fini = teardown);

static int
load(const char *text, struct iam_config **c, char *err, size_t errlen)
{
	int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	return iam_config_load(conf, true, c, err, errlen);
}

Test(fleet_config, defaults_put_the_host_out_of_any_fleet)
{
	struct iam_config *c = NULL;

	cr_assert_eq(iam_config_defaults(&c), 0);
	cr_expect_eq(c->fleet.n_endpoints, 0);
	cr_expect_str_eq(c->fleet.prefix, "/iam/");
	cr_expect_str_eq(c->fleet.account, "");
	cr_expect_str_eq(c->fleet.ca_file, "");
	cr_expect_str_eq(c->fleet.admin_key, IAM_SYSCONFDIR "/iam/admin.key");
	cr_expect_str_eq(c->fleet.trusted_keys, IAM_SYSCONFDIR "/iam/trusted-keys");
	cr_expect_str_eq(c->fleet.host_key, IAM_SYSCONFDIR "/iam/host.key");
	cr_expect_str_eq(c->fleet.fleet_key, IAM_SYSCONFDIR "/iam/fleet.key");
	cr_expect_str_eq(c->fleet.state_dir, "/var/lib/iam/fleet");
	iam_config_free(c);
}

Test(fleet_config, every_member_is_read_and_other_settings_untouched)
{
	static const char text[] =
		"mfa = \"required\";\n"
		"fleet = {\n"
		"  endpoints = [ \"https://10.0.0.1:2379\", \"http://127.0.0.1:2379\" ];\n"
		"  prefix = \"/corp/iam/\";\n"
		"  account = \"123456789012\";\n"
		"  ca_file = \"/etc/iam/ca.pem\"; cert_file = \"/etc/iam/c.pem\";\n"
		"  key_file = \"/etc/iam/c.key\"; user = \"host-web1\";\n"
		"  password_file = \"/etc/iam/etcd.pass\"; admin_key = \"/root/a.key\";\n"
		"  trusted_keys = \"/etc/iam/tk\"; host_key = \"/etc/iam/h.key\";\n"
		"  fleet_key = \"/etc/iam/f.key\"; state_dir = \"/var/lib/iam/f\";\n"
		"};\n";
	struct iam_config *c = NULL;
	char err[512] = "";

	cr_assert_eq(load(text, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c->mfa, IAM_MFA_REQUIRED);
	cr_assert_eq(c->fleet.n_endpoints, 2);
	cr_expect_str_eq(c->fleet.endpoints[0], "https://10.0.0.1:2379");
	cr_expect_str_eq(c->fleet.endpoints[1], "http://127.0.0.1:2379");
	cr_expect_str_eq(c->fleet.prefix, "/corp/iam/");
	cr_expect_str_eq(c->fleet.account, "123456789012");
	cr_expect_str_eq(c->fleet.ca_file, "/etc/iam/ca.pem");
	cr_expect_str_eq(c->fleet.cert_file, "/etc/iam/c.pem");
	cr_expect_str_eq(c->fleet.key_file, "/etc/iam/c.key");
	cr_expect_str_eq(c->fleet.user, "host-web1");
	cr_expect_str_eq(c->fleet.password_file, "/etc/iam/etcd.pass");
	cr_expect_str_eq(c->fleet.admin_key, "/root/a.key");
	cr_expect_str_eq(c->fleet.trusted_keys, "/etc/iam/tk");
	cr_expect_str_eq(c->fleet.host_key, "/etc/iam/h.key");
	cr_expect_str_eq(c->fleet.fleet_key, "/etc/iam/f.key");
	cr_expect_str_eq(c->fleet.state_dir, "/var/lib/iam/f");
	iam_config_free(c);
}

Test(fleet_config, faults_are_refused_with_their_line)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{ "fleet = 1;\n", "fleet: must be a group" },
		{ "fleet = { colour = \"x\"; };\n", "unknown setting \"colour\"" },
		{ "fleet = { endpoints = [ \"ftp://x\" ]; };\n", "http:// or https://" },
		{ "fleet = { endpoints = [ \"http://a b\" ]; };\n", "http:// or https://" },
		{ "fleet = { endpoints = \"http://x\"; };\n", "list" },
		{ "fleet = { prefix = \"iam\"; };\n", "starts and ends with /" },
		{ "fleet = { account = \"12\"; };\n", "12 digits" },
		{ "fleet = { admin_key = \"admin.key\"; };\n", "not an absolute path" },
		{ "fleet = { state_dir = \"/var/../tmp/x\"; };\n", "contains \"..\"" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct iam_config *c = NULL;
		char err[512] = "", want[256];

		cr_expect_eq(load(bad[i].text, &c, err, sizeof(err)), -EINVAL,
			     "accepted: %s", bad[i].text);
		cr_expect_null(c);
		snprintf(want, sizeof(want), "%s:1: ", conf);
		cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
		cr_expect_not_null(strstr(err, bad[i].what), "\"%s\" lacks \"%s\"",
				   err, bad[i].what);
	}
}

Test(fleet_config, an_empty_optional_file_turns_it_off)
{
	struct iam_config *c = NULL;
	char err[512] = "";

	cr_assert_eq(load("fleet = { ca_file = \"\"; password_file = \"\"; };\n",
			  &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c->fleet.ca_file, "");
	iam_config_free(c);
}
