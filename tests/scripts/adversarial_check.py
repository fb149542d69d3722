#!/usr/bin/env python3
"""The standing adversarial battery of ratemem's output policy and input validation (docs/design.md,
"Safety of outputs"): runs a hostile or careless user would try, each judged on

  * the exit status (non-zero for a refusal; 0 where the run must work),
  * exactly one "ratemem: error: " line naming the right option or path,
  * no signal, no crash report, no hang (every run has a timeout),
  * inputs (patterns, YAML, input file, earlier outputs) byte-identical afterwards, /dev/null still a
    character device, and no temporary "*.partial*" file left anywhere it could write.

Covers: device / input / output collisions (D1, D2, D2b), long paths through MPI-IO (D3), a full disk
on a 64 KB tmpfs that it mounts itself, for -output, -checkpoint and -summary on 1 and 2 ranks, with and
without the up-front space check (D4), non-finite inputs (D5, D9), options without a value (D6),
directories as outputs (D7), the Krylov dimension (D8), 64-bit integers (D10), runs too large for
memory (D11), -patterns with other sizes (D12), two concurrent runs on the same output (D13), and
SIGKILL/SIGTERM at random points of runs writing -output, -checkpoint and -summary.

Usage: adversarial_check.py RATEMEM [--np-max N]. Exit 0 when every case is clean, 1 otherwise, 77 (skip)
only when the tmpfs cannot be mounted (not root, or mounting forbidden here): then nothing runs.
"""
import glob
import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

