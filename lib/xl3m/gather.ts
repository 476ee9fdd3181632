/**
 * XL3M between the model and {@link score}: cut the question rows out of the model's full output.
 *
 * @packageDocumentation
 */
import type { Logits } from '../logits';
import { normalizeLogits } from '../logits';
import { integer, object, optionKeys, options, outOfRange, rangeError, typeError, typedArray } from '../runtime/validate';
import type { Plan } from './plan';

/** Options of {@link gatherQuestionLogits}. */
export interface GatherQuestionOptions {
  /**
   * Output rows per sub-context R: the model's output is `[S, R, V]` and column c of sub-context i is row
   * `i·R + c`. Default `plan.rowLength` (the model ran on the whole padded row). Give it when the model's output
   * is narrower or wider than the plan's rows (e.g. the model saw `plan.batch` with extra leading tokens: then
   * also shift with `offset`).
   */
  rowsPerSegment?: number;
  /** Columns the model's output is shifted by relative to the plan's row (integer ≥ 0, default 0), e.g. 1 for a BOS prepended to every row. */
  offset?: number;
}

const KEYS = optionKeys<GatherQuestionOptions>({ rowsPerSegment: 1, offset: 1 });

/**
 * The logits {@link score} reads, gathered from the model's full output over `plan.batch`: for every sub-context
 * i and question token j (0 ≤ j < q), the row of column `questionStart[i] + j − 1` — the position whose
 * next-token distribution predicts question token j (docs/xl3m.md §2). Rows come out segment-major:
 * row `i·q + j`, so the result is `[S·q, V]`, ready for `xl3m.score(result, { segments: S })`.
 *
 * @param output the model's logits over `plan.batch`: `[S, R, V]` flattened to `rows = S·R` (R =
 *   `opts.rowsPerSegment`, default `plan.rowLength`), host data of any dtype (Float32Array, Uint16Array of
 *   float16/bfloat16 bits, or Buffer / DataView bytes with `dtype`).
 * @param plan the plan the batch came from ({@link plan}); only `questionStart`, `questionTokens`, `rowLength`
 *   and `segments.length` are read.
 * @returns fresh host Logits of `S·q` rows, same dtype and vocab as `output`.
 * @throws TypeError for device data (gather on the device first) or a malformed plan; RangeError when
 *   `output.rows` is not `S·R` or a question position falls outside a row.
 */
export function gatherQuestionLogits(
  output: Logits,
  plan: Pick<Plan, 'questionStart' | 'questionTokens' | 'rowLength' | 'segments'>,
  opts: GatherQuestionOptions = {},
): Logits {
  const o = options<GatherQuestionOptions>(opts, 'opts', KEYS);
  const l = normalizeLogits(output, 'output');
  const p = object(plan, 'plan', '{ questionStart, questionTokens, rowLength, segments }');
  if (!Array.isArray(p.segments)) throw typeError('plan.segments must be an array (the plan from xl3m.plan)');
  const S = p.segments.length;
  const q = integer(p.questionTokens, 'plan.questionTokens', { min: 1 });
  const rowLength = integer(p.rowLength, 'plan.rowLength', { min: 1 });
  const starts = typedArray(p.questionStart, 'plan.questionStart', 'Int32Array', S, 'one per segment');
  const R = integer(o.rowsPerSegment ?? rowLength, 'opts.rowsPerSegment', { min: 1 });
  const offset = integer(o.offset ?? 0, 'opts.offset', { min: 0 });
  if (l.onDevice) {
    throw typeError('output.data is a DeviceTensor: gather the question rows on the device (lengthwise has no device gather yet)');
  }
  const V = l.native.vocab;
  if (l.native.rows !== S * R) {
    throw rangeError(`output.rows = ${l.native.rows} must be segments × rowsPerSegment = ${S} × ${R} = ${S * R} (the model's [S, R, V] output)`);
  }
  if (q > R) {
    throw rangeError(`plan.questionTokens = ${q} must be at most rowsPerSegment = ${R}: the question rows lie in one row of the output`);
  }
  const src = l.native.data as Float32Array | Uint16Array;
  const out = src instanceof Float32Array ? new Float32Array(S * q * V) : new Uint16Array(S * q * V);
  for (let i = 0; i < S; i++) {
    const first = starts[i]! - 1 + offset;
    if (first < 0 || first + q > R) {
      throw outOfRange(`plan.questionStart[${i}]`, `such that columns ${starts[i]! - 1}…${starts[i]! + q - 2} (+ offset ${offset}) lie in a row of ${R}`, starts[i]);
    }
    out.set(src.subarray((i * R + first) * V, (i * R + first + q) * V), i * q * V);
  }
  return { data: out, dtype: l.dtype, rows: S * q, vocab: V };
}
