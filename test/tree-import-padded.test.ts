// Padded importers: fixed-size slot buffers with unreachable / -1 / placeholder slots (SGLang, dflash, vLLM forks).
import {
  fromFirstChildNextSibling,
  fromPaddedChains,
  fromPaddedParents,
  fromRetrieveIndices,
} from '../lib/tree/import';
import { attentionMask } from '../lib/tree/mask';
import { gatherRows, scatterToSlots, type PaddedTrees } from '../lib/tree/slots';
import type { TreeBatch } from '../lib/tree/types';
import { randomTrees } from './helpers/treeRandom';
import { randInt, rng } from './helpers/rng';

const I = (a: number[]) => Int32Array.from(a);

/** A tree scattered into N slots: slot of each node, children in a chosen order, padding elsewhere. */
interface Embedded {
  n: number;
  tokens: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  parents: Int32Array;
  /** Per request: slot of local node i. */
  slotOf: number[][];
  /** Per request and slot: the slots of its children in the walk order given to the importer (fcns). */
  order: Map<number, number[]>[];
}

/**
 * Embeds every tree of `t` into `n >= size` slots: the root at slot 0, the other nodes at random slots
 * (`shuffle`) or in node order, children linked in a random order (`shuffle`) or node order; unused slots get
 * garbage tokens and either -1 links or links among themselves (never reachable).
 */
function embed(t: TreeBatch, n: number, r: () => number, shuffle: boolean): Embedded {
  const batch = t.offsets.length - 1;
  const tokens = new Int32Array(batch * n);
  const firstChild = new Int32Array(batch * n).fill(-1);
  const nextSibling = new Int32Array(batch * n).fill(-1);
  const parents = new Int32Array(batch * n).fill(-1);
  const slotOf: number[][] = [];
  const order: Map<number, number[]>[] = [];
  for (let b = 0; b < batch; b++) {
    const o = t.offsets[b];
    const size = t.offsets[b + 1] - o;
    const free = Array.from({ length: n - 1 }, (_, i) => i + 1);
    if (shuffle) for (let i = free.length - 1; i > 0; i--) { const j = randInt(r, i + 1); [free[i], free[j]] = [free[j], free[i]]; }
    const slots = [0, ...free.slice(0, size - 1)];
    slotOf.push(slots);
    const base = b * n;
    for (let s = 0; s < n; s++) tokens[base + s] = randInt(r, 3) === 0 ? -1 : 1000 + randInt(r, 1000); // garbage
    const kids = new Map<number, number[]>();
    for (let i = 0; i < size; i++) {
      tokens[base + slots[i]] = t.tokens[o + i];
      kids.set(slots[i], []);
    }
    for (let i = 1; i < size; i++) {
      kids.get(slots[t.parents[o + i]])!.push(slots[i]);
      parents[base + slots[i]] = t.parents[o + i] === 0 ? 0 : slots[t.parents[o + i]];
    }
    for (const [, list] of kids) {
      if (shuffle) for (let i = list.length - 1; i > 0; i--) { const j = randInt(r, i + 1); [list[i], list[j]] = [list[j], list[i]]; }
    }
    for (const [s, list] of kids) {
      if (list.length > 0) firstChild[base + s] = list[0];
      for (let i = 0; i + 1 < list.length; i++) nextSibling[base + list[i]] = list[i + 1];
    }
    // Unused slots: sometimes linked to each other (a detached chain), never to the tree.
    const unused = free.slice(size - 1);
    for (let i = 0; i + 1 < unused.length; i++) {
      if (randInt(r, 2) === 0) {
        firstChild[base + unused[i]] = unused[i + 1];
        parents[base + unused[i + 1]] = unused[i];
      }
    }
    order.push(kids);
  }
  return { n, tokens, firstChild, nextSibling, parents, slotOf, order };
}

/**
 * Checks an import against the source trees: every node sits at the slot holding it, parents map to parent
 * slots, node order is topological, and the children of every node appear in `expectedOrder(slot)`'s order.
 */
