#!/bin/bash
# demo.sh - the whole system in a private mount namespace with the example
# identity file, narrated.  Nothing on this machine changes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "demo: needs root and mount namespaces (sudo make demo)" >&2
	exit 1
fi
B=${B:-build}
root=$top/$B/root
rm -rf "$root"
make -s -C "$top" install B="$B" DESTDIR="$root" >/dev/null || exit 1
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	TOP="$top" ROOT="$root" TEST="$top/tests/integration/demo.sh" LANG=C.UTF-8 \
	setsid -w unshare --mount --propagation private \
	bash "$top/tests/integration/harness.sh" </dev/null
