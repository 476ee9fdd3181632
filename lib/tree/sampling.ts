/**
 * The target-processing vocabulary of the tree family (verifyTree and every tree utility): the options, how the
 * children were drafted, and the one normaliser that checks them and hands them to the addon.
 *
 * @packageDocumentation
 */
import { DeviceTensor, isDeviceTensor, nativeHandle } from '../device';
import type { NativeDeviceBuffer } from '../runtime/addonTypes';
import { show } from '../runtime/show';
import { invalidType, lwError, object, optionKeys, options, perRequest as perRequestKnob, rangeError, typeError, typedArray } from '../runtime/validate';

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
 * Per-request additive logit bias (OpenAI's `logit_bias`): request b adds `values[i]` to the logit of token
 * `ids[i]` for i in `offsets[b] .. offsets[b+1]-1`. A value of `-Infinity` bans the token; a token may be listed
 * once per request.
 */
export interface LogitBias {
  /** `batch + 1` non-decreasing offsets into `ids` / `values`, `offsets[0] = 0`, `offsets[batch] = ids.length`. */
  offsets: Int32Array;
  /** Token ids in [0, V). */
  ids: Int32Array;
  /** Finite numbers or `-Infinity`. */
  values: Float32Array;
}

/**
 * The tokens a request has produced so far (what the penalties count): request b's token `ids[i]` occurred
 * `counts[i]` times, for i in `offsets[b] .. offsets[b+1]-1`. An id may repeat (its counts add), so a plain token
 * list with counts of 1 works. It must include the last committed token (the tree root's); the drafted tokens on
 * the path to each node are added by the kernel.
 */
export interface TokenHistory {
  /** `batch + 1` non-decreasing offsets into `ids` / `counts`, `offsets[0] = 0`, `offsets[batch] = ids.length`. */
  offsets: Int32Array;
  /** Token ids in [0, V). */
  ids: Int32Array;
  /** Occurrences, >= 0. */
  counts: Int32Array;
}

/**
 * Repetition / frequency / presence penalties (OpenAI / vLLM semantics), applied to every token with a count
 * c > 0, where c is its count in `history` plus its occurrences among the drafted tokens on the path from the
 * root to the node (so every row is penalised exactly as autoregressive decoding would have penalised it).
 * Each knob is one number for the batch or a Float32Array with one entry per tree.
 */
export interface Penalties {
  /** r > 0 (1 = off, default): a seen token's logit z becomes z / r when z > 0, z · r otherwise. */
  repetition?: number | Float32Array;
  /** f (finite, 0 = off, default): z -= c · f. */
  frequency?: number | Float32Array;
  /** p (finite, 0 = off, default): z -= p once. */
  presence?: number | Float32Array;
  /** What the counts are taken from (required). */
  history: TokenHistory;
}

/**
 * How the target distribution p_v at each node is formed (docs/tree-verification.md §2): the logits processors
 * first (the allowed-token mask, then the logit bias, then the penalties), then softmax(z / T), min-p, top-k and
 * top-p, renormalised (vLLM's order). Every knob is one value for the whole batch or a typed array with one entry per
 * tree. The processors apply inside the kernel to the rows it reads (no [rows × V] copy) and are free when
 * absent; with drafts 'iid' / 'without-replacement' they apply to the draft rows too (q = softmax of the
 * processed draft row: pass the drafter's logits before these processors, and draw the children from that q).
 * Greedy mode follows the argmax of the processed logits. A row the walk reads that the processors leave with
 * no finite logit (e.g. a mask allowing only tokens whose logit is −inf) rejects with a RangeError naming the row.
 */
export interface TargetProcessingOptions {
  /**
   * `'greedy'`: p_v is one-hot at argmax z (lowest index on ties). `'sample'` (default for the utilities): the
   * processed distribution below.
   */
  mode?: VerifyMode;
  /**
   * Bit-packed allowed-token mask (bit t of word t >> 5 set = token t allowed; grammar / JSON constrained
   * decoding): `batch × ceil(V/32)` words (one mask per tree) or `nodes × ceil(V/32)` (one per tree node, in
   * node order: masks that depend on the path). Disallowed tokens get probability 0. Bits at or past V are
   * ignored. `verifyTree` with device-resident target logits also takes the mask as a {@link DeviceTensor} of
   * those words on the same device (a grammar engine's GPU bitmask, int32 or uint32 words), read in place.
   */
  allowedTokens?: Uint32Array | DeviceTensor;
  /** Per-request additive logit bias, applied after the mask. */
  logitBias?: LogitBias;
  /** Repetition / frequency / presence penalties, applied after the bias. */
  penalties?: Penalties;
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
  allowedTokens?: Uint32Array | NativeDeviceBuffer;
  logitBias?: LogitBias;
  penalties?: {
    repetition?: number | Float32Array;
    frequency?: number | Float32Array;
    presence?: number | Float32Array;
    history: TokenHistory;
  };
}

/** The option keys of {@link TargetProcessingOptions}: every call of the tree family accepts them. */
export const PROCESSING_KEYS = optionKeys<TargetProcessingOptions>({
  mode: 1, temperature: 1, minP: 1, topK: 1, topP: 1, allowedTokens: 1, logitBias: 1, penalties: 1,
});

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
  name: 'temperature' | 'minP' | 'topK' | 'topP';
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
export function normaliseProcessing(
  opts: TargetProcessingOptions,
  batch: number,
  mode: VerifyMode,
  size?: { nodes: number; vocab: number },
): NativeProcessing {
  const out: NativeProcessing = { mode };
  for (const k of KNOBS) {
    const v = perRequest(k, opts[k.name], batch);
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k.name] = v;
  }
  if (opts.allowedTokens !== undefined || opts.logitBias !== undefined || opts.penalties !== undefined) {
    if (size === undefined) throw lwError('ERR_LENGTHWISE', 'normaliseProcessing: the processors need the node count and vocabulary');
    Object.assign(out, normaliseProcessors(opts, batch, size.nodes, size.vocab));
  }
  return out;
}

