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
	struct iam_authdb *db;
	struct iam_auth_user *rec;	/* the IAM user, or NULL */
	bool iam_user;			/* decided by policy */
	struct sudo_iam_command cmd;
	bool cmd_ok;
	struct iam_session_facts facts;
	char source_ip[sizeof(((struct iam_session_rec *)0)->rhost)];
	char mfa_age[32];		/* "" without MFA */
	char arn[512];			/* the principal's ARN */
	char key[128];			/* this login session's key, or "" */
	struct iam_principal *pr;	/* the user's own policies */
	struct iam_role_rec *role;	/* the role of an active session, or NULL */
	struct iam_role_session rs;	/* that session, when role != NULL */
	struct iam_request *req;
	struct iam_request *user_req;	/* in a role session: as the user */
	struct iam_result *res;		/* set once evaluated */
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

/* True when NSS resolves name to uid, the rule of "Who is an IAM user". */
static bool
nss_agrees(const char *name, uint32_t uid)
{
	struct passwd pw, *pwp = NULL;
	size_t size = 4096;
	char *buf = NULL;
	bool same = false;
	int r;

	do {
		char *p = realloc(buf, size);

		if (p == NULL)
			break;
		buf = p;
		r = getpwnam_r(name, &pw, buf, size, &pwp);
		size *= 2;
	} while (r == ERANGE && size <= (1u << 20));
	same = buf != NULL && pwp != NULL && pwp->pw_uid == (uid_t)uid;
	free(buf);
	return same;
}

/*
 * Who asks.  Returns 0 with c->iam_user and c->rec set, or -errno when
 * the snapshot cannot answer; the caller then goes by the uid range.
 */
