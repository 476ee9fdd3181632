/**
 * `scaling.fit`: multi-start L-BFGS over a start grid, optional bootstrap, progress and cancellation.
 *
 * @packageDocumentation
 */
import { withSignal } from '../runtime/abort';
import type { NativeBootstrapOptions, NativeFitResult } from '../runtime/addonTypes';
import { nativeFunction, resolveBackend } from '../runtime/native';
import { boolean, callback, deviceList, integer, number, oneOf, optionKeys, options, rangeError, seed as seedOf } from '../runtime/validate';
import type {
  BootstrapOptions,
  BootstrapSummary,
  CustomLaw,
  FitOptions,
  FitResult,
  FitStatus,
  ParamsOf,
  ScalingData,
  ScalingLaw,
  ScalingObjective,
} from './types';
import {
  buildGrid,
  checkConstraints,
  checkData,
  checkLaw,
  checkNumber,
  checkObjective,
  checkWeights,
  paramCount,
  type LawSpec,
} from './validate';

/** @internal Option keys of {@link fit} (the resampling wrappers accept them too). */
export const FIT_KEYS = optionKeys<FitOptions>({
  law: 1, objective: 1, bootstrapObjective: 1, fix: 1, tie: 1, bounds: 1, weights: 1, delta: 1, grid: 1,
  bootstrap: 1, maxIterations: 1, optimumRelTol: 1, backend: 1, signal: 1, onProgress: 1, tuning: 1, devices: 1,
});
const BOOTSTRAP_KEYS = optionKeys<BootstrapOptions>({ resamples: 1, seed: 1, gridPerResample: 1, compute: 1, level: 1 });

const PROGRESS_MS = 100;

function naturalParams(spec: LawSpec, theta: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  spec.names.forEach((name, j) => {
    out[name] = spec.log[j] ? Math.exp(theta[j]!) : theta[j]!;
  });
  return out;
}

/** Named warnings about inputs that leave parameters unidentified (see {@link FitResult.warnings}). */
function degeneracyWarnings(spec: LawSpec, cols: { N: Float64Array; D: Float64Array; U?: Float64Array }, theta: Float64Array): string[] {
  const w: string[] = [];
  const n = cols.N.length;
  const distinct = (a: Float64Array) => new Set(a).size;
  const readsN = spec.program ? spec.program.reads.N : true;
  const readsD = spec.program ? spec.program.reads.D : true;
  const nameN = spec.law === 'kaplan-nd' ? 'Nc and alphaN' : 'A and alpha';
  const nameD = spec.law === 'kaplan-nd' ? 'Dc and alphaD' : 'B and beta';
  if (readsN && distinct(cols.N) === 1) {
    w.push(`single-N: all ${n} runs have N = ${cols.N[0]}; ${spec.program ? 'the N terms' : nameN} are not separately identified`);
  }
  if (readsD && distinct(cols.D) === 1) {
    w.push(`single-D: all ${n} runs have D = ${cols.D[0]}; ${spec.program ? 'the D terms' : nameD} are not separately identified`);
  }
  if (readsN && readsD && distinct(cols.N) > 1) {
    const c0 = cols.N[0]! * cols.D[0]!;
    let one = true;
    for (let i = 1; i < n && one; i++) one = Math.abs(cols.N[i]! * cols.D[i]! - c0) <= 1e-9 * c0;
    if (one) {
      w.push(`single-budget: all ${n} runs are at one compute budget 6ND = ${6 * c0}, so ln N and ln D are collinear and the N and D terms are not separately identified`);
    } else if (distinct(cols.D) > 1) {
      const k = collinearSlope(cols.N, cols.D);
      if (k !== undefined) {
        w.push(`collinear-N-D: ln D = c + ${k.toPrecision(4)}·ln N on all ${n} runs (one line through the N-D plane), so the N and D terms are not separately identified`);
      }
    }
  }
  if (cols.U && (spec.law === 'data-constrained' || spec.program?.reads.U) && distinct(cols.U) === 1) {
    w.push(`single-U: all ${n} runs have U = ${cols.U[0]}`);
  }
  if (spec.law === 'data-constrained' && cols.U) {
    let rep = false, excess = false;
    const [a, b, , alpha, beta] = Array.from(theta);
    const lopt = (Math.log(alpha!) + a! - Math.log(beta!) - b!) / alpha!;
    for (let i = 0; i < n; i++) {
      if (cols.D[i]! > cols.U[i]!) rep = true;
      if (Math.log(cols.N[i]!) > lopt + (beta! / alpha!) * Math.log(cols.U[i]!)) excess = true;
    }
    if (!rep) w.push('no-repetition: no run repeats data (D ≤ U everywhere), so rdStar is not identified');
    if (!excess) w.push('no-excess-params: no run has N above the compute-optimal U_N for its unique tokens, so rnStar is not identified');
  }
  spec.names.forEach((name, j) => {
    const v = Math.exp(theta[j]!);
    if (spec.log[j] && Number.isFinite(theta[j]) && !(Number.isFinite(v) && v > 0)) {
      w.push(`overflow: ${name} = e^${theta[j]!.toPrecision(6)} is outside float64's range (${v}): the fit ran off along a flat direction`);
    }
  });
  return w;
}