function checkImport(res: PaddedTrees, src: TreeBatch, e: Embedded, expectedOrder: (b: number, slot: number) => number[]) {
  const { trees, slots } = res;
  const batch = src.offsets.length - 1;
  expect(trees.offsets.length).toBe(batch + 1);
  expect(slots.slotOfNode.length).toBe(trees.tokens.length);
  expect(slots.nodeOfSlot.length).toBe(batch * e.n);
  for (let b = 0; b < batch; b++) {
    const o = trees.offsets[b];
    const size = trees.offsets[b + 1] - o;
    expect(size).toBe(src.offsets[b + 1] - src.offsets[b]);
    const slotSet = new Set(e.slotOf[b].map((s) => b * e.n + s));
    for (let i = 0; i < size; i++) {
      const g = slots.slotOfNode[o + i];
      expect(slotSet.has(g)).toBe(true);
      expect(slots.nodeOfSlot[g]).toBe(o + i);
      if (i > 0) expect(trees.tokens[o + i]).toBe(e.tokens[g]);
      const p = trees.parents[o + i];
      if (i === 0) expect(p).toBe(-1);
      else {
        expect(p).toBeLessThan(i);
        // The parent's slot is the slot of the source parent of the node at this slot.
        const srcLocal = e.slotOf[b].indexOf(g - b * e.n);
        const srcParentSlot = e.slotOf[b][src.parents[src.offsets[b] + srcLocal]];
        expect(slots.slotOfNode[o + p]).toBe(b * e.n + srcParentSlot);
      }
    }
    // Children of every node in increasing node id (= draw order) must follow the expected order of slots.
    for (let i = 0; i < size; i++) {
      const kids: number[] = [];
      for (let c = i + 1; c < size; c++) if (trees.parents[o + c] === i) kids.push(slots.slotOfNode[o + c] - b * e.n);
      expect(kids).toEqual(expectedOrder(b, slots.slotOfNode[o + i] - b * e.n));
    }
  }
  for (let g = 0; g < slots.nodeOfSlot.length; g++) {
    const b = Math.floor(g / e.n);
    if (!e.slotOf[b].includes(g % e.n)) expect(slots.nodeOfSlot[g]).toBe(-1);
  }
}

function toPaths(e: Embedded, batch: number): { retrieveIndices: Int32Array; paths: number } {
  // One path per leaf (root-to-leaf slots), padded with -1, then an all -1 row.
  const rows: number[][][] = [];
  let maxLen = 1;
  let maxPaths = 1;
  for (let b = 0; b < batch; b++) {
    const list: number[][] = [];
    const walk = (s: number, path: number[]) => {
      const kids = e.order[b].get(s) ?? [];
      if (kids.length === 0) list.push(path);
      for (const c of kids) walk(c, [...path, c]);
    };
    walk(0, [0]);
    for (const p of list) maxLen = Math.max(maxLen, p.length);
    maxPaths = Math.max(maxPaths, list.length + 1);
    rows.push(list);
  }
  const out = new Int32Array(batch * maxPaths * maxLen).fill(-1);
  for (let b = 0; b < batch; b++) rows[b].forEach((p, r) => out.set(p, (b * maxPaths + r) * maxLen));
  return { retrieveIndices: out, paths: maxPaths };
}

