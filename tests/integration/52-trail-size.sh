# 52-trail-size.sh - no sudo decision is missing from the trail or its
# syslog copy whatever the size of its arguments: a command line of
# 300 KB, of a denied or an allowed command, is one SudoRun record under
# 64 KiB with the long field cut to 4 KiB and marked "truncated": true;
# when the trail file cannot be written the syslog copy still goes out.
#
# Real sudo (NOPASSWD, PAM permit) so what is tested is the plugin's own
# event; /dev/log is a socket of this namespace only.
TRAIL=/var/log/iam/trail.jsonl
ACCT=123456789012
CMD_ARN="arn:iam:sudo::$ACCT:host/web1/command"
SYSLOG=$T/syslog.txt

# ---- syslog: a /dev/log of this namespace only (as in 20-pam-auth.sh) ------
start_syslog() {
	local m
	mkdir -p "$T/dev/up" "$T/dev/work" "$T/dev/mnt"
	mount -t overlay overlay \
		-o "lowerdir=/dev,upperdir=$T/dev/up,workdir=$T/dev/work" "$T/dev/mnt"
	for m in pts shm mqueue; do
		mountpoint -q "/dev/$m" && mount --bind "/dev/$m" "$T/dev/mnt/$m"
	done
	mount --move "$T/dev/mnt" /dev
	rm -f /dev/log
	/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind("/dev/log"); os.chmod("/dev/log", 0o666)
f = open(sys.argv[1], "ab", 0)
while True:
	f.write(s.recv(1 << 20).rstrip(b"\0\n") + b"\n")
' "$SYSLOG" &
	SYSLOG_PID=$!
	for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done
}
SYSLOG_PID=
cleanup_test() {
	[ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
	return 0
}
start_syslog

cat > "$T/identity.json" <<EOF
{
  "account": { "id": "$ACCT" },
  "groups": [ { "name": "engineers", "gid": 70100 } ],
  "users": [
    { "name": "bob", "uid": 70002, "primary_group": "engineers",
      "policies": ["TrueOnly"] }
  ],
  "policies": {
    "TrueOnly": { "Version": "2012-10-17", "Statement": [
      { "Sid": "TrueAsRoot", "Effect": "Allow", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/true" },
      { "Sid": "NeverEcho", "Effect": "Deny", "Action": "sudo:Run",
        "Resource": "$CMD_ARN/usr/bin/echo" } ] }
  }
}
EOF
cat > /etc/iam/iam.conf <<EOF
hostname = "web1";
EOF
chmod 0644 /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
if use_identity "$T/identity.json" >"$T/sync.out" 2>&1; then ok "identity published"
else bad "iamctl sync"; show "$(cat "$T/sync.out")"; fi
cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf unknown_user=deny
EOF
chmod 0644 /etc/sudo.conf
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never
bob ALL=(ALL:ALL) NOPASSWD: ALL
EOF
chmod 0440 /etc/sudoers.d/iam
cat > /etc/pam.d/sudo <<EOF
auth     required   pam_permit.so
account  required   pam_permit.so
session  required   pam_permit.so
EOF

as() {	# as USER COMMAND...
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env HOME=/ USER="$u" LOGNAME="$u" PATH=/usr/bin:/bin "$@"
}
# 3000 arguments of 100 bytes: a 300 KB command line; MARK names the run.
big_args() {	# big_args MARK
	local a i
	a=$(printf '%099d' 0)
	for i in $(seq 3000); do printf '%s\n' "$1$a"; done
}
record() {	# record MARK: the trail line of the run MARK
	grep -F "\"command\":\"" "$TRAIL" 2>/dev/null | grep -F "$1" | tail -1
}
check_record() {	# check_record LINE DESCRIPTION PREFIX SUDO_RC
	local line=$1 d=$2 len
	len=${#line}
	if [ -z "$line" ]; then bad "$d: no SudoRun record"; return; fi
	grep -q '"eventName":"SudoRun"' <<<"$line" && grep -q '"userName":"bob"' <<<"$line" \
		&& ok "$d: a SudoRun record of bob" || bad "$d: $line"
	[ "$len" -lt 65536 ] && ok "$d: the record is $len bytes, under 64 KiB" || bad "$d: $len bytes"
	grep -q '"truncated":true' <<<"$line" && ok "$d: marked \"truncated\": true" || bad "$d: not marked"
	python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
c = r["requestParameters"]["command"]
assert len(c.encode()) <= 4096, len(c)
assert c.startswith(sys.argv[1]), c[:80]
' "$3" <<<"$line" && ok "$d: valid JSON, the command cut to 4 KiB" || bad "$d: command field"
	# The record tells what sudo did: run (no errorCode) or refused.
	if [ "$4" = 0 ]; then
		grep -q '"errorCode"' <<<"$line" && bad "$d: has an errorCode" || ok "$d: no errorCode (ran)"
	else
		grep -Eq '"errorCode":"(AccessDenied|Unavailable)"' <<<"$line" \
			&& ok "$d: the refusal's errorCode" || bad "$d: errorCode"
	fi
}

# Today a command line over the policy engine's 4096-byte context value
# cannot be decided: sudo refuses it (IAM unavailable), allowed or not.
# Whatever sudo did, the record is there and says it.
echo "== a sudo of a denied command with a 300 KB argument list"
mapfile -t ARGS < <(big_args DENYMARK)
out=$(as bob sudo -n /usr/bin/echo "${ARGS[@]}" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -Eq '^sudo: (IAM unavailable; refused|denied by IAM policy)' <<<"$out" \
	&& ok "denied: sudo refuses /usr/bin/echo" || bad "denied (rc=$rc): ${out:0:200}"
check_record "$(record DENYMARK)" "denied" "/usr/bin/echo DENYMARK" 1
grep -F 'SudoRun' "$SYSLOG" | has -F DENYMARK && ok "denied: the syslog copy is there" \
	|| bad "denied: no syslog copy"

echo "== a sudo of an allowed command with a 300 KB argument list"
mapfile -t ARGS < <(big_args ALLOWMARK)
as bob sudo -n /usr/bin/true "${ARGS[@]}" >/dev/null 2>&1; rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] && ok "allowed command, 300 KB of arguments: sudo exits $rc" \
	|| bad "allowed: rc=$rc"
check_record "$(record ALLOWMARK)" "allowed" "/usr/bin/true ALLOWMARK" "$rc"
grep -F 'SudoRun' "$SYSLOG" | has -F ALLOWMARK && ok "allowed: the syslog copy is there" \
	|| bad "allowed: no syslog copy"

echo "== control: an allowed command line just under 4 KiB"
mapfile -t ARGS < <(big_args OKMARK | head -38)
expect 0 "sudo runs /usr/bin/true with 3.8 KB of arguments" as bob sudo -n /usr/bin/true "${ARGS[@]}"
line=$(record OKMARK)
grep -q '"errorCode"' <<<"$line" && bad "control: $line" || ok "control: allowed, no errorCode"
grep -q '"truncated"' <<<"$line" && bad "control: marked truncated" || ok "control: not marked"
grep -qF "${ARGS[37]}\"" <<<"$line" && ok "control: the command is whole" || bad "control: ${line:0:300}"

echo "== the trail file cannot be written: the syslog copy still goes out"
mv "$TRAIL" "$T/trail.saved"
ln -s "$T/trail.saved" "$TRAIL"
mapfile -t ARGS < <(big_args LOSTMARK)
out=$(as bob sudo -n /usr/bin/echo "${ARGS[@]}" 2>&1); rc=$?
[ "$rc" = 1 ] && ok "denied while the trail is a symbolic link" || bad "rc=$rc: ${out:0:200}"
grep -qF LOSTMARK "$T/trail.saved" && bad "the symbolic link was followed" \
	|| ok "the link was not followed"
line=$(grep -F 'SudoRun' "$SYSLOG" | grep -F LOSTMARK | tail -1)
[ -n "$line" ] && grep -q '"truncated":true' <<<"$line" && grep -Eq '"errorCode":"(AccessDenied|Unavailable)"' <<<"$line" \
	&& ok "syslog: the refused SudoRun, cut and marked" || bad "syslog: ${line:0:300}"
grep -q 'cannot write the trail' "$SYSLOG" && ok "syslog: the failed trail write is told" \
	|| bad "syslog: no word of the failed write"
rm -f "$TRAIL"
mv "$T/trail.saved" "$TRAIL"
