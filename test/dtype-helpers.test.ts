// The public 16-bit helpers (toBfloat16 / fromBfloat16 / toFloat16 / fromFloat16) against an independent float64
// reference (nearest representable value by search, ties to the even pattern), exhaustively on every 16-bit
// pattern and its midpoints, and on 10^6 random float32 bit patterns; Buffer / DataView logits; the XL3M gather;
// greedy verifyTree without a seed.
import * as lw from '../lib';
import { rng } from './helpers/rng';

// --- reference: every finite non-negative value of a 16-bit format, sorted by value, with its pattern -------------
function table(decode: (h: number) => number, signBit: number): { v: Float64Array; h: Uint16Array } {
  const pairs: [number, number][] = [];
  for (let h = 0; h < signBit; h++) {
    const v = decode(h);
    if (Number.isFinite(v)) pairs.push([v, h]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { v: Float64Array.from(pairs, (p) => p[0]), h: Uint16Array.from(pairs, (p) => p[1]) };
}

function f16Decode(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return m * 2 ** -24;
  if (e === 31) return m ? NaN : Infinity;
  return (1 + m / 1024) * 2 ** (e - 15);
}
const bf16Buf = new DataView(new ArrayBuffer(4));
function bf16Decode(h: number): number {
  bf16Buf.setUint32(0, h << 16);
  return bf16Buf.getFloat32(0);
}

const F16 = table(f16Decode, 0x8000);
const BF16 = table(bf16Decode, 0x8000);

/** Reference rounding of a float32 value x: nearest entry, ties to the even pattern; overflow per IEEE. */
function refRound(x: number, t: { v: Float64Array; h: Uint16Array }, inf: number, nan: number): number {
  if (Number.isNaN(x)) return nan;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const n = t.v.length;
  const max = t.v[n - 1]!, ulpMax = max - t.v[n - 2]!;
  // IEEE: overflow to Inf at or above max + ulp/2 (the midpoint rounds to the even pattern, which is Inf)
  if (a >= max + ulpMax / 2) return sign | inf;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t.v[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - t.v[lo]!, dh = t.v[hi]! - a;
  let pick: number;
  if (a <= t.v[lo]!) pick = lo;
  else if (dl < dh) pick = lo;
  else if (dh < dl) pick = hi;
  else pick = (t.h[lo]! & 1) === 0 ? lo : hi;
  return sign | t.h[pick]!;
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const asF32 = (bits: number) => ((u32[0] = bits >>> 0), f32[0]!);

describe('toFloat16 / toBfloat16: round to nearest even, vs the reference', () => {
  test('every 16-bit pattern round-trips (NaN to the quiet NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = lw.fromFloat16(all), b = lw.fromBfloat16(all);
    const f2 = lw.toFloat16(f), b2 = lw.toBfloat16(b);
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      if (f2[h] !== (Number.isNaN(f[h]!) ? 0x7e00 : h)) bad.push(`f16 ${h}`);
      if (b2[h] !== (Number.isNaN(b[h]!) ? 0x7fc0 : h)) bad.push(`bf16 ${h}`);
      if (!Number.isNaN(f[h]!) && !Object.is(f[h], f16Decode(h & 0x7fff) * (h & 0x8000 ? -1 : 1))) bad.push(`f16 value ${h}`);
    }
    expect(bad).toEqual([]);
  });

  test('every midpoint between neighbours ties to even, and one float32 ulp either side rounds to the nearer', () => {
    for (const [t, to, inf, nan] of [[F16, lw.toFloat16, 0x7c00, 0x7e00], [BF16, lw.toBfloat16, 0x7f80, 0x7fc0]] as const) {
      const xs: number[] = [];
      for (let i = 0; i + 1 < t.v.length; i++) {
        const mid = Math.fround((t.v[i]! + t.v[i + 1]!) / 2);
        f32[0] = mid;
        const b = u32[0]!;
        xs.push(mid, asF32(b + 1), asF32(b - 1), -mid);
      }
      const got = to(Float32Array.from(xs));
      for (let i = 0; i < xs.length; i++) {
        const want = refRound(Math.fround(xs[i]!), t, inf, nan);
        if (got[i] !== want) throw new Error(`${to.name}(${xs[i]}) = ${got[i]!.toString(16)}, reference ${want.toString(16)}`);
      }
    }
  });

  test('10^6 random float32 bit patterns (all exponents: subnormals, overflow, NaN, ±Inf)', () => {
    const r = rng(17);
    const n = 1_000_000;
    const xs = new Float32Array(n);
    const bits = new Uint32Array(xs.buffer);
    for (let i = 0; i < n; i++) bits[i] = Math.floor(r() * 2 ** 32) >>> 0;
    // bias a quarter of them into float16's range, where its subnormals and overflow live
    for (let i = 0; i < n; i += 4) bits[i] = ((bits[i]! & 0x807fffff) | ((100 + (i % 45)) << 23)) >>> 0;
    const f = lw.toFloat16(xs), b = lw.toBfloat16(xs);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      if (f[i] !== refRound(xs[i]!, F16, 0x7c00, 0x7e00)) bad++;
      if (b[i] !== refRound(xs[i]!, BF16, 0x7f80, 0x7fc0)) bad++;
    }
    expect(bad).toBe(0);
  });

  test('named edge cases', () => {
    expect(Array.from(lw.toFloat16([0, -0, 1, -2, 65504, 65519.99, 65520, Infinity, -Infinity, NaN]))).toEqual(
      [0, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x7e00]);
    expect(Array.from(lw.toFloat16([2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -25, 2 ** -14]))).toEqual([1, 0, 1, 2, 0x400]);
    expect(Array.from(lw.toBfloat16([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, -Infinity, NaN]))).toEqual(
      [0x3f80, 0x3f80, 0x3f82, 0x7f80, 0xff80, 0x7fc0]);
    expect(Array.from(lw.fromFloat16([0x7c00, 0xfc00, 1, 0x3555]))).toEqual([Infinity, -Infinity, 2 ** -24, Math.fround(f16Decode(0x3555))]);
    expect(lw.fromBfloat16([0x7fc0])[0]).toBeNaN();
  });

  test('bad input names the argument, with a code', () => {
    expect(() => lw.toFloat16('x' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => lw.toBfloat16([1, 'a'] as never)).toThrow(/values\[1\]/);
    expect(() => lw.fromFloat16([70000])).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => lw.fromBfloat16(new Int32Array(2) as never)).toThrow(/bits must be a Uint16Array/);
    expect(() => lw.fromBfloat16(Buffer.alloc(3))).toThrow(/bits\.byteLength must be a multiple of 2/);
  });

  test('bytes in: a Buffer or DataView of little-endian patterns', () => {
    const bits = lw.toBfloat16([1.5, -2, 3.25]);
    const buf = Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength);
    expect(Array.from(lw.fromBfloat16(buf))).toEqual([1.5, -2, 3.25]);
    expect(Array.from(lw.fromBfloat16(new DataView(bits.buffer)))).toEqual([1.5, -2, 3.25]);
  });
});

