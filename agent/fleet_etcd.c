/*
 * fleet_etcd.c - etcd v3 through its JSON gateway over libcurl.
 *
 * The gateway speaks JSON with keys and values in base64 and 64-bit
 * numbers as strings, and leaves out every field at its zero value
 * ("succeeded": false, "more": false, "kvs": [] are simply absent).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fleet_etcd.h"

#define RESPONSE_MAX	(512u << 20)	/* one answer of the gateway */
#define PAGE_KEYS	1000		/* keys per range request */

struct fleet_etcd {
	const struct iam_fleet_config *fc;
	CURL *curl;
	CURL *wcurl[2];		/* the watch's own handles: requests go on */
	size_t cur;		/* endpoint that answered last */
	char *base;		/* PREFIX + ACCOUNT + "/" */
	char *token;		/* etcd auth token, or NULL */
	char *password;		/* etcd user's password, or NULL */
	bool serializable;
	char err[512];
};

struct body {
	struct iam_buf b;
	bool over;
};

static const struct iam_json_limits answer_limits = {
	.max_bytes = RESPONSE_MAX,
	.max_depth = 16,
	.max_string = 3u << 20,		/* base64 of FLEET_MAX_OBJECT */
	.max_items = 1000000,
};

static void __attribute__((format(printf, 2, 3)))
seterr(struct fleet_etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
}

const char *
fleet_etcd_error(const struct fleet_etcd *e)
{
	return e->err;
}

void
fleet_etcd_set_serializable(struct fleet_etcd *e, bool on)
{
	e->serializable = on;
}

static size_t
collect_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	if (b->b.len + n > RESPONSE_MAX) {
		b->over = true;
		return 0;
	}
	if (iam_buf_add(&b->b, p, n) < 0)
		return 0;
	return size * n;
}

static int
read_password_file(struct fleet_etcd *e)
{
	struct iam_buf t = IAM_BUF_INIT;
	int r;

	if (e->fc->user[0] == '\0')
		return 0;
	r = iam_read_strict(e->fc->password_file, IAM_STRICT_SECRET, 1024, &t,
			    e->err, sizeof(e->err));
	if (r < 0)
		return r;
	while (t.len > 0 && (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == '\r'))
		t.buf[--t.len] = '\0';
	e->password = iam_buf_detach(&t, NULL);
	return 0;
}

int
fleet_etcd_open(const struct iam_config *cfg, const char *account,
		struct fleet_etcd **ret, char *err, size_t errlen)
{
	struct fleet_etcd *e;
	struct iam_buf base = IAM_BUF_INIT;
	int r;

	if (cfg->fleet.n_endpoints == 0) {
		snprintf(err, errlen, "%s: fleet.endpoints is empty: this host "
			 "is not in a fleet", cfg->path ? cfg->path : "iam.conf");
		return -ENOTCONN;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = calloc(1, sizeof(*e));
	if (e == NULL || iam_buf_addf(&base, "%s%s/", cfg->fleet.prefix,
				      account) < 0) {
		free(e);
		iam_buf_release(&base);
		return -ENOMEM;
	}
	e->fc = &cfg->fleet;
	e->base = iam_buf_detach(&base, NULL);
	e->curl = curl_easy_init();
	e->wcurl[0] = curl_easy_init();
	e->wcurl[1] = curl_easy_init();
	r = e->curl == NULL || e->wcurl[0] == NULL || e->wcurl[1] == NULL ?
	    -ENOMEM : read_password_file(e);
	if (r < 0) {
		snprintf(err, errlen, "%s", e->err[0] ? e->err : strerror(-r));
		fleet_etcd_close(e);
		return r;
	}
	*ret = e;
	return 0;
}

struct fleet_etcd *
fleet_etcd_close(struct fleet_etcd *e)
{
	if (e == NULL)
		return NULL;
	if (e->curl != NULL)
		curl_easy_cleanup(e->curl);
	for (size_t i = 0; i < 2; i++)
		if (e->wcurl[i] != NULL)
			curl_easy_cleanup(e->wcurl[i]);
	free(e->base);
	free(e->token);
	e->password = iam_drop_string(e->password);
	free(e);
	return NULL;
}

/* TLS and timeouts of one request to endpoint i. */
static int
setup_request(struct fleet_etcd *e, CURL *c, size_t i, const char *path,
	const char *body, struct curl_slist **hdrs, long timeout_ms)
{
	char url[512];

	if (iam_snprintf(url, sizeof(url), "%s%s", e->fc->endpoints[i], path) < 0)
		return -ENAMETOOLONG;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->fc->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, e->fc->ca_file);
	if (e->fc->cert_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->fc->cert_file);
	if (e->fc->key_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->fc->key_file);
	*hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->token != NULL) {
		char h[600];

		if (iam_snprintf(h, sizeof(h), "Authorization: %s", e->token) < 0)
			return -ENAMETOOLONG;
		*hdrs = curl_slist_append(*hdrs, h);
	}
	if (*hdrs == NULL)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return 0;
}

