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
	timeout -k 5 300 expect -f "$W/ss.exp" 2>&1
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
grep '"eventName":"MFASelfService"' "$TRAIL" | tail -1 | has '"errorCode":"InvalidPassword"' &&
	ok "the wrong password is in the trail (InvalidPassword)" || bad "no InvalidPassword self-service event"
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"000000\\r\"" \
	enable mona --device tab --no-qr); rc=$?
[ $rc = 1 ] && grep -q "wrong verification code" <<<"$out" && ok "self-service with a wrong code is refused" || { bad "wrong code rc=$rc"; show "$out"; }
grep '"eventName":"MFASelfService"' "$TRAIL" | tail -1 | has '"errorCode":"InvalidMFA"' &&
	ok "the wrong code is in the trail (InvalidMFA)" || bad "no InvalidMFA self-service event"
C6=$(oathtool --totp -b -N "$(date -d '+30 sec')" "${SEC[d6]}")
out=$(selfserve "expect \"Current password: \"; send \"$PW\\r\"; expect \"recovery code): \"; send \"$C6\\r\"
expect -re {secret=([A-Z2-7]{32})}
set code [exec oathtool --totp -b \$expect_out(1,string)]
expect \"Verification code: \"; send \"\$code\\r\"; puts \"CONFIRM=\$code\"" enable mona --device tab --no-qr); rc=$?
[ $rc = 0 ] && grep -q "MFA device tab of mona enabled" <<<"$out" && ok "mona enrols her own device tab (password, code, confirmation)" ||
	{ bad "self-service enable rc=$rc"; show "$out"; }
S_TAB=$(grep -Eo 'secret=[A-Z2-7]{32}' <<<"$out" | head -1 | cut -d= -f2)
CONFIRM=$(grep -Eo 'CONFIRM=[0-9]{6}' <<<"$out" | head -1 | cut -d= -f2)
out=$(login mona "$PW" "$CONFIRM")
[ -n "$CONFIRM" ] && ! grep -q successfully <<<"$out" && ok "the enrolment's confirmation code is refused at login (replay)" ||
	{ bad "confirmation code replay: '$CONFIRM'"; show "$out"; }
out=$(login mona "$PW" "$C6")
grep -q successfully <<<"$out" && bad "the self-service proof's code passed at login" ||
	ok "the code that proved the self-service is refused at login (replay)"
iamctl unlock mona >/dev/null 2>&1
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

# What one failure costs: iam-chkpwd itself (a hash, no sleep: the state
# bounds guessing) and pam_iam as mona (its fail delay, as pam_unix's).
t0=$(date +%s%N)
printf 'iamtest\nmona\nWrong-Pass-1234!\n\n' | asme "$CHK" >/dev/null 2>&1
t1=$(date +%s%N)
asme sh -c "printf '%s\n%s\n' 'Wrong-Pass-1234!' 000000 | pamtester iamtest mona authenticate" >/dev/null 2>&1
t2=$(date +%s%N)
ms1=$(( (t1 - t0) / 1000000 )); ms2=$(( (t2 - t1) / 1000000 ))
# libpam spreads the 2 s it is asked for over 1-3 s (pam_delay.c).
[ "$ms2" -ge 900 ] && ok "a failure as mona through pam_iam costs ${ms2} ms (iam-chkpwd alone ${ms1} ms)" ||
	bad "a failure as mona cost only ${ms2} ms"
iamctl unlock mona >/dev/null 2>&1

# ---- Every device through both paths: a code of each passes as mona
# (iam-chkpwd), and the same step is then a replay as root (pam_iam).
SEC[phone]=$S_PHONE; SEC[tab]=$S_TAB
s0=$(( $(date +%s) / 30 )); while [ $(( $(date +%s) / 30 )) -le "$s0" ]; do sleep 1; done
T=$(date -d '+30 sec')	# a step later than any used so far
n=0
for d in phone d4 d5 d6 d7 tab; do
	C=$(oathtool --totp -b -N "$T" "${SEC[$d]}")
	out=$(asme sh -c "printf '%s\n%s\n' '$PW' '$C' | pamtester iamtest mona authenticate" 2>&1)
	grep -q successfully <<<"$out" || { bad "as mona: a code of device $d"; show "$out"; continue; }
	out=$(login mona "$PW" "$C")
	grep -q successfully <<<"$out" && bad "device $d: a step used as mona passed again as root" || n=$((n + 1))
	iamctl unlock mona >/dev/null 2>&1
