# 40-iamctl.sh - every administrator's command of iamctl: each success,
# and each refusal leaving the identity file and the credentials byte for
# byte as they were.
mkdir -p -m 0755 /var/lib/iam
# Local entries the allocator must step around.
echo 'localx:x:70000:70000::/home/localx:/bin/sh' >> /etc/passwd
echo 'localx:x:70000:' >> /etc/group
echo 'localy:x:70010:70010::/home/localy:/bin/sh' >> /etc/passwd
echo 'someone:70020:5' >> /etc/subuid
use_identity "$TOP/etc/identity.example.json" >/dev/null
ID=/etc/iam/identity.json
CR=/var/lib/iam/credentials
W=$(mktemp -d)

snap() {
	{ cat "$ID"; find "$CR" -type f -name '*.json' | sort | xargs -r cat; } |
		sha256sum
}
# refused WANT_RC REGEX "description" command... : also files unchanged
refused() {
	local before
	before=$(snap)
	expect_out "$@"
	if [ "$(snap)" = "$before" ]; then ok "$3: nothing changed"
	else bad "$3: files changed"; fi
}
# enrol USER [CODE-OPTIONS]: mfa enable answered with a code from oathtool
enrol() {
	local secret= pid rc
	rm -f "$W/code" "$W/out"
	mkfifo "$W/code"
	iamctl mfa enable "$1" --no-qr <"$W/code" >"$W/out" 2>&1 &
	pid=$!
	exec 7>"$W/code"
	for _ in $(seq 100); do
		grep -q '^otpauth://' "$W/out" && break
		sleep 0.1
	done
	secret=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$W/out")
	echo "$secret" > "$W/secret.$1"
	oathtool --totp -b "${@:2}" "$secret" >&7
	exec 7>&-
	wait "$pid"; rc=$?
	cat "$W/out"
	return $rc
}

# ---- help and usage ----
for c in user group policy passwd mfa edit credential-report doctor; do
	expect 0 "$c --help" iamctl "$c" --help
done
expect 2 "user without a subcommand is a usage error" iamctl user
expect 2 "user add without a name is a usage error" iamctl user add
expect 2 "group add-user with one argument is a usage error" iamctl group add-user qa

# ---- user add ----
expect_out 0 'user erin added \(uid 70005, own group erin gid 70005\)' \
	"user add picks the next free id clear of local, retired and IAM ids" \
	iamctl user add erin --group developers --gecos "Erin Example" --tag Team=qa
expect_out 0 '^erin:\*:70005:70005:Erin Example:/home/erin:/bin/bash$' \
	"the new user is published to NSS" getent passwd erin
expect_out 0 '^erin:.*:70005:' "its own group has the same id" getent group erin
expect_out 0 'groups=70005\(erin\),70101\(developers\)' "id lists its groups" id erin
refused 1 "exists already" "user add refuses a duplicate name" iamctl user add erin
refused 1 "uid 70007 is retired" "user add refuses a retired id" \
	iamctl user add eve --uid 70007
refused 1 "uid 70010 belongs to a local account" "user add refuses a local uid" \
	iamctl user add eve --uid 70010
refused 1 "subordinate id range of /etc/subuid" "user add refuses a subordinate id" \
	iamctl user add eve --uid 70022
refused 1 "uid 70001 is the uid of an IAM user" "user add refuses an IAM user's uid" \
	iamctl user add eve --uid 70001
refused 1 "outside|not a number" "user add refuses an id outside the range" \
	iamctl user add eve --uid 500
refused 1 "no such group 'nosuch'" "user add refuses an unknown primary group" \
	iamctl user add eve --primary-group nosuch
refused 1 "no such group 'nosuch'" "user add refuses an unknown group" \
	iamctl user add eve --group nosuch
refused 1 "not a valid name" "user add refuses an invalid name" iamctl user add Eve
refused 1 "local account|/etc/passwd" "user add refuses a local account's name" \
	iamctl user add localy --primary-group developers
refused 1 "a group named 'developers' exists" "user add refuses to reuse a group as own group" \
	iamctl user add developers
refused 1 "home" "user add refuses a relative home" \
	iamctl user add eve --home relative/home
