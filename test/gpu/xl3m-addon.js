// XL3M through the public API on a GPU machine (no jest there): CUDA vs CPU scores, device-resident input,
// streaming == one-shot, the needle, and JS-side timing. Needs dist/ (npx tsc) and cuda/build/Release.
'use strict';
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { needleScenario, questionLogits } = require(path.join(__dirname, '..', '..', 'dist', 'demo', 'needle.js'));

const { bf16Random, median } = require('./common');
const { lcg, uniformLogits } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'prng.js'));
const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const sameBits = (a, b) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

// opts.devices on host logits (core/xl3m_score.cc): default (automatic: every visible GPU from 64 MiB of host logits
// per row block), [0], [0, 0] (two ranges concurrently on device 0: forces the split on a one-GPU machine), and with
// several GPUs every device and a reversed list: the same bits as [0], and within 3e-5 of the CPU backend. Segments
// 1, 7, 300 × 4 positions; vocab 1000 and 32000; fp32 and bf16 (300 × 4 × 32000 is 154 / 77 MB: the automatic size).
async function checkDeviceSplit(nDev) {
  let fail = 0;
  const P = 4;
  const lists = [undefined, [0], [0, 0], [0, 0, 0]];
  if (nDev > 1) lists.push(Array.from({ length: nDev }, (_, d) => d), Array.from({ length: nDev }, (_, d) => nDev - 1 - d), 'all');
  const name = (l) => (l === undefined ? 'default' : JSON.stringify(l));
  for (const dtype of ['float32', 'bfloat16']) {
    for (const V of [1000, 32000]) {
      for (const S of [1, 7, 300]) {
        const rows = S * P;
        const data = dtype === 'float32' ? uniformLogits(rows * V, lcg(S * 31 + V)) : bf16Random(rows * V, S * 31 + V);
        const logits = { data, dtype, rows, vocab: V };
        const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919 + S) % V);
        for (const metric of ['entropy', 'nll']) {
          const o = { segments: S, metric, targets, temperature: 0.9 };
          const cpu = await lw.xl3m.score(logits, { ...o, backend: 'cpu' });
          const one = await lw.xl3m.score(logits, { ...o, backend: 'cuda', devices: [0] });
          const d = maxDiff(cpu, one);
          const bad = [];
          if (!(d < 3e-5)) bad.push(`cuda vs cpu ${d.toExponential(2)}`);
          for (const devices of lists) {
            const got = await lw.xl3m.score(logits, { ...o, backend: 'cuda', ...(devices === undefined ? {} : { devices }) });
            if (!sameBits(got, one)) bad.push(`${name(devices)} differs from [0] (max ${maxDiff(got, one).toExponential(2)})`);
          }
          if (bad.length) fail++;
          console.log(`devices ${dtype} S=${S} P=${P} V=${V} ${metric} (${(data.byteLength / 2 ** 20).toFixed(1)} MiB): ` +
            `max |cuda - cpu| = ${d.toExponential(2)}, ${lists.map(name).join(' ')} ${bad.length ? 'FAIL: ' + bad.join('; ') : 'bit-identical ok'}`);
        }
        if (dtype === 'bfloat16' && V === 32000 && S === 300) {
          // streaming host chunks of 64 rows (16-byte aligned: same bits as one call) with and without a list
          const streamed = [];
          for (const devices of [undefined, [0, 0]]) {
            const sc = lw.xl3m.createScorer({ segments: S, positionsPerSegment: P, backend: 'cuda', ...(devices ? { devices } : {}) });
            for (let r0 = 0; r0 < rows; r0 += 64) {
              const n = Math.min(64, rows - r0);
              await sc.push({ data: data.subarray(r0 * V, (r0 + n) * V), dtype, rows: n, vocab: V });
            }
            streamed.push(sc.finish());
          }
          const once = await lw.xl3m.score(logits, { segments: S, backend: 'cuda' });
          const ok = sameBits(streamed[0], once) && sameBits(streamed[1], once);
          if (!ok) fail++;
          console.log(`devices: scorer pushes of 64 rows, default and [0, 0], vs one call: ${ok ? 'bit-identical ok' : 'FAIL'}`);
          // JS-side time of the largest host call per list (5 runs after one warm-up)
          const times = [];
          for (const devices of lists) {
            const ts = [];
            for (let i = 0; i < 6; i++) {
              const t0 = performance.now();
              await lw.xl3m.score(logits, { segments: S, backend: 'cuda', ...(devices === undefined ? {} : { devices }) });
              if (i > 0) ts.push(performance.now() - t0);
            }
            times.push(`${name(devices)} ${median(ts).toFixed(2)} ms`);
          }
          console.log(`devices: host ${S}x${P}x${V} ${dtype} (${(data.byteLength / 1e6).toFixed(0)} MB) score: ${times.join(', ')}`);
        }
      }
    }
  }
  // device-resident logits are never split: an explicit list with them is a RangeError; 'all' / absent are fine
  const small = bf16Random(8 * 1000, 3);
  const t = await lw.device.upload(small);
  try {
    const dl = { data: t, dtype: 'bfloat16', rows: 8, vocab: 1000 };
    let err;
    await lw.xl3m.score(dl, { segments: 2, devices: [0] }).catch((e) => { err = e; });
    const ok = err instanceof RangeError && /opts\.devices applies to host logits/.test(err.message) &&
      (await lw.xl3m.score(dl, { segments: 2, devices: 'all' })).length === 2;
    if (!ok) fail++;
    console.log(`devices with device-resident logits: ${ok ? 'RangeError ok' : `FAIL (${err})`}`);
  } finally {
    t.dispose();
  }
  // an ordinal past the visible devices: the native RangeError naming opts.devices
  let err;
  await lw.xl3m.score({ data: small, dtype: 'bfloat16', rows: 8, vocab: 1000 }, { segments: 2, backend: 'cuda', devices: [0, nDev] })
    .catch((e) => { err = e; });
  const ok = err && err.name === 'RangeError' && /opts\.devices\[1\] = \d+ is not a visible CUDA device/.test(err.message);
  if (!ok) fail++;
  console.log(`devices [0, ${nDev}] with ${nDev} visible: ${ok ? 'RangeError ok' : `FAIL (${err})`}`);
  return fail;
}

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
  fail += await checkDeviceSplit(info.devices.length);
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