done
[ $n = 6 ] && ok "each of 6 devices passes as mona, and its step is then a replay as root"
out=$(iamctl mfa recovery-codes mona 2>&1)
mapfile -t RC < <(grep -Eo '^  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' <<<"$out" | tr -d ' ')
out=$(login mona "$PW" "${RC[0]}"); grep -q successfully <<<"$out" || bad "root: recovery code"
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '${RC[0]}' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && bad "a recovery code used as root passed again as mona" ||
	ok "a recovery code used as root is refused as mona"
iamctl unlock mona >/dev/null 2>&1
# A used code is spent in the store, so a host that shares it (here: this
# host with its state gone, as a host that never saw the code used)
# refuses it.
spent() { jq '[.recovery_codes[] | select(startswith("!"))] | length' "/var/lib/iam/credentials/$(id -u mona).json"; }
[ "$(spent)" = 1 ] && ok "the used recovery code is spent in the credentials store" || bad "recovery code not spent: $(spent)"
rm -f "/var/lib/iam/state/$(id -u mona)"
out=$(login mona "$PW" "${RC[0]}")
grep -q successfully <<<"$out" && bad "a used recovery code passed on a host without its mark" ||
	ok "a used recovery code is refused where the state never saw it (another host)"
out=$(asme sh -c "printf '%s\n%s\n' '$PW' '${RC[4]}' | pamtester iamtest mona authenticate" 2>&1)
grep -q successfully <<<"$out" && [ "$(spent)" = 2 ] &&
	ok "a recovery code used through iam-chkpwd is spent in the store too" || { bad "chkpwd spend: $(spent)"; show "$out"; }
expect_out 0 '"recoveryCodesLeft":8' "mfa list: 8 left (spent codes and marks counted once)" iamctl mfa list mona --json
iamctl unlock mona >/dev/null 2>&1

# ---- A screen locker that ignores SIGCHLD (the kernel reaps its children)
# still gets iam-chkpwd's answer.
out=$(printf '%s\n%s\n' "$PW" "${RC[1]}" | asme env --ignore-signal=CHLD pamtester iamtest mona authenticate 2>&1)
grep -q successfully <<<"$out" && ok "as mona, SIGCHLD ignored: the right password and code pass" ||
	{ bad "SIGCHLD ignored"; show "$out"; }

# ---- The caller cannot stop iam-chkpwd once it holds a lock: with mona's
# state lock held (as a stopped process would), mona's kill -STOP of the
# waiting helper is refused, and the check completes once the lock frees.
sf=/var/lib/iam/state/$(id -u mona)
printf 'cron\nmona\n%s\n\n' "$PW" > "$W/req"
flock "$sf" sleep 4 & holder=$!
sleep 0.3
setpriv --reuid=mona --regid="$(id -g mona)" --init-groups "$CHK" < "$W/req" >/dev/null 2>&1 & chk=$!
sleep 1
out=$(asme kill -STOP "$chk" 2>&1); krc=$?
stat=$(awk '{print $3}' "/proc/$chk/stat" 2>/dev/null)
kill -CONT "$chk" 2>/dev/null
wait "$chk"; rc=$?
wait "$holder"
[ "$krc" != 0 ] && [ "$stat" != T ] && [ "$rc" = 0 ] &&
	ok "mona cannot stop iam-chkpwd waiting on her state lock; it answers once the lock frees" ||
	{ bad "kill -STOP by mona: kill rc=$krc state=$stat helper rc=$rc"; show "$out"; }
# A lock of the trail that is never released delays a check, never blocks it.
flock "$TRAIL" sleep 30 & holder=$!
sleep 0.3
start=$(date +%s)
timeout 20 setpriv --reuid=mona --regid="$(id -g mona)" --init-groups "$CHK" < "$W/req" >/dev/null 2>&1; rc=$?
secs=$(( $(date +%s) - start ))
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
[ "$rc" = 0 ] && [ "$secs" -lt 10 ] && ok "a trail lock held for good delays iam-chkpwd ${secs}s, no more" ||
	bad "trail lock held: rc=$rc after ${secs}s"
