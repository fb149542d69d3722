#!/usr/bin/python3
"""Retrieval success of the dominant memory vs noise and vs input mixing (model.md §7, issue #7).

Usage: scripts/input_experiments.py CONFIG [--np N] [--jobs J] [--out DIR] [--exe PATH] [--png FILE]

CONFIG (YAML, see configs/input_sweep.yaml) lists the common ratemem options, the forms
(multiplicative = input-driven synapses W(u), additive = classic +u), the trials per point and two
experiments:
  noise  - the paper's schedule of three dominant inputs at each noise amplitude sigma; success of a
           presentation = overlap with its dominant memory >= threshold at its end; reported for the first
           presentation, for the switches (presentations 1, 2) and over all;
  mixing - one input u = sum c_mu xi^mu with c_0 = ratio, the others 1 (optionally rescaled to
           sum c = sqrt(PN)), at each sigma; success = memory 0 retrieved at the end.
Trial k uses -seed seed0+k and -noise_seed seed0+k. Each run is `ratemem retrieve` on N MPI ranks
(--np, default 1); J runs go at once (--jobs, default max(1, cores // N)).
Writes DIR/input_runs.csv (one row per run and presentation) and DIR/input_retrieval.csv (one row
per point), both atomically (tmp + os.replace), and the PNG (default docs/input_retrieval.png).
Exit 0 when every run was carried out, 1 on a usage error or a failed run."""
import argparse
import concurrent.futures as cf
import csv
import math
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RUN_COLS = ["experiment", "form", "sigma", "ratio", "trial", "seed", "presentation", "dominant", "nearest", "overlap",
            "m_dom", "label", "success"]
PT_COLS = ["experiment", "form", "sigma", "ratio", "trials", "presentations", "success", "success_first", "success_switch",
           "mean_m_dom", "min_m_dom", "max_m_dom"]


def atomic_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def parse_table(out):
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 9 and f[0].isdigit():
            rows.append(dict(presentation=int(f[0]), dominant=int(f[3]), nearest=int(f[4]), overlap=float(f[5]),
                             m_dom=float(f[6]), label=f[8]))
    return rows


def opts(d):
    out = []
    for k, v in d.items():
        out += [f"-{k}", str(v)]
    return out


