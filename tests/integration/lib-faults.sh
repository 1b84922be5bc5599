# lib-faults.sh - fault injection into iamctl, for integration tests.
#
# Source it from a test (after harness.sh set up the namespace).  A test
# describes what the readers serve through fault_view (NSS through
# nss_iam, pam_iam through pamtester, keys.db through iamctl ssh-keys,
# and the generation), saves a starting state, and then sweeps a
# command: for k = 1, 2, ... it restores the start, runs the command
# under strace with a fault injected at the k-th call of each of the
# given system calls (a SIGKILL, or an error), and checks
#
#   - the readers serve the whole old set or the whole new set (the two
#     views are taken once, without faults), never a mix;
#   - an exit 0 means the new set, a refusal (exit != 0) the old one, and
#     a kill either, but never a new set the identity file does not hold;
#   - after the next iamctl sync the readers agree with the identity file
#     and nothing of the interrupted run is left (temporaries, unfinished
#     generations);
#
# until the command runs through without reaching its k-th call.
#
# Variables a test sets:
#   FAULT_NAMES    names for getent passwd and iamctl ssh-keys
#   FAULT_GROUPS   names for getent group
#   FAULT_LOGINS   "user:password" pairs tried with pamtester (service
#                  iamfault: auth and account through pam_iam only)
#   FAULT_NO_EVENT set for a command that writes no trail event (sync)
#   FAULT_SOURCE_AHEAD set when the identity file holds the change before
#                  the command runs (sync of a hand edit): a refusal then
#                  leaves it there for the next sync
# Functions:
#   fault_pam_service          write /etc/pam.d/iamfault
#   fault_save NAME            keep identity file, credentials, state
#   fault_restore NAME         put them back and publish them
#   fault_view                 what the readers serve now (text)
#   fault_leftovers            leftovers of interrupted runs (text, "" none)
#   fault_sweep DESC SET MODE PREP -- CMD...
#                              the sweep above; SET is an strace syscall
#                              list ("rename,write,..." or "all"), MODE
#                              KILL, EIO or ENOSPC, PREP a function run
#                              after each restore (or :).  CMD may be a
#                              shell function that calls fault_exec.
#   fault_exec CMD...          run CMD under the current injection
FAULT_SYSCALLS=rename,renameat,renameat2,write,fsync,unlink,unlinkat,linkat,symlink,symlinkat,mkdir,mkdirat
FAULT_DIR=${FAULT_DIR:-$T/faults}
FAULT_NAMES=${FAULT_NAMES:-}
FAULT_GROUPS=${FAULT_GROUPS:-}
FAULT_LOGINS=${FAULT_LOGINS:-}
FAULT_RUNS=0
FAULT_PREFIX=()
mkdir -p "$FAULT_DIR"

fault_pam_service() {
	# nodelay: a wrong password is asked after every fault; the 2 s of
	# pam_fail_delay each time are not what this test measures.
	printf '%s\n' 'auth required pam_iam.so nodelay' 'account required pam_iam.so' \
		> /etc/pam.d/iamfault
}

fault_save() {	# fault_save NAME
	local d=$FAULT_DIR/$1
	rm -rf "$d"; mkdir -p "$d"
	cp -a /etc/iam/identity.json "$d/identity.json"
	cp -a /var/lib/iam/credentials "$d/credentials"
	cp -a /var/lib/iam/state "$d/state" 2>/dev/null || mkdir -p "$d/state"
}

fault_restore() {	# fault_restore NAME
	local d=$FAULT_DIR/$1
	cp -a "$d/identity.json" /etc/iam/identity.json
	rm -rf /var/lib/iam/credentials /var/lib/iam/state
	cp -a "$d/credentials" /var/lib/iam/credentials
	cp -a "$d/state" /var/lib/iam/state
	iamctl sync >/dev/null 2>&1 || echo "fault_restore: sync failed" >&2
}

fault_view() {
	local n g l gen
	for n in $FAULT_NAMES; do
		echo "pw $n: $(getent passwd "$n")"
		echo "keys $n: $(iamctl ssh-keys "$n" 2>&1 | tr '\n' ' ')"
	done
	for g in $FAULT_GROUPS; do
		echo "gr $g: $(getent group "$g")"
	done
	# The logins side by side (each is a process of its own).
	n=0
	for l in $FAULT_LOGINS; do
		n=$((n + 1))
		{
			printf '%s\n' "${l#*:}" | pamtester iamfault "${l%%:*}" \
				authenticate acct_mgmt >/dev/null 2>&1
			echo "login $l: $?" > "$FAULT_DIR/login.$n"
		} &
	done
	wait
	for l in $(seq "$n"); do cat "$FAULT_DIR/login.$l"; done
	# The generation: the link, its generation file and nss.db agree.
	gen=$(readlink /var/lib/iam/current)
	[ "$gen" = "gen/$(cat /var/lib/iam/generation 2>/dev/null)" ] ||
		echo "generation: link $gen, file $(cat /var/lib/iam/generation 2>&1)"
}

