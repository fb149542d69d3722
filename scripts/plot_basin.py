#!/usr/bin/python3
"""Basins of attraction (issue #8): retrieval rate vs cue corruption from a `ratemem sweep` CSV,
one panel per design, one curve per load P/n.

Usage: plot_basin.py CSV PNG [--column retrieval_rate]

Prints, per design and load, the corruption at which the rate first falls through 0.5 (linear
interpolation; 'none' when it never does on the grid)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import crossing, dodge, errorbar, plt, read_sweep, save  # noqa: E402


DODGE = 0.006  # loads drawn this far apart in flip, so that equal rates and their error bars stay visible


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--column", default="retrieval_rate")
    args = ap.parse_args()
    rows = read_sweep(args.csv)
    designs = [d for d in ("paper", "hebbian") if any(r["design"] == d for r in rows)]
    fig, axes = plt.subplots(1, len(designs), figsize=(6 * len(designs), 4.2), squeeze=False, sharey=True)
    for ax, design in zip(axes[0], designs):
        rs = [r for r in rows if r["design"] == design]
        n = int(rs[0]["neurons"])
        loads = sorted({r["load"] for r in rs})
        for k, load in enumerate(loads):
            pts = sorted((r["flip"], r[args.column]) for r in rs if r["load"] == load)
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            c = crossing(xs, ys)
            P = int(next(r["memories"] for r in rs if r["load"] == load))
            if args.column == "retrieval_rate":  # 95% binomial interval of each rate
                errorbar(ax, dodge(xs, k, len(loads), DODGE), ys, rs[0]["trials"], fmt="osD^v"[k % 5] + "-", ms=5,
                         label=f"P/n = {load:g} (P = {P})")
            else:
                ax.plot(dodge(xs, k, len(loads), DODGE), ys, "osD^v"[k % 5] + "-", label=f"P/n = {load:g} (P = {P})")
            print(f"{design} load={load:g} P={P}: rate 0.5 at flip = {'none' if c is None else f'{c:.3f}'}; "
                  + ", ".join(f"{x:g}:{y:.2f}" for x, y in pts))
        title = "paper design (q = %g, sigmoid ρ = %g)" % (rs[0]["coding"], rs[0]["gain"]) if design == "paper" else \
            "Hebbian baseline (tanh(δy), δ = %g)" % rs[0]["gain"]
        ax.set_title(f"{title}, n = {n}, {int(rs[0]['trials'])} trials/point", fontsize=9)
        ax.set_xlabel(f"cue corruption (fraction of entries flipped; loads drawn {DODGE:g} apart)")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("retrieval rate" if args.column == "retrieval_rate" else args.column)
    save(fig, args.png)


if __name__ == "__main__":
    main()
