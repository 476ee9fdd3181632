/** Float64 reference of xl3m scoring and 16-bit conversions, for tests only. */
import { refLogitStats } from './logitsReference';

export type RefDType = 'float32' | 'float16' | 'bfloat16';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return 0x7fc0; // NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16ToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Random 16-bit logits: values of magnitude about 2^-6..2^4 with random sign, as float16 or bfloat16 bits. */
export function random16(n: number, dtype: 'float16' | 'bfloat16', rand: () => number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const sign = rand() < 0.5 ? 0x8000 : 0;
    const e = Math.floor(rand() * 10) - 6; // unbiased exponent −6..3
    if (dtype === 'float16') out[i] = sign | ((e + 15) << 10) | Math.floor(rand() * 1024);
    else out[i] = sign | ((e + 127) << 7) | Math.floor(rand() * 128);
  }
  return out;
}

import { mulberry32 } from '../../lib/prng';

/** Mulberry32 uniforms in [0, 1) (lib/prng). */
export const rng = mulberry32;

export function toFloat(data: Float32Array | Uint16Array, dtype: RefDType, i: number): number {
  if (dtype === 'float32') return data[i];
  return dtype === 'float16' ? f16ToFloat(data[i]) : bf16ToFloat(data[i]);
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
