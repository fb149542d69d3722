#!/usr/bin/python3
"""End-to-end checks of the ratemem command. Usage: app_checks.py CASE EXE [REPO]
Cases: help, retrieval, yaml, patterns_file, demo, monitor, rerun, balance, census. Each runs the real app and asserts
on its outputs; exits 1 with a message naming what failed."""
import json, os, re, shutil, subprocess, sys, tempfile
import h5py
import numpy as np

case, exe = sys.argv[1], os.path.abspath(sys.argv[2])
repo = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..")
tmp = tempfile.mkdtemp(prefix="ratemem-app.")
failures = []
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def run(args, np_=1, expect_ok=True):
    cmd = MPI + ["-n", str(np_), exe, "retrieve"] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    return p


def summary(args, np_=1):
    path = os.path.join(tmp, "s.json")
    p = run(list(args) + ["-summary", path, "-quiet"], np_)
    return json.load(open(path)), p


if case == "help":
    p = run(["-help"])
    text = p.stdout + p.stderr
    for opt in ["-neurons", "-memories", "-seed", "-design", "-storage", "-indegree", "-flip", "-trials", "-integrator",
                "-rtol", "-atol", "-t_final", "-patterns", "-summary", "-output", "-monitor", "-activation", "-gain",
                "-threshold", "-a ", "-b ", "-balance", "-coding", "-tau", "-pattern_kind", "-cue", "-converge_tol"]:
        check(opt in text, f"-help lists {opt.strip()}")
    check("bdf" in text and "adams" in text and "euler" in text, "-help lists the integrators")
    check("Options for all PETSc programs" not in text and "PetscDevice" not in text, "-help leaves PETSc's own options out")
    check(text.index("Synapses") < text.index("Retrieval run"), "-help lists the objects' options first, then the run's")
    # every flag (a PetscOptionsBool, shown as "-name: <FALSE : FALSE>") may be given without a value
    for sub in ["retrieve", "sweep", "stability", "bench"]:
        h = subprocess.run([exe, sub, "-help"], capture_output=True, text=True, timeout=120)
        flags = sorted(set(re.findall(r"^\s*-(\w+): <(?:TRUE|FALSE)", h.stdout, re.M)))
        check(h.returncode == 0 and len(flags) >= (3 if sub == "retrieve" else 1), f"{sub} -help shows its flags ({flags})")
        for flag in flags:
            q = subprocess.run([exe, sub, "-" + flag, "-help"], capture_output=True, text=True, timeout=120)
            check(q.returncode == 0 and "without a value" not in q.stderr, f"{sub} -{flag} may stand alone ({q.stderr.strip()[:120]})")
    p = run(["-help_petsc"])
    check(p.returncode == 0 and "Options for all PETSc programs" in p.stdout + p.stderr and "-neurons" in p.stdout, "-help_petsc adds PETSc's own options")

elif case == "retrieval":
    # Issue #3: n=2000, P=10, 10% flipped cues retrieve their memory in every trial, for both designs;
    # cues 50% flipped (beyond the basin) do not.
    for design in ["paper", "hebbian"]:
        base = ["-neurons", 2000, "-memories", 10, "-trials", 10, "-seed", 3, "-design", design]
        s, _ = summary(base + ["-flip", 0.1], 2)
        labels = [t["label"] for t in s["trials"]]
        check(s["retrieval_rate"] == 1.0, f"{design}: 10% flipped cues all retrieved ({labels})")
        check(all(t["overlap"] > 0.99 for t in s["trials"]), f"{design}: final overlaps > 0.99")
        s, _ = summary(base + ["-flip", 0.5], 2)
        rate = s["retrieval_rate"]
        check(rate <= 0.2, f"{design}: 50% flipped cues are not retrieved (rate {rate})")

elif case == "yaml":
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write("neurons: 300\nmemories: 3\ntrials: 2\nflip: 0.05\nseed: 7\nintegrator: adams\n")
    s, _ = summary(["-options_file_yaml", cfg])
    check(s["network"]["n"] == 300 and s["network"]["memories"] == 3 and len(s["trials"]) == 2, "YAML values applied")
    check(s["integrator"]["method"] == "adams" and s["network"]["seed"] == 7, "YAML integrator and seed applied")
    s, _ = summary(["-options_file_yaml", cfg, "-neurons", 400, "-integrator", "bdf"])
    check(s["network"]["n"] == 400 and s["integrator"]["method"] == "bdf", "command line overrides YAML")

