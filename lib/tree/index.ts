/**
 * `tree`: draft-tree batches (CSR), importers, attention masks, verification and analytic utilities.
 *
 * @packageDocumentation
 */
export { type TreeBatch, type ValidateTreeOptions, validateTreeBatch, treeCount } from './types';
export {
  type FirstChildNextSiblingInput,
  type RetrieveIndicesInput,
  type ImportOptions,
  type PaddedImportOptions,
  type PaddedParentsInput,
  type PaddedChainsInput,
  fromFirstChildNextSibling,
  fromRetrieveIndices,
  fromPaddedParents,
  fromPaddedChains,
} from './import';
export { type SlotMap, type PaddedTrees, gatherRows, scatterToSlots } from './slots';
export {
  type ResultLayoutOptions,
  type LayoutFields,
  type SglangLayout,
  type VllmLayout,
  type CompactVerifyResult,
  toLayout,
} from './layout';
export { type AttentionMaskOptions, type TreeAttentionMask, attentionMask } from './mask';
export type { LogitBias, Penalties, TargetProcessingOptions, TokenHistory } from './sampling';
export {
  type ExpectedAcceptanceOptions,
  type GtoRewardOptions,
  expectedAcceptance,
  gtoReward,
  nodeProbabilities,
} from './utils';
export { verifyTree } from './verify';
