/**
 * Hoffmann et al. (2022)'s approaches 1 and 2 to compute-optimal scaling, beside the parametric fit (approach
 * 3, {@link fit}): power laws N_opt ∝ C^a and D_opt ∝ C^b fitted by least squares in log space to
 * compute-optimal points found without a parametric loss law.
 *
 * - Approach 1 ({@link minLossFrontier}): for each budget C, the run whose training curve reaches the lowest
 *   loss at C (curves interpolated linearly in ln C between logged points) gives N_opt(C), D_opt(C).
 * - Approach 2 ({@link isoflopApproach}): for each isoFLOP profile (runs of one budget), a parabola of loss
 *   against ln N; its vertex gives N_opt(C), and D_opt = C / f(N_opt) under the compute model.
 *
 * @packageDocumentation
 */
import { integer, invalidType, number, optionKeys, options, rangeError } from '../runtime/validate';
import { type CheckedCompute, type ComputeModel, checkCompute } from './compute';
import { type ResampleScheme, type ResampleSummary, indexSets, label, summariseResamples } from './resample';
import { solve } from './stats';
import { type Cell, type RunTable, numericColumn, tableShape, takeRows } from './table';

/** y = coefficient · C^exponent, fitted by ordinary least squares on (ln C, ln y). */
export interface PowerLawFit {
  exponent: number;
  coefficient: number;
  /** R² of the fit in log space. */
  r2: number;
  /** Points fitted. */
  points: number;
}

/** One isoFLOP profile of approach 2. */
export interface IsoflopProfile {
  budget: number;
  /** Runs of the profile. */
  runs: number;
  /** loss ≈ c0 + c1·x + c2·x² with x = ln N − `center`. */
  coefficients: [number, number, number];
  center: number;
  nOpt: number;
  dOpt: number;
  /** Loss at the vertex. */
  lossOpt: number;
  /** The vertex lies within the profile's sampled N. */
  interior: boolean;
}

/** Compute-optimal points and the power laws fitted to them. */
export interface ApproachResult {
  approach: 1 | 2;
  /** N_opt ∝ C^a. */
  a: number;
  /** D_opt ∝ C^b (b = 1 − a exactly under C = 6ND). */
  b: number;
  nOpt: PowerLawFit;
  dOpt: PowerLawFit;
  /** N_opt, D_opt and D_opt/N_opt at `at` from the power laws. */
  at: { C: number; N: number; D: number; tokensPerParam: number };
  /** The compute-optimal points the power laws were fitted to, by increasing C. */
  frontier: { C: Float64Array; N: Float64Array; D: Float64Array; loss: Float64Array };
  /** Approach 2: the profiles fitted (in budget order). */
  profiles?: IsoflopProfile[];
  /** Budgets left out, and why. */
  skipped: { budget: number; reason: string }[];
  /** Named warnings: `vertex-outside-range: …`, `few-profiles: …`. */
  warnings: string[];
  /** Compute model label: '6ND', 'kaplan' or 'custom'. */
  compute: string;
  /** Resampling of a, b and the `at` quantities, when `resample` was given. */
  resampling?: ResampleSummary;
}

/** Runs of isoFLOP profiles: N, final loss and a budget column (default `budget`), plus any other columns. */
export type IsoflopData = { N: Float64Array | readonly number[]; loss: Float64Array | readonly number[] } & RunTable;

/** Points along training curves (or final losses): N, D (or a FLOPs column), loss, optionally a run id column. */
export type CurveData = { N: Float64Array | readonly number[]; D?: Float64Array | readonly number[]; loss: Float64Array | readonly number[] } & RunTable;

/** Options of {@link isoflopApproach}. */
export interface IsoflopOptions {
  /** Column holding each run's budget (default 'budget'). Runs of one budget form one profile. */
  budget?: string;
  /** FLOPs per token (default C = 6ND): D_opt = C / f(N_opt). */
  compute?: ComputeModel;
  /** Profiles need at least this many distinct N (default 3). */
  minRuns?: number;
  /** Leave out profiles whose vertex lies outside their sampled N (default false: keep, with a warning). */
  interiorOnly?: boolean;
  /** Budget for the reported N_opt, D_opt (default 5.76e23, Chinchilla's). */
  at?: number;
  /**
   * Resample for intervals: bootstrap/subsample draw runs within each profile; leave-one-group-out by label. A
   * resampled profile left with fewer than `minRuns` distinct N (or a concave parabola) is left out of that
   * resample; a resample left with fewer than 2 profiles counts as failed.
   */
  resample?: ResampleScheme;
}

