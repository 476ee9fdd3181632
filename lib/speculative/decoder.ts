/**
 * `speculative.createDecoder`: draft-tree speculative decoding over any pair of {@link ModelAdapter}s, verified
 * by lengthwise's own `verifyTree` (one target logits row per tree node, from one target forward over the tree).
 *
 * @packageDocumentation
 */
import type { Logits } from '../logits';
import { abortError } from '../runtime/abort';
import { mulberry32 } from '../runtime/prng';
import { show } from '../runtime/show';
import { expectedAcceptance } from '../tree/utils';
import type { TreeBatch } from '../tree/types';
import { type DraftKind, verifyTree } from '../tree/verify';
import { type ModelAdapter, checkAdapter } from './adapter';
import { growTrees, rootOnly } from './grow';
import { pruneByReward } from './reward';
import { gatherRows } from './rows';
import { COMMITTED, ModelState, type NewRow } from './state';
import { type TreeStrategy, plannerFor } from './strategies';
import { rangeError, typeError } from '../runtime/validate';

/**
 * How draft tokens are produced and verified:
 * - `'greedy'`: draft top tokens, target argmax (output = greedy target decoding);
 * - `'target-only'`: draft top tokens (deterministic), lossless sampling that reads the target only;
 * - `'iid'`: children drawn i.i.d. from the draft's q, recursive rejection sampling with q;
 * - `'without-replacement'`: children drawn from q without replacement, verified with q.
 * `'auto'` (default): `'greedy'` at temperature 0, else `'without-replacement'`.
 */
export type VerifyChoice = 'auto' | 'greedy' | 'target-only' | 'iid' | 'without-replacement';

/** Options of {@link createDecoder}. */
export interface DecoderOptions {
  /** The target model (whose distribution the output follows exactly). */
  target: ModelAdapter;
  /** The draft model; required unless `tree` is `{ kind: 'none' }`. Same vocabulary as the target. */
  draft?: ModelAdapter;
  /** Draft tree shape (default `{ kind: 'chain', k: 4 }`). */
  tree?: TreeStrategy;
  /** Verification mode (default `'auto'`). */
  verify?: VerifyChoice;
}

/** Options of one generation call. */
export interface GenerateOptions {
  /** Tokens to generate per sequence at most (≥ 1). */
  maxTokens: number;
  /** Target temperature ≥ 0 (default 1; 0 = greedy). The draft samples at the same temperature (1 when 0). */
  temperature?: number;
  /** Target top-k (0 = off, default). */
  topK?: number;
  /** Target top-p in (0, 1] (1 = off, default). */
  topP?: number;
  /** Seed of the verifier's counter-based generator and of the drafter's sampler (default 0). */
  seed?: number;
  /** Stop a sequence after this token (default: the target's `eosId`; `null` = never). */
  eosId?: number | null;
  /** Also compute `tree.expectedAcceptance` of every verified tree (stats.expectedAcceptedPerForward). */
  measureExpected?: boolean;
  /** Called after every verification with the verified trees and, per tree, the accepted draft tokens. */
  onVerify?: (info: VerifyInfo) => void;
  /** Aborts generation (the call rejects with an AbortError). */
  signal?: AbortSignal;
}

/** What {@link GenerateOptions.onVerify} receives for one step. */
export interface VerifyInfo {
  /** Sequence index of each verified tree. */
  sequences: number[];
  /** The verified draft trees (one per running sequence). */
  trees: TreeBatch;
  /** Accepted draft tokens per verified tree (excluding the bonus/correction token). */
  acceptedLength: Int32Array;
  /** `tree.expectedAcceptance` of each tree (with `measureExpected`). */
  expected?: Float64Array;
}

/** Why a sequence stopped. */
export type StopReason = 'eos' | 'length' | 'window';

