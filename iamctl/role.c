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
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "cmd.h"
#include "iam/roles.h"
#include "jsonout.h"

#ifndef IAM_LIBEXECDIR
#define IAM_LIBEXECDIR "/usr/libexec/iam"
#endif
#define ROLE_HELPER IAM_LIBEXECDIR "/iam-role-helper"
#define WHOAMI_MAX  (16u << 10)	/* the helper's answer to whoami */

static void
role_usage(FILE *f)
{
	fputs("usage: iamctl assume-role ROLE [--duration SECONDS] "
	      "[--reason TEXT]\n"
	      "       iamctl whoami [--json]\n"
	      "       iamctl drop-role\n"
	      "       iamctl sessions [--json] [--revoke ID]\n"
	      "  assume-role asks for a verification code, then sudo in this\n"
	      "  login session acts as the role until the session expires\n"
	      "  (default: the role's maximum, at most 3600 seconds).\n", f);
}

int
iamctl_exec_role_helper(struct iamctl *ctl, int argc, char **argv)
{
	if (argc > IAMCTL_HELPER_MAX_ARGS)
		return EXIT_USAGE;
	return iamctl_exec(ctl, ROLE_HELPER, argc, argv);
}

/* Hand the command to the helper; returns only when it cannot run. */
static int
run_helper(struct iamctl *ctl, int argc, char **argv, int max_args)
{
	int rc = iamctl_words(argc, argv, role_usage, 1, max_args);

	return rc >= 0 ? rc : iamctl_exec_role_helper(ctl, argc, argv);
}

int
cmd_assume_role(struct iamctl *ctl, int argc, char **argv)
{
	return run_helper(ctl, argc, argv, 6);
}

/*
 * The value of the "label:   value" line of the helper's whoami answer;
 * the answer's lines were split (each ends in a NUL) by whoami_json().
 */
static char *
whoami_line(char *text, size_t len, const char *label)
{
	size_t n = strlen(label);

	for (char *l = text; l < text + len; l += strlen(l) + 1)
		if (strncmp(l, label, n) == 0 && l[n] == ':')
			return l + n + 1 + strspn(l + n + 1, " ");
	return NULL;
}

/* "NAME (ARN)": the name in place, the ARN back (NULL when none). */
static char *
split_arn(char *v)
{
	char *open = v != NULL ? strstr(v, " (") : NULL;
	size_t n;

	if (open == NULL)
		return NULL;
	*open = '\0';
	open += 2;
	n = strlen(open);
	if (n > 0 && open[n - 1] == ')')
		open[n - 1] = '\0';
	return open;
}

/* whoami --json: the helper's answer (its text, read here) as JSON. */
static int
whoami_json(char *text, size_t len)
{
	char *user, *role, *session, *expires, *reason, *user_arn, *role_arn;
	long long left = -1;
	struct jout j;

	for (char *p = text; p < text + len; p++)
		if (*p == '\n')
			*p = '\0';
	user = whoami_line(text, len, "user");
	role = whoami_line(text, len, "role");
	session = whoami_line(text, len, "session");
	expires = whoami_line(text, len, "expires");
	reason = whoami_line(text, len, "reason");
	user_arn = split_arn(user);

	if (user == NULL) {
		iamctl_err("whoami: the helper's answer has no user");
		return EXIT_REFUSED;
	}
	if (role != NULL && strncmp(role, "none", 4) == 0)
		role = NULL;
	role_arn = split_arn(role);
	if (expires != NULL) {
		char *sp = strchr(expires, ' ');

		if (sp != NULL) {
			*sp++ = '\0';
			if (sscanf(sp, "(%lld seconds left)", &left) != 1)
				left = -1;
		}
	}
	jout_begin(&j);
	jout_map(&j);
	jout_kstr(&j, "user", user);
	jout_kstr(&j, "arn", user_arn);
	jout_key(&j, "role");
	if (role == NULL) {
		jout_null(&j);
	} else {
		jout_map(&j);
		jout_kstr(&j, "name", role);
		jout_kstr(&j, "arn", role_arn);
		jout_kstr(&j, "session", session);
		jout_kstr(&j, "expires", expires);
		jout_key(&j, "seconds_left");
		if (left >= 0)
			jout_int(&j, left);
		else
			jout_null(&j);
		jout_kstr(&j, "reason", reason);
		jout_map_end(&j);
	}
	jout_map_end(&j);
	return jout_end(&j);
}

/*
 * The helper answers whoami as text (it runs setuid and stays small);
 * --json runs it with its output in a pipe and turns the answer into
 * JSON here.  Its errors go to stderr as they are.
 */
