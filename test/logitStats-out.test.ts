// logitStats with opts.out: results written into caller-provided arrays (returned as the result's columns),
// identical to a call that allocates; validation of every field (type, length, detached, overlap) with codes.
import { logitStats, LogitStatsOut, LogitStatsResult } from '../lib';
import { cpuNative } from '../lib/runtime/native';
import { randomLogits, type RefDType } from './helpers/logits';
import { rng } from './helpers/rng';

const DTYPES: RefDType[] = ['float32', 'float16', 'bfloat16'];
const FLOAT_COLS = ['logsumexp', 'entropy', 'varentropy', 'maxProb'] as const;

function fullOut(rows: number, targets: boolean): Required<LogitStatsOut> | LogitStatsOut {
  const o: LogitStatsOut = {
    logsumexp: new Float32Array(rows).fill(-7),
    entropy: new Float32Array(rows).fill(-7),
    varentropy: new Float32Array(rows).fill(-7),
    maxProb: new Float32Array(rows).fill(-7),
    argmax: new Int32Array(rows).fill(-7),
  };
  if (targets) Object.assign(o, { nll: new Float32Array(rows).fill(-7), targetRank: new Int32Array(rows).fill(-7) });
  return o;
}

function expectSame(got: LogitStatsResult, want: LogitStatsResult): void {
  for (const k of [...FLOAT_COLS, 'argmax', 'nll', 'targetRank'] as const) {
    if (want[k] === undefined) expect(got[k]).toBeUndefined();
    else expect(Array.from(got[k]!)).toEqual(Array.from(want[k]!));
  }
  expect(got.hasNaN).toBe(want.hasNaN);
}

describe('logitStats opts.out', () => {
  test.each(DTYPES)('every column into caller arrays equals the allocating call (%s, with and without targets)', async (dtype) => {
    for (const [rows, vocab] of [[1, 1], [7, 33], [65, 1000], [3, 32000]] as const) {
      const r = rng(rows * 7 + vocab);
      const data = randomLogits(r, rows, vocab, dtype);
      const l = { data, dtype, rows, vocab };
      const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
      for (const t of [undefined, targets]) {
        for (const sync of [false, true]) {
          const want = await logitStats(l, { targets: t, temperature: 0.8 });
          const out = fullOut(rows, t !== undefined);
          const got = await logitStats(l, { targets: t, temperature: 0.8, out, sync });
          for (const [k, a] of Object.entries(out)) expect(got[k as keyof LogitStatsOut]).toBe(a);
          expectSame(got, want);
        }
      }
    }
  });

  test('a subset of columns: the given ones are reused, the others allocated', async () => {
    const rows = 5, vocab = 300;
    const l = { data: randomLogits(rng(3), rows, vocab, 'float32'), rows, vocab };
    const entropy = new Float32Array(rows);
    const targetRank = new Int32Array(rows);
    const targets = new Int32Array([0, 1, 2, 3, 4]);
    const got = await logitStats(l, { targets, out: { entropy, targetRank } });
    const want = await logitStats(l, { targets });
    expect(got.entropy).toBe(entropy);
    expect(got.targetRank).toBe(targetRank);
    expect(got.logsumexp).not.toBe(want.logsumexp);
    expectSame(got, want);
    // empty out: everything allocated
    expectSame(await logitStats(l, { targets, out: {} }), want);
  });

  test('a loop reusing the same arrays gets each call\'s results', async () => {
    const rows = 4, vocab = 500;
    const out = fullOut(rows, false);
    for (let k = 0; k < 5; k++) {
      const l = { data: randomLogits(rng(100 + k), rows, vocab, 'bfloat16'), dtype: 'bfloat16' as const, rows, vocab };
      const got = await logitStats(l, { out });
      expect(got.entropy).toBe(out.entropy);
      expectSame(got, await logitStats(l));
    }
  });

  test('views into one buffer at distinct offsets are fine', async () => {
    const rows = 3, vocab = 50;
    const buf = new ArrayBuffer(4 * rows * 5);
    const out: LogitStatsOut = {
      logsumexp: new Float32Array(buf, 0, rows),
      entropy: new Float32Array(buf, 4 * rows, rows),
      varentropy: new Float32Array(buf, 8 * rows, rows),
      maxProb: new Float32Array(buf, 12 * rows, rows),
      argmax: new Int32Array(buf, 16 * rows, rows),
    };
    const l = { data: randomLogits(rng(9), rows, vocab, 'float32'), rows, vocab };
    expectSame(await logitStats(l, { out }), await logitStats(l));
  });

  test('rows = 0 with targets returns the given empty nll / targetRank', async () => {
    const nll = new Float32Array(0), targetRank = new Int32Array(0);
    const got = await logitStats({ data: new Float32Array(0), rows: 0, vocab: 4 }, { targets: new Int32Array(0), out: { nll, targetRank } });
    expect(got.nll).toBe(nll);
    expect(got.targetRank).toBe(targetRank);
  });
});

