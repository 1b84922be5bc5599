/*
 * fuzz_policy.c - libFuzzer target: compile any bytes as a policy and,
 * when they compile, evaluate a few fixed requests against them, with
 * the indexed and the naive evaluator agreeing (some requests carry
 * an empty string, an empty list and a value that is not an ARN).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "policy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const requests[][3] = {
	{ "host:Login", "arn:iam:host::123456789012:host/web1", "sshd" },
	{ "sudo:Run", "arn:iam:sudo::123456789012:host/web1/command/usr/bin/systemctl", "sudo" },
	{ "iam:ChangePassword", "arn:iam:iam::123456789012:user/alice", "passwd" },
	{ "sts:AssumeRole", "arn:iam:iam::123456789012:role/deployer", "iamctl" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iam_result res, naive;
	struct iam_faults f = IAM_FAULTS_INIT;
	struct iam_policy *p = NULL;
	struct iam_policy_set *set = NULL;
	bool trust = size > 0 && (data[0] & 1);

	if (iam_policy_compile_text((const char *)data, size, "F", trust, "",
				    &p, &f) == 0 &&
	    iam_policy_set_new((const struct iam_policy *const *)&p, 1,
			       trust ? NULL : p, &set) == 0) {
		for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
			struct iam_request *req;
			int a, b;

			if (iam_request_new(requests[i][0], requests[i][1], &req) < 0)
				abort();
			iam_request_add(req, "aws:username", "alice");
			iam_request_add(req, "aws:PrincipalArn", "arn:iam:iam::123456789012:user/alice");
			iam_request_add(req, "aws:PrincipalAccount", "123456789012");
			iam_request_add(req, "iam:Service", requests[i][2]);
			iam_request_add(req, "aws:SourceIp", "192.0.2.7");
			iam_request_add(req, "aws:CurrentTime", "2026-09-01T09:00:00Z");
			iam_request_add(req, "aws:MultiFactorAuthAge", "300");
			iam_request_add(req, "iam:PrincipalGroups", "dev");
			iam_request_add(req, "iam:PrincipalGroups", "ops");
			if (i % 2 == 1) {
				/* What only policy simulate's requests carry. */
				static const char *const empty[] = { "" };
				static const char *const odd[] = { "not-an-arn",
					"arn:aws:sns:r:1:t" };

				iam_request_add_values(req, "s3:prefix", empty, 1);
				iam_request_add_values(req, "aws:TagKeys", NULL, 0);
				iam_request_add_values(req, "aws:SourceArn", odd, 2);
			}
			a = iam_policy_evaluate(set, req, &res);
			b = iam_policy_evaluate_naive(set, req, &naive);
			if (a != b || (a == 0 && (res.decision != naive.decision ||
						  res.n_matched != naive.n_matched)))
				abort();
			iam_request_free(req);
		}
	}
	iam_policy_set_free(set);
	iam_policy_free(p);
	iam_faults_release(&f);
	return 0;
}
