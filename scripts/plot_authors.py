#!/usr/bin/python3
"""The authors' parameters (issue #8, [FR] §2-§3): retrieval rate vs cue corruption for the sigmoid and
the rectified tanh, a = -0.3 and a = 0.1, from a `ratemem sweep` CSV (configs/experiments/authors.yaml).

Usage: plot_authors.py CSV PNG [--converged CSV2]

CSV: the authors' protocol (explicit Euler dt = 0.01 to t = 10). CSV2: the same grid integrated to
convergence. For each, three rows of panels: the fraction whose final state shows the cued pattern with
overlap and amplitude >= 0.9 (final_rate, as the authors read their runs at t = 10); the classifier's
split of those into `retrieved` (at x^mu's amplitude, within -amplitude_tolerance) and `saturated`
(the pattern at a larger amplitude: docs/model.md §4); and the mean final overlap with the cued memory.
Rates carry 95% Wilson intervals. Prints each curve."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import crossing, dodge, errorbar, plt, read_sweep, save  # noqa: E402


def curves(rows, column):
    out = {}
    for act in ("sigmoid", "rectanh"):
        for a in (-0.3, 0.1):
            pts = sorted((r["flip"], r[column], r["threshold"]) for r in rows if r["activation"] == act and abs(r["a"] - a) < 1e-12)
            if pts:
                out[(act, a)] = pts
    return out


STYLE = {("sigmoid", -0.3): ("-", "o", "C0"), ("sigmoid", 0.1): ("-", "s", "C1"), ("rectanh", -0.3): ("--", "o", "C2"),
         ("rectanh", 0.1): ("--", "s", "C3")}
# the rows of the figure: (what, column, y-label); "labels" draws two columns, retrieved (filled) and saturated (hollow)
PANELS = (("final", "final_rate", "pattern at the end: overlap and amplitude ≥ 0.9\n(final_rate, the authors' reading)"),
          ("labels", ("retrieval_rate", "frac_saturated"), "label: retrieved at x^μ (filled, amplitude within 0.1)\n"
                                                           "or saturated copy (hollow, amplitude above)"),
          ("overlap", "overlap_mean", "mean final overlap with the cued memory"))
DODGE = 0.006  # the four settings drawn this far apart in flip, so that equal rates and their bars stay visible


def draw(ax, rows, what, column, trials, title):
    cols = (column,) if what != "labels" else column
    by_col = {col: curves(rows, col) for col in cols}
    for k, ((act, a), pts) in enumerate(by_col[cols[0]].items()):
        ls, marker, colour = STYLE[(act, a)]
        xs = [p[0] for p in pts]
        dx = dodge(xs, k, len(STYLE), DODGE)
        label = f"{act} (x* = {pts[0][2]:g}), a = {a:g}"
        if what == "overlap":
            ax.plot(dx, [p[1] for p in pts], ls, marker=marker, color=colour, label=label)
            print(f"[{title}] {act} a={a:g}: mean overlap " + ", ".join(f"{x:g}:{p[1]:.3f}" for x, p in zip(xs, pts)))
            continue
        for j, col in enumerate(cols):
            ys = [p[1] for p in by_col[col][(act, a)]]
            errorbar(ax, dx, ys, trials, fmt=ls, marker=marker, color=colour, mfc=colour if j == 0 else "none",
                     label=label if j == 0 else None)
            c = crossing(xs, ys)
            print(f"[{title}] {act} a={a:g}: {col} 0.5 at flip = {'none' if c is None else f'{c:.3f}'}; "
                  + ", ".join(f"{x:g}:{y:.2f}" for x, y in zip(xs, ys)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="the authors' protocol: Euler dt = 0.01 to t = 10 (configs/experiments/authors.yaml)")
    ap.add_argument("png")
    ap.add_argument("--converged", help="the same grid integrated to convergence (configs/experiments/authors_converged.yaml)")
    args = ap.parse_args()
    runs = [("t = 10 (authors' protocol)", read_sweep(args.csv))]
    if args.converged:
        runs.append(("to convergence (BDF, residual < 1e-6)", read_sweep(args.converged)))
    for title, rows in runs:
        if "frac_saturated" not in rows[0]:
            sys.exit(f"plot_authors.py: the CSV of '{title}' has no frac_saturated column (written by an older ratemem: rerun the sweep)")
    fig, axes = plt.subplots(len(PANELS), len(runs), figsize=(5.8 * len(runs), 11), squeeze=False, sharex=True)
    for col, (title, rows) in enumerate(runs):
        trials = rows[0]["trials"]
        for (what, column, ylabel), ax in zip(PANELS, axes[:, col]):
            draw(ax, rows, what, column, trials, title)
            ax.set_ylim(-0.1 if what == "overlap" else -0.03, 1.03)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        axes[0][col].set_title(title, fontsize=10)
        axes[-1][col].set_xlabel(f"cue corruption (fraction of entries flipped; settings drawn {DODGE:g} apart)")
    r0 = runs[0][1][0]
    fig.suptitle(f"authors' parameters: N = {int(r0['neurons'])}, P = {int(r0['memories'])}, q = {r0['coding']:g}, ρ = {r0['gain']:g}, "
                 f"b = {r0['b']:g}; {int(r0['trials'])} cues per point (each memory once); error bars: 95% Wilson intervals",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save(fig, args.png)


if __name__ == "__main__":
    main()
