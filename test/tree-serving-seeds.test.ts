// Per-request random streams (seed: BigUint64Array, step: Uint32Array): a request's tokens depend only on its
// own tree, logits, knobs, seed and step — not on the other requests, their order, the batch size or the
// thread count. A bigint seed keeps today's streams (keyed by the request index).
import { spawn } from 'child_process';
import * as path from 'path';
import { verifyTree } from '../lib/tree/verify';
import { MODES, type Mode, batchOf, makeRequests, optionsOf, slice } from './helpers/servingRequests';
import { randInt, rng } from './helpers/rng';

const V = 64;

async function verify(reqs: ReturnType<typeof makeRequests>, mode: Mode) {
  const b = batchOf(reqs, V);
  return verifyTree(b.trees, b.target, optionsOf(b, mode) as never);
}

describe('batch invariance with per-request seeds', () => {
  test.each(MODES)('%s: each request of random batches (1–64, shuffled) gets its tokens verified alone', async (mode) => {
    const r = rng(1000 + MODES.indexOf(mode));
    let accepted = 0;
    let checked = 0;
    for (const size of [1, 2, 7, 64, 1 + randInt(r, 64)]) {
      const reqs = makeRequests(r, size, 8, V, mode === 'iid');
      const all = await verify(reqs, mode);
      // The same requests in another order and inside a larger batch.
      const perm = reqs.map((_, i) => i).sort(() => r() - 0.5);
      const extra = makeRequests(r, randInt(r, 5), 8, V, mode === 'iid');
      const shuffled = await verify([...extra, ...perm.map((i) => reqs[i])], mode);
      const alone = await Promise.all(reqs.map((q) => verify([q], mode)));
      for (let i = 0; i < reqs.length; i++) {
        const mine = slice(all, i);
        expect(mine).toEqual(slice(alone[i], 0));
        expect(slice(shuffled, extra.length + perm.indexOf(i))).toEqual(mine);
        accepted += all.acceptedLength[i];
        checked++;
      }
    }
    // The walks must go past the root often enough for the check to mean something.
    expect(accepted).toBeGreaterThan(checked / 4);
  });

  test('the request index is not part of the key: equal seeds and steps give equal tokens, other seeds differ', async () => {
    const r = rng(77);
    const [q] = makeRequests(r, 1, 8, V, false);
    const one = { ...q, temperature: 1, topK: 0, topP: 1 };
    const same = await verify(Array.from({ length: 48 }, () => one), 'deterministic');
    for (let i = 1; i < 48; i++) expect(slice(same, i)).toEqual(slice(same, 0));
    const seeds = await verify(Array.from({ length: 48 }, (_, i) => ({ ...one, seed: BigInt(i) * 0x9e3779b97f4a7c15n & ((1n << 64n) - 1n) })), 'deterministic');
    const steps = await verify(Array.from({ length: 48 }, (_, i) => ({ ...one, step: i })), 'deterministic');
    // 48 draws of a correction/bonus token over 64 tokens at T = 1: all equal would have probability < 1e-30.
    expect(new Set(Array.from({ length: 48 }, (_, i) => slice(seeds, i).tokens.join())).size).toBeGreaterThan(1);
    expect(new Set(Array.from({ length: 48 }, (_, i) => slice(steps, i).tokens.join())).size).toBeGreaterThan(1);
  });

  test('a bigint seed still keys by request index (unchanged): a request moved to index 0 changes its stream', async () => {
    const r = rng(5);
    const reqs = makeRequests(r, 32, 8, V, false).map((q) => ({ ...q, temperature: 1, topK: 0, topP: 1 }));
    const b = batchOf(reqs, V);
    const withBig = await verifyTree(b.trees, b.target, { mode: 'sample', seed: 42n, step: 3 });
    const alone = await Promise.all(
      reqs.map((q) => {
        const s = batchOf([q], V);
        return verifyTree(s.trees, s.target, { mode: 'sample', seed: 42n, step: 3 });
      }),
    );
    let differ = 0;
    for (let i = 0; i < reqs.length; i++) if (slice(withBig, i).tokens.join() !== slice(alone[i], 0).tokens.join()) differ++;
    expect(slice(withBig, 0)).toEqual(slice(alone[0], 0));
    expect(differ).toBeGreaterThan(0);
    // Per-request seeds equal to the bigint give request 0 the same stream (counter word 0 = request index 0).
    const per = await verifyTree(b.trees, b.target, {
      mode: 'sample', seed: new BigUint64Array(reqs.length).fill(42n), step: new Uint32Array(reqs.length).fill(3),
    });
    expect(slice(per, 0)).toEqual(slice(withBig, 0));
    // A shared number step with per-request seeds, and per-request steps with a bigint seed, are accepted.
    const mixed = await verifyTree(b.trees, b.target, { mode: 'sample', seed: new BigUint64Array(reqs.length).fill(42n), step: 3 });
    expect(slice(mixed, 5)).toEqual(slice(per, 5));
    const bigSteps = await verifyTree(b.trees, b.target, { mode: 'sample', seed: 42n, step: new Uint32Array(reqs.length).fill(3) });
    expect(bigSteps.tokens).toEqual(withBig.tokens);
  });

  test('bad seeds and steps name the option and the expected shape', async () => {
    const reqs = makeRequests(rng(3), 3, 4, V, false);
    const b = batchOf(reqs, V);
    const run = (o: Record<string, unknown>) => verifyTree(b.trees, b.target, { mode: 'sample', seed: 1n, ...o } as never);
    await expect(run({ seed: new BigUint64Array(2) })).rejects.toThrow(/opts.seed must have one entry per tree \(3\), got 2/);
    await expect(run({ seed: new BigInt64Array(3) })).rejects.toThrow(TypeError);
    await expect(run({ seed: [1n, 2n, 3n] })).rejects.toThrow(TypeError);
    await expect(run({ step: new Uint32Array(4) })).rejects.toThrow(/opts.step must have one entry per tree \(3\), got 4/);
    await expect(run({ step: new Int32Array(3) })).rejects.toThrow(TypeError);
    await expect(run({ step: -1 })).rejects.toThrow(/opts.step/);
  });
});

// Runs the per-request workload in a child process (own LENGTHWISE_THREADS) and returns its JSON.
function child(env: Record<string, string>): Promise<string> {
  const root = path.join(__dirname, '..');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bench', 'run.js'), path.join(__dirname, 'helpers', 'servingWorkload.ts')], {
      env: { ...process.env, ...env },
      cwd: root,
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

test('per-request streams are the same on 1, 2 and 3 threads (each in its own process)', async () => {
  const runs = await Promise.all(['1', '2', '3'].map((t) => child({ LENGTHWISE_THREADS: t, LW_WORKLOAD: 'per-request' })));
  const parsed = runs.map((s) => JSON.parse(s) as { threads: number; results: unknown });
  expect(parsed.map((p) => p.threads)).toEqual([1, 2, 3]);
  expect(parsed[1].results).toEqual(parsed[0].results);
  expect(parsed[2].results).toEqual(parsed[0].results);
});

// LW_BASELINE_LIB=/path/to/another/build/dist: bigint-seeded calls give the same tokens as that build.
const baseline = process.env.LW_BASELINE_LIB;
(baseline ? test : test.skip)('bigint seeds: identical tokens to the baseline build (LW_BASELINE_LIB)', async () => {
  const [mine, theirs] = await Promise.all([
    child({ LW_WORKLOAD: 'bigint' }),
    child({ LW_WORKLOAD: 'bigint', LW_LIB: baseline as string }),
  ]);
  expect(JSON.parse(mine)).toEqual(JSON.parse(theirs));
});