expect_out 0 "uid 70006, primary group developers" "user add --primary-group" \
	iamctl user add eve --primary-group developers --shell /bin/sh
expect_out 0 '^eve:\*:70006:70101:' "eve is published with gid of developers" getent passwd eve

# ---- user show / list ----
expect_out 0 'password: +set, changed 2026-10-01T12:00:00Z' "user show: password state" \
	iamctl user show alice
expect_out 0 'mfa: +enabled \(SHA1, 6 digits\)' "user show: mfa state" iamctl user show alice
if grep -Eq 'JBSWY3DP|\$y\$' <<<"$LAST_OUT"; then bad "user show prints a secret"
else ok "user show prints no hash and no MFA secret"; fi
refused 1 "no such user 'nosuch'" "user show refuses an unknown user" iamctl user show nosuch
expect_out 0 '^erin +70005' "user list" iamctl user list

# ---- disable / enable / del ----
expect_out 0 "user bob disabled" "user disable" iamctl user disable bob
expect_out 0 'status: +disabled' "user show says disabled" iamctl user show bob
expect_out 0 "user bob enabled" "user enable" iamctl user enable bob
refused 1 "no such user" "user disable refuses an unknown user" iamctl user disable nosuch
expect_out 0 "user erin deleted \(uid 70005 retired, own group deleted\)" "user del" \
	iamctl user del erin
expect 2 "a deleted user is gone from NSS" getent passwd erin
expect 2 "its own group went with it" getent group erin
if grep -A4 '"retired_ids"' "$ID" | has 70005; then ok "user del retires the uid"
else bad "user del did not retire the uid"; fi
refused 1 "uid 70005 is retired" "a retired uid is refused afterwards" \
	iamctl user add erin2 --uid 70005
expect_out 0 "uid 70008" "the allocator skips the retired id" iamctl user add frank
refused 1 "no such user" "user del refuses an unknown user" iamctl user del nosuch

# ---- group ----
expect_out 0 "group qa added \(gid 70001\)" "group add picks a free gid" iamctl group add qa
refused 1 "exists already" "group add refuses a duplicate" iamctl group add qa
refused 1 "gid 70101 is the gid of an IAM group" "group add refuses a used gid" \
	iamctl group add qb --gid 70101
refused 1 "gid 70000 belongs to a local group" "group add refuses a local gid" \
	iamctl group add qb --gid 70000
expect_out 0 "user bob added to group qa" "group add-user" iamctl group add-user qa bob
expect_out 0 '70001\(qa\)' "id lists the new group" id bob
refused 1 "no such group" "group add-user refuses an unknown group" iamctl group add-user nosuch bob
refused 1 "no such user" "group add-user refuses an unknown user" iamctl group add-user qa nosuch
expect_out 0 "user bob removed from group qa" "group remove-user" iamctl group remove-user qa bob
refused 1 "not a member" "group remove-user refuses a non-member" iamctl group remove-user qa bob
refused 1 "primary group of user" "group del refuses a primary group" iamctl group del developers
expect_out 0 "group qa deleted" "group del" iamctl group del qa
refused 1 "no such group" "group del refuses an unknown group" iamctl group del qa

