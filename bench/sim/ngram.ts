// Character n-gram language models with interpolated smoothing: every token has probability > 0.

export class NGramModel {
  readonly vocab: number;
  private readonly counts: Map<string, Float64Array>[] = []; // counts[k]: context of length k → next-token counts
  private readonly cache = new Map<string, Float32Array>();

  /**
   * @param order n: the model conditions on the last n − 1 tokens.
   * @param beta interpolation weight of the lower order (larger = smoother).
   */
  constructor(
    tokens: Int32Array,
    vocab: number,
    readonly order: number,
    private readonly beta = 1,
  ) {
    this.vocab = vocab;
    for (let k = 0; k < order; k++) {
      const m = new Map<string, Float64Array>();
      for (let i = k; i < tokens.length; i++) {
        const key = ctxKey(tokens, i - k, i);
        let c = m.get(key);
        if (!c) m.set(key, (c = new Float64Array(vocab)));
        c[tokens[i]] += 1;
      }
      this.counts.push(m);
    }
  }

  /** Log-probabilities (natural log) of the next token after `context` (uses its last order − 1 tokens). */
  logits(context: ArrayLike<number>): Float32Array {
    const k = Math.min(this.order - 1, context.length);
    const key = ctxKey(context, context.length - k, context.length);
    const hit = this.cache.get(key);
    if (hit) return hit;
    let p = new Float64Array(this.vocab).fill(1 / this.vocab);
    for (let j = 0; j <= k; j++) {
      const c = this.counts[j].get(ctxKey(context, context.length - j, context.length));
      if (!c) break;
      let total = 0;
      for (let x = 0; x < this.vocab; x++) total += c[x];
      const next = new Float64Array(this.vocab);
      for (let x = 0; x < this.vocab; x++) next[x] = (c[x] + this.beta * p[x]) / (total + this.beta);
      p = next;
    }
    const out = Float32Array.from(p, Math.log);
    this.cache.set(key, out);
    return out;
  }
}

function ctxKey(t: ArrayLike<number>, from: number, to: number): string {
  let s = '';
  for (let i = Math.max(0, from); i < to; i++) s += String.fromCharCode(65 + t[i]);
  return s;
}
