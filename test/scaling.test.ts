import { scaling } from '../lib';
import { huberLikelihood, huberObjective, normals } from './helpers/scalingReference';

const runs = scaling.chinchillaRuns(); // 240 points: the 5 highest losses dropped

describe('Chinchilla table (Epoch AI digitisation, 240 runs)', () => {
  test('has 240 runs after dropping the 5 highest losses', () => {
    expect(runs.N.length).toBe(240);
    expect(scaling.chinchillaRuns({ dropHighest: 0 }).N.length).toBe(245);
  });

  test('Huber (δ = 1e-3, summed) grid fit reproduces the published replication', async () => {
    const r = await scaling.fit(runs);
    // Published: α ≈ 0.347, β ≈ 0.367, E ≈ 1.817, A ≈ 478, B ≈ 2143, objective ≈ 1.01827e-3.
    // scipy L-BFGS-B from the same grid reaches 1.0182740179e-3 here (bench/scaling_scipy.py).
    expect(Math.abs(r.objective - 1.018274018e-3) / 1.018274018e-3).toBeLessThan(1e-6);
    expect(Math.abs(r.params.alpha - 0.347)).toBeLessThan(1e-3);
    expect(Math.abs(r.params.beta - 0.367)).toBeLessThan(1e-3);
    expect(Math.abs(r.params.E - 1.817)).toBeLessThan(1e-3);
    expect(Math.abs(r.params.A - 478) / 478).toBeLessThan(2e-3);
    expect(Math.abs(r.params.B - 2143) / 2143).toBeLessThan(2e-3);
    expect(r.starts).toBe(4500);
    expect(r.startsAtOptimum).toBeGreaterThan(100); // only a fraction of the grid reaches the optimum
    expect(r.startsAtOptimum).toBeLessThan(4500);
    expect(r.converged).toBe(true);
    // The reported objective is the float64 reference objective at the reported parameters.
    const ref = huberObjective(Array.from(r.theta), runs.N, runs.D, runs.loss);
    expect(Math.abs(ref - r.objective) / ref).toBeLessThan(1e-12);
  });

  test('Huber-likelihood fit reproduces Besiroglu et al. 2024', async () => {
    const r = await scaling.fit(runs, { objective: 'huber-likelihood' });
    // Published: E 1.82, A 482.01, B 2085.43, α 0.3478, β 0.3658.
    expect(Math.abs(r.params.E - 1.82)).toBeLessThan(5e-3);
    expect(Math.abs(r.params.A - 482.01) / 482.01).toBeLessThan(2e-3);
    expect(Math.abs(r.params.B - 2085.43) / 2085.43).toBeLessThan(2e-3);
    expect(Math.abs(r.params.alpha - 0.3478)).toBeLessThan(2e-4);
    expect(Math.abs(r.params.beta - 0.3658)).toBeLessThan(2e-4);
    expect(r.sigma).toBeGreaterThan(-13);
    expect(r.sigma).toBeLessThan(-11.5);
    const ref = huberLikelihood(Array.from(r.theta), runs.N, runs.D, runs.loss);
    expect(Math.abs(ref - r.objective) / Math.abs(ref)).toBeLessThan(1e-12);
    // ≈ 20 tokens per parameter at Chinchilla's compute.
    const opt = scaling.computeOptimal(r.params, 5.76e23);
    expect(opt.tokensPerParam).toBeGreaterThan(15);
    expect(opt.tokensPerParam).toBeLessThan(30);
  });

  test('every SIMD path finds the same optimum', async () => {
    const objs: number[] = [];
    for (const simd of ['scalar', 'avx2', 'avx512'] as const) {
      objs.push((await scaling.fit(runs, { grid: { a: [5], b: [5, 10], e: [0.5], alpha: [0.5], beta: [0.5] }, tuning: { simd } })).objective);
    }
    for (const o of objs) expect(Math.abs(o - objs[0]!) / objs[0]!).toBeLessThan(1e-9);
  });
});

