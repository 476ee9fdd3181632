/**
 * XL3M step 1: cut a long token sequence into the question (its last tokens) and overlapping context
 * segments, and lay out the batch of sub-contexts `[segment_i, question]` the caller's model runs on.
 */
import { integer, oneOf, optionKeys, options, outOfRange, rangeError, typedArray } from '../runtime/validate';

/** A half-open token range `[start, end)` of the context. */
export interface Segment {
  /** First context token of the segment (index into `tokens`). */
  start: number;
  /** One past the last context token of the segment. */
  end: number;
}

/** Options of {@link plan}. */
export interface PlanOptions {
  /** q: the question is the last q tokens of `tokens`. Integer ≥ 1, < tokens.length. */
  questionTokens: number;
  /** L: tokens per segment (the last segment may be shorter). Integer ≥ 1. */
  segmentTokens: number;
  /** o: tokens shared by consecutive segments. Integer, 0 ≤ o < L. Default 0. */
  overlapTokens?: number;
  /** Token written into the unused tail (or head) of a batch row. Default 0. */
  padValue?: number;
  /**
   * Where a short row is padded. 'right' (default): row = segment, question, pad…; 'left': pad…, segment,
   * question (every question then ends at the row's end, as left-padded batched inference expects).
   */
  padSide?: 'left' | 'right';
}

/** Result of {@link plan}. All arrays are fresh; none aliases `tokens`. */
export interface Plan {
  /** The last q tokens of the input. */
  question: Int32Array;
  /** Context segments in order; consecutive ones overlap by `overlapTokens` tokens. */
  segments: Segment[];
  /**
   * segments.length × rowLength, row-major. Row i holds segment i immediately followed by the question
   * (`lengths[i]` valid tokens) and `padValue` in the remaining cells, on the side given by `padSide`.
   */
  batch: Int32Array;
  /** segmentTokens + questionTokens: the width of every batch row. */
  rowLength: number;
  /** Valid (non-pad) tokens in each row: segment length + q. */
  lengths: Int32Array;
  /**
   * Column where the question begins in each row. The logits that predict question token j of row i are
   * those at column `questionStart[i] + j - 1` (the model's output at the preceding position).
   */
  questionStart: Int32Array;
  /** Tokens before the question (= tokens.length − q). */
  contextLength: number;
  /** q: tokens in the question (the option as given). */
  questionTokens: number;
  /** L: tokens per segment (the option as given). */
  segmentTokens: number;
  /** o: tokens shared by consecutive segments (the option as given, default 0). */
  overlapTokens: number;
  /** Token id in the unused cells of `batch`. */
  padValue: number;
  /** Where short rows of `batch` are padded. */
  padSide: 'left' | 'right';
}

const KEYS = optionKeys<PlanOptions>({ questionTokens: 1, segmentTokens: 1, overlapTokens: 1, padValue: 1, padSide: 1 });
const PAD_SIDES = ['left', 'right'] as const;

/** Segment boundaries of a context of `contextLength` tokens (stride L − o; the last one ends at the context end). */
export function segmentBounds(contextLength: number, segmentTokens: number, overlapTokens: number): Segment[] {
  integer(contextLength, 'contextLength', { min: 0, max: 0x7fffffff });
  integer(segmentTokens, 'segmentTokens', { min: 1 });
  integer(overlapTokens, 'overlapTokens', { min: 0, max: segmentTokens - 1 });
  const stride = segmentTokens - overlapTokens;
  const count = contextLength <= segmentTokens ? 1 : 1 + Math.ceil((contextLength - segmentTokens) / stride);
  if (count > 2 ** 24) throw rangeError(`contextLength ${contextLength} in segments of ${segmentTokens} (stride ${stride}) gives ${count} segments; at most 2^24`);
  const out: Segment[] = [];
  for (let i = 0; i < count; i++) {
    const start = i * stride;
    out.push({ start, end: Math.min(start + segmentTokens, contextLength) });
  }
  return out;
}

/**
 * Split `tokens` into the question (last `questionTokens` tokens) and context segments of `segmentTokens`
 * tokens overlapping by `overlapTokens`, and build the batch of sub-contexts `[segment_i, question]`.
 *
 * Segment i covers `[i·(L−o), min(i·(L−o)+L, C))` with C = tokens.length − q; there are
 * `1 + ceil(max(0, C − L) / (L − o))` segments, so the last one ends exactly at C and always contains at least
 * one token not covered by its predecessor. A context shorter than one segment gives a single short segment.
 *
 * @throws TypeError when `tokens` is not an Int32Array or an option is not an integer.
 * @throws RangeError when q ≥ tokens.length (no context left), L < 1, o < 0, o ≥ L, or the batch
 *   (segments × (L + q)) would exceed 2^31 − 1 cells.
 */
export function plan(tokens: Int32Array, opts: PlanOptions): Plan {
  typedArray(tokens, 'tokens', 'Int32Array');
  const opt = options<PlanOptions>(opts, 'opts', KEYS, true);
  const q = integer(opt.questionTokens, 'questionTokens', { min: 1 });
  const L = integer(opt.segmentTokens, 'segmentTokens', { min: 1 });
  const o = integer(opt.overlapTokens ?? 0, 'overlapTokens', { min: 0, max: L - 1 });
  const padValue = integer(opt.padValue ?? 0, 'padValue', { min: -0x80000000, max: 0x7fffffff });
  const padSide = oneOf(opt.padSide ?? 'right', 'padSide', PAD_SIDES);
  if (q >= tokens.length) {
    throw outOfRange('questionTokens', `< tokens.length (${tokens.length}) so that at least one context token remains`, q);
  }
  const C = tokens.length - q;
  const segments = segmentBounds(C, L, o);
  const rowLength = L + q;
  const cells = segments.length * rowLength;
  if (cells > 0x7fffffff) {
    throw rangeError(`batch of ${segments.length} segments × ${rowLength} tokens exceeds 2^31 − 1 cells`);
  }
  const question = tokens.slice(C);
  const batch = new Int32Array(cells);
  if (padValue !== 0) batch.fill(padValue);
  const lengths = new Int32Array(segments.length);
  const questionStart = new Int32Array(segments.length);
  segments.forEach((s, i) => {
    const len = s.end - s.start;
    const at = i * rowLength + (padSide === 'left' ? rowLength - len - q : 0);
    batch.set(tokens.subarray(s.start, s.end), at);
    batch.set(question, at + len);
    lengths[i] = len + q;
    questionStart[i] = at - i * rowLength + len;
  });
  return {
    question,
    segments,
    batch,
    rowLength,
    lengths,
    questionStart,
    contextLength: C,
    questionTokens: q,
    segmentTokens: L,
    overlapTokens: o,
    padValue,
    padSide,
  };
}