# ---- policy ----
cat > "$W/login.json" <<'P'
{ "Version": "2012-10-17",
  "Statement": [ { "Sid": "Login", "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] }
P
echo '{ "Version": "2012-10-17", "Statement": [ { "Effect": "Permit", "Action": "host:Login", "Resource": "*" } ] }' > "$W/bad.json"
echo '{ "Version": "2012-10-17", ' > "$W/broken.json"
expect_out 0 "policy QaLogin added" "policy put" iamctl policy put QaLogin "$W/login.json"
expect_out 0 "policy QaLogin replaced" "policy put replaces" iamctl policy put QaLogin "$W/login.json"
refused 1 "policies.Bad.Statement\[0\].Effect" "policy put refuses an invalid policy" \
	iamctl policy put Bad "$W/bad.json"
refused 1 "broken.json" "policy put refuses a file that does not parse" \
	iamctl policy put Broken "$W/broken.json"
refused 2 "No such file" "policy put: an unreadable file is exit 2" \
	iamctl policy put Gone "$W/none.json"
expect_out 0 '"Sid": "Login"' "policy show" iamctl policy show QaLogin
expect_out 0 '^QaLogin \(not attached\)' "policy list" iamctl policy list
expect_out 0 "attached to user bob" "policy attach --user" iamctl policy attach QaLogin --user bob
expect_out 0 "attached to group operators" "policy attach --group" iamctl policy attach QaLogin --group operators
expect_out 0 "attached to role deployer" "policy attach --role" iamctl policy attach QaLogin --role deployer
refused 1 "no such user" "policy attach refuses an unknown user" iamctl policy attach QaLogin --user nosuch
refused 1 "no such policy" "policy attach refuses an unknown policy" iamctl policy attach Nosuch --user bob
refused 2 "usage" "policy attach without a target is a usage error" iamctl policy attach QaLogin
refused 1 "attached to user 'bob'" "policy del refuses an attached policy" iamctl policy del QaLogin
expect_out 0 "detached from user bob" "policy detach" iamctl policy detach QaLogin --user bob
refused 1 "not attached" "policy detach refuses what is not attached" iamctl policy detach QaLogin --user bob
iamctl policy detach QaLogin --group operators >/dev/null
iamctl policy detach QaLogin --role deployer >/dev/null
expect_out 0 "policy QaLogin deleted" "policy del" iamctl policy del QaLogin
refused 1 "no such policy" "policy del refuses an unknown policy" iamctl policy del QaLogin

# ---- passwd ----
refused 1 "Password rejected: it must have at least 14 characters" \
	"passwd refuses a short password" sh -c 'echo "Sh0rt!" | iamctl passwd bob --stdin'
refused 1 "Password rejected: it must contain a symbol" \
	"passwd refuses a password without a symbol" sh -c 'echo "Abcdefghijk12345" | iamctl passwd bob --stdin'
refused 1 "Password rejected: it must not contain the user name" \
	"passwd refuses a password containing the name" sh -c 'echo "xx-BoB-Builder-99" | iamctl passwd bob --stdin'
refused 1 "no such user" "passwd refuses an unknown user" sh -c 'echo "Val1d-Passw0rd-Here" | iamctl passwd nosuch --stdin'
refused 2 "not a terminal" "passwd without --stdin needs a terminal" sh -c 'echo x | iamctl passwd bob'
expect_out 0 "password of bob changed" "passwd --stdin" sh -c 'echo "Correct-Horse-9-Battery" | iamctl passwd bob --stdin'
expect_out 0 'password: +set, changed [0-9-]+T[0-9:]+Z$' "the change is recorded" iamctl user show bob
expect 0 "the new password is in the published snapshot (pamtester-free check via credential file)" \
	test -f "$CR/70002.json"
refused 1 "not be one of the last 5 passwords" "passwd refuses a reused password" \
	sh -c 'echo "Correct-Horse-9-Battery" | iamctl passwd bob --stdin'
refused 1 "bob cannot change a password at the next login" \
	"passwd --must-change refuses a user without iam:ChangePassword" \
	sh -c 'echo "Another-Horse-8-Battery" | iamctl passwd bob --stdin --must-change'
expect_out 0 "must be changed at the next login" "passwd --must-change --force" \
	sh -c 'echo "Another-Horse-8-Battery" | iamctl passwd bob --stdin --must-change --force'
expect_out 0 'must change at next login' "user show says must change" iamctl user show bob
if grep -q 'Another-Horse' "$CR/70002.json" "$ID"; then bad "a password was stored in clear"
else ok "no password is stored in clear"; fi

# ---- mfa ----
refused 1 "the code is not right" "mfa enable refuses a wrong code" \
	sh -c 'echo 000000 | iamctl mfa enable bob --no-qr'
refused 2 "no code read" "mfa enable without a code changes nothing" \
	sh -c 'iamctl mfa enable bob --no-qr </dev/null'
out=$(enrol bob); rc=$?
if [ $rc = 0 ] && grep -q "MFA device of bob enabled" <<<"$out"; then ok "mfa enable with the right code"
else bad "mfa enable with the right code (rc=$rc)"; fi
show "$out"
grep -q '^otpauth://totp/acme-prod:bob?secret=[A-Z2-7]\{32\}&issuer=acme-prod' <<<"$out" &&
	ok "mfa enable prints the otpauth URI with a 160-bit secret" || bad "otpauth URI"
expect_out 0 'mfa: +enabled \(SHA1, 6 digits\)' "user show says mfa enabled" iamctl user show bob
refused 1 "already has an MFA device" "mfa enable refuses a second device" \
	sh -c 'echo 000000 | iamctl mfa enable bob --no-qr'
expect_out 0 "MFA device of bob removed" "mfa disable" iamctl mfa disable bob
expect_out 0 'mfa: +not enabled' "user show says mfa not enabled" iamctl user show bob
refused 1 "no such user" "mfa disable refuses an unknown user" iamctl mfa disable nosuch
out=$(iamctl mfa enable carol </dev/null 2>&1)
grep -q "already has an MFA device" <<<"$out" && ok "mfa enable for an enrolled user refuses" || bad "carol"
out=$(iamctl mfa enable frank </dev/null 2>&1)
grep -q $'\u2588' <<<"$out" && ok "mfa enable draws a QR code without --no-qr" || bad "no QR code drawn"

# ---- credential-report ----
expect_out 0 '^user,arn,user_creation_time,password_enabled,password_last_changed,password_next_rotation,mfa_active,ssh_key_1_active,ssh_key_1_last_rotated,ssh_key_2_active,ssh_key_2_last_rotated,last_login,locked,groups,policies,mfa_devices,recovery_codes_left$' \
	"credential-report header" iamctl credential-report
grep -q '^alice,arn:iam:iam::123456789012:user/alice,2026-09-01T09:00:00Z,true,2026-10-01T12:00:00Z,2026-12-30T12:00:00Z,true,true,2026-09-01T09:00:00Z,false,N/A,no_information,false,developers;admins,DevHostAccess,1,0$' <<<"$LAST_OUT" &&
	ok "credential-report row of alice" || bad "credential-report row of alice"

# ---- edit ----
cat > "$W/ed-gecos.sh" <<'S'
#!/bin/sh
sed -i 's/"Bob Builder"/"Bob the Builder"/' "$1"
S
cat > "$W/ed-break.sh" <<'S'
#!/bin/sh
sed -i 's/"uid": 70002/"uid": 12/' "$1"
S
cat > "$W/ed-race.sh" <<'S'
#!/bin/sh
sed -i 's/"Bob the Builder"/"Bob Edited"/' "$1"
sed -i 's/"Alice Liddell"/"Alice Underneath"/' /etc/iam/identity.json
S
chmod 755 "$W"/ed-*.sh
expect_out 0 "identity file edited" "edit publishes a valid change" env EDITOR="$W/ed-gecos.sh" iamctl edit
expect_out 0 "Bob the Builder" "the edit is published" getent passwd bob
refused 1 "users\[1\].uid: 12 is outside" "edit refuses an invalid result and shows the fault" \
	env EDITOR="$W/ed-break.sh" iamctl edit
expect_out 0 "no changes" "edit without a change" env EDITOR=true iamctl edit
before=$(snap)
expect_out 1 "changed underneath" "edit refuses when the file changed underneath" \
	env EDITOR="$W/ed-race.sh" iamctl edit
if grep -q "Alice Underneath" "$ID" && ! grep -q "Bob Edited" "$ID"; then
	ok "the change underneath is kept, the edit is not applied"
else bad "edit overwrote a change made underneath"; fi
expect_out 0 "Bob the Builder" "the published snapshot is untouched" getent passwd bob
expect 1 "edit: a failing editor changes nothing" env EDITOR=false iamctl edit
ls -d /etc/iam/.iamctl-edit.* /tmp/iamctl-edit.* 2>/dev/null | has . &&
	bad "edit left its private folder" || ok "edit removes its private folder"
# The copy lives beside the identity file (root's alone, not /tmp); a
# live edit's folder is no leftover, a killed edit's is, and the next
# publication removes it.
cat > "$W/ed-look.sh" <<'S'
#!/bin/sh
d=$(dirname "$1")
case $d in /etc/iam/.iamctl-edit.*) ;; *) exit 1 ;; esac
[ "$(stat -c %a:%U "$d")" = 700:root ] || exit 1
iamctl doctor 2>&1 | grep 'iamctl-edit' >/dev/null && exit 1
exit 0
S
cat > "$W/ed-kill.sh" <<'S'
#!/bin/sh
p=$PPID
while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != iamctl ]; do p=$(cut -d' ' -f4 /proc/$p/stat); done
kill -KILL "$p"
S
chmod 755 "$W/ed-look.sh" "$W/ed-kill.sh"
expect_out 0 "no changes" "a live edit's private copy is root 0700 beside the identity file, and no leftover" \
	env EDITOR="$W/ed-look.sh" timeout 20 iamctl edit
