# 21-pam-failures.sh - pam_iam authentication when the IAM files are not
# what they should be, with pamtester: a broken hand edit of the identity
# file (refused by the publisher; logins go on with the last good
# snapshot); the private snapshot missing, a symlink, writable by others,
# truncated, corrupt; the state folder missing, a file, a symlink, open to
# others, read-only, full; a planted symlink for a user's state file; the
# trail unusable.  Each time an IAM login is refused with the code of
# DESIGN.md's table (PAM_AUTHINFO_UNAVAIL, seen through a service that
# stacks pam_iam alone), the recommended stack grants nothing, the syslog
# and the trail say why, and a local user still logs in through pam_unix.
# Also: 20 concurrent wrong passwords are all counted.
ACCT=123456789012
PW='Correct-Horse-9!x'
LOCALPW='Local-Only-Pass1!'
TRAIL=/var/log/iam/trail.jsonl
SYSLOG=$T/syslog.txt
AUTH=/var/lib/iam/current/auth	# the generation served; auth links to it
STATE=/var/lib/iam/state
UNAVAIL='Authentication service cannot retrieve authentication info'

# ---- syslog: a /dev/log of this namespace only (see 20-pam-auth.sh) ---------
SYSLOG_PID=
cleanup_test() {
	[ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
	umount "$STATE" 2>/dev/null
	return 0
}
mkdir -p "$T/dev/up" "$T/dev/work" "$T/dev/mnt"
mount -t overlay overlay -o "lowerdir=/dev,upperdir=$T/dev/up,workdir=$T/dev/work" \
	"$T/dev/mnt"
for m in pts shm mqueue; do
	mountpoint -q "/dev/$m" && mount --bind "/dev/$m" "$T/dev/mnt/$m"
done
mount --move "$T/dev/mnt" /dev
rm -f /dev/log
/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log"); os.chmod("/dev/log", 0o666)
f = open(sys.argv[1], "ab", 0)
while True:
	f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$SYSLOG" &
SYSLOG_PID=$!
for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done

# ---- identity, stacks, a local user ---------------------------------------------
HASH=$(openssl passwd -6 "$PW")
cat > "$T/identity.json" <<EOF
{ "account": { "id": "$ACCT" },
  "password_policy": { "minimum_length": 14,
    "lockout": { "max_failed_attempts": 100, "lockout_seconds": 900 } },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
      "password": { "hash": "$HASH" } },
    { "name": "bob", "uid": 70002, "primary_group": "iamstaff",
      "password": { "hash": "$HASH" } } ] }
EOF
mkdir -p -m 0755 /var/lib/iam
expect_out 0 published "the identity publishes" use_identity "$T/identity.json"
for f in login common-auth common-account common-password common-session-iam; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
# pam_iam alone, so its own result code shows.
echo 'auth required pam_iam.so' > /etc/pam.d/iamonly
echo 'localops:x:1500:1500:Local Ops:/tmp:/bin/bash' >> /etc/passwd
echo 'localops:x:1500:' >> /etc/group
echo 'localops:*:20000:0:99999:7:::' >> /etc/shadow
printf 'localops:%s\n' "$LOCALPW" | chpasswd

