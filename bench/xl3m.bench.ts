// XL3M scoring on the CPU vs the numpy composition (bench/xl3m_numpy.py), same data, same run.
//   node bench/run.js bench/xl3m.bench.ts [--quick] [--segments 64] [--positions 8] [--vocab 128256]
// Needs the CPU addon (npx node-gyp rebuild) and python3 + numpy. Writes bench/results/xl3m.{json,md}.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/backend';
import { score } from '../lib/xl3m/score';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function npyBuffer(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function randomLogits(n: number, bf16: boolean): Float32Array | Uint16Array {
  const f = new Float32Array(n);
  let a = 12345;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    f[i] = (a / 4294967296) * 16 - 8;
  }
  if (!bf16) return f;
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from(u, (b) => ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff);
}

interface Row {
  case: string;
  dtype: string;
  metric: string;
  shape: string;
  bytes: number;
  lengthwiseMs: number;
  numpyMs: number;
  speedup: number;
  lengthwiseGBs: number;
  numpyGBs: number;
  maxAbsDiff: number;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const S = arg('segments', quick ? 16 : 64), P = arg('positions', 8), V = arg('vocab', 128256);
  const rows = S * P;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-xl3m-bench-'));
  const info = backendInfo();
  const results: Row[] = [];
  try {
    for (const [dtype, metric] of [['float32', 'entropy'], ['float32', 'nll'], ['bfloat16', 'entropy']] as const) {
      const data = randomLogits(rows * V, dtype === 'bfloat16');
      const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % V);
      const file = path.join(dir, 'logits.npy');
      const tfile = path.join(dir, 'targets.npy');
      fs.writeFileSync(file, npyBuffer(dtype === 'float32' ? '<f4' : '<u2', [rows, V], data));
      fs.writeFileSync(tfile, npyBuffer('<i4', [rows], targets));
      const logits = { data, dtype, rows, vocab: V };
      const opts = { segments: S, metric, targets: metric === 'nll' ? targets : undefined, backend: 'cpu' as const };
      const ours = await score(logits, opts);
      const bench = new Bench({ iterations: quick ? 10 : 30, warmupIterations: 3 });
      bench.add('lengthwise', async () => {
        await score(logits, opts);
      });
      await bench.run();
      const t = bench.tasks[0]!.result as { latency?: { p50?: number }; median?: number } | undefined;
      const oursMs = t?.latency?.p50 ?? t?.median ?? NaN;
      const py = JSON.parse(
        execFileSync('python3', [path.join(__dirname, 'xl3m_numpy.py'), file, String(S), metric, quick ? '3' : '7', tfile], {
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        }),
      ) as { median_s: number; scores: number[] };
      const bytes = data.byteLength;
      let diff = 0;
      py.scores.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - ours[i]!))));
      const numpyMs = py.median_s * 1e3;
      results.push({
        case: `${S} segments × ${P} positions × ${V}`,
        dtype,
        metric,
        shape: `${rows}×${V}`,
        bytes,
        lengthwiseMs: oursMs,
        numpyMs,
        speedup: numpyMs / oursMs,
        lengthwiseGBs: bytes / oursMs / 1e6,
        numpyGBs: bytes / numpyMs / 1e6,
        maxAbsDiff: diff,
      });
      const r = results[results.length - 1]!;
      console.log(`${dtype} ${metric}: lengthwise ${oursMs.toFixed(2)} ms (${r.lengthwiseGBs.toFixed(2)} GB/s), numpy ` +
        `${numpyMs.toFixed(1)} ms (${r.numpyGBs.toFixed(2)} GB/s) → ${r.speedup.toFixed(1)}×, max |diff| ${diff.toExponential(2)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const meta = { machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`, threads: info.threads, simd: info.simd, date: new Date().toISOString() };
  fs.writeFileSync(path.join(out, 'xl3m.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  const md = [
    `# XL3M scoring, CPU vs numpy (${meta.machine}, ${meta.threads} threads, ${meta.simd}, ${meta.date})`,
    '',
    '| dtype | metric | rows × vocab | lengthwise ms | numpy ms | speedup | lengthwise GB/s | max abs diff |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.dtype} | ${r.metric} | ${r.shape} | ${r.lengthwiseMs.toFixed(2)} | ${r.numpyMs.toFixed(1)} | ` +
      `${r.speedup.toFixed(1)}× | ${r.lengthwiseGBs.toFixed(2)} | ${r.maxAbsDiff.toExponential(2)} |`),
    '',
    'Target (DESIGN §5): ≥ 15× the numpy composition on the same machine, same run.',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'xl3m.md'), md + '\n');
  console.log(`wrote ${path.join(out, 'xl3m.json')} and xl3m.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
