/**
 * Diagnostics of a fitted law: residuals per run, R², named degeneracy warnings (flat directions, parameters
 * at bounds, too few distinct N or D, one budget), and two tests of the fit against another parameter set —
 * Besiroglu et al. (2024)'s χ² test on bootstrap covariances and their Huber-likelihood ratio test.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { isDetached, number, object, optionKeys, options, rangeError } from '../runtime/validate';
import { type ComputeModel, checkCompute } from './compute';
import { predict } from './formulas';
import { chiSquareSf, covariance, erf, goldenSection, solve, symmetricEigenvalues } from './stats';
import type { BootstrapSummary, ChinchillaParams, FitResult, KaplanParams, ScalingData } from './types';
import { checkData } from './validate';

/** Names of the diagnostics' warnings. */
export type DiagnosticWarningName =
  | 'not-converged'
  | 'flat-direction'
  | 'at-bound'
  | 'few-distinct-N'
  | 'few-distinct-D'
  | 'single-budget';
// The fit result's own warnings (FitResult.warnings in types.ts) are passed through.


/** Options of {@link diagnostics}. */
export interface DiagnosticsOptions {
  /**
   * Predicted losses to use instead of the law's (e.g. for a law {@link predict} does not know); residuals,
   * R² and the distinctness checks still apply, the flat-direction check is skipped.
   */
  predicted?: Float64Array | readonly number[];
  /** Parameter bounds the fit was given (natural names, e.g. `{ E: [0, 2] }`); a value within 1e-6 of one warns. */
  bounds?: Readonly<Record<string, readonly [number, number]>>;
  /** Warn `flat-direction` when the condition number of the scaled Jacobian exceeds this (default 1e6). */
  conditionLimit?: number;
  /** Compute model for the budgets of the `single-budget` check (default 6ND). */
  compute?: ComputeModel;
}

/** Result of {@link diagnostics}. */
export interface Diagnostics {
  /** Runs evaluated (the length of `data.N`). */
  runs: number;
  /** Predicted loss L̂ per run (the law's at the run's N, D, or `opts.predicted`), length `runs`. */
  predicted: Float64Array;
  /** loss − predicted, per run. */
  residuals: Float64Array;
  /** ln predicted − ln loss, per run (the residual the fit minimises). */
  logResiduals: Float64Array;
  /** 1 − Σ(L − L̂)² / Σ(L − L̄)² on the losses (sklearn's r2_score, as datablations reports). */
  rSquared: number;
  /** The same on ln L. */
  rSquaredLog: number;
  /** √(mean (L − L̂)²). */
  rmse: number;
  /**
   * Condition number of the Jacobian of ln L̂ with respect to the law's raw parameters (columns scaled to unit
   * norm): √(λmax/λmin) of the Gauss–Newton Hessian JᵀJ. Large = a direction the data barely constrain.
   */
  conditionNumber?: number;
  /**
   * Distinct values among the runs: of N, of D, and of the budgets C = f(N)·D in FLOPs (under `opts.compute`),
   * counted as clusters (sorted budgets within 1% of the previous one count once).
   */
  distinct: { N: number; D: number; budgets: number };
  /**
   * Named warnings, each `'name: explanation'` (the format of the fit result's own `warnings`, which are
   * included): see {@link DiagnosticWarningName}.
   */
  warnings: string[];
}

type LawParams = ChinchillaParams | KaplanParams;

const DIAG_KEYS = optionKeys<DiagnosticsOptions>({ predicted: 1, bounds: 1, conditionLimit: 1, compute: 1 });

function paramsOf(v: unknown, name: string): { params: LawParams; fit?: FitResult } {
  const o = object(v, name, 'a fit result or { A, B, E, alpha, beta } / { Nc, Dc, alphaN, alphaD }');
  if ('params' in o && o.params !== null && typeof o.params === 'object') return { params: o.params as LawParams, fit: o as unknown as FitResult };
  return { params: o as unknown as LawParams };
}

function rawOf(p: LawParams): { law: 'chinchilla' | 'kaplan-nd'; theta: number[] } {
  if ('Nc' in p) return { law: 'kaplan-nd', theta: [Math.log(p.Nc), Math.log(p.Dc), p.alphaN, p.alphaD] };
  return { law: 'chinchilla', theta: [Math.log(p.A), Math.log(p.B), Math.log(p.E), p.alpha, p.beta] };
}

