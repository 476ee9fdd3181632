// The parts of `lengthwise demo` run end to end on the bundled data (the README's quick start depends on them).
import { demoLogitStats } from '../lib/cli/demoStats';
import { demoTree } from '../lib/cli/demoTree';

describe('lengthwise demo parts', () => {
  test('logit statistics over a passage', async () => {
    const text = await demoLogitStats();
    expect(text).toMatch(/logitStats: \d+ positions × vocab \d+/);
    expect(text).toMatch(/mean NLL \d+\.\d+ nats\/word/);
  });

  test('tree verification: draft trees extend the prompt, greedy and sampled', async () => {
    const text = await demoTree();
    expect(text).toMatch(/verifyTree: 8 trees × \d+ nodes/);
    const m = /greedy (\d+\.\d+), sampled (\d+\.\d+) \(exact expectation at T 0\.8: (\d+\.\d+)\)/.exec(text);
    expect(m).not.toBeNull();
    // Greedy accepts at most the tree depth (3) and at least nothing; the expectation is a probability-weighted count.
    expect(Number(m![1])).toBeGreaterThanOrEqual(0);
    expect(Number(m![1])).toBeLessThanOrEqual(3);
    expect(Number(m![3])).toBeGreaterThan(0);
  });
});
