#!/usr/bin/python3
"""t9-readme: the README's "Your own experiment" runs as written.

Usage: readme_check.py EXE REPO

The fenced code blocks between `<!-- readme:experiment begin -->` and `<!-- readme:experiment end -->`
in REPO/README.md (there may be several such regions, and several blocks in each) are joined, in order,
into one bash script, which runs unchanged in a temporary copy of the checkout whose build/ is the
directory of EXE, as a newcomer would run it after `bash scripts/demo.sh`: from the top of the copy,
with no RATEMEM_*, PYTHONPATH, MPLBACKEND or OMPI_ALLOW_RUN_AS_ROOT* in the environment, under
`set -e -o pipefail`. It must exit 0 within 120 s (the README promises under 2 minutes), and every
results/*.png and results/*.csv the blocks name must exist and be non-empty (PNGs: a PNG signature).
The blocks must use scripts/ratemem-mpi and the Python package (ratemem.load / ratemem.load_sweep).

Also the scripts the front door relies on: `bash -n` and `--dry-run` of scripts/ratemem-mpi (the mpiexec
line for -n/--np/default) and of scripts/make_figures.sh (every config of configs/experiments/ swept into
results/, the results copied into docs/results/), and every experiment config's sweep_csv under results/.

Before that, a self-test of the extractor and of failure detection. Plain python3, no third-party modules."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BEGIN, END = "<!-- readme:experiment begin -->", "<!-- readme:experiment end -->"
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
OUTPUT = re.compile(r"\bresults/[\w./-]+\.(?:png|csv)\b")
LIMIT_S = 120


def extract(text):
    """The code of the fenced blocks inside the experiment regions, in order; raises ValueError."""
    blocks, pos = [], 0
    if BEGIN not in text:
        raise ValueError(f"README.md has no {BEGIN} region")
    while True:
        i = text.find(BEGIN, pos)
        if i < 0:
            break
        j = text.find(END, i)
        if j < 0:
            raise ValueError(f"{BEGIN} without {END}")
        region, fence, lines = text[i + len(BEGIN):j].split("\n"), None, []
        for line in region:
            m = FENCE.match(line)
            if fence is None:
                if m:
                    fence, lines = m.group(2), []
                    if m.group(3) not in ("", "bash", "sh", "shell", "console"):
                        raise ValueError(f"a block in the experiment region is '{m.group(3)}', not a shell block")
            elif m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) and not m.group(3):
                blocks.append("\n".join(lines) + "\n")
                fence = None
            else:
                lines.append(line)
        if fence is not None:
            raise ValueError("an unclosed code block in the experiment region")
        pos = j + len(END)
    if not blocks:
        raise ValueError("the experiment region has no code block")
    return blocks


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("RATEMEM_") or k.startswith("OMPI_ALLOW_RUN_AS_ROOT") or k in ("PYTHONPATH", "MPLBACKEND"))}
    env["HOME"] = env.get("HOME", "/root")
    return env


def run_script(code, cwd, timeout):
    script = "set -e -o pipefail\n" + code
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)


def self_test():
    text = ("intro\n" + BEGIN + "\n```bash\necho one\n```\ntext between\n````sh\necho two\n````\n" + END +
            "\n```\nnot in a region\n```\n" + BEGIN + "\n```\necho three\n```\n" + END + "\n")
    got = extract(text)
    assert got == ["echo one\n", "echo two\n", "echo three\n"], f"self-test: extracted {got}"
    for bad in ("no region", BEGIN + "\n```bash\necho\n", BEGIN + "\nno code\n" + END, BEGIN + "\n```python\nx\n```\n" + END):
        try:
            extract(bad)
        except ValueError:
            continue
        raise AssertionError(f"self-test: the extractor accepted {bad!r}")
    with tempfile.TemporaryDirectory() as d:
        assert run_script("echo ok\n", d, 30).returncode == 0, "self-test: a passing block failed"
        assert run_script("false\necho after\n", d, 30).returncode != 0, "self-test: a failing command went unnoticed"
        assert run_script("false | cat\n", d, 30).returncode != 0, "self-test: a failing pipeline went unnoticed"


def copy_checkout(repo, dest):
    """The files of the checkout (tracked and untracked, not ignored) into dest; without git, all but build dirs."""
    try:
        out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = None
    if not files:
        shutil.copytree(repo, dest, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".git", "build", "build-*", "__pycache__"))
        return
    for f in files:
        src = os.path.join(repo, f)
        if not os.path.lexists(src):  # deleted in the work tree
            continue
        target = os.path.join(dest, f)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)


def check_scripts(repo):
    """scripts/ratemem-mpi and scripts/make_figures.sh: syntax, and what --dry-run prints. Returns problems."""
    problems = []
    for script in ("scripts/ratemem-mpi", "scripts/make_figures.sh"):
        p = subprocess.run(["bash", "-n", os.path.join(repo, script)], capture_output=True, text=True)
        if p.returncode:
            problems.append(f"bash -n {script}: {p.stderr.strip()}")
    env = clean_env()
    env.pop("SLURM_JOB_ID", None)
    launcher = os.path.join(repo, "scripts", "ratemem-mpi")
    for args, np_ in ((["-n", "3"], "3"), (["--np", "4"], "4"), ([], "2")):
        p = subprocess.run([launcher, "--dry-run"] + args + ["retrieve", "-neurons", "10"], capture_output=True, text=True, env=env)
        want = (["mpiexec"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) + ["--oversubscribe", "-n", np_,
                os.path.join(repo, "build", "ratemem"), "retrieve", "-neurons", "10"])
        if p.returncode or p.stdout.split() != want:
            problems.append(f"ratemem-mpi --dry-run {' '.join(args)}: printed {p.stdout.strip()!r}, expected {' '.join(want)!r}")
    p = subprocess.run([launcher, "-n", "x", "retrieve"], capture_output=True, text=True, env=env)
    if p.returncode != 2 or "positive integer" not in p.stderr:
        problems.append(f"ratemem-mpi -n x: exit {p.returncode}, {p.stderr.strip()!r}")
    p = subprocess.run(["bash", os.path.join(repo, "scripts", "make_figures.sh"), "--dry-run"], capture_output=True, text=True, env=env)
    lines = [l for l in p.stdout.splitlines() if l.startswith("+ ")]
    sweeps = [l for l in lines if " sweep -options_file_yaml " in l]
    configs = sorted(f[:-5] for f in os.listdir(os.path.join(repo, "configs", "experiments")) if f.endswith(".yaml"))
    ran = sorted({re.search(r"configs/experiments/(\w+)\.yaml", l).group(1) for l in sweeps})  # a config may be swept more than once (rewire: per K, p)
    if p.returncode or ran != configs:
        problems.append(f"make_figures.sh --dry-run (exit {p.returncode}) sweeps {ran}, expected every config {configs}")
    if any("-sweep_csv results/" not in l for l in sweeps):
        problems.append("make_figures.sh: a sweep does not write under results/")
    if not any(l.startswith("+ cp results/") and " docs/results/" in l for l in lines):
        problems.append("make_figures.sh --dry-run copies nothing into docs/results/")
    for f in configs:
        text = open(os.path.join(repo, "configs", "experiments", f + ".yaml")).read()
        m = re.search(r"^sweep_csv:\s*(\S+)", text, re.M)
        if not m or m.group(1) != f"results/{f}.csv":
            problems.append(f"configs/experiments/{f}.yaml: sweep_csv is {m.group(1) if m else 'missing'}, expected results/{f}.csv")
    if not problems:
        print(f"ok: ratemem-mpi and make_figures.sh (--dry-run: {len(sweeps)} sweeps into results/, copies into docs/results/)")
    return problems


def main():
    if len(sys.argv) != 3:
        print("usage: readme_check.py EXE REPO", file=sys.stderr)
        return 2
    exe, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    self_test()
    blocks = extract(open(os.path.join(repo, "README.md"), encoding="utf-8").read())
    code = "".join(blocks)
    failures = check_scripts(repo)
    for needed in ("scripts/ratemem-mpi", "ratemem.load(", "ratemem.load_sweep("):
        if needed not in code:
            failures.append(f"the experiment does not use {needed}")
    outputs = sorted(set(OUTPUT.findall(code)))
    if not any(o.endswith(".png") for o in outputs):
        failures.append("the experiment names no results/*.png")
    print(f"readme_check: {len(blocks)} block(s), {len(code.splitlines())} lines; outputs: {', '.join(outputs)}")

    with tempfile.TemporaryDirectory(prefix="ratemem-readme.") as d:
        copy_checkout(repo, d)
        build = os.path.join(d, "build")
        if os.path.lexists(build):
            shutil.rmtree(build) if os.path.isdir(build) and not os.path.islink(build) else os.remove(build)
        os.symlink(os.path.dirname(exe), build)  # the repo's build: build/ratemem is EXE
        if os.path.isdir(os.path.join(d, "results")):
            for name in os.listdir(os.path.join(d, "results")):  # a fresh clone has only results/README.md
                if name != "README.md":
                    p = os.path.join(d, "results", name)
                    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
        t0 = time.time()
        try:
            p = run_script(code, d, timeout=3 * LIMIT_S)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            print(out[-3000:])
            print(f"FAIL: the experiment did not finish within {3 * LIMIT_S} s")
            return 1
        dt = time.time() - t0
        sys.stdout.write(p.stdout[-4000:])
        if p.returncode != 0:
            sys.stdout.write(p.stderr[-4000:])
            failures.append(f"the experiment exited {p.returncode}")
        else:
            print(f"ok: the experiment exited 0 in {dt:.0f} s")
        if dt > LIMIT_S:
            failures.append(f"the experiment took {dt:.0f} s, more than {LIMIT_S} s")
        for o in outputs:
            path = os.path.join(d, o)
            if not os.path.isfile(path) or os.path.getsize(path) == 0:
                failures.append(f"{o} is missing or empty")
                continue
            if o.endswith(".png"):
                with open(path, "rb") as f:
                    if f.read(8) != b"\x89PNG\r\n\x1a\n":
                        failures.append(f"{o} is not a PNG")
                        continue
            elif len(open(path).read().splitlines()) < 2:
                failures.append(f"{o} has no data rows")
                continue
            print(f"ok: {o} ({os.path.getsize(path)} bytes)")
    for f in failures:
        print("FAIL: " + f)
    print("readme_check: " + ("the README's experiment runs as written" if not failures else f"{len(failures)} problem(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
