/**
 * @internal The whole native surface in one place (node-llama-cpp's `AddonTypes.ts` is the model): every function
 * and class the addon exports (`native/addon/*.cc`, `LW_EXPORT_FUNCTION`), with the argument and result types
 * the TypeScript layer sends and receives. Capabilities reach functions through `nativeFunction(backend, name)`,
 * which is typed by this declaration, so renaming or re-typing a native function fails `tsc` at every caller.
 *
 * Conventions of the boundary: options objects carry every key the addon reads (defaults live in the TS
 * signatures only), enums cross by name (`'sample'`, `'bfloat16'`, `'kaplan-nd'` …), seeds cross as bigint.
 *
 * @packageDocumentation
 */
import type { NativeCudaReport } from './gpuReport';
import type { LogitsDType } from '../logits';
import type { NativeTuning } from './native';
import type { LogitStatsOut, LogitStatsResult } from '../logitStats';
import type { ComputeOptimalResult, FitStatus, ScalingLaw, ScalingObjective } from '../scaling/types';
import type { DraftKind, NativeProcessing } from '../tree/sampling';
import type { NativeStreams } from '../tree/streams';
import type { TreeBatch } from '../tree/types';
import type { VerifyTreeResult } from '../tree/verify';
import type { Xl3mMetric, Xl3mPooling } from '../xl3m/score';

/** The backend a call was resolved to (what the addon's `opts.backend` receives). */
export type NativeBackend = 'cpu' | 'cuda';

/** A native DeviceBuffer (class `DeviceBuffer`, `native/addon/device_buffer.cc`). */
export interface NativeDeviceBuffer {
  readonly byteLength: number;
  readonly device: number;
  readonly disposed: boolean;
  dispose(): void;
  download(): Promise<ArrayBuffer>;
}

/** Logits as the addon's `logits()` unpacker reads them (`native/addon/unpack.cc`). */
export interface NativeLogitsArg {
  data: Float32Array | Uint16Array | NativeDeviceBuffer;
  dtype: LogitsDType;
  rows: number;
  vocab: number;
}

/**
 * An Int32Array(1) the native code polls, set by an AbortSignal listener (lib/runtime/abort.ts); undefined when
 * the call has no signal (nothing could set it).
 */
export type CancelFlag = Int32Array | undefined;

/** `logitStats` options. */
export interface NativeLogitStatsOptions {
  targets: Int32Array | undefined;
  temperature: number;
  backend: NativeBackend;
  cancel: CancelFlag;
  tuning?: NativeTuning;
  /** Run on the JS thread (no worker hop). */
  sync?: boolean;
  /** Caller-provided result columns (validated by logitStats), written in place and returned. */
  out?: LogitStatsOut;
}

/** `xl3mScore` / `xl3mPush` options (the push-only keys are absent for a one-shot score). */
export interface NativeXl3mOptions {
  segments: number;
  positions: number;
  metric: Xl3mMetric;
  pooling: Xl3mPooling;
  targets: Int32Array | undefined;
  temperature: number;
  backend: NativeBackend;
  cancel: CancelFlag;
  tuning?: NativeTuning;
  /** CUDA devices to split host logits over (absent: every visible one, for large calls). */
  devices?: number[];
}

/** `xl3mPush` options: the chunk's first global row and the O(segments) state it folds into. */
export interface NativeXl3mPushOptions extends NativeXl3mOptions {
  rowOffset: number;
  state: Float64Array;
}

/** `xl3mFinish` options. */
export interface NativeXl3mFinishOptions {
  segments: number;
  positions: number;
  pooling: Xl3mPooling;
}

/** `scalingFit` bootstrap options (all keys required but `objective`: undefined = the point objective). */
export interface NativeBootstrapOptions {
  resamples: number;
  seed: bigint;
  gridPerResample: boolean;
  compute: number;
  level: number;
  objective?: ScalingObjective;
}

/**
 * `scalingFit` constraint map (core/scaling/model.h ParamMap): per law parameter j, src[j] = index of its free
 * parameter (−1 = fixed at fixed[j], raw units); per free parameter r, kind[r] = 0 free, 1 [lo, hi], 2 [lo, ∞),
 * 3 (−∞, hi] (raw units).
 */
export interface NativeParamMap {
  src: Int32Array;
  fixed: Float64Array;
  kind: Int32Array;
  lo: Float64Array;
  hi: Float64Array;
}

/** `scalingFit` custom-law bytecode (lib/scaling/expression.ts). */
export interface NativeProgram {
  code: Int32Array;
  consts: Float64Array;
  params: number;
}

/** `scalingFit` options (all keys required; `grid` undefined = the native default grid). */
export interface NativeFitOptions {
  law: ScalingLaw | 'custom';
  objective: ScalingObjective;
  weights: Float64Array | undefined;
  map: NativeParamMap | undefined;
  program: NativeProgram | undefined;
  delta: number;
  grid: Float64Array | undefined;
  maxIterations: number;
  optimumRelTol: number;
  bootstrap: NativeBootstrapOptions | undefined;
  cancel: CancelFlag;
  progress: Float64Array;
  backend: NativeBackend;
  tuning?: NativeTuning;
  /** CUDA devices to split a bootstrap over (absent: every visible one, for large bootstraps). */
  devices?: number[];
}

