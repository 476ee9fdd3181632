/**
 * One-pass logit statistics (docs/logit-statistics.md §1).
 *
 * @packageDocumentation
 */
import { withSignal } from './runtime/abort';
import { Logits, checkTokenIds, normalizeLogits } from './logits';
import { BackendChoice, NativeTuning, backendForCall, nativeFunction } from './runtime/native';
import { boolean, number, optionKeys, options, outOfRange, typedArray } from './runtime/validate';

/** Options of {@link logitStats}. */
export interface LogitStatsOptions {
  /** One target token id per row: adds `nll` and `targetRank`. */
  targets?: Int32Array;
  /** Divides the logits first (> 0, default 1). */
  temperature?: number;
  /** 'cpu', 'cuda' or 'auto' (default: LENGTHWISE_BACKEND, else auto). Device data always runs on CUDA. */
  backend?: BackendChoice;
  /** Cancels a long call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Runs the call on the calling thread instead of a worker (default false): saves the thread hop for small
   * calls; blocks the event loop for the call's duration and `signal` cannot interrupt it. Still a promise.
   */
  sync?: boolean;
  /**
   * Caller-provided result arrays (any subset of the result's columns, each with one entry per row): the call
   * writes into them and returns them in the result instead of allocating new ones, so a loop that reuses them
   * allocates nothing per call. `nll` / `targetRank` need `targets`. The arrays must not overlap each other or
   * the logits, and must not be used until the promise settles.
   */
  out?: LogitStatsOut;
  /** @internal Forces native code paths (tests and benchmarks). */
  tuning?: NativeTuning;
}

/** The result columns {@link LogitStatsOptions.out} may provide (see {@link LogitStatsResult}). */
export interface LogitStatsOut {
  /** Written in place with {@link LogitStatsResult.logsumexp}, one entry per row. */
  logsumexp?: Float32Array;
  /** Written in place with {@link LogitStatsResult.entropy}, one entry per row. */
  entropy?: Float32Array;
  /** Written in place with {@link LogitStatsResult.varentropy}, one entry per row. */
  varentropy?: Float32Array;
  /** Written in place with {@link LogitStatsResult.maxProb}, one entry per row. */
  maxProb?: Float32Array;
  /** Written in place with {@link LogitStatsResult.argmax}, one entry per row. */
  argmax?: Int32Array;
  /** Written in place with {@link LogitStatsResult.nll}, one entry per row (only with `targets`). */
  nll?: Float32Array;
  /** Written in place with {@link LogitStatsResult.targetRank}, one entry per row (only with `targets`). */
  targetRank?: Int32Array;
}

/** Per-row results of {@link logitStats}; every array has one entry per row. */
export interface LogitStatsResult {
  /** log Σ exp(x). */
  logsumexp: Float32Array;
  /** Shannon entropy H = −Σ p log p, in nats. */
  entropy: Float32Array;
  /** Varentropy Var[−log p] = Σ p (log p)² − H². */
  varentropy: Float32Array;
  /** max p. */
  maxProb: Float32Array;
  /** Index of the largest logit (lowest index on ties). */
  argmax: Int32Array;
  /** −log p(target), when targets were given. */
  nll?: Float32Array;
  /** #{x > x_target}: 0 when the target is the (tied) argmax, when targets were given. */
  targetRank?: Int32Array;
  /** True when some row contained NaN; that row's float outputs are NaN. */
  hasNaN: boolean;
}

const KEYS = optionKeys<LogitStatsOptions>({ targets: 1, temperature: 1, backend: 1, signal: 1, sync: 1, out: 1, tuning: 1 });
const OUT_KEYS = optionKeys<LogitStatsOut>({ logsumexp: 1, entropy: 1, varentropy: 1, maxProb: 1, argmax: 1, nll: 1, targetRank: 1 });
const OUT_TYPES: Record<keyof LogitStatsOut, 'Float32Array' | 'Int32Array'> = {
  logsumexp: 'Float32Array',
  entropy: 'Float32Array',
  varentropy: 'Float32Array',
  maxProb: 'Float32Array',
  argmax: 'Int32Array',
  nll: 'Float32Array',
  targetRank: 'Int32Array',
};

type View = { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
const overlaps = (a: View, b: View) =>
  a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
  a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

/** opts.out: an object of typed arrays of the right kind with one entry per row, none overlapping another or the input. */
function checkOut(v: unknown, rows: number, hasTargets: boolean, input: unknown): LogitStatsOut {
  const o = options<LogitStatsOut>(v, 'opts.out', OUT_KEYS, true);
  const seen: [string, View][] = [];
  const inputView = ArrayBuffer.isView(input) ? input : undefined;
  for (const key of OUT_KEYS as readonly (keyof LogitStatsOut)[]) {
    const a = o[key];
    if (a === undefined) continue;
    const name = `opts.out.${key}`;
    const arr = typedArray(a, name, OUT_TYPES[key], rows, 'one per row');
    if ((key === 'nll' || key === 'targetRank') && !hasTargets) throw outOfRange(name, 'absent without opts.targets', a);
    if (inputView && overlaps(arr, inputView)) throw outOfRange(name, 'an array not overlapping logits.data', a);
    for (const [other, view] of seen) if (overlaps(arr, view)) throw outOfRange(name, `an array not overlapping opts.out.${other}`, a);
    seen.push([key, arr]);
  }
  return o;
}

/**
 * Streams each row of logits once and returns its log-sum-exp, entropy, varentropy, max probability and
 * argmax — and with `targets`, the NLL and rank of each target. fp32 accumulation (≈1e-5 nats at V = 152k).
 *
 * A row of all −Infinity is an error (RangeError); rows with +Infinity put all mass on those entries.
 *
 * @example
 * ```ts
 * const s = await logitStats({ data: logits, rows: 2, vocab: 32000 }, { targets: new Int32Array([5, 9]) });
 * s.entropy[0]; s.nll![1];
 * ```
 */
export async function logitStats(logits: Logits, opts: LogitStatsOptions = {}): Promise<LogitStatsResult> {
  const o = options<LogitStatsOptions>(opts, 'opts', KEYS);
  const l = normalizeLogits(logits, 'logits');
  const temperature = number(o.temperature ?? 1, 'opts.temperature', { min: 0, minExclusive: true });
  const targets =
    o.targets === undefined ? undefined : checkTokenIds(o.targets, 'opts.targets', l.native.rows, l.native.vocab);
  const sync = o.sync === undefined ? false : boolean(o.sync, 'opts.sync');
  const out = o.out === undefined ? undefined : checkOut(o.out, l.native.rows, targets !== undefined, l.native.data);
  const backend = backendForCall(o.backend, l.onDevice);
  const run = nativeFunction(backend, 'logitStats');
  const result = await withSignal(o.signal, (cancel) => run(l.native, { targets, temperature, cancel, backend, tuning: o.tuning, ...(sync ? { sync } : {}), ...(out ? { out } : {}) }));
  // The addon sees an empty targets array (rows = 0) as absent; the result still carries (empty) target outputs.
  if (targets && !result.nll) Object.assign(result, { nll: out?.nll ?? new Float32Array(0), targetRank: out?.targetRank ?? new Int32Array(0) });
  return result;
}
