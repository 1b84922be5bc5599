# 80-deb.sh - the Debian packages on a throw-away host (run by
# scripts/deb-test.sh in a private mount namespace; $TOP is the tree, $W
# an empty folder).  /etc, /var and /usr become overlays over the real
# ones and /run, /home and /root fresh tmpfs, so dpkg, pam-auth-update
# and pam_mkhomedir change only this namespace.  Then, as an
# administrator following README: install, iamctl init, a user with a
# password and MFA, pam-auth-update --enable iam; the user logs in
# through the real sshd (password + code) and gets a home, runs an allowed
# sudo, changes the password with passwd; pam-auth-update --force keeps
# pam_iam; the units, tmpfiles.d and logrotate files work; purge restores
# the PAM and nsswitch files byte for byte.
set -uo pipefail
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	echo "80-deb: refusing to run in the host's mount namespace" >&2
	exit 1
fi
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
show() { [ -n "${1:-}" ] && printf '      %s\n' "${1//$'\n'/$'\n'      }"; return 0; }
expect_out() {	# expect_out WANT_RC REGEX "description" command...
	local want=$1 re=$2 d=$3 out rc
	shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" <<<"$out"; then ok "$d"
	else bad "$d (rc=$rc, wanted $want and /$re/)"; fi
	show "$out"
	LAST_OUT=$out
}
SSHD_PID=
trap '[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null; cd /; umount -l "$W" 2>/dev/null; true' EXIT

# ---- the throw-away host ----------------------------------------------------
mount -t tmpfs -o mode=755 tmpfs "$W"
for d in etc var usr; do
	mkdir -p "$W/ovl/$d.u" "$W/ovl/$d.w"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$W/ovl/$d.u,workdir=$W/ovl/$d.w" "/$d"
