#!/usr/bin/python3
"""Scaling model: predicts the strong- and weak-scaling efficiency of `ratemem retrieve` on N nodes
from what one node measured (scripts/scaling_report.py's scaling.csv) and a stated interconnect.

Usage: scripts/scaling_model.py --measured scaling.csv [--out DIR] [--nodes 1,2,4,...,64]
         [--ranks-per-node R] [--latency-us 1.5] [--link-gbit 100] [--memories P]

Model of one RHS evaluation on N nodes with R ranks each. Its inputs are counts and sizes, which
the load of a shared machine does not change (the measured times are only compared with it):

  t(N) = w * M(N) / (f_s * B) + V * (n_N / N) / n_1 / B      node-local memory traffic
         + w * C(N)                                          inter-node traffic of the products
         + rho * A(N)                                        global reductions (latency)

  w      weight products per RHS evaluation (measured; ~1.9 for BDF: RHS + J·v);
  rho    global reductions per RHS evaluation (measured, PETSc-counted in the Integrate stage: the
         dot products and norms of the Newton-Krylov solve, plus the collective of the dense and
         low-rank products);
  V      bytes of the integrator's vector operations per RHS on one node: 12 bytes per vector flop
         (VecAXPY moves 24 bytes for 2 flops, VecDot 16 for 2), flops from -log_view (measured);
  B      memory bandwidth of one node: the STREAM-like triad of `ratemem bench` on this machine
         (--node-gbs; default 19.2 GB/s on 2 ranks, docs/benchmark.md, load average 0.84);
  f_s    the fraction of the triad bandwidth a product of that storage reaches (ratemem bench on
         this machine, 2 ranks, docs/benchmark.md): dense 1.2, aij 1.05, aij-diluted 0.68,
         compressed 0.41, lowrank 0.23 (session-3 kernels; the low-rank and compressed kernels do arithmetic per
         byte, so they run below the triad; --frac overrides);
  n_N    n for strong scaling, N * n_1 for weak scaling (n_1 = the study's n on one node);
  M(N)   bytes one node moves through memory for one product (the formulas of ratemem bench, per node):
           dense        8 n^2/N + 8 n R + 8 n/N        (its rows of W; x gathered on every rank; y)
           aij (K)      12 n K/N + 16 n/N + 8 g(N)     (values + column indices; x, y; ghost values)
           compressed   4 n K/N + 16 n/N + 8 g(N)
           lowrank      2 P n/8/N + 24 n/N             (bit-packed memories read twice; v twice, y)
  g(N)   ghost entries a node needs from other nodes per product, for K random inputs per neuron:
           n (1 - 1/N) (1 - exp(-K/N))   (each off-node column is hit by one of the node's n K/N
           synapses with probability 1 - exp(-K/N)); fully connected aij: n (1 - 1/N);
  C(N)   inter-node time of one product, 0 on one node:
           dense        8 n (N-1)/N / beta             (allgather of x; its latency is in rho)
           aij/compr.   min(N-1, n K/N) alpha + 8 g(N) / beta   (point-to-point ghost exchange)
           lowrank      8 (P+1) ceil(log2 N) / beta    (Allreduce of P+1 numbers; latency in rho)
  A(N)   one small Allreduce: ceil(log2 N) * (alpha + 8 / beta) (recursive doubling; 0 on one node;
         within a node it is part of the measured counts, not of the time model).
  alpha  = interconnect latency, beta = link bandwidth per node (one link per node, full bisection).

Efficiency: strong E(N) = t(1) / (N t(N)); weak E(N) = t(1) / t(N), both against one node.
Assumptions: every node is like this machine (its triad bandwidth, R ranks); a product runs at the
fraction f_s of the triad measured here at every size; no overlap of communication with computation;
intra-node messages cost nothing beyond memory traffic; the iteration counts do not change with N
(they do not: the tests check rank independence). Writes DIR/scaling_model.csv, scaling_model.md, scaling_model.png."""
import argparse
import csv
import math
import os
import sys


def num(v, default=float("nan")):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def ghosts(storage, n, K, N):
    if N <= 1:
        return 0.0
    if storage in ("aij", "compressed") and K > 0:
        return n * (1 - 1 / N) * (1 - math.exp(-K / N))
    return n * (1 - 1 / N)


def mem_bytes(storage, n, K, P, N, R):
    if storage == "dense":
        return 8 * n * n / N + 8 * n * R + 8 * n / N
    if storage == "aij":
        nnz = n * K if K > 0 else n * n
        return 12 * nnz / N + 16 * n / N + 8 * ghosts(storage, n, K, N)
    if storage == "compressed":
        return 4 * n * K / N + 16 * n / N + 8 * ghosts(storage, n, K, N)
    if storage == "lowrank":
        return 2 * P * n / 8 / N + 24 * n / N
    raise ValueError(f"unknown storage {storage}")


