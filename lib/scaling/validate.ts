/**
 * Argument checks and normalisation for the scaling API: every error names the argument and what it expects.
 *
 * @packageDocumentation
 */
import type { NativeParamMap } from '../runtime/addonTypes';
import type { GridSpec, ScalingData, ScalingLaw, ScalingObjective } from './types';
import { compileLaw, type CompiledLaw } from './expression';
import { invalidType, isTypedArray, number, object, oneOf, outOfRange, rangeError } from '../runtime/validate';

const LAWS = ['chinchilla', 'kaplan-nd', 'data-constrained'] as const satisfies readonly ScalingLaw[];
const OBJECTIVES = ['huber', 'mse', 'huber-likelihood'] as const satisfies readonly ScalingObjective[];

/** @internal Raw parameter names per law, in grid column order. */
export const GRID_KEYS: Record<ScalingLaw, readonly string[]> = {
  chinchilla: ['a', 'b', 'e', 'alpha', 'beta'],
  'kaplan-nd': ['nc', 'dc', 'alphaN', 'alphaD'],
  'data-constrained': ['a', 'b', 'e', 'alpha', 'beta', 'rdStar', 'rnStar'],
};

/** @internal Natural parameter names per law, in θ order, and which are fitted on the log scale. */
const NATURAL: Record<ScalingLaw, { names: readonly string[]; log: readonly boolean[] }> = {
  chinchilla: { names: ['A', 'B', 'E', 'alpha', 'beta'], log: [true, true, true, false, false] },
  'kaplan-nd': { names: ['Nc', 'Dc', 'alphaN', 'alphaD'], log: [true, true, false, false] },
  'data-constrained': {
    names: ['A', 'B', 'E', 'alpha', 'beta', 'rdStar', 'rnStar'],
    log: [true, true, true, false, false, false, false],
  },
};

/** @internal A resolved law: built-in or compiled custom. */
export interface LawSpec {
  law: ScalingLaw | 'custom';
  /** Natural names (keys of `params`, `fix`, `bounds`, `tie`). */
  names: readonly string[];
  /** Raw names (grid keys). */
  rawKeys: readonly string[];
  log: readonly boolean[];
  program?: CompiledLaw;
}

/** @internal */
export function checkLaw(v: unknown): LawSpec {
  if (v !== null && typeof v === 'object') {
    const program = compileLaw(v, 'opts.law');
    return { law: 'custom', names: program.names, rawKeys: program.names, log: program.names.map(() => false), program };
  }
  const law = oneOf(v ?? 'chinchilla', 'opts.law', LAWS);
  return { law, names: NATURAL[law].names, rawKeys: GRID_KEYS[law], log: NATURAL[law].log };
}

/** @internal Constraints resolved into the native map, plus the grid keys of the free parameters. */
export interface Constraints {
  map: NativeParamMap | undefined;
  /** Raw keys of the free parameters (tied groups by their first member), in law order. */
  freeKeys: readonly string[];
  /** Why a raw key is not a free grid axis (fixed, or tied to another). */
  notFree: Record<string, string>;
}

function paramName(spec: LawSpec, key: string, where: string): number {
  const j = spec.names.indexOf(key);
  if (j < 0) throw rangeError(`${where}: unknown parameter '${key}' (the ${spec.law} law has ${spec.names.join(', ')})`);
  return j;
}

