// Draft-tree builders for the simulation: deterministic best-first trees (EAGLE-2 style), SpecDec++ chains,
// and trees whose children are sampled from the draft distribution (i.i.d. or without replacement).
import type { NGramModel } from './ngram';

export interface DraftTree {
  tokens: number[];
  parents: number[];
  /** Draft log-probabilities at each node (the distribution its children were drawn from). */
  draftRows: Float32Array[];
}

function pathTokens(t: DraftTree, v: number): number[] {
  const out: number[] = [];
  for (let u = v; u > 0; u = t.parents[u]) out.unshift(t.tokens[u]);
  return out;
}

/** The context a node's row conditions on: committed tokens (ending with the root's token) + the node's path. */
export function nodeContext(ctx: number[], t: DraftTree, v: number): number[] {
  return ctx.concat(pathTokens(t, v));
}

function newTree(ctx: number[], draft: NGramModel): DraftTree {
  return { tokens: [ctx[ctx.length - 1]], parents: [-1], draftRows: [draft.logits(ctx)] };
}

function addNode(t: DraftTree, ctx: number[], draft: NGramModel, parent: number, token: number): number {
  t.tokens.push(token);
  t.parents.push(parent);
  const v = t.tokens.length - 1;
  t.draftRows.push(draft.logits(nodeContext(ctx, t, v)));
  return v;
}

function topTokens(row: Float32Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, k);
}

/**
 * Best-first expansion by draft path probability: repeatedly add the most probable unexpanded candidate
 * (each node offers its `branch` most probable draft tokens) until `maxNodes` nodes or the candidate's path
 * probability falls below `minProb` (so trees are ragged).
 */
export function bestFirstTree(ctx: number[], draft: NGramModel, maxNodes: number, branch: number, minProb: number): DraftTree {
  const t = newTree(ctx, draft);
  const frontier: { parent: number; token: number; logp: number }[] = [];
  const offer = (v: number, base: number) => {
    for (const x of topTokens(t.draftRows[v], branch)) frontier.push({ parent: v, token: x, logp: base + t.draftRows[v][x] });
  };
  const logp = [0];
  offer(0, 0);
  while (t.tokens.length < maxNodes && frontier.length > 0) {
    let best = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i].logp > frontier[best].logp) best = i;
    const c = frontier.splice(best, 1)[0];
    if (Math.exp(c.logp) < minProb) break;
    const v = addNode(t, ctx, draft, c.parent, c.token);
    logp.push(c.logp);
    offer(v, c.logp);
  }
  return t;
}

/**
 * SpecDec++-style chain: draft argmax tokens; the predicted acceptance of each is the draft's own probability
 * (a stand-in for a trained acceptance head); `stop(probs)` returns the index to stop after, or -1.
 */
export function adaptiveChain(ctx: number[], draft: NGramModel, maxDepth: number, stop: (h: number[]) => number): DraftTree {
  const t = newTree(ctx, draft);
  const h: number[] = [];
  let v = 0;
  for (let d = 0; d < maxDepth; d++) {
    const row = t.draftRows[v];
    const x = topTokens(row, 1)[0];
    v = addNode(t, ctx, draft, v, x);
    h.push(Math.exp(row[x]));
    if (stop(h) >= 0) break;
  }
  return t;
}

function sampleFrom(row: Float32Array, exclude: Set<number>, r: () => number): number {
  let total = 0;
  for (let x = 0; x < row.length; x++) if (!exclude.has(x)) total += Math.exp(row[x]);
  let u = r() * total;
  let last = -1;
  for (let x = 0; x < row.length; x++) {
    if (exclude.has(x)) continue;
    last = x;
    u -= Math.exp(row[x]);
    if (u < 0) return x;
  }
  return last;
}

/**
 * Sampled tree: every node at depth d draws `branching[d]` children from its draft distribution q
 * (`replacement`: i.i.d., repeats allowed; otherwise without replacement). The logits passed to verification
 * must be those of q exactly as sampled (here the model's log-probabilities, temperature 1).
 */
export function sampledTree(ctx: number[], draft: NGramModel, branching: number[], replacement: boolean, r: () => number): DraftTree {
  const t = newTree(ctx, draft);
  let level = [0];
  for (const b of branching) {
    const next: number[] = [];
    for (const v of level) {
      const tried = new Set<number>();
      for (let j = 0; j < b; j++) {
        const x = sampleFrom(t.draftRows[v], replacement ? new Set() : tried, r);
        tried.add(x);
        next.push(addNode(t, ctx, draft, v, x));
      }
    }
    level = next;
  }
  return t;
}
