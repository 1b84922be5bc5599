/*
 * check.c - one sudo command decided: who asks (an IAM user or not),
 * the sudo:Run request with the login session's MFA and source address,
 * the policy decision and its SudoRun event in the trail.
 *
 * The verdict starts as "unavailable" and only two places can turn it
 * into an approval: a policy Allow for an IAM user, or unknown_user =
 * defer for someone who is not one.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "iam/roles.h"
#include "sudo_iam.h"

#define PRI	(LOG_AUTHPRIV | LOG_ERR)

/* Everything one decision holds; released by check_release(). */
struct check {
	const struct sudo_iam_opts *o;
	struct iam_config *cfg;		/* never NULL after load_config() */
	bool cfg_ok;			/* loaded from its file (or absent) */
	enum iam_unknown_user unknown;
	struct iam_who who;		/* who asks, and the generation read */
	struct iam_auth_user *rec;	/* the IAM user, or NULL */
	bool iam_user;			/* decided by policy */
	char *const *info;		/* command_info, borrowed */
	char *const *run_envp;		/* the command's environment, borrowed */
	bool edit;			/* a sudoedit: sudo:Edit per file */
	struct sudo_iam_command cmd;
	bool cmd_ok;
	struct sudo_iam_edit ed;
	struct sudo_iam_env env;	/* the variables asked or refused */
	struct sudo_iam_outcome *out;
	char host[256];
	struct iam_session_facts facts;
	char source_ip[sizeof(((struct iam_session_rec *)0)->rhost)];
	char mfa_age[32];		/* "" without MFA */
	char arn[512];			/* the principal's ARN */
	char key[128];			/* this login session's key, or "" */
	struct iam_principal *pr;	/* the user's own policies */
	struct iam_role_rec *role;	/* the role of an active session, or NULL */
	struct iam_role_session rs;	/* that session, when role != NULL */
	struct iam_result *res;		/* the result that decided */
	const char *action;		/* the request that decided, */
	char resource[PATH_MAX + 512];	/* and its resource */
};

/* ---- Settings and snapshot -------------------------------------------- */

static void
load_config(struct check *c)
{
	const char *path = c->o->config ? c->o->config : IAM_DEFAULT_CONFIG;
	char err[512] = "";
	int r;

	r = iam_config_load(path, c->o->config != NULL, &c->cfg, err,
			    sizeof(err));
	if (r == 0) {
		c->cfg_ok = true;
	} else {
		syslog(PRI, "sudo_iam: settings %s unusable: %s", path,
		       err[0] ? err : strerror(-r));
		/* The defaults still give the uid range and the trail. */
		if (iam_config_defaults(&c->cfg) < 0)
			c->cfg = NULL;
	}
	if (c->o->unknown_user >= 0)
		c->unknown = (enum iam_unknown_user)c->o->unknown_user;
	else if (c->cfg_ok)
		c->unknown = c->cfg->sudo_unknown_user;
	else
		c->unknown = IAM_UNKNOWN_DEFER;
}

/*
 * Who asks (iam_who_decide(), the rule of "Who is an IAM user"), from
 * one generation of the snapshot; as root, from its auth.db.  Returns 0 with c->iam_user and c->rec
 * set, or -errno when the snapshot cannot answer; the caller then goes
 * by the uid range.
 */
static int
identify_sudoer(struct check *c)
{
	if (!c->cfg_ok)
		return -EINVAL;
	iam_who_decide(c->cfg->snapshot_dir, c->o->user, IAM_WHO_PRIVATE,
		       &c->who);
	if (c->who.kind == IAM_WHO_UNAVAILABLE) {
		syslog(PRI, "sudo_iam: snapshot %s unusable for %s: %s",
		       c->cfg->snapshot_dir, c->o->user, c->who.why);
		return c->who.err;
	}
	if (c->who.kind == IAM_WHO_USER && c->who.rec->uid == c->o->uid) {
		c->rec = c->who.rec;
		c->who.rec = NULL;
		c->iam_user = true;
	}
	return 0;
}

/* ---- The request ------------------------------------------------------ */

