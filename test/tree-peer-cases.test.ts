// Peer test cases not covered by test/tree-serving-layout.test.ts, ported with their expected outputs, plus the
// peers' caps and placeholders: SGLang's accept_index width (num_speculative_tokens) as maxAccepted, vLLM's
// -1 padded drafts in a plain TreeBatch, FlashInfer's one-hot chain case, vLLM's seeded-determinism and
// top-k / top-p masking cases.
import { verifyTree } from '../lib/tree/verify';
import { fromFirstChildNextSibling } from '../lib/tree/import';
import { gatherRows } from '../lib/tree/slots';
import type { TreeBatch } from '../lib/tree/types';
import { processedDistribution } from './helpers/treeReference';
import { randInt, rng } from './helpers/rng';

const I = (a: number[]) => Int32Array.from(a);

/** A batch of chains: request b's drafts in order (-1 allowed), root token 0. */
function chains(drafts: number[][]): TreeBatch {
  const tokens: number[] = [];
  const parents: number[] = [];
  const offsets = [0];
  for (const d of drafts) {
    tokens.push(0);
    parents.push(-1);
    d.forEach((t, i) => {
      tokens.push(t);
      parents.push(i);
    });
    offsets.push(tokens.length);
  }
  return { tokens: I(tokens), parents: I(parents), offsets: I(offsets) };
}

describe('SGLang: num_speculative_tokens (accept_index width) is maxAccepted + 1', () => {
  // sgl-kernel/tests/speculative/test_speculative_sampling.py (commit 120affb), first case (threshold_single =
  // threshold_acc = 1, the lossless setting; the second case, thresholds 0, accepts regardless of the target
  // and has no lossless equivalent). Its expected outputs at width 4 are in tree-serving-layout.test.ts; the
  // kernel's walk loop runs `for j in 1 .. num_speculative_tokens - 1`, so with accept_index width 3 it stops
  // after 2 accepted drafts and samples the bonus from target_probs alone ("no draft_probs for the bonus
  // token"): request 0 accepts slots 3, 4 and emits row 4's token 5 as the bonus; request 1 is unchanged.
  const candidates = I([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]);
  const nextToken = I([1, 2, -1, 4, 5, -1, 4, 2, 3, -1, 5, -1]);
  const nextSibling = I([-1, 3, -1, -1, -1, -1, -1, -1, -1, -1, 1, -1]);
  const V = 20;
  const z = new Float32Array(12 * V).fill(1);
  const hot: Record<number, number> = { 0: 3, 3: 4, 4: 5, 6: 11, 10: 12 };
  for (let s = 0; s < 12; s++) z[s * V + (hot[s] ?? 18)] = 10;

  test.each([
    [4, [3, -1, -1, 4, 5, 18, 11, -1, -1, -1, 12, 18], [0, 3, 4, 5, 6, 10, 11, -1], [3, 2]],
    [3, [3, -1, -1, 4, 5, -1, 11, -1, -1, -1, 12, 18], [0, 3, 4, 6, 10, 11], [2, 2]],
    [2, [3, -1, -1, 4, -1, -1, 11, -1, -1, -1, 12, -1], [0, 3, 6, 10], [1, 1]],
    [1, [3, -1, -1, -1, -1, -1, 11, -1, -1, -1, -1, -1], [0, 6], [0, 0]],
  ])('width %i: predicts / accept_index / accept_token_num', async (width, predicts, acceptIndex, acceptTokenNum) => {
    const { trees, slots } = fromFirstChildNextSibling(
      { tokens: candidates, firstChild: nextToken, nextSibling, nodesPerTree: 6 },
      { padded: true, vocab: V },
    );
    const target = gatherRows({ data: z, rows: 12, vocab: V }, slots);
    for (const opts of [{ mode: 'greedy' as const }, { mode: 'sample' as const, temperature: 0.01 }]) {
      const r = await verifyTree(trees, target, { ...opts, seed: 3, layout: 'sglang', slots, width, maxAccepted: width - 1 });
      expect(Array.from(r.sglang!.predicts)).toEqual(predicts);
      expect(Array.from(r.sglang!.acceptIndex)).toEqual(acceptIndex);
      expect(Array.from(r.sglang!.acceptTokenNum)).toEqual(acceptTokenNum);
    }
  });
});

