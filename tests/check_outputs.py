#!/usr/bin/python3
"""Validates one `ratemem retrieve` run's outputs: the -summary JSON (the keys that
/work/shared/checks/contract-core.sh requires, labels, counts, retrieval_rate) and the
-output HDF5 file (/patterns, /initial_states, /final_states, /overlaps: shapes, dtypes,
values), and that each trial's JSON overlap is /overlaps[t, nearest_memory].
Usage: check_outputs.py SUMMARY.json OUTPUT.h5 --neurons N --memories P --trials T --ranks R
Exits 1 listing every problem found."""
import argparse, json, math, sys
import h5py
import numpy as np

TOP = ["ranks", "model", "network", "integrator", "trials", "retrieval_rate"]
MODEL = ["activation", "gain", "threshold", "a", "b", "coding", "balance", "tau", "alpha", "beta", "gamma"]
NETWORK = ["n", "memories", "design", "storage", "seed"]
INTEGRATOR = ["method", "rtol", "atol"]
TRIAL = ["cue_memory", "flip_fraction", "converged", "label", "nearest_memory", "overlap", "t_end", "steps", "rhs_evals", "residual"]
LABELS = ("retrieved", "other", "saturated", "quiescent", "spurious", "unconverged")

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("summary"); ap.add_argument("output")
for name in ("neurons", "memories", "trials", "ranks"):
    ap.add_argument("--" + name, type=int, required=True)
args = ap.parse_args()
n, P, T = args.neurons, args.memories, args.trials
bad = []

def need(obj, keys, where):
    if not isinstance(obj, dict):
        bad.append(f"{where} is not an object"); return
    bad.extend(f"{where}.{k} missing" for k in keys if k not in obj)

try:
    s = json.load(open(args.summary))
    f = h5py.File(args.output, "r")
except (OSError, ValueError) as e:
    sys.exit(f"check_outputs: cannot read outputs: {e}")
if not isinstance(s, dict):
    sys.exit("check_outputs: summary is not a JSON object")
need(s, TOP, "summary")
need(s.get("model"), MODEL, "model")
need(s.get("network"), NETWORK, "network")
need(s.get("integrator"), INTEGRATOR, "integrator")
trials = s.get("trials") if isinstance(s.get("trials"), list) else []
for t, tr in enumerate(trials):
    need(tr, TRIAL, f"trials[{t}]")
    if isinstance(tr, dict) and tr.get("label") not in LABELS:
        bad.append(f"trials[{t}].label={tr.get('label')!r} not in {LABELS}")
net = s.get("network") if isinstance(s.get("network"), dict) else {}
for key, got, want in (("ranks", s.get("ranks"), args.ranks), ("network.n", net.get("n"), n),
                       ("network.memories", net.get("memories"), P), ("number of trials", len(trials), T)):
    if got != want:
        bad.append(f"{key} = {got!r}, expected {want}")

data = {}
for name, shape in (("patterns", (P, n)), ("initial_states", (T, n)), ("final_states", (T, n)), ("overlaps", (T, P))):
    if name not in f or not isinstance(f[name], h5py.Dataset):
        bad.append(f"hdf5 /{name} missing"); continue
    d = f[name][()]
    if d.shape != shape:
        bad.append(f"hdf5 /{name} shape {d.shape} != {shape}"); continue
    data[name] = d
    if name == "patterns":
        if d.dtype != np.uint8: bad.append(f"hdf5 /patterns dtype {d.dtype} != uint8")
        elif not np.isin(d, (0, 1)).all(): bad.append("hdf5 /patterns has values other than 0 and 1")
    else:
        if name != "overlaps" and d.dtype != np.float64: bad.append(f"hdf5 /{name} dtype {d.dtype} != float64")
        elif d.dtype.kind != "f": bad.append(f"hdf5 /{name} dtype {d.dtype} is not floating point")
        elif not np.isfinite(d).all(): bad.append(f"hdf5 /{name} has non-finite values")

if "overlaps" in data and len(trials) == T:
    for t, tr in enumerate(trials):
        k, ov = tr.get("nearest_memory"), tr.get("overlap")
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < P:
            bad.append(f"trials[{t}].nearest_memory={k!r} not an index in [0, {P})")
        elif not isinstance(ov, (int, float)) or abs(ov - data["overlaps"][t, k]) > 1e-12:
            bad.append(f"trials[{t}].overlap={ov!r} != /overlaps[{t},{k}]={data['overlaps'][t, k]!r}")
if trials:
    rate = sum(isinstance(tr, dict) and tr.get("label") == "retrieved" for tr in trials) / len(trials)
    got = s.get("retrieval_rate")
    if not isinstance(got, (int, float)) or not math.isclose(got, rate, rel_tol=0, abs_tol=1e-12):
        bad.append(f"retrieval_rate={got!r} != fraction retrieved {rate!r}")

if bad:
    print("check_outputs: problems:\n  " + "\n  ".join(bad)); sys.exit(1)
print(f"check_outputs: OK ({T} trials, n={n}, P={P}, {args.ranks} ranks)")
