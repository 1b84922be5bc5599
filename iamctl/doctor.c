/*
 * doctor.c - iamctl doctor: check this host's wiring and print each
 * finding with its fix.  Exit 1 when any finding is an error.
 *
 * Every file is read directly (never through NSS or PAM), and nothing is
 * changed: the doctor only looks.
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
#include <time.h>
#include <unistd.h>

#include "cmd.h"

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
};

static void finding(struct doctor *d, bool error, const char *fix,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
finding(struct doctor *d, bool error, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (error)
		d->errors++;
	else
		d->warnings++;
	printf("%s: ", error ? "error" : "warning");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n  fix: %s\n", fix);
}

static void
usage(FILE *f)
{
	fputs("usage: iamctl doctor\n"
	      "  Check this host's wiring (NSS, PAM, sudo, nscd, file owners\n"
	      "  and modes, snapshots, id overlaps, MFA, the clock) and print\n"
	      "  each finding with its fix; exit 1 when any is an error.\n", f);
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

static void
check_pam(struct doctor *d)
{
	static const struct {
		const char *service;
		const char *types[3];
	} svc[] = {
		{ "sshd", { "auth", "account", NULL } },
		{ "login", { "auth", "account", NULL } },
		{ "su", { "auth", "account", NULL } },
		{ "sudo", { "auth", "account", NULL } },
		{ "passwd", { "password", NULL, NULL } },
	};

	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
		for (int t = 0; t < 3 && svc[i].types[t] != NULL; t++) {
			struct pam_scan s = { false, false, false, "" };
			const char *type = svc[i].types[t];
			int r = scan_pam(svc[i].service, type, &s, 0);

			if (r == -ENOENT) {
				finding(d, false, "install the service or "
					"ignore this if it is not used",
					PAM_DIR "/%s: missing", svc[i].service);
				break;
			}
			char fix[256], use[256];

			snprintf(fix, sizeof(fix), "add '%s %s pam_iam.so' "
				 "before pam_unix.so", type, recommended(type));
			snprintf(use, sizeof(use), "use '%s pam_iam.so' before "
				 "pam_unix.so, so local users never depend on "
				 "IAM", recommended(type));
			if (!s.iam)
				finding(d, true, fix, PAM_DIR "/%s: %s does not use pam_iam",
					svc[i].service, type);
			else if (!s.recommended || s.unix_first)
				finding(d, false, use,
					PAM_DIR "/%s: %s uses pam_iam outside "
					"the recommended stack",
					svc[i].service, type);
		}
	}
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

static void
check_pam_local_users(struct doctor *d)
{
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

	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
		for (int t = 0; t < 3 && svc[i].types[t] != NULL; t++) {
			struct pam_scan s = { false, false, false, "" };
			const char *type = svc[i].types[t];
			const char *why;
			char fix[320];

			if (scan_pam(svc[i].service, type, &s, 0) < 0 || !s.iam)
				continue;
			why = local_user_fault(type, &s);
			if (why == NULL)
				continue;
			if (strcmp(type, "session") == 0)
				snprintf(fix, sizeof(fix), "use 'session [success=ok "
					 "user_unknown=ignore ignore=ignore "
					 "authinfo_unavail=ignore default=bad] "
					 "pam_iam.so' (common-session-iam)");
			else
				snprintf(fix, sizeof(fix), "use '%s %s pam_iam.so' "
					 "before pam_unix.so", type,
					 recommended(type));
			finding(d, true, fix, PAM_DIR "/%s: %s: %s; local users "
				"may be refused or shown IAM prompts",
				svc[i].service, type, why);
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
	char path[PATH_MAX], trail_dir[PATH_MAX];
	struct stat id_st, gen_st;

	check_mode(d, cfg->identity_file, false, 0600, true,
		   "create it (iam-identity(5)), then run iamctl sync");
	check_mode(d, cfg->credentials_dir, true, 0700, false,
		   "run iamctl sync");
	check_mode(d, cfg->state_dir, true, 0700, true, "run iamctl sync");
	check_mode(d, cfg->snapshot_dir, true, 0755, true, "run iamctl sync");
	snprintf(path, sizeof(path), "%s/nss.db", cfg->snapshot_dir);
	check_mode(d, path, false, 0644, true, "run iamctl sync");
	snprintf(path, sizeof(path), "%s/keys.db", cfg->snapshot_dir);
	check_mode(d, path, false, 0644, true, "run iamctl sync");
	snprintf(path, sizeof(path), "%s/auth", cfg->snapshot_dir);
	check_mode(d, path, true, 0700, true, "run iamctl sync");
	snprintf(path, sizeof(path), "%s/auth/auth.db", cfg->snapshot_dir);
	check_mode(d, path, false, 0600, true, "run iamctl sync");
	check_mode(d, cfg->trail_file, false, 0600, false, "");
	snprintf(trail_dir, sizeof(trail_dir), "%s", cfg->trail_file);
	if (strrchr(trail_dir, '/') != NULL && strrchr(trail_dir, '/') != trail_dir) {
		*strrchr(trail_dir, '/') = '\0';
		check_mode(d, trail_dir, true, 0755, false, "");
	}
	/* Snapshots older than the source: a change was never published. */
	snprintf(path, sizeof(path), "%s/generation", cfg->snapshot_dir);
	if (stat(cfg->identity_file, &id_st) == 0 &&
	    stat(path, &gen_st) == 0 &&
	    (id_st.st_mtim.tv_sec > gen_st.st_mtim.tv_sec ||
	     (id_st.st_mtim.tv_sec == gen_st.st_mtim.tv_sec &&
	      id_st.st_mtim.tv_nsec > gen_st.st_mtim.tv_nsec)))
		finding(d, false, "run iamctl sync (or iamctl validate to see "
			"why it would be refused)", "%s: changed after the "
			"last published snapshot; the host still serves the "
			"old one", cfg->identity_file);
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
	if ((int)u->n_recovery_codes - __builtin_popcount(used) > 0)
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
	if (r == 0)
		r = iam_creds_apply(cfg, id, &faults);
	if (r < 0 || iam_faults_any(&faults)) {
		for (size_t i = 0; i < faults.n; i++) {
			bool host = strstr(faults.v[i], "/etc/") != NULL;

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
	struct doctor d = { 0, 0 };
	struct iam_config *cfg;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = need_root("doctor");
	if (rc != EXIT_OK)
		return rc;
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	check_nsswitch(&d);
	check_pam(&d);
	check_pam_local_users(&d);
	if (nscd_running())
		finding(&d, false, "stop nscd, or disable its passwd and group "
			"caches (enable-cache passwd no), since it serves "
			"stale answers after a publish", "nscd is running");
	check_sudo(&d);
	check_sudoers(&d, cfg);
	check_files(&d, cfg);
	check_identity(&d, cfg);
	check_clock(&d);
	printf("%u error%s, %u warning%s\n", d.errors, d.errors == 1 ? "" : "s",
	       d.warnings, d.warnings == 1 ? "" : "s");
	if (fflush(stdout) != 0)
		return EXIT_USAGE;
	return d.errors > 0 ? EXIT_REFUSED : EXIT_OK;
}
