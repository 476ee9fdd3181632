/** XL3M step 3a: keep the most relevant segments (lowest scores). */
import type { Segment } from './plan';
import { Coverage } from './spans';
import { integer, object, optionKeys, options, rangeError, typeError, typedArray } from '../runtime/validate';

/** Options of {@link select}. Give `topK`, `tokenBudget`, or both (then both limits apply). */
export interface SelectOptions {
  /** Keep at most this many segments. Integer ≥ 0; larger than the segment count keeps every segment. */
  topK?: number;
  /**
   * Keep segments while the key context's context part (the union of the kept segments, overlaps counted
   * once; the question is not counted) stays within this many tokens. Integer ≥ 0.
   */
  tokenBudget?: number;
}

const KEYS = optionKeys<SelectOptions>({ topK: 1, tokenBudget: 1 });

const limit = (name: string, v: number | undefined): number => (v === undefined ? Infinity : integer(v, name, { min: 0, max: Infinity }));

/**
 * Segment indices ordered from most to least relevant: ascending score, NaN after every number, ties to the
 * lower index. Deterministic.
 */
export function rankSegments(scores: Float32Array): Int32Array {
  typedArray(scores, 'scores', 'Float32Array');
  const idx = new Int32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => {
    const x = scores[a];
    const y = scores[b];
    const xn = Number.isNaN(x);
    const yn = Number.isNaN(y);
    if (xn !== yn) return xn ? 1 : -1;
    if (!xn && x !== y) return x < y ? -1 : 1;
    return a - b;
  });
}

/**
 * Choose segments by relevance (lower score = more relevant) and return their indices in chronological
 * (ascending) order.
 *
 * Segments are taken in rank order ({@link rankSegments}). With `topK`, the first min(topK, segments) are
 * kept. With `tokenBudget`, segments are taken while the union of kept segments fits the budget; the first
 * segment that would exceed it ends the selection (a less relevant segment never displaces a more relevant
 * one), so a budget smaller than the best segment selects nothing and the key context is the question alone.
 *
 * @throws TypeError when scores is not a Float32Array or neither limit is given.
 * @throws RangeError when scores.length ≠ plan.segments.length or a limit is negative.
 */
export function select(
  scores: Float32Array,
  plan: { readonly segments: readonly Segment[] },
  opts: SelectOptions,
): Int32Array {
  typedArray(scores, 'scores', 'Float32Array');
  if (!Array.isArray(object(plan, 'plan', '(the result of xl3m.plan)').segments)) throw typeError('plan must be the result of xl3m.plan (plan.segments is not an array)');
  plan.segments.forEach((s: unknown, i) => {
    const { start, end } = (s ?? {}) as { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw typeError(`plan.segments[${i}] must be a range { start, end } (plan must be the result of xl3m.plan)`);
    }
  });
  if (scores.length !== plan.segments.length) {
    throw rangeError(`scores must have one entry per segment, ${plan.segments.length} (got ${scores.length})`);
  }
  const o = options<SelectOptions>(opts, 'opts', KEYS, true);
  if (o.topK === undefined && o.tokenBudget === undefined) throw typeError('select needs opts.topK or opts.tokenBudget');
  const topK = limit('topK', o.topK);
  const budget = limit('tokenBudget', o.tokenBudget);
  const ranked = rankSegments(scores);
  const cover = budget === Infinity ? undefined : new Coverage(plan.segments);
  const kept: number[] = [];
  let used = 0;
  for (const i of ranked) {
    if (kept.length >= topK) break;
    if (cover) {
      const add = cover.added(i);
      if (used + add > budget) break;
      used += add;
      cover.choose(i);
    }
    kept.push(i);
  }
  return Int32Array.from(kept).sort();
}
