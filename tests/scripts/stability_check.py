#!/usr/bin/python3
"""End-to-end check of `ratemem stability` (model.md §6). Usage: stability_check.py EXE [REPO]

On 2 ranks:
 1. deterministic memories, n = 300 (sigmoid: the stability condition holds; rectified tanh
    rho = 4.8, x* = 0.75: an instability condition holds): the JSON summary has one entry per memory
    with the fields the issue asks for; every abscissa agrees to 1e-8 with numpy's dense eigen-solve
    of J = -I + D W rebuilt here from model.md §1-§3 (independent of the C code); the §6 condition
    values equal the formulas; the verdicts agree; the global condition is reported as unavailable;
 2. random memories with mixture cues: the non-memory equilibria reached from the cues are listed,
    polished to equilibria and given an abscissa;
 3. a tiny phase diagram (4 x 4, n = 200, thresholds up to 1.2 so that the last column makes the
    design undefined): CSV with one row per point, values in range, invalid points marked, the
    numerical verdict consistent with max_abscissa, max_abscissa equal to numpy's to 1e-8, the
    low-rank cross-check equal to it, and scripts/plot_phase.py draws a PNG from it;
 4. -help lists the options; a half-given phase diagram and an unknown option are refused.
No .partial file may be left behind."""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

exe = os.path.abspath(sys.argv[1])
repo = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".."))
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
tmp = tempfile.mkdtemp(prefix="ratemem-stability.")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, np_=2, expect_ok=True):
    cmd = MPI + ["-n", str(np_), exe, "stability"] + [str(a) for a in args]
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return p


# ------------------------------------------------------------------ model.md §1-§3, independently
def deterministic(n, q):
    P = int(math.floor(1 + 1 / q + 1e-9))
    M = np.zeros((n, P))
    common, blocks = int(math.floor(q * q * n + 1e-9)), int(math.floor(q * (1 - q) * n + 1e-9))
    M[:common, :] = 1
    for k in range(blocks):
        M[common + k * P:common + (k + 1) * P, :] = np.eye(P)
    return M


def activation(kind, rho, xs):
    if kind == "sigmoid":
        f = lambda s: 1 / (1 + np.exp(-4 * rho * (s - xs - 1 / (2 * rho))))
        return f, lambda s: 4 * rho * f(s) * (1 - f(s))
    f = lambda s: np.where(s >= xs, np.tanh(rho * (s - xs)), 0.0)
    return f, lambda s: np.where(s >= xs, rho * (1 - np.tanh(rho * (s - xs)) ** 2), 0.0)


def memory_abscissae(M, q, a, b, kind, rho, xs):
    """Largest eigenvalue of J = -I + D W at each memory (basic design, dense numpy eig)."""
    n, P = M.shape
    phi, dphi = activation(kind, rho, xs)
    pa, pb = float(phi(np.array(a))), float(phi(np.array(b)))
    alpha = (b - a) / (pb - pa)
    gamma = (q * b + (1 - q) * a) / (q * pb + (1 - q) * pa)
    W = alpha / (n * q * (1 - q)) * (M - q) @ (M - q).T + gamma / n
    out = []
    for mu in range(P):
        d = dphi(a + (b - a) * M[:, mu])
        out.append(np.linalg.eigvals(-np.eye(n) + d[:, None] * W).real.max())
    da, db = float(dphi(np.array(a))), float(dphi(np.array(b)))
    cond = {"stability": max(da, db) * max(alpha, gamma),
            "instability_1": q * (gamma - alpha) * (db - da) - (1 - db * alpha) * (1 - da * gamma),
            "instability_2": q * db * ((1 - q) * alpha + q * gamma) - 1}
    return np.array(out), cond


def no_partial(path):
    check(not os.path.exists(path + ".partial"), f"no {os.path.basename(path)}.partial left")


