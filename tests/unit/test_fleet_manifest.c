/*
 * test_fleet_manifest.c - the fleet's trust core: objects of an identity,
 * the root hash, the manifest's signature and strict parsing, trusted
 * keys and host records.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "iam.h"
#include "fleet.h"

#define HOST SRC_DIR "/tests/unit/identity-bad/host"

static const char identity[] =
	"{\"account\":{\"id\":\"123456789012\",\"alias\":\"acme\"},"
	"\"users\":[{\"name\":\"alice\",\"uid\":70001,\"primary_group\":\"dev\","
	"\"groups\":[\"ops\"],\"policies\":[\"Read\"]},"
	"{\"name\":\"bob\",\"uid\":70002,\"primary_group\":\"dev\"}],"
	"\"groups\":[{\"name\":\"dev\",\"gid\":70001},{\"name\":\"ops\",\"gid\":70100}],"
	"\"policies\":{\"Read\":{\"Version\":\"2012-10-17\",\"Statement\":["
	"{\"Effect\":\"Allow\",\"Action\":\"host:Login\",\"Resource\":\"*\"}]}}}";

static struct iam_config *cfg;
static uint8_t pk[32], sk[64], pk2[32], sk2[64];

static void
setup(void)
{
	cr_assert_eq(fleet_crypto_init(), 0);
	cr_assert_eq(iam_config_defaults(&cfg), 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
}

static void
teardown(void)
{
	cfg = iam_config_free(cfg);
}

TestSuite(fleet, .init = setup, .fini = teardown);

static void
split(const char *text, struct fleet_set *s)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	char err[256] = "";

	cr_assert_eq(iam_identity_parse(text, strlen(text), cfg, HOST, &id, &f), 0,
		     "%s", f.n ? f.v[0] : "");
	cr_assert_eq(fleet_split_identity(cfg, id, s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fleet_set_sort(s), 0);
	iam_identity_free(id);
	iam_faults_release(&f);
}

static void
signed_manifest(const struct fleet_set *s, uint64_t gen,
		struct fleet_manifest *m, const uint8_t *key)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->account, "123456789012", 13);
	m->generation = gen;
	m->time = 1800000000;
	fleet_root_hash(s, m->root, &m->count);
	cr_assert_eq(fleet_manifest_sign(m, key), 0);
}

static struct fleet_keyring
ring_of(const uint8_t *p)
{
	struct fleet_keyring r = { .n = 1 };

	memcpy(r.v[0].pk, p, 32);
	fleet_key_id(p, r.v[0].key_id);
	return r;
}

Test(fleet, identity_splits_into_one_object_per_entry)
{
	struct fleet_set s = FLEET_SET_INIT;

	split(identity, &s);
	cr_assert_eq(s.n, 6);
	cr_expect_str_eq(s.v[0].key, "account");
	cr_expect_str_eq(s.v[1].key, "groups/dev");
	cr_expect_str_eq(s.v[2].key, "groups/ops");
	cr_expect_str_eq(s.v[3].key, "policies/Read");
	cr_expect_str_eq(s.v[4].key, "users/alice");
	cr_expect_str_eq(s.v[5].key, "users/bob");
	cr_expect_null(strstr(s.v[0].val, "\"users\":"), "%s", s.v[0].val);
	fleet_set_release(&s);
}

Test(fleet, objects_assemble_into_the_same_identity)
{
	struct fleet_set a = FLEET_SET_INIT, b = FLEET_SET_INIT;
	struct iam_buf text = IAM_BUF_INIT;
	uint8_t ra[32], rb[32];
	char err[256] = "";

	split(identity, &a);
	cr_assert_eq(fleet_assemble(&a, &text, err, sizeof(err)), 0, "%s", err);
	split(text.buf, &b);
	fleet_root_hash(&a, ra, NULL);
	fleet_root_hash(&b, rb, NULL);
	cr_expect_eq(memcmp(ra, rb, 32), 0, "canonical objects are stable");
	iam_buf_release(&text);
	fleet_set_release(&a);
	fleet_set_release(&b);
}

Test(fleet, an_mfa_secret_is_never_split_into_objects)
{
	static const char t[] =
		"{\"account\":{\"id\":\"123456789012\"},\"users\":[{\"name\":\"alice\","
		"\"uid\":70001,\"primary_group\":\"dev\",\"mfa\":{\"type\":\"totp\","
		"\"secret\":\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"}}],"
		"\"groups\":[{\"name\":\"dev\",\"gid\":70001}]}";
	struct iam_faults f = IAM_FAULTS_INIT;
	struct fleet_set s = FLEET_SET_INIT;
	struct iam_identity *id = NULL;
	char err[256] = "";

	cr_assert_eq(iam_identity_parse(t, strlen(t), cfg, HOST, &id, &f), 0);
	cr_expect_eq(fleet_split_identity(cfg, id, &s, err, sizeof(err)), -EPERM);
	cr_expect_not_null(strstr(err, "MFA secret"), "%s", err);
	iam_identity_free(id);
	fleet_set_release(&s);
}

Test(fleet, the_root_hash_changes_with_any_object)
{
	struct fleet_set s = FLEET_SET_INIT;
	uint8_t r0[32], r1[32], r2[32], r3[32];
	uint64_t n0, n2;

	split(identity, &s);
	fleet_root_hash(&s, r0, &n0);
	cr_assert_eq(fleet_set_put(&s, "users/bob", "{\"name\":\"bob\"}", 14, 0), 0);
	fleet_root_hash(&s, r1, NULL);
	cr_expect_neq(memcmp(r0, r1, 32), 0, "changed value");
	cr_assert_eq(fleet_set_put(&s, "users/eve", "{}", 2, 0), 0);
	fleet_root_hash(&s, r2, &n2);
	cr_expect_eq(n2, n0 + 1);
	fleet_set_del(&s, "users/eve");
	fleet_set_del(&s, "users/bob");
	fleet_root_hash(&s, r3, NULL);
	cr_expect_neq(memcmp(r0, r3, 32), 0, "removed object");
	/* keys the root does not cover do not move it */
	cr_assert_eq(fleet_set_put(&s, "status/web1", "x", 1, 0), 0);
	fleet_root_hash(&s, r2, NULL);
	cr_expect_eq(memcmp(r2, r3, 32), 0);
	fleet_set_release(&s);
}

