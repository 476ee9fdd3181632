// Random logits for the tests, and the 16-bit codecs (lib/dtype, the repository's one codec), written once.
// Each generator keeps the exact random stream the tests were written against.
import { bf16Bits, f16Bits } from '../../lib/runtime/dtype';
import { randInt } from './rng';

export { bf16Bits, bf16Value, f16Bits, f16Value, fromBf16, toBf16, toF16 } from '../../lib/runtime/dtype';
export { lcg, uniformLogits } from '../../lib/runtime/prng';

export type RefDType = 'float32' | 'float16' | 'bfloat16';

/**
 * Random logits shaped like a model's: a few peaked tokens over a broad base, with exact ties sprinkled in.
 * Returns host data in the requested dtype (float16 values are built on the float16 grid, no rounding).
 */
export function randomLogits(
  r: () => number,
  rows: number,
  vocab: number,
  dtype: RefDType,
  scale = 8,
): Float32Array | Uint16Array {
  const n = rows * vocab;
  if (dtype === 'float32') {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale + (r() < 0.001 ? scale : 0);
    for (let k = 0; k < rows; k++) if (vocab > 2) a[k * vocab + vocab - 1] = a[k * vocab + 1]!; // a tie
    return a;
  }
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = dtype === 'bfloat16' ? bf16Bits((r() * 2 - 1) * scale + (r() < 0.001 ? scale : 0)) : f16Bits((r() * 2 - 1) * scale);
  }
  return a;
}

/** rows × vocab float32 logits, a fraction `negInfRate` of them −inf (never a whole row), scale varied per row. */
export function sparseLogits(r: () => number, rows: number, vocab: number, negInfRate = 0.1): Float32Array {
  const z = new Float32Array(rows * vocab);
  for (let i = 0; i < rows; i++) {
    const scale = 0.5 + 4 * r();
    let finite = false;
    for (let x = 0; x < vocab; x++) {
      const v = r() < negInfRate ? -Infinity : scale * (r() * 2 - 1);
      z[i * vocab + x] = v;
      finite ||= v !== -Infinity;
    }
    if (!finite) z[i * vocab + randInt(r, vocab)] = 0;
  }
  return z;
}

/** `n` normal float32 logits with standard deviation `scale` (Box–Muller, one draw per pair of uniforms). */
export function normalLogits(r: () => number, n: number, scale: number): Float32Array {
  const z = new Float32Array(n);
  for (let i = 0; i < n; i++) z[i] = scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return z;
}

/** Random 16-bit logits: values of magnitude about 2^-6..2^4 with random sign, as float16 or bfloat16 bits. */
export function random16(n: number, dtype: 'float16' | 'bfloat16', r: () => number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const sign = r() < 0.5 ? 0x8000 : 0;
    const e = Math.floor(r() * 10) - 6; // unbiased exponent −6..3
    if (dtype === 'float16') out[i] = sign | ((e + 15) << 10) | Math.floor(r() * 1024);
    else out[i] = sign | ((e + 127) << 7) | Math.floor(r() * 128);
  }
  return out;
}

/** `n` logits in a dtype: float32 uniform in [-6, 6), 16-bit ones from {@link random16}. */
export function wideLogits(dtype: RefDType, n: number, r: () => number): Float32Array | Uint16Array {
  return dtype === 'float32' ? Float32Array.from({ length: n }, () => (r() - 0.5) * 12) : random16(n, dtype, r);
}

/** Bits of ±inf / NaN in a dtype. */
export function special(dtype: RefDType, what: 'inf' | '-inf' | 'nan'): number {
  if (dtype === 'float32') return what === 'inf' ? Infinity : what === '-inf' ? -Infinity : NaN;
  if (dtype === 'bfloat16') return what === 'inf' ? 0x7f80 : what === '-inf' ? 0xff80 : 0x7fc0;
  return what === 'inf' ? 0x7c00 : what === '-inf' ? 0xfc00 : 0x7e00;
}