describe('Buffer / DataView logits', () => {
  const rows = 3, vocab = 5;
  const values = Float32Array.from({ length: rows * vocab }, (_, i) => Math.sin(i) * 3);
  const bf16 = lw.toBfloat16(values);

  test('bf16 bytes in a Buffer (aligned, in a larger pool) equal the Uint16Array', async () => {
    const big = Buffer.alloc(bf16.byteLength + 8);
    Buffer.from(bf16.buffer).copy(big, 4);
    const view = big.subarray(4, 4 + bf16.byteLength);
    const a = await lw.logitStats({ data: bf16, dtype: 'bfloat16', rows, vocab });
    const b = await lw.logitStats({ data: view, dtype: 'bfloat16', rows, vocab });
    expect(Array.from(b.logsumexp)).toEqual(Array.from(a.logsumexp));
    const c = await lw.logitStats({ data: new DataView(values.buffer), dtype: 'float32', rows, vocab });
    const d = await lw.logitStats({ data: values, rows, vocab });
    expect(Array.from(c.entropy)).toEqual(Array.from(d.entropy));
  });

  test('misaligned bytes, odd lengths and a missing dtype are clear errors', async () => {
    const big = Buffer.alloc(bf16.byteLength + 1);
    const odd = big.subarray(1, 1 + bf16.byteLength);
    await expect(lw.logitStats({ data: odd, dtype: 'bfloat16', rows, vocab })).rejects.toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/logits\.data\.byteOffset.*new Uint8Array\(logits\.data\)/) }));
    // the suggested copy works
    Buffer.from(bf16.buffer).copy(odd);
    const ok = await lw.logitStats({ data: new Uint8Array(odd), dtype: 'bfloat16', rows, vocab });
    expect(ok.logsumexp).toHaveLength(rows);
    await expect(lw.logitStats({ data: Buffer.alloc(6), dtype: 'float32', rows: 1, vocab: 1 })).rejects.toThrow(/byteLength must be a multiple of 4/);
    await expect(lw.logitStats({ data: Buffer.from(bf16.buffer), rows, vocab })).rejects.toThrow(/raw bytes .*dtype must say/);
    await expect(lw.logitStats({ data: Buffer.from(bf16.buffer), dtype: 'bfloat16', rows, vocab: 4 })).rejects.toThrow(/rows × vocab/);
  });
});

