/*
 * simulate.c - `iamctl simulate` (as a user of the identity file) and
 * `iamctl policy simulate` (bare policy documents and a request file).
 *
 * Both print the decision and the statements behind it, or with --json
 * the decision object of the audit trail.  Exit 0 Allow, 1 a deny or a
 * fault in the input, 2 a usage error, an unreadable input or a failed
 * evaluation (iamctl(8)).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

#define MAX_INPUT	(8u << 20)	/* a policy or request file */
#define MAX_POLICIES	IAM_SET_MAX_POLICIES

/* Read a whole regular file; -errno with a message printed. */
static int
read_file(const char *path, struct iam_buf *out)
{
	char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		iamctl_err("'%s': %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		iamctl_err("'%s': not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			iamctl_err("'%s': %s", path, strerror(errno));
			break;
		}
		if (out->len + (size_t)n > MAX_INPUT) {
			iamctl_err("'%s': larger than %u bytes", path, MAX_INPUT);
			r = -EFBIG;
			break;
		}
		if (iam_buf_add(out, chunk, (size_t)n) < 0) {
			iamctl_err("out of memory");
			r = -ENOMEM;
			break;
		}
	}
	close(fd);
	return r;
}

static void
show_faults(const struct iam_faults *f)
{
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, "%s\n", f->v[i]);
	if (f->dropped)
		fprintf(stderr, "(%zu more faults)\n", f->dropped);
}

/* The policy's name: the file name without folders and ".json". */
static void
policy_name(const char *path, char *buf, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	snprintf(buf, len, "%s", base);
	n = strlen(buf);
	if (n > 5 && strcmp(buf + n - 5, ".json") == 0)
		buf[n - 5] = '\0';
}

/* Load and compile one policy file; EXIT_* on failure, else 0. */
static int
load_policy(const char *path, struct iam_policy **ret)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_faults f = IAM_FAULTS_INIT;
	char name[256];
	int r;

	if (read_file(path, &b) < 0) {
		iam_buf_release(&b);
		return EXIT_USAGE;
	}
	policy_name(path, name, sizeof(name));
	r = iam_policy_compile_text(b.buf ? b.buf : "", b.len, name, false,
				    path, ret, &f);
	iam_buf_release(&b);
	if (r == -ENOMEM)
		iamctl_err("out of memory");
	show_faults(&f);
	iam_faults_release(&f);
	return r == 0 ? 0 : r == -EINVAL ? EXIT_REFUSED : EXIT_USAGE;
}

