/*
 * fuzz_identity.c - libFuzzer target: the strict JSON parser and the
 * identity loader with its validation, on arbitrary bytes.  Host checks
 * read the empty host folder tests/fuzz/host (no local accounts).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "iam.h"
#include "identity_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_list(const char **a, size_t na, const char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_str(a[i], b[i]))
			return false;
	return true;
}

/* Every field of a user the model keeps without its sources. */
static bool
same_user(const struct iam_user *a, const struct iam_user *b)
{
	if (!same_str(a->name, b->name) || a->uid != b->uid ||
	    !same_str(a->primary_group, b->primary_group) ||
	    !same_str(a->gecos, b->gecos) || !same_str(a->home, b->home) ||
	    !same_str(a->shell, b->shell) || a->created != b->created ||
	    !same_list(a->groups, a->n_groups, b->groups, b->n_groups) ||
	    !same_list(a->policies, a->n_policies, b->policies,
		       b->n_policies) ||
	    !same_str(a->permissions_boundary, b->permissions_boundary) ||
	    a->tags.n != b->tags.n || a->n_inline != b->n_inline ||
	    a->n_ssh_keys != b->n_ssh_keys ||
	    !same_str(a->password.hash, b->password.hash) ||
	    a->password.changed != b->password.changed ||
	    a->password.must_change != b->password.must_change ||
	    !same_str(a->mfa.secret, b->mfa.secret) ||
	    a->disabled != b->disabled)
		return false;
	for (size_t i = 0; i < a->tags.n; i++)
		if (!same_str(a->tags.v[i].key, b->tags.v[i].key) ||
		    !same_str(a->tags.v[i].value, b->tags.v[i].value))
			return false;
	return true;
}

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
		/* times read from transient text, names from shared text,
		   users read straight from the parse's events: the same
		   users as the tree's */
		for (size_t i = 0; id2 != NULL && i < id2->n_users; i++)
			if (!same_user(&id->users[i], &id2->users[i]))
				abort();
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
