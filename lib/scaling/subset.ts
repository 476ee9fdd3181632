/**
 * Subsets of run tables: a predicate or a small, safely parsed expression over the columns (no `eval`), ranges
 * of numeric columns, outlier rules. Returns the kept rows and what was dropped, and why.
 *
 * @packageDocumentation
 */
import { callback, integer, invalidType, object, optionKeys, options, rangeError } from '../runtime/validate';
import { type Cell, type Column, type RunTable, numericColumn, tableShape, takeRows } from './table';

/** A row of a run table, as the `where` predicate sees it. */
export type Row = Readonly<Record<string, Cell>>;

/** Options of {@link subset}. Rules apply in this order; a run is dropped by the first rule that drops it. */
export interface SubsetOptions {
  /**
   * Keep the runs for which this holds: a predicate `(row, index) => boolean`, or an expression over the
   * columns such as `source == "epochai_chinchilla" && !outlier && N >= 1e8` (see {@link parseWhere}).
   */
  where?: string | ((row: Row, index: number) => boolean);
  /** Keep runs whose numeric columns lie in these closed ranges, e.g. `{ N: { min: 1e8, max: 1e10 } }`. */
  within?: Readonly<Record<string, { min?: number; max?: number }>>;
  /** Drop runs whose flag column is true (`true` = the column `outlier`, else the column's name). */
  dropOutliers?: boolean | string;
  /** Then drop the runs of the `count` highest losses (column `loss`; Besiroglu et al. drop 5). */
  dropHighestLoss?: number;
}

/** A dropped run: its row index in the input and the rule that dropped it. */
export interface DroppedRun {
  index: number;
  reason: 'where' | 'within' | 'outlier' | 'highest-loss';
  /** For `within`: the column out of range. */
  column?: string;
}

/** Result of {@link subset}. */
export interface SubsetResult<T extends RunTable> {
  /** The kept runs, every column of the input in input order and of the same kind. */
  data: T;
  /** Input row index of each kept run. */
  kept: Int32Array;
  dropped: DroppedRun[];
}

const SUBSET_KEYS = optionKeys<SubsetOptions>({ where: 1, within: 1, dropOutliers: 1, dropHighestLoss: 1 });
const RANGE_KEYS = optionKeys<{ min?: number; max?: number }>({ min: 1, max: 1 });

// ---- expression language -------------------------------------------------------------------------------------

/** A parsed `where` expression. */
export type WhereExpr =
  | { kind: 'literal'; value: Cell }
  | { kind: 'column'; name: string }
  | { kind: 'not'; arg: WhereExpr }
  | { kind: 'and' | 'or'; left: WhereExpr; right: WhereExpr }
  | { kind: 'compare'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; left: WhereExpr; right: WhereExpr };

type Token = { t: 'num'; v: number; at: number } | { t: 'str'; v: string; at: number } | { t: 'id'; v: string; at: number } | { t: 'op'; v: string; at: number };

function whereError(name: string, text: string, at: number, what: string): RangeError {
  return rangeError(`${name} is not a valid expression: ${what} at position ${at} of ${JSON.stringify(text)}`);
}

function tokenize(text: string, name: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw whereError(name, text, at, 'unterminated string');
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length) {
          s += text[i + 1]!;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          s += d;
          i++;
        }
      }
      out.push({ t: 'str', v: s, at });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw whereError(name, text, at, 'unterminated `column name`');
      out.push({ t: 'id', v: text.slice(i + 1, end), at });
      i = end + 1;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw whereError(name, text, at, `unexpected '${c}'`);
      out.push({ t: 'num', v: Number(m[0]), at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))!;
      out.push({ t: 'id', v: m[0], at });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
        out.push({ t: 'op', v: two, at });
        i += 2;
      } else if ('<>!()-'.includes(c)) {
        out.push({ t: 'op', v: c, at });
        i++;
      } else if (c === '=') {
        throw whereError(name, text, at, "'=' (use '==' to compare)");
      } else throw whereError(name, text, at, `unexpected '${c}'`);
    }
  }
  return out;
}

/**
 * Parses a `where` expression (never evaluated as JavaScript). Grammar: `||`, `&&`, `!`, comparisons
 * `== != < <= > >=`, parentheses; operands are column names (bare identifiers, or `` `Model Size` `` in
 * backticks), numbers (`1e8`, `-2.5`), strings in double or single quotes and `true` / `false`. A bare column
 * is a condition on its truth (booleans; numbers ≠ 0; non-empty strings). RangeError naming `name` on a syntax
 * error.
 */
