#!/bin/bash
# run-integration.sh [NAME...] - run tests/integration/*.sh with the real
# clients (getent, id, pamtester, su, passwd, sudo, sshd) against the
# built modules, each in its own private mount namespace.  The build is
# installed into build/root first and overlaid over the system folders
# inside the namespace only; nothing on this machine changes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	# A check that cannot run the real clients has not passed.
	echo "integration: FAILED: needs root and mount namespaces (unshare -m)" >&2
	exit 1
fi
# B= picks another build folder, as for make.
B=${B:-build}
root=$top/$B/root
rm -rf "$root"
make -s install B="$B" DESTDIR="$root" >/dev/null || exit 1
pass=0 fail=0
for t in tests/integration/[0-9]*.sh; do
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ]; then
		want=0
		for a in "$@"; do case $name in "$a"*) want=1 ;; esac; done
		[ $want = 1 ] || continue
	fi
	start=$EPOCHREALTIME
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		TOP="$top" ROOT="$root" TEST="$top/$t" LANG=C.UTF-8 \
		${SCALE_USERS:+SCALE_USERS="$SCALE_USERS"} \
		setsid -w unshare --mount --propagation private \
		bash "$top/tests/integration/harness.sh" </dev/null
	rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "==> $name: OK (${secs}s)"
	else
		fail=$((fail + 1)); echo "==> $name: FAILED rc=$rc (${secs}s)"
	fi
done
echo "integration: $pass passed, $fail failed"
[ $fail = 0 ]