fault_leftovers() {
	local gens
	find /var/lib/iam /etc/iam -maxdepth 2 -name '.*.[0-9a-f]*' \
		\( -name '.current.*' -o -name '.nss.db.*' -o -name '.keys.db.*' \
		-o -name '.generation.*' -o -name '.auth.db.*' -o -name '.roles.db.*' \
		-o -name '.identity.json.*' -o -name '.[0-9]*.json.*' \) 2>/dev/null
	gens=$(ls /var/lib/iam/gen 2>/dev/null | wc -l)
	[ "$gens" -le 2 ] || echo "gen/: $gens generations: $(ls /var/lib/iam/gen | tr '\n' ' ')"
}

# fault_exec CMD...: the command, under the injection of the sweep.
fault_exec() {
	"${FAULT_PREFIX[@]}" "$@"
}

# One run at k; sets FAULT_RC and FAULT_HOW (none, killed, injected).
fault_once() {	# fault_once SET MODE K CMD...
	local set=$1 mode=$2 k=$3 what
	shift 3
	case $mode in
	KILL) what="signal=KILL" ;;
	*) what="error=$mode" ;;
	esac
	FAULT_PREFIX=(strace -f -qq -o "$FAULT_DIR/strace.out"
		-e "trace=$set" -e "inject=$set:$what:when=$k")
	"$@" >"$FAULT_DIR/cmd.out" 2>&1
	FAULT_RC=$?
	FAULT_PREFIX=()
	if grep -q 'killed by SIGKILL' "$FAULT_DIR/strace.out"; then
		FAULT_HOW=killed
	elif grep -q '(INJECTED)' "$FAULT_DIR/strace.out"; then
		FAULT_HOW=injected
	else
		FAULT_HOW=none
	fi
	FAULT_RUNS=$((FAULT_RUNS + 1))
}

# fault_sweep DESC SET MODE PREP -- CMD...
fault_sweep() {
	local desc=$1 set=$2 mode=$3 prep=$4 k=0 vold vnew vnow vsync left
	local fails=0 trail_before
	shift 5
	fault_save sweep-start
	vold=$(fault_view)
	$prep
	"$@" >"$FAULT_DIR/cmd.out" 2>&1 || {
		bad "$desc: the command fails without a fault: $(head -c 300 "$FAULT_DIR/cmd.out")"
		return
	}
	vnew=$(fault_view)
	if [ "$vnew" = "$vold" ]; then
		bad "$desc: the command changes nothing the readers see"
		return
	fi
	while :; do
		k=$((k + 1))
		fault_restore sweep-start
		$prep
		trail_before=$(wc -l < /var/log/iam/trail.jsonl 2>/dev/null || echo 0)
		fault_once "$set" "$mode" "$k" "$@"
		vnow=$(fault_view)
		if ! iamctl sync >/dev/null 2>"$FAULT_DIR/sync.err"; then
			fails=$((fails + 1))
			bad "$desc k=$k: the next sync fails: $(head -c 300 "$FAULT_DIR/sync.err")"
		fi
		vsync=$(fault_view)
		left=$(fault_leftovers)
		if [ -n "$left" ]; then
			fails=$((fails + 1))
			bad "$desc k=$k ($FAULT_HOW, rc $FAULT_RC): left after the next sync: $left"
		fi
		if [ "$vnow" != "$vold" ] && [ "$vnow" != "$vnew" ]; then
			fails=$((fails + 1))
			bad "$desc k=$k ($FAULT_HOW, rc $FAULT_RC): a mixed set served"
			diff <(echo "$vold") <(echo "$vnow") | head -20
			diff <(echo "$vnew") <(echo "$vnow") | head -20
		elif [ "$FAULT_HOW" = killed ]; then
			if [ "$vnow" = "$vnew" ] && [ "$vsync" = "$vold" ]; then
				fails=$((fails + 1))
				bad "$desc k=$k (killed): served a change the identity file lacks"
			fi
		elif [ "$FAULT_RC" = 0 ]; then
			if [ "$vnow" != "$vnew" ] || [ "$vsync" != "$vnew" ]; then
				fails=$((fails + 1))
				bad "$desc k=$k ($FAULT_HOW): exit 0 but the change is not live"
			elif [ -z "${FAULT_NO_EVENT:-}" ] &&
			     [ "$(wc -l < /var/log/iam/trail.jsonl)" -le "$trail_before" ]; then
				fails=$((fails + 1))
				bad "$desc k=$k ($FAULT_HOW): exit 0 without an event"
			fi
		else
			if [ "$vnow" != "$vold" ] || { [ "$vsync" != "$vold" ] &&
			     [ -z "${FAULT_SOURCE_AHEAD:-}" ]; }; then
				fails=$((fails + 1))
				bad "$desc k=$k ($FAULT_HOW, rc $FAULT_RC): refused but changed"
				diff <(echo "$vold") <(echo "$vnow") | head -10
			fi
		fi
		[ "$FAULT_HOW" = none ] && break
		if [ "$k" -ge 400 ]; then
			bad "$desc: still injecting at k=$k"
			break
		fi
		[ "$fails" -ge 5 ] && break
	done
	fault_restore sweep-start
	[ "$fails" = 0 ] && ok "$desc: $mode at each of $((k - 1)) calls: old or new set, never a mix; no leftovers"
}

