// Decoder logic on a tiny deterministic JS model pair (exact float64 sums in column order, so tree forwards and
// incremental forwards agree bit for bit and greedy equality is exact).
import { speculative } from '../lib';
import type { TreeStrategy, VerifyChoice, VerifyInfo } from '../lib/speculative';
import { mulberry32 } from '../lib/runtime/prng';
import { FakeModel, plainGreedy } from './speculative-fake-model';
import { chi2Critical, chi2Fit } from './speculative-stats';
import { processedDistribution } from './helpers/treeReference';

const V = 24;
const target = new FakeModel({ vocab: V, seed: 11 });
const draft = new FakeModel({ vocab: V, seed: 12, like: { model: target, mix: 0.75 } });

const STRATEGIES: TreeStrategy[] = [
  { kind: 'chain', k: 1 },
  { kind: 'chain', k: 4 },
  { kind: 'static' },
  { kind: 'static', choices: [[0], [1], [0, 0], [0, 1], [1, 0], [0, 0, 0]] },
  { kind: 'dynamic', budget: 12 },
  { kind: 'dynamic', budget: 20, width: 3, depth: 6, stopThreshold: 0.6 },
];
const name = (s: TreeStrategy) => JSON.stringify(s);

function prompts(n: number, seed: number): number[][] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * V)));
}

/** Next-token logits after `seq` straight from the model (one causal forward, no lengthwise code). */
async function nextLogits(m: FakeModel, seq: number[]): Promise<Float32Array> {
  const S = seq.length;
  const bias = new Float32Array(S * S).fill(-1e9);
  for (let s = 0; s < S; s++) for (let j = 0; j <= s; j++) bias[s * S + j] = 0;
  const r = await m.forward(Int32Array.from(seq), Int32Array.from(seq, (_, i) => i), { data: bias, batch: 1, rows: S, columns: S }, null);
  return (r.logits.data as Float32Array).slice((S - 1) * V);
}

describe('greedy speculative decoding == plain greedy target decoding', () => {
  const ps = prompts(24, 3);
  const refs = Promise.all(ps.map((p) => plainGreedy(target, p, 20)));
  test.each(STRATEGIES.map((s) => [name(s), s] as const))('%s, batched and one by one', async (_n, tree) => {
    const ref = await refs;
    const dec = speculative.createDecoder({ target, draft, tree, verify: 'greedy' });
    const batched = await dec.generate(ps, { maxTokens: 20, temperature: 0, eosId: null });
    for (let i = 0; i < ps.length; i++) expect(batched.tokens[i]).toEqual(ref[i]!.tokens);
    for (let i = 0; i < 4; i++) {
      const one = await dec.generate([ps[i]!], { maxTokens: 20, temperature: 0, eosId: null });
      expect(one.tokens[0]).toEqual(ref[i]!.tokens);
    }
    expect(batched.stats.generatedTokens).toBe(20 * ps.length);
    expect(batched.stats.acceptedPerForward).toBeGreaterThan(0.3); // the draft is close to the target
    expect(batched.stats.targetForwards).toBeLessThan(20);
  });

  test('every verify mode is greedy at temperature 0; no draft = plain decoding', async () => {
    const ref = await refs;
    for (const verify of ['auto', 'target-only', 'iid', 'without-replacement'] as VerifyChoice[]) {
      const dec = speculative.createDecoder({ target, draft, tree: { kind: 'static' }, verify });
      const r = await dec.generate(ps.slice(0, 6), { maxTokens: 20, temperature: 0, eosId: null });
      for (let i = 0; i < 6; i++) expect(r.tokens[i]).toEqual(ref[i]!.tokens);
    }
    const plain = speculative.createDecoder({ target, tree: { kind: 'none' } });
    const r = await plain.generate(ps, { maxTokens: 20, temperature: 0, eosId: null });
    for (let i = 0; i < ps.length; i++) expect(r.tokens[i]).toEqual(ref[i]!.tokens);
    expect(r.stats.targetForwards).toBe(20);
    expect(r.stats.acceptedPerForward).toBe(0);
  });
});

