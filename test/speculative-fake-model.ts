/**
 * A tiny deterministic JS "transformer" implementing ModelAdapter, for fast tests of the decoder logic: the
 * hidden state of a token is a position-decayed sum of the embeddings of every column its attention bias makes
 * visible, so any mistake in masks, positions or cache compaction changes the logits.
 */
import type { AttentionBias, ForwardResult, ModelAdapter } from '../lib/speculative';
import { mulberry32 } from '../lib/runtime/prng';
import { f16Bits, f16Value } from '../lib/runtime/dtype';

export interface FakeCache {
  /** batch × columns × 2 (token, position). */
  cols: Int32Array;
  columns: number;
}

export interface FakeModelOptions {
  vocab: number;
  dim?: number;
  seed: number;
  /** Logit scale: larger = more peaked distributions. */
  scale?: number;
  /** Mix in a second model's weights (a draft close to its target): w = (1 − mix)·own + mix·other. */
  like?: { model: FakeModel; mix: number };
  window?: number;
  eosId?: number;
  /** Emit float16 logits (Uint16Array bits) like a runtime exporting half-precision logits. */
  half?: boolean;
}

export class FakeModel implements ModelAdapter<FakeCache> {
  readonly vocab: number;
  readonly window?: number;
  readonly eosId?: number;
  readonly E: Float64Array;
  readonly U: Float64Array;
  readonly dim: number;
  readonly scale: number;
  readonly half: boolean;
  forwardCalls = 0;
  rowsComputed = 0;

  constructor(o: FakeModelOptions) {
    this.vocab = o.vocab;
    this.dim = o.dim ?? 8;
    this.scale = o.scale ?? 3;
    this.window = o.window;
    this.eosId = o.eosId;
    this.half = o.half ?? false;
    const r = mulberry32(o.seed);
    const g = () => (r() + r() + r() - 1.5) * 1.4;
    this.E = Float64Array.from({ length: this.vocab * this.dim }, g);
    this.U = Float64Array.from({ length: this.vocab * this.dim }, g);
    if (o.like) {
      const m = o.like.mix;
      for (let i = 0; i < this.E.length; i++) {
        this.E[i] = (1 - m) * this.E[i]! + m * o.like.model.E[i]!;
        this.U[i] = (1 - m) * this.U[i]! + m * o.like.model.U[i]!;
      }
    }
  }

  async forward(tokens: Int32Array, positions: Int32Array, bias: AttentionBias, cache: FakeCache | null): Promise<ForwardResult<FakeCache>> {
    this.forwardCalls++;
    const { batch: B, rows: S, columns: C } = bias;
    const P = cache?.columns ?? 0;
    if (C !== P + S) throw new Error(`fake: columns ${C} != P ${P} + S ${S}`);
    if (bias.data.length !== B * S * C) throw new Error('fake: bias size');
    const cols = new Int32Array(B * C * 2);
    for (let b = 0; b < B; b++) {
      if (cache) cols.set(cache.cols.subarray(b * P * 2, (b + 1) * P * 2), b * C * 2);
      for (let s = 0; s < S; s++) {
        cols[(b * C + P + s) * 2] = tokens[b * S + s]!;
        cols[(b * C + P + s) * 2 + 1] = positions[b * S + s]!;
      }
    }
    const V = this.vocab;
    const D = this.dim;
    const logits = new Float32Array(B * S * V);
    const h = new Float64Array(D);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        this.rowsComputed++;
        const pos = positions[b * S + s]!;
        h.fill(0);
        const brow = bias.data.subarray((b * S + s) * C, (b * S + s + 1) * C);
        for (let j = 0; j < C; j++) {
          if (brow[j]! < -1e3) continue;
          const tok = cols[(b * C + j) * 2]!;
          const p = cols[(b * C + j) * 2 + 1]!;
          const w = Math.pow(0.45, pos - p) * (1 + 0.3 * ((p * 7) % 5));
          for (let d = 0; d < D; d++) h[d]! += w * this.E[tok * D + d]!;
        }
        for (let d = 0; d < D; d++) h[d]! += 0.5 * Math.sin(pos * (d + 1) * 0.9);
        for (let v = 0; v < V; v++) {
          let z = 0;
          for (let d = 0; d < D; d++) z += this.U[v * D + d]! * h[d]!;
          logits[(b * S + s) * V + v] = this.scale * Math.tanh(z / 2);
        }
      }
    }
    if (this.half) {
      return { logits: { data: Uint16Array.from(logits, f16Bits), dtype: 'float16', rows: B * S, vocab: V }, cache: { cols, columns: C } };
    }
    return { logits: { data: logits, rows: B * S, vocab: V }, cache: { cols, columns: C } };
  }

  keep(cache: FakeCache, indices: Int32Array, length: number): FakeCache {
    const B = indices.length / Math.max(1, length);
    const P = cache.columns;
    const cols = new Int32Array(B * length * 2);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < length; k++) {
        const j = indices[b * length + k]!;
        if (!(j >= 0 && j < P)) throw new Error(`fake: keep index ${j} out of [0, ${P})`);
        cols[(b * length + k) * 2] = cache.cols[(b * P + j) * 2]!;
        cols[(b * length + k) * 2 + 1] = cache.cols[(b * P + j) * 2 + 1]!;
      }
    }
    return { cols, columns: length };
  }
}

/** Plain autoregressive greedy decoding straight on the model (no lengthwise code), with top-2 margins. */
export async function plainGreedy(m: FakeModel | ModelAdapter, prompt: number[], n: number): Promise<{ tokens: number[]; margins: number[] }> {
  let cache: unknown = null;
  let P = 0;
  const tokens: number[] = [];
  const margins: number[] = [];
  let feed = prompt.slice();
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const S = feed.length;
    const bias = new Float32Array(S * (P + S)).fill(-1e9);
    for (let s = 0; s < S; s++) for (let j = 0; j <= P + s; j++) bias[s * (P + S) + j] = 0;
    const res = await (m as ModelAdapter).forward(Int32Array.from(feed), Int32Array.from(feed, (_, k) => pos + k), { data: bias, batch: 1, rows: S, columns: P + S }, cache);
    cache = res.cache;
    P += S;
    pos += S;
    const V = m.vocab;
    const raw = res.logits.data as Float32Array | Uint16Array;
    const d = raw instanceof Uint16Array ? Float32Array.from(raw, f16Value) : raw;
    const row = d.subarray((S - 1) * V, S * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    let second = -Infinity;
    for (let v = 0; v < V; v++) if (v !== best && row[v]! > second) second = row[v]!;
    tokens.push(best);
    margins.push(row[best]! - second);
    feed = [best];
  }
  return { tokens, margins };
}
