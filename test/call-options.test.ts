// Options of the per-call overhead and multi-GPU work (#11): `sync` runs a call on the JS thread with the same
// result as the worker path; `devices` is validated (shape here, ordinals natively) and ignored by the CPU backend.
import { logitStats, scaling, verifyTree } from '../lib';
import { mulberry32 } from '../lib/runtime/prng';

function logits(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 4 * (r() * 2 - 1));
}

describe('opts.sync', () => {
  const V = 257;
  const trees = { tokens: new Int32Array([0, 5, 7, 9, 3]), parents: new Int32Array([-1, 0, 1, 0, -1]), offsets: new Int32Array([0, 4, 5]) };
  const target = { data: logits(5 * V, 1), rows: 5, vocab: V };

  test.each([
    ['greedy', {}],
    ['sample', { temperature: 0.7, topK: 20, topP: 0.9 }],
  ] as const)('verifyTree %s: sync equals the worker path', async (mode, knobs) => {
    for (let seed = 0; seed < 20; seed++) {
      const opts = { mode, seed, step: 3, ...knobs };
      const a = await verifyTree(trees, target, opts);
      const s = await verifyTree(trees, target, { ...opts, sync: true });
      expect(Array.from(s.tokens)).toEqual(Array.from(a.tokens));
      expect(Array.from(s.acceptedLength)).toEqual(Array.from(a.acceptedLength));
    }
  });

  test('logitStats: sync equals the worker path, errors still reject', async () => {
    const l = { data: logits(3 * V, 2), rows: 3, vocab: V };
    const a = await logitStats(l, { targets: new Int32Array([1, 2, 3]) });
    const s = await logitStats(l, { targets: new Int32Array([1, 2, 3]), sync: true });
    expect(Array.from(s.entropy)).toEqual(Array.from(a.entropy));
    expect(Array.from(s.nll!)).toEqual(Array.from(a.nll!));
    const bad = { data: new Float32Array(4).fill(-Infinity), rows: 1, vocab: 4 };
    await expect(logitStats(bad, { sync: true })).rejects.toMatchObject({ name: 'RangeError' });
  });

  test('sync must be a boolean', async () => {
    await expect(logitStats(target, { sync: 1 as unknown as boolean })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 1, sync: 'yes' as unknown as boolean })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });
});

describe('scaling.fit devices', () => {
  const runs = scaling.chinchillaRuns();
  const grid = { a: [5], b: [6], e: [0.5], alpha: [0.3], beta: [0.3] };

  test.each([['gpu'], [[]], [[0.5]], [[-1]], [{}]])('devices = %p is rejected with a code', async (devices) => {
    await expect(
      scaling.fit(runs, { backend: 'cpu', grid, devices: devices as unknown as 'all' }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
  });

  test("the CPU backend ignores devices ('all' and a list give the same fit)", async () => {
    const boot = { resamples: 3, seed: 1 };
    const a = await scaling.fit(runs, { backend: 'cpu', grid, bootstrap: boot });
    const b = await scaling.fit(runs, { backend: 'cpu', grid, bootstrap: boot, devices: 'all' });
    const c = await scaling.fit(runs, { backend: 'cpu', grid, bootstrap: boot, devices: [0, 3] });
    expect(b.objective).toBe(a.objective);
    expect(Array.from(c.bootstrap!.samples.alpha!)).toEqual(Array.from(a.bootstrap!.samples.alpha!));
  });
});
