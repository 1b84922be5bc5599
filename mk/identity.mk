# identity.mk - libFuzzer target on the strict JSON parser and the
# identity loader (make fuzz-identity; FUZZ_SECONDS=600 make fuzz-run), and
# the snapshot builders with their readers (make fuzz-snapshots).

IDENTITY_BENCH_USERS ?= 1000 100000
IDENTITY_FUZZ_SRC := $(filter-out libiam/snapshot/nssdb.c,$(LIBIAM_SRC)) libiam/snapshot/nssdb.c

.PHONY: fuzz-identity fuzz-identity-run fuzz-snapshots fuzz-snapshots-run
fuzz: fuzz-identity fuzz-snapshots
fuzz-run: fuzz-identity-run fuzz-snapshots-run

fuzz-identity: build-fuzz/fuzz_identity
fuzz-snapshots: build-fuzz/fuzz_snapshots

build-fuzz/fuzz_identity: tests/fuzz/fuzz_identity.c $(LIBIAM_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -DFUZZ_HOST_ROOT='"$(CURDIR)/tests/fuzz/host"' \
		-DIAM_JSON_WINDOW=61 -std=gnu11 \
		-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_identity.c $(IDENTITY_FUZZ_SRC) $(LIBIAM_DEPS)

fuzz-identity-run: build-fuzz/fuzz_identity
	@mkdir -p build-fuzz/corpus-identity
	build-fuzz/fuzz_identity -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-max_len=65536 -print_final_stats=1 build-fuzz/corpus-identity \
		tests/fuzz/corpus/identity

# The snapshot builders and readers on every identity the loader accepts.
build-fuzz/fuzz_snapshots: tests/fuzz/fuzz_snapshots.c $(LIBIAM_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -DFUZZ_HOST_ROOT='"$(CURDIR)/tests/fuzz/host"' \
		-DIAM_JSON_WINDOW=61 -std=gnu11 \
		-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_snapshots.c $(IDENTITY_FUZZ_SRC) $(LIBIAM_DEPS)

fuzz-snapshots-run: build-fuzz/fuzz_snapshots
	@mkdir -p build-fuzz/corpus-snapshots
	build-fuzz/fuzz_snapshots -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-max_len=65536 -print_final_stats=1 build-fuzz/corpus-snapshots \
		tests/fuzz/corpus/identity

.PHONY: bench-identity
bench: bench-identity

$(B)/bench/bench_identity: tests/bench/bench_identity.c $(LIBIAM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DHOST_ROOT='"$(CURDIR)/tests/fuzz/host"' $(CFLAGS) \
		-Wno-missing-prototypes -o $@ $< $(LIBIAM_OBJ) $(LIBIAM_DEPS)

# BENCH_1M=1 adds a million users (tests/bench/bench-identity.sh)
bench-identity: all $(B)/bench/bench_identity
	@tests/bench/bench-identity.sh $(B) $(IDENTITY_BENCH_USERS)

# 96-scale with a million users (make check runs it with 200000); the
# time and peak memory of each step are in its log.
.PHONY: check-scale
check-scale: all
	@SCALE_USERS=$${SCALE_USERS:-1000000} B=$(B) scripts/run-integration.sh 96-scale
