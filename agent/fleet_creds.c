/*
 * fleet_creds.c - credentials that follow the user.
 *
 * A password changed with passwd, an MFA device enrolled: the host's
 * credential file (credentials_dir/UID.json) changes.  The agent notices
 * (inotify, and a full scan when it starts), seals the file with the
 * fleet key, signs it with the host key and queues the record in its
 * outbox (fleet.state_dir/outbox/UID, surviving restarts and outages)
 * until etcd has it as credentials/UID.  Every other host applies a
 * record only from an enrolled, unrevoked host of its last trusted
 * state, when the signature verifies and the record is newer than what
 * it has; the file is then replaced and published under the store's lock
 * (restored byte for byte when publishing refuses it).
 *
 * Known versions: fleet.state_dir/creds/UID holds the change time and
 * the SHA-256 of the file as last pushed or applied, so an applied record
 * is never sent back, and an older record never replaces a newer one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fleet_host.h"

#define CRED_MAX_FILE	(64u << 10)	/* one user's credential file */
#define CRED_MAX_RECORD	(128u << 10)

/* ---- Records ------------------------------------------------------------ */

static int
cred_signed(uint32_t uid, const char *host, int64_t time, const char *sealed_b64,
	    struct iam_buf *out)
{
	return iam_buf_addf(out, "iam-fleet-cred-v1\n%" PRIu32 "\n%s\n%" PRId64
			    "\n%s\n", uid, host, time, sealed_b64);
}

