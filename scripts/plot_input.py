#!/usr/bin/python3
"""The authors' Hopfield input experiment (model.md §7, issue #7): overlap with every memory over time.

Usage: scripts/plot_input.py [--config configs/input_paper.yaml] [--exe build/ratemem] [--np N]
                             [--out DIR] [--png docs/input_overlaps.png] [--from-csv] [--sigma S] [--window W]

The firing-rate variant of §7 (configs/input_rate.yaml: {0,1} memories, three inputs of t = 20, the
authors' sigma = 0.45 and input window t < 2):
    scripts/plot_input.py --config configs/input_rate.yaml --sigma 0.45 --window 2 --out input_rate_out \
                          --png docs/input_rate_overlaps.png

Runs `ratemem retrieve -options_file_yaml CONFIG` for input_mode multiplicative / additive (input on
constantly) x noise sigma in {0, S} (S = --sigma, default 8), each writing its -overlap_history CSV to
DIR/overlaps_<mode>_s<sigma>.csv, plus the classic windowed form of the authors' code (additive input on
for the first t = W (--window, default 1) of each presentation: schedule dominantJ:W,off:T-W) with sigma = S.
With --from-csv it only reads the CSVs already in DIR. Plots the overlaps m_mu(t) (|xi^mu' tanh(delta y)|/N for
the Hopfield model, xi^mu' Phi(x)/|xi^mu| for the rate variant) for every memory in 4 panels (rows: form,
columns: sigma), the dominant memories of the three presentations coloured, and writes
DIR/overlaps_summary.csv (overlap with each presentation's dominant memory at its end, atomically).
A second figure (same name with _windowed) shows the windowed run."""
import argparse
import csv
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

def make_runs(sigma):
    return [("multiplicative", 0.0, None), ("multiplicative", sigma, None), ("additive", 0.0, None), ("additive", sigma, None),
            ("additive", sigma, "windowed")]


def windowed(schedule, w):
    """Each presentation ITEM:T of schedule as ITEM:w,off:T-w (the authors' windowed classic input)."""
    out = []
    for item in schedule.split(","):
        it, t = item.rsplit(":", 1)
        out += [f"{it}:{w:g}", f"off:{float(t) - w:g}"]
    return ",".join(out)
COLOURS = ["tab:red", "tab:green", "tab:blue"]


def name(mode, sigma, variant):
    return f"overlaps_{mode}{'_' + variant if variant else ''}_s{sigma:g}"


