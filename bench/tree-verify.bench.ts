// verifyTree on the CPU next to a plain TypeScript implementation of the same walk (float64, materialised
// softmax per visited row, top-k/top-p by sorting), same data, same run (tinybench, p50 latencies).
//   node bench/run.js bench/tree-verify.bench.ts [--quick]
// Needs the CPU addon. Writes bench/results/tree-verify.{json,md}.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import type { TreeBatch } from '../lib/tree/types';
import { verifyTree, type VerifyTreeOptions } from '../lib/tree/verify';
import { lcg } from '../lib/runtime/prng';

const quick = process.argv.includes('--quick');

/** LLM-like rows (sd ≈ 3) with a chain of planted, likely children so ~`depth` drafts are accepted. */
function workload(batch: number, nodes: number, V: number, depth: number, seed: number) {
  const r = lcg(seed);
  const tokens = new Int32Array(batch * nodes), parents = new Int32Array(batch * nodes), offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < nodes; i++) {
      parents[b * nodes + i] = i === 0 ? -1 : i <= depth ? i - 1 : Math.floor(r() * i);
      tokens[b * nodes + i] = (i * 7919 + b * 31) % V;
    }
    offsets[b + 1] = (b + 1) * nodes;
  }
  const z = new Float32Array(batch * nodes * V);
  for (let i = 0; i < z.length; i++) z[i] = 3 * (r() + r() + r() + r() - 2) * 1.7;
  const q = Float32Array.from(z, (v) => v + (r() - 0.5));
  for (let b = 0; b < batch; b++)
    for (let i = 1; i <= depth && i < nodes; i++) {
      z[(b * nodes + i - 1) * V + tokens[b * nodes + i]] = 22;
      q[(b * nodes + i - 1) * V + tokens[b * nodes + i]] = 22;
    }
  return { trees: { tokens, parents, offsets } as TreeBatch, z, q, V };
}

/** Processed target distribution (softmax(z/T), top-k, top-p) in float64, by sorting. */
function processed(z: Float32Array, off: number, V: number, T: number, k: number, P: number): Float64Array {
  const order = Array.from({ length: V }, (_, x) => x);
  let m = -Infinity;
  for (let x = 0; x < V; x++) m = Math.max(m, z[off + x]);
  const w = new Float64Array(V);
  for (let x = 0; x < V; x++) w[x] = Math.exp((z[off + x] - m) / T);
  let keep = V;
  if ((k > 0 && k < V) || P < 1) {
    order.sort((a, b) => z[off + b] - z[off + a] || a - b);
    if (k > 0 && k < V) keep = k;
    if (P < 1) {
      let tot = 0;
      for (let i = 0; i < keep; i++) tot += w[order[i]];
      let c = 0;
      for (let i = 0; i < keep; i++) if ((c += w[order[i]]) >= P * tot) { keep = i + 1; break; }
    }
    const p = new Float64Array(V);
    let s = 0;
    for (let i = 0; i < keep; i++) s += w[order[i]];
    for (let i = 0; i < keep; i++) p[order[i]] = w[order[i]] / s;
    return p;
  }
  let s = 0;
  for (let x = 0; x < V; x++) s += w[x];
  for (let x = 0; x < V; x++) w[x] /= s;
  return w;
}

function drawFrom(p: Float64Array, u: number): number {
  let s = 0;
  for (let x = 0; x < p.length; x++) s += p[x];
  let c = u * s;
  for (let x = 0; x < p.length; x++) if ((c -= p[x]) < 0 && p[x] > 0) return x;
  return p.length - 1;
}

/** Plain TS walk: greedy (A), deterministic drafts (B) or chain with real q (C). */
function plainWalk(t: TreeBatch, z: Float32Array, q: Float32Array, V: number, o: VerifyTreeOptions, rnd: () => number): number[] {
  const out: number[] = [];
  const T = (o.temperature as number | undefined) ?? 1, k = (o.topK as number | undefined) ?? 0, P = (o.topP as number | undefined) ?? 1;
  for (let b = 0; b + 1 < t.offsets.length; b++) {
    const base = t.offsets[b], n = t.offsets[b + 1] - base;
    let v = 0;
    for (;;) {
      const row = (base + v) * V;
      const kids: number[] = [];
      for (let c = v + 1; c < n; c++) if (t.parents[base + c] === v) kids.push(c);
      if (o.mode === 'greedy') {
        let y = 0;
        for (let x = 1; x < V; x++) if (z[row + x] > z[row + y]) y = x;
        out.push(y);
        const next = kids.find((c) => t.tokens[base + c] === y);
        if (next === undefined) break;
        v = next;
        continue;
      }
      const p = processed(z, row, V, T, k, P);
      if (o.drafts === 'iid' && kids.length > 0) {
        const qq = processed(q, row, V, 1, 0, 1);
        const c = kids[0], x = t.tokens[base + c];
        if (rnd() * qq[x] < p[x]) { out.push(x); v = c; continue; }
        for (let y = 0; y < V; y++) p[y] = Math.max(p[y] - qq[y], 0);
        out.push(drawFrom(p, rnd()));
        break;
      }
      const u = rnd();
      let S = 0, next = -1;
      for (const c of kids) if (u < (S += p[t.tokens[base + c]])) { next = c; break; }
      if (next >= 0) { out.push(t.tokens[base + next]); v = next; continue; }
      for (const c of kids) p[t.tokens[base + c]] = 0;
      out.push(drawFrom(p, rnd()));
      break;
    }
  }
  return out;
}

