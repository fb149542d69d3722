#!/usr/bin/python3
"""Scaling report: turns the runs of a scaling study into a CSV, a Markdown table and PNG plots.

Usage: scripts/scaling_report.py RUNS_DIR [RUNS_DIR ...] [--out DIR] [--kind strong|weak]
                                 [--model] [--model-out DIR] [model options, see scripts/scaling_model.py]

Each run is `ratemem retrieve ... -summary NAME.json -log_view :NAME.log_view` (jobs/strong_scaling.sbatch
and jobs/weak_scaling.sbatch make them; NAME.meta.json, when present, gives kind, case, launcher
and the load average). Per run it reports:
  * t_int_s      the Integrate stage (wall, from the summary), all trials;
  * t_rhs_ms     the integration time per RHS evaluation, t_int / rhs_evals;
  * t_prod_ms    the time of one weight product (event RmSynMult, slowest rank, / count);
  * comm_share   the share of the Integrate stage (event RmIntegrate, slowest rank) spent in events that
                 communicate: VecScatterBegin/End, SFBcast/SFReduce Begin/End, SFPack/SFUnpack (the
                 ghost exchange of aij/compressed and the gather of x for dense) and VecDot/VecMDot/
                 VecNorm/VecDotNorm2 (the integrator's global reductions, their local part included).
                 and RmLowRankReduce (the low-rank product's one MPI_Allreduce of P+1 numbers; logs
                 from builds before that event existed leave it out, and the model gives its share);
  * reductions_per_product   PETSc-counted global reductions in the Integrate stage per weight product;
  * product_msgs_per_rank, product_bytes_per_rank   messages and bytes one rank sends per product
                 (event RmSynMult: the ghost exchange of aij, compressed and spatial);
  * efficiency   strong: t_rhs(1 rank) / (R t_rhs(R)); weak: t_rhs(1 rank) / t_rhs(R) (same case, the
                 smallest rank count measured as the base), per neuron and rank (grid2d rounds n to a square);
  * nodes        the distinct hosts of the summary's "hosts" (where the ranks really ran);
  * connectivity, rewire, radius   spatial storage's options (from -log_view's option table);
Runs repeated in several RUNS_DIRs (same kind, case, ranks, nodes, n) become one row, the median
run by time per RHS, with reps and t_rhs_min_ms/t_rhs_max_ms.
Writes DIR/scaling.csv, DIR/scaling.md, DIR/scaling.png (time per RHS, total time, efficiency,
communication share against ranks, one line per case). With --model it also runs the model
(scripts/scaling_model.py) on these measurements and writes scaling_model.{csv,md,png} into
--model-out (default DIR)."""
import argparse
import csv
import glob
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COMM_EVENTS = {"VecScatterBegin", "VecScatterEnd", "SFBcastBegin", "SFBcastEnd", "SFReduceBegin", "SFReduceEnd",
               "SFPack", "SFUnpack", "VecDot", "VecMDot", "VecNorm", "VecDotNorm2", "VecTDot", "VecMTDot",
               "RmLowRankReduce"}
COLUMNS = ["kind", "case", "storage", "indegree", "connectivity", "rewire", "radius", "ranks", "nodes", "hosts", "neurons", "memories", "trials", "integrator",
           "steps", "rhs_evals", "weight_products", "t_int_s", "t_total_s", "t_rhs_ms", "t_prod_ms", "t_integrate_event_s",
           "t_synmult_s", "t_comm_s", "comm_share", "reductions", "reductions_per_product", "vec_flops_per_rhs", "msg_count",
           "msg_bytes", "product_msgs_per_rank", "product_bytes_per_rank", "efficiency", "reps", "t_rhs_min_ms", "t_rhs_max_ms", "labels", "load_before", "load_after", "launcher", "name"]


