/**
 * Result layouts of `verifyTree` for serving engines: the compact one, SGLang's (slot coordinates) and vLLM's
 * (padded rows with -1). Pure conversions of the compact result.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { type SlotMap, checkSlotMap, identitySlots } from './slots';
import type { TreeBatch } from './types';
import { oneOf, optionKeys, options, rangeError } from '../runtime/validate';

/** The compact result fields every layout is computed from (see `VerifyTreeResult`). */
export interface CompactVerifyResult {
  /** Accepted draft tokens per tree (excluding the correction/bonus token); length batch. */
  acceptedLength: Int32Array;
  /** Local node ids of the accepted paths, root first; `acceptedLength[b] + 1` per tree at `tokenOffsets[b]`. */
  acceptedNodes: Int32Array;
  /**
   * Emitted tokens, `acceptedLength[b] + 1` per tree at `tokenOffsets[b]` (accepted drafts, then correction/bonus).
   */
  tokens: Int32Array;
  /** `batch + 1` offsets into `acceptedNodes` and `tokens`. */
  tokenOffsets: Int32Array;
}

/**
 * SGLang's `verify_tree_greedy` / `tree_speculative_sampling_target_only` outputs, in slot coordinates (global
 * slot = `b × slotsPerTree + s`, SGLang's `retrive_index`; without a slot map, the global node id).
 */
export interface SglangLayout {
  /** One entry per slot: the token emitted from that slot's row if it is on the accepted path, else -1. */
  predicts: Int32Array;
  /** `batch × width`: the global slots of the accepted path, root first, then -1. */
  acceptIndex: Int32Array;
  /** Accepted draft tokens per request (the bonus/correction token not counted). */
  acceptTokenNum: Int32Array;
  /** Columns of `acceptIndex`. */
  width: number;
}

/** vLLM's rejection-sampler output: `batch × width` emitted tokens, accepted drafts then the bonus/correction, -1 after. */
export interface VllmLayout {
  /**
   * `batch × width` token ids, row-major: each request's accepted draft tokens, then the bonus or
   * correction token, then −1 (vLLM's rejection-sampler output).
   */
  outputTokenIds: Int32Array;
  /** Columns (vLLM's `max_spec_len + 1`). */
  width: number;
}

/** Options choosing the result layout (shared by `verifyTree` and {@link toLayout}). */
export interface ResultLayoutOptions {
  /**
   * `'compact'` (default): only the compact fields. `'sglang'`: also `sglang` ({@link SglangLayout});
   * `'vllm'`: also `vllm` ({@link VllmLayout}).
   */
  layout?: 'compact' | 'sglang' | 'vllm';
  /** The slot map of a padded import: SGLang coordinates become the caller's slots. Default: global node ids. */
  slots?: SlotMap;
  /**
   * Columns of `acceptIndex` / `outputTokenIds` (SGLang's `num_spec_steps`, vLLM's `max_spec_len + 1`); at least
   * the longest path a walk can take (in nodes): root to leaf, not below a placeholder (-1) draft, at most
   * `maxAccepted + 1` nodes. Default: `slots.slotsPerTree`, else the largest tree.
   */
  width?: number;
}

const LAYOUTS = ['compact', 'sglang', 'vllm'] as const satisfies readonly NonNullable<ResultLayoutOptions['layout']>[];
/** @internal The keys of {@link ResultLayoutOptions} (part of verifyTree's options too). */
export const LAYOUT_KEYS = optionKeys<ResultLayoutOptions>({ layout: 1, slots: 1, width: 1 });

/** The layout fields a result may carry. */
export interface LayoutFields {
  /** Present with `layout: 'sglang'`. */
  sglang?: SglangLayout;
  /** Present with `layout: 'vllm'`. */
  vllm?: VllmLayout;
}

/**
 * Validates the layout options against `trees` before any work, and returns the conversion to apply to the
 * compact result (the identity for 'compact').
 *
 * @throws TypeError / RangeError naming the option: an unknown layout, a slot map of other trees, a width that
 *   is not an integer or shorter than the deepest path a walk can take (`maxAccepted`: verifyTree's validated
 *   cap, which bounds it).
 */
