/** fast-check arbitrary of fuzz cases (kept apart from fuzz.ts so the compiled GPU scripts need no fast-check). */
import fc from 'fast-check';
import { FuzzCase, Mutation } from './fuzz';
import { TARGETS } from './surface';

/** fast-check arbitrary of cases (shrinks towards target 0, seed 0, no mutation). */
export function caseArbitrary(targets = TARGETS): fc.Arbitrary<FuzzCase> {
  const pick = fc.record({ path: fc.nat(), value: fc.nat() });
  const mutation = fc.oneof(
    { weight: 2, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
    { weight: 8, arbitrary: fc.array(pick, { minLength: 1, maxLength: 2 }).map((picks): Mutation => ({ kind: 'replace', picks })) },
    { weight: 1, arbitrary: fc.record({ path: fc.nat(), variant: fc.nat() }).map((o): Mutation => ({ kind: 'overflow', ...o })) },
    { weight: 1, arbitrary: fc.nat().map((keep): Mutation => ({ kind: 'truncate', keep })) },
  );
  return fc.record({ target: fc.integer({ min: 0, max: targets.length - 1 }), seed: fc.nat(), mutation });
}