export function parseWhere(text: string, name = 'opts.where'): WhereExpr {
  if (typeof text !== 'string') throw invalidType(name, 'an expression string', text);
  const toks = tokenize(text, name);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => {
    const t = toks[p];
    return t !== undefined && t.t === 'op' && t.v === v;
  };
  const fail = (what: string): never => {
    throw whereError(name, text, toks[p]?.at ?? text.length, what);
  };
  const orExpr = (): WhereExpr => {
    let left = andExpr();
    while (isOp('||')) {
      p++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): WhereExpr => {
    let left = notExpr();
    while (isOp('&&')) {
      p++;
      left = { kind: 'and', left, right: notExpr() };
    }
    return left;
  };
  const notExpr = (): WhereExpr => {
    if (isOp('!')) {
      p++;
      return { kind: 'not', arg: notExpr() };
    }
    return compare();
  };
  const compare = (): WhereExpr => {
    const left = primary();
    const t = peek();
    if (t && t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      p++;
      return { kind: 'compare', op: t.v as '==', left, right: primary() };
    }
    return left;
  };
  const primary = (): WhereExpr => {
    const t = peek();
    if (!t) return fail('unexpected end');
    p++;
    if (t.t === 'num' || t.t === 'str') return { kind: 'literal', value: t.v };
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') return { kind: 'literal', value: t.v === 'true' };
      return { kind: 'column', name: t.v };
    }
    if (t.v === '-') {
      const n = peek();
      if (n && n.t === 'num') {
        p++;
        return { kind: 'literal', value: -n.v };
      }
      p--;
      return fail("'-' must precede a number");
    }
    if (t.v === '(') {
      const e = orExpr();
      if (!isOp(')')) fail("missing ')'");
      p++;
      return e;
    }
    p--;
    return fail(`unexpected '${t.v}'`);
  };
  if (toks.length === 0) fail('empty expression');
  const e = orExpr();
  if (p < toks.length) fail(`unexpected '${String(toks[p]!.v)}'`);
  return e;
}

function columnsOf(e: WhereExpr, out: Set<string>): Set<string> {
  if (e.kind === 'column') out.add(e.name);
  else if (e.kind === 'not') columnsOf(e.arg, out);
  else if (e.kind !== 'literal') {
    columnsOf(e.left, out);
    columnsOf(e.right, out);
  }
  return out;
}

function truth(v: Cell): boolean {
  return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 && !Number.isNaN(v) : v !== '';
}

function evaluate(e: WhereExpr, row: (name: string) => Cell, name: string): Cell {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'column':
      return row(e.name);
    case 'not':
      return !truth(evaluate(e.arg, row, name));
    case 'and':
      return truth(evaluate(e.left, row, name)) && truth(evaluate(e.right, row, name));
    case 'or':
      return truth(evaluate(e.left, row, name)) || truth(evaluate(e.right, row, name));
    case 'compare': {
      const a = evaluate(e.left, row, name);
      const b = evaluate(e.right, row, name);
      if (e.op === '==') return a === b;
      if (e.op === '!=') return a !== b;
      if (typeof a !== typeof b || typeof a === 'boolean') {
        throw rangeError(`${name}: '${e.op}' compares two numbers or two strings (got ${typeof a} and ${typeof b})`);
      }
      if (e.op === '<') return a < b;
      if (e.op === '<=') return a <= b;
      if (e.op === '>') return a > b;
      return a >= b;
    }
  }
}

/**
 * A predicate over the rows of `table` from an expression string (parsed by {@link parseWhere}); unknown column
 * names are a RangeError listing the columns.
 */
export function compileWhere(text: string, table: RunTable, name = 'opts.where'): (index: number) => boolean {
  const e = parseWhere(text, name);
  const cols = tableShape(table, 'data').keys;
  for (const c of columnsOf(e, new Set())) {
    if (!cols.includes(c)) throw rangeError(`${name} names no column '${c}' (columns: ${cols.join(', ')})`);
  }
  return (i) => truth(evaluate(e, (c) => (table[c] as readonly Cell[])[i]!, name));
}

function flag(v: Cell | undefined): boolean {
  return v === true || v === 1 || v === 'True' || v === 'true' || v === '1';
}

