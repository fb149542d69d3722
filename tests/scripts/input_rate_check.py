#!/usr/bin/env python3
"""t9-input-rate (issue #7): the firing-rate variant of model.md §7 (-input_variant rate) end to end, in the
authors' setting (configs/input_rate.yaml: N = 1024, P = 10, p = 0.22, delta = 10, three inputs of t = 20 with
c ~ U(0.5,1.5) and the dominant c ~ U(9,10), Euler-Maruyama dt = 0.01, sigma = 0.45, seed 1):
 1. input-driven W(u) with noise: the first two inputs retrieve their dominant memory (the switch 0 -> 1 is made);
    the -overlap_history is the same on 1, 2 and 3 ranks (rank-independent noise and W(u) products);
 2. without noise the network retrieves memory 0 and, when the input changes, falls to the quiescent state
    instead of switching (every overlap < 0.2): noise is what makes the switch;
 3. the classic additive form (constant input) retrieves no presentation: it ends in a union of memories
    (at least two overlaps >= 0.9);
 4. -help lists -input_variant; misuse gives one-line errors."""
import csv, os, subprocess, sys, tempfile

import numpy as np

from presentation_rows import rows

exe, repo = sys.argv[1], sys.argv[2]
MPI = ['mpiexec', '--allow-run-as-root', '--oversubscribe', '-n']
CFG = ['-options_file_yaml', os.path.join(repo, 'configs', 'input_rate.yaml')]


def run(np_, args, ok=True):
    p = subprocess.run((MPI + [str(np_)] if np_ > 1 else []) + [exe, 'retrieve'] + CFG + args, capture_output=True, text=True, timeout=300)
    if ok and p.returncode:
        sys.exit(f'FAIL: {args}: exit {p.returncode}\n{p.stderr}')
    return p


def history(path):
    with open(path) as fp:
        r = list(csv.reader(fp))
    assert r[0][:3] == ['t', 'presentation', 'm_0'] and len(r[0]) == 12, r[0]
    return np.array([[float(v) for v in row] for row in r[1:]])


with tempfile.TemporaryDirectory() as d:
    hs = {}
    for np_ in (1, 2, 3):
        h = os.path.join(d, f'h{np_}.csv')
        p = run(np_, ['-overlap_history', h, '-overlap_every', '20'])
        rs = rows(p.stdout)
        assert len(rs) == 3 and [r['dominant'] for r in rs] == [0, 1, 2], p.stdout
        assert [r['label'] for r in rs[:2]] == ['retrieved', 'retrieved'], p.stdout
        hs[np_] = history(h)
    assert abs(hs[1][-1, 0] - 60) < 1e-9, hs[1][-1]
    diff = max(np.abs(hs[k] - hs[1]).max() for k in (2, 3))
    assert all(hs[k].shape == hs[1].shape for k in (2, 3)) and diff < 2e-6, diff
    print(f'noisy input-driven run: inputs 1, 2 retrieve memories 0, 1 (overlaps {rs[0]["m_dom"]:.3f}, {rs[1]["m_dom"]:.3f}); '
          f'history of {len(hs[1])} rows equal on 1-3 ranks (max diff {diff:.1e})')

    p = run(1, ['-noise', '0'])
    rs = rows(p.stdout)
    assert rs[0]['label'] == 'retrieved' and rs[0]['m_dom'] > 0.99, p.stdout
    assert all(r['overlap'] < 0.2 for r in rs[1:]), p.stdout
    print(f'without noise: memory 0 retrieved ({rs[0]["m_dom"]:.4f}), then quiescent (best overlaps {rs[1]["overlap"]:.4f}, {rs[2]["overlap"]:.4f})')

    for sigma in ('0', '0.45'):
        h = os.path.join(d, f'add{sigma}.csv')
        p = run(1, ['-input_mode', 'additive', '-noise', sigma, '-overlap_history', h])
        rs = rows(p.stdout)
        last = {}
        for row in history(h):
            last[int(row[1])] = row[2:]
        assert all(r['label'] != 'retrieved' for r in rs), p.stdout
        assert all((m >= 0.9).sum() >= 2 for m in last.values()), last
        print(f'classic additive, sigma {sigma}: no presentation retrieved; memories with overlap >= 0.9 at the ends: '
              f'{[int((m >= 0.9).sum()) for m in last.values()]}')

help_ = subprocess.run([exe, 'retrieve', '-help'], capture_output=True, text=True, timeout=60)
assert '-input_variant' in help_.stdout + help_.stderr and '-input_file' in help_.stdout + help_.stderr
for args, msg in [(['-design', 'hebbian'], '-input_variant rate needs {0,1} memories (-design paper)'),
                  (['-activation', 'rectanh'], 'has its own activation'),
                  (['-input_variant', 'bogus'], 'bogus'),
                  (['-input_schedule', 'off:1', '-overlap_history', ''], 'needs a file name')]:
    p = run(1, args, ok=False)
    assert p.returncode != 0 and msg in p.stderr and len(p.stderr.strip().splitlines()) == 1, (args, p.returncode, p.stderr)
p = subprocess.run([exe, 'retrieve', '-design', 'paper', '-input_variant', 'rate', '-neurons', '200', '-memories', '3'], capture_output=True, text=True,
                   timeout=60)
assert p.returncode != 0 and 'needs -input_schedule or -input_file' in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
print('-help lists -input_variant and -input_file; 5 misuses rejected with one-line messages')
print('t9-input-rate: OK')
