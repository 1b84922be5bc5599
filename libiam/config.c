/* config.c - placeholder until the configuration loader lands: refuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "iam.h"

int
iam_config_defaults(struct iam_config **ret_cfg)
{
	(void)ret_cfg;
	return -ENOSYS;
}

int
iam_config_load(const char *path, bool must_exist, struct iam_config **ret_cfg,
		char *err, size_t errlen)
{
	(void)must_exist;
	(void)ret_cfg;
	snprintf(err, errlen, "%s: configuration loader not built", path);
	return -ENOSYS;
}

struct iam_config *
iam_config_free(struct iam_config *cfg)
{
	free(cfg);
	return NULL;
}
