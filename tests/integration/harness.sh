#!/bin/bash
# harness.sh - runs inside a private mount namespace (see
# scripts/run-integration.sh): overlays the installed build over the
# system's folders, gives /etc, /var and /run throw-away layers, wires
# nsswitch.conf for iam, then sources the test script $TEST, which uses
# the helpers below and ends with `finish`.
set -uo pipefail
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	echo "harness: refusing to run in the host's mount namespace" >&2
	exit 1
fi
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
export MULTIARCH
LIBDIR=$(readlink -f "/usr/lib/$MULTIARCH")
T=$(mktemp -d /tmp/iam-it.XXXXXX)
chmod 755 "$T"
# The tmpfs on $T lives in this namespace only; the empty folder under it
# is the host's, removed once the tmpfs is gone.
trap 'cleanup_test; cd /; umount -l "$T" 2>/dev/null; rmdir "$T" 2>/dev/null; true' EXIT
cleanup_test() { :; }	# a test may redefine it (stop sshd, ...)

mount -t tmpfs -o mode=755 tmpfs "$T"
mkdir -p "$T/ovl" "$T/home"
for d in etc var; do
	mkdir -p "$T/ovl/$d/up" "$T/ovl/$d/work"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$T/ovl/$d/up,workdir=$T/ovl/$d/work" "/$d"
done
mount -t overlay overlay -o "lowerdir=$ROOT$LIBDIR:$LIBDIR" "$LIBDIR"
mount -t overlay overlay -o "lowerdir=$ROOT/usr/bin:/usr/bin" /usr/bin
mkdir -p "$ROOT/usr/libexec/sudo"
mount -t overlay overlay -o "lowerdir=$ROOT/usr/libexec:/usr/libexec" /usr/libexec
# A fresh /run hides a host nscd, whose cache would answer for us.
mount -t tmpfs -o mode=755 tmpfs /run
rm -rf /var/lib/iam /var/log/iam /etc/iam
mkdir -p -m 0755 /etc/iam
cp "$ROOT/etc/iam/iam.conf" /etc/iam/iam.conf
chmod 0644 /etc/iam/iam.conf
for f in wtmp btmp lastlog; do : > "/var/log/$f"; done
sed -i -E 's/^(passwd|group):.*/\1: files iam/' /etc/nsswitch.conf

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
show() { [ -n "${1:-}" ] && printf '      %s\n' "${1//$'\n'/$'\n'      }"; return 0; }
# expect WANT_RC "description" command... : run, compare the exit status
expect() {
	local want=$1 d=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ]; then ok "$d"; else bad "$d (rc=$rc, wanted $want)"; fi
	show "$out"
	LAST_OUT=$out
}
# expect_out WANT_RC REGEX "description" command... : also grep the output
expect_out() {
	local want=$1 re=$2 d=$3 out rc
	shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" <<<"$out"; then ok "$d"
	else bad "$d (rc=$rc, wanted $want and /$re/)"; fi
	show "$out"
	LAST_OUT=$out
}
finish() {
	echo "$(basename "$TEST" .sh): $pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
# has [GREP-OPTION...] PATTERN: grep -q that reads all of its input
# first, so the writer of a pipe is never killed by SIGPIPE when the
# match comes early (pipefail would turn that into a failure).
has() { local in; in=$(cat); grep -q "$@" <<<"$in"; }
# free_port: a TCP port on 127.0.0.1 nothing listens on now, so tests
# (and two checkouts testing at once) never fight over a fixed port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# identity helpers: install an identity file and publish it
use_identity() {	# use_identity FILE
	install -m 0600 -o root -g root "$1" /etc/iam/identity.json
	iamctl sync
}
. "$TEST"
finish
