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
# The overlays' upper layers live on the fresh /run, so nothing is left
# behind on this machine when the namespace ends.
mount -t tmpfs -o mode=755 tmpfs /run
for d in etc var; do
	mkdir -p "/run/.private-ns/$d/up" "/run/.private-ns/$d/work"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=/run/.private-ns/$d/up,workdir=/run/.private-ns/$d/work" "/$d"
done
exec "$@"
