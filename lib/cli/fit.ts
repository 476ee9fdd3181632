/**
 * `lengthwise fit runs.csv`: fit a scaling law to a CSV of training runs, with optional bootstrap and SVG plot;
 * and the scaling part of `lengthwise demo`.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import type { BackendChoice } from '../runtime/native';
import { fit } from '../scaling/fit';
import { computeOptimal } from '../scaling/formulas';
import { chinchillaRuns, parseCsv } from '../scaling/data';
import type { FitResult, ScalingLaw, ScalingObjective } from '../scaling/types';
import { ProgressBar } from './progress';
import { UsageError } from './usage';

const HELP = `usage: lengthwise fit runs.csv [options]

Fits a scaling law to training runs (one row per run) by L-BFGS from every start of a grid (default: the
4500-point grid of Hoffmann et al. 2022), optionally with bootstrap uncertainty, and prints a table.

columns (case-insensitive; defaults are tried in order)
  --n-col NAME           parameters N          (N, params, parameters, model size, model_size, n_params)
  --d-col NAME           training tokens D     (D, tokens, n_tokens, data)
  --c-col NAME           training compute C in FLOPs, used when there is no D column: D = C / (6N)
                         (C, flops, compute, training flop, budget)
  --loss-col NAME        final loss            (loss, val_loss, final_loss, L)
rows
  --filter COL=VALUE     keep rows whose COL equals VALUE (repeatable)
  --drop-outliers SPEC   K: drop the K highest losses; COL: drop rows whose COL is true/1/yes
                         (e.g. an "outlier" column); both may be given, comma-separated ("5,outlier")
fit
  --law L                chinchilla (default) | kaplan-nd
  --objective O          huber (default) | mse | huber-likelihood
  --delta X              Huber threshold (default 1e-3)
  --bootstrap N          N resamples of the runs (with replacement); --seed S (default 0),
                         --grid-per-resample (refit every resample from the whole grid), --compute C
                         (budget for the compute-optimal quantities, default 5.76e23), --level P (default 0.95)
  --backend B            cpu | cuda | auto
output
  --plot FILE            figure (7.0 x 3.0 in): iso-loss contours with the runs and the compute-optimal frontier
                         (with its bootstrap band under --bootstrap), loss vs compute with residuals; FILE ends in
                         .svg, or .png (needs the optional renderer: npm install @resvg/resvg-js)
  --title TEXT           the figure's title (default: law, objective, runs and the input's file name)
  --json                 print JSON instead of a table
`;

type Flags = Record<string, string | true> & { filter?: string[] };

const VALUED = new Set(['n-col', 'd-col', 'c-col', 'loss-col', 'filter', 'drop-outliers', 'law', 'objective', 'delta',
  'bootstrap', 'seed', 'compute', 'level', 'backend', 'plot', 'title']);
const BOOLEAN = new Set(['json', 'help', 'grid-per-resample']);

function parseArgs(argv: string[]): { file?: string; flags: Record<string, string | true>; filters: string[] } {
  const flags: Record<string, string | true> = {};
  const filters: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      if (file !== undefined) throw new UsageError(`unexpected argument '${a}' (one CSV file)`);
      file = a;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (BOOLEAN.has(name)) flags[name] = true;
    else if (VALUED.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      if (name === 'filter') filters.push(v);
      else flags[name] = v;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { file, flags, filters };
}

function num(flags: Record<string, string | true>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number (got '${String(v)}')`);
  return x;
}

function findColumn(header: string[], given: string | true | undefined, defaults: string[], what: string, required: boolean): number {
  const lower = header.map((h) => h.toLowerCase());
  if (typeof given === 'string') {
    const i = lower.indexOf(given.toLowerCase());
    if (i < 0) throw new UsageError(`no column '${given}' for ${what} (columns: ${header.join(', ')})`);
    return i;
  }
  for (const d of defaults) {
    const i = lower.indexOf(d);
    if (i >= 0) return i;
  }
  if (required) throw new UsageError(`no column for ${what}; name it with an option (columns: ${header.join(', ')})`);
  return -1;
}

const TRUTHY = new Set(['true', '1', 'yes', 'y', 't']);

/** Runs from CSV text, with the column mapping, filters and outlier rules of the command line. */
export function runsFromCsv(
  text: string,
  flags: Record<string, string | true>,
  filters: string[] = [],
): { N: Float64Array; D: Float64Array; loss: Float64Array; dropped: number; total: number } {
  const { header, rows } = parseCsv(text);
  if (rows.length === 0) throw new UsageError('the CSV has no data rows');
  const iN = findColumn(header, flags['n-col'], ['n', 'params', 'parameters', 'model size', 'model_size', 'n_params'], 'N (--n-col)', true);
  const iD = findColumn(header, flags['d-col'], ['d', 'tokens', 'n_tokens', 'data'], 'D (--d-col)', false);
  const iC = iD >= 0 && flags['c-col'] === undefined ? -1
    : findColumn(header, flags['c-col'], ['c', 'flops', 'compute', 'training flop', 'budget'], 'D (--d-col) or compute (--c-col)', true);
  const iL = findColumn(header, flags['loss-col'], ['loss', 'val_loss', 'final_loss', 'l'], 'the loss (--loss-col)', true);
  const conds = filters.map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`--filter must be COL=VALUE (got '${f}')`);
    return { col: findColumn(header, f.slice(0, eq), [], `--filter ${f}`, true), value: f.slice(eq + 1) };
  });
  let dropHighest = 0;
  let outlierCol = -1;
  const spec = flags['drop-outliers'];
  if (typeof spec === 'string') {
    for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(part)) dropHighest = Number(part);
      else outlierCol = findColumn(header, part, [], `--drop-outliers ${part}`, true);
    }
  }
  const kept: { N: number; D: number; loss: number }[] = [];
  rows.forEach((r, k) => {
    if (conds.some((c) => (r[c.col] ?? '').trim() !== c.value)) return;
    if (outlierCol >= 0 && TRUTHY.has((r[outlierCol] ?? '').trim().toLowerCase())) return;
    const cell = (i: number, what: string) => {
      const s = (r[i] ?? '').trim();
      const x = Number(s);
      if (s === '' || !Number.isFinite(x) || !(x > 0)) {
        throw new UsageError(`row ${k + 2}: ${what} '${s}' (column ${header[i]}) must be a number > 0`);
      }
      return x;
    };
    const N = cell(iN, 'N');
    const D = iD >= 0 && iC < 0 ? cell(iD, 'D') : cell(iC, 'compute') / (6 * N);
    kept.push({ N, D, loss: cell(iL, 'loss') });
  });
  const afterFilters = kept.length;
  if (dropHighest > 0) {
    const order = kept.map((_, i) => i).sort((a, b) => kept[a]!.loss - kept[b]!.loss || a - b);
    const keep = new Set(order.slice(0, Math.max(0, kept.length - dropHighest)));
    for (let i = kept.length - 1; i >= 0; i--) if (!keep.has(i)) kept.splice(i, 1);
  }
  return {
    N: Float64Array.from(kept, (r) => r.N),
    D: Float64Array.from(kept, (r) => r.D),
    loss: Float64Array.from(kept, (r) => r.loss),
    dropped: rows.length - afterFilters + (afterFilters - kept.length),
    total: rows.length,
  };
}

