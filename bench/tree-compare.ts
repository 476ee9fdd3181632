// Two builds of lengthwise side by side: identical verifyTree tokens (and tree-utility values within 1e-9
// relative) over every draft kind, mode and processing setting, then the same-run timing of both builds.
//   node bench/run.js bench/tree-compare.ts OLD_ROOT NEW_ROOT [--backend cpu|cuda] [--time] [--calls-only]
//     [--device [--vocab V]]  (CUDA timing on device-resident bfloat16 logits, uploaded once per build: GPU + call cost
//                              without the per-call upload)
// Each root is a package directory holding dist/ and its addon(s) (build/Release, cuda/build/Release).
// Exits 1 on the first difference. The old build must not need options the new one added (minP is not used).
import * as path from 'path';
import { Bench } from 'tinybench';

type Api = {
  device: { upload: (data: Uint16Array) => Promise<unknown> };
  verifyTree: (t: unknown, z: unknown, o: unknown) => Promise<{ tokens: Int32Array; acceptedNodes: Int32Array; acceptedLength: Int32Array }>;
  expectedAcceptance: (t: unknown, z: unknown, o: unknown) => Promise<Float64Array>;
  nodeProbabilities: (t: unknown, z: unknown, o: unknown) => Promise<Float64Array>;
  gtoReward: (t: unknown, z: unknown, o: unknown) => Promise<Float64Array>;
};

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : d);
const roots = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--backend'));
if (roots.length !== 2) {
  console.error('usage: tree-compare.ts OLD_ROOT NEW_ROOT [--backend cpu|cuda] [--time]');
  process.exit(2);
}
const backend = option('--backend', 'cpu');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (root: string): Api => {
  const m = require(path.resolve(root, 'dist')) as { verifyTree: Api['verifyTree']; tree: Api; device: Api['device'] };
  return { ...m.tree, verifyTree: m.verifyTree, device: m.device };
};
const oldApi = load(roots[0]!), newApi = load(roots[1]!);

function mulberry(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function trees(r: () => number, batch: number, maxNodes: number, V: number, dup: boolean) {
  const tokens: number[] = [], parents: number[] = [], offsets = [0];
  for (let b = 0; b < batch; b++) {
    const n = 1 + Math.floor(r() * maxNodes);
    const used = new Set<string>();
    tokens.push(0);
    parents.push(-1);
    for (let i = 1; i < n; i++) {
      const p = Math.floor(r() * i);
      let t = Math.floor(r() * Math.min(V, 8)) * 3 % V;  // small ids: often the likely ones below
      if (!dup) while (used.has(`${p}:${t}`)) t = (t + 1) % V;
      used.add(`${p}:${t}`);
      tokens.push(t);
      parents.push(p);
    }
    offsets.push(tokens.length);
  }
  return { tokens: Int32Array.from(tokens), parents: Int32Array.from(parents), offsets: Int32Array.from(offsets) };
}

/** LLM-like rows: a few high logits on small ids, many ties in some rows, some -inf. */
function logits(r: () => number, rows: number, V: number, ties: boolean) {
  const z = new Float32Array(rows * V);
  for (let i = 0; i < z.length; i++) {
    const x = i % V;
    z[i] = r() < 0.02 ? -Infinity : ties ? Math.round(4 * r()) : 2.5 * (r() + r() + r() - 1.5) + (x < 24 ? 4 * r() : 0);
  }
  for (let g = 0; g < rows; g++) z[g * V + Math.floor(r() * V)] = 3;  // every row has a finite value
  return z;
}

function toHalf(z: Float32Array, dtype: 'float16' | 'bfloat16'): Uint16Array {
  const out = new Uint16Array(z.length), f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < z.length; i++) {
    f[0] = z[i]!;
    const b = u[0]!;
    if (dtype === 'bfloat16') { out[i] = b >>> 16; continue; }
    const s = (b >>> 16) & 0x8000, e = ((b >>> 23) & 0xff) - 112, m = (b >>> 13) & 0x3ff;
    out[i] = e >= 31 ? s | 0x7c00 | (((b >>> 23) & 0xff) === 0xff && (b & 0x7fffff) ? 0x200 : 0) : e <= 0 ? s : s | (e << 10) | m;
  }
  return out;
}

