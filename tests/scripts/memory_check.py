#!/usr/bin/python3
"""Memory accounting (issue #4): a low-rank retrieval at n = 10^6, P = 50 on 2 ranks (BDF) must stay
under a stated budget, asserted from the peak resident memory the run reports in its JSON summary.

Budget: 512 MiB summed over the 2 ranks and 320 MiB on the largest rank. Measured at commit 982ffcd (bash tests/scripts/memory_check.py build/ratemem):
376 MB in all, 188 MB on the largest rank (about 40 MB per rank is the MPI + PETSc baseline; the rest
is ~300 bytes per neuron, mostly CVODE's BDF history and Krylov vectors; the memories take 50 bits per
neuron). An O(n P) array of doubles (400 MB) or a global vector gathered per rank for every memory would
break the budget. Usage: memory_check.py EXE"""
import json
import os
import subprocess
import sys
import tempfile

exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="ratemem-mem.")
summary = os.path.join(tmp, "s.json")
n, P = 1000000, 50
BUDGET_TOTAL, BUDGET_RANK = 512 * 2**20, 320 * 2**20
cmd = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", "2", exe, "retrieve", "-neurons", str(n), "-memories", str(P),
       "-storage", "lowrank", "-trials", "1", "-flip", "0.1", "-seed", "3", "-summary", summary]
print("$ " + " ".join(cmd), flush=True)
p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
print(p.stdout[-1500:])
if p.returncode != 0:
    sys.exit(f"FAIL: exit {p.returncode}: {p.stderr[-2000:]}")
d = json.load(open(summary))
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


mem = d["memory"]
check(d["ranks"] == 2 and d["network"]["n"] == n, "2 ranks, n = 10^6")
check(d["trials"][0]["label"] == "retrieved", f"trial 0 retrieved (label {d['trials'][0]['label']})")
check(mem["peak_rss_total"] > 8 * n, f"reported peak {mem['peak_rss_total'] / 2**20:.1f} MiB is at least one vector of doubles (plausible)")
check(mem["peak_rss_total"] <= BUDGET_TOTAL, f"peak over ranks {mem['peak_rss_total'] / 2**20:.1f} MiB <= budget {BUDGET_TOTAL / 2**20:.0f} MiB")
check(mem["peak_rss_max_rank"] <= BUDGET_RANK, f"peak on largest rank {mem['peak_rss_max_rank'] / 2**20:.1f} MiB <= {BUDGET_RANK / 2**20:.0f} MiB")
check("peak memory:" in p.stdout, "peak memory printed at the end of the run")
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