const fmt = (x: number | undefined, digits = 5) => (x === undefined || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits - 1) : Number(x.toPrecision(digits)).toString());

/** A readable table of a fit (and its bootstrap). */
export function fitTable(r: FitResult, compute = 5.76e23): string {
  const b = r.bootstrap;
  const lines: string[] = [];
  const names = Object.keys(r.params) as string[];
  const values: Record<string, number> = { ...(r.params as unknown as Record<string, number>) };
  if (r.sigma !== undefined) {
    names.push('sigma');
    values.sigma = r.sigma;
  }
  let opt: ReturnType<typeof computeOptimal> | undefined;
  if ('A' in r.params && r.params.alpha > 0 && r.params.beta > 0) {
    opt = computeOptimal(r.params, b?.compute ?? compute);
    names.push('a', 'tokensPerParam');
    values.a = opt.a;
    values.tokensPerParam = opt.tokensPerParam;
  }
  const level = b ? `${Math.round(b.level * 100)}% interval` : '';
  lines.push(`  ${'parameter'.padEnd(15)} ${'estimate'.padStart(12)}${b ? ` ${'std err'.padStart(11)}   ${level}` : ''}`);
  for (const k of names) {
    let line = `  ${k.padEnd(15)} ${fmt(values[k]).padStart(12)}`;
    if (b && b.stdErr[k] !== undefined) {
      const [lo, hi] = b.intervals[k]!;
      line += ` ${fmt(b.stdErr[k], 3).padStart(11)}   [${fmt(lo)}, ${fmt(hi)}]`;
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

function pick<T extends string>(v: string | true | undefined, allowed: readonly T[], name: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** `lengthwise fit …`; returns the exit code. */
export async function runFit(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
    if (parsed.flags.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!parsed.file) throw new UsageError('missing runs.csv');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lengthwise fit: ${e.message}\n${HELP}`);
      return 2;
    }
    throw e;
  }
  const { file, flags, filters } = parsed;
  try {
    const law = pick<ScalingLaw>(flags.law, ['chinchilla', 'kaplan-nd'], 'law') ?? 'chinchilla';
    const objective = pick<ScalingObjective>(flags.objective, ['huber', 'mse', 'huber-likelihood'], 'objective') ?? 'huber';
    const backend = pick<BackendChoice>(flags.backend, ['cpu', 'cuda', 'auto'], 'backend');
    const resamples = num(flags, 'bootstrap');
    const seed = num(flags, 'seed') ?? 0;
    const compute = num(flags, 'compute');
    const level = num(flags, 'level');
    if (flags.plot === true) throw new UsageError('--plot needs a file name');
    let plot: typeof import('./fitPlot') | undefined;
    if (typeof flags.plot === 'string') {
      plot = await import('./fitPlot');
      try {
        // before the fit: an unknown extension or a missing PNG renderer fails at once
        if (plot.plotFormat(flags.plot) === 'png') plot.loadResvg();
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    }
    let text: string;
    try {
      text = fs.readFileSync(file!, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const runs = runsFromCsv(text, flags, filters);
    const bar = new ProgressBar('fitting');
    const t0 = Date.now();
    const r = await fit(runs, {
      law,
      objective,
      delta: num(flags, 'delta'),
      backend,
      bootstrap: resamples === undefined ? undefined : {
        resamples, seed, gridPerResample: flags['grid-per-resample'] === true, compute, level,
      },
      onProgress: (d, t) => bar.update(d, t),
    });
    const seconds = (Date.now() - t0) / 1000;
    bar.done(`${seconds.toFixed(2)} s`);
    if (plot && typeof flags.plot === 'string') {
      const title = typeof flags.title === 'string' ? flags.title : plot.defaultPlotTitle(law, objective, runs.N.length, file!);
      plot.writeFitPlot(flags.plot, runs, r, title);
    }
    if (flags.json) {
      const out: Record<string, unknown> = {
        file, runs: runs.N.length, dropped: runs.dropped, law, objective, delta: r.delta, params: r.params,
        sigma: r.sigma, theta: Array.from(r.theta), objectiveValue: r.objective, starts: r.starts,
        startsAtOptimum: r.startsAtOptimum, convergedStarts: r.convergedStarts, bestStart: r.bestStart,
        iterations: r.iterations, evaluations: r.evaluations, converged: r.converged, status: r.status, seconds,
      };
      if ('A' in r.params && r.params.alpha > 0 && r.params.beta > 0) {
        out.computeOptimal = { C: r.bootstrap?.compute ?? compute ?? 5.76e23, ...computeOptimal(r.params, r.bootstrap?.compute ?? compute ?? 5.76e23) };
      }
      if (r.bootstrap) {
        const { samples: _samples, ...summary } = r.bootstrap;
        out.bootstrap = summary;
      }
      if (typeof flags.plot === 'string') out.plot = flags.plot;
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      process.stdout.write(
        `lengthwise fit: ${runs.N.length} runs from ${file}${runs.dropped ? ` (${runs.dropped} dropped)` : ''}, law ${law}, ` +
          `${r.starts} starts, ${seconds.toFixed(2)} s\n${fitTable(r, compute)}\n` +
          (typeof flags.plot === 'string' ? `  plot: ${flags.plot}\n` : ''),
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError || e instanceof TypeError) {
      process.stderr.write(`lengthwise fit: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
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
