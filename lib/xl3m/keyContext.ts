/** XL3M step 3b: splice the key context from the selected segments and the question. */
import { isTypedArray, object, optionKeys, options, rangeError, typeError, typedArray } from '../runtime/validate';
import type { Plan } from './plan';
import { mergedRanges, sortedSelection } from './spans';

/** Options of {@link keyContext}. */
export interface KeyContextOptions {
  /** Tokens inserted between two kept ranges that are not contiguous in the original context. Default none. */
  separator?: Int32Array;
}

const KEYS = optionKeys<KeyContextOptions>({ separator: 1 });

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
  typedArray(tokens, 'tokens', 'Int32Array');
  object(plan, 'plan', '(the result of xl3m.plan)');
  if (!Array.isArray(plan.segments) || !isTypedArray(plan.question, 'Int32Array')) {
    throw typeError('plan must be the result of xl3m.plan (segments, question)');
  }
  const C = plan.contextLength;
  if (typeof C !== 'number' || !Number.isSafeInteger(C) || C < 0) throw typeError('plan must be the result of xl3m.plan (plan.contextLength)');
  const q = plan.question.length;
  if (tokens.length !== C + q) {
    throw rangeError(`tokens must be the planned sequence of ${C + q} tokens (got ${tokens.length})`);
  }
  for (let j = 0; j < q; j++) {
    if (tokens[C + j] !== plan.question[j]) throw rangeError('tokens must be the sequence the plan was made from (question differs)');
  }
  const o = options<KeyContextOptions>(opts, 'opts', KEYS);
  const sep = typedArray(o.separator ?? new Int32Array(0), 'separator', 'Int32Array');
  const chosen = sortedSelection(selected, plan.segments.length);
  for (const i of chosen) {
    const s: unknown = plan.segments[i];
    const { start, end } = (s ?? {}) as { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > C) {
      throw rangeError(`plan.segments[${i}] must be a range { start, end } with 0 <= start <= end <= ${C}`);
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