done
for d in /run /home /root; do mount -t tmpfs -o mode=755 tmpfs "$d"; done
chmod 700 /root
mkdir -p /run/lock /run/sshd
rm -rf /var/lib/iam /var/log/iam /etc/iam
mkdir -p "$W/before"
PAMFILES="common-auth common-account common-password common-session common-session-noninteractive"
for f in $PAMFILES; do cp -p "/etc/pam.d/$f" "$W/before/"; done
cp -p /etc/nsswitch.conf /etc/sudo.conf "$W/before/"
export DEBIAN_FRONTEND=noninteractive
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "== install"
# an nscd that caches passwd (a stub: only its presence and nscd.conf count)
printf '#!/bin/sh\nexit 0\n' > /usr/sbin/nscd; chmod 755 /usr/sbin/nscd
printf 'enable-cache\t\tpasswd\t\tyes\n' > /etc/nscd.conf
expect_out 0 'Setting up iam-tools' "apt-get install ./build/deb/*.deb" \
	apt-get install -y --no-install-recommends "$TOP"/build/deb/*.deb
grep -q 'libnss-iam: nscd caches passwd/group' <<<"$LAST_OUT" && ok "libnss-iam warns that nscd caches passwd/group" ||
	bad "no nscd warning at install"
rm -f /usr/sbin/nscd /etc/nscd.conf
n=$(dpkg-query -W -f='${db:Status-Abbrev}\n' libiam1 libiam-dev libpam-iam libnss-iam sudo-iam iam-tools 2>/dev/null | grep -c '^ii')
[ "$n" = 6 ] && ok "the six packages are installed" || bad "installed packages: $n of 6"
grep -Eq '^passwd:\s.*\sfiles iam(\s|$)' /etc/nsswitch.conf && grep -Eq '^group:\s.*\sfiles iam(\s|$)' /etc/nsswitch.conf &&
	ok "libnss-iam put iam after files in passwd: and group:" || bad "nsswitch.conf: $(grep -E '^(passwd|group):' /etc/nsswitch.conf)"
[ "$(stat -c '%a %U' /usr/libexec/iam/iam-role-helper)" = "4755 root" ] && ok "iam-role-helper is root 4755" ||
	bad "iam-role-helper: $(stat -c '%a %U' /usr/libexec/iam/iam-role-helper 2>&1)"
[ "$(stat -c '%a %U' /usr/libexec/iam/iam-chkpwd)" = "4755 root" ] && ok "iam-chkpwd is root 4755" ||
	bad "iam-chkpwd: $(stat -c '%a %U' /usr/libexec/iam/iam-chkpwd 2>&1)"
[ "$(command -v iamctl)" = /usr/bin/iamctl ] && ok "iamctl is /usr/bin/iamctl, on every user's PATH" || bad "iamctl: $(command -v iamctl)"
[ "$(stat -c '%a %U' /run/iam 2>&1)" = "700 root" ] && ok "the postinst made /run/iam root 0700 (tmpfiles.d)" ||
	bad "/run/iam: $(stat -c '%a %U' /run/iam 2>&1)"
grep -q pam_iam /etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-session &&
	bad "installing alone enabled pam_iam for logins" || ok "installing alone adds pam_iam to no login stack (iam: Default: no)"
awk '/pam_unix\.so/ && !u {u=NR} /pam_iam\.so/ {i=NR} END {exit !(i && u && u < i)}' /etc/pam.d/common-password &&
	ok "common-password: pam_iam after pam_unix (iam-password)" || bad "common-password: $(grep -E 'pam_(iam|unix)' /etc/pam.d/common-password)"
expect_out 0 '' "systemd-analyze verify iam-sync.path iam-sync.service iam-agent.service" \
	systemd-analyze verify /lib/systemd/system/iam-sync.path /lib/systemd/system/iam-sync.service \
	/lib/systemd/system/iam-agent.service
[ -z "$LAST_OUT" ] || bad "systemd-analyze verify printed something"

echo "== first run"
expect_out 0 'published generation 1' "iamctl init" iamctl init --account-id 123456789012 --alias deb-host
expect_out 0 'user alice added' "iamctl user add alice" iamctl user add alice --gecos "Alice Liddell"
cat > "$W/policy.json" <<'P'
{ "Version": "2012-10-17", "Statement": [
  { "Sid": "Login", "Effect": "Allow", "Action": "host:Login", "Resource": "*" },
  { "Sid": "IdAsRoot", "Effect": "Allow", "Action": "sudo:Run",
    "Resource": "arn:iam:sudo::123456789012:host/*/command/usr/bin/id" },
  { "Sid": "OwnPassword", "Effect": "Allow", "Action": "iam:ChangePassword",
    "Resource": "arn:iam:iam::123456789012:user/${aws:username}" } ] }
P
expect_out 0 'policy DebUser' "iamctl policy put" iamctl policy put DebUser "$W/policy.json"
expect_out 0 'attached' "iamctl policy attach --user alice" iamctl policy attach DebUser --user alice
PW='Looking-Glass-2026%'
expect_out 0 'password of alice changed' "iamctl passwd alice --stdin" sh -c "echo '$PW' | iamctl passwd alice --stdin"
mkfifo "$W/code"
iamctl mfa enable alice --no-qr <"$W/code" >"$W/mfa.out" 2>&1 &
pid=$!
exec 7>"$W/code"
for _ in $(seq 100); do grep -q '^otpauth://' "$W/mfa.out" && break; sleep 0.1; done
SECRET=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$W/mfa.out")
oathtool --totp -b "$SECRET" >&7
exec 7>&-
wait "$pid" && grep -q 'MFA device of alice enabled' "$W/mfa.out" && ok "iamctl mfa enable alice" ||
	{ bad "mfa enable"; show "$(cat "$W/mfa.out")"; }
expect_out 0 'uid=70000\(alice\)' "alice resolves through the packaged NSS module" id alice
expect_out 0 '^alice$' "the packaged bash completion offers alice for iamctl passwd a<TAB>" bash -c '
	. /usr/share/bash-completion/completions/iamctl
	COMP_WORDS=(iamctl passwd a); COMP_CWORD=2; _iamctl; printf "%s\n" "${COMPREPLY[@]}"'

