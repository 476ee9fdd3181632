// verifyTree with logits processors (issue #8: allowedTokens per request or per node, logitBias, penalties) on
// the GPU (no jest there): CUDA vs CPU tokens with per-request seeds on random batches, every mode, float32 and
// bfloat16, host and device-resident logits; batch invariance on CUDA; then timings of processors on vs off for
// V = 128256 bf16, 64 trees × 64 nodes, device-resident, sampling with top-p (medians, same run), written as JSON
// to $OUT/tree-processors.json when OUT is set.
// Run: node test/gpu/tree-processors.js (from a directory holding dist/, build/ and cuda/build/); exit 1 on failure.
// PROCESSORS_BACKEND=cpu dry-runs the logic without a GPU (CPU against itself, small vocabularies, no timings);
// PROCESSORS_SMALL=1 keeps V = 1000 only and skips the timings (for compute-sanitizer); PROCESSORS_TIMING_ONLY=1
// skips the correctness part.
'use strict';

const fs = require('fs');
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist'));
const { mulberry32 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'prng'));
const { toBf16 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'dtype'));
const { median } = require(path.join(__dirname, 'common'));

const MODES = ['greedy', 'deterministic', 'iid', 'without-replacement'];
const GPU = process.env.PROCESSORS_BACKEND ?? 'cuda';
const SMALL = process.env.PROCESSORS_SMALL === '1';
const VOCABS = SMALL ? [[1000, false]] : GPU === 'cuda' ? [[1000, false], [32000, true], [128256, true]] : [[1000, false], [3000, true]];
const randInt = (r, n) => Math.floor(r() * n);

