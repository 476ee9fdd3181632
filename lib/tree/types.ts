/**
 * Draft-tree batches in CSR form and their validation.
 *
 * @packageDocumentation
 */
import { integer, invalidType, optionKeys, options, outOfRange, rangeError, typedArray } from '../runtime/validate';

/**
 * A batch of draft trees in CSR (compressed sparse row) form. Trees are ragged: each has its own node count.
 *
 * - Tree `b` owns global nodes `offsets[b] .. offsets[b+1]-1`; `offsets` has `batch + 1` entries, starts at 0,
 *   ends at `tokens.length`, and is strictly increasing (every tree has at least its root).
 * - Local node 0 of each tree is the root (the last token already committed); its parent is `-1`.
 * - `parents` holds LOCAL indices within the tree: for local node `i > 0`, `0 <= parents[offsets[b]+i] < i`
 *   (topological order, so no cycles).
 * - `tokens[n]` is the token id at global node `n`; the target's logits row `n` is the distribution that
 *   node `n`'s children are checked against.
 * - A token of `-1` (vLLM's `PLACEHOLDER_TOKEN_ID`) marks a placeholder draft, legal at any node: it is never
 *   accepted and the nodes below it are unreachable (their rows are never read). Verification treats it as
 *   absent, which is lossless when it is padding rather than a draw: the other children of its parent are
 *   still a deterministic set, i.i.d. draws from q ('iid'), or the draw sequence in order
 *   ('without-replacement').
 */
export type TreeBatch = {
  /** Token id of every node, all trees concatenated. */
  tokens: Int32Array;
  /** Local parent index of every node (`-1` for each root). */
  parents: Int32Array;
  /** `batch + 1` node offsets: tree `b` = nodes `offsets[b] .. offsets[b+1]-1`. */
  offsets: Int32Array;
};

/** The placeholder draft token (vLLM's `PLACEHOLDER_TOKEN_ID`): never accepted, its subtree unreachable. */
export const PLACEHOLDER_TOKEN = -1;

/** Options of {@link validateTreeBatch}. */
export interface ValidateTreeOptions {
  /**
   * Vocabulary size: when given, every token id must be in `[0, vocab)`; otherwise it must be `>= 0`. The
   * placeholder `-1` is always legal.
   */
  vocab?: number;
  /**
   * Whether two children of the same parent may carry the same token. Legal only for i.i.d. drafts
   * (independent draws repeat); an input error for deterministic and without-replacement drafts.
   */
  allowDuplicateSiblings: boolean;
  /** Name of the argument in error messages (default `'trees'`). */
  name?: string;
}

const VALIDATE_KEYS = optionKeys<ValidateTreeOptions>({ vocab: 1, allowDuplicateSiblings: 1, name: 1 });

/** Number of trees in a batch (`offsets.length - 1`). */
export function treeCount(trees: TreeBatch): number {
  if (trees === null || typeof trees !== 'object' || !(trees.offsets instanceof Int32Array) || trees.offsets.length < 1) {
    throw invalidType('trees', 'a TreeBatch { tokens, parents, offsets: Int32Array (batch + 1 entries) }', trees);
  }
  return trees.offsets.length - 1;
}

/**
 * Checks that `trees` is a well-formed {@link TreeBatch}, throwing otherwise.
 *
 * @throws TypeError when `trees` or one of its fields has the wrong type (fields must be `Int32Array`s).
 * @throws RangeError naming the field and index when: there is no tree, `offsets` does not start at 0 / end at
 *   the node count / strictly increase (empty tree), lengths of `tokens` and `parents` differ, a root's parent is
 *   not -1, a parent is not a local index smaller than its child (cycle or non-topological order), a token id is
 *   negative (other than the placeholder -1) or `>= vocab`, or two siblings share a token (placeholders
 *   excepted) while `allowDuplicateSiblings` is false.
 */
export function validateTreeBatch(trees: unknown, opts: ValidateTreeOptions): asserts trees is TreeBatch {
  const o = options<ValidateTreeOptions>(opts, 'opts', VALIDATE_KEYS, true);
  const name = o.name ?? 'trees';
  if (typeof name !== 'string') throw invalidType('opts.name', 'a string', name);
  checkTreeFields(trees, name);
  const vocab = o.vocab === undefined ? undefined : integer(o.vocab, 'vocab', { min: 1, max: Infinity });
  checkTreeOffsets(trees, name);
  checkTreeNodes(trees, name, vocab, o.allowDuplicateSiblings);
}

/** @internal The first O(1) part of {@link validateTreeBatch}: an object with three Int32Array fields. */
export function checkTreeFields(trees: unknown, name: string): asserts trees is TreeBatch {
  if (typeof trees !== 'object' || trees === null) {
    throw invalidType(name, 'an object { tokens: Int32Array; parents: Int32Array; offsets: Int32Array }', trees);
  }
  const t = trees as Record<string, unknown>;
  for (const field of TREE_FIELDS) {
    if (!(t[field] instanceof Int32Array)) typedArray(t[field], `${name}.${field}`, 'Int32Array');
  }
}

