/*
 * doctor.c - iamctl doctor: check this host's wiring and print each
 * finding with its fix.  Exit 1 when any finding is an error.
 *
 * Every file is read directly (never through NSS or PAM), and nothing is
 * changed: the doctor only looks.  What it exists to diagnose (a broken
 * iam.conf, a missing identity file) is a finding, never exit 2.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "jsonout.h"

#define PAM_DIR		"/etc/pam.d"
#define PAM_RECOMMENDED	"[success=done user_unknown=ignore " \
			"authinfo_unavail=ignore default=die]"
/*
 * The account phase refuses when IAM is unusable: an SSH key login has no
 * other gate, and pam_unix's account phase would admit an IAM user.
 */
#define PAM_RECOMMENDED_ACCOUNT "[success=done user_unknown=ignore " \
			"default=die]"
/* chauthtok and the session phase answer PAM_IGNORE for non-IAM names. */
#define PAM_RECOMMENDED_PASSWORD "[success=done user_unknown=ignore " \
			"ignore=ignore authinfo_unavail=ignore default=die]"
#define MAX_INCLUDE	8

struct doctor {
	unsigned errors, warnings;
	struct jout *j;		/* --json: findings go here, or NULL */
};

static void finding(struct doctor *d, bool error, const char *fix,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One finding of --json: {"severity", "message", "fix"}. */
static void
finding_json(struct jout *j, bool error, const char *fix, const char *fmt,
	     va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	jout_map(j);
	jout_kstr(j, "severity", error ? "error" : "warning");
	jout_kstr(j, "message", msg != NULL ? msg : "(out of memory)");
	jout_kstr(j, "fix", fix);
	jout_map_end(j);
	free(msg);
}

static void
finding(struct doctor *d, bool error, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (error)
		d->errors++;
	else
		d->warnings++;
	va_start(ap, fmt);
	if (d->j != NULL) {
		finding_json(d->j, error, fix, fmt, ap);
		va_end(ap);
		return;
	}
	printf("%s: ", error ? "error" : "warning");
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n  fix: %s\n", fix);
}

static void
usage(FILE *f)
{
	fputs("usage: iamctl doctor [--json]\n"
	      "  Check this host's wiring (iam.conf, NSS, PAM, sshd, sudo,\n"
	      "  nscd, file owners and modes, snapshots, id overlaps, MFA,\n"
	      "  the clock) and print each finding with its fix; exit 1 when\n"
	      "  any is an error.  --json: {\"findings\": [{\"severity\",\n"
	      "  \"message\", \"fix\"}...], \"errors\": N,\n"
	      "  \"warnings\": N}.\n", f);
}

/* ---- nsswitch.conf --------------------------------------------------- */

static void
check_nsswitch(struct doctor *d)
{
	static const char *const dbs[] = { "passwd", "group" };
	bool seen[2] = { false, false };
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;

	fp = fopen("/etc/nsswitch.conf", "re");
	if (fp == NULL) {
		finding(d, true, "create /etc/nsswitch.conf with "
			"'passwd: files iam' and 'group: files iam'",
			"/etc/nsswitch.conf: %s", strerror(errno));
		return;
	}
	while (getline(&line, &cap, fp) >= 0) {
		char *save = NULL, *tok;
		int db = -1, files_at = -1, iam_at = -1, pos = 0;

		line[strcspn(line, "#\n")] = '\0';
		tok = strtok_r(line, " \t", &save);
		for (int k = 0; k < 2 && tok != NULL; k++) {
			size_t n = strlen(dbs[k]);

			if (strncmp(tok, dbs[k], n) == 0 && tok[n] == ':') {
				db = k;
				tok = tok[n + 1] ? tok + n + 1 :
				      strtok_r(NULL, " \t", &save);
			}
		}
		if (db < 0)
			continue;
		seen[db] = true;
		for (; tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
			if (tok[0] == '[')
				continue;	/* an action, not a service */
			if ((strcmp(tok, "files") == 0 ||
			     strcmp(tok, "compat") == 0) && files_at < 0)
				files_at = pos;
			if (strcmp(tok, "iam") == 0 && iam_at < 0)
				iam_at = pos;
			pos++;
		}
		if (iam_at < 0)
			finding(d, true, "add 'iam' after 'files' on that line",
				"/etc/nsswitch.conf: %s does not use iam",
				dbs[db]);
		else if (files_at < 0 || iam_at < files_at)
			finding(d, true, "put 'files' first, then 'iam', so "
				"local accounts and root never depend on IAM",
				"/etc/nsswitch.conf: %s has iam before files "
				"(or no files)", dbs[db]);
	}
	free(line);
	fclose(fp);
	for (int k = 0; k < 2; k++)
		if (!seen[k])
			finding(d, true, "add the line (see "
				"nsswitch.conf.example)",
				"/etc/nsswitch.conf: no '%s: files iam' line",
				dbs[k]);
}

/* ---- PAM --------------------------------------------------------------- */

struct pam_scan {
	bool iam;		/* pam_iam.so seen for the type */
	bool recommended;	/* with the recommended control */
	bool unix_first;	/* pam_unix.so came before pam_iam.so */
	char ctl[256];		/* control of the first pam_iam.so line */
};

/* Scan service file for type, following @include, include and substack. */
static const char *
recommended(const char *type)
{
	if (strcmp(type, "password") == 0)
		return PAM_RECOMMENDED_PASSWORD;
	return strcmp(type, "account") == 0 ? PAM_RECOMMENDED_ACCOUNT :
		PAM_RECOMMENDED;
}

static int
scan_pam(const char *service, const char *type, struct pam_scan *s, int depth)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, tlen = strlen(type);
	FILE *fp;

	if (depth > MAX_INCLUDE ||
	    iam_snprintf(path, sizeof(path), "%s/%s", PAM_DIR, service) < 0)
		return -ELOOP;
	fp = fopen(path, "re");
	if (fp == NULL)
		return -errno;
	while (getline(&line, &cap, fp) >= 0) {
		char *p = line, *ctl, *mod;

		line[strcspn(line, "#\n")] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "@include", 8) == 0) {
			char *name = p + 8;

			while (isspace((unsigned char)*name))
				name++;
			name[strcspn(name, " \t")] = '\0';
			if (*name != '\0')
				scan_pam(name, type, s, depth + 1);
			continue;
		}
		if (*p == '-')
			p++;
		if (strncmp(p, type, tlen) != 0 ||
		    !isspace((unsigned char)p[tlen]))
			continue;
		ctl = p + tlen;
		while (isspace((unsigned char)*ctl))
			ctl++;
		if (*ctl == '[') {
			mod = strchr(ctl, ']');
			if (mod == NULL)
				continue;
			mod++;
		} else {
			mod = ctl + strcspn(ctl, " \t");
		}
		while (isspace((unsigned char)*mod))
			mod++;
		if (strncmp(ctl, "include", 7) == 0 ||
		    strncmp(ctl, "substack", 8) == 0) {
			mod[strcspn(mod, " \t")] = '\0';
			scan_pam(mod, type, s, depth + 1);
			continue;
		}
		if (strstr(mod, "pam_unix.so") != NULL && !s->iam)
			s->unix_first = true;
		if (strstr(mod, "pam_iam.so") != NULL && !s->iam) {
			s->iam = true;
			(void)snprintf(s->ctl, sizeof(s->ctl), "%.*s",
				       (int)(mod - ctl), ctl);
			/* Compare the control without its spacing. */
			s->recommended = strncmp(ctl, recommended(type),
						 strlen(recommended(type))) == 0;
		}
	}
	free(line);
	fclose(fp);
	return 0;
}

