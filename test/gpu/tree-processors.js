// verifyTree with logits processors (issue #8: allowedTokens per request or per node, logitBias, penalties) on
// the GPU (no jest there): CUDA vs CPU tokens with per-request seeds on random batches, every mode, float32 and
// bfloat16, host and device-resident logits and masks; batch invariance on CUDA; a device mask with host logits
// is a RangeError. Summary as JSON to $OUT/tree-processors.json when OUT is set. Timings: bench/gpu-processors.js.
// Run: node test/gpu/tree-processors.js (from a directory holding dist/, build/ and cuda/build/); exit 1 on failure.
// PROCESSORS_BACKEND=cpu dry-runs the logic without a GPU (CPU against itself, small vocabularies);
// PROCESSORS_SMALL=1 keeps V = 1000 only (for compute-sanitizer).
'use strict';

const fs = require('fs');
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist'));
const { mulberry32 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'prng'));
const { toBf16 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'dtype'));

const MODES = ['greedy', 'deterministic', 'iid', 'without-replacement'];
const GPU = process.env.PROCESSORS_BACKEND ?? 'cuda';
const SMALL = process.env.PROCESSORS_SMALL === '1';
const VOCABS = SMALL ? [[1000, false]] : GPU === 'cuda' ? [[1000, false], [32000, true], [128256, true]] : [[1000, false], [3000, true]];
const randInt = (r, n) => Math.floor(r() * n);

/** One request: its tree, rows (a child's token lifted in its parent's row), seed, step, knobs and processors.
 * `long`: a history of 1200+ ids (the CUDA walk's flagged-value tables then live in global memory). */
function request(r, maxNodes, V, iid, long = false) {
  const n = 1 + randInt(r, maxNodes);
  const tokens = new Int32Array(n), parents = new Int32Array(n).fill(-1);
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
  const target = new Float32Array(n * V), draft = new Float32Array(n * V);
  for (let i = 0; i < n * V; i++) { target[i] = 2.5 * (r() * 2 - 1); draft[i] = 2.5 * (r() * 2 - 1); }
  for (let c = 1; c < n; c++) {
    if (r() < 0.7) { target[parents[c] * V + tokens[c]] = 7 + r(); draft[parents[c] * V + tokens[c]] = 7 + r(); }
  }
  // Processors: a mask row per node (the planted children allowed), a bias list, a history (some of it the
  // planted children, so penalties change what is accepted).
  const W = Math.ceil(V / 32);
  const mask = new Uint32Array(n * W);
  const density = 0.3 + 0.6 * r();
  for (let g = 0; g < n; g++) for (let x = 0; x < V; x++) if (r() < density) mask[g * W + (x >> 5)] |= 1 << (x & 31);
  for (let c = 1; c < n; c++) if (r() < 0.8) mask[parents[c] * W + (tokens[c] >> 5)] |= 1 << (tokens[c] & 31);
  for (let g = 0; g < n; g++) mask[g * W] |= 1; // token 0 always allowed: no row is left empty
  const ids = (k) => [...new Set(Array.from({ length: k }, () => (r() < 0.3 && n > 1 ? tokens[1 + randInt(r, n - 1)] : randInt(r, V))))];
  const biasIds = ids(randInt(r, 20));
  const histIds = ids(long ? 1200 + randInt(r, 1500) : randInt(r, 60));
  let seed = 0n;
  for (let i = 0; i < 4; i++) seed = (seed << 16n) | BigInt(randInt(r, 65536));
  return {
    tokens, parents, target, draft, seed, step: randInt(r, 2 ** 32), mask,
    bias: { ids: biasIds, values: biasIds.map(() => 6 * r() - 3) },
    history: { ids: histIds, counts: histIds.map(() => randInt(r, 4)) },
    repetition: 0.6 + 1.4 * r(), frequency: r() - 0.3, presence: r() - 0.3,
    temperature: r() < 0.1 ? 0 : 0.3 + 1.5 * r(), topK: r() < 0.5 ? 0 : 1 + randInt(r, V), topP: r() < 0.5 ? 1 : 0.2 + 0.8 * r(),
    minP: r() < 0.7 ? 0 : 0.02 + 0.2 * r(),
  };
}

function ragged(reqs, pick) {
  const offsets = new Int32Array(reqs.length + 1), ids = [], second = [];
  reqs.forEach((q, b) => {
    const p = pick(q);
    ids.push(...p.ids);
    second.push(...(p.values ?? p.counts));
    offsets[b + 1] = ids.length;
  });
  return { offsets, ids: Int32Array.from(ids), second };
}

