/**
 * `lengthwise bench`: quick benchmarks of the shipped kernels on this machine, min / median / p90 of repeated calls,
 * with a "machine busy" note when the load average exceeds the cores. Timed with tinybench when it is installed (an
 * optional dependency, so the core install stays small), else with a built-in loop computing the same statistics;
 * the output says which. The side-by-side comparisons with numpy / scipy / plain TypeScript live in the repository's
 * bench/ folder.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backendInfo } from '../runtime/backend';
import { logitStats } from '../logitStats';
import { cudaNative } from '../runtime/native';
import { lcg, uniformLogits } from '../runtime/prng';
import { fit } from '../scaling/fit';
import { chinchillaRuns } from '../scaling/data';
import { verifyTree } from '../tree/verify';
import type { Args, CommandSpec } from './framework';

/** Statistics of one benchmark's samples (milliseconds per call). @internal */
export interface BenchStats {
  samples: number;
  min: number;
  median: number;
  p90: number;
  mean: number;
}

/** min / median / p90 / mean of samples (nearest-rank percentiles on the sorted samples). @internal */
export function stats(ms: number[]): BenchStats {
  const s = ms.slice().sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { samples: s.length, min: s[0]!, median: rank(0.5), p90: rank(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// tinybench is an ES module: load it with a real dynamic import (TypeScript would turn `import()` into `require`).
const esmImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

type Timer = { name: string; time: (fn: () => Promise<unknown>, iterations: number) => Promise<number[]> };

async function builtInLoop(fn: () => Promise<unknown>, iterations: number): Promise<number[]> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t;
}

/** tinybench when it resolves from this install, else the built-in loop. @internal */
export async function timer(): Promise<Timer> {
  try {
    const tb = await esmImport('tinybench');
    const Bench = tb.Bench as new (o: object) => {
      add(name: string, fn: () => Promise<unknown>): unknown;
      run(): Promise<unknown>;
      tasks: { result?: { latency?: { samples?: ArrayLike<number> } } }[];
    };
    let version = '';
    try {
      const pkg = path.join(path.dirname(require.resolve('tinybench')), '..', 'package.json');
      version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '';
    } catch {
      // version unknown
    }
    return {
      name: `tinybench${version ? ` ${version}` : ''}`,
      time: async (fn, iterations) => {
        const b = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0, retainSamples: true });
        b.add('task', fn);
        await b.run();
        const samples = b.tasks[0]?.result?.latency?.samples;
        return samples && samples.length > 0 ? Array.from(samples) : builtInLoop(fn, iterations);
      },
    };
  } catch {
    return { name: 'built-in loop (install tinybench for its timer)', time: builtInLoop };
  }
}

interface BenchRow extends BenchStats {
  name: string;
  backend: string;
  /** Bytes read per call (throughput = bytes / median), when meaningful. */
  bytes?: number;
}

const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1e3).toFixed(0)} µs` : ms < 100 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`);

async function runBench(args: Args): Promise<number> {
  const quick = args.flag('quick');
  const info = backendInfo();
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const load = os.loadavg()[0]!;
  const busy = load > cores;
  const t = await timer();
  const log = (s: string) => {
    if (!args.json) process.stdout.write(`${s}\n`);
  };
  log(`lengthwise ${info.version} bench — ${info.threads} threads, SIMD ${info.simd}, devices: ${info.devices.map((d) => d.name).join(', ') || 'none'}; timer: ${t.name}`);
  const note = busy ? `machine busy: load average ${load.toFixed(1)} > ${cores} cores; timings are inflated and noisy` : undefined;
  if (note) process.stderr.write(`lengthwise bench: ${note}\n`);
  const rows: BenchRow[] = [];
  const record = (row: BenchRow) => {
    rows.push(row);
    const gbs = row.bytes ? `, ${(row.bytes / row.median / 1e6).toFixed(2)} GB/s at the median` : '';
    log(`  ${`${row.name} [${row.backend}]`.padEnd(52)} min ${fmtMs(row.min).padStart(9)}  median ${fmtMs(row.median).padStart(9)}  p90 ${fmtMs(row.p90).padStart(9)}  (${row.samples} runs${gbs})`);
  };
  const backends: ('cpu' | 'cuda')[] = cudaNative() ? ['cpu', 'cuda'] : ['cpu'];
  const rowsN = quick ? 64 : 512, vocab = 128256;
  const data = uniformLogits(rowsN * vocab, lcg(12345));
  for (const backend of backends) {
    const ms = await t.time(() => logitStats({ data, rows: rowsN, vocab }, { backend }), quick ? 5 : 15);
    record({ name: `logitStats ${rowsN}×${vocab} fp32`, backend, bytes: data.byteLength, ...stats(ms) });
  }
  const V = 32000, nodes = 16;
  const parents = Int32Array.from({ length: nodes }, (_, i) => (i === 0 ? -1 : (i - 1) >> 1));
  const tokens = Int32Array.from({ length: nodes }, (_, i) => (i * 7919) % V);
  const trees = { tokens, parents, offsets: Int32Array.from([0, nodes]) };
  const target = { data: uniformLogits(nodes * V, lcg(12345)), rows: nodes, vocab: V };
  for (const mode of ['greedy', 'sample'] as const) {
    const ms = await t.time(() => verifyTree(trees, target, { mode, seed: 1, backend: 'cpu' }), quick ? 50 : 200);
    record({ name: `verifyTree 1 tree × ${nodes} nodes, V ${V}, ${mode}`, backend: 'cpu', ...stats(ms) });
  }
  const runs = chinchillaRuns();
  for (const backend of backends) {
    const ms = await t.time(() => fit(runs, { backend }), quick ? 2 : 5);
    record({ name: `scaling.fit Chinchilla ${runs.N.length} runs × 4500 starts`, backend, ...stats(ms) });
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({
      version: info.version, threads: info.threads, simd: info.simd, devices: info.devices.map((d) => d.name), timer: t.name,
      loadAverage: load, cores, busy, note, unit: 'ms per call', results: rows,
    }, null, 2) + '\n');
  } else {
    log('side-by-side comparisons (numpy, scipy, plain TS): node bench/run.js bench/<name>.bench.ts in a checkout');
  }
  return 0;
}

/** `lengthwise bench`. @internal */
export const command: CommandSpec = {
  name: 'bench',
  summary: 'quick benchmarks of the shipped kernels on this machine',
  usage: 'bench [--quick] [--json]',
  description: `Times logitStats, verifyTree and scaling.fit on generated inputs and prints min / median / p90 per call
(and GB/s where a call reads a known amount), with a note when the machine is busy (1-minute load average above the
core count). Uses tinybench when it is installed (an optional peer dependency: npm install tinybench), else a built-in loop with the same
statistics; the first line says which. About 10 s (--quick: 2 s) on an idle machine. The side-by-side comparisons
with numpy / scipy / plain TypeScript live in the repository's bench/ folder (node bench/run.js bench/<name>.bench.ts).`,
  options: {
    quick: { type: 'boolean', help: 'smaller inputs and fewer repetitions' },
  },
  json: true,
  run: runBench,
};