elif case == "patterns_file":
    rng = np.random.default_rng(5)
    pats = (rng.random((4, 500)) < 0.2).astype(np.uint8)
    pf = os.path.join(tmp, "p.h5")
    with h5py.File(pf, "w") as f:
        f["patterns"] = pats
    out = os.path.join(tmp, "o.h5")
    s, _ = summary(["-patterns", pf, "-trials", 4, "-output", out], 2)
    check(s["network"]["n"] == 500 and s["network"]["memories"] == 4, "patterns file sets n and P")
    check(abs(s["model"]["coding"] - pats.mean()) < 1e-12, "coding level measured from the file")
    check(s["retrieval_rate"] == 1.0, f"loaded memories retrieved ({s['retrieval_rate']})")
    with h5py.File(out) as f:
        check(np.array_equal(f["patterns"][()], pats), "/patterns written back equals the input")
    # Unbiased bits as ±1 memories for the Hebbian design (biased ±1 memories are correlated,
    # which the plain Hebbian rule cannot store: that is physics, not a bug).
    with h5py.File(pf, "w") as f:
        f["patterns"] = (rng.random((4, 500)) < 0.5).astype(np.uint8)
    s, _ = summary(["-patterns", pf, "-trials", 4, "-design", "hebbian", "-output", out], 3)
    with h5py.File(out) as f:
        x0 = f["initial_states"][()]
    check(set(np.unique(x0)) <= {-1.0, 1.0}, "hebbian: file bits mapped to ±1 cues")
    check(s["retrieval_rate"] == 1.0, f"hebbian: loaded memories retrieved ({s['retrieval_rate']})")
    # The projection design on real, unevenly correlated memories (docs/results.md "Projection design on
    # real data"): the ten digit class means at 32x32, thresholded against their common mean.
    dg = os.path.join(tmp, "digits.h5")
    subprocess.run([sys.executable, os.path.join(repo, "scripts", "make_patterns.py"), "--sklearn", "digits", "--digits-mode", "means",
                    "--upsample", "32x32", "--threshold", "common-mean", "--out", dg], check=True, capture_output=True)
    labels = {}
    for np_ in (1, 3):
        s, _ = summary(["-patterns", dg, "-design", "projection", "-storage", "lowrank", "-trials", 20, "-flip", 0.1], np_)
        labels[np_] = [t["label"] for t in s["trials"]]
        check(s["retrieval_rate"] >= 0.9, f"projection design, digit means, {np_} rank(s): retrieval {s['retrieval_rate']} >= 0.9")
        check(1 < s["model"]["gram_cond"] < 1e8 and s["model"]["weight_norm"] > 0, "projection: cond(G) and ||W|| reported")
    check(labels[1] == labels[3], "projection: the same labels on 1 and 3 ranks")
    pd = os.path.join(tmp, "dup.h5")
    with h5py.File(dg) as f:
        pats = f["patterns"][()]
    pats[3] = pats[5]
    with h5py.File(pd, "w") as f:
        f["patterns"] = pats
    p = run(["-patterns", pd, "-design", "projection", "-storage", "lowrank", "-trials", 1], 1, expect_ok=False)
    check("condition number" in p.stderr + p.stdout and "-projection_max_cond" in p.stderr + p.stdout, "projection: identical memories refused with cond(G)")

elif case == "demo":
    p = subprocess.run(MPI + ["-n", "2", exe, "retrieve", "-options_file_yaml", os.path.join(repo, "configs", "demo.yaml")],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "demo exits 0")
    check("retrieval rate" in p.stdout and "trial" in p.stdout and "2 ranks" in p.stdout, "demo prints the table")

