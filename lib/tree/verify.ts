/**
 * Batched, lossless speculative-decoding tree verification (DESIGN.md §3, §4.3).
 *
 * @packageDocumentation
 */
import { withSignal } from '../abort';
import { Logits, NativeLogits, normalizeLogits } from '../logits';
import { BackendChoice, NativeTuning, backendForCall, nativeFunction } from '../native';
import { TreeBatch, validateTreeBatch } from './types';
import { show } from '../show';
import { normaliseStreams } from './streams';
import { type LayoutFields, type ResultLayoutOptions, layoutFor } from './layout';

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

/** Options of {@link verifyTree}. */
export interface VerifyTreeOptions extends ResultLayoutOptions {
  mode: VerifyMode;
  /** Default 'deterministic'. */
  drafts?: DraftKind;
  /**
   * Draft logits, one row per node (same order as the target), required for 'iid' / 'without-replacement':
   * row n is the distribution node n's children were drawn from, exactly as sampled (after the drafter's own
   * temperature / top-k); q = softmax(row).
   */
  draft?: Logits;
  /** Target temperature, one value or one per tree (>= 0; 0 = greedy for that tree). Default 1. */
  temperature?: number | Float32Array;
  /** Keep the k most probable tokens (ties to the lower id), one value or one per tree; 0 = off (default). */
  topK?: number | Int32Array;
  /** Keep the smallest most-probable set with mass >= topP (after top-k), in (0, 1]; 1 = off (default). */
  topP?: number | Float32Array;
  /** Seed of the counter-based generator (safe integer >= 0 or bigint < 2^64). */
  /**
   * Seed of the counter-based generator: a safe integer >= 0 or bigint < 2^64 for the call (each request's
   * stream is keyed by (seed, its index in the batch, step, node)), or a BigUint64Array with one seed per tree
   * (each request's stream is keyed by (its seed, its step, node) only, so its tokens do not depend on the other
   * requests, their order, the batch size or the thread count: continuous batching, per-request "seed").
   */
  seed: number | bigint | BigUint64Array;
  /**
   * Decoding step, part of the random key (integer in [0, 2^32), default 0): use a new one per call. A
   * Uint32Array gives each tree its own step (the request's decoding-step counter).
   */
  step?: number | Uint32Array;
  /** 'cpu', 'cuda' or 'auto' (default: LENGTHWISE_BACKEND, else auto). Device data always runs on CUDA. */
  backend?: BackendChoice;
  signal?: AbortSignal;
  /** @internal Forces native code paths (tests and benchmarks). */
  tuning?: NativeTuning;
}

/**
 * Result of {@link verifyTree}. Request b owns positions `tokenOffsets[b] .. tokenOffsets[b+1]-1` of both
 * `acceptedNodes` and `tokens` (always `acceptedLength[b] + 1` positions):
 * - `acceptedNodes`: LOCAL node ids of the accepted path, root (0) first, then the accepted nodes in depth
 *   order (global row = `trees.offsets[b] + id`);
 * - `tokens[tokenOffsets[b] + i]` is the token emitted from row `acceptedNodes[tokenOffsets[b] + i]`: for
 *   `i < acceptedLength[b]` the accepted draft token of the next path node, last the correction token (after a
 *   rejection) or the bonus token (at a leaf).
 */
export interface VerifyTreeResult extends LayoutFields {
  /** Accepted draft tokens per tree (excluding the correction/bonus token). */
  acceptedLength: Int32Array;
  acceptedNodes: Int32Array;
  tokens: Int32Array;
  /** `batch + 1` offsets into `acceptedNodes` and `tokens`. */
  tokenOffsets: Int32Array;
}

type NativeVerifyTree = (
  trees: TreeBatch,
  target: NativeLogits,
  opts: {
    mode: number;
    drafts: number;
    draft?: NativeLogits;
    temperature: Float32Array;
    topK: Int32Array;
    topP: Float32Array;
    seedLo: number;
    seedHi: number;
    step: number;
    seeds?: BigUint64Array;
    steps?: Uint32Array;
    cancel: Int32Array;
    backend: string;
    tuning?: NativeTuning;
  },
) => Promise<VerifyTreeResult>;

const MODES: Record<VerifyMode, number> = { greedy: 0, sample: 1 };
const DRAFTS: Record<DraftKind, number> = { deterministic: 0, iid: 1, 'without-replacement': 2 };

function perTree<A extends Float32Array | Int32Array>(
  v: number | A | undefined,
  name: string,
  batch: number,
  fallback: number,
  make: (n: number) => A,
  check: (x: number) => boolean,
  expected: string,
): A {
  const out = make(batch);
  if (v === undefined) return out.fill(fallback) as A;
  if (typeof v === 'number') {
    if (!check(v)) throw new RangeError(`${name} must be ${expected} (got ${v})`);
    return out.fill(v) as A;
  }
  if (!(v instanceof out.constructor)) {
    throw new TypeError(`${name} must be a number or a ${out.constructor.name} with one entry per tree`);
  }
  if (v.length !== batch) throw new RangeError(`${name} must have one entry per tree (${batch}), got ${v.length}`);
  for (let i = 0; i < batch; i++) {
    if (!check(v[i]!)) throw new RangeError(`${name}[${i}] must be ${expected} (got ${v[i]})`);
  }
  return v;
}