def run(exe, np_, config, mode, sigma, variant, path, extra=(), window_schedule=None):
    cmd = ([] if np_ <= 1 else ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(np_)])
    cmd += [exe, "retrieve", "-options_file_yaml", config, "-input_mode", mode, "-noise", f"{sigma:g}",
            "-overlap_history", path] + list(extra)
    if variant == "windowed":
        cmd += ["-input_schedule", window_schedule]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode:
        sys.exit(f"plot_input: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def read(path):
    with open(path) as fp:
        r = list(csv.reader(fp))
    head, body = r[0], [[float(v) for v in row] for row in r[1:]]
    return head, body


def atomic_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def dominant_of(schedule):
    """Memory index of each presentation of a schedule (None for 'off'/'weights')."""
    out = []
    for item in schedule.split(","):
        it = item.split(":")[0]
        out.append(int(it[len("dominant"):]) if it.startswith("dominant") else None)
    return out


def summary(body, schedule):
    """(presentation, dominant, t_end, m_dominant at its end, best memory, best overlap) per presentation."""
    doms = dominant_of(schedule)
    last = {}
    for row in body:
        last[int(row[1])] = row
    rows, prev = [], None
    for k in sorted(last):
        m = last[k][2:]
        dom = doms[k] if doms[k] is not None else prev
        prev = dom if dom is not None else prev
        best = max(range(len(m)), key=lambda i: m[i])
        rows.append([k, dom, last[k][0], m[dom] if dom is not None else "", best, m[best]])
    return rows


def panel(ax, body, title, tmax, period=10):
    t = [r[0] for r in body]
    P = len(body[0]) - 2
    for mu in range(P):
        ax.plot(t, [r[2 + mu] for r in body], color=COLOURS[mu] if mu < 3 else "0.7", lw=1.4 if mu < 3 else 0.8,
                label=f"memory {mu}" if mu < 3 else ("other memories" if mu == 3 else None), zorder=3 if mu < 3 else 2)
    for x in range(int(period), int(tmax), int(period)):
        ax.axvline(x, color="k", ls=":", lw=0.8)
    if t[-1] < tmax - 1e-9:  # a deterministic run stops once converged: say so instead of leaving a silent gap
        ax.axvspan(t[-1], tmax, color="0.92", zorder=0)
        title += f"\n(converged at t = {t[-1]:.3g}: the traces end there, the state no longer moves)"
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(0, tmax)
    ax.set_title(title, fontsize=9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=os.path.join(REPO, "configs", "input_paper.yaml"))
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "ratemem"))
    ap.add_argument("--np", type=int, default=1)
    ap.add_argument("--out", default="input_out")
    ap.add_argument("--png", default=os.path.join(REPO, "docs", "input_overlaps.png"))
    ap.add_argument("--from-csv", action="store_true", help="only read DIR/overlaps_*.csv")
    ap.add_argument("--extra", default="", help="extra ratemem options (e.g. '-neurons 256' for a quick test)")
    ap.add_argument("--sigma", type=float, default=8.0, help="noise amplitude of the noisy panels (8: Hopfield; 0.45: rate variant)")
    ap.add_argument("--window", type=float, default=1.0, help="input window of the classic windowed run (1: Hopfield; 2: rate variant)")
    a = ap.parse_args()
    import yaml
    with open(a.config) as fp:
        cfg = yaml.safe_load(fp)
    schedule = str(cfg.get("input_schedule", "dominant0:10,dominant1:10,dominant2:10"))
    RUNS = make_runs(a.sigma)
    WINDOWED = windowed(schedule, a.window)
    period = float(schedule.split(",")[0].rsplit(":", 1)[1])
    rate = str(cfg.get("input_variant", "hopfield")) == "rate"
    os.makedirs(a.out, exist_ok=True)
    data, summ = {}, []
    for mode, sigma, variant in RUNS:
        path = os.path.join(a.out, name(mode, sigma, variant) + ".csv")
        if not a.from_csv:
            run(a.exe, a.np, a.config, mode, sigma, variant, path, a.extra.split(), WINDOWED)
        data[(mode, sigma, variant)] = read(path)[1]
        sched = WINDOWED if variant == "windowed" else schedule
        for r in summary(data[(mode, sigma, variant)], sched):
            summ.append([mode + (" " + variant if variant else " constant" if mode == "additive" else ""), f"{sigma:g}"] + r)
    atomic_csv(os.path.join(a.out, "overlaps_summary.csv"),
               ["form", "sigma", "presentation", "dominant", "t_end", "m_dominant", "best_memory", "best_overlap"], summ)
    for r in summ:
        print("{:<22} sigma {:>2}  pres {}  dominant {}  t {:5.1f}  m_dom {}  best {} ({:.3f})".format(
            r[0], r[1], r[2], r[3], r[4], f"{r[5]:.3f}" if r[5] != "" else "-", r[6], r[7]))
    tmax = max(row[0] for body in data.values() for row in body)  # (a converged deterministic run may end early)
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True, sharey=True)
    for (mode, sigma, variant), ax in zip(RUNS[:4], axes.flat):
        label = "input-driven (multiplicative) W(u)" if mode == "multiplicative" else "classic additive, input constant"
        panel(ax, data[(mode, sigma, variant)], f"{label}, σ = {sigma:g}", tmax, period)
    for ax in axes[1]:
        ax.set_xlabel("t")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"overlap $m_\mu$")
    axes[0, 0].legend(loc="center right", fontsize=8)
    model = (f"firing-rate variant, p = {cfg.get('coding')}" if rate else "Hopfield") + f", N = {cfg.get('neurons')}, P = {cfg.get('memories')}"
    fig.suptitle(f"{model}, δ = {cfg.get('gain')}, inputs dominant in memory 0, 1, 2 "
                 f"(t = {period:g} each), Euler–Maruyama dt = {cfg.get('euler_dt')}", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.png)), exist_ok=True)
    tmp = a.png + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, a.png)
    fig2, ax = plt.subplots(figsize=(6, 3))
    panel(ax, data[RUNS[4]], f"classic additive, input windowed (on for t < {a.window:g} of each {period:g}), σ = {a.sigma:g}", tmax, period)
    ax.set_xlabel("t")
    ax.set_ylabel(r"overlap $m_\mu$")
    ax.legend(loc="upper right", fontsize=7)
    fig2.tight_layout()
    png2 = os.path.splitext(a.png)[0] + "_windowed.png"
    fig2.savefig(png2 + ".tmp.png", dpi=110)
    os.replace(png2 + ".tmp.png", png2)
    print(f"wrote {a.png}, {png2}, {os.path.join(a.out, 'overlaps_summary.csv')}")


if __name__ == "__main__":
    main()
