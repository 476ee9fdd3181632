// Tree utilities with device-resident logits (CUDA addon reads the needed rows from the device) vs host logits,
// plus timings. Needs dist/ (npx tsc) and cuda/build/Release. Prints a compact summary.
'use strict';
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));

const { bf16Random, median } = require('./common');
function trees(batch, nodes, vocab) {
  const tokens = [], parents = [], offsets = [0];
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < nodes; i++) {
      parents.push(i === 0 ? -1 : (i - 1) >> 1); // binary tree: distinct siblings below
      tokens.push(i === 0 ? 0 : (i * 7919 + b) % vocab);
    }
    offsets.push(tokens.length);
  }
  return { tokens: Int32Array.from(tokens), parents: Int32Array.from(parents), offsets: Int32Array.from(offsets) };
}
const maxRel = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]) / Math.max(1e-300, Math.abs(b[i]))), 0);

async function main() {
  const info = lw.backendInfo();
  if (info.devices.length === 0) { console.log('tree-utils: no CUDA device, skipped'); return 0; }
  let fail = 0;
  for (const [B, N, V] of [[1, 16, 32000], [64, 64, 128256]]) {
    const t = trees(B, N, V);
    const rows = B * N;
    const data = bf16Random(rows * V, 3);
    const host = { data, dtype: 'bfloat16', rows, vocab: V };
    const dev = await lw.device.upload(data);
    const devL = { data: dev, dtype: 'bfloat16', rows, vocab: V };
    for (const opts of [{}, { temperature: 0.7, topP: 0.9 }, { topK: 50 }, { mode: 'greedy' }]) {
      const a = await lw.tree.expectedAcceptance(t, host, { ...opts, backend: 'cpu' });
      const g = await lw.tree.expectedAcceptance(t, devL, opts);
      const d = maxRel(g, a);
      if (!(d <= 1e-12)) fail++;
      const times = { cpu: [], dev: [] };
      for (let k = 0; k < (B === 1 ? 20 : 3); k++) {
        let s = process.hrtime.bigint();
        await lw.tree.expectedAcceptance(t, host, { ...opts, backend: 'cpu' });
        times.cpu.push(Number(process.hrtime.bigint() - s) / 1e6);
        s = process.hrtime.bigint();
        await lw.tree.expectedAcceptance(t, devL, opts);
        times.dev.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      console.log(`B=${B} N=${N} V=${V} ${JSON.stringify(opts)}: device vs host max rel ${d.toExponential(1)} ` +
        `${d <= 1e-12 ? 'ok' : 'FAIL'}; host ${median(times.cpu).toFixed(2)} ms, device-resident ${median(times.dev).toFixed(2)} ms`);
    }
    // Real-q drafts (recursive rejection), target and draft both device-resident.
    const qdata = bf16Random(rows * V, 5);
    const qdev = await lw.device.upload(qdata);
    const qo = { drafts: 'iid', draft: { data: qdata, dtype: 'bfloat16', rows, vocab: V } };
    const a = await lw.tree.expectedAcceptance(t, host, { ...qo, backend: 'cpu' });
    let s = process.hrtime.bigint();
    const g = await lw.tree.expectedAcceptance(t, devL, { ...qo, draft: { ...qo.draft, data: qdev } });
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    const d = maxRel(g, a);
    if (!(d <= 1e-12)) fail++;
    console.log(`B=${B} N=${N} V=${V} drafts=iid: device vs host max rel ${d.toExponential(1)} ${d <= 1e-12 ? 'ok' : 'FAIL'}; device-resident ${ms.toFixed(2)} ms`);
    qdev.dispose();
    dev.dispose();
  }
  const p = new Float64Array(128256).fill(1 / 128256);
  const q = new Float64Array(128256).map((_, i) => (i % 2 ? 2 : 0) / 128256);
  let s = process.hrtime.bigint();
  const alpha = await lw.multidraft.optimalAcceptance(p, q, 4, { replacement: true });
  console.log(`multidraft V=128256 n=4: alpha* ${alpha.toFixed(6)} in ${(Number(process.hrtime.bigint() - s) / 1e6).toFixed(2)} ms`);
  return fail;
}
main().then((f) => { console.log(f ? `tree-utils: ${f} FAILURES` : 'tree-utils: all ok'); process.exitCode = f ? 1 : 0; },
  (e) => { console.log('FAIL:', e); process.exitCode = 1; });
