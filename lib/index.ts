/**
 * lengthwise — C++/CUDA kernels for the hot loops around long-context LLMs: speculative-decoding tree
 * verification, XL3M segment relevance scoring and scaling-law fitting, behind a typed Promise API.
 *
 * @packageDocumentation
 */
export { backendInfo } from './runtime/backend';
export type { BackendInfo, DeviceInfo, GpuDevice, GpuReport } from './runtime/backend';
export type { BackendName, BackendChoice } from './runtime/native';
export type { Logits, LogitsDType } from './logits';
export { toBfloat16, fromBfloat16, toFloat16, fromFloat16 } from './runtime/dtype';
export { logitStats } from './logitStats';
export type { LogitStatsOptions, LogitStatsOut, LogitStatsResult } from './logitStats';
export { DeviceTensor } from './device';
export type { DeviceElementType } from './device';
export * as device from './deviceApi';
export { verifyTree } from './tree/verify';
export type { VerifyTreeOptions, VerifyTreeResult, VerifyMode, DraftKind } from './tree/verify';
export * as xl3m from './xl3m';
export * as tree from './tree';
export * as specdec from './tree/specdec';
export * as multidraft from './tree/multidraft';
export * as scaling from './scaling';
export * as speculative from './speculative';
