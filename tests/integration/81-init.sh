# 81-init.sh - iamctl init: from nothing to a published, empty identity
# in one command; bad input and an existing identity change nothing.
rm -rf /etc/iam /var/lib/iam /var/log/iam
ID=/etc/iam/identity.json

expect_out 2 'not 12 digits' "init --account-id 12345 is a usage error" iamctl init --account-id 12345
expect_out 2 'unknown argument' "init with a stray argument is a usage error" iamctl init extra
expect_out 1 'must be run as root' "init as an ordinary user is refused" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups iamctl init
[ ! -e "$ID" ] && [ ! -e /etc/iam/iam.conf ] && ok "the refusals wrote nothing" || bad "a refusal wrote a file"
expect_out 1 'alias' "init --alias Bad_Alias is refused with the fault" \
	iamctl init --account-id 111122223333 --alias Bad_Alias
[ ! -e "$ID" ] && [ ! -e /etc/iam/iam.conf ] && [ ! -e /var/lib/iam/nss.db ] && ok "the refused alias wrote nothing, published nothing" ||
	bad "the refused alias left files"

expect_out 0 'published generation 1' "init --account-id --alias writes and publishes" \
	iamctl init --account-id 111122223333 --alias web-fleet
[ "$(stat -c '%U %a' "$ID")" = "root 600" ] && ok "identity.json is root 0600" || bad "identity.json: $(stat -c '%U %a' "$ID")"
[ "$(stat -c '%U %a' /etc/iam/iam.conf)" = "root 644" ] && ok "iam.conf written, root 0644" ||
	bad "iam.conf: $(stat -c '%U %a' /etc/iam/iam.conf 2>&1)"
expect_out 0 '^OK' "the new identity validates" iamctl validate
grep -q '"id": "111122223333", "alias": "web-fleet"' "$ID" && ok "account id and alias as given" || bad "account: $(head -3 "$ID")"
grep -q '"max_failed_attempts": 5' "$ID" && ok "lockout defaults present" || bad "no lockout"
[ -s /var/lib/iam/nss.db ] && [ -s /var/lib/iam/auth/auth.db ] && ok "snapshots published" || bad "no snapshots"
grep -q '"eventName":"IdentityCommit".*"change":"init"' /var/log/iam/trail.jsonl &&
	ok "init is an IdentityCommit in the trail" || bad "trail: $(tail -1 /var/log/iam/trail.jsonl)"

before=$(sha256sum "$ID" /etc/iam/iam.conf /var/lib/iam/generation)
expect_out 1 'exists; nothing changed' "a second init is refused" iamctl init --account-id 999988887777
[ "$(sha256sum "$ID" /etc/iam/iam.conf /var/lib/iam/generation)" = "$before" ] &&
	ok "the refused init changed nothing" || bad "the refused init changed files"

# The new identity takes users straight away.
expect_out 0 'user dana added' "user add on the new identity" iamctl user add dana
expect_out 0 'uid=70000\(dana\)' "dana resolves through NSS" id dana

# bash completion offers the identity's names to root
expect_out 0 '^dana$' "bash completion: iamctl passwd d<TAB> offers dana" bash -c '
	. "$TOP/etc/bash-completion/iamctl"
	COMP_WORDS=(iamctl passwd d); COMP_CWORD=2; _iamctl; printf "%s\n" "${COMPREPLY[@]}"'
expect_out 0 '^dana$' "bash completion: iamctl group add-user <TAB> offers the group dana" bash -c '
	. "$TOP/etc/bash-completion/iamctl"
	COMP_WORDS=(iamctl group add-user ""); COMP_CWORD=3; _iamctl; printf "%s\n" "${COMPREPLY[@]}"'

# An administrator's own iam.conf is kept; a random 12-digit account id.
rm -rf /var/lib/iam "$ID"
echo '# kept' >> /etc/iam/iam.conf
expect_out 0 'account [0-9]{12}\)' "init without options picks a 12-digit account id" iamctl init
grep -q '^# kept' /etc/iam/iam.conf && ok "an existing iam.conf is not overwritten" || bad "iam.conf overwritten"
