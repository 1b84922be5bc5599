/*
 * validate.c - iamctl validate [FILE]: check an identity file and print
 * every fault, one a line, or OK.
 *
 * Without FILE the configured identity_file is checked under the strict
 * file rules (owner, mode, no symbolic link) as the publisher reads it;
 * with FILE only its content is checked, so a draft can be validated
 * before it is installed ("-" reads standard input).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iamctl.h"

static void
usage(FILE *f)
{
	fputs("usage: iamctl validate [FILE]\n"
	      "  Check an identity file (default: the configured\n"
	      "  identity_file, with its owner and mode); print every fault\n"
	      "  and exit 1, or print OK.  FILE - reads standard input.\n", f);
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
