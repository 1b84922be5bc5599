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
