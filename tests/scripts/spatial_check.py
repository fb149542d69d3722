#!/usr/bin/python3
"""-storage spatial from the command line (src/synapses/spatial.c): a retrieval on a ring
(K = 50 within radius 100, n = 2000, P = 5, 3 trials) gives the same labels and nearest memories on
1 and 2 ranks, with overlaps within the integrator's tolerance; on 2 ranks the off-rank columns of
each rank printed by -ratemem_view are at most 2R (p = 0); a grid2d retrieval with rewiring agrees
on 1 and 3 ranks; a non-square n for grid2d and K above the candidates within the radius are one
clear error line each.
Usage: spatial_check.py EXE"""
import json, os, re, subprocess, sys, tempfile
exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp()
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def retrieve(np_, args):
    path = os.path.join(tmp, f"s{np_}.json")
    p = subprocess.run(MPI + ["-n", str(np_), exe, "retrieve", "-summary", path, "-ratemem_view"] + args,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, p
    return json.load(open(path)), p


RING = ["-storage", "spatial", "-connectivity", "ring", "-indegree", "50", "-radius", "100", "-neurons", "2000",
        "-memories", "5", "-trials", "3"]
GRID = ["-storage", "spatial", "-connectivity", "grid2d", "-indegree", "40", "-radius", "4", "-rewire", "0.05",
        "-neurons", "1600", "-memories", "5", "-trials", "3"]
for args, nps, radius in [(RING, [1, 2], 100), (GRID, [1, 3], None)]:
    runs = {}
    for np_ in nps:
        s, p = retrieve(np_, args)
        check(s is not None, f"{' '.join(args)} on {np_} rank(s) runs" + ("" if s else f" (exit {p.returncode}: {p.stderr.strip()[-500:]})"))
        if s is None:
            continue
        runs[np_] = s
        m = re.search(r"off-rank columns per rank((?: +\d+)+)", p.stdout)
        check(m is not None, f"{np_} rank(s): -ratemem_view prints the off-rank columns per rank")
        if m and radius is not None:
            ghosts = [int(g) for g in m.group(1).split()]
            check(len(ghosts) == np_ and max(ghosts) <= 2 * radius and (np_ == 1 or min(ghosts) > radius),
                  f"{np_} rank(s): off-rank columns {ghosts} <= 2R = {2 * radius}")
    if len(runs) == 2:
        a, b = (runs[k]["trials"] for k in nps)
        labels = [(t["label"], t["nearest_memory"]) for t in a], [(t["label"], t["nearest_memory"]) for t in b]
        check(labels[0] == labels[1], f"labels on {nps[0]} and {nps[1]} ranks identical: {labels[0]} / {labels[1]}")
        dov = max(abs(x["overlap"] - y["overlap"]) for x, y in zip(a, b))
        check(dov < 1e-4, f"overlaps on {nps[0]} and {nps[1]} ranks agree to {dov:.1e}")
        if args is RING:
            check(all(t["label"] == "retrieved" for t in a), f"ring: every cue retrieved ({labels[0]})")

for args, expect in [
        (["-connectivity", "grid2d", "-indegree", "20", "-neurons", "2000"],
         "-connectivity grid2d needs a square number of neurons (side^2), got -neurons 2000 (nearest squares 1936 and 2025)"),
        (["-connectivity", "ring", "-indegree", "50", "-radius", "10", "-neurons", "2000"],
         "-indegree 50 exceeds the 20 neurons within -radius 10 (-connectivity ring)"),
        (["-indegree", "0", "-neurons", "200"], "-storage spatial needs -indegree K > 0"),
        (["-indegree", "20", "-rewire", "2", "-neurons", "200"], "-rewire must be in [0, 1]")]:
    p = subprocess.run([exe, "retrieve", "-storage", "spatial", "-memories", "3", "-trials", "1", "-quiet"] + args,
                       capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stderr.splitlines() if l.startswith("ratemem: error: ")]
    check(p.returncode != 0 and len(lines) == 1 and expect in lines[0],
          f"{' '.join(args)}: exit {p.returncode}, one error line with '{expect}' (got {lines})")

sys.exit(1 if failures else 0)
