/**
 * GTO-reward shaping of a grown dynamic tree (deterministic drafts): choose the prefix (by cumulative draft
 * probability) that maximises `tree.gtoReward` under the draft's distributions minus a per-node cost.
 *
 * @packageDocumentation
 */
import { gtoReward } from '../tree/utils';
import type { DraftRow } from './rows';
import type { DraftTree } from './strategies';

/** @internal Prunes `t` in place (nodes renumbered in id order; `rows` and the draft's node → column map follow). */
export async function pruneByReward(t: DraftTree, rows: (DraftRow | undefined)[], cols: Map<number, number>, eta: number, cost: number, V: number): Promise<void> {
  const n = t.tokens.length - 1;
  if (n < 2) return;
  const order = Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => t.logq[b]! - t.logq[a]! || a - b);
  const sizes = [...new Set([Math.ceil(n / 4), Math.ceil(n / 2), Math.ceil((3 * n) / 4), n])];
  const keepSets = sizes.map((k) => new Set([0, ...order.slice(0, k)]));
  const total = keepSets.reduce((s, k) => s + k.size, 0);
  const tokens = new Int32Array(total);
  const parents = new Int32Array(total);
  const offsets = new Int32Array(sizes.length + 1);
  const data = new Float32Array(total * V);
  keepSets.forEach((set, c) => {
    const ids = [...set].sort((a, b) => a - b);
    const local = new Map(ids.map((v, i) => [v, i]));
    const o = offsets[c]!;
    ids.forEach((v, i) => {
      tokens[o + i] = t.tokens[v]!;
      parents[o + i] = v === 0 ? -1 : local.get(t.parents[v]!)!;
      const dr = rows[v];
      if (dr) data.set(dr.scaled, (o + i) * V);
    });
    offsets[c + 1] = o + ids.length;
  });
  const reward = await gtoReward({ tokens, parents, offsets }, { data, rows: total, vocab: V }, { eta, mode: 'sample', temperature: 1 });
  let best = 0;
  for (let c = 1; c < sizes.length; c++) if (reward[c]! - cost * sizes[c]! > reward[best]! - cost * sizes[best]!) best = c;
  const ids = [...keepSets[best]!].sort((a, b) => a - b);
  if (ids.length === t.tokens.length) return;
  const local = new Map(ids.map((v, i) => [v, i]));
  const pick = <T>(a: T[]) => ids.map((v) => a[v]!);
  const newCols = new Map<number, number>();
  for (const [v, c] of cols) if (local.has(v)) newCols.set(local.get(v)!, c);
  const newRows = ids.map((v) => rows[v]);
  t.parents = ids.map((v) => (v === 0 ? -1 : local.get(t.parents[v]!)!));
  t.tokens = pick(t.tokens); t.depth = pick(t.depth); t.condq = pick(t.condq); t.logq = pick(t.logq); t.shape = pick(t.shape);
  rows.length = 0;
  rows.push(...newRows);
  cols.clear();
  for (const [k, v] of newCols) cols.set(k, v);
}

