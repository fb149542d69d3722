#!/usr/bin/env python3
"""t9-input-file (issue #7): inputs read from HDF5 (`-input_file FILE.h5`, docs/input.md).
 1. Hopfield (multiplicative, Euler): a file row u = sum_mu c_mu xi^mu presented as `file0:5` gives the
    same overlap history as the same input given as mixture weights (`weights:5 -input_weights c`), on
    1, 2 and 3 ranks (each rank reads only its neurons of each row);
 2. the same for the firing-rate variant (-input_variant rate, {0,1} memories, u = sum c_mu xi^mu);
 3. without -input_schedule the rows are presented in order with the dataset's 'durations' attribute;
    a (n,) dataset is one input; results agree on 1-3 ranks and each row retrieves its dominant memory;
 4. bad files fail with one-line messages: missing file, missing dataset, wrong shape (columns, 3-D),
    NaN, missing durations attribute, row out of range, unused file, fileK without -input_file."""
import csv, os, subprocess, sys, tempfile

import h5py
import numpy as np

exe = sys.argv[1]
MPI = ['mpiexec', '--allow-run-as-root', '--oversubscribe', '-n']
n, P = 600, 6


def run(np_, args, ok=True):
    p = subprocess.run((MPI + [str(np_)] if np_ > 1 or ok else []) + [exe, 'retrieve'] + args, capture_output=True, text=True, timeout=300)
    if ok and p.returncode:
        sys.exit(f'FAIL: {args}: exit {p.returncode}\n{p.stderr}')
    return p


def history(path):
    with open(path) as fp:
        r = list(csv.reader(fp))
    assert r[0][:3] == ['t', 'presentation', 'm_0'] and len(r[0]) == P + 2, r[0]
    return np.array([[float(v) for v in row] for row in r[1:]])


def labels(out):
    return [line.split()[-1] for line in out.splitlines() if len(line.split()) == 9 and line.split()[0].isdigit()]


