import { validateTreeBatch, type TreeBatch } from '../lib/tree/types';
import { fromFirstChildNextSibling, fromRetrieveIndices } from '../lib/tree/import';
import { attentionMask } from '../lib/tree/mask';
import { stopIndex } from '../lib/tree/specdec';
import { rng } from './helpers/rng';
import { randomTrees } from './helpers/treeRandom';

const I = (a: number[]) => Int32Array.from(a);
const tb = (tokens: number[], parents: number[], offsets: number[]): TreeBatch => ({
  tokens: I(tokens),
  parents: I(parents),
  offsets: I(offsets),
});
const strict = { allowDuplicateSiblings: false };

describe('validateTreeBatch', () => {
  test('accepts valid ragged batches', () => {
    expect(() => validateTreeBatch(tb([1, 2, 3, 9, 4], [-1, 0, 0, -1, 0], [0, 3, 5]), { vocab: 10, ...strict })).not.toThrow();
    expect(() => validateTreeBatch(tb([1], [-1], [0, 1]), strict)).not.toThrow();
  });
  test.each([
    ['not an object', null, TypeError, /trees must be an object/],
    ['plain arrays', { tokens: [1], parents: [-1], offsets: [0, 1] }, TypeError, /trees.tokens must be an Int32Array/],
    ['no tree', tb([], [], [0]), RangeError, /at least one tree/],
    ['offsets not from 0', tb([1], [-1], [1, 1]), RangeError, /offsets\[0\] must be 0/],
    ['offsets do not end at node count', tb([1, 2], [-1, 0], [0, 1]), RangeError, /must equal the node count 2/],
    ['empty tree', tb([1, 2], [-1, 0], [0, 2, 2]), RangeError, /tree 1 is empty/],
    ['offsets backwards', tb([1, 2, 3], [-1, -1, 0], [0, 2, 1, 3]), RangeError, /strictly increasing/],
    ['length mismatch', { tokens: I([1, 2]), parents: I([-1]), offsets: I([0, 2]) }, RangeError, /one entry per node/],
    ['root parent', tb([1, 2], [0, 0], [0, 2]), RangeError, /root of tree 0\) must be -1/],
    ['parent >= child (cycle)', tb([1, 2, 3], [-1, 2, 1], [0, 3]), RangeError, /parents\[1\] = 2 .* must be a local index in \[0, 1\)/],
    ['self parent', tb([1, 2], [-1, 1], [0, 2]), RangeError, /cycle/],
    ['global parent index', tb([1, 2, 3, 4], [-1, 0, -1, 2], [0, 2, 4]), RangeError, /parents\[3\] = 2 \(tree 1, local node 1\)/],
    ['negative token', tb([1, -3], [-1, 0], [0, 2]), RangeError, /tokens\[1\] = -3 is out of range/],
    ['token >= vocab', tb([1, 10], [-1, 0], [0, 2]), RangeError, /tokens\[1\] = 10 is out of range: token ids must be in \[0, 10\)/],
    ['duplicate siblings', tb([0, 5, 6, 5], [-1, 0, 0, 0], [0, 4]), RangeError, /nodes 1 and 3 .* same token 5/],
  ])('%s', (_name, trees, type, msg) => {
    expect(() => validateTreeBatch(trees, { vocab: 10, ...strict })).toThrow(type);
    expect(() => validateTreeBatch(trees, { vocab: 10, ...strict })).toThrow(msg);
  });
  test('duplicate siblings allowed for i.i.d. drafts; cousins may share tokens', () => {
    expect(() => validateTreeBatch(tb([0, 5, 6, 5], [-1, 0, 0, 0], [0, 4]), { allowDuplicateSiblings: true })).not.toThrow();
    expect(() => validateTreeBatch(tb([0, 5, 6, 7, 7], [-1, 0, 0, 1, 2], [0, 5]), strict)).not.toThrow();
  });
  test('argument name is used in messages', () => {
    expect(() => validateTreeBatch(tb([1], [0], [0, 1]), { ...strict, name: 'drafts' })).toThrow(/drafts.parents\[0\]/);
  });
});

/** Encodes a batch of equally sized trees as SGLang first-child / next-sibling arrays. */
function toFcNs(t: TreeBatch, n: number) {
  const firstChild = new Int32Array(t.tokens.length).fill(-1);
  const nextSibling = new Int32Array(t.tokens.length).fill(-1);
  const batch = t.offsets.length - 1;
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    const lastChild = new Int32Array(n).fill(-1);
    for (let i = 1; i < n; i++) {
      const p = t.parents[o + i];
      if (lastChild[p] === -1) firstChild[o + p] = i;
      else nextSibling[o + lastChild[p]] = i;
      lastChild[p] = i;
    }
  }
  return { tokens: t.tokens, firstChild, nextSibling, nodesPerTree: n };
}

