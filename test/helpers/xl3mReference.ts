/** Float64 reference of xl3m scoring, for tests only. */
import { bf16Value, f16Value, type RefDType } from './logits';
import { refLogitStats } from './logitsReference';

export function toFloat(data: Float32Array | Uint16Array, dtype: RefDType, i: number): number {
  if (dtype === 'float32') return data[i];
  return dtype === 'float16' ? f16Value(data[i]) : bf16Value(data[i]);
}

/** Per-row entropy and NLL (if targets) in float64 (the logitStats reference). */
export function refRowStats(
  data: Float32Array | Uint16Array,
  dtype: RefDType,
  rows: number,
  vocab: number,
  targets?: Int32Array,
  temperature = 1,
): { entropy: Float64Array; nll: Float64Array } {
  const { entropy, nll } = refLogitStats(data, dtype, rows, vocab, targets, temperature);
  return { entropy, nll };
}

/** Pools per-row values into per-segment scores. */
export function refPool(values: Float64Array, segments: number, pooling: 'mean' | 'last' | 'min'): Float64Array {
  const P = values.length / segments;
  const out = new Float64Array(segments);
  for (let s = 0; s < segments; s++) {
    const row = values.subarray(s * P, (s + 1) * P);
    if (pooling === 'last') out[s] = row[P - 1];
    else if (pooling === 'min') out[s] = row.some(Number.isNaN) ? NaN : Math.min(...row);
    else out[s] = row.reduce((a, b) => a + b, 0) / P;
  }
  return out;
}
