/**
 * Every exported function of lengthwise as a fuzz target: the argument names (for "the message names the
 * argument"), a builder of VALID arguments from a seed (small shapes, all dtypes, special values), the call,
 * and a check of a valid call's result (shape invariants; against a float64 reference where cheap).
 */
import * as lw from '../../../lib';
import { randomLogits, special } from '../../helpers/logits';
import { refLogitStats } from '../../helpers/logitsReference';
import { rng } from '../../helpers/rng';
import { randomTrees } from '../../helpers/treeRandom';
import type { TreeBatch } from '../../../lib/tree/types';

type R = () => number;
export type Args = unknown[];

export interface Target {
  name: string;
  /** Argument names and field names a validation message may cite. */
  names: string[];
  /** Valid arguments, deterministic in the seed. */
  build: (r: R) => Args;
  call: (args: Args) => unknown;
  /** A problem description for a wrong result of a VALID call, else undefined. */
  check?: (args: Args, result: unknown) => string | undefined;
  /** Option keys the mutator may add although `build` leaves them out. */
  extraKeys?: Record<number, string[]>;
  /** Valid calls need a CUDA device (an Error naming CUDA is the expected outcome without one). */
  needsGpu?: boolean;
}

const int = (r: R, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const DTYPES = ['float32', 'float16', 'bfloat16'] as const;
type DT = (typeof DTYPES)[number];

/** Host logits in a random dtype; with `specials`, one row may get NaN, +Inf or all −Inf (float32 only). */
export function hostLogits(r: R, rows: number, vocab: number, dtype: DT, specials = false): lw.Logits {
  const data = randomLogits(r, rows, vocab, dtype, 1 + 8 * r());
  if (specials && rows > 0 && r() < 0.3) {
    const row = int(r, 0, rows - 1);
    const what = pick(r, ['nan', 'inf', '-inf-row'] as const);
    if (what === '-inf-row') for (let v = 0; v < vocab; v++) data[row * vocab + v] = special(dtype, '-inf');
    else data[row * vocab + int(r, 0, vocab - 1)] = special(dtype, what);
  }
  const l: lw.Logits = { data, rows, vocab };
  if (dtype !== 'float32' || r() < 0.5) l.dtype = dtype;
  return l;
}

function finiteRows(l: lw.Logits): boolean[] {
  const d = l.data as Float32Array | Uint16Array;
  const out: boolean[] = [];
  for (let row = 0; row < l.rows; row++) {
    let ok = true;
    for (let v = 0; v < l.vocab && ok; v++) {
      const x = d[row * l.vocab + v]!;
      if (d instanceof Float32Array) ok = Number.isFinite(x);
      else ok = (x & 0x7fff) < (l.dtype === 'float16' ? 0x7c00 : 0x7f80);
    }
    out.push(ok);
  }
  return out;
}

/** Typed-array check across realms (the addon's arrays come from Node's main realm, not jest's). */
export function isTA(v: unknown, tag: string): v is { length: number; [i: number]: number } {
  return ArrayBuffer.isView(v) && (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === tag;
}

const close = (g: number, w: number, tol: number) => Math.abs(g - w) <= tol * (1 + Math.abs(w));

function checkLogitStats(args: Args, res: unknown): string | undefined {
  const l = args[0] as lw.Logits;
  const o = (args[1] ?? {}) as lw.LogitStatsOptions;
  const s = res as lw.LogitStatsResult;
  for (const k of ['logsumexp', 'entropy', 'varentropy', 'maxProb', 'argmax'] as const) {
    if (s[k].length !== l.rows) return `${k}.length ${s[k].length} != rows ${l.rows}`;
  }
  if (o.targets && (s.nll?.length !== l.rows || s.targetRank?.length !== l.rows)) return 'nll/targetRank length';
  for (const [k, a] of Object.entries(o.out ?? {})) if (s[k as keyof lw.LogitStatsOut] !== a) return `result.${k} is not opts.out.${k}`;
  const ref = refLogitStats(l.data as Float32Array | Uint16Array, l.dtype ?? 'float32', l.rows, l.vocab, o.targets, o.temperature ?? 1);
  const fin = finiteRows(l);
  for (let row = 0; row < l.rows; row++) {
    if (!fin[row]) continue;
    const bad = (what: string, g: number, w: number) => `row ${row} ${what}: got ${g}, want ${w}`;
    if (!close(s.logsumexp[row]!, ref.logsumexp[row]!, 1e-5)) return bad('logsumexp', s.logsumexp[row]!, ref.logsumexp[row]!);
    if (!close(s.entropy[row]!, ref.entropy[row]!, 1e-4)) return bad('entropy', s.entropy[row]!, ref.entropy[row]!);
    if (!close(s.varentropy[row]!, ref.varentropy[row]!, 1e-3)) return bad('varentropy', s.varentropy[row]!, ref.varentropy[row]!);
    if (!close(s.maxProb[row]!, ref.maxProb[row]!, 1e-5)) return bad('maxProb', s.maxProb[row]!, ref.maxProb[row]!);
    if (s.argmax[row] !== ref.argmax[row]) return bad('argmax', s.argmax[row]!, ref.argmax[row]!);
    if (o.targets) {
      if (!close(s.nll![row]!, ref.nll[row]!, 1e-4)) return bad('nll', s.nll![row]!, ref.nll[row]!);
      if ((o.temperature ?? 1) === 1 && s.targetRank![row] !== ref.targetRank[row]) return bad('targetRank', s.targetRank![row]!, ref.targetRank[row]!);
    }
  }
  return undefined;
}

function targetsFor(r: R, rows: number, vocab: number): Int32Array {
  return Int32Array.from({ length: rows }, () => int(r, 0, vocab - 1));
}

/** Argmax of a float32 row (lowest index on ties). */
function argmaxRow(z: Float32Array, row: number, vocab: number): number {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (z[row * vocab + v]! > z[row * vocab + best]!) best = v;
  return best;
}

/** Greedy verification walk in plain TS: follow the child carrying the argmax; emit it. */
export function greedyReference(
  t: TreeBatch,
  z: Float32Array,
  vocab: number,
  maxAccepted?: number | Int32Array,
): { length: number[]; tokens: number[][] } {
  const length: number[] = [];
  const tokens: number[][] = [];
  for (let b = 0; b + 1 < t.offsets.length; b++) {
    const o = t.offsets[b]!;
    const end = t.offsets[b + 1]!;
    let node = 0;
    const out: number[] = [];
    const cap = maxAccepted === undefined ? Infinity : typeof maxAccepted === 'number' ? maxAccepted : maxAccepted[b]!;
    for (;;) {
      const want = argmaxRow(z, o + node, vocab);
      let next = -1;
      // A placeholder (-1) never equals an argmax; a walk at its cap stops.
      for (let c = node + 1; c < end - o && out.length < cap; c++) if (t.parents[o + c] === node && t.tokens[o + c] === want) next = c;
      out.push(want);
      if (next < 0) break;
      node = next;
    }
    length.push(out.length - 1);
    tokens.push(out);
  }
  return { length, tokens };
}

function buildVerify(r: R): Args {
  const mode = pick(r, ['greedy', 'sample'] as const);
  const drafts = pick(r, ['deterministic', 'iid', 'without-replacement'] as const);
  const vocab = int(r, 2, 40);
  const batch = int(r, 1, 4);
  const trees = randomTrees(r, batch, int(r, 1, 8), vocab, mode === 'sample' && drafts === 'iid');
  const nodes = trees.tokens.length;
  const target = { data: randomLogits(r, nodes, vocab, 'float32'), rows: nodes, vocab };
  const opts: Record<string, unknown> = { mode, step: int(r, 0, 100) };
  if (mode === 'sample' || r() < 0.5) opts.seed = int(r, 0, 1e9); // greedy draws nothing: seed optional
  if (drafts !== 'deterministic' || r() < 0.3) opts.drafts = drafts;
  if (mode === 'sample' && drafts !== 'deterministic') opts.draft = { data: randomLogits(r, nodes, vocab, 'float32'), rows: nodes, vocab };
  if (r() < 0.5) opts.temperature = r() < 0.3 ? Float32Array.from({ length: batch }, () => r() * 2) : pick(r, [0, 0.5, 1, 2]);
  if (r() < 0.4) opts.topK = r() < 0.3 ? Int32Array.from({ length: batch }, () => int(r, 0, vocab)) : int(r, 0, vocab);
  if (r() < 0.4) opts.topP = r() < 0.3 ? Float32Array.from({ length: batch }, () => 0.05 + 0.95 * r()) : pick(r, [0.3, 0.9, 1]);
  if (r() < 0.2) opts.sync = true;
  return [trees, target, opts];
}

/** Valid logits processors (issue #8) for a batch: a mask per tree or per node, a bias, penalties. */
function randomProcessors(r: R, trees: TreeBatch, vocab: number): Record<string, unknown> {
  const batch = trees.offsets.length - 1, nodes = trees.tokens.length, W = Math.ceil(vocab / 32);
  const out: Record<string, unknown> = {};
  if (r() < 0.5) {
    const rows = r() < 0.5 ? batch : nodes;
    const m = new Uint32Array(rows * W).map(() => (r() * 2 ** 32) >>> 0);
    for (let row = 0; row < rows; row++) m[row * W] = m[row * W]! | 1; // token 0 always allowed
    out.allowedTokens = m;
  }
  const ragged = (max: number) => {
    const offsets = new Int32Array(batch + 1), ids: number[] = [];
    for (let b = 0; b < batch; b++) {
      const seen = new Set<number>();
      for (let i = int(r, 0, max); i > 0; i--) { const x = int(r, 0, vocab - 1); if (!seen.has(x)) { seen.add(x); ids.push(x); } }
      offsets[b + 1] = ids.length;
    }
    return { offsets, ids: Int32Array.from(ids) };
  };
  if (r() < 0.5) {
    const { offsets, ids } = ragged(4);
    out.logitBias = { offsets, ids, values: Float32Array.from(ids, () => 4 * r() - 2) };
  }
  if (r() < 0.5) {
    const { offsets, ids } = ragged(5);
    const pen: Record<string, unknown> = { history: { offsets, ids, counts: Int32Array.from(ids, () => int(r, 0, 3)) } };
    if (r() < 0.7) pen.repetition = r() < 0.5 ? 0.5 + r() : Float32Array.from({ length: batch }, () => 0.5 + r());
    if (r() < 0.7) pen.frequency = r() - 0.5;
    if (r() < 0.7) pen.presence = r() - 0.5;
    out.penalties = pen;
  }
  return out;
}

function buildVerifyProcessors(r: R): Args {
  const args = buildVerify(r);
  const trees = args[0] as TreeBatch, target = args[1] as { vocab: number };
  const opts = args[2] as Record<string, unknown>;
  Object.assign(opts, randomProcessors(r, trees, target.vocab));
  if (!('allowedTokens' in opts) && !('logitBias' in opts) && !('penalties' in opts)) opts.logitBias = { offsets: new Int32Array(trees.offsets.length), ids: new Int32Array(0), values: new Float32Array(0) };
  if (opts.mode === 'greedy') {
    opts.mode = 'sample'; // checkVerify's greedy reference knows no processors
    if (opts.seed === undefined) opts.seed = int(r, 0, 1e9);
    const nodes = trees.tokens.length;
    if (opts.drafts !== undefined && opts.drafts !== 'deterministic') opts.draft = { data: randomLogits(r, nodes, target.vocab, 'float32'), rows: nodes, vocab: target.vocab };
  }
  return args;
}

function checkVerify(args: Args, res: unknown): string | undefined {
  const t = args[0] as TreeBatch;
  const target = args[1] as { data: Float32Array; vocab: number };
  const opts = args[2] as lw.VerifyTreeOptions;
  const v = res as lw.VerifyTreeResult;
  const batch = t.offsets.length - 1;
  if (v.acceptedLength.length !== batch || v.tokenOffsets.length !== batch + 1) return 'result lengths';
  for (let b = 0; b < batch; b++) {
    const n = v.tokenOffsets[b + 1]! - v.tokenOffsets[b]!;
    if (n !== v.acceptedLength[b]! + 1) return `tree ${b}: ${n} tokens for acceptedLength ${v.acceptedLength[b]}`;
  }
  for (const tok of v.tokens) if (tok < 0 || tok >= target.vocab) return `token ${tok} out of range`;
  if (opts.mode === 'greedy') {
    const ref = greedyReference(t, target.data, target.vocab, opts.maxAccepted);
    for (let b = 0; b < batch; b++) {
      const got = Array.from(v.tokens.subarray(v.tokenOffsets[b]!, v.tokenOffsets[b + 1]!));
      if (got.join() !== ref.tokens[b]!.join()) return `greedy tree ${b}: got [${got}], want [${ref.tokens[b]}]`;
    }
  }
  return undefined;
}

function buildTreeUtils(r: R, eta: boolean): Args {
  const mode = pick(r, ['greedy', 'sample'] as const);
  const drafts = pick(r, ['deterministic', 'deterministic', 'iid', 'without-replacement'] as const);
  const vocab = int(r, 2, 30);
  const batch = int(r, 1, 3);
  const trees = randomTrees(r, batch, int(r, 1, 7), vocab, drafts === 'iid');
  const nodes = trees.tokens.length;
  const opts: Record<string, unknown> = { mode };
  if (drafts !== 'deterministic') {
    opts.drafts = drafts;
    opts.draft = { data: randomLogits(r, nodes, vocab, 'float32'), rows: nodes, vocab };
  }
  if (r() < 0.5) opts.temperature = pick(r, [0, 0.7, 1]);
  if (r() < 0.3) opts.topK = int(r, 0, vocab);
  if (r() < 0.3) opts.topP = pick(r, [0.5, 0.95]);
  if (eta) opts.eta = pick(r, [0.1, 1, 10]);
  return [trees, { data: randomLogits(r, nodes, vocab, 'float32'), rows: nodes, vocab }, opts];
}

function perTreeCheck(args: Args, res: unknown, perNode: boolean, bounded: boolean): string | undefined {
  const t = args[0] as TreeBatch;
  const a = res as Float64Array;
  const n = perNode ? t.tokens.length : t.offsets.length - 1;
  if (!isTA(a, 'Float64Array') || a.length !== n) return `expected a Float64Array of ${n}`;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) return `entry ${i} = ${a[i]}`;
    if (bounded) {
      const max = perNode ? 1 : t.offsets[i + 1]! - t.offsets[i]! - 1;
      if (a[i]! < -1e-9 || a[i]! > max + 1e-6) return `entry ${i} = ${a[i]} outside [0, ${max}]`;
    }
  }
  return undefined;
}

