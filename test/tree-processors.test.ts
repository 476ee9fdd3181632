// Logits processors inside the kernel (issue #8): allowedTokens (per request or per node), logitBias,
// repetition / frequency / presence penalties, in verifyTree and the tree utilities (CPU). Float64 reference vs
// kernel on random inputs of awkward sizes for each processor alone and combined, greedy = argmax of the processed
// logits, a χ² exactness test (the 10^6-trial version is the native check tree_processors), bad input.
import { DeviceTensor } from '../lib/device';
import { expectedAcceptance, nodeProbabilities } from '../lib/tree/utils';
import { verifyTree, type DraftKind } from '../lib/tree/verify';
import type { TreeBatch } from '../lib/tree/types';
import { processedDistribution, rrsNodeProbs, type Processing } from './helpers/treeReference';
import { chi2, packMask, processAll, processRow, type ProcessorOptions } from './helpers/processorsReference';
import { randInt, rng } from './helpers/rng';
import { randomTrees } from './helpers/treeRandom';

type R = () => number;
type Which = { mask?: 'request' | 'node'; bias?: boolean; penalties?: boolean };

function randomLogits(r: R, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => 4 * (r() * 2 - 1));
}

/** Random processors for a batch; masks always allow at least one token of every row (logits are finite). */
function randomProcessors(r: R, t: TreeBatch, V: number, w: Which): ProcessorOptions {
  const batch = t.offsets.length - 1, nodes = t.tokens.length;
  const o: ProcessorOptions = {};
  if (w.mask) {
    const rows = w.mask === 'request' ? batch : nodes;
    const keep = Array.from({ length: rows }, () => randInt(r, V));
    const density = 0.2 + 0.6 * r();
    o.allowedTokens = packMask(rows, V, (row, x) => x === keep[row] || r() < density);
  }
  const ragged = (per: () => number) => {
    const offsets = new Int32Array(batch + 1), ids: number[] = [];
    for (let b = 0; b < batch; b++) {
      const n = per();
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        const x = randInt(r, V);
        if (!seen.has(x)) { seen.add(x); ids.push(x); }
      }
      offsets[b + 1] = ids.length;
    }
    return { offsets, ids: Int32Array.from(ids) };
  };
  if (w.bias) {
    const { offsets, ids } = ragged(() => randInt(r, 6));
    o.logitBias = { offsets, ids, values: Float32Array.from(ids, () => 6 * (r() * 2 - 1)) };
  }
  if (w.penalties) {
    const { offsets, ids } = ragged(() => randInt(r, 8));
    o.penalties = {
      history: { offsets, ids, counts: Int32Array.from(ids, () => randInt(r, 4)) },
      repetition: r() < 0.5 ? 0.5 + 2 * r() : Float32Array.from({ length: batch }, () => 0.5 + 2 * r()),
      frequency: r() < 0.5 ? r() - 0.2 : Float32Array.from({ length: batch }, () => r() - 0.2),
      presence: r() - 0.2,
    };
  }
  return o;
}

const SETTINGS: [string, Which][] = [
  ['mask per request', { mask: 'request' }],
  ['mask per node', { mask: 'node' }],
  ['logit bias', { bias: true }],
  ['penalties', { penalties: true }],
  ['all (request mask)', { mask: 'request', bias: true, penalties: true }],
  ['all (node mask)', { mask: 'node', bias: true, penalties: true }],
];

