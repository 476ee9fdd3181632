/**
 * Closed forms: predictions, compute-optimal allocation, and the Kaplan/Su training-dynamics helpers.
 *
 * @packageDocumentation
 */
import type { NativePredictLaw } from '../runtime/addonTypes';
import { nativeFunction } from '../runtime/native';
import { object, optionKeys, options, rangeError, typeError } from '../runtime/validate';
import type { ChinchillaParams, ComputeOptimalResult, KaplanParams } from './types';
import { checkNumber, positiveColumn } from './validate';
import { type ComputeModel, checkCompute, computeOptimalWith } from './compute';

const COMPUTE_KEYS = optionKeys<{ compute?: ComputeModel }>({ compute: 1 });

const BATCH_KEYS = optionKeys<{ bStar?: number; alphaB?: number }>({ bStar: 1, alphaB: 1 });

function chinchillaVector(p: unknown, name: string): Float64Array {
  const o = object(p, name, '{ A, B, E, alpha, beta }');
  return new Float64Array([
    checkNumber(o.A, `${name}.A`, true),
    checkNumber(o.B, `${name}.B`, true),
    checkNumber(o.E, `${name}.E`, false),
    checkNumber(o.alpha, `${name}.alpha`, false),
    checkNumber(o.beta, `${name}.beta`, false),
  ]);
}

function lawOf(p: unknown, name: string): { law: NativePredictLaw; v: Float64Array } {
  if (p !== null && typeof p === 'object' && 'Nc' in p) {
    const o = p as Record<string, unknown>;
    return {
      law: 'kaplan-nd',
      v: new Float64Array([
        checkNumber(o.Nc, `${name}.Nc`, true),
        checkNumber(o.Dc, `${name}.Dc`, true),
        checkNumber(o.alphaN, `${name}.alphaN`, false),
        checkNumber(o.alphaD, `${name}.alphaD`, true),
      ]),
    };
  }
  return { law: 'chinchilla', v: chinchillaVector(p, name) };
}

/** Predicted loss at (N, D) for fitted Chinchilla or Kaplan parameters. */
export function predict(params: ChinchillaParams | KaplanParams, N: number, D: number): number;
/** Predicted losses, elementwise over N and D (same length). */
export function predict(
  params: ChinchillaParams | KaplanParams,
  N: Float64Array | readonly number[],
  D: Float64Array | readonly number[],
): Float64Array;
export function predict(
  params: ChinchillaParams | KaplanParams,
  N: number | Float64Array | readonly number[],
  D: number | Float64Array | readonly number[],
): number | Float64Array {
  const { law, v } = lawOf(params, 'params');
  const scalar = typeof N === 'number';
  if (scalar !== (typeof D === 'number')) throw typeError('N and D must both be numbers or both be arrays');
  const n = positiveColumn(scalar ? [N] : N, 'N');
  const d = positiveColumn(typeof D === 'number' ? [D] : D, 'D');
  if (n.length !== d.length) throw rangeError(`N and D must have the same length (got ${n.length} and ${d.length})`);
  const out = nativeFunction('cpu', 'scalingPredict')(law, v, n, d);
  return scalar ? out[0]! : out;
}

/** L(N, S_min) = (Nc/N)^αN + (Sc/S_min)^αS (Kaplan et al. 2020, eq. 1.6; Su et al. 2024). */
export interface KaplanStepsParams {
  /** N_c: parameter scale (parameters, > 0). */
  Nc: number;
  /** S_c: step scale (optimisation steps at the critical batch size, > 0). */
  Sc: number;
  /** α_N: exponent of the parameter term. */
  alphaN: number;
  /** α_S: exponent of the step term. */
  alphaS: number;
}