/* One context key: a string ("" too) or a list of strings ([] too). */
static int
add_context_key(struct iam_request *req, const char *file,
		const struct iam_json_member *m)
{
	const struct iam_json *v = &m->value;
	const char **vals = NULL;
	size_t n = 1;
	int r;

	if (v->type == IAM_JSON_ARRAY) {
		n = v->len;
		for (size_t i = 0; i < n; i++)
			if (v->u.items[i].type != IAM_JSON_STRING)
				v = NULL;
	} else if (v->type != IAM_JSON_STRING) {
		v = NULL;
	}
	if (v == NULL) {
		iamctl_err("'%s': context.%s: must be a string or an array of "
			   "strings", file, m->key);
		return -EINVAL;
	}
	if (v->type == IAM_JSON_ARRAY && n > 0) {
		vals = calloc(n, sizeof(*vals));
		if (vals == NULL) {
			iamctl_err("out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			vals[i] = v->u.items[i].u.string;
	}
	r = iam_request_add_values(req, m->key, v->type == IAM_JSON_ARRAY ?
				   vals : (const char *const *)&v->u.string, n);
	free(vals);
	if (r < 0)
		iamctl_err("'%s': context.%s: %s", file, m->key,
			   r == -EINVAL ? "empty key" : r == -E2BIG ?
			   "too many keys or values, or one too long" :
			   strerror(-r));
	return r;
}

static int
request_context(struct iam_request *req, const char *file,
		const struct iam_json *ctx)
{
	int r = 0;

	if (ctx->type != IAM_JSON_OBJECT) {
		iamctl_err("'%s': context: must be an object", file);
		return -EINVAL;
	}
	for (size_t i = 0; i < ctx->len && r == 0; i++)
		r = add_context_key(req, file, &ctx->u.members[i]);
	return r;
}

/* {"action": "...", "resource": "...", "context": {...}}; EXIT_* or 0. */
static int
load_request(const char *path, struct iam_request **ret)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *a, *res, *ctx;
	struct iam_request *req = NULL;
	char err[512];
	int rc = EXIT_REFUSED;

	if (read_file(path, &b) < 0) {
		iam_buf_release(&b);
		return EXIT_USAGE;
	}
	if (iam_json_parse(b.buf ? b.buf : "", b.len, NULL, &doc, err,
			   sizeof(err)) < 0) {
		iamctl_err("'%s': %s", path, err);
		goto out;
	}
	root = iam_json_root(doc);
	for (size_t i = 0; root->type == IAM_JSON_OBJECT && i < root->len; i++) {
		const char *k = root->u.members[i].key;

		if (strcmp(k, "action") && strcmp(k, "resource") &&
		    strcmp(k, "context")) {
			iamctl_err("'%s': %s: unknown element", path, k);
			goto out;
		}
	}
	a = iam_json_get(root, "action");
	res = iam_json_get(root, "resource");
	ctx = iam_json_get(root, "context");
	if (a == NULL || a->type != IAM_JSON_STRING || res == NULL ||
	    res->type != IAM_JSON_STRING) {
		iamctl_err("'%s': needs \"action\" and \"resource\" strings", path);
		goto out;
	}
	if (iam_request_new(a->u.string, res->u.string, &req) < 0) {
		iamctl_err("'%s': action must be \"service:Action\" and the "
			   "resource a non-empty ARN", path);
		goto out;
	}
	if (ctx != NULL && request_context(req, path, ctx) < 0)
		goto out;
	*ret = req;
	req = NULL;
	rc = 0;
out:
	iam_request_free(req);
	iam_json_free(doc);
	iam_buf_release(&b);
	return rc;
}

/* Print a decision; the exit status it gives. */
static int
print_result(const struct iam_result *res, const struct iam_request *req,
	     bool json)
{
	struct iam_buf out = IAM_BUF_INIT;
	int r, rc = EXIT_USAGE;

	r = json ? iam_result_write_json(res, &out) :
		   iam_result_write_text(res, req, &out);
	if (r == 0 && json)
		r = iam_buf_adds(&out, "\n");
	if (r < 0) {
		iamctl_err("out of memory");
		goto out;
	}
	fputs(out.buf, stdout);
	if (fflush(stdout) != 0) {
		iamctl_err("writing the decision: %s", strerror(errno));
		goto out;
	}
	rc = res->decision == IAM_ALLOW ? EXIT_OK : EXIT_REFUSED;
out:
	iam_buf_release(&out);
	return rc;
}

static void
evaluation_failed(int r)
{
	iamctl_err("evaluation failed: %s", r == -E2BIG ?
		   "a policy variable expands beyond the limit" :
		   strerror(-r));
}

/* Evaluate and print; the exit status of the decision. */
static int
print_decision(const struct iam_policy_set *set,
	       const struct iam_request *req, bool json)
{
	struct iam_result *res = malloc(sizeof(*res));
	int r, rc = EXIT_USAGE;

	if (res == NULL) {
		iamctl_err("out of memory");
		return EXIT_USAGE;
	}
	r = iam_policy_evaluate(set, req, res);
	if (r < 0)
		evaluation_failed(r);
	else
		rc = print_result(res, req, json);
	free(res);
	return rc;
}

static void
policy_simulate_usage(FILE *f)
{
	fputs("usage: iamctl policy simulate [--policy FILE]... "
	      "[--boundary FILE] --request FILE\n"
	      "                             [--json]\n", f);
}

int
cmd_policy_simulate(struct iamctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "boundary", required_argument, NULL, 'b' },
		{ "request", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *files[MAX_POLICIES], *bfile = NULL, *rfile = NULL;
	struct iam_policy *pols[MAX_POLICIES] = { 0 }, *bnd = NULL;
	struct iam_policy_set *set = NULL;
	struct iam_request *req = NULL;
	size_t n = 0, loaded = 0;
	bool json = false;
	int c, rc;

	(void)ctl;
	if (iamctl_wants_help(argc, argv)) {
		policy_simulate_usage(stdout);
		return EXIT_OK;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n == MAX_POLICIES) {
				iamctl_err("policy simulate: more than %d policies",
					   MAX_POLICIES);
				return EXIT_USAGE;
			}
			files[n++] = optarg;
			break;
		case 'b':
			bfile = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			policy_simulate_usage(stdout);
			return EXIT_OK;
		default:
			iamctl_err("policy simulate: unknown or incomplete option "
				   "'%s'", argv[optind - 1]);
			policy_simulate_usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* No policy at all is a request like any other: an implicit deny. */
	if (optind != argc || rfile == NULL) {
		policy_simulate_usage(stderr);
		return EXIT_USAGE;
	}
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		int r = load_policy(files[i], &pols[loaded]);

		if (r == 0)
			loaded++;
		else if (rc != EXIT_USAGE)
			rc = r;	/* keep going: name every bad file */
	}
	if (bfile != NULL) {
		int r = load_policy(bfile, &bnd);

		if (r != 0 && rc != EXIT_USAGE)
			rc = r;
	}
	if (rc == 0)
		rc = load_request(rfile, &req);
	if (rc != 0)
		goto out;
	if (iam_policy_set_new((const struct iam_policy *const *)pols, loaded,
			       bnd, &set) < 0) {
		iamctl_err("out of memory");
		rc = EXIT_USAGE;
		goto out;
	}
	rc = print_decision(set, req, json);
out:
	iam_policy_set_free(set);
	iam_request_free(req);
	for (size_t i = 0; i < loaded; i++)
		iam_policy_free(pols[i]);
	iam_policy_free(bnd);
	return rc;
}

