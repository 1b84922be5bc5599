# 00-install.sh - the installed files are where Debian expects them, load
# with RTLD_NOW, and export only their interface.
for f in "$LIBDIR/security/pam_iam.so" "$LIBDIR/libnss_iam.so.2" \
	 "$LIBDIR/libiam.so.1" /usr/libexec/sudo/sudo_iam.so /usr/bin/iamctl \
	 /etc/iam/iam.conf; do
	if [ -e "$f" ]; then ok "installed $f"; else bad "missing $f"; fi
done
expect_out 0 '^iamctl ' "iamctl runs from /usr/bin" iamctl --version
# The fleet's network code is iamctl-fleet's alone (iamctl(8), FILES).
out=$(ldd /usr/bin/iamctl | grep -E 'libcurl|libsodium')
[ -z "$out" ] && ok "iamctl links neither libcurl nor libsodium" || bad "iamctl links: $out"
out=$(ldd /usr/libexec/iam/iamctl-fleet | grep -cE 'libcurl|libsodium')
[ "$out" = 2 ] && ok "iamctl-fleet links libcurl and libsodium" || bad "iamctl-fleet links $out of them"
expect_out 0 'iamctl fleet push' "iamctl fleet runs iamctl-fleet" iamctl fleet --help
expect_out 2 'unknown command' "iamctl-fleet refuses what iamctl refuses" iamctl fleet nonsense
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
# Every installed header compiles alone with pkg-config's flags only, and
# its path macros are usable without the build's -D options.  The headers
# stay under $ROOT (not overlaid): pkg-config's sysroot points there.
inc="$ROOT/usr/include"
cflags=$(PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_PATH="$LIBDIR/pkgconfig" \
	pkg-config --cflags libiam)
hdr_err=$(mktemp)
for h in "$inc"/iam.h "$inc"/iam/*.h; do
	n=${h#"$inc"/}
	if printf '#include <%s>\n' "$n" | cc $cflags -std=c11 -Wall -Werror \
		-x c -fsyntax-only - 2>"$hdr_err"; then
		ok "header $n compiles alone"
	else
		bad "header $n does not compile alone: $(head -3 "$hdr_err")"
	fi
done
if printf '#include <iam.h>\nconst char *p[] = { IAM_DEFAULT_CONFIG, IAM_NSS_DB, IAM_AUTH_DIR };\n' |
	cc $cflags -std=c11 -Wall -Werror -x c -fsyntax-only - 2>"$hdr_err"; then
	ok "iam.h path macros have defaults"
else
	bad "iam.h path macros: $(head -3 "$hdr_err")"
fi
# libiam.so.1 exports exactly what its installed headers declare.
all_h=$(mktemp --suffix=.c)
for h in "$inc"/iam.h "$inc"/iam/*.h; do
	printf '#include <%s>\n' "${h#"$inc"/}"
done >"$all_h"
aux=$(mktemp)
cc $cflags -std=gnu11 -fsyntax-only -aux-info "$aux" "$all_h" 2>"$hdr_err"
declared=$(grep -F "$inc/iam" "$aux" | sed -E 's|/\*[^*]*\*/ *||; s/\(.*//' |
	awk '{print $NF}' | tr -d '*' | sort -u)
exported=$(nm -D --defined-only "$LIBDIR/libiam.so.1" | awk '$2 == "T" {print $3}' |
	sed 's/@.*//' | sort -u)
out=$(comm -23 <(echo "$exported") <(echo "$declared") | tr '\n' ' ')
[ -n "$declared" ] && [ -z "$out" ] && ok "libiam.so.1 exports only declared names" ||
	bad "libiam.so.1 exports undeclared names: ${out:-(no declarations read)}"
rm -f "$hdr_err" "$all_h" "$aux"