test('float16 logits from the adapters are used as is: greedy == plain greedy on the float16 logits', async () => {
  const t16 = new FakeModel({ vocab: V, seed: 11, half: true });
  const d16 = new FakeModel({ vocab: V, seed: 12, like: { model: t16, mix: 0.75 }, half: true });
  const ps = prompts(8, 31);
  for (const tree of [{ kind: 'static' }, { kind: 'dynamic', budget: 12 }] as TreeStrategy[]) {
    const r = await speculative.createDecoder({ target: t16, draft: d16, tree }).generate(ps, { maxTokens: 16, temperature: 0, eosId: null });
    for (let i = 0; i < ps.length; i++) expect(r.tokens[i]).toEqual((await plainGreedy(t16, ps[i]!, 16)).tokens);
    expect(r.stats.acceptedPerForward).toBeGreaterThan(0.3);
  }
  // Sampled drafts read the float16 draft rows too.
  const s = await speculative.createDecoder({ target: t16, draft: d16, tree: { kind: 'static' }, verify: 'iid' }).generate(ps, { maxTokens: 8, temperature: 1, seed: 2 });
  expect(s.stats.generatedTokens).toBeGreaterThan(0);
});

test('GTO reward shaping prunes dynamic trees, keeps greedy equality, and is refused for sampled drafts', async () => {
  const ps = prompts(10, 41);
  const ref = await Promise.all(ps.map((p) => plainGreedy(target, p, 16)));
  const base = { kind: 'dynamic', budget: 24, width: 4 } as const;
  const runs = [];
  for (const nodeCost of [0, 0.05, 1]) {
    const tree = { ...base, reward: { eta: 2, nodeCost } };
    const r = await speculative.createDecoder({ target, draft, tree, verify: 'greedy' }).generate(ps, { maxTokens: 16, temperature: 0, eosId: null });
    for (let i = 0; i < ps.length; i++) expect(r.tokens[i]).toEqual(ref[i]!.tokens);
    runs.push(r.stats.draftNodes / r.stats.verifiedTrees);
  }
  const plain = await speculative.createDecoder({ target, draft, tree: base, verify: 'greedy' }).generate(ps, { maxTokens: 16, temperature: 0, eosId: null });
  // nodeCost 0: the largest prefix always scores best (more paths only raise the smooth max).
  expect(runs[0]).toBeCloseTo(plain.stats.draftNodes / plain.stats.verifiedTrees, 9);
  expect(runs[2]!).toBeLessThan(runs[0]! * 0.5);
  expect(runs[1]!).toBeLessThanOrEqual(runs[0]!);
  const bad = speculative.createDecoder({ target, draft, tree: { ...base, reward: { eta: 2, nodeCost: 0.1 } }, verify: 'iid' });
  await expect(bad.generate([[1, 2]], { maxTokens: 4, temperature: 1 })).rejects.toThrow(/only deterministic drafts/);
  expect(() => speculative.createDecoder({ target, draft, tree: { ...base, reward: { eta: 0, nodeCost: 1 } } })).toThrow(/tree\.reward/);
});

