// The processed target distribution p_v (temperature, min-p, top-k, top-p) has one float64 reference in core
// (core/tree_reference.cc processed_distribution); the TypeScript helper the χ² tests use is checked against it
// here, and the tree utilities must agree with what verifyTree actually samples, min-p included.
import { nativeFunction } from '../lib/runtime/native';
import { nodeProbabilities } from '../lib/tree/utils';
import { verifyTree } from '../lib/tree/verify';
import { processedDistribution, type Processing } from './helpers/treeReference';
import { rng } from './helpers/rng';

const reference = nativeFunction('cpu', '_processedDistribution');

function row(r: () => number, V: number, ties: boolean): Float32Array {
  const z = new Float32Array(V);
  for (let x = 0; x < V; x++) z[x] = r() < 0.05 ? -Infinity : ties ? Math.round(3 * r()) : 3 * (r() * 2 - 1);
  z[Math.floor(r() * V)] = 2.5;
  return z;
}

describe('processed distribution: TypeScript helper == core float64 reference', () => {
  const settings: Processing[] = [
    {}, { temperature: 0.7 }, { minP: 0.3 }, { minP: 1 }, { minP: 0.05, topK: 3 }, { minP: 0.2, topP: 0.8 },
    { temperature: 1.6, minP: 0.1, topK: 5, topP: 0.9 }, { topK: 1 }, { topP: 1e-6 }, { temperature: 0 }, { greedy: true, minP: 0.5 },
  ];
  test.each(settings)('%o', (s) => {
    const r = rng(17 + JSON.stringify(s).length);
    for (const V of [1, 2, 7, 33, 1025]) {
      for (const ties of [false, true]) {
        const z = row(r, V, ties);
        const { greedy, ...knobs } = s;
        const want = processedDistribution(z, s);
        const got = reference(Float64Array.from(z), { mode: greedy === true ? 'greedy' : 'sample', ...knobs });
        expect(got.length).toBe(V);
        for (let x = 0; x < V; x++) {
          expect(got[x] === 0).toBe(want[x] === 0); // the same kept set
          expect(Math.abs(got[x] - want[x])).toBeLessThanOrEqual(1e-12 * Math.max(1, want[x]));
        }
      }
    }
  });

  test('the reference rejects knobs out of range', () => {
    expect(() => reference(new Float64Array(3), { mode: 'sample', minP: 1.5 } as never)).toThrow(/minP = 1\.5.*\[0, 1\]/);
    expect(() => reference(new Float64Array(3), { mode: 'sample', topP: 0 } as never)).toThrow(/topP/);
  });
});

describe('min-p: tree utilities agree with verifyTree on p_v', () => {
  // A star tree whose root has every token as a child: with deterministic drafts verification accepts child x
  // with probability exactly p_v(x), so the first emitted token's frequencies estimate p_v.
  const V = 24;
  const star = (batch: number) => {
    const n = V + 1;
    const tokens = new Int32Array(batch * n), parents = new Int32Array(batch * n), offsets = new Int32Array(batch + 1);
    for (let b = 0; b < batch; b++) {
      parents[b * n] = -1;
      for (let x = 0; x < V; x++) { tokens[b * n + 1 + x] = x; parents[b * n + 1 + x] = 0; }
      offsets[b + 1] = (b + 1) * n;
    }
    return { tokens, parents, offsets };
  };
  test.each([
    { minP: 0.25 }, { minP: 0.05, topK: 4 }, { temperature: 0.8, minP: 0.1, topP: 0.7 },
  ] as Processing[])('%o', async (s) => {
    const r = rng(99);
    const z0 = row(r, V, false);
    const batch = 20_000, trials = 10 * batch;
    const trees = star(batch);
    const z = new Float32Array(batch * (V + 1) * V);
    for (let b = 0; b < batch; b++) z.set(z0, b * (V + 1) * V);
    const target = { data: z, rows: batch * (V + 1), vocab: V };
    // p_v from the utilities (one tree is enough) against the float64 reference
    const probs = (await nodeProbabilities(star(1), { data: z.subarray(0, (V + 1) * V), rows: V + 1, vocab: V }, s)).subarray(1);
    const ref = processedDistribution(z0, s);
    for (let x = 0; x < V; x++) expect(Math.abs(probs[x] - ref[x])).toBeLessThan(1e-7);
    const counts = new Float64Array(V);
    for (let step = 0; step < trials / batch; step++) {
      const res = await verifyTree(trees, target, { mode: 'sample', ...s, seed: 5, step });
      for (let b = 0; b < batch; b++) counts[res.tokens[res.tokenOffsets[b]]]++;
    }
    let chi = 0, dof = -1;
    for (let x = 0; x < V; x++) {
      if (probs[x] === 0) { expect(counts[x]).toBe(0); continue; } // never emits a token min-p removed
      const e = probs[x] * trials;
      chi += (counts[x] - e) ** 2 / e;
      dof++;
    }
    // χ² upper 1e-4 quantile, Wilson–Hilferty
    const k = Math.max(dof, 1), h = 2 / (9 * k);
    const limit = k * (1 - h + 3.719 * Math.sqrt(h)) ** 3;
    console.log(`${JSON.stringify(s)}: kept ${dof + 1} of ${V}, χ² = ${chi.toFixed(1)} (dof ${dof}, limit ${limit.toFixed(1)})`);
    expect(dof + 1).toBeLessThan(V); // the knob removed something
    expect(chi).toBeLessThan(limit);
  });
});
