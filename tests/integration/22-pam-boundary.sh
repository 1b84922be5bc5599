# 22-pam-boundary.sh - the privilege boundary of pam_iam with the real
# pamtester, su and sudo and the recommended stacks (etc/pam.d):
# the login session's source address survives `su - self`, so sudo is
# still refused under an IpAddress Deny on the user's network; root and
# a local user log in (auth and account, pamtester and su) whatever
# state /etc/iam/iam.conf is in, while an IAM user fails closed; the
# prompt transcripts of an unknown name, an IAM user with a device and
# one without are the same, and a local name sees no IAM prompt; a
# password stored with another method is re-hashed with hash_method; the
# minimal sudo stack (pam_iam alone) works for an IAM user.
ACCT=123456789012
PW='Correct-Horse-9!x'
BOBPW='Staple-Batt3ry-Horse#'
LOCALPW='Local-Only-Pass1!'
ROOTPW='Root-Break-Glass2@'
SEC_ALICE=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
CMD_ARN="arn:iam:sudo::$ACCT:host/web1/command"
NET=203.0.113.5

HASH_A=$(openssl passwd -6 "$PW")
HASH_B=$(openssl passwd -6 "$BOBPW")
cat > "$T/identity.json" <<EOF
{
  "account": { "id": "$ACCT", "alias": "acme-prod" },
  "groups": [ { "name": "engineers", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "engineers",
      "policies": ["Login", "IdAsRoot", "NotFromThatNet"],
      "password": { "hash": "$HASH_A" },
      "mfa": { "type": "totp", "secret": "$SEC_ALICE", "algorithm": "SHA1",
               "digits": 6, "period": 30 } },
    { "name": "bob", "uid": 70002, "primary_group": "engineers",
      "policies": ["Login", "IdAsRoot"],
      "password": { "hash": "$HASH_B" } }
  ],
  "policies": {
    "Login": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] },
    "IdAsRoot": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/id",
        "Condition": { "StringEquals": { "iam:RunAsUser": "root" } } } ] },
    "NotFromThatNet": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoSudoFromNet", "Effect": "Deny", "Action": "sudo:Run",
        "Resource": "*",
        "Condition": { "IpAddress": { "aws:SourceIp": "203.0.113.0/24" } } } ] }
  }
}
EOF
printf 'hostname = "web1";\n' > /etc/iam/iam.conf
chmod 0644 /etc/iam/iam.conf
cp /etc/iam/iam.conf "$T/iam.conf.good"
mkdir -p -m 0755 /var/lib/iam
expect 0 "the identity publishes" use_identity "$T/identity.json"

echo 'localops:x:1500:1500:Local Ops:/tmp:/bin/bash' >> /etc/passwd
echo 'localops:x:1500:' >> /etc/group
echo 'localops:*:20000:0:99999:7:::' >> /etc/shadow
printf 'localops:%s\nroot:%s\n' "$LOCALPW" "$ROOTPW" | chpasswd

for f in login su sudo common-auth common-account common-password \
	common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
# The recommended stack without login's fail delay, for speed.
cat > /etc/pam.d/plain <<EOF
@include common-auth
@include common-account
EOF
# A network login's session phase: PAM_RHOST is the address.
echo 'session required pam_iam.so' > /etc/pam.d/netlogin

cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf
EOF
chmod 0644 /etc/sudo.conf
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never, timestamp_timeout=0
%engineers ALL=(ALL:ALL) NOSETENV: ALL
EOF
chmod 0440 /etc/sudoers.d/iam

