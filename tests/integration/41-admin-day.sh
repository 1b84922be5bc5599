# 41-admin-day.sh - an administrator's whole day with iamctl only, nothing
# edited by hand: a new colleague is added, put in a new group, given a
# policy, a password and an MFA device; then logs in with pamtester
# (password and TOTP code) and id lists the new group.
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
PW='Ops-Has-A-Good-Pass-7'
before=$(sha256sum /etc/iam/identity.json)

# 09:00 the new colleague and her team
expect_out 0 "user gina added" "user add gina" iamctl user add gina --gecos "Gina Grey" --tag Team=ops
expect_out 0 "group ops-team added" "group add ops-team" iamctl group add ops-team
expect_out 0 "user gina added to group ops-team" "group add-user" iamctl group add-user ops-team gina
# 10:00 what the team may do
cat > "$W/ops-login.json" <<'P'
{ "Version": "2012-10-17",
  "Statement": [ { "Sid": "OpsLogin", "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] }
P
expect_out 0 "policy OpsLogin added" "policy put" iamctl policy put OpsLogin "$W/ops-login.json"
expect_out 0 "attached to group ops-team" "policy attach" iamctl policy attach OpsLogin --group ops-team
# 11:00 her credentials
expect_out 0 "password of gina changed" "passwd --stdin" sh -c "echo '$PW' | iamctl passwd gina --stdin"
rm -f "$W/code"; mkfifo "$W/code"
iamctl mfa enable gina --no-qr <"$W/code" >"$W/mfa.out" 2>&1 &
pid=$!
exec 7>"$W/code"
for _ in $(seq 100); do grep -q '^otpauth://' "$W/mfa.out" && break; sleep 0.1; done
SECRET=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$W/mfa.out")
oathtool --totp -b "$SECRET" >&7
exec 7>&-
wait "$pid"; rc=$?
if [ "$rc" = 0 ] && grep -q "MFA device of gina enabled" "$W/mfa.out"; then
	ok "mfa enable with the code from oathtool"
else bad "mfa enable (rc=$rc)"; fi
show "$(cat "$W/mfa.out")"
[ "$(sha256sum /etc/iam/identity.json)" != "$before" ] && ok "the identity file was changed by iamctl only" ||
	bad "identity file unchanged"

# 14:00 she logs in: password, then a code of a later step than the enrolment's
next=$(oathtool --totp -b -N "$(date -d '+30 sec')" "$SECRET")
expect_out 0 "successfully" "gina logs in with password and TOTP" \
	sh -c "printf '%s\n%s\n' '$PW' '$next' | pamtester iamtest gina authenticate acct_mgmt"
expect_out 1 "Authentication failed|failure" "the same code again is refused (replay)" \
	sh -c "printf '%s\n%s\n' '$PW' '$next' | pamtester iamtest gina authenticate"
expect_out 1 "Authentication failed|failure" "a wrong password is refused" \
	sh -c "printf '%s\n%s\n' 'Wrong-Pass-1234!' '$next' | pamtester iamtest gina authenticate"
expect_out 0 '^uid=[0-9]+\(gina\) gid=[0-9]+\(gina\) groups=.*\(ops-team\)' "id lists the new group" id gina
expect_out 0 '^gina,.*,true,.*,true,' "credential-report shows her password and MFA" iamctl credential-report

# 17:00 the trail of the day
n=$(grep -c '"eventName":"IdentityCommit".*"userName":"root"' /var/log/iam/trail.jsonl)
[ "$n" -ge 5 ] && ok "each change of the day is an IdentityCommit by root ($n)" || bad "IdentityCommit events: $n"
grep -q '"eventName":"EnableMFA"' /var/log/iam/trail.jsonl && ok "EnableMFA in the trail" || bad "no EnableMFA"
grep -q '"eventName":"ChangePassword"' /var/log/iam/trail.jsonl && ok "ChangePassword in the trail" || bad "no ChangePassword"
rm -rf "$W"
