#!/usr/bin/python3
"""-storage compressed's ghost exchange and its spatial connectivity from the command line
(src/synapses/compressed.c, connectivity.c):
- a retrieval on a ring (n = 2000, K = 50 within radius 100, P = 5, 3 trials) gives the same labels
  and nearest memories on 1, 2 and 3 ranks, overlaps within the integrator's tolerance, and the same
  labels as -storage spatial (the same graph, stored as MATAIJ); -ratemem_view prints no off-rank
  columns on one rank and at most 2R per rank on 2 and 3;
- on 2 ranks, double-precision ghosts and the exchange without overlap give the same trials, bit
  for bit (the kernel reads float ghosts either way), as single-precision ghosts with overlap;
- -log_view counts RmGhostExchange twice per product on 2 ranks (start and finish) and not at all on
  one rank (nothing to exchange).
Usage: compressed_ghosts_check.py EXE"""
import json, os, re, subprocess, sys, tempfile
exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp()
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def retrieve(np_, args, tag):
    path = os.path.join(tmp, f"{tag}-{np_}.json")
    p = subprocess.run(MPI + ["-n", str(np_), exe, "retrieve", "-summary", path, "-ratemem_view"] + args,
                       capture_output=True, text=True, timeout=300)
    ok = p.returncode == 0
    check(ok, f"{tag}: {' '.join(args)} on {np_} rank(s) runs" + ("" if ok else f" (exit {p.returncode}: {p.stderr.strip()[-500:]})"))
    return (json.load(open(path)) if ok else None), p


def trials(s):
    return [(t["label"], t["nearest_memory"]) for t in s["trials"]]


R = 100
BASE = ["-indegree", "50", "-neurons", "2000", "-memories", "5", "-trials", "3"]
RING = ["-storage", "compressed", "-connectivity", "ring", "-radius", str(R)] + BASE
runs = {}
for np_ in (1, 2, 3):
    s, p = retrieve(np_, RING, "ring")
    if s is None:
        continue
    runs[np_] = s
    m = re.search(r"off-rank columns per rank((?: +\d+)+)", p.stdout)
    check(m is not None, f"{np_} rank(s): -ratemem_view prints the off-rank columns per rank")
    if m:
        ghosts = [int(g) for g in m.group(1).split()]
        want = (lambda g: g == [0]) if np_ == 1 else (lambda g: len(g) == np_ and 0 < max(g) <= 2 * R)
        check(want(ghosts), f"{np_} rank(s): off-rank columns {ghosts} (none on one rank, <= 2R = {2 * R} otherwise)")
if len(runs) == 3:
    for np_ in (2, 3):
        check(trials(runs[1]) == trials(runs[np_]), f"labels on 1 and {np_} ranks identical: {trials(runs[1])} / {trials(runs[np_])}")
        dov = max(abs(x["overlap"] - y["overlap"]) for x, y in zip(runs[1]["trials"], runs[np_]["trials"]))
        check(dov < 1e-4, f"overlaps on 1 and {np_} ranks agree to {dov:.1e}")
    check(all(t["label"] == "retrieved" for t in runs[1]["trials"]), f"ring: every cue retrieved ({trials(runs[1])})")
sp, _ = retrieve(1, ["-storage", "spatial", "-connectivity", "ring", "-radius", str(R)] + BASE, "spatial")
if sp and 1 in runs:
    check(trials(sp) == trials(runs[1]), f"compressed and spatial (MATAIJ) on the same ring: the same labels {trials(sp)}")

# Every exchange mode: the same trials, bit for bit, on 2 ranks.
if 2 in runs:
    for extra in (["-compressed_ghost_precision", "double"], ["-compressed_ghost_overlap", "0"],
                  ["-compressed_ghost_precision", "double", "-compressed_ghost_overlap", "0"]):
        s, _ = retrieve(2, RING + extra, "mode")
        if s:
            keys = ("label", "nearest_memory", "overlap", "t_end", "steps", "rhs_evals")
            a = [{k: t.get(k) for k in keys} for t in runs[2]["trials"]]
            b = [{k: t.get(k) for k in keys} for t in s["trials"]]
            check(a == b, f"{' '.join(extra)}: the same trials as single ghosts with overlap ({b[0]})")

# The exchange event: two per product where there are ghosts, none on one rank.
RANDOM = ["-storage", "compressed", "-neurons", "2000", "-memories", "5", "-trials", "1", "-indegree", "50", "-quiet", "-log_view"]
for np_ in (1, 2):
    p = subprocess.run(MPI + ["-n", str(np_), exe, "retrieve"] + RANDOM, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"random graph, -log_view on {np_} rank(s) runs")
    ev = re.search(r"^RmGhostExchange\s+(\d+)", p.stdout, re.M)
    mult = re.search(r"^MatMult\s+(\d+)", p.stdout, re.M)
    if np_ == 1:
        check(ev is None or int(ev.group(1)) == 0, f"1 rank: no RmGhostExchange ({ev.group(0) if ev else 'not listed'})")
    else:
        check(ev is not None and mult is not None and int(ev.group(1)) == 2 * int(mult.group(1)) > 0,
              f"2 ranks: RmGhostExchange counted twice per MatMult ({ev.group(0) if ev else None}; {mult.group(0) if mult else None})")

sys.exit(1 if failures else 0)