/*
 * Send body to path on one endpoint after the other, starting with the
 * last that answered.  A member without quorum or unreachable passes the
 * request on; an answer of etcd (even an error) ends the search.
 */
static int
post_raw(struct fleet_etcd *e, const char *path, const char *body,
	 struct iam_buf *out, long *ret_status)
{
	size_t n = e->fc->n_endpoints;
	CURLcode cc = CURLE_OK;

	for (size_t k = 0; k < n; k++) {
		size_t i = (e->cur + k) % n;
		struct curl_slist *hdrs = NULL;
		struct body b = { IAM_BUF_INIT, false };
		long status = 0;
		int r;

		r = setup_request(e, e->curl, i, path, body, &hdrs, 5000);
		if (r < 0) {
			curl_slist_free_all(hdrs);
			return r;
		}
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(e->curl);
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hdrs);
		if (cc == CURLE_OK && status != 503 && b.b.buf != NULL &&
		    strstr(b.b.buf, "no leader") == NULL &&
		    strstr(b.b.buf, "request timed out") == NULL) {
			e->cur = i;
			*out = b.b;
			*ret_status = status;
			return 0;
		}
		if (b.over) {
			iam_buf_release(&b.b);
			seterr(e, "%s%s: answer larger than %u bytes",
			       e->fc->endpoints[i], path, RESPONSE_MAX);
			return -EPROTO;
		}
		seterr(e, "%s: %s", e->fc->endpoints[i],
		       cc != CURLE_OK ? curl_easy_strerror(cc) :
		       b.b.buf ? b.b.buf : "no answer");
		iam_buf_release(&b.b);
	}
	{
		char last[sizeof(e->err)];

		memcpy(last, e->err, sizeof(last));
		seterr(e, "no etcd member answered with a quorum (last: %.400s)",
		       last);
	}
	return -EHOSTUNREACH;
}

static int
authenticate(struct fleet_etcd *e)
{
	struct iam_buf body = IAM_BUF_INIT, out = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *tok;
	long status = 0;
	int r;

	free(e->token);
	e->token = NULL;
	r = iam_buf_adds(&body, "{\"name\":");
	if (r == 0)
		r = fleet_json_string(&body, e->fc->user);
	if (r == 0)
		r = iam_buf_adds(&body, ",\"password\":");
	if (r == 0)
		r = fleet_json_string(&body, e->password);
	if (r == 0)
		r = iam_buf_adds(&body, "}");
	if (r == 0)
		r = post_raw(e, "/v3/auth/authenticate", body.buf, &out, &status);
	iam_buf_wipe(&body);
	if (r < 0)
		return r;
	if (iam_json_parse(out.buf, out.len, NULL, &doc, NULL, 0) < 0 ||
	    (tok = iam_json_get(iam_json_root(doc), "token")) == NULL ||
	    tok->type != IAM_JSON_STRING || tok->len > 500) {
		seterr(e, "etcd refused user \"%s\": %.200s", e->fc->user,
		       out.buf ? out.buf : "");
		r = -EACCES;
	} else {
		e->token = strdup(tok->u.string);
		r = e->token ? 0 : -ENOMEM;
	}
	iam_json_free(doc);
	iam_buf_release(&out);
	return r;
}

