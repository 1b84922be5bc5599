/*
 * fuzz_fleet_manifest.c - libFuzzer target: what a host reads from etcd,
 * on arbitrary bytes.  The input is a manifest or a host record, or (after
 * a first byte 'O') a list of objects "KEY\nVALUE\0..." assembled into an
 * identity file; nothing may crash, leak or read out of bounds, and an
 * assembled text must be strict JSON.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
objects(const char *p, size_t n)
{
	struct fleet_set s = FLEET_SET_INIT;
	struct iam_buf out = IAM_BUF_INIT;
	struct iam_json_doc *doc = NULL;
	uint8_t root[FLEET_HASH_BYTES];
	char err[256];

	while (n > 0) {
		const char *z = memchr(p, '\0', n), *nl;
		size_t l = z ? (size_t)(z - p) : n;

		nl = memchr(p, '\n', l);
		if (nl != NULL) {
			char key[FLEET_MAX_KEY + 1];
			size_t kl = (size_t)(nl - p);

			if (kl <= FLEET_MAX_KEY) {
				memcpy(key, p, kl);
				key[kl] = '\0';
				if (strlen(key) == kl)
					fleet_set_put(&s, key, nl + 1, l - kl - 1, 0);
			}
		}
		p += l + (z != NULL);
		n -= l + (z != NULL);
	}
	fleet_root_hash(&s, root, NULL);
	if (fleet_assemble(&s, &out, err, sizeof(err)) == 0) {
		if (iam_json_parse(out.buf, out.len, NULL, &doc, NULL, 0) != 0)
			abort();
		iam_json_free(doc);
	}
	iam_buf_release(&out);
	fleet_set_release(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fleet_manifest m;
	struct fleet_host h;
	struct fleet_keyring ring = { .n = 0 };
	char err[256];

	if (fleet_crypto_init() < 0)
		abort();
	if (size > 0 && data[0] == 'C') {
		static const uint8_t pk[FLEET_PK_BYTES], key[32];
		struct fleet_cred c;
		struct iam_buf out = IAM_BUF_INIT;

		if (fleet_cred_parse((const char *)data + 1, size - 1, &c, err,
				     sizeof(err)) == 0) {
			if (fleet_cred_verify(&c, pk) == 0)
				abort();
			fleet_cred_open(&c, key, &out);
			fleet_cred_release(&c);
		}
		iam_buf_wipe(&out);
		return 0;
	}
	if (size > 0 && data[0] == 'O') {
		objects((const char *)data + 1, size - 1);
		return 0;
	}
	if (fleet_manifest_parse((const char *)data, size, &m, err,
				 sizeof(err)) == 0 &&
	    fleet_manifest_verify(&m, &ring) != -ENOKEY)
		abort();
	if (fleet_host_parse((const char *)data, size, &h, err, sizeof(err)) == 0 &&
	    fleet_host_verify(&h, &ring) != -ENOKEY)
		abort();
	return 0;
}
