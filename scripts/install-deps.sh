#!/bin/sh
# install-deps.sh - install the Debian packages this project needs to build,
# test and demonstrate itself, but only those that are missing.
#
# Idempotent: `dpkg -s` decides; apt-get runs only when something is absent.
# As a non-root user it names the missing packages and fails, so a newcomer
# knows exactly what to ask for.
set -eu

PKGS="gcc make libc6-dev pkg-config
libpam0g-dev libpam-modules libpam-runtime
libyajl-dev libconfig-dev liboath-dev libcrypt-dev libqrencode-dev
libcriterion-dev
pamtester oathtool sudo openssh-server openssh-client util-linux login
expect man-db groff-base valgrind clang libclang-rt-14-dev llvm iproute2
python3 jq openssl strace
debhelper dh-nss dpkg-dev fakeroot lintian systemd logrotate"

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root: apt-get install$missing" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Never start daemons (sshd) on the real host while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
