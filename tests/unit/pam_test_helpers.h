/*
 * pam_test_helpers.h - fixtures for the pam_iam and auth.db tests: a
 * hand-made identity, a temporary host layout (snapshot, state, run and
 * trail folders, iam.conf, a PAM service file) and a scripted
 * conversation that records every prompt.
 *
 * The tests that need root run inside the private mount namespace of
 * scripts/run-unit.sh, with a throw-away /etc: only there are test users
 * appended to /etc/passwd.
 */
#ifndef PAM_TEST_HELPERS_H
#define PAM_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

#include "iam.h"
#include "iam/audit.h"
#include "iam/auth.h"
#include "iam/snapshot.h"

#define T_ALIAS		"acme-prod"
#define T_ACCOUNT	"123456789012"
#define T_SECRET	"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define T_SECRET2	"KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
#define T_PASSWORD	"correct horse battery"

/* ---- Namespace guard --------------------------------------------------- */

/*
 * Root, and /etc is the throw-away overlay of scripts/private-ns.sh (so
 * appending to /etc/passwd never touches the machine's real file).
 */
static inline bool
t_private_root(void)
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

#define T_NEED_ROOT()                                                        \
	do {                                                                 \
		if (!t_private_root())                                       \
			cr_skip_test("needs root in a private mount namespace " \
				     "(scripts/run-unit.sh)");                \
	} while (0)

/* ---- A hand-made identity ----------------------------------------------- */

struct t_user {
	const char *name;
	uint32_t uid;
	const char *hash;	/* NULL: no password */
	const char *secret;	/* NULL: no MFA */
	enum iam_totp_algo algo;
	uint32_t digits;
	bool disabled;
};

