/*
 * fleet.c - iamctl fleet: one signed identity for many hosts (etcd).
 *
 *   init                      the administrator's key pair and the fleet key
 *   enroll-host NAME --out DIR   a host's key, the fleet key, the trusted keys
 *   revoke-host NAME          refuse that host from now on
 *   push                      publish the validated identity file to etcd
 *   status                    every host's applied generation
 *   pull --once               this host's agent work, in the foreground
 *
 * What is written to etcd is trusted by hosts only when a manifest signed
 * by an administrator covers it; push writes the changed objects, then
 * the manifest with a compare on its revision, so of two concurrent
 * pushes one wins and the other is told to re-run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "fleet.h"
#include "fleet_etcd.h"
#include "fleet_host.h"

#define BATCH_OPS	100		/* etcd's --max-txn-ops is 128 */
#define BATCH_BYTES	(900u << 10)	/* base64 of it stays under 1.5 MiB */
#define LOCK_KEY	"push-lock"
#define LOCK_TTL	60

/* An administrator's view: the account, etcd, trusted keys, the state. */
struct admin {
	struct iam_config *cfg;
	char account[13];
	struct fleet_etcd *etcd;
	struct fleet_keyring ring;
	struct fleet_set cur;		/* covered keys + manifest, at rev */
	int64_t rev;
	const struct fleet_obj *mobj;	/* the manifest object, or NULL */
	struct fleet_manifest man;	/* parsed when have_man */
	bool have_man;
	bool verified;			/* signed by a trusted key, root matches */
};

static void
admin_close(struct admin *a)
{
	a->etcd = fleet_etcd_close(a->etcd);
	fleet_set_release(&a->cur);
}

static bool
admin_keeps(const char *rel)
{
	return fleet_host_keeps(rel) || strncmp(rel, "status/", 7) == 0;
}

/*
 * A host's status/HOSTNAME is written by that host (or anyone who can
 * write etcd) and signed by nobody: five small members, read with limits
 * to match, so a planted value cannot make push or status slow.
 */
static const struct iam_json_limits status_limits = {
	.max_bytes = 16u << 10,
	.max_depth = 2,
	.max_string = 8u << 10,
	.max_items = 16,
};

/*
 * The next generation: above the manifest in etcd, above every
 * generation a host reports, and above the last this administrator
 * pushed, so a manifest an attacker replayed into etcd cannot pull the
 * counter back below what hosts applied (they would refuse it all).
 */
static uint64_t
next_generation(const struct admin *a)
{
	uint64_t g = a->have_man ? a->man.generation : 0;
	struct iam_buf t = IAM_BUF_INIT;
	unsigned long long mine = 0;
	char path[4096];

	for (size_t i = 0; i < a->cur.n; i++) {
		struct iam_json_doc *doc = NULL;
		const struct iam_json *v;

		if (strncmp(a->cur.v[i].key, "status/", 7) != 0 ||
		    iam_json_parse(a->cur.v[i].val, a->cur.v[i].len,
				   &status_limits, &doc, NULL, 0) < 0)
			continue;
		v = iam_json_get(iam_json_root(doc), "generation");
		if (v != NULL && v->type == IAM_JSON_NUMBER && v->u.number.is_int &&
		    v->u.number.i > 0 && (uint64_t)v->u.number.i > g)
			g = (uint64_t)v->u.number.i;
		iam_json_free(doc);
	}
	if (iam_snprintf(path, sizeof(path), "%s/pushed",
			 a->cfg->fleet.state_dir) == 0 &&
	    iam_read_strict(path, IAM_STRICT_SECRET, 64, &t, NULL, 0) == 0 &&
	    sscanf(t.buf, "generation %llu", &mine) == 1 && mine > g)
		g = mine;
	iam_buf_release(&t);
	return g + 1;
}

/* Remember the generation this administrator pushed (fleet.state_dir). */
static void
save_pushed(const struct admin *a, uint64_t gen)
{
	char path[4096], text[64];
	int fd;

	fd = iam_ensure_dir(a->cfg->fleet.state_dir, 0700, 0, NULL, 0);
	if (fd < 0)
		return;
	close(fd);
	if (iam_snprintf(path, sizeof(path), "%s/pushed",
			 a->cfg->fleet.state_dir) == 0 &&
	    iam_snprintf(text, sizeof(text), "generation %" PRIu64 "\n", gen) == 0)
		iam_write_atomic(path, text, strlen(text), 0600);
}

