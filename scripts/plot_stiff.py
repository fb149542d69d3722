#!/usr/bin/python3
"""Plots the CSV of scripts/stiff_sweep.py. Usage: scripts/plot_stiff.py CSV PNG

One facet per integrator (in the CSV's order, shared log-log axes): RHS evaluations (summed over the
trials) against the stiffness ratio tau_E/tau_I, one line per gain (the same colour and marker for a
gain in every facet); explicit Euler is its best stable step, and it is repeated in grey in the other
facets for comparison. A marker is hollow when the run did not converge or its labels differ from the
single-population reference; a point is missing when no run of that integrator gave a count (e.g. no
Euler step reached the reference).
Below, across the width: the factor BDF saves, Euler RHS / BDF RHS, against the ratio for `bdf` and
`bdf_tail` (or the first two BDF variants of the CSV; colour = gain, line style = variant; hollow where
that BDF run was inaccurate), with the break-even line at 1.
Legends sit outside the axes, on the right."""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

GAIN_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
GAIN_MARKERS = ["o", "s", "^", "D", "v", "P"]
VARIANT_STYLES = ["-", "--", ":", "-."]
DODGE = 1.22  # sideways shift between the gains' points, a factor on the log ratio axis
DESCRIPTIONS = {
    "bdf": "BDF, rtol 1e-6, Jacobi PC",
    "bdf_nopc": "BDF, rtol 1e-6, no PC",
    "bdf_loose": "BDF, rtol 1e-2",
    "bdf_tail": "BDF, rtol 1e-2, tail 1e-6",
    "adams": "Adams, fixed point",
    "euler": "explicit Euler, best stable dt",
}


