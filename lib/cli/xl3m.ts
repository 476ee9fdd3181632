/**
 * `lengthwise xl3m`: score segments from a logits file and print the scores and the selection; and the XL3M part
 * of `lengthwise demo`.
 *
 * @packageDocumentation
 */
import type { Logits, LogitsDType } from '../logits';
import type { BackendChoice } from '../runtime/native';
import { NEEDLE } from '../demo/haystack';
import { keyContext } from '../xl3m/keyContext';
import { needleScenario, questionLogits } from '../demo/needle';
import { segmentBounds, Segment } from '../xl3m/plan';
import { score, Xl3mMetric, Xl3mPooling } from '../xl3m/score';
import { rankSegments, select } from '../xl3m/select';
import { readNpy, readRaw, readTokens } from './npy';
import { UsageError } from './usage';
import { runCommand, type Args, type CommandSpec, type OptionSpec } from './framework';

const LOGITS = 'logits file';
const MODEL = 'with a model (--model)';
const SEG = 'segments';

/** The options of `lengthwise xl3m` (both modes). @internal */
export const XL3M_OPTIONS: Record<string, OptionSpec> = {
  logits: { type: 'string', value: 'FILE', group: LOGITS, help: '.npy (float32, float16, float64 (converted, with a notice), or 16-bit words with --dtype bfloat16; shape (R, V) or (S, P, V)), a .npz holding one such array, or a raw little-endian file (needs --rows and --vocab)' },
  dtype: { type: 'string', value: 'T', group: LOGITS, help: 'float32 | float16 | bfloat16 (default float32, or from the .npy)' },
  rows: { type: 'string', value: 'R', group: LOGITS, help: 'rows of a raw file' },
  vocab: { type: 'string', value: 'V', group: LOGITS, help: 'vocabulary size of a raw file' },
  segments: { type: 'string', value: 'S', group: LOGITS, help: 'number of segments (implied by a 3-D .npy; must agree with it)' },
  metric: { type: 'string', value: 'M', group: LOGITS, help: 'entropy (default) | nll (needs --targets)' },
  pooling: { type: 'string', value: 'P', group: LOGITS, help: 'mean (default) | last | min' },
  temperature: { type: 'string', value: 'T', group: LOGITS, help: 'divide logits by T first (default 1)' },
  targets: { type: 'string', value: 'FILE', group: LOGITS, help: 'token ids (.npy int32/int64 or raw int32), one per row' },
  'top-k': { type: 'string', value: 'K', group: LOGITS, help: 'keep the K lowest-scoring segments (default min(4, S))' },
  'token-budget': { type: 'string', value: 'N', group: LOGITS, help: 'keep segments while their merged length fits N tokens (needs --segment-tokens)' },
  'context-tokens': { type: 'string', value: 'C', group: LOGITS, help: 'context length, for --token-budget (default S·(L−O)+O)' },
  backend: { type: 'string', value: 'B', group: LOGITS, help: 'cpu | cuda | auto' },
  'segment-tokens': { type: 'string', value: 'L', group: SEG, help: 'tokens per segment (logits file: for --token-budget; model: default equal segments that fit the window)' },
  'overlap-tokens': { type: 'string', value: 'O', group: SEG, help: 'tokens shared by consecutive segments (logits file: default 0; model: default 64)' },
  model: { type: 'string', value: 'FILE', group: MODEL, help: 'target .onnx (lengthwise model interface, sidecar with window): score with the model, answer the question' },
  draft: { type: 'string', value: 'FILE', group: MODEL, help: 'optional draft .onnx: answer with speculative decoding' },
  text: { type: 'string', value: 'FILE', group: MODEL, help: 'the long context (UTF-8 text)' },
  question: { type: 'string', value: 'TEXT', group: MODEL, help: 'appended to the context, e.g. "What is the pass key? The pass key is"' },
  choice: { type: 'string', value: 'C', group: MODEL, help: 'xl3m (default) | truncate | random' },
  'max-tokens': { type: 'string', value: 'N', group: MODEL, help: 'answer tokens (default 8)' },
  threads: { type: 'string', value: 'N', group: MODEL, help: 'ONNX Runtime threads' },
};

const MODEL_ONLY = Object.entries(XL3M_OPTIONS).filter(([, o]) => o.group === MODEL).map(([n]) => n);
const LOGITS_ONLY = Object.entries(XL3M_OPTIONS).filter(([, o]) => o.group === LOGITS).map(([n]) => n);

