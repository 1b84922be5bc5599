# 43-cli.sh - iamctl's command line as a whole: --help for every command
# and subcommand (usage on stdout, exit 0, nothing changed), a name
# beginning with '-' is a usage error, every listing command's --json
# parsed by jq with its values checked, trail --user (the subject) against
# --actor (who acted), the credential report's two key column sets,
# validate's warning on arn:aws: resources, passwd --must-change refused
# for a user who may not change a password unless --force.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null
for f in common-auth common-account common-password common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
printf '@include common-auth\n@include common-account\n' > /etc/pam.d/iamtest
ID=/etc/iam/identity.json
CR=/var/lib/iam/credentials
TRAIL=/var/log/iam/trail.jsonl
W=$(mktemp -d)

snap() {
	{ cat "$ID"; find "$CR" -type f -name '*.json' 2>/dev/null | sort | xargs -r cat
	  cat "$TRAIL" 2>/dev/null; } | sha256sum
}
# jq_is DESCRIPTION FILTER WANT: the last output through jq -r FILTER
jq_is() {
	local got
	got=$(jq -r "$2" <<<"$JSON" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else bad "$1 (jq '$2' gave '$got', wanted '$3')"; fi
}
# json DESCRIPTION COMMAND...: run, exit 0, stdout must parse with jq
json() {
	local d=$1 rc
	shift
	JSON=$("$@" 2>"$W/err"); rc=$?
	if [ $rc = 0 ] && jq -e . >/dev/null 2>&1 <<<"$JSON"; then ok "$d: exit 0, parsed by jq"
	else bad "$d (rc=$rc, or not JSON)"; show "$JSON"; show "$(cat "$W/err")"; fi
}

# ---- --help, the same way everywhere ----
before=$(snap)
cmds=$(iamctl --help | awk '/^  [a-z]/ { print $1 }')
[ "$(wc -w <<<"$cmds")" -ge 20 ] && ok "iamctl --help lists the command table ($(wc -w <<<"$cmds") commands)" ||
	bad "command table: $cmds"
for c in $cmds; do
	for h in --help -h; do
		out=$(iamctl "$c" "$h" 2>"$W/err"); rc=$?
		if [ $rc = 0 ] && grep -q "^usage:" <<<"$out" && grep -q "iamctl $c" <<<"$out" && [ ! -s "$W/err" ]; then
			ok "$c $h: usage on stdout, exit 0"
		else bad "$c $h (rc=$rc): $out $(cat "$W/err")"; fi
	done
done
for sc in "user add" "user del" "user list" "user show" "user disable" "user enable" \
	"group add" "group del" "group add-user" "group remove-user" "group list" \
	"policy put" "policy del" "policy list" "policy show" "policy attach" "policy detach" \
	"policy simulate" "mfa enable" "mfa disable" "ssh-key add" "ssh-key activate" \
	"ssh-key deactivate" "ssh-key del" "ssh-key list" "sessions --revoke"; do
	out=$(iamctl $sc --help 2>"$W/err"); rc=$?
	if [ $rc = 0 ] && grep -q "^usage:" <<<"$out" && grep -q "iamctl ${sc%% *}" <<<"$out" && [ ! -s "$W/err" ]; then
		ok "$sc --help: usage on stdout, exit 0"
	else bad "$sc --help (rc=$rc): $out $(cat "$W/err")"; fi
done
expect_out 0 'usage: iamctl mfa enable' "mfa enable bob --help is help, not a user" iamctl mfa enable bob --help
grep -q "no such user" <<<"$LAST_OUT" && bad "mfa enable --help looked a user up" || ok "mfa enable --help names no user"
[ "$(snap)" = "$before" ] && ok "no --help changed a file or wrote the trail" || bad "a --help changed something"
expect_out 2 "'-x' is not a name" "mfa enable -x is a usage error" iamctl mfa enable -x
expect_out 2 "'-bob' is not a name" "user show -bob is a usage error" iamctl user show -bob
expect_out 2 "'-qa' is not a name" "group del -qa is a usage error" iamctl group del -qa
expect_out 2 "'-x' is not a name" "unlock -x is a usage error" iamctl unlock -x
expect_out 2 "is not a name" "policy attach P --user -x is a usage error" iamctl policy attach DevSudo --user -x
expect_out 2 "is not a name" "ssh-key list -x is a usage error" iamctl ssh-key list -x
expect_out 2 "usage" "passwd -x is a usage error" iamctl passwd -x
[ "$(snap)" = "$before" ] && ok "the usage errors changed nothing" || bad "a usage error changed something"

# ---- --json of every listing command ----
json "user list --json" iamctl user list --json
jq_is "user list: four users" 'length' 4
jq_is "user list: carol's uid" '.[] | select(.name == "carol") | .uid' 70003
jq_is "user list: dave is disabled" '.[] | select(.name == "dave") | .disabled' true
jq_is "user list: alice has MFA" '.[] | select(.name == "alice") | .mfa_enabled' true
jq_is "user list: bob's primary group" '.[] | select(.name == "bob") | "\(.primary_group) \(.gid)"' "developers 70101"

json "user show alice --json" iamctl user show alice --json
jq_is "user show: arn" '.arn' "arn:iam:iam::123456789012:user/alice"
jq_is "user show: groups" '.groups | join(",")' "developers,admins"
jq_is "user show: boundary" '.permissions_boundary' "DeveloperBoundary"
jq_is "user show: inline policy" '.inline_policies[0]' "SelfService"
jq_is "user show: tag" '.tags.Team' "payments"
jq_is "user show: password changed" '.password.changed' "2026-10-01T12:00:00Z"
jq_is "user show: mfa" '"\(.mfa.enabled) \(.mfa.algorithm) \(.mfa.digits)"' "true SHA1 6"
jq_is "user show: ssh key" '.ssh_keys[0] | "\(.id) \(.status)"' "laptop-2026 Active"
if grep -Eq 'JBSWY3DP|\$y\$|"hash"|"secret"' <<<"$JSON"; then bad "user show --json prints a secret"
else ok "user show --json prints no hash and no MFA secret"; fi
json "user show carol --json (--json first)" iamctl user show --json carol
jq_is "user show: must_change" '.password.must_change' true

json "group list --json" iamctl group list --json
jq_is "group list: three groups" 'length' 3
jq_is "group list: admins' members" '.[] | select(.name == "admins") | .members | join(",")' "alice,carol"
jq_is "group list: developers' policies" '.[] | select(.name == "developers") | .policies | join(",")' "DevHostAccess,DevSudo"
jq_is "group list: operators' gid" '.[] | select(.name == "operators") | .gid' 70103
expect_out 0 '^admins +70102 +alice,carol +AdministratorAccess$' "group list: the table" iamctl group list

json "policy list --json" iamctl policy list --json
jq_is "policy list: DevHostAccess on alice and developers" \
	'.[] | select(.name == "DevHostAccess") | "\(.users|join(",")) \(.groups|join(","))"' "alice developers"
jq_is "policy list: the boundary" '.[] | select(.name == "DeveloperBoundary") | .boundary_of | join(",")' "alice"
jq_is "policy list: DeployAccess on a role" '.[] | select(.name == "DeployAccess") | "\(.attached) \(.roles|join(","))"' "true deployer"
json "policy show --json" iamctl policy show DevSudo --json
jq_is "policy show: the document" '.Statement[0].Sid' "RestartServices"

json "ssh-key list carol --json" iamctl ssh-key list carol --json
jq_is "ssh-key list: two keys" 'length' 2
jq_is "ssh-key list: the old key is inactive" '.[0] | "\(.id) \(.status) \(.logs_in)"' "laptop-2025 Inactive false"
jq_is "ssh-key list: the second key" '.[1] | "\(.id) \(.type) \(.status) \(.comment)"' \
	"workstation-2026 ecdsa-sha2-nistp256 Active carol@workstation"
jq_is "ssh-key list: created" '.[1].created' "2026-08-15T08:05:00Z"

json "sessions --json" iamctl sessions --json
jq_is "sessions: none yet" 'length' 0

json "credential-report --json" iamctl credential-report --json
jq_is "credential-report: a row per user" 'length' 4
jq_is "credential-report: carol's first key is inactive" '.[] | select(.user == "carol") | .ssh_key_1_active' false
jq_is "credential-report: carol's second, active key" \
	'.[] | select(.user == "carol") | "\(.ssh_key_2_active) \(.ssh_key_2_last_rotated)"' "true 2026-08-15T08:05:00Z"
jq_is "credential-report: alice has one key" \
	'.[] | select(.user == "alice") | "\(.ssh_key_1_active) \(.ssh_key_2_active) \(.ssh_key_2_last_rotated)"' "true false null"
jq_is "credential-report: dave has no password" '.[] | select(.user == "dave") | "\(.password_enabled) \(.password_last_changed)"' "false null"
jq_is "credential-report: groups as a list" '.[] | select(.user == "alice") | .groups | join(";")' "developers;admins"

expect_out 0 '^user,arn,user_creation_time,password_enabled,password_last_changed,password_next_rotation,mfa_active,ssh_key_1_active,ssh_key_1_last_rotated,ssh_key_2_active,ssh_key_2_last_rotated,last_login,locked,groups,policies,mfa_devices,recovery_codes_left$' \
	"credential-report: a column set per key" iamctl credential-report
grep -q '^carol,arn:iam:iam::123456789012:user/carol,2026-08-15T08:00:00Z,true,2026-08-15T08:00:00Z,2026-11-13T08:00:00Z,true,false,2025-11-20T16:45:00Z,true,2026-08-15T08:05:00Z,' <<<"$LAST_OUT" &&
	ok "credential-report: carol's row has ssh_key_1_active=false, ssh_key_2_active=true" ||
	bad "credential-report row of carol: $(grep ^carol <<<"$LAST_OUT")"
# A third key: the two columns go to the keys that log in.
cp "$ID" "$W/id.before"
ssh-keygen -q -t ed25519 -N '' -C carol@third -f "$W/third" >/dev/null
iamctl ssh-key add carol "$W/third.pub" --id third-2026 >/dev/null
json "credential-report --json with three keys" iamctl credential-report --json
jq_is "with more than two keys, both columns are the active ones" \
	'.[] | select(.user == "carol") | "\(.ssh_key_1_active) \(.ssh_key_1_last_rotated) \(.ssh_key_2_active)"' \
	"true 2026-08-15T08:05:00Z true"
iamctl ssh-key del carol third-2026 >/dev/null

JSON=$(iamctl doctor --json 2>"$W/err"); rc=$?
[ $rc = 1 ] && jq -e . >/dev/null 2>&1 <<<"$JSON" && ok "doctor --json: parsed by jq, exit 1 for its error (sudo.conf)" ||
	bad "doctor --json (rc=$rc): $JSON $(cat "$W/err")"
jq_is "doctor --json: the error" '.findings[] | select(.severity == "error") | .message' \
	"/etc/sudo.conf: does not load sudo_iam"
jq_is "doctor --json: counts match the findings" \
	'(.errors == ([.findings[] | select(.severity == "error")] | length)) and (.warnings == ([.findings[] | select(.severity == "warning")] | length))' true
jq_is "doctor --json: bob's MFA finding with its fix" \
	'.findings[] | select(.message == "user bob has no MFA device") | .fix' "iamctl mfa enable bob"

# whoami --json, as alice in a login session of her own (the helper's
# answer turned into JSON by iamctl): no role, then the role she assumes
# with a code; sessions --json lists it.
as_alice() {
	setpriv --reuid=alice --regid=developers --init-groups \
		env HOME=/ PATH=/usr/sbin:/usr/bin:/bin "$@"
}
( echo 70001 > /proc/self/loginuid
  as_alice iamctl whoami --json > "$W/who0" 2>&1
  oathtool --totp -b JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP |
	as_alice iamctl assume-role deployer --duration 600 --reason 'release "42"' > "$W/assume" 2>&1
  as_alice iamctl whoami --json > "$W/who1" 2>&1 )
JSON=$(cat "$W/who0")
jq -e . >/dev/null 2>&1 <<<"$JSON" && ok "whoami --json: parsed by jq" || bad "whoami --json: $JSON"
jq_is "whoami --json: the user and no role" '"\(.user) \(.arn) \(.role)"' \
	"alice arn:iam:iam::123456789012:user/alice null"
JSON=$(cat "$W/who1")
jq -e . >/dev/null 2>&1 <<<"$JSON" && ok "whoami --json with a role: parsed by jq" ||
	bad "whoami --json with a role: $JSON $(cat "$W/assume")"
jq_is "whoami --json: the role" '"\(.role.name) \(.role.arn)"' "deployer arn:iam:iam::123456789012:role/deployer"
jq_is "whoami --json: seconds left" '.role.seconds_left > 590 and .role.seconds_left <= 600' true
jq_is "whoami --json: the reason, quotes and all" '.role.reason' 'release "42"'
SESSION=$(jq -r .role.session <<<"$JSON")
json "sessions --json with a session" iamctl sessions --json
jq_is "sessions --json: alice's session" '.[0] | "\(.id) \(.user) \(.uid) \(.role) \(.state)"' \
	"$SESSION alice 70001 deployer active"
iamctl sessions --revoke "$SESSION" >/dev/null
JSON=$(iamctl trail --event RoleSessionEnd --json | jq -s .)
jq_is "a revocation: by root, about alice" '.[-1] | "\(.userIdentity.userName) \(.requestParameters.userName)"' "root alice"

# ---- trail --user (the subject) and --actor (who acted) ----
iamctl user disable bob >/dev/null; iamctl user enable bob >/dev/null
printf 'Wrong-Password-1!\n' | pamtester iamtest bob authenticate >/dev/null 2>&1
JSON=$(iamctl trail --user bob --json | jq -s .)
jq_is "trail --user bob: the changes made to bob, by root" \
	'[.[] | select(.eventName == "IdentityCommit" and .userIdentity.userName == "root")] | length >= 2' true
jq_is "trail --user bob: bob's own login" \
	'[.[] | select(.eventName == "Login" and .userIdentity.userName == "bob")] | length' 1
jq_is "trail --user bob: nothing about another user" \
	'[.[] | select((.requestParameters.userName // .userIdentity.userName) != "bob")] | length' 0
JSON=$(iamctl trail --actor bob --json | jq -s .)
jq_is "trail --actor bob: only what bob did (his login)" '[.[] | .eventName] | unique | join(",")' "Login"
JSON=$(iamctl trail --actor root --user bob --json | jq -s .)
jq_is "trail --actor root --user bob: root's changes of bob" \
	'[.[] | .eventName] | unique | join(",")' "IdentityCommit"
expect_out 0 'IdentityCommit +bob +root ' "trail table: USER is the subject, ACTOR who acted" \
	iamctl trail --user bob --event IdentityCommit

# ---- validate: arn:aws: resources never match on a host ----
jq '.policies.S3 = {"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": "host:Login", "Resource": "*"},
	{"Effect": "Allow", "Action": "sudo:Run", "Resource": ["arn:iam:sudo::123456789012:host/*/command/usr/bin/id", "arn:aws:s3:::bucket"]}]}' \
	"$TOP/etc/identity.example.json" > "$W/draft.json"