/*
 * The PAM services doctor reads and their types that pam_iam serves; a
 * session line is only checked for letting local users through.
 */
static const struct {
	const char *service;
	const char *types[3];
} svc[] = {
	{ "sshd", { "auth", "account", "session" } },
	{ "login", { "auth", "account", "session" } },
	{ "su", { "auth", "account", "session" } },
	{ "sudo", { "auth", "account", NULL } },
	{ "passwd", { "password", NULL, NULL } },
};

/* Does the service's type use pam_iam, in the recommended stack? */
static void
check_wiring(struct doctor *d, const char *service, const char *type,
	     const struct pam_scan *s)
{
	char fix[256], use[256];

	snprintf(fix, sizeof(fix), "add '%s %s pam_iam.so' before pam_unix.so",
		 type, recommended(type));
	snprintf(use, sizeof(use), "use '%s pam_iam.so' before pam_unix.so, "
		 "so local users never depend on IAM", recommended(type));
	if (!s->iam)
		finding(d, true, fix, PAM_DIR "/%s: %s does not use pam_iam",
			service, type);
	else if (!s->recommended || s->unix_first)
		finding(d, false, use, PAM_DIR "/%s: %s uses pam_iam outside "
			"the recommended stack", service, type);
}

/*
 * A pam_iam line whose control does not let a local name through: a
 * PAM_USER_UNKNOWN (auth, account; and password, session) or a
 * PAM_IGNORE (password, session) that is not ignored refuses local users
 * or stops them on IAM's answer, and pam_iam after pam_unix in auth asks
 * them IAM's questions after their own.  Local users must never depend
 * on IAM nor see its prompts: an error, with the line to use.
 */
static const char *
local_user_fault(const char *type, const struct pam_scan *s)
{
	bool bracket = s->ctl[0] == '[';
	bool two = strcmp(type, "password") == 0 ||
		strcmp(type, "session") == 0;

	if (strcmp(type, "auth") == 0 && s->unix_first)
		return "pam_iam comes after pam_unix";
	if (!bracket || strstr(s->ctl, "user_unknown=ignore") == NULL)
		return "local names (PAM_USER_UNKNOWN) are not let through";
	if (two && strstr(s->ctl, "ignore=ignore") == NULL)
		return "local names (PAM_IGNORE) are not let through";
	return NULL;
}

/* Does the service's pam_iam line of type let local users through? */
static void
check_local_users(struct doctor *d, const char *service, const char *type,
		  const struct pam_scan *s)
{
	const char *why = local_user_fault(type, s);
	char fix[320];

	if (why == NULL)
		return;
	if (strcmp(type, "session") == 0)
		snprintf(fix, sizeof(fix), "use 'session [success=ok "
			 "user_unknown=ignore ignore=ignore "
			 "authinfo_unavail=ignore default=bad] "
			 "pam_iam.so' (common-session-iam)");
	else
		snprintf(fix, sizeof(fix), "use '%s %s pam_iam.so' before "
			 "pam_unix.so", type, recommended(type));
	finding(d, true, fix, PAM_DIR "/%s: %s: %s; local users may be "
		"refused or shown IAM prompts", service, type, why);
}

/*
 * One pass over the PAM services: the wiring (auth, account, password;
 * a missing service once), or with local_users whether each pam_iam line
 * lets local users through.
 */
static void
check_pam(struct doctor *d, bool local_users)
{
	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
		for (int t = 0; t < 3 && svc[i].types[t] != NULL; t++) {
			struct pam_scan s = { false, false, false, "" };
			const char *type = svc[i].types[t];
			int r;

			if (!local_users && strcmp(type, "session") == 0)
				continue;
			r = scan_pam(svc[i].service, type, &s, 0);
			if (local_users) {
				if (r >= 0 && s.iam)
					check_local_users(d, svc[i].service,
							  type, &s);
			} else if (r == -ENOENT) {
				finding(d, false, "install the service or "
					"ignore this if it is not used",
					PAM_DIR "/%s: missing", svc[i].service);
				break;
			} else {
				check_wiring(d, svc[i].service, type, &s);
			}
		}
	}
}

/* ---- nscd and sudo ----------------------------------------------------- */

static bool
nscd_running(void)
{
	struct dirent *e;
	bool found = false;
	DIR *dp;

	if (access("/run/nscd/socket", F_OK) == 0)
		return true;
	dp = opendir("/proc");
	if (dp == NULL)
		return false;
	while (!found && (e = readdir(dp)) != NULL) {
		char path[64], comm[32] = "";
		FILE *fp;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", e->d_name);
		fp = fopen(path, "re");
		if (fp == NULL)
			continue;
		if (fgets(comm, sizeof(comm), fp) != NULL &&
		    strcmp(comm, "nscd\n") == 0)
			found = true;
		fclose(fp);
	}
	closedir(dp);
	return found;
}

/*
 * "Plugin sudo_iam [DIR/]sudo_iam.so [OPTIONS]": sudo looks the symbol
 * up by its second word, so "Plugin other sudo_iam.so" loads nothing.
 */