/** The slope k when ln D = c + k·ln N holds on every run to 1e-9 of the spread of ln D (else undefined). */
function collinearSlope(N: Float64Array, D: Float64Array): number | undefined {
  const n = N.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) (mx += Math.log(N[i]!)), (my += Math.log(D[i]!));
  mx /= n;
  my /= n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.log(N[i]!) - mx, y = Math.log(D[i]!) - my;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  if (!(sxx > 0 && syy > 0)) return undefined;
  const k = sxy / sxx;
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(Math.log(D[i]!) - my - k * (Math.log(N[i]!) - mx)));
  return worst <= 1e-9 * Math.sqrt(syy / n) ? k : undefined;
}

function checkBootstrap(b: unknown, objective: ScalingObjective | undefined): NativeBootstrapOptions | undefined {
  if (b === undefined) return undefined;
  const o = options<BootstrapOptions>(b, 'opts.bootstrap', BOOTSTRAP_KEYS, true);
  return {
    resamples: integer(o.resamples, 'opts.bootstrap.resamples', { min: 0, max: 1e8 }),
    seed: seedOf(o.seed, 'opts.bootstrap.seed'),
    gridPerResample: boolean(o.gridPerResample ?? false, 'opts.bootstrap.gridPerResample'),
    compute: o.compute === undefined ? 5.76e23 : checkNumber(o.compute, 'opts.bootstrap.compute', true),
    level: number(o.level ?? 0.95, 'opts.bootstrap.level', { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    objective,
  };
}

function summarise(
  b: NonNullable<NativeFitResult['bootstrap']>,
  opts: { gridPerResample: boolean; compute: number; level: number },
  objective: ScalingObjective,
  spec: LawSpec,
): BootstrapSummary {
  const Q = b.names.length;
  // custom laws: the native side names parameters p0, p1, …
  const names = b.names.map((n) => (/^p\d+$/.test(n) && spec.program ? spec.names[Number(n.slice(1))]! : n));
  const s: BootstrapSummary = {
    resamples: b.resamples,
    failed: b.failed,
    converged: b.converged,
    gridPerResample: opts.gridPerResample,
    objective,
    compute: opts.compute,
    level: opts.level,
    mean: {},
    stdErr: {},
    intervals: {},
    samples: {},
  };
  names.forEach((name, q) => {
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
export async function fit(
  data: ScalingData,
  opts: FitOptions & { law: CustomLaw },
): Promise<FitResult<Record<string, number>>>;
export async function fit<L extends ScalingLaw = 'chinchilla'>(
  data: ScalingData,
  opts?: FitOptions<L>,
): Promise<FitResult<ParamsOf<L>>>;
export async function fit<L extends ScalingLaw = 'chinchilla'>(
  data: ScalingData,
  opts: FitOptions<L> = {},
): Promise<FitResult<ParamsOf<L>> | FitResult<Record<string, number>>> {
  const o = options<FitOptions<L>>(opts, 'opts', FIT_KEYS);
  const spec = checkLaw(o.law);
  const law = spec.law;
  const objectiveKind = checkObjective(o.objective);
  const bootObjective = o.bootstrapObjective === undefined ? undefined : oneOf(o.bootstrapObjective, 'opts.bootstrapObjective', ['huber', 'mse', 'huber-likelihood'] as const);
  const cons = checkConstraints(spec, o.fix, o.tie, o.bounds);
  const needU = law === 'data-constrained' || (spec.program?.reads.U ?? false);
  const cols = checkData(data, paramCount(spec, cons, objectiveKind), needU);
  if (law === 'data-constrained' && cols.U) {
    for (let i = 0; i < cols.U.length; i++) {
      if (cols.U[i]! > cols.D[i]!) {
        throw rangeError(`data.U[${i}] must be ≤ data.D[${i}]: a run cannot see more unique tokens than it trains on (got U ${cols.U[i]}, D ${cols.D[i]})`);
      }
    }
  }
  const weights = checkWeights(o.weights, cols.N.length);
  const delta = checkNumber(o.delta ?? 1e-3, 'opts.delta', true);
  const grid = buildGrid(o.grid, spec, cons);
  const maxIterations = integer(o.maxIterations ?? 1000, 'opts.maxIterations', { min: 1, max: 1e7 });
  const optimumRelTol = number(o.optimumRelTol ?? 1e-6, 'opts.optimumRelTol', { min: 0 });
  const boot = checkBootstrap(o.bootstrap, bootObjective);
  const onProgress = o.onProgress === undefined ? undefined : (callback(o.onProgress, 'opts.onProgress') as (done: number, total: number) => void);
  const devices = deviceList(o.devices);
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
        weights,
        map: cons.map,
        program: spec.program ? { code: spec.program.code, consts: spec.program.consts, params: spec.program.params } : undefined,
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
  const k = spec.names.length;
  const result: FitResult<ParamsOf<L>> = {
    law,
    objectiveKind,
    delta,
    params: naturalParams(spec, raw.theta) as unknown as ParamsOf<L>,
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
    warnings: degeneracyWarnings(spec, cols, raw.theta),
  };
  if (objectiveKind === 'huber-likelihood') result.sigma = raw.theta[k]!;
  if (raw.bootstrap && boot) result.bootstrap = summarise(raw.bootstrap, boot, bootObjective ?? objectiveKind, spec);
  return result;
}
