#!/bin/bash
# bench-pam.sh BUILD_DIR [USERS...] - one pam_iam authentication's own
# cost without the password hash (iam.conf, auth.db open and lookup,
# state folder check, state lock and two saves, TOTP check, MFA session
# record, trail line) at each USERS count (default 1000 100000), next to
# the cost of the password hash itself (yescrypt, crypt_r) measured in
# the same run, in a private mount namespace on tmpfs (nothing on this
# machine changes; on a disk, the two fsyncs of the state file add the
# disk's latency).  Times are microseconds per authentication (mean /
# median); Ir are callgrind instruction counts inside the measured loop.
# Aim (DESIGN.md): own cost under 1% of the hash, flat in users.
set -euo pipefail
B=${1:?usage: bench-pam.sh BUILD_DIR [USERS...]}
shift
SIZES=${*:-1000 100000}
ITER=${BENCH_PAM_ITER:-2000}
HASH_ITER=${BENCH_PAM_HASH_ITER:-20}
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "bench-pam: SKIPPED (needs root and mount namespaces)"
	exit 0
fi
if [ "${BENCH_PAM_INNER:-}" != 1 ]; then
	exec env BENCH_PAM_INNER=1 unshare --mount --propagation private "$0" "$B" $SIZES
fi
T=$(mktemp -d /tmp/bench-pam.XXXXXX)
trap 'umount -l "$T" 2>/dev/null; rm -rf "$T" 2>/dev/null; true' EXIT
chmod 755 "$T"
mount -t tmpfs -o mode=755 tmpfs "$T"
export LD_LIBRARY_PATH=$B
have_vg=1; command -v valgrind >/dev/null || have_vg=0
ir() {	# ir FUNCTION ITER ARGS...: callgrind Ir per iteration
	local fn=$1 it=$2 out
	shift 2
	[ $have_vg = 1 ] || { echo -; return; }
	out=$T/cg.$fn.$RANDOM
	valgrind --tool=callgrind --toggle-collect="$fn" \
		--callgrind-out-file="$out" "$@" >/dev/null 2>&1 || { echo -; return; }
	awk -v n="$it" '/^(summary|totals):/ { printf "%d", $2 / n; exit }' "$out"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", 100 * a / b }'; }

first=${SIZES%% *}
mkdir -p "$T/n$first"
"$B/bench_pam" setup "$T/n$first" "$first"
read -r hash_mean hash_median < <("$B/bench_pam" hash "$T/n$first" "$HASH_ITER")
hash_ir=$(ir hash_loop 2 "$B/bench_pam" hash "$T/n$first" 2)

printf '%-34s %11s %11s %13s %9s %9s\n' "what" "mean us" "median us" "Ir/call" "time %" "Ir %"
printf '%-34s %11s %11s %13s %9s %9s\n' "password hash (yescrypt, crypt_r)" \
	"$hash_mean" "$hash_median" "$hash_ir" 100 100
for n in $SIZES; do
	d=$T/n$n
	[ -d "$d" ] || { mkdir -p "$d"; "$B/bench_pam" setup "$d" "$n"; }
	read -r mean median < <("$B/bench_pam" own "$d" "$ITER")
	own_ir=$(ir own_loop 100 "$B/bench_pam" own "$d" 100)
	printf '%-34s %11s %11s %13s %9s %9s\n' "pam_iam own work, $n users" \
		"$mean" "$median" "$own_ir" "$(pct "$median" "$hash_median")" \
		"$(pct "$own_ir" "$hash_ir")"
done

# An unknown name's dummy hash against a known name's real one, per
# hash_method (a wrong password each time, interleaved), with callgrind
# instruction counts of one check each.  Aim: within 10%.
echo
printf '%-12s %12s %14s %8s %14s %14s %8s\n' "hash_method" "known us" \
	"unknown us" "diff %" "known Ir" "unknown Ir" "diff %"
m=0
"$B/bench_pam" names "${BENCH_PAM_NAMES_ITER:-20}" | while read -r name k u; do
	ki=$(ir known_once 1 "$B/bench_pam" names 1 $m)
	ui=$(ir unknown_once 1 "$B/bench_pam" names 1 $m)
	diff() { awk -v a="$2" -v b="$1" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%+.1f", 100 * (a - b) / b }'; }
	printf '%-12s %12s %14s %8s %14s %14s %8s\n' "$name" "$k" "$u" \
		"$(diff "$k" "$u")" "$ki" "$ui" "$(diff "$ki" "$ui")"
	m=$((m + 1))
done
