#!/usr/bin/python3
"""End-to-end check of `ratemem bench` (issue #4). Usage: bench_check.py EXE [REPO]

Runs a small benchmark on 2 ranks (dense, aij, aij-diluted, lowrank at n = 500, 1000, with one
retrieval per case; then aij-diluted and compressed at n = 2000) and asserts that the CSV has one row per case with positive finite times, a
fraction of the triad bandwidth in (0, 20) (in-cache cases at n <= 2000 can exceed 1:
the L3 outruns DRAM; 20 still catches a wrong byte count or unit), retrieval steps > 0, that no .partial file is left, and
that scripts/plot_bench.py makes a non-empty PNG from it. Also checks that -help lists the bench
options and that an unknown option and a per-case option (-neurons) are refused."""
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

exe = os.path.abspath(sys.argv[1])
repo = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
tmp = tempfile.mkdtemp(prefix="ratemem-bench.")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def run(args, np_=2):
    cmd = MPI + ["-n", str(np_), exe, "bench"] + [str(a) for a in args]
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp)


def positive_finite(row, key):
    try:
        v = float(row[key])
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and v > 0


csv_path = os.path.join(tmp, "tmp.csv")
p = run(["-bench_neurons", "500,1000", "-bench_storage", "dense,aij,lowrank", "-bench_indegree", 50, "-bench_repeat", 3,
         "-bench_csv", csv_path, "-bench_retrieve"])
print(p.stdout)
if p.returncode != 0:
    sys.exit(f"FAIL: ratemem bench exited {p.returncode}:\n{p.stderr[-3000:]}")
check(os.path.exists(csv_path), "CSV written")
check(not os.path.exists(csv_path + ".partial"), "no .partial file left")
with open(csv_path, newline="") as f:
    text = f.read()
check("# bytes_per_product:" in text and "12 nnz" in text and "2 P n/8" in text, "CSV header states the byte formulas")
rows = list(csv.DictReader([line for line in text.splitlines() if not line.startswith("#")]))
cases = [(r["storage"], int(r["n"])) for r in rows]
want = [(s, n) for s in ["dense", "aij", "aij-diluted", "lowrank"] for n in [500, 1000]]
check(sorted(cases) == sorted(want), f"one row per case ({cases})")
for r in rows:
    case = f"{r['storage']} n={r['n']}"
    check(r["ranks"] == "2", f"{case}: ranks = 2")
    for key in ["triad_GBs", "product_ms_min", "product_ms_median", "rhs_ms_min", "rhs_ms_median", "synapse_updates_per_s",
                "bytes_per_product", "product_GBs", "synapses", "retrieve_wall_s", "build_s"]:
        check(positive_finite(r, key), f"{case}: {key} = {r[key]} positive and finite")
    check(float(r["product_ms_min"]) <= float(r["product_ms_median"]), f"{case}: min <= median")
    frac = float(r["fraction_of_triad"])
    # product_GBs / triad_GBs (an in-cache product may beat the triad many times over on a loaded machine)
    ratio = float(r["product_GBs"]) / float(r["triad_GBs"])
    check(math.isfinite(frac) and frac > 0 and abs(frac - ratio) <= 1e-3 * ratio + 1e-6,
          f"{case}: fraction of triad {frac} = product_GBs / triad_GBs ({ratio:.6g})")
    check(int(r["retrieve_steps"]) > 0 and int(r["retrieve_rhs_evals"]) > 0, f"{case}: retrieval steps {r['retrieve_steps']} > 0")
    check(math.isfinite(float(r["bytes_per_neuron"])), f"{case}: bytes per neuron {r['bytes_per_neuron']} finite")
    n, K = int(r["n"]), int(r["K"])
    syn = float(r["synapses"])
    if r["storage"] == "aij-diluted":
        check(K == 50 and syn == n * K, f"{case}: n K synapses")
    elif r["storage"] in ("dense", "lowrank", "aij"):
        check(K == 0 and syn == n * n, f"{case}: n^2 synapses")
    if r["storage"] == "lowrank":
        check(r["kernel"] in ("table", "avx2", "portable"), f"{case}: kernel {r['kernel']}")
        check(float(r["bytes_per_product"]) == 2 * int(r["P"]) * n / 8 + 24 * n, f"{case}: lowrank byte formula")
    if r["storage"] == "dense":
        check(float(r["bytes_per_product"]) == 8 * n * n + 8 * n * 2 + 8 * n, f"{case}: dense byte formula")
for s in ["dense", "aij", "aij-diluted", "lowrank"]:
    check(any(line.startswith(s + " ") for line in p.stdout.splitlines()), f"stdout table has a {s} row")

png = os.path.join(tmp, "bench.png")
q = subprocess.run(["/usr/bin/python3", os.path.join(repo, "scripts", "plot_bench.py"), csv_path, png], capture_output=True, text=True,
                   timeout=300)
check(q.returncode == 0, f"plot_bench.py ran ({q.stderr[-500:]})")
check(os.path.exists(png) and os.path.getsize(png) > 1000, "plot_bench.py wrote a non-empty PNG")
if os.path.exists(png):
    with open(png, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the plot is a PNG")

# The compressed diluted storage, on the same graph as aij-diluted: same synapse count, its own byte formula.
c_csv = os.path.join(tmp, "c.csv")
c = run(["-bench_neurons", 2000, "-bench_storage", "aij-diluted,compressed", "-bench_indegree", 50, "-bench_memories", 5, "-bench_repeat", 2,
         "-bench_csv", c_csv], 2)
check(c.returncode == 0, f"aij-diluted,compressed run ({c.stderr[-500:]})")
if c.returncode == 0:
    with open(c_csv, newline="") as f:
        crow = {r["storage"]: r for r in csv.DictReader(line for line in f if not line.startswith("#"))}
    check(set(crow) == {"aij-diluted", "compressed"}, f"rows {sorted(crow)}")
    if "compressed" in crow:
        r = crow["compressed"]
        check(float(r["synapses"]) == 2000 * 50 and float(r["bytes_per_product"]) == 4 * 2000 * 50 + 16 * 2000, "compressed: n K synapses, 4 nK + 16 n bytes")
        check(positive_finite(r, "product_ms_min") and 0 < float(r["fraction_of_triad"]) < 20, "compressed: positive time, fraction in (0, 20)")

h = run(["-help"], 1)
text = h.stdout + h.stderr
check(h.returncode == 0, "bench -help exits 0")
for opt in ["-bench_storage", "-bench_neurons", "-bench_memories", "-bench_indegree", "-bench_repeat", "-bench_csv", "-bench_retrieve"]:
    check(opt in text, f"-help lists {opt}")
e = run(["-bench_neurons", 300, "-bench_nuerons", 300], 1)
check(e.returncode != 0 and "bench_nuerons" in e.stderr, "an unknown option is refused")
e = run(["-neurons", 300], 1)
check(e.returncode != 0 and "-bench_neurons" in e.stderr, "-neurons is refused (use -bench_neurons)")
e = run(["-bench_storage", "csr", "-bench_neurons", 300, "-bench_csv", os.path.join(tmp, "bad.csv")], 1)
check(e.returncode != 0 and "csr" in e.stderr and not os.path.exists(os.path.join(tmp, "bad.csv")), "an unknown storage is refused, no CSV")

if failures:
    sys.exit(f"{len(failures)} check(s) failed: " + "; ".join(failures))
shutil.rmtree(tmp, ignore_errors=True)
print("all bench checks passed")