static bool
sudo_conf_loads_iam(const char *p)
{
	char word[3][PATH_MAX];
	const char *base;
	int n = 0;

	while (n < 3) {
		size_t len;

		while (isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t");
		if (len == 0 || len >= PATH_MAX)
			break;
		memcpy(word[n], p, len);
		word[n++][len] = '\0';
		p += len;
	}
	if (n < 3 || strcmp(word[0], "Plugin") != 0 ||
	    strcmp(word[1], "sudo_iam") != 0)
		return false;
	base = strrchr(word[2], '/');
	return strcmp(base != NULL ? base + 1 : word[2], "sudo_iam.so") == 0;
}

static void
check_sudo(struct doctor *d)
{
	char *line = NULL;
	size_t cap = 0;
	bool loads = false;
	struct stat st;
	FILE *fp;

	fp = fopen("/etc/sudo.conf", "re");
	if (fp == NULL) {
		finding(d, true, "create /etc/sudo.conf with 'Plugin sudo_iam "
			"sudo_iam.so'", "/etc/sudo.conf: %s", strerror(errno));
		return;
	}
	/* sudo ignores, silently, a sudo.conf it would not trust. */
	if (fstat(fileno(fp), &st) == 0 &&
	    (st.st_uid != 0 || (st.st_mode & 022) != 0 ||
	     !S_ISREG(st.st_mode)))
		finding(d, true, "chown root:root /etc/sudo.conf; chmod 0644 "
			"/etc/sudo.conf", "/etc/sudo.conf: %s; sudo ignores it",
			!S_ISREG(st.st_mode) ? "not a regular file" :
			st.st_uid != 0 ? "not owned by root" :
			"writable by group or others");
	while (getline(&line, &cap, fp) >= 0) {
		char *p = line;

		line[strcspn(line, "#\n")] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (sudo_conf_loads_iam(p))
			loads = true;
	}
	free(line);
	fclose(fp);
	if (!loads)
		finding(d, true, "add 'Plugin sudo_iam sudo_iam.so' to "
			"/etc/sudo.conf (sudo_iam(8))",
			"/etc/sudo.conf: does not load sudo_iam");
}

/* ---- sudoers: rules that let IAM users set variables ------------------- */

#define SUDOERS_DEPTH	8		/* nested @include */
#define SUDOERS_LINE	(64 * 1024)	/* a logical line, continuations joined */

/*
 * What sudoers would let an IAM user bring into a command: sudo_iam
 * refuses the dangerous variables and asks sudo:SetEnv for the others,
 * but the documented coarse layer has sudoers refuse them first
 * (NOSETENV), and with env_reset off the plugin cannot tell what the
 * user brought.  The files are read conservatively: an alias, a netgroup
 * or ALL in a user list may hold IAM users.
 */
struct sudoers_scan {
	struct doctor *d;
	const struct iam_config *cfg;
	const struct iam_identity *id;	/* NULL: any name but root may be IAM */
	const char *file;
	unsigned line;
};

/* Does the local group name list an IAM user in /etc/group? */
static bool
group_has_iam_member(const struct sudoers_scan *s, const char *name)
{
	char *line = NULL, *members, *save = NULL;
	size_t cap = 0, n = strlen(name);
	bool found = false;
	FILE *fp;

	if (s->id == NULL)
		return true;
	fp = fopen("/etc/group", "re");
	if (fp == NULL)
		return true;
	while (!found && getline(&line, &cap, fp) >= 0) {
		if (strncmp(line, name, n) != 0 || line[n] != ':')
			continue;
		members = strrchr(line, ':') + 1;
		members[strcspn(members, "\n")] = '\0';
		for (char *m = strtok_r(members, ",", &save); m != NULL &&
		     !found; m = strtok_r(NULL, ",", &save))
			found = iam_identity_user(s->id, m) != NULL;
	}
	free(line);
	fclose(fp);
	return found;
}

static bool
in_range(const char *digits, uint32_t lo, uint32_t hi)
{
	long long v;

	return iam_parse_ll(digits, 0, UINT32_MAX, &v) == 0 &&
	       v >= lo && v <= hi;
}

/* May one entry of a sudoers user list name an IAM user? */
static bool
sudoers_user_may_be_iam(const struct sudoers_scan *s, const char *tok)
{
	bool alias = true;

	if (tok[0] == '!' || strcmp(tok, "root") == 0 || tok[0] == '\0')
		return false;
	if (strcmp(tok, "ALL") == 0 || tok[0] == '+')
		return true;
	if (tok[0] == '#')
		return in_range(tok + 1, s->cfg->uid_min, s->cfg->uid_max);
	if (tok[0] == '%') {
		tok += tok[1] == ':' ? 2 : 1;
		if (tok[0] == '#')
			return in_range(tok + 1, s->cfg->gid_min,
					s->cfg->gid_max);
		return s->id == NULL || iam_identity_group(s->id, tok) != NULL ||
		       group_has_iam_member(s, tok);
	}
	for (const char *p = tok; *p != '\0'; p++)
		if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_')
			alias = false;
	return alias || s->id == NULL || iam_identity_user(s->id, tok) != NULL;
}

/* A comma-separated user list: may any entry be an IAM user? */
static bool
sudoers_list_may_be_iam(const struct sudoers_scan *s, char *list)
{
	char *save = NULL;
	bool any = false;

	for (char *t = strtok_r(list, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		t[strcspn(t, " \t")] = '\0';
		any = any || sudoers_user_may_be_iam(s, t);
	}
	return any;
}

/* "Defaults[:users] setenv, !env_reset, ..." */
static void
sudoers_defaults(const struct sudoers_scan *s, char *p)
{
	char *params = p + strcspn(p, " \t"), *save = NULL;
	char fix[PATH_MAX + 64];

	if (*params != '\0')
		*params++ = '\0';
	if (p[8] == ':' && !sudoers_list_may_be_iam(s, p + 9))
		return;
	for (char *t = strtok_r(params, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		bool neg = false;

		while (isspace((unsigned char)*t) || *t == '!') {
			neg = neg || *t == '!';
			t++;
		}
		t[strcspn(t, " \t=+-")] = '\0';
		snprintf(fix, sizeof(fix), "remove it from %s (visudo -f %s)",
			 s->file, s->file);
		if (strcmp(t, "setenv") == 0 && !neg)
			finding(s->d, false, fix, "%s:%u: 'Defaults setenv' "
				"lets IAM users set variables for sudo",
				s->file, s->line);
		else if (strcmp(t, "env_reset") == 0 && neg)
			finding(s->d, true, fix, "%s:%u: '!env_reset' hands the "
				"user's environment to every sudo command",
				s->file, s->line);
	}
}

static bool
sudoers_tag(const char *w, size_t n, int *setenv)
{
	static const char *const tags[] = { "NOPASSWD", "PASSWD", "NOEXEC",
		"EXEC", "SETENV", "NOSETENV", "LOG_INPUT", "NOLOG_INPUT",
		"LOG_OUTPUT", "NOLOG_OUTPUT", "MAIL", "NOMAIL", "FOLLOW",
		"NOFOLLOW", "INTERCEPT", "NOINTERCEPT", NULL };

	for (size_t i = 0; tags[i] != NULL; i++)
		if (strlen(tags[i]) == n && strncmp(w, tags[i], n) == 0) {
			if (strcmp(tags[i], "SETENV") == 0)
				*setenv = 1;
			else if (strcmp(tags[i], "NOSETENV") == 0)
				*setenv = 0;
			return true;
		}
	return false;
}

/*
 * The commands of a rule, after its '='.  Tags carry over to the next
 * commands of the list, as in sudoers; a command ALL implies SETENV
 * unless NOSETENV is in effect.
 */
static const char *
sudoers_commands_setenv(char *cmds)
{
	int setenv = -1;
	const char *why = NULL;
	char *save = NULL;

	for (char *item = strtok_r(cmds, ",", &save); item != NULL &&
	     why == NULL; item = strtok_r(NULL, ",", &save)) {
		char *w = item;

		for (;;) {
			size_t n;

			while (isspace((unsigned char)*w))
				w++;
			if (*w == '(') {	/* run-as list */
				w += strcspn(w, ")");
				w += *w == ')';
				continue;
			}
			n = strcspn(w, " \t:=");
			if (w[n] == ':' && sudoers_tag(w, n, &setenv)) {
				w += n + 1;
				continue;
			}
			if (w[n] == '=') {	/* CWD=, CHROOT=, ROLE=... */
				w += n + strcspn(w + n, " \t");
				continue;
			}
			break;
		}
		if (setenv == 1)
			why = "a SETENV tag";
		else if (setenv < 0 && strncmp(w, "ALL", 3) == 0 &&
			 (w[3] == '\0' || isspace((unsigned char)w[3])))
			why = "the command ALL without NOSETENV";
	}
	return why;
}

/* "users hosts = commands": the first list of words before '='. */
static void
sudoers_rule(const struct sudoers_scan *s, char *p)
{
	char *eq = strchr(p, '='), *users = p, *end;
	const char *why;

	*eq = '\0';
	/* The user list ends at the first blank not next to a comma. */
	for (end = p; *end != '\0'; end++) {
		char *q = end;

		if (!isspace((unsigned char)*end))
			continue;
		while (isspace((unsigned char)*q))
			q++;
		if (end > p && end[-1] != ',' && *q != ',')
			break;
	}
	*end = '\0';
	why = sudoers_commands_setenv(eq + 1);
	if (why != NULL && sudoers_list_may_be_iam(s, users))
		finding(s->d, false, "tag the rule NOSETENV, as in "
			"'%engineers ALL=(ALL:ALL) NOSETENV: ALL' (sudo_iam(8))",
			"%s:%u: a rule lets IAM users set variables for sudo "
			"(%s)", s->file, s->line, why);
}

static void scan_sudoers(struct sudoers_scan *s, const char *path, int depth);

/* "@includedir DIR": its files without '.' or a trailing '~', in order. */
static void
scan_sudoers_dir(struct sudoers_scan *s, const char *dir, int depth)
{
	struct dirent **list = NULL;
	char path[PATH_MAX];
	int n = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;

		if (strchr(name, '.') == NULL &&
		    name[strlen(name) - 1] != '~' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, name) <
		    (int)sizeof(path))
			scan_sudoers(s, path, depth);
		free(list[i]);
	}
	free(list);
}

static void
sudoers_line(struct sudoers_scan *s, char *p, int depth)
{
	static const char *const aliases[] = { "User_Alias", "Runas_Alias",
		"Host_Alias", "Cmnd_Alias", "Cmd_Alias", NULL };
	char *arg;

	while (isspace((unsigned char)*p))
		p++;
	if ((p[0] == '@' || p[0] == '#') && strncmp(p + 1, "include", 7) == 0) {
		bool dir = strncmp(p + 8, "dir", 3) == 0;

		arg = p + 8 + (dir ? 3 : 0);
		while (isspace((unsigned char)*arg))
			arg++;
		arg[strcspn(arg, " \t\n")] = '\0';
		if (dir)
			scan_sudoers_dir(s, arg, depth + 1);
		else
			scan_sudoers(s, arg, depth + 1);
		return;
	}
	/* A comment, unless '#' starts a uid ("#1000 ALL=..."). */
	for (char *c = p; (c = strchr(c, '#')) != NULL; c++)
		if (!isdigit((unsigned char)c[1])) {
			*c = '\0';
			break;
		}
	for (size_t i = 0; aliases[i] != NULL; i++)
		if (strncmp(p, aliases[i], strlen(aliases[i])) == 0)
			return;
	if (strncmp(p, "Defaults", 8) == 0)
		sudoers_defaults(s, p);
	else if (strchr(p, '=') != NULL)
		sudoers_rule(s, p);
}

/*
 * Append one physical line: 1 when the logical line goes on (a trailing
 * backslash), 0 when it is complete, -1 over the cap or out of memory.
 */
static int
sudoers_join(char **joined, size_t *len, const char *line, size_t n)
{
	char *j;

	if (*len + n + 1 > SUDOERS_LINE ||
	    (j = realloc(*joined, *len + n + 1)) == NULL)
		return -1;
	*joined = j;
	memcpy(j + *len, line, n + 1);
	*len += n;
	if (*len > 0 && j[*len - 1] == '\\') {
		j[*len - 1] = ' ';
		return 1;
	}
	return 0;
}

/* Read one sudoers file, its continued lines joined. */
static void
scan_sudoers(struct sudoers_scan *s, const char *path, int depth)
{
	const char *outer_file = s->file;
	unsigned outer_line = s->line, at = 0, physical = 0;
	char *line = NULL, *joined = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;
	FILE *fp;
	int r;

	if (depth > SUDOERS_DEPTH || (fp = fopen(path, "re")) == NULL)
		return;
	s->file = path;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		physical++;
		if (len == 0)
			at = physical;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		r = sudoers_join(&joined, &len, line, (size_t)n);
		if (r > 0)
			continue;
		if (r < 0) {
			finding(s->d, false, "shorten it", "%s:%u: a line too "
				"long to check", path, at);
			break;
		}
		s->line = at;
		sudoers_line(s, joined, depth);
		len = 0;
	}
	free(line);
	free(joined);
	fclose(fp);
	s->file = outer_file;
	s->line = outer_line;
}

