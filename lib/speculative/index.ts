/**
 * `speculative`: tree speculative decoding over any model pair (runtime-agnostic adapters), verified with
 * `verifyTree`.
 *
 * @packageDocumentation
 */
export type { AttentionBias, ForwardResult, ModelAdapter } from './adapter';
export {
  type DecodeStats,
  type Decoder,
  type DecoderOptions,
  type GenerateOptions,
  type GenerateResult,
  type StopReason,
  type TokenEvent,
  type VerifyChoice,
  type VerifyInfo,
  createDecoder,
} from './decoder';
export { MC_SIM_7B_63, type RewardShaping, type TreeStrategy, parseTree } from './strategies';
