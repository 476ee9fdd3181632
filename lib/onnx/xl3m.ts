/**
 * XL3M over a real model: score every `[BOS, segment, question]` sub-context with batched forwards, feed the
 * question-position logits straight into `xl3m.score`, keep the best segments, splice the key context and
 * answer greedily from it. Works with any {@link ModelAdapter} (the ONNX one in practice).
 *
 * @packageDocumentation
 */
import { abortError } from '../runtime/abort';
import { mulberry32 } from '../runtime/prng';
import { show } from '../runtime/show';
import type { ModelAdapter } from '../speculative/adapter';
import { createDecoder } from '../speculative/decoder';
import { gatherRows } from '../speculative/rows';
import type { TreeStrategy } from '../speculative/strategies';
import { keyContext } from '../xl3m/keyContext';
import { plan as makePlan } from '../xl3m/plan';
import { score } from '../xl3m/score';
import { select } from '../xl3m/select';
import { rangeError, typeError } from '../runtime/validate';

/** How the context given to the model is chosen. */
export type ContextChoice = 'xl3m' | 'truncate' | 'random';

/** Options of {@link answerLongContext}. */
export interface LongContextOptions {
  /** The model's window (default: the adapter's `window`). */
  window?: number;
  /** BOS id prepended to every sub-context and to the key context (default 1). */
  bosId?: number;
  /**
   * Tokens per segment. Default: the fewest segments of at most window − question − 1 − maxAnswerTokens
   * tokens, all of (nearly) equal length: a short last segment would be scored against a different amount
   * of context than the others.
   */
  segmentTokens?: number;
  /** Tokens shared by consecutive segments (default 0): longer than the fact sought keeps it whole in one. */
  overlapTokens?: number;
  /** Sub-contexts per scoring forward (default 2: each returns rows × vocab float32 logits). */
  batch?: number;
  /** Tokens generated for the answer (default 8). */
  maxAnswerTokens?: number;
  /**
   * 'xl3m' (default): lowest-entropy segments; 'truncate': the last tokens of the context that fit; 'random':
   * random segments with the same token budget (baselines).
   */
  choice?: ContextChoice;
  /** Seed of the 'random' choice. */
  seed?: number;
  /** Draft model: answer with speculative decoding (greedy, so the answer is the same). */
  draft?: ModelAdapter;
  /** Draft-tree strategy with `draft` (default `{ kind: 'chain', k: 3 }`). */
  tree?: TreeStrategy;
  /** Aborts the call (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  /** Called after each scoring forward with the segments scored so far and their total (choice 'xl3m'). */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@link answerLongContext}. */
export interface LongContextAnswer {
  /** Generated answer tokens. */
  answer: number[];
  /** The model input the answer was generated from (BOS, key context, question). */
  input: Int32Array;
  /** Segment scores (mean question entropy; lower = more relevant), for 'xl3m'. */
  scores?: Float32Array;
  /** Kept segment indices and their [start, end) spans in the context. */
  selected: Int32Array;
  /** Every segment's `[start, end)` span in the context (token indices). */
  segments: { start: number; end: number }[];
  /** Target forwards spent on scoring. */
  scoringForwards: number;
  /** Wall time of the scoring forwards, in milliseconds. */
  scoringMs: number;
  /** Wall time of generating the answer, in milliseconds. */
  answerMs: number;
}

/**
 * Answers `question` about a `context` longer than the model's window (token ids without BOS; the question is
 * appended to the context as is, so include its leading-space token form as the tokenizer gives it).
 *
 * @throws RangeError naming the option when the question leaves no room in the window.
 */
