/**
 * Every error lengthwise throws carries a `code` (lib/runtime/validate.ts ErrorCode, the same codes the addon sets): the
 * boundary fuzz's hostile mutations across every public function, plus the no-CUDA, state and abort paths.
 */
import * as lw from '../../lib';
import { applyMutation, caseAt } from './helpers/fuzz';
import { TARGETS, seeded } from './helpers/surface';

const CODES = new Set([
  'ERR_INVALID_ARG_TYPE',
  'ERR_OUT_OF_RANGE',
  'ABORT_ERR',
  'ERR_LENGTHWISE_NO_CUDA',
  'ERR_LENGTHWISE_DEVICE',
  'ERR_LENGTHWISE_LOAD',
  'ERR_LENGTHWISE_STATE',
  'ERR_LENGTHWISE_USAGE',
  'ERR_LENGTHWISE',
]);
const CALLS = Number(process.env.LW_FUZZ_CALLS ?? 3000);

async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** A problem with an error's code, else undefined. An AbortSignal's own reason is rethrown as given. */
function codeProblem(e: unknown, where: string): string | undefined {
  if (!(e instanceof Error) && !(typeof e === 'object' && e !== null && 'name' in e)) return `${where}: threw a non-error ${String(e)}`;
  const err = e as Error & { code?: unknown };
  if (err.name === 'AbortError' && (err.code === 'ABORT_ERR' || err.code === 20)) return undefined; // DOMException: 20
  if (typeof err.code !== 'string' || !CODES.has(err.code)) return `${where}: ${err.name} "${err.message}" has code ${String(err.code)}`;
  if (err instanceof TypeError && err.code !== 'ERR_INVALID_ARG_TYPE') return `${where}: TypeError with code ${err.code}`;
  if (err instanceof RangeError && err.code !== 'ERR_OUT_OF_RANGE') return `${where}: RangeError with code ${err.code}`;
  return undefined;
}

test(`${CALLS} fuzzed calls: every thrown error has a code matching its class`, async () => {
  const problems: string[] = [];
  let errors = 0;
  for (let i = 0; i < CALLS; i++) {
    const c = caseAt(i, 20261202);
    const t = TARGETS[c.target]!;
    const { args } = applyMutation(t, t.build(seeded(c.seed)), c.mutation);
    const e = await thrown(() => t.call(args));
    if (e === undefined) continue;
    errors++;
    const p = codeProblem(e, `${t.name} ${JSON.stringify(c.mutation)}`);
    if (p && problems.length < 20) problems.push(p);
  }
  expect(problems).toEqual([]);
  expect(errors).toBeGreaterThan(CALLS / 4); // the mutations do reach the checks
});

test('paths that are not argument checks have codes too', async () => {
  // A streaming scorer used after a failed push (state), an aborted call (abort), CUDA requested without one.
  const sc = lw.xl3m.createScorer({ segments: 1, positionsPerSegment: 1 });
  const bad = new Float32Array(2).fill(-Infinity);
  expect(codeProblem(await thrown(() => sc.push({ data: bad, rows: 1, vocab: 2 })), 'push')).toBeUndefined();
  const state = await thrown(() => sc.finish());
  expect((state as { code?: string }).code).toBe('ERR_LENGTHWISE_STATE');
  const aborted = await thrown(() => lw.logitStats({ data: new Float32Array(2), rows: 1, vocab: 2 }, { signal: AbortSignal.abort() }));
  expect(codeProblem(aborted, 'abort')).toBeUndefined();
  if (lw.backendInfo().devices.length === 0) {
    const noCuda = await thrown(() => lw.logitStats({ data: new Float32Array(2), rows: 1, vocab: 2 }, { backend: 'cuda' }));
    expect((noCuda as { code?: string }).code).toBe('ERR_LENGTHWISE_NO_CUDA');
    const upload = await thrown(() => lw.device.upload(new Float32Array(2)));
    expect((upload as { code?: string }).code).toBe('ERR_LENGTHWISE_NO_CUDA');
  }
  // Errors made by the addon (here a row of all −Infinity, found by the kernel) keep the addon's code.
  const native = await thrown(() => lw.logitStats({ data: bad, rows: 1, vocab: 2 }));
  expect((native as { code?: string }).code).toBe('ERR_OUT_OF_RANGE');
});