/** Encodes trees as EAGLE retrieve_indices: one row per leaf, padded with -1 (and padding rows). */
function toRetrieve(t: TreeBatch, n: number, paths: number) {
  const batch = t.offsets.length - 1;
  let width = 1;
  const all: number[][][] = [];
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    const hasChild = new Array(n).fill(false);
    for (let i = 1; i < n; i++) hasChild[t.parents[o + i]] = true;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) {
      if (hasChild[i]) continue;
      const path = [i];
      while (path[0] !== 0) path.unshift(t.parents[o + path[0]]);
      rows.push(path);
      width = Math.max(width, path.length);
    }
    all.push(rows);
  }
  const ri = new Int32Array(batch * paths * width).fill(-1);
  all.forEach((rows, b) => rows.forEach((path, r) => ri.set(path, (b * paths + r) * width)));
  return { tokens: t.tokens, retrieveIndices: ri, nodesPerTree: n, paths };
}

function uniformRandomTrees(seed: number, batch: number, n: number, vocab: number): TreeBatch {
  const r = rng(seed);
  for (;;) {
    const t = randomTrees(r, batch, n, vocab);
    let ok = true;
    for (let b = 0; b < batch; b++) ok &&= t.offsets[b + 1] - t.offsets[b] === n;
    if (ok) return t;
    // Force equal sizes by retrying with sizes drawn at the maximum.
    const forced = randomTrees(() => (r() < 0.5 ? 0.999 : r()), batch, n, vocab);
    let ok2 = true;
    for (let b = 0; b < batch; b++) ok2 &&= forced.offsets[b + 1] - forced.offsets[b] === n;
    if (ok2) return forced;
  }
}

describe('importers', () => {
  test('documented examples', () => {
    const a = fromFirstChildNextSibling({
      tokens: I([5, 7, 9, 4]),
      nodesPerTree: 4,
      firstChild: I([1, 3, -1, -1]),
      nextSibling: I([-1, 2, -1, -1]),
    });
    expect(Array.from(a.parents)).toEqual([-1, 0, 0, 1]);
    expect(Array.from(a.offsets)).toEqual([0, 4]);
    const b = fromRetrieveIndices({ tokens: I([5, 7, 9, 4]), nodesPerTree: 4, paths: 2, retrieveIndices: I([0, 1, 3, 0, 2, -1]) });
    expect(Array.from(b.parents)).toEqual([-1, 0, 0, 1]);
  });
  test('round trip on random trees (both encodings)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const n = 1 + (seed % 9);
      const t = uniformRandomTrees(seed, 3, n, 50);
      const a = fromFirstChildNextSibling(toFcNs(t, n), { vocab: 50 });
      expect(a.parents).toEqual(t.parents);
      expect(a.tokens).toEqual(t.tokens);
      expect(a.offsets).toEqual(t.offsets);
      const c = fromRetrieveIndices(toRetrieve(t, n, n + 1), { vocab: 50 });
      expect(c.parents).toEqual(t.parents);
      expect(c.offsets).toEqual(t.offsets);
    }
  });
  test('first-child/next-sibling errors', () => {
    const base = { tokens: I([5, 7, 9, 4]), nodesPerTree: 4, firstChild: I([1, 3, -1, -1]), nextSibling: I([-1, 2, -1, -1]) };
    expect(() => fromFirstChildNextSibling({ ...base, nodesPerTree: 3 })).toThrow(/multiple of 3/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: [1, 3, -1, -1] as unknown as Int32Array })).toThrow(TypeError);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, 3, -1]) })).toThrow(/firstChild must have/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, 7, -1, -1]) })).toThrow(/firstChild\[1\] = 7/);
    expect(() => fromFirstChildNextSibling({ ...base, nextSibling: I([-1, 2, 1, -1]) })).toThrow(/reached twice/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([1, -1, -1, -1]) })).toThrow(/node 3 .* not reachable/);
    expect(() => fromFirstChildNextSibling({ ...base, firstChild: I([2, -1, 1, -1]), nextSibling: I([-1, -1, 3, -1]) })).toThrow(
      /child 1 is listed before its parent 2/,
    );
    expect(() => fromFirstChildNextSibling({ ...base, tokens: I([5, 7, 7, 4]) })).toThrow(/same token 7/);
    expect(() => fromFirstChildNextSibling({ ...base, tokens: I([5, 7, 7, 4]) }, { allowDuplicateSiblings: true })).not.toThrow();
    expect(() => fromFirstChildNextSibling(base, { vocab: 8 })).toThrow(/tokens\[2\] = 9 is out of range/);
  });
  test('retrieve-indices errors and padding rows', () => {
    const base = { tokens: I([5, 7, 9, 4]), nodesPerTree: 4, paths: 3, retrieveIndices: I([0, 1, 3, 0, 2, -1, -1, -1, -1]) };
    expect(Array.from(fromRetrieveIndices(base).parents)).toEqual([-1, 0, 0, 1]);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([1, 1, 3, 0, 2, -1, -1, -1, -1]) })).toThrow(/start at the root/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 1, 3, 0, -1, 2, -1, -1, -1]) })).toThrow(/padding -1/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 1, 3, 0, 2, 3, -1, -1, -1]) })).toThrow(/two parents/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 1, 3, 0, 1, -1, -1, -1, -1]) })).toThrow(/node 2 .* no path/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 3, 1, 0, 2, -1, -1, -1, -1]) })).toThrow(/topological/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 1, 9, 0, 2, -1, -1, -1, -1]) })).toThrow(/\[1, 4\)/);
    expect(() => fromRetrieveIndices({ ...base, retrieveIndices: I([0, 1, 3, 0, 2, -1, -1, 2, -1]) })).toThrow(/all padding/);
    expect(() => fromRetrieveIndices({ ...base, paths: 2 })).toThrow(/batch × paths × width/);
  });
});

