// Data-constrained law, constraints (fix / tie / bounds), weights, custom laws, bootstrap objective, degenerate
// inputs (issue #12). References: the datablations README and notebook (huggingface/datablations @ 1370131),
// float64 scipy refits of the same rows (bench/datablations_scipy.py, bench/datablations_tied_scipy.py), and the
// plain float64 formulas below.
import * as fs from 'fs';
import * as path from 'path';
import { scaling } from '../lib';
import { chinchillaLogPred, huber, huberObjective } from './helpers/scalingReference';

// datablations' C4 base fit (tied α = β), held fixed in their data-constrained fit.
const BASE = { A: Math.exp(6.255414), B: Math.exp(7.3049974), E: Math.exp(0.6254804), alpha: 0.3526596, beta: 0.3526596 };
const db = scaling.datablationsRuns();

/** Their README's scaling_law(N, D, U), verbatim in float64. */
function readmeLaw(p: typeof BASE & { rdStar: number; rnStar: number }, N: number, D: number, U: number): number {
  const G = ((p.alpha * p.A) / (p.beta * p.B)) ** (1 / (p.alpha + p.beta));
  const DtoN = (d: number) => (d * G) ** (p.beta / p.alpha) * G;
  const RD = Math.max(D / U - 1, 0);
  const UN = Math.min(N, DtoN(U));
  const RN = Math.max(N / UN - 1, 0);
  return p.E + p.A / (UN + UN * p.rnStar * (1 - Math.exp((-1 * RN) / p.rnStar))) ** p.alpha +
    p.B / (U + U * p.rdStar * (1 - Math.exp((-1 * RD) / p.rdStar))) ** p.beta;
}