elif case == "monitor":
    p = run(["-neurons", 300, "-memories", 3, "-trials", 1, "-monitor", "-monitor_every", 5], 2)
    lines = [l for l in p.stderr.splitlines() if l.startswith("[monitor]")]
    check(len(lines) >= 2, f"-monitor prints progress to stderr ({len(lines)} lines)")
    setup = [l for l in lines if l.startswith("[monitor] set-up:")]
    check(len(setup) == 1 and "memories" in setup[0] and "MB per rank" in setup[0], f"one set-up line with the stages' times ({setup})")
    steps = [l for l in lines if l not in setup]
    check(steps and all("best overlap" in l and " of 1:" in l and "residual" in l for l in steps), "progress lines show trial k of T, the residual and the best overlap")
    check(len(p.stderr.splitlines()) == len(lines), "progress printed once (rank 0), nothing else on stderr")
    # Long stages: [progress] lines at a bounded rate, none for a short stage at the default interval.
    p = run(["-neurons", 3000, "-memories", 3, "-trials", 1, "-progress_interval", 1e-6, "-quiet"], 2)
    prog = [l for l in p.stderr.splitlines() if l.startswith("[progress] dense weights:")]
    check(len(prog) >= 2 and "of 3000 columns on rank 0" in prog[0] and "left" in prog[0] and "done in" in prog[-1],
          f"-progress_interval: the weights stage reports its progress and its end ({prog[:1]}, {prog[-1:]})")
    check(len(p.stderr.splitlines()) == len([l for l in p.stderr.splitlines() if l.startswith("[progress]")]), "progress printed once (rank 0)")
    p = run(["-neurons", 3000, "-memories", 3, "-trials", 1, "-quiet"], 2)
    check("[progress]" not in p.stderr, "a short stage prints no progress at the default interval")
elif case == "rerun":
    # The HDF5 output describes its run (h5dump -A shows every setting), and `ratemem rerun` repeats it.
    a, b = os.path.join(tmp, "a.h5"), os.path.join(tmp, "b.h5")
    run(["-neurons", 300, "-memories", 4, "-trials", 2, "-seed", 5, "-a", -0.25, "-storage", "lowrank", "-output", a, "-quiet"], 2)
    with h5py.File(a) as f:
        attrs = dict(f.attrs)
    for key in ["network.n", "network.seed", "network.storage", "model.alpha", "model.beta", "model.gamma", "model.phi_a", "model.phi_b",
                "integrator.method", "cue.flip", "trials", "ratemem_version", "ratemem_commit", "date", "ranks", "hosts", "options", "rerun"]:
        check(key in attrs, f"-output carries the attribute {key}")
    check(int(attrs.get("network.seed", -1)) == 5 and int(attrs.get("ranks", 0)) == 2, "the attributes hold the run's values")
    ck = os.path.join(tmp, "ck.h5")
    run(["-neurons", 300, "-memories", 4, "-trials", 2, "-seed", 5, "-a", -0.25, "-storage", "lowrank", "-checkpoint", ck, "-quiet"], 2)
    with h5py.File(ck) as f:
        ck_attrs = dict(f.attrs)
    missing = [k for k in attrs if k not in ck_attrs and k not in ("date",)]
    check(not missing and ck_attrs["rerun"] == attrs["rerun"] and int(ck_attrs["network.seed"]) == 5 and "config_hash" in ck_attrs,
          f"a checkpoint carries the output's description too (missing {missing[:5]})")
    rerun = attrs.get("rerun", b"").decode()
    check(rerun.startswith("retrieve") and "-a -0.25" in rerun and "-output" not in rerun, f"rerun line {rerun!r}")
    p = subprocess.run(MPI + ["-n", "1", exe, "rerun", a, "-output", b, "-quiet"], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0 and "ratemem rerun: ratemem retrieve" in p.stderr, f"ratemem rerun runs ({p.stderr.strip()[-200:]})")
    with h5py.File(a) as fa, h5py.File(b) as fb:
        same = np.array_equal(fa["patterns"][()], fb["patterns"][()]) and np.allclose(fa["final_states"][()], fb["final_states"][()], atol=1e-6)
    check(same, "the rerun (1 rank) has the same patterns and final states as the run (2 ranks)")
    # An option value with a space (a -patterns path) survives the rerun as one argument.
    spaced = os.path.join(tmp, "dir with space")
    os.makedirs(spaced, exist_ok=True)
    c, d, pat = os.path.join(spaced, "c.h5"), os.path.join(spaced, "d.h5"), os.path.join(spaced, "pat file.h5")
    shutil.copy(a, pat)
    run(["-patterns", pat, "-trials", 2, "-seed", 7, "-output", c, "-quiet"], 1)
    with h5py.File(c) as f:
        rerun = f.attrs["rerun"].decode()
    check(f'-patterns "{pat}"' in rerun, f"a value with a space is quoted in the rerun line ({rerun!r})")
    p = subprocess.run(MPI + ["-n", "1", exe, "rerun", c, "-output", d, "-quiet"], capture_output=True, text=True, timeout=600)
    with h5py.File(c) as fc, h5py.File(d) as fd:
        same = p.returncode == 0 and np.allclose(fc["final_states"][()], fd["final_states"][()], atol=1e-6)
    check(same, f"the rerun of a run with a spaced -patterns path repeats it ({p.stderr.strip()[-200:]})")
    p = subprocess.run([exe, "rerun", os.path.join(tmp, "missing.h5")], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "does not open as an HDF5 file" in p.stderr, "rerun of a missing file is a clear error")
