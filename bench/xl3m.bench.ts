// XL3M scoring on the CPU vs the numpy composition (bench/xl3m_numpy.py), same data, same run. The two are
// interleaved call by call (numpy runs in a persistent python process), so both see the same machine load;
// medians are compared. tinybench measures lengthwise alone as well (its p50 is reported next to it). The plain
// memory-read floor (every pool thread reading its share of the same logits once, native _benchReadMemory) is timed
// in the same rounds: numpy ms / floor ms is the largest speedup any single pass over the logits could show.
//   node bench/run.js bench/xl3m.bench.ts [--quick] [--segments 64] [--positions 8] [--vocab 128256] [--rounds 15]
// Needs the CPU addon (npx node-gyp rebuild) and python3 + numpy. Writes bench/results/xl3m.{json,md}.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import { cpuNative } from '../lib/runtime/native';
import { score } from '../lib/xl3m/score';
import { arg, median, npyBuffer, pythonServer, randomLogits } from './common';


interface Row {
  case: string;
  dtype: string;
  metric: string;
  shape: string;
  bytes: number;
  lengthwiseMs: number;
  lengthwiseAloneMs: number;
  numpyMs: number;
  /** CPU time (all threads) per call: the work each side does, insensitive to other processes' load. */
  lengthwiseCpuMs: number;
  numpyCpuMs: number;
  speedup: number;
  lengthwiseGBs: number;
  numpyGBs: number;
  /** Plain 2-thread read of the same logits (median of the same rounds), and numpy ms / floor ms. */
  readFloorMs: number;
  readFloorGBs: number;
  floorSpeedup: number;
  maxAbsDiff: number;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const S = arg('segments', quick ? 16 : 64), P = arg('positions', 8), V = arg('vocab', 128256);
  const rows = S * P;
  const rounds = arg('rounds', quick ? 7 : 15);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-xl3m-bench-'));
  const info = backendInfo();
  const readMemory = cpuNative()['_benchReadMemory'] as (a: ArrayBufferView) => number;
  const results: Row[] = [];
  try {
    for (const [dtype, metric] of [['float32', 'entropy'], ['float32', 'nll'], ['bfloat16', 'entropy'], ['bfloat16', 'nll']] as const) {
      const data = randomLogits(rows * V, dtype === 'bfloat16');
      const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % V);
      const file = path.join(dir, 'logits.npy');
      const tfile = path.join(dir, 'targets.npy');
      fs.writeFileSync(file, npyBuffer(dtype === 'float32' ? '<f4' : '<u2', [rows, V], data));
      fs.writeFileSync(tfile, npyBuffer('<i4', [rows], targets));
      const logits = { data, dtype, rows, vocab: V };
      const opts = { segments: S, metric, targets: metric === 'nll' ? targets : undefined, backend: 'cpu' as const };
      const ours = await score(logits, opts);
      const np = await pythonServer(path.join(__dirname, 'xl3m_numpy.py'), [file, String(S), metric, tfile]);
      const oursT: number[] = [];
      const npT: number[] = [];
      const oursCpu: number[] = [];
      const npCpu: number[] = [];
      const floorT: number[] = [];
      let pyScores: number[] = [];
      try {
        for (let i = 0; i < rounds + 2; i++) {
          const c0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          await score(logits, opts);
          const dt = Number(process.hrtime.bigint() - t0) / 1e6;
          const c = process.cpuUsage(c0);
          const [npWall, npCpuS] = (await np.ask('run')).split(' ').map(Number) as [number, number];
          const floorMs = readMemory(data);
          if (i >= 2) {
            floorT.push(floorMs);
            oursT.push(dt);
            npT.push(npWall * 1e3);
            oursCpu.push((c.user + c.system) / 1e3);
            npCpu.push(npCpuS * 1e3);
          }
        }
        pyScores = JSON.parse(await np.ask('scores')) as number[];
      } finally {
        np.close();
      }
      const bench = new Bench({ iterations: quick ? 10 : 30, warmupIterations: 3 });
      bench.add('lengthwise', async () => {
        await score(logits, opts);
      });
      await bench.run();
      const t = bench.tasks[0]!.result as { latency?: { p50?: number }; median?: number } | undefined;
      const aloneMs = t?.latency?.p50 ?? t?.median ?? NaN;
      const oursMs = median(oursT);
      const numpyMs = median(npT);
      const readFloorMs = median(floorT);
      const bytes = data.byteLength;
      let diff = 0;
      pyScores.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - ours[i]!))));
      results.push({
        case: `${S} segments × ${P} positions × ${V}`,
        dtype,
        metric,
        shape: `${rows}×${V}`,
        bytes,
        lengthwiseMs: oursMs,
        lengthwiseAloneMs: aloneMs,
        numpyMs,
        lengthwiseCpuMs: median(oursCpu),
        numpyCpuMs: median(npCpu),
        speedup: numpyMs / oursMs,
        lengthwiseGBs: bytes / oursMs / 1e6,
        numpyGBs: bytes / numpyMs / 1e6,
        readFloorMs,
        readFloorGBs: bytes / readFloorMs / 1e6,
        floorSpeedup: numpyMs / readFloorMs,
        maxAbsDiff: diff,
      });
      const r = results[results.length - 1]!;
      console.log(`${dtype} ${metric}: lengthwise ${oursMs.toFixed(2)} ms (${r.lengthwiseGBs.toFixed(2)} GB/s), numpy ` +
        `${numpyMs.toFixed(1)} ms (${r.numpyGBs.toFixed(2)} GB/s) → ${r.speedup.toFixed(1)}×; CPU time ${r.lengthwiseCpuMs.toFixed(1)} vs ` +
        `${r.numpyCpuMs.toFixed(1)} ms (work ratio ${(r.numpyCpuMs / r.lengthwiseCpuMs).toFixed(1)}×); read floor ` +
        `${readFloorMs.toFixed(2)} ms (${r.readFloorGBs.toFixed(2)} GB/s, numpy/floor ${r.floorSpeedup.toFixed(1)}×); max |diff| ${diff.toExponential(2)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const loadavg = os.loadavg()[0]!.toFixed(1);
  const meta = { loadavg, machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`, threads: info.threads, simd: info.simd, date: new Date().toISOString() };
  fs.writeFileSync(path.join(out, 'xl3m.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  const md = [
    `# XL3M scoring, CPU vs numpy (${meta.machine}, ${meta.threads} threads, ${meta.simd}, ${meta.date})`,
    '',
    '| dtype | metric | rows × vocab | lengthwise ms (interleaved) | lengthwise ms (tinybench p50) | numpy ms | speedup | CPU ms lengthwise / numpy | lengthwise GB/s | read floor ms (GB/s) | numpy / floor | max abs diff |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.dtype} | ${r.metric} | ${r.shape} | ${r.lengthwiseMs.toFixed(2)} | ${r.lengthwiseAloneMs.toFixed(2)} | ${r.numpyMs.toFixed(1)} | ` +
      `${r.speedup.toFixed(1)}× | ${r.lengthwiseCpuMs.toFixed(1)} / ${r.numpyCpuMs.toFixed(1)} | ${r.lengthwiseGBs.toFixed(2)} | ` +
      `${r.readFloorMs.toFixed(2)} (${r.readFloorGBs.toFixed(1)}) | ${r.floorSpeedup.toFixed(1)}× | ${r.maxAbsDiff.toExponential(2)} |`),
    '',
    `Medians of ${rounds} interleaved calls each (lengthwise, then numpy, alternately); 1-minute load average at the end ` +
      `${loadavg} on ${os.cpus().length} CPUs (other processes compete for the cores: the multi-threaded side suffers more). ` +
      'CPU ms = CPU time of all threads per call. Read floor = one plain read of the same logits by every pool thread ' +
      '(native _benchReadMemory), timed in the same rounds; numpy / floor = the speedup a kernel running at that read ' +
      'speed would show. Target (docs/performance.md): ≥ 15× the numpy composition on the same machine, same run.',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'xl3m.md'), md + '\n');
  console.log(`wrote ${path.join(out, 'xl3m.json')} and xl3m.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
