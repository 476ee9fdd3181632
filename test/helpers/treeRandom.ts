// Seeded random draft trees and logits for tree-utility tests.
import type { TreeBatch } from '../../lib/tree/types';

import { mulberry32 } from '../../lib/prng';

/** Mulberry32 uniforms in [0, 1) (lib/prng). */
export const rng = mulberry32;

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/**
 * Random batch: each tree has 1..maxNodes nodes, parents chosen among earlier nodes, distinct sibling tokens
 * (unless `duplicates`), tokens in [0, vocab).
 */
export function randomTrees(r: () => number, batch: number, maxNodes: number, vocab: number, duplicates = false): TreeBatch {
  const tokens: number[] = [];
  const parents: number[] = [];
  const offsets = [0];
  for (let b = 0; b < batch; b++) {
    const size = 1 + randInt(r, maxNodes);
    const used: Set<number>[] = [];
    tokens.push(randInt(r, vocab));
    parents.push(-1);
    used.push(new Set());
    for (let i = 1; i < size; i++) {
      // Find a parent with a free token (a parent can have at most `vocab` distinct children).
      let p = randInt(r, i);
      if (!duplicates) {
        let tries = 0;
        while (used[p].size >= vocab && tries++ < 100) p = randInt(r, i);
        if (used[p].size >= vocab) break;
      }
      let t = randInt(r, vocab);
      if (!duplicates) while (used[p].has(t)) t = randInt(r, vocab);
      used[p].add(t);
      used.push(new Set());
      tokens.push(t);
      parents.push(p);
    }
    offsets.push(tokens.length);
  }
  return { tokens: Int32Array.from(tokens), parents: Int32Array.from(parents), offsets: Int32Array.from(offsets) };
}

/** rows × vocab logits, some -inf, scale varied. */
export function randomLogits(r: () => number, rows: number, vocab: number, negInfRate = 0.1): Float32Array {
  const z = new Float32Array(rows * vocab);
  for (let i = 0; i < rows; i++) {
    const scale = 0.5 + 4 * r();
    let finite = false;
    for (let x = 0; x < vocab; x++) {
      const v = r() < negInfRate ? -Infinity : scale * (r() * 2 - 1);
      z[i * vocab + x] = v;
      finite ||= v !== -Infinity;
    }
    if (!finite) z[i * vocab + randInt(r, vocab)] = 0;
  }
  return z;
}
