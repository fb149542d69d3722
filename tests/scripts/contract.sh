#!/usr/bin/env bash
# The core's public interface: ../shared/checks/contract-core.sh when the shared checks are
# beside the repo, and in any case our own output check on the same run shape.
set -euo pipefail
repo=$1 exe=$2
cd "$repo"
if [ -x "$repo/../shared/checks/contract-core.sh" ]; then
  RATEMEM="$exe" bash "$repo/../shared/checks/contract-core.sh"
else
  echo "contract: ../shared/checks/contract-core.sh not beside this clone; running tests/check_outputs.py only"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpiexec --allow-run-as-root --oversubscribe -n 2 "$exe" retrieve -neurons 300 -memories 4 -flip 0.1 -trials 2 -seed 1 \
  -summary "$tmp/s.json" -output "$tmp/o.h5" >/dev/null
/usr/bin/python3 "$repo/tests/check_outputs.py" "$tmp/s.json" "$tmp/o.h5" --neurons 300 --memories 4 --trials 2 --ranks 2
