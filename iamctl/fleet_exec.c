/*
 * fleet_exec.c - iamctl fleet, as the iamctl that administrators run
 * for every other command builds it: it hands the command line to
 * IAM_LIBEXECDIR/iamctl-fleet, an iamctl linked with the fleet's
 * network code (fleet.c, agent/, libcurl and libsodium).  So that code is
 * mapped only into the process that talks to etcd, and every other
 * command loads a third of the libraries (iamctl(8), FILES).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#ifndef IAM_LIBEXECDIR
#define IAM_LIBEXECDIR "/usr/libexec/iam"
#endif
#define FLEET_HELPER IAM_LIBEXECDIR "/iamctl-fleet"

int
cmd_fleet(struct iamctl *ctl, int argc, char **argv)
{
	char **args = calloc((size_t)argc + 4, sizeof(*args));
	int n = 0;

	if (args == NULL) {
		iamctl_err("fleet: out of memory");
		return EXIT_REFUSED;
	}
	args[n++] = (char *)FLEET_HELPER;
	/* the helper applies iamctl's own rule to it (root only) */
	if (ctl->config_path != NULL) {
		args[n++] = (char *)"--config";
		args[n++] = (char *)ctl->config_path;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(FLEET_HELPER, args);
	iamctl_err("fleet: cannot run %s: %s", FLEET_HELPER, strerror(errno));
	free(args);
	return EXIT_USAGE;
}