/**
 * The runs of `data` that pass the rules of `opts`, with every column kept, and what was dropped.
 *
 * @example
 * ```ts
 * const t = scaling.isoflopRuns();
 * const { data, dropped } = scaling.subset(t, { where: 'source == "epochai_chinchilla"', dropOutliers: true });
 * ```
 */
export function subset<T extends RunTable>(data: T, opts: SubsetOptions = {}): SubsetResult<T> {
  const { keys, length } = tableShape(data, 'data');
  const o = options<SubsetOptions>(opts, 'opts', SUBSET_KEYS);
  let where: ((i: number) => boolean) | undefined;
  if (typeof o.where === 'string') where = compileWhere(o.where, data);
  else if (o.where !== undefined) {
    const f = callback(o.where, 'opts.where') as (row: Row, index: number) => unknown;
    where = (i) => {
      const row: Record<string, Cell> = {};
      for (const k of keys) row[k] = (data[k] as readonly Cell[])[i]!;
      return Boolean(f(Object.freeze(row), i));
    };
  }
  const ranges: { key: string; min: number; max: number; col: ArrayLike<Cell> }[] = [];
  if (o.within !== undefined) {
    const w = object(o.within, 'opts.within', '{ column: { min?, max? } }');
    for (const [k, r] of Object.entries(w)) {
      if (!keys.includes(k)) throw rangeError(`opts.within names no column '${k}' (columns: ${keys.join(', ')})`);
      const rr = options<{ min?: number; max?: number }>(r, `opts.within.${k}`, RANGE_KEYS, true);
      for (const b of ['min', 'max'] as const) {
        if (rr[b] !== undefined && (typeof rr[b] !== 'number' || Number.isNaN(rr[b]))) {
          throw invalidType(`opts.within.${k}.${b}`, 'a number', rr[b]);
        }
      }
      const col = data[k] as Column;
      if (!(col instanceof Float64Array) && col.some((x) => typeof x !== 'number')) {
        throw rangeError(`opts.within.${k}: column '${k}' must be numeric`);
      }
      ranges.push({ key: k, min: rr.min ?? -Infinity, max: rr.max ?? Infinity, col: col as ArrayLike<Cell> });
    }
  }
  let flagCol: ArrayLike<Cell> | undefined;
  if (o.dropOutliers !== undefined && o.dropOutliers !== false) {
    const k = o.dropOutliers === true ? 'outlier' : o.dropOutliers;
    if (typeof k !== 'string') throw invalidType('opts.dropOutliers', 'a boolean or a column name', o.dropOutliers);
    if (!keys.includes(k)) throw rangeError(`opts.dropOutliers names no column '${k}' (columns: ${keys.join(', ')})`);
    flagCol = data[k] as ArrayLike<Cell>;
  }
  const highest = o.dropHighestLoss === undefined ? 0 : integer(o.dropHighestLoss, 'opts.dropHighestLoss', { min: 0, max: 1e9 });
  if (highest > 0 && !keys.includes('loss')) throw rangeError("opts.dropHighestLoss needs a 'loss' column");

  const dropped: DroppedRun[] = [];
  let keep: number[] = [];
  for (let i = 0; i < length; i++) {
    if (where && !where(i)) {
      dropped.push({ index: i, reason: 'where' });
      continue;
    }
    const out = ranges.find((r) => {
      const x = r.col[i] as number;
      return !(x >= r.min && x <= r.max);
    });
    if (out) {
      dropped.push({ index: i, reason: 'within', column: out.key });
      continue;
    }
    if (flagCol && flag(flagCol[i])) {
      dropped.push({ index: i, reason: 'outlier' });
      continue;
    }
    keep.push(i);
  }
  if (highest > 0) {
    const loss = numericColumn(data, 'loss', 'data', false);
    // Stable by loss, ties in input order (numpy's argsort on these tables).
    const order = keep.slice().sort((a, b) => loss[a]! - loss[b]! || a - b);
    const gone = new Set(order.slice(Math.max(0, order.length - highest)));
    for (const i of keep) if (gone.has(i)) dropped.push({ index: i, reason: 'highest-loss' });
    keep = keep.filter((i) => !gone.has(i));
  }
  dropped.sort((a, b) => a.index - b.index);
  return { data: takeRows(data, keep) as unknown as T, kept: Int32Array.from(keep), dropped };
}
