#!/usr/bin/python3
"""End-to-end check of the stiff-regime sweep (issue #5 item 4). Usage: stiff_check.py EXE [REPO]

1. Runs scripts/stiff_sweep.py on configs/stiff_sweep_tiny.yaml (2 ranks) with --png and asserts:
   a CSV row for every (ratio, gain, integrator) with the issue's columns; every BDF run converged
   with the single-population reference's labels and within the config's accuracy of its final
   states; Euler's best stable step was chosen (dt among the candidates, converged, accurate) at
   every point; at ratio 100, BDF needs fewer RHS evaluations than the best Euler step; the
   Euler candidates CSV and the PNG exist; no temporary file is left.
2. Runs the driver on a one-point config whose Euler steps are 2.5 and 1.9 tau_I at ratio 100:
   2.5 tau_I is beyond the pools' stability limit (2 tau_I), so the row must say diverged = 1 and
   pick 1.9 tau_I.
3. The tail tolerance (-cvode_tail_rtol/-cvode_tail_atol): at gain 2, ratio 100 (n = 1000, P = 10,
   the sweep's point where BDF at rtol 1e-2 alone stalls above the 1e-7 stopping rule), BDF at
   rtol 1e-2 with the tail at 1e-6 converges, ends in the single-population reference's labels
   within 1e-6 of its final states, and needs fewer RHS evaluations than BDF at rtol 1e-6. At ratio 1
   (a cue that drifts slowly to a spurious state) the stall rule must still bring every cue to
   convergence, to the states BDF at rtol 1e-6 reaches."""
import json
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

exe = os.path.abspath(sys.argv[1])
repo = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".."))
tmp = tempfile.mkdtemp(prefix="ratemem-stiff.")
failures = []
ISSUE_COLUMNS = ["ratio", "gain", "integrator", "dt", "rhs_evals", "steps", "nonlin_iters", "lin_iters",
                 "krylov_per_newton", "prec_solves", "err_test_fails", "conv_fails", "wall_time", "label", "converged",
                 "diverged", "max_diff_to_reference", "abscissa"]


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def sweep(config, out, png=None):
    cmd = [sys.executable, os.path.join(repo, "scripts", "stiff_sweep.py"), config, "--np", "2", "--exe", exe, "--out", out]
    if png:
        cmd += ["--png", png]
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    print(p.stdout[-4000:])
    if p.returncode != 0:
        sys.exit(f"FAIL: stiff_sweep.py exited {p.returncode}:\n{p.stderr[-3000:]}")
    with open(os.path.join(out, "stiff_sweep.csv"), newline="") as f:
        r = csv.DictReader(f)
        return r.fieldnames, list(r)


# --- 1. the tiny config
cfg_path = os.path.join(repo, "configs", "stiff_sweep_tiny.yaml")
with open(cfg_path) as f:
    cfg = yaml.safe_load(f)
out = os.path.join(tmp, "tiny")
png = os.path.join(tmp, "stiff.png")
cols, rows = sweep(cfg_path, out, png)
acc = float(cfg.get("accuracy", 1e-6))
tau = float(cfg["options"].get("tau", 1.0))

check(cols[:len(ISSUE_COLUMNS)] == ISSUE_COLUMNS, f"CSV starts with the issue's columns ({cols[:len(ISSUE_COLUMNS)]})")
by = {(float(r["ratio"]), float(r["gain"]), r["integrator"]): r for r in rows}
points = [(float(R), float(g), i) for R in cfg["stiffness"] for g in cfg["gain"] for i in cfg["integrators"]]
check(len(rows) == len(points) and all(p in by for p in points), f"one CSV row per point ({len(rows)} rows, {len(points)} points)")

for (R, g, integ) in points:
    r = by.get((R, g, integ))
    if r is None:
        continue
    where = f"ratio {R:g}, gain {g:g}"
    if integ == "bdf" or cfg["integrator_options"].get(integ, {}).get("integrator") == "bdf":
        where += f" ({integ})"
        check(r["converged"] == "1", f"{where}: BDF converged")
        check(r["label"] == r["reference_label"] and r["label_matches_reference"] == "1",
              f"{where}: BDF labels {r['label']} = single-population reference's {r['reference_label']}")
        check(fnum(r["max_diff_to_reference"]) <= acc,
              f"{where}: BDF final states within {acc:g} of the reference (max diff {r['max_diff_to_reference']})")
        check(r["failed"] == "0" and r["diverged"] == "0", f"{where}: BDF did not fail")
        kpn = fnum(r["krylov_per_newton"])
        check(math.isfinite(kpn) and kpn >= 0, f"{where}: Krylov per Newton reported ({r['krylov_per_newton']})")
        check(fnum(r["rhs_evals"]) > 0 and fnum(r["steps"]) > 0 and fnum(r["nonlin_iters"]) > 0,
              f"{where}: BDF cost counts > 0")
    if integ == "euler":
        dt = fnum(r["dt"])
        cands = [float(c) * tau / R for c in cfg["euler"]["factors"]] + [float(cfg["euler"].get("cap") or 0)]
        check(math.isfinite(dt) and any(abs(dt - c) <= 1e-12 * c for c in cands if c > 0),
              f"{where}: Euler best stable step chosen among the candidates (dt {r['dt']})")
        check(r["converged"] == "1" and fnum(r["max_diff_to_reference"]) <= acc,
              f"{where}: Euler best step converged within {acc:g} of the reference ({r['max_diff_to_reference']})")
        check(int(r["euler_tried"] or 0) >= 2, f"{where}: several Euler steps tried ({r['euler_tried']})")

