/**
 * Slot maps: how the nodes of an imported {@link TreeBatch} sit in a caller's fixed-size padded buffers
 * (SGLang / dflash / vLLM-fork layouts, `nodesPerTree` slots per request), and the two moves between them.
 *
 * @packageDocumentation
 */
import { type Logits, normalizeLogits } from '../logits';
import type { TreeBatch } from './types';
import { rangeError, typeError } from '../runtime/validate';

/**
 * Where each node of an imported {@link TreeBatch} lives in the caller's padded layout. Slot `s` of request `b`
 * is the global slot `b × slotsPerTree + s` (SGLang's `retrive_index`, the row of the caller's logits).
 */
export interface SlotMap {
  /** Number of requests. */
  batch: number;
  /** Slots per request in the caller's buffers (`nodesPerTree`). */
  slotsPerTree: number;
  /** Global slot of every node, in node order (`trees.tokens.length` entries). */
  slotOfNode: Int32Array;
  /** Global node at every global slot (`batch × slotsPerTree` entries), `-1` for skipped slots. */
  nodeOfSlot: Int32Array;
  /**
   * True when node n is slot n for every n and no slot was skipped: the caller's slot-layout logits are then
   * already in node order ({@link gatherRows} returns them unchanged).
   */
  identity: boolean;
}

/** Result of a padded import: the trees in node order and where each node sits in the caller's slots. */
export interface PaddedTrees {
  /** The reachable part of the padded buffers as a compact CSR tree batch (node order = topological). */
  trees: TreeBatch;
  /** Node ↔ slot maps between `trees` and the caller's padded buffers. */
  slots: SlotMap;
}

/** @internal Builds the slot map from `slotOfNode`. */
export function makeSlotMap(batch: number, slotsPerTree: number, slotOfNode: Int32Array): SlotMap {
  const nodeOfSlot = new Int32Array(batch * slotsPerTree).fill(-1);
  let identity = slotOfNode.length === nodeOfSlot.length;
  for (let n = 0; n < slotOfNode.length; n++) {
    nodeOfSlot[slotOfNode[n]] = n;
    identity &&= slotOfNode[n] === n;
  }
  return { batch, slotsPerTree, slotOfNode, nodeOfSlot, identity };
}

/** @internal The slot map of a batch taken as it is: one slot per node, global node = global slot. */
export function identitySlots(trees: TreeBatch): SlotMap {
  const n = trees.tokens.length;
  const slotOfNode = new Int32Array(n);
  for (let i = 0; i < n; i++) slotOfNode[i] = i;
  return { batch: trees.offsets.length - 1, slotsPerTree: 0, slotOfNode, nodeOfSlot: slotOfNode, identity: true };
}

/** @internal Checks that `slots` is a {@link SlotMap} for `trees`. */
export function checkSlotMap(slots: unknown, trees: TreeBatch, name: string): asserts slots is SlotMap {
  if (slots === null || typeof slots !== 'object') {
    throw typeError(`${name} must be the SlotMap returned by a padded import ({ trees, slots })`);
  }
  const s = slots as Partial<SlotMap>;
  if (!(s.slotOfNode instanceof Int32Array) || !(s.nodeOfSlot instanceof Int32Array)) {
    throw typeError(`${name}.slotOfNode and ${name}.nodeOfSlot must be Int32Arrays`);
  }
  const batch = trees.offsets.length - 1;
  if (s.batch !== batch || s.slotOfNode.length !== trees.tokens.length) {
    throw rangeError(
      `${name} describes ${s.batch} requests and ${s.slotOfNode.length} nodes but trees has ${batch} and ` +
        `${trees.tokens.length}: pass the slots returned with these trees`,
    );
  }
}

/**
 * The rows of slot-layout logits (`batch × slotsPerTree` rows, one per slot) that the imported trees' nodes
 * read, in node order: the `target` / `draft` argument of `verifyTree` and the tree utilities. Returns `logits`
 * itself when the map is the identity (no copy); otherwise copies the reachable rows (host data only).
 *
 * @throws RangeError when `logits.rows` is not `batch × slotsPerTree`; TypeError for device data that would
 *   need a gather (reorder or drop rows on the device first: not done in lengthwise yet).
 */
export function gatherRows(logits: Logits, slots: SlotMap): Logits {
  const l = normalizeLogits(logits, 'logits');
  const rows = slots.nodeOfSlot.length;
  if (l.native.rows !== rows) {
    throw rangeError(
      `logits.rows = ${l.native.rows} must be batch × slotsPerTree = ${slots.batch} × ${slots.slotsPerTree} = ${rows} ` +
        `(one row per slot of the padded buffers)`,
    );
  }
  if (slots.identity) return logits;
  if (l.onDevice) {
    throw typeError(
      'logits on a device in slot layout with skipped or reordered slots: gather rows slots.slotOfNode on the ' +
        'device first (lengthwise has no device gather yet)',
    );
  }
  const V = l.native.vocab;
  const src = l.native.data as Float32Array | Uint16Array; // a Buffer / DataView arrives as a typed view
  const out = src instanceof Float32Array ? new Float32Array(slots.slotOfNode.length * V) : new Uint16Array(slots.slotOfNode.length * V);
  for (let n = 0; n < slots.slotOfNode.length; n++) {
    const s = slots.slotOfNode[n];
    out.set(src.subarray(s * V, s * V + V), n * V);
  }
  return { data: out, dtype: l.dtype, rows: slots.slotOfNode.length, vocab: V };
}

/**
 * Writes per-node values (e.g. `tree.nodeProbabilities`) back into slot layout: entry `slot` of the result is
 * the value of the node at that slot, `fill` for skipped slots.
 */
export function scatterToSlots<A extends Int32Array | Float32Array | Float64Array>(values: A, slots: SlotMap, fill: number): A {
  if (values.length !== slots.slotOfNode.length) {
    throw rangeError(`values must have one entry per node (${slots.slotOfNode.length}) (got ${values.length})`);
  }
  const Ctor = values.constructor as new (n: number) => A;
  const out = new Ctor(slots.nodeOfSlot.length);
  out.fill(fill);
  for (let n = 0; n < values.length; n++) out[slots.slotOfNode[n]] = values[n];
  return out;
}
