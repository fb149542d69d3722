#!/usr/bin/python3
"""Golden outputs: every case of tests/output/cases.txt is run and its printed table compared exactly
with tests/output/NAME.out (labels, overlaps, times, step and RHS counts), and the README's demo block
with the demo case. Lines that carry wall times or memory are left out; nothing else is.

Usage: golden_check.py EXE REPO [--update]   (--update rewrites the .out files and the README block)
"""
import os, re, subprocess, sys

exe, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
update = "--update" in sys.argv[3:]
outdir = os.path.join(repo, "tests", "output")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
VOLATILE = re.compile(r"^(wall time|peak memory)")
README_BEGIN, README_END = "<!-- golden:demo begin -->", "<!-- golden:demo end -->"


def cases():
    for line in open(os.path.join(outdir, "cases.txt")):
        line = line.split("#", 1)[0].split()
        if line:
            yield line[0], int(line[1]), line[2:]


def table(np_, args):
    cmd = MPI + ["-n", str(np_), exe, "retrieve"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=repo)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    return "".join(l + "\n" for l in p.stdout.splitlines() if not VOLATILE.match(l))


def readme_block(text):
    i, j = text.find(README_BEGIN), text.find(README_END)
    if i < 0 or j < i:
        raise SystemExit(f"FAIL: README.md has no {README_BEGIN} ... {README_END} block")
    return i, j


failures, outputs = [], {}
for name, np_, args in cases():
    got = table(np_, args)
    outputs[name] = got
    path = os.path.join(outdir, name + ".out")
    if update:
        open(path, "w").write(got)
        print(f"updated {path}")
        continue
    want = open(path).read() if os.path.exists(path) else ""
    if got == want:
        print(f"ok: {name} ({np_} ranks) equals {os.path.relpath(path, repo)}")
    else:
        failures.append(name)
        print(f"FAIL: {name} ({np_} ranks) differs from {os.path.relpath(path, repo)}:")
        import difflib
        sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got"))

readme_path = os.path.join(repo, "README.md")
readme = open(readme_path).read()
i, j = readme_block(readme)
block = README_BEGIN + "\n```\n" + outputs["demo"] + "```\n"
if update:
    open(readme_path, "w").write(readme[:i] + block + readme[j:])
    print("updated the README demo block")
elif readme[i:j] != block:
    failures.append("README demo block")
    print("FAIL: the README's demo block differs from what the demo prints (run with --update)")
else:
    print("ok: the README's demo block equals what the demo prints")

if failures:
    sys.exit(f"FAIL: {len(failures)} golden output(s) differ: {', '.join(failures)}")
print("golden outputs: updated" if update else "golden outputs: all equal")
