/**
 * Tree attention masks and position ids that a caller feeds its model to score every tree node in one pass.
 *
 * @packageDocumentation
 */
import { type TreeBatch, validateTreeBatch } from './types';
import { oneOf, optionKeys, options } from '../runtime/validate';

/** Options of {@link attentionMask}. */
export interface AttentionMaskOptions {
  /** Bit-packed rows: `Uint32Array` words, bit `j & 31` of word `j >> 5` (LSB first) = attends to node `j`. */
  packed?: boolean;
  /**
   * `'ragged'` (default): tree `b`'s block is `size_b × size_b` and starts at `offsets[b]`.
   * `'padded'`: one `maxNodes × maxNodes` block per tree (rows and columns past `size_b` are 0), as batched
   * model calls want (`[batch, maxNodes, maxNodes]`).
   */
  layout?: 'ragged' | 'padded';
}

const MASK_KEYS = optionKeys<AttentionMaskOptions>({ packed: 1, layout: 1 });
const LAYOUTS = ['ragged', 'padded'] as const;

/** Result of {@link attentionMask}. */
export interface TreeAttentionMask<M extends Uint8Array | Uint32Array> {
  /** Row-major blocks, one per tree: entry (i, j) = 1 iff local node j is local node i or one of its ancestors. */
  mask: M;
  /** `batch + 1` start of each tree's block in `mask`, in elements (bytes, or words when packed). */
  offsets: Int32Array;
  /** Elements per mask row of each tree (`size_b`, `maxNodes`, or their word counts when packed). */
  rowLength: Int32Array;
  /** Depth of every node (root = 0), all trees concatenated: add the root's position to get position ids. */
  positions: Int32Array;
  /** Largest tree size in the batch. */
  maxNodes: number;
}

/**
 * Builds the tree attention mask (node i attends to its ancestors and itself) and depth-based position ids.
 *
 * @example
 * ```ts
 * const { mask, positions } = tree.attentionMask(trees, { packed: true, layout: 'padded' });
 * ```
 * @throws TypeError / RangeError when `trees` is not a valid {@link TreeBatch} (duplicate siblings are allowed).
 */
export function attentionMask(trees: TreeBatch, opts: AttentionMaskOptions & { packed: true }): TreeAttentionMask<Uint32Array>;
export function attentionMask(trees: TreeBatch, opts?: AttentionMaskOptions & { packed?: false }): TreeAttentionMask<Uint8Array>;
export function attentionMask(trees: TreeBatch, opts?: AttentionMaskOptions): TreeAttentionMask<Uint8Array | Uint32Array>;
export function attentionMask(
  trees: TreeBatch,
  opts: AttentionMaskOptions = {},
): TreeAttentionMask<Uint8Array | Uint32Array> {
  const o = options<AttentionMaskOptions>(opts, 'opts', MASK_KEYS);
  validateTreeBatch(trees, { allowDuplicateSiblings: true });
  const layout = oneOf(o.layout ?? 'ragged', 'layout', LAYOUTS);
  const packed = o.packed === true;
  const { parents, offsets: nodeOffsets } = trees;
  const batch = nodeOffsets.length - 1;
  let maxNodes = 0;
  for (let b = 0; b < batch; b++) maxNodes = Math.max(maxNodes, nodeOffsets[b + 1] - nodeOffsets[b]);

  const rowLength = new Int32Array(batch);
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    const size = layout === 'padded' ? maxNodes : nodeOffsets[b + 1] - nodeOffsets[b];
    rowLength[b] = packed ? (size + 31) >>> 5 : size;
    offsets[b + 1] = offsets[b] + size * rowLength[b];
  }
  const mask = packed ? new Uint32Array(offsets[batch]) : new Uint8Array(offsets[batch]);
  const positions = new Int32Array(parents.length);
  for (let b = 0; b < batch; b++) {
    const o = nodeOffsets[b];
    const size = nodeOffsets[b + 1] - o;
    const w = rowLength[b];
    const base = offsets[b];
    for (let i = 0; i < size; i++) {
      const row = base + i * w;
      const p = parents[o + i];
      if (p >= 0) {
        // Parents precede children, so the parent's row is complete: copy it, then add the node itself.
        mask.copyWithin(row, base + p * w, base + p * w + w);
        positions[o + i] = positions[o + p] + 1;
      }
      if (packed) mask[row + (i >>> 5)] |= 1 << (i & 31);
      else mask[row + i] = 1;
    }
  }
  return { mask, offsets, rowLength, positions, maxNodes };
}
