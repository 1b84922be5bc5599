/*
 * fleet_sign.c - what makes a fleet state trustworthy: the manifest and
 * its Ed25519 signature, the trusted administrator keys, key files and
 * the signed records of enrolled hosts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fleet.h"

int
fleet_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

/* ---- Encoding ------------------------------------------------------------ */

int
fleet_b64_encode(const void *p, size_t n, struct iam_buf *out)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	int r = iam_buf_grow(out, len);

	if (r < 0)
		return r;
	sodium_bin2base64(out->buf + out->len, len, p, n,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += strlen(out->buf + out->len);
	return 0;
}

int
fleet_b64_decode(const char *s, size_t len, struct iam_buf *out)
{
	size_t max = len / 4 * 3 + 3, got = 0;
	const char *end = NULL;
	int r = iam_buf_grow(out, max);

	if (r < 0)
		return r;
	if (sodium_base642bin((unsigned char *)out->buf + out->len, max, s, len,
			      NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + len)
		return -EINVAL;
	out->len += got;
	out->buf[out->len] = '\0';
	return 0;
}

void
fleet_hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, p, n);
}

/* Decode exactly n bytes of base64 into dst. */
static int
b64_exact(const char *s, void *dst, size_t n)
{
	struct iam_buf b = IAM_BUF_INIT;
	int r = fleet_b64_decode(s, strlen(s), &b);

	if (r == 0 && b.len != n)
		r = -EINVAL;
	if (r == 0)
		memcpy(dst, b.buf, n);
	iam_buf_wipe(&b);
	return r;
}

static int
hex_exact(const char *s, uint8_t *dst, size_t n)
{
	size_t got = 0;
	const char *end = NULL;

	if (strlen(s) != n * 2 || strspn(s, "0123456789abcdef") != n * 2)
		return -EINVAL;
	if (sodium_hex2bin(dst, n, s, n * 2, NULL, &got, &end) != 0 || got != n)
		return -EINVAL;
	return 0;
}

void
fleet_key_id(const uint8_t pk[FLEET_PK_BYTES], char id[FLEET_KEY_ID_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pk, FLEET_PK_BYTES);
	fleet_hex(h, FLEET_KEY_ID_LEN / 2, id);
}

/* ---- Manifest ------------------------------------------------------------ */

static const struct fleet_trusted *
ring_find(const struct fleet_keyring *ring, const char *key_id)
{
	for (size_t i = 0; i < ring->n; i++)
		if (strcmp(ring->v[i].key_id, key_id) == 0)
			return &ring->v[i];
	return NULL;
}

/*
 * Sign msg (r: how building it went) with sk into sig, and name the key
 * in key_id; msg is released.  r.
 */
static int
sign_signed(const uint8_t sk[FLEET_SK_BYTES], char *key_id, uint8_t *sig,
	    struct iam_buf *msg, int r)
{
	uint8_t pk[FLEET_PK_BYTES];

	if (r == 0) {
		crypto_sign_ed25519_sk_to_pk(pk, sk);
		fleet_key_id(pk, key_id);
		crypto_sign_detached(sig, NULL, (const unsigned char *)msg->buf,
				     msg->len, sk);
	}
	iam_buf_release(msg);
	return r;
}

/*
 * Whether sig over msg (r: how building msg went) verifies with the
 * trusted key key_id: 0, -ENOKEY (not trusted), -EBADMSG or r; msg is
 * released.
 */
static int
verify_signed(const struct fleet_keyring *ring, const char *key_id,
	      const uint8_t *sig, struct iam_buf *msg, int r)
{
	const struct fleet_trusted *t = ring_find(ring, key_id);

	if (t == NULL)
		r = -ENOKEY;
	else if (r == 0 &&
		 crypto_sign_verify_detached(sig, (const unsigned char *)msg->buf,
					     msg->len, t->pk) != 0)
		r = -EBADMSG;
	iam_buf_release(msg);
	return r;
}

