#!/usr/bin/env bash
# The test command: builds build/ (release) and build-asan/ (ASan+UBSan), runs every meson
# test in build/ and the "unit" suite in build-asan/, and always runs both even if one fails.
# Ends with the line "N passed, M failed" (after "K skipped"); exits 0 iff M is 0.
# OK/EXPECTEDFAIL pass; FAIL/UNEXPECTEDPASS/TIMEOUT/ERROR fail; a failed build counts as 1 failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

extra_failed=0   # builds that failed, and meson test runs that failed without logging a failure
logs=()

# run_suite DIR [meson test args...]: runs meson test in DIR and remembers its log
run_suite() {
  local dir=$1; shift
  local log="$dir/meson-logs/testlog.json" rc=0
  rm -f "$log"
  meson test -C "$dir" --print-errorlogs --num-processes 1 "$@" || rc=$?
  if [ -f "$log" ]; then logs+=("$log"); fi
  if [ "$rc" -ne 0 ] && { [ ! -f "$log" ] || ! grep -Eq '"result": "(FAIL|UNEXPECTEDPASS|TIMEOUT|ERROR)"' "$log"; }; then
    echo "test.sh: meson test -C $dir exited $rc without a failing test in its log" >&2
    extra_failed=$((extra_failed + 1))
  fi
}

if bash scripts/build.sh; then
  run_suite build
else
  echo "test.sh: release build failed" >&2; extra_failed=$((extra_failed + 1))
fi

# fast_unwind_on_malloc=0: Open MPI's libraries have no frame pointers, so the fast unwinder
# stops after one frame and the libmpi/mca_ suppressions in tests/lsan.supp could never match.
if bash scripts/build.sh --asan; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  LSAN_OPTIONS="suppressions=$repo/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0" \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan --suite unit
else
  echo "test.sh: sanitizer build failed" >&2; extra_failed=$((extra_failed + 1))
fi

# Count results over both logs (one JSON object per line).
if ! command -v python3 >/dev/null; then   # only when install-deps failed, so both builds did
  printf '0 skipped\n0 passed, %d failed\n' "$((extra_failed > 0 ? extra_failed : 1))"; exit 1
fi
python3 - "$extra_failed" "${logs[@]}" <<'PY'
import json, sys
passed = skipped = 0
failed = int(sys.argv[1])  # failed builds etc.
bad = []
for path in sys.argv[2:]:
    for line in open(path):
        if not line.strip():
            continue
        try:
            t = json.loads(line)
        except ValueError:
            t = {"result": "ERROR", "name": "unreadable line in log"}
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            bad.append(f"  {r}: {t.get('name')} ({path.split('/')[0]})")
if bad:
    print("failed tests:", *bad, sep="\n")
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