def comm_time(storage, n, K, P, N, alpha, beta):
    if N <= 1:
        return 0.0
    if storage == "dense":
        return 8 * n * (N - 1) / N / beta
    if storage in ("aij", "compressed"):
        nnz_node = n * (K if K > 0 else n) / N
        return min(N - 1, nnz_node) * alpha + 8 * ghosts(storage, n, K, N) / beta
    if storage == "lowrank":
        return 8 * (P + 1) * math.ceil(math.log2(N)) / beta
    raise ValueError(storage)


def allreduce(N, alpha, beta):
    return 0.0 if N <= 1 else math.ceil(math.log2(N)) * (alpha + 8 / beta)


FRAC = {"dense": 1.2, "aij": 1.05, "aij-diluted": 0.68, "compressed": 0.41, "lowrank": 0.23}


def predict(base, kind, nodes, R, alpha, beta, B, frac):
    """base: the measured one-node row (dict from scaling.csv). Returns rows per N."""
    storage, K, P = base["storage"], int(num(base["indegree"], 0)), int(num(base["memories"]))
    case = base["case"]
    f_s = frac.get(case, frac.get(storage + ("-diluted" if storage == "aij" and K > 0 else ""), frac.get(storage)))
    n1 = int(base["neurons"])
    rhs = num(base["rhs_evals"])
    w = num(base["weight_products"]) / rhs
    rho = num(base["reductions"]) / rhs
    V = 12 * num(base["vec_flops_per_rhs"])
    rows = []
    for N in nodes:
        nN = n1 if kind == "strong" else n1 * N
        t_prod = w * mem_bytes(storage, nN, K, P, N, R) / (f_s * B)
        t_vec = V * (nN / N) / n1 / B
        t_prod_comm = w * comm_time(storage, nN, K, P, N, alpha, beta)
        t_red = rho * allreduce(N, alpha, beta)
        t = t_prod + t_vec + t_prod_comm + t_red
        rows.append({"kind": kind, "case": case, "storage": storage, "indegree": K, "memories": P, "nodes": N,
                     "ranks": N * R, "neurons": nN, "t_rhs_ms": 1e3 * t, "t_products_ms": 1e3 * t_prod,
                     "t_vectors_ms": 1e3 * t_vec, "t_product_comm_ms": 1e3 * t_prod_comm, "t_reductions_ms": 1e3 * t_red,
                     "comm_share": (t_prod_comm + t_red) / t,
                     "ghosts_per_node": ghosts(storage, nN, K, N) if storage in ("aij", "compressed") else 0,
                     "bytes_per_node_per_product": mem_bytes(storage, nN, K, P, N, R), "w": w, "rho": rho,
                     "vec_bytes_per_rhs": V, "frac_of_triad": f_s, "measured_t_rhs_ms": num(base["t_rhs_ms"]),
                     "measured_load": base.get("load_before", "")})
    t_1 = rows[0]["t_rhs_ms"] if rows[0]["nodes"] == 1 else predict(base, kind, [1], R, alpha, beta, B, frac)[0]["t_rhs_ms"]
    for r in rows:
        r["efficiency"] = t_1 / (r["nodes"] * r["t_rhs_ms"]) if kind == "strong" else t_1 / r["t_rhs_ms"]
    return rows


COLUMNS = ["kind", "case", "storage", "indegree", "memories", "nodes", "ranks", "neurons", "t_rhs_ms", "t_products_ms",
           "t_vectors_ms", "t_product_comm_ms", "t_reductions_ms", "comm_share", "efficiency", "ghosts_per_node",
           "bytes_per_node_per_product", "w", "rho", "vec_bytes_per_rhs", "frac_of_triad", "measured_t_rhs_ms",
           "measured_load"]


