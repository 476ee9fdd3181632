import { backendInfo, logitStats, LogitStatsResult } from '../lib';
import { cpuNative } from '../lib/runtime/native';
import { randomLogits, type RefDType, special } from './helpers/logits';
import { refLogitStats, type RefStats } from './helpers/logitsReference';
import { rng } from './helpers/rng';

const DTYPES: RefDType[] = ['float32', 'float16', 'bfloat16'];

function close(got: number, want: number, rel: number, abs: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= abs + rel * Math.abs(want);
}

function expectMatches(got: LogitStatsResult, ref: RefStats, rows: number, withTargets: boolean): void {
  const bad: string[] = [];
  for (let r = 0; r < rows && bad.length < 5; r++) {
    const check = (name: string, g: number, w: number, rel: number, abs: number) => {
      if (!close(g, w, rel, abs)) bad.push(`row ${r} ${name}: got ${g}, want ${w}`);
    };
    check('logsumexp', got.logsumexp[r]!, ref.logsumexp[r]!, 2e-6, 2e-6);
    check('entropy', got.entropy[r]!, ref.entropy[r]!, 1e-5, 2e-5);
    check('varentropy', got.varentropy[r]!, ref.varentropy[r]!, 1e-4, 1e-4);
    check('maxProb', got.maxProb[r]!, ref.maxProb[r]!, 1e-5, 1e-9);
    if (got.argmax[r] !== ref.argmax[r]) bad.push(`row ${r} argmax: got ${got.argmax[r]}, want ${ref.argmax[r]}`);
    if (withTargets) {
      check('nll', got.nll![r]!, ref.nll[r]!, 1e-5, 2e-5);
      if (got.targetRank![r] !== ref.targetRank[r]) bad.push(`row ${r} targetRank: got ${got.targetRank![r]}, want ${ref.targetRank[r]}`);
    }
  }
  expect(bad).toEqual([]);
}

const SIMD = ['scalar', 'avx2', 'avx512'] as const;

describe('logitStats (CPU) vs float64 reference', () => {
  const shapes: [number, number][] = [
    [1, 1], [513, 1], [37, 7], [513, 7], [300, 100], [3, 32000], [65, 32000], [2, 128256], [5, 151936], [1, 151936],
  ];
  for (const dtype of DTYPES) {
    for (const [rows, vocab] of shapes) {
      test(`${dtype} ${rows} × ${vocab}`, async () => {
        const r = rng(rows * 31 + vocab);
        const data = randomLogits(r, rows, vocab, dtype);
        const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
        const temperature = vocab % 2 ? 0.7 : 1;
        const ref = refLogitStats(data, dtype, rows, vocab, targets, temperature);
        const got = await logitStats({ data, dtype, rows, vocab }, { targets, temperature, backend: 'cpu' });
        expectMatches(got, ref, rows, true);
        expect(got.hasNaN).toBe(false);
      });
    }
  }

  test.each([0, 1, 2])('every SIMD path agrees with the reference (level %i)', async (level) => {
    const tuning = { simd: SIMD[level] };
    for (const dtype of DTYPES) {
      for (const [rows, vocab] of [[7, 32000], [3, 4099], [64, 33]] as [number, number][]) {
        const r = rng(level * 7 + vocab);
        const data = randomLogits(r, rows, vocab, dtype);
        const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
        const ref = refLogitStats(data, dtype, rows, vocab, targets);
        const got = await logitStats({ data, dtype, rows, vocab }, { targets, backend: 'cpu', tuning });
        expectMatches(got, ref, rows, true);
      }
    }
  });

  // The per-call tuning field must reach the kernels on every pool thread: the scalar and vector paths sum in
  // different orders, so a row's four float outputs differ from the vector path's in the last bits on most rows
  // (~61 of these 64 measured; they agree to ~1e-6). A field ignored on the pool's workers would leave about
  // half the rows bit-equal, one ignored everywhere all of them.
  test('tuning.simd selects the path of every row (scalar differs from the vector path in the last bits)', async () => {
    if (backendInfo().simd === 'scalar') return;  // nothing to tell apart on this CPU
    const rows = 64, vocab = 32000;
    const data = randomLogits(rng(5), rows, vocab, 'float32');
    const scalar = await logitStats({ data, rows, vocab }, { backend: 'cpu', tuning: { simd: 'scalar' } });
    const vector = await logitStats({ data, rows, vocab }, { backend: 'cpu' });
    const keys = ['logsumexp', 'entropy', 'varentropy', 'maxProb'] as const;
    let differ = 0;
    for (let r = 0; r < rows; r++) if (keys.some((k) => scalar[k][r] !== vector[k][r])) differ++;
    expect(differ).toBeGreaterThan((rows * 3) / 4);
  });

  test('without targets there is no nll/targetRank', async () => {
    const data = randomLogits(rng(1), 4, 50, 'float32') as Float32Array;
    const got = await logitStats({ data, rows: 4, vocab: 50 });
    expect(got.nll).toBeUndefined();
    expect(got.targetRank).toBeUndefined();
  });

  test('empty batch', async () => {
    const got = await logitStats({ data: new Float32Array(0), rows: 0, vocab: 10 });
    expect(got.entropy.length).toBe(0);
  });
});