/** @internal The compact layout's result mapping: the native result as it is (callers may skip the call). */
export const compactLayout = <R extends CompactVerifyResult>(r: R): R & LayoutFields => r;

export function layoutFor(
  trees: TreeBatch,
  opts: ResultLayoutOptions,
  maxAccepted?: number | Int32Array,
): <R extends CompactVerifyResult>(r: R) => R & LayoutFields {
  const layout = oneOf(opts.layout ?? 'compact', 'opts.layout', LAYOUTS);
  if (layout === 'compact') {
    if (opts.slots !== undefined) checkSlotMap(opts.slots, trees, 'opts.slots');
    return compactLayout;
  }
  const slots = opts.slots === undefined ? identitySlots(trees) : opts.slots;
  if (opts.slots !== undefined) checkSlotMap(slots, trees, 'opts.slots');
  const batch = trees.offsets.length - 1;
  let maxSize = 0;
  let longest = 0;
  const depth = new Int32Array(trees.tokens.length);
  for (let b = 0; b < batch; b++) {
    const o = trees.offsets[b];
    const size = trees.offsets[b + 1] - o;
    maxSize = Math.max(maxSize, size);
    const cap = maxAccepted === undefined ? Infinity : typeof maxAccepted === 'number' ? maxAccepted : maxAccepted[b];
    for (let i = 1; i < size; i++) {
      // -1 below a placeholder: never on a path (placeholders themselves are never accepted).
      const up = depth[o + trees.parents[o + i]];
      depth[o + i] = up < 0 || trees.tokens[o + i] === -1 ? -1 : up + 1;
      longest = Math.max(longest, Math.min(depth[o + i], cap));
    }
  }
  const width = opts.width ?? (slots.slotsPerTree > 0 ? slots.slotsPerTree : maxSize);
  if (typeof width !== 'number' || !Number.isInteger(width) || width < longest + 1) {
    throw rangeError(
      `opts.width must be an integer >= ${longest + 1} (the longest root-to-leaf path of the batch, in nodes) (got ${show(width)})`,
    );
  }
  return (r) => {
    if (layout === 'sglang') return { ...r, sglang: toSglang(r, trees, slots, width) };
    return { ...r, vllm: toVllm(r, batch, width) };
  };
}

function toSglang(r: CompactVerifyResult, trees: TreeBatch, slots: SlotMap, width: number): SglangLayout {
  const batch = r.acceptedLength.length;
  const predicts = new Int32Array(slots.nodeOfSlot.length).fill(-1);
  const acceptIndex = new Int32Array(batch * width).fill(-1);
  for (let b = 0; b < batch; b++) {
    const root = trees.offsets[b];
    for (let i = r.tokenOffsets[b], j = 0; i < r.tokenOffsets[b + 1]; i++, j++) {
      const slot = slots.slotOfNode[root + r.acceptedNodes[i]];
      predicts[slot] = r.tokens[i];
      acceptIndex[b * width + j] = slot;
    }
  }
  return { predicts, acceptIndex, acceptTokenNum: r.acceptedLength.slice(), width };
}

function toVllm(r: CompactVerifyResult, batch: number, width: number): VllmLayout {
  const outputTokenIds = new Int32Array(batch * width).fill(-1);
  for (let b = 0; b < batch; b++) {
    const start = r.tokenOffsets[b];
    outputTokenIds.set(r.tokens.subarray(start, r.tokenOffsets[b + 1]), b * width);
  }
  return { outputTokenIds, width };
}

/**
 * Adds the chosen layout to a compact `verifyTree` result already in hand (what `verifyTree` does with
 * `opts.layout`).
 */
export function toLayout<R extends CompactVerifyResult>(result: R, trees: TreeBatch, opts: ResultLayoutOptions): R & LayoutFields {
  return layoutFor(trees, options<ResultLayoutOptions>(opts, 'opts', LAYOUT_KEYS, true))(result);
}