/*
 * MFA time and source address of this login session, as pam_iam
 * recorded them as root.  A record of another uid never counts.
 */
static void
session_facts(struct check *c)
{
	struct iam_session_rec rec;
	char key[128];
	int64_t age;
	int r;

	c->facts.service = "sudo";
	c->facts.tty = c->o->tty;
	c->facts.now = (int64_t)time(NULL);
	r = iam_session_key(c->rec->uid, c->o->tty, key, sizeof(key));
	if (r == 0)
		memcpy(c->key, key, sizeof(c->key));
	if (r == 0)
		r = iam_session_read(c->cfg->run_dir, key, &rec, 0);
	if (r < 0) {
		if (r != -ENOENT)
			syslog(PRI, "sudo_iam: session record of %s under "
			       "%s ignored: %s", c->o->user, c->cfg->run_dir,
			       strerror(-r));
		return;
	}
	/*
	 * The address belongs to the login session, whichever uid wrote
	 * the record last (`su other` inside it keeps the address but
	 * writes its own uid); the MFA time is only the user's own.
	 */
	if (rec.rhost[0] != '\0' && iam_is_ip_address(rec.rhost)) {
		memcpy(c->source_ip, rec.rhost, sizeof(c->source_ip));
		c->facts.source_ip = c->source_ip;
	}
	if (rec.uid != c->rec->uid)
		return;
	c->facts.mfa_time = rec.mfa_time;
	age = c->facts.now - rec.mfa_time;
	/* As the request: a negative age (clock change) is no MFA. */
	if (rec.mfa_time > 0 && age >= 0)
		(void)iam_snprintf(c->mfa_age, sizeof(c->mfa_age), "%" PRId64,
				   age);
}

/*
 * The role session of this login session, if one is active: written by
 * iam-role-helper as root for this uid, this login session and this
 * boot, not expired, its role still published.  Anything else is no
 * session (logged when a record was there but could not be believed).
 */
/*
 * A record of this user's login session that is no longer active (its
 * time ran out, or it is from an earlier boot) ends here, once: removed,
 * and a RoleSessionEnd event says why.  It counted for nothing already.
 */
static void
end_stale(struct check *c)
{
	struct iam_role_session s;
	struct iam_event ev = {
		.source = "sudo_iam", .name = "RoleSessionEnd",
		.user_type = "IAMUser", .user_name = c->o->user,
	};
	struct iam_role_clock now;
	const char *why;

	if (iam_role_session_read(c->cfg->run_dir, c->key, 0, &s) < 0 ||
	    s.uid != c->rec->uid || iam_role_clock_now(&now) < 0)
		return;
	why = strcmp(s.boot_id, now.boot_id) != 0 ? "earlier boot" :
		now.boot >= s.expiry ? "expired" : NULL;
	if (why == NULL ||
	    iam_role_session_remove(c->cfg->run_dir, c->key, s.id, 0) < 0)
		return;
	ev.params = (struct iam_event_param[]){
		{ "roleName", s.role }, { "roleSessionId", s.id },
		{ "loginSession", c->key }, { "why", why } };
	ev.n_params = 4;
	if (iam_trail_write(c->cfg, &ev) < 0)
		syslog(PRI, "sudo_iam: cannot write the trail %s",
		       c->cfg->trail_file);
}

static void
role_session(struct check *c)
{
	char dir[PATH_MAX];
	int64_t age;
	int r;

	if (c->key[0] == '\0')
		return;
	r = iam_role_session_active(c->cfg->run_dir, c->key, c->rec->uid,
				    NULL, 0, &c->rs);
	if (r == -ENOENT)
		end_stale(c);
	if (r < 0) {
		if (r != -ENOENT)
			syslog(PRI, "sudo_iam: role session record of %s "
			       "under %s ignored: %s", c->o->user,
			       c->cfg->run_dir, strerror(-r));
		return;
	}
	/* The role from the generation the user's record came from. */
	r = iam_generation_path(&c->who.gen, "auth", dir, sizeof(dir));
	if (r == 0)
		r = iam_rolesdb_lookup(dir, 0, c->rs.role, &c->role);
	if (r < 0) {
		syslog(PRI, "sudo_iam: role session %s of %s: role %s "
		       "unusable, session ignored: %s", c->rs.id, c->o->user,
		       c->rs.role, strerror(-r));
		return;
	}
	/* The code given to assume the role is MFA in this login session. */
	if (c->rs.wall_start > c->facts.mfa_time) {
		c->facts.mfa_time = c->rs.wall_start;
		age = c->facts.now - c->facts.mfa_time;
		c->mfa_age[0] = '\0';
		if (age >= 0)
			(void)iam_snprintf(c->mfa_age, sizeof(c->mfa_age),
					   "%" PRId64, age);
	}
	(void)iam_arn_role(c->role->account_id, c->role->name, c->arn,
			   sizeof(c->arn));
}