/** Uniform-size trees as SGLang's first-child / next-sibling arrays. */
function toLinked(r: R): Args {
  const n = int(r, 1, 6);
  const batch = int(r, 1, 3);
  const tokens: number[] = [];
  const firstChild: number[] = [];
  const nextSibling: number[] = [];
  for (let b = 0; b < batch; b++) {
    const parents = [-1];
    for (let i = 1; i < n; i++) parents.push(int(r, 0, i - 1));
    const fc = new Array<number>(n).fill(-1);
    const ns = new Array<number>(n).fill(-1);
    for (let i = n - 1; i >= 1; i--) {
      ns[i] = fc[parents[i]!]!;
      fc[parents[i]!] = i;
    }
    for (let i = 0; i < n; i++) tokens.push(i); // distinct tokens: no duplicate siblings
    firstChild.push(...fc);
    nextSibling.push(...ns);
  }
  return [{ tokens: Int32Array.from(tokens), firstChild: Int32Array.from(firstChild), nextSibling: Int32Array.from(nextSibling), nodesPerTree: n }, {}];
}

function toRetrieve(r: R): Args {
  const n = int(r, 1, 6);
  const batch = int(r, 1, 3);
  const tokens: number[] = [];
  const rows: number[][] = [];
  let paths = 1;
  const perTree: number[][][] = [];
  for (let b = 0; b < batch; b++) {
    const parents = [-1];
    for (let i = 1; i < n; i++) parents.push(int(r, 0, i - 1));
    const isParent = new Set(parents);
    const leaves = [...Array(n).keys()].filter((i) => !isParent.has(i));
    const ps = leaves.map((leaf) => {
      const p: number[] = [];
      for (let v = leaf; v >= 0; v = parents[v]!) p.unshift(v);
      return p;
    });
    paths = Math.max(paths, ps.length);
    perTree.push(ps);
    for (let i = 0; i < n; i++) tokens.push(i);
  }
  for (const ps of perTree) for (let k = 0; k < paths; k++) rows.push(ps[k] ?? []);
  const idx = new Int32Array(batch * paths * n).fill(-1);
  rows.forEach((p, k) => p.forEach((v, j) => (idx[k * n + j] = v)));
  return [{ tokens: Int32Array.from(tokens), retrieveIndices: idx, nodesPerTree: n, paths }, {}];
}

function probs(r: R, v: number, zeros = 0.3): Float64Array {
  const p = Float64Array.from({ length: v }, () => (r() < zeros ? 0 : r()));
  p[int(r, 0, v - 1)] += 0.1;
  let s = 0;
  for (const x of p) s += x;
  return p.map((x) => x / s);
}

function buildPlan(r: R): Args {
  const q = int(r, 1, 5);
  const total = q + int(r, 1, 60);
  const L = int(r, 1, 20);
  const opts: Record<string, unknown> = { questionTokens: q, segmentTokens: L };
  if (r() < 0.7) opts.overlapTokens = int(r, 0, L - 1);
  if (r() < 0.3) opts.padValue = int(r, -5, 5);
  if (r() < 0.3) opts.padSide = pick(r, ['left', 'right']);
  return [Int32Array.from({ length: total }, () => int(r, 0, 1000)), opts];
}

