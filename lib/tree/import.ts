/**
 * Importers from the tree encodings used by serving frameworks into {@link TreeBatch}.
 *
 * Strict form (default): every slot is a node, in the caller's order (so the target logits rows the caller
 * computed line up with the nodes); that order must list every parent before its children, as SGLang and EAGLE
 * do. Padded form (`{ padded: true }`, and {@link fromPaddedParents} / {@link fromPaddedChains}): fixed-size
 * buffers whose unreachable slots and `-1` placeholders are skipped; returns the trees and a {@link SlotMap}
 * (see `padded.ts` for the node order).
 *
 * @packageDocumentation
 */
import { type TreeBatch, validateTreeBatch } from './types';
import { show } from '../runtime/show';
import { paddedBatch, paddedFirstChildNextSibling, paddedParents, paddedRetrieveIndices } from './padded';
import type { PaddedTrees } from './slots';
import { boolean, integer, optionKeys, options, rangeError, typeError, typedArray } from '../runtime/validate';

/** Input of {@link fromFirstChildNextSibling}: SGLang-style linked trees, one per request, fixed node count. */
export interface FirstChildNextSiblingInput {
  /** `batch × nodesPerTree` token ids; node 0 of each request is the root (the last verified token). */
  tokens: Int32Array;
  /**
   * `batch × nodesPerTree` LOCAL index of each node's first child, `-1` if it has none
   * (SGLang's `retrive_next_token`).
   */
  firstChild: Int32Array;
  /**
   * `batch × nodesPerTree` LOCAL index of each node's next sibling, `-1` if it is the last child
   * (SGLang's `retrive_next_sibling`). The root has no sibling.
   */
  nextSibling: Int32Array;
  /** Nodes per request (SGLang's `num_draft_tokens`); `batch = tokens.length / nodesPerTree`. */
  nodesPerTree: number;
}

/** Input of {@link fromRetrieveIndices}: EAGLE-style trees given by their root-to-leaf paths. */
export interface RetrieveIndicesInput {
  /** `batch × nodesPerTree` token ids; node 0 of each request is the root (EAGLE's `tree_candidates`). */
  tokens: Int32Array;
  /**
   * `batch × paths × width` LOCAL node indices (EAGLE's `retrieve_indices`): each row is one root-to-leaf path,
   * starting with 0 (the root), padded at the end with `-1`. Rows that are all `-1` are ignored (ragged path
   * counts). Every non-root node must lie on some path.
   */
  retrieveIndices: Int32Array;
  /** Nodes per request; `batch = tokens.length / nodesPerTree`. */
  nodesPerTree: number;
  /** Paths per request (rows of `retrieveIndices` per request). */
  paths: number;
}

/** Options shared by the importers. */
export interface ImportOptions {
  /** When given, token ids are checked to lie in `[0, vocab)`. */
  vocab?: number;
  /** Allow siblings with the same token (i.i.d. drafts). Default false. */
  allowDuplicateSiblings?: boolean;
  /**
   * Fixed-size padded buffers (default false): slots the root does not reach, `-1` links and slots holding the
   * placeholder token `-1` (with everything below them) are skipped, the reachable part may be in any slot order,
   * and the result is `{ trees, slots }` (a {@link PaddedTrees}). Children keep the order given (SGLang's walk
   * order: the `nextSibling` chain; for paths and parent arrays, increasing slot). A root token of -1 is read as 0
   * (verification never reads the root's token).
   */
  padded?: boolean;
}

/** {@link ImportOptions} of a padded import. */
export type PaddedImportOptions = Omit<ImportOptions, 'padded'>;

/** Input of {@link fromPaddedParents}: one parent array per request, `nodesPerTree` slots each. */
export interface PaddedParentsInput {
  /** `batch × nodesPerTree` token ids; slot 0 of each request is its root; `-1` marks a placeholder slot. */
  tokens: Int32Array;
  /** `batch × nodesPerTree` LOCAL parent slot of every slot: `-1` for the root (slot 0) and for padding slots. */
  parents: Int32Array;
  /** Slots per request; `batch = tokens.length / nodesPerTree`. */
  nodesPerTree: number;
}

