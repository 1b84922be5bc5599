/*
 * validate.c - iamctl validate [FILE]: check an identity file and print
 * every fault, one a line, or OK.
 *
 * Without FILE the configured identity_file is checked under the strict
 * file rules (owner, mode, no symbolic link) as the publisher reads it;
 * with FILE only its content is checked, so a draft can be validated
 * before it is installed ("-" reads standard input).
 *
 * A valid file can still hold a statement that never applies: a
 * Resource in AWS's partition ("arn:aws:...") names nothing on a host,
 * whose resources are arn:iam:... and arn:iam:sudo:...; each such
 * resource is a warning on stderr with its JSON path (exit 0 still).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl validate [FILE]\n"
	      "  Check an identity file (default: the configured\n"
	      "  identity_file, with its owner and mode); print every fault\n"
	      "  and exit 1, or print OK.  FILE - reads standard input.\n", f);
}

/* Warn about each "arn:aws:" entry of one statement's Resource. */
static size_t
warn_resource(const char *path, const char *where, size_t st_idx,
	      bool many, const struct iam_json *res)
{
	size_t n = res->type == IAM_JSON_ARRAY ? res->len : 1, found = 0;

	for (size_t i = 0; i < n; i++) {
		const struct iam_json *v = res->type == IAM_JSON_ARRAY ?
					   &res->u.items[i] : res;
		char idx[32] = "", st[32] = "";

		if (v->type != IAM_JSON_STRING ||
		    strncmp(v->u.string, "arn:aws:", 8) != 0)
			continue;
		if (res->type == IAM_JSON_ARRAY)
			snprintf(idx, sizeof(idx), "[%zu]", i);
		if (many)
			snprintf(st, sizeof(st), "[%zu]", st_idx);
		fprintf(stderr, "warning: %s: %s.Statement%s.Resource%s: "
			"\"%s\" can never match on a host (its resources are "
			"arn:iam:...; see iam-policy(5)): the statement never "
			"applies\n", path, where, st, idx, v->u.string);
		found++;
	}
	return found;
}

size_t
warn_aws_policy(const char *path, const char *where,
		const struct iam_json *doc)
{
	const struct iam_json *st = iam_json_get(doc, "Statement");
	size_t n, found = 0;

	if (st == NULL)
		return 0;
	n = st->type == IAM_JSON_ARRAY ? st->len : 1;
	for (size_t i = 0; i < n; i++) {
		const struct iam_json *s = st->type == IAM_JSON_ARRAY ?
					   &st->u.items[i] : st;
		const struct iam_json *res = iam_json_get(s, "Resource");

		if (res != NULL)
			found += warn_resource(path, where, i,
					       st->type == IAM_JSON_ARRAY, res);
	}
	return found;
}

/* Managed and inline policies that name AWS resources: warnings only. */
static void
warn_aws_resources(const char *path, const struct iam_identity *id)
{
	char where[512];

	for (size_t i = 0; i < id->n_policies; i++) {
		snprintf(where, sizeof(where), "policies.%s",
			 id->policies[i].name);
		warn_aws_policy(path, where, id->policies[i].doc);
	}
	for (size_t i = 0; i < id->n_users; i++)
		for (size_t k = 0; k < id->users[i].n_inline; k++) {
			snprintf(where, sizeof(where),
				 "users[%zu].inline_policies.%s", i,
				 id->users[i].inline_policies[k].name);
			warn_aws_policy(path, where,
					id->users[i].inline_policies[k].doc);
		}
}

/* The content was read: every fault found is a refusal (exit 1). */
static bool
is_content_fault(int r)
{
	return r == -EINVAL || r == -EFBIG || r == -EPERM || r == -ELOOP;
}

int
cmd_validate(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_config *cfg;
	const char *path;
	bool strict;
	int r, rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0')) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	strict = argc < 2;
	path = strict ? cfg->identity_file : argv[1];
	r = iam_identity_load(path, strict, cfg, "/", &id, &faults);
	if (r == 0) {
		warn_aws_resources(path, id);
		puts("OK");
		rc = EXIT_OK;
	} else if (is_content_fault(r)) {
		/* A fault of the file itself already names it. */
		for (size_t i = 0; i < faults.n; i++) {
			bool named = strncmp(faults.v[i], path,
					     strlen(path)) == 0;

			printf("%s%s%s\n", named ? "" : path, named ? "" : ": ",
			       faults.v[i]);
		}
		if (faults.dropped > 0)
			printf("%s: %zu more faults not shown\n", path,
			       faults.dropped);
		if (faults.oom)
			iamctl_err("%s: out of memory while recording faults",
				   path);
		rc = EXIT_REFUSED;
	} else {
		if (faults.n > 0)
			iamctl_err("%s", faults.v[0]);
		else
			iamctl_err("%s: %s", path, strerror(-r));
		rc = EXIT_USAGE;
	}
	if (fflush(stdout) != 0)
		rc = EXIT_USAGE;
	iam_identity_free(id);
	iam_faults_release(&faults);
	return rc;
}
