#!/bin/bash
# make-deb.sh - build the Debian packages (dpkg-buildpackage -us -uc -b)
# from a copy of the tree under build/deb/src, so neither the working tree
# nor its parent folder gets build products; the .debs, .buildinfo and
# .changes land in build/deb/.  A build newer than every source file is
# reused (make-deb.sh --force rebuilds).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/deb
stamp=$out/.built
if [ "${1:-}" != --force ] && [ -e "$stamp" ] &&
   [ -z "$(find . \( -path ./build -o -path './build-*' -o -path ./.git \) -prune \
	-o -type f -newer "$stamp" -print -quit)" ]; then
	echo "deb: build/deb is up to date"
	exit 0
fi
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
rm -rf "$out"
src=$out/src/iam-$version
mkdir -p "$src"
tar --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$src" -xf -
(cd "$src" && DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
rm -rf "$out/src"
touch "$stamp"
ls "$out"/*.deb