/*
 * The user's compiled policies, and the role of a session active in
 * this login session (iam_decide() then decides with the role's).
 */
static int
principal_for(struct check *c)
{
	int r;

	r = iam_principal_new(c->rec, &c->pr);
	if (r < 0)
		return r;
	role_session(c);
	return iam_config_hostname(c->cfg, c->host, sizeof(c->host));
}

/*
 * The keys of the request: the run-as names always, the command's for
 * sudo:Run and sudo:SetEnv (a variable may be allowed for one command).
 */
static int
add_keys(struct check *c, struct iam_request *req, bool command_keys)
{
	int r = 0;

	if (command_keys) {
		r = iam_request_add(req, "iam:CommandPath", c->cmd.path);
		if (r == 0)
			r = iam_request_add(req, "iam:Command", c->cmd.line.buf);
	}
	/* An empty argument cannot be a context value; it stays in iam:Command. */
	for (size_t i = 0; command_keys && r == 0 && i < c->cmd.n_args; i++)
		if (c->cmd.args[i][0] != '\0')
			r = iam_request_add(req, "iam:CommandArgs",
					    c->cmd.args[i]);
	if (r == 0 && c->cmd.runas_user[0] != '\0')
		r = iam_request_add(req, "iam:RunAsUser", c->cmd.runas_user);
	if (r == 0 && c->cmd.runas_group[0] != '\0')
		r = iam_request_add(req, "iam:RunAsGroup", c->cmd.runas_group);
	return r;
}

/* The keys of one ask, on each request iam_decide() builds. */
struct ask_keys {
	struct check *c;
	bool command_keys;
};

static int
ask_add_keys(struct iam_request *req, void *arg)
{
	const struct ask_keys *k = arg;

	return add_keys(k->c, req, k->command_keys);
}

/*
 * One request decided through libiam's one decision path, iam_decide():
 * in a role session the role's policies, the user's own explicit Deny
 * still winning and the assuming counting as MFA.  *ret (yours, free())
 * is the result that decides.
 */
static int
ask_policy(struct check *c, const char *action, const char *resource,
	   bool command_keys, struct iam_result **ret)
{
	struct ask_keys keys = { .c = c, .command_keys = command_keys };
	struct iam_ask ask = { .action = action, .resource = resource,
			       .add_keys = ask_add_keys, .arg = &keys };
	struct iam_as_role as;
	struct iam_result *res = malloc(sizeof(*res));
	int r = res != NULL ? 0 : -ENOMEM;

	if (c->role != NULL)
		as = (struct iam_as_role){ .role = c->role,
					   .session_id = c->rs.id,
					   .started = c->rs.wall_start };
	if (r == 0)
		r = iam_decide(c->cfg, c->rec, c->pr, c->role != NULL ? &as :
			       NULL, &c->facts, &ask, res, NULL);
	if (r < 0) {
		free(res);
		syslog(PRI, "sudo_iam: cannot decide %s on %s for %s: %s",
		       action, resource, c->o->user, strerror(-r));
		return r;
	}
	*ret = res;
	return 0;
}

static enum sudo_iam_verdict
verdict_of(const struct iam_result *res)
{
	switch (res->decision) {
	case IAM_ALLOW:
		return SUDO_IAM_ALLOW;
	case IAM_EXPLICIT_DENY:
		return SUDO_IAM_EXPLICIT;
	default:
		return SUDO_IAM_NO_ALLOW;
	}
}

