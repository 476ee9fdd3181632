/**
 * A small, real language model for examples, tests and the demo: a word n-gram model with Witten–Bell
 * interpolation, mixed with a cache model of the same order built from the sequence being scored
 * (Kuhn & De Mori 1990). The cache is what lets the model "read" its context: a phrase seen earlier in the
 * sub-context becomes predictable, so its question positions get low entropy and low NLL.
 */
import { show } from '../show';

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

function intIn(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be an integer (got ${typeof v})`);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}] (got ${v})`);
  return v;
}

function unit(v: unknown, name: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${name} must be a number in [0, 1] (got ${show(v)})`);
  return v;
}

function tokenArray(seq: unknown, name: string, vocab: number): void {
  if (!(seq instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array of token ids`);
  for (let i = 0; i < seq.length; i++) {
    if (seq[i]! < 0 || seq[i]! >= vocab) throw new RangeError(`${name}[${i}] = ${seq[i]} is out of range [0, vocab = ${vocab})`);
  }
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
    if (opts === null || typeof opts !== 'object') throw new TypeError('opts must be an object { vocab, order? }');
    this.vocab = intIn(opts.vocab, 'opts.vocab', 1, 1 << 24);
    this.order = intIn(opts.order ?? 4, 'opts.order', 1, 64);
    this.cacheWeight = unit(opts.cacheWeight ?? 0.9, 'opts.cacheWeight');
    this.cacheSmoothing = opts.cacheSmoothing ?? 0.1;
    if (typeof this.cacheSmoothing !== 'number' || !(this.cacheSmoothing > 0 && this.cacheSmoothing < Infinity)) {
      throw new RangeError(`opts.cacheSmoothing must be a finite number > 0 (got ${show(opts.cacheSmoothing)})`);
    }
    for (let k = 0; k < this.order; k++) this.counts.push(new Map());
    this.unigram = new Float64Array(this.vocab);
  }

  /** Adds the n-gram counts of `seq` to the static model. */
  train(seq: Int32Array): this {
    tokenArray(seq, 'seq', this.vocab);
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
   * `positions` (ascending): a positions.length × vocab row-major Float32Array. Row j is the distribution of the
   * token after seq[positions[j]]: it predicts seq[positions[j] + 1], or a new token at the last position.
   */
  logits(seq: Int32Array, positions: ArrayLike<number>): Float32Array {
    const V = this.vocab;
    tokenArray(seq, 'seq', V);
    if (positions === null || typeof positions !== 'object' || typeof positions.length !== 'number') {
      throw new TypeError('positions must be an array of ascending indices into seq');
    }
    for (let j = 0; j < positions.length; j++) {
      intIn(positions[j], `positions[${j}]`, j > 0 ? positions[j - 1]! + 1 : 0, seq.length - 1);
    }
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
    if (words === null || typeof words !== 'object' || typeof (words as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError('words must be an iterable of strings');
    }
    this.words = ['<pad>', '<unk>'];
    if (ArrayBuffer.isView(words)) throw new TypeError('words must be an iterable of strings');
    for (const w of words) {
      if (typeof w !== 'string') throw new TypeError('words must be an iterable of strings');
      if (!this.ids.has(w) && w !== '<pad>' && w !== '<unk>') this.words.push(w);
    }
    this.words.forEach((w, i) => this.ids.set(w, i));
  }
  get size(): number {
    return this.words.length;
  }
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    return Int32Array.from(text.split(/\s+/).filter((w) => w.length > 0), (w) => this.ids.get(w) ?? 1);
  }
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number' || !(ids.length <= 2 ** 32)) {
      throw new TypeError('ids must be an array of token ids');
    }
    if (ArrayBuffer.isView(ids) && ids.byteLength === 0) return ''; // also a detached view (not iterable)
    return Array.from(ids, (i) => (typeof i === 'number' ? this.words[i] : undefined) ?? '<unk>').join(' ');
  }
}
