/**
 * Scores that share XL3M's pass over the logits (DESIGN.md §4.2). The per-token work — one streaming pass per
 * row for NLL, entropy and varentropy — is {@link logitStats} (native, CPU or CUDA); these functions combine its
 * outputs in O(tokens).
 */
import type { Logits } from '../logits';
import { isFloat32Array, isFloat64Array, isInt32Array } from './guards';
import { score, ScoreOptions } from './score';
import { show } from '../show';

/**
 * LongLLMLingua's coarse (document-level) score: the mean NLL of the question tokens given each segment,
 * r_k = −(1/q) Σ_j log p(question_j | segment_k, question_<j). Lower = more relevant. The rows are the question
 * positions of every segment's sub-context (segments × q rows) and `targets` the question tokens per row.
 * Same as {@link score} with metric 'nll' and mean pooling.
 */
export function coarseScore(
  logits: Logits,
  opts: { segments: number; targets: Int32Array } & Pick<ScoreOptions, 'temperature' | 'backend' | 'signal'>,
): Promise<Float32Array> {
  return score(logits, { ...opts, metric: 'nll', pooling: 'mean' });
}

function floatArray(v: unknown, name: string): Float32Array | Float64Array {
  if (!isFloat32Array(v) && !isFloat64Array(v)) throw new TypeError(`${name} must be a Float32Array or Float64Array`);
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
  const decay = opts.decay ?? 1;
  if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) throw new RangeError(`opts.decay must be in [0, 1] (got ${show(decay)})`);
  const out = new Float32Array(nll.length);
  const rounds = opts.rounds;
  if (rounds === undefined) {
    out.set(nll);
    return out;
  }
  if (!isInt32Array(rounds)) throw new TypeError('opts.rounds must be an Int32Array (one round index per token)');
  if (rounds.length !== nll.length) throw new RangeError(`opts.rounds must have ${nll.length} entries (one per token), got ${rounds.length}`);
  const last = rounds.length > 0 ? rounds[rounds.length - 1]! : 0;
  for (let t = 0; t < nll.length; t++) {
    if (t > 0 && rounds[t]! < rounds[t - 1]!) throw new RangeError(`opts.rounds must be non-decreasing (rounds[${t}] < rounds[${t - 1}])`);
    out[t] = nll[t]! * decay ** (last - rounds[t]!);
  }
  return out;
}

/** Indices of the `k` highest scores in chronological order; ties go to the earlier token, NaN never kept. */
export function topTokens(scores: Float32Array | Float64Array, k: number): Int32Array {
  floatArray(scores, 'scores');
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) throw new RangeError(`k must be an integer >= 0 (got ${show(k)})`);
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
  if (stats === null || typeof stats !== 'object') throw new TypeError('stats must be { nll, entropy, varentropy? } (e.g. from logitStats)');
  const nll = floatArray(stats.nll, 'stats.nll');
  const ent = floatArray(stats.entropy, 'stats.entropy');
  const v = stats.varentropy === undefined ? undefined : floatArray(stats.varentropy, 'stats.varentropy');
  const n = nll.length;
  if (ent.length !== n || (v && v.length !== n)) throw new RangeError(`stats arrays must all have ${n} entries (one per token)`);
  const offsets = opts.offsets ?? Int32Array.of(0, n);
  if (!isInt32Array(offsets)) throw new TypeError('opts.offsets must be an Int32Array');
  if (offsets.length < 2 || offsets[0] !== 0 || offsets[offsets.length - 1] !== n) {
    throw new RangeError(`opts.offsets must start at 0 and end at the token count ${n}`);
  }
  const texts = offsets.length - 1;
  const statistic = new Float64Array(texts);
  const zScore = v ? new Float64Array(texts) : undefined;
  for (let k = 0; k < texts; k++) {
    const a = offsets[k]!, b = offsets[k + 1]!;
    if (b < a) throw new RangeError(`opts.offsets must be non-decreasing (offsets[${k + 1}] < offsets[${k}])`);
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
  if (opts === null || typeof opts !== 'object') throw new TypeError('opts must be { window, keepRatio }');
  const { window, keepRatio } = opts;
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw new RangeError(`opts.window must be an integer >= 1 (got ${show(window)})`);
  if (typeof keepRatio !== 'number' || !(keepRatio >= 0 && keepRatio <= 1)) throw new RangeError(`opts.keepRatio must be in [0, 1] (got ${show(keepRatio)})`);
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
