// The lean CPU row reduction of XL3M scoring (native/cpu/xl3m_row_cpu.cc) on every SIMD path: awkward vocab
// sizes (around the 16-column vectors, the 2048-column blocks and the 16384-column slices), extreme values, the
// running max rising in every block, ±inf and NaN, temperature — against the float64 reference.
import { score, createScorer } from '../lib/xl3m/score';
import type { NativeTuning } from '../lib/runtime/native';
import { bf16Bits, f16Bits, randomLogits, type RefDType, special } from './helpers/logits';
import { refLogitStats } from './helpers/logitsReference';
import { rng } from './helpers/rng';

type Data = Float32Array | Uint16Array;
const DTYPES: RefDType[] = ['float32', 'float16', 'bfloat16'];
const VOCABS = [1, 15, 17, 2049, 16385, 40000];
const SIMD = ['scalar', 'avx2', 'avx512'] as const;
// The SIMD cap every call of the running block passes (tuning.simd; {} = the process's own level).
let tuning: NativeTuning = {};

function encode(values: Float64Array | number[], dtype: RefDType): Data {
  if (dtype === 'float32') return Float32Array.from(values);
  return Uint16Array.from(values, (v) => (dtype === 'bfloat16' ? bf16Bits(v) : f16Bits(v)));
}

/** Rows of the shapes that stress the lean path; values stay within the dtype's range. */
function stressRows(dtype: RefDType, V: number, seed: number): number[][] {
  const r = rng(seed);
  const big = dtype === 'float16' ? 6e4 : 1e30;
  const rows: number[][] = [];
  rows.push(Array.from({ length: V }, (_, v) => v * 0.002)); // rising: a new max in every block
  rows.push(Array.from({ length: V }, (_, v) => -v * 0.002)); // falling
  rows.push(Array.from({ length: V }, () => (r() * 2 - 1) * 40)); // wide spread: most terms underflow
  rows.push(Array.from({ length: V }, () => (dtype === 'float16' ? 3e4 : 1e4) + r())); // large offset
  rows.push(Array.from({ length: V }, (_, v) => (v === V - 1 ? 0 : -big * r()))); // one term, the rest ~−big
  rows.push(Array.from({ length: V }, (_, v) => (v % 7 === 3 || v === V - 1 ? r() * 4 : -Infinity))); // masked vocab
  rows.push(Array.from({ length: V }, (_, v) => (v === (V >> 1) ? 5 : -Infinity))); // a single finite logit
  rows.push(Array.from({ length: V }, () => 0)); // uniform: entropy log V
  return rows;
}

// Tolerance of the other XL3M tests; `lse` (for NLL): NLL = logsumexp − x_target with logsumexp in fp32 (as every
// backend and logitStats compute it), so one fp32 rounding of logsumexp (2^-24 relative) is added.
function check(got: Float32Array, want: Float64Array, what: string, lse?: Float64Array): void {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) {
    const w = want[i]!, g = got[i]!;
    const tol = 2e-5 + 2e-6 * Math.abs(w) + (lse ? 2 ** -24 * Math.abs(lse[i]!) : 0);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol;
    if (!ok) bad.push(`${what} row ${i}: got ${g}, want ${w}`);
  }
  expect(bad).toEqual([]);
}

async function rowValues(data: Data, dtype: RefDType, rows: number, vocab: number, metric: 'entropy' | 'nll', targets: Int32Array, temperature: number) {
  return score({ data, dtype, rows, vocab }, { segments: rows, metric, pooling: 'last', targets, temperature, backend: 'cpu', tuning });
}

