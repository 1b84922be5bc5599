# 42-doctor.sh - iamctl doctor on a well-wired namespace finds no error;
# each broken piece of wiring gives its own finding, with a fix, and exit 1.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null
STACK='[success=done user_unknown=ignore authinfo_unavail=ignore default=die]'
# The project's own stacks, as installed: they are the recommended ones.
for f in common-auth common-account common-password common-session-iam sshd login su sudo passwd; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
printf 'Plugin sudo_iam sudo_iam.so\n' > /etc/sudo.conf
chown root:root /etc/sudo.conf; chmod 0644 /etc/sudo.conf
rm -rf /run/nscd
# sshd as shipped: a private sshd_config with its own host key, the
# project's drop-in (PAM, keyboard-interactive, the keys command).
SSHD=/usr/sbin/sshd
if [ -x "$SSHD" ]; then
	mkdir -p -m 0755 /run/sshd /etc/ssh/sshd_config.d
	rm -f /etc/ssh/sshd_config.d/*.conf
	ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/iam-test-hostkey
	install -m 0644 "$TOP/etc/ssh/sshd_config.d/iam.conf" /etc/ssh/sshd_config.d/iam.conf
	sshd_config() {	# sshd_config [LINES]: the private config, LINES after the drop-in
		{ echo 'Include /etc/ssh/sshd_config.d/*.conf'
		  echo 'HostKey /etc/ssh/iam-test-hostkey'
		  printf '%b' "${1:-}"; } > /etc/ssh/sshd_config
	}
	sshd_config
fi
# Something to trip later, then published so nothing is stale.
touch -d '-1 min' /etc/iam/identity.json
iamctl sync >/dev/null

# doctor [WANT_RC] REGEX DESCRIPTION
doctor() {
	expect_out "$1" "$2" "$3" iamctl doctor
}
doctor 0 '^0 errors' "a well-wired host has no error"
if grep -q 'outside the recommended stack' <<<"$LAST_OUT"; then
	bad "the project's own PAM stacks are reported as not recommended"
else
	ok "the shipped stacks, account line included, are the recommended ones"
fi
grep -q 'warning: user bob has no MFA device' <<<"$LAST_OUT" &&
	ok "users without MFA are warned about, with the fix" || bad "no MFA warning for bob"
grep -q 'fix: iamctl mfa enable bob' <<<"$LAST_OUT" && ok "the fix names the command" || bad "fix for bob"
if grep -v 'recovery codes\|recovery-codes' <<<"$LAST_OUT" | has 'alice\|carol'; then bad "users with MFA were reported"
else ok "users with MFA are not reported (but for their recovery codes)"; fi
grep -q 'warning: user alice has MFA but no recovery codes' <<<"$LAST_OUT" &&
	grep -q 'fix: iamctl mfa recovery-codes alice' <<<"$LAST_OUT" &&
	ok "a user with MFA and no recovery codes is warned about, with the fix" || bad "no recovery-codes warning for alice"

# ---- nsswitch.conf ----
cp /etc/nsswitch.conf /tmp/nss.good
sed -i -E 's/^passwd:.*/passwd: files/' /etc/nsswitch.conf
doctor 1 'error: /etc/nsswitch.conf: passwd does not use iam' "nsswitch without iam for passwd"
sed -i -E 's/^passwd:.*/passwd: iam files/' /etc/nsswitch.conf
doctor 1 'passwd has iam before files' "nsswitch with iam before files"
cp /tmp/nss.good /etc/nsswitch.conf
sed -i -E '/^group:/d' /etc/nsswitch.conf
doctor 1 "no 'group: files iam' line" "nsswitch without a group line"
cp /tmp/nss.good /etc/nsswitch.conf

# ---- PAM ----
for s in sshd login su sudo; do
	cp "/etc/pam.d/$s" /tmp/pam.good
	printf 'auth required pam_unix.so\naccount required pam_unix.so\n' > "/etc/pam.d/$s"
	doctor 1 "error: /etc/pam.d/$s: auth does not use pam_iam" "PAM service $s without pam_iam"
	grep -q "error: /etc/pam.d/$s: account does not use pam_iam" <<<"$LAST_OUT" &&
		ok "$s: the account phase is checked too" || bad "$s: account phase not reported"
	cp /tmp/pam.good "/etc/pam.d/$s"
