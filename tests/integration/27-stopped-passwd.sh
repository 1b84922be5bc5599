# 27-stopped-passwd.sh - a user cannot hold up the credential store by
# stopping (SIGSTOP) or killing the setuid passwd whose pam_iam commits
# the change: the section under the store's lock runs in a child that is
# root entirely, which the user can neither stop nor kill, so iamctl
# changes go on and the password change is whole (old or new, never
# torn).  A lock held for good (a stopped root process) costs every
# writer the bound (30 s) and a refusal naming the holder's pid: iamctl
# and passwd fail with the message, never hang; a local user's passwd
# is not concerned.  The real passwd, through the project's PAM stack;
# the holder is slowed down with strace's delay injection on rename, so
# it holds the lock long enough to be caught.
ACCT=123456789012
OLD='Old-Passw0rd!x'
NEW='Brand-new-Pass1!'
NEWER='Even-newer-Pass2!'
TRAIL=/var/log/iam/trail.jsonl
LOCK=/var/lib/iam/credentials/.lock
W=$T/w; mkdir -p "$W"; chmod 755 "$W"
HASH=$(openssl passwd -6 "$OLD")
cat > "$T/identity.json" <<EOF
{ "account": { "id": "$ACCT" },
  "password_policy": { "minimum_length": 8, "reuse_prevention": 1,
    "lockout": { "max_failed_attempts": 1000, "lockout_seconds": 1 } },
  "groups": [ { "name": "iamstaff", "gid": 70100 } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "iamstaff",
      "policies": ["ChangeOwn"], "password": { "hash": "$HASH" } },
    { "name": "bob", "uid": 70002, "primary_group": "iamstaff",
      "policies": ["LoginAll"], "password": { "hash": "$HASH" } } ],
  "policies": {
    "LoginAll": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "host:Login", "Resource": "*" } ] },
    "ChangeOwn": { "Version": "2012-10-17", "Statement": [
      { "Effect": "Allow", "Action": "iam:ChangePassword",
        "Resource": "arn:iam:iam::$ACCT:user/\${aws:username}" } ] } } }
EOF
mkdir -p -m 0755 /var/lib/iam
use_identity "$T/identity.json" >/dev/null || bad "publish the identity"
for f in common-auth common-account common-session-iam common-password passwd su; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
printf 'auth required pam_iam.so nodelay\n' > /etc/pam.d/iamcheck
works() { printf '%s\n' "$1" | timeout 20 pamtester iamcheck alice authenticate >/dev/null 2>&1; }
as_alice() { setpriv --reuid=70001 --regid=70100 --clear-groups "$@"; }
# The pid holding the store's lock now (the kernel's table), or "".
holder() {
	local ino
	ino=$(stat -c %i "$LOCK" 2>/dev/null) || return 0
	awk -v ino=":$ino" '$2 == "FLOCK" && substr($6, length($6) - length(ino) + 1) == ino { print $5 }' /proc/locks | head -1
}
# wait_holder: until someone holds the lock (10 s at most); sets H.
wait_holder() {
	H=
	for _ in $(seq 200); do
		H=$(holder)
		[ -n "$H" ] && return 0
		sleep 0.05
	done
	return 1
}
# The record is whole: valid JSON with exactly one of the two passwords.
whole() {	# whole A B: A works xor B works, and the record parses
	local a=0 b=0
	jq -e . /var/lib/iam/credentials/70001.json >/dev/null 2>&1 || return 1
	works "$1" && a=1
	works "$2" && b=1
	[ $((a + b)) = 1 ]
}
# slow CMD...: CMD in the background under strace, every rename (each
# write of a commit) held 1 s; its pid in P, strace's in S.
slow() {
	rm -f "$W/pid"
	strace -f -qq -o "$W/strace.out" -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:delay_enter=1000000 \
		sh -c 'echo $$ > "$0"; exec "$@"' "$W/pid" "$@" \
		< "$W/in" > "$W/out" 2>&1 &
	S=$!
	for _ in $(seq 100); do [ -s "$W/pid" ] && break; sleep 0.05; done
	P=$(cat "$W/pid")
}
# passwd_slow CURRENT NEW: alice's passwd in the background, every rename
# (each write of the commit) held 1 s by strace; its pid in P, strace's
# in S.
passwd_slow() {
	printf '%s\n%s\n%s\n' "$1" "$2" "$2" > "$W/in"
	slow setpriv --reuid=70001 --regid=70100 --clear-groups /usr/bin/passwd
}

