# 00-install.sh - the installed files are where Debian expects them, load
# with RTLD_NOW, and export only their interface.
for f in "$LIBDIR/security/pam_iam.so" "$LIBDIR/libnss_iam.so.2" \
	 "$LIBDIR/libiam.so.1" /usr/libexec/sudo/sudo_iam.so /usr/bin/iamctl \
	 /etc/iam/iam.conf; do
	if [ -e "$f" ]; then ok "installed $f"; else bad "missing $f"; fi
done
expect_out 0 '^iamctl ' "iamctl runs from /usr/bin" iamctl --version
out=$(nm -D --defined-only "$LIBDIR/security/pam_iam.so" | awk '{print $3}' | grep -v '^pam_sm_' | grep -v '^$')
[ -z "$out" ] && ok "pam_iam.so exports only pam_sm_*" || bad "pam_iam.so exports: $out"
out=$(nm -D --defined-only "$LIBDIR/libnss_iam.so.2" | awk '{print $3}' | grep -v '^_nss_iam_' | grep -v '^$')
[ -z "$out" ] && ok "libnss_iam.so.2 exports only _nss_iam_*" || bad "libnss_iam.so.2 exports: $out"
out=$(nm -D --defined-only "$LIBDIR/libiam.so.1" | awk '{print $3}' | grep -v '^iam_' | grep -v '^LIBIAM_' | grep -v '^$')
[ -z "$out" ] && ok "libiam.so.1 exports only iam_*" || bad "libiam.so.1 exports: $out"
out=$(nm -D --defined-only /usr/libexec/sudo/sudo_iam.so | awk '{print $3}' | grep -v '^sudo_iam$' | grep -v '^$')
[ -z "$out" ] && ok "sudo_iam.so exports only sudo_iam" || bad "sudo_iam.so exports: $out"
expect_out 0 'libiam.so.1' "libiam soname" sh -c "objdump -p $LIBDIR/libiam.so.1 | grep SONAME"
out=$(ldd "$LIBDIR/libnss_iam.so.2" | grep -Ev 'libc\.so|ld-linux|linux-vdso|statically')
[ -z "$out" ] && ok "libnss_iam.so.2 links libc only" || bad "libnss_iam.so.2 links: $out"