function lnPredKaplan(t: readonly number[], N: number, D: number): number {
  const [lnc, ldc, aN, aD] = t as [number, number, number, number];
  const u = (aN / aD) * (lnc - Math.log(N));
  const v = ldc - Math.log(D);
  const m = Math.max(u, v);
  return aD * (m + Math.log(Math.exp(u - m) + Math.exp(v - m)));
}

/** Rows of the Jacobian of ln L̂ at the raw parameters, row-major runs × k. */
function jacobian(law: 'chinchilla' | 'kaplan-nd', theta: number[], N: Float64Array, D: Float64Array): { J: Float64Array; k: number } {
  const n = N.length;
  if (law === 'chinchilla') {
    const [a, b, e, al, be] = theta as [number, number, number, number, number];
    const J = new Float64Array(n * 5);
    for (let i = 0; i < n; i++) {
      const ln = Math.log(N[i]!);
      const ld = Math.log(D[i]!);
      const t1 = a - al * ln;
      const t2 = b - be * ld;
      const m = Math.max(t1, t2, e);
      const w1 = Math.exp(t1 - m);
      const w2 = Math.exp(t2 - m);
      const w3 = Math.exp(e - m);
      const s = w1 + w2 + w3;
      J.set([w1 / s, w2 / s, w3 / s, (-w1 / s) * ln, (-w2 / s) * ld], i * 5);
    }
    return { J, k: 5 };
  }
  const J = new Float64Array(n * 4);
  for (let j = 0; j < 4; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(theta[j]!));
    const up = theta.slice();
    const dn = theta.slice();
    up[j]! += h;
    dn[j]! -= h;
    for (let i = 0; i < n; i++) J[i * 4 + j] = (lnPredKaplan(up, N[i]!, D[i]!) - lnPredKaplan(dn, N[i]!, D[i]!)) / (2 * h);
  }
  return { J, k: 4 };
}

/** @internal Condition number of J with unit-norm columns. */
export function scaledCondition(J: Float64Array, n: number, k: number): number {
  const norms = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) norms[j]! += J[i * k + j]! ** 2;
  for (let j = 0; j < k; j++) norms[j] = Math.sqrt(norms[j]!) || 1;
  const G = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const x = J[i * k + p]! / norms[p]!;
      for (let q = p; q < k; q++) G[p * k + q]! += x * (J[i * k + q]! / norms[q]!);
    }
  }
  for (let p = 0; p < k; p++) for (let q = 0; q < p; q++) G[p * k + q] = G[q * k + p]!;
  const ev = symmetricEigenvalues(G, k);
  const lo = Math.max(ev[0]!, 0);
  return lo > 0 ? Math.sqrt(ev[k - 1]! / lo) : Infinity;
}

function clusters(x: Float64Array, relTol: number): number {
  const s = Float64Array.from(x, Math.log).sort();
  let c = s.length ? 1 : 0;
  for (let i = 1; i < s.length; i++) if (s[i]! - s[i - 1]! > Math.log1p(relTol)) c++;
  return c;
}

function r2(y: ArrayLike<number>, f: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    ssr += (y[i]! - f[i]!) ** 2;
    sst += (y[i]! - m) ** 2;
  }
  return 1 - ssr / sst;
}

/**
 * Residuals per run, R² (on L and on ln L), the conditioning of the law's parameters on these runs and named
 * warnings: `not-converged` (the fit's best start met no tolerance), `flat-direction` (scaled Jacobian condition
 * number above `conditionLimit`: some combination of parameters is not determined by the runs, e.g. all runs
 * at one N), `at-bound` (a parameter within 1e-6 of a bound in `bounds`), `few-distinct-N` / `few-distinct-D`
 * (fewer than 3 distinct values: an exponent cannot be separated from its coefficient), `single-budget` (all
 * runs within 1% of one compute budget, so N and D vary together).
 *
 * @param fit a {@link FitResult} or a parameter set (`{ A, B, E, alpha, beta }` or Kaplan's).
 */
