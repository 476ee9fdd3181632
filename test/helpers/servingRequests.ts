// Independent serving requests (own tree, logits rows, seed, step, sampling knobs) and how to batch them.
import type { TreeBatch } from '../../lib/tree/types';
import { sparseLogits } from './logits';
import { randInt } from './rng';
import { randomTrees } from './treeRandom';

export interface Request {
  tokens: Int32Array;
  parents: Int32Array;
  target: Float32Array; // rows × V
  draft: Float32Array;
  seed: bigint;
  step: number;
  temperature: number;
  topK: number;
  topP: number;
  /** Cap on accepted drafts (absent: none). */
  maxAccepted?: number;
}

export type Mode = 'greedy' | 'deterministic' | 'iid' | 'without-replacement';
export const MODES: Mode[] = ['greedy', 'deterministic', 'iid', 'without-replacement'];

function bigSeed(r: () => number): bigint {
  let s = 0n;
  for (let i = 0; i < 4; i++) s = (s << 16n) | BigInt(randInt(r, 65536));
  return s;
}

/** `count` requests of 1..maxNodes nodes over V tokens; duplicate sibling tokens when `iid`. */
export function makeRequests(r: () => number, count: number, maxNodes: number, V: number, iid: boolean): Request[] {
  const out: Request[] = [];
  for (let i = 0; i < count; i++) {
    const t = randomTrees(r, 1, maxNodes, V, iid);
    const n = t.tokens.length;
    const target = sparseLogits(r, n, V, 0.05);
    const draft = sparseLogits(r, n, V, 0);
    // Lift one child's token in its parent's rows so walks often go deep (greedy and sampled alike).
    for (let c = 1; c < n; c++) {
      if (r() < 0.6) {
        const at = t.parents[c] * V + t.tokens[c];
        target[at] = 6 + 2 * r();
        draft[at] = 6 + 2 * r();
      }
    }
    out.push({
      tokens: t.tokens,
      parents: t.parents,
      target,
      draft,
      seed: r() < 0.1 ? BigInt(randInt(r, 4)) : bigSeed(r),
      step: r() < 0.1 ? 0 : randInt(r, 2 ** 32),
      temperature: r() < 0.1 ? 0 : 0.3 + 1.5 * r(),
      topK: r() < 0.5 ? 0 : 1 + randInt(r, V),
      topP: r() < 0.5 ? 1 : 0.2 + 0.8 * r(),
    });
  }
  return out;
}

/**
 * The same requests with a random cap each (0, 1, 2, 3 or none) and placeholder drafts (-1) at about one
 * non-root node in five (the target/draft rows are untouched: a placeholder's row is simply never read).
 */
export function withCapsAndPlaceholders(r: () => number, reqs: Request[]): Request[] {
  return reqs.map((q) => {
    const tokens = q.tokens.slice();
    for (let i = 1; i < tokens.length; i++) if (r() < 0.2) tokens[i] = -1;
    const c = randInt(r, 5);
    return { ...q, tokens, maxAccepted: c === 4 ? 0x7fffffff : c };
  });
}

export interface Batched {
  trees: TreeBatch;
  target: { data: Float32Array; rows: number; vocab: number };
  draft: { data: Float32Array; rows: number; vocab: number };
  seed: BigUint64Array;
  step: Uint32Array;
  temperature: Float32Array;
  topK: Int32Array;
  topP: Float32Array;
  /** Present when every request has a cap. */
  maxAccepted?: Int32Array;
}

/** Concatenates requests into one batch with per-request seeds, steps and knobs. */
export function batchOf(reqs: Request[], V: number): Batched {
  const nodes = reqs.reduce((s, q) => s + q.tokens.length, 0);
  const tokens = new Int32Array(nodes);
  const parents = new Int32Array(nodes);
  const offsets = new Int32Array(reqs.length + 1);
  const target = new Float32Array(nodes * V);
  const draft = new Float32Array(nodes * V);
  reqs.forEach((q, b) => {
    const o = offsets[b];
    tokens.set(q.tokens, o);
    parents.set(q.parents, o);
    target.set(q.target, o * V);
    draft.set(q.draft, o * V);
    offsets[b + 1] = o + q.tokens.length;
  });
  return {
    trees: { tokens, parents, offsets },
    target: { data: target, rows: nodes, vocab: V },
    draft: { data: draft, rows: nodes, vocab: V },
    seed: BigUint64Array.from(reqs.map((q) => q.seed)),
    step: Uint32Array.from(reqs.map((q) => q.step)),
    temperature: Float32Array.from(reqs.map((q) => q.temperature)),
    topK: Int32Array.from(reqs.map((q) => q.topK)),
    topP: Float32Array.from(reqs.map((q) => q.topP)),
    ...(reqs.every((q) => q.maxAccepted !== undefined) ? { maxAccepted: Int32Array.from(reqs.map((q) => q.maxAccepted!)) } : {}),
  };
}

/** verifyTree options of a batch in one mode (per-request seeds, steps and knobs). */
export function optionsOf(b: Batched, mode: Mode): Record<string, unknown> {
  const cap = b.maxAccepted ? { maxAccepted: b.maxAccepted } : {};
  if (mode === 'greedy') return { mode: 'greedy', seed: b.seed, step: b.step, ...cap };
  const o: Record<string, unknown> = {
    mode: 'sample', seed: b.seed, step: b.step, temperature: b.temperature, topK: b.topK, topP: b.topP, ...cap,
  };
  if (mode !== 'deterministic') Object.assign(o, { drafts: mode, draft: b.draft });
  return o;
}

/** Request b's accepted nodes and tokens in a compact result. */
export function slice(r: { acceptedNodes: Int32Array; tokens: Int32Array; tokenOffsets: Int32Array }, b: number) {
  const s = r.tokenOffsets[b], e = r.tokenOffsets[b + 1];
  return { nodes: Array.from(r.acceptedNodes.subarray(s, e)), tokens: Array.from(r.tokens.subarray(s, e)) };
}