/* ---- iamctl simulate USER ACTION RESOURCE ----------------------------------- */

/*
 * The user's record and the role are read from snapshots built in
 * memory from the identity file by the builders `iamctl publish` uses,
 * with the readers pam_iam and sudo_iam use, and decided by
 * iam_decide(): the same policies (own, inline, primary and other
 * groups, boundary), the same context, the same role-session rules.
 */

struct ctx_arg {
	char *key;
	const char *value;
};

struct sim {
	struct ctx_arg ctx[IAM_REQUEST_MAX_KEYS];
	size_t n_ctx;
	const char *pos[3];
	size_t n_pos;
	bool json;
	const char *role;
	const char *service, *tty, *source_ip;
	long long mfa_age;	/* -1: no MFA in this session */
};

/* Each --context key replaces what the host computed (all its values). */
static int
override_keys(struct iam_request *req, void *arg)
{
	const struct sim *sm = arg;
	const char *vals[IAM_REQUEST_MAX_KEYS];
	int r = 0;

	for (size_t i = 0; r == 0 && i < sm->n_ctx; i++) {
		size_t n = 0;
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcasecmp(sm->ctx[j].key, sm->ctx[i].key) == 0;
		if (seen)
			continue;
		for (size_t j = i; j < sm->n_ctx; j++)
			if (strcasecmp(sm->ctx[j].key, sm->ctx[i].key) == 0)
				vals[n++] = sm->ctx[j].value;
		r = iam_request_set_values(req, sm->ctx[i].key, vals, n);
	}
	return r;
}

static void
simulate_usage(FILE *f)
{
	fputs("usage: iamctl simulate USER ACTION RESOURCE [--role ROLE] "
	      "[--mfa-age SECONDS]\n"
	      "                         [--source-ip IP] [--service NAME] "
	      "[--tty TTY]\n"
	      "                         [--context KEY=VALUE]... [--json]\n",
	      f);
}

