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
  fromFirstChildNextSibling,
  fromRetrieveIndices,
} from './import';
export { type AttentionMaskOptions, type TreeAttentionMask, attentionMask } from './mask';
export type { TargetProcessingOptions } from './sampling';
export {
  type ExpectedAcceptanceOptions,
  type GtoRewardOptions,
  expectedAcceptance,
  gtoReward,
  nodeProbabilities,
} from './utils';
export { verifyTree } from './verify';