describe('processors: CPU tree utilities == float64 reference', () => {
  test.each(SETTINGS)('%s', async (_name, which) => {
    const r = rng(1234 + _name.length);
    for (const V of [1, 5, 31, 32, 33, 100, 1025, 3001]) {
      for (const drafts of ['deterministic', 'iid', 'without-replacement'] as DraftKind[]) {
        const batch = 1 + randInt(r, 4);
        const t = randomTrees(r, batch, 9, V, drafts === 'iid');
        const nodes = t.tokens.length;
        const target = randomLogits(r, nodes * V), draft = randomLogits(r, nodes * V);
        const proc = randomProcessors(r, t, V, which);
        const knobs: Processing = { temperature: 0.5 + r(), topK: r() < 0.3 ? 1 + randInt(r, 5) : 0, minP: r() < 0.3 ? 0.05 : 0 };
        const greedy = r() < 0.15;
        const got = await nodeProbabilities(t, { data: target, rows: nodes, vocab: V }, {
          mode: greedy ? 'greedy' : 'sample', ...knobs, ...proc, drafts,
          ...(drafts === 'deterministic' ? {} : { draft: { data: draft, rows: nodes, vocab: V } }),
        });
        const Z = processAll(target, proc, t, V);
        const per = () => ({ ...knobs, greedy });
        const want = drafts === 'deterministic' || greedy
          ? rrsNodeProbs(t, Z, Z, V, per, false) // greedy: p_parent(x) (deterministic: replaced below)
          : rrsNodeProbs(t, Z, processAll(draft, proc, t, V), V, per, drafts === 'without-replacement');
        if (drafts === 'deterministic' && !greedy) {
          // deterministic: the factor is p_parent(x) itself (rrsNodeProbs's first child only); recompute directly
          for (let b = 0; b < batch; b++) {
            const o = t.offsets[b]!;
            for (let g = o + 1; g < t.offsets[b + 1]!; g++) {
              const row = o + t.parents[g]!;
              want[g] = processedDistribution(Z.subarray(row * V, (row + 1) * V), per())[t.tokens[g]!]!;
            }
          }
        }
        for (let g = 0; g < nodes; g++) {
          if (Math.abs(got[g]! - want[g]!) > 1e-5) {
            throw new Error(`V=${V} ${drafts} greedy=${greedy} node ${g}: got ${got[g]}, want ${want[g]}`);
          }
        }
      }
    }
  });

  test('penalties: a worked example (history + path counts)', async () => {
    // Row of node 1 (path token 2), history {1: 2}; r = 2, f = 0.5, p = 0.25:
    //   z1 = 2 / 2 − 2·0.5 − 0.25 = −0.25, z2 = −1·2 − 1·0.5 − 0.25 = −2.75, z0 and z3 unchanged.
    const V = 4;
    const t = { tokens: new Int32Array([0, 2, 3]), parents: new Int32Array([-1, 0, 1]), offsets: new Int32Array([0, 3]) };
    const z = new Float32Array([0, 0, 0, 0, 1, 2, -1, 0.5, 0, 0, 0, 0]);
    const p = await nodeProbabilities(t, { data: z, rows: 3, vocab: V }, {
      penalties: { repetition: 2, frequency: 0.5, presence: 0.25, history: { offsets: new Int32Array([0, 1]), ids: new Int32Array([1]), counts: new Int32Array([2]) } },
    });
    const w = [1, -0.25, -2.75, 0.5].map(Math.exp);
    expect(p[2]).toBeCloseTo(w[3]! / w.reduce((a, b) => a + b, 0), 7);
  });
});

describe('processors: verifyTree (CPU)', () => {
  test('greedy follows the argmax of the processed logits', async () => {
    const r = rng(77);
    for (let rep = 0; rep < 40; rep++) {
      const V = 2 + randInt(r, 300);
      const batch = 1 + randInt(r, 4);
      const t = randomTrees(r, batch, 8, V);
      const nodes = t.tokens.length;
      const data = randomLogits(r, nodes * V);
      // plant children as the raw argmax of their parent half the time (the processors may move it)
      for (let g = 1; g < nodes; g++) if (t.parents[g]! >= 0 && r() < 0.5) {
        let b = 0;
        while (t.offsets[b + 1]! <= g) b++;
        data[(t.offsets[b]! + t.parents[g]!) * V + t.tokens[g]!] = 3 + r();
      }
      const proc = randomProcessors(r, t, V, SETTINGS[rep % SETTINGS.length]![1]);
      const res = await verifyTree(t, { data, rows: nodes, vocab: V }, { mode: 'greedy', seed: rep, ...proc });
      const Z = processAll(data, proc, t, V);
      for (let b = 0; b < batch; b++) {
        const o = t.offsets[b]!;
        let v = 0;
        const want: number[] = [];
        for (;;) {
          const row = Z.subarray((o + v) * V, (o + v + 1) * V);
          let y = 0;
          for (let x = 1; x < V; x++) if (row[x]! > row[y]!) y = x;
          want.push(y);
          let next = -1;
          for (let c = v + 1; c < t.offsets[b + 1]! - o; c++) if (t.parents[o + c] === v && t.tokens[o + c] === y) { next = c; break; }
          if (next < 0) break;
          v = next;
        }
        expect(Array.from(res.tokens.subarray(res.tokenOffsets[b], res.tokenOffsets[b + 1]))).toEqual(want);
      }
    }
  });

  test('sampling emits only tokens the processors leave a finite logit, in every draft kind', async () => {
    const r = rng(5);
    for (let rep = 0; rep < 30; rep++) {
      const drafts = (['deterministic', 'iid', 'without-replacement'] as DraftKind[])[rep % 3]!;
      const V = 3 + randInt(r, 90);
      const t = randomTrees(r, 1 + randInt(r, 5), 10, V, drafts === 'iid');
      const nodes = t.tokens.length;
      const data = randomLogits(r, nodes * V), draft = randomLogits(r, nodes * V);
      const proc = randomProcessors(r, t, V, { mask: rep % 2 ? 'node' : 'request', bias: true, penalties: true });
      const res = await verifyTree(t, { data, rows: nodes, vocab: V }, {
        mode: 'sample', seed: rep, drafts, topP: 0.9, ...proc,
        ...(drafts === 'deterministic' ? {} : { draft: { data: draft, rows: nodes, vocab: V } }),
      });
      const Z = processAll(data, proc, t, V);
      for (let b = 0; b + 1 < t.offsets.length; b++) {
        for (let i = res.tokenOffsets[b]!; i < res.tokenOffsets[b + 1]!; i++) {
          const g = t.offsets[b]! + res.acceptedNodes[i]!;
          expect(Z[g * V + res.tokens[i]!]).toBeGreaterThan(-Infinity);
        }
      }
    }
  });
});

