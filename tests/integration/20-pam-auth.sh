# 20-pam-auth.sh - pam_iam authentication with the real clients and the
# project's recommended stacks (etc/pam.d), codes made with oathtool:
# pamtester (right password and code; a replayed, a wrong and a
# mistyped answer refused; SHA256 8-digit device; a user without a
# device; an unknown name getting the prompts of a known one); su run by
# an unprivileged IAM user; sshd on 127.0.0.1 (a free port) with
# keyboard-interactive, for a user that exists only through nss_iam,
# with the MFA record of the login session checked; and local users
# (pam_unix) and root logging in while the IAM snapshots are deleted.
# Each scenario uses its own user or the next step's code, since a step
# is never accepted twice.
ACCT=123456789012
ALIAS=acme-prod
PW='Correct-Horse-9!x'
BOBPW='Staple-Batt3ry-Horse#'
CAROLPW='Blowfish-T0ken-Twelve$'
ERINPW='Remote-Shell-Passw0rd%'
LOCALPW='Local-Only-Pass1!'
ROOTPW='Root-Break-Glass2@'
SEC_ALICE=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SEC_CAROL=SJERW23SALS245PYNNCEPOQ5SLD6SFMQ
SEC_ERIN=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR
TRAIL=/var/log/iam/trail.jsonl
SYSLOG=$T/syslog.txt
PORT=$(free_port)
FAILED='Authentication failed.'

# ---- syslog: a /dev/log of this namespace only ------------------------------
# An overlay over /dev (its sub-mounts bound back) takes the socket, so
# the host's /dev is not touched.
start_syslog() {
	local m
	mkdir -p "$T/dev/up" "$T/dev/work" "$T/dev/mnt"
	mount -t overlay overlay \
		-o "lowerdir=/dev,upperdir=$T/dev/up,workdir=$T/dev/work" "$T/dev/mnt"
	for m in pts shm mqueue; do
		mountpoint -q "/dev/$m" && mount --bind "/dev/$m" "$T/dev/mnt/$m"
	done
	mount --move "$T/dev/mnt" /dev
	rm -f /dev/log
	/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log"); os.chmod("/dev/log", 0o666)
f = open(sys.argv[1], "ab", 0)
while True:
	f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$SYSLOG" &
	SYSLOG_PID=$!
	for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done
}
SYSLOG_PID= SSHD_PID=
cleanup_test() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
	[ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
	return 0
}
start_syslog

# ---- identity: the example file, homes here, and one user for sshd ----------
mkdir -p "$T/home"
chmod 755 "$T/home"
jq --arg h "$T/home" --arg s "$SEC_ERIN" '
	.users |= map(.home = "\($h)/\(.name)" | del(.password)) |
	.users += [{ name: "erin", uid: 70005, primary_group: "developers",
		home: "\($h)/erin", groups: ["developers"],
		tags: { Environment: "Development" },
		policies: ["DevHostAccess"],
		mfa: { type: "totp", secret: $s, algorithm: "SHA1",
			digits: 6, period: 30 } }]' \
	"$TOP/etc/identity.example.json" > "$T/identity.json"
# DevHostAccess admits users whose Environment tag is the host's.
printf 'hostname = "dev1";\nhost_tags = { Environment = "Development"; };\n' \
	>> /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
expect_out 0 published "the example identity (with erin) publishes" \
	use_identity "$T/identity.json"
for u in alice:70001 bob:70002 carol:70003 erin:70005; do
	mkdir -p "$T/home/${u%%:*}"
	chown "${u#*:}" "$T/home/${u%%:*}"
done
setpw() { printf '%s\n' "$2" | iamctl passwd "$1" --stdin; }
expect 0 "iamctl passwd alice (yescrypt)" setpw alice "$PW"
expect 0 "iamctl passwd bob" setpw bob "$BOBPW"
expect 0 "iamctl passwd erin" setpw erin "$ERINPW"
cp /etc/iam/iam.conf "$T/iam.conf.orig"
echo 'hash_method = "bcrypt";' >> /etc/iam/iam.conf
expect 0 "iamctl passwd carol (bcrypt)" setpw carol "$CAROLPW"
cp "$T/iam.conf.orig" /etc/iam/iam.conf
expect 1 "a password breaking the policy is refused" setpw bob 'short1!A'

