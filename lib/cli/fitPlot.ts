/**
 * The figure of `lengthwise fit --plot out.svg|out.png`, written as SVG directly (no plotting library): a
 * 7.0 × 3.0 in (journal page width) figure of two panels.
 *
 * (a) the (N, D) plane: labelled iso-loss contours of the fitted law, the runs coloured by their loss (one colour
 *     bar), the compute-optimal frontier N_opt(C), D_opt(C) with its bootstrap band (percentiles of N_opt at each
 *     C over the bootstrap resamples, when the fit has a bootstrap).
 * (b) loss against compute C = 6ND: the runs, the compute-optimal loss L̂(N_opt(C), D_opt(C)) with its band, and
 *     beneath it the residuals ln L − ln L̂ of every run. The y ranges come from the data.
 *
 * The iso-loss contours are the closed-form curves D(N) on which L̂(N, D) equals a level (both laws are monotone in
 * N and D), so no grid or marching squares is needed. PNG output goes through `@resvg/resvg-js`, an optional peer
 * dependency: without it, `--plot x.png` fails with the command that installs it (an .svg needs nothing).
 * The formulas are those of docs/scaling-laws.md.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ChinchillaParams, FitResult, KaplanParams } from '../scaling/types';

/** The runs the figure shows (parameters N, tokens D, final loss in nats), one entry per run. */
export interface PlotRuns {
  N: ArrayLike<number>;
  D: ArrayLike<number>;
  loss: ArrayLike<number>;
}

type Params = ChinchillaParams | KaplanParams;
type Pt = [number, number];

// ---------------------------------------------------------------------------------------------------------------
// The law in closed form (the same formulas as native/core/scaling/formulas.cc; test/fit-plot.test.ts checks them
// against scaling.predict and scaling.computeOptimal).

/** L̂(N, D) of a fitted law. */
export function lawLoss(p: Params, N: number, D: number): number {
  if ('A' in p) return p.E + p.A * N ** -p.alpha + p.B * D ** -p.beta;
  return ((p.Nc / N) ** (p.alphaN / p.alphaD) + p.Dc / D) ** p.alphaD;
}

/** D on the iso-loss curve L̂(N, D) = level, or NaN where the level is out of reach at this N. */
export function isoLossD(p: Params, level: number, N: number): number {
  if ('A' in p) {
    const rest = level - p.E - p.A * N ** -p.alpha;
    return rest > 0 ? (p.B / rest) ** (1 / p.beta) : NaN;
  }
  const rest = level ** (1 / p.alphaD) - (p.Nc / N) ** (p.alphaN / p.alphaD);
  return rest > 0 ? p.Dc / rest : NaN;
}

/** N_opt(C) under C = 6ND for Chinchilla parameters (NaN unless α, β, A, B > 0). */
export function optimalN(p: ChinchillaParams, C: number): number {
  if (!(p.alpha > 0 && p.beta > 0 && p.A > 0 && p.B > 0)) return NaN;
  const G = ((p.alpha * p.A) / (p.beta * p.B)) ** (1 / (p.alpha + p.beta));
  return G * (C / 6) ** (p.beta / (p.alpha + p.beta));
}

// ---------------------------------------------------------------------------------------------------------------
// Scales, ticks and colours.

function logspace(lo: number, hi: number, n: number): number[] {
  const a = Math.log10(lo), b = Math.log10(hi);
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** Round multiples of a nice step inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, target: number): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, target);
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  return sorted[i]! + (h - i) * ((sorted[Math.min(i + 1, sorted.length - 1)] ?? sorted[i]!) - sorted[i]!);
}

// viridis, 10 stops (matplotlib's table at 0, 1/9, …, 1)
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!, b = VIRIDIS[i + 1]!;
  const ch = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
  const hex = (k: number) => Math.round(ch(a, k) + f * (ch(b, k) - ch(a, k))).toString(16).padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f2 = (x: number) => (Math.round(x * 100) / 100).toString();