static int
simulate_option(struct sim *sm, int c, char *arg)
{
	long long v;
	char *eq;

	switch (c) {
	case 'c':
		eq = strchr(arg, '=');
		if (eq == NULL || eq == arg || eq[1] == '\0' ||
		    sm->n_ctx == IAM_REQUEST_MAX_KEYS) {
			iamctl_err("simulate: --context needs KEY=VALUE, both "
				   "non-empty");
			return EXIT_USAGE;
		}
		*eq = '\0';
		sm->ctx[sm->n_ctx].key = arg;
		sm->ctx[sm->n_ctx++].value = eq + 1;
		return 0;
	case 'j':
		sm->json = true;
		return 0;
	case 'r':
		sm->role = arg;
		return 0;
	case 'm':
		if (iam_parse_ll(arg, 0, INT32_MAX, &v) < 0) {
			iamctl_err("simulate: --mfa-age needs seconds (0 or "
				   "more), not '%s'", arg);
			return EXIT_USAGE;
		}
		sm->mfa_age = v;
		return 0;
	case 'i':
		if (!iam_is_ip_address(arg)) {
			iamctl_err("simulate: --source-ip '%s' is not an IPv4 "
				   "or IPv6 address", arg);
			return EXIT_USAGE;
		}
		sm->source_ip = arg;
		return 0;
	case 's':
		sm->service = arg;
		return 0;
	case 't':
		sm->tty = arg;
		return 0;
	}
	return EXIT_USAGE;
}

/* Parse the options and positionals; EXIT_* on error, -1 after --help. */
static int
simulate_args(int argc, char **argv, struct sim *sm)
{
	static const struct option opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "role", required_argument, NULL, 'r' },
		{ "mfa-age", required_argument, NULL, 'm' },
		{ "source-ip", required_argument, NULL, 'i' },
		{ "service", required_argument, NULL, 's' },
		{ "tty", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1 ||
	       optind < argc) {
		if (c == -1) {
			/* A positional, perhaps before more options. */
			if (sm->n_pos == 3) {
				simulate_usage(stderr);
				return EXIT_USAGE;
			}
			sm->pos[sm->n_pos++] = argv[optind++];
			continue;
		}
		if (c == 'h') {
			simulate_usage(stdout);
			return -1;
		}
		if (c == '?' || c == ':') {
			iamctl_err("simulate: unknown or incomplete option '%s'",
				   argv[optind - 1]);
			simulate_usage(stderr);
			return EXIT_USAGE;
		}
		rc = simulate_option(sm, c, optarg);
		if (rc != 0)
			return rc;
	}
	if (sm->n_pos != 3) {
		simulate_usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* The user's record as the private snapshot would hold it. */
static int
snapshot_user(const struct iam_identity *id, const char *name,
	      struct iam_auth_user **ret)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_authdb *db = NULL;
	int r;

	r = iam_authdb_build(id, 0, &b);
	if (r == 0)
		r = iam_authdb_open_buffer(b.buf, b.len, &db);
	iam_buf_wipe(&b);
	if (r == 0)
		r = iam_authdb_lookup(db, name, ret);
	iam_authdb_close(db);
	return r;
}

/* The role as the role snapshot would hold it. */
static int
snapshot_role(const struct iam_identity *id, const char *name,
	      struct iam_role_rec **ret)
{
	struct iam_buf b = IAM_BUF_INIT;
	int r;

	r = iam_rolesdb_build(id, 0, &b);
	if (r == 0)
		r = iam_rolesdb_find(b.buf, b.len, name, ret);
	iam_buf_release(&b);
	return r;
}

