/**
 * Draft-tree strategies: a chain of k tokens, a static tree given by its child-rank paths (EAGLE's
 * `mc_sim_7b_63` by default), and a dynamic tree grown by draft probability under a node budget.
 *
 * Every decision to give a node children is taken before those children are drawn and depends only on tokens
 * drawn earlier, so the trees stay valid for i.i.d. and without-replacement verification.
 *
 * @packageDocumentation
 */
import { stopIndex } from '../tree/specdec';
import { show } from '../runtime/show';
import { rangeError, typeError } from '../runtime/validate';

/**
 * EAGLE's `mc_sim_7b_63` static tree (SafeAILab/EAGLE, `model/choices.py`): each entry is the path of child
 * ranks from the root to one node (`[0, 1]` = second most probable child of the most probable child). 25
 * draft nodes, depth 5.
 */
export const MC_SIM_7B_63: readonly (readonly number[])[] = Object.freeze([
  [0], [1], [2], [3],
  [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0],
  [0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0], [0, 1, 1], [0, 2, 0], [0, 2, 1], [1, 0, 0],
  [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2],
  [0, 0, 0, 0, 0], [0, 0, 0, 0, 1],
].map((p) => Object.freeze(p)));

/** How the draft tree of each step is shaped. */
export type TreeStrategy =
  /** No draft: plain target decoding (one token per target forward), same sampler. */
  | {
      /** Discriminant. */
      kind: 'none';
    }
  /** A chain of `k ≥ 1` draft tokens (k draft forwards per step). */
  | {
      /** Discriminant. */
      kind: 'chain';
      /** Draft tokens per step (integer ≥ 1). */
      k: number;
    }
  /**
   * A fixed tree given by child-rank paths (default {@link MC_SIM_7B_63}). Rank r = the r-th most probable
   * draft token for deterministic drafts, the r-th draw for sampled drafts. One draft forward per level.
   */
  | {
      /** Discriminant. */
      kind: 'static';
      /** Child-rank paths from the root, one per draft node, parents before children (default {@link MC_SIM_7B_63}). */
      choices?: readonly (readonly number[])[];
    }
  /**
   * A tree grown level by level: each level expands the `width` (default 4) newest nodes of highest
   * cumulative draft probability with up to `width` children each, until `budget` draft nodes, `depth`
   * (default 8) levels, or the SpecDec++ stop rule fires: with `stopThreshold` h set, growth stops once the
   * best path's predicted rejection probability `1 − Π q` exceeds h (`specdec.stopIndex` on the draft's
   * conditional probabilities along that path).
   */
  | {
      /** Discriminant. */
      kind: 'dynamic';
      /** Draft nodes per tree at most (integer in [1, 1024], root excluded). */
      budget: number;
      /** Nodes expanded per level and children per expanded node (integer in [1, 64], default 4). */
      width?: number;
      /** Levels at most (integer in [1, 64], default 8). */
      depth?: number;
      /** SpecDec++ stop threshold h in [0, 1]: stop growing once the best path's 1 − Π q exceeds h (default off). */
      stopThreshold?: number;
      /** Prune the grown tree by GTO's draft-tree reward (default off). */
      reward?: RewardShaping;
    };

/**
 * GTO's draft-tree reward as a pruning rule (deterministic drafts: greedy / target-only): after growth, the
 * prefixes of 1/4, 1/2, 3/4 and all of the nodes (ranked by cumulative draft probability) are scored with
 * `tree.gtoReward` under the draft's own distributions, and the one maximising `reward − nodeCost · nodes`
 * is verified.
 */
export interface RewardShaping {
  /** η > 0 of the smooth max over paths. */
  eta: number;
  /** Price of one verified node, in expected accepted tokens (≥ 0). */
  nodeCost: number;
}

/** @internal A tree under construction (local node 0 = root). */
export interface DraftTree {
  tokens: number[];
  parents: number[];
  depth: number[];
  /** Draft probability of the node's token under its parent's q. */
  condq: number[];
  /** Sum of log condq along the path. */
  logq: number[];
  /** Static strategy: the shape node of each tree node. */
  shape: number[];
}

/** @internal */
export interface Planner {
  /** How many children node v gets (decided before they are drawn). */
  childCount(t: DraftTree, v: number): number;
  /** Which of the nodes just added get forwarded through the draft (to be expanded next level). */
  select(t: DraftTree, added: number[], maxDepth: number): number[];
  /** For static trees: shape node of the i-th child of a node with shape node s. */
  childShape?(s: number, i: number): number;
}

/** @internal Compiled static shape: children count and child shape ids per shape node (0 = root). */
interface Shape {
  children: number[][];
}

