/**
 * Child-process script (`node bench/run.js test/reliability/helpers/fingerprint.ts`): prints one JSON line with
 * seeded results of every randomised or parallel kernel, so runs under different LENGTHWISE_THREADS /
 * LENGTHWISE_SIMD settings can be compared.
 */
import * as lw from '../../../lib';
import { randomLogits } from '../../helpers/logits';
import { rng } from '../../helpers/rng';
import { randomTrees } from '../../helpers/treeRandom';
import { canon } from './workload';

async function main(): Promise<void> {
  const r = rng(42);
  const V = 4096;
  const trees = randomTrees(r, 64, 16, V);
  const nodes = trees.tokens.length;
  const target = { data: randomLogits(r, nodes, V, 'float32') as Float32Array, rows: nodes, vocab: V };
  const draft = { data: randomLogits(r, nodes, V, 'float32') as Float32Array, rows: nodes, vocab: V };
  const iidTrees = randomTrees(rng(43), 64, 16, V, true);
  const iidN = iidTrees.tokens.length;
  const big = { data: randomLogits(r, 256, 50000, 'float32') as Float32Array, rows: 256, vocab: 50000 };
  const big16 = { data: randomLogits(r, 256, 50000, 'bfloat16') as Uint16Array, dtype: 'bfloat16' as const, rows: 256, vocab: 50000 };
  const targets = Int32Array.from({ length: 256 }, () => Math.floor(r() * 50000));

  const out: Record<string, unknown> = {
    info: (({ threads, simd }) => ({ threads, simd }))(lw.backendInfo()),
    verifySample: await lw.verifyTree(trees, target, { mode: 'sample', seed: 123n, step: 7, temperature: 0.8, topK: 64, topP: 0.9 }),
    verifyWithoutReplacement: await lw.verifyTree(trees, target, { mode: 'sample', drafts: 'without-replacement', draft, seed: 5 }),
    verifyIid: await lw.verifyTree(iidTrees, { data: randomLogits(rng(44), iidN, V, 'float32') as Float32Array, rows: iidN, vocab: V }, {
      mode: 'sample', drafts: 'iid', draft: { data: randomLogits(rng(45), iidN, V, 'float32') as Float32Array, rows: iidN, vocab: V }, seed: 9,
    }),
    verifyGreedy: await lw.verifyTree(trees, target, { mode: 'greedy', seed: 0 }),
    logitStats: await lw.logitStats(big, { targets }),
    logitStatsBf16: await lw.logitStats(big16, { targets, temperature: 0.7 }),
    xl3mScore: await lw.xl3m.score(big, { segments: 16 }),
    expectedAcceptance: await lw.tree.expectedAcceptance(trees, target, { temperature: 0.8, topP: 0.95 }),
    bootstrap: await (async () => {
      const f = await lw.scaling.fit(lw.scaling.chinchillaRuns(), { bootstrap: { resamples: 24, seed: 7 } });
      return { theta: f.theta, objective: f.objective, samples: f.bootstrap!.samples };
    })(),
  };
  process.stdout.write(JSON.stringify(canon(out)) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
