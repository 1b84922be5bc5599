# 24-review-fixes.sh - fixes of a security review, with the real clients:
# a password reset or MFA removal is never undone by a login that
# re-hashes the password at the same time (the record is read, checked
# and written under the store's lock); a caller's RLIMIT_FSIZE neither
# keeps an event out of trail.jsonl nor tears a line of it (sudo and the
# setuid su); `su` to another IAM user keeps the address the network
# login recorded, so the first user's IpAddress Deny still holds; a
# credential file a killed change left ahead of the served generation is
# flagged by iamctl doctor.
ACCT=123456789012
PW='Correct-Horse-9!x'
BOBPW='Staple-Batt3ry-Horse#'
NEWPW='Brand-New-Passw0rd#42'
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
mkdir -p -m 0755 /var/lib/iam
expect 0 "the identity publishes" use_identity "$T/identity.json"

for f in login su sudo common-auth common-account common-password \
	common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
cat > /etc/pam.d/plain <<EOF
@include common-auth
@include common-account
EOF
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
auth() {	# auth USER PASSWORD [CODE]: pamtester's verdict, 0 or not
	printf '%s\n%s\n' "$2" "${3:-x}" | pamtester plain "$1" authenticate
}
# slow_rename COMMAND...: COMMAND with its first rename held 3 s (the
# credential file's, taken under the store's lock)
slow_rename() {
	strace -qq -f -o /dev/null \
		-e inject=rename,renameat,renameat2:delay_enter=3000000:when=1 "$@"
}

# ---- 1. a reset is not undone by a login that re-hashes meanwhile ------------
(printf '%s\n' "$NEWPW" | slow_rename iamctl passwd bob --stdin \
	> "$T/passwd.out" 2>&1; echo $? > "$T/passwd.rc") &
sleep 1
auth bob "$BOBPW" > "$T/login.out" 2>&1
wait
[ "$(cat "$T/passwd.rc")" = 0 ] && ok "iamctl passwd bob reports the change" ||
	bad "iamctl passwd bob failed: $(cat "$T/passwd.out")"
expect 0 "bob: the new password works after a concurrent re-hashing login" \
	auth bob "$NEWPW"
expect 1 "bob: the old password no longer works" auth bob "$BOBPW"

(slow_rename iamctl mfa disable alice > "$T/mfa.out" 2>&1
 echo $? > "$T/mfa.rc") &
sleep 1
auth alice "$PW" "$(totp $SEC_ALICE)" > "$T/login.out" 2>&1
wait
[ "$(cat "$T/mfa.rc")" = 0 ] && ok "iamctl mfa disable alice reports it" ||
	bad "iamctl mfa disable alice failed: $(cat "$T/mfa.out")"
expect 0 "alice: no code needed after a concurrent re-hashing login" \
	auth alice "$PW" 000000
grep -q '"hash": *"\$y\$' /var/lib/iam/credentials/70001.json &&
	ok "alice's login re-hashed after the removal, not over it" ||
	bad "alice's password not re-hashed"