/** Input of {@link fromPaddedChains}: one draft chain per request in `maxDrafts` padded slots (vLLM-style). */
export interface PaddedChainsInput {
  /** `batch × maxDrafts` draft tokens; a chain ends at its first `-1` (or after `numDrafts[b]` tokens). */
  drafts: Int32Array;
  /** Drafts slots per request (vLLM's `num_speculative_tokens`); may be 0. */
  maxDrafts: number;
  /** Optional drafts per request (vLLM's `num_draft_tokens`), each in [0, maxDrafts]. */
  numDrafts?: Int32Array;
  /** Optional last committed token of each request (the roots' tokens; never read by verification, default 0). */
  roots?: Int32Array;
}

const IMPORT_KEYS = optionKeys<ImportOptions>({ vocab: 1, allowDuplicateSiblings: 1, padded: 1 });
const PADDED_KEYS = optionKeys<PaddedImportOptions>({ vocab: 1, allowDuplicateSiblings: 1 });

function checkOptions(opts: unknown, keys = IMPORT_KEYS): asserts opts is ImportOptions {
  const o = options<ImportOptions>(opts, 'opts', keys, true);
  if (o.padded !== undefined) boolean(o.padded, 'opts.padded');
  if (o.vocab !== undefined) integer(o.vocab, 'opts.vocab', { min: 1, max: Infinity });
  if (o.allowDuplicateSiblings !== undefined) boolean(o.allowDuplicateSiblings, 'opts.allowDuplicateSiblings');
}

function checkInt32(name: string, a: unknown): asserts a is Int32Array {
  typedArray(a, name, 'Int32Array');
}

function batchOf(tokens: Int32Array, nodesPerTree: unknown): number {
  const n = integer(nodesPerTree, 'nodesPerTree', { min: 1, max: Infinity });
  if (tokens.length === 0 || tokens.length % n !== 0) {
    throw rangeError(`tokens must have batch × nodesPerTree entries, a positive multiple of ${n} (got ${tokens.length})`);
  }
  return tokens.length / n;
}

function uniformOffsets(batch: number, size: number): Int32Array {
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b <= batch; b++) offsets[b] = b * size;
  return offsets;
}

/**
 * Builds a {@link TreeBatch} from SGLang's first-child / next-sibling encoding.
 *
 * @example
 * ```ts
 * // root 0 → children 1, 2; node 1 → child 3
 * tree.fromFirstChildNextSibling({
 *   tokens: new Int32Array([5, 7, 9, 4]), nodesPerTree: 4,
 *   firstChild: new Int32Array([1, 3, -1, -1]), nextSibling: new Int32Array([-1, 2, -1, -1]),
 * }); // parents = [-1, 0, 0, 1]
 * ```
 * @throws TypeError for non-Int32Array inputs; RangeError (naming the array and index) for mismatched lengths,
 *   links out of range, a node reached twice or never (cycles, shared children, unreachable nodes), a child
 *   listed before its parent, and whatever {@link validateTreeBatch} rejects.
 */
