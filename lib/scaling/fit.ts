/**
 * `scaling.fit`: multi-start L-BFGS over a start grid, optional bootstrap, progress and cancellation.
 *
 * @packageDocumentation
 */
import { withSignal } from '../abort';
import { nativeFunction, resolveBackend } from '../native';
import type {
  BootstrapSummary,
  ChinchillaParams,
  FitOptions,
  FitResult,
  FitStatus,
  KaplanParams,
  ParamsOf,
  ScalingData,
  ScalingLaw,
} from './types';
import {
  LAW_CODE,
  OBJECTIVE_CODE,
  buildGrid,
  checkData,
  checkInteger,
  checkLaw,
  checkNumber,
  checkObjective,
  paramCount,
} from './validate';

interface NativeFitResult {
  theta: Float64Array;
  objective: number;
  bestStart: number;
  starts: number;
  startsAtOptimum: number;
  convergedStarts: number;
  evaluations: number;
  iterations: number;
  converged: boolean;
  status: FitStatus;
  bootstrap?: {
    names: string[];
    resamples: number;
    failed: number;
    converged: number;
    samples: Float64Array;
    mean: Float64Array;
    stdErr: Float64Array;
    lower: Float64Array;
    upper: Float64Array;
  };
}

type NativeFit = (data: { N: Float64Array; D: Float64Array; loss: Float64Array }, opts: object) => Promise<NativeFitResult>;

const PROGRESS_MS = 100;

function naturalParams(law: ScalingLaw, theta: Float64Array): ChinchillaParams | KaplanParams {
  if (law === 'chinchilla') {
    return { A: Math.exp(theta[0]!), B: Math.exp(theta[1]!), E: Math.exp(theta[2]!), alpha: theta[3]!, beta: theta[4]! };
  }
  return { Nc: Math.exp(theta[0]!), Dc: Math.exp(theta[1]!), alphaN: theta[2]!, alphaD: theta[3]! };
}

function checkBootstrap(b: unknown): { resamples: number; seed: bigint; gridPerResample: boolean; compute: number; level: number } | undefined {
  if (b === undefined) return undefined;
  if (b === null || typeof b !== 'object') throw new TypeError('opts.bootstrap must be an object { resamples, seed }');
  const o = b as Record<string, unknown>;
  const resamples = checkInteger(o.resamples, 'opts.bootstrap.resamples', 0, 1e8);
  let seed: bigint;
  if (typeof o.seed === 'bigint') seed = o.seed;
  else if (typeof o.seed === 'number' && Number.isSafeInteger(o.seed)) seed = BigInt(o.seed);
  else throw new TypeError('opts.bootstrap.seed must be an integer number or a bigint');
  if (seed < 0n || seed >= 1n << 64n) throw new RangeError('opts.bootstrap.seed must be in [0, 2^64)');
  const gridPerResample = o.gridPerResample ?? false;
  if (typeof gridPerResample !== 'boolean') throw new TypeError('opts.bootstrap.gridPerResample must be a boolean');
  const compute = o.compute === undefined ? 5.76e23 : checkNumber(o.compute, 'opts.bootstrap.compute', true);
  const level = o.level === undefined ? 0.95 : checkNumber(o.level, 'opts.bootstrap.level', true);
  if (!(level < 1)) throw new RangeError(`opts.bootstrap.level must be in (0, 1) (got ${level})`);
  return { resamples, seed, gridPerResample, compute, level };
}

function summarise(
  b: NonNullable<NativeFitResult['bootstrap']>,
  opts: { gridPerResample: boolean; compute: number; level: number },
): BootstrapSummary {
  const Q = b.names.length;
  const s: BootstrapSummary = {
    resamples: b.resamples,
    failed: b.failed,
    converged: b.converged,
    gridPerResample: opts.gridPerResample,
    compute: opts.compute,
    level: opts.level,
    mean: {},
    stdErr: {},
    intervals: {},
    samples: {},
  };
  b.names.forEach((name, q) => {
    s.mean[name] = b.mean[q]!;
    s.stdErr[name] = b.stdErr[q]!;
    s.intervals[name] = [b.lower[q]!, b.upper[q]!];
    const col = new Float64Array(b.resamples);
    for (let r = 0; r < b.resamples; r++) col[r] = b.samples[r * Q + q]!;
    s.samples[name] = col;
  });
  return s;
}

