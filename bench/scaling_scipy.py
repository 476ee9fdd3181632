"""scipy baseline for the Chinchilla grid fit (bench/scaling.bench.ts): L-BFGS-B with the exact gradient from each
of the 4500 grid starts, Huber (delta 1e-3) summed over runs in the log-sum-exp parameterisation, as in Epoch AI's
replication. Prints one JSON line.
usage: python3 bench/scaling_scipy.py data/scaling/chinchilla_epoch_svg_extracted.csv"""
import csv
import itertools
import json
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber

rows = list(csv.DictReader(open(sys.argv[1])))
N = np.array([float(r["Model Size"]) for r in rows])
C = np.array([float(r["Training FLOP"]) for r in rows])
L = np.array([float(r["loss"]) for r in rows])
keep = np.argsort(L, kind="stable")[:-5]  # drop the 5 highest losses
lN, lD, lL = np.log(N[keep]), np.log(C[keep] / (6 * N[keep])), np.log(L[keep])
delta = 1e-3


def objective(p):
    a, b, e, al, be = p
    t = np.stack([a - al * lN, b - be * lD, np.full_like(lN, e)])
    m = t.max(0)
    w = np.exp(t - m)
    s = w.sum(0)
    r = m + np.log(s) - lL
    w /= s
    psi = np.clip(r, -delta, delta)
    g = np.array([(psi * w[0]).sum(), (psi * w[1]).sum(), (psi * w[2]).sum(),
                  -(psi * w[0] * lN).sum(), -(psi * w[1] * lD).sum()])
    return huber(delta, r).sum(), g


grid = list(itertools.product(np.arange(0, 30, 5), np.arange(0, 30, 5), np.arange(-1, 1.5, 0.5),
                              np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5)))
t0, c0 = time.perf_counter(), time.process_time()
fs, xs, nfev = [], [], 0
for x0 in grid:
    r = minimize(objective, np.array(x0, dtype=float), jac=True, method="L-BFGS-B")
    fs.append(r.fun)
    xs.append(r.x)
    nfev += r.nfev
seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
fs = np.array(fs)
best = int(np.argmin(fs))
x = xs[best]
print(json.dumps({
    "seconds": seconds, "cpuSeconds": cpu_seconds, "starts": len(grid), "objective": float(fs[best]),
    "params": {"A": float(np.exp(x[0])), "B": float(np.exp(x[1])), "E": float(np.exp(x[2])),
               "alpha": float(x[3]), "beta": float(x[4])},
    "startsAtOptimum": int((fs <= fs[best] * (1 + 1e-6)).sum()), "evaluationsPerStart": nfev / len(grid),
}))
