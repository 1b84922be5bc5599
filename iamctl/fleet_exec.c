/*
 * fleet_exec.c - iamctl fleet, as the iamctl that administrators run
 * for every other command builds it: it hands the command line to
 * IAM_LIBEXECDIR/iamctl-fleet, an iamctl linked with the fleet's
 * network code (fleet.c, agent/, libcurl and libsodium).  So that code is
 * mapped only into the process that talks to etcd, and every other
 * command loads a third of the libraries (iamctl(8), FILES).
 */
#include "cmd.h"

#ifndef IAM_LIBEXECDIR
#define IAM_LIBEXECDIR "/usr/libexec/iam"
#endif
#define FLEET_HELPER IAM_LIBEXECDIR "/iamctl-fleet"

int
cmd_fleet(struct iamctl *ctl, int argc, char **argv)
{
	return iamctl_exec(ctl, FLEET_HELPER, argc, argv);
}