for f in login su sshd sudo common-auth common-account common-password \
	common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done

# ---- helpers ------------------------------------------------------------------
totp() {	# totp SECRET [ALGO] [DIGITS] [WHEN]
	oathtool --totp="${2:-sha1}" -d "${3:-6}" -b "$1" \
		-N "$(date -u -d "${4:-now}" '+%F %T UTC')"
}
# A code of the device that is none of the steps inside the window.
wrong_code() {	# wrong_code SECRET
	local c n
	for n in 0 1 2 3 4 5 6 7 8 9; do
		c=$n$n$n$n$n$n
		case " $(totp "$1" sha1 6 '-30 sec') $(totp "$1") $(totp "$1" sha1 6 '+30 sec') " in
		*" $c "*) ;;
		*) echo "$c"; return ;;
		esac
	done
}
auth() {	# auth SERVICE USER ANSWER...
	local svc=$1 user=$2
	shift 2
	printf '%s\n' "$@" | pamtester -v "$svc" "$user" authenticate
}
trail_has() {	# trail_has DESCRIPTION REGEX
	if grep -Eq -- "$2" "$TRAIL"; then ok "$1"; else bad "$1"; fi
}
syslog_has() {	# syslog_has DESCRIPTION REGEX
	if grep -Eq -- "$2" "$SYSLOG"; then ok "$1"; else bad "$1"; fi
}
failures() {	# failures UID: the counter of the runtime state
	awk '{ print $2 }' "/var/lib/iam/state/$1" 2>/dev/null
}

# ---- pamtester ---------------------------------------------------------------
C=$(totp "$SEC_ALICE")
expect_out 0 'successfully authenticated' \
	"pamtester: alice with the right password and code" \
	auth login alice "$PW" "$C"
grep -q "Password for alice@$ALIAS: " <<<"$LAST_OUT" &&
grep -q 'Verification code: ' <<<"$LAST_OUT" &&
	ok "the prompts carry the alias, then ask the code" ||
	bad "prompts of alice"
trail_has "the success is a Login event with mfa true" \
	'"eventName":"Login".*"userName":"alice".*"mfa":"true"'
syslog_has "the success is a syslog line" \
	'pam_iam\(login:auth\): authentication of alice succeeded \(mfa=yes\)'
ls /run/iam/sessions/ 2>/dev/null | has . &&
	ok "the MFA time is recorded under run_dir" ||
	bad "no MFA record under /run/iam/sessions"

expect_out 1 'Authentication failure' "pamtester: the same code again is a replay" \
	auth login alice "$PW" "$C"
grep -q "$FAILED" <<<"$LAST_OUT" && ok "the replay gets no detail" ||
	bad "replay message"
trail_has "the replay is in the trail" \
	'"userName":"alice".*"errorCode":"MFAReplay"'

expect_out 1 'Authentication failure' "pamtester: a wrong code is refused" \
	auth login alice "$PW" "$(wrong_code "$SEC_ALICE")"
trail_has "the wrong code is in the trail" \
	'"userName":"alice".*"errorCode":"InvalidMFA"'
syslog_has "the wrong code is a syslog line" \
	'authentication failure for alice: InvalidMFA'

expect_out 1 'Verification code: ' \
	"pamtester: a wrong password still gets the code prompt" \
	auth login alice 'Not-The-Passw0rd!' "$(totp "$SEC_ALICE")"
trail_has "the wrong password is in the trail" \
	'"userName":"alice".*"errorCode":"InvalidPassword"'
[ "$(failures 70001)" = 3 ] && ok "three failures counted for alice" ||
	bad "alice's failure counter: $(failures 70001)"

expect_out 0 'successfully authenticated' \
	"pamtester: carol, bcrypt password and an 8-digit SHA256 code" \
	auth login carol "$CAROLPW" "$(totp "$SEC_CAROL" sha256 8)"