/* POST and parse; an etcd error is -EIO (-ESTALE when compacted). */
static int
post(struct fleet_etcd *e, const char *path, const char *body,
     struct iam_json_doc **ret)
{
	struct iam_buf out = IAM_BUF_INIT;
	const struct iam_json *msg;
	long status = 0;
	char why[256];
	int r;

	if (e->password != NULL && e->token == NULL) {
		r = authenticate(e);
		if (r < 0)
			return r;
	}
	r = post_raw(e, path, body, &out, &status);
	if (r == 0 && out.buf != NULL && e->password != NULL &&
	    strstr(out.buf, "invalid auth token") != NULL) {
		iam_buf_release(&out);
		r = authenticate(e);
		if (r == 0)
			r = post_raw(e, path, body, &out, &status);
	}
	if (r < 0)
		return r;
	why[0] = '\0';
	r = iam_json_parse(out.buf ? out.buf : "", out.len, &answer_limits, ret,
			   why, sizeof(why));
	if (r < 0) {
		seterr(e, "%s: not etcd's JSON: %s", path, why);
		iam_buf_release(&out);
		return -EPROTO;
	}
	msg = iam_json_get(iam_json_root(*ret), "message");
	if (status != 200 || msg != NULL) {
		seterr(e, "%s: etcd: %.300s", path, msg && msg->type ==
		       IAM_JSON_STRING ? msg->u.string : out.buf);
		r = strstr(e->err, "compacted") ? -ESTALE :
		    strstr(e->err, "permission denied") ? -EACCES : -EIO;
		*ret = iam_json_free(*ret);
	}
	iam_buf_release(&out);
	return r;
}

/*
 * post() of a body built in b, when building it went well (r is 0); b is
 * wiped and released either way.
 */
static int
post_built(struct fleet_etcd *e, const char *path, struct iam_buf *b, int r,
	   struct iam_json_doc **ret)
{
	if (r == 0)
		r = post(e, path, b->buf, ret);
	iam_buf_wipe(b);
	return r;
}

/* A 64-bit number the gateway wrote as a string (or a number); 0 absent. */
static int64_t
json_int64(const struct iam_json *v)
{
	long long x = 0;

	if (v == NULL)
		return 0;
	if (v->type == IAM_JSON_NUMBER && v->u.number.is_int)
		return v->u.number.i;
	if (v->type == IAM_JSON_STRING &&
	    iam_parse_ll(v->u.string, INT64_MIN, INT64_MAX, &x) == 0)
		return x;
	return 0;
}

/* The revision in an answer's header (0 when it has none). */
static int64_t
header_revision(const struct iam_json *answer)
{
	return json_int64(iam_json_get(iam_json_get(answer, "header"),
				       "revision"));
}

static int
add_b64(struct iam_buf *b, const char *s, size_t n)
{
	return fleet_b64_encode(s, n, b);
}

/* base64 of base + rel (+ one byte above for a range end when end). */
static int
add_key(struct fleet_etcd *e, struct iam_buf *b, const char *rel, bool end)
{
	struct iam_buf k = IAM_BUF_INIT;
	int r = iam_buf_addf(&k, "%s%s", e->base, rel);

	if (r == 0 && end)
		k.buf[k.len - 1]++;
	if (r == 0)
		r = add_b64(b, k.buf, k.len);
	iam_buf_release(&k);
	return r;
}

/* Decode a kv into a relative key and value; -EPROTO when foreign. */
static int
decode_kv(struct fleet_etcd *e, const struct iam_json *kv, struct iam_buf *key,
	  struct iam_buf *val)
{
	const struct iam_json *k = iam_json_get(kv, "key");
	const struct iam_json *v = iam_json_get(kv, "value");
	size_t bl = strlen(e->base);

	if (k == NULL || k->type != IAM_JSON_STRING ||
	    fleet_b64_decode(k->u.string, k->len, key) < 0 ||
	    key->len <= bl || strncmp(key->buf, e->base, bl) != 0 ||
	    strlen(key->buf) != key->len)
		return -EPROTO;
	if (v != NULL && (v->type != IAM_JSON_STRING ||
			  fleet_b64_decode(v->u.string, v->len, val) < 0))
		return -EPROTO;
	return 0;
}