/** Options of {@link minLossFrontier}. */
export interface FrontierOptions {
  /** Column naming each run's training curve (default: 'run' when present, else every row is its own run). */
  run?: string;
  /** Column holding each point's FLOPs (default: C = f(N)·D under `compute`). */
  flops?: string;
  compute?: ComputeModel;
  /**
   * Budgets at which to take the envelope: a count of log-spaced values over the data's range (default 1500,
   * as Hoffmann et al.), or the values. When every run is one point (final losses only), the default is the
   * distinct point budgets: approach 1 then reduces to the lowest-loss run per budget.
   */
  budgets?: number | readonly number[];
  at?: number;
  /** Resample runs (curves) for intervals. */
  resample?: ResampleScheme;
}

const ISO_KEYS = optionKeys<IsoflopOptions>({ budget: 1, compute: 1, minRuns: 1, interiorOnly: 1, at: 1, resample: 1 });
const FRONTIER_KEYS = optionKeys<FrontierOptions>({ run: 1, flops: 1, compute: 1, budgets: 1, at: 1, resample: 1 });

/** Ordinary least squares y = c0 + c1 x. */
function line(x: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i]! - intercept - slope * x[i]!) ** 2;
  return { slope, intercept, r2: syy > 0 ? 1 - sse / syy : 1 };
}

/** @internal Power law fitted to positive (C, y). */
export function powerLaw(C: ArrayLike<number>, y: ArrayLike<number>): PowerLawFit {
  const lx = Float64Array.from(C as ArrayLike<number>, Math.log);
  const ly = Float64Array.from(y as ArrayLike<number>, Math.log);
  const l = line(lx, ly);
  return { exponent: l.slope, coefficient: Math.exp(l.intercept), r2: l.r2, points: lx.length };
}

/** @internal Least-squares parabola of y on x (centred), or undefined when degenerate. */
export function parabola(x: ArrayLike<number>, y: ArrayLike<number>): { c: [number, number, number]; center: number } | undefined {
  const n = x.length;
  let center = 0;
  for (let i = 0; i < n; i++) center += x[i]!;
  center /= n;
  const S = new Float64Array(5);
  const T = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    const u = x[i]! - center;
    let p = 1;
    for (let k = 0; k < 5; k++) {
      S[k]! += p;
      if (k < 3) T[k]! += p * y[i]!;
      p *= u;
    }
  }
  const M = [S[0]!, S[1]!, S[2]!, S[1]!, S[2]!, S[3]!, S[2]!, S[3]!, S[4]!];
  const c = solve(M, T, 3);
  if (!c || !c.every(Number.isFinite)) return undefined;
  return { c: [c[0]!, c[1]!, c[2]!], center };
}

interface Frontier {
  C: number[];
  N: number[];
  D: number[];
  loss: number[];
}

function fromFrontier(
  approach: 1 | 2,
  f: Frontier,
  compute: CheckedCompute,
  at: number,
  skipped: { budget: number; reason: string }[],
  warnings: string[],
): ApproachResult {
  const order = f.C.map((_, i) => i).sort((p, q) => f.C[p]! - f.C[q]!);
  const C = Float64Array.from(order, (i) => f.C[i]!);
  const N = Float64Array.from(order, (i) => f.N[i]!);
  const D = Float64Array.from(order, (i) => f.D[i]!);
  const loss = Float64Array.from(order, (i) => f.loss[i]!);
  const distinctC = new Set(C).size;
  if (distinctC < 2) {
    throw rangeError(
      `approach ${approach} needs compute-optimal points at 2 or more budgets to fit N_opt ∝ C^a (got ${distinctC}` +
        (skipped.length ? `; left out: ${skipped.map((s) => `${s.budget.toExponential(2)} (${s.reason})`).join(', ')}` : '') + ')',
    );
  }
  if (distinctC < 3) warnings.push(`few-profiles: N_opt ∝ C^a fitted to ${distinctC} budgets; the exponent has no residual check`);
  const nOpt = powerLaw(C, N);
  const dOpt = powerLaw(C, D);
  const Nat = nOpt.coefficient * at ** nOpt.exponent;
  const Dat = dOpt.coefficient * at ** dOpt.exponent;
  return {
    approach, a: nOpt.exponent, b: dOpt.exponent, nOpt, dOpt,
    at: { C: at, N: Nat, D: Dat, tokensPerParam: Dat / Nat },
    frontier: { C, N, D, loss }, skipped, warnings, compute: compute.label,
  };
}

