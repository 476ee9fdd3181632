/**
 * `lengthwise fit runs.csv`: fit a scaling law to a CSV of training runs, with optional bootstrap and SVG plot;
 * and the scaling part of `lengthwise demo`.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendChoice } from '../runtime/native';
import { fit } from '../scaling/fit';
import { computeOptimal } from '../scaling/formulas';
import { chinchillaRuns, parseCsv, parseQuantity, type CsvDelimiter } from '../scaling/data';
import type { FitResult, ScalingLaw, ScalingObjective } from '../scaling/types';
import { diagnostics, type Diagnostics } from '../scaling/diagnostics';
import { compileWhere, parseWhere, type WhereExpr } from '../scaling/subset';
import { ProgressBar } from './progress';
import { UsageError } from './usage';
import { nearest, runCommand, type Args, type CommandSpec, type OptionSpec } from './framework';

const ROLE = { N: 'columns', rows: 'rows', fit: 'fit', out: 'output' } as const;

/** The options of `lengthwise fit` (exported so the scaling flags can be added beside them). @internal */
export const FIT_OPTIONS: Record<string, OptionSpec> = {
  'n-col': { type: 'string', value: 'NAME', group: ROLE.N, help: 'parameters N (default: the first of N, params, parameters, model size, model_size, n_params)' },
  'd-col': { type: 'string', value: 'NAME', group: ROLE.N, help: 'training tokens D (default: D, tokens, n_tokens, data)' },
  'c-col': { type: 'string', value: 'NAME', group: ROLE.N, help: 'training compute C in FLOPs, used when there is no D column: D = C / (6N) (default: C, flops, compute, training flop, budget)' },
  'loss-col': { type: 'string', value: 'NAME', group: ROLE.N, help: 'final loss (default: loss, val_loss, final_loss, L)' },
  filter: { type: 'string', multiple: true, value: 'COL=VALUE', group: ROLE.rows, help: 'keep rows whose COL equals VALUE' },
  'drop-outliers': { type: 'string', value: 'SPEC', group: ROLE.rows, help: 'K: drop the K highest losses; COL: drop rows whose COL is true/1/yes; both comma-separated ("5,outlier"); 0 keeps everything' },
  'keep-outliers': { type: 'boolean', group: ROLE.rows, help: 'keep rows flagged in an outlier column (by default they are dropped, as lengthwise demo does, and the output says so)' },
  'skip-invalid': { type: 'boolean', group: ROLE.rows, help: 'skip rows whose N, D/C or loss is not a number > 0 (listed in a summary) instead of stopping at the first' },
  delimiter: { type: 'string', value: 'D', group: ROLE.rows, help: "field delimiter: ',' ';' tab, or auto (default: detected from the header line)" },
  law: { type: 'string', value: 'L', group: ROLE.fit, help: 'chinchilla (default) | kaplan-nd | data-constrained (needs --unique-tokens)' },
  objective: { type: 'string', value: 'O', group: ROLE.fit, help: 'huber (default) | mse | huber-likelihood' },
  delta: { type: 'string', value: 'X', group: ROLE.fit, help: 'Huber threshold (default 1e-3)' },
  bootstrap: { type: 'string', value: 'N', group: ROLE.fit, help: 'N resamples of the runs (with replacement)' },
  seed: { type: 'string', value: 'S', group: ROLE.fit, help: 'bootstrap seed (default 0)' },
  'grid-per-resample': { type: 'boolean', group: ROLE.fit, help: 'refit every resample from the whole grid' },
  compute: { type: 'string', value: 'C', group: ROLE.fit, help: 'budget for the compute-optimal quantities (default 5.76e23)' },
  level: { type: 'string', value: 'P', group: ROLE.fit, help: 'bootstrap interval level (default 0.95)' },
  backend: { type: 'string', value: 'B', group: ROLE.fit, help: 'cpu | cuda | auto' },
  plot: { type: 'string', value: 'FILE', group: ROLE.out, help: 'figure (7.0 x 3.0 in): iso-loss contours with the runs and the compute-optimal frontier (with its bootstrap band under --bootstrap), loss vs compute with residuals; FILE ends in .svg, or .png (needs the optional renderer: npm install @resvg/resvg-js)' },
  title: { type: 'string', value: 'TEXT', group: ROLE.out, help: "the figure's title (default: law, objective, runs and the input's file name)" },
  where: { type: 'string', value: 'EXPR', group: ROLE.rows, help: 'keep rows for which EXPR holds, e.g. \'source=="chinchilla" && params >= 1e8\' (columns by name, `quoted name` for spaces; == != < <= > >= && || ! and parentheses; parsed, never evaluated as code)' },
  'unique-tokens': { type: 'string', value: 'COL', group: ROLE.N, help: 'unique training tokens U per run (the data-constrained law needs it)' },
  weights: { type: 'string', value: 'COL', group: ROLE.fit, help: 'per-run weights ≥ 0 from COL (the objective becomes Σ w·Huber)' },
  tie: { type: 'string', multiple: true, value: 'P=Q', group: ROLE.fit, help: 'constrain parameters equal, e.g. alpha=beta (repeatable; P=Q=R ties three)' },
  fix: { type: 'string', multiple: true, value: 'P=X', group: ROLE.fit, help: 'hold a parameter fixed in natural units, e.g. E=1.69 (repeatable)' },
  'bootstrap-objective': { type: 'string', value: 'O', group: ROLE.fit, help: 'objective of the bootstrap refits (default: --objective), e.g. huber for the paper\'s Huber-sum bootstrap of a likelihood fit' },
  residuals: { type: 'boolean', group: ROLE.out, help: 'print each run\'s prediction and residual, R² (on L and ln L) and the diagnostics\' warnings (in --json: a residuals object)' },
};

