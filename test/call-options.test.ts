// Options of the per-call overhead and multi-GPU work (#11): `sync` runs a call on the JS thread with the same
// result as the worker path; `devices` is validated (shape here, ordinals natively) and ignored by the CPU backend.
import { logitStats, scaling, verifyTree } from '../lib';
import { mulberry32 } from '../lib/runtime/prng';
import { validateTreeBatch } from '../lib/tree/types';

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

describe('validateTreeBatch duplicate siblings (reused hash table)', () => {

  // naive reference: any two nodes of one tree with the same parent and token
  function hasDuplicate(tokens: Int32Array, parents: Int32Array, offsets: Int32Array): boolean {
    for (let b = 0; b + 1 < offsets.length; b++)
      for (let i = offsets[b]! + 1; i < offsets[b + 1]!; i++)
        for (let j = offsets[b]! + 1; j < i; j++) if (parents[i] === parents[j] && tokens[i] === tokens[j]) return true;
    return false;
  }
  test('agrees with the naive check on 400 random batches (awkward sizes, tiny vocabularies)', () => {
    const r = mulberry32(77);
    let dup = 0;
    for (let k = 0; k < 400; k++) {
      const batch = 1 + Math.floor(r() * 9);
      const sizes = Array.from({ length: batch }, () => 1 + Math.floor(r() * (k % 3 === 0 ? 300 : 17)));
      const n = sizes.reduce((a, x) => a + x, 0);
      const tokens = new Int32Array(n), parents = new Int32Array(n), offsets = new Int32Array(batch + 1);
      const vocab = 2 + Math.floor(r() * 40);
      let o = 0;
      sizes.forEach((s, b) => {
        parents[o] = -1;
        for (let i = 1; i < s; i++) {
          parents[o + i] = r() < 0.5 ? 0 : Math.floor(r() * i);
          tokens[o + i] = Math.floor(r() * vocab);
        }
        o += s;
        offsets[b + 1] = o;
      });
      const want = hasDuplicate(tokens, parents, offsets);
      if (want) dup++;
      const run = () => validateTreeBatch({ tokens, parents, offsets }, { vocab, allowDuplicateSiblings: false });
      if (want) expect(run).toThrow(/siblings with the same token/);
      else expect(run).not.toThrow();
    }
    expect(dup).toBeGreaterThan(50);
    expect(dup).toBeLessThan(390);
  });
});
