#!/usr/bin/python3
"""Checks of scripts/make_patterns.py. Usage: make_patterns_check.py EXE [REPO]
Makes memories files from a .npy array, a .npz array, a folder of PNG images and scikit-learn's
digits (class means, upsampled to 32x32) and iris; checks /patterns (uint8 0/1, P x n, equal to the
array computed here), the provenance attributes, and that `ratemem retrieve -patterns` reads each
file (n, P and the coding level q in its summary); checks refusals (existing file, bad options)."""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import matplotlib.image as mpimg
import numpy as np

exe = os.path.abspath(sys.argv[1])
repo = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..")
script = os.path.join(repo, "scripts", "make_patterns.py")
tmp = tempfile.mkdtemp(prefix="ratemem-patterns.")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def make(*args, ok=True):
    p = subprocess.run([sys.executable, script] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    if ok and p.returncode != 0:
        sys.exit(f"FAIL: make_patterns.py {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
    return p


def retrieve(path, np_=2, extra=(), trials=2):
    summary = os.path.join(tmp, "s.json")
    cmd = MPI + ["-n", str(np_), exe, "retrieve", "-patterns", path, "-trials", trials, "-quiet", "-summary", summary] + list(extra)
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-2000:]}")
    with open(summary) as f:
        return json.load(f)