export function fromFirstChildNextSibling(input: FirstChildNextSiblingInput, opts: PaddedImportOptions & { padded: true }): PaddedTrees;
export function fromFirstChildNextSibling(input: FirstChildNextSiblingInput, opts?: ImportOptions & { padded?: false }): TreeBatch;
export function fromFirstChildNextSibling(input: FirstChildNextSiblingInput, opts?: ImportOptions): TreeBatch | PaddedTrees;
export function fromFirstChildNextSibling(input: FirstChildNextSiblingInput, opts: ImportOptions = {}): TreeBatch | PaddedTrees {
  if (typeof input !== 'object' || input === null) throw typeError('input must be an object');
  checkOptions(opts);
  const { tokens, firstChild, nextSibling, nodesPerTree } = input;
  checkInt32('tokens', tokens);
  checkInt32('firstChild', firstChild);
  checkInt32('nextSibling', nextSibling);
  const batch = batchOf(tokens, nodesPerTree);
  for (const [name, a] of [['firstChild', firstChild], ['nextSibling', nextSibling]] as const) {
    if (a.length !== tokens.length) {
      throw rangeError(`${name} must have batch × nodesPerTree = ${tokens.length} entries (got ${a.length})`);
    }
  }
  if (opts.padded === true) return paddedFirstChildNextSibling(tokens, firstChild, nextSibling, batch, nodesPerTree, opts);
  const n = nodesPerTree;
  const parents = new Int32Array(tokens.length).fill(-2);
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    if (nextSibling[o] !== -1) {
      throw rangeError(`nextSibling[${o}] (root of request ${b}) must be -1 (got ${nextSibling[o]})`);
    }
    parents[o] = -1;
    // Iterative walk; every node is assigned its parent exactly once, so the walk ends after <= n steps.
    const stack = [0];
    let seen = 1;
    while (stack.length > 0) {
      const v = stack.pop() as number;
      let c = firstChild[o + v];
      let linkName = 'firstChild';
      let linkAt = o + v;
      while (c !== -1) {
        if (c < 0 || c >= n) {
          throw rangeError(`${linkName}[${linkAt}] = ${c} must be -1 or a local node index in [0, ${n})`);
        }
        if (parents[o + c] !== -2) {
          throw rangeError(
            `${linkName}[${linkAt}] = ${c}: node ${c} of request ${b} is reached twice (cycle or shared child)`,
          );
        }
        if (c <= v) {
          throw rangeError(
            `${linkName}[${linkAt}] = ${c}: child ${c} is listed before its parent ${v} (request ${b}); ` +
              `nodes must be in topological order`,
          );
        }
        parents[o + c] = v;
        seen++;
        stack.push(c);
        linkName = 'nextSibling';
        linkAt = o + c;
        c = nextSibling[o + c];
      }
    }
    if (seen !== n) {
      const lost = parents.subarray(o, o + n).indexOf(-2);
      throw rangeError(`node ${lost} of request ${b} is not reachable from the root through firstChild/nextSibling`);
    }
  }
  const trees: TreeBatch = { tokens: tokens.slice(), parents, offsets: uniformOffsets(batch, n) };
  validateTreeBatch(trees, { vocab: opts.vocab, allowDuplicateSiblings: opts.allowDuplicateSiblings ?? false });
  return trees;
}

/**
 * Builds a {@link TreeBatch} from EAGLE's `retrieve_indices` (root-to-leaf paths padded with -1).
 *
 * @example
 * ```ts
 * // paths 0→1→3 and 0→2
 * tree.fromRetrieveIndices({
 *   tokens: new Int32Array([5, 7, 9, 4]), nodesPerTree: 4, paths: 2,
 *   retrieveIndices: new Int32Array([0, 1, 3, 0, 2, -1]),
 * }); // parents = [-1, 0, 0, 1]
 * ```
 * @throws TypeError for non-Int32Array inputs; RangeError (naming the array and index) for shapes that do not
 *   divide, a path not starting at the root, indices out of range, padding followed by a node, a node with two
 *   different parents, a node on no path, a child listed before its parent, and whatever {@link validateTreeBatch}
 *   rejects.
 */
