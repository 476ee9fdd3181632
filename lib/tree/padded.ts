/**
 * Importers for fixed-size padded tree buffers (SGLang, dflash, vLLM forks): every request owns `nodesPerTree`
 * slots, slot 0 is its root, and slots that the root does not reach (unlinked, `-1` links, `-1` placeholder
 * tokens) are skipped. Only the reachable part must be a valid tree.
 *
 * Node order: the reachable slots in slot order when that order already lists parents before children and
 * every node's children in the order given; otherwise breadth-first along the given child order. Either way
 * the children of every node keep the caller's order (their draw / walk order).
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import { type PaddedTrees, makeSlotMap } from './slots';
import { type TreeBatch, validateTreeBatch } from './types';
import { rangeError } from '../runtime/validate';

/** Placeholder token of padded buffers (vLLM's `PLACEHOLDER_TOKEN_ID`): a slot holding it is never a draft. */
export const PLACEHOLDER = -1;

/** @internal Options the padded importers share. */
export interface PaddedOptions {
  vocab?: number;
  allowDuplicateSiblings?: boolean;
}

/**
 * Children of the reachable slots of one request, in the caller's order: `children[s]` for a reachable slot
 * `s` (undefined otherwise). Built by each importer from its own encoding.
 */
type ChildLists = (number[] | undefined)[];

/** @internal Checks a token of a reachable slot: a placeholder (pruned) or an id in [0, vocab). */
function tokenIsDraft(tokens: Int32Array, at: number, vocab: number | undefined): boolean {
  const t = tokens[at];
  if (t === PLACEHOLDER) return false;
  if (t < 0 || (vocab !== undefined && t >= vocab)) {
    throw rangeError(
      `tokens[${at}] = ${t} is out of range: a reachable slot holds a token id in [0, ${vocab ?? '2^31'}) or the placeholder -1`,
    );
  }
  return true;
}

/**
 * Assembles the batch from each request's child lists (slot 0 = root). `parentOf` gives the reachable slots'
 * parents (root: -1).
 */
function assemble(
  tokens: Int32Array,
  batch: number,
  n: number,
  perRequest: (b: number) => { children: ChildLists; parentOf: Int32Array },
  opts: PaddedOptions,
): PaddedTrees {
  const outTokens: number[] = [];
  const outParents: number[] = [];
  const slotOfNode: number[] = [];
  const offsets = new Int32Array(batch + 1);
  const localOf = new Int32Array(n);
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    const { children, parentOf } = perRequest(b);
    // Slot order works when parents precede children and every child list is increasing.
    let slotOrder = true;
    for (let s = 0; s < n && slotOrder; s++) {
      const c = children[s];
      if (c === undefined) continue;
      for (let i = 0; i < c.length; i++) {
        if (c[i] <= s || (i > 0 && c[i] <= c[i - 1])) { slotOrder = false; break; }
      }
    }
    let order: number[];
    if (slotOrder) {
      order = [];
      for (let s = 0; s < n; s++) if (children[s] !== undefined) order.push(s);
    } else {
      order = [0];
      for (let i = 0; i < order.length; i++) for (const c of children[order[i]] as number[]) order.push(c);
    }
    for (let i = 0; i < order.length; i++) localOf[order[i]] = i;
    for (let i = 0; i < order.length; i++) {
      const s = order[i];
      // The root's token is never read by verification; a placeholder there becomes 0.
      outTokens.push(i === 0 && tokens[o] === PLACEHOLDER ? 0 : tokens[o + s]);
      outParents.push(i === 0 ? -1 : localOf[parentOf[s]]);
      slotOfNode.push(o + s);
    }
    offsets[b + 1] = outTokens.length;
  }
  const trees: TreeBatch = { tokens: Int32Array.from(outTokens), parents: Int32Array.from(outParents), offsets };
  validateTreeBatch(trees, { vocab: opts.vocab, allowDuplicateSiblings: opts.allowDuplicateSiblings ?? false });
  return { trees, slots: makeSlotMap(batch, n, Int32Array.from(slotOfNode)) };
}

function checkRootToken(tokens: Int32Array, o: number, b: number, vocab: number | undefined): void {
  const t = tokens[o];
  if (t !== PLACEHOLDER && (t < 0 || (vocab !== undefined && t >= vocab))) {
    throw rangeError(`tokens[${o}] = ${t} (root of request ${b}) must be a token id in [0, ${vocab ?? '2^31'}) or -1`);
  }
}