export function diagnostics(fit: FitResult | LawParams, data: ScalingData, opts: DiagnosticsOptions = {}): Diagnostics {
  const { params, fit: fr } = paramsOf(fit, 'fit');
  const o = options<DiagnosticsOptions>(opts, 'opts', DIAG_KEYS);
  const cols = checkData(data, 1);
  const n = cols.N.length;
  let predicted: Float64Array;
  if (o.predicted !== undefined) {
    const p = o.predicted;
    if (!(p instanceof Float64Array) && !Array.isArray(p)) throw rangeError('opts.predicted must be a Float64Array or an array of numbers');
    if (p.length !== n) throw rangeError(`opts.predicted must hold one loss per run (${n}; got ${p.length})`);
    predicted = Float64Array.from(p as ArrayLike<number>, (x, i) => number(x, `opts.predicted[${i}]`, { min: 0, minExclusive: true }));
  } else if (fr && (fr.law as string) === 'custom') {
    throw rangeError('opts.predicted is required for a custom law (the diagnostics evaluate only the built-in laws)');
  } else if ('rdStar' in params || 'rnStar' in params) {
    const U = (data as { U?: unknown }).U;
    if (U === undefined) throw rangeError('data.U (unique tokens) is required with data-constrained parameters');
    predicted = (predict as (p: unknown, n: Float64Array, d: Float64Array, u: unknown) => Float64Array)(params, cols.N, cols.D, U);
  } else {
    predicted = predict(params, cols.N, cols.D);
  }
  const residuals = Float64Array.from(cols.loss, (l, i) => l - predicted[i]!);
  const logResiduals = Float64Array.from(cols.loss, (l, i) => Math.log(predicted[i]!) - Math.log(l));
  let sse = 0;
  for (const r of residuals) sse += r * r;
  const compute = checkCompute(o.compute);
  const C = Float64Array.from(cols.N, (N, i) => compute.perToken(N) * cols.D[i]!);
  const distinct = { N: new Set(cols.N).size, D: new Set(cols.D).size, budgets: clusters(C, 0.01) };
  const warnings: string[] = [];
  const warn = (name: DiagnosticWarningName, message: string) => warnings.push(`${name}: ${message}`);
  const own = (fr as { warnings?: unknown } | undefined)?.warnings;
  if (Array.isArray(own)) for (const w of own) if (typeof w === 'string') warnings.push(w);
  if (fr && fr.converged === false) warn('not-converged', `the best start stopped on '${fr.status}' without meeting a convergence tolerance`);
  const out: Diagnostics = {
    runs: n, predicted, residuals, logResiduals,
    rSquared: r2(cols.loss, predicted),
    rSquaredLog: r2(Float64Array.from(cols.loss, Math.log), Float64Array.from(predicted, Math.log)),
    rmse: Math.sqrt(sse / n), distinct, warnings,
  };
  if (o.predicted === undefined && !('rdStar' in params || 'rnStar' in params)) {
    const { law, theta } = rawOf(params);
    const { J, k } = jacobian(law, theta, cols.N, cols.D);
    const cond = scaledCondition(J, n, k);
    out.conditionNumber = cond;
    const limit = number(o.conditionLimit ?? 1e6, 'opts.conditionLimit', { min: 1 });
    if (!(cond <= limit)) {
      warn('flat-direction', `the scaled Jacobian of ln L̂ has condition number ${cond.toPrecision(3)} > ${limit}: some combination of parameters is not determined by these runs`);
    }
  }
  const bounds = o.bounds ?? (fr as { bounds?: Record<string, readonly [number, number]> } | undefined)?.bounds;
  if (bounds !== undefined) {
    const b = object(bounds, 'opts.bounds', '{ name: [lo, hi] }');
    const pv = params as unknown as Record<string, number>;
    for (const [k, r] of Object.entries(b)) {
      if (!(k in pv)) throw rangeError(`opts.bounds names no parameter '${k}' (parameters: ${Object.keys(pv).join(', ')})`);
      if (!Array.isArray(r) || r.length !== 2) throw rangeError(`opts.bounds.${k} must be [lo, hi]`);
      for (const edge of r as number[]) {
        if (Number.isFinite(edge) && Math.abs(pv[k]! - edge) <= 1e-6 * Math.max(1, Math.abs(edge))) {
          warn('at-bound', `${k} = ${pv[k]} is at its bound ${edge}`);
        }
      }
    }
  }
  if (distinct.N < 3) warn('few-distinct-N', `${distinct.N} distinct N: the N exponent is not separable from its coefficient`);
  if (distinct.D < 3) warn('few-distinct-D', `${distinct.D} distinct D: the D exponent is not separable from its coefficient`);
  if (distinct.budgets < 2 && !warnings.some((w) => w.startsWith('single-budget:'))) {
    warn('single-budget', 'all runs lie within 1% of one compute budget: N and D vary together, so their terms are confounded');
  }
  return out;
}