/** Counters and timings of one generation call. */
export interface DecodeStats {
  /** Target forward calls (one per step, over the whole batch). */
  targetForwards: number;
  /** Draft forward calls (each over the whole batch of trees being grown). */
  draftForwards: number;
  /** Trees verified (sequences × steps). */
  verifiedTrees: number;
  /** Draft nodes verified (excluding roots). */
  draftNodes: number;
  /** Draft tokens accepted in all (excluding the bonus / correction token). */
  acceptedTokens: number;
  /** Mean accepted draft tokens per verified tree, without the bonus token. */
  acceptedPerForward: number;
  /** Mean of `tree.expectedAcceptance` over the same trees (only with `measureExpected`). */
  expectedAcceptedPerForward?: number;
  /** Tokens emitted in all sequences. */
  generatedTokens: number;
  /** `generatedTokens` / wall time, in tokens per second. */
  tokensPerSecond: number;
  /** Wall time of the call. */
  totalMs: number;
  /** Time inside the target adapter (forward + keep). */
  targetMs: number;
  /** Time inside the draft adapter. */
  draftMs: number;
  /** Everything else: tree building, masks, sampling, verifyTree, bookkeeping. */
  lengthwiseMs: number;
}

/** One streamed event: new tokens of one sequence. */
export interface TokenEvent {
  /** Index of the sequence in the prompts array. */
  sequence: number;
  /** Tokens emitted for this sequence by one verification step (accepted drafts, then correction/bonus). */
  tokens: number[];
  /** Set on the sequence's last event. */
  done?: StopReason;
}

/** Result of {@link Decoder.generate}. */
export interface GenerateResult {
  /** Generated tokens of each sequence (prompt excluded). */
  tokens: number[][];
  /** Why each sequence stopped. */
  stopReasons: StopReason[];
  /** Counts and timings of the whole call. */
  stats: DecodeStats;
}

