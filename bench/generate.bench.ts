// End-to-end generation on the ONNX model pair (CPU): tokens/s with speculation vs --no-draft in the same run,
// per draft strategy and temperature, with the time split target / draft / lengthwise.
//   node bench/run.js bench/generate.bench.ts [--tokens 48] [--rounds 3] [--threads 2] [--models DIR]
// Strategies run interleaved round by round (so drift hits all of them alike); figures are medians over
// rounds × prompts. Writes bench/results/generate.md and .json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { speculative } from '../lib';
import type { DecodeStats, TreeStrategy } from '../lib/speculative';
import { loadModel } from '../lib/onnx';
import { arg } from './common';

const TOKENS = arg('tokens', 48);
const ROUNDS = arg('rounds', 3);
const THREADS = arg('threads', 2);
const dirArg = process.argv.indexOf('--models');
const DIR = dirArg >= 0 ? process.argv[dirArg + 1]! : join(__dirname, '..', 'models');

// Llama 2 ids (llama-tokenizer-js) of three prompts in the style of the training corpus.
const PROMPTS = [
  [1, 512, 278, 6763, 4177, 2825, 278, 18356, 322, 278, 8437, 29889],
  [1, 1126, 278, 365, 25593, 1497, 20550, 6630, 267, 29892],
  [1, 1126, 372, 2996, 304, 1209, 29892, 746],
];

const STRATEGIES: [string, TreeStrategy][] = [
  ['no-draft', { kind: 'none' }],
  ['chain:2', { kind: 'chain', k: 2 }],
  ['chain:4', { kind: 'chain', k: 4 }],
  ['static', { kind: 'static' }],
  ['dynamic:16', { kind: 'dynamic', budget: 16 }],
  ['dynamic:32', { kind: 'dynamic', budget: 32 }],
];
const TEMPS = [0, 1];

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  if (!existsSync(join(DIR, 'target.onnx'))) throw new Error(`no ${join(DIR, 'target.onnx')} (pass --models DIR)`);
  const target = await loadModel(join(DIR, 'target.onnx'), { threads: THREADS });
  const draft = await loadModel(join(DIR, 'draft.onnx'), { threads: THREADS });
  const runs = new Map<string, DecodeStats[]>();
  // Warm-up: one short run per strategy.
  for (const [, tree] of STRATEGIES) await speculative.createDecoder({ target, draft, tree }).generate([PROMPTS[0]!], { maxTokens: 4, temperature: 0 });
  for (let r = 0; r < ROUNDS; r++) {
    for (const T of TEMPS) {
      for (const [name, tree] of STRATEGIES) {
        const dec = speculative.createDecoder({ target, draft, tree });
        for (let p = 0; p < PROMPTS.length; p++) {
          const res = await dec.generate([PROMPTS[p]!], { maxTokens: TOKENS, temperature: T, seed: r * 100 + p, eosId: null });
          const key = `${T}|${name}`;
          runs.set(key, [...(runs.get(key) ?? []), res.stats]);
        }
        process.stderr.write(`round ${r + 1}/${ROUNDS} T=${T} ${name}\n`);
      }
    }
  }
  const rows: Record<string, number | string>[] = [];
  for (const T of TEMPS) {
    const base = median(runs.get(`${T}|no-draft`)!.map((s) => s.tokensPerSecond));
    for (const [name] of STRATEGIES) {
      const st = runs.get(`${T}|${name}`)!;
      const tps = median(st.map((s) => s.tokensPerSecond));
      const perTok = (f: (s: DecodeStats) => number) => median(st.map((s) => f(s) / s.generatedTokens));
      rows.push({
        temperature: T,
        strategy: name,
        tokensPerSecond: tps,
        speedup: tps / base,
        acceptedPerForward: median(st.map((s) => s.acceptedPerForward)),
        targetMsPerToken: perTok((s) => s.targetMs),
        draftMsPerToken: perTok((s) => s.draftMs),
        lengthwiseMsPerToken: perTok((s) => s.lengthwiseMs),
        lengthwiseShare: median(st.map((s) => s.lengthwiseMs / s.totalMs)),
      });
    }
  }
  const f = (x: number | string, d = 2) => (typeof x === 'number' ? x.toFixed(d) : x);
  const lines = [
    `# generate: speculative vs --no-draft (ONNX Runtime CPU, same run)`,
    '',
    `models: ${DIR}; ${TOKENS} tokens × ${PROMPTS.length} prompts × ${ROUNDS} rounds per cell (medians), ` +
      `batch 1, ORT ${THREADS} threads, ${cpus().length} logical CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| T | strategy | tok/s | speedup vs no-draft | accepted/forward | target ms/tok | draft ms/tok | lengthwise ms/tok | lengthwise share |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) =>
      `| ${r.temperature} | ${r.strategy} | ${f(r.tokensPerSecond, 1)} | ${f(r.speedup)}× | ${f(r.acceptedPerForward)} | ${f(r.targetMsPerToken)} | ` +
        `${f(r.draftMsPerToken)} | ${f(r.lengthwiseMsPerToken)} | ${(Number(r.lengthwiseShare) * 100).toFixed(1)}% |`),
    '',
    'lengthwise = everything outside the two adapters: tree growth and draft sampling (JS over the 32000-wide',
    'draft rows), attention-bias construction, row gathering, verifyTree, cache bookkeeping.',
  ];
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'generate.md'), lines.join('\n') + '\n');
  writeFileSync(join(out, 'generate.json'), JSON.stringify({ tokens: TOKENS, rounds: ROUNDS, threads: THREADS, rows }, null, 2));
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