struct t_identity {
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

static const char t_policy_login[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"host:Login\",\"Resource\":\"*\"}]}";
static const char t_policy_sudo[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
	"\"Action\":\"sudo:Run\",\"Resource\":\"*\"}]}";
static const char t_policy_inline[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
	"\"Action\":\"sudo:Run\",\"Resource\":\"*\"}}";

static inline void
t_identity_init(struct t_identity *t, const struct t_user *u, size_t n,
		uint32_t max_failed, uint32_t lock_seconds)
{
	const char *texts[3] = { t_policy_login, t_policy_sudo, t_policy_inline };

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
	t->id.account.id = T_ACCOUNT;
	t->id.account.alias = T_ALIAS;
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
t_identity_release(struct t_identity *t)
{
	for (int i = 0; i < 3; i++)
		t->docs[i] = iam_json_free(t->docs[i]);
}

/* ---- Files --------------------------------------------------------------- */

static inline void
t_write(const char *path, const void *data, size_t len, mode_t mode)
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
t_mkdir(const char *path, mode_t mode)
{
	cr_assert(mkdir(path, mode) == 0 || errno == EEXIST, "%s", path);
	cr_assert_eq(chmod(path, mode), 0);
}

/* Read a whole file into a fresh string (or NULL). */
static inline char *
t_slurp(const char *path)
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
struct t_host {
	char root[64];
	char conf[128], snap[128], auth[128], db[160], state[128], run[128];
	char logdir[128], trail[160], creds[128], pamdir[128];
};

static inline void
t_host_init(struct t_host *h)
{
	strcpy(h->root, "/tmp/iam-pamtest.XXXXXX");
	cr_assert_not_null(mkdtemp(h->root));
	cr_assert_eq(chmod(h->root, 0755), 0);
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
	t_mkdir(h->snap, 0755);
	t_mkdir(h->auth, 0700);
	t_mkdir(h->state, 0700);
	t_mkdir(h->logdir, 0700);
	t_mkdir(h->creds, 0700);
	t_mkdir(h->pamdir, 0755);
}

static inline void
t_host_conf(struct t_host *h, const char *extra)
{
	char text[2048];
	int n;

	n = snprintf(text, sizeof(text),
		     "snapshot_dir = \"%s\";\nstate_dir = \"%s\";\n"
		     "run_dir = \"%s\";\ntrail_file = \"%s\";\n"
		     "credentials_dir = \"%s\";\n%s\n",
		     h->snap, h->state, h->run, h->trail, h->creds,
		     extra ? extra : "");
	t_write(h->conf, text, (size_t)n, 0644);
}

static inline void
t_host_publish(struct t_host *h, const struct iam_identity *id)
{
	struct iam_buf b = IAM_BUF_INIT;

	cr_assert_eq(iam_authdb_build(id, 1, &b), 0);
	t_write(h->db, b.buf, b.len, 0600);
	iam_buf_wipe(&b);
}

/*
 * nss.db at its compiled path: pam_iam decides from it (and NSS) who is
 * an IAM user, before reading iam.conf.
 */
static inline void
t_nss_publish(const struct iam_identity *id)
{
	struct iam_buf b = IAM_BUF_INIT;

	t_mkdir(IAM_SNAPSHOT_DIR, 0755);
	cr_assert_eq(iam_nssdb_build(id, 1, &b), 0);
	t_write(IAM_NSS_DB, b.buf, b.len, 0644);
	iam_buf_release(&b);
}

/* NSS through the built nss_iam (files first): /etc of the namespace. */
static inline void
t_nss_setup(void)
{
	static const char conf[] = "passwd: files iam\ngroup: files iam\n"
		"shadow: files\n";

	t_mkdir("/etc/iam-testlib", 0755);
	unlink("/etc/iam-testlib/libnss_iam.so.2");
	cr_assert_eq(symlink(BUILD_DIR "/libnss_iam.so.2",
			     "/etc/iam-testlib/libnss_iam.so.2"), 0);
	t_write("/etc/ld.so.conf.d/zz-iam-test.conf", "/etc/iam-testlib\n",
		17, 0644);
	cr_assert_eq(system("ldconfig"), 0);
	t_write("/etc/nsswitch.conf", conf, sizeof(conf) - 1, 0644);
}

/* The service "iamtest": an optional line, then pam_iam with args. */
static inline void
t_host_service_pre(struct t_host *h, const char *pre, const char *args)
{
	char path[192], text[1024];
	int n;

	snprintf(path, sizeof(path), "%s/iamtest", h->pamdir);
	n = snprintf(text, sizeof(text),
		     "%s\nauth required %s/pam_iam.so config=%s %s\n"
		     "account required pam_permit.so\n",
		     pre ? pre : "", BUILD_DIR, h->conf, args ? args : "");
	t_write(path, text, (size_t)n, 0644);
}

static inline void
t_host_service(struct t_host *h, const char *args)
{
	t_host_service_pre(h, NULL, args);
}

static inline void
t_host_cleanup(struct t_host *h)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", h->root);
}

/* Local users: appended to the throw-away /etc/passwd. */
static inline void
t_passwd_add(const char *name, uint32_t uid)
{
	FILE *f = fopen("/etc/passwd", "ae");

	cr_assert_not_null(f);
	fprintf(f, "%s:x:%u:70100::/nonexistent:/bin/sh\n", name, uid);
	fclose(f);
}

/* ---- Scripted conversation ----------------------------------------------- */

struct t_conv {
	const char *answers[4];	/* answers to the echo-off/on prompts */
	size_t n_answers, next;
	char log[8][256];	/* every message and prompt, in order */
	int styles[8];
	size_t n_log;
	bool fail;		/* answer PAM_CONV_ERR */
	size_t fail_after;	/* answer PAM_CONV_ERR once this many
				   prompts were answered (0: never) */
};

static int
t_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
	  void *data)
{
	struct t_conv *c = data;
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
t_load_libiam(void)
{
	static void *lib;

	if (lib == NULL)
		lib = dlopen(BUILD_DIR "/libiam.so.1", RTLD_NOW | RTLD_GLOBAL);
	cr_assert_not_null(lib, "%s", dlerror());
}

static void
t_no_delay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

static void (*const t_no_delay_fn)(int, unsigned int, void *) = t_no_delay;

/* Run one authentication of user through service iamtest. */
static inline int
t_auth(struct t_host *h, const char *user, struct t_conv *c, int flags,
       const char *preset_authtok)
{
	struct pam_conv conv = { t_conv_fn, c };
	pam_handle_t *pamh = NULL;
	int r, e;

	t_load_libiam();
	cr_assert_eq(pam_start_confdir("iamtest", user, &conv, h->pamdir,
				       &pamh), PAM_SUCCESS);
	pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
	pam_set_item(pamh, PAM_TTY, "pts/7");
	if (preset_authtok != NULL)
		pam_set_item(pamh, PAM_AUTHTOK, preset_authtok);
	/* A failure's delay is not slept here (test_pam_auth checks it). */
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)t_no_delay_fn);
	r = pam_authenticate(pamh, flags);
	e = pam_end(pamh, r);
	cr_assert_eq(e, PAM_SUCCESS);
	return r;
}

/* The code of the step now + off*30 for a secret. */
static inline void
t_code(const char *secret, enum iam_totp_algo algo, uint32_t digits, int off,
       char *buf)
{
	struct iam_totp t = { secret, algo, digits ? digits : 6, 30 };

	cr_assert_eq(iam_totp_generate(&t, (int64_t)time(NULL) + off * 30, buf,
				       16), 0);
}

/* Wait until at least 3 seconds remain in the current 30 s step. */
static inline void
t_step_margin(void)
{
	while (30 - time(NULL) % 30 < 3)
		usleep(200000);
}

#endif
