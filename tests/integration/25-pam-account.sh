# 25-pam-account.sh - pam_iam's account, password and session phases
# with the real clients: sshd on 127.0.0.1 (a free port) (keyboard-interactive)
# refusing a user whose policy denies host:Login and admitting one it
# allows; an expired password forcing a change at login; the real passwd
# run by an IAM user; pamtester open_session close_session; and the
# events in the trail, read back with iamctl trail.  passwd exits 10 when
# PAM refuses the new password (Debian passwd(1), "password unchanged").
ACCT=123456789012
TRAIL=/var/log/iam/trail.jsonl
OLD='Old-Passw0rd!x'
NEW='Brand-new-Pass1!'
NEWER='Even-newer-Pass2!'
PORT=$(free_port)
HASH=$(openssl passwd -6 "$OLD")
LOGIN_DENY_TEXT='Access denied by IAM policy.'

cat > "$T/identity.json" <<EOF
{ "account": { "id": "$ACCT" },
  "password_policy": { "minimum_length": 12, "require_uppercase": true,
    "require_lowercase": true, "require_numbers": true,
    "require_symbols": true, "max_age_days": 90, "reuse_prevention": 3 },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll", "ChangeOwn"],
      "password": { "hash": "$HASH", "changed": "$(date -u -d '-1 day' +%FT%TZ)" } },
    { "name": "bob", "uid": 70002, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll", "NoSshd"],
      "password": { "hash": "$HASH", "changed": "$(date -u -d '-1 day' +%FT%TZ)" } },
    { "name": "erin", "uid": 70003, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll", "ChangeOwn"],
      "password": { "hash": "$HASH", "changed": "2020-01-01T00:00:00Z" } }
  ],
  "policies": {
    "LoginAll": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "host:Login",
        "Resource": "arn:iam:host::$ACCT:host/web1" } ] },
    "NoSshd": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoSsh", "Effect": "Deny", "Action": "host:Login", "Resource": "*",
        "Condition": { "StringEquals": { "iam:Service": "sshd" } } } ] },
    "ChangeOwn": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "iam:ChangePassword",
        "Resource": "arn:iam:iam::$ACCT:user/\${aws:username}" } ] } } }
EOF
printf 'hostname = "web1";\ntrail_required = true;\n' > /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
use_identity "$T/identity.json" || bad "publish the identity"
chmod 755 "$T/home"

# The project's stacks, as installed.
for f in common-auth common-account common-password common-session-iam passwd cron; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
cat > /etc/pam.d/sshd <<'EOF'
@include common-auth
account required pam_nologin.so
@include common-account
session required pam_permit.so
@include common-session-iam
@include common-password
EOF
cat > /etc/pam.d/iamtest <<'EOF'
@include common-account
session required pam_permit.so
@include common-session-iam
EOF

# ---- sshd -------------------------------------------------------------------
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
cleanup_test() { kill "$SSHD_PID" 2>/dev/null; wait "$SSHD_PID" 2>/dev/null; }
for _ in $(seq 100); do [ -s "$T/sshd.pid" ] && break; sleep 0.1; done
[ -s "$T/sshd.pid" ] || { bad "sshd did not start"; cat "$T/sshd.log"; finish; }

# askpass answers by prompt: the password, then a forced change.
cat > "$T/askpass" <<EOF
#!/bin/sh
case "\$1" in
  *"Current password"*) echo "\$PW_OLD" ;;
  *"New password"*|*"Retype new password"*) echo "\$PW_NEW" ;;
  *[Pp]assword*) echo "\$PW_OLD" ;;
  *) exit 0 ;;
esac
EOF
chmod 755 "$T/askpass"
ssh_as() {	# ssh_as USER OLD [NEW]
	PW_OLD=$2 PW_NEW=${3:-} SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
		DISPLAY= setsid -w ssh -F /dev/null -p "$PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o PreferredAuthentications=keyboard-interactive \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
		-o LogLevel=ERROR -o ConnectTimeout=10 "$1@127.0.0.1" \
		'echo REMOTE-OK $(id -un)' </dev/null
}

