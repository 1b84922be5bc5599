/*
 * fixtures.h - the one fixture layer of the unit tests (prefix fx_, FX_).
 *
 * Root: FX_NEED_ROOT() skips a test unless it runs as root inside the
 * private mount namespace of scripts/run-unit.sh (throw-away /etc, /var
 * and /run), the one way every test asks.  fx_strict_flags() gives the
 * strict-file flags for files a test made.  fx_tmpdir() makes a private
 * folder, fx_rmtree() removes it.
 *
 * Sections: a hand-made identity, a temporary host layout and a scripted
 * conversation (pam_iam and auth.db tests); hand-made identities for
 * nss.db published at IAM_NSS_DB; the phase fixture (a real identity
 * published with iam_publish() into the fixed paths, users resolved by
 * NSS through the built libnss_iam.so.2, PAM services in a temporary
 * folder, and a /dev/log the test reads).
 */
#ifndef FIXTURES_H
#define FIXTURES_H

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

#include "iam.h"
#include "iam/audit.h"
#include "iam/auth.h"
#include "iam/snapshot.h"
#include "nssdb.h"

/* ==== pam_iam and auth.db: hand-made identity, host, conversation ==== */

#define FX_ALIAS		"acme-prod"
#define FX_ACCOUNT	"123456789012"
#define FX_SECRET	"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define FX_SECRET2	"KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
#define FX_PASSWORD	"correct horse battery"

/* ---- Namespace guard --------------------------------------------------- */

/* ---- Root, strict flags, private folders ------------------------------ */

/* Strict-file flags for a file the test made: the owner check as root only. */
static inline int
fx_strict_flags(void)
{
	return geteuid() == 0 ? 0 : IAM_STRICT_ANY_OWNER;
}

/* A fresh folder /tmp/iam-NAME.XXXXXX of mode into buf. */
static inline void
fx_tmpdir(char *buf, size_t len, const char *name, mode_t mode)
{
	cr_assert_lt((size_t)snprintf(buf, len, "/tmp/iam-%s.XXXXXX", name),
		     len);
	cr_assert_not_null(mkdtemp(buf));
	cr_assert_eq(chmod(buf, mode), 0);
}

/*
 * DIR/NAME in one of 16 rotating buffers, so a call may hold several at
 * once (a rename's two paths); a path too long fails the test.
 */
static inline const char *
fx_path(const char *dir, const char *name)
{
	static char paths[16][256];
	static int next;
	char *p = paths[next++ % 16];

	if (snprintf(p, 256, "%s/%s", dir, name) >= 256)
		cr_assert_fail("path too long: %s", name);
	return p;
}

