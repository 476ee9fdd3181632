/**
 * Optimal acceptance rate of multi-draft speculative decoding: n draft tokens from q, one target token from p.
 *
 * @packageDocumentation
 */
import { withSignal } from './abort';
import { nativeFunction } from './native';
import { show } from './show';

/** Options of {@link optimalAcceptance}. */
export interface OptimalAcceptanceOptions {
  /**
   * `true`: the n drafts are i.i.d. draws from q (exact for any vocabulary, O(V log V)).
   * `false`: n draws from q without replacement (exact for at most 20 tokens with q > 0, O(2^m · m); larger
   * supports throw a RangeError pointing to {@link optimalAcceptanceBounds}).
   */
  replacement: boolean;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Certified bounds on the optimal acceptance rate ({@link optimalAcceptanceBounds}). */
export interface AcceptanceBounds {
  lower: number;
  upper: number;
  /** `lower === upper` because the value was computed exactly. */
  exact: boolean;
}

type Native = (p: Float64Array, q: Float64Array, n: number, opts: object) => Promise<{ lower: number; upper: number }>;

function probabilities(name: string, v: unknown): Float64Array {
  if (!(v instanceof Float64Array || v instanceof Float32Array)) {
    throw new TypeError(`${name} must be a Float64Array or Float32Array of probabilities`);
  }
  if (v.length === 0) throw new RangeError(`${name} must not be empty`);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(x >= 0 && x < Infinity)) throw new RangeError(`${name}[${i}] must be a finite probability >= 0, got ${x}`);
    sum += x;
  }
  if (!(Math.abs(sum - 1) <= 1e-3)) throw new RangeError(`${name} must sum to 1 (within 1e-3), got ${sum}`);
  // Renormalised exactly so the float rounding of the input does not shift the optimum.
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / sum;
  return out;
}

/** Largest support of q for which the without-replacement optimum is exact (native kExactWithoutReplacementSupport). */
const EXACT_SUPPORT = 20;

function supportSize(q: Float64Array): number {
  let m = 0;
  for (let i = 0; i < q.length; i++) m += q[i] > 0 ? 1 : 0;
  return m;
}

function checkArgs(p: unknown, q: unknown, n: unknown): [Float64Array, Float64Array, number] {
  const pp = probabilities('p', p);
  const qq = probabilities('q', q);
  if (pp.length !== qq.length) throw new RangeError(`p and q must have the same vocabulary size, got ${pp.length} and ${qq.length}`);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1e6) {
    throw new RangeError(`n (number of drafts) must be an integer in [1, 1e6], got ${show(n)}`);
  }
  return [pp, qq, n];
}

/**
 * The largest probability that the target token equals one of n draft tokens, over all verification schemes
 * that keep the target distribution exact:
 * `α* = 1 − max_H [P(all drafts ∈ H) − p(H)]` (a max-flow / min-cut identity), which for i.i.d. drafts is
 * `1 − max_H [q(H)^n − p(H)]`, attained by H = a prefix of the tokens sorted by p/q.
 *
 * @param p target distribution (length V, sums to 1 within 1e-3; renormalised).
 * @param q draft distribution (length V).
 * @param n number of drafts (>= 1); n = 1 gives 1 − TV(p, q).
 * @throws TypeError / RangeError for bad arguments; RangeError when `replacement` is false and q has more than
 *   20 tokens with positive probability, or fewer than n.
 * @example
 * ```ts
 * await multidraft.optimalAcceptance(new Float64Array([0.5, 0.5]), new Float64Array([0.9, 0.1]), 2, { replacement: true }); // 0.69
 * ```
 */
export async function optimalAcceptance(
  p: Float64Array | Float32Array,
  q: Float64Array | Float32Array,
  n: number,
  opts: OptimalAcceptanceOptions,
): Promise<number> {
  if (typeof opts !== 'object' || opts === null || typeof opts.replacement !== 'boolean') {
    throw new TypeError('opts.replacement must be a boolean (true: i.i.d. drafts, false: drafts without replacement)');
  }
  const [pp, qq, nn] = checkArgs(p, q, n);
  if (!opts.replacement) {
    const support = supportSize(qq);
    if (support > EXACT_SUPPORT) {
      throw new RangeError(
        `optimalAcceptance without replacement is exact only when q has at most 20 tokens with q > 0 (got ${support}); ` +
          `use multidraft.optimalAcceptanceBounds(p, q, n) for certified bounds`,
      );
    }
  }
  const fn = nativeFunction<Native>('cpu', 'multidraftOptimal');
  const r = await withSignal(opts.signal, (cancel) => fn(pp, qq, nn, { replacement: opts.replacement, cancel }));
  return r.lower;
}

/**
 * Certified bounds on the optimal acceptance rate for n drafts drawn from q WITHOUT replacement, for any
 * vocabulary size. Exact (lower = upper) when q has at most 20 tokens with q > 0. Otherwise `lower` is the
 * i.i.d. optimum (the distinct tokens of n i.i.d. draws extend to a without-replacement sample, so α*
 * without replacement is at least that) and `upper` = min over prefixes H (tokens sorted by p/q) of
 * `1 − [L(H) − p(H)]`, where L(H) <= P(all drafts ∈ H) replaces the probability already drawn by the n − 1
 * largest probabilities in H. O(V log V + V n).
 *
 * @throws TypeError / RangeError for bad arguments, or when q has fewer than n tokens with q > 0.
 */
export async function optimalAcceptanceBounds(
  p: Float64Array | Float32Array,
  q: Float64Array | Float32Array,
  n: number,
  opts: { signal?: AbortSignal } = {},
): Promise<AcceptanceBounds> {
  const [pp, qq, nn] = checkArgs(p, q, n);
  const fn = nativeFunction<Native>('cpu', 'multidraftOptimal');
  const r = await withSignal(opts.signal, (cancel) => fn(pp, qq, nn, { replacement: false, bounds: true, cancel }));
  return { lower: r.lower, upper: r.upper, exact: supportSize(qq) <= EXACT_SUPPORT };
}