/** A log-scale axis mapping [lo, hi] onto [a, b] (points). */
class LogScale {
  constructor(readonly lo: number, readonly hi: number, readonly a: number, readonly b: number) {}
  at(v: number): number {
    return this.a + ((Math.log10(v) - Math.log10(this.lo)) / (Math.log10(this.hi) - Math.log10(this.lo))) * (this.b - this.a);
  }
  /** Decades inside the range (labelled) and the 2…9 multiples (minor). */
  ticks(): { major: number[]; minor: number[] } {
    const major: number[] = [], minor: number[] = [];
    for (let e = Math.floor(Math.log10(this.lo)); e <= Math.ceil(Math.log10(this.hi)); e++) {
      for (let m = 1; m <= 9; m++) {
        const v = m * 10 ** e;
        if (v < this.lo * (1 - 1e-9) || v > this.hi * (1 + 1e-9)) continue;
        (m === 1 ? major : minor).push(v);
      }
    }
    return { major, minor };
  }
}

class LinScale {
  constructor(readonly lo: number, readonly hi: number, readonly a: number, readonly b: number) {}
  at(v: number): number {
    return this.a + ((v - this.lo) / (this.hi - this.lo)) * (this.b - this.a);
  }
}

type Scale = LogScale | LinScale;

function pathOf(pts: Pt[]): string {
  return pts.map(([x, y], i) => `${i ? 'L' : 'M'}${f2(x)} ${f2(y)}`).join('');
}

function decadeLabel(v: number, x: number, y: number, anchor: string): string {
  const e = Math.round(Math.log10(v));
  return `<text x="${f2(x)}" y="${f2(y)}" text-anchor="${anchor}">10<tspan dy="-3" font-size="5">${e}</tspan></text>`;
}

interface Box {
  x0: number;
  x1: number;
  y0: number; // top
  y1: number; // bottom
}

// Text with a white halo: a stroked copy underneath, then the text (paint-order is not rendered everywhere).
function haloText(x: number, y: number, text: string, attrs: string): string {
  const t = esc(text);
  return `<text x="${f2(x)}" y="${f2(y)}" ${attrs.replace(/\s*fill="[^"]*"/, '')} fill="#fff" stroke="#fff" stroke-width="2.2" stroke-linejoin="round" aria-hidden="true">${t}</text>` +
    `<text x="${f2(x)}" y="${f2(y)}" ${attrs}>${t}</text>`;
}

function frame(box: Box): string {
  return `<rect x="${f2(box.x0)}" y="${f2(box.y0)}" width="${f2(box.x1 - box.x0)}" height="${f2(box.y1 - box.y0)}" fill="none" stroke="#000" stroke-width="0.6"/>`;
}

function xAxis(s: Scale, box: Box, labels: boolean): string {
  const out: string[] = [];
  if (s instanceof LogScale) {
    const { major, minor } = s.ticks();
    for (const v of minor) out.push(`<line x1="${f2(s.at(v))}" x2="${f2(s.at(v))}" y1="${f2(box.y1)}" y2="${f2(box.y1 - 1.5)}" stroke="#000" stroke-width="0.4"/>`);
    for (const v of major) {
      out.push(`<line x1="${f2(s.at(v))}" x2="${f2(s.at(v))}" y1="${f2(box.y1)}" y2="${f2(box.y1 - 3)}" stroke="#000" stroke-width="0.6"/>`);
      if (labels) out.push(decadeLabel(v, s.at(v), box.y1 + 9, 'middle'));
    }
  }
  return out.join('');
}