echo "== pam-auth-update"
expect_out 0 '' "pam-auth-update --enable iam" pam-auth-update --enable iam
for f in common-auth common-account common-password common-session common-session-noninteractive; do
	grep -q 'pam_iam\.so' "/etc/pam.d/$f" && ok "$f stacks pam_iam" || bad "$f has no pam_iam"
done
awk '/pam_iam\.so/ {i=NR} /pam_unix\.so/ && !u {u=NR} END {exit !(i && u && i < u)}' /etc/pam.d/common-auth &&
	ok "common-auth: pam_iam comes before pam_unix" || bad "common-auth order"
grep -Eq '^auth\s+\[success=2 user_unknown=ignore authinfo_unavail=ignore default=die\]\s+pam_iam\.so' /etc/pam.d/common-auth &&
	ok "common-auth: success jumps over pam_unix and pam_deny" || bad "common-auth: $(grep pam_iam /etc/pam.d/common-auth)"
grep -Eq '^account\s+\[success=2 user_unknown=ignore default=die\]\s+pam_iam\.so' /etc/pam.d/common-account &&
	ok "common-account: an unusable IAM refuses IAM users (no authinfo_unavail=ignore)" || bad "common-account: $(grep pam_iam /etc/pam.d/common-account)"
grep -Eq 'pam_mkhomedir\.so' /etc/pam.d/common-session && ok "common-session creates homes (pam_mkhomedir)" || bad "no pam_mkhomedir"
show "$(grep -h -E 'pam_(iam|unix|mkhomedir)' /etc/pam.d/common-*)"

# A local user: no IAM prompt, no false "Authentication failed."
useradd -m -s /bin/bash localu
expect_out 0 '' "chpasswd sets a local user's password through the stack" sh -c "echo localu:Local-Pass-2026 | chpasswd"
# (the password is offered on up to three prompts, so the first check
# tests only that pam_unix still lets the local user in)
expect_out 0 'successfully' "a local user authenticates through the enabled stack" \
	sh -c "printf 'Local-Pass-2026\n%.0s' 1 2 3 | pamtester sshd localu authenticate"
grep -Eq 'Verification code|Authentication failed' <<<"$LAST_OUT" && bad "the local user saw an IAM prompt or message" ||
	ok "the local user saw no IAM prompt and no failure message"

echo "== sshd: password + code, home made by pam_mkhomedir"
PORT=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
cat > "$W/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $W/hostkey
PidFile $W/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods keyboard-interactive
PasswordAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
PrintMotd no
PrintLastLog no
LoginGraceTime 30
EOF
/usr/sbin/sshd -D -e -f "$W/sshd_config" 2>"$W/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do [ -s "$W/sshd.pid" ] && break; sleep 0.1; done
[ -s "$W/sshd.pid" ] || bad "sshd did not start: $(cat "$W/sshd.log")"
cat > "$W/askpass" <<EOF
#!/bin/sh
case "\$1" in
  *"Verification code"*) echo "\$ASK_CODE" ;;
  *Password*) echo "\$ASK_PW" ;;
  *) echo "askpass: unexpected prompt: \$1" >&2; exit 1 ;;
esac
EOF
chmod 755 "$W/askpass"
[ ! -e /home/alice ] && ok "alice has no home before her first login" || bad "/home/alice exists already"
# a code of the step after the enrolment's (a step is never accepted twice)
CODE=$(oathtool --totp -b -N "$(date -d '+30 sec')" "$SECRET")
expect_out 0 'REMOTE-OK alice /home/alice' "sshd: alice logs in with password and code" \
	env ASK_PW="$PW" ASK_CODE="$CODE" SSH_ASKPASS="$W/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY= \
	setsid -w ssh -F /dev/null -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no \
	-o NumberOfPasswordPrompts=1 -o LogLevel=ERROR -o ConnectTimeout=10 alice@127.0.0.1 \
	'echo REMOTE-OK $(id -un) $(pwd)' </dev/null
grep -q 'Accepted keyboard-interactive/pam for alice' "$W/sshd.log" && ok "sshd accepted keyboard-interactive/pam" ||
	{ bad "sshd log: no accept"; show "$(tail -20 "$W/sshd.log")"; }
