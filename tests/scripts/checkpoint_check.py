#!/usr/bin/python3
"""Checkpoint and restart of `ratemem retrieve` (issue #6 item 2). Usage: checkpoint_check.py EXE

Each case runs an uninterrupted reference, then the same run stopped at a checkpoint (the hidden
-checkpoint_stop_after_steps N acts exactly like SIGUSR1 arriving at the N-th step boundary, so the
stop point does not depend on timing; two cases send real signals, one kills the run with SIGKILL after
periodic checkpoints), resumed with -restart, possibly on
another number of ranks, and compares:
  * euler / em: the resumed run equals the reference exactly (summary and final states, bit for bit)
    on the same number of ranks, and to rounding (1e-9) across rank counts;
  * bdf / adams / erk: same labels, nearest memories and convergence; final states within 1e-5 (CVODE restarts
    from order 1 at the checkpoint, ARKODE with a fresh step size, so the path agrees within the integrator tolerances, 1e-6).
A stopped run exits with status 3, prints the "checkpointed at t = ..." line and leaves no summary or
HDF5 output. Corrupt, missing and mismatched checkpoints are refused with a one-line error.
Prints ok:/FAIL: lines; exits 1 if any check failed."""
import json, os, re, shutil, signal, subprocess, sys, tempfile
import h5py
import numpy as np

exe = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="ratemem-ckpt.")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
failures = []
STOP_LINE = re.compile(r"^ratemem: checkpointed at t = \S+ \(trial (\d+) of (\d+)\) to (\S+); resume with -restart (\S+)$", re.M)


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def path(name):
    return os.path.join(tmp, name)


def cmd(np_, args):
    base = [exe, "retrieve"] + [str(a) for a in args]
    return base if np_ == 0 else MPI + ["-n", str(np_)] + base  # np_ = 0: a singleton run without mpiexec


def run(np_, args, expect_rc=0):
    p = subprocess.run(cmd(np_, args), capture_output=True, text=True, timeout=600)
    if p.returncode != expect_rc:
        sys.exit(f"FAIL: {' '.join(cmd(np_, args))} exited {p.returncode}, expected {expect_rc}:\n{p.stdout[-1500:]}\n{p.stderr[-2500:]}")
    return p


def load(tag):
    with open(path(tag + ".json")) as f:
        s = json.load(f)
    with h5py.File(path(tag + ".h5"), "r") as f:
        fin, ini = f["final_states"][()], f["initial_states"][()]
    return s, fin, ini


def clean(*names):
    for n in names:
        for suffix in ["", ".partial"]:
            if os.path.exists(path(n) + suffix):
                os.remove(path(n) + suffix)


def reference(name, np_, args):
    clean(name + ".json", name + ".h5")
    run(np_, args + ["-summary", path(name + ".json"), "-output", path(name + ".h5"), "-quiet"])
    return load(name)


def stop(np_, args, ckpt, steps, extra=()):
    """A run stopped at a checkpoint after `steps` step boundaries: exit 3, the line, no outputs."""
    clean("run.json", "run.h5")
    p = run(np_, args + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ckpt,
                         "-checkpoint_stop_after_steps", steps] + list(extra), expect_rc=3)
    m = STOP_LINE.search(p.stdout)
    check(m is not None and m.group(3) == ckpt and m.group(4) == ckpt, f"stopped run ({np_ or 1} rank) prints the checkpoint line")
    check(not any(os.path.exists(path(n)) for n in ["run.json", "run.h5", "run.h5.partial", "run.json.partial"]),
          "a stopped run writes no summary or HDF5 output (and no partial file)")
    check(os.path.exists(ckpt) and not os.path.exists(ckpt + ".partial"), "the checkpoint exists, no .partial left")
    return int(m.group(1)) if m else -1


def resume(np_, args, ckpt, extra=()):
    clean("run.json", "run.h5")
    run(np_, args + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ckpt, "-restart", ckpt] + list(extra))
    return load("run")