function batch(reqs, V, bf16, which) {
  const nodes = reqs.reduce((s, q) => s + q.tokens.length, 0);
  const W = Math.ceil(V / 32);
  const tokens = new Int32Array(nodes), parents = new Int32Array(nodes), offsets = new Int32Array(reqs.length + 1);
  const z = new Float32Array(nodes * V), q = new Float32Array(nodes * V), mask = new Uint32Array(nodes * W);
  reqs.forEach((x, b) => {
    const o = offsets[b];
    tokens.set(x.tokens, o); parents.set(x.parents, o); z.set(x.target, o * V); q.set(x.draft, o * V); mask.set(x.mask, o * W);
    offsets[b + 1] = o + x.tokens.length;
  });
  const logits = (a) => (bf16 ? { data: toBf16(a), dtype: 'bfloat16', rows: nodes, vocab: V } : { data: a, rows: nodes, vocab: V });
  const proc = {};
  if (which.mask === 'node') proc.allowedTokens = mask;
  if (which.mask === 'request') proc.allowedTokens = Uint32Array.from({ length: reqs.length * W }, (_, i) => mask[offsets[Math.floor(i / W)] * W + (i % W)]);
  if (which.bias) {
    const b = ragged(reqs, (x) => x.bias);
    proc.logitBias = { offsets: b.offsets, ids: b.ids, values: Float32Array.from(b.second) };
  }
  if (which.penalties) {
    const h = ragged(reqs, (x) => x.history);
    proc.penalties = {
      history: { offsets: h.offsets, ids: h.ids, counts: Int32Array.from(h.second) },
      repetition: Float32Array.from(reqs.map((x) => x.repetition)), frequency: Float32Array.from(reqs.map((x) => x.frequency)),
      presence: Float32Array.from(reqs.map((x) => x.presence)),
    };
  }
  return {
    trees: { tokens, parents, offsets }, target: logits(z), draft: logits(q), proc,
    seed: BigUint64Array.from(reqs.map((x) => x.seed)), step: Uint32Array.from(reqs.map((x) => x.step)),
    temperature: Float32Array.from(reqs.map((x) => x.temperature)), topK: Int32Array.from(reqs.map((x) => x.topK)),
    topP: Float32Array.from(reqs.map((x) => x.topP)), minP: Float32Array.from(reqs.map((x) => x.minP)),
  };
}

function options(b, mode) {
  if (mode === 'greedy') return { mode: 'greedy', seed: b.seed, step: b.step, ...b.proc };
  const o = { mode: 'sample', seed: b.seed, step: b.step, temperature: b.temperature, topK: b.topK, topP: b.topP, minP: b.minP, ...b.proc };
  if (mode !== 'deterministic') Object.assign(o, { drafts: mode, draft: b.draft });
  return o;
}

const part = (r, i) => Array.from(r.tokens.subarray(r.tokenOffsets[i], r.tokenOffsets[i + 1])).join() + '|' +
  Array.from(r.acceptedNodes.subarray(r.tokenOffsets[i], r.tokenOffsets[i + 1])).join();

const WHICH = [
  { mask: 'request' }, { mask: 'node' }, { bias: true }, { penalties: true },
  { mask: 'node', bias: true, penalties: true }, { mask: 'request', bias: true, penalties: true },
];

