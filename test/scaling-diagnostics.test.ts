import * as fs from 'fs';
import * as path from 'path';
import { scaling } from '../lib';
import { FIT_KEYS } from '../lib/scaling/fit';
import { chiSquareSf, erf, lnGamma, normalQuantile, symmetricEigenvalues } from '../lib/scaling/stats';
import { LegacyRandomState } from './helpers/numpyLegacy';
import { rng } from './helpers/rng';

const nameOf = (w: string) => w.slice(0, w.indexOf(':'));

/** Hoffmann et al. (2022)'s unrounded values, as in Epoch's notebook (raw: ln A, ln B, ln E, α, β). */
const HOFFMANN_RAW = [6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083];
const HOFFMANN = { A: Math.exp(HOFFMANN_RAW[0]!), B: Math.exp(HOFFMANN_RAW[1]!), E: Math.exp(HOFFMANN_RAW[2]!), alpha: HOFFMANN_RAW[3]!, beta: HOFFMANN_RAW[4]! };

/** The Chinchilla table in file order (as Epoch's notebook holds it), D = C/(6N), and its 240 kept rows. */
function epochTable() {
  const { header, rows } = scaling.parseCsv(fs.readFileSync(scaling.CHINCHILLA_CSV, 'utf8'));
  const iN = header.indexOf('Model Size');
  const iC = header.indexOf('Training FLOP');
  const iL = header.indexOf('loss');
  const N = Float64Array.from(rows, (r) => Number(r[iN]));
  const data = { N, D: Float64Array.from(rows, (r, i) => Number(r[iC]) / (6 * N[i]!)), loss: Float64Array.from(rows, (r) => Number(r[iL])) };
  const sorted = Array.from(data.loss).sort((a, b) => a - b);
  const cut = sorted[sorted.length - 5]!;
  const kept = Array.from(data.loss.keys()).filter((i) => data.loss[i]! < cut);
  return { data, kept };
}

describe('special functions (float64 references)', () => {
  test('χ² tail: closed forms for even df, published values', () => {
    const r = rng(7);
    for (let t = 0; t < 200; t++) {
      const k = 1 + Math.floor(r() * 6);
      const x = r() * 60;
      // P(χ²(2k) > x) = e^{−x/2} Σ_{j<k} (x/2)^j / j!
      let term = 1;
      let sum = 1;
      for (let j = 1; j < k; j++) {
        term *= x / 2 / j;
        sum += term;
      }
      const want = Math.exp(-x / 2) * sum;
      expect(Math.abs(chiSquareSf(x, 2 * k) - want)).toBeLessThanOrEqual(1e-13 * Math.max(want, 1e-300) + 1e-300);
    }
    expect(chiSquareSf(11.070497693516351, 5)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(1, 1)).toBeCloseTo(0.31731050786291415, 13);
    // Epoch's notebook: χ²(5) = 238.40 → p 1.69e-49; λ = 84.00 → 1.22e-16.
    expect(chiSquareSf(238.4, 5) / 1.69e-49).toBeCloseTo(1, 1);
    expect(chiSquareSf(84.0, 5) / 1.22e-16).toBeCloseTo(1, 1);
    expect(chiSquareSf(0, 5)).toBe(1);
  });

  test('erf, ln Γ, Φ⁻¹ and the symmetric eigen-solver', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 15);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 12);
    for (const p of [1e-10, 0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 1 - 1e-9]) {
      const x = normalQuantile(p);
      expect(0.5 * (1 + erf(x / Math.SQRT2))).toBeCloseTo(p, 14);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    // Eigenvalues of a random symmetric matrix: their sum is the trace, their product the determinant (3×3).
    const r = rng(3);
    const S = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = i; j < 3; j++) S[i * 3 + j] = S[j * 3 + i] = r() - 0.5;
    const ev = symmetricEigenvalues(S, 3);
    const det = S[0]! * (S[4]! * S[8]! - S[5]! * S[7]!) - S[1]! * (S[3]! * S[8]! - S[5]! * S[6]!) + S[2]! * (S[3]! * S[7]! - S[4]! * S[6]!);
    expect(ev[0]! + ev[1]! + ev[2]!).toBeCloseTo(S[0]! + S[4]! + S[8]!, 13);
    expect(ev[0]! * ev[1]! * ev[2]!).toBeCloseTo(det, 13);
    expect(ev[0]!).toBeLessThanOrEqual(ev[1]!);
  });
});

