#!/usr/bin/python3
"""Scaling model: predicts the time per RHS evaluation, the communication share and the strong- and
weak-scaling efficiency of `ratemem retrieve` on N nodes from the runs of a scaling study
(scripts/scaling_report.py's scaling.csv) and the link's latency and bandwidth.

Usage: scripts/scaling_model.py --measured scaling.csv [--out DIR] [--nodes 1,2,4,...,64]
         [--ranks-per-node R] [--latency-us A --link-gbit G | --pingpong-file FILE]
         [--shared-cores C] [--sync-delay none|probe|fit] [--variant CASE:KEY=VALUE[;KEY=VALUE]]
         [--no-calibrate | --calibrate-on OTHER.csv,...] [--node-gbs B]
       scripts/scaling_model.py --pingpong-only [--pingpong-save FILE]

The link. Without --latency-us/--link-gbit (both, measured elsewhere) or --pingpong-file (a saved
output of scripts/pingpong.c), the script measures the link itself: it compiles scripts/pingpong.c
with mpicc and runs it between two nodes of the emulated cluster of scripts/cluster_local.sh: the
cluster of $RATEMEM_CLUSTER_DIR when its nodes n1 and n2 are up (as they are shaped), else a 2-node
cluster of its own in a temporary directory (private net --pingpong-net, links capped at
--pingpong-shape RATE when given), which it brings down again. alpha = the median half round trip
of an 8-byte message (--latency-stat mean: the mean, which on a shared machine includes the
scheduling delays); beta = the slope between the 1 MB and 16 MB messages (bytes per second).
--pingpong-save FILE keeps the ping-pong's output.

Model of one RHS evaluation on N nodes with R ranks each. The base of a case (kind, storage
options) is its run on one node (the most ranks measured on one node); its counts do not depend on
the load of a shared machine:

  t(N) = c * s(N) * [ w M(N) / (f_s B) + V (n_N / N) / n_1 / B ]   node-local memory traffic
         + w C(N)                                                  inter-node traffic of the products
         + rho A(N)                                                global reductions

  w      weight products per RHS evaluation (the base run's; ~1.9 for BDF with SPGMR: RHS + J·v);
  rho    global reductions per RHS evaluation (PETSc-counted in the Integrate stage; PETSc counts
         none on one rank, so it comes from the case's runs on more ranks);
  V      bytes of the integrator's vector operations per RHS on one node: 12 bytes per vector flop
         (VecAXPY moves 24 bytes for 2 flops, VecDot 16 for 2), flops from -log_view;
  B, f_s the node's triad bandwidth (--node-gbs, 19.2 GB/s: this machine, 2 ranks, docs/benchmark.md)
         and the fraction of it a product of that storage reaches (--frac; docs/benchmark.md);
  c      calibration: the base run's measured time per RHS over the model's (so the base point has no
         error by construction and the other points test the scaling terms); --no-calibrate: c = 1;
  s(N)   CPU sharing, with --shared-cores C (emulated nodes that share C physical cores):
         ceil(N R / C) / ceil(R_base / C), at least 1: the ranks synchronise many times per RHS, so a
         superstep waits for the last of ceil(N R / C) rounds of ranks; 1 without it (own cores per node);
  n_N    the run's n (strong: n_1; weak: N n_1, grid2d rounded to a square);
  M(N)   bytes one node moves through memory for one product (the formulas of ratemem bench, per node):
           dense        8 n^2/N + 8 n R + 8 n/N        (its rows of W; x gathered on every rank; y)
           aij (K)      12 n K/N + 16 n/N + 8 g(N)     (values + column indices; x, y; ghost values)
           spatial      12 n K/N + 16 n/N + 8 g(N)     (MATAIJ)
           compressed   4 n K/N + 16 n/N + 4 g(N)          (single-precision ghosts)
           lowrank      2 P n/8/N + 24 n/N             (bit-packed memories read twice; v twice, y)
  g(N)   ghost entries a node needs from other nodes per product, 0 on one node:
           aij, compressed: K random inputs per neuron: n (1 - 1/N) (1 - exp(-K/N)) (each off-node
             column is hit by one of the node's n K/N synapses with probability 1 - exp(-K/N));
             fully connected: n (1 - 1/N);
           spatial ring: the 2 r neurons beside the node's arc (r = -radius, default ceil(K/2)), plus
             the rewired inputs, K p random ones per neuron: n (1 - 1/N) (1 - exp(-K p/N));
           spatial grid2d: the 2 r rows beside the node's band, 2 r (sqrt(n) + 1) neurons (r = -radius,
             default the smallest with (2r+1)^2 - 1 >= K), plus the rewired ones as for the ring;
           (both capped at n (1 - 1/N)); spatial random: as aij;
  C(N)   inter-node time of one product, 0 on one node (m(N) messages of latency alpha, then bytes / beta):
           dense        (N-1) alpha + 8 n (N-1)/N / beta          (x gathered from every other node)
           aij/compr.   min(N-1, n K/N) alpha + b g(N) / beta     (point-to-point ghost exchange; b = 8,
                        compressed 4; compressed overlaps it with the product of its owned columns,
                        so it costs only what exceeds 1/N of the product, and its w exchanges are
                        not counted as synchronisations)
           spatial      min(N-1, 2 + n K p/N) alpha + 8 g(N) / beta   (the arc's or band's 2 neighbours,
                        and the nodes the rewired inputs reach)
           lowrank      8 (P+1) k(N) / beta                       (Allreduce of P+1 numbers; its
                        latency is one of the rho reductions)
  A(N)   one small Allreduce: k(N) (alpha + 8 / beta), with k(N) the steps of Open MPI's recursive
         doubling: floor(log2 N), plus 2 when N is not a power of two (the extra ranks first send to
         a partner and get the result back); 0 on one node.

Efficiency: strong E(N) = t(1) / (N t(N)); weak E(N) = t(1) / t(N) (per neuron and node), against
one node. Assumptions: no overlap of communication with computation (except the compressed
storage's ghost exchange); intra-node messages cost
nothing beyond memory traffic; one link per node, full bisection; the iteration counts do not change
with N (the tests check rank independence). Writes DIR/scaling_model.{csv,md,png} (the prediction
for --nodes) and, for every measured run, DIR/scaling_model_check.{csv,md} (model against
measurement, error per point)."""
import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FRAC = {"dense": 1.2, "aij": 1.05, "aij-diluted": 0.68, "compressed": 0.41, "lowrank": 0.23, "spatial": 0.68}