// ---- tests against another parameter set ----------------------------------------------------------------------

/** Result of a χ² test of parameters. */
export interface ChiSquareTest {
  /**
   * The test statistic: χ² = dᵀ Σ⁻¹ d for {@link parameterTest}, λ = 2(ℓ(fit) − ℓ(reference)) for
   * {@link likelihoodRatioTest}.
   */
  statistic: number;
  /** Degrees of freedom of the reference χ² distribution (5: the Chinchilla parameters A, B, E, α, β). */
  df: number;
  /** P(χ²(df) > statistic). */
  pValue: number;
}

/** Result of {@link parameterTest}. */
export interface ParameterTestResult extends ChiSquareTest {
  /** reference − estimate in the raw parameters [ln A, ln B, ln E, α, β]. */
  difference: Float64Array;
  /** Covariance of the raw parameters over the resamples (row-major 5×5). */
  covariance: Float64Array;
  /** Resamples used (finite in every parameter). */
  resamples: number;
}

/** Result of {@link likelihoodRatioTest}. */
export interface LikelihoodRatioResult extends ChiSquareTest {
  /** Huber log-likelihoods at the fit's and the reference's parameters, each with its own fitted scale σ. */
  logLikelihood: { fit: number; reference: number };
  /** Fitted log scales σ. */
  sigma: { fit: number; reference: number };
}

function chinchillaOf(v: unknown, name: string): ChinchillaParams {
  const { params } = paramsOf(v, name);
  const p = params as unknown as Record<string, unknown>;
  for (const k of ['A', 'B', 'E', 'alpha', 'beta']) {
    if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) throw rangeError(`${name} must hold Chinchilla parameters { A, B, E, alpha, beta } (${k} is ${show(p[k])})`);
  }
  return params as ChinchillaParams;
}

/**
 * Besiroglu et al. (2024)'s test of a parameter set against a fit: χ² = dᵀ Σ⁻¹ d with d = reference − estimate
 * in [ln A, ln B, ln E, α, β] and Σ the covariance of those over bootstrap resamples (their notebook: 4000
 * resamples of a Huber-sum refit, giving χ²(5) = 238 for Hoffmann et al.'s values); df = 5.
 *
 * @param samples resampled parameters: a fit's `bootstrap` summary, a {@link ResampleSummary}, or columns
 *   `{ A, B, E, alpha, beta }` of equal length.
 */
export function parameterTest(
  estimate: FitResult | ChinchillaParams,
  reference: ChinchillaParams,
  samples: BootstrapSummary | { samples: Readonly<Record<string, Float64Array>> } | Readonly<Record<string, Float64Array | readonly number[]>>,
): ParameterTestResult {
  const est = rawOf(chinchillaOf(estimate, 'estimate')).theta;
  const ref = rawOf(chinchillaOf(reference, 'reference')).theta;
  const s0 = object(samples, 'samples', 'a bootstrap summary or { A, B, E, alpha, beta } columns');
  const inner = 'samples' in s0 ? s0.samples : undefined;
  const cols = (inner !== null && typeof inner === 'object' ? inner : s0) as Record<string, ArrayLike<number> | null | undefined>;
  const names = ['A', 'B', 'E', 'alpha', 'beta'];
  const raw = names.map((k, j) => {
    const c = cols[k];
    if (c === null || typeof c !== 'object' || typeof c.length !== 'number' || !(c.length <= 1e8) || (ArrayBuffer.isView(c) && isDetached(c))) {
      throw rangeError(`samples must hold resampled ${k}, an array of at most 1e8 numbers (columns: ${Object.keys(cols).join(', ')})`);
    }
    return Float64Array.from(c, (x) => (typeof x !== 'number' ? NaN : j < 3 ? Math.log(x) : x));
  });
  const len = raw[0]!.length;
  if (raw.some((c) => c.length !== len)) throw rangeError('samples columns must all have the same length');
  const { cov, rows } = covariance(raw);
  if (rows < 6) throw rangeError(`samples must hold at least 6 finite resamples for a 5×5 covariance (got ${rows})`);
  const d = Float64Array.from(ref, (r, j) => r - est[j]!);
  const x = solve(cov, d, 5);
  if (!x) throw rangeError('samples: the resampled parameters have a singular covariance');
  let stat = 0;
  for (let j = 0; j < 5; j++) stat += d[j]! * x[j]!;
  return { statistic: stat, df: 5, pValue: chiSquareSf(stat, 5), difference: d, covariance: cov, resamples: rows };
}

