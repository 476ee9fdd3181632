// Chinchilla grid fit (240 runs × 4500 starts, Huber δ = 1e-3) on the CPU vs scipy L-BFGS-B with the exact
// gradient (bench/scaling_scipy.py), same data, same run: lengthwise runs before and after each scipy run so both
// see the same machine load; medians are compared, and the two optima must agree (relative 1e-6 objective).
//   node bench/run.js bench/scaling.bench.ts [--quick] [--rounds 7] [--scipy-rounds 2]
// Needs the CPU addon (npx node-gyp rebuild) and python3 + scipy. Writes bench/results/scaling.{json,md}.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import { chinchillaRuns, CHINCHILLA_CSV } from '../lib/scaling/data';
import { fit } from '../lib/scaling/fit';
import { arg, median } from './common';

interface Scipy {
  seconds: number;
  cpuSeconds: number;
  objective: number;
  startsAtOptimum: number;
  evaluationsPerStart: number;
  params: Record<string, number>;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = arg('rounds', quick ? 3 : 7);
  const scipyRounds = arg('scipy-rounds', quick ? 1 : 2);
  const runs = chinchillaRuns();
  const info = backendInfo();
  const ours: number[] = [];
  const oursCpu: number[] = [];
  const lw = async () => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const r = await fit(runs, { backend: 'cpu' });
    ours.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    oursCpu.push((c.user + c.system) / 1e6);
    return r;
  };
  const result = await lw(); // warm-up (loads the addon, spins up the pool)
  ours.length = 0;
  oursCpu.length = 0;
  const scipy: Scipy[] = [];
  for (let k = 0; k < scipyRounds; k++) {
    for (let i = 0; i < Math.ceil(rounds / scipyRounds / 2); i++) await lw();
    const p = spawnSync('python3', [path.join(__dirname, 'scaling_scipy.py'), CHINCHILLA_CSV], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`scipy baseline failed: ${p.stderr}`);
    scipy.push(JSON.parse(p.stdout.trim().split('\n').pop()!) as Scipy);
    for (let i = 0; i < Math.ceil(rounds / scipyRounds / 2); i++) await lw();
  }
  const bench = new Bench({ iterations: quick ? 3 : 5, warmupIterations: 1 });
  bench.add('lengthwise grid fit (cpu)', async () => {
    await fit(runs, { backend: 'cpu' });
  });
  await bench.run();
  const p50 = (bench.tasks[0]!.result as { latency?: { p50?: number } } | undefined)?.latency?.p50;

  const oursS = median(ours);
  const scipyS = median(scipy.map((s) => s.seconds));
  const oursCpuS = median(oursCpu);
  const scipyCpuS = median(scipy.map((s) => s.cpuSeconds));
  const sp = scipy[0]!;
  const rel = Math.abs(result.objective - sp.objective) / sp.objective;
  const out = {
    when: new Date().toISOString(),
    machine: `${process.env.LW_MACHINE ?? require('os').cpus()[0]?.model ?? 'cpu'} × ${require('os').cpus().length}`,
    threads: info.threads,
    simd: info.simd,
    runs: runs.N.length,
    starts: result.starts,
    lengthwiseSeconds: oursS,
    lengthwiseTinybenchP50Seconds: p50 === undefined ? null : p50 / 1e3,
    lengthwiseAll: ours,
    scipySeconds: scipyS,
    scipyAll: scipy.map((s) => s.seconds),
    speedup: scipyS / oursS,
    lengthwiseCpuSeconds: oursCpuS,
    scipyCpuSeconds: scipyCpuS,
    cpuTimeRatio: scipyCpuS / oursCpuS,
    lengthwise: { objective: result.objective, params: result.params, startsAtOptimum: result.startsAtOptimum, evaluationsPerStart: result.evaluations / result.starts },
    scipy: { objective: sp.objective, params: sp.params, startsAtOptimum: sp.startsAtOptimum, evaluationsPerStart: sp.evaluationsPerStart },
    objectiveRelDiff: rel,
    sameOptimum: rel <= 1e-6,
  };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'scaling.json'), JSON.stringify(out, null, 2) + '\n');
  const md = `# Chinchilla grid fit, CPU vs scipy (${out.machine}, ${info.threads} threads, ${info.simd}, ${out.when})

| | seconds (median) | objective | starts at optimum (rel 1e-6) | evaluations / start |
|---|---|---|---|---|
| lengthwise (cpu) | ${oursS.toFixed(3)} (${ours.length} runs) | ${result.objective.toPrecision(10)} | ${result.startsAtOptimum} / ${result.starts} | ${out.lengthwise.evaluationsPerStart.toFixed(1)} |
| scipy L-BFGS-B, exact gradient | ${scipyS.toFixed(2)} (${scipy.length} runs) | ${sp.objective.toPrecision(10)} | ${sp.startsAtOptimum} / ${result.starts} | ${sp.evaluationsPerStart.toFixed(1)} |

Speedup **${out.speedup.toFixed(1)}×** wall clock (target ≥ 50×, stretch 100×); CPU time ${oursCpuS.toFixed(3)} s vs
${scipyCpuS.toFixed(2)} s (${out.cpuTimeRatio.toFixed(0)}× less; scipy is single-threaded, lengthwise uses ${info.threads} threads). Objectives differ by ${rel.toExponential(1)} relative
(${out.sameOptimum ? 'same optimum' : 'DIFFERENT OPTIMA'}). 240 runs (Epoch AI's digitisation, 5 highest losses dropped),
Huber δ = 1e-3 summed over runs, 4500-point grid. lengthwise runs interleaved with scipy (before and after each
scipy run); tinybench p50 of lengthwise alone: ${p50 === undefined ? 'n/a' : (p50 / 1e3).toFixed(3) + ' s'}.
`;
  fs.writeFileSync(path.join(dir, 'scaling.md'), md);
  process.stdout.write(md);
  if (!out.sameOptimum) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
