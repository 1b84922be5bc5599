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
BOB_PW='Hammer-Time-2026#'
# A TOTP step is never accepted twice: each further code for the same user
# comes from a later time step (oathtool -N).
code() { oathtool --totp -b "$1" -N "$(date -u -d "+${2:-0} sec" '+%F %T')"; }

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
note "The project's PAM service files: pam_iam before pam_unix (etc/pam.d)"
install -m 0644 "$TOP"/etc/pam.d/* /etc/pam.d/
run grep pam_iam /etc/pam.d/common-auth /etc/pam.d/common-account
note "alice: password, then a code from her authenticator (oathtool here)"
c=$(code $ALICE_TOTP)
expect_out 0 'successfully authenticated' "alice logs in with password + TOTP" \
	sh -c "printf '%s\n%s\n' '$ALICE_PW' $c | pamtester -v -I rhost=10.0.0.5 login alice authenticate acct_mgmt"
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
# sudoers is the coarse layer; sudo_iam decides every command.  A global
# timestamp lets the second command skip the prompt: the MFA age then
# comes from the login session's record, which pam_iam keeps.
printf 'Defaults lecture=never, timestamp_type=global, timestamp_timeout=5\n%%admins ALL=(ALL:ALL) ALL\n%%developers ALL=(ALL:ALL) ALL\n' > /etc/sudoers.d/iam
chmod 0440 /etc/sudoers.d/iam
mkdir -p "$T/home/alice" && chown alice "$T/home/alice"
AS_ALICE=(setpriv --reuid=70001 --regid=70101 --init-groups env HOME="$T/home/alice" USER=alice LOGNAME=alice)
c=$(code $ALICE_TOTP 30)
expect_out 0 '^0$' "alice (admins, MFA fresh): sudo /usr/bin/id -u runs" \
	sh -c "printf '%s\n%s\n' '$ALICE_PW' $c | ${AS_ALICE[*]} sudo -S /usr/bin/id -u 2>/dev/null"
expect_out 1 'denied by IAM policy' "alice: a shell through sudo is refused by the boundary's explicit deny (no prompt: sudo's timestamp)" \
	sh -c "${AS_ALICE[*]} sudo -S /usr/bin/bash -c id </dev/null"

say "7. Password changes follow the password policy (the real passwd, run by alice)"
note "alice may change her own password (inline policy SelfService); bob has no such policy"
passwd_as() {	# passwd_as UID GID CURRENT NEW
	printf '%s\n%s\n%s\n' "$3" "$4" "$4" |
		setpriv --reuid="$1" --regid="$2" --clear-groups /usr/bin/passwd
}
expect_out 10 'Password rejected: it must contain' "alice's new password without a digit: refused with the rule" \
	passwd_as 70001 70101 "$ALICE_PW" 'Only-Letters-Here!'
expect_out 10 'not allowed by IAM policy' "bob may not change his password (no iam:ChangePassword)" \
	passwd_as 70002 70101 "$BOB_PW" 'New-Builder-2027%'
expect_out 0 '' "alice's new password meets the policy: accepted" \
	passwd_as 70001 70101 "$ALICE_PW" 'Mad-Hatter-2027%'
run sh -c "iamctl user show alice | grep -i password"

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
   iamctl assume-role deployer --duration 900   # as alice: MFA-gated elevation for sudo
   iamctl ssh-key add alice ~/.ssh/id_ed25519.pub
   iamctl doctor                                 # check this host's wiring
   man iamctl pam_iam libnss_iam sudo_iam iam.conf iam-identity iam-policy
NEXT
