#!/bin/sh
# lint-deb.sh - lintian on the packages in build/deb: any error or
# warning fails.  An override lives in debian/*.lintian-overrides with a
# comment saying why.
set -eu
cd "$(dirname "$0")/.."
set -- build/deb/*.changes
[ -e "$1" ] || { echo "lint-deb: no build/deb/*.changes; run make deb" >&2; exit 1; }
lintian --fail-on error,warning "$@"
echo "lint-deb: lintian: no error, no warning"
