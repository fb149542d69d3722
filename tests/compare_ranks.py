#!/usr/bin/python3
"""Rank-independence check: runs `mpiexec -n k EXE retrieve <args>` for each k in --np and
compares every run with the first: /patterns and /initial_states bit-identical, per-trial
label and nearest_memory identical, and /final_states within 10*(rtol*max|x|+atol), with
rtol/atol from the summary's "integrator" section. Step counts are not compared.
Usage: compare_ranks.py EXE [--np 1,2,3] [--keep DIR] -- <ratemem retrieve args>
Prints the differences found; exits 1 on any mismatch or failed run."""
import argparse, json, os, shutil, subprocess, sys, tempfile
import h5py
import numpy as np

argv = sys.argv[1:]
rest = argv[argv.index("--") + 1:] if "--" in argv else []
argv = argv[:argv.index("--")] if "--" in argv else argv
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("exe")
ap.add_argument("--np", default="1,2,3", help="comma-separated rank counts (default 1,2,3)")
ap.add_argument("--keep", metavar="DIR", help="write outputs to DIR and keep them")
args = ap.parse_args(argv)
nps = [int(k) for k in args.np.split(",")]
work = args.keep or tempfile.mkdtemp(prefix="compare_ranks.")
os.makedirs(work, exist_ok=True)

def run(k):
    """Runs on k ranks; returns (summary dict, {dataset: array}) or None if the run failed."""
    s, o = os.path.join(work, f"s_{k}.json"), os.path.join(work, f"o_{k}.h5")
    cmd = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(k), args.exe, "retrieve", *rest,
           "-summary", s, "-output", o]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        rc, log = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        rc, log = "timeout", ""
    if rc != 0:
        print(f"FAIL: {' '.join(cmd)} exited {rc}\n" + "\n".join(log.splitlines()[-20:]))
        return None
    try:
        with h5py.File(o, "r") as f:
            data = {name: f[name][()] for name in ("patterns", "initial_states", "final_states")}
        return json.load(open(s)), data
    except (OSError, KeyError, ValueError) as e:
        print(f"FAIL: cannot read the outputs of the {k}-rank run: {e!r}")
        return None

def identical(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()

bad = []
results = {k: run(k) for k in nps}
if any(r is None for r in results.values()):
    bad.append("a run failed")
else:
    k0 = nps[0]
    s0, d0 = results[k0]
    rtol, atol = float(s0["integrator"]["rtol"]), float(s0["integrator"]["atol"])
    x0 = d0["final_states"]
    tol = 10 * (rtol * float(np.max(np.abs(x0), initial=0.0)) + atol)
    for k in nps[1:]:
        s, d = results[k]
        for name in ("patterns", "initial_states"):
            if not identical(d0[name], d[name]):
                bad.append(f"/{name} differs between {k0} and {k} ranks")
        t0, t = s0["trials"], s["trials"]
        if len(t0) != len(t):
            bad.append(f"{len(t0)} trials on {k0} ranks but {len(t)} on {k}")
        for i, (a, b) in enumerate(zip(t0, t)):
            for key in ("label", "nearest_memory"):
                if a[key] != b[key]:
                    bad.append(f"trial {i} {key}: {a[key]!r} on {k0} ranks, {b[key]!r} on {k}")
        if d["final_states"].shape != x0.shape:
            bad.append(f"/final_states shape {d['final_states'].shape} on {k} ranks != {x0.shape}")
        else:
            diff = float(np.max(np.abs(d["final_states"] - x0), initial=0.0))
            print(f"np {k0} vs {k}: max |final_states difference| = {diff:.3e} (tolerance {tol:.3e})")
            if not diff <= tol:
                bad.append(f"/final_states differ by {diff:.3e} > {tol:.3e} between {k0} and {k} ranks")

if not args.keep:
    shutil.rmtree(work, ignore_errors=True)
if bad:
    print("compare_ranks: MISMATCH\n  " + "\n  ".join(bad)); sys.exit(1)
print(f"compare_ranks: OK for ranks {args.np}")
