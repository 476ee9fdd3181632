import { scaling } from '../lib';

const ok = () => ({ N: new Float64Array([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9]), D: new Float64Array([1e9, 3e9, 1e10, 3e10, 1e11, 3e11]), loss: new Float64Array([3.9, 3.5, 3.1, 2.9, 2.7, 2.5]) });

describe('scaling.fit input validation', () => {
  test.each([
    ['negative N', { N: -1 }, RangeError, /data\.N\[0\] must be a finite number > 0/],
    ['zero D', { D: 0 }, RangeError, /data\.D\[0\] must be a finite number > 0/],
    ['NaN loss', { loss: NaN }, RangeError, /data\.loss\[0\]/],
    ['infinite N', { N: Infinity }, RangeError, /data\.N\[0\]/],
  ])('%s', async (_name, patch, type, msg) => {
    const d = ok();
    const [key, v] = Object.entries(patch)[0]! as ['N' | 'D' | 'loss', number];
    d[key][0] = v;
    await expect(scaling.fit(d)).rejects.toThrow(type);
    await expect(scaling.fit(d)).rejects.toThrow(msg);
  });

  test('mismatched lengths', async () => {
    const d = ok();
    await expect(scaling.fit({ ...d, D: d.D.subarray(1) })).rejects.toThrow(/same length/);
  });

  test('fewer runs than parameters', async () => {
    const d = ok();
    const four = { N: d.N.subarray(0, 4), D: d.D.subarray(0, 4), loss: d.loss.subarray(0, 4) };
    await expect(scaling.fit(four)).rejects.toThrow(new RangeError('data must hold at least 5 runs, one per fitted parameter (got 4)'));
    const five = { N: d.N.subarray(0, 5), D: d.D.subarray(0, 5), loss: d.loss.subarray(0, 5) };
    await expect(scaling.fit(five, { objective: 'huber-likelihood' })).rejects.toThrow(/at least 6 runs/);
    await expect(scaling.fit(four, { law: 'kaplan-nd', grid: [[30, 30, 0.1, 0.1]] })).resolves.toBeDefined();
  });

  test('wrong types', async () => {
    await expect(scaling.fit({ N: 'x', D: [1], loss: [1] } as never)).rejects.toThrow(TypeError);
    await expect(scaling.fit({ ...ok(), N: [1, 2, 3, 4, 5, '6'] } as never)).rejects.toThrow(/data\.N\[5\] must be a finite number > 0 \(got "6"\)/);
    await expect(scaling.fit(null as never)).rejects.toThrow(TypeError);
    await expect(scaling.fit(ok(), { law: 'kaplan' as never })).rejects.toThrow(RangeError);
    await expect(scaling.fit(ok(), { objective: 'l1' as never })).rejects.toThrow(/opts\.objective/);
  });

  test('options', async () => {
    await expect(scaling.fit(ok(), { delta: 0 })).rejects.toThrow(/opts\.delta must be a finite number > 0/);
    await expect(scaling.fit(ok(), { grid: [[1, 2, 3]] })).rejects.toThrow(/opts\.grid\[0\] must be an array of 5 numbers/);
    await expect(scaling.fit(ok(), { grid: new Float64Array(7) })).rejects.toThrow(/rows of 5 values/);
    await expect(scaling.fit(ok(), { grid: { a: [1] } })).rejects.toThrow(/opts\.grid\.b/);
    await expect(scaling.fit(ok(), { grid: [[1, 2, NaN, 0, 0]] })).rejects.toThrow(/opts\.grid\[0\]\[2\] must be a finite number/);
    await expect(scaling.fit(ok(), { bootstrap: { resamples: -1, seed: 1 } })).rejects.toThrow(/opts\.bootstrap\.resamples/);
    await expect(scaling.fit(ok(), { bootstrap: { resamples: 2, seed: 1.5 } })).rejects.toThrow(/opts\.bootstrap\.seed/);
    await expect(scaling.fit(ok(), { bootstrap: { resamples: 2, seed: 1, level: 1 } })).rejects.toThrow(/level/);
    await expect(scaling.fit(ok(), { maxIterations: 0 })).rejects.toThrow(/opts\.maxIterations/);
    await expect(scaling.fit(ok(), { backend: 'tpu' as never })).rejects.toThrow(/opts\.backend/);
  });

  test('a user grid of axes is the Cartesian product', async () => {
    const r = await scaling.fit(ok(), { grid: { a: [0, 5], b: [0, 5, 10], e: [0], alpha: [0.5], beta: [0.5] }, objective: 'mse' });
    expect(r.starts).toBe(6);
    expect(r.bestStart).toBeGreaterThanOrEqual(0);
  });
});