function loadLogits(args: Args): { logits: Logits; segments?: number } {
  const file = args.string('logits');
  if (typeof file !== 'string') throw new UsageError('--logits FILE is required');
  let dtype = args.choice<LogitsDType>('dtype', ['float32', 'float16', 'bfloat16'], 'float32');
  if (file.endsWith('.npy')) {
    const a = readNpy(file);
    if (a.shape.length !== 2 && a.shape.length !== 3) throw new UsageError(`${file}: shape must be (rows, vocab) or (segments, positions, vocab)`);
    if (a.kind === 'f4') dtype = 'float32';
    else if (a.kind === 'f2') dtype = args.string('dtype') === 'bfloat16' ? 'bfloat16' : 'float16';
    else if (a.kind === 'u2') {
      if (args.string('dtype') !== 'bfloat16' && args.string('dtype') !== 'float16') throw new UsageError(`${file}: 16-bit words need --dtype bfloat16 or float16`);
    } else throw new UsageError(`${file}: logits must be float32, float16 or 16-bit words`);
    const vocab = a.shape[a.shape.length - 1]!;
    const rows = a.shape.length === 3 ? a.shape[0]! * a.shape[1]! : a.shape[0]!;
    const data = dtype === 'float32' ? new Float32Array(a.data) : new Uint16Array(a.data);
    return { logits: { data, dtype, rows, vocab }, segments: a.shape.length === 3 ? a.shape[0] : undefined };
  }
  const rows = args.int('rows', 1);
  const vocab = args.int('vocab', 1);
  if (rows === undefined || vocab === undefined) throw new UsageError('a raw logits file needs --rows and --vocab');
  const raw = readRaw(file);
  const size = dtype === 'float32' ? 4 : 2;
  if (raw.byteLength !== rows * vocab * size) {
    throw new UsageError(`${file}: ${raw.byteLength} bytes, but --rows ${rows} × --vocab ${vocab} × ${size} = ${rows * vocab * size}`);
  }
  return { logits: { data: dtype === 'float32' ? new Float32Array(raw) : new Uint16Array(raw), dtype, rows, vocab } };
}