def parse_log_view(path):
    """{'events': {name: {count, tmax, msgs, msglen, reductions}}, 'reductions': total, 'msg_count', 'msg_bytes',
    'stage_reductions': {stage: count}} from PETSc 3.18's -log_view text (Integrate stage events)."""
    res = {"events": {}, "stage_reductions": {}, "reductions": 0.0, "msg_count": 0.0, "msg_bytes": 0.0, "options": {}}
    in_options = False
    stage = None
    in_events = False
    num = r"([-+0-9.eE]+)"
    ev_re = re.compile(r"^(\w+)\s+(\d+)\s+" + r"\s+".join([num] * 10))
    st_re = re.compile(r"^\s*\d+:\s+(\w[\w ]*):\s+(.*)$")
    with open(path) as f:
        for line in f:
            # the run's options (the table -log_view ends with): spatial's -connectivity, -rewire, -radius
            if line.startswith("#PETSc Option Table entries:"):
                in_options = True
                continue
            if in_options:
                if line.startswith("#End of PETSc Option Table"):
                    in_options = False
                elif line.startswith("-"):
                    tok = line.split(None, 1)
                    res["options"][tok[0][1:]] = tok[1].strip() if len(tok) > 1 else ""
                continue
            if line.startswith("MPI Msg Count:"):
                res["msg_count"] = float(line.split()[-1])
            elif line.startswith("MPI Msg Len (bytes):"):
                res["msg_bytes"] = float(line.split()[-1])
            elif line.startswith("MPI Reductions:"):
                res["reductions"] = float(line.split()[2])
            m = st_re.match(line)
            if m and not in_events:
                # stage summary: time, %, flop, %, messages, %, lengths, %, reductions, %
                tok = m.group(2).split()
                if len(tok) == 10:
                    res["stage_reductions"][m.group(1).strip()] = float(tok[8])
            if line.startswith("Event                Count"):
                in_events = True
            if line.startswith("Object Type") or "Memory usage is given in bytes" in line:
                in_events = False
            if in_events and line.startswith("--- Event Stage"):
                stage = line.split(":", 1)[1].strip()
                continue
            if in_events and stage == "Integrate":
                m = ev_re.match(line)
                if m:
                    g = m.groups()
                    res["events"][g[0]] = {"count": int(g[1]), "tmax": float(g[3]), "flops": float(g[5]), "msgs": float(g[7]),
                                           "msglen": float(g[8]), "reductions": float(g[9])}
    return res


def load_runs(dirs):
    runs = []
    for d in dirs:
        for sp in sorted(glob.glob(os.path.join(d, "*.json"))):
            if sp.endswith(".meta.json"):
                continue
            name = os.path.basename(sp)[:-5]
            with open(sp) as f:
                s = json.load(f)
            if s.get("command") != "retrieve":
                continue
            meta = {}
            mp = os.path.join(d, name + ".meta.json")
            if os.path.isfile(mp):
                with open(mp) as f:
                    meta = json.load(f)
            lv = None
            lp = os.path.join(d, name + ".log_view")
            if os.path.isfile(lp):
                lv = parse_log_view(lp)
            runs.append(row_of(name, s, meta, lv))
    return runs