export function fromRetrieveIndices(input: RetrieveIndicesInput, opts: PaddedImportOptions & { padded: true }): PaddedTrees;
export function fromRetrieveIndices(input: RetrieveIndicesInput, opts?: ImportOptions & { padded?: false }): TreeBatch;
export function fromRetrieveIndices(input: RetrieveIndicesInput, opts?: ImportOptions): TreeBatch | PaddedTrees;
export function fromRetrieveIndices(input: RetrieveIndicesInput, opts: ImportOptions = {}): TreeBatch | PaddedTrees {
  if (typeof input !== 'object' || input === null) throw typeError('input must be an object');
  checkOptions(opts);
  const { tokens, retrieveIndices, nodesPerTree, paths } = input;
  checkInt32('tokens', tokens);
  checkInt32('retrieveIndices', retrieveIndices);
  const batch = batchOf(tokens, nodesPerTree);
  if (typeof paths !== 'number' || !Number.isInteger(paths) || paths < 1) {
    throw rangeError(`paths must be an integer >= 1 (got ${show(paths)})`);
  }
  if (retrieveIndices.length === 0 || retrieveIndices.length % (batch * paths) !== 0) {
    throw rangeError(
      `retrieveIndices must have batch × paths × width = ${batch} × ${paths} × width entries (got ${retrieveIndices.length})`,
    );
  }
  const width = retrieveIndices.length / (batch * paths);
  const n = nodesPerTree;
  if (opts.padded === true) return paddedRetrieveIndices(tokens, retrieveIndices, batch, n, paths, width, opts);
  const parents = new Int32Array(tokens.length).fill(-2);
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    parents[o] = -1;
    for (let r = 0; r < paths; r++) {
      const row = (b * paths + r) * width;
      if (retrieveIndices[row] === -1) {
        for (let j = 1; j < width; j++) {
          if (retrieveIndices[row + j] !== -1) {
            throw rangeError(`retrieveIndices[${row + j}]: path ${r} of request ${b} starts with -1 but is not all padding`);
          }
        }
        continue;
      }
      if (retrieveIndices[row] !== 0) {
        throw rangeError(`retrieveIndices[${row}] = ${retrieveIndices[row]}: every path must start at the root 0`);
      }
      for (let j = 1; j < width; j++) {
        const v = retrieveIndices[row + j];
        if (v === -1) {
          for (let k = j + 1; k < width; k++) {
            if (retrieveIndices[row + k] !== -1) {
              throw rangeError(`retrieveIndices[${row + k}]: padding -1 must only end a path`);
            }
          }
          break;
        }
        const u = retrieveIndices[row + j - 1];
        if (v < 1 || v >= n) {
          throw rangeError(`retrieveIndices[${row + j}] = ${v} must be -1 or a non-root local index in [1, ${n})`);
        }
        if (v <= u) {
          throw rangeError(
            `retrieveIndices[${row + j}] = ${v} follows its parent ${u}: nodes must be in topological order (parent < child)`,
          );
        }
        const prev = parents[o + v];
        if (prev !== -2 && prev !== u) {
          throw rangeError(
            `retrieveIndices[${row + j}]: node ${v} of request ${b} has two parents (${prev} and ${u})`,
          );
        }
        parents[o + v] = u;
      }
    }
    const lost = parents.subarray(o, o + n).indexOf(-2);
    if (lost !== -1) throw rangeError(`node ${lost} of request ${b} lies on no path of retrieveIndices`);
  }
  const trees: TreeBatch = { tokens: tokens.slice(), parents, offsets: uniformOffsets(batch, n) };
  validateTreeBatch(trees, { vocab: opts.vocab, allowDuplicateSiblings: opts.allowDuplicateSiblings ?? false });
  return trees;
}

/**
 * Builds a {@link TreeBatch} from padded parent arrays: `parents[b × nodesPerTree + s]` is the local parent slot
 * of slot `s` (`-1` for the root, slot 0, and for padding). Slots not reached from the root (padding, cycles,
 * children of padding) and placeholder slots (token `-1`, with their subtrees) are skipped; parents may come
 * after their children (the nodes are then reordered, see {@link SlotMap}).
 *
 * @example
 * ```ts
 * // 2 requests × 4 slots: request 0 = root → 1 → 2 (slot 3 padding); request 1 = root only
 * const { trees, slots } = tree.fromPaddedParents({
 *   tokens: new Int32Array([5, 7, 9, -1, 3, -1, -1, -1]), nodesPerTree: 4,
 *   parents: new Int32Array([-1, 0, 1, -1, -1, -1, -1, -1]),
 * }); // trees.offsets = [0, 3, 4], slots.slotOfNode = [0, 1, 2, 4]
 * ```
 * @throws TypeError for non-Int32Array inputs; RangeError naming the array and index for mismatched lengths,
 *   a parent outside [-1, nodesPerTree), a root whose parent is not -1, a reachable token outside [0, vocab)
 *   (other than -1), and duplicate sibling tokens (unless allowed).
 */
export function fromPaddedParents(input: PaddedParentsInput, opts: PaddedImportOptions = {}): PaddedTrees {
  if (typeof input !== 'object' || input === null) throw typeError('input must be an object');
  checkOptions(opts, PADDED_KEYS);
  const { tokens, parents, nodesPerTree } = input;
  checkInt32('tokens', tokens);
  checkInt32('parents', parents);
  const batch = paddedBatch(tokens, nodesPerTree);
  if (parents.length !== tokens.length) {
    throw rangeError(`parents must have batch × nodesPerTree = ${tokens.length} entries (got ${parents.length})`);
  }
  return paddedParents(tokens, parents, batch, nodesPerTree, opts);
}

