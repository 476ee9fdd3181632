// Results in the peers' layouts: SGLang (predicts / acceptIndex / acceptTokenNum in slot coordinates) and vLLM
// (padded [batch, width] with -1), from padded buffers, checked against the peers' own test expectations and
// against independent slot-coordinate reference walks.
import { fromFirstChildNextSibling, fromPaddedChains } from '../lib/tree/import';
import { toLayout } from '../lib/tree/layout';
import { gatherRows } from '../lib/tree/slots';
import { verifyTree } from '../lib/tree/verify';
import { randInt, rng } from './helpers/rng';

const I = (a: number[]) => Int32Array.from(a);

// SGLang sgl-kernel/tests/speculative/test_eagle_utils.py (test_verify_tree_greedy) and
// test_speculative_sampling.py (first case: threshold_single = threshold_acc = 1, temperature 0.01), commit 120affb.
const sg = {
  candidates: I([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]),
  nextToken: I([1, 2, -1, 4, 5, -1, 4, 2, 3, -1, 5, -1]),
  nextSibling: I([-1, 3, -1, -1, -1, -1, -1, -1, -1, -1, 1, -1]),
  vocab: 20,
  predicts: [3, -1, -1, 4, 5, 18, 11, -1, -1, -1, 12, 18],
  acceptIndex: [0, 3, 4, 5, 6, 10, 11, -1],
  acceptTokenNum: [3, 2],
};

/** SGLang's test logits: 1 everywhere, 10 at the listed (request, slot, token), 10 at token 18 elsewhere. */
function sglangLogits(slotsPerTree: number, pad: (b: number, s: number) => boolean): Float32Array {
  const V = sg.vocab;
  const z = new Float32Array(2 * slotsPerTree * V).fill(1);
  const hot: [number, number, number][] = [[0, 0, 3], [0, 3, 4], [0, 4, 5], [1, 0, 11], [1, 4, 12]];
  for (let b = 0; b < 2; b++) {
    for (let s = 0; s < slotsPerTree; s++) {
      const row = (b * slotsPerTree + s) * V;
      if (pad(b, s)) { z.fill(NaN, row, row + V); continue; } // padding rows must never be read
      const h = hot.find(([hb, hs]) => hb === b && hs === s);
      z[row + (h ? h[2] : 18)] = 10;
    }
  }
  return z;
}