interface IsoInput {
  N: Float64Array;
  loss: Float64Array;
  budget: Float64Array;
}

function isoCore(d: IsoInput, idx: ArrayLike<number> | undefined, compute: CheckedCompute, minRuns: number, interiorOnly: boolean, at: number): ApproachResult {
  const groups = new Map<number, number[]>();
  const n = idx ? idx.length : d.N.length;
  for (let j = 0; j < n; j++) {
    const i = idx ? idx[j]! : j;
    const g = groups.get(d.budget[i]!) ?? [];
    g.push(i);
    groups.set(d.budget[i]!, g);
  }
  const budgets = [...groups.keys()].sort((p, q) => p - q);
  const profiles: IsoflopProfile[] = [];
  const skipped: { budget: number; reason: string }[] = [];
  const warnings: string[] = [];
  const f: Frontier = { C: [], N: [], D: [], loss: [] };
  for (const C of budgets) {
    const rows = groups.get(C)!;
    const x = rows.map((i) => Math.log(d.N[i]!));
    const distinct = new Set(x).size;
    if (distinct < minRuns) {
      skipped.push({ budget: C, reason: `${distinct} distinct N < ${minRuns}` });
      continue;
    }
    const p = parabola(x, rows.map((i) => d.loss[i]!));
    if (!p || !(p.c[2] > 0)) {
      skipped.push({ budget: C, reason: 'parabola not convex' });
      continue;
    }
    const u = -p.c[1] / (2 * p.c[2]);
    const xOpt = p.center + u;
    const interior = xOpt >= Math.min(...x) && xOpt <= Math.max(...x);
    if (!interior && interiorOnly) {
      skipped.push({ budget: C, reason: 'vertex outside the sampled N' });
      continue;
    }
    const nOpt = Math.exp(xOpt);
    const dOpt = C / compute.perToken(nOpt);
    const lossOpt = p.c[0] + p.c[1] * u + p.c[2] * u * u;
    profiles.push({ budget: C, runs: rows.length, coefficients: p.c, center: p.center, nOpt, dOpt, lossOpt, interior });
    f.C.push(C);
    f.N.push(nOpt);
    f.D.push(dOpt);
    f.loss.push(lossOpt);
  }
  const outside = profiles.filter((p) => !p.interior);
  if (outside.length) {
    warnings.push(
      `vertex-outside-range: ${outside.length} profile(s) have their minimum outside the sampled N (budgets ${outside.map((p) => p.budget.toExponential(2)).join(', ')}); their N_opt is an extrapolation`,
    );
  }
  const r = fromFrontier(2, f, compute, at, skipped, warnings);
  r.profiles = profiles;
  return r;
}

function resampled(
  table: RunTable,
  n: number,
  scheme: unknown,
  strata: Int32Array | undefined,
  point: ApproachResult,
  run: (idx: Int32Array) => ApproachResult,
): ResampleSummary {
  const sets = indexSets(scheme, 'opts.resample', table, n, strata);
  const names = ['a', 'b', 'nOpt', 'dOpt', 'tokensPerParam'];
  const est: Record<string, number> = { a: point.a, b: point.b, nOpt: point.at.N, dOpt: point.at.D, tokensPerParam: point.at.tokensPerParam };
  const samples: Record<string, Float64Array> = {};
  for (const q of names) samples[q] = new Float64Array(sets.sets.length).fill(NaN);
  sets.sets.forEach((s, k) => {
    try {
      const r = run(s);
      samples.a![k] = r.a;
      samples.b![k] = r.b;
      samples.nOpt![k] = r.at.N;
      samples.dOpt![k] = r.at.D;
      samples.tokensPerParam![k] = r.at.tokensPerParam;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // too few profiles in this resample: counted as failed
    }
  });
  return summariseResamples(sets, est, samples);
}