describe('processors: χ² exactness (small; the 10^6-trial version is the native check tree_processors)', () => {
  // A two-level star: the root has every token as a child and so has each of them. With deterministic drafts the
  // first two emitted tokens are then distributed as p_root(x) · p_x(y), where p_x is penalised with x on its path.
  // Threshold p > 1e-4 per test; 10 tests (5 settings × first / joint): family-wise false alarm <= 1e-3.
  const V = 6, TRIALS = 20_000;
  const star = (batch: number): TreeBatch => {
    const n = 1 + V + V * V;
    const tokens = new Int32Array(batch * n), parents = new Int32Array(batch * n), offsets = new Int32Array(batch + 1);
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      parents[o] = -1;
      for (let x = 0; x < V; x++) {
        tokens[o + 1 + x] = x; parents[o + 1 + x] = 0;
        for (let y = 0; y < V; y++) { const c = 1 + V + x * V + y; tokens[o + c] = y; parents[o + c] = 1 + x; }
      }
      offsets[b + 1] = o + n;
    }
    return { tokens, parents, offsets };
  };
  const base = rng(99);
  const row = Array.from({ length: 1 + V + V * V }, () => randomLogits(base, V));
  const top = Array.from(row[0]!.keys()).sort((a, b) => row[0]![b]! - row[0]![a]!);
  const one = (ids: number[], values?: number[]) => ({ offsets: new Int32Array([0, ids.length]), ids: Int32Array.from(ids), values: Float32Array.from(values ?? []) });
  const perBatch = (o: ProcessorOptions, batch: number): ProcessorOptions => {
    // replicate request 0's processors over the batch
    const rep = <A extends Int32Array | Float32Array | Uint32Array>(a: A, k: number): A => {
      const out = new (a.constructor as new (n: number) => A)(a.length * k);
      for (let i = 0; i < k; i++) out.set(a, i * a.length);
      return out;
    };
    const offs = (len: number) => Int32Array.from({ length: batch + 1 }, (_, b) => b * len);
    const out: ProcessorOptions = {};
    if (o.allowedTokens) out.allowedTokens = rep(o.allowedTokens, batch);
    if (o.logitBias) out.logitBias = { offsets: offs(o.logitBias.ids.length), ids: rep(o.logitBias.ids, batch), values: rep(o.logitBias.values, batch) };
    if (o.penalties) {
      const h = o.penalties.history;
      out.penalties = { ...o.penalties, history: { offsets: offs(h.ids.length), ids: rep(h.ids, batch), counts: rep(h.counts, batch) } };
    }
    return out;
  };
  const nodeMask = packMask(1 + V + V * V, V, (g, x) => (g === 0 ? x !== top[0] : g % 3 === 0 ? x === (g % V) : (x + g) % 2 === 0));
  const cases: [string, ProcessorOptions, Processing][] = [
    ['mask per request', { allowedTokens: packMask(1, V, (_r, x) => x !== top[0] && x !== 4) }, {}],
    ['mask per node (1 token at a third of the nodes)', { allowedTokens: nodeMask }, { temperature: 0.8 }],
    ['bias with a ban', { logitBias: { ...one([top[1]!, top[0]!, 2], [1.5, -Infinity, -0.5]) } }, {}],
    ['penalties that reorder the top', { penalties: { repetition: 2, frequency: 0.6, presence: 0.4, history: { offsets: new Int32Array([0, 2]), ids: Int32Array.from([top[0]!, top[1]!]), counts: new Int32Array([2, 1]) } } }, {}],
    ['all + top-k / top-p', {
      allowedTokens: packMask(1, V, (_r, x) => x !== 5), logitBias: one([1, 3], [0.8, -0.4]),
      penalties: { repetition: 1.5, frequency: 0.3, presence: 0.2, history: { offsets: new Int32Array([0, 1]), ids: Int32Array.from([top[0]!]), counts: new Int32Array([1]) } },
    }, { temperature: 1.2, topK: 4, topP: 0.9 }],
  ];
  test.each(cases)('%s', async (_name, o, knobs) => {
    const n = 1 + V + V * V;
    const t = star(TRIALS);
    const data = new Float32Array(TRIALS * n * V);
    for (let b = 0; b < TRIALS; b++) for (let g = 0; g < n; g++) data.set(row[g]!, (b * n + g) * V);
    const perNode = o.allowedTokens !== undefined && o.allowedTokens.length === n * Math.ceil(V / 32);
    const big = perBatch(perNode ? { ...o, allowedTokens: undefined } : o, TRIALS);
    if (perNode) {
      const m = new Uint32Array(TRIALS * n);
      for (let b = 0; b < TRIALS; b++) m.set(o.allowedTokens!, b * n);
      big.allowedTokens = m;
    }
    const res = await verifyTree(t, { data, rows: TRIALS * n, vocab: V }, { mode: 'sample', seed: 42, step: 3, ...knobs, ...big });
    const first = new Float64Array(V), joint = new Float64Array(V * V);
    for (let b = 0; b < TRIALS; b++) {
      const x = res.tokens[res.tokenOffsets[b]!]!, y = res.tokens[res.tokenOffsets[b]! + 1]!;
      first[x]++;
      joint[x * V + y]++;
    }
    const single = star(1);
    const p0 = processedDistribution(processRow(row[0]!, o, single, 0, 0, V), knobs);
    const pj = new Float64Array(V * V);
    for (let x = 0; x < V; x++) {
      if (p0[x] === 0) continue;
      const px = processedDistribution(processRow(row[1 + x]!, o, single, 0, 1 + x, V), knobs);
      for (let y = 0; y < V; y++) pj[x * V + y] = p0[x]! * px[y]!;
    }
    const c1 = chi2(first, p0, TRIALS), c2 = chi2(joint, pj, TRIALS);
    expect(c1.impossible).toBe(0);
    expect(c2.impossible).toBe(0);
    expect(c1.p).toBeGreaterThan(1e-4);
    expect(c2.p).toBeGreaterThan(1e-4);
  });
});

