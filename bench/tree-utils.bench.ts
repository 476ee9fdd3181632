// Tree utilities on the CPU: tree.expectedAcceptance (plain / top-k / top-p / greedy, f32 and bf16),
// tree.gtoReward, tree.attentionMask and multidraft.optimalAcceptance, each next to a plain TypeScript float64
// baseline on the same data in the same run (calls interleaved, medians).
//   node bench/run.js bench/tree-utils.bench.ts [--quick] [--rounds 7]
// Needs the CPU addon. Writes bench/results/tree-utils.{json,md}.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backendInfo } from '../lib/runtime/backend';
import { attentionMask } from '../lib/tree/mask';
import type { TreeBatch } from '../lib/tree/types';
import { expectedAcceptance, gtoReward } from '../lib/tree/utils';
import { optimalAcceptance } from '../lib/tree/multidraft';
import { toBf16 } from '../lib/runtime/dtype';
import { lcg } from '../lib/runtime/prng';
import { arg, median } from './common';

/** LLM-like rows: roughly Gaussian logits (sd ≈ 3) with a few strong peaks. */
function logits(rows: number, V: number, seed: number): Float32Array {
  const r = lcg(seed);
  const z = new Float32Array(rows * V);
  for (let i = 0; i < z.length; i++) z[i] = 3 * (r() + r() + r() + r() - 2) * 1.7;
  for (let row = 0; row < rows; row++) for (let k = 0; k < 4; k++) z[row * V + Math.floor(r() * V)] = 14 + 3 * r();
  return z;
}

/** Binary-ish trees: node i's parent is (i − 1) >> 1, distinct sibling tokens. */
function trees(batch: number, nodes: number, V: number): TreeBatch {
  const tokens = new Int32Array(batch * nodes), parents = new Int32Array(batch * nodes), offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < nodes; i++) {
      parents[b * nodes + i] = i === 0 ? -1 : (i - 1) >> 1;
      tokens[b * nodes + i] = (i * 7919 + b * 31) % V;
    }
    offsets[b + 1] = (b + 1) * nodes;
  }
  return { tokens, parents, offsets };
}

/** Plain TypeScript E[A] (softmax per parent row in float64). */
function plainExpected(t: TreeBatch, z: Float32Array, V: number): Float64Array {
  const B = t.offsets.length - 1;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const o = t.offsets[b], n = t.offsets[b + 1] - o;
    const reach = new Float64Array(n).fill(1);
    const rowCache = new Map<number, [number, number]>();
    for (let i = 1; i < n; i++) {
      const row = o + t.parents[o + i];
      let st = rowCache.get(row);
      if (!st) {
        let m = -Infinity;
        for (let x = 0; x < V; x++) m = Math.max(m, z[row * V + x]);
        let s = 0;
        for (let x = 0; x < V; x++) s += Math.exp(z[row * V + x] - m);
        rowCache.set(row, (st = [m, s]));
      }
      reach[i] = reach[t.parents[o + i]] * (Math.exp(z[row * V + t.tokens[o + i]] - st[0]) / st[1]);
      out[b] += reach[i];
    }
  }
  return out;
}

function plainOptimal(p: Float64Array, q: Float64Array, n: number): number {
  const idx = Array.from(q.keys()).filter((x) => q[x] > 0).sort((a, b) => p[a] * q[b] - p[b] * q[a] || a - b);
  let P = 0, Q = 0, best = 0;
  for (const x of idx) {
    P += p[x];
    Q += q[x];
    best = Math.max(best, Q ** n - P);
  }
  return 1 - best;
}

