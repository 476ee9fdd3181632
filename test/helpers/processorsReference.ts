// Float64 reference of the logits processors (issue #8) and a χ² helper for the processor tests. Written from the
// contract in lib/tree/sampling.ts, independently of native/core/processors.cc.
import type { LogitBias, Penalties } from '../../lib/tree/sampling';
import type { TreeBatch } from '../../lib/tree/types';

export interface ProcessorOptions {
  allowedTokens?: Uint32Array;
  logitBias?: LogitBias;
  penalties?: Penalties;
}

const at = (v: number | Float32Array | undefined, b: number, off: number) =>
  v === undefined ? off : typeof v === 'number' ? Math.fround(v) : v[b]!;

/**
 * Row g (global node of request b) after the processors, in float64: mask → bias → penalties, with the counts
 * of the request's history plus the drafted tokens on the path from the root (exclusive) to g (inclusive).
 */
export function processRow(z: ArrayLike<number>, o: ProcessorOptions, t: TreeBatch, b: number, g: number, vocab: number): Float64Array {
  const out = Float64Array.from({ length: vocab }, (_, x) => z[x]!);
  const batch = t.offsets.length - 1;
  const W = Math.ceil(vocab / 32);
  if (o.allowedTokens) {
    const row = o.allowedTokens.length === batch * W ? b : g;
    for (let x = 0; x < vocab; x++) if (!((o.allowedTokens[row * W + (x >> 5)]! >>> (x & 31)) & 1)) out[x] = -Infinity;
  }
  if (o.logitBias) {
    const { offsets, ids, values } = o.logitBias;
    for (let i = offsets[b]!; i < offsets[b + 1]!; i++) out[ids[i]!] += values[i]!;
  }
  if (o.penalties) {
    const p = o.penalties;
    const counts = new Map<number, number>();
    const h = p.history;
    for (let i = h.offsets[b]!; i < h.offsets[b + 1]!; i++) counts.set(h.ids[i]!, (counts.get(h.ids[i]!) ?? 0) + h.counts[i]!);
    const root = t.offsets[b]!;
    for (let n = g; n !== root; n = root + t.parents[n]!) if (t.tokens[n]! >= 0) counts.set(t.tokens[n]!, (counts.get(t.tokens[n]!) ?? 0) + 1);
    const r = at(p.repetition, b, 1), f = at(p.frequency, b, 0), pr = at(p.presence, b, 0);
    for (const [x, c] of counts) {
      if (c <= 0) continue;
      out[x] = out[x]! > 0 ? out[x]! / r : out[x]! * r;
      out[x] -= c * f;
      out[x] -= pr;
    }
  }
  return out;
}

/** Every row of `data` (rows × vocab, node order) processed for its own node. */
export function processAll(data: ArrayLike<number>, o: ProcessorOptions, t: TreeBatch, vocab: number): Float64Array {
  const out = new Float64Array(t.tokens.length * vocab);
  const batch = t.offsets.length - 1;
  for (let b = 0; b < batch; b++) {
    for (let g = t.offsets[b]!; g < t.offsets[b + 1]!; g++) {
      out.set(processRow(Array.prototype.slice.call(data, g * vocab, (g + 1) * vocab) as number[], o, t, b, g, vocab), g * vocab);
    }
  }
  return out;
}

/** A bit-packed mask of `rows` rows from a predicate. */
export function packMask(rows: number, vocab: number, allowed: (row: number, x: number) => boolean): Uint32Array {
  const W = Math.ceil(vocab / 32);
  const m = new Uint32Array(rows * W);
  for (let r = 0; r < rows; r++) for (let x = 0; x < vocab; x++) if (allowed(r, x)) m[r * W + (x >> 5)] |= 1 << (x & 31);
  return m;
}

/** Upper tail of χ²_k (Wilson–Hilferty). */
export function chi2p(x: number, k: number): number {
  const h = 2 / (9 * k);
  const z = (Math.cbrt(x / k) - (1 - h)) / Math.sqrt(h);
  const t = z / Math.SQRT2;
  return t < 0 ? 1 - 0.5 * erfc(-t) : 0.5 * erfc(t);
}
function erfc(x: number): number {
  // Numerical Recipes erfcc (relative error < 1.2e-7).
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/** Pearson χ² of counts against probabilities (cells with expectation < 5 pooled); impossible = counts where p = 0. */
export function chi2(counts: ArrayLike<number>, expect: ArrayLike<number>, n: number) {
  let stat = 0, dof = -1, pe = 0, po = 0, impossible = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = expect[i]! * n;
    if (expect[i] === 0) { impossible += counts[i]!; continue; }
    if (e < 5) { pe += e; po += counts[i]!; continue; }
    stat += ((counts[i]! - e) ** 2) / e;
    dof++;
  }
  if (pe > 0) { stat += ((po - pe) ** 2) / pe; dof++; }
  return { stat, dof, p: dof >= 1 ? chi2p(stat, dof) : 1, impossible };
}
