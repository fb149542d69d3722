#!/usr/bin/python3
"""Stability conditions vs measurement (issue #8, model.md §6) on one map.

Usage: plot_stabmap.py PHASE_CSV SWEEP_CSV PNG [--summary JSON]

PHASE_CSV is `ratemem stability -phase_csv` (largest spectral abscissa over all memories and the §6
sufficient conditions per (gain, threshold)); SWEEP_CSV is `ratemem sweep` over gain x threshold in the
same setting (retrieval rate from corrupted cues). The left map colours each sweep point by the fraction
of cues retrieved at the designed equilibrium x^mu, the right one by the fraction that ends at a
saturated copy of the memory (docs/model.md §4); both draw the boundary where the computed abscissa changes sign (solid), the region where the
sufficient condition for stability holds (dashed outline) and the one where a sufficient condition
for instability holds (dotted). Points of both grids are matched by (gain, threshold) to a relative 1e-6, and the
printed counts compare retrieval (rate >= 0.5), and saturation (fraction >= 0.5), with numerical stability (abscissa < 0) and with the
stability condition at the matched points."""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import plt, read_sweep, save  # noqa: E402
import numpy as np  # noqa: E402


def read_phase(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader([line for line in f if not line.startswith("#")]))
    if not rows:
        sys.exit(f"plot_stabmap.py: {path} has no grid points")
    return rows


def matcher(rows):
    """Look a (gain, threshold) up among rows, to a relative 1e-6 (the grids print their values with
    different precision)."""
    pts = np.array([(float(r["gain"]), float(r["threshold"])) for r in rows])

    def find(g, t):
        d = np.abs(pts[:, 0] - float(g)) / max(1.0, abs(float(g))) + np.abs(pts[:, 1] - float(t)) / max(1.0, abs(float(t)))
        i = int(np.argmin(d))
        return rows[i] if d[i] < 1e-6 else None

    return find


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase_csv")
    ap.add_argument("sweep_csv")
    ap.add_argument("png")
    ap.add_argument("--summary", help="write the counts as JSON here")
    args = ap.parse_args()
    phase = read_phase(args.phase_csv)
    sweep = read_sweep(args.sweep_csv)
    find = matcher(phase)
    gains = sorted({float(r["gain"]) for r in phase})
    thrs = sorted({float(r["threshold"]) for r in phase})

    def field(name):
        z = np.full((len(gains), len(thrs)), np.nan)
        for i, g in enumerate(gains):
            for j, t in enumerate(thrs):
                r = find(g, t)
                if r and r["valid"] == "1" and r[name] not in ("", None):
                    z[i, j] = float(r[name])
        return z

    absc, stab, inst = field("max_abscissa"), field("stability_holds"), field("instability_holds")
    sg = sorted({r["gain"] for r in sweep})
    st = sorted({r["threshold"] for r in sweep})
    if "frac_saturated" not in sweep[0]:
        sys.exit(f"plot_stabmap.py: {args.sweep_csv} has no frac_saturated column (written by an older ratemem: rerun the sweep)")

    def sweep_field(name):
        z = np.full((len(sg), len(st)), np.nan)
        for r in sweep:
            z[sg.index(r["gain"]), st.index(r["threshold"])] = r[name]
        return z

    def edges(v):
        v = np.asarray(v)
        if len(v) == 1:
            return np.array([v[0] - 0.5, v[0] + 0.5])
        mid = (v[1:] + v[:-1]) / 2
        return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])

    # two panels: cues retrieved at the designed equilibrium x^mu, and cues that end at a saturated copy of
    # the memory (the pattern at a larger amplitude, docs/model.md §4), each with the same three boundaries
    fig, axes = plt.subplots(1, 2, figsize=(13.5, 5.6), sharey=True)
    T, G = np.meshgrid(thrs, gains)
    flip = sweep[0]["flip"]
    for ax, (name, cmap, what) in zip(axes, (("retrieval_rate", "Greens", "retrieved at x^μ"),
                                             ("frac_saturated", "Oranges", "saturated copy"))):
        mesh = ax.pcolormesh(edges(st), edges(sg), sweep_field(name), cmap=cmap, vmin=0, vmax=1, shading="flat")
        fig.colorbar(mesh, ax=ax, label=f"fraction of cues ({flip:g} flipped) labelled {what}")
        if np.nanmin(absc) < 0 < np.nanmax(absc):
            ax.contour(T, G, absc, levels=[0], colors="k", linewidths=1.8)
        if np.nanmax(stab) > 0 and np.nanmin(stab) < 1:
            ax.contour(T, G, stab, levels=[0.5], colors="b", linestyles="--", linewidths=1.4)
        if np.nanmax(inst) > 0 and np.nanmin(inst) < 1:
            ax.contour(T, G, inst, levels=[0.5], colors="r", linestyles=":", linewidths=1.6)
        ax.plot([], [], "k-", label="spectral abscissa = 0 (SLEPc): stable to the upper left")
        ax.plot([], [], "b--", label="§6 stability condition η·max(α′,γ) = 1")
        ax.plot([], [], "r:", label="§6 instability condition boundary")
        ax.plot([0.2, 0.8], [4.8, 4.8], "kx", ms=8, label="authors' marked points (x* = 0.2, 0.8; ρ = 4.8)")
        ax.set_xlabel("threshold x*")
        ax.set_title(what, fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("gain ρ")
    r0 = sweep[0]
    fig.suptitle(f"rectified tanh, N = {int(r0['neurons'])}, P = {int(r0['memories'])} deterministic, a = {r0['a']:g}, b = {r0['b']:g}, "
                 f"{int(r0['trials'])} cues per point", fontsize=10)
    save(fig, args.png)

    # counts at the points present in both grids
    c = {"matched": 0, "stable": 0, "retrieved": 0, "retrieved_and_stable": 0, "retrieved_and_unstable": 0, "stable_not_retrieved": 0,
         "condition_holds": 0, "condition_holds_and_retrieved": 0, "instability_holds": 0, "instability_holds_and_retrieved": 0,
         "saturated": 0, "saturated_and_stable": 0, "saturated_and_unstable": 0, "instability_holds_and_saturated": 0}
    for r in sweep:
        p = find(r["gain"], r["threshold"])
        if not p or p["valid"] != "1":
            continue
        c["matched"] += 1
        stable = float(p["max_abscissa"]) < 0
        ok = r["retrieval_rate"] >= 0.5
        c["stable"] += stable
        c["retrieved"] += ok
        c["retrieved_and_stable"] += ok and stable
        c["retrieved_and_unstable"] += ok and not stable
        c["stable_not_retrieved"] += stable and not ok
        c["condition_holds"] += p["stability_holds"] == "1"
        c["condition_holds_and_retrieved"] += p["stability_holds"] == "1" and ok
        c["instability_holds"] += p["instability_holds"] == "1"
        c["instability_holds_and_retrieved"] += p["instability_holds"] == "1" and ok
        sat = r["frac_saturated"] >= 0.5
        c["saturated"] += sat
        c["saturated_and_stable"] += sat and stable
        c["saturated_and_unstable"] += sat and not stable
        c["instability_holds_and_saturated"] += p["instability_holds"] == "1" and sat
    print(json.dumps(c))
    if args.summary:
        tmp = args.summary + ".partial"
        with open(tmp, "w") as f:
            json.dump(c, f, indent=1)
        os.replace(tmp, args.summary)


if __name__ == "__main__":
    main()
