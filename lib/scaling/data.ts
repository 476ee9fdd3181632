/**
 * Run tables: a CSV reader (csv-parse) and the bundled Chinchilla table (data/scaling/, provenance in its README).
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ScalingData } from './types';
import { parse } from 'csv-parse/sync';
import { integer, invalidType, optionKeys, options, rangeError } from '../runtime/validate';

const RUNS_KEYS = optionKeys<{ dropHighest?: number }>({ dropHighest: 1 });

/** A field delimiter {@link parseCsv} reads. */
export type CsvDelimiter = ',' | ';' | '\t';

/** Options of {@link parseCsv}. */
export interface ParseCsvOptions {
  /** Field delimiter, or 'auto' (default): the one of `,` `;` tab that occurs most often, outside quotes, in the first non-blank line (ties: `,`). */
  delimiter?: CsvDelimiter | 'auto';
  /**
   * Skip records the CSV grammar rejects (an unclosed quote, a quote inside an unquoted field) and list them in
   * `malformed`, instead of throwing (default false).
   */
  skipMalformed?: boolean;
}

/** A parsed CSV table (see {@link parseCsv}). */
export interface CsvTable {
  /** Column names from the first record, trimmed. */
  header: string[];
  /** Data records, fields trimmed (rows may have fewer or more fields than the header: check before use). */
  rows: string[][];
  /** 1-based line number (in the text) at which each row of `rows` ends. */
  lines: number[];
  /** The delimiter used (given or detected). */
  delimiter: CsvDelimiter;
  /** Line numbers of blank records (every field empty, e.g. a trailing `,,`), which are left out of `rows`. */
  blank: number[];
  /** Records rejected by the CSV grammar (only with `skipMalformed`): line and reason. */
  malformed: { line: number; reason: string }[];
}

const CSV_KEYS = optionKeys<ParseCsvOptions>({ delimiter: 1, skipMalformed: 1 });
const DELIMITERS = [',', ';', '\t'] as const satisfies readonly CsvDelimiter[];

/** The delimiter of `text` by the rule of {@link ParseCsvOptions.delimiter} 'auto'. */
export function detectDelimiter(text: string): CsvDelimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  let seen = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) {
      if (seen) break;
    } else if (!quoted && (c === ',' || c === ';' || c === '\t')) {
      counts[c]++;
      seen = true;
    } else if (c !== ' ') seen = true;
  }
  let best: CsvDelimiter = ',';
  for (const d of DELIMITERS) if (counts[d] > counts[best]) best = d;
  return best;
}

/**
 * Parses CSV text (RFC 4180: quoted fields may hold delimiters, quotes written `""` and line breaks; `\n`, `\r\n`
 * or `\r` line ends; a UTF-8 byte-order mark is ignored) with the `csv-parse` package. The first record is the
 * header. Fields are trimmed; empty lines and records whose fields are all empty are left out (the latter listed
 * in `blank`); rows may be ragged (the caller decides what a short row means).
 *
 * @param text - the CSV contents.
 * @param opts - delimiter ('auto' by default) and whether malformed records are skipped.
 * @returns the header, the rows with their line numbers, the delimiter used, and what was left out.
 * @throws TypeError (ERR_INVALID_ARG_TYPE) when `text` is not a string or an option is invalid; Error
 *   (ERR_LENGTHWISE_USAGE) naming the line for a malformed record unless `skipMalformed`.
 *
 * @example
 * ```ts
 * const t = scaling.parseCsv('N;D;loss\n1e9;2e10;2.9\n');
 * t.delimiter; // ';'
 * t.rows;      // [['1e9', '2e10', '2.9']]
 * ```
 */