Test(fleet, a_signed_manifest_round_trips_and_verifies)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct fleet_manifest m, p;
	struct fleet_keyring ring = ring_of(pk);
	struct iam_buf t = IAM_BUF_INIT;
	char err[256] = "";

	split(identity, &s);
	signed_manifest(&s, 7, &m, sk);
	cr_assert_eq(fleet_manifest_format(&m, &t), 0);
	cr_assert_eq(fleet_manifest_parse(t.buf, t.len, &p, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(p.generation, 7);
	cr_expect_eq(p.count, 6);
	cr_expect_eq(fleet_manifest_verify(&p, &ring), 0);
	iam_buf_release(&t);
	fleet_set_release(&s);
}

Test(fleet, a_changed_field_breaks_the_signature)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct fleet_manifest m, bad;
	struct fleet_keyring ring = ring_of(pk);

	split(identity, &s);
	signed_manifest(&s, 3, &m, sk);
	bad = m;
	bad.generation = 4;
	cr_expect_eq(fleet_manifest_verify(&bad, &ring), -EBADMSG);
	bad = m;
	bad.root[0] ^= 1;
	cr_expect_eq(fleet_manifest_verify(&bad, &ring), -EBADMSG);
	bad = m;
	bad.account[11] = '3';
	cr_expect_eq(fleet_manifest_verify(&bad, &ring), -EBADMSG);
	bad = m;
	bad.time++;
	cr_expect_eq(fleet_manifest_verify(&bad, &ring), -EBADMSG);
	fleet_set_release(&s);
}

Test(fleet, a_manifest_by_an_unknown_key_is_refused)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct fleet_manifest m;
	struct fleet_keyring ring = ring_of(pk);

	split(identity, &s);
	signed_manifest(&s, 3, &m, sk2);
	cr_expect_eq(fleet_manifest_verify(&m, &ring), -ENOKEY);
	/* a stranger's signature under a trusted key id */
	fleet_key_id(pk, m.key_id);
	cr_expect_eq(fleet_manifest_verify(&m, &ring), -EBADMSG);
	fleet_set_release(&s);
}