/**
 * Verifies a batch of draft trees against the target model's logits (one row per node) and returns, per tree,
 * the accepted path and the emitted tokens. In 'sample' mode the emitted tokens are distributed exactly as
 * autoregressive sampling from the processed target (softmax(z/T), then top-k, then top-p), provided `drafts`
 * truthfully describes how the children were drawn. Randomness comes from Philox keyed by (seed, tree index,
 * step, node), or (its own seed, its own step, node) with per-request seeds: the same call gives the same tokens on any thread count and on CPU and CUDA (up to comparisons
 * within float rounding of their threshold).
 *
 * Only rows the walk reads are reduced over the vocabulary; a NaN or +Infinity in such a row (or a row of only
 * −Infinity) rejects with a RangeError naming `target` / `draft`.
 *
 * @example
 * ```ts
 * const trees = { tokens: new Int32Array([0, 5, 7]), parents: new Int32Array([-1, 0, 1]), offsets: new Int32Array([0, 3]) };
 * const r = await verifyTree(trees, { data: logits, rows: 3, vocab: 32000 }, { mode: 'sample', temperature: 0.7, seed: 1, step });
 * r.tokens.subarray(r.tokenOffsets[0], r.tokenOffsets[1]); // accepted tokens + correction/bonus
 * ```
 * @throws TypeError / RangeError naming the argument for malformed trees (cycles, parent >= child, ids out of
 *   range, duplicate siblings unless drafts = 'iid'), mismatched row counts or vocabularies,
 *   bad per-tree parameters, seeds or steps.
 */
export async function verifyTree(trees: TreeBatch, target: Logits, opts: VerifyTreeOptions): Promise<VerifyTreeResult> {
  if (opts === null || typeof opts !== 'object') throw new TypeError('opts must be an object { mode, seed, ... }');
  if (typeof opts.mode !== 'string' || !Object.prototype.hasOwnProperty.call(MODES, opts.mode)) throw new RangeError(`opts.mode must be 'greedy' or 'sample' (got ${show(opts.mode)})`);
  const drafts = opts.drafts ?? 'deterministic';
  if (typeof drafts !== 'string' || !Object.prototype.hasOwnProperty.call(DRAFTS, drafts)) {
    throw new RangeError(`opts.drafts must be 'deterministic', 'iid' or 'without-replacement' (got ${show(drafts)})`);
  }
  const sample = opts.mode === 'sample';
  const t = normalizeLogits(target, 'target');
  validateTreeBatch(trees, { vocab: t.native.vocab, allowDuplicateSiblings: drafts === 'iid' });
  const nodes = trees.tokens.length;
  const batch = trees.offsets.length - 1;
  if (t.native.rows !== nodes) {
    throw new RangeError(`target.rows = ${t.native.rows} must equal the number of tree nodes (${nodes}): one row per node`);
  }
  let draft: ReturnType<typeof normalizeLogits> | undefined;
  const needDraft = sample && drafts !== 'deterministic';
  if (needDraft) {
    if (opts.draft === undefined) {
      throw new TypeError(`opts.draft (draft logits, one row per node) is required for drafts '${drafts}'`);
    }
    draft = normalizeLogits(opts.draft, 'opts.draft');
    if (draft.native.rows !== nodes) {
      throw new RangeError(`opts.draft.rows = ${draft.native.rows} must equal the number of tree nodes (${nodes})`);
    }
    if (draft.native.vocab !== t.native.vocab) {
      throw new RangeError(`opts.draft.vocab = ${draft.native.vocab} must equal target.vocab = ${t.native.vocab}`);
    }
  }
  const temperature = perTree(opts.temperature, 'opts.temperature', batch, 1, (n) => new Float32Array(n),
    (x) => Number.isFinite(x) && x >= 0, 'a finite number >= 0');
  const topK = perTree(opts.topK, 'opts.topK', batch, 0, (n) => new Int32Array(n),
    (x) => Number.isInteger(x) && x >= 0 && x <= 0x7fffffff, 'an integer >= 0 (0 = off)');
  const topP = perTree(opts.topP, 'opts.topP', batch, 1, (n) => new Float32Array(n),
    (x) => x > 0 && x <= 1, 'in (0, 1]');
  const streams = normaliseStreams(opts.seed, opts.step, batch);
  const toResult = layoutFor(trees, opts);
  const backend = backendForCall(opts.backend, t.onDevice || (draft?.onDevice ?? false));
  const run = nativeFunction<NativeVerifyTree>(backend, 'verifyTree');
  return withSignal(opts.signal, (cancel) =>
    run(trees, t.native, {
      mode: MODES[opts.mode],
      drafts: DRAFTS[drafts],
      draft: draft?.native,
      temperature,
      topK,
      topP,
      ...streams,
      cancel,
      backend,
      tuning: opts.tuning,
    }),
  ).then(toResult);
}