export function parseCsv(text: string, opts: ParseCsvOptions = {}): CsvTable {
  if (typeof text !== 'string') throw invalidType('text', 'a string (CSV contents)', text);
  const o = options<ParseCsvOptions>(opts, 'opts', CSV_KEYS);
  const given = o.delimiter ?? 'auto';
  if (given !== 'auto' && !(DELIMITERS as readonly string[]).includes(given)) {
    throw invalidType('opts.delimiter', "',', ';', '\\t' or 'auto'", given);
  }
  if (o.skipMalformed !== undefined && typeof o.skipMalformed !== 'boolean') throw invalidType('opts.skipMalformed', 'a boolean', o.skipMalformed);
  const delimiter = given === 'auto' ? detectDelimiter(text) : given;
  const malformed: CsvTable['malformed'] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter, bom: true, trim: true, relax_column_count: true, skip_empty_lines: true, info: true,
      skip_records_with_error: o.skipMalformed === true,
      on_skip: (err) => {
        const line = Number((err as { lines?: unknown } | undefined)?.lines ?? NaN);
        malformed.push({ line, reason: err?.message ?? 'malformed record' });
        return undefined;
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw rangeError(`text is not valid CSV: ${err.message}`);
  }
  const header = (records.shift()?.record ?? []).map((h) => h.trim());
  const rows: string[][] = [];
  const lines: number[] = [];
  const blank: number[] = [];
  for (const r of records) {
    if (r.record.every((f) => f === '')) blank.push(r.info.lines);
    else {
      rows.push(r.record);
      lines.push(r.info.lines);
    }
  }
  return { header, rows, lines, delimiter, blank, malformed };
}

const SUFFIX: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12, P: 1e15 };

/**
 * A positive quantity as people write it in run tables: a plain number (`2.81e9`), with a unit suffix K/k, M, B/G,
 * T, P (`2810M`, `70B`, `1.4T`), or with comma thousands separators in groups of three (`1,000,000,000`, which a
 * comma-delimited file must quote). NaN when it is none of these. @internal
 */
export function parseQuantity(text: string): number {
  let s = text.trim();
  if (s === '') return NaN;
  let scale = 1;
  const last = s[s.length - 1]!;
  if (last in SUFFIX && s.length > 1) {
    scale = SUFFIX[last]!;
    s = s.slice(0, -1).trim();
  }
  if (s.includes(',')) {
    if (!/^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) return NaN;
    s = s.replace(/,/g, '');
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s) * scale;
}

/** Path of the bundled Chinchilla table. */
export const CHINCHILLA_CSV = path.join(__dirname, '..', '..', 'data', 'scaling', 'chinchilla_epoch_svg_extracted.csv');

/**
 * The Chinchilla runs digitised by Epoch AI (245 points), with D = C/(6N). By default the 5 highest losses are
 * dropped, as in Besiroglu et al. (2024), leaving 240 runs.
 */
export function chinchillaRuns(opts: { dropHighest?: number } = {}): { N: Float64Array; D: Float64Array; loss: Float64Array } {
  const drop = integer(options<{ dropHighest?: number }>(opts, 'opts', RUNS_KEYS).dropHighest ?? 5, 'opts.dropHighest', { min: 0, max: Infinity });
  const { header, rows } = parseCsv(fs.readFileSync(CHINCHILLA_CSV, 'utf8'));
  const iN = header.indexOf('Model Size'), iC = header.indexOf('Training FLOP'), iL = header.indexOf('loss');
  const runs = rows.map((r) => {
    const N = Number(r[iN]);
    return { N, D: Number(r[iC]) / (6 * N), loss: Number(r[iL]) };
  });
  // Stable order by loss, then drop the highest (ties keep file order, as numpy's argsort would on these data).
  const order = runs.map((_, i) => i).sort((a, b) => runs[a]!.loss - runs[b]!.loss || a - b);
  const keep = order.slice(0, Math.max(0, order.length - drop));
  const out: ScalingData & { N: Float64Array; D: Float64Array; loss: Float64Array } = {
    N: new Float64Array(keep.length),
    D: new Float64Array(keep.length),
    loss: new Float64Array(keep.length),
  };
  keep.forEach((i, j) => {
    out.N[j] = runs[i]!.N;
    out.D[j] = runs[i]!.D;
    out.loss[j] = runs[i]!.loss;
  });
  return out;
}