done
cp /etc/pam.d/common-auth /tmp/pam.good
sed -i '/pam_iam/d' /etc/pam.d/common-auth
doctor 1 "error: /etc/pam.d/sshd: auth does not use pam_iam" "an @include'd stack without pam_iam is found"
cp /tmp/pam.good /etc/pam.d/common-auth
cp /etc/pam.d/passwd /tmp/pam.good
: > /etc/pam.d/passwd
doctor 1 'error: /etc/pam.d/passwd: password does not use pam_iam' "PAM passwd without pam_iam"
cp /tmp/pam.good /etc/pam.d/passwd
cp /etc/pam.d/login /tmp/pam.good
printf 'auth required pam_unix.so\nauth sufficient pam_iam.so\naccount %s pam_iam.so\n' "$STACK" > /etc/pam.d/login
doctor 1 'error: /etc/pam.d/login: auth: pam_iam comes after pam_unix; local users may be refused or shown IAM prompts' \
	"pam_iam after pam_unix is an error (local users)"
grep -q 'warning: /etc/pam.d/login: auth uses pam_iam outside the recommended stack' <<<"$LAST_OUT" &&
	ok "and still a warning about the stack" || bad "no stack warning"
printf 'auth required pam_iam.so\nauth required pam_unix.so\naccount %s pam_iam.so\n' "$STACK" > /etc/pam.d/login
doctor 1 'error: /etc/pam.d/login: auth: local names \(PAM_USER_UNKNOWN\) are not let through' \
	"pam_iam required (no user_unknown=ignore) is an error"
grep -q "fix: use 'auth \[success=done user_unknown=ignore" <<<"$LAST_OUT" &&
	ok "the fix is the recommended line" || bad "no fix line"
printf 'auth %s pam_iam.so\naccount %s pam_iam.so\nsession [success=ok user_unknown=ignore default=bad] pam_iam.so\n' "$STACK" "$STACK" > /etc/pam.d/login
doctor 1 'error: /etc/pam.d/login: session: local names \(PAM_IGNORE\) are not let through' \
	"a session line without ignore=ignore is an error"
printf '@include common-iam\n' > /etc/pam.d/login
printf 'auth %s pam_iam.so\naccount %s pam_iam.so\n' "$STACK" "$STACK" > /etc/pam.d/common-iam
doctor 0 '^0 errors' "@include is followed"
cp /tmp/pam.good /etc/pam.d/login

# ---- sudo ----
printf '# nothing\n' > /etc/sudo.conf
doctor 1 'error: /etc/sudo.conf: does not load sudo_iam' "sudo.conf without the plugin"
printf 'Plugin sudo_iam sudo_iam.so\n' > /etc/sudo.conf
chmod 0666 /etc/sudo.conf
doctor 1 'error: /etc/sudo.conf: writable by group or others' "sudo.conf writable by others"
chmod 0644 /etc/sudo.conf; chown 1:1 /etc/sudo.conf
doctor 1 'error: /etc/sudo.conf: not owned by root' "sudo.conf not owned by root"
chown root:root /etc/sudo.conf

printf 'Plugin other sudo_iam.so\n' > /etc/sudo.conf
doctor 1 'error: /etc/sudo.conf: does not load sudo_iam' "a Plugin line naming another symbol loads nothing"
printf 'Plugin sudo_iam /usr/libexec/sudo/sudo_iam.so unknown_user=deny\n' > /etc/sudo.conf
doctor 0 '^0 errors' "a Plugin line with a full path and options loads sudo_iam"
chmod 0664 /etc/sudo.conf
doctor 1 'error: /etc/sudo.conf: writable by group or others; sudo ignores it' "sudo.conf writable by its group"
printf 'Plugin sudo_iam sudo_iam.so\n' > /etc/sudo.conf
chmod 0644 /etc/sudo.conf

# ---- sudoers: who may set variables ----
SETENV_RE='a rule lets IAM users set variables for sudo'
sudoers_case() {	# sudoers_case RC REGEX DESCRIPTION RULE-LINES
	printf '%b' "$4" > /etc/sudoers.d/iam-test
	chmod 0440 /etc/sudoers.d/iam-test
	doctor "$1" "$2" "$3"
	rm -f /etc/sudoers.d/iam-test
}
sudoers_case 0 "warning: /etc/sudoers.d/iam-test:1: $SETENV_RE \\(the command ALL without NOSETENV\\)" \
	"%group ALL=(ALL:ALL) ALL: IAM users may set variables" '%developers ALL=(ALL:ALL) ALL\n'
