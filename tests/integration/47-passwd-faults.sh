# 47-passwd-faults.sh - a user's own password change through the real
# passwd (setuid root) and pam_iam is one transaction too, now that its
# section under the store's lock runs in a child that is root entirely:
# killed or failed (EIO) at each write, rename, fsync, unlink, link and
# mkdir of passwd or of that child, the readers serve the whole old set
# or the whole new set; passwd's exit 0 means the new one, a refusal the
# old one; the next sync leaves nothing behind (lib-faults.sh, as
# 45-publish-faults.sh does for iamctl).
. "$TOP/tests/integration/lib-faults.sh"
mkdir -p -m 0755 /var/lib/iam
W=$T/w; mkdir -p "$W"
fault_fixture || bad "the fixture does not publish"
printf '%s\n' '{ "Version": "2012-10-17", "Statement": [
  { "Effect": "Allow", "Action": "iam:ChangePassword",
    "Resource": "arn:iam:iam::123456789012:user/${aws:username}" } ] }' > "$W/own.json"
iamctl policy put ChangeOwn "$W/own.json" >/dev/null &&
	iamctl policy attach ChangeOwn --user alice >/dev/null || bad "attach ChangeOwn"
for f in common-password passwd; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
# alice's own passwd, as she would run it.
passwd_by_alice() {
	printf '%s\n%s\n%s\n' "$FX_PW_A" "$FX_PW_NEW" "$FX_PW_NEW" |
		fault_exec setpriv --reuid=70001 --regid=80001 --clear-groups /usr/bin/passwd
}
S=$FAULT_SYSCALLS
fault_sweep "passwd by alice" "$S" KILL : -- passwd_by_alice
fault_sweep "passwd by alice" "$S" EIO : -- passwd_by_alice
# Every call of any kind, in passwd and in the child (fork, setsid,
# setresuid, flock, the pipe, waitpid included).
fault_sweep "passwd by alice (every call)" all EIO : -- passwd_by_alice
# The commit ran in a child of its own session that became root entirely.
strace -f -qq -o "$W/ids.out" -e trace=setresuid,setsid sh -c \
	"printf '%s\n%s\n%s\n' '$FX_PW_A' '$FX_PW_NEW' '$FX_PW_NEW' |
	 setpriv --reuid=70001 --regid=80001 --clear-groups /usr/bin/passwd" >/dev/null 2>&1
grep -q 'setsid()' "$W/ids.out" && grep -q 'setresuid(0, 0, 0) *= 0' "$W/ids.out" &&
	ok "the commit ran in a child of its own session that became root entirely" ||
	{ bad "no root child seen"; show "$(head -c 600 "$W/ids.out")"; }
echo "fault runs: $FAULT_RUNS"
