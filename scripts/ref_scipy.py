#!/usr/bin/python3
"""Reference integrations of a ratemem retrieval with scipy and numpy, on the same network.

The network comes from a ratemem run with -output and -summary (one trial is enough):

    build/ratemem retrieve -neurons 1000 -memories 20 -trials 1 -output o.h5 -summary o.json
    /usr/bin/python3 scripts/ref_scipy.py o.h5 o.json [--method rk45|euler|both] [--trial 0]

It reads the memories (/patterns, P x n uint8) and the cue (/initial_states[trial]) from the HDF5 file
and the model's coefficients from the summary's "model" object, builds the weights of docs/model.md §2,

    W = α/N (Ξ − β)(Ξ − β)ᵀ + γ/N 11ᵀ        (Ξ: n x P, {0,1}; -design paper, all-to-all)

dense for n <= --dense_max (4000) and as its factors otherwise (W x = α/N U (Uᵀx) + γ/N 1 (1ᵀx),
U = Ξ − β, an n x P array), and integrates the rate dynamics of §3,

    τ ẋ = −x + φ(W x + u₀),   φ(s) = 1/(1 + exp(−4ρ(s − x* − 1/(2ρ)))),

from the cue to the trial's t_end (ratemem stops there at convergence, ‖f‖∞ < converge_tol), with

  * rk45:  scipy.integrate.solve_ivp(method="RK45") at ratemem's -rtol/-atol;
  * euler: plain numpy explicit Euler, x += h f(x), h = --dt (ratemem's -euler_dt default, 0.01);
  * brian2: Brian2 (Debian's python3-brian), the cython target: a NeuronGroup of rate units with the
    same explicit Euler step, coupled through all-to-all Synapses with a summed variable
    (I_post = w x_pre), as a Brian2 user would write it; dense W only. Time is in Brian2's ms (τ = 1 ms,
    dt = --dt ms), which leaves the dimensionless dynamics unchanged. Its integration time excludes
    Brian2's code generation and compilation (a warm-up run of one step comes first).

Prints one JSON object per method: the integration's wall time (integration only, the weights already
built), the RHS evaluations, the residual ‖f(x)‖∞ at the end, and the largest difference from
ratemem's final state with the nearest memory by normalised overlap (docs/model.md §4), so that the
answer can be checked against ratemem's. The whole process is timed from outside (scripts/bench_retrieval.sh).
Supports the rate model with the sigmoid activation (ratemem's defaults) only."""
import argparse, json, sys, time