grep -q 'fix: tag the rule NOSETENV' <<<"$LAST_OUT" && ok "the fix names NOSETENV" || bad "fix for the ALL rule"
sudoers_case 0 '^0 errors' "the documented NOSETENV: ALL layer is clean" \
	'%developers ALL=(ALL:ALL) NOSETENV: ALL\n'
grep -q "$SETENV_RE" <<<"$LAST_OUT" && bad "NOSETENV: ALL was flagged" || ok "NOSETENV: ALL not flagged"
sudoers_case 0 "iam-test:2: $SETENV_RE \\(a SETENV tag\\)" "a SETENV tag, continued line" \
	'# comment\nalice web1 = (root) SETENV: \\\n  /usr/bin/id\n'
sudoers_case 0 "iam-test:1: $SETENV_RE" "tags carry over: NOPASSWD: /usr/bin/id, ALL" \
	'bob, carol ALL=(ALL) NOPASSWD: /usr/bin/id, ALL\n'
sudoers_case 0 "iam-test:1: $SETENV_RE" "a uid in the IAM range" '#70001 ALL=(ALL) ALL\n'
sudoers_case 0 "iam-test:2: $SETENV_RE" "a User_Alias may hold IAM users" \
	'User_Alias OPS = alice\nOPS ALL=(ALL) ALL\n'
sudoers_case 0 '^0 errors' "root and local users are sudoers' business" \
	'localadm ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\nDefaults:root setenv\n'
grep -q "$SETENV_RE\|Defaults setenv" <<<"$LAST_OUT" && bad "a local rule was flagged" || ok "local rules not flagged"
cp /etc/group /tmp/group.good
sed -i -E 's/^sudo:x:27:.*/sudo:x:27:alice/' /etc/group
sudoers_case 0 "iam-test:1: $SETENV_RE" "a local group with an IAM member" '%sudo ALL=(ALL:ALL) ALL\n'
cp /tmp/group.good /etc/group
sudoers_case 0 "warning: /etc/sudoers.d/iam-test:1: 'Defaults setenv' lets IAM users set variables" \
	"Defaults setenv" 'Defaults lecture=never, setenv\n'
sudoers_case 1 "error: /etc/sudoers.d/iam-test:1: '!env_reset' hands the user's environment" \
	"Defaults !env_reset is an error" 'Defaults\t!env_reset\n'
printf '%%developers ALL=(ALL:ALL) ALL\n' > /etc/sudoers.d/iam.disabled
printf '%%developers ALL=(ALL:ALL) ALL\n' > /etc/sudoers.d/iam~
doctor 0 '^0 errors' "files sudo skips (a '.' or a trailing '~') are skipped"
rm -f /etc/sudoers.d/iam.disabled /etc/sudoers.d/iam~

# ---- nscd ----
mkdir -p /run/nscd; : > /run/nscd/socket
doctor 0 'warning: nscd is running' "a running nscd is found"
rm -rf /run/nscd

# ---- owners and modes ----
chmod 0644 /etc/iam/identity.json
doctor 1 'error: /etc/iam/identity.json: mode 0644 is more open than 0600' "identity file readable by others"
chmod 0600 /etc/iam/identity.json
chmod 0755 /var/lib/iam/credentials
doctor 1 'error: /var/lib/iam/credentials: mode 0755 is more open than 0700' "credentials folder open"
chmod 0700 /var/lib/iam/credentials
chmod 0666 /var/lib/iam/nss.db
doctor 1 'error: /var/lib/iam/gen/[0-9]*/nss.db: mode 0666' "nss.db writable by others"
chmod 0644 /var/lib/iam/nss.db
chown 1 /var/lib/iam/auth/auth.db
doctor 1 'error: /var/lib/iam/gen/[0-9]*/auth/auth.db: not owned by root' "auth.db not root's"
chown 0 /var/lib/iam/auth/auth.db
chmod 0755 /var/lib/iam/state
doctor 1 'error: /var/lib/iam/state: mode 0755' "state folder open"
chmod 0700 /var/lib/iam/state
iamctl user disable bob >/dev/null; iamctl user enable bob >/dev/null
chmod 0644 /var/log/iam/trail.jsonl
doctor 1 'error: /var/log/iam/trail.jsonl: mode 0644' "trail readable by others"
chmod 0600 /var/log/iam/trail.jsonl
mv /var/lib/iam/current/nss.db /tmp/nss.db
doctor 1 'error: /var/lib/iam/gen/[0-9]*/nss.db: No such file.*' "a missing snapshot"
grep -q 'fix: run iamctl sync' <<<"$LAST_OUT" && ok "the fix for a missing snapshot" || bad "fix for a missing snapshot"
mv /tmp/nss.db /var/lib/iam/current/nss.db

