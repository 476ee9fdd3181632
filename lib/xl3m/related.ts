/**
 * Scores that share XL3M's pass over the logits (docs/xl3m.md §4). The per-token work — one streaming pass per
 * row for NLL, entropy and varentropy — is {@link logitStats} (native, CPU or CUDA); these functions combine its
 * outputs in O(tokens).
 */
import type { Logits } from '../logits';
import { score, ScoreOptions } from './score';
import {
  integer, invalidType, isTypedArray, number, object, optionKeys, options, rangeError, typedArray,
} from '../runtime/validate';

/** Options of {@link coarseScore}. */
export type CoarseScoreOptions = {
  /** Number of segments S; logits.rows must be S × q (the q question positions of each segment, consecutive). */
  segments: number;
  /** The question token each row predicts (one per row, in [0, vocab)). */
  targets: Int32Array;
} & Pick<ScoreOptions, 'temperature' | 'backend' | 'signal'>;
const COARSE_KEYS = optionKeys<CoarseScoreOptions>({ segments: 1, targets: 1, temperature: 1, backend: 1, signal: 1 });
const SIRLLM_KEYS = optionKeys<{ decay?: number; rounds?: Int32Array }>({ decay: 1, rounds: 1 });
const DETECTION_KEYS = optionKeys<{ offsets?: Int32Array }>({ offsets: 1 });
const KEEP_MASK_KEYS = optionKeys<{ window: number; keepRatio: number }>({ window: 1, keepRatio: 1 });

/**
 * LongLLMLingua's coarse (document-level) score: the mean NLL of the question tokens given each segment,
 * r_k = −(1/q) Σ_j log p(question_j | segment_k, question_<j). Lower = more relevant. The rows are the question
 * positions of every segment's sub-context (segments × q rows) and `targets` the question tokens per row.
 * Same as {@link score} with metric 'nll' and mean pooling.
 */
export function coarseScore(
  logits: Logits,
  opts: CoarseScoreOptions,
): Promise<Float32Array> {
  try {
    return score(logits, { ...options<CoarseScoreOptions>(opts, 'opts', COARSE_KEYS, true), metric: 'nll', pooling: 'mean' });
  } catch (err) {
    return Promise.reject(err);
  }
}

function floatArray(v: unknown, name: string): Float32Array | Float64Array {
  if (!isTypedArray(v, 'Float32Array') && !isTypedArray(v, 'Float64Array')) throw invalidType(name, 'a Float32Array or Float64Array', v);
  return v;
}

/**
 * SirLLM token scores (Yao et al. 2024): the token entropy −log p(x_t) (the `nll` of {@link logitStats} with
 * the tokens as targets), decayed by round: s_t = nll_t · decay^(R − r_t), where r_t = rounds[t] is the dialogue
 * round of token t (non-decreasing) and R the last round. Without `rounds` every token is in one round (no decay).
 * Higher = more informative (SirLLM keeps the highest; see {@link topTokens}).
 *
 * @throws RangeError when decay ∉ [0, 1] or rounds has the wrong length or decreases.
 */
export function sirllmScores(
  nll: Float32Array | Float64Array,
  opts: { decay?: number; rounds?: Int32Array } = {},
): Float32Array {
  floatArray(nll, 'nll');
  const o = options<{ decay?: number; rounds?: Int32Array }>(opts, 'opts', SIRLLM_KEYS);
  const decay = number(o.decay ?? 1, 'opts.decay', { min: 0, max: 1 });
  const out = new Float32Array(nll.length);
  if (o.rounds === undefined) {
    out.set(nll);
    return out;
  }
  const rounds = typedArray(o.rounds, 'opts.rounds', 'Int32Array', nll.length, 'one round index per token');
  const last = rounds.length > 0 ? rounds[rounds.length - 1]! : 0;
  for (let t = 0; t < nll.length; t++) {
    if (t > 0 && rounds[t]! < rounds[t - 1]!) throw rangeError(`opts.rounds must be non-decreasing (rounds[${t}] < rounds[${t - 1}])`);
    out[t] = nll[t]! * decay ** (last - rounds[t]!);
  }
  return out;
}

/** Indices of the `k` highest scores in chronological order; ties go to the earlier token, NaN never kept. */
export function topTokens(scores: Float32Array | Float64Array, k: number): Int32Array {
  floatArray(scores, 'scores');
  integer(k, 'k', { min: 0, max: Infinity });
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!Number.isNaN(scores[i])) idx.push(i);
  idx.sort((a, b) => (scores[a]! !== scores[b]! ? (scores[b]! > scores[a]! ? 1 : -1) : a - b));
  return Int32Array.from(idx.slice(0, k)).sort();
}

