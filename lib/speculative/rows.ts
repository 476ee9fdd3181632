/**
 * Logits rows for the drafter: reading a row of any dtype, the draft distribution q, and drawing children
 * (top-m, i.i.d., without replacement).
 *
 * @packageDocumentation
 */
import type { Logits } from '../logits';

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = 2 ** (e - 15);

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * F16_EXP[e]! * (1 + m / 1024);
}

const BF16 = new Float32Array(1);
const BF16_BITS = new Uint32Array(BF16.buffer);

/** Row `r` of host logits as float32 (float16 / bfloat16 bits are widened). */
export function readRow(l: Logits, r: number, out = new Float32Array(l.vocab)): Float32Array {
  const V = l.vocab;
  const d = l.data;
  if (d instanceof Float32Array) {
    out.set(d.subarray(r * V, r * V + V));
  } else if (d instanceof Uint16Array) {
    if (l.dtype === 'bfloat16') {
      for (let i = 0; i < V; i++) {
        BF16_BITS[0] = d[r * V + i]! << 16;
        out[i] = BF16[0]!;
      }
    } else {
      for (let i = 0; i < V; i++) out[i] = halfToFloat(d[r * V + i]!);
    }
  } else {
    throw new TypeError('model adapters must return host logits (Float32Array or Uint16Array)');
  }
  return out;
}

/** Copies the listed rows of `l` (same dtype) into a new host Logits. */
export function gatherRows(l: Logits, rows: ArrayLike<number>): Logits {
  const V = l.vocab;
  const d = l.data;
  if (!(d instanceof Float32Array || d instanceof Uint16Array)) {
    throw new TypeError('model adapters must return host logits (Float32Array or Uint16Array)');
  }
  const out = d instanceof Float32Array ? new Float32Array(rows.length * V) : new Uint16Array(rows.length * V);
  for (let i = 0; i < rows.length; i++) out.set(d.subarray(rows[i]! * V, rows[i]! * V + V), i * V);
  return { data: out, dtype: l.dtype ?? 'float32', rows: rows.length, vocab: V };
}

/** The drafter's distribution at one node: the scaled row (what verifyTree gets) and q = softmax of it. */
export interface DraftRow {
  /** z / T as float32: the row handed to verification, q = softmax(scaled). */
  scaled: Float32Array;
  /** max of `scaled` and log Σ exp(scaled − max). */
  max: number;
  lse: number;
  /** q as float64, only when drawing from it (`full`). */
  q?: Float64Array;
}

/**
 * q = softmax(z / T) from the float32 scaled row; the float64 q array is built only when `full` (sampled
 * drafts); deterministic drafts only need q of the chosen tokens ({@link probOf}).
 */
export function draftRow(z: Float32Array, temperature: number, full: boolean): DraftRow {
  const V = z.length;
  let scaled = z;
  if (temperature !== 1) {
    scaled = new Float32Array(V);
    const inv = 1 / temperature;
    for (let i = 0; i < V; i++) scaled[i] = z[i]! * inv;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (scaled[i]! > max) max = scaled[i]!;
  if (!Number.isFinite(max)) throw new RangeError(`draft logits row has no finite maximum (got ${max})`);
  let sum = 0;
  let q: Float64Array | undefined;
  if (full) {
    q = new Float64Array(V);
    for (let i = 0; i < V; i++) sum += q[i] = Math.exp(scaled[i]! - max);
    for (let i = 0; i < V; i++) q[i]! /= sum;
  } else {
    for (let i = 0; i < V; i++) sum += Math.exp(scaled[i]! - max);
  }
  return { scaled, max, lse: Math.log(sum), q };
}

/** q(token) of a draft row. */
export function probOf(r: DraftRow, token: number): number {
  return r.q ? r.q[token]! : Math.exp(r.scaled[token]! - r.max - r.lse);
}

/** The m most probable tokens, most probable first (ties to the lower id). */
export function topTokens(q: Float32Array | Float64Array, m: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!;
    if (best.length === m && v <= q[best[m - 1]!]!) continue;
    let k = best.length < m ? best.length : m - 1;
    best[k] = i;
    while (k > 0 && q[best[k - 1]!]! < v) {
      best[k] = best[k - 1]!;
      best[k - 1] = i;
      k--;
    }
  }
  return best;
}

function drawOne(q: Float64Array, mass: number, u: number, removed: Set<number> | null): number {
  let target = u * mass;
  let last = -1;
  for (let i = 0; i < q.length; i++) {
    if (removed !== null && removed.has(i)) continue;
    const p = q[i]!;
    if (p <= 0) continue;
    last = i;
    target -= p;
    if (target < 0) return i;
  }
  return last; // rounding left a sliver of mass past the end
}

/** m independent draws from q. */
export function drawIid(q: Float64Array, m: number, rand: () => number): number[] {
  const out: number[] = [];
  for (let k = 0; k < m; k++) out.push(drawOne(q, 1, rand(), null));
  return out;
}

/** Up to m draws from q without replacement (stops early when q's support is exhausted). */
export function drawWithoutReplacement(q: Float64Array, m: number, rand: () => number): number[] {
  const out: number[] = [];
  const removed = new Set<number>();
  let mass = 1;
  for (let k = 0; k < m; k++) {
    if (!(mass > 1e-12)) break;
    const t = drawOne(q, mass, rand(), removed);
    if (t < 0) break;
    out.push(t);
    removed.add(t);
    mass -= q[t]!;
  }
  return out;
}