# ---- a fixture: four users, groups, a login policy, keys -----------------
#
# fault_fixture: install and publish it (sha512crypt hashes, so that a
# pamtester login costs milliseconds), write the PAM service, and set
# FAULT_NAMES, FAULT_GROUPS and FAULT_LOGINS for it.  alice (team, key
# k1) logs in; bob is disabled; carol (own group, in team); mark (own
# group, key k3 whose comment is mark's gecos, no login policy).
FX_PW_A=Alice-pass-1 FX_PW_B=Bob-pass-1 FX_PW_C=Carol-pass-1
FX_PW_M=Mark-pass-1 FX_PW_NEW=Fresh-Pass-2026x

# fault_identity [MARK-GECOS [MARK-HASH]]: the fixture's identity file.
fault_identity() {
	jq -n --arg ha "$FX_HA" --arg hb "$FX_HB" --arg hc "$FX_HC" \
		--arg hm "${2:-$FX_HM}" --arg k1 "$FX_K1" --arg k3 "$FX_K3" \
		--arg mg "${1:-Mark}" '
	{ account: { id: "123456789012" },
	  password_policy: { minimum_length: 8, reuse_prevention: 1,
		lockout: { max_failed_attempts: 1000, lockout_seconds: 1 } },
	  users: [
	    { name: "alice", uid: 70001, primary_group: "team", gecos: "Alice",
	      password: { hash: $ha }, groups: ["team"],
	      ssh_keys: [ { id: "k1", key: $k1, status: "Active",
			    created: "2026-12-01T00:00:00Z" } ] },
	    { name: "bob", uid: 70002, primary_group: "team", gecos: "Bob",
	      password: { hash: $hb }, disabled: true },
	    { name: "carol", uid: 70003, primary_group: "carol", gecos: "Carol",
	      password: { hash: $hc }, groups: ["team"] },
	    { name: "mark", uid: 70004, primary_group: "mark", gecos: $mg,
	      password: { hash: $hm },
	      ssh_keys: [ { id: "m", key: ($k3 | sub(" k3$"; " " + ($mg | gsub(" "; "-")))),
			    status: "Active", created: "2026-12-01T00:00:00Z" } ] } ],
	  groups: [ { name: "team", gid: 80001, policies: ["Login"] },
		    { name: "spare", gid: 80002 },
		    { name: "carol", gid: 70003 }, { name: "mark", gid: 70004 } ],
	  policies: { Login: { Version: "2012-10-17", Statement: [
		{ Effect: "Allow", Action: "host:Login", Resource: "*" } ] } } }'
}

fault_fixture() {
	local k
	mkdir -p "$FAULT_DIR/keys"
	for k in k1 k2 k3; do
		[ -f "$FAULT_DIR/keys/$k" ] ||
			ssh-keygen -q -t ed25519 -N '' -C $k -f "$FAULT_DIR/keys/$k"
	done
	FX_K1=$(cat "$FAULT_DIR/keys/k1.pub") FX_K3=$(cat "$FAULT_DIR/keys/k3.pub")
	FX_HA=$(openssl passwd -6 "$FX_PW_A") FX_HB=$(openssl passwd -6 "$FX_PW_B")
	FX_HC=$(openssl passwd -6 "$FX_PW_C") FX_HM=$(openssl passwd -6 "$FX_PW_M")
	grep -q '^hash_method' /etc/iam/iam.conf ||
		printf 'hash_method = "sha512crypt";\n' >> /etc/iam/iam.conf
	fault_identity > "$FAULT_DIR/identity.json"
	install -m 0600 -o root -g root "$FAULT_DIR/identity.json" /etc/iam/identity.json
	iamctl sync >/dev/null || return 1
	fault_pam_service
	FAULT_NAMES="alice bob carol dave mark"
	FAULT_GROUPS="team spare ops"
	FAULT_LOGINS="alice:$FX_PW_A alice:$FX_PW_NEW bob:$FX_PW_B carol:$FX_PW_C mark:$FX_PW_M"
	fault_save fixture
}
