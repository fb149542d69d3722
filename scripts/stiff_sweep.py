#!/usr/bin/python3
"""Stiff-regime sweep of the E/I network (model.md §5; issue #5 item 4).

Usage: scripts/stiff_sweep.py CONFIG [--np N] [--out DIR] [--exe PATH] [--png FILE] [--keep]

For every (stiffness ratio R = tau_E/tau_I, gain) of CONFIG (YAML, see configs/stiff_sweep.yaml):
  * runs the single-population reference of §3 (-network single, BDF, tight tolerances) once per
    gain and keeps its final states (DIR/reference_gain<g>.h5): as tau_I/tau_E -> 0 the E/I
    network reduces exactly to §3, and its equilibria are the same for every R, so this is the
    answer every integrator must reach;
  * runs each integrator of CONFIG on the E/I network; explicit Euler is run over a set of fixed
    steps dt = c*tau_I (plus an absolute cap), and the best stable explicit step is the run with
    the fewest RHS evaluations among those that converged with every trial's final state within
    `accuracy` (max abs) of the reference. Euler is `diverged` when its largest step blew up;
  * runs `ratemem stability` with the same network options for the spectral abscissa, when that
    subcommand exists and accepts them (else the column is left empty).
Writes DIR/stiff_sweep.csv (one row per ratio, gain, integrator; rewritten atomically after every
point), DIR/euler_candidates.csv (every Euler step tried) and DIR/runs/ (JSON summaries, logs).
With --png it also calls scripts/plot_stiff.py. Exits 0 when every run was carried out (whatever
the measured figures), 1 on a usage or set-up error."""
import argparse
import csv
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

COLUMNS = ["ratio", "gain", "integrator", "dt", "rhs_evals", "steps", "nonlin_iters", "lin_iters", "krylov_per_newton",
           "prec_solves", "err_test_fails", "conv_fails", "wall_time", "label", "converged", "diverged",
           "max_diff_to_reference", "abscissa",
           # extra columns (after the ones of the issue)
           "reference_label", "label_matches_reference", "accurate", "failed", "abscissa_single", "euler_factor",
           "euler_tried", "euler_stable_dts", "prec_setups", "nonlin_conv_fails", "lin_conv_fails", "jtimes_evals",
           "weight_products", "trials", "error"]
CAND_COLUMNS = ["ratio", "gain", "factor", "dt", "status", "max_steps", "rhs_evals", "steps", "converged", "label",
                "max_residual", "max_diff_to_reference", "accepted", "wall_time", "error"]
EI_ONLY = ("network", "stiffness", "tau_i", "pool_size")
RUN_ONLY = ("trials", "batch", "output", "summary", "monitor", "monitor_every")
COUNTS = ["rhs_evals", "steps", "nonlin_iters", "lin_iters", "prec_setups", "prec_solves", "err_test_fails",
          "nonlin_conv_fails", "lin_conv_fails", "jtimes_evals", "weight_products"]


