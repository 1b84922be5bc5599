# iam for Linux hosts - one plain GNU Makefile.
#
#   make              build everything under build/
#   make check        install missing Debian packages (root), then run every test
#   make demo         the whole system in a private mount namespace
#   make asan         the unit tests under AddressSanitizer + UBSan
#   make fuzz         build the libFuzzer targets (FUZZ_SECONDS=N make fuzz-run)
#   make bench        benchmarks, as ratios against baselines run side by side
#                     (BENCH_1M=1 adds a million users where it applies)
#   make check-scale  a million users end to end (SCALE_USERS=N for another)
#   make install DESTDIR=...   /   make uninstall
#   make deb          Debian packages (debhelper) into build/deb/
#   make deb-check    lintian, then install them on a throw-away root and log in
#
# Source lists are wildcards: a new file in a part's folder is built into
# that part.  Extra rules of a part live in mk/*.mk.

MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
PREFIX     ?= /usr
LIBDIR     ?= $(PREFIX)/lib/$(MULTIARCH)
PAMDIR     ?= $(LIBDIR)/security
SUDODIR    ?= $(PREFIX)/libexec/sudo
LIBEXECDIR ?= $(PREFIX)/libexec/iam
BINDIR     ?= $(PREFIX)/bin
INCDIR     ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/iam
SYSCONFDIR ?= /etc
# Where this system's systemd looks for packaged units (Debian 12: /lib).
UNITDIR    ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
PAMCONFIGDIR ?= $(PREFIX)/share/pam-configs
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# Fixed when building: the NSS module reads no configuration.
SNAPSHOT_DIR ?= /var/lib/iam

B := build
VERSION := 0.1.0

CC ?= cc
OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla \
	-Wimplicit-fallthrough
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
# libiam's five parts, one folder each; their private headers (*_int.h,
# fnv.h, nssdb.h) are found by name from every part.
LIBIAM_PARTS := policy identity snapshot host base
CPPFLAGS += -D_GNU_SOURCE -Ilibiam/include $(addprefix -Ilibiam/,$(LIBIAM_PARTS)) \
	-DIAM_SNAPSHOT_DIR='"$(SNAPSHOT_DIR)"' -DIAM_SYSCONFDIR='"$(SYSCONFDIR)"' \
	-DIAM_VERSION='"$(VERSION)"'
CFLAGS  ?= $(OPT)
CFLAGS  += -std=gnu11 $(WARN) $(HARDEN) -MMD -MP
LDHARDEN := -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed
LDFLAGS += $(LDHARDEN)

LIBIAM_DEPS := -lyajl -lconfig -loath -lcrypt -lpthread

