# 23-pam-minimal-sshd.sh - the real sshd (127.0.0.1, a free port) with the
# minimal stack `auth/account/session required pam_iam.so` and no
# pam_unix: an IAM user logs in with keyboard-interactive (password and
# code), and with a key then the code alone; sshd calls pam_setcred in
# its monitor while authentication ran in a child, and that must
# succeed.  A wrong code and an unknown name are refused.
ACCT=123456789012
PORT=$(free_port)
PW='Minimal-Stack-Pass1!'
HASH=$(openssl passwd -6 "$PW")
SEC_A=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SEC_C=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR
K=$T/keys
mkdir -p -m 700 "$K"
ssh-keygen -q -t ed25519 -N '' -C carol@client -f "$K/carol"
NOW=$(date -u +%FT%TZ)
mkdir -p -m 755 "$T/home"
cat > "$T/identity.json" <<EOF
{ "account": { "id": "$ACCT" },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"],
      "password": { "hash": "$HASH" },
      "mfa": { "type": "totp", "secret": "$SEC_A" } },
    { "name": "carol", "uid": 70003, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"],
      "password": { "hash": "$HASH" },
      "mfa": { "type": "totp", "secret": "$SEC_C" },
      "ssh_keys": [ { "id": "laptop", "key": "$(cat "$K/carol.pub")",
                      "created": "$NOW", "status": "Active" } ] } ],
  "policies": { "LoginAll": { "Version": "2012-10-17", "Statement": [
    { "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] } } }
EOF
printf 'hostname = "web1";\n' > /etc/iam/iam.conf
chmod 0644 /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
expect 0 "the identity publishes" use_identity "$T/identity.json"

cat > /etc/pam.d/sshd <<EOF
auth     required pam_iam.so
account  required pam_iam.so
session  required pam_iam.so
EOF

mkdir -p -m 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
SSHD_PID=
start_sshd() {	# start_sshd AUTHENTICATION-METHODS
	stop_sshd
	cat > "$T/sshd_config" <<-EOF
	AuthenticationMethods $1
	Port $PORT
	ListenAddress 127.0.0.1
	HostKey $T/hostkey
	PidFile $T/sshd.pid
	AuthorizedKeysFile none
	PubkeyAuthentication yes
	PermitRootLogin no
	PrintMotd no
	PrintLastLog no
	LoginGraceTime 30
	LogLevel VERBOSE
	Include $TOP/etc/ssh/sshd_config.d/iam.conf
	EOF
	rm -f "$T/sshd.pid"
	/usr/sbin/sshd -D -e -f "$T/sshd_config" 2>>"$T/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 100); do [ -s "$T/sshd.pid" ] && break; sleep 0.1; done
	[ -s "$T/sshd.pid" ] || bad "sshd did not start: $(tail -5 "$T/sshd.log")"
}
stop_sshd() {
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}
cleanup_test() { stop_sshd; }
cat > "$T/askpass" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >> "$T/prompts"
case "\$1" in
  *"Verification code"*) echo "\$ASK_CODE" ;;
  *Password*) echo "$PW" ;;
  *) echo "askpass: unexpected prompt: \$1" >&2; exit 1 ;;
esac
EOF
chmod 755 "$T/askpass"
SSH_OPTS=(-F /dev/null -p "$PORT" -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
	-o IdentityAgent=none -o LogLevel=ERROR -o ConnectTimeout=10
	-o NumberOfPasswordPrompts=1)
ssh_kbd() {	# ssh_kbd USER CODE
	ASK_CODE=$2 SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
		DISPLAY= setsid -w ssh "${SSH_OPTS[@]}" -o PubkeyAuthentication=no \
		-o PreferredAuthentications=keyboard-interactive "$1@127.0.0.1" \
		'echo REMOTE-OK $(id -un)' </dev/null
}
ssh_key_code() {	# ssh_key_code USER CODE
	ASK_CODE=$2 SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
		DISPLAY= setsid -w ssh "${SSH_OPTS[@]}" -i "$K/carol" \
		-o PreferredAuthentications=publickey,keyboard-interactive \
		"$1@127.0.0.1" 'echo REMOTE-OK $(id -un)' </dev/null
}
wrong_code() {	# wrong_code SECRET: a code no step near now has
	local near c=123456
	near=$(oathtool --totp -b -w 2 "$1"; oathtool --totp -b -N '-2 min' -w 4 "$1")
	while grep -qx "$c" <<<"$near"; do c=$(( (c + 1) % 1000000 )); done
	printf '%06d\n' "$c"
}

start_sshd keyboard-interactive
: > "$T/prompts"
expect_out 0 'REMOTE-OK alice' \
	"minimal stack, keyboard-interactive: alice logs in with password and code" \
	ssh_kbd alice "$(oathtool --totp -b "$SEC_A")"
grep -q 'Accepted keyboard-interactive/pam for alice' "$T/sshd.log" &&
	ok "sshd accepted keyboard-interactive/pam" || bad "no accept in the sshd log"
grep -q 'pam_setcred' "$T/sshd.log" &&
	bad "sshd logged a pam_setcred failure: $(grep pam_setcred "$T/sshd.log")" ||
	ok "pam_setcred in sshd's monitor succeeded"
grep -q '"eventName":"SessionOpen".*"userName":"alice"' /var/log/iam/trail.jsonl &&
	ok "the session was opened by pam_iam" || bad "no SessionOpen for alice"
expect 255 "minimal stack: a wrong code is refused" \
	ssh_kbd alice "$(wrong_code "$SEC_A")"
expect 255 "minimal stack: an unknown name is refused" \
	ssh_kbd mallory 123456

start_sshd publickey,keyboard-interactive
: > "$T/prompts"
expect_out 0 'REMOTE-OK carol' \
	"minimal stack, key then code: carol logs in" \
	ssh_key_code carol "$(oathtool --totp -b "$SEC_C")"
[ "$(wc -l < "$T/prompts")" = 1 ] && grep -q 'Verification code: $' "$T/prompts" &&
	ok "after her key carol is asked the code alone" ||
	{ bad "prompts after the key"; show "$(cat "$T/prompts")"; }
expect 255 "minimal stack, key then a wrong code: refused" \
	ssh_key_code carol "$(wrong_code "$SEC_C")"
stop_sshd