describe('logitStats edge cases', () => {
  test.each(DTYPES)('ties resolve to the lowest index (%s)', async (dtype) => {
    const vocab = 5000;
    const data = dtype === 'float32' ? new Float32Array(2 * vocab) : new Uint16Array(2 * vocab);
    // row 0: all equal → argmax 0, maxProb 1/V, entropy log V; row 1: two maxima far apart
    for (let i = vocab; i < 2 * vocab; i++) data[i] = dtype === 'float32' ? -1 : dtype === 'bfloat16' ? 0xbf80 : 0xbc00;
    const one = dtype === 'float32' ? 1 : dtype === 'bfloat16' ? 0x3f80 : 0x3c00;
    data[vocab + 4097] = one;
    data[vocab + 4999] = one;
    const got = await logitStats({ data, dtype, rows: 2, vocab }, { targets: new Int32Array([3, 4999]) });
    expect(got.argmax[0]).toBe(0);
    expect(got.maxProb[0]).toBeCloseTo(1 / vocab, 8);
    expect(got.entropy[0]).toBeCloseTo(Math.log(vocab), 4);
    expect(got.varentropy[0]).toBeCloseTo(0, 5);
    expect(got.argmax[1]).toBe(4097);
    expect(got.targetRank![1]).toBe(0);
    expect(got.targetRank![0]).toBe(0);
  });

  test.each(DTYPES)('±inf and NaN rows (%s)', async (dtype) => {
    const vocab = 3000;
    const rows = 4;
    const r = rng(9);
    const data = randomLogits(r, rows, vocab, dtype);
    // row 0: some −inf entries (ignored); row 1: two +inf entries (all mass there); row 2: a NaN; row 3 normal
    for (let v = 0; v < vocab; v += 3) data[v] = special(dtype, '-inf');
    data[vocab + 10] = special(dtype, 'inf');
    data[vocab + 2500] = special(dtype, 'inf');
    data[2 * vocab + 1234] = special(dtype, 'nan');
    const targets = new Int32Array([0, 10, 5, 6]);
    const got = await logitStats({ data, dtype, rows, vocab }, { targets });
    const ref = refLogitStats(data, dtype, rows, vocab, targets);
    expect(got.logsumexp[0]).toBeCloseTo(ref.logsumexp[0]!, 4);
    expect(got.nll![0]).toBe(Infinity);
    expect(got.logsumexp[1]).toBe(Infinity);
    expect(got.argmax[1]).toBe(10);
    expect(got.maxProb[1]).toBeCloseTo(0.5, 6);
    expect(got.entropy[1]).toBeCloseTo(Math.log(2), 6);
    expect(got.nll![1]).toBeCloseTo(Math.log(2), 6);
    expect(Number.isNaN(got.entropy[2]!)).toBe(true);
    expect(Number.isNaN(got.logsumexp[2]!)).toBe(true);
    expect(got.hasNaN).toBe(true);
    expect(got.logsumexp[3]).toBeCloseTo(ref.logsumexp[3]!, 4);
  });

  test('an all −inf row is a RangeError naming the row', async () => {
    const data = new Float32Array(3 * 100).fill(1);
    data.fill(-Infinity, 100, 200);
    await expect(logitStats({ data, rows: 3, vocab: 100 })).rejects.toThrow(/row 1 is all -Infinity/);
    await expect(logitStats({ data, rows: 3, vocab: 100 })).rejects.toBeInstanceOf(RangeError);
  });

  test('few rows split across threads give the same answer as the per-row path', async () => {
    const vocab = 200000;
    const data = randomLogits(rng(3), 2, vocab, 'float32') as Float32Array;
    const targets = new Int32Array([7, 199999]);
    const both = await logitStats({ data, rows: 2, vocab }, { targets });
    const single = await logitStats({ data: data.subarray(vocab), rows: 1, vocab }, { targets: targets.subarray(1) });
    const ref = refLogitStats(data, 'float32', 2, vocab, targets);
    expectMatches(both, ref, 2, true);
    expect(single.argmax[0]).toBe(both.argmax[1]);
    expect(single.targetRank![0]).toBe(both.targetRank![1]);
  });
});

