# 70-roles.sh - temporary, MFA-gated elevation: an IAM user assumes a
# role through `iamctl assume-role` (the setuid helper iam-role-helper,
# run as the user), and real sudo then decides as the role in that login
# session only.  Refusals name their reason: a trust policy that does not
# name the caller, a missing, wrong or replayed code, a duration above the
# role's maximum, the caller's own explicit Deny.  Another login session
# of the same user is not elevated; expiry (--duration 2), drop-role and
# an administrator's revocation end the session; a forged record (wrong
# owner, wrong mode) is ignored.  Every step is in the trail.
#
# Login sessions are kernel audit sessions: writing /proc/self/loginuid as
# root starts a new one (a new /proc/self/sessionid), as pam_loginuid does
# at login.  This shell starts its own first, so everything it runs shares
# one login session; `other_session` runs a command in a fresh one.
#
# Lockout (the identity names none, so 5 failures and 900 s): 30 wrong
# codes then the right one are refused, the lock is not extended and is
# one Lockout event; with "lockout": null a failed code makes the next
# try within IAM_LOCKOUT_DELAY refused unchecked.  What the helper
# creates (/run/iam, its folders, /var/log/iam, the trail, a state file)
# is root:root although the caller's group is engineers.
SA=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SE=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU
SF=ONSWG4TFOQYHK3DJMNVWK6LTMVRXG2LF
SB=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
SC=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
TRAIL=/var/log/iam/trail.jsonl
ACCT=123456789012
CMD="arn:iam:sudo::$ACCT:host/web1/command"
HELPER=/usr/libexec/iam/iam-role-helper
MSG_EXPLICIT='sudo: denied by IAM policy (explicit deny)'
MSG_NO_ALLOW='sudo: denied by IAM policy (no allow)'
MSG_DISABLED='sudo: denied by IAM policy (account disabled)'

