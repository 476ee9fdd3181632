/**
 * Importers from the tree encodings used by serving frameworks into {@link TreeBatch}.
 *
 * Both keep the caller's node order (so the target logits rows the caller computed still line up with the
 * nodes); that order must list every parent before its children, as SGLang and EAGLE do.
 *
 * @packageDocumentation
 */
import { type TreeBatch, validateTreeBatch } from './types';
import { integer, object, optionKeys, options, outOfRange, rangeError, typeError, typedArray } from '../validate';

const IMPORT_KEYS = optionKeys<ImportOptions>({ vocab: 1, allowDuplicateSiblings: 1 });

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
export function fromFirstChildNextSibling(input: FirstChildNextSiblingInput, opts: ImportOptions = {}): TreeBatch {
  object(input, 'input');
  const importOpts = options<ImportOptions>(opts, 'opts', IMPORT_KEYS);
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
  const n = nodesPerTree;
  const parents = new Int32Array(tokens.length).fill(-2);
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    if (nextSibling[o] !== -1) {
      throw outOfRange(`nextSibling[${o}] (root of request ${b})`, '-1', nextSibling[o]);
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
  validateTreeBatch(trees, { vocab: importOpts.vocab, allowDuplicateSiblings: importOpts.allowDuplicateSiblings ?? false });
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
export function fromRetrieveIndices(input: RetrieveIndicesInput, opts: ImportOptions = {}): TreeBatch {
  object(input, 'input');
  const importOpts = options<ImportOptions>(opts, 'opts', IMPORT_KEYS);
  const { tokens, retrieveIndices, nodesPerTree, paths } = input;
  checkInt32('tokens', tokens);
  checkInt32('retrieveIndices', retrieveIndices);
  const batch = batchOf(tokens, nodesPerTree);
  integer(paths, 'paths', { min: 1, max: Infinity });
  if (retrieveIndices.length === 0 || retrieveIndices.length % (batch * paths) !== 0) {
    throw rangeError(
      `retrieveIndices must have batch × paths × width = ${batch} × ${paths} × width entries (got ${retrieveIndices.length})`,
    );
  }
  const width = retrieveIndices.length / (batch * paths);
  const n = nodesPerTree;
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
  validateTreeBatch(trees, { vocab: importOpts.vocab, allowDuplicateSiblings: importOpts.allowDuplicateSiblings ?? false });
  return trees;
}