# ------------------------------------------------------------------ 1. memories, both verdicts
for kind, extra, want in [("sigmoid", [], "stable"), ("rectanh", ["-gain", 4.8, "-threshold", 0.75], "unstable")]:
    js = os.path.join(tmp, f"{kind}.json")
    p = run(["-neurons", 300, "-pattern_kind", "deterministic", "-activation", kind, "-summary", js] + extra)
    no_partial(js)
    s = json.load(open(js))
    check(s["command"] == "stability" and s["mode"] == "memories" and s["ranks"] == 2, f"{kind}: summary header")
    check(s["eigensolver"]["library"] == "SLEPc" and s["eigensolver"]["which"] == "largest_real", f"{kind}: eigensolver recorded")
    check(s["conditions"]["global"]["available"] is False, f"{kind}: global condition reported as not available")
    mems = s["memories"]
    check(len(mems) == 6, f"{kind}: six deterministic memories ({len(mems)})")
    fields = ["memory", "abscissa", "stable", "eigenvalues", "equilibrium", "conditions", "lowrank_abscissa", "matvecs"]
    check(all(all(k in m for k in fields) for m in mems), f"{kind}: per-memory fields {fields}")
    check(all(m["equilibrium"]["residual"] < 1e-9 and m["equilibrium"]["at_memory"] for m in mems), f"{kind}: equilibria at the memories")
    rho, xs = s["model"]["gain"], s["model"]["threshold"]
    ref, cond = memory_abscissae(deterministic(300, 0.2), 0.2, -0.3, 0.95, kind, rho, xs)
    got = np.array([m["abscissa"] for m in mems])
    err = np.abs(got - ref).max()
    check(err <= 1e-8, f"{kind}: abscissae agree with numpy's dense eig to 1e-8 (max diff {err:.2e})")
    check(all(abs(m["lowrank_abscissa"] - m["abscissa"]) <= 1e-8 for m in mems), f"{kind}: low-rank cross-check agrees")
    check(all(m["eigenvalues"][0] == max(m["eigenvalues"]) and abs(m["eigenvalues"][0] - m["abscissa"]) < 1e-14 for m in mems),
          f"{kind}: eigenvalues listed rightmost first")
    c = s["conditions"]
    for key in ["stability", "instability_1", "instability_2"]:
        check(abs(c[key]["value"] - cond[key]) <= 1e-10 * max(1, abs(cond[key])), f"{kind}: {key} value {c[key]['value']:.6g} = formula {cond[key]:.6g}")
    m0 = mems[0]["conditions"]
    if want == "stable":
        check(c["stability"]["holds"] and all(m["stable"] and m["abscissa"] < 0 for m in mems), f"{kind}: stability condition holds, all memories stable")
        check(all(m["conditions"]["stability_agrees"] is True for m in mems), f"{kind}: spectrum agrees with the stability condition")
        check(m0["instability_agrees"] is None, f"{kind}: no instability verdict where no instability condition holds")
    else:
        check((c["instability_1"]["holds"] or c["instability_2"]["holds"]) and all(not m["stable"] and m["abscissa"] > 0 for m in mems),
              f"{kind}: an instability condition holds, all memories unstable")
        check(all(m["conditions"]["instability_agrees"] is True for m in mems), f"{kind}: spectrum agrees with the instability condition")
        check(m0["stability_agrees"] is None, f"{kind}: no stability verdict where the stability condition fails")
    check("abscissa" in p.stdout and "instability 1" in p.stdout, f"{kind}: table printed")

# ------------------------------------------------------------------ 2. equilibria that are not memories
js = os.path.join(tmp, "cues.json")
run(["-neurons", 300, "-memories", 6, "-seed", 2, "-stability_cues", 4, "-cue", "mixture", "-mixture_count", 3, "-flip", 0, "-summary", js])
s = json.load(open(js))
nm = s.get("non_memory_equilibria", {})
trials = nm.get("trials", [])
check(nm.get("cues") == 4 and len(trials) == 4, "cues: one entry per cue")
analysed = [t for t in trials if t["analysed"]]
check(all(t["analysed"] == (t["label"] in ("spurious", "other", "quiescent", "saturated")) for t in trials),
      "cues: exactly the end states other than the cued memory are analysed")
check(len(analysed) >= 1 and nm["count"] == len(analysed), f"cues: non-memory equilibria found and counted ({len(analysed)})")
check(all(t["residual"] < 1e-9 and math.isfinite(t["abscissa"]) and t["stable"] == (t["abscissa"] < 0) for t in analysed),
      "cues: each is polished to an equilibrium and has an abscissa")
check(any(t["label"] in ("spurious", "quiescent") for t in analysed), "cues: a state expressing no memory (spurious or quiescent) among them")

