// XL3M passkey retrieval with the real target (ONNX Runtime CPU): accuracy at contexts of 1×, 4×, 16×, 64× the
// model's window for XL3M vs truncation (keep the last tokens that fit) vs random segment choice, same trials.
//   node bench/run.js bench/generate-passkey.ts [--trials 10] [--min-mult 1] [--max-mult 64] [--threads 2] [--models DIR]
// Writes bench/results/xl3m-passkey.md and .json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answerLongContext, loadLlamaTokenizer, loadModel } from '../lib/onnx';
import type { ContextChoice } from '../lib/onnx';
import { mulberry32 } from '../lib/runtime/prng';
import { arg } from './common';

const TRIALS = arg('trials', 10);
const MAX_MULT = arg('max-mult', 64);
const MIN_MULT = arg('min-mult', 1);
const THREADS = arg('threads', 2);
// Longer than the key sentence (~30 tokens), so one segment always holds it whole.
const OVERLAP = arg('overlap', 64);
const dirArg = process.argv.indexOf('--models');
const DIR = dirArg >= 0 ? process.argv[dirArg + 1]! : join(__dirname, '..', 'models');

// The passkey format of MODEL_INTERFACE.md (what the target was trained on).
const INTRO = 'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.';
const FILLER = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';
const QUESTION = 'What is the pass key? The pass key is';

/** A context of about `tokens` tokens with the key sentence at a random sentence boundary. */
export function passkeyContext(tokens: number, key: string, r: () => number, encode: (s: string) => number[]): string {
  const fillerTokens = encode(FILLER).length - 1;
  const at = r();
  for (let n = Math.max(1, Math.round(tokens / fillerTokens)); ; n--) {
    const parts = [INTRO, ...Array.from({ length: n }, () => FILLER)];
    parts.splice(1 + Math.floor(at * (n + 1)), 0, `The pass key is ${key}. Remember it. ${key} is the pass key.`);
    const text = parts.join(' ');
    if (n <= 1 || encode(text).length - 1 <= tokens) return text;
  }
}

async function main() {
  const tok = loadLlamaTokenizer();
  const model = await loadModel(join(DIR, 'target.onnx'), { threads: THREADS });
  const W = model.window ?? 512;
  const question = tok.encode(QUESTION).slice(1);
  const mults = [1, 4, 16, 64].filter((m) => m >= MIN_MULT && m <= MAX_MULT);
  const choices: ContextChoice[] = ['xl3m', 'truncate', 'random'];
  const rows: { mult: number; contextTokens: number; choice: ContextChoice; correct: number; trials: number; msPerTrial: number }[] = [];
  for (const mult of mults) {
    const r = mulberry32(1000 + mult);
    const stats = new Map(choices.map((c) => [c, { correct: 0, ms: 0, tokens: 0 }]));
    for (let t = 0; t < TRIALS; t++) {
      const key = String(10000 + Math.floor(r() * 90000));
      // 1× = the whole prompt fits the window (with the question and the answer).
      const target = mult === 1 ? W - question.length - 12 : mult * W;
      const context = tok.encode(passkeyContext(target, key, r, (s) => tok.encode(s))).slice(1);
      for (const choice of choices) {
        const t0 = performance.now();
        const a = await answerLongContext(model, context, question, { batch: 2, bosId: model.info.bosId ?? 1, choice, seed: t, maxAnswerTokens: 8, overlapTokens: OVERLAP });
        const s = stats.get(choice)!;
        s.ms += performance.now() - t0;
        s.tokens = context.length;
        if (tok.decode(a.answer).includes(key)) s.correct++;
      }
      process.stderr.write(`${mult}× trial ${t + 1}/${TRIALS}: ${choices.map((c) => `${c} ${stats.get(c)!.correct}`).join(', ')}\n`);
    }
    for (const c of choices) {
      const s = stats.get(c)!;
      rows.push({ mult, contextTokens: s.tokens, choice: c, correct: s.correct, trials: TRIALS, msPerTrial: s.ms / TRIALS });
    }
  }
  const lines = [
    '# XL3M passkey retrieval with the real target (ONNX Runtime CPU)',
    '',
    `model ${join(DIR, 'target.onnx')} (window ${W}); ${TRIALS} trials per cell, the same contexts for every choice; ` +
      `segments overlap by ${OVERLAP} tokens; answer = greedy, correct when the 5-digit key appears in the decoded answer. ${new Date().toISOString()}`,
    '',
    '| context | tokens | XL3M | truncation | random segments | XL3M ms/trial |',
    '| --- | --- | --- | --- | --- | --- |',
    ...mults.map((m) => {
      const get = (c: ContextChoice) => rows.find((x) => x.mult === m && x.choice === c)!;
      const pct = (c: ContextChoice) => `${((100 * get(c).correct) / TRIALS).toFixed(0)}% (${get(c).correct}/${TRIALS})`;
      return `| ${m}× | ${get('xl3m').contextTokens} | ${pct('xl3m')} | ${pct('truncate')} | ${pct('random')} | ${get('xl3m').msPerTrial.toFixed(0)} |`;
    }),
  ];
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'xl3m-passkey.md'), lines.join('\n') + '\n');
  writeFileSync(join(out, 'xl3m-passkey.json'), JSON.stringify(rows, null, 2));
  console.log(lines.join('\n'));
}

if (require.main === module || process.argv[1]?.endsWith('generate-passkey.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