describe('closed forms', () => {
  const p = { A: 406.4, B: 410.7, E: 1.69, alpha: 0.34, beta: 0.28 };

  test('predict', () => {
    expect(scaling.predict(p, 70e9, 1.4e12)).toBeCloseTo(1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28, 12);
    const v = scaling.predict(p, new Float64Array([1e9, 1e10]), [2e10, 2e11]);
    expect(Object.prototype.toString.call(v)).toBe('[object Float64Array]');
    expect(v[1]).toBeCloseTo(scaling.predict(p, 1e10, 2e11), 14);
    const k = { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
    expect(scaling.predict(k, 1e9, 1e10)).toBeCloseTo(((8.8e13 / 1e9) ** (0.076 / 0.095) + 5.4e13 / 1e10) ** 0.095, 12);
    expect(() => scaling.predict(p, -1, 1)).toThrow(RangeError);
    expect(() => scaling.predict(p, [1, 2], [1])).toThrow(/same length/);
  });

  test('computeOptimal matches the formulas of docs/scaling-laws.md §4 and C = 6ND', () => {
    const C = 5.76e23;
    const r = scaling.computeOptimal(p, C);
    const G = ((p.alpha * p.A) / (p.beta * p.B)) ** (1 / (p.alpha + p.beta));
    expect(r.a).toBeCloseTo(p.beta / (p.alpha + p.beta), 14);
    expect(r.N / (G * (C / 6) ** r.a)).toBeCloseTo(1, 12);
    expect((6 * r.N * r.D) / C).toBeCloseTo(1, 12);
    expect(r.tokensPerParam).toBeCloseTo(r.D / r.N, 10);
    // The optimum minimises predicted loss along the iso-FLOP curve.
    const at = (n: number) => scaling.predict(p, n, C / (6 * n));
    expect(at(r.N)).toBeLessThan(at(r.N * 1.01));
    expect(at(r.N)).toBeLessThan(at(r.N / 1.01));
    expect(() => scaling.computeOptimal(p, 0)).toThrow(/C must be a finite number > 0/);
  });

  test('Kaplan/Su training dynamics', () => {
    const ns = { Nc: 6.5e13, Sc: 2.1e3, alphaN: 0.077, alphaS: 0.76 };
    expect(scaling.lossNS(ns, 1e9, 1e5)).toBeCloseTo((6.5e13 / 1e9) ** 0.077 + (2.1e3 / 1e5) ** 0.76, 12);
    expect(scaling.lossNS(ns, [1e9, 1e10], new Float64Array([1e5, 1e5]))[1]).toBeCloseTo(scaling.lossNS(ns, 1e10, 1e5), 12);
    const b = scaling.criticalBatchSize(3, { bStar: 2e8, alphaB: 0.21 });
    expect(b).toBeCloseTo(2e8 / 3 ** (1 / 0.21), 6);
    expect(scaling.criticalBatchSize(3)).toBeCloseTo(b, 6);
    expect(scaling.minSteps(1000, 512, 512)).toBeCloseTo(500, 12);
    expect(scaling.minExamples(1e6, 512, 512)).toBeCloseTo(5e5, 12);
    expect(() => scaling.minSteps(1000, 0, 1)).toThrow(/batchSize/);
    expect(() => scaling.criticalBatchSize(-1)).toThrow(/loss/);
  });
});