def mixing_weights(ratio, P, N, normalize):
    c = [ratio] + [1.0] * (P - 1)
    if normalize:
        s = math.sqrt(P * N) / sum(c)
        c = [x * s for x in c]
    return ",".join(f"{x:.10g}" for x in c)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--np", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--out", default="input_out")
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "ratemem"))
    ap.add_argument("--png", default=os.path.join(REPO, "docs", "input_retrieval.png"))
    ap.add_argument("--replot", metavar="CSV", help="only plot an input_retrieval.csv written before (no runs)")
    a = ap.parse_args()
    try:
        with open(a.config) as fp:
            cfg = yaml.safe_load(fp)
        base = dict(cfg["options"])
        trials, seed0, thr = int(cfg.get("trials", 8)), int(cfg.get("seed0", 1)), float(cfg.get("threshold", 0.9))
        forms = list(cfg.get("forms", ["multiplicative", "additive"]))
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as e:
        print(f"input_experiments: bad config {a.config}: {e}", file=sys.stderr)
        return 1
    if a.replot:
        summary = read_points(a.replot)
        plot(summary, a.png, cfg, summary[0][4] if summary else trials)
        print(f"wrote {a.png} from {a.replot}")
        return 0
    N, P = int(base.get("neurons", 1024)), int(base.get("memories", 10))
    jobs = a.jobs or max(1, (os.cpu_count() or 1) // max(1, a.np))
    os.makedirs(a.out, exist_ok=True)

    tasks = []  # (experiment, form, sigma, ratio, trial, options)
    if "noise" in cfg:
        for form in forms:
            for s in cfg["noise"]["sigma"]:
                for k in range(trials):
                    tasks.append(("noise", form, float(s), "", k, ["-input_schedule", cfg["noise"]["schedule"]]))
    if "mixing" in cfg:
        mx = cfg["mixing"]
        for form in forms:
            for s in mx.get("sigma", [0]):
                for r in mx["ratio"]:
                    w = mixing_weights(float(r), P, N, bool(mx.get("normalize", True)))
                    for k in range(trials):
                        tasks.append(("mixing", form, float(s), float(r), k,
                                      ["-input_schedule", f"weights:{mx.get('duration', 20)}", "-input_weights", w]))
    mpi = [] if a.np <= 1 else ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(a.np)]

    def go(t):
        exp, form, s, r, k, extra = t
        o = dict(base, input_mode=form, noise=f"{s:g}", seed=seed0 + k, noise_seed=seed0 + k)
        cmd = mpi + [a.exe, "retrieve"] + opts(o) + extra
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if p.returncode:
            raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr.strip()}")
        return t, parse_table(p.stdout)

    runs, failed = [], 0
    with cf.ThreadPoolExecutor(jobs) as ex:
        for fut in cf.as_completed([ex.submit(go, t) for t in tasks]):
            try:
                t, rows = fut.result()
            except RuntimeError as e:
                print(f"input_experiments: run failed: {e}", file=sys.stderr)
                failed += 1
                continue
            exp, form, s, r, k, _ = t
            for row in rows:
                # ratemem's label: the dominant memory's overlap >= threshold and no other memory's (a union of
                # memories, as the classic rate form reaches, is not a retrieval)
                ok = row["label"] == "retrieved" and row["m_dom"] >= thr and (exp == "noise" or row["nearest"] == 0)
                runs.append([exp, form, s, r, k, seed0 + k, row["presentation"], row["dominant"], row["nearest"],
                             row["overlap"], row["m_dom"], row["label"], int(ok)])
    runs.sort(key=lambda x: (x[0], x[1], x[2], str(x[3]), x[4], x[6]))
    atomic_csv(os.path.join(a.out, "input_runs.csv"), RUN_COLS, runs)

    points = {}
    for x in runs:
        points.setdefault(tuple(x[:4]), []).append(x)
    summary = []
    for key in sorted(points, key=lambda q: (q[0], q[1], q[2], str(q[3]))):
        rs = points[key]
        succ = [x[12] for x in rs]
        first = [x[12] for x in rs if x[6] == 0]
        switch = [x[12] for x in rs if x[6] > 0]
        m = [x[10] for x in rs]
        mean = lambda v: sum(v) / len(v) if v else ""  # noqa: E731
        summary.append(list(key) + [len({x[4] for x in rs}), len(rs), mean(succ), mean(first), mean(switch), mean(m), min(m), max(m)])
    atomic_csv(os.path.join(a.out, "input_retrieval.csv"), PT_COLS, summary)
    for row in summary:
        print("{:<7} {:<15} sigma {:>4g} ratio {:>5} trials {}  success {:.2f}  first {:.2f}  switch {}  mean m_dom {:.3f}".format(
            row[0], row[1], row[2], row[3], row[4], row[6], row[7], "" if row[8] == "" else f"{row[8]:.2f}", row[9]))
    if a.png:
        plot(summary, a.png, cfg, trials)
        print(f"wrote {a.png}")
    print(f"wrote {os.path.join(a.out, 'input_retrieval.csv')} and input_runs.csv ({len(runs)} presentations, {failed} failed runs)")
    return 1 if failed else 0


def read_points(path):
    """The rows of an input_retrieval.csv as the lists main() builds (numbers as numbers)."""
    out = []
    with open(path, newline="") as fp:
        for r in csv.DictReader(fp):
            num = lambda v: float(v) if v != "" else ""  # noqa: E731
            out.append([r["experiment"], r["form"], float(r["sigma"]), num(r["ratio"]), int(r["trials"]), int(r["presentations"]),
                        num(r["success"]), num(r["success_first"]), num(r["success_switch"]), num(r["mean_m_dom"]), num(r["min_m_dom"]),
                        num(r["max_m_dom"])])
    return out


