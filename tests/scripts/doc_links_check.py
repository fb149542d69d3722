#!/usr/bin/env python3
"""Checks the documentation of the repository (README.md and docs/**/*.md).

* Every relative Markdown link and image (outside code) resolves to a file inside the repository,
  and an anchor (#...) to a heading of its target Markdown file.
* Every section reference "§N" (e.g. "docs/model.md §4", "[model.md](model.md) §1–§3", or a bare
  "§6") names a section that exists in docs/model.md, whose headings start with "§N".
* No doc points outside the repository for the model or measurements (../shared, shared/model.md,
  measurements.md), and no doc carries development-log wording ("issue #N", "session N", "round 3",
  "the earlier round", "older kernels").
* No usage line says `mpiexec -n N build/...`, which fails as root and lacks slots on a small machine:
  the docs use scripts/ratemem-mpi.

Usage: doc_links_check.py REPO. Before checking REPO it checks a small synthetic repository with
known faults, so that a checker that finds nothing cannot pass. Plain python3, no third-party modules.
"""
import os
import re
import sys
import tempfile

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SECTION_REF = re.compile(r"§(\d+)(?:\s*[–-]\s*§?(\d+))?")
FORBIDDEN = [
    (re.compile(r"\.\./shared"), "'../shared' (a directory outside the repository)"),
    (re.compile(r"shared/model\.md"), "'shared/model.md' (cite docs/model.md)"),
    (re.compile(r"measurements\.md"), "'measurements.md' (not in the repository)"),
    (re.compile(r"issue\s*#\s*\d+", re.I), "development-log wording 'issue #N'"),
    (re.compile(r"\bsessions?[\s-]*\d+", re.I), "development-log wording 'session N'"),
    (re.compile(r"\bissues?\s+\d+", re.I), "development-log wording 'issue N'"),
    (re.compile(r"\b(work\s+)?rounds?\s+\d+\b|\b(earlier|previous|last|this|next)\s+(work\s+)?round\b", re.I),
     "development-log wording (numbered or earlier work rounds)"),
    (re.compile(r"\bolder\s+(kernels?|versions?|builds?|code)\b|\b(earlier|previous|old)\s+(kernels?|versions?|builds?)\b", re.I),
     "development-log wording ('older kernels', 'an earlier version': state the current facts, or the commit measured)"),
    (re.compile(r"\bmpiexec\s+(-n|-np)\s+\d+\s+(\./)?build/"),
     "'mpiexec -n N build/...' (refused as root, and short of slots on a small machine): use scripts/ratemem-mpi -n N"),
]


def doc_files(repo):
    files = [os.path.join(repo, "README.md")]
    for root, _, names in os.walk(os.path.join(repo, "docs")):
        files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".md")]
    return [f for f in sorted(files) if os.path.isfile(f)]


def split_code(text):
    """Lines with their fenced-code state: [(lineno, line, in_code)]."""
    out, in_code = [], False
    for k, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            out.append((k, line, True))
            in_code = not in_code
            continue
        out.append((k, line, in_code))
    return out


def strip_inline_code(line):
    return re.sub(r"(`+)(.+?)\1", "", line)


