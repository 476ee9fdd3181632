/**
 * `lengthwise generate`: speculative decoding with an ONNX target/draft pair and the Llama 2 tokenizer.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type GenerateOptions, createDecoder } from '../speculative/decoder';
import { type TreeStrategy, parseTree } from '../speculative/strategies';
import type { Args, CommandSpec } from './framework';
import { UsageError } from './usage';

type Flags = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

function num(f: Flags, name: string, fallback: number, ok: (x: number) => boolean, expected: string): number {
  const v = f[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !ok(n)) throw new UsageError(`--${name} must be ${expected}, got '${String(v)}'`);
  return n;
}

/** models/<name>.onnx of the checkout this file runs from (dist/cli/ or lib/cli/ → ../../models). */
function checkoutModel(name: string): string | undefined {
  const p = join(__dirname, '..', '..', 'models', `${name}.onnx`);
  return existsSync(p) ? p : undefined;
}

async function generate(args: Args): Promise<number> {
  const f = args.values;
  if (typeof f.prompt !== 'string') throw new UsageError('--prompt TEXT is required');
  const noDraft = f['no-draft'] === true;
  const targetPath = typeof f.target === 'string' ? f.target : checkoutModel('target');
  const draftPath = typeof f.draft === 'string' ? f.draft : checkoutModel('draft');
  if (targetPath === undefined) throw new UsageError('--target FILE is required (no models/target.onnx next to this install)');
  if (!noDraft && draftPath === undefined) throw new UsageError('--draft FILE is required (no models/draft.onnx next to this install), or --no-draft');
  const maxTokens = num(f, 'max-tokens', 64, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
  const temperature = num(f, 'temperature', 0, (x) => Number.isFinite(x) && x >= 0, 'a number >= 0');
  const topK = num(f, 'top-k', 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
  const topP = num(f, 'top-p', 1, (x) => x > 0 && x <= 1, 'in (0, 1]');
  const seed = num(f, 'seed', 0, (x) => Number.isSafeInteger(x) && x >= 0, 'an integer >= 0');
  const threads = f.threads === undefined ? undefined : num(f, 'threads', 1, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
  let tree: TreeStrategy;
  try {
    tree = noDraft ? { kind: 'none' } : parseTree(typeof f.tree === 'string' ? f.tree : 'chain:4');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const verify = args.choice('verify', ['auto', 'greedy', 'target-only', 'iid', 'without-replacement'], 'auto') as 'auto';

  // Loaded here so the rest of the CLI never needs the optional peers.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const onnx = require('../onnx') as typeof import('../onnx');
  const tokenizer = onnx.loadLlamaTokenizer();
  const target = await onnx.loadModel(targetPath, { threads });
  onnx.checkTokenizer(target, tokenizer);
  let draft;
  if (!noDraft) {
    draft = await onnx.loadModel(draftPath!, { threads });
    onnx.checkPair(target, draft);
    onnx.checkTokenizer(draft, tokenizer);
  }
  const prompt = tokenizer.encode(f.prompt);
  const dec = createDecoder({ target, draft, tree, verify });
  const opts: GenerateOptions = { maxTokens, temperature, topK, topP, seed };
  const tokens: number[] = [];
  const stats = {};
  for await (const ev of dec.stream([prompt], opts, stats)) {
    if (!f.json && ev.tokens.length > 0) process.stdout.write(tokenizer.decode(ev.tokens));
    tokens.push(...ev.tokens);
  }
  const text = tokenizer.decode(tokens);
  if (f.json) {
    process.stdout.write(JSON.stringify({ prompt: f.prompt, promptTokens: prompt, tokens, text, tree, stats }, null, 2) + '\n');
  } else {
    const s = stats as import('../speculative/decoder').DecodeStats;
    process.stdout.write('\n');
    process.stderr.write(
      `${s.generatedTokens} tokens, ${s.tokensPerSecond.toFixed(1)} tok/s, ${s.targetForwards} target forwards, ` +
        `${s.acceptedPerForward.toFixed(2)} accepted/forward; time: target ${s.targetMs.toFixed(0)} ms, ` +
        `draft ${s.draftMs.toFixed(0)} ms, lengthwise ${s.lengthwiseMs.toFixed(0)} ms\n`,
    );
  }
  return 0;
}

/** `lengthwise generate`. @internal */
export const command: CommandSpec = {
  name: 'generate',
  summary: 'speculative decoding with an ONNX target/draft pair and the Llama 2 tokenizer',
  usage: 'generate --prompt TEXT [options]',
  description: `Generates a continuation of the prompt with speculative decoding: the draft proposes a tree, the target
verifies it with lengthwise's verifyTree. Needs the optional peers onnxruntime-node and llama-tokenizer-js.`,
  options: {
    target: { type: 'string', value: 'FILE', help: 'target .onnx (default: models/target.onnx of a checkout)' },
    draft: { type: 'string', value: 'FILE', help: 'draft .onnx (default: models/draft.onnx of a checkout)' },
    prompt: { type: 'string', value: 'TEXT', help: 'prompt (tokenized with llama-tokenizer-js, BOS added)' },
    'max-tokens': { type: 'string', value: 'N', help: 'tokens to generate (default 64)' },
    temperature: { type: 'string', value: 'T', help: '0 = greedy (default 0)' },
    'top-k': { type: 'string', value: 'K', help: 'target top-k (0 = off)' },
    'top-p': { type: 'string', value: 'P', help: 'target top-p (1 = off)' },
    seed: { type: 'string', value: 'S', help: 'sampling seed (default 0)' },
    tree: { type: 'string', value: 'T', help: 'chain:K | static | dynamic:BUDGET (default chain:4)' },
    verify: { type: 'string', value: 'V', help: 'auto | greedy | target-only | iid | without-replacement (default auto)' },
    'no-draft': { type: 'boolean', help: 'plain target decoding with the same sampler' },
    threads: { type: 'string', value: 'N', help: 'ONNX Runtime threads per model' },
  },
  json: true,
  exits: {
    1: 'runtime error: ONNX Runtime failed, or an optional peer (onnxruntime-node, llama-tokenizer-js) is not installed (the message names the install command)',
    2: 'usage or input-data error: bad option, missing --prompt, no model file',
  },
  run: generate,
};
