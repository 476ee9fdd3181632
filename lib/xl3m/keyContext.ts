/** XL3M step 3b: splice the key context from the selected segments and the question. */
import { isInt32Array } from './guards';
import type { Plan } from './plan';
import { mergedRanges, sortedSelection } from './spans';

/** Options of {@link keyContext}. */
export interface KeyContextOptions {
  /** Tokens inserted between two kept ranges that are not contiguous in the original context. Default none. */
  separator?: Int32Array;
}

/**
 * The key context: the selected segments in original order with overlapping (or touching) segments merged
 * so no context token appears twice, followed by the question. `selected` may be in any order; an empty
 * selection gives the question alone.
 *
 * @throws TypeError when tokens/selected are not Int32Arrays.
 * @throws RangeError when tokens is not the sequence the plan was made from (length or question differ),
 *   or selected holds an out-of-range or repeated index.
 */
export function keyContext(
  tokens: Int32Array,
  plan: Pick<Plan, 'segments' | 'question' | 'contextLength'>,
  selected: Int32Array,
  opts: KeyContextOptions = {},
): Int32Array {
  if (!isInt32Array(tokens)) throw new TypeError('tokens must be an Int32Array');
  if (!plan || !Array.isArray(plan.segments) || !isInt32Array(plan.question)) {
    throw new TypeError('plan must be the result of xl3m.plan');
  }
  const C = plan.contextLength;
  if (typeof C !== 'number' || !Number.isSafeInteger(C) || C < 0) throw new TypeError('plan must be the result of xl3m.plan (plan.contextLength)');
  const q = plan.question.length;
  if (tokens.length !== C + q) {
    throw new RangeError(`tokens must be the planned sequence of ${C + q} tokens, got ${tokens.length}`);
  }
  for (let j = 0; j < q; j++) {
    if (tokens[C + j] !== plan.question[j]) throw new RangeError('tokens must be the sequence the plan was made from (question differs)');
  }
  const sep = opts.separator ?? new Int32Array(0);
  if (!isInt32Array(sep)) throw new TypeError('separator must be an Int32Array');
  const chosen = sortedSelection(selected, plan.segments.length);
  for (const i of chosen) {
    const s: unknown = plan.segments[i];
    const { start, end } = (s ?? {}) as { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > C) {
      throw new RangeError(`plan.segments[${i}] must be a range { start, end } with 0 <= start <= end <= ${C}`);
    }
  }
  const ranges = mergedRanges(plan.segments, chosen);
  let n = q + Math.max(0, ranges.length - 1) * sep.length;
  for (const r of ranges) n += r.end - r.start;
  const out = new Int32Array(n);
  let at = 0;
  ranges.forEach((r, k) => {
    if (k > 0) {
      out.set(sep, at);
      at += sep.length;
    }
    out.set(tokens.subarray(r.start, r.end), at);
    at += r.end - r.start;
  });
  out.set(tokens.subarray(C), at);
  return out;
}
