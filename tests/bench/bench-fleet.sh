#!/bin/bash
# bench-fleet.sh BUILD [USERS...] - the fleet against a 3-member etcd
# cluster on 127.0.0.1 (free ports, data under BUILD/bench-fleet, every
# process stopped by its pid):
#   - initial sync of USERS users by `iamctl fleet pull --once` on a fresh
#     host, against a local `iamctl sync` of the same file (ratio);
#   - etcd bytes written by a one-user push, against the whole identity;
#   - push -> applied on all of 20 agents (10 one-user pushes): p50, p99.
# Paths all come from per-host iam.conf files (--config): nothing under
# /etc or /var/lib/iam is touched.  Run as root (strict file checks).
set -uo pipefail
B=$(cd "${1:?usage: bench-fleet.sh BUILD [USERS...]}" && pwd)
shift
SIZES=${*:-10000 100000}
AGENTS=${AGENTS:-20}
for c in etcd etcdctl python3; do
	command -v $c >/dev/null || { echo "bench-fleet: $c missing (apt-get install etcd-server etcd-client)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "bench-fleet: run as root (strict file checks)"; exit 77; }
export LD_LIBRARY_PATH=$B ETCDCTL_API=3
# iamctl-fleet is the iamctl that carries `fleet` (iamctl runs it from
# /usr/libexec/iam once installed).
IAMCTL=$B/iamctl-fleet AGENT=$B/iam-agent
W=$B/bench-fleet
rm -rf "$W"; mkdir -p -m 0755 "$W"
declare -a PID APID
cleanup() {
	for p in "${APID[@]}" "${PID[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
ports=($(python3 -c 'import socket
s=[socket.socket() for _ in range(6)]
[x.bind(("127.0.0.1",0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))'))
C=(${ports[0]} ${ports[2]} ${ports[4]}) P=(${ports[1]} ${ports[3]} ${ports[5]})
CLUSTER="m0=http://127.0.0.1:${P[0]},m1=http://127.0.0.1:${P[1]},m2=http://127.0.0.1:${P[2]}"
EP="http://127.0.0.1:${C[0]},http://127.0.0.1:${C[1]},http://127.0.0.1:${C[2]}"
EPS="\"http://127.0.0.1:${C[0]}\", \"http://127.0.0.1:${C[1]}\", \"http://127.0.0.1:${C[2]}\""
for i in 0 1 2; do
	etcd --name "m$i" --data-dir "$W/m$i" \
		--listen-client-urls "http://127.0.0.1:${C[$i]}" --advertise-client-urls "http://127.0.0.1:${C[$i]}" \
		--listen-peer-urls "http://127.0.0.1:${P[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${P[$i]}" \
		--initial-cluster "$CLUSTER" --initial-cluster-state new >"$W/m$i.log" 2>&1 &
	PID[$i]=$!
done
for _ in $(seq 100); do etcdctl --endpoints="$EP" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

conf() {	# conf DIR HOST: every path under DIR
	local d=$1
	mkdir -p -m 0755 "$d" "$d/etc" "$d/var"; mkdir -p -m 0700 "$d/log"
	cat > "$d/etc/iam.conf" <<EOF
identity_file = "$d/etc/identity.json"; credentials_dir = "$d/var/credentials";
state_dir = "$d/var/state"; run_dir = "$d/run"; trail_file = "$d/log/trail.jsonl";
snapshot_dir = "$d/var"; hostname = "$2"; uid_max = 999999; gid_max = 999999;
fleet = { endpoints = [ $EPS ]; account = "123456789012";
  admin_key = "$d/etc/admin.key"; trusted_keys = "$d/etc/trusted-keys";
  host_key = "$d/etc/host.key"; fleet_key = "$d/etc/fleet.key"; state_dir = "$d/var/fleet"; };
EOF
	chmod 0644 "$d/etc/iam.conf"
}
identity() {	# identity FILE USERS TAG
	python3 - "$@" <<'EOF'
import json, sys
path, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
users = [{"name": "u%06d" % i, "uid": 300000 + i, "primary_group": "iamstaff",
          "gecos": "User %d %s" % (i, tag if i == 0 else ""), "groups": ["g%d" % (i % 50)],
          "tags": {"Team": "t%d" % (i % 20)}} for i in range(n)]
groups = [{"name": "iamstaff", "gid": 300000}] + [{"name": "g%d" % i, "gid": 290000 + i} for i in range(50)]
json.dump({"account": {"id": "123456789012"}, "users": users, "groups": groups}, open(path, "w"))
EOF
	chmod 0600 "$1"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
enroll() {	# enroll HOST DIR
	"$IAMCTL" --config "$W/admin/etc/iam.conf" fleet enroll-host "$1" --out "$W/enroll/$1" >/dev/null || return 1
	cp "$W/enroll/$1/host.key" "$W/enroll/$1/fleet.key" "$2/etc/"
	cp -r "$W/enroll/$1/trusted-keys" "$2/etc/"
}
conf "$W/admin" admin
mkdir -p -m 0700 "$W/enroll"
"$IAMCTL" --config "$W/admin/etc/iam.conf" fleet init >/dev/null || exit 1

echo "fleet: 3-member etcd on loopback; $(nproc) cores"
printf '%-8s %12s %12s %12s %8s %14s %14s\n' users "local sync" "push" "pull --once" ratio "bytes/1 user" "identity bytes"
for n in $SIZES; do
	identity "$W/admin/etc/identity.json" "$n" v0
	# the same file, synced locally
	conf "$W/local$n" "local$n"
	cp "$W/admin/etc/identity.json" "$W/local$n/etc/identity.json"
	t0=$EPOCHREALTIME
	"$IAMCTL" --config "$W/local$n/etc/iam.conf" sync >/dev/null || echo "local sync failed"
	t1=$EPOCHREALTIME
	"$IAMCTL" --config "$W/admin/etc/iam.conf" fleet push >"$W/push.out" 2>&1 || cat "$W/push.out"
	t2=$EPOCHREALTIME
	conf "$W/fresh$n" "fresh$n"
	enroll "fresh$n" "$W/fresh$n"
	t3=$EPOCHREALTIME
	"$IAMCTL" --config "$W/fresh$n/etc/iam.conf" fleet pull --once >/dev/null || echo "pull failed"
	t4=$EPOCHREALTIME
	identity "$W/admin/etc/identity.json" "$n" v1
	one=$("$IAMCTL" --config "$W/admin/etc/iam.conf" fleet push 2>&1 | sed -n 's/.*removed, \([0-9]*\) bytes.*/\1/p')
	size=$(stat -c %s "$W/admin/etc/identity.json")
	printf '%-8s %11ss %11ss %11ss %7.2fx %14s %14s\n' "$n" "$(secs "$t0" "$t1")" \
		"$(secs "$t1" "$t2")" "$(secs "$t3" "$t4")" \
		"$(awk -v a="$(secs "$t0" "$t1")" -v b="$(secs "$t3" "$t4")" 'BEGIN{print b/a}')" \
		"$one" "$size"
done

# ---- push -> applied on every agent ------------------------------------------------
n=${LATENCY_USERS:-1000}
identity "$W/admin/etc/identity.json" "$n" l0
"$IAMCTL" --config "$W/admin/etc/iam.conf" fleet push >/dev/null
files=()
for i in $(seq -w 1 "$AGENTS"); do
	conf "$W/a$i" "a$i"; enroll "a$i" "$W/a$i"
	"$AGENT" --config "$W/a$i/etc/iam.conf" 2>>"$W/agent.log" &
	APID+=($!)
	files+=("$W/a$i/var/fleet/applied")
done
gen() { sed -n 's/.*"generation":\([0-9]*\).*/\1/p' <<<"$(etcdctl --endpoints="$EP" get --print-value-only /iam/123456789012/manifest)"; }
python3 - "$(gen)" 60 "${files[@]}" <<'EOF' || echo "agents did not converge"
import sys, time
want = "generation %s\n" % sys.argv[1]; end = time.time() + float(sys.argv[2])
while time.time() < end:
    ok = 0
    for f in sys.argv[3:]:
        try: ok += open(f).read().startswith(want)
        except OSError: pass
    if ok == len(sys.argv[3:]): sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF
all=()
for k in $(seq 1 10); do
	identity "$W/admin/etc/identity.json" "$n" "l$k"
	rm -f "$W/t0"
	python3 - "$W/t0" "$(( $(gen) + 1 ))" "${files[@]}" >"$W/lat.$k" <<'EOF' &
import os, sys, time
t0f, want, files = sys.argv[1], "generation %s\n" % sys.argv[2], sys.argv[3:]
seen = {}
end = time.time() + 20
while not os.path.exists(t0f): time.sleep(0.001)
while len(seen) < len(files) and time.time() < end:
    for f in files:
        if f not in seen:
            try:
                if open(f).read().startswith(want): seen[f] = time.time()
            except OSError: pass
    time.sleep(0.002)
t0 = float(open(t0f).read())
print(" ".join("%.4f" % (v - t0) for v in seen.values()))
EOF
	w=$!
	sleep 0.2
	echo "$EPOCHREALTIME" > "$W/t0"
	"$IAMCTL" --config "$W/admin/etc/iam.conf" fleet push >/dev/null
	wait $w
done
cat "$W"/lat.* | tr ' ' '\n' | grep -v '^$' | sort -n | awk -v a="$AGENTS" -v u="$n" '
	{ v[NR] = $1 } END {
	  if (NR == 0) { print "no latencies"; exit }
	  printf "push -> applied on all %d agents (%d users, 10 pushes, %d samples): p50 %.3f s, p99 %.3f s, max %.3f s\n",
		a, u, NR, v[int(NR * 0.5) + 1], v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))], v[NR] }'
