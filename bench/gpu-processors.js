#!/usr/bin/env node
// Logits processors on vs off on CUDA (issue #8's target: V = 128256 bf16, 64 trees × 64 nodes, device-resident
// logits, penalties + mask + top-p within 1.5× of the same call without them). Same process, sets interleaved
// within each round; per set: host wall per call from JS (median), the CUDA-event GPU time of the call's kernels,
// and the ratio to 'off' under the same sampling; --breakdown adds the addon's phase marks (where the host time
// goes). Plain JS on dist/ (runs on the GPU machine without dev dependencies):
//   node bench/gpu-processors.js [--reps N] [--breakdown] [--out FILE.md] [--only-base TEXT] [--only-set TEXT]
// (--only-*: just the sampling settings / sets whose name contains TEXT, e.g. one set under a profiler)
'use strict';
const path = require('path');
const { gpuBench, fmt } = require(path.join(__dirname, 'helpers', 'gpu-bench'));
const { lw, opt, log, timeCalls, writeOut } = gpuBench('gpu-processors', 'gpu-processors.md');
const { mulberry32 } = require(path.join(__dirname, '..', 'dist', 'runtime', 'prng'));
const { toBf16 } = require(path.join(__dirname, '..', 'dist', 'runtime', 'dtype'));

const reps = Number(opt('reps', '15'));
const breakdown = process.argv.includes('--breakdown');
const randInt = (r, n) => Math.floor(r() * n);

async function main() {
  const V = 128256, B = 64, N = 64, W = Math.ceil(V / 32);
  const r = mulberry32(2026);
  const nodes = B * N;
  // Each tree: a planted chain of 6 (its tokens lifted to 12 in the parent's row), the rest random children.
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
  // A grammar-like mask (half the vocabulary, the planted chain allowed) per request and per node, on the host and
  // on the device; a 64-token bias and a 512-token history per request (sorted ids), all three penalties.
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
  // Two sampling settings: the serving default T 0.7 + top-k 20 + top-p 0.9, and top-p alone (on these flat rows
  // it keeps most of the vocabulary: the slow select). Each set's ratio is to 'off' under the same setting.
  const bases = {
    'T 0.7 top-k 20 top-p 0.9': { mode: 'sample', seed: 42n, step: 3, temperature: 0.7, topK: 20, topP: 0.9, backend: 'cuda' },
    'T 0.8 top-p 0.9': { mode: 'sample', seed: 42n, step: 3, temperature: 0.8, topP: 0.9, backend: 'cuda' },
  };
  const sets = {
    off: {},
    'device request mask': { allowedTokens: dMaskReq },
    'device node mask': { allowedTokens: dMaskNode },
    penalties: { penalties },
    bias: { logitBias },
    'penalties + request mask': { penalties, allowedTokens: maskReq },
    'penalties + device request mask': { penalties, allowedTokens: dMaskReq },
    'penalties + device node mask': { penalties, allowedTokens: dMaskNode },
    'penalties + device node mask + bias': { penalties, allowedTokens: dMaskNode, logitBias },
    'penalties + node mask (host, 65 MB a call)': { penalties, allowedTokens: maskNode },
  };
  log(`# processors on vs off, CUDA, ${new Date().toISOString()}`);
  log(`V ${V} bf16, ${B} trees × ${N} nodes, device-resident logits, deterministic drafts; history 512 + bias 64 per request; reps ${reps}`);
  const onlyBase = opt('only-base', ''), onlySet = opt('only-set', '');
  for (const [bn, base] of Object.entries(bases)) {
    if (!bn.includes(onlyBase)) continue;
    log('');
    log(`## ${bn}`);
    log('| set | JS wall µs | GPU µs | wall / off | GPU / off |');
    log('|---|---|---|---|---|');
    const res = {};
    for (const [k, extra] of Object.entries(sets)) {
      if (k !== 'off' && !k.includes(onlySet)) continue;
      const o = { ...base, ...extra };
      res[k] = await timeCalls(() => lw.verifyTree(trees, target, o), reps);
    }
    for (const [k, t] of Object.entries(res)) {
      log(`| ${k} | ${fmt(t.wall)} | ${fmt(t.gpu)} | ${fmt(t.wall / res.off.wall, 2)} | ${fmt(t.gpu / res.off.gpu, 2)} |`);
    }
    if (breakdown) {
      for (const k of ['off', 'penalties + device node mask', 'penalties + request mask'].filter((x) => res[x])) {
        log(`  breakdown ${k} (median µs per phase):`);
        for (const [p, v] of res[k].per) log(`    ${p.padEnd(44)} ${fmt(v)}`);
      }
    }
  }
  dz.dispose();
  dMaskReq.dispose();
  dMaskNode.dispose();
  writeOut();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
