#!/usr/bin/env node
// The GPU targets table of issue #11 in one run, each row next to the same run's baseline (device-to-device copy
// bandwidth) as a ratio; plain JS on dist/ so it runs on the GPU machine without dev dependencies:
//   node bench/gpu-targets.js [--quick] [--rows tree,logitstats,bootstrap] [--out FILE.md]
// Needs the CUDA addon (npm run build:cuda) and dist/ (tsc). Per tree / logitStats case it measures:
//   GPU        CUDA events around the call's kernels (LENGTHWISE_HOST_TIMING=1 makes the addon record them), median;
//   JS async   host wall per call from JS (await verifyTree(...)), median; JS sync: the same with opts.sync;
//   breakdown  median host time between the addon's phase marks (unpack, thread hop, plan, upload, launch, sync,
//              results, hop back), so the per-call overhead is accounted for phase by phase.
// LENGTHWISE_HOST_LEGACY=1 runs the pre-#11 host path (pageable staging, memory pool trimmed at every sync) for a
// same-machine before/after. CUDA = CPU token for token is checked on every tree case.
// bootstrap: scaling.fit with a bootstrap (default grid, 4500 starts) on devices [0], then split over every
// visible GPU ('all') and over [0, 0] (two ranges on one GPU: the split's bookkeeping), results compared exactly.
'use strict';
const path = require('path');
const { makeTrees } = require('./helpers/trees');
const { execSync } = require('child_process');
const { gpuBench, median, now, fmt } = require(path.join(__dirname, 'helpers', 'gpu-bench'));
const { lw, cuda, bf16Bits, nativeHandle, quick, opt, log, timeCalls, writeOut } = gpuBench('gpu-targets', 'gpu-targets.md');
const rowsWanted = new Set(opt('rows', 'tree,logitstats,bootstrap').split(','));

// ---------------------------------------------------------------- data (the GPU check's generator, in JS)
function lcg(seed) {
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9E3779B97F4A7C15n + 1n);
  return () => { s = BigInt.asUintN(64, s * 6364136223846793005n + 1442695040888963407n); return Number(s >> 11n) / 2 ** 53; };
}
// Approximately normal bf16 logits of scale `scale`, N rows × V, from a random block tiled with an odd stride.
function normalBf16(n, scale, seed) {
  const r = lcg(seed);
  const block = (1 << 20) + 13;
  const b = new Uint16Array(block);
  for (let i = 0; i < block; i++) b[i] = bf16Bits(scale * 1.7320508 * (r() + r() + r() + r() - 2));
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i += block) a.set(b.subarray(0, Math.min(block, n - i)), i);
  return a;
}
const bf16ToF = (h) => { const f = new Float32Array(new Uint32Array([h << 16]).buffer); return f[0]; };
// The chain of `depth` nodes of every tree gets its token's logit raised by `plant` (accepted with high odds).
function plant(z, trees, V, depth, amount) {
  const B = trees.offsets.length - 1;
  for (let b = 0; b < B; b++) {
    const o = trees.offsets[b], n = trees.offsets[b + 1] - o;
    for (let i = 1; i <= depth && i < n; i++) {
      const at = (o + i - 1) * V + trees.tokens[o + i];
      z[at] = bf16Bits(bf16ToF(z[at]) + amount);
    }
  }
}

const table = [];
function row(name, now_, target, ratio, note = '') { table.push(`| ${name} | ${now_} | ${target} | ${ratio} | ${note} |`); }