def num(v, default=float("nan")):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


# --- the link: a ping-pong between two emulated nodes ---------------------------------------------

def parse_pingpong(text):
    """{alpha, alpha_mean, beta, sync_wait, hosts} from scripts/pingpong.c's output: the median and mean
    8-byte half round trip (s), the slope between 1 MB and 16 MB (B/s), the mean wait of an 8-byte
    exchange after work on both ranks (s; None in outputs of older versions)"""
    pts, means, hosts, sync = {}, {}, "", None
    for line in text.splitlines():
        m = re.match(r"^ping-pong (\S+) <-> (\S+):", line)
        if m:
            hosts = f"{m.group(1)}-{m.group(2)}"
        m = re.match(r"^\s*(\d+)\s+([0-9.eE+-]+)\s+([0-9.eE+-]+)(\s+([0-9.eE+-]+))?\s*$", line)
        if m:
            pts[int(m.group(1))] = float(m.group(2)) * 1e-6
            if m.group(5):
                means[int(m.group(1))] = float(m.group(5)) * 1e-6
        m = re.match(r"^sync after work: median wait ([0-9.eE+-]+) usec, mean wait ([0-9.eE+-]+) usec", line)
        if m:
            sync = float(m.group(2)) * 1e-6
    if 8 not in pts or (1 << 20) not in pts or (16 << 20) not in pts:
        raise ValueError(f"not a ping-pong output (needs the 8 B, 1 MB and 16 MB rows): {text[:200]!r}")
    dt = pts[16 << 20] - pts[1 << 20]
    if dt <= 0:
        raise ValueError(f"ping-pong: 16 MB took no longer than 1 MB ({pts[16 << 20]} s vs {pts[1 << 20]} s)")
    return {"alpha": pts[8], "alpha_mean": means.get(8, pts[8]), "beta": (15 << 20) / dt, "sync_wait": sync,
            "hosts": hosts}