# ---- passwd stopped by its user while its change holds the lock --------------
works "$OLD" && ok "alice's password is the one of the identity file" || bad "alice cannot log in"
passwd_slow "$OLD" "$NEW"
if wait_holder; then
	[ "$H" != "$P" ] && ok "the lock is held by a process of its own ($H), not passwd ($P)" ||
		bad "passwd ($P) holds the store's lock itself"
	as_alice kill -STOP "$P" && ok "alice stops her passwd (SIGSTOP)" || bad "alice cannot stop her passwd"
	out=$(as_alice kill -STOP "$H" 2>&1) &&
		bad "alice stopped the holder of the store's lock" ||
		ok "alice cannot stop the holder of the store's lock: $out"
	start=$EPOCHREALTIME
	out=$(timeout -k 5 40 iamctl user add zed 2>&1); rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
	[ $rc = 0 ] && [ "$secs" -lt 30 ] && ok "iamctl user add completes while passwd is stopped (${secs}s)" ||
		{ bad "iamctl user add with passwd stopped: rc=$rc after ${secs}s (124: it hung)"; show "$out"; }
	# T, or t (a stop seen by strace)
	grep -q '^[Tt]$' <<<"$(awk '{ print $3 }' "/proc/$P/stat" 2>/dev/null)" && ok "passwd is still stopped meanwhile" ||
		bad "passwd is not stopped"
	whole "$NEW" "$OLD" && works "$NEW" && ok "the change was made whole while passwd was stopped" ||
		bad "the record is torn or the change missing"
	kill -CONT "$P"
else
	bad "nobody ever held the store's lock"
fi
wait "$S"; rc=$?
[ $rc = 0 ] && ok "passwd ends well once continued" || { bad "passwd rc=$rc"; show "$(cat "$W/out")"; }
works "$NEW" && ! works "$OLD" && ok "the new password works, the old one not" ||
	bad "the password is not the new one"
grep -q '"eventName":"ChangePassword".*"userName":"alice"' "$TRAIL" &&
	ok "the change is in the trail" || bad "no ChangePassword event"
getent passwd zed >/dev/null && ok "zed was added meanwhile" || bad "zed missing"

# ---- passwd killed by its user while its change holds the lock ---------------
passwd_slow "$NEW" "$NEWER"
if wait_holder; then
	as_alice kill -KILL "$P" && ok "alice kills her passwd" || bad "alice cannot kill her passwd"
	out=$(as_alice kill -KILL "$H" 2>&1) && bad "alice killed the holder" || ok "alice cannot kill the holder"
	out=$(timeout -k 5 40 iamctl user add zoe 2>&1); rc=$?
	[ $rc = 0 ] && ok "iamctl user add completes after passwd was killed" ||
		{ bad "iamctl user add: rc=$rc"; show "$out"; }
else
	bad "nobody ever held the store's lock"
fi
wait "$S"
whole "$NEWER" "$NEW" && ok "the change is whole: one password works, the record parses" ||
	bad "the record is torn after passwd was killed"
[ -z "$(holder)" ] && ok "nothing holds the lock afterwards" || bad "the lock is still held by $(holder)"
CUR=$NEW; works "$NEWER" && CUR=$NEWER

# ---- su stopped by its user while the login's re-hash holds the lock ----------
# bob's sha512crypt hash is re-hashed with hash_method (yescrypt) at his
# first login, a commit like passwd's.
useradd -M -s /bin/sh localu 2>/dev/null; echo 'localu:Local-Pass-1x' | chpasswd
printf '%s\n000000\n' "$OLD" > "$W/in"
slow setpriv --reuid="$(id -u localu)" --regid="$(id -g localu)" --clear-groups su bob -c true
if wait_holder; then
	as_local() { setpriv --reuid="$(id -u localu)" --regid="$(id -g localu)" --clear-groups "$@"; }
	as_local kill -STOP "$P" && ok "the user stops su during bob's re-hash" || bad "cannot stop su"
	out=$(as_local kill -STOP "$H" 2>&1) && bad "the user stopped the re-hash's holder" ||
		ok "the user cannot stop the holder of the re-hash"
	out=$(timeout -k 5 40 iamctl user add zia 2>&1); rc=$?
	[ $rc = 0 ] && ok "iamctl user add completes while su is stopped" ||
		{ bad "iamctl user add with su stopped: rc=$rc (124: it hung)"; show "$out"; }
	kill -CONT "$P"
else
	bad "the login's re-hash never held the store's lock"
