#!/usr/bin/env python3
"""t9-stability-ei-degenerate (issue #5): `ratemem stability -network ei` at tau_E/tau_I = 1, gain 20 used to
stop in LAPACK trexc ("info=1") on 2 ranks. There phi' ~ 0 at every memory, so J = [[-I, 0], [C, -I]] is
defective with every eigenvalue -1: Krylov-Schur's Schur reordering is ill-conditioned and trips depending on
rounding. Now a failed solve falls back to a dense LAPACK solve (state size <= -stability_dense_max) or to a
restarted Krylov-Schur from another initial vector. Checks, on 1, 2 and 3 ranks and with each fallback forced to
be the available one (-stability_dense_max 10 disables the dense one): exit 0, every memory's abscissa within
1e-4 of -1 (phi' is tiny, not 0) and stable, and the summary names the solver used for each memory."""
import json, os, subprocess, sys, tempfile

exe = sys.argv[1]
MPI = ['mpiexec', '--allow-run-as-root', '--oversubscribe', '-n']
ARGS = ['stability', '-network', 'ei', '-storage', 'lowrank', '-neurons', '1000', '-memories', '10', '-seed', '1', '-flip', '0.1',
        '-pool_size', '1', '-tau', '1', '-stiffness', '1', '-gain', '20']
with tempfile.TemporaryDirectory() as d:
    used = {}
    for np_, extra in ((1, []), (2, []), (3, []), (2, ['-stability_dense_max', '10'])):
        js = os.path.join(d, f's{np_}{len(extra)}.json')
        p = subprocess.run(MPI + [str(np_), exe] + ARGS + extra + ['-summary', js], capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, (np_, extra, p.stderr)
        mem = json.load(open(js))['memories']
        assert len(mem) == 10
        for m in mem:
            assert m['stable'] and abs(m['abscissa'] + 1) < 1e-4, (np_, extra, m['memory'], m['abscissa'])
            assert m['eigensolver_fallback'] in ('none', 'dense-lapack', 'krylovschur-restart'), m['eigensolver_fallback']
            if extra:
                assert m['eigensolver_fallback'] != 'dense-lapack', m
        used[(np_, tuple(extra))] = [m['eigensolver_fallback'] for m in mem if m['eigensolver_fallback'] != 'none']
        print(f'{np_} rank(s) {" ".join(extra)}: 10 memories, abscissa -1 +- 1e-4, fallbacks used: {used[(np_, tuple(extra))] or "none"}')
print('t9-stability-ei-degenerate: OK')
