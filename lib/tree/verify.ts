/**
 * Batched, lossless speculative-decoding tree verification (DESIGN.md §3, §4.3).
 *
 * @packageDocumentation
 */
import { withSignal } from '../abort';
import { Logits, NativeLogits, normalizeLogits } from '../logits';
import { BackendChoice, backendForCall, nativeFunction } from '../native';
import { type DraftKind, type NativeProcessing, normaliseProcessing, parseDraftKind, parseMode, type TargetProcessingOptions, type VerifyMode } from './sampling';
import { TreeBatch, validateTreeBatch } from './types';
import { show } from '../show';

export type { DraftKind, VerifyMode } from './sampling';

/** Options of {@link verifyTree}. */
export interface VerifyTreeOptions extends TargetProcessingOptions {
  /** Required here (the tree utilities default to 'sample'). */
  mode: VerifyMode;
  /** Default 'deterministic'. */
  drafts?: DraftKind;
  /**
   * Draft logits, one row per node (same order as the target), required for 'iid' / 'without-replacement':
   * row n is the distribution node n's children were drawn from, exactly as sampled (after the drafter's own
   * temperature / top-k); q = softmax(row).
   */
  draft?: Logits;
  /** Seed of the counter-based generator (safe integer >= 0 or bigint < 2^64). */
  seed: number | bigint;
  /** Decoding step, part of the random key (integer in [0, 2^32), default 0): use a new one per call. */
  step?: number;
  /** 'cpu', 'cuda' or 'auto' (default: LENGTHWISE_BACKEND, else auto). Device data always runs on CUDA. */
  backend?: BackendChoice;
  signal?: AbortSignal;
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
export interface VerifyTreeResult {
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
  opts: NativeProcessing & {
    drafts: DraftKind;
    draft?: NativeLogits;
    seedLo: number;
    seedHi: number;
    step: number;
    cancel: Int32Array;
    backend: string;
  },
) => Promise<VerifyTreeResult>;

function splitSeed(seed: unknown): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`opts.seed must be in [0, 2^64) (got ${seed})`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number') throw new TypeError('opts.seed must be a number or a bigint');
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`opts.seed must be a safe integer >= 0 or a bigint (got ${seed})`);
  }
  return [seed % 4294967296, Math.floor(seed / 4294967296)];
}

/**
 * Verifies a batch of draft trees against the target model's logits (one row per node) and returns, per tree,
 * the accepted path and the emitted tokens. In 'sample' mode the emitted tokens are distributed exactly as
 * autoregressive sampling from the processed target (softmax(z/T), then min-p, top-k and top-p), provided `drafts`
 * truthfully describes how the children were drawn. Randomness comes from Philox keyed by (seed, tree index,
 * step, node): the same call gives the same tokens on any thread count and on CPU and CUDA (up to comparisons
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
  const mode = parseMode(opts.mode);
  const drafts = parseDraftKind(opts.drafts);
  const sample = mode === 'sample';
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
  const processing = normaliseProcessing(opts, batch, mode);
  const [seedLo, seedHi] = splitSeed(opts.seed);
  const step = opts.step ?? 0;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > 0xffffffff) {
    throw new RangeError(`opts.step must be an integer in [0, 2^32) (got ${show(step)})`);
  }
  const backend = backendForCall(opts.backend, t.onDevice || (draft?.onDevice ?? false));
  const run = nativeFunction<NativeVerifyTree>(backend, 'verifyTree');
  return withSignal(opts.signal, (cancel) =>
    run(trees, t.native, {
      ...processing,
      drafts,
      draft: draft?.native,
      seedLo,
      seedHi,
      step,
      cancel,
      backend,
    }),
  );
}
