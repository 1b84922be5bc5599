# 28-pam-locked-timing.sh - a refusal that checks nothing (a locked IAM
# user) takes the work of an unknown name's check (the dummy hash), so
# its time, even with nodelay, does not tell an IAM user from a name IAM
# does not know.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null || bad "publish the identity"
expect_out 0 "user mona added" "user add mona" iamctl user add mona
expect_out 0 "password of mona changed" "passwd" sh -c "echo 'Timing-Good-Pass-77' | iamctl passwd mona --stdin"
cat > /etc/pam.d/iamtime <<'S'
auth required pam_iam.so nodelay
S
try() { printf 'wrong\n000000\n' | pamtester iamtime "$1" authenticate >/dev/null 2>&1; }
# the fastest of 5 tries, in microseconds
fastest() {
	local best= t0 t
	for _ in 1 2 3 4 5; do
		t0=${EPOCHREALTIME/./}; try "$1"; t=$(( ${EPOCHREALTIME/./} - t0 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}
for _ in 1 2 3 4 5 6; do try mona; done	# 5 failures lock mona
grep -q '"errorCode":"AccountLocked"' /var/log/iam/trail.jsonl && ok "mona is locked" || bad "mona not locked"
tl=$(fastest mona); tu=$(fastest nosuchname)
echo "locked ${tl}us, unknown ${tu}us"
[ $((tl * 2)) -ge "$tu" ] && ok "a locked user's refusal takes an unknown name's time" ||
	bad "a locked user's refusal is fast (${tl}us against ${tu}us): it tells an IAM user apart"
