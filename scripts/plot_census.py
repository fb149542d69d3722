#!/usr/bin/python3
"""Census map (docs/results.md "Global behaviour, measured"): where random initial states end, over two
swept parameters, from a `ratemem sweep` CSV run with -cue random.

Usage: plot_census.py SWEEP_CSV PNG [--phase PHASE_CSV] [--table]

The two axes are the columns among gain, threshold, a, b that take more than one value. One panel per
outcome (a memory = labels retrieved or other, quiescent, saturated copy, spurious, unconverged) shows
its fraction of the trials; the last panel shows the outcome most trials reach at each point. Every
fraction has its 95% Wilson interval in the CSV (frac_*_ci_lo/hi); the largest half-width is printed.
With --phase (a `ratemem stability -phase_csv` file over gain x threshold, docs/stability.md) the
boundary where the largest spectral abscissa of the memories changes sign (the local stability map of
docs/results.md) is drawn on every panel. --table prints a Markdown table of the outcome counts."""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import plt, read_sweep, save  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

OUTCOMES = [("frac_memory", "a memory"), ("frac_quiescent", "quiescent"), ("frac_saturated", "saturated copy"), ("frac_spurious", "spurious"),
            ("frac_unconverged", "unconverged")]
COLOURS = ["tab:green", "0.75", "tab:orange", "tab:red", "tab:purple"]
LABELS = {"gain": "gain ρ", "threshold": "threshold x*", "a": "design current a", "b": "design current b"}


def edges(v):
    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--phase", help="ratemem stability -phase_csv file (gain x threshold): draw the abscissa = 0 boundary")
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    rows = read_sweep(args.csv)
    if "frac_memory" not in rows[0]:
        sys.exit("plot_census.py: the CSV has no census columns (frac_memory ...): rerun the sweep with this ratemem")
    axes = [k for k in ("gain", "threshold", "a", "b") if len({r[k] for r in rows}) > 1]
    if len(axes) != 2:
        sys.exit(f"plot_census.py: need exactly two swept axes among gain, threshold, a, b; found {axes}")
    yk, xk = axes  # gain (or a) up, threshold (or b) across
    xs, ys = sorted({r[xk] for r in rows}), sorted({r[yk] for r in rows})
    grid = {k: np.full((len(ys), len(xs)), np.nan) for k, _ in OUTCOMES}
    halfw = 0.0
    for r in rows:
        i, j = ys.index(r[yk]), xs.index(r[xk])
        for k, _ in OUTCOMES:
            grid[k][i, j] = r[k]
            halfw = max(halfw, (r[k + "_ci_hi"] - r[k + "_ci_lo"]) / 2)
    phase = None
    if args.phase:
        if (yk, xk) != ("gain", "threshold"):
            sys.exit("plot_census.py: --phase needs a gain x threshold census")
        with open(args.phase, newline="") as f:
            ph = [r for r in csv.DictReader([l for l in f if not l.startswith("#")]) if r["valid"] == "1"]
        pg, pt = sorted({float(r["gain"]) for r in ph}), sorted({float(r["threshold"]) for r in ph})
        z = np.full((len(pg), len(pt)), np.nan)
        for r in ph:
            z[pg.index(float(r["gain"])), pt.index(float(r["threshold"]))] = float(r["max_abscissa"])
        phase = (pt, pg, z)
    fig, axs = plt.subplots(2, 3, figsize=(13, 7.6), sharex=True, sharey=True)
    ex, ey = edges(xs), edges(ys)
    for ax, (k, name) in zip(axs.flat, OUTCOMES):
        m = ax.pcolormesh(ex, ey, grid[k], cmap="viridis", vmin=0, vmax=1, shading="flat")
        ax.set_title(f"fraction ending at: {name}", fontsize=10)
    fig.colorbar(m, ax=axs[:, :].ravel().tolist(), shrink=0.8, label="fraction of random initial states")
    stack = np.stack([grid[k] for k, _ in OUTCOMES])
    dom = np.argmax(np.nan_to_num(stack, nan=-1), axis=0).astype(float)
    ax = axs.flat[5]
    ax.pcolormesh(ex, ey, dom, cmap=ListedColormap(COLOURS), vmin=-0.5, vmax=4.5, shading="flat")
    for c, (_, name) in zip(COLOURS, OUTCOMES):
        ax.plot([], [], "s", color=c, ms=8, label=name)
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    ax.set_title("most frequent outcome", fontsize=10)
    for ax in axs.flat:
        if phase is not None and np.nanmin(phase[2]) < 0 < np.nanmax(phase[2]):
            ax.contour(phase[0], phase[1], phase[2], levels=[0], colors="w", linewidths=1.6)
            ax.contour(phase[0], phase[1], phase[2], levels=[0], colors="k", linewidths=0.8, linestyles="--")
    for ax in axs[1]:
        ax.set_xlabel(LABELS[xk])
    for ax in axs[:, 0]:
        ax.set_ylabel(LABELS[yk])
    r0 = rows[0]
    t = int(r0["trials"])
    title = (f"census of {t} random initial states per point ({r0['activation']}, N = {int(r0['neurons'])}, P = {int(r0['memories'])}; "
             f"95% Wilson half-width ≤ {halfw:.2f})")
    if phase is not None:
        title += "\ndashed: spectral abscissa of the memories = 0 (the local stability map; memories stable to the upper left)"
    fig.suptitle(title, fontsize=10)
    save(fig, args.png)
    tot = {name: 0 for _, name in OUTCOMES}
    for r in rows:
        for k, name in OUTCOMES:
            tot[name] += round(r[k] * r["trials"])
    n_trials = sum(r["trials"] for r in rows)
    print(f"{len(rows)} points, {int(n_trials)} trials: " + ", ".join(f"{name} {c}" for name, c in tot.items()) + f"; largest 95% half-width {halfw:.3f}")
    for k, name in OUTCOMES:
        print(f"  points where '{name}' is the most frequent outcome: {int((dom == OUTCOMES.index((k, name))).sum())}")
    if args.table:
        print(f"| {LABELS[yk]} \\ {LABELS[xk]} | " + " | ".join(f"{x:g}" for x in xs) + " |")
        print("|---|" + "---|" * len(xs))
        for i, y in enumerate(ys):
            cells = []
            for j in range(len(xs)):
                cells.append("/".join(f"{grid[k][i, j]:.2f}" for k, _ in OUTCOMES))
            print(f"| {y:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
