/**
 * `lengthwise xl3m`: score segments from a logits file and print the scores and the selection; and the XL3M part
 * of `lengthwise demo`.
 *
 * @packageDocumentation
 */
import type { LogitsDType } from '../logits';
import type { BackendChoice } from '../runtime/native';
import { NEEDLE } from '../demo/haystack';
import { keyContext } from '../xl3m/keyContext';
import { needleScenario, questionLogits } from '../demo/needle';
import { segmentBounds, Segment } from '../xl3m/plan';
import { createScorer, score, type ScorerOptions, type Xl3mMetric, type Xl3mPooling } from '../xl3m/score';
import { rankSegments, select } from '../xl3m/select';
import { ITEM_SIZE, openArray, readChunks, readTokens, type ArraySource, type ElementKind } from './npy';
import { ProgressBar } from './progress';
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
  'npz-key': { type: 'string', value: 'NAME', group: LOGITS, help: "array of a .npz holding several (default: the only one, or 'logits')" },
  backend: { type: 'string', value: 'B', group: LOGITS, help: 'cpu | cuda | auto' },
  devices: { type: 'string', value: 'LIST', group: LOGITS, help: 'CUDA: split each chunk over these GPUs, e.g. 0,1 (default: one GPU; chunks are below the automatic split size)' },
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

/** What the logits file holds and how it is read. */
interface LogitsInput {
  src: ArraySource;
  /** Kind of the elements in the file. */
  kind: ElementKind;
  /** dtype handed to the scorer (float64 is converted to float32). */
  dtype: LogitsDType;
  rows: number;
  vocab: number;
  /** Segments implied by a 3-D array. */
  segments?: number;
}

async function openLogits(args: Args): Promise<LogitsInput> {
  const file = args.required('logits', '--logits FILE');
  const given = args.choice<LogitsDType>('dtype', ['float32', 'float16', 'bfloat16']);
  const src = await openArray(file, args.string('npz-key'));
  if (src.format === 'raw') {
    const rows = args.int('rows', 1);
    const vocab = args.int('vocab', 1);
    if (rows === undefined || vocab === undefined) {
      throw new UsageError(`${file} is neither .npy nor .npz (no magic bytes); a raw logits file needs --rows and --vocab`);
    }
    const dtype = given ?? 'float32';
    const size = dtype === 'float32' ? 4 : 2;
    if (src.length !== rows * vocab * size) {
      throw new UsageError(`${file}: ${src.length} bytes, but --rows ${rows} × --vocab ${vocab} × ${size} = ${rows * vocab * size}`);
    }
    return { src, kind: dtype === 'float32' ? 'f4' : 'u2', dtype, rows, vocab };
  }
  for (const k of ['rows', 'vocab'] as const) {
    if (args.has(k)) throw new UsageError(`--${k} is for raw files; ${src.name} has shape (${src.shape.join(', ')})`);
  }
  const shape = src.shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new UsageError(`${src.name}: shape (${shape.join(', ')}) must be (rows, vocab) or (segments, positions, vocab)`);
  }
  const kind = src.kind!;
  let dtype: LogitsDType;
  if (kind === 'f4' || kind === 'f8') {
    if (given !== undefined && given !== 'float32') throw new UsageError(`${src.name} holds ${kind === 'f4' ? 'float32' : 'float64'}, not ${given} (drop --dtype)`);
    dtype = 'float32';
    if (kind === 'f8') process.stderr.write(`lengthwise xl3m: ${src.name} holds float64; converting to float32 as it streams (save float32 to skip this)\n`);
  } else if (kind === 'f2') {
    dtype = given === 'bfloat16' ? 'bfloat16' : 'float16';
  } else if (kind === 'u2') {
    if (given !== 'bfloat16' && given !== 'float16') throw new UsageError(`${src.name}: 16-bit words need --dtype bfloat16 or float16`);
    dtype = given;
  } else throw new UsageError(`${src.name}: logits must be float32, float64, float16 or 16-bit words, not ${kind === 'i4' ? 'int32' : 'int64'}`);
  const vocab = shape[shape.length - 1]!;
  const rows = shape.length === 3 ? shape[0]! * shape[1]! : shape[0]!;
  return { src, kind, dtype, rows, vocab, segments: shape.length === 3 ? shape[0] : undefined };
}

/** Bytes of file data per chunk (whole rows; at least one row); LENGTHWISE_CLI_CHUNK_BYTES overrides it (tests). */
const chunkBytes = () => Number(process.env.LENGTHWISE_CLI_CHUNK_BYTES) || 32 << 20;