[ "$(stat -c '%U %a' /home/alice 2>&1)" = "alice 700" ] && ok "pam_mkhomedir made /home/alice (alice 0700)" ||
	bad "/home/alice: $(stat -c '%U %a' /home/alice 2>&1)"
[ -e /home/localu ] && [ "$(ls /home)" = "$(printf 'alice\nlocalu')" ] && ok "no other home was made" || bad "homes: $(ls /home)"
kill "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null; SSHD_PID=

echo "== su"
# bob: a second IAM user without a device (his answer to the code prompt
# is ignored under mfa = "optional"), reached with su by a local user.
BOBPW='Queen-Of-Hearts-2026%'
expect_out 0 'user bob added' "iamctl user add bob" iamctl user add bob
expect_out 0 'attached' "iamctl policy attach --user bob" iamctl policy attach DebUser --user bob
expect_out 0 'password of bob changed' "iamctl passwd bob --stdin" sh -c "echo '$BOBPW' | iamctl passwd bob --stdin"
expect_out 0 'SU-OK bob 70001 /home/bob$' "su: a local user becomes bob with his password (home made on first login)" \
	sh -c "printf '%s\n%s\n' '$BOBPW' 000000 | setpriv --reuid=localu --regid=localu --clear-groups su - bob -c 'echo SU-OK \$(id -un) \$(id -u) \$(pwd)'"
expect_out 1 'Authentication failure' "su: a wrong password for bob is refused" \
	sh -c "printf '%s\n%s\n' 'not-his-password' 000000 | setpriv --reuid=localu --regid=localu --clear-groups su - bob -c true"

echo "== sudo through the packaged plugin"
install -m 0644 /usr/share/doc/iam-tools/examples/sudo.conf.example /etc/sudo.conf
printf 'alice ALL=(ALL:ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/iam-test
chmod 0440 /etc/sudoers.d/iam-test
as_alice() { setpriv --reuid=alice --regid=alice --init-groups env HOME=/home/alice PATH=/usr/bin:/bin "$@"; }
expect_out 0 'sudo_iam' "sudo -V loads sudo_iam from the package" sh -c 'sudo -V | grep -i approval'
expect_out 0 '^0$' "alice: sudo /usr/bin/id -u, allowed by her policy, runs" as_alice sudo -n /usr/bin/id -u
expect_out 1 'denied by IAM policy' "alice: sudo /usr/bin/whoami is refused by sudo_iam" as_alice sudo -n /usr/bin/whoami
grep -q '"eventName":"SudoRun".*"userName":"alice"' /var/log/iam/trail.jsonl && ok "the trail has alice's SudoRun" ||
	bad "no SudoRun in the trail"
install -m 0644 "$W/before/sudo.conf" /etc/sudo.conf
rm -f /etc/sudoers.d/iam-test

echo "== passwd"
NEWPW='Through-The-Looking-2027%'
cred=$(sha256sum /var/lib/iam/credentials/70000.json 2>/dev/null)
expect_out 0 '' "alice changes her password with passwd" \
	sh -c "printf '%s\n%s\n%s\n' '$PW' '$NEWPW' '$NEWPW' | setpriv --reuid=alice --regid=alice --clear-groups /usr/bin/passwd"
grep -q '"eventName":"ChangePassword".*"userName":"alice"' /var/log/iam/trail.jsonl && ok "the trail has alice's ChangePassword" ||
	bad "no ChangePassword in the trail"
[ "$(sha256sum /var/lib/iam/credentials/70000.json 2>/dev/null)" != "$cred" ] && ok "the new password is in the credentials store" ||
	bad "the credentials store did not change"

expect_out 0 '' "a local user changes a password with passwd (pam_unix, no IAM prompt)" \
	sh -c "printf '%s\n%s\n%s\n' Local-Pass-2026 Local-Pass-2027-x Local-Pass-2027-x | setpriv --reuid=localu --regid=localu --clear-groups /usr/bin/passwd"
grep -Eq 'Verification code|Password for|IAM' <<<"$LAST_OUT" && bad "the local user saw an IAM prompt in passwd" ||
	ok "passwd for a local user shows no IAM prompt"