expect_out 0 'REMOTE-OK alice' "sshd admits alice, whom host:Login allows" ssh_as alice "$OLD"
expect 255 "sshd refuses bob, whose policy denies host:Login for sshd" ssh_as bob "$OLD"
grep -q '"userName":"bob".*"errorCode":"AccessDenied"' "$TRAIL" &&
	ok "bob's denial is in the trail" || bad "bob's denial not in the trail"
grep -q '"userName":"bob".*"sid":"NoSsh"' "$TRAIL" &&
	ok "the trail names the deciding statement" || bad "no deciding statement"
grep -q "$LOGIN_DENY_TEXT" "$T/sshd.log" && bad "policy text leaked to the log of sshd" || true

# ---- an expired password forces a change at login ---------------------------
expect_out 0 'REMOTE-OK erin' "expired password: sshd asks for a change, then logs in" \
	ssh_as erin "$OLD" "$NEW"
grep -q '"userName":"erin".*"errorCode":"PasswordExpired"' "$TRAIL" &&
	ok "expiry is in the trail" || bad "expiry not in the trail"
expect 0 "erin's ChangePassword is in the trail" \
	grep -q '"eventName":"ChangePassword".*"userName":"erin"' "$TRAIL"
expect_out 0 'REMOTE-OK erin' "erin logs in with the new password, no change asked" \
	ssh_as erin "$NEW"
expect 255 "the old password no longer works" ssh_as erin "$OLD"

# ---- passwd run by the IAM user -----------------------------------------------
passwd_as() {	# passwd_as USER CURRENT NEW RETYPE
	printf '%s\n%s\n%s\n' "$2" "$3" "$4" |
		setpriv --reuid="$1" --regid=70100 --clear-groups /usr/bin/passwd
}
expect_out 10 'Password rejected: it must contain a number' \
	"passwd refuses a password breaking the policy" \
	passwd_as 70001 "$OLD" 'No-Numbers-Here!' 'No-Numbers-Here!'
expect_out 0 '' "alice changes her own password with passwd" \
	passwd_as 70001 "$OLD" "$NEWER" "$NEWER"
expect_out 10 'Password rejected: it must not be one of' \
	"passwd refuses a recent password" \
	passwd_as 70001 "$NEWER" "$OLD" "$OLD"
expect_out 0 'REMOTE-OK alice' "alice logs in with the password passwd set" \
	ssh_as alice "$NEWER"
mode=$(stat -c %a /var/lib/iam/credentials/70001.json)
[ "$mode" = 600 ] && ok "credentials file 0600" || bad "credentials mode $mode"

# ---- pamtester: both session events --------------------------------------------
before=$(grep -c '"eventName":"SessionClose"' "$TRAIL")
expect 0 "pamtester open_session close_session" \
	pamtester -I rhost=198.51.100.4 -I tty=pts/9 iamtest alice open_session close_session
grep -q '"eventName":"SessionOpen".*"sourceIPAddress":"198.51.100.4"' "$TRAIL" &&
	ok "SessionOpen with the source address" || bad "no SessionOpen"
after=$(grep -c '"eventName":"SessionClose"' "$TRAIL")
[ "$after" -gt "$before" ] && grep '"eventName":"SessionClose"' "$TRAIL" | tail -1 |
	grep -q '"sessionSeconds":"' && ok "SessionClose with the session's length" ||
	bad "no SessionClose with a length"
expect 0 "pamtester acct_mgmt of a local user falls through" pamtester iamtest root acct_mgmt

# ---- iamctl trail ---------------------------------------------------------------
expect_out 0 'AccessDenied' "iamctl trail --user bob" iamctl trail --user bob
expect_out 0 '"eventName":"SessionOpen"' "iamctl trail --event SessionOpen --json" \
	iamctl trail --event SessionOpen --since 1h --json