describe('SGLang layout', () => {
  test("SGLang's verify_tree_greedy case: greedy and sampling at T = 0.01 give its predicts / accept_index / accept_token_num", async () => {
    const { trees, slots } = fromFirstChildNextSibling(
      { tokens: sg.candidates, firstChild: sg.nextToken, nextSibling: sg.nextSibling, nodesPerTree: 6 },
      { padded: true, vocab: sg.vocab },
    );
    const target = gatherRows({ data: sglangLogits(6, () => false), rows: 12, vocab: sg.vocab }, slots);
    const runs = [
      verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'sglang', slots, width: 4 }),
      ...[1, 2, 3, 4, 5].map((seed) =>
        verifyTree(trees, target, { mode: 'sample', temperature: 0.01, seed, layout: 'sglang', slots, width: 4 }),
      ),
    ];
    for (const r of await Promise.all(runs)) {
      expect(Array.from(r.sglang!.predicts)).toEqual(sg.predicts);
      expect(Array.from(r.sglang!.acceptIndex)).toEqual(sg.acceptIndex);
      expect(Array.from(r.sglang!.acceptTokenNum)).toEqual(sg.acceptTokenNum);
    }
  });

  test('the same trees padded to 8 slots (NaN padding rows): the expected outputs at the moved slots', async () => {
    const N = 8;
    const tokens = new Int32Array(2 * N).fill(-1);
    const fc = new Int32Array(2 * N).fill(-1);
    const ns = new Int32Array(2 * N).fill(-1);
    for (let b = 0; b < 2; b++) {
      tokens.set(sg.candidates.subarray(b * 6, b * 6 + 6), b * N);
      fc.set(sg.nextToken.subarray(b * 6, b * 6 + 6), b * N);
      ns.set(sg.nextSibling.subarray(b * 6, b * 6 + 6), b * N);
    }
    fc[N - 1] = N - 2; // a detached link among the padding slots
    const { trees, slots } = fromFirstChildNextSibling({ tokens, firstChild: fc, nextSibling: ns, nodesPerTree: N }, { padded: true });
    const target = gatherRows({ data: sglangLogits(N, (_b, s) => s >= 6), rows: 2 * N, vocab: sg.vocab }, slots);
    const r = await verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'sglang', slots, width: 4 });
    const move = (g: number) => (g < 0 ? -1 : Math.floor(g / 6) * N + (g % 6));
    const predicts = new Array(2 * N).fill(-1);
    sg.predicts.forEach((p, g) => { predicts[move(g)] = p; });
    expect(Array.from(r.sglang!.predicts)).toEqual(predicts);
    expect(Array.from(r.sglang!.acceptIndex)).toEqual(sg.acceptIndex.map(move));
    expect(Array.from(r.sglang!.acceptTokenNum)).toEqual(sg.acceptTokenNum);
  });

  /**
   * SGLang's greedy verification written directly on the slot buffers (the kernel's semantics): from the root,
   * follow the sibling chain for the child whose candidate equals the target argmax of the current slot.
   */
  function sglangGreedyReference(cand: Int32Array, fc: Int32Array, ns: Int32Array, argmax: Int32Array, N: number, width: number) {
    const batch = cand.length / N;
    const predicts = new Array(batch * N).fill(-1);
    const acceptIndex = new Array(batch * width).fill(-1);
    const num: number[] = [];
    for (let b = 0; b < batch; b++) {
      let cur = 0;
      let k = 0;
      acceptIndex[b * width] = b * N;
      for (;;) {
        const want = argmax[b * N + cur];
        let c = fc[b * N + cur];
        while (c !== -1 && cand[b * N + c] !== want) c = ns[b * N + c];
        predicts[b * N + cur] = want;
        if (c === -1) break;
        acceptIndex[b * width + ++k] = b * N + c;
        cur = c;
      }
      num.push(k);
    }
    return { predicts, acceptIndex, num };
  }

  test('random padded SGLang buffers: import + greedy verify + layout == the slot-coordinate reference', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const batch = 1 + randInt(r, 6);
      const N = 2 + randInt(r, 9);
      const V = 12;
      const cand = new Int32Array(batch * N).fill(-1);
      const fc = new Int32Array(batch * N).fill(-1);
      const ns = new Int32Array(batch * N).fill(-1);
      for (let b = 0; b < batch; b++) {
        // Random tree over a random subset of slots, parents before children in slot order (as SGLang builds
        // them), siblings linked in random order with distinct tokens.
        const used = 1 + randInt(r, N);
        const kids = new Map<number, number[]>();
        cand[b * N] = randInt(r, V);
        for (let s = 1; s < used; s++) {
          const p = randInt(r, s);
          if (p > 0 && cand[b * N + p] === -1) continue; // parent is padding: leave this slot padding too
          const list = kids.get(p) ?? [];
          let t = randInt(r, V);
          while (list.some((c) => cand[b * N + c] === t)) t = randInt(r, V);
          cand[b * N + s] = t;
          // Prepend or append at random (SGLang's builder prepends), so walk order != slot order.
          if (randInt(r, 2) === 0) list.unshift(s);
          else list.push(s);
          kids.set(p, list);
        }
        for (const [p, list] of kids) {
          fc[b * N + p] = list[0];
          for (let i = 0; i + 1 < list.length; i++) ns[b * N + list[i]] = list[i + 1];
        }
      }
      // Argmax per slot: usually one of its children's tokens, so paths get long.
      const argmax = new Int32Array(batch * N);
      for (let g = 0; g < batch * N; g++) {
        const kids: number[] = [];
        for (let c = fc[g]; c !== -1; c = ns[Math.floor(g / N) * N + c]) kids.push(cand[Math.floor(g / N) * N + c]);
        argmax[g] = kids.length > 0 && r() < 0.75 ? kids[randInt(r, kids.length)] : randInt(r, V);
      }
      const z = new Float32Array(batch * N * V);
      for (let g = 0; g < batch * N; g++) for (let x = 0; x < V; x++) z[g * V + x] = x === argmax[g] ? 5 : r();
      const ref = sglangGreedyReference(cand, fc, ns, argmax, N, N);
      const { trees, slots } = fromFirstChildNextSibling({ tokens: cand, firstChild: fc, nextSibling: ns, nodesPerTree: N }, { padded: true, vocab: V });
      const res = await verifyTree(trees, gatherRows({ data: z, rows: batch * N, vocab: V }, slots), {
        mode: 'greedy', seed: 0, layout: 'sglang', slots,
      });
      expect(Array.from(res.sglang!.predicts)).toEqual(ref.predicts);
      expect(Array.from(res.sglang!.acceptIndex)).toEqual(ref.acceptIndex);
      expect(Array.from(res.sglang!.acceptTokenNum)).toEqual(ref.num);
      expect(res.sglang!.width).toBe(N);
    }
  });
});

