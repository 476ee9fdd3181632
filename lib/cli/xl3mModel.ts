/**
 * `lengthwise xl3m --model T.onnx --text FILE --question "…"`: XL3M with a real model (segments scored by the
 * model, key context, greedy answer).
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Args } from './framework';
import { UsageError } from './usage';
import { ProgressBar } from './progress';

/** Runs `lengthwise xl3m --model …` (dispatched from the xl3m command). @internal */
export async function runXl3mModel(args: Args): Promise<number> {
  const f = args.values as Record<string, string | boolean | undefined>;
  for (const k of ['model', 'text', 'question']) {
    if (typeof f[k] !== 'string') throw new UsageError(`--${k} is required with --model`);
  }
  const int = (k: string, d: number | undefined) => {
    if (f[k] === undefined) return d;
    const n = Number(f[k]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${k} must be an integer >= 1, got '${String(f[k])}'`);
    return n;
  };
  const choice = (f.choice ?? 'xl3m') as 'xl3m';
  if (!['xl3m', 'truncate', 'random'].includes(choice)) throw new UsageError(`--choice must be xl3m, truncate or random, got '${choice}'`);
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
  const bar = new ProgressBar('scoring', { unit: 'segments' });
  const r = await onnx.answerLongContext(model, context, question, {
    onProgress: (done, total) => bar.update(done, total),
    bosId: model.info.bosId ?? 1,
    segmentTokens: int('segment-tokens', undefined),
    overlapTokens: f['overlap-tokens'] === '0' ? 0 : int('overlap-tokens', 64),
    maxAnswerTokens: int('max-tokens', 8),
    choice,
    draft,
  });
  bar.done();
  const answer = tok.decode(r.answer);
  if (args.json) {
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
