/*
 * fleet_host.h - a host's side of the fleet: read the state at one
 * revision, verify it, apply it through the publisher exactly as
 * `iamctl sync` does, remember what was applied, report status.
 * Shared by `iamctl fleet pull --once` and iam-agent.
 */
#ifndef IAM_FLEET_HOST_H
#define IAM_FLEET_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet.h"
#include "fleet_etcd.h"

struct fleet_host_ctx {
	const struct iam_config *cfg;	/* borrowed */
	const char *source;		/* eventSource of trail events */
	char account[13];
	char hostname[256];
	struct fleet_etcd *etcd;
	struct fleet_keyring ring;	/* trusted admin keys */
	uint64_t applied_gen;		/* last generation applied (0 none) */
	uint8_t applied_root[FLEET_HASH_BYTES];
	int64_t rev;			/* revision set reflects */
	struct fleet_set set;		/* covered keys and the manifest */
	int64_t manifest_rev;		/* mod_revision of the manifest seen */
	char last_reject[512];		/* last FleetReject, not repeated */
	int64_t lease;			/* status lease (agent), 0 none */
	bool quiet;			/* no stdout messages (agent) */
};

/*
 * Start: the account (fleet.account, else the identity file's), the
 * trusted keys, the last applied state (fleet.state_dir/applied) and an
 * etcd client.  Returns 0 or -errno with the reason in err.
 */
int fleet_host_open(struct fleet_host_ctx *h, const struct iam_config *cfg,
		    const char *source, char *err, size_t errlen);
void fleet_host_close(struct fleet_host_ctx *h);

/* True for the keys a host keeps in h->set. */
bool fleet_host_keeps(const char *rel);

/* Replace h->set by a full read at the newest revision. */
int fleet_host_read(struct fleet_host_ctx *h);

/*
 * Decide on h->set at h->rev: apply a newer signed generation (1),
 * nothing to do (0), or refuse (-EPERM: a FleetReject was written, the
 * host keeps its last good generation).  -ENOENT: no manifest yet.
 * Other negative errnos: a local failure.  msg receives one line.
 */
int fleet_host_evaluate(struct fleet_host_ctx *h, char *msg, size_t msglen);

/* Put status/HOSTNAME (with h->lease when set). */
int fleet_host_status(struct fleet_host_ctx *h, const char *state);

#endif
