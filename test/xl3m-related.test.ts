import { logitStats } from '../lib/logitStats';
import { coarseScore, sirllmScores, topTokens, detectionStatistic, llmlinguaKeepMask } from '../lib/xl3m/related';
import { score } from '../lib/xl3m/score';
import { rng } from './helpers/rng';

describe('related scores', () => {
  test('coarseScore = mean question NLL per segment', async () => {
    const r = rng(1);
    const S = 4, P = 3, V = 97;
    const data = Float32Array.from({ length: S * P * V }, () => r() * 6);
    const targets = Int32Array.from({ length: S * P }, () => Math.floor(r() * V));
    const c = await coarseScore({ data, rows: S * P, vocab: V }, { segments: S, targets, backend: 'cpu' });
    const s = await logitStats({ data, rows: S * P, vocab: V }, { targets, backend: 'cpu' });
    for (let i = 0; i < S; i++) {
      const mean = (s.nll![i * P]! + s.nll![i * P + 1]! + s.nll![i * P + 2]!) / 3;
      expect(c[i]).toBeCloseTo(mean, 5);
    }
    expect(Array.from(c)).toEqual(Array.from(await score({ data, rows: S * P, vocab: V }, { segments: S, metric: 'nll', targets, backend: 'cpu' })));
  });

  test('SirLLM decayed scores and top tokens', () => {
    const nll = Float32Array.of(1, 4, 2, 8, 3);
    expect(Array.from(sirllmScores(nll))).toEqual([1, 4, 2, 8, 3]);
    const d = sirllmScores(nll, { decay: 0.5, rounds: Int32Array.of(0, 0, 1, 1, 2) });
    expect(Array.from(d)).toEqual([0.25, 1, 1, 4, 3]);
    expect(Array.from(topTokens(d, 2))).toEqual([3, 4]);
    expect(Array.from(topTokens(Float32Array.of(1, 1, NaN, 1), 2))).toEqual([0, 1]);
    expect(() => sirllmScores(nll, { decay: 1.5 })).toThrow(RangeError);
    expect(() => sirllmScores(nll, { rounds: Int32Array.of(0, 1, 0, 1, 2) })).toThrow(/non-decreasing/);
    expect(() => sirllmScores(nll, { rounds: Int32Array.of(0) })).toThrow(RangeError);
  });

  test('detection statistic: ≈0 on text sampled from the model, > 0 on unlikely text', async () => {
    const r = rng(9);
    const rows = 20000, V = 40;
    const data = Float32Array.from({ length: rows * V }, () => r() * 5);
    const sampled = new Int32Array(rows);
    const unlikely = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const row = data.subarray(i * V, (i + 1) * V);
      const m = Math.max(...row);
      const p = Array.from(row, (x) => Math.exp(x - m));
      const z = p.reduce((a, b) => a + b, 0);
      let u = r() * z, k = 0;
      while (k < V - 1 && (u -= p[k]!) > 0) k++;
      sampled[i] = k;
      unlikely[i] = row.indexOf(Math.min(...row));
    }
    const all = Int32Array.from([...sampled, ...unlikely]);
    const big = new Float32Array(2 * rows * V);
    big.set(data);
    big.set(data, rows * V);
    const s = await logitStats({ data: big, rows: 2 * rows, vocab: V }, { targets: all, backend: 'cpu' });
    const d = detectionStatistic({ nll: s.nll!, entropy: s.entropy, varentropy: s.varentropy }, { offsets: Int32Array.of(0, rows, 2 * rows) });
    expect(Math.abs(d.statistic[0]!)).toBeLessThan(0.03);
    expect(Math.abs(d.zScore![0]!)).toBeLessThan(4);
    expect(d.statistic[1]!).toBeGreaterThan(1);
    expect(d.zScore![1]!).toBeGreaterThan(50);
    expect(detectionStatistic({ nll: Float32Array.of(2, 4), entropy: Float32Array.of(1, 1) }).statistic[0]).toBe(2);
    expect(() => detectionStatistic({ nll: Float32Array.of(1), entropy: Float32Array.of(1, 2) })).toThrow(RangeError);
    expect(() => detectionStatistic({ nll: Float32Array.of(1), entropy: Float32Array.of(1) }, { offsets: Int32Array.of(0, 2) })).toThrow(RangeError);
  });

  test('LLMLingua keep mask: top NLL per window, ties to earlier, NaN kept', () => {
    const nll = Float32Array.of(1, 5, 3, 3, /* | */ 9, 0, NaN, 2, /* | */ 7);
    const m = llmlinguaKeepMask(nll, { window: 4, keepRatio: 0.5 });
    expect(Array.from(m)).toEqual([0, 1, 1, 0, 1, 0, 1, 1, 1]);
    expect(Array.from(llmlinguaKeepMask(nll, { window: 4, keepRatio: 0 }))).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(llmlinguaKeepMask(nll, { window: 100, keepRatio: 1 }).every((x) => x === 1)).toBe(true);
    expect(() => llmlinguaKeepMask(nll, { window: 0, keepRatio: 0.5 })).toThrow(RangeError);
    expect(() => llmlinguaKeepMask(nll, { window: 2, keepRatio: 2 })).toThrow(RangeError);
  });
});