/**
 * Hoffmann et al.'s approach 2 (isoFLOP profiles): for each budget, a least-squares parabola of loss against
 * ln N over the profile's runs, its vertex N_opt(C) and D_opt = C/f(N_opt); then N_opt ∝ C^a and D_opt ∝ C^b by
 * least squares in log space. Profiles with fewer than `minRuns` distinct N, or a concave parabola, are left
 * out (listed in `skipped`); fewer than 2 remaining budgets is a RangeError.
 *
 * @example
 * ```ts
 * const t = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
 * const r = scaling.isoflopApproach(t, { resample: { scheme: 'bootstrap', resamples: 1000, seed: 1 } });
 * r.a; r.resampling!.intervals.a;
 * ```
 */
export function isoflopApproach(data: IsoflopData, opts: IsoflopOptions = {}): ApproachResult {
  const o = options<IsoflopOptions>(opts, 'opts', ISO_KEYS);
  const table = data as RunTable;
  const { keys, length } = tableShape(table, 'data');
  const bcol = o.budget ?? 'budget';
  if (typeof bcol !== 'string') throw invalidType('opts.budget', 'a column name', bcol);
  if (!keys.includes(bcol)) throw rangeError(`data has no budget column '${bcol}' (columns: ${keys.join(', ')}); name it with opts.budget`);
  const d: IsoInput = { N: numericColumn(data, 'N', 'data'), loss: numericColumn(data, 'loss', 'data'), budget: numericColumn(data, bcol, 'data') };
  const compute = checkCompute(o.compute);
  const minRuns = integer(o.minRuns ?? 3, 'opts.minRuns', { min: 3, max: 1e9 });
  if (o.interiorOnly !== undefined && typeof o.interiorOnly !== 'boolean') throw invalidType('opts.interiorOnly', 'a boolean', o.interiorOnly);
  const interiorOnly = o.interiorOnly ?? false;
  const at = number(o.at ?? 5.76e23, 'opts.at', { min: 0, minExclusive: true });
  const point = isoCore(d, undefined, compute, minRuns, interiorOnly, at);
  if (o.resample !== undefined) {
    const ids = new Map<number, number>();
    const strata = Int32Array.from(d.budget, (b) => {
      if (!ids.has(b)) ids.set(b, ids.size);
      return ids.get(b)!;
    });
    point.resampling = resampled(data, length, o.resample, strata, point, (idx) => isoCore(d, idx, compute, minRuns, interiorOnly, at));
  }
  return point;
}

interface Curve {
  N: number;
  C: Float64Array;
  loss: Float64Array;
}

function frontierCore(curves: Curve[], use: ArrayLike<number>, budgets: Float64Array, compute: CheckedCompute, at: number): ApproachResult {
  const f: Frontier = { C: [], N: [], D: [], loss: [] };
  const skipped: { budget: number; reason: string }[] = [];
  for (const C of budgets) {
    let best = Infinity;
    let bestN = NaN;
    for (let k = 0; k < use.length; k++) {
      const c = curves[use[k]!]!;
      const m = c.C.length;
      if (!(C >= c.C[0]! && C <= c.C[m - 1]!)) continue;
      let lo = 0;
      let hi = m - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (c.C[mid]! <= C) lo = mid;
        else hi = mid;
      }
      let L: number;
      if (c.C[lo] === C || m === 1) L = c.loss[lo]!;
      else if (c.C[hi] === C) L = c.loss[hi]!;
      else {
        const t = (Math.log(C) - Math.log(c.C[lo]!)) / (Math.log(c.C[hi]!) - Math.log(c.C[lo]!));
        L = c.loss[lo]! + t * (c.loss[hi]! - c.loss[lo]!);
      }
      if (L < best) {
        best = L;
        bestN = c.N;
      }
    }
    if (!Number.isFinite(best)) {
      skipped.push({ budget: C, reason: 'no run reaches this budget' });
      continue;
    }
    f.C.push(C);
    f.N.push(bestN);
    f.D.push(C / compute.perToken(bestN));
    f.loss.push(best);
  }
  const warnings: string[] = [];
  const distinctN = new Set(f.N).size;
  if (distinctN < 3 && f.N.length > 0) warnings.push(`few-distinct-N: the envelope visits ${distinctN} model size(s); the exponent is coarse`);
  return fromFrontier(1, f, compute, at, skipped.length > 50 ? skipped.slice(0, 50) : skipped, warnings);
}