import h5py
import numpy as np
from scipy.integrate import solve_ivp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("h5", help="a ratemem -output file")
    ap.add_argument("summary", help="the same run's -summary JSON")
    ap.add_argument("--method", choices=["rk45", "euler", "brian2", "both"], default="both")
    ap.add_argument("--trial", type=int, default=0)
    ap.add_argument("--dt", type=float, default=0.01, help="explicit Euler step (0.01)")
    ap.add_argument("--input", type=float, default=0.0, help="u0, ratemem's -input (0)")
    ap.add_argument("--dense_max", type=int, default=4000, help="dense W up to this n, factors above (4000)")
    ap.add_argument("--t_final", type=float, default=None, help="end time (default: the trial's t_end in the summary)")
    a = ap.parse_args()

    with open(a.summary) as f:
        s = json.load(f)
    m, integ, tr = s["model"], s["integrator"], s["trials"][a.trial]
    if m["kind"] != "rate" or m["activation"] != "sigmoid" or s["network"]["design"] != "paper":
        sys.exit("ref_scipy: only -design paper with the sigmoid rate model is supported")
    with h5py.File(a.h5, "r") as f:
        xi = f["patterns"][()].T.astype(np.float64)  # n x P
        x0 = f["initial_states"][a.trial].astype(np.float64)
        xfin = f["final_states"][a.trial].astype(np.float64)
    n, P = xi.shape
    alpha, beta, gamma, tau = m["alpha"], m["beta"], m["gamma"], m["tau"]
    rho, thr, u0 = m["gain"], m["threshold"], a.input
    shift = thr + 0.5 / rho
    t_final = a.t_final if a.t_final is not None else tr["t_end"]

    U = xi - beta
    if n <= a.dense_max:
        W = (alpha / n) * (U @ U.T) + gamma / n
        product = lambda x: W @ x
        storage = "dense"
    else:
        Ut = np.ascontiguousarray(U.T)  # P x n: both products stream U once
        product = lambda x: (alpha / n) * (Ut.T @ (Ut @ x)) + (gamma / n) * x.sum()
        storage = "factored"

    nrhs = [0]

    def f(t, x):
        nrhs[0] += 1
        return (-x + 1.0 / (1.0 + np.exp(-4.0 * rho * (product(x) + u0 - shift)))) / tau

    def report(method, t0, x, extra):
        wall = time.perf_counter() - t0
        r = (x - x.mean())
        ov = (xi - xi.mean(axis=0)).T @ r / np.sqrt(max((r @ r), 1e-300) * n * xi.mean(axis=0) * (1 - xi.mean(axis=0)))
        out = {"method": method, "n": n, "P": P, "storage": storage, "t_final": t_final, "integrate_s": wall, "rhs_evals": nrhs[0],
               "residual": float(np.abs(f(0, x)).max()), "max_diff_ratemem": float(np.abs(x - xfin).max()),
               "nearest": int(np.argmax(ov)), "overlap": float(ov.max()), "cue_memory": tr["cue_memory"]}
        out.update(extra)
        print(json.dumps(out), flush=True)

    if a.method in ("rk45", "both"):
        nrhs[0] = 0
        t0 = time.perf_counter()
        sol = solve_ivp(f, (0.0, t_final), x0, method="RK45", rtol=integ["rtol"], atol=integ["atol"], t_eval=[t_final])
        report("scipy-rk45", t0, sol.y[:, -1], {"status": int(sol.status), "nfev": int(sol.nfev)})
    if a.method in ("euler", "both"):
        nrhs[0] = 0
        x = x0.copy()
        nsteps = int(np.ceil(t_final / a.dt - 1e-9))
        t0 = time.perf_counter()
        t = 0.0
        for k in range(nsteps):
            h = min(a.dt, t_final - t)
            x += h * f(t, x)
            t += h
        report("numpy-euler", t0, x, {"steps": nsteps, "dt": a.dt})
    if a.method == "brian2":
        if storage != "dense":
            sys.exit("ref_scipy: --method brian2 needs n <= --dense_max (all-to-all Synapses)")
        x = brian2_euler(W, x0, rho, shift, u0, tau, a.dt, t_final)
        nrhs[0] = int(np.ceil(t_final / a.dt - 1e-9))
        report("brian2-euler", x[1], x[0], {"steps": nrhs[0], "dt": a.dt})


def brian2_euler(W, x0, rho, shift, u0, tau, dt, t_final):
    """The rate dynamics in Brian2 with explicit Euler; returns (final x, start time of the timed run)."""
    import brian2 as b2
    b2.prefs.codegen.target = "cython"
    b2.prefs.logging.console_log_level = "WARNING"
    n = W.shape[0]
    eqs = """dx/dt = (-x + 1/(1 + exp(-4*rho*(I + u0 - shift))))/tau_b : 1
             I : 1"""
    G = b2.NeuronGroup(n, eqs, method="euler", namespace={"rho": rho, "u0": u0, "shift": shift, "tau_b": tau * b2.ms})
    S = b2.Synapses(G, G, "w : 1\nI_post = w*x_pre : 1 (summed)")
    S.connect()  # all-to-all, the diagonal included (the paper design's W has one)
    S.w = W[np.asarray(S.j), np.asarray(S.i)]
    G.x = x0
    net = b2.Network(G, S)
    b2.defaultclock.dt = dt * b2.ms
    net.run(dt * b2.ms)  # warm-up: code generation and compilation happen here
    G.x = x0
    t0 = time.perf_counter()
    net.run(t_final * b2.ms)
    return np.asarray(G.x[:]).copy(), t0

if __name__ == "__main__":
    main()