/* Remove a folder made by fx_tmpdir() and everything in it; "" is fine. */
static inline void
fx_rmtree(char *dir)
{
	char cmd[512];

	if (dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	dir[0] = '\0';
}

/*
 * Root, and /etc is the throw-away overlay of scripts/private-ns.sh (so
 * appending to /etc/passwd never touches the machine's real file).
 */
static inline bool
fx_private_root(void)
{
	char line[1024];
	bool overlay = false;
	FILE *f;

	if (geteuid() != 0)
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char mnt[256], *sep = strstr(line, " - ");

		if (sep == NULL ||
		    sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
			continue;
		if (strcmp(mnt, "/etc") == 0)
			overlay = strncmp(sep, " - overlay ", 11) == 0;
	}
	fclose(f);
	return overlay;
}

#define FX_NEED_ROOT()                                                        \
	do {                                                                 \
		if (!fx_private_root())                                       \
			cr_skip_test("needs root in a private mount namespace " \
				     "(scripts/run-unit.sh)");                \
	} while (0)

/* ---- A hand-made identity ----------------------------------------------- */

struct fx_user {
	const char *name;
	uint32_t uid;
	const char *hash;	/* NULL: no password */
	const char *secret;	/* NULL: no MFA */
	enum iam_totp_algo algo;
	uint32_t digits;
	bool disabled;
};

struct fx_identity {
	struct iam_identity id;
	struct iam_user users[64];
	struct iam_group groups[2];
	struct iam_named_policy policies[2];
	struct iam_json_doc *docs[3];
	const char *user_groups[1];
	const char *user_policies[1];
	struct iam_named_policy inl[1];
	const char *group_policies[1];
	struct iam_tag tags[1];
};

static const char fx_policy_login[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"host:Login\",\"Resource\":\"*\"}]}";
static const char fx_policy_sudo[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"sudo:Run\",\"Resource\":\"*\"}]}";
static const char fx_policy_inline[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
	"\"Action\":\"sudo:Run\",\"Resource\":\"*\"}}";

static inline void
fx_identity_init(struct fx_identity *t, const struct fx_user *u, size_t n,
		uint32_t max_failed, uint32_t lock_seconds)
{
	const char *texts[3] = { fx_policy_login, fx_policy_sudo, fx_policy_inline };

	memset(t, 0, sizeof(*t));
	cr_assert(n <= 64);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(iam_json_parse(texts[i], strlen(texts[i]), NULL,
					    &t->docs[i], NULL, 0), 0);
	t->policies[0] = (struct iam_named_policy){ "DevHostAccess",
		iam_json_root(t->docs[0]), NULL };
	t->policies[1] = (struct iam_named_policy){ "SudoAll",
		iam_json_root(t->docs[1]), NULL };
	t->inl[0] = (struct iam_named_policy){ "NoSudo",
		iam_json_root(t->docs[2]), NULL };
	t->group_policies[0] = "SudoAll";
	t->groups[0] = (struct iam_group){ "staff", 70100, NULL, 0 };
	t->groups[1] = (struct iam_group){ "admins", 70101,
		t->group_policies, 1 };
	t->user_groups[0] = "admins";
	t->user_policies[0] = "DevHostAccess";
	t->tags[0] = (struct iam_tag){ (char *)"Team", (char *)"payments" };
	for (size_t i = 0; i < n; i++) {
		struct iam_user *x = &t->users[i];

		x->name = u[i].name;
		x->uid = u[i].uid;
		x->primary_group = "staff";
		x->gid = 70100;
		x->gecos = "";
		x->home = "/nonexistent";
		x->shell = "/bin/sh";
		x->groups = t->user_groups;
		x->n_groups = 1;
		x->policies = t->user_policies;
		x->n_policies = 1;
		x->inline_policies = t->inl;
		x->n_inline = 1;
		x->tags.v = t->tags;
		x->tags.n = 1;
		x->password.hash = (char *)u[i].hash;
		x->mfa.secret = (char *)u[i].secret;
		x->mfa.algorithm = u[i].algo;
		x->mfa.digits = u[i].digits ? u[i].digits : 6;
		x->mfa.period = 30;
		x->disabled = u[i].disabled;
	}
	t->id.account.id = FX_ACCOUNT;
	t->id.account.alias = FX_ALIAS;
	t->id.password_policy.minimum_length = 8;
	t->id.password_policy.allow_users_to_change = true;
	t->id.password_policy.lockout.max_failed_attempts = max_failed;
	t->id.password_policy.lockout.lockout_seconds = lock_seconds;
	t->id.users = t->users;
	t->id.n_users = n;
	t->id.groups = t->groups;
	t->id.n_groups = 2;
	t->id.policies = t->policies;
	t->id.n_policies = 2;
}

static inline void
fx_identity_release(struct fx_identity *t)
{
	for (int i = 0; i < 3; i++)
		t->docs[i] = iam_json_free(t->docs[i]);
}

/* ---- Files --------------------------------------------------------------- */

static inline void
fx_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static inline void
fx_mkdir(const char *path, mode_t mode)
{
	cr_assert(mkdir(path, mode) == 0 || errno == EEXIST, "%s", path);
	cr_assert_eq(chmod(path, mode), 0);
}

/* Read a whole file into a fresh string (or NULL). */
static inline char *
fx_slurp(const char *path)
{
	struct iam_buf b = IAM_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		cr_assert_eq(iam_buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	if (b.buf == NULL)
		return strdup("");
	return b.buf;
}

/* The temporary host: every path of iam.conf under one root folder. */
struct fx_host {
	char root[64];
	char conf[128], snap[128], auth[128], db[160], state[128], run[128];
	char logdir[128], trail[160], creds[128], pamdir[128];
};

static inline void
fx_host_init(struct fx_host *h)
{
	fx_tmpdir(h->root, sizeof(h->root), "pamtest", 0755);
	snprintf(h->conf, sizeof(h->conf), "%s/iam.conf", h->root);
	snprintf(h->snap, sizeof(h->snap), "%s/snap", h->root);
	snprintf(h->auth, sizeof(h->auth), "%s/snap/auth", h->root);
	snprintf(h->db, sizeof(h->db), "%s/snap/auth/auth.db", h->root);
	snprintf(h->state, sizeof(h->state), "%s/state", h->root);
	snprintf(h->run, sizeof(h->run), "%s/run", h->root);
	snprintf(h->logdir, sizeof(h->logdir), "%s/log", h->root);
	snprintf(h->trail, sizeof(h->trail), "%s/log/trail.jsonl", h->root);
	snprintf(h->creds, sizeof(h->creds), "%s/creds", h->root);
	snprintf(h->pamdir, sizeof(h->pamdir), "%s/pam.d", h->root);
	fx_mkdir(h->snap, 0755);
	fx_mkdir(h->auth, 0700);
	fx_mkdir(h->state, 0700);
	fx_mkdir(h->logdir, 0700);
	fx_mkdir(h->creds, 0700);
	fx_mkdir(h->pamdir, 0755);
}

static inline void
fx_host_conf(struct fx_host *h, const char *extra)
{
	char text[2048];
	int n;

	n = snprintf(text, sizeof(text),
		     "snapshot_dir = \"%s\";\nstate_dir = \"%s\";\n"
		     "run_dir = \"%s\";\ntrail_file = \"%s\";\n"
		     "credentials_dir = \"%s\";\n%s\n",
		     h->snap, h->state, h->run, h->trail, h->creds,
		     extra ? extra : "");
	fx_write(h->conf, text, (size_t)n, 0644);
}

static inline void
fx_host_publish(struct fx_host *h, const struct iam_identity *id)
{
	struct iam_buf b = IAM_BUF_INIT;

	cr_assert_eq(iam_authdb_build(id, 1, &b), 0);
	fx_write(h->db, b.buf, b.len, 0600);
	iam_buf_wipe(&b);
}

/*
 * nss.db at its compiled path: pam_iam decides from it (and NSS) who is
 * an IAM user, before reading iam.conf.
 */
static inline void
fx_nss_publish(const struct iam_identity *id)
{
	struct iam_buf b = IAM_BUF_INIT;

	fx_mkdir(IAM_SNAPSHOT_DIR, 0755);
	cr_assert_eq(iam_nssdb_build(id, 1, &b), 0);
	fx_write(IAM_NSS_DB, b.buf, b.len, 0644);
	iam_buf_release(&b);
}

/* NSS through the built nss_iam (files first): /etc of the namespace. */
static inline void
fx_nss_setup(void)
{
	static const char conf[] = "passwd: files iam\ngroup: files iam\n"
		"shadow: files\n";

	fx_mkdir("/etc/iam-testlib", 0755);
	unlink("/etc/iam-testlib/libnss_iam.so.2");
	cr_assert_eq(symlink(BUILD_DIR "/libnss_iam.so.2",
			     "/etc/iam-testlib/libnss_iam.so.2"), 0);
	fx_write("/etc/ld.so.conf.d/zz-iam-test.conf", "/etc/iam-testlib\n",
		17, 0644);
	cr_assert_eq(system("ldconfig"), 0);
	fx_write("/etc/nsswitch.conf", conf, sizeof(conf) - 1, 0644);
}

/* The service "iamtest": an optional line, then pam_iam with args. */
static inline void
fx_host_service_pre(struct fx_host *h, const char *pre, const char *args)
{
	char path[192], text[1024];
	int n;

	snprintf(path, sizeof(path), "%s/iamtest", h->pamdir);
	n = snprintf(text, sizeof(text),
		     "%s\nauth required %s/pam_iam.so config=%s %s\n"
		     "account required pam_permit.so\n",
		     pre ? pre : "", BUILD_DIR, h->conf, args ? args : "");
	fx_write(path, text, (size_t)n, 0644);
}

static inline void
fx_host_service(struct fx_host *h, const char *args)
{
	fx_host_service_pre(h, NULL, args);
}

static inline void
fx_host_cleanup(struct fx_host *h)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", h->root);
}

/* Local users: appended to the throw-away /etc/passwd. */
static inline void
fx_passwd_add(const char *name, uint32_t uid)
{
	FILE *f = fopen("/etc/passwd", "ae");

	cr_assert_not_null(f);
	fprintf(f, "%s:x:%u:70100::/nonexistent:/bin/sh\n", name, uid);
	fclose(f);
}

/* ---- Scripted conversation ----------------------------------------------- */

struct fx_conv {
	const char *answers[4];	/* answers to the echo-off/on prompts */
	size_t n_answers, next;
	char log[8][256];	/* every message and prompt, in order */
	int styles[8];
	size_t n_log;
	bool fail;		/* answer PAM_CONV_ERR */
	size_t fail_after;	/* answer PAM_CONV_ERR once this many
				   prompts were answered (0: never) */
};

static inline int
fx_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
	  void *data)
{
	struct fx_conv *c = data;
	struct pam_response *r;

	if (c->fail || (c->fail_after > 0 && c->next >= c->fail_after))
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		int style = msg[i]->msg_style;

		if (c->n_log < 8) {
			snprintf(c->log[c->n_log], sizeof(c->log[0]), "%s",
				 msg[i]->msg);
			c->styles[c->n_log++] = style;
		}
		if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
			const char *a = c->next < c->n_answers ?
				c->answers[c->next++] : "";

			if (a == NULL)
				a = "";

			r[i].resp = strdup(a);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/*
 * pam_iam.so needs libiam.so.1, which is not installed: load the build's
 * copy first, so the module's dependency is found by its soname.
 */
static inline void
fx_load_libiam(void)
{
	static void *lib;

	if (lib == NULL)
		lib = dlopen(BUILD_DIR "/libiam.so.1", RTLD_NOW | RTLD_GLOBAL);
	cr_assert_not_null(lib, "%s", dlerror());
}

static void
fx_no_delay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

static void (*const fx_no_delay_fn)(int, unsigned int, void *) = fx_no_delay;

/* Run one authentication of user through service iamtest. */
static inline int
fx_auth(struct fx_host *h, const char *user, struct fx_conv *c, int flags,
       const char *preset_authtok)
{
	struct pam_conv conv = { fx_conv_fn, c };
	pam_handle_t *pamh = NULL;
	int r, e;

	fx_load_libiam();
	cr_assert_eq(pam_start_confdir("iamtest", user, &conv, h->pamdir,
				       &pamh), PAM_SUCCESS);
	pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
	pam_set_item(pamh, PAM_TTY, "pts/7");
	if (preset_authtok != NULL)
		pam_set_item(pamh, PAM_AUTHTOK, preset_authtok);
	/* A failure's delay is not slept here (test_pam_auth checks it). */
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)fx_no_delay_fn);
	r = pam_authenticate(pamh, flags);
	e = pam_end(pamh, r);
	cr_assert_eq(e, PAM_SUCCESS);
	return r;
}

/* The code of the step now + off*30 for a secret. */
static inline void
fx_code(const char *secret, enum iam_totp_algo algo, uint32_t digits, int off,
       char *buf)
{
	struct iam_totp t = { secret, algo, digits ? digits : 6, 30 };

	cr_assert_eq(iam_totp_generate(&t, (int64_t)time(NULL) + off * 30, buf,
				       16), 0);
}

/* Wait until at least 3 seconds remain in the current 30 s step. */
static inline void
fx_step_margin(void)
{
	while (30 - time(NULL) % 30 < 3)
		usleep(200000);
}

/* ==== nss.db: hand-made identities ==================================== */

struct fx_nss_user {
	const char *name;
	uint32_t uid, gid;
	const char *gecos, *home, *shell;
	const char *groups[8];	/* NULL-terminated */
};

struct fx_nss_group {
	const char *name;
	uint32_t gid;
};

/* alice and bob in iamusers; alice also in admins and ops. */
static const struct fx_nss_user fx_nss_users[] = {
	{ "alice", 70001, 80001, "Alice Liddell", "/home/alice", "/bin/bash",
	  { "iamusers", "admins", "ops", NULL } },
	{ "bob", 70002, 80001, "", "/home/bob", "/bin/sh",
	  { "iamusers", NULL } },
	{ "carol", 70003, 80004, "Carol", "/home/carol", "/bin/zsh",
	  { NULL } },
};
static const struct fx_nss_group fx_nss_groups[] = {
	{ "iamusers", 80001 }, { "admins", 80002 }, { "ops", 80003 },
	{ "empty", 80004 },
};
#define FX_NSS_NUSERS (sizeof(fx_nss_users) / sizeof(fx_nss_users[0]))
#define FX_NSS_NGROUPS (sizeof(fx_nss_groups) / sizeof(fx_nss_groups[0]))

static inline struct iam_identity *
fx_nss_identity(const struct fx_nss_user *u, size_t nu, const struct fx_nss_group *g,
	    size_t ng)
{
	struct iam_identity *id = calloc(1, sizeof(*id));
	size_t i, k;

	cr_assert_not_null(id);
	id->users = calloc(nu + 1, sizeof(*id->users));
	id->groups = calloc(ng + 1, sizeof(*id->groups));
	cr_assert(id->users && id->groups);
	for (i = 0; i < nu; i++) {
		struct iam_user *x = &id->users[i];

		x->name = u[i].name;
		x->uid = u[i].uid;
		x->gid = u[i].gid;
		x->gecos = u[i].gecos;
		x->home = u[i].home;
		x->shell = u[i].shell;
		for (k = 0; u[i].groups[k] != NULL; k++)
			;
		x->groups = (const char **)u[i].groups;
		x->n_groups = k;
	}
	for (i = 0; i < ng; i++) {
		id->groups[i].name = g[i].name;
		id->groups[i].gid = g[i].gid;
	}
	id->n_users = nu;
	id->n_groups = ng;
	return id;
}

static inline void
fx_nss_identity_free(struct iam_identity *id)
{
	if (id == NULL)
		return;
	free(id->users);
	free(id->groups);
	free(id);
}

static inline void
fx_nss_build(const struct iam_identity *id, uint64_t gen, struct iam_buf *out)
{
	int r = iam_nssdb_build(id, gen, out);

	cr_assert_eq(r, 0, "iam_nssdb_build: %s", strerror(-r));
}

/* The folder of IAM_NSS_DB, root 0755, as the publisher leaves it. */
static inline void
fx_nss_snapshot_dir(void)
{
	if (mkdir(IAM_SNAPSHOT_DIR, 0755) != 0)
		cr_assert_eq(errno, EEXIST, "mkdir %s: %s", IAM_SNAPSHOT_DIR,
			     strerror(errno));
	cr_assert_eq(chown(IAM_SNAPSHOT_DIR, 0, 0), 0);
	cr_assert_eq(chmod(IAM_SNAPSHOT_DIR, 0755), 0);
}

/* Write len bytes as IAM_NSS_DB, by rename like the publisher, mode 0644. */
static inline void
fx_nssdb_publish_bytes(const void *p, size_t len, mode_t mode)
{
	char tmp[] = IAM_SNAPSHOT_DIR "/.nss.db.XXXXXX";
	int fd;

	fx_nss_snapshot_dir();
	fd = mkstemp(tmp);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(rename(tmp, IAM_NSS_DB), 0, "rename: %s", strerror(errno));
}

static inline void
fx_nssdb_publish(const struct iam_identity *id, uint64_t gen)
{
	struct iam_buf b = IAM_BUF_INIT;

	fx_nss_build(id, gen, &b);
	fx_nssdb_publish_bytes(b.buf, b.len, 0644);
	iam_buf_release(&b);
}

/*
 * Root in the private namespace (FX_NEED_ROOT: the fixed path is only
 * safe to touch there), then no nss.db: the tests of one binary share
 * the namespace, so each starts from nothing.
 */
static inline void
fx_nss_fresh(void)
{
	FX_NEED_ROOT();
	if (unlink(IAM_NSS_DB) != 0 && errno == EISDIR)
		rmdir(IAM_NSS_DB);
	if (rmdir(IAM_NSS_DB) != 0 && errno != ENOENT && errno != ENOTDIR)
		cr_assert_fail("cannot clear %s: %s", IAM_NSS_DB, strerror(errno));
	fx_nss_snapshot_dir();
}

/* ==== pam phases: a published identity in the fixed paths ============= */

#define FX_CONF		"/etc/iam/test.conf"
#define FX_IDENTITY	"/etc/iam/identity.json"
#define FX_TRAIL		"/var/log/iam/trail.jsonl"
#define FX_PAMDIR	"/etc/iam/pam.d"
#define FX_OLDPW		"Old-Passw0rd!x"
#define DAY		86400

/* ---- NSS through nss_iam ------------------------------------------------ */

static inline void
fx_phase_nss_setup(void)
{
	fx_nss_setup();
}

/* ---- Files ---------------------------------------------------------------- */

static inline void
fx_reset(const char *extra_conf)
{
	char text[2048];
	int n;

	cr_assert_eq(system("rm -rf /var/lib/iam /var/log/iam /run/iam "
			    "/etc/iam"), 0);
	fx_mkdir("/etc/iam", 0755);
	fx_mkdir(FX_PAMDIR, 0755);
	fx_mkdir("/var/lib/iam", 0755);
	fx_mkdir("/var/log/iam", 0700);
	n = snprintf(text, sizeof(text), "trail_required = true;\n"
		     "hostname = \"web1\";\n%s\n", extra_conf ? extra_conf : "");
	fx_write(FX_CONF, text, (size_t)n, 0644);
}

/* A service file name under FX_PAMDIR with the lines given. */
static inline void
fx_service(const char *name, const char *lines)
{
	char path[256];

	snprintf(path, sizeof(path), FX_PAMDIR "/%s", name);
	fx_write(path, lines, strlen(lines), 0644);
}

/* The usual stack: pam_iam in every phase, config= the test config. */
static inline void
fx_services(const char *args)
{
	char text[2048];
	const char *a = args ? args : "";

	snprintf(text, sizeof(text),
		 "auth required %1$s/pam_iam.so config=" FX_CONF " %2$s\n"
		 "account required %1$s/pam_iam.so config=" FX_CONF " %2$s\n"
		 "password required %1$s/pam_iam.so config=" FX_CONF " %2$s\n"
		 "session required %1$s/pam_iam.so config=" FX_CONF " %2$s\n",
		 BUILD_DIR, a);
	fx_service("iamtest", text);
	fx_service("cron", text);
}

/*
 * The service "ignoreprobe": pam_iam, then pam_deny jumped over only
 * when pam_iam answers PAM_IGNORE, then pam_permit.  So PAM_SUCCESS
 * through it means pam_iam said PAM_IGNORE (libpam turns a stack of
 * nothing but PAM_IGNORE into PAM_PERM_DENIED, and pam_iam's own
 * success dies here as PAM_PERM_DENIED too).
 */
static inline void
fx_service_ignore_probe(void)
{
	char text[2048];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		static const char *const types[] = { "auth", "account",
			"password", "session" };

		n += (size_t)snprintf(text + n, sizeof(text) - n,
			"%1$s [ignore=1 default=die] %2$s/pam_iam.so "
			"config=" FX_CONF "\n%1$s requisite pam_deny.so\n"
			"%1$s required pam_permit.so\n", types[i], BUILD_DIR);
	}
	fx_service("ignoreprobe", text);
}

static inline void
fx_time(int64_t t, char *buf)
{
	cr_assert_eq(iam_format_time(t, buf, 32), 0);
}

/* Install text as the identity file and publish it. */
static inline void
fx_publish_text(const char *text)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = NULL;
	char err[256] = "";
	int r;

	fx_write(FX_IDENTITY, text, strlen(text), 0600);
	cr_assert_eq(iam_config_load(FX_CONF, true, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	r = iam_publish(cfg, NULL, &f);
	for (size_t i = 0; i < f.n; i++)
		cr_log_error("publish: %s", f.v[i]);
	cr_assert_eq(r, 0, "publish: %s", strerror(-r));
	iam_faults_release(&f);
	iam_config_free(cfg);
}

/* One user, alice (70001), allowed to log in; password FX_OLDPW. */
static inline void
fx_publish_simple(void)
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

	cr_assert_eq(iam_password_hash(FX_OLDPW, IAM_HASH_SHA512CRYPT, &hash),
		     0);
	cr_assert(snprintf(text, sizeof(text), fmt, hash) < (int)sizeof(text));
	fx_publish_text(text);
	free(hash);
}

/* ---- Running the phases -------------------------------------------------- */

struct fx_run {
	const char *service;	/* NULL: iamtest */
	const char *rhost;	/* NULL: none */
	const char *tty;	/* NULL: pts/3 */
	bool auth;		/* authenticate first */
	int auth_rc;		/* what authentication returned */
	int chauthtok_flags;	/* with chauthtok: its flags */
};

/* Start a handle for user with the conversation c. */
static inline pam_handle_t *
fx_start(const char *user, struct fx_conv *c, const struct fx_run *o,
	struct pam_conv *conv)
{
	pam_handle_t *pamh = NULL;

	fx_load_libiam();
	conv->conv = fx_conv_fn;
	conv->appdata_ptr = c;
	cr_assert_eq(pam_start_confdir(o->service ? o->service : "iamtest",
				       user, conv, FX_PAMDIR, &pamh),
		     PAM_SUCCESS);
	if (o->rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, o->rhost);
	pam_set_item(pamh, PAM_TTY, o->tty ? o->tty : "pts/3");
	return pamh;
}

/* (auth, then) account for user; returns the account's result. */
static inline int
fx_account(const char *user, struct fx_conv *c, struct fx_run *o)
{
	struct pam_conv conv;
	pam_handle_t *pamh = fx_start(user, c, o, &conv);
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
fx_chauthtok(const char *user, struct fx_conv *c, int flags)
{
	struct fx_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh = fx_start(user, c, &o, &conv);
	int r;

	r = pam_chauthtok(pamh, flags);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

static inline int
fx_phase_auth(const char *user, const char *password)
{
	struct fx_conv c = { .answers = { password }, .n_answers = 1 };
	struct fx_run o = { 0 };
	struct pam_conv conv;
	pam_handle_t *pamh = fx_start(user, &c, &o, &conv);
	int r;

	r = pam_authenticate(pamh, 0);
	cr_assert_eq(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

/* True when the conversation showed text (exactly). */
static inline bool
fx_said(const struct fx_conv *c, const char *text)
{
	for (size_t i = 0; i < c->n_log; i++)
		if (strcmp(c->log[i], text) == 0)
			return true;
	return false;
}

/* The last line of the trail (a fresh string), or NULL. */
static inline char *
fx_trail_last(void)
{
	char *all = fx_slurp(FX_TRAIL), *p, *line = NULL;
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
fx_trail_count(const char *a, const char *b)
{
	char *all = fx_slurp(FX_TRAIL), *save = NULL, *l;
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
fx_syslog_capture(void)
{
	static const char *const devs[] = { "null", "zero", "urandom",
		"random", "full" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char src[64], dst[64];
	int s;

	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	fx_mkdir("/run/iam-olddev", 0755);
	cr_assert_eq(mount("/dev", "/run/iam-olddev", NULL, MS_BIND, NULL), 0);
	cr_assert_eq(mount("tmpfs", "/dev", "tmpfs", 0, "mode=755"), 0);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(src, sizeof(src), "/run/iam-olddev/%s", devs[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		fx_write(dst, "", 0, 0666);
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
fx_syslog_read(int s, struct iam_buf *out)
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