function same(a: ArrayLike<number>, b: ArrayLike<number>) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function equivalence() {
  const r = mulberry(12345);
  let calls = 0, utilCalls = 0, maxRel = 0;
  const Ts = [0, 0.7, 1, 1.6];
  const Ks = [0, 1, 3, 40, 1500];
  const Ps = [1, 0.3, 0.9, 0.999];
  for (const V of [7, 300, 4099, 32000]) {
    for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
      for (const drafts of ['deterministic', 'iid', 'without-replacement'] as const) {
        for (const ties of [false, true]) {
          const batch = V >= 32000 ? 3 : 6;
          const t = trees(r, batch, 9, V, drafts === 'iid');
          const rows = t.tokens.length;
          const z = logits(r, rows, V, ties), q = logits(r, rows, V, false);
          const target = dtype === 'float32' ? { data: z, rows, vocab: V } : { data: toHalf(z, dtype), dtype, rows, vocab: V };
          const draft = { data: q, rows, vocab: V };
          for (const mode of ['greedy', 'sample'] as const) {
            const settings = mode === 'greedy' ? [{}] : [] as Record<string, unknown>[];
            if (mode === 'sample') {
              for (let i = 0; i < 20; i++) {
                const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
                const perTree = r() < 0.3;
                const s: Record<string, unknown> = {};
                if (perTree) {
                  s.temperature = Float32Array.from({ length: batch }, () => pick(Ts));
                  s.topK = Int32Array.from({ length: batch }, () => pick(Ks));
                  s.topP = Float32Array.from({ length: batch }, () => pick(Ps));
                } else {
                  if (r() < 0.8) s.temperature = pick(Ts);
                  if (r() < 0.6) s.topK = pick(Ks);
                  if (r() < 0.6) s.topP = pick(Ps);
                }
                settings.push(s);
              }
            }
            for (const s of settings) {
              const o = { mode, drafts, draft, seed: 77 + calls, step: calls % 5, backend, ...s };
              const [a, b] = await Promise.all([oldApi.verifyTree(t, target, o), newApi.verifyTree(t, target, o)]);
              calls++;
              if (!same(a.tokens, b.tokens) || !same(a.acceptedNodes, b.acceptedNodes)) {
                console.error('verifyTree differs', { V, dtype, drafts, ties, o: { ...o, draft: undefined }, old: a.tokens, new: b.tokens });
                process.exit(1);
              }
              if (backend !== 'cpu') continue;
              const { seed: _seed, step: _step, ...processing } = o; // the utilities draw no randomness
              const uo = { ...processing, mode: mode === 'greedy' ? 'greedy' : 'sample' };
              const [ua, ub] = await Promise.all([oldApi.nodeProbabilities(t, target, uo), newApi.nodeProbabilities(t, target, uo)]);
              const go = { ...uo, eta: 0.5 };
              const [ga, gb] = await Promise.all([oldApi.gtoReward(t, target, go), newApi.gtoReward(t, target, go)]);
              const [ea, eb] = await Promise.all([oldApi.expectedAcceptance(t, target, uo), newApi.expectedAcceptance(t, target, uo)]);
              utilCalls += 3;
              for (const [x, y] of [[ua, ub], [ga, gb], [ea, eb]] as const)
                for (let i = 0; i < x.length; i++) {
                  const d = Math.abs(x[i]! - y[i]!) / Math.max(1e-300, Math.abs(x[i]!));
                  if (!(d <= 1e-9) && Math.abs(x[i]! - y[i]!) > 1e-12) {
                    console.error('tree utilities differ', { V, dtype, drafts, i, old: x[i], new: y[i], o: { ...o, draft: undefined } });
                    process.exit(1);
                  }
                  if (x[i] !== 0) maxRel = Math.max(maxRel, d);
                }
            }
          }
        }
      }
    }
  }
  console.log(`identical tokens on ${calls} verifyTree calls (${backend}); ${utilCalls} utility calls, max relative difference ${maxRel.toExponential(2)}`);
}

