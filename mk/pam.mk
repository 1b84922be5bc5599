# mk/pam.mk - pam_iam extras: the authentication benchmark.
#
#   make bench-pam [PAM_BENCH_USERS="1000 100000"]

PAM_BENCH_USERS ?= 1000 100000

BENCH_PAM := $(B)/bench_pam

# Links libiam's objects: it publishes the snapshot it measures against
# and calls the parts of an authentication directly.
$(BENCH_PAM): tests/bench/bench_pam.c $(LIBIAM_OBJ) $(LIBIAM_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -pie $(LDFLAGS) \
		-o $@ $< $(LIBIAM_OBJ) $(LIBIAM_DEPS)

.PHONY: bench-pam
bench-pam: $(LIBIAM_SO) $(BENCH_PAM)
	@tests/bench/bench-pam.sh $(abspath $(B)) $(PAM_BENCH_USERS)

bench: bench-pam
