/**
 * Batched, lossless speculative-decoding tree verification (docs/tree-verification.md).
 *
 * @packageDocumentation
 */
import { fromNative, withSignal } from '../runtime/abort';
import { Logits, type NormalizedLogits, normalizeLogits } from '../logits';
import { BackendChoice, NativeTuning, backendForCall, nativeFunction } from '../runtime/native';
import { type DraftKind, normaliseProcessing, PROCESSING_KEYS, parseDraftKind, parseMode, type TargetProcessingOptions, type VerifyMode } from './sampling';
import { checkTreeFields, checkTreeNodes, checkTreeOffsets, type TreeBatch } from './types';
import { show } from '../runtime/show';
import { normaliseStreams } from './streams';
import { compactLayout, LAYOUT_KEYS, type LayoutFields, type ResultLayoutOptions, layoutFor } from './layout';
import { boolean, optionKeys, options, perRequest, rangeError, typeError } from '../runtime/validate';
import type { NativeVerifyTreeOptions } from '../runtime/addonTypes';

export type { DraftKind, VerifyMode } from './sampling';

/** Options of {@link verifyTree}. */
export interface VerifyTreeOptions extends TargetProcessingOptions, ResultLayoutOptions {
  /**
   * Required here (the tree utilities default to 'sample'). `'greedy'`: follow the target's argmax (lowest id on
   * ties) down the tree and emit it where no child matches (algorithm A; nothing is sampled, `seed` not needed).
   * `'sample'`: lossless speculative sampling from the processed target distribution (algorithms B–D by
   * `drafts`; needs `seed`). See docs/tree-verification.md §4.
   */
  mode: VerifyMode;
  /**
   * How the children of each node were produced (default 'deterministic'): decides the acceptance rule in
   * 'sample' mode (docs/tree-verification.md §4); 'iid' and 'without-replacement' need `draft`.
   */
  drafts?: DraftKind;
  /**
   * Draft logits, one row per node (same order as the target), required for 'iid' / 'without-replacement':
   * row n is the distribution node n's children were drawn from, exactly as sampled (after the drafter's own
   * temperature / top-k); q = softmax(row), after the call's logits processors (allowedTokens, logitBias,
   * penalties) when it has any.
   */
  draft?: Logits;
  /**
   * Seed of the counter-based generator: a safe integer >= 0 or bigint < 2^64 for the call (each request's
   * stream is keyed by (seed, its index in the batch, step, node)), or a BigUint64Array with one seed per tree
   * (each request's stream is keyed by (its seed, its step, node) only, so its tokens do not depend on the other
   * requests, their order, the batch size or the thread count: continuous batching, per-request "seed").
   * Required in 'sample' mode; optional in 'greedy' mode, which draws nothing (docs/tree-verification.md §3).
   */
  seed?: number | bigint | BigUint64Array;
  /**
   * Decoding step, part of the random key (integer in [0, 2^32), default 0): use a new one per call. A
   * Uint32Array gives each tree its own step (the request's decoding-step counter).
   */
  step?: number | Uint32Array;
  /**
   * Cap on accepted draft tokens: one integer >= 0 for every tree, or an Int32Array with one per tree (default:
   * no cap). The walk stops after that many accepted drafts and emits one more token from the node it reached,
   * so a tree yields at most `maxAccepted + 1` tokens (0: only the root's token). The emitted tokens are
   * distributed exactly as for the tree cut at that depth: when the walk stops because of the cap, the last
   * token is the bonus token, a plain sample of the processed target at that node (greedy: its argmax), as at
   * a leaf; a rejection before the cap gives the usual correction. SGLang's `num_speculative_tokens`
   * (`accept_index` width, = `--speculative-num-steps` + 1) is `maxAccepted + 1`; vLLM's
   * `num_speculative_tokens` k is `maxAccepted = k`.
   */
  maxAccepted?: number | Int32Array;
  /** 'cpu', 'cuda' or 'auto' (default: LENGTHWISE_BACKEND, else auto). Device data always runs on CUDA. */
  backend?: BackendChoice;
  /** Aborts the call: the promise rejects with an AbortError and the native work stops at the next check. */
  signal?: AbortSignal;
  /**
   * Runs the call on the calling thread instead of a worker (default false): saves the thread hop (tens of
   * µs) for small calls such as one decoding step's verification on the GPU; blocks the event loop for the
   * call's duration, and `signal` cannot interrupt it. The result is still a promise.
   */
  sync?: boolean;
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
  /**
   * Local node ids of each tree's accepted path, root (0) first, in depth order; `acceptedLength[b] + 1`
   * entries per tree at `tokenOffsets[b] …` (global row = `trees.offsets[b] + id`).
   */
  acceptedNodes: Int32Array;
  /**
   * Emitted tokens, `acceptedLength[b] + 1` per tree at `tokenOffsets[b] …`: the accepted draft tokens, then
   * the correction token (after a rejection) or the bonus token (at a leaf).
   */
  tokens: Int32Array;
  /** `batch + 1` offsets into `acceptedNodes` and `tokens`. */
  tokenOffsets: Int32Array;
}