static int
identify(struct check *c)
{
	char dir[PATH_MAX], err[512] = "";
	struct iam_auth_user *u = NULL;
	int r;

	if (!c->cfg_ok)
		return -EINVAL;
	r = iam_snapshot_path(c->cfg, "auth", dir, sizeof(dir));
	if (r == 0)
		r = iam_authdb_open(dir, &c->db, err, sizeof(err));
	if (r < 0) {
		syslog(PRI, "sudo_iam: private snapshot %s unusable: %s", dir,
		       err[0] ? err : strerror(-r));
		return r;
	}
	r = iam_authdb_lookup(c->db, c->o->user, &u);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		syslog(PRI, "sudo_iam: private snapshot %s: record of %s: %s",
		       dir, c->o->user, strerror(-r));
		return r;
	}
	if (u->uid == c->o->uid && nss_agrees(u->name, u->uid)) {
		c->rec = u;
		c->iam_user = true;
	} else {
		iam_auth_user_free(u);
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
	if (rec.uid != c->rec->uid)
		return;
	c->facts.mfa_time = rec.mfa_time;
	if (rec.rhost[0] != '\0' && iam_is_ip_address(rec.rhost)) {
		memcpy(c->source_ip, rec.rhost, sizeof(c->source_ip));
		c->facts.source_ip = c->source_ip;
	}
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
	r = iam_snapshot_path(c->cfg, "auth", dir, sizeof(dir));
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
 * The policies that decide for this principal: the user's own, or while
 * a role session is active in this login session, the role's.  The one
 * place where a role session substitutes its policies.
 */
static int
principal_for(struct check *c, const struct iam_policy_set **ret)
{
	int r;

	r = iam_principal_new(c->rec, &c->pr);
	if (r < 0)
		return r;
	role_session(c);
	*ret = c->role != NULL ? c->role->set : c->pr->set;
	return 0;
}

static int
add_command_keys(struct check *c, struct iam_request *req)
{
	int r;

	r = iam_request_add(req, "iam:CommandPath", c->cmd.path);
	if (r == 0)
		r = iam_request_add(req, "iam:Command", c->cmd.line.buf);
	/* An empty argument cannot be a context value; it stays in iam:Command. */
	for (size_t i = 0; r == 0 && i < c->cmd.n_args; i++)
		if (c->cmd.args[i][0] != '\0')
			r = iam_request_add(req, "iam:CommandArgs",
					    c->cmd.args[i]);
	if (r == 0 && c->cmd.runas_user[0] != '\0')
		r = iam_request_add(req, "iam:RunAsUser", c->cmd.runas_user);
	if (r == 0 && c->cmd.runas_group[0] != '\0')
		r = iam_request_add(req, "iam:RunAsGroup", c->cmd.runas_group);
	return r;
}

/*
 * In a role session, the user's own policies are asked too: their
 * explicit Deny still wins over whatever the role allows.
 */
static int
user_deny_wins(struct check *c, const char *resource)
{
	struct iam_result *own = NULL;
	int r;

	r = iam_request_for_user(c->cfg, c->rec, &c->facts, "sudo:Run",
				 resource, &c->user_req);
	if (r == 0)
		r = add_command_keys(c, c->user_req);
	if (r == 0 && (own = malloc(sizeof(*own))) == NULL)
		r = -ENOMEM;
	if (r < 0)
		return r;
	r = iam_policy_evaluate(c->pr->set, c->user_req, own);
	if (r == 0 && own->decision == IAM_EXPLICIT_DENY) {
		free(c->res);
		c->res = own;
	} else {
		free(own);
	}
	return r;
}

static int
evaluate(struct check *c)
{
	char host[256], resource[PATH_MAX + 512];
	const struct iam_policy_set *set = NULL;
	int r;

	r = iam_config_hostname(c->cfg, host, sizeof(host));
	if (r == 0)
		r = iam_arn_sudo(c->rec->account_id, host, c->cmd.path,
				 resource, sizeof(resource));
	if (r == 0)
		r = principal_for(c, &set);
	if (r == 0 && c->role != NULL)
		r = iam_request_for_role(c->cfg, c->rec, c->role, c->rs.id,
					 &c->facts, "sudo:Run", resource,
					 &c->req);
	else if (r == 0)
		r = iam_request_for_user(c->cfg, c->rec, &c->facts, "sudo:Run",
					 resource, &c->req);
	if (r == 0)
		r = add_command_keys(c, c->req);
	if (r == 0 && (c->res = malloc(sizeof(*c->res))) == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = iam_policy_evaluate(set, c->req, c->res);
	if (r == 0 && c->role != NULL && c->res->decision != IAM_EXPLICIT_DENY)
		r = user_deny_wins(c, resource);
	if (r < 0) {
		free(c->res);
		c->res = NULL;
		syslog(PRI, "sudo_iam: cannot decide %s for %s: %s",
		       c->cmd.line.buf, c->o->user, strerror(-r));
	}
	return r;
}

static enum sudo_iam_verdict
decide_iam_user(struct check *c)
{
	(void)iam_arn_user(c->rec->account_id, c->rec->name, c->arn,
			   sizeof(c->arn));
	if (c->rec->disabled)
		return SUDO_IAM_DISABLED;
	if (!c->cmd_ok) {
		syslog(PRI, "sudo_iam: %s for %s: %s", c->cmd.given ?
		       c->cmd.given : "(no command)", c->o->user, c->cmd.why);
		return SUDO_IAM_UNAVAIL;
	}
	session_facts(c);
	if (evaluate(c) < 0)
		return SUDO_IAM_UNAVAIL;
	switch (c->res->decision) {
	case IAM_ALLOW:
		return SUDO_IAM_ALLOW;
	case IAM_EXPLICIT_DENY:
		return SUDO_IAM_EXPLICIT;
	default:
		return SUDO_IAM_NO_ALLOW;
	}
}

/* ---- The trail -------------------------------------------------------- */

static const char *const decision_names[] = {
	[SUDO_IAM_ALLOW] = "Allow",
	[SUDO_IAM_DEFER] = "Deferred",
	[SUDO_IAM_NO_ALLOW] = "ImplicitDeny",
	[SUDO_IAM_EXPLICIT] = "ExplicitDeny",
	[SUDO_IAM_DISABLED] = "AccountDisabled",
	[SUDO_IAM_NOT_IAM] = "NotAnIAMUser",
	[SUDO_IAM_UNAVAIL] = "Unavailable",
};

static const char *const error_codes[] = {
	[SUDO_IAM_ALLOW] = NULL,
	[SUDO_IAM_DEFER] = NULL,
	[SUDO_IAM_NO_ALLOW] = "AccessDenied",
	[SUDO_IAM_EXPLICIT] = "AccessDenied",
	[SUDO_IAM_DISABLED] = "AccountDisabled",
	[SUDO_IAM_NOT_IAM] = "AccessDenied",
	[SUDO_IAM_UNAVAIL] = "Unavailable",
};

static int
trail(struct check *c, enum sudo_iam_verdict v)
{
	struct iam_buf decision = IAM_BUF_INIT;
	const char *line = c->cmd.line.len ? c->cmd.line.buf : c->cmd.given;
	struct iam_event_param params[] = {
		{ "command", line },
		{ "runAsUser", c->cmd.runas_user[0] ? c->cmd.runas_user : NULL },
		{ "runAsGroup", c->cmd.runas_group[0] ? c->cmd.runas_group :
		  NULL },
		{ "tty", c->o->tty },
		{ "mfaAge", c->mfa_age[0] ? c->mfa_age : NULL },
		{ "role", c->role != NULL ? c->role->name : NULL },
		{ "roleSessionId", c->role != NULL ? c->rs.id : NULL },
		{ "decision", decision_names[v] },
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
		.error_code = error_codes[v],
	};
	int r = 0;

	if (c->cfg == NULL)
		return -ENOMEM;
	if (c->res != NULL) {
		r = iam_result_write_json(c->res, &decision);
		ev.decision_json = decision.buf;
	}
	if (r == 0)
		r = iam_trail_write(c->cfg, &ev);
	iam_buf_release(&decision);
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
decide(struct check *c)
{
	if (c->o->user == NULL || !c->o->have_uid) {
		syslog(PRI, "sudo_iam: sudo gave no user or uid");
		return SUDO_IAM_UNAVAIL;
	}
	load_config(c);
	if (identify(c) < 0) {
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
	iam_request_free(c->req);
	iam_request_free(c->user_req);
	iam_role_rec_free(c->role);
	iam_principal_free(c->pr);
	sudo_iam_command_release(&c->cmd);
	iam_auth_user_free(c->rec);
	iam_authdb_close(c->db);
	iam_config_free(c->cfg);
}

enum sudo_iam_verdict
sudo_iam_decide(const struct sudo_iam_opts *opts, char *const command_info[],
		char *const run_argv[])
{
	struct check c;
	enum sudo_iam_verdict v;

	memset(&c, 0, sizeof(c));
	c.o = opts;
	c.facts.now = (int64_t)time(NULL);
	c.cmd_ok = sudo_iam_command_init(&c.cmd, command_info, run_argv) == 0;
	v = decide(&c);
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
