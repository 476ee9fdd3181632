// verifyTree on CUDA vs CPU through the addon (host and device-resident logits); skips cleanly without the
// CUDA addon or a GPU. Sampled tokens may differ only where a comparison falls within float rounding of its
// threshold: the test allows 1% of trees to differ (the native GPU check measures the actual rate).
import { upload } from '../lib/device';
import { verifyTree, type VerifyTreeOptions } from '../lib/tree/verify';
import { randInt, rng } from './helpers/rng';
import { randomTrees } from './helpers/treeRandom';
import { normalLogits } from './helpers/logits';
import { describeGpu } from './helpers/gpu';



describeGpu('verifyTree on CUDA', () => {
  test.each([
    ['greedy', { mode: 'greedy', seed: 1 }],
    ['deterministic T 0.8 top-k 40', { mode: 'sample', temperature: 0.8, topK: 40, seed: 2 }],
    ['deterministic top-p 0.9', { mode: 'sample', topP: 0.9, seed: 3 }],
    ['iid', { mode: 'sample', drafts: 'iid', seed: 4 }],
    ['without-replacement top-p 0.95', { mode: 'sample', drafts: 'without-replacement', topP: 0.95, seed: 5 }],
  ] as [string, Partial<VerifyTreeOptions>][])('%s: cuda (host and device input) matches cpu', async (_n, o) => {
    for (const V of [1000, 32000, 128256]) {
      const r = rng(V);
      const t = randomTrees(r, 32, 12, V, o.drafts === 'iid');
      const rows = t.tokens.length;
      const z = normalLogits(r, rows * V, 2.5);
      for (let n = 0; n < rows; n++) {
        const b = t.offsets.findIndex((x) => x > n) - 1;
        const p = t.parents[n];
        if (p >= 0 && r() < 0.7) z[(t.offsets[b] + p) * V + t.tokens[n]] += 8 + randInt(r, 4);
      }
      const q = normalLogits(r, rows * V, 2.5);
      const opts = { ...o, draft: { data: q, rows, vocab: V } } as VerifyTreeOptions;
      const target = { data: z, rows, vocab: V };
      const cpu = await verifyTree(t, target, { ...opts, backend: 'cpu' });
      const host = await verifyTree(t, target, { ...opts, backend: 'cuda' });
      const dev = await upload(z);
      try {
        const onDev = await verifyTree(t, { data: dev, rows, vocab: V }, opts);
        expect(Array.from(onDev.tokens)).toEqual(Array.from(host.tokens));
      } finally {
        dev.dispose();
      }
      let differ = 0;
      for (let b = 0; b < 32; b++) {
        const a = Array.from(cpu.tokens.subarray(cpu.tokenOffsets[b], cpu.tokenOffsets[b + 1]));
        const g = Array.from(host.tokens.subarray(host.tokenOffsets[b], host.tokenOffsets[b + 1]));
        if (a.join() !== g.join()) differ++;
      }
      if (o.mode === 'greedy') expect(differ).toBe(0);
      else expect(differ).toBeLessThanOrEqual(1);
    }
  });
});
