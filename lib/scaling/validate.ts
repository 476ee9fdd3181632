/**
 * Argument checks and normalisation for the scaling API: every error names the argument and what it expects.
 *
 * @packageDocumentation
 */
import type { GridSpec, ScalingData, ScalingLaw, ScalingObjective } from './types';
import { show } from '../show';

/** @internal */
export const LAW_CODE: Record<ScalingLaw, number> = { chinchilla: 0, 'kaplan-nd': 1 };
/** @internal */
export const OBJECTIVE_CODE: Record<ScalingObjective, number> = { huber: 0, mse: 1, 'huber-likelihood': 2 };

/** @internal Raw parameter names per law, in grid column order. */
export const GRID_KEYS: Record<ScalingLaw, readonly string[]> = {
  chinchilla: ['a', 'b', 'e', 'alpha', 'beta'],
  'kaplan-nd': ['nc', 'dc', 'alphaN', 'alphaD'],
};

/** @internal Number of fitted parameters. */
export function paramCount(law: ScalingLaw, objective: ScalingObjective): number {
  return GRID_KEYS[law].length + (objective === 'huber-likelihood' ? 1 : 0);
}

/** @internal */
export function checkLaw(v: unknown): ScalingLaw {
  if (v === undefined) return 'chinchilla';
  if (v !== 'chinchilla' && v !== 'kaplan-nd') {
    throw new RangeError(`opts.law must be 'chinchilla' or 'kaplan-nd' (got ${show(v)})`);
  }
  return v;
}

/** @internal */
export function checkObjective(v: unknown): ScalingObjective {
  if (v === undefined) return 'huber';
  if (v !== 'huber' && v !== 'mse' && v !== 'huber-likelihood') {
    throw new RangeError(`opts.objective must be 'huber', 'mse' or 'huber-likelihood' (got ${show(v)})`);
  }
  return v;
}

/** @internal A finite number (> 0 when `positive`), else TypeError/RangeError naming `name`. */
export function checkNumber(v: unknown, name: string, positive: boolean): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number (got ${typeof v})`);
  if (!Number.isFinite(v) || (positive && !(v > 0))) {
    throw new RangeError(`${name} must be a finite number${positive ? ' > 0' : ''} (got ${v})`);
  }
  return v;
}

/** @internal An integer in [min, max]. */
export function checkInteger(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be an integer (got ${typeof v})`);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}] (got ${v})`);
  return v;
}

/** @internal Float64Array or number[] of finite values > 0. */
export function positiveColumn(v: unknown, name: string): Float64Array {
  if (!(v instanceof Float64Array) && !Array.isArray(v)) {
    throw new TypeError(`${name} must be a Float64Array or an array of numbers`);
  }
  const out = v instanceof Float64Array ? v : new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number') throw new TypeError(`${name}[${i}] must be a number (got ${typeof x})`);
    if (!(Number.isFinite(x) && x > 0)) throw new RangeError(`${name}[${i}] must be a finite number > 0 (got ${x})`);
    if (out !== v) out[i] = x;
  }
  return out;
}

/** @internal Checked columns of `data`, all of one length, at least `minRuns` runs. */
export function checkData(data: unknown, minRuns: number): { N: Float64Array; D: Float64Array; loss: Float64Array } {
  if (data === null || typeof data !== 'object') throw new TypeError('data must be an object { N, D, loss }');
  const d = data as Partial<ScalingData>;
  const N = positiveColumn(d.N, 'data.N');
  const D = positiveColumn(d.D, 'data.D');
  const loss = positiveColumn(d.loss, 'data.loss');
  if (N.length !== D.length || N.length !== loss.length) {
    throw new RangeError(`data.N, data.D and data.loss must have the same length (got ${N.length}, ${D.length}, ${loss.length})`);
  }
  if (N.length < minRuns) {
    throw new RangeError(`data must hold at least ${minRuns} runs (one per fitted parameter), got ${N.length}`);
  }
  return { N, D, loss };
}

/** @internal Row-major grid (k columns) from a GridSpec; undefined = the native default grid. */
export function buildGrid(grid: unknown, law: ScalingLaw): Float64Array | undefined {
  if (grid === undefined || grid === 'default') return undefined;
  if (grid === 'chinchilla') {
    if (law !== 'chinchilla') throw new RangeError("opts.grid 'chinchilla' is the Chinchilla law's grid; use 'default'");
    return undefined;
  }
  const keys = GRID_KEYS[law];
  const k = keys.length;
  let out: Float64Array;
  if (grid instanceof Float64Array) {
    if (grid.length === 0 || grid.length % k !== 0) {
      throw new RangeError(`opts.grid must hold rows of ${k} values (${keys.join(', ')}); got ${grid.length} values`);
    }
    out = grid;
  } else if (Array.isArray(grid)) {
    if (grid.length === 0) throw new RangeError('opts.grid must hold at least one start');
    out = new Float64Array(grid.length * k);
    grid.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== k) {
        throw new RangeError(`opts.grid[${i}] must be an array of ${k} numbers (${keys.join(', ')})`);
      }
      row.forEach((x: unknown, j) => {
        out[i * k + j] = x as number;
      });
    });
  } else if (grid !== null && typeof grid === 'object') {
    const axes = keys.map((key) => {
      const a = (grid as Record<string, unknown>)[key];
      if (!Array.isArray(a) || a.length === 0) {
        throw new RangeError(`opts.grid.${key} must be a non-empty array of numbers (axes: ${keys.join(', ')})`);
      }
      return a as number[];
    });
    const total = axes.reduce((p, a) => p * a.length, 1);
    if (total > 1e8) throw new RangeError(`opts.grid has ${total} points; at most 1e8`);
    out = new Float64Array(total * k);
    for (let i = 0; i < total; i++) {
      let rem = i;
      for (let j = k - 1; j >= 0; j--) {
        const a = axes[j]!;
        out[i * k + j] = a[rem % a.length]!;
        rem = Math.floor(rem / a.length);
      }
    }
  } else {
    throw new TypeError("opts.grid must be 'default', rows of numbers, a Float64Array, or an object of axes");
  }
  for (let i = 0; i < out.length; i++) {
    const x = out[i]!;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RangeError(`opts.grid[${Math.floor(i / k)}][${i % k}] must be a finite number (got ${x})`);
    }
  }
  return out;
}