describe('padded importers on random slot layouts', () => {
  test('first-child/next-sibling: skipped padding, any slot order, the given sibling order kept', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const batch = 1 + randInt(r, 5);
      const src = randomTrees(r, batch, 9, 40);
      const n = 9 + randInt(r, 4);
      const e = embed(src, n, r, seed % 3 !== 0);
      const res = fromFirstChildNextSibling(
        { tokens: e.tokens, firstChild: e.firstChild, nextSibling: e.nextSibling, nodesPerTree: n },
        { padded: true, vocab: 40 },
      );
      checkImport(res, src, e, (b, s) => e.order[b].get(s) ?? []);
    }
  });

  test('retrieve indices and parent arrays: children in increasing slot', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(100 + seed);
      const batch = 1 + randInt(r, 4);
      const src = randomTrees(r, batch, 8, 30);
      const n = 8 + randInt(r, 3);
      const e = embed(src, n, r, true);
      const sorted = (b: number, s: number) => [...(e.order[b].get(s) ?? [])].sort((x, y) => x - y);
      const paths = toPaths(e, batch);
      checkImport(fromRetrieveIndices({ tokens: e.tokens, nodesPerTree: n, ...paths }, { padded: true, vocab: 30 }), src, e, sorted);
      checkImport(fromPaddedParents({ tokens: e.tokens, parents: e.parents, nodesPerTree: n }, { vocab: 30 }), src, e, sorted);
    }
  });

  test('a layout already in node order imports as the identity (rows line up without a copy)', () => {
    const r = rng(7);
    const src = randomTrees(r, 4, 6, 20);
    // Every tree padded to the same size with extra leaves so no slot is skipped.
    const e = embed(src, 6, r, false);
    const full = (e.slotOf as number[][]).every((s) => s.length === 6);
    const res = fromPaddedParents({ tokens: e.tokens, parents: e.parents, nodesPerTree: 6 });
    expect(res.slots.identity).toBe(full);
    const logits = { data: new Float32Array(4 * 6 * 3).map((_, i) => i), rows: 24, vocab: 3 };
    const g = gatherRows(logits, res.slots);
    if (full) expect(g).toBe(logits);
    // Gathered row n is the slot row of node n.
    const d = g.data as Float32Array;
    for (let nIdx = 0; nIdx < res.trees.tokens.length; nIdx++) {
      expect(d[nIdx * 3]).toBe(res.slots.slotOfNode[nIdx] * 3);
    }
    const back = scatterToSlots(Float64Array.from(res.trees.tokens, (_, i) => i + 0.5), res.slots, -1);
    for (let s = 0; s < back.length; s++) expect(back[s]).toBe(res.slots.nodeOfSlot[s] === -1 ? -1 : res.slots.nodeOfSlot[s] + 0.5);
  });
});

