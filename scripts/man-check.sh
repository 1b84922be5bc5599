#!/bin/bash
# man-check.sh PAGE... - every man page renders without a warning.
set -uo pipefail
fail=0
for p in "$@"; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "man: $p:"; echo "$out"; fail=1
	fi
done
echo "man: $# pages checked"
exit $fail