function yAxis(s: Scale, box: Box, ticks?: number[], fmt?: (v: number) => string): string {
  const out: string[] = [];
  if (s instanceof LogScale) {
    const { major, minor } = s.ticks();
    for (const v of minor) out.push(`<line x1="${f2(box.x0)}" x2="${f2(box.x0 + 1.5)}" y1="${f2(s.at(v))}" y2="${f2(s.at(v))}" stroke="#000" stroke-width="0.4"/>`);
    for (const v of major) {
      out.push(`<line x1="${f2(box.x0)}" x2="${f2(box.x0 + 3)}" y1="${f2(s.at(v))}" y2="${f2(s.at(v))}" stroke="#000" stroke-width="0.6"/>`);
      out.push(decadeLabel(v, box.x0 - 2.5, s.at(v) + 2.5, 'end'));
    }
  } else {
    for (const v of ticks ?? []) {
      out.push(`<line x1="${f2(box.x0)}" x2="${f2(box.x0 + 3)}" y1="${f2(s.at(v))}" y2="${f2(s.at(v))}" stroke="#000" stroke-width="0.6"/>`);
      out.push(`<text x="${f2(box.x0 - 2.5)}" y="${f2(s.at(v) + 2.3)}" text-anchor="end">${esc(fmt ? fmt(v) : String(v))}</text>`);
    }
  }
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// The figure's numbers, computed once (exported for tests).

/** Everything the figure draws, in data units (N, D, C in parameters, tokens, FLOPs; losses in nats). */
export interface FitPlotModel {
  /** Panel ranges. */
  nRange: [number, number];
  dRange: [number, number];
  cRange: [number, number];
  lossRange: [number, number];
  residualRange: [number, number];
  /** Iso-loss contours: level and the visible curve (N, D) points. */
  contours: { level: number; points: Pt[] }[];
  /** Compute-optimal frontier, one entry per compute budget (empty for kaplan-nd or α, β ≤ 0). */
  frontier: { C: number; N: number; D: number; loss: number }[];
  /** Bootstrap band of the frontier at the same budgets (empty without a bootstrap). */
  band: { C: number; nLo: number; nHi: number; lossLo: number; lossHi: number }[];
  /** Coverage of the band (e.g. 0.95), or undefined. */
  bandLevel?: number;
  /** Per run: compute 6ND, fitted loss and residual ln L − ln L̂. */
  C: number[];
  fitted: number[];
  residual: number[];
}

function pad(lo: number, hi: number, frac: number): [number, number] {
  const span = hi - lo || Math.abs(hi) * 0.1 || 1;
  return [lo - frac * span, hi + frac * span];
}

function logPad(lo: number, hi: number, factor: number): [number, number] {
  return [lo / factor, hi * factor];
}

/** The numbers of the figure for these runs and this fit. */
export function fitPlotModel(runs: PlotRuns, fit: FitResult): FitPlotModel {
  const n = runs.N.length;
  const N = Array.from(runs.N), D = Array.from(runs.D), loss = Array.from(runs.loss);
  const p = fit.params;
  const C = N.map((x, i) => 6 * x * D[i]!);
  const fitted = N.map((x, i) => lawLoss(p, x, D[i]!));
  const residual = loss.map((l, i) => Math.log(l) - Math.log(fitted[i]!));
  const nRange = logPad(Math.min(...N), Math.max(...N), 1.6);
  const dRange = logPad(Math.min(...D), Math.max(...D), 1.6);
  const cRange = logPad(Math.min(...C), Math.max(...C), 1.6);

  // Contour levels: round values inside the observed losses that the panel's corners reach.
  const lossLo = Math.min(...loss), lossHi = Math.max(...loss);
  const cornerLo = lawLoss(p, nRange[1], dRange[1]), cornerHi = lawLoss(p, nRange[0], dRange[0]);
  const lo = Math.max(lossLo, Number.isFinite(cornerLo) ? cornerLo : lossLo);
  const hi = Math.min(lossHi, Number.isFinite(cornerHi) ? cornerHi : lossHi);
  const levels = hi > lo ? niceTicks(lo, hi, 7) : [];
  const contours: FitPlotModel['contours'] = [];
  for (const level of levels) {
    const points: Pt[] = [];
    for (const x of logspace(nRange[0], nRange[1], 240)) {
      const y = isoLossD(p, level, x);
      if (Number.isFinite(y) && y >= dRange[0] && y <= dRange[1]) points.push([x, y]);
    }
    if (points.length >= 2) contours.push({ level, points });
  }

  const frontier: FitPlotModel['frontier'] = [];
  const band: FitPlotModel['band'] = [];
  let bandLevel: number | undefined;
  if ('A' in p && Number.isFinite(optimalN(p, cRange[0]))) {
    const budgets = logspace(cRange[0], cRange[1], 60);
    for (const c of budgets) {
      const nOpt = optimalN(p, c);
      const dOpt = c / (6 * nOpt);
      frontier.push({ C: c, N: nOpt, D: dOpt, loss: lawLoss(p, nOpt, dOpt) });
    }
    const s = fit.bootstrap?.samples;
    if (fit.bootstrap && s && s.A && s.B && s.E && s.alpha && s.beta) {
      bandLevel = fit.bootstrap.level;
      const q0 = (1 - bandLevel) / 2, q1 = 1 - q0;
      const R = s.A.length;
      const resamples: ChinchillaParams[] = [];
      for (let r = 0; r < R; r++) {
        const q = { A: s.A[r]!, B: s.B[r]!, E: s.E[r]!, alpha: s.alpha[r]!, beta: s.beta[r]! };
        if (Object.values(q).every(Number.isFinite) && q.alpha > 0 && q.beta > 0) resamples.push(q);
      }
      if (resamples.length >= 2) {
        for (const c of budgets) {
          const ns: number[] = [], ls: number[] = [];
          for (const q of resamples) {
            const nOpt = optimalN(q, c);
            if (!(nOpt > 0) || !Number.isFinite(nOpt)) continue;
            ns.push(nOpt);
            ls.push(lawLoss(q, nOpt, c / (6 * nOpt)));
          }
          ns.sort((a, b) => a - b);
          ls.sort((a, b) => a - b);
          band.push({ C: c, nLo: quantile(ns, q0), nHi: quantile(ns, q1), lossLo: quantile(ls, q0), lossHi: quantile(ls, q1) });
        }
      } else bandLevel = undefined;
    }
  }

  // Loss axis: the runs and, over the runs' compute range, the frontier and its band.
  const cMin = Math.min(...C), cMax = Math.max(...C);
  const ys = [...loss];
  for (const f of frontier) if (f.C >= cMin && f.C <= cMax && Number.isFinite(f.loss)) ys.push(f.loss);
  for (const b of band) if (b.C >= cMin && b.C <= cMax && Number.isFinite(b.lossLo)) ys.push(b.lossLo, b.lossHi);
  const lossRange = pad(Math.min(...ys), Math.max(...ys), 0.06);
  const rAbs = Math.max(1e-3, ...residual.filter(Number.isFinite).map(Math.abs));
  const residualRange: [number, number] = [-rAbs * 1.15, rAbs * 1.15];
  void n;
  return { nRange, dRange, cRange, lossRange, residualRange, contours, frontier, band, bandLevel, C, fitted, residual };
}

// ---------------------------------------------------------------------------------------------------------------
// The SVG.

const W = 504, H = 216; // 7.0 × 3.0 in at 72 pt/in
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const FRONTIER = '#c0392b';

/** The figure as an SVG document (7.0 × 3.0 in). */
export function renderFitPlotSvg(runs: PlotRuns, fit: FitResult, title: string): string {
  const m = fitPlotModel(runs, fit);
  const loss = Array.from(runs.loss);
  const N = Array.from(runs.N), D = Array.from(runs.D);
  let lMin = Math.min(...loss), lMax = Math.max(...loss);
  if (!(lMax > lMin)) {
    // one distinct loss: a colour bar of a small range around it
    const w = Math.max(1e-6, Math.abs(lMin) * 1e-3);
    lMin -= w;
    lMax += w;
  }
  const colour = (l: number) => viridis((l - lMin) / (lMax - lMin));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="7in" height="3in" viewBox="0 0 ${W} ${H}" font-family="${FONT}" font-size="6.5">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="11" text-anchor="middle" font-size="8.5" font-weight="bold">${esc(title)}</text>`);

  // Panel (a): the (N, D) plane.
  const A: Box = { x0: 40, x1: 222, y0: 24, y1: 186 };
  const sx = new LogScale(m.nRange[0], m.nRange[1], A.x0, A.x1);
  const sy = new LogScale(m.dRange[0], m.dRange[1], A.y1, A.y0);
  const xy = (n: number, d: number): Pt => [sx.at(n), sy.at(d)];
  out.push(`<defs><clipPath id="clip-a"><rect x="${A.x0}" y="${A.y0}" width="${A.x1 - A.x0}" height="${A.y1 - A.y0}"/></clipPath>`);
  const B: Box = { x0: 300, x1: 494, y0: 24, y1: 136 };
  const R: Box = { x0: 300, x1: 494, y0: 142, y1: 186 };
  out.push(`<clipPath id="clip-b"><rect x="${B.x0}" y="${B.y0}" width="${B.x1 - B.x0}" height="${B.y1 - B.y0}"/></clipPath>`);
  out.push(`<clipPath id="clip-r"><rect x="${R.x0}" y="${R.y0}" width="${R.x1 - R.x0}" height="${R.y1 - R.y0}"/></clipPath></defs>`);
  out.push(`<text x="${A.x0}" y="${A.y0 - 3}" font-weight="bold">(a)</text><text x="${A.x0 + 12}" y="${A.y0 - 3}">fitted iso-loss contours L̂(N, D)</text>`);

  // bootstrap band, then contours, frontier, runs
  const bandA = m.band.filter((b) => Number.isFinite(b.nLo) && Number.isFinite(b.nHi));
  if (bandA.length >= 2) {
    const poly: Pt[] = [...bandA.map((b) => xy(b.nLo, b.C / (6 * b.nLo))), ...bandA.slice().reverse().map((b) => xy(b.nHi, b.C / (6 * b.nHi)))];
    out.push(`<g id="band-a" clip-path="url(#clip-a)"><path d="${pathOf(poly)}Z" fill="${FRONTIER}" fill-opacity="0.2" stroke="none"/></g>`);
  }
  out.push('<g id="contours" clip-path="url(#clip-a)">');
  const labels: string[] = [];
  const levelDigits = m.contours.length > 1
    ? Math.max(0, -Math.floor(Math.log10(Math.abs(m.contours[1]!.level - m.contours[0]!.level)) + 1e-9)) : 2;
  m.contours.forEach((c, k) => {
    const pts = c.points.map(([n, d]) => xy(n, d));
    out.push(`<path d="${pathOf(pts)}" fill="none" stroke="#888" stroke-width="0.6"/>`);
    // Label at a point along the visible curve, staggered between levels so the labels do not line up.
    const frac = m.contours.length > 1 ? 0.25 + (0.5 * k) / (m.contours.length - 1) : 0.5;
    const at = pts[Math.min(pts.length - 1, Math.round(frac * (pts.length - 1)))]!;
    const text = c.level.toFixed(levelDigits);
    const w = 3.2 * text.length + 2;
    labels.push(
      `<rect x="${f2(at[0] - w / 2)}" y="${f2(at[1] - 3.2)}" width="${f2(w)}" height="6.4" fill="#fff"/>` +
        `<text class="contour-label" x="${f2(at[0])}" y="${f2(at[1] + 2)}" text-anchor="middle" font-size="5.5" fill="#555">${esc(text)}</text>`,
    );
  });
  out.push('</g>');
  if (m.frontier.length >= 2) {
    const pts = m.frontier.map((f) => xy(f.N, f.D));
    out.push(`<g id="frontier-a" clip-path="url(#clip-a)"><path d="${pathOf(pts)}" fill="none" stroke="${FRONTIER}" stroke-width="1.1" stroke-dasharray="3 1.5"/></g>`);
  }
  out.push('<g id="runs-a">');
  for (let i = 0; i < N.length; i++) {
    const [x, y] = xy(N[i]!, D[i]!);
    out.push(`<circle cx="${f2(x)}" cy="${f2(y)}" r="1.5" fill="${colour(loss[i]!)}" stroke="#222" stroke-width="0.2"/>`);
  }
  out.push('</g>');
  out.push(labels.join(''));
  if (m.frontier.length >= 2) {
    // Label the frontier where it is inside the panel, towards its upper end.
    const inside = m.frontier.filter((f) => f.N > m.nRange[0] && f.N < m.nRange[1] && f.D > m.dRange[0] && f.D < m.dRange[1]);
    if (inside.length >= 2) {
      // Along the line, above it, from near its lower end.
      const i = Math.floor((inside.length - 1) * 0.06);
      const [x, y] = xy(inside[i]!.N, inside[i]!.D);
      const [x2, y2] = xy(inside[i + 1]!.N, inside[i + 1]!.D);
      const deg = (Math.atan2(y2 - y, x2 - x) * 180) / Math.PI;
      const text = `compute-optimal frontier${m.bandLevel !== undefined ? ` (${Math.round(m.bandLevel * 100)}% band)` : ''}`;
      out.push(`<g id="frontier-label" transform="translate(${f2(x)} ${f2(y)}) rotate(${f2(deg)})">` +
        haloText(0, -4.5, text, `font-size="6" fill="${FRONTIER}"`) + '</g>');
    }
  }
  out.push(frame(A), xAxis(sx, A, true), yAxis(sy, A));
  out.push(`<text x="${(A.x0 + A.x1) / 2}" y="${A.y1 + 19}" text-anchor="middle">parameters N</text>`);
  out.push(`<text transform="translate(${A.x0 - 25} ${(A.y0 + A.y1) / 2}) rotate(-90)" text-anchor="middle">training tokens D</text>`);

  // Colour bar (loss of the runs) between the panels.
  const cb = { x0: 236, x1: 242, y0: A.y0 + 10, y1: A.y1 - 10 };
  out.push('<g id="colorbar"><defs><linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">');
  VIRIDIS.forEach((c, i) => out.push(`<stop offset="${f2(i / (VIRIDIS.length - 1))}" stop-color="${c}"/>`));
  out.push('</linearGradient></defs>');
  out.push(`<rect x="${cb.x0}" y="${cb.y0}" width="${cb.x1 - cb.x0}" height="${cb.y1 - cb.y0}" fill="url(#viridis)" stroke="#000" stroke-width="0.4"/>`);
  const cbScale = new LinScale(lMin, lMax, cb.y1, cb.y0);
  const cbTicks = niceTicks(lMin, lMax, 7);
  const cbDigits = Math.max(0, -Math.floor(Math.log10(niceStep(lMax - lMin, 7)) + 1e-9));
  for (const v of cbTicks) {
    const y = cbScale.at(v);
    out.push(`<line x1="${cb.x1}" x2="${cb.x1 + 2}" y1="${f2(y)}" y2="${f2(y)}" stroke="#000" stroke-width="0.4"/>`);
    out.push(`<text x="${cb.x1 + 3.5}" y="${f2(y + 2.2)}" font-size="5.5">${v.toFixed(cbDigits)}</text>`);
  }
  out.push(`<text x="${(cb.x0 + cb.x1) / 2}" y="${cb.y0 - 4}" text-anchor="middle" font-size="6">loss</text></g>`);

  // Panel (b): loss against compute, residuals beneath.
  const sc = new LogScale(m.cRange[0], m.cRange[1], B.x0, B.x1);
  const sl = new LinScale(m.lossRange[0], m.lossRange[1], B.y1, B.y0);
  const sr = new LinScale(m.residualRange[0], m.residualRange[1], R.y1, R.y0);
  out.push(`<text x="${B.x0}" y="${B.y0 - 3}" font-weight="bold">(b)</text><text x="${B.x0 + 12}" y="${B.y0 - 3}">loss against compute C = 6ND</text>`);
  const bandB = m.band.filter((b) => Number.isFinite(b.lossLo) && Number.isFinite(b.lossHi));
  if (bandB.length >= 2) {
    const poly: Pt[] = [...bandB.map((b): Pt => [sc.at(b.C), sl.at(b.lossLo)]), ...bandB.slice().reverse().map((b): Pt => [sc.at(b.C), sl.at(b.lossHi)])];
    out.push(`<g id="band-b" clip-path="url(#clip-b)"><path d="${pathOf(poly)}Z" fill="${FRONTIER}" fill-opacity="0.2" stroke="none"/></g>`);
  }
  out.push('<g id="runs-b" clip-path="url(#clip-b)">');
  for (let i = 0; i < N.length; i++) {
    out.push(`<circle cx="${f2(sc.at(m.C[i]!))}" cy="${f2(sl.at(loss[i]!))}" r="1.5" fill="${colour(loss[i]!)}" stroke="#222" stroke-width="0.2"/>`);
  }
  out.push('</g>');
  if (m.frontier.length >= 2) {
    const pts = m.frontier.map((f): Pt => [sc.at(f.C), sl.at(f.loss)]);
    out.push(`<g id="frontier-b" clip-path="url(#clip-b)"><path d="${pathOf(pts)}" fill="none" stroke="${FRONTIER}" stroke-width="1.1" stroke-dasharray="3 1.5"/></g>`);
  }
  // legend
  const lg = { x: B.x1 - 30, y: B.y0 + 8 };
  out.push('<g id="legend" font-size="5.8">');
  out.push(`<circle cx="${lg.x - 84}" cy="${lg.y - 2}" r="1.5" fill="${viridis(0.5)}" stroke="#222" stroke-width="0.2"/><text x="${lg.x - 80}" y="${lg.y}">runs (colour: loss)</text>`);
  if (m.frontier.length >= 2) {
    out.push(`<line x1="${lg.x - 88}" x2="${lg.x - 80.5}" y1="${lg.y + 6}" y2="${lg.y + 6}" stroke="${FRONTIER}" stroke-width="1.1" stroke-dasharray="3 1.5"/>`);
    out.push(`<text x="${lg.x - 80}" y="${lg.y + 8}">compute-optimal L̂(N<tspan dy="1.5" font-size="4.5">opt</tspan><tspan dy="-1.5">, D</tspan><tspan dy="1.5" font-size="4.5">opt</tspan><tspan dy="-1.5">)</tspan></text>`);
    out.push(m.bandLevel !== undefined
      ? `<rect x="${lg.x - 88}" y="${lg.y + 11}" width="7.5" height="4" fill="${FRONTIER}" fill-opacity="0.2"/><text x="${lg.x - 80}" y="${lg.y + 15.5}">${Math.round(m.bandLevel * 100)}% bootstrap band, ${fit.bootstrap!.resamples - fit.bootstrap!.failed} resamples</text>`
      : `<text x="${lg.x - 80}" y="${lg.y + 15.5}" fill="#666">(--bootstrap N draws its band)</text>`);
  }
  out.push('</g>');
  const lossTicks = niceTicks(m.lossRange[0], m.lossRange[1], 5);
  const lossDigits = Math.max(0, -Math.floor(Math.log10(niceStep(m.lossRange[1] - m.lossRange[0], 5)) + 1e-9));
  out.push(frame(B), xAxis(sc, B, false), yAxis(sl, B, lossTicks, (v) => v.toFixed(lossDigits)));
  out.push(`<text transform="translate(${B.x0 - 22} ${(B.y0 + B.y1) / 2}) rotate(-90)" text-anchor="middle">final loss L (nats)</text>`);

  out.push('<g id="residuals">');
  out.push(`<line x1="${R.x0}" x2="${R.x1}" y1="${f2(sr.at(0))}" y2="${f2(sr.at(0))}" stroke="#888" stroke-width="0.5" stroke-dasharray="2 1.5"/>`);
  out.push(`<g clip-path="url(#clip-r)">`);
  for (let i = 0; i < N.length; i++) {
    const r = m.residual[i]!;
    if (!Number.isFinite(r)) continue;
    out.push(`<circle cx="${f2(sc.at(m.C[i]!))}" cy="${f2(sr.at(r))}" r="1.2" fill="${colour(loss[i]!)}" stroke="#222" stroke-width="0.2"/>`);
  }
  out.push('</g></g>');
  const rStep = niceStep(m.residualRange[1] - m.residualRange[0], 3);
  const rTicks = niceTicks(m.residualRange[0], m.residualRange[1], 3);
  const rDigits = Math.max(0, -Math.floor(Math.log10(rStep) + 1e-9));
  out.push(frame(R), xAxis(sc, R, true), yAxis(sr, R, rTicks, (v) => (v === 0 ? '0' : v.toFixed(rDigits))));
  out.push(`<text transform="translate(${R.x0 - 22} ${(R.y0 + R.y1) / 2}) rotate(-90)" text-anchor="middle" font-size="5.8">ln L − ln L̂</text>`);
  out.push(`<text x="${(R.x0 + R.x1) / 2}" y="${R.y1 + 19}" text-anchor="middle">training compute C (FLOPs)</text>`);
  out.push('</svg>\n');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Writing the file.

/** The exact command that installs the PNG renderer. */
export const PNG_INSTALL = 'npm install @resvg/resvg-js';

interface ResvgModule {
  Resvg: new (svg: string, opts?: Record<string, unknown>) => { render(): { asPng(): Uint8Array } };
}

/** `--plot` cannot write this file: an unknown extension, or PNG without its optional renderer. */
export class PlotError extends Error {
  /** 'ERR_PLOT_FORMAT' (extension other than .svg/.png) or 'ERR_PLOT_DEPENDENCY' (renderer not installed). */
  readonly code: 'ERR_PLOT_FORMAT' | 'ERR_PLOT_DEPENDENCY';
  constructor(message: string, code: 'ERR_PLOT_FORMAT' | 'ERR_PLOT_DEPENDENCY') {
    super(message);
    this.name = 'PlotError';
    this.code = code;
  }
}

/** Loads `@resvg/resvg-js`, or throws a PlotError naming the command that installs it. */
export function loadResvg(req: (id: string) => unknown = require): ResvgModule {
  try {
    return req('@resvg/resvg-js') as ResvgModule;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new PlotError(
      `--plot to a .png needs the optional renderer @resvg/resvg-js, which is not installed (${why}). ` +
        `Install it with \`${PNG_INSTALL}\`, or write an .svg (no dependency).`,
      'ERR_PLOT_DEPENDENCY',
    );
  }
}