/** @internal fix / tie / bounds → constraint map (undefined when there are none). */
export function checkConstraints(spec: LawSpec, fixIn: unknown, tieIn: unknown, boundsIn: unknown): Constraints {
  const k = spec.names.length;
  const fixed: (number | undefined)[] = new Array(k).fill(undefined);
  if (fixIn !== undefined) {
    const o = object(fixIn, 'opts.fix', '{ name: value }');
    for (const [key, v] of Object.entries(o)) {
      const j = paramName(spec, key, 'opts.fix');
      const x = number(v, `opts.fix.${key}`, spec.log[j] ? { min: 0, minExclusive: true } : {});
      fixed[j] = spec.log[j] ? Math.log(x) : x;
    }
  }
  const group = Array.from({ length: k }, (_, j) => j);  // representative per parameter
  if (tieIn !== undefined) {
    if (!Array.isArray(tieIn)) throw invalidType('opts.tie', "an array of name groups, e.g. [['alpha', 'beta']]", tieIn);
    const seen = new Set<number>();
    tieIn.forEach((g: unknown, gi) => {
      if (!Array.isArray(g) || g.length < 2) throw outOfRange(`opts.tie[${gi}]`, 'an array of at least 2 parameter names', g);
      const idx = g.map((name: unknown, i) => {
        if (typeof name !== 'string') throw invalidType(`opts.tie[${gi}][${i}]`, 'a parameter name', name);
        const j = paramName(spec, name, `opts.tie[${gi}]`);
        if (seen.has(j)) throw rangeError(`opts.tie: '${name}' appears in more than one place`);
        if (fixed[j] !== undefined) throw rangeError(`opts.tie: '${name}' is fixed by opts.fix; fix every member or none`);
        seen.add(j);
        return j;
      });
      const rep = Math.min(...idx);
      for (const j of idx) {
        if (spec.log[j] !== spec.log[rep]) {
          throw rangeError(`opts.tie[${gi}]: '${spec.names[j]}' and '${spec.names[rep]}' are on different scales (log vs linear) and cannot be tied`);
        }
        group[j] = rep;
      }
    });
  }
  const lo: number[] = new Array(k).fill(-Infinity), hi: number[] = new Array(k).fill(Infinity);
  let anyBound = false;
  if (boundsIn !== undefined) {
    const o = object(boundsIn, 'opts.bounds', '{ name: [lo, hi] }');
    for (const [key, v] of Object.entries(o)) {
      const j = paramName(spec, key, 'opts.bounds');
      if (fixed[j] !== undefined) throw rangeError(`opts.bounds.${key}: '${key}' is fixed by opts.fix`);
      if (!Array.isArray(v) || v.length !== 2) throw invalidType(`opts.bounds.${key}`, 'a pair [lo, hi] (±Infinity for one side)', v);
      let l = number(v[0], `opts.bounds.${key}[0]`, { finite: false });
      let h = number(v[1], `opts.bounds.${key}[1]`, { finite: false });
      if (!(l < h)) throw outOfRange(`opts.bounds.${key}`, 'a pair with lo < hi', v);
      if (spec.log[j]) {
        if (h <= 0) throw outOfRange(`opts.bounds.${key}`, `an upper bound > 0 (${key} is positive)`, v);
        l = l <= 0 ? -Infinity : Math.log(l);
        h = Math.log(h);
      }
      const r = group[j]!;
      lo[r] = Math.max(lo[r]!, l);
      hi[r] = Math.min(hi[r]!, h);
      if (!(lo[r]! < hi[r]!)) throw rangeError(`opts.bounds: the bounds of the group tied to '${spec.names[r]}' do not overlap`);
      anyBound ||= Number.isFinite(l) || Number.isFinite(h);
    }
  }
  const anyFix = fixed.some((x) => x !== undefined);
  const anyTie = group.some((r, j) => r !== j);
  const notFree: Record<string, string> = {};
  const freeKeys: string[] = [];
  const redOf: number[] = new Array(k).fill(-1);
  for (let j = 0; j < k; j++) {
    if (fixed[j] !== undefined) notFree[spec.rawKeys[j]!] = `'${spec.names[j]}' is fixed by opts.fix`;
    else if (group[j] !== j) notFree[spec.rawKeys[j]!] = `'${spec.names[j]}' is tied to '${spec.names[group[j]!]}' (give the axis as ${spec.rawKeys[group[j]!]})`;
    else {
      redOf[j] = freeKeys.length;
      freeKeys.push(spec.rawKeys[j]!);
    }
  }
  if (!anyFix && !anyTie && !anyBound) return { map: undefined, freeKeys, notFree };
  const m = freeKeys.length;
  const map: NativeParamMap = {
    src: new Int32Array(k),
    fixed: new Float64Array(k),
    kind: new Int32Array(m),
    lo: new Float64Array(m),
    hi: new Float64Array(m),
  };
  for (let j = 0; j < k; j++) {
    if (fixed[j] !== undefined) {
      map.src[j] = -1;
      map.fixed[j] = fixed[j]!;
    } else map.src[j] = redOf[group[j]!]!;
  }
  for (let j = 0; j < k; j++) {
    const r = redOf[j]!;
    if (r < 0) continue;
    const l = lo[j]!, h = hi[j]!;
    map.kind[r] = Number.isFinite(l) && Number.isFinite(h) ? 1 : Number.isFinite(l) ? 2 : Number.isFinite(h) ? 3 : 0;
    map.lo[r] = Number.isFinite(l) ? l : 0;
    map.hi[r] = Number.isFinite(h) ? h : 0;
  }
  return { map, freeKeys, notFree };
}

/** @internal Number of fitted parameters. */
export function paramCount(spec: LawSpec, cons: Constraints, objective: ScalingObjective): number {
  return cons.freeKeys.length + (objective === 'huber-likelihood' ? 1 : 0);
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
export function checkData(
  data: unknown,
  minRuns: number,
  needU = false,
): { N: Float64Array; D: Float64Array; loss: Float64Array; U?: Float64Array } {
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
  if (d.U === undefined) {
    if (needU) throw rangeError('data.U (unique tokens per run) is required by this law: the data-constrained law discounts repeated tokens D/U');
    return { N, D, loss };
  }
  const U = positiveColumn(d.U, 'data.U');
  if (U.length !== N.length) throw rangeError(`data.U must have one entry per run (got ${U.length}, expected ${N.length})`);
  return { N, D, loss, U };
}

/** @internal Weights ≥ 0, one per run, not all 0. */
export function checkWeights(v: unknown, n: number): Float64Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Float64Array) && !Array.isArray(v)) throw invalidType('opts.weights', 'a Float64Array or an array of numbers', v);
  if (v.length !== n) throw outOfRange('opts.weights', `one weight per run (${n})`, `length ${v.length}`);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = number(v[i] as unknown, `opts.weights[${i}]`, { min: 0 });
    sum += out[i]!;
  }
  if (!(sum > 0)) throw rangeError('opts.weights must not all be 0');
  return out;
}

/** @internal Row-major grid (one column per free parameter) from a GridSpec; undefined = the native default grid. */
export function buildGrid(grid: unknown, spec: LawSpec, cons: Constraints): Float64Array | undefined {
  if (grid === undefined || grid === 'default') {
    if (spec.law === 'custom') throw rangeError('opts.grid is required for a custom law (axes by parameter name, or rows)');
    return undefined;
  }
  if (grid === 'chinchilla') {
    if (spec.law !== 'chinchilla') throw rangeError("opts.grid 'chinchilla' is the Chinchilla law's grid; use 'default'");
    return undefined;
  }
  const keys = cons.freeKeys;
  const k = keys.length;
  if (k === 0) return new Float64Array(0);
  if (grid !== null && typeof grid === 'object' && !Array.isArray(grid) && !(grid instanceof Float64Array)) {
    for (const key of Object.keys(grid)) {
      if (keys.includes(key)) continue;
      const why = cons.notFree[key];
      throw rangeError(`opts.grid.${key}: ${why ?? `unknown axis (axes: ${keys.join(', ')})`}`);
    }
  }
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