# ------------------------------------------------------------------ 3. tiny phase diagram
pcsv, pjs, png = os.path.join(tmp, "phase.csv"), os.path.join(tmp, "phase.json"), os.path.join(tmp, "phase.png")
run(["-neurons", 200, "-pattern_kind", "deterministic", "-activation", "rectanh", "-phase_gain", "0.2,5,4", "-phase_threshold", "0,1.2,4",
     "-phase_csv", pcsv, "-summary", pjs])
no_partial(pcsv)
no_partial(pjs)
with open(pcsv) as f:
    rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
check(len(rows) == 16, f"phase: 16 grid points ({len(rows)})")
g = sorted({float(r["gain"]) for r in rows})
t = sorted({float(r["threshold"]) for r in rows})
check(np.allclose(g, np.linspace(0.2, 5, 4)) and np.allclose(t, np.linspace(0, 1.2, 4)), "phase: grid is linspace(lo, hi, N)")
valid = [r for r in rows if r["valid"] == "1"]
invalid = [r for r in rows if r["valid"] == "0"]
check(len(invalid) == 4 and all(float(r["threshold"]) > 0.95 for r in invalid), "phase: points with x* > b are marked invalid")
check(all(math.isnan(float(r["max_abscissa"])) for r in invalid), "phase: invalid points carry no abscissa")
check(all(r["numerically_stable"] == ("1" if float(r["max_abscissa"]) < 0 else "0") for r in valid), "phase: stable iff max_abscissa < 0")
check(all(-1.0 - 1e-12 <= float(r["max_abscissa"]) < 1e3 for r in valid), "phase: max_abscissa in range (>= -1)")
check(all(0 <= float(r["phi_a"]) <= float(r["phi_b"]) <= 1 for r in valid), "phase: 0 <= phi(a) < phi(b) <= 1")
check(all(r["stability_holds"] in "01" and r["instability_holds"] in "01" for r in valid), "phase: condition flags are 0/1")
check(all(r["agrees_stability"] in ("", "1") and r["agrees_instability"] in ("", "1") for r in valid), "phase: the spectrum never contradicts a condition")
check(all(abs(float(r["lowrank_abscissa"]) - float(r["max_abscissa"])) <= 1e-8 for r in valid), "phase: low-rank cross-check within 1e-8")
M = deterministic(200, 0.2)
worst = 0.0
for r in valid:
    ref, cond = memory_abscissae(M, 0.2, -0.3, 0.95, "rectanh", float(r["gain"]), float(r["threshold"]))
    worst = max(worst, abs(ref.max() - float(r["max_abscissa"])))
    if abs(cond["stability"] - float(r["stability_value"])) > 1e-10 * max(1, abs(cond["stability"])):
        failures.append(f"phase: stability value at {r['gain']},{r['threshold']}")
check(worst <= 1e-8, f"phase: max_abscissa agrees with numpy's dense eig to 1e-8 (max diff {worst:.2e})")
ps = json.load(open(pjs))
check(ps["mode"] == "phase" and ps["phase"]["valid_points"] == len(valid), "phase: JSON summary counts")
p = subprocess.run(["/usr/bin/python3", os.path.join(repo, "scripts", "plot_phase.py"), pcsv, png], capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"plot_phase.py runs ({p.stderr[-500:]})")
check(os.path.exists(png) and os.path.getsize(png) > 5000 and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "plot_phase.py writes a PNG")

# ------------------------------------------------------------------ 4. options
p = run(["-help"], 1)
text = p.stdout + p.stderr
for opt in ["-stability_cues", "-phase_gain", "-phase_threshold", "-phase_csv", "-stability_operator", "-stability_nev", "-stability_tol",
            "-stability_refine", "-summary", "-neurons", "-activation"]:
    check(opt in text, f"-help lists {opt}")
p = run(["-neurons", 100, "-phase_gain", "1,2,2"], 1, expect_ok=False)
check(p.returncode != 0 and "needs both -phase_gain and -phase_threshold" in p.stderr, "a half-given phase diagram is refused")
p = run(["-neurons", 100, "-stability_bogus", 1], 1, expect_ok=False)
check(p.returncode != 0 and "unknown option" in p.stderr and "stability_bogus" in p.stderr, "an unknown option is refused")

if failures:
    sys.exit(f"{len(failures)} check(s) failed: " + "; ".join(failures))
print("all stability checks passed")