with tempfile.TemporaryDirectory() as d:
    rng = np.random.default_rng(7)
    pats = {}
    for kind, q in (('hopfield', 0.5), ('rate', 0.22)):  # ±1 memories: balanced; {0,1}: coding 0.22 as in the paper
        bits = (rng.random((P, n)) < q).astype(np.uint8)
        pats[kind] = os.path.join(d, f'patterns_{kind}.h5')
        with h5py.File(pats[kind], 'w') as f:
            f['patterns'] = bits
        if kind == 'hopfield':
            spin = 2.0 * bits - 1.0
        else:
            binary = bits.astype(float)
    c_a, c_b = np.array([3, 1, 1, 1, 1, 1.0]), np.array([1, 1, 8, 1, 1, 1.0])
    r_a, r_b = np.array([9.5, 1, 0.75, 1.25, 0.5, 1.0]), np.array([1, 0.5, 1, 9.25, 1, 0.75])
    files = {}
    for kind, xi, ca, cb in (('hopfield', spin, c_a, c_b), ('rate', binary, r_a, r_b)):
        path = os.path.join(d, f'inputs_{kind}.h5')
        with h5py.File(path, 'w') as f:
            dset = f.create_dataset('inputs', data=np.stack([ca @ xi, cb @ xi]))  # row 0 = the weights' input
            dset.attrs['durations'] = np.array([5.0, 5.0])
        files[kind] = path
    base = {'hopfield': ['-patterns', pats['hopfield'], '-seed', '3', '-design', 'hebbian', '-storage', 'lowrank', '-input_mode', 'multiplicative',
                         '-integrator', 'euler', '-euler_dt', '0.01', '-converge_tol', '1e-300'],
            'rate': ['-patterns', pats['rate'], '-seed', '3', '-design', 'paper', '-storage', 'lowrank', '-input_variant', 'rate',
                     '-input_mode', 'multiplicative', '-integrator', 'euler', '-euler_dt', '0.01', '-converge_tol', '1e-300']}
    weights = {'hopfield': c_a, 'rate': r_a}

    # 1-2: file row == mixture weights, on 1-3 ranks
    for kind in ('hopfield', 'rate'):
        ref = os.path.join(d, f'w_{kind}.csv')
        run(1, base[kind] + ['-input_schedule', 'weights:5', '-input_weights', ','.join(f'{v:g}' for v in weights[kind]),
                             '-overlap_history', ref, '-overlap_every', '25'])
        href = history(ref)
        for np_ in (1, 2, 3):
            h = os.path.join(d, f'f_{kind}_{np_}.csv')
            p = run(np_, base[kind] + ['-input_file', files[kind], '-input_schedule', 'file0:5', '-overlap_history', h, '-overlap_every', '25'])
            hf = history(h)
            assert hf.shape == href.shape, (hf.shape, href.shape)
            diff = np.abs(hf - href).max()
            assert diff < 2e-6, (kind, np_, diff)
            assert not os.path.exists(h + '.partial')
        print(f'{kind}: file row == mixture weights on 1-3 ranks ({len(href)} history rows, max diff {diff:.1e}); '
              f'final overlaps {np.round(href[-1, 2:], 3).tolist()}')

    # 3: durations from the attribute; a (n,) dataset
    for kind, dom in (('hopfield', [0, 2]), ('rate', [0, 3])):
        hs = []
        for np_ in (1, 2, 3):
            h = os.path.join(d, f'seq_{kind}_{np_}.csv')
            p = run(np_, base[kind] + ['-input_file', files[kind], '-overlap_history', h, '-overlap_every', '50'])
            rows = [l.split() for l in p.stdout.splitlines() if len(l.split()) == 9 and l.split()[0].isdigit()]
            assert [r[1] for r in rows] == ['file0', 'file1'] and [int(r[3]) for r in rows] == dom, p.stdout
            assert labels(p.stdout)[0] == 'retrieved', p.stdout  # (the noiseless input-driven network then stays: model.md §7)
            hs.append(history(h))
            assert abs(hs[-1][-1, 0] - 10) < 1e-9, hs[-1][-1]
        assert all(np.abs(x - hs[0]).max() < 2e-6 for x in hs[1:])
        print(f'{kind}: rows presented in order with the durations attribute, first dominant memory retrieved, equal on 1-3 ranks')
    one = os.path.join(d, 'one.h5')
    with h5py.File(one, 'w') as f:
        f.create_dataset('u', data=c_a @ spin).attrs['durations'] = 5.0
    p = run(2, base['hopfield'] + ['-input_file', one, '-input_dataset', 'u'])
    assert labels(p.stdout) == ['retrieved'], p.stdout
    print('(n,) dataset with a scalar duration: one presentation, retrieved')

    # 4: errors
    bad = {}
    for name, data in (('cols', np.zeros((2, n + 1))), ('threed', np.zeros((2, 2, n))), ('nan', np.where(np.arange(n) == 17, np.nan, 1.0)[None, :]),
                       ('nodur', np.zeros((2, n)))):
        path = os.path.join(d, f'bad_{name}.h5')
        with h5py.File(path, 'w') as f:
            ds = f.create_dataset('inputs', data=data)
            if name != 'nodur':
                ds.attrs['durations'] = 1.0
        bad[name] = path
    cases = [(['-input_file', os.path.join(d, 'none.h5')], 'does not exist'),
             (['-input_file', files['hopfield'], '-input_dataset', 'nope'], 'has no dataset /nope'),
             (['-input_file', bad['cols']], f'has {n + 1} entries per row, the network has n = {n} neurons'),
             (['-input_file', bad['threed']], 'must have shape (S, n) or (n,), got a 3-D dataset'),
             (['-input_file', bad['nan']], '1 entries that are NaN or Inf'),
             (['-input_file', bad['nodur']], "has no attribute 'durations'"),
             (['-input_file', files['hopfield'], '-input_schedule', 'file2:1'], 'has 2 rows'),
             (['-input_file', files['hopfield'], '-input_schedule', 'dominant0:1'], 'has no fileK item'),
             (['-input_schedule', 'file0:1'], 'needs -input_file')]
    for args, msg in cases:
        for np_ in (1, 2):
            p = run(np_, base['hopfield'] + args, ok=False)
            err = p.stderr.strip().splitlines()
            if np_ > 1:  # drop mpiexec's own report of the failed job
                err = [l for l in err if l.startswith('ratemem') or l.startswith('[') or 'PETSC' in l]
            assert p.returncode != 0 and msg in p.stderr and len(err) == 1 and err[0].startswith('ratemem: error:'), (args, np_, p.returncode, p.stderr)
    print(f'{len(cases)} bad input files rejected with one-line messages on 1 and 2 ranks')
print('t9-input-file: OK')
