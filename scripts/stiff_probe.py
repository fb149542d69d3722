#!/usr/bin/python3
"""One point of the stiff sweep, many integrator settings (docs/stiff.md, "Where BDF's RHS evaluations go").

Usage: scripts/stiff_probe.py [--exe build/ratemem] [--gain 4.8] [--ratio 100] [--out DIR] [SETTING ...]
Each SETTING is a quoted string of ratemem options for one run, e.g. "-integrator bdf -rtol 1e-2" or
"-integrator euler -euler_dt 0.0195". Every run is the E/I network of configs/stiff_sweep.yaml (n = 1000, P = 10,
seed 1, 2 cues with 10% flipped, -converge_tol 1e-7, -t_final 100) at the given gain and tau_E/tau_I; the
reference is the single population with BDF at rtol 1e-10, atol 1e-12, -converge_tol 1e-11 (as in the sweep).
Prints per setting: RHS evaluations, steps, J*v products, Newton and Krylov iterations (summed over the 2 cues),
the max |x_final - x_ref| and whether both cues converged, with their labels."""
import argparse, json, os, subprocess, sys, tempfile

import h5py
import numpy as np

BASE = ['-storage', 'lowrank', '-neurons', '1000', '-memories', '10', '-seed', '1', '-flip', '0.1', '-pool_size', '1', '-tau', '1',
        '-t_final', '100', '-trials', '2', '-quiet']


def run(exe, out, extra, tag):
    h5, js = os.path.join(out, tag + '.h5'), os.path.join(out, tag + '.json')
    p = subprocess.run([exe, 'retrieve'] + BASE + extra + ['-output', h5, '-summary', js], capture_output=True, text=True)
    if p.returncode:
        return None, p.stderr.strip()
    with h5py.File(h5) as f:
        x = f['final_states'][:]
    with open(js) as fp:
        return json.load(fp), x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--exe', default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'build', 'ratemem'))
    ap.add_argument('--gain', default='4.8')
    ap.add_argument('--ratio', default='100')
    ap.add_argument('--out', default=None)
    ap.add_argument('settings', nargs='*', default=['-integrator bdf -rtol 1e-6 -atol 1e-8'])
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix='stiff_probe.')
    os.makedirs(out, exist_ok=True)
    ref, xr = run(a.exe, out, ['-network', 'single', '-gain', a.gain, '-integrator', 'bdf', '-rtol', '1e-10', '-atol', '1e-12',
                               '-converge_tol', '1e-11'], 'reference')
    if ref is None:
        sys.exit(f'stiff_probe: reference run failed: {xr}')
    print(f'gain {a.gain}, tau_E/tau_I = {a.ratio} (2 cues; counts summed)')
    for s in a.settings:
        d, x = run(a.exe, out, ['-network', 'ei', '-stiffness', a.ratio, '-gain', a.gain, '-converge_tol', '1e-7'] + s.split(), 'run')
        if d is None:
            print(f'{s:58s} ERROR {x}')
            continue
        tr = d['trials']
        tot = lambda k: sum(t[k] for t in tr)  # noqa: E731
        print(f"{s:58s} rhs {tot('rhs_evals'):6d} steps {tot('steps'):6d} jv {tot('jtimes_evals'):5d} newton {tot('nonlin_iters'):5d} "
              f"krylov {tot('lin_iters'):5d} diff {np.abs(x - xr).max():.1e} converged {all(t['converged'] for t in tr)} "
              f"labels {'+'.join(t['label'] for t in tr)}")


if __name__ == '__main__':
    main()
