# mk/sudo.mk - sudo approval plugin extras: its benchmark.
#
#   make bench-sudo [SUDO_BENCH_USERS="1000 100000"]

SUDO_BENCH_USERS ?= 1000 100000

BENCH_SUDO := $(B)/bench_sudo

# Links libiam's objects (it publishes the snapshots it measures against)
# and loads sudo_iam.so itself with dlopen.
$(BENCH_SUDO): tests/bench/bench_sudo.c $(LIBIAM_OBJ) $(LIBIAM_SO) $(SUDO_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DBUILD_DIR='"$(abspath $(B))"' $(CFLAGS) \
		-Wno-missing-prototypes -pie $(LDFLAGS) -o $@ $< $(LIBIAM_OBJ) \
		-ldl $(LIBIAM_DEPS)

.PHONY: bench-sudo
bench-sudo: all $(BENCH_SUDO)
	@tests/bench/bench-sudo.sh $(abspath $(B)) $(SUDO_BENCH_USERS)

bench: bench-sudo
