#!/usr/bin/python3
"""Real patterns (issue #8): scikit-learn's bundled handwritten digits (Debian python3-sklearn) stored as
memories, cued with corrupted digits, and the retrieved states shown as images.

Usage: digits_example.py [--exe build/ratemem] [--np 2] [--out results/digits] [--digits 1,3,5,6]
                         [--binarize 10] [--upsample 4] [--flip 0.1] [--sweep-flips 0:0.4:9] [--repeats 5]
       digits_example.py --replot docs/results/digits.csv --out DIR   (only DIR/digits_rate.png, from the CSV)

1. Memories: the mean image of each chosen digit class (8 x 8, values 0..16), upsampled by pixel
   replication (--upsample 4: 32 x 32 = 1024 neurons) and binarized (pixel > --binarize -> active),
   written to OUT/digits.h5 as /patterns (uint8 0/1, P x n), the format `ratemem retrieve -patterns`
   reads. The digits are correlated: the coding level q and the pairwise overlap ratio
   r = mean_{mu != nu} xi^mu . xi^nu / (q n) are printed.
2. Three networks store them: the paper's general design with -balance r (model.md §2: beta cancels the
   crosstalk of memories that share a fraction r of their active neurons), its basic design (r = q, made
   for independent memories) and the Hebbian baseline. `ratemem retrieve -output` gives the final states
   of one cue per memory (--flip of the pixels flipped); OUT/digits.png shows stored | cue | final state of
   each network, with the label.
3. `ratemem sweep -patterns OUT/digits.h5 -sweep_flip ...` (P x --repeats trials per corruption) for
   each network into OUT/digits.csv; OUT/digits_rate.png plots retrieval rate vs corruption.
Prints the retrieval counts of step 2 and the curves of step 3."""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_sweeplib import dodge, errorbar, plt, read_sweep, save  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_digits_images():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("digits_example.py: needs scikit-learn's bundled data set (Debian: apt-get install python3-sklearn)")
    d = load_digits()
    return d.images, d.target