EXE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else sys.exit("usage: adversarial_check.py RATEMEM")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
B = ["-neurons", "200", "-memories", "5", "-trials", "2", "-quiet"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
tally = {"cases": 0, "clean": 0, "defects": 0}
failures = []


def cmd(np_, args, sub="retrieve"):
    base = [EXE, sub] + args
    return base if np_ == 0 else MPI + ["-n", str(np_)] + base


def complete_output(path, trials, n):
    """Is path a complete output of a run of `trials` trials on n neurons (HDF5 states or JSON summary)?"""
    try:
        if path.endswith(".h5"):
            with h5py.File(path) as f:
                return f["final_states"].shape == (trials, n) and np.all(np.isfinite(f["final_states"][...]))
        import json
        with open(path) as f:
            return len(json.load(f)["trials"]) == trials
    except Exception:  # noqa: BLE001
        return False


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


class Watch:
    """Files that must stay byte-identical, and directories that must hold no temporary files."""

    def __init__(self, *dirs):
        self.dirs = list(dirs)
        self.files = {}

    def protect(self, *paths):
        for p in paths:
            self.files[p] = digest(p)

    def problems(self):
        out = []
        for p, h in self.files.items():
            if not os.path.exists(p):
                out.append(f"input {p} vanished")
            elif digest(p) != h:
                out.append(f"input {p} was modified")
        if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
            out.append("/dev/null is no longer a character device")
        for d in self.dirs:
            left = glob.glob(os.path.join(glob.escape(d), "**", "*.partial*"), recursive=True)
            if left:
                out.append("temporary files left: " + ", ".join(os.path.basename(x) for x in left))
                for x in left:
                    os.unlink(x)
        return out


def judge(name, proc, out, err, expect, watch, timed_out=False, extra=None):
    tally["cases"] += 1
    why = []
    lines = [l for l in err.splitlines() if l.startswith("ratemem: error")]
    rc = proc.returncode
    if timed_out:
        why.append("hung (timeout)")
    elif rc is not None and (rc < 0 or rc > 128):
        why.append(f"killed by signal {(-rc) if rc < 0 else rc - 128}")
    if any(s in err for s in ("Segmentation", "buffer overflow", "Process received signal", "AddressSanitizer", "core dumped")):
        why.append("crash report on stderr")
    if expect is None:
        if rc != 0:
            why.append(f"exit status {rc} (expected success): {lines[:1] or err.strip()[-300:]}")
    else:
        if rc == 0:
            why.append("exit status 0 (expected a refusal)")
        if len(lines) != 1:
            why.append(f"{len(lines)} 'ratemem: error' lines (expected 1): {err.strip()[-400:]}")
        elif expect.lower() not in lines[0].lower():
            why.append(f"error line does not mention '{expect}': {lines[0]}")
    why += watch.problems()
    if extra and extra():
        why.append(extra())
    if why:
        tally["defects"] += 1
        failures.append(name)
        print(f"DEFECT: {name}: " + "; ".join(why))
    else:
        tally["clean"] += 1
        print(f"ok: {name}")


def case(name, args, expect, watch, np_=0, sub="retrieve", env=None, timeout=90, extra=None, cwd=None):
    """expect: a substring of the one error line, or None for a run that must succeed."""
    try:
        p = subprocess.run(cmd(np_, args, sub), capture_output=True, text=True, timeout=timeout, env=env or ENV, cwd=cwd)
        judge(name, p, p.stdout, p.stderr, expect, watch, extra=extra)
    except subprocess.TimeoutExpired as e:
        class P:
            returncode = None
        judge(name, P(), "", (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or ""), expect, watch, timed_out=True)


def readable_h5(path, dataset):
    def check():
        try:
            with h5py.File(path, "r") as f:
                f[dataset][...]
            return None
        except Exception as e:  # noqa: BLE001
            return f"{path} is not a readable HDF5 file with /{dataset}: {e}"
    return check


def main():
    work = tempfile.mkdtemp(prefix="rm-adv-")
    full = os.path.join(work, "full")
    os.makedirs(full)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full], capture_output=True, text=True)
    if mount.returncode != 0:
        print(f"SKIP: cannot mount a 64 KB tmpfs for the disk-full cases ({mount.stderr.strip() or 'mount failed'}; needs root)")
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(77)
    t0 = time.time()
    try:
        run_all(work, full)
    finally:
        subprocess.run(["umount", full], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nadversarial battery: {tally['cases']} cases, {tally['clean']} clean, {tally['defects']} defects ({time.time() - t0:.0f} s)")
    if failures:
        print("defects: " + ", ".join(failures))
        sys.exit(1)


def run_all(work, full):
    os.chdir(work)
    rng = np.random.default_rng(5)
    with h5py.File("p.h5", "w") as f:
        f["patterns"] = (rng.random((5, 200)) < 0.2).astype(np.uint8)
    with h5py.File("i.h5", "w") as f:
        d = f.create_dataset("inputs", data=rng.standard_normal((2, 200)))
        d.attrs["durations"] = np.array([2.0, 2.0])
    with open("c.yaml", "w") as fh:
        fh.write("trials: 2\nneurons: 200\nmemories: 5\n")
    os.makedirs("d")
    w = Watch(work)
    w.protect("p.h5", "i.h5", "c.yaml")

    # D1, D7: only a regular file (or nothing) is replaced
    case("D1 -summary /dev/null", B + ["-summary", "/dev/null"], "/dev/null", w)
    case("D1 -output /dev/null (2 ranks)", B + ["-output", "/dev/null"], "/dev/null", w, np_=2)
    case("D1 -checkpoint /dev/null", B + ["-checkpoint", "/dev/null"], "/dev/null", w)
    os.mkfifo("fifo")
    case("D1 -summary FIFO", B + ["-summary", "fifo"], "FIFO", w)
    os.symlink("/dev/null", "devlink")
    case("D1 -summary symlink to /dev/null", B + ["-summary", "devlink"], "symbolic link", w)
    case("D7 -summary directory", B + ["-summary", "d"], "directory", w)
    case("D7 -checkpoint directory", B + ["-checkpoint", "d"], "directory", w)
    case("D7 -output directory (2 ranks)", B + ["-output", "d"], "directory", w, np_=2)
    case("unwritable directory", B + ["-summary", "/proc/x.json"], "/proc", w)
    case("missing directory", B + ["-summary", "nodir/x.json"], "nodir", w)
    case("sweep -sweep_csv /dev/null", ["-neurons", "100", "-memories", "3", "-trials", "1", "-quiet", "-sweep_csv", "/dev/null", "-sweep_flip", "0.1"], "/dev/null", w,
         sub="sweep")
    case("stability -summary directory", ["-neurons", "100", "-memories", "3", "-quiet", "-summary", "d"], "directory", w, sub="stability")
    case("bench -bench_csv /dev/null", ["-bench_neurons", "100", "-bench_memories", "3", "-bench_storage", "lowrank", "-bench_repeat", "1", "-bench_csv", "/dev/null"],
         "/dev/null", w, sub="bench")

    # D2: an output equal to an input; D2b: two outputs equal
    case("D2 -patterns p.h5 -summary p.h5", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-summary", "p.h5"], "-patterns", w)
    case("D2 -patterns p.h5 -checkpoint p.h5", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-checkpoint", "p.h5"], "-patterns", w)
    case("D2 -patterns p.h5 -output ./p.h5 (2 ranks)", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-output", "./p.h5"], "-patterns", w, np_=2)
    os.link("p.h5", "hard.h5")
    case("D2 hard link of the input", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-summary", "hard.h5"], "-patterns", w)
    os.unlink("hard.h5")
    case("D2 -options_file_yaml c.yaml -summary c.yaml", ["-options_file_yaml", "c.yaml", "-quiet", "-summary", "c.yaml"], "-options_file_yaml", w)
    case("D2 -input_file i.h5 -overlap_history i.h5", ["-neurons", "200", "-memories", "5", "-quiet", "-design", "hebbian", "-input_file", "i.h5", "-overlap_history", "i.h5"],
         "-input_file", w)
    case("D2 sweep -sweep_csv c.yaml", ["-options_file_yaml", "c.yaml", "-quiet", "-sweep_csv", "c.yaml", "-sweep_flip", "0.1"], "-options_file_yaml", w, sub="sweep")
    case("D2b -summary X -output X", B + ["-summary", "X", "-output", "X"], "same file", w)
    case("D2b -checkpoint s.json -summary s.json", B + ["-checkpoint", "s.json", "-summary", "s.json"], "same file", w)
    case("D2b -checkpoint o.h5 -output o.h5 (2 ranks)", B + ["-checkpoint", "o.h5", "-output", "o.h5"], "same file", w, np_=2)
    case("D2b -summary a/../X -output X", B + ["-summary", "d/../X", "-output", "X"], "same file", w)
    # the documented resume keeps working: -checkpoint F -restart F
    p = subprocess.run(cmd(0, B + ["-checkpoint", "ck.h5", "-checkpoint_stop_after_steps", "20"]), capture_output=True, text=True, env=ENV, timeout=90)
    tally["cases"] += 1
    if p.returncode == 3 and not w.problems():
        tally["clean"] += 1
        print("ok: checkpoint stop (exit 3)")
    else:
        tally["defects"] += 1
        failures.append("checkpoint stop")
        print(f"DEFECT: checkpoint stop: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    case("-checkpoint F -restart F resumes (2 ranks)", B + ["-checkpoint", "ck.h5", "-restart", "ck.h5", "-summary", "s.json"], None, w, np_=2)
    case("-restart r.h5 -output r.h5", B + ["-checkpoint", "ck2.h5", "-restart", "ck.h5", "-output", "ck.h5"], "-restart", w)

    # D3: long paths through MPI-IO
    deep = os.path.join(work, "a" * 100, "b" * 100)
    os.makedirs(deep)
    longf = os.path.join(deep, "c" * 60 + ".h5")
    for np_ in (0, 2):
        case(f"D3 -output, {len(longf)}-character path ({max(np_, 1)} rank)", B + ["-output", longf, "-checkpoint", longf + ".ck", "-summary", longf + ".json"], None,
             w, np_=np_, extra=readable_h5(longf, "final_states"))
    case("D3 -patterns through a long path", ["-trials", "2", "-quiet", "-patterns", shutil.copy("p.h5", os.path.join(deep, "p.h5"))], None, w)
    case("D3 -restart from a long path (2 ranks)", B + ["-checkpoint", longf + ".ck2", "-restart", longf + ".ck"], None, w, np_=2)
    case("D3 a file name too long for MPI-IO", B + ["-output", "n" * 200 + ".h5"], "characters", w)

    # D4: a full disk (64 KB tmpfs): refused up front, or (without the check) a clean failure of the writes
    big = ["-neurons", "2000", "-memories", "10", "-trials", "4", "-quiet"]
    with h5py.File(os.path.join(full, "o.h5"), "w") as f:  # an earlier output that must survive
        f["final_states"] = np.arange(40.0)
    with open(os.path.join(full, "s.json"), "w") as fh:
        fh.write('{"earlier": true}\n' * 40)
    wf = Watch(work, full)
    wf.protect(os.path.join(full, "o.h5"), os.path.join(full, "s.json"))
    noreserve = dict(ENV, RATEMEM_TEST_NO_RESERVE="1")
    for np_ in (0, 2):
        r = f"{max(np_, 1)} rank"
        case(f"D4 -output on a full disk ({r})", big + ["-output", os.path.join(full, "o.h5")], "space", wf, np_=np_)
        case(f"D4 -output on a full disk, writes fail ({r})", big + ["-output", os.path.join(full, "o.h5")], "o.h5", wf, np_=np_, env=noreserve, timeout=60)
        ckargs = big + ["-checkpoint", os.path.join(full, "ck.h5"), "-output", "o4.h5"]  # (-output: the checkpoint holds the final states, 64 KB)
        case(f"D4b -checkpoint on a full disk ({r})", ckargs, "space", wf, np_=np_)
        case(f"D4b -checkpoint on a full disk, writes fail ({r})", ckargs, "ck.h5", wf, np_=np_, env=noreserve, timeout=60)
        if os.path.exists(os.path.join(full, "ck.h5")):  # (a first checkpoint may fit; a later one fails: the first must stay readable)
            tally["cases"] += 1
            why = readable_h5(os.path.join(full, "ck.h5"), "results_ints")()
            print(f"DEFECT: earlier checkpoint unreadable: {why}" if why else "ok: the earlier checkpoint stayed readable")
            tally["defects" if why else "clean"] += 1
            os.unlink(os.path.join(full, "ck.h5"))
    filler = os.path.join(full, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the rest, so that the summary itself cannot be written
    try:
        while os.write(fd, b"x" * 512) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
    wf.protect(filler)
    case("D4 -summary on a full disk (2 ranks)", B + ["-summary", os.path.join(full, "s.json")], "s.json", wf, np_=2)
    case("D4 -overlap_history on a full disk", ["-neurons", "200", "-memories", "5", "-quiet", "-design", "hebbian", "-input_schedule", "dominant0:2",
                                                "-overlap_history", os.path.join(full, "h.csv")], "h.csv", wf)
    del wf.files[filler]
    os.unlink(filler)

    # D5, D9: every floating option finite and in range
    hebb = ["-neurons", "200", "-memories", "5", "-quiet", "-design", "hebbian"]
    case("D5 -input_weights inf", hebb + ["-input_schedule", "weights:5", "-input_weights", "inf,0,0,0,0"], "input_weights", w, timeout=60)
    case("D5 -input_weights nan", hebb + ["-input_schedule", "weights:5", "-input_weights", "nan,0,0,0,0"], "input_weights", w, timeout=60)
    for args, expect in [(["-coding", "-5"], "coding"), (["-coding", "-inf"], "coding"), (["-coding", "0"], "coding"),
                         (["-cvode_init_step", "inf"], "cvode_init_step"), (["-cvode_nonlin_conv_coef", "inf"], "cvode_nonlin_conv_coef"),
                         (["-cvode_eps_lin", "inf"], "cvode_eps_lin"), (["-integrator", "em", "-noise", "0.1", "-noise_seed", "-1"], "noise_seed"),
                         (["-integrator", "em", "-noise", "0.1", "-noise_seed", "2147483648"], "noise_seed"), (["-rtol", "nan"], "rtol"),
                         (["-t_final", "inf"], "t_final")]:
        case("D9 " + " ".join(args), B + args, expect, w)
    case("D9 -input_schedule dominant0:inf", hebb + ["-input_schedule", "dominant0:inf"], "duration", w)
    case("D9 -input_schedule dominant0:5,,off:2", hebb + ["-input_schedule", "dominant0:5,,off:2"], "empty item", w)
    case("D9 -input_schedule dominant0:5,", hebb + ["-input_schedule", "dominant0:5,"], "empty item", w)

    # D6: an option without a value is an error, on the command line and in YAML
    case("D6 -neurons at the end", ["-memories", "5", "-trials", "2", "-quiet", "-neurons"], "-neurons", w)
    case("D6 -neurons -summary x", ["-memories", "5", "-trials", "2", "-quiet", "-neurons", "-summary", "x.json"], "-neurons", w)
    case("D6 -storage ''", B + ["-storage", ""], "-storage", w)
    for opt in ["-memories", "-flip", "-seed", "-gain", "-trials", "-integrator"]:
        case(f"D6 {opt} without a value (2 ranks)" if opt == "-seed" else f"D6 {opt} without a value", B + [opt], opt, w, np_=2 if opt == "-seed" else 0)
    with open("empty.yaml", "w") as fh:
        fh.write("neurons:\ntrials: 2\n")
    w.protect("empty.yaml")
    case("D6 YAML 'neurons:'", ["-options_file_yaml", "empty.yaml", "-quiet"], "-neurons", w)
    case("flags without values still work", B + ["-monitor_every", "1000", "-cvode_stab_lim_det", "-summary", "flags.json"], None, w)

    # D8, D10, D11, D12
    case("D8 -cvode_krylov_dim 100000000", B + ["-cvode_krylov_dim", "100000000"], "cvode_krylov_dim", w)
    case("D8 -cvode_krylov_dim 100000000 (2 ranks)", B + ["-cvode_krylov_dim", "100000000"], "cvode_krylov_dim", w, np_=2)
    case("D10 -neurons 2147483648", ["-memories", "5", "-quiet", "-neurons", "2147483648"], "got 2147483648", w)
    case("D10 -memories 99999999999999999999", ["-neurons", "200", "-quiet", "-memories", "99999999999999999999"], "99999999999999999999", w)
    case("D11 -neurons 200000000 dense", ["-memories", "5", "-quiet", "-neurons", "200000000"], "GB per rank", w)
    case("D11 -trials 2000000000", ["-neurons", "200", "-memories", "5", "-quiet", "-trials", "2000000000"], "GB per rank", w)
    case("D11 -pool_size 100000000 (2 ranks)", B + ["-network", "ei", "-storage", "lowrank", "-pool_size", "100000000"], "GB per rank", w, np_=2)
    case("D11 -memory_limit 10M", B + ["-memory_limit", "10M"], "GB per rank", w)
    case("D12 -patterns p.h5 -neurons 300", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-neurons", "300"], "-neurons", w)
    case("D12 -patterns p.h5 -memories 4", ["-trials", "2", "-quiet", "-patterns", "p.h5", "-memories", "4"], "-memories", w)

    # D13: two concurrent runs on the same -output and -summary: both succeed, the file is complete
    ref = ["-neurons", "1000", "-memories", "5", "-trials", "6", "-quiet"]
    case("reference run", ref + ["-output", "ref.h5"], None, w)
    procs = [subprocess.Popen(cmd(np_, ref + ["-output", "same.h5", "-summary", "same.json"]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for np_ in (0, 2)]
    done = [pr.communicate(timeout=120) for pr in procs]  # both finish before anything is judged

    def equal_ref():
        with h5py.File("same.h5", "r") as a, h5py.File("ref.h5", "r") as b:
            if not np.allclose(a["final_states"][...], b["final_states"][...], atol=1e-6):
                return "same.h5 differs from the reference run"
        return None
    for k, (pr, (out, err)) in enumerate(zip(procs, done)):
        judge(f"D13 concurrent run {k + 1} on the same -output", pr, out, err, None, w, extra=equal_ref)

    # kills at random points: earlier outputs survive byte for byte (or a complete new one after a
    # finished run), no temporary file is left (SIGKILL: swept up by the next writer of the file)
    long_run = ["-neurons", "1500", "-memories", "8", "-trials", "8", "-quiet"]
    subprocess.run(cmd(0, long_run + ["-seed", "3", "-trials", "1", "-output", "k.h5", "-summary", "k.json"]), env=ENV, capture_output=True, timeout=120)
    kw = Watch(work)
    random.seed(13)
    for k in range(6):
        sig = (signal.SIGKILL, signal.SIGTERM)[k % 2]
        np_ = (0, 2)[(k // 2) % 2]
        ck = k >= 4
        kw.files = {}
        kw.protect("k.h5", "k.json")
        args = long_run + ["-output", "k.h5", "-summary", "k.json"] + (["-checkpoint", "kck.h5"] if ck else [])
        pr = subprocess.Popen(cmd(np_, args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
        time.sleep(random.uniform(0.3, 1.5))
        target = pr.pid
        if np_ and sig == signal.SIGKILL:  # SIGKILL to the ranks themselves (mpiexec then ends the job)
            kids = subprocess.run(["pgrep", "-P", str(pr.pid)], capture_output=True, text=True).stdout.split()
            for kid in kids:
                try:
                    os.kill(int(kid), sig)
                except ProcessLookupError:
                    pass
        else:
            try:
                os.kill(target, sig)
            except ProcessLookupError:
                pass
        try:
            out, err = pr.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(pr.pid, signal.SIGKILL)
            out, err = pr.communicate()
        name = f"{signal.Signals(sig).name} at a random point ({max(np_, 1)} rank{'s' if np_ else ''}{', -checkpoint' if ck else ''})"
        tally["cases"] += 1
        why = []
        finished = pr.returncode == 0
        for f, h in kw.files.items():  # a killed run leaves the earlier file, or (killed after its rename) the complete new one
            if not finished and digest(f) != h and not complete_output(f, trials=8, n=1500):
                why.append(f"{f} changed although the run did not finish, and is not a complete output")
        if finished:
            try:
                with h5py.File("k.h5") as f:
                    f["final_states"][...]
            except Exception as e:  # noqa: BLE001
                why.append(f"k.h5 unreadable: {e}")
        if ck and os.path.exists("kck.h5"):
            try:
                with h5py.File("kck.h5") as f:
                    if f.attrs["format"] != b"ratemem-checkpoint" and f.attrs["format"] != "ratemem-checkpoint":
                        why.append("kck.h5 is not a checkpoint")
            except Exception as e:  # noqa: BLE001
                why.append(f"checkpoint kck.h5 unreadable: {e}")
        time.sleep(0.3)  # (mpiexec's ranks may still be on their way out)
        left = glob.glob("*.partial*")
        # SIGKILL leaves no chance to clean up (nor does mpiexec, which escalates a SIGTERM of its own to
        # SIGKILL of the ranks): the next writer of the file sweeps the temporaries of dead processes up
        if left and (sig == signal.SIGKILL or np_):  # (the checkpoint too: a kill can land in one of its writes)
            subprocess.run(cmd(0, B + ["-output", "k.h5", "-summary", "k.json"] + (["-checkpoint", "kck.h5"] if ck else [])), env=ENV,
                           capture_output=True, timeout=60)
            left = glob.glob("*.partial*")
        if left:
            why.append("temporary files left: " + ", ".join(left))
            for x in left:
                os.unlink(x)
        if why:
            tally["defects"] += 1
            failures.append(name)
            print(f"DEFECT: {name}: exit {pr.returncode}: " + "; ".join(why))
        else:
            tally["clean"] += 1
            print(f"ok: {name} (exit {pr.returncode})")
        if os.path.exists("kck.h5"):
            os.unlink("kck.h5")
    w.files = {f: h for f, h in w.files.items() if os.path.exists(f)}
    for p_ in w.problems():
        print("DEFECT: at the end: " + p_)
        tally["defects"] += 1


if __name__ == "__main__":
    main()
