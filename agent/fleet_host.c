/*
 * fleet_host.c - a host applies only what an administrator signed.
 *
 * At one etcd revision: the manifest must parse, be signed by a trusted
 * key, carry a generation above the last applied (never a rollback), and
 * its root hash must equal the hash of the covered objects at that
 * revision.  Then the objects are assembled into an identity file and
 * published by libiam exactly as `iamctl sync` publishes (validation
 * included).  Anything else is a FleetReject naming the reason, and the
 * host keeps serving its last good generation.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet_host.h"

bool
fleet_host_keeps(const char *rel)
{
	return fleet_key_covered(rel) || strcmp(rel, "manifest") == 0 ||
	       strncmp(rel, "credentials/", 12) == 0;
}

/* The host records of a state just found trustworthy. */
static void
snapshot_hosts(struct fleet_host_ctx *h)
{
	struct fleet_set s = FLEET_SET_INIT;

	for (size_t i = 0; i < h->set.n; i++)
		if (strncmp(h->set.v[i].key, "hosts/", 6) == 0 &&
		    fleet_set_add(&s, h->set.v[i].key, h->set.v[i].val,
				  h->set.v[i].len, 0) < 0) {
			fleet_set_release(&s);
			return;
		}
	fleet_set_release(&h->hosts);
	h->hosts = s;
}

/* ---- What was applied (fleet.state_dir/applied, root 0600) --------------- */

static int
applied_path(const struct iam_config *cfg, char *buf, size_t len)
{
	return iam_snprintf(buf, len, "%s/applied", cfg->fleet.state_dir);
}

static int
applied_load(struct fleet_host_ctx *h, char *err, size_t errlen)
{
	struct iam_buf t = IAM_BUF_INIT;
	char path[4096], root[FLEET_HASH_BYTES * 2 + 1];
	unsigned long long gen;
	int r;

	r = applied_path(h->cfg, path, sizeof(path));
	if (r < 0)
		return r;
	r = iam_read_strict(path, IAM_STRICT_SECRET, 4096, &t, err, errlen);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (sscanf(t.buf, "generation %llu\nroot %64[0-9a-f]\n", &gen, root) != 2 ||
	    strlen(root) != 64) {
		snprintf(err, errlen, "%s: malformed", path);
		r = -EINVAL;
	} else {
		h->applied_gen = gen;
		for (size_t i = 0; i < FLEET_HASH_BYTES; i++) {
			unsigned x;

			sscanf(root + 2 * i, "%2x", &x);
			h->applied_root[i] = (uint8_t)x;
		}
	}
	iam_buf_release(&t);
	return r;
}

static int
applied_save(struct fleet_host_ctx *h, int64_t rev)
{
	char path[4096], root[FLEET_HASH_BYTES * 2 + 1], text[256];
	int dfd, r;

	dfd = iam_ensure_dir(h->cfg->fleet.state_dir, 0700, 0, NULL, 0);
	if (dfd < 0)
		return dfd;
	close(dfd);
	r = applied_path(h->cfg, path, sizeof(path));
	if (r < 0)
		return r;
	fleet_hex(h->applied_root, FLEET_HASH_BYTES, root);
	r = iam_snprintf(text, sizeof(text), "generation %" PRIu64 "\nroot %s\n"
			 "revision %" PRId64 "\n", h->applied_gen, root, rev);
	if (r < 0)
		return r;
	return iam_write_atomic(path, text, strlen(text), 0600);
}

/* ---- Opening ---------------------------------------------------------- */