/** Loss after `steps` minimum steps S_min for a model of N parameters (Kaplan's L(N, S) form); elementwise for arrays. */
export function lossNS(params: KaplanStepsParams, N: number, steps: number): number;
export function lossNS(
  params: KaplanStepsParams,
  N: Float64Array | readonly number[],
  steps: Float64Array | readonly number[],
): Float64Array;
export function lossNS(
  params: KaplanStepsParams,
  N: number | Float64Array | readonly number[],
  steps: number | Float64Array | readonly number[],
): number | Float64Array {
  object(params, 'params', '{ Nc, Sc, alphaN, alphaS }');
  const v = new Float64Array([
    checkNumber(params.Nc, 'params.Nc', true),
    checkNumber(params.Sc, 'params.Sc', true),
    checkNumber(params.alphaN, 'params.alphaN', false),
    checkNumber(params.alphaS, 'params.alphaS', false),
  ]);
  const scalar = typeof N === 'number';
  if (scalar !== (typeof steps === 'number')) throw typeError('N and steps must both be numbers or both be arrays');
  const n = positiveColumn(typeof N === 'number' ? [N] : N, 'N');
  const s = positiveColumn(typeof steps === 'number' ? [steps] : steps, 'steps');
  if (n.length !== s.length) throw rangeError(`N and steps must have the same length (got ${n.length} and ${s.length})`);
  const out = nativeFunction('cpu', 'scalingPredict')('kaplan-steps', v, n, s);
  return scalar ? out[0]! : out;
}

/**
 * Compute-optimal allocation of a budget C (FLOPs) under C = 6ND: N_opt = G (C/6)^a, D_opt = G⁻¹ (C/6)^b with
 * G = (αA/(βB))^(1/(α+β)), a = β/(α+β), b = α/(α+β). Under another compute model (`opts.compute`, see
 * {@link ComputeModel}) N_opt minimises L(N, C/f(N)) numerically and a, b are the local exponents.
 */
export function computeOptimal(params: ChinchillaParams, C: number, opts: { compute?: ComputeModel } = {}): ComputeOptimalResult {
  const v = chinchillaVector(params, 'params');
  if (!(v[3]! > 0)) throw rangeError(`params.alpha must be > 0 (got ${v[3]})`);
  if (!(v[4]! > 0)) throw rangeError(`params.beta must be > 0 (got ${v[4]})`);
  checkNumber(C, 'C', true);
  const model = checkCompute(options<{ compute?: ComputeModel }>(opts, 'opts', COMPUTE_KEYS).compute);
  if (!model.sixND) {
    return computeOptimalWith({ A: v[0]!, B: v[1]!, E: v[2]!, alpha: v[3]!, beta: v[4]! }, C, model);
  }
  const r = nativeFunction('cpu', 'scalingComputeOptimal')(v, C);
  return { N: r.N, D: r.D, tokensPerParam: r.tokensPerParam, a: r.a, b: r.b };
}

/** Kaplan et al. (2020) fits on WebText2: B* ≈ 2·10⁸ tokens, α_B ≈ 0.21 (loss in nats). */
export const KAPLAN_BATCH = { bStar: 2e8, alphaB: 0.21 } as const;

/**
 * Critical batch size B_crit(L) = B* / L^(1/α_B) (Kaplan et al. 2020; Su et al. 2024). Defaults: {@link KAPLAN_BATCH}.
 */
export function criticalBatchSize(loss: number, opts: { bStar?: number; alphaB?: number } = {}): number {
  checkNumber(loss, 'loss', true);
  const o = options<{ bStar?: number; alphaB?: number }>(opts, 'opts', BATCH_KEYS);
  const bStar = checkNumber(o.bStar ?? KAPLAN_BATCH.bStar, 'opts.bStar', true);
  const alphaB = checkNumber(o.alphaB ?? KAPLAN_BATCH.alphaB, 'opts.alphaB', true);
  return nativeFunction('cpu', 'scalingTraining')('critical-batch-size', loss, bStar, alphaB);
}

/** Minimum steps S_min = S / (1 + B_crit/B) of a run that took `steps` steps at batch size B. */
export function minSteps(steps: number, batchSize: number, criticalBatch: number): number {
  checkNumber(steps, 'steps', true);
  checkNumber(batchSize, 'batchSize', true);
  checkNumber(criticalBatch, 'criticalBatchSize', true);
  return nativeFunction('cpu', 'scalingTraining')('min-steps', steps, batchSize, criticalBatch);
}

/** Minimum examples E_min = E / (1 + B/B_crit) of a run that processed E = B·S examples at batch size B. */
export function minExamples(examples: number, batchSize: number, criticalBatch: number): number {
  checkNumber(examples, 'examples', true);
  checkNumber(batchSize, 'batchSize', true);
  checkNumber(criticalBatch, 'criticalBatchSize', true);
  return nativeFunction('cpu', 'scalingTraining')('min-examples', examples, batchSize, criticalBatch);
}
