# policy.mk - libFuzzer targets and the benchmark of the policy engine.
#
#   make fuzz-policy                   build build-fuzz/fuzz_policy, fuzz_glob
#   FUZZ_SECONDS=600 make fuzz-run     run every fuzz target (see Makefile)
#   make bench-policy                  median ns per decision, scaling, Ir

FUZZ_DIR   := build-fuzz
FUZZ_CC    ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Ilibiam/include $(addprefix -Ilibiam/,$(LIBIAM_PARTS)) -std=gnu11
POLICY_SRC := $(addprefix libiam/policy/,policy.c eval.c request.c variables.c \
	explain.c condition.c glob.c) libiam/base/util.c
FUZZ_JSON_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: fuzz-policy fuzz-policy-run bench-policy
fuzz: fuzz-policy
fuzz-run: fuzz-policy-run
bench: bench-policy

fuzz-policy: $(FUZZ_DIR)/fuzz_policy $(FUZZ_DIR)/fuzz_glob

$(FUZZ_DIR)/fuzz_policy_json.o: libiam/base/json.c libiam/include/iam/json.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_JSON_FLAGS) -c -o $@ libiam/base/json.c

$(FUZZ_DIR)/fuzz_policy: tests/fuzz/fuzz_policy.c $(POLICY_SRC) $(FUZZ_DIR)/fuzz_policy_json.o libiam/policy/policy_int.h libiam/include/iam/policy.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_policy.c $(POLICY_SRC) \
		$(FUZZ_DIR)/fuzz_policy_json.o -lyajl

$(FUZZ_DIR)/fuzz_glob: tests/fuzz/fuzz_glob.c libiam/policy/glob.c libiam/policy/policy_int.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_glob.c libiam/policy/glob.c

# New inputs go to a scratch folder; the kept corpora stay as committed.
fuzz-policy-run: fuzz-policy
	@for t in policy glob; do \
		mkdir -p $(FUZZ_DIR)/corpus-$$t; \
		$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
			-print_final_stats=1 $(FUZZ_DIR)/corpus-$$t tests/fuzz/corpus/$$t \
			|| exit 1; \
	done

$(B)/bench/bench_policy: tests/bench/bench_policy.c $(LIBIAM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DSRC_DIR='"$(CURDIR)"' $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(LIBIAM_OBJ) $(LIBIAM_DEPS)

# Times first, then callgrind instruction counts of the same loops.
bench-policy: $(B)/bench/bench_policy
	@$(B)/bench/bench_policy
	@if command -v valgrind >/dev/null; then \
		$(B)/bench/bench_policy --ir-table $(B)/bench; \
	else echo "bench-policy: valgrind missing, no instruction counts"; fi
