// The figure of `lengthwise fit --plot` (lib/cli/fitPlot.ts): its numbers against the library's own formulas, the
// SVG's content, PNG through the optional renderer, and the command line's handling of formats and the renderer.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runFit } from '../lib/cli/fit';
import {
  defaultPlotTitle, fitPlotModel, isoLossD, lawLoss, loadResvg, niceTicks, optimalN, plotFormat, PNG_INSTALL,
  renderFitPlotSvg, svgToPng,
} from '../lib/cli/fitPlot';
import { scaling } from '../lib';
import type { FitResult } from '../lib/scaling';

const CHINCHILLA = path.join(__dirname, '..', 'data', 'scaling', 'chinchilla_epoch_svg_extracted.csv');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-plot-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let hasResvg = true;
try {
  require.resolve('@resvg/resvg-js');
} catch {
  hasResvg = false;
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runFit(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const runs = scaling.chinchillaRuns();
let withBoot: FitResult;
let plain: FitResult;
beforeAll(async () => {
  const grid = { a: [5, 6], b: [5, 7], e: [0.5], alpha: [0.3, 0.5], beta: [0.3, 0.5] };
  withBoot = await scaling.fit(runs, { grid, bootstrap: { resamples: 40, seed: 1 } });
  plain = await scaling.fit(runs, { grid });
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('the figure numbers', () => {
  test('closed forms agree with scaling.predict and scaling.computeOptimal', () => {
    const p = withBoot.params as scaling.ChinchillaParams;
    for (const [N, D] of [[1e8, 1e10], [3e9, 2e11], [7e10, 1.4e12]] as const) {
      expect(rel(lawLoss(p, N, D), scaling.predict(p, N, D))).toBeLessThan(1e-12);
      expect(rel(isoLossD(p, lawLoss(p, N, D), N), D)).toBeLessThan(1e-9);
    }
    for (const C of [1e19, 5.76e23]) expect(rel(optimalN(p, C), scaling.computeOptimal(p, C).N)).toBeLessThan(1e-9);
    const k = { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
    expect(rel(lawLoss(k, 1e9, 1e10), scaling.predict(k, 1e9, 1e10))).toBeLessThan(1e-12);
    expect(rel(lawLoss(k, 1e9, isoLossD(k, 3, 1e9)), 3)).toBeLessThan(1e-12);
    expect(isoLossD(p, p.E - 0.1, 1e9)).toBeNaN(); // below the irreducible loss: out of reach
  });

  test('contours lie on their level inside the panel; levels are round values inside the losses', () => {
    const m = fitPlotModel(runs, withBoot);
    expect(m.contours.length).toBeGreaterThanOrEqual(4);
    const lo = Math.min(...runs.loss), hi = Math.max(...runs.loss);
    for (const c of m.contours) {
      expect(c.level).toBeGreaterThanOrEqual(lo);
      expect(c.level).toBeLessThanOrEqual(hi);
      expect(Number(c.level.toPrecision(3))).toBe(c.level);
      for (const [N, D] of c.points) {
        expect(rel(lawLoss(withBoot.params, N, D), c.level)).toBeLessThan(1e-9);
        expect(N).toBeGreaterThanOrEqual(m.nRange[0] * (1 - 1e-12));
        expect(D).toBeLessThanOrEqual(m.dRange[1] * (1 + 1e-12));
      }
    }
  });

  test('frontier on C = 6ND at the optimum; band from the bootstrap resamples brackets it', () => {
    const m = fitPlotModel(runs, withBoot);
    expect(m.frontier.length).toBeGreaterThan(10);
    for (const f of m.frontier) {
      expect(rel(6 * f.N * f.D, f.C)).toBeLessThan(1e-12);
      expect(rel(f.N, scaling.computeOptimal(withBoot.params as scaling.ChinchillaParams, f.C).N)).toBeLessThan(1e-9);
    }
    expect(m.bandLevel).toBe(0.95);
    expect(m.band).toHaveLength(m.frontier.length);
    let inside = 0;
    m.band.forEach((b, i) => {
      expect(b.nLo).toBeLessThanOrEqual(b.nHi);
      expect(b.lossLo).toBeLessThanOrEqual(b.lossHi);
      if (b.nLo <= m.frontier[i]!.N && m.frontier[i]!.N <= b.nHi) inside++;
    });
    expect(inside).toBeGreaterThan(m.band.length * 0.9);
    // no bootstrap: no band; Kaplan: no frontier
    expect(fitPlotModel(runs, plain).band).toHaveLength(0);
    const k = { ...plain, law: 'kaplan-nd' as const, params: { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 } };
    expect(fitPlotModel(runs, k).frontier).toHaveLength(0);
  });

  test('residuals are ln L − ln L̂ per run; the loss axis comes from the data', () => {
    const m = fitPlotModel(runs, withBoot);
    const pred = scaling.predict(withBoot.params, runs.N, runs.D);
    for (let i = 0; i < runs.N.length; i += 17) expect(m.residual[i]).toBeCloseTo(Math.log(runs.loss[i]!) - Math.log(pred[i]!), 12);
    const lo = Math.min(...runs.loss), hi = Math.max(...runs.loss);
    expect(m.lossRange[0]).toBeLessThanOrEqual(lo);
    expect(m.lossRange[1]).toBeGreaterThanOrEqual(hi);
    expect(m.lossRange[1] - m.lossRange[0]).toBeLessThan((hi - lo) * 1.5); // not 1–10 for data in 2–3.5
    expect(niceTicks(2.07, 3.4, 5)).toEqual([2.5, 3]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});

describe('the SVG', () => {
  test('two panels in a 7 × 3 in page, every run in both, labelled contours and frontier, colour bar, band', () => {
    const svg = renderFitPlotSvg(runs, withBoot, 'a <title> & more');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="7in" height="3in"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt; &amp; more');
    const group = (id: string) => svg.slice(svg.indexOf(`<g id="${id}"`), svg.indexOf('</g>', svg.indexOf(`<g id="${id}"`)));
    expect(group('runs-a').match(/<circle/g)).toHaveLength(runs.N.length);
    expect(group('runs-b').match(/<circle/g)).toHaveLength(runs.N.length);
    const m = fitPlotModel(runs, withBoot);
    expect(svg.match(/class="contour-label"/g)).toHaveLength(m.contours.length);
    for (const id of ['band-a', 'band-b', 'frontier-a', 'frontier-b', 'frontier-label', 'colorbar', 'residuals', 'legend']) {
      expect(svg).toContain(`id="${id}"`);
    }
    expect(svg).toMatch(/compute-optimal frontier \(95% band\)/);
    expect(svg).toMatch(/95% bootstrap band, 40 resamples/);
    const noBand = renderFitPlotSvg(runs, plain, 't');
    expect(noBand).not.toContain('id="band-a"');
    expect(noBand).toContain('--bootstrap N draws its band');
    // every number in the document is finite
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  test('degenerate inputs still give a finite figure: one run, equal losses, α = 0 (no frontier), Kaplan', () => {
    const base = { ...plain, params: { A: 400, B: 400, E: 1.7, alpha: 0.34, beta: 0.28 } };
    const one = { N: [1e9], D: [2e10], loss: [2.5] };
    const same = { N: [1e8, 1e9, 1e10], D: [1e10, 1e10, 1e11], loss: [2.5, 2.5, 2.5] };
    for (const [r, f] of [[one, base], [same, base], [same, { ...base, params: { ...base.params, alpha: 0 } }],
      [same, { ...base, law: 'kaplan-nd' as const, params: { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 } }]] as const) {
      const svg = renderFitPlotSvg(r, f as FitResult, 't');
      expect(svg).not.toMatch(/NaN|Infinity/);
      expect(svg.match(/<circle/g)!.length).toBeGreaterThanOrEqual(2 * r.N.length);
    }
    expect(renderFitPlotSvg(same, { ...base, params: { ...base.params, alpha: 0 } } as FitResult, 't')).not.toContain('id="frontier-a"');
  });

  test('the default title is the input base name, never its path', () => {
    expect(defaultPlotTitle('chinchilla', 'huber', 240, '/a/b/runs.csv')).toBe('chinchilla fit (huber) to 240 runs of runs.csv');
    expect(defaultPlotTitle('chinchilla', 'huber', 3, '-')).toMatch(/of stdin$/);
  });

  test('format by extension; other extensions are refused', () => {
    expect(plotFormat('x.SVG')).toBe('svg');
    expect(plotFormat('a/b.png')).toBe('png');
    expect(() => plotFormat('x.pdf')).toThrow(expect.objectContaining({ code: 'ERR_PLOT_FORMAT' }));
  });

  test('without the optional renderer, PNG names the command that installs it', () => {
    const missing = () => {
      throw new Error("Cannot find module '@resvg/resvg-js'");
    };
    expect(() => loadResvg(missing)).toThrow(expect.objectContaining({ code: 'ERR_PLOT_DEPENDENCY' }));
    expect(() => loadResvg(missing)).toThrow(PNG_INSTALL);
    expect(PNG_INSTALL).toBe('npm install @resvg/resvg-js');
    expect(() => svgToPng('<svg/>', 300, missing)).toThrow(/npm install @resvg\/resvg-js/);
  });

  (hasResvg ? test : test.skip)('PNG through @resvg/resvg-js: 300 dpi, 2100 × 900 px', () => {
    const png = svgToPng(renderFitPlotSvg(runs, withBoot, 't'));
    expect(Buffer.from(png.subarray(0, 8)).toString('hex')).toBe('89504e470d0a1a0a');
    const view = Buffer.from(png);
    expect([view.readUInt32BE(16), view.readUInt32BE(20)]).toEqual([2100, 900]);
  });
});

describe('lengthwise fit --plot', () => {
  test('.svg with the default title and with --title', async () => {
    const svg = path.join(dir, 'fit.svg');
    const r = await capture([CHINCHILLA, '--drop-outliers', '5', '--plot', svg, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).plot).toBe(svg);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text).toContain('chinchilla fit (huber) to 240 runs of chinchilla_epoch_svg_extracted.csv');
    expect(text).not.toContain(path.dirname(CHINCHILLA));
    expect((await capture([CHINCHILLA, '--plot', svg, '--title', 'Figure 3'])).code).toBe(0);
    expect(fs.readFileSync(svg, 'utf8')).toContain('>Figure 3</text>');
  });

  (hasResvg ? test : test.skip)('.png writes a PNG, never SVG', async () => {
    const png = path.join(dir, 'fit.png');
    expect((await capture([CHINCHILLA, '--plot', png])).code).toBe(0);
    expect(fs.readFileSync(png).subarray(0, 4).toString('latin1')).toBe('\x89PNG');
  });

  test('an unknown extension fails before the fit, with exit 2, and writes nothing', async () => {
    const pdf = path.join(dir, 'fit.pdf');
    const r = await capture([CHINCHILLA, '--plot', pdf]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--plot writes \.svg or \.png files/);
    expect(fs.existsSync(pdf)).toBe(false);
  });

  // The built CLI with a preload that makes @resvg/resvg-js unresolvable, as in an install without it.
  const cli = path.join(__dirname, '..', 'dist', 'cli.js');
  (fs.existsSync(cli) ? test : test.skip)('.png without the renderer: exit 2 before the fit, the install command, no file', () => {
    const png = path.join(dir, 'missing.png');
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, 'helpers', 'hideResvg.js'), cli, 'fit', CHINCHILLA, '--plot', png],
      { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/npm install @resvg\/resvg-js/);
    expect(r.stdout).toBe(''); // nothing was fitted
    expect(fs.existsSync(png)).toBe(false);
  });
});