def compare(name, got, ref, exact, state_tol):
    s, fin, ini = got
    r, rfin, rini = ref
    keys = ["trial", "cue_memory", "label", "nearest_memory", "converged"]
    check(all(all(a[k] == b[k] for k in keys) for a, b in zip(s["trials"], r["trials"])) and len(s["trials"]) == len(r["trials"]),
          f"{name}: labels, nearest memories and convergence equal the uninterrupted run's")
    check(s["counts"] == r["counts"] and s["retrieval_rate"] == r["retrieval_rate"], f"{name}: retrieval counts equal")
    check(np.array_equal(ini, rini), f"{name}: initial states (cues) identical")
    err = float(np.abs(fin - rfin).max())
    if exact:
        same = all({k: v for k, v in a.items() if k != "wall_time"} == {k: v for k, v in b.items() if k != "wall_time"}
                   for a, b in zip(s["trials"], r["trials"]))
        check(same, f"{name}: every per-trial summary field (steps, RHS, residual, overlaps, ...) equals the uninterrupted run's")
        check(err == 0.0, f"{name}: final states bit-identical (max diff {err:.3g})")
    else:
        check(err <= state_tol, f"{name}: final states within {state_tol:g} of the uninterrupted run (max diff {err:.3g})")


def stop_in_second_trial(ref, per_trial_offset=0):
    """A step count that stops the run in the middle of trial 1 (trial 0 completed)."""
    st = [t["steps"] for t in ref[0]["trials"]]
    return st[0] - per_trial_offset + max(1, st[1] // 2)


# ---------------------------------------------------------------- -help
p = run(1, ["-help"])
text = p.stdout + p.stderr
check(all(o in text for o in ["-checkpoint ", "-checkpoint_interval", "-restart "]), "-help lists -checkpoint, -checkpoint_interval, -restart")
check("checkpoint_stop_after_steps" not in text, "-help does not list the hidden testing option")

# ---------------------------------------------------------------- euler: exact path
eul = ["-neurons", 400, "-memories", 5, "-trials", 3, "-seed", 21, "-integrator", "euler", "-euler_dt", 0.02]
ref1 = reference("eul1", 1, eul)
ck = path("eul.ck.h5")
k = stop(1, eul, ck, stop_in_second_trial(ref1))
check(k == 1, f"euler: stopped in trial 1 as asked (line says trial {k})")
with h5py.File(ck, "r") as f:
    pi = f["progress_ints"][()]
    check(f.attrs["format"] == b"ratemem-checkpoint" and int(f.attrs["version"]) == 1, "checkpoint carries format and version")
    check(pi[0] == 1 and pi[1] == 1 and f["state"].shape == (1, 400), "checkpoint: 1 trial completed, trial 1 in progress, state 1 x n")
    check(f["results_ints"].shape == (3, 16) and f["final_states"].shape == (3, 400), "checkpoint: per-trial results and final states of completed trials")
compare("euler 1 rank -> 1 rank", resume(1, eul, ck), ref1, exact=True, state_tol=0)

ref2 = reference("eul2", 2, eul)
k = stop(2, eul, ck, stop_in_second_trial(ref2))
compare("euler 2 ranks -> 1 rank", resume(1, eul, ck), ref1, exact=False, state_tol=1e-9)

# ---------------------------------------------------------------- bdf (dense) and the E/I network with batches (lowrank bdf)
bdf = ["-neurons", 600, "-memories", 5, "-trials", 3, "-seed", 4]
refb = reference("bdf2", 2, bdf)
ck = path("bdf.ck.h5")
stop(1, bdf, ck, stop_in_second_trial(refb, per_trial_offset=1))  # CVODE: no hook call at the last step of a trial
compare("bdf 1 rank -> 2 ranks", resume(2, bdf, ck), refb, exact=False, state_tol=1e-5)

erk = bdf + ["-integrator", "erk"]  # ARKODE, re-initialised at t like CVODE
refk = reference("erk2", 2, erk)
ck = path("erk.ck.h5")
k = stop(1, erk, ck, stop_in_second_trial(refk, per_trial_offset=1))
check(k == 1, f"erk: stopped in trial 1 as asked (line says trial {k})")
compare("erk 1 rank -> 2 ranks", resume(2, erk, ck), refk, exact=False, state_tol=1e-5)

ei = ["-neurons", 600, "-memories", 5, "-trials", 4, "-storage", "lowrank", "-network", "ei", "-stiffness", 100, "-batch", 2, "-seed", 14]
refe = reference("ei1", 1, ei)
ck = path("ei.ck.h5")
k = stop(2, ei, ck, 40)
with h5py.File(ck, "r") as f:
    check(f["state"].shape == (2, 600 + 6), f"E/I checkpoint state is batch x (n + pool units) = 2 x 606 ({f['state'].shape})")
compare("E/I lowrank batch 2, bdf, 2 ranks -> 1 rank", resume(1, ei, ck), refe, exact=False, state_tol=1e-5)

# ---------------------------------------------------------------- em with noise: the same noise path; two interruptions
em = ["-neurons", 500, "-memories", 4, "-trials", 4, "-seed", 5, "-design", "hebbian", "-storage", "lowrank", "-integrator", "em",
      "-noise", 0.05, "-t_final", 3, "-euler_dt", 0.01, "-batch", 2]
refm = reference("em2", 2, em)
ck = path("em.ck.h5")
stop(2, em, ck, 120)
compare("em (noise 0.05) batch 2, 2 ranks -> 2 ranks", resume(2, em, ck), refm, exact=True, state_tol=0)
stop(2, em, ck, 120)
stop(1, em, ck, 200, extra=["-restart", ck])  # resumed on 1 rank and stopped again in the next batch
compare("em stopped twice (2 ranks, 1 rank) -> 2 ranks", resume(2, em, ck), refm, exact=False, state_tol=1e-9)

# ---------------------------------------------------------------- interval checkpoints do not change the run; a finished checkpoint
ck = path("int.ck.h5")
clean("int.ck.h5", "run.json", "run.h5")
run(1, eul + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ck, "-checkpoint_interval", 1e-9])
compare("euler with a checkpoint at every step", load("run"), ref1, exact=True, state_tol=0)
with h5py.File(ck, "r") as f:
    pi = f["progress_ints"][()]
    check(pi[0] == 3 and pi[1] == 0 and "state" not in f, "after a finished run the checkpoint says 3 of 3 trials done, none in progress")
