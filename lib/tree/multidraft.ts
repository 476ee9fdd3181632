/**
 * Optimal acceptance rate of multi-draft speculative decoding: n draft tokens from q, one target token from p.
 *
 * @packageDocumentation
 */
import { withSignal } from '../runtime/abort';
import { nativeFunction } from '../runtime/native';
import { boolean, integer, invalidType, optionKeys, options, outOfRange, rangeError } from '../runtime/validate';

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
  /** Lower bound on the optimal acceptance probability α*, in [0, 1]. */
  lower: number;
  /** Upper bound on α*, in [0, 1] (equal to `lower` when `exact`). */
  upper: number;
  /** `lower === upper` because the value was computed exactly. */
  exact: boolean;
}

const ACCEPTANCE_KEYS = optionKeys<OptimalAcceptanceOptions>({ replacement: 1, signal: 1 });
const BOUNDS_KEYS = optionKeys<{ signal?: AbortSignal }>({ signal: 1 });

function probabilities(name: string, v: unknown): Float64Array {
  if (!(v instanceof Float64Array || v instanceof Float32Array)) {
    throw invalidType(name, 'a Float64Array or Float32Array of probabilities', v);
  }
  if (v.length === 0) throw outOfRange(name, 'a non-empty array of probabilities', v);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(x >= 0 && x < Infinity)) throw outOfRange(`${name}[${i}]`, 'a finite probability >= 0', x);
    sum += x;
  }
  if (!(Math.abs(sum - 1) <= 1e-3)) throw rangeError(`${name} must sum to 1 within 1e-3 (got a sum of ${sum})`);
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
  if (pp.length !== qq.length) throw rangeError(`p and q must have the same vocabulary size (got ${pp.length} and ${qq.length})`);
  return [pp, qq, integer(n, 'n (number of drafts)', { min: 1, max: 1e6 })];
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
  const o = options<OptimalAcceptanceOptions>(opts, 'opts', ACCEPTANCE_KEYS, true);
  const replacement = boolean(o.replacement, 'opts.replacement (true: i.i.d. drafts, false: drafts without replacement)');
  const [pp, qq, nn] = checkArgs(p, q, n);
  if (!replacement) {
    const support = supportSize(qq);
    if (support > EXACT_SUPPORT) {
      throw rangeError(
        `optimalAcceptance without replacement is exact only when q has at most 20 tokens with q > 0 (got ${support}); ` +
          `use multidraft.optimalAcceptanceBounds(p, q, n) for certified bounds`,
      );
    }
  }
  const fn = nativeFunction('cpu', 'multidraftOptimal');
  const r = await withSignal(o.signal, (cancel) => fn(pp, qq, nn, { replacement, bounds: false, cancel }));
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
  const o = options<{ signal?: AbortSignal }>(opts, 'opts', BOUNDS_KEYS);
  const [pp, qq, nn] = checkArgs(p, q, n);
  const fn = nativeFunction('cpu', 'multidraftOptimal');
  const r = await withSignal(o.signal, (cancel) => fn(pp, qq, nn, { replacement: false, bounds: true, cancel }));
  return { lower: r.lower, upper: r.upper, exact: supportSize(qq) <= EXACT_SUPPORT };
}
