/*
 * sync.c - iamctl sync [--repair]: validate the identity file with the
 * stored credentials and, only when all is valid, publish a new
 * generation of the snapshots (libiam/snapshot/publish.c).  Every publication
 * rebuilds every file from the identity file and the credentials, so a
 * damaged snapshot or generation file is mended by an ordinary sync;
 * --repair also removes a `current` that is not a link and every older
 * generation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iamctl.h"

static void
print_faults(const struct iam_config *cfg, const struct iam_faults *f)
{
	for (size_t i = 0; i < f->n; i++) {
		/* JSON paths are relative to the identity file; name it. */
		if (f->v[i][0] == '/')
			fprintf(stderr, "%s\n", f->v[i]);
		else
			fprintf(stderr, "%s: %s\n", cfg->identity_file, f->v[i]);
	}
	if (f->dropped > 0)
		fprintf(stderr, "%s: %zu more faults not shown\n",
			cfg->identity_file, f->dropped);
	if (f->oom)
		fprintf(stderr, "%s: out of memory while recording faults\n",
			cfg->identity_file);
}

/* Exit status of a failed publication (iamctl(8)). */
static int
status_of(int r)
{
	switch (r) {
	case -ENOENT:
	case -EACCES:
	case -EISDIR:
	case -EIO:
		return EXIT_USAGE;	/* an input that cannot be read */
	default:
		return EXIT_REFUSED;	/* faults, insecure files, refusals */
	}
}

int
cmd_sync(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_config *cfg;
	bool repair = false;
	uint64_t gen = 0;
	int r;

	if (iamctl_wants_help(argc, argv)) {
		printf("usage: iamctl sync [--repair]\n\n"
		       "Validate the identity file with the stored credentials "
		       "and publish\na new generation of the snapshots (nss.db, "
		       "keys.db, auth/); on any fault\nnothing changes.  "
		       "--repair: also remove a damaged current and every\n"
		       "older generation.\n");
		return EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--repair") == 0)
		repair = true;
	else if (argc != 1) {
		iamctl_err("sync: takes no arguments but --repair");
		return EXIT_USAGE;
	}
	cfg = iamctl_config(ctl);
	if (cfg == NULL)
		return EXIT_USAGE;
	r = repair ? iam_publish_repair(cfg, NULL, &faults) :
		     iam_publish(cfg, NULL, &faults);
	if (r < 0) {
		print_faults(cfg, &faults);
		iamctl_err("sync: %s: nothing published (%s)",
			   cfg->identity_file, r == -EINVAL ? "faults above" :
			   strerror(-r));
		iam_faults_release(&faults);
		return status_of(r);
	}
	iam_faults_release(&faults);
	if (iam_snapshot_generation(cfg, &gen) == 0)
		printf("published generation %llu\n", (unsigned long long)gen);
	else
		printf("published\n");
	return EXIT_OK;
}