def read(path):
    with h5py.File(path) as f:
        d = f["patterns"]
        return d[()], d.dtype, {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def check_file(name, path, expected, source_kind, extra_attrs=None):
    pats, dtype, attrs = read(path)
    P, n = expected.shape
    check(dtype == np.uint8 and pats.shape == (P, n), f"{name}: /patterns is uint8 {P} x {n} (got {dtype} {pats.shape})")
    check(np.array_equal(pats, expected), f"{name}: /patterns equals the thresholded (resampled) items")
    q = expected.mean()
    check(attrs.get("source_kind") == source_kind and attrs.get("n") == n and attrs.get("P") == P, f"{name}: source_kind, n, P attributes")
    check(abs(attrs.get("coding", -1) - q) < 1e-12, f"{name}: coding attribute = q = {q:.4f}")
    for key in ("source", "threshold", "upsample", "items", "item_shape", "date", "command", "created_by"):
        check(key in attrs, f"{name}: attribute {key}")
    check("make_patterns.py" in attrs.get("command", ""), f"{name}: command line recorded")
    for k, v in (extra_attrs or {}).items():
        got = attrs.get(k)
        same = np.array_equal(np.asarray(got), np.asarray(v)) if not isinstance(v, str) else got == v
        check(same, f"{name}: attribute {k} = {v} (got {got})")
    s = retrieve(path)
    check(s["network"]["n"] == n and s["network"]["memories"] == P, f"{name}: ratemem retrieve -patterns reads n = {n}, P = {P}")
    check(abs(s["model"]["coding"] - q) < 1e-12, f"{name}: ratemem measures the same coding level")
    return attrs


def nearest(imgs, w, h):
    """Reference nearest-neighbour resampling (pixel centres) to h rows x w columns."""
    h0, w0 = imgs.shape[1:]
    out = np.empty((len(imgs), h, w))
    for i in range(h):
        for j in range(w):
            out[:, i, j] = imgs[:, min(int((i + 0.5) * h0 / h), h0 - 1), min(int((j + 0.5) * w0 / w), w0 - 1)]
    return out


rng = np.random.default_rng(7)

# 1. .npy of 6 images 20 x 30, a numeric threshold; the file exists afterwards: refused, then --force
arr = rng.random((6, 20, 30))
npy = os.path.join(tmp, "a.npy")
np.save(npy, arr)
out = os.path.join(tmp, "a.h5")
p = make(npy, "--threshold", 0.6, "--out", out)
check("n = 600, P = 6" in p.stdout and "overlap ratio" in p.stdout, "npy: prints n, P and the overlap ratios")
check_file("npy", out, (arr > 0.6).reshape(6, -1).astype(np.uint8), "numpy", {"threshold": "0.6", "item_shape": [20, 30], "items": list(range(6))})
before = open(out, "rb").read()
p = make(npy, "--threshold", "median", "--out", out, ok=False)
check(p.returncode != 0 and "exists; use --force" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      f"existing file refused with one line ({p.stderr.strip()})")
check(open(out, "rb").read() == before, "refused: the existing file is untouched")
make(npy, "--threshold", "median", "--items", "5,0,2", "--out", out, "--force")
sel = arr[[5, 0, 2]].reshape(3, -1)
check_file("npy --items --force", out, (sel > np.median(sel, axis=1, keepdims=True)).astype(np.uint8), "numpy",
           {"threshold": "median", "items": [5, 0, 2]})
check(not any(f.endswith(".partial") for f in os.listdir(tmp)), "no .partial file left behind")

# 2. .npz with two arrays (needs --key), vectors, common-mean threshold
vec = rng.random((5, 400))
npz = os.path.join(tmp, "b.npz")
np.savez(npz, x=vec, other=np.zeros(3))
p = make(npz, "--out", os.path.join(tmp, "b.h5"), ok=False)
check(p.returncode != 0 and "choose one with --key" in p.stderr, "npz with several arrays needs --key")
make(npz, "--key", "x", "--threshold", "common-mean", "--out", os.path.join(tmp, "b.h5"))
check_file("npz", os.path.join(tmp, "b.h5"), (vec > vec.mean(axis=0)).astype(np.uint8), "numpy", {"source": f"{npz}:x"})

# 3. a folder of PNG images (grey 16 x 12 written as RGBA), upsampled to 24x32 (W x H), per-item mean
folder = os.path.join(tmp, "png")
os.makedirs(folder)
for k in range(4):
    mpimg.imsave(os.path.join(folder, f"img{k}.png"), rng.random((16, 12)), cmap="gray", vmin=0, vmax=1)
grey = np.array([mpimg.imread(os.path.join(folder, f"img{k}.png"))[..., :3].mean(axis=2) for k in range(4)])
up = nearest(grey, 24, 32).reshape(4, -1)
make(folder, "--upsample", "24x32", "--out", os.path.join(tmp, "p.h5"))
check_file("png folder", os.path.join(tmp, "p.h5"), (up > up.mean(axis=1, keepdims=True)).astype(np.uint8), "png-folder",
           {"item_shape": [32, 24], "threshold": "mean"})
check(read(os.path.join(tmp, "p.h5"))[2]["upsample"].startswith("12x16 -> 24x32"), "png folder: upsampling recorded")
big = nearest(grey[:1], 48, 64)  # integer factors: nearest neighbour is pixel replication
check(np.array_equal(big[0], np.kron(grey[0], np.ones((4, 4)))), "nearest neighbour at an integer factor is pixel replication")

# 4. scikit-learn digits: the 10 class means (8 x 8), upsampled to 32x32
from sklearn.datasets import load_digits  # noqa: E402

d = load_digits()
means = np.array([d.images[d.target == k].mean(axis=0) for k in range(10)])
rep = np.array([np.kron(m, np.ones((4, 4))) for m in means]).reshape(10, -1)
p = make("--sklearn", "digits", "--digits-mode", "means", "--upsample", "32x32", "--threshold", 10, "--out", os.path.join(tmp, "d.h5"))
check("n = 1024, P = 10" in p.stdout, "digits means: n = 1024, P = 10 printed")
attrs = check_file("sklearn digits means", os.path.join(tmp, "d.h5"), (rep > 10).astype(np.uint8), "sklearn",
                   {"item_shape": [32, 32], "source": "sklearn:digits (class means)"})
check(list(attrs.get("item_labels", [])) == [str(k) for k in range(10)], "digits means: the digit of each item recorded")
# the memories of docs/results.md "Real patterns" (scripts/digits_example.py): classes 1, 3, 5, 6, pixel > 10, 32x32;
# the general design with -balance r (r as printed) retrieves all four from 10%-flipped cues
dg = os.path.join(tmp, "dg.h5")
p = make("--sklearn", "digits", "--items", "1,3,5,6", "--threshold", 10, "--upsample", "32x32", "--out", dg)
check(np.array_equal(read(dg)[0], (rep[[1, 3, 5, 6]] > 10).astype(np.uint8)), "digits 1,3,5,6: the selected class means")
docs_h5 = os.path.join(repo, "docs", "results", "digits.h5")
with h5py.File(docs_h5) as f:
    check(np.array_equal(read(dg)[0], f["patterns"][()]), "digits 1,3,5,6 equal docs/results/digits.h5 (scripts/digits_example.py)")
ratio = float(p.stdout.split("mean ")[1].split(",")[0])
check(abs(ratio - 0.381) < 5e-4, f"digits 1,3,5,6: mean overlap ratio r = 0.381 as in docs/results.md (got {ratio})")
s = retrieve(dg, extra=["-storage", "lowrank", "-balance", ratio, "-flip", 0.1], trials=4)
check(s["retrieval_rate"] == 1.0, f"digits 1,3,5,6, general design (-balance r): all 4 retrieved ({[t['label'] for t in s['trials']]})")
make("--sklearn", "digits", "--digits-mode", "images", "--items", "0,1,2,3", "--out", os.path.join(tmp, "di.h5"))
check(read(os.path.join(tmp, "di.h5"))[0].shape == (4, 64), "digits images: 4 items of 64 pixels")

# 5. another bundled data set, thresholded per feature (the default there): 150 samples x 4 features,
#    each feature repeated 50 times (n = 200 >= P)
from sklearn.datasets import load_iris  # noqa: E402

iris = load_iris().data
p = make("--sklearn", "iris", "--out", os.path.join(tmp, "iris.h5"), ok=False)
check(p.returncode != 0 and "ratemem needs P <= n" in p.stderr, "iris as is (P = 150 > n = 4) refused")
p = make("--sklearn", "iris", "--upsample", "200x1", "--out", os.path.join(tmp, "iris.h5"))
up = np.repeat(iris, 50, axis=1)
check_file("sklearn iris", os.path.join(tmp, "iris.h5"), (up > up.mean(axis=0)).astype(np.uint8), "sklearn",
           {"threshold": "common-mean"})
check("repeat an earlier one" in p.stderr, "iris: repeated items reported on stderr")

# 6. bad input: one line naming the problem, non-zero exit, no file
for args, msg in [([npy, "--threshold", "foo"], "--threshold takes a number"),
                  ([npy, "--items", "0,9"], "9 is out of range"),
                  ([npy, "--upsample", "32"], "--upsample takes WxH"),
                  ([npy, "--threshold", 2.0], "every entry is 0"),
                  (["--sklearn", "nope"], "unknown scikit-learn data set 'nope'"),
                  ([os.path.join(tmp, "none.npy")], "does not exist"),
                  ([os.path.join(tmp, "a.h5")], "neither a .npy/.npz file nor a directory")]:
    bad = os.path.join(tmp, "bad.h5")
    p = make(*args, "--out", bad, ok=False)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0 and len(lines) == 1 and msg in lines[0] and not os.path.exists(bad), f"refused: {msg} ({lines[-1] if lines else ''})")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("all make_patterns checks passed")