/** The workload of bench/tree-verify.bench.ts (planted likely chains). */
function workload(batch: number, nodes: number, V: number, depth: number) {
  const r = mulberry(7);
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
  const q = new Float32Array(z.length);  // Float32Array.from(z, f) builds a JS array first: too long at V = 128256
  for (let i = 0; i < z.length; i++) q[i] = z[i]! + (r() - 0.5);
  for (let b = 0; b < batch; b++)
    for (let i = 1; i <= depth && i < nodes; i++) {
      z[(b * nodes + i - 1) * V + tokens[b * nodes + i]!] = 22;
      q[(b * nodes + i - 1) * V + tokens[b * nodes + i]!] = 22;
    }
  return { trees: { tokens, parents, offsets }, z, q, V };
}

async function timing() {
  const cases = [
    { name: '1 × 16, greedy', batch: 1, nodes: 16, depth: 7, o: { mode: 'greedy' } },
    { name: '1 × 16, T 0.7', batch: 1, nodes: 16, depth: 7, o: { mode: 'sample', temperature: 0.7 } },
    { name: '16 × 64, greedy', batch: 16, nodes: 64, depth: 5, o: { mode: 'greedy' } },
    { name: '16 × 64, T 0.7 top-k 20 top-p 0.9', batch: 16, nodes: 64, depth: 5, o: { mode: 'sample', temperature: 0.7, topK: 20, topP: 0.9 } },
    { name: '16 × 64, top-p 0.9 alone', batch: 16, nodes: 64, depth: 5, o: { mode: 'sample', topP: 0.9 } },
    { name: '16 × 64, top-k 50', batch: 16, nodes: 64, depth: 5, o: { mode: 'sample', topK: 50 } },
    { name: 'chain 16 × 8, real q (iid)', batch: 16, nodes: 8, depth: 7, o: { mode: 'sample', drafts: 'iid' } },
    { name: 'utils 16 × 64, expectedAcceptance top-k 20 top-p 0.9', batch: 16, nodes: 64, depth: 5, util: true,
      o: { temperature: 0.7, topK: 20, topP: 0.9 } },
    { name: 'utils 16 × 64, expectedAcceptance top-p 0.9', batch: 16, nodes: 64, depth: 5, util: true, o: { topP: 0.9 } },
    { name: 'utils 16 × 64, expectedAcceptance T 1', batch: 16, nodes: 64, depth: 5, util: true, o: {} },
  ];
  const onDevice = flag('--device') && backend === 'cuda';
  const V = onDevice ? Number(option('--vocab', '128256')) : 32000;
  if (onDevice) console.log(`device-resident bfloat16 logits, V = ${V}`);
  console.log('| case | old µs | new µs | new / old |\n|---|---|---|---|');
  const bits = (a: Float32Array) => {
    const u = new Uint16Array(a.length), f = new Float32Array(1), w = new Uint32Array(f.buffer);
    for (let i = 0; i < a.length; i++) (f[0] = a[i]!), (u[i] = w[0]! >>> 16);  // truncation: the same bits for both builds
    return u;
  };
  for (const c of cases) {
    if (c.util && backend !== 'cpu') continue;
    const w = workload(c.batch, c.nodes, V, c.depth);
    const rows = c.batch * c.nodes;
    const zb = onDevice ? bits(w.z) : undefined, qb = onDevice ? bits(w.q) : undefined;
    const inputs = await Promise.all([oldApi, newApi].map(async (api) => {
      if (!onDevice) return { target: { data: w.z, rows, vocab: V } as Record<string, unknown>, draft: { data: w.q, rows, vocab: V } as Record<string, unknown> };
      const [dz, dq] = await Promise.all([api.device.upload(zb!), api.device.upload(qb!)]);
      return { target: { data: dz, dtype: 'bfloat16', rows, vocab: V }, draft: { data: dq, dtype: 'bfloat16', rows, vocab: V } };
    }));
    const target = inputs[1]!.target;
    const uo = { ...c.o, draft: inputs[1]!.draft, backend };
    const o = { ...uo, seed: 1 };
    const bench = new Bench({ iterations: 60, warmupIterations: 10, time: 400 });
    let step = 0;
    // Interleaved rounds so drifts in machine load hit both builds alike.
    const p50s: [number[], number[]] = [[], []];
    for (let round = 0; round < 3; round++) {
      for (const [k, api] of [[0, oldApi], [1, newApi]] as const) {
        const b = new Bench({ iterations: 40, warmupIterations: 5, time: 200 });
        const tk = inputs[k]!.target, ok = { ...o, draft: inputs[k]!.draft };
        b.add('x', async () => {
          if (c.util) await api.expectedAcceptance(w.trees, target, uo);
          else await api.verifyTree(w.trees, tk, { ...ok, step: step++ });
        });
        await b.run();
        p50s[k].push((b.tasks[0]!.result as { latency?: { p50?: number } }).latency?.p50 ?? NaN);
      }
    }
    void bench;
    const med = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const po = med(p50s[0]), pn = med(p50s[1]);
    console.log(`| ${c.name} | ${(po * 1000).toFixed(1)} | ${(pn * 1000).toFixed(1)} | ${(pn / po).toFixed(3)} |`);
  }
}

