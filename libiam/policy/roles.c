/*
 * roles.c - roles on a host: the private role snapshot, the checks of
 * sts:AssumeRole, the request context of a role session and the role
 * session records under run_dir/roles.
 *
 * A role session record is only ever believed when it is exactly what
 * the setuid helper writes: a regular root-owned 0600 file with one
 * link, in a root 0700 folder, whose every field parses, whose key field
 * names the file, of the asking uid, of this boot, and not yet expired
 * on CLOCK_BOOTTIME.  Anything else is as if there were no session, so
 * a failure can only ever take the role's rights away.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam/roles.h"
#include "util_int.h"

#define SESSION_MAGIC	"IAMROLE1"
#define RECORD_MAX	2048
#define BOOT_ID_FILE	"/proc/sys/kernel/random/boot_id"
#define ROLESDB_MAGIC	IAM_ROLESDB_MAGIC

/* ---- The role snapshot: building -------------------------------------- */

static int
put_counted_string(struct iam_buf *b, const char *s)
{
	struct iam_json v = { .type = IAM_JSON_STRING, .len = strlen(s) };

	v.u.string = s;
	return iam_json_write(&v, b);
}

/* Managed policies sorted by name, for lookups while building. */
struct by_name {
	const struct iam_named_policy **v;
	size_t n;
};

static int
cmp_policy(const void *a, const void *b)
{
	const struct iam_named_policy *x = *(const struct iam_named_policy *const *)a;
	const struct iam_named_policy *y = *(const struct iam_named_policy *const *)b;

	return strcmp(x->name, y->name);
}

static int
by_name_build(struct by_name *x, const struct iam_identity *id)
{
	x->n = 0;
	x->v = calloc(id->n_policies ? id->n_policies : 1, sizeof(*x->v));
	if (x->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < id->n_policies; i++)
		if (id->policies[i].name != NULL)
			x->v[x->n++] = &id->policies[i];
	qsort(x->v, x->n, sizeof(*x->v), cmp_policy);
	return 0;
}

static const struct iam_named_policy *
by_name_find(const struct by_name *x, const char *name)
{
	struct iam_named_policy key = { .name = name };
	const struct iam_named_policy *k = &key, *const *hit;

	hit = bsearch(&k, x->v, x->n, sizeof(*x->v), cmp_policy);
	return hit != NULL ? *hit : NULL;
}

static int
add_role(struct iam_buf *b, const struct by_name *pols,
	 const struct iam_role *role)
{
	int r;

	if (role->name == NULL || role->trust_policy.doc == NULL)
		return -EINVAL;
	r = iam_buf_adds(b, "{\"name\":");
	r = r ? r : put_counted_string(b, role->name);
	r = r ? r : iam_buf_addf(b, ",\"max_session_seconds\":%" PRIu32
				 ",\"tags\":{", role->max_session_seconds);
	for (size_t i = 0; r == 0 && i < role->tags.n; i++) {
		r = i ? iam_buf_adds(b, ",") : 0;
		r = r ? r : put_counted_string(b, role->tags.v[i].key);
		r = r ? r : iam_buf_adds(b, ":");
		r = r ? r : put_counted_string(b, role->tags.v[i].value);
	}
	r = r ? r : iam_buf_adds(b, "},\"trust_policy\":");
	r = r ? r : iam_json_write(role->trust_policy.doc, b);
	r = r ? r : iam_buf_adds(b, ",\"policies\":[");
	for (size_t i = 0; r == 0 && i < role->n_policies; i++) {
		const struct iam_named_policy *p;

		p = by_name_find(pols, role->policies[i]);
		if (p == NULL || p->doc == NULL)
			return -EINVAL;
		r = i ? iam_buf_adds(b, ",") : 0;
		r = r ? r : iam_buf_adds(b, "{\"name\":");
		r = r ? r : put_counted_string(b, p->name);
		r = r ? r : iam_buf_adds(b, ",\"document\":");
		r = r ? r : iam_json_write(p->doc, b);
		r = r ? r : iam_buf_adds(b, "}");
	}
	return r ? r : iam_buf_adds(b, "]}");
}

static int
cmp_role(const void *a, const void *b)
{
	const struct iam_role *x = *(const struct iam_role *const *)a;
	const struct iam_role *y = *(const struct iam_role *const *)b;

	return strcmp(x->name, y->name);
}

