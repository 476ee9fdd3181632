// XL3M scoring on the CPU vs the numpy composition (bench/xl3m_numpy.py), same data, same run. The two are
// interleaved call by call (numpy runs in a persistent python process), so both see the same machine load;
// medians are compared. tinybench measures lengthwise alone as well (its p50 is reported next to it).
//   node bench/run.js bench/xl3m.bench.ts [--quick] [--segments 64] [--positions 8] [--vocab 128256] [--rounds 15]
// Needs the CPU addon (npx node-gyp rebuild) and python3 + numpy. Writes bench/results/xl3m.{json,md}.
import { spawn } from 'child_process';
import * as readline from 'readline';
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

/** A persistent numpy process answering one request per line. */
async function numpyServer(args: string[]): Promise<{ ask: (cmd: string) => Promise<string>; close: () => void }> {
  const p = spawn('python3', [path.join(__dirname, 'xl3m_numpy.py'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: p.stdout });
  const queue: ((s: string) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = () => new Promise<string>((resolve) => queue.push(resolve));
  const ready = await next();
  if (ready !== 'ready') throw new Error(`numpy helper: ${ready}`);
  return {
    ask: (cmd) => {
      const r = next();
      p.stdin.write(cmd + '\n');
      return r;
    },
    close: () => {
      p.stdin.end('quit\n');
    },
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

interface Row {
  case: string;
  dtype: string;
  metric: string;
  shape: string;
  bytes: number;
  lengthwiseMs: number;
  lengthwiseAloneMs: number;
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
  const rounds = arg('rounds', quick ? 7 : 15);
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
      const np = await numpyServer([file, String(S), metric, tfile]);
      const oursT: number[] = [];
      const npT: number[] = [];
      let pyScores: number[] = [];
      try {
        for (let i = 0; i < rounds + 2; i++) {
          const t0 = process.hrtime.bigint();
          await score(logits, opts);
          const dt = Number(process.hrtime.bigint() - t0) / 1e6;
          const npMs = Number(await np.ask('run')) * 1e3;
          if (i >= 2) {
            oursT.push(dt);
            npT.push(npMs);
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
    '| dtype | metric | rows × vocab | lengthwise ms (interleaved) | lengthwise ms (tinybench p50) | numpy ms | speedup | lengthwise GB/s | max abs diff |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.dtype} | ${r.metric} | ${r.shape} | ${r.lengthwiseMs.toFixed(2)} | ${r.lengthwiseAloneMs.toFixed(2)} | ${r.numpyMs.toFixed(1)} | ` +
      `${r.speedup.toFixed(1)}× | ${r.lengthwiseGBs.toFixed(2)} | ${r.maxAbsDiff.toExponential(2)} |`),
    '',
    `Medians of ${rounds} interleaved calls each (lengthwise, then numpy, alternately). Target (DESIGN §5): ≥ 15× the numpy ` +
      'composition on the same machine, same run.',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'xl3m.md'), md + '\n');
  console.log(`wrote ${path.join(out, 'xl3m.json')} and xl3m.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
