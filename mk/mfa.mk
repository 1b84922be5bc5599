# mk/mfa.mk - MFA self-service and screen lockers: iamctl mfa hands a
# non-root user's own changes to the role helper; pam_iam hands a
# non-root caller's own password check to iam-chkpwd.

# iamctl finds the helper where `make install` puts it.
$(B)/obj/iamctl/mfa.o: CPPFLAGS += -DIAM_LIBEXECDIR='"$(LIBEXECDIR)"'
