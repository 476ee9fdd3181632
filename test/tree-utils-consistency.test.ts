// verifyTree (deterministic drafts, and greedy) against the analytic utilities: the final accepted node of many
// independent verifications of one tree follows P(final = v) = reach(v) · (1 − Σ_children p(c)), and the mean
// accepted length matches tree.expectedAcceptance.
import { verifyTree } from '../lib/tree/verify';
import { expectedAcceptance, nodeProbabilities } from '../lib/tree/utils';
import type { TreeBatch } from '../lib/tree/types';
import { sparseLogits } from './helpers/logits';
import { rng } from './helpers/rng';
import { randomTrees } from './helpers/treeRandom';
import { nodeProbs, type Processing } from './helpers/treeReference';

/** Upper (1 − 1e-5) quantile of χ²(df), Wilson–Hilferty. */
function chi2Critical(df: number): number {
  const z = 4.265;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

function replicate(t: TreeBatch, z: Float32Array, vocab: number, copies: number, qz?: Float32Array) {
  const n = t.tokens.length;
  const tokens = new Int32Array(n * copies);
  const parents = new Int32Array(n * copies);
  const offsets = new Int32Array(copies + 1);
  const data = new Float32Array(n * copies * vocab);
  const qdata = new Float32Array(qz ? n * copies * vocab : 0);
  for (let c = 0; c < copies; c++) {
    tokens.set(t.tokens, c * n);
    parents.set(t.parents, c * n);
    offsets[c + 1] = (c + 1) * n;
    data.set(z, c * n * vocab);
    if (qz) qdata.set(qz, c * n * vocab);
  }
  return {
    trees: { tokens, parents, offsets },
    target: { data, rows: n * copies, vocab },
    draft: { data: qdata, rows: n * copies, vocab },
  };
}

const cases: [string, Processing][] = [
  ['T = 1', {}],
  ['T = 0.8, top-k 3', { temperature: 0.8, topK: 3 }],
  ['top-p 0.7', { topP: 0.7 }],
  ['T = 1.3, top-k 4, top-p 0.6', { temperature: 1.3, topK: 4, topP: 0.6 }],
];

describe('verifyTree agrees with tree.expectedAcceptance', () => {
  test.each(cases)('sampling with deterministic drafts: %s', async (_name, proc) => {
    const r = rng(42);
    const vocab = 6;
    let t = randomTrees(r, 1, 12, vocab);
    while (t.tokens.length < 8) t = randomTrees(r, 1, 12, vocab);
    const n = t.tokens.length;
    const z = sparseLogits(r, n, vocab, 0.1);
    const copies = 20000;
    const { trees, target } = replicate(t, z, vocab, copies);
    const opts = { temperature: proc.temperature, topK: proc.topK, topP: proc.topP };
    const res = await verifyTree(trees, target, { mode: 'sample', ...opts, seed: 7, step: 3 });
    const E = (await expectedAcceptance(t, { data: z, rows: n, vocab }, opts))[0];

    // Analytic distribution of the final accepted node.
    const prob = nodeProbs(t, z, vocab, () => proc);
    const reach = new Float64Array(n).fill(1);
    const childMass = new Float64Array(n);
    for (let i = 1; i < n; i++) {
      reach[i] = reach[t.parents[i]] * prob[i];
      childMass[t.parents[i]] += prob[i];
    }
    const pFinal = Array.from(reach, (x, v) => x * Math.max(0, 1 - childMass[v]));
    const counts = new Array(n).fill(0);
    let sumA = 0;
    for (let c = 0; c < copies; c++) {
      const last = res.acceptedNodes[res.tokenOffsets[c + 1] - 1];
      counts[last]++;
      sumA += res.acceptedLength[c];
    }
    let chi2 = 0;
    let df = -1;
    for (let v = 0; v < n; v++) {
      const e = pFinal[v] * copies;
      if (e === 0) {
        expect(counts[v]).toBe(0); // unreachable or fully accepted-through nodes are never final
        continue;
      }
      chi2 += (counts[v] - e) ** 2 / e;
      df++;
    }
    if (df > 0) expect(chi2).toBeLessThan(chi2Critical(df));
    // Mean accepted length: a z-test with the exact variance from pFinal and depths.
    const depth = new Int32Array(n);
    for (let i = 1; i < n; i++) depth[i] = depth[t.parents[i]] + 1;
    const mean = pFinal.reduce((s, p, v) => s + p * depth[v], 0);
    const variance = pFinal.reduce((s, p, v) => s + p * (depth[v] - mean) ** 2, 0);
    expect(Math.abs(mean - E)).toBeLessThan(1e-7); // kernel vs float64 reference rounding
    expect(Math.abs(sumA / copies - E)).toBeLessThan(5 * Math.sqrt(variance / copies) + 1e-12);
  });

  test.each([
    ['iid', {}],
    ['iid', { temperature: 0.8, topK: 4 }],
    ['without-replacement', {}],
    ['without-replacement', { topP: 0.8 }],
  ] as const)('real draft q, drafts = %s %j', async (drafts, proc) => {
    const r = rng(drafts === 'iid' ? 5 : 6);
    const vocab = 5;
    let t = randomTrees(r, 1, 10, vocab, drafts === 'iid');
    while (t.tokens.length < 7) t = randomTrees(r, 1, 10, vocab, drafts === 'iid');
    const n = t.tokens.length;
    const z = sparseLogits(r, n, vocab, 0.1);
    const qz = sparseLogits(r, n, vocab, 0.1);
    const copies = 20000;
    const { trees, target, draft } = replicate(t, z, vocab, copies, qz);
    const opts = { ...proc, drafts, draft: { data: qz, rows: n, vocab } };
    const res = await verifyTree(trees, target, { mode: 'sample', ...proc, drafts, draft, seed: 11, step: 1 });
    const prob = await nodeProbabilities(t, { data: z, rows: n, vocab }, opts);
    const E = (await expectedAcceptance(t, { data: z, rows: n, vocab }, opts))[0];
    const reach = new Float64Array(n).fill(1);
    const childMass = new Float64Array(n);
    for (let i = 1; i < n; i++) {
      reach[i] = reach[t.parents[i]] * prob[i];
      childMass[t.parents[i]] += prob[i];
    }
    const pFinal = Array.from(reach, (x, v) => x * Math.max(0, 1 - childMass[v]));
    const counts = new Array(n).fill(0);
    let sumA = 0;
    for (let c = 0; c < copies; c++) {
      counts[res.acceptedNodes[res.tokenOffsets[c + 1] - 1]]++;
      sumA += res.acceptedLength[c];
    }
    let chi2 = 0;
    let df = -1;
    for (let v = 0; v < n; v++) {
      const e = pFinal[v] * copies;
      if (e < 1e-9) {
        expect(counts[v]).toBe(0);
        continue;
      }
      chi2 += (counts[v] - e) ** 2 / e;
      df++;
    }
    if (df > 0) expect(chi2).toBeLessThan(chi2Critical(df));
    const depth = new Int32Array(n);
    for (let i = 1; i < n; i++) depth[i] = depth[t.parents[i]] + 1;
    const variance = pFinal.reduce((s, p, v) => s + p * (depth[v] - E) ** 2, 0);
    expect(Math.abs(sumA / copies - E)).toBeLessThan(5 * Math.sqrt(variance / copies) + 1e-12);
  });

  test('greedy: accepted length equals the expectation on every tree', async () => {
    const r = rng(9);
    for (let k = 0; k < 5; k++) {
      const vocab = 4;
      const t = randomTrees(r, 50, 10, vocab);
      const z = sparseLogits(r, t.tokens.length, vocab, 0);
      const target = { data: z, rows: t.tokens.length, vocab };
      const res = await verifyTree(t, target, { mode: 'greedy', seed: 1 });
      const E = await expectedAcceptance(t, target, { mode: 'greedy' });
      expect(Array.from(res.acceptedLength)).toEqual(Array.from(E));
    }
  });
});