/* The account id of the local identity file (no validation needed). */
static int
account_of_identity(const struct iam_config *cfg, char account[13])
{
	struct iam_buf t = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	struct iam_json_limits lim;
	const struct iam_json *id;
	int r;

	r = iam_read_strict(cfg->identity_file, IAM_STRICT_SECRET,
			    cfg->identity_max_bytes, &t, NULL, 0);
	fleet_identity_limits(cfg, t.len, &lim);
	if (r == 0)
		r = iam_json_parse(t.buf, t.len, &lim, &doc, NULL, 0);
	if (r == 0) {
		id = iam_json_get(iam_json_get(iam_json_root(doc), "account"), "id");
		if (id == NULL || id->type != IAM_JSON_STRING || id->len != 12)
			r = -EINVAL;
		else
			memcpy(account, id->u.string, 13);
	}
	iam_json_free(doc);
	iam_buf_wipe(&t);
	return r;
}

int
fleet_host_open(struct fleet_host_ctx *h, const struct iam_config *cfg,
		const char *source, char *err, size_t errlen)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->inotify = -1;
	h->cfg = cfg;
	h->source = source;
	r = fleet_crypto_init();
	if (r < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return r;
	}
	if (cfg->fleet.account[0] != '\0')
		memcpy(h->account, cfg->fleet.account, 13);
	else if (account_of_identity(cfg, h->account) < 0) {
		snprintf(err, errlen, "%s: fleet.account is not set and %s has "
			 "no account id", cfg->path ? cfg->path : "iam.conf",
			 cfg->identity_file);
		return -EINVAL;
	}
	r = iam_config_hostname(cfg, h->hostname, sizeof(h->hostname));
	if (r < 0) {
		snprintf(err, errlen, "the host's name: %s", strerror(-r));
		return r;
	}
	{
		/* It names etcd keys and goes into JSON: a host name's rules. */
		char key[300], why[128];

		if (iam_snprintf(key, sizeof(key), "hosts/%s", h->hostname) < 0 ||
		    fleet_key_check(key, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "host name \"%s\" is not [A-Za-z0-9"
				 "+=,.@_-]{1,128}: set hostname in iam.conf",
				 h->hostname);
			return -EINVAL;
		}
	}
	r = fleet_keyring_load(cfg->fleet.trusted_keys, 0, &h->ring, err, errlen);
	if (r == 0 && h->ring.n == 0) {
		snprintf(err, errlen, "%s: no trusted key (*.pub)",
			 cfg->fleet.trusted_keys);
		r = -ENOKEY;
	}
	if (r == 0)
		r = applied_load(h, err, errlen);
	if (r == 0)
		r = fleet_etcd_open(cfg, h->account, &h->etcd, err, errlen);
	return r;
}

void
fleet_host_close(struct fleet_host_ctx *h)
{
	h->etcd = fleet_etcd_close(h->etcd);
	fleet_set_release(&h->set);
	fleet_set_release(&h->hosts);
	iam_wipe(h->host_sk, sizeof(h->host_sk));
	iam_wipe(h->fleet_key, sizeof(h->fleet_key));
	if (h->inotify >= 0)
		close(h->inotify);
	h->inotify = -1;
}

int
fleet_host_read(struct fleet_host_ctx *h)
{
	struct fleet_set s = FLEET_SET_INIT;
	const struct fleet_obj *m;
	int64_t rev = 0;
	int r;

	r = fleet_etcd_read_all(h->etcd, 0, fleet_host_keeps, &s, &rev);
	if (r < 0) {
		fleet_set_release(&s);
		return r;
	}
	fleet_set_release(&h->set);
	h->set = s;
	h->rev = rev;
	m = fleet_set_find(&h->set, "manifest");
	h->manifest_rev = m ? m->mod_rev : 0;
	return 0;
}

/* ---- Trail ------------------------------------------------------------ */

void
fleet_host_trail(struct fleet_host_ctx *h, const char *name,
		 const char *code, const char *reason,
		 struct iam_event_param params[4])
{
	struct iam_event ev = { 0 };

	ev.source = h->source;
	ev.name = name;
	ev.user_type = "Root";
	ev.user_name = h->source;
	ev.params = params;
	ev.n_params = 4;
	ev.error_code = code;
	ev.error_message = reason;
	iam_trail_write(h->cfg, &ev);
}