describe('padded importers: serving layouts', () => {
  // SGLang python/sglang/srt/speculative/build_eagle_tree.py, test_build_tree_kernel_efficient (commit 009db01):
  // the expected retrive_next_token / retrive_next_sibling / draft_tokens / positions of its 2 × 8 tree.
  const sglang = {
    draftTokens: I([29974, 29896, 29906, 29889, 29974, 29946, 29896, 29946, 13, 13, 22550, 4136, 16492, 8439, 29871, 29941]),
    nextToken: I([1, 3, 4, 5, 6, 7, -1, -1, 1, 2, -1, 6, -1, -1, 7, -1]),
    nextSibling: I([-1, 2, -1, -1, -1, -1, -1, -1, -1, -1, 3, 4, 5, -1, -1, -1]),
    seqLens: [5, 10],
    positions: [5, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 12, 12, 12, 13, 14],
  };

  test("SGLang's built tree imports with its positions (strict and padded agree)", () => {
    const input = { tokens: sglang.draftTokens, firstChild: sglang.nextToken, nextSibling: sglang.nextSibling, nodesPerTree: 8 };
    const strict = fromFirstChildNextSibling(input);
    const { trees, slots } = fromFirstChildNextSibling(input, { padded: true });
    expect(slots.identity).toBe(true);
    expect(trees).toEqual(strict);
    const pos = attentionMask(trees).positions;
    expect(Array.from(pos, (d, i) => d + sglang.seqLens[i >> 3])).toEqual(sglang.positions);
  });

  test('short trees in N slots, root-only requests, mixed sizes', () => {
    // 3 requests × 6 slots: [root→{a→c, b}] with slots 4, 5 padding; root-only; a chain of 5 drafts.
    const tokens = I([9, 4, 5, 6, -1, -1, 3, -1, -1, -1, -1, -1, 1, 2, 3, 4, 5, 6]);
    const firstChild = I([2, -1, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4, 5, -1]);
    const nextSibling = I([-1, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
    const { trees, slots } = fromFirstChildNextSibling({ tokens, firstChild, nextSibling, nodesPerTree: 6 }, { padded: true });
    // Request 0 walks 2 before 1 (SGLang order), so it is breadth-first reordered: slots 0, 2, 1, 3.
    expect(Array.from(trees.offsets)).toEqual([0, 4, 5, 11]);
    expect(Array.from(slots.slotOfNode)).toEqual([0, 2, 1, 3, 6, 12, 13, 14, 15, 16, 17]);
    expect(Array.from(trees.parents)).toEqual([-1, 0, 0, 1, -1, -1, 0, 1, 2, 3, 4]);
    expect(Array.from(trees.tokens)).toEqual([9, 5, 4, 6, 3, 1, 2, 3, 4, 5, 6]);
    expect(slots.identity).toBe(false);
    // The strict importer refuses the same buffers (unreachable slots).
    expect(() => fromFirstChildNextSibling({ tokens, firstChild, nextSibling, nodesPerTree: 6 })).toThrow(/not reachable/);
  });

  test('placeholder tokens prune their slot and subtree; a placeholder root reads as 0', () => {
    // Root → 1 → 2 and root → 3 (placeholder) → 4: slots 3, 4 are dropped.
    const res = fromFirstChildNextSibling(
      { tokens: I([-1, 7, 8, -1, 9]), firstChild: I([1, 2, -1, 4, -1]), nextSibling: I([-1, 3, -1, -1, -1]), nodesPerTree: 5 },
      { padded: true, vocab: 10 },
    );
    expect(Array.from(res.trees.tokens)).toEqual([0, 7, 8]);
    expect(Array.from(res.slots.nodeOfSlot)).toEqual([0, 1, 2, -1, -1]);
    const paths = fromRetrieveIndices(
      { tokens: I([0, 7, -1, 9]), nodesPerTree: 4, paths: 2, retrieveIndices: I([0, 1, 2, 0, 3, -1]) },
      { padded: true },
    );
    expect(Array.from(paths.slots.slotOfNode)).toEqual([0, 1, 3]);
  });

  test('vLLM-style padded chains (num_draft_tokens or -1 ends)', () => {
    const a = fromPaddedChains({ drafts: I([1, 2, 3, 4, -1, -1, 7, 8, 9]), maxDrafts: 3 });
    expect(Array.from(a.trees.offsets)).toEqual([0, 4, 6, 10]);
    expect(Array.from(a.trees.parents)).toEqual([-1, 0, 1, 2, -1, 0, -1, 0, 1, 2]);
    expect(Array.from(a.slots.slotOfNode)).toEqual([0, 1, 2, 3, 4, 5, 8, 9, 10, 11]);
    const b = fromPaddedChains({ drafts: I([1, 2, 3, 4, 5, 6]), maxDrafts: 3, numDrafts: I([0, 2]), roots: I([11, 12]) });
    expect(Array.from(b.trees.tokens)).toEqual([11, 12, 4, 5]);
    expect(Array.from(b.slots.slotOfNode)).toEqual([0, 4, 5, 6]);
    const empty = fromPaddedChains({ drafts: I([]), maxDrafts: 0, numDrafts: I([0, 0]) });
    expect(Array.from(empty.trees.offsets)).toEqual([0, 1, 2]);
  });
});

describe('padded importers: bad input', () => {
  const base = { tokens: I([5, 7, 9, 4]), nodesPerTree: 4, firstChild: I([1, 3, -1, -1]), nextSibling: I([-1, 2, -1, -1]) };
  const P = { padded: true } as const;
  test('shapes and types', () => {
    expect(() => fromFirstChildNextSibling({ ...base, nodesPerTree: 3 }, P)).toThrow(/multiple of 3/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, 3, -1]) }, P)).toThrow(/firstChild must have/);
    expect(() => fromFirstChildNextSibling({ ...base, nextSibling: [1] as unknown as Int32Array }, P)).toThrow(TypeError);
    expect(() => fromFirstChildNextSibling(base, { padded: 1 as unknown as boolean })).toThrow(/opts.padded must be a boolean/);
    expect(() => fromPaddedParents({ tokens: I([1, 2]), parents: I([-1]), nodesPerTree: 2 })).toThrow(/parents must have/);
    expect(() => fromPaddedChains({ drafts: I([1, 2, 3]), maxDrafts: 2 })).toThrow(/multiple of 2/);
    expect(() => fromPaddedChains({ drafts: I([1, 2]), maxDrafts: 2, numDrafts: I([3]) })).toThrow(/numDrafts\[0\] = 3/);
    expect(() => fromPaddedChains({ drafts: I([1, 2]), maxDrafts: 2, roots: I([1, 2]) })).toThrow(/roots must have one entry/);
    expect(() => fromPaddedChains({ drafts: I([]), maxDrafts: 0 })).toThrow(/numDrafts or roots/);
    expect(() => fromPaddedChains({ drafts: I([1]), maxDrafts: -1 })).toThrow(/maxDrafts must be an integer >= 0/);
  });
  test('ids out of range, also in unreachable slots, name the array and index', () => {
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, 3, -1, 4]) }, P)).toThrow(/firstChild\[3\] = 4 must be -1 or a local slot in \[0, 4\)/);
    expect(() => fromFirstChildNextSibling({ ...base, nextSibling: I([-1, 2, -3, -1]) }, P)).toThrow(/nextSibling\[2\] = -3/);
    expect(() => fromPaddedParents({ tokens: I([1, 2, 3]), parents: I([-1, 0, 5]), nodesPerTree: 3 })).toThrow(/parents\[2\] = 5/);
    expect(() =>
      fromRetrieveIndices({ tokens: I([0, 1, 2]), nodesPerTree: 3, paths: 1, retrieveIndices: I([0, 3, -1]) }, P),
    ).toThrow(/retrieveIndices\[1\] = 3 must be -1 or a non-root local slot in \[1, 3\)/);
  });
  test('invalid reachable part: clear errors; the same defects in unreachable slots are skipped', () => {
    // Reachable token out of vocab.
    expect(() => fromFirstChildNextSibling(base, { padded: true, vocab: 8 })).toThrow(/tokens\[2\] = 9 is out of range/);
    // Same vocab, the bad token at an unreachable slot: fine.
    const un = fromFirstChildNextSibling({ ...base, tokens: I([5, 7, 9, 99]), firstChild: I([1, -1, -1, -1]) }, { padded: true, vocab: 10 });
    expect(Array.from(un.slots.slotOfNode)).toEqual([0, 1, 2]);
    // Negative tokens other than the placeholder at a reachable slot.
    expect(() => fromFirstChildNextSibling({ ...base, tokens: I([5, 7, -2, 4]) }, P)).toThrow(/tokens\[2\] = -2/);
    expect(() => fromFirstChildNextSibling({ ...base, tokens: I([-5, 7, 9, 4]) }, P)).toThrow(/tokens\[0\] = -5 \(root of request 0\)/);
    // A cycle or shared child reached from the root.
    expect(() => fromFirstChildNextSibling({ ...base, nextSibling: I([-1, 2, 1, -1]) }, P)).toThrow(/reached twice/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, 0, -1, -1]) }, P)).toThrow(/slot 0 of request 0 is reached twice/);
    // Root with a sibling.
    expect(() => fromFirstChildNextSibling({ ...base, nextSibling: I([2, 2, -1, -1]) }, P)).toThrow(/nextSibling\[0\] \(root of request 0\)/);
    // A cycle among unreachable slots is padding.
    const cyc = fromFirstChildNextSibling({ ...base, firstChild: I([1, -1, 3, 2]), nextSibling: I([-1, -1, -1, -1]) }, P);
    expect(Array.from(cyc.slots.slotOfNode)).toEqual([0, 1]);
    // Duplicate sibling tokens (reachable).
    expect(() => fromFirstChildNextSibling({ ...base, tokens: I([5, 7, 7, 4]) }, P)).toThrow(/same token 7/);
    // Paths: not starting at the root, two parents.
    const rt = (ri: number[]) => () => fromRetrieveIndices({ tokens: I([5, 7, 9, 4]), nodesPerTree: 4, paths: 2, retrieveIndices: I(ri) }, P);
    expect(rt([1, 2, -1, 0, 3, -1])).toThrow(/must start at the root/);
    expect(rt([0, 1, 3, 0, 2, 3])).toThrow(/slot 3 of request 0 has two parents \(1 and 2\)/);
    // Parent arrays: root must be -1.
    expect(() => fromPaddedParents({ tokens: I([1, 2]), parents: I([1, 0]), nodesPerTree: 2 })).toThrow(/parents\[0\] \(root of request 0\) must be -1/);
    // Chains: a bad draft names drafts[], not the internal slots.
    expect(() => fromPaddedChains({ drafts: I([1, 2, -7, 3]), maxDrafts: 2 })).toThrow(/drafts\[2\] = -7/);
    expect(() => fromPaddedChains({ drafts: I([1, 2]), maxDrafts: 2, roots: I([-4]) })).toThrow(/roots\[0\] = -4/);
  });
});