def fmt(v):
    """A CSV cell: '' for None, repr-exact floats, ints as ints, booleans as 0/1."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return repr(v)
    return str(v)


def write_csv_atomic(path, columns, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r.get(c)) for c in columns])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def opt_args(opts):
    """{'neurons': 1000, 'cvode_stab_lim_det': True} -> ['-neurons', '1000', '-cvode_stab_lim_det']"""
    args = []
    for k, v in opts.items():
        if v is None or v is False:
            continue
        args.append("-" + k)
        if v is not True:
            args.append(str(v))
    return args


def num(x):
    """A YAML number, also when written as a string like '1e-6'."""
    return float(x)


class Runner:
    def __init__(self, exe, nranks, mpiexec, rundir, verbose=True):
        self.exe, self.nranks, self.rundir, self.verbose = exe, nranks, rundir, verbose
        self.mpiexec = shlex.split(mpiexec) if mpiexec else self.default_mpiexec()
        self.count = 0

    def default_mpiexec(self):
        cmd = ["mpiexec"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        return cmd + ["--oversubscribe"]

    def run(self, sub, opts, tag, output=False, timeout=None):
        """Runs `ratemem SUB` with OPTS; returns dict(ok, summary, h5, error, diverged_exit, budget_exit, elapsed)."""
        self.count += 1
        summ = os.path.join(self.rundir, tag + ".json")
        h5 = os.path.join(self.rundir, tag + ".h5") if output else None
        for p in (summ, h5):
            if p and os.path.exists(p):
                os.remove(p)
        args = opt_args(opts) + ["-summary", summ, "-quiet"]
        if h5:
            args += ["-output", h5]
        cmd = self.mpiexec + ["-n", str(self.nranks), self.exe, sub] + args
        with open(os.path.join(self.rundir, tag + ".cmd"), "w") as f:
            f.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, "", f"ratemem: error: timed out after {timeout} s (sweep driver)\n{e.stderr or ''}"
        elapsed = time.monotonic() - t0
        with open(os.path.join(self.rundir, tag + ".log"), "w") as f:
            f.write(out)
            f.write(err)
        res = {"ok": rc == 0 and os.path.exists(summ), "elapsed": elapsed, "h5": h5, "summary": None, "error": ""}
        if res["ok"]:
            with open(summ) as f:
                res["summary"] = json.load(f)
        else:
            lines = [l for l in err.splitlines() if "error" in l.lower()]
            res["error"] = (lines[0] if lines else (err.strip().splitlines() or [f"exit {rc}"])[0]).strip()[:300]
        low = res["error"].lower()
        res["diverged_exit"] = (not res["ok"]) and ("diverged" in low or "non-finite" in low or "nan" in low.split())
        res["budget_exit"] = (not res["ok"]) and "too much work" in low
        if self.verbose:
            status = "ok" if res["ok"] else "error: " + res["error"]
            print(f"    [{elapsed:7.2f} s] {tag}: {status}", flush=True)
        return res


def final_states(path):
    with h5py.File(path, "r") as f:
        return np.array(f["final_states"][...])


def per_trial_diff(res, ref_states):
    if not res["ok"] or not res["h5"] or not os.path.exists(res["h5"]):
        return None
    x = final_states(res["h5"])
    if x.shape != ref_states.shape:
        raise SystemExit(f"stiff_sweep: final states {x.shape} vs reference {ref_states.shape}: "
                         "the runs do not share n and trials")
    d = np.abs(x - ref_states).max(axis=1)
    d[~np.isfinite(d)] = np.inf
    return d


def aggregate(summary):
    """Sums of the per-trial counters, and the per-trial lists that matter."""
    trials = summary["trials"]
    agg = {k: sum(int(t.get(k, 0) or 0) for t in trials) for k in COUNTS}
    agg["wall_time"] = sum(float(t.get("wall_time", 0.0) or 0.0) for t in trials)
    agg["labels"] = [t["label"] for t in trials]
    agg["converged"] = all(bool(t["converged"]) for t in trials)
    agg["residuals"] = [float(t.get("residual", float("nan"))) for t in trials]
    kpn = [t["lin_iters"] / t["nonlin_iters"] for t in trials if t.get("nonlin_iters") and "lin_iters" in t]
    agg["krylov_per_newton"] = max(kpn) if kpn else None
    return agg


def joined_label(labels):
    u = sorted(set(labels), key=labels.index)
    return u[0] if len(u) == 1 else "+".join(u)


def blew_up(res, agg, diverged_residual):
    """A run blew up: error exit naming divergence / non-finite values, or unconverged with a residual
    above diverged_residual (rates outside any physical range) or non-finite."""
    if not res["ok"]:
        return res["diverged_exit"]
    return (not agg["converged"]) and any((not math.isfinite(r)) or r > diverged_residual for r in agg["residuals"])


def stability_abscissa(runner, opts, tag):
    """Spectral abscissa from `ratemem stability -summary` (max over memories), or (None, error)."""
    res = runner.run("stability", opts, tag)
    if not res["ok"]:
        return None, res["error"]
    s = res["summary"]
    for key in ("max_abscissa", "abscissa"):
        if isinstance(s.get(key), (int, float)):
            return float(s[key]), ""
    vals = [m.get("abscissa") for m in s.get("memories", []) if isinstance(m.get("abscissa"), (int, float))]
    if vals:
        return max(vals), ""
    return None, "no abscissa in the stability summary"


def stab_opts(opts):
    """The network options of a retrieve run, without the run-only ones `ratemem stability` may refuse."""
    return {k: v for k, v in opts.items() if k not in RUN_ONLY}


def stability_available(runner):
    try:
        p = subprocess.run(runner.mpiexec + ["-n", "1", runner.exe, "stability", "-help"], capture_output=True,
                           text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and "unknown subcommand" not in (p.stdout + p.stderr)


def load_config(path):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    if not isinstance(cfg, dict):
        raise SystemExit(f"stiff_sweep: {path}: not a YAML mapping")
    for key in ("options", "stiffness", "gain", "integrators"):
        if key not in cfg:
            raise SystemExit(f"stiff_sweep: {path}: missing key '{key}'")
    cfg.setdefault("trials", cfg["options"].get("trials", 2))
    cfg.setdefault("accuracy", 1e-6)
    cfg.setdefault("integrator_options", {})
    cfg.setdefault("reference", {})
    cfg.setdefault("stability", "auto")
    eu = cfg.setdefault("euler", {})
    eu.setdefault("factors", [1.9, 1.5, 1.0, 0.7, 0.5, 0.25])
    eu.setdefault("cap", 0.05)
    eu.setdefault("max_steps", 1000000)
    eu.setdefault("diverged_residual", 1.0)
    eu.setdefault("prune", True)
    for name in cfg["integrators"]:
        method = ((cfg["integrator_options"] or {}).get(name) or {}).get("integrator", name)
        if method not in ("bdf", "adams", "euler"):
            raise SystemExit(f"stiff_sweep: {path}: integrator '{name}' is not bdf, adams or euler "
                             "(a variant needs integrator_options.<name>.integrator)")
    return cfg


def euler_candidates(tau_i, eu):
    """Steps c*tau_I for c in factors, plus the cap when some c*tau_I is above it; largest first."""
    cands = {}
    for c in eu["factors"]:
        dt = float(c) * tau_i
        cands.setdefault(dt, float(c))
    cap = eu.get("cap")
    if cap and any(dt > float(cap) for dt in cands):
        cands.setdefault(float(cap), None)
    return sorted(cands.items(), key=lambda kv: -kv[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--np", type=int, default=2, help="MPI ranks per run (2)")
    ap.add_argument("--out", default=None, help="output directory (stiff_out/<config name>)")
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "ratemem"), help="ratemem binary (build/ratemem)")
    ap.add_argument("--mpiexec", default=None, help="MPI launcher command (mpiexec [--allow-run-as-root] --oversubscribe)")
    ap.add_argument("--png", default=None, help="also plot the CSV to this PNG (scripts/plot_stiff.py)")
    ap.add_argument("--keep", action="store_true", help="keep the HDF5 final states of every run")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per ratemem run (3600)")
    a = ap.parse_args()

    cfg = load_config(a.config)
    exe = os.path.abspath(a.exe)
    if not os.access(exe, os.X_OK):
        raise SystemExit(f"stiff_sweep: no executable {exe} (build with ninja -C build)")
    out = a.out or os.path.join("stiff_out", os.path.splitext(os.path.basename(a.config))[0])
    rundir = os.path.join(out, "runs")
    os.makedirs(rundir, exist_ok=True)
    runner = Runner(exe, a.np, a.mpiexec, rundir)

    base = dict(cfg["options"])
    base["trials"] = int(cfg["trials"])
    base.setdefault("network", "ei")
    base.setdefault("storage", "lowrank")
    tau_e = float(base.get("tau", 1.0))
    acc = num(cfg["accuracy"])
    eu = cfg["euler"]
    div_res = num(eu["diverged_residual"])
    integ_opts = cfg["integrator_options"] or {}
    ref_opts = {"integrator": "bdf", "rtol": 1e-10, "atol": 1e-12, "converge_tol": 1e-11}
    ref_opts.update(cfg["reference"].get("options", {}) or {})

    use_stab = cfg["stability"]
    if use_stab == "auto":
        use_stab = stability_available(runner)
    print(f"stiff_sweep: {a.config}: ratios {cfg['stiffness']}, gains {cfg['gain']}, integrators {cfg['integrators']}, "
          f"{base['trials']} trials, {a.np} ranks; `ratemem stability` {'used' if use_stab else 'not used'} for the abscissa",
          flush=True)

    rows, cand_rows = [], []
    csv_path = os.path.join(out, "stiff_sweep.csv")
    cand_path = os.path.join(out, "euler_candidates.csv")
    t_start = time.monotonic()
    notes = []

    for gain in cfg["gain"]:
        gain = float(gain)
        gtag = f"g{gain:g}"
        # --- single-population reference (model.md §3), once per gain
        ropts = {k: v for k, v in base.items() if k not in EI_ONLY}
        ropts.update({"network": "single", "gain": gain})
        ropts.update(ref_opts)
        print(f"gain {gain:g}: reference (single population, BDF rtol {ref_opts['rtol']:g})", flush=True)
        ref = runner.run("retrieve", ropts, f"ref_{gtag}", output=True, timeout=a.timeout)
        if not ref["ok"]:
            raise SystemExit(f"stiff_sweep: the reference run failed: {ref['error']}")
        ref_path = os.path.join(out, f"reference_gain{gain:g}.h5")
        shutil.copyfile(ref["h5"], ref_path)
        ref_states = final_states(ref_path)
        ref_agg = aggregate(ref["summary"])
        ref_labels = ref_agg["labels"]
        ref_label = joined_label(ref_labels)
        if not ref_agg["converged"]:
            notes.append(f"reference at gain {gain:g} did not converge (residuals {ref_agg['residuals']})")
        absc_single = None
        if use_stab:
            absc_single, err = stability_abscissa(runner, stab_opts(ropts), f"stab_single_{gtag}")
            if err:
                notes.append(f"stability (single, gain {gain:g}): {err}")

        for ratio in cfg["stiffness"]:
            ratio = float(ratio)
            tau_i = tau_e / ratio
            ptag = f"r{ratio:g}_{gtag}"
            eopts = dict(base)
            eopts.update({"network": "ei", "stiffness": ratio, "gain": gain})
            print(f"ratio {ratio:g}, gain {gain:g} (tau_I = {tau_i:g}):", flush=True)
            absc = None
            if use_stab:
                absc, err = stability_abscissa(runner, stab_opts(eopts), f"stab_{ptag}")
                if err:
                    notes.append(f"stability (ei, ratio {ratio:g}, gain {gain:g}): {err}")

            def row_from(integ, method, res, diffs, dt=None, diverged=None, extra=None):
                r = {"ratio": ratio, "gain": gain, "integrator": integ, "dt": dt, "abscissa": absc,
                     "abscissa_single": absc_single, "reference_label": ref_label, "trials": base["trials"],
                     "error": res["error"] if res else ""}
                if res and res["ok"]:
                    ag = aggregate(res["summary"])
                    r.update({k: ag[k] for k in COUNTS})
                    r["conv_fails"] = ag["nonlin_conv_fails"] + ag["lin_conv_fails"]
                    r["wall_time"] = ag["wall_time"]
                    r["label"] = joined_label(ag["labels"])
                    r["converged"] = ag["converged"]
                    r["label_matches_reference"] = ag["labels"] == ref_labels
                    r["krylov_per_newton"] = ag["krylov_per_newton"] if method == "bdf" else None
                    r["diverged"] = blew_up(res, ag, div_res) if diverged is None else diverged
                elif res:
                    r["label"] = "diverged" if res["diverged_exit"] else "failed"
                    r["converged"] = False
                    r["label_matches_reference"] = False
                    r["diverged"] = res["diverged_exit"] if diverged is None else diverged
                elif diverged is not None:
                    r["diverged"] = diverged
                if diffs is not None:
                    r["max_diff_to_reference"] = float(diffs.max())
                    r["accurate"] = bool(diffs.max() <= acc)
                else:
                    r["accurate"] = False
                r["failed"] = not r.get("converged")  # error exit, blow-up or not converged by t_final
                if extra:
                    r.update(extra)
                return r

            for integ in cfg["integrators"]:
                iopts = dict(eopts)
                iopts["integrator"] = integ
                iopts.update(integ_opts.get(integ, {}) or {})  # may set `integrator` (a named variant)
                if iopts["integrator"] != "euler":
                    res = runner.run("retrieve", iopts, f"{integ}_{ptag}", output=True, timeout=a.timeout)
                    diffs = per_trial_diff(res, ref_states)
                    rows.append(row_from(integ, iopts["integrator"], res, diffs))
                    if res["h5"] and os.path.exists(res["h5"]) and not a.keep:
                        os.remove(res["h5"])
                    continue
                # --- explicit Euler: best stable step
                best = None  # (rhs, dt, factor, res, diffs)
                largest_blew = None
                tried, stable_dts = 0, []
                global_cap = int(eu["max_steps"])
                for k, (dt, factor) in enumerate(euler_candidates(tau_i, eu)):
                    cap = global_cap
                    if eu["prune"] and best is not None:
                        # a run whose one trial needs more steps than the best run's total cannot win
                        cap = max(1, min(global_cap, best[0]))
                    copts = dict(iopts)
                    copts.update({"euler_dt": repr(dt), "cvode_max_steps": cap})
                    ctag = f"{integ}_{ptag}_dt{dt:.6g}"
                    res = runner.run("retrieve", copts, ctag, output=True, timeout=a.timeout)
                    tried += 1
                    diffs = per_trial_diff(res, ref_states)
                    ag = aggregate(res["summary"]) if res["ok"] else None
                    blew = blew_up(res, ag, div_res)
                    if k == 0:
                        largest_blew = blew
                    if res["ok"] and not blew:
                        stable_dts.append(dt)
                    if blew:
                        status = "diverged"
                    elif res["budget_exit"]:
                        status = "pruned" if cap < global_cap else "too_much_work"
                    elif not res["ok"]:
                        status = "error"
                    elif not ag["converged"]:
                        status = "unconverged"
                    elif diffs is None or diffs.max() > acc:
                        status = "inaccurate"
                    else:
                        status = "ok"
                    accepted = status == "ok"
                    cand_rows.append({"ratio": ratio, "gain": gain, "factor": factor, "dt": dt, "status": status,
                                      "max_steps": cap, "rhs_evals": ag["rhs_evals"] if ag else None,
                                      "steps": ag["steps"] if ag else None, "converged": ag["converged"] if ag else False,
                                      "label": joined_label(ag["labels"]) if ag else "",
                                      "max_residual": max(ag["residuals"]) if ag else None,
                                      "max_diff_to_reference": float(diffs.max()) if diffs is not None else None,
                                      "accepted": accepted, "wall_time": ag["wall_time"] if ag else None,
                                      "error": res["error"]})
                    if accepted and (best is None or ag["rhs_evals"] < best[0]):
                        if best and best[3]["h5"] and os.path.exists(best[3]["h5"]) and not a.keep:
                            os.remove(best[3]["h5"])
                        best = (ag["rhs_evals"], dt, factor, res, diffs)
                    elif res["h5"] and os.path.exists(res["h5"]) and not a.keep:
                        os.remove(res["h5"])
                extra = {"euler_tried": tried, "euler_stable_dts": ";".join(f"{d:.6g}" for d in stable_dts)}
                if best is None:
                    r = row_from(integ, "euler", None, None, diverged=bool(largest_blew), extra=extra)
                    r.update({"label": "no_stable_step", "converged": False, "failed": True,
                              "error": "no Euler step converged to the reference within the accuracy"})
                    rows.append(r)
                else:
                    extra["euler_factor"] = best[2]
                    rows.append(row_from(integ, "euler", best[3], best[4], dt=best[1], diverged=bool(largest_blew), extra=extra))
            write_csv_atomic(csv_path, COLUMNS, rows)
            write_csv_atomic(cand_path, CAND_COLUMNS, cand_rows)

    elapsed = time.monotonic() - t_start
    write_csv_atomic(csv_path, COLUMNS, rows)
    write_csv_atomic(cand_path, CAND_COLUMNS, cand_rows)
    meta = {"config": os.path.abspath(a.config), "ranks": a.np, "exe": exe, "runs": runner.count,
            "elapsed_seconds": elapsed, "stability_used": bool(use_stab), "notes": notes}
    with open(os.path.join(out, "sweep_meta.json.tmp"), "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(os.path.join(out, "sweep_meta.json.tmp"), os.path.join(out, "sweep_meta.json"))
    bdf_variants = [n for n in cfg["integrators"] if ((cfg["integrator_options"] or {}).get(n) or {}).get("integrator", n) == "bdf"]
    text = summary_text(rows, notes, elapsed, runner.count, csv_path, cfg.get("targets") or {}, bdf_variants)
    print("\n" + text, end="")
    with open(os.path.join(out, "summary.txt.tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(out, "summary.txt.tmp"), os.path.join(out, "summary.txt"))
    if a.png:
        p = subprocess.run([sys.executable, os.path.join(HERE, "plot_stiff.py"), csv_path, a.png])
        if p.returncode != 0:
            raise SystemExit("stiff_sweep: plot_stiff.py failed")
    return 0


def summary_text(rows, notes, elapsed, nruns, csv_path, targets, bdf_variants=("bdf",)):
    """Key figures: BDF vs best Euler RHS per point, max Krylov per Newton, BDF failures, targets."""
    L = [f"stiff_sweep: {nruns} runs in {elapsed:.1f} s; CSV {csv_path}"]
    by = {}
    for r in rows:
        by.setdefault((r["ratio"], r["gain"]), {})[r["integrator"]] = r
    L.append(f"{'ratio':>8} {'gain':>6} {'bdf_rhs':>8} {'euler_rhs':>10} {'euler_dt':>10} {'E/B_rhs':>8} {'E/B_ops':>8} "
             f"{'kry/newt':>8} {'bdf_label':>18} {'ref_label':>10} {'bdf_diff':>8}")
    for (ratio, gain), d in by.items():
        b, e = d.get("bdf", {}), d.get("euler", {})
        br, er = b.get("rhs_evals"), e.get("rhs_evals")
        q = er / br if br and er else None
        qo = er / b["weight_products"] if b.get("weight_products") and er else None
        L.append(f"{ratio:8g} {gain:6g} {fmt(br):>8} {fmt(er):>10} {('%.3g' % e['dt']) if e.get('dt') else '-':>10} "
                 f"{('%.1f' % q) if q else '-':>8} {('%.1f' % qo) if qo else '-':>8} "
                 f"{('%.2f' % b['krylov_per_newton']) if b.get('krylov_per_newton') is not None else '-':>8} "
                 f"{b.get('label', ''):>18} {b.get('reference_label', ''):>10} "
                 f"{('%.1e' % b['max_diff_to_reference']) if b.get('max_diff_to_reference') is not None else '-':>8}")
    L.append("E/B_rhs = best stable Euler RHS / BDF RHS; E/B_ops = Euler RHS / BDF (RHS + J*v) weight products")
    for integ in sorted({r["integrator"] for r in rows}):
        kpn = [r["krylov_per_newton"] for r in rows if r["integrator"] == integ and r.get("krylov_per_newton") is not None]
        if kpn:
            L.append(f"max Krylov iterations per Newton iteration ({integ}): {max(kpn):.3f}")
    bfail = [r for r in rows if r["integrator"] == "bdf" and r.get("failed")]
    bmis = [r for r in rows if r["integrator"] == "bdf" and not r.get("failed") and not r.get("label_matches_reference")]
    L.append(f"BDF failures (error exit or not converged): {len(bfail)}" +
             "".join(f"\n  ratio {r['ratio']:g} gain {r['gain']:g}: {r.get('label')} {r.get('error', '')}" for r in bfail))
    L.append(f"BDF points whose labels differ from the single-population reference's: {len(bmis)}" +
             "".join(f"\n  ratio {r['ratio']:g} gain {r['gain']:g}: {r.get('label')} vs {r.get('reference_label')}"
                     for r in bmis))
    # every BDF variant of the config (e.g. looser tolerances), each judged only where it is accurate
    for name in bdf_variants:
        if name == "bdf":
            continue
        vr = [r for r in rows if r["integrator"] == name]
        bad = [r for r in vr if r.get("failed") or not r.get("accurate") or not r.get("label_matches_reference")]
        L.append(f"{name}: {len(vr)} points, {len(bad)} failed / inaccurate / other labels than the reference" +
                 "".join(f"\n  ratio {r['ratio']:g} gain {r['gain']:g}: {r.get('label')} diff {r.get('max_diff_to_reference')}" for r in bad))
    for R, want in sorted(((float(k), float(v)) for k, v in targets.items())):
        for name in bdf_variants:
            qs, skipped = [], 0
            for (ratio, gain), d in by.items():
                b, e = d.get(name, {}), d.get("euler", {})
                if ratio != R or not (b.get("rhs_evals") and e.get("rhs_evals")):
                    continue
                if name != "bdf" and (b.get("failed") or not b.get("accurate")):
                    skipped += 1
                    continue
                qs.append((e["rhs_evals"] / b["rhs_evals"], gain))
            if qs:
                lo = min(qs)
                L.append(f"target at ratio {R:g}: {name} >= {want:g}x fewer RHS than the best stable Euler step: measured "
                         f"{lo[0]:.1f}x (gain {lo[1]:g}) to {max(qs)[0]:.1f}x: {'met' if lo[0] >= want and not skipped else 'NOT met'}"
                         + (f" ({skipped} inaccurate points)" if skipped else ""))
            else:
                L.append(f"target at ratio {R:g}: no {name}/Euler pair to compare")
    for n in notes:
        L.append("note: " + n)
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
