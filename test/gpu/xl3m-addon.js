// XL3M through the public API on a GPU machine (no jest there): CUDA vs CPU scores, device-resident input,
// streaming == one-shot, the needle, and JS-side timing. Needs dist/ (npx tsc) and cuda/build/Release.
'use strict';
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { needleScenario, questionLogits } = require(path.join(__dirname, '..', '..', 'dist', 'demo', 'needle.js'));

const { bf16Random, median } = require('./common');
const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

async function main() {
  const info = lw.backendInfo();
  console.log(`backend ${info.backend}; devices: ${info.devices.map((d) => d.name).join(', ') || 'none'}`);
  if (info.devices.length === 0) { console.log('xl3m-addon: no CUDA device, skipped'); return 0; }
  let fail = 0;
  const S = 64, P = 32, V = 128256, rows = S * P;
  const data = bf16Random(rows * V, 7);
  const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % V);
  const logits = { data, dtype: 'bfloat16', rows, vocab: V };
  const dev = await lw.device.upload(data);
  const devLogits = { data: dev, dtype: 'bfloat16', rows, vocab: V };
  for (const metric of ['entropy', 'nll']) {
    for (const pooling of ['mean', 'min']) {
      const o = { segments: S, metric, pooling, targets };
      const cpu = await lw.xl3m.score(logits, { ...o, backend: 'cpu' });
      const gpu = await lw.xl3m.score(devLogits, o);
      const d = maxDiff(cpu, gpu);
      if (!(d < 3e-5)) fail++;
      console.log(`${metric}/${pooling}: max |cuda - cpu| = ${d.toExponential(2)} ${d < 3e-5 ? 'ok' : 'FAIL'}`);
    }
  }
  // streaming device chunks (segment batches of 5 sub-contexts) == one-shot
  const once = await lw.xl3m.score(devLogits, { segments: S });
  const sc = lw.xl3m.createScorer({ segments: S, positionsPerSegment: P });
  for (let s0 = 0; s0 < S; s0 += 5) {
    const n = Math.min(5, S - s0);
    const t = await lw.device.upload(data.subarray(s0 * P * V, (s0 + n) * P * V));
    await sc.push({ data: t, dtype: 'bfloat16', rows: n * P, vocab: V });
    t.dispose();
  }
  const streamed = sc.finish();
  const sd = maxDiff(once, streamed);
  if (sd !== 0) fail++;
  console.log(`streaming (batches of 5 segments) vs one-shot on CUDA: max diff ${sd} ${sd === 0 ? 'ok (bit-identical)' : 'FAIL'}`);
  // needle
  const ns = needleScenario({ needleAt: 0.45, seed: 11 });
  const q = questionLogits(ns.lm, ns.plan);
  const ns_scores = await lw.xl3m.score({ data: q.data, rows: q.rows, vocab: q.vocab }, { segments: ns.plan.segments.length, backend: 'cuda' });
  const pick = lw.xl3m.select(ns_scores, ns.plan, { topK: 1 })[0];
  const seg = ns.plan.segments[pick];
  const found = seg.start <= ns.needle.start && ns.needle.end <= seg.end;
  if (!found) fail++;
  console.log(`needle on CUDA: picked segment ${pick} ${found ? 'ok' : 'FAIL'}`);
  // JS-side latency, device-resident 64 × 32 × 128256 bf16 (525 MB)
  const times = [];
  for (let i = 0; i < 25; i++) {
    const t0 = performance.now();
    await lw.xl3m.score(devLogits, { segments: S });
    if (i >= 3) times.push(performance.now() - t0);
  }
  const ms = median(times);
  console.log(`score from JS, ${S}x${P}x${V} bf16 device-resident: ${ms.toFixed(3)} ms median (${(data.byteLength / ms / 1e9).toFixed(2)} TB/s incl. call overhead)`);
  dev.dispose();
  console.log(fail ? `xl3m-addon: ${fail} FAILURES` : 'xl3m-addon: all checks passed');
  return fail ? 1 : 0;
}
main().then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; });
