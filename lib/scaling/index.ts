/**
 * Scaling-law fitting (docs/scaling-laws.md): Chinchilla approach 3 and the Huber likelihood of Besiroglu et al.,
 * Kaplan's L(N, D), bootstrap uncertainty, compute-optimal allocation and training-dynamics helpers.
 *
 * @packageDocumentation
 */
export { fit } from './fit';
export { predict, lossNS, computeOptimal, criticalBatchSize, minSteps, minExamples, KAPLAN_BATCH } from './formulas';
export type { KaplanStepsParams } from './formulas';
export { chinchillaRuns, parseCsv, CHINCHILLA_CSV } from './data';
export type { CsvTable, CsvDelimiter, ParseCsvOptions } from './data';
export type {
  BootstrapOptions,
  BootstrapSummary,
  ChinchillaParams,
  ComputeOptimalResult,
  FitOptions,
  FitResult,
  FitStatus,
  GridSpec,
  KaplanParams,
  ParamsOf,
  ScalingData,
  ScalingLaw,
  ScalingObjective,
} from './types';
