#!/usr/bin/python3
"""Capacity of three designs on random memories (docs/results.md "Capacity of the projection design"):
retrieval rate vs load alpha = P/n for the projection design, the paper's basic design and the Hebbian
baseline at each n, from the `ratemem sweep` CSV of configs/experiments/capacity_designs.yaml.

Usage: plot_capacity_designs.py CSV PNG [--column retrieval_rate] [--table]

One panel per design, one curve per n with 95% Wilson error bars. The load where each curve first falls
below 0.5 (linear interpolation between grid loads) is printed and in the legend; a curve that stays at or
above 0.5 is reported as "none up to" its largest load. --table prints a Markdown table (rate per load,
design and n)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import crossing, dodge, errorbar, plt, read_sweep, save  # noqa: E402

DESIGNS = [("projection", "projection design"), ("paper", "paper design (basic, r = q)"), ("hebbian", "Hebbian baseline")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--column", default="retrieval_rate")
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    rows = read_sweep(args.csv)
    present = [(d, t) for d, t in DESIGNS if any(r["design"] == d for r in rows)]
    if not present:
        sys.exit("plot_capacity_designs.py: no projection, paper or hebbian rows")
    ns = sorted({int(r["neurons"]) for r in rows})
    fig, axes = plt.subplots(1, len(present), figsize=(5.4 * len(present), 4.4), sharey=True, squeeze=False)
    cross = {}
    for ax, (design, title) in zip(axes[0], present):
        for k, n in enumerate(ns):
            pts = sorted((r["load"], r[args.column], int(r["trials"])) for r in rows if r["design"] == design and int(r["neurons"]) == n)
            if not pts:
                continue
            xs, ys, trials = [p[0] for p in pts], [p[1] for p in pts], pts[0][2]
            a = crossing(xs, ys)
            cross[(design, n)] = (a, max(xs))
            lab = f"n = {n}: " + (f"< 0.5 from α = {a:.3f}" if a is not None else f"≥ 0.5 up to {max(xs):g}")
            errorbar(ax, dodge(xs, k, len(ns), 0.004), ys, trials, fmt="osD^v"[k % 5] + "-", ms=4, label=lab)
            print(f"{design} n={n}: " + (f"falls below 0.5 at alpha = {a:.4f}" if a is not None else f"no crossing (>= 0.5 up to alpha = {max(xs):g})")
                  + f" ({len(xs)} loads, {trials} trials each)")
        ax.axhline(0.5, color="0.6", lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("load α = P/n (sizes drawn 0.004 apart)")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel(f"{args.column} (95% Wilson bars)")
    r0 = rows[0]
    fig.suptitle(f"random memories, cue = memory with {r0['flip']:g} of its entries flipped (overlap ≈ 0.7–0.8 < 0.9: "
                 "a cue counts only if corrected)", fontsize=10)
    save(fig, args.png)
    if args.table:
        cols = [(d, n) for d, _ in present for n in ns if any(r["design"] == d and int(r["neurons"]) == n for r in rows)]
        print("| α = P/n | " + " | ".join(f"{d} n = {n}" for d, n in cols) + " |")
        print("|---|" + "---|" * len(cols))
        for a in sorted({r["load"] for r in rows}):
            cells = []
            for d, n in cols:
                r = [r for r in rows if r["design"] == d and int(r["neurons"]) == n and r["load"] == a]
                cells.append(f"{r[0][args.column]:.2f}" if r else "—")
            print(f"| {a:g} | " + " | ".join(cells) + " |")
        print("| below 0.5 from | " + " | ".join((f"{cross[c][0]:.3f}" if cross[c][0] is not None else f"≥ {cross[c][1]:g}") for c in cols) + " |")


if __name__ == "__main__":
    main()