function checkPlan(args: Args, res: unknown): string | undefined {
  const tokens = args[0] as Int32Array;
  const p = res as lw.xl3m.Plan;
  if (p.batch.length !== p.segments.length * p.rowLength) return 'batch size';
  if (p.segments[p.segments.length - 1]!.end !== tokens.length - p.questionTokens) return 'last segment must end at the context end';
  for (let i = 0; i < p.segments.length; i++) {
    const s = p.segments[i]!;
    for (let j = 0; j < p.questionTokens; j++) {
      if (p.batch[i * p.rowLength + p.questionStart[i]! + j] !== tokens[tokens.length - p.questionTokens + j]) return `row ${i}: question misplaced`;
    }
    if (p.lengths[i] !== s.end - s.start + p.questionTokens) return `row ${i}: length`;
  }
  return undefined;
}

function buildScore(r: R, forceNll = false): Args {
  const S = int(r, 1, 5);
  const P = int(r, 1, 4);
  const vocab = int(r, 1, 40);
  const dtype = pick(r, DTYPES);
  const metric = forceNll ? 'nll' : pick(r, ['entropy', 'nll'] as const);
  const opts: Record<string, unknown> = { segments: S };
  if (!forceNll) opts.metric = metric;
  if (metric === 'nll' || r() < 0.2) opts.targets = targetsFor(r, S * P, vocab);
  if (!forceNll && r() < 0.6) opts.pooling = pick(r, ['mean', 'last', 'min']);
  if (r() < 0.3) opts.temperature = pick(r, [0.5, 1, 3]);
  return [hostLogits(r, S * P, vocab, dtype), opts];
}

function floats(r: R, n: number, f64 = false, nan = 0): Float32Array | Float64Array {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() < nan ? NaN : r() * 10;
  return a;
}

function scalingData(r: R, runs: number): { N: Float64Array; D: Float64Array; loss: Float64Array } {
  const N = new Float64Array(runs);
  const D = new Float64Array(runs);
  const loss = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    N[i] = 10 ** (7 + 3 * r());
    D[i] = 10 ** (9 + 3 * r());
    loss[i] = (1.7 + 400 / N[i]! ** 0.34 + 410 / D[i]! ** 0.28) * (1 + 0.01 * (r() - 0.5));
  }
  return { N, D, loss };
}

/** Exact isoFLOP parabolas with vertices at N_opt = 0.01·C^0.5 (2-4 budgets of 3-5 runs). */
function isoflopData(r: R): { N: number[]; loss: Float64Array; budget: number[] } {
  const N: number[] = [];
  const loss: number[] = [];
  const budget: number[] = [];
  for (let j = 0, B = int(r, 2, 4); j < B; j++) {
    const C = 10 ** (18 + j);
    const x0 = Math.log(0.01 * Math.sqrt(C));
    for (let t = 0, m = int(r, 3, 5); t < m; t++) {
      const x = x0 - 1 + (2.5 * t) / (m - 1);
      N.push(Math.exp(x));
      loss.push(2 + 0.1 * (x - x0) ** 2);
      budget.push(C);
    }
  }
  return { N, loss: Float64Array.from(loss), budget };
}

const CHIN = { A: 406.4, B: 410.7, E: 1.69, alpha: 0.34, beta: 0.28 };

function finiteNumber(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? undefined : `expected a finite number, got ${String(v)}`;
}

function isIndexArray(v: unknown, bound: number): string | undefined {
  if (!isTA(v, 'Int32Array')) return 'expected an Int32Array';
  for (let i = 0; i < v.length; i++) {
    if (v[i]! < 0 || v[i]! >= bound) return `index ${v[i]} outside [0, ${bound})`;
    if (i > 0 && v[i]! <= v[i - 1]!) return 'indices not ascending';
  }
  return undefined;
}

/** Padded slot buffers: each request's tree in its first slots, the rest -1 links and placeholder tokens. */
function toPaddedLinked(r: R): Args {
  const [input] = toLinked(r) as [{ tokens: Int32Array; firstChild: Int32Array; nextSibling: Int32Array; nodesPerTree: number }];
  const n = input.nodesPerTree, N = n + int(r, 0, 3), batch = input.tokens.length / n;
  const pad = (a: Int32Array) => {
    const out = new Int32Array(batch * N).fill(-1);
    for (let b = 0; b < batch; b++) out.set(a.subarray(b * n, b * n + n), b * N);
    return out;
  };
  return [{ tokens: pad(input.tokens), firstChild: pad(input.firstChild), nextSibling: pad(input.nextSibling), nodesPerTree: N }, { padded: true }];
}

function toPaddedParents(r: R): Args {
  const N = int(r, 1, 7), batch = int(r, 1, 3);
  const tokens = new Int32Array(batch * N), parents = new Int32Array(batch * N).fill(-1);
  for (let g = 0; g < batch * N; g++) {
    tokens[g] = g % N;
    const s = g % N;
    if (s > 0 && r() < 0.7) parents[g] = int(r, 0, N - 1) === s ? 0 : int(r, 0, N - 1);
    if (parents[g] === s) parents[g] = 0;
  }
  return [{ tokens, parents, nodesPerTree: N }, {}];
}

function toPaddedChains(r: R): Args {
  const maxDrafts = int(r, 0, 5), batch = int(r, 1, 4);
  const drafts = Int32Array.from({ length: batch * maxDrafts }, () => (r() < 0.2 ? -1 : int(r, 0, 30)));
  const input: Record<string, unknown> = { drafts, maxDrafts };
  if (maxDrafts === 0 || r() < 0.5) input.numDrafts = Int32Array.from({ length: batch }, () => int(r, 0, maxDrafts));
  return [input, {}];
}

function checkPadded(args: Args, res: unknown): string | undefined {
  const { trees, slots } = res as lw.tree.PaddedTrees;
  lw.tree.validateTreeBatch(trees, { allowDuplicateSiblings: true });
  if (slots.slotOfNode.length !== trees.tokens.length) return 'slot map length';
  for (let i = 0; i < slots.slotOfNode.length; i++) if (slots.nodeOfSlot[slots.slotOfNode[i]!] !== i) return 'slot map not inverse';
  return args.length > 0 ? undefined : 'no args';
}

function buildVerifyPerRequest(r: R): Args {
  const a = buildVerify(r);
  const batch = (a[0] as TreeBatch).offsets.length - 1;
  const opts = a[2] as Record<string, unknown>;
  opts.seed = BigUint64Array.from({ length: batch }, () => BigInt(int(r, 0, 1e9)) << BigInt(int(r, 0, 30)));
  if (r() < 0.5) opts.step = Uint32Array.from({ length: batch }, () => int(r, 0, 1e6));
  // Serving extras: caps on accepted drafts (one or per request) and placeholder drafts.
  if (r() < 0.4) opts.maxAccepted = r() < 0.5 ? int(r, 0, 3) : Int32Array.from({ length: batch }, () => int(r, 0, 4));
  const t = a[0] as TreeBatch;
  if (r() < 0.4) for (let b = 0; b < batch; b++) for (let g = t.offsets[b]! + 1; g < t.offsets[b + 1]!; g++) if (r() < 0.2) t.tokens[g] = -1;
  for (let b = 0; b < batch; b++) if (opts.maxAccepted instanceof Int32Array && r() < 0.3) opts.maxAccepted[b] = 0x7fffffff;
  return a;
}

