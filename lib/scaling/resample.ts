/**
 * Resampling schemes for uncertainty: the bootstrap (with replacement), subsampling (m out of n, without
 * replacement) and leave-one-group-out (e.g. leave one study out, by `source`), orchestrated in TypeScript as
 * a loop of native fits (the addon's bootstrap draws its own index sets; these are given ones).
 *
 * @packageDocumentation
 */
import { mulberry32 } from '../runtime/prng';
import { show } from '../runtime/show';
import { integer, invalidType, number, object, oneOf, optionKeys, options, rangeError } from '../runtime/validate';
import { FIT_KEYS, fit } from './fit';
import { type ComputeModel, checkCompute } from './compute';
import { computeOptimal } from './formulas';
import { finiteSorted, meanSd, normalQuantile, percentile } from './stats';
import { type Cell, type RunTable, tableShape, takeRows } from './table';
import type { ChinchillaParams, FitOptions, FitResult, ParamsOf, ScalingData, ScalingLaw } from './types';

/**
 * How to resample the runs.
 * - `bootstrap`: `resamples` draws of n runs with replacement (within each stratum where the caller stratifies).
 * - `subsample`: `resamples` draws of m runs without replacement, m = `size` or round(`fraction`·n) (default
 *   n/2); spreads are rescaled to the full sample by √(m/(n−m)) (exact for a mean; Politis & Romano 1994 with
 *   the finite-population correction) and intervals are the rescaled basic intervals around the estimate.
 * - `leave-one-group-out`: one refit per group, leaving that group out; `groups` is a column name of the data
 *   (e.g. `'source'`) or one label per run. Jackknife standard errors √((G−1)/G·Σ(θ₍g₎−θ̄)²) and normal
 *   intervals; each refit is reported by group.
 * - `given`: the caller's index sets (row indices, repeats allowed), summarised as a bootstrap — e.g. to
 *   reproduce another tool's resamples exactly.
 */
export type ResampleScheme =
  | { scheme: 'bootstrap'; resamples: number; seed: number; level?: number }
  | { scheme: 'subsample'; resamples: number; seed: number; size?: number; fraction?: number; level?: number }
  | { scheme: 'leave-one-group-out'; groups: string | readonly Cell[]; level?: number }
  | { scheme: 'given'; sets: readonly (Int32Array | readonly number[])[]; level?: number };

/** Per-quantity summary of a resampling. */
export interface ResampleSummary {
  scheme: ResampleScheme['scheme'];
  /** Refits made (groups for leave-one-group-out). */
  resamples: number;
  /** Refits that failed (no finite result; excluded from the summaries). */
  failed: number;
  level: number;
  /** Subsample size m (subsample only). */
  size?: number;
  /** Group left out by each refit (leave-one-group-out only). */
  groups?: string[];
  /** Full-data estimates the intervals are centred on (subsample, leave-one-group-out). */
  estimate: Record<string, number>;
  mean: Record<string, number>;
  stdErr: Record<string, number>;
  intervals: Record<string, [number, number]>;
  /** Each refit's value (NaN where it failed). */
  samples: Record<string, Float64Array>;
}

/** @internal A group label as a string (strings as they are, anything else printed safely). */
export function label(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : show(v);
}

/** @internal A checked scheme with its index sets over n runs. */
export interface IndexSets {
  scheme: ResampleScheme['scheme'];
  level: number;
  sets: Int32Array[];
  size?: number;
  groups?: string[];
  n: number;
}

const BOOT_KEYS = optionKeys<{ scheme: 'bootstrap'; resamples: number; seed: number; level?: number }>({ scheme: 1, resamples: 1, seed: 1, level: 1 });
const SUB_KEYS = optionKeys<{ scheme: 'subsample'; resamples: number; seed: number; size?: number; fraction?: number; level?: number }>({
  scheme: 1, resamples: 1, seed: 1, size: 1, fraction: 1, level: 1,
});
const LOGO_KEYS = optionKeys<{ scheme: 'leave-one-group-out'; groups: string | readonly Cell[]; level?: number }>({ scheme: 1, groups: 1, level: 1 });
const GIVEN_KEYS = optionKeys<{ scheme: 'given'; sets: readonly (Int32Array | readonly number[])[]; level?: number }>({ scheme: 1, sets: 1, level: 1 });
const SCHEMES = ['bootstrap', 'subsample', 'leave-one-group-out', 'given'] as const;