Test(fleet, manifest_parsing_is_strict)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"format\":2,\"account\":\"123456789012\",\"generation\":1,\"time\":1,"
		"\"time_text\":\"x\",\"root\":\"00\",\"count\":1,\"key_id\":\"0011223344556677\","
		"\"signature\":\"AA==\"}",
		"{\"format\":1,\"account\":\"12345678901\",\"generation\":1,\"time\":1,"
		"\"time_text\":\"x\",\"root\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"count\":1,\"key_id\":\"0011223344556677\",\"signature\":\"AA==\"}",
		"{\"format\":1,\"account\":\"123456789012\",\"generation\":0,\"time\":1,"
		"\"time_text\":\"x\",\"root\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"count\":1,\"key_id\":\"0011223344556677\",\"signature\":\"AA==\"}",
		"{\"format\":1,\"account\":\"123456789012\",\"generation\":1,\"time\":1,"
		"\"time_text\":\"x\",\"root\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"count\":1,\"key_id\":\"0011223344556677\",\"signature\":\"AA==\"}",
		"{\"format\":1,\"extra\":1}",
		"{\"format\":1,\"format\":1}",
	};
	struct fleet_manifest m;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(fleet_manifest_parse(bad[i], strlen(bad[i]), &m, err,
						  sizeof(err)), -EINVAL, "case %zu", i);
		cr_expect_neq(err[0], '\0', "case %zu names the fault", i);
	}
}

Test(fleet, an_oversized_manifest_is_refused)
{
	char *big = malloc(FLEET_MAX_MANIFEST + 10);
	struct fleet_manifest m;
	char err[256];

	memset(big, ' ', FLEET_MAX_MANIFEST + 9);
	big[0] = '{';
	big[FLEET_MAX_MANIFEST + 8] = '}';
	big[FLEET_MAX_MANIFEST + 9] = '\0';
	cr_expect_eq(fleet_manifest_parse(big, strlen(big), &m, err, sizeof(err)),
		     -EINVAL);
	free(big);
}

Test(fleet, objects_that_do_not_fit_their_key_do_not_assemble)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct iam_buf t = IAM_BUF_INIT;
	char err[256] = "";

	split(identity, &s);
	cr_assert_eq(fleet_set_put(&s, "users/bob", "{\"name\":\"mallory\"}", 18, 0), 0);
	cr_expect_eq(fleet_assemble(&s, &t, err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "users/bob"), "%s", err);
	iam_buf_release(&t);
	cr_assert_eq(fleet_set_put(&s, "users/bob", "[1]", 3, 0), 0);
	cr_expect_eq(fleet_assemble(&s, &t, err, sizeof(err)), -EINVAL);
	iam_buf_release(&t);
	cr_assert_eq(fleet_set_put(&s, "users/bob", "{\"name\":\"bob\"", 13, 0), 0);
	cr_expect_eq(fleet_assemble(&s, &t, err, sizeof(err)), -EINVAL);
	iam_buf_release(&t);
	cr_assert_eq(fleet_set_put(&s, "users/bob", "{\"name\":\"bob\"}", 14, 0), 0);
	cr_assert_eq(fleet_set_put(&s, "users/../x", "{\"name\":\"../x\"}", 15, 0), 0);
	cr_expect_eq(fleet_assemble(&s, &t, err, sizeof(err)), -EINVAL);
	iam_buf_release(&t);
	fleet_set_release(&s);
}

Test(fleet, keys_are_checked)
{
	char err[128];

	cr_expect_eq(fleet_key_check("account", err, sizeof(err)), 0);
	cr_expect_eq(fleet_key_check("users/alice", err, sizeof(err)), 0);
	cr_expect_eq(fleet_key_check("roles/Deploy-Prod", err, sizeof(err)), 0);
	cr_expect_eq(fleet_key_check("users/Alice", err, sizeof(err)), -EINVAL);
	cr_expect_eq(fleet_key_check("users/", err, sizeof(err)), -EINVAL);
	cr_expect_eq(fleet_key_check("policies/a/b", err, sizeof(err)), -EINVAL);
	cr_expect_eq(fleet_key_check("secrets/x", err, sizeof(err)), -EINVAL);
}