elif case == "balance":
    # -balance auto (docs/model.md §2): r = the mean pairwise overlap ratio, its spread in the summary,
    # the same on 1, 2 and 3 ranks; a warning naming -design projection when the spread is wide.
    def ratios(pats):
        q = pats.mean()
        c = pats.astype(np.int64) @ pats.T.astype(np.int64)
        r = c[np.tril_indices(len(pats), -1)] / (q * pats.shape[1])
        return q, r
    rng = np.random.default_rng(11)
    base = rng.random((5, 600)) < 0.25
    pf = os.path.join(tmp, "even.h5")   # correlated evenly: every memory shares a common core
    core = rng.random(600) < 0.1
    even = (base | core).astype(np.uint8)
    with h5py.File(pf, "w") as f:
        f["patterns"] = even
    q, r = ratios(even)
    got = []
    for np_ in (1, 2, 3):
        s, p = summary(["-patterns", pf, "-storage", "lowrank", "-balance", "auto", "-trials", 5, "-flip", 0.05], np_)
        m = s["model"]
        got.append({k: m[k] for k in m if k.startswith("overlap_ratio") or k.startswith("balance")})
        check("warning" not in p.stderr, f"no warning for evenly overlapping memories on {np_} rank(s) ({p.stderr.strip()[:200]})")
    check(got[0] == got[1] == got[2], "overlap ratios and r identical on 1, 2, 3 ranks")
    m = got[0]
    check(m["balance_mode"] == "auto" and m["overlap_ratio_pairs"] == 10, "summary says balance auto over 10 pairs")
    check(abs(m["balance"] - r.mean()) < 1e-12 and abs(m["overlap_ratio_min"] - r.min()) < 1e-12 and abs(m["overlap_ratio_max"] - r.max()) < 1e-12
          and abs(m["overlap_ratio_std"] - r.std()) < 1e-12, f"r = mean ratio, min/max/std as numpy ({m}, numpy mean {r.mean()})")
    check(abs(r.mean() - q) > 0.05, f"the test memories are correlated (r = {r.mean():.3f}, q = {q:.3f})")
    check(s["retrieval_rate"] == 1.0, f"the general design with the measured r retrieves them ({s['retrieval_rate']})")
    s, _ = summary(["-patterns", pf, "-storage", "lowrank", "-trials", 5, "-flip", 0.05], 1)
    check("balance_mode" not in s["model"] and abs(s["model"]["balance"] - s["model"]["coding"]) < 1e-15, "without -balance: r = q, nothing measured")
    # uneven: memory 1 is memory 0 with a few changes, the others independent
    uneven = (rng.random((5, 600)) < 0.25).astype(np.uint8)
    uneven[1] = uneven[0]
    flip = rng.choice(600, 40, replace=False)
    uneven[1, flip] ^= 1
    with h5py.File(pf, "w") as f:
        f["patterns"] = uneven
    s, p = summary(["-patterns", pf, "-storage", "lowrank", "-balance", "auto", "-trials", 5], 2)
    warn = [l for l in p.stderr.splitlines() if "warning" in l]
    check(len(warn) == 1 and "-design projection" in warn[0] and "-balance auto" in warn[0], f"one warning line naming -design projection ({warn})")
    check(s["model"]["balance_crosstalk"] > 0.5, f"the crosstalk bound is above 0.5 ({s['model']['balance_crosstalk']})")
    p = run(["-balance", "0.3x", "-trials", 1], 1, expect_ok=False)
    check(p.returncode != 0 and "-balance must be a number in [0,1), q or auto, got '0.3x'" in p.stderr, "a malformed -balance is a one-line error")
    p = run(["-balance", "auto", "-design", "hebbian", "-trials", 1], 1, expect_ok=False)
    check(p.returncode != 0 and "-balance auto" in p.stderr and "hebbian" in p.stderr, "-balance auto with -design hebbian is refused")
    h = run(["-help"]).stdout
    line = [l for l in h.splitlines() if l.strip().startswith("-balance")]
    check(len(line) == 1 and "<now q :" in line[0] and "auto" in line[0], f"-help shows -balance's default q and the auto choice ({line})")