describe('stopping, streaming, abort', () => {
  test('EOS, maxTokens and the window end sequences exactly where they should', async () => {
    const ref = await plainGreedy(target, [3, 4], 30);
    const eos = ref.tokens[7]!;
    const first = ref.tokens.indexOf(eos);
    const dec = speculative.createDecoder({ target, draft, tree: { kind: 'chain', k: 4 } });
    const r = await dec.generate([[3, 4], [3, 4]], { maxTokens: 30, temperature: 0, eosId: eos });
    expect(r.tokens[0]).toEqual(ref.tokens.slice(0, first + 1));
    expect(r.stopReasons[0]).toBe('eos');
    const l = await dec.generate([[3, 4]], { maxTokens: 5, temperature: 0, eosId: null });
    expect(l.tokens[0]).toEqual(ref.tokens.slice(0, 5));
    expect(l.stopReasons[0]).toBe('length');
    const small = new FakeModel({ vocab: V, seed: 11, window: 12 });
    const smallDraft = new FakeModel({ vocab: V, seed: 12, like: { model: small, mix: 0.75 }, window: 12 });
    const w = await speculative.createDecoder({ target: small, draft: smallDraft, tree: { kind: 'static' } })
      .generate([[3, 4]], { maxTokens: 30, temperature: 0, eosId: null });
    expect(w.stopReasons[0]).toBe('window');
    expect(w.tokens[0]).toEqual(ref.tokens.slice(0, 12 - 2 + 1)); // last root at position 11
  });

  test('stream() yields the same tokens as generate(), one done event per sequence', async () => {
    const ps = prompts(5, 9);
    const dec = speculative.createDecoder({ target, draft, tree: { kind: 'dynamic', budget: 10 } });
    const g = await dec.generate(ps, { maxTokens: 17, temperature: 0.9, seed: 5 });
    const got: number[][] = ps.map(() => []);
    const done: number[] = [];
    const stats = {};
    for await (const ev of dec.stream(ps, { maxTokens: 17, temperature: 0.9, seed: 5 }, stats)) {
      got[ev.sequence]!.push(...ev.tokens);
      if (ev.done) done.push(ev.sequence);
    }
    expect(got).toEqual(g.tokens);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4]);
    expect((stats as { generatedTokens: number }).generatedTokens).toBe(g.stats.generatedTokens);
  });

  test('AbortSignal stops generation with the signal reason', async () => {
    const ac = new AbortController();
    const dec = speculative.createDecoder({ target, draft });
    const it = dec.stream([[1, 2]], { maxTokens: 100, temperature: 0, eosId: null, signal: ac.signal });
    await it.next();
    ac.abort(new Error('stop now'));
    await expect(it.next()).rejects.toThrow('stop now');
  });
});

describe('bad input', () => {
  test('errors name the argument', () => {
    const other = new FakeModel({ vocab: V + 1, seed: 1 });
    expect(() => speculative.createDecoder({ target, draft: other })).toThrow(/draft\.vocab = 25 must equal target\.vocab = 24/);
    expect(() => speculative.createDecoder({ target })).toThrow(TypeError);
    expect(() => speculative.createDecoder({ target: {} as never, draft })).toThrow(/target\.forward/);
    expect(() => speculative.createDecoder({ target, draft, tree: { kind: 'chain', k: 0 } })).toThrow(/tree\.k/);
    expect(() => speculative.createDecoder({ target, draft, tree: { kind: 'static', choices: [[1]] } })).toThrow(/rank 0 missing/);
    expect(() => speculative.createDecoder({ target, draft, tree: { kind: 'static', choices: [[0, 0]] } })).toThrow(/no parent/);
    expect(() => speculative.createDecoder({ target, draft, verify: 'beam' as never })).toThrow(/verify/);
    expect(() => speculative.parseTree('dynamic')).toThrow(/--tree/);
    expect(speculative.parseTree('dynamic:30')).toEqual({ kind: 'dynamic', budget: 30 });
  });
  test('bad prompts / options reject', async () => {
    const dec = speculative.createDecoder({ target, draft });
    await expect(dec.generate([[]], { maxTokens: 3 })).rejects.toThrow(/prompts\[0\] must hold at least one token/);
    await expect(dec.generate([[1, V]], { maxTokens: 3 })).rejects.toThrow(/prompts\[0\]\[1\] = 24/);
    await expect(dec.generate([[1]], { maxTokens: 0 })).rejects.toThrow(/maxTokens/);
    await expect(dec.generate([[1]], { maxTokens: 2, temperature: -1 })).rejects.toThrow(/temperature/);
  });
});