describe('logitStats input validation', () => {
  const data = new Float32Array(20);
  const bad: [string, () => Promise<unknown>, RegExp, ErrorConstructor][] = [
    ['logits not an object', () => logitStats(null as never), /logits must be an object/, TypeError],
    ['rows not integer', () => logitStats({ data, rows: 2.5, vocab: 8 }), /logits.rows must be an integer/, RangeError],
    ['vocab zero', () => logitStats({ data, rows: 2, vocab: 0 }), /logits.vocab must be an integer >= 1/, RangeError],
    ['length mismatch', () => logitStats({ data, rows: 3, vocab: 10 }), /logits.data has 20 elements but rows × vocab = 3 × 10/, RangeError],
    ['wrong array type', () => logitStats({ data: new Float64Array(20) as never, rows: 2, vocab: 10 }), /logits.data must be/, TypeError],
    ['uint16 without dtype', () => logitStats({ data: new Uint16Array(20), rows: 2, vocab: 10 }), /dtype must say/, TypeError],
    ['float32 with dtype bfloat16', () => logitStats({ data, dtype: 'bfloat16', rows: 2, vocab: 10 }), /Float32Array but logits.dtype/, TypeError],
    ['bad dtype', () => logitStats({ data, dtype: 'int8' as never, rows: 2, vocab: 10 }), /logits.dtype must be/, RangeError],
    ['targets wrong type', () => logitStats({ data, rows: 2, vocab: 10 }, { targets: [1, 2] as never }), /opts.targets must be an Int32Array/, TypeError],
    ['targets wrong length', () => logitStats({ data, rows: 2, vocab: 10 }, { targets: new Int32Array(3) }), /opts.targets must be an Int32Array of 2 entries \(one per row\) \(got Int32Array\(3\)\)/, RangeError],
    ['target out of range', () => logitStats({ data, rows: 2, vocab: 10 }, { targets: new Int32Array([1, 10]) }), /opts.targets\[1\] must be a token id in \[0, vocab = 10\) \(got 10\)/, RangeError],
    ['temperature 0', () => logitStats({ data, rows: 2, vocab: 10 }, { temperature: 0 }), /opts.temperature must be a finite number > 0/, RangeError],
    ['temperature NaN', () => logitStats({ data, rows: 2, vocab: 10 }, { temperature: NaN }), /opts.temperature/, RangeError],
    ['huge shape', () => logitStats({ data, rows: 2 ** 40, vocab: 2 ** 20 }), /too large/, RangeError],
    ['bad backend', () => logitStats({ data, rows: 2, vocab: 10 }, { backend: 'tpu' as never }), /opts.backend must be/, RangeError],
  ];
  test.each(bad)('%s', async (_name, call, message, type) => {
    await expect(call()).rejects.toThrow(message);
    await expect(call()).rejects.toBeInstanceOf(type);
  });

  test('a detached buffer is a TypeError', async () => {
    const d = new Float32Array(20);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    await expect(logitStats({ data: d, rows: 2, vocab: 10 })).rejects.toBeInstanceOf(RangeError);
  });

  test('an aborted signal rejects before any work', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(logitStats({ data, rows: 2, vocab: 10 }, { signal: ac.signal })).rejects.toThrow(/abort/i);
  });

  test('the native layer rejects malformed objects even without the TS checks', async () => {
    const raw = cpuNative()['logitStats'] as (l: unknown, o: unknown) => Promise<unknown>;
    // Errors made by the addon belong to Node's main realm (not jest's), so compare names.
    const nameOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).name;
      }
      return 'no error';
    };
    expect(nameOf(() => raw({ data: 'x', dtype: 'float32', rows: 1, vocab: 1 }, {}))).toBe('TypeError');
    expect(nameOf(() => raw({ data: new Float32Array(3), dtype: 'float32', rows: 2, vocab: 2 }, {}))).toBe('RangeError');
    // The dtype crosses by name: another string is out of range, a number is the wrong type.
    expect(nameOf(() => raw({ data: new Float32Array(4), dtype: 'int7', rows: 2, vocab: 2 }, {}))).toBe('RangeError');
    expect(nameOf(() => raw({ data: new Float32Array(4), dtype: 0, rows: 2, vocab: 2 }, {}))).toBe('TypeError');
  });
});

describe('logitStats concurrency', () => {
  test('many calls in flight equal sequential calls, and inputs stay alive', async () => {
    const calls = Array.from({ length: 64 }, (_, k) => {
      const vocab = 1000 + k * 13;
      return { data: randomLogits(rng(k), 3, vocab, 'float32') as Float32Array, rows: 3, vocab };
    });
    const sequential: LogitStatsResult[] = [];
    for (const c of calls) sequential.push(await logitStats(c));
    const parallel = await Promise.all(calls.map((c) => logitStats({ ...c, data: c.data.slice() })));
    for (let k = 0; k < calls.length; k++) {
      expect(Array.from(parallel[k]!.entropy)).toEqual(Array.from(sequential[k]!.entropy));
      expect(Array.from(parallel[k]!.argmax)).toEqual(Array.from(sequential[k]!.argmax));
    }
  });
});
