/**
 * `lengthwise xl3m --model T.onnx --text FILE --question "…"`: XL3M with a real model (segments scored by the
 * model, key context, greedy answer).
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { rangeError } from '../runtime/validate';

const HELP = `usage: lengthwise xl3m --model T.onnx --text FILE --question TEXT [options]

  --model FILE          target .onnx (lengthwise model interface, sidecar with window)
  --draft FILE          optional draft .onnx: answer with speculative decoding
  --text FILE           the long context (UTF-8 text)
  --question TEXT       appended to the context, e.g. "What is the pass key? The pass key is"
  --segment-tokens L    tokens per segment (default: equal segments that fit the window)
  --overlap-tokens O    tokens shared by consecutive segments (default 64)
  --choice C            xl3m (default) | truncate | random
  --max-tokens N        answer tokens (default 8)
  --threads N           ONNX Runtime threads
  --json                print JSON
`;

/** Entry point (dispatched from `lengthwise xl3m` when `--model` is given). */
export async function runXl3mModel(argv: string[]): Promise<number> {
  const f: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.replace(/^--/, '');
    if (name === 'json' || name === 'help') f[name] = true;
    else if (['model', 'draft', 'text', 'question', 'segment-tokens', 'overlap-tokens', 'choice', 'max-tokens', 'threads'].includes(name) && argv[i + 1] !== undefined) f[name] = argv[++i]!;
    else {
      process.stderr.write(`lengthwise xl3m: unknown or incomplete option '${a}'\n${HELP}`);
      return 2;
    }
  }
  if (f.help) {
    process.stdout.write(HELP);
    return 0;
  }
  for (const k of ['model', 'text', 'question']) {
    if (typeof f[k] !== 'string') {
      process.stderr.write(`lengthwise xl3m: --${k} is required\n${HELP}`);
      return 2;
    }
  }
  const int = (k: string, d: number | undefined) => {
    if (f[k] === undefined) return d;
    const n = Number(f[k]);
    if (!Number.isInteger(n) || n < 1) throw rangeError(`--${k} must be an integer >= 1, got '${String(f[k])}'`);
    return n;
  };
  const choice = (f.choice ?? 'xl3m') as 'xl3m';
  if (!['xl3m', 'truncate', 'random'].includes(choice)) throw rangeError(`--choice must be xl3m, truncate or random, got '${choice}'`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const onnx = require('../onnx') as typeof import('../onnx');
  const tok = onnx.loadLlamaTokenizer();
  const threads = int('threads', undefined);
  const model = await onnx.loadModel(f.model as string, { threads });
  onnx.checkTokenizer(model, tok);
  const draft = typeof f.draft === 'string' ? await onnx.loadModel(f.draft, { threads }) : undefined;
  if (draft) onnx.checkPair(model, draft);
  const context = tok.encode(readFileSync(f.text as string, 'utf8')).slice(1);
  const question = tok.encode(f.question as string).slice(1);
  const r = await onnx.answerLongContext(model, context, question, {
    bosId: model.info.bosId ?? 1,
    segmentTokens: int('segment-tokens', undefined),
    overlapTokens: f['overlap-tokens'] === '0' ? 0 : int('overlap-tokens', 64),
    maxAnswerTokens: int('max-tokens', 8),
    choice,
    draft,
  });
  const answer = tok.decode(r.answer);
  if (f.json) {
    process.stdout.write(JSON.stringify({
      answer, answerTokens: r.answer, contextTokens: context.length, window: model.window, segments: r.segments.length,
      selected: Array.from(r.selected), scores: r.scores ? Array.from(r.scores) : undefined, scoringForwards: r.scoringForwards,
      scoringMs: r.scoringMs, answerMs: r.answerMs,
    }, null, 2) + '\n');
  } else {
    process.stdout.write(`${answer.trim()}\n`);
    process.stderr.write(`${context.length} context tokens, ${r.segments.length} segments, kept [${Array.from(r.selected).join(', ')}]; ` +
      `scoring ${r.scoringMs.toFixed(0)} ms, answer ${r.answerMs.toFixed(0)} ms\n`);
  }
  return 0;
}