static void
trail_fleet(struct fleet_host_ctx *h, const char *name, const char *code,
	    const char *reason, uint64_t gen)
{
	char g[32], rev[32];
	struct iam_event_param p[4] = {
		{ "host", h->hostname },
		{ "generation", g },
		{ "revision", rev },
		{ "reason", reason },
	};

	snprintf(g, sizeof(g), "%" PRIu64, gen);
	snprintf(rev, sizeof(rev), "%" PRId64, h->rev);
	fleet_host_trail(h, name, code, reason, p);
}

/* Refuse once per distinct reason; the host keeps its generation. */
static int
reject(struct fleet_host_ctx *h, const char *code, uint64_t gen, char *msg,
       size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int
reject(struct fleet_host_ctx *h, const char *code, uint64_t gen, char *msg,
       size_t msglen, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, msglen, "refused (%s): %s; keeping generation %" PRIu64,
		 code, why, h->applied_gen);
	if (strcmp(h->last_reject, why) != 0) {
		trail_fleet(h, "FleetReject", code, why, gen);
		snprintf(h->last_reject, sizeof(h->last_reject), "%s", why);
		fleet_host_status(h, msg);
	}
	return -EPERM;
}

/* ---- Apply ----------------------------------------------------------- */

/*
 * Replace the identity file and publish under the store's lock; when
 * publishing refuses, the old file comes back byte for byte.
 */
static int
apply_identity(const struct iam_config *cfg, const struct iam_buf *text,
	       struct iam_faults *faults)
{
	int lock, r;

	/* The one transaction of iamctl sync: all of it is served, or none. */
	lock = iam_store_lock(cfg);
	if (lock < 0)
		return lock;
	r = iam_publish_text_locked(cfg, NULL, text->buf, text->len, faults);
	iam_store_unlock(lock);
	return r;
}

static int
apply(struct fleet_host_ctx *h, const struct fleet_manifest *m, char *msg,
      size_t msglen)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_buf text = IAM_BUF_INIT;
	char err[512];
	int r;

	r = fleet_assemble(&h->set, &text, err, sizeof(err));
	if (r < 0) {
		iam_buf_wipe(&text);
		return reject(h, "InvalidObject", m->generation, msg, msglen,
			      "%s", err);
	}
	r = apply_identity(h->cfg, &text, &faults);
	iam_buf_wipe(&text);
	if (r == -EINVAL) {
		r = reject(h, "InvalidIdentity", m->generation, msg, msglen,
			   "generation %" PRIu64 " does not validate on this "
			   "host: %s%s", m->generation,
			   faults.n ? faults.v[0] : "faults",
			   faults.n > 1 ? " (and more)" : "");
		iam_faults_release(&faults);
		return r;
	}
	iam_faults_release(&faults);
	if (r < 0) {
		char why[160];

		snprintf(msg, msglen, "publishing generation %" PRIu64
			 " failed: %s", m->generation, r == -ETIMEDOUT ?
			 iam_store_lock_strerror(h->cfg, r, why, sizeof(why)) :
			 strerror(-r));
		return r;
	}
	h->applied_gen = m->generation;
	memcpy(h->applied_root, m->root, FLEET_HASH_BYTES);
	r = applied_save(h, h->rev);
	if (r < 0) {
		snprintf(msg, msglen, "%s/applied: %s", h->cfg->fleet.state_dir,
			 strerror(-r));
		return r;
	}
	h->last_reject[0] = '\0';
	trail_fleet(h, "FleetApply", NULL, NULL, m->generation);
	snprintf(msg, msglen, "applied generation %" PRIu64 " (revision %"
		 PRId64 ", %" PRIu64 " objects)", m->generation, h->rev,
		 m->count);
	return 1;
}

