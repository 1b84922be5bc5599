# 50-sudo.sh - real sudo asks sudo_iam about every command: an IAM user
# known to the system only through nss_iam authenticates through pam_iam
# with password and TOTP (sudo -S), then each command is a sudo:Run
# request decided by policy: path patterns on the canonical path, an
# explicit Deny over a wildcard Allow, run-as users, MFA freshness with
# sudo's timestamp still valid, host tags; a disabled IAM user and a local
# user under defer and deny; a broken private snapshot refuses IAM users
# and leaves local users to sudoers.  Every decision is in the trail.
#
# The PAM account and session phases of the sudo service are pam_permit
# here so that what is tested is the plugin's own decision.
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
PASSWORD='Correct-Horse-9!'
TRAIL=/var/log/iam/trail.jsonl
ACCT=123456789012
CMD_ARN="arn:iam:sudo::$ACCT:host/web1/command"
MSG_EXPLICIT='sudo: denied by IAM policy (explicit deny)'
MSG_NO_ALLOW='sudo: denied by IAM policy (no allow)'
MSG_DISABLED='sudo: denied by IAM policy (account disabled)'
MSG_UNAVAIL='sudo: IAM unavailable; refused'

HASH=$(openssl passwd -6 "$PASSWORD")
cat > "$T/identity.json" <<EOF
{
  "account": { "id": "$ACCT" },
  "groups": [ { "name": "engineers", "gid": 70100, "policies": ["NoStop"] } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "engineers",
      "policies": ["DevBin"],
      "password": { "hash": "$HASH" },
      "mfa": { "type": "totp", "secret": "$SECRET", "algorithm": "SHA1",
               "digits": 6, "period": 30 } },
    { "name": "bob", "uid": 70002, "primary_group": "engineers",
      "policies": ["BackupId"] },
    { "name": "carol", "uid": 70003, "primary_group": "engineers",
      "policies": ["DevBin"], "disabled": true }
  ],
  "policies": {
    "DevBin": { "Version": "2012-10-17", "Statement": [
      { "Sid": "BinAsRootFreshMFA", "Effect": "Allow", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/*",
        "Condition": {
          "StringEquals": { "iam:RunAsUser": "root",
                            "aws:ResourceTag/Environment": "Development" },
          "NumericLessThan": { "aws:MultiFactorAuthAge": "900" } } } ] },
    "NoStop": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoServiceStop", "Effect": "Deny", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/systemctl",
        "Condition": { "StringLike": { "iam:Command": "/usr/bin/systemctl stop *" } } } ] },
    "BackupId": { "Version": "2012-10-17", "Statement": [
      { "Sid": "IdAsBackup", "Effect": "Allow", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/id",
        "Condition": { "StringEquals": { "iam:RunAsUser": "backup" } } } ] }
  }
}
EOF

write_conf() {	# write_conf ENVIRONMENT
	cat > /etc/iam/iam.conf <<EOF
hostname = "web1";
host_tags = { Environment = "$1"; };
EOF
	chmod 0644 /etc/iam/iam.conf
}
write_conf Development
mkdir -p -m 0755 /var/lib/iam
if use_identity "$T/identity.json" >"$T/sync.out" 2>&1; then
	ok "identity published"
else
	bad "iamctl sync"; show "$(cat "$T/sync.out")"
fi
expect_out 0 '^alice:[^:]*:70001:' "alice is known through nss_iam only" getent passwd alice
grep -q '^alice:' /etc/passwd && bad "alice is in /etc/passwd"

# A local account, never in the snapshot.
echo 'localu:x:1500:1500::/tmp:/bin/sh' >> /etc/passwd
echo 'localu:x:1500:' >> /etc/group

PLUGIN_LINE="Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf"
sudo_conf() {	# sudo_conf [EXTRA PLUGIN OPTIONS]
	cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
$PLUGIN_LINE $*
EOF
	chown root:root /etc/sudo.conf
	chmod 0644 /etc/sudo.conf
}
sudo_conf unknown_user=defer
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never, timestamp_timeout=60, timestamp_type=global
%engineers ALL=(ALL:ALL) NOSETENV: ALL
bob, carol, localu ALL=(ALL:ALL) NOPASSWD: ALL
EOF
chmod 0440 /etc/sudoers.d/iam
expect 0 "visudo accepts the coarse layer" visudo -c -q
cat > /etc/pam.d/sudo <<EOF
auth     [success=done user_unknown=ignore authinfo_unavail=ignore default=die] pam_iam.so
auth     required   pam_unix.so
account  required   pam_permit.so
session  required   pam_permit.so
EOF
expect_out 0 'sudo_iam' "sudo -V loads the plugin" sh -c 'sudo -V | grep -i approval'

# A link in an allowed folder that points outside it.
mkdir -p "$T/ubin/up" "$T/ubin/work"
mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$T/ubin/up,workdir=$T/ubin/work" /usr/bin
ln -s /usr/sbin/visudo /usr/bin/iam-sneaky

as() {	# as USER COMMAND...: run as USER with the groups NSS gives
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env HOME=/ USER="$u" LOGNAME="$u" PATH=/usr/bin:/bin "$@"
}
trail_count() {
	local n
	n=$(grep -c '"eventName":"SudoRun"' "$TRAIL" 2>/dev/null)
	echo "${n:-0}"
}
last_event() { grep '"eventName":"SudoRun"' "$TRAIL" | tail -1; }
# refused USER MESSAGE DESCRIPTION sudo-args...: rc 1, exactly MESSAGE
refused() {
	local u=$1 msg=$2 d=$3 out rc n
	shift 3
	n=$(trail_count)
	out=$(as "$u" sudo -n "$@" 2>&1); rc=$?
	if [ "$rc" = 1 ] && [ "$out" = "$msg" ] && [ "$(trail_count)" -gt "$n" ]; then
		ok "$d"
	else
		bad "$d (rc=$rc)"
	fi
	show "$out"
}

echo "== alice: password and TOTP through pam_iam, then policy"
code=$(oathtool --totp -b "$SECRET")
out=$(printf '%s\n%s\n' "$PASSWORD" "$code" | as alice sudo -S /usr/bin/id -u 2>"$T/prompts"); rc=$?
if [ "$rc" = 0 ] && [ "$out" = 0 ]; then ok "allowed: sudo /usr/bin/id -u prints 0"
else bad "allowed command (rc=$rc): $out"; fi
show "prompts: $(tr '\n' ' ' < "$T/prompts")"
grep -q '"decision":"Allow"' <<<"$(last_event)" && grep -q '"userName":"alice"' <<<"$(last_event)" \
	&& ok "trail: Allow for alice" || bad "trail: $(last_event)"
grep -q '"sid":"BinAsRootFreshMFA"' <<<"$(last_event)" && grep -q '"mfaAge":"' <<<"$(last_event)" \
	&& ok "trail names the deciding statement and the MFA age" || bad "trail: $(last_event)"
show "$(last_event)"
expect_out 0 '^0$' "sudo's timestamp: a second command without a prompt" as alice sudo -n /usr/bin/id -u

refused alice "$MSG_NO_ALLOW" "command outside /usr/bin/* refused" /usr/sbin/visudo --version
refused alice "$MSG_NO_ALLOW" "same command through .. refused" /usr/bin/../sbin/visudo --version
grep -q '"command":"/usr/sbin/visudo --version"' <<<"$(last_event)" \
	&& ok "trail shows the canonical command line" || bad "trail: $(last_event)"
refused alice "$MSG_NO_ALLOW" "same command through a symlink in /usr/bin refused" /usr/bin/iam-sneaky --version
# sudo execs the path it was given: a link alice could swap after the
# decision is refused, even while it points to an allowed command.
mkdir -m 0755 "$T/home/alice-bin" && chown 70001 "$T/home/alice-bin"
ln -s /usr/bin/id "$T/home/alice-bin/id"
refused alice "$MSG_UNAVAIL" "a link in a folder alice owns is refused" "$T/home/alice-bin/id" -u

expect_out 0 'systemd' "systemctl --version runs (Allow /usr/bin/*)" as alice sudo -n /usr/bin/systemctl --version
refused alice "$MSG_EXPLICIT" "systemctl stop x refused (explicit Deny beats Allow)" /usr/bin/systemctl stop x
grep -q '"sid":"NoServiceStop"' <<<"$(last_event)" && ok "trail: decided by NoServiceStop" || bad "trail: $(last_event)"

echo "== run-as users"
refused alice "$MSG_NO_ALLOW" "alice: sudo -u backup refused (RunAsUser root only)" -u backup /usr/bin/id -u
expect_out 0 '^34$' "bob: sudo -u backup id -u allowed by iam:RunAsUser" as bob sudo -n -u backup /usr/bin/id -u
grep -q '"runAsUser":"backup"' <<<"$(last_event)" && ok "trail: runAsUser backup" || bad "trail: $(last_event)"
refused bob "$MSG_NO_ALLOW" "bob: the same command as root refused" /usr/bin/id -u

echo "== MFA freshness from the session record, sudo's timestamp still valid"
rec=$(grep -l '^IAMSESS1 70001 ' /run/iam/sessions/* 2>/dev/null | head -1)
if [ -n "$rec" ]; then
	ok "pam_iam recorded alice's MFA: $(basename "$rec")"
	old=$(( $(date +%s) - 1200 ))
	awk -v t="$old" '{ $3 = t; print }' "$rec" > "$rec.new" && chmod 0600 "$rec.new" && mv "$rec.new" "$rec"
	refused alice "$MSG_NO_ALLOW" "MFA 20 minutes old: refused" /usr/bin/id -u
	grep -q '"mfaAge":"120' <<<"$(last_event)" && ok "trail: mfaAge 1200" || bad "trail: $(last_event)"
	awk -v t="$(date +%s)" '{ $3 = t; print }' "$rec" > "$rec.new" && chmod 0600 "$rec.new" && mv "$rec.new" "$rec"
	expect_out 0 '^0$' "MFA fresh again: allowed" as alice sudo -n /usr/bin/id -u
	chown 70001 "$rec"
	refused alice "$MSG_NO_ALLOW" "a session record not owned by root is ignored" /usr/bin/id -u
	chown 0 "$rec"
else
	bad "no MFA session record for alice under /run/iam/sessions"
fi

echo "== host tags"
write_conf Production
refused alice "$MSG_NO_ALLOW" "Environment=Production refuses what Development allows" /usr/bin/id -u
write_conf Development
expect_out 0 '^0$' "Environment=Development allows it again" as alice sudo -n /usr/bin/id -u

echo "== who is decided"
refused carol "$MSG_DISABLED" "disabled IAM user refused" /usr/bin/id -u
grep -q '"errorCode":"AccountDisabled"' <<<"$(last_event)" && ok "trail: AccountDisabled" || bad "trail: $(last_event)"
expect_out 0 '^iamctl' "local user deferred to sudoers (unknown_user=defer)" as localu sudo -n /usr/bin/iamctl --version
n=$(trail_count)
out=$(as localu sudo -n /usr/bin/id -u 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$out" = 0 ] && [ "$(trail_count)" -gt "$n" ] && grep -q '"decision":"Deferred"' <<<"$(last_event)" \
	&& ok "local user's deferral is in the trail" || bad "local defer (rc=$rc): $out"
sudo_conf unknown_user=deny
refused localu "$MSG_NO_ALLOW" "local user refused with unknown_user=deny" /usr/bin/id -u
sudo_conf unknown_user=defer

echo "== a broken private snapshot: IAM users refused, local users deferred"
chmod 0644 /var/lib/iam/auth/auth.db
refused alice "$MSG_UNAVAIL" "insecure auth.db: alice refused" /usr/bin/id -u
expect_out 0 '^0$' "insecure auth.db: local user deferred" as localu sudo -n /usr/bin/id -u
chmod 0600 /var/lib/iam/auth/auth.db
printf 'garbage!garbage!garbage!' | dd of=/var/lib/iam/auth/auth.db bs=1 seek=8 conv=notrunc status=none
refused alice "$MSG_UNAVAIL" "corrupt auth.db: alice refused, sudo did not crash" /usr/bin/id -u
grep -q '"errorCode":"Unavailable"' <<<"$(last_event)" && ok "trail: Unavailable" || bad "trail: $(last_event)"
expect_out 0 '^0$' "corrupt auth.db: local user deferred" as localu sudo -n /usr/bin/id -u
iamctl sync >/dev/null 2>&1
expect_out 0 '^0$' "republished: alice allowed again" as alice sudo -n /usr/bin/id -u

echo "== bad plugin options: sudo refuses everything"
sudo_conf bogus=1
expect_out 1 'sudo_iam: option' "unknown option: even a local user is refused" as localu sudo -n /usr/bin/id -u
sudo_conf unknown_user=defer

echo "== the trail"
n=$(trail_count)
[ "$n" -ge 20 ] && ok "$n SudoRun events in $TRAIL" || bad "only $n SudoRun events"
show "$(grep '"eventName":"SudoRun"' "$TRAIL" | tail -3)"