/* Read the current state and judge it. */
static int
admin_read(struct admin *a)
{
	uint8_t root[FLEET_HASH_BYTES];
	uint64_t count;
	char err[256];
	int r;

	fleet_set_release(&a->cur);
	r = fleet_etcd_read_all(a->etcd, 0, admin_keeps, &a->cur, &a->rev);
	if (r < 0) {
		iamctl_err("fleet: %s", fleet_etcd_error(a->etcd));
		return EXIT_REFUSED;
	}
	a->mobj = fleet_set_find(&a->cur, "manifest");
	a->have_man = a->mobj != NULL &&
		      fleet_manifest_parse(a->mobj->val, a->mobj->len, &a->man,
					   err, sizeof(err)) == 0;
	fleet_root_hash(&a->cur, root, &count);
	a->verified = a->have_man &&
		      fleet_manifest_verify(&a->man, &a->ring) == 0 &&
		      memcmp(root, a->man.root, FLEET_HASH_BYTES) == 0 &&
		      count == a->man.count;
	return EXIT_OK;
}

static int
account_of(struct iamctl *ctl, struct iam_identity **ret_id, char account[13])
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_config *cfg = ctl->cfg;
	int r;

	r = iam_identity_load(cfg->identity_file, true, cfg, NULL, ret_id, &f);
	if (r < 0) {
		print_faults(cfg->identity_file, &f);
		iamctl_err("fleet: %s: not valid, nothing done",
			   cfg->identity_file);
		iam_faults_release(&f);
		return r == -ENOENT || r == -EACCES ? EXIT_USAGE : EXIT_REFUSED;
	}
	iam_faults_release(&f);
	memcpy(account, (*ret_id)->account.id, 13);
	if (cfg->fleet.account[0] != '\0' &&
	    strcmp(cfg->fleet.account, account) != 0) {
		iamctl_err("fleet: %s is account %s, fleet.account is %s",
			   cfg->identity_file, account, cfg->fleet.account);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/*
 * Open etcd and the trusted keys, refused unless root when root_cmd is
 * not NULL (need_root).  id (may be NULL): the validated identity file
 * decides the account; else fleet.account or the file's.  admin_close()
 * after, whatever it returned.
 */
static int
admin_open(struct iamctl *ctl, struct admin *a, struct iam_identity **id,
	   const char *root_cmd)
{
	struct iam_identity *tmp = NULL;
	char err[512];
	int rc;

	memset(a, 0, sizeof(*a));
	if (root_cmd != NULL && need_root(root_cmd) != EXIT_OK)
		return EXIT_REFUSED;
	a->cfg = iamctl_config(ctl);
	if (a->cfg == NULL)
		return EXIT_USAGE;
	if (fleet_crypto_init() < 0) {
		iamctl_err("fleet: libsodium cannot start");
		return EXIT_REFUSED;
	}
	if (id != NULL || a->cfg->fleet.account[0] == '\0') {
		rc = account_of(ctl, id ? id : &tmp, a->account);
		iam_identity_free(tmp);
		if (rc != EXIT_OK)
			return rc;
	} else {
		memcpy(a->account, a->cfg->fleet.account, 13);
	}
	if (fleet_keyring_load(a->cfg->fleet.trusted_keys, 0, &a->ring, err,
			       sizeof(err)) < 0) {
		iamctl_err("fleet: %s", err);
		return EXIT_REFUSED;
	}
	if (fleet_etcd_open(a->cfg, a->account, &a->etcd, err, sizeof(err)) < 0) {
		iamctl_err("fleet: %s", err);
		return EXIT_USAGE;
	}
	return admin_read(a);
}

/* ---- Writing a new signed state --------------------------------------- */

struct plan {
	struct fleet_op *ops;
	size_t n, alloc;
	size_t bytes;			/* keys + values written */
	size_t puts, dels;
};

static int
plan_add(struct plan *p, const char *key, const char *val, size_t len)
{
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 64;
		struct fleet_op *nv = reallocarray(p->ops, na, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		p->ops = nv;
		p->alloc = na;
	}
	p->ops[p->n++] = (struct fleet_op){ key, val, len, 0 };
	p->bytes += strlen(key) + (val ? len : 0);
	if (val)
		p->puts++;
	else
		p->dels++;
	return 0;
}

/* Operations that turn the covered keys of cur into want (both sorted). */
static int
plan_diff(const struct fleet_set *cur, const struct fleet_set *want,
	  struct plan *p)
{
	int r = 0;

	for (size_t i = 0; i < want->n && r == 0; i++) {
		const struct fleet_obj *o = fleet_set_find(cur, want->v[i].key);

		if (o == NULL || o->len != want->v[i].len ||
		    memcmp(o->val, want->v[i].val, o->len) != 0)
			r = plan_add(p, want->v[i].key, want->v[i].val,
				     want->v[i].len);
	}
	for (size_t i = 0; i < cur->n && r == 0; i++)
		if (fleet_key_covered(cur->v[i].key) &&
		    fleet_set_find(want, cur->v[i].key) == NULL)
			r = plan_add(p, cur->v[i].key, NULL, 0);
	return r;
}

static int
load_admin_key(const struct iam_config *cfg, uint8_t sk[FLEET_SK_BYTES])
{
	char err[512];

	if (fleet_secret_key_load(cfg->fleet.admin_key, 0, sk, err,
				  sizeof(err)) < 0) {
		iamctl_err("fleet: %s (run `iamctl fleet init` where "
			   "administrators push)", err);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Write the operations of p in transactions, then the manifest. */
static int
write_batches(struct admin *a, struct plan *p, const struct iam_buf *mtext,
	      int64_t *ret_txns)
{
	struct fleet_cmp cmps[2] = {
		{ "manifest", false, a->mobj ? a->mobj->mod_rev : 0 },
		{ LOCK_KEY, true, 0 },
	};
	int64_t lease = 0, lock_rev = 0;
	size_t start = 0, txns = 0;
	int r = 0;

	if (plan_add(p, "manifest", mtext->buf, mtext->len) < 0)
		return -ENOMEM;
	if (p->n > BATCH_OPS || p->bytes > BATCH_BYTES) {
		/* Several transactions: hold the push lock through them. */
		struct fleet_op lk = { LOCK_KEY, "push", 4, 0 };

		r = fleet_etcd_lease_grant(a->etcd, LOCK_TTL, &lease);
		lk.lease = lease;
		if (r == 0)
			r = fleet_etcd_txn(a->etcd, &cmps[1], 1, &lk, 1, &lock_rev);
		if (r < 0)
			goto out;
		cmps[1].rev = lock_rev;
	}
	while (start < p->n) {
		size_t end = start, bytes = 0;

		while (end < p->n && end - start < BATCH_OPS &&
		       (end == start || bytes + p->ops[end].len + 256 <= BATCH_BYTES))
			bytes += p->ops[end++].len + 256;
		r = fleet_etcd_txn(a->etcd, cmps, 2, p->ops + start, end - start,
				   NULL);
		txns++;
		if (r < 0)
			goto out;
		start = end;
	}
out:
	if (lease != 0)
		fleet_etcd_lease_revoke(a->etcd, lease);
	*ret_txns = (int64_t)txns;
	return r;
}

/*
 * Sign a manifest over want (sorted covered keys) with generation one
 * above the current and write the difference.  Prints what happened.
 */
static int
commit_state(struct admin *a, const struct fleet_set *want, const char *what)
{
	struct plan p = { 0 };
	struct iam_buf mtext = IAM_BUF_INIT;
	struct fleet_manifest m;
	uint8_t sk[FLEET_SK_BYTES];
	char gen[32], bytes[32];
	int64_t txns = 0;
	int rc, r;

	rc = load_admin_key(a->cfg, sk);
	if (rc != EXIT_OK)
		return rc;
	memset(&m, 0, sizeof(m));
	memcpy(m.account, a->account, 13);
	m.generation = next_generation(a);
	m.time = time(NULL);
	fleet_root_hash(want, m.root, &m.count);
	r = plan_diff(&a->cur, want, &p);
	if (r == 0 && p.n == 0 && a->verified) {
		printf("fleet: nothing to push: etcd holds generation %" PRIu64
		       " (%" PRIu64 " objects)\n", a->man.generation, a->man.count);
		free(p.ops);
		iam_wipe(sk, sizeof(sk));
		return EXIT_OK;
	}
	if (r == 0)
		r = fleet_manifest_sign(&m, sk);
	iam_wipe(sk, sizeof(sk));
	if (r == 0)
		r = fleet_manifest_format(&m, &mtext);
	if (r == 0)
		r = write_batches(a, &p, &mtext, &txns);
	if (r == -ECANCELED) {
		iamctl_err("fleet: %s: another push changed the fleet at the "
			   "same time (generation %" PRIu64 " is taken); nothing "
			   "of this push is signed: re-run it", what,
			   m.generation);
		rc = EXIT_REFUSED;
	} else if (r < 0) {
		iamctl_err("fleet: %s: %s", what, r == -ENOMEM ?
			   "out of memory" : fleet_etcd_error(a->etcd));
		rc = EXIT_REFUSED;
	} else {
		struct iam_event_param params[3] = {
			{ "account", a->account }, { "generation", gen },
			{ "bytes", bytes },
		};

		snprintf(gen, sizeof(gen), "%" PRIu64, m.generation);
		snprintf(bytes, sizeof(bytes), "%zu", p.bytes + mtext.len);
		printf("fleet: %s: generation %" PRIu64 " signed by %s: %zu "
		       "object(s) written, %zu removed, %zu bytes in %" PRId64
		       " transaction(s)\n", what, m.generation, m.key_id,
		       p.puts - 1, p.dels, p.bytes, txns);
		trail(a->cfg, "FleetPush", NULL, params, 3);
		save_pushed(a, m.generation);
		rc = EXIT_OK;
	}
	iam_buf_release(&mtext);
	free(p.ops);
	return rc;
}

/*
 * Host records are also kept by the administrator (fleet.state_dir/hosts/,
 * root 0700), so a writer to etcd without an admin key who deletes or
 * replays one cannot make the next push forget an enrolment or a
 * revocation: of two records of a host the newer signed one wins.
 */
static int
local_host_save(const struct admin *a, const struct fleet_host *h,
		const struct iam_buf *text)
{
	char path[4096];
	int fd, r;

	fd = iam_ensure_dir(a->cfg->fleet.state_dir, 0700, 0, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	r = iam_snprintf(path, sizeof(path), "%s/hosts", a->cfg->fleet.state_dir);
	if (r < 0)
		return r;
	fd = iam_ensure_dir(path, 0700, 0, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	r = iam_snprintf(path, sizeof(path), "%s/hosts/%s",
			 a->cfg->fleet.state_dir, h->name);
	if (r == 0)
		r = iam_write_atomic(path, text->buf, text->len, 0600);
	return r;
}

/* Keep the newer of o (a signed record) and what want holds for its key. */
static int
merge_host(const struct admin *a, struct fleet_set *want, const char *key,
	   const char *val, size_t len)
{
	const struct fleet_obj *have;
	struct fleet_host h, old;
	char err[128];

	if (fleet_host_parse(val, len, &h, err, sizeof(err)) < 0 ||
	    fleet_host_verify(&h, &a->ring) < 0 || strcmp(h.name, key + 6) != 0) {
		iamctl_err("fleet: %s: not signed by a trusted key; left out", key);
		return 0;
	}
	have = fleet_set_find(want, key);
	if (have != NULL &&
	    fleet_host_parse(have->val, have->len, &old, err, sizeof(err)) == 0 &&
	    (old.time > h.time || (old.time == h.time && old.revoked)))
		return 0;
	return fleet_set_put(want, key, val, len, 0);
}

/* The signed host records: etcd's and this administrator's own. */
static int
add_signed_hosts(const struct admin *a, struct fleet_set *want)
{
	char dir[4096], key[160];
	struct dirent *de;
	DIR *d;
	int r = 0;

	for (size_t i = 0; i < a->cur.n && r == 0; i++)
		if (strncmp(a->cur.v[i].key, "hosts/", 6) == 0)
			r = merge_host(a, want, a->cur.v[i].key, a->cur.v[i].val,
				       a->cur.v[i].len);
	if (r < 0 || iam_snprintf(dir, sizeof(dir), "%s/hosts",
				  a->cfg->fleet.state_dir) < 0)
		return r;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct iam_buf t = IAM_BUF_INIT;
		char path[4096 + 256];

		if (de->d_name[0] == '.' ||
		    iam_snprintf(key, sizeof(key), "hosts/%s", de->d_name) < 0 ||
		    iam_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
			continue;
		if (iam_read_strict(path, IAM_STRICT_SECRET, FLEET_MAX_MANIFEST,
				    &t, NULL, 0) == 0)
			r = merge_host(a, want, key, t.buf, t.len);
		iam_buf_release(&t);
	}
	closedir(d);
	return r;
}

/* ---- Commands ----------------------------------------------------------- */

static int
fleet_push(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_identity *id = NULL;
	struct fleet_set want = FLEET_SET_INIT;
	struct admin a;
	char err[512] = "";
	int rc;

	(void)argv;
	if (argc != 1) {
		iamctl_err("fleet push: takes no arguments");
		return EXIT_USAGE;
	}
	rc = admin_open(ctl, &a, &id, NULL);
	if (rc != EXIT_OK)
		goto out;
	if (a.mobj != NULL && !a.verified)
		fprintf(stderr, "iamctl: fleet push: the state in etcd does not "
			"match a trusted manifest; this push replaces it\n");
	if (fleet_split_identity(a.cfg, id, &want, err, sizeof(err)) < 0 ||
	    fleet_set_sort(&want) < 0 || add_signed_hosts(&a, &want) < 0) {
		iamctl_err("fleet push: %s: %s", a.cfg->identity_file,
			   err[0] ? err : "out of memory");
		rc = EXIT_REFUSED;
		goto out;
	}
	rc = commit_state(&a, &want, "push");
out:
	fleet_set_release(&want);
	iam_identity_free(id);
	admin_close(&a);
	return rc;
}

/* The current covered state, which must be trusted, as a new set. */
static int
trusted_copy(const struct admin *a, struct fleet_set *want)
{
	if (a->mobj != NULL && !a->verified) {
		iamctl_err("fleet: the state in etcd does not match a trusted "
			   "manifest: run `iamctl fleet push` first");
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < a->cur.n; i++)
		if (fleet_key_covered(a->cur.v[i].key) &&
		    fleet_set_add(want, a->cur.v[i].key, a->cur.v[i].val,
				  a->cur.v[i].len, 0) < 0)
			return EXIT_REFUSED;
	return EXIT_OK;
}

/*
 * Date and sign the host record h with the admin key, then write it: with
 * a new signed state, or alone before any push.
 */
static int
put_host(struct admin *a, struct fleet_host *h, const char *what)
{
	struct fleet_set want = FLEET_SET_INIT;
	struct iam_buf t = IAM_BUF_INIT, key = IAM_BUF_INIT;
	uint8_t sk[FLEET_SK_BYTES];
	int rc;

	h->time = time(NULL);
	rc = load_admin_key(a->cfg, sk);
	if (rc == EXIT_OK && fleet_host_sign(h, sk) < 0)
		rc = EXIT_REFUSED;
	iam_wipe(sk, sizeof(sk));
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_REFUSED;
	if (fleet_host_format(h, &t) < 0 ||
	    iam_buf_addf(&key, "hosts/%s", h->name) < 0)
		goto out;
	if (local_host_save(a, h, &t) < 0) {
		iamctl_err("fleet: %s: cannot keep the host record under %s",
			   what, a->cfg->fleet.state_dir);
		goto out;
	}
	if (a->mobj == NULL) {
		struct fleet_op op = { key.buf, t.buf, t.len, 0 };

		if (fleet_etcd_txn(a->etcd, NULL, 0, &op, 1, NULL) < 0)
			iamctl_err("fleet: %s: %s", what, fleet_etcd_error(a->etcd));
		else
			rc = EXIT_OK;
		goto out;
	}
	rc = trusted_copy(a, &want);
	if (rc == EXIT_OK &&
	    (fleet_set_sort(&want) < 0 || add_signed_hosts(a, &want) < 0 ||
	     fleet_set_put(&want, key.buf, t.buf, t.len, 0) < 0))
		rc = EXIT_REFUSED;
	if (rc == EXIT_OK)
		rc = commit_state(a, &want, what);
out:
	fleet_set_release(&want);
	iam_buf_release(&t);
	iam_buf_release(&key);
	return rc;
}

static int
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int r = iam_write_atomic(path, data, len, mode);

	if (r < 0)
		iamctl_err("fleet: %s: %s", path, strerror(-r));
	return r;
}

static int
ensure_dir(const char *path, mode_t mode)
{
	char err[512];
	int fd = iam_ensure_dir(path, mode, 0, err, sizeof(err));

	if (fd < 0) {
		iamctl_err("fleet: %s", err[0] ? err : strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

/* The configuration, for root only; NULL with *rc set and the reason printed. */
static struct iam_config *
root_config(struct iamctl *ctl, const char *cmd, int *rc)
{
	struct iam_config *cfg = iamctl_config(ctl);

	*rc = cfg == NULL ? EXIT_USAGE :
	      need_root(cmd) != EXIT_OK ? EXIT_REFUSED : EXIT_OK;
	return *rc == EXIT_OK ? cfg : NULL;
}

static int
fleet_init(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_buf t = IAM_BUF_INIT;
	struct iam_config *cfg;
	uint8_t pk[FLEET_PK_BYTES], sk[FLEET_SK_BYTES], fk[32];
	char id[FLEET_KEY_ID_LEN + 1], path[4096], host[256];
	bool force = argc == 2 && strcmp(argv[1], "--force") == 0;
	struct stat st;
	int r;

	if (argc > 2 || (argc == 2 && !force)) {
		iamctl_err("fleet init: usage: iamctl fleet init [--force]");
		return EXIT_USAGE;
	}
	cfg = root_config(ctl, "fleet init", &r);
	if (cfg == NULL)
		return r;
	if (fleet_crypto_init() < 0)
		return EXIT_REFUSED;
	if (lstat(cfg->fleet.admin_key, &st) == 0 && !force) {
		iamctl_err("fleet init: %s exists; --force makes a new key "
			   "(hosts then need its public half)", cfg->fleet.admin_key);
		return EXIT_REFUSED;
	}
	crypto_sign_keypair(pk, sk);
	fleet_key_id(pk, id);
	r = fleet_secret_key_format(sk, &t);
	iam_wipe(sk, sizeof(sk));
	if (r == 0)
		r = write_file(cfg->fleet.admin_key, t.buf, t.len, 0600);
	iam_buf_wipe(&t);
	if (r == 0)
		r = ensure_dir(cfg->fleet.trusted_keys, 0755);
	if (r == 0 && iam_config_hostname(cfg, host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "admin");
	if (r == 0)
		r = iam_snprintf(path, sizeof(path), "%s/%s.pub",
				 cfg->fleet.trusted_keys, id);
	if (r == 0)
		r = fleet_public_key_format(pk, host, &t);
	if (r == 0)
		r = write_file(path, t.buf, t.len, 0644);
	iam_buf_release(&t);
	if (r == 0 && lstat(cfg->fleet.fleet_key, &st) < 0) {
		randombytes_buf(fk, sizeof(fk));
		r = fleet_sealing_key_format(fk, &t);
		iam_wipe(fk, sizeof(fk));
		if (r == 0)
			r = write_file(cfg->fleet.fleet_key, t.buf, t.len, 0600);
		iam_buf_wipe(&t);
	}
	if (r < 0)
		return EXIT_REFUSED;
	printf("fleet: administrator key %s: secret in %s, public in %s\n",
	       id, cfg->fleet.admin_key, path);
	return EXIT_OK;
}

/* Copy every *.pub of the trusted keys into dir/trusted-keys/. */
static int
copy_trusted(const struct iam_config *cfg, const char *dir)
{
	char to[4096], from[4096], err[512];
	struct dirent *de;
	DIR *d;
	int r;

	r = iam_snprintf(to, sizeof(to), "%s/trusted-keys", dir);
	if (r == 0)
		r = ensure_dir(to, 0755);
	if (r < 0)
		return r;
	d = opendir(cfg->fleet.trusted_keys);
	if (d == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct iam_buf t = IAM_BUF_INIT;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n < 5 ||
		    strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		r = iam_snprintf(from, sizeof(from), "%s/%s",
				 cfg->fleet.trusted_keys, de->d_name);
		if (r == 0)
			r = iam_read_strict(from, 0, 512, &t, err, sizeof(err));
		if (r == 0)
			r = iam_snprintf(to, sizeof(to), "%s/trusted-keys/%s",
					 dir, de->d_name);
		if (r == 0)
			r = write_file(to, t.buf, t.len, 0644);
		iam_buf_release(&t);
	}
	closedir(d);
	return r;
}

/* Write t as the file dir/name. */
static int
write_in(const char *dir, const char *name, const struct iam_buf *t,
	 mode_t mode)
{
	char path[4096];
	int r = iam_snprintf(path, sizeof(path), "%s/%s", dir, name);

	return r < 0 ? r : write_file(path, t->buf, t->len, mode);
}

static int
write_host_files(const struct iam_config *cfg, const char *dir,
		 const uint8_t *pk, const uint8_t *sk, const char *name)
{
	struct iam_buf t = IAM_BUF_INIT;
	char err[512];
	int r;

	r = ensure_dir(dir, 0700);
	if (r == 0)
		r = fleet_secret_key_format(sk, &t);
	if (r == 0)
		r = write_in(dir, "host.key", &t, 0600);
	iam_buf_wipe(&t);
	if (r == 0)
		r = fleet_public_key_format(pk, name, &t);
	if (r == 0)
		r = write_in(dir, "host.pub", &t, 0644);
	iam_buf_release(&t);
	if (r == 0) {
		r = iam_read_strict(cfg->fleet.fleet_key, IAM_STRICT_SECRET, 512,
				    &t, err, sizeof(err));
		if (r < 0)
			iamctl_err("fleet: %s", err);
	}
	if (r == 0)
		r = write_in(dir, "fleet.key", &t, 0600);
	iam_buf_wipe(&t);
	if (r == 0)
		r = copy_trusted(cfg, dir);
	return r;
}

static int
fleet_enroll(struct iamctl *ctl, int argc, char **argv)
{
	uint8_t pk[FLEET_PK_BYTES], sk[FLEET_SK_BYTES];
	struct fleet_host h;
	const char *out = NULL;
	char err[256];
	struct admin a;
	int rc, r;

	for (int i = 2; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--out", &out) != 1) {
			out = NULL;
			break;
		}
	}
	if (argc < 2 || out == NULL || argv[1][0] == '-' ||
	    (argc != 4 && argc != 3)) {
		iamctl_err("fleet enroll-host: usage: iamctl fleet enroll-host "
			   "NAME --out DIR");
		return EXIT_USAGE;
	}
	memset(&h, 0, sizeof(h));
	if (iam_snprintf(h.name, sizeof(h.name), "%s", argv[1]) < 0 ||
	    iam_snprintf(err, sizeof(err), "hosts/%s", argv[1]) < 0 ||
	    fleet_key_check(err, err, sizeof(err)) < 0) {
		iamctl_err("fleet enroll-host: '%s': not a valid host name", argv[1]);
		return EXIT_USAGE;
	}
	rc = admin_open(ctl, &a, NULL, "fleet enroll-host");
	if (rc != EXIT_OK)
		goto out;
	crypto_sign_keypair(pk, sk);
	r = write_host_files(a.cfg, out, pk, sk, h.name);
	iam_wipe(sk, sizeof(sk));
	if (r < 0) {
		rc = EXIT_REFUSED;
		goto out;
	}
	memcpy(h.pk, pk, sizeof(pk));
	rc = put_host(&a, &h, "enroll-host");
	if (rc == EXIT_OK)
		printf("fleet: host %s enrolled; copy %s/host.key, fleet.key "
		       "and trusted-keys/ into that host's /etc/iam/\n", h.name,
		       out);
out:
	admin_close(&a);
	return rc;
}

static int
fleet_revoke(struct iamctl *ctl, int argc, char **argv)
{
	struct fleet_set known = FLEET_SET_INIT;
	const struct fleet_obj *o;
	struct fleet_host h;
	char key[160], err[256];
	struct admin a;
	int rc;

	if (argc != 2 || iam_snprintf(key, sizeof(key), "hosts/%s", argv[1]) < 0) {
		iamctl_err("fleet revoke-host: usage: iamctl fleet revoke-host NAME");
		return EXIT_USAGE;
	}
	rc = admin_open(ctl, &a, NULL, "fleet revoke-host");
	if (rc != EXIT_OK)
		goto out;
	if (add_signed_hosts(&a, &known) < 0) {
		rc = EXIT_REFUSED;
		goto out;
	}
	o = fleet_set_find(&known, key);
	if (o == NULL || fleet_host_parse(o->val, o->len, &h, err,
					  sizeof(err)) < 0) {
		iamctl_err("fleet revoke-host: no enrolled host '%s'", argv[1]);
		rc = EXIT_REFUSED;
		goto out;
	}
	h.revoked = true;
	rc = put_host(&a, &h, "revoke-host");
	if (rc == EXIT_OK)
		printf("fleet: host %s revoked\n", h.name);
out:
	fleet_set_release(&known);
	admin_close(&a);
	return rc;
}

static bool
keep_status(const char *rel)
{
	return strncmp(rel, "status/", 7) == 0 || strcmp(rel, "manifest") == 0;
}

static int
fleet_status(struct iamctl *ctl, int argc, char **argv)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct fleet_manifest m = { .generation = 0 };
	const struct fleet_obj *mo;
	struct admin a;
	size_t behind = 0, hosts = 0;
	int64_t rev;
	char err[256];
	int rc;

	(void)argv;
	if (argc != 1) {
		iamctl_err("fleet status: takes no arguments");
		return EXIT_USAGE;
	}
	rc = admin_open(ctl, &a, NULL, NULL);
	if (rc != EXIT_OK)
		goto out;
	if (fleet_etcd_read_all(a.etcd, 0, keep_status, &s, &rev) < 0) {
		iamctl_err("fleet status: %s", fleet_etcd_error(a.etcd));
		rc = EXIT_REFUSED;
		goto out;
	}
	mo = fleet_set_find(&s, "manifest");
	if (mo != NULL)
		fleet_manifest_parse(mo->val, mo->len, &m, err, sizeof(err));
	printf("etcd: generation %" PRIu64 "%s at revision %" PRId64 "\n",
	       m.generation, a.verified ? " (signed, trusted)" :
	       mo ? " (NOT matching a trusted manifest)" : " (no manifest)", rev);
	printf("%-24s %10s %-20s %s\n", "HOST", "GENERATION", "TIME", "STATE");
	for (size_t i = 0; i < s.n; i++) {
		struct iam_json_doc *doc = NULL;
		const struct iam_json *root, *g, *t, *st;
		char when[32] = "-";

		if (strncmp(s.v[i].key, "status/", 7) != 0 ||
		    iam_json_parse(s.v[i].val, s.v[i].len, &status_limits, &doc,
				   NULL, 0) < 0)
			continue;
		root = iam_json_root(doc);
		g = iam_json_get(root, "generation");
		t = iam_json_get(root, "time");
		st = iam_json_get(root, "state");
		if (t != NULL && t->type == IAM_JSON_NUMBER && t->u.number.is_int)
			iam_format_time(t->u.number.i, when, sizeof(when));
		hosts++;
		if (g == NULL || g->type != IAM_JSON_NUMBER ||
		    (uint64_t)g->u.number.i != m.generation)
			behind++;
		printf("%-24s %10s %-20s %s\n", s.v[i].key + 7,
		       g && g->type == IAM_JSON_NUMBER ? g->u.number.text : "?",
		       when, st && st->type == IAM_JSON_STRING ? st->u.string : "");
		iam_json_free(doc);
	}
	printf("%zu host(s), %zu not on generation %" PRIu64 "\n", hosts, behind,
	       m.generation);
out:
	fleet_set_release(&s);
	admin_close(&a);
	return rc;
}

static int
fleet_pull(struct iamctl *ctl, int argc, char **argv)
{
	struct fleet_host_ctx h;
	struct iam_config *cfg;
	char err[512], msg[1024];
	int r;

	if (argc != 2 || strcmp(argv[1], "--once") != 0) {
		iamctl_err("fleet pull: usage: iamctl fleet pull --once");
		return EXIT_USAGE;
	}
	cfg = root_config(ctl, "fleet pull", &r);
	if (cfg == NULL)
		return r;
	r = fleet_host_open(&h, cfg, "iamctl", err, sizeof(err));
	if (r < 0) {
		iamctl_err("fleet pull: %s", err);
		fleet_host_close(&h);
		return EXIT_REFUSED;
	}
	fleet_etcd_set_serializable(h.etcd, true);
	r = fleet_host_read(&h);
	if (r < 0) {
		iamctl_err("fleet pull: %s; keeping generation %" PRIu64,
			   fleet_etcd_error(h.etcd), h.applied_gen);
		fleet_host_close(&h);
		return EXIT_REFUSED;
	}
	r = fleet_host_evaluate(&h, false, msg, sizeof(msg));
	if (r >= 0)
		fleet_host_status(&h, r == 1 ? "applied" : "current");
	if (r >= 0 && fleet_creds_start(&h, err, sizeof(err)) == 0 &&
	    fleet_creds_sync(&h, true) > 0)
		iamctl_err("fleet pull: credential changes wait in %s/outbox",
			   cfg->fleet.state_dir);
	if (r >= 0)
		printf("fleet: %s\n", msg);
	else
		iamctl_err("fleet pull: %s", msg);
	fleet_host_close(&h);
	return r >= 0 ? EXIT_OK : EXIT_REFUSED;
}

static void
fleet_usage(FILE *f)
{
	fputs("usage: iamctl fleet init [--force]\n"
	      "       iamctl fleet enroll-host NAME --out DIR\n"
	      "       iamctl fleet revoke-host NAME\n"
	      "       iamctl fleet push\n"
	      "       iamctl fleet status\n"
	      "       iamctl fleet pull --once\n\n"
	      "One signed identity for many hosts through etcd; see iam-agent(8).\n",
	      f);
}

int
cmd_fleet(struct iamctl *ctl, int argc, char **argv)
{
	static const struct {
		const char *name;
		iamctl_cmd_fn *fn;
	} subs[] = {
		{ "init", fleet_init }, { "enroll-host", fleet_enroll },
		{ "revoke-host", fleet_revoke }, { "push", fleet_push },
		{ "status", fleet_status }, { "pull", fleet_pull },
	};

	if (argc < 2 || iamctl_wants_help(argc, argv)) {
		fleet_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(ctl, argc - 1, argv + 1);
	iamctl_err("fleet: unknown command '%s'", argv[1]);
	fleet_usage(stderr);
	return EXIT_USAGE;
}
