/**
 * float32 ↔ bfloat16 / float16 conversions of host values: 16-bit logits travel as `Uint16Array` bit patterns.
 * Used by the CLI benchmark and, through `test/helpers/logits.ts`, by the repository's tests, benches and GPU
 * scripts (the one codec of the repository).
 *
 * @packageDocumentation
 */

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
 * float16 bits of `x`, the mantissa truncated toward zero (exact for values on the float16 grid, which is how the
 * tests build their data: the references read the stored bits back). Magnitudes below 2^-14 flush to ±0 and
 * finite magnitudes above 65504 saturate to 65504; ±Infinity and NaN map to their float16 codes.
 */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign;
  let e = Math.min(15, Math.floor(Math.log2(a)));
  if (a < 2 ** e) e--; // Math.log2 may round up just below a power of two
  const m = Math.min(1023, Math.floor((a / 2 ** e - 1) * 1024));
  return sign | ((e + 15) << 10) | m;
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