static int
read_page(struct fleet_etcd *e, const char *from_abs, size_t from_len,
	  int64_t rev,
	  bool (*keep)(const char *), struct fleet_set *out, int64_t *ret_rev,
	  struct iam_buf *next)
{
	struct iam_buf body = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root, *kvs;
	int r;

	r = iam_buf_adds(&body, "{\"key\":\"");
	if (r == 0)
		r = add_b64(&body, from_abs, from_len);
	if (r == 0)
		r = iam_buf_adds(&body, "\",\"range_end\":\"");
	if (r == 0)
		r = add_key(e, &body, "", true);
	if (r == 0)
		r = iam_buf_addf(&body, "\",\"limit\":%d,\"revision\":\"%" PRId64
				 "\",\"serializable\":%s}", PAGE_KEYS, rev,
				 e->serializable ? "true" : "false");
	r = post_built(e, "/v3/kv/range", &body, r, &doc);
	if (r < 0)
		return r;
	root = iam_json_root(doc);
	*ret_rev = header_revision(root);
	kvs = iam_json_get(root, "kvs");
	iam_buf_release(next);
	for (size_t i = 0; kvs != NULL && i < kvs->len && r == 0; i++) {
		struct iam_buf k = IAM_BUF_INIT, v = IAM_BUF_INIT;
		const struct iam_json *kv = &kvs->u.items[i];

		r = decode_kv(e, kv, &k, &v);
		if (r == 0 && (keep == NULL || keep(k.buf + strlen(e->base))))
			r = fleet_set_add(out, k.buf + strlen(e->base),
					  v.buf ? v.buf : "", v.len,
					  json_int64(iam_json_get(kv, "mod_revision")));
		if (r == 0 && i + 1 == kvs->len &&
		    iam_json_get(root, "more") != NULL) {
			/* The next page starts just after this key. */
			r = iam_buf_add(next, k.buf, k.len + 1);
		}
		iam_buf_release(&k);
		iam_buf_wipe(&v);
	}
	if (r == -EPROTO)
		seterr(e, "/v3/kv/range: a key or value that is not base64 "
		       "under %s", e->base);
	iam_json_free(doc);
	return r;
}

int
fleet_etcd_read_all(struct fleet_etcd *e, int64_t rev,
		    bool (*keep)(const char *rel), struct fleet_set *out,
		    int64_t *ret_rev)
{
	struct iam_buf from = IAM_BUF_INIT, next = IAM_BUF_INIT;
	int64_t at = rev, got = 0;
	int r;

	r = iam_buf_adds(&from, e->base);
	while (r == 0) {
		r = read_page(e, from.buf, from.len, at, keep, out, &got, &next);
		if (r < 0)
			break;
		if (at == 0)
			at = got;	/* every further page at this revision */
		if (next.len == 0)
			break;
		/* The last key and a NUL byte: the smallest key after it. */
		iam_buf_release(&from);
		r = iam_buf_add(&from, next.buf, next.len);
	}
	iam_buf_release(&from);
	iam_buf_release(&next);
	if (r == 0 && fleet_set_sort(out) < 0) {
		seterr(e, "/v3/kv/range: a key came twice under %s", e->base);
		r = -EPROTO;
	}
	if (r == 0)
		*ret_rev = at;
	return r;
}

static int
add_ops(struct fleet_etcd *e, struct iam_buf *b, const struct fleet_op *ops,
	size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		r = iam_buf_adds(b, i ? ",{" : "{");
		if (r == 0)
			r = iam_buf_adds(b, ops[i].val ? "\"request_put\":{\"key\":\"" :
					 "\"request_delete_range\":{\"key\":\"");
		if (r == 0)
			r = add_key(e, b, ops[i].key, false);
		if (r == 0 && ops[i].val != NULL) {
			r = iam_buf_adds(b, "\",\"value\":\"");
			if (r == 0)
				r = add_b64(b, ops[i].val, ops[i].len);
			if (r == 0 && ops[i].lease != 0)
				r = iam_buf_addf(b, "\",\"lease\":\"%" PRId64,
						 ops[i].lease);
		}
		if (r == 0)
			r = iam_buf_adds(b, "\"}}");
	}
	return r;
}