/* Decide and print for one loaded identity; EXIT_*. */
static int
simulate_user(struct iam_config *cfg, const struct iam_identity *id,
	      struct sim *sm)
{
	struct iam_session_facts facts = {
		.service = sm->service, .tty = sm->tty,
		.source_ip = sm->source_ip, .now = (int64_t)time(NULL),
	};
	struct iam_ask ask = { .action = sm->pos[1], .resource = sm->pos[2],
			       .add_keys = override_keys, .arg = sm };
	struct iam_auth_user *u = NULL;
	struct iam_principal *pr = NULL;
	struct iam_role_rec *role = NULL;
	struct iam_request *req = NULL, *probe = NULL;
	struct iam_result *res = NULL;
	struct iam_as_role as = { 0 };
	int r, rc = EXIT_USAGE;

	if (iam_identity_user(id, sm->pos[0]) == NULL) {
		/* A refusal, as for every command naming an unknown user. */
		iamctl_err("no IAM user '%s'", sm->pos[0]);
		return EXIT_REFUSED;
	}
	if (iam_request_new(sm->pos[1], sm->pos[2], &probe) < 0) {
		iamctl_err("simulate: ACTION must be \"service:Action\" and "
			   "RESOURCE a non-empty ARN");
		return EXIT_USAGE;
	}
	iam_request_free(probe);
	/* sudo_iam always asks as the PAM service "sudo". */
	if (facts.service == NULL && strcasecmp(sm->pos[1], "sudo:Run") == 0)
		facts.service = "sudo";
	if (sm->mfa_age >= 0)
		facts.mfa_time = facts.now - sm->mfa_age;
	r = snapshot_user(id, sm->pos[0], &u);
	if (r == 0)
		r = iam_principal_new(u, &pr);
	if (r == 0 && sm->role != NULL) {
		r = snapshot_role(id, sm->role, &role);
		if (r == -ENOENT || r == -EINVAL) {
			iamctl_err("no role '%s'", sm->role);
			rc = EXIT_REFUSED;
			goto out;
		}
		/* Assumed now, unless --mfa-age says when the code was given. */
		as.role = role;
		as.started = sm->mfa_age >= 0 ? facts.mfa_time : facts.now;
	}
	if (r == 0 && (res = malloc(sizeof(*res))) == NULL)
		r = -ENOMEM;
	if (r < 0) {
		iamctl_err("simulate: %s", strerror(-r));
		goto out;
	}
	r = iam_decide(cfg, u, pr, role != NULL ? &as : NULL, &facts, &ask,
		       res, &req);
	if (r < 0) {
		evaluation_failed(r);
		goto out;
	}
	rc = print_result(res, req, sm->json);
	if (u->disabled) {
		iamctl_err("note: '%s' is disabled; the host refuses it "
			   "whatever the policies say", u->name);
		rc = rc == EXIT_OK ? EXIT_REFUSED : rc;
	}
out:
	free(res);
	iam_request_free(req);
	iam_role_rec_free(role);
	iam_principal_free(pr);
	iam_auth_user_free(u);
	return rc;
}

int
cmd_simulate(struct iamctl *ctl, int argc, char **argv)
{
	struct sim *sm = calloc(1, sizeof(*sm));
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_config *cfg;
	int rc, r;

	if (iamctl_wants_help(argc, argv)) {
		simulate_usage(stdout);
		free(sm);
		return EXIT_OK;
	}
	if (sm == NULL) {
		iamctl_err("out of memory");
		return EXIT_USAGE;
	}
	sm->mfa_age = -1;
	rc = simulate_args(argc, argv, sm);
	if (rc != 0) {
		free(sm);
		return rc < 0 ? EXIT_OK : rc;
	}
	if (iamctl_bad_name("simulate", sm->pos[0])) {
		free(sm);
		return EXIT_USAGE;
	}
	cfg = iamctl_config(ctl);
	if (cfg == NULL) {
		free(sm);
		return EXIT_USAGE;
	}
	r = iam_identity_load(cfg->identity_file, true, cfg, NULL, &id, &f);
	if (r < 0) {
		show_faults(&f);
		iam_faults_release(&f);
		free(sm);
		return r == -EINVAL ? EXIT_REFUSED : EXIT_USAGE;
	}
	iam_faults_release(&f);
	rc = simulate_user(cfg, id, sm);
	iam_identity_free(id);
	free(sm);
	return rc;
}
