import { plan, segmentBounds } from '../lib/xl3m/plan';
import { select, rankSegments } from '../lib/xl3m/select';
import { keyContext } from '../lib/xl3m/keyContext';

const seq = (n: number) => Int32Array.from({ length: n }, (_, i) => i + 1);

describe('xl3m.plan', () => {
  test('segments, batch rows, lengths, right padding', () => {
    const t = seq(23); // context 20, question 3
    const p = plan(t, { questionTokens: 3, segmentTokens: 8, overlapTokens: 2 });
    expect(Array.from(p.question)).toEqual([21, 22, 23]);
    expect(p.segments).toEqual([
      { start: 0, end: 8 },
      { start: 6, end: 14 },
      { start: 12, end: 20 },
    ]);
    expect(p.rowLength).toBe(11);
    expect(Array.from(p.lengths)).toEqual([11, 11, 11]);
    expect(Array.from(p.batch.subarray(11, 22))).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 21, 22, 23]);
    expect(Array.from(p.questionStart)).toEqual([8, 8, 8]);
  });

  test('short last segment is padded with padValue, never garbage', () => {
    const t = seq(25); // context 22: segments [0,8) [6,14) [12,20) [18,22)
    for (const padSide of ['right', 'left'] as const) {
      const p = plan(t, { questionTokens: 3, segmentTokens: 8, overlapTokens: 2, padValue: -1, padSide });
      expect(p.segments[3]).toEqual({ start: 18, end: 22 });
      expect(p.lengths[3]).toBe(7);
      const row = Array.from(p.batch.subarray(33, 44));
      if (padSide === 'right') {
        expect(row).toEqual([19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1]);
        expect(p.questionStart[3]).toBe(4);
      } else {
        expect(row).toEqual([-1, -1, -1, -1, 19, 20, 21, 22, 23, 24, 25]);
        expect(p.questionStart[3]).toBe(8);
      }
    }
  });

  test('context shorter than one segment → one short segment', () => {
    const p = plan(seq(7), { questionTokens: 2, segmentTokens: 100 });
    expect(p.segments).toEqual([{ start: 0, end: 5 }]);
    expect(p.lengths[0]).toBe(7);
    expect(p.batch.length).toBe(102);
    expect(Array.from(p.batch.subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
  });

  test('errors', () => {
    expect(() => plan(seq(5), { questionTokens: 5, segmentTokens: 4 })).toThrow(RangeError);
    expect(() => plan(seq(5), { questionTokens: 9, segmentTokens: 4 })).toThrow(/questionTokens/);
    expect(() => plan(seq(9), { questionTokens: 1, segmentTokens: 4, overlapTokens: 4 })).toThrow(RangeError);
    expect(() => plan(seq(9), { questionTokens: 1, segmentTokens: 4, overlapTokens: 7 })).toThrow(/overlapTokens/);
    expect(() => plan(seq(9), { questionTokens: 0, segmentTokens: 4 })).toThrow(RangeError);
    expect(() => plan(seq(9), { questionTokens: 1, segmentTokens: 0 })).toThrow(RangeError);
    // A number that is not an integer is out of range (Node's convention); a non-number is a TypeError.
    expect(() => plan(seq(9), { questionTokens: 1.5, segmentTokens: 4 })).toThrow(RangeError);
    expect(() => plan(seq(9), { questionTokens: '1' as never, segmentTokens: 4 })).toThrow(TypeError);
    expect(() => plan([1, 2, 3] as unknown as Int32Array, { questionTokens: 1, segmentTokens: 4 })).toThrow(TypeError);
  });

  test('segment bounds cover the context exactly; each segment adds new tokens', () => {
    const bad: string[] = [];
    for (let C = 1; C < 60; C++) {
      for (let L = 1; L < 12; L++) {
        for (let o = 0; o < L; o++) {
          const s = segmentBounds(C, L, o);
          let ok = s[0].start === 0 && s[s.length - 1].end === C;
          for (let i = 1; i < s.length; i++) ok &&= s[i].start === s[i - 1].end - o && s[i].end > s[i - 1].end;
          if (!ok) bad.push(`${C},${L},${o}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('xl3m.select', () => {
  const p = plan(seq(43), { questionTokens: 3, segmentTokens: 10, overlapTokens: 0 }); // 4 segments of 10

  test('lowest first, chronological output, ties to lower index, NaN last', () => {
    expect(Array.from(rankSegments(Float32Array.of(2, 1, 1, NaN, 0)))).toEqual([4, 1, 2, 0, 3]);
    expect(Array.from(select(Float32Array.of(3, 1, 2, 0), p, { topK: 2 }))).toEqual([1, 3]);
    expect(Array.from(select(Float32Array.of(1, 1, 1, 1), p, { topK: 3 }))).toEqual([0, 1, 2]);
  });

  test('topK larger than the segment count keeps all; topK 0 keeps none', () => {
    expect(Array.from(select(Float32Array.of(3, 1, 2, 0), p, { topK: 99 }))).toEqual([0, 1, 2, 3]);
    expect(select(Float32Array.of(3, 1, 2, 0), p, { topK: 0 }).length).toBe(0);
  });

  test('token budget counts merged overlaps once; budget below one segment selects nothing', () => {
    const po = plan(seq(33), { questionTokens: 3, segmentTokens: 10, overlapTokens: 5 }); // starts 0,5,10,15,20
    expect(po.segments.length).toBe(5);
    const s = Float32Array.of(0, 1, 2, 9, 9);
    expect(Array.from(select(s, po, { tokenBudget: 20 }))).toEqual([0, 1, 2]); // union [0,20)
    expect(Array.from(select(s, po, { tokenBudget: 19 }))).toEqual([0, 1]);
    expect(select(s, po, { tokenBudget: 9 }).length).toBe(0);
    expect(Array.from(select(s, po, { tokenBudget: 100, topK: 1 }))).toEqual([0]);
  });

  test('budget: a segment between two chosen ones adds only its uncovered middle', () => {
    const po = plan(seq(33), { questionTokens: 3, segmentTokens: 10, overlapTokens: 3 }); // starts 0,7,14,21
    const s = Float32Array.of(0, 5, 1, 9); // 0 then 2 (20 tokens), then 1 adds [10,14) = 4
    expect(Array.from(select(s, po, { tokenBudget: 24 }))).toEqual([0, 1, 2]);
    expect(Array.from(select(s, po, { tokenBudget: 23 }))).toEqual([0, 2]);
  });

  test('budget selection equals a brute-force greedy prefix (random plans)', () => {
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    const bad: string[] = [];
    for (let trial = 0; trial < 300; trial++) {
      const L = 1 + Math.floor(rand() * 12), o = Math.floor(rand() * L), C = 1 + Math.floor(rand() * 120);
      const pl = plan(seq(C + 1), { questionTokens: 1, segmentTokens: L, overlapTokens: o });
      const scores = Float32Array.from(pl.segments, () => Math.floor(rand() * 5)); // many ties
      const budget = Math.floor(rand() * (C + 5));
      const want: number[] = [];
      const covered = new Uint8Array(C);
      let used = 0;
      for (const i of rankSegments(scores)) {
        const s = pl.segments[i]!;
        let add = 0;
        for (let t = s.start; t < s.end; t++) add += covered[t] ? 0 : 1;
        if (used + add > budget) break;
        used += add;
        covered.fill(1, s.start, s.end);
        want.push(i);
      }
      const got = Array.from(select(scores, pl, { tokenBudget: budget }));
      if (got.join() !== want.sort((a, b) => a - b).join()) bad.push(`C${C} L${L} o${o} b${budget}`);
    }
    expect(bad).toEqual([]);
  });

  test('large plans select quickly', () => {
    const pl = plan(seq(500_001), { questionTokens: 1, segmentTokens: 20, overlapTokens: 10 }); // 49,999 segments
    const scores = Float32Array.from(pl.segments, (_, i) => (i * 7919) % 1000);
    const t0 = Date.now();
    const sel = select(scores, pl, { tokenBudget: 250_000 });
    expect(sel.length).toBeGreaterThan(1000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('errors', () => {
    expect(() => select(Float32Array.of(1, 2), p, { topK: 1 })).toThrow(RangeError);
    expect(() => select(Float32Array.of(1, 2, 3, 4), p, {})).toThrow(TypeError);
    expect(() => select(Float32Array.of(1, 2, 3, 4), p, { topK: -1 })).toThrow(RangeError);
    expect(() => select([1, 2, 3, 4] as unknown as Float32Array, p, { topK: 1 })).toThrow(TypeError);
  });
});

describe('xl3m.keyContext', () => {
  test('merges overlaps, keeps order, appends question', () => {
    const t = seq(23);
    const p = plan(t, { questionTokens: 3, segmentTokens: 8, overlapTokens: 2 });
    const k = keyContext(t, p, Int32Array.of(1, 0));
    expect(Array.from(k)).toEqual([...Array.from(seq(14)), 21, 22, 23]);
    const gap = keyContext(t, p, Int32Array.of(2, 0), { separator: Int32Array.of(-7) });
    expect(Array.from(gap)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, -7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(Array.from(keyContext(t, p, new Int32Array(0)))).toEqual([21, 22, 23]);
  });

  test('all segments give the original sequence back', () => {
    for (const o of [0, 1, 5, 7]) {
      const t = seq(57);
      const p = plan(t, { questionTokens: 4, segmentTokens: 8, overlapTokens: o });
      const all = Int32Array.from(p.segments.map((_, i) => i));
      expect(Array.from(keyContext(t, p, all))).toEqual(Array.from(t));
    }
  });

  test('selection size matches the budget accounting', () => {
    const t = seq(203);
    const p = plan(t, { questionTokens: 3, segmentTokens: 17, overlapTokens: 11 });
    const scores = Float32Array.from(p.segments, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    for (const budget of [0, 16, 17, 30, 60, 120, 200]) {
      const sel = select(scores, p, { tokenBudget: budget });
      const k = keyContext(t, p, sel);
      expect(k.length - 3).toBeLessThanOrEqual(budget);
      expect(new Set(k).size).toBe(k.length); // no duplicated tokens
    }
  });

  test('errors', () => {
    const t = seq(23);
    const p = plan(t, { questionTokens: 3, segmentTokens: 8 });
    expect(() => keyContext(seq(22), p, Int32Array.of(0))).toThrow(RangeError);
    expect(() => keyContext(t, p, Int32Array.of(5))).toThrow(RangeError);
    expect(() => keyContext(t, p, Int32Array.of(1, 1))).toThrow(/twice/);
    const other = seq(23);
    other[22] = 0;
    expect(() => keyContext(other, p, Int32Array.of(0))).toThrow(/question/);
  });
});
