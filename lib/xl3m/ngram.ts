/**
 * A small, real language model for examples, tests and the demo: a word n-gram model with Witten–Bell
 * interpolation, mixed with a cache model of the same order built from the sequence being scored
 * (Kuhn & De Mori 1990). The cache is what lets the model "read" its context: a phrase seen earlier in the
 * sub-context becomes predictable, so its question positions get low entropy and low NLL.
 */

type Counts = Map<string, Map<number, number>>;

function bump(counts: Counts, key: string, w: number): void {
  let m = counts.get(key);
  if (!m) counts.set(key, (m = new Map()));
  m.set(w, (m.get(w) ?? 0) + 1);
}

function ctxKey(seq: ArrayLike<number>, end: number, k: number): string {
  let s = '';
  for (let i = end - k; i < end; i++) s += seq[i] + ',';
  return s;
}

/** Witten–Bell step: p ← (c(h,·) + T(h)·p) / (c(h) + T(h)), in place; no-op for an unseen context. */
function interpolate(p: Float64Array, followers: Map<number, number> | undefined): number {
  if (!followers) return 0;
  let c = 0;
  for (const n of followers.values()) c += n;
  const t = followers.size;
  const keep = t / (c + t);
  for (let w = 0; w < p.length; w++) p[w] *= keep;
  for (const [w, n] of followers) p[w] += n / (c + t);
  return c;
}

/** Options of {@link NgramLM}. */
export interface NgramOptions {
  /** Vocabulary size; tokens are integers in [0, vocab). */
  vocab: number;
  /** n (context = n − 1 tokens). Default 4. */
  order?: number;
  /** Largest weight of the cache model, approached as its longest context is seen more often. Default 0.9. */
  cacheWeight?: number;
  /** Pseudo-count β of the cache weight λ = cacheWeight · n / (n + β), n = cache count of the context. Default 0.1. */
  cacheSmoothing?: number;
}

/** Word n-gram language model with a context cache; see the module comment. */
export class NgramLM {
  readonly vocab: number;
  readonly order: number;
  private readonly cacheWeight: number;
  private readonly cacheSmoothing: number;
  private readonly counts: Counts[] = [];
  private readonly unigram: Float64Array;
  private total = 0;

  constructor(opts: NgramOptions) {
    this.vocab = opts.vocab;
    this.order = opts.order ?? 4;
    this.cacheWeight = opts.cacheWeight ?? 0.9;
    this.cacheSmoothing = opts.cacheSmoothing ?? 0.1;
    for (let k = 0; k < this.order; k++) this.counts.push(new Map());
    this.unigram = new Float64Array(this.vocab);
  }

  /** Adds the n-gram counts of `seq` to the static model. */
  train(seq: Int32Array): this {
    for (let t = 0; t < seq.length; t++) {
      this.unigram[seq[t]]++;
      this.total++;
      for (let k = 1; k < this.order && k <= t; k++) bump(this.counts[k], ctxKey(seq, t, k), seq[t]);
    }
    return this;
  }

  private staticDist(seq: Int32Array, end: number): Float64Array {
    const p = new Float64Array(this.vocab);
    for (let w = 0; w < this.vocab; w++) p[w] = (this.unigram[w] + 1) / (this.total + this.vocab);
    for (let k = 1; k < this.order && k <= end; k++) interpolate(p, this.counts[k].get(ctxKey(seq, end, k)));
    return p;
  }

  /**
   * Next-token log-probabilities (natural log, usable as logits) after each prefix `seq[0..t]` for t in
   * `positions` (ascending): a positions.length × vocab row-major Float32Array. Row j predicts seq[positions[j] + 1].
   */
  logits(seq: Int32Array, positions: ArrayLike<number>): Float32Array {
    const V = this.vocab;
    const out = new Float32Array(positions.length * V);
    const cache: Counts[] = [];
    for (let k = 0; k < this.order; k++) cache.push(new Map());
    const cacheUni = new Float64Array(V);
    let seen = 0; // tokens seq[0..seen) are in the cache
    for (let j = 0; j < positions.length; j++) {
      const end = positions[j] + 1; // predict seq[end] from seq[0..end)
      for (; seen < end; seen++) {
        cacheUni[seq[seen]]++;
        for (let k = 1; k < this.order && k <= seen; k++) bump(cache[k], ctxKey(seq, seen, k), seq[seen]);
      }
      const p = this.staticDist(seq, end);
      const c = new Float64Array(V);
      for (let w = 0; w < V; w++) c[w] = cacheUni[w] / end;
      let longest = 0;
      for (let k = 1; k < this.order && k <= end; k++) {
        const n = interpolate(c, cache[k].get(ctxKey(seq, end, k)));
        if (n > 0) longest = n;
      }
      const lambda = this.cacheWeight * (longest / (longest + this.cacheSmoothing));
      for (let w = 0; w < V; w++) out[j * V + w] = Math.log((1 - lambda) * p[w] + lambda * c[w]);
    }
    return out;
  }
}

/** Whitespace word tokenizer over a fixed word list; id 0 is `<pad>`, id 1 is `<unk>`. */
export class WordVocab {
  readonly words: string[];
  private readonly ids = new Map<string, number>();
  constructor(words: Iterable<string>) {
    this.words = ['<pad>', '<unk>'];
    for (const w of words) if (!this.ids.has(w) && w !== '<pad>' && w !== '<unk>') this.words.push(w);
    this.words.forEach((w, i) => this.ids.set(w, i));
  }
  get size(): number {
    return this.words.length;
  }
  encode(text: string): Int32Array {
    return Int32Array.from(text.split(/\s+/).filter((w) => w.length > 0), (w) => this.ids.get(w) ?? 1);
  }
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (i) => this.words[i] ?? '<unk>').join(' ');
  }
}