int
iam_rolesdb_build(const struct iam_identity *id, uint64_t generation,
		  struct iam_buf *out)
{
	const struct iam_role **sorted;
	struct by_name pols;
	int r;

	if (id == NULL || out == NULL || id->account.id == NULL ||
	    strpbrk(id->account.id, " \t\n") != NULL)
		return -EINVAL;
	sorted = calloc(id->n_roles ? id->n_roles : 1, sizeof(*sorted));
	if (sorted == NULL)
		return -ENOMEM;
	r = by_name_build(&pols, id);
	if (r < 0) {
		free(sorted);
		return r;
	}
	for (size_t i = 0; i < id->n_roles; i++) {
		sorted[i] = &id->roles[i];
		if (sorted[i]->name == NULL)
			r = -EINVAL;
	}
	if (r == 0)
		qsort(sorted, id->n_roles, sizeof(*sorted), cmp_role);
	r = r ? r : iam_buf_addf(out, ROLESDB_MAGIC " %" PRIu64 " %s %zu\n",
				 generation, id->account.id, id->n_roles);
	/* One line a role, sorted by name: "NAME<TAB>JSON". */
	for (size_t i = 0; r == 0 && i < id->n_roles; i++) {
		r = iam_buf_addf(out, "%s\t", sorted[i]->name);
		r = r ? r : add_role(out, &pols, sorted[i]);
		r = r ? r : iam_buf_adds(out, "\n");
	}
	free(pols.v);
	free(sorted);
	return r;
}

/* ---- The role snapshot: reading --------------------------------------- */

struct iam_role_rec *
iam_role_rec_free(struct iam_role_rec *role)
{
	if (role == NULL)
		return NULL;
	iam_policy_set_free(role->set);
	iam_policy_set_free(role->trust_set);
	for (size_t i = 0; i < role->n_policies; i++)
		iam_policy_free(role->policies[i]);
	free(role->policies);
	iam_policy_free(role->trust);
	for (size_t i = 0; i < role->n_tags; i++) {
		free((char *)role->tags[i].key);
		free((char *)role->tags[i].value);
	}
	free(role->tags);
	free(role->account_id);
	free(role->name);
	free(role);
	return NULL;
}

static const char *
str_member(const struct iam_json *obj, const char *key)
{
	const struct iam_json *v = iam_json_get(obj, key);

	return v != NULL && v->type == IAM_JSON_STRING ? v->u.string : NULL;
}

static int
compile_doc(const struct iam_json *doc, const char *name, bool trust,
	    struct iam_policy **ret)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	int r;

	if (doc == NULL || doc->type != IAM_JSON_OBJECT || name == NULL)
		return -EBADMSG;
	r = iam_policy_compile(doc, name, trust, name, ret, &faults);
	iam_faults_release(&faults);
	if (r == -ENOMEM)
		return r;
	return r < 0 ? -EBADMSG : 0;
}

