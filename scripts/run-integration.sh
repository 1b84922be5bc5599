#!/bin/bash
# run-integration.sh [NAME...] - run tests/integration/*.sh with the real
# clients (getent, id, pamtester, su, passwd, sudo, sshd) against the
# built modules, each in its own private mount namespace.  The build is
# installed into build/root first and overlaid over the system folders
# inside the namespace only; nothing on this machine changes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/ns.sh
need_ns "integration: FAILED: needs root and mount namespaces (unshare -m)"
# B= picks another build folder, as for make.
install_root || exit 1
pass=0 fail=0
for t in tests/integration/[0-9]*.sh; do
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ]; then
		want=0
		for a in "$@"; do case $name in "$a"*) want=1 ;; esac; done
		[ $want = 1 ] || continue
	fi
	start=$EPOCHREALTIME
	in_ns TOP="$top" ROOT="$root" TEST="$top/$t" \
		${SCALE_USERS:+SCALE_USERS="$SCALE_USERS"} \
		"$top/tests/integration/harness.sh"
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