/** Σ Huber_δ(log L̂ − log L) of the data-constrained law, from readmeLaw. */
function dcObjective(p: typeof BASE & { rdStar: number; rnStar: number }, d: typeof db, delta = 1e-3): number {
  let f = 0;
  for (let i = 0; i < d.N.length; i++) f += huber(Math.log(readmeLaw(p, d.N[i]!, d.D[i]!, d.U[i]!)) - Math.log(d.loss[i]!), delta);
  return f;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('data-constrained law (Muennighoff et al. 2023)', () => {
  test('the README forward evaluations, exactly', () => {
    const p = { ...BASE, rdStar: 15.387756, rnStar: 5.309743 };
    // README: 2.2256440889984477 and 2.2269634075087867 (numpy float64)
    expect(rel(scaling.predict(p, 6.34e9, 242e9, 25e9), 2.2256440889984477)).toBeLessThanOrEqual(4.5e-16);
    expect(rel(scaling.predict(p, 8.67e9, 178e9, 25e9), 2.2269634075087867)).toBeLessThanOrEqual(4.5e-16);
    const v = scaling.predict(p, db.N, db.D, db.U);
    for (let i = 0; i < db.N.length; i++) expect(rel(v[i]!, readmeLaw(p, db.N[i]!, db.D[i]!, db.U[i]!))).toBeLessThan(1e-14);
  });

  test('their fit on the 182 bundled runs: R_D*, R_N* with the base parameters fixed', async () => {
    expect(db.N.length).toBe(182);
    const r = await scaling.fit(db, { law: 'data-constrained', fix: BASE });
    // default grid projected on (rdStar, rnStar): {20/3, 40/3, 20}², their linspace(0, 20, 4) without the 0 start
    expect(r.starts).toBe(9);
    expect(r.warnings).toEqual([]);
    // scipy L-BFGS-B float64 refit of the same rows and procedure (bench/datablations_scipy.py): from 8 of its 9
    // starts R_D* 15.371758, R_N* 5.315126, Huber sum 0.015825932069110; every start lands there here.
    expect(rel(r.params.rdStar, 15.371758)).toBeLessThan(1e-5);
    expect(rel(r.params.rnStar, 5.315126)).toBeLessThan(1e-5);
    expect(rel(r.objective, 0.01582593206911)).toBeLessThan(1e-10);
    // Published (README, torch float32 L-BFGS): 15.387756, 5.309743, Huber 0.015825936570763588. The float32 fit
    // stopped 1.0e-3 (R_D*) and 1.0e-3 (R_N*) relative short in a flat valley: paper digits 15.39 vs 15.37, 5.31 vs 5.32.
    expect(Math.abs(r.params.rdStar - 15.387756)).toBeLessThan(0.02);
    expect(Math.abs(r.params.rnStar - 5.309743)).toBeLessThan(0.006);
    const published = dcObjective({ ...BASE, rdStar: 15.387756, rnStar: 5.309743 }, db);
    expect(rel(published, 0.015825936570763588)).toBeLessThan(1e-6);  // same rows as theirs
    expect(published).toBeGreaterThan(r.objective);
    expect(rel(published, r.objective)).toBeLessThan(3e-7);
    // the native objective is the float64 README formula's
    expect(rel(dcObjective(r.params, db), r.objective)).toBeLessThan(1e-12);
  });

  test('a lower optimum of the same objective (scipy from the start (20, 20/3)) is reached from its basin', async () => {
    const r = await scaling.fit(db, { law: 'data-constrained', fix: BASE, grid: [[45, 2.5]] });
    // scipy: R_D* 46.99111935, R_N* 2.329564418, Huber 0.0158073785720. The native fit runs to the tight tolerances
    // (the data-constrained law keeps them) and stops on its gradient test at R_D* 46.99029, Huber 8e-14 below
    // scipy's: the valley is flat along R_D*, so 1.8e-5 relative separates two stopping points of one optimum.
    expect(rel(r.params.rdStar, 46.99111935)).toBeLessThan(3e-5);
    expect(rel(r.params.rnStar, 2.329564418)).toBeLessThan(1e-5);
    expect(rel(r.objective, 0.015807378572)).toBeLessThan(1e-9);
  });

  test('random data from a known law (41 runs, all 7 parameters free) is recovered', async () => {
    const truth = { A: 300, B: 900, E: 1.8, alpha: 0.32, beta: 0.29, rdStar: 12, rnStar: 4 };
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const n = 41;
    const N = new Float64Array(n), D = new Float64Array(n), U = new Float64Array(n), loss = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      N[i] = 10 ** (7 + 3 * rnd());
      U[i] = 10 ** (8 + 3 * rnd());
      D[i] = U[i]! * (1 + 40 * rnd() ** 2);
      loss[i] = readmeLaw(truth, N[i]!, D[i]!, U[i]!);
    }
    const d = { N, D, U, loss };
    const r = await scaling.fit(d, {
      law: 'data-constrained',
      grid: { a: [5, 6], b: [6, 7], e: [0.5], alpha: [0.3], beta: [0.3], rdStar: [5, 20], rnStar: [3, 10] },
    });
    expect(r.objective).toBeLessThan(1e-12);
    for (const k of ['A', 'B', 'E', 'alpha', 'beta', 'rdStar', 'rnStar'] as const) expect(rel(r.params[k], truth[k])).toBeLessThan(1e-4);
  });

  test('data.U is required, and U ≤ D', async () => {
    await expect(scaling.fit({ N: db.N, D: db.D, loss: db.loss }, { law: 'data-constrained' })).rejects.toMatchObject({
      name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.U'),
    });
    const U = Float64Array.from(db.U);
    U[3] = db.D[3]! * 2;
    await expect(scaling.fit({ ...db, U }, { law: 'data-constrained', fix: BASE })).rejects.toMatchObject({
      name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.U[3]'),
    });
    expect(() => scaling.predict({ ...BASE, rdStar: 15, rnStar: 5 }, 1e9, 1e9, 2e9)).toThrow(RangeError);
  });
});

