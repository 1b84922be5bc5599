/*
 * iam_agent.c - iam-agent(8): keeps this host's published snapshots equal
 * to the newest signed state of the fleet in etcd.
 *
 * Reads everything once, then watches from the revision it read; every
 * new manifest is verified and applied through the publisher (the same
 * one transaction as `iamctl sync`).  Objects that change without a new
 * manifest are refused after a short grace (a push writes its objects
 * just before its manifest).  etcd unreachable: the host keeps serving
 * its last generation, the agent retries with back-off; a revision that
 * was compacted is caught up with a full read.  status/HOSTNAME is kept
 * on a lease, so a host that stops reporting disappears from
 * `iamctl fleet status`.
 *
 * PAM, NSS and sudo never wait for the agent: they read the published
 * files, which change only by one atomic step.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fleet_host.h"

#define GRACE_MS	1500	/* objects without a manifest: then refused */
#define EVAL_MS		100	/* objects alone are decided at most this often */
#define LEASE_TTL	30	/* seconds status/HOSTNAME outlives the agent */
#define KEEPALIVE_S	10
#define SESSION_S	60	/* a watch is renewed this often */
#define BACKOFF_MAX	16

static volatile sig_atomic_t stopping;

struct agent {
	struct fleet_host_ctx h;
	int64_t grace_until;	/* ms; 0 when nothing is pending */
	int64_t next_keepalive;	/* s */
	int64_t session_end;	/* s */
	int64_t last_eval;	/* ms of the last decision */
	bool dirty;		/* objects changed since it */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Wait s seconds and up to half as much again at random (etcd
 * unreachable: many hosts must not come back all at once), returning
 * early when asked to stop; local credential changes keep going into the
 * outbox meanwhile.
 */
static void
nap(struct agent *a, int s)
{
	int steps = s * 5 + (int)randombytes_uniform((uint32_t)(s * 5 / 2 + 1));

	for (int i = 0; i < steps && !stopping; i++) {
		usleep(200000);
		fleet_creds_sync(&a->h, false);
	}
}

static void
lease_refresh(struct agent *a)
{
	int64_t now = now_ms() / 1000;

	if (now < a->next_keepalive)
		return;
	a->next_keepalive = now + KEEPALIVE_S;
	if (a->h.lease != 0 &&
	    fleet_etcd_lease_keepalive(a->h.etcd, a->h.lease) == 0)
		return;
	a->h.lease = 0;
	if (fleet_etcd_lease_grant(a->h.etcd, LEASE_TTL, &a->h.lease) < 0) {
		a->h.lease = 0;
		return;
	}
	fleet_host_status(&a->h, "running");
}

/*
 * Decide on what the watch brought.  Objects that do not match the
 * manifest are given a grace (the other stream, or the rest of a push,
 * may still be on its way) before they are refused.
 */
static void
decide(struct agent *a, bool tentative)
{
	char msg[1024];
	int r;

	a->last_eval = now_ms();
	a->dirty = false;
	r = fleet_host_evaluate(&a->h, tentative, msg, sizeof(msg));
	if (r == -EAGAIN) {
		if (a->grace_until == 0)
			a->grace_until = now_ms() + GRACE_MS;
		return;
	}
	a->grace_until = 0;
	if (r == 1) {
		warnx("%s", msg);
		fleet_host_status(&a->h, "applied");
	} else if (r == 0) {
		fleet_host_status(&a->h, "current");
	} else if (r == -EPERM) {
		warnx("%s", msg);
	} else {
		warnx("%s", msg);
	}
}

static int
on_events(void *ctx, const struct fleet_event *ev, size_t n, int64_t rev)
{
	struct agent *a = ctx;
	bool covered = false, manifest = false;

	(void)rev;
	for (size_t i = 0; i < n; i++) {
		if (!fleet_host_keeps(ev[i].key))
			continue;
		if (ev[i].val == NULL)
			fleet_set_del(&a->h.set, ev[i].key);
		else if (fleet_set_put(&a->h.set, ev[i].key, ev[i].val,
				       ev[i].len, ev[i].mod_rev) < 0)
			return -1;	/* out of memory: a full read next */
		if (strcmp(ev[i].key, "manifest") == 0) {
			manifest = true;
			a->h.manifest_rev = ev[i].mod_rev;
		} else {
			covered = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (ev[i].mod_rev > a->h.rev)
			a->h.rev = ev[i].mod_rev;
	/*
	 * A new manifest is decided at once, and so are a few objects (the
	 * other stream's share of a push); a push of many transactions
	 * brings them in batches, decided at most every EVAL_MS.
	 */
	if (manifest || (covered && (n <= 10 || now_ms() - a->last_eval >= EVAL_MS)))
		decide(a, true);
	else if (covered)
		a->dirty = true;
	for (size_t i = 0; i < n; i++)
		if (ev[i].val != NULL && strncmp(ev[i].key, "credentials/", 12) == 0)
			fleet_creds_apply(&a->h, ev[i].key);
	return stopping ? 1 : 0;
}

static int
tick(void *ctx)
{
	struct agent *a = ctx;

	if (stopping)
		return 1;
	if (a->grace_until != 0 && now_ms() >= a->grace_until)
		decide(a, false);
	else if (a->dirty && now_ms() - a->last_eval >= EVAL_MS)
		decide(a, true);
	fleet_creds_sync(&a->h, false);
	lease_refresh(a);
	return now_ms() / 1000 >= a->session_end;
}

static int
run(struct agent *a)
{
	bool full = true;
	int backoff = 1, r;

	while (!stopping) {
		int64_t compacted = 0;

		if (full) {
			r = fleet_host_read(&a->h);
			if (r < 0) {
				warnx("etcd: %s; serving generation %" PRIu64
				      ", retrying in %d s",
				      fleet_etcd_error(a->h.etcd),
				      a->h.applied_gen, backoff);
				nap(a, backoff);
				backoff = backoff < BACKOFF_MAX ? backoff * 2 :
					  BACKOFF_MAX;
				continue;
			}
			full = false;
			backoff = 1;
			a->next_keepalive = 0;
			lease_refresh(a);
			decide(a, false);
			fleet_creds_sync(&a->h, true);
		}
		a->session_end = now_ms() / 1000 + SESSION_S;
		r = fleet_etcd_watch(a->h.etcd, a->h.rev + 1, on_events, tick, a,
				     a->h.inotify, &compacted);
		if (stopping)
			break;
		if (r == -ESTALE) {
			warnx("revision %" PRId64 " was compacted; reading "
			      "everything again", a->h.rev + 1);
			full = true;
		} else if (r < 0) {
			warnx("etcd watch: %s; serving generation %" PRIu64
			      ", retrying in %d s", fleet_etcd_error(a->h.etcd),
			      a->h.applied_gen, backoff);
			nap(a, backoff);
			backoff = backoff < BACKOFF_MAX ? backoff * 2 : BACKOFF_MAX;
		} else {
			backoff = 1;
		}
	}
	return 0;
}

static void
usage(FILE *f)
{
	fputs("usage: iam-agent [--config FILE]\n\n"
	      "Keep this host's snapshots equal to the newest signed state of "
	      "the fleet\nin etcd; see iam-agent(8).\n", f);
}

int
main(int argc, char **argv)
{
	const char *path = IAM_DEFAULT_CONFIG;
	struct iam_config *cfg = NULL;
	struct sigaction sa;
	struct agent a;
	char err[512];
	int r;

	/* warnx() names the program, whatever argv[0] says */
	program_invocation_short_name = (char *)"iam-agent";
	if (iam_sanitize_fds() < 0)
		return 2;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("iam-agent %s\n", IAM_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (getuid() != 0 || geteuid() != 0) {
		warnx("must be run as root");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stderr, NULL, _IOLBF, 0);
	r = iam_config_load(path, path != NULL &&
			    strcmp(path, IAM_DEFAULT_CONFIG) != 0, &cfg, err,
			    sizeof(err));
	if (r < 0) {
		warnx("%s", err);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	r = fleet_host_open(&a.h, cfg, "iam-agent", err, sizeof(err));
	if (r < 0) {
		warnx("%s", err);
		fleet_host_close(&a.h);
		iam_config_free(cfg);
		return 1;
	}
	r = fleet_creds_start(&a.h, err, sizeof(err));
	if (r < 0)
		warnx("credentials will not travel: %s", err);
	else if (!a.h.have_host_key || !a.h.have_fleet_key)
		warnx("credentials will not travel: %s or %s is missing",
		      cfg->fleet.host_key, cfg->fleet.fleet_key);
	fleet_etcd_set_serializable(a.h.etcd, true);
	warnx("host %s, account %s, generation %" PRIu64 " applied",
	      a.h.hostname, a.h.account, a.h.applied_gen);
	run(&a);
	if (a.h.lease != 0)
		fleet_etcd_lease_revoke(a.h.etcd, a.h.lease);
	fleet_host_close(&a.h);
	iam_config_free(cfg);
	return 0;
}
