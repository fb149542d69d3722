#!/usr/bin/python3
"""Plot of the multi-node campaign (scripts/scaling_campaign.sh): time per RHS evaluation and its
communication part against the node count, measured (dots) and modelled (lines), one column per
link shape, strong scaling above and weak below.

Usage: scripts/plot_scaling_cluster.py CAMPAIGN_DIR OUT.png [--shapes off,10gbit,1gbit]

Reads CAMPAIGN_DIR/SHAPE/scaling_model_check.csv (scripts/scaling_model.py)."""
import argparse
import csv
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("campaign")
    ap.add_argument("png")
    ap.add_argument("--shapes", default="off,10gbit,1gbit")
    a = ap.parse_args()
    shapes = a.shapes.split(",")
    data = {}
    for s in shapes:
        p = os.path.join(a.campaign, s, "scaling_model_check.csv")
        if not os.path.isfile(p):
            sys.exit(f"plot_scaling_cluster: error: {p} not found (run scripts/scaling_campaign.sh)")
        data[s] = list(csv.DictReader(open(p)))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(shapes), figsize=(4.2 * len(shapes), 7.5), squeeze=False, sharey="row")
    cases = sorted({r["case"] for rs in data.values() for r in rs})
    color = {c: f"C{i % 10}" for i, c in enumerate(cases)}
    for j, s in enumerate(shapes):
        for i, kind in enumerate(("strong", "weak")):
            ax = axes[i, j]
            for c in cases:
                rs = sorted((r for r in data[s] if r["kind"] == kind and r["case"] == c), key=lambda r: int(r["nodes"]))
                if not rs:
                    continue
                x = [int(r["nodes"]) for r in rs]
                ax.plot(x, [float(r["model_t_rhs_ms"]) for r in rs], "-", color=color[c], lw=1.2)
                ax.plot(x, [float(r["measured_t_rhs_ms"]) for r in rs], "o", color=color[c], label=c)
                ax.plot(x, [float(r["model_comm_ms"]) for r in rs], ":", color=color[c], lw=1)
                ax.plot(x, [float(r["measured_comm_ms"]) for r in rs], "x", color=color[c], ms=5)
            lat, gbit = float(data[s][0]["latency_us"]), float(data[s][0]["link_gbit"])
            ax.set_title(f"{kind}, links {s} (ping-pong: {lat:.0f} µs, {gbit:.2g} Gbit/s)", fontsize=9)
            ax.set_yscale("log")
            ax.set_xticks([1, 2, 3])
            ax.set_xlabel("emulated nodes (1 rank each)")
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel("ms per RHS: total (o, —), communication (x, ···)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Measured (markers) and modelled (lines) on the emulated cluster; 3 nodes share 2 cores", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.png + ".partial.png", dpi=100)
    plt.close(fig)
    os.replace(a.png + ".partial.png", a.png)
    print(f"plot_scaling_cluster: -> {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
