// verifyTree with per-request seeds on the GPU (no jest there): CUDA vs CPU tokens, and batch invariance on
// CUDA (each request alone == inside shuffled batches of 1..64, which also changes the walk path and cluster
// size the host picks). Every mode, float32 and bfloat16, host and device-resident logits.
// Run: node test/gpu/tree-serving.js (from a directory holding dist/, build/ and cuda/build/); exit 1 on failure.
'use strict';

const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist'));
const { mulberry32 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'prng'));
const { toBf16 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'dtype'));

const MODES = ['greedy', 'deterministic', 'iid', 'without-replacement'];
// SERVING_BACKEND=cpu dry-runs the script's logic without a GPU (CPU against itself, small vocabularies only).
const GPU = process.env.SERVING_BACKEND ?? 'cuda';
const VOCABS = GPU === 'cuda' ? [[1000, false], [32000, true], [128256, true]] : [[1000, false], [3000, true]];
const randInt = (r, n) => Math.floor(r() * n);

/** One request: its own tree (1..maxNodes nodes), rows, seed, step and knobs; a child's token lifted in its parent's row. */
function request(r, maxNodes, V, iid) {
  const n = 1 + randInt(r, maxNodes);
  const tokens = new Int32Array(n);
  const parents = new Int32Array(n).fill(-1);
  const used = [new Set()];
  tokens[0] = randInt(r, V);
  for (let i = 1; i < n; i++) {
    const p = randInt(r, i);
    let t = randInt(r, V);
    if (!iid) while (used[p].has(t)) t = randInt(r, V);
    used[p].add(t);
    used.push(new Set());
    tokens[i] = t;
    parents[i] = p;
  }
  const target = new Float32Array(n * V);
  const draft = new Float32Array(n * V);
  for (let i = 0; i < n * V; i++) {
    target[i] = 2.5 * (r() * 2 - 1);
    draft[i] = 2.5 * (r() * 2 - 1);
  }
  for (let c = 1; c < n; c++) {
    if (r() < 0.7) {
      target[parents[c] * V + tokens[c]] = 7 + r();
      draft[parents[c] * V + tokens[c]] = 7 + r();
    }
  }
  let seed = 0n;
  for (let i = 0; i < 4; i++) seed = (seed << 16n) | BigInt(randInt(r, 65536));
  return {
    tokens, parents, target, draft, seed, step: randInt(r, 2 ** 32),
    temperature: r() < 0.1 ? 0 : 0.3 + 1.5 * r(), topK: r() < 0.5 ? 0 : 1 + randInt(r, V), topP: r() < 0.5 ? 1 : 0.2 + 0.8 * r(),
  };
}

function batch(reqs, V, bf16) {
  const nodes = reqs.reduce((s, q) => s + q.tokens.length, 0);
  const tokens = new Int32Array(nodes), parents = new Int32Array(nodes), offsets = new Int32Array(reqs.length + 1);
  const z = new Float32Array(nodes * V), q = new Float32Array(nodes * V);
  reqs.forEach((x, b) => {
    const o = offsets[b];
    tokens.set(x.tokens, o); parents.set(x.parents, o); z.set(x.target, o * V); q.set(x.draft, o * V);
    offsets[b + 1] = o + x.tokens.length;
  });
  const logits = (a) => (bf16 ? { data: toBf16(a), dtype: 'bfloat16', rows: nodes, vocab: V } : { data: a, rows: nodes, vocab: V });
  return {
    trees: { tokens, parents, offsets }, target: logits(z), draft: logits(q),
    seed: BigUint64Array.from(reqs.map((x) => x.seed)), step: Uint32Array.from(reqs.map((x) => x.step)),
    temperature: Float32Array.from(reqs.map((x) => x.temperature)), topK: Int32Array.from(reqs.map((x) => x.topK)),
    topP: Float32Array.from(reqs.map((x) => x.topP)),
  };
}

function options(b, mode) {
  if (mode === 'greedy') return { mode: 'greedy', seed: b.seed, step: b.step };
  const o = { mode: 'sample', seed: b.seed, step: b.step, temperature: b.temperature, topK: b.topK, topP: b.topP };
  if (mode !== 'deterministic') Object.assign(o, { drafts: mode, draft: b.draft });
  return o;
}

