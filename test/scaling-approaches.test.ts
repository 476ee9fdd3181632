import { scaling } from '../lib';
import { rng } from './helpers/rng';

const LAW = { A: 406.4, B: 410.7, E: 1.69, alpha: 0.34, beta: 0.28 };
const law = (N: number, D: number) => LAW.E + LAW.A / N ** LAW.alpha + LAW.B / D ** LAW.beta;
const A_EXACT = LAW.beta / (LAW.alpha + LAW.beta);
const G = ((LAW.alpha * LAW.A) / (LAW.beta * LAW.B)) ** (1 / (LAW.alpha + LAW.beta));

/** OLS slope of ln y on ln x, written out. */
function slope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += Math.log(x[i]!) / n;
    my += Math.log(y[i]!) / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (Math.log(x[i]!) - mx) * (Math.log(y[i]!) - my);
    sxx += (Math.log(x[i]!) - mx) ** 2;
  }
  return sxy / sxx;
}

/** Exact isoFLOP parabolas: loss = L0 + q (ln N − ln N_opt)², N_opt = k C^a, awkward point counts and spacing. */
function parabolaData(a: number, k: number, seed: number) {
  const r = rng(seed);
  const N: number[] = [];
  const loss: number[] = [];
  const budget: number[] = [];
  const budgets = [1e18, 3.7e18, 2e19, 1.1e20, 6e20, 4.2e21, 1e23];
  budgets.forEach((C, j) => {
    const nOpt = k * C ** a;
    const pts = 3 + ((j * 5) % 7); // 3..9 points
    const q = 0.05 + 0.1 * r(); // curvature of this profile
    for (let t = 0; t < pts; t++) {
      const x = Math.log(nOpt) - 1.6 + (4 * t) / (pts - 1) + 0.1 * r(); // uneven, asymmetric spread around the vertex
      N.push(Math.exp(x));
      loss.push(2 + 1 / (j + 1) + q * (x - Math.log(nOpt)) ** 2);
      budget.push(C);
    }
  });
  return { data: { N: Float64Array.from(N), loss: Float64Array.from(loss), budget: Float64Array.from(budget) }, budgets };
}

