#!/usr/bin/python3
"""Plot of the multi-node campaign (scripts/scaling_campaign.sh): time per RHS evaluation and its
communication part against the node count, measured (dots) and modelled (lines), one column per
link shape, strong scaling above and weak below.

Usage: scripts/plot_scaling_cluster.py CAMPAIGN_DIR OUT.png [--shapes off,10gbit,1gbit] [--md OUT.md] [--csv OUT.csv]

Reads CAMPAIGN_DIR/SHAPE/scaling_model_check.csv (scripts/scaling_model.py) and scaling.csv
(scripts/scaling_report.py). --md writes Markdown tables: per shape every run, measured (median of
the repeats, their range) beside the model with its error; and the weak-scaling efficiency of 3 nodes
against 1 per case, measured, with the compute part's CPU sharing (3 ranks on 2 cores) taken out,
modelled for the emulation, and modelled with cores of its own per node on the measured link.
--csv writes every shape's scaling_model_check.csv rows in one file, with a column "links"."""
import argparse
import csv
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("campaign")
    ap.add_argument("png")
    ap.add_argument("--shapes", default="off,10gbit,1gbit")
    ap.add_argument("--md", default=None)
    ap.add_argument("--csv", default=None)
    a = ap.parse_args()
    shapes = a.shapes.split(",")
    data = {}
    for s in shapes:
        p = os.path.join(a.campaign, s, "scaling_model_check.csv")
        if not os.path.isfile(p):
            sys.exit(f"plot_scaling_cluster: error: {p} not found (run scripts/scaling_campaign.sh)")
        data[s] = list(csv.DictReader(open(p)))
    if a.md:
        write_md(a, shapes, data)
    if a.csv:
        cols = ["links"] + list(data[shapes[0]][0].keys())
        with open(a.csv + ".partial", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for s in shapes:
                for r in data[s]:
                    w.writerow([s] + [r.get(k, "") for k in cols[1:]])
        os.replace(a.csv + ".partial", a.csv)
        print(f"plot_scaling_cluster: -> {a.csv}")
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
                mc = [(int(r["nodes"]), float(r["model_comm_ms"])) for r in rs if float(r["model_comm_ms"]) > 0]
                ax.plot([p[0] for p in mc], [p[1] for p in mc], ":", color=color[c], lw=1)  # none on one node
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


def write_md(a, shapes, data):
    out = []
    eff = []
    for s in shapes:
        meas = {(r["kind"], r["case"], r["nodes"]): r for r in csv.DictReader(open(os.path.join(a.campaign, s, "scaling.csv")))}
        rs = data[s]
        out += [f"Links {s}: {open(os.path.join(a.campaign, s, 'scaling_model_check.md')).readline().strip()}", "",
                "| kind | case | nodes | n | ms/RHS measured (min–max of reps) | ms/RHS model | error | comm ms/RHS measured | comm ms/RHS model | comm share measured | comm share model | load |",
                "|" + "---|" * 12]
        for r in rs:
            m = meas[(r["kind"], r["case"], r["nodes"])]
            lo, hi = float(m.get("t_rhs_min_ms") or m["t_rhs_ms"]), float(m.get("t_rhs_max_ms") or m["t_rhs_ms"])
            out.append(f"| {r['kind']} | {r['case']} | {r['nodes']} | {r['neurons']} | {float(r['measured_t_rhs_ms']):.2f} "
                       f"({lo:.2f}–{hi:.2f}, {m.get('reps') or 1}) | {float(r['model_t_rhs_ms']):.2f} | {float(r['error']):+.0%} | "
                       f"{float(r['measured_comm_ms']):.2f} | {float(r['model_comm_ms']):.2f} | {float(r['measured_comm_share']):.0%} | "
                       f"{float(r['model_comm_share']):.0%} | {r['load_before']}–{r['load_after']} |")
        bad = [r for r in rs if abs(float(r["error"])) > 0.25]
        out += ["", f"{len(bad)} of {len(rs)} points with an error above 25%" + (": " + ", ".join(
            f"{r['kind']} {r['case']} N={r['nodes']} ({float(r['error']):+.0%})" for r in bad) if bad else "") + ".", ""]
        for case in sorted({r["case"] for r in rs if r["kind"] == "weak"}):
            w = {int(r["nodes"]): r for r in rs if r["kind"] == "weak" and r["case"] == case}
            if 1 in w and 3 in w:
                t1 = float(w[1]["measured_t_rhs_ms"]) / int(w[1]["neurons"])
                t3 = float(w[3]["measured_t_rhs_ms"]) / (int(w[3]["neurons"]) / 3)
                c3 = float(w[3]["measured_comm_ms"]) / (int(w[3]["neurons"]) / 3)
                sh = float(w[3]["cpu_share"])
                t3c = (t3 - c3) / sh + c3
                m1 = float(w[1]["model_t_rhs_ms"]) / int(w[1]["neurons"])
                m3 = float(w[3]["model_t_rhs_ms"]) / (int(w[3]["neurons"]) / 3)
                # the model with cores of its own per node and no delay per synchronisation: the link's cost alone
                comm_link = float(w[3]["model_comm_ms"]) - float(w[3]["model_sync_delay_ms"])
                own = ((float(w[3]["model_t_rhs_ms"]) - float(w[3]["model_comm_ms"])) / sh + comm_link) / (int(w[3]["neurons"]) / 3)
                eff.append(f"| {s} | {case} | {t1 / t3:.2f} | {t1 / t3c:.2f} | {m1 / m3:.2f} | {m1 / own:.2f} |")
    out += ["Weak scaling, 3 nodes against 1 (per neuron and node):", "",
            "| links | case | E measured | E measured, compute CPU sharing taken out | E model (emulation) | E model, own cores, this link |",
            "|---|---|---|---|---|---|"] + eff
    with open(a.md + ".partial", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(a.md + ".partial", a.md)
    print(f"plot_scaling_cluster: -> {a.md}")


if __name__ == "__main__":
    sys.exit(main())