int
fleet_host_evaluate(struct fleet_host_ctx *h, bool tentative, char *msg,
		    size_t msglen)
{
	const struct fleet_obj *mo = fleet_set_find(&h->set, "manifest");
	uint8_t root[FLEET_HASH_BYTES];
	struct fleet_manifest m;
	uint64_t count = 0;
	char err[256];
	int r;

	if (mo == NULL) {
		snprintf(msg, msglen, "no manifest in etcd yet (revision %"
			 PRId64 ")", h->rev);
		return -ENOENT;
	}
	if (fleet_manifest_parse(mo->val, mo->len, &m, err, sizeof(err)) < 0)
		return reject(h, "MalformedManifest", 0, msg, msglen,
			      "manifest: %s", err);
	r = fleet_manifest_verify(&m, &h->ring);
	if (r == -ENOKEY)
		return reject(h, "UnknownKey", m.generation, msg, msglen,
			      "manifest generation %" PRIu64 " is signed by "
			      "key %s, which is not trusted", m.generation,
			      m.key_id);
	if (r < 0)
		return reject(h, "BadSignature", m.generation, msg, msglen,
			      "manifest generation %" PRIu64 ": the signature "
			      "does not verify", m.generation);
	if (strcmp(m.account, h->account) != 0)
		return reject(h, "WrongAccount", m.generation, msg, msglen,
			      "manifest is for account %s", m.account);
	if (m.generation < h->applied_gen)
		return reject(h, "Rollback", m.generation, msg, msglen,
			      "rollback: manifest generation %" PRIu64 " is "
			      "older than the applied %" PRIu64, m.generation,
			      h->applied_gen);
	fleet_root_hash(&h->set, root, &count);
	if ((memcmp(root, m.root, FLEET_HASH_BYTES) != 0 || count != m.count) &&
	    tentative) {
		snprintf(msg, msglen, "the objects do not match the manifest yet");
		return -EAGAIN;
	}
	if (memcmp(root, m.root, FLEET_HASH_BYTES) != 0 || count != m.count)
		return reject(h, "RootMismatch", m.generation, msg, msglen,
			      "the objects at revision %" PRId64 " do not hash "
			      "to the root of signed generation %" PRIu64
			      " (%" PRIu64 " objects, signed %" PRIu64 "): an "
			      "object added, changed or removed without a "
			      "signed manifest", h->rev, m.generation, count,
			      m.count);
	if (m.generation == h->applied_gen) {
		if (memcmp(m.root, h->applied_root, FLEET_HASH_BYTES) != 0)
			return reject(h, "Rollback", m.generation, msg, msglen,
				      "generation %" PRIu64 " replayed with "
				      "other content", m.generation);
		h->last_reject[0] = '\0';
		snapshot_hosts(h);
		snprintf(msg, msglen, "generation %" PRIu64 " is applied",
			 m.generation);
		return 0;
	}
	r = apply(h, &m, msg, msglen);
	if (r == 1)
		snapshot_hosts(h);
	return r;
}

int
fleet_host_status(struct fleet_host_ctx *h, const char *state)
{
	struct iam_buf v = IAM_BUF_INIT, key = IAM_BUF_INIT;
	struct iam_json s = { .type = IAM_JSON_STRING };
	struct fleet_op op;
	int r;

	s.u.string = state;
	s.len = strlen(state);
	r = iam_buf_addf(&v, "{\"host\":\"%s\",\"generation\":%" PRIu64
			 ",\"time\":%lld,\"revision\":%" PRId64 ",\"state\":",
			 h->hostname, h->applied_gen, (long long)time(NULL),
			 h->rev);
	if (r == 0)
		r = iam_json_write(&s, &v);
	if (r == 0)
		r = iam_buf_adds(&v, "}");
	if (r == 0)
		r = iam_buf_addf(&key, "status/%s", h->hostname);
	if (r == 0) {
		op = (struct fleet_op){ key.buf, v.buf, v.len, h->lease };
		r = fleet_etcd_txn(h->etcd, NULL, 0, &op, 1, NULL);
	}
	iam_buf_release(&v);
	iam_buf_release(&key);
	return r;
}