/**
 * Builds one chain per request from padded draft slots (vLLM forks' `[batch, num_speculative_tokens]` drafts,
 * dflash blocks): request b's nodes are its root then its drafts up to the first `-1` (or `numDrafts[b]`).
 * Slot layout: `1 + maxDrafts` slots per request, slot 0 the root row, slot 1 + i draft i; logits in that layout
 * have `batch × (1 + maxDrafts)` rows (row 1 + i: the distribution after draft i, the last one the bonus row).
 *
 * @throws TypeError for non-Int32Array inputs; RangeError for a `drafts` length that is not
 *   `batch × maxDrafts`, `numDrafts` / `roots` of the wrong length or out of range, and draft tokens outside
 *   [0, vocab) before the end of a chain.
 */
export function fromPaddedChains(input: PaddedChainsInput, opts: PaddedImportOptions = {}): PaddedTrees {
  if (typeof input !== 'object' || input === null) throw typeError('input must be an object');
  checkOptions(opts, PADDED_KEYS);
  const { drafts, maxDrafts, numDrafts, roots } = input;
  checkInt32('drafts', drafts);
  if (typeof maxDrafts !== 'number' || !Number.isInteger(maxDrafts) || maxDrafts < 0) {
    throw rangeError(`maxDrafts must be an integer >= 0 (got ${show(maxDrafts)})`);
  }
  let batch: number;
  if (maxDrafts === 0) {
    if (drafts.length !== 0) throw rangeError(`drafts must be empty when maxDrafts is 0 (got ${drafts.length} entries)`);
    if (numDrafts === undefined && roots === undefined) {
      throw rangeError('with maxDrafts = 0 the batch comes from numDrafts or roots: give one of them');
    }
    const name = numDrafts !== undefined ? 'numDrafts' : 'roots';
    const given = numDrafts ?? roots;
    checkInt32(name, given);
    if (given.length === 0) throw rangeError(`${name} must have one entry per request, at least one (got 0)`);
    batch = given.length;
  } else {
    if (drafts.length === 0 || drafts.length % maxDrafts !== 0) {
      throw rangeError(`drafts must have batch × maxDrafts entries (a positive multiple of ${maxDrafts}) (got ${drafts.length})`);
    }
    batch = drafts.length / maxDrafts;
  }
  if (batch < 1) throw rangeError('the batch is empty: at least one request is needed');
  if (numDrafts !== undefined) {
    checkInt32('numDrafts', numDrafts);
    if (numDrafts.length !== batch) throw rangeError(`numDrafts must have one entry per request (${batch}) (got ${numDrafts.length})`);
    for (let b = 0; b < batch; b++) {
      if (numDrafts[b] < 0 || numDrafts[b] > maxDrafts) {
        throw rangeError(`numDrafts[${b}] = ${numDrafts[b]} must be in [0, maxDrafts = ${maxDrafts}]`);
      }
    }
  }
  if (roots !== undefined) {
    checkInt32('roots', roots);
    if (roots.length !== batch) throw rangeError(`roots must have one entry per request (${batch}) (got ${roots.length})`);
  }
  const n = maxDrafts + 1;
  const tokens = new Int32Array(batch * n);
  const parents = new Int32Array(batch * n).fill(-1);
  for (let b = 0; b < batch; b++) {
    tokens[b * n] = roots === undefined ? 0 : roots[b];
    const len = numDrafts === undefined ? maxDrafts : numDrafts[b];
    for (let i = 0; i < maxDrafts; i++) {
      // Slots past numDrafts are padding whatever they hold.
      tokens[b * n + 1 + i] = i < len ? drafts[b * maxDrafts + i] : -1;
      if (i < len) parents[b * n + 1 + i] = i;
    }
  }
  try {
    return paddedParents(tokens, parents, batch, n, opts);
  } catch (e) {
    // Name the caller's array, not the internal slot buffer.
    if (e instanceof RangeError) {
      const m = /^tokens\[(\d+)\]/.exec(e.message);
      if (m) {
        const at = Number(m[1]);
        const b = Math.floor(at / n), s = at % n;
        throw rangeError(e.message.replace(m[0], s === 0 ? `roots[${b}]` : `drafts[${b * maxDrafts + s - 1}]`));
      }
    }
    throw e;
  }
}