b, e = by.get((100.0, float(cfg["gain"][0]), "bdf")), by.get((100.0, float(cfg["gain"][0]), "euler"))
if b and e:
    check(fnum(b["rhs_evals"]) < fnum(e["rhs_evals"]),
          f"ratio 100: BDF RHS evaluations {b['rhs_evals']} < best Euler's {e['rhs_evals']}")
else:
    check(False, "ratio 100 rows for bdf and euler present")
absc = [r["abscissa"] for r in rows if r["abscissa"]]
# `ratemem stability` runs for every row (cfg "stability": true): the memories of this network are stable equilibria
check(bool(absc) and len(absc) == len(rows), f"spectral abscissa reported for every row ({len(absc)} of {len(rows)})")
check(all(math.isfinite(fnum(a)) and fnum(a) < 0 for a in absc), f"spectral abscissa < 0 ({set(absc)})")
check(os.path.exists(os.path.join(out, "euler_candidates.csv")), "Euler candidates CSV written")
check(os.path.exists(png) and os.path.getsize(png) > 10000, "PNG produced")
with open(png, "rb") as f:
    check(f.read(8) == b"\x89PNG\r\n\x1a\n", "PNG signature")
left = [n for n in os.listdir(out) if n.endswith(".tmp") or ".tmp." in n] + \
       [n for n in os.listdir(tmp) if ".tmp" in n]
check(not left, f"no temporary files left ({left})")

# --- 2. a step beyond the stability limit is reported as diverged
cfg2 = dict(cfg)
cfg2.update({"stiffness": [100], "gain": [cfg["gain"][0]], "integrators": ["euler"], "stability": False,
             "euler": dict(cfg["euler"], factors=[2.5, 1.9], cap=None)})
cfg2_path = os.path.join(tmp, "diverge.yaml")
with open(cfg2_path, "w") as f:
    yaml.safe_dump(cfg2, f)
_, rows2 = sweep(cfg2_path, os.path.join(tmp, "diverge"))
r = rows2[0] if rows2 else {}
check(r.get("diverged") == "1", f"Euler at 2.5 tau_I (ratio 100) marked diverged ({r.get('diverged')})")
check(abs(fnum(r.get("dt")) - 1.9 * tau / 100) < 1e-12, f"...and 1.9 tau_I chosen as the best stable step ({r.get('dt')})")

# --- 3. the tail tolerance where the loose tolerance alone stalls (docs/stiff.md "Tail tolerance")
def retrieve(name, extra):
    js, h5 = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".h5")
    cmd = [exe, "retrieve", "-storage", "lowrank", "-neurons", "1000", "-memories", "10", "-seed", "1", "-flip", "0.1",
           "-trials", "2", "-gain", "2", "-t_final", "100", "-quiet", "-summary", js, "-output", h5] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    import h5py
    with open(js) as f, h5py.File(h5, "r") as g:
        return json.load(f), g["final_states"][()]


ei = ["-network", "ei", "-stiffness", "100", "-pool_size", "1", "-converge_tol", "1e-7", "-integrator", "bdf"]
ref, xref = retrieve("tail_ref", ["-network", "single", "-integrator", "bdf", "-rtol", "1e-10", "-atol", "1e-12", "-converge_tol", "1e-11"])
tight, xt = retrieve("tail_tight", ei + ["-rtol", "1e-6", "-atol", "1e-8"])
tail, xl = retrieve("tail", ei + ["-rtol", "1e-2", "-atol", "1e-8", "-cvode_tail_rtol", "1e-6", "-cvode_tail_atol", "1e-6"])
labels = lambda s: [t["label"] for t in s["trials"]]
rhs = lambda s: sum(t["rhs_evals"] for t in s["trials"])
diff = float(abs(xl - xref).max()) if xl.shape == xref.shape else float("inf")
check(all(t["converged"] for t in tail["trials"]), "tail tolerance: every cue converged (gain 2, ratio 100)")
check(labels(tail) == labels(ref), f"tail tolerance: labels {labels(tail)} = the reference's {labels(ref)}")
check(diff <= 1e-6, f"tail tolerance: final states within 1e-6 of the reference ({diff:.2e})")
check(rhs(tail) < rhs(tight), f"tail tolerance: {rhs(tail)} RHS evaluations < {rhs(tight)} at rtol 1e-6")
# At tau_E = tau_I (ratio 1), gain 2, the second cue drifts slowly to a spurious state; there the tail
# tolerance 1e-6 stalls above the stopping rule and the stall rule (-cvode_tail_stall_steps) tightens it:
# every cue must converge, to the states rtol 1e-6 reaches.
ei1 = list(ei)
ei1[ei1.index("-stiffness") + 1] = "1"
tight1, xt1 = retrieve("tail1_tight", ei1 + ["-rtol", "1e-6", "-atol", "1e-8"])
tail1, xl1 = retrieve("tail1", ei1 + ["-rtol", "1e-2", "-atol", "1e-8", "-cvode_tail_rtol", "1e-6", "-cvode_tail_atol", "1e-6"])
check(all(t["converged"] for t in tail1["trials"]), "tail tolerance, ratio 1: every cue converged (the stall rule tightened the tail)")
check(labels(tail1) == labels(tight1), f"tail tolerance, ratio 1: labels {labels(tail1)} = rtol 1e-6's {labels(tight1)}")
d1 = float(abs(xl1 - xt1).max()) if xl1.shape == xt1.shape else float("inf")
check(d1 <= 1e-5, f"tail tolerance, ratio 1: final states within 1e-5 of rtol 1e-6's ({d1:.2e})")

if failures:
    print(f"{len(failures)} check(s) failed:", *failures, sep="\n  ")
    sys.exit(1)
shutil.rmtree(tmp, ignore_errors=True)
print("all stiff sweep checks passed")