const VERIFY_KEYS = [
  ...LAYOUT_KEYS,
  ...PROCESSING_KEYS,
  ...optionKeys<Omit<VerifyTreeOptions, keyof ResultLayoutOptions | keyof TargetProcessingOptions>>({
    drafts: 1, draft: 1, seed: 1, step: 1, maxAccepted: 1, backend: 1, signal: 1, sync: 1, tuning: 1,
  }),
];

/**
 * Verifies a batch of draft trees against the target model's logits (one row per node) and returns, per tree,
 * the accepted path and the emitted tokens. In 'sample' mode the emitted tokens are distributed exactly as
 * autoregressive sampling from the processed target ({@link TargetProcessingOptions}), provided `drafts`
 * truthfully describes how the children were drawn; per-request logits processors (`allowedTokens`, `logitBias`,
 * `penalties`) apply inside the kernel first. Randomness comes from Philox keyed by (seed, tree index,
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
 * A draft token of -1 is a placeholder: never accepted, its subtree never reached (see {@link TreeBatch}).
 *
 * @throws TypeError / RangeError naming the argument for malformed trees (cycles, parent >= child, ids out of
 *   range, duplicate siblings unless drafts = 'iid'), mismatched row counts or vocabularies,
 *   bad per-tree parameters, seeds, steps or caps (`maxAccepted` negative or not an integer).
 */
export function verifyTree(trees: TreeBatch, target: Logits, opts: VerifyTreeOptions): Promise<VerifyTreeResult> {
  // A plain function returning the addon's promise (one reaction added), not an async one: each await / async
  // return adds microtask hops to every call. Nothing throws out of it: every error rejects.
  try {
    return startVerifyTree(trees, target, opts);
  } catch (err) {
    return Promise.reject(err);
  }
}

