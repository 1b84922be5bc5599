#!/bin/bash
# deb-test.sh - install the built .debs (build/deb/, made by make deb) on a
# throw-away host and use them as an administrator and a user would:
# tests/deb/80-deb.sh runs in a private mount namespace whose /etc, /var
# and /usr are overlays over the real ones, with fresh /run, /home and
# /root, so the machine's dpkg database, PAM and nsswitch files never
# change.  Checks afterwards that the host's dpkg never saw the packages.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/ns.sh
need_ns "deb-test: FAILED: needs root and mount namespaces (unshare -m)"
ls build/deb/*.deb >/dev/null 2>&1 || { echo "deb-test: FAILED: no build/deb/*.deb (make deb)" >&2; exit 1; }
W=$(mktemp -d /tmp/iam-deb.XXXXXX)
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
start=$EPOCHREALTIME
in_ns TOP="$top" W="$W" "$top/tests/deb/80-deb.sh"
rc=$?
if dpkg-query -W -f='${Status}\n' iam-tools libiam1 2>/dev/null | grep installed >/dev/null; then
	echo "FAIL: the host's dpkg database lists the packages"; rc=1
else
	echo "PASS: the host's dpkg database never saw the packages"
fi
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
[ $rc = 0 ] && echo "==> 80-deb: OK (${secs}s)" || echo "==> 80-deb: FAILED rc=$rc (${secs}s)"
exit $rc