/** New build only: CUDA against CPU tokens with min-p (alone and with top-k / top-p, scalar and per tree). */
async function cudaVsCpuMinP() {
  const r = mulberry(777);
  let calls = 0, requests = 0, differ = 0;
  for (const V of [50, 4099, 32000, 128256]) {
    for (const drafts of ['deterministic', 'iid', 'without-replacement'] as const) {
      const batch = V > 100000 ? 4 : 12;
      const t = trees(r, batch, 9, V, drafts === 'iid');
      const rows = t.tokens.length;
      const target = { data: logits(r, rows, V, false), rows, vocab: V }, draft = { data: logits(r, rows, V, false), rows, vocab: V };
      for (let i = 0; i < 8; i++) {
        const s: Record<string, unknown> = i % 2 === 0 ? { minP: [0.01, 0.1, 0.3, 0.9][i / 2]! }
          : { minP: Float32Array.from({ length: batch }, () => (r() < 0.2 ? 0 : r() * 0.4)), temperature: 0.5 + r() };
        if (i >= 4) Object.assign(s, { topK: [0, 3, 40][i % 3], topP: [1, 0.9, 0.5][(i + 1) % 3] });
        const o = { mode: 'sample', drafts, draft, seed: 5 + calls, step: i, ...s };
        const [a, b] = await Promise.all([newApi.verifyTree(t, target, { ...o, backend: 'cpu' }), newApi.verifyTree(t, target, { ...o, backend: 'cuda' })]);
        calls++;
        const off = (x: { tokens: Int32Array; acceptedLength: Int32Array }, k: number) => {
          let at = 0;
          for (let j = 0; j < k; j++) at += x.acceptedLength[j]! + 1;
          return Array.from(x.tokens.subarray(at, at + x.acceptedLength[k]! + 1)).join(',');
        };
        for (let k = 0; k < batch; k++, requests++) if (off(a, k) !== off(b, k)) differ++;
      }
    }
  }
  console.log(`min-p CUDA vs CPU: ${requests - differ} / ${requests} requests identical over ${calls} calls`);
  if (differ > requests / 200) process.exit(1);
}

async function main() {
  if (!flag('--time-only')) await equivalence();
  if (backend === 'cuda' && !flag('--time-only')) await cudaVsCpuMinP();
  if (flag('--time') || flag('--time-only')) await timing();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