totp() { oathtool --totp -b "$1" -N "$(date -u -d "${2:-now}" '+%F %T UTC')"; }
as() {	# as USER COMMAND...
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env HOME=/ USER="$u" LOGNAME="$u" PATH=/usr/bin:/bin "$@"
}
piped() {	# piped ANSWER... -- COMMAND...: the answers on COMMAND's stdin
	local a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	printf '%s\n' "${a[@]}" | "$@"
}
session_rec() { cat /run/iam/sessions/* 2>/dev/null; }

# ---- the source address survives su - self -----------------------------------
expect 0 "a network login of alice from $NET opens its session" \
	pamtester -I rhost=$NET netlogin alice open_session
grep -q " $NET\$" <<<"$(session_rec)" &&
	ok "the login session records $NET" ||
	bad "no address recorded: $(session_rec)"
expect_out 0 'uid=70001' "alice: su - alice (password and code) inside that session" \
	piped "$PW" "$(totp $SEC_ALICE)" -- as alice su - alice -c id
grep -q " $NET\$" <<<"$(session_rec)" &&
	ok "su kept the session's address" ||
	bad "su erased the address: $(session_rec)"
expect_out 1 'denied by IAM policy \(explicit deny\)' \
	"alice: sudo after su - self is still refused by the IpAddress Deny" \
	piped "$PW" "$(totp $SEC_ALICE '+30 sec')" -- as alice sudo -S /usr/bin/id -u
grep -q '"eventName":"SudoRun".*"sourceIPAddress":"203.0.113.5"' \
	/var/log/iam/trail.jsonl && ok "the refusal carries the address" ||
	bad "SudoRun without the address"

# ---- a right sha512crypt password is re-hashed with hash_method (yescrypt) ----
grep -q '"hash": *"\$y\$' /var/lib/iam/credentials/70001.json 2>/dev/null &&
	ok "alice's password was re-hashed with yescrypt after her login" ||
	bad "no yescrypt hash in the credentials store"
# rehash_max_users = 0: never at login, whatever the number of users
echo 'rehash_max_users = 0;' >> /etc/iam/iam.conf
expect_out 0 'successfully authenticated' "bob logs in with rehash_max_users = 0" \
	sh -c "printf '%s\n%s\n' '$BOBPW' 'whatever' | pamtester plain bob authenticate"
! grep -qs '"hash": *"\$y\$' /var/lib/iam/credentials/70002.json &&
	ok "rehash_max_users = 0: bob's sha512crypt hash is left as it is" ||
	bad "bob re-hashed with rehash_max_users = 0"
cp "$T/iam.conf.good" /etc/iam/iam.conf
expect_out 0 'successfully authenticated' \
	"bob: the re-hash happens on his first login too" \
	sh -c "printf '%s\n%s\n' '$BOBPW' 'whatever' | pamtester plain bob authenticate"
grep -q '"hash": *"\$y\$' /var/lib/iam/credentials/70002.json 2>/dev/null &&
	ok "bob's password is now yescrypt" || bad "bob not re-hashed"
expect_out 0 'successfully authenticated' "bob: the re-hashed password works" \
	sh -c "printf '%s\n%s\n' '$BOBPW' 'x' | pamtester plain bob authenticate"

# ---- prompts: the same transcript for every name that is not local -----------
transcript() {	# transcript USER: prompts and messages of a wrong password
	printf '%s\n%s\n' 'Not-The-Passw0rd!' 123456 |
		pamtester -v plain "$1" authenticate 2>&1 |
		sed -e "s/$1@/NAME@/g" -e '/^pamtester:/d'
}
t_unknown=$(transcript mallory)
t_device=$(transcript alice)
t_none=$(transcript bob)
grep -q 'Verification code: ' <<<"$t_none" &&
	ok "bob (no device) is asked the code like everyone" ||
	bad "bob was not asked a code"
[ "$t_unknown" = "$t_device" ] && [ "$t_unknown" = "$t_none" ] &&
	ok "unknown name, user with a device and without: one transcript" ||
	{ bad "transcripts differ"; show "$t_unknown"; show "$t_device"; show "$t_none"; }
t_local=$(printf '%s\n' "$LOCALPW" | pamtester -v plain localops authenticate 2>&1)
grep -Eq 'Verification code|@acme-prod|Authentication failed' <<<"$t_local" &&
	bad "localops saw an IAM prompt or message: $t_local" ||
	ok "a local name sees no IAM prompt and no IAM message"
echo 'uniform_prompts = false;' >> /etc/iam/iam.conf
expect_out 0 'successfully authenticated' \
	"uniform_prompts = false: bob gets the password prompt alone" \
	sh -c "printf '%s\n' '$BOBPW' | pamtester -v plain bob authenticate"
grep -q 'Verification code' <<<"$LAST_OUT" && bad "bob asked a code" ||
	ok "no code prompt for bob"
cp "$T/iam.conf.good" /etc/iam/iam.conf

# ---- every state of iam.conf: root and local users pass, IAM users do not ----
conf_state() {	# conf_state N: put iam.conf in state N; prints its name
	rm -rf /etc/iam/iam.conf
	case $1 in
	0) echo 'no_such_setting = 1;' > /etc/iam/iam.conf; echo "unknown setting" ;;
	1) echo 'mfa = ' > /etc/iam/iam.conf; echo "syntax error" ;;
	2) cp "$T/iam.conf.good" /etc/iam/iam.conf; chmod 0666 /etc/iam/iam.conf
	   echo "mode 0666" ;;
	3) mkdir /etc/iam/iam.conf; echo "a directory" ;;
	4) mkfifo -m 0644 /etc/iam/iam.conf; echo "a fifo" ;;
	5) cp "$T/iam.conf.good" /etc/iam/iam.conf; chown 1500 /etc/iam/iam.conf
	   echo "not owned by root" ;;
	6) ln -s "$T/iam.conf.good" /etc/iam/iam.conf; echo "a symlink" ;;
	7) echo "missing" ;;
	esac
	[ -e /etc/iam/iam.conf ] && [ ! -L /etc/iam/iam.conf ] &&
		[ ! -p /etc/iam/iam.conf ] && [ ! -d /etc/iam/iam.conf ] &&
		[ "$1" != 2 ] && [ "$1" != 5 ] && chmod 0644 /etc/iam/iam.conf
	return 0
}
for n in 0 1 2 3 4 5 6 7; do
	s=$(conf_state $n)
	expect_out 0 'successfully authenticated' "iam.conf $s: root (auth, account)" \
		sh -c "printf '%s\n' '$ROOTPW' | pamtester -v plain root authenticate acct_mgmt"
	grep -Eq 'Verification|@acme' <<<"$LAST_OUT" && bad "root saw an IAM prompt"
	expect_out 0 'successfully authenticated' "iam.conf $s: localops (auth, account)" \
		sh -c "printf '%s\n' '$LOCALPW' | pamtester plain localops authenticate acct_mgmt"
	expect_out 0 'uid=0\(root\)' "iam.conf $s: localops su - root" \
		sh -c "printf '%s\n' '$ROOTPW' | setpriv --reuid=1500 --regid=1500 --clear-groups su - root -c id"
	if [ $n = 7 ]; then
		expect 0 "iam.conf missing: defaults, alice's account phase passes" \
			pamtester plain alice acct_mgmt
	else
		expect_out 1 'Authentication|Permission|unavailable|denied' \
			"iam.conf $s: alice's account phase fails closed" \
			pamtester plain alice acct_mgmt
	fi
done
cp "$T/iam.conf.good" /etc/iam/iam.conf
chmod 0644 /etc/iam/iam.conf
rm -rf /etc/iam/iam.conf && cp "$T/iam.conf.good" /etc/iam/iam.conf
conf_state 0 >/dev/null
expect 1 "iam.conf broken: bob cannot authenticate with his right password" \
	sh -c "printf '%s\n%s\n' '$BOBPW' x | pamtester plain bob authenticate"
rm -f /etc/iam/iam.conf && cp "$T/iam.conf.good" /etc/iam/iam.conf
chmod 0644 /etc/iam/iam.conf

# ---- the minimal sudo stack: pam_iam alone -------------------------------------
cat > /etc/pam.d/sudo <<EOF
auth     required pam_iam.so
account  required pam_iam.so
session  required pam_iam.so
EOF
# sudo opens the session for the run-as user (root, PAM_RUSER bob):
# pam_iam alone must answer it, not ignore it.
expect_out 0 'code: 0$' "minimal sudo stack: bob (no device) runs sudo id -u as root" \
	piped "$BOBPW" x -- as bob sudo -S /usr/bin/id -u
# Only a local account's session on behalf of an IAM user is answered:
# a name nobody has, or a local user's own session, is left ignored (and
# a stack of pam_iam alone then fails, as libpam does).
printf 'session required pam_iam.so\n' > /etc/pam.d/iamsess
expect 0 "session of root with PAM_RUSER bob (an IAM user): accepted" \
	pamtester -I ruser=bob iamsess root open_session close_session
expect 1 "session of a name nobody has with PAM_RUSER bob: not answered" \
	pamtester -I ruser=bob iamsess nosuchname open_session
expect 1 "session of root with PAM_RUSER a local user: not answered" \
	pamtester -I ruser=localops iamsess root open_session
expect 1 "session of root with no PAM_RUSER: not answered" \
	pamtester iamsess root open_session
rm -f /etc/pam.d/iamsess