static void
check_sudoers(struct doctor *d, const struct iam_config *cfg)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct sudoers_scan s = { .d = d, .cfg = cfg };

	/* Without a readable identity every name but root may be IAM. */
	if (iam_identity_load(cfg->identity_file, false, cfg, NULL, &id,
			      &faults) == 0)
		s.id = id;
	iam_faults_release(&faults);
	scan_sudoers(&s, "/etc/sudoers", 0);
	iam_identity_free(id);
}

/* ---- iam.conf ----------------------------------------------------------- */

/* The fix for an iam.conf that does not load (r, err from the loader). */
static void
config_fix(const char *path, int r, const char *err, char *fix, size_t len)
{
	char bad[PATH_MAX];
	const char *colon = strstr(err, ": ");
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(fix, len, "a folder stands where the file belongs: "
			 "move it away (mv %s %s.old); without the file every "
			 "setting has its default (iam.conf(5))", path, path);
	else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		snprintf(fix, len, "replace the symbolic link %s by the file "
			 "itself", path);
	else if (r == -EPERM && colon != NULL &&
		 (size_t)(colon - err) < sizeof(bad)) {
		memcpy(bad, err, (size_t)(colon - err));
		bad[colon - err] = '\0';
		snprintf(fix, len, "chown root:root %s; chmod go-w %s", bad,
			 bad);
	} else if (r == -ENOENT)
		snprintf(fix, len, "give --config an existing file, or leave "
			 "it out for %s", IAM_DEFAULT_CONFIG);
	else if (r == -EINVAL)
		snprintf(fix, len, "correct or remove that setting in %s "
			 "(iam.conf(5) lists every setting, its type and its "
			 "values; a removed one takes its default)", path);
	else
		snprintf(fix, len, "make %s a regular file root can read "
			 "(iam.conf(5)), or remove it to use the defaults",
			 path);
}

