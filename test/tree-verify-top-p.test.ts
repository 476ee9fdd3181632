// Top-p alone over large vocabularies (the CPU bisection path, native/cpu/top_p_cpu.cc): the kept set must be the
// definition's exactly — the shortest prefix in (logit desc, id asc) order whose mass reaches top_p — including a
// boundary that falls inside a block of tied logits, and the sampled distribution must match a float64 reference.
import type { NativeTuning } from '../lib/runtime/native';
import { verifyTree } from '../lib/tree/verify';
import { processedDistribution } from './helpers/treeReference';
import { rng } from './helpers/rng';

// The SIMD path of every call (tuning.simd): the scalar one, or the process's own.
const SCALAR: NativeTuning = { simd: 'scalar' }, DETECTED: NativeTuning = {};
let tuning: NativeTuning = DETECTED;

/** `batch` one-node trees (no children): each emits its bonus token y ~ p_root, with an independent stream. */
async function bonusSamples(row: Float32Array, batch: number, calls: number, opts: { temperature?: number; topP: number }) {
  const V = row.length;
  const data = new Float32Array(batch * V);
  for (let b = 0; b < batch; b++) data.set(row, b * V);
  const trees = {
    tokens: new Int32Array(batch),
    parents: new Int32Array(batch).fill(-1),
    offsets: Int32Array.from({ length: batch + 1 }, (_, i) => i),
  };
  const counts = new Map<number, number>();
  for (let c = 0; c < calls; c++) {
    const r = await verifyTree(trees, { data, rows: batch, vocab: V }, { mode: 'sample', seed: 1000 + c, ...opts, tuning });
    for (const y of r.tokens) counts.set(y, (counts.get(y) ?? 0) + 1);
  }
  return counts;
}

test.each([
  ['the detected SIMD path', DETECTED],
  ['the scalar path', SCALAR],
])('top-p boundary inside a block of tied logits keeps exactly the lowest ids of the block (%s)', async (_name, level) => {
  tuning = level;
  // One token of weight 500, one token of weight 2 in each 1024-id chunk (so the largest chunk maxima do not bound
  // the nucleus and the bisection path runs), 2000 tied tokens of weight 1 at scattered ids, the rest e^-50.
  // Z ≈ 500 + 80 + 2000 = 2580; top-p 1329.5 / 2580 puts the target half a token away from any prefix mass, so
  // rounding cannot move the boundary: kept = heavy + the 40 medium tokens + the 750 lowest-id tied tokens.
  const V = 40003;
  const row = new Float32Array(V).fill(-50);
  const heavy = 31337;
  row[heavy] = Math.fround(Math.log(500));
  const medium: number[] = [];
  for (let c = 0; c * 1024 + 30 < V; c++) medium.push(c * 1024 + 30);
  expect(medium.length).toBe(40);
  for (const x of medium) row[x] = Math.fround(Math.log(2));
  const tied: number[] = [];
  for (let i = 0; tied.length < 2000; i++) {
    const x = (i * 7919 + 13) % V;
    if (row[x] === -50) { row[x] = 0; tied.push(x); }
  }
  const kept = new Set([heavy, ...medium, ...tied.sort((a, b) => a - b).slice(0, 750)]);
  const batch = 100;
  const calls = 200; // 20000 samples: each kept tied token expects 15, so all 750 appear (miss chance ~e^-15 each)
  const counts = await bonusSamples(row, batch, calls, { topP: 1329.5 / 2580 });
  const n = batch * calls;
  expect([...counts.keys()].filter((y) => !kept.has(y))).toEqual([]);
  expect([...counts.keys()].filter((y) => kept.has(y)).length).toBe(kept.size);
  // P(heavy) = 500 / 1330; binomial sd ≈ 68 → allow 5 sd.
  const ph = 500 / 1330;
  expect(Math.abs((counts.get(heavy) ?? 0) - ph * n)).toBeLessThan(5 * Math.sqrt(n * ph * (1 - ph)));
});

test.each([
  [4999, 0.8, 0.9, DETECTED],
  [4999, 1.3, 0.6, DETECTED],
  [40003, 1, 0.95, DETECTED],
  [4999, 0.8, 0.9, SCALAR],
])('top-p over V = %d, T = %d, p = %d matches the float64 reference (χ², p > 1e-3; nothing outside the kept set; tuning %j)',
  async (V, T, P, level) => {
    tuning = level;
    const r = rng(V + Math.round(100 * P));
    const row = new Float32Array(V);
    for (let i = 0; i < V; i++) row[i] = 2.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const ref = processedDistribution(row, { temperature: T, topP: P });
    const batch = 200;
    const calls = 100;
    const n = batch * calls;
    const counts = await bonusSamples(row, batch, calls, { temperature: T, topP: P });
    let impossible = 0;
    for (const [y, c] of counts) if (!(ref[y]! > 0)) impossible += c;
    expect(impossible).toBe(0);
    // χ² over tokens with expected count ≥ 5; the rest pooled in one cell.
    let stat = 0, dof = -1, pe = 0, po = 0;
    for (let x = 0; x < V; x++) {
      const e = ref[x]! * n;
      if (e === 0) continue;
      const o = counts.get(x) ?? 0;
      if (e < 5) { pe += e; po += o; continue; }
      stat += (o - e) ** 2 / e;
      dof++;
    }
    if (pe > 0) { stat += (po - pe) ** 2 / pe; dof++; }
    // Wilson–Hilferty: z > 3.09 ⇔ p < 1e-3.
    const h = 2 / (9 * dof);
    const zScore = (Math.cbrt(stat / dof) - (1 - h)) / Math.sqrt(h);
    expect(dof).toBeGreaterThan(20);
    expect(zScore).toBeLessThan(3.09);
  });