clean("run.json", "run.h5")
run(2, eul + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ck, "-restart", "auto"])
compare("-restart auto of a finished checkpoint rewrites the same outputs", load("run"), ref1, exact=True, state_tol=0)
clean("fresh.ck.h5", "run.json", "run.h5")
run(1, eul + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", path("fresh.ck.h5"), "-restart", "auto"])
compare("-restart auto without a checkpoint starts afresh", load("run"), ref1, exact=True, state_tol=0)

# ---------------------------------------------------------------- real signals (the stop waits for the first -monitor line, not a timer)
# SIGTERM goes to the process itself: Open MPI's mpiexec forwards SIGUSR1 to the ranks but treats its
# own SIGTERM as an abort of the job (its exit status is then 1, even though the ranks checkpoint).
sig = ["-neurons", 800, "-memories", 5, "-trials", 2, "-seed", 8, "-integrator", "euler", "-euler_dt", 0.002]
refs = reference("sig1", 1, sig)
for np_, signum in [(0, signal.SIGTERM), (2, signal.SIGUSR1)]:
    ck = path("sig.ck.h5")
    clean("sig.ck.h5", "run.json", "run.h5")
    args = cmd(np_, sig + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ck, "-monitor", "-monitor_every", 100])
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if line.startswith("[monitor]"):
            p.send_signal(signum)
            break
    out, err = p.communicate(timeout=600)
    name = f"{signal.Signals(signum).name} to {'the process' if np_ == 0 else 'mpiexec -n 2'}"
    check(p.returncode == 3 and STOP_LINE.search(out) is not None, f"{name}: exit 3 with the checkpoint line (exit {p.returncode})")
    check(not os.path.exists(path("run.json")) and not os.path.exists(path("run.h5")), f"{name}: no outputs written")
    compare(f"{name}, resumed on 1 rank", resume(1, sig, ck), refs, exact=(np_ == 0), state_tol=1e-9)