describe.each([0, 1, 2])('xl3m lean CPU path, SIMD level %i', (level) => {
  beforeAll(() => { tuning = { simd: SIMD[level] }; });
  afterAll(() => { tuning = {}; });

  test.each(DTYPES)('%s: awkward vocab sizes, random and extreme rows, temperature', async (dtype) => {
    for (const V of VOCABS) {
      const r = rng(V * 13 + level);
      const random = randomLogits(r, 3, V, dtype);
      const peaked = randomLogits(r, 2, V, dtype, 30);
      const stress = encode(stressRows(dtype, V, V + level).flat(), dtype);
      for (const data of [random, peaked, stress]) {
        const rows = data.length / V;
        const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919 + V) % V);
        for (const temperature of [1, 0.5, 2]) {
          const ref = refLogitStats(data, dtype, rows, V, targets, temperature);
          const what = `${dtype} V=${V} T=${temperature}`;
          check(await rowValues(data, dtype, rows, V, 'entropy', targets, temperature), ref.entropy, `${what} entropy`);
          check(await rowValues(data, dtype, rows, V, 'nll', targets, temperature), ref.nll, `${what} nll`, ref.logsumexp);
        }
      }
    }
  });

  test.each(DTYPES)('%s: +inf rows (uniform over the +inf entries), NaN rows, all −inf rows', async (dtype) => {
    for (const V of [17, 2049, 40000]) {
      const rows = 3;
      const data: Data = dtype === 'float32' ? new Float32Array(rows * V) : new Uint16Array(rows * V);
      const r = rng(V);
      for (let i = 0; i < data.length; i++) data[i] = dtype === 'float32' ? r() * 4 : dtype === 'bfloat16' ? bf16Bits(r() * 4) : f16Bits(r() * 4);
      // Row 0: +inf at 3 places (one of them the target of row 0); row 1: +inf at 2 places, target finite;
      // row 2: one NaN among finite values.
      const inf0 = [1, V >> 1, V - 1], inf1 = [0, V - 2];
      for (const v of inf0) data[v] = special(dtype, 'inf');
      for (const v of inf1) data[V + v] = special(dtype, 'inf');
      data[2 * V + (V >> 2)] = special(dtype, 'nan');
      const targets = Int32Array.of(V >> 1, 3, 0);
      const ent = await rowValues(data, dtype, rows, V, 'entropy', targets, 1);
      const nll = await rowValues(data, dtype, rows, V, 'nll', targets, 0.7);
      expect(ent[0]).toBeCloseTo(Math.log(3), 6);
      expect(ent[1]).toBeCloseTo(Math.log(2), 6);
      expect(Number.isNaN(ent[2])).toBe(true);
      expect(nll[0]).toBeCloseTo(Math.log(3), 6);
      expect(nll[1]).toBe(Infinity);
      expect(Number.isNaN(nll[2])).toBe(true);
      // A NaN hidden in a block of −inf (no finite value there) still makes the row NaN.
      const masked: Data = dtype === 'float32' ? new Float32Array(V).fill(-Infinity) : new Uint16Array(V).fill(special(dtype, '-inf'));
      masked[0] = dtype === 'float32' ? 1 : dtype === 'bfloat16' ? bf16Bits(1) : f16Bits(1);
      masked[V - 1] = special(dtype, 'nan');
      expect(Number.isNaN((await rowValues(masked, dtype, 1, V, 'entropy', Int32Array.of(0), 1))[0])).toBe(true);
      const dead: Data = dtype === 'float32' ? new Float32Array(2 * V) : new Uint16Array(2 * V);
      dead.fill(special(dtype, '-inf'), V);
      await expect(rowValues(dead, dtype, 2, V, 'entropy', Int32Array.of(0, 0), 1)).rejects.toThrow(/row 1 is all -Infinity/);
    }
  });

  test('streaming equals one-shot bit for bit on this path', async () => {
    const S = 5, P = 3, V = 16385 + 2049, rows = S * P;
    const data = randomLogits(rng(9 + level), rows, V, 'float32') as Float32Array;
    const targets = Int32Array.from({ length: rows }, (_, i) => (i * 31) % V);
    for (const metric of ['entropy', 'nll'] as const) {
      const once = await score({ data, rows, vocab: V }, { segments: S, metric, targets, backend: 'cpu', tuning });
      const sc = createScorer({ segments: S, positionsPerSegment: P, metric, backend: 'cpu', tuning });
      for (let r0 = 0; r0 < rows; r0 += 4) {
        const n = Math.min(4, rows - r0);
        await sc.push({ data: data.subarray(r0 * V, (r0 + n) * V), rows: n, vocab: V }, targets.subarray(r0, r0 + n));
      }
      expect(Array.from(sc.finish())).toEqual(Array.from(once));
    }
  });
});

test('all SIMD paths agree closely with each other', async () => {
  const V = 40000, rows = 4;
  const data = randomLogits(rng(77), rows, V, 'bfloat16');
  const targets = Int32Array.of(0, 1, 2, 3);
  const per: Float32Array[] = [];
  for (const level of [0, 1, 2]) {
    tuning = { simd: SIMD[level] };
    per.push(await rowValues(data, 'bfloat16', rows, V, 'entropy', targets, 1));
  }
  tuning = {};
  for (const p of per) for (let i = 0; i < rows; i++) expect(Math.abs(p[i]! - per[0]![i]!)).toBeLessThan(1e-5);
});