static int
role_tags(struct iam_role_rec *role, const struct iam_json *tags)
{
	if (tags == NULL || tags->type != IAM_JSON_OBJECT ||
	    tags->len > IAM_ID_MAX_TAGS)
		return -EBADMSG;
	role->tags = calloc(tags->len ? tags->len : 1, sizeof(*role->tags));
	if (role->tags == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < tags->len; i++) {
		const struct iam_json_member *m = &tags->u.members[i];

		if (m->value.type != IAM_JSON_STRING)
			return -EBADMSG;
		role->tags[i].key = strdup(m->key);
		role->tags[i].value = strdup(m->value.u.string);
		role->n_tags++;
		if (role->tags[i].key == NULL || role->tags[i].value == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
role_policies(struct iam_role_rec *role, const struct iam_json *pols)
{
	int r;

	if (pols == NULL || pols->type != IAM_JSON_ARRAY ||
	    pols->len > IAM_ID_MAX_PER_USER)
		return -EBADMSG;
	role->policies = calloc(pols->len ? pols->len : 1,
				sizeof(*role->policies));
	if (role->policies == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < pols->len; i++) {
		const struct iam_json *p = &pols->u.items[i];

		r = compile_doc(iam_json_get(p, "document"),
				str_member(p, "name"), false,
				&role->policies[role->n_policies]);
		if (r < 0)
			return r;
		role->n_policies++;
	}
	r = iam_policy_set_new((const struct iam_policy *const *)role->policies,
			       role->n_policies, NULL, &role->set);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	r = iam_policy_set_new((const struct iam_policy *const *)&role->trust,
			       1, NULL, &role->trust_set);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	return 0;
}

static int
role_from_json(const struct iam_json *v, const char *account,
	       struct iam_role_rec **ret)
{
	struct iam_role_rec *role = calloc(1, sizeof(*role));
	const struct iam_json *max;
	int r = -ENOMEM;

	if (role == NULL)
		return -ENOMEM;
	role->name = strdup(str_member(v, "name"));
	role->account_id = strdup(account);
	if (role->name == NULL || role->account_id == NULL)
		goto fail;
	max = iam_json_get(v, "max_session_seconds");
	r = -EBADMSG;
	if (max == NULL || max->type != IAM_JSON_NUMBER ||
	    !max->u.number.is_int || max->u.number.i < 1 ||
	    max->u.number.i > 43200)
		goto fail;
	role->max_session_seconds = (uint32_t)max->u.number.i;
	r = role_tags(role, iam_json_get(v, "tags"));
	r = r ? r : compile_doc(iam_json_get(v, "trust_policy"), role->name,
				true, &role->trust);
	r = r ? r : role_policies(role, iam_json_get(v, "policies"));
	if (r < 0)
		goto fail;
	*ret = role;
	return 0;
fail:
	iam_role_rec_free(role);
	return r;
}

/* The header line: magic, generation, account id, count. */
static int
read_header(const char *p, size_t len, char *account, size_t alen,
	    size_t *ret_end)
{
	const char *nl = memchr(p, '\n', len);
	char line[128], *f[5], *save = NULL, *q;
	size_t n;
	int i;

	if (nl == NULL || (n = (size_t)(nl - p)) >= sizeof(line))
		return -EBADMSG;
	memcpy(line, p, n);
	line[n] = '\0';
	for (i = 0, q = line; i < 5; i++, q = NULL)
		if ((f[i] = strtok_r(q, " ", &save)) == NULL)
			break;
	if (i != 4 || strcmp(f[0], ROLESDB_MAGIC) != 0 ||
	    strspn(f[2], "0123456789") != strlen(f[2]) ||
	    iam_snprintf(account, alen, "%s", f[2]) < 0)
		return -EBADMSG;
	*ret_end = n + 1;
	return 0;
}

/* Start of the line holding p[at], not before lo. */
static size_t
line_start(const char *p, size_t lo, size_t at)
{
	while (at > lo && p[at - 1] != '\n')
		at--;
	return at;
}

/*
 * Bisect the sorted lines of p[lo, hi) for the one named name, as
 * look(1) does: O(log n) lines compared, one parsed.
 */
static int
find_line(const char *p, size_t lo, size_t hi, const char *name,
	  const char **ret_json, size_t *ret_len)
{
	size_t nlen = strlen(name);

	while (lo < hi) {
		size_t mid = line_start(p, lo, lo + (hi - lo) / 2);
		const char *nl = memchr(p + mid, '\n', hi - mid);
		const char *tab;
		size_t end, klen;
		int c;

		if (nl == NULL)
			return -EBADMSG;
		end = (size_t)(nl - p);
		tab = memchr(p + mid, '\t', end - mid);
		if (tab == NULL)
			return -EBADMSG;
		klen = (size_t)(tab - (p + mid));
		c = memcmp(p + mid, name, klen < nlen ? klen : nlen);
		if (c == 0)
			c = klen < nlen ? -1 : klen > nlen ? 1 : 0;
		if (c == 0) {
			*ret_json = tab + 1;
			*ret_len = end - (size_t)(tab + 1 - p);
			return 0;
		}
		if (c < 0)
			lo = end + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

int
iam_rolesdb_find(const char *text, size_t len, const char *name,
		 struct iam_role_rec **ret_role)
{
	struct iam_json_doc *doc = NULL;
	const struct iam_json *root;
	const char *json = NULL;
	char account[32], why[256];
	size_t start = 0, jlen = 0;
	int r;

	if (text == NULL || name == NULL || ret_role == NULL ||
	    strchr(name, '\t') != NULL || strchr(name, '\n') != NULL)
		return -EINVAL;
	if (len == 0)
		return -EBADMSG;
	r = read_header(text, len, account, sizeof(account), &start);
	if (r == 0 && text[len - 1] != '\n')
		r = -EBADMSG;
	r = r ? r : find_line(text, start, len, name, &json, &jlen);
	r = r ? r : iam_json_parse(json, jlen, NULL, &doc, why, sizeof(why));
	if (r < 0)
		return r == -ENOENT || r == -ENOMEM ? r : -EBADMSG;
	root = iam_json_root(doc);
	r = -EBADMSG;
	if (root->type == IAM_JSON_OBJECT && str_member(root, "name") != NULL &&
	    strcmp(str_member(root, "name"), name) == 0)
		r = role_from_json(root, account, ret_role);
	iam_json_free(doc);
	return r;
}

int
iam_rolesdb_lookup(const char *dir, int strict_flags, const char *name,
		   struct iam_role_rec **ret_role)
{
	char path[PATH_MAX];
	struct iam_map m;
	int r;

	if (name == NULL || ret_role == NULL || strchr(name, '\t') != NULL ||
	    strchr(name, '\n') != NULL)
		return -EINVAL;
	r = iam_snprintf(path, sizeof(path), "%s/" IAM_ROLESDB_FILE,
			 dir != NULL ? dir : IAM_AUTH_DIR);
	r = r ? r : iam_map_strict(path, strict_flags | IAM_STRICT_SECRET, 1,
				   IAM_ROLESDB_MAX_BYTES, &m, NULL, 0);
	if (r < 0)
		return r;
	r = iam_rolesdb_find(m.p, m.size, name, ret_role);
	iam_unmap(&m);
	return r;
}

/* ---- Deciding --------------------------------------------------------- */

int
iam_role_duration(const struct iam_role_rec *role, uint32_t asked,
		  uint32_t *ret_seconds)
{
	uint32_t max;

	if (role == NULL || role->max_session_seconds == 0)
		return -EINVAL;
	max = role->max_session_seconds;
	if (asked == 0) {
		*ret_seconds = max < IAM_ROLE_DEFAULT_SECONDS ? max :
			IAM_ROLE_DEFAULT_SECONDS;
		return 0;
	}
	if (asked > max)
		return -EDOM;
	*ret_seconds = asked;
	return 0;
}

const char *
iam_assume_verdict_text(enum iam_assume_verdict v)
{
	switch (v) {
	case IAM_ASSUME_ALLOW:
		return "allowed";
	case IAM_ASSUME_OWN_DENY:
		return "your policies explicitly deny sts:AssumeRole on this role";
	case IAM_ASSUME_OWN_NO_ALLOW:
		return "your policies do not allow sts:AssumeRole on this role";
	case IAM_ASSUME_TRUST_DENY:
		return "the role's trust policy explicitly denies you";
	case IAM_ASSUME_TRUST_NO_ALLOW:
		return "the role's trust policy does not allow you";
	}
	return "refused";
}

int
iam_role_check_assume(const struct iam_config *cfg,
		      const struct iam_auth_user *u,
		      const struct iam_principal *principal,
		      const struct iam_role_rec *role,
		      const struct iam_session_facts *facts,
		      struct iam_result *own, struct iam_result *trust,
		      enum iam_assume_verdict *ret_verdict)
{
	struct iam_request *req = NULL;
	enum iam_assume_verdict v;
	char arn[512];
	int r;

	if (cfg == NULL || u == NULL || principal == NULL || role == NULL ||
	    own == NULL || trust == NULL || ret_verdict == NULL)
		return -EINVAL;
	r = iam_arn_role(role->account_id, role->name, arn, sizeof(arn));
	/* The user's side is the host's one decision; the trust policy is
	   then asked with the very request it was made on. */
	r = r ? r : iam_decide(cfg, u, principal, NULL, facts,
			       &(struct iam_ask){ .action = "sts:AssumeRole",
						  .resource = arn }, own, &req);
	if (r < 0)
		goto out;
	if (own->decision == IAM_EXPLICIT_DENY) {
		v = IAM_ASSUME_OWN_DENY;
	} else if (own->decision != IAM_ALLOW) {
		v = IAM_ASSUME_OWN_NO_ALLOW;
	} else {
		r = iam_policy_evaluate(role->trust_set, req, trust);
		if (r < 0)
			goto out;
		v = trust->decision == IAM_ALLOW ? IAM_ASSUME_ALLOW :
			trust->decision == IAM_EXPLICIT_DENY ?
			IAM_ASSUME_TRUST_DENY : IAM_ASSUME_TRUST_NO_ALLOW;
	}
	*ret_verdict = v;
out:
	iam_request_free(req);
	return r;
}

static int
add_role_principal(struct iam_request *req, const struct iam_auth_user *u,
		   const struct iam_role_rec *role, const char *id)
{
	char buf[512];
	int r;

	r = iam_request_add_nonempty(req, "aws:username", u->name);
	r = r ? r : iam_snprintf(buf, sizeof(buf), "%" PRIu32, u->uid);
	r = r ? r : iam_request_add_nonempty(req, "aws:userid", buf);
	r = r ? r : iam_arn_role(role->account_id, role->name, buf,
				 sizeof(buf));
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalArn", buf);
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalType", "AssumedRole");
	r = r ? r : iam_request_add_nonempty(req, "aws:PrincipalAccount", role->account_id);
	r = r ? r : iam_request_add_nonempty(req, "iam:RoleSessionId", id);
	for (size_t i = 0; r == 0 && i < role->n_tags; i++) {
		r = iam_snprintf(buf, sizeof(buf), "aws:PrincipalTag/%s",
				 role->tags[i].key);
		r = r ? r : iam_request_add_nonempty(req, buf, role->tags[i].value);
	}
	return r;
}

int
iam_request_for_role(const struct iam_config *cfg,
		     const struct iam_auth_user *u,
		     const struct iam_role_rec *role, const char *id,
		     const struct iam_session_facts *facts,
		     const char *action, const char *resource,
		     struct iam_request **ret_req)
{
	struct iam_request *req = NULL;
	int r;

	if (cfg == NULL || u == NULL || role == NULL || ret_req == NULL)
		return -EINVAL;
	r = iam_request_new(action, resource, &req);
	if (r < 0)
		return r;
	r = add_role_principal(req, u, role, id);
	r = r ? r : iam_request_add_context(req, cfg, facts);
	if (r < 0) {
		iam_request_free(req);
		return r;
	}
	*ret_req = req;
	return 0;
}

int
iam_role_mfa_check(const struct iam_config *cfg,
		   const struct iam_auth_user *u, const char *code,
		   int64_t now, int strict_flags, bool *ret_locked)
{
	struct iam_lockout_try lt;
	struct iam_mfa_match m;
	struct iam_auth_user devices_only;
	int r, v;

	if (cfg == NULL || u == NULL || code == NULL)
		return -EINVAL;
	if (u->n_mfa_devices == 0 && u->mfa_secret == NULL)
		return -ENOKEY;
	r = iam_lockout_begin(cfg->state_dir, u->uid, strict_flags,
			      &u->password_policy.lockout, now, &lt);
	if (r < 0)
		return r;
	/* A code of any device; recovery codes are for logging in only. */
	devices_only = *u;
	devices_only.n_recovery_codes = 0;
	v = iam_mfa_verify(&devices_only, code, now, cfg->totp_window,
			   &lt.counted, &m);
	r = iam_lockout_settle_mfa(&lt, v == 0 ? IAM_LOCKOUT_OK :
				   IAM_LOCKOUT_FAILED, &m, ret_locked);
	if (r == 0 && v < 0)
		r = v == -EALREADY ? v : -EACCES;
	return r;
}

/* ---- Role session records ---------------------------------------------- */

static int
read_boot_id(char *buf, size_t len)
{
	char text[64];
	ssize_t n;
	size_t k;
	int fd;

	fd = open(BOOT_ID_FILE, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	k = strspn(text, "0123456789abcdef-");
	if (k < 32 || k >= len || (text[k] != '\n' && text[k] != '\0'))
		return -EBADMSG;
	memcpy(buf, text, k);
	buf[k] = '\0';
	return 0;
}

int
iam_role_clock_now(struct iam_role_clock *ret_now)
{
	struct iam_role_clock c;
	struct timespec ts;
	int r;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return -errno;
	c.boot = (int64_t)ts.tv_sec;
	c.wall = (int64_t)time(NULL);
	r = read_boot_id(c.boot_id, sizeof(c.boot_id));
	if (r < 0)
		return r;
	*ret_now = c;
	return 0;
}

/* A login session key as iam_session_key() makes it. */
static bool
role_session_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n >= sizeof(((struct iam_role_session *)0)->key) ||
	    key[0] == '.')
		return false;
	return strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

static bool
role_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789+=,.@_-") == n;
}

static bool
hex_id_valid(const char *s)
{
	return strlen(s) == IAM_ROLE_ID_LEN &&
	       strspn(s, "0123456789abcdef") == IAM_ROLE_ID_LEN;
}

static bool
boot_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 32 && n < 40 && strspn(s, "0123456789abcdef-") == n;
}

bool
iam_role_reason_valid(const char *reason)
{
	const unsigned char *p = (const unsigned char *)reason;
	size_t n;

	if (reason == NULL || strlen(reason) > IAM_ROLE_REASON_MAX)
		return false;
	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		/* UTF-8: lead byte, then continuation bytes; no overlongs. */
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return false;
		if ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] > 0x9f) ||
		    (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] > 0x8f))
			return false;
		for (size_t i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		/* U+0080-U+009F are control characters too. */
		if (*p == 0xc2 && p[1] < 0xa0)
			return false;
		p += n + 1;
	}
	return true;
}

