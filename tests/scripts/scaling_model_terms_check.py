#!/usr/bin/python3
"""The terms of scripts/scaling_model.py that the multi-node campaign validated (docs/scaling.md, "The
model against the measurement"), checked on synthetic cases so that a change to them fails here
without a cluster: the CPU share of ranks on shared cores, the reduction steps of Open MPI's
recursive doubling, the bytes of a ghost per storage, and the compressed storage's overlapped exchange.

Usage: scaling_model_terms_check.py REPO"""
import math
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
import scaling_model as m  # noqa: E402

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


# CPU share: a superstep waits for the last round of ranks, ceil(ranks / cores) rounds
check(m.cpu_share(3, 1, 2) == 2.0, "3 ranks on 2 cores take 2 rounds (not the fair share 1.5)")
check(m.cpu_share(2, 1, 2) == 1.0, "2 ranks on 2 cores share nothing")
check(m.cpu_share(4, 2, 2) == 2.0, "4 ranks on 2 cores, against a 2-rank base: 2 rounds")
check(m.cpu_share(1, 1, 2) == 1.0 and m.cpu_share(64, 1, 0) == 1.0, "one rank, or own cores (--shared-cores 0): 1")

# recursive doubling: floor(log2 N) steps, plus 2 when N is not a power of two
check([m.steps(N) for N in (1, 2, 3, 4, 6, 8)] == [0, 1, 3, 2, 4, 3], "Allreduce steps for N = 1, 2, 3, 4, 6, 8")


def case(storage, **kw):
    c = {"case": storage, "kind": "strong", "storage": storage, "K": 100, "P": 50, "conn": "", "p": 0.0, "radius": 0,
         "f_s": 0.5, "n1": 20000, "R1": 1, "w": 2.0, "rho": 12.0, "V": 2.0e7, "measured_t_rhs_ms": 1.0, "load": "", "c": 1.0}
    c.update(kw)
    return c


aij, comp = case("aij"), case("compressed")
check(m.ghost_bytes(comp) == 4 and m.ghost_bytes(aij) == 8, "ghost bytes: compressed sends floats, aij doubles")
n, alpha, beta, B = 20000, 20e-6, 1.25e9, 19.2e9
check(m.comm_time(aij, n, 1, alpha, beta) == 0.0, "no inter-node traffic on one node")
ca, cc = m.comm_time(aij, n, 2, alpha, beta), m.comm_time(comp, n, 2, alpha, beta)
g = m.ghosts(aij, n, 2)
check(math.isclose(ca - alpha, 2 * (cc - alpha), rel_tol=1e-12), "compressed moves half the ghost bytes of aij")
check(math.isclose(g, n / 2 * (1 - math.exp(-50)), rel_tol=1e-12), "random-graph ghosts on 2 nodes: n/2 (1 - e^(-K/N))")
pa = m.predict(aij, 2, 1, n, alpha, beta, B, 0, 1e-4)
pc = m.predict(comp, 2, 1, n, alpha, beta, B, 0, 1e-4)
check(pa["t_product_comm_ms"] > 0 and pc["t_product_comm_ms"] < pa["t_product_comm_ms"] / 2,
      "the compressed exchange, overlapped with the owned columns' product, costs less than half of aij's")
check(m.syncs(comp, 2) == comp["rho"] and m.syncs(aij, 2) == aij["w"] + aij["rho"],
      "an overlapped exchange is not a synchronisation; aij's w exchanges are")
p3 = m.predict(aij, 3, 1, n, alpha, beta, B, 2, 0.0)
p3own = m.predict(aij, 3, 1, n, alpha, beta, B, 0, 0.0)
check(math.isclose(p3["t_compute_ms"], 2 * p3own["t_compute_ms"], rel_tol=1e-12), "3 nodes on 2 shared cores: twice the compute")

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