/* The bytes an administrator signs: every field but the signature. */
static int
manifest_signed(const struct fleet_manifest *m, struct iam_buf *out)
{
	char root[FLEET_HASH_BYTES * 2 + 1];

	fleet_hex(m->root, sizeof(m->root), root);
	return iam_buf_addf(out, "iam-fleet-manifest-v1\n%s\n%" PRIu64 "\n%"
			    PRId64 "\n%s\n%" PRIu64 "\n", m->account,
			    m->generation, m->time, root, m->count);
}

int
fleet_manifest_sign(struct fleet_manifest *m, const uint8_t sk[FLEET_SK_BYTES])
{
	struct iam_buf msg = IAM_BUF_INIT;

	return sign_signed(sk, m->key_id, m->sig, &msg, manifest_signed(m, &msg));
}

int
fleet_manifest_format(const struct fleet_manifest *m, struct iam_buf *out)
{
	char root[FLEET_HASH_BYTES * 2 + 1], when[32];
	int r;

	fleet_hex(m->root, sizeof(m->root), root);
	r = iam_format_time(m->time, when, sizeof(when));
	if (r < 0)
		return r;
	r = iam_buf_addf(out, "{\"format\":1,\"account\":\"%s\",\"generation\":%"
			 PRIu64 ",\"time\":%" PRId64 ",\"time_text\":\"%s\","
			 "\"root\":\"%s\",\"count\":%" PRIu64 ",\"key_id\":\"%s\","
			 "\"signature\":\"", m->account, m->generation, m->time,
			 when, root, m->count, m->key_id);
	if (r == 0)
		r = fleet_b64_encode(m->sig, sizeof(m->sig), out);
	if (r == 0)
		r = iam_buf_adds(out, "\"}");
	return r;
}

static const struct iam_json_limits small_limits = {
	.max_bytes = FLEET_MAX_MANIFEST,
	.max_depth = 2,
	.max_string = 512,
	.max_items = 16,
};

/* Member key of object o as a string, or NULL (reason in err). */
static const char *
member_string(const struct iam_json *o, const char *key, char *err,
	      size_t errlen)
{
	const struct iam_json *v = iam_json_get(o, key);

	if (v == NULL || v->type != IAM_JSON_STRING) {
		snprintf(err, errlen, "\"%s\": missing or not a string", key);
		return NULL;
	}
	return v->u.string;
}

static int
member_int(const struct iam_json *o, const char *key, int64_t min, int64_t max,
	   int64_t *ret, char *err, size_t errlen)
{
	const struct iam_json *v = iam_json_get(o, key);

	if (v == NULL || v->type != IAM_JSON_NUMBER || !v->u.number.is_int ||
	    v->u.number.i < min || v->u.number.i > max) {
		snprintf(err, errlen, "\"%s\": missing or not an integer in "
			 "%" PRId64 "-%" PRId64, key, min, max);
		return -EINVAL;
	}
	*ret = v->u.number.i;
	return 0;
}