static bool
session_valid(const struct iam_role_session *s)
{
	return hex_id_valid(s->id) && iam_name_valid(s->user) &&
	       role_name_valid(s->role) && role_session_key_valid(s->key) &&
	       boot_id_valid(s->boot_id) && s->start >= 0 &&
	       s->expiry > s->start && s->wall_start >= 0 &&
	       s->wall_expiry >= s->wall_start &&
	       iam_role_reason_valid(s->reason);
}

int
iam_role_session_new(const char *user, uint32_t uid, const char *role,
		     const char *key, const char *reason, uint32_t seconds,
		     const struct iam_role_clock *now,
		     struct iam_role_session *ret_s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[IAM_ROLE_ID_LEN / 2];
	struct iam_role_session s;
	int r;

	if (user == NULL || role == NULL || key == NULL || now == NULL ||
	    seconds == 0 || ret_s == NULL)
		return -EINVAL;
	if (reason == NULL)
		reason = "";
	memset(&s, 0, sizeof(s));
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++) {
		s.id[2 * i] = hex[raw[i] >> 4];
		s.id[2 * i + 1] = hex[raw[i] & 15];
	}
	s.uid = uid;
	s.start = now->boot;
	s.expiry = now->boot + seconds;
	s.wall_start = now->wall;
	s.wall_expiry = now->wall + seconds;
	r = iam_snprintf(s.user, sizeof(s.user), "%s", user);
	r = r ? r : iam_snprintf(s.role, sizeof(s.role), "%s", role);
	r = r ? r : iam_snprintf(s.key, sizeof(s.key), "%s", key);
	r = r ? r : iam_snprintf(s.boot_id, sizeof(s.boot_id), "%s",
				 now->boot_id);
	r = r ? r : iam_snprintf(s.reason, sizeof(s.reason), "%s", reason);
	if (r < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	if (!session_valid(&s))
		return -EINVAL;
	*ret_s = s;
	return 0;
}

