// A user-defined law vs the built-in, same run: the Chinchilla form written as an expression (5 parameters, the
// log parameterisation exp(a)/N^α + exp(b)/D^β + exp(e), so both fits see the same 4500-start grid and the same
// optimum) against law 'chinchilla' on the 240-run table, interleaved so both see the same machine load. Target:
// the custom law within 2× of the built-in's wall clock. Also the natural-units form E + A/N^α + B/D^β (bounded
// E, A, B > 0) from a small grid, for reference.
//   node bench/run.js bench/scaling-custom.bench.ts [--rounds 5] [--backend cpu|cuda]
// Writes bench/results/scaling-custom.{json,md}.
import * as fs from 'fs';
import * as path from 'path';
import { Bench } from 'tinybench';
import { backendInfo } from '../lib/runtime/backend';
import { chinchillaRuns } from '../lib/scaling/data';
import { fit } from '../lib/scaling/fit';
import type { BackendChoice } from '../lib/runtime/native';
import { arg, median } from './common';

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

async function main(): Promise<void> {
  const rounds = arg('rounds', 5);
  const bi = process.argv.indexOf('--backend');
  const backend = (bi >= 0 ? process.argv[bi + 1] : 'cpu') as BackendChoice;
  const runs = chinchillaRuns();
  const info = backendInfo();
  const law = { expression: 'exp(a) / N^alpha + exp(b) / D^beta + exp(e)', params: ['a', 'b', 'e', 'alpha', 'beta'] };
  const grid = { a: linspace(0, 25, 6), b: linspace(0, 25, 6), e: linspace(-1, 1, 5), alpha: linspace(0, 2, 5), beta: linspace(0, 2, 5) };
  const builtin = () => fit(runs, { backend });
  const custom = () => fit(runs, { backend, law, grid });
  const rb = await builtin(); // warm-up, and the optima compared below
  const rc = await custom();
  const tb: number[] = [], tc: number[] = [];
  const time = async (f: () => Promise<unknown>, into: number[]) => {
    const t0 = process.hrtime.bigint();
    await f();
    into.push(Number(process.hrtime.bigint() - t0) / 1e9);
  };
  for (let i = 0; i < rounds; i++) {
    await time(builtin, tb);
    await time(custom, tc);
  }
  const bench = new Bench({ iterations: 3, warmupIterations: 0 });
  bench.add('built-in chinchilla', async () => { await builtin(); });
  bench.add('custom expression', async () => { await custom(); });
  await bench.run();
  const p50 = (i: number) => (bench.tasks[i]!.result as { latency?: { p50?: number } } | undefined)?.latency?.p50;
  const nat = await fit(runs, {
    backend,
    law: { expression: 'E + A / N^alpha + B / D^beta', params: ['E', 'A', 'B', 'alpha', 'beta'] },
    bounds: { E: [0, Infinity], A: [0, Infinity], B: [0, Infinity] },
    grid: { E: [1, 2], A: [100, 1000], B: [100, 3000], alpha: [0.3, 0.6], beta: [0.3, 0.6] },
  });
  const bS = median(tb), cS = median(tc);
  const rel = Math.abs(rc.objective - rb.objective) / rb.objective;
  const out = {
    when: new Date().toISOString(),
    machine: `${process.env.LW_MACHINE ?? require('os').cpus()[0]?.model ?? 'cpu'} × ${require('os').cpus().length}`,
    backend, threads: info.threads, simd: info.simd, runs: runs.N.length, starts: rc.starts,
    builtinSeconds: bS, customSeconds: cS, ratio: cS / bS, builtinAll: tb, customAll: tc,
    tinybenchP50Seconds: { builtin: (p50(0) ?? NaN) / 1e3, custom: (p50(1) ?? NaN) / 1e3 },
    builtin: { objective: rb.objective, startsAtOptimum: rb.startsAtOptimum, evaluationsPerStart: rb.evaluations / rb.starts },
    custom: { objective: rc.objective, startsAtOptimum: rc.startsAtOptimum, evaluationsPerStart: rc.evaluations / rc.starts },
    naturalUnits: { objective: nat.objective, params: nat.params, starts: nat.starts },
    objectiveRelDiff: rel,
    withinTarget: cS / bS <= 2,
  };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'scaling-custom.json'), JSON.stringify(out, null, 2) + '\n');
  const md = `# Custom law vs built-in, 240 runs × 4500 starts (${out.machine}, ${backend}, ${info.threads} threads, ${info.simd}, ${out.when})

| | seconds (median of ${rounds}, interleaved) | objective | starts at optimum | evaluations / start |
|---|---|---|---|---|
| built-in 'chinchilla' | ${bS.toFixed(3)} | ${rb.objective.toPrecision(10)} | ${rb.startsAtOptimum} | ${out.builtin.evaluationsPerStart.toFixed(1)} |
| expression \`${law.expression}\` | ${cS.toFixed(3)} | ${rc.objective.toPrecision(10)} | ${rc.startsAtOptimum} | ${out.custom.evaluationsPerStart.toFixed(1)} |

Custom / built-in wall clock **${out.ratio.toFixed(2)}×** (medians; tinybench p50s ${out.tinybenchP50Seconds.builtin.toFixed(3)} s vs ${out.tinybenchP50Seconds.custom.toFixed(3)} s: ${(out.tinybenchP50Seconds.custom / out.tinybenchP50Seconds.builtin).toFixed(2)}×; target ≤ 2×); objectives differ by ${rel.toExponential(1)} relative.
Natural-units expression E + A/N^α + B/D^β (E, A, B > 0 by bounds), 32 starts: objective ${nat.objective.toPrecision(10)}.
`;
  fs.writeFileSync(path.join(dir, 'scaling-custom.md'), md);
  process.stdout.write(md);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
