# 90-fleet.sh - one signed identity for many hosts through a real
# 3-member etcd cluster on 127.0.0.1 (free ports, data under $T, every
# process stopped by its pid) and 21 iam-agents, each with its own state
# root: the namespace's own host (h00, whose snapshots NSS reads) and
# h01..h20 (whose published files are checked directly).
#
# push and converge; a member killed under a push; two killed (hosts
# serve, converge after restart); forgeries and a rollback written with
# etcdctl; a manifest by an unknown key; two concurrent pushes; a revoked
# host.  Prints push -> applied-on-all latency (p50, p99) and bytes.
for c in etcd etcdctl; do
	command -v $c >/dev/null || { bad "$c is missing (apt-get install etcd-server etcd-client)"; finish; }
done
export ETCDCTL_API=3
# the daemon as installed (/usr/sbin may not be overlaid: call it by path)
AGENT=$ROOT/usr/sbin/iam-agent
NH=20
ACCT=123456789012
BASE=/iam/$ACCT
declare -a PID APID
C=() P=()
for i in 0 1 2; do C[$i]=$(free_port); P[$i]=$(free_port); done
CLUSTER="m0=http://127.0.0.1:${P[0]},m1=http://127.0.0.1:${P[1]},m2=http://127.0.0.1:${P[2]}"
EP="http://127.0.0.1:${C[0]},http://127.0.0.1:${C[1]},http://127.0.0.1:${C[2]}"
EPS="\"http://127.0.0.1:${C[0]}\", \"http://127.0.0.1:${C[1]}\", \"http://127.0.0.1:${C[2]}\""
E() { etcdctl --endpoints="$EP" --command-timeout=5s "$@"; }

