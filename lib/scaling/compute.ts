/**
 * Compute models: the training FLOPs of a run of N parameters on D tokens, C = f(N)·D. The default is
 * Chinchilla's C = 6ND; Kaplan et al. (2020, §2.1) add the attention term, 6N + 6·n_layer·n_ctx·d_attn per
 * token; any other per-token count (embedding exclusion, MoE active parameters, …) is a function of N.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { callback, invalidType, number, object, optionKeys, options, rangeError } from '../runtime/validate';
import type { ChinchillaParams, ComputeOptimalResult } from './types';
import { goldenSection } from './stats';
import { positiveColumn } from './validate';

/**
 * FLOPs per training token as a function of N.
 * - `'6ND'` (default) / `{ kind: '6ND' }`: 6N.
 * - `{ kind: 'kaplan', nLayer, nCtx, dAttn }`: 6N + 6·n_layer·n_ctx·d_attn (forward 2N + 2·n_layer·n_ctx·d_attn,
 *   times 3 for the backward pass; N counts non-embedding parameters, as in Kaplan et al.).
 * - `{ flopsPerToken: (N) => number }`: any positive, finite count, e.g. `N => 6 * (N + 50257 * 768)`.
 */
export type ComputeModel =
  | '6ND'
  | {
      /** C = 6ND: 6N FLOPs per token, as the string `'6ND'`. */
      kind: '6ND';
    }
  | {
      /** Kaplan et al.'s count with the attention term: 6N + 6·nLayer·nCtx·dAttn FLOPs per token. */
      kind: 'kaplan';
      /** Number of layers n_layer (> 0). */
      nLayer: number;
      /** Context length n_ctx, in tokens (> 0). */
      nCtx: number;
      /** Attention dimension d_attn (> 0; d_model in Kaplan et al.'s models). */
      dAttn: number;
    }
  | {
      /**
       * Training FLOPs per token of a model of N parameters; must return a finite number > 0 (else a
       * RangeError naming it, when it is called).
       */
      flopsPerToken: (N: number) => number;
    };

/** @internal A checked compute model as a per-token FLOP function; `sixND` when it is C = 6ND. */
export interface CheckedCompute {
  perToken: (N: number) => number;
  sixND: boolean;
  label: string;
}

const KAPLAN_KEYS = optionKeys<{ kind: 'kaplan'; nLayer: number; nCtx: number; dAttn: number }>({ kind: 1, nLayer: 1, nCtx: 1, dAttn: 1 });

/** @internal */
export function checkCompute(v: unknown, name = 'opts.compute'): CheckedCompute {
  if (v === undefined || v === '6ND') return { perToken: (N) => 6 * N, sixND: true, label: '6ND' };
  const o = object(v, name, "'6ND', { kind: '6ND' | 'kaplan', ... } or { flopsPerToken }");
  if ('flopsPerToken' in o) {
    options<{ flopsPerToken: unknown }>(o, name, ['flopsPerToken']);
    const f = callback(o.flopsPerToken, `${name}.flopsPerToken`) as (N: number) => unknown;
    return {
      perToken: (N) => {
        const c = f(N);
        if (typeof c !== 'number' || !Number.isFinite(c) || !(c > 0)) {
          throw rangeError(`${name}.flopsPerToken(${N}) must return a finite number > 0 (got ${show(c)})`);
        }
        return c;
      },
      sixND: false,
      label: 'custom',
    };
  }
  if (o.kind === '6ND') {
    options(o, name, ['kind']);
    return { perToken: (N) => 6 * N, sixND: true, label: '6ND' };
  }
  if (o.kind === 'kaplan') {
    options(o, name, KAPLAN_KEYS, true);
    const pos = { min: 0, minExclusive: true };
    const extra = 6 * number(o.nLayer, `${name}.nLayer`, pos) * number(o.nCtx, `${name}.nCtx`, pos) * number(o.dAttn, `${name}.dAttn`, pos);
    return { perToken: (N) => 6 * N + extra, sixND: false, label: 'kaplan' };
  }
  throw invalidType(`${name}.kind`, "'6ND' or 'kaplan' (or give flopsPerToken)", o.kind);
}

