/**
 * `scaling.fit`: multi-start L-BFGS over a start grid, optional bootstrap, progress and cancellation.
 *
 * @packageDocumentation
 */
import { withSignal } from '../runtime/abort';
import type { NativeBootstrapOptions, NativeFitResult } from '../runtime/addonTypes';
import { nativeFunction, resolveBackend } from '../runtime/native';
import { boolean, callback, integer, invalidType, number, optionKeys, options, seed as seedOf } from '../runtime/validate';
import type {
  BootstrapOptions,
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
import { buildGrid, checkData, checkLaw, checkNumber, checkObjective, paramCount } from './validate';

/** @internal Option keys of {@link fit} (the resampling wrappers accept them too). */
export const FIT_KEYS = optionKeys<FitOptions>({
  law: 1, objective: 1, delta: 1, grid: 1, bootstrap: 1, maxIterations: 1, optimumRelTol: 1, backend: 1, signal: 1,
  onProgress: 1, tuning: 1, devices: 1,
});
const BOOTSTRAP_KEYS = optionKeys<BootstrapOptions>({ resamples: 1, seed: 1, gridPerResample: 1, compute: 1, level: 1 });

const PROGRESS_MS = 100;

function naturalParams(law: ScalingLaw, theta: Float64Array): ChinchillaParams | KaplanParams {
  if (law === 'chinchilla') {
    return { A: Math.exp(theta[0]!), B: Math.exp(theta[1]!), E: Math.exp(theta[2]!), alpha: theta[3]!, beta: theta[4]! };
  }
  return { Nc: Math.exp(theta[0]!), Dc: Math.exp(theta[1]!), alphaN: theta[2]!, alphaD: theta[3]! };
}

function checkDevices(d: unknown): number[] | undefined {
  if (d === undefined || d === 'all') return undefined;
  if (!Array.isArray(d) || d.length === 0) throw invalidType('opts.devices', "'all' or a non-empty array of device ordinals", d);
  return d.map((x: unknown, i) => integer(x, `opts.devices[${i}]`, { min: 0, max: 1023 }));
}

function checkBootstrap(b: unknown): NativeBootstrapOptions | undefined {
  if (b === undefined) return undefined;
  const o = options<BootstrapOptions>(b, 'opts.bootstrap', BOOTSTRAP_KEYS, true);
  return {
    resamples: integer(o.resamples, 'opts.bootstrap.resamples', { min: 0, max: 1e8 }),
    seed: seedOf(o.seed, 'opts.bootstrap.seed'),
    gridPerResample: boolean(o.gridPerResample ?? false, 'opts.bootstrap.gridPerResample'),
    compute: o.compute === undefined ? 5.76e23 : checkNumber(o.compute, 'opts.bootstrap.compute', true),
    level: number(o.level ?? 0.95, 'opts.bootstrap.level', { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
  };
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
  const o = options<FitOptions<L>>(opts, 'opts', FIT_KEYS);
  const law = checkLaw(o.law);
  const objectiveKind = checkObjective(o.objective);
  const cols = checkData(data, paramCount(law, objectiveKind));
  const delta = checkNumber(o.delta ?? 1e-3, 'opts.delta', true);
  const grid = buildGrid(o.grid, law);
  const maxIterations = integer(o.maxIterations ?? 1000, 'opts.maxIterations', { min: 1, max: 1e7 });
  const optimumRelTol = number(o.optimumRelTol ?? 1e-6, 'opts.optimumRelTol', { min: 0 });
  const boot = checkBootstrap(o.bootstrap);
  const onProgress = o.onProgress === undefined ? undefined : (callback(o.onProgress, 'opts.onProgress') as (done: number, total: number) => void);
  const devices = checkDevices(o.devices);
  const backend = resolveBackend(o.backend);
  const run = nativeFunction(backend, 'scalingFit');

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
    raw = await withSignal(o.signal, (cancel) =>
      run(cols, {
        law,
        objective: objectiveKind,
        delta,
        grid,
        maxIterations,
        optimumRelTol,
        bootstrap: boot,
        cancel,
        progress,
        backend,
        tuning: opts.tuning,
        ...(devices ? { devices } : {}),
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
