/*
 * fuzz_identity.c - libFuzzer target: the strict JSON parser and the
 * identity loader with its validation, on arbitrary bytes.  Host checks
 * read the empty host folder tests/fuzz/host (no local accounts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "iam.h"
#include "identity_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iam_config *cfg;
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_identity *id = NULL;
	struct iam_buf out = IAM_BUF_INIT;

	char *copy;
	int r, r2;

	if (cfg == NULL && iam_config_defaults(&cfg) < 0)
		abort();
	r = iam_identity_parse((const char *)data, size, cfg, FUZZ_HOST_ROOT,
			       &id, &faults);
	/*
	 * The same text consumed as it is parsed, in windows of 61 bytes in
	 * this build (IAM_JSON_WINDOW) and without the credentials' sources,
	 * as a publication loads it: the same answer, fault for fault, and
	 * nothing of the text left.
	 */
	copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	{
		struct iam_identity *id2 = NULL;
		struct iam_faults f2 = IAM_FAULTS_INIT;

		r2 = iam_id_parse(copy, size, cfg, FUZZ_HOST_ROOT,
				  IAM_ID_CONSUME | IAM_ID_NO_SOURCES, &id2, &f2);
		if (r2 != r || f2.n != faults.n || f2.dropped != faults.dropped)
			abort();
		for (size_t i = 0; i < f2.n; i++)
			if (strcmp(f2.v[i], faults.v[i]) != 0)
				abort();
		for (size_t i = 0; i < size; i++)
			if (copy[i] != 0)
				abort();
		if (id2 != NULL && (id2->n_users != id->n_users ||
				    id2->n_groups != id->n_groups))
			abort();
		for (size_t i = 0; id2 != NULL && i < id2->n_users; i++)
			if (id2->users[i].file_password != NULL ||
			    id2->users[i].file_mfa != NULL ||
			    (id2->users[i].password.hash == NULL) !=
			    (id->users[i].password.hash == NULL) ||
			    (id2->users[i].password.hash != NULL &&
			     strcmp(id2->users[i].password.hash,
				    id->users[i].password.hash) != 0))
				abort();	/* a lent hash is the copied one */
		/* times read from transient text, names from shared text */
		for (size_t i = 0; id2 != NULL && i < id2->n_users; i++) {
			const struct iam_user *a = &id->users[i];
			const struct iam_user *b = &id2->users[i];

			if (a->created != b->created ||
			    a->password.changed != b->password.changed ||
			    a->n_groups != b->n_groups ||
			    !a->primary_group != !b->primary_group ||
			    (a->primary_group != NULL &&
			     strcmp(a->primary_group, b->primary_group) != 0))
				abort();
			for (size_t j = 0; j < a->n_groups; j++)
				if (strcmp(a->groups[j], b->groups[j]) != 0)
					abort();
		}
		iam_identity_free(id2);
		iam_faults_release(&f2);
	}
	free(copy);
	if (r == 0) {
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
