/*
 * pam_phase_fixture.h - fixtures for the account, session and password
 * phase tests: a real identity file published with iam_publish() into
 * the fixed paths (/etc/iam, /var/lib/iam, /run/iam, /var/log/iam) of
 * the throw-away namespace of scripts/run-unit.sh, users resolved by
 * NSS through the built libnss_iam.so.2 (not /etc/passwd, which the
 * publisher refuses to collide with), PAM services in a temporary
 * folder, and a /dev/log that the test reads.
 */
#ifndef PAM_PHASE_FIXTURE_H
#define PAM_PHASE_FIXTURE_H

#include <dlfcn.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "pam_test_helpers.h"

#define F_CONF		"/etc/iam/test.conf"
#define F_IDENTITY	"/etc/iam/identity.json"
#define F_TRAIL		"/var/log/iam/trail.jsonl"
#define F_PAMDIR	"/etc/iam/pam.d"
#define F_OLDPW		"Old-Passw0rd!x"
#define DAY		86400

/* ---- NSS through nss_iam ------------------------------------------------ */

static inline void
f_nss_setup(void)
{
	t_nss_setup();
}

/* ---- Files ---------------------------------------------------------------- */

static inline void
f_reset(const char *extra_conf)
{
	char text[2048];
	int n;

	cr_assert_eq(system("rm -rf /var/lib/iam /var/log/iam /run/iam "
			    "/etc/iam"), 0);
	t_mkdir("/etc/iam", 0755);
	t_mkdir(F_PAMDIR, 0755);
	t_mkdir("/var/lib/iam", 0755);
	t_mkdir("/var/log/iam", 0700);
	n = snprintf(text, sizeof(text), "trail_required = true;\n"
		     "hostname = \"web1\";\n%s\n", extra_conf ? extra_conf : "");
	t_write(F_CONF, text, (size_t)n, 0644);
}

/* A service file name under F_PAMDIR with the lines given. */
static inline void
f_service(const char *name, const char *lines)
{
	char path[256];

	snprintf(path, sizeof(path), F_PAMDIR "/%s", name);
	t_write(path, lines, strlen(lines), 0644);
}

/* The usual stack: pam_iam in every phase, config= the test config. */
static inline void
f_services(const char *args)
{
	char text[2048];
	const char *a = args ? args : "";

	snprintf(text, sizeof(text),
		 "auth required %1$s/pam_iam.so config=" F_CONF " %2$s\n"
		 "account required %1$s/pam_iam.so config=" F_CONF " %2$s\n"
		 "password required %1$s/pam_iam.so config=" F_CONF " %2$s\n"
		 "session required %1$s/pam_iam.so config=" F_CONF " %2$s\n",
		 BUILD_DIR, a);
	f_service("iamtest", text);
	f_service("cron", text);
}

/*
 * The service "ignoreprobe": pam_iam, then pam_deny jumped over only
 * when pam_iam answers PAM_IGNORE, then pam_permit.  So PAM_SUCCESS
 * through it means pam_iam said PAM_IGNORE (libpam turns a stack of
 * nothing but PAM_IGNORE into PAM_PERM_DENIED, and pam_iam's own
 * success dies here as PAM_PERM_DENIED too).
 */
static inline void
f_service_ignore_probe(void)
{
	char text[2048];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		static const char *const types[] = { "auth", "account",
			"password", "session" };

		n += (size_t)snprintf(text + n, sizeof(text) - n,
			"%1$s [ignore=1 default=die] %2$s/pam_iam.so "
			"config=" F_CONF "\n%1$s requisite pam_deny.so\n"
			"%1$s required pam_permit.so\n", types[i], BUILD_DIR);
	}
	f_service("ignoreprobe", text);
}

static inline void
f_time(int64_t t, char *buf)
{
	cr_assert_eq(iam_format_time(t, buf, 32), 0);
}