int
fleet_etcd_txn(struct fleet_etcd *e, const struct fleet_cmp *cmps,
	       size_t n_cmps, const struct fleet_op *ops, size_t n_ops,
	       int64_t *ret_rev)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	int r;

	r = iam_buf_adds(&b, "{\"compare\":[");
	for (size_t i = 0; i < n_cmps && r == 0; i++) {
		r = iam_buf_adds(&b, i ? ",{\"key\":\"" : "{\"key\":\"");
		if (r == 0)
			r = add_key(e, &b, cmps[i].key, false);
		if (r == 0)
			r = iam_buf_addf(&b, "\",\"target\":\"%s\",\"result\":"
					 "\"EQUAL\",\"%s\":\"%" PRId64 "\"}",
					 cmps[i].create ? "CREATE" : "MOD",
					 cmps[i].create ? "create_revision" :
					 "mod_revision", cmps[i].rev);
	}
	if (r == 0)
		r = iam_buf_adds(&b, "],\"success\":[");
	if (r == 0)
		r = add_ops(e, &b, ops, n_ops);
	if (r == 0)
		r = iam_buf_adds(&b, "]}");
	r = post_built(e, "/v3/kv/txn", &b, r, &doc);
	if (r < 0)
		return r;
	root = iam_json_root(doc);
	if (iam_json_get(root, "succeeded") == NULL && n_cmps > 0) {
		seterr(e, "the compare on \"%s\" failed", cmps[0].key);
		r = -ECANCELED;
	}
	if (ret_rev != NULL)
		*ret_rev = header_revision(root);
	iam_json_free(doc);
	return r;
}

/*
 * POST {"field":"n"} to a lease endpoint; with key, the number at
 * key of the answer (below its member in, when in is not NULL) in *ret.
 */
static int
lease_call(struct fleet_etcd *e, const char *path, const char *field,
	   int64_t n, const char *in, const char *key, int64_t *ret)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *at;
	char body[64];
	int r;

	snprintf(body, sizeof(body), "{\"%s\":\"%" PRId64 "\"}", field, n);
	r = post(e, path, body, &doc);
	if (r == 0 && key != NULL) {
		at = iam_json_root(doc);
		if (in != NULL)
			at = iam_json_get(at, in);
		*ret = json_int64(iam_json_get(at, key));
	}
	iam_json_free(doc);
	return r;
}

int
fleet_etcd_lease_grant(struct fleet_etcd *e, int64_t ttl, int64_t *ret_id)
{
	int64_t id;
	int r;

	r = lease_call(e, "/v3/lease/grant", "TTL", ttl, NULL, "ID", &id);
	if (r < 0)
		return r;
	if (id == 0) {
		seterr(e, "/v3/lease/grant: no lease id");
		return -EPROTO;
	}
	*ret_id = id;
	return 0;
}

int
fleet_etcd_lease_keepalive(struct fleet_etcd *e, int64_t id)
{
	int64_t ttl;
	int r;

	/* The stream's first answer; a lease that expired has no TTL. */
	r = lease_call(e, "/v3/lease/keepalive", "ID", id, "result", "TTL",
		       &ttl);
	if (r < 0)
		return r;
	return ttl > 0 ? 0 : -ENOENT;
}

int
fleet_etcd_lease_revoke(struct fleet_etcd *e, int64_t id)
{
	return lease_call(e, "/v3/lease/revoke", "ID", id, NULL, NULL, NULL);
}

/* ---- Watch ----------------------------------------------------------------- */

struct watch {
	struct fleet_etcd *e;
	struct iam_buf line;
	int (*on_events)(void *, const struct fleet_event *, size_t, int64_t);
	int (*tick)(void *);
	void *ctx;
	int64_t compacted;
	bool stop, created;
	int r;
};