async function xl3mCommand(args: Args): Promise<number> {
  if (args.has('model')) {
    const wrong = LOGITS_ONLY.filter((n) => args.has(n));
    if (wrong.length) throw new UsageError(`--${wrong[0]} is for a logits file, not --model`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./xl3mModel') as typeof import('./xl3mModel')).runXl3mModel(args);
  }
  const wrong = MODEL_ONLY.filter((n) => args.has(n));
  if (wrong.length) throw new UsageError(`--${wrong[0]} needs --model`);
  {
    const { logits, segments: implied } = loadLogits(args);
    const S = args.int('segments', 1) ?? implied;
    if (S === undefined) throw new UsageError('--segments S is required');
    const metric = args.choice<Xl3mMetric>('metric', ['entropy', 'nll'], 'entropy');
    const pooling = args.choice<Xl3mPooling>('pooling', ['mean', 'last', 'min'], 'mean');
    const backend = args.choice<BackendChoice>('backend', ['cpu', 'cuda', 'auto'], 'auto');
    const temperature = args.number('temperature', { min: 0, minExclusive: true }) ?? 1;
    const targetsFile = args.string('targets');
    const targets = targetsFile !== undefined ? readTokens(targetsFile) : undefined;
    if (metric === 'nll' && !targets) throw new UsageError('--metric nll needs --targets FILE');
    const budget = args.int('token-budget', 0);
    const L = args.int('segment-tokens', 1);
    let segments: Segment[];
    if (L !== undefined) {
      const o = args.int('overlap-tokens', 0) ?? 0;
      if (o >= L) throw new UsageError('--overlap-tokens must be < --segment-tokens');
      const C = args.int('context-tokens', 1) ?? S * (L - o) + o;
      segments = segmentBounds(C, L, o);
      if (segments.length !== S) throw new UsageError(`--context-tokens ${C} with L ${L}, overlap ${o} gives ${segments.length} segments, not ${S}`);
    } else {
      if (budget !== undefined) throw new UsageError('--token-budget needs --segment-tokens (and --overlap-tokens, --context-tokens)');
      segments = Array.from({ length: S }, (_, i) => ({ start: i, end: i + 1 }));
    }
    const topK = args.int('top-k', 0) ?? (budget === undefined ? Math.min(4, S) : undefined);
    const t0 = process.hrtime.bigint();
    const scores = await score(logits, { segments: S, metric, pooling, targets, temperature, backend });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const selected = select(scores, { segments }, { topK, tokenBudget: budget });
    const ranking = rankSegments(scores);
    if (args.json) {
      const out = {
        segments: S, positionsPerSegment: logits.rows / S, vocab: logits.vocab, metric, pooling, milliseconds: ms,
        scores: Array.from(scores, (x) => (Number.isNaN(x) ? null : x)), ranking: Array.from(ranking), selected: Array.from(selected),
      };
      process.stdout.write(JSON.stringify(out) + '\n');
      return 0;
    }
    const rank = new Int32Array(S);
    ranking.forEach((seg, r) => (rank[seg] = r + 1));
    const chosen = new Set(selected);
    const lines = [`xl3m: ${S} segments × ${logits.rows / S} positions × vocab ${logits.vocab} (${logits.dtype ?? 'float32'}), ` +
      `${metric}/${pooling}, ${ms.toFixed(2)} ms`, '  segment     score   rank'];
    for (let i = 0; i < S; i++) {
      lines.push(`  ${String(i).padStart(7)} ${scores[i]!.toFixed(5).padStart(9)} ${String(rank[i]).padStart(6)}${chosen.has(i) ? '  *' : ''}`);
    }
    lines.push(`selected (chronological): ${Array.from(selected).join(' ') || '(none)'}`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
}

/** `lengthwise xl3m`. @internal */
export const command: CommandSpec = {
  name: 'xl3m',
  summary: 'score XL3M segments from a logits file (or with an ONNX model)',
  usage: 'xl3m --logits FILE --segments S [options]  |  xl3m --model T.onnx --text FILE --question TEXT [options]',
  description: `Scores XL3M segments (lower = more relevant) from the logits at each segment's scored positions (rows =
segments × positions, segment-major) and prints the scores and the selection. The file is streamed through the
scorer in chunks of rows, so memory stays bounded whatever its size. With --model, an ONNX model scores the
segments of a text and answers the question from the key context.`,
  options: XL3M_OPTIONS,
  json: true,
  exits: { 2: 'usage or input-data error: bad option, missing or unreadable file, unsupported dtype or layout, shape that disagrees with --segments / --rows / --vocab' },
  run: xl3mCommand,
};

/** `lengthwise xl3m …` in-process (tests); returns the exit code. @internal */
export function runXl3m(argv: string[]): Promise<number> {
  return runCommand(command, argv);
}

/** The XL3M part of `lengthwise demo`: a fact hidden in a long generated context, found by a small real LM. */
export async function demoXl3m(): Promise<string> {
  const sc = needleScenario({ contextWords: 6000, needleAt: 0.62, seed: 7 });
  const { plan, tokens, vocab } = sc;
  const S = plan.segments.length;
  const q = questionLogits(sc.lm, plan);
  const t0 = process.hrtime.bigint();
  const entropy = await score({ data: q.data, rows: q.rows, vocab: q.vocab }, { segments: S });
  const nll = await score({ data: q.data, rows: q.rows, vocab: q.vocab }, { segments: S, metric: 'nll', targets: q.targets });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const chosen = select(entropy, plan, { topK: 1 });
  const key = keyContext(tokens, plan, chosen);
  const holder = plan.segments.findIndex((s) => s.start <= sc.needle.start && sc.needle.end <= s.end);
  const ranked = rankSegments(entropy);
  const text = vocab.decode(key);
  const at = text.indexOf(NEEDLE);
  const snippet = at < 0 ? text.slice(0, 120) : `…${text.slice(Math.max(0, at - 40), at + NEEDLE.length + 20)}…`;
  return [
    `context ${plan.contextLength} tokens → ${S} segments of ${plan.segmentTokens} (overlap ${plan.overlapTokens}); ` +
      `question: "${vocab.decode(plan.question)}"`,
    `model: word 4-gram + context cache (vocab ${vocab.size}); ${q.rows} scored positions, both metrics in ${ms.toFixed(2)} ms`,
    `the needle sits in segment ${holder}; best by entropy: ${ranked[0]} (${entropy[ranked[0]!]!.toFixed(3)} vs next ` +
      `${entropy[ranked[1]!]!.toFixed(3)} nats), best by question NLL: ${rankSegments(nll)[0]}`,
    `key context: ${key.length} tokens (${((100 * key.length) / tokens.length).toFixed(1)}% of ${tokens.length}): ${snippet}`,
  ].join('\n');
}
