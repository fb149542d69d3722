#!/usr/bin/python3
"""t9-experiments (issue #8): every experiment of docs/results.md at a tiny size, through its real config
and plotting script, plus the properties of `ratemem sweep` itself.

Usage: experiments_check.py RATEMEM REPO

Checks, each of which can fail:
* sweep: one CSV row per grid point with the documented header; the same seed gives the same CSV on 1 and
  2 ranks (grid coordinates, labels and rates exactly, overlaps to 1e-6, cost counts to 2%); a second
  run skips every point (none computed, file byte-identical), and a run with a wider grid computes only
  the new points; bad input (both -sweep_memories and -sweep_load, a foreign CSV) fails with one line.
* basin: low load and low corruption retrieve (rate >= 0.9, both designs), very high load does not
  (rate <= 0.25); PNG drawn.
* capacity: final-overlap rate >= 0.9 at load 0.05 and <= 0.2 at load 0.3 for the Hebbian baseline, and
  plot_capacity.py finds the 0.5 crossing between them (--expect); PNG drawn.
* stabmap: `ratemem stability` phase diagram and `ratemem sweep` on the same 3 x 3 gain x threshold grid;
  the map matches all 9 points; cues are retrieved wherever the §6 stability condition holds and wherever
  the computed abscissa is negative, and some unstable point is not retrieved; PNG drawn.
* capacity_designs: at load 0.02 every design retrieves 10%-flipped cues, at 0.4 only the projection
  design; plot_capacity_designs.py reports the crossings; PNG drawn.
* census: random initial states, outcome fractions add up to 1, quiescent at the authors' a, b; PNG drawn.
* authors: the sigmoid, a = -0.3 retrieves from 5%-flipped cues (rate >= 0.9); PNG drawn.
* rewire: on the ring lattice (K = 50, n = 1000) 10%-flipped cues are not retrieved (rate <= 0.25), on the
  random graph (p = 1) they are (>= 0.75); merged CSV and PNG drawn.
* digits: scikit-learn's digits written as /patterns HDF5, images and rate PNGs and the CSV; the paper's
  general design retrieves every uncorrupted digit."""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

exe, repo = sys.argv[1], sys.argv[2]
py = sys.executable
cfg = os.path.join(repo, "configs", "experiments")
scripts = os.path.join(repo, "scripts")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
failures = 0


T0 = time.time()


def check(ok, what):
    global failures
    print(("ok     " if ok else "FAILED ") + what + f"  [{time.time() - T0:.0f} s]", flush=True)
    failures += not ok