// ---------------------------------------------------------------- rows
async function treeRows(copyBw) {
  const V = 128256;
  const iters = quick ? 15 : 60;
  const cases = [];
  {
    const trees = makeTrees(64, 64, V, 5, lcg(1));
    const z = normalBf16(64 * 64 * V, 2.5, 11);
    plant(z, trees, V, 5, 12);
    cases.push({ name: 'tree 64 × 64, T 0.7 + top-k 20 + top-p 0.9', trees, z, opts: { mode: 'sample', temperature: 0.7, topK: 20, topP: 0.9 }, target: '≤ 100 µs' });
    cases.push({ name: 'tree 64 × 64, greedy', trees, z, opts: { mode: 'greedy' }, target: '≤ 60 µs' });
    cases.push({ name: 'tree 64 × 64, T 1', trees, z, opts: { mode: 'sample', temperature: 1 }, target: '≤ 100 µs' });
  }
  {
    const trees = makeTrees(64, 16, V, 15, lcg(2));
    const z = normalBf16(64 * 16 * V, 2.5, 12);
    plant(z, trees, V, 15, 12);
    const q = normalBf16(64 * 16 * V, 2.5, 13);
    plant(q, trees, V, 15, 12);  // the draft proposed those tokens too (as the GPU check's chain)
    cases.push({ name: 'chain 64 × 15, real draft q (iid), T 1', trees, z, q, opts: { mode: 'sample', temperature: 1, drafts: 'iid' }, target: '≤ 150 µs' });
  }
  {
    const trees = makeTrees(1, 16, V, 5, lcg(3));
    const z = normalBf16(16 * V, 2.5, 14);
    plant(z, trees, V, 5, 12);
    cases.push({ name: 'tree 1 × 16, T 0.7', trees, z, opts: { mode: 'sample', temperature: 0.7 }, target: '≤ 20 µs' });
    cases.push({ name: 'tree 1 × 16, T 0.7 + top-k 20 + top-p 0.9', trees, z, opts: { mode: 'sample', temperature: 0.7, topK: 20, topP: 0.9 }, target: '≤ 30 µs' });
    cases.push({ name: 'tree 1 × 16, greedy', trees, z, opts: { mode: 'greedy' }, target: '≤ 20 µs' });
  }
  const uploaded = new Map();
  const dev = async (a) => { if (!uploaded.has(a)) uploaded.set(a, await lw.device.upload(a)); return uploaded.get(a); };
  let mismatches = 0, compared = 0;
  for (const c of cases) {
    const N = c.trees.tokens.length;
    const target = { data: await dev(c.z), dtype: 'bfloat16', rows: N, vocab: V };
    const draft = c.q ? { data: await dev(c.q), dtype: 'bfloat16', rows: N, vocab: V } : undefined;
    const base = { ...c.opts, seed: 7, step: 1, ...(draft ? { draft } : {}) };
    // CUDA = CPU, token for token, on this case (host copies for the CPU)
    const cpu = await lw.verifyTree(c.trees, { data: c.z, dtype: 'bfloat16', rows: N, vocab: V }, { ...base, backend: 'cpu', ...(c.q ? { draft: { data: c.q, dtype: 'bfloat16', rows: N, vocab: V } } : {}) });
    const gpu = await lw.verifyTree(c.trees, target, { ...base, backend: 'cuda' });
    compared += cpu.tokens.length;
    for (let i = 0; i < Math.max(cpu.tokens.length, gpu.tokens.length); i++) if (cpu.tokens[i] !== gpu.tokens[i]) mismatches++;
    const visited = gpu.tokens.length;
    const floorUs = (visited * V * 2) / copyBw * 1e6;
    const a = await timeCalls(() => lw.verifyTree(c.trees, target, { ...base, backend: 'cuda' }), iters);
    const s = await timeCalls(() => lw.verifyTree(c.trees, target, { ...base, backend: 'cuda', sync: true }), iters);
    row(`${c.name}: GPU`, `${fmt(a.gpu)} µs`, c.target, `visited-row floor ${fmt(floorUs)} µs = ${fmt(100 * floorUs / a.gpu, 0)}% of the copy rate`, `${visited} visited rows`);
    row(`${c.name}: from JS (async / sync)`, `${fmt(a.wall)} / ${fmt(s.wall)} µs`, '≤ 1.3 × GPU', `${fmt(a.wall / a.gpu, 2)} / ${fmt(s.wall / s.gpu, 2)} × GPU`, '');
    c.breakdown = { async: a, sync: s };
  }
  log(`CUDA vs CPU on the bench cases: ${compared} tokens, ${mismatches} differences (${mismatches ? 'FAIL' : 'PASS'})`);
  for (const c of cases.filter((x) => x.name.includes('top-k') || x.name.includes('greedy'))) {
    for (const mode of ['async', 'sync']) {
      const b = c.breakdown[mode];
      log(`  breakdown ${c.name}, ${mode} (median µs per phase; wall ${fmt(b.wall)}, GPU ${fmt(b.gpu)}):`);
      for (const [k, v] of b.per) log(`    ${k.padEnd(44)} ${fmt(v, 1).padStart(8)}`);
    }
  }
  for (const t of uploaded.values()) t.dispose();
}

