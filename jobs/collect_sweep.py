#!/usr/bin/python3
"""Merges the per-task results of a sweep (jobs/sweep.sbatch) into one CSV.

Usage: jobs/collect_sweep.py DIR [--config CONFIG] [--out CSV] [--allow-missing]

Reads DIR/points/point-I.json (the JSON summary of array task I) for every grid point I of CONFIG
(default DIR/sweep.yaml, the copy the tasks left) and writes DIR/sweep.csv (or --out), one row per
point in point order, atomically. A point without a summary gets status "missing" and empty
results; the exit code is then 1 (0 with --allow-missing)."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ["point", "load", "neurons", "memories", "flip", "status", "trials", "retrieved", "other", "spurious",
           "unconverged", "retrieval_rate", "mean_overlap", "min_overlap", "mean_steps", "mean_rhs_evals",
           "integrate_s", "total_s", "ranks", "storage", "integrator", "seed"]


def plan_table(config):
    out = subprocess.run([sys.executable, os.path.join(HERE, "plan.py"), "sweep-table", config], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    head = out[0].split(",")
    return [dict(zip(head, line.split(","))) for line in out[1:]]


def row_of(point, summary):
    trials = summary["trials"]
    counts = summary["counts"]
    net = summary["network"]
    # the summary must be the point's: same n, P and flip as the plan says
    if int(net["n"]) != int(point["neurons"]) or int(net["memories"]) != int(point["memories"]) or \
            abs(float(summary["cue"]["flip"]) - float(point["flip"])) > 1e-12:
        raise ValueError(f"point {point['point']}: summary is for n={net['n']} P={net['memories']} "
                         f"flip={summary['cue']['flip']}, the plan says n={point['neurons']} "
                         f"P={point['memories']} flip={point['flip']}")
    ov = [float(t["overlap"]) for t in trials]
    return dict(point, status="ok", trials=len(trials), retrieved=counts["retrieved"], other=counts["other"],
                spurious=counts["spurious"], unconverged=counts["unconverged"],
                retrieval_rate=summary["retrieval_rate"], mean_overlap=sum(ov) / len(ov), min_overlap=min(ov),
                mean_steps=sum(t["steps"] for t in trials) / len(trials),
                mean_rhs_evals=sum(t["rhs_evals"] for t in trials) / len(trials),
                integrate_s=summary["timings"]["integrate"], total_s=summary["timings"]["total"],
                ranks=summary["ranks"], storage=net["storage"], integrator=summary["integrator"]["method"],
                seed=net["seed"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--config", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--allow-missing", action="store_true")
    a = ap.parse_args()
    config = a.config or os.path.join(a.dir, "sweep.yaml")
    if not os.path.isfile(config):
        sys.exit(f"collect_sweep: error: no config {config} (give --config)")
    rows, missing = [], []
    for p in plan_table(config):
        path = os.path.join(a.dir, "points", f"point-{p['point']}.json")
        if not os.path.isfile(path):
            missing.append(int(p["point"]))
            rows.append(dict(p, status="missing"))
            continue
        with open(path) as f:
            rows.append(row_of(p, json.load(f)))
    out = a.out or os.path.join(a.dir, "sweep.csv")
    tmp = out + ".partial"
    with open(tmp, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join("" if r.get(c) is None else str(r.get(c)) for c in COLUMNS) + "\n")
    os.replace(tmp, out)
    print(f"collect_sweep: {len(rows) - len(missing)} of {len(rows)} points -> {out}")
    if missing:
        print(f"collect_sweep: missing points: {missing}", file=sys.stderr)
        return 0 if a.allow_missing else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