# ---- stale snapshot ----
touch /etc/iam/identity.json
doctor 0 'warning: /etc/iam/identity.json: changed after the last published snapshot' "a stale snapshot"
iamctl sync >/dev/null
doctor 0 '^0 errors' "fresh after sync"
if grep -q 'changed after the last' <<<"$LAST_OUT"; then bad "still stale after sync"; else ok "no stale warning after sync"; fi

# ---- id overlaps with the host ----
echo 'intruder:x:70003:70003::/:/bin/sh' >> /etc/passwd
doctor 1 'error: .*users\[2\]\.uid.*70003.*local account' "a local account with an IAM uid"
sed -i '/^intruder:/d' /etc/passwd
echo 'someone:70100:10' >> /etc/subgid
doctor 1 'error: .*groups\[0\]\.gid.*subordinate' "an IAM gid inside /etc/subgid"
sed -i '/^someone:70100/d' /etc/subgid

# ---- administrators without MFA ----
iamctl group add-user admins bob >/dev/null
doctor 1 'error: user bob has the administrator policy AdministratorAccess \("Action": "\*"\) but no MFA device' \
	"an administrator without MFA is an error"
iamctl group remove-user admins bob >/dev/null
doctor 0 '^0 errors' "back to no error"

# ---- the clock ----
# This machine's clock state decides which one applies; either way the
# clock is never an error (logins do not depend on NTP), only a warning.
if grep -q 'the clock is not synchronised' <<<"$LAST_OUT"; then
	grep -q 'warning: the clock is not synchronised' <<<"$LAST_OUT" &&
		ok "an unsynchronised clock is a warning with its fix" ||
		bad "the clock finding is not a warning"
else
	echo "note: the clock is synchronised here; its finding was not exercised"
fi

# ---- sshd, as `sshd -T` reads it ----
if [ -x "$SSHD" ]; then
	doctor 0 '^0 errors' "sshd as shipped: no error"
	grep -q 'sshd' <<<"$LAST_OUT" && bad "sshd as shipped has findings" || ok "sshd as shipped: no sshd finding"
	drop=/etc/ssh/sshd_config.d/iam.conf
	cp "$drop" /tmp/sshd-iam.good
	sed -i 's/^UsePAM yes/UsePAM no/' "$drop"
	doctor 1 "error: sshd: UsePAM is 'no'; IAM users' passwords, codes and account checks" "sshd without PAM"
	grep -q 'fix: UsePAM yes' <<<"$LAST_OUT" && ok "the fix for UsePAM" || bad "fix for UsePAM"
	cp /tmp/sshd-iam.good "$drop"
	sed -i 's/^KbdInteractiveAuthentication yes/KbdInteractiveAuthentication no/' "$drop"
	doctor 0 'warning: sshd: keyboard-interactive is off' "sshd without keyboard-interactive"
	cp /tmp/sshd-iam.good "$drop"
	sed -i '/^AuthorizedKeysCommand/d' "$drop"
	doctor 0 'warning: sshd: no AuthorizedKeysCommand' "sshd without the keys command"
	grep -q 'fix: AuthorizedKeysCommand /usr/bin/iamctl ssh-keys %u' <<<"$LAST_OUT" && ok "the fix names the command" ||
		bad "fix for the keys command"
	cp /tmp/sshd-iam.good "$drop"
	sed -i 's/^AuthorizedKeysCommandUser nobody/AuthorizedKeysCommandUser root/' "$drop"
	doctor 1 'error: sshd: AuthorizedKeysCommandUser root runs the keys command as root' "the keys command as root"
	sed -i 's/^AuthorizedKeysCommandUser root/AuthorizedKeysCommandUser nosuchuser/' "$drop"
	doctor 1 'error: sshd: AuthorizedKeysCommandUser nosuchuser is no local account' "the keys command user missing"
	cp /tmp/sshd-iam.good "$drop"
	mkdir -m 0777 /tmp/keys-open; cp /usr/bin/iamctl /tmp/keys-open/iamctl
	sed -i 's|^AuthorizedKeysCommand /usr/bin/iamctl|AuthorizedKeysCommand /tmp/keys-open/iamctl|' "$drop"
	doctor 1 'error: sshd: AuthorizedKeysCommand /tmp/keys-open/iamctl: /tmp/keys-open: is writable by others; sshd refuses to run it' \
		"a keys command in a folder others may write"
	cp /tmp/sshd-iam.good "$drop"; rm -rf /tmp/keys-open
	# A key asked of everyone: a local administrator needs a Match of his own.
	echo 'localadm:x:1500:1500::/home/localadm:/bin/bash' >> /etc/passwd
	sshd_config 'AuthenticationMethods publickey,keyboard-interactive\n'
	doctor 0 "warning: sshd: AuthenticationMethods 'publickey,keyboard-interactive' asks every user for a key, local accounts too" \
		"a key for everyone, no break-glass"
	grep -q "fix: add a break-glass block .*'Match User NAME'" <<<"$LAST_OUT" && ok "the fix shows the Match block" ||
		bad "fix for the break-glass"
	sshd_config 'AuthenticationMethods publickey,keyboard-interactive\nMatch User localadm\n\tAuthenticationMethods keyboard-interactive\n'
	doctor 0 '^0 errors' "a Match block lets a local administrator in without a key"
	grep -q 'asks every user for a key' <<<"$LAST_OUT" && bad "the break-glass Match was not seen" ||
		ok "the break-glass Match is seen (sshd -T -C user=localadm)"
	sshd_config 'AuthenticationMethods publickey,keyboard-interactive\nMatch User alice\n\tAuthenticationMethods keyboard-interactive\n'
	doctor 0 'asks every user for a key' "a Match for an IAM user is no break-glass"
	sed -i '/^localadm:/d' /etc/passwd
	sshd_config 'NoSuchSetting yes\n'
	doctor 1 'error: sshd -T: .*Bad configuration option: NoSuchSetting' "an sshd_config sshd refuses"
	sshd_config
	rmdir /run/sshd
	doctor 0 'warning: sshd -T: Missing privilege separation directory: /run/sshd; sshd.s settings were not checked' \
		"no /run/sshd: a warning, not a wrong finding"
	mkdir -m 0755 /run/sshd
	doctor 0 '^0 errors' "sshd fine again"
