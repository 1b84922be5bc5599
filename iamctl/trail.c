/*
 * trail.c - iamctl trail [--user U] [--actor A] [--event NAME]
 * [--since TIME] [--json]
 *
 * Reads the audit trail (trail_file) and prints the events that match
 * every filter given: as a table, or with --json as the JSON lines
 * themselves.  TIME is ISO 8601 or an age: 15m, 2h, 7d.  The trail holds
 * user-chosen strings, so the table never prints a control character.
 *
 * An event names who acted in userIdentity (the IAM user at a login, a
 * sudo or a role; the administrator for iamctl) and, for iamctl, whom it
 * acted on in requestParameters.userName.  --user is the subject: that
 * parameter, else the acting IAM user himself; --actor is who acted.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "iamctl.h"

#define TRAIL_LINE_MAX	(256u << 10)	/* as iam_trail_format() caps it */

struct filter {
	const char *user;	/* the subject (subject()), or NULL */
	const char *actor;	/* userIdentity.userName, or NULL */
	const char *event;	/* eventName (any case), or NULL */
	int64_t since;		/* eventTime at or after; 0 none */
	bool json;
};

/* ISO 8601, or N followed by s, m, h, d or w: that long ago. */
static int
parse_since(const char *s, int64_t now, int64_t *ret)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	size_t n = strlen(s);
	char num[24];
	long long v;

	if (n >= 2 && n < sizeof(num)) {
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[n - 1] != units[i].unit)
				continue;
			memcpy(num, s, n - 1);
			num[n - 1] = '\0';
			if (iam_parse_ll(num, 0, 100LL * 365 * 86400 /
					 units[i].secs, &v) < 0)
				return -EINVAL;
			*ret = now - v * units[i].secs;
			return 0;
		}
	}
	return iam_parse_time(s, ret);
}

static const char *
member(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v;

	if (obj == NULL || obj->type != IAM_JSON_OBJECT)
		return NULL;
	v = iam_json_get(obj, key);
	return v != NULL && v->type == IAM_JSON_STRING ? v->u.string : NULL;
}

/*
 * Whom the event is about: requestParameters.userName (iamctl names the
 * user it changed there), else the IAM user who acted for himself (a
 * login, a sudo, a role).  An administrator's change of no user (a
 * policy, iamctl edit) has no subject.
 */
static const char *
subject(const struct iam_json *root, const struct iam_json *who)
{
	const char *name = member(iam_json_get(root, "requestParameters"),
				  "userName");
	const char *type = member(who, "type");

	if (name != NULL)
		return name;
	if (type != NULL && strcmp(type, "IAMUser") == 0)
		return member(who, "userName");
	return NULL;
}

static bool
differs(const char *want, const char *have)
{
	return want != NULL && (have == NULL || strcmp(want, have) != 0);
}

/* A column of the table: no control character reaches the terminal. */
static void
cell(const char *s, int width)
{
	int n = 0;

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0'; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	if (width > 0)
		for (; n < width; n++)
			putchar(' ');
}

/* 1 printed, 0 filtered out, -EBADMSG not an event. */
static int
show_event(const struct filter *f, const char *line, size_t len)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *who;
	const char *when, *name, *user, *err, *by;
	int64_t t;
	int r = 0;

	if (iam_json_parse(line, len, NULL, &doc, NULL, 0) < 0)
		return -EBADMSG;
	root = iam_json_root(doc);
	who = root->type == IAM_JSON_OBJECT ?
		iam_json_get(root, "userIdentity") : NULL;
	when = member(root, "eventTime");
	name = member(root, "eventName");
	by = member(who, "userName");
	err = member(root, "errorCode");
	if (when == NULL || name == NULL || iam_parse_time(when, &t) < 0) {
		r = -EBADMSG;
		goto out;
	}
	user = subject(root, who);
	if (differs(f->user, user) || differs(f->actor, by) ||
	    (f->event && strcasecmp(f->event, name) != 0) ||
	    (f->since && t < f->since))
		goto out;
	r = 1;
	if (f->json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
		goto out;
	}
	cell(when, 22);
	cell(name, 16);
	cell(user, 18);
	cell(by, 18);
	cell(member(root, "sourceIPAddress"), 17);
	cell(member(root, "eventSource"), 10);
	cell(err ? err : "OK", 0);
	putchar('\n');
out:
	iam_json_free(doc);
	return r;
}

static int
read_trail(const struct filter *f, const char *path)
{
	char err[512] = "";
	char *line = NULL;
	size_t cap = 0, bad = 0;
	ssize_t n;
	FILE *in;
	int fd;

	fd = iam_open_strict(path, IAM_STRICT_SECRET, err, sizeof(err));
	if (fd < 0) {
		iamctl_err("%s", err[0] ? err : strerror(-fd));
		return EXIT_USAGE;
	}
	in = fdopen(fd, "r");
	if (in == NULL) {
		close(fd);
		iamctl_err("%s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (!f->json) {
		cell("TIME", 22), cell("EVENT", 16), cell("USER", 18);
		cell("ACTOR", 18), cell("SOURCE", 17), cell("VIA", 10);
		cell("RESULT", 0);
		putchar('\n');
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((size_t)n > TRAIL_LINE_MAX ||
		    show_event(f, line, (size_t)n) < 0)
			bad++;
	}
	free(line);
	fclose(in);
	if (bad > 0) {
		iamctl_err("%s: %zu line%s not an event (skipped)", path, bad,
			   bad == 1 ? "" : "s");
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static void
trail_usage(FILE *out)
{
	fputs("usage: iamctl trail [--user USER] [--actor NAME] "
	      "[--event NAME] [--since TIME] [--json]\n"
	      "  --user: events about USER (a change of USER, USER's own\n"
	      "  logins, sudo and roles); --actor: events by NAME (an\n"
	      "  administrator, or an IAM user acting).\n"
	      "  TIME: ISO 8601 (2026-09-01T09:00:00Z) or an age "
	      "(30s, 15m, 2h, 7d, 1w)\n", out);
}

int
cmd_trail(struct iamctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "actor", required_argument, NULL, 'a' },
		{ "event", required_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f = { 0 };
	struct iam_config *cfg;
	int c;

	if (iamctl_wants_help(argc, argv)) {
		trail_usage(stdout);
		return EXIT_OK;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			f.user = optarg;
			break;
		case 'a':
			f.actor = optarg;
			break;
		case 'e':
			f.event = optarg;
			break;
		case 's':
			if (parse_since(optarg, (int64_t)time(NULL),
					&f.since) < 0) {
				iamctl_err("trail: --since \"%s\": not ISO 8601 "
					   "nor an age such as 15m, 2h, 7d",
					   optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			f.json = true;
			break;
		case 'h':
			trail_usage(stdout);
			return EXIT_OK;
		default:
			trail_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		trail_usage(stderr);
		return EXIT_USAGE;
	}
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	return read_trail(&f, cfg->trail_file);
}
