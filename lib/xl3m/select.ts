/** XL3M step 3a: keep the most relevant segments (lowest scores). */
import type { Segment } from './plan';
import { isFloat32Array } from './guards';
import { Coverage } from './spans';
import { show } from '../show';

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

function limit(name: string, v: number | undefined): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${show(v)}`);
  if (v < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${v}`);
  return v;
}

/**
 * Segment indices ordered from most to least relevant: ascending score, NaN after every number, ties to the
 * lower index. Deterministic.
 */
export function rankSegments(scores: Float32Array): Int32Array {
  if (!isFloat32Array(scores)) throw new TypeError('scores must be a Float32Array (one score per segment)');
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
  if (!isFloat32Array(scores)) throw new TypeError('scores must be a Float32Array (one score per segment)');
  if (!plan || !Array.isArray(plan.segments)) throw new TypeError('plan must be the result of xl3m.plan');
  plan.segments.forEach((s: unknown, i) => {
    const { start, end } = (s ?? {}) as { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new TypeError(`plan.segments[${i}] must be a range { start, end } (plan must be the result of xl3m.plan)`);
    }
  });
  if (scores.length !== plan.segments.length) {
    throw new RangeError(`scores must have one entry per segment (${plan.segments.length}), got ${scores.length}`);
  }
  if (!opts || (opts.topK === undefined && opts.tokenBudget === undefined)) {
    throw new TypeError('select needs opts.topK or opts.tokenBudget');
  }
  const topK = limit('topK', opts.topK);
  const budget = limit('tokenBudget', opts.tokenBudget);
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
