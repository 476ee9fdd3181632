"""scipy refit of the tied α = β Chinchilla fits of huggingface/datablations utils/parametric_fit.ipynb, cell 16:
runs of data/scaling/datablations_all_runs.csv with 0 ≤ D/U ≤ 2.5 epochs (62 runs), Huber δ = 1e-3 summed on log
loss, grid a, b ∈ linspace(0, 25, 5), e ∈ linspace(−1, 1, 4), α (= β) ∈ linspace(0, 2, 4); and the same with
e fixed to ln 1.69. float64 L-BFGS-B (the notebook ran torch float32).
Usage: python3 bench/datablations_tied_scipy.py"""
import csv, itertools, math
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
rows = list(csv.DictReader(open('data/scaling/datablations_all_runs.csv')))
N = np.array([float(r['params']) for r in rows]); D = np.array([float(r['tokens']) for r in rows])
U = np.array([float(r['unique_tokens']) for r in rows]); L = np.array([float(r['val_loss']) for r in rows])
keep = (D / U >= 0) & (D / U <= 2.5)
lN, lD, lL = np.log(N[keep]), np.log(D[keep]), np.log(L[keep])
print('runs', keep.sum())
def huber(r, d=1e-3):
    q = np.abs(r); return np.where(q <= d, 0.5 * r * r, d * (q - 0.5 * d))
def obj(a, b, e, al):
    return huber(logsumexp(np.stack([a - al * lN, b - al * lD, np.full_like(lN, e)]), axis=0) - lL).sum()
def fit(fix_e=None):
    best = None
    for a, b, e, al in itertools.product(np.linspace(0, 25, 5), np.linspace(0, 25, 5), np.linspace(-1, 1, 4), np.linspace(0, 2, 4)):
        if fix_e is not None:
            if e != -1: continue
            f = lambda x: obj(x[0], x[1], fix_e, x[2]); x0 = [a, b, al]
        else:
            f = lambda x: obj(*x); x0 = [a, b, e, al]
        r = minimize(f, x0, method='L-BFGS-B', options=dict(ftol=1e-15, gtol=1e-12, maxiter=10000))
        if best is None or r.fun < best.fun: best = r
    return best
r = fit(); print('tied: a b e alpha %s objective %.12g' % (np.array2string(r.x, precision=8), r.fun))
r = fit(math.log(1.69)); print('tied, e = ln 1.69: a b alpha %s objective %.12g' % (np.array2string(r.x, precision=8), r.fun))