/** Padded form of SGLang's first-child / next-sibling links; see {@link fromFirstChildNextSibling}. */
export function paddedFirstChildNextSibling(
  tokens: Int32Array,
  firstChild: Int32Array,
  nextSibling: Int32Array,
  batch: number,
  n: number,
  opts: PaddedOptions,
): PaddedTrees {
  for (const [name, a] of [['firstChild', firstChild], ['nextSibling', nextSibling]] as const) {
    for (let i = 0; i < a.length; i++) {
      if (a[i] < -1 || a[i] >= n) throw rangeError(`${name}[${i}] = ${a[i]} must be -1 or a local slot in [0, ${n})`);
    }
  }
  return assemble(tokens, batch, n, (b) => {
    const o = b * n;
    checkRootToken(tokens, o, b, opts.vocab);
    if (nextSibling[o] !== -1) {
      throw rangeError(`nextSibling[${o}] (root of request ${b}) must be -1 (got ${nextSibling[o]})`);
    }
    const children: ChildLists = new Array(n);
    const parentOf = new Int32Array(n).fill(-2);
    const seen = new Uint8Array(n);
    seen[0] = 1;
    parentOf[0] = -1;
    const stack = [0];
    while (stack.length > 0) {
      const v = stack.pop() as number;
      const list: number[] = [];
      children[v] = list;
      let c = firstChild[o + v];
      let link = `firstChild[${o + v}]`;
      while (c !== -1) {
        if (seen[c]) {
          throw rangeError(`${link} = ${c}: slot ${c} of request ${b} is reached twice (cycle or shared child)`);
        }
        seen[c] = 1;
        // A placeholder slot (and whatever hangs below it) is never a draft: drop it, keep walking its siblings.
        if (tokenIsDraft(tokens, o + c, opts.vocab)) {
          list.push(c);
          parentOf[c] = v;
          stack.push(c);
        }
        link = `nextSibling[${o + c}]`;
        c = nextSibling[o + c];
      }
    }
    return { children, parentOf };
  }, opts);
}

/** Padded form of EAGLE's root-to-leaf paths; see {@link fromRetrieveIndices}. */
export function paddedRetrieveIndices(
  tokens: Int32Array,
  retrieveIndices: Int32Array,
  batch: number,
  n: number,
  paths: number,
  width: number,
  opts: PaddedOptions,
): PaddedTrees {
  return assemble(tokens, batch, n, (b) => {
    const o = b * n;
    checkRootToken(tokens, o, b, opts.vocab);
    const parentOf = new Int32Array(n).fill(-2);
    parentOf[0] = -1;
    for (let r = 0; r < paths; r++) {
      const row = (b * paths + r) * width;
      if (retrieveIndices[row] === -1) continue;
      if (retrieveIndices[row] !== 0) {
        throw rangeError(`retrieveIndices[${row}] = ${retrieveIndices[row]}: every path must start at the root 0 (or be -1 padding)`);
      }
      for (let j = 1; j < width; j++) {
        const v = retrieveIndices[row + j];
        if (v === -1) break;
        if (v < 1 || v >= n) {
          throw rangeError(`retrieveIndices[${row + j}] = ${v} must be -1 or a non-root local slot in [1, ${n})`);
        }
        // The rest of a path past a placeholder is unreachable.
        if (!tokenIsDraft(tokens, o + v, opts.vocab)) break;
        const u = retrieveIndices[row + j - 1];
        const prev = parentOf[v];
        if (prev !== -2 && prev !== u) {
          throw rangeError(`retrieveIndices[${row + j}]: slot ${v} of request ${b} has two parents (${prev} and ${u})`);
        }
        parentOf[v] = u;
      }
    }
    return childListsOf(parentOf, n, () => true);
  }, opts);
}

/** Padded form of a parent array: `parents[b × n + s]` is slot s's local parent slot, -1 for the root and padding. */
export function paddedParents(tokens: Int32Array, parents: Int32Array, batch: number, n: number, opts: PaddedOptions): PaddedTrees {
  for (let i = 0; i < parents.length; i++) {
    if (parents[i] < -1 || parents[i] >= n) {
      throw rangeError(`parents[${i}] = ${parents[i]} must be -1 (root or padding) or a local slot in [0, ${n})`);
    }
  }
  return assemble(tokens, batch, n, (b) => {
    const o = b * n;
    checkRootToken(tokens, o, b, opts.vocab);
    if (parents[o] !== -1) throw rangeError(`parents[${o}] (root of request ${b}) must be -1 (got ${parents[o]})`);
    const parentOf = new Int32Array(n).fill(-2);
    parentOf[0] = -1;
    for (let s = 1; s < n; s++) if (parents[o + s] !== -1) parentOf[s] = parents[o + s];
    return childListsOf(parentOf, n, (s) => tokenIsDraft(tokens, o + s, opts.vocab));
  }, opts);
}

/**
 * Child lists (increasing slot) of the slots reachable from the root through `parentOf` (-2: no parent).
 * `isDraft(s)` is asked for every reachable non-root slot: false prunes it (a placeholder) with its subtree.
 * Slots on a cycle are never reached (each slot has one parent), so they are skipped like padding.
 */
function childListsOf(parentOf: Int32Array, n: number, isDraft: (s: number) => boolean): { children: ChildLists; parentOf: Int32Array } {
  const all: number[][] = Array.from({ length: n }, () => []);
  for (let s = 1; s < n; s++) if (parentOf[s] >= 0) all[parentOf[s]].push(s);
  const children: ChildLists = new Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const v = stack.pop() as number;
    const kept = all[v].filter(isDraft);
    children[v] = kept;
    for (const c of kept) stack.push(c);
  }
  return { children, parentOf };
}

/** @internal Checks `nodesPerTree` and returns the batch. */
export function paddedBatch(tokens: Int32Array, nodesPerTree: unknown): number {
  if (typeof nodesPerTree !== 'number' || !Number.isInteger(nodesPerTree) || nodesPerTree < 1) {
    throw rangeError(`nodesPerTree must be an integer >= 1 (got ${show(nodesPerTree)})`);
  }
  if (tokens.length === 0 || tokens.length % nodesPerTree !== 0) {
    throw rangeError(
      `tokens must have batch × nodesPerTree entries (a positive multiple of ${nodesPerTree}) (got ${tokens.length})`,
    );
  }
  return tokens.length / nodesPerTree;
}
