/**
 * Cancellation: an AbortSignal stops long work promptly (latency from abort() to the rejection is measured and
 * bounded), the rejection is the signal's AbortError, and aborted calls leave no memory behind.
 */
import { performance } from 'perf_hooks';
import * as lw from '../../lib';
import { bigLogits, treesWithNodes } from './helpers/heavy';

const LATENCY_BOUND_MS = Number(process.env.LW_ABORT_MS ?? 250); // generous for a loaded 2-core CI machine

const V = 65536;
const logits = bigLogits(1024, V, 3); // 268 MB of float32
const trees = treesWithNodes(1024, 32, V);
const runs = lw.scaling.chinchillaRuns();
const bigP = new Float64Array(1 << 16).fill(1 / (1 << 16));
const bigQ = Float64Array.from({ length: 1 << 16 }, (_, i) => (i % 3) + 1);
{
  let s = 0;
  for (const x of bigQ) s += x;
  for (let i = 0; i < bigQ.length; i++) bigQ[i]! /= s;
}

let acceptedChains = trees;
beforeAll(async () => {
  const { argmax } = await lw.logitStats(logits);
  const tokens = Int32Array.from(trees.tokens);
  for (let b = 0; b + 1 < trees.offsets.length; b++) {
    for (let n = trees.offsets[b]! + 1; n < trees.offsets[b + 1]!; n++) tokens[n] = argmax[n - 1]!;
  }
  acceptedChains = { ...trees, tokens };
});

type Long = (signal: AbortSignal) => Promise<unknown>;
const LONG: Record<string, [Long, number]> = {
  // name: [call, ms to wait before aborting]
  'scaling.fit bootstrap (grid per resample)': [(signal) => lw.scaling.fit(runs, { bootstrap: { resamples: 400, seed: 1, gridPerResample: true }, signal }), 40],
  'scaling.fit (4500 starts)': [(signal) => lw.scaling.fit(runs, { signal, objective: 'huber-likelihood' }), 15],
  'logitStats 1024×65536': [(signal) => lw.logitStats(logits, { signal }), 5],
  'xl3m.score 1024×65536': [(signal) => lw.xl3m.score(logits, { segments: 64, signal }), 5],
  // Chains of argmax tokens: greedy verification accepts every node, so every row is read.
  'verifyTree 1024 nodes × 65536 (greedy, all accepted)': [(signal) => lw.verifyTree(acceptedChains, logits, { mode: 'greedy', seed: 1, signal }), 2],
  'tree.expectedAcceptance 1024 nodes × 65536': [(signal) => lw.tree.expectedAcceptance(trees, logits, { topP: 0.9, signal }), 5],
  'multidraft.optimalAcceptanceBounds V=2^16, n=1024': [(signal) => lw.multidraft.optimalAcceptanceBounds(bigP, bigQ, 1024, { signal }), 20],
};

async function timeUnaborted(f: Long): Promise<number> {
  const t = performance.now();
  await f(new AbortController().signal);
  return performance.now() - t;
}

async function abortLatency(f: Long, waitMs: number): Promise<{ latency: number; error: unknown; completed: boolean }> {
  const c = new AbortController();
  const p = f(c.signal);
  await new Promise((r) => setTimeout(r, waitMs));
  const t = performance.now();
  c.abort();
  try {
    await p;
    return { latency: performance.now() - t, error: undefined, completed: true };
  } catch (error) {
    return { latency: performance.now() - t, error, completed: false };
  }
}

const figures: string[] = [];
afterAll(() => console.log(`abort → rejection latency:\n  ${figures.join('\n  ')}`));

test.each(Object.keys(LONG))('%s: abort rejects promptly with AbortError', async (name) => {
  const [f, wait] = LONG[name]!;
  const full = name.startsWith('scaling.fit bootstrap') ? NaN : await timeUnaborted(f);
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await abortLatency(f, wait);
    if (r.completed) {
      // The call finished before the abort landed: acceptable only if the whole call is that short.
      expect(full).toBeLessThan(wait + LATENCY_BOUND_MS);
      continue;
    }
    expect((r.error as Error).name).toBe('AbortError');
    latencies.push(r.latency);
  }
  const worst = Math.max(...latencies);
  figures.push(`${name}: ${latencies.map((l) => l.toFixed(1)).join(', ')} ms (whole call ${Number.isNaN(full) ? 'minutes' : `${full.toFixed(0)} ms`})`);
  if (latencies.length > 0) expect(worst).toBeLessThanOrEqual(LATENCY_BOUND_MS);
});

test('aborted calls release their memory (RSS flat over 40 aborted heavy calls)', async () => {
  const names = Object.keys(LONG).filter((n) => !n.startsWith('scaling.fit bootstrap'));
  for (const n of names) await abortLatency(LONG[n]![0], 1); // warm up allocator pools
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 40; i++) await abortLatency(LONG[names[i % names.length]!]![0], 1 + (i % 5));
  const grown = (process.memoryUsage().rss - before) / 2 ** 20;
  figures.push(`RSS change over 40 aborted calls: ${grown.toFixed(1)} MiB`);
  expect(grown).toBeLessThan(64);
});

test('an already-aborted signal rejects before any work, with the signal reason', async () => {
  const c = new AbortController();
  const reason = new Error('stop now');
  c.abort(reason);
  for (const [f] of Object.values(LONG)) await expect(f(c.signal)).rejects.toBe(reason);
});
