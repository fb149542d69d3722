#!/usr/bin/python3
"""Make a memories file for `ratemem retrieve -patterns FILE` from real data.

Usage:
  make_patterns.py ARRAY.npy|ARRAY.npz [--key NAME]      --out FILE [options]
  make_patterns.py DIRECTORY_OF_PNGS                      --out FILE [options]
  make_patterns.py --sklearn digits [--digits-mode means|images] --out FILE [options]
  make_patterns.py --sklearn iris|wine|breast_cancer|...  --out FILE [options]

Items: the first axis of the array (each item an image or a vector); the PNG files of the
directory in name order (converted to grey levels); scikit-learn's bundled digits (`means`: the
mean 8x8 image of each class 0-9, the default; `images`: each of the 1797 images) or the samples
of another bundled data set (one vector of features per sample).

Each item is resampled (--upsample WxH: nearest neighbour to W columns x H rows; a vector is a
1-row image) and thresholded, value > threshold -> 1:
  --threshold NUMBER       one threshold for every entry
  --threshold mean|median  each item against its own mean (median)
  --threshold common-mean|common-median
                           each entry (pixel, feature) against its mean (median) over the items
Default: common-mean for the feature data sets (thresholded per feature), mean otherwise.

The output is HDF5 /patterns, uint8 0/1, P x n (the format src/patterns/load.c reads), with root
attributes recording where it came from (source, threshold, upsampling, items, item shape, coding q,
date, command line). It is written to FILE.partial and renamed; an existing FILE is refused
unless --force. Prints n, P, q and the range of the pairwise overlap ratios
r = xi^mu . xi^nu / (q n) (mu != nu; independent memories have r ~ q)."""
import argparse
import datetime
import glob
import os
import shlex
import sys

import h5py
import numpy as np

FEATURE_SETS = ("iris", "wine", "breast_cancer", "diabetes", "linnerud")


def fail(msg):
    sys.exit(f"make_patterns.py: error: {msg}")


# ---------------------------------------------------------------- sources: items (P, ...) and labels

def load_array(path, key):
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        fail(f"cannot read {path} as a NumPy file: {e}")
    if isinstance(data, np.lib.npyio.NpzFile):
        names = list(data.keys())
        if key is None:
            if len(names) != 1:
                fail(f"{path} holds {len(names)} arrays ({', '.join(names)}); choose one with --key")
            key = names[0]
        if key not in names:
            fail(f"{path} has no array '{key}' (it has {', '.join(names)})")
        arr = data[key]
        source = f"{path}:{key}"
    else:
        if key is not None:
            fail("--key is for .npz files")
        arr, source = data, path
    if arr.ndim not in (2, 3):
        fail(f"{source}: expected an array of items, P x n (vectors) or P x H x W (images); got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        fail(f"{source}: expected numbers, got dtype {arr.dtype}")
    return arr.astype(float), None, source


def load_png_folder(folder):
    import matplotlib.image as mpimg

    files = sorted(glob.glob(os.path.join(folder, "*.png")) + glob.glob(os.path.join(folder, "*.PNG")))
    if not files:
        fail(f"{folder} has no .png files")
    items = []
    for f in files:
        try:
            img = mpimg.imread(f)
        except (OSError, ValueError, SyntaxError) as e:
            fail(f"cannot read {f} as a PNG: {e}")
        if img.ndim == 3:  # RGB(A): grey level = mean of R, G, B (alpha ignored)
            img = img[..., :3].mean(axis=2)
        if items and img.shape != items[0].shape:
            fail(f"{f} is {img.shape[1]}x{img.shape[0]} pixels, {files[0]} is {items[0].shape[1]}x{items[0].shape[0]}: all images must have the same size")
        items.append(img.astype(float))
    return np.array(items), [os.path.basename(f) for f in files], folder


def load_sklearn(name, digits_mode):
    try:
        import sklearn.datasets as ds
    except ImportError:
        fail("--sklearn needs scikit-learn (Debian: apt-get install python3-sklearn)")
    if name == "digits":
        d = ds.load_digits()
        if digits_mode == "means":
            classes = sorted(set(d.target.tolist()))
            return np.array([d.images[d.target == k].mean(axis=0) for k in classes]), classes, "sklearn:digits (class means)"
        return d.images.astype(float), d.target.tolist(), "sklearn:digits (images)"
    loader = getattr(ds, f"load_{name}", None)
    if loader is None or name not in FEATURE_SETS:
        fail(f"unknown scikit-learn data set '{name}' (bundled: digits, {', '.join(FEATURE_SETS)})")
    d = loader()
    target = getattr(d, "target", None)
    labels = target.tolist() if target is not None and np.ndim(target) == 1 else None
    return np.asarray(d.data, dtype=float), labels, f"sklearn:{name}"


# ---------------------------------------------------------------- transforms

def parse_size(spec):
    try:
        w, h = (int(v) for v in spec.lower().split("x"))
    except ValueError:
        fail(f"--upsample takes WxH (e.g. 32x32), got '{spec}'")
    if w < 1 or h < 1:
        fail(f"--upsample: sizes must be positive, got '{spec}'")
    return w, h


def resample(items, width, height):
    """Nearest-neighbour resampling of every item (H0 x W0, or a vector as 1 x W0) to height x width."""
    imgs = items[:, None, :] if items.ndim == 2 else items
    h0, w0 = imgs.shape[1:]
    rows = np.minimum(((np.arange(height) + 0.5) * h0 / height).astype(int), h0 - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w0 / width).astype(int), w0 - 1)
    return imgs[:, rows][:, :, cols]


