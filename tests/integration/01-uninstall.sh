# 01-uninstall.sh - make install DESTDIR puts every file at its Debian
# multiarch path with the right mode; make uninstall removes them all and
# keeps only the administrator's configuration.
D=$T/destdir
expect 0 "make install DESTDIR=" make -s -C "$TOP" install DESTDIR="$D"
for f in "usr/lib/$MULTIARCH/security/pam_iam.so" "usr/lib/$MULTIARCH/libnss_iam.so.2" \
	 "usr/lib/$MULTIARCH/libiam.so.1" usr/libexec/sudo/sudo_iam.so usr/bin/iamctl \
	 usr/libexec/iam/iamctl-fleet \
	 etc/iam/iam.conf usr/include/iam.h "usr/lib/$MULTIARCH/pkgconfig/libiam.pc" \
	 usr/share/man/man8/pam_iam.8 usr/share/man/man8/iamctl.8 usr/share/man/man8/libnss_iam.8 \
	 usr/share/man/man8/sudo_iam.8 usr/share/man/man5/iam.conf.5 usr/share/man/man5/iam-identity.5 \
	 usr/share/doc/iam/examples/identity.example.json; do
	if [ -f "$D/$f" ]; then ok "installed /$f"; else bad "missing /$f"; fi
done
mode=$(stat -c %a "$D/usr/bin/iamctl")
[ "$mode" = 755 ] && ok "iamctl is 0755" || bad "iamctl mode $mode"
mode=$(stat -c %a "$D/etc/iam/iam.conf")
[ "$mode" = 644 ] && ok "iam.conf is 0644" || bad "iam.conf mode $mode"
echo '# edited by the administrator' >> "$D/etc/iam/iam.conf"
expect 0 "make install again keeps an edited iam.conf" make -s -C "$TOP" install DESTDIR="$D"
grep -q 'edited by the administrator' "$D/etc/iam/iam.conf" && ok "iam.conf not overwritten" || bad "iam.conf overwritten"
expect 0 "make uninstall DESTDIR=" make -s -C "$TOP" uninstall DESTDIR="$D"
left=$(find "$D" -type f -o -type l | sed "s|^$D||")
[ "$left" = /etc/iam/iam.conf ] && ok "only /etc/iam/iam.conf is left" || { bad "left behind:"; show "$left"; }
