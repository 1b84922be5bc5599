# 26-mfa-devices.sh - several named TOTP devices and recovery codes, with
# the real clients: iamctl mfa enable (code from oathtool), pamtester
# as root with a code of each device (replay refused per device), a
# recovery code once (twice refused), the 8-device limit, mfa list
# --json, the credential report's columns and the trail.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null || bad "publish the identity"
for f in common-auth common-account common-password common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
cat > /etc/pam.d/iamtest <<'S'
@include common-auth
@include common-account
S
W=$(mktemp -d)
PW='Mfa-Has-A-Good-Pass-7'
TRAIL=/var/log/iam/trail.jsonl
expect_out 0 "user mona added" "user add mona" iamctl user add mona
expect_out 0 "password of mona changed" "passwd" sh -c "echo '$PW' | iamctl passwd mona --stdin"
cat > "$W/login.json" <<'P'
{ "Version": "2012-10-17",
  "Statement": [ { "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] }
P
iamctl policy put MonaLogin "$W/login.json" >/dev/null && iamctl policy attach MonaLogin --user mona >/dev/null ||
	bad "policy for mona"

# enrol USER [ARGS...]: answers with oathtool's code; the secret in $SECRET
enrol() {
	rm -f "$W/code"; mkfifo "$W/code"
	iamctl mfa enable "$@" --no-qr <"$W/code" >"$W/mfa.out" 2>&1 &
	local pid=$!
	exec 7>"$W/code"
	for _ in $(seq 100); do grep -q '^otpauth://' "$W/mfa.out" && break; sleep 0.1; done
	SECRET=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$W/mfa.out")
	oathtool --totp -b "$SECRET" >&7 2>/dev/null
	exec 7>&-
	wait "$pid"
}
login() {	# login USER PASSWORD CODE
	printf '%s\n%s\n' "$2" "$3" | pamtester iamtest "$1" authenticate 2>&1
}

enrol mona && grep -q "MFA device of mona enabled" "$W/mfa.out" && ok "device default enrolled" ||
	{ bad "enrol default"; show "$(cat "$W/mfa.out")"; }
S_DEFAULT=$SECRET
enrol mona --device phone && grep -q "MFA device phone of mona enabled" "$W/mfa.out" &&
	ok "device phone enrolled" || { bad "enrol phone"; show "$(cat "$W/mfa.out")"; }
S_PHONE=$SECRET
grep -q 'otpauth://totp/[^?]*mona%20%28phone%29' "$W/mfa.out" && ok "the URI names the device" || bad "URI label"
expect_out 1 "already has a device named phone" "a second device phone is refused" \
	sh -c 'echo 000000 | iamctl mfa enable mona --device phone --no-qr'
expect_out 2 "not a device name" "a bad device name is refused" iamctl mfa disable mona --device '../x'
expect_out 0 '"name":"default".*"name":"phone".*"serialNumber":"arn:iam:iam::[0-9]{12}:mfa/mona/phone"' \
	"mfa list --json shows both devices with their ARNs" iamctl mfa list mona --json
out=$(iamctl doctor 2>&1)
grep -q "user mona has MFA but no recovery codes" <<<"$out" && grep -q "iamctl mfa recovery-codes mona" <<<"$out" &&
	ok "doctor warns: MFA and no recovery codes (and names the fix)" || { bad "doctor warning"; show "$out"; }

# Both devices' codes of the next step pass, each once.
T=$(date -d '+30 sec')
C1=$(oathtool --totp -b -N "$T" "$S_DEFAULT"); C2=$(oathtool --totp -b -N "$T" "$S_PHONE")
out=$(login mona "$PW" "$C1"); grep -q successfully <<<"$out" && ok "a code of device default passes" || { bad "default code"; show "$out"; }
out=$(login mona "$PW" "$C2"); grep -q successfully <<<"$out" && ok "a code of device phone of the same step passes" || { bad "phone code"; show "$out"; }
sleep 3
out=$(login mona "$PW" "$C1"); grep -q successfully <<<"$out" && bad "default replay accepted" || ok "device default's code again is refused (replay)"
sleep 3
out=$(login mona "$PW" "$C2"); grep -q successfully <<<"$out" && bad "phone replay accepted" || ok "device phone's code again is refused (replay)"
grep -q '"errorCode":"MFAReplay"' "$TRAIL" && ok "the replays are MFAReplay in the trail" || bad "no MFAReplay"

# Recovery codes: ten, shown once, each passes once.
out=$(iamctl mfa recovery-codes mona 2>&1)
mapfile -t RC < <(grep -Eo '^  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' <<<"$out" | tr -d ' ')
[ "${#RC[@]}" = 10 ] && ok "mfa recovery-codes prints 10 codes" || { bad "recovery codes: ${#RC[@]}"; show "$out"; }
f=/var/lib/iam/credentials/$(id -u mona).json
! grep -q "${RC[0]}" "$f" && grep -q '"\$6\$rounds=1000\$' "$f" && ok "only hashes are stored" || bad "codes stored in clear"
sleep 3
out=$(login mona "$PW" "$(tr 'A-Z' 'a-z' <<<"${RC[3]}")")
grep -q successfully <<<"$out" && ok "a recovery code passes at the code prompt (any case)" || { bad "recovery code"; show "$out"; }
grep -q '"eventName":"MFARecoveryCodeUsed".*"recoveryCodesLeft":"9"' "$TRAIL" && ok "MFARecoveryCodeUsed in the trail, 9 left" ||
	bad "no MFARecoveryCodeUsed"
sleep 3
out=$(login mona "$PW" "${RC[3]}")
grep -q successfully <<<"$out" && bad "a used recovery code passed again" || ok "the same recovery code again is refused"
expect_out 0 '"recoveryCodesLeft":9' "mfa list counts the codes left" iamctl mfa list mona --json
out=$(iamctl doctor 2>&1)
! grep -q "user mona has MFA but no recovery codes" <<<"$out" && ok "doctor is content once mona has codes" || bad "doctor still warns"
expect_out 0 '^mona,.*,2,9$' "credential-report: mfa_devices 2, recovery_codes_left 9" iamctl credential-report
old=${RC[5]}
out=$(iamctl mfa recovery-codes mona 2>&1) || bad "regenerate"
mapfile -t RC < <(grep -Eo '^  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' <<<"$out" | tr -d ' ')
sleep 3
out=$(login mona "$PW" "$old")
grep -q successfully <<<"$out" && bad "an old set's code passed" || ok "regenerating voids the old codes"
expect_out 0 '"recoveryCodesLeft":10' "a new set has 10 left" iamctl mfa list mona --json

# Limit: 8 devices in all.
declare -A SEC
for d in d3 d4 d5 d6 d7 d8; do enrol mona --device "$d" >/dev/null 2>&1 || bad "enrol $d"; SEC[$d]=$SECRET; done
expect_out 1 "already has 8 devices" "a ninth device is refused" \
	sh -c 'echo 000000 | iamctl mfa enable mona --device d9 --no-qr'
expect_out 0 "MFA device d8 of mona removed" "mfa disable --device d8" iamctl mfa disable mona --device d8
expect_out 0 "MFA device of mona removed" "mfa disable (default)" iamctl mfa disable mona
# phone's last step is that of $T: wait until the next step's code is later
used=$(( $(date -d "$T" +%s) / 30 ))
while [ $(( $(date +%s) / 30 )) -lt "$used" ]; do sleep 1; done
C2=$(oathtool --totp -b -N "$(date -d '+30 sec')" "$S_PHONE")
out=$(login mona "$PW" "$C2"); grep -q successfully <<<"$out" && ok "phone still works after default is gone" || { bad "phone after disable"; show "$out"; }
C1=$(oathtool --totp -b -N "$(date -d '+30 sec')" "$S_DEFAULT")
sleep 3
out=$(login mona "$PW" "$C1"); grep -q successfully <<<"$out" && bad "a removed device's code passed" || ok "a removed device's code is refused"
grep -q '"eventName":"DisableMFA".*"serialNumber":"arn:iam:iam::[0-9]*:mfa/mona/d8"' "$TRAIL" && ok "DisableMFA names the device ARN" ||
	bad "DisableMFA event"

# ---- The non-root path: pamtester run as mona herself (a screen locker)
# goes through the setuid iam-chkpwd.
CHK=/usr/libexec/iam/iam-chkpwd
[ "$(stat -c '%a %U' "$CHK")" = "4755 root" ] && ok "iam-chkpwd is installed 4755 root" || bad "iam-chkpwd mode"
asme() { setpriv --reuid=mona --regid="$(id -g mona)" --init-groups env PATH=/usr/bin:/bin "$@"; }
state() { cut -d' ' -f2 "/var/lib/iam/state/$(id -u mona)"; }
T=$(date -d '+30 sec')
C3=$(oathtool --totp -b -N "$T" "${SEC[d3]}"); C4=$(oathtool --totp -b -N "$T" "${SEC[d4]}")
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '$C3' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && ok "as mona: a code of device d3 passes (through iam-chkpwd)" || { bad "non-root d3"; show "$out"; }
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '$C4' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && ok "as mona: a code of device d4 of the same step passes" || { bad "non-root d4"; show "$out"; }
grep -q '"eventName":"Login".*"helper":"iam-chkpwd"' "$TRAIL" &&
	ok "Login (helper iam-chkpwd) in the trail" || bad "no Login event of iam-chkpwd"
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '$C3' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && bad "non-root replay of d3 accepted" || ok "as mona: d3's code again is refused (replay)"
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '$C4' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && bad "non-root replay of d4 accepted" || ok "as mona: d4's code again is refused (replay)"
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '${RC[0]}' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && ok "as mona: a recovery code passes" || { bad "non-root recovery"; show "$out"; }
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '${RC[0]}' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && bad "non-root recovery code twice" || ok "as mona: the same recovery code again is refused"
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' 'Wrong-Pass-1234!' '${RC[1]}' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && bad "non-root wrong password" || ok "as mona: a wrong password is refused"
sleep 3
iamctl unlock mona >/dev/null 2>&1
f0=$(state)
out=$(asme sh -c "printf 'iamtest\nalice\n%s\n\n' '$PW' | $CHK" 2>&1); rc=$?
f1=$(state)
[ "$rc" = 1 ] && [ "$f1" = $((f0 + 1)) ] && ok "iam-chkpwd refuses another name, counted ($f0 -> $f1)" ||
	{ bad "other name: rc=$rc failures $f0 -> $f1"; show "$out"; }
grep -q '"errorCode":"NotCaller".*\|"userNameAsked":"alice"' "$TRAIL" && ok "the refusal is in the trail (NotCaller)" || bad "no NotCaller"
sleep 3
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '000000' | pamtester iamtest alice authenticate" 2>&1)
f2=$(state)
grep -q successfully <<<"$out" && bad "mona authenticated as alice" ||
	{ [ "$f2" = $((f1 + 1)) ] && ok "pamtester as mona for alice: refused and counted on mona" || bad "alice via mona: $f1 -> $f2"; }
out=$(asme sh -c "printf 'iamtest\nmona\nWrong-Pass-1234!\n\n' | $CHK --config /nonexistent/iam.conf" 2>&1); rc=$?
[ "$rc" = 1 ] && ! grep -q nonexistent <<<"$out" && [ "$(state)" = $((f2 + 1)) ] &&
	ok "a user's --config is not honoured (the installed settings check)" || { bad "--config as user rc=$rc"; show "$out"; }

# ---- Self-service through the role helper, driven at a terminal (expect).
iamctl unlock mona >/dev/null 2>&1
# selfserve EXPECT-BODY ARGS...: iamctl mfa ARGS run by mona at a terminal
selfserve() {
	local body=$1; shift
	cat > "$W/ss.exp" <<X
set timeout 60
log_user 1
exp_internal 0
spawn setpriv --reuid=mona --regid=$(id -g mona) --init-groups env PATH=/usr/bin:/bin iamctl mfa $*
$body
expect { eof {} timeout { puts "TIMEOUT"; exit 99 } }
catch wait result
exit [lindex \$result 3]
X
	timeout -k 5 150 expect -f "$W/ss.exp" 2>&1
}
out=$(selfserve '' enable mona --device tab --no-qr); rc=$?
[ $rc = 1 ] && grep -q "iam:CreateVirtualMFADevice on arn:iam:iam::[0-9]*:user/mona is not allowed to you (no allow)" <<<"$out" &&
	ok "self-service without a policy allowing it is refused (AccessDenied)" || { bad "no policy rc=$rc"; show "$out"; }
grep -q '"eventName":"MFASelfService".*"errorCode":"AccessDenied"' "$TRAIL" && ok "the denial is in the trail" || bad "no AccessDenied"
cat > "$W/mfa-self.json" <<'P'
{ "Version": "2012-10-17",
  "Statement": [ { "Effect": "Allow",
    "Action": ["iam:EnableMFADevice", "iam:CreateVirtualMFADevice", "iam:DeactivateMFADevice"],
    "Resource": "arn:iam:iam::*:user/${aws:username}" } ] }
P
iamctl policy put ManageOwnMFA "$W/mfa-self.json" >/dev/null && iamctl policy attach ManageOwnMFA --user mona >/dev/null ||
	bad "policy ManageOwnMFA"
f0=$(state)
out=$(selfserve '' enable alice --no-qr); rc=$?
[ $rc = 1 ] && grep -q "only your own MFA devices (mona), not alice's" <<<"$out" && [ "$(state)" = $((f0 + 1)) ] &&
	ok "self-service for another user's name is refused and counted" || { bad "other name rc=$rc"; show "$out"; }
grep -q '"eventName":"MFASelfService".*"errorCode":"NotCaller"' "$TRAIL" && ok "NotCaller in the trail" || bad "no NotCaller (self-service)"
out=$(selfserve 'expect "Current password: "; send "Wrong-Pass-1234!\r"; expect "recovery code): "; send "123456\r"' \
	enable mona --device tab --no-qr); rc=$?
[ $rc = 1 ] && grep -q "wrong password" <<<"$out" && ok "self-service with a wrong password is refused" || { bad "wrong pw rc=$rc"; show "$out"; }
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"000000\\r\"" \
	enable mona --device tab --no-qr); rc=$?
[ $rc = 1 ] && grep -q "wrong verification code" <<<"$out" && ok "self-service with a wrong code is refused" || { bad "wrong code rc=$rc"; show "$out"; }
C6=$(oathtool --totp -b -N "$(date -d '+30 sec')" "${SEC[d6]}")
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"$C6\\r\"
expect -re {secret=([A-Z2-7]{32})}
set code [exec oathtool --totp -b \$expect_out(1,string)]
expect \"Verification code: \"; send \"\$code\\r\"" enable mona --device tab --no-qr); rc=$?
[ $rc = 0 ] && grep -q "MFA device tab of mona enabled" <<<"$out" && ok "mona enrols her own device tab (password, code, confirmation)" ||
	{ bad "self-service enable rc=$rc"; show "$out"; }
grep '"eventName":"MFASelfService"' "$TRAIL" | grep -v '"errorCode"' | has '"verb":"enable"' &&
	grep -q '"eventName":"EnableMFA".*mfa/mona/tab' "$TRAIL" && ok "MFASelfService and EnableMFA in the trail" || bad "self-service trail"
expect_out 0 '"name":"tab"' "the new device is listed" iamctl mfa list mona --json
C7=$(oathtool --totp -b -N "$(date -d '+30 sec')" "${SEC[d7]}")
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"$C7\\r\"" \
	disable mona --device d3); rc=$?
