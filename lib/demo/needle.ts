/**
 * A needle-in-a-haystack scenario with a real (small) language model: generated text with one fact hidden in
 * it, a question about the fact at the end, and the model's logits at the question positions of every
 * sub-context. Used by the tests, the demo and the examples.
 */
import { haystackSentences, haystackWords, NEEDLE, QUESTION } from './haystack';
import { NgramLM, WordVocab } from './ngram';
import { plan, Plan } from '../xl3m/plan';

/** Options of {@link needleScenario}. */
export interface NeedleOptions {
  /** Words of haystack text (default 4000). */
  contextWords?: number;
  /** Where the needle goes, as a fraction of the haystack's sentences in [0, 1] (default 0.6). */
  needleAt?: number;
  /** Default 256. */
  segmentTokens?: number;
  /** Default 32. */
  overlapTokens?: number;
  /** Seed of the haystack text (the model is trained on different text, seed + 1000). */
  seed?: number;
}

/** A built scenario: tokens = haystack with the needle + question. */
export interface NeedleScenario {
  vocab: WordVocab;
  lm: NgramLM;
  tokens: Int32Array;
  plan: Plan;
  /** The needle's token range in `tokens`. */
  needle: { start: number; end: number };
}

/** Builds the scenario (deterministic for given options). */
export function needleScenario(opts: NeedleOptions = {}): NeedleScenario {
  const seed = opts.seed ?? 7;
  const vocab = new WordVocab(haystackWords());
  const lm = new NgramLM({ vocab: vocab.size }).train(vocab.encode(haystackSentences(20000, seed + 1000).join(' ')));
  const hay = haystackSentences(opts.contextWords ?? 4000, seed);
  const at = Math.min(hay.length, Math.max(0, Math.round(hay.length * (opts.needleAt ?? 0.6))));
  const before = vocab.encode(hay.slice(0, at).join(' '));
  const needle = vocab.encode(NEEDLE);
  const after = vocab.encode(hay.slice(at).join(' '));
  const question = vocab.encode(QUESTION);
  const tokens = new Int32Array(before.length + needle.length + after.length + question.length);
  tokens.set(before, 0);
  tokens.set(needle, before.length);
  tokens.set(after, before.length + needle.length);
  tokens.set(question, tokens.length - question.length);
  const p = plan(tokens, {
    questionTokens: question.length,
    segmentTokens: opts.segmentTokens ?? 256,
    overlapTokens: opts.overlapTokens ?? 32,
  });
  return { vocab, lm, tokens, plan: p, needle: { start: before.length, end: before.length + needle.length } };
}

/**
 * The model's logits at the positions that predict the question tokens, for every sub-context of `p` (rows =
 * segments × q, segment-major), with the question tokens as targets. Rows of segments [first, first + count).
 */
export function questionLogits(
  lm: NgramLM,
  p: Plan,
  first = 0,
  count = p.segments.length - first,
): { data: Float32Array; rows: number; vocab: number; targets: Int32Array } {
  const q = p.questionTokens;
  const V = lm.vocab;
  const data = new Float32Array(count * q * V);
  const targets = new Int32Array(count * q);
  for (let k = 0; k < count; k++) {
    const i = first + k;
    const row = p.batch.subarray(i * p.rowLength, (i + 1) * p.rowLength);
    const pos = Array.from({ length: q }, (_, j) => p.questionStart[i]! + j - 1);
    data.set(lm.logits(row, pos), k * q * V);
    targets.set(p.question, k * q);
  }
  return { data, rows: count * q, vocab: V, targets };
}
