#!/usr/bin/python3
"""Draw the stability phase diagram of model.md §6 from `ratemem stability -phase_csv`.

Usage:
  plot_phase.py CSV PNG                       plot an existing CSV
  plot_phase.py --run EXE [--np N] [--config YAML] CSV PNG
                                              run `mpiexec -n N EXE stability -options_file_yaml YAML
                                              -phase_csv CSV -summary CSV-with-.json` first (default N = 2, YAML =
                                              configs/phase.yaml next to this script), then plot

The map shows, over threshold x* (horizontal) and gain rho (vertical), where the largest
eigenvalue of the Jacobian over all memories (SLEPc) is negative ("numerically stable") or not,
with the region where the sufficient condition for stability holds hatched and outlined (dashed)
and the region where a sufficient condition for instability holds hatched and outlined (dotted),
as in the authors' PhaseDiagram.py. Grid points where the design does not exist are grey."""
import argparse
import csv
import math
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402


def read_csv(path):
    with open(path, newline="") as f:
        lines = f.readlines()
    comments = [line[1:].strip() for line in lines if line.startswith("#")]
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")]))
    if not rows:
        sys.exit(f"plot_phase.py: {path} has no grid points")
    return comments, rows


def grid(rows, key, gains, thresholds, default=np.nan):
    """Values of column key as an array [gain index, threshold index]."""
    gi = {g: i for i, g in enumerate(gains)}
    ti = {t: j for j, t in enumerate(thresholds)}
    z = np.full((len(gains), len(thresholds)), default, dtype=float)
    for r in rows:
        v = r[key]
        z[gi[float(r["gain"])], ti[float(r["threshold"])]] = float(v) if v not in ("", None) else default
    return z


def plot(csv_path, png_path):
    comments, rows = read_csv(csv_path)
    gains = sorted({float(r["gain"]) for r in rows})
    thresholds = sorted({float(r["threshold"]) for r in rows})
    valid = grid(rows, "valid", gains, thresholds, 0) > 0
    stable = grid(rows, "numerically_stable", gains, thresholds, 0)
    stab_cond = grid(rows, "stability_holds", gains, thresholds, 0)
    inst_cond = grid(rows, "instability_holds", gains, thresholds, 0)
    stab_cond[~valid] = 0
    inst_cond[~valid] = 0
    status = np.where(valid, np.where(stable > 0, 1, 2), 0)  # 0 invalid, 1 stable, 2 unstable

    T, G = np.meshgrid(thresholds, gains)
    fig, ax = plt.subplots(figsize=(8.5, 8.5))
    cmap = ListedColormap(["lightgrey", "lightskyblue", "lightsalmon"])
    ax.pcolormesh(T, G, status, cmap=cmap, vmin=-0.5, vmax=2.5, shading="nearest")
    # sufficient-condition regions: hatching plus their boundary
    if stab_cond.any():
        with matplotlib.rc_context({"hatch.color": "navy"}):
            ax.contourf(T, G, stab_cond, levels=[0.5, 1.5], colors="none", hatches=["//"])
        if 0 < stab_cond.sum() < stab_cond.size:
            ax.contour(T, G, stab_cond, levels=[0.5], colors="navy", linestyles="dashed", linewidths=2.5)
    if inst_cond.any():
        with matplotlib.rc_context({"hatch.color": "firebrick"}):
            ax.contourf(T, G, inst_cond, levels=[0.5, 1.5], colors="none", hatches=["\\\\"])
        if 0 < inst_cond.sum() < inst_cond.size:
            ax.contour(T, G, inst_cond, levels=[0.5], colors="firebrick", linestyles="dotted", linewidths=2.5)
    if 0 < (status == 1).sum() < status.size:
        ax.contour(T, G, (status == 1).astype(float), levels=[0.5], colors="steelblue", linewidths=1.5)
    # the two points the authors' PhaseDiagram.py marks (x* = 0.2 and 0.8 at rho = 4.8), where in range
    marks = [(0.2, 4.8, "s", "darkblue"), (0.8, 4.8, "*", "maroon")]
    shown = [(t, g, m, c) for t, g, m, c in marks if thresholds[0] <= t <= thresholds[-1] and gains[0] <= g <= gains[-1]]
    for t, g, m, c in shown:
        ax.scatter([t], [g], s=160 if m == "*" else 90, marker=m, color=c, edgecolor="black", zorder=5)
    handles = [
        Patch(facecolor="lightskyblue", label="numerically stable (max eig J < 0)"),
        Patch(facecolor="lightsalmon", label="numerically unstable"),
        Patch(facecolor="white", edgecolor="navy", hatch="//", label="stability condition holds"),
        Patch(facecolor="white", edgecolor="firebrick", hatch="\\\\", label="an instability condition holds"),
        Line2D([], [], color="navy", linestyle="dashed", label="stability condition boundary"),
        Line2D([], [], color="firebrick", linestyle="dotted", label="instability condition boundary"),
    ]
    if shown:
        handles.append(Line2D([], [], linestyle="none", marker="s", color="darkblue", markeredgecolor="black",
                              label="points marked in the authors' PhaseDiagram.py"))
    if (~valid).any():
        handles.append(Patch(facecolor="lightgrey", label="design undefined (phi(b) <= phi(a))"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=8, frameon=False)
    ax.set_xlabel(r"threshold $x^\star$")
    ax.set_ylabel(r"gain $\rho$")
    title = "Stability of the memories (model.md §6)"
    if comments:
        title += "\n" + comments[0].split(":", 1)[-1].split(";")[0].strip()
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    tmp = png_path + ".partial.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, png_path)
    n_valid = int(valid.sum())
    print(f"plot_phase.py: {len(gains)} x {len(thresholds)} grid, {n_valid} valid, {int((status == 1).sum())} numerically stable, "
          f"stability condition at {int(stab_cond.sum())}, instability condition at {int(inst_cond.sum())} -> {png_path}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--run", metavar="EXE", help="run EXE stability first (writes CSV)")
    ap.add_argument("--np", type=int, default=2, help="MPI ranks for --run (default 2)")
    ap.add_argument("--config", default=os.path.normpath(os.path.join(here, "..", "configs", "phase.yaml")), help="options file for --run")
    ap.add_argument("--mpiexec", default="mpiexec --allow-run-as-root --oversubscribe", help="launcher for --run")
    args, extra = ap.parse_known_args()
    if args.run:
        summary = os.path.splitext(args.csv)[0] + ".json"
        cmd = args.mpiexec.split() + ["-n", str(args.np), args.run, "stability", "-options_file_yaml", args.config, "-phase_csv", args.csv,
                                      "-summary", summary] + extra
        print("$ " + " ".join(cmd), flush=True)
        p = subprocess.run(cmd)
        if p.returncode != 0:
            sys.exit(f"plot_phase.py: ratemem stability exited {p.returncode}")
    elif extra:
        ap.error("unrecognised arguments: " + " ".join(extra))
    plot(args.csv, args.png)


if __name__ == "__main__":
    main()
