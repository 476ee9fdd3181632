// answerLongContext: batched, padded scoring forwards give the same segment scores as one plain forward per
// sub-context; the key context, baselines and the greedy answer are what they should be.
import { answerLongContext } from '../lib/onnx/xl3m';
import { xl3m } from '../lib';
import { mulberry32 } from '../lib/runtime/prng';
import { FakeModel, plainGreedy } from './speculative-fake-model';

const V = 24;
const W = 40;
const model = new FakeModel({ vocab: V, seed: 5, window: W });
const draft = new FakeModel({ vocab: V, seed: 6, like: { model, mix: 0.7 }, window: W });

async function plainQuestionLogits(row: number[], q: number): Promise<Float32Array> {
  const S = row.length;
  const bias = new Float32Array(S * S).fill(-1e9);
  for (let s = 0; s < S; s++) for (let j = 0; j <= s; j++) bias[s * S + j] = 0;
  const r = await model.forward(Int32Array.from(row), Int32Array.from(row, (_, i) => i), { data: bias, batch: 1, rows: S, columns: S }, null);
  return (r.logits.data as Float32Array).slice((S - 1 - q) * V, (S - 1) * V);
}

test('scores == xl3m.score of per-segment plain forwards; answer == greedy on the key context', async () => {
  const r = mulberry32(3);
  const context = Array.from({ length: 157 }, () => 3 + Math.floor(r() * (V - 3)));
  const question = [4, 9, 7];
  for (const batch of [1, 3, 8]) {
    const a = await answerLongContext(model, context, question, { batch, maxAnswerTokens: 5, segmentTokens: 25, overlapTokens: 4 });
    const S = a.segments.length;
    expect(S).toBe(1 + Math.ceil((157 - 25) / 21));
    expect(a.scoringForwards).toBe(Math.ceil(S / batch));
    const rows = new Float32Array(S * 3 * V);
    for (let i = 0; i < S; i++) {
      const seg = context.slice(a.segments[i]!.start, a.segments[i]!.end);
      rows.set(await plainQuestionLogits([1, ...seg, ...question], 3), i * 3 * V);
    }
    const ref = await xl3m.score({ data: rows, rows: S * 3, vocab: V }, { segments: S });
    for (let i = 0; i < S; i++) expect(a.scores![i]).toBeCloseTo(ref[i]!, 5);
    expect(a.input[0]).toBe(1);
    expect(Array.from(a.input.slice(-3))).toEqual(question);
    expect(a.input.length).toBeLessThanOrEqual(W - 5);
    expect(a.answer).toEqual((await plainGreedy(model, Array.from(a.input), 5)).tokens);
  }
  // Default segmentation: the fewest segments that fit, of equal length (no short last segment).
  const eq = await answerLongContext(model, context, question, { maxAnswerTokens: 5, overlapTokens: 4 });
  const lens = eq.segments.map((s) => s.end - s.start);
  expect(Math.max(...lens) - Math.min(...lens)).toBeLessThan(lens.length); // rounding of C / n only
  expect(Math.max(...lens)).toBeLessThanOrEqual(W - 1 - 3 - 5);
  expect(eq.segments.length).toBe(1 + Math.ceil((157 - (W - 9)) / (W - 9 - 4)));
  const withDraft = await answerLongContext(model, context, question, { maxAnswerTokens: 5, segmentTokens: 25, draft, tree: { kind: 'static' } });
  const plain = await answerLongContext(model, context, question, { maxAnswerTokens: 5, segmentTokens: 25 });
  expect(withDraft.answer).toEqual(plain.answer);
  const trunc = await answerLongContext(model, context, question, { choice: 'truncate', maxAnswerTokens: 5 });
  const room = W - 1 - 3 - 5;
  expect(Array.from(trunc.input)).toEqual([1, ...context.slice(-room), ...question]);
  expect(trunc.scoringForwards).toBe(0);
  const rnd = await answerLongContext(model, context, question, { choice: 'random', seed: 2, maxAnswerTokens: 5, segmentTokens: 25 });
  expect(rnd.selected.length).toBe(1);
  await expect(answerLongContext(model, context, Array.from({ length: 40 }, () => 3))).rejects.toThrow(/must leave room in the window/);
});