describe('approach 2 (isoFLOP profiles)', () => {
  test('recovers the exponent of exact parabolas to float64 precision', () => {
    for (const [a, k, seed] of [[0.47, 0.1, 1], [0.53, 3.3, 2], [0.31, 500, 3]] as const) {
      const d = parabolaData(a, k, seed);
      const r = scaling.isoflopApproach(d.data);
      expect(r.approach).toBe(2);
      expect(r.profiles!.length).toBe(7);
      expect(Math.abs(r.a - a)).toBeLessThan(1e-9);
      expect(Math.abs(r.nOpt.coefficient / k - 1)).toBeLessThan(1e-8);
      expect(Math.abs(r.b - (1 - a))).toBeLessThan(1e-9); // D_opt = C/(6 N_opt)
      expect(r.nOpt.r2).toBeCloseTo(1, 12);
      r.profiles!.forEach((p, j) => {
        expect(p.budget).toBe(d.budgets[j]);
        expect(Math.abs(p.nOpt / (k * p.budget ** a) - 1)).toBeLessThan(1e-9);
        expect(Math.abs(p.dOpt - p.budget / (6 * p.nOpt))).toBeLessThan(1e-9 * p.dOpt);
      });
      expect(r.at.N / (k * 5.76e23 ** a)).toBeCloseTo(1, 8);
    }
  });

  test('another compute model changes D_opt = C / f(N_opt) only', () => {
    const d = parabolaData(0.5, 1, 4).data;
    const compute = { kind: 'kaplan', nLayer: 24, nCtx: 2048, dAttn: 1024 } as const;
    const r = scaling.isoflopApproach(d, { compute });
    const extra = 6 * 24 * 2048 * 1024;
    const C = r.frontier.C;
    const D = Float64Array.from(C, (c, i) => c / (6 * r.frontier.N[i]! + extra));
    r.frontier.D.forEach((x, i) => expect(Math.abs(x / D[i]! - 1)).toBeLessThan(1e-14));
    expect(Math.abs(r.b - slope(C, D))).toBeLessThan(1e-12);
    expect(Math.abs(r.a - 0.5)).toBeLessThan(1e-9);
    expect(r.compute).toBe('kaplan');
    const custom = scaling.isoflopApproach(d, { compute: { flopsPerToken: (N) => 12 * N } });
    expect(custom.a).toBeCloseTo(0.5, 9);
    expect(custom.b).toBeCloseTo(0.5, 9);
    expect(custom.dOpt.coefficient / scaling.isoflopApproach(d).dOpt.coefficient).toBeCloseTo(0.5, 12);
  });

  test("on the Chinchilla law's own isoFLOPs it recovers a = β/(α+β)", () => {
    const N: number[] = [];
    const loss: number[] = [];
    const budget: number[] = [];
    for (let e = 18; e <= 23; e += 0.5) {
      const C = 10 ** e;
      const nOpt = G * (C / 6) ** A_EXACT;
      for (let t = -6; t <= 6; t++) {
        const n = nOpt * 1.25 ** t;
        N.push(n);
        loss.push(law(n, C / (6 * n)));
        budget.push(C);
      }
    }
    const r = scaling.isoflopApproach({ N, loss, budget });
    expect(Math.abs(r.a - A_EXACT)).toBeLessThan(2e-3);
    expect(Math.abs(r.b - (1 - A_EXACT))).toBeLessThan(2e-3);
    expect(r.warnings).toEqual([]);
  });

  test('degenerate profiles are skipped with reasons; one budget is a RangeError', () => {
    const d = parabolaData(0.5, 1, 5).data;
    const N = [...d.N, 1e9, 1e9, 1e9, 1e8, 2e8, 3e8];
    const loss = [...d.loss, 3, 3.1, 3.2, 3, 3.5, 3];
    const budget = [...d.budget, 5e17, 5e17, 5e17, 7e17, 7e17, 7e17];
    const r = scaling.isoflopApproach({ N, loss, budget });
    expect(r.skipped).toEqual([
      { budget: 5e17, reason: '1 distinct N < 3' },
      { budget: 7e17, reason: 'parabola not convex' },
    ]);
    expect(Math.abs(r.a - 0.5)).toBeLessThan(1e-9);
    const one = { N: [1e8, 2e8, 4e8, 8e8], loss: [3, 2.9, 2.95, 3.1], budget: [1e20, 1e20, 1e20, 1e20] };
    expect(() => scaling.isoflopApproach(one)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/2 or more budgets.*\(got 1\)/) }));
    expect(() => scaling.isoflopApproach({ N: [1], loss: [1] })).toThrow(/no budget column 'budget'/);
    expect(() => scaling.isoflopApproach({ ...one, loss: [3, NaN, 2, 2] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.loss[1]') }));
    expect(() => scaling.isoflopApproach(one, { minRuns: 2 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('opts.minRuns') }));
  });

  test('a vertex outside the sampled N warns, or is left out with interiorOnly', () => {
    const d = parabolaData(0.5, 1, 6).data;
    const N = [...d.N, 1e2, 2e2, 4e2];
    const loss = [...d.loss, 3.3, 3.15, 3.05]; // convex, still decreasing: vertex beyond 4e2
    const budget = [...d.budget, 3e16, 3e16, 3e16];
    const r = scaling.isoflopApproach({ N, loss, budget });
    expect(r.warnings.some((w) => w.startsWith('vertex-outside-range:'))).toBe(true);
    const s = scaling.isoflopApproach({ N, loss, budget }, { interiorOnly: true });
    expect(s.skipped.map((x) => x.reason)).toEqual(['vertex outside the sampled N']);
    expect(Math.abs(s.a - 0.5)).toBeLessThan(1e-9);
  });

  test('bootstrap within profiles: seeded, reproducible, every profile kept', () => {
    const t = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
    const resample = { scheme: 'bootstrap', resamples: 200, seed: 7, level: 0.8 } as const;
    const a = scaling.isoflopApproach(t, { resample });
    const b = scaling.isoflopApproach(t, { resample });
    expect(Array.from(a.resampling!.samples.a!)).toEqual(Array.from(b.resampling!.samples.a!));
    const c = scaling.isoflopApproach(t, { resample: { ...resample, seed: 8 } });
    expect(Array.from(c.resampling!.samples.a!)).not.toEqual(Array.from(a.resampling!.samples.a!));
    const [lo, hi] = a.resampling!.intervals.a!;
    expect(lo).toBeLessThan(a.a);
    expect(hi).toBeGreaterThan(a.a);
    expect(a.resampling!.level).toBe(0.8);
    expect(a.resampling!.failed).toBe(0);
  });
});