describe('numpy legacy generator (test helper)', () => {
  test('MT19937 seeded 42 gives numpy’s first draws', () => {
    // np.random.seed(42); np.random.randint(0, 2**32, size=3, dtype=np.uint64) → these (masked, full range)
    const r = new LegacyRandomState(42);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([1608637542, 3421126067, 4083286876]);
    // np.random.seed(0); np.random.choice(10, 5) → [5, 0, 3, 3, 7]
    expect(Array.from(new LegacyRandomState(0).choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5))).toEqual([5, 0, 3, 3, 7]);
  });
});

describe('scaling.diagnostics', () => {
  const runs = scaling.chinchillaRuns();

  test('residuals and R² match a float64 reference on the Chinchilla fit', async () => {
    const f = await scaling.fit(runs);
    const d = scaling.diagnostics(f, runs);
    expect(d.runs).toBe(240);
    let m = 0;
    for (const l of runs.loss) m += l;
    m /= 240;
    let ssr = 0;
    let sst = 0;
    for (let i = 0; i < 240; i++) {
      const p = f.params;
      const pred = p.E + p.A / runs.N[i]! ** p.alpha + p.B / runs.D[i]! ** p.beta;
      expect(Math.abs(d.predicted[i]! - pred)).toBeLessThan(1e-12 * pred);
      expect(Math.abs(d.residuals[i]! - (runs.loss[i]! - pred))).toBeLessThan(1e-12);
      expect(Math.abs(d.logResiduals[i]! - (Math.log(pred) - Math.log(runs.loss[i]!)))).toBeLessThan(1e-12);
      ssr += (runs.loss[i]! - pred) ** 2;
      sst += (runs.loss[i]! - m) ** 2;
    }
    expect(d.rSquared).toBeCloseTo(1 - ssr / sst, 12);
    expect(d.rmse).toBeCloseTo(Math.sqrt(ssr / 240), 12);
    expect(d.warnings).toEqual([]);
    expect(d.conditionNumber).toBeGreaterThan(1);
    expect(d.conditionNumber).toBeLessThan(1e6);
    expect(d.distinct.budgets).toBeGreaterThan(5);
  });

  test('datablations: R² of the base form at their fitted values is 0.4452 (their notebook: 0.4451684378759986)', () => {
    const t = scaling.tableFromCsv(fs.readFileSync(path.join(__dirname, '..', 'data', 'scaling', 'datablations_fit_runs.csv'), 'utf8'));
    const data = { N: t.params as Float64Array, D: t.tokens as Float64Array, loss: t.val_loss as Float64Array };
    expect(data.N.length).toBe(182);
    // utils/parametric_fit.ipynb, "No decay": a, b, e, α, β = 6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596
    const p = { A: Math.exp(6.255414), B: Math.exp(7.3049974), E: Math.exp(0.6254804), alpha: 0.3526596, beta: 0.3526596 };
    const d = scaling.diagnostics(p, data);
    expect(Math.abs(d.rSquared - 0.4451684378759986)).toBeLessThan(1e-9);
    // Their data-constrained law at the published R_D* = 15.387756, R_N* = 5.309743 (a float64 transcription of
    // the notebook's "Default" cell), given as predictions: 0.7722046084968408.
    const U = t.unique_tokens as Float64Array;
    const G = ((p.alpha * p.A) / (p.beta * p.B)) ** (1 / (p.alpha + p.beta));
    const aExp = p.beta / (p.alpha + p.beta);
    const bExp = p.alpha / (p.alpha + p.beta);
    const [rdStar, rnStar] = [15.387756, 5.309743];
    const pred = Float64Array.from(data.N, (N, i) => {
      const D = data.D[i]!;
      const u = U[i]!;
      const C = (G * u) ** (1 / bExp) * 6;
      const UN = Math.min(N, G * (C / 6) ** aExp);
      const rd = Math.max(D / u - 1, 0);
      const rn = Math.max(N / UN - 1, 0);
      return p.E + p.A / (UN + UN * rnStar * (1 - Math.exp(-rn / rnStar))) ** p.alpha + p.B / (u + u * rdStar * (1 - Math.exp(-rd / rdStar))) ** p.beta;
    });
    const dc = scaling.diagnostics(p, data, { predicted: pred });
    expect(Math.abs(dc.rSquared - 0.7722046084968408)).toBeLessThan(1e-9);
    expect(dc.conditionNumber).toBeUndefined();
  });

  (FIT_KEYS.includes('tie') ? test : test.skip)('datablations: the data-constrained law at the published R_D*, R_N* through predict with U gives R² 0.77220', () => {
    const t = scaling.tableFromCsv(fs.readFileSync(path.join(__dirname, '..', 'data', 'scaling', 'datablations_fit_runs.csv'), 'utf8'));
    const data = { N: t.params as Float64Array, D: t.tokens as Float64Array, loss: t.val_loss as Float64Array, U: t.unique_tokens as Float64Array };
    const p = { A: Math.exp(6.255414), B: Math.exp(7.3049974), E: Math.exp(0.6254804), alpha: 0.3526596, beta: 0.3526596, rdStar: 15.387756, rnStar: 5.309743 };
    const d = scaling.diagnostics(p as scaling.ChinchillaParams, data);
    expect(Math.abs(d.rSquared - 0.7722046084968408)).toBeLessThan(1e-6);
    expect(d.conditionNumber).toBeUndefined();
    expect(() => scaling.diagnostics(p as scaling.ChinchillaParams, { N: data.N, D: data.D, loss: data.loss })).toThrow(/data.U/);
  });

  test('degenerate inputs give named warnings', () => {
    const p = { A: 400, B: 400, E: 1.7, alpha: 0.3, beta: 0.3 };
    const n = 12;
    const oneN = {
      N: new Float64Array(n).fill(1e9),
      D: Float64Array.from({ length: n }, (_, i) => 1e10 * (1 + i)),
      loss: Float64Array.from({ length: n }, (_, i) => 2 + 1 / (1 + i)),
    };
    const a = scaling.diagnostics(p, oneN);
    expect(a.warnings.map(nameOf)).toEqual(['flat-direction', 'few-distinct-N']);
    expect(a.warnings[0]).toMatch(/^flat-direction: the scaled Jacobian of ln L̂ has condition number/);
    // All runs at one budget: N and D vary together.
    const oneC = {
      N: Float64Array.from({ length: n }, (_, i) => 1e8 * 1.5 ** i),
      D: Float64Array.from({ length: n }, (_, i) => 1e21 / (6 * 1e8 * 1.5 ** i)),
      loss: Float64Array.from({ length: n }, (_, i) => 2.5 + 0.01 * (i - 6) ** 2),
    };
    expect(scaling.diagnostics(p, oneC).warnings.map(nameOf)).toContain('single-budget');
    const two = { N: Float64Array.of(1e8, 1e9, 1e8, 1e9), D: Float64Array.of(1e9, 1e9, 1e10, 1e10), loss: Float64Array.of(3, 2.8, 2.7, 2.5) };
    const names = scaling.diagnostics(p, two).warnings.map(nameOf);
    expect(names).toContain('few-distinct-N');
    expect(names).toContain('few-distinct-D');
    // Bounds: E at its upper bound.
    const b = scaling.diagnostics(p, runs, { bounds: { E: [0, 1.7] } });
    expect(b.warnings.map(nameOf)).toEqual(['at-bound']);
    expect(() => scaling.diagnostics(p, runs, { bounds: { F: [0, 1] } })).toThrow(/names no parameter 'F'/);
    // NaN columns are an error naming the entry.
    const bad = { ...two, loss: Float64Array.of(3, NaN, 2.7, 2.5) };
    expect(() => scaling.diagnostics(p, bad)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.loss[1]') }));
    expect(() => scaling.diagnostics(p, runs, { predicted: [1, 2] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  test('a fit that stopped without converging is flagged', async () => {
    const f = await scaling.fit(runs, { maxIterations: 2, grid: [[6, 6, 0.5, 0.3, 0.3]] });
    expect(f.converged).toBe(false);
    expect(scaling.diagnostics(f, runs).warnings.map(nameOf)).toContain('not-converged');
  });
});

describe("Besiroglu et al. (2024)'s tests against Hoffmann et al.'s values", () => {
  const { data, kept } = epochTable();
  const sub = { N: Float64Array.from(kept, (i) => data.N[i]!), D: Float64Array.from(kept, (i) => data.D[i]!), loss: Float64Array.from(kept, (i) => data.loss[i]!) };

  test('likelihood ratio λ = 84.00 (their notebook; ℓ = 879.77 vs 837.78)', async () => {
    const f = await scaling.fit(sub, { objective: 'huber-likelihood' });
    const r = scaling.likelihoodRatioTest(f, HOFFMANN, sub);
    expect(r.logLikelihood.fit).toBeCloseTo(879.77, 2);
    expect(r.logLikelihood.reference).toBeCloseTo(837.78, 2);
    expect(r.statistic).toBeCloseTo(84.0, 1);
    expect(r.df).toBe(5);
    expect(r.pValue / 1.22e-16).toBeCloseTo(1, 1);
    // The fitted σ matches the fit's own (−12.2666 in their notebook).
    expect(r.sigma.fit).toBeCloseTo(f.sigma!, 5);
    expect(r.sigma.reference).toBeCloseTo(-12.091631918339315, 4);
  });

  test("χ²(5) = 238.4 with their procedure: numpy seed 42, 4000 resamples, Huber-sum refits from Hoffmann's values", async () => {
    const rs = new LegacyRandomState(42);
    const sets = Array.from({ length: 4000 }, () => rs.choice(kept, kept.length));
    const boot = await scaling.resampleFit(data, { grid: [HOFFMANN_RAW], gridPerResample: true, resample: { scheme: 'given', sets } });
    expect(boot.resampling.failed).toBe(0);
    const f = await scaling.fit(sub, { objective: 'huber-likelihood' });
    const t = scaling.parameterTest(f, HOFFMANN, boot.resampling);
    // Difference printed by the notebook: [-0.17061558 -1.62481376 -0.07038916 -0.00864219 -0.08094582]
    const want = [-0.17061558, -1.62481376, -0.07038916, -0.00864219, -0.08094582];
    want.forEach((w, j) => expect(Math.abs(t.difference[j]! - w)).toBeLessThan(2e-6));
    // Their standard errors of (ln A, ln B, ln E, α, β): 0.258, 0.421, 0.014, 0.015, 0.021.
    const se = [0.258, 0.421, 0.014, 0.015, 0.021];
    se.forEach((s, j) => expect(Math.sqrt(t.covariance[j * 6]!)).toBeCloseTo(s, 3));
    // 238.83 here: the same resamples, L-BFGS instead of BFGS for the refits.
    expect(Math.abs(t.statistic - 238.4)).toBeLessThan(1);
    expect(t.resamples).toBe(4000);
  });
});

describe('bad input', () => {
  const p = { A: 400, B: 400, E: 1.7, alpha: 0.3, beta: 0.3 };
  test('coded errors naming the argument', () => {
    expect(() => scaling.diagnostics(null as never, scaling.chinchillaRuns())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('fit') }));
    expect(() => scaling.diagnostics(p, { N: [1], D: [1] } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('data.loss') }));
    expect(() => scaling.parameterTest(p, p, { A: [1, 2] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('samples') }));
    expect(() => scaling.likelihoodRatioTest(p, { A: 1 } as never, scaling.chinchillaRuns())).toThrow(/reference must hold Chinchilla parameters/);
    expect(() => scaling.likelihoodRatioTest(p, p, scaling.chinchillaRuns(), { delta: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});
