import { score, createScorer } from '../lib/xl3m/score';
import { select } from '../lib/xl3m/select';
import { plan } from '../lib/xl3m/plan';
import { type RefDType, wideLogits } from './helpers/logits';
import { rng } from './helpers/rng';
import { refPool, refRowStats } from './helpers/xl3mReference';

type Data = Float32Array | Uint16Array;


function targetsFor(rows: number, vocab: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
}

describe('xl3m.score vs float64 reference (CPU)', () => {
  const cases: [RefDType, number, number, number][] = [
    // dtype, segments, positions, vocab
    ['float32', 3, 5, 1],
    ['float32', 4, 3, 2049],
    ['float32', 2, 2, 40001],
    ['float16', 5, 1, 7],
    ['float16', 3, 4, 16385],
    ['bfloat16', 7, 3, 333],
    ['bfloat16', 2, 6, 32771],
  ];
  test.each(cases)('%s segments=%i positions=%i vocab=%i', async (dtype, S, P, V) => {
    const rows = S * P;
    const data = wideLogits(dtype, rows * V, rng(S * 1000 + V));
    const targets = targetsFor(rows, V, V);
    for (const temperature of [1, 0.6]) {
      const ref = refRowStats(data, dtype, rows, V, targets, temperature);
      for (const metric of ['entropy', 'nll'] as const) {
        for (const pooling of ['mean', 'last', 'min'] as const) {
          const got = await score({ data, dtype, rows, vocab: V }, { segments: S, metric, pooling, targets, temperature, backend: 'cpu' });
          const want = refPool(metric === 'nll' ? ref.nll : ref.entropy, S, pooling);
          expect(Object.prototype.toString.call(got)).toBe("[object Float32Array]");
          expect(got.length).toBe(S);
          for (let s = 0; s < S; s++) expect(Math.abs(got[s]! - want[s]!)).toBeLessThan(2e-5 + 2e-6 * Math.abs(want[s]!));
        }
      }
    }
  });

  test('NaN row → NaN score, ranked last; all −inf row → RangeError', async () => {
    const V = 50;
    const data = new Float32Array(3 * 2 * V);
    data[2 * V + 7] = NaN; // segment 1, row 0
    const s = await score({ data, rows: 6, vocab: V }, { segments: 3, backend: 'cpu' });
    expect(s[0]).toBeCloseTo(Math.log(V), 5);
    expect(Number.isNaN(s[1])).toBe(true);
    const p = plan(Int32Array.from({ length: 31 }, (_, i) => i), { questionTokens: 1, segmentTokens: 10 });
    expect(Array.from(select(s, p, { topK: 3 }))).toEqual([0, 1, 2]);
    expect(Array.from(select(s, p, { topK: 2 }))).toEqual([0, 2]);
    data.fill(-Infinity, 5 * V, 6 * V);
    await expect(score({ data, rows: 6, vocab: V }, { segments: 3, backend: 'cpu' })).rejects.toThrow(/row 5/);
  });

  test('validation', async () => {
    const data = new Float32Array(6 * 4);
    const l = { data, rows: 6, vocab: 4 };
    await expect(score(l, { segments: 4 })).rejects.toThrow(RangeError);
    await expect(score(l, { segments: 0 })).rejects.toThrow(RangeError);
    await expect(score(l, { segments: 3, metric: 'nll' })).rejects.toThrow(TypeError);
    await expect(score(l, { segments: 3, metric: 'nll', targets: Int32Array.of(0, 1, 2, 3, 4, 0) })).rejects.toThrow(/targets\[4\]/);
    await expect(score(l, { segments: 3, metric: 'nll', targets: Int32Array.of(0) })).rejects.toThrow(RangeError);
    await expect(score(l, { segments: 3, pooling: 'max' as 'min' })).rejects.toThrow(RangeError);
    await expect(score(l, { segments: 3, temperature: 0 })).rejects.toThrow(RangeError);
    await expect(score({ data, rows: 5, vocab: 4 }, { segments: 5 })).rejects.toThrow(RangeError);
    const ac = new AbortController();
    ac.abort();
    await expect(score(l, { segments: 3, signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});

describe('xl3m.createScorer', () => {
  test('streaming equals one-shot bit for bit, any chunking', async () => {
    const S = 9, P = 4, V = 20011, rows = S * P;
    const data = wideLogits('bfloat16', rows * V, rng(42)) as Uint16Array;
    const targets = targetsFor(rows, V, 3);
    for (const metric of ['entropy', 'nll'] as const) {
      for (const pooling of ['mean', 'last', 'min'] as const) {
        const once = await score({ data, dtype: 'bfloat16', rows, vocab: V }, { segments: S, metric, pooling, targets, backend: 'cpu' });
        for (const chunks of [[rows], [1, 35], [3, 3, 3, 27], [5, 0, 7, 11, 13]]) {
          const sc = createScorer({ segments: S, positionsPerSegment: P, metric, pooling, backend: 'cpu' });
          let r0 = 0;
          const pushes: Promise<void>[] = [];
          for (const n of chunks) {
            // Pushes are issued without awaiting: the scorer applies them in call order.
            pushes.push(sc.push({ data: data.subarray(r0 * V, (r0 + n) * V), dtype: 'bfloat16', rows: n, vocab: V }, targets.subarray(r0, r0 + n)));
            r0 += n;
          }
          expect(() => sc.finish()).toThrow(/in flight/);
          await Promise.all(pushes);
          expect(Array.from(sc.finish())).toEqual(Array.from(once));
        }
      }
    }
  });

  test('errors: too many rows, early finish, vocab change, missing targets, failed push', async () => {
    const V = 8;
    const chunk = (rows: number, vocab = V) => ({ data: new Float32Array(rows * vocab), rows, vocab });
    const sc = createScorer({ segments: 2, positionsPerSegment: 3 });
    await sc.push(chunk(4));
    expect(sc.rowsPushed).toBe(4);
    expect(() => sc.finish()).toThrow(RangeError);
    await expect(sc.push(chunk(3))).rejects.toThrow(RangeError);
    await expect(sc.push(chunk(1, 9))).rejects.toThrow(/vocab/);
    await sc.push(chunk(2));
    expect(Array.from(sc.finish()).map((x) => +x.toFixed(5))).toEqual([+Math.log(8).toFixed(5), +Math.log(8).toFixed(5)]);
    const nll = createScorer({ segments: 1, positionsPerSegment: 2, metric: 'nll' });
    await expect(nll.push(chunk(2))).rejects.toThrow(TypeError);
    const bad = createScorer({ segments: 1, positionsPerSegment: 2 });
    const d = new Float32Array(2 * V).fill(-Infinity);
    await expect(bad.push({ data: d, rows: 2, vocab: V })).rejects.toThrow(/all -Infinity/);
    expect(() => bad.finish()).toThrow(/failed/);
    expect(() => createScorer({ segments: 0, positionsPerSegment: 1 })).toThrow(RangeError);
  });
});