const BIAS_KEYS = optionKeys<LogitBias>({ offsets: 1, ids: 1, values: 1 });
const PENALTY_KEYS = optionKeys<Penalties>({ repetition: 1, frequency: 1, presence: 1, history: 1 });
const HISTORY_KEYS = optionKeys<TokenHistory>({ offsets: 1, ids: 1, counts: 1 });

/** A ragged per-request list: offsets of batch + 1 entries, two arrays of one length (values checked by core). */
function ragged<A extends 'Float32Array' | 'Int32Array'>(
  v: unknown,
  name: string,
  keys: readonly string[],
  second: string,
  ctor: A,
  batch: number,
): void {
  const o = options<Record<string, unknown>>(object(v, name, `{ offsets, ids, ${second} }`), name, keys, true);
  typedArray(o.offsets, `${name}.offsets`, 'Int32Array', batch + 1, 'batch + 1');
  const ids = typedArray(o.ids, `${name}.ids`, 'Int32Array');
  typedArray(o[second], `${name}.${second}`, ctor, ids.length, `one per id`);
}

/**
 * The logits processors: types and shapes here; the values (offsets non-decreasing, ids in [0, V), no id twice
 * in one request's bias, counts >= 0, bias not NaN / +Infinity) are checked by core (native/core/processors.cc).
 */
function normaliseProcessors(opts: TargetProcessingOptions, batch: number, nodes: number, vocab: number) {
  const out: Pick<NativeProcessing, 'allowedTokens' | 'logitBias' | 'penalties'> = {};
  if (opts.allowedTokens !== undefined) {
    const words = Math.ceil(vocab / 32);
    const onDevice = isDeviceTensor(opts.allowedTokens);
    if (!onDevice && !(opts.allowedTokens instanceof Uint32Array)) {
      throw invalidType('opts.allowedTokens', 'a Uint32Array or a DeviceTensor', opts.allowedTokens);
    }
    const m = onDevice ? undefined : (opts.allowedTokens as Uint32Array);
    const length = m ? m.length : (opts.allowedTokens as DeviceTensor).byteLength / 4;
    if (length !== batch * words && length !== nodes * words) {
      throw rangeError(
        `opts.allowedTokens must hold batch × ceil(V/32) = ${batch} × ${words} = ${batch * words} words (one mask per tree) or nodes × ceil(V/32) = ${nodes} × ${words} = ${nodes * words} (one per node) (got ${onDevice ? `a DeviceTensor of ${length * 4} bytes` : length})`,
      );
    }
    out.allowedTokens = m ?? nativeHandle(opts.allowedTokens as DeviceTensor);
  }
  if (opts.logitBias !== undefined) {
    ragged(opts.logitBias, 'opts.logitBias', BIAS_KEYS, 'values', 'Float32Array', batch);
    out.logitBias = opts.logitBias;
  }
  if (opts.penalties !== undefined) {
    const p = options<Penalties>(object(opts.penalties, 'opts.penalties', '{ repetition?, frequency?, presence?, history }'), 'opts.penalties', PENALTY_KEYS, true);
    if (p.history === undefined) throw typeError('opts.penalties.history ({ offsets, ids, counts }) is required');
    ragged(p.history, 'opts.penalties.history', HISTORY_KEYS, 'counts', 'Int32Array', batch);
    const knob = (k: 'repetition' | 'frequency' | 'presence', bounds: { min?: number; minExclusive?: boolean }, expected: string) =>
      perRequestKnob(p[k], `opts.penalties.${k}`, 'Float32Array', batch, bounds, expected) as number | Float32Array | undefined;
    const repetition = knob('repetition', { min: 0, minExclusive: true }, 'a finite number > 0 (1 = off)');
    const frequency = knob('frequency', {}, 'a finite number (0 = off)');
    const presence = knob('presence', {}, 'a finite number (0 = off)');
    out.penalties = { history: p.history };
    if (repetition !== undefined) out.penalties.repetition = repetition;
    if (frequency !== undefined) out.penalties.frequency = frequency;
    if (presence !== undefined) out.penalties.presence = presence;
  }
  return out;
}