fi
wait "$S"; rc=$?
[ $rc = 0 ] && ok "su ends well once continued" || { bad "su rc=$rc"; show "$(cat "$W/out")"; }
jq -r .password.hash /var/lib/iam/credentials/70002.json 2>/dev/null | has '^\$y\$' &&
	ok "bob's password was re-hashed with yescrypt" || bad "bob's hash was not re-hashed"
printf '%s\n' "$OLD" | timeout 20 pamtester iamcheck bob authenticate >/dev/null 2>&1 &&
	ok "bob logs in with his password after the re-hash" || bad "bob cannot log in after the re-hash"

# ---- a lock held for good: the bound, the message, nothing hangs --------------
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print("held", flush=True); time.sleep(300)' "$LOCK" > "$W/held" &
HOLD=$!
for _ in $(seq 100); do grep -q held "$W/held" 2>/dev/null && break; sleep 0.05; done
kill -STOP "$HOLD"
start=$EPOCHREALTIME
( timeout -k 5 60 iamctl user add zack > "$W/add.out" 2>&1; echo $? > "$W/add.rc" ) & J1=$!
( timeout -k 5 60 iamctl sync > "$W/sync.out" 2>&1; echo $? > "$W/sync.rc" ) & J2=$!
( echo 'Admin-Set-Pass-9!' | timeout -k 5 60 iamctl passwd alice --stdin > "$W/ipw.out" 2>&1
  echo $? > "$W/ipw.rc" ) & J4=$!
( printf '%s\n%s\n%s\n' "$CUR" 'Third-Pass-2026!' 'Third-Pass-2026!' |
	timeout -k 5 60 setpriv --reuid=70001 --regid=70100 --clear-groups /usr/bin/passwd > "$W/pw.out" 2>&1
  echo $? > "$W/pw.rc" ) & J3=$!
# A local user's passwd is none of pam_iam's business: not held up.
out=$(printf '%s\n%s\n%s\n' 'Local-Pass-1x' 'Quite-Other-77#' 'Quite-Other-77#' |
	timeout 20 setpriv --reuid="$(id -u localu)" --regid="$(id -g localu)" --clear-groups /usr/bin/passwd 2>&1); rc=$?
lsecs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
[ $rc = 0 ] && [ "$lsecs" -lt 10 ] && ok "a local user's passwd is not held up (${lsecs}s)" ||
	{ bad "local passwd rc=$rc after ${lsecs}s"; show "$out"; }
wait "$J1" "$J2" "$J3" "$J4"
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
kill -CONT "$HOLD"; kill "$HOLD"; wait "$HOLD" 2>/dev/null
msg="the credential store is locked by another change (pid $HOLD)"
[ "$(cat "$W/add.rc")" = 1 ] && grep -qF "$msg" "$W/add.out" &&
	ok "iamctl user add fails after the bound, naming the holder" ||
	{ bad "iamctl user add rc=$(cat "$W/add.rc")"; show "$(cat "$W/add.out")"; }
[ "$(cat "$W/sync.rc")" = 1 ] && grep -qF "$msg" "$W/sync.out" &&
	ok "iamctl sync fails after the bound, naming the holder" ||
	{ bad "iamctl sync rc=$(cat "$W/sync.rc")"; show "$(cat "$W/sync.out")"; }
[ "$(cat "$W/ipw.rc")" = 1 ] && grep -qF "$msg" "$W/ipw.out" &&
	ok "iamctl passwd fails after the bound, naming the holder" ||
	{ bad "iamctl passwd rc=$(cat "$W/ipw.rc")"; show "$(cat "$W/ipw.out")"; }
rc=$(cat "$W/pw.rc")
[ "$rc" != 0 ] && [ "$rc" != 124 ] &&
	grep -qF "Password change failed: $msg; try again later." "$W/pw.out" &&
	ok "alice's passwd fails after the bound with the message (rc=$rc)" ||
	{ bad "alice's passwd rc=$rc"; show "$(cat "$W/pw.out")"; }
[ "$secs" -ge 29 ] && [ "$secs" -lt 45 ] && ok "each gave up after the bound (${secs}s in all)" ||
	bad "gave up after ${secs}s, not the 30 s bound"
grep '"eventName":"ChangePassword"' "$TRAIL" | grep '"Unavailable"' | has 'locked by another change' &&
	ok "the refused change is in the trail with its reason" || bad "no refused ChangePassword event"
works "$CUR" && ok "alice's password is unchanged" || bad "alice's password changed"
getent passwd zack >/dev/null && bad "zack was added" || ok "zack was not added"
expect_out 0 "user zack added" "once the holder is gone, iamctl user add works" iamctl user add zack
rm -f /etc/pam.d/iamcheck
