// Float64 reference implementations of the tree utilities and multi-draft optimum (brute force, tiny inputs).
import type { TreeBatch } from '../../lib/tree/types';

export interface Processing {
  greedy?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
}

/** Processed target distribution of one logits row (docs/tree-verification.md), float64. T and top-p are float32 like the API's. */
export function processedDistribution(z: ArrayLike<number>, o: Processing): Float64Array {
  const V = z.length;
  const p = new Float64Array(V);
  const T = Math.fround(o.temperature ?? 1);
  if (o.greedy || T === 0) {
    let best = 0;
    for (let x = 1; x < V; x++) if (z[x] > z[best]) best = x;
    p[best] = 1;
    return p;
  }
  const s = Array.from({ length: V }, (_, x) => z[x] / T);
  const order = Array.from({ length: V }, (_, x) => x).sort((a, b) => (s[a] !== s[b] ? s[b] - s[a] : a - b));
  const m = s[order[0]];
  let keep = V;
  // min-p: p(x) >= minP · p_max, i.e. exp(s_x - m) >= minP (a prefix of the order)
  const minP = Math.fround(o.minP ?? 0);
  if (minP > 0) {
    keep = 0;
    while (keep < V && Math.exp(s[order[keep]] - m) >= minP) keep++;
  }
  if (o.topK && o.topK > 0 && o.topK < keep) keep = o.topK;
  const topP = Math.fround(o.topP ?? 1);
  if (topP < 1) {
    let total = 0;
    for (let j = 0; j < keep; j++) total += Math.exp(s[order[j]] - m);
    let cum = 0;
    let r = 0;
    while (r < keep) {
      cum += Math.exp(s[order[r]] - m);
      r++;
      if (cum >= topP * total) break;
    }
    keep = r;
  }
  let Z = 0;
  for (let j = 0; j < keep; j++) Z += Math.exp(s[order[j]] - m);
  for (let j = 0; j < keep; j++) p[order[j]] = Math.exp(s[order[j]] - m) / Z;
  return p;
}

/** Per-node p_parent(x_node) (1 for roots). */
export function nodeProbs(t: TreeBatch, z: ArrayLike<number>, vocab: number, per: (b: number) => Processing): Float64Array {
  const out = new Float64Array(t.tokens.length).fill(1);
  const batch = t.offsets.length - 1;
  for (let b = 0; b < batch; b++) {
    const o = t.offsets[b];
    const cache = new Map<number, Float64Array>();
    for (let i = 1; i < t.offsets[b + 1] - o; i++) {
      const row = o + t.parents[o + i];
      let d = cache.get(row);
      if (!d) {
        d = processedDistribution(Array.prototype.slice.call(z, row * vocab, (row + 1) * vocab) as number[], per(b));
        cache.set(row, d);
      }
      out[o + i] = d[t.tokens[o + i]];
    }
  }
  return out;
}

/** E[accepted] by the recursion E(v) = Σ_children p(c) (1 + E(c)) — a different evaluation order from the kernel. */
export function expectedAcceptanceRef(t: TreeBatch, prob: Float64Array): Float64Array {
  const batch = t.offsets.length - 1;
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const o = t.offsets[b];
    const size = t.offsets[b + 1] - o;
    const E = new Float64Array(size);
    for (let i = size - 1; i >= 1; i--) E[t.parents[o + i]] += prob[o + i] * (1 + E[i]);
    out[b] = E[0];
  }
  return out;
}

/** GTO reward by explicit paths: L_i = Σ_j Π_{k ≤ j} p along each root-to-leaf path; log-sum-exp in float64. */
export function gtoRewardRef(t: TreeBatch, prob: Float64Array, eta: number): Float64Array {
  const batch = t.offsets.length - 1;
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const o = t.offsets[b];
    const size = t.offsets[b + 1] - o;
    const hasChild = new Array(size).fill(false);
    for (let i = 1; i < size; i++) hasChild[t.parents[o + i]] = true;
    const Ls: number[] = [];
    for (let leaf = 0; leaf < size; leaf++) {
      if (hasChild[leaf]) continue;
      const path: number[] = [];
      for (let v = leaf; v > 0; v = t.parents[o + v]) path.unshift(v);
      let L = 0;
      let prod = 1;
      for (const v of path) L += prod *= prob[o + v];
      Ls.push(L);
    }
    const mx = Math.max(...Ls.map((l) => eta * l));
    out[b] = (mx + Math.log(Ls.reduce((a, l) => a + Math.exp(eta * l - mx), 0))) / eta;
  }
  return out;
}

