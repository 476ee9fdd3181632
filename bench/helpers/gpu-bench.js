// Shared by the plain-JS GPU benches (bench/gpu-targets.js, bench/gpu-logitstats.js): dist/ and the CUDA addon
// with the addon's host phase marks on, argument parsing, a log that is also written to --out, and the timing of
// a call with its phase breakdown (median µs per phase, and the CUDA-event GPU time when the addon records it).
'use strict';
process.env.LENGTHWISE_HOST_TIMING = process.env.LENGTHWISE_HOST_TIMING || '1';
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', '..', 'dist');
const lw = require(dist);
const { cudaNative } = require(path.join(dist, 'runtime', 'native'));
const { bf16Bits } = require(path.join(dist, 'runtime', 'dtype'));
const { nativeHandle } = require(path.join(dist, 'device'));

const median = (xs) => { const a = Array.from(xs).sort((x, y) => x - y); return a.length ? a[a.length >> 1] : NaN; };
const now = () => Number(process.hrtime.bigint());  // CLOCK_MONOTONIC ns, the clock of the addon's marks
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** The bench's context; exits 0 with a line when no CUDA addon / device is there. */
function gpuBench(name, defaultOut) {
  const argv = process.argv.slice(2);
  const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
  const outFile = opt('out', process.env.OUT ? path.join(process.env.OUT, defaultOut) : null);
  const lines = [];
  const log = (s = '') => { lines.push(s); console.log(s); };
  const cuda = cudaNative();
  if (!cuda) { console.log(`${name}: no CUDA addon / device — nothing to measure`); process.exit(0); }

  // Phases between the addon's marks since t0 (the call's JS entry) up to t1 (its await done), and the GPU time.
  function phases(t0, t1) {
    const out = [];
    let gpu = NaN;
    let prev = ['js entry', t0];
    for (const [mark, ns] of cuda._hostTimings()) {
      if (mark === 'gpu ns') { gpu = ns; continue; }
      out.push([`${prev[0]} → ${mark}`, ns - prev[1]]);
      prev = [mark, ns];
    }
    out.push([`${prev[0]} → js await done`, t1 - prev[1]]);
    return { out, gpu };
  }
  // Median host wall (µs), GPU time (µs) and per-phase medians of `iters` calls of fn, after 20 warm-ups (fewer
  // leave the JS layer in V8's baseline tiers: 20 µs instead of 10 µs a 64 × 64 call measured on the CPU).
  async function timeCalls(fn, iters) {
    for (let i = 0; i < 20; i++) await fn();
    cuda._hostTimings();
    const wall = [], gpu = [], per = new Map();
    for (let i = 0; i < iters; i++) {
      const t0 = now();
      await fn();
      const t1 = now();
      wall.push((t1 - t0) / 1e3);
      const p = phases(t0, t1);
      if (!Number.isNaN(p.gpu)) gpu.push(p.gpu / 1e3);
      for (const [k, v] of p.out) { if (!per.has(k)) per.set(k, []); per.get(k).push(v / 1e3); }
    }
    return { wall: median(wall), gpu: median(gpu), per: [...per].map(([k, v]) => [k, median(v)]) };
  }
  const writeOut = () => { if (outFile) fs.writeFileSync(outFile, lines.join('\n') + '\n'); };
  return { lw, cuda, bf16Bits, nativeHandle, quick: argv.includes('--quick'), opt, log, lines, timeCalls, writeOut };
}

module.exports = { gpuBench, median, now, fmt };