def parse_items(spec, count):
    try:
        idx = [int(v) for v in spec.split(",") if v.strip()]
    except ValueError:
        fail(f"--items takes comma-separated indices, got '{spec}'")
    if not idx:
        fail("--items needs at least one index")
    bad = [i for i in idx if not 0 <= i < count]
    if bad:
        fail(f"--items: {bad[0]} is out of range (the source has {count} items, 0-{count - 1})")
    if len(set(idx)) != len(idx):
        fail(f"--items: '{spec}' repeats an item")
    return idx


def threshold(flat, spec):
    """(bits, description): flat is P x n, bits = flat > threshold."""
    if spec == "mean":
        return flat > flat.mean(axis=1, keepdims=True), "mean of each item"
    if spec == "median":
        return flat > np.median(flat, axis=1, keepdims=True), "median of each item"
    if spec == "common-mean":
        return flat > flat.mean(axis=0, keepdims=True), "mean over the items of each entry"
    if spec == "common-median":
        return flat > np.median(flat, axis=0, keepdims=True), "median over the items of each entry"
    try:
        t = float(spec)
    except ValueError:
        fail(f"--threshold takes a number, mean, median, common-mean or common-median; got '{spec}'")
    if not np.isfinite(t):
        fail(f"--threshold must be finite, got '{spec}'")
    return flat > t, f"{t:g}"


def overlap_ratios(pats):
    P, n = pats.shape
    q = pats.mean()
    if P < 2:
        return np.array([])
    x = pats.astype(np.int64)
    g = x @ x.T
    return g[~np.eye(P, dtype=bool)] / (q * n)


