/**
 * The model adapter interface the speculative decoder drives: one batched forward over new tokens with an
 * additive attention bias over (cached + new) columns, and a cache compaction.
 *
 * @packageDocumentation
 */
import type { Logits } from '../logits';
import { rangeError, typeError } from '../runtime/validate';

/**
 * Additive attention bias of one forward call, row-major `[batch, rows, columns]`: entry (b, s, j) is added to
 * the attention score of new token s of batch item b over key column j, where the columns are the `columns −
 * rows` cached positions first (in cache order), then the `rows` new tokens in input order. `0` = visible,
 * {@link ModelAdapter.maskValue} (default `-1e9`) = masked. Every row sees at least its own column.
 */
export interface AttentionBias {
  /** `batch × rows × columns` values. */
  data: Float32Array;
  /** Batch items (B). */
  batch: number;
  /** New tokens per batch item (S). */
  rows: number;
  /** Cached plus new columns (P + S). */
  columns: number;
}

/** What {@link ModelAdapter.forward} returns. */
export interface ForwardResult<C> {
  /**
   * `batch × rows` logits rows in input order (row b·S + s = the next-token distribution after new token s of
   * item b). float32, or float16/bfloat16 bits in a Uint16Array with `dtype` set: lengthwise reads them as is.
   */
  logits: Logits;
  /** The cache after the call: the old P columns followed by the S new ones (P + S columns per item). */
  cache: C;
}

/**
 * A decoder-only model as the speculative decoder sees it. Implementations wrap a runtime (ONNX Runtime:
 * `lengthwise/onnx`; a JS model in tests); the decoder never looks inside the cache.
 *
 * Contract:
 * - `forward(tokens, positions, bias, cache)`: `tokens` and `positions` are `batch × S` (row-major; positions
 *   are absolute, for RoPE), `bias` as in {@link AttentionBias} with `columns = P + S` where P is the cache's
 *   column count (0 when `cache` is `null`). Returns one logits row per new token and the cache extended by
 *   the S new columns. Batch items are independent.
 * - `keep(cache, indices, length)`: returns a cache of `length` columns per item, column k of item b being
 *   old column `indices[b·length + k]` (old columns are `0 .. P−1`). The decoder keeps the committed columns
 *   and the accepted tree path in path order; keys must therefore be stored already rotated at their own
 *   position (selecting columns needs no re-rotation).
 *
 * The decoder calls the methods one at a time and never reuses a cache after passing it to either method.
 */
export interface ModelAdapter<C = unknown> {
  /** Vocabulary size (logits row length). */
  readonly vocab: number;
  /** Largest position + 1 the model supports (P + S must stay ≤ window); omitted = unbounded. */
  readonly window?: number;
  /** Bias value that masks a column (default `-1e9`; must be finite so a row never becomes all −∞). */
  readonly maskValue?: number;
  /** End-of-sequence token id, when the model has one (the decoder stops a sequence after emitting it). */
  readonly eosId?: number;
  /** Token id fed to padding rows of a ragged batch (default 0). */
  readonly padId?: number;
  /**
   * Runs the model on `batch × S` new tokens (see the contract above); resolves to one logits row per new
   * token and the extended cache.
   */
  forward(tokens: Int32Array, positions: Int32Array, bias: AttentionBias, cache: C | null): Promise<ForwardResult<C>>;
  /** A cache of `length` columns per item: column k of item b is old column `indices[b·length + k]`. */
  keep(cache: C, indices: Int32Array, length: number): C | Promise<C>;
}

/** @internal Validates the shape of an adapter object, naming the argument. */
export function checkAdapter(m: unknown, name: string): asserts m is ModelAdapter {
  if (m === null || typeof m !== 'object') {
    throw typeError(`${name} must be a model adapter { vocab, forward(tokens, positions, bias, cache), keep(cache, indices, length) }`);
  }
  const a = m as Partial<ModelAdapter>;
  if (typeof a.forward !== 'function') throw typeError(`${name}.forward must be a function`);
  if (typeof a.keep !== 'function') throw typeError(`${name}.keep must be a function`);
  if (!(Number.isInteger(a.vocab) && (a.vocab as number) > 0)) {
    throw rangeError(`${name}.vocab must be a positive integer, got ${String(a.vocab)}`);
  }
  if (a.window !== undefined && !(Number.isInteger(a.window) && a.window > 1)) {
    throw rangeError(`${name}.window must be an integer > 1, got ${String(a.window)}`);
  }
  if (a.maskValue !== undefined && !(Number.isFinite(a.maskValue) && a.maskValue <= -1e4)) {
    throw rangeError(`${name}.maskValue must be a finite number <= -1e4, got ${String(a.maskValue)}`);
  }
}
