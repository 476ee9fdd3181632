#!/usr/bin/env node
// Smoke test of a prebuilt binary on its own platform (wine for win32-x64, qemu for linux-arm64, the CI matrix):
// loads lengthwise, checks logitStats against a float64 reference on awkward sizes (with a worker thread too), and
// prints one JSON line. Usage: node scripts/smoke.js [path-to-lengthwise] [--out file] (the file for wine, where
// Node's stdout can be an unusable handle).
'use strict';
const fs = require('fs');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
const target = path.resolve(args[0] || path.join(__dirname, '..'));

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function check(lw, seed) {
  const rand = rng(seed);
  let worst = 0;
  for (const [rows, vocab] of [[1, 1], [3, 7], [5, 1001], [2, 40003]]) {
    const data = new Float32Array(rows * vocab).map(() => (rand() - 0.5) * 20);
    const targets = new Int32Array(rows).map(() => Math.floor(rand() * vocab));
    const s = await lw.logitStats({ data, rows, vocab }, { targets });
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * vocab, (r + 1) * vocab);
      let m = -Infinity;
      for (const x of row) m = Math.max(m, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - m);
      const lse = m + Math.log(z);
      let h = 0;
      for (const x of row) h -= Math.exp(x - lse) * (x - lse);
      const nll = lse - row[targets[r]];
      const err = Math.max(Math.abs(s.logsumexp[r] - lse), Math.abs(s.entropy[r] - h), Math.abs(s.nll[r] - nll));
      if (!(err < 1e-3)) throw new Error(`rows ${rows} vocab ${vocab} row ${r}: error ${err}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

if (!isMainThread) {
  // eslint-disable-next-line import/no-dynamic-require
  check(require(workerData), 7).then((e) => parentPort.postMessage(e));
} else {
  (async () => {
    const lw = require(target);
    const info = lw.backendInfo();
    const mainErr = await check(lw, 1);
    const workerErr = await new Promise((resolve, reject) => {
      const w = new Worker(__filename, { workerData: target });
      w.once('message', resolve);
      w.once('error', reject);
    });
    let bad = null;
    try {
      await lw.logitStats({ data: new Float32Array(3), rows: 2, vocab: 2 });
    } catch (e) {
      bad = `${e.name}: ${e.message.split('\n')[0]}`;
    }
    if (!bad) throw new Error('a wrong shape did not throw');
    const line = JSON.stringify({
      ok: true, platform: process.platform, arch: process.arch, node: process.version, simd: info.simd,
      threads: info.threads, addon: info.addons.cpu, maxError: Math.max(mainErr, workerErr), badInput: bad,
    });
    if (out) fs.writeFileSync(out, line + '\n');
    else console.log(line);
  })().catch((e) => {
    const line = JSON.stringify({ ok: false, error: String(e && e.stack || e) });
    if (out) fs.writeFileSync(out, line + '\n');
    else console.log(line);
    process.exitCode = 1;
  });
}
