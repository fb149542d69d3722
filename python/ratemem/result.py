"""The results of one `ratemem retrieve` run: its JSON summary and its HDF5 output."""
import json
from pathlib import Path

import numpy

from ._table import make_table

__all__ = ["Result", "load"]

_DATASETS = ("patterns", "initial_states", "final_states", "overlaps", "overlaps_raw")
LABEL_COLORS = {"retrieved": "tab:green", "other": "tab:orange", "spurious": "tab:red", "unconverged": "tab:gray"}


def _plain(v):
    """An HDF5 attribute value as plain Python (str, number or list)."""
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, numpy.ndarray):
        return [_plain(x) for x in v.tolist()] if v.dtype.kind in "OSU" else v.tolist()
    if isinstance(v, numpy.generic):
        return v.item()
    return v


class Result:
    """One retrieval run. ``summary`` is the JSON summary (dict); ``trials`` a table of its trials
    (pandas DataFrame, or a ratemem Table of dicts without pandas); ``retrieval_rate`` and
    ``counts`` come from the summary. ``patterns`` (P x n uint8), ``initial_states``,
    ``final_states`` (T x n), ``overlaps`` and ``overlaps_raw`` (T x P) are read from the HDF5
    output on first access and then kept. ``parameters``: the HDF5 file's root attributes (every
    setting of the run, "network.seed" as parameters["network"]["seed"]), else the summary's model,
    network, cue and integrator settings."""

    def __init__(self, summary_path=None, output_path=None, stdout="", command=None, _tmpdir=None):
        self.summary_path = Path(summary_path) if summary_path else None
        self.output_path = Path(output_path) if output_path else None
        if self.summary_path is None and self.output_path is None:
            raise ValueError("a Result needs a summary (.json) or an output (.h5) file")
        self.stdout = stdout  # the table the binary printed (empty for a loaded result)
        self.command = command  # the command line that produced it (None for a loaded result)
        self._tmpdir = _tmpdir  # keeps a temporary output directory alive as long as the Result
        self._summary = None
        self._arrays = {}
        self._attrs = None

    # -- the summary
    @property
    def summary(self):
        if self._summary is None:
            if self.summary_path is None or not self.summary_path.exists():
                raise FileNotFoundError(f"no JSON summary next to {self.output_path} (expected {self.output_path.with_suffix('.json')})")
            with open(self.summary_path) as f:
                self._summary = json.load(f)
        return self._summary

    @property
    def trials(self):
        return make_table(self.summary["trials"])

    @property
    def retrieval_rate(self):
        return float(self.summary["retrieval_rate"])

    @property
    def counts(self):
        return dict(self.summary["counts"])

    @property
    def labels(self):
        return [t["label"] for t in self.summary["trials"]]

    # -- the HDF5 output
    def _h5(self):
        if self.output_path is None or not self.output_path.exists():
            where = self.output_path or (self.summary_path.with_suffix(".h5") if self.summary_path else "?")
            raise FileNotFoundError(f"no HDF5 output {where} (run with states=True, or keep it next to the summary)")
        import h5py
        return h5py.File(self.output_path, "r")

    def _dataset(self, name):
        if name not in self._arrays:
            with self._h5() as f:
                if name not in f:
                    raise KeyError(f"{self.output_path} has no dataset /{name}")
                self._arrays[name] = f[name][()]
        return self._arrays[name]

    patterns = property(lambda self: self._dataset("patterns"), doc="the memories, P x n uint8 0/1")
    initial_states = property(lambda self: self._dataset("initial_states"), doc="the cues, T x n")
    final_states = property(lambda self: self._dataset("final_states"), doc="the final states, T x n")
    overlaps = property(lambda self: self._dataset("overlaps"), doc="normalised overlaps of the final states, T x P")
    overlaps_raw = property(lambda self: self._dataset("overlaps_raw"), doc="raw overlaps of the final states, T x P")

    @property
    def parameters(self):
        if self._attrs is None:
            attrs = {}
            if self.output_path is not None and self.output_path.exists():
                with self._h5() as f:  # "network.seed" -> attrs["network"]["seed"], as in the summary
                    for k, v in f.attrs.items():
                        group, _, key = k.rpartition(".")
                        (attrs.setdefault(group, {}) if group else attrs)[key] = _plain(v)
            if not attrs:
                s = self.summary
                attrs = {k: s[k] for k in ("model", "network", "cue", "integrator") if k in s}
            self._attrs = attrs
        return self._attrs

    @property
    def n(self):
        return self.summary["network"]["n"]

    @property
    def memories(self):
        return self.summary["network"]["memories"]

    def __repr__(self):
        try:
            s = self.summary
            net = s["network"]
            return (f"<ratemem.Result n={net['n']} P={net['memories']} storage={net['storage']} "
                    f"trials={len(s['trials'])} retrieval_rate={s['retrieval_rate']:.3f}>")
        except (FileNotFoundError, KeyError):
            return f"<ratemem.Result {self.output_path}>"

    # -- plots (matplotlib imported only here)
    def plot_overlaps(self, path=None, ax=None, title=None):
        """Heat map of the final normalised overlaps (trial x memory), the cued memory of each trial
        circled. Returns the Figure; saves it to ``path`` if given."""
        from matplotlib.figure import Figure

        m = numpy.asarray(self.overlaps)
        size = (min(1.2 + 0.35 * max(m.shape[1], 6), 14), min(1.2 + 0.3 * max(m.shape[0], 5), 10))  # capped for large runs
        fig = ax.figure if ax is not None else Figure(figsize=size, layout="constrained")
        ax = ax if ax is not None else fig.add_subplot()
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto", interpolation="nearest")
        try:
            cues = [t["cue_memory"] for t in self.summary["trials"]]
            ax.scatter(cues, range(len(cues)), s=60, facecolors="none", edgecolors="k")
            title = title or "final overlaps m_μ (○ cued memory)"
        except FileNotFoundError:
            pass
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("memory μ")
        ax.set_ylabel("trial")
        ax.set_title(title or "final overlaps m_μ")
        fig.colorbar(im, ax=ax, label="normalised overlap")
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig

    def plot_retrieval(self, path=None, title=None):
        """Final overlap with the cued memory per trial, coloured by label, with the retrieval
        threshold; and the count of each label. Returns the Figure; saves it to ``path`` if given."""
        from matplotlib.figure import Figure

        s = self.summary
        trials = s["trials"]
        fig = Figure(figsize=(9, 3.6), layout="constrained")
        ax, bx = fig.subplots(1, 2, width_ratios=[3, 1])
        t = [r["trial"] for r in trials]
        ax.bar(t, [r["overlap_cue"] for r in trials], color=[LABEL_COLORS.get(r["label"], "k") for r in trials])
        thr = s.get("overlap_threshold")
        if thr is not None:
            ax.axhline(thr, color="k", ls="--", lw=1, label=f"threshold {thr:g}")
            ax.legend(loc="lower right", fontsize="small")
        ax.set_xlabel("trial")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("final overlap with the cued memory")
        ax.set_ylim(min(0.0, min((r["overlap_cue"] for r in trials), default=0)) - 0.05, 1.05)
        labels = list(LABEL_COLORS)
        bx.bar(labels, [s["counts"].get(l, 0) for l in labels], color=[LABEL_COLORS[l] for l in labels])
        bx.tick_params(axis="x", rotation=45)
        bx.set_ylabel("trials")
        net = s["network"]
        fig.suptitle(title or f"retrieval rate {s['retrieval_rate']:.3f}  (n = {net['n']}, P = {net['memories']}, "
                              f"{net['design']}, {net['storage']})")
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def load(path):
    """A Result from ``run.h5`` or ``run.json``; the sibling file with the same stem (``run.json``
    or ``run.h5``) is used too when it exists."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.suffix == ".json":
        h5 = next((p for p in (path.with_suffix(".h5"), path.with_suffix(".hdf5")) if p.exists()), None)
        return Result(summary_path=path, output_path=h5)
    if path.suffix in (".h5", ".hdf5"):
        js = path.with_suffix(".json")
        return Result(summary_path=js if js.exists() else None, output_path=path)
    raise ValueError(f"{path}: expected a .json summary or a .h5 output of ratemem retrieve")
