/**
 * Validation and normalisation of the per-request target processing options (temperature, top-k, top-p).
 *
 * @packageDocumentation
 */
import { show } from '../show';
import { rangeError, typeError } from '../validate';

/** How the target distribution p_v at each node is formed (DESIGN §4.3). */
export interface TargetProcessingOptions {
  /**
   * `'greedy'`: p_v is one-hot at argmax z (lowest index on ties). `'sample'` (default): p_v = softmax(z / T),
   * then top-k, then top-p, renormalised.
   */
  mode?: 'greedy' | 'sample';
  /** Temperature T >= 0 (default 1), shared or one per tree; T = 0 means greedy for that tree. */
  temperature?: number | Float32Array;
  /** Keep the k most probable tokens (ties to the lower index); 0 = off (default). Shared or one per tree. */
  topK?: number | Int32Array;
  /**
   * Keep the smallest set of most probable tokens (after top-k, renormalised) whose probability sums to >= topP;
   * in (0, 1], 1 = off (default). Shared or one per tree.
   */
  topP?: number | Float32Array;
}

/** Normalised options as the addon reads them: each array has length 1 or `batch`. */
export interface NativeProcessing {
  greedy: boolean;
  temperature?: Float32Array;
  topK?: Int32Array;
  topP?: Float32Array;
}

function perRequest<A extends Float32Array | Int32Array>(
  name: string,
  value: number | A | undefined,
  batch: number,
  make: (n: number) => A,
  check: (v: number) => boolean,
  expected: string,
): A | undefined {
  if (value === undefined) return undefined;
  let arr: A;
  if (typeof value === 'number') {
    if (!check(value)) throw rangeError(`opts.${name} must be ${expected} (got ${value})`);
    arr = make(1);
    arr[0] = value;
  } else if (value instanceof make(0).constructor) {
    arr = value;
    if (arr.length !== batch) {
      throw rangeError(`opts.${name} must have one entry per tree (${batch}) (got ${arr.length})`);
    }
  } else {
    throw typeError(`opts.${name} must be a number or a ${make(0).constructor.name} with one entry per tree`);
  }
  for (let i = 0; i < arr.length; i++) {
    if (!check(arr[i])) throw rangeError(`opts.${name}[${i}] must be ${expected} (got ${arr[i]})`);
  }
  return arr;
}

/** Validates the processing options of a call over `batch` trees. */
export function normaliseProcessing(opts: TargetProcessingOptions, batch: number): NativeProcessing {
  const mode = opts.mode ?? 'sample';
  if (mode !== 'greedy' && mode !== 'sample') {
    throw rangeError(`opts.mode must be 'greedy' or 'sample' (got ${show(mode)})`);
  }
  return {
    greedy: mode === 'greedy',
    temperature: perRequest(
      'temperature',
      opts.temperature,
      batch,
      (n) => new Float32Array(n),
      (v) => Number.isFinite(v) && v >= 0,
      'a finite number >= 0',
    ),
    topK: perRequest('topK', opts.topK, batch, (n) => new Int32Array(n), (v) => Number.isInteger(v) && v >= 0 && v <= 2147483647, 'an integer >= 0 (0 = off)'),
    topP: perRequest(
      'topP',
      opts.topP,
      batch,
      (n) => new Float32Array(n),
      (v) => v > 0 && v <= 1,
      'a number in (0, 1] (1 = off)',
    ),
  };
}