def fmt(v):
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measured", required=True, help="scaling.csv of scripts/scaling_report.py")
    ap.add_argument("--out", default=None)
    ap.add_argument("--nodes", default="1,2,4,8,16,32,64")
    ap.add_argument("--ranks-per-node", type=int, default=None,
                    help="R (default: the largest rank count measured, i.e. one full node)")
    ap.add_argument("--latency-us", type=float, default=1.5)
    ap.add_argument("--link-gbit", type=float, default=100.0)
    ap.add_argument("--node-gbs", type=float, default=19.2, help="triad bandwidth of one node, GB/s (19.2)")
    ap.add_argument("--frac", default="", help="fraction of the triad per case/storage, e.g. lowrank=0.13,dense=1.2")
    a = ap.parse_args(argv)
    rows = list(csv.DictReader(open(a.measured)))
    if not rows:
        sys.exit("scaling_model: error: no measured rows")
    R = a.ranks_per_node or max(int(r["ranks"]) for r in rows)
    nodes = [int(x) for x in a.nodes.split(",")]
    alpha, beta = a.latency_us * 1e-6, a.link_gbit * 1e9 / 8
    B = a.node_gbs * 1e9
    frac = dict(FRAC)
    for item in filter(None, a.frac.split(",")):
        k, v = item.split("=")
        frac[k] = float(v)
    out_rows, bases = [], []
    for kind in ("strong", "weak"):
        for case in sorted({r["case"] for r in rows if r["kind"] == kind}):
            cand = [r for r in rows if r["kind"] == kind and r["case"] == case and int(r["ranks"]) == R]
            if not cand:
                print(f"scaling_model: no {R}-rank run for {kind} {case}; skipped", file=sys.stderr)
                continue
            base = cand[0]
            if math.isnan(num(base.get("vec_flops_per_rhs"))) or math.isnan(num(base.get("reductions"))):
                print(f"scaling_model: {kind} {case} has no -log_view data; skipped", file=sys.stderr)
                continue
            bases.append(base)
            out_rows += predict(base, kind, nodes, R, alpha, beta, B, frac)
    if not out_rows:
        sys.exit("scaling_model: error: nothing to model")
    out = a.out or os.path.dirname(os.path.abspath(a.measured))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "scaling_model.csv")
    with open(path + ".partial", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(COLUMNS)
        for r in out_rows:
            wr.writerow([fmt(r[c]) for c in COLUMNS])
    os.replace(path + ".partial", path)
    md = [f"Interconnect: latency {a.latency_us} µs, {a.link_gbit:g} Gb/s per node; node: {R} ranks, triad "
          f"{a.node_gbs:g} GB/s (this machine).", ""]
    head = ["kind", "case", "n (1 node)", "w", "ρ", "vector MB/RHS", "f_s", "model ms/RHS (1 node)",
            "measured ms/RHS (1 node, load)"] + [f"E({N})" for N in nodes]
    md += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for base in bases:
        rs = [r for r in out_rows if r["kind"] == base["kind"] and r["case"] == base["case"]]
        r0 = rs[0]
        md.append("| " + " | ".join([base["kind"], base["case"], base["neurons"], f"{r0['w']:.2f}", f"{r0['rho']:.1f}",
                                      f"{r0['vec_bytes_per_rhs'] / 1e6:.2f}", f"{r0['frac_of_triad']:.2f}",
                                      f"{r0['t_rhs_ms']:.3g}",
                                      f"{r0['measured_t_rhs_ms']:.3g} ({r0['measured_load']})"] +
                          [f"{r['efficiency']:.2f}" for r in rs]) + " |")
    md.append("")
    md.append("Communication share of the predicted time per RHS at " + ", ".join(f"N = {N}" for N in nodes[-2:]) + ":")
    md.append("")
    for base in bases:
        rs = [r for r in out_rows if r["kind"] == base["kind"] and r["case"] == base["case"]][-2:]
        md.append(f"* {base['kind']} {base['case']}: " + ", ".join(f"{r['comm_share']:.0%} (N = {r['nodes']}, "
                                                                    f"{r['t_rhs_ms']:.3g} ms/RHS)" for r in rs))
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "scaling_model.md.partial"), "w") as f:
        f.write(text)
    os.replace(os.path.join(out, "scaling_model.md.partial"), os.path.join(out, "scaling_model.md"))
    plot(os.path.join(out, "scaling_model.png"), rows, out_rows, bases, R, a)
    print(text, end="")
    print(f"scaling_model: -> {out}/scaling_model.csv, scaling_model.md, scaling_model.png")
    return 0


def plot(path, measured, model, bases, R, a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    colors = {}
    for j, kind in enumerate(("strong", "weak")):
        for base in [b for b in bases if b["kind"] == kind]:
            c = colors.setdefault(base["case"], f"C{len(colors)}")
            rs = [r for r in model if r["kind"] == kind and r["case"] == base["case"]]
            ms = sorted([r for r in measured if r["kind"] == kind and r["case"] == base["case"]], key=lambda r: int(r["ranks"]))
            ax = axes[0, j]
            ax.plot([r["ranks"] for r in rs], [r["t_rhs_ms"] for r in rs], "-", color=c, label=f"{base['case']} model")
            ax.plot([int(r["ranks"]) for r in ms], [num(r["t_rhs_ms"]) for r in ms], "o", color=c,
                    label=f"{base['case']} measured")
            axes[1, j].plot([r["nodes"] for r in rs], [r["efficiency"] for r in rs], "o-", color=c, label=base["case"])
        axes[0, j].set_xscale("log", base=2)
        axes[0, j].set_yscale("log")
        axes[0, j].set_xlabel(f"MPI ranks ({R} per node)")
        axes[0, j].set_ylabel("time per RHS evaluation (ms)")
        axes[0, j].set_title(f"{kind} scaling: measured (1 node) and modelled", fontsize=10)
        axes[1, j].set_xscale("log", base=2)
        axes[1, j].set_ylim(0, 1.1)
        axes[1, j].axhline(1, color="grey", lw=0.8, ls="--")
        axes[1, j].set_xlabel("nodes")
        axes[1, j].set_ylabel("predicted parallel efficiency")
        axes[1, j].set_title(f"{kind}: {a.latency_us} µs, {a.link_gbit:g} Gb/s per node", fontsize=10)
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path + ".partial.png", dpi=110)
    plt.close(fig)
    os.replace(path + ".partial.png", path)


if __name__ == "__main__":
    sys.exit(main())
