/**
 * The random-stream options of the sampling calls: one seed for the call (streams keyed by request index) or
 * one seed per request (streams keyed by that seed alone, for continuous batching), and the decoding step.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { rangeError, typeError } from '../runtime/validate';

/** What the addon reads: the per-call seed and step, and the per-request arrays when given. */
export interface NativeStreams {
  /** The per-call seed (0n when per-request seeds are given). */
  seed: bigint;
  step: number;
  seeds?: BigUint64Array;
  steps?: Uint32Array;
}

/**
 * Validates `seed` (safe integer >= 0, bigint < 2^64, or a BigUint64Array with one seed per request) and
 * `step` (integer in [0, 2^32) or a Uint32Array with one step per request) for a call over `batch` requests.
 */
export function normaliseStreams(seed: unknown, step: unknown, batch: number): NativeStreams {
  const out: NativeStreams = { seed: 0n, step: 0 };
  if (seed instanceof BigUint64Array) {
    if (seed.length !== batch) throw rangeError(`opts.seed must have one entry per tree (${batch}) (got ${seed.length})`);
    out.seeds = seed;
  } else if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw rangeError(`opts.seed must be in [0, 2^64) (got ${seed})`);
    out.seed = seed;
  } else if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw rangeError(`opts.seed must be a safe integer >= 0 or a bigint (got ${seed})`);
    }
    out.seed = BigInt(seed);
  } else {
    throw typeError(`opts.seed must be a number, a bigint or a BigUint64Array with one seed per tree (got ${show(seed)})`);
  }
  if (step instanceof Uint32Array) {
    if (step.length !== batch) throw rangeError(`opts.step must have one entry per tree (${batch}) (got ${step.length})`);
    out.steps = step;
  } else if (step !== undefined) {
    if (typeof step !== 'number') throw typeError(`opts.step must be a number or a Uint32Array with one step per tree (got ${show(step)})`);
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) {
      throw rangeError(`opts.step must be an integer in [0, 2^32) (got ${show(step)})`);
    }
    out.step = step;
  }
  return out;
}