/**
 * @internal Index sets of a scheme over `n` runs of `table`; `strata` (one label per run) keeps each
 * bootstrap/subsample draw within strata (every stratum keeps its size, or its share m/n).
 */
export function indexSets(v: unknown, name: string, table: RunTable, n: number, strata?: Int32Array): IndexSets {
  const o0 = object(v, name, "{ scheme: 'bootstrap' | 'subsample' | 'leave-one-group-out', ... }");
  const scheme = oneOf(o0.scheme, `${name}.scheme`, SCHEMES);
  const lvl = (x: unknown) => number(x ?? 0.95, `${name}.level`, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const groupsOf = (s: Int32Array | undefined): number[][] => {
    if (!s) return [Array.from({ length: n }, (_, i) => i)];
    const m = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const g = m.get(s[i]!) ?? [];
      g.push(i);
      m.set(s[i]!, g);
    }
    return [...m.values()];
  };
  if (scheme === 'leave-one-group-out') {
    const o = options<{ groups: unknown; level?: number }>(o0, name, LOGO_KEYS, true);
    let labels: readonly Cell[];
    if (typeof o.groups === 'string') {
      const cols = tableShape(table, 'data').keys;
      if (!cols.includes(o.groups)) throw rangeError(`${name}.groups names no column '${o.groups}' (columns: ${cols.join(', ')})`);
      labels = table[o.groups] as readonly Cell[];
    } else if (Array.isArray(o.groups) || o.groups instanceof Float64Array) {
      labels = o.groups as readonly Cell[];
      if (labels.length !== n) throw rangeError(`${name}.groups must hold one label per run (${n}; got ${labels.length})`);
    } else throw invalidType(`${name}.groups`, 'a column name or one label per run', o.groups);
    const names: string[] = [];
    const byName = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const k = label(labels[i]);
      if (!byName.has(k)) {
        byName.set(k, []);
        names.push(k);
      }
      byName.get(k)!.push(i);
    }
    if (names.length < 2) throw rangeError(`${name}.groups must hold at least 2 groups (got ${names.length})`);
    const sets = names.map((g) => {
      const out = byName.get(g)!;
      const left = new Set(out);
      return Int32Array.from({ length: n - out.length }, function (this: { i: number }) {
        while (left.has(this.i)) this.i++;
        return this.i++;
      }, { i: 0 });
    });
    return { scheme, level: lvl(o.level), sets, groups: names, n };
  }
  if (scheme === 'given') {
    const o = options<{ sets: unknown; level?: number }>(o0, name, GIVEN_KEYS, true);
    if (!Array.isArray(o.sets) || o.sets.length === 0) throw invalidType(`${name}.sets`, 'a non-empty array of index arrays', o.sets);
    const sets = (o.sets as unknown[]).map((s, k) => {
      if (!(s instanceof Int32Array) && !Array.isArray(s)) throw invalidType(`${name}.sets[${k}]`, 'an Int32Array or an array of row indices', s);
      const out = Int32Array.from(s as ArrayLike<number>);
      for (let j = 0; j < out.length; j++) {
        if (out[j] !== (s as ArrayLike<number>)[j] || out[j]! < 0 || out[j]! >= n) {
          throw rangeError(`${name}.sets[${k}][${j}] must be a row index in [0, ${n}) (got ${show((s as ArrayLike<number>)[j])})`);
        }
      }
      return out;
    });
    return { scheme: 'given', level: lvl(o.level), sets, n };
  }
  if (scheme === 'bootstrap') {
    const o = options<{ resamples: unknown; seed: unknown; level?: number }>(o0, name, BOOT_KEYS, true);
    const R = integer(o.resamples, `${name}.resamples`, { min: 1, max: 1e7 });
    const r = mulberry32(integer(o.seed, `${name}.seed`, { min: 0, max: 2 ** 32 - 1 }));
    const strataIdx = groupsOf(strata);
    const sets: Int32Array[] = [];
    for (let k = 0; k < R; k++) {
      const s = new Int32Array(n);
      let j = 0;
      for (const g of strataIdx) for (let t = 0; t < g.length; t++) s[j++] = g[Math.floor(r() * g.length)]!;
      sets.push(s);
    }
    return { scheme, level: lvl(o.level), sets, n };
  }
  const o = options<{ resamples: unknown; seed: unknown; size?: unknown; fraction?: unknown; level?: number }>(o0, name, SUB_KEYS, true);
  const R = integer(o.resamples, `${name}.resamples`, { min: 1, max: 1e7 });
  const r = mulberry32(integer(o.seed, `${name}.seed`, { min: 0, max: 2 ** 32 - 1 }));
  if (o.size !== undefined && o.fraction !== undefined) throw rangeError(`${name}: give size or fraction, not both`);
  const frac = o.size !== undefined
    ? integer(o.size, `${name}.size`, { min: 1, max: n - 1 }) / n
    : number(o.fraction ?? 0.5, `${name}.fraction`, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const strataIdx = groupsOf(strata);
  const sets: Int32Array[] = [];
  let m = 0;
  for (let k = 0; k < R; k++) {
    const out: number[] = [];
    for (const g of strataIdx) {
      const mg = Math.max(1, Math.min(g.length - (g.length > 1 ? 1 : 0), Math.round(frac * g.length)));
      const pool = g.slice();
      for (let t = 0; t < mg; t++) {
        const j = t + Math.floor(r() * (pool.length - t));
        [pool[t], pool[j]] = [pool[j]!, pool[t]!];
        out.push(pool[t]!);
      }
    }
    out.sort((a, b) => a - b);
    m = out.length;
    sets.push(Int32Array.from(out));
  }
  if (m >= n) throw rangeError(`${name}: a subsample must be smaller than the data (${n} runs)`);
  return { scheme, level: lvl(o.level), sets, size: m, n };
}

