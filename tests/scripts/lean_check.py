#!/usr/bin/python3
"""The lean explicit path (docs/benchmark.md "10⁹ neurons"): -integrator euler on -storage lowrank fuses
each step into one pass over the memories' bits (RmModelEulerStep), and the run keeps no state-sized
vector besides the state itself.

Checks:
  * memory: the marginal peak resident bytes per neuron, (peak(n2) - peak(n1)) / (n2 - n1) at 1 rank with
    -lowrank_kernel avx2, is at most 20 (the bits take P/8 = 6.25 at P = 50, the state 8, the cue's bytes 1),
    and the run's own estimate is within [0.8, 1.5] of the measured peak; a run that fits -memory_limit only
    without the table kernel's copy of the bits gets a one-line error naming -lowrank_kernel avx2;
  * the fused step against the unfused one (-euler_fuse false): the same labels and nearest memories, and
    final states within dt * converge_tol / tau (the fused loop ends one step later, docs/benchmark.md);
  * kernels avx2 and portable give the default table kernel's labels, and states within 1e-12;
  * the projection design (W = U K Uᵀ) fuses as well, with the unfused labels;
  * rank invariance of the fused step: labels equal on 1 and 3 ranks, final states within 1e-9.
Usage: lean_check.py EXE"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="ratemem-lean.")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(tag, ranks, args):
    summary = os.path.join(tmp, tag + ".json")
    cmd = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(ranks), exe, "retrieve", "-quiet", "-summary", summary] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {p.returncode}: {p.stderr[-1500:]}")
    return json.load(open(summary))


def states(tag, ranks, args):
    out = os.path.join(tmp, tag + ".h5")
    d = run(tag, ranks, args + ["-output", out])
    with h5py.File(out, "r") as f:
        return d, f["final_states"][()]


def labels(d):
    return [(t["label"], t["nearest_memory"]) for t in d["trials"]]


# --- memory per neuron
big = ["-memories", "50", "-storage", "lowrank", "-lowrank_kernel", "avx2", "-integrator", "euler", "-euler_dt", "0.25", "-t_final", "1",
       "-trials", "1", "-flip", "0.1", "-seed", "5"]
n1, n2 = 2000000, 6000000
d1 = run("m1", 1, ["-neurons", str(n1)] + big)
d2 = run("m2", 1, ["-neurons", str(n2)] + big)
p1, p2 = d1["memory"]["peak_rss_max_rank"], d2["memory"]["peak_rss_max_rank"]
marginal = (p2 - p1) / (n2 - n1)
check(marginal <= 20.0, f"marginal peak {marginal:.2f} bytes per neuron <= 20 (n = {n1} -> {n2}, P = 50, euler, lowrank avx2)")
check(marginal >= 50 / 8, f"marginal peak {marginal:.2f} bytes per neuron >= the memories' bits (6.25): the measurement sees them")
est = d2["memory"]["estimate_per_rank"]
check(0.8 * p2 <= est <= 1.5 * p2, f"memory estimate {est / 2**20:.1f} MiB within [0.8, 1.5] x the measured peak {p2 / 2**20:.1f} MiB")

# --- a run that fits only without the table kernel's copy of the bits is told so, and fits with avx2
limit = ["-neurons", "2000000", "-memories", "50", "-storage", "lowrank", "-integrator", "euler", "-trials", "1", "-t_final", "0.1",
         "-memory_limit", "85M", "-quiet"]
p = subprocess.run([exe, "retrieve"] + limit, capture_output=True, text=True, timeout=300)
check(p.returncode != 0 and "-lowrank_kernel avx2 keeps one copy" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      f"table kernel over -memory_limit: one-line error pointing at -lowrank_kernel avx2 (exit {p.returncode}: {p.stderr.strip()[:160]!r})")
p = subprocess.run([exe, "retrieve"] + limit + ["-lowrank_kernel", "avx2"], capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"the same run with -lowrank_kernel avx2 fits the limit (exit {p.returncode})")

# --- fused against unfused, kernels, projection, ranks
dt, tol = 0.05, 1e-6
small = ["-neurons", "3000", "-memories", "10", "-storage", "lowrank", "-integrator", "euler", "-euler_dt", str(dt), "-converge_tol", str(tol),
         "-trials", "4", "-flip", "0.1", "-seed", "11"]
df, xf = states("fused", 1, small)
du, xu = states("unfused", 1, small + ["-euler_fuse", "false"])
check(labels(df) == labels(du), f"fused and unfused: same labels and nearest memories {labels(df)}")
check(all(t["converged"] for t in df["trials"]), "fused: every trial converged")
err = float(np.max(np.abs(xf - xu)))
check(err <= dt * tol, f"fused and unfused final states within dt*converge_tol = {dt * tol:g} (max diff {err:.3g})")
steps_f = [t["steps"] for t in df["trials"]]
steps_u = [t["steps"] for t in du["trials"]]
check(steps_f == [s + 1 for s in steps_u], f"the fused loop ends one step after the unfused one ({steps_f} vs {steps_u})")
check(all(t["weight_products"] == t["rhs_evals"] for t in df["trials"]), "fused: one weight product per step, no more")
for kernel in ("avx2", "portable"):
    dk, xk = states("k-" + kernel, 1, small + ["-lowrank_kernel", kernel])
    e = float(np.max(np.abs(xk - xf)))
    check(labels(dk) == labels(df) and e <= 1e-12, f"kernel {kernel} against the default (table): same labels, states within 1e-12 ({e:.3g})")
proj = small + ["-design", "projection"]
dp, xp = states("proj", 1, proj)
dpu, xpu = states("proj-unfused", 1, proj + ["-euler_fuse", "false"])
e = float(np.max(np.abs(xp - xpu)))
check(labels(dp) == labels(dpu) and e <= dt * tol, f"projection design fused: the unfused labels {labels(dp)}, states within dt*tol ({e:.3g})")
d3, x3 = states("fused-np3", 3, small)
e = float(np.max(np.abs(x3 - xf)))
check(labels(d3) == labels(df), "fused: same labels on 3 ranks as on 1")
check(e <= 1e-9, f"fused: final states on 3 ranks within 1e-9 of 1 rank ({e:.3g})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
