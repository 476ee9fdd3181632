// The speculative decoder end to end on the real ONNX model pair (CPU, onnxruntime-node): greedy equality,
// lossless sampling, acceptance vs tree.expectedAcceptance, and the adapter's input checks.
import './onnx-jest-realm';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speculative } from '../lib';
import type { TreeStrategy, VerifyChoice, VerifyInfo } from '../lib/speculative';
import { type OnnxModel, checkPair, checkTokenizer, loadModel } from '../lib/onnx';
import { describeSession } from '../lib/onnx/model';
import { FakeModel, plainGreedy } from './speculative-fake-model';
import { chi2Critical, chi2TwoSample } from './speculative-stats';

/** The committed pair (models/), else the models helper's dev pair. */
function modelDir(): string {
  for (const d of [join(__dirname, '..', 'models'), '/work/wt/models-dev']) {
    if (existsSync(join(d, 'target.onnx')) && existsSync(join(d, 'draft.onnx'))) return d;
  }
  throw new Error('no model pair: expected models/target.onnx and models/draft.onnx (see models/README.md)');
}

// Llama 2 ids (llama-tokenizer-js, BOS first) of six short prompts.
const PROMPTS = [
  [1, 512, 278, 6763, 4177, 2825, 278, 18356, 322, 278, 8437, 29889],
  [1, 1126, 278, 365, 25593, 1497, 20550, 6630, 267, 29892],
  [1, 450, 17455, 338, 7933, 29889, 450, 14744, 338, 7254, 29889],
  [1, 1724, 338, 278, 1209, 1820, 29973, 450, 1209, 1820, 338],
  [1, 1126, 372, 2996, 304, 1209, 29892, 746],
  [1, 350, 2222, 287, 526, 278],
];

let target: OnnxModel;
let draft: OnnxModel;
beforeAll(async () => {
  const dir = modelDir();
  target = await loadModel(join(dir, 'target.onnx'), { threads: 1 });
  draft = await loadModel(join(dir, 'draft.onnx'), { threads: 1 });
});

describe('greedy speculative output == plain greedy target decoding (ONNX)', () => {
  const N = 12;
  let refs: { tokens: number[]; margins: number[] }[];
  beforeAll(async () => {
    refs = [];
    for (const p of PROMPTS) refs.push(await plainGreedy(target, p, N));
  });
  const strategies: TreeStrategy[] = [{ kind: 'chain', k: 4 }, { kind: 'static' }, { kind: 'dynamic', budget: 24 }];
  test.each(strategies.map((s) => [JSON.stringify(s), s] as const))('%s on %#', async (_n, tree) => {
    const dec = speculative.createDecoder({ target, draft, tree, verify: 'greedy' });
    const r = await dec.generate(PROMPTS, { maxTokens: N, temperature: 0, eosId: null });
    const divergences: string[] = [];
    for (let i = 0; i < PROMPTS.length; i++) {
      const got = r.tokens[i]!;
      const ref = refs[i]!;
      const k = got.findIndex((t, j) => t !== ref.tokens[j]);
      if (k < 0) continue;
      // Batched tree forwards and incremental forwards may differ in the last bits: a divergence is allowed only
      // where the target's top-2 logits are within 1e-4.
      expect(ref.margins[k]!).toBeLessThan(1e-4);
      divergences.push(`prompt ${i} token ${k}: top-2 margin ${ref.margins[k]!.toExponential(2)}`);
    }
    if (divergences.length > 0) console.warn(`${JSON.stringify(tree)}: allowed near-tie divergences:\n${divergences.join('\n')}`);
    expect(r.stats.generatedTokens).toBe(N * PROMPTS.length);
  });
});

describe('sampling is lossless end to end (ONNX; two-sample χ², p = 1e-4 threshold)', () => {
  const prompt = PROMPTS[3]!.slice(0, 6);
  const N = 240;
  const T = 1;
  async function firstTokens(tree: TreeStrategy, verify: VerifyChoice, seed0: number): Promise<Map<number, number>[]> {
    const dec = speculative.createDecoder({ target, draft, tree, verify });
    const maps = [new Map<number, number>(), new Map<number, number>()];
    for (let s = 0; s < N / 120; s++) {
      const r = await dec.generate(Array.from({ length: 120 }, () => prompt), { maxTokens: 2, temperature: T, seed: seed0 + s, eosId: null });
      for (const t of r.tokens) for (let j = 0; j < 2; j++) maps[j]!.set(t[j]!, (maps[j]!.get(t[j]!) ?? 0) + 1);
    }
    return maps;
  }
  let plain: Map<number, number>[];
  beforeAll(async () => {
    plain = await firstTokens({ kind: 'none' }, 'auto', 1000);
  });
  test.each(['target-only', 'iid', 'without-replacement'] as const)('%s, chain:2', async (verify) => {
    const spec = await firstTokens({ kind: 'chain', k: 2 }, verify, 0);
    for (let j = 0; j < 2; j++) {
      const { chi2, df } = chi2TwoSample(spec[j]!, plain[j]!);
      expect(chi2).toBeLessThan(chi2Critical(df));
    }
  });
});