/* res becomes the result that decided, with its request for the trail. */
static void
keep_decider(struct check *c, struct iam_result *res, const char *action,
	     const char *resource)
{
	free(c->res);
	c->res = res;
	c->action = action;
	(void)iam_snprintf(c->resource, sizeof(c->resource), "%s", resource);
}

/* Only what a terminal shows as it is goes into the user's message. */
static void
say_what(struct check *c, const char *kind, const char *what)
{
	c->out->kind = kind;
	c->out->what[0] = '\0';
	for (const unsigned char *p = (const unsigned char *)what; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return;
	(void)iam_snprintf(c->out->what, sizeof(c->out->what), "%s", what);
}

/* Ask one request; its result is kept when it refuses. */
static enum sudo_iam_verdict
ask_kept(struct check *c, const char *action, const char *resource,
	 bool command_keys)
{
	struct iam_result *res = NULL;
	enum sudo_iam_verdict v;

	if (ask_policy(c, action, resource, command_keys, &res) < 0)
		return SUDO_IAM_UNAVAIL;
	v = verdict_of(res);
	if (v != SUDO_IAM_ALLOW || c->res == NULL ||
	    strcmp(action, "sudo:Edit") == 0)
		keep_decider(c, res, action, resource);
	else
		free(res);
	return v;
}

/*
 * A command: variables refused whatever the policy says first, then
 * sudo:Run, then sudo:SetEnv for each variable the user set or
 * preserved.  Everything must be allowed; the first refusal decides.
 */
static enum sudo_iam_verdict
decide_run(struct check *c)
{
	char arn[PATH_MAX + 512];
	enum sudo_iam_verdict v;
	int r;

	if (!c->cmd_ok) {
		syslog(PRI, "sudo_iam: %s for %s: %s", c->cmd.given ?
		       c->cmd.given : "(no command)", c->o->user, c->cmd.why);
		return SUDO_IAM_UNAVAIL;
	}
	r = sudo_iam_env_collect(&c->o->env, c->run_envp, &c->env);
	if (r < 0) {
		syslog(PRI, "sudo_iam: environment of %s for %s cannot be "
		       "decided: %s", c->cmd.line.buf, c->o->user,
		       strerror(-r));
		return SUDO_IAM_UNAVAIL;
	}
	if (c->env.refused[0] != '\0' || c->env.refused_invalid) {
		c->action = "sudo:SetEnv";
		if (!c->env.refused_invalid)
			(void)iam_arn_sudo_env(c->rec->account_id, c->host,
					       c->env.refused, c->resource,
					       sizeof(c->resource));
		say_what(c, "variable", c->env.refused_invalid ? "" :
			 c->env.refused);
		return SUDO_IAM_REFUSED;
	}
	r = iam_arn_sudo(c->rec->account_id, c->host, c->cmd.path, arn,
			 sizeof(arn));
	v = r == 0 ? ask_kept(c, "sudo:Run", arn, true) : SUDO_IAM_UNAVAIL;
	for (size_t i = 0; v == SUDO_IAM_ALLOW && i < c->env.n; i++) {
		r = iam_arn_sudo_env(c->rec->account_id, c->host,
				     c->env.names[i], arn, sizeof(arn));
		v = r == 0 ? ask_kept(c, "sudo:SetEnv", arn, true) :
			SUDO_IAM_UNAVAIL;
		if (v != SUDO_IAM_ALLOW)
			say_what(c, "variable", c->env.names[i]);
	}
	return v;
}

/* A sudoedit: one sudo:Edit per file; the editor is never asked. */
static enum sudo_iam_verdict
decide_edit(struct check *c)
{
	char arn[PATH_MAX + 512];
	enum sudo_iam_verdict v = SUDO_IAM_UNAVAIL;
	int r;

	if (!c->cmd_ok) {
		syslog(PRI, "sudo_iam: sudoedit %s for %s: %s", c->ed.bad ?
		       c->ed.bad : "", c->o->user, c->ed.why ? c->ed.why :
		       c->cmd.why);
		return SUDO_IAM_UNAVAIL;
	}
	for (size_t i = 0; i < c->ed.n; i++) {
		r = iam_arn_sudo_file(c->rec->account_id, c->host,
				      c->ed.paths[i], arn, sizeof(arn));
		v = r == 0 ? ask_kept(c, "sudo:Edit", arn, false) :
			SUDO_IAM_UNAVAIL;
		if (v != SUDO_IAM_ALLOW) {
			say_what(c, "file", c->ed.paths[i]);
			break;
		}
	}
	return v;
}

static enum sudo_iam_verdict
decide_iam_user(struct check *c)
{
	(void)iam_arn_user(c->rec->account_id, c->rec->name, c->arn,
			   sizeof(c->arn));
	if (c->rec->disabled)
		return SUDO_IAM_DISABLED;
	/* sudo told open() one mode and check() another: decide neither. */
	if (c->o->edit != c->edit) {
		syslog(PRI, "sudo_iam: sudoedit in settings and command_info "
		       "disagree for %s", c->o->user);
		return SUDO_IAM_UNAVAIL;
	}
	session_facts(c);
	if (principal_for(c) < 0) {
		syslog(PRI, "sudo_iam: cannot load the policies of %s",
		       c->o->user);
		return SUDO_IAM_UNAVAIL;
	}
	return c->edit ? decide_edit(c) : decide_run(c);
}

/* ---- The trail -------------------------------------------------------- */

/* A verdict in the trail: its "decision" and its error code. */
static const struct {
	const char *decision, *error;
} verdicts[] = {
	[SUDO_IAM_ALLOW] = { "Allow", NULL },
	[SUDO_IAM_DEFER] = { "Deferred", NULL },
	[SUDO_IAM_NO_ALLOW] = { "ImplicitDeny", "AccessDenied" },
	[SUDO_IAM_EXPLICIT] = { "ExplicitDeny", "AccessDenied" },
	[SUDO_IAM_DISABLED] = { "AccountDisabled", "AccountDisabled" },
	[SUDO_IAM_NOT_IAM] = { "NotAnIAMUser", "AccessDenied" },
	[SUDO_IAM_UNAVAIL] = { "Unavailable", "Unavailable" },
	[SUDO_IAM_REFUSED] = { "RefusedVariable", "AccessDenied" },
};

/* The names of the variables asked (values may be secret: never kept). */
static int
env_names(const struct check *c, struct iam_buf *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->env.n; i++)
		r = iam_buf_addf(out, "%s%s", i ? " " : "", c->env.names[i]);
	if (r == 0 && c->env.refused[0] != '\0' && !c->env.refused_invalid)
		r = iam_buf_addf(out, "%s%s", c->env.n ? " " : "",
				 c->env.refused);
	return r;
}