def run(cmd):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode:
        sys.exit(f"digits_example.py: {' '.join(cmd)} failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return res.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=os.path.join(ROOT, "build", "ratemem"))
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "digits"))
    ap.add_argument("--digits", default="1,3,5,6")
    ap.add_argument("--binarize", type=float, default=10.0)
    ap.add_argument("--upsample", type=int, default=4)
    ap.add_argument("--flip", type=float, default=0.1)
    ap.add_argument("--sweep-flips", default="0:0.4:9")
    ap.add_argument("--repeats", type=int, default=5, help="cues per memory and corruption in the sweep")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replot", metavar="CSV", help="only redraw OUT/digits_rate.png from a digits.csv written before (no runs)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.replot:
        plot_rate(args.replot, os.path.join(args.out, "digits_rate.png"), [int(v) for v in args.digits.split(",")])
        return
    mpi = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(args.np), args.exe]

    images, target = load_digits_images()
    digits = [int(v) for v in args.digits.split(",")]
    f = args.upsample
    side = 8 * f
    protos = np.array([np.kron(images[target == k].mean(0), np.ones((f, f))) for k in digits])
    pats = (protos > args.binarize).reshape(len(digits), -1).astype(np.uint8)
    P, n = pats.shape
    q = pats.mean()
    r = float(np.mean([(pats[i] & pats[j]).sum() / (q * n) for i in range(P) for j in range(P) if i != j]))
    h5 = os.path.join(args.out, "digits.h5")
    with h5py.File(h5 + ".partial", "w") as hf:
        hf["patterns"] = pats
        hf["patterns"].attrs["digits"] = np.array(digits)
        hf["patterns"].attrs["source"] = "sklearn.datasets.load_digits class means, upsampled %dx, pixel > %g" % (f, args.binarize)
    os.replace(h5 + ".partial", h5)
    print(f"memories: digits {digits}, n = {n} ({side}x{side}), P = {P}, coding q = {q:.3f}, pairwise overlap ratio r = {r:.3f}")

    common = ["-patterns", h5, "-storage", "lowrank", "-seed", str(args.seed)]
    nets = [("general", f"paper design, balance r = {r:.2f}", ["-design", "paper", "-balance", f"{r:.6f}"]),
            ("basic", "paper design, basic (r = q)", ["-design", "paper"]),
            ("hebbian", "Hebbian baseline", ["-design", "hebbian"])]
    finals, labels, cue_img = {}, {}, None
    for name, _, opts in nets:
        out_h5 = os.path.join(args.out, f"digits_{name}.h5")
        summ = os.path.join(args.out, f"digits_{name}.json")
        run(mpi + ["retrieve", "-quiet"] + common + opts + ["-trials", str(P), "-flip", str(args.flip), "-output", out_h5, "-summary", summ])
        with h5py.File(out_h5) as hf:
            fin = hf["final_states"][()]
            ini = hf["initial_states"][()]
        with open(summ) as fs:
            s = json.load(fs)
        if name == "hebbian":  # voltages y: show the output tanh(delta y), and the cue as 0/1
            fin = np.tanh(s["model"]["gain"] * fin)
            ini = (ini > 0).astype(float)
            fin = (fin + 1) / 2
        finals[name] = fin
        labels[name] = [(t["label"], t["overlap_cue"]) for t in s["trials"]]
        if cue_img is None:
            cue_img = ini
        os.remove(out_h5)
        os.remove(summ)
        ok = sum(t["label"] == "retrieved" for t in s["trials"])
        print(f"{name}: {ok}/{P} retrieved from cues with {args.flip:g} flipped: " + ", ".join(f"{lab} ({ov:.2f})" for lab, ov in labels[name]))

    cols = 2 + len(nets)
    fig, axes = plt.subplots(P, cols, figsize=(1.9 * cols, 1.9 * P + 0.4), squeeze=False)
    titles = ["stored", f"cue ({args.flip:g} flipped)"] + [t for _, t, _ in nets]
    for mu in range(P):
        imgs = [pats[mu], cue_img[mu]] + [finals[name][mu] for name, _, _ in nets]
        for c, img in enumerate(imgs):
            ax = axes[mu][c]
            ax.imshow(np.asarray(img, float).reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if mu == 0:
                ax.set_title(titles[c], fontsize=7)
            if c >= 2:
                lab, ov = labels[nets[c - 2][0]][mu]
                ax.set_xlabel(f"{lab} ({ov:.2f})", fontsize=7, color="g" if lab == "retrieved" else "r")
    save(fig, os.path.join(args.out, "digits.png"))

    csv = os.path.join(args.out, "digits.csv")
    for name, _, opts in nets:
        run(mpi + ["sweep", "-quiet"] + common + opts + ["-sweep_flip", args.sweep_flips, "-trials", str(P * args.repeats), "-sweep_csv", csv])
    plot_rate(csv, os.path.join(args.out, "digits_rate.png"), digits)


def plot_rate(csv, png, digits):
    """Retrieval rate vs corruption of the three networks from the sweep CSV (also --replot)."""
    rows = read_sweep(csv)
    n = int(rows[0]["neurons"])
    q = rows[0]["coding"]
    general = [row for row in rows if row["design"] == "paper" and row["balance"] != "q"]
    r = float(general[0]["balance"]) if general else float("nan")
    nets = [("general", f"paper design, balance r = {r:.2f}", "paper", False), ("basic", "paper design, basic (r = q)", "paper", True),
            ("hebbian", "Hebbian baseline", "hebbian", True)]
    # the basic design and the Hebbian network give nearly the same rates here: distinct markers and line
    # styles, and the three networks drawn 0.006 apart in flip, keep every curve and its error bars visible
    styles = ["o-", "s--", "^:"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    trials = int(rows[0]["trials"])
    for k, ((name, title, design, basic), fmt) in enumerate(zip(nets, styles)):
        pts = sorted((row["flip"], row["retrieval_rate"]) for row in rows if row["design"] == design and int(row["neurons"]) == n
                     and ((row["balance"] == "q") == basic))
        errorbar(ax, dodge([p[0] for p in pts], k, len(nets), 0.006), [p[1] for p in pts], trials, fmt=fmt, ms=6,
                 mfc="none" if name == "basic" else None, label=title)
        print(f"{name}: rate vs flip " + ", ".join(f"{x:g}:{y:.2f}" for x, y in pts))
    ax.set_xlabel("cue corruption (fraction of pixels flipped; networks drawn 0.006 apart)")
    ax.set_ylabel("retrieval rate, 95% Wilson bars")
    ax.set_ylim(-0.04, 1.04)
    ax.set_title(f"digits {digits}: n = {n}, q = {q:.2f}, r = {r:.2f}; {trials} cues per point", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, png)


if __name__ == "__main__":
    main()
