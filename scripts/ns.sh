# ns.sh - sourced (with top set) by the scripts that run the real clients
# in a private mount namespace: run-integration.sh, demo.sh, deb-test.sh.

# need_ns MESSAGE: print MESSAGE and exit 1 unless this is root and may
# make mount namespaces (a check that cannot run them has not passed).
need_ns() {
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "$1" >&2
		exit 1
	fi
}

# install_root: `make install` of the build folder $B (default build)
# into $top/$B/root, which it empties first; sets B and root.
install_root() {
	B=${B:-build}
	root=$top/$B/root
	rm -rf "$root"
	make -s -C "$top" install B="$B" DESTDIR="$root" >/dev/null
}

# in_ns [NAME=VALUE]... SCRIPT: bash SCRIPT in a new session and private
# mount namespace, with an empty environment but PATH, LANG and the
# NAME=VALUE given; its exit status.
in_ns() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 "${@:1:$#-1}" \
		setsid -w unshare --mount --propagation private \
		bash "${!#}" </dev/null
}
