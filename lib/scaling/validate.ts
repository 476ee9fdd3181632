/**
 * Argument checks and normalisation for the scaling API: every error names the argument and what it expects.
 *
 * @packageDocumentation
 */
import type { GridSpec, ScalingData, ScalingLaw, ScalingObjective } from './types';
import { invalidType, isTypedArray, number, oneOf, outOfRange, rangeError } from '../runtime/validate';

const LAWS = ['chinchilla', 'kaplan-nd'] as const satisfies readonly ScalingLaw[];
const OBJECTIVES = ['huber', 'mse', 'huber-likelihood'] as const satisfies readonly ScalingObjective[];

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
  return oneOf(v ?? 'chinchilla', 'opts.law', LAWS);
}

/** @internal */
export function checkObjective(v: unknown): ScalingObjective {
  return oneOf(v ?? 'huber', 'opts.objective', OBJECTIVES);
}

/** @internal A finite number (> 0 when `positive`), else TypeError/RangeError naming `name`. */
export function checkNumber(v: unknown, name: string, positive: boolean): number {
  return number(v, name, positive ? { min: 0, minExclusive: true } : {});
}

/** @internal Float64Array or number[] of finite values > 0. */
export function positiveColumn(v: unknown, name: string): Float64Array {
  if (!(v instanceof Float64Array && isTypedArray(v, 'Float64Array')) && !Array.isArray(v)) {
    throw invalidType(name, 'a Float64Array or an array of numbers', v);
  }
  const out = v instanceof Float64Array ? v : new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    number(x, `${name}[${i}]`, { min: 0, minExclusive: true });
    if (out !== v) out[i] = x as number;
  }
  return out;
}

/** @internal Checked columns of `data`, all of one length, at least `minRuns` runs. */
export function checkData(data: unknown, minRuns: number): { N: Float64Array; D: Float64Array; loss: Float64Array } {
  if (data === null || typeof data !== 'object') throw invalidType('data', 'an object { N, D, loss }', data);
  const d = data as Partial<ScalingData>;
  const N = positiveColumn(d.N, 'data.N');
  const D = positiveColumn(d.D, 'data.D');
  const loss = positiveColumn(d.loss, 'data.loss');
  if (N.length !== D.length || N.length !== loss.length) {
    throw rangeError(`data.N, data.D and data.loss must have the same length (got ${N.length}, ${D.length}, ${loss.length})`);
  }
  if (N.length < minRuns) {
    throw rangeError(`data must hold at least ${minRuns} runs, one per fitted parameter (got ${N.length})`);
  }
  return { N, D, loss };
}

/** @internal Row-major grid (k columns) from a GridSpec; undefined = the native default grid. */
export function buildGrid(grid: unknown, law: ScalingLaw): Float64Array | undefined {
  if (grid === undefined || grid === 'default') return undefined;
  if (grid === 'chinchilla') {
    if (law !== 'chinchilla') throw rangeError("opts.grid 'chinchilla' is the Chinchilla law's grid; use 'default'");
    return undefined;
  }
  const keys = GRID_KEYS[law];
  const k = keys.length;
  let out: Float64Array;
  if (grid instanceof Float64Array) {
    if (grid.length === 0 || grid.length % k !== 0) {
      throw outOfRange('opts.grid', `rows of ${k} values (${keys.join(', ')})`, grid);
    }
    out = grid;
  } else if (Array.isArray(grid)) {
    if (grid.length === 0) throw outOfRange('opts.grid', 'at least one start', grid);
    out = new Float64Array(grid.length * k);
    grid.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== k) {
        throw outOfRange(`opts.grid[${i}]`, `an array of ${k} numbers (${keys.join(', ')})`, row);
      }
      row.forEach((x: unknown, j) => {
        out[i * k + j] = x as number;
      });
    });
  } else if (grid !== null && typeof grid === 'object') {
    const axes = keys.map((key) => {
      const a = (grid as Record<string, unknown>)[key];
      if (!Array.isArray(a) || a.length === 0) {
        throw outOfRange(`opts.grid.${key}`, `a non-empty array of numbers (axes: ${keys.join(', ')})`, a);
      }
      return a as number[];
    });
    const total = axes.reduce((p, a) => p * a.length, 1);
    if (total > 1e8) throw rangeError(`opts.grid must have at most 1e8 points (got ${total})`);
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
    throw invalidType('opts.grid', "'default', rows of numbers, a Float64Array, or an object of axes", grid);
  }
  for (let i = 0; i < out.length; i++) {
    const x = out[i]!;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw outOfRange(`opts.grid[${Math.floor(i / k)}][${i % k}]`, 'a finite number', x);
    }
  }
  return out;
}