static int
watch_events(struct watch *w, const struct iam_json *res)
{
	const struct iam_json *evs = iam_json_get(res, "events");
	int64_t rev = header_revision(res);
	struct fleet_event *v = NULL;
	struct iam_buf *keys = NULL, *vals = NULL;
	size_t n = evs ? evs->len : 0, bl = strlen(w->e->base);
	int r = 0;

	if (n > 0) {
		v = calloc(n, sizeof(*v));
		keys = calloc(n, sizeof(*keys));
		vals = calloc(n, sizeof(*vals));
		if (v == NULL || keys == NULL || vals == NULL)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct iam_json *ev = &evs->u.items[i];
		const struct iam_json *kv = iam_json_get(ev, "kv");
		const struct iam_json *type = iam_json_get(ev, "type");
		bool del = type != NULL && type->type == IAM_JSON_STRING &&
			   strcmp(type->u.string, "DELETE") == 0;

		r = decode_kv(w->e, kv, &keys[i], &vals[i]);
		v[i].key = r == 0 ? keys[i].buf + bl : NULL;
		v[i].val = del ? NULL : vals[i].buf ? vals[i].buf : "";
		v[i].len = vals[i].len;
		v[i].mod_rev = json_int64(iam_json_get(kv, "mod_revision"));
	}
	if (r == 0 && w->on_events(w->ctx, v, n, rev) != 0)
		w->stop = true;
	for (size_t i = 0; i < n && keys && vals; i++) {
		iam_buf_release(&keys[i]);
		iam_buf_wipe(&vals[i]);
	}
	free(v);
	free(keys);
	free(vals);
	return r;
}

static void
watch_line(struct watch *w, const char *text, size_t len)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *res;

	if (iam_json_parse(text, len, &answer_limits, &doc, NULL, 0) < 0) {
		seterr(w->e, "/v3/watch: not etcd's JSON: %.120s", text);
		w->r = -EPROTO;
		w->stop = true;
		return;
	}
	res = iam_json_get(iam_json_root(doc), "result");
	if (res == NULL) {
		seterr(w->e, "/v3/watch: %.300s", text);
		w->r = strstr(text, "compacted") ? -ESTALE : -EIO;
		w->stop = true;
	} else if (json_int64(iam_json_get(res, "compact_revision")) > 0) {
		w->compacted = json_int64(iam_json_get(res,
							"compact_revision"));
		seterr(w->e, "/v3/watch: revision compacted (now %" PRId64 ")",
		       w->compacted);
		w->r = -ESTALE;
		w->stop = true;
	} else if (iam_json_get(res, "canceled") != NULL) {
		seterr(w->e, "/v3/watch: canceled: %.300s", text);
		w->r = -EIO;
		w->stop = true;
	} else {
		if (iam_json_get(res, "created") != NULL)
			w->created = true;
		w->r = watch_events(w, res);
		if (w->r < 0)
			w->stop = true;
	}
	iam_json_free(doc);
}

static size_t
watch_data(char *p, size_t size, size_t n, void *arg)
{
	struct watch *w = arg;
	char *nl;

	if (w->line.len + n > RESPONSE_MAX || iam_buf_add(&w->line, p, n) < 0)
		return 0;
	while (!w->stop && w->line.len > 0 &&
	       (nl = memchr(w->line.buf, '\n', w->line.len)) != NULL) {
		size_t l = (size_t)(nl - w->line.buf);

		if (l > 0)
			watch_line(w, w->line.buf, l);
		memmove(w->line.buf, nl + 1, w->line.len - l - 1);
		w->line.len -= l + 1;
		w->line.buf[w->line.len] = '\0';
	}
	return w->stop ? 0 : size * n;
}

/*
 * Run the watch's two transfers with the multi interface, so that tick()
 * runs at least every 200 ms and at once when wake_fd (may be -1) is
 * readable.  Both end when one ends.
 */
