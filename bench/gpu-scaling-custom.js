#!/usr/bin/env node
// A user-defined scaling law vs the built-in on CUDA (issue #12: a custom law within 2× of the built-in's grid
// speed). The Chinchilla form written as the expression exp(a)/N^α + exp(b)/D^β + exp(e) against law 'chinchilla'
// on the bundled 240-run table, from the same 4500-start grid; the custom law both on the register evaluator (the
// default) and on the stack interpreter (tuning.customLaw 'interpreter', the path before it), so one run gives
// the before / after. Three settings: the Huber objective, the Huber likelihood, and a 50-resample bootstrap with
// the whole grid per resample (225 000 fits: the throughput case). Wall clock per call from JS, medians of
// interleaved rounds. Checks: built-in and custom optima agree (objective rel ≤ 1e-9), and the register evaluator
// equals the interpreter bit for bit (objective, θ, every bootstrap sample). Plain JS on dist/:
//   node bench/gpu-scaling-custom.js [--rounds 7] [--out FILE.md]
'use strict';
const path = require('path');
const { gpuBench, median, fmt } = require(path.join(__dirname, 'helpers', 'gpu-bench'));
const { lw, opt, log, writeOut } = gpuBench('gpu-scaling-custom', 'gpu-scaling-custom.md');

const rounds = Math.max(1, Number(opt('rounds', '7')));
const linspace = (a, b, n) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const law = { expression: 'exp(a) / N^alpha + exp(b) / D^beta + exp(e)', params: ['a', 'b', 'e', 'alpha', 'beta'] };
// the built-in's default grid, in the custom law's parameter names (chinchilla's θ is [a, b, e, α, β] too)
const grid = { a: linspace(0, 25, 6), b: linspace(0, 25, 6), e: linspace(-1, 1, 5), alpha: linspace(0, 2, 5), beta: linspace(0, 2, 5) };

const settings = {
  huber: {},
  'huber-likelihood': { objective: 'huber-likelihood' },
  'bootstrap 50 × grid (huber)': { bootstrap: { resamples: 50, seed: 1, gridPerResample: true } },
};
const variants = {
  'built-in chinchilla': (s) => ({ ...s, backend: 'cuda' }),
  'custom, registers': (s) => ({ ...s, backend: 'cuda', law, grid }),
  'custom, interpreter': (s) => ({ ...s, backend: 'cuda', law, grid, tuning: { customLaw: 'interpreter' } }),
};

const bitwiseEqual = (x, y) => {
  const a = Float64Array.from(x), b = Float64Array.from(y);
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer), ub = new Uint32Array(b.buffer);
  return ua.every((v, i) => v === ub[i]);
};
const samplesOf = (r) => (r.bootstrap ? Object.keys(r.bootstrap.samples).sort().flatMap((k) => Array.from(r.bootstrap.samples[k])) : []);

async function main() {
  const runs = lw.scaling.chinchillaRuns();
  log(`# Custom law vs built-in on CUDA, ${runs.N.length} runs, ${new Date().toISOString()}`);
  log(`expression \`${law.expression}\`, 4500-start grid; wall clock per call (ms), median of ${rounds} interleaved rounds`);
  log('');
  log('| setting | built-in ms | custom (registers) ms | custom (interpreter) ms | registers / built-in | interpreter / built-in | objective rel diff | registers == interpreter |');
  log('|---|---|---|---|---|---|---|---|');
  let bad = 0;
  const ratios = {};
  for (const [sn, s] of Object.entries(settings)) {
    const first = {};
    for (const [vn, mk] of Object.entries(variants)) first[vn] = await lw.scaling.fit(runs, mk(s));  // warm-up + results
    const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [vn, mk] of Object.entries(variants)) {
        const t0 = process.hrtime.bigint();
        await lw.scaling.fit(runs, mk(s));
        times[vn].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const b = first['built-in chinchilla'], cr = first['custom, registers'], ci = first['custom, interpreter'];
    const rel = Math.abs(cr.objective - b.objective) / Math.abs(b.objective);
    const same = bitwiseEqual([cr.objective], [ci.objective]) && bitwiseEqual(cr.theta, ci.theta) &&
      cr.startsAtOptimum === ci.startsAtOptimum && cr.evaluations === ci.evaluations && bitwiseEqual(samplesOf(cr), samplesOf(ci));
    const ok = rel <= 1e-9 && same;
    bad += !ok;
    const tb = median(times['built-in chinchilla']), tr = median(times['custom, registers']), ti = median(times['custom, interpreter']);
    ratios[sn] = tr / tb;
    log(`| ${sn} | ${fmt(tb)} | ${fmt(tr)} | ${fmt(ti)} | **${fmt(tr / tb, 2)}×** | ${fmt(ti / tb, 2)}× | ${rel.toExponential(1)}${rel <= 1e-9 ? '' : ' FAIL'} | ${same ? 'yes' : 'NO (FAIL)'} |`);
  }
  log('');
  log(`target: custom (registers) / built-in ≤ 2×: ${Object.entries(ratios).map(([k, v]) => `${k} ${fmt(v, 2)}×`).join(', ')}`);
  log(bad ? `gpu-scaling-custom: ${bad} FAILURES` : 'gpu-scaling-custom: optima agree, registers == interpreter bit for bit');
  writeOut();
  process.exit(bad ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
