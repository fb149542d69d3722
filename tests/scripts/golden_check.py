#!/usr/bin/python3
"""Golden outputs: every case of tests/output/cases.txt is run and its printed table compared exactly
with tests/output/NAME.out (labels, overlaps, times, step and RHS counts), and every sample output that
README.md and docs/*.md show, between <!-- golden:NAME begin --> and <!-- golden:NAME end -->, with
case NAME's (the README must show the demo's). Lines that carry wall times or memory are left out;
nothing else is.

Usage: golden_check.py EXE REPO [--update]   (--update rewrites the .out files and the README block)
"""
import os, re, subprocess, sys

exe, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
update = "--update" in sys.argv[3:]
outdir = os.path.join(repo, "tests", "output")
MPI = ["mpiexec", "--allow-run-as-root", "--oversubscribe"]
VOLATILE = re.compile(r"^(wall time|peak memory)")


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


BLOCK = re.compile(r"<!-- golden:(\S+) begin -->(.*?)(?=<!-- golden:\1 end -->)", re.S)


def doc_blocks():
    """(path, text) of README.md and docs/*.md."""
    paths = [os.path.join(repo, "README.md")] + sorted(os.path.join(repo, "docs", f) for f in os.listdir(os.path.join(repo, "docs")) if f.endswith(".md"))
    return [(p, open(p).read()) for p in paths]


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

shown = set()
for path, text in doc_blocks():
    rel = os.path.relpath(path, repo)
    def fill(m):
        name = m.group(1)
        if name not in outputs:
            failures.append(f"{rel}: golden:{name}")
            print(f"FAIL: {rel} shows the output of golden:{name}, which tests/output/cases.txt does not have")
            return m.group(0)
        shown.add((rel, name))
        return m.group(0)[: m.start(2) - m.start(0)] + "\n```\n" + outputs[name] + "```\n"
    new = BLOCK.sub(fill, text)
    if update and new != text:
        open(path, "w").write(new)
        print(f"updated the sample outputs of {rel}")
    elif not update:
        for m_old, m_new in zip(BLOCK.finditer(text), BLOCK.finditer(new)):
            if m_old.group(0) != m_new.group(0):
                failures.append(f"{rel}: golden:{m_old.group(1)}")
                print(f"FAIL: {rel}'s sample output golden:{m_old.group(1)} differs from what the case prints (run with --update)")
if ("README.md", "demo") not in shown:
    failures.append("README demo block")
    print("FAIL: README.md has no <!-- golden:demo begin --> ... <!-- golden:demo end --> block")
if not update:
    print(f"ok: {len(shown)} sample output(s) in README.md and docs/ checked: " + ", ".join(f"{r} {n}" for r, n in sorted(shown)))

if failures:
    sys.exit(f"FAIL: {len(failures)} golden output(s) differ: {', '.join(failures)}")
print("golden outputs: updated" if update else "golden outputs: all equal")