static int
trail(struct check *c, enum sudo_iam_verdict v)
{
	struct iam_buf decision = IAM_BUF_INIT, env = IAM_BUF_INIT;
	const char *line = c->cmd.line.len ? c->cmd.line.buf : c->cmd.given;
	struct iam_event_param params[] = {
		/* In a sudoedit the editor is the user's, never the command. */
		{ "command", c->edit ? NULL : line },
		{ "editor", c->edit ? c->cmd.given : NULL },
		{ "files", c->ed.files.len ? c->ed.files.buf : NULL },
		{ "environment", NULL },
		{ "refusedVariable", c->env.refused[0] ? c->env.refused :
		  NULL },
		{ "action", c->action },
		{ "resource", c->resource[0] ? c->resource : NULL },
		{ "runAsUser", c->cmd.runas_user[0] ? c->cmd.runas_user : NULL },
		{ "runAsGroup", c->cmd.runas_group[0] ? c->cmd.runas_group :
		  NULL },
		{ "tty", c->o->tty },
		{ "mfaAge", c->mfa_age[0] ? c->mfa_age : NULL },
		{ "role", c->role != NULL ? c->role->name : NULL },
		{ "roleSessionId", c->role != NULL ? c->rs.id : NULL },
		{ "decision", verdicts[v].decision },
	};
	struct iam_event ev = {
		.time = c->facts.now,
		.source = "sudo_iam",
		.name = "SudoRun",
		.user_type = c->role != NULL ? "AssumedRole" :
			     c->rec != NULL ? "IAMUser" : "LocalUser",
		.user_name = c->o->user,
		.user_arn = c->arn[0] ? c->arn : NULL,
		.source_ip = c->facts.source_ip,
		.params = params,
		.n_params = sizeof(params) / sizeof(params[0]),
		.error_code = verdicts[v].error,
	};
	int r = 0;

	if (c->cfg == NULL)
		return -ENOMEM;
	r = env_names(c, &env);
	params[3].value = env.len ? env.buf : NULL;
	if (r == 0 && c->res != NULL) {
		r = iam_result_write_json(c->res, &decision);
		ev.decision_json = decision.buf;
	}
	if (r == 0)
		r = iam_trail_write(c->cfg, &ev);
	iam_buf_release(&decision);
	iam_buf_release(&env);
	if (r < 0)
		syslog(PRI, "sudo_iam: cannot write the trail %s: %s",
		       c->cfg->trail_file, strerror(-r));
	return r;
}