def run_pingpong(args):
    """Runs scripts/pingpong.c between n1 and n2 of an emulated cluster; returns its output."""
    cl = os.path.join(REPO, "scripts", "cluster_local.sh")
    src = os.path.join(REPO, "scripts", "pingpong.c")
    if not shutil.which("mpicc"):
        sys.exit("scaling_model: error: mpicc not found (needed to build scripts/pingpong.c; or pass "
                 "--latency-us and --link-gbit, or --pingpong-file)")
    env = dict(os.environ)
    cdir = env.get("RATEMEM_CLUSTER_DIR", "/tmp/ratemem-cluster")
    own = None
    st = subprocess.run(["bash", cl, "status"], env=env, capture_output=True, text=True)
    up = st.returncode == 0 and all(re.search(rf"^n{i} \S+ holder", st.stdout, re.M) for i in (1, 2))
    try:
        if not up:
            own = tempfile.mkdtemp(prefix="rm-pingpong-", dir="/tmp")
            cdir = os.path.join(own, "cluster")
            env.update(RATEMEM_CLUSTER_DIR=cdir, RATEMEM_CLUSTER_NODES="2", RATEMEM_CLUSTER_NET=args.pingpong_net)
            env.pop("RATEMEM_CLUSTER_SLOTS", None)
            r = subprocess.run(["bash", cl, "up"], env=env, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"scaling_model: error: cannot start a 2-node cluster for the ping-pong: {r.stderr.strip()}")
            if args.pingpong_shape:
                for node in ("n1", "n2"):
                    r = subprocess.run(["bash", cl, "shape", node, args.pingpong_shape], env=env, capture_output=True, text=True)
                    if r.returncode != 0:
                        sys.exit(f"scaling_model: error: shape {node} {args.pingpong_shape}: {r.stderr.strip()}")
        elif args.pingpong_shape:
            sys.exit("scaling_model: error: --pingpong-shape is for the script's own cluster; the cluster of "
                     f"{cdir} is up (shape it with scripts/cluster_local.sh shape)")
        exe = os.path.join(cdir, "pingpong")  # the cluster's directory: every node sees it
        r = subprocess.run(["mpicc", "-O2", "-o", exe, src], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"scaling_model: error: mpicc scripts/pingpong.c failed: {r.stderr.strip()}")
        r = subprocess.run(["bash", cl, "mpirun", "-n", "2", "--map-by", "node", exe], env=env,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            sys.exit(f"scaling_model: error: the ping-pong failed ({r.returncode}): {r.stderr.strip()[-400:]}")
        return r.stdout
    finally:
        if own:
            subprocess.run(["bash", cl, "down"], env=env, capture_output=True, text=True)
            shutil.rmtree(own, ignore_errors=True)


def link(args):
    """(alpha s, beta B/s, sync delay s, description) from the options or ping-pongs"""
    if (args.latency_us is None) != (args.link_gbit is None):
        sys.exit("scaling_model: error: give both --latency-us and --link-gbit (or neither: the script measures them)")
    if args.latency_us is not None:
        if args.latency_us < 0 or args.link_gbit <= 0:
            sys.exit("scaling_model: error: --latency-us must be >= 0 and --link-gbit > 0")
        if args.sync_delay == "probe":
            sys.exit("scaling_model: error: --sync-delay probe needs a ping-pong (not --latency-us/--link-gbit)")
        return args.latency_us * 1e-6, args.link_gbit * 1e9 / 8, 0.0, f"given: {args.latency_us:g} µs, {args.link_gbit:g} Gbit/s"
    texts = []
    if args.pingpong_file:  # several files (comma-separated, repeated ping-pongs): the medians
        for path in args.pingpong_file.split(","):
            try:
                texts.append((path, open(path).read()))
            except OSError as e:
                sys.exit(f"scaling_model: error: cannot read the ping-pong file {path}: {e.strerror}")
        src = f"median of {len(texts)} ping-pong(s)"
    else:
        texts.append(("ping-pong", run_pingpong(args)))
        src = "ping-pong run by the script"
        if args.pingpong_save:
            with open(args.pingpong_save + ".partial", "w") as f:
                f.write(texts[0][1])
            os.replace(args.pingpong_save + ".partial", args.pingpong_save)
    pps = []
    for path, text in texts:
        try:
            pps.append(parse_pingpong(text))
        except ValueError as e:
            sys.exit(f"scaling_model: error: {path}: {e}")

    def med(key):
        v = sorted(p[key] for p in pps if p[key] is not None)
        return v[(len(v) - 1) // 2] if v else None
    alpha, beta = med("alpha_mean" if args.latency_stat == "mean" else "alpha"), med("beta")
    delay = 0.0
    if args.sync_delay == "probe":
        w = med("sync_wait")
        if w is None:
            sys.exit("scaling_model: error: --sync-delay probe: the ping-pong output has no 'sync after work' line "
                     "(an older scripts/pingpong.c)")
        delay = max(0.0, w - alpha)
    desc = (f"{src} ({pps[0]['hosts']}): {args.latency_stat} latency {alpha * 1e6:.1f} µs, {beta * 8 / 1e9:.3g} Gbit/s "
            f"({beta / 1e6:.0f} MB/s)")
    if len(pps) > 1:
        desc += (f" [ranges {min(p['alpha'] for p in pps) * 1e6:.1f}–{max(p['alpha'] for p in pps) * 1e6:.1f} µs, "
                 f"{min(p['beta'] for p in pps) / 1e6:.0f}–{max(p['beta'] for p in pps) / 1e6:.0f} MB/s]")
    if args.sync_delay == "probe":
        desc += f"; wait of a synchronisation after work {med('sync_wait') * 1e6:.0f} µs"
    return alpha, beta, delay, desc


# --- the model ------------------------------------------------------------------------------------

def steps(N):
    if N <= 1:
        return 0
    k = int(math.floor(math.log2(N) + 1e-12))
    return k + (0 if 2 ** k == N else 2)


def spatial_radius(c):
    if c["radius"] > 0:
        return c["radius"]
    K = c["K"]
    if c["conn"] == "grid2d":
        r = 1
        while (2 * r + 1) ** 2 - 1 < K:
            r += 1
        return r
    return math.ceil(K / 2)


def ghosts(c, n, N):
    if N <= 1:
        return 0.0
    full = n * (1 - 1 / N)
    K, st = c["K"], c["storage"]
    if st in ("aij", "compressed") or (st == "spatial" and c["conn"] == "random"):
        return full * (1 - math.exp(-K / N)) if K > 0 else full
    if st == "spatial":
        r = spatial_radius(c)
        edge = 2 * r if c["conn"] == "ring" else 2 * r * (math.sqrt(n) + 1)
        return min(full, edge + full * (1 - math.exp(-K * c["p"] / N)))
    return full


def messages(c, n, N):
    if N <= 1:
        return 0.0
    K, st = c["K"], c["storage"]
    if st == "dense":
        return N - 1
    if st == "spatial" and c["conn"] != "random":
        return min(N - 1, 2 + n * K * c["p"] / N)
    nnz = n * (K if K > 0 else n) / N
    return min(N - 1, nnz)


def mem_bytes(c, n, N, R):
    st, K, P = c["storage"], c["K"], c["P"]
    if st == "dense":
        return 8 * n * n / N + 8 * n * R + 8 * n / N
    if st in ("aij", "spatial"):
        nnz = n * K if K > 0 else n * n
        return 12 * nnz / N + 16 * n / N + 8 * ghosts(c, n, N)
    if st == "compressed":
        return 4 * n * K / N + 16 * n / N + ghost_bytes(c) * ghosts(c, n, N)
    if st == "lowrank":
        return 2 * P * n / 8 / N + 24 * n / N
    raise ValueError(f"unknown storage {st}")


def ghost_bytes(c):
    """bytes one ghost value travels in: the compressed storage sends floats (its kernel reads x in
    single precision, -compressed_ghost_precision single, the default), the others doubles"""
    return 4 if c["storage"] == "compressed" else 8


def overlapped(c):
    """the compressed storage overlaps its ghost exchange with the product of its owned columns
    (-compressed_ghost_overlap, on by default); the MATAIJ storages finish the scatter first here"""
    return c["storage"] == "compressed"


def comm_time(c, n, N, alpha, beta):
    if N <= 1:
        return 0.0
    st = c["storage"]
    if st == "dense":
        return messages(c, n, N) * alpha + 8 * n * (N - 1) / N / beta
    if st in ("aij", "compressed", "spatial"):
        return messages(c, n, N) * alpha + ghost_bytes(c) * ghosts(c, n, N) / beta
    if st == "lowrank":
        return 8 * (c["P"] + 1) * steps(N) / beta
    raise ValueError(st)


def allreduce(N, alpha, beta):
    return steps(N) * (alpha + 8 / beta)


def case_of(base, rows, frac):
    """the model's inputs of a case, from its one-node base run (and rho from its multi-rank runs)"""
    st, K = base["storage"], int(num(base["indegree"], 0))
    conn = base.get("connectivity") or ("ring" if st == "spatial" else "")
    name = base["case"]
    f_s = frac.get(name, frac.get(st + ("-diluted" if st == "aij" and K > 0 else ""), frac.get(st)))
    rhs = num(base["rhs_evals"])
    rho = num(base.get("reductions"), 0) / rhs
    if not rho > 0:  # PETSc counts no reductions on one rank: take them from the case's runs on more
        more = [r for r in rows if r["case"] == name and int(r["ranks"]) > 1 and num(r.get("reductions"), 0) > 0]
        more.sort(key=lambda r: (r["kind"] != base["kind"], -int(r["ranks"])))
        rho = num(more[0]["reductions"]) / num(more[0]["rhs_evals"]) if more else 0.0
    return {"case": name, "kind": base["kind"], "storage": st, "K": K, "P": int(num(base["memories"])), "conn": conn,
            "p": num(base.get("rewire"), 0.0), "radius": int(num(base.get("radius"), 0)), "f_s": f_s,
            "n1": int(base["neurons"]), "R1": int(base["ranks"]), "w": num(base["weight_products"]) / rhs, "rho": rho,
            "V": 12 * num(base["vec_flops_per_rhs"]), "measured_t_rhs_ms": num(base["t_rhs_ms"]),
            "load": base.get("load_before", ""), "c": 1.0}


def syncs(c, N):
    """synchronisations per RHS evaluation across nodes: each product's exchange (lowrank: its
    Allreduce is one of the rho reductions) and the reductions"""
    if N <= 1:
        return 0.0
    # lowrank's Allreduce is one of the rho reductions; an overlapped exchange is waited for only
    # after the owned columns' product, which the model takes to cover the partner's lateness
    return (c["w"] if c["storage"] != "lowrank" and not overlapped(c) else 0.0) + c["rho"]


def cpu_share(ranks, base_ranks, cores):
    """How much longer a rank's compute takes when `ranks` ranks share `cores` cores, against the
    base run. The ranks synchronise 7-14 times per RHS evaluation, and the work between two
    synchronisations (well under a millisecond) is shorter than the scheduler's time slice, so a
    superstep ends only when the last rank has done its share: with 3 ranks on 2 cores two run and
    the third runs after them, 2 rounds of one rank's work (ceil(ranks / cores)), not the 1.5 that a
    fair share of the CPU time would give. 1 without --shared-cores."""
    if not cores:
        return 1.0
    return max(1, math.ceil(ranks / cores)) / max(1, math.ceil(base_ranks / cores))


def predict(c, N, R, n, alpha, beta, B, cores, delay=0.0):
    t_prod = c["w"] * mem_bytes(c, n, N, R) / (c["f_s"] * B)
    t_vec = c["V"] * (n / N) / c["n1"] / B
    share = cpu_share(N * R, c["R1"], cores)
    t_comp = c["c"] * share * (t_prod + t_vec)
    t_pc = c["w"] * comm_time(c, n, N, alpha, beta)
    if overlapped(c) and N > 1:  # hidden behind the owned columns' product, about 1/N of each product
        t_pc = max(0.0, t_pc - c["c"] * share * t_prod / N)
    t_red = c["rho"] * allreduce(N, alpha, beta)
    t_sync = syncs(c, N) * delay * share  # more ranks than cores: the partner is descheduled more often
    t = t_comp + t_pc + t_red + t_sync
    return {"t_rhs_ms": 1e3 * t, "t_compute_ms": 1e3 * t_comp, "t_product_comm_ms": 1e3 * t_pc,
            "t_reductions_ms": 1e3 * t_red, "t_sync_delay_ms": 1e3 * t_sync, "comm_ms": 1e3 * (t_pc + t_red + t_sync),
            "comm_share": (t_pc + t_red + t_sync) / t, "syncs_per_rhs": syncs(c, N),
            "cpu_share": share, "ghosts_per_node": ghosts(c, n, N) if c["storage"] != "lowrank" else 0.0,
            "messages_per_product": messages(c, n, N) if c["storage"] != "lowrank" else 0.0,
            "bytes_per_node_per_product": mem_bytes(c, n, N, R)}


def excess_load(r, cores):
    """runnable processes per core beyond one during a run, from its load averages (0 if unknown)"""
    lo = [num(r.get("load_before")), num(r.get("load_after"))]
    lo = [x for x in lo if not math.isnan(x)]
    if not cores or not lo:
        return 0.0
    return max(0.0, sum(lo) / len(lo) / cores - 1)


def calibrate(c, alpha, beta, B, cores, enabled, repeats=()):
    """c = measured / modelled one-node time; with repeats (the same one-node run in other studies,
    e.g. under other link shapes, which a one-node run does not use) the median of all of them"""
    raw = predict(c, 1, c["R1"], c["n1"], alpha, beta, B, cores)["t_rhs_ms"]
    c["uncalibrated_t_rhs_ms"] = raw
    ts = sorted([c["measured_t_rhs_ms"]] + [t for t in repeats if t > 0])
    c["calibration_runs"] = len(ts)
    if enabled and ts[0] > 0:
        c["c"] = ts[(len(ts) - 1) // 2] / raw


EXT_COLUMNS = ["kind", "case", "storage", "indegree", "connectivity", "rewire", "memories", "nodes", "ranks", "neurons",
               "t_rhs_ms", "t_compute_ms", "t_product_comm_ms", "t_reductions_ms", "comm_share", "efficiency",
               "ghosts_per_node", "messages_per_product", "bytes_per_node_per_product", "w", "rho", "vec_bytes_per_rhs",
               "frac_of_triad", "calibration", "uncalibrated_t_rhs_ms", "measured_t_rhs_ms", "measured_load",
               "latency_us", "link_gbit"]
CHECK_COLUMNS = ["kind", "case", "storage", "nodes", "ranks", "neurons", "measured_t_rhs_ms", "model_t_rhs_ms", "error",
                 "measured_comm_ms", "model_comm_ms", "measured_comm_share", "model_comm_share", "cpu_share",
                 "measured_ghost_bytes", "model_ghost_bytes", "measured_messages", "excess_load", "model_sync_delay_ms", "fitted", "sync_delay_us", "ghosts_per_node", "messages_per_product", "load_before", "load_after", "latency_us", "link_gbit", "name"]


def fmt(v):
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def write_csv(path, rows, cols):
    with open(path + ".partial", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(cols)
        for r in rows:
            wr.writerow([fmt(r.get(k, "")) for k in cols])
    os.replace(path + ".partial", path)


def write_text(path, text):
    with open(path + ".partial", "w") as f:
        f.write(text)
    os.replace(path + ".partial", path)


def apply_variant(c, spec):
    """CASE:KEY=VALUE;KEY=VALUE -> a copy of case c with those inputs (indegree, rewire, radius, memories)"""
    _, kv = spec.split(":", 1)
    v = dict(c)
    tags = []
    for item in filter(None, kv.split(";")):
        k, val = item.split("=", 1)
        key = {"indegree": "K", "rewire": "p", "radius": "radius", "memories": "P", "neurons": "n1"}.get(k)
        if key is None:
            sys.exit(f"scaling_model: error: --variant key '{k}' is not one of indegree, rewire, radius, memories, neurons")
        try:
            v[key] = float(val) if key == "p" else int(val)
        except ValueError:
            sys.exit(f"scaling_model: error: --variant {k}={val} is not a number")
        if key == "n1":  # n on one node (strong: n; weak: n per node); the vector bytes scale with it
            v["V"] = c["V"] * v["n1"] / c["n1"]
        tags.append(f"{k}={val}")
    v["case"] = f"{c['case']}[{','.join(tags)}]"
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measured", help="scaling.csv of scripts/scaling_report.py")
    ap.add_argument("--out", default=None)
    ap.add_argument("--nodes", default="1,2,4,8,16,32,64")
    ap.add_argument("--ranks-per-node", type=int, default=None,
                    help="R of the prediction for --nodes (default: the base run's ranks, i.e. one full node)")
    ap.add_argument("--latency-us", type=float, default=None, help="link latency in µs (with --link-gbit: no ping-pong)")
    ap.add_argument("--link-gbit", type=float, default=None, help="link bandwidth in Gbit/s (with --latency-us)")
    ap.add_argument("--pingpong-file", default=None,
                    help="saved outputs of scripts/pingpong.c (comma-separated: the median) instead of running it")
    ap.add_argument("--pingpong-save", default=None, help="write the ping-pong's output here")
    ap.add_argument("--pingpong-only", action="store_true", help="measure the link, print alpha and beta, stop")
    ap.add_argument("--latency-stat", choices=["median", "mean"], default="median",
                    help="alpha = the median (default) or the mean 8-byte half round trip of the ping-pong; on a shared "
                         "machine the mean includes the scheduling delays every synchronisation of a run pays")
    ap.add_argument("--pingpong-net", default="10.216.0", help="private /24 of the script's own 2-node cluster")
    ap.add_argument("--pingpong-shape", default="", help="cap the script's own cluster's links (a tc rate, e.g. 1gbit)")
    ap.add_argument("--node-gbs", type=float, default=19.2, help="triad bandwidth of one node, GB/s (19.2)")
    ap.add_argument("--frac", default="", help="fraction of the triad per case/storage, e.g. lowrank=0.13,dense=1.2")
    ap.add_argument("--shared-cores", type=int, default=0,
                    help="the emulated nodes share this many physical cores (compute slows beyond them); 0: own cores")
    ap.add_argument("--sync-delay", choices=["none", "probe", "fit"], default="none",
                    help="shared machine: a delay per cross-node synchronisation (each product's exchange and each "
                         "reduction): none; probe = the ping-pong's wait after work minus its latency; fit = least "
                         "squares on the communication time of the multi-node runs of --fit-on")
    ap.add_argument("--sync-delay-us", type=float, default=None, help="that delay, given (µs)")
    ap.add_argument("--fit-on", default="strong", help="kinds the delay is fitted on (strong; strong,weak)")
    ap.add_argument("--calibrate-on", default="",
                    help="other scaling.csv files whose one-node runs repeat this study's: calibrate on the median of all")
    ap.add_argument("--no-calibrate", action="store_true", help="do not scale the compute time to the base run's")
    ap.add_argument("--variant", action="append", default=[],
                    help="CASE:KEY=VALUE[;KEY=VALUE]: also predict CASE with other inputs (indegree, rewire, radius, memories, "
                         "neurons = n on one node)")
    a = ap.parse_args(argv)
    if a.pingpong_only:
        alpha, beta, delay, desc = link(a)
        print(f"scaling_model: link {desc}")
        print(f"latency_us {alpha * 1e6:.3f}\nlink_gbit {beta * 8 / 1e9:.4f}")
        return 0
    if not a.measured:
        sys.exit("scaling_model: error: --measured scaling.csv is needed (or --pingpong-only)")
    try:
        rows = list(csv.DictReader(open(a.measured)))
    except OSError as e:
        sys.exit(f"scaling_model: error: cannot read {a.measured}: {e.strerror}")
    if not rows:
        sys.exit("scaling_model: error: no measured rows")
    if a.shared_cores < 0:
        sys.exit("scaling_model: error: --shared-cores must be >= 0")
    try:
        nodes = [int(x) for x in a.nodes.split(",")]
        assert nodes and all(N >= 1 for N in nodes)
    except (ValueError, AssertionError):
        sys.exit(f"scaling_model: error: --nodes '{a.nodes}' is not a list of positive integers")
    alpha, beta, probe_delay, desc = link(a)
    B = a.node_gbs * 1e9
    frac = dict(FRAC)
    for item in filter(None, a.frac.split(",")):
        k, v = item.split("=")
        frac[k] = float(v)
    for r in rows:  # scaling.csv files from before the nodes column: all on one node
        if not r.get("nodes"):
            r["nodes"] = "1"
    extra = []
    for path in filter(None, a.calibrate_on.split(",")):
        try:
            extra += list(csv.DictReader(open(path)))
        except OSError as e:
            sys.exit(f"scaling_model: error: cannot read --calibrate-on {path}: {e.strerror}")
    cases = []
    for kind in ("strong", "weak"):
        for name in sorted({r["case"] for r in rows if r["kind"] == kind}):
            one = [r for r in rows if r["kind"] == kind and r["case"] == name and int(r["nodes"]) == 1]
            if not one:
                print(f"scaling_model: no one-node run for {kind} {name}; skipped", file=sys.stderr)
                continue
            base = max(one, key=lambda r: int(r["ranks"]))
            if math.isnan(num(base.get("vec_flops_per_rhs"))) or math.isnan(num(base.get("reductions"))):
                print(f"scaling_model: {kind} {name} has no -log_view data; skipped", file=sys.stderr)
                continue
            c = case_of(base, rows, frac)
            reps = [num(r["t_rhs_ms"]) for r in extra if r["kind"] == kind and r["case"] == name and
                    int(r.get("nodes") or 1) == 1 and int(r["ranks"]) == int(base["ranks"]) and r["neurons"] == base["neurons"]]
            calibrate(c, alpha, beta, B, a.shared_cores, not a.no_calibrate, reps)
            cases.append(c)
    if not cases:
        sys.exit("scaling_model: error: nothing to model")
    for spec in a.variant:
        name = spec.split(":", 1)[0]
        match = [c for c in cases if c["case"] == name]
        if ":" not in spec or not match:
            sys.exit(f"scaling_model: error: --variant '{spec}': no measured case '{name}' (cases: "
                     f"{', '.join(sorted({c['case'] for c in cases}))})")
        for c in match:
            v = apply_variant(c, spec)
            # the node's speed (the calibration) is the base's; the rest is recomputed for the new inputs
            v["uncalibrated_t_rhs_ms"] = predict(dict(v, c=1.0), 1, v["R1"], v["n1"], alpha, beta, B, a.shared_cores)["t_rhs_ms"]
            v["measured_t_rhs_ms"], v["load"] = float("nan"), "variant, not measured"
            cases.append(v)
    out = a.out or os.path.dirname(os.path.abspath(a.measured))
    os.makedirs(out, exist_ok=True)
    lat_us, gbit = alpha * 1e6, beta * 8 / 1e9

    # 1. every measured run against the model
    def case_for(r):
        return next((c for c in cases if c["kind"] == r["kind"] and c["case"] == r["case"]), None)

    # the delay per synchronisation on a shared machine: given, or fitted on the --fit-on runs
    gain, fitted = probe_delay, ""
    if a.sync_delay_us is not None:
        gain = a.sync_delay_us * 1e-6
    if a.sync_delay == "fit":
        sxy = sxx = 0.0
        for r in rows:
            c = case_for(r)
            N = int(r["nodes"])
            if c is None or N <= 1 or r["kind"] not in a.fit_on.split(","):
                continue
            p0 = predict(c, N, max(1, int(r["ranks"]) // N), int(r["neurons"]), alpha, beta, B, a.shared_cores)
            x = p0["syncs_per_rhs"] * p0["cpu_share"]
            y = 1e-3 * (1e3 * num(r.get("t_comm_s")) / num(r["rhs_evals"]) - p0["comm_ms"])
            if math.isfinite(x) and math.isfinite(y):
                sxy, sxx = sxy + x * y, sxx + x * x
        gain = max(0.0, sxy / sxx) if sxx > 0 else 0.0
        fitted = f"fitted on the {a.fit_on} runs"
    check = []
    for r in rows:
        c = case_for(r)
        if c is None:
            continue
        N, ranks = int(r["nodes"]), int(r["ranks"])
        p = predict(c, N, max(1, ranks // N), int(r["neurons"]), alpha, beta, B, a.shared_cores, gain)
        m = num(r["t_rhs_ms"])
        rhs = num(r["rhs_evals"])
        check.append({"kind": r["kind"], "case": r["case"], "storage": r["storage"], "nodes": N, "ranks": ranks,
                      "neurons": int(r["neurons"]), "measured_t_rhs_ms": m, "model_t_rhs_ms": p["t_rhs_ms"],
                      "error": p["t_rhs_ms"] / m - 1, "measured_comm_ms": 1e3 * num(r.get("t_comm_s")) / rhs,
                      "model_comm_ms": p["comm_ms"], "measured_comm_share": num(r.get("comm_share")),
                      "model_comm_share": p["comm_share"], "cpu_share": p["cpu_share"],
                      "measured_ghost_bytes": num(r.get("product_bytes_per_rank")) * max(1, ranks // N),
                      "model_ghost_bytes": ghost_bytes(c) * p["ghosts_per_node"],
                      "measured_messages": num(r.get("product_msgs_per_rank")) * max(1, ranks // N),
                      "excess_load": excess_load(r, a.shared_cores), "model_sync_delay_ms": p["t_sync_delay_ms"],
                      "fitted": bool(fitted) and N > 1 and r["kind"] in a.fit_on.split(","),
                      "ghosts_per_node": p["ghosts_per_node"], "messages_per_product": p["messages_per_product"],
                      "load_before": r.get("load_before", ""), "load_after": r.get("load_after", ""),
                      "latency_us": lat_us, "link_gbit": gbit, "sync_delay_us": gain * 1e6,
                      "name": r.get("name", "")})
    check.sort(key=lambda x: (x["kind"], x["case"], x["nodes"], x["ranks"]))
    write_csv(os.path.join(out, "scaling_model_check.csv"), check, CHECK_COLUMNS)
    ncal = max(c.get("calibration_runs", 1) for c in cases)
    md = [f"Link: {desc}. Compute calibrated on each case's one-node run"
          f"{' (off)' if a.no_calibrate else f' (median of {ncal} repeats)' if ncal > 1 else ''}; CPU sharing: "
          f"{f'{a.shared_cores} cores shared by all nodes' if a.shared_cores else 'none (own cores per node)'}; "
          f"delay per cross-node synchronisation {gain * 1e6:.0f} µs (× the CPU share s; "
          f"{fitted + ', marked *' if fitted else a.sync_delay if a.sync_delay_us is None else 'given'}).", "",
          "| kind | case | nodes | n | measured ms/RHS | model ms/RHS | error | measured comm ms/RHS | model comm ms/RHS "
          "| measured comm share | model comm share | load |", "|" + "---|" * 12]
    for x in check:
        md.append(f"| {x['kind']} | {x['case']}{'*' if x['fitted'] else ''} | {x['nodes']} | {x['neurons']} | {x['measured_t_rhs_ms']:.3f} | "
                  f"{x['model_t_rhs_ms']:.3f} | {x['error']:+.0%} | {x['measured_comm_ms']:.3f} | {x['model_comm_ms']:.3f} | "
                  f"{x['measured_comm_share']:.1%} | {x['model_comm_share']:.1%} | {x['load_before']}–{x['load_after']} |")
    worst = max(check, key=lambda x: abs(x["error"])) if check else None
    if worst:
        md += ["", f"Largest error: {worst['error']:+.0%} ({worst['kind']} {worst['case']}, {worst['nodes']} nodes); "
               f"{sum(abs(x['error']) > 0.25 for x in check)} of {len(check)} points above 25%."]
    write_text(os.path.join(out, "scaling_model_check.md"), "\n".join(md) + "\n")

    # 2. the prediction for --nodes
    ext = []
    for c in cases:
        R = a.ranks_per_node or c["R1"]
        cores = a.shared_cores
        rs = []
        for N in nodes:
            n = c["n1"] if c["kind"] == "strong" else c["n1"] * N
            p = predict(c, N, R, n, alpha, beta, B, cores)
            rs.append(dict(p, kind=c["kind"], case=c["case"], storage=c["storage"], indegree=c["K"], connectivity=c["conn"],
                           rewire=c["p"], memories=c["P"], nodes=N, ranks=N * R, neurons=n, w=c["w"], rho=c["rho"],
                           vec_bytes_per_rhs=c["V"], frac_of_triad=c["f_s"], calibration=c["c"],
                           uncalibrated_t_rhs_ms=c["uncalibrated_t_rhs_ms"], measured_t_rhs_ms=c["measured_t_rhs_ms"],
                           measured_load=c["load"], latency_us=lat_us, link_gbit=gbit))
        t1 = rs[0]["t_rhs_ms"] if nodes[0] == 1 else predict(c, 1, R, c["n1"], alpha, beta, B, cores)["t_rhs_ms"]
        for r in rs:
            r["efficiency"] = t1 / (r["nodes"] * r["t_rhs_ms"]) if c["kind"] == "strong" else t1 / r["t_rhs_ms"]
        ext += rs
    write_csv(os.path.join(out, "scaling_model.csv"), ext, EXT_COLUMNS)
    md2 = [f"Link: {desc}; node: the base run's ranks, triad {a.node_gbs:g} GB/s; compute calibrated on the one-node run.", ""]
    head = ["kind", "case", "n (1 node)", "w", "ρ", "vector MB/RHS", "f_s", "model ms/RHS (1 node, uncalibrated)",
            "measured ms/RHS (1 node, load)"] + [f"E({N})" for N in nodes]
    md2 += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cases:
        rs = [r for r in ext if r["kind"] == c["kind"] and r["case"] == c["case"]]
        md2.append("| " + " | ".join([c["kind"], c["case"], str(c["n1"]), f"{c['w']:.2f}", f"{c['rho']:.1f}",
                                       f"{c['V'] / 1e6:.2f}", f"{c['f_s']:.2f}", f"{c['uncalibrated_t_rhs_ms']:.3g}",
                                       f"{c['measured_t_rhs_ms']:.3g} ({c['load']})"] +
                           [f"{r['efficiency']:.2f}" for r in rs]) + " |")
    md2 += ["", f"Communication share of the predicted time per RHS at N = {nodes[-1]}:", ""]
    for c in cases:
        r = [r for r in ext if r["kind"] == c["kind"] and r["case"] == c["case"]][-1]
        md2.append(f"* {c['kind']} {c['case']}: {r['comm_share']:.0%} ({r['t_rhs_ms']:.3g} ms/RHS)")
    text = "\n".join(md2) + "\n"
    write_text(os.path.join(out, "scaling_model.md"), text)
    plot(os.path.join(out, "scaling_model.png"), rows, ext, cases, desc)
    print(f"scaling_model: link {desc}")
    print("\n".join(md) + "\n")
    print(text, end="")
    print(f"scaling_model: -> {out}/scaling_model.csv, .md, .png, scaling_model_check.csv, .md")
    return 0


def plot(path, measured, model, cases, desc):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    colors = {}
    for j, kind in enumerate(("strong", "weak")):
        for c in [c for c in cases if c["kind"] == kind]:
            col = colors.setdefault(c["case"], f"C{len(colors) % 10}")
            rs = [r for r in model if r["kind"] == kind and r["case"] == c["case"]]
            ms = sorted([r for r in measured if r["kind"] == kind and r["case"] == c["case"]], key=lambda r: int(r["nodes"]))
            ax = axes[0, j]
            ax.plot([r["nodes"] for r in rs], [r["t_rhs_ms"] for r in rs], "-", color=col, label=f"{c['case']} model")
            if ms:
                ax.plot([int(r["nodes"]) for r in ms], [num(r["t_rhs_ms"]) for r in ms], "o", color=col)
            axes[1, j].plot([r["nodes"] for r in rs], [r["efficiency"] for r in rs], "o-", color=col, label=c["case"])
        axes[0, j].set_xscale("log", base=2)
        axes[0, j].set_yscale("log")
        axes[0, j].set_xlabel("nodes")
        axes[0, j].set_ylabel("time per RHS evaluation (ms)")
        axes[0, j].set_title(f"{kind}: model (lines), measured (dots)", fontsize=10)
        axes[1, j].set_xscale("log", base=2)
        axes[1, j].set_ylim(0, 1.1)
        axes[1, j].axhline(1, color="grey", lw=0.8, ls="--")
        axes[1, j].set_xlabel("nodes")
        axes[1, j].set_ylabel("predicted parallel efficiency")
        axes[1, j].set_title(f"{kind}: {desc[:70]}", fontsize=8)
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path + ".partial.png", dpi=110)
    plt.close(fig)
    os.replace(path + ".partial.png", path)


if __name__ == "__main__":
    sys.exit(main())
