/*
 * fleet_etcd.h - etcd v3 through its JSON gateway (/v3/kv/range,
 * /v3/kv/txn, /v3/lease/..., /v3/watch) over libcurl: TLS with client
 * certificates, etcd users, failover between the configured endpoints.
 *
 * Keys given to these functions are relative to the fleet's base,
 * PREFIX + ACCOUNT + "/".  Functions return 0 or a negative errno with a
 * message in the client's err: -EHOSTUNREACH when no endpoint answered,
 * -ECANCELED when a transaction's compare failed, -ESTALE when the
 * revision asked for was compacted, -EPROTO for an answer that is not
 * what etcd sends.
 */
#ifndef IAM_FLEET_ETCD_H
#define IAM_FLEET_ETCD_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet.h"

struct fleet_etcd;

/* Open a client for cfg's fleet group and the account (12 digits). */
int fleet_etcd_open(const struct iam_config *cfg, const char *account,
		    struct fleet_etcd **ret, char *err, size_t errlen);
struct fleet_etcd *fleet_etcd_close(struct fleet_etcd *e);

/* The last error message (never NULL). */
const char *fleet_etcd_error(const struct fleet_etcd *e);

/* Reads served by any member (agents: signatures make staleness safe). */
void fleet_etcd_set_serializable(struct fleet_etcd *e, bool on);

/*
 * Every key under the base at revision rev (0: the newest), in pages,
 * added to out with their mod_revision.  *ret_rev: the revision read.
 * Keys for which keep() is false are skipped (keep NULL: all).
 */
int fleet_etcd_read_all(struct fleet_etcd *e, int64_t rev,
			bool (*keep)(const char *rel), struct fleet_set *out,
			int64_t *ret_rev);

/* One operation of a transaction. */
struct fleet_op {
	const char *key;	/* relative */
	const char *val;	/* NULL: delete */
	size_t len;
	int64_t lease;		/* 0: none */
};

/* One compare of a transaction: the key's revision must equal rev. */
struct fleet_cmp {
	const char *key;	/* relative */
	bool create;		/* create_revision (else mod_revision) */
	int64_t rev;		/* 0: the key does not exist */
};

/*
 * One transaction: when every compare holds, do ops.  -ECANCELED when a
 * compare failed (nothing was done).  *ret_rev (may be NULL): the
 * revision after it.
 */
int fleet_etcd_txn(struct fleet_etcd *e, const struct fleet_cmp *cmps,
		   size_t n_cmps, const struct fleet_op *ops, size_t n_ops,
		   int64_t *ret_rev);

int fleet_etcd_lease_grant(struct fleet_etcd *e, int64_t ttl, int64_t *ret_id);
int fleet_etcd_lease_keepalive(struct fleet_etcd *e, int64_t id);
int fleet_etcd_lease_revoke(struct fleet_etcd *e, int64_t id);

/* One change seen by a watch. */
struct fleet_event {
	const char *key;	/* relative */
	const char *val;	/* NULL: deleted */
	size_t len;
	int64_t mod_rev;
};

/*
 * Watch the base from revision start_rev, all of it but status/ (two
 * streams, whose events may arrive in either order).  on_events() is called for
 * every response with its events (n may be 0 on progress) and the
 * response's header revision; it returns 0 to go on, anything else to
 * stop.  tick() is called at least every 200 ms, and at once when
 * wake_fd (-1: none) becomes readable; a non-zero return stops the watch
 * (0 returned).  Returns when the stream ends, on stop, or
 * -ESTALE (*ret_compacted set) when start_rev was compacted.
 */
int fleet_etcd_watch(struct fleet_etcd *e, int64_t start_rev,
		     int (*on_events)(void *ctx, const struct fleet_event *ev,
				      size_t n, int64_t rev),
		     int (*tick)(void *ctx), void *ctx, int wake_fd,
		     int64_t *ret_compacted);

#endif