expect_out 0 'successfully authenticated' \
	"pamtester: bob, without a device: his password, any answer to the code" \
	auth login bob "$BOBPW" "$BOBPW"
grep -q 'Verification code' <<<"$LAST_OUT" &&
	ok "bob is asked a code like every name (uniform prompts)" ||
	bad "bob was not asked a code"

expect_out 1 'Authentication failure' "pamtester: an unknown name is refused" \
	auth login mallory "$PW" 123456
grep -q "Password for mallory@$ALIAS: " <<<"$LAST_OUT" &&
grep -q 'Verification code: ' <<<"$LAST_OUT" &&
	ok "the unknown name gets the prompts of a user with a device" ||
	bad "prompts of an unknown name"
grep -q mallory "$TRAIL" "$SYSLOG" &&
	bad "the unknown name was written down" ||
	ok "the unknown name is in neither trail nor syslog"

# ---- su, run by an unprivileged IAM user ---------------------------------------
AS_BOB=(setpriv --reuid=70002 --regid=70101 --init-groups)
NEXT=$(totp "$SEC_ALICE" sha1 6 '+30 sec')
expect_out 0 'uid=70001\(alice\)' "bob: su - alice -c id with password and next-step code" \
	sh -c "printf '%s\n%s\n' '$PW' '$NEXT' | ${AS_BOB[*]} su - alice -c id"
grep -q 'groups=.*70102(admins)' <<<"$LAST_OUT" &&
	ok "alice's IAM groups come from nss_iam" || bad "alice's groups"
[ "$(failures 70001)" = 0 ] && ok "the success reset alice's counter" ||
	bad "alice's counter after success: $(failures 70001)"
expect_out 1 'Authentication failure' "bob: su - alice with a wrong code is refused" \
	sh -c "printf '%s\n%s\n' '$PW' '$(wrong_code "$SEC_ALICE")' | ${AS_BOB[*]} su - alice -c id"
grep -q 'uid=70001' <<<"$LAST_OUT" && bad "the refused su ran its command" ||
	ok "the refused su ran nothing"

# ---- sshd, keyboard-interactive -----------------------------------------------
mkdir -p -m 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
cat > "$T/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
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
/usr/sbin/sshd -D -e -f "$T/sshd_config" 2>"$T/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do [ -s "$T/sshd.pid" ] && break; sleep 0.1; done
[ -s "$T/sshd.pid" ] || bad "sshd did not start: $(cat "$T/sshd.log")"
cat > "$T/askpass" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >> "$T/prompts"
case "\$1" in
  *"Verification code"*) if [ -n "\$ASK_CODE" ]; then echo "\$ASK_CODE"
	else oathtool --totp -b "\$ASK_SECRET"; fi ;;
  *Password*) echo "\$ASK_PW" ;;
  *) echo "askpass: unexpected prompt: \$1" >&2; exit 1 ;;
esac
EOF
chmod 755 "$T/askpass"
ssh_as() {	# ssh_as USER PASSWORD SECRET [CODE]
	ASK_PW=$2 ASK_SECRET=$3 ASK_CODE=${4:-} SSH_ASKPASS="$T/askpass" \
		SSH_ASKPASS_REQUIRE=force DISPLAY= setsid -w ssh -F /dev/null \
		-p "$PORT" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null \
		-o PreferredAuthentications=keyboard-interactive \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
		-o LogLevel=ERROR -o ConnectTimeout=10 "$1@127.0.0.1" \
		'echo REMOTE-OK; id; echo SID=$(cat /proc/self/sessionid)' </dev/null
}
: > "$T/prompts"
grep -q '^erin:' /etc/passwd && bad "erin is in /etc/passwd" ||
	ok "erin exists only through nss_iam"
expect_out 0 'uid=70005\(erin\)' "sshd: erin logs in with password and code" \
	ssh_as erin "$ERINPW" "$SEC_ERIN"
