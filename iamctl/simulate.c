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

static int
add_value(struct iam_request *req, const char *file, const char *key,
	  const struct iam_json *v)
{
	int r;

	if (v->type != IAM_JSON_STRING) {
		iamctl_err("'%s': context.%s: must be a string or an array of "
			   "strings", file, key);
		return -EINVAL;
	}
	r = iam_request_add(req, key, v->u.string);
	if (r < 0)
		iamctl_err("'%s': context.%s: %s", file, key,
			   r == -EINVAL ? "empty key or value" : strerror(-r));
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
	for (size_t i = 0; i < ctx->len && r == 0; i++) {
		const struct iam_json_member *m = &ctx->u.members[i];

		if (m->value.type != IAM_JSON_ARRAY) {
			r = add_value(req, file, m->key, &m->value);
			continue;
		}
		if (m->value.len == 0) {
			iamctl_err("'%s': context.%s: an empty list (leave the "
				   "key out instead)", file, m->key);
			return -EINVAL;
		}
		for (size_t j = 0; j < m->value.len && r == 0; j++)
			r = add_value(req, file, m->key, &m->value.u.items[j]);
	}
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

/* Evaluate and print; the exit status of the decision. */
static int
decide(const struct iam_policy_set *set, const struct iam_request *req,
       bool json)
{
	struct iam_result *res = malloc(sizeof(*res));
	struct iam_buf out = IAM_BUF_INIT;
	int r, rc = EXIT_USAGE;

	if (res == NULL) {
		iamctl_err("out of memory");
		return EXIT_USAGE;
	}
	r = iam_policy_evaluate(set, req, res);
	if (r < 0) {
		iamctl_err("evaluation failed: %s", r == -E2BIG ?
			   "a policy variable expands beyond the limit" :
			   strerror(-r));
		goto out;
	}
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
	free(res);
	return rc;
}

static void
policy_simulate_usage(FILE *f)
{
	fputs("usage: iamctl policy simulate --policy FILE [--policy FILE]... "
	      "[--boundary FILE]\n                             --request FILE "
	      "[--json]\n", f);
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
	if (optind != argc || n == 0 || rfile == NULL) {
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
	rc = decide(set, req, json);
out:
	iam_policy_set_free(set);
	iam_request_free(req);
	for (size_t i = 0; i < loaded; i++)
		iam_policy_free(pols[i]);
	iam_policy_free(bnd);
	return rc;
}

/* ---- iamctl simulate USER ACTION RESOURCE ----------------------------------- */

struct ctx_arg {
	char *key;
	const char *value;
};

static bool
overridden(const struct ctx_arg *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i].key, key) == 0)
			return true;
	return false;
}

static int
put(struct iam_request *req, const struct ctx_arg *v, size_t n,
    const char *key, const char *value)
{
	if (value == NULL || *value == '\0' || overridden(v, n, key))
		return 0;
	return iam_request_add(req, key, value);
}

static int
put_tag(struct iam_request *req, const struct ctx_arg *v, size_t n,
	const char *prefix, const char *key, const char *value)
{
	char k[IAM_REQUEST_MAX_KEY + 1];

	if (iam_snprintf(k, sizeof(k), "%s%s", prefix, key) < 0)
		return -E2BIG;
	return put(req, v, n, k, value);
}

/* The context pam_iam and sudo_iam supply, from the identity and host. */
static int
user_context(struct iam_request *req, const struct iam_identity *id,
	     const struct iam_user *u, struct iam_config *cfg,
	     const struct ctx_arg *v, size_t n)
{
	char arn[512], uid[16], epoch[24], now[32], host[256];
	time_t t = time(NULL);
	int r = 0;

	snprintf(uid, sizeof(uid), "%u", u->uid);
	snprintf(epoch, sizeof(epoch), "%lld", (long long)t);
	iam_format_time(t, now, sizeof(now));
	if (iam_snprintf(arn, sizeof(arn), "arn:iam:iam::%s:user/%s",
			 id->account.id, u->name) < 0)
		return -E2BIG;
	r = put(req, v, n, "aws:username", u->name);
	r = r ? r : put(req, v, n, "aws:userid", uid);
	r = r ? r : put(req, v, n, "aws:PrincipalArn", arn);
	r = r ? r : put(req, v, n, "aws:PrincipalType", "User");
	r = r ? r : put(req, v, n, "aws:PrincipalAccount", id->account.id);
	r = r ? r : put(req, v, n, "aws:MultiFactorAuthPresent", "false");
	r = r ? r : put(req, v, n, "aws:CurrentTime", now);
	r = r ? r : put(req, v, n, "aws:EpochTime", epoch);
	for (size_t i = 0; r == 0 && i < u->tags.n; i++)
		r = put_tag(req, v, n, "aws:PrincipalTag/", u->tags.v[i].key,
			    u->tags.v[i].value);
	for (size_t i = 0; r == 0 && i < cfg->n_host_tags; i++)
		r = put_tag(req, v, n, "aws:ResourceTag/",
			    cfg->host_tags[i].key, cfg->host_tags[i].value);
	if (r == 0 && iam_config_hostname(cfg, host, sizeof(host)) == 0)
		r = put(req, v, n, "iam:Hostname", host);
	if (r == 0 && !overridden(v, n, "iam:PrincipalGroups"))
		for (size_t i = 0; r == 0 && i < u->n_groups; i++)
			r = iam_request_add(req, "iam:PrincipalGroups",
					    u->groups[i]);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = iam_request_add(req, v[i].key, v[i].value);
	return r;
}

