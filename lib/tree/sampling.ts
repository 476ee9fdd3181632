/**
 * The target-processing vocabulary of the tree family (verifyTree and every tree utility): the options, how the
 * children were drafted, and the one normaliser that checks them and hands them to the addon.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { optionKeys, rangeError, typeError } from '../runtime/validate';

/** 'greedy': follow the target's argmax. 'sample': lossless sampling from the processed target distribution. */
export type VerifyMode = 'greedy' | 'sample';

/**
 * How the children of each node were produced by the drafter (sampling mode only):
 * - 'deterministic': any rule that does not sample (top-k of the draft, beam...); verification uses the target
 *   only. Sibling tokens must be distinct.
 * - 'iid': children drawn independently from the draft distribution of their parent (repeats legal).
 * - 'without-replacement': children drawn one after another from the draft distribution with the tokens already
 *   drawn removed. Sibling tokens must be distinct.
 */
export type DraftKind = 'deterministic' | 'iid' | 'without-replacement';

/**
 * How the target distribution p_v at each node is formed (docs/tree-verification.md §2): softmax(z / T), then min-p, then top-k,
 * then top-p, renormalised. Every knob is one value for the whole batch or a typed array with one entry per tree.
 */
export interface TargetProcessingOptions {
  /**
   * `'greedy'`: p_v is one-hot at argmax z (lowest index on ties). `'sample'` (default for the utilities): the
   * processed distribution below.
   */
  mode?: VerifyMode;
  /** Temperature T >= 0 (default 1); T = 0 means greedy for that tree. */
  temperature?: number | Float32Array;
  /**
   * Drop every token whose probability (after temperature) is below `minP` × the largest one; in [0, 1],
   * 0 = off (default).
   */
  minP?: number | Float32Array;
  /** Keep the k most probable tokens (ties to the lower id); 0 = off (default). */
  topK?: number | Int32Array;
  /**
   * Keep the smallest set of most probable tokens (after top-k, renormalised) whose probability sums to >= topP;
   * in (0, 1], 1 = off (default).
   */
  topP?: number | Float32Array;
}

/** Normalised options as the addon reads them (native/addon/unpack.cc `unpack_sampling`). */
export interface NativeProcessing {
  mode: VerifyMode;
  temperature?: number | Float32Array;
  minP?: number | Float32Array;
  topK?: number | Int32Array;
  topP?: number | Float32Array;
}

/** The option keys of {@link TargetProcessingOptions}: every call of the tree family accepts them. */
export const PROCESSING_KEYS = optionKeys<TargetProcessingOptions>({ mode: 1, temperature: 1, minP: 1, topK: 1, topP: 1 });

const MODES: readonly VerifyMode[] = ['greedy', 'sample'];
const DRAFT_KINDS: readonly DraftKind[] = ['deterministic', 'iid', 'without-replacement'];

/** Checks `opts.mode` (`fallback` when absent; `undefined` fallback = required). */
export function parseMode(mode: unknown, fallback?: VerifyMode): VerifyMode {
  const m = mode ?? fallback;
  if (!MODES.includes(m as VerifyMode)) throw rangeError(`opts.mode must be 'greedy' or 'sample' (got ${show(mode)})`);
  return m as VerifyMode;
}

/** Checks `opts.drafts` (default 'deterministic'). */
export function parseDraftKind(drafts: unknown): DraftKind {
  const d = drafts ?? 'deterministic';
  if (!DRAFT_KINDS.includes(d as DraftKind)) {
    throw rangeError(`opts.drafts must be 'deterministic', 'iid' or 'without-replacement' (got ${show(drafts)})`);
  }
  return d as DraftKind;
}

interface Knob {
  name: keyof NativeProcessing & keyof TargetProcessingOptions;
  array: typeof Float32Array | typeof Int32Array;
  check: (v: number) => boolean;
  expected: string;
}

const KNOBS: readonly Knob[] = [
  { name: 'temperature', array: Float32Array, check: (v) => Number.isFinite(v) && v >= 0, expected: 'a finite number >= 0' },
  { name: 'minP', array: Float32Array, check: (v) => v >= 0 && v <= 1, expected: 'a number in [0, 1] (0 = off)' },
  {
    name: 'topK',
    array: Int32Array,
    check: (v) => Number.isInteger(v) && v >= 0 && v <= 0x7fffffff,
    expected: 'an integer >= 0 (0 = off)',
  },
  { name: 'topP', array: Float32Array, check: (v) => v > 0 && v <= 1, expected: 'a number in (0, 1] (1 = off)' },
];

/** One knob: a number for the whole batch, or a typed array with one entry per tree (`arr ? arr[b] : val`). */
function perRequest(k: Knob, value: unknown, batch: number): number | Float32Array | Int32Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    if (!k.check(value)) throw rangeError(`opts.${k.name} must be ${k.expected} (got ${value})`);
    return value;
  }
  if (!(value instanceof k.array)) {
    throw typeError(`opts.${k.name} must be a number or a ${k.array.name} with one entry per tree`);
  }
  if (value.length !== batch) {
    throw rangeError(`opts.${k.name} must have one entry per tree (${batch}), got ${value.length}`);
  }
  for (let i = 0; i < value.length; i++) {
    if (!k.check(value[i]!)) throw rangeError(`opts.${k.name}[${i}] must be ${k.expected} (got ${value[i]})`);
  }
  return value;
}

/**
 * Validates the processing options of a call over `batch` trees; `mode` is the already parsed mode.
 *
 * @throws TypeError / RangeError naming the option for a value out of range or an array of the wrong type or
 *   length.
 */
export function normaliseProcessing(opts: TargetProcessingOptions, batch: number, mode: VerifyMode): NativeProcessing {
  const out: NativeProcessing = { mode };
  for (const k of KNOBS) {
    const v = perRequest(k, opts[k.name], batch);
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k.name] = v;
  }
  return out;
}
