# 61-ssh-keys-report.sh - credential-report and doctor on SSH key age and rotation.
for k in a b c d; do ssh-keygen -q -t ed25519 -N '' -C $k@x -f "$T/$k"; done
cat > "$T/identity.json" <<JSON
{ "account": { "id": "123456789012" }, "password_policy": { "ssh_key_max_age_days": 90 },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [ { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
     "ssh_keys": [ { "id": "old", "key": "$(cat $T/a.pub)", "created": "2020-01-01T00:00:00Z" } ] },
   { "name": "bob", "uid": 70002, "primary_group": "iamstaff" } ] }
JSON
mkdir -p -m 0755 /var/lib/iam
use_identity "$T/identity.json" >/dev/null
for k in b c d; do iamctl ssh-key add bob "$T/$k.pub" >/dev/null; done
expect_out 0 '^alice,.*,false,2020-01-01T00:00:00Z,' "report: expired key not active" iamctl credential-report
expect_out 0 '^bob,.*,true,20' "report: bob's key active" iamctl credential-report
expect_out 1 'ssh key old is older than ssh_key_max_age_days' "doctor: old key" iamctl doctor
expect_out 1 'user bob has 3 active ssh keys' "doctor: three keys" iamctl doctor
