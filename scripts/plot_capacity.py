#!/usr/bin/python3
"""Capacity curves (issue #8): retrieval vs load alpha = P/n from `ratemem sweep` CSVs.

Usage: plot_capacity.py HEBBIAN_CSV PNG [--paper PAPER_CSV] [--column final_rate] [--expect LO,HI] [--table]

A trial counts as retrieved when the final normalised overlap with the cued memory and its amplitude are
>= the overlap threshold (0.9), converged or at t_final (column final_rate; retrieval_rate additionally
requires convergence). The transition load at each n is where the curve first falls through 0.5 (linear
interpolation between grid loads). The AGS critical load alpha_c = 0.138 is marked with a +-0.02 band.
Prints one line per (design, n) with the transition; with --expect LO,HI exits 1 unless the Hebbian
transition at the largest n lies in [LO, HI]."""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import crossing, dodge, errorbar, plt, read_sweep, save  # noqa: E402

AGS = 0.138


def curves(rows, column):
    by_n = {}
    for r in rows:
        by_n.setdefault(int(r["neurons"]), []).append((r["load"], r[column]))
    return {n: sorted(v) for n, v in sorted(by_n.items())}


def print_table(design, rows):
    """Markdown table of one design: final_rate (retrieval_rate) and mean overlap m, per load and size."""
    ns = sorted({int(r["neurons"]) for r in rows})
    print(f"{design}:")
    print("| α = P/n | " + " | ".join(f"n = {n}" for n in ns) + " |")
    print("|---|" + "---|" * len(ns))
    for a in sorted({r["load"] for r in rows}):
        cells = []
        for n in ns:
            r = [r for r in rows if int(r["neurons"]) == n and r["load"] == a]
            cells.append(f"{r[0]['final_rate']:.2f} ({r[0]['retrieval_rate']:.2f}), m = {r[0]['overlap_mean']:.3f}" if r else "—")
        print(f"| {a:g} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--paper", help="sweep CSV of the paper's design (second panel)")
    ap.add_argument("--column", default="final_rate")
    ap.add_argument("--expect", help="LO,HI: the Hebbian transition at the largest n must lie in this range")
    ap.add_argument("--table", action="store_true", help="also print a Markdown table per design: final_rate (retrieval_rate), mean overlap")
    args = ap.parse_args()
    panels = [("hebbian", read_sweep(args.csv))]
    if args.paper:
        panels.append(("paper", read_sweep(args.paper)))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.6), squeeze=False)
    fig.subplots_adjust(wspace=0.3)
    result = {}
    for ax, (design, rows) in zip(axes[0], panels):
        rows = [r for r in rows if r["design"] == design]
        if not rows:
            sys.exit(f"plot_capacity.py: no {design} rows")
        cs = curves(rows, args.column)
        for k, (n, pts) in enumerate(cs.items()):
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            a = crossing(xs, ys)
            result[(design, n)] = a
            trials = int(rows[0]["trials"])
            label = f"n = {n}" + (f": 0.5 at α = {a:.3f}" if a is not None else "")
            # the sizes are drawn a little apart in α (0.0012 per size) so that their error bars do not cover each other
            errorbar(ax, dodge(xs, k, len(cs), 0.0012), ys, trials, fmt="osD^v"[k % 5] + "-", ms=4, label=label)  # 95% Wilson interval of each rate
            print(f"{design} n={n}: transition alpha = {'none' if a is None else f'{a:.4f}'} ({len(xs)} loads, {trials} trials each)")
        if design == "hebbian":
            ax.axvspan(AGS - 0.02, AGS + 0.02, color="0.9", zorder=0, label="0.138 ± 0.02")
            ax.axvline(AGS, color="k", ls="--", lw=1, label="AGS α_c = 0.138")
            ax.set_title("Hebbian baseline (±1 memories, tanh(δy), δ = %g), %d cues per load\n"
                         "graded network at finite δ vs AGS's α_c: a heuristic comparison" % (rows[0]["gain"], int(rows[0]["trials"])), fontsize=10)
        else:
            for n in sorted({int(r["neurons"]) for r in rows}):
                ax.axvline(1.0 / (10 * math.log(n)), color="0.5", ls=":", lw=1)
            ax.plot([], [], color="0.5", ls=":", label="authors' load 1/(10 ln N)")
            ax.set_title("paper design (q = %g, sigmoid ρ = %g, a = %g, b = %g)\n%d cues per load" % (rows[0]["coding"], rows[0]["gain"], rows[0]["a"], rows[0]["b"],
                         int(rows[0]["trials"])), fontsize=10)
        ax.axhline(0.5, color="0.6", lw=0.8)
        ax.set_xlabel("load α = P/n (sizes drawn 0.0012 apart for legibility)")
        ax.set_ylabel("fraction retrieved (final overlap ≥ 0.9), 95% Wilson bars" if args.column == "final_rate" else args.column)
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=8)
    save(fig, args.png)
    if args.table:
        for design, panel_rows in panels:
            print_table(design, [r for r in panel_rows if r["design"] == design])
    if args.expect:
        lo, hi = (float(v) for v in args.expect.split(","))
        nmax = max(n for (d, n) in result if d == "hebbian")
        a = result[("hebbian", nmax)]
        if a is None or not lo <= a <= hi:
            print(f"plot_capacity.py: Hebbian transition at n = {nmax} is {a}, outside [{lo}, {hi}]", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