async function logitStatsRows(copyBw) {
  const rows = 4096, vocab = 128256;
  const d = normalBf16(rows * vocab, 2.5, 21);
  const t = await lw.device.upload(d);
  const nl = { data: nativeHandle(t), dtype: 'bfloat16', rows, vocab };
  const kernel = median(cuda._benchLogitStats(nl, {}, quick ? 10 : 30));
  const bytes = rows * vocab * 2;
  const l = { data: t, dtype: 'bfloat16', rows, vocab };
  const a = await timeCalls(() => lw.logitStats(l, { backend: 'cuda' }), quick ? 10 : 30);
  const s = await timeCalls(() => lw.logitStats(l, { backend: 'cuda', sync: true }), quick ? 10 : 30);
  const pct = (ms) => fmt(100 * (bytes / (ms * 1e-3)) / copyBw, 0);
  row('logitStats 4096 × 128256 bf16: kernel', `${fmt(kernel * 1e3)} µs`, '≥ 85% of copy', `${pct(kernel)}% of copy`, '');
  row('logitStats 4096 × 128256 bf16: from JS (async / sync)', `${fmt(a.wall)} / ${fmt(s.wall)} µs`, '≥ 75% of copy', `${pct(a.wall / 1e3)}% / ${pct(s.wall / 1e3)}% of copy`, '');
  for (const [mode, b] of [['async', a], ['sync', s]]) {
    log(`  breakdown logitStats 4096 × 128256 bf16, ${mode} (median µs per phase; wall ${fmt(b.wall)}):`);
    for (const [k, v] of b.per) log(`    ${k.padEnd(44)} ${fmt(v, 1).padStart(8)}`);
  }
  t.dispose();
}

async function bootstrapRows() {
  const { chinchillaRuns } = require(path.join(__dirname, '..', 'dist', 'scaling', 'data'));
  const runs = chinchillaRuns();
  const R = Number(opt('resamples', quick ? 200 : 1000));
  const fit = (devices) => lw.scaling.fit(runs, { backend: 'cuda', bootstrap: { resamples: R, seed: 5, gridPerResample: true }, devices });
  await lw.scaling.fit(runs, { backend: 'cuda', bootstrap: { resamples: 2, seed: 1, gridPerResample: true }, devices: [0] });  // warm-up
  const visible = lw.backendInfo().devices.length;
  const timed = async (devices) => { const t0 = now(); const r = await fit(devices); return { s: (now() - t0) / 1e9, r }; };
  const one = await timed([0]);
  const all = await timed('all');
  const twoOnOne = await timed([0, 0]);
  const same = (x, y) => x.bootstrap.samples.tokensPerParam.every((v, i) => Object.is(v, y.bootstrap.samples.tokensPerParam[i]));
  row(`bootstrap ${R} resamples × 4500 starts, fp64: 1 GPU`, `${fmt(one.s, 2)} s`, '—', `${fmt(one.s * 4000 / R, 2)} s scaled to 4000 resamples`, '');
  row(`bootstrap ${R} × 4500: ${visible} GPU(s) ('all')`, `${fmt(all.s, 2)} s`, '≥ 90% efficiency on 2', visible > 1 ? `efficiency ${fmt(100 * one.s / (visible * all.s), 0)}%` : 'one GPU visible: no scaling measured', `identical to 1 GPU: ${same(one.r, all.r)}`);
  row(`bootstrap ${R} × 4500: [0, 0] (two ranges on one GPU)`, `${fmt(twoOnOne.s, 2)} s`, '—', `${fmt(twoOnOne.s / one.s, 3)} × 1 GPU`, `identical: ${same(one.r, twoOnOne.r)}`);
}

(async () => {
  let gpuName = '', driver = '';
  try { [gpuName, driver] = execSync('nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', { encoding: 'utf8' }).trim().split('\n')[0].split(', '); } catch { /* no nvidia-smi */ }
  const copyBytes = 1 << 30;
  const copyMs = median(cuda._benchCopy(copyBytes, 20, 0));
  const copyBw = (2 * copyBytes) / (copyMs * 1e-3);
  log(`# GPU targets (#11), ${new Date().toISOString().slice(0, 10)}`);
  log(`GPU ${gpuName || lw.backendInfo().devices.map((x) => x.name).join(', ')}, driver ${driver || '?'}, ${lw.backendInfo().devices.length} visible; host path ${process.env.LENGTHWISE_HOST_LEGACY === '1' ? 'LEGACY (before)' : 'current'}; device copy ${(copyBw / 1e12).toFixed(2)} TB/s (read + write, 1 GiB, median of 20)`);
  log('');
  table.push('| workload | measured | target | vs same-run baseline | notes |', '|---|---|---|---|---|');
  if (rowsWanted.has('tree')) await treeRows(copyBw);
  if (rowsWanted.has('logitstats')) await logitStatsRows(copyBw);
  if (rowsWanted.has('bootstrap')) await bootstrapRows();
  log('');
  for (const t of table) log(t);
  writeOut();
})().catch((e) => { console.error(e); process.exit(1); });
