# 30-policy-simulate.sh - `iamctl policy simulate` on bare policy files and
# `iamctl simulate` as a user of the identity file: the decision, the
# statements behind it, --json, and the exit statuses of iamctl(8):
# 0 Allow, 1 a deny or a faulty input, 2 a usage error or unreadable input.
P=$T/policies
mkdir -p "$P"
cat > "$P/restart.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": [
  { "Sid": "RestartOnDev", "Effect": "Allow", "Action": "sudo:Run",
    "Resource": "arn:iam:sudo::123456789012:host/*/command/usr/bin/systemctl",
    "Condition": { "StringLike": { "iam:Command": "/usr/bin/systemctl restart *" },
                   "NumericLessThan": { "aws:MultiFactorAuthAge": "900" } } } ] }
EOF
cat > "$P/nopostgres.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": { "Sid": "NoPostgres", "Effect": "Deny",
  "Action": "sudo:*", "Resource": "*",
  "Condition": { "StringEquals": { "iam:RunAsUser": "postgres" } } } }
EOF
cat > "$P/hostonly.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "host:*", "Resource": "*" } ] }
EOF
cat > "$P/req.json" <<'EOF'
{ "action": "sudo:Run",
  "resource": "arn:iam:sudo::123456789012:host/web1/command/usr/bin/systemctl",
  "context": { "iam:Command": "/usr/bin/systemctl restart nginx",
               "iam:CommandArgs": ["restart", "nginx"],
               "iam:RunAsUser": "root", "aws:MultiFactorAuthAge": "120" } }
EOF
sed 's/"root"/"postgres"/' "$P/req.json" > "$P/req-postgres.json"
sed 's/"120"/"1200"/' "$P/req.json" > "$P/req-oldmfa.json"

ps() { iamctl policy simulate "$@"; }
expect_out 0 '^Allow$' "policy simulate: an allow exits 0" \
	ps --policy "$P/restart.json" --policy "$P/nopostgres.json" --request "$P/req.json"
expect_out 0 'allowed by policy "restart", statement "RestartOnDev"' "policy simulate names the deciding statement" \
	ps --policy "$P/restart.json" --request "$P/req.json"
expect_out 1 '^ExplicitDeny$' "policy simulate: an explicit deny exits 1" \
	ps --policy "$P/restart.json" --policy "$P/nopostgres.json" --request "$P/req-postgres.json"
expect_out 1 'denied by policy "nopostgres", statement "NoPostgres"' "the deny names its statement" \
	ps --policy "$P/restart.json" --policy "$P/nopostgres.json" --request "$P/req-postgres.json"
expect_out 1 '^ImplicitDeny$' "policy simulate: a failed condition is an implicit deny" \
	ps --policy "$P/restart.json" --request "$P/req-oldmfa.json"
expect_out 1 'permissions boundary does not allow sudo:Run' "a boundary that does not allow denies" \
	ps --policy "$P/restart.json" --boundary "$P/hostonly.json" --request "$P/req.json"
out=$(ps --policy "$P/restart.json" --policy "$P/nopostgres.json" --request "$P/req-postgres.json" --json); rc=$?
if [ $rc = 1 ] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["decision"] == "ExplicitDeny", d
m = d["matched"]
assert {"policy": "restart", "sid": "RestartOnDev", "effect": "Allow"}.items() <= m[0].items(), m
assert {"policy": "nopostgres", "sid": "NoPostgres", "effect": "Deny"}.items() <= m[1].items(), m
assert d["decided_by"]["sid"] == "NoPostgres"' "$out"; then
	ok "policy simulate --json prints one decision object"
else
	bad "policy simulate --json (rc=$rc): $out"
fi
expect_out 0 '^\{"decision":"Allow"' "--json on an allow exits 0" \
	ps --json --policy "$P/restart.json" --request "$P/req.json"