/** A speculative decoder bound to a model pair. */
export interface Decoder {
  /** Generates for a batch of prompts (each a non-empty array of token ids, usually starting with BOS). */
  generate(prompts: ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult>;
  /** The same generation as an async iterator of token events; `stats` is filled in when it ends. */
  stream(prompts: ArrayLike<number>[], opts: GenerateOptions, stats?: Partial<DecodeStats>): AsyncGenerator<TokenEvent>;
}

/** @internal How one generation call drafts and verifies. */
export interface Resolved {
  drafts: DraftKind;
  greedy: boolean;
  verify: Exclude<VerifyChoice, 'auto'>;
}

function resolveVerify(v: VerifyChoice, temperature: number): Resolved {
  const verify = v === 'auto' ? (temperature === 0 ? 'greedy' : 'without-replacement') : v;
  const greedy = verify === 'greedy' || temperature === 0;
  const drafts: DraftKind = greedy || verify === 'target-only' ? 'deterministic' : verify;
  return { drafts, greedy, verify };
}

function checkGenerate(prompts: unknown, opts: GenerateOptions, vocab: number): number[][] {
  if (!Array.isArray(prompts) || prompts.length === 0) throw typeError('prompts must be a non-empty array of token-id arrays');
  const out = prompts.map((p: unknown, i) => {
    if (p === null || typeof p !== 'object' || typeof (p as ArrayLike<number>).length !== 'number') {
      throw typeError(`prompts[${i}] must be an array of token ids`);
    }
    const a = Array.from(p as ArrayLike<number>);
    if (a.length === 0) throw rangeError(`prompts[${i}] must hold at least one token (e.g. BOS)`);
    a.forEach((t, j) => {
      if (!(Number.isInteger(t) && t >= 0 && t < vocab)) throw rangeError(`prompts[${i}][${j}] = ${show(t)} is not a token id in [0, ${vocab})`);
    });
    return a;
  });
  if (opts === null || typeof opts !== 'object') throw typeError('opts must be an object { maxTokens, ... }');
  if (!(Number.isInteger(opts.maxTokens) && opts.maxTokens >= 1)) throw rangeError(`opts.maxTokens must be an integer >= 1, got ${show(opts.maxTokens)}`);
  const T = opts.temperature ?? 1;
  if (!(typeof T === 'number' && Number.isFinite(T) && T >= 0)) throw rangeError(`opts.temperature must be a finite number >= 0, got ${show(T)}`);
  const seed = opts.seed ?? 0;
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw rangeError(`opts.seed must be a safe integer >= 0, got ${show(seed)}`);
  return out;
}

/**
 * Creates a speculative decoder. Each step: the draft grows a tree per sequence (batched draft forwards, one per
 * tree level), the target scores every node in one forward with a tree attention bias, `verifyTree` accepts a
 * path and emits one more token, and both caches keep the committed tokens plus the accepted path.
 *
 * @example
 * ```ts
 * const dec = speculative.createDecoder({ target, draft, tree: { kind: 'static' } });
 * const { tokens, stats } = await dec.generate([promptIds], { maxTokens: 64, temperature: 0 });
 * for await (const ev of dec.stream([promptIds], { maxTokens: 64 })) process.stdout.write(decode(ev.tokens));
 * ```
 * @throws TypeError / RangeError naming the option: a malformed adapter, a draft whose vocabulary differs from
 *   the target's, a missing draft, an invalid tree strategy.
 */
export function createDecoder(opts: DecoderOptions): Decoder {
  if (opts === null || typeof opts !== 'object') throw typeError('opts must be an object { target, draft, tree?, verify? }');
  checkAdapter(opts.target, 'target');
  const tree = opts.tree ?? { kind: 'chain', k: 4 };
  const planner = plannerFor(tree);
  const useDraft = tree.kind !== 'none';
  if (useDraft) {
    if (opts.draft === undefined) throw typeError(`draft is required for tree '${tree.kind}' (use tree { kind: 'none' } for plain decoding)`);
    checkAdapter(opts.draft, 'draft');
    if (opts.draft.vocab !== opts.target.vocab) {
      throw rangeError(`draft.vocab = ${opts.draft.vocab} must equal target.vocab = ${opts.target.vocab} (draft and target must share one tokenizer)`);
    }
  }
  const verifyChoice = opts.verify ?? 'auto';
  if (!['auto', 'greedy', 'target-only', 'iid', 'without-replacement'].includes(verifyChoice)) {
    throw rangeError(`verify must be 'auto', 'greedy', 'target-only', 'iid' or 'without-replacement', got ${show(verifyChoice)}`);
  }
  const target = opts.target;
  const draft = useDraft ? opts.draft! : null;

  async function* stream(prompts: ArrayLike<number>[], g: GenerateOptions, statsOut?: Partial<DecodeStats>): AsyncGenerator<TokenEvent> {
    const seqs = checkGenerate(prompts, g, target.vocab);
    const t0 = performance.now();
    const B = seqs.length;
    const T = g.temperature ?? 1;
    const mode = resolveVerify(verifyChoice, T);
    const draftT = T > 0 ? T : 1;
    const seed = g.seed ?? 0;
    const rand = mulberry32(seed ^ 0x5eed);
    const eos = g.eosId === undefined ? target.eosId : g.eosId ?? undefined;
    const window = Math.min(target.window ?? Infinity, draft?.window ?? Infinity);
    const ts = new ModelState(target, B);
    const cum = new Float64Array(target.vocab);
    const ds = draft ? new ModelState(draft, B) : null;
    for (let b = 0; b < B; b++) {
      ts.pending[b] = seqs[b]!.slice();
      if (ds) ds.pending[b] = seqs[b]!.slice();
    }
    const generated = new Int32Array(B);
    const done: (StopReason | undefined)[] = new Array(B).fill(undefined);
    const stats: DecodeStats = {
      targetForwards: 0, draftForwards: 0, verifiedTrees: 0, draftNodes: 0, acceptedTokens: 0, acceptedPerForward: 0,
      generatedTokens: 0, tokensPerSecond: 0, totalMs: 0, targetMs: 0, draftMs: 0, lengthwiseMs: 0,
    };
    let expectedSum = 0;
    let step = 0;
    const finish = () => {
      stats.totalMs = performance.now() - t0;
      stats.targetForwards = ts.forwards;
      stats.draftForwards = ds?.forwards ?? 0;
      stats.targetMs = ts.ms;
      stats.draftMs = ds?.ms ?? 0;
      stats.lengthwiseMs = Math.max(0, stats.totalMs - stats.targetMs - stats.draftMs);
      stats.acceptedPerForward = stats.verifiedTrees > 0 ? stats.acceptedTokens / stats.verifiedTrees : 0;
      if (g.measureExpected) stats.expectedAcceptedPerForward = stats.verifiedTrees > 0 ? expectedSum / stats.verifiedTrees : 0;
      stats.tokensPerSecond = stats.totalMs > 0 ? (stats.generatedTokens * 1000) / stats.totalMs : 0;
      if (statsOut) Object.assign(statsOut, stats);
    };
    // Sequences too long for the window stop before any work.
    for (let b = 0; b < B; b++) if (seqs[b]!.length > window) done[b] = 'window';
    for (let b = 0; b < B; b++) if (done[b]) yield { sequence: b, tokens: [], done: done[b] };

    while (done.some((d) => d === undefined)) {
      if (g.signal?.aborted) throw abortError(g.signal);
      const active: number[] = [];
      for (let b = 0; b < B; b++) if (done[b] === undefined) active.push(b);
      // ---- draft: grow one tree per active sequence ----
      const roots = ts.pending.map((p) => p.at(-1) ?? 0);
      const { trees, rows, synced } = ds
        ? await growTrees(ds, roots, done.map((d) => d !== undefined), { planner, mode, draftT, window, tree, rand, cum })
        : { trees: roots.map(rootOnly), rows: roots.map(() => []), synced: roots.map(() => false) };
      if (ds && tree.kind === 'dynamic' && tree.reward) {
        if (!mode.greedy && mode.drafts !== 'deterministic') {
          throw rangeError("tree.reward prunes drawn nodes, which only deterministic drafts allow: use verify 'greedy' or 'target-only'");
        }
        const r = tree.reward;
        for (const b of active) await pruneByReward(trees[b]!, rows[b]!, ds.nodeColumn[b]!, r.eta, r.nodeCost, target.vocab);
      }
      // ---- target: one forward over pending tokens + every tree node ----
      const tRows: NewRow[][] = [];
      for (let b = 0; b < B; b++) {
        if (done[b] !== undefined) { tRows.push([]); continue; }
        const base = ts.cached[b]!;
        const pend = ts.pending[b]!;
        const r: NewRow[] = pend.map((token, i) => ({ token, position: base + i, node: COMMITTED }));
        const t = trees[b]!;
        for (let v = 1; v < t.tokens.length; v++) r.push({ token: t.tokens[v]!, position: base + pend.length - 1 + t.depth[v]!, node: v });
        tRows.push(r);
      }
      const out = await ts.forward(tRows, trees.map((t) => Int32Array.from(t.parents)));
      // ---- verify ----
      const nodeCount = active.reduce((s, b) => s + trees[b]!.tokens.length, 0);
      const tok = new Int32Array(nodeCount);
      const par = new Int32Array(nodeCount);
      const offsets = new Int32Array(active.length + 1);
      const targetRows: number[] = [];
      const needQ = !mode.greedy && mode.drafts !== 'deterministic';
      const qData = needQ ? new Float32Array(nodeCount * target.vocab) : null;
      active.forEach((b, i) => {
        const t = trees[b]!;
        const o = offsets[i]!;
        const pendLen = ts.pending[b]!.length;
        for (let v = 0; v < t.tokens.length; v++) {
          tok[o + v] = t.tokens[v]!;
          par[o + v] = t.parents[v]!;
          targetRows.push(b * out.stride + (v === 0 ? pendLen - 1 : pendLen - 1 + v));
          const dr = rows[b]![v];
          if (qData && dr) qData.set(dr.scaled, (o + v) * target.vocab);
        }
        offsets[i + 1] = o + t.tokens.length;
      });
      const batchTrees: TreeBatch = { tokens: tok, parents: par, offsets };
      const tLogits = gatherRows(out.logits, targetRows);
      const draftLogits: Logits | undefined = qData ? { data: qData, rows: nodeCount, vocab: target.vocab } : undefined;
      // The processing options verifyTree and the utilities share; the random stream (seed, step) is verifyTree's.
      const vopts = {
        temperature: T, topK: g.topK ?? 0, topP: g.topP ?? 1, signal: g.signal,
        drafts: mode.greedy ? ('deterministic' as const) : mode.drafts, draft: draftLogits,
      };
      const res = await verifyTree(batchTrees, tLogits, { ...vopts, seed, step, mode: mode.greedy ? 'greedy' : 'sample' });
      let expected: Float64Array | undefined;
      if (g.measureExpected) {
        expected = await expectedAcceptance(batchTrees, tLogits, { ...vopts, mode: mode.greedy ? 'greedy' : 'sample' });
        for (const x of expected) expectedSum += x;
      }
      g.onVerify?.({ sequences: active, trees: batchTrees, acceptedLength: res.acceptedLength, expected });
      step = (step + 1) >>> 0;
      // ---- commit ----
      const events: TokenEvent[] = [];
      const tPaths: number[][] = Array.from({ length: B }, () => []);
      const emittedOf: number[][] = Array.from({ length: B }, () => []);
      active.forEach((b, i) => {
        const lo = res.tokenOffsets[i]!;
        const hi = res.tokenOffsets[i + 1]!;
        stats.verifiedTrees++;
        stats.draftNodes += trees[b]!.tokens.length - 1;
        stats.acceptedTokens += res.acceptedLength[i]!;
        tPaths[b] = Array.from(res.acceptedNodes.subarray(lo + 1, hi));
        let emitted = Array.from(res.tokens.subarray(lo, hi));
        let reason: StopReason | undefined;
        const e = eos === undefined ? -1 : emitted.indexOf(eos);
        if (e >= 0) { emitted = emitted.slice(0, e + 1); reason = 'eos'; }
        const room = g.maxTokens - generated[b]!;
        if (emitted.length >= room) { emitted = emitted.slice(0, room); reason = reason ?? 'length'; }
        generated[b]! += emitted.length;
        stats.generatedTokens += emitted.length;
        emittedOf[b] = emitted;
        // The next root sits at position cached + pending + emitted − 1, which must stay inside the window.
        if (reason === undefined && ts.cached[b]! + ts.pending[b]!.length + emitted.length - 1 > window - 1) reason = 'window';
        done[b] = reason;
        events.push({ sequence: b, tokens: emitted, ...(reason ? { done: reason } : {}) });
      });
      await ts.keepPath(tPaths);
      for (const b of active) ts.pending[b] = [emittedOf[b]!.at(-1)!];
      if (ds) {
        const kept = await ds.keepPath(tPaths);
        for (const b of active) {
          const em = emittedOf[b]!;
          // Accepted path tokens the draft has not forwarded yet, then the new root.
          ds.pending[b] = synced[b] ? em.slice(kept[b]!) : [...ds.pending[b]!, ...em];
        }
      }
      for (const ev of events) yield ev;
    }
    finish();
  }

  return {
    stream,
    async generate(prompts, g) {
      const tokens: number[][] = prompts.map(() => []);
      const stopReasons: StopReason[] = prompts.map(() => 'length');
      const stats: Partial<DecodeStats> = {};
      for await (const ev of stream(prompts, g, stats)) {
        tokens[ev.sequence]!.push(...ev.tokens);
        if (ev.done) stopReasons[ev.sequence] = ev.done;
      }
      return { tokens, stopReasons, stats: stats as DecodeStats };
    },
  };
}


