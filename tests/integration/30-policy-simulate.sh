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
expect 2 "no --policy is a usage error" ps --request "$P/req.json"
expect 2 "an unknown option is a usage error" ps --policy "$P/restart.json" --request "$P/req.json" --frobnicate

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
