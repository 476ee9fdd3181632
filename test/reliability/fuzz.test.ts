/**
 * Boundary fuzz (short CI version; the long one is scripts/fuzz-long.ts): every exported function, random valid
 * arguments and hostile mutations of them. Every call returns a (checked) result or throws/rejects with a
 * TypeError/RangeError naming the argument (AbortError for an aborted signal; "no CUDA device" without a GPU).
 */
import fc from 'fast-check';
import { caseArbitrary } from './helpers/arbitrary';
import { newTally, record, runCase } from './helpers/fuzz';
import { TARGETS } from './helpers/surface';

const CALLS = Number(process.env.LW_FUZZ_CALLS ?? 3000);

test(`${CALLS} fuzzed calls across ${TARGETS.length} functions: results or named TypeError/RangeError`, async () => {
  const tally = newTally();
  await fc.assert(
    fc.asyncProperty(caseArbitrary(), async (c) => {
      const o = await runCase(c);
      record(tally, o);
      if (o.kind === 'failure') throw new Error(o.detail);
    }),
    { numRuns: CALLS, seed: Number(process.env.LW_FUZZ_SEED ?? 20261129) },
  );
  // Both kinds of outcome must actually occur (a fuzz that only ever errors checks nothing).
  expect(tally.byKind.ok).toBeGreaterThan(CALLS / 10);
  expect(tally.byKind['type-error'] + tally.byKind['range-error']).toBeGreaterThan(CALLS / 4);
});

test.each(TARGETS.map((t, i) => [t.name, i] as const))('valid calls of %s match their checks', async (_name, target) => {
  for (let seed = 0; seed < 25; seed++) {
    const o = await runCase({ target, seed: seed * 7919 + 1, mutation: { kind: 'none' } });
    if (o.kind === 'failure') throw new Error(o.detail);
    // Valid arguments may still be refused for what they hold (e.g. a logits row of all −Infinity), never crash.
    expect(['ok', 'range-error', 'no-gpu']).toContain(o.kind);
  }
});

test.each(TARGETS.map((t, i) => [t.name, i] as const))('sizes whose products overflow 32 bits are refused by %s', async (_name, target) => {
  for (let v = 0; v < 5; v++) {
    const o = await runCase({ target, seed: v, mutation: { kind: 'overflow', path: v * 13, variant: v } });
    if (o.kind === 'failure') throw new Error(o.detail);
  }
});