function ancestors(t: TreeBatch, b: number, i: number): Set<number> {
  const s = new Set<number>([i]);
  const o = t.offsets[b];
  for (let v = i; t.parents[o + v] >= 0; v = t.parents[o + v]) s.add(t.parents[o + v]);
  return s;
}

describe('attentionMask', () => {
  test('ragged and padded, packed and unpacked, match ancestor sets', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      const t = randomTrees(r, 4, seed < 4 ? 70 : 12, 40, true);
      const batch = t.offsets.length - 1;
      for (const layout of ['ragged', 'padded'] as const) {
        const u = attentionMask(t, { layout });
        const p = attentionMask(t, { layout, packed: true });
        expect(u.mask).toBeInstanceOf(Uint8Array);
        expect(p.mask).toBeInstanceOf(Uint32Array);
        for (let b = 0; b < batch; b++) {
          const size = t.offsets[b + 1] - t.offsets[b];
          const dim = layout === 'padded' ? u.maxNodes : size;
          expect(u.rowLength[b]).toBe(dim);
          expect(p.rowLength[b]).toBe(Math.ceil(dim / 32));
          expect(u.offsets[b + 1] - u.offsets[b]).toBe(dim * dim);
          const want: number[] = [];
          const gotU: number[] = [];
          const gotP: number[] = [];
          for (let i = 0; i < dim; i++) {
            const anc = i < size ? ancestors(t, b, i) : new Set<number>();
            if (i < size) expect(u.positions[t.offsets[b] + i]).toBe(anc.size - 1);
            for (let j = 0; j < dim; j++) {
              want.push(anc.has(j) ? 1 : 0);
              gotU.push(u.mask[u.offsets[b] + i * dim + j]);
              gotP.push((p.mask[p.offsets[b] + i * p.rowLength[b] + (j >>> 5)] >>> (j & 31)) & 1);
            }
          }
          expect(gotU).toEqual(want);
          expect(gotP).toEqual(want);
        }
      }
    }
  });
  test('rejects invalid trees and layouts', () => {
    expect(() => attentionMask(tb([1, 2], [-1, 1], [0, 2]))).toThrow(RangeError);
    expect(() => attentionMask(tb([1], [-1], [0, 1]), { layout: 'dense' as 'ragged' })).toThrow(/layout/);
  });
});

describe('specdec.stopIndex', () => {
  test('documented examples and reference', () => {
    expect(stopIndex([0.9, 0.8, 0.7], 0.25)).toBe(1);
    expect(stopIndex([0.9, 0.8, 0.7], 0.5)).toBe(-1);
    expect(stopIndex(new Float32Array([0.5]), 0.4)).toBe(0);
    expect(stopIndex([], 0.1)).toBe(-1);
    expect(stopIndex([1, 1, 1], 0)).toBe(-1);
    expect(stopIndex([1, 0.999], 0)).toBe(1);
    expect(stopIndex([0, 0], 1)).toBe(-1);
    const r = rng(3);
    for (let k = 0; k < 500; k++) {
      const h = Array.from({ length: 1 + Math.floor(r() * 12) }, () => (r() < 0.1 ? 1 : r() ** 0.2));
      const th = r();
      let want = -1;
      for (let i = 0; i < h.length && want < 0; i++) {
        const prod = h.slice(0, i + 1).reduce((a, v) => a * v, 1);
        if (1 - prod > th) want = i;
      }
      expect(stopIndex(Float64Array.from(h), th)).toBe(want);
    }
  });
  test('errors', () => {
    expect(() => stopIndex([0.5, 1.5], 0.5)).toThrow(/acceptProbs\[1\]/);
    expect(() => stopIndex([NaN], 0.5)).toThrow(RangeError);
    expect(() => stopIndex([0.5], 2)).toThrow(/threshold must be a number in \[0, 1\] \(got 2\)/);
    expect(() => stopIndex(null as unknown as number[], 0.5)).toThrow(TypeError);
  });
});