/*
 * The configuration the checks use.  A file that does not load is an
 * error finding with its fix (every part of IAM refuses such a file:
 * IAM logins fail, local ones go on), and the checks go on with the
 * defaults.  NULL only when out of memory.
 */
static struct iam_config *
doctor_config(struct iamctl *ctl, struct doctor *d)
{
	const char *path = IAM_DEFAULT_CONFIG;
	bool chosen = false;
	char err[512] = "", fix[PATH_MAX * 2 + 128];
	int r;

	if (ctl->config_path != NULL && ctl->real_root) {
		path = ctl->config_path;
		chosen = true;
	}
	r = iam_config_load(path, chosen, &ctl->cfg, err, sizeof(err));
	if (r == 0)
		return ctl->cfg;
	config_fix(path, r, err[0] ? err : path, fix, sizeof(fix));
	finding(d, true, fix, "%s; pam_iam, sudo_iam and iamctl refuse to "
		"run with it (the checks below use the defaults)",
		err[0] ? err : strerror(-r));
	if (iam_config_defaults(&ctl->cfg) < 0) {
		iamctl_err("doctor: out of memory");
		return NULL;
	}
	return ctl->cfg;
}

/* ---- sshd: what `sshd -T` says ----------------------------------------- */

#define SSHD_PATH	"/usr/sbin/sshd"
#define SSHD_OUT_MAX	(1u << 20)
#define SSHD_LOCAL_MAX	32	/* local accounts tried as a break-glass */

/*
 * Run `sshd -T [-C spec]` with an empty environment: its effective
 * settings, one "keyword value" a line in lower case, into out; when it
 * fails, the first line it printed into why.  0, or -1 when it failed.
 */
static int
sshd_dump(const char *spec, struct iam_buf *out, char *why, size_t len)
{
	char *argv[] = { (char *)SSHD_PATH, (char *)"-T", (char *)"-C",
			 (char *)spec, NULL };
	char *envp[] = { NULL };
	struct iam_buf errs = IAM_BUF_INIT;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, st = 0, r = -1;
	pid_t pid = -1;

	if (spec == NULL)
		argv[2] = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 ||
		    dup2(pe[1], 2) < 0)
			_exit(127);
		execve(SSHD_PATH, argv, envp);
		_exit(127);
	}
	if (pid < 0) {
		snprintf(why, len, "%s", strerror(errno));
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	/* sshd -T says little on stderr: reading stdout first cannot block. */
	(void)read_fd(po[0], out, SSHD_OUT_MAX, true);
	(void)read_fd(pe[0], &errs, 4096, true);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		r = 0;
		goto out;
	}
	if (errs.buf != NULL)
		snprintf(why, len, "%.*s", (int)strcspn(errs.buf, "\r\n"),
			 errs.buf);
	if (errs.buf == NULL || why[0] == '\0')
		snprintf(why, len, "it failed without a word");
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	iam_buf_release(&errs);
	return r;
}

/* The value of keyword in a dump, copied into buf ("" when absent). */
static const char *
sshd_value(const struct iam_buf *dump, const char *keyword, char *buf,
	   size_t len)
{
	size_t n = strlen(keyword);

	buf[0] = '\0';
	for (const char *l = dump->buf; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t ll = end != NULL ? (size_t)(end - l) : strlen(l);

		if (ll > n && strncmp(l, keyword, n) == 0 && l[n] == ' ') {
			snprintf(buf, len, "%.*s", (int)(ll - n - 1),
				 l + n + 1);
			break;
		}
		l = end != NULL ? end + 1 : NULL;
	}
	return buf;
}

/* AuthenticationMethods "a,b c,d": true when every list has publickey. */
static bool
methods_need_key(const char *methods)
{
	char copy[1024], *save = NULL;
	bool any = false;

	snprintf(copy, sizeof(copy), "%s", methods);
	for (char *list = strtok_r(copy, " ", &save); list != NULL;
	     list = strtok_r(NULL, " ", &save)) {
		char *p = list;
		bool key = false;

		any = true;
		while (*p != '\0') {
			size_t m = strcspn(p, ",");

			if (m == 9 && strncmp(p, "publickey", 9) == 0)
				key = true;
			p += m + (p[m] == ',');
		}
		if (!key)
			return false;
	}
	return any;
}