describe('sampling is lossless (χ² goodness of fit to the exact target marginals, p = 1e-4 threshold)', () => {
  const prompt = [1, 5, 9];
  const N = 3000;
  async function exact(opts: { temperature: number; topK?: number; topP?: number }) {
    const proc = { temperature: opts.temperature, topK: opts.topK, topP: opts.topP };
    const p1 = processedDistribution(await nextLogits(target, prompt), proc);
    const p2 = new Float64Array(V);
    const pair = new Float64Array(V * V);
    for (let a = 0; a < V; a++) {
      if (p1[a] === 0) continue;
      const q = processedDistribution(await nextLogits(target, [...prompt, a]), proc);
      for (let b = 0; b < V; b++) {
        p2[b]! += p1[a]! * q[b]!;
        pair[a * V + b] = p1[a]! * q[b]!;
      }
    }
    return { p1, p2, pair };
  }
  async function sample(tree: TreeStrategy, verify: VerifyChoice, opts: { temperature: number; topK?: number; topP?: number }, model = target) {
    const c1 = new Float64Array(V);
    const c2 = new Float64Array(V);
    const cp = new Float64Array(V * V);
    const dec = speculative.createDecoder({ target: model, draft, tree, verify });
    for (let seed = 0; seed < N / 500; seed++) {
      const r = await dec.generate(Array.from({ length: 500 }, () => prompt), { maxTokens: 2, eosId: null, seed, ...opts });
      for (const t of r.tokens) {
        c1[t[0]!]!++;
        c2[t[1]!]!++;
        cp[t[0]! * V + t[1]!]!++;
      }
    }
    return { c1, c2, cp };
  }
  const cases: [TreeStrategy, VerifyChoice, { temperature: number; topK?: number; topP?: number }][] = [];
  for (const verify of ['target-only', 'iid', 'without-replacement'] as VerifyChoice[]) {
    for (const tree of [{ kind: 'chain', k: 3 }, { kind: 'static' }, { kind: 'dynamic', budget: 12 }] as TreeStrategy[]) {
      cases.push([tree, verify, { temperature: 0.8 }]);
    }
  }
  cases.push([{ kind: 'static' }, 'without-replacement', { temperature: 0.7, topK: 8, topP: 0.9 }]);
  cases.push([{ kind: 'chain', k: 2 }, 'iid', { temperature: 1.3, topP: 0.8 }]);
  test.each(cases.map((c) => [name(c[0]), c[1], JSON.stringify(c[2]), c] as const))('%s %s %s', async (_a, _b, _c, [tree, verify, opts]) => {
    const ex = await exact(opts);
    const s = await sample(tree, verify, opts);
    for (const [counts, p] of [[s.c1, ex.p1], [s.c2, ex.p2], [s.cp, ex.pair]] as const) {
      const { chi2, df } = chi2Fit(counts, p);
      expect(chi2).toBeLessThan(chi2Critical(df));
    }
  });
  test('negative control: samples of the draft model fail the same test', async () => {
    const opts = { temperature: 0.8 };
    const ex = await exact(opts);
    const s = await sample({ kind: 'none' }, 'auto', opts, draft);
    const { chi2, df } = chi2Fit(s.cp, ex.pair);
    expect(chi2).toBeGreaterThan(chi2Critical(df));
  });
});

describe('measured acceptance == tree.expectedAcceptance of the same trees', () => {
  const ps = prompts(40, 21);
  const cases: [TreeStrategy, VerifyChoice, number][] = [];
  for (const tree of [{ kind: 'chain', k: 4 }, { kind: 'static' }, { kind: 'dynamic', budget: 16 }] as TreeStrategy[]) {
    cases.push([tree, 'greedy', 0], [tree, 'target-only', 0.9], [tree, 'iid', 0.9], [tree, 'without-replacement', 0.9]);
  }
  test.each(cases.map((c) => [name(c[0]), c[1], c] as const))('%s %s', async (_a, _b, [tree, verify, temperature]) => {
    const infos: VerifyInfo[] = [];
    const dec = speculative.createDecoder({ target, draft, tree, verify });
    const r = await dec.generate(ps, { maxTokens: 24, temperature, seed: 3, eosId: null, measureExpected: true, onVerify: (i) => infos.push(i) });
    const diffs: number[] = [];
    for (const i of infos) i.acceptedLength.forEach((a, k) => diffs.push(a - i.expected![k]!));
    expect(diffs.length).toBe(r.stats.verifiedTrees);
    const mean = diffs.reduce((s, d) => s + d, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (diffs.length - 1));
    if (verify === 'greedy') {
      for (const d of diffs) expect(Math.abs(d)).toBeLessThan(1e-9); // greedy acceptance is deterministic
    } else {
      expect(Math.abs(mean)).toBeLessThan(4 * sd / Math.sqrt(diffs.length) + 1e-9);
    }
    expect(r.stats.expectedAcceptedPerForward).toBeCloseTo(r.stats.acceptedPerForward - mean, 9);
  });
});
