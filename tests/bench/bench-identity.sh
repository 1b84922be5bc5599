#!/bin/bash
# bench-identity.sh BIN [USERS...] - loading the identity file (the first
# step of publishing) against yajl's stream parse and yajl's tree, measured
# in the same run: median wall time, then callgrind instruction counts of
# one load each (times drift here; instruction counts do not).
set -euo pipefail
BIN=${1:?usage: bench-identity.sh BIN [USERS...]}
shift
for n in ${*:-10000 100000}; do
	"$BIN" "$n"
	command -v valgrind >/dev/null || { echo "(valgrind missing: no Ir)"; continue; }
	[ "$n" -gt 20000 ] && { echo "(Ir at $n users skipped: callgrind would take minutes)"; continue; }
	base=
	printf '%-10s %14s %8s\n' mode Ir ratio
	for m in stream yajltree tree identity; do
		out=$(mktemp)
		valgrind --tool=callgrind --toggle-collect=measure --callgrind-out-file="$out" \
			"$BIN" "$n" "$m" >/dev/null 2>&1
		ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
		rm -f "$out"
		[ -z "$base" ] && base=$ir
		awk -v m="$m" -v ir="$ir" -v b="$base" 'BEGIN{printf "%-10s %14d %7.2fx\n", m, ir, ir/b}'
	done
done