def row_of(name, s, meta, lv):
    trials = s["trials"]
    net = s["network"]
    rhs = sum(t["rhs_evals"] for t in trials)
    prods = sum(t["weight_products"] for t in trials)
    t_int = s["timings"]["integrate"]
    storage = net["storage"]
    case = meta.get("case") or (f"{storage}-K{net['indegree']}" if net.get("indegree") else storage)
    opts = lv["options"] if lv else {}
    hosts = s.get("hosts") or []
    r = {"name": name, "kind": meta.get("kind", ""), "case": case, "storage": storage, "indegree": net.get("indegree", 0),
         "connectivity": opts.get("connectivity", "ring" if storage == "spatial" else ""),
         "rewire": opts.get("rewire", "0" if storage == "spatial" else ""), "radius": opts.get("radius", ""),
         # the nodes the ranks ran on (distinct host names), not the allocation's size
         "ranks": s["ranks"], "nodes": len(set(hosts)) if hosts else meta.get("nodes", 1), "hosts": "/".join(hosts),
         "neurons": net["n"], "memories": net["memories"],
         "trials": len(trials), "integrator": s["integrator"]["method"], "steps": sum(t["steps"] for t in trials),
         "rhs_evals": rhs, "weight_products": prods, "t_int_s": t_int, "t_total_s": s["timings"]["total"],
         "t_rhs_ms": 1e3 * t_int / rhs if rhs else float("nan"),
         "labels": "/".join(sorted({t["label"] for t in trials})),
         "load_before": meta.get("load_before", ""), "load_after": meta.get("load_after", ""),
         "launcher": meta.get("launcher", "")}
    if lv:
        ev = lv["events"]
        t_ie = ev.get("RmIntegrate", {}).get("tmax", float("nan"))
        syn = ev.get("RmSynMult", {})
        t_comm = sum(e["tmax"] for k, e in ev.items() if k in COMM_EVENTS)
        red = lv["stage_reductions"].get("Integrate", float("nan"))
        # flops of the vector operations (largest rank x ranks): the model turns them into bytes
        vec_flops = sum(e["flops"] for k, e in ev.items() if k.startswith("Vec")) * s["ranks"]
        r.update(t_integrate_event_s=t_ie, vec_flops_per_rhs=vec_flops / rhs if rhs else float("nan"), t_synmult_s=syn.get("tmax", float("nan")),
                 t_prod_ms=1e3 * syn["tmax"] / syn["count"] if syn.get("count") else float("nan"),
                 t_comm_s=t_comm, comm_share=t_comm / t_ie if t_ie > 0 else float("nan"),
                 reductions=red, reductions_per_product=red / prods if prods else float("nan"),
                 msg_count=lv["msg_count"], msg_bytes=lv["msg_bytes"],
                 # point-to-point traffic of one product per rank (the ghost exchange; 0 for dense, whose
                 # gather of x PETSc does not count as messages, and for lowrank's Allreduce)
                 product_msgs_per_rank=syn["msgs"] / syn["count"] / s["ranks"] if syn.get("count") else float("nan"),
                 product_bytes_per_rank=syn["msgs"] * syn["msglen"] / syn["count"] / s["ranks"] if syn.get("count") else float("nan"))
    return r


def merge_repeats(runs):
    """Runs repeated with the same kind, case, ranks, nodes and n (RUNS_DIRs of repeated studies) become
    one row: the run of median time per RHS (the lower of the two middle ones), with reps and the
    min/max time per RHS of the repeats."""
    groups = {}
    for r in runs:
        groups.setdefault((r["kind"], r["case"], r["ranks"], r["nodes"], r["neurons"]), []).append(r)
    out = []
    for rs in groups.values():
        rs = sorted(rs, key=lambda r: r["t_rhs_ms"])
        med = dict(rs[(len(rs) - 1) // 2])
        med.update(reps=len(rs), t_rhs_min_ms=rs[0]["t_rhs_ms"], t_rhs_max_ms=rs[-1]["t_rhs_ms"])
        out.append(med)
    return out


def add_efficiency(runs):
    groups = {}
    for r in runs:
        groups.setdefault((r["kind"], r["case"]), []).append(r)
    for (kind, _), rs in groups.items():
        base = min(rs, key=lambda r: r["ranks"])
        for r in rs:
            if kind == "weak":
                # per neuron and rank: n is R n_1 exactly, except for grid2d (rounded to a square)
                r["efficiency"] = (base["t_rhs_ms"] / (base["neurons"] / base["ranks"])) / (r["t_rhs_ms"] / (r["neurons"] / r["ranks"]))
            else:  # strong (default): same n
                r["efficiency"] = base["t_rhs_ms"] * base["ranks"] / (r["t_rhs_ms"] * r["ranks"])
    return groups


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def write_csv(path, rows, columns):
    tmp = path + ".partial"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r.get(c)) for c in columns])
    os.replace(tmp, path)


