"""Finding the ratemem binary, building its command line and running it under MPI."""
import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["RatememError", "Checkpointed", "find_executable", "launcher", "option_args", "execute"]

# The binary reports failures as one line on stderr, from rank 0 or from every rank.
_ERROR_LINE = re.compile(r"^ratemem: error(?: \[rank \d+\])?: (.*?)\s*$")


class RatememError(RuntimeError):
    """A ratemem run failed. ``str(err)`` is the binary's one-line message; ``returncode``,
    ``stderr``, ``stdout`` and ``command`` hold the rest."""

    def __init__(self, message, returncode=None, command=None, stdout="", stderr=""):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = command
        self.stdout = stdout
        self.stderr = stderr


class Checkpointed(RatememError):
    """The run stopped at a checkpoint (a signal, exit status 3) without finishing: rerun it with
    ``restart=`` the checkpoint file (``ratemem: checkpointed at t = ... ; resume with -restart FILE``)."""


def _repo_root():
    # python/ratemem/_launch.py -> the repository (only meaningful in a source checkout)
    return Path(__file__).resolve().parents[2]


def find_executable(exe=None):
    """The ratemem binary: ``exe`` if given, else $RATEMEM_EXE, else build/ratemem of the source
    checkout this package lives in, else ``ratemem`` on PATH. Raises RatememError if none exists."""
    candidates = []
    if exe:
        candidates.append(("exe=", Path(exe)))
    elif os.environ.get("RATEMEM_EXE"):
        candidates.append(("RATEMEM_EXE", Path(os.environ["RATEMEM_EXE"])))
    else:
        root = _repo_root()
        if (root / "python" / "ratemem") == Path(__file__).resolve().parent:  # a source checkout, not an installed copy
            candidates.append(("the source tree", root / "build" / "ratemem"))
        on_path = shutil.which("ratemem")
        if on_path:
            candidates.append(("PATH", Path(on_path)))
    for _, path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
    where = ", ".join(f"{path} ({origin})" for origin, path in candidates) or "no RATEMEM_EXE, none on PATH"
    raise RatememError(f"cannot find the ratemem binary (looked at {where}); build it with scripts/build.sh or set RATEMEM_EXE")


_SRUN_PMIX = None


def _srun_has_pmix():
    """Does this SLURM's srun have the PMIx plugin? (asked once)"""
    global _SRUN_PMIX
    if _SRUN_PMIX is None:
        try:
            p = subprocess.run(["srun", "--mpi=list"], capture_output=True, text=True, timeout=60)
            _SRUN_PMIX = re.search(r"\bpmix\b", p.stdout + p.stderr) is not None
        except (OSError, subprocess.TimeoutExpired):
            _SRUN_PMIX = False
    return _SRUN_PMIX


def launcher(np):
    """The MPI launcher prefix for ``np`` ranks, chosen as the job scripts do (jobs/lib.sh):
    inside a SLURM allocation (SLURM_JOB_ID set) ``srun --mpi=pmix`` when srun has the PMIx plugin
    (Debian's Open MPI starts only under PMIx), else mpiexec, which is SLURM-aware there; outside
    SLURM ``mpiexec --oversubscribe``; ``--allow-run-as-root`` as root. $RATEMEM_LAUNCHER: auto
    (the default), srun, mpiexec, or any command that takes ``-n N prog args``."""
    want = os.environ.get("RATEMEM_LAUNCHER", "auto").strip() or "auto"
    in_slurm = bool(os.environ.get("SLURM_JOB_ID"))
    if want == "auto":
        want = "srun" if in_slurm and shutil.which("srun") and _srun_has_pmix() else "mpiexec"
    if want == "srun":
        cmd = ["srun", "--mpi=pmix", "--kill-on-bad-exit=0"]
    elif want == "mpiexec":
        cmd = ["mpiexec"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        if not in_slurm:  # inside an allocation the slots are SLURM's; outside, allow more ranks than cores
            cmd.append("--oversubscribe")
    else:
        cmd = want.split()
    return cmd + ["-n", str(np)]


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def option_args(options):
    """Keyword options as ratemem arguments: ``key=v`` -> ``-key v``; True -> the flag alone;
    False -> ``-key false``; None -> left out; a list or tuple -> comma-joined values."""
    args = []
    for key, v in options.items():
        if v is None:
            continue
        flag = "-" + key.lstrip("-")
        if v is True:
            args.append(flag)
        elif isinstance(v, (list, tuple)):
            args += [flag, ",".join(_value(x) for x in v)]
        else:
            args += [flag, _value(v)]
    return args


def error_message(stderr, stdout, returncode):
    """The binary's one-line message (first ``ratemem: error`` line), or a fallback naming the exit status."""
    for line in stderr.splitlines():
        m = _ERROR_LINE.match(line)
        if m:
            return m.group(1)
    for line in stdout.splitlines():
        if line.startswith("ratemem: checkpointed"):
            return line[len("ratemem: "):]
    tail = [l for l in stderr.splitlines() if l.strip() and not l.startswith("-----")]
    detail = f": {tail[-1].strip()}" if tail else ""
    return f"ratemem exited with status {returncode}{detail}"


def execute(subcommand, args, np=1, exe=None, timeout=None, cwd=None, mpi=True):
    """Run ``ratemem SUBCOMMAND ARGS`` on ``np`` ranks; returns the CompletedProcess, raises
    RatememError when the binary fails (exit status != 0)."""
    cmd = (launcher(np) if mpi else []) + [find_executable(exe), subcommand] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except FileNotFoundError as e:
        raise RatememError(f"cannot start {cmd[0]}: {e.strerror}", command=cmd) from None
    except subprocess.TimeoutExpired as e:
        out, err = (x.decode(errors="replace") if isinstance(x, bytes) else (x or "") for x in (e.stdout, e.stderr))
        raise RatememError(f"ratemem {subcommand} did not finish within {timeout} s", command=cmd, stdout=out, stderr=err) from None
    if p.returncode != 0:
        checkpointed = "ratemem: checkpointed at" in p.stdout and not _ERROR_LINE.search(p.stderr)
        kind = Checkpointed if checkpointed else RatememError
        raise kind(error_message(p.stderr, p.stdout, p.returncode), p.returncode, cmd, p.stdout, p.stderr)
    return p
