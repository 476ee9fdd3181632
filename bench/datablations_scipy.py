"""scipy refit of the data-constrained law of Muennighoff et al. 2023 on the bundled runs
(data/scaling/datablations_fit_runs.csv), following utils/parametric_fit.ipynb of huggingface/datablations:
base Chinchilla parameters fixed to their C4 refit, Huber δ = 1e-3 summed over log loss, L-BFGS from the grid
R_D*, R_N* ∈ linspace(0, 20, 4) (the 0 starts give NaN there and here). float64 throughout (the notebook ran torch
float32). Also the tied α = β Chinchilla fit of the runs with ≤ 2.5 epochs (notebook cell 16).
Usage: python3 bench/datablations_scipy.py [csv]"""
import csv, sys
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

path = sys.argv[1] if len(sys.argv) > 1 else 'data/scaling/datablations_fit_runs.csv'
rows = list(csv.DictReader(open(path)))
N = np.array([float(r['params']) for r in rows]); D = np.array([float(r['tokens']) for r in rows])
U = np.array([float(r['unique_tokens']) for r in rows]); L = np.array([float(r['val_loss']) for r in rows])
a, b, e, alpha, beta = 6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596
A, B = np.exp(a), np.exp(b)
G = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta))
def optimal_N(C): return G * (C / 6) ** (beta / (alpha + beta))
def D_to_C(D): return ((G * D) ** (1 / (alpha / (alpha + beta)))) * 6
UN = np.minimum(optimal_N(D_to_C(U)), N)
RD = np.maximum(D / U - 1, 0); RN = np.maximum(N / UN - 1, 0)
def huber(r, d=1e-3):
    q = np.abs(r); return np.where(q <= d, 0.5 * r * r, d * (q - 0.5 * d))
def f(x):
    rd, rn = x
    with np.errstate(all='ignore'):
        t1 = a - alpha * np.log(UN + UN * rn * (1 - np.exp(-RN / rn)))
        t2 = b - beta * np.log(U + U * rd * (1 - np.exp(-RD / rd)))
        pred = logsumexp(np.stack([t1, t2, np.full_like(t1, e)]), axis=0)
    return huber(pred - np.log(L)).sum()
best = None
for rd0 in np.linspace(0, 20, 4):
    for rn0 in np.linspace(0, 20, 4):
        if not np.isfinite(f([rd0, rn0])): continue
        r = minimize(f, [rd0, rn0], method='L-BFGS-B', options=dict(ftol=1e-15, gtol=1e-12, maxiter=10000))
        if best is None or r.fun < best.fun: best = r
print('runs', len(N))
print('R_D* %.10g R_N* %.10g objective %.12g' % (best.x[0], best.x[1], best.fun))