async function time(rounds: number, f: () => unknown): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    if (i > 0) ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ts);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = arg('rounds', quick ? 3 : 7);
  const rowsOut: { case: string; oursMs: number; baselineMs: number | null; note: string }[] = [];
  const add = (c: string, ours: number, base: number | null, note = '') => {
    rowsOut.push({ case: c, oursMs: ours, baselineMs: base, note });
    console.log(`${c}: ${ours.toFixed(3)} ms${base === null ? '' : ` (plain TS ${base.toFixed(1)} ms, ×${(base / ours).toFixed(1)})`} ${note}`);
  };
  const shapes: [number, number, number][] = quick ? [[1, 16, 32000], [4, 64, 128256]] : [[1, 16, 32000], [16, 64, 128256]];
  for (const [B, N, V] of shapes) {
    const t = trees(B, N, V);
    const z = logits(B * N, V, 1);
    const target = { data: z, rows: B * N, vocab: V };
    const bf = { data: toBf16(z), dtype: 'bfloat16' as const, rows: B * N, vocab: V };
    const parentsWithChildren = new Set(Array.from(t.parents).filter((p) => p >= 0)).size * B;
    const shape = `${B}×${N} nodes, V=${V}`;
    const ref = plainExpected(t, z, V);
    const got = await expectedAcceptance(t, target);
    const err = Math.max(...Array.from(got, (g, i) => Math.abs(g - ref[i]) / Math.max(1e-12, ref[i])));
    const base = await time(Math.min(rounds, 3), () => plainExpected(t, z, V));
    add(`expectedAcceptance ${shape} f32 (T=1)`, await time(rounds, () => expectedAcceptance(t, target)), base,
      `rows read ${parentsWithChildren}, max rel diff vs TS ${err.toExponential(1)}`);
    add(`expectedAcceptance ${shape} bf16 (T=1)`, await time(rounds, () => expectedAcceptance(t, bf)), null);
    add(`expectedAcceptance ${shape} bf16 T=0.7 top-p 0.9`, await time(rounds, () => expectedAcceptance(t, bf, { temperature: 0.7, topP: 0.9 })), null);
    add(`expectedAcceptance ${shape} bf16 top-k 50`, await time(rounds, () => expectedAcceptance(t, bf, { topK: 50 })), null);
    add(`expectedAcceptance ${shape} bf16 greedy`, await time(rounds, () => expectedAcceptance(t, bf, { mode: 'greedy' })), null);
    add(`gtoReward ${shape} bf16 (η=1)`, await time(rounds, () => gtoReward(t, bf, { eta: 1 })), null);
    add(`attentionMask ${shape} packed`, await time(rounds, () => attentionMask(t, { packed: true })), null);
  }
  for (const V of [32000, 128256]) {
    const r = lcg(V);
    const p = Float64Array.from({ length: V }, () => (-Math.log(1 - r())) ** 3);
    const q = Float64Array.from({ length: V }, () => (-Math.log(1 - r())) ** 3);
    const sp = p.reduce((a, x) => a + x, 0), sq = q.reduce((a, x) => a + x, 0);
    p.forEach((x, i) => (p[i] = x / sp));
    q.forEach((x, i) => (q[i] = x / sq));
    const a = await optimalAcceptance(p, q, 4, { replacement: true });
    const diff = Math.abs(a - plainOptimal(p, q, 4));
    add(`multidraft.optimalAcceptance V=${V} n=4`, await time(rounds, () => optimalAcceptance(p, q, 4, { replacement: true })),
      await time(Math.min(rounds, 3), () => plainOptimal(p, q, 4)), `|diff| ${diff.toExponential(1)}`);
  }
  const info = backendInfo();
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const meta = { threads: info.threads, simd: info.simd, node: process.version, rounds, date: new Date().toISOString(), loadavg: os.loadavg()[0] };
  fs.writeFileSync(path.join(out, 'tree-utils.json'), JSON.stringify({ meta, results: rowsOut }, null, 2));
  const md = [
    `# Tree utilities (CPU)`,
    ``,
    `${meta.threads} threads, SIMD ${meta.simd}, Node ${meta.node}, load average ${meta.loadavg.toFixed(1)} (shared machine); medians of ${rounds} calls after a warm-up; baseline = plain TypeScript float64 on the same data.`,
    ``,
    `| case | lengthwise ms | plain TS ms | note |`,
    `|---|---|---|---|`,
    ...rowsOut.map((r) => `| ${r.case} | ${r.oursMs.toFixed(3)} | ${r.baselineMs === null ? '—' : r.baselineMs.toFixed(1)} | ${r.note} |`),
    ``,
  ].join('\n');
  fs.writeFileSync(path.join(out, 'tree-utils.md'), md);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
