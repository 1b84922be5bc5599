# 60-ssh-keys.sh - SSH keys as IAM credentials with the real sshd on
# 127.0.0.1 (a free port), wired by the project's etc/ssh/sshd_config.d/iam.conf
# (AuthorizedKeysCommand /usr/bin/iamctl ssh-keys %u as nobody) and
# etc/pam.d/sshd: keys added with iamctl ssh-key log in; inactive,
# expired, deleted keys, another user's key, a disabled user and a
# host:Login deny are refused; under mfa = "required" a key needs the
# keyboard-interactive step (password and code) after it; malformed keys
# in the identity file are refused by iamctl validate.
ACCT=123456789012
PORT=$(free_port)
TRAIL=/var/log/iam/trail.jsonl
PW='Key-Holder-Pass1!'
HASH=$(openssl passwd -6 "$PW")
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
OLD='"created": "2020-01-01T00:00:00Z", "status": "Active"'
K=$T/keys
mkdir -p -m 700 "$K"
for k in alice1 alice2 alice3 bob dave erin frank carol spare; do
	ssh-keygen -q -t ed25519 -N '' -C "$k@client" -f "$K/$k"
done
pub() { cat "$K/$1.pub"; }

cat > "$T/identity.json" <<EOF
{ "account": { "id": "$ACCT" },
  "password_policy": { "ssh_key_max_age_days": 90 },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"] },
    { "name": "bob", "uid": 70002, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"] },
    { "name": "carol", "uid": 70003, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"],
      "password": { "hash": "$HASH" },
      "mfa": { "type": "totp", "secret": "$SECRET" } },
    { "name": "dave", "uid": 70004, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll", "NoSshd"] },
    { "name": "erin", "uid": 70005, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"],
      "ssh_keys": [ { "id": "ancient", "key": "$(pub erin)", $OLD } ] },
    { "name": "frank", "uid": 70006, "primary_group": "iamstaff",
      "home": "$T/home", "policies": ["LoginAll"], "disabled": true }
  ],
  "policies": {
    "LoginAll": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "host:Login",
        "Resource": "arn:iam:host::$ACCT:host/web1" } ] },
    "NoSshd": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoSsh", "Effect": "Deny", "Action": "host:Login", "Resource": "*",
        "Condition": { "StringEquals": { "iam:Service": "sshd" } } } ] } } }
EOF
printf 'hostname = "web1";\ntrail_required = true;\n' > /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
use_identity "$T/identity.json" >/dev/null || bad "publish the identity"
chmod 755 "$T/home"

# ---- iamctl ssh-key ----------------------------------------------------------
expect_out 0 'ssh key key-[0-9]{8}-1 added to user alice' \
	"ssh-key add gives the key a generated id" \
	iamctl ssh-key add alice "$K/alice1.pub"
A1=$(grep -Eo 'key-[0-9]{8}-1' <<<"$LAST_OUT")
expect_out 0 'ssh key key-[0-9]{8}-2 added' "a second key gets the next id" \
	sh -c "iamctl ssh-key add alice - < '$K/alice2.pub'"
A2=$(grep -Eo 'key-[0-9]{8}-2' <<<"$LAST_OUT")
expect_out 0 'ssh key laptop added' "ssh-key add --id" \
	iamctl ssh-key add alice "$K/alice3.pub" --id laptop
for u in bob dave frank; do
	iamctl ssh-key add "$u" "$K/$u.pub" --id main >/dev/null ||
		bad "ssh-key add $u"
done
expect 0 "carol's key" iamctl ssh-key add carol "$K/carol.pub" --id main
expect_out 0 "\"id\": \"$A1\"" "the key is in the identity file" \
	grep -A3 '"ssh_keys"' /etc/iam/identity.json
grep -q "\"eventName\":\"IdentityCommit\".*ssh-key add.*\"keyId\":\"laptop\"" \
	"$TRAIL" && ok "ssh-key add is an IdentityCommit in the trail" ||
	bad "no IdentityCommit for ssh-key add"

