"""Shared helpers of the sweep plotting scripts: read a `ratemem sweep` CSV, write a PNG atomically,
find where a curve crosses a level, binomial error bars of a rate."""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401

NUMERIC = {"neurons", "memories", "load", "coding", "flip", "gain", "threshold", "a", "b", "seed", "trials", "retrieval_rate", "final_rate",
           "overlap_mean", "overlap_std", "frac_other", "frac_spurious", "frac_unconverged", "frac_saturated", "frac_quiescent",
           "retrieval_ci_lo", "retrieval_ci_hi", "steps_mean", "rhs_mean", "products_per_trial", "t_end_mean", "wall_time",
           "frac_memory", "frac_memory_ci_lo", "frac_memory_ci_hi", "frac_quiescent_ci_lo", "frac_quiescent_ci_hi", "frac_saturated_ci_lo",
           "frac_saturated_ci_hi", "frac_spurious_ci_lo", "frac_spurious_ci_hi", "frac_unconverged_ci_lo", "frac_unconverged_ci_hi"}


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


def wilson(rate, trials, z=1.96):
    """95% Wilson score interval of a proportion measured as `rate` over `trials` trials (as ratemem's C)."""
    n = max(int(round(trials)), 1)
    k = round(rate * n)
    p, z2 = k / n, z * z
    den = 1 + z2 / n
    c = (p + z2 / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)


def errorbar(ax, xs, rates, trials, fmt="o-", **kw):
    """A rate curve with its 95% binomial (Wilson) interval at each point."""
    lo_hi = [wilson(r, trials) for r in rates]
    yerr = [[max(0.0, r - lo) for r, (lo, _) in zip(rates, lo_hi)], [max(0.0, hi - r) for r, (_, hi) in zip(rates, lo_hi)]]
    return ax.errorbar(xs, rates, yerr=yerr, fmt=fmt, capsize=2, elinewidth=0.8, **kw)


def dodge(xs, k, count, step, log=False):
    """xs of series k of count, shifted sideways so that series with equal values stay visible: by
    (k - (count - 1)/2) * step, added on a linear axis or as a factor 10**offset on a log axis."""
    off = (k - (count - 1) / 2) * step
    return [x * 10 ** off for x in xs] if log else [x + off for x in xs]