/** @internal Summaries of per-refit values under a scheme, centred on `estimate` where the scheme needs it. */
export function summariseResamples(sets: IndexSets, estimate: Record<string, number>, samples: Record<string, Float64Array>): ResampleSummary {
  const names = Object.keys(samples);
  const R = sets.sets.length;
  let failed = 0;
  for (let k = 0; k < R; k++) if (names.some((q) => !Number.isFinite(samples[q]![k]!))) failed++;
  const s: ResampleSummary = {
    scheme: sets.scheme, resamples: R, failed, level: sets.level, estimate: { ...estimate },
    mean: {}, stdErr: {}, intervals: {}, samples,
  };
  if (sets.size !== undefined) s.size = sets.size;
  if (sets.groups) s.groups = sets.groups;
  const lo = (1 - sets.level) / 2;
  const hi = 1 - lo;
  for (const q of names) {
    const x = samples[q]!;
    const { mean, sd, n } = meanSd(x);
    s.mean[q] = mean;
    const est = estimate[q] ?? mean;
    const sorted = finiteSorted(x);
    if (sets.scheme === 'bootstrap' || sets.scheme === 'given') {
      s.stdErr[q] = sd;
      s.intervals[q] = [percentile(sorted, lo), percentile(sorted, hi)];
    } else if (sets.scheme === 'subsample') {
      const c = Math.sqrt(sets.size! / (sets.n - sets.size!));
      s.stdErr[q] = c * sd;
      s.intervals[q] = [est - c * (percentile(sorted, hi) - est), est - c * (percentile(sorted, lo) - est)];
    } else {
      let ss = 0;
      for (let k = 0; k < x.length; k++) if (Number.isFinite(x[k]!)) ss += (x[k]! - mean) ** 2;
      const se = n > 1 ? Math.sqrt(((n - 1) / n) * ss) : NaN;
      const z = normalQuantile(hi);
      s.stdErr[q] = se;
      s.intervals[q] = [est - z * se, est + z * se];
    }
  }
  return s;
}

