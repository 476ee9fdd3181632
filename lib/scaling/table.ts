/**
 * Run tables with named columns (numbers, strings, booleans): a typed CSV reader and the bundled isoFLOP table.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { show } from '../runtime/show';
import { invalidType, isDetached, optionKeys, options, rangeError } from '../runtime/validate';
import { parseCsv } from './data';

/** One column of a run table: numbers, strings or booleans, one entry per run. */
export type Column = Float64Array | readonly number[] | readonly string[] | readonly boolean[];

/** Runs as named columns of one length (e.g. `N`, `D`, `loss`, `budget`, `source`, `outlier`). */
export type RunTable = Readonly<Record<string, Column>>;

/** A cell of a run table. */
export type Cell = number | string | boolean;

/** The bundled isoFLOP table as columns (see {@link isoflopRuns}). */
// A type alias (not an interface) so that it is assignable to RunTable.
export type IsoflopTable = {
  /** Parameters (`params`). */
  N: Float64Array;
  /** Training tokens (`tokens`). */
  D: Float64Array;
  loss: Float64Array;
  /** Nominal compute budget of the isoFLOP profile, FLOPs (`budget`). */
  budget: Float64Array;
  /** Study: `epochai_chinchilla`, `ml_scalefit`, `misfitting`, `llama_3`, `marin_202603`. */
  source: string[];
  dataset: string[];
  model: string[];
  condition: string[];
  experiment: string[];
  /** The study's or the curator's outlier flag. */
  outlier: boolean[];
  /** Why a point is flagged (empty when it is not). */
  reason: string[];
};

/** Path of the bundled multi-study isoFLOP table (provenance: data/scaling/README.md). */
export const ISOFLOP_CSV = path.join(__dirname, '..', '..', 'data', 'scaling', 'isoflops_multi_source.csv');

const BOOL = new Map<string, boolean>([
  ['true', true], ['false', false], ['True', true], ['False', false], ['TRUE', true], ['FALSE', false],
]);

/**
 * Columns of a CSV text, typed per column: all cells numbers (empty = NaN) → Float64Array; all cells
 * true/false (any case written by pandas or R) → boolean[]; anything else → string[].
 */
export function tableFromCsv(text: string): Record<string, Float64Array | string[] | boolean[]> {
  const { header, rows } = parseCsv(text);
  const out: Record<string, Float64Array | string[] | boolean[]> = {};
  header.forEach((name, j) => {
    const cells = rows.map((r) => (r[j] ?? '').trim());
    const nonEmpty = cells.filter((c) => c !== '');
    if (nonEmpty.length > 0 && nonEmpty.every((c) => BOOL.has(c)) && nonEmpty.length === cells.length) {
      out[name] = cells.map((c) => BOOL.get(c)!);
    } else if (nonEmpty.length > 0 && nonEmpty.every((c) => Number.isFinite(Number(c)))) {
      out[name] = Float64Array.from(cells, (c) => (c === '' ? NaN : Number(c)));
    } else out[name] = cells;
  });
  return out;
}

const ISO_KEYS = optionKeys<{ source?: string | readonly string[]; dropOutliers?: boolean }>({ source: 1, dropOutliers: 1 });

/**
 * The bundled isoFLOP points of five studies (947 rows; Open-Athena/scaling-law-analysis), with N = `params`,
 * D = `tokens`, the nominal `budget` of each profile, `source` and the `outlier` flags. `source` keeps one
 * study (or several); `dropOutliers` (default false) drops the flagged points.
 */
