#!/usr/bin/env node
// GPU check for logitStats, run on the GPU machine (see test/gpu/README.md): CUDA vs CPU agreement on random
// shapes and dtypes (argmax/targetRank equal, floats within 1e-5 relative), host and device-resident inputs;
// then kernel timings (CUDA events, median of 30) at 4096 × 128256 bf16 against a measured device copy.
'use strict';
const path = require('path');
const fs = require('fs');
const lw = require(path.join(__dirname, '..', '..', 'dist'));
const { cudaNative } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'native'));

const lines = [];
const log = (s) => { lines.push(s); console.log(s); };
const cuda = cudaNative();
if (!cuda) { log('logitStats GPU: no CUDA device — skipped'); process.exit(0); }

const { mulberry32 } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'prng'));
const { bf16Bits, f16Bits } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'dtype')); // f16: exact on the grid below
function data(r, n, dtype) {
  const block = 1 << 20;
  if (n > 4 * block) { // large benchmark inputs: tile a random block (generating 500M values in JS is slow)
    const b = data(r, block + 13, dtype);
    const a = dtype === 'float32' ? new Float32Array(n) : new Uint16Array(n);
    for (let i = 0; i < n; i += block + 13) a.set(b.subarray(0, Math.min(block + 13, n - i)), i);
    return a;
  }
  if (dtype === 'float32') { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * 8; return a; }
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const v = (r() * 2 - 1) * 8;
    a[i] = dtype === 'bfloat16' ? bf16Bits(v) : f16Bits(Math.sign(v) * Math.max(2 ** -14, Math.round(Math.abs(v) * 64) / 64));
  }
  return a;
}
// Relative difference; log-domain values near 0 (nll, entropy of a peaked row) are compared on a scale of 1 nat.
const rel = (a, b, k) => (Number.isNaN(a) && Number.isNaN(b)) || a === b ? 0 : Math.abs(a - b) / Math.max(k === 'maxProb' ? 1e-30 : 1, Math.abs(b));

async function agreement() {
  let worst = 0, mismatches = 0, cases = 0, worstAt = '';
  const shapes = [[1, 1], [3, 7], [513, 7], [1, 32000], [7, 32000], [65, 128256], [2, 151936], [300, 1001], [1, 151936]];
  for (const dtype of ['float32', 'float16', 'bfloat16']) {
    for (const [rows, vocab] of shapes) {
      const r = mulberry32(rows * 131 + vocab);
      const d = data(r, rows * vocab, dtype);
      const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
      const l = { data: d, dtype, rows, vocab };
      const cpu = await lw.logitStats(l, { targets, backend: 'cpu', temperature: 0.9 });
      const onHost = await lw.logitStats(l, { targets, backend: 'cuda', temperature: 0.9 });
      const t = await lw.device.upload(d);
      const onDev = await lw.logitStats({ ...l, data: t }, { targets, temperature: 0.9 });
      t.dispose();
      for (const g of [onHost, onDev]) {
        cases++;
        for (let i = 0; i < rows; i++) {
          if (g.argmax[i] !== cpu.argmax[i] || g.targetRank[i] !== cpu.targetRank[i]) mismatches++;
          for (const k of ['logsumexp', 'entropy', 'varentropy', 'maxProb', 'nll']) { const e = rel(g[k][i], cpu[k][i], k); if (e > worst) { worst = e; worstAt = `${dtype} ${rows}x${vocab} row ${i} ${k}: cuda ${g[k][i]} cpu ${cpu[k][i]}`; } }
        }
      }
    }
  }
  log(`logitStats CUDA vs CPU: ${cases} cases, integer mismatches ${mismatches}, worst float diff (relative; absolute in nats below 1 nat) ${worst.toExponential(2)} [${worstAt}] (${worst <= 1e-5 && mismatches === 0 ? 'PASS' : 'FAIL'})`);
  // special values on the GPU
  const V = 5000; const s = new Float32Array(3 * V).fill(0.5);
  s[10] = Infinity; s[20] = Infinity; s[V + 7] = NaN; s.fill(-Infinity, 2 * V, 2 * V + 100);
  const g = await lw.logitStats({ data: s, rows: 3, vocab: V }, { backend: 'cuda' });
  const ok = g.argmax[0] === 10 && Math.abs(g.maxProb[0] - 0.5) < 1e-6 && Number.isNaN(g.entropy[1]) && g.hasNaN && g.argmax[2] === 100;
  log(`logitStats CUDA special values (+inf, NaN, -inf): ${ok ? 'PASS' : 'FAIL'}`);
  let allNegInf = 'no error';
  try { await lw.logitStats({ data: new Float32Array(10).fill(-Infinity), rows: 1, vocab: 10 }, { backend: 'cuda' }); } catch (e) { allNegInf = e.name; }
  log(`logitStats CUDA all -inf row → ${allNegInf} (${allNegInf === 'RangeError' ? 'PASS' : 'FAIL'})`);
}

const { median } = require('./common');

async function timings() {
  const copyBytes = 1 << 30;
  const copyMs = median(cuda._benchCopy(copyBytes, 20, 0));
  const copyBw = (2 * copyBytes) / (copyMs * 1e-3);
  log(`device copy: ${(copyBw / 1e12).toFixed(3)} TB/s (read+write, 1 GiB, median of 20)`);
  for (const [rows, vocab, dtype] of [[4096, 128256, 'bfloat16'], [4096, 128256, 'float32'], [64, 128256, 'bfloat16'], [1, 151936, 'bfloat16'], [512, 128256, 'float16']]) {
    const r = mulberry32(5);
    const d = data(r, rows * vocab, dtype);
    const t = await lw.device.upload(d);
    const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
    const l = { data: t, dtype: dtype === 'float32' ? 'float32' : dtype, rows, vocab };
    const nl = { data: require(path.join(__dirname, '..', '..', 'dist', 'device')).nativeHandle(t), dtype, rows, vocab };
    for (const withT of [false, true]) {
      const ms = median(cuda._benchLogitStats(nl, withT ? { targets } : {}, 30));
      const bytes = rows * vocab * (dtype === 'float32' ? 4 : 2);
      const bw = bytes / (ms * 1e-3);
      log(`logitStats ${rows}×${vocab} ${dtype}${withT ? ' +targets' : ''}: kernel ${(ms * 1e3).toFixed(1)} µs, ${(bw / 1e12).toFixed(3)} TB/s = ${(100 * bw / copyBw).toFixed(1)}% of copy`);
    }
    // end to end from JS, device-resident and from host memory (transfer included)
    const e2e = async (input) => { const ts = []; for (let i = 0; i < 15; i++) { const t0 = process.hrtime.bigint(); await lw.logitStats({ ...l, data: input }, { backend: 'cuda' }); ts.push(Number(process.hrtime.bigint() - t0) / 1e6); } return median(ts); };
    log(`  end to end from JS: device-resident ${(await e2e(t)).toFixed(3)} ms, host input ${(await e2e(d)).toFixed(3)} ms`);
    t.dispose();
  }
}

(async () => {
  log(`device: ${lw.backendInfo().devices.map((d) => d.name).join(', ')}`);
  await agreement();
  await timings();
  if (process.env.OUT) fs.writeFileSync(path.join(process.env.OUT, 'logitstats.txt'), lines.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