[ $rc = 0 ] && grep -q "MFA device d3 of mona removed" <<<"$out" && ok "mona removes her device d3" || { bad "self disable rc=$rc"; show "$out"; }
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"${RC[2]}\\r\"" \
	recovery-codes mona); rc=$?
[ $rc = 0 ] && [ "$(grep -Ec '^  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}' <<<"${out//$'\r'/}")" = 10 ] &&
	ok "mona regenerates her recovery codes (with a recovery code as her second factor)" || { bad "self recovery rc=$rc"; show "$out"; }
expect_out 2 "not a device name" "a bad device name is refused before the helper" \
	setpriv --reuid=mona --regid="$(id -g mona)" --init-groups iamctl mfa disable mona --device '../../x'

# The example screen-locker service (one prompt: password and code).
install -m 0644 "$TOP/etc/pam.d/iam-screensaver" /etc/pam.d/iam-screensaver
C5=$(oathtool --totp -b -N "$(date -d '+30 sec')" "${SEC[d5]}")
out=$(asme sh -c "printf '%s\n' '$PW$C5' | pamtester iam-screensaver mona authenticate" 2>&1)
grep -q successfully <<<"$out" && ok "as mona: etc/pam.d/iam-screensaver unlocks with password+code in one answer" ||
	{ bad "screensaver example"; show "$out"; }
iamctl user disable mona >/dev/null 2>&1 || bad "user disable"
sleep 3
out=$(asme sh -c "printf 'iamtest\nmona\n%s\n%s\n' '$PW' '${RC[3]}' | $CHK" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q '"eventName":"Login".*"helper":"iam-chkpwd".*"errorCode":"AccountDisabled"' "$TRAIL" &&
	ok "iam-chkpwd says no for a disabled user" || { bad "disabled rc=$rc"; show "$out"; }
iamctl user enable mona >/dev/null 2>&1 || bad "user enable"

# ---- One lockout counter across pam_iam (root), iam-chkpwd (as mona)
# and the role helper (self-service): 5 failures in all lock mona.
iamctl unlock mona >/dev/null 2>&1
for i in 1 2; do login mona 'Wrong-Pass-1234!' 000000 >/dev/null; sleep 3; done
asme sh -c "printf 'iamtest\nmona\nWrong-Pass-1234!\n\n' | $CHK" >/dev/null 2>&1; sleep 3
[ "$(state)" = 3 ] && ok "pam_iam and iam-chkpwd count on one counter (3)" || bad "counter after 3: $(state)"
printf 'Wrong-Pass-1234!\n000000\n' | asme iamctl mfa recovery-codes mona >/dev/null 2>&1; sleep 3
[ "$(state)" = 4 ] && ok "the role helper counts on the same counter (4)" || bad "counter after 4: $(state)"
asme sh -c "printf 'iamtest\nmona\nWrong-Pass-1234!\n\n' | $CHK" >/dev/null 2>&1
C5=$(oathtool --totp -b -N "$(date -d '+30 sec')" "${SEC[d4]}")
out=$(login mona "$PW" "$C5")
grep -q successfully <<<"$out" && bad "a locked user logged in" || ok "after 5 failures the right password and code are refused (locked)"
out=$(asme sh -c "printf 'iamtest\nmona\n%s\n%s\n' '$PW' '$C5' | $CHK" 2>&1); rc=$?
[ "$rc" = 1 ] && ok "iam-chkpwd refuses while locked" || bad "chkpwd while locked rc=$rc"
out=$(printf '%s\n%s\n' "$PW" "$C5" | asme iamctl mfa recovery-codes mona 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "too many failed attempts" <<<"$out" && ok "the role helper refuses while locked" || { bad "helper while locked rc=$rc"; show "$out"; }
iamctl unlock mona >/dev/null 2>&1
rm -rf "$W"