async function correctness(stats) {
  const t0 = Date.now();
  for (const [V, bf16] of VOCABS) {
    for (const mode of MODES) {
      const r = mulberry32(7 * V + MODES.indexOf(mode));
      const sizes = V === 128256 ? [1, 24] : V === 32000 ? [1, 5, 40] : [1, 5, 64, 1 + randInt(r, 64)];
      sizes.forEach((size, si) => {
        stats.plan.push({ V, mode, size, which: WHICH[(si + MODES.indexOf(mode)) % WHICH.length] });
      });
      if (V === 32000) stats.plan.push({ V, mode, size: 6, which: { mask: 'node', bias: true, penalties: true }, long: true });
      for (const { size, which, long } of stats.plan.filter((p) => p.V === V && p.mode === mode)) {
        const reqs = Array.from({ length: size }, () => request(r, long ? 24 : 10, V, mode === 'iid', long));
        const b = batch(reqs, V, bf16, which);
        const cpu = await lw.verifyTree(b.trees, b.target, { ...options(b, mode), backend: 'cpu' });
        const gpu = await lw.verifyTree(b.trees, b.target, { ...options(b, mode), backend: GPU });
        for (let i = 0; i < size; i++) {
          stats.cpuCuda.requests++;
          stats.accepted += gpu.acceptedLength[i];
          if (part(cpu, i) !== part(gpu, i)) {
            stats.cpuCuda.differ++;
            if (mode === 'greedy') {
              stats.greedyDiffer++;
              console.log(`GREEDY MISMATCH V ${V} size ${size} ${JSON.stringify(which)} request ${i}: cpu ${part(cpu, i)} cuda ${part(gpu, i)}`);
            }
          }
        }
        // Batch invariance on CUDA: each request alone gives its tokens in the batch.
        for (let i = 0; i < Math.min(size, 8); i++) {
          const a = batch([reqs[i]], V, bf16, which);
          const alone = await lw.verifyTree(a.trees, a.target, { ...options(a, mode), backend: GPU });
          stats.invariance.requests++;
          if (part(alone, 0) !== part(gpu, i)) {
            stats.invariance.differ++;
            console.log(`INVARIANCE MISMATCH V ${V} ${mode} size ${size} request ${i}`);
          }
        }
        if (GPU === 'cuda' && size > 1 && mode !== 'greedy') {
          const dz = await lw.device.upload(b.target.data);
          const dq = await lw.device.upload(b.draft.data);
          let dm;
          try {
            const o = options(b, mode);
            if (o.draft) o.draft = { ...b.draft, data: dq };
            if (o.allowedTokens) {
              // the mask device-resident too (as int32 words, a grammar engine's GPU bitmask)
              const m = o.allowedTokens;
              dm = await lw.device.upload(new Int32Array(m.buffer, m.byteOffset, m.length));
              o.allowedTokens = dm;
              stats.device.masks++;
            }
            const dev = await lw.verifyTree(b.trees, { ...b.target, data: dz }, o);
            for (let i = 0; i < size; i++) {
              stats.device.requests++;
              if (part(dev, i) !== part(gpu, i)) stats.device.differ++;
            }
          } finally {
            dz.dispose();
            dq.dispose();
            dm?.dispose();
          }
        }
      }
    }
    console.log(`V ${V} done at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** A device-resident mask with host logits is a RangeError naming the mask (returns the error's name). */
async function deviceMaskOnHostLogits() {
  const V = 64, trees = { tokens: new Int32Array([0, 1]), parents: new Int32Array([-1, 0]), offsets: new Int32Array([0, 2]) };
  const dm = await lw.device.upload(new Int32Array(2).fill(-1));
  try {
    await lw.verifyTree(trees, { data: new Float32Array(2 * V), rows: 2, vocab: V }, { mode: 'sample', seed: 1n, allowedTokens: dm });
    return 'no error';
  } catch (e) {
    console.log(`device mask + host logits: ${e.name}: ${e.message}`);
    return /opts\.allowedTokens is a DeviceTensor/.test(e.message) ? e.name : `${e.name} (unexpected message)`;
  } finally {
    dm.dispose();
  }
}

async function main() {
  const info = lw.backendInfo();
  console.log(`backend ${JSON.stringify(info.cuda ?? info)}`);
  const stats = { plan: [], cpuCuda: { requests: 0, differ: 0 }, invariance: { requests: 0, differ: 0 }, device: { requests: 0, differ: 0, masks: 0 }, greedyDiffer: 0, accepted: 0 };
  await correctness(stats);
  if (GPU === 'cuda') stats.deviceMaskHostLogits = await deviceMaskOnHostLogits();
  const { plan: _plan, ...summary } = stats;
  console.log(JSON.stringify(summary));
  const ok = stats.invariance.differ === 0 && stats.greedyDiffer === 0 && stats.device.differ === 0 &&
    (GPU !== 'cuda' || (stats.device.masks > 0 && stats.deviceMaskHostLogits === 'RangeError')) &&
    stats.cpuCuda.differ <= stats.cpuCuda.requests / 100 && stats.accepted > stats.cpuCuda.requests / 4;
  if (process.env.OUT) fs.writeFileSync(path.join(process.env.OUT, 'tree-processors.json'), JSON.stringify({ correctness: summary, ok }, null, 2));
  console.log(ok ? 'PASS' : 'FAIL');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
