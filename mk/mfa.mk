# mk/mfa.mk - MFA self-service and screen lockers: iamctl mfa hands a
# non-root user's own changes to the role helper; pam_iam hands a
# non-root caller's own password check to iam-chkpwd.

# pam_iam finds iam-chkpwd where `make install` puts it (iamctl mfa
# reaches the role helper through role.o, mk/roles.mk).
$(B)/obj/pam_iam/auth.o: CPPFLAGS += -DIAM_LIBEXECDIR='"$(LIBEXECDIR)"'

# iam-chkpwd: setuid root, links libiam's objects directly (as the role
# helper does), installed 4755 root in $(LIBEXECDIR).
CHKPWD     := $(B)/iam-chkpwd
CHKPWD_OBJ := $(call obj,iamctl/chkpwd.c)

all: $(CHKPWD)

$(CHKPWD): $(CHKPWD_OBJ) $(LIBIAM_OBJ)
	$(CC) -pie $(LDFLAGS) -o $@ $(CHKPWD_OBJ) $(LIBIAM_OBJ) $(LIBIAM_DEPS)

CHKPWD_OWNER := $(if $(filter 0,$(shell id -u)),-o root -g root,)

.PHONY: install-chkpwd
install: install-chkpwd
install-chkpwd: $(CHKPWD)
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 4755 $(CHKPWD_OWNER) $(CHKPWD) $(DESTDIR)$(LIBEXECDIR)/iam-chkpwd

# libFuzzer target on iam-chkpwd's request lines (its own source without
# main): make fuzz-chkpwd; FUZZ_SECONDS=600 make fuzz-chkpwd-run.
.PHONY: fuzz-chkpwd fuzz-chkpwd-run
fuzz: fuzz-chkpwd
fuzz-run: fuzz-chkpwd-run

fuzz-chkpwd: build-fuzz/fuzz_chkpwd

build-fuzz/fuzz_chkpwd: tests/fuzz/fuzz_chkpwd.c iamctl/chkpwd.c $(LIBIAM_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=gnu11 -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_chkpwd.c $(LIBIAM_SRC) $(LIBIAM_DEPS)

fuzz-chkpwd-run: build-fuzz/fuzz_chkpwd
	@mkdir -p build-fuzz/corpus-chkpwd
	build-fuzz/fuzz_chkpwd -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-max_len=4096 -close_fd_mask=2 -print_final_stats=1 \
		build-fuzz/corpus-chkpwd tests/fuzz/corpus/chkpwd

# The role helper runs iamctl (as root) for a user's own MFA change.
$(B)/obj/iamctl/role_helper.o: CPPFLAGS += -DIAM_BINDIR='"$(BINDIR)"'