describe('synthetic recovery', () => {
  const truth = { A: 400, B: 1500, E: 1.7, alpha: 0.33, beta: 0.3 };
  function synth(noise: number, seed: number) {
    const N: number[] = [], D: number[] = [];
    for (let i = 0; i < 12; i++) for (let j = 0; j < 10; j++) {
      N.push(10 ** (7 + (3 * i) / 11));
      D.push(10 ** (9 + (3 * j) / 9));
    }
    const eps = normals(seed, N.length);
    const loss = N.map((n, i) => scaling.predict(truth, n, D[i]!) * Math.exp(noise * eps[i]!));
    return { N: new Float64Array(N), D: new Float64Array(D), loss: new Float64Array(loss) };
  }

  test('noise-free data: exact recovery (MSE)', async () => {
    const r = await scaling.fit(synth(0, 1), { objective: 'mse' });
    expect(r.objective).toBeLessThan(1e-20);
    expect(Math.abs(r.params.alpha - truth.alpha)).toBeLessThan(1e-5);
    expect(Math.abs(r.params.beta - truth.beta)).toBeLessThan(1e-5);
    expect(Math.abs(r.params.E - truth.E) / truth.E).toBeLessThan(1e-5);
    expect(Math.abs(r.params.A - truth.A) / truth.A).toBeLessThan(1e-4);
    expect(Math.abs(r.params.B - truth.B) / truth.B).toBeLessThan(1e-4);
  });

  test('1% log-normal noise: parameters within a few standard errors (Huber)', async () => {
    const r = await scaling.fit(synth(0.01, 7), { bootstrap: { resamples: 200, seed: 3 } });
    const b = r.bootstrap!;
    for (const k of ['alpha', 'beta', 'E'] as const) {
      expect(Math.abs(r.params[k] - truth[k])).toBeLessThan(4 * b.stdErr[k]! + 1e-3);
    }
    expect(Math.abs(r.params.alpha - truth.alpha)).toBeLessThan(0.03);
    expect(Math.abs(r.params.beta - truth.beta)).toBeLessThan(0.03);
    expect(b.intervals.alpha![0]).toBeLessThan(b.intervals.alpha![1]);
    expect(b.failed).toBe(0);
  });

  test('Kaplan L(N, D): noise-free recovery', async () => {
    const k = { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
    const N: number[] = [], D: number[] = [];
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
      N.push(10 ** (6 + (4 * i) / 7));
      D.push(10 ** (8 + (4 * j) / 7));
    }
    const loss = new Float64Array(scaling.predict(k, new Float64Array(N), new Float64Array(D)));
    const r = await scaling.fit({ N, D, loss }, { law: 'kaplan-nd', objective: 'mse' });
    expect(r.objective).toBeLessThan(1e-18);
    expect(Math.abs(r.params.alphaN - k.alphaN)).toBeLessThan(1e-5);
    expect(Math.abs(r.params.alphaD - k.alphaD)).toBeLessThan(1e-5);
    expect(Math.abs(Math.log(r.params.Nc / k.Nc))).toBeLessThan(1e-3);
    expect(Math.abs(Math.log(r.params.Dc / k.Dc))).toBeLessThan(1e-3);
  });
});

describe('bootstrap, progress, abort', () => {
  test('same seed → same resamples; different seed → different', async () => {
    const a = await scaling.fit(runs, { bootstrap: { resamples: 40, seed: 11 } });
    const b = await scaling.fit(runs, { bootstrap: { resamples: 40, seed: 11n } });
    const c = await scaling.fit(runs, { bootstrap: { resamples: 40, seed: 12 } });
    expect(Array.from(a.bootstrap!.samples.alpha!)).toEqual(Array.from(b.bootstrap!.samples.alpha!));
    expect(Array.from(a.bootstrap!.samples.alpha!)).not.toEqual(Array.from(c.bootstrap!.samples.alpha!));
    const s = a.bootstrap!;
    expect(Object.keys(s.stdErr)).toEqual(['A', 'B', 'E', 'alpha', 'beta', 'a', 'tokensPerParam', 'nOpt', 'dOpt']);
    // a = β/(α+β) per resample.
    const al = s.samples.alpha!, be = s.samples.beta!, aa = s.samples.a!;
    for (let i = 0; i < 40; i++) expect(aa[i]).toBeCloseTo(be[i]! / (al[i]! + be[i]!), 12);
    expect(s.intervals.tokensPerParam![0]).toBeLessThan(s.intervals.tokensPerParam![1]);
  });

  test('progress reaches total and is monotone', async () => {
    const seen: [number, number][] = [];
    const grid = { a: [0, 5, 10], b: [0, 5, 10], e: [0, 1], alpha: [0.5], beta: [0.5] };
    await scaling.fit(runs, { grid, bootstrap: { resamples: 30, seed: 1, gridPerResample: true }, onProgress: (d, t) => seen.push([d, t]) });
    const total = 18 + 30 * 18;
    expect(seen[seen.length - 1]).toEqual([total, total]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
  });

  test('AbortSignal cancels a long bootstrap', async () => {
    const ac = new AbortController();
    const p = scaling.fit(runs, { bootstrap: { resamples: 4000, seed: 1, gridPerResample: true }, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(scaling.fit(runs, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