Test(fleet, host_records_are_signed)
{
	struct fleet_keyring ring = ring_of(pk);
	struct fleet_host h = { .time = 1800000000 }, p;
	struct iam_buf t = IAM_BUF_INIT;
	char err[256] = "";

	strcpy(h.name, "web1");
	memcpy(h.pk, pk2, 32);
	cr_assert_eq(fleet_host_sign(&h, sk), 0);
	cr_assert_eq(fleet_host_format(&h, &t), 0);
	cr_assert_eq(fleet_host_parse(t.buf, t.len, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(fleet_host_verify(&p, &ring), 0);
	p.revoked = true;
	cr_expect_eq(fleet_host_verify(&p, &ring), -EBADMSG);
	iam_buf_release(&t);
}

Test(fleet, trusted_keys_load_from_a_strict_folder)
{
	char dir[] = "/tmp/fleet-keys.XXXXXX", path[256], err[256] = "";
	struct iam_buf t = IAM_BUF_INIT;
	struct fleet_keyring ring;
	struct fleet_manifest m;
	struct fleet_set s = FLEET_SET_INIT;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	cr_assert_eq(fleet_public_key_format(pk, "admin", &t), 0);
	snprintf(path, sizeof(path), "%s/admin.pub", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, t.buf, t.len), (ssize_t)t.len);
	close(fd);
	cr_assert_eq(fleet_keyring_load(dir, IAM_STRICT_ANY_OWNER, &ring, err,
					sizeof(err)), 0, "%s", err);
	cr_expect_eq(ring.n, 1);
	split(identity, &s);
	signed_manifest(&s, 1, &m, sk);
	cr_expect_eq(fleet_manifest_verify(&m, &ring), 0);
	/* a key file writable by others refuses the whole folder */
	chmod(path, 0666);
	cr_expect_eq(fleet_keyring_load(dir, IAM_STRICT_ANY_OWNER, &ring, err,
					sizeof(err)), -EPERM);
	unlink(path);
	rmdir(dir);
	iam_buf_release(&t);
	fleet_set_release(&s);
}

Test(fleet, assembled_text_is_written_from_the_parsed_tree)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct iam_buf t = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	char err[256] = "";

	split(identity, &s);
	/* a value the parser reads only in part must not be spliced in */
	cr_assert_eq(fleet_set_put(&s, "policies/Read", "{\"a\":1}\n\"", 9, 0), 0);
	if (fleet_assemble(&s, &t, err, sizeof(err)) == 0)
		cr_expect_eq(iam_json_parse(t.buf, t.len, NULL, &doc, err,
					    sizeof(err)), 0, "%s: %s", err, t.buf);
	iam_json_free(doc);
	iam_buf_release(&t);
	fleet_set_release(&s);
}

/*
 * The identity's own text is split under iam.conf's identity limits, not
 * the JSON defaults (64 MiB, 1M items): an identity of a million users
 * (~300 MB) is pushed whole; and its indented rewrite, longer than a
 * compact file that loaded under identity_max_bytes, is split too.
 */
Test(fleet, the_identity_limits_are_iam_confs)
{
	struct iam_json_limits lim;

	fleet_identity_limits(cfg, 10, &lim);
	cr_expect_eq(lim.max_bytes, IAM_ID_MAX_BYTES);
	cr_expect_gt(lim.max_items, 2000000, "%zu", lim.max_items);
	cfg->identity_max_users = 5000000;
	fleet_identity_limits(cfg, 10, &lim);
	cr_expect_gt(lim.max_items, 5000000, "%zu", lim.max_items);
	cfg->identity_max_bytes = 4096;
	fleet_identity_limits(cfg, 9000, &lim);
	cr_expect_eq(lim.max_bytes, 9000, "at least the text: %zu", lim.max_bytes);
}

Test(fleet, a_compact_identity_at_its_byte_limit_is_split)
{
	struct iam_faults f = IAM_FAULTS_INIT;
	struct fleet_set s = FLEET_SET_INIT;
	struct iam_identity *id = NULL;
	struct iam_buf t = IAM_BUF_INIT;
	char err[256] = "";

	cr_assert_eq(iam_buf_adds(&t, "{\"account\":{\"id\":\"123456789012\"},"
				  "\"groups\":[{\"name\":\"dev\",\"gid\":90000}],"
				  "\"users\":["), 0);
	for (int i = 0; i < 300; i++)
		cr_assert_eq(iam_buf_addf(&t, "%s{\"name\":\"u%d\",\"uid\":%d,"
					  "\"primary_group\":\"dev\"}",
					  i ? "," : "", i, 90001 + i), 0);
	cr_assert_eq(iam_buf_adds(&t, "]}"), 0);
	cfg->identity_max_bytes = t.len;
	cr_assert_eq(iam_identity_parse(t.buf, t.len, cfg, HOST, &id, &f), 0,
		     "%s", f.n ? f.v[0] : "");
	cr_expect_eq(fleet_split_identity(cfg, id, &s, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(s.n, 302, "account, one group, 300 users: %zu", s.n);
	iam_identity_free(id);
	iam_faults_release(&f);
	iam_buf_wipe(&t);
	fleet_set_release(&s);
}