describe('measured accepted tokens per target forward ≈ tree.expectedAcceptance (ONNX)', () => {
  const cases: [TreeStrategy, VerifyChoice, number][] = [
    [{ kind: 'chain', k: 3 }, 'greedy', 0],
    [{ kind: 'static' }, 'greedy', 0],
    [{ kind: 'dynamic', budget: 16 }, 'greedy', 0],
    [{ kind: 'chain', k: 3 }, 'without-replacement', 1],
    [{ kind: 'static' }, 'iid', 1],
    [{ kind: 'dynamic', budget: 16 }, 'target-only', 1],
  ];
  test.each(cases.map((c) => [JSON.stringify(c[0]), c[1], c] as const))('%s %s', async (_a, _b, [tree, verify, temperature]) => {
    const infos: VerifyInfo[] = [];
    const dec = speculative.createDecoder({ target, draft, tree, verify });
    await dec.generate(PROMPTS.slice(0, 4), { maxTokens: 8, temperature, seed: 4, eosId: null, measureExpected: true, onVerify: (i) => infos.push(i) });
    const d: number[] = [];
    for (const i of infos) i.acceptedLength.forEach((a, k) => d.push(a - i.expected![k]!));
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, d.length - 1));
    if (verify === 'greedy') {
      // Deterministic per tree, up to argmax near-ties between the verifier and the reduction (float rounding).
      expect(d.filter((x) => Math.abs(x) > 1e-9).length).toBeLessThanOrEqual(1);
    } else {
      expect(Math.abs(mean)).toBeLessThan(4 * sd / Math.sqrt(d.length) + 1e-9);
    }
  });
});

// ---- bad input ----

/** Minimal protobuf writer for a hand-built ONNX model. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const field = (f: number, bytes: number[]) => [...varint((f << 3) | 2), ...varint(bytes.length), ...bytes];
const str = (f: number, s: string) => field(f, [...Buffer.from(s)]);
const int = (f: number, n: number) => [...varint(f << 3), ...varint(n)];
function valueInfo(name: string): number[] {
  const shape = field(2, field(1, int(1, 4)));
  return [...str(1, name), ...field(2, field(1, [...int(1, 1), ...shape]))];
}
/** An ONNX model `y = Identity(x)` (float32 [4]): a valid model without lengthwise's interface. */
function identityModel(): Uint8Array {
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')];
  const graph = [...field(1, node), ...str(2, 'g'), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  return Uint8Array.from([...int(1, 8), ...field(8, int(2, 13)), ...field(7, graph)]);
}

describe('bad input gives errors naming what is wrong', () => {
  test('a model without the expected inputs/outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-onnx-'));
    const file = join(dir, 'identity.onnx');
    writeFileSync(file, identityModel());
    await expect(loadModel(file, { threads: 1 })).rejects.toThrow(
      /identity\.onnx does not have lengthwise's model interface: missing input 'input_ids', input 'position_ids', input 'attention_bias', output 'logits'/,
    );
    await expect(loadModel(join(dir, 'nope.onnx'))).rejects.toThrow(/does not exist/);
  });
  test('a session missing one present output, wrong dtypes, sidecar vs graph', () => {
    const names = {
      inputNames: ['input_ids', 'position_ids', 'attention_bias', 'past_key_values.0.key', 'past_key_values.0.value'],
      outputNames: ['logits', 'present.0.key'],
      run: async () => ({}),
    };
    expect(() => describeSession(names, 'm.onnx', { kvHeads: 2, headDim: 8, vocab: 10 })).toThrow(/missing output 'present\.0\.value'/);
    const meta = {
      ...names,
      outputNames: ['logits', 'present.0.key', 'present.0.value'],
      inputMetadata: [{ name: 'input_ids', type: 'int32' }, { name: 'past_key_values.0.key', shape: ['B', 2, 'P', 8] }],
      outputMetadata: [{ name: 'logits', shape: ['B', 'S', 10] }],
    };
    expect(() => describeSession(meta, 'm.onnx', {})).toThrow(/input 'input_ids' must be int64, the graph has int32/);
    const ok = { ...meta, inputMetadata: [meta.inputMetadata[1]!] };
    expect(describeSession(ok, 'm.onnx', {})).toMatchObject({ layers: 1, kvHeads: 2, headDim: 8, vocab: 10 });
    expect(() => describeSession(ok, 'm.onnx', { vocab: 12 })).toThrow(/sidecar says vocab = 12 but the graph has 10/);
    expect(() => describeSession(ok, 'm.onnx', { layers: 2 })).toThrow(/sidecar says layers = 2/);
  });
  test('vocab mismatch between draft and target', async () => {
    const dir = modelDir();
    await expect(loadModel(join(dir, 'draft.onnx'), { sidecar: { vocab: 32001 }, threads: 1 })).rejects.toThrow(/sidecar says vocab = 32001 but the graph has 32000/);
    const small = new FakeModel({ vocab: 100, seed: 1 });
    expect(() => speculative.createDecoder({ target, draft: small })).toThrow(/draft\.vocab = 100 must equal target\.vocab = 32000/);
    const fakeDraft = { info: { ...draft.info, vocab: 32001, name: 'd' } } as OnnxModel;
    expect(() => checkPair(target, fakeDraft)).toThrow(/vocab mismatch: target .* has vocab 32000, draft d has vocab 32001/);
    const otherTok = { info: { ...draft.info, tokenizer: 'gpt2', name: 'd' } } as OnnxModel;
    expect(() => checkPair(target, otherTok)).toThrow(/tokenizer mismatch: target .* uses "llama-tokenizer-js", draft d uses "gpt2"/);
  });
  test('mismatched tokenizer', () => {
    const gpt2 = { name: 'gpt2', vocabSize: 50257, encode: () => [], decode: () => '' };
    expect(() => checkTokenizer(target, gpt2)).toThrow(/tokenizer mismatch: .* was trained with tokenizer "llama-tokenizer-js", got "gpt2"/);
    const small = { name: 'llama-tokenizer-js', vocabSize: 32100, encode: () => [], decode: () => '' };
    expect(() => checkTokenizer(target, small)).toThrow(/expects a tokenizer of 32000 ids, "llama-tokenizer-js" has 32100/);
    expect(() => checkTokenizer(target, { ...small, vocabSize: 32000 })).not.toThrow();
  });
});
