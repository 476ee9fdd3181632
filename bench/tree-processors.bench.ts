// Cost of the per-request logits processors (issue #8) in verifyTree on the CPU, same data, same run (tinybench,
// p50): processors off vs each processor alone vs all of them, in greedy, sampling (top-p) and i.i.d.-draft modes.
//   node bench/run.js bench/tree-processors.bench.ts [--quick]
// Needs the CPU addon. Writes bench/results/tree-processors.md (full run only).
import * as fs from 'fs';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import type { TargetProcessingOptions } from '../lib/tree/sampling';
import { verifyTree, type VerifyTreeOptions } from '../lib/tree/verify';
import { lcg } from '../lib/runtime/prng';

const quick = process.argv.includes('--quick');
const B = quick ? 16 : 64, N = quick ? 16 : 64, V = quick ? 4096 : 32000;
const HISTORY = 512, BIASED = 64;

// B trees of N nodes: a chain of 6 (planted likely under the target) then random parents, distinct siblings.
const r = lcg(11);
const tokens = new Int32Array(B * N), parents = new Int32Array(B * N), offsets = new Int32Array(B + 1);
const z = new Float32Array(B * N * V), q = new Float32Array(B * N * V);
for (let i = 0; i < z.length; i++) { z[i] = 3 * (r() + r() - 1); q[i] = 3 * (r() + r() - 1); }
for (let b = 0; b < B; b++) {
  const o = b * N;
  parents[o] = -1;
  for (let s = 1; s < N; s++) {
    const p = s <= 6 ? s - 1 : Math.floor(r() * s);
    parents[o + s] = p;
    tokens[o + s] = (s * 7919 + b * 31) % V;
    if (s <= 6) z[(o + p) * V + tokens[o + s]] = 12;
  }
  offsets[b + 1] = o + N;
}
const trees = { tokens, parents, offsets };
const target = { data: z, rows: B * N, vocab: V };
const draft = { data: q, rows: B * N, vocab: V };

// Processors: a grammar-like mask per node (half the vocabulary, the planted chain kept), a 64-token bias and a
// 512-token history per request with all three penalties.
const W = Math.ceil(V / 32);
const mask = new Uint32Array(B * N * W);
for (let i = 0; i < mask.length; i++) mask[i] = (r() * 2 ** 32) >>> 0;
for (let b = 0; b < B; b++) for (let s = 1; s <= 6; s++) {
  const g = b * N + s - 1, t = tokens[b * N + s]!;
  mask[g * W + (t >> 5)] |= 1 << (t & 31);
}
const ragged = (per: number) => {
  const off = Int32Array.from({ length: B + 1 }, (_, b) => b * per);
  const ids = Int32Array.from({ length: B * per }, () => Math.floor(r() * V));
  return { off, ids };
};
const bias = (() => {
  const { off, ids } = ragged(BIASED);
  // distinct ids per request: spread them
  for (let b = 0; b < B; b++) for (let i = 0; i < BIASED; i++) ids[b * BIASED + i] = (b * 131 + i * 499) % V;
  return { offsets: off, ids, values: Float32Array.from(ids, () => 4 * r() - 2) };
})();
const history = (() => {
  const { off, ids } = ragged(HISTORY);
  return { offsets: off, ids, counts: Int32Array.from(ids, () => 1 + Math.floor(3 * r())) };
})();
const penalties = { repetition: 1.2, frequency: 0.3, presence: 0.2, history };
const SETS: [string, TargetProcessingOptions][] = [
  ['off', {}],
  ['mask (per node)', { allowedTokens: mask }],
  [`bias (${BIASED} ids)`, { logitBias: bias }],
  [`penalties (${HISTORY}-token history)`, { penalties }],
  ['all three', { allowedTokens: mask, logitBias: bias, penalties }],
];
const MODES: [string, Partial<VerifyTreeOptions>][] = [
  ['greedy', { mode: 'greedy' }],
  ['sample T 0.8 top-p 0.9', { mode: 'sample', temperature: 0.8, topP: 0.9 }],
  ['iid drafts T 1', { mode: 'sample', drafts: 'iid', draft }],
];

async function main(): Promise<void> {
  const bench = new Bench({ time: quick ? 150 : 1500, warmupTime: 200 });
  for (const [m, mo] of MODES) {
    for (const [s, so] of SETS) {
      bench.add(`${m} | ${s}`, async () => {
        await verifyTree(trees, target, { seed: 42n, step: 3, ...mo, ...so } as VerifyTreeOptions);
      });
    }
  }
  await bench.run();
  const p50 = (i: number) => (bench.tasks[i]!.result as { latency?: { p50?: number } } | undefined)?.latency?.p50 ?? NaN;
  const lines = [
    `# verifyTree with logits processors (CPU, ${B} trees × ${N} nodes, V ${V}, float32)`,
    '',
    `${JSON.stringify((({ threads, simd }) => ({ threads, simd }))(backendInfo()))}; p50 of each task, ratio vs processors off in the same mode (same run).`,
    '',
    '| mode | processors | p50 ms | vs off |',
    '| --- | --- | ---: | ---: |',
    ...bench.tasks.map((t, i) => {
      const [m, s] = t.name.split(' | ');
      const base = p50(i - (i % SETS.length));
      return `| ${m} | ${s} | ${p50(i).toFixed(2)} | ${(p50(i) / base).toFixed(2)}× |`;
    }),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (!quick) fs.writeFileSync(path.join(__dirname, 'results', 'tree-processors.md'), lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
