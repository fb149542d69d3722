#!/usr/bin/env bash
# Bad-input checks for the ratemem app: each case runs `EXE retrieve <args>` on one rank
# (no mpiexec) and expects a non-zero exit, a stderr line "ratemem: error: ..." naming the
# problem (case-insensitive substring), no crash report, and no -summary/-output file left
# behind. Prints "ok: <case>" or "FAIL: <case>: <why>"; exits 1 if any case failed.
# Usage: tests/check_errors.sh EXE
set -euo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then echo "usage: $0 EXE (an executable ratemem)" >&2; exit 2; fi
exe=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
failures=0

# check NAME EXPECTED CMD...: runs CMD, judges its exit status, stderr and output files
check() {
  local name=${1//$tmp/TMP} expect=$2 why="" rc=0 line
  shift 2
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  line=$(grep -E '^ratemem: error: ' "$tmp/err" | grep -iF -m1 -- "$expect" || true)
  if [ "$rc" -eq 0 ]; then why="exit status 0"
  elif [ "$rc" -eq 124 ]; then why="timed out after 60 s"
  elif [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"
  elif grep -Eq 'Segmentation|AddressSanitizer|core dumped' "$tmp/err"; then why="crashed (exit $rc)"
  elif ! grep -Eq '^ratemem: error: ' "$tmp/err"; then why="no 'ratemem: error: ' line on stderr"
  elif [ -z "$line" ]; then why="error line does not mention '$expect'"
  elif [ -e "$tmp/s.json" ] || [ -e "$tmp/o.h5" ]; then why="left an output file behind"
  fi
  rm -f "$tmp/s.json" "$tmp/o.h5"
  if [ -z "$why" ]; then echo "ok: $name"; return; fi
  echo "FAIL: $name: $why"; head -n 40 "$tmp/err" | sed 's/^/    | /'
  failures=$((failures + 1))
}

# retrieve EXPECTED ARGS...: a retrieve run asked to write both output files
retrieve() {
  local expect=$1; shift
  check "retrieve $*" "$expect" "$exe" retrieve "$@" -summary "$tmp/s.json" -output "$tmp/o.h5"
}

retrieve neurons -neurons 0
retrieve neurons -neurons -5
retrieve memories -memories 0
retrieve memories -neurons 10 -memories 11
retrieve flip -flip 1.5
retrieve flip -flip -0.1
retrieve tau -tau 0
retrieve tau -tau -1
retrieve gain -gain nan
retrieve finite -a inf
retrieve /nonexistent/p.h5 -patterns /nonexistent/p.h5

if /usr/bin/python3 - "$tmp" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]
with h5py.File(d + "/wrong_shape.h5", "w") as f:
    f["patterns"] = np.zeros(3, dtype=np.float64)
with h5py.File(d + "/no_patterns.h5", "w") as f:
    f["something_else"] = np.zeros((2, 10), dtype=np.uint8)
PY
then
  retrieve patterns -patterns "$tmp/wrong_shape.h5"
  retrieve patterns -patterns "$tmp/no_patterns.h5"
else
  echo "FAIL: patterns files: could not create them with /usr/bin/python3 and h5py"; failures=$((failures + 1))
fi

printf 'neurons: [1, 2\n  bad: : :\n' >"$tmp/BAD.yaml"
retrieve yaml -options_file_yaml "$tmp/BAD.yaml"
retrieve no_such_option -no_such_option 3
retrieve design -design nonsense
retrieve lowrank -network ei
retrieve indegree -storage compressed
retrieve stiffness -network ei -storage lowrank -stiffness -3
check frobnicate frobnicate "$exe" frobnicate
retrieve cvode_tail_switch -cvode_tail_rtol 1e-6 -cvode_tail_switch 0
retrieve erk_table -integrator erk -erk_table nonsense
retrieve "unknown integrator" -integrator rk45
retrieve cvode_tail_rtol -cvode_tail_rtol -1
retrieve cvode_tail_atol -cvode_tail_atol nan
retrieve cvode_tail_stall_steps -cvode_tail_stall_steps -1
retrieve cvode -neurons 50 -memories 2 -integrator bdf -rtol 1e-6 -cvode_max_steps 1 -t_final 100
# a failure inside CVODE itself: a zero absolute tolerance on a state with zero entries
retrieve CV_ILL_INPUT -neurons 50 -memories 2 -integrator bdf -atol 0

[ "$failures" -eq 0 ] || { echo "check_errors: $failures case(s) failed"; exit 1; }
echo "check_errors: all cases passed"