function startVerifyTree(trees: TreeBatch, target: Logits, opts: VerifyTreeOptions): Promise<VerifyTreeResult> {
  options<VerifyTreeOptions>(opts, 'opts', VERIFY_KEYS, true);
  const mode = parseMode(opts.mode);
  const drafts = parseDraftKind(opts.drafts);
  const sample = mode === 'sample';
  const t = normalizeLogits(target, 'target');
  // Types, lengths and offsets here. The nodes (token ids, roots, parents: O(nodes)) are checked by core's
  // plan_trees, which has to read them anyway, and duplicate siblings too. Their messages stay this layer's:
  // whatever fails after this point first runs the node checks (nodesFirst), so a malformed tree is reported
  // exactly as when they ran here, ahead of every later problem.
  checkTreeFields(trees, 'trees');
  checkTreeOffsets(trees, 'trees');
  const nodesFirst = (err: unknown): unknown => {
    checkTreeNodes(trees, 'trees', t.native.vocab, true);
    return err;
  };
  let native: NativeVerifyTreeOptions;
  let toResult: ReturnType<typeof layoutFor>;
  let run: ReturnType<typeof nativeFunction<'verifyTree'>>;
  try {
    ({ native, toResult, run } = prepare(trees, t, opts, mode, drafts, sample));
  } catch (err) {
    throw nodesFirst(err);
  }
  let result: Promise<VerifyTreeResult>;
  if (opts.signal === undefined) {
    try {
      result = run(trees, t.native, native).then(undefined, (err: unknown) => {
        throw nodesFirst(fromNative(err));
      });
    } catch (err) {
      throw nodesFirst(fromNative(err));
    }
  } else {
    result = withSignal(opts.signal, (cancel) => {
      native.cancel = cancel;
      return run(trees, t.native, native);
    }).then(undefined, (err: unknown) => {
      throw nodesFirst(err);
    });
  }
  // The compact layout maps nothing: no extra promise hop on the common path.
  return toResult === compactLayout ? result : result.then(toResult);
}

// Everything checked and normalised after the trees' shape: the addon's options, the layout mapping, the function.
function prepare(trees: TreeBatch, t: NormalizedLogits, opts: VerifyTreeOptions, mode: VerifyMode, drafts: DraftKind, sample: boolean) {
  const nodes = trees.tokens.length;
  const batch = trees.offsets.length - 1;
  if (t.native.rows !== nodes) {
    throw rangeError(`target.rows = ${t.native.rows} must equal the number of tree nodes (${nodes}): one row per node`);
  }
  let draft: NormalizedLogits | undefined;
  const needDraft = sample && drafts !== 'deterministic';
  if (needDraft) {
    if (opts.draft === undefined) {
      throw typeError(`opts.draft (draft logits, one row per node) is required for drafts '${drafts}'`);
    }
    draft = normalizeLogits(opts.draft, 'opts.draft');
    if (draft.native.rows !== nodes) {
      throw rangeError(`opts.draft.rows = ${draft.native.rows} must equal the number of tree nodes (${nodes})`);
    }
    if (draft.native.vocab !== t.native.vocab) {
      throw rangeError(`opts.draft.vocab = ${draft.native.vocab} must equal target.vocab = ${t.native.vocab}`);
    }
  }
  const processing = normaliseProcessing(opts, batch, mode, { nodes, vocab: t.native.vocab });
  if (sample && opts.seed === undefined) {
    throw typeError("opts.seed is required in 'sample' mode (a safe integer >= 0, a bigint or a BigUint64Array with one seed per tree); 'greedy' mode needs none");
  }
  const streams = normaliseStreams(opts.seed ?? 0, opts.step, batch);
  const maxAccepted = perRequest(opts.maxAccepted, 'opts.maxAccepted', 'Int32Array', batch, {
    min: 0,
    max: 0x7fffffff,
    integer: true,
  });
  const toResult = layoutFor(trees, opts, maxAccepted);
  const sync = opts.sync === undefined ? false : boolean(opts.sync, 'opts.sync');
  const backend = backendForCall(opts.backend, t.onDevice || (draft?.onDevice ?? false));
  const run = nativeFunction(backend, 'verifyTree');
  // Plain assignments onto the fresh processing object: spreading a handful of small objects cost ~3 µs a call.
  const native = processing as NativeVerifyTreeOptions;
  native.drafts = drafts;
  if (draft) native.draft = draft.native;
  native.seed = streams.seed;
  native.step = streams.step;
  if (streams.seeds) native.seeds = streams.seeds;
  if (streams.steps) native.steps = streams.steps;
  if (maxAccepted !== undefined) native.maxAccepted = maxAccepted;
  native.backend = backend;
  if (opts.tuning !== undefined) native.tuning = opts.tuning;
  if (sync) native.sync = true;
  return { native, toResult, run };
}
