// A toy language model for exactness tests of the sampling modes: logits are a hash of the context (one token
// per context at -Infinity), the processed target p and the draft q per context, with plain-array caches.
import { processedDistribution, type Processing } from './treeReference';
import { rng } from './rng';

/** 'indep': own logits; 'p': q = processed target; 'flat': uniform. */
export type DraftShape = 'indep' | 'p' | 'flat';

export class ToyModel {
  private t: Float32Array[] = [];
  private d: Float32Array[] = [];
  private pc: Float64Array[] = [];
  private qc: Float64Array[] = [];
  constructor(readonly V: number, readonly processing: Processing, readonly q: DraftShape, readonly salt: number) {}
  /** Context key (contexts are a few tokens deep, so keys stay small integers). */
  key(ctx: number[]): number {
    let k = 1;
    for (const x of ctx) k = k * (this.V + 1) + x + 1;
    return k;
  }
  child(k: number, tok: number): number {
    return k * (this.V + 1) + tok + 1;
  }
  private logits(k: number, salt: number): Float32Array {
    const r = rng((k * 2654435761 + salt * 97 + 13) >>> 0);
    const z = new Float32Array(this.V);
    for (let x = 0; x < this.V; x++) z[x] = 1.3 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    z[Math.floor(r() * this.V)] = -Infinity;
    return z;
  }
  target(k: number): Float32Array {
    return (this.t[k] ??= this.logits(k, this.salt));
  }
  p(k: number): Float64Array {
    return (this.pc[k] ??= processedDistribution(this.target(k), this.processing));
  }
  draft(k: number): Float32Array {
    let z = this.d[k];
    if (!z) {
      if (this.q === 'indep') z = this.logits(k, this.salt + 1000);
      else if (this.q === 'flat') z = new Float32Array(this.V);
      else z = Float32Array.from(this.p(k), (v) => (v > 0 ? Math.log(v) : -Infinity));
      this.d[k] = z;
    }
    return z;
  }
  qd(k: number): Float64Array {
    return (this.qc[k] ??= processedDistribution(this.draft(k), {}));
  }
}

/** A draw from unnormalised weights `w` with uniform `u` in [0, 1). */
export function draw(w: ArrayLike<number>, u: number): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  let x = u * s;
  let last = -1;
  for (let i = 0; i < w.length; i++) {
    if (w[i] <= 0) continue;
    last = i;
    x -= w[i];
    if (x < 0) return i;
  }
  return last;
}

function erfc(x: number): number {
  // Numerical Recipes erfcc (relative error < 1.2e-7).
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/** Upper tail of χ²_k (Wilson–Hilferty). */
export function chi2p(x: number, k: number): number {
  const h = 2 / (9 * k);
  const t = (Math.cbrt(x / k) - (1 - h)) / Math.sqrt(h) / Math.SQRT2;
  return t < 0 ? 1 - 0.5 * erfc(-t) : 0.5 * erfc(t);
}

/** χ² of counts against probabilities over n trials: cells with expected count < 5 pooled. */
export function chi2(counts: ArrayLike<number>, expect: ArrayLike<number>, n: number) {
  let stat = 0;
  let dof = -1;
  let pe = 0;
  let po = 0;
  let impossible = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = expect[i] * n;
    if (expect[i] === 0) { impossible += counts[i]; continue; }
    if (e < 5) { pe += e; po += counts[i]; continue; }
    stat += ((counts[i] - e) ** 2) / e;
    dof++;
  }
  if (pe > 0) { stat += ((po - pe) ** 2) / pe; dof++; }
  return { stat, dof, p: chi2p(stat, Math.max(dof, 1)), impossible };
}
