#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the 2-rank retrieval
# demo of configs/demo.yaml (extra arguments are passed on to `ratemem retrieve`).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -t ratemem-build.XXXXXX.log)
echo "demo: installing missing packages and building (log: $log) ..." >&2
bash scripts/build.sh >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "demo: build failed (log: $log)" >&2; exit 1; }
exec mpiexec --allow-run-as-root --oversubscribe -n 2 build/ratemem retrieve -options_file_yaml configs/demo.yaml "$@"