int
fleet_cred_make(const uint8_t sk[FLEET_SK_BYTES], const uint8_t key[32],
		uint32_t uid, const char *host, int64_t time, const char *plain,
		size_t len, struct iam_buf *out)
{
	struct iam_buf box = IAM_BUF_INIT, b64 = IAM_BUF_INIT, msg = IAM_BUF_INIT;
	uint8_t sig[FLEET_SIG_BYTES];
	size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	int r;

	r = iam_buf_grow(&box, n);
	if (r < 0)
		return r;
	randombytes_buf(box.buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy((unsigned char *)box.buf + crypto_secretbox_NONCEBYTES,
			      (const unsigned char *)plain, len,
			      (const unsigned char *)box.buf, key);
	box.len = n;
	r = fleet_b64_encode(box.buf, box.len, &b64);
	if (r == 0)
		r = cred_signed(uid, host, time, b64.buf, &msg);
	if (r == 0) {
		crypto_sign_detached(sig, NULL, (const unsigned char *)msg.buf,
				     msg.len, sk);
		r = iam_buf_addf(out, "{\"uid\":%" PRIu32 ",\"host\":\"%s\","
				 "\"time\":%" PRId64 ",\"sealed\":\"%s\","
				 "\"signature\":\"", uid, host, time, b64.buf);
	}
	if (r == 0)
		r = fleet_b64_encode(sig, sizeof(sig), out);
	if (r == 0)
		r = iam_buf_adds(out, "\"}");
	iam_buf_release(&box);
	iam_buf_release(&b64);
	iam_buf_release(&msg);
	return r;
}

static const struct iam_json_limits cred_limits = {
	.max_bytes = CRED_MAX_RECORD,
	.max_depth = 2,
	.max_string = CRED_MAX_RECORD,
	.max_items = 8,
};

static int
cred_fields(const struct iam_json *o, struct fleet_cred *c, char *err,
	    size_t errlen)
{
	const struct iam_json *uid = iam_json_get(o, "uid");
	const struct iam_json *host = iam_json_get(o, "host");
	const struct iam_json *t = iam_json_get(o, "time");
	const struct iam_json *sealed = iam_json_get(o, "sealed");
	const struct iam_json *sig = iam_json_get(o, "signature");
	struct iam_buf s = IAM_BUF_INIT;

	if (o->type != IAM_JSON_OBJECT || o->len != 5 || uid == NULL ||
	    uid->type != IAM_JSON_NUMBER || !uid->u.number.is_int ||
	    uid->u.number.i < 0 || uid->u.number.i > UINT32_MAX ||
	    host == NULL || host->type != IAM_JSON_STRING || host->len == 0 ||
	    host->len >= sizeof(c->host) || t == NULL ||
	    t->type != IAM_JSON_NUMBER || !t->u.number.is_int ||
	    t->u.number.i <= 0 || sealed == NULL ||
	    sealed->type != IAM_JSON_STRING || sig == NULL ||
	    sig->type != IAM_JSON_STRING) {
		snprintf(err, errlen, "not a credential record");
		return -EINVAL;
	}
	c->uid = (uint32_t)uid->u.number.i;
	memcpy(c->host, host->u.string, host->len + 1);
	c->time = t->u.number.i;
	if (fleet_b64_decode(sealed->u.string, sealed->len, &c->sealed) < 0 ||
	    c->sealed.len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    fleet_b64_decode(sig->u.string, sig->len, &s) < 0 ||
	    s.len != FLEET_SIG_BYTES) {
		iam_buf_release(&s);
		snprintf(err, errlen, "credential record: bad base64");
		return -EINVAL;
	}
	memcpy(c->sig, s.buf, FLEET_SIG_BYTES);
	iam_buf_release(&s);
	return 0;
}

int
fleet_cred_parse(const char *text, size_t len, struct fleet_cred *ret,
		 char *err, size_t errlen)
{
	struct iam_json_doc *doc = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (iam_json_parse(text, len, &cred_limits, &doc, err, errlen) < 0)
		return -EINVAL;
	r = cred_fields(iam_json_root(doc), ret, err, errlen);
	iam_json_free(doc);
	if (r < 0)
		fleet_cred_release(ret);
	return r;
}

int
fleet_cred_verify(const struct fleet_cred *c, const uint8_t pk[FLEET_PK_BYTES])
{
	struct iam_buf b64 = IAM_BUF_INIT, msg = IAM_BUF_INIT;
	int r;

	r = fleet_b64_encode(c->sealed.buf, c->sealed.len, &b64);
	if (r == 0)
		r = cred_signed(c->uid, c->host, c->time, b64.buf, &msg);
	if (r == 0 && crypto_sign_verify_detached(c->sig,
						  (const unsigned char *)msg.buf,
						  msg.len, pk) != 0)
		r = -EBADMSG;
	iam_buf_release(&b64);
	iam_buf_release(&msg);
	return r;
}

int
fleet_cred_open(const struct fleet_cred *c, const uint8_t key[32],
		struct iam_buf *out)
{
	size_t n = c->sealed.len - crypto_secretbox_NONCEBYTES -
		   crypto_secretbox_MACBYTES;
	int r = iam_buf_grow(out, n);

	if (r < 0)
		return r;
	if (crypto_secretbox_open_easy((unsigned char *)out->buf,
				       (const unsigned char *)c->sealed.buf +
				       crypto_secretbox_NONCEBYTES,
				       c->sealed.len - crypto_secretbox_NONCEBYTES,
				       (const unsigned char *)c->sealed.buf,
				       key) != 0)
		return -EBADMSG;
	out->len = n;
	out->buf[n] = '\0';
	return 0;
}

void
fleet_cred_release(struct fleet_cred *c)
{
	iam_buf_release(&c->sealed);
}

/* ---- Local state ---------------------------------------------------------- */

static int
sub_path(const struct fleet_host_ctx *h, const char *sub, uint32_t uid,
	 char *buf, size_t len)
{
	return iam_snprintf(buf, len, "%s/%s/%" PRIu32, h->cfg->fleet.state_dir,
			    sub, uid);
}

static int
ensure_sub(const struct fleet_host_ctx *h, const char *sub)
{
	char path[4096];
	int fd;

	fd = iam_ensure_dir(h->cfg->fleet.state_dir, 0700, 0, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	if (iam_snprintf(path, sizeof(path), "%s/%s", h->cfg->fleet.state_dir,
			 sub) < 0)
		return -ENAMETOOLONG;
	fd = iam_ensure_dir(path, 0700, 0, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

struct known {
	int64_t time;
	char sha[65];
};

static int
known_load(const struct fleet_host_ctx *h, uint32_t uid, struct known *k)
{
	struct iam_buf t = IAM_BUF_INIT;
	char path[4096];
	long long tm;
	int r;

	memset(k, 0, sizeof(*k));
	r = sub_path(h, "creds", uid, path, sizeof(path));
	if (r == 0)
		r = iam_read_strict(path, IAM_STRICT_SECRET, 256, &t, NULL, 0);
	if (r == 0 && sscanf(t.buf, "time %lld\nsha %64[0-9a-f]", &tm, k->sha) == 2)
		k->time = tm;
	iam_buf_release(&t);
	return r;
}

static int
known_save(const struct fleet_host_ctx *h, uint32_t uid, int64_t time,
	   const char *plain, size_t len)
{
	uint8_t d[crypto_hash_sha256_BYTES];
	char path[4096], text[128], hex[65];
	int r;

	crypto_hash_sha256(d, (const unsigned char *)plain, len);
	fleet_hex(d, sizeof(d), hex);
	r = ensure_sub(h, "creds");
	if (r == 0)
		r = sub_path(h, "creds", uid, path, sizeof(path));
	if (r == 0)
		r = iam_snprintf(text, sizeof(text), "time %" PRId64 "\nsha %s\n",
				 time, hex);
	if (r == 0)
		r = iam_write_atomic(path, text, strlen(text), 0600);
	return r;
}

static void
sha_hex(const char *p, size_t n, char hex[65])
{
	uint8_t d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)p, n);
	fleet_hex(d, sizeof(d), hex);
}

/* ---- Trail ---------------------------------------------------------------- */

static void
trail_cred(struct fleet_host_ctx *h, const char *name, const char *code,
	   uint32_t uid, const char *from, const char *reason)
{
	char u[16];
	struct iam_event_param p[4] = {
		{ "host", h->hostname }, { "uid", u }, { "from", from },
		{ "reason", reason },
	};

	snprintf(u, sizeof(u), "%" PRIu32, uid);
	fleet_host_trail(h, name, code, reason, p);
}

/* ---- Starting ------------------------------------------------------------- */

static int
load_fleet_key(struct fleet_host_ctx *h, char *err, size_t errlen)
{
	struct iam_buf t = IAM_BUF_INIT, k = IAM_BUF_INIT;
	const char *b64;
	int r;

	r = fleet_secret_read(h->cfg->fleet.fleet_key, 0, "iam-fleet-key ", &t,
			      &b64, err, errlen);
	if (r < 0)
		return r;
	if (b64 == NULL || fleet_b64_decode(b64, t.len - 14, &k) < 0 ||
	    k.len != 32) {
		snprintf(err, errlen, "%s: not an iam-fleet-key",
			 h->cfg->fleet.fleet_key);
		r = -EINVAL;
	} else {
		memcpy(h->fleet_key, k.buf, 32);
		h->have_fleet_key = true;
	}
	iam_buf_wipe(&t);
	iam_buf_wipe(&k);
	return r;
}

static void
watch_dir(struct fleet_host_ctx *h)
{
	if (h->inotify < 0)
		h->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (h->inotify >= 0 &&
	    inotify_add_watch(h->inotify, h->cfg->credentials_dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		close(h->inotify);
		h->inotify = -1;
	}
}

int
fleet_creds_start(struct fleet_host_ctx *h, char *err, size_t errlen)
{
	int r;

	r = fleet_secret_key_load(h->cfg->fleet.host_key, 0, h->host_sk, err,
				  errlen);
	if (r == 0)
		h->have_host_key = true;
	else if (r != -ENOENT)
		return r;
	r = load_fleet_key(h, err, errlen);
	if (r < 0 && r != -ENOENT)
		return r;
	watch_dir(h);
	return 0;
}

/* ---- Local changes into the outbox ---------------------------------------- */

static int
local_change(struct fleet_host_ctx *h, uint32_t uid)
{
	struct iam_buf t = IAM_BUF_INIT, rec = IAM_BUF_INIT;
	char path[4096], hex[65];
	struct known k;
	struct stat st;
	int64_t time;
	int r;

	r = iam_snprintf(path, sizeof(path), "%s/%" PRIu32 ".json",
			 h->cfg->credentials_dir, uid);
	if (r == 0)
		r = iam_read_strict(path, IAM_STRICT_SECRET, CRED_MAX_FILE, &t,
				    NULL, 0);
	if (r == 0 && lstat(path, &st) < 0)
		r = -errno;
	if (r < 0)
		goto out;
	sha_hex(t.buf, t.len, hex);
	known_load(h, uid, &k);
	if (strcmp(k.sha, hex) == 0)
		goto out;	/* as pushed or applied: nothing new */
	time = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (time <= k.time)
		time = k.time + 1;
	r = fleet_cred_make(h->host_sk, h->fleet_key, uid, h->hostname, time,
			    t.buf, t.len, &rec);
	if (r == 0)
		r = ensure_sub(h, "outbox");
	if (r == 0)
		r = sub_path(h, "outbox", uid, path, sizeof(path));
	if (r == 0)
		r = iam_write_atomic(path, rec.buf, rec.len, 0600);
	if (r == 0)
		r = known_save(h, uid, time, t.buf, t.len);
out:
	iam_buf_wipe(&t);
	iam_buf_release(&rec);
	return r;
}

static bool
uid_of_name(const char *name, const char *suffix, uint32_t *uid)
{
	long long v;
	char num[16];
	size_t n = strlen(name), s = strlen(suffix);

	if (n <= s || n - s >= sizeof(num) || strcmp(name + n - s, suffix) != 0)
		return false;
	memcpy(num, name, n - s);
	num[n - s] = '\0';
	if (iam_parse_ll(num, 0, UINT32_MAX, &v) < 0)
		return false;
	*uid = (uint32_t)v;
	return true;
}

static void
scan_all(struct fleet_host_ctx *h)
{
	struct dirent *de;
	uint32_t uid;
	DIR *d = opendir(h->cfg->credentials_dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (uid_of_name(de->d_name, ".json", &uid))
			local_change(h, uid);
	closedir(d);
}

static void
scan_notified(struct fleet_host_ctx *h)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(h->inotify, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			uint32_t uid;

			if (ev->len > 0 && uid_of_name(ev->name, ".json", &uid))
				local_change(h, uid);
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* ---- The outbox to etcd ------------------------------------------------------- */

static int
flush_one(struct fleet_host_ctx *h, uint32_t uid)
{
	struct iam_buf t = IAM_BUF_INIT;
	struct fleet_cred mine, theirs;
	const struct fleet_obj *o;
	char path[4096], key[32], err[128];
	struct fleet_cmp cmp;
	struct fleet_op op;
	int r;

	r = sub_path(h, "outbox", uid, path, sizeof(path));
	if (r == 0)
		r = iam_read_strict(path, IAM_STRICT_SECRET, CRED_MAX_RECORD, &t,
				    NULL, 0);
	if (r < 0)
		return r;
	if (fleet_cred_parse(t.buf, t.len, &mine, err, sizeof(err)) < 0) {
		unlink(path);	/* unreadable: nothing to send */
		iam_buf_release(&t);
		return 0;
	}
	snprintf(key, sizeof(key), "credentials/%" PRIu32, uid);
	o = fleet_set_find(&h->set, key);
	cmp = (struct fleet_cmp){ key, false, o ? o->mod_rev : 0 };
	if (o != NULL &&
	    fleet_cred_parse(o->val, o->len, &theirs, err, sizeof(err)) == 0) {
		bool newer = theirs.time >= mine.time;

		fleet_cred_release(&theirs);
		if (newer) {
			/* A newer change made elsewhere wins; it is applied. */
			unlink(path);
			goto out;
		}
	}
	op = (struct fleet_op){ key, t.buf, t.len, 0 };
	r = fleet_etcd_txn(h->etcd, &cmp, 1, &op, 1, NULL);
	if (r == 0)
		unlink(path);
	else if (r == -ECANCELED)
		r = 1;	/* etcd moved on; the watch brings the news, retry */
out:
	fleet_cred_release(&mine);
	iam_buf_release(&t);
	return r;
}

static int
flush_outbox(struct fleet_host_ctx *h)
{
	struct dirent *de;
	char dir[4096];
	uint32_t uid;
	int left = 0, r;
	DIR *d;

	if (iam_snprintf(dir, sizeof(dir), "%s/outbox", h->cfg->fleet.state_dir) < 0)
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!uid_of_name(de->d_name, "", &uid))
			continue;
		r = flush_one(h, uid);
		if (r != 0)
			left++;
		if (r < 0 && r != -ENOENT)
			break;	/* etcd unreachable: keep them all */
	}
	closedir(d);
	return left;
}

/* ---- Records from other hosts --------------------------------------------------- */

static int
cred_reject(struct fleet_host_ctx *h, const struct fleet_cred *c,
	    const char *code, const char *why)
{
	char line[512];

	snprintf(line, sizeof(line), "credentials/%" PRIu32 " from %s: %s",
		 c->uid, c->host, why);
	if (strcmp(h->last_reject, line) != 0) {
		trail_cred(h, "FleetReject", code, c->uid, c->host, line);
		snprintf(h->last_reject, sizeof(h->last_reject), "%s", line);
	}
	return -EPERM;
}

/* The host's public key from the last trusted state, or why not. */
static const char *
host_key_of(const struct fleet_host_ctx *h, const char *name, uint8_t *pk,
	    const char **code)
{
	struct fleet_host rec;
	const struct fleet_obj *o;
	char key[160], err[128];

	*code = "UnknownHost";
	if (iam_snprintf(key, sizeof(key), "hosts/%s", name) < 0 ||
	    (o = fleet_set_find(&h->hosts, key)) == NULL)
		return "not an enrolled host";
	if (fleet_host_parse(o->val, o->len, &rec, err, sizeof(err)) < 0 ||
	    fleet_host_verify(&rec, &h->ring) < 0 || strcmp(rec.name, name) != 0)
		return "its host record is not signed by a trusted key";
	if (rec.revoked) {
		*code = "RevokedHost";
		return "the host is revoked";
	}
	memcpy(pk, rec.pk, FLEET_PK_BYTES);
	return NULL;
}

/*
 * Spent stays spent: a recovery code of the set in c that this host's
 * record (mine) has spent is marked spent in c too.  Records are
 * last-writer-wins, so two hosts spending two codes of one set at once
 * would otherwise each undo the other's spend fleet-wide.  The merged
 * file differs from the record applied, so the agent sends it on as a
 * change of this host's, and the fleet converges on the union.  1 when
 * c was changed, 0 when not, -ENOMEM.
 */
static int
keep_spent(struct iam_creds *c, const struct iam_creds *mine)
{
	int changed = 0;

	if (mine == NULL)
		return 0;
	for (size_t i = 0; i < c->n_recovery; i++) {
		const char *code = c->recovery[i];

		if (code[0] == IAM_RECOVERY_SPENT)
			continue;
		for (size_t j = 0; j < mine->n_recovery; j++) {
			const char *m = mine->recovery[j];
			char *spent;

			if (m[0] != IAM_RECOVERY_SPENT || strcmp(m + 1, code) != 0)
				continue;
			spent = strdup(m);
			if (spent == NULL)
				return -ENOMEM;
			free(c->recovery[i]);
			c->recovery[i] = spent;
			changed = 1;
			break;
		}
	}
	return changed;
}

/*
 * Replace the credential file and publish; restore it when refused.
 * Recovery codes spent here stay spent (keep_spent()).
 */
static int
install_creds(struct fleet_host_ctx *h, uint32_t uid, const struct iam_buf *plain)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_creds *c = NULL, *mine = NULL;
	struct iam_buf old = IAM_BUF_INIT;
	char path[4096];
	int lock, had, r;

	r = iam_snprintf(path, sizeof(path), "%s/%" PRIu32 ".json",
			 h->cfg->credentials_dir, uid);
	if (r < 0)
		return r;
	lock = iam_store_lock(h->cfg);
	if (lock < 0)
		return lock;
	had = iam_read_strict(path, IAM_STRICT_SECRET, CRED_MAX_FILE, &old, NULL, 0);
	if (had == 0 && iam_creds_load(h->cfg, uid, &mine, NULL) < 0)
		mine = NULL;	/* unreadable here: the record replaces it */
	r = iam_write_atomic(path, plain->buf, plain->len, 0600);
	if (r == 0)
		r = iam_creds_load(h->cfg, uid, &c, &f);
	if (r == 0) {
		r = keep_spent(c, mine);
		if (r > 0)
			r = iam_creds_save(h->cfg, c);
	}
	iam_creds_free(c);
	iam_creds_free(mine);
	if (r == 0)
		r = iam_publish_locked(h->cfg, NULL, &f);
	if (r < 0) {
		if (had == 0)
			iam_write_atomic(path, old.buf, old.len, 0600);
		else
			unlink(path);
		r = -EINVAL;
	}
	iam_faults_release(&f);
	iam_buf_wipe(&old);
	iam_store_unlock(lock);
	return r;
}

int
fleet_creds_apply(struct fleet_host_ctx *h, const char *key)
{
	const struct fleet_obj *o = fleet_set_find(&h->set, key);
	struct iam_buf plain = IAM_BUF_INIT;
	uint8_t pk[FLEET_PK_BYTES];
	const char *why, *code;
	struct fleet_cred c;
	struct known k;
	char err[128];
	uint32_t uid;
	int r;

	if (o == NULL || !uid_of_name(key + 12, "", &uid))
		return 0;
	if (fleet_cred_parse(o->val, o->len, &c, err, sizeof(err)) < 0 ||
	    c.uid != uid) {
		struct fleet_cred bad = { .uid = uid };

		snprintf(bad.host, sizeof(bad.host), "?");
		return cred_reject(h, &bad, "MalformedCredential", err);
	}
	r = 0;
	known_load(h, uid, &k);
	if (strcmp(c.host, h->hostname) == 0 || c.time <= k.time)
		goto out;	/* ours, or not newer than what we have */
	if (!h->have_fleet_key) {
		r = cred_reject(h, &c, "NoFleetKey", "this host has no fleet key");
		goto out;
	}
	why = host_key_of(h, c.host, pk, &code);
	if (why != NULL) {
		r = cred_reject(h, &c, code, why);
		goto out;
	}
	if (fleet_cred_verify(&c, pk) < 0) {
		r = cred_reject(h, &c, "BadSignature", "the signature does not verify");
		goto out;
	}
	if (fleet_cred_open(&c, h->fleet_key, &plain) < 0) {
		r = cred_reject(h, &c, "BadSeal", "not sealed with the fleet key");
		goto out;
	}
	r = install_creds(h, uid, &plain);
	if (r < 0 && r != -EINVAL) {
		char msg[160];

		/* not the record's fault (the store's lock, memory): again */
		fprintf(stderr, "credential record of uid %" PRIu32 " from %s "
			"not applied yet: %s\n", uid, c.host, r == -ETIMEDOUT ?
			iam_store_lock_strerror(h->cfg, r, msg, sizeof(msg)) :
			strerror(-r));
		h->creds_retry = true;
		goto out;
	}
	if (r < 0) {
		r = cred_reject(h, &c, "InvalidCredentials",
				"refused by validation or publishing");
		goto out;
	}
	known_save(h, uid, c.time, plain.buf, plain.len);
	trail_cred(h, "FleetApply", NULL, uid, c.host, NULL);
	r = 1;
out:
	iam_buf_wipe(&plain);
	fleet_cred_release(&c);
	return r;
}

int
fleet_creds_sync(struct fleet_host_ctx *h, bool full)
{
	if (h->have_host_key && h->have_fleet_key) {
		if (h->inotify < 0)
			watch_dir(h);
		if (full || h->inotify < 0)
			scan_all(h);
		else
			scan_notified(h);
	}
	/* a record that waited for the store's lock is tried again */
	if (h->creds_retry && !full) {
		h->creds_retry = false;
		full = true;
	}
	if (full)
		for (size_t i = 0; i < h->set.n; i++)
			if (strncmp(h->set.v[i].key, "credentials/", 12) == 0)
				fleet_creds_apply(h, h->set.v[i].key);
	return flush_outbox(h);
}
