#!/usr/bin/python3
"""Storage registry from the command line: a storage's own options are read by its SetFromOptions,
so they are accepted with that storage (-storage compressed -compressed_kernel portable used to be
refused as an unknown option because it was read only at set-up) and refused with another one;
-storage names match regardless of case (as the former enum option did); an unknown name is one
error line naming the registered storages (in the wording of the former enum option).
Usage: storage_check.py EXE"""
import json, os, re, subprocess, sys, tempfile
exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp()
failures = 0

def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1

def run(args):
    return subprocess.run([exe, "retrieve", "-neurons", "200", "-memories", "3", "-trials", "1", "-quiet"] + args,
                          capture_output=True, text=True, timeout=120)

def network(args):
    path = os.path.join(tmp, "s.json")
    if os.path.exists(path):
        os.remove(path)
    p = run(args + ["-summary", path])
    if p.returncode != 0:
        return None, p
    return json.load(open(path))["network"], p

for args, storage, kernel in [
        (["-storage", "compressed", "-indegree", "20", "-compressed_kernel", "portable", "-compressed_block_cols", "64",
          "-compressed_panel_rows", "16"], "compressed", "portable"),
        (["-storage", "compressed", "-indegree", "20", "-compressed_kernel", "portable", "-connectivity", "ring", "-radius", "15",
          "-rewire", "0.1", "-compressed_ghost_precision", "double", "-compressed_ghost_overlap", "0"], "compressed", "portable"),
        (["-storage", "lowrank", "-lowrank_kernel", "portable"], "lowrank", "portable"),
        (["-storage", "aij", "-assembly_block", "100"], "aij", "mataij"),
        (["-storage", "spatial", "-indegree", "20", "-connectivity", "ring", "-radius", "15", "-rewire", "0.1", "-assembly_block", "100"],
         "spatial", "mataij"),
        (["-storage", "DENSE"], "dense", "matdense-blas")]:
    net, p = network(args)
    check(net is not None and net["storage"] == storage and net["kernel"] == kernel,
          f"{' '.join(args)}: storage {storage}, kernel {kernel}" + ("" if net else f" (exit {p.returncode}: {p.stderr.strip()})"))

for args, expect in [
        (["-storage", "nonsense"], "ratemem: error: Unknown option nonsense for -storage. Available options: dense aij lowrank compressed spatial"),
        (["-activation", "nonsense"], "ratemem: error: Unknown option nonsense for -activation. Available options: sigmoid rectanh tanh"),
        (["-storage", "dense", "-compressed_kernel", "portable"], "ratemem: error: unknown option -compressed_kernel"),
        (["-storage", "compressed", "-indegree", "20", "-compressed_kernel", "nonsense"], "unknown -compressed_kernel nonsense"),
        (["-storage", "lowrank", "-lowrank_kernel", "nonsense"], "unknown -lowrank_kernel nonsense"),
        (["-storage", "compressed"], "-storage compressed needs -indegree K > 0"),
        (["-storage", "aij", "-indegree", "20", "-rewire", "0.1"], "ratemem: error: unknown option -rewire"),
        (["-storage", "spatial", "-indegree", "20", "-connectivity", "nonsense"], "nonsense"),
        (["-storage", "compressed", "-indegree", "20", "-compressed_ghost_precision", "half"],
         "Unknown option half for -compressed_ghost_precision. Available options: single double"),
        (["-storage", "aij", "-indegree", "20", "-compressed_ghost_precision", "double"], "ratemem: error: unknown option -compressed_ghost_precision"),
        (["-storage", "compressed", "-indegree", "20", "-connectivity", "grid2d"], "-connectivity grid2d needs a square number of neurons"),
        (["-storage", "compressed", "-indegree", "20", "-connectivity", "ring", "-radius", "5"], "-indegree 20 exceeds the 10 neurons within -radius 5"),
        (["-storage", "compressed", "-indegree", "20", "-rewire", "2"], "-rewire must be in [0, 1]")]:
    p = run(args)
    lines = [l for l in p.stderr.splitlines() if l.startswith("ratemem: error: ")]
    check(p.returncode != 0 and len(lines) == 1 and expect in lines[0],
          f"{' '.join(args)}: exit {p.returncode}, one error line with '{expect}' (got {lines})")

# ratemem bench reads each storage case's own options: -compressed_* with a compressed case is used, without one unknown.
bench = [exe, "bench", "-bench_neurons", "2000", "-bench_repeat", "2", "-bench_indegree", "20", "-compressed_kernel", "portable"]
p = subprocess.run(bench + ["-bench_storage", "compressed"], capture_output=True, text=True, timeout=300)
check(p.returncode == 0 and re.search(r"^compressed\s+portable\s+2000", p.stdout, re.M) is not None,
      f"bench takes -compressed_kernel for its compressed case (exit {p.returncode}: {p.stderr.strip()[-200:]})")
p = subprocess.run(bench + ["-bench_storage", "dense"], capture_output=True, text=True, timeout=300)
check(p.returncode != 0 and "unknown option -compressed_kernel" in p.stderr, "bench refuses -compressed_kernel without a compressed case")

sys.exit(1 if failures else 0)