const part = (r, i) => Array.from(r.tokens.subarray(r.tokenOffsets[i], r.tokenOffsets[i + 1])).join() + '|' +
  Array.from(r.acceptedNodes.subarray(r.tokenOffsets[i], r.tokenOffsets[i + 1])).join();

async function main() {
  const info = lw.backendInfo();
  console.log(`backend ${JSON.stringify(info.cuda ?? info)}`);
  const stats = { cpuCuda: { requests: 0, differ: 0 }, invariance: { requests: 0, differ: 0 }, device: { requests: 0, differ: 0 }, greedyDiffer: 0, accepted: 0 };
  const t0 = Date.now();
  for (const [V, bf16] of VOCABS) {
    for (const mode of MODES) {
      const r = mulberry32(V + MODES.indexOf(mode));
      for (const size of V === 128256 ? [1, 24] : V === 32000 ? [1, 5, 40] : [1, 5, 64, 1 + randInt(r, 64)]) {
        const reqs = Array.from({ length: size }, () => request(r, 10, V, mode === 'iid'));
        const b = batch(reqs, V, bf16);
        const cpu = await lw.verifyTree(b.trees, b.target, { ...options(b, mode), backend: 'cpu' });
        const gpu = await lw.verifyTree(b.trees, b.target, { ...options(b, mode), backend: GPU });
        for (let i = 0; i < size; i++) {
          stats.cpuCuda.requests++;
          stats.accepted += gpu.acceptedLength[i];
          if (part(cpu, i) !== part(gpu, i)) {
            stats.cpuCuda.differ++;
            if (mode === 'greedy') {
              stats.greedyDiffer++;
              console.log(`GREEDY MISMATCH V ${V} size ${size} request ${i}`);
            }
          }
        }
        // Batch invariance on CUDA: shuffled inside a larger batch, and alone.
        const perm = reqs.map((_, i) => i).sort(() => r() - 0.5);
        const extra = Array.from({ length: randInt(r, 4) }, () => request(r, 10, V, mode === 'iid'));
        const sb = batch([...extra, ...perm.map((i) => reqs[i])], V, bf16);
        const shuffled = await lw.verifyTree(sb.trees, sb.target, { ...options(sb, mode), backend: GPU });
        for (let i = 0; i < size; i++) {
          const a = batch([reqs[i]], V, bf16);
          const alone = await lw.verifyTree(a.trees, a.target, { ...options(a, mode), backend: GPU });
          stats.invariance.requests++;
          if (part(alone, 0) !== part(gpu, i) || part(shuffled, extra.length + perm.indexOf(i)) !== part(gpu, i)) {
            stats.invariance.differ++;
            console.log(`INVARIANCE MISMATCH V ${V} ${mode} size ${size} request ${i}`);
          }
        }
        // Device-resident logits give the host-input tokens.
        if (GPU === 'cuda' && size > 1 && mode !== 'greedy') {
          const dz = await lw.device.upload(b.target.data);
          const dq = await lw.device.upload(b.draft.data);
          try {
            const o = options(b, mode);
            if (o.draft) o.draft = { ...b.draft, data: dq };
            const dev = await lw.verifyTree(b.trees, { ...b.target, data: dz }, o);
            for (let i = 0; i < size; i++) {
              stats.device.requests++;
              if (part(dev, i) !== part(gpu, i)) stats.device.differ++;
            }
          } finally {
            dz.dispose();
            dq.dispose();
          }
        }
      }
    }
    console.log(`V ${V} done at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(JSON.stringify(stats));
  // CPU and CUDA may differ only where a comparison is within float rounding of its threshold (<= 1%).
  const ok = stats.invariance.differ === 0 && stats.greedyDiffer === 0 && stats.device.differ === 0 && stats.cpuCuda.differ <= stats.cpuCuda.requests / 100 &&
    stats.accepted > stats.cpuCuda.requests / 4;
  console.log(ok ? 'PASS' : 'FAIL');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