# Faulty inputs: a policy AWS would reject, a bad request, unreadable files.
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"sudo:Run","Resource":"*"}]}' > "$P/bad.json"
expect_out 1 'bad.json.Statement\[0\].Effect: must be Allow or Deny' "an invalid policy is a fault with its JSON path (exit 1)" \
	ps --policy "$P/bad.json" --request "$P/req.json"
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/40"}}}]}' > "$P/badcidr.json"
expect_out 1 'Condition.IpAddress.aws:SourceIp: "10.0.0.0/40" is not an IP address' "a malformed CIDR is refused, nothing allowed" \
	ps --policy "$P/badcidr.json" --request "$P/req.json"
echo '{"action": "sudo:Run"' > "$P/broken.json"
expect 1 "a request that does not parse is a fault (exit 1)" ps --policy "$P/restart.json" --request "$P/broken.json"
echo '{"action": "sudo:Run", "resource": "arn:iam:sudo::1:host/h/command/x", "contxt": {}}' > "$P/unknown.json"
expect_out 1 'contxt: unknown element' "an unknown request element is refused" ps --policy "$P/restart.json" --request "$P/unknown.json"
expect_out 2 'No such file' "a missing policy file exits 2" ps --policy "$P/missing.json" --request "$P/req.json"
expect 2 "no --request is a usage error" ps --policy "$P/restart.json"
expect_out 1 '^ImplicitDeny$' "no --policy at all: an implicit deny (exit 1), not a usage error" ps --request "$P/req.json"
expect 2 "an unknown option is a usage error" ps --policy "$P/restart.json" --request "$P/req.json" --frobnicate

# What an AWS request can carry: "" and [] values; ARN operators and values
# that are not ARNs; a Deny whose variable cannot be resolved.
cat > "$P/prefix.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": [
  { "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
    "Condition": { "StringEquals": { "s3:prefix": "" },
                   "ForAllValues:StringEquals": { "aws:TagKeys": ["env"] } } },
  { "Sid": "AnyTag", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
    "Condition": { "ForAnyValue:StringEquals": { "aws:TagKeys": ["secret"] } } } ] }
EOF
echo '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"s3:prefix": "", "aws:TagKeys": []}}' > "$P/req-empty.json"
expect_out 0 '^Allow$' "policy simulate: an empty string and an empty list are values (ForAllValues holds, ForAnyValue fails)" \
	ps --policy "$P/prefix.json" --request "$P/req-empty.json"
echo '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"s3:prefix": "x", "aws:TagKeys": []}}' > "$P/req-x.json"
expect_out 1 '^ImplicitDeny$' "policy simulate: a non-empty prefix fails StringEquals \"\"" \
	ps --policy "$P/prefix.json" --request "$P/req-x.json"
echo '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"aws:TagKeys": [1]}}' > "$P/req-num.json"
expect_out 1 'context.aws:TagKeys: must be a string or an array of strings' "policy simulate: a list of numbers is refused" \
	ps --policy "$P/prefix.json" --request "$P/req-num.json"
cat > "$P/arnnot.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*",
  "Condition": { "ArnNotLike": { "aws:SourceArn": "arn:aws:sns:*:*:*" } } } ] }
EOF
echo '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"aws:SourceArn": "not-an-arn"}}' > "$P/req-nonarn.json"
expect_out 1 '^ImplicitDeny$' "policy simulate: ArnNotLike never matches a value that is not an ARN" \
	ps --policy "$P/arnnot.json" --request "$P/req-nonarn.json"
cat > "$P/teamdeny.json" <<'EOF'
{ "Version": "2012-10-17", "Statement": [
  { "Effect": "Allow", "Action": "*", "Resource": "*" },
  { "Sid": "OnlyTeamHost", "Effect": "Deny", "Action": "*",
    "NotResource": "arn:iam:host::123456789012:host/${aws:PrincipalTag/team}" } ] }