def slug(heading):
    """GitHub's anchor of a heading: link targets and markup dropped, lower case, punctuation removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache):
    if path not in cache:
        seen, result = {}, set()
        with open(path, encoding="utf-8") as fh:
            for _, line, code in split_code(fh.read()):
                m = None if code else HEADING.match(line)
                if not m:
                    continue
                s = slug(m.group(2))
                n = seen.get(s, 0)
                seen[s] = n + 1
                result.add(s if n == 0 else f"{s}-{n}")
        cache[path] = result
    return cache[path]


def model_sections(repo):
    path = os.path.join(repo, "docs", "model.md")
    if not os.path.isfile(path):
        return None
    sections = set()
    with open(path, encoding="utf-8") as fh:
        for _, line, code in split_code(fh.read()):
            m = None if code else HEADING.match(line)
            if m:
                s = re.match(r"§(\d+)\b", m.group(2))
                if s:
                    sections.add(int(s.group(1)))
    return sections


def check(repo):
    """Returns (problems, counts)."""
    repo = os.path.realpath(repo)
    problems, cache = [], {}
    counts = {"files": 0, "links": 0, "section_refs": 0}
    sections = model_sections(repo)
    if sections is None:
        problems.append("docs/model.md: missing")
        sections = set()
    files = doc_files(repo)
    counts["files"] = len(files)
    for path in files:
        rel = os.path.relpath(path, repo)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for lineno, line, code in split_code(text):
            where = f"{rel}:{lineno}"
            for pattern, what in FORBIDDEN:
                if pattern.search(line):
                    problems.append(f"{where}: {what}: {line.strip()}")
            for m in SECTION_REF.finditer(line):
                lo = int(m.group(1))
                hi = int(m.group(2)) if m.group(2) else lo
                for n in range(lo, hi + 1):
                    counts["section_refs"] += 1
                    if n not in sections:
                        problems.append(f"{where}: §{n} is not a section of docs/model.md: {line.strip()}")
            if code:
                continue
            bare = strip_inline_code(line)
            targets = [m.group(1) for m in LINK.finditer(bare)]
            d = REFDEF.match(bare)
            if d:
                targets.append(d.group(1))
            for target in targets:
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
                    continue
                counts["links"] += 1
                file_part, _, anchor = target.partition("#")
                dest = path if not file_part else os.path.realpath(os.path.join(os.path.dirname(path), file_part))
                if not (dest == repo or dest.startswith(repo + os.sep)):
                    problems.append(f"{where}: link '{target}' leaves the repository")
                    continue
                if not os.path.exists(dest):
                    problems.append(f"{where}: link '{target}' does not resolve ({os.path.relpath(dest, repo)} missing)")
                    continue
                if anchor and dest.endswith(".md") and anchor not in anchors(dest, cache):
                    problems.append(f"{where}: link '{target}': no heading with anchor #{anchor} in {os.path.relpath(dest, repo)}")
    return problems, counts


def self_test():
    """The checker must find the faults of a small repository built to have them."""
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "docs"))
        with open(os.path.join(tmp, "docs", "model.md"), "w", encoding="utf-8") as fh:
            fh.write("# model\n\n## §1 Memories\n\n## §2 Design\n")
        with open(os.path.join(tmp, "docs", "a.md"), "w", encoding="utf-8") as fh:
            fh.write("# A\n\n## Good heading\n\n[ok](model.md) §1–§2, [ok](#good-heading), [ok](model.md#2-design)\n"
                     "[bad](missing.md) and [bad](model.md) §3 and [bad](#no-such-anchor)\n"
                     "```\n[not a link](nowhere.md) docs/model.md §9\n```\n"
                     "see ../shared/model.md and measurements.md; fixed in issue #4, session 3\n"
                     "as filed in issue 17, done in round 3 with the older kernels;\n"
                     "    mpiexec -n 4 build/ratemem retrieve\n"
                     "but round(f n) entries, and scripts/ratemem-mpi -n 4 retrieve are fine\n")
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as fh:
            fh.write("[ok](docs/a.md) [bad](../outside.md) `[code](nowhere.md)` ![img](docs/none.png)\n")
        problems, counts = check(tmp)
        expect = ["missing.md", "§3 is not", "#no-such-anchor", "§9 is not", "'../shared'", "'shared/model.md'",
                  "'measurements.md'", "'issue #N'", "'session N'", "leaves the repository", "docs/none.png",
                  "'issue N'", "work rounds", "'older kernels'", "use scripts/ratemem-mpi"]
        for e in expect:
            assert any(e in p for p in problems), f"self-test: the checker missed a fault ({e}); found: {problems}"
        assert len(problems) == len(expect), f"self-test: expected {len(expect)} problems, got {len(problems)}: {problems}"
        assert counts["links"] == 9, f"self-test: expected 9 relative links, counted {counts['links']}"


def main():
    if len(sys.argv) != 2:
        print("usage: doc_links_check.py REPO", file=sys.stderr)
        return 2
    self_test()
    repo = sys.argv[1]
    problems, counts = check(repo)
    sections = model_sections(repo) or set()
    if not set(range(1, 8)) <= sections:
        problems.append(f"docs/model.md: sections §1–§7 expected, found {sorted(sections)}")
    if counts["links"] < 20 or counts["section_refs"] < 20:
        problems.append(f"suspiciously little checked: {counts}")
    for p in problems:
        print(p)
    print(f"doc_links_check: {counts['files']} files, {counts['links']} relative links, "
          f"{counts['section_refs']} section references, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
