"""Shared helpers of the issue #8 plotting scripts: read a `ratemem sweep` CSV, write a PNG atomically,
find where a curve crosses a level."""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401

NUMERIC = {"neurons", "memories", "load", "coding", "flip", "gain", "threshold", "a", "b", "seed", "trials", "retrieval_rate", "final_rate",
           "overlap_mean", "overlap_std", "frac_other", "frac_spurious", "frac_unconverged", "steps_mean", "rhs_mean", "products_per_trial",
           "t_end_mean", "wall_time"}


def read_sweep(path):
    """Rows of a sweep CSV as dicts, numeric columns as floats."""
    if not os.path.exists(path):
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path} does not exist (run the sweep first)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in NUMERIC & set(r):
            r[k] = float(r[k])
    if not rows:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path} has no rows")
    return rows


def save(fig, png):
    """Write the figure to png.partial.png, then rename: a reader never sees half a file."""
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    tmp = png + ".partial.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, png)


def crossing(xs, ys, level=0.5):
    """First x where the piecewise-linear curve (xs ascending) falls from >= level to < level, or None."""
    pts = sorted(zip(xs, ys))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 >= level > y1:
            return x0 + (y0 - level) * (x1 - x0) / (y0 - y1)
    return None
