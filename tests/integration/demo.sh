# demo.sh - a narrated tour of the whole system with the example identity
# file, sourced by harness.sh inside a private mount namespace: /etc, /var
# and /run are throw-away layers, the build is overlaid over the system's
# folders, and nothing on this machine changes.
B=$'\033[1m' N=$'\033[0m'
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
run() { printf '%s$ %s%s\n' "$B" "$*" "$N"; "$@"; }

ALICE_TOTP=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
ALICE_PW='Tea-Party-2026!'
BOB_PW='Builder-Bob-2026#'
code() { oathtool --totp -b "$1" "${2:+-N}" ${2:+"$2"}; }
# A TOTP step is never accepted twice: each further code for the same user
# comes from a later step.
next_code() { oathtool --totp -b "$1" -N "$(date -u -d "+$2 sec" '+%F %T')"; }

say "1. The identity file: users, groups, a role, policies — validated, then published"
install -m 0600 "$TOP/etc/identity.example.json" /etc/iam/identity.json
cat >> /etc/iam/iam.conf <<'CONF'
hostname = "demo";
host_tags = { Environment = "Development"; };
CONF
run iamctl validate
run iamctl sync
run ls -l /var/lib/iam

say "2. The operating system knows IAM users and groups (nss_iam)"
run getent passwd alice bob carol
run id alice
mkdir -p /srv && : > /srv/report.txt && chown alice:developers /srv/report.txt
run ls -l /srv/report.txt
note "A broken edit never reaches the host: the publisher refuses it."
cp /etc/iam/identity.json "$T/good.json"
sed -i 's/"uid": 70002/"uid": 0/' /etc/iam/identity.json
run iamctl sync
cp "$T/good.json" /etc/iam/identity.json
run getent passwd bob

say "3. Passwords are set under the account's password policy"
run sh -c "echo short | iamctl passwd alice --stdin"
run sh -c "echo '$ALICE_PW' | iamctl passwd alice --stdin"
run sh -c "echo '$BOB_PW' | iamctl passwd bob --stdin"

say "4. Login with password and TOTP code (pam_iam through pamtester)"
for s in login sshd su sudo passwd common-auth; do
	[ -f "$TOP/etc/pam.d/$s" ] && install -m 0644 "$TOP/etc/pam.d/$s" "/etc/pam.d/$s"
done
note "alice: password, then a code from her authenticator (oathtool here)"
expect_out 0 'successfully authenticated' "alice logs in with password + TOTP" \
	sh -c "printf '%s\n%s\n' '$ALICE_PW' \$(code $ALICE_TOTP) | pamtester -v -I rhost=10.0.0.5 login alice authenticate acct_mgmt"
expect_out 1 'Authentication failure' "a wrong code is refused" \
	sh -c "printf '%s\n000000\n' '$ALICE_PW' | pamtester -I rhost=10.0.0.5 login alice authenticate"

say "5. Logins refused by policy"
note "bob may log in to Development hosts only from the office networks"
expect_out 1 'Permission denied|denied' "bob from 203.0.113.9 refused by DevHostAccess (explicit deny)" \
	sh -c "printf '%s\n' '$BOB_PW' | pamtester -I rhost=203.0.113.9 login bob authenticate acct_mgmt"
run iamctl simulate bob host:Login arn:iam:host::123456789012:host/demo --context aws:SourceIp=203.0.113.9
expect_out 1 'denied|Permission' "dave is disabled" \
	pamtester login dave acct_mgmt

say "6. sudo asks the policy engine about every command (sudo_iam)"
cat > /etc/sudo.conf <<'CONF'
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so
CONF
printf 'Defaults lecture=never, timestamp_timeout=0\n%%admins ALL=(ALL:ALL) ALL\n%%developers ALL=(ALL:ALL) ALL\n' > /etc/sudoers.d/iam
chmod 0440 /etc/sudoers.d/iam
mkdir -p "$T/home/alice" && chown alice "$T/home/alice"
AS_ALICE=(setpriv --reuid=70001 --regid=70101 --init-groups env HOME="$T/home/alice" USER=alice LOGNAME=alice)
expect_out 0 '^0$' "alice (admins, MFA fresh): sudo /usr/bin/id -u runs" \
	sh -c "printf '%s\n%s\n' '$ALICE_PW' \$(next_code $ALICE_TOTP 30) | ${AS_ALICE[*]} sudo -S /usr/bin/id -u 2>/dev/null"
expect_out 1 'denied by IAM policy' "alice: a shell through sudo is refused by the boundary's explicit deny" \
	sh -c "printf '%s\n%s\n' '$ALICE_PW' \$(next_code $ALICE_TOTP 60) | ${AS_ALICE[*]} sudo -S /usr/bin/bash -c id"

say "7. Password changes follow the password policy"
expect_out 1 'Password rejected' "bob's new password too short: refused with the rule" \
	sh -c "printf '%s\nshort\nshort\n' '$BOB_PW' | pamtester passwd bob chauthtok"
expect_out 0 'successfully' "bob's new password meets the policy: accepted" \
	sh -c "printf '%s\nNew-Builder-2027%%\nNew-Builder-2027%%\n' '$BOB_PW' | pamtester -v passwd bob chauthtok"

say "8. Every decision can be explained"
run iamctl simulate alice sudo:Run arn:iam:sudo::123456789012:host/demo/command/usr/bin/bash --context aws:MultiFactorAuthPresent=true

say "9. The audit trail of everything that just happened"
run iamctl trail

say "Try next"
cat <<'NEXT'
   iamctl user add erin --group developers      # a new IAM user, next free uid
   iamctl mfa enable erin                        # enrol a phone (QR code)
   iamctl policy simulate --policy p.json --request r.json
   iamctl credential-report
   iamctl doctor                                 # check this host's wiring
   man iamctl pam_iam libnss_iam sudo_iam iam.conf iam-identity iam-policy
NEXT
