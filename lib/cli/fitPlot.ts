/**
 * SVG figure for `lengthwise fit --plot`: fitted iso-loss contours in the (N, D) plane with the runs and the
 * compute-optimal frontier, beside loss against compute with the fitted predictions. Drawn with Vega-Lite,
 * rendered to SVG by Vega (headless, no canvas needed).
 *
 * @packageDocumentation
 */
import type { ChinchillaParams, FitResult, KaplanParams } from '../scaling/types';
import { computeOptimal, predict } from '../scaling/formulas';

type Row = Record<string, number | string>;

// vega and vega-lite are ES modules with top-level await: load them with a real dynamic import (TypeScript would
// turn `import()` into `require` under CommonJS output).
const esmImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

function logspace(lo: number, hi: number, n: number): number[] {
  const a = Math.log10(lo), b = Math.log10(hi);
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}

// D on the iso-loss curve L̂(N, D) = level, or NaN where the level is out of reach at this N.
function isoD(p: ChinchillaParams | KaplanParams, level: number, N: number): number {
  if ('A' in p) {
    const rest = level - p.E - p.A * N ** -p.alpha;
    return rest > 0 ? (p.B / rest) ** (1 / p.beta) : NaN;
  }
  const rest = level ** (1 / p.alphaD) - (p.Nc / N) ** (p.alphaN / p.alphaD);
  return rest > 0 ? p.Dc / rest : NaN;
}

/** The Vega-Lite spec of the figure (exported for tests). */
export function fitPlotSpec(
  runs: { N: Float64Array; D: Float64Array; loss: Float64Array },
  fit: FitResult,
  title: string,
): Record<string, unknown> {
  const n = runs.N.length;
  const minOf = (a: Float64Array) => a.reduce((m, x) => Math.min(m, x), Infinity);
  const maxOf = (a: Float64Array) => a.reduce((m, x) => Math.max(m, x), -Infinity);
  const nLo = minOf(runs.N) / 2, nHi = maxOf(runs.N) * 2, dLo = minOf(runs.D) / 2, dHi = maxOf(runs.D) * 2;
  const pred = predict(fit.params, runs.N, runs.D);
  const points: Row[] = [];
  for (let i = 0; i < n; i++) {
    const C = 6 * runs.N[i]! * runs.D[i]!;
    points.push({ N: runs.N[i]!, D: runs.D[i]!, C, loss: runs.loss[i]!, fitted: pred[i]! });
  }
  // Contour levels: quantiles of the observed losses.
  const sorted = Array.from(runs.loss).sort((a, b) => a - b);
  const levels = [0.05, 0.2, 0.4, 0.6, 0.8, 0.95].map((q) => Number(sorted[Math.floor(q * (n - 1))]!.toPrecision(3)));
  const contours: Row[] = [];
  for (const level of new Set(levels)) {
    for (const N of logspace(nLo, nHi, 160)) {
      const D = isoD(fit.params, level, N);
      if (Number.isFinite(D) && D >= dLo && D <= dHi) contours.push({ N, D, level: level.toFixed(3) });
    }
  }
  const frontier: Row[] = [];
  if ('A' in fit.params && fit.params.alpha > 0 && fit.params.beta > 0) {
    const p = fit.params;
    const cs = points.map((r) => r.C as number);
    for (const C of logspace(Math.min(...cs) / 2, Math.max(...cs) * 2, 80)) {
      const o = computeOptimal(p, C);
      if (o.N >= nLo && o.N <= nHi && o.D >= dLo && o.D <= dHi) frontier.push({ N: o.N, D: o.D, C, loss: predict(p, o.N, o.D), series: 'compute-optimal' });
    }
  }
  const logX = (field: string, title: string) => ({ field, type: 'quantitative', scale: { type: 'log' }, title, axis: { format: '.0e' } });
  const contourPanel = {
    title: 'fitted iso-loss contours',
    width: 360,
    height: 300,
    layer: [
      {
        data: { values: contours },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: logX('N', 'parameters N'),
          y: { ...logX('D', 'tokens D') },
          color: { field: 'level', type: 'ordinal', title: 'loss', scale: { scheme: 'viridis' } },
          detail: { field: 'level' },
          order: { field: 'N', type: 'quantitative' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 14, opacity: 0.7, color: '#444' },
        encoding: { x: { field: 'N', type: 'quantitative' }, y: { field: 'D', type: 'quantitative' } },
      },
      ...(frontier.length
        ? [{
            data: { values: frontier },
            mark: { type: 'line', strokeDash: [5, 3], color: '#d62728', strokeWidth: 2 },
            encoding: { x: { field: 'N', type: 'quantitative' }, y: { field: 'D', type: 'quantitative' }, order: { field: 'C', type: 'quantitative' } },
          }]
        : []),
    ],
  };
  const lossPanel = {
    title: 'loss vs compute C = 6ND (points: runs, circles: fit; dashed: compute-optimal)',
    width: 360,
    height: 300,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 18 },
        encoding: {
          x: logX('C', 'compute C (FLOPs)'),
          y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'final loss' },
          color: { field: 'N', type: 'quantitative', scale: { type: 'log', scheme: 'plasma' }, title: 'N', legend: { format: '.0e' } },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', size: 30, color: '#222', strokeWidth: 0.6, opacity: 0.5 },
        encoding: { x: { field: 'C', type: 'quantitative' }, y: { field: 'fitted', type: 'quantitative' } },
      },
      ...(frontier.length
        ? [{
            data: { values: frontier },
            mark: { type: 'line', strokeDash: [5, 3], color: '#d62728', strokeWidth: 2 },
            encoding: { x: { field: 'C', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
          }]
        : []),
    ],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 13 },
    hconcat: [contourPanel, lossPanel],
    resolve: { scale: { color: 'independent' } },
    config: { background: 'white', font: 'sans-serif' },
  };
}

/** Renders the figure to an SVG string. */
export async function renderFitPlot(
  runs: { N: Float64Array; D: Float64Array; loss: Float64Array },
  fit: FitResult,
  title: string,
): Promise<string> {
  const vl = (await esmImport('vega-lite')) as { compile(spec: unknown): { spec: unknown } };
  const vega = (await esmImport('vega')) as {
    parse(spec: unknown): unknown;
    View: new (runtime: unknown, opts: { renderer: string }) => { toSVG(): Promise<string>; finalize(): void };
  };
  const view = new vega.View(vega.parse(vl.compile(fitPlotSpec(runs, fit, title)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