describe('vLLM: drafts padded with PLACEHOLDER_TOKEN_ID (-1) in a plain TreeBatch', () => {
  // tests/v1/sample/test_rejection_sampler.py (commit 004fce2), the greedy cases: spec tokens, the target's
  // argmax per position (last = bonus), expected sampled_token_ids. Here each request's spec tokens are padded
  // to the batch's max_spec_len with -1 and passed as chains without an importer; rows under a placeholder are
  // NaN (never read).
  const cases: [string, number[][], number[][], number[][]][] = [
    ['multiple_sequences', [[1, 2], [3]], [[1, 2, 5], [3, 4]], [[1, 2, 5], [3, 4, -1]]],
    ['multiple_mismatches', [[1, 2, 3], [4, 5, 6]], [[1, 2, 7, 6], [4, 8, 6, 9]], [[1, 2, 7, -1], [4, 8, -1, -1]]],
    ['parametrized mixed', [[1, 2], [3, 4]], [[1, 5, 6], [3, 4, 7]], [[1, 5, -1], [3, 4, 7]]],
    ['empty and full', [[], [1, 2, 3]], [[5], [1, 2, 3, 4]], [[5, -1, -1, -1], [1, 2, 3, 4]]],
    ['early_mismatch', [[1, 2, 3]], [[1, 5, 3, 4]], [[1, 5, -1, -1]]],
  ];
  test.each(cases)('%s', async (_name, spec, out, expected) => {
    const V = 100;
    const k = Math.max(...spec.map((s) => s.length));
    const trees = chains(spec.map((s) => [...s, ...new Array(k - s.length).fill(-1)]));
    const z = new Float32Array(spec.length * (k + 1) * V).fill(NaN);
    out.forEach((o, b) =>
      o.forEach((t, j) => {
        const row = b * (k + 1) + j;
        z.fill(-100, row * V, (row + 1) * V);
        z[row * V + t] = 100;
      }),
    );
    const target = { data: z, rows: spec.length * (k + 1), vocab: V };
    for (const opts of [{ mode: 'greedy' as const }, { mode: 'sample' as const, temperature: 0.05 }]) {
      const r = await verifyTree(trees, target, { ...opts, seed: 1, layout: 'vllm' });
      expect(r.vllm!.width).toBe(k + 1);
      expect(Array.from(r.vllm!.outputTokenIds)).toEqual(expected.flat());
      // vLLM's num_speculative_tokens = k is maxAccepted = k: the same outputs.
      const c = await verifyTree(trees, target, { ...opts, seed: 1, layout: 'vllm', maxAccepted: k });
      expect(Array.from(c.vllm!.outputTokenIds)).toEqual(expected.flat());
    }
  });

  // test_deterministic_when_seeded: k in {1, 3, 5}, batch in {1, 4, 8}, vocab 1000, random target logits and
  // draft distributions, random draft tokens, 20 repetitions: every seeded request gets the same tokens each
  // time (here: per-request seeds, and also with other requests around it and in another order).
  test.each([1, 3, 5])('test_deterministic_when_seeded, k = %i', async (k) => {
    const r = rng(k);
    for (const batch of [1, 4, 8]) {
      const V = 1000;
      const trees = chains(Array.from({ length: batch }, () => Array.from({ length: k }, () => randInt(r, V))));
      const rows = batch * (k + 1);
      const target = { data: Float32Array.from({ length: rows * V }, () => r()), rows, vocab: V };
      const draft = { data: Float32Array.from({ length: rows * V }, () => r()), rows, vocab: V };
      const seed = BigUint64Array.from({ length: batch }, (_, i) => BigInt(i));
      const first = await verifyTree(trees, target, { mode: 'sample', drafts: 'iid', draft, seed });
      for (let rep = 1; rep < 20; rep++) {
        const again = await verifyTree(trees, target, { mode: 'sample', drafts: 'iid', draft, seed });
        expect(again.tokens).toEqual(first.tokens);
      }
    }
  });

  // test_top_k (k in {1, 5, 99}) and test_top_p (p in {0.5, 0.9, 0.99}): batch 100, 3 drafts each from random
  // draft distributions, vocab 100; every sampled token lies in its row's kept set. vLLM skips the (mocked)
  // bonus token; here the bonus is sampled too and checked as well.
  const kept = (z: Float32Array, row: number, V: number, o: { topK?: number; topP?: number }) =>
    processedDistribution(z.subarray(row * V, (row + 1) * V), { temperature: 1, ...o });
  const masks: [string, { topK?: number; topP?: number }, number][] = [
    ['top_k', { topK: 1 }, 1], ['top_k', { topK: 5 }, 2], ['top_k', { topK: 99 }, 3],
    ['top_p', { topP: 0.5 }, 4], ['top_p', { topP: 0.9 }, 5], ['top_p', { topP: 0.99 }, 6],
  ];
  test.each(masks)('test_%s %j', async (_kind, o, salt) => {
    const r = rng(77 + salt);
    const V = 100, batch = 100, k = 3;
    const rows = batch * (k + 1);
    const z = new Float32Array(rows * V);
    if (o.topK !== undefined) {
      // Uniform logits, + 0.1 at k random tokens per row (vLLM's construction).
      for (let row = 0; row < rows; row++) {
        const perm = Array.from({ length: V }, (_, i) => i).sort(() => r() - 0.5);
        for (const t of perm.slice(0, o.topK)) z[row * V + t] = 0.1;
      }
    } else {
      for (let i = 0; i < z.length; i++) z[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    }
    const qz = Float32Array.from({ length: rows * V }, () => r());
    const q = (row: number) => processedDistribution(qz.subarray(row * V, (row + 1) * V), {});
    // Draft tokens drawn from the draft rows, as vLLM's torch.multinomial(draft_probs, 1).
    const drafts = Array.from({ length: batch }, (_, b) =>
      Array.from({ length: k }, (_, j) => {
        const p = q(b * (k + 1) + j);
        let u = r();
        for (let x = 0; x < V; x++) if ((u -= p[x]) < 0) return x;
        return V - 1;
      }),
    );
    const res = await verifyTree(chains(drafts), { data: z, rows, vocab: V }, {
      mode: 'sample', drafts: 'iid', draft: { data: qz, rows, vocab: V }, seed: 5, ...o,
    });
    for (let b = 0; b < batch; b++) {
      for (let i = res.tokenOffsets[b], j = 0; i < res.tokenOffsets[b + 1]; i++, j++) {
        expect(kept(z, b * (k + 1) + j, V, o)[res.tokens[i]]).toBeGreaterThan(0);
      }
    }
  });
});

describe('FlashInfer chain_speculative_sampling, one-hot target', () => {
  // flashinfer tests/test_sampling.py test_chain_speculative_sampling (onehot_target = True): random
  // normalised draft probabilities, random draft tokens, a one-hot target whose first num_speculate_tokens
  // positions are the drafts: output_token_ids == target_token_ids (every draft accepted, the bonus is the
  // target's token). Sizes: batch {1, 19, 99}, vocab {111, 500, 32000}, num_speculate_tokens {1, 3, 5, 7}
  // (vocab 32000 with batch 1, and batch 19 for 1 and 3 drafts, to keep the test short).
  // With maxAccepted = m < num_speculate_tokens the walk stops after m drafts and the bonus is the one-hot
  // row m's token, i.e. the first m + 1 target tokens.
  test.each([1, 3, 5, 7])('num_speculate_tokens = %i', async (k) => {
    const r = rng(100 + k);
    for (const batch of [1, 19, 99]) {
      for (const V of [111, 500, 32000]) {
        if (batch * V > 99 * 500 && (k > 3 || batch > 19)) continue; // small test: 32000 only for small batches
        const targetIds = Array.from({ length: batch }, () => Array.from({ length: k + 1 }, () => randInt(r, V)));
        const trees = chains(targetIds.map((t) => t.slice(0, k)));
        const rows = batch * (k + 1);
        const tz = new Float32Array(rows * V).fill(-Infinity);
        targetIds.forEach((t, b) => t.forEach((x, j) => (tz[(b * (k + 1) + j) * V + x] = 0)));
        const qz = new Float32Array(rows * V);
        for (let i = 0; i < qz.length; i++) qz[i] = Math.log(r() + 1e-7);
        const draft = { data: qz, rows, vocab: V };
        for (const cap of [undefined, 0, Math.floor(k / 2)]) {
          const res = await verifyTree(trees, { data: tz, rows, vocab: V }, {
            mode: 'sample', drafts: 'iid', draft, seed: 11, ...(cap === undefined ? {} : { maxAccepted: cap }),
          });
          const n = cap ?? k;
          for (let b = 0; b < batch; b++) {
            expect(res.acceptedLength[b]).toBe(n);
            expect(Array.from(res.tokens.subarray(res.tokenOffsets[b], res.tokenOffsets[b + 1]))).toEqual(targetIds[b].slice(0, n + 1));
          }
        }
      }
    }
  });
});