env EDITOR="$W/ed-kill.sh" iamctl edit >/dev/null 2>&1
ls -d /etc/iam/.iamctl-edit.* 2>/dev/null | has . && ok "a killed edit leaves its folder" ||
	bad "the editor did not kill the edit"
expect_out 0 "interrupted iamctl edit" "doctor names the folder of a killed edit" sh -c 'iamctl doctor 2>&1; true'
iamctl sync >/dev/null
ls -d /etc/iam/.iamctl-edit.* 2>/dev/null | has . && bad "the next sync left a killed edit's copy" ||
	ok "the next sync removes a killed edit's copy"

# ---- the trail ----
n=$(grep -c '"eventName":"IdentityCommit"' /var/log/iam/trail.jsonl)
[ "$n" -ge 20 ] && ok "every change wrote an IdentityCommit ($n)" || bad "IdentityCommit events: $n"
grep '"eventName":"IdentityCommit"' /var/log/iam/trail.jsonl | has '"userName":"root".*"change":"user erin added' &&
	ok "IdentityCommit names the administrator and the change" || bad "IdentityCommit content"
grep -q '"eventName":"EnableMFA"' /var/log/iam/trail.jsonl && ok "EnableMFA in the trail" || bad "EnableMFA missing"
grep -q '"eventName":"DisableMFA"' /var/log/iam/trail.jsonl && ok "DisableMFA in the trail" || bad "DisableMFA missing"
grep -q '"errorCode":"PasswordPolicy"' /var/log/iam/trail.jsonl && ok "a refused password is in the trail" || bad "PasswordPolicy missing"
if grep -Eq 'Correct-Horse|\$y\$|\$6\$' /var/log/iam/trail.jsonl; then bad "the trail holds a secret"
else ok "the trail holds no password and no hash"; fi

