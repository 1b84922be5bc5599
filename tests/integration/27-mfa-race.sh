# 27-mfa-race.sh - two "iamctl mfa enable" of one user's default device at
# once: the one that reaches the store's lock second (its code was asked
# while the other committed) refuses and changes nothing; the device the
# first enabled stays, and the trail has one EnableMFA.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null || bad "publish the identity"
W=$(mktemp -d)
TRAIL=/var/log/iam/trail.jsonl
expect_out 0 "user mona added" "user add mona" iamctl user add mona

# enable_wait N: "iamctl mfa enable mona" waiting for its code on fd 6+N
enable_wait() {
	rm -f "$W/code$1"; mkfifo "$W/code$1"
	iamctl mfa enable mona --no-qr <"$W/code$1" >"$W/out$1" 2>&1 &
	eval "PID$1=\$!"
	eval "exec $((6 + $1))>\"\$W/code$1\""
	for _ in $(seq 100); do grep -q '^otpauth://' "$W/out$1" && break; sleep 0.1; done
	eval "SEC$1=\$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' \"\$W/out$1\")"
}
answer() {	# answer N [WHEN]: answer with the right code, wait
	local s; eval "s=\$SEC$1"
	oathtool --totp -b -N "${2:-now}" "$s" >&$((6 + $1)) 2>/dev/null
	eval "exec $((6 + $1))>&-"
	eval "wait \$PID$1"
}
enable_wait 1
enable_wait 2
answer 2; rc2=$?
# The next step's code (within the window): not a replay of the first's.
answer 1 "$(date -d '+30 sec')"; rc1=$?
[ "$rc2" = 0 ] && grep -q "MFA device of mona enabled" "$W/out2" && ok "the first to commit enables the default device" ||
	{ bad "second enable rc=$rc2"; show "$(cat "$W/out2")"; }
[ "$rc1" != 0 ] && ! grep -q "MFA device of mona enabled" "$W/out1" && ok "the later one refuses: the device was enabled meanwhile" ||
	{ bad "the later enable replaced the device (rc=$rc1)"; show "$(cat "$W/out1")"; }
uid=$(id -u mona)
grep -q "$SEC2" /var/lib/iam/credentials/"$uid".json && ! grep -q "$SEC1" /var/lib/iam/credentials/"$uid".json &&
	ok "the stored secret is the first commit's" || bad "stored secret is not the first commit's"
n=$(grep '"eventName":"EnableMFA"' "$TRAIL" | grep -vc '"errorCode"')
[ "$n" = 1 ] && ok "one EnableMFA in the trail" || bad "$n EnableMFA events without an error"
rm -rf "$W"
