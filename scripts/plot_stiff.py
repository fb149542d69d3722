#!/usr/bin/python3
"""Plots the CSV of scripts/stiff_sweep.py. Usage: scripts/plot_stiff.py CSV PNG

Panel 1: RHS evaluations (summed over trials) vs the stiffness ratio tau_E/tau_I, log-log, one line
per integrator and gain (explicit Euler = its best stable step; a point is hollow when the run did
not converge to the reference's answer, missing when nothing ran).
Panel 2: map over (gain, ratio): colour = final classification of the BDF run (retrieved / other /
spurious / unconverged / failed, hatched when it differs from the single-population reference),
with an X where explicit Euler's largest step (1.95 tau_I) diverged; each cell is annotated with
the cost ratio Euler RHS / BDF RHS (the factor BDF saves) and the best Euler step in units of tau_I."""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

LABEL_COLOURS = {"retrieved": "#4daf4a", "other": "#377eb8", "spurious": "#ff7f00", "unconverged": "#e41a1c",
                 "failed": "#7f0000", "diverged": "#7f0000", "mixed": "#984ea3", "none": "#dddddd"}
MARKERS = {"bdf": "o", "adams": "s", "euler": "^"}


def fnum(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def truthy(v):
    return str(v).strip().lower() in ("1", "true", "yes")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_stiff.py CSV PNG")
    src, png = sys.argv[1], sys.argv[2]
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"plot_stiff: {src} has no rows")
    ratios = sorted({float(r["ratio"]) for r in rows})
    gains = sorted({float(r["gain"]) for r in rows})
    integs = list(dict.fromkeys(r["integrator"] for r in rows))
    by = {(float(r["ratio"]), float(r["gain"]), r["integrator"]): r for r in rows}

    # One panel above the other, each at full width, the legends outside the axes: side by side the
    # cost lines, their legend and the annotated map crowded each other.
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 11.5), gridspec_kw={"height_ratios": [1, 1.1]})

    # Panel 1: RHS evaluations vs ratio
    cmap = plt.get_cmap("tab10")
    styles = ["-", "--", ":", "-."]
    for ii, integ in enumerate(integs):
        base = integ.split("_")[0]
        for gi, g in enumerate(gains):
            xs, ys, ok = [], [], []
            for R in ratios:
                r = by.get((R, g, integ))
                y = fnum(r.get("rhs_evals")) if r else None
                if y is None or y <= 0:
                    continue
                xs.append(R)
                ys.append(y)
                ok.append(truthy(r.get("converged")) and truthy(r.get("label_matches_reference", "1")))
            if not xs:
                continue
            colour = cmap(ii % 10)
            lab = f"{integ}" + (" (best stable dt)" if base == "euler" else "") + (f", gain {g:g}" if len(gains) > 1 else "")
            ax1.plot(xs, ys, styles[gi % len(styles)], color=colour, lw=1.2, label=lab)
            for x, y, good in zip(xs, ys, ok):
                ax1.plot([x], [y], MARKERS.get(base, "D"), color=colour, mfc=colour if good else "white", ms=6)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel(r"stiffness ratio $\tau_E/\tau_I$")
    ax1.set_ylabel("RHS evaluations (all trials)")
    ax1.set_title("cost vs stiffness (hollow: not converged / label differs from reference)", fontsize=9)
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=7, ncol=1 if len(ax1.get_legend_handles_labels()[0]) <= 16 else 2, loc="upper left", bbox_to_anchor=(1.01, 1.0))

    # Panel 2: map over (gain, ratio)
    bdf_name = "bdf" if "bdf" in integs else next((i for i in integs if i.startswith("bdf")), integs[0])
    eul_name = "euler" if "euler" in integs else next((i for i in integs if i.startswith("euler")), None)
    seen = set()
    for gi, g in enumerate(gains):
        for ri, R in enumerate(ratios):
            b = by.get((R, g, bdf_name))
            label = (b.get("label") or "none") if b else "none"
            key = label if label in LABEL_COLOURS else ("mixed" if "+" in label else "failed")
            seen.add(key)
            mismatch = b is not None and not truthy(b.get("label_matches_reference", "1"))
            ax2.add_patch(plt.Rectangle((gi - 0.5, ri - 0.5), 1, 1, facecolor=LABEL_COLOURS[key], edgecolor="white",
                                        hatch="//" if mismatch else None, lw=2))
            txt = [] if key == "retrieved" else [label.replace("+", "+\n")]
            e = by.get((R, g, eul_name)) if eul_name else None
            if b and e:
                br, er = fnum(b.get("rhs_evals")), fnum(e.get("rhs_evals"))
                if br and er:
                    txt.append(f"E/B {er / br:.3g}x")
                else:
                    txt.append("E/B n/a")
                f = fnum(e.get("euler_factor"))
                dt = fnum(e.get("dt"))
                if dt is not None:
                    txt.append(f"dt={f:g}" + r"$\tau_I$" if f is not None else f"dt={dt:.2g}")
                if truthy(e.get("diverged")):
                    ax2.plot([gi + 0.38], [ri + 0.36], "X", color="black", ms=9)
            if b and fnum(b.get("abscissa")) is not None:
                txt.append(f"abs {float(b['abscissa']):.3g}")
            ax2.text(gi, ri, "\n".join(txt), ha="center", va="center", fontsize=7)
    ax2.set_xlim(-0.5, len(gains) - 0.5)
    ax2.set_ylim(-0.5, len(ratios) - 0.5)
    ax2.set_xticks(range(len(gains)))
    ax2.set_xticklabels([f"{g:g}" for g in gains])
    ax2.set_yticks(range(len(ratios)))
    ax2.set_yticklabels([f"{R:g}" for R in ratios])
    ax2.set_xlabel(r"gain $\rho$")
    ax2.set_ylabel(r"stiffness ratio $\tau_E/\tau_I$")
    ax2.set_title(f"{bdf_name} final classification; E/B = Euler RHS / BDF RHS;\n"
                  r"X (corner): Euler at its largest step (1.95$\tau_I$) diverged; hatched: label $\neq$ single-population reference",
                  fontsize=9)
    names = {"mixed": "mixed (labels differ\nbetween trials)"}
    handles = [Patch(facecolor=LABEL_COLOURS[k], label=names.get(k, k)) for k in LABEL_COLOURS if k in seen]
    ax2.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("ratemem E/I network (model.md §5): stiff-regime sweep", fontsize=11)
    fig.tight_layout()
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, png)
    print(f"plot_stiff: wrote {png}")


if __name__ == "__main__":
    main()