export const TARGETS: Target[] = [
  {
    name: 'backendInfo',
    names: [],
    build: () => [],
    call: () => lw.backendInfo(),
    check: (_a, res) => {
      const i = res as lw.BackendInfo;
      return i.threads >= 1 && (i.backend === 'cpu' || i.backend === 'cuda') ? undefined : 'bad info';
    },
  },
  {
    name: 'logitStats',
    names: ['logits', 'opts', 'targets', 'temperature', 'backend', 'signal', 'sync', 'out', 'rows', 'vocab', 'dtype', 'data',
      'logsumexp', 'entropy', 'varentropy', 'maxProb', 'argmax', 'nll', 'targetRank'],
    build: (r) => {
      const rows = int(r, 0, 6);
      const vocab = int(r, 1, 48);
      const l = hostLogits(r, rows, vocab, pick(r, DTYPES), true);
      const opts: Record<string, unknown> = {};
      if (r() < 0.5) opts.targets = targetsFor(r, rows, vocab);
      if (r() < 0.3) opts.temperature = pick(r, [0.25, 1, 2.5]);
      if (r() < 0.2) opts.backend = 'cpu';
      if (r() < 0.2) opts.sync = true;
      if (r() < 0.3) {
        // caller-provided result columns: a random subset (nll / targetRank only with targets)
        const out: Record<string, unknown> = {};
        for (const k of ['logsumexp', 'entropy', 'varentropy', 'maxProb'] as const) if (r() < 0.5) out[k] = new Float32Array(rows);
        if (r() < 0.5) out.argmax = new Int32Array(rows);
        if (opts.targets && r() < 0.5) out.nll = new Float32Array(rows);
        if (opts.targets && r() < 0.5) out.targetRank = new Int32Array(rows);
        opts.out = out;
      }
      return [l, opts];
    },
    call: (a) => lw.logitStats(a[0] as lw.Logits, a[1] as lw.LogitStatsOptions),
    check: checkLogitStats,
    extraKeys: { 1: ['targets', 'temperature', 'backend', 'signal', 'sync', 'out'] },
  },
  {
    name: 'verifyTree',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'seed', 'step', 'maxAccepted', 'backend', 'signal', 'sync', 'tokens', 'parents', 'offsets', 'vocab', 'rows'],
    build: buildVerify,
    call: (a) => lw.verifyTree(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.VerifyTreeOptions),
    check: checkVerify,
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'step', 'maxAccepted', 'backend', 'signal', 'sync'] },
  },
  {
    name: 'tree.validateTreeBatch',
    names: ['trees', 'opts', 'vocab', 'allowDuplicateSiblings', 'name', 'tokens', 'parents', 'offsets'],
    build: (r) => {
      const dup = r() < 0.3;
      const vocab = int(r, 1, 20);
      return [randomTrees(r, int(r, 1, 4), int(r, 1, 8), vocab, dup), { vocab, allowDuplicateSiblings: dup }];
    },
    call: (a) => lw.tree.validateTreeBatch(a[0], a[1] as lw.tree.ValidateTreeOptions),
    extraKeys: { 1: ['name'] },
  },
  {
    name: 'tree.treeCount',
    names: ['trees', 'offsets'],
    build: (r) => [randomTrees(r, int(r, 1, 4), 4, 8)],
    call: (a) => lw.tree.treeCount(a[0] as TreeBatch),
    check: (a, res) => (res === (a[0] as TreeBatch).offsets.length - 1 ? undefined : 'wrong count'),
  },
  {
    name: 'tree.fromFirstChildNextSibling',
    names: ['input', 'opts', 'tokens', 'firstChild', 'nextSibling', 'nodesPerTree', 'vocab', 'allowDuplicateSiblings', 'trees'],
    build: toLinked,
    call: (a) => lw.tree.fromFirstChildNextSibling(a[0] as lw.tree.FirstChildNextSiblingInput, a[1] as lw.tree.ImportOptions),
    check: (a, res) => {
      const t = res as TreeBatch;
      lw.tree.validateTreeBatch(t, { allowDuplicateSiblings: false });
      return t.tokens.length === (a[0] as { tokens: Int32Array }).tokens.length ? undefined : 'node count';
    },
    extraKeys: { 1: ['vocab', 'allowDuplicateSiblings'] },
  },
  {
    name: 'tree.fromRetrieveIndices',
    names: ['input', 'opts', 'tokens', 'retrieveIndices', 'nodesPerTree', 'paths', 'vocab', 'allowDuplicateSiblings', 'trees'],
    build: toRetrieve,
    call: (a) => lw.tree.fromRetrieveIndices(a[0] as lw.tree.RetrieveIndicesInput, a[1] as lw.tree.ImportOptions),
    check: (_a, res) => {
      lw.tree.validateTreeBatch(res, { allowDuplicateSiblings: false });
      return undefined;
    },
    extraKeys: { 1: ['vocab', 'allowDuplicateSiblings'] },
  },
  {
    name: 'tree.attentionMask',
    names: ['trees', 'opts', 'packed', 'layout', 'tokens', 'parents', 'offsets'],
    build: (r) => {
      const opts: Record<string, unknown> = {};
      if (r() < 0.5) opts.packed = r() < 0.5;
      if (r() < 0.5) opts.layout = pick(r, ['ragged', 'padded']);
      return [randomTrees(r, int(r, 1, 4), int(r, 1, 40), 50, true), opts];
    },
    call: (a) => lw.tree.attentionMask(a[0] as TreeBatch, a[1] as lw.tree.AttentionMaskOptions),
    check: (a, res) => {
      const t = a[0] as TreeBatch;
      const m = res as lw.tree.TreeAttentionMask<Uint8Array | Uint32Array>;
      if (m.positions.length !== t.tokens.length) return 'positions length';
      if (m.offsets.length !== t.offsets.length) return 'offsets length';
      return undefined;
    },
  },
  {
    name: 'tree.expectedAcceptance',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows'],
    build: (r) => buildTreeUtils(r, false),
    call: (a) => lw.tree.expectedAcceptance(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.tree.ExpectedAcceptanceOptions),
    check: (a, res) => perTreeCheck(a, res, false, true),
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal'] },
  },
  {
    name: 'tree.nodeProbabilities',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows'],
    build: (r) => buildTreeUtils(r, false),
    call: (a) => lw.tree.nodeProbabilities(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.tree.ExpectedAcceptanceOptions),
    check: (a, res) => perTreeCheck(a, res, true, true),
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal'] },
  },
  {
    name: 'tree.gtoReward',
    names: ['trees', 'target', 'opts', 'eta', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows'],
    build: (r) => buildTreeUtils(r, true),
    call: (a) => lw.tree.gtoReward(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.tree.GtoRewardOptions),
    check: (a, res) => perTreeCheck(a, res, false, false),
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal'] },
  },
  {
    name: 'specdec.stopIndex',
    names: ['acceptProbs', 'threshold'],
    build: (r) => [r() < 0.5 ? Array.from({ length: int(r, 0, 8) }, () => r()) : Float64Array.from({ length: int(r, 0, 8) }, () => r()), r()],
    call: (a) => lw.specdec.stopIndex(a[0] as number[], a[1] as number),
    check: (a, res) => {
      const h = a[0] as ArrayLike<number>;
      let keep = 1;
      let want = -1;
      for (let i = 0; i < h.length && want < 0; i++) if (1 - (keep *= h[i]!) > (a[1] as number)) want = i;
      return res === want ? undefined : `got ${String(res)}, want ${want}`;
    },
  },
  {
    name: 'multidraft.optimalAcceptance',
    names: ['p', 'q', 'n', 'opts', 'replacement', 'signal'],
    build: (r) => {
      const v = int(r, 1, 12);
      return [probs(r, v, 0), probs(r, v), int(r, 1, 4), { replacement: r() < 0.5 }];
    },
    call: (a) => lw.multidraft.optimalAcceptance(a[0] as Float64Array, a[1] as Float64Array, a[2] as number, a[3] as lw.multidraft.OptimalAcceptanceOptions),
    check: (a, res) => {
      const x = res as number;
      if (!(x >= -1e-12 && x <= 1 + 1e-12)) return `alpha* = ${x} outside [0, 1]`;
      if (a[2] === 1) {
        const p = a[0] as Float64Array;
        const q = a[1] as Float64Array;
        let tv = 0;
        for (let i = 0; i < p.length; i++) tv += Math.abs(p[i]! - q[i]!) / 2;
        if (Math.abs(x - (1 - tv)) > 1e-9) return `n = 1: got ${x}, want 1 - TV = ${1 - tv}`;
      }
      return undefined;
    },
    extraKeys: { 3: ['signal'] },
  },
  {
    name: 'multidraft.optimalAcceptanceBounds',
    names: ['p', 'q', 'n', 'opts', 'signal'],
    build: (r) => {
      const v = int(r, 1, 30);
      return [probs(r, v, 0), probs(r, v, 0.1), int(r, 1, 3), {}];
    },
    call: (a) => lw.multidraft.optimalAcceptanceBounds(a[0] as Float64Array, a[1] as Float64Array, a[2] as number, a[3] as { signal?: AbortSignal }),
    check: (_a, res) => {
      const b = res as lw.multidraft.AcceptanceBounds;
      return b.lower <= b.upper + 1e-12 && b.lower >= -1e-12 && b.upper <= 1 + 1e-12 ? undefined : `bounds ${b.lower}..${b.upper}`;
    },
    extraKeys: { 3: ['signal'] },
  },
  {
    name: 'xl3m.plan',
    names: ['tokens', 'opts', 'questionTokens', 'segmentTokens', 'overlapTokens', 'padValue', 'padSide', 'batch'],
    build: buildPlan,
    call: (a) => lw.xl3m.plan(a[0] as Int32Array, a[1] as lw.xl3m.PlanOptions),
    check: checkPlan,
  },
  {
    name: 'xl3m.gatherQuestionLogits',
    names: ['output', 'plan', 'opts', 'rowsPerSegment', 'offset', 'questionStart', 'questionTokens', 'rowLength', 'segments', 'rows', 'vocab', 'dtype', 'data'],
    build: (r) => {
      const p = lw.xl3m.plan(...(buildPlan(r) as [Int32Array, lw.xl3m.PlanOptions]));
      const S = p.segments.length;
      const offset = r() < 0.3 ? int(r, 0, 2) : 0;
      const R = p.rowLength + offset;
      const opts: Record<string, unknown> = {};
      if (offset || r() < 0.2) Object.assign(opts, { rowsPerSegment: R, offset });
      return [hostLogits(r, S * R, int(r, 1, 12), pick(r, DTYPES)), p, opts];
    },
    call: (a) => lw.xl3m.gatherQuestionLogits(a[0] as lw.Logits, a[1] as lw.xl3m.Plan, a[2] as lw.xl3m.GatherQuestionOptions),
    check: (a, res) => {
      const g = res as lw.Logits;
      const p = a[1] as lw.xl3m.Plan;
      return g.rows === p.segments.length * p.questionTokens && g.vocab === (a[0] as lw.Logits).vocab ? undefined : 'shape';
    },
    extraKeys: { 2: ['rowsPerSegment', 'offset'] },
  },
  {
    name: 'toBfloat16',
    names: ['values'],
    build: (r) => [Float32Array.from({ length: int(r, 0, 20) }, () => pick(r, [0, -0, 1e-40, 3.4e38, NaN, Infinity, (r() - 0.5) * 1e4]))],
    call: (a) => lw.toBfloat16(a[0] as Float32Array),
    check: (a, res) => ((res as Uint16Array).length === (a[0] as Float32Array).length ? undefined : 'length'),
  },
  {
    name: 'fromBfloat16',
    names: ['bits'],
    build: (r) => [Uint16Array.from({ length: int(r, 0, 20) }, () => int(r, 0, 0xffff))],
    call: (a) => lw.fromBfloat16(a[0] as Uint16Array),
    check: (a, res) => ((res as Float32Array).length === (a[0] as Uint16Array).length ? undefined : 'length'),
  },
  {
    name: 'toFloat16',
    names: ['values'],
    build: (r) => [Float32Array.from({ length: int(r, 0, 20) }, () => pick(r, [0, -0, 2 ** -25, 65520, NaN, -Infinity, (r() - 0.5) * 1e3]))],
    call: (a) => lw.toFloat16(a[0] as Float32Array),
    check: (a, res) => ((res as Uint16Array).length === (a[0] as Float32Array).length ? undefined : 'length'),
  },
  {
    name: 'fromFloat16',
    names: ['bits'],
    build: (r) => [Uint16Array.from({ length: int(r, 0, 20) }, () => int(r, 0, 0xffff))],
    call: (a) => lw.fromFloat16(a[0] as Uint16Array),
    check: (a, res) => ((res as Float32Array).length === (a[0] as Uint16Array).length ? undefined : 'length'),
  },
  {
    name: 'xl3m.segmentBounds',
    names: ['contextLength', 'segmentTokens', 'overlapTokens'],
    build: (r) => {
      const L = int(r, 1, 20);
      return [int(r, 0, 100), L, int(r, 0, L - 1)];
    },
    call: (a) => lw.xl3m.segmentBounds(a[0] as number, a[1] as number, a[2] as number),
    check: (a, res) => {
      const s = res as lw.xl3m.Segment[];
      const C = a[0] as number;
      return s.length >= 1 && s[s.length - 1]!.end === C ? undefined : 'last segment must end at the context end';
    },
  },
  {
    name: 'xl3m.score',
    names: ['logits', 'opts', 'segments', 'metric', 'targets', 'pooling', 'temperature', 'backend', 'devices', 'signal', 'rows', 'vocab', 'dtype', 'data'],
    build: (r) => buildScore(r),
    call: (a) => lw.xl3m.score(a[0] as lw.Logits, a[1] as lw.xl3m.ScoreOptions),
    check: (a, res) => {
      const s = res as Float32Array;
      const S = (a[1] as { segments: number }).segments;
      if (!isTA(s, 'Float32Array') || s.length !== S) return `expected ${S} scores`;
      return undefined;
    },
    extraKeys: { 1: ['metric', 'targets', 'pooling', 'temperature', 'backend', 'devices', 'signal'] },
  },
  {
    name: 'xl3m.coarseScore',
    names: ['logits', 'opts', 'segments', 'targets', 'temperature', 'backend', 'signal', 'rows', 'vocab', 'dtype', 'data'],
    build: (r) => buildScore(r, true),
    call: (a) => lw.xl3m.coarseScore(a[0] as lw.Logits, a[1] as { segments: number; targets: Int32Array }),
    check: (a, res) => ((res as Float32Array).length === (a[1] as { segments: number }).segments ? undefined : 'length'),
  },
  {
    name: 'xl3m.createScorer+push+finish',
    names: ['opts', 'segments', 'positionsPerSegment', 'metric', 'pooling', 'temperature', 'backend', 'devices', 'chunk', 'targets', 'signal', 'rows', 'vocab', 'dtype', 'data'],
    build: (r) => {
      const [l, o] = buildScore(r) as [lw.Logits, Record<string, unknown>];
      const S = o.segments as number;
      const sopts: Record<string, unknown> = { segments: S, positionsPerSegment: l.rows / S };
      for (const k of ['metric', 'pooling', 'temperature']) if (o[k] !== undefined) sopts[k] = o[k];
      const t = (o.targets as Int32Array | undefined) ?? (o.metric === 'nll' ? targetsFor(r, l.rows, l.vocab) : undefined);
      return [sopts, l, t, {}];
    },
    call: async (a) => {
      const s = lw.xl3m.createScorer(a[0] as lw.xl3m.ScorerOptions);
      await s.push(a[1] as lw.Logits, a[2] as Int32Array | undefined, a[3] as { signal?: AbortSignal });
      return s.rowsPushed === s.rowsExpected ? s.finish() : s.rowsPushed;
    },
    check: (a, res) => ((res as Float32Array).length === (a[0] as { segments: number }).segments ? undefined : 'length'),
    extraKeys: { 0: ['metric', 'pooling', 'temperature', 'backend', 'devices'], 3: ['signal'] },
  },
  {
    name: 'xl3m.select',
    names: ['scores', 'plan', 'opts', 'topK', 'tokenBudget', 'segments'],
    build: (r) => {
      const p = lw.xl3m.plan(...(buildPlan(r) as [Int32Array, lw.xl3m.PlanOptions]));
      const opts: Record<string, unknown> = {};
      if (r() < 0.7) opts.topK = int(r, 0, p.segments.length + 2);
      if (r() < 0.5 || opts.topK === undefined) opts.tokenBudget = int(r, 0, 80);
      return [floats(r, p.segments.length, false, 0.1), p, opts];
    },
    call: (a) => lw.xl3m.select(a[0] as Float32Array, a[1] as lw.xl3m.Plan, a[2] as lw.xl3m.SelectOptions),
    check: (a, res) => isIndexArray(res, (a[1] as lw.xl3m.Plan).segments.length),
  },
  {
    name: 'xl3m.rankSegments',
    names: ['scores'],
    build: (r) => [floats(r, int(r, 0, 20), false, 0.1)],
    call: (a) => lw.xl3m.rankSegments(a[0] as Float32Array),
    check: (a, res) => ((res as Int32Array).length === (a[0] as Float32Array).length ? undefined : 'length'),
  },
  {
    name: 'xl3m.keyContext',
    names: ['tokens', 'plan', 'selected', 'opts', 'separator', 'segments', 'question', 'contextLength'],
    build: (r) => {
      const [tokens, po] = buildPlan(r) as [Int32Array, lw.xl3m.PlanOptions];
      const p = lw.xl3m.plan(tokens, po);
      const sel = [...Array(p.segments.length).keys()].filter(() => r() < 0.5);
      const opts = r() < 0.3 ? { separator: Int32Array.of(-1, -2) } : {};
      return [tokens, p, Int32Array.from(sel), opts];
    },
    call: (a) => lw.xl3m.keyContext(a[0] as Int32Array, a[1] as lw.xl3m.Plan, a[2] as Int32Array, a[3] as lw.xl3m.KeyContextOptions),
    check: (a, res) => {
      const k = res as Int32Array;
      const q = (a[1] as lw.xl3m.Plan).question;
      return k.length >= q.length && k.subarray(k.length - q.length).join() === q.join() ? undefined : 'must end with the question';
    },
  },
  {
    name: 'xl3m.sirllmScores',
    names: ['nll', 'opts', 'decay', 'rounds'],
    build: (r) => {
      const n = int(r, 0, 12);
      const opts: Record<string, unknown> = {};
      if (r() < 0.5) opts.decay = r();
      if (r() < 0.5) opts.rounds = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 3));
      return [floats(r, n, r() < 0.5), opts];
    },
    call: (a) => lw.xl3m.sirllmScores(a[0] as Float32Array, a[1] as { decay?: number; rounds?: Int32Array }),
    check: (a, res) => ((res as Float32Array).length === (a[0] as Float32Array).length ? undefined : 'length'),
  },
  {
    name: 'xl3m.topTokens',
    names: ['scores', 'k'],
    build: (r) => {
      const n = int(r, 0, 20);
      return [floats(r, n, r() < 0.5, 0.1), int(r, 0, n + 2)];
    },
    call: (a) => lw.xl3m.topTokens(a[0] as Float32Array, a[1] as number),
    check: (a, res) => isIndexArray(res, (a[0] as Float32Array).length),
  },
  {
    name: 'xl3m.detectionStatistic',
    names: ['stats', 'opts', 'nll', 'entropy', 'varentropy', 'offsets'],
    build: (r) => {
      const n = int(r, 1, 12);
      const stats: Record<string, unknown> = { nll: floats(r, n), entropy: floats(r, n) };
      if (r() < 0.5) stats.varentropy = floats(r, n);
      const cuts = [0, ...[...Array(n - 1).keys()].map((i) => i + 1).filter(() => r() < 0.3), n];
      return [stats, r() < 0.5 ? { offsets: Int32Array.from(cuts) } : {}];
    },
    call: (a) => lw.xl3m.detectionStatistic(a[0] as { nll: Float32Array; entropy: Float32Array }, a[1] as { offsets?: Int32Array }),
    check: (a, res) => {
      const o = (a[1] as { offsets?: Int32Array }).offsets;
      const want = o ? o.length - 1 : 1;
      return (res as { statistic: Float64Array }).statistic.length === want ? undefined : 'statistic length';
    },
  },
  {
    name: 'xl3m.llmlinguaKeepMask',
    names: ['nll', 'opts', 'window', 'keepRatio'],
    build: (r) => [floats(r, int(r, 0, 30), r() < 0.5, 0.05), { window: int(r, 1, 8), keepRatio: r() }],
    call: (a) => lw.xl3m.llmlinguaKeepMask(a[0] as Float32Array, a[1] as { window: number; keepRatio: number }),
    check: (a, res) => ((res as Uint8Array).length === (a[0] as Float32Array).length ? undefined : 'length'),
  },
  {
    name: 'scaling.fit',
    names: ['data', 'opts', 'N', 'D', 'loss', 'U', 'law', 'objective', 'bootstrapObjective', 'fix', 'tie', 'bounds', 'weights', 'expression', 'params', 'delta', 'grid', 'bootstrap', 'resamples', 'seed', 'gridPerResample', 'compute', 'level', 'maxIterations', 'optimumRelTol', 'onProgress', 'backend', 'signal', 'devices', 'runs'],
    build: (r) => {
      const kind = pick(r, ['chinchilla', 'kaplan-nd', 'data-constrained', 'custom'] as const);
      const objective = pick(r, ['huber', 'mse', 'huber-likelihood'] as const);
      const opts: Record<string, unknown> = { objective, maxIterations: 60 };
      const data: Record<string, Float64Array> = scalingData(r, int(r, 8, 20));
      if (kind === 'custom') {
        opts.law = { expression: 'E + A / N^alpha + B / D^beta', params: ['E', 'A', 'B', 'alpha', 'beta'] };
        opts.grid = { E: [1.5], A: [300, 500], B: [400], alpha: [0.3], beta: [0.3] };
        opts.bounds = { E: [0, Infinity], A: [0, Infinity], B: [0, Infinity] };
      } else {
        opts.law = kind;
        if (kind === 'kaplan-nd') opts.grid = { nc: [30], dc: [22], alphaN: [0.1, 0.07], alphaD: [0.1] };
        else if (kind === 'chinchilla') {
          if (r() < 0.3) {
            opts.tie = [['alpha', 'beta']];
            opts.grid = { a: [4, 6], b: [5], e: [0.5], alpha: [0.3] };
          } else opts.grid = { a: [4, 6], b: [5], e: [0.5], alpha: [0.3], beta: [0.3] };
          if (r() < 0.3) opts.bounds = { alpha: [0.1, 0.6] };
        } else {
          data.U = Float64Array.from(data.D!, (d) => d / (1 + 20 * r()));
          opts.fix = { A: 520, B: 1490, E: 1.87, alpha: 0.35, beta: 0.35 };
          opts.grid = { rdStar: [10], rnStar: [5] };
        }
      }
      if (r() < 0.3) opts.weights = Float64Array.from(data.N!, () => 0.5 + r());
      if (r() < 0.3) opts.bootstrap = { resamples: int(r, 0, 3), seed: int(r, 0, 100) };
      if (r() < 0.2) opts.bootstrapObjective = pick(r, ['huber', 'huber-likelihood'] as const);
      if (r() < 0.2) opts.delta = 1e-2;
      if (r() < 0.2) opts.devices = 'all';
      return [data, opts];
    },
    call: (a) => lw.scaling.fit(a[0] as lw.scaling.ScalingData, a[1] as lw.scaling.FitOptions),
    check: (a, res) => {
      const f = res as lw.scaling.FitResult;
      if ((f as { runs: number }).runs !== (a[0] as { N: Float64Array }).N.length) return 'runs';
      if (!Array.isArray(f.warnings)) return 'warnings';
      return Number.isFinite(f.objective) ? undefined : `objective ${f.objective}`;
    },
    extraKeys: { 1: ['delta', 'bootstrap', 'bootstrapObjective', 'fix', 'tie', 'bounds', 'weights', 'optimumRelTol', 'onProgress', 'backend', 'signal', 'devices'] },
  },
  {
    name: 'scaling.predict',
    names: ['params', 'N', 'D', 'A', 'B', 'E', 'alpha', 'beta', 'Nc', 'Dc', 'alphaN', 'alphaD'],
    build: (r) => {
      const params = r() < 0.5 ? { ...CHIN } : { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
      if (r() < 0.5) return [params, 10 ** (6 + 6 * r()), 10 ** (8 + 6 * r())];
      const n = int(r, 0, 5);
      return [params, Array.from({ length: n }, () => 1e9 * (1 + r())), Float64Array.from({ length: n }, () => 1e11 * (1 + r()))];
    },
    call: (a) => lw.scaling.predict(a[0] as lw.scaling.ChinchillaParams, a[1] as number, a[2] as number),
    check: (a, res) => {
      if (typeof a[1] !== 'number') return (res as Float64Array).length === (a[1] as number[]).length ? undefined : 'length';
      const p = a[0] as Record<string, number>;
      if ('A' in p) {
        const want = p.E! + p.A! / (a[1] as number) ** p.alpha! + p.B! / (a[2] as number) ** p.beta!;
        return Math.abs((res as number) - want) <= 1e-9 * want ? undefined : `got ${String(res)}, want ${want}`;
      }
      return finiteNumber(res);
    },
  },
  {
    name: 'scaling.lossNS',
    names: ['params', 'N', 'steps', 'Nc', 'Sc', 'alphaN', 'alphaS'],
    build: (r) => [{ Nc: 8.8e13, Sc: 2.1e3, alphaN: 0.076, alphaS: 0.76 }, 1e8 * (1 + r()), 1e4 * (1 + r())],
    call: (a) => lw.scaling.lossNS(a[0] as lw.scaling.KaplanStepsParams, a[1] as number, a[2] as number),
    check: (_a, res) => finiteNumber(res),
  },
  {
    name: 'scaling.computeOptimal',
    names: ['params', 'C', 'A', 'B', 'E', 'alpha', 'beta', 'opts', 'compute', 'kind', 'flopsPerToken'],
    build: (r) => (r() < 0.5 ? [{ ...CHIN }, 10 ** (18 + 6 * r())] : [{ ...CHIN }, 10 ** (18 + 6 * r()), { compute: pick(r, ['6ND', { kind: '6ND' }] as const) }]),
    call: (a) => lw.scaling.computeOptimal(a[0] as lw.scaling.ChinchillaParams, a[1] as number, a[2] as { compute?: lw.scaling.ComputeModel }),
    check: (a, res) => {
      const o = res as lw.scaling.ComputeOptimalResult;
      const c = 6 * o.N * o.D;
      return Math.abs(c - (a[1] as number)) <= 1e-6 * c ? undefined : `6ND = ${c} != C`;
    },
  },
  {
    name: 'scaling.criticalBatchSize',
    names: ['loss', 'opts', 'bStar', 'alphaB'],
    build: (r) => [1 + 3 * r(), r() < 0.5 ? {} : { bStar: 2e8, alphaB: 0.21 }],
    call: (a) => lw.scaling.criticalBatchSize(a[0] as number, a[1] as { bStar?: number }),
    check: (_a, res) => finiteNumber(res),
  },
  {
    name: 'scaling.minSteps',
    names: ['steps', 'batchSize', 'criticalBatchSize'],
    build: (r) => [1e4 * (1 + r()), 1e5 * (1 + r()), 1e6 * (1 + r())],
    call: (a) => lw.scaling.minSteps(a[0] as number, a[1] as number, a[2] as number),
    check: (a, res) => ((res as number) > 0 && (res as number) <= (a[0] as number) ? undefined : `S_min = ${String(res)}`),
  },
  {
    name: 'scaling.minExamples',
    names: ['examples', 'batchSize', 'criticalBatchSize'],
    build: (r) => [1e9 * (1 + r()), 1e5 * (1 + r()), 1e6 * (1 + r())],
    call: (a) => lw.scaling.minExamples(a[0] as number, a[1] as number, a[2] as number),
    check: (a, res) => ((res as number) > 0 && (res as number) <= (a[0] as number) ? undefined : `E_min = ${String(res)}`),
  },
  {
    name: 'scaling.chinchillaRuns',
    names: ['opts', 'dropHighest'],
    build: (r) => [r() < 0.5 ? {} : { dropHighest: int(r, 0, 10) }],
    call: (a) => lw.scaling.chinchillaRuns(a[0] as { dropHighest?: number }),
    check: (_a, res) => ((res as { N: Float64Array }).N.length > 100 ? undefined : 'too few runs'),
  },
  {
    name: 'scaling.datablationsRuns',
    names: [],
    build: () => [],
    call: () => lw.scaling.datablationsRuns(),
    check: (_a, res) => ((res as { U: Float64Array }).U.length === 182 ? undefined : 'runs'),
  },
  {
    name: 'scaling.parseCsv',
    names: ['text', 'opts', 'delimiter', 'skipMalformed'],
    build: (r) => [
      pick(r, ['a,b\n1,2\n', 'x\n"q,""w"\n', '', 'n,d,l\r\n1,2,3', 'n;d\n"1,000";2M\n,\n', 'a\tb\n1\t2\n']),
      r() < 0.5 ? {} : { delimiter: pick(r, [',', ';', '\t', 'auto'] as const), skipMalformed: r() < 0.5 },
    ],
    call: (a) => lw.scaling.parseCsv(a[0] as string, a[1] as import('../../../lib/scaling').ParseCsvOptions),
    check: (a, res) => (Array.isArray((res as { header: unknown }).header) ? undefined : `no header for ${JSON.stringify(a[0])}`),
  },
  {
    name: 'scaling.isoflopApproach',
    names: ['data', 'opts', 'N', 'loss', 'budget', 'compute', 'kind', 'nLayer', 'nCtx', 'dAttn', 'flopsPerToken', 'minRuns', 'interiorOnly', 'at', 'resample', 'scheme', 'resamples', 'seed', 'level', 'size', 'fraction', 'groups', 'sets', 'budgets'],
    build: (r) => {
      const d = isoflopData(r);
      const opts: Record<string, unknown> = {};
      if (r() < 0.3) opts.compute = pick(r, ['6ND', { kind: 'kaplan', nLayer: 2, nCtx: 16, dAttn: 8 }] as const);
      if (r() < 0.3) opts.resample = pick(r, [{ scheme: 'bootstrap', resamples: int(r, 1, 4), seed: int(r, 0, 99) }, { scheme: 'subsample', resamples: 2, seed: 1, fraction: 0.7 }] as const);
      if (r() < 0.2) opts.minRuns = 3;
      if (r() < 0.2) opts.at = 1e22;
      if (r() < 0.2) opts.interiorOnly = false;
      return [d, opts];
    },
    call: (a) => lw.scaling.isoflopApproach(a[0] as lw.scaling.IsoflopData, a[1] as lw.scaling.IsoflopOptions),
    check: (_a, res) => {
      const o = res as lw.scaling.ApproachResult;
      return Math.abs(o.a - 0.5) < 1e-6 && Number.isFinite(o.b) ? undefined : `a = ${o.a}, b = ${o.b} (want a = 0.5)`;
    },
    extraKeys: { 1: ['compute', 'resample', 'minRuns', 'at', 'interiorOnly', 'budget'] },
  },
  {
    name: 'scaling.minLossFrontier',
    names: ['data', 'opts', 'N', 'D', 'loss', 'run', 'flops', 'compute', 'kind', 'flopsPerToken', 'budgets', 'at', 'resample', 'scheme', 'resamples', 'seed', 'level', 'groups', 'sets'],
    build: (r) => {
      const runs = int(r, 2, 5);
      const run: string[] = [];
      const N: number[] = [];
      const D: number[] = [];
      const loss: number[] = [];
      for (let k = 0; k < runs; k++) {
        const n = 1e8 * 3 ** k;
        for (let t = 0, m = int(r, 1, 6); t < m; t++) {
          const d = 1e9 * 2 ** (t + k);
          run.push(`r${k}`);
          N.push(n);
          D.push(d);
          loss.push(1.7 + 400 / n ** 0.34 + 410 / d ** 0.28);
        }
      }
      const opts: Record<string, unknown> = {};
      if (r() < 0.4) opts.budgets = pick(r, [int(r, 2, 40), [6e17, 6e18, 6e19]] as const);
      if (r() < 0.2) opts.compute = '6ND';
      if (r() < 0.2) opts.resample = { scheme: 'bootstrap', resamples: 2, seed: 3 };
      if (r() < 0.2) opts.at = 1e21;
      return [{ run, N, D, loss }, opts];
    },
    call: (a) => lw.scaling.minLossFrontier(a[0] as lw.scaling.CurveData, a[1] as lw.scaling.FrontierOptions),
    check: (_a, res) => (Number.isFinite((res as lw.scaling.ApproachResult).a) ? undefined : 'a not finite'),
    extraKeys: { 1: ['budgets', 'compute', 'resample', 'at', 'run', 'flops'] },
  },
  {
    name: 'scaling.diagnostics',
    names: ['fit', 'data', 'opts', 'params', 'N', 'D', 'loss', 'A', 'B', 'E', 'alpha', 'beta', 'Nc', 'Dc', 'alphaN', 'alphaD', 'predicted', 'bounds', 'conditionLimit', 'compute', 'kind', 'flopsPerToken'],
    build: (r) => {
      const data = scalingData(r, int(r, 1, 12));
      const opts: Record<string, unknown> = {};
      if (r() < 0.3) opts.conditionLimit = 1e8;
      if (r() < 0.2) opts.predicted = Array.from(data.loss, (l) => l * 1.01);
      if (r() < 0.2) opts.compute = '6ND';
      const params = r() < 0.8 ? { ...CHIN } : { Nc: 8.8e13, Dc: 5.4e13, alphaN: 0.076, alphaD: 0.095 };
      if ('A' in params && r() < 0.4) opts.bounds = { E: [0, 5] };
      return [params, data, opts];
    },
    call: (a) => lw.scaling.diagnostics(a[0] as lw.scaling.ChinchillaParams, a[1] as lw.scaling.ScalingData, a[2] as lw.scaling.DiagnosticsOptions),
    check: (a, res) => {
      const d = res as lw.scaling.Diagnostics;
      const n = (a[1] as { N: Float64Array }).N.length;
      return d.residuals.length === n && d.predicted.length === n ? undefined : 'residual length';
    },
    extraKeys: { 2: ['predicted', 'bounds', 'conditionLimit', 'compute'] },
  },
  {
    name: 'scaling.parameterTest',
    names: ['estimate', 'reference', 'samples', 'params', 'A', 'B', 'E', 'alpha', 'beta'],
    build: (r) => {
      const n = int(r, 8, 30);
      const col = (m: number, s: number) => Float64Array.from({ length: n }, () => m * (1 + s * (r() - 0.5)));
      const samples = { A: col(400, 0.2), B: col(400, 0.2), E: col(1.7, 0.05), alpha: col(0.34, 0.1), beta: col(0.28, 0.1) };
      return [{ ...CHIN, A: 420 }, { ...CHIN }, r() < 0.5 ? samples : { samples }];
    },
    call: (a) => lw.scaling.parameterTest(a[0] as lw.scaling.ChinchillaParams, a[1] as lw.scaling.ChinchillaParams, a[2] as { samples: Record<string, Float64Array> }),
    check: (_a, res) => {
      const t = res as lw.scaling.ParameterTestResult;
      return t.statistic >= 0 && t.pValue >= 0 && t.pValue <= 1 ? undefined : `χ² ${t.statistic}, p ${t.pValue}`;
    },
  },
  {
    name: 'scaling.likelihoodRatioTest',
    names: ['fit', 'reference', 'data', 'opts', 'delta', 'params', 'N', 'D', 'loss', 'A', 'B', 'E', 'alpha', 'beta'],
    build: (r) => [{ ...CHIN, E: 1.7 }, { ...CHIN }, scalingData(r, int(r, 6, 20)), r() < 0.5 ? {} : { delta: pick(r, [1e-3, 1e-2]) }],
    call: (a) => lw.scaling.likelihoodRatioTest(a[0] as lw.scaling.ChinchillaParams, a[1] as lw.scaling.ChinchillaParams, a[2] as lw.scaling.ScalingData, a[3] as { delta?: number }),
    check: (_a, res) => finiteNumber((res as lw.scaling.LikelihoodRatioResult).statistic),
  },
  {
    name: 'scaling.subset',
    names: ['data', 'opts', 'where', 'within', 'min', 'max', 'dropOutliers', 'dropHighestLoss', 'N', 'loss', 'source', 'outlier'],
    build: (r) => {
      const n = int(r, 0, 12);
      const data = {
        N: Float64Array.from({ length: n }, () => 10 ** (7 + 3 * r())),
        loss: Array.from({ length: n }, () => 2 + r()),
        source: Array.from({ length: n }, () => pick(r, ['a', 'b', 'c'])),
        outlier: Array.from({ length: n }, () => r() < 0.2),
      };
      const opts: Record<string, unknown> = {};
      if (r() < 0.6) opts.where = pick(r, ['source == "a"', '!outlier && N > 1e8', 'loss <= 2.5 || source != "b"', 'true']);
      if (r() < 0.3) opts.within = { N: { min: 1e8 } };
      if (r() < 0.3) opts.dropOutliers = pick(r, [true, 'outlier']);
      if (r() < 0.3) opts.dropHighestLoss = int(r, 0, 3);
      return [data, opts];
    },
    call: (a) => lw.scaling.subset(a[0] as lw.scaling.RunTable, a[1] as lw.scaling.SubsetOptions),
    check: (a, res) => {
      const s = res as lw.scaling.SubsetResult<lw.scaling.RunTable>;
      const n = (a[0] as { N: Float64Array }).N.length;
      return s.kept.length + s.dropped.length === n ? undefined : 'kept + dropped != runs';
    },
    extraKeys: { 1: ['where', 'within', 'dropOutliers', 'dropHighestLoss'] },
  },
  {
    name: 'scaling.parseWhere',
    names: ['opts.where', 'text'],
    build: (r) => [pick(r, ['a == 1', '!(x < 2) || `Model Size` >= 1e9', "s != 'q' && t", 'true'])],
    call: (a) => lw.scaling.parseWhere(a[0] as string),
  },
  {
    name: 'scaling.trainingFlops',
    names: ['N', 'D', 'opts', 'compute', 'kind', 'nLayer', 'nCtx', 'dAttn', 'flopsPerToken'],
    build: (r) => {
      const n = int(r, 0, 6);
      const N = Float64Array.from({ length: n }, () => 1e8 * (1 + r()));
      const D = Array.from({ length: n }, () => 1e10 * (1 + r()));
      return [N, D, r() < 0.5 ? {} : { compute: pick(r, ['6ND', { kind: 'kaplan', nLayer: 12, nCtx: 1024, dAttn: 768 }, { flopsPerToken: (x: number) => 6 * x + 1e6 }] as const) }];
    },
    call: (a) => lw.scaling.trainingFlops(a[0] as Float64Array, a[1] as number[], a[2] as { compute?: lw.scaling.ComputeModel }),
    check: (a, res) => {
      const N = a[0] as Float64Array;
      const D = a[1] as number[];
      const o = a[2] as { compute?: unknown };
      const c = res as Float64Array;
      if (c.length !== N.length) return 'length';
      for (let i = 0; i < N.length; i++) if (c[i]! < 6 * N[i]! * D[i]! * (1 - 1e-12)) return `C[${i}] below 6ND`;
      return o.compute === undefined || o.compute === '6ND' ? (c.every((x, i) => x === 6 * N[i]! * D[i]!) ? undefined : '6ND') : undefined;
    },
    extraKeys: { 2: ['compute'] },
  },
  {
    name: 'scaling.resampleFit',
    names: ['data', 'opts', 'N', 'D', 'loss', 'law', 'objective', 'delta', 'grid', 'resample', 'scheme', 'resamples', 'seed', 'size', 'fraction', 'level', 'groups', 'sets', 'gridPerResample', 'compute', 'computeModel', 'kind', 'nLayer', 'nCtx', 'dAttn', 'flopsPerToken', 'maxIterations', 'optimumRelTol', 'onProgress', 'backend', 'signal', 'runs', 'a', 'b', 'e', 'alpha', 'beta'],
    build: (r) => {
      const data = { ...scalingData(r, int(r, 8, 16)), group: [] as string[] };
      data.group = Array.from(data.N, (_, i) => `g${i % 3}`);
      // Schemes without a resample count: a mutated count (65536 native refits) would outlast the fuzz's hang
      // timeout; bootstrap and subsample are covered in test/scaling-resample.test.ts.
      const n = data.N.length;
      const resample = pick(r, [
        { scheme: 'leave-one-group-out', groups: 'group' },
        { scheme: 'given', sets: [Array.from({ length: n }, (_, i) => (i * 7) % n), Int32Array.from({ length: n - 1 }, (_, i) => i)] },
      ] as const);
      const opts: Record<string, unknown> = { grid: { a: [6], b: [6], e: [0.5], alpha: [0.3], beta: [0.3] }, maxIterations: 60, resample };
      if (r() < 0.2) opts.gridPerResample = true;
      if (r() < 0.2) opts.compute = 1e22;
      if (r() < 0.2) opts.computeModel = pick(r, ['6ND', { kind: 'kaplan', nLayer: 2, nCtx: 8, dAttn: 4 }] as const);
      return [data, opts];
    },
    call: (a) => lw.scaling.resampleFit(a[0] as lw.scaling.ScalingData, a[1] as lw.scaling.ResampleFitOptions),
    check: (a, res) => {
      const o = res as lw.scaling.ResampleFitResult<lw.scaling.ChinchillaParams>;
      return o.fit.runs === (a[0] as { N: Float64Array }).N.length && o.resampling.samples.alpha!.length === o.resampling.resamples ? undefined : 'resample shapes';
    },
    extraKeys: { 1: ['gridPerResample', 'compute', 'computeModel', 'law', 'objective', 'delta', 'optimumRelTol', 'onProgress', 'backend', 'signal'] },
  },
  {
    name: 'scaling.tableFromCsv',
    names: ['text'],
    build: (r) => [pick(r, ['a,b\n1,x\n', 'n,flag\n1,True\n2,False\n', '', 'x\n\n1'])],
    call: (a) => lw.scaling.tableFromCsv(a[0] as string),
  },
  {
    name: 'scaling.isoflopRuns',
    names: ['opts', 'source', 'dropOutliers'],
    build: (r) => [r() < 0.4 ? {} : { source: pick(r, ['epochai_chinchilla', 'llama_3', ['ml_scalefit', 'misfitting']] as const), dropOutliers: r() < 0.5 }],
    call: (a) => lw.scaling.isoflopRuns(a[0] as { source?: string }),
    check: (_a, res) => ((res as { N: Float64Array }).N.length > 50 ? undefined : 'too few runs'),
    extraKeys: { 0: ['source', 'dropOutliers'] },
  },
  {
    name: 'device.upload',
    names: ['data', 'opts', 'device'],
    build: (r) => [new Float32Array(int(r, 0, 8)), {}],
    call: (a) => lw.device.upload(a[0] as Float32Array, a[1] as { device?: number }),
    needsGpu: true,
    extraKeys: { 1: ['device'] },
  },
  {
    name: 'device.wrap',
    names: ['pointer', 'byteLength', 'opts', 'device'],
    build: () => [0x7f0000000000n, 16, { device: 0 }],
    call: (a) => lw.device.wrap(a[0] as bigint, a[1] as number, a[2] as { device: number }),
    needsGpu: true,
  },
  {
    name: 'tree.fromFirstChildNextSibling padded',
    names: ['input', 'opts', 'tokens', 'firstChild', 'nextSibling', 'nodesPerTree', 'vocab', 'allowDuplicateSiblings', 'padded', 'trees', 'slot'],
    build: toPaddedLinked,
    call: (a) => lw.tree.fromFirstChildNextSibling(a[0] as lw.tree.FirstChildNextSiblingInput, a[1] as lw.tree.ImportOptions),
    check: checkPadded,
    extraKeys: { 1: ['vocab', 'allowDuplicateSiblings'] },
  },
  {
    name: 'tree.fromPaddedParents',
    names: ['input', 'opts', 'tokens', 'parents', 'nodesPerTree', 'vocab', 'allowDuplicateSiblings', 'padded', 'trees'],
    build: toPaddedParents,
    call: (a) => lw.tree.fromPaddedParents(a[0] as lw.tree.PaddedParentsInput, a[1] as lw.tree.PaddedImportOptions),
    check: checkPadded,
    extraKeys: { 1: ['vocab', 'allowDuplicateSiblings'] },
  },
  {
    name: 'tree.fromPaddedChains',
    names: ['input', 'opts', 'drafts', 'maxDrafts', 'numDrafts', 'roots', 'vocab', 'allowDuplicateSiblings', 'padded', 'trees'],
    build: toPaddedChains,
    call: (a) => lw.tree.fromPaddedChains(a[0] as lw.tree.PaddedChainsInput, a[1] as lw.tree.PaddedImportOptions),
    check: checkPadded,
    extraKeys: { 0: ['roots', 'numDrafts'], 1: ['vocab'] },
  },
  {
    name: 'verifyTree processors',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'seed', 'step', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows', 'allowedTokens', 'logitBias', 'penalties', 'history', 'ids', 'values', 'counts', 'repetition', 'frequency', 'presence', 'allowed token'],
    build: buildVerifyProcessors,
    call: (a) => lw.verifyTree(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.VerifyTreeOptions),
    check: checkVerify,
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'step', 'backend', 'signal', 'allowedTokens', 'logitBias', 'penalties'] },
  },
  {
    name: 'tree.expectedAcceptance processors',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows', 'allowedTokens', 'logitBias', 'penalties', 'history', 'ids', 'values', 'counts', 'repetition', 'frequency', 'presence', 'allowed token'],
    build: (r) => {
      const args = buildTreeUtils(r, false);
      Object.assign(args[2] as object, randomProcessors(r, args[0] as TreeBatch, (args[1] as { vocab: number }).vocab));
      return args;
    },
    call: (a) => lw.tree.expectedAcceptance(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.tree.ExpectedAcceptanceOptions),
    check: (a, res) => perTreeCheck(a, res, false, true),
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'backend', 'signal', 'allowedTokens', 'logitBias', 'penalties'] },
  },
  {
    name: 'verifyTree per-request seeds',
    names: ['trees', 'target', 'opts', 'mode', 'drafts', 'draft', 'temperature', 'topK', 'topP', 'seed', 'step', 'maxAccepted', 'backend', 'signal', 'tokens', 'parents', 'offsets', 'vocab', 'rows'],
    build: buildVerifyPerRequest,
    call: (a) => lw.verifyTree(a[0] as TreeBatch, a[1] as lw.Logits, a[2] as lw.VerifyTreeOptions),
    check: checkVerify,
    extraKeys: { 2: ['drafts', 'draft', 'temperature', 'topK', 'topP', 'maxAccepted', 'backend', 'signal', 'layout', 'width'] },
  },
];

/** Seeded generator for builders. */
export const seeded = rng;
