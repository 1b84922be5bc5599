#!/bin/bash
# run-unit.sh BIN... - run Criterion unit-test binaries.
#
# As root with mount namespaces available, every binary runs inside a
# private mount namespace with /etc and /var overlaid by throw-away layers
# and a fresh /run, so tests may use the real fixed paths (/etc/iam,
# /var/lib/iam, /run/iam) without touching this machine.  Otherwise they
# run as they are, and tests needing root skip themselves.
set -uo pipefail
fail=0 ran=0
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$@"; do
	ran=$((ran + 1))
	name=$(basename "$bin")
	# Modules the tests dlopen (pam_iam.so, sudo_iam.so) need the
	# libiam.so.1 built beside them.
	LD_LIBRARY_PATH=$(cd "$(dirname "$bin")/.." && pwd)
	export LD_LIBRARY_PATH
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		setsid -w unshare --mount --propagation private \
			bash "$here/private-ns.sh" "$bin" --jobs=1 --short-filename </dev/null
	else
		"$bin" --jobs=1 --short-filename </dev/null
	fi
	rc=$?
	if [ $rc != 0 ]; then
		echo "unit: $name FAILED (rc=$rc)"
		fail=$((fail + 1))
	fi
done
echo "unit: $ran binaries, $fail failed"
[ $fail = 0 ]
