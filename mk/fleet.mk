# mk/fleet.mk - the fleet (iam-agent(8)): the agent/ sources, built into
# iamctl and iam-agent only.  libiam.so, pam_iam, nss_iam and sudo_iam
# never link libcurl or libsodium: PAM, NSS and sudo never touch the
# network.

FLEET_SRC  := $(sort $(filter-out agent/iam_agent.c,$(wildcard agent/*.c)))
FLEET_OBJ  := $(call obj,$(FLEET_SRC))
FLEET_DEPS := -lsodium -lcurl
IAM_AGENT  := $(B)/iam-agent

$(FLEET_OBJ) $(call obj,agent/iam_agent.c) $(call obj,iamctl/fleet.c): \
	CPPFLAGS += -Iagent

# iamctl fleet runs iamctl-fleet (iamctl/fleet_exec.c): iamctl's own
# objects with fleet.c in place of fleet_exec.c, and the fleet's objects
# and libraries.  iamctl itself never links libcurl or libsodium.
IAMCTL_FLEET     := $(B)/iamctl-fleet
IAMCTL_FLEET_OBJ := $(filter-out $(call obj,iamctl/fleet_exec.c),$(IAMCTL_OBJ)) \
		    $(call obj,iamctl/fleet.c) $(FLEET_OBJ)
$(call obj,iamctl/fleet_exec.c): CPPFLAGS += -DIAM_LIBEXECDIR='"$(LIBEXECDIR)"'

all: $(IAM_AGENT) $(IAMCTL_FLEET)

$(IAMCTL_FLEET): $(IAMCTL_FLEET_OBJ) $(LIBIAM_SO)
	$(CC) -pie $(LDFLAGS) -o $@ $(IAMCTL_FLEET_OBJ) -L$(B) -liam -lqrencode \
		$(FLEET_DEPS) $(LIBIAM_DEPS)

$(IAM_AGENT): $(call obj,agent/iam_agent.c) $(FLEET_OBJ) $(LIBIAM_SO)
	$(CC) -pie $(LDFLAGS) -o $@ $(call obj,agent/iam_agent.c) $(FLEET_OBJ) \
		-L$(B) -liam $(FLEET_DEPS) $(LIBIAM_DEPS)

# Fleet unit tests link the fleet's objects too.
$(B)/tests/test_fleet_%: tests/unit/test_fleet_%.c $(FLEET_OBJ) $(LIBIAM_OBJ) $(LIBIAM_SO) $(IAMCTL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iagent -DBUILD_DIR='"$(abspath $(B))"' -DSRC_DIR='"$(CURDIR)"' $(CFLAGS) \
		-Wno-missing-prototypes -pie $(LDFLAGS) -o $@ $< $(FLEET_OBJ) $(LIBIAM_OBJ) \
		-lcriterion -lpam -ldl $(FLEET_DEPS) $(LIBIAM_DEPS)

# A daemon: /usr/sbin/iam-agent (the unit's ExecStart).
AGENTDIR ?= $(PREFIX)/sbin
UNITDIR  ?= /lib/systemd/system

.PHONY: install-agent uninstall-agent
install: install-agent
install-agent: $(IAM_AGENT) $(IAMCTL_FLEET)
	install -d $(DESTDIR)$(AGENTDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(IAM_AGENT) $(DESTDIR)$(AGENTDIR)/iam-agent
	install -m 0755 $(IAMCTL_FLEET) $(DESTDIR)$(LIBEXECDIR)/iamctl-fleet
	install -m 0644 etc/systemd/iam-agent.service $(DESTDIR)$(UNITDIR)/

uninstall: uninstall-agent
uninstall-agent:
	rm -f $(DESTDIR)$(AGENTDIR)/iam-agent $(DESTDIR)$(UNITDIR)/iam-agent.service \
		$(DESTDIR)$(LIBEXECDIR)/iamctl-fleet

# libFuzzer target on what a host reads from etcd (manifests, host
# records, objects assembled into an identity file).
.PHONY: fuzz-fleet fuzz-fleet-run
fuzz: fuzz-fleet
fuzz-run: fuzz-fleet-run
fuzz-fleet: build-fuzz/fuzz_fleet_manifest

build-fuzz/fuzz_fleet_manifest: tests/fuzz/fuzz_fleet_manifest.c $(FLEET_SRC) $(LIBIAM_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -Iagent -std=gnu11 \
		-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_fleet_manifest.c $(FLEET_SRC) \
		$(filter-out libiam/snapshot/nssdb.c,$(LIBIAM_SRC)) libiam/snapshot/nssdb.c \
		$(FLEET_DEPS) $(LIBIAM_DEPS)

fuzz-fleet-run: build-fuzz/fuzz_fleet_manifest
	@mkdir -p build-fuzz/corpus-fleet
	build-fuzz/fuzz_fleet_manifest -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-max_len=65536 -print_final_stats=1 build-fuzz/corpus-fleet

# make bench: the fleet against a 3-member etcd cluster on loopback
# (FLEET_BENCH_USERS sizes of the initial sync, 20 agents for latency).
FLEET_BENCH_USERS ?= 10000 100000
.PHONY: bench-fleet
bench: bench-fleet
bench-fleet: all
	@tests/bench/bench-fleet.sh $(B) $(FLEET_BENCH_USERS)