else
	echo "note: sshd is not installed; its checks were not exercised"
fi

# ---- a broken iam.conf is a finding, never exit 2 ----
CONF=/etc/iam/iam.conf
cp "$CONF" /tmp/iam.conf.good
printf 'uid_min = ;\n' > "$CONF"
doctor 1 "error: $CONF:1: .*the checks below use the defaults" "iam.conf with a syntax error: exit 1 with the finding"
grep -q "fix: correct or remove that setting in $CONF" <<<"$LAST_OUT" && ok "the fix for a syntax error" || bad "fix for a syntax error"
grep -q 'warning: user bob has no MFA device' <<<"$LAST_OUT" && ok "the other checks still ran" || bad "the checks stopped"
printf 'bogus_setting = 1;\n' > "$CONF"
doctor 1 "error: $CONF:1: unknown setting \"bogus_setting\"" "iam.conf with an unknown setting"
printf 'mfa = "sometimes";\n' > "$CONF"
doctor 1 "error: $CONF:1: mfa: unknown value \"sometimes\"" "iam.conf with a bad value"
cp /tmp/iam.conf.good "$CONF"; chmod 0666 "$CONF"
doctor 1 "error: $CONF: is writable by others" "iam.conf writable by others"
grep -q "fix: chown root:root $CONF; chmod go-w $CONF" <<<"$LAST_OUT" && ok "the fix for its mode" || bad "fix for the mode"
rm -f "$CONF"; mkdir "$CONF"
doctor 1 "error: $CONF: is not a regular file" "iam.conf is a folder"
grep -q "fix: a folder stands where the file belongs: move it away" <<<"$LAST_OUT" && ok "the fix for a folder" || bad "fix for a folder"
rmdir "$CONF"; install -m 0644 /tmp/iam.conf.good "$CONF"
doctor 0 '^0 errors' "iam.conf restored"

# ---- no identity file: the fix is iamctl init ----
mv /etc/iam/identity.json /tmp/identity.json.good
doctor 1 'error: /etc/iam/identity.json: No such file or directory' "a missing identity file"
grep -q 'fix: run iamctl init' <<<"$LAST_OUT" && ok "its fix is iamctl init" || bad "fix for a missing identity"
grep -q 'another id' <<<"$LAST_OUT" && bad "a missing identity got the fix for clashing ids" ||
	ok "no fix for clashing ids"
mv /tmp/identity.json.good /etc/iam/identity.json
doctor 0 '^0 errors' "identity restored"