describe('vLLM layout', () => {
  // vLLM tests/v1/sample/test_rejection_sampler.py (greedy tests, commit 004fce2): spec tokens, the tokens the
  // target's argmax gives at each position (the last one the bonus), and the expected sampled_token_ids
  // (PLACEHOLDER_TOKEN_ID = -1).
  const cases: { name: string; spec: number[][]; out: number[][]; expected: number[][] }[] = [
    { name: 'perfect_match', spec: [[1, 2, 3]], out: [[1, 2, 3, 4]], expected: [[1, 2, 3, 4]] },
    { name: 'early_mismatch', spec: [[1, 2, 3]], out: [[1, 5, 3, 4]], expected: [[1, 5, -1, -1]] },
    { name: 'multiple_sequences', spec: [[1, 2], [3]], out: [[1, 2, 5], [3, 4]], expected: [[1, 2, 5], [3, 4, -1]] },
    { name: 'single_token_sequence', spec: [[1]], out: [[1, 2]], expected: [[1, 2]] },
    { name: 'empty_sequence', spec: [[]], out: [[5]], expected: [[5]] },
    {
      name: 'multiple_mismatches',
      spec: [[1, 2, 3], [4, 5, 6]],
      out: [[1, 2, 7, 6], [4, 8, 6, 9]],
      expected: [[1, 2, 7, -1], [4, 8, -1, -1]],
    },
    { name: 'parametrized perfect match', spec: [[1, 2]], out: [[1, 2, 3]], expected: [[1, 2, 3]] },
    { name: 'parametrized first mismatch', spec: [[1]], out: [[2, 3]], expected: [[2, -1]] },
    { name: 'parametrized mixed', spec: [[1, 2], [3, 4]], out: [[1, 5, 6], [3, 4, 7]], expected: [[1, 5, -1], [3, 4, 7]] },
  ];

  test.each(cases)("vLLM's $name case from padded drafts", async ({ spec, out, expected }) => {
    const V = 100;
    const batch = spec.length;
    const maxDrafts = Math.max(...spec.map((s) => s.length));
    const drafts = new Int32Array(batch * maxDrafts).fill(-1);
    spec.forEach((s, b) => drafts.set(s, b * maxDrafts));
    const { trees, slots } = fromPaddedChains({ drafts, maxDrafts, numDrafts: I(spec.map((s) => s.length)) }, { vocab: V });
    // Slot-layout logits as vLLM's helper makes them: 100 at the token, -100 elsewhere; padding rows NaN.
    const N = maxDrafts + 1;
    const z = new Float32Array(batch * N * V).fill(NaN);
    out.forEach((o, b) =>
      o.forEach((t, j) => {
        z.fill(-100, (b * N + j) * V, (b * N + j + 1) * V);
        z[(b * N + j) * V + t] = 100;
      }),
    );
    const target = gatherRows({ data: z, rows: batch * N, vocab: V }, slots);
    const r = await verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'vllm', slots });
    expect(r.vllm!.width).toBe(N);
    expect(Array.from(r.vllm!.outputTokenIds)).toEqual(expected.flat());
    // Sampling at a low temperature is the same here (the argmax holds all the mass).
    const s = await verifyTree(trees, target, { mode: 'sample', temperature: 0.05, seed: 9, step: 3, layout: 'vllm', slots });
    expect(Array.from(s.vllm!.outputTokenIds)).toEqual(expected.flat());
  });
});

describe('layout options', () => {
  const trees = { tokens: I([0, 1, 2, 0]), parents: I([-1, 0, 1, -1]), offsets: I([0, 3, 4]) };
  const target = { data: new Float32Array(4 * 3), rows: 4, vocab: 3 };
  test('compact (default) adds nothing; toLayout converts a result in hand without changing it', async () => {
    const r = await verifyTree(trees, target, { mode: 'greedy', seed: 0 });
    expect(r.sglang).toBeUndefined();
    expect(r.vllm).toBeUndefined();
    // All logits equal: argmax 0 everywhere; tree 0 accepts nothing (child token 1), tree 1 is root-only.
    const v = toLayout(r, trees, { layout: 'vllm' });
    expect(Array.from(v.vllm!.outputTokenIds)).toEqual([0, -1, -1, 0, -1, -1]);
    const s = toLayout(r, trees, { layout: 'sglang' });
    expect(Array.from(s.sglang!.predicts)).toEqual([0, -1, -1, 0]);
    expect(Array.from(s.sglang!.acceptIndex)).toEqual([0, -1, -1, 3, -1, -1]);
    expect((r as { vllm?: unknown }).vllm).toBeUndefined();
  });
  test('bad options are rejected before verification, naming the option', async () => {
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'flat' as 'vllm' })).rejects.toThrow(/opts.layout must be/);
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'vllm', width: 2 })).rejects.toThrow(/opts.width must be an integer >= 3/);
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'vllm', width: 3.5 })).rejects.toThrow(/opts.width/);
    const other = fromPaddedChains({ drafts: I([1, 2, 3]), maxDrafts: 3 });
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'sglang', slots: other.slots })).rejects.toThrow(
      /opts.slots describes 1 requests/,
    );
    await expect(verifyTree(trees, target, { mode: 'greedy', seed: 0, layout: 'sglang', slots: {} as never })).rejects.toThrow(TypeError);
    expect(() => gatherRows({ data: new Float32Array(6), rows: 2, vocab: 3 }, other.slots)).toThrow(/logits.rows = 2 must be batch × slotsPerTree = 1 × 4 = 4/);
  });
});