static int
whoami_via_pipe(struct iamctl *ctl, char **argv)
{
	struct iam_buf out = IAM_BUF_INIT;
	int fds[2], st, r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		iamctl_err("whoami: %s", strerror(errno));
		return EXIT_USAGE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		iamctl_err("whoami: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return EXIT_USAGE;
	}
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(EXIT_USAGE);
		_exit(run_helper(ctl, 1, argv, 1));
	}
	close(fds[1]);
	r = read_fd(fds[0], &out, WHOAMI_MAX, false);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != EXIT_OK) {
		iam_buf_release(&out);
		if (r < 0)
			iamctl_err("whoami: %s", strerror(-r));
		return r < 0 || !WIFEXITED(st) ? EXIT_REFUSED :
		       WEXITSTATUS(st);
	}
	r = whoami_json(out.buf, out.len);
	iam_buf_release(&out);
	return r;
}

int
cmd_whoami(struct iamctl *ctl, int argc, char **argv)
{
	if (!iamctl_wants_help(argc, argv) &&
	    iamctl_take_flag(&argc, argv, "--json")) {
		if (argc != 1) {
			role_usage(stderr);
			return EXIT_USAGE;
		}
		return whoami_via_pipe(ctl, argv);
	}
	return run_helper(ctl, argc, argv, 1);
}

int
cmd_drop_role(struct iamctl *ctl, int argc, char **argv)
{
	return run_helper(ctl, argc, argv, 1);
}

/* ---- sessions ------------------------------------------------------------ */

struct walk {
	struct jout *j;			/* --json, or NULL */
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

/* sessions --json: one object a session record, an unreadable one too. */
static int
list_json(struct walk *w, const char *key, const struct iam_role_session *s,
	  int err)
{
	struct jout *j = w->j;

	w->n++;
	jout_map(j);
	jout_kstr(j, "login_session", key);
	if (s == NULL) {
		jout_kstr(j, "state", "invalid");
		jout_kstr(j, "error", strerror(-err));
		jout_map_end(j);
		return 0;
	}
	jout_kstr(j, "id", s->id);
	jout_kstr(j, "user", s->user);
	jout_kint(j, "uid", s->uid);
	jout_kstr(j, "role", s->role);
	jout_ktime(j, "started", s->wall_start);
	jout_ktime(j, "expires", s->wall_expiry);
	jout_kstr(j, "state", state_of(w, s));
	jout_key(j, "seconds_left");
	if (strcmp(state_of(w, s), "active") == 0)
		jout_int(j, s->expiry - w->now.boot);
	else
		jout_null(j);
	jout_kstr(j, "reason", s->reason[0] != '\0' ? s->reason : NULL);
	jout_map_end(j);
	return 0;
}

static int
list_session(const char *key, const struct iam_role_session *s, int err,
	     void *arg)
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
	if (w->j != NULL)
		return list_json(w, key, s, err);
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

/*
 * The trail records who revoked (userIdentity: the administrator) and
 * whose session it was (requestParameters.userName), as every iamctl
 * change does; `trail --user` finds it under the session's user.
 */
static int
revoke_session(struct iamctl *ctl, struct walk *w)
{
	char who[64];
	struct iam_event_param params[] = {
		{ "userName", w->found.user },
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
	printf("Role session %s (%s of %s) revoked.\n", w->found.id,
	       w->found.role, w->found.user);
	fflush(stdout);
	r = trail(ctl->cfg, "RoleSessionEnd", NULL, params,
		  sizeof(params) / sizeof(params[0]));
	if (r < 0)
		return ctl->cfg->trail_required ? EXIT_REFUSED : EXIT_OK;
	return EXIT_OK;
}

int
cmd_sessions(struct iamctl *ctl, int argc, char **argv)
{
	struct walk w;
	struct jout j;
	bool json;
	int i = 1, r, rc;

	memset(&w, 0, sizeof(w));
	if (iamctl_wants_help(argc, argv)) {
		role_usage(stdout);
		return EXIT_OK;
	}
	json = iamctl_take_flag(&argc, argv, "--json");
	for (; i < argc; i++) {
		r = opt_value(argc, argv, &i, "--revoke", &w.revoke);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			role_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (w.revoke != NULL && (json || iamctl_bad_name("sessions",
							  w.revoke))) {
		role_usage(stderr);
		return EXIT_USAGE;
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
	if (json) {
		w.j = &j;
		jout_begin(&j);
		jout_array(&j);
	}
	r = iam_role_session_list(ctl->cfg->run_dir, 0, list_session, &w);
	if (json) {
		jout_array_end(&j);
		rc = jout_end(&j);
	}
	if (r < 0 && r != -ENOENT) {
		iamctl_err("sessions: %s/%s: %s", ctl->cfg->run_dir,
			   IAM_ROLE_SESSION_DIR, strerror(-r));
		return EXIT_REFUSED;
	}
	if (json)
		return rc;
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