cp /etc/iam/identity.json "$T/before.json"
refused() {	# refused RC REGEX "description" command...: nothing changed
	expect_out "$@"
	cmp -s /etc/iam/identity.json "$T/before.json" &&
		ok "  ... and the identity file is unchanged" ||
		bad "  ... the identity file changed"
}
refused 1 "already key 'main' of user 'bob'" \
	"a key of another user is refused" iamctl ssh-key add alice "$K/bob.pub"
refused 1 "already key 'laptop' of user 'alice'" \
	"the same key with another comment is refused" \
	sh -c "sed 's/ [^ ]*\$/ other-comment/' '$K/alice3.pub' | iamctl ssh-key add carol -"
refused 1 'options \(such as command=' "a key with options is refused" \
	sh -c "printf 'command=\"/bin/sh\" %s\n' \"\$(cat '$K/spare.pub')\" | iamctl ssh-key add alice -"
refused 1 'private key' "a private key is refused" \
	iamctl ssh-key add alice "$K/spare"
refused 1 'exactly one key line' "two key lines are refused" \
	sh -c "cat '$K/spare.pub' '$K/spare.pub' | iamctl ssh-key add alice -"
refused 1 'not valid base64' "bad base64 is refused" \
	sh -c "echo 'ssh-ed25519 AAAA%%%% x' | iamctl ssh-key add alice -"
refused 1 'unknown key type' "an unknown type is refused" \
	sh -c "sed 's/^ssh-ed25519/ssh-dss/' '$K/spare.pub' | iamctl ssh-key add alice -"
refused 1 "no such user 'nobody-here'" "an unknown user is refused" \
	iamctl ssh-key add nobody-here "$K/spare.pub"
refused 1 "has a key 'laptop' already" "a used id is refused" \
	iamctl ssh-key add alice "$K/spare.pub" --id laptop
refused 1 'not a valid key id' "a bad id is refused" \
	iamctl ssh-key add alice "$K/spare.pub" --id 'a b'
refused 2 'No such file' "a missing file is a usage error" \
	iamctl ssh-key add alice "$T/no-such.pub"
refused 2 'usage' "missing arguments are a usage error" iamctl ssh-key add alice
refused 1 'holds no key' "empty input is refused" \
	sh -c "iamctl ssh-key add alice - </dev/null"
refused 1 'must be run as root' "ssh-key needs root" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	iamctl ssh-key add alice "$K/spare.pub"
refused 1 "no such user 'nobody-here'" "ssh-key list of an unknown user" \
	iamctl ssh-key list nobody-here
refused 1 "has no key 'nope'" "deactivating an unknown id is refused" \
	iamctl ssh-key deactivate alice nope
expect_out 0 'usage: iamctl ssh-key add' "ssh-key --help" iamctl ssh-key --help
expect_out 0 'usage: iamctl ssh-keys' "ssh-keys --help" iamctl ssh-keys --help

# ---- the snapshot, as sshd's AuthorizedKeysCommandUser ----------------------
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
n=$(as_nobody iamctl ssh-keys alice | grep -c '^ssh-ed25519 ')
[ "$n" = 3 ] && ok "nobody reads alice's three keys" || bad "nobody read $n keys"
[ "$(as_nobody iamctl ssh-keys bob)" = "$(pub bob)" ] &&
	ok "ssh-keys prints the key line as added" || bad "bob's key line differs"
for u in erin frank nobody-here root; do
	expect_out 0 '^$' "no key line for $u" as_nobody iamctl ssh-keys "$u"
done
[ "$(stat -L -c %a /var/lib/iam/keys.db)" = 644 ] && ok "keys.db is 0644" ||
	bad "keys.db mode $(stat -L -c %a /var/lib/iam/keys.db)"
chmod 0666 /var/lib/iam/keys.db
expect_out 1 'writable' "a keys.db writable by others is refused" \
	as_nobody iamctl ssh-keys alice
[ -z "$(as_nobody iamctl ssh-keys alice 2>/dev/null)" ] &&
	ok "  ... and prints no key" || bad "  ... printed keys"
chmod 0644 /var/lib/iam/keys.db
# A local account added later under an IAM user's name never gets its keys.
cp /etc/passwd "$T/passwd.orig"
echo "alice:x:1500:1500::/nonexistent:/usr/sbin/nologin" >> /etc/passwd
expect_out 0 '^$' "a local account named alice gets no IAM key" \
	as_nobody iamctl ssh-keys alice