/**
 * Hoffmann et al.'s approach 1 (minimum over training curves): at each budget C, the lowest loss any run
 * reaches at C — its curve interpolated linearly in ln C between logged points (C = f(N)·D, or the `flops`
 * column) — gives N_opt(C) (that run's N) and D_opt(C) = C/f(N_opt); then power laws by least squares in log
 * space. Give rows of (run, N, D, loss) along each training curve; on a table of final losses (one row per
 * run) it reduces to the lowest-loss run at each budget.
 */
export function minLossFrontier(data: CurveData, opts: FrontierOptions = {}): ApproachResult {
  const o = options<FrontierOptions>(opts, 'opts', FRONTIER_KEYS);
  const { keys, length } = tableShape(data, 'data');
  const compute = checkCompute(o.compute);
  const at = number(o.at ?? 5.76e23, 'opts.at', { min: 0, minExclusive: true });
  const N = numericColumn(data, 'N', 'data');
  const loss = numericColumn(data, 'loss', 'data');
  let C: Float64Array;
  if (o.flops !== undefined) {
    if (typeof o.flops !== 'string' || !keys.includes(o.flops)) throw rangeError(`opts.flops must name a column of data (columns: ${keys.join(', ')})`);
    C = numericColumn(data, o.flops, 'data');
  } else {
    if (!keys.includes('D')) throw rangeError("data needs a D column (tokens) or opts.flops naming a FLOPs column");
    const D = numericColumn(data, 'D', 'data');
    C = Float64Array.from(N, (n, i) => compute.perToken(n) * D[i]!);
  }
  const runCol = o.run ?? (keys.includes('run') ? 'run' : undefined);
  if (runCol !== undefined && (typeof runCol !== 'string' || !keys.includes(runCol))) {
    throw rangeError(`opts.run must name a column of data (columns: ${keys.join(', ')})`);
  }
  const labels: readonly Cell[] | undefined = runCol === undefined ? undefined : (data[runCol] as readonly Cell[]);
  const byRun = new Map<string, number[]>();
  const runOrder: string[] = [];
  for (let i = 0; i < length; i++) {
    const k = labels ? label(labels[i]) : String(i);
    if (!byRun.has(k)) {
      byRun.set(k, []);
      runOrder.push(k);
    }
    byRun.get(k)!.push(i);
  }
  const firstRow: number[] = [];
  const curves: Curve[] = runOrder.map((k) => {
    const rows = byRun.get(k)!.slice().sort((p, q) => C[p]! - C[q]!);
    firstRow.push(rows[0]!);
    const n0 = N[rows[0]!]!;
    for (const i of rows) {
      if (N[i] !== n0) throw rangeError(`data.N must be constant along a run (run '${k}' has ${n0} and ${N[i]})`);
    }
    return { N: n0, C: Float64Array.from(rows, (i) => C[i]!), loss: Float64Array.from(rows, (i) => loss[i]!) };
  });
  let budgets: Float64Array;
  const cMin = Math.min(...C);
  const cMax = Math.max(...C);
  if (Array.isArray(o.budgets) || o.budgets instanceof Float64Array) {
    if ((o.budgets as ArrayLike<number>).length === 0 || (o.budgets as ArrayLike<number>).length > 1e5) throw rangeError(`opts.budgets must hold 1 to 1e5 budgets (got ${(o.budgets as ArrayLike<number>).length})`);
    budgets = Float64Array.from(o.budgets as ArrayLike<number>, (b, i) => number(b, `opts.budgets[${i}]`, { min: 0, minExclusive: true }));
  } else if (o.budgets !== undefined || curves.some((c) => c.C.length > 1)) {
    const count = integer(o.budgets ?? 1500, 'opts.budgets', { min: 2, max: 1e5 });
    budgets = Float64Array.from({ length: count }, (_, j) => Math.exp(Math.log(cMin) + ((Math.log(cMax) - Math.log(cMin)) * j) / (count - 1)));
    budgets[0] = cMin;
    budgets[count - 1] = cMax;
  } else {
    budgets = Float64Array.from(new Set(C)).sort();
  }
  const all = Int32Array.from(curves, (_, i) => i);
  const point = frontierCore(curves, all, budgets, compute, at);
  if (o.resample !== undefined) {
    const runTable = takeRows(data, firstRow);
    point.resampling = resampled(runTable, curves.length, o.resample, undefined, point, (idx) => frontierCore(curves, idx, budgets, compute, at));
  }
  return point;
}