/** α* = 1 − max_H [P(S ⊆ H) − p(H)] by enumerating every H ⊆ vocabulary (and, without replacement, every draw order). */
export function optimalAcceptanceRef(p: ArrayLike<number>, q: ArrayLike<number>, n: number, replacement: boolean): number {
  const V = p.length;
  const inH = new Float64Array(1 << V);
  if (replacement) {
    for (let h = 0; h < 1 << V; h++) {
      let qh = 0;
      for (let i = 0; i < V; i++) if ((h >> i) & 1) qh += q[i];
      inH[h] = qh ** n;
    }
  } else {
    const go = (left: number, drawn: number, prob: number) => {
      if (left === 0) {
        for (let h = 0; h < 1 << V; h++) if ((drawn & h) === drawn) inH[h] += prob;
        return;
      }
      let rest = 0;
      for (let i = 0; i < V; i++) if (!((drawn >> i) & 1)) rest += q[i];
      for (let i = 0; i < V; i++) if (!((drawn >> i) & 1) && q[i] > 0) go(left - 1, drawn | (1 << i), (prob * q[i]) / rest);
    };
    go(n, 0, 1);
  }
  let best = 0;
  for (let h = 0; h < 1 << V; h++) {
    let ph = 0;
    for (let i = 0; i < V; i++) if ((h >> i) & 1) ph += p[i];
    best = Math.max(best, inH[h] - ph);
  }
  return 1 - best;
}

/** softmax of a logits row in float64. */
export function softmax(z: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const out = Float64Array.from({ length: z.length }, (_, i) => Math.exp(z[i] - m));
  const s = out.reduce((a, x) => a + x, 0);
  return out.map((x) => x / s);
}

/**
 * Per-node P(accepted | parent accepted) under recursive rejection sampling with draft logits `qz`
 * (children in node order = draw order), written from the verification rule: accept c_j iff u·q_j(c_j) < r(c_j).
 */
export function rrsNodeProbs(
  t: TreeBatch,
  z: ArrayLike<number>,
  qz: ArrayLike<number>,
  vocab: number,
  per: (b: number) => Processing,
  wor: boolean,
): Float64Array {
  const out = new Float64Array(t.tokens.length).fill(1);
  const batch = t.offsets.length - 1;
  const row = (a: ArrayLike<number>, r: number) => Array.prototype.slice.call(a, r * vocab, (r + 1) * vocab) as number[];
  for (let b = 0; b < batch; b++) {
    const o = t.offsets[b];
    const size = t.offsets[b + 1] - o;
    const proc = per(b);
    for (let v = 0; v < size; v++) {
      const kids: number[] = [];
      for (let i = v + 1; i < size; i++) if (t.parents[o + i] === v) kids.push(i);
      if (kids.length === 0) continue;
      let r = processedDistribution(row(z, o + v), proc);
      if (proc.greedy || proc.temperature === 0) {
        for (const c of kids) out[o + c] = r[t.tokens[o + c]];
        continue;
      }
      const q = softmax(row(qz, o + v));
      const removed = new Set<number>();
      let reach = 1;
      let dead = false;
      for (const c of kids) {
        const x = t.tokens[o + c];
        let qj: Float64Array = q;
        if (wor) {
          let rest = 0;
          for (let y = 0; y < vocab; y++) if (!removed.has(y)) rest += q[y];
          if (!(rest > 1e-12)) dead = true;
          qj = q.map((val, y) => (removed.has(y) ? 0 : val / rest));
        }
        const alpha = dead || !(qj[x] > 0) ? 0 : Math.min(1, r[x] / qj[x]);
        out[o + c] = reach * alpha;
        reach *= 1 - alpha;
        const next = r.map((val, y) => Math.max(0, val - qj[y]));
        const s = next.reduce((a, val) => a + val, 0);
        if (!(s > 1e-30)) dead = true;
        else r = next.map((val) => val / s);
        removed.add(x);
      }
    }
  }
  return out;
}