cp "$T/passwd.orig" /etc/passwd

# ---- sshd --------------------------------------------------------------------
# The project's stacks, as installed: etc/pam.d/sshd runs pam_iam's
# account phase for key logins too.
for f in sshd common-auth common-account common-password common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
mkdir -p -m 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
SSHD_PID=
start_sshd() {	# start_sshd [EXTRA-DIRECTIVE]...
	stop_sshd
	{
		printf '%s\n' "$@"
		cat <<-EOF
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
	} > "$T/sshd_config"
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
SSH_OPTS=(-F /dev/null -p "$PORT" -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
	-o IdentityAgent=none -o LogLevel=ERROR -o ConnectTimeout=10)
ssh_key() {	# ssh_key KEY USER: the key and nothing else
	setsid -w ssh "${SSH_OPTS[@]}" -i "$K/$1" -o BatchMode=yes \
		-o PreferredAuthentications=publickey "$2@127.0.0.1" \
		'echo REMOTE-OK $(id -un)' </dev/null
}
start_sshd

expect_out 0 'REMOTE-OK alice' "alice logs in with her key" ssh_key alice1 alice
grep -q 'Accepted publickey for alice' "$T/sshd.log" &&
	ok "sshd accepted publickey for alice" || bad "sshd log: no accept"
expect_out 0 'REMOTE-OK alice' "alice logs in with her key added by id" \
	ssh_key alice3 alice
expect 255 "bob's key does not open alice's account" ssh_key bob alice
expect_out 0 'REMOTE-OK bob' "bob logs in with his own key" ssh_key bob bob
expect 255 "alice's key does not open bob's account" ssh_key alice1 bob
expect 255 "a key of nobody's is refused" ssh_key spare alice

expect_out 0 "ssh key $A2 of user alice deactivated" "ssh-key deactivate" \
	iamctl ssh-key deactivate alice "$A2"
expect 255 "an inactive key is refused" ssh_key alice2 alice
expect_out 0 'already Inactive' "deactivating twice changes nothing" \
	iamctl ssh-key deactivate alice "$A2"
expect 0 "ssh-key activate" iamctl ssh-key activate alice "$A2"
expect_out 0 'REMOTE-OK alice' "a reactivated key logs in again" ssh_key alice2 alice
expect_out 0 "ssh key laptop of user alice deleted" "ssh-key del" \
	iamctl ssh-key del alice laptop
expect 255 "a deleted key is refused" ssh_key alice3 alice
expect_out 0 'REMOTE-OK alice' "alice's other keys still work" ssh_key alice1 alice

expect 255 "an expired key (2020, maximum 90 days) is refused" ssh_key erin erin
expect_out 0 'ancient +ssh-ed25519 +Active +2020-01-01T00:00:00Z +[0-9]+ +expired +erin@client' \
	"ssh-key list shows the key's age and 'expired'" iamctl ssh-key list erin
expect_out 0 "$A1 +ssh-ed25519 +Active .* 0 +expires in 90d +alice1@client" \
	"ssh-key list shows a new key" iamctl ssh-key list alice
expect 255 "a disabled user's key is refused" ssh_key frank frank
expect 255 "host:Login denying dave refuses his key login" ssh_key dave dave
grep -q '"userName":"dave".*"errorCode":"AccessDenied".*"sid":"NoSsh"' "$TRAIL" &&
	ok "dave's key login denial is in the trail" || bad "no AccessDenied for dave"

# ---- mfa = "required" --------------------------------------------------------
printf 'hostname = "web1";\ntrail_required = true;\nmfa = "required";\n' \
	> /etc/iam/iam.conf
expect 255 "mfa required: a key alone is refused by the account phase" \
	ssh_key carol carol
grep -q 'Access denied for user carol by PAM account configuration' \
	"$T/sshd.log" && ok "  ... sshd: denied by the PAM account phase" ||
	bad "  ... not denied by the account phase"
grep -q '"userName":"carol".*"errorCode":"MFARequired"' "$TRAIL" &&
	ok "  ... as MFARequired in the trail" || bad "no MFARequired for carol"

start_sshd "AuthenticationMethods publickey,keyboard-interactive"
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
ssh_key_mfa() {	# ssh_key_mfa KEY USER CODE
	ASK_CODE=$3 SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
		DISPLAY= setsid -w ssh "${SSH_OPTS[@]}" -i "$K/$1" \
		-o PreferredAuthentications=publickey,keyboard-interactive \
		-o NumberOfPasswordPrompts=1 "$2@127.0.0.1" \
		'echo REMOTE-OK $(id -un)' </dev/null
}
# A wrong code: none of the codes the window would accept now.
near=$(oathtool --totp -b -w 2 "$SECRET"; oathtool --totp -b -N '-2 min' -w 4 "$SECRET")
wrong=123456
while grep -qx "$wrong" <<<"$near"; do wrong=$(( (wrong + 1) % 1000000 )); done
expect 255 "key + wrong code is refused" ssh_key_mfa carol carol "$wrong"
expect 255 "key alone is refused (keyboard-interactive must follow)" \
	ssh_key carol carol
rm -f "$T/prompts"
expect_out 0 'REMOTE-OK carol' "key + right code admits" \
	ssh_key_mfa carol carol "$(oathtool --totp -b "$SECRET")"
if grep -q 'Verification code' "$T/prompts" && ! grep -q 'Password' "$T/prompts"; then
	ok "after the key, keyboard-interactive asks only for the code"
else
	bad "prompts after the key:"; show "$(cat "$T/prompts")"
fi
grep -q 'Partial publickey for carol' "$T/sshd.log" &&
	grep -q 'Accepted keyboard-interactive/pam for carol' "$T/sshd.log" &&
	ok "sshd log: publickey, then keyboard-interactive" ||
	bad "sshd log: not both methods for carol"
expect 255 "another user's key + right code is refused" \
	ssh_key_mfa bob carol "$(oathtool --totp -b -N '+30 sec' "$SECRET")"
stop_sshd

# ---- malformed keys in the identity file -------------------------------------
V=$T/validate
mkdir -p "$V"
with_key() {	# with_key FILE JSON-STRING-OF-THE-KEY [CREATED]
	sed "s|\"ssh_keys\": \\[ { \"id\": \"ancient\", \"key\": \"[^\"]*\"|\"ssh_keys\": [ { \"id\": \"ancient\", \"key\": \"$2\"|" \
		"$T/identity.json" > "$V/$1"
}
P=$(pub spare | cut -d' ' -f1,2)
with_key good.json "$P good"
expect_out 0 '^OK$' "the control file validates" iamctl validate "$V/good.json"
with_key options.json "command=\\\\\"/bin/sh\\\\\" $P"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: options \(such as command=' \
	"a key with command=\"...\" is refused" iamctl validate "$V/options.json"
with_key base64.json "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5!!!! x"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: the key data is not valid base64' \
	"bad base64 is refused" iamctl validate "$V/base64.json"
with_key type.json "ssh-foo ${P#ssh-ed25519 }"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: unknown key type' \
	"an unknown type is refused" iamctl validate "$V/type.json"
with_key mismatch.json "ssh-rsa ${P#ssh-ed25519 }"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: the key data does not hold a key of the stated type' \
	"a type that does not match the key data is refused" iamctl validate "$V/mismatch.json"
with_key newline.json "$P a\\\\n$P b"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: must be one line' \
	"an embedded newline is refused" iamctl validate "$V/newline.json"
with_key dup.json "$(pub bob | cut -d' ' -f1,2) copy"
sed -i "s|\"name\": \"bob\", \"uid\": 70002, \"primary_group\": \"iamstaff\",|&\n      \"ssh_keys\": [ { \"id\": \"b\", \"key\": \"$(pub bob)\" } ],|" "$V/dup.json"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.key: the same key as users\[1\]\.ssh_keys\[0\]' \
	"one key in two users is refused" iamctl validate "$V/dup.json"
sed 's/"created": "2020-01-01T00:00:00Z"/"created": "2099-01-01T00:00:00Z"/' \
	"$T/identity.json" > "$V/future.json"
expect_out 1 'users\[4\]\.ssh_keys\[0\]\.created: .* is in the future' \
	"a creation time in the future is refused" iamctl validate "$V/future.json"
expect 0 "keys.db is untouched by validate" as_nobody iamctl ssh-keys bob