/**
 * Zero-shot machine-text detection statistic per text: mean NLL − mean entropy,
 * d = (1/n) Σ_t (−log p(x_t) − H_t). Text sampled from the model has E[d] = 0 and human text typically d > 0
 * (its tokens are more surprising than the model expects). With `varentropy`, also the analytic
 * Fast-DetectGPT-style z-score z = Σ_t (−log p(x_t) − H_t) / sqrt(Σ_t Var_t).
 * `offsets` (CSR, length texts + 1, from 0 to n) splits the tokens into texts; default one text.
 */
export function detectionStatistic(
  stats: { nll: Float32Array | Float64Array; entropy: Float32Array | Float64Array; varentropy?: Float32Array | Float64Array },
  opts: { offsets?: Int32Array } = {},
): { statistic: Float64Array; zScore?: Float64Array } {
  object(stats, 'stats', '{ nll, entropy, varentropy? } (e.g. from logitStats)');
  const o = options<{ offsets?: Int32Array }>(opts, 'opts', DETECTION_KEYS);
  const nll = floatArray(stats.nll, 'stats.nll');
  const ent = floatArray(stats.entropy, 'stats.entropy');
  const v = stats.varentropy === undefined ? undefined : floatArray(stats.varentropy, 'stats.varentropy');
  const n = nll.length;
  if (ent.length !== n || (v && v.length !== n)) throw rangeError(`stats arrays must all have ${n} entries (one per token)`);
  const offsets = typedArray(o.offsets ?? Int32Array.of(0, n), 'opts.offsets', 'Int32Array');
  if (offsets.length < 2 || offsets[0] !== 0 || offsets[offsets.length - 1] !== n) {
    throw rangeError(`opts.offsets must start at 0 and end at the token count ${n}`);
  }
  const texts = offsets.length - 1;
  const statistic = new Float64Array(texts);
  const zScore = v ? new Float64Array(texts) : undefined;
  for (let k = 0; k < texts; k++) {
    const a = offsets[k]!, b = offsets[k + 1]!;
    if (b < a) throw rangeError(`opts.offsets must be non-decreasing (offsets[${k + 1}] < offsets[${k}])`);
    let d = 0, var_ = 0;
    for (let t = a; t < b; t++) {
      d += nll[t]! - ent[t]!;
      if (v) var_ += v[t]!;
    }
    statistic[k] = d / (b - a);
    if (zScore) zScore[k] = d / Math.sqrt(var_);
  }
  return zScore ? { statistic, zScore } : { statistic };
}

/**
 * LLMLingua-style token pruning mask: within each window of `window` consecutive tokens, keep the
 * ⌈keepRatio · n_w⌉ tokens of highest NLL (the most informative), i.e. those at or above the window's
 * (1 − keepRatio) NLL quantile, ties to the earlier token. 1 = keep. NaN NLLs are kept (never pruned blindly).
 *
 * @throws RangeError when window < 1 or keepRatio ∉ [0, 1].
 */
export function llmlinguaKeepMask(nll: Float32Array | Float64Array, opts: { window: number; keepRatio: number }): Uint8Array {
  floatArray(nll, 'nll');
  const o = options<{ window: number; keepRatio: number }>(opts, 'opts', KEEP_MASK_KEYS, true);
  const window = integer(o.window, 'opts.window', { min: 1, max: Infinity });
  const keepRatio = number(o.keepRatio, 'opts.keepRatio', { min: 0, max: 1 });
  const mask = new Uint8Array(nll.length);
  const idx: number[] = [];
  for (let a = 0; a < nll.length; a += window) {
    const b = Math.min(nll.length, a + window);
    idx.length = 0;
    for (let t = a; t < b; t++) {
      if (Number.isNaN(nll[t])) mask[t] = 1;
      else idx.push(t);
    }
    idx.sort((x, y) => (nll[x]! !== nll[y]! ? (nll[y]! > nll[x]! ? 1 : -1) : x - y));
    const keep = Math.ceil(keepRatio * (b - a) - 1e-9);
    for (let j = 0; j < Math.min(keep, idx.length); j++) mask[idx[j]!] = 1;
  }
  return mask;
}
