/**
 * `lengthwise bench`: a quick benchmark of the shipped kernels on this machine (medians of repeated calls).
 * The side-by-side comparisons with numpy / scipy / plain TypeScript live in the repository's bench/ folder.
 *
 * @packageDocumentation
 */
import { backendInfo } from '../runtime/backend';
import { logitStats } from '../logitStats';
import { cudaNative } from '../runtime/native';
import { lcg, uniformLogits } from '../runtime/prng';
import { fit } from '../scaling/fit';
import { chinchillaRuns } from '../scaling/data';
import { verifyTree } from '../tree/verify';
import type { Args, CommandSpec } from './framework';

async function medianMs(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t.sort((a, b) => a - b)[t.length >> 1]!;
}

async function runBench(args: Args): Promise<number> {
  const quick = args.flag('quick');
  const info = backendInfo();
  console.log(`lengthwise ${info.version} bench — ${info.threads} threads, SIMD ${info.simd}, devices: ${info.devices.map((d) => d.name).join(', ') || 'none'}`);
  const backends: ('cpu' | 'cuda')[] = cudaNative() ? ['cpu', 'cuda'] : ['cpu'];
  const rows = quick ? 64 : 512, vocab = 128256;
  const data = uniformLogits(rows * vocab, lcg(12345));
  for (const backend of backends) {
    const ms = await medianMs(() => logitStats({ data, rows, vocab }, { backend }), quick ? 3 : 9);
    console.log(`logitStats ${rows}×${vocab} fp32 [${backend}]: ${ms.toFixed(2)} ms, ${(data.byteLength / ms / 1e6).toFixed(2)} GB/s`);
  }
  const V = 32000, nodes = 16;
  const parents = Int32Array.from({ length: nodes }, (_, i) => (i === 0 ? -1 : (i - 1) >> 1));
  const tokens = Int32Array.from({ length: nodes }, (_, i) => (i * 7919) % V);
  const trees = { tokens, parents, offsets: Int32Array.from([0, nodes]) };
  const target = { data: uniformLogits(nodes * V, lcg(12345)), rows: nodes, vocab: V };
  for (const mode of ['greedy', 'sample'] as const) {
    const ms = await medianMs(() => verifyTree(trees, target, { mode, seed: 1, backend: 'cpu' }), 200);
    console.log(`verifyTree 1 tree × ${nodes} nodes, V ${V}, ${mode} [cpu]: ${(ms * 1e3).toFixed(0)} µs from JS`);
  }
  const runs = chinchillaRuns();
  for (const backend of backends) {
    const ms = await medianMs(() => fit(runs, { backend }), quick ? 1 : 3);
    console.log(`scaling.fit Chinchilla ${runs.N.length} runs × 4500 starts [${backend}]: ${ms.toFixed(0)} ms`);
  }
  console.log('side-by-side comparisons (numpy, scipy, plain TS): node bench/run.js bench/<name>.bench.ts in a checkout');
  return 0;
}

/** `lengthwise bench`. @internal */
export const command: CommandSpec = {
  name: 'bench',
  summary: 'quick benchmarks of the shipped kernels on this machine',
  usage: 'bench [--quick] [--json]',
  description: `Times logitStats, verifyTree and scaling.fit on generated inputs. The side-by-side comparisons with numpy /
scipy / plain TypeScript live in the repository's bench/ folder (node bench/run.js bench/<name>.bench.ts).`,
  options: {
    quick: { type: 'boolean', help: 'smaller inputs and fewer repetitions (a few seconds)' },
  },
  json: true,
  run: runBench,
};
