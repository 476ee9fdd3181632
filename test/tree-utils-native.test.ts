import { expectedAcceptance, gtoReward, nodeProbabilities } from '../lib/tree/utils';
import { optimalAcceptance, optimalAcceptanceBounds } from '../lib/tree/multidraft';
import type { TreeBatch } from '../lib/tree/types';
import { bf16Bits, bf16Value, sparseLogits } from './helpers/logits';
import { randInt, rng } from './helpers/rng';
import { randomTrees } from './helpers/treeRandom';
import {
  expectedAcceptanceRef,
  gtoRewardRef,
  nodeProbs,
  optimalAcceptanceRef,
  rrsNodeProbs,
  type Processing,
} from './helpers/treeReference';

const I = (a: number[]) => Int32Array.from(a);

// The kernel reduces rows with float exponentials accumulated in double: ~1e-8 relative per probability.
function expectClose(got: Float64Array, want: Float64Array, rel = 1e-7) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rel * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`entry ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

const settings: [string, Processing][] = [
  ['plain', {}],
  ['greedy', { greedy: true }],
  ['temperature 0 = greedy', { temperature: 0 }],
  ['temperature 0.6', { temperature: 0.6 }],
  ['temperature 2.5', { temperature: 2.5 }],
  ['top-k 3', { topK: 3 }],
  ['top-p 0.8', { topP: 0.8 }],
  ['top-k 5 + top-p 0.7 + T 0.8', { topK: 5, topP: 0.7, temperature: 0.8 }],
  ['top-k >= V (off)', { topK: 1000 }],
  ['tiny top-p keeps one token', { topP: 1e-6 }],
];

describe('tree.expectedAcceptance / tree.gtoReward vs float64 reference', () => {
  test.each(settings)('%s', async (_name, proc) => {
    for (let seed = 1; seed <= 15; seed++) {
      const r = rng(seed * 101);
      const vocab = 2 + randInt(r, 12);
      const trees = randomTrees(r, 1 + randInt(r, 5), 12, vocab);
      const rows = trees.tokens.length;
      const z = sparseLogits(r, rows, vocab, 0.15);
      const prob = nodeProbs(trees, z, vocab, () => proc);
      const opts = { mode: proc.greedy ? ('greedy' as const) : ('sample' as const), temperature: proc.temperature, topK: proc.topK, topP: proc.topP };
      const target = { data: z, rows, vocab };
      expectClose(await expectedAcceptance(trees, target, opts), expectedAcceptanceRef(trees, prob));
      expectClose(await nodeProbabilities(trees, target, opts), prob);
      for (const eta of [0.3, 1, 7]) {
        expectClose(await gtoReward(trees, target, { ...opts, eta }), gtoRewardRef(trees, prob, eta));
      }
    }
  });

  test.each([
    ['iid', false],
    ['without-replacement', true],
  ] as const)('drafts = %s: recursive-rejection acceptance probabilities', async (drafts, wor) => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed * 7 + (wor ? 1 : 0));
      const vocab = 2 + randInt(r, 8);
      const trees = randomTrees(r, 1 + randInt(r, 4), 12, vocab, !wor && seed % 2 === 0);
      const rows = trees.tokens.length;
      const z = sparseLogits(r, rows, vocab, 0.1);
      const qz = sparseLogits(r, rows, vocab, 0.1);
      const proc: Processing = [{}, { temperature: 0.7 }, { topK: 2 }, { topP: 0.8 }][seed % 4];
      const opts = { ...proc, drafts, draft: { data: qz, rows, vocab } };
      const want = rrsNodeProbs(trees, z, qz, vocab, () => proc, wor);
      const target = { data: z, rows, vocab };
      expectClose(await nodeProbabilities(trees, target, opts), want);
      expectClose(await expectedAcceptance(trees, target, opts), expectedAcceptanceRef(trees, want));
    }
  });

  test('drafts validation', async () => {
    const trees: TreeBatch = { tokens: I([0, 1, 1]), parents: I([-1, 0, 0]), offsets: I([0, 3]) };
    const target = { data: new Float32Array(9), rows: 3, vocab: 3 };
    await expect(expectedAcceptance(trees, target, { drafts: 'iid' })).rejects.toThrow(/opts.draft .* is required/);
    await expect(expectedAcceptance(trees, target, { drafts: 'iid', draft: { data: new Float32Array(6), rows: 2, vocab: 3 } })).rejects.toThrow(
      /draft must be 3 × 3/,
    );
    await expect(expectedAcceptance(trees, target, { drafts: 'without-replacement', draft: target })).rejects.toThrow(/same token 1/);
    await expect(expectedAcceptance(trees, target, { drafts: 'beam' as 'iid', draft: target })).rejects.toThrow(/opts.drafts/);
    const nan = new Float32Array(9);
    nan[2] = NaN;
    await expect(expectedAcceptance(trees, target, { drafts: 'iid', draft: { ...target, data: nan } })).rejects.toThrow(/draft logits row 0 has NaN/);
    // q = p with one child: accepted with certainty.
    const one: TreeBatch = { tokens: I([0, 2]), parents: I([-1, 0]), offsets: I([0, 2]) };
    const z = new Float32Array([0.1, 0.5, 0.9, 0, 0, 0]);
    const l = { data: z, rows: 2, vocab: 3 };
    expect((await expectedAcceptance(one, l, { drafts: 'iid', draft: l }))[0]).toBeCloseTo(1, 12);
    // Greedy verification ignores q; temperature 0 likewise.
    const r = rng(3);
    const t = randomTrees(r, 3, 9, 5);
    const zz = sparseLogits(r, t.tokens.length, 5, 0);
    const qq = sparseLogits(r, t.tokens.length, 5, 0);
    const tl = { data: zz, rows: t.tokens.length, vocab: 5 };
    const g = await expectedAcceptance(t, tl, { mode: 'greedy' });
    expect(await expectedAcceptance(t, tl, { mode: 'greedy', drafts: 'iid', draft: { ...tl, data: qq } })).toEqual(g);
    expect(await expectedAcceptance(t, tl, { temperature: 0, drafts: 'without-replacement', draft: { ...tl, data: qq } })).toEqual(g);
  });

  test('per-request temperature / top-k / top-p arrays', async () => {
    const r = rng(77);
    const vocab = 9;
    const trees = randomTrees(r, 6, 10, vocab);
    const batch = 6;
    const T = Float32Array.from({ length: batch }, (_, b) => [0, 0.5, 1, 1.7, 0.9, 3][b]);
    const K = Int32Array.from({ length: batch }, (_, b) => [0, 2, 4, 0, 9, 1][b]);
    const P = Float32Array.from({ length: batch }, (_, b) => [1, 0.6, 0.95, 0.3, 1, 0.5][b]);
    const z = sparseLogits(r, trees.tokens.length, vocab);
    const prob = nodeProbs(trees, z, vocab, (b) => ({ temperature: T[b], topK: K[b], topP: P[b] }));
    const target = { data: z, rows: trees.tokens.length, vocab };
    expectClose(await expectedAcceptance(trees, target, { temperature: T, topK: K, topP: P }), expectedAcceptanceRef(trees, prob));
  });

  test('float16 and bfloat16 logits', async () => {
    const r = rng(5);
    const vocab = 11;
    const trees = randomTrees(r, 4, 12, vocab);
    const rows = trees.tokens.length;
    const f16 = new Uint16Array(rows * vocab);
    const bf16 = new Uint16Array(rows * vocab);
    const zf16 = new Float64Array(rows * vocab);
    const zbf16 = new Float64Array(rows * vocab);
    for (let i = 0; i < f16.length; i++) {
      const sign = r() < 0.5 ? 0x8000 : 0;
      const exp = 12 + randInt(r, 6); // 2^-3 .. 2^2
      const man = randInt(r, 1024);
      f16[i] = sign | (exp << 10) | man;
      zf16[i] = (sign ? -1 : 1) * 2 ** (exp - 15) * (1 + man / 1024);
      bf16[i] = bf16Bits((r() * 2 - 1) * 4);
      zbf16[i] = bf16Value(bf16[i]);
    }
    for (const [data, zz, dtype] of [
      [f16, zf16, 'float16'],
      [bf16, zbf16, 'bfloat16'],
    ] as const) {
      const prob = nodeProbs(trees, zz, vocab, () => ({ topK: 6, temperature: 0.7 }));
      const got = await expectedAcceptance(trees, { data, dtype, rows, vocab }, { topK: 6, temperature: 0.7 });
      expectClose(got, expectedAcceptanceRef(trees, prob));
    }
  });

  test('large vocabulary with top-p (candidate pruning path)', async () => {
    const r = rng(9);
    const vocab = 32000;
    const trees: TreeBatch = { tokens: I([1, 5, 17, 31999, 2]), parents: I([-1, 0, 0, 1, 1]), offsets: I([0, 5]) };
    const z = new Float32Array(5 * vocab);
    for (let i = 0; i < z.length; i++) z[i] = 3 * (r() + r() + r() - 1.5);
    for (const row of [0, 1]) z[row * vocab + 5] = 9; // a peaked token so top-p keeps a short prefix
    for (const topP of [0.5, 0.9, 0.999]) {
      const prob = nodeProbs(trees, z, vocab, () => ({ topP }));
      expectClose(await expectedAcceptance(trees, { data: z, rows: 5, vocab }, { topP }), expectedAcceptanceRef(trees, prob), 1e-9);
    }
  });

  test('edge cases: root-only trees, certain chains, zero-probability and filtered children', async () => {
    const vocab = 4;
    // tree 0: root only; tree 1: chain whose tokens are the argmax at every step; tree 2: children with -inf logits.
    const trees: TreeBatch = {
      tokens: I([0, 0, 1, 2, 3, 0, 0, 1]),
      parents: I([-1, -1, 0, 1, 2, -1, 0, 0]),
      offsets: I([0, 1, 5, 8]),
    };
    const z = new Float32Array(8 * vocab);
    const set = (row: number, vals: number[]) => z.set(vals, row * vocab);
    set(0, [0, 0, 0, 0]);
    set(1, [0, 5, 0, 0]);
    set(2, [0, 0, 5, 0]);
    set(3, [0, 0, 0, 5]);
    set(4, [1, 0, 0, 0]);
    set(5, [-Infinity, -Infinity, 0, 0]);
    const target = { data: z, rows: 8, vocab };
    const g = await expectedAcceptance(trees, target, { mode: 'greedy' });
    expect(Array.from(g)).toEqual([0, 3, 0]);
    const s = await expectedAcceptance(trees, target);
    expect(s[0]).toBe(0);
    expect(s[2]).toBe(0);
    const pk = Math.exp(5) / (Math.exp(5) + 3);
    expect(s[1]).toBeCloseTo(pk + pk * pk + pk ** 3, 9);
    // top-k 1 leaves only the argmax: the chain is accepted with certainty.
    expect((await expectedAcceptance(trees, target, { topK: 1 }))[1]).toBeCloseTo(3, 12);
    const rw = await gtoReward(trees, target, { eta: 2, mode: 'greedy' });
    expect(rw[0]).toBe(0);
    expect(rw[1]).toBeCloseTo(3, 12); // one path, every reach probability 1: L = 1 + 1 + 1
    expect(rw[2]).toBeCloseTo(Math.log(2) / 2, 12); // two paths with L = 0
  });

  test('an AbortSignal stops a long call', async () => {
    const V = 50000;
    const batch = 60;
    const trees: TreeBatch = {
      tokens: Int32Array.from({ length: batch * 3 }, (_, i) => i % 3),
      parents: Int32Array.from({ length: batch * 3 }, (_, i) => (i % 3 === 0 ? -1 : 0)),
      offsets: Int32Array.from({ length: batch + 1 }, (_, b) => 3 * b),
    };
    const z = new Float32Array(batch * 3 * V);
    for (let i = 0; i < z.length; i++) z[i] = ((i * 2654435761) % 1000) / 100; // flat rows: top-p needs most tokens
    const target = { data: z, rows: batch * 3, vocab: V };
    const ac = new AbortController();
    const p = expectedAcceptance(trees, target, { topP: 0.95, signal: ac.signal });
    setTimeout(() => ac.abort(), 2);
    await expect(p).rejects.toThrow(/aborted/);
    await expect(expectedAcceptance(trees, target, { topP: 0.95 })).resolves.toHaveLength(batch);
  });

  test('GTO reward tends to the best path as eta grows and is >= it', async () => {
    const r = rng(31);
    const vocab = 6;
    const trees = randomTrees(r, 5, 12, vocab);
    const z = sparseLogits(r, trees.tokens.length, vocab);
    const target = { data: z, rows: trees.tokens.length, vocab };
    const prob = nodeProbs(trees, z, vocab, () => ({}));
    const big = gtoRewardRef(trees, prob, 1e9);
    const got = await gtoReward(trees, target, { eta: 1e6 });
    for (let b = 0; b < 5; b++) {
      expect(got[b]).toBeGreaterThanOrEqual(big[b] - 1e-8);
      expect(got[b] - big[b]).toBeLessThan(1e-4);
    }
    // Huge eta × L must not overflow.
    const huge = await gtoReward(trees, target, { eta: 1e300 });
    for (let b = 0; b < 5; b++) expect(Number.isFinite(huge[b])).toBe(true);
  });

  test('errors name the argument', async () => {
    const trees: TreeBatch = { tokens: I([0, 1, 2]), parents: I([-1, 0, 0]), offsets: I([0, 3]) };
    const z = new Float32Array(9);
    const target = { data: z, rows: 3, vocab: 3 };
    await expect(expectedAcceptance(trees, { ...target, rows: 2, data: new Float32Array(6) })).rejects.toThrow(
      /target must have one row per tree node \(3/,
    );
    await expect(expectedAcceptance({ ...trees, tokens: I([0, 1, 1]) }, target)).rejects.toThrow(/same token 1/);
    await expect(expectedAcceptance({ ...trees, tokens: I([0, 1, 3]) }, target)).rejects.toThrow(/tokens\[2\] = 3 is out of range/);
    await expect(expectedAcceptance({ ...trees, parents: I([-1, 0, 2]) }, target)).rejects.toThrow(RangeError);
    await expect(expectedAcceptance(trees, target, { topP: 0 })).rejects.toThrow(/opts.topP must be a number in \(0, 1\]/);
    await expect(expectedAcceptance(trees, target, { temperature: -1 })).rejects.toThrow(/opts.temperature/);
    await expect(expectedAcceptance(trees, target, { topK: 1.5 })).rejects.toThrow(/opts.topK/);
    await expect(expectedAcceptance(trees, target, { topK: new Int32Array(2) })).rejects.toThrow(/one entry per tree \(1\)/);
    await expect(expectedAcceptance(trees, target, { mode: 'beam' as 'greedy' })).rejects.toThrow(/opts.mode/);
    await expect(gtoReward(trees, target, { eta: 0 })).rejects.toThrow(/eta must be a finite number > 0/);
    const nan = new Float32Array(9);
    nan[1] = NaN;
    await expect(expectedAcceptance(trees, { ...target, data: nan })).rejects.toThrow(/target logits row 0 has NaN or \+inf at token 1/);
    const allNeg = new Float32Array(9).fill(-Infinity);
    await expect(expectedAcceptance(trees, { ...target, data: allNeg })).rejects.toThrow(/row 0 is all -inf/);
    // Leaf rows are never read: NaN there is not an error.
    const leafNan = new Float32Array(9);
    leafNan[7] = NaN;
    await expect(expectedAcceptance(trees, { ...target, data: leafNan })).resolves.toHaveLength(1);
    const ac = new AbortController();
    ac.abort();
    await expect(expectedAcceptance(trees, target, { signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});

function randomDist(r: () => number, V: number, zeroRate: number): Float64Array {
  const d = Float64Array.from({ length: V }, () => (r() < zeroRate ? 0 : -Math.log(1 - r())));
  if (d.every((x) => x === 0)) d[randInt(r, V)] = 1;
  const s = d.reduce((a, x) => a + x, 0);
  return d.map((x) => x / s);
}

describe('multidraft.optimalAcceptance vs brute force over all subsets H', () => {
  test('with replacement (i.i.d. drafts)', async () => {
    const r = rng(1234);
    for (let k = 0; k < 300; k++) {
      const V = 1 + randInt(r, 9);
      const n = 1 + randInt(r, 6);
      const p = randomDist(r, V, 0.2);
      const q = randomDist(r, V, 0.2);
      const got = await optimalAcceptance(p, q, n, { replacement: true });
      expect(Math.abs(got - optimalAcceptanceRef(p, q, n, true))).toBeLessThan(1e-12);
    }
  });
  test('without replacement (exact for small supports)', async () => {
    const r = rng(99);
    for (let k = 0; k < 200; k++) {
      const V = 1 + randInt(r, 7);
      const p = randomDist(r, V, 0.2);
      const q = randomDist(r, V, 0.15);
      const m = q.filter((x) => x > 0).length;
      const n = 1 + randInt(r, m);
      const got = await optimalAcceptance(p, q, n, { replacement: false });
      expect(Math.abs(got - optimalAcceptanceRef(p, q, n, false))).toBeLessThan(1e-12);
      const b = await optimalAcceptanceBounds(p, q, n);
      expect(b).toEqual({ lower: got, upper: got, exact: true });
    }
  });
  test('known values: n = 1 is 1 − TV; q = p; disjoint supports; Float32 input', async () => {
    const p = new Float64Array([0.5, 0.3, 0.2, 0]);
    const q = new Float64Array([0.1, 0.3, 0.2, 0.4]);
    const tv = 0.5 * p.reduce((a, x, i) => a + Math.abs(x - q[i]), 0);
    expect(await optimalAcceptance(p, q, 1, { replacement: true })).toBeCloseTo(1 - tv, 14);
    expect(await optimalAcceptance(p, p, 1, { replacement: true })).toBeCloseTo(1, 14);
    expect(await optimalAcceptance(p, p, 3, { replacement: false })).toBeCloseTo(1, 14);
    expect(await optimalAcceptance(new Float64Array([1, 0]), new Float64Array([0, 1]), 3, { replacement: true })).toBe(0);
    expect(await optimalAcceptance(new Float64Array([0.5, 0.5]), new Float64Array([0.9, 0.1]), 2, { replacement: true })).toBeCloseTo(0.69, 14);
    const f = await optimalAcceptance(Float32Array.from(p), Float32Array.from(q), 2, { replacement: true });
    expect(f).toBeCloseTo(await optimalAcceptance(p, q, 2, { replacement: true }), 6);
  });
  test('more drafts never hurt; without replacement >= with replacement', async () => {
    const r = rng(4);
    for (let k = 0; k < 50; k++) {
      const p = randomDist(r, 8, 0.1);
      const q = randomDist(r, 8, 0);
      let prev = 0;
      for (let n = 1; n <= 8; n++) {
        const iid = await optimalAcceptance(p, q, n, { replacement: true });
        const wor = await optimalAcceptance(p, q, n, { replacement: false });
        expect(iid).toBeGreaterThanOrEqual(prev - 1e-12);
        expect(wor).toBeGreaterThanOrEqual(iid - 1e-12);
        prev = iid;
      }
      expect(await optimalAcceptance(p, q, 8, { replacement: false })).toBeCloseTo(1, 12); // all 8 tokens drafted
    }
  });
  test('large vocabularies: i.i.d. exact, without replacement bounded', async () => {
    const r = rng(8);
    const V = 128256;
    const p = randomDist(r, V, 0);
    const q = randomDist(r, V, 0);
    const t0 = Date.now();
    const iid = await optimalAcceptance(p, q, 4, { replacement: true });
    expect(Date.now() - t0).toBeLessThan(2000);
    const b = await optimalAcceptanceBounds(p, q, 4);
    expect(b.exact).toBe(false);
    expect(b.lower).toBe(iid);
    expect(b.upper).toBeGreaterThanOrEqual(b.lower);
    expect(b.upper).toBeLessThanOrEqual(1);
    await expect(optimalAcceptance(p, q, 4, { replacement: false })).rejects.toThrow(/optimalAcceptanceBounds/);
  });
  test('errors', async () => {
    const p = new Float64Array([0.5, 0.5]);
    await expect(optimalAcceptance([0.5, 0.5] as unknown as Float64Array, p, 1, { replacement: true })).rejects.toThrow(TypeError);
    await expect(optimalAcceptance(p, new Float64Array([0.5, 0.2, 0.3]), 1, { replacement: true })).rejects.toThrow(/same vocabulary size/);
    await expect(optimalAcceptance(p, new Float64Array([0.5, 0.6]), 1, { replacement: true })).rejects.toThrow(/q must sum to 1/);
    await expect(optimalAcceptance(p, new Float64Array([1.5, -0.5]), 1, { replacement: true })).rejects.toThrow(/q\[1\]/);
    await expect(optimalAcceptance(p, p, 0, { replacement: true })).rejects.toThrow(/n \(number of drafts\)/);
    await expect(optimalAcceptance(p, p, 2.5, { replacement: true })).rejects.toThrow(RangeError);
    await expect(optimalAcceptance(p, new Float64Array([1, 0]), 2, { replacement: false })).rejects.toThrow(/at least n tokens with q > 0/);
    await expect(optimalAcceptance(p, p, 1, {} as { replacement: boolean })).rejects.toThrow(/opts.replacement/);
  });
});