def run(args, np=2, expect_fail=False):
    cmd = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(np), exe] + [str(a) for a in args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if expect_fail:
        return res
    if res.returncode:
        print(res.stdout[-3000:], res.stderr[-3000:])
        sys.exit(f"FAILED: {' '.join(cmd)} exited {res.returncode}")
    return res


def script(name, *args):
    res = subprocess.run([py, os.path.join(scripts, name)] + [str(a) for a in args], capture_output=True, text=True, env=env)
    if res.returncode:
        print(res.stdout[-3000:], res.stderr[-3000:])
        sys.exit(f"FAILED: {name} exited {res.returncode}")
    return res.stdout


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def png_ok(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 5000


def pick(rs, **kw):
    out = [r for r in rs if all(abs(float(r[k]) - v) < 1e-9 if isinstance(v, float) else r[k] == v for k, v in kw.items())]
    assert len(out) == 1, (kw, len(out))
    return out[0]


HEADER = ("design,activation,neurons,memories,load,coding,flip,gain,threshold,a,b,balance,seed,trials,retrieval_rate,final_rate,overlap_mean,"
          "overlap_std,frac_other,frac_spurious,frac_unconverged,frac_saturated,frac_quiescent,retrieval_ci_lo,retrieval_ci_hi,steps_mean,rhs_mean,products_per_trial,t_end_mean,wall_time,"
          "frac_memory,frac_memory_ci_lo,frac_memory_ci_hi,frac_quiescent_ci_lo,frac_quiescent_ci_hi,frac_saturated_ci_lo,frac_saturated_ci_hi,"
          "frac_spurious_ci_lo,frac_spurious_ci_hi,frac_unconverged_ci_lo,frac_unconverged_ci_hi").split(",")
EXACT = HEADER[:16] + ["frac_other", "frac_spurious", "frac_unconverged", "frac_saturated", "frac_quiescent", "retrieval_ci_lo", "retrieval_ci_hi"] + HEADER[30:]
COUNTS = ["steps_mean", "rhs_mean", "products_per_trial", "t_end_mean"]

with tempfile.TemporaryDirectory() as d:
    # ---- basin (and the sweep's own properties on its grid) -------------------------------------
    basin = ["sweep", "-options_file_yaml", os.path.join(cfg, "basin.yaml"), "-neurons", 200, "-sweep_load", "0.02,0.5",
             "-sweep_flip", "0.05,0.2", "-trials", 4, "-t_final", 15]
    c1, c2 = os.path.join(d, "basin1.csv"), os.path.join(d, "basin.csv")
    run(basin + ["-sweep_csv", c1], np=1)
    out = run(basin + ["-sweep_csv", c2], np=2).stdout
    r1, r2 = rows(c1), rows(c2)
    check(list(r2[0].keys()) == HEADER, "sweep CSV header")
    ok_ci = True  # the 95% Wilson interval of each retrieval rate, as computed here
    for r in r2:
        n, k = int(r["trials"]), round(float(r["retrieval_rate"]) * int(r["trials"]))
        p, z2 = k / n, 1.96 ** 2
        c, h = (p + z2 / (2 * n)) / (1 + z2 / n), 1.96 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        ok_ci &= abs(float(r["retrieval_ci_lo"]) - max(0, c - h)) < 1e-5 and abs(float(r["retrieval_ci_hi"]) - min(1, c + h)) < 1e-5
        ok_ci &= float(r["retrieval_ci_lo"]) <= float(r["retrieval_rate"]) <= float(r["retrieval_ci_hi"])
    check(ok_ci, "retrieval_ci_lo/hi are the 95% Wilson interval of every row's rate")
    check(len(r2) == 8 and "8 points computed, 0 skipped" in out, f"one row per grid point (2 designs x 2 loads x 2 flips): {len(r2)}")
    same = len(r1) == len(r2)
    for a, b in zip(r1, r2):
        same &= all(a[k] == b[k] for k in EXACT)
        same &= abs(float(a["overlap_mean"]) - float(b["overlap_mean"])) <= 1e-6 and abs(float(a["overlap_std"]) - float(b["overlap_std"])) <= 1e-6
        same &= all(abs(float(a[k]) - float(b[k])) <= 0.02 * max(1.0, float(a[k])) for k in COUNTS)
    check(same, "partition invariance: the same CSV on 1 and 2 ranks (but wall time)")
    before = open(c2, "rb").read()
    out = run(basin + ["-sweep_csv", c2], np=2).stdout
    check("0 points computed, 8 skipped" in out and open(c2, "rb").read() == before, "resume: a second run skips every point, CSV unchanged")
    narrow = ["sweep", "-options_file_yaml", os.path.join(cfg, "basin.yaml"), "-neurons", 200, "-sweep_load", "0.02", "-sweep_flip", "0.05,0.2,0.3",
              "-trials", 4, "-t_final", 15, "-sweep_csv", c2]
    out = run(narrow, np=2).stdout
    check("2 points computed, 4 skipped" in out and len(rows(c2)) == 10 and open(c2, "rb").read().startswith(before),
          "resume: another grid computes only its new points and keeps the old rows")
    rb = r2
    for design in ("paper", "hebbian"):
        lo, hi = pick(rb, design=design, load=0.02, flip=0.05), pick(rb, design=design, load=0.5, flip=0.05)
        check(float(lo["retrieval_rate"]) >= 0.9, f"basin {design}: rate {lo['retrieval_rate']} >= 0.9 at load 0.02, 5% flipped")
        check(float(hi["retrieval_rate"]) <= 0.25, f"basin {design}: rate {hi['retrieval_rate']} <= 0.25 at load 0.5")
    script("plot_basin.py", c2, os.path.join(d, "basin.png"))
    check(png_ok(os.path.join(d, "basin.png")), "basin PNG")
    res = run(["sweep", "-sweep_memories", "2,3", "-sweep_load", "0.1", "-sweep_csv", os.path.join(d, "x.csv")], np=1, expect_fail=True)
    check(res.returncode != 0 and [ln for ln in res.stderr.splitlines() if ln.startswith("ratemem: error:")] == [
          "ratemem: error: give -sweep_memories or -sweep_load, not both"],
          "-sweep_memories with -sweep_load: one-line error")
    bad = os.path.join(d, "bad.csv")
    open(bad, "w").write("a,b\n1,2\n")
    res = run(["sweep", "-neurons", 100, "-memories", 2, "-trials", 1, "-sweep_csv", bad], np=1, expect_fail=True)
    check(res.returncode != 0 and "header differs" in res.stderr and open(bad).read() == "a,b\n1,2\n", "a foreign CSV is refused and left alone")

    # ---- capacity -------------------------------------------------------------------------------
    cc = os.path.join(d, "capacity.csv")
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "capacity.yaml"), "-sweep_neurons", "300,600", "-sweep_load", "0.05,0.3",
         "-trials", 3, "-t_final", 20, "-sweep_csv", cc], np=2)
    rc = rows(cc)
    check(all(float(pick(rc, neurons=n, load=0.05)["final_rate"]) >= 0.9 for n in ("300", "600")), "capacity: final rate >= 0.9 at load 0.05")
    check(all(float(pick(rc, neurons=n, load=0.3)["final_rate"]) <= 0.2 for n in ("300", "600")), "capacity: final rate <= 0.2 at load 0.3")
    cp = os.path.join(d, "capacity_paper.csv")
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "capacity_paper.yaml"), "-sweep_neurons", 300, "-sweep_load", "0.02,0.3",
         "-trials", 3, "-t_final", 20, "-sweep_csv", cp], np=2)
    out = script("plot_capacity.py", cc, os.path.join(d, "capacity.png"), "--paper", cp, "--expect", "0.05,0.3")
    check("hebbian n=600: transition alpha = 0." in out and png_ok(os.path.join(d, "capacity.png")), "capacity: transition found, PNG")

    # ---- capacity of three designs (projection, paper, Hebbian) ---------------------------------
    cd3 = os.path.join(d, "capacity_designs.csv")
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "capacity_designs.yaml"), "-sweep_neurons", 300, "-sweep_load", "0.02,0.4",
         "-trials", 3, "-t_final", 20, "-sweep_csv", cd3], np=2)
    r3 = rows(cd3)
    check(all(float(pick(r3, design=dz, load=0.02)["retrieval_rate"]) >= 0.9 for dz in ("projection", "paper", "hebbian")),
          "capacity_designs: every design retrieves 10%-flipped cues at load 0.02")
    check(float(pick(r3, design="projection", load=0.4)["retrieval_rate"]) >= 0.9 and float(pick(r3, design="paper", load=0.4)["retrieval_rate"]) <= 0.2
          and float(pick(r3, design="hebbian", load=0.4)["retrieval_rate"]) <= 0.2, "capacity_designs: at load 0.4 only the projection design retrieves")
    out = script("plot_capacity_designs.py", cd3, os.path.join(d, "capacity_designs.png"), "--table")
    check("paper n=300: falls below 0.5 at alpha" in out and "projection n=300: no crossing" in out and png_ok(os.path.join(d, "capacity_designs.png")),
          "capacity_designs: crossings reported, PNG")

    # ---- census of random states ----------------------------------------------------------------
    ce = os.path.join(d, "census.csv")
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "census_ab.yaml"), "-neurons", 300, "-memories", 5, "-sweep_a", "-0.3,0.4",
         "-sweep_b", "0.95,1.4", "-trials", 4, "-sweep_csv", ce], np=2)
    rce = rows(ce)
    ok = len(rce) == 4
    for r in rce:
        f = [float(r[k]) for k in ("frac_memory", "frac_quiescent", "frac_saturated", "frac_spurious", "frac_unconverged")]
        ok &= abs(sum(f) - 1) < 1e-5 and abs(f[0] - float(r["retrieval_rate"]) - float(r["frac_other"])) < 1e-6
    check(ok, "census: one row per point, outcome fractions add up to 1")
    check(float(pick(rce, a=-0.3, b=0.95)["frac_quiescent"]) == 1.0, "census: at the authors' a = -0.3, b = 0.95 random states end quiescent")
    out = script("plot_census.py", ce, os.path.join(d, "census.png"), "--table")
    check("4 points, 16 trials" in out and png_ok(os.path.join(d, "census.png")), "census: counts printed, PNG")

    # ---- stability map --------------------------------------------------------------------------
    phase, sm = os.path.join(d, "phase.csv"), os.path.join(d, "stabmap.csv")
    run(["stability", "-options_file_yaml", os.path.join(repo, "configs", "phase.yaml"), "-neurons", 200, "-phase_gain", "0.5,5,3",
         "-phase_threshold", "0,0.9,3", "-phase_csv", phase, "-summary", os.path.join(d, "phase.json"), "-phase_progress", "false"], np=2)
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "stabmap.yaml"), "-neurons", 200, "-sweep_gain", "0.5:5:3", "-sweep_threshold", "0:0.9:3",
         "-trials", 2, "-t_final", 150, "-sweep_csv", sm], np=2)
    script("plot_stabmap.py", phase, sm, os.path.join(d, "stabmap.png"), "--summary", os.path.join(d, "stabmap.json"))
    s = json.load(open(os.path.join(d, "stabmap.json")))
    check(s["matched"] == 9, f"stabmap: all 9 points matched between the phase diagram and the sweep ({s['matched']})")
    check(s["condition_holds"] > 0 and s["condition_holds_and_retrieved"] == s["condition_holds"],
          f"stabmap: retrieved wherever the §6 stability condition holds ({s['condition_holds_and_retrieved']}/{s['condition_holds']})")
    check(s["stable"] > 0 and s["retrieved_and_stable"] == s["stable"], f"stabmap: retrieved wherever the abscissa is negative ({s['retrieved_and_stable']}/{s['stable']})")
    check(s["matched"] - s["retrieved"] > 0, f"stabmap: some unstable point is not retrieved ({s['matched'] - s['retrieved']})")
    check(png_ok(os.path.join(d, "stabmap.png")), "stabmap PNG")

    # ---- authors' parameters --------------------------------------------------------------------
    ca = os.path.join(d, "authors.csv")
    run(["sweep", "-options_file_yaml", os.path.join(cfg, "authors.yaml"), "-neurons", 300, "-memories", 4, "-sweep_flip", "0.05,0.45",
         "-trials", 4, "-sweep_csv", ca], np=2)
    ra = rows(ca)
    check(len(ra) == 8, "authors: 2 activations x 2 a x 2 flips")
    check(float(pick(ra, activation="sigmoid", a=-0.3, flip=0.05)["final_rate"]) >= 0.9, "authors: sigmoid, a = -0.3 retrieves 5%-flipped cues")
    script("plot_authors.py", ca, os.path.join(d, "authors.png"), "--converged", ca)
    check(png_ok(os.path.join(d, "authors.png")), "authors PNG")

    # ---- retrieval against rewiring (one sweep per K, p; merged by plot_rewire.py) ----------------
    rw = os.path.join(d, "rewire")
    os.makedirs(rw)
    for p in ("0", "1"):
        run(["sweep", "-options_file_yaml", os.path.join(cfg, "rewire.yaml"), "-neurons", 1000, "-indegree", 50, "-rewire", p,
             "-sweep_flip", "0.1", "-trials", 4, "-t_final", 30, "-sweep_csv", os.path.join(rw, f"K50_p{p}.csv"), "-quiet"], np=2)
    script("plot_rewire.py", rw, os.path.join(rw, "merged.csv"), os.path.join(d, "rewire.png"))
    rr = rows(os.path.join(rw, "merged.csv"))
    check(len(rr) == 2 and list(rr[0].keys()) == ["indegree", "rewire"] + HEADER, "rewire: merged CSV, indegree and rewire in front of the sweep's columns")
    check(float(pick(rr, rewire=1.0)["retrieval_rate"]) >= 0.75 and float(pick(rr, rewire=0.0)["retrieval_rate"]) <= 0.25,
          "rewire: K = 50 retrieves on the random graph (p = 1), not on the ring lattice (p = 0)")
    check(png_ok(os.path.join(d, "rewire.png")), "rewire PNG")

    # ---- digits ---------------------------------------------------------------------------------
    try:
        import sklearn  # noqa: F401
        have_sklearn = True
    except ImportError:
        have_sklearn = False
    check(have_sklearn, "scikit-learn (python3-sklearn) is installed for the digits example")
    if have_sklearn:
        dd = os.path.join(d, "digits")
        out = script("digits_example.py", "--exe", exe, "--np", 1, "--out", dd, "--upsample", 2, "--sweep-flips", "0,0.3", "--repeats", 1)
        check(all(png_ok(os.path.join(dd, p)) for p in ("digits.png", "digits_rate.png")), "digits: image grid and rate PNGs")
        import h5py
        with h5py.File(os.path.join(dd, "digits.h5")) as f:
            pats = f["patterns"][()]
        check(pats.shape == (4, 256) and pats.dtype.itemsize == 1 and set(pats.ravel()) <= {0, 1}, "digits: /patterns is uint8 0/1, P x n")
        rd = rows(os.path.join(dd, "digits.csv"))
        gen = [r for r in rd if r["design"] == "paper" and r["balance"] != "q" and float(r["flip"]) == 0]
        check(len(rd) == 6 and len(gen) == 1 and float(gen[0]["retrieval_rate"]) == 1.0, "digits: the general design retrieves every uncorrupted digit")

print(f"{failures} check(s) failed" if failures else "all experiment checks passed")
sys.exit(1 if failures else 0)