export function isoflopRuns(opts: { source?: string | readonly string[]; dropOutliers?: boolean } = {}): IsoflopTable {
  const o = options<{ source?: string | readonly string[]; dropOutliers?: boolean }>(opts, 'opts', ISO_KEYS);
  const t = tableFromCsv(fs.readFileSync(ISOFLOP_CSV, 'utf8'));
  const num = (k: string) => t[k] as Float64Array;
  const str = (k: string) => (t[k] as string[] | Float64Array).length === 0 ? [] : Array.from(t[k] as ArrayLike<string | number>, (x) => (typeof x === 'number' ? (Number.isNaN(x) ? '' : String(x)) : x));
  const all: IsoflopTable = {
    N: num('params'), D: num('tokens'), loss: num('loss'), budget: num('budget'),
    source: str('source'), dataset: str('dataset'), model: str('model'), condition: str('condition'),
    experiment: str('experiment'), outlier: t.outlier as boolean[], reason: str('reason'),
  };
  let sources: Set<string> | undefined;
  if (o.source !== undefined) {
    const list = typeof o.source === 'string' ? [o.source] : o.source;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
      throw invalidType('opts.source', 'a source name or an array of source names', o.source);
    }
    const known = new Set(all.source);
    for (const s of list) {
      if (!known.has(s)) throw rangeError(`opts.source must name a study of the table (${[...known].join(', ')}); got '${s}'`);
    }
    sources = new Set(list);
  }
  if (o.dropOutliers !== undefined && typeof o.dropOutliers !== 'boolean') {
    throw invalidType('opts.dropOutliers', 'a boolean', o.dropOutliers);
  }
  const keep: number[] = [];
  for (let i = 0; i < all.N.length; i++) {
    if (sources && !sources.has(all.source[i]!)) continue;
    if (o.dropOutliers && all.outlier[i]) continue;
    keep.push(i);
  }
  return takeRows(all as unknown as RunTable, keep) as unknown as IsoflopTable;
}

/** @internal Names and common length of a table's columns (TypeError/RangeError naming `name`). */
export function tableShape(t: unknown, name: string): { keys: string[]; length: number } {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw invalidType(name, 'an object of columns', t);
  const keys = Object.keys(t);
  let length = -1;
  let first = '';
  for (const k of keys) {
    const c = (t as Record<string, unknown>)[k];
    if (!(c instanceof Float64Array) && !Array.isArray(c)) {
      throw invalidType(`${name}.${k}`, 'a Float64Array or an array of numbers, strings or booleans', c);
    }
    if (c instanceof Float64Array && isDetached(c)) throw invalidType(`${name}.${k}`, 'a Float64Array with a live buffer (this one is detached)', c);
    if (length < 0) {
      length = c.length;
      first = k;
    } else if (c.length !== length) {
      throw rangeError(`${name}.${k} must have as many entries as ${name}.${first} (got ${c.length} and ${length})`);
    }
  }
  return { keys, length: Math.max(0, length) };
}

/** @internal The rows `idx` of every column, each column keeping its kind. */
export function takeRows(t: RunTable, idx: ArrayLike<number>): Record<string, Column> {
  const out: Record<string, Column> = {};
  for (const [k, c] of Object.entries(t)) {
    if (c instanceof Float64Array) {
      const v = new Float64Array(idx.length);
      for (let i = 0; i < idx.length; i++) v[i] = c[idx[i]!]!;
      out[k] = v;
    } else {
      const v: Cell[] = new Array<Cell>(idx.length);
      for (let i = 0; i < idx.length; i++) v[i] = (c as readonly Cell[])[idx[i]!]!;
      out[k] = v as readonly number[];
    }
  }
  return out;
}

/** @internal A numeric column of `t` as a Float64Array (finite and > 0 unless `any`). */
export function numericColumn(t: RunTable, key: string, name: string, positive = true): Float64Array {
  const c = (t as Record<string, unknown>)[key];
  if (!(c instanceof Float64Array) && !Array.isArray(c)) {
    throw invalidType(`${name}.${key}`, 'a Float64Array or an array of numbers', c);
  }
  const out = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const x: unknown = c[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || (positive && !(x > 0))) {
      throw rangeError(`${name}.${key}[${i}] must be a finite number${positive ? ' > 0' : ''} (got ${show(x)})`);
    }
    out[i] = x;
  }
  return out;
}