/** Streams the logits through a scorer, two chunks in flight at most (one read, one scored). */
async function scoreStream(input: LogitsInput, S: number, targets: Int32Array | undefined,
  opts: Pick<ScorerOptions, 'metric' | 'pooling' | 'temperature' | 'backend' | 'devices'>): Promise<Float32Array> {
  const { src, kind, dtype, rows, vocab } = input;
  const scorer = createScorer({ segments: S, positionsPerSegment: rows / S, ...opts });
  const rowBytes = vocab * ITEM_SIZE[kind];
  const rowsPerChunk = Math.max(1, Math.min(rows, Math.floor(chunkBytes() / rowBytes)));
  const bar = new ProgressBar('scoring', { unit: 'rows' });
  const converted = kind === 'f8' ? [new Float32Array(rowsPerChunk * vocab), new Float32Array(rowsPerChunk * vocab)] : [];
  let inFlight: Promise<void> | undefined;
  let done = 0;
  let turn = 0;
  for await (const chunk of readChunks(src, rowBytes, rowsPerChunk)) {
    const n = chunk.length / rowBytes;
    let data: Float32Array | Uint16Array;
    if (kind === 'f8') {
      const f64 = new Float64Array(chunk.buffer, chunk.byteOffset, n * vocab);
      const out = converted[turn]!.subarray(0, n * vocab);
      for (let i = 0; i < f64.length; i++) out[i] = f64[i]!;
      data = out;
      turn ^= 1;
    } else data = dtype === 'float32' ? new Float32Array(chunk.buffer, chunk.byteOffset, n * vocab) : new Uint16Array(chunk.buffer, chunk.byteOffset, n * vocab);
    const t = targets?.subarray(done, done + n);
    // At most one push in flight: the chunk buffer it reads is not reused before it settles.
    if (inFlight) await inFlight;
    inFlight = scorer.push({ data, dtype, rows: n, vocab }, t);
    inFlight.catch(() => undefined); // handled when awaited; not "unhandled" while the next chunk is read
    done += n;
    bar.update(done, rows);
  }
  if (inFlight) await inFlight;
  bar.done();
  if (done !== rows) throw new UsageError(`${src.name}: ${done} rows read, the header says ${rows}`);
  return scorer.finish();
}

/** --devices 0,1: comma-separated CUDA ordinals (undefined when absent). */
function deviceListArg(args: Args): number[] | undefined {
  const s = args.string('devices');
  if (s === undefined) return undefined;
  const parts = s.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^\d{1,4}$/.test(x) || Number(x) > 1023)) {
    throw new UsageError(`--devices must be comma-separated GPU ordinals in [0, 1023] (e.g. 0,1), got '${s}'`);
  }
  return parts.map(Number);
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
  const metric = args.choice<Xl3mMetric>('metric', ['entropy', 'nll'], 'entropy');
  const pooling = args.choice<Xl3mPooling>('pooling', ['mean', 'last', 'min'], 'mean');
  const backend = args.choice<BackendChoice>('backend', ['cpu', 'cuda', 'auto'], 'auto');
  const temperature = args.number('temperature', { min: 0, minExclusive: true }) ?? 1;
  const devices = deviceListArg(args);
  const given = args.int('segments', 1);
  const input = await openLogits(args);
  if (input.segments !== undefined && given !== undefined && given !== input.segments) {
    throw new UsageError(`${input.src.name} has shape (${input.src.shape.join(', ')}): ${input.segments} segments, not --segments ${given} ` +
      '(a 3-D file is read as (segments, positions, vocab); drop --segments, or save it as (rows, vocab))');
  }
  const S = given ?? input.segments;
  if (S === undefined) throw new UsageError('--segments S is required for a 2-D or raw file');
  if (input.rows % S !== 0) throw new UsageError(`${input.src.name}: ${input.rows} rows are not a multiple of --segments ${S}`);
  const targetsFile = args.string('targets');
  const targets = targetsFile !== undefined ? await readTokens(targetsFile) : undefined;
  if (metric === 'nll' && !targets) throw new UsageError('--metric nll needs --targets FILE');
  if (targets && targets.length !== input.rows) throw new UsageError(`--targets ${targetsFile}: ${targets.length} ids, the logits have ${input.rows} rows (one id per row)`);
  const logits = { rows: input.rows, vocab: input.vocab, dtype: input.dtype };
  {
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
    const scores = await scoreStream(input, S, targets, { metric, pooling, temperature, backend, ...(devices ? { devices } : {}) });
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
      `${metric}/${pooling}, ${ms.toFixed(2)} ms${input.kind === 'f8' ? ' (float64 file, converted)' : ''}`, '  segment     score   rank'];
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