LIBIAM_SRC := $(sort $(wildcard $(addsuffix /*.c,$(addprefix libiam/,$(LIBIAM_PARTS)))))
PAM_SRC    := $(sort $(wildcard pam_iam/*.c))
NSS_SRC    := $(sort $(wildcard nss_iam/*.c))
SUDO_SRC   := $(sort $(wildcard sudo_iam/*.c))
IAMCTL_SRC := $(sort $(filter-out iamctl/role_helper.c iamctl/chkpwd.c iamctl/fleet.c,$(wildcard iamctl/*.c)))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIBIAM_OBJ := $(call obj,$(LIBIAM_SRC))
PAM_OBJ    := $(call obj,$(PAM_SRC))
NSS_OBJ    := $(patsubst %.c,$(B)/nss/%.o,$(NSS_SRC))
SUDO_OBJ   := $(call obj,$(SUDO_SRC))
IAMCTL_OBJ := $(call obj,$(IAMCTL_SRC))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

LIBIAM_SO  := $(B)/libiam.so.1
PAM_SO     := $(B)/pam_iam.so
NSS_SO     := $(B)/libnss_iam.so.2
SUDO_SO    := $(B)/sudo_iam.so
IAMCTL     := $(B)/iamctl

MAN_PAGES  := $(sort $(wildcard docs/*.[58]))

all: $(LIBIAM_SO) $(PAM_SO) $(NSS_SO) $(SUDO_SO) $(IAMCTL) $(B)/libiam.pc
.PHONY: all check unit integration demo asan fuzz fuzz-run bench install uninstall clean deps man-check \
	deb deb-lint deb-check

# V=1 shows every command.
Q := $(if $(V),,@)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The NSS module is compiled on its own: libc only, no libiam headers' deps;
# nss_iam.c includes the snapshot reader libiam/snapshot/nssdb.c.
$(B)/nss/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC nss  $<")
	$(Q)$(CC) $(CPPFLAGS) -DIAM_NSS_MODULE $(CFLAGS) -fvisibility=hidden -c -o $@ $<

$(LIBIAM_SO): $(LIBIAM_OBJ) libiam/libiam.map
	$(CC) -shared -Wl,-soname,libiam.so.1 -Wl,--version-script=libiam/libiam.map \
		$(LDFLAGS) -o $@ $(LIBIAM_OBJ) $(LIBIAM_DEPS)
	ln -sf libiam.so.1 $(B)/libiam.so

$(PAM_SO): $(PAM_OBJ) $(LIBIAM_SO) pam_iam/pam_iam.map
	$(CC) -shared -Wl,--version-script=pam_iam/pam_iam.map $(LDFLAGS) -o $@ \
		$(PAM_OBJ) -L$(B) -liam -lpam

$(NSS_SO): $(NSS_OBJ) nss_iam/nss_iam.map
	$(CC) -shared -nodefaultlibs -Wl,-soname,libnss_iam.so.2 \
		-Wl,--version-script=nss_iam/nss_iam.map $(LDFLAGS) -o $@ $(NSS_OBJ) -lc

$(SUDO_SO): $(SUDO_OBJ) $(LIBIAM_SO) sudo_iam/sudo_iam.map
	$(CC) -shared -Wl,--version-script=sudo_iam/sudo_iam.map $(LDFLAGS) -o $@ \
		$(SUDO_OBJ) -L$(B) -liam

$(IAMCTL): $(IAMCTL_OBJ) $(LIBIAM_SO)
	$(CC) -pie $(LDFLAGS) -o $@ $(IAMCTL_OBJ) -L$(B) -liam -lqrencode $(LIBIAM_DEPS)

$(B)/libiam.pc: libiam/libiam.pc.in
	@mkdir -p $(B)
	sed -e 's|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|' $< > $@

# Unit tests link libiam's objects directly, so internal functions are
# reachable; each test_X.c is its own Criterion binary.
$(B)/tests/%: tests/unit/%.c $(LIBIAM_OBJ) $(LIBIAM_SO) $(PAM_SO) $(NSS_SO) $(SUDO_SO) $(IAMCTL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DBUILD_DIR='"$(abspath $(B))"' -DSRC_DIR='"$(CURDIR)"' $(CFLAGS) \
		-Wno-missing-prototypes -pie $(LDFLAGS) -o $@ $< $(LIBIAM_OBJ) \
		-lcriterion -lpam -ldl $(LIBIAM_DEPS)

-include $(wildcard mk/*.mk)

deps:
	@scripts/install-deps.sh

unit: all $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: all
	@B=$(B) scripts/run-integration.sh

man-check:
	@scripts/man-check.sh $(MAN_PAGES)

check: deps
	$(MAKE) all
	$(MAKE) man-check
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) deb-check
	$(MAKE) demo-run

# dpkg-buildpackage runs on a copy of the tree (scripts/make-deb.sh), so
# neither this tree's build/ nor its parent folder is touched.
deb:
	@scripts/make-deb.sh

deb-lint: deb
	@scripts/lint-deb.sh

deb-check: deb-lint
	@scripts/deb-test.sh

demo: deps
	$(MAKE) all
	$(MAKE) demo-run

demo-run: all
	@B=$(B) scripts/demo.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(SUDODIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(INCDIR)/iam \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(SYSCONFDIR)/iam \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(LIBIAM_SO) $(DESTDIR)$(LIBDIR)/libiam.so.1
	ln -sf libiam.so.1 $(DESTDIR)$(LIBDIR)/libiam.so
	install -m 0644 $(PAM_SO) $(DESTDIR)$(PAMDIR)/pam_iam.so
	install -m 0644 $(NSS_SO) $(DESTDIR)$(LIBDIR)/libnss_iam.so.2
	install -m 0644 $(SUDO_SO) $(DESTDIR)$(SUDODIR)/sudo_iam.so
	install -m 0755 $(IAMCTL) $(DESTDIR)$(BINDIR)/iamctl
	install -m 0644 libiam/include/iam.h $(DESTDIR)$(INCDIR)/iam.h
	install -m 0644 libiam/include/iam/*.h $(DESTDIR)$(INCDIR)/iam/
	install -m 0644 $(B)/libiam.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libiam.pc
	[ -e $(DESTDIR)$(SYSCONFDIR)/iam/iam.conf ] || \
		install -m 0644 etc/iam.conf $(DESTDIR)$(SYSCONFDIR)/iam/iam.conf
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 etc/identity.example.json etc/nsswitch.conf.example \
		etc/sudo.conf.example $(DESTDIR)$(DOCDIR)/examples/
	install -d $(DESTDIR)$(DOCDIR)/examples/pam.d $(DESTDIR)$(DOCDIR)/examples/sshd_config.d
	install -m 0644 etc/pam.d/* $(DESTDIR)$(DOCDIR)/examples/pam.d/
	install -m 0644 etc/ssh/sshd_config.d/iam.conf $(DESTDIR)$(DOCDIR)/examples/sshd_config.d/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(PAMCONFIGDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0644 etc/systemd/iam-sync.path etc/systemd/iam-sync.service \
		$(DESTDIR)$(UNITDIR)/
	install -m 0644 etc/tmpfiles.d/iam.conf $(DESTDIR)$(TMPFILESDIR)/iam.conf
	install -m 0644 etc/pam-configs/iam etc/pam-configs/iam-password $(DESTDIR)$(PAMCONFIGDIR)/
	install -m 0644 etc/logrotate.d/iam $(DESTDIR)$(SYSCONFDIR)/logrotate.d/iam
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 etc/bash-completion/iamctl $(DESTDIR)$(COMPLETIONDIR)/iamctl

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libiam.so.1 $(DESTDIR)$(LIBDIR)/libiam.so \
		$(DESTDIR)$(PAMDIR)/pam_iam.so $(DESTDIR)$(LIBDIR)/libnss_iam.so.2 \
		$(DESTDIR)$(SUDODIR)/sudo_iam.so $(DESTDIR)$(BINDIR)/iamctl \
		$(DESTDIR)$(LIBEXECDIR)/iam-role-helper $(DESTDIR)$(LIBEXECDIR)/iam-chkpwd \
		$(DESTDIR)$(INCDIR)/iam.h $(DESTDIR)$(LIBDIR)/pkgconfig/libiam.pc \
		$(DESTDIR)$(UNITDIR)/iam-sync.path $(DESTDIR)$(UNITDIR)/iam-sync.service \
		$(DESTDIR)$(TMPFILESDIR)/iam.conf $(DESTDIR)$(PAMCONFIGDIR)/iam \
		$(DESTDIR)$(PAMCONFIGDIR)/iam-password \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/iam $(DESTDIR)$(COMPLETIONDIR)/iamctl
	rm -rf $(DESTDIR)$(INCDIR)/iam
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "uninstall: $(SYSCONFDIR)/iam/iam.conf kept (configuration)"

# Sanitizer build of everything the unit tests run, in its own tree.
asan:
	$(MAKE) B=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" HARDEN="-fPIC" unit-asan

unit-asan: all $(UNIT_BIN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		IAM_ASAN=1 scripts/run-unit.sh $(UNIT_BIN)

clean:
	rm -rf build build-*

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