/* The uid of a local account, read from /etc/passwd; -1 when none. */
static long long
local_uid(const char *name)
{
	char *line = NULL;
	size_t cap = 0, n = strlen(name);
	long long uid = -1;
	FILE *fp = fopen("/etc/passwd", "re");

	while (fp != NULL && uid < 0 && getline(&line, &cap, fp) >= 0) {
		char *f = line + n + 1;

		if (strncmp(line, name, n) != 0 || line[n] != ':' ||
		    (f = strchr(f, ':')) == NULL)
			continue;
		f[1 + strcspn(f + 1, ":")] = '\0';
		if (iam_parse_ll(f + 1, 0, UINT32_MAX, &uid) < 0)
			uid = -1;
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
	return uid;
}

/* Is shell one of /etc/shells (a login shell, not nologin)? */
static bool
login_shell(const char *shell)
{
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *fp = fopen("/etc/shells", "re");

	while (fp != NULL && !found && getline(&line, &cap, fp) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		found = line[0] == '/' && strcmp(line, shell) == 0;
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
	return found && strstr(shell, "nologin") == NULL;
}

/*
 * A local account sshd lets in without a key (the effective settings for
 * it, Match blocks applied, from 127.0.0.1): its name into who, or
 * false.  Local means root or a uid outside IAM's range, with a login
 * shell; root counts only where PermitRootLogin allows a password.
 */
static bool
sshd_break_glass(const struct iam_config *cfg, char *who, size_t len)
{
	char *line = NULL, spec[160], val[1024];
	size_t cap = 0, tried = 0;
	bool found = false;
	FILE *fp = fopen("/etc/passwd", "re");

	while (fp != NULL && !found && tried < SSHD_LOCAL_MAX &&
	       getline(&line, &cap, fp) >= 0) {
		struct iam_buf dump = IAM_BUF_INIT;
		char *f[7], *rest = line, *t, why[256];
		long long uid;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		/* strsep: an empty field (no GECOS) is still a field. */
		while (k < 7 && (t = strsep(&rest, ":")) != NULL)
			f[k++] = t;
		if (k < 7 || iam_parse_ll(f[2], 0, UINT32_MAX, &uid) < 0 ||
		    (uid != 0 && uid >= cfg->uid_min && uid <= cfg->uid_max) ||
		    (uid != 0 && uid < 1000) || !login_shell(f[6]) ||
		    !iam_name_valid(f[0]))
			continue;
		tried++;
		snprintf(spec, sizeof(spec), "user=%s,host=localhost,"
			 "addr=127.0.0.1", f[0]);
		if (sshd_dump(spec, &dump, why, sizeof(why)) == 0 &&
		    !methods_need_key(sshd_value(&dump, "authenticationmethods",
						 val, sizeof(val))) &&
		    (uid != 0 || strcmp(sshd_value(&dump, "permitrootlogin",
						   val, sizeof(val)),
					"yes") == 0)) {
			snprintf(who, len, "%s", f[0]);
			found = true;
		}
		iam_buf_release(&dump);
	}
	free(line);
	if (fp != NULL)
		fclose(fp);
	return found;
}

/* AuthorizedKeysCommand runs iamctl ssh-keys %u as an unprivileged user. */
static void
sshd_keys_command(struct doctor *d, const struct iam_buf *dump)
{
	static const char use[] = "AuthorizedKeysCommand /usr/bin/iamctl "
		"ssh-keys %u and AuthorizedKeysCommandUser nobody in "
		"/etc/ssh/sshd_config.d/iam.conf (iamctl(8))";
	char cmd[1024], user[256], prog[PATH_MAX], err[512], fix[PATH_MAX + 64];
	const char *base;
	long long uid;
	int fd;

	sshd_value(dump, "authorizedkeyscommand", cmd, sizeof(cmd));
	sshd_value(dump, "authorizedkeyscommanduser", user, sizeof(user));
	if (cmd[0] == '\0' || strcmp(cmd, "none") == 0) {
		finding(d, false, use, "sshd: no AuthorizedKeysCommand; IAM "
			"users' SSH keys are never asked for");
		return;
	}
	snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(cmd, " "), cmd);
	base = strrchr(prog, '/') != NULL ? strrchr(prog, '/') + 1 : prog;
	if (strcmp(base, "iamctl") != 0 ||
	    strncmp(cmd + strlen(prog), " ssh-keys %u", 12) != 0)
		finding(d, false, use, "sshd: AuthorizedKeysCommand is '%s', "
			"not iamctl ssh-keys %%u; IAM users' SSH keys are not "
			"asked for", cmd);
	/* sshd runs it only when it and its folders are root's alone. */
	fd = iam_open_strict(prog, 0, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	else
		finding(d, true, "install it root-owned and not writable by "
			"group or others, in root-owned folders",
			"sshd: AuthorizedKeysCommand %s: %s; sshd refuses to "
			"run it", prog, err);
	if (user[0] == '\0' || strcmp(user, "none") == 0) {
		finding(d, true, use, "sshd: AuthorizedKeysCommand without an "
			"AuthorizedKeysCommandUser; sshd never runs it");
		return;
	}
	uid = local_uid(user);
	snprintf(fix, sizeof(fix), "AuthorizedKeysCommandUser nobody (the "
		 "command reads only public files)");
	if (uid < 0)
		finding(d, true, fix, "sshd: AuthorizedKeysCommandUser %s is "
			"no local account in /etc/passwd", user);
	else if (uid == 0)
		finding(d, true, fix, "sshd: AuthorizedKeysCommandUser %s runs "
			"the keys command as root", user);
}

/*
 * What sshd will do, from `sshd -T` (its own reading of sshd_config,
 * Include files and defaults): PAM and keyboard-interactive for IAM
 * logins, the keys command, and, when AuthenticationMethods asks a key
 * of everyone, a Match block that lets a local account in without one
 * (`sshd -T -C user=NAME,...` per local account).  Nothing when sshd is
 * not installed.
 */
static void
check_sshd(struct doctor *d, const struct iam_config *cfg)
{
	struct iam_buf dump = IAM_BUF_INIT;
	char why[512], val[1024], who[64];

	if (access(SSHD_PATH, X_OK) < 0)
		return;
	if (sshd_dump(NULL, &dump, why, sizeof(why)) < 0) {
		if (strstr(why, "privilege separation directory") != NULL)
			finding(d, false, "mkdir -m 0755 /run/sshd "
				"(ssh.service makes it when sshd starts), "
				"then run iamctl doctor again", "sshd -T: %s; "
				"sshd's settings were not checked", why);
		else
			finding(d, true, "run 'sshd -t' and correct what it "
				"reports in /etc/ssh/sshd_config",
				"sshd -T: %s; sshd does not start with these "
				"settings", why);
		iam_buf_release(&dump);
		return;
	}
	if (strcmp(sshd_value(&dump, "usepam", val, sizeof(val)), "yes") != 0)
		finding(d, true, "UsePAM yes in /etc/ssh/sshd_config",
			"sshd: UsePAM is '%s'; IAM users' passwords, codes and "
			"account checks (disabled, host:Login, MFA) never run",
			val);
	if (strcmp(sshd_value(&dump, "kbdinteractiveauthentication", val,
			      sizeof(val)), "yes") != 0)
		finding(d, false, "KbdInteractiveAuthentication yes in "
			"/etc/ssh/sshd_config", "sshd: keyboard-interactive is "
			"off; IAM users cannot answer a password and a "
			"verification code");
	sshd_keys_command(d, &dump);
	sshd_value(&dump, "authenticationmethods", val, sizeof(val));
	if (methods_need_key(val) && !sshd_break_glass(cfg, who, sizeof(who)))
		finding(d, false, "add a break-glass block at the end of "
			"/etc/ssh/sshd_config for a local administrator with a "
			"strong local password: 'Match User NAME' then "
			"'AuthenticationMethods keyboard-interactive'",
			"sshd: AuthenticationMethods '%s' asks every user "
			"for a key, local accounts too: without one (or with "
			"IAM down) nobody gets in by password", val);
	iam_buf_release(&dump);
}

/* ---- Owners and modes ------------------------------------------------ */

/* path must be root's, of the given kind, with no permission beyond max. */
static void
check_mode(struct doctor *d, const char *path, bool dir, mode_t max,
	   bool must_exist, const char *missing_fix)
{
	char fix[PATH_MAX + 64];
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT || must_exist)
			finding(d, true, missing_fix, "%s: %s", path,
				strerror(errno));
		return;
	}
	snprintf(fix, sizeof(fix), "chown root:root %s; chmod %04o %s", path,
		 (unsigned)max, path);
	if (S_ISLNK(st.st_mode))
		finding(d, true, "replace the symbolic link by the real "
			"file", "%s: is a symbolic link", path);
	else if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		finding(d, true, missing_fix, "%s: is not a %s", path,
			dir ? "folder" : "regular file");
	else if (st.st_uid != 0)
		finding(d, true, fix, "%s: not owned by root", path);
	else if ((st.st_mode & 07777 & ~max) != 0)
		finding(d, true, fix, "%s: mode %04o is more open than %04o",
			path, (unsigned)(st.st_mode & 07777), (unsigned)max);
}

