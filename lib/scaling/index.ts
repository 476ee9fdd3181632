/**
 * Scaling-law fitting (docs/scaling-laws.md): Chinchilla approach 3 and the Huber likelihood of Besiroglu et al.,
 * Kaplan's L(N, D), bootstrap uncertainty, compute-optimal allocation and training-dynamics helpers; Hoffmann et
 * al.'s approaches 1 and 2, diagnostics and tests against other parameter sets, subsets, compute models and
 * resampling schemes.
 *
 * @packageDocumentation
 */
export { fit } from './fit';
export { predict, lossNS, computeOptimal, criticalBatchSize, minSteps, minExamples, KAPLAN_BATCH } from './formulas';
export type { KaplanStepsParams } from './formulas';
export { chinchillaRuns, parseCsv, CHINCHILLA_CSV } from './data';
export type { CsvTable, CsvDelimiter, ParseCsvOptions } from './data';
export { isoflopApproach, minLossFrontier, isoflopApproach as approach2, minLossFrontier as approach1 } from './approaches';
export type { ApproachResult, CurveData, IsoflopData, FrontierOptions, IsoflopOptions, IsoflopProfile, PowerLawFit } from './approaches';
export { diagnostics, parameterTest, likelihoodRatioTest } from './diagnostics';
export type {
  ChiSquareTest,
  DiagnosticWarningName,
  Diagnostics,
  DiagnosticsOptions,
  LikelihoodRatioResult,
  ParameterTestResult,
} from './diagnostics';
export { subset, parseWhere } from './subset';
export type { DroppedRun, Row, SubsetOptions, SubsetResult, WhereExpr } from './subset';
export { trainingFlops } from './compute';
export type { ComputeModel } from './compute';
export { resampleFit } from './resample';
export type { ResampleFitOptions, ResampleFitResult, ResampleScheme, ResampleSummary } from './resample';
export { tableFromCsv, isoflopRuns, ISOFLOP_CSV } from './table';
export type { Cell, Column, IsoflopTable, RunTable } from './table';
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