function compileShape(choices: readonly (readonly number[])[]): Shape {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw typeError('tree.choices must be a non-empty array of child-rank paths such as [[0], [1], [0, 0]]');
  }
  const children: number[][] = [[]];
  const ids = new Map<string, number>([['', 0]]);
  const sorted = [...choices].map((p, i) => {
    if (!Array.isArray(p) || p.length === 0 || !p.every((r) => Number.isInteger(r) && r >= 0)) {
      throw rangeError(`tree.choices[${i}] must be a non-empty array of ranks (integers >= 0), got ${show(p)}`);
    }
    return p;
  });
  sorted.sort((a, b) => a.length - b.length || a.join(',').localeCompare(b.join(',')));
  for (const p of sorted) {
    const parentKey = p.slice(0, -1).join(',');
    const parent = ids.get(parentKey);
    if (parent === undefined) throw rangeError(`tree.choices: path [${p.join(', ')}] has no parent path [${parentKey}]`);
    const rank = p[p.length - 1]!;
    const key = p.join(',');
    if (ids.has(key)) throw rangeError(`tree.choices: path [${key}] appears twice`);
    const id = children.length;
    ids.set(key, id);
    children.push([]);
    children[parent]![rank] = id;
  }
  for (let s = 0; s < children.length; s++) {
    const c = children[s]!;
    for (let r = 0; r < c.length; r++) {
      if (c[r] === undefined) throw rangeError(`tree.choices: ranks of each parent must be 0, 1, 2, ... without gaps (rank ${r} missing)`);
    }
  }
  return { children };
}

/** @internal Validates a strategy and returns its planner factory (one planner per tree per step). */
export function plannerFor(s: TreeStrategy): () => Planner {
  if (s === null || typeof s !== 'object') throw typeError("tree must be { kind: 'none' | 'chain' | 'static' | 'dynamic', ... }");
  switch (s.kind) {
    case 'none':
      return () => ({ childCount: () => 0, select: () => [] });
    case 'chain': {
      if (!(Number.isInteger(s.k) && s.k >= 1 && s.k <= 64)) throw rangeError(`tree.k must be an integer in [1, 64], got ${show(s.k)}`);
      const k = s.k;
      return () => ({
        childCount: (t, v) => (t.depth[v]! < k ? 1 : 0),
        select: (t, added, maxDepth) => added.filter((v) => t.depth[v]! < Math.min(k, maxDepth)),
      });
    }
    case 'static': {
      const shape = compileShape(s.choices ?? MC_SIM_7B_63);
      return () => ({
        childCount: (t, v) => shape.children[t.shape[v]!]!.length,
        childShape: (sh, i) => shape.children[sh]![i]!,
        select: (t, added, maxDepth) =>
          added.filter((v) => t.depth[v]! < maxDepth && shape.children[t.shape[v]!]!.length > 0),
      });
    }
    case 'dynamic': {
      const budget = s.budget;
      const width = s.width ?? 4;
      const depth = s.depth ?? 8;
      if (!(Number.isInteger(budget) && budget >= 1 && budget <= 1024)) throw rangeError(`tree.budget must be an integer in [1, 1024], got ${show(budget)}`);
      if (!(Number.isInteger(width) && width >= 1 && width <= 64)) throw rangeError(`tree.width must be an integer in [1, 64], got ${show(width)}`);
      if (!(Number.isInteger(depth) && depth >= 1 && depth <= 64)) throw rangeError(`tree.depth must be an integer in [1, 64], got ${show(depth)}`);
      if (s.reward !== undefined) {
        const r = s.reward;
        if (r === null || typeof r !== 'object' || !(Number.isFinite(r.eta) && r.eta > 0) || !(Number.isFinite(r.nodeCost) && r.nodeCost >= 0)) {
          throw rangeError(`tree.reward must be { eta > 0, nodeCost >= 0 }, got ${show(r)}`);
        }
      }
      const h = s.stopThreshold;
      if (h !== undefined && !(typeof h === 'number' && h >= 0 && h <= 1)) throw rangeError(`tree.stopThreshold must be in [0, 1], got ${show(h)}`);
      return () => {
        let left = budget;
        return {
          childCount: () => {
            const n = Math.min(width, left);
            left -= n;
            return n;
          },
          select: (t, added, maxDepth) => {
            if (left <= 0 || added.length === 0) return [];
            const pick = added.filter((v) => t.depth[v]! < Math.min(depth, maxDepth));
            pick.sort((a, b) => t.logq[b]! - t.logq[a]! || a - b);
            pick.length = Math.min(pick.length, width);
            if (h !== undefined && pick.length > 0) {
              const path: number[] = [];
              for (let u = pick[0]!; u > 0; u = t.parents[u]!) path.push(t.condq[u]!);
              path.reverse();
              if (stopIndex(path, h) >= 0) return [];
            }
            return pick;
          },
        };
      };
    }
    default:
      throw rangeError(`tree.kind must be 'none', 'chain', 'static' or 'dynamic', got ${show((s as { kind: unknown }).kind)}`);
  }
}

/**
 * Parses the CLI form: `none`, `chain:K`, `static`, `dynamic:BUDGET`.
 *
 * @throws RangeError naming the accepted forms.
 */
export function parseTree(text: string): TreeStrategy {
  const m = /^(none|chain|static|dynamic)(?::(\d+))?$/.exec(text);
  const err = () => new RangeError(`--tree must be chain:K, static or dynamic:BUDGET, got ${show(text)}`);
  if (!m) throw err();
  const n = m[2] === undefined ? undefined : Number(m[2]);
  switch (m[1]) {
    case 'none':
      return { kind: 'none' };
    case 'static':
      if (n !== undefined) throw err();
      return { kind: 'static' };
    case 'chain':
      if (n === undefined) throw err();
      return { kind: 'chain', k: n };
    default:
      if (n === undefined) throw err();
      return { kind: 'dynamic', budget: n };
  }
}
