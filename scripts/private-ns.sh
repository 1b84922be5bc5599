#!/bin/bash
# private-ns.sh CMD... - run CMD inside the current (already private) mount
# namespace after giving it throw-away /etc, /var and /run.  Called through
# `unshare --mount --propagation private`; never run it in the host's
# namespace (it checks).
set -euo pipefail
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	echo "private-ns.sh: refusing to mount in the host's namespace" >&2
	exit 1
fi
scratch=$(mktemp -d /tmp/iam-ns.XXXXXX)
mount -t tmpfs -o mode=755 tmpfs "$scratch"
for d in etc var; do
	mkdir -p "$scratch/$d/up" "$scratch/$d/work"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$scratch/$d/up,workdir=$scratch/$d/work" "/$d"
done
mount -t tmpfs -o mode=755 tmpfs /run
rmdir "$scratch" 2>/dev/null || true
exec "$@"
