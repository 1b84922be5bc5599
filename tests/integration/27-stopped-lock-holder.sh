# 27-stopped-lock-holder.sh - a lock holder that never lets go (a su,
# sudo or passwd its user stopped with SIGSTOP while pam_iam held a lock;
# here a process holding the same flock) costs a bounded wait: a user's
# state lock refuses that user's login, the trail's lock lets the line
# go out unlocked; nothing hangs.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null || bad "publish the identity"
expect_out 0 "user mona added" "user add mona" iamctl user add mona
PW='Stopped-Holder-Pass-7'
expect_out 0 "password of mona changed" "passwd" sh -c "echo '$PW' | iamctl passwd mona --stdin"
printf 'auth required pam_iam.so nodelay\n' > /etc/pam.d/iamlock
login() { printf '%s\n000000\n' "$1" | timeout 30 pamtester iamlock mona authenticate >/dev/null 2>&1; }
# hold FILE: an exclusive flock on FILE until killed (one process: the
# kill releases it)
hold() {
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print("held", flush=True); time.sleep(120)' "$1" > "$W/held" &
	HOLD=$!
	for _ in $(seq 100); do grep -q held "$W/held" 2>/dev/null && break; sleep 0.05; done
}
W=$(mktemp -d)
login wrong	# mona's state file now exists
UID_M=$(id -u mona)
SF=$(ls -d /var/lib/iam/state/"$UID_M"* 2>/dev/null | head -1)
[ -n "$SF" ] && ok "mona's state file is $SF" || bad "no state file for mona"
iamctl unlock mona >/dev/null 2>&1

# a holder of mona's state lock that never lets go
hold "$SF"
login "$PW"; rc=$?
[ $rc != 124 ] && [ $rc != 0 ] && ok "state lock held: mona's login is refused after a bounded wait (rc=$rc)" ||
	bad "state lock held: rc=$rc (124: it hung; 0: let in without counting)"
kill $HOLD; wait $HOLD 2>/dev/null
login "$PW" && ok "lock released: mona logs in" || bad "mona cannot log in after the holder is gone"

# a holder of the trail's lock that never lets go: after a bounded wait
# the line goes out unlocked (O_APPEND keeps it whole), nothing is lost
T=/var/log/iam/trail.jsonl
n0=$(grep -c '"eventName":"Login"' "$T")
hold "$T"
login "$PW"; rc=$?
[ $rc = 0 ] && ok "trail lock held: mona's login completes after a bounded wait" ||
	bad "trail lock held: rc=$rc (124: it hung)"
[ "$(grep -c '"eventName":"Login"' "$T")" -gt "$n0" ] && tail -1 "$T" | has '"eventName":"Login"' &&
	ok "its event is in the trail, whole" || bad "the event is missing or torn"
kill $HOLD; wait $HOLD 2>/dev/null
rm -rf /etc/pam.d/iamlock "$W"
