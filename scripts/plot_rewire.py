#!/usr/bin/python3
"""Retrieval against rewiring on a small-world ring (docs/results.md): merges the per-(K, p) sweep CSVs
of `scripts/make_figures.sh rewire` (DIR/K<K>_p<p>.csv) into one CSV with the columns indegree and
rewire in front, and plots the retrieval rate (with 95% Wilson intervals) against p, one curve per
indegree K and cue corruption.

Usage: plot_rewire.py DIR CSV PNG [--column retrieval_rate]
       plot_rewire.py --replot MERGED_CSV PNG [--column retrieval_rate]   (only the figure, from a merged CSV)

Prints, per K and corruption, the rate at each p."""
import argparse
import csv
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import dodge, errorbar, plt, read_sweep, save  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="DIR CSV PNG")
    ap.add_argument("--column", default="retrieval_rate")
    ap.add_argument("--replot", metavar="MERGED_CSV", help="only redraw PNG from a CSV this script merged before (no DIR)")
    args = ap.parse_args()
    if args.replot:
        if len(args.paths) != 1:
            sys.exit("plot_rewire.py: --replot MERGED_CSV takes one more argument, the PNG")
        rows = read_sweep(args.replot)
        for r in rows:
            r["indegree"], r["rewire"] = int(r["indegree"]), float(r["rewire"])
        plot(rows, args.column, args.paths[0])
        return
    if len(args.paths) != 3:
        sys.exit("plot_rewire.py: expected DIR CSV PNG (or --replot MERGED_CSV PNG)")
    args.dir, args.csv, args.png = args.paths
    rows, header = [], None
    for path in sorted(glob.glob(os.path.join(args.dir, "K*_p*.csv"))):
        m = re.fullmatch(r"K(\d+)_p([0-9.eE+-]+)\.csv", os.path.basename(path))
        if not m:
            continue
        with open(path, newline="") as f:
            header = next(csv.reader(f))
        for r in read_sweep(path):
            r["indegree"], r["rewire"] = int(m.group(1)), float(m.group(2))
            rows.append(r)
    if not rows:
        sys.exit(f"plot_rewire.py: no K<K>_p<p>.csv in {args.dir} (run scripts/make_figures.sh rewire first)")
    rows.sort(key=lambda r: (r["indegree"], r["flip"], r["rewire"]))
    tmp = args.csv + ".partial"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["indegree", "rewire"] + header)
        for r in rows:
            w.writerow([r["indegree"], f"{r['rewire']:g}"] + [f"{r[k]:g}" if isinstance(r[k], float) else r[k] for k in header])
    os.replace(tmp, args.csv)
    plot(rows, args.column, args.png)


def plot(rows, column, png):
    """Retrieval rate against p, one panel per cue corruption, one curve per indegree K."""
    flips = sorted({r["flip"] for r in rows})
    fig, axes = plt.subplots(1, len(flips), figsize=(5.5 * len(flips), 4.2), squeeze=False, sharey=True)
    for ax, flip in zip(axes[0], flips):
        Ks = sorted({r["indegree"] for r in rows})
        for k, K in enumerate(Ks):
            pts = sorted((r["rewire"], r[column]) for r in rows if r["indegree"] == K and r["flip"] == flip)
            # p = 0 drawn at 1e-3 on the log axis; the indegrees drawn apart by a factor 10**0.04 so that equal rates stay visible
            xs = dodge([max(x, 1e-3) for x, _ in pts], k, len(Ks), 0.04, log=True)
            fmt = "osD^v"[k % 5] + "-"
            trials = next(r["trials"] for r in rows if r["indegree"] == K and r["flip"] == flip)
            if column == "retrieval_rate":  # 95% Wilson intervals, as the other sweep plots
                errorbar(ax, xs, [y for _, y in pts], trials, fmt=fmt, ms=5, label=f"K = {K}")
            else:
                ax.plot(xs, [y for _, y in pts], fmt, label=f"K = {K}")
            print(f"K={K} flip={flip:g}: " + ", ".join(f"p={x:g}:{y:.2f}" for x, y in pts))
        r0 = rows[0]
        ax.set_xscale("log")
        ax.set_xticks([1e-3, 1e-2, 1e-1, 1])
        ax.set_xticklabels(["0", "0.01", "0.1", "1"])
        ax.set_title(f"ring, radius K/2, n = {int(r0['neurons'])}, P = {int(r0['memories'])}, {flip:g} of the cue flipped, "
                     f"{int(r0['trials'])} trials/point", fontsize=8)
        ax.set_xlabel("rewiring probability p (indegrees drawn slightly apart)")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("retrieval rate" if column == "retrieval_rate" else column)
    save(fig, png)


if __name__ == "__main__":
    main()
