#!/usr/bin/python3
"""Plot the CSV of `ratemem bench`. Usage: plot_bench.py CSV [CSV ...] PNG

Two panels, one line per (storage, ranks; colour = storage, dashed = more than one rank): the fraction of the triad bandwidth each weight
product achieves for the bytes its format must move, and synapse updates per second (for lowrank, which
stores no synapses, "equivalent synapse updates/s": the n² synapses of the dense network it stands for per product), against the
number of neurons n (log axes). Several CSV files (e.g. a 1-rank and a 2-rank run) may be given."""
import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

MARKERS = {"dense": "s", "aij": "o", "aij-diluted": "^", "compressed": "v", "lowrank": "D"}
COLORS = {"dense": "tab:blue", "aij": "tab:orange", "aij-diluted": "tab:green", "compressed": "tab:purple", "lowrank": "tab:red"}


def minor_25(v, _):
    """A minor tick's label on a log axis: 0.2, 0.5, 2, 5, ... (leading digit 2 or 5), others left blank."""
    if v <= 0:
        return ""
    lead = v / 10 ** math.floor(math.log10(v) + 1e-9)
    return f"{v:g}" if round(lead) in (2, 5) and abs(lead - round(lead)) < 1e-6 else ""


def read_rows(path):
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines))


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: plot_bench.py CSV [CSV ...] PNG")
    rows = [r for path in argv[1:-1] for r in read_rows(path)]
    if not rows:
        sys.exit("plot_bench.py: no rows in " + ", ".join(argv[1:-1]))
    series = {}
    for r in rows:
        key = (r["storage"], int(r["ranks"]), int(r["P"]), int(r["K"]))
        series.setdefault(key, []).append((int(r["n"]), float(r["fraction_of_triad"]), float(r["synapse_updates_per_s"])))
    multi_ranks = len({k[1] for k in series}) > 1
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13.5, 4.8))
    for key in sorted(series):
        storage, ranks, P, K = key
        pts = sorted(p for p in series[key] if all(math.isfinite(v) and v > 0 for v in p[1:]))
        if not pts:
            continue
        label = storage + (f" K={K}" if K else "") + (f" P={P}" if storage == "lowrank" else "")
        if multi_ranks:
            label += f", {ranks} rank{'s' if ranks > 1 else ''}"
        if storage == "lowrank":  # it stores no synapses: n² per product is the dense network it stands for
            label += " (equivalent synapse updates/s)"
        style = dict(marker=MARKERS.get(storage, "x"), color=COLORS.get(storage), linestyle="-" if ranks == 1 else "--", label=label)
        n = [p[0] for p in pts]
        ax1.plot(n, [p[1] for p in pts], **style)
        ax2.plot(n, [p[2] for p in pts], **style)
    ax1.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("neurons n")
    ax1.set_ylabel("weight product: fraction of triad bandwidth")
    ax1.set_title("bytes the format must move / time, over triad GB/s", fontsize=10)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("neurons n")
    ax2.set_ylabel("synapse updates/s (lowrank: equivalent synapse updates/s)")
    ax2.set_title("stored synapses / weight-product time;\nlowrank stores none: equivalent synapse updates/s = n² / product time", fontsize=10)
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 0.5, 1, 2 rather than 2×10⁰ on the short fraction axis
    ax1.yaxis.set_major_formatter(plain)
    ax1.yaxis.set_minor_formatter(FuncFormatter(minor_25))
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)  # outside: off the curves
    fig.tight_layout()
    fig.savefig(argv[-1], dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main(sys.argv)