cat > "$T/identity.json" <<EOF
{
  "account": { "id": "$ACCT" },
  "groups": [ { "name": "engineers", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "engineers",
      "policies": ["OwnAlice", "MayAssume"],
      "mfa": { "type": "totp", "secret": "$SA", "algorithm": "SHA1", "digits": 6, "period": 30 } },
    { "name": "bob", "uid": 70002, "primary_group": "engineers",
      "policies": ["MayAssume"],
      "mfa": { "type": "totp", "secret": "$SB", "algorithm": "SHA1", "digits": 6, "period": 30 } },
    { "name": "carol", "uid": 70003, "primary_group": "engineers",
      "policies": ["MayAssume", "NoRoles"],
      "mfa": { "type": "totp", "secret": "$SC", "algorithm": "SHA1", "digits": 6, "period": 30 } },
    { "name": "dave", "uid": 70004, "primary_group": "engineers",
      "policies": ["MayAssume"] },
    { "name": "erin", "uid": 70005, "primary_group": "engineers",
      "policies": ["MayAssume"],
      "mfa": { "type": "totp", "secret": "$SE", "algorithm": "SHA1", "digits": 6, "period": 30 } },
    { "name": "frank", "uid": 70006, "primary_group": "engineers",
      "policies": ["MayAssume"],
      "mfa": { "type": "totp", "secret": "$SF", "algorithm": "SHA1", "digits": 6, "period": 30 } }
  ],
  "roles": [
    { "name": "deployer", "max_session_seconds": 3600, "tags": { "Duty": "deploy" },
      "trust_policy": { "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": "sts:AssumeRole",
          "Principal": { "AWS": ["arn:iam:iam::$ACCT:user/alice",
                                 "arn:iam:iam::$ACCT:user/carol",
                                 "arn:iam:iam::$ACCT:user/dave",
                                 "arn:iam:iam::$ACCT:user/erin",
                                 "arn:iam:iam::$ACCT:user/frank"] },
          "Condition": { "Bool": { "aws:MultiFactorAuthPresent": "true" } } } ] },
      "policies": ["DeployAccess"] }
  ],
  "policies": {
    "OwnAlice": { "Version": "2012-10-17", "Statement": [
      { "Sid": "IdOnly", "Effect": "Allow", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/id" },
      { "Sid": "NeverCat", "Effect": "Deny", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/cat" } ] },
    "MayAssume": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:iam:iam::$ACCT:role/*" } ] },
    "NoRoles": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoDeployer", "Effect": "Deny", "Action": "sts:AssumeRole",
        "Resource": "arn:iam:iam::$ACCT:role/deployer" } ] },
    "DeployAccess": { "Version": "2012-10-17", "Statement": [
      { "Sid": "DeployerRuns", "Effect": "Allow", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/*",
        "Condition": { "StringEquals": { "aws:PrincipalType": "AssumedRole",
                                         "aws:PrincipalArn": "arn:iam:iam::$ACCT:role/deployer",
                                         "aws:PrincipalTag/Duty": "deploy" },
                       "Bool": { "aws:MultiFactorAuthPresent": "true" } } } ] }
  }
}
EOF
cat > /etc/iam/iam.conf <<EOF
hostname = "web1";
totp_window = 4;
EOF
chmod 0644 /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
if use_identity "$T/identity.json" >"$T/sync.out" 2>&1; then ok "identity with a role published"
else bad "iamctl sync"; show "$(cat "$T/sync.out")"; fi
st=$(stat -c '%U %a' /var/lib/iam/auth/roles.db 2>&1)
[ "$st" = "root 600" ] && ok "auth/roles.db published root 0600" || bad "roles.db: $st"
st=$(stat -c '%U %a' "$HELPER" 2>&1)
[ "$st" = "root 4755" ] && ok "helper installed setuid root 4755" || bad "helper: $st"

cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf unknown_user=deny
EOF
chmod 0644 /etc/sudo.conf
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never
alice, bob, carol, dave, erin, frank ALL=(ALL:ALL) NOPASSWD: ALL
EOF
chmod 0440 /etc/sudoers.d/iam
cat > /etc/pam.d/sudo <<EOF
auth     required   pam_permit.so
account  required   pam_permit.so
session  required   pam_permit.so
EOF

# This shell becomes one login session of its own.
echo 70001 > /proc/self/loginuid
SID=$(cat /proc/self/sessionid)
[ "$SID" != 4294967295 ] && ok "this test runs in audit session $SID" || bad "no audit session"

as() {	# as USER COMMAND...: run as USER, in this login session
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env HOME=/ USER="$u" LOGNAME="$u" PATH=/usr/sbin:/usr/bin:/bin "$@"
}
code() {	# code SECRET N: the code N steps ahead
	oathtool --totp -b "$1" -N "$(date -u -d "+$(( $2 * 30 )) sec" '+%F %T')"
}
assume() {	# assume USER CODE ARGS...: iamctl assume-role with CODE on stdin
	local u=$1 c=$2
	shift 2
	printf '%s\n' "$c" | as "$u" iamctl assume-role "$@"
}
event() { grep "\"eventName\":\"$1\"" "$TRAIL" | tail -1; }
# refused USER MESSAGE DESCRIPTION sudo-args...
refused() {
	local u=$1 msg=$2 d=$3 out rc
	shift 3
	out=$(as "$u" sudo -n "$@" 2>&1); rc=$?
	if [ "$rc" = 1 ] && [ "$out" = "$msg" ]; then ok "$d"; else bad "$d (rc=$rc)"; fi
	show "$out"
}
# other_session SCRIPT: run SCRIPT as root in a new login session of
# alice; $sid is that session's id inside SCRIPT.
other_session() {
	bash -c 'echo 70001 > /proc/self/loginuid || exit 99
		sid=$(cat /proc/self/sessionid)
		as() { local u=$1; shift
			setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
				env HOME=/ PATH=/usr/sbin:/usr/bin:/bin "$@"; }
		'"$1"
}

echo "== before any role"
expect_out 0 '^role: +none' "whoami: no role session" as alice iamctl whoami
refused alice "$MSG_NO_ALLOW" "sudo /usr/bin/true refused: alice's own policies do not allow it" /usr/bin/true
expect_out 0 '^0$' "sudo /usr/bin/id -u allowed by alice's own policy" as alice sudo -n /usr/bin/id -u
expect_out 1 'not an IAM user' "root cannot assume a role" iamctl assume-role deployer </dev/null

echo "== refusals, each with its reason"
expect_out 1 'above the maximum of role deployer \(3600 seconds\)' "--duration 7200 refused" \
	assume alice 000000 deployer --duration 7200
grep -q '"errorCode":"AccessDenied"' <<<"$(event AssumeRole)" && grep -q 'above the maximum' <<<"$(event AssumeRole)" \
	&& ok "trail: AssumeRole AccessDenied with the reason" || bad "trail: $(event AssumeRole)"
expect_out 1 'no verification code given' "no code refused" as alice iamctl assume-role deployer </dev/null
grep -q '"errorCode":"InvalidMFA"' <<<"$(event AssumeRole)" && ok "trail: InvalidMFA" || bad "trail: $(event AssumeRole)"
expect_out 1 'wrong verification code' "wrong code refused" assume alice 000000 deployer
expect_out 1 'could not be read' "a 17-character code line is refused unchecked" \
	assume alice 12345678901234567 deployer
expect_out 1 'no role named ghost' "unknown role refused" assume alice "$(code $SA 0)" ghost
expect_out 2 'usage' "a reason with a control character is a usage error" \
	assume alice "$(code $SA 0)" deployer --reason "$(printf 'a\tb')"
expect_out 1 "trust policy does not allow you" "bob: trust policy does not name him" \
	assume bob "$(code $SB 0)" deployer
grep -q '"userName":"bob"' <<<"$(event AssumeRole)" && grep -q '"errorCode":"AccessDenied"' <<<"$(event AssumeRole)" \
	&& ok "trail: bob's AssumeRole denied" || bad "trail: $(event AssumeRole)"
expect_out 1 "explicitly deny" "carol: her own policy denies sts:AssumeRole" \
	assume carol "$(code $SC 0)" deployer
grep -q '"sid":"NoDeployer"' <<<"$(event AssumeRole)" && ok "trail names carol's deciding statement" \
	|| bad "trail: $(event AssumeRole)"
expect_out 1 "no MFA device" "dave: no MFA device" assume dave 123456 deployer
grep -q '"errorCode":"MFANotEnrolled"' <<<"$(event AssumeRole)" && ok "trail: MFANotEnrolled" || bad "trail: $(event AssumeRole)"
[ -z "$(ls -A /run/iam/roles 2>/dev/null)" ] && ok "no role session recorded by any refusal" \
	|| bad "records: $(ls -A /run/iam/roles)"

echo "== assume-role with MFA"
C0=$(code $SA 0)
expect_out 0 'Assumed role deployer' "alice assumes deployer with a fresh code" \
	assume alice "$C0" deployer --duration 600 --reason "deploy release 42"
ID=$(sed -n 's/^Session \([0-9a-f]\{32\}\);.*/\1/p' <<<"$LAST_OUT")
[ -n "$ID" ] && ok "session id $ID" || bad "no session id"
rec=/run/iam/roles/s$SID
st=$(stat -c '%U %a' "$rec" 2>&1)
[ "$st" = "root 600" ] && ok "record $rec is root 0600" || bad "record: $st"
grep -q "^boot=$(cat /proc/sys/kernel/random/boot_id)$" "$rec" && grep -q '^reason=deploy release 42$' "$rec" \
	&& ok "record names this boot and the reason" || bad "record: $(cat "$rec")"
ev=$(event AssumeRole)
grep -q '"errorCode"' <<<"$ev" && bad "trail: $ev" || ok "trail: AssumeRole allowed"
grep -q "\"roleSessionId\":\"$ID\"" <<<"$ev" && grep -q '"reason":"deploy release 42"' <<<"$ev" \
	&& ok "trail: session id and reason" || bad "trail: $ev"
expect_out 1 'already used' "the same code again is a replay" assume alice "$C0" deployer
grep -q '"errorCode":"MFAReplay"' <<<"$(event AssumeRole)" && ok "trail: MFAReplay" || bad "trail: $(event AssumeRole)"
expect_out 0 "session: $ID" "the replay left the session in place" as alice iamctl whoami
expect_out 0 'role: +deployer \(arn:iam:iam::123456789012:role/deployer\)' "whoami shows the role" as alice iamctl whoami
grep -Eq 'expires: .*\((59[0-9]|600) seconds left\)' <<<"$LAST_OUT" && ok "whoami shows the time left" || bad "whoami: $LAST_OUT"

echo "== sudo decides as the role"
expect 0 "sudo /usr/bin/true runs: only the role allows it" as alice sudo -n /usr/bin/true
ev=$(event SudoRun)
grep -q '"type":"AssumedRole"' <<<"$ev" && grep -q '"arn":"arn:iam:iam::123456789012:role/deployer"' <<<"$ev" \
	&& grep -q "\"roleSessionId\":\"$ID\"" <<<"$ev" && grep -q '"sid":"DeployerRuns"' <<<"$ev" \
	&& ok "trail: SudoRun as the assumed role, by DeployerRuns" || bad "trail: $ev"
refused alice "$MSG_EXPLICIT" "alice's own explicit Deny still wins in the role" /usr/bin/cat /dev/null
grep -q '"sid":"NeverCat"' <<<"$(event SudoRun)" && ok "trail: decided by alice's NeverCat" || bad "trail: $(event SudoRun)"
refused alice "$MSG_NO_ALLOW" "the role's policy does not reach outside /usr/bin" /usr/sbin/visudo --version

echo "== other login sessions are not elevated"
out=$(other_session 'as alice sudo -n /usr/bin/true' 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$out" = "$MSG_NO_ALLOW" ] && ok "a second login session of alice is refused" \
	|| bad "second session (rc=$rc): $out"
out=$(other_session 'as alice iamctl whoami' 2>&1)
grep -Eq '^role: +none' <<<"$out" && ok "whoami in the second session: no role" || bad "whoami: $out"

echo "== forged records are ignored"
# In a fresh session: plant a copy of the real record under that session's
# key with the given owner and mode, then ask sudo there.
forged() {	# forged OWNER MODE
	other_session "sed \"s/^key=.*/key=s\$sid/\" $rec > /run/iam/roles/s\$sid
		chown $1 /run/iam/roles/s\$sid; chmod $2 /run/iam/roles/s\$sid
		as alice sudo -n /usr/bin/true; rc=\$?; rm -f /run/iam/roles/s\$sid; exit \$rc" 2>&1
}
out=$(forged 70001 0600); rc=$?
[ "$rc" = 1 ] && [ "$out" = "$MSG_NO_ALLOW" ] && ok "a record owned by alice is ignored" || bad "alice-owned (rc=$rc): $out"
out=$(forged 0 0644); rc=$?
[ "$rc" = 1 ] && [ "$out" = "$MSG_NO_ALLOW" ] && ok "a record readable by others is ignored" || bad "0644 (rc=$rc): $out"
out=$(forged 0 0620); rc=$?
[ "$rc" = 1 ] && [ "$out" = "$MSG_NO_ALLOW" ] && ok "a record writable by group is ignored" || bad "0620 (rc=$rc): $out"
out=$(forged 0 0600); rc=$?
[ "$rc" = 0 ] && ok "control: the same record root 0600 would be believed" || bad "control (rc=$rc): $out"
out=$(other_session "printf 'IAMROLE1\nid=zz\n' > /run/iam/roles/s\$sid; chmod 0600 /run/iam/roles/s\$sid
	as alice sudo -n /usr/bin/true; rc=\$?; rm -f /run/iam/roles/s\$sid; exit \$rc" 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$out" = "$MSG_NO_ALLOW" ] && ok "a corrupt record is ignored, sudo did not crash" || bad "corrupt (rc=$rc): $out"
out=$(other_session "ln -s $rec /run/iam/roles/s\$sid
	as alice sudo -n /usr/bin/true; rc=\$?; rm -f /run/iam/roles/s\$sid; exit \$rc" 2>&1); rc=$?
[ "$rc" = 1 ] && ok "a symbolic link to a real record is ignored" || bad "symlink (rc=$rc): $out"

echo "== settings and environment of the caller are ignored"
printf 'run_dir = "/tmp";\n' > "$T/evil.conf"
chmod 0644 "$T/evil.conf"
expect_out 0 "session: $ID" "--config of a non-root caller is ignored" as alice iamctl --config "$T/evil.conf" whoami
expect_out 0 "session: $ID" "the helper run directly ignores --config too" as alice "$HELPER" --config "$T/evil.conf" whoami

echo "== revocation by an administrator"
expect_out 0 "$ID +alice +deployer +s$SID .*active" "iamctl sessions lists the session" iamctl sessions
expect_out 1 'must be run as root' "sessions is for root only" as alice iamctl sessions
expect_out 1 'no role session' "revoking an unknown id is refused" iamctl sessions --revoke 0123456789abcdef0123456789abcdef
expect_out 0 "revoked" "root revokes the session" iamctl sessions --revoke "$ID"
refused alice "$MSG_NO_ALLOW" "the next sudo after revocation is refused" /usr/bin/true
ev=$(event RoleSessionEnd)
grep -q '"why":"revoked"' <<<"$ev" && grep -q '"userName":"alice"' <<<"$ev" && grep -q "\"roleSessionId\":\"$ID\"" <<<"$ev" \
	&& ok "trail: RoleSessionEnd (revoked)" || bad "trail: $ev"

echo "== expiry"
expect_out 0 'for 2 seconds' "assume-role --duration 2" assume alice "$(code $SA 1)" deployer --duration 2
expect 0 "sudo /usr/bin/true runs at once" as alice sudo -n /usr/bin/true
sleep 3
refused alice "$MSG_NO_ALLOW" "after 3 seconds the role is gone" /usr/bin/true
grep -q '"why":"expired"' <<<"$(event RoleSessionEnd)" \
	&& ok "trail: RoleSessionEnd (expired)" || bad "trail: $(event RoleSessionEnd)"
refused alice "$MSG_NO_ALLOW" "still refused" /usr/bin/true
[ "$(grep -c '"why":"expired"' "$TRAIL")" = 1 ] \
	&& ok "the expired session ends once" || bad "expired more than once"
expect_out 0 '^role: +none' "whoami: no role after expiry" as alice iamctl whoami

echo "== drop-role"
expect_out 0 'Assumed role deployer' "assume again (the next code)" assume alice "$(code $SA 2)" deployer
ID2=$(sed -n 's/^Session \([0-9a-f]\{32\}\);.*/\1/p' <<<"$LAST_OUT")
expect 0 "the role's sudo runs" as alice sudo -n /usr/bin/true
expect_out 0 "ended" "drop-role ends it" as alice iamctl drop-role
refused alice "$MSG_NO_ALLOW" "after drop-role sudo is refused" /usr/bin/true
grep -q '"why":"dropped"' <<<"$(event RoleSessionEnd)" && grep -q "$ID2" <<<"$(event RoleSessionEnd)" \
	&& ok "trail: RoleSessionEnd (dropped)" || bad "trail: $(event RoleSessionEnd)"
expect_out 1 'no active role session' "drop-role with no session" as alice iamctl drop-role

echo "== a disabled user's session counts for nothing"
expect_out 0 'Assumed role deployer' "assume again" assume alice "$(code $SA 3)" deployer
iamctl user disable alice >/dev/null 2>&1
refused alice "$MSG_DISABLED" "disabled: refused despite the role session" /usr/bin/true
expect_out 0 '^role: +none' "whoami of a disabled user: no role" as alice iamctl whoami
iamctl user enable alice >/dev/null 2>&1
refused alice "$MSG_NO_ALLOW" "re-enabled: the role session ended with the disable" /usr/bin/true
grep -q '"why":"user disabled"' <<<"$(event RoleSessionEnd)" \
	&& ok "trail: RoleSessionEnd (user disabled)" || bad "trail: $(event RoleSessionEnd)"

echo "== the trail"
out=$(iamctl trail --user alice --event AssumeRole 2>&1)
[ "$(grep -c AssumeRole <<<"$out")" -ge 5 ] && ok "iamctl trail --user alice shows her AssumeRole events" || bad "trail: $out"
out=$(iamctl trail --user alice --event RoleSessionEnd 2>&1)
[ "$(grep -c RoleSessionEnd <<<"$out")" -ge 2 ] && ok "iamctl trail --user alice shows RoleSessionEnd" || bad "trail: $out"
show "$(iamctl trail --user alice 2>&1 | tail -6)"

echo "== a deleted user's session counts for nothing"
expect_out 0 'Assumed role deployer' "assume again" assume alice "$(code $SA 4)" deployer
expect 0 "the role's sudo runs" as alice sudo -n /usr/bin/true
iamctl user del alice >/dev/null 2>&1 && ok "alice deleted" || bad "iamctl user del alice"
out=$(setpriv --reuid=70001 --regid=70100 --clear-groups env PATH=/usr/bin:/bin sudo -n /usr/bin/true 2>&1); rc=$?
[ "$rc" = 1 ] && ok "deleted: sudo refused despite the record" || bad "deleted (rc=$rc): $out"
show "$out"

echo "== what the setuid helper creates is root:root, whatever the caller's group"
rm -rf /run/iam /var/log/iam
rm -f /var/lib/iam/state/70006
[ "$(id -gn frank)" = engineers ] && ok "frank's primary group is engineers" || bad "frank: $(id frank)"
expect_out 1 'wrong verification code' "frank: a wrong code (creates the trail and his state)" \
	assume frank 000000 deployer
expect_out 0 'Assumed role deployer' "frank assumes deployer (creates /run/iam)" \
	assume frank "$(code $SF 0)" deployer
made=$(find /run/iam /var/log/iam /var/lib/iam/state/70006 -printf '%u:%g %m %p\n' 2>&1)
show "$made"
[ "$(grep -c . <<<"$made")" -ge 6 ] && ok "the helper created folders and files" || bad "created: $made"
grep -v '^root:root ' <<<"$made" | has . && bad "not root:root: $(grep -v '^root:root ' <<<"$made")" \
	|| ok "everything it created is root:root"
grep -Eq '^root:root 700 /run/iam$' <<<"$made" && grep -Eq '^root:root 700 /var/log/iam$' <<<"$made" \
	&& grep -Eq '^root:root 600 /var/log/iam/trail.jsonl$' <<<"$made" \
	&& grep -Eq '^root:root 600 /var/lib/iam/state/70006$' <<<"$made" \
	&& ok "folders 0700, trail and state 0600" || bad "modes: $made"

echo "== lockout is on by default: 30 wrong codes, then the right one"
state() { cat "/var/lib/iam/state/$1" 2>/dev/null; }	# IAMSTATE1 failures lock_start ...
wrong=0 locked=0
for i in $(seq 30); do
	out=$(assume erin 000000 deployer 2>&1)
	case $out in
	*'wrong verification code'*) wrong=$((wrong + 1)) ;;
	*'too many failed attempts'*) locked=$((locked + 1)) ;;
	esac
	[ "$i" = 5 ] && lock_after_5=$(state 70005 | awk '{ print $3 }')
done
[ "$wrong" = 5 ] && [ "$locked" = 25 ] && ok "5 codes checked, the next 25 refused unchecked" \
	|| bad "checked $wrong, locked $locked"
expect_out 1 'too many failed attempts' "the right code after 30 wrong ones is refused: locked" \
	assume erin "$(code $SE 0)" deployer
ev=$(event AssumeRole)
grep -q '"userName":"erin"' <<<"$ev" && grep -q '"errorCode":"AccountLocked"' <<<"$ev" \
	&& ok "trail: AssumeRole AccountLocked" || bad "trail: $ev"
[ "$(grep '"eventName":"Lockout"' "$TRAIL" | grep -c '"userName":"erin"')" = 1 ] \
	&& ok "trail: one Lockout event for erin" || bad "Lockout events: $(grep Lockout "$TRAIL")"
st=$(state 70005)
[ "$(awk '{ print $2 }' <<<"$st")" = 5 ] && [ "$(awk '{ print $3 }' <<<"$st")" = "$lock_after_5" ] \
	&& [ "$lock_after_5" != 0 ] && ok "attempts while locked neither count nor extend the lock" \
	|| bad "state: $st (lock started $lock_after_5)"
[ -z "$(ls -A /run/iam/roles 2>/dev/null | grep -v "^s$SID$")" ] && ok "no role session for erin" \
	|| bad "records: $(ls -A /run/iam/roles)"
expect 0 "iamctl unlock erin" iamctl unlock erin
expect_out 0 'Assumed role deployer' "control: unlocked, the right code is accepted" \
	assume erin "$(code $SE 1)" deployer

echo "== lockout off (\"lockout\": null): a failed code delays the next try"
python3 -c '
import json, sys
d = json.load(sys.stdin)
d["password_policy"] = {"lockout": None}
json.dump(d, sys.stdout)' < "$T/identity.json" > "$T/identity-off.json"
if use_identity "$T/identity-off.json" >"$T/sync.out" 2>&1; then ok "identity with lockout off published"
else bad "iamctl sync"; show "$(cat "$T/sync.out")"; fi
expect_out 1 'wrong verification code' "a wrong code is checked" assume erin 000000 deployer
before=$(state 70005)
expect_out 1 'too soon after a failed attempt; the code was not checked' \
	"the right code at once after it is refused unchecked" assume erin "$(code $SE 2)" deployer
ev=$(event AssumeRole)
grep -q '"errorCode":"AccountLocked"' <<<"$ev" && grep -q 'too soon' <<<"$ev" \
	&& ok "trail: the refusal says why" || bad "trail: $ev"
[ "$(state 70005)" = "$before" ] && ok "the refused try was not counted" || bad "state: $before -> $(state 70005)"
for i in $(seq 10); do assume erin 000000 deployer >/dev/null 2>&1; done
[ "$(state 70005 | awk '{ print $3 }')" = 0 ] && ok "lockout off: no lock however many tries" \
	|| bad "state: $(state 70005)"
sleep 3
expect_out 0 'Assumed role deployer' "3 seconds later the right code is accepted" \
	assume erin "$(code $SE 3)" deployer
