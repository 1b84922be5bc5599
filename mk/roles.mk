# mk/roles.mk - the setuid-root helper of assume-role, whoami and
# drop-role: iam-role-helper, installed 4755 root in $(LIBEXECDIR).
#
# It links libiam's objects directly, so the one privileged binary does
# not depend on where libiam.so.1 was installed.

ROLE_HELPER     := $(B)/iam-role-helper
ROLE_HELPER_OBJ := $(call obj,iamctl/role_helper.c)

all: $(ROLE_HELPER)

$(ROLE_HELPER): $(ROLE_HELPER_OBJ) $(LIBIAM_OBJ)
	$(CC) -pie $(LDFLAGS) -o $@ $(ROLE_HELPER_OBJ) $(LIBIAM_OBJ) $(LIBIAM_DEPS)

# iamctl finds the helper where `make install` puts it.
$(B)/obj/iamctl/role.o: CPPFLAGS += -DIAM_LIBEXECDIR='"$(LIBEXECDIR)"'

# Owner root where the installer can set it (a packager's fakeroot too).
ROLE_HELPER_OWNER := $(if $(filter 0,$(shell id -u)),-o root -g root,)

.PHONY: install-role-helper
install: install-role-helper
install-role-helper: $(ROLE_HELPER)
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 4755 $(ROLE_HELPER_OWNER) $(ROLE_HELPER) \
		$(DESTDIR)$(LIBEXECDIR)/iam-role-helper

# libFuzzer target on the helper's argv and code line (the helper's own
# source without its main): make fuzz-role-helper; FUZZ_SECONDS=600
# make fuzz-run.
.PHONY: fuzz-role-helper fuzz-role-helper-run
fuzz: fuzz-role-helper
fuzz-run: fuzz-role-helper-run

fuzz-role-helper: build-fuzz/fuzz_role_helper

build-fuzz/fuzz_role_helper: tests/fuzz/fuzz_role_helper.c iamctl/role_helper.c $(LIBIAM_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=gnu11 -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_role_helper.c $(LIBIAM_SRC) $(LIBIAM_DEPS)

fuzz-role-helper-run: build-fuzz/fuzz_role_helper
	@mkdir -p build-fuzz/corpus-role_helper
	build-fuzz/fuzz_role_helper -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-max_len=4096 -close_fd_mask=2 -print_final_stats=1 \
		build-fuzz/corpus-role_helper tests/fuzz/corpus/role_helper