out=$(iamctl validate "$W/draft.json" 2>"$W/err"); rc=$?
[ $rc = 0 ] && [ "$out" = OK ] && ok "validate: arn:aws: resources are accepted (exit 0, OK)" || bad "validate: rc=$rc $out"
grep -q '^warning: .*draft.json: policies.S3.Statement\[1\].Resource\[1\]: "arn:aws:s3:::bucket" can never match on a host' "$W/err" &&
	ok "validate warns on stderr with the JSON path" || bad "validate warning: $(cat "$W/err")"
[ "$(grep -c warning "$W/err")" = 1 ] && ok "only the AWS resource is warned about" || bad "warnings: $(cat "$W/err")"
jq '.policies.S3' "$W/draft.json" > "$W/s3.json"
expect_out 0 'warning: .*s3.json: policies.S3.Statement\[1\].Resource\[1\]: "arn:aws:s3:::bucket" can never match' \
	"policy put: added, with the same warning" iamctl policy put S3 "$W/s3.json"
iamctl policy del S3 >/dev/null
expect_out 0 '^OK$' "the example identity has no such warning" iamctl validate
grep -q warning <<<"$LAST_OUT" && bad "the example warned" || ok "no warning for the example"

# ---- passwd --must-change for a user who cannot change it ----
PW='Fresh-Start-Pass-42!'
before=$(snap)
expect_out 1 "bob cannot change a password at the next login: no policy allows them iam:ChangePassword" \
	"passwd --must-change refuses bob (no iam:ChangePassword)" \
	sh -c "echo '$PW' | iamctl passwd bob --stdin --must-change"
