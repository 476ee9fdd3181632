/**
 * float32 ↔ bfloat16 / float16 conversions of host values: 16-bit logits travel as `Uint16Array` bit patterns.
 * The one codec of the repository: the public `toBfloat16` / `fromBfloat16` / `toFloat16` / `fromFloat16`, the CLI,
 * and (through `test/helpers/logits.ts`) the tests, benches and GPU scripts use it.
 *
 * @packageDocumentation
 */

import { invalidType, outOfRange } from './validate';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of `x` (first rounded to float32, then to nearest even); every NaN becomes the quiet NaN 0x7fc0. */
export function bf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return 0x7fc0;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value of the bfloat16 bits `h`. */
export function bf16Value(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

/**
 * float16 bits of `x`: first rounded to float32, then to the nearest float16, ties to even (IEEE 754
 * roundTiesToEven). Magnitudes below 2^-14 become float16 subnormals (or ±0 below 2^-25); magnitudes from 65520
 * up overflow to ±Infinity; every NaN becomes the quiet NaN 0x7e00.
 */
export function f16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? 0x7e00 : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    // normal: keep 10 of the 23 mantissa bits, round the 13 dropped ones (a carry may reach the exponent / Inf)
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // subnormal: the value in units of 2^-24 is m · 2^(exp − 126), m the 24-bit significand
  const shift = 126 - exp;
  if (shift > 24) return sign;
  const m = mant | 0x800000;
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/** The value of the float16 bits `h` (subnormals, ±Infinity and NaN included). */
export function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits of every value (see {@link bf16Bits}). */
export function toBf16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bf16Bits(values[i]!);
  return out;
}

/** float32 values of bfloat16 bits (exact). */
export function fromBf16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bf16Value(bits[i]!);
  return out;
}

/** float16 bits of every value (see {@link f16Bits}). */
export function toF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f16Bits(values[i]!);
  return out;
}

/** float32 values of float16 bits (exact). */
export function fromF16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Value(bits[i]!);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The public helpers (validated).

function numbers(v: unknown, name: string): ArrayLike<number> {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && typeof (v as unknown as ArrayLike<unknown>)[0] !== 'bigint') {
    return v as unknown as ArrayLike<number>;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'number') throw invalidType(`${name}[${i}]`, 'a number', v[i]);
    }
    return v as number[];
  }
  throw invalidType(name, 'a Float32Array, a Float64Array or an array of numbers', v);
}

/**
 * 16-bit patterns as a Uint16Array: a Uint16Array itself, an array of integers in [0, 65535], or a Buffer /
 * Uint8Array / DataView over the bytes (platform byte order, i.e. little-endian) whose byte offset and length are
 * even.
 */
export function bits16(v: unknown, name: string): Uint16Array {
  if (v instanceof Uint16Array) return v;
  if (Array.isArray(v)) {
    const out = new Uint16Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number') throw invalidType(`${name}[${i}]`, 'an integer in [0, 65535]', x);
      if (!Number.isInteger(x) || x < 0 || x > 0xffff) throw outOfRange(`${name}[${i}]`, 'an integer in [0, 65535]', x);
      out[i] = x;
    }
    return out;
  }
  if (isByteView(v)) return byteView(v, 2, name, Uint16Array, '16-bit');
  throw invalidType(name, 'a Uint16Array of 16-bit patterns, an array of them, or a Buffer / DataView over their bytes', v);
}

/** Whether `v` is a view of raw bytes: a Buffer, Uint8Array, Int8Array, Uint8ClampedArray or DataView. */
export function isByteView(v: unknown): v is ArrayBufferView {
  return v instanceof DataView || v instanceof Uint8Array || v instanceof Int8Array || v instanceof Uint8ClampedArray;
}

/**
 * A typed-array view of the bytes of `v` (no copy): RangeError when the byte offset or length is not a multiple
 * of the element size (the message says how to get an aligned copy).
 */
export function byteView<T extends Float32Array | Uint16Array>(
  v: ArrayBufferView,
  size: 2 | 4,
  name: string,
  ctor: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T,
  what: string,
): T {
  if (v.byteLength % size !== 0) {
    throw outOfRange(`${name}.byteLength`, `a multiple of ${size} (whole ${what} elements)`, v.byteLength);
  }
  if (v.byteOffset % size !== 0) {
    throw outOfRange(
      `${name}.byteOffset`,
      `a multiple of ${size} to view ${what} elements without a copy; copy the bytes first (new Uint8Array(${name}) is an aligned copy)`,
      v.byteOffset,
    );
  }
  return new ctor(v.buffer, v.byteOffset, v.byteLength / size);
}

/**
 * float32 → bfloat16: the bfloat16 bit pattern of every value, rounded to nearest, ties to even (values are first
 * rounded to float32). NaN becomes the quiet NaN 0x7fc0, ±Infinity stays ±Infinity, finite values above the
 * largest bfloat16 (≈ 3.3895e38) round to ±Infinity, float32 subnormals stay subnormal.
 *
 * @param values float32 (or float64) values, any length.
 * @returns a fresh Uint16Array of the same length, ready as `Logits.data` with `dtype: 'bfloat16'`.
 * @throws TypeError when `values` is not a typed array of numbers or an array of numbers.
 */
export function toBfloat16(values: Float32Array | Float64Array | readonly number[]): Uint16Array {
  return toBf16(numbers(values, 'values'));
}

/**
 * bfloat16 → float32, exactly (every bfloat16 value is a float32 value; NaN stays NaN).
 *
 * @param bits bfloat16 bit patterns: a Uint16Array, an array of integers in [0, 65535], or a Buffer / DataView
 *   over little-endian bytes (even byte offset and length).
 * @returns a fresh Float32Array with one value per pattern.
 * @throws TypeError / RangeError for anything else, naming `bits`.
 */
export function fromBfloat16(bits: Uint16Array | readonly number[] | ArrayBufferView): Float32Array {
  return fromBf16(bits16(bits, 'bits'));
}

/**
 * float32 → float16 (IEEE binary16): the bit pattern of every value, rounded to nearest, ties to even (values are
 * first rounded to float32). Magnitudes below 2^-14 become subnormals (±0 at or below 2^-25), magnitudes from
 * 65520 up become ±Infinity, NaN becomes the quiet NaN 0x7e00.
 *
 * @param values float32 (or float64) values, any length.
 * @returns a fresh Uint16Array of the same length, ready as `Logits.data` with `dtype: 'float16'`.
 * @throws TypeError when `values` is not a typed array of numbers or an array of numbers.
 */
export function toFloat16(values: Float32Array | Float64Array | readonly number[]): Uint16Array {
  return toF16(numbers(values, 'values'));
}

/**
 * float16 → float32, exactly (subnormals, ±Infinity and NaN included).
 *
 * @param bits float16 bit patterns: a Uint16Array, an array of integers in [0, 65535], or a Buffer / DataView
 *   over little-endian bytes (even byte offset and length).
 * @returns a fresh Float32Array with one value per pattern.
 * @throws TypeError / RangeError for anything else, naming `bits`.
 */
export function fromFloat16(bits: Uint16Array | readonly number[] | ArrayBufferView): Float32Array {
  return fromF16(bits16(bits, 'bits'));
}
