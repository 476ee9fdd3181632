import { scaling } from '../lib';
test('smoke', async () => {
  const runs = scaling.datablationsRuns();
  const base = { A: Math.exp(6.255414), B: Math.exp(7.3049974), E: Math.exp(0.6254804), alpha: 0.3526596, beta: 0.3526596 };
  const t0 = Date.now();
  const r = await scaling.fit(runs, { law: 'data-constrained', fix: base });
  console.log(Date.now() - t0, 'ms', r.params, r.objective, r.starts, r.startsAtOptimum, r.status, r.warnings);
  const r2 = await scaling.fit(runs, { law: 'data-constrained', fix: base, grid: { rdStar: [20/3, 40/3], rnStar: [20/3, 40/3, 20] } });
  console.log(r2.params.rdStar, r2.params.rnStar, r2.objective);
  const p = { ...base, rdStar: 15.387756, rnStar: 5.309743 };
  console.log(scaling.predict(p, 6.34e9, 242e9, 25e9) - 2.2256440889984477, scaling.predict(p, 8.67e9, 178e9, 25e9) - 2.2269634075087867);
});
