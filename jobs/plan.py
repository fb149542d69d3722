#!/usr/bin/python3
"""Turns a job config (configs/jobs/*.yaml) into ratemem command lines; used by the job scripts.

  plan.py sweep-count CONFIG          number of grid points (array tasks) of a sweep config
  plan.py sweep-point CONFIG I        ratemem options of point I, one word per line
  plan.py sweep-table CONFIG          point, load, neurons, memories, flip (CSV) of every point
  plan.py scaling CONFIG KIND NMAX [RANKS]
                                      runs of a strong or weak scaling study with at most NMAX
                                      ranks: lines "storage ranks neurons" (KIND: strong | weak);
                                      RANKS (e.g. "3" or "1,3") replaces the config's rank list
  plan.py scaling-args CONFIG STORAGE RANKS NEURONS
                                      ratemem options of one scaling run, one word per line

Sweep config: `options` (ratemem retrieve options common to every point), `neurons`, `load` (list of
P/n; memories = max(1, round(load * neurons))) and `flip` (list of cue corruptions). Point
I = i_load * len(flip) + i_flip. Scaling config: `options`, `storages` (list; per-storage extra
options under `storage_options`), `ranks` (list), `strong: {neurons}`, `weak: {neurons_per_rank}`
(each an int, or a mapping storage -> int with an optional `default`). A case whose options say
`connectivity: grid2d` needs a square n (a torus of side sqrt(n)): its n is rounded to the nearest
square, and the report compares times per neuron and rank.
"""
import csv
import math
import sys

import yaml


def load(path):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("options", {}), dict):
        sys.exit(f"plan.py: error: {path}: expected a mapping with an 'options' mapping")
    return cfg


def words(opts):
    """{'neurons': 10, 'cvode_stab_lim_det': True} -> ['-neurons', '10', '-cvode_stab_lim_det']"""
    out = []
    for k, v in opts.items():
        if v is False or v is None:
            continue
        out.append("-" + str(k))
        if v is not True:
            out.append(",".join(map(str, v)) if isinstance(v, list) else str(v))
    return out


def sweep_points(cfg):
    try:
        n = int(cfg["neurons"])
        loads = [float(x) for x in cfg["load"]]
        flips = [float(x) for x in cfg["flip"]]
    except (KeyError, TypeError, ValueError) as e:
        sys.exit(f"plan.py: error: sweep config needs neurons, load (list) and flip (list): {e}")
    pts = []
    for il, ld in enumerate(loads):
        for jf, fl in enumerate(flips):
            pts.append({"point": il * len(flips) + jf, "load": ld, "neurons": n,
                        "memories": max(1, round(ld * n)), "flip": fl})
    return pts


def per_storage(v, storage):
    """an int, or a mapping storage -> int with an optional 'default'"""
    if isinstance(v, dict):
        if storage not in v and "default" not in v:
            sys.exit(f"plan.py: error: no size for storage {storage} (and no default)")
        v = v.get(storage, v.get("default"))
    return int(v)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, cfg = argv[1], load(argv[2])
    if cmd == "sweep-count":
        print(len(sweep_points(cfg)))
    elif cmd == "sweep-table":
        w = csv.writer(sys.stdout)
        w.writerow(["point", "load", "neurons", "memories", "flip"])
        for p in sweep_points(cfg):
            w.writerow([p["point"], p["load"], p["neurons"], p["memories"], p["flip"]])
    elif cmd == "sweep-point":
        pts = sweep_points(cfg)
        i = int(argv[3])
        if not 0 <= i < len(pts):
            sys.exit(f"plan.py: error: point {i} out of range 0..{len(pts) - 1}")
        p = pts[i]
        opts = dict(cfg.get("options", {}))
        opts.update(neurons=p["neurons"], memories=p["memories"], flip=p["flip"])
        print("\n".join(words(opts)))
    elif cmd == "scaling":
        kind, nmax = argv[3], int(argv[4])
        wanted = cfg.get("ranks", [1, 2])
        if len(argv) > 5 and argv[5]:
            try:
                wanted = [int(r) for r in argv[5].split(",")]
            except ValueError:
                sys.exit(f"plan.py: error: rank list '{argv[5]}' is not comma-separated integers")
        ranks = [int(r) for r in wanted if 0 < int(r) <= nmax]
        if not ranks:
            sys.exit(f"plan.py: error: no rank count of {wanted} fits in {nmax} tasks")
        for s in cfg.get("storages", ["lowrank"]):
            for r in ranks:
                if kind == "strong":
                    n = per_storage(cfg["strong"]["neurons"], s)
                elif kind == "weak":
                    n = per_storage(cfg["weak"]["neurons_per_rank"], s) * r
                else:
                    sys.exit("plan.py: error: scaling KIND is strong or weak")
                if ((cfg.get("storage_options") or {}).get(s) or {}).get("connectivity") == "grid2d":
                    n = round(math.sqrt(n)) ** 2  # the torus needs n = side^2
                print(s, r, n)
    elif cmd == "scaling-args":
        storage, ranks, n = argv[3], int(argv[4]), int(argv[5])
        opts = dict(cfg.get("options", {}))
        opts["storage"] = storage  # a storage_options entry may rename it: aij-diluted: {storage: aij, indegree: 100}
        opts.update((cfg.get("storage_options") or {}).get(storage) or {})
        opts["neurons"] = n
        print("\n".join(words(opts)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
