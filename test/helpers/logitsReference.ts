/** Float64 reference of logitStats (DESIGN.md §4.1) and random logits in every dtype, for tests only. */
import { RefDType, toFloat } from './xl3mReference';

export interface RefStats {
  logsumexp: Float64Array;
  entropy: Float64Array;
  varentropy: Float64Array;
  maxProb: Float64Array;
  argmax: Int32Array;
  nll: Float64Array;
  targetRank: Int32Array;
  nanRow: Uint8Array;
}

/** Straightforward two-pass float64 computation, one row at a time. */
export function refLogitStats(
  data: Float32Array | Uint16Array,
  dtype: RefDType,
  rows: number,
  vocab: number,
  targets?: Int32Array,
  temperature = 1,
): RefStats {
  const out: RefStats = {
    logsumexp: new Float64Array(rows),
    entropy: new Float64Array(rows),
    varentropy: new Float64Array(rows),
    maxProb: new Float64Array(rows),
    argmax: new Int32Array(rows),
    nll: new Float64Array(rows),
    targetRank: new Int32Array(rows),
    nanRow: new Uint8Array(rows),
  };
  const x = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    let arg = 0;
    let nan = false;
    for (let v = 0; v < vocab; v++) {
      const raw = toFloat(data, dtype, r * vocab + v);
      x[v] = raw / temperature;
      if (Number.isNaN(raw)) nan = true;
      if (x[v] > m) {
        m = x[v];
        arg = v;
      }
    }
    out.argmax[r] = arg;
    if (targets) {
      let g = 0;
      for (let v = 0; v < vocab; v++) if (x[v] > x[targets[r]!]!) g++;
      out.targetRank[r] = g;
    }
    if (nan) {
      out.nanRow[r] = 1;
      out.logsumexp[r] = out.entropy[r] = out.varentropy[r] = out.maxProb[r] = out.nll[r] = NaN;
      continue;
    }
    let s = 0;
    let u = 0;
    let w = 0;
    for (let v = 0; v < vocab; v++) {
      if (x[v] === -Infinity) continue;
      const d = x[v]! - m;
      const e = Math.exp(d);
      s += e;
      u += e * d;
      w += e * d * d;
    }
    const lse = m + Math.log(s);
    out.logsumexp[r] = lse;
    out.entropy[r] = Math.log(s) - u / s;
    out.varentropy[r] = Math.max(0, w / s - (u / s) ** 2);
    out.maxProb[r] = 1 / s;
    out.nll[r] = targets ? lse - x[targets[r]!]! : NaN;
  }
  return out;
}

import { mulberry32 } from '../../lib/prng';

/** Mulberry32 uniforms in [0, 1) (lib/prng). */
export const prng = mulberry32;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toBf16Bits(x: number): number {
  f32[0] = x;
  return (u32[0]! + 0x7fff + ((u32[0]! >>> 16) & 1)) >>> 16;
}

// float16 bits of a value in [-64, 64) with a 10-bit mantissa: built directly, no rounding needed.
function f16Bits(r: () => number, scale: number): number {
  const v = (r() * 2 - 1) * scale;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a < 2 ** -14) return sign;
  const e = Math.floor(Math.log2(a));
  const m = Math.min(1023, Math.floor((a / 2 ** e - 1) * 1024));
  return sign | ((e + 15) << 10) | m;
}

/**
 * Random logits shaped like a model's: a few peaked tokens over a broad base, with exact ties sprinkled in.
 * Returns host data in the requested dtype.
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
    a[i] = dtype === 'bfloat16' ? toBf16Bits((r() * 2 - 1) * scale + (r() < 0.001 ? scale : 0)) : f16Bits(r, scale);
  }
  return a;
}

/** Bits of ±inf / NaN in a dtype. */
export function special(dtype: RefDType, what: 'inf' | '-inf' | 'nan'): number {
  if (dtype === 'float32') return what === 'inf' ? Infinity : what === '-inf' ? -Infinity : NaN;
  if (dtype === 'bfloat16') return what === 'inf' ? 0x7f80 : what === '-inf' ? 0xff80 : 0x7fc0;
  return what === 'inf' ? 0x7c00 : what === '-inf' ? 0xfc00 : 0x7e00;
}
