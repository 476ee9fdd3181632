// logitStats on the CPU vs a plain TypeScript implementation and vs the numpy composition
// (bench/logitstats_numpy.py), same data, same run. lengthwise and numpy calls are interleaved so both see the
// same machine load; medians are compared.
//   node bench/run.js bench/logitStats.bench.ts [--quick] [--rows 512] [--vocab 128256] [--rounds 9]
// Needs the CPU addon (npm install) and python3 + numpy. Writes bench/results/logitStats.{json,md}.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import { logitStats } from '../lib/logitStats';
import { arg, median, npyBuffer, pythonServer, randomLogits } from './common';

/** The plain TypeScript baseline: two passes per row in float64. */
function plainStats(x: Float32Array, rows: number, vocab: number, targets: Int32Array): Float64Array {
  const out = new Float64Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let m = -Infinity;
    let arg = 0;
    for (let v = 0; v < vocab; v++) if (x[o + v]! > m) { m = x[o + v]!; arg = v; }
    let s = 0, u = 0;
    for (let v = 0; v < vocab; v++) {
      const d = x[o + v]! - m;
      const e = Math.exp(d);
      s += e;
      u += e * d;
    }
    out[r * 3] = Math.log(s) - u / s;
    out[r * 3 + 1] = m + Math.log(s) - x[o + targets[r]!]!;
    out[r * 3 + 2] = arg;
  }
  return out;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rows = arg('rows', quick ? 128 : 512), vocab = arg('vocab', 128256), rounds = arg('rounds', quick ? 5 : 9);
  const data = randomLogits(rows * vocab, false) as Float32Array;
  const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % vocab);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-stats-bench-'));
  const file = path.join(dir, 'logits.npy'), tfile = path.join(dir, 'targets.npy');
  fs.writeFileSync(file, npyBuffer('<f4', [rows, vocab], data));
  fs.writeFileSync(tfile, npyBuffer('<i4', [rows], targets));
  const logits = { data, rows, vocab };
  const opts = { targets, backend: 'cpu' as const };
  const ours = await logitStats(logits, opts);
  const bytes = data.byteLength;

  let numpyMs = NaN, oursMs = NaN, maxDiff = NaN;
  try {
    const np = await pythonServer(path.join(__dirname, 'logitstats_numpy.py'), [file, tfile]);
    const oursT: number[] = [], npT: number[] = [];
    try {
      for (let i = 0; i < rounds + 1; i++) {
        const t0 = process.hrtime.bigint();
        await logitStats(logits, opts);
        const dt = Number(process.hrtime.bigint() - t0) / 1e6;
        const n = Number(await np.ask('run')) * 1e3;
        if (i > 0) { oursT.push(dt); npT.push(n); }
      }
      const [h, nll] = JSON.parse(await np.ask('check')) as [number[], number[]];
      maxDiff = 0;
      h.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ours.entropy[i]!), Math.abs(nll[i]! - ours.nll![i]!))));
    } finally {
      np.close();
    }
    numpyMs = median(npT);
    oursMs = median(oursT);
  } catch (err) {
    console.log(`numpy baseline unavailable (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // tinybench: lengthwise alone, and the plain TS baseline on a slice (it is slow), scaled per byte.
  const plainRows = Math.min(rows, 16);
  const bench = new Bench({ iterations: quick ? 5 : 15, warmupIterations: 2 });
  bench.add('lengthwise logitStats (cpu)', async () => {
    await logitStats(logits, opts);
  });
  bench.add(`plain TypeScript (${plainRows} rows)`, () => {
    plainStats(data, plainRows, vocab, targets);
  });
  await bench.run();
  const p50 = (i: number) => {
    const r = bench.tasks[i]!.result as { latency?: { p50?: number } } | undefined;
    return r?.latency?.p50 ?? NaN;
  };
  const aloneMs = p50(0);
  const plainMsScaled = (p50(1) * rows) / plainRows;
  const info = backendInfo();
  const meta = { machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`, threads: info.threads, simd: info.simd, date: new Date().toISOString() };
  const result = {
    shape: `${rows}×${vocab} float32`,
    bytes,
    lengthwiseMs: oursMs,
    lengthwiseAloneMs: aloneMs,
    lengthwiseGBs: bytes / aloneMs / 1e6,
    numpyMs,
    numpyGBs: bytes / numpyMs / 1e6,
    speedupVsNumpy: numpyMs / oursMs,
    plainTsMs: plainMsScaled,
    speedupVsPlainTs: plainMsScaled / aloneMs,
    maxAbsDiffVsNumpy: maxDiff,
  };
  console.log(
    `logitStats ${result.shape}: lengthwise ${aloneMs.toFixed(2)} ms (${result.lengthwiseGBs.toFixed(2)} GB/s); ` +
      `numpy ${numpyMs.toFixed(1)} ms (${result.numpyGBs.toFixed(2)} GB/s) → ${result.speedupVsNumpy.toFixed(1)}× (interleaved medians); ` +
      `plain TS ${plainMsScaled.toFixed(1)} ms → ${result.speedupVsPlainTs.toFixed(1)}×; max |diff| vs numpy ${maxDiff.toExponential(2)}`,
  );
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'logitStats.json'), JSON.stringify({ meta, result }, null, 2) + '\n');
  const md = [
    `# logitStats on the CPU (${meta.machine}, ${meta.threads} threads, ${meta.simd}, ${meta.date})`,
    '',
    '| shape | lengthwise ms | GB/s | numpy ms | vs numpy | plain TS ms | vs plain TS | max abs diff |',
    '|---|---|---|---|---|---|---|---|',
    `| ${result.shape} | ${aloneMs.toFixed(2)} | ${result.lengthwiseGBs.toFixed(2)} | ${numpyMs.toFixed(1)} | ` +
      `${result.speedupVsNumpy.toFixed(1)}× | ${plainMsScaled.toFixed(0)} | ${result.speedupVsPlainTs.toFixed(1)}× | ${maxDiff.toExponential(2)} |`,
    '',
    `numpy: log_softmax + entropy + gather + argmax (bench/logitstats_numpy.py), medians of ${rounds} calls interleaved ` +
      'with lengthwise (the "vs numpy" ratio uses the interleaved lengthwise median). Plain TS: float64 two-pass loop, timed on ' +
      `${plainRows} rows and scaled. Target (docs/performance.md): ≥ 15× numpy.`,
  ].join('\n');
  fs.writeFileSync(path.join(out, 'logitStats.md'), md + '\n');
  console.log(`wrote ${path.join(out, 'logitStats.json')} and logitStats.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
