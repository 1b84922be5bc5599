#!/bin/bash
# bench-identity.sh BUILD_DIR [USERS...] - loading and publishing the
# identity file against yajl's stream parse of the same bytes (DESIGN.md's
# Speed table), measured in the same run:
#   1. median wall time of a load: yajl stream, yajl tree, iam_json tree,
#      the whole identity model, the model as a publication loads it
#      (users read straight from the parse's events) (bench_identity);
#   2. `iamctl sync` of the same file as a file: wall time, peak memory
#      (KB per user);
#   3. callgrind instruction counts of one stream parse, one tree, one
#      model load each way and one whole `iamctl sync` (times drift here;
#      instructions do not), each as a ratio to the stream parse.
# Sizes default to 1000 and 100000 users; BENCH_1M=1 adds 1000000 (its
# callgrind runs take ten minutes and more, so they also need BENCH_1M_IR=1).
set -euo pipefail
B=${1:?usage: bench-identity.sh BUILD_DIR [USERS...]}
shift
BIN=$B/bench/bench_identity
IAMCTL=$B/iamctl
SIZES=${*:-1000 100000}
[ "${BENCH_1M:-}" = 1 ] && case " $SIZES " in *" 1000000 "*) ;; *) SIZES="$SIZES 1000000";; esac
T=$(mktemp -d /tmp/bench-identity.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
have_vg=1; command -v valgrind >/dev/null || have_vg=0
can_sync=1; [ "$(id -u)" = 0 ] || can_sync=0

mkconf() {
	mkdir -p -m 0755 "$T/etc" "$T/snap"
	mkdir -p -m 0700 "$T/creds" "$T/state" "$T/run"
	cat > "$T/etc/iam.conf" <<EOF
identity_file = "$T/etc/identity.json";
credentials_dir = "$T/creds";
state_dir = "$T/state";
run_dir = "$T/run";
trail_file = "$T/trail.jsonl";
snapshot_dir = "$T/snap";
uid_min = 100000; uid_max = 1999999;
gid_min = 100000; gid_max = 1999999;
EOF
	chmod 0644 "$T/etc/iam.conf"
}
sync_once() {
	LD_LIBRARY_PATH=$B /usr/bin/time -f '%e %M' -o "$T/time" \
		"$IAMCTL" --config "$T/etc/iam.conf" sync >/dev/null
}
# cg MODE|sync -> instructions of one run
cg() {
	local out=$T/cg.out
	if [ "$1" = sync ]; then
		LD_LIBRARY_PATH=$B valgrind --tool=callgrind --callgrind-out-file="$out" \
			"$IAMCTL" --config "$T/etc/iam.conf" sync >/dev/null 2>&1
	else
		valgrind --tool=callgrind --toggle-collect=measure \
			--callgrind-out-file="$out" "$BIN" "$n" "$1" >/dev/null 2>&1
	fi
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

[ $can_sync = 1 ] && mkconf
for n in $SIZES; do
	echo "== $n users"
	"$BIN" "$n" | tee "$T/load"
	if [ $can_sync = 1 ]; then
		"$BIN" "$n" print > "$T/etc/identity.json"
		chmod 0600 "$T/etc/identity.json"
		stream_ms=$(awk '$1 == "stream" {print $2}' "$T/load")
		best=
		for _ in 1 2 3; do
			sync_once
			read -r s kb < "$T/time"
			[ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a < b)}' && best=$s
			peak=$kb
		done
		awk -v s="$best" -v m="$stream_ms" -v kb="$peak" -v n="$n" 'BEGIN {
			printf "%-10s %10.1f %7.2fx   peak %.0f MB, %.2f KB per user (aim <= 0.5)\n",
				"iamctl sync", s * 1000, s * 1000 / m, kb / 1024, kb / n }'
	else
		echo "(iamctl sync: needs root)"
	fi
	[ $have_vg = 1 ] || { echo "(valgrind missing: no Ir)"; continue; }
	if [ "$n" -ge 1000000 ] && [ "${BENCH_1M_IR:-}" != 1 ]; then
		echo "(Ir at $n users: BENCH_1M_IR=1, some ten minutes)"
		continue
	fi
	base=
	printf '%-12s %14s %8s\n' Ir count ratio
	for m in stream tree identity published sync; do
		[ $m = sync ] && [ $can_sync = 0 ] && continue
		ir=$(cg $m)
		[ -z "$base" ] && base=$ir
		awk -v m="$m" -v ir="$ir" -v b="$base" 'BEGIN{printf "%-12s %14.0f %7.2fx%s\n", m, ir, ir/b, m == "sync" ? "  (aim <= 2x)" : ""}'
	done
done