/** The runs of datablations_all_runs.csv with D/U ≤ 2.5 epochs (62): the notebook's tied α = β fits (cell 16). */
function allRunsUpTo(epochs: number) {
  const { header, rows } = scaling.parseCsv(fs.readFileSync(path.join(__dirname, '..', 'data', 'scaling', 'datablations_all_runs.csv'), 'utf8'));
  const c = (name: string) => header.indexOf(name);
  const keep = rows.filter((r) => Number(r[c('tokens')]) / Number(r[c('unique_tokens')]) <= epochs);
  const col = (name: string) => Float64Array.from(keep, (r) => Number(r[c(name)]));
  return { N: col('params'), D: col('tokens'), loss: col('val_loss') };
}
const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe('constraints: tie, fix, bounds', () => {
  const runs62 = allRunsUpTo(2.5);

  test('tied α = β on the 62 runs ≤ 2.5 epochs reproduces the notebook', async () => {
    expect(runs62.N.length).toBe(62);
    const grid = { a: linspace(0, 25, 5), b: linspace(0, 25, 5), e: linspace(-1, 1, 4), alpha: linspace(0, 2, 4) };
    const r = await scaling.fit(runs62, { tie: [['alpha', 'beta']], grid });
    expect(r.starts).toBe(400);
    const th = Array.from(r.theta);
    expect(th[3]).toBe(th[4]);
    // scipy float64 refit (bench/datablations_tied_scipy.py): a b e α = 6.45393864 8.02423619 0.64003523 0.35960874,
    // Huber 0.00121893867557
    [6.45393864, 8.02423619, 0.64003523, 0.35960874].forEach((v, j) => expect(rel(th[j]!, v)).toBeLessThan(2e-5));
    expect(rel(r.objective, 0.00121893867557)).toBeLessThan(1e-9);
    // notebook (torch float32): [6.4526014, 8.022968, 0.63987476, 0.3595363]
    [6.4526014, 8.022968, 0.63987476, 0.3595363].forEach((v, j) => expect(rel(th[j]!, v)).toBeLessThan(5e-4));
    expect(rel(huberObjective(th, runs62.N, runs62.D, runs62.loss), r.objective)).toBeLessThan(1e-12);
  });

  test('tied α = β with E fixed to 1.69 reproduces the notebook', async () => {
    const grid = { a: linspace(0, 25, 5), b: linspace(0, 25, 5), alpha: linspace(0, 2, 4) };
    const r = await scaling.fit(runs62, { tie: [['alpha', 'beta']], fix: { E: 1.69 }, grid });
    expect(r.params.E).toBeCloseTo(1.69, 12);
    // scipy: a b α = 5.82787982 7.22169764 0.31706031, Huber 0.00149517473247; notebook: 5.827585, 7.2217255, 0.31705543
    const th = Array.from(r.theta);
    [5.82787982, 7.22169764, 0.31706031].forEach((v, j) => expect(rel(th[[0, 1, 3][j]!]!, v)).toBeLessThan(2e-5));
    [5.827585, 7.2217255, 0.31705543].forEach((v, j) => expect(rel(th[[0, 1, 3][j]!]!, v)).toBeLessThan(2e-4));
    expect(rel(r.objective, 0.00149517473247)).toBeLessThan(1e-9);
  });

  test('the default grid is projected on the free parameters', async () => {
    const r = await scaling.fit(runs62, { tie: [['alpha', 'beta']], fix: { E: 1.69 } });
    expect(r.starts).toBe(6 * 6 * 5);
    const all = await scaling.fit(runs62, { fix: { A: 500, B: 2000, E: 1.69, alpha: 0.3, beta: 0.3 } });
    expect(all.starts).toBe(1);
    expect(rel(all.objective, huberObjective([Math.log(500), Math.log(2000), Math.log(1.69), 0.3, 0.3], runs62.N, runs62.D, runs62.loss))).toBeLessThan(1e-12);
  });

  test('bounds hold, and an interior optimum is unchanged by loose bounds', async () => {
    const runs = scaling.chinchillaRuns();
    const free = await scaling.fit(runs);
    const loose = await scaling.fit(runs, { bounds: { alpha: [0, 2], E: [0.5, 5] } });
    expect(rel(loose.objective, free.objective)).toBeLessThan(1e-6);
    const tight = await scaling.fit(runs, { bounds: { alpha: [0.2, 0.3] } });
    expect(tight.params.alpha).toBeLessThanOrEqual(0.3);
    expect(tight.params.alpha).toBeGreaterThan(0.299);  // the optimum 0.347 is outside: it sits on the bound
    expect(tight.objective).toBeGreaterThan(free.objective);
  });

  test('bad constraints are RangeErrors naming the option', async () => {
    const runs = scaling.chinchillaRuns();
    await expect(scaling.fit(runs, { fix: { gamma: 1 } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining("unknown parameter 'gamma'") });
    await expect(scaling.fit(runs, { fix: { A: -1 } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(scaling.fit(runs, { tie: [['A', 'alpha']] })).rejects.toMatchObject({ message: expect.stringContaining('different scales') });
    await expect(scaling.fit(runs, { tie: [['alpha', 'beta']], grid: { a: [1], b: [1], e: [0], alpha: [0.3], beta: [0.3] } })).rejects.toMatchObject({
      message: expect.stringContaining("'beta' is tied to 'alpha'"),
    });
    await expect(scaling.fit(runs, { bounds: { alpha: [1, 0] } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(scaling.fit(runs, { fix: { E: 1.69 }, bounds: { E: [1, 2] } })).rejects.toMatchObject({ message: expect.stringContaining('fixed') });
  });
});

describe('weights', () => {
  const runs = scaling.chinchillaRuns();
  const grid = { a: [5, 6], b: [7], e: [0.5], alpha: [0.3], beta: [0.3] };

  test('integer weights equal duplicated runs; a constant weight scales the Huber sum', async () => {
    const w = Float64Array.from(runs.N, (_, i) => 1 + (i % 3));
    const weighted = await scaling.fit(runs, { weights: w, grid });
    const idx: number[] = [];
    w.forEach((c, i) => { for (let k = 0; k < c; k++) idx.push(i); });
    const dup = { N: Float64Array.from(idx, (i) => runs.N[i]!), D: Float64Array.from(idx, (i) => runs.D[i]!), loss: Float64Array.from(idx, (i) => runs.loss[i]!) };
    const dupFit = await scaling.fit(dup, { grid });
    expect(rel(weighted.objective, dupFit.objective)).toBeLessThan(1e-9);
    for (let j = 0; j < 5; j++) expect(Math.abs(weighted.theta[j]! - dupFit.theta[j]!)).toBeLessThan(1e-5);
    const twice = await scaling.fit(runs, { weights: new Float64Array(runs.N.length).fill(2), grid });
    const once = await scaling.fit(runs, { grid });
    expect(rel(twice.objective, 2 * once.objective)).toBeLessThan(1e-9);
  });

  test('bad weights', async () => {
    await expect(scaling.fit(runs, { weights: [1, 2] })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('opts.weights') });
    await expect(scaling.fit(runs, { weights: new Float64Array(runs.N.length) })).rejects.toMatchObject({ message: expect.stringContaining('all be 0') });
    const neg = new Float64Array(runs.N.length).fill(1);
    neg[5] = -1;
    await expect(scaling.fit(runs, { weights: neg })).rejects.toMatchObject({ message: expect.stringContaining('opts.weights[5]') });
  });
});

describe('custom laws', () => {
  const runs = scaling.chinchillaRuns();
  // The Chinchilla law in its log parameterisation, written as an expression, from the same 4500-point grid.
  const law = { expression: 'exp(a) / N^alpha + exp(b) / D^beta + exp(e)', params: ['a', 'b', 'e', 'alpha', 'beta'] };
  const grid = { a: linspace(0, 25, 6), b: linspace(0, 25, 6), e: linspace(-1, 1, 5), alpha: linspace(0, 2, 5), beta: linspace(0, 2, 5) };

  test('the Chinchilla form as an expression finds the built-in optimum on the 4500-start grid', async () => {
    const builtin = await scaling.fit(runs);
    const custom = await scaling.fit(runs, { law, grid });
    expect(custom.law).toBe('custom');
    expect(custom.starts).toBe(4500);
    expect(rel(custom.objective, builtin.objective)).toBeLessThan(1e-6);
    for (const k of ['a', 'b', 'e', 'alpha', 'beta']) expect(custom.params[k]).toBeDefined();
    expect(Math.abs(custom.params.alpha! - builtin.params.alpha)).toBeLessThan(1e-3);
    expect(rel(huberObjective(Array.from(custom.theta), runs.N, runs.D, runs.loss), custom.objective)).toBeLessThan(1e-12);
  });

  test("tuning.customLaw ('auto' | 'interpreter', read by CUDA only) is checked, and no-op on the CPU", async () => {
    const small = { a: [5], b: [5, 10], e: [0.5], alpha: [0.5], beta: [0.5] };
    const auto = await scaling.fit(runs, { law, grid: small, tuning: { customLaw: 'auto' } });
    const int = await scaling.fit(runs, { law, grid: small, tuning: { customLaw: 'interpreter' } });
    expect(int.objective).toBe(auto.objective);
    expect(Array.from(int.theta)).toEqual(Array.from(auto.theta));
    await expect(scaling.fit(runs, { law, grid: small, tuning: { customLaw: 'registers' as 'auto' } })).rejects.toThrow(
      /tuning.customLaw must be one of 'auto', 'interpreter'/,
    );
  });

  test('natural-units expression with bounds, and a bootstrap under the custom names', async () => {
    const nat = { expression: 'E + A / N**alpha + B / D**beta', params: ['E', 'A', 'B', 'alpha', 'beta'] };
    const r = await scaling.fit(runs, {
      law: nat,
      bounds: { E: [0, Infinity], A: [0, Infinity], B: [0, Infinity] },
      grid: { E: [1.5, 2], A: [300, 600], B: [1000, 3000], alpha: [0.3, 0.4], beta: [0.3, 0.4] },
      bootstrap: { resamples: 20, seed: 1 },
    });
    const th = [Math.log(r.params.A!), Math.log(r.params.B!), Math.log(r.params.E!), r.params.alpha!, r.params.beta!];
    expect(rel(huberObjective(th, runs.N, runs.D, runs.loss), r.objective)).toBeLessThan(1e-10);
    expect(r.objective).toBeLessThan(1.0183e-3 * (1 + 1e-4));
    expect(Object.keys(r.bootstrap!.stdErr)).toEqual(['E', 'A', 'B', 'alpha', 'beta']);
  });

  test('random expressions: native values and gradients match a float64 reference', async () => {
    // objective at a single fixed start (all parameters fixed is not possible for custom laws' gradient, so
    // compare the objective value through maxIterations 1 from the start and the reference at the result)
    const exprs = [
      'E + A / N^alpha + B / D^beta',
      'exp(E - 1) * (A / 300) * N^(-alpha) + 0.5 * (E - 2) + exp(log(B) - beta * log(D))',
      'min(E, 3) + A * exp(-alpha * log(N)) + sqrt(B) / pow(D, beta)',
      'E + (A / N)^alpha + max(B / D^beta, 0.01) - 0.5 * (E - 2)',
      'E * (1 + A / N^alpha) * (1 + B / D^beta) / (1 + U / D)',
    ];
    const n = 23;
    const N = Float64Array.from({ length: n }, (_, i) => 10 ** (7 + (i * 7919) % 23 / 7));
    const D = Float64Array.from({ length: n }, (_, i) => 10 ** (9 + (i * 104729) % 19 / 6));
    const U = Float64Array.from(D, (d, i) => d / (1 + (i % 4)));
    const loss = Float64Array.from(N, (x, i) => (2 + 300 / x ** 0.3 + 1000 / D[i]! ** 0.3) * (1 + 0.02 * Math.sin(3 * i)));
    for (const expression of exprs) {
      const params = ['E', 'A', 'B', 'alpha', 'beta'];
      const r = await scaling.fit({ N, D, U, loss }, { law: { expression, params }, objective: 'mse', grid: [[2, 300, 1000, 0.3, 0.3]], maxIterations: 3 });
      const f = new Function('E', 'A', 'B', 'alpha', 'beta', 'N', 'D', 'U', 'const {exp, log, sqrt, min, max, pow} = Math; return ' + expression.replace(/\^/g, '**'));
      let ref = 0;
      for (let i = 0; i < n; i++) {
        const v = f(...Array.from(r.theta), N[i], D[i], U[i]) as number;
        ref += (Math.log(v) - Math.log(loss[i]!)) ** 2;
      }
      expect(rel(r.objective, ref / n)).toBeLessThan(1e-12);
      // the vectorised interpreters (AVX-512, AVX2) and the scalar one take the same steps
      for (const simd of ['scalar', 'avx2', 'avx512'] as const) {
        const q = await scaling.fit({ N, D, U, loss }, { law: { expression, params }, objective: 'mse', grid: [[2, 300, 1000, 0.3, 0.3]], maxIterations: 3, tuning: { simd } });
        expect(rel(q.objective, r.objective)).toBeLessThan(1e-12);
      }
    }
  });

  test('L(N, S_min) as the KAPLAN_NS_LAW preset recovers lossNS parameters (29 runs)', async () => {
    const truth = { Nc: 8.8e13, Sc: 2.1e3, alphaN: 0.076, alphaS: 0.76 };
    const N = Float64Array.from({ length: 29 }, (_, i) => 10 ** (6 + (i % 7) / 2));
    const S = Float64Array.from({ length: 29 }, (_, i) => 10 ** (3 + Math.floor(i / 7) / 1.5));
    const loss = Float64Array.from(scaling.lossNS(truth, N, S));  // (native arrays are of another realm under jest)
    const r = await scaling.fit({ N, D: S, loss }, {
      law: scaling.KAPLAN_NS_LAW,
      bounds: { Nc: [0, Infinity], Sc: [0, Infinity] },
      grid: { Nc: [1e13, 1e14], Sc: [1e3, 1e4], alphaN: [0.05, 0.1], alphaS: [0.5, 1] },
    });
    expect(r.objective).toBeLessThan(1e-14);
    for (const k of ['Nc', 'Sc', 'alphaN', 'alphaS'] as const) expect(rel(r.params[k]!, truth[k])).toBeLessThan(1e-3);
  });

  test('expression errors name the problem', async () => {
    const bad = async (expression: string, params = ['E', 'A'], msg: string) =>
      expect(scaling.fit(runs, { law: { expression, params }, grid: [[1, 1]] })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining(msg) });
    await bad('E + A / Q', undefined, "unknown name 'Q'");
    await bad('E + A / (N', undefined, "expected ')'");
    await bad('E + foo(A)', undefined, "unknown function 'foo'");
    await bad('E + 1', undefined, "'A' does not appear");
    await bad('E + A / N', ['E', 'A', 'N'], 'params[2]');
    await expect(scaling.fit(runs, { law: { expression: 'E + A/N', params: ['E', 'A'], parms: [] } as never, grid: [[1, 1]] })).rejects.toMatchObject({
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: "unknown option 'parms' in opts.law (did you mean 'params'?)",
    });
    await expect(scaling.fit(runs, { law: { expression: 'E + A/N', params: ['E', 'A'] } })).rejects.toMatchObject({ message: expect.stringContaining('opts.grid is required') });
    await expect(scaling.fit(runs, { law: { expression: 'E + A/U', params: ['E', 'A'] }, grid: [[1, 1]] })).rejects.toMatchObject({ message: expect.stringContaining('data.U') });
  });
});

describe('bootstrap objective independent of the point estimate', () => {
  const runs = scaling.chinchillaRuns();
  test("likelihood point estimate with the paper's Huber-sum bootstrap vs the likelihood bootstrap", async () => {
    const b = { resamples: 400, seed: 11 };
    const lik = await scaling.fit(runs, { objective: 'huber-likelihood', bootstrap: b });
    const hub = await scaling.fit(runs, { objective: 'huber-likelihood', bootstrapObjective: 'huber', bootstrap: b });
    expect(hub.params).toEqual(lik.params);  // same point estimate
    expect(lik.bootstrap!.objective).toBe('huber-likelihood');
    expect(hub.bootstrap!.objective).toBe('huber');
    expect(hub.bootstrap!.stdErr.sigma).toBeUndefined();
    const rows = ['E', 'alpha', 'beta', 'a', 'tokensPerParam'].map((k) => `${k.padEnd(15)} huber-sum SE ${hub.bootstrap!.stdErr[k]!.toPrecision(4)}  likelihood SE ${lik.bootstrap!.stdErr[k]!.toPrecision(4)}  ratio ${(lik.bootstrap!.stdErr[k]! / hub.bootstrap!.stdErr[k]!).toFixed(2)}`);
    console.log(`bootstrap SEs, 400 resamples, Chinchilla table:\n${rows.join('\n')}`);
    // the likelihood bootstrap is the narrower one (the issue measured 35–50%)
    for (const k of ['alpha', 'beta']) expect(lik.bootstrap!.stdErr[k]!).toBeLessThan(hub.bootstrap!.stdErr[k]!);
    const back = await scaling.fit(runs, { bootstrapObjective: 'huber-likelihood', bootstrap: { resamples: 20, seed: 1 } });
    expect(back.bootstrap!.stdErr.sigma).toBeGreaterThan(0);
    await expect(scaling.fit(runs, { bootstrapObjective: 'l2' as 'mse' })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('degenerate inputs', () => {
  const n = 12;
  const N = Float64Array.from({ length: n }, (_, i) => 1e8 * 2 ** (i % 4));
  const D = Float64Array.from({ length: n }, (_, i) => 1e10 * 2 ** Math.floor(i / 4));
  const loss = Float64Array.from(N, (x, i) => 1.7 + 400 / x ** 0.33 + 1500 / D[i]! ** 0.3);
  const grid = { a: [5], b: [7], e: [0.5], alpha: [0.3], beta: [0.3] };

  test('one N value, one D value, one budget: named warnings', async () => {
    const oneN = await scaling.fit({ N: new Float64Array(n).fill(1e8), D, loss }, { grid });
    expect(oneN.warnings.map((w) => w.split(':')[0])).toEqual(['single-N']);
    const oneD = await scaling.fit({ N, D: new Float64Array(n).fill(1e10), loss }, { grid });
    expect(oneD.warnings.map((w) => w.split(':')[0])).toEqual(['single-D']);
    const Db = Float64Array.from(N, (x) => 1e19 / x);
    const budget = await scaling.fit({ N, D: Db, loss }, { grid });
    expect(budget.warnings.map((w) => w.split(':')[0])).toEqual(['single-budget']);
    expect((await scaling.fit({ N, D, loss }, { grid })).warnings).toEqual([]);
  });

  test('NaN columns are RangeErrors naming the entry', async () => {
    const bad = Float64Array.from(loss);
    bad[4] = NaN;
    await expect(scaling.fit({ N, D, loss: bad })).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.loss[4]') });
    await expect(scaling.fit({ N, D, loss, U: Float64Array.from(D).fill(NaN) }, { law: 'data-constrained' })).rejects.toMatchObject({ message: expect.stringContaining('data.U[0]') });
  });

  test('data-constrained without repetition: named warnings', async () => {
    const r = await scaling.fit({ N: db.N, D: db.U, U: db.U, loss: db.loss }, { law: 'data-constrained', fix: BASE });
    expect(r.warnings.map((w) => w.split(':')[0])).toContain('no-repetition');
  });
});

void chinchillaLogPred;
