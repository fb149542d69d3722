"""ratemem.run and ratemem.sweep: the binary's retrieve and sweep subcommands from Python."""
import os
import tempfile
from pathlib import Path

from ._launch import RatememError, execute, option_args
from ._table import read_csv
from .result import Result

__all__ = ["run", "sweep", "load_sweep"]

# Managed by run()/sweep() themselves: giving them as options would fight the Python side.
_RESERVED = {"summary", "output", "sweep_csv", "options_file_yaml"}


def _check_options(options):
    bad = sorted(k for k in options if k.lstrip("-") in _RESERVED)
    if bad:
        raise TypeError(f"ratemem: {', '.join(bad)} is set by the Python API; use out=/name=/states= (run), csv= (sweep) or config=")


def run(np=2, neurons=None, storage=None, trials=None, *, config=None, out=None, name="run", states=True, exe=None,
        timeout=None, **options):
    """Run ``ratemem retrieve`` on ``np`` ranks and return its Result.

    ``neurons``, ``storage`` and ``trials`` default to 10000, "lowrank" and 4 unless a YAML
    ``config`` (``-options_file_yaml``) is given, whose values then apply (and ``neurons`` to the
    size of the ``patterns=`` file when one is given). Every other keyword
    becomes an option: ``flip=0.1`` -> ``-flip 0.1``, ``monitor=True`` -> ``-monitor``, lists
    are comma-joined, None is left out. The summary and (with ``states=True``) the HDF5 states
    are written to ``out/NAME.json`` and ``out/NAME.h5``; without ``out`` to a temporary
    directory removed with the Result. Raises RatememError with the binary's message on failure.
    """
    _check_options(options)
    given = {"neurons": neurons, "storage": storage, "trials": trials}
    if config is None:
        defaults = {"neurons": 10000, "storage": "lowrank", "trials": 4}
        if options.get("patterns") is not None:
            del defaults["neurons"]  # n comes from the patterns file
        given = {k: defaults.get(k) if v is None else v for k, v in given.items()}
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="ratemem-run.")
        outdir = Path(tmp.name)
    else:
        outdir = Path(out)
        outdir.mkdir(parents=True, exist_ok=True)
    summary = (outdir / f"{name}.json").resolve()
    output = (outdir / f"{name}.h5").resolve() if states else None
    args = []
    if config is not None:
        if not Path(config).is_file():
            raise RatememError(f"config file {config} does not exist")
        args += ["-options_file_yaml", str(Path(config).resolve())]
    args += option_args({**given, **options})
    args += ["-summary", str(summary)] + (["-output", str(output)] if output else [])
    p = execute("retrieve", args, np=np, exe=exe, timeout=timeout)
    if not summary.exists():
        raise RatememError(f"ratemem retrieve wrote no summary {summary} (an input schedule writes -overlap_history instead)",
                           p.returncode, p.args, p.stdout, p.stderr)
    return Result(summary, output, stdout=p.stdout, command=p.args, _tmpdir=tmp)


def sweep(config=None, np=2, *, csv=None, exe=None, timeout=None, **options):
    """Run ``ratemem sweep`` on ``np`` ranks (grid from the YAML ``config`` and/or options such as
    ``sweep_flip=[0.1, 0.2]``, ``sweep_design="paper,hebbian"``) and return its CSV as a table
    (see load_sweep). ``csv``: where to write it (points already in it are skipped, as by the
    binary); without it a temporary file is used, so a config's own ``sweep_csv`` is not touched."""
    _check_options(options)
    args = []
    if config is not None:
        if not Path(config).is_file():
            raise RatememError(f"config file {config} does not exist")
        args += ["-options_file_yaml", str(Path(config).resolve())]
    with tempfile.TemporaryDirectory(prefix="ratemem-sweep.") as tmp:
        path = Path(csv).resolve() if csv is not None else Path(tmp) / "sweep.csv"
        if csv is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        args += option_args(options) + ["-sweep_csv", str(path)]
        execute("sweep", args, np=np, exe=exe, timeout=timeout)
        return load_sweep(path)


def load_sweep(path):
    """A ``ratemem sweep`` CSV as a pandas DataFrame (if pandas is importable) or a Table (a list
    of dicts with numeric fields converted; ``table["retrieval_rate"]`` is a numpy column)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    return read_csv(path)