/* Refuse any member not in allowed (a strict format, no extensions). */
static int
only_members(const struct iam_json *o, const char *const *allowed, size_t n,
	     char *err, size_t errlen)
{
	for (size_t i = 0; i < o->len; i++) {
		size_t k;

		for (k = 0; k < n; k++)
			if (strcmp(o->u.members[i].key, allowed[k]) == 0)
				break;
		if (k == n) {
			snprintf(err, errlen, "unknown member \"%s\"",
				 o->u.members[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

/* What fields() reads one small object into (a manifest, a host). */
union small_object {
	struct fleet_manifest manifest;
	struct fleet_host host;
};

/*
 * One small JSON object, its members read by fields() into out (size
 * bytes of one of union small_object), which stays as it was on failure.
 */
static int
parse_small(const char *text, size_t len,
	    int (*fields)(const struct iam_json *, union small_object *,
			  char *, size_t),
	    void *out, size_t size, char *err, size_t errlen)
{
	struct iam_json_doc *doc = NULL;
	union small_object tmp;
	int r;

	if (len > FLEET_MAX_MANIFEST) {
		snprintf(err, errlen, "%zu bytes, more than %u", len,
			 FLEET_MAX_MANIFEST);
		return -EINVAL;
	}
	if (iam_json_parse(text, len, &small_limits, &doc, err, errlen) < 0)
		return -EINVAL;
	memset(&tmp, 0, sizeof(tmp));
	if (iam_json_root(doc)->type != IAM_JSON_OBJECT) {
		snprintf(err, errlen, "not a JSON object");
		r = -EINVAL;
	} else {
		r = fields(iam_json_root(doc), &tmp, err, errlen);
	}
	iam_json_free(doc);
	if (r == 0)
		memcpy(out, &tmp, size);
	return r;
}

static int
manifest_fields(const struct iam_json *o, union small_object *u, char *err,
		size_t errlen)
{
	struct fleet_manifest *m = &u->manifest;
	static const char *const allowed[] = { "format", "account",
		"generation", "time", "time_text", "root", "count", "key_id",
		"signature" };
	const char *account, *root, *key_id, *sig;
	int64_t v;

	if (only_members(o, allowed, 9, err, errlen) < 0 ||
	    member_int(o, "format", 1, 1, &v, err, errlen) < 0 ||
	    member_int(o, "generation", 1, INT64_MAX, &v, err, errlen) < 0)
		return -EINVAL;
	m->generation = (uint64_t)v;
	if (member_int(o, "time", 0, 253402300799LL, &m->time, err, errlen) < 0 ||
	    member_int(o, "count", 0, FLEET_MAX_OBJECTS, &v, err, errlen) < 0 ||
	    member_string(o, "time_text", err, errlen) == NULL)
		return -EINVAL;
	m->count = (uint64_t)v;
	account = member_string(o, "account", err, errlen);
	root = member_string(o, "root", err, errlen);
	key_id = member_string(o, "key_id", err, errlen);
	sig = member_string(o, "signature", err, errlen);
	if (account == NULL || root == NULL || key_id == NULL || sig == NULL)
		return -EINVAL;
	if (strlen(account) != 12 || strspn(account, "0123456789") != 12) {
		snprintf(err, errlen, "\"account\": not 12 digits");
		return -EINVAL;
	}
	memcpy(m->account, account, 13);
	if (hex_exact(root, m->root, sizeof(m->root)) < 0) {
		snprintf(err, errlen, "\"root\": not 64 hex digits");
		return -EINVAL;
	}
	if (strlen(key_id) != FLEET_KEY_ID_LEN ||
	    strspn(key_id, "0123456789abcdef") != FLEET_KEY_ID_LEN) {
		snprintf(err, errlen, "\"key_id\": not 16 hex digits");
		return -EINVAL;
	}
	memcpy(m->key_id, key_id, FLEET_KEY_ID_LEN + 1);
	if (b64_exact(sig, m->sig, sizeof(m->sig)) < 0) {
		snprintf(err, errlen, "\"signature\": not 64 bytes of base64");
		return -EINVAL;
	}
	return 0;
}

int
fleet_manifest_parse(const char *text, size_t len, struct fleet_manifest *ret,
		     char *err, size_t errlen)
{
	return parse_small(text, len, manifest_fields, ret, sizeof(*ret), err,
			   errlen);
}

int
fleet_manifest_verify(const struct fleet_manifest *m,
		      const struct fleet_keyring *ring)
{
	struct iam_buf msg = IAM_BUF_INIT;

	return verify_signed(ring, m->key_id, m->sig, &msg, manifest_signed(m, &msg));
}

/* ---- Key files ----------------------------------------------------------- */

int
fleet_public_key_format(const uint8_t pk[FLEET_PK_BYTES], const char *comment,
			struct iam_buf *out)
{
	int r = iam_buf_adds(out, "iam-ed25519 ");

	if (r == 0)
		r = fleet_b64_encode(pk, FLEET_PK_BYTES, out);
	if (r == 0)
		r = iam_buf_addf(out, " %s\n", comment);
	return r;
}

int
fleet_public_key_parse(const char *text, size_t len, uint8_t pk[FLEET_PK_BYTES])
{
	char b64[64];
	size_t n;

	if (len > 512 || strlen(text) != len ||
	    strncmp(text, "iam-ed25519 ", 12) != 0)
		return -EINVAL;
	n = strcspn(text + 12, " \n");
	if (n >= sizeof(b64))
		return -EINVAL;
	memcpy(b64, text + 12, n);
	b64[n] = '\0';
	return b64_exact(b64, pk, FLEET_PK_BYTES);
}

int
fleet_secret_key_format(const uint8_t sk[FLEET_SK_BYTES], struct iam_buf *out)
{
	int r = iam_buf_adds(out, "iam-ed25519-secret ");

	if (r == 0)
		r = fleet_b64_encode(sk, FLEET_SK_BYTES, out);
	if (r == 0)
		r = iam_buf_adds(out, "\n");
	return r;
}

int
fleet_sealing_key_format(const uint8_t key[32], struct iam_buf *out)
{
	int r = iam_buf_adds(out, "iam-fleet-key ");

	if (r == 0)
		r = fleet_b64_encode(key, 32, out);
	if (r == 0)
		r = iam_buf_adds(out, "\n");
	return r;
}

int
fleet_secret_read(const char *path, int strict_flags, const char *prefix,
		  struct iam_buf *text, const char **ret_rest, char *err,
		  size_t errlen)
{
	size_t n;
	int r;

	r = iam_read_strict(path, strict_flags | IAM_STRICT_SECRET, 512, text,
			    err, errlen);
	if (r < 0)
		return r;
	n = text->len;
	while (n > 0 && text->buf[n - 1] == '\n')
		text->buf[--n] = '\0';
	text->len = n;
	*ret_rest = strncmp(text->buf, prefix, strlen(prefix)) == 0 ?
		    text->buf + strlen(prefix) : NULL;
	return 0;
}

int
fleet_secret_key_load(const char *path, int strict_flags,
		      uint8_t sk[FLEET_SK_BYTES], char *err, size_t errlen)
{
	struct iam_buf text = IAM_BUF_INIT;
	const char *b64;
	int r;

	r = fleet_secret_read(path, strict_flags, "iam-ed25519-secret ", &text,
			      &b64, err, errlen);
	if (r < 0)
		return r;
	if (b64 == NULL || b64_exact(b64, sk, FLEET_SK_BYTES) < 0) {
		snprintf(err, errlen, "%s: not an iam-ed25519-secret key", path);
		r = -EINVAL;
	}
	iam_buf_wipe(&text);
	return r;
}

/* ---- Trusted keys ------------------------------------------------------- */

static int
ring_add_file(const char *dir, const char *name, int strict_flags,
	      struct fleet_keyring *ring, char *err, size_t errlen)
{
	struct iam_buf text = IAM_BUF_INIT;
	struct fleet_trusted *t;
	char path[4096];
	int r;

	if (ring->n >= FLEET_MAX_TRUSTED) {
		snprintf(err, errlen, "%s: more than %d keys", dir,
			 FLEET_MAX_TRUSTED);
		return -E2BIG;
	}
	r = iam_snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (r < 0)
		return r;
	r = iam_read_strict(path, strict_flags, 512, &text, err, errlen);
	if (r < 0)
		return r;
	t = &ring->v[ring->n];
	if (fleet_public_key_parse(text.buf, text.len, t->pk) < 0) {
		snprintf(err, errlen, "%s: not an iam-ed25519 public key", path);
		r = -EINVAL;
	} else {
		fleet_key_id(t->pk, t->key_id);
		ring->n++;
	}
	iam_buf_release(&text);
	return r;
}

int
fleet_keyring_load(const char *dir, int strict_flags,
		   struct fleet_keyring *ring, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	ring->n = 0;
	fd = iam_open_strict(dir, strict_flags | IAM_STRICT_DIR, err, errlen);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (d == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		r = ring_add_file(dir, de->d_name, strict_flags, ring, err,
				  errlen);
	}
	closedir(d);
	return r;
}

/* ---- Enrolled hosts ------------------------------------------------------ */

static int
host_signed(const struct fleet_host *h, struct iam_buf *out)
{
	int r = iam_buf_addf(out, "iam-fleet-host-v1\n%s\n", h->name);

	if (r == 0)
		r = fleet_b64_encode(h->pk, sizeof(h->pk), out);
	if (r == 0)
		r = iam_buf_addf(out, "\n%s\n%" PRId64 "\n",
				 h->revoked ? "revoked" : "enrolled", h->time);
	return r;
}

int
fleet_host_format(const struct fleet_host *h, struct iam_buf *out)
{
	int r = iam_buf_addf(out, "{\"host\":\"%s\",\"public_key\":\"", h->name);

	if (r == 0)
		r = fleet_b64_encode(h->pk, sizeof(h->pk), out);
	if (r == 0)
		r = iam_buf_addf(out, "\",\"state\":\"%s\",\"time\":%" PRId64
				 ",\"key_id\":\"%s\",\"signature\":\"",
				 h->revoked ? "revoked" : "enrolled", h->time,
				 h->key_id);
	if (r == 0)
		r = fleet_b64_encode(h->sig, sizeof(h->sig), out);
	if (r == 0)
		r = iam_buf_adds(out, "\"}");
	return r;
}

int
fleet_host_sign(struct fleet_host *h, const uint8_t sk[FLEET_SK_BYTES])
{
	struct iam_buf msg = IAM_BUF_INIT;

	return sign_signed(sk, h->key_id, h->sig, &msg, host_signed(h, &msg));
}

static int
host_fields(const struct iam_json *o, union small_object *u, char *err,
	    size_t errlen)
{
	struct fleet_host *h = &u->host;
	static const char *const allowed[] = { "host", "public_key", "state",
		"time", "key_id", "signature" };
	const char *name, *pk, *state, *key_id, *sig;

	if (only_members(o, allowed, 6, err, errlen) < 0 ||
	    member_int(o, "time", 0, 253402300799LL, &h->time, err, errlen) < 0)
		return -EINVAL;
	name = member_string(o, "host", err, errlen);
	pk = member_string(o, "public_key", err, errlen);
	state = member_string(o, "state", err, errlen);
	key_id = member_string(o, "key_id", err, errlen);
	sig = member_string(o, "signature", err, errlen);
	if (name == NULL || pk == NULL || state == NULL || key_id == NULL ||
	    sig == NULL)
		return -EINVAL;
	if (strlen(name) >= sizeof(h->name) || strlen(key_id) != FLEET_KEY_ID_LEN ||
	    b64_exact(pk, h->pk, sizeof(h->pk)) < 0 ||
	    b64_exact(sig, h->sig, sizeof(h->sig)) < 0 ||
	    (strcmp(state, "revoked") != 0 && strcmp(state, "enrolled") != 0)) {
		snprintf(err, errlen, "malformed host record");
		return -EINVAL;
	}
	memcpy(h->name, name, strlen(name) + 1);
	memcpy(h->key_id, key_id, FLEET_KEY_ID_LEN + 1);
	h->revoked = strcmp(state, "revoked") == 0;
	return 0;
}

int
fleet_host_verify(const struct fleet_host *h, const struct fleet_keyring *ring)
{
	struct iam_buf msg = IAM_BUF_INIT;

	return verify_signed(ring, h->key_id, h->sig, &msg, host_signed(h, &msg));
}

int
fleet_host_parse(const char *text, size_t len, struct fleet_host *ret,
		 char *err, size_t errlen)
{
	return parse_small(text, len, host_fields, ret, sizeof(*ret), err,
			   errlen);
}
