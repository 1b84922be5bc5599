# mk/nss.mk - NSS module extras: the snapshot generator used by the NSS
# integration test and benchmark, the libFuzzer target on the snapshot
# reader, and the NSS benchmark.
#
#   make fuzz-nss                  build $(FUZZ_B)/fuzz_nssdb
#   make fuzz-nss-run FUZZ_SECONDS=600
#   make bench-nss [NSS_BENCH_USERS="1000 10000 100000"] [BENCH_1M=1]
#                  [NSCD=path] [BENCH_NSS_GLIBC_ONLY=1: getpwnam through glibc only]

FUZZ_B       ?= build-fuzz
FUZZ_SECONDS ?= 60
NSS_BENCH_USERS ?= 1000 10000 100000 $(if $(filter 1,$(BENCH_1M)),1000000)

MKNSSDB    := $(B)/mknssdb
BENCH_NSS  := $(B)/bench_nss

$(MKNSSDB): tests/bench/mknssdb.c $(LIBIAM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -pie $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LIBIAM_DEPS)

# Plain libc + libdl: it loads libnss_iam.so.2 and libnss_files.so.2 itself.
$(BENCH_NSS): tests/bench/bench_nss.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -pie $(LDFLAGS) -o $@ $< -ldl

$(FUZZ_B)/fuzz_nssdb: tests/fuzz/fuzz_nssdb.c libiam/snapshot/nssdb.c libiam/snapshot/nssdb.h
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -DIAM_NSS_MODULE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ tests/fuzz/fuzz_nssdb.c libiam/snapshot/nssdb.c

.PHONY: fuzz-nss fuzz-nss-run bench-nss nss-tools
nss-tools: $(MKNSSDB) $(BENCH_NSS)

fuzz-nss: $(FUZZ_B)/fuzz_nssdb

fuzz-nss-run: $(FUZZ_B)/fuzz_nssdb
	@mkdir -p $(FUZZ_B)/corpus-nssdb
	$(FUZZ_B)/fuzz_nssdb -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		$(FUZZ_B)/corpus-nssdb tests/fuzz/corpus/nssdb

bench-nss: all $(MKNSSDB) $(BENCH_NSS)
	@tests/bench/bench-nss.sh $(abspath $(B)) $(NSS_BENCH_USERS)

fuzz: fuzz-nss
fuzz-run: fuzz-nss-run
bench: bench-nss
# the NSS integration test publishes with mknssdb when `iamctl sync` cannot
integration: $(MKNSSDB)