# The role helper, at its password prompt: mona's kill -STOP is refused.
out=$(selfserve "expect \"Current password: \"
if {[catch {exec setpriv --reuid=mona --regid=$(id -g mona) --init-groups kill -STOP [exp_pid]} msg]} {
	puts STOP-REFUSED } else { puts STOP-ALLOWED; exec kill -CONT [exp_pid] }
send \"Wrong-Pass-1234!\\r\"; expect \"recovery code): \"; send \"000000\\r\"" disable mona --device d7); rc=$?
[ $rc = 1 ] && grep -q STOP-REFUSED <<<"$out" && ok "mona cannot stop the role helper (self-service)" ||
	{ bad "role helper stoppable rc=$rc"; show "$out"; }
iamctl unlock mona >/dev/null 2>&1

# ---- Self-service: an explicit deny wins, and a disabled user gets nothing.
cat > "$W/deny.json" <<'P'
{ "Version": "2012-10-17",
  "Statement": [ { "Effect": "Deny", "Action": "iam:DeactivateMFADevice", "Resource": "*" } ] }
P
iamctl policy put NoMFARemoval "$W/deny.json" >/dev/null && iamctl policy attach NoMFARemoval --user mona >/dev/null ||
	bad "policy NoMFARemoval"
out=$(selfserve '' disable mona --device d7); rc=$?
[ $rc = 1 ] && grep -q "iam:DeactivateMFADevice on arn:iam:iam::[0-9]*:user/mona is not allowed to you (explicit deny)" <<<"$out" &&
	! grep -q "Current password" <<<"$out" && ok "an explicit Deny refuses self-service before the password" ||
	{ bad "explicit deny rc=$rc"; show "$out"; }
iamctl policy detach NoMFARemoval --user mona >/dev/null || bad "detach NoMFARemoval"
iamctl user disable mona >/dev/null 2>&1 || bad "user disable"
out=$(selfserve '' recovery-codes mona); rc=$?
[ $rc = 1 ] && grep -q "account disabled" <<<"$out" && ! grep -q "Current password" <<<"$out" &&
	grep '"eventName":"MFASelfService"' "$TRAIL" | tail -1 | has '"errorCode":"AccountDisabled"' &&
	ok "a disabled user's self-service is refused (AccountDisabled)" || { bad "disabled self-service rc=$rc"; show "$out"; }
iamctl user enable mona >/dev/null 2>&1 || bad "user enable"

# ---- iam-chkpwd's input and limits, as mona: 300 KB on standard input,
# descriptors 0-2 closed, RLIMIT_FSIZE 0, RLIMIT_NOFILE 3.
f0=$(state); tl=$(wc -l < "$TRAIL")
out=$(head -c 300000 /dev/zero | tr '\0' a | asme "$CHK" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "malformed request" <<<"$out" && [ "$(state)" = "$f0" ] && [ "$(wc -l < "$TRAIL")" = "$tl" ] &&
	ok "300 KB on iam-chkpwd's stdin: refused unread, nothing counted or written" || { bad "300 KB rc=$rc"; show "$out"; }
asme sh -c "exec $CHK <&- >&- 2>&-"; rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < "$TRAIL")" = "$tl" ] && ! tail -1 "$TRAIL" | grep -q 'iam-chkpwd:' &&
	ok "iam-chkpwd with 0-2 closed: no, and nothing of it lands in the trail" || bad "closed fds rc=$rc"