export async function answerLongContext(
  model: ModelAdapter,
  context: ArrayLike<number>,
  question: ArrayLike<number>,
  opts: LongContextOptions = {},
): Promise<LongContextAnswer> {
  const window = opts.window ?? model.window;
  if (!(Number.isInteger(window) && (window as number) > 1)) throw rangeError('opts.window is required (the adapter has no window)');
  const W = window as number;
  const bos = opts.bosId ?? 1;
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw typeError('opts.onProgress must be a function (done, total)');
  const q = question.length;
  const maxAnswer = opts.maxAnswerTokens ?? 8;
  const room = W - 1 - q - maxAnswer;
  if (q < 1 || room < 1) throw rangeError(`question (${q} tokens) + BOS + maxAnswerTokens (${maxAnswer}) must leave room in the window (${W})`);
  const o = opts.overlapTokens ?? 0;
  if (!(Number.isInteger(o) && o >= 0 && o < room)) throw rangeError(`opts.overlapTokens must be an integer in [0, ${room}), got ${show(o)}`);
  const C = context.length;
  const n = C <= room ? 1 : 1 + Math.ceil((C - room) / (room - o));
  const L = opts.segmentTokens ?? Math.min(room, Math.ceil((C + (n - 1) * o) / n));
  if (!(Number.isInteger(L) && L >= 1 && L <= room)) throw rangeError(`opts.segmentTokens must be an integer in [1, ${room}], got ${show(L)}`);
  const tokens = new Int32Array(context.length + q);
  tokens.set(Array.from(context));
  tokens.set(Array.from(question), context.length);
  const p = makePlan(tokens, { questionTokens: q, segmentTokens: L, overlapTokens: o });
  const S = p.segments.length;
  const choice = opts.choice ?? 'xl3m';
  let scores: Float32Array | undefined;
  let selected: Int32Array;
  let forwards = 0;
  const t0 = performance.now();
  if (choice === 'xl3m') {
    const per = opts.batch ?? 2;
    const V = model.vocab;
    const rows = new Float32Array(S * q * V);
    for (let s0 = 0; s0 < S; s0 += per) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const B = Math.min(per, S - s0);
      const T = p.rowLength + 1;
      const ids = new Int32Array(B * T);
      const pos = new Int32Array(B * T);
      const bias = new Float32Array(B * T * T).fill(model.maskValue ?? -1e9);
      for (let b = 0; b < B; b++) {
        const i = s0 + b;
        const len = p.lengths[i]! + 1;
        ids[b * T] = bos;
        ids.set(p.batch.subarray(i * p.rowLength, i * p.rowLength + p.lengths[i]!), b * T + 1);
        for (let t = 0; t < T; t++) {
          pos[b * T + t] = t < len ? t : 0;
          const row = (b * T + t) * T;
          if (t < len) bias.fill(0, row, row + t + 1);
          else bias[row + t] = 0; // padding row: itself only
        }
      }
      const out = await model.forward(ids, pos, { data: bias, batch: B, rows: T, columns: T }, null);
      forwards++;
      const want: number[] = [];
      for (let b = 0; b < B; b++) {
        // The row predicting question token j sits at column questionStart + j − 1, shifted by the BOS.
        for (let j = 0; j < q; j++) want.push(b * T + 1 + p.questionStart[s0 + b]! + j - 1);
      }
      const g = gatherRows(out.logits, want);
      const f32 = g.data instanceof Float32Array ? g.data : null;
      if (f32 === null) throw typeError('answerLongContext: scoring needs float32 logits');
      rows.set(f32, s0 * q * V);
      opts.onProgress?.(s0 + B, S);
    }
    scores = await score({ data: rows, rows: S * q, vocab: V }, { segments: S, metric: 'entropy', signal: opts.signal });
    selected = select(scores, p, { tokenBudget: room });
  } else if (choice === 'random') {
    const r = mulberry32(opts.seed ?? 0);
    const order = Array.from({ length: S }, (_, i) => i);
    for (let i = S - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const fake = new Float32Array(S);
    order.forEach((seg, rank) => (fake[seg] = rank));
    selected = select(fake, p, { tokenBudget: room });
  } else {
    selected = new Int32Array(0);
  }
  const scoringMs = performance.now() - t0;
  let key: Int32Array;
  if (choice === 'truncate') {
    const keep = Math.min(room, context.length);
    key = tokens.slice(context.length - keep);
  } else {
    key = keyContext(tokens, p, selected);
  }
  const input = new Int32Array(key.length + 1);
  input[0] = bos;
  input.set(key, 1);
  const t1 = performance.now();
  const dec = createDecoder({ target: model, draft: opts.draft, tree: opts.draft ? opts.tree ?? { kind: 'chain', k: 3 } : { kind: 'none' } });
  const res = await dec.generate([input], { maxTokens: maxAnswer, temperature: 0, signal: opts.signal });
  return {
    answer: res.tokens[0]!,
    input,
    scores,
    selected,
    segments: p.segments,
    scoringForwards: forwards,
    scoringMs,
    answerMs: performance.now() - t1,
  };
}
