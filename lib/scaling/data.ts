/**
 * Run tables: a small CSV reader and the bundled Chinchilla table (data/scaling/, provenance in its README).
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ScalingData } from './types';
import { integer, invalidType, optionKeys, options } from '../runtime/validate';

const RUNS_KEYS = optionKeys<{ dropHighest?: number }>({ dropHighest: 1 });

/** Rows of a CSV text (RFC 4180 quoting; the first row is the header). */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  if (typeof text !== 'string') throw invalidType('text', 'a string (CSV contents)', text);
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += c;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const header = (records.shift() ?? []).map((h) => h.trim());
  return { header, rows: records };
}

/** Path of the bundled Chinchilla table. */
export const CHINCHILLA_CSV = path.join(__dirname, '..', '..', 'data', 'scaling', 'chinchilla_epoch_svg_extracted.csv');

/** Path of the bundled datablations fit table (182 runs of Muennighoff et al. 2023; provenance in data/scaling/README.md). */
export const DATABLATIONS_CSV = path.join(__dirname, '..', '..', 'data', 'scaling', 'datablations_fit_runs.csv');

/**
 * The 182 runs of Muennighoff et al. (2023) that their parametric fit uses (utils/parametric_fit.ipynb of
 * huggingface/datablations): N = params, D = tokens, U = unique tokens, loss = validation loss.
 */
export function datablationsRuns(): { N: Float64Array; D: Float64Array; U: Float64Array; loss: Float64Array } {
  const { header, rows } = parseCsv(fs.readFileSync(DATABLATIONS_CSV, 'utf8'));
  const col = (name: string) => {
    const j = header.indexOf(name);
    return Float64Array.from(rows, (r) => Number(r[j]));
  };
  return { N: col('params'), D: col('tokens'), U: col('unique_tokens'), loss: col('val_loss') };
}

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