describe('logitStats opts.out validation', () => {
  const rows = 2, vocab = 10;
  const data = new Float32Array(rows * vocab);
  const l = { data, rows, vocab };
  const detached = () => {
    const a = new Float32Array(rows);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };
  const shared = new Float32Array(2 * rows);
  const bad: [string, () => Promise<unknown>, RegExp, ErrorConstructor, string][] = [
    ['out not an object', () => logitStats(l, { out: 5 as never }), /opts.out must be an object/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['out an array', () => logitStats(l, { out: [] as never }), /opts.out must be an object/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['unknown key', () => logitStats(l, { out: { entropi: new Float32Array(rows) } as never }), /unknown option 'entropi' in opts.out \(did you mean 'entropy'\?\)/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['wrong type', () => logitStats(l, { out: { entropy: new Float64Array(rows) as never } }), /opts.out.entropy must be a Float32Array/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['float for argmax', () => logitStats(l, { out: { argmax: new Float32Array(rows) as never } }), /opts.out.argmax must be an Int32Array/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['plain array', () => logitStats(l, { out: { maxProb: [0, 0] as never } }), /opts.out.maxProb must be a Float32Array/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['wrong length', () => logitStats(l, { out: { logsumexp: new Float32Array(3) } }), /opts.out.logsumexp must be a Float32Array of 2 entries \(one per row\)/, RangeError, 'ERR_OUT_OF_RANGE'],
    ['detached', () => logitStats(l, { out: { varentropy: detached() } }), /opts.out.varentropy must be a Float32Array/, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['nll without targets', () => logitStats(l, { out: { nll: new Float32Array(rows) } }), /opts.out.nll must be absent without opts.targets/, RangeError, 'ERR_OUT_OF_RANGE'],
    ['targetRank without targets', () => logitStats(l, { out: { targetRank: new Int32Array(rows) } }), /opts.out.targetRank must be absent/, RangeError, 'ERR_OUT_OF_RANGE'],
    ['two columns overlapping', () => logitStats(l, { out: { entropy: shared.subarray(0, rows), maxProb: shared.subarray(1, rows + 1) } }), /opts.out.maxProb must be an array not overlapping opts.out.entropy/, RangeError, 'ERR_OUT_OF_RANGE'],
    ['the same array twice', () => { const a = new Float32Array(rows); return logitStats(l, { out: { logsumexp: a, entropy: a } }); }, /opts.out.entropy must be an array not overlapping opts.out.logsumexp/, RangeError, 'ERR_OUT_OF_RANGE'],
    ['overlapping the logits', () => logitStats(l, { out: { entropy: data.subarray(4, 6) } }), /opts.out.entropy must be an array not overlapping logits.data/, RangeError, 'ERR_OUT_OF_RANGE'],
  ];
  test.each(bad)('%s', async (_name, call, message, type, code) => {
    await expect(call()).rejects.toThrow(message);
    await expect(call()).rejects.toBeInstanceOf(type);
    await expect(call()).rejects.toMatchObject({ code });
  });

  test('the native layer checks out arrays even without the TS checks', () => {
    const raw = cpuNative()['logitStats'] as (l: unknown, o: unknown) => Promise<unknown>;
    const nameOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    const nl = { data, dtype: 'float32', rows, vocab };
    const base = { temperature: 1, backend: 'cpu', cancel: new Int32Array(1) };
    expect(nameOf(() => raw(nl, { ...base, out: 3 }))).toMatch(/^TypeError: .*opts.out/);
    expect(nameOf(() => raw(nl, { ...base, out: { entropy: new Int32Array(rows) } }))).toMatch(/^TypeError: .*opts.out.entropy/);
    expect(nameOf(() => raw(nl, { ...base, out: { argmax: new Int32Array(5) } }))).toMatch(/^RangeError: opts.out.argmax must have one entry per row \(2\), got 5/);
  });
});