def fnum(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def truthy(v):
    return str(v).strip().lower() in ("1", "true", "yes")


def good(r):
    return truthy(r.get("converged")) and truthy(r.get("label_matches_reference", "1"))


def power_ticks(v, _):
    """10^k as 1, 10, 100, 1000, 10⁴... (plain up to 1000, powers above)."""
    if v <= 0:
        return ""
    k = round(math.log10(v))
    if abs(v - 10 ** k) > 1e-9 * v:
        return ""
    return f"{v:g}" if k <= 3 else f"$10^{{{k}}}$"


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
    gstyle = {g: (GAIN_COLOURS[i % len(GAIN_COLOURS)], GAIN_MARKERS[i % len(GAIN_MARKERS)]) for i, g in enumerate(gains)}
    # Gains with equal counts (e.g. 10 and 20, both saturated) would hide each other: each gain's points
    # are shifted sideways by a fixed factor on the log axis (the counts are not moved).
    dodge = {g: DODGE ** (i - (len(gains) - 1) / 2) for i, g in enumerate(gains)}
    eul = "euler" if "euler" in integs else next((i for i in integs if i.startswith("euler")), None)
    # the saving panel: the default BDF and its tail-tolerance variant when the sweep has them (every BDF
    # variant times every gain would be too many lines), else the first two BDF variants
    bdfs = [i for i in ("bdf", "bdf_tail") if i in integs] or [i for i in integs if i.startswith("bdf")][:2]

    def series(integ, g, shift=True):
        xs, ys, ok = [], [], []
        for R in ratios:
            r = by.get((R, g, integ))
            y = fnum(r.get("rhs_evals")) if r else None
            if y is None or y <= 0:
                continue
            xs.append(R * (dodge[g] if shift else 1.0))
            ys.append(y)
            ok.append(good(r) and (not integ.startswith("bdf") or truthy(r.get("accurate", "1"))))
        return xs, ys, ok

    ncol = 2 if len(integs) in (2, 4) else min(3, len(integs))
    nrow = math.ceil(len(integs) / ncol)
    fig = plt.figure(figsize=(4.1 * ncol + 2.6, 2.9 * nrow + 3.4))
    outer = fig.add_gridspec(2, 1, height_ratios=[nrow, 1.15], hspace=0.22, left=0.08, right=0.78, top=0.93, bottom=0.07)
    gs = outer[0].subgridspec(nrow, ncol, hspace=0.25, wspace=0.08)
    facets = []
    for k, integ in enumerate(integs):
        ax = fig.add_subplot(gs[k // ncol, k % ncol], sharex=facets[0] if facets else None, sharey=facets[0] if facets else None)
        facets.append(ax)
        if eul and integ != eul:  # the explicit baseline in grey, for comparison
            for g in gains:
                xs, ys, _ = series(eul, g, shift=False)
                ax.plot(xs, ys, "-", color="0.75", lw=1.0, zorder=1)
        for g in gains:
            xs, ys, ok = series(integ, g)
            if not xs:
                continue
            c, m = gstyle[g]
            ax.plot(xs, ys, "-", color=c, lw=1.3, zorder=2)
            for x, y, o in zip(xs, ys, ok):
                ax.plot([x], [y], m, color=c, mfc=c if o else "white", ms=6, zorder=3)
        ax.set_title(f"{integ}: {DESCRIPTIONS.get(integ, integ)}", fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
        if k % ncol == 0:
            ax.set_ylabel("RHS evaluations\n(sum over the cues)")
        else:
            ax.tick_params(labelleft=False)
        if k + ncol >= len(integs):  # the lowest facet of its column
            ax.set_xlabel(r"stiffness ratio $R = \tau_E/\tau_I$", fontsize=9)
        else:
            ax.tick_params(labelbottom=False)
    facets[0].xaxis.set_major_locator(FixedLocator(ratios))
    facets[0].xaxis.set_minor_locator(NullLocator())
    facets[0].xaxis.set_major_formatter(FuncFormatter(power_ticks))
    facets[0].yaxis.set_major_formatter(FuncFormatter(power_ticks))
    facets[0].set_xlim(min(ratios) / 2, max(ratios) * 2)

    handles = [Line2D([], [], color=gstyle[g][0], marker=gstyle[g][1], lw=1.3, label=f"gain ρ = {g:g}") for g in gains]
    handles.append(Line2D([], [], color="0.4", marker="o", mfc="white", lw=0, label="hollow: not converged or\nlabels ≠ reference"))
    if len(gains) > 1:
        handles.append(Line2D([], [], lw=0, label="gains shifted sideways\nso equal counts stay visible"))
    if eul:
        handles.append(Line2D([], [], color="0.75", lw=1.0, label=f"{eul} (grey, for comparison)"))
    facets[min(ncol, len(facets)) - 1].legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.04, 1.0),
                                              frameon=False)

    # The saving: Euler RHS / BDF RHS per BDF variant and gain
    ax = fig.add_subplot(outer[1])
    vh = []
    for vi, b in enumerate(bdfs):
        ls = VARIANT_STYLES[vi % len(VARIANT_STYLES)]
        vh.append(Line2D([], [], color="0.3", ls=ls, lw=1.3, label=f"{b}: {DESCRIPTIONS.get(b, b)}"))
        for g in gains:
            xs, ys, ok = [], [], []
            for R in ratios:
                rb, re_ = by.get((R, g, b)), by.get((R, g, eul)) if eul else None
                br = fnum(rb.get("rhs_evals")) if rb else None
                er = fnum(re_.get("rhs_evals")) if re_ else None
                if not br or not er:
                    continue
                xs.append(R * dodge[g] ** 0.5)  # a wider axis: half the shift
                ys.append(er / br)
                ok.append(good(rb) and truthy(rb.get("accurate", "1")))
            if not xs:
                continue
            c, m = gstyle[g]
            ax.plot(xs, ys, ls, color=c, lw=1.3)
            for x, y, o in zip(xs, ys, ok):
                ax.plot([x], [y], m, color=c, mfc=c if o else "white", ms=5)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ratios))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(power_ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(min(ratios) / 2, max(ratios) * 2)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xlabel(r"stiffness ratio $R = \tau_E/\tau_I$")
    ax.set_ylabel("Euler RHS / BDF RHS\n(> 1: BDF cheaper)")
    ax.set_title("saving of BDF over the best stable Euler step (same final-state accuracy; "
                 "dotted: break-even)", fontsize=9)
    if vh:
        vh.append(Line2D([], [], color="0.4", marker="o", mfc="white", lw=0, label="hollow: BDF run inaccurate,\nunconverged or labels ≠ reference"))
        ax.legend(handles=vh, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  title="colour = gain (as above)", title_fontsize=8)
    fig.suptitle("ratemem E/I network (model.md §5): cost of each integrator vs stiffness", fontsize=11)
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")  # (the legends right of the axes stay whole)
    os.replace(tmp, png)
    print(f"plot_stiff: wrote {png}")


if __name__ == "__main__":
    main()