/** SVG text to PNG bytes at `dpi` (default 300) with the system fonts. */
export function svgToPng(svg: string, dpi = 300, req?: (id: string) => unknown): Uint8Array {
  const { Resvg } = loadResvg(req);
  const r = new Resvg(svg, {
    fitTo: { mode: 'width', value: Math.round(7 * dpi) },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return r.render().asPng();
}

/** The format a plot file name asks for, from its extension (case-insensitive). */
export function plotFormat(file: string): 'svg' | 'png' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new PlotError(`--plot writes .svg or .png files (got '${file}')`, 'ERR_PLOT_FORMAT');
}

/**
 * Renders the figure and writes it to `file` as SVG or PNG, by extension. Checks the format (and for PNG loads the
 * renderer) before writing anything, so a failure leaves no file behind.
 */
export function writeFitPlot(file: string, runs: PlotRuns, fit: FitResult, title: string): 'svg' | 'png' {
  const format = plotFormat(file);
  if (format === 'png') loadResvg();
  const svg = renderFitPlotSvg(runs, fit, title);
  fs.writeFileSync(file, format === 'svg' ? svg : svgToPng(svg));
  return format;
}

/** The default title: law, objective, run count and the input's base name (never its absolute path). */
export function defaultPlotTitle(law: string, objective: string, runs: number, file: string): string {
  return `${law} fit (${objective}) to ${runs} runs of ${file === '-' ? 'stdin' : path.basename(file)}`;
}