/**
 * Fits a scaling law to training runs: L-BFGS (analytic gradients, float64) from every start of a grid — by
 * default the 4500-point grid of Hoffmann et al. (2022) — keeping the best; optionally bootstraps the runs.
 *
 * Chinchilla's law is fitted in the log-sum-exp parameterisation log L̂ = LSE(a − α ln N, b − β ln D, e) on log
 * residuals, with Huber δ = 1e-3 summed over runs by default.
 *
 * @example
 * ```ts
 * const r = await scaling.fit({ N, D, loss });
 * r.params; // { A, B, E, alpha, beta }
 * const b = await scaling.fit({ N, D, loss }, { bootstrap: { resamples: 1000, seed: 1 } });
 * b.bootstrap!.intervals.tokensPerParam;
 * ```
 */
export async function fit<L extends ScalingLaw = 'chinchilla'>(
  data: ScalingData,
  opts: FitOptions<L> = {},
): Promise<FitResult<ParamsOf<L>>> {
  if (opts === null || typeof opts !== 'object') throw new TypeError('opts must be an object');
  const law = checkLaw(opts.law);
  const objectiveKind = checkObjective(opts.objective);
  const cols = checkData(data, paramCount(law, objectiveKind));
  const delta = opts.delta === undefined ? 1e-3 : checkNumber(opts.delta, 'opts.delta', true);
  const grid = buildGrid(opts.grid, law);
  const maxIterations = opts.maxIterations === undefined ? 1000 : checkInteger(opts.maxIterations, 'opts.maxIterations', 1, 1e7);
  const optimumRelTol = opts.optimumRelTol === undefined ? 1e-6 : checkNumber(opts.optimumRelTol, 'opts.optimumRelTol', false);
  if (optimumRelTol < 0) throw new RangeError(`opts.optimumRelTol must be >= 0 (got ${optimumRelTol})`);
  const boot = checkBootstrap(opts.bootstrap);
  const onProgress = opts.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('opts.onProgress must be a function');
  const backend = resolveBackend(opts.backend);
  const run = nativeFunction<NativeFit>(backend, 'scalingFit');

  const progress = new Float64Array(2);
  let lastDone = -1;
  const report = () => {
    const done = progress[0]!;
    if (onProgress && progress[1]! > 0 && done !== lastDone) {
      lastDone = done;
      onProgress(done, progress[1]!);
    }
  };
  const timer = onProgress ? setInterval(report, PROGRESS_MS) : undefined;
  let raw: NativeFitResult;
  try {
    raw = await withSignal(opts.signal, (cancel) =>
      run(cols, {
        law: LAW_CODE[law],
        objective: OBJECTIVE_CODE[objectiveKind],
        delta,
        grid,
        maxIterations,
        optimumRelTol,
        bootstrap: boot,
        cancel,
        progress,
        backend,
        tuning: opts.tuning,
      }),
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  report();
  const k = law === 'chinchilla' ? 5 : 4;
  const result: FitResult<ParamsOf<L>> = {
    law,
    objectiveKind,
    delta,
    params: naturalParams(law, raw.theta) as ParamsOf<L>,
    theta: raw.theta,
    objective: raw.objective,
    runs: cols.N.length,
    starts: raw.starts,
    startsAtOptimum: raw.startsAtOptimum,
    convergedStarts: raw.convergedStarts,
    bestStart: raw.bestStart,
    iterations: raw.iterations,
    evaluations: raw.evaluations,
    converged: raw.converged,
    status: raw.status,
  };
  if (objectiveKind === 'huber-likelihood') result.sigma = raw.theta[k]!;
  if (raw.bootstrap && boot) result.bootstrap = summarise(raw.bootstrap, boot);
  return result;
}
