#!/usr/bin/python3
"""-integrator auto (src/integrate/auto.c, docs/design.md): erk for a non-stiff single population, bdf
otherwise, the choice printed in the table header and the summary, method options of both candidates
accepted, and checkpoint/restart of an auto run. Usage: auto_check.py EXE

  * -design paper (defaults) and -design hebbian: auto -> erk, and the trials equal -integrator erk's
    exactly (the same method with the same options);
  * -network ei -storage lowrank, -tau 2, a high gain (-gain 30): auto -> bdf, equal to -integrator bdf's;
  * -erk_table and -cvode_* options are accepted with auto (and apply to the chosen method);
  * a run stopped at a checkpoint and resumed with -restart (1 rank -> 2 ranks) has the labels of the
    uninterrupted run and final states within 1e-5; a restart with -integrator erk instead of auto is refused.
Prints ok:/FAIL: lines; exits 1 if any check failed."""
import json, os, re, shutil, subprocess, sys, tempfile
import h5py
import numpy as np

exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="ratemem-auto.")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
failures = []
HEADER = re.compile(r"^ratemem retrieve: .*, integrator (.+?), \d+ ranks?$", re.M)


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def path(name):
    return os.path.join(tmp, name)


def run(np_, args, expect_rc=0):
    c = MPI + ["-n", str(np_), exe, "retrieve"] + [str(a) for a in args]
    p = subprocess.run(c, capture_output=True, text=True, timeout=600)
    if p.returncode != expect_rc:
        sys.exit(f"FAIL: {' '.join(c)} exited {p.returncode}, expected {expect_rc}:\n{p.stdout[-1500:]}\n{p.stderr[-2500:]}")
    return p


def summary(np_, args, tag):
    p = run(np_, args + ["-summary", path(tag + ".json")])
    with open(path(tag + ".json")) as f:
        s = json.load(f)
    m = HEADER.search(p.stdout)
    return s, (m.group(1) if m else None)


def trials(s):
    return [{k: v for k, v in t.items() if k != "wall_time"} for t in s["trials"]]


small = ["-neurons", 500, "-memories", 5, "-trials", 2, "-seed", 7]
cases = [
    ("paper design (defaults)", [], "erk"),
    ("hebbian design", ["-design", "hebbian"], "erk"),
    ("E/I network", ["-network", "ei", "-storage", "lowrank"], "bdf"),
    ("tau = 2", ["-tau", 2], "bdf"),
    ("gain 30", ["-gain", 30], "bdf"),
]
for name, extra, want in cases:
    s, head = summary(1, small + extra + ["-integrator", "auto"], "auto")
    it = s["integrator"]
    check(head == f"auto -> {want}", f"{name}: the table header says 'integrator auto -> {want}' (got {head!r})")
    check(it["method"] == want and it.get("requested") == "auto" and it.get("auto_reason"),
          f"{name}: summary integrator.method = {want}, requested = auto, with the reason ({it.get('auto_reason')!r})")
    r, rhead = summary(1, small + extra + ["-integrator", want], "ref")
    check(rhead == want and "requested" not in r["integrator"], f"{name}: -integrator {want} prints no auto choice")
    check(trials(s) == trials(r), f"{name}: every per-trial field equals -integrator {want}'s")

# the options of both candidates are accepted with auto, and those of the chosen one apply
s, _ = summary(1, small + ["-integrator", "auto", "-erk_table", "bogacki-shampine", "-cvode_max_order", 3], "opt")
r, _ = summary(1, small + ["-integrator", "erk", "-erk_table", "bogacki-shampine"], "optref")
check(trials(s) == trials(r), "auto with -erk_table bogacki-shampine (and a -cvode_ option) equals erk with that table")
p = run(1, ["-integrator", "auto", "-help"])
check("-erk_table" in p.stdout and "-cvode_max_order" in p.stdout, "-integrator auto -help lists the options of erk and bdf")

# checkpoint and restart of an auto run (erk chosen), 1 rank -> 2 ranks
ck = path("auto.ck.h5")
base = ["-neurons", 600, "-memories", 5, "-trials", 3, "-seed", 4, "-integrator", "auto"]


def with_outputs(tag):
    return ["-summary", path(tag + ".json"), "-output", path(tag + ".h5"), "-quiet"]


run(2, base + with_outputs("ref"))
ref = json.load(open(path("ref.json")))
stop_at = ref["trials"][0]["steps"] - 1 + max(1, ref["trials"][1]["steps"] // 2)
p = run(1, base + with_outputs("run") + ["-checkpoint", ck, "-checkpoint_stop_after_steps", stop_at], expect_rc=3)
check("checkpointed at t = " in p.stdout and "(trial 1 of 3)" in p.stdout, "auto: the run stops at a checkpoint in trial 1")
run(2, base + with_outputs("run") + ["-checkpoint", ck, "-restart", ck])
got = json.load(open(path("run.json")))
keys = ["trial", "cue_memory", "label", "nearest_memory", "converged"]
check(got["integrator"]["method"] == "erk" and got["integrator"].get("requested") == "auto", "auto: the resumed run is erk, chosen by auto")
check([{k: t[k] for k in keys} for t in got["trials"]] == [{k: t[k] for k in keys} for t in ref["trials"]],
      "auto 1 rank -> 2 ranks: labels, nearest memories and convergence equal the uninterrupted run's")
with h5py.File(path("run.h5"), "r") as f, h5py.File(path("ref.h5"), "r") as g:
    err = float(np.abs(f["final_states"][()] - g["final_states"][()]).max())
check(err <= 1e-5, f"auto 1 rank -> 2 ranks: final states within 1e-5 of the uninterrupted run (max diff {err:.3g})")
p = run(1, [a if a != "auto" else "erk" for a in base] + ["-quiet", "-checkpoint", ck, "-restart", ck], expect_rc=1)
check("-integrator" in p.stderr and "checkpoint" in p.stderr, f"a restart with -integrator erk instead of auto is refused ({p.stderr.strip()[:160]!r})")

shutil.rmtree(tmp, ignore_errors=True)
if failures:
    print(f"FAIL: {len(failures)} check(s) failed")
    sys.exit(1)
print("all auto checks passed")
