# 45-publish-faults.sh - publishing is one transaction: every mutating
# iamctl command, killed or failed (EIO, ENOSPC) at each of its writes,
# renames, fsyncs, unlinks, links and mkdirs, leaves the readers on the
# whole old set or the whole new set; a refusal changes nothing, exit 0
# changes everything; the next sync leaves nothing behind (the harness:
# lib-faults.sh).  46-publish-crash.sh has the rest of the bad day.
. "$TOP/tests/integration/lib-faults.sh"
mkdir -p -m 0755 /var/lib/iam
W=$T/w; mkdir -p "$W"
fault_fixture || bad "the fixture does not publish"
v=$(fault_view)
grep -q "login alice:$FX_PW_A: 0" <<<"$v" && grep -q "login bob:$FX_PW_B: [^0]" <<<"$v" &&
	grep -q "keys alice: ssh-ed25519" <<<"$v" && grep -q '^pw carol: carol:' <<<"$v" &&
	ok "the fixture is served: alice logs in, bob is disabled, keys and NSS answer" ||
	{ bad "the fixture is not served as written"; show "$v"; }

# ---- each command, killed and failed at each named call ----------------------------
printf '%s\n' '{ "Version": "2012-10-17", "Statement": [
  { "Effect": "Deny", "Action": "host:Login", "Resource": "*" } ] }' > "$W/deny.json"
mfa_enable() {	# the code read from the URI it prints, as an administrator would
	local secret
	rm -f "$W/code"; mkfifo "$W/code"
	fault_exec iamctl mfa enable carol --no-qr <"$W/code" >"$W/mfa.out" 2>&1 &
	local pid=$!
	exec 7>"$W/code"
	for _ in $(seq 100); do
		grep -q '^otpauth://' "$W/mfa.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	secret=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$W/mfa.out")
	[ -n "$secret" ] && oathtool --totp -b "$secret" >&7 2>/dev/null
	exec 7>&-
	wait "$pid"
}
passwd_alice() { printf '%s\n' "$FX_PW_NEW" | fault_exec iamctl passwd alice --stdin; }
hand_edit() { fault_identity "Mark edited" > /etc/iam/identity.json; }
run() { fault_exec iamctl "$@"; }
S=$FAULT_SYSCALLS

fault_sweep "user add" "$S" KILL : -- run user add dave --primary-group team --gecos Dave
fault_sweep "user add" "$S" EIO : -- run user add dave --primary-group team --gecos Dave
fault_sweep "user add" write ENOSPC : -- run user add dave --primary-group team --gecos Dave
fault_sweep "user disable" "$S" EIO : -- run user disable alice
fault_sweep "user enable" "$S" KILL : -- run user enable bob
fault_sweep "user enable" "$S" EIO : -- run user enable bob
fault_sweep "user del" "$S" KILL : -- run user del carol
fault_sweep "user del" "$S" EIO : -- run user del carol
fault_sweep "group add" "$S" KILL : -- run group add ops
fault_sweep "group del" "$S" EIO : -- run group del spare
fault_sweep "group add-user" "$S" KILL : -- run group add-user spare alice
fault_sweep "group remove-user" "$S" EIO : -- run group remove-user team carol
fault_sweep "policy put" "$S" KILL : -- run policy put Login "$W/deny.json"
fault_sweep "policy attach" "$S" EIO : -- run policy attach Login --user mark
fault_sweep "policy detach" "$S" KILL : -- run policy detach Login --group team
fault_sweep "passwd" "$S" KILL : -- passwd_alice
fault_sweep "passwd" "$S" EIO : -- passwd_alice
fault_sweep "mfa enable" "$S" KILL : -- mfa_enable
fault_sweep "ssh-key add" "$S" EIO : -- run ssh-key add mark "$FAULT_DIR/keys/k2.pub"
fault_sweep "ssh-key deactivate" "$S" KILL : -- run ssh-key deactivate alice k1
fault_sweep "ssh-key deactivate" "$S" EIO : -- run ssh-key deactivate alice k1
fault_sweep "ssh-key del" "$S" KILL : -- run ssh-key del alice k1
FAULT_NO_EVENT=1 FAULT_SOURCE_AHEAD=1 fault_sweep "sync of a hand edit" "$S" KILL hand_edit -- run sync
FAULT_NO_EVENT=1 FAULT_SOURCE_AHEAD=1 fault_sweep "sync of a hand edit" "$S" EIO hand_edit -- run sync
# Two commands at every call of any kind.
fault_sweep "user disable (every call)" all KILL : -- run user disable alice
fault_sweep "passwd (every call)" all EIO : -- passwd_alice
echo "fault runs: $FAULT_RUNS"