/**
 * @internal The O(batch) part of {@link validateTreeBatch}, after {@link checkTreeFields}: the lengths and the
 * offsets. A batch that passes can be indexed safely; its nodes are not looked at.
 */
export function checkTreeOffsets(trees: TreeBatch, name: string): void {
  const { tokens, parents, offsets } = trees;
  if (parents.length !== tokens.length) {
    throw rangeError(
      `${name}.parents must have one entry per node, ${tokens.length} = ${name}.tokens.length (got ${parents.length})`,
    );
  }
  if (offsets.length < 2) {
    throw rangeError(`${name}.offsets must have batch + 1 >= 2 entries, at least one tree (got ${offsets.length})`);
  }
  if (offsets[0] !== 0) throw outOfRange(`${name}.offsets[0]`, '0', offsets[0]);
  const batch = offsets.length - 1;
  if (offsets[batch] !== tokens.length) {
    throw rangeError(`${name}.offsets[${batch}] must equal the node count ${tokens.length} (${name}.tokens.length) (got ${offsets[batch]})`);
  }
  for (let b = 0; b < batch; b++) {
    if (offsets[b + 1] <= offsets[b]) {
      throw rangeError(
        `${name}.offsets must be strictly increasing (every tree has a root): offsets[${b}] = ${offsets[b]}, ` +
          `offsets[${b + 1}] = ${offsets[b + 1]} (tree ${b} is empty or offsets go backwards)`,
      );
    }
  }
}

/**
 * @internal The O(nodes) half of {@link validateTreeBatch}, for a batch {@link checkTreeShape} passed: token ids,
 * roots, parents and (unless `allowDuplicateSiblings`) distinct sibling tokens.
 */
export function checkTreeNodes(trees: TreeBatch, name: string, vocab: number | undefined, allowDuplicateSiblings: boolean): void {
  const { tokens, parents, offsets } = trees;
  const batch = offsets.length - 1;
  const hi = vocab ?? 2147483648;
  for (let n = 0; n < tokens.length; n++) {
    const tok = tokens[n]!;
    if (tok !== PLACEHOLDER_TOKEN && (tok < 0 || tok >= hi)) {
      throw rangeError(
        `${name}.tokens[${n}] = ${tok} is out of range: token ids must be in [0, ${vocab ?? '2^31'}) ` +
          `(or -1, a placeholder draft)`,
      );
    }
  }
  for (let b = 0; b < batch; b++) {
    const start = offsets[b];
    const size = offsets[b + 1] - start;
    if (parents[start] !== -1) {
      throw outOfRange(`${name}.parents[${start}] (root of tree ${b})`, '-1', parents[start]);
    }
    for (let i = 1; i < size; i++) {
      const p = parents[start + i];
      if (p < 0 || p >= i) {
        throw rangeError(
          `${name}.parents[${start + i}] = ${p} (tree ${b}, local node ${i}) must be a local index in [0, ${i}): ` +
            `parents are local to the tree and precede their children (a parent >= child means a cycle or a ` +
            `non-topological order)`,
        );
      }
    }
    if (!allowDuplicateSiblings && size > 2) checkDistinctSiblings(tokens, parents, start, size, b, name);
  }
}

const TREE_FIELDS = ['tokens', 'parents', 'offsets'] as const;

// Open-addressing table of (parent, token) → local node, in typed arrays reused across calls: a generation stamp
// per slot marks the entries of the current tree, so nothing is cleared between trees (a Map with double keys
// cost ≈ 40 ns per node, most of the per-call overhead of a 64 × 64 batch).
let slotStamp = new Int32Array(0);
let slotParent = new Int32Array(0);
let slotToken = new Int32Array(0);
let slotNode = new Int32Array(0);
let stamp = 0;

function checkDistinctSiblings(
  tokens: Int32Array,
  parents: Int32Array,
  start: number,
  size: number,
  b: number,
  name: string,
): void {
  let cap = 16;
  while (cap < 2 * size) cap *= 2;
  if (slotStamp.length < cap) {
    slotStamp = new Int32Array(cap);
    slotParent = new Int32Array(cap);
    slotToken = new Int32Array(cap);
    slotNode = new Int32Array(cap);
    stamp = 0;
  }
  if (++stamp === 0x7fffffff) {
    slotStamp.fill(0);
    stamp = 1;
  }
  const mask = cap - 1;
  for (let i = 1; i < size; i++) {
    const p = parents[start + i]!, t = tokens[start + i]!;
    if (t === PLACEHOLDER_TOKEN) continue; // not a token: placeholders may repeat
    let h = (Math.imul(p, 0x9e3779b1) ^ Math.imul(t, 0x85ebca77)) & mask;
    for (;;) {
      if (slotStamp[h] !== stamp) {
        slotStamp[h] = stamp;
        slotParent[h] = p;
        slotToken[h] = t;
        slotNode[h] = i;
        break;
      }
      if (slotParent[h] === p && slotToken[h] === t) {
        throw rangeError(
          `${name}: nodes ${start + slotNode[h]!} and ${start + i} (tree ${b}) are siblings with the same token ` +
            `${t}; duplicate sibling tokens are legal only for i.i.d. drafts`,
        );
      }
      h = (h + 1) & mask;
    }
  }
}