const DEFAULT_NAMES = {
  N: ['n', 'params', 'parameters', 'model size', 'model_size', 'n_params'],
  D: ['d', 'tokens', 'n_tokens', 'data'],
  C: ['c', 'flops', 'compute', 'training flop', 'budget'],
  loss: ['loss', 'val_loss', 'final_loss', 'l'],
};
const OUTLIER_NAMES = ['outlier', 'outliers', 'is_outlier'];
const TRUTHY = new Set(['true', '1', 'yes', 'y', 't']);
const rowsWord = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
// Epoch AI's digitised Chinchilla table (the bundled CSV): it has no outlier column; Besiroglu et al. 2024 (and
// `lengthwise demo`) drop its 5 highest losses.
const EPOCH_CHINCHILLA_HEADER = 'x,y,color,model size,training flop,hex_color,loss';

/** How `runsFromCsv` reads a table: the `fit` command line's column and row options. @internal */
export interface RunsCsvOptions {
  nCol?: string;
  dCol?: string;
  cCol?: string;
  lossCol?: string;
  /** COL=VALUE: keep rows whose COL equals VALUE. */
  filters?: string[];
  /** K (drop the K highest losses) and/or COL (drop rows whose COL is true), comma-separated; '0' drops nothing. */
  dropOutliers?: string;
  /** Keep rows flagged in an outlier column (default: drop them). */
  keepOutliers?: boolean;
  /** Skip rows with a bad N, D/C or loss (and malformed records) instead of failing on the first. */
  skipInvalid?: boolean;
  delimiter?: CsvDelimiter | 'auto';
  /** Keep rows for which this expression over the columns holds (scaling.parseWhere's grammar). */
  where?: string;
  /** Column of unique tokens U. */
  uCol?: string;
  /** Column of per-run weights (≥ 0). */
  weightsCol?: string;
}

/** Which columns became what, and which were left unused. @internal */
export interface ColumnMapping {
  N: string;
  /** The D column, when D is read directly. */
  D?: string;
  /** The compute column, when D = C / (6N). */
  C?: string;
  loss: string;
  /** Column of the outlier flags honoured, if any. */
  outlier?: string;
  /** Other columns matching a role's default names (not used). */
  alternatives: Record<string, string[]>;
  /** Columns not used at all. */
  unused: string[];
}

/** Runs read from a CSV with what was done to get them. @internal */
export interface RunsFromCsv {
  N: Float64Array;
  D: Float64Array;
  loss: Float64Array;
  /** Unique tokens per run (with `uCol`). */
  U?: Float64Array;
  /** Weights per run (with `weightsCol`). */
  weights?: Float64Array;
  /** Data rows in the file (blank rows not counted). */
  total: number;
  /** total − runs kept. */
  dropped: number;
  delimiter: CsvDelimiter;
  columns: ColumnMapping;
  /** Rows dropped, by reason. */
  drops: { filter: number; outlierColumn: number; highestLoss: number; invalid: number; where?: number };
  /** Rows skipped as invalid (with --skip-invalid): line and reason. */
  skipped: { line: number; reason: string }[];
  /** Line numbers of blank records (every field empty), ignored. */
  blank: number[];
  /** Human-readable lines on the choices made (defaults applied, what was dropped and why). */
  notes: string[];
}