tl=$(wc -l < "$TRAIL")
out=$(asme sh -c "ulimit -S -f 0; exec $CHK" < "$W/req" 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$(wc -l < "$TRAIL")" = $((tl + 1)) ] && tail -1 "$TRAIL" | grep -q '"helper":"iam-chkpwd"' &&
	ok "RLIMIT_FSIZE 0: the check, its state and its trail line still complete" || { bad "ulimit -f 0 rc=$rc"; show "$out"; }
# A hard limit of 0 root may raise only with CAP_SYS_RESOURCE: then the
# check completes, else the helper says no before anything is counted.
f0=$(state); tl=$(wc -l < "$TRAIL")
out=$(asme sh -c "ulimit -H -f 0; exec $CHK" < "$W/req" 2>&1); rc=$?
{ [ "$rc" = 0 ] && tail -1 "$TRAIL" | grep -q '"helper":"iam-chkpwd"'; } ||
	{ [ "$rc" != 0 ] && [ "$(state)" = "$f0" ] && [ "$(wc -l < "$TRAIL")" = "$tl" ]; } &&
	ok "a hard RLIMIT_FSIZE of 0: complete or refused untouched (rc=$rc)" || { bad "ulimit -H -f 0 rc=$rc"; show "$out"; }
out=$(asme sh -c "ulimit -n 3; exec $CHK" < "$W/req" 2>&1); rc=$?
[ "$rc" != 0 ] && ok "RLIMIT_NOFILE 3: iam-chkpwd says no (rc=$rc)" || { bad "ulimit -n 3 rc=$rc"; show "$out"; }
iamctl unlock mona >/dev/null 2>&1

# ---- A planted state or credentials file is refused, never followed.
cp -p "$sf" "$W/state.bak"
printf 'victim\n' > /etc/iam-victim; chmod 0600 /etc/iam-victim
rm -f "$sf"; ln -s /etc/iam-victim "$sf"
out=$(asme "$CHK" < "$W/req" 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$(cat /etc/iam-victim)" = victim ] && [ -L "$sf" ] &&
	ok "iam-chkpwd refuses a symlinked state file and leaves its target alone" || { bad "symlinked state rc=$rc"; show "$out"; }
rm -f "$sf"; cp -p "$W/state.bak" "$sf"; chown mona "$sf"
out=$(asme "$CHK" < "$W/req" 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$(stat -c %U "$sf")" = mona ] && ok "iam-chkpwd refuses a state file owned by the user" ||
	{ bad "user-owned state rc=$rc"; show "$out"; }
chown root "$sf"
cf=/var/lib/iam/credentials/$(id -u mona).json
mv "$cf" "$W/creds.bak"; ln -s /etc/iam-victim "$cf"
out=$(iamctl mfa recovery-codes mona 2>&1); rc=$?
[ "$rc" != 0 ] && [ "$(cat /etc/iam-victim)" = victim ] && ! grep -Eq '^  [A-Z2-7]{4}-' <<<"$out" &&
	ok "a symlinked credentials file is refused (no codes shown), its target untouched" || { bad "symlinked creds rc=$rc"; show "$out"; }
rm -f "$cf"; mv "$W/creds.bak" "$cf"

# ---- Migration: a credentials file and a state file written before named
# devices existed keep working, unchanged.
expect_out 0 "user olga added" "user add olga" iamctl user add olga
sh -c "echo '$PW' | iamctl passwd olga --stdin" >/dev/null || bad "passwd olga"
iamctl policy attach MonaLogin --user olga >/dev/null || bad "attach olga"
ou=$(id -u olga); ocf=/var/lib/iam/credentials/$ou.json
S_OLD=$(head -c 20 /dev/urandom | base32 | tr -d '=')
while [ $(( $(date +%s) % 30 )) -gt 20 ]; do sleep 1; done
S=$(( $(date +%s) / 30 ))
jq --arg s "$S_OLD" '{uid, password, mfa: {secret: $s, algorithm: "SHA1", digits: 6, period: 30}}' "$ocf" > "$W/old.json" &&
	install -m 0600 -o root -g root "$W/old.json" "$ocf" || bad "old credentials file"
printf 'IAMSTATE1 0 0 %s 0 0\n' $((S - 1)) > "/var/lib/iam/state/$ou"; chmod 0600 "/var/lib/iam/state/$ou"
iamctl sync >/dev/null 2>&1 || bad "sync"
sum=$(sha256sum < "$ocf")
out=$(login olga "$PW" "$(oathtool --totp -b -N "@$(( (S - 1) * 30 ))" "$S_OLD")")
grep -q successfully <<<"$out" && bad "old state: the step it recorded passed again" || ok "an old state file's last step is still a replay"
out=$(login olga "$PW" "$(oathtool --totp -b -N "@$(( S * 30 ))" "$S_OLD")")
grep -q successfully <<<"$out" && ok "an old single-device credentials file: its code passes as root" || { bad "old creds root"; show "$out"; }
out=$(setpriv --reuid=olga --regid="$(id -g olga)" --init-groups sh -c \
	"printf '%s\n%s\n' '$PW' '$(oathtool --totp -b -N "@$(( (S + 1) * 30 ))" "$S_OLD")' | pamtester iamtest olga authenticate" 2>&1)
grep -q successfully <<<"$out" && ok "... and as olga through iam-chkpwd" || { bad "old creds non-root"; show "$out"; }
[ "$(sha256sum < "$ocf")" = "$sum" ] && ok "the old credentials file is left as it was" || bad "old creds rewritten"
expect_out 0 '"devices":\[\{"name":"default"' "mfa list shows the old device as default" iamctl mfa list olga --json
expect_out 0 '^olga,.*,1,0$' "credential-report: olga has 1 device, 0 recovery codes" iamctl credential-report
rm -rf "$W" /etc/iam-victim