describe('approach 1 (minimum over training curves)', () => {
  /** Training curves of the Chinchilla law; run j is compute-optimal at budget C_j and logs a point there. */
  function curves() {
    const budgets = [3e18, 1e19, 4.4e19, 2e20, 9e20, 5e21];
    const rows: { run: string; N: number; D: number; loss: number }[] = [];
    budgets.forEach((Cj, j) => {
      const Nj = G * (Cj / 6) ** A_EXACT;
      const Cs = new Set<number>([Cj]);
      for (let t = -12; t <= 12; t++) Cs.add(Cj * 1.7 ** t);
      for (const C of [...Cs].sort((p, q) => p - q)) rows.push({ run: `r${j}`, N: Nj, D: C / (6 * Nj), loss: law(Nj, C / (6 * Nj)) });
    });
    return {
      budgets,
      data: {
        run: rows.map((r) => r.run),
        N: Float64Array.from(rows, (r) => r.N),
        D: Float64Array.from(rows, (r) => r.D),
        loss: Float64Array.from(rows, (r) => r.loss),
      },
    };
  }

  test('recovers a = β/(α+β) exactly at budgets where the optimal run logged a point', () => {
    const { budgets, data } = curves();
    const r = scaling.minLossFrontier(data, { budgets });
    expect(r.approach).toBe(1);
    expect(Array.from(r.frontier.C)).toEqual(budgets);
    r.frontier.N.forEach((n, j) => expect(Math.abs(n / (G * (budgets[j]! / 6) ** A_EXACT) - 1)).toBeLessThan(1e-12));
    expect(Math.abs(r.a - A_EXACT)).toBeLessThan(1e-10);
    expect(Math.abs(r.b - (1 - A_EXACT))).toBeLessThan(1e-10);
    // Default: 1500 log-spaced budgets over the data's range.
    expect(scaling.minLossFrontier(data).frontier.C.length).toBe(1500);
    // 1500 budgets between the first and last optimum: the envelope steps between the six sizes.
    const grid = Array.from({ length: 1500 }, (_, j) => Math.exp(Math.log(3e18) + ((Math.log(5e21) - Math.log(3e18)) * j) / 1499));
    const d = scaling.minLossFrontier(data, { budgets: grid });
    expect(Math.abs(d.a - A_EXACT)).toBeLessThan(0.03);
  });

  test('on final-loss tables it is the lowest-loss run per budget', () => {
    const t = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
    const r = scaling.minLossFrontier(t, { flops: 'budget' });
    const best = new Map<number, number>();
    t.budget.forEach((b, i) => {
      const k = best.get(b);
      if (k === undefined || t.loss[i]! < t.loss[k]!) best.set(b, i);
    });
    const budgets = [...best.keys()].sort((p, q) => p - q);
    expect(Array.from(r.frontier.C)).toEqual(budgets);
    expect(Array.from(r.frontier.N)).toEqual(budgets.map((b) => t.N[best.get(b)!]!));
    expect(Math.abs(r.a - slope(budgets, budgets.map((b) => t.N[best.get(b)!]!)))).toBeLessThan(1e-12);
  });

  test('run resampling and bad input', () => {
    const { data } = curves();
    const r = scaling.minLossFrontier(data, { budgets: 200, resample: { scheme: 'bootstrap', resamples: 50, seed: 1 } });
    expect(r.resampling!.resamples).toBe(50);
    expect(Number.isFinite(r.resampling!.stdErr.a!)).toBe(true);
    expect(() => scaling.minLossFrontier({ ...data, N: Float64Array.from(data.N, (n, i) => (i === 3 ? n * 2 : n)) })).toThrow(/constant along a run/);
    expect(() => scaling.minLossFrontier({ N: [1], loss: [1] })).toThrow(/needs a D column/);
    expect(() => scaling.minLossFrontier(data, { budgets: 1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => scaling.minLossFrontier(data, { run: 'nope' })).toThrow(/opts.run must name a column/);
  });
});

describe('bundled isoFLOP data (five studies)', () => {
  test('approaches 1 and 2 per study, and leave-one-study-out', () => {
    const all = scaling.isoflopRuns({ dropOutliers: true });
    expect(new Set(all.source).size).toBe(5);
    for (const s of new Set(all.source)) {
      const t = scaling.isoflopRuns({ source: s, dropOutliers: true });
      const r2 = scaling.isoflopApproach(t);
      const r1 = scaling.minLossFrontier(t, { flops: 'budget' });
      expect(r2.a).toBeGreaterThan(0.35);
      expect(r2.a).toBeLessThan(0.65);
      expect(r1.a).toBeGreaterThan(0.35);
      expect(r1.a).toBeLessThan(0.65);
    }
    // Profiles are per (source, budget): key budgets by study so two studies' equal budgets stay apart.
    const key = Float64Array.from(all.budget, (b, i) => b * (1 + 1e-9 * [...new Set(all.source)].indexOf(all.source[i]!)));
    const r = scaling.isoflopApproach({ ...all, profile: key }, { budget: 'profile', resample: { scheme: 'leave-one-group-out', groups: 'source' } });
    expect(r.resampling!.groups!.sort()).toEqual([...new Set(all.source)].sort());
    expect(r.resampling!.resamples).toBe(5);
    expect(r.resampling!.stdErr.a!).toBeGreaterThan(0);
  });
});

describe("README's Table 2 figures (bundled Chinchilla isoFLOP points, outliers dropped)", () => {
  test('approach 1 and 2 exponents with 10th-90th percentile bootstrap intervals (2000 resamples, seed 1)', () => {
    const t = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
    expect(t.N.length).toBe(85);
    const resample = { scheme: 'bootstrap', resamples: 2000, seed: 1, level: 0.8 } as const;
    const a1 = scaling.minLossFrontier(t, { flops: 'budget', resample });
    const a2 = scaling.isoflopApproach(t, { resample });
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    expect([r3(a1.a), r3(a1.resampling!.intervals.a![0]), r3(a1.resampling!.intervals.a![1])]).toEqual([0.473, 0.45, 0.537]);
    expect([r3(a2.a), r3(a2.resampling!.intervals.a![0]), r3(a2.resampling!.intervals.a![1])]).toEqual([0.541, 0.513, 0.553]);
    expect(a2.profiles!.length).toBe(7);
    expect(r3(a2.b)).toBe(0.459);
    const all = scaling.isoflopApproach(scaling.isoflopRuns({ source: 'epochai_chinchilla' }));
    expect(r3(all.a)).toBe(0.495);
    expect(all.warnings[0]).toMatch(/^vertex-outside-range: 1 profile/);
  });
});
