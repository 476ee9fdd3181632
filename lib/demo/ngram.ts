/**
 * A small, real language model for examples, tests and the demo: a word n-gram model with Witten–Bell
 * interpolation, mixed with a cache model of the same order built from the sequence being scored
 * (Kuhn & De Mori 1990). The cache is what lets the model "read" its context: a phrase seen earlier in the
 * sub-context becomes predictable, so its question positions get low entropy and low NLL.
 */
import { integer, invalidType, number, optionKeys, options, outOfRange } from '../runtime/validate';

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

function tokenArray(seq: unknown, name: string, vocab: number): void {
  if (!(seq instanceof Int32Array)) throw invalidType(name, 'an Int32Array of token ids', seq);
  for (let i = 0; i < seq.length; i++) {
    if (seq[i]! < 0 || seq[i]! >= vocab) throw outOfRange(`${name}[${i}]`, `a token id in [0, vocab = ${vocab})`, seq[i]);
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

const NGRAM_KEYS = optionKeys<NgramOptions>({ vocab: 1, order: 1, cacheWeight: 1, cacheSmoothing: 1 });

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
    const o = options<NgramOptions>(opts, 'opts', NGRAM_KEYS, true);
    this.vocab = integer(o.vocab, 'opts.vocab', { min: 1, max: 1 << 24 });
    this.order = integer(o.order ?? 4, 'opts.order', { min: 1, max: 64 });
    this.cacheWeight = number(o.cacheWeight ?? 0.9, 'opts.cacheWeight', { min: 0, max: 1 });
    this.cacheSmoothing = number(o.cacheSmoothing ?? 0.1, 'opts.cacheSmoothing', { min: 0, minExclusive: true });
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
      throw invalidType('positions', 'an array of ascending indices into seq', positions);
    }
    for (let j = 0; j < positions.length; j++) {
      integer(positions[j], `positions[${j}]`, { min: j > 0 ? positions[j - 1]! + 1 : 0, max: seq.length - 1 });
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
      throw invalidType('words', 'an iterable of strings', words);
    }
    this.words = ['<pad>', '<unk>'];
    if (ArrayBuffer.isView(words)) throw invalidType('words', 'an iterable of strings', words);
    for (const w of words) {
      if (typeof w !== 'string') throw invalidType('words', 'an iterable of strings', w);
      if (!this.ids.has(w) && w !== '<pad>' && w !== '<unk>') this.words.push(w);
    }
    this.words.forEach((w, i) => this.ids.set(w, i));
  }
  get size(): number {
    return this.words.length;
  }
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw invalidType('text', 'a string', text);
    return Int32Array.from(text.split(/\s+/).filter((w) => w.length > 0), (w) => this.ids.get(w) ?? 1);
  }
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number' || !(ids.length <= 2 ** 32)) {
      throw invalidType('ids', 'an array of token ids', ids);
    }
    if (ArrayBuffer.isView(ids) && ids.byteLength === 0) return ''; // also a detached view (not iterable)
    return Array.from(ids, (i) => (typeof i === 'number' ? this.words[i] : undefined) ?? '<unk>').join(' ');
  }
}