member() {	# member I: start etcd member I (again)
	etcd --name "m$1" --data-dir "$T/etcd/m$1" \
		--listen-client-urls "http://127.0.0.1:${C[$1]}" \
		--advertise-client-urls "http://127.0.0.1:${C[$1]}" \
		--listen-peer-urls "http://127.0.0.1:${P[$1]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${P[$1]}" \
		--initial-cluster "$CLUSTER" --initial-cluster-state new \
		--heartbeat-interval 50 --election-timeout 500 \
		>>"$T/etcd/m$1.log" 2>&1 &
	PID[$1]=$!
}
stop_member() { kill "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; PID[$1]=; }
cleanup_test() {
	for p in "${APID[@]}" "${PID[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}

# ---- the cluster ------------------------------------------------------------
mkdir -p -m 0700 "$T/etcd"
for i in 0 1 2; do member $i; done
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
expect 0 "a 3-member etcd cluster on free ports is healthy" E endpoint health

# ---- configurations: admin, stranger, hosts -----------------------------------
conf() {	# conf DIR HOSTNAME: an iam.conf whose every path is under DIR
	local d=$1
	mkdir -p -m 0755 "$d" "$d/etc" "$d/var"
	mkdir -p -m 0700 "$d/log"
	cat > "$d/etc/iam.conf" <<EOF
identity_file = "$d/etc/identity.json";
credentials_dir = "$d/var/credentials";
state_dir = "$d/var/state";
run_dir = "$d/run";
trail_file = "$d/log/trail.jsonl";
snapshot_dir = "$d/var";
hostname = "$2";
fleet = {
  endpoints = [ $EPS ];
  account = "$ACCT";
  admin_key = "$d/etc/admin.key";
  trusted_keys = "$d/etc/trusted-keys";
  host_key = "$d/etc/host.key";
  fleet_key = "$d/etc/fleet.key";
  state_dir = "$d/var/fleet";
};
EOF
	chmod 0644 "$d/etc/iam.conf"
}
conf "$T/admin" admin
conf "$T/stranger" stranger
ADM="iamctl --config $T/admin/etc/iam.conf"
HOSTS=(h00)
for n in $(seq -w 1 $NH); do HOSTS+=("h$n"); conf "$T/h/h$n" "h$n"; done
# h00 is this namespace's host: /etc/iam/iam.conf, /var/lib/iam (NSS).
cat >> /etc/iam/iam.conf <<EOF
hostname = "h00";
fleet = { endpoints = [ $EPS ]; account = "$ACCT"; };
EOF
mkdir -p -m 0755 /var/lib/iam
hdir() { [ "$1" = h00 ] && echo / || echo "$T/h/$1"; }
applied() { [ "$1" = h00 ] && echo /var/lib/iam/fleet/applied || echo "$T/h/$1/var/fleet/applied"; }
trailof() { [ "$1" = h00 ] && echo /var/log/iam/trail.jsonl || echo "$T/h/$1/log/trail.jsonl"; }
# the published nss.db under a snapshot folder (current/ when generations
# are folders of their own)
snapdb() { if [ -e "$1/current/nss.db" ]; then echo "$1/current/nss.db"; else echo "$1/nss.db"; fi; }

# identity FILE NUSERS GECOS: account, groups, alice, bob and NUSERS more
identity() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, n, gecos = sys.argv[1], int(sys.argv[2]), sys.argv[3]
users = [{"name": "alice", "uid": 70001, "primary_group": "dev", "gecos": gecos,
          "policies": ["Login", "ChangeOwn"],
          "password": {"hash": open(path + ".hash").read().strip()}},
         {"name": "bob", "uid": 70002, "primary_group": "dev"}]
users += [{"name": "u%05d" % i, "uid": 71000 + i, "primary_group": "dev"} for i in range(n)]
doc = {"account": {"id": "123456789012"}, "users": users,
       "groups": [{"name": "dev", "gid": 70001}],
       "policies": {"Login": {"Version": "2012-10-17", "Statement": [
           {"Effect": "Allow", "Action": "host:Login", "Resource": "*"}]},
       "ChangeOwn": {"Version": "2012-10-17", "Statement": [
           {"Effect": "Allow", "Action": "iam:ChangePassword",
            "Resource": "arn:iam:iam::123456789012:user/${aws:username}"}]}}}
open(path, "w").write(json.dumps(doc))
EOF
	chmod 0600 "$1"
}
PW0='Initial-Pw-0'
for d in admin admin2 stranger; do openssl passwd -6 "$PW0" > "$T/$d/etc/identity.json.hash" 2>/dev/null; done
mkdir -p "$T/admin2/etc"; openssl passwd -6 "$PW0" > "$T/admin2/etc/identity.json.hash"
identity "$T/admin/etc/identity.json" 1100 "Alice v1"

# ---- keys and enrolment ------------------------------------------------------
mkdir -p -m 0700 "$T/enroll"
expect_out 0 "administrator key [0-9a-f]{16}" "administrator key" $ADM fleet init
expect_out 1 "exists" "a second init does not replace the key" $ADM fleet init
for h in "${HOSTS[@]}"; do
	d=$(hdir "$h")/etc/iam; [ "$h" != h00 ] && d=$T/h/$h/etc
	$ADM fleet enroll-host "$h" --out "$T/enroll/$h" >/dev/null 2>&1 || bad "enroll $h"
	cp "$T/enroll/$h/host.key" "$T/enroll/$h/fleet.key" "$d/"
	rm -rf "$d/trusted-keys"; cp -r "$T/enroll/$h/trusted-keys" "$d/"
done
m=$(stat -c '%a %U' "$T/enroll/h01/host.key" "$T/enroll/h01/fleet.key" "$T/enroll/h01" | sort -u | tr '\n' ' ')
[ "$m" = "600 root 700 root " ] && ok "enroll-host writes host.key, fleet.key root 0600" || bad "enroll-host modes: $m"
expect 0 "21 hosts enrolled (signed host records)" sh -c "[ \$(etcdctl --endpoints=$EP get --prefix --keys-only $BASE/hosts/ | grep -c hosts/) = 21 ]"

# ---- first push: 1102 users (more than one page of a range), several transactions --------------------------------
expect_out 0 "generation 1 .*written.* in [0-9]+ transaction" \
	"push publishes the validated identity (in batches)" $ADM fleet push

# wait_gen G SECONDS [LABEL]: every host applied G.  With a label, the
# latencies from the time written into $T/t0 (just before a push) to each
# host's applied file are printed: p50, p99, max.
wait_gen() {
	local files=() h
	for h in "${HOSTS[@]}"; do files+=("$(applied "$h")"); done
	python3 - "$1" "$2" "${3:-}" "$T/t0" "${files[@]}" <<'EOF'
import os, sys, time
gen, limit, label, t0f = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
files = sys.argv[5:]
want = "generation %s\n" % gen
seen = {}
end = time.time() + limit
while not os.path.exists(t0f) and time.time() < end:
    time.sleep(0.002)
while len(seen) < len(files) and time.time() < end:
    for f in files:
        if f in seen:
            continue
        try:
            if open(f).read().startswith(want):
                seen[f] = time.time()
        except OSError:
            pass
    time.sleep(0.003)
t0 = float(open(t0f).read())
lat = sorted(v - t0 for v in seen.values())
if label and lat:
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("%s: %d/%d hosts, p50 %.3f s, p99 %.3f s, max %.3f s" % (label, len(lat), len(files), p(0.5), p(0.99), lat[-1]))
sys.exit(0 if len(seen) == len(files) else 1)
EOF
}
# timed_push G LABEL: push with a watcher started first; prints latencies
timed_push() {
	local w
	rm -f "$T/t0"
	wait_gen "$1" 30 "$2" >"$T/lat" 2>&1 & w=$!
	sleep 0.3
	date +%s.%N >"$T/t0"
	PUSH_OUT=$($ADM fleet push 2>&1) || { bad "push $1: $PUSH_OUT"; }
	wait $w && ok "$2: every host applied generation $1" || bad "$2: not every host applied generation $1"
	show "$(cat "$T/lat")"
	LAT="$LAT
$(cat "$T/lat")"
}
LAT=
date +%s.%N >"$T/t0"
for h in "${HOSTS[@]}"; do
	cfg=$T/h/$h/etc/iam.conf; [ "$h" = h00 ] && cfg=/etc/iam/iam.conf
	"$AGENT" --config "$cfg" 2>>"$T/agent-$h.log" &
	APID+=($!)
done

expect 0 "21 agents converge on generation 1" wait_gen 1 20 "initial sync"
expect_out 0 '^alice:\*:70001' "NSS on h00 answers from the applied generation" getent passwd alice
expect 0 "h07 published its own nss.db" test -s "$(snapdb "$T/h/h07/var")"
expect_out 0 "21 host\(s\), 0 not on generation 1" "status lists every host on the generation" $ADM fleet status
# a status/ value is unsigned: one planted with thousands of keys is not
# even parsed (small limits), so it neither counts nor slows status down
python3 -c 'import json; print(json.dumps({"k%d" % i: 0 for i in range(5000)}))' > "$T/planted"
E put "$BASE/status/planted" < "$T/planted" >/dev/null
expect_out 0 "21 host\(s\), 0 not on generation 1" "a planted status/ value of 5000 keys is ignored" $ADM fleet status
E del "$BASE/status/planted" >/dev/null

# ---- one user's change: latency and bytes ------------------------------------
for g in 2 3 4 5 6 7 8 9 10 11; do
	identity "$T/admin/etc/identity.json" 1100 "Alice v$g"
	timed_push "$g" "one-user push $g"
done
out=$PUSH_OUT
show "one-user push: $(sed -n 's/.*\(1 object(s) written.*\)/\1/p' <<<"$out")"
grep -q '1 object(s) written, 0 removed' <<<"$out" && ok "a one-user change writes one object and the manifest" || bad "one-user push wrote: $out"
expect_out 0 'Alice v11' "h00 serves the change" getent passwd alice

# ---- one member down under a push --------------------------------------------
identity "$T/admin/etc/identity.json" 1100 "Alice v12"
stop_member 2
timed_push 12 "one member down"
member 2
for _ in $(seq 50); do E endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

# ---- two members down: no quorum, hosts keep serving ------------------------------
stop_member 1; stop_member 2
identity "$T/admin/etc/identity.json" 1100 "Alice v13"
expect_out 1 "no etcd member answered" "push without quorum fails and changes nothing" $ADM fleet push
expect_out 0 'Alice v12' "h00 still serves generation 12 (NSS)" getent passwd alice
expect 0 "h13 keeps its published snapshot" grep -q 'generation 12' "$(applied h13)"
member 1; member 2
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
timed_push 13 "after two members were down and came back"

# ---- forgeries with etcdctl: each refused, the last generation kept ---------------
# rejected CODE "description": every host wrote a FleetReject with CODE
rejected() {
	local code=$1 d=$2 h n=0 miss=
	for _ in $(seq 60); do
		n=0; miss=
		for h in "${HOSTS[@]}"; do
			if grep -q "\"eventName\":\"FleetReject\".*\"errorCode\":\"$code\"" "$(trailof "$h")" 2>/dev/null
			then n=$((n + 1)); else miss="$miss $h"; fi
		done
		[ "$n" = ${#HOSTS[@]} ] && break
		sleep 0.1
	done
	[ "$n" = ${#HOSTS[@]} ] && ok "$d: FleetReject $code on all 21 hosts" || bad "$d: no FleetReject $code on$miss"
	: > "$T/mark"
	for h in "${HOSTS[@]}"; do : > "$(trailof "$h")"; done
}
kept() {	# kept GEN "description"
	local h bad_h=
	for h in "${HOSTS[@]}"; do grep -q "^generation $1\$" "$(applied "$h")" || bad_h="$bad_h $h"; done
	[ -z "$bad_h" ] && ok "$2: every host keeps generation $1" || bad "$2: moved on$bad_h"
}
for h in "${HOSTS[@]}"; do : > "$(trailof "$h")"; done
E put "$BASE/users/mallory" '{"name":"mallory","uid":70666,"primary_group":"dev"}' >/dev/null
rejected RootMismatch "a user added without a signed manifest"
expect 2 "h00 does not know mallory" getent passwd mallory
kept 13 "added user"
E del "$BASE/users/mallory" >/dev/null
alice=$(E get --print-value-only "$BASE/users/alice")
E put "$BASE/users/alice" "${alice/Alice v13/Alice forged}" >/dev/null
rejected RootMismatch "a user changed without a signed manifest"
expect_out 0 'Alice v13' "h00 still serves the signed alice" getent passwd alice
E put "$BASE/users/alice" "$alice" >/dev/null
bobv=$(E get --print-value-only "$BASE/users/bob")
E del "$BASE/users/bob" >/dev/null
rejected RootMismatch "a user removed without a signed manifest"
expect_out 0 '^bob:' "h00 still serves bob" getent passwd bob
E put "$BASE/users/bob" "$bobv" >/dev/null
man8=$(E get --print-value-only "$BASE/manifest")
# the signed manifest written again beside a changed object
E put "$BASE/users/alice" "${alice/Alice v13/Alice again}" >/dev/null
E put "$BASE/manifest" "$man8" >/dev/null
rejected RootMismatch "a manifest re-written over a changed object"
E put "$BASE/users/alice" "$alice" >/dev/null

# a manifest signed by a key the hosts do not trust
cp "$T/admin/etc/identity.json" "$T/stranger/etc/identity.json"
python3 - "$T/stranger/etc/identity.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["users"][0]["gecos"] = "Alice stranger"
open(sys.argv[1], "w").write(json.dumps(d))
EOF
iamctl --config "$T/stranger/etc/iam.conf" fleet init >/dev/null
expect 0 "a stranger's key signs a push" iamctl --config "$T/stranger/etc/iam.conf" fleet push
rejected UnknownKey "a manifest signed by an unknown key"
expect_out 0 'Alice v13' "h00 still serves the trusted alice" getent passwd alice
kept 13 "unknown key"

# rollback: generation 9, then generation 8's manifest and objects again
identity "$T/admin/etc/identity.json" 1100 "Alice v14"
expect_out 0 "generation" "the administrator's push replaces the stranger's state" $ADM fleet push
gen=$(sed -n 's/^generation //p' "$T/admin/var/fleet/pushed")
expect 0 "every host converges on generation $gen" wait_gen "$gen" 15
E put "$BASE/users/alice" "$alice" >/dev/null
E put "$BASE/manifest" "$man8" >/dev/null
rejected Rollback "generation 13 replayed (manifest and objects)"
expect_out 0 'Alice v14' "h00 keeps the newer alice" getent passwd alice
kept "$gen" "rollback"

# ---- two concurrent pushes: one wins, the other is told ---------------------------
rm -rf "$T/admin2"; cp -r "$T/admin" "$T/admin2"
sed -i "s|$T/admin/|$T/admin2/|g" "$T/admin2/etc/iam.conf"
conflict=0 lost=0
for round in 1 2 3 4 5 6 7 8; do
	identity "$T/admin/etc/identity.json" 1100 "Alice A$round"
	identity "$T/admin2/etc/identity.json" 1100 "Alice B$round"
	$ADM fleet push >"$T/pa" 2>&1 & a=$!
	iamctl --config "$T/admin2/etc/iam.conf" fleet push >"$T/pb" 2>&1 & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	if [ $ra != $rb ]; then
		conflict=$((conflict + 1))
		grep -q 're-run' "$T/pa" "$T/pb" || lost=$((lost + 1))
	elif [ $ra != 0 ]; then lost=$((lost + 1)); fi
	[ $conflict -gt 0 ] && break
done
[ $conflict -gt 0 ] && [ $lost = 0 ] && ok "two concurrent pushes: one wins, the other is told to re-run ($round round(s))" ||
	bad "concurrent pushes: $conflict conflicts, $lost lost in $round rounds"
show "$(cat "$T/pa" "$T/pb")"
gen=$(E get --print-value-only "$BASE/manifest" | sed -n 's/.*"generation":\([0-9]*\).*/\1/p')
expect 0 "every host converges on the winner's generation $gen" wait_gen "$gen" 15
expect 0 "no host refused the winner" sh -c "! grep -h FleetReject $T/h/*/log/trail.jsonl /var/log/iam/trail.jsonl"

# ---- credentials follow the user ----------------------------------------------
for f in common-auth common-account common-password passwd; do
	install -m 0644 "$TOP/etc/pam.d/$f" "/etc/pam.d/$f"
done
for h in h01 h02; do
	printf 'auth required pam_iam.so config=%s\naccount required pam_iam.so config=%s\n' \
		"$T/h/$h/etc/iam.conf" "$T/h/$h/etc/iam.conf" > "/etc/pam.d/iam-$h"
done
auth() { printf '%s\n' "$3" | pamtester "iam-$1" "$2" authenticate; }	# auth HOST USER PW
credsof() { [ "$1" = h00 ] && echo /var/lib/iam/credentials/$2.json || echo "$T/h/$1/var/credentials/$2.json"; }
# same_creds UID REF SECONDS: every host holds the file REF holds
same_creds() {
	local want h miss
	want=$(sha256sum <"$2" | cut -d' ' -f1)
	for _ in $(seq $(( $3 * 20 ))); do
		miss=
		for h in "${HOSTS[@]}"; do
			[ "$(sha256sum <"$(credsof "$h" "$1")" 2>/dev/null | cut -d' ' -f1)" = "$want" ] || miss="$miss $h"
		done
		[ -z "$miss" ] && return 0
		sleep 0.05
	done
	echo "not on:$miss"
	return 1
}
passwd_as() {	# passwd_as UID CURRENT NEW
	printf '%s\n%s\n%s\n' "$2" "$3" "$3" |
		setpriv --reuid="$1" --regid=70001 --clear-groups /usr/bin/passwd
}
setpw_on() { printf '%s\n' "$3" | iamctl --config "$T/h/$1/etc/iam.conf" passwd "$2" --stdin; }	# HOST USER PW
expect 0 "alice logs in on h01 with the pushed initial password" auth h01 alice "$PW0"
# That login may re-hash the pushed password with h01's hash_method: the
# record it writes travels to every host, and a passwd on h00 meanwhile
# is refused ("changed meanwhile; try again"), as it must be.  Let it land.
if [ -e "$(credsof h01 70001)" ]; then
	expect 0 "h01's re-hashed record reaches every host" same_creds 70001 "$(credsof h01 70001)" 10
fi
PW1='Changed-On-h00-1'
t0=$(date +%s.%N)
expect 0 "alice changes her password with the real passwd on h00" passwd_as 70001 "$PW0" "$PW1"
for _ in $(seq 100); do auth h01 alice "$PW1" >/dev/null 2>&1 && break; sleep 0.02; done
t1=$(date +%s.%N)
expect 0 "the new password logs in on h01 (pamtester, h01's own files)" auth h01 alice "$PW1"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
LAT="$LAT
passwd on h00 -> login on h01: $secs s"
show "passwd on h00 -> login on h01: $secs s"
expect 1 "the old password no longer logs in on h01" auth h01 alice "$PW0"
expect 0 "every host holds h00's credential file" same_creds 70001 /var/lib/iam/credentials/70001.json 5
expect 0 "etcd holds it sealed: no hash in the clear" sh -c "! etcdctl --endpoints=$EP get $BASE/credentials/70001 | grep -q '\\\$6\\\$\|\\\$y\\\$'"
PW2='Changed-On-h01-2' PW3='Changed-On-h02-3'
expect 0 "a change on h01" setpw_on h01 alice "$PW2"
sleep 0.05
expect 0 "then one on h02" setpw_on h02 alice "$PW3"
expect 0 "two changes on two hosts converge to the newer everywhere" same_creds 70001 "$(credsof h02 70001)" 5
expect 0 "the newer password logs in on h01" auth h01 alice "$PW3"
expect 1 "the older one does not" auth h01 alice "$PW2"

# ---- revoke a host --------------------------------------------------------------
expect_out 0 "host h20 revoked" "revoke-host signs a new state" $ADM fleet revoke-host h20
expect_out 0 '"state":"revoked"' "the host record says revoked" E get --print-value-only "$BASE/hosts/h20"
expect_out 1 "no enrolled host" "an unknown host cannot be revoked" $ADM fleet revoke-host nosuch
gen=$((gen + 1))
expect 0 "every host applies the revocation's generation $gen" wait_gen "$gen" 15

PW4='Changed-On-h20-4'
for h in "${HOSTS[@]}"; do : > "$(trailof "$h")"; done
expect 0 "the revoked host h20 changes alice's password" setpw_on h20 alice "$PW4"
expect 0 "h20's record reaches etcd" sh -c "for i in \$(seq 40); do etcdctl --endpoints=$EP get --print-value-only $BASE/credentials/70001 | grep -q '\"host\":\"h20\"' && exit 0; sleep 0.1; done; exit 1"
expect 0 "a revoked host's credential record is refused (RevokedHost on h00, h01, h13)" \
	sh -c "for i in \$(seq 40); do grep -q '\"errorCode\":\"RevokedHost\"' /var/log/iam/trail.jsonl $T/h/h01/log/trail.jsonl $T/h/h13/log/trail.jsonl >/dev/null && [ \$(grep -l RevokedHost /var/log/iam/trail.jsonl $T/h/h01/log/trail.jsonl $T/h/h13/log/trail.jsonl | wc -l) = 3 ] && exit 0; sleep 0.1; done; exit 1"
expect 0 "alice keeps the password set before" auth h01 alice "$PW3"
expect 1 "the revoked host's password does not log in on h01" auth h01 alice "$PW4"
rec=$(E get --print-value-only "$BASE/credentials/70001")
E put "$BASE/credentials/70001" "${rec/\"host\":\"h20\"/\"host\":\"h99\"}" >/dev/null
expect 0 "a record naming a host never enrolled is refused (UnknownHost)" \
	sh -c "for i in \$(seq 40); do grep -q '\"errorCode\":\"UnknownHost\"' $T/h/h01/log/trail.jsonl && exit 0; sleep 0.1; done; exit 1"
expect 0 "alice still logs in on h01 with her password" auth h01 alice "$PW3"

# ---- an outage with a queued change, the agent restarted meanwhile -----------------
for i in 0 1 2; do stop_member $i; done
PW5='Changed-Offline-5'
expect 0 "etcd down: a change on h04 still works locally" setpw_on h04 alice "$PW5"
sleep 0.5
expect 0 "it waits in h04's outbox" test -s "$T/h/h04/var/fleet/outbox/70001"
kill "${APID[4]}"; wait "${APID[4]}" 2>/dev/null
"$AGENT" --config "$T/h/h04/etc/iam.conf" 2>>"$T/agent-h04.log" &
APID[4]=$!
sleep 0.3
expect 0 "the outbox survives the agent's restart" test -s "$T/h/h04/var/fleet/outbox/70001"
for i in 0 1 2; do member $i; done
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
expect 0 "etcd back: the queued change reaches every host" same_creds 70001 "$(credsof h04 70001)" 30
expect 0 "the offline password logs in on h02" auth h02 alice "$PW5"
expect 1 "h04's outbox is empty" test -s "$T/h/h04/var/fleet/outbox/70001"

# ---- recovery codes spent on two hosts at once: spent stays spent everywhere ------
# Credential records are last-writer-wins; a host applying another's record
# keeps the codes it spent itself and sends the union on.
H1="iamctl --config $T/h/h01/etc/iam.conf"
rm -f "$T/code"; mkfifo "$T/code"
$H1 mfa enable alice --no-qr <"$T/code" >"$T/mfa.out" 2>&1 &
mpid=$!
exec 7>"$T/code"
for _ in $(seq 100); do grep -q '^otpauth://' "$T/mfa.out" && break; sleep 0.1; done
oathtool --totp -b "$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$T/mfa.out")" >&7 2>/dev/null
exec 7>&-
wait "$mpid" && grep -q "MFA device of alice enabled" "$T/mfa.out" && ok "alice enrols a device on h01" ||
	{ bad "enrol on h01"; show "$(cat "$T/mfa.out")"; }
out=$($H1 mfa recovery-codes alice 2>&1)
mapfile -t RC < <(grep -Eo '^  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' <<<"$out" | tr -d ' ')
[ "${#RC[@]}" = 10 ] && ok "h01 prints alice's 10 recovery codes" || { bad "recovery codes: ${#RC[@]}"; show "$out"; }
expect 0 "her device and codes reach every host" same_creds 70001 "$(credsof h01 70001)" 15
mfa_auth() { printf '%s\n%s\n' "$3" "$4" | pamtester "iam-$1" "$2" authenticate; }	# HOST USER PW CODE
# spent_everywhere N SECONDS: every host's file has N codes spent
spent_everywhere() {
	local h miss
	for _ in $(seq $(( $2 * 10 ))); do
		miss=
		for h in "${HOSTS[@]}"; do
			[ "$(grep -o '"!\$6' "$(credsof "$h" 70001)" 2>/dev/null | wc -l)" = "$1" ] || miss="$miss $h"
		done
		[ -z "$miss" ] && return 0
		sleep 0.1
	done
	echo "not on:$miss"
	return 1
}
for i in 0 1 2; do stop_member $i; done
expect 0 "etcd down: alice spends a recovery code on h01" mfa_auth h01 alice "$PW5" "${RC[0]}"
expect 0 "and another on h02" mfa_auth h02 alice "$PW5" "${RC[1]}"
for i in 0 1 2; do member $i; done
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
expect 0 "etcd back: both codes are spent on every host" spent_everywhere 2 30
expect 1 "the code spent on h02 is refused on h01" mfa_auth h01 alice "$PW5" "${RC[1]}"
expect 1 "the code spent on h01 is refused on h02" mfa_auth h02 alice "$PW5" "${RC[0]}"
expect 0 "an unspent code still passes on h02" mfa_auth h02 alice "$PW5" "${RC[2]}"

# ---- a host whose store's lock is held: the record waits, it is not rejected ------
: > "$(trailof h05)"
flock "$T/h/h05/var/credentials/.lock" sleep 60 &
hold=$!
sleep 0.2
PW6='Changed-On-h01-6'
expect 0 "a change on h01 while h05's store is locked" setpw_on h01 alice "$PW6"
expect 0 "h05's agent says the record waits for the lock, naming its holder" \
	sh -c "for i in \$(seq 450); do grep -q 'not applied yet: the credential store is locked by another change (pid ' $T/agent-h05.log && exit 0; sleep 0.1; done; exit 1"
kill "$hold"; wait "$hold" 2>/dev/null
expect 0 "the lock released, h05 applies it (every host holds h01's file)" same_creds 70001 "$(credsof h01 70001)" 40
expect 1 "and it was never a FleetReject on h05" grep -q FleetReject "$(trailof h05)"

# ---- a whole-cluster outage; the agents' revision compacted meanwhile --------------
# The agents are held (SIGSTOP) so that the compaction surely happens
# before they are back: their watches then start at a compacted revision.
for p in "${APID[@]}"; do kill -STOP "$p"; done
for i in 0 1 2; do stop_member $i; done
expect_out 0 '^alice:' "all members down: h00 still answers" getent passwd alice
for i in 0 1 2; do member $i; done
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
identity "$T/admin/etc/identity.json" 1100 "Alice after compaction"
gen=$((gen + 1))
rm -f "$T/t0"; date +%s.%N >"$T/t0"
expect 0 "push after the outage" $ADM fleet push
for k in 1 2 3; do E put /other/key "$k" >/dev/null; done
rev=$(E get /other/key -w json | jq -r .header.revision)
expect 0 "etcd compacted to revision $rev before the agents are back" E compact "$rev"
for p in "${APID[@]}"; do kill -CONT "$p"; done
expect 0 "every host catches up with a full read (generation $gen)" wait_gen "$gen" 30
expect_out 0 'was compacted' "the agents saw the compaction and read everything again" tail -4 "$T/agent-h05.log"
expect_out 0 'Alice after compaction' "h00 serves the change made during its outage" getent passwd alice

# ---- agents stop by pid; etcd unreachable keeps serving --------------------------
for i in 0 1 2; do stop_member $i; done
expect_out 0 '^alice:' "etcd gone: h00 still answers" getent passwd alice
expect_out 1 "keeping generation $gen" \
	"fleet pull --once without etcd refuses and keeps the generation" iamctl fleet pull --once
for p in "${APID[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
APID=()
ok "measured:$LAT"
finish
