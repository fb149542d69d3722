#!/usr/bin/python3
"""The authors' parameters (issue #8, [FR] §2-§3): retrieval rate vs cue corruption for the sigmoid and
the rectified tanh, a = -0.3 and a = 0.1, from a `ratemem sweep` CSV (configs/experiments/authors.yaml).

Usage: plot_authors.py CSV PNG [--converged CSV2]

CSV: the authors' protocol (explicit Euler dt = 0.01 to t = 10): a cue counts when the final overlap with
the cued memory and its amplitude are >= 0.9 at t = 10 (column final_rate), as the authors read their
runs. CSV2: the same grid integrated to convergence; a cue counts when the converged state is labelled
retrieved (retrieval_rate). Prints each curve and the mean final overlap with the cued memory."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import crossing, plt, read_sweep, save  # noqa: E402


def curves(rows, column):
    out = {}
    for act in ("sigmoid", "rectanh"):
        for a in (-0.3, 0.1):
            pts = sorted((r["flip"], r[column], r["threshold"]) for r in rows if r["activation"] == act and abs(r["a"] - a) < 1e-12)
            if pts:
                out[(act, a)] = pts
    return out


STYLE = {("sigmoid", -0.3): ("-", "o"), ("sigmoid", 0.1): ("-", "s"), ("rectanh", -0.3): ("--", "o"), ("rectanh", 0.1): ("--", "s")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="the authors' protocol: Euler dt = 0.01 to t = 10 (configs/experiments/authors.yaml)")
    ap.add_argument("png")
    ap.add_argument("--converged", help="the same grid integrated to convergence (configs/experiments/authors_converged.yaml)")
    args = ap.parse_args()
    runs = [("t = 10 (authors' protocol)", read_sweep(args.csv), "final_rate")]
    if args.converged:
        runs.append(("to convergence (BDF, residual < 1e-6)", read_sweep(args.converged), "retrieval_rate"))
    fig, axes = plt.subplots(2, len(runs), figsize=(5.8 * len(runs), 8), squeeze=False)
    for col, (title, rows, rate_col) in enumerate(runs):
        for (what, column), ax in zip((("rate", rate_col), ("overlap", "overlap_mean")), axes[:, col]):
            for (act, a), pts in curves(rows, column).items():
                ls, marker = STYLE[(act, a)]
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                ax.plot(xs, ys, ls, marker=marker, label=f"{act} (x* = {pts[0][2]:g}), a = {a:g}")
                if what == "rate":
                    c = crossing(xs, ys)
                    print(f"[{title}] {act} a={a:g}: {rate_col} 0.5 at flip = {'none' if c is None else f'{c:.3f}'}; "
                          + ", ".join(f"{x:g}:{y:.2f}" for x, y in zip(xs, ys)))
                else:
                    print(f"[{title}] {act} a={a:g}: mean overlap " + ", ".join(f"{x:g}:{y:.3f}" for x, y in zip(xs, ys)))
            ax.set_xlabel("cue corruption (fraction of entries flipped)")
            ax.set_ylim(-0.1 if what == "overlap" else -0.03, 1.03)
            if what == "rate":
                ax.set_title(title, fontsize=10)
                ax.set_ylabel("fraction with final overlap and amplitude >= 0.9" if rate_col == "final_rate" else "retrieval rate (converged, overlap >= 0.9)",
                             fontsize=8)
            else:
                ax.set_ylabel("mean final overlap with the cued memory", fontsize=8)
            ax.legend(fontsize=7)
    r0 = runs[0][1][0]
    fig.suptitle(f"authors' parameters: N = {int(r0['neurons'])}, P = {int(r0['memories'])}, q = {r0['coding']:g}, ρ = {r0['gain']:g}, "
                 f"b = {r0['b']:g}; {int(r0['trials'])} cues per point (each memory once)", fontsize=10)
    save(fig, args.png)


if __name__ == "__main__":
    main()