[ "$(snap)" = "$before" ] && ok "the refused --must-change changed nothing" || bad "the refusal changed files"
expect_out 2 "usage" "--force alone is a usage error" sh -c "echo '$PW' | iamctl passwd bob --stdin --force"
expect_out 0 "must be changed at the next login" "--must-change --force sets it anyway" \
	sh -c "echo '$PW' | iamctl passwd bob --stdin --must-change --force"
grep -q "warning: bob cannot change a password" <<<"$LAST_OUT" && ok "--force still warns" || bad "no warning with --force"
json "user show bob --json" iamctl user show bob --json
jq_is "bob must change now" '.password.must_change' true
expect_out 0 "must be changed at the next login" "passwd --must-change for alice, who may (SelfService)" \
	sh -c "echo '$PW' | iamctl passwd alice --stdin --must-change"
grep -q warning <<<"$LAST_OUT" && bad "alice was warned" || ok "no warning for alice"
cat > "$W/no-change.sh" <<'S'
#!/bin/sh
sed -i 's/"allow_users_to_change": true/"allow_users_to_change": false/' "$1"
S
chmod 755 "$W/no-change.sh"
EDITOR="$W/no-change.sh" iamctl edit >/dev/null
expect_out 1 "allow_users_to_change is false" "passwd --must-change refuses when users may not change passwords" \
	sh -c "echo 'Another-Start-Pass-43!' | iamctl passwd alice --stdin --must-change"
rm -rf "$W"
