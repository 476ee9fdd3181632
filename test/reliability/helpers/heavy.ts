/** Large inputs for the heavy-call tests (event-loop delay, cancellation): built fast by tiling a random block. */
import * as lw from '../../../lib';
import { randomLogits } from '../../helpers/logits';
import { rng } from '../../helpers/rng';
import { randomTrees } from '../../helpers/treeRandom';

/** rows × vocab float32 logits (a random 64k-float block tiled with a shift per tile so rows differ). */
export function bigLogits(rows: number, vocab: number, seed = 1): lw.Logits & { data: Float32Array } {
  const block = randomLogits(rng(seed), 1, 65536, 'float32', 6) as Float32Array;
  const data = new Float32Array(rows * vocab);
  for (let at = 0, k = 0; at < data.length; at += block.length, k++) {
    data.set(block.subarray(0, Math.min(block.length, data.length - at)), at);
    data[at] += k % 7; // tiles differ
  }
  return { data, rows, vocab };
}

/** Trees whose node count equals `nodes` exactly (batch of chains/branches), token ids < vocab. */
export function treesWithNodes(nodes: number, perTree: number, vocab: number, seed = 1): lw.tree.TreeBatch {
  const r = rng(seed);
  const batch = Math.ceil(nodes / perTree);
  const tokens = new Int32Array(nodes);
  const parents = new Int32Array(nodes);
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    const o = b * perTree;
    const size = Math.min(perTree, nodes - o);
    offsets[b + 1] = o + size;
    for (let i = 0; i < size; i++) {
      parents[o + i] = i === 0 ? -1 : i - 1; // a chain: every node has one child, so every row is read
      tokens[o + i] = Math.floor(r() * vocab);
    }
  }
  void randomTrees;
  return { tokens, parents, offsets };
}