grep -q 'Accepted keyboard-interactive/pam for erin' "$T/sshd.log" &&
	ok "sshd accepted keyboard-interactive/pam" || bad "sshd log: no accept"
trail_has "erin's login is in the trail with mfa and her address" \
	'"eventName":"Login".*"userName":"erin".*"sourceIPAddress":"127.0.0.1".*"mfa":"true"'
# The MFA record must be found under the key of the login session the
# user's processes run in (what sudo_iam reads), not only under the key
# sshd had while authenticating.
SID=$(sed -n 's/^SID=//p' <<<"$LAST_OUT")
if [ -n "$SID" ] && [ "$SID" != 4294967295 ]; then
	rec=$(cat "/run/iam/sessions/s$SID" 2>/dev/null)
	if grep -Eq '^IAMSESS1 70005 [1-9][0-9]* 127\.0\.0\.1$' <<<"$rec"; then
		ok "the MFA record is under the ssh login session s$SID"
	else
		bad "no MFA record for the ssh login session s$SID ($(ls /run/iam/sessions | tr '\n' ' '))"
		show "$(for f in /run/iam/sessions/*; do echo "$f: $(cat "$f")"; done)"
	fi
else
	ok "no kernel audit session here: records are keyed by user and tty"
fi
expect_out 255 'Permission denied' "sshd: erin with a wrong code is refused" \
	ssh_as erin "$ERINPW" "$SEC_ERIN" "$(wrong_code "$SEC_ERIN")"
grep -q REMOTE-OK <<<"$LAST_OUT" && bad "the refused login ran a command" ||
	ok "the refused login ran nothing"
trail_has "the refusal is in the trail" \
	'"userName":"erin".*"sourceIPAddress":"127.0.0.1".*"errorCode":"InvalidMFA"'
# erin's two logins asked the same two prompts each; zed's must match.
cp "$T/prompts" "$T/prompts.erin"
: > "$T/prompts"
expect_out 255 'Permission denied' "sshd: an unknown name is refused" \
	ssh_as zed "$ERINPW" "$SEC_ERIN"
if [ -s "$T/prompts" ] && [ "$(sed 's/zed@/erin@/g' "$T/prompts")" = "$(head -n 2 "$T/prompts.erin")" ]; then
	ok "sshd: the unknown name gets erin's prompts"
else
	bad "sshd: prompts differ"; show "$(cat "$T/prompts.erin" "$T/prompts")"
fi
kill "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null; SSHD_PID=

# ---- local users and root while the IAM snapshots are gone ------------------------
echo 'localops:x:1500:1500:Local Ops:/tmp:/bin/bash' >> /etc/passwd
echo 'localops:x:1500:' >> /etc/group
echo 'localops:*:20000:0:99999:7:::' >> /etc/shadow
printf 'localops:%s\nroot:%s\n' "$LOCALPW" "$ROOTPW" | chpasswd
rm -rf /var/lib/iam/current/auth
expect_out 0 'successfully authenticated' \
	"snapshot deleted: localops authenticates through pam_unix" \
	auth login localops "$LOCALPW"
expect_out 1 'Authentication failure' \
	"snapshot deleted: alice is refused" \
	auth login alice "$PW" "$(totp "$SEC_ALICE" sha1 6 '+30 sec')"
syslog_has "the unavailable snapshot is a syslog line" 'IAM unavailable'
rm -f /var/lib/iam/current/nss.db /var/lib/iam/current/keys.db
expect_out 0 'uid=1500\(localops\)' \
	"snapshots deleted: root su - localops -c id" su - localops -c id
expect_out 0 'uid=0\(root\)' \
	"snapshots deleted: localops su - root with root's password" \
	sh -c "printf '%s\n' '$ROOTPW' | setpriv --reuid=1500 --regid=1500 --clear-groups su - root -c id"
expect_out 1 'Authentication failure' \
	"snapshots deleted: a wrong root password is still refused" \
	sh -c "printf '%s\n' 'Not-Root-Pw1!' | setpriv --reuid=1500 --regid=1500 --clear-groups su - root -c id"