auth() {	# auth SERVICE USER ANSWER...: and an answer to the code prompt
	local svc=$1 user=$2
	shift 2
	printf '%s\n' "$@" 000000 | pamtester -v "$svc" "$user" authenticate
}
mark() { MARK=$(wc -l < "$SYSLOG"); TMARK=$(wc -l < "$TRAIL" 2>/dev/null || echo 0); }
syslog_since() { tail -n +"$((MARK + 1))" "$SYSLOG"; }
trail_since() { tail -n +"$((TMARK + 1))" "$TRAIL" 2>/dev/null; }
# refused CASE SYSLOG-REGEX: alice refused with PAM_AUTHINFO_UNAVAIL and
# the reason logged, nothing granted by the recommended stack, the local
# user unaffected.
refused() {
	local c=$1 re=$2
	mark
	expect_out 1 "$UNAVAIL" "$c: pam_iam answers PAM_AUTHINFO_UNAVAIL" \
		auth iamonly alice "$PW"
	expect_out 1 'Authentication failure' \
		"$c: the recommended stack grants alice nothing" \
		auth login alice "$PW"
	if grep -Eq -- "$re" <(syslog_since); then ok "$c: syslog says why"
	else bad "$c: syslog lacks /$re/"; show "$(syslog_since)"; fi
	if trail_since | has '"errorCode":"Unavailable"'; then
		ok "$c: the trail records Unavailable"
	else bad "$c: no Unavailable event"; fi
	local_login "$c"
}
# A local name gets pam_iam's prompts while IAM answers (an unknown name
# gets those of a user with a device): the code line is left empty.
local_login() {	# local_login CASE
	expect_out 0 'successfully authenticated' \
		"$1: localops still logs in through pam_unix" \
		auth login localops "$LOCALPW" ''
}
works() {	# works CASE
	expect_out 0 'successfully authenticated' "$1: alice logs in" \
		auth login alice "$PW"
}

works "baseline"
local_login "baseline"

# ---- a broken hand edit of the identity file -----------------------------------------
cp /etc/iam/identity.json "$T/good.json"
gen=$(sha256sum "$AUTH/auth.db")
sed -i 's/"users": \[/"users": [ {"name": /' /etc/iam/identity.json
expect 1 "hand edit with a JSON syntax error: sync refused" iamctl sync
sed 's/"uid": 70002/"uid": 70001/' "$T/good.json" > /etc/iam/identity.json
expect_out 1 'duplicate|70001' "hand edit with a duplicate uid: sync refused" iamctl sync
[ "$(sha256sum "$AUTH/auth.db")" = "$gen" ] &&
	ok "the published snapshot is unchanged" || bad "the snapshot changed"
works "after the broken edits"
install -m 0600 "$T/good.json" /etc/iam/identity.json

# ---- the private snapshot ----------------------------------------------------------------
mv "$AUTH" "$AUTH.saved"
refused "snapshot missing" 'IAM unavailable'
mv "$AUTH.saved" "$AUTH"
works "snapshot restored"

mv "$AUTH/auth.db" "$T/auth.db.real"
ln -s "$T/auth.db.real" "$AUTH/auth.db"
refused "auth.db a symlink" 'IAM unavailable'
rm "$AUTH/auth.db"
mv "$T/auth.db.real" "$AUTH/auth.db"

mv "$AUTH" "$AUTH.real"
ln -s "$AUTH.real" "$AUTH"
refused "auth folder a symlink" 'IAM unavailable'
rm "$AUTH"
mv "$AUTH.real" "$AUTH"

chmod 0666 "$AUTH/auth.db"
refused "auth.db writable by others" 'IAM unavailable'
chmod 0600 "$AUTH/auth.db"
chmod 0777 "$AUTH"
refused "auth folder writable by others" 'IAM unavailable'
chmod 0700 "$AUTH"
chown 1500 "$AUTH/auth.db"
refused "auth.db owned by a user" 'IAM unavailable'
chown 0 "$AUTH/auth.db"
works "snapshot modes restored"

cp -p "$AUTH/auth.db" "$T/auth.db.good"
size=$(stat -c %s "$AUTH/auth.db")
truncate -s $((size / 2)) "$AUTH/auth.db"
refused "auth.db truncated to half" 'IAM unavailable'
truncate -s 0 "$AUTH/auth.db"
refused "auth.db empty" 'IAM unavailable'
cp -p "$T/auth.db.good" "$AUTH/auth.db"
# One byte of the last record (bob's) flipped: its checksum fails.
printf '\xff' | dd of="$AUTH/auth.db" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
mark
expect_out 1 "$UNAVAIL" "auth.db with bob's record damaged: PAM_AUTHINFO_UNAVAIL" \
	auth iamonly bob "$PW"
