#!/usr/bin/env node
// logitStats on the GPU from JS (issue #11's row "logitStats 4096 × 128256 bf16, kernel / from JS"): the kernel
// alone (CUDA events), then host wall per call from JS, async and sync, with fresh result arrays and with
// caller-provided ones (opts.out, reused every call), each as % of the same run's device copy bandwidth, with the
// addon's phase breakdown. Plain JS on dist/ so it runs on the GPU machine:
//   node bench/gpu-logitstats.js [--quick] [--out FILE]      (needs the CUDA addon and dist/)
'use strict';
const path = require('path');
const { gpuBench, median, fmt } = require(path.join(__dirname, 'helpers', 'gpu-bench'));
const { lw, cuda, bf16Bits, nativeHandle, quick, log, timeCalls, writeOut } = gpuBench('gpu-logitstats', 'gpu-logitstats.txt');

(async () => {
  const copyBytes = 1 << 30;
  const copyMs = median(cuda._benchCopy(copyBytes, 20, 0));
  const copyBw = (2 * copyBytes) / (copyMs * 1e-3);
  log(`# logitStats from JS, ${new Date().toISOString()}; GPU ${lw.backendInfo().devices.map((d) => d.name).join(', ')}`);
  log(`device copy ${(copyBw / 1e12).toFixed(3)} TB/s (read + write, 1 GiB, median of 20)`);
  const rows = 4096, vocab = 128256, bytes = rows * vocab * 2;
  // the bench's data: approximately normal bf16 logits, a random block tiled
  const block = (1 << 20) + 13;
  const b = new Uint16Array(block);
  let s = 12345;
  const r = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 2 ** 32; };
  for (let i = 0; i < block; i++) b[i] = bf16Bits(2.5 * 1.7320508 * (r() + r() + r() + r() - 2));
  const d = new Uint16Array(rows * vocab);
  for (let i = 0; i < d.length; i += block) d.set(b.subarray(0, Math.min(block, d.length - i)), i);
  const t = await lw.device.upload(d);
  const l = { data: t, dtype: 'bfloat16', rows, vocab };
  const iters = quick ? 10 : 40;
  const pct = (us) => fmt(100 * (bytes / (us * 1e-6)) / copyBw, 1);
  const kernel = median(cuda._benchLogitStats({ data: nativeHandle(t), dtype: 'bfloat16', rows, vocab }, {}, 30)) * 1e3;
  log(`kernel (CUDA events, median of 30): ${fmt(kernel)} µs = ${pct(kernel)}% of copy`);
  const out = { logsumexp: new Float32Array(rows), entropy: new Float32Array(rows), varentropy: new Float32Array(rows), maxProb: new Float32Array(rows), argmax: new Int32Array(rows) };
  // the out path gives the same numbers as the allocating path
  const a0 = await lw.logitStats(l, { backend: 'cuda' });
  const a1 = await lw.logitStats(l, { backend: 'cuda', out, sync: true });
  let same = a1.entropy === out.entropy;
  for (const k of Object.keys(out)) for (let i = 0; i < rows; i++) if (!Object.is(a0[k][i], a1[k][i])) same = false;
  log(`opts.out results identical to fresh arrays and returned in place: ${same ? 'PASS' : 'FAIL'}`);
  const cases = [
    ['async, fresh arrays', () => lw.logitStats(l, { backend: 'cuda' })],
    ['sync, fresh arrays', () => lw.logitStats(l, { backend: 'cuda', sync: true })],
    ['async, opts.out', () => lw.logitStats(l, { backend: 'cuda', out })],
    ['sync, opts.out', () => lw.logitStats(l, { backend: 'cuda', out, sync: true })],
  ];
  const table = ['| logitStats 4096 × 128256 bf16 | µs | % of copy |', '|---|---|---|', `| kernel | ${fmt(kernel)} | ${pct(kernel)}% |`];
  for (const [name, fn] of cases) {
    const m = await timeCalls(fn, iters);
    table.push(`| from JS, ${name} | ${fmt(m.wall)} | ${pct(m.wall)}% |`);
    log(`  breakdown ${name} (median µs per phase; wall ${fmt(m.wall)}):`);
    for (const [k, v] of m.per) log(`    ${k.padEnd(44)} ${fmt(v, 1).padStart(8)}`);
  }
  log('');
  for (const x of table) log(x);
  t.dispose();
  writeOut();
})().catch((e) => { console.error(e); process.exit(1); });
