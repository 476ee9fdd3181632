/**
 * Analytic draft-tree utilities under the target distribution: expected acceptance length and GTO's
 * draft-tree reward.
 *
 * @packageDocumentation
 */
import { withSignal } from '../runtime/abort';
import { type Logits, type NativeLogits, normalizeLogits } from '../logits';
import { type BackendChoice, backendForCall, nativeFunction } from '../runtime/native';
import { type DraftKind, type NativeProcessing, normaliseProcessing, PROCESSING_KEYS, parseDraftKind, parseMode, type TargetProcessingOptions } from './sampling';
import { type TreeBatch, validateTreeBatch } from './types';
import { optionKeys, options, rangeError, typeError } from '../runtime/validate';

/** Options of {@link expectedAcceptance}. */
export interface ExpectedAcceptanceOptions extends TargetProcessingOptions {
  /**
   * How the children were drafted, as for `verifyTree` (default `'deterministic'`): deterministic drafts are
   * verified against the target only; `'iid'` / `'without-replacement'` children (in draw order = node order)
   * by recursive rejection sampling with the draft distribution q, so `draft` is required (sampling mode only;
   * greedy ignores q). Sibling tokens must be distinct except for `'iid'`.
   */
  drafts?: DraftKind;
  /**
   * Draft logits, one row per node (row n: the distribution node n's children were drawn from; q = softmax, after
   * the call's logits processors when it has any).
   */
  draft?: Logits;
  /** `'cpu'`, `'cuda'` or `'auto'`; device-resident target logits are read row by row from the device. */
  backend?: BackendChoice;
  /** Cancels the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link gtoReward}. */
export interface GtoRewardOptions extends ExpectedAcceptanceOptions {
  /** η > 0: the smooth-max temperature; η → ∞ gives the best path's L_i, η → 0 the mean plus log(#paths)/η. */
  eta: number;
}

const UTIL_KEYS = [
  ...PROCESSING_KEYS,
  ...optionKeys<Omit<ExpectedAcceptanceOptions, keyof TargetProcessingOptions>>({ drafts: 1, draft: 1, backend: 1, signal: 1 }),
];
const GTO_KEYS = [...UTIL_KEYS, 'eta'];

async function run(trees: TreeBatch, target: Logits, opts: ExpectedAcceptanceOptions, eta?: number) {
  options<ExpectedAcceptanceOptions>(opts, 'opts', eta === undefined ? UTIL_KEYS : GTO_KEYS, true);
  const drafts = parseDraftKind(opts.drafts);
  const mode = parseMode(opts.mode, 'sample');
  const t = normalizeLogits(target, 'target');
  // Shapes here; duplicate siblings (a semantic check) are core's plan_trees' (44 µs of JS on a 64 × 64 batch).
  validateTreeBatch(trees, { vocab: t.native.vocab, allowDuplicateSiblings: true });
  const nodes = trees.tokens.length;
  if (t.native.rows !== nodes) {
    throw rangeError(`target must have one row per tree node (${nodes} = trees.tokens.length) (got rows = ${t.native.rows})`);
  }
  let q: ReturnType<typeof normalizeLogits> | undefined;
  if (drafts !== 'deterministic') {
    if (opts.draft === undefined) throw typeError(`opts.draft (draft logits, one row per node) is required for drafts = '${drafts}'`);
    q = normalizeLogits(opts.draft, 'draft');
    if (q.native.rows !== nodes || q.native.vocab !== t.native.vocab) {
      throw rangeError(
        `draft must be ${nodes} × ${t.native.vocab} (one row per node, the target's vocabulary) (got ${q.native.rows} × ${q.native.vocab})`,
      );
    }
    if (q.onDevice !== t.onDevice) throw typeError('target and draft must both be host data or both DeviceTensors');
  }
  const processing = normaliseProcessing(opts, trees.offsets.length - 1, mode, { nodes, vocab: t.native.vocab });
  const backend = backendForCall(opts.backend, t.onDevice);
  const fn = nativeFunction(backend, 'treeUtils');
  return withSignal(opts.signal, (cancel) =>
    fn(trees, t.native, { ...processing, eta, drafts, draft: q?.native, cancel }),
  );
}

/**
 * Expected number of accepted draft tokens per tree (not counting the bonus/correction token) when the tree is
 * verified losslessly (docs/tree-verification.md §7). Deterministic drafts (modes A and B):
 * `E[A] = Σ_{v ≠ root} Π_{u ∈ path(v)} p(x_u)`, where p(x_u) is node u's token under its parent's processed
 * target distribution (greedy: 1 if it is the argmax, else 0). With `drafts: 'iid' | 'without-replacement'`
 * (modes C/D) the factor of child c_j is its exact acceptance probability under recursive rejection sampling,
 * `Π_{i<j}(1 − α_i)·α_j` with `α_j = min(1, r_j(c_j)/q^(j)(c_j))` and the residual r updated after each
 * rejection — the expectation conditional on the drawn tree (its average over draws is the true mean). Only rows of nodes with children are read (in
 * parallel); each is reduced with SIMD float exponentials summed in double (probabilities to ~1e-8 relative),
 * path products and sums are float64.
 *
 * @param trees draft trees; sibling tokens must be distinct (except for i.i.d. drafts).
 * @param target one logits row per node, in node order (row n = the distribution after node n).
 * @returns Float64Array with one expectation per tree.
 * @throws TypeError / RangeError for invalid trees, logits or options (a row with NaN / +inf, or all -inf, is
 *   a RangeError naming the row).
 */
export async function expectedAcceptance(
  trees: TreeBatch,
  target: Logits,
  opts: ExpectedAcceptanceOptions = {},
): Promise<Float64Array> {
  return (await run(trees, target, opts)).expected;
}

/**
 * Per node, the probability that verification accepts it once its parent is accepted: p_parent(x_node) under the
 * processed target distribution (1 for roots). The product along a path is that node's reach probability; the
 * same numbers {@link expectedAcceptance} sums. Useful for pruning or re-ranking draft trees. A placeholder
 * draft (token -1) and every node below it get 0.
 *
 * @returns Float64Array with one entry per node (global node order).
 */
export async function nodeProbabilities(
  trees: TreeBatch,
  target: Logits,
  opts: ExpectedAcceptanceOptions = {},
): Promise<Float64Array> {
  return (await run(trees, target, opts)).nodeProb;
}

/**
 * GTO's draft-tree reward per tree: `(1/η) log Σ_paths exp(η L_i)`, with one path per leaf and
 * `L_i = Σ_j Π_{k ≤ j} p(x_k)` over the path's non-root nodes (the expected accepted length if only path i
 * were drafted). Evaluated as a stable log-sum-exp in float64; a root-only tree scores 0.
 *
 * @throws TypeError / RangeError for invalid input or `eta` not a finite number > 0.
 */
export async function gtoReward(trees: TreeBatch, target: Logits, opts: GtoRewardOptions): Promise<Float64Array> {
  options<GtoRewardOptions>(opts, 'opts', GTO_KEYS, true);
  if (typeof opts.eta !== 'number') throw typeError('opts.eta must be a number');
  if (!(Number.isFinite(opts.eta) && opts.eta > 0)) throw rangeError(`opts.eta must be a finite number > 0 (got ${opts.eta})`);
  const r = await run(trees, target, opts, opts.eta);
  return r.reward as Float64Array;
}