static void
check_files(struct doctor *d, const struct iam_config *cfg)
{
	char path[PATH_MAX], gdir[PATH_MAX], trail_dir[PATH_MAX];
	struct stat id_st;
	static const struct {
		const char *name;
		bool dir;
		mode_t max;
	} snap[] = {
		{ "nss.db", false, 0644 },
		{ "keys.db", false, 0644 },
		{ "auth", true, 0700 },
		{ "auth/auth.db", false, 0600 },
		{ "auth/roles.db", false, 0600 },
	};
	/* With no identity file, sync has nothing to publish: init first. */
	const char *publish = lstat(cfg->identity_file, &id_st) < 0 &&
			      errno == ENOENT ? "run iamctl init (a first, "
			      "empty identity, published)" : "run iamctl sync";

	check_mode(d, cfg->identity_file, false, 0600, true,
		   strcmp(publish, "run iamctl sync") != 0 ? "run iamctl init "
		   "(a first, empty identity), or install yours (root 0600) "
		   "and run iamctl sync" : "make it a regular file "
		   "(iam-identity(5)), then run iamctl sync");
	check_mode(d, cfg->credentials_dir, true, 0700, false, publish);
	check_mode(d, cfg->state_dir, true, 0700, true, publish);
	check_mode(d, cfg->snapshot_dir, true, 0755, true, publish);
	/* The files of the generation served (check_publication: the rest). */
	if (iam_snapshot_path(cfg, NULL, gdir, sizeof(gdir)) == 0)
		for (size_t i = 0; i < sizeof(snap) / sizeof(snap[0]); i++) {
			if (iam_snprintf(path, sizeof(path), "%s/%s", gdir,
					 snap[i].name) < 0)
				continue;
			check_mode(d, path, snap[i].dir, snap[i].max, true,
				   publish);
		}
	check_mode(d, cfg->trail_file, false, 0600, false, "");
	snprintf(trail_dir, sizeof(trail_dir), "%s", cfg->trail_file);
	if (strrchr(trail_dir, '/') != NULL && strrchr(trail_dir, '/') != trail_dir) {
		*strrchr(trail_dir, '/') = '\0';
		check_mode(d, trail_dir, true, 0755, false, "");
	}
}

/* ---- The publication: one whole generation, nothing left over ---------- */

/*
 * current names a generation whose files are all there and of that
 * generation, the fixed links point into it, and the identity file is the
 * one published.  A fault reads "PATH: what; run FIX".
 */
static void
check_publication(struct doctor *d, const struct iam_config *cfg)
{
	struct iam_faults f = IAM_FAULTS_INIT;

	(void)iam_publish_check(cfg, &f);
	for (size_t i = 0; i < f.n; i++) {
		char *text = f.v[i], *fix = strstr(text, "; run ");
		bool stale = strstr(text, "changed after the last published") !=
			     NULL;

		if (fix != NULL) {
			*fix = '\0';
			fix += 2;
		}
		finding(d, !stale, fix != NULL ? fix : "run iamctl sync --repair",
			"%s", text);
	}
	iam_faults_release(&f);
}

static void
leftover_found(void *ctx, const char *path, const char *what)
{
	finding(ctx, false, "run iamctl sync: the next publication removes "
		"it", "%s: %s", path, what);
}

/* Temporaries and generations an interrupted change left behind. */
static void
check_leftovers(struct doctor *d, const struct iam_config *cfg)
{
	(void)iam_publish_leftovers(cfg, leftover_found, d);
}

/* ---- The identity: overlaps, MFA, administrators ----------------------- */

/* True when doc has an Allow statement whose Action is "*". */
static bool
allows_everything(const struct iam_json *doc)
{
	const struct iam_json *st = iam_json_get(doc, "Statement");
	size_t n = st == NULL ? 0 : st->type == IAM_JSON_ARRAY ? st->len : 1;

	for (size_t i = 0; i < n; i++) {
		const struct iam_json *s = st->type == IAM_JSON_ARRAY ?
					   &st->u.items[i] : st;
		const struct iam_json *eff = iam_json_get(s, "Effect");
		const struct iam_json *act = iam_json_get(s, "Action");

		if (eff == NULL || eff->type != IAM_JSON_STRING ||
		    strcmp(eff->u.string, "Allow") != 0 || act == NULL)
			continue;
		if (act->type == IAM_JSON_STRING && strcmp(act->u.string, "*") == 0)
			return true;
		if (act->type == IAM_JSON_ARRAY && j_find_string(act, "*") >= 0)
			return true;
	}
	return false;
}

static bool
admin_policy(const struct iam_identity *id, const char *name)
{
	const struct iam_named_policy *p = iam_identity_policy(id, name);

	return p != NULL && p->doc != NULL && allows_everything(p->doc);
}

/* The administrator policy reaching u, directly or by a group, or NULL. */
static const char *
admin_of(const struct iam_identity *id, const struct iam_user *u)
{
	for (size_t i = 0; i < u->n_policies; i++)
		if (admin_policy(id, u->policies[i]))
			return u->policies[i];
	for (size_t i = 0; i < u->n_inline; i++)
		if (allows_everything(u->inline_policies[i].doc))
			return u->inline_policies[i].name;
	for (size_t i = 0; i < u->n_groups; i++) {
		const struct iam_group *g = iam_identity_group(id, u->groups[i]);

		for (size_t k = 0; g != NULL && k < g->n_policies; k++)
			if (admin_policy(id, g->policies[k]))
				return g->policies[k];
	}
	return NULL;
}

