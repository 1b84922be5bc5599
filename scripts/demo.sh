#!/bin/bash
# demo.sh - the whole system in a private mount namespace with the example
# identity file, narrated.  Nothing on this machine changes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/ns.sh"
need_ns "demo: needs root and mount namespaces (sudo make demo)"
install_root || exit 1
in_ns TOP="$top" ROOT="$root" TEST="$top/tests/integration/demo.sh" \
	"$top/tests/integration/harness.sh"