/** `scalingFit` result. */
export interface NativeFitResult {
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

/** Closed-form laws of `scalingPredict`: Chinchilla, Kaplan L(N, D), Kaplan L(N, S_min) (D holds steps). */
export type NativePredictLaw = 'chinchilla' | 'kaplan-nd' | 'kaplan-steps' | 'data-constrained';
/** Training-dynamics formulas of `scalingTraining`. */
export type NativeTrainingFormula = 'critical-batch-size' | 'min-steps' | 'min-examples';

/** `verifyTree` options: the processing knobs (lib/tree/sampling.ts), the draft kind and the random streams. */
export interface NativeVerifyTreeOptions extends NativeProcessing, NativeStreams {
  drafts: DraftKind;
  draft?: NativeLogitsArg;
  /** Accepted-draft cap, one or one per tree (absent: none); checked >= 0 in lib/tree/verify.ts. */
  maxAccepted?: number | Int32Array;
  cancel: CancelFlag;
  backend: NativeBackend;
  tuning?: NativeTuning;
  /** Run on the JS thread (no worker hop). */
  sync?: boolean;
}

/** `treeUtils` options: the same processing knobs and draft kind (`eta` only for gtoReward). */
export interface NativeTreeUtilsOptions extends NativeProcessing {
  eta?: number;
  drafts: DraftKind;
  draft?: NativeLogitsArg;
  cancel: CancelFlag;
}

/** `treeUtils` result. */
export interface NativeTreeUtilsResult {
  expected: Float64Array;
  reward?: Float64Array;
  nodeProb: Float64Array;
}

/** `multidraftOptimal` options. */
export interface NativeMultidraftOptions {
  replacement: boolean;
  bounds?: boolean;
  cancel: CancelFlag;
}

/** Every function the addon exports, by its export name. */
export interface AddonFunctions {
  // info.cc
  info(): { threads: number; simd: string; version: string; cuda: boolean };
  /** The CUDA runtime's view of the machine (the CPU build reports no runtime); lib/runtime/gpuReport.ts reads it. */
  cudaReport(): NativeCudaReport;
  // device_buffer.cc
  devices(): {
    compiled: boolean;
    status: string;
    devices: { name: string; memoryBytes: number; computeCapability: string }[];
  };
  deviceUpload(
    data: Float32Array | Uint16Array | Int32Array | Float64Array | Uint8Array,
    device: number,
  ): Promise<NativeDeviceBuffer>;
  deviceWrap(pointer: bigint, byteLength: number, device: number): NativeDeviceBuffer;
  devicePointer(buffer: NativeDeviceBuffer): bigint;
  // logit_stats.cc
  logitStats(logits: NativeLogitsArg, opts: NativeLogitStatsOptions): Promise<LogitStatsResult>;
  // xl3m.cc
  xl3mScore(logits: NativeLogitsArg, opts: NativeXl3mOptions): Promise<Float32Array>;
  xl3mPush(logits: NativeLogitsArg, opts: NativeXl3mPushOptions): Promise<void>;
  xl3mInit(segments: number): Float64Array;
  xl3mFinish(state: Float64Array, opts: NativeXl3mFinishOptions): Float32Array;
  // scaling.cc
  scalingFit(
    data: { N: Float64Array; D: Float64Array; loss: Float64Array; U?: Float64Array },
    opts: NativeFitOptions,
  ): Promise<NativeFitResult>;
  scalingPredict(law: NativePredictLaw, params: Float64Array, N: Float64Array, D: Float64Array, U?: Float64Array): Float64Array;
  scalingComputeOptimal(params: Float64Array, C: number): ComputeOptimalResult & { G: number };
  scalingTraining(formula: NativeTrainingFormula, x: number, p1: number, p2: number): number;
  // tree_verify.cc
  verifyTree(trees: TreeBatch, target: NativeLogitsArg, opts: NativeVerifyTreeOptions): Promise<VerifyTreeResult>;
  // tree_utils.cc
  treeUtils(trees: TreeBatch, target: NativeLogitsArg, opts: NativeTreeUtilsOptions): Promise<NativeTreeUtilsResult>;
  multidraftOptimal(
    p: Float64Array,
    q: Float64Array,
    n: number,
    opts: NativeMultidraftOptions,
  ): Promise<{ lower: number; upper: number }>;
  /** Test-only: the core float64 processed distribution p_v (core/processed_distribution.cc). */
  _processedDistribution(z: Float64Array, opts: NativeProcessing): Float64Array;
  // bench.cc (benchmark-only)
  _benchReadMemory(data: ArrayBufferView): number;
  /** Host phase marks [name, steady-clock ns] since the last read (LENGTHWISE_HOST_TIMING=1; else empty). */
  _hostTimings(): Array<[string, number]>;
}

/** Benchmark hooks (`bench.cc`); the CPU build exports them too and says it has no CUDA backend. */
export interface CudaOnlyFunctions {
  _benchCopy(bytes: number, iterations: number, device: number): Float64Array;
  _benchLogitStats(logits: NativeLogitsArg, opts: { targets?: Int32Array; temperature?: number }, iterations: number): Float64Array;
}

/** The loaded addon module: every function, plus the DeviceBuffer class and the CUDA-only benchmark hooks. */
export type AddonModule = AddonFunctions &
  Partial<CudaOnlyFunctions> & {
    DeviceBuffer: abstract new () => NativeDeviceBuffer;
  };

/** Name of a native function. */
export type NativeFunctionName = keyof AddonFunctions;