/*
 * A user with an MFA device and no recovery code left is one lost phone
 * away from a locked-out account and a ticket.
 */
static void
check_recovery_codes(struct doctor *d, const struct iam_config *cfg,
		     const struct iam_user *u)
{
	struct iam_state st = { 0 };
	uint32_t used;
	char fix[128];

	if (u->disabled || (u->mfa.secret == NULL && u->n_mfa_devices == 0))
		return;
	(void)iam_state_read(cfg->state_dir, u->uid, 0, &st);
	used = iam_state_recovery_used(&st, iam_recovery_set_tag(
		(const char *const *)u->recovery_codes, u->n_recovery_codes));
	if (iam_recovery_left((const char *const *)u->recovery_codes,
			      u->n_recovery_codes, used) > 0)
		return;
	snprintf(fix, sizeof(fix), "iamctl mfa recovery-codes %s", u->name);
	finding(d, false, fix, "user %s has MFA but no recovery codes%s",
		u->name, u->n_recovery_codes > 0 ? " left" : "");
}

/* Keys past ssh_key_max_age_days, and more than two active keys. */
static void
check_ssh_keys(struct doctor *d, const struct iam_identity *id,
	       const struct iam_user *u, int64_t now)
{
	uint32_t max = id->password_policy.ssh_key_max_age_days;
	size_t active = 0;
	char fix[256];

	for (size_t k = 0; k < u->n_ssh_keys; k++) {
		const struct iam_ssh_key *key = &u->ssh_keys[k];
		int64_t exp = iam_ssh_key_expiry(key, max);

		if (!key->active)
			continue;
		active++;
		if (exp == 0 || now < exp)
			continue;
		snprintf(fix, sizeof(fix), "rotate it: iamctl ssh-key add %s "
			 "NEW.pub, then iamctl ssh-key del %s %s", u->name,
			 u->name, key->id);
		finding(d, false, fix, "user %s: ssh key %s is older than "
			"ssh_key_max_age_days (%u) and no longer logs in",
			u->name, key->id, max);
	}
	if (active > 2) {
		snprintf(fix, sizeof(fix), "deactivate the keys no longer in "
			 "use (iamctl ssh-key list %s, iamctl ssh-key "
			 "deactivate %s ID)", u->name, u->name);
		finding(d, false, fix, "user %s has %zu active ssh keys "
			"(more than two)", u->name, active);
	}
}

static void
check_identity(struct doctor *d, const struct iam_config *cfg)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	int r;

	r = iam_identity_load(cfg->identity_file, true, cfg, NULL, &id,
			      &faults);
	if (r == -ENOENT) {
		/* check_files() reported it, with iamctl init as the fix. */
		iam_faults_release(&faults);
		return;
	}
	if (r == 0)
		r = iam_creds_apply(cfg, id, &faults);
	if (r < 0 || iam_faults_any(&faults)) {
		for (size_t i = 0; i < faults.n; i++) {
			/* A clash with the host's own accounts or ids. */
			bool host = strstr(faults.v[i], "local account") ||
				    strstr(faults.v[i], "local group") ||
				    strstr(faults.v[i], "subordinate id");

			finding(d, true, host ? "give the IAM entry another id "
				"or name, or move the local one (iamctl edit)" :
				"iamctl edit (iamctl validate lists every "
				"fault)", "%s: %s", cfg->identity_file,
				faults.v[i]);
		}
		if (faults.n == 0)
			finding(d, true, "iamctl validate", "%s: %s",
				cfg->identity_file, strerror(-r));
		iam_faults_release(&faults);
		iam_identity_free(id);
		return;
	}
	iam_faults_release(&faults);
	for (size_t i = 0; i < id->n_users; i++) {
		const struct iam_user *u = &id->users[i];
		const char *admin;
		char fix[128];

		if (!u->disabled)
			check_ssh_keys(d, id, u, (int64_t)time(NULL));
		check_recovery_codes(d, cfg, u);
		if (u->disabled || u->mfa.secret != NULL ||
		    u->n_mfa_devices > 0)
			continue;
		snprintf(fix, sizeof(fix), "iamctl mfa enable %s", u->name);
		admin = admin_of(id, u);
		if (admin != NULL)
			finding(d, true, fix, "user %s has the administrator "
				"policy %s (\"Action\": \"*\") but no MFA "
				"device", u->name, admin);
		else
			finding(d, false, fix, "user %s has no MFA device",
				u->name);
	}
	iam_identity_free(id);
}

/* ---- The clock --------------------------------------------------------- */

static void
check_clock(struct doctor *d)
{
	struct timex tx = { .modes = 0 };
	int st = adjtimex(&tx);

	if (st < 0)
		return;
	if (st == TIME_ERROR || (tx.status & STA_UNSYNC) != 0)
		finding(d, false, "enable time synchronisation "
			"(systemd-timesyncd or chrony); TOTP codes depend on "
			"the clock", "the clock is not synchronised");
}

int
cmd_doctor(struct iamctl *ctl, int argc, char **argv)
{
	struct doctor d = { 0, 0, NULL };
	struct iam_config *cfg;
	struct jout j;
	bool json;
	int rc;

	rc = root_command(argc, argv, usage, "doctor", &json);
	if (rc >= 0)
		return rc;
	if (json) {
		d.j = &j;
		jout_begin(&j);
		jout_map(&j);
		jout_key(&j, "findings");
		jout_array(&j);
	}
	cfg = doctor_config(ctl, &d);
	if (cfg == NULL)
		return EXIT_REFUSED;
	check_nsswitch(&d);
	check_pam(&d, false);
	check_pam(&d, true);
	check_sshd(&d, cfg);
	if (nscd_running())
		finding(&d, false, "stop nscd, or disable its passwd and group "
			"caches (enable-cache passwd no), since it serves "
			"stale answers after a publish", "nscd is running");
	check_sudo(&d);
	check_sudoers(&d, cfg);
	check_files(&d, cfg);
	check_publication(&d, cfg);
	check_leftovers(&d, cfg);
	check_identity(&d, cfg);
	check_clock(&d);
	if (json) {
		jout_array_end(&j);
		jout_kint(&j, "errors", d.errors);
		jout_kint(&j, "warnings", d.warnings);
		jout_map_end(&j);
		rc = jout_end(&j);
		if (rc != EXIT_OK)
			return rc;
		return d.errors > 0 ? EXIT_REFUSED : EXIT_OK;
	}
	printf("%u error%s, %u warning%s\n", d.errors, d.errors == 1 ? "" : "s",
	       d.warnings, d.warnings == 1 ? "" : "s");
	if (fflush(stdout) != 0)
		return EXIT_USAGE;
	return d.errors > 0 ? EXIT_REFUSED : EXIT_OK;
}
