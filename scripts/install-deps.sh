#!/usr/bin/env bash
# Installs the Debian packages ratemem needs to build and test, but only those that are
# missing (checked with dpkg -s), so it is quick and quiet on a machine that has them.
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

pkgs=(gcc libopenmpi-dev openmpi-bin petsc-dev slepc-dev libsundials-dev meson ninja-build
      pkg-config python3-h5py python3-numpy python3-matplotlib python3-yaml hdf5-tools
      python3-sklearn        # its bundled handwritten digits: scripts/digits_example.py (docs/results.md), scripts/make_patterns.py
      python3-pytest         # tests/python/test_ratemem.py (t9-python), the Python package python/ratemem
      python3-scipy          # solve_ivp RK45 of the reference script scripts/ref_scipy.py (docs/benchmark.md "Whole retrieval")
      libopenblas0-serial    # optimised BLAS for MATDENSE products (2x the reference BLAS here)
      slurm-wlm munge        # the local SLURM cluster of the job tests (t9-slurm, scripts/slurm_local.sh)
      iproute2)              # ip, tc: the emulated nodes of scripts/cluster_local.sh (t9-multinode)

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