static int
add_named(const struct iam_identity *id, const char *name,
	  const struct iam_policy **pols, size_t *n)
{
	const struct iam_named_policy *np = iam_identity_policy(id, name);

	if (np == NULL || np->compiled == NULL) {
		iamctl_err("policy '%s' is missing", name);
		return -ENOENT;
	}
	if (*n == MAX_POLICIES)
		return -E2BIG;
	pols[(*n)++] = np->compiled;
	return 0;
}

/* Own, inline and group policies of u, and its boundary. */
static int
user_set(const struct iam_identity *id, const struct iam_user *u,
	 struct iam_policy_set **ret)
{
	const struct iam_policy *pols[MAX_POLICIES], *bnd = NULL;
	const struct iam_named_policy *b;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < u->n_policies; i++)
		r = add_named(id, u->policies[i], pols, &n);
	for (size_t i = 0; r == 0 && i < u->n_inline; i++) {
		if (n == MAX_POLICIES)
			return -E2BIG;
		pols[n++] = u->inline_policies[i].compiled;
	}
	for (size_t i = 0; r == 0 && i < u->n_groups; i++) {
		const struct iam_group *g = iam_identity_group(id, u->groups[i]);

		for (size_t j = 0; r == 0 && g != NULL && j < g->n_policies; j++)
			r = add_named(id, g->policies[j], pols, &n);
	}
	if (r == 0 && u->permissions_boundary != NULL) {
		b = iam_identity_policy(id, u->permissions_boundary);
		if (b == NULL || b->compiled == NULL) {
			iamctl_err("boundary '%s' is missing",
				   u->permissions_boundary);
			return -ENOENT;
		}
		bnd = b->compiled;
	}
	if (r < 0)
		return r;
	return iam_policy_set_new(pols, n, bnd, ret);
}

static void
simulate_usage(FILE *f)
{
	fputs("usage: iamctl simulate USER ACTION RESOURCE "
	      "[--context KEY=VALUE]... [--json]\n", f);
}

/* Parse the options; EXIT_* on error, else 0 with positionals left. */
static int
simulate_args(int argc, char **argv, struct ctx_arg *v, size_t *nv,
	      bool *json)
{
	static const struct option opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *eq;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1 ||
	       optind < argc) {
		if (c == -1) {
			/* A positional before more options: skip it. */
			optind++;
			continue;
		}
		switch (c) {
		case 'c':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || eq[1] == '\0' ||
			    *nv == IAM_REQUEST_MAX_KEYS) {
				iamctl_err("simulate: --context needs KEY=VALUE, "
					   "both non-empty");
				return EXIT_USAGE;
			}
			*eq = '\0';
			v[*nv].key = optarg;
			v[(*nv)++].value = eq + 1;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			simulate_usage(stdout);
			return -1;
		default:
			iamctl_err("simulate: unknown or incomplete option '%s'",
				   argv[optind - 1]);
			simulate_usage(stderr);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int
cmd_simulate(struct iamctl *ctl, int argc, char **argv)
{
	struct ctx_arg v[IAM_REQUEST_MAX_KEYS];
	const char *pos[3];
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_policy_set *set = NULL;
	struct iam_request *req = NULL;
	const struct iam_user *u;
	struct iam_config *cfg;
	size_t nv = 0, np = 0;
	bool json = false;
	int rc, r;

	if (iamctl_wants_help(argc, argv)) {
		simulate_usage(stdout);
		return EXIT_OK;
	}
	rc = simulate_args(argc, argv, v, &nv, &json);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] == '-') {
			if (strcmp(argv[i], "--context") == 0)
				i++;
			continue;
		}
		if (np == 3) {
			simulate_usage(stderr);
			return EXIT_USAGE;
		}
		pos[np++] = argv[i];
	}
	if (np != 3) {
		simulate_usage(stderr);
		return EXIT_USAGE;
	}
	if (iamctl_bad_name("simulate", pos[0]))
		return EXIT_USAGE;
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	r = iam_identity_load(cfg->identity_file, true, cfg, NULL, &id, &f);
	if (r < 0) {
		show_faults(&f);
		iam_faults_release(&f);
		return r == -EINVAL ? EXIT_REFUSED : EXIT_USAGE;
	}
	iam_faults_release(&f);
	rc = EXIT_USAGE;
	u = iam_identity_user(id, pos[0]);
	if (u == NULL) {
		/* A refusal, as for every command naming an unknown user. */
		iamctl_err("no IAM user '%s'", pos[0]);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (iam_request_new(pos[1], pos[2], &req) < 0) {
		iamctl_err("simulate: ACTION must be \"service:Action\" and "
			   "RESOURCE a non-empty ARN");
		goto out;
	}
	r = user_context(req, id, u, cfg, v, nv);
	if (r == 0)
		r = user_set(id, u, &set);
	if (r < 0) {
		if (r != -ENOENT)
			iamctl_err("simulate: %s", strerror(-r));
		goto out;
	}
	rc = decide(set, req, json);
out:
	iam_policy_set_free(set);
	iam_request_free(req);
	iam_identity_free(id);
	return rc;
}
