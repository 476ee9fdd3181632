/**
 * Draft-tree growth for one decoding step: batched draft forwards, one per tree level, each node's children
 * drawn (top-k, i.i.d. or without replacement) from the draft's distribution at that node.
 *
 * @packageDocumentation
 */
import { type DraftRow, drawIid, drawWithoutReplacement, draftRow, probOf, readRow, topTokens } from './rows';
import { COMMITTED, type ModelState, type NewRow } from './state';
import type { DraftTree, Planner, TreeStrategy } from './strategies';
import type { Resolved } from './decoder';

/** @internal What growth needs from the generation call. */
export interface GrowContext {
  planner: () => Planner;
  mode: Resolved;
  draftT: number;
  window: number;
  tree: TreeStrategy;
  rand: () => number;
  /** Scratch: running sums of the row being drawn from. */
  cum: Float64Array;
}

/** @internal Result of {@link growTrees}: per sequence its tree, the draft row of every expanded node, and
 * whether the draft caught up on the committed tokens this step (false: it still has them pending). */
export interface Grown {
  trees: DraftTree[];
  rows: (DraftRow | undefined)[][];
  synced: boolean[];
}

/** @internal A tree with its root only. */
export function rootOnly(root: number): DraftTree {
  return { tokens: [root], parents: [-1], depth: [0], condq: [1], logq: [0], shape: [0] };
}

/** @internal Grows one draft tree per sequence that is not `done`. */
export async function growTrees(ds: ModelState, roots: number[], done: boolean[], c: GrowContext): Promise<Grown> {
  const B = roots.length;
  const trees = roots.map(rootOnly);
  const rows: (DraftRow | undefined)[][] = roots.map(() => []);
  const synced: boolean[] = new Array(B).fill(false);
  const { mode, draftT, window, rand, cum } = c;
  const planners: Planner[] = Array.from({ length: B }, () => c.planner());
  const sampled = !mode.greedy && mode.drafts !== 'deterministic';
  const V = cum.length;
  // Draft probabilities steer dynamic trees and the reward; fixed shapes with top-k drafts never read them.
  const needProbs = sampled || c.tree.kind === 'dynamic';
  const maxDepth = (b: number) => window - 1 - (ds.cached[b]! + ds.pending[b]!.length - 1);
  // Level 0: the draft catches up on the committed tokens it has not seen; its last row is the root's.
  const first = ds.pending.map((p, b) =>
    done[b] || maxDepth(b) < 1 ? [] : p.map((token, i): NewRow => ({ token, position: ds.cached[b]! + i, node: COMMITTED })),
  );
  for (let b = 0; b < B; b++) synced[b] = first[b]!.length > 0;
  let expand: number[][] = first.map((r) => (r.length > 0 ? [0] : []));
  let out = synced.some(Boolean) ? await ds.forward(first, null) : { logits: { data: new Float32Array(0), rows: 0, vocab: 1 }, stride: 0 };
  let rowOf = (b: number, k: number) => b * out.stride + (k === 0 ? first[b]!.length - 1 : k);
  let forwarded: number[][] = expand.map((e) => e.map(() => 0));
  while (expand.some((e) => e.length > 0)) {
    const next: NewRow[][] = [];
    const nextNodes: number[][] = [];
    for (let b = 0; b < B; b++) {
      const t = trees[b]!;
      const added: number[] = [];
      expand[b]!.forEach((v, k) => {
        const dr = draftRow(readRow(out.logits, rowOf(b, forwarded[b]![k]!)), draftT, sampled ? cum : undefined, needProbs);
        rows[b]![v] = dr;
        const m = planners[b]!.childCount(t, v);
        if (m <= 0) return;
        const toks = mode.drafts === 'iid' ? drawIid(cum, V, m, rand)
          : mode.drafts === 'without-replacement' ? drawWithoutReplacement(cum, V, m, rand) : topTokens(dr.scaled, m);
        toks.forEach((tok, i) => {
          const id = t.tokens.length;
          const cq = probOf(dr, tok);
          t.tokens.push(tok); t.parents.push(v); t.depth.push(t.depth[v]! + 1); t.condq.push(cq);
          t.logq.push(t.logq[v]! + Math.log(cq));
          t.shape.push(planners[b]!.childShape ? planners[b]!.childShape!(t.shape[v]!, i) : 0);
          added.push(id);
        });
      });
      const sel = added.length > 0 ? planners[b]!.select(t, added, maxDepth(b)) : [];
      const rootPos = ds.cached[b]! + ds.pending[b]!.length - 1;
      next.push(sel.map((v) => ({ token: t.tokens[v]!, position: rootPos + t.depth[v]!, node: v })));
      nextNodes.push(sel);
    }
    if (next.every((r) => r.length === 0)) break;
    const parents = trees.map((t) => Int32Array.from(t.parents));
    out = await ds.forward(next, parents);
    rowOf = (b: number, k: number) => b * out.stride + k;
    forwarded = nextNodes.map((n) => n.map((_, k) => k));
    expand = nextNodes;
  }
  return { trees, rows, synced };
}
