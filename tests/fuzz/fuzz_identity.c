/*
 * fuzz_identity.c - libFuzzer target: the strict JSON parser and the
 * identity loader with its validation, on arbitrary bytes.  Host checks
 * read the empty host folder tests/fuzz/host (no local accounts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "iam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iam_config *cfg;
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_buf out = IAM_BUF_INIT;

	if (cfg == NULL && iam_config_defaults(&cfg) < 0)
		abort();
	if (iam_identity_parse((const char *)data, size, cfg, FUZZ_HOST_ROOT,
			       &id, &faults) == 0) {
		/* A valid identity must write back and load again. */
		struct iam_identity *again = NULL;
		struct iam_faults f2 = IAM_FAULTS_INIT;

		if (iam_identity_write(id, &out) < 0)
			abort();
		if (iam_identity_parse(out.buf, out.len, cfg, FUZZ_HOST_ROOT,
				       &again, &f2) != 0)
			abort();
		iam_identity_free(again);
		iam_faults_release(&f2);
	}
	iam_buf_release(&out);
	iam_identity_free(id);
	iam_faults_release(&faults);
	return 0;
}