/** ln Z(δ) of the Huber density exp(−H_δ(x))/Z(δ). */
function lnHuberZ(delta: number): number {
  return Math.log(Math.sqrt(2 * Math.PI) * erf(delta / Math.SQRT2) + (2 * Math.exp(-0.5 * delta * delta)) / delta);
}

/** Negative Huber log-likelihood of log residuals r at log scale σ. */
function huberNll(r: Float64Array, sigma: number, delta: number, lnZ: number): number {
  const s = Math.exp(sigma);
  let sum = 0;
  for (const v of r) {
    const x = Math.abs(v / s);
    sum += x <= delta ? 0.5 * x * x : delta * (x - 0.5 * delta);
  }
  return sum + r.length * (lnZ + sigma);
}

/** σ minimising the negative log-likelihood (golden section on a bracket found by doubling). */
function bestSigma(r: Float64Array, delta: number, lnZ: number): number {
  const f = (s: number) => huberNll(r, s, delta, lnZ);
  const lo = -40;
  const hi = 10;
  // coarse scan for the basin
  let best = lo;
  let bf = Infinity;
  for (let i = 0; i <= 500; i++) {
    const s = lo + ((hi - lo) * i) / 500;
    const v = f(s);
    if (v < bf) {
      bf = v;
      best = s;
    }
  }
  const step = (hi - lo) / 500;
  const [a, b] = goldenSection(f, best - step, best + step, (l, h) => h - l > 1e-14);
  return (a + b) / 2;
}

const LR_KEYS = optionKeys<{ delta?: number }>({ delta: 1 });

/**
 * Besiroglu et al. (2024)'s likelihood-ratio test: λ = 2(ℓ(fit) − ℓ(reference)) with ℓ the Huber
 * log-likelihood of the log residuals (δ = 1e-3), each parameter set with its own best scale σ; under the
 * reference, λ ~ χ²(5) (Wilks). On the 240 Chinchilla points with Hoffmann et al.'s unrounded values their
 * notebook reports λ = 84.00.
 */
export function likelihoodRatioTest(
  fit: FitResult | ChinchillaParams,
  reference: ChinchillaParams,
  data: ScalingData,
  opts: { delta?: number } = {},
): LikelihoodRatioResult {
  const o = options<{ delta?: number }>(opts, 'opts', LR_KEYS);
  const delta = number(o.delta ?? 1e-3, 'opts.delta', { min: 0, minExclusive: true });
  const pf = chinchillaOf(fit, 'fit');
  const pr = chinchillaOf(reference, 'reference');
  const cols = checkData(data, 6);
  const lnZ = lnHuberZ(delta);
  const resid = (p: ChinchillaParams) => {
    const L = predict(p, cols.N, cols.D);
    return Float64Array.from(L, (l, i) => Math.log(cols.loss[i]!) - Math.log(l));
  };
  const rf = resid(pf);
  const rr = resid(pr);
  const sf = bestSigma(rf, delta, lnZ);
  const sr = bestSigma(rr, delta, lnZ);
  const lf = -huberNll(rf, sf, delta, lnZ);
  const lr = -huberNll(rr, sr, delta, lnZ);
  const stat = 2 * (lf - lr);
  return { statistic: stat, df: 5, pValue: chiSquareSf(stat, 5), logLikelihood: { fit: lf, reference: lr }, sigma: { fit: sf, reference: sr } };
}