EOF
echo '{"action": "host:Login", "resource": "arn:iam:host::123456789012:host/web1"}' > "$P/req-notag.json"
expect_out 1 'denied by policy "teamdeny", statement "OnlyTeamHost"' "policy simulate: a Deny NotResource on a missing tag denies (fail closed)" \
	ps --policy "$P/teamdeny.json" --request "$P/req-notag.json"

# iamctl simulate USER ACTION RESOURCE: the user's own, group, inline and
# boundary policies with the host's context.
cat > "$T/identity.json" <<'EOF'
{ "account": { "id": "123456789012" },
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "developers", "groups": ["developers"],
      "tags": { "Team": "payments" },
      "inline_policies": { "SelfService": { "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": "iam:ChangePassword",
          "Resource": "arn:iam:iam::123456789012:user/${aws:username}" } ] } },
      "permissions_boundary": "DeveloperBoundary" },
    { "name": "bob", "uid": 70002, "primary_group": "developers", "groups": ["developers"] } ],
  "groups": [ { "name": "developers", "gid": 70101, "policies": ["DevHostAccess", "TeamSudo"] } ],
  "policies": {
    "DevHostAccess": { "Version": "2012-10-17", "Statement": [
      { "Sid": "Login", "Effect": "Allow", "Action": "host:Login", "Resource": "*" },
      { "Sid": "NoCron", "Effect": "Deny", "Action": "host:Login", "Resource": "*",
        "Condition": { "StringEquals": { "iam:Service": "cron" } } } ] },
    "TeamSudo": { "Version": "2012-10-17", "Statement": [
      { "Sid": "PaymentsSudo", "Effect": "Allow", "Action": "sudo:Run", "Resource": "*",
        "Condition": { "StringEquals": { "aws:PrincipalTag/Team": "payments" } } } ] },
    "DeveloperBoundary": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": ["host:*", "iam:ChangePassword"], "Resource": "*" } ] } } }
EOF
install -m 0600 -o root -g root "$T/identity.json" /etc/iam/identity.json
H=arn:iam:host::123456789012:host/web1
expect_out 0 'allowed by policy "DevHostAccess", statement "Login"' "simulate: a group policy allows login" \
	iamctl simulate alice host:Login "$H"
expect_out 1 'denied by policy "DevHostAccess", statement "NoCron"' "simulate --context feeds conditions" \
	iamctl simulate alice host:Login "$H" --context iam:Service=cron
expect_out 0 '^Allow' "simulate: the inline policy's \${aws:username} is alice" \
	iamctl simulate alice iam:ChangePassword arn:iam:iam::123456789012:user/alice
expect_out 1 '^ImplicitDeny' "simulate: another user's password is denied" \
	iamctl simulate alice iam:ChangePassword arn:iam:iam::123456789012:user/bob
expect_out 1 'permissions boundary does not allow' "simulate: alice's boundary blocks sudo her tag allows" \
	iamctl simulate alice sudo:Run arn:iam:sudo::123456789012:host/web1/command/usr/bin/id
expect_out 1 '^ImplicitDeny' "simulate: bob has no Team tag, so no sudo" \
	iamctl simulate bob sudo:Run arn:iam:sudo::123456789012:host/web1/command/usr/bin/id
expect_out 0 '^Allow' "simulate: --context overrides the user's tag" \
	iamctl simulate bob sudo:Run arn:iam:sudo::123456789012:host/web1/command/usr/bin/id --context aws:PrincipalTag/Team=payments
expect_out 0 '"decided_by":\{"policy":"DevHostAccess","sid":"Login"' "simulate --json" \
	iamctl simulate alice host:Login "$H" --json
expect_out 1 "no IAM user 'nobody'" "simulate: an unknown user is a refusal (exit 1)" iamctl simulate nobody host:Login "$H"
expect 2 "simulate: a missing argument is a usage error" iamctl simulate alice host:Login
expect 2 "simulate: a malformed --context is a usage error" iamctl simulate alice host:Login "$H" --context novalue

# simulate decides as the host enforces: the same snapshot record (the
# primary group's policies too), iam_decide(), and real sudo agrees.
ACCT=123456789012
CMD="arn:iam:sudo::$ACCT:host/web1/command"
cat > /etc/iam/iam.conf <<EOF
hostname = "web1";
host_tags = { Environment = "Development"; };
EOF
chmod 0644 /etc/iam/iam.conf
cat > "$T/identity2.json" <<EOF
{ "account": { "id": "$ACCT" },
  "users": [
    { "name": "dave", "uid": 70004, "primary_group": "ops", "policies": ["OpsSudo"] },
    { "name": "erin", "uid": 70005, "primary_group": "iamstaff", "policies": ["Facts"] } ],
  "groups": [ { "name": "ops", "gid": 70104, "policies": ["NoId"] },
              { "name": "iamstaff", "gid": 70105 } ],
  "roles": [
    { "name": "deployer", "max_session_seconds": 3600, "tags": { "Duty": "deploy" },
      "trust_policy": { "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": "sts:AssumeRole",
          "Principal": { "AWS": "arn:iam:iam::$ACCT:user/dave" } } ] },
      "policies": ["DeployRun"] } ],
  "policies": {
    "OpsSudo": { "Version": "2012-10-17", "Statement": [
      { "Sid": "Bin", "Effect": "Allow", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/*" },
      { "Sid": "NoCat", "Effect": "Deny", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/cat" } ] },
    "NoId": { "Version": "2012-10-17", "Statement": [
      { "Sid": "NoIdOnThisHost", "Effect": "Deny", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/id" } ] },
    "DeployRun": { "Version": "2012-10-17", "Statement": [
      { "Sid": "FreshMfa", "Effect": "Allow", "Action": "sudo:Run", "Resource": "$CMD/usr/sbin/*",
        "Condition": { "NumericLessThan": { "aws:MultiFactorAuthAge": "900" },
                       "StringEquals": { "aws:PrincipalTag/Duty": "deploy" } } },
      { "Sid": "Cat", "Effect": "Allow", "Action": "sudo:Run", "Resource": "$CMD/usr/bin/cat" } ] },
    "Facts": { "Version": "2012-10-17", "Statement": [
      { "Sid": "OfficeSsh", "Effect": "Allow", "Action": "host:Login", "Resource": "*",
        "Condition": { "IpAddress": { "aws:SourceIp": "192.0.2.0/24" },
                       "StringEquals": { "iam:Service": "sshd" },
                       "StringLike": { "iam:Tty": "pts/*" },
                       "Bool": { "aws:MultiFactorAuthPresent": "true" },
                       "NumericLessThanEquals": { "aws:MultiFactorAuthAge": "60" } } } ] } } }
EOF
if use_identity "$T/identity2.json" >"$T/sync2.out" 2>&1; then ok "identity 2 published"
else bad "iamctl sync"; show "$(cat "$T/sync2.out")"; fi
expect_out 1 'denied by policy "NoId", statement "NoIdOnThisHost"' \
	"simulate: the primary group's Deny decides (the old simulate answered Allow)" \
	iamctl simulate dave sudo:Run "$CMD/usr/bin/id"
expect_out 0 '^Allow' "simulate: the user's own Allow for another command" iamctl simulate dave sudo:Run "$CMD/usr/bin/true"
cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf unknown_user=defer
EOF
chmod 0644 /etc/sudo.conf
echo 'dave ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/iam
chmod 0440 /etc/sudoers.d/iam
cat > /etc/pam.d/sudo <<EOF
auth     required   pam_permit.so
account  required   pam_permit.so
session  required   pam_permit.so
EOF
as_dave() { setpriv --reuid=dave --regid="$(id -g dave)" --init-groups \
	env HOME=/ USER=dave LOGNAME=dave PATH=/usr/bin:/bin "$@"; }
expect_out 1 '^sudo: denied by IAM policy \(explicit deny\)$' "real sudo refuses dave /usr/bin/id, as simulate said" \
	as_dave sudo -n /usr/bin/id -u
grep '"eventName":"SudoRun"' /var/log/iam/trail.jsonl | tail -1 | has '"sid":"NoIdOnThisHost"' \
	&& ok "the trail names the same statement" || bad "trail: $(tail -1 /var/log/iam/trail.jsonl)"
expect_out 0 '^root$' "real sudo allows dave /usr/bin/whoami" as_dave sudo -n /usr/bin/whoami
expect_out 0 '^Allow' "simulate agrees on /usr/bin/whoami" iamctl simulate dave sudo:Run "$CMD/usr/bin/whoami"

# --role: the role's policies, assuming counts as MFA, the user's Deny wins.
expect_out 0 'allowed by policy "DeployRun", statement "FreshMfa"' "simulate --role: assuming the role counts as fresh MFA" \
	iamctl simulate dave sudo:Run "$CMD/usr/sbin/iamctl" --role deployer
expect_out 1 '^ImplicitDeny' "simulate --role --mfa-age 1200: the role's MFA condition fails" \
	iamctl simulate dave sudo:Run "$CMD/usr/sbin/iamctl" --role deployer --mfa-age 1200
expect_out 1 'denied by policy "OpsSudo", statement "NoCat"' "simulate --role: the user's own Deny wins over the role's Allow" \
	iamctl simulate dave sudo:Run "$CMD/usr/bin/cat" --role deployer
expect_out 1 'denied by policy "NoId", statement "NoIdOnThisHost"' "simulate --role: the primary group's Deny wins too" \
	iamctl simulate dave sudo:Run "$CMD/usr/bin/id" --role deployer
expect_out 1 '^ImplicitDeny' "simulate --role: the user's own Allow does not count in the session" \
	iamctl simulate dave sudo:Run "$CMD/usr/bin/true" --role deployer
expect_out 1 "no role 'nosuch'" "simulate --role with an unknown role is a refusal" \
	iamctl simulate dave sudo:Run "$CMD/usr/bin/true" --role nosuch

# The facts of the moment.
H2="arn:iam:host::$ACCT:host/web1"
sim_erin() { iamctl simulate erin host:Login "$H2" "$@"; }
expect_out 0 '^Allow' "simulate with the facts of an office ssh login" \
	sim_erin --source-ip 192.0.2.7 --service sshd --tty pts/3 --mfa-age 30
expect_out 1 '^ImplicitDeny' "--source-ip outside the office" sim_erin --source-ip 198.51.100.1 --service sshd --tty pts/3 --mfa-age 30
expect_out 1 '^ImplicitDeny' "--mfa-age older than the policy allows" sim_erin --source-ip 192.0.2.7 --service sshd --tty pts/3 --mfa-age 61
expect_out 1 '^ImplicitDeny' "no --mfa-age: no MFA in the session" sim_erin --source-ip 192.0.2.7 --service sshd --tty pts/3
expect_out 1 '^ImplicitDeny' "--service su" sim_erin --source-ip 192.0.2.7 --service su --tty pts/3 --mfa-age 30
expect_out 1 '^ImplicitDeny' "--tty tty1" sim_erin --source-ip 192.0.2.7 --service sshd --tty tty1 --mfa-age 30
expect_out 0 '^Allow' "--context still replaces a fact" sim_erin --source-ip 198.51.100.1 --service sshd --tty pts/3 --mfa-age 30 --context aws:SourceIp=192.0.2.9
expect_out 2 "is not an IPv4 or IPv6 address" "--source-ip must be an address" sim_erin --source-ip office
expect_out 2 "needs seconds" "--mfa-age must be seconds" sim_erin --mfa-age -5