/** Training FLOPs C = f(N)·D of each run under `compute` (default 6ND). */
export function trainingFlops(
  N: Float64Array | readonly number[],
  D: Float64Array | readonly number[],
  opts: { compute?: ComputeModel } = {},
): Float64Array {
  const c = checkCompute(options<{ compute?: ComputeModel }>(opts, 'opts', ['compute']).compute);
  const n = positiveColumn(N, 'N');
  const d = positiveColumn(D, 'D');
  if (n.length !== d.length) throw rangeError(`N and D must have the same length (got ${n.length} and ${d.length})`);
  return Float64Array.from(n, (x, i) => c.perToken(x) * d[i]!);
}

/** @internal Loss of the Chinchilla law along the isoFLOP of budget C, at x = ln N. */
function isoLoss(p: ChinchillaParams, C: number, perToken: (N: number) => number, x: number): number {
  const N = Math.exp(x);
  const D = C / perToken(N);
  return p.E + p.A * Math.exp(-p.alpha * x) + p.B * Math.pow(D, -p.beta);
}

/** @internal argmin over x = ln N of the law's loss on the isoFLOP C (golden section, then to float resolution). */
function argminIso(p: ChinchillaParams, C: number, perToken: (N: number) => number): number {
  // Bracket: N between 1 and the N that spends all of C on one token.
  let lo = 0;
  let hi = Math.log(C);
  const f = (x: number) => isoLoss(p, C, perToken, x);
  // Coarse scan first: the isoFLOP loss is unimodal for the built-in models, a scan guards custom ones.
  const M = 400;
  let best = 0;
  let bestF = Infinity;
  for (let i = 0; i <= M; i++) {
    const x = lo + ((hi - lo) * i) / M;
    const v = f(x);
    if (v < bestF) {
      bestF = v;
      best = i;
    }
  }
  const step = (hi - lo) / M;
  const lo0 = lo;
  lo = lo0 + Math.max(0, best - 1) * step;
  hi = lo0 + Math.min(M, best + 1) * step;
  const [a, b] = goldenSection(f, lo, hi, (l, h) => h - l > 1e-15 * Math.max(1, Math.abs(l)));
  // Refine on the derivative, which crosses zero cleanly where the loss itself is flat to rounding:
  // dL/dx = −αA e^{−αx} + βB D^{−β} g(x), g = d ln f / d ln N (central difference, O(h²)).
  const dfdx = (x: number) => {
    const h = 1e-5;
    const g = (Math.log(perToken(Math.exp(x + h))) - Math.log(perToken(Math.exp(x - h)))) / (2 * h);
    const D = C / perToken(Math.exp(x));
    return -p.alpha * p.A * Math.exp(-p.alpha * x) + p.beta * p.B * Math.pow(D, -p.beta) * g;
  };
  let x0 = (a + b) / 2;
  let lo2 = x0 - 1e-3;
  let hi2 = x0 + 1e-3;
  if (dfdx(lo2) < 0 && dfdx(hi2) > 0) {
    for (let i = 0; i < 200 && hi2 - lo2 > 4e-16 * Math.max(1, Math.abs(x0)); i++) {
      x0 = (lo2 + hi2) / 2;
      if (dfdx(x0) < 0) lo2 = x0;
      else hi2 = x0;
    }
    x0 = (lo2 + hi2) / 2;
  }
  return x0;
}

/**
 * Compute-optimal allocation of the budget C for the Chinchilla law under any compute model: N minimising
 * L(N, C/f(N)), D = C/f(N). Under 6ND this is the closed form of {@link computeOptimal}; otherwise a 1-D
 * minimisation in ln N, and `a`, `b` are the local exponents d ln N_opt / d ln C, d ln D_opt / d ln C
 * (central differences over ±0.1% of C).
 */
export function computeOptimalWith(params: ChinchillaParams, C: number, compute: CheckedCompute): ComputeOptimalResult {
  const at = (c: number) => {
    const x = argminIso(params, c, compute.perToken);
    const N = Math.exp(x);
    return { N, D: c / compute.perToken(N) };
  };
  const r = at(C);
  const h = 1e-3;
  const up = at(C * Math.exp(h));
  const dn = at(C * Math.exp(-h));
  return {
    N: r.N,
    D: r.D,
    tokensPerParam: r.D / r.N,
    a: (Math.log(up.N) - Math.log(dn.N)) / (2 * h),
    b: (Math.log(up.D) - Math.log(dn.D)) / (2 * h),
  };
}
