/**
 * SpecDec++ adaptive draft length (Huang et al. 2024): stop drafting once the predicted probability that at
 * least one draft token is rejected exceeds a threshold.
 *
 * @packageDocumentation
 */
import { invalidType, number, outOfRange } from '../runtime/validate';

/**
 * Index of the draft token after which to stop drafting: the first `i` (0-based) with
 * `1 − Π_{j ≤ i} acceptProbs[j] > threshold`, i.e. the draft to verify is tokens `0..i` (length `i + 1`).
 * Returns `-1` when no prefix crosses the threshold (keep drafting up to your maximum length), like
 * `Array.prototype.findIndex`.
 *
 * The product is formed in float64, so a run of ĥ close to 1 is not lost to rounding.
 *
 * @param acceptProbs predicted acceptance probabilities ĥ_1, ĥ_2, … of consecutive draft tokens, each in [0, 1].
 * @param threshold h in [0, 1]; `h = 1` never stops, `h = 0` stops at the first ĥ < 1.
 * @throws TypeError when `acceptProbs` is not an array-like of numbers or `threshold` not a number;
 *   RangeError for values outside [0, 1] or NaN.
 * @example
 * ```ts
 * specdec.stopIndex([0.9, 0.8, 0.7], 0.25); // 1 − 0.9 = 0.1, 1 − 0.72 = 0.28 > 0.25 → 1 (verify 2 tokens)
 * specdec.stopIndex([0.9, 0.8, 0.7], 0.5);  // 0.1, 0.28, 0.496: never above 0.5 → -1
 * ```
 */
export function stopIndex(acceptProbs: ArrayLike<number> | Float32Array | Float64Array, threshold: number): number {
  if (acceptProbs === null || typeof acceptProbs !== 'object' || typeof acceptProbs.length !== 'number') {
    throw invalidType('acceptProbs', 'an array or typed array of probabilities', acceptProbs);
  }
  number(threshold, 'threshold', { min: 0, max: 1 });
  let keep = 1; // Π ĥ = P(all accepted so far)
  for (let i = 0; i < acceptProbs.length; i++) {
    const h = acceptProbs[i];
    if (typeof h !== 'number' || !(h >= 0 && h <= 1)) {
      throw outOfRange(`acceptProbs[${i}]`, 'a probability in [0, 1]', h);
    }
    keep *= h;
    if (1 - keep > threshold) return i;
  }
  return -1;
}
