/**
 * Per-model decoding state: which cache column holds what, ragged-batch padding, attention-bias construction,
 * and timed calls into the adapter.
 *
 * @packageDocumentation
 */
import type { Logits } from '../logits';
import type { ModelAdapter } from './adapter';
import { rangeError } from '../runtime/validate';

/** Column tag: a committed token (every later row sees it). */
export const COMMITTED = -1;
/** Column tag: padding (nobody but its own row sees it). */
export const PAD = -2;

/** One new row of a forward call: a committed token (`node = COMMITTED`) or tree node `node ≥ 1`. */
export interface NewRow {
  token: number;
  position: number;
  node: number;
}

/** Logits rows of one forward, per item the rows of its new tokens (row index into `logits`). */
export interface ForwardRows {
  logits: Logits;
  /** `batch × S`: row of item b's s-th new token is `b·S + s`. */
  stride: number;
}

/** @internal */
export class ModelState {
  cache: unknown = null;
  /** Columns per item (P). */
  columns = 0;
  /** `batch × columns` tags: COMMITTED, PAD or a tree node id of the current step. */
  tags: Int32Array;
  /** Committed tokens of each item not yet in the cache; the last one is the tree root. */
  pending: number[][];
  /** Committed tokens in the cache of each item (= position of the first pending token). */
  cached: Int32Array;
  /** Per item, tree node id → cache column (current step only). */
  nodeColumn: Map<number, number>[];
  forwards = 0;
  ms = 0;

  constructor(
    readonly model: ModelAdapter,
    readonly batch: number,
  ) {
    this.tags = new Int32Array(0);
    this.pending = Array.from({ length: batch }, () => []);
    this.cached = new Int32Array(batch);
    this.nodeColumn = Array.from({ length: batch }, () => new Map());
  }

  /**
   * Forwards `rows[b]` for every item (ragged: shorter items are padded). A committed row sees every committed
   * column before it; a tree row sees every committed column plus the columns of its ancestors and itself
   * (`parents[b]` maps node → parent node, the root being committed).
   */
  async forward(rows: NewRow[][], parents: Int32Array[] | null): Promise<ForwardRows> {
    const B = this.batch;
    let S = 0;
    for (const r of rows) S = Math.max(S, r.length);
    const P = this.columns;
    const C = P + S;
    const mask = this.model.maskValue ?? -1e9;
    const padId = this.model.padId ?? 0;
    const tokens = new Int32Array(B * S).fill(padId);
    const positions = new Int32Array(B * S);
    const bias = new Float32Array(B * S * C).fill(mask);
    const tags = new Int32Array(B * C).fill(PAD);
    for (let b = 0; b < B; b++) {
      const oldTags = this.tags.subarray(b * P, b * P + P);
      const newTags = tags.subarray(b * C, b * C + C);
      newTags.set(oldTags);
      const r = rows[b]!;
      for (let s = 0; s < r.length; s++) newTags[P + s] = r[s]!.node;
      const par = parents?.[b];
      for (let s = 0; s < S; s++) {
        const out = bias.subarray((b * S + s) * C, (b * S + s + 1) * C);
        if (s >= r.length) {
          out[P + s] = 0; // padding row: sees only itself, so its softmax stays finite
          continue;
        }
        const row = r[s]!;
        tokens[b * S + s] = row.token;
        positions[b * S + s] = row.position;
        for (let j = 0; j <= P + s; j++) {
          const t = newTags[j]!;
          if (t === COMMITTED) out[j] = 0;
          else if (t >= 0 && row.node >= 0 && isAncestorOrSelf(t, row.node, par!)) out[j] = 0;
        }
        if (row.node >= 0) this.nodeColumn[b]!.set(row.node, P + s);
      }
    }
    const t0 = performance.now();
    const res = await this.model.forward(tokens, positions, { data: bias, batch: B, rows: S, columns: C }, this.cache);
    this.ms += performance.now() - t0;
    this.forwards++;
    checkLogits(res.logits, B * S, this.model.vocab);
    this.cache = res.cache;
    this.columns = C;
    this.tags = tags;
    return { logits: res.logits, stride: S };
  }

  /**
   * Keeps, per item, its committed columns, then its `nodes[b]` tree nodes that are in the cache (in the
   * given order), all as committed; drops the rest. Returns, per item, how many of `nodes[b]` were cached
   * (a prefix of the accepted path).
   */
  async keepPath(nodes: number[][]): Promise<number[]> {
    const B = this.batch;
    const P = this.columns;
    const keepCols: number[][] = [];
    const kept: number[] = [];
    let K = 0;
    for (let b = 0; b < B; b++) {
      const cols: number[] = [];
      for (let j = 0; j < P; j++) if (this.tags[b * P + j] === COMMITTED) cols.push(j);
      let n = 0;
      for (const node of nodes[b]!) {
        const c = this.nodeColumn[b]!.get(node);
        if (c === undefined) break;
        cols.push(c);
        n++;
      }
      kept.push(n);
      keepCols.push(cols);
      K = Math.max(K, cols.length);
      this.nodeColumn[b]!.clear();
    }
    const indices = new Int32Array(B * K);
    const tags = new Int32Array(B * K).fill(PAD);
    let identity = K === P;
    for (let b = 0; b < B; b++) {
      const cols = keepCols[b]!;
      for (let k = 0; k < K; k++) {
        indices[b * K + k] = k < cols.length ? cols[k]! : (cols[0] ?? 0);
        if (k < cols.length) tags[b * K + k] = COMMITTED;
        if (indices[b * K + k] !== k) identity = false;
      }
      this.cached[b] = cols.length;
    }
    if (!identity && this.cache !== null) {
      const t0 = performance.now();
      this.cache = await this.model.keep(this.cache, indices, K);
      this.ms += performance.now() - t0;
    }
    this.columns = K;
    this.tags = tags;
    return kept;
  }
}

function isAncestorOrSelf(a: number, v: number, parents: Int32Array): boolean {
  for (let u = v; u > 0; u = parents[u]!) if (u === a) return true;
  return false;
}

function checkLogits(l: Logits, rows: number, vocab: number): void {
  if (l === null || typeof l !== 'object' || l.rows !== rows || l.vocab !== vocab) {
    throw rangeError(
      `model adapter returned logits ${l ? `${String(l.rows)} × ${String(l.vocab)}` : String(l)}; expected ${rows} × ${vocab} (one row per new token)`,
    );
  }
}
