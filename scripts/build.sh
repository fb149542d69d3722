#!/usr/bin/env bash
# Builds ratemem: installs missing Debian packages, then configures (once) and compiles
#   build/       release build (default)
#   build-asan/  debug build with AddressSanitizer + UBSan (with --asan)
# Later runs only call ninja, which re-runs meson itself when meson.build changes.
# Usage: scripts/build.sh [--asan]
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
opts=(--buildtype=release)
case "${1:-}" in
  "") ;;
  --asan) dir=build-asan; opts=(--buildtype=debug "-Db_sanitize=address,undefined" -Db_lundef=false) ;;
  *) echo "usage: $0 [--asan]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh

if [ ! -f "$dir/meson-private/coredata.dat" ]; then
  meson setup "$dir" "${opts[@]}"                 # fresh (also fine if $dir exists but is empty)
elif ! meson introspect "$dir" --projectinfo >/dev/null 2>&1; then
  meson setup --reconfigure "$dir" "${opts[@]}"   # stale, e.g. configured by another meson version
fi
ninja -C "$dir"
