// Seeded random draft trees for the tree tests.
import type { TreeBatch } from '../../lib/tree/types';

import { randInt } from './rng';

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