# A run killed hard (SIGKILL, no chance to checkpoint) after periodic checkpoints resumes from the last
# complete one (never from a half-written file) and still follows the uninterrupted euler path exactly.
ck = path("kill.ck.h5")
clean("kill.ck.h5", "run.json", "run.h5")
args = cmd(0, sig + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet", "-checkpoint", ck, "-checkpoint_interval", 1e-9,
                     "-monitor", "-monitor_every", 1000000])
p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
seen, other = 0, []
for line in p.stderr:
    if line.startswith("[checkpoint]"):
        seen += 1
        if seen == 50:
            p.send_signal(signal.SIGKILL)
            break
    else:
        other.append(line)
other += p.communicate(timeout=600)[1].splitlines(True)
check(p.returncode == -signal.SIGKILL and os.path.exists(ck),
      f"killed after 50 periodic checkpoints (status {p.returncode}, {seen} checkpoints; stderr: {''.join(other)[-1500:]!r})")
with h5py.File(ck, "r") as f:
    check(f["progress_ints"][1] == 1, "the last periodic checkpoint holds a trial in progress")
shutil.copyfile(ck, path("kill2.ck.h5"))
compare("SIGKILL after periodic checkpoints, resumed on 1 rank", resume(1, sig, ck), refs, exact=True, state_tol=0)
compare("SIGKILL after periodic checkpoints, resumed on 2 ranks", resume(2, sig, path("kill2.ck.h5")), refs, exact=False, state_tol=1e-9)

# ---------------------------------------------------------------- refused checkpoints
small = ["-neurons", 300, "-memories", 4, "-trials", 2, "-seed", 3]
good = path("good.ck.h5")
clean("good.ck.h5")
stop(1, small, good, 20)
with open(path("garbage.h5"), "w") as f:
    f.write("this is not an HDF5 file\n")
with open(good, "rb") as f:
    data = f.read()
with open(path("truncated.h5"), "wb") as f:
    f.write(data[: len(data) // 2])
with h5py.File(path("other.h5"), "w") as f:
    f["patterns"] = np.zeros((2, 10), dtype=np.uint8)
with h5py.File(path("nodata.h5"), "w") as f:
    f.attrs["format"] = np.bytes_("ratemem-checkpoint")
    f.attrs["version"] = np.int32(1)
with h5py.File(good, "r") as src, h5py.File(path("noprogress.h5"), "w") as f:
    for key, val in src.attrs.items():
        f.attrs[key] = val
    for key in src:
        if key != "progress_ints":
            src.copy(key, f)
cases = [
    ("missing file", ["-restart", path("missing.h5")], "does not exist"),
    ("not HDF5", ["-restart", path("garbage.h5")], "not a readable HDF5 file"),
    ("truncated", ["-restart", path("truncated.h5")], "not a readable HDF5 file"),
    ("other HDF5 file", ["-restart", path("other.h5")], "not a ratemem checkpoint"),
    ("no datasets", ["-restart", path("nodata.h5")], "/identity is missing"),
    ("missing /progress_ints", ["-restart", path("noprogress.h5")], "cannot read /progress_ints"),
    ("different seed", ["-restart", good, "-seed", 4], "seed is 3 in the checkpoint, 4 here"),
    ("different option", ["-restart", good, "-gain", 5], "option -gain is unset in the checkpoint, 5 here"),
    ("different integrator", ["-restart", good, "-integrator", "euler"], "integrator is bdf in the checkpoint, euler here"),
    ("restart auto without -checkpoint", ["-restart", "auto"], "needs -checkpoint"),
]
for name, extra, expect in cases:
    clean("run.json", "run.h5")
    args = small + extra  # a repeated option: the later value wins
    p = subprocess.run(cmd(0, args + ["-summary", path("run.json"), "-output", path("run.h5"), "-quiet"]), capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stderr.splitlines() if l.startswith("ratemem: error: ")]
    check(p.returncode not in (0, 3) and len(lines) == 1 and expect in lines[0] and not os.path.exists(path("run.json"))
          and not os.path.exists(path("run.h5")), f"refused: {name} -> exit {p.returncode}, {lines[0] if lines else p.stderr[-300:]!r}")

print(f"{len(failures)} check(s) failed" if failures else "all checkpoint checks passed")
sys.exit(1 if failures else 0)