elif case == "census":
    # A census of random initial states (-cue random): the fraction ending at each outcome with its 95%
    # Wilson interval, in the summary, the table and the sweep CSV; the same on 1 and 3 ranks.
    import math
    def wilson(k, n, z=1.96):
        p, z2 = k / n, z * z
        c, h = (p + z2 / (2 * n)) / (1 + z2 / n), z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, c - h), min(1.0, c + h)
    outcomes = ["memory", "quiescent", "saturated", "spurious", "unconverged"]
    args = ["-neurons", 400, "-memories", 6, "-storage", "lowrank", "-a", -0.3, "-b", 1.5, "-cue", "random", "-trials", 12]
    s1, p1 = summary(args, 1)
    s3, _ = summary(args, 3)
    c = s1["census"]
    check(list(c) == outcomes, f"summary census has the five outcomes in order ({list(c)})")
    check(sum(c[o]["count"] for o in outcomes) == 12, "the census counts add up to the trials")
    check(c["memory"]["count"] == s1["counts"]["retrieved"] + s1["counts"]["other"] and all(c[o]["count"] == s1["counts"][o] for o in outcomes[1:]),
          "census: memory = retrieved + other, the rest are the labels' counts")
    check(all(abs(c[o]["fraction"] - c[o]["count"] / 12) < 1e-15 and all(abs(a - b) < 1e-12 for a, b in zip(c[o]["ci95"], wilson(c[o]["count"], 12)))
              for o in outcomes), "census fractions and their 95% Wilson intervals")
    check(c["memory"]["count"] > 0 and c["memory"]["count"] < 12, f"this setting sends some random states to a memory and some elsewhere ({c})")
    check(all(t["cue_memory"] == -1 and t["overlap_cue"] == 0 for t in s1["trials"]), "random cues have no cued memory (cue -1, overlap_cue 0)")
    check(s3["census"] == c, "the census is the same on 3 ranks")
    p = run(args, 1)
    line = [l for l in p.stdout.splitlines() if l.startswith("census (95% Wilson):")]
    check(len(line) == 1 and all(o in line[0] for o in outcomes), f"the table prints the census line ({line})")
    csvp = os.path.join(tmp, "census.csv")
    p = subprocess.run(MPI + ["-n", "2", exe, "sweep"] + [str(a) for a in args[:-2]] + ["-trials", "12", "-sweep_b", "0.95,1.5", "-sweep_csv", csvp, "-quiet"],
                       capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"census sweep runs ({p.stderr[-300:]})")
    import csv as _csv
    rs = list(_csv.DictReader(open(csvp)))
    ok = len(rs) == 2
    for r in rs:
        f = {o: float(r["frac_" + o]) for o in outcomes}
        ok &= abs(f["memory"] - float(r["retrieval_rate"]) - float(r["frac_other"])) < 1e-6 and abs(sum(f.values()) - 1) < 1e-5
        for o in outcomes:
            lo, hi = wilson(round(f[o] * 12), 12)
            ok &= abs(float(r[f"frac_{o}_ci_lo"]) - lo) < 1e-5 and abs(float(r[f"frac_{o}_ci_hi"]) - hi) < 1e-5
    check(ok, "sweep CSV: census fractions add up to 1, memory = retrieved + other, Wilson intervals")
    b15 = [r for r in rs if abs(float(r["b"]) - 1.5) < 1e-9][0]
    check(abs(float(b15["frac_memory"]) - c["memory"]["fraction"]) < 1e-6, "the sweep point equals the retrieve run")
else:
    sys.exit(f"unknown case {case}")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
