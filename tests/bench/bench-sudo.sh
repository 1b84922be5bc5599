#!/bin/bash
# bench-sudo.sh BUILD_DIR [USERS...] - the sudo approval plugin's own cost
# per sudo invocation (open + check + close, as sudo calls it) at each
# USERS count (default 1000 100000), next to a whole `sudo true` without
# the plugin measured in the same run, in a private mount namespace
# (nothing on this machine changes).  Times are microseconds per
# invocation (mean / median); Ir are callgrind instruction counts, for
# the plugin counted inside its call loop only, for `sudo true` of the
# sudo process (the command itself not traced).
set -euo pipefail
B=${1:?usage: bench-sudo.sh BUILD_DIR [USERS...]}
shift
SIZES=${*:-1000 100000}
ITER=${BENCH_SUDO_ITER:-2000}
SUDO_ITER=${BENCH_SUDO_TRUE_ITER:-200}
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "bench-sudo: SKIPPED (needs root and mount namespaces)"
	exit 0
fi
if [ "${BENCH_SUDO_INNER:-}" != 1 ]; then
	exec env BENCH_SUDO_INNER=1 unshare --mount --propagation private "$0" "$B" $SIZES
fi
T=$(mktemp -d /tmp/bench-sudo.XXXXXX)
trap 'umount -l "$T" 2>/dev/null; rm -rf "$T" 2>/dev/null; true' EXIT
chmod 755 "$T"
mount -t tmpfs -o mode=755 tmpfs "$T"
mount -t tmpfs -o mode=755 tmpfs /run	# hides a host nscd
have_vg=1; command -v valgrind >/dev/null || have_vg=0

# The baseline: sudo with sudoers only, as root (no password, no plugin).
printf 'Plugin sudoers_policy sudoers.so\nPlugin sudoers_io sudoers.so\nPlugin sudoers_audit sudoers.so\n' > "$T/sudo.conf"
chmod 0644 "$T/sudo.conf"
mount --bind "$T/sudo.conf" /etc/sudo.conf
sudo -n true || { echo "bench-sudo: sudo true fails as root" >&2; exit 1; }
start=$EPOCHREALTIME
for ((i = 0; i < SUDO_ITER; i++)); do sudo -n true; done
sudo_us=$(awk -v a="$start" -v b="$EPOCHREALTIME" -v n="$SUDO_ITER" 'BEGIN{printf "%.1f", (b-a)*1e6/n}')
sudo_ir=-
if [ $have_vg = 1 ]; then
	# valgrind will not run a setuid file: a plain copy, run by root.
	install -m 0755 /usr/bin/sudo "$T/sudo"
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.sudo" "$T/sudo" -n true >/dev/null 2>&1 || true
	sudo_ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$T/cg.sudo" 2>/dev/null || echo -)
fi

printf '%-28s %12s %12s %14s %10s %10s\n' "what" "mean us" "median us" "Ir/call" "time %" "Ir %"
printf '%-28s %12s %12s %14s %10s %10s\n' "sudo true (no plugin)" "$sudo_us" "-" "$sudo_ir" "100" "100"
cp /etc/passwd "$T/passwd"
echo 'u0:x:200000:200000::/tmp:/bin/sh' >> "$T/passwd"
mount --bind "$T/passwd" /etc/passwd
for n in $SIZES; do
	d=$T/n$n
	mkdir -p "$d"
	"$B/bench_sudo" setup "$d" "$n"
	read -r mean median < <("$B/bench_sudo" run "$d" "$ITER")
	ir=-
	if [ $have_vg = 1 ]; then
		it=50
		valgrind --tool=callgrind --toggle-collect=decide_loop \
			--callgrind-out-file="$T/cg.$n" "$B/bench_sudo" run "$d" $it >/dev/null 2>&1
		tot=$(awk '/^(summary|totals):/ {print $2; exit}' "$T/cg.$n")
		ir=$(awk -v t="$tot" -v n=$it 'BEGIN{printf "%.0f", t/n}')
	fi
	tpct=$(awk -v a="$mean" -v b="$sudo_us" 'BEGIN{printf "%.1f", 100*a/b}')
	ipct=-
	[ "$ir" != - ] && [ "$sudo_ir" != - ] && ipct=$(awk -v a="$ir" -v b="$sudo_ir" 'BEGIN{printf "%.1f", 100*a/b}')
	printf '%-28s %12s %12s %14s %10s %10s\n' "sudo_iam open+check, $n users" "$mean" "$median" "$ir" "$tpct" "$ipct"
done
