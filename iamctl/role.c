/*
 * role.c - iamctl assume-role, whoami, drop-role and sessions.
 *
 * assume-role, whoami and drop-role act for the user who runs them, who
 * is usually not root: iamctl hands them, with their arguments and
 * nothing else, to the setuid helper IAM_LIBEXECDIR/iam-role-helper,
 * which identifies the caller by the real uid alone.  `sessions` is the
 * administrator's view of every role session on the host and runs here,
 * as root only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "iam/roles.h"

#ifndef IAM_LIBEXECDIR
#define IAM_LIBEXECDIR "/usr/libexec/iam"
#endif
#define ROLE_HELPER IAM_LIBEXECDIR "/iam-role-helper"
#define HELPER_ARGS 16

static void
role_usage(FILE *f)
{
	fputs("usage: iamctl assume-role ROLE [--duration SECONDS] "
	      "[--reason TEXT]\n"
	      "       iamctl whoami\n"
	      "       iamctl drop-role\n"
	      "       iamctl sessions [--revoke ID]\n"
	      "  assume-role asks for a verification code, then sudo in this\n"
	      "  login session acts as the role until the session expires\n"
	      "  (default: the role's maximum, at most 3600 seconds).\n", f);
}

/* Hand the command to the helper; returns only when it cannot run. */
static int
run_helper(struct iamctl *ctl, int argc, char **argv, int max_args)
{
	char *args[HELPER_ARGS];
	int n = 0;

	if (iamctl_wants_help(argc, argv)) {
		role_usage(stdout);
		return EXIT_OK;
	}
	if (argc > max_args) {
		role_usage(stderr);
		return EXIT_USAGE;
	}
	args[n++] = (char *)ROLE_HELPER;
	/* The helper honours it only for a real root, as iamctl does. */
	if (ctl->real_root && ctl->config_path != NULL) {
		args[n++] = (char *)"--config";
		args[n++] = (char *)ctl->config_path;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(ROLE_HELPER, args);
	iamctl_err("%s: cannot run %s: %s", argv[0], ROLE_HELPER,
		   strerror(errno));
	return EXIT_USAGE;
}

int
cmd_assume_role(struct iamctl *ctl, int argc, char **argv)
{
	return run_helper(ctl, argc, argv, 6);
}

int
cmd_whoami(struct iamctl *ctl, int argc, char **argv)
{
	return run_helper(ctl, argc, argv, 1);
}

int
cmd_drop_role(struct iamctl *ctl, int argc, char **argv)
{
	return run_helper(ctl, argc, argv, 1);
}

/* ---- sessions ------------------------------------------------------------ */

struct walk {
	struct iam_role_clock now;
	const char *revoke;		/* --revoke ID, or NULL */
	struct iam_role_session found;	/* the session to revoke */
	char key[128];
	bool have;
	size_t n;
};

static const char *
state_of(const struct walk *w, const struct iam_role_session *s)
{
	if (strcmp(s->boot_id, w->now.boot_id) != 0)
		return "earlier-boot";
	if (w->now.boot >= s->expiry)
		return "expired";
	return "active";
}

static int
list_one(const char *key, const struct iam_role_session *s, int err, void *arg)
{
	struct walk *w = arg;
	char start[32], end[32], left[32] = "-";

	if (w->revoke != NULL) {
		if (s != NULL && strcmp(s->id, w->revoke) == 0) {
			w->found = *s;
			(void)iam_snprintf(w->key, sizeof(w->key), "%s", key);
			w->have = true;
			return 1;
		}
		return 0;
	}
	if (w->n++ == 0)
		printf("%-32s  %-12s  %-16s  %-12s  %-20s  %-20s  %s\n", "ID",
		       "USER", "ROLE", "SESSION", "STARTED", "EXPIRES", "STATE");
	if (s == NULL) {
		printf("%-32s  %-12s  %-16s  %-12s  %-20s  %-20s  invalid (%s)\n",
		       "-", "-", "-", key, "-", "-", strerror(-err));
		return 0;
	}
	if (iam_format_time(s->wall_start, start, sizeof(start)) < 0 ||
	    iam_format_time(s->wall_expiry, end, sizeof(end)) < 0)
		return 0;
	if (strcmp(state_of(w, s), "active") == 0)
		(void)iam_snprintf(left, sizeof(left), "active, %" PRId64
				   " s left", s->expiry - w->now.boot);
	printf("%-32s  %-12s  %-16s  %-12s  %-20s  %-20s  %s\n", s->id,
	       s->user, s->role, s->key, start, end,
	       strcmp(left, "-") != 0 ? left : state_of(w, s));
	return 0;
}

static int
revoke_session(struct iamctl *ctl, struct walk *w)
{
	char who[64];
	struct iam_event ev = { 0 };
	struct iam_event_param params[] = {
		{ "roleName", w->found.role },
		{ "roleSessionId", w->found.id },
		{ "loginSession", w->key },
		{ "endedBy", who },
		{ "why", "revoked" },
	};
	int r;

	r = iam_role_session_remove(ctl->cfg->run_dir, w->key, w->found.id, 0);
	if (r < 0) {
		iamctl_err("sessions: cannot revoke %s: %s", w->revoke,
			   strerror(-r));
		return EXIT_REFUSED;
	}
	(void)actor(who, sizeof(who));
	ev.source = "iamctl";
	ev.name = "RoleSessionEnd";
	ev.user_type = "IAMUser";
	ev.user_name = w->found.user;
	ev.params = params;
	ev.n_params = sizeof(params) / sizeof(params[0]);
	printf("Role session %s (%s of %s) revoked.\n", w->found.id,
	       w->found.role, w->found.user);
	fflush(stdout);
	r = iam_trail_write(ctl->cfg, &ev);
	if (r < 0) {
		iamctl_err("%s: the trail could not record RoleSessionEnd: %s",
			   ctl->cfg->trail_file, strerror(-r));
		return ctl->cfg->trail_required ? EXIT_REFUSED : EXIT_OK;
	}
	return EXIT_OK;
}

int
cmd_sessions(struct iamctl *ctl, int argc, char **argv)
{
	struct walk w;
	int i = 1, r, rc;

	memset(&w, 0, sizeof(w));
	if (iamctl_wants_help(argc, argv)) {
		role_usage(stdout);
		return EXIT_OK;
	}
	for (; i < argc; i++) {
		r = opt_value(argc, argv, &i, "--revoke", &w.revoke);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			role_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = need_root("sessions");
	if (rc != EXIT_OK)
		return rc;
	if (iamctl_config(ctl) == NULL)
		return EXIT_USAGE;
	r = iam_role_clock_now(&w.now);
	if (r < 0) {
		iamctl_err("sessions: no clock: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	r = iam_role_session_list(ctl->cfg->run_dir, 0, list_one, &w);
	if (r < 0 && r != -ENOENT) {
		iamctl_err("sessions: %s/%s: %s", ctl->cfg->run_dir,
			   IAM_ROLE_SESSION_DIR, strerror(-r));
		return EXIT_REFUSED;
	}
	if (w.revoke != NULL) {
		if (!w.have) {
			iamctl_err("sessions: no role session with id '%s'",
				   w.revoke);
			return EXIT_REFUSED;
		}
		return revoke_session(ctl, &w);
	}
	if (w.n == 0)
		printf("no role sessions\n");
	return EXIT_OK;
}