echo "== pam-auth-update --force"
expect_out 0 '' "pam-auth-update --force" pam-auth-update --force
grep -q pam_iam /etc/pam.d/common-auth && grep -q pam_iam /etc/pam.d/common-account &&
	ok "pam-auth-update --force keeps pam_iam" || bad "pam-auth-update --force dropped pam_iam"

echo "== iam-sync.service's command, tmpfiles.d, logrotate"
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	echo "NOTE: the path unit is not started here: systemctl would act on the real host"
else
	echo "NOTE: PID 1 is $(ps -p 1 -o comm=), not systemd: iam-sync.path checked by systemd-analyze verify above"
fi
SYNC=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/iam-sync.service)
ID=/etc/iam/identity.json
cp -p "$ID" "$W/good.json"
expect_out 0 'published generation' "ExecStart ($SYNC) publishes a good file" $SYNC
gen=$(cat /var/lib/iam/generation); db=$(sha256sum /var/lib/iam/nss.db)
# configuration management replaces the file by rename
sed 's/"users": \[/"users": [ { "name": "Bad Name" },/' "$W/good.json" > /etc/iam/identity.json.cm
chmod 0600 /etc/iam/identity.json.cm; mv /etc/iam/identity.json.cm "$ID"
expect_out 1 'identity.json.*(users|name)' "ExecStart refuses a broken file with the fault on stderr (the journal)" $SYNC
[ "$(cat /var/lib/iam/generation)" = "$gen" ] && [ "$(sha256sum /var/lib/iam/nss.db)" = "$db" ] &&
	ok "the broken file changed nothing" || bad "the broken file changed the snapshots"
install -m 0600 "$W/good.json" "$ID.cm"; mv "$ID.cm" "$ID"
expect_out 0 'published generation' "ExecStart publishes again once the file is fixed" $SYNC
rm -rf /run/iam
expect_out 0 '' "systemd-tmpfiles --create iam.conf" systemd-tmpfiles --create iam.conf
[ "$(stat -c '%a %U %G' /run/iam 2>&1)" = "700 root root" ] && ok "systemd-tmpfiles made /run/iam root 0700" ||
	bad "/run/iam: $(stat -c '%a %U %G' /run/iam 2>&1)"
expect_out 0 '' "logrotate -f /etc/logrotate.d/iam" logrotate -f -s "$W/logrotate.state" /etc/logrotate.d/iam
[ -s /var/log/iam/trail.jsonl.1 ] && ok "the trail was rotated to trail.jsonl.1" || bad "no trail.jsonl.1: $(ls /var/log/iam)"
expect_out 0 'group rotated added' "an event after the rotation" iamctl group add rotated
if [ "$(stat -c '%a %U' /var/log/iam/trail.jsonl 2>&1)" = "600 root" ] &&
   grep -q '"eventName":"IdentityCommit"' /var/log/iam/trail.jsonl &&
   ! grep -q 'rotated' /var/log/iam/trail.jsonl.1; then
	ok "the next event landed in a new root 0600 trail.jsonl"
else
	bad "after rotation: $(ls -l /var/log/iam)"
fi

echo "== purge"
expect_out 0 '' "dpkg --purge of the six packages" \
	dpkg --purge sudo-iam libpam-iam libnss-iam iam-tools libiam-dev libiam1
for f in $PAMFILES nsswitch.conf; do
	p=/etc/pam.d/$f; [ "$f" = nsswitch.conf ] && p=/etc/nsswitch.conf
	cmp -s "$W/before/$f" "$p" && ok "purge restored $p byte for byte" ||
		{ bad "$p differs after purge"; show "$(diff "$W/before/$f" "$p")"; }
done
[ ! -e /etc/iam ] && [ ! -e /var/lib/iam ] && [ ! -e /var/log/iam ] && [ ! -e /usr/bin/iamctl ] &&
	ok "purge removed the identity, snapshots, trail and programs" ||
	bad "left after purge: $(ls -d /etc/iam /var/lib/iam /var/log/iam /usr/bin/iamctl 2>/dev/null)"

echo "80-deb: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
