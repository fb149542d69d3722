"""Tests of the ratemem Python package (python/ratemem) against the real binary.

Run by meson as t9-python with RATEMEM_EXE (the built binary) and PYTHONPATH (python/) set; by hand:
    RATEMEM_EXE=build/ratemem PYTHONPATH=python /usr/bin/python3 -m pytest -q tests/python/test_ratemem.py"""
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import ratemem
from ratemem import _launch, _table

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small():
    """One 2-rank retrieval shared by several tests: n = 2000, P = 10, 4 trials, lowrank."""
    return ratemem.run(np=2, neurons=2000, trials=4, seed=3)


def assert_png(path):
    path = Path(path)
    assert path.is_file() and path.stat().st_size > 1000, f"{path} missing or too small"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"


# -- command line and launcher

def test_option_args():
    args = _launch.option_args({"neurons": 300, "flip": 0.1, "monitor": True, "batch": False, "seed": None,
                                "sweep_flip": [0.1, 0.25], "design": "hebbian"})
    assert args == ["-neurons", "300", "-flip", "0.1", "-monitor", "-batch", "false", "-sweep_flip", "0.1,0.25",
                    "-design", "hebbian"]


def test_launcher(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("RATEMEM_LAUNCHER", raising=False)
    cmd = _launch.launcher(3)
    assert cmd[0] == "mpiexec" and cmd[-2:] == ["-n", "3"] and "--oversubscribe" in cmd
    assert ("--allow-run-as-root" in cmd) == (os.geteuid() == 0)
    # inside a SLURM allocation: srun with PMIx when srun has it, else mpiexec on SLURM's slots
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setattr(_launch.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(_launch, "_srun_has_pmix", lambda: True)
    assert _launch.launcher(4) == ["srun", "--mpi=pmix", "--kill-on-bad-exit=0", "-n", "4"]
    monkeypatch.setattr(_launch, "_srun_has_pmix", lambda: False)
    cmd = _launch.launcher(4)
    assert cmd[0] == "mpiexec" and "--oversubscribe" not in cmd and cmd[-2:] == ["-n", "4"]
    monkeypatch.setenv("RATEMEM_LAUNCHER", "mpirun --bind-to none")
    assert _launch.launcher(2) == ["mpirun", "--bind-to", "none", "-n", "2"]
    monkeypatch.setenv("RATEMEM_LAUNCHER", "srun")
    assert _launch.launcher(2)[:2] == ["srun", "--mpi=pmix"]


def test_find_executable(monkeypatch):
    exe = os.environ.get("RATEMEM_EXE")
    assert exe, "the tests need RATEMEM_EXE (the built binary)"
    assert ratemem.find_executable() == str(Path(exe).resolve())
    monkeypatch.setenv("RATEMEM_EXE", "/nonexistent/ratemem")
    with pytest.raises(ratemem.RatememError, match="cannot find the ratemem binary"):
        ratemem.find_executable()
    monkeypatch.delenv("RATEMEM_EXE")
    tree = REPO / "build" / "ratemem"
    if tree.is_file():  # without RATEMEM_EXE: the checkout's build/ratemem comes first
        assert ratemem.find_executable() == str(tree.resolve())
    assert ratemem.find_executable(exe) == str(Path(exe).resolve())


# -- run

def test_run(small):
    r = small
    assert r.retrieval_rate == 1.0 and isinstance(r.retrieval_rate, float)
    assert r.counts == {"retrieved": 4, "other": 0, "saturated": 0, "quiescent": 0, "spurious": 0, "unconverged": 0}
    assert r.summary["ranks"] == 2 and r.n == 2000 and r.memories == 10
    assert r.summary["network"]["storage"] == "lowrank"
    assert len(r.trials) == 4 and list(r.trials["label"]) == ["retrieved"] * 4
    assert list(r.trials["cue_memory"]) == [0, 1, 2, 3]
    assert "-summary" in r.command and "ratemem retrieve" in r.stdout
    # arrays are read on first access, then kept
    assert r._arrays == {}
    m = r.overlaps
    assert "overlaps" in r._arrays and r.overlaps is m
    assert m.shape == (4, 10) and list(np.argmax(m, axis=1)) == [0, 1, 2, 3]
    assert np.all(m[np.arange(4), [0, 1, 2, 3]] > 0.99)
    assert r.final_states.shape == (4, 2000) and r.initial_states.shape == (4, 2000)
    assert r.overlaps_raw.shape == (4, 10)
    assert r.patterns.shape == (10, 2000) and r.patterns.dtype == np.uint8 and set(np.unique(r.patterns)) == {0, 1}
    assert r.parameters["network"]["n"] == 2000 and "model" in r.parameters  # the HDF5 file's attributes


def test_trials_table(small, monkeypatch):
    if _table.have_pandas():
        import pandas
        assert isinstance(small.trials, pandas.DataFrame)
    else:
        assert isinstance(small.trials, ratemem.Table)
    monkeypatch.setattr(_table, "have_pandas", lambda: False)  # the fallback, whatever is installed
    t = small.trials
    assert isinstance(t, ratemem.Table) and isinstance(t[0], dict)
    assert t[1]["trial"] == 1 and t["overlap"].dtype == float and len(t["overlap"]) == 4
    assert len(t.where(label="retrieved")) == 4 and len(t[:2]) == 2
    with pytest.raises(KeyError):
        t["no_such_column"]


def test_run_defaults_and_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("neurons: 300\nmemories: 3\ntrials: 2\nflip: 0.05\nintegrator: adams\n")
    r = ratemem.run(np=1, config=cfg, states=False)
    assert r.n == 300 and r.memories == 3 and len(r.trials) == 2  # no 10000/4 defaults over the config
    assert r.summary["integrator"]["method"] == "adams" and r.summary["network"]["storage"] == "dense"
    with pytest.raises(FileNotFoundError, match="no HDF5 output"):
        r.final_states
    r = ratemem.run(np=1, config=cfg, neurons=400, integrator="bdf", states=False)
    assert r.n == 400 and r.summary["integrator"]["method"] == "bdf"


def test_run_patterns_file(tmp_path):
    pats = (np.random.default_rng(5).random((4, 500)) < 0.2).astype(np.uint8)
    pf = tmp_path / "p.h5"
    with h5py.File(pf, "w") as f:
        f["patterns"] = pats
    r = ratemem.run(np=2, patterns=pf, trials=4)
    assert "-neurons" not in r.command  # n comes from the file, not the default 10000
    assert r.n == 500 and r.memories == 4 and r.retrieval_rate == 1.0
    assert np.array_equal(r.patterns, pats)


def test_temporary_directory_removed():
    r = ratemem.run(np=1, neurons=300, memories=3, trials=1)
    d = r.summary_path.parent
    assert r.summary_path.is_file() and r.output_path.is_file()
    r.final_states
    del r
    gc.collect()
    assert not d.exists()


def test_out_dir_and_load(tmp_path):
    r = ratemem.run(np=2, neurons=600, memories=4, trials=3, storage="dense", out=tmp_path, name="r1", seed=5)
    js, h5 = tmp_path / "r1.json", tmp_path / "r1.h5"
    assert js.is_file() and h5.is_file() and r.summary_path == js.resolve()
    for path in (h5, js, str(h5)):
        loaded = ratemem.load(path)
        assert loaded.summary == json.loads(js.read_text())
        assert loaded.retrieval_rate == r.retrieval_rate
        assert np.array_equal(loaded.final_states, r.final_states)
        assert np.array_equal(loaded.overlaps, r.overlaps)
        assert len(loaded.trials) == 3
    # an HDF5 file alone: its arrays, no summary
    only = tmp_path / "only.h5"
    only.write_bytes(h5.read_bytes())
    alone = ratemem.load(only)
    assert alone.patterns.shape == (4, 600)
    with pytest.raises(FileNotFoundError, match="no JSON summary"):
        alone.summary
    # the file describes its run: its root attributes are the parameters, grouped by their dotted names
    p = alone.parameters
    assert p["network"]["n"] == 600 and p["network"]["memories"] == 4 and p["model"]["alpha"] > 0
    assert p["rerun"].startswith("retrieve") and p["ranks"] >= 1 and p["ratemem_version"]
    with pytest.raises(FileNotFoundError):
        ratemem.load(tmp_path / "missing.h5")
    other = tmp_path / "x.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match="expected a .json"):
        ratemem.load(other)


# -- errors

def test_errors(tmp_path):
    with pytest.raises(ratemem.RatememError) as e:
        ratemem.run(np=2, neurons=300, storage="nope")
    assert str(e.value) == "Unknown option nope for -storage. Available options: dense aij lowrank compressed spatial"
    assert e.value.returncode == 1 and e.value.command[0] in ("mpiexec", "srun") and "retrieve" in e.value.command
    with pytest.raises(ratemem.RatememError) as e:
        ratemem.run(np=1, neurons=300, bogus=3)
    assert str(e.value) == "unknown option -bogus (see -help)"
    with pytest.raises(ratemem.RatememError, match="does not exist"):
        ratemem.run(np=1, neurons=300, patterns=tmp_path / "none.h5")
    with pytest.raises(ratemem.RatememError, match="config file .* does not exist"):
        ratemem.run(config=tmp_path / "none.yaml")
    with pytest.raises(ratemem.RatememError, match="cannot find the ratemem binary"):
        ratemem.run(np=1, exe=tmp_path / "no-binary")
    with pytest.raises(TypeError, match="set by the Python API"):
        ratemem.run(np=1, summary="x.json")
    with pytest.raises(ratemem.RatememError, match="-sweep_flip: 'abc' is not a number"):
        ratemem.sweep(np=1, neurons=300, sweep_flip="abc")


def test_checkpointed_and_restart(tmp_path):
    ck = tmp_path / "ck.h5"
    with pytest.raises(ratemem.Checkpointed) as e:
        ratemem.run(np=2, neurons=500, memories=4, trials=2, checkpoint=ck, checkpoint_stop_after_steps=5)
    assert e.value.returncode == 3 and str(e.value).startswith("checkpointed at t = ") and f"-restart {ck}" in str(e.value)
    assert isinstance(e.value, ratemem.RatememError) and ck.is_file()
    r = ratemem.run(np=2, neurons=500, memories=4, trials=2, checkpoint=ck, restart=ck)
    assert r.retrieval_rate == 1.0 and len(r.trials) == 2


# -- sweep

def test_sweep_and_load_sweep(tmp_path):
    csv = tmp_path / "sub" / "sweep.csv"
    t = ratemem.sweep(np=2, csv=csv, neurons=300, memories=5, trials=3, storage="lowrank",
                      sweep_design=["paper", "hebbian"], sweep_flip=[0.05, 0.45], quiet=True)
    assert len(t) == 4 and csv.is_file()
    assert list(t["design"]) == ["paper", "paper", "hebbian", "hebbian"]
    assert list(t["flip"]) == [0.05, 0.45, 0.05, 0.45]
    assert list(t["neurons"]) == [300] * 4 and list(t["trials"]) == [3] * 4
    rates = np.asarray(t["retrieval_rate"], dtype=float)
    assert rates[0] == 1.0 and rates[2] == 1.0 and np.all((0 <= rates) & (rates <= 1))
    loaded = ratemem.load_sweep(csv)
    assert len(loaded) == 4 and list(loaded["retrieval_rate"]) == list(t["retrieval_rate"])
    # a rerun into the same CSV skips its points: same rows
    again = ratemem.sweep(np=1, csv=csv, neurons=300, memories=5, trials=3, storage="lowrank",
                          sweep_design="paper,hebbian", sweep_flip="0.05,0.45", quiet=True)
    assert len(again) == 4 and list(again["wall_time"]) == list(t["wall_time"])
    # a config's sweep_csv is not touched without csv=
    cfg = tmp_path / "s.yaml"
    target = tmp_path / "config_target.csv"
    cfg.write_text(f"neurons: 300\nmemories: 3\ntrials: 2\nsweep_flip: 0.1\nsweep_csv: {target}\n")
    t = ratemem.sweep(config=cfg, np=1, quiet=True)
    assert len(t) == 1 and not target.exists()
    with pytest.raises(FileNotFoundError):
        ratemem.load_sweep(tmp_path / "none.csv")


# -- plots

def test_plots(small, tmp_path):
    from matplotlib.figure import Figure
    fig = small.plot_overlaps(path=tmp_path / "o.png")
    assert isinstance(fig, Figure)
    assert_png(tmp_path / "o.png")
    fig = small.plot_retrieval(path=tmp_path / "r.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert_png(tmp_path / "r.png")
    assert isinstance(small.plot_overlaps(), Figure)  # without path: nothing saved, the figure returned


def test_quickstart(tmp_path):
    png = tmp_path / "quick.png"
    env = dict(os.environ, RATEMEM_EXE=str(Path(os.environ["RATEMEM_EXE"]).resolve()))  # run from another directory
    env.pop("PYTHONPATH", None)  # the example finds the package of its checkout itself
    p = subprocess.run([sys.executable, str(REPO / "examples" / "quickstart.py"), str(png)], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert "retrieval rate: 1.000" in p.stdout
    assert_png(png)


def test_pip_install_offline(tmp_path):
    """pyproject.toml: `pip install --no-build-isolation --no-index` into a --system-site-packages venv works
    offline, and the installed copy (not the source tree) runs the binary."""
    import shutil
    src = tmp_path / "src"
    shutil.copytree(REPO / "python", src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", str(src)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    env = dict(os.environ, RATEMEM_EXE=str(Path(os.environ["RATEMEM_EXE"]).resolve()))
    env.pop("PYTHONPATH", None)
    code = "import ratemem; print(ratemem.__file__); print(ratemem.run(np=1, neurons=300, memories=3, trials=1).retrieval_rate)"
    p = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    where, rate = p.stdout.split()
    assert where.startswith(str(venv)) and float(rate) == 1.0
