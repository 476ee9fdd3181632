// Serving-loop costs of verifyTree on the CPU, same data, same run (tinybench, p50): per-request seeds and steps
// vs one bigint seed, per-request caps (maxAccepted) and placeholder drafts, and the padded path (import from SGLang-style slot buffers with padding + gatherRows +
// layout 'sglang') vs the compact call on the same trees.
//   node bench/run.js bench/tree-serving.bench.ts [--quick]
// Needs the CPU addon. Writes bench/results/tree-serving.md.
import * as fs from 'fs';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import { fromFirstChildNextSibling } from '../lib/tree/import';
import { gatherRows } from '../lib/tree/slots';
import { verifyTree } from '../lib/tree/verify';
import { lcg } from '../lib/runtime/prng';

const quick = process.argv.includes('--quick');
const B = 64, N = 64, USED = 48, V = quick ? 4096 : 32000;

// SGLang-style buffers: each request's tree in the first USED of N slots (a chain of 6 then random parents),
// the rest padding; slot-layout logits with a planted likely child per node.
const r = lcg(7);
const tokens = new Int32Array(B * N).fill(-1), fc = new Int32Array(B * N).fill(-1), ns = new Int32Array(B * N).fill(-1);
const last = new Int32Array(B * N).fill(-1);
const z = new Float32Array(B * N * V);
for (let i = 0; i < z.length; i++) z[i] = 3 * (r() + r() - 1);
for (let b = 0; b < B; b++) {
  const o = b * N;
  tokens[o] = 1;
  for (let s = 1; s < USED; s++) {
    const p = s <= 6 ? s - 1 : Math.floor(r() * s);
    tokens[o + s] = (s * 7919 + b * 31) % V;
    if (last[o + p] < 0) fc[o + p] = s;
    else ns[o + last[o + p]] = s;
    last[o + p] = s;
    if (s <= 6) z[(o + p) * V + tokens[o + s]] = 20;
  }
}
const input = { tokens, firstChild: fc, nextSibling: ns, nodesPerTree: N };
const slotLogits = { data: z, rows: B * N, vocab: V };
const padded = fromFirstChildNextSibling(input, { padded: true, vocab: V });
const compactTarget = gatherRows(slotLogits, padded.slots);
const seeds = BigUint64Array.from({ length: B }, (_, i) => BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn);
const steps = Uint32Array.from({ length: B }, (_, i) => 1000 + i);
const common = { mode: 'sample', temperature: 0.8 } as const;
const caps = new Int32Array(B).fill(3);
// The same trees with every eighth non-root node a placeholder (the walk never enters its subtree).
const holes = { ...padded.trees, tokens: padded.trees.tokens.map((t, i) => (i % 8 === 5 && padded.trees.parents[i] >= 0 ? -1 : t)) };

async function main(): Promise<void> {
  const bench = new Bench({ time: quick ? 200 : 1500, warmupTime: 200 });
  bench
    .add('compact, bigint seed', async () => {
      await verifyTree(padded.trees, compactTarget, { ...common, seed: 42n, step: 3 });
    })
    .add('compact, per-request seeds + steps', async () => {
      await verifyTree(padded.trees, compactTarget, { ...common, seed: seeds, step: steps });
    })
    .add('compact, per-request seeds + steps + maxAccepted 3 (per request)', async () => {
      await verifyTree(padded.trees, compactTarget, { ...common, seed: seeds, step: steps, maxAccepted: caps });
    })
    .add('compact, per-request seeds + steps, 1 in 8 drafts a -1 placeholder', async () => {
      await verifyTree(holes, compactTarget, { ...common, seed: seeds, step: steps });
    })
    .add('padded: import + gatherRows + verify + sglang layout', async () => {
      const p = fromFirstChildNextSibling(input, { padded: true, vocab: V });
      await verifyTree(p.trees, gatherRows(slotLogits, p.slots), { ...common, seed: seeds, step: steps, layout: 'sglang', slots: p.slots });
    });
  await bench.run();
  const p50 = (i: number) => (bench.tasks[i]!.result as { latency?: { p50?: number } } | undefined)?.latency?.p50 ?? NaN;
  const base = p50(0);
  const lines = [
    `# verifyTree serving costs (CPU, ${B} requests × ${N} slots, ${USED} used, V ${V}, float32, T 0.8)`,
    '',
    `${JSON.stringify((({ threads, simd }) => ({ threads, simd }))(backendInfo()))}; p50 of each task, ratio vs the first (same run).`,
    '',
    '| task | p50 ms | vs compact bigint |',
    '| --- | ---: | ---: |',
    ...bench.tasks.map((t, i) => `| ${t.name} | ${p50(i).toFixed(2)} | ${(p50(i) / base).toFixed(2)}× |`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (!quick) fs.writeFileSync(path.join(__dirname, 'results', 'tree-serving.md'), lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