def markdown(rows):
    head = ["kind", "case", "n", "ranks", "nodes", "RHS evals", "t_int (s)", "ms / RHS", "ms / product", "efficiency",
            "comm share", "reductions / product", "load avg", "labels"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        load = r.get("load_before")
        if load != "" and r.get("load_after") != "":
            load = f"{r['load_before']}–{r['load_after']}"
        out.append("| " + " | ".join([r["kind"], r["case"], str(r["neurons"]), str(r["ranks"]), str(r["nodes"]), str(r["rhs_evals"]),
                                      f"{r['t_int_s']:.3f}", f"{r['t_rhs_ms']:.3f}", f"{r.get('t_prod_ms', float('nan')):.3f}",
                                      f"{r['efficiency']:.2f}", f"{r.get('comm_share', float('nan')):.1%}",
                                      f"{r.get('reductions_per_product', float('nan')):.2f}", str(load), r["labels"]]) + " |")
    return "\n".join(out) + "\n"


def plot(path, groups):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    panels = [("t_rhs_ms", "time per RHS evaluation (ms)", True), ("t_int_s", "integration time, all trials (s)", True),
              ("efficiency", "parallel efficiency", False), ("comm_share", "communication share of Integrate", False)]
    for ax, (key, title, logy) in zip(axes.flat, panels):
        for (kind, case), rs in sorted(groups.items()):
            rs = sorted(rs, key=lambda r: r["ranks"])
            ys = [r.get(key, float("nan")) for r in rs]
            size = f"n/rank={rs[0]['neurons'] // rs[0]['ranks']}" if kind == "weak" else f"n={rs[0]['neurons']}"
            ax.plot([r["ranks"] for r in rs], ys, "o-", label=f"{kind}: {case} ({size})")
        ax.set_xscale("log", base=2)
        if logy:
            ax.set_yscale("log")
        if key == "efficiency":
            ax.axhline(1.0, color="grey", lw=0.8, ls="--")
            ax.set_ylim(bottom=0)
        if key == "comm_share":
            ax.set_ylim(0, 1)
        ax.set_xlabel("MPI ranks")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path + ".partial.png", dpi=110)
    plt.close(fig)
    os.replace(path + ".partial.png", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="directories with NAME.json (+ NAME.log_view, NAME.meta.json)")
    ap.add_argument("--out", default=None, help="output directory (default: the first RUNS_DIR's parent)")
    ap.add_argument("--kind", choices=["strong", "weak"], default=None,
                    help="kind of runs without a meta file (default: strong)")
    ap.add_argument("--model", action="store_true", help="also run scripts/scaling_model.py on these runs")
    ap.add_argument("--model-out", default=None)
    a, rest = ap.parse_known_args()
    runs = load_runs(a.runs)
    if not runs:
        sys.exit(f"scaling_report: error: no ratemem retrieve summaries (*.json) in {a.runs}")
    for r in runs:
        if not r["kind"]:
            r["kind"] = a.kind or "strong"
    runs = merge_repeats(runs)
    groups = add_efficiency(runs)
    runs.sort(key=lambda r: (r["kind"], r["case"], r["ranks"]))
    out = a.out or os.path.dirname(os.path.abspath(a.runs[0]))
    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "scaling.csv"), runs, COLUMNS)
    md = markdown(runs)
    with open(os.path.join(out, "scaling.md.partial"), "w") as f:
        f.write(md)
    os.replace(os.path.join(out, "scaling.md.partial"), os.path.join(out, "scaling.md"))
    plot(os.path.join(out, "scaling.png"), groups)
    print(md, end="")
    print(f"scaling_report: {len(runs)} runs -> {out}/scaling.csv, scaling.md, scaling.png")
    if a.model:
        sys.path.insert(0, HERE)
        import scaling_model
        return scaling_model.main(["--measured", os.path.join(out, "scaling.csv"), "--out", a.model_out or out] + rest)
    if rest:
        sys.exit(f"scaling_report: error: unknown arguments {rest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