def warn_degenerate(pats, chosen, how):
    """Constant items and repeated items are legal but useless memories: say which, on stderr."""
    ones = pats.sum(axis=1)
    const = [chosen[k] for k in np.flatnonzero((ones == 0) | (ones == pats.shape[1]))]
    if const:
        print(f"make_patterns.py: warning: {len(const)} item(s) all 0 or all 1 after thresholding ({how}): "
              f"{','.join(map(str, const[:10]))}{',...' if len(const) > 10 else ''}", file=sys.stderr)
    _, first = np.unique(pats, axis=0, return_index=True)
    dup = sorted(set(range(len(pats))) - set(first.tolist()))
    if dup:
        print(f"make_patterns.py: warning: {len(dup)} item(s) repeat an earlier one: {','.join(str(chosen[k]) for k in dup[:10])}"
              f"{',...' if len(dup) > 10 else ''}", file=sys.stderr)


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", nargs="?", help="a .npy/.npz array or a folder of PNG images")
    ap.add_argument("--sklearn", metavar="NAME", help="a scikit-learn bundled data set instead of SOURCE")
    ap.add_argument("--digits-mode", choices=("means", "images"), default="means")
    ap.add_argument("--key", help="the array of a .npz file (needed when it holds several)")
    ap.add_argument("--threshold", help="NUMBER, mean, median, common-mean or common-median (see above)")
    ap.add_argument("--upsample", metavar="WxH", help="nearest-neighbour resampling of each item to W x H")
    ap.add_argument("--items", metavar="I,J,...", help="the items to keep, in this order (default: all)")
    ap.add_argument("--out", required=True, help="the HDF5 file to write")
    ap.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    args = ap.parse_args(argv)

    if (args.source is None) == (args.sklearn is None):
        fail("give a SOURCE (.npy, .npz or a PNG folder) or --sklearn NAME, not both or neither")
    if os.path.exists(args.out) and not args.force:
        fail(f"{args.out} exists; use --force to overwrite it")
    if args.sklearn:
        items, labels, source = load_sklearn(args.sklearn, args.digits_mode)
        kind = "sklearn"
    elif os.path.isdir(args.source):
        items, labels, source = load_png_folder(args.source)
        kind = "png-folder"
    elif args.source.endswith((".npy", ".npz")):
        if not os.path.isfile(args.source):
            fail(f"{args.source} does not exist")
        items, labels, source = load_array(args.source, args.key)
        kind = "numpy"
    else:
        fail(f"{args.source} is neither a .npy/.npz file nor a directory of PNG images")
    if not np.all(np.isfinite(items)):
        fail(f"{source} has NaN or infinite values")

    chosen = parse_items(args.items, len(items)) if args.items else list(range(len(items)))
    items = items[chosen]
    labels = [labels[i] for i in chosen] if labels is not None else None
    upsample = ""
    if args.upsample:
        w, h = parse_size(args.upsample)
        before = "x".join(str(s) for s in reversed(items.shape[1:])) if items.ndim == 3 else f"{items.shape[1]}x1"
        items = resample(items, w, h)
        upsample = f"{before} -> {w}x{h} (nearest neighbour)"
    shape = items.shape[1:]
    flat = items.reshape(len(items), -1)
    spec = args.threshold or ("common-mean" if kind == "sklearn" and args.sklearn != "digits" else "mean")
    bits, how = threshold(flat, spec)
    pats = bits.astype(np.uint8)
    P, n = pats.shape
    if P > n:
        fail(f"{P} items of {n} entries: ratemem needs P <= n memories; keep fewer with --items or enlarge them with --upsample")
    q = float(pats.mean())
    if q in (0.0, 1.0):
        fail(f"every entry is {int(q)} after thresholding ({how}); choose another --threshold")
    warn_degenerate(pats, chosen, how)
    r = overlap_ratios(pats)

    tmp = args.out + ".partial"
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("patterns", data=pats)
            a = f.attrs
            a["created_by"] = "scripts/make_patterns.py"
            a["source"] = source
            a["source_kind"] = kind
            a["threshold"] = spec
            a["threshold_meaning"] = f"entry > {how}"
            a["upsample"] = upsample or "none"
            a["items"] = np.array(chosen, dtype=np.int64)
            a["item_shape"] = np.array(shape, dtype=np.int64)
            if labels is not None:
                a["item_labels"] = [str(v) for v in labels]
            a["n"] = n
            a["P"] = P
            a["coding"] = q
            a["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            a["command"] = shlex.join([sys.argv[0]] + (argv if argv is not None else sys.argv[1:]))
        os.replace(tmp, args.out)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        fail(f"cannot write {args.out}: {e}")

    print(f"{args.out}: n = {n}, P = {P}, q = {q:.4f} (item shape {'x'.join(str(s) for s in reversed(shape))}, source {source}, threshold {spec})")
    if r.size:
        print(f"pairwise overlap ratio r = xi.xi'/(q n): min {r.min():.4f}, mean {r.mean():.4f}, max {r.max():.4f} (independent memories: about q = {q:.4f})")
    else:
        print("pairwise overlap ratio: none (one item)")


if __name__ == "__main__":
    main()
