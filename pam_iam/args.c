/*
 * args.c - module arguments and settings: built-in defaults, then
 * iam.conf, then the arguments.  An unknown argument is an error: a typo
 * must not silently weaken a stack.  Both are read only after who is
 * asking is known (who.c), so neither ever touches root or a local user.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "pam_iam.h"

int
pam_iam_errno_code(int r)
{
	return r == -ENOMEM ? PAM_BUF_ERR : PAM_AUTHINFO_UNAVAIL;
}

/* The arguments alone; an unknown one is remembered in o->bad_arg. */
static void
parse_args(pam_handle_t *pamh, int flags, int argc, const char **argv,
	   struct pam_iam_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->quiet = (flags & PAM_SILENT) != 0;
	o->config = IAM_DEFAULT_CONFIG;
	o->named = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "debug") == 0)
			o->debug = true;
		else if (strcmp(a, "try_first_pass") == 0)
			o->try_first_pass = true;
		else if (strcmp(a, "use_first_pass") == 0)
			o->use_first_pass = true;
		else if (strcmp(a, "use_authtok") == 0)
			o->use_authtok = true;
		else if (strcmp(a, "one_prompt") == 0)
			o->one_prompt = true;
		else if (strcmp(a, "nodelay") == 0)
			o->nodelay = true;
		else if (strncmp(a, "config=", 7) == 0 && a[7] == '/') {
			o->config = a + 7;
			o->named = true;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown argument \"%s\"; "
				   "refusing IAM names", a);
			o->bad_arg = true;
		}
	}
}

/* The settings: iam.conf over the defaults. */
static int
load_settings(pam_handle_t *pamh, struct pam_iam_opts *o)
{
	char err[512] = "";
	int r;

	/* A file named by config= must exist; the default one may not. */
	r = iam_config_load(o->config, o->named, &o->cfg, err, sizeof(err));
	if (r == -ENOMEM) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ALERT, "settings unusable: %s; refusing "
			   "IAM names", err[0] ? err : strerror(-r));
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SUCCESS;
}

int
pam_iam_start(pam_handle_t *pamh, int flags, int argc, const char **argv,
	      const char *user, struct pam_iam_opts *o, struct iam_who *w)
{
	int r;

	parse_args(pamh, flags, argc, argv, o);
	/* As nss_iam reads: the snapshot at its compiled path. */
	iam_who(IAM_SNAPSHOT_DIR, user, IAM_WHO_PASSWD_LOCAL, w);
	if (w->kind == IAM_WHO_LOCAL)
		return PAM_USER_UNKNOWN;
	if (o->debug && w->kind == IAM_WHO_UNKNOWN)
		pam_syslog(pamh, LOG_DEBUG, "%s: not in the snapshot, or NSS "
			   "disagrees with it; not an IAM user", user);
	r = load_settings(pamh, o);
	/*
	 * Unusable snapshot: local uids stay local, whatever the settings
	 * (iam.conf(5)'s defaults when they are unusable).
	 */
	iam_who_settle(w, user, o->cfg != NULL ? o->cfg->uid_min : 70000,
		       o->cfg != NULL ? o->cfg->uid_max : 99999);
	if (w->kind == IAM_WHO_LOCAL)
		return PAM_USER_UNKNOWN;
	if (r == PAM_SUCCESS && o->bad_arg)
		r = PAM_AUTHINFO_UNAVAIL;
	return r;
}

void
pam_iam_opts_release(struct pam_iam_opts *o)
{
	o->cfg = iam_config_free(o->cfg);
}

const void *
pam_iam_item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

int
pam_iam_conv_code(int r)
{
	if (r == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	return r == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CONV_ERR;
}
