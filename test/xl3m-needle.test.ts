// End to end: a real (n-gram + cache) language model, a fact hidden in a long context, and XL3M must find it.
import { needleScenario, questionLogits } from '../lib/demo/needle';
import { score, createScorer } from '../lib/xl3m/score';
import { select } from '../lib/xl3m/select';
import { keyContext } from '../lib/xl3m/keyContext';
import { NEEDLE } from '../lib/demo/haystack';

function contains(hay: Int32Array, needle: Int32Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('XL3M finds the needle', () => {
  const where = [0.08, 0.45, 0.93];
  test.each(where)('needle at %f of the context', async (needleAt) => {
    const sc = needleScenario({ needleAt, contextWords: 4000, seed: 11 });
    const { plan, tokens, lm, vocab } = sc;
    expect(plan.segments.length).toBeGreaterThan(12);
    const holders = plan.segments.flatMap((s, i) => (s.start <= sc.needle.start && sc.needle.end <= s.end ? [i] : []));
    expect(holders.length).toBeGreaterThan(0);
    const q = questionLogits(lm, plan);
    const logits = { data: q.data, rows: q.rows, vocab: q.vocab };
    for (const metric of ['entropy', 'nll'] as const) {
      const scores = await score(logits, { segments: plan.segments.length, metric, targets: q.targets, backend: 'cpu' });
      const chosen = select(scores, plan, { topK: 1 });
      expect(holders).toContain(chosen[0]);
      const key = keyContext(tokens, plan, chosen);
      expect(contains(key, vocab.encode(NEEDLE))).toBe(true);
      expect(key.length).toBeLessThanOrEqual(plan.segmentTokens + plan.questionTokens);
      // A budget of two segments keeps the needle too and stays within budget.
      const budget = select(scores, plan, { tokenBudget: 2 * plan.segmentTokens });
      const key2 = keyContext(tokens, plan, budget);
      expect(contains(key2, vocab.encode(NEEDLE))).toBe(true);
      expect(key2.length - plan.questionTokens).toBeLessThanOrEqual(2 * plan.segmentTokens);
    }
  });

  test('streaming the sub-context batches gives the same scores', async () => {
    const sc = needleScenario({ needleAt: 0.45, contextWords: 4000, seed: 11 });
    const S = sc.plan.segments.length, P = sc.plan.questionTokens;
    const all = questionLogits(sc.lm, sc.plan);
    const once = await score({ data: all.data, rows: all.rows, vocab: all.vocab }, { segments: S, backend: 'cpu' });
    const scorer = createScorer({ segments: S, positionsPerSegment: P, backend: 'cpu' });
    for (let first = 0; first < S; first += 4) {
      const b = questionLogits(sc.lm, sc.plan, first, Math.min(4, S - first)); // the model's batch of 4 sub-contexts
      await scorer.push({ data: b.data, rows: b.rows, vocab: b.vocab });
    }
    expect(Array.from(scorer.finish())).toEqual(Array.from(once));
  });
});