expect 1 "auth.db with bob's record damaged: nothing granted" auth login bob "$PW"
syslog_since | has 'IAM unavailable: the private snapshot is corrupt' &&
	ok "the corrupt record is logged" || bad "corrupt record not logged"
works "the other records are checked on their own"
cp -p "$T/auth.db.good" "$AUTH/auth.db"
works "snapshot repaired"

# ---- the state folder --------------------------------------------------------------
mv "$STATE" "$STATE.saved"
refused "state folder missing" 'unusable'
[ -e "$STATE" ] && bad "pam_iam created the state folder" ||
	ok "pam_iam did not create the state folder"
touch "$STATE"
refused "a file in the state folder's place" 'unusable'
rm "$STATE"
ln -s "$STATE.saved" "$STATE"
refused "state folder a symlink" 'unusable'
rm "$STATE"
mv "$STATE.saved" "$STATE"
chmod 0777 "$STATE"
refused "state folder writable by others" 'unusable'
chmod 0700 "$STATE"
mount --bind -o ro "$STATE" "$STATE" && mount -o remount,bind,ro "$STATE"
refused "state folder read-only" 'unusable'
umount "$STATE"
works "state folder restored"

# A full disk: the state file cannot be created or written.
mv "$STATE" "$STATE.saved"
mkdir -m 0700 "$STATE"
mount -t tmpfs -o size=8k,nr_inodes=3,mode=0700 tmpfs "$STATE"
dd if=/dev/zero of="$STATE/fill" bs=4k count=4 2>/dev/null
touch "$STATE/fill2" 2>/dev/null
refused "state folder full" 'unusable'
umount "$STATE"
rmdir "$STATE"
mv "$STATE.saved" "$STATE"

# A planted symlink where bob's state file goes is refused, not followed.
rm -f "$STATE/70002"
cp -p /etc/shadow "$T/shadow.before"
ln -s /etc/shadow "$STATE/70002"
mark
expect_out 1 "$UNAVAIL" "a symlink as bob's state file: refused" \
	auth iamonly bob "$PW"
expect 1 "a symlink as bob's state file: nothing granted" auth login bob "$PW"
cmp -s /etc/shadow "$T/shadow.before" && ok "the symlink's target is untouched" ||
	bad "/etc/shadow changed"
syslog_since | has 'state of bob.*unusable' && ok "the planted symlink is logged" ||
	bad "planted symlink not logged"
rm "$STATE/70002"
install -m 0644 /dev/null "$STATE/70002"
expect 1 "bob's state file readable by others: nothing granted" \
	auth iamonly bob "$PW"
rm "$STATE/70002"
expect_out 0 'successfully authenticated' "bob's state recreated: bob logs in" \
	auth login bob "$PW"
[ "$(stat -c '%U %a' "$STATE/70002")" = "root 600" ] &&
	ok "the state file is root 0600" || bad "state file $(stat -c '%U %a' "$STATE/70002")"

# ---- the trail --------------------------------------------------------------------------
mv "$TRAIL" "$T/trail.saved"
ln -s /etc/passwd "$TRAIL"
cp -p /etc/passwd "$T/passwd.before"
expect_out 1 "$UNAVAIL" "trail a symlink (trail_required): the success is refused" \
	auth iamonly alice "$PW"
cmp -s /etc/passwd "$T/passwd.before" && ok "the trail's symlink target is untouched" ||
	bad "/etc/passwd changed"
rm "$TRAIL"
mv "$T/trail.saved" "$TRAIL"
works "trail restored"

# ---- 20 concurrent wrong passwords, limit 100 ---------------------------------------------
pids=()
for i in $(seq 20); do
	auth login alice "Wrong-Guess-$i!" >/dev/null 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
n=$(awk '{ print $2 }' "$STATE/70001")
[ "$n" = 20 ] && ok "20 concurrent failures: the counter shows 20" ||
	bad "20 concurrent failures: the counter shows $n"
n=$(grep -c '"userName":"alice".*"errorCode":"InvalidPassword"' "$TRAIL")
[ "$n" -ge 20 ] && ok "every failure is in the trail" || bad "trail has $n failures"