/** One request: its tree, rows (a child's token lifted in its parent's row), seed, step, knobs and processors. */
function request(r, maxNodes, V, iid) {
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
  const histIds = ids(randInt(r, 60));
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
      for (const { size, which } of stats.plan.filter((p) => p.V === V && p.mode === mode)) {
        const reqs = Array.from({ length: size }, () => request(r, 10, V, mode === 'iid'));
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

/** V = 128256 bf16, 64 × 64 nodes, device-resident; processors on vs off, interleaved, medians of `reps`. */
async function timings() {
  const V = 128256, B = 64, N = 64, W = Math.ceil(V / 32), reps = 15;
  const r = mulberry32(2026);
  const nodes = B * N;
  const tokens = new Int32Array(nodes), parents = new Int32Array(nodes), offsets = new Int32Array(B + 1);
  for (let b = 0; b < B; b++) {
    const o = b * N;
    parents[o] = -1;
    for (let s = 1; s < N; s++) { parents[o + s] = s <= 6 ? s - 1 : randInt(r, s); tokens[o + s] = (s * 7919 + b * 31) % V; }
    offsets[b + 1] = o + N;
  }
  const z = new Float32Array(nodes * V);
  for (let i = 0; i < z.length; i++) z[i] = 3 * (r() + r() - 1);
  for (let b = 0; b < B; b++) for (let s = 1; s <= 6; s++) z[(b * N + s - 1) * V + tokens[b * N + s]] = 12;
  const trees = { tokens, parents, offsets };
  const dz = await lw.device.upload(toBf16(z));
  const target = { data: dz, dtype: 'bfloat16', rows: nodes, vocab: V };
  // A grammar-like mask (half the vocabulary, the planted chain allowed) per request and per node; a 64-token
  // bias and a 512-token history per request (sorted ids), all three penalties.
  const maskOf = (rows, rowOfNode) => {
    const m = new Uint32Array(rows * W);
    for (let i = 0; i < m.length; i++) m[i] = (r() * 2 ** 32) >>> 0;
    for (let b = 0; b < B; b++) for (let s = 1; s <= 6; s++) {
      const row = rowOfNode(b, s - 1), t = tokens[b * N + s];
      m[row * W + (t >> 5)] |= 1 << (t & 31);
    }
    return m;
  };
  const maskReq = maskOf(B, (b) => b), maskNode = maskOf(nodes, (b, s) => b * N + s);
  const onDevice = (m) => lw.device.upload(new Int32Array(m.buffer, m.byteOffset, m.length));
  const dMaskReq = await onDevice(maskReq), dMaskNode = await onDevice(maskNode);
  const sortedRagged = (per) => {
    const off = Int32Array.from({ length: B + 1 }, (_, b) => b * per);
    const ids = new Int32Array(B * per);
    for (let b = 0; b < B; b++) {
      const set = new Set();
      while (set.size < per) set.add(randInt(r, V));
      ids.set(Int32Array.from([...set].sort((x, y) => x - y)), b * per);
    }
    return { off, ids };
  };
  const h = sortedRagged(512), bi = sortedRagged(64);
  const penalties = { repetition: 1.2, frequency: 0.3, presence: 0.2, history: { offsets: h.off, ids: h.ids, counts: Int32Array.from(h.ids, () => 1 + randInt(r, 3)) } };
  const logitBias = { offsets: bi.off, ids: bi.ids, values: Float32Array.from(bi.ids, () => 4 * r() - 2) };
  // Two sampling settings: top-p alone (on these flat rows it keeps most of the vocabulary, the slow select), and
  // the serving default T 0.7 + top-k 20 + top-p 0.9. Each set's ratio is to 'off' under the same setting.
  const bases = {
    'T 0.8 top-p 0.9': { mode: 'sample', seed: 42n, step: 3, temperature: 0.8, topP: 0.9, backend: 'cuda' },
    'T 0.7 top-k 20 top-p 0.9': { mode: 'sample', seed: 42n, step: 3, temperature: 0.7, topK: 20, topP: 0.9, backend: 'cuda' },
  };
  const sets = {
    off: {},
    'penalties + request mask': { penalties, allowedTokens: maskReq },
    'penalties + node mask': { penalties, allowedTokens: maskNode },
    'penalties + request mask + bias': { penalties, allowedTokens: maskReq, logitBias },
    'penalties + device request mask': { penalties, allowedTokens: dMaskReq },
    'penalties + device node mask': { penalties, allowedTokens: dMaskNode },
    'penalties + device node mask + bias': { penalties, allowedTokens: dMaskNode, logitBias },
    'device node mask': { allowedTokens: dMaskNode },
  };
  const out = { shape: { V, dtype: 'bfloat16', batch: B, nodes: N, logits: 'device', drafts: 'deterministic', history: 512, bias: 64, reps, timing: 'host wall per call from JS, median' } };
  for (const [bn, base] of Object.entries(bases)) {
    const times = Object.fromEntries(Object.keys(sets).map((k) => [k, []]));
    for (const k of Object.keys(sets)) await lw.verifyTree(trees, target, { ...base, ...sets[k] }); // warm-up
    for (let i = 0; i < reps; i++) {
      for (const k of Object.keys(sets)) {
        const t0 = process.hrtime.bigint();
        await lw.verifyTree(trees, target, { ...base, ...sets[k] });
        times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    out[bn] = { medianMs: med, ratioVsOff: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, v / med.off])) };
  }
  dz.dispose();
  dMaskReq.dispose();
  dMaskNode.dispose();
  console.log(JSON.stringify(out, null, 2));
  return out;
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
  const timingOnly = process.env.PROCESSORS_TIMING_ONLY === '1';
  if (!timingOnly) await correctness(stats);
  if (!timingOnly && GPU === 'cuda') stats.deviceMaskHostLogits = await deviceMaskOnHostLogits();
  const { plan: _plan, ...summary } = stats;
  console.log(JSON.stringify(summary));
  const ok = stats.invariance.differ === 0 && stats.greedyDiffer === 0 && stats.device.differ === 0 &&
    (GPU !== 'cuda' || timingOnly || (stats.device.masks > 0 && stats.deviceMaskHostLogits === 'RangeError')) &&
    stats.cpuCuda.differ <= stats.cpuCuda.requests / 100 && stats.accepted > stats.cpuCuda.requests / 4;
  let timing;
  if (GPU === 'cuda' && !SMALL) timing = await timings();
  if (process.env.OUT) {
    fs.writeFileSync(path.join(process.env.OUT, 'tree-processors.json'), JSON.stringify({ correctness: summary, ok, timing }, null, 2));
  }
  if (timingOnly) return console.log('timings only (no correctness run)');
  console.log(ok ? 'PASS' : 'FAIL');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