# ---- secrets in freed memory ----
# An edit writes the whole document again, the file's initial hashes
# with it: yajl's buffers that held them are wiped before they are freed
# or moved.  A free() and realloc() that look for a marker say so.
cat > "$W/scan.c" <<'SCAN'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
static int marked(void *p)
{
	return p != NULL && memmem(p, malloc_usable_size(p), "QQMARKQQ", 8);
}
void free(void *p)
{
	static void (*real)(void *);
	if (real == NULL)
		real = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	if (marked(p))
		(void)write(2, "FREED-WITH-MARKER\n", 18);
	real(p);
}
void *realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);
	void *q;
	if (real == NULL)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	int had = marked(p);
	q = real(p, n);
	if (had && q != p)
		(void)write(2, "MOVED-WITH-MARKER\n", 18);
	return q;
}
SCAN
if cc -shared -fPIC -o "$W/scan.so" "$W/scan.c" -ldl 2>/dev/null; then
	sed 's|"hash": "$y$j9T$HVaMC32.DAF9NYetHa2Ej0\$|"hash": "$y$j9T$QQMARKQQHVaMC32.DAF9NY$|' \
		"$TOP/etc/identity.example.json" > "$W/marked.json"
	grep -q QQMARKQQ "$W/marked.json" || bad "the marker is in the file"
	use_identity "$W/marked.json" >/dev/null
	out=$(LD_PRELOAD="$W/scan.so" iamctl user disable carol 2>&1)
	if grep -q 'carol disabled' <<<"$out" && ! grep -q MARKER <<<"$out"; then
		ok "an edit leaves no hash of the file in freed memory"
	else
		bad "an edit leaves no hash of the file in freed memory"
	fi
	show "$out"
else
	bad "no C compiler for the scanner of freed blocks"
fi
rm -rf "$W"