// A DeviceTensor shell (no CUDA here): only its byteLength is read before the addon.
function fakeDeviceTensor(bytes: number): DeviceTensor {
  return new DeviceTensor({ byteLength: bytes, device: 0, disposed: false } as never, 'int32');
}

describe('processors: bad input', () => {
  const V = 40;
  const t = { tokens: new Int32Array([0, 1, 2]), parents: new Int32Array([-1, 0, 0]), offsets: new Int32Array([0, 3]) };
  const target = { data: new Float32Array(3 * V), rows: 3, vocab: V };
  const hist = (ids: number[], counts: number[]) => ({ offsets: new Int32Array([0, ids.length]), ids: Int32Array.from(ids), counts: Int32Array.from(counts) });
  const bias = (ids: number[], values: number[]) => ({ offsets: new Int32Array([0, ids.length]), ids: Int32Array.from(ids), values: Float32Array.from(values) });
  const cases: [string, Record<string, unknown>, 'TypeError' | 'RangeError', RegExp][] = [
    ['mask of the wrong type', { allowedTokens: new Int32Array(2) }, 'TypeError', /opts\.allowedTokens must be a Uint32Array/],
    ['mask of the wrong length', { allowedTokens: new Uint32Array(4) }, 'RangeError', /opts\.allowedTokens must hold batch × ceil\(V\/32\) = 1 × 2 = 2 words .* nodes × ceil\(V\/32\) = 3 × 2 = 6/],
    ['mask leaving no token', { allowedTokens: new Uint32Array(2) }, 'RangeError', /target row 0 has no allowed token/],
    ['device mask of the wrong length', { allowedTokens: fakeDeviceTensor(12) }, 'RangeError', /opts\.allowedTokens must hold .* \(got a DeviceTensor of 12 bytes\)/],
    ['bias offsets of the wrong length', { logitBias: { ...bias([1], [1]), offsets: new Int32Array([0, 1, 1]) } }, 'RangeError', /opts\.logitBias\.offsets must be an Int32Array of 2 entries/],
    ['bias values of the wrong length', { logitBias: { ...bias([1, 2], [1, 2]), values: new Float32Array(1) } }, 'RangeError', /opts\.logitBias\.values/],
    ['bias values missing', { logitBias: { offsets: new Int32Array([0, 0]), ids: new Int32Array(0) } }, 'TypeError', /opts\.logitBias\.values must be a Float32Array/],
    ['bias id out of range', { logitBias: bias([3, 40], [1, 1]) }, 'RangeError', /opts\.logitBias\.ids\[1\] = 40 .*\[0, 40\)/],
    ['bias id twice', { logitBias: bias([3, 3], [1, 1]) }, 'RangeError', /token 3 is listed twice/],
    ['bias +Infinity', { logitBias: bias([3], [Infinity]) }, 'RangeError', /opts\.logitBias\.values\[0\]/],
    ['bias offsets decreasing', { logitBias: { ...bias([3, 4], [1, 1]), offsets: new Int32Array([0, 1]) } }, 'RangeError', /opts\.logitBias\.offsets\[1\] = 1 must equal the length/],
    ['history missing', { penalties: { repetition: 1.2 } }, 'TypeError', /opts\.penalties\.history .* is required/],
    ['negative count', { penalties: { frequency: 1, history: hist([1], [-1]) } }, 'RangeError', /opts\.penalties\.history\.counts\[0\] = -1 must be >= 0/],
    ['history id out of range', { penalties: { presence: 1, history: hist([-2], [1]) } }, 'RangeError', /opts\.penalties\.history\.ids\[0\] = -2/],
    ['repetition 0', { penalties: { repetition: 0, history: hist([], []) } }, 'RangeError', /opts\.penalties\.repetition must be a finite number > 0/],
    ['repetition negative per request', { penalties: { repetition: new Float32Array([-1]), history: hist([], []) } }, 'RangeError', /opts\.penalties\.repetition\[0\]/],
    ['repetition array of the wrong length', { penalties: { repetition: new Float32Array(2), history: hist([], []) } }, 'RangeError', /opts\.penalties\.repetition must be a number or a Float32Array with one entry per tree \(1\)/],
    ['frequency NaN', { penalties: { frequency: NaN, history: hist([], []) } }, 'RangeError', /opts\.penalties\.frequency/],
    ['presence of the wrong type', { penalties: { presence: '1', history: hist([], []) } }, 'TypeError', /opts\.penalties\.presence/],
    ['history counts Float32Array', { penalties: { history: { ...hist([1], [1]), counts: new Float32Array(1) } } }, 'TypeError', /opts\.penalties\.history\.counts must be an Int32Array/],
    ['unknown key in logitBias', { logitBias: { offsets: new Int32Array([0, 0]), ids: new Int32Array(0), value: new Float32Array(0) } }, 'TypeError', /unknown option 'value' in opts\.logitBias \(did you mean 'values'\?\)/],
    ['unknown key in penalties', { penalties: { repetiton: 1, history: hist([], []) } }, 'TypeError', /unknown option 'repetiton' in opts\.penalties \(did you mean 'repetition'\?\)/],
    ['unknown key in history', { penalties: { history: { offsets: new Int32Array([0, 0]), ids: new Int32Array(0), count: new Int32Array(0) } } }, 'TypeError', /unknown option 'count' in opts\.penalties\.history/],
    ['penalties not an object', { penalties: 1 }, 'TypeError', /opts\.penalties must be an object/],
  ];
  test.each(cases)('verifyTree: %s', async (_n, extra, kind, message) => {
    const err = await verifyTree(t, target, { mode: 'sample', seed: 1, ...extra } as never).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err).toBeDefined();
    expect(err!.name).toBe(kind);
    expect(err!.code).toBe(kind === 'TypeError' ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
    expect(err!.message).toMatch(message);
  });
  test.each(cases)('expectedAcceptance: %s', async (_n, extra, kind, message) => {
    const err = await expectedAcceptance(t, target, extra as never).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err).toBeDefined();
    expect(err!.name).toBe(kind);
    expect(err!.code).toBe(kind === 'TypeError' ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
    expect(err!.message).toMatch(message);
  });
});