static int
roles_dir(const char *run_dir, char *buf, size_t len)
{
	if (run_dir == NULL || run_dir[0] != '/')
		return -EINVAL;
	return iam_snprintf(buf, len, "%s/" IAM_ROLE_SESSION_DIR, run_dir);
}

static int
record_path(const char *run_dir, const char *key, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int r;

	if (key == NULL || !role_session_key_valid(key))
		return -EINVAL;
	r = roles_dir(run_dir, dir, sizeof(dir));
	return r ? r : iam_snprintf(buf, len, "%s/%s", dir, key);
}

int
iam_role_session_write(const char *run_dir, const struct iam_role_session *s,
		       int strict_flags)
{
	char dir[PATH_MAX], path[PATH_MAX], text[RECORD_MAX];
	int fd, r;

	if (s == NULL || !session_valid(s))
		return -EINVAL;
	r = iam_run_dir_prepare(run_dir, strict_flags);
	r = r ? r : roles_dir(run_dir, dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = iam_ensure_dir(dir, 0700, strict_flags, NULL, 0);
	if (fd < 0)
		return fd;
	close(fd);
	r = record_path(run_dir, s->key, path, sizeof(path));
	r = r ? r : iam_snprintf(text, sizeof(text),
				 SESSION_MAGIC "\nid=%s\nuser=%s\nuid=%" PRIu32
				 "\nrole=%s\nkey=%s\nboot=%s\nstart=%" PRId64
				 "\nexpiry=%" PRId64 "\nwall_start=%" PRId64
				 "\nwall_expiry=%" PRId64 "\nreason=%s\n",
				 s->id, s->user, s->uid, s->role, s->key,
				 s->boot_id, s->start, s->expiry,
				 s->wall_start, s->wall_expiry, s->reason);
	return r ? r : iam_write_atomic(path, text, strlen(text), 0600);
}

/* Read the file at path: regular, one link, root's, 0600 at most. */
static int
read_record(const char *path, int strict_flags, struct iam_buf *b)
{
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = iam_open_strict(path, strict_flags | IAM_STRICT_SECRET, NULL, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		 (st.st_mode & 07177) != 0)
		r = -EPERM;
	else if (st.st_size > RECORD_MAX)
		r = -EBADMSG;
	if (r == 0)
		r = iam_buf_grow(b, RECORD_MAX + 1);
	while (r == 0) {
		n = read(fd, b->buf + b->len, RECORD_MAX + 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else if ((b->len += (size_t)n) > RECORD_MAX)
			r = -EBADMSG;
	}
	close(fd);
	if (r == 0)
		b->buf[b->len] = '\0';
	return r;
}

/* The value of line "name=VALUE" at *p; advances *p past the line. */
static const char *
record_field(char **p, const char *name)
{
	size_t n = strlen(name);
	char *line = *p, *nl;

	nl = strchr(line, '\n');
	if (nl == NULL || strncmp(line, name, n) != 0 || line[n] != '=')
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return line + n + 1;
}

static int
copy_field(char **p, const char *name, char *dst, size_t len)
{
	const char *v = record_field(p, name);

	if (v == NULL)
		return -EBADMSG;
	return iam_snprintf(dst, len, "%s", v) < 0 ? -EBADMSG : 0;
}

static int
num_field(char **p, const char *name, long long max, long long *ret)
{
	const char *v = record_field(p, name);

	if (v == NULL || iam_parse_ll(v, 0, max, ret) < 0)
		return -EBADMSG;
	return 0;
}

static int
parse_record(char *text, struct iam_role_session *s)
{
	char *p = text;
	long long v[5] = { 0 };
	int r;

	memset(s, 0, sizeof(*s));
	if (strncmp(p, SESSION_MAGIC "\n", sizeof(SESSION_MAGIC)) != 0)
		return -EBADMSG;
	p += sizeof(SESSION_MAGIC);
	r = copy_field(&p, "id", s->id, sizeof(s->id));
	r = r ? r : copy_field(&p, "user", s->user, sizeof(s->user));
	r = r ? r : num_field(&p, "uid", UINT32_MAX, &v[0]);
	r = r ? r : copy_field(&p, "role", s->role, sizeof(s->role));
	r = r ? r : copy_field(&p, "key", s->key, sizeof(s->key));
	r = r ? r : copy_field(&p, "boot", s->boot_id, sizeof(s->boot_id));
	r = r ? r : num_field(&p, "start", INT64_MAX / 2, &v[1]);
	r = r ? r : num_field(&p, "expiry", INT64_MAX / 2, &v[2]);
	r = r ? r : num_field(&p, "wall_start", INT64_MAX / 2, &v[3]);
	r = r ? r : num_field(&p, "wall_expiry", INT64_MAX / 2, &v[4]);
	r = r ? r : copy_field(&p, "reason", s->reason, sizeof(s->reason));
	if (r == 0 && *p != '\0')
		r = -EBADMSG;
	s->uid = (uint32_t)v[0];
	s->start = v[1];
	s->expiry = v[2];
	s->wall_start = v[3];
	s->wall_expiry = v[4];
	if (r == 0 && !session_valid(s))
		r = -EBADMSG;
	return r;
}

int
iam_role_session_read(const char *run_dir, const char *key, int strict_flags,
		      struct iam_role_session *ret_s)
{
	struct iam_buf b = IAM_BUF_INIT;
	struct iam_role_session s;
	char path[PATH_MAX];
	int r;

	if (ret_s == NULL)
		return -EINVAL;
	r = record_path(run_dir, key, path, sizeof(path));
	r = r ? r : read_record(path, strict_flags, &b);
	r = r ? r : parse_record(b.buf, &s);
	/* The file's name is the login session; a record moved elsewhere is void. */
	if (r == 0 && strcmp(s.key, key) != 0)
		r = -EBADMSG;
	iam_buf_release(&b);
	if (r == 0)
		*ret_s = s;
	return r;
}

int
iam_role_session_active(const char *run_dir, const char *key, uint32_t uid,
			const struct iam_role_clock *now, int strict_flags,
			struct iam_role_session *ret_s)
{
	struct iam_role_session s;
	struct iam_role_clock clock;
	int r;

	if (ret_s == NULL)
		return -EINVAL;
	r = iam_role_session_read(run_dir, key, strict_flags, &s);
	if (r < 0)
		return r;
	/* Read only when there is a record: no session costs one open(). */
	if (now == NULL) {
		r = iam_role_clock_now(&clock);
		if (r < 0)
			return r;
		now = &clock;
	}
	if (s.uid != uid || strcmp(s.boot_id, now->boot_id) != 0 ||
	    now->boot < s.start || now->boot >= s.expiry)
		return -ENOENT;
	*ret_s = s;
	return 0;
}

int
iam_role_session_remove(const char *run_dir, const char *key, const char *id,
			int strict_flags)
{
	struct iam_role_session s;
	char path[PATH_MAX];
	int r;

	r = record_path(run_dir, key, path, sizeof(path));
	if (r < 0)
		return r;
	if (id != NULL) {
		r = iam_role_session_read(run_dir, key, strict_flags, &s);
		if (r < 0)
			return r;
		if (strcmp(s.id, id) != 0)
			return -ESTALE;
	}
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in run_dir/roles, sorted; the folder itself checked. */
static int
list_names(const char *run_dir, int strict_flags, char ***ret, size_t *ret_n)
{
	char dir[PATH_MAX], **v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int fd, r;

	r = roles_dir(run_dir, dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = iam_open_strict(dir, strict_flags | IAM_STRICT_DIR |
			     IAM_STRICT_SECRET, NULL, 0);
	if (fd < 0)
		return fd;
	d = iam_fdopendir(fd);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!role_session_key_valid(de->d_name))
			continue;
		if (n == alloc) {
			size_t na = alloc ? 2 * alloc : 16;
			char **nv = na > 1000000 ? NULL :
				reallocarray(v, na, sizeof(*v));

			if (nv == NULL) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			alloc = na;
		}
		if ((v[n] = strdup(de->d_name)) == NULL) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; v != NULL && i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_names);
	*ret = v;
	*ret_n = n;
	return 0;
}

int
iam_role_session_list(const char *run_dir, int strict_flags,
		      iam_role_session_fn *fn, void *arg)
{
	struct iam_role_session s;
	char **names = NULL;
	size_t n = 0;
	int r, stop = 0;

	if (fn == NULL)
		return -EINVAL;
	r = list_names(run_dir, strict_flags, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (stop == 0) {
			r = iam_role_session_read(run_dir, names[i],
						  strict_flags, &s);
			stop = fn(names[i], r == 0 ? &s : NULL, r, arg);
		}
		free(names[i]);
	}
	free(names);
	return stop;
}

struct end_uid {
	const char *run_dir;
	uint32_t uid;
	int strict_flags;
	int removed;
	int err;
};

static int
end_one(const char *key, const struct iam_role_session *s, int err, void *arg)
{
	struct end_uid *e = arg;
	int r;

	(void)err;
	if (s == NULL || s->uid != e->uid)
		return 0;
	r = iam_role_session_remove(e->run_dir, key, s->id, e->strict_flags);
	if (r == 0)
		e->removed++;
	else if (r != -ENOENT && r != -ESTALE)
		e->err = r;
	return 0;
}

int
iam_role_sessions_end_uid(const char *run_dir, uint32_t uid, int strict_flags)
{
	struct end_uid e = { run_dir, uid, strict_flags, 0, 0 };
	int r;

	r = iam_role_session_list(run_dir, strict_flags, end_one, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return e.err < 0 ? e.err : e.removed;
}
