/**
 * Logits rows for the drafter: reading a row of any dtype, the draft distribution q, and drawing children
 * (top-m, i.i.d., without replacement).
 *
 * @packageDocumentation
 */
import { bf16Value, byteView, f16Value, isByteView } from '../runtime/dtype';
import type { Logits } from '../logits';
import { rangeError, typeError } from '../runtime/validate';

/** The host data of `l`, raw bytes (Buffer / DataView) viewed as the dtype's elements. */
function hostData(l: Logits): Logits['data'] {
  if (!isByteView(l.data)) return l.data;
  return l.dtype === 'float32' || l.dtype === undefined
    ? byteView(l.data, 4, 'logits.data', Float32Array, 'float32')
    : byteView(l.data, 2, 'logits.data', Uint16Array, l.dtype);
}

/**
 * Row `r` of host logits as float32: a view of float32 data unless `copy`, a widened copy of float16 /
 * bfloat16 bits.
 */
export function readRow(l: Logits, r: number, copy: boolean): Float32Array {
  const V = l.vocab;
  const d = hostData(l);
  if (d instanceof Float32Array && !copy) return d.subarray(r * V, r * V + V);
  const out = new Float32Array(V);
  if (d instanceof Float32Array) {
    out.set(d.subarray(r * V, r * V + V));
  } else if (d instanceof Uint16Array) {
    const widen = l.dtype === 'bfloat16' ? bf16Value : f16Value;
    for (let i = 0; i < V; i++) out[i] = widen(d[r * V + i]!);
  } else {
    throw typeError('model adapters must return host logits (Float32Array or Uint16Array)');
  }
  return out;
}

/** The listed rows of `l` (same dtype) as host Logits: a view when they are consecutive, else a copy. */
export function gatherRows(l: Logits, rows: ArrayLike<number>): Logits {
  const V = l.vocab;
  const d = hostData(l);
  if (!(d instanceof Float32Array || d instanceof Uint16Array)) {
    throw typeError('model adapters must return host logits (Float32Array or Uint16Array)');
  }
  let consecutive = rows.length > 0;
  for (let i = 1; i < rows.length && consecutive; i++) consecutive = rows[i] === rows[0]! + i;
  if (consecutive) {
    return { data: d.subarray(rows[0]! * V, (rows[0]! + rows.length) * V), dtype: l.dtype ?? 'float32', rows: rows.length, vocab: V };
  }
  const out = d instanceof Float32Array ? new Float32Array(rows.length * V) : new Uint16Array(rows.length * V);
  for (let i = 0; i < rows.length; i++) out.set(d.subarray(rows[i]! * V, rows[i]! * V + V), i * V);
  return { data: out, dtype: l.dtype ?? 'float32', rows: rows.length, vocab: V };
}

/** The drafter's distribution at one node: the scaled row (what verifyTree gets), its max and log-sum-exp. */
export interface DraftRow {
  /** z / T as float32: the row handed to verification, q = softmax(scaled). */
  scaled: Float32Array;
  max: number;
  /** log Σ exp(scaled · inv − max). */
  lse: number;
  /** Factor still to apply to `scaled` (1 unless the row was left unscaled, see {@link lazyRow}). */
  inv: number;
}

/** A row left unscaled whose log-sum-exp of z / T is already known (from the native `logitStats`). */
export function lazyRow(z: Float32Array, temperature: number, lseOfScaled: number): DraftRow {
  return { scaled: z, max: 0, lse: lseOfScaled, inv: 1 / temperature };
}

/**
 * Turns a row (scaled in place when T ≠ 1: pass a copy then) into q = softmax(z / T). With `cumulative`, also fills it with the
 * running sums of exp(scaled − max) for drawing ({@link drawIid}, {@link drawWithoutReplacement}); the buffer
 * is only valid until the next call that uses it. Without `needProbs` (top-k drafts of fixed shapes) the
 * exponential pass is skipped and q is unknown (`lse` NaN).
 */
export function draftRow(z: Float32Array, temperature: number, cumulative?: Float64Array, needProbs = true): DraftRow {
  const V = z.length;
  if (temperature !== 1) {
    const inv = 1 / temperature;
    for (let i = 0; i < V; i++) z[i] = z[i]! * inv;
  }
  if (!needProbs && !cumulative) return { scaled: z, max: NaN, lse: NaN, inv: 1 };
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (z[i]! > max) max = z[i]!;
  if (!Number.isFinite(max)) throw rangeError(`draft logits row has no finite maximum (got ${max})`);
  let sum = 0;
  if (cumulative) {
    for (let i = 0; i < V; i++) cumulative[i] = sum += Math.exp(z[i]! - max);
  } else {
    for (let i = 0; i < V; i++) sum += Math.exp(z[i]! - max);
  }
  return { scaled: z, max, lse: Math.log(sum), inv: 1 };
}

/** q(token) of a draft row. */
export function probOf(r: DraftRow, token: number): number {
  return Math.exp(r.scaled[token]! * r.inv - r.max - r.lse);
}

/** The m most probable tokens, most probable first (ties to the lower id). */
export function topTokens(q: Float32Array | Float64Array, m: number): number[] {
  if (m === 1) {
    let b = 0;
    let v = q[0]!;
    for (let i = 1; i < q.length; i++) if (q[i]! > v) v = q[b = i]!;
    return [b];
  }
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

/** First index whose running sum exceeds u · total (binary search), skipping empty entries. */
function drawOne(cum: Float64Array, V: number, u: number): number {
  const target = u * cum[V - 1]!;
  let lo = 0;
  let hi = V - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** m independent draws from q (given by its running sums, {@link draftRow}). */
export function drawIid(cum: Float64Array, V: number, m: number, rand: () => number): number[] {
  const out: number[] = [];
  for (let k = 0; k < m; k++) out.push(drawOne(cum, V, rand()));
  return out;
}

/**
 * Up to m draws from q without replacement: each draw is a draw from q conditioned on the tokens not drawn yet
 * (by rejection, exact; a linear scan when the tokens drawn hold nearly all the mass). Stops early when q's
 * support is exhausted.
 */
export function drawWithoutReplacement(cum: Float64Array, V: number, m: number, rand: () => number): number[] {
  const out: number[] = [];
  const total = cum[V - 1]!;
  const p = (i: number) => cum[i]! - (i > 0 ? cum[i - 1]! : 0);
  let removedMass = 0;
  for (let k = 0; k < m; k++) {
    const left = total - removedMass;
    if (!(left > total * 1e-12)) break;
    let t = -1;
    if (left > 0.05 * total) {
      for (let tries = 0; tries < 200 && t < 0; tries++) {
        const c = drawOne(cum, V, rand());
        if (!out.includes(c)) t = c;
      }
    }
    if (t < 0) {
      let target = rand() * left;
      for (let i = 0; i < V; i++) {
        if (out.includes(i)) continue;
        const pi = p(i);
        if (pi <= 0) continue;
        t = i;
        target -= pi;
        if (target < 0) break;
      }
    }
    if (t < 0) break;
    out.push(t);
    removedMass += p(t);
  }
  return out;
}