static CURLcode
watch_run(struct watch *w, CURL **c, int wake_fd)
{
	struct curl_waitfd wfd = { wake_fd, CURL_WAIT_POLLIN, 0 };
	CURLcode cc = CURLE_OK;
	CURLM *m = curl_multi_init();
	int running = 2, q;
	CURLMsg *msg;

	if (m == NULL || curl_multi_add_handle(m, c[0]) != CURLM_OK ||
	    curl_multi_add_handle(m, c[1]) != CURLM_OK) {
		if (m != NULL) {
			curl_multi_remove_handle(m, c[0]);
			curl_multi_cleanup(m);
		}
		return CURLE_OUT_OF_MEMORY;
	}
	while (running == 2 && !w[0].stop && !w[1].stop) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running < 2 || w[0].stop || w[1].stop)
			break;
		curl_multi_poll(m, wake_fd >= 0 ? &wfd : NULL, wake_fd >= 0 ? 1 : 0,
				200, NULL);
		if (w[0].tick != NULL && w[0].tick(w[0].ctx) != 0)
			w[0].stop = true;
	}
	while ((msg = curl_multi_info_read(m, &q)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
			cc = msg->data.result;
	curl_multi_remove_handle(m, c[0]);
	curl_multi_remove_handle(m, c[1]);
	curl_multi_cleanup(m);
	return cc;
}

/* The create_request of one watched range of the base. */
static int
watch_body(struct fleet_etcd *e, struct iam_buf *body, const char *from,
	   const char *to, int64_t start_rev)
{
	int r = iam_buf_adds(body, "{\"create_request\":{\"key\":\"");

	if (r == 0)
		r = add_key(e, body, from, false);
	if (r == 0)
		r = iam_buf_adds(body, "\",\"range_end\":\"");
	if (r == 0)
		r = to != NULL ? add_key(e, body, to, false) : add_key(e, body, "", true);
	if (r == 0)
		r = iam_buf_addf(body, "\",\"start_revision\":\"%" PRId64 "\"}}",
				 start_rev);
	return r;
}

/*
 * The base is watched as two ranges that leave out status/: every host
 * writes its status there, and no host needs to hear of the others'.
 */
int
fleet_etcd_watch(struct fleet_etcd *e, int64_t start_rev,
		 int (*on_events)(void *ctx, const struct fleet_event *ev,
				  size_t n, int64_t rev),
		 int (*tick)(void *ctx), void *ctx, int wake_fd,
		 int64_t *ret_compacted)
{
	struct watch w[2];
	struct iam_buf body[2] = { IAM_BUF_INIT, IAM_BUF_INIT };
	size_t n = e->fc->n_endpoints;
	int r;

	for (size_t j = 0; j < 2; j++)
		w[j] = (struct watch){ .e = e, .line = IAM_BUF_INIT,
				       .on_events = on_events, .tick = tick,
				       .ctx = ctx };
	if (e->password != NULL && e->token == NULL && (r = authenticate(e)) < 0)
		return r;
	r = watch_body(e, &body[0], "", "status/", start_rev);
	if (r == 0)
		r = watch_body(e, &body[1], "status0", NULL, start_rev);
	for (size_t k = 0; r == 0 && k < n; k++) {
		size_t i = (e->cur + k) % n;
		struct curl_slist *hdrs[2] = { NULL, NULL };
		CURLcode cc = CURLE_OK;

		for (size_t j = 0; j < 2 && r == 0; j++) {
			r = setup_request(e, e->wcurl[j], i, "/v3/watch",
					  body[j].buf, &hdrs[j], 0);
			curl_easy_setopt(e->wcurl[j], CURLOPT_WRITEFUNCTION,
					 watch_data);
			curl_easy_setopt(e->wcurl[j], CURLOPT_WRITEDATA, &w[j]);
			curl_easy_setopt(e->wcurl[j], CURLOPT_TCP_KEEPALIVE, 1L);
		}
		if (r == 0)
			cc = watch_run(w, e->wcurl, wake_fd);
		curl_slist_free_all(hdrs[0]);
		curl_slist_free_all(hdrs[1]);
		if (r < 0)
			break;
		if ((w[0].created && w[1].created) || w[0].r < 0 || w[1].r < 0) {
			e->cur = i;
			break;	/* this member served the watch */
		}
		seterr(e, "%s/v3/watch: %s", e->fc->endpoints[i],
		       curl_easy_strerror(cc));
		if (k + 1 == n)
			r = -EHOSTUNREACH;
	}
	for (size_t j = 0; j < 2; j++) {
		iam_buf_release(&body[j]);
		iam_buf_release(&w[j].line);
		if (r == 0)
			r = w[j].r;
		if (ret_compacted != NULL && w[j].compacted > 0)
			*ret_compacted = w[j].compacted;
	}
	return r;
}
