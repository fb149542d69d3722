#!/usr/bin/python3
"""Retrieval success of the dominant memory vs noise and vs input mixing (model.md §7, issue #7).

Usage: scripts/input_experiments.py CONFIG [--np N] [--jobs J] [--out DIR] [--csv FILE] [--exe PATH] [--png FILE] [--replot CSV]

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
Writes DIR/input_runs.csv (one row per run and presentation) and the point CSV (one row per point;
--csv FILE, default DIR/input_retrieval.csv), both atomically (tmp + os.replace), and the PNG (default
docs/input_retrieval.png). --replot CSV only redraws the PNG from a point CSV written before.
The figure draws each success rate with its 95% Wilson score interval (k successes of the point's n
presentations: n = trials for the first input and for mixing, 2 x trials for the switches); series are
told apart by colour, marker, fill and line style, and shifted a little sideways (dodged) so that equal
values, e.g. every classic series at 0, stay visible side by side; the values themselves are not moved.
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
    ap.add_argument("--csv", help="the point CSV (default DIR/input_retrieval.csv)")
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
    pt_csv = a.csv or os.path.join(a.out, "input_retrieval.csv")
    os.makedirs(os.path.dirname(os.path.abspath(pt_csv)), exist_ok=True)
    atomic_csv(pt_csv, PT_COLS, summary)
    for row in summary:
        print("{:<7} {:<15} sigma {:>4g} ratio {:>5} trials {}  success {:.2f}  first {:.2f}  switch {}  mean m_dom {:.3f}".format(
            row[0], row[1], row[2], row[3], row[4], row[6], row[7], "" if row[8] == "" else f"{row[8]:.2f}", row[9]))
    if a.png:
        plot(summary, a.png, cfg, trials)
        print(f"wrote {a.png}")
    print(f"wrote {pt_csv} and {os.path.join(a.out, 'input_runs.csv')} ({len(runs)} presentations, {failed} failed runs)")
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


def wilson(p, n, z=1.96):
    """The 95% Wilson score interval (lo, hi) of a success rate p measured on n Bernoulli trials."""
    if not n or p == "":
        return None
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z / den * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n))
    return max(0.0, mid - half), min(1.0, mid + half)


def plot(summary, png, cfg, trials):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
    colour = {"multiplicative": "tab:red", "additive": "tab:blue"}
    name = {"multiplicative": "input-driven W(u)", "additive": "classic additive"}
    fig, ax = plt.subplots(1, 2, figsize=(12, 5.2))

    def draw(axis, xs, ps, ns, style, label):
        """One series: the rates at xs (already dodged) with their Wilson intervals as error bars."""
        lo, hi = [], []
        for p, n in zip(ps, ns):
            w = wilson(p, n)
            lo.append(p - w[0] if w else 0.0)
            hi.append(w[1] - p if w else 0.0)
        axis.errorbar(xs, ps, yerr=[lo, hi], capsize=2.5, elinewidth=0.9, lw=1.3, label=label, **style)

    # Series that coincide (every classic one at 0, the input-driven ones at 1) would hide each other:
    # each has its own marker, fill and line style, and is dodged sideways by a fixed step (the rates
    # and their intervals are not moved vertically).
    nser = 4
    noise_sigmas = sorted({r[2] for r in summary if r[0] == "noise"})
    step0 = 0.25 * (min((b - a for a, b in zip(noise_sigmas, noise_sigmas[1:])), default=1.0))
    serial = 0
    for form in colour:
        pts = sorted((r for r in summary if r[0] == "noise" and r[1] == form), key=lambda r: r[2])
        if pts:
            s = [r[2] for r in pts]
            n_first = [r[4] for r in pts]                 # one first presentation per trial
            n_switch = [r[5] - r[4] for r in pts]         # the others: two per trial
            for kind, ps, ns, mk, ls, fill in (("first input", [r[7] for r in pts], n_first, "o", "--", "none"),
                                               ("switches (inputs 2, 3)", [r[8] for r in pts], n_switch, "s", "-", colour[form])):
                if form == "additive":
                    mk, ls = {"o": "v", "s": "^"}[mk], {"--": ":", "-": "-."}[ls]
                dx = (serial - (nser - 1) / 2) * step0
                draw(ax[0], [x + dx for x in s], ps, ns, dict(marker=mk, ls=ls, color=colour[form], mfc=fill, ms=6),
                     f"{name[form]}: {kind}")
                serial += 1
    sigmas = sorted({r[2] for r in summary if r[0] == "mixing"})
    ratios = sorted({r[3] for r in summary if r[0] == "mixing"}) or [1.0]
    mser = len(colour) * max(1, len(sigmas))
    serial = 0
    for form in colour:
        for k, (sg, ls, mk) in enumerate(zip(sigmas, ["-", "--", ":", "-."], ["o", "s", "^", "D"])):
            pts = sorted((r for r in summary if r[0] == "mixing" and r[1] == form and r[2] == sg), key=lambda r: r[3])
            if pts:
                if form == "additive":
                    ls, mk = {"-": ":", "--": "-."}.get(ls, ls), {"o": "v", "s": "^"}.get(mk, mk)
                dx = (serial - (mser - 1) / 2) * 0.17     # categorical axis: one unit per ratio
                draw(ax[1], [ratios.index(r[3]) + dx for r in pts], [r[6] for r in pts], [r[5] for r in pts],
                     dict(marker=mk, ls=ls, color=colour[form], mfc="none" if k == 0 else colour[form], ms=6),
                     f"{name[form]}, σ = {sg:g}")
            serial += 1
    ax[0].set_xlabel("noise amplitude σ")
    ax[0].set_ylabel(f"retrieval success (overlap ≥ {cfg.get('threshold', 0.9)})")
    sched = cfg.get("noise", {}).get("schedule", "dominant0:10")
    ax[0].set_title(f"paper schedule: 3 dominant inputs, t = {sched.split(',')[0].rsplit(':', 1)[1]} each", fontsize=9)
    ax[0].set_xticks(noise_sigmas or [0])
    ax[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    # The ratios cluster near 1 (1, 1.1, 1.2, 1.3, ...): one evenly spaced slot per ratio, labelled with
    # the plain number (no 2×10⁰ of a log axis), leaves room for the dodged series and their intervals.
    ax[1].set_xlabel("mixing: dominant weight c₀ / background weight c_μ (one slot per ratio)")
    ax[1].set_xticks(range(len(ratios)))
    ax[1].set_xticklabels([f"{v:g}" for v in ratios])
    ax[1].set_xlim(-0.6, len(ratios) - 0.4)
    ax[1].set_title(f"one input for t = {cfg.get('mixing', {}).get('duration', 20)}", fontsize=9)
    for x in ax:
        x.set_ylim(-0.05, 1.05)
        x.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        x.grid(alpha=0.3)
        x.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # below, off the data
    o = cfg["options"]
    model = f"firing-rate variant (p = {o.get('coding')}), " if str(o.get("input_variant", "")) == "rate" else ""
    fig.suptitle(f"{model}N = {o.get('neurons')}, P = {o.get('memories')}, δ = {o.get('gain')}, {trials} trials per point "
                 f"(seeds), Euler–Maruyama dt = {o.get('euler_dt')}\n"
                 "error bars: 95% Wilson intervals; series dodged sideways so that equal rates stay visible", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)) or ".", exist_ok=True)
    fig.savefig(png + ".tmp.png", dpi=110, bbox_inches="tight")
    os.replace(png + ".tmp.png", png)

if __name__ == "__main__":
    sys.exit(main())