/* Install text as the identity file and publish it. */
static inline void
f_publish_text(const char *text)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = NULL;
	char err[256] = "";
	int r;

	t_write(F_IDENTITY, text, strlen(text), 0600);
	cr_assert_eq(iam_config_load(F_CONF, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	r = iam_publish(cfg, NULL, &f);
	for (size_t i = 0; i < f.n; i++)
		cr_log_error("publish: %s", f.v[i]);
	cr_assert_eq(r, 0, "publish: %s", strerror(-r));
	iam_faults_release(&f);
	iam_config_free(cfg);
}

/* One user, alice (70001), allowed to log in; password F_OLDPW. */
static inline void
f_publish_simple(void)
{
	static const char fmt[] =
		"{ \"account\": { \"id\": \"123456789012\" },\n"
		"  \"groups\": [ { \"name\": \"iamstaff\", \"gid\": 70100 } ],\n"
		"  \"users\": [ { \"name\": \"alice\", \"uid\": 70001,\n"
		"    \"primary_group\": \"iamstaff\", \"policies\": [\"LoginAll\"],\n"
		"    \"password\": { \"hash\": \"%s\" } } ],\n"
		"  \"policies\": { \"LoginAll\": { \"Version\": \"2012-10-17\",\n"
		"    \"Statement\": [ { \"Effect\": \"Allow\",\n"
		"      \"Action\": \"host:Login\", \"Resource\": \"*\" } ] } } }\n";
	char text[4096], *hash = NULL;

	cr_assert_eq(iam_password_hash(F_OLDPW, IAM_HASH_SHA512CRYPT, &hash),
		     0);
	cr_assert(snprintf(text, sizeof(text), fmt, hash) < (int)sizeof(text));
	f_publish_text(text);
	free(hash);
}

/* ---- Running the phases -------------------------------------------------- */

struct f_run {
	const char *service;	/* NULL: iamtest */
	const char *rhost;	/* NULL: none */
	const char *tty;	/* NULL: pts/3 */
	bool auth;		/* authenticate first */
	int auth_rc;		/* what authentication returned */
	int chauthtok_flags;	/* with chauthtok: its flags */
};

/* Start a handle for user with the conversation c. */
static inline pam_handle_t *
f_start(const char *user, struct t_conv *c, const struct f_run *o,
	struct pam_conv *conv)
{
	pam_handle_t *pamh = NULL;

	t_load_libiam();
	conv->conv = t_conv_fn;
	conv->appdata_ptr = c;
	cr_assert_eq(pam_start_confdir(o->service ? o->service : "iamtest",
				       user, conv, F_PAMDIR, &pamh),
		     PAM_SUCCESS);
	if (o->rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, o->rhost);
	pam_set_item(pamh, PAM_TTY, o->tty ? o->tty : "pts/3");
	return pamh;
}

/* (auth, then) account for user; returns the account's result. */
static inline int
f_account(const char *user, struct t_conv *c, struct f_run *o)
{
	struct pam_conv conv;
	pam_handle_t *pamh = f_start(user, c, o, &conv);
	int r = PAM_SUCCESS;

	if (o->auth) {
		o->auth_rc = pam_authenticate(pamh, 0);
		cr_assert_eq(o->auth_rc, PAM_SUCCESS, "auth of %s: %d", user,
			     o->auth_rc);
	}
	r = pam_acct_mgmt(pamh, 0);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

static inline int
f_chauthtok(const char *user, struct t_conv *c, int flags)
{
	struct f_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh = f_start(user, c, &o, &conv);
	int r;

	r = pam_chauthtok(pamh, flags);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

static inline int
f_auth(const char *user, const char *password)
{
	struct t_conv c = { .answers = { password }, .n_answers = 1 };
	struct f_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh = f_start(user, &c, &o, &conv);
	int r;

	r = pam_authenticate(pamh, 0);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

/* True when the conversation showed text (exactly). */
static inline bool
f_said(const struct t_conv *c, const char *text)
{
	for (size_t i = 0; i < c->n_log; i++)
		if (strcmp(c->log[i], text) == 0)
			return true;
	return false;
}

/* The last line of the trail (a fresh string), or NULL. */
static inline char *
f_trail_last(void)
{
	char *all = t_slurp(F_TRAIL), *p, *line = NULL;
	size_t n;

	if (all == NULL)
		return NULL;
	n = strlen(all);
	if (n > 0 && all[n - 1] == '\n')
		all[--n] = '\0';
	p = strrchr(all, '\n');
	line = strdup(p ? p + 1 : all);
	free(all);
	return line;
}

/* Number of trail lines containing every one of the needles. */
static inline int
f_trail_count(const char *a, const char *b)
{
	char *all = t_slurp(F_TRAIL), *save = NULL, *l;
	int n = 0;

	if (all == NULL)
		return 0;
	for (l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, a) && (b == NULL || strstr(l, b)))
			n++;
	free(all);
	return n;
}

/* ---- A /dev/log the test can read ----------------------------------------- */

/*
 * In a mount namespace of this test process only: a tmpfs over /dev
 * with the few devices needed bound back, and a datagram socket at
 * /dev/log.  Returns the socket (non-blocking).
 */
static inline int
f_syslog_capture(void)
{
	static const char *const devs[] = { "null", "zero", "urandom",
		"random", "full" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char src[64], dst[64];
	int s;

	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	t_mkdir("/run/iam-olddev", 0755);
	cr_assert_eq(mount("/dev", "/run/iam-olddev", NULL, MS_BIND, NULL), 0);
	cr_assert_eq(mount("tmpfs", "/dev", "tmpfs", 0, "mode=755"), 0);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(src, sizeof(src), "/run/iam-olddev/%s", devs[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		t_write(dst, "", 0, 0666);
		cr_assert_eq(mount(src, dst, NULL, MS_BIND, NULL), 0);
	}
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	cr_assert(s >= 0);
	strcpy(sa.sun_path, "/dev/log");
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return s;
}

/* Every message read so far, appended to out (NUL-terminated). */
static inline void
f_syslog_read(int s, struct iam_buf *out)
{
	char msg[4096];
	ssize_t n;

	while ((n = recv(s, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[n] = '\0';
		cr_assert_eq(iam_buf_addf(out, "%s\n", msg), 0);
	}
	if (out->buf == NULL)
		cr_assert_eq(iam_buf_adds(out, ""), 0);
}

#endif