describe('xl3m.gatherQuestionLogits', () => {
  test('picks columns questionStart − 1 … questionStart + q − 2 of every row, for both pad sides and an offset', () => {
    const tokens = Int32Array.from({ length: 23 }, (_, i) => i + 1);
    for (const padSide of ['right', 'left'] as const) {
      const plan = lw.xl3m.plan(tokens, { questionTokens: 3, segmentTokens: 6, overlapTokens: 2, padSide });
      const S = plan.segments.length, R = plan.rowLength, V = 2;
      for (const offset of [0, 1]) {
        const width = R + offset;
        // fake model output: element (i, c, v) = 1000 i + 10 c + v
        const out = Float32Array.from({ length: S * width * V }, (_, k) => {
          const v = k % V, c = Math.floor(k / V) % width, i = Math.floor(k / (V * width));
          return 1000 * i + 10 * c + v;
        });
        const g = lw.xl3m.gatherQuestionLogits({ data: out, rows: S * width, vocab: V }, plan,
          offset ? { rowsPerSegment: width, offset } : {});
        expect(g.rows).toBe(S * 3);
        for (let i = 0; i < S; i++) {
          for (let j = 0; j < 3; j++) {
            const c = plan.questionStart[i]! + j - 1 + offset;
            expect((g.data as Float32Array)[(i * 3 + j) * V + 1]).toBe(1000 * i + 10 * c + 1);
          }
        }
      }
    }
  });

  test('bf16 stays bf16; wrong row counts and device data are refused', async () => {
    const tokens = Int32Array.from({ length: 12 }, (_, i) => i);
    const plan = lw.xl3m.plan(tokens, { questionTokens: 2, segmentTokens: 5 });
    const S = plan.segments.length, V = 4;
    const bits = lw.toBfloat16(Float32Array.from({ length: S * plan.rowLength * V }, (_, i) => (i % 7) / 3));
    const g = lw.xl3m.gatherQuestionLogits({ data: bits, dtype: 'bfloat16', rows: S * plan.rowLength, vocab: V }, plan);
    expect(g.dtype).toBe('bfloat16');
    expect(g.data).toBeInstanceOf(Uint16Array);
    const scores = await lw.xl3m.score(g, { segments: S });
    expect(scores).toHaveLength(S);
    expect(() => lw.xl3m.gatherQuestionLogits({ data: bits, dtype: 'bfloat16', rows: S * plan.rowLength - V, vocab: V * 1 } as lw.Logits, plan))
      .toThrow();
    expect(() => lw.xl3m.gatherQuestionLogits({ data: new Float32Array(S * 2 * V), rows: S * 2, vocab: V }, plan, { rowsPerSegment: 2 }))
      .toThrow(/plan\.questionStart\[0\]/);
    expect(() => lw.xl3m.gatherQuestionLogits({ data: bits, dtype: 'bfloat16', rows: S * plan.rowLength, vocab: V }, plan, { rowsPerSegmnet: 1 } as never))
      .toThrow(/rowsPerSegment/);
  });
});

describe('seed is optional where nothing is sampled', () => {
  const trees = { tokens: Int32Array.from([0, 2, 1]), parents: Int32Array.from([-1, 0, 1]), offsets: Int32Array.from([0, 3]) };
  const target = { data: Float32Array.from([0, 0, 5, 0, 9, 0, 3, 0, 0]), rows: 3, vocab: 3 };

  test('greedy verifyTree without a seed = with any seed', async () => {
    const a = await lw.verifyTree(trees, target, { mode: 'greedy' });
    const b = await lw.verifyTree(trees, target, { mode: 'greedy', seed: 12345 });
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.acceptedLength)).toEqual([2]);
  });

  test("'sample' without a seed says it is required there", async () => {
    await expect(lw.verifyTree(trees, target, { mode: 'sample' })).rejects.toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/opts\.seed is required in 'sample' mode/) }));
  });

  test('the tree utilities take no seed at all', async () => {
    expect(await lw.tree.expectedAcceptance(trees, target)).toHaveLength(1);
  });
});