/* ---- One decision ------------------------------------------------------- */

static bool
in_iam_range(const struct check *c)
{
	uint32_t lo = c->cfg != NULL ? c->cfg->uid_min : 70000;
	uint32_t hi = c->cfg != NULL ? c->cfg->uid_max : 99999;

	return c->o->uid >= lo && c->o->uid <= hi;
}

static enum sudo_iam_verdict
decide_sudo(struct check *c)
{
	if (c->o->user == NULL || !c->o->have_uid) {
		syslog(PRI, "sudo_iam: sudo gave no user or uid");
		return SUDO_IAM_UNAVAIL;
	}
	load_config(c);
	if (identify_sudoer(c) < 0) {
		/* Unusable snapshot: only uids outside the range are local. */
		if (in_iam_range(c))
			return SUDO_IAM_UNAVAIL;
	} else if (c->iam_user) {
		return decide_iam_user(c);
	}
	return c->unknown == IAM_UNKNOWN_DEFER ? SUDO_IAM_DEFER :
		SUDO_IAM_NOT_IAM;
}

static void
check_release(struct check *c)
{
	free(c->res);
	sudo_iam_env_release(&c->env);
	sudo_iam_edit_release(&c->ed);
	iam_role_rec_free(c->role);
	iam_principal_free(c->pr);
	sudo_iam_command_release(&c->cmd);
	iam_auth_user_free(c->rec);
	iam_who_release(&c->who);
	iam_config_free(c->cfg);
}

/* The command, or for a sudoedit the run-as names and the files. */
static bool
command_init(struct check *c, char *const run_argv[])
{
	if (!c->edit)
		return sudo_iam_command_init(&c->cmd, c->info, run_argv) == 0;
	if (sudo_iam_command_init_edit(&c->cmd, c->info) < 0)
		return false;
	return sudo_iam_edit_init(&c->ed, c->info, run_argv) == 0;
}

enum sudo_iam_verdict
sudo_iam_decide(const struct sudo_iam_opts *opts, char *const command_info[],
		char *const run_argv[], char *const run_envp[],
		struct sudo_iam_outcome *out)
{
	struct check c;
	enum sudo_iam_verdict v;

	memset(&c, 0, sizeof(c));
	c.who.gen.fd = -1;
	memset(out, 0, sizeof(*out));
	c.o = opts;
	c.out = out;
	c.info = command_info;
	c.run_envp = run_envp;
	c.facts.now = (int64_t)time(NULL);
	/* What sudo's front end acts on: command_info's sudoedit flag. */
	c.edit = sudo_iam_flag(command_info, "sudoedit", 0) == 1;
	c.cmd_ok = command_init(&c, run_argv);
	v = decide_sudo(&c);
	/*
	 * An IAM user's approval needs its record when trail_required;
	 * someone who is not an IAM user is never held up by the trail
	 * (break-glass).
	 */
	if (trail(&c, v) < 0 && v == SUDO_IAM_ALLOW &&
	    (c.cfg == NULL || c.cfg->trail_required))
		v = SUDO_IAM_UNAVAIL;
	check_release(&c);
	return v;
}
