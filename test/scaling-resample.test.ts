import { scaling } from '../lib';
import { indexSets, summariseResamples } from '../lib/scaling/resample';
import { normals } from './helpers/scalingReference';

const P = { A: 406.4, B: 410.7, E: 1.69, alpha: 0.34, beta: 0.28 };

describe('compute models', () => {
  test('6ND is the default and matches the closed form; other models minimise L(N, C/f(N))', () => {
    const C = 5.76e23;
    const base = scaling.computeOptimal(P, C);
    expect(scaling.computeOptimal(P, C, { compute: '6ND' })).toEqual(base);
    expect(scaling.computeOptimal(P, C, { compute: { kind: '6ND' } })).toEqual(base);
    // f(N) = 12N spends twice the FLOPs per token: the optimum at C is the 6ND optimum at C/2.
    const twice = scaling.computeOptimal(P, C, { compute: { flopsPerToken: (N) => 12 * N } });
    const half = scaling.computeOptimal(P, C / 2);
    expect(twice.N / half.N).toBeCloseTo(1, 9);
    expect(twice.D / half.D).toBeCloseTo(1, 9);
    expect(twice.a).toBeCloseTo(P.beta / (P.alpha + P.beta), 6);
    expect(twice.b).toBeCloseTo(P.alpha / (P.alpha + P.beta), 6);
    // Kaplan's attention term: more FLOPs per token → fewer tokens; a negligible term changes nothing.
    const k = scaling.computeOptimal(P, C, { compute: { kind: 'kaplan', nLayer: 80, nCtx: 2048, dAttn: 8192 } });
    expect(k.D).toBeLessThan(base.D);
    expect(6 * k.N + 6 * 80 * 2048 * 8192).toBeCloseTo(C / k.D, -10);
    const tiny = scaling.computeOptimal(P, C, { compute: { kind: 'kaplan', nLayer: 1, nCtx: 1, dAttn: 1e-9 } });
    expect(tiny.N / base.N).toBeCloseTo(1, 9);
    // The numeric optimum is a minimum of the loss on the isoFLOP.
    const f = (N: number) => P.E + P.A / N ** P.alpha + P.B / (C / (6 * N + 6 * 80 * 2048 * 8192)) ** P.beta;
    expect(f(k.N)).toBeLessThanOrEqual(f(k.N * 1.001));
    expect(f(k.N)).toBeLessThanOrEqual(f(k.N / 1.001));
  });

  test('trainingFlops and bad models', () => {
    expect(Array.from(scaling.trainingFlops([1e9, 2e9], [1e10, 3e10]))).toEqual([6e19, 3.6e20]);
    expect(Array.from(scaling.trainingFlops([10], [2], { compute: { kind: 'kaplan', nLayer: 2, nCtx: 3, dAttn: 4 } }))).toEqual([(60 + 144) * 2]);
    const bad: [unknown, string, string][] = [
      [{ kind: 'palm' }, 'ERR_INVALID_ARG_TYPE', 'opts.compute.kind'],
      [{ kind: 'kaplan', nLayer: 2, nCtx: 3 }, 'ERR_INVALID_ARG_TYPE', 'opts.compute.dAttn'],
      [{ kind: 'kaplan', nLayer: 2, nCtx: 3, dAttn: 4, nctx: 1 }, 'ERR_INVALID_ARG_TYPE', "unknown option 'nctx' in opts.compute"],
      [{ flopsPerToken: 3 }, 'ERR_INVALID_ARG_TYPE', 'opts.compute.flopsPerToken'],
      [{ flopsPerToken: () => -1 }, 'ERR_OUT_OF_RANGE', 'opts.compute.flopsPerToken(1) must return a finite number > 0'],
      ['6nd', 'ERR_INVALID_ARG_TYPE', 'opts.compute'],
    ];
    for (const [compute, code, msg] of bad) {
      expect(() => scaling.trainingFlops([1], [1], { compute: compute as never })).toThrow(expect.objectContaining({ code, message: expect.stringContaining(msg) }));
    }
    expect(() => scaling.trainingFlops([1, 2], [1])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('resampling schemes', () => {
  const table = { N: new Float64Array(10) };

  test('index sets: bootstrap and subsample are seeded; subsample draws without replacement; strata are kept', () => {
    const a = indexSets({ scheme: 'subsample', resamples: 30, seed: 5, fraction: 0.3 }, 'opts.resample', table, 10);
    const b = indexSets({ scheme: 'subsample', resamples: 30, seed: 5, fraction: 0.3 }, 'opts.resample', table, 10);
    expect(a.sets.map((s) => Array.from(s))).toEqual(b.sets.map((s) => Array.from(s)));
    expect(a.size).toBe(3);
    for (const s of a.sets) {
      expect(new Set(s).size).toBe(3);
      for (const i of s) expect(i >= 0 && i < 10).toBe(true);
    }
    const strata = Int32Array.of(0, 0, 0, 1, 1, 1, 1, 2, 2, 2);
    const boot = indexSets({ scheme: 'bootstrap', resamples: 20, seed: 1 }, 'opts.resample', table, 10, strata);
    for (const s of boot.sets) {
      expect(s.length).toBe(10);
      const counts = [0, 0, 0];
      for (const i of s) counts[strata[i]!]!++;
      expect(counts).toEqual([3, 4, 3]);
    }
    const logo = indexSets({ scheme: 'leave-one-group-out', groups: ['x', 'y', 'x', 'z', 'y', 'x', 'z', 'z', 'y', 'x'] }, 'opts.resample', table, 10);
    expect(logo.groups).toEqual(['x', 'y', 'z']);
    expect(Array.from(logo.sets[0]!)).toEqual([1, 3, 4, 6, 7, 8]);
  });

  test('subsample standard error of a mean ≈ S/√n (4000 resamples, within 5%); leave-one-out = the jackknife exactly', () => {
    const n = 400;
    const x = normals(21, n).map((v) => 3 + 2 * v);
    let m = 0;
    for (const v of x) m += v / n;
    let s2 = 0;
    for (const v of x) s2 += (v - m) ** 2 / (n - 1);
    const want = Math.sqrt(s2 / n);
    const mean = (idx: Int32Array) => idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
    for (const fraction of [0.25, 0.5, 0.8]) {
      const sets = indexSets({ scheme: 'subsample', resamples: 4000, seed: 3, fraction }, 'opts.resample', { x }, n);
      const sum = summariseResamples(sets, { m }, { m: Float64Array.from(sets.sets, mean) });
      expect(Math.abs(sum.stdErr.m! / want - 1)).toBeLessThan(0.05);
      const [lo, hi] = sum.intervals.m!;
      expect(lo).toBeLessThan(m);
      expect(hi).toBeGreaterThan(m);
      // ≈ ± 1.96 SE
      expect(Math.abs((hi - lo) / (2 * 1.959964 * want) - 1)).toBeLessThan(0.08);
    }
    const groups = Array.from({ length: n }, (_, i) => i);
    const jk = indexSets({ scheme: 'leave-one-group-out', groups }, 'opts.resample', { x }, n);
    const sum = summariseResamples(jk, { m }, { m: Float64Array.from(jk.sets, mean) });
    expect(Math.abs(sum.stdErr.m! / want - 1)).toBeLessThan(1e-10);
    // Bootstrap SE of the mean ≈ S/√n·√((n−1)/n).
    const bs = indexSets({ scheme: 'bootstrap', resamples: 4000, seed: 9 }, 'opts.resample', { x }, n);
    const bsum = summariseResamples(bs, { m }, { m: Float64Array.from(bs.sets, mean) });
    expect(Math.abs(bsum.stdErr.m! / want - 1)).toBeLessThan(0.05);
  });

  test('bad schemes: coded errors', () => {
    const bad: [unknown, string, string][] = [
      [{ scheme: 'jackknife' }, 'ERR_OUT_OF_RANGE', 'opts.resample.scheme'],
      [{ scheme: 'subsample', resamples: 2, seed: 1, size: 10 }, 'ERR_OUT_OF_RANGE', 'opts.resample.size'],
      [{ scheme: 'subsample', resamples: 2, seed: 1, size: 3, fraction: 0.5 }, 'ERR_OUT_OF_RANGE', 'give size or fraction'],
      [{ scheme: 'bootstrap', resamples: 0, seed: 1 }, 'ERR_OUT_OF_RANGE', 'opts.resample.resamples'],
      [{ scheme: 'bootstrap', resamples: 2, seed: -1 }, 'ERR_OUT_OF_RANGE', 'opts.resample.seed'],
      [{ scheme: 'bootstrap', resamples: 2, seed: 1, sed: 2 }, 'ERR_INVALID_ARG_TYPE', "did you mean 'seed'?"],
      [{ scheme: 'leave-one-group-out', groups: 'source' }, 'ERR_OUT_OF_RANGE', "names no column 'source'"],
      [{ scheme: 'leave-one-group-out', groups: Array(10).fill('a') }, 'ERR_OUT_OF_RANGE', 'at least 2 groups'],
      [{ scheme: 'given', sets: [[0, 10]] }, 'ERR_OUT_OF_RANGE', 'opts.resample.sets[0][1] must be a row index in [0, 10)'],
      [{ scheme: 'given', sets: [] }, 'ERR_INVALID_ARG_TYPE', 'opts.resample.sets'],
    ];
    for (const [s, code, msg] of bad) {
      expect(() => indexSets(s, 'opts.resample', table, 10)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(msg) }));
    }
  });
});

describe('scaling.resampleFit', () => {
  const runs = scaling.chinchillaRuns();
  const grid = { a: [6], b: [7.5], e: [0.6], alpha: [0.35], beta: [0.36] };

  test('subsampling the Chinchilla runs: the spread is rescaled to the full sample', async () => {
    const r = await scaling.resampleFit(runs, { grid, resample: { scheme: 'subsample', resamples: 40, seed: 2, fraction: 0.5 } });
    const s = r.resampling;
    expect(s.scheme).toBe('subsample');
    expect(s.size).toBe(120);
    expect(s.failed).toBe(0);
    const raw = s.samples.alpha!;
    let m = 0;
    for (const v of raw) m += v / raw.length;
    let sd = 0;
    for (const v of raw) sd += (v - m) ** 2 / (raw.length - 1);
    expect(s.stdErr.alpha!).toBeCloseTo(Math.sqrt(sd) * Math.sqrt(120 / 120), 12);
    expect(s.estimate.alpha).toBe(r.fit.params.alpha);
    expect(s.intervals.a![0]).toBeLessThan(s.estimate.a!);
    expect(s.intervals.a![1]).toBeGreaterThan(s.estimate.a!);
    // Same seed, same refits.
    const again = await scaling.resampleFit(runs, { grid, resample: { scheme: 'subsample', resamples: 40, seed: 2, fraction: 0.5 } });
    expect(Array.from(again.resampling.samples.beta!)).toEqual(Array.from(s.samples.beta!));
  });

  test('leave one study out of a Chinchilla-law fit to the isoFLOP points', async () => {
    const t = scaling.isoflopRuns({ dropOutliers: true });
    const r = await scaling.resampleFit(t, { grid, resample: { scheme: 'leave-one-group-out', groups: 'source' } });
    expect(r.resampling.groups!.length).toBe(5);
    expect(r.resampling.resamples).toBe(5);
    expect(r.fit.runs).toBe(t.N.length);
    for (const q of ['A', 'B', 'E', 'alpha', 'beta', 'a', 'tokensPerParam']) expect(r.resampling.samples[q]!.length).toBe(5);
    expect(r.resampling.stdErr.alpha!).toBeGreaterThan(0);
  });

  test('derived quantities follow the compute model', async () => {
    const resample = { scheme: 'subsample', resamples: 3, seed: 4 } as const;
    const six = await scaling.resampleFit(runs, { grid, resample });
    const twelve = await scaling.resampleFit(runs, { grid, resample, computeModel: { flopsPerToken: (N) => 12 * N } });
    // f = 12N at C is 6ND at C/2.
    expect(twelve.resampling.estimate.nOpt! / scaling.computeOptimal(six.fit.params, 5.76e23 / 2).N).toBeCloseTo(1, 8);
    expect(twelve.resampling.estimate.a).toBeCloseTo(six.resampling.estimate.a!, 6);
    await expect(scaling.resampleFit(runs, { grid, resample, computeModel: { kind: 'x' } as never })).rejects.toThrow(/opts.computeModel.kind/);
  });

  test('option checks', async () => {
    await expect(scaling.resampleFit(runs, { grid } as never)).rejects.toThrow(/opts.resample/);
    await expect(scaling.resampleFit(runs, { grid, resample: { scheme: 'bootstrap', resamples: 1, seed: 1 }, bootstrap: { resamples: 1, seed: 1 } } as never)).rejects.toThrow(
      "unknown option 'bootstrap' in opts",
    );
    await expect(scaling.resampleFit(runs, { grid, resampel: {} } as never)).rejects.toThrow("did you mean 'resample'?");
    await expect(scaling.resampleFit(runs, { grid, resample: { scheme: 'bootstrap', resamples: 1, seed: 1 }, gridPerResample: 1 } as never)).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('opts.gridPerResample') }),
    );
  });
});
