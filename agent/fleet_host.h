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
	struct fleet_set hosts;		/* hosts/ of the last trusted state */
	uint8_t host_sk[FLEET_SK_BYTES];	/* this host's key */
	bool have_host_key;
	uint8_t fleet_key[32];		/* the fleet's sealing key */
	bool have_fleet_key;
	int inotify;			/* on credentials_dir, -1 none */
	bool creds_retry;		/* a record waits for the store's lock */
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
 * With tentative, objects that do not hash to the manifest's root are
 * -EAGAIN and no refusal yet (more events may be on their way).
 * Other negative errnos: a local failure.  msg receives one line.
 */
int fleet_host_evaluate(struct fleet_host_ctx *h, bool tentative, char *msg,
			size_t msglen);

/*
 * Write one event of this host to the trail (source and actor: the
 * agent, as root): name, its four parameters, and when it failed, the
 * code and the reason.
 */
void fleet_host_trail(struct fleet_host_ctx *h, const char *name,
		      const char *code, const char *reason,
		      struct iam_event_param params[4]);

/* Put status/HOSTNAME (with h->lease when set). */
int fleet_host_status(struct fleet_host_ctx *h, const char *state);

/* ---- Credentials that follow the user (fleet_creds.c) ------------------- */

/*
 * A credentials/UID record: the user's credential file as this host
 * stores it, sealed with the fleet key (crypto_secretbox) and signed by
 * the host that made the change; the newest change time wins.
 */
struct fleet_cred {
	uint32_t uid;
	char host[129];
	int64_t time;			/* nanoseconds since the epoch */
	struct iam_buf sealed;		/* nonce || secretbox */
	uint8_t sig[FLEET_SIG_BYTES];
};

int fleet_cred_make(const uint8_t sk[FLEET_SK_BYTES], const uint8_t key[32],
		    uint32_t uid, const char *host, int64_t time,
		    const char *plain, size_t len, struct iam_buf *out);
int fleet_cred_parse(const char *text, size_t len, struct fleet_cred *ret,
		     char *err, size_t errlen);
int fleet_cred_verify(const struct fleet_cred *c,
		      const uint8_t pk[FLEET_PK_BYTES]);
/* Unseal into out (wipe it).  -EBADMSG when the box does not open. */
int fleet_cred_open(const struct fleet_cred *c, const uint8_t key[32],
		    struct iam_buf *out);
void fleet_cred_release(struct fleet_cred *c);

/* Load host.key and fleet.key when present; watch credentials_dir. */
int fleet_creds_start(struct fleet_host_ctx *h, char *err, size_t errlen);

/*
 * Local changes into the outbox (all files with full, else the ones
 * inotify named), the outbox to etcd, and every credentials/ record of
 * h->set newer than what this host has into credentials_dir.  Returns the
 * number of records still waiting in the outbox, or a negative errno.
 */
int fleet_creds_sync(struct fleet_host_ctx *h, bool full);

/* Apply one record seen by the watch (or its removal: nothing). */
int fleet_creds_apply(struct fleet_host_ctx *h, const char *key);

#endif