async function main() {
  const cases: { name: string; batch: number; nodes: number; V: number; depth: number; opts: VerifyTreeOptions }[] = [
    { name: '1 × 16 nodes, V 32000, greedy', batch: 1, nodes: 16, V: 32000, depth: 7, opts: { mode: 'greedy', seed: 1 } },
    { name: '1 × 16 nodes, V 32000, sample T 0.7', batch: 1, nodes: 16, V: 32000, depth: 7, opts: { mode: 'sample', temperature: 0.7, seed: 1 } },
    { name: '16 × 64 nodes, V 32000, greedy', batch: 16, nodes: 64, V: 32000, depth: 5, opts: { mode: 'greedy', seed: 1 } },
    { name: '16 × 64 nodes, V 32000, T 0.7 top-k 20 top-p 0.9', batch: 16, nodes: 64, V: 32000, depth: 5,
      opts: { mode: 'sample', temperature: 0.7, topK: 20, topP: 0.9, seed: 1 } },
    { name: '16 × 64 nodes, V 32000, top-p 0.9 alone', batch: 16, nodes: 64, V: 32000, depth: 5,
      opts: { mode: 'sample', topP: 0.9, seed: 1 } },
    { name: 'chain 16 × 8, V 32000, real q (iid)', batch: 16, nodes: 8, V: 32000, depth: 7,
      opts: { mode: 'sample', drafts: 'iid', seed: 1 } },
  ];
  const rows: Record<string, unknown>[] = [];
  for (const c of cases) {
    const w = workload(c.batch, c.nodes, c.V, c.depth, 7);
    const target = { data: w.z, rows: c.batch * c.nodes, vocab: c.V };
    const opts = { ...c.opts, draft: { data: w.q, rows: c.batch * c.nodes, vocab: c.V }, backend: 'cpu' } as VerifyTreeOptions;
    const res = await verifyTree(w.trees, target, opts);
    const accepted = Array.from(res.acceptedLength).reduce((a, b) => a + b, 0) / c.batch;
    const rnd = lcg(3);
    let step = 0;
    const ourBench = new Bench({ iterations: quick ? 5 : 50, warmupIterations: 5, time: quick ? 20 : 300 });
    ourBench.add('lengthwise', async () => {
      await verifyTree(w.trees, target, { ...opts, step: step++ });
    });
    const plainIters = quick ? 2 : c.batch > 1 && c.opts.mode === 'sample' ? 3 : 10;
    const plainBench = new Bench({ iterations: plainIters, warmupIterations: 1, time: 0 });
    plainBench.add('plain TS', () => {
      plainWalk(w.trees, w.z, w.q, c.V, c.opts, rnd);
    });
    await ourBench.run();
    await plainBench.run();
    const p50of = (b: Bench) => (b.tasks[0]!.result as { latency?: { p50?: number } } | undefined)?.latency?.p50 ?? NaN;
    const p50 = (i: number) => p50of(i === 0 ? ourBench : plainBench);
    const ours = p50(0), plain = p50(1);
    rows.push({ case: c.name, acceptedPerTree: accepted, lengthwiseMs: ours, plainTsMs: plain, speedup: plain / ours });
    console.log(`${c.name}: lengthwise ${(ours * 1000).toFixed(1)} µs, plain TS ${(plain * 1000).toFixed(1)} µs → ${(plain / ours).toFixed(1)}× (accepted ${accepted.toFixed(2)}/tree)`);
  }
  const info = backendInfo();
  const meta = { machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`, threads: info.threads, simd: info.simd, node: process.version, date: new Date().toISOString() };
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'tree-verify.json'), JSON.stringify({ meta, results: rows }, null, 2) + '\n');
  const md = [
    `# verifyTree on the CPU (${meta.machine}, ${meta.threads} threads, ${meta.simd}, ${meta.date})`,
    '',
    '| case | accepted / tree | lengthwise µs (from JS) | plain TS µs | speedup |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.case} | ${(r.acceptedPerTree as number).toFixed(2)} | ${((r.lengthwiseMs as number) * 1000).toFixed(1)} | ` +
      `${((r.plainTsMs as number) * 1000).toFixed(0)} | ${(r.speedup as number).toFixed(1)}× |`),
    '',
    'tinybench p50 latencies in the same run. Plain TS: the same walk in float64 with a materialised softmax per visited row ' +
      '(top-k/top-p by sorting), inverse-CDF sampling (LCG uniforms). Target (docs/performance.md): 1 × 16 nodes, V 32k, greedy ≤ 100 µs from JS.',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'tree-verify.md'), md + '\n');
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