def plot(summary, png, cfg, trials):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter
    colour = {"multiplicative": "tab:red", "additive": "tab:blue"}
    name = {"multiplicative": "input-driven W(u)", "additive": "classic additive"}
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    # Curves that coincide (e.g. every classic series at 0) would hide each other: each series gets its own
    # marker and line style and a small vertical offset (a few hundredths, stated in the titles).
    off = {("multiplicative", 0): 0.012, ("multiplicative", 1): -0.012, ("additive", 0): 0.03, ("additive", 1): -0.03}
    for form in colour:
        pts = sorted((r for r in summary if r[0] == "noise" and r[1] == form), key=lambda r: r[2])
        if pts:
            s = [r[2] for r in pts]
            ax[0].plot(s, [r[7] + off[(form, 0)] for r in pts], "o--" if form == "multiplicative" else "v:", color=colour[form], mfc="none", ms=7,
                       label=f"{name[form]}: first input")
            ax[0].plot(s, [r[8] + off[(form, 1)] for r in pts], "s-" if form == "multiplicative" else "^-.", color=colour[form], ms=5,
                       label=f"{name[form]}: switches (inputs 2, 3)")
        sigmas = sorted({r[2] for r in summary if r[0] == "mixing"})
        for k, (sg, ls, mk) in enumerate(zip(sigmas, ["-", "--", ":", "-."], ["o", "s", "^", "D"])):
            pts = sorted((r for r in summary if r[0] == "mixing" and r[1] == form and r[2] == sg), key=lambda r: r[3])
            if pts:
                ax[1].plot([r[3] for r in pts], [r[6] + off[(form, k % 2)] for r in pts], mk + ls, color=colour[form], ms=6 if k == 0 else 4,
                           mfc="none" if k == 0 else colour[form], label=f"{name[form]}, σ = {sg:g}")
    ax[0].set_xlabel("noise amplitude σ")
    ax[0].set_ylabel(f"retrieval success (overlap ≥ {cfg.get('threshold', 0.9)})")
    sched = cfg.get("noise", {}).get("schedule", "dominant0:10")
    ax[0].set_title(f"paper schedule: 3 dominant inputs, t = {sched.split(',')[0].rsplit(':', 1)[1]} each\n(curves offset by ±0.01–0.03 so equal ones stay visible)", fontsize=9)
    ax[1].set_xlabel("mixing: dominant weight c₀ / background weight c_μ")
    ax[1].set_xscale("log")  # (resets the formatters: set them after it)
    ax[1].set_xticks(sorted({r[3] for r in summary if r[0] == "mixing"}) or [1])
    ax[1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain 1, 1.5, 2, not 2×10⁰
    ax[1].xaxis.set_minor_formatter(NullFormatter())
    ax[1].tick_params(axis="x", labelsize=7)
    ax[1].set_title(f"one input for t = {cfg.get('mixing', {}).get('duration', 20)} (same offsets)", fontsize=9)
    for x in ax:
        x.set_ylim(-0.07, 1.07)
        x.grid(alpha=0.3)
        x.legend(fontsize=7)
    o = cfg["options"]
    model = f"firing-rate variant (p = {o.get('coding')}), " if str(o.get("input_variant", "")) == "rate" else ""
    fig.suptitle(f"{model}N = {o.get('neurons')}, P = {o.get('memories')}, δ = {o.get('gain')}, {trials} trials per point "
                 f"(seeds), Euler–Maruyama dt = {o.get('euler_dt')}", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)) or ".", exist_ok=True)
    fig.savefig(png + ".tmp.png", dpi=110)
    os.replace(png + ".tmp.png", png)


if __name__ == "__main__":
    sys.exit(main())
