import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runFit } from '../lib/cli/fit';
import { FIT_KEYS } from '../lib/scaling/fit';
import { scaling } from '../lib';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runFit(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const DATA = path.join(__dirname, '..', 'data', 'scaling');
const ISO = path.join(DATA, 'isoflops_multi_source.csv');
const CHIN = path.join(DATA, 'chinchilla_epoch_svg_extracted.csv');
const DB = path.join(DATA, 'datablations_fit_runs.csv');
const GRID = ['--json'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-fit-flags-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lengthwise fit --where / --residuals', () => {
  test('--where selects one study (the outlier column is honoured too): the same fit as the library on that subset', async () => {
    const r = await capture([ISO, '--where', 'source=="epochai_chinchilla"', '--n-col', 'params', '--d-col', 'tokens', ...GRID]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { runs: number; drops: Record<string, number>; notes: string[]; theta: number[]; columns: { unused: string[] } };
    const lib = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
    expect(j.runs).toBe(lib.N.length);
    expect(j.drops.where).toBe(947 - 123);
    expect(j.notes.some((n) => n.startsWith('dropped 824 rows by --where'))).toBe(true);
    expect(j.columns.unused).not.toContain('source');
    const f = await scaling.fit(lib);
    j.theta.forEach((t, i) => expect(t).toBeCloseTo(f.theta[i]!, 10));
  });

  test('--where on numbers, booleans and quoted names; text output says what was dropped', async () => {
    const r = await capture([CHIN, '--where', '`Model Size` >= 1e9 && loss < 3', '--drop-outliers', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: dropped \d+ rows by --where `Model Size` >= 1e9 && loss < 3/);
    const csv = path.join(dir, 'flags.csv');
    fs.writeFileSync(csv, 'N,D,loss,keep\n1e8,1e10,3.1,true\n2e8,2e10,2.9,false\n4e8,4e10,2.7,true\n8e8,8e10,2.6,true\n1.6e9,1.6e11,2.5,true\n3.2e9,3.2e11,2.4,true\n6.4e9,6.4e11,2.35,true\n');
    const b = await capture([csv, '--where', 'keep', '--json']);
    expect(b.code).toBe(0);
    const j = JSON.parse(b.out) as { runs: number; warnings: string[]; params: { A: number | null }; computeOptimal?: unknown };
    expect(j.runs).toBe(6);
    // D = 100 N on every run: one line through the N-D plane, so the fit is degenerate and must say so; where it ran
    // off to a coefficient beyond float64 (it does on the scalar and AVX2 paths), it says that too and derives nothing.
    expect(j.warnings.some((w) => w.startsWith('collinear-N-D: ln D = c + 1.000·ln N on all 6 runs'))).toBe(true);
    if (j.params.A === null) {
      expect(j.warnings.some((w) => /^overflow: A = e\^\d+/.test(w))).toBe(true);
      expect(j.computeOptimal).toBeUndefined();
    }
  });

  test('the collinearity warning needs every run on the line', async () => {
    const N = [1e8, 4e8, 8e8, 1.6e9, 3.2e9, 6.4e9];
    const on = await scaling.fit({ N, D: N.map((n) => 20 * n ** 1.3), loss: [3.1, 2.7, 2.6, 2.5, 2.4, 2.35] });
    expect(on.warnings.filter((w) => w.startsWith('collinear-N-D: ln D = c + 1.300·ln N'))).toHaveLength(1);
    const off = await scaling.fit({ N, D: N.map((n, i) => 20 * n ** 1.3 * (i === 3 ? 1.01 : 1)), loss: [3.1, 2.7, 2.6, 2.5, 2.4, 2.35] });
    expect(off.warnings.filter((w) => w.startsWith('collinear-N-D'))).toEqual([]);
  });

  test('--residuals: per-run predictions and R² as scaling.diagnostics gives them', async () => {
    const r = await capture([CHIN, '--residuals', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { runs: number; params: scaling.ChinchillaParams; residuals: { predicted: number[]; residual: number[]; rSquared: number; rSquaredLog: number; warnings: string[] } };
    expect(j.runs).toBe(240);
    const d = scaling.diagnostics(j.params, scaling.chinchillaRuns());
    expect(j.residuals.rSquared).toBeCloseTo(d.rSquared, 12);
    expect(j.residuals.predicted.length).toBe(240);
    // The CSV reader keeps file order; the library table is sorted by loss: compare as multisets.
    expect(j.residuals.predicted.slice().sort()).toEqual(Array.from(d.predicted).sort());
    expect(j.residuals.warnings).toEqual([]);
    const t = await capture([CHIN, '--residuals']);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/residuals \(240 runs\): R² 0\.99\d\d on L, 0\.99\d\d on ln L/);
    expect(t.out.split('\n').filter((l) => /^\s+\d+ /.test(l)).length).toBe(240);
  });

  test('usage errors exit 2 and name the flag', async () => {
    const cases: [string[], RegExp][] = [
      [[CHIN, '--where', 'loss = 3'], /--where is not a valid expression: '=' \(use '==' to compare\)/],
      [[CHIN, '--where', 'nope > 1'], /--where names no column 'nope'/],
      [[CHIN, '--where', 'color < 1'], /line \d+: --where: '<' compares two numbers or two strings/],
      [[CHIN, '--tie', 'alpha'], /--tie must be P=Q/],
      [[CHIN, '--fix', 'E=abc'], /--fix must be P=X/],
      [[CHIN, '--fix', '=1'], /--fix must be P=X/],
      [[CHIN, '--weights', 'nope'], /no column 'nope' for the weights \(--weights\)/],
      [[CHIN, '--weights', 'color'], /weight '.*' \(column color\) is not a number ≥ 0/],
      [[CHIN, '--unique-tokens', 'nope'], /no column 'nope' for U \(--unique-tokens\)/],
      [[CHIN, '--law', 'data-constrained'], /--law data-constrained needs --unique-tokens COL/],
      [[CHIN, '--bootstrap-objective', 'huber'], /--bootstrap-objective needs --bootstrap N/],
      [[CHIN, '--bootstrap', '2', '--bootstrap-objective', 'hubr'], /bootstrap-objective/],
      [[CHIN, '--residual'], /--residuals/],
    ];
    for (const [argv, msg] of cases) {
      const r = await capture(argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 2]);
      expect(r.err).toMatch(msg);
    }
  });
});

// These flags hand fit options of the constrained-fitting work (tie, fix, weights, bootstrapObjective,
// data-constrained); they run once that is on the branch.
const withLaws = FIT_KEYS.includes('tie') ? describe : describe.skip;

withLaws('lengthwise fit --tie / --fix / --weights / --bootstrap-objective / --law data-constrained', () => {
  test('--tie alpha=beta --fix E=1.69: the same fit as the library', async () => {
    const r = await capture([CHIN, '--tie', 'alpha=beta', '--fix', 'E=1.69', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { params: scaling.ChinchillaParams };
    expect(j.params.alpha).toBe(j.params.beta);
    expect(j.params.E).toBeCloseTo(1.69, 12);
    const f = await scaling.fit(scaling.chinchillaRuns(), { tie: [['alpha', 'beta']], fix: { E: 1.69 } } as scaling.FitOptions);
    expect(j.params.alpha).toBeCloseTo((f.params as scaling.ChinchillaParams).alpha, 8);
  });

  test('--weights of ones is the unweighted fit; --bootstrap-objective is reported', async () => {
    const csv = path.join(dir, 'w.csv');
    const d = scaling.chinchillaRuns();
    fs.writeFileSync(csv, ['N,D,loss,w', ...Array.from(d.N, (n, i) => `${n},${d.D[i]},${d.loss[i]},1`)].join('\n') + '\n');
    const a = JSON.parse((await capture([csv, '--weights', 'w', '--json'])).out) as { theta: number[] };
    const b = JSON.parse((await capture([csv, '--json'])).out) as { theta: number[] };
    a.theta.forEach((t, i) => expect(t).toBeCloseTo(b.theta[i]!, 10));
    const c = await capture([csv, '--objective', 'huber-likelihood', '--bootstrap', '5', '--bootstrap-objective', 'huber', '--json']);
    expect(c.code).toBe(0);
    expect((JSON.parse(c.out) as { bootstrap: { objective: string } }).bootstrap.objective).toBe('huber');
  });

  test('--law data-constrained --unique-tokens on the datablations runs', async () => {
    const r = await capture([DB, '--law', 'data-constrained', '--unique-tokens', 'unique_tokens', '--loss-col', 'val_loss',
      '--fix', 'A=520.4', '--fix', 'B=1487.8', '--fix', 'E=1.869', '--fix', 'alpha=0.35266', '--fix', 'beta=0.35266', '--residuals', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { params: { rdStar: number; rnStar: number }; residuals: { rSquared: number } };
    expect(j.params.rdStar).toBeGreaterThan(5);
    expect(j.params.rnStar).toBeGreaterThan(1);
    expect(j.residuals.rSquared).toBeGreaterThan(0.6);
  });
});