function findColumn(header: string[], given: string | undefined, defaults: string[], what: string, required: boolean): { index: number; others: string[] } {
  const lower = header.map((h) => h.toLowerCase());
  if (given !== undefined) {
    const i = lower.indexOf(given.toLowerCase());
    if (i < 0) {
      const near = nearest(given, header);
      throw new UsageError(`no column '${given}' for ${what}${near ? ` (did you mean '${near}'?)` : ''} (columns: ${header.join(', ')})`);
    }
    return { index: i, others: [] };
  }
  const hits = defaults.map((d) => lower.indexOf(d)).filter((i) => i >= 0);
  if (hits.length === 0 && required) throw new UsageError(`no column for ${what}; name it with an option (columns: ${header.join(', ')})`);
  return { index: hits[0] ?? -1, others: hits.slice(1).map((i) => header[i]!) };
}

/** Runs from CSV text, with the column mapping, filters and outlier rules of the command line. @internal */
export function runsFromCsv(text: string, opts: RunsCsvOptions = {}): RunsFromCsv {
  const table = parseCsv(text, { delimiter: opts.delimiter ?? 'auto', skipMalformed: opts.skipInvalid === true });
  const { header, rows, lines } = table;
  if (header.length === 0) throw new UsageError('the CSV is empty');
  if (rows.length === 0) throw new UsageError('the CSV has no data rows');
  const fN = findColumn(header, opts.nCol, DEFAULT_NAMES.N, 'N (--n-col)', true);
  const fD = findColumn(header, opts.dCol, DEFAULT_NAMES.D, 'D (--d-col)', false);
  const useC = fD.index < 0 || opts.cCol !== undefined;
  const fC = useC ? findColumn(header, opts.cCol, DEFAULT_NAMES.C, 'D (--d-col) or compute (--c-col)', true)
    : findColumn(header, undefined, DEFAULT_NAMES.C, '', false);
  const fL = findColumn(header, opts.lossCol, DEFAULT_NAMES.loss, 'the loss (--loss-col)', true);
  const iN = fN.index, iL = fL.index;
  const iD = useC ? -1 : fD.index;
  const iC = useC ? fC.index : -1;
  const used = new Set([iN, iL, useC ? iC : iD]);
  const conds = (opts.filters ?? []).map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`--filter must be COL=VALUE (got '${f}')`);
    const col = findColumn(header, f.slice(0, eq), [], `--filter ${f}`, true).index;
    used.add(col);
    return { col, value: f.slice(eq + 1) };
  });
  const notes: string[] = [];
  let dropHighest = 0;
  let outlierCol = -1;
  let outlierDefault = false;
  if (opts.dropOutliers !== undefined) {
    for (const part of opts.dropOutliers.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(part)) dropHighest = Number(part);
      else outlierCol = findColumn(header, part, [], `--drop-outliers ${part}`, true).index;
    }
  } else if (!opts.keepOutliers) {
    const f = findColumn(header, undefined, OUTLIER_NAMES, '', false);
    if (f.index >= 0) {
      outlierCol = f.index;
      outlierDefault = true;
    } else if (header.join(',').toLowerCase() === EPOCH_CHINCHILLA_HEADER) {
      dropHighest = 5;
      notes.push("Epoch AI's digitised Chinchilla table: dropping its 5 highest losses, as Besiroglu et al. 2024 and " +
        '`lengthwise demo` do (--drop-outliers 0 keeps them)');
    }
  }
  if (outlierCol >= 0) used.add(outlierCol);
  const skipped: RunsFromCsv['skipped'] = table.malformed.map((m) => ({ line: m.line, reason: m.reason }));
  const drops: RunsFromCsv['drops'] = { filter: 0, outlierColumn: 0, highestLoss: 0, invalid: 0 };
  const kept: { N: number; D: number; loss: number; U: number; w: number }[] = [];
  let where: ((k: number) => boolean) | undefined;
  if (opts.where !== undefined) {
    drops.where = 0;
    const cols = csvColumns(header, rows);
    try {
      where = compileWhere(opts.where, cols, '--where');
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    for (const c of whereColumns(opts.where)) used.add(header.indexOf(c));
  }
  const iU = opts.uCol === undefined ? -1 : findColumn(header, opts.uCol, [], 'U (--unique-tokens)', true).index;
  const iW = opts.weightsCol === undefined ? -1 : findColumn(header, opts.weightsCol, [], 'the weights (--weights)', true).index;
  if (iU >= 0) used.add(iU);
  if (iW >= 0) used.add(iW);
  rows.forEach((r, k) => {
    const line = lines[k]!;
    if (conds.some((c) => (r[c.col] ?? '') !== c.value)) {
      drops.filter++;
      return;
    }
    if (where) {
      let keep: boolean;
      try {
        keep = where(k);
      } catch (e) {
        throw new UsageError(`line ${line}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!keep) {
        drops.where!++;
        return;
      }
    }
    if (outlierCol >= 0 && TRUTHY.has((r[outlierCol] ?? '').toLowerCase())) {
      drops.outlierColumn++;
      return;
    }
    let bad: string | undefined;
    if (r.length > header.length) {
      bad = `${r.length} fields, the header has ${header.length}` +
        (table.delimiter === ',' ? ' (a thousands separator in an unquoted number? quote it: "1,000,000")' : '');
    }
    const cell = (i: number, what: string): number => {
      const s = r[i] ?? '';
      const x = parseQuantity(s);
      if (!(x > 0) || !Number.isFinite(x)) {
        bad ??= `${what} '${s}' (column ${header[i]}) ${s === '' ? 'is empty' : 'is not a number > 0'}`;
        return NaN;
      }
      return x;
    };
    const N = cell(iN, 'N');
    const D = iD >= 0 ? cell(iD, 'D') : cell(iC, 'compute') / (6 * N);
    const loss = cell(iL, 'loss');
    const U = iU >= 0 ? cell(iU, 'U') : NaN;
    let w = NaN;
    if (iW >= 0) {
      const sw = r[iW] ?? '';
      w = parseQuantity(sw);
      if (!(w >= 0) || !Number.isFinite(w)) bad ??= `weight '${sw}' (column ${header[iW]}) is not a number ≥ 0`;
    }
    if (bad !== undefined) {
      if (!opts.skipInvalid) throw new UsageError(`line ${line}: ${bad} (--skip-invalid skips such rows)`);
      drops.invalid++;
      skipped.push({ line, reason: bad });
      return;
    }
    kept.push({ N, D, loss, U, w });
  });
  drops.invalid += table.malformed.length;
  if (dropHighest > 0) {
    const order = kept.map((_, i) => i).sort((a, b) => kept[a]!.loss - kept[b]!.loss || a - b);
    const keep = new Set(order.slice(0, Math.max(0, kept.length - dropHighest)));
    drops.highestLoss = kept.length - keep.size;
    for (let i = kept.length - 1; i >= 0; i--) if (!keep.has(i)) kept.splice(i, 1);
  }
  if (kept.length === 0) throw new UsageError(`no runs left out of ${rows.length} rows (filters, outliers and invalid rows removed them all)`);
  if (drops.filter) notes.push(`dropped ${rowsWord(drops.filter)} by --filter ${(opts.filters ?? []).join(' ')}`);
  if (drops.where) notes.push(`dropped ${rowsWord(drops.where)} by --where ${opts.where}`);
  if (drops.outlierColumn) {
    notes.push(`dropped ${rowsWord(drops.outlierColumn)} flagged in column '${header[outlierCol]}'` +
      (outlierDefault ? ' (the default, as `lengthwise demo` does; --keep-outliers keeps them)' : ''));
  } else if (outlierDefault) notes.push(`no row flagged in column '${header[outlierCol]}'`);
  if (opts.keepOutliers && findColumn(header, undefined, OUTLIER_NAMES, '', false).index >= 0) notes.push('outlier column ignored (--keep-outliers)');
  if (drops.highestLoss && opts.dropOutliers !== undefined) notes.push(`dropped the ${drops.highestLoss} highest losses (--drop-outliers)`);
  if (skipped.length) {
    const shown = skipped.slice(0, 5).map((s) => `line ${s.line}: ${s.reason}`).join('; ');
    notes.push(`skipped ${skipped.length} invalid ${skipped.length === 1 ? 'row' : 'rows'} (--skip-invalid): ${shown}${skipped.length > 5 ? `; … ${skipped.length - 5} more` : ''}`);
  }
  if (table.blank.length) notes.push(`ignored ${table.blank.length} blank ${table.blank.length === 1 ? 'row' : 'rows'} (line ${table.blank.slice(0, 5).join(', ')}${table.blank.length > 5 ? ', …' : ''})`);
  const alternatives: Record<string, string[]> = {};
  if (fN.others.length) alternatives.N = fN.others;
  if (!useC && fD.others.length) alternatives.D = fD.others;
  if (useC && fC.others.length) alternatives.C = fC.others;
  if (!useC && fC.index >= 0) alternatives.C = [header[fC.index]!, ...fC.others];
  if (fL.others.length) alternatives.loss = fL.others;
  const columns: ColumnMapping = {
    N: header[iN]!, ...(iD >= 0 ? { D: header[iD]! } : { C: header[iC]! }), loss: header[iL]!,
    ...(outlierCol >= 0 ? { outlier: header[outlierCol]! } : {}),
    alternatives, unused: header.filter((_, i) => !used.has(i)),
  };
  return {
    N: Float64Array.from(kept, (r) => r.N),
    D: Float64Array.from(kept, (r) => r.D),
    loss: Float64Array.from(kept, (r) => r.loss),
    ...(iU >= 0 ? { U: Float64Array.from(kept, (r) => r.U) } : {}),
    ...(iW >= 0 ? { weights: Float64Array.from(kept, (r) => r.w) } : {}),
    total: rows.length,
    dropped: rows.length - kept.length,
    delimiter: table.delimiter,
    columns, drops, skipped, blank: table.blank, notes,
  };
}

/** Typed columns of the CSV for `--where`: numbers (unit suffixes allowed) where every cell is one, true/false, else strings. */
function csvColumns(header: string[], rows: string[][]): Record<string, number[] | string[] | boolean[]> {
  const out: Record<string, number[] | string[] | boolean[]> = {};
  header.forEach((h, j) => {
    const cells = rows.map((r) => (r[j] ?? '').trim());
    const lower = cells.map((c) => c.toLowerCase());
    if (cells.length && lower.every((c) => c === 'true' || c === 'false')) out[h] = lower.map((c) => c === 'true');
    else {
      const nums = cells.map((c) => (c === '' ? NaN : parseQuantity(c)));
      out[h] = cells.every((c, i) => c === '' || Number.isFinite(nums[i]!)) && cells.some((c) => c !== '') ? nums : cells;
    }
  });
  return out;
}

/** Column names an expression reads. */
function whereColumns(text: string): string[] {
  const out = new Set<string>();
  const walk = (e: WhereExpr) => {
    if (e.kind === 'column') out.add(e.name);
    else if (e.kind === 'not') walk(e.arg);
    else if (e.kind !== 'literal') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(parseWhere(text, '--where'));
  return [...out];
}

/** `--tie a=b[=c]` and `--fix P=X`, checked. */
function constraints(args: Args): { tie?: string[][]; fix?: Record<string, number> } {
  const out: { tie?: string[][]; fix?: Record<string, number> } = {};
  const ties = args.strings('tie');
  if (ties.length) {
    out.tie = ties.map((t) => {
      const names = t.split('=').map((x) => x.trim());
      if (names.length < 2 || names.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) throw new UsageError(`--tie must be P=Q (parameter names), got '${t}'`);
      return names;
    });
  }
  const fixes = args.strings('fix');
  if (fixes.length) {
    out.fix = {};
    for (const f of fixes) {
      const eq = f.indexOf('=');
      const k = f.slice(0, eq).trim();
      const x = Number(f.slice(eq + 1));
      if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || f.slice(eq + 1).trim() === '' || !Number.isFinite(x)) {
        throw new UsageError(`--fix must be P=X (a parameter name and a number), got '${f}'`);
      }
      out.fix[k] = x;
    }
  }
  return out;
}

/** Per-run residual lines and R² for `--residuals`. */
function residualLines(runs: RunsFromCsv, d: Diagnostics): string {
  const lines = [`residuals (${runs.N.length} runs): R² ${d.rSquared.toFixed(4)} on L, ${d.rSquaredLog.toFixed(4)} on ln L; rmse ${fmt(d.rmse, 4)}` +
    (d.conditionNumber !== undefined ? `; scaled Jacobian condition number ${fmt(d.conditionNumber, 3)}` : '')];
  lines.push(`  ${'run'.padStart(5)} ${'N'.padStart(11)} ${'D'.padStart(11)} ${'loss'.padStart(9)} ${'predicted'.padStart(9)} ${'L − L̂'.padStart(10)} ${'ln L̂ − ln L'.padStart(12)}`);
  for (let i = 0; i < runs.N.length; i++) {
    lines.push(`  ${String(i).padStart(5)} ${fmt(runs.N[i], 4).padStart(11)} ${fmt(runs.D[i], 4).padStart(11)} ${runs.loss[i]!.toFixed(4).padStart(9)} ` +
      `${d.predicted[i]!.toFixed(4).padStart(9)} ${d.residuals[i]!.toExponential(2).padStart(10)} ${d.logResiduals[i]!.toExponential(2).padStart(12)}`);
  }
  return lines.join('\n') + '\n';
}

/** The column mapping in words (one line per role, then the unused columns). @internal */
export function describeColumns(c: ColumnMapping, delimiter: CsvDelimiter): string[] {
  const alt = (role: string) => (c.alternatives[role]?.length ? ` (also matching: ${c.alternatives[role]!.join(', ')})` : '');
  const lines = [`  N    ← '${c.N}'${alt('N')}`];
  if (c.D !== undefined) {
    lines.push(`  D    ← '${c.D}'${alt('D')}`);
    if (c.alternatives.C?.length) lines.push(`         compute column '${c.alternatives.C[0]}' unused (--c-col ${c.alternatives.C[0]} derives D = C / (6N) instead)`);
  } else lines.push(`  D    ← '${c.C}' / (6 N)  (compute; no D column)${alt('C')}`);
  lines.push(`  loss ← '${c.loss}'${alt('loss')}`);
  const d = delimiter === '\t' ? 'tab' : `'${delimiter}'`;
  lines.push(`  unused columns: ${c.unused.length ? c.unused.join(', ') : 'none'}; delimiter ${d}`);
  return lines;
}

const fmt = (x: number | undefined, digits = 5) => (x === undefined || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits - 1) : Number(x.toPrecision(digits)).toString());

/** The compute-optimal allocation of a Chinchilla-form fit, or undefined where it has none (other laws, an
 * exponent ≤ 0, a coefficient outside float64's range: the fit's `overflow` warning says so). */
function optimumOf(r: FitResult, C: number): ReturnType<typeof computeOptimal> | undefined {
  if (!('A' in r.params)) return undefined;
  const p = r.params;
  const usable = [p.A, p.B, p.E, p.alpha, p.beta].every(Number.isFinite) && p.A > 0 && p.B > 0 && p.alpha > 0 && p.beta > 0;
  return usable ? computeOptimal(p, C) : undefined;
}

/** A readable table of a fit (and its bootstrap). */
export function fitTable(r: FitResult, compute = 5.76e23): string {
  const b = r.bootstrap;
  const lines: string[] = [];
  const names = Object.keys(r.params) as string[];
  const values: Record<string, number> = { ...(r.params as unknown as Record<string, number>) };
  if (r.sigma !== undefined) {
    names.push('log_sigma');
    values.log_sigma = r.sigma;
  }
  const opt = optimumOf(r, b?.compute ?? compute);
  if (opt) {
    names.push('a', 'tokensPerParam');
    values.a = opt.a;
    values.tokensPerParam = opt.tokensPerParam;
  }
  const level = b ? `${Math.round(b.level * 100)}% interval` : '';
  lines.push(`  ${'parameter'.padEnd(15)} ${'estimate'.padStart(12)}${b ? ` ${'std err'.padStart(11)}   ${level}` : ''}`);
  for (const k of names) {
    let line = `  ${k.padEnd(15)} ${fmt(values[k]).padStart(12)}`;
    const bk = k === 'log_sigma' ? 'sigma' : k;
    if (b && b.stdErr[bk] !== undefined) {
      const [lo, hi] = b.intervals[bk]!;
      line += ` ${fmt(b.stdErr[bk], 3).padStart(11)}   [${fmt(lo)}, ${fmt(hi)}]`;
    }
    lines.push(line);
  }
  lines.push(
    `  objective ${r.objective.toPrecision(8)} (${r.objectiveKind}${r.objectiveKind === 'mse' ? '' : `, δ ${r.delta}`}); ` +
      `${r.startsAtOptimum}/${r.starts} starts reached the optimum; best start: ${r.status} after ${r.iterations} iterations`,
  );
  if (opt) {
    lines.push(
      `  compute-optimal at C = ${fmt(b?.compute ?? compute, 3)}: N = ${fmt(opt.N, 3)}, D = ${fmt(opt.D, 3)} ` +
        `(${opt.tokensPerParam.toFixed(1)} tokens/param); N ∝ C^${opt.a.toFixed(3)}, D ∝ C^${opt.b.toFixed(3)}`,
    );
  }
  if (b) lines.push(`  bootstrap: ${b.resamples} resamples${b.gridPerResample ? ' (whole grid each)' : ''}, ${b.failed} failed`);
  return lines.join('\n');
}

/** The CSV text of `file` ('-' = standard input). */
export function readText(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new UsageError(`cannot read ${file === '-' ? 'standard input' : file}: ${why}`);
  }
}

async function fitCommand(args: Args): Promise<number> {
  const file = args.positionals[0];
  if (file === undefined) throw new UsageError('missing runs.csv (a file name, or - for standard input)');
  const law = args.choice<ScalingLaw>('law', ['chinchilla', 'kaplan-nd', 'data-constrained' as ScalingLaw], 'chinchilla');
  const objective = args.choice<ScalingObjective>('objective', ['huber', 'mse', 'huber-likelihood'], 'huber');
  const bootstrapObjective = args.choice<ScalingObjective>('bootstrap-objective', ['huber', 'mse', 'huber-likelihood']);
  if (bootstrapObjective !== undefined && !args.has('bootstrap')) throw new UsageError('--bootstrap-objective needs --bootstrap N');
  if ((law as string) === 'data-constrained' && !args.has('unique-tokens')) throw new UsageError('--law data-constrained needs --unique-tokens COL (the unique tokens U of each run)');
  const constrained = constraints(args);
  const backend = args.choice<BackendChoice>('backend', ['cpu', 'cuda', 'auto']);
  const resamples = args.int('bootstrap', 1);
  const seed = args.int('seed', 0) ?? 0;
  const compute = args.number('compute', { min: 0, minExclusive: true });
  const level = args.number('level', { min: 0, max: 1, minExclusive: true });
  const delta = args.number('delta', { min: 0, minExclusive: true });
  const delimiter = args.string('delimiter');
  const delim = delimiter === undefined || delimiter === 'auto' ? 'auto' : delimiter === 'tab' || delimiter === '\\t' ? '\t' : delimiter;
  if (delim !== 'auto' && delim !== ',' && delim !== ';' && delim !== '\t') throw new UsageError(`--delimiter must be ',', ';', tab or auto, got '${delimiter}'`);
  if (args.has('drop-outliers') && args.flag('keep-outliers')) throw new UsageError('--drop-outliers and --keep-outliers exclude each other');
  const plot = args.string('plot');
  if (plot !== undefined) {
    const { plotFormat, loadResvg } = await import('./fitPlot');
    try {
      // before the fit: an unknown extension or a missing PNG renderer fails at once
      if (plotFormat(plot) === 'png') loadResvg();
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  }
  const name = file === '-' ? 'stdin' : file;
  const runs = runsFromCsv(readText(file), {
    nCol: args.string('n-col'), dCol: args.string('d-col'), cCol: args.string('c-col'), lossCol: args.string('loss-col'),
    filters: args.strings('filter'), dropOutliers: args.string('drop-outliers'), keepOutliers: args.flag('keep-outliers'),
    skipInvalid: args.flag('skip-invalid'), delimiter: delim,
    where: args.string('where'), uCol: args.string('unique-tokens'), weightsCol: args.string('weights'),
  });
  const bar = new ProgressBar('fitting', { unit: 'fits' });
  const t0 = Date.now();
  // The constraint, weight and bootstrap-objective keys go to the fit only when given (its own checks apply).
  const extra: Record<string, unknown> = { ...constrained };
  if (runs.weights) extra.weights = runs.weights;
  if (bootstrapObjective !== undefined) extra.bootstrapObjective = bootstrapObjective;
  const data = runs.U ? { N: runs.N, D: runs.D, loss: runs.loss, U: runs.U } : { N: runs.N, D: runs.D, loss: runs.loss };
  const r = await fit(data, {
    ...(extra as object),
    law,
    objective,
    delta,
    backend,
    bootstrap: resamples === undefined ? undefined : {
      resamples, seed, gridPerResample: args.flag('grid-per-resample'), compute, level,
    },
    onProgress: (d, t) => bar.update(d, t),
  });
  const seconds = (Date.now() - t0) / 1000;
  bar.done();
  const warnings = (r as FitResult & { warnings?: string[] }).warnings ?? [];
  const diag = args.flag('residuals') ? diagnostics(r, data) : undefined;
  for (const w of warnings) process.stderr.write(`lengthwise fit: warning: ${w}\n`);
  if (plot !== undefined) {
    const { defaultPlotTitle, writeFitPlot } = await import('./fitPlot');
    writeFitPlot(plot, runs, r, args.string('title') ?? defaultPlotTitle(law, objective, runs.N.length, name));
  }
  if (args.json) {
    const out: Record<string, unknown> = {
      file: name, runs: runs.N.length, rows: runs.total, dropped: runs.dropped, drops: runs.drops, columns: runs.columns,
      delimiter: runs.delimiter, skipped: runs.skipped, blankLines: runs.blank, notes: runs.notes,
      law, objective, delta: r.delta, params: r.params,
      logSigma: r.sigma, theta: Array.from(r.theta), objectiveValue: r.objective, starts: r.starts,
      startsAtOptimum: r.startsAtOptimum, convergedStarts: r.convergedStarts, bestStart: r.bestStart,
      iterations: r.iterations, evaluations: r.evaluations, converged: r.converged, status: r.status, seconds, warnings,
    };
    const C = r.bootstrap?.compute ?? compute ?? 5.76e23;
    const opt = optimumOf(r, C);
    if (opt) out.computeOptimal = { C, ...opt };
    if (r.bootstrap) {
      const { samples: _samples, ...summary } = r.bootstrap;
      out.bootstrap = summary;
    }
    if (plot !== undefined) out.plot = plot;
    if (diag) {
      out.residuals = {
        predicted: Array.from(diag.predicted), residual: Array.from(diag.residuals), logResidual: Array.from(diag.logResiduals),
        rSquared: diag.rSquared, rSquaredLog: diag.rSquaredLog, rmse: diag.rmse, conditionNumber: diag.conditionNumber,
        warnings: diag.warnings.filter((w) => !warnings.includes(w)),
      };
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    process.stdout.write(
      `lengthwise fit: ${runs.N.length} runs from ${name}${runs.dropped ? ` (${runs.total} rows, ${runs.dropped} dropped)` : ''}, law ${law}, ` +
        `${r.starts} starts, ${seconds.toFixed(2)} s\ncolumns:\n${describeColumns(runs.columns, runs.delimiter).join('\n')}\n` +
        runs.notes.map((n) => `note: ${n}\n`).join('') +
        `${fitTable(r, compute)}\n` +
        warnings.map((w) => `warning: ${w}\n`).join('') +
        (diag ? residualLines(runs, diag) + diag.warnings.filter((w) => !warnings.includes(w)).map((w) => `warning: ${w}\n`).join('') : '') +
        (plot !== undefined ? `  plot: ${plot}\n` : ''),
    );
  }
  return 0;
}

/** `lengthwise fit`. @internal */
export const command: CommandSpec = {
  name: 'fit',
  summary: 'fit a scaling law to a CSV of training runs',
  usage: 'fit runs.csv|- [options]',
  description: `Fits a scaling law to training runs (one row per run; - reads standard input) by L-BFGS from every start of
a grid (default: the 4500-point grid of Hoffmann et al. 2022), optionally with bootstrap uncertainty, and prints the
column mapping, what was dropped, and a table. Columns are matched case-insensitively; the delimiter (',' ';' tab) is
detected. Numbers may carry a unit suffix (2810M, 70B, 1.4T) or thousands separators (1,000,000,000: quoted, or in a
';' or tab file). Rows flagged in an 'outlier' column are dropped by default (stated in the output).`,
  options: FIT_OPTIONS,
  json: true,
  maxPositionals: 1,
  exits: {
    2: 'usage or input-data error: bad option, missing or unreadable CSV, no N / D / loss column, a row with a bad value (without --skip-invalid), no runs left',
  },
  run: fitCommand,
};

/** `lengthwise fit …` in-process (tests); returns the exit code. @internal */
export function runFit(argv: string[]): Promise<number> {
  return runCommand(command, argv);
}

/** The scaling part of `lengthwise demo`: Chinchilla's approach 3 on the bundled table, with a bootstrap. */
export async function demoFit(): Promise<string> {
  const runs = chinchillaRuns();
  const t0 = Date.now();
  const r = await fit(runs, { bootstrap: { resamples: 200, seed: 0 } });
  const ms = Date.now() - t0;
  return (
    `Chinchilla approach 3 on ${runs.N.length} runs digitised by Epoch AI (Huber δ=1e-3 on log loss, ` +
    `L-BFGS from ${r.starts} starts + 200 bootstrap refits, ${ms} ms):\n${fitTable(r)}`
  );
}