/** Options of {@link resampleFit}: the fit's options (no `bootstrap`) plus the scheme. */
export interface ResampleFitOptions<L extends ScalingLaw = ScalingLaw> extends Omit<FitOptions<L>, 'bootstrap' | 'onProgress'> {
  resample: ResampleScheme;
  /** Refit each resample from the whole grid (default false: from the full-data optimum, one start). */
  gridPerResample?: boolean;
  /** Budget C for the derived compute-optimal quantities of the Chinchilla law (default 5.76e23). */
  compute?: number;
  /** FLOP model of those quantities (default 6ND). */
  computeModel?: ComputeModel;
  /** Called after each refit. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@link resampleFit}. */
export interface ResampleFitResult<P> {
  /** The full-data fit. */
  fit: FitResult<P>;
  resampling: ResampleSummary;
}

function quantities(law: string, r: FitResult, C: number, model: ComputeModel | undefined): Record<string, number> {
  const p = r.params as unknown as Record<string, number>;
  const out: Record<string, number> = { ...p };
  if (r.sigma !== undefined) out.sigma = r.sigma;
  if (law === 'chinchilla') {
    const cp = r.params as ChinchillaParams;
    const ok = cp.alpha > 0 && cp.beta > 0 && Number.isFinite(cp.A) && Number.isFinite(cp.B);
    const o = ok ? computeOptimal(cp, C, { compute: model }) : undefined;
    out.a = o ? o.a : NaN;
    out.b = o ? o.b : NaN;
    out.tokensPerParam = o ? o.tokensPerParam : NaN;
    out.nOpt = o ? o.N : NaN;
    out.dOpt = o ? o.D : NaN;
  }
  return out;
}

const RF_KEYS = [...FIT_KEYS.filter((k) => k !== 'bootstrap'), 'resample', 'gridPerResample', 'compute', 'computeModel'];

/**
 * Fits the law to the full data, then refits it on each resample of the scheme — subsampling or
 * leave-one-group-out (e.g. `{ scheme: 'leave-one-group-out', groups: 'source' }`), or a TS-side bootstrap
 * with given index sets — and summarises every parameter and, for the Chinchilla law, a, b, tokensPerParam,
 * nOpt, dOpt at `compute`. Extra columns of `data` (e.g. `source`) are carried into each refit's rows.
 */
export async function resampleFit<L extends ScalingLaw = 'chinchilla'>(
  data: ScalingData | (ScalingData & RunTable),
  opts: ResampleFitOptions<L>,
): Promise<ResampleFitResult<ParamsOf<L>>> {
  const o = options<ResampleFitOptions<L>>(opts, 'opts', RF_KEYS, true);
  const { resample, gridPerResample, compute, computeModel, onProgress, ...fitOpts } = o;
  checkCompute(computeModel, 'opts.computeModel');
  if (gridPerResample !== undefined && typeof gridPerResample !== 'boolean') throw invalidType('opts.gridPerResample', 'a boolean', gridPerResample);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidType('opts.onProgress', 'a function', onProgress);
  const C = compute === undefined ? 5.76e23 : number(compute, 'opts.compute', { min: 0, minExclusive: true });
  const table = data as unknown as RunTable;
  const { length } = tableShape(table, 'data');
  const sets = indexSets(resample, 'opts.resample', table, length);
  const full = await fit<L>(data, fitOpts as FitOptions<L>);
  const law = full.law;
  const est = quantities(law, full as FitResult, C, computeModel);
  const names = Object.keys(est);
  const samples: Record<string, Float64Array> = {};
  for (const q of names) samples[q] = new Float64Array(sets.sets.length).fill(NaN);
  const free = full.theta.length - (full.sigma !== undefined ? 1 : 0);
  const start = gridPerResample ? fitOpts.grid : [Array.from(full.theta.subarray(0, free))];
  // Per-run option arrays (weights) follow the resampled rows.
  const perRun = Object.entries(fitOpts).filter(([k, v]) => k === 'weights' && (Array.isArray(v) || v instanceof Float64Array) && (v as ArrayLike<number>).length === length);
  for (let k = 0; k < sets.sets.length; k++) {
    const idx = sets.sets[k]!;
    const rows = takeRows(table, idx) as unknown as ScalingData;
    const extra: Record<string, Float64Array> = {};
    for (const [key, v] of perRun) extra[key] = Float64Array.from(idx, (i) => (v as ArrayLike<number>)[i]!);
    try {
      const r = await fit<L>(rows, { ...(fitOpts as FitOptions<L>), ...extra, grid: start });
      if (Number.isFinite(r.objective)) {
        const q = quantities(law, r as FitResult, C, computeModel);
        for (const n of names) samples[n]![k] = q[n] ?? NaN;
      }
    } catch (e) {
      if ((e as Error).name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR') throw e;
      if (fitOpts.signal?.aborted) throw e;
      // A resample too small to fit (fewer runs than parameters) counts as failed.
      if (!(e instanceof RangeError)) throw e;
    }
    onProgress?.(k + 1, sets.sets.length);
  }
  return { fit: full, resampling: summariseResamples(sets, est, samples) };
}
