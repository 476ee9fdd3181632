/**
 * Soak: `node --expose-gc bench/run.js bench/soak.ts [--calls 100000] [--inflight 32]`.
 *
 * Runs a mix of every exported function (valid calls from the fuzz surface's builders, plus 10% hostile calls
 * that must be refused) with many calls in flight, and samples RSS, V8 heap, external/ArrayBuffer memory and,
 * with a GPU, device memory in use (nvidia-smi) after a forced GC every 5% of the run. Reports the drift after
 * the warm-up (the first 10%) and a least-squares slope; writes bench/results/soak.json.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lw from '../lib';
import { caseAt, runCase } from '../test/reliability/helpers/fuzz';
import { TARGETS, seeded } from '../test/reliability/helpers/surface';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const CALLS = arg('calls', 100000);
const INFLIGHT = arg('inflight', 32);
const gc = (globalThis as { gc?: () => void }).gc;
const hasGpu = lw.backendInfo().devices.length > 0;

function gpuUsedMiB(): number | undefined {
  if (!hasGpu) return undefined;
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

interface Sample {
  calls: number;
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  gpuMiB?: number;
}

function sample(calls: number): Sample {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const MiB = 2 ** 20;
  return { calls, rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, externalMiB: m.external / MiB, arrayBuffersMiB: m.arrayBuffers / MiB, gpuMiB: gpuUsedMiB() };
}

/** The pool of valid calls (every non-GPU target, several argument sets each) replayed round-robin. */
function pool(): { name: string; run: () => unknown }[] {
  const out: { name: string; run: () => unknown }[] = [];
  for (const t of TARGETS) {
    if (t.needsGpu) continue;
    for (let s = 0; s < 12; s++) {
      const args = t.build(seeded(1000 + s * 31));
      out.push({ name: t.name, run: () => t.call(args) });
    }
  }
  if (hasGpu) {
    // Device tensors: upload, use, dispose (and some left to the finalizer).
    const data = new Float32Array(64 * 4096).map((_, i) => Math.sin(i));
    let k = 0;
    out.push({
      name: 'device upload+logitStats',
      run: async () => {
        const t = await lw.device.upload(data);
        const r = await lw.logitStats({ data: t, rows: 64, vocab: 4096 });
        if (k++ % 2 === 0) t.dispose();
        return r;
      },
    });
  }
  return out;
}

async function main(): Promise<void> {
  const calls = pool();
  const samples: Sample[] = [];
  const every = Math.max(1, Math.floor(CALLS / 20));
  let done = 0;
  let refused = 0;
  let failures = 0;
  const t0 = Date.now();
  let next = 0;
  samples.push(sample(0));
  const worker = async () => {
    while (next < CALLS) {
      const i = next++;
      if (i % 10 === 9) {
        // A hostile call (fuzz case): must be refused with a TypeError/RangeError, never crash.
        const o = await runCase(caseAt(i, 77));
        if (o.kind === 'failure') failures++;
        else if (o.kind !== 'ok') refused++;
      } else {
        try {
          await calls[i % calls.length]!.run();
        } catch {
          refused++; // valid-shaped inputs that hold e.g. a row of all −Infinity
        }
      }
      done++;
      if (done % every === 0) samples.push(sample(done));
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  const seconds = (Date.now() - t0) / 1000;
  const warm = samples.find((s) => s.calls >= CALLS / 10) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const tail = samples.filter((s) => s.calls >= warm.calls);
  const slope = (key: keyof Sample) => {
    const xs = tail.map((s) => s.calls / 1e4);
    const ys = tail.map((s) => s[key] as number);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let num = 0;
    let den = 0;
    xs.forEach((x, i) => {
      num += (x - mx) * (ys[i]! - my);
      den += (x - mx) ** 2;
    });
    return den > 0 ? num / den : 0;
  };
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    backend: lw.backendInfo().backend,
    gcForced: gc !== undefined,
    calls: done,
    inflight: INFLIGHT,
    functions: new Set(calls.map((c) => c.name)).size,
    refused,
    failures,
    seconds,
    rssStartMiB: samples[0]!.rssMiB,
    rssAfterWarmupMiB: warm.rssMiB,
    rssEndMiB: last.rssMiB,
    rssDriftAfterWarmupMiB: last.rssMiB - warm.rssMiB,
    rssSlopeMiBPer10kCalls: slope('rssMiB'),
    heapDriftAfterWarmupMiB: last.heapMiB - warm.heapMiB,
    externalDriftAfterWarmupMiB: last.externalMiB - warm.externalMiB,
    gpuDriftAfterWarmupMiB: last.gpuMiB !== undefined && warm.gpuMiB !== undefined ? last.gpuMiB - warm.gpuMiB : null,
    samples,
  };
  const out = path.join(process.env.LW_RESULTS_DIR ?? path.join(__dirname, 'results'), 'soak.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2));
  const f = (x: number) => x.toFixed(1);
  console.log(`soak: ${done} calls (${summary.functions} functions, ${INFLIGHT} in flight, ${refused} refused as expected, ${failures} failures) in ${seconds.toFixed(0)} s`);
  console.log(`  RSS ${f(summary.rssStartMiB)} → ${f(warm.rssMiB)} MiB after warm-up → ${f(last.rssMiB)} MiB: drift ${f(summary.rssDriftAfterWarmupMiB)} MiB, slope ${summary.rssSlopeMiBPer10kCalls.toFixed(2)} MiB / 10k calls`);
  console.log(`  V8 heap drift ${f(summary.heapDriftAfterWarmupMiB)} MiB, external drift ${f(summary.externalDriftAfterWarmupMiB)} MiB${gc ? '' : ' (run with --expose-gc for steadier figures)'}`);
  console.log(`  GPU memory drift: ${summary.gpuDriftAfterWarmupMiB === null ? 'no GPU' : `${summary.gpuDriftAfterWarmupMiB} MiB`}`);
  console.log(`  written to ${path.relative(process.cwd(), out)}`);
  process.exitCode = failures > 0 ? 1 : 0;
}

void main();
