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

const HELP = `usage: lengthwise xl3m --logits FILE --segments S [options]

Scores XL3M segments (lower = more relevant) from the logits at each segment's scored positions
(rows = segments × positions, segment-major) and prints the scores and the selection.

  --logits FILE          .npy (float32, float16, or 16-bit words with --dtype bfloat16; shape (R, V) or (S, P, V))
                         or a raw little-endian file (needs --rows and --vocab)
  --dtype T              float32 | float16 | bfloat16 (default float32, or from the .npy)
  --rows R --vocab V     shape of a raw file
  --segments S           number of segments (implied by a 3-D .npy)
  --metric M             entropy (default) | nll (needs --targets)
  --pooling P            mean (default) | last | min
  --temperature T        divide logits by T first (default 1)
  --targets FILE         token ids (.npy int32/int64 or raw int32), one per row
  --top-k K              keep the K lowest-scoring segments (default min(4, S))
  --token-budget N       keep segments while their merged length fits N tokens (needs --segment-tokens)
  --segment-tokens L     segment length, for --token-budget (with --overlap-tokens O, --context-tokens C;
                         C defaults to S·(L−O)+O)
  --backend B            cpu | cuda | auto
  --json                 print JSON instead of a table
`;

type Flags = Record<string, string | true>;

const VALUED = new Set(['logits', 'dtype', 'rows', 'vocab', 'segments', 'metric', 'pooling', 'temperature', 'targets',
  'top-k', 'token-budget', 'segment-tokens', 'overlap-tokens', 'context-tokens', 'backend']);

function parse(argv: string[]): Flags {
  const f: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name === 'json' || name === 'help') f[name] = true;
    else if (VALUED.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      f[name] = v;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return f;
}

function int(f: Flags, name: string, min: number): number | undefined {
  const v = f[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

function oneOf<T extends string>(f: Flags, name: string, allowed: readonly T[], fallback: T): T {
  const v = f[name] ?? fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function loadLogits(f: Flags): { logits: Logits; segments?: number } {
  const file = f.logits;
  if (typeof file !== 'string') throw new UsageError('--logits FILE is required');
  let dtype = oneOf<LogitsDType>(f, 'dtype', ['float32', 'float16', 'bfloat16'], 'float32');
  if (file.endsWith('.npy')) {
    const a = readNpy(file);
    if (a.shape.length !== 2 && a.shape.length !== 3) throw new UsageError(`${file}: shape must be (rows, vocab) or (segments, positions, vocab)`);
    if (a.kind === 'f4') dtype = 'float32';
    else if (a.kind === 'f2') dtype = f.dtype === 'bfloat16' ? 'bfloat16' : 'float16';
    else if (a.kind === 'u2') {
      if (f.dtype !== 'bfloat16' && f.dtype !== 'float16') throw new UsageError(`${file}: 16-bit words need --dtype bfloat16 or float16`);
    } else throw new UsageError(`${file}: logits must be float32, float16 or 16-bit words`);
    const vocab = a.shape[a.shape.length - 1]!;
    const rows = a.shape.length === 3 ? a.shape[0]! * a.shape[1]! : a.shape[0]!;
    const data = dtype === 'float32' ? new Float32Array(a.data) : new Uint16Array(a.data);
    return { logits: { data, dtype, rows, vocab }, segments: a.shape.length === 3 ? a.shape[0] : undefined };
  }
  const rows = int(f, 'rows', 1);
  const vocab = int(f, 'vocab', 1);
  if (rows === undefined || vocab === undefined) throw new UsageError('a raw logits file needs --rows and --vocab');
  const raw = readRaw(file);
  const size = dtype === 'float32' ? 4 : 2;
  if (raw.byteLength !== rows * vocab * size) {
    throw new UsageError(`${file}: ${raw.byteLength} bytes, but --rows ${rows} × --vocab ${vocab} × ${size} = ${rows * vocab * size}`);
  }
  return { logits: { data: dtype === 'float32' ? new Float32Array(raw) : new Uint16Array(raw), dtype, rows, vocab } };
}

/** Runs `lengthwise xl3m`; returns the exit code. */
export async function runXl3m(argv: string[]): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (argv.includes('--model')) return (require('./xl3mModel') as typeof import('./xl3mModel')).runXl3mModel(argv);
  let f: Flags;
  try {
    f = parse(argv);
    if (f.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const { logits, segments: implied } = loadLogits(f);
    const S = int(f, 'segments', 1) ?? implied;
    if (S === undefined) throw new UsageError('--segments S is required');
    const metric = oneOf<Xl3mMetric>(f, 'metric', ['entropy', 'nll'], 'entropy');
    const pooling = oneOf<Xl3mPooling>(f, 'pooling', ['mean', 'last', 'min'], 'mean');
    const backend = oneOf<BackendChoice>(f, 'backend', ['cpu', 'cuda', 'auto'], 'auto');
    const temperature = f.temperature === undefined ? 1 : Number(f.temperature);
    const targets = typeof f.targets === 'string' ? readTokens(f.targets) : undefined;
    if (metric === 'nll' && !targets) throw new UsageError('--metric nll needs --targets FILE');
    const budget = int(f, 'token-budget', 0);
    const L = int(f, 'segment-tokens', 1);
    let segments: Segment[];
    if (L !== undefined) {
      const o = int(f, 'overlap-tokens', 0) ?? 0;
      if (o >= L) throw new UsageError('--overlap-tokens must be < --segment-tokens');
      const C = int(f, 'context-tokens', 1) ?? S * (L - o) + o;
      segments = segmentBounds(C, L, o);
      if (segments.length !== S) throw new UsageError(`--context-tokens ${C} with L ${L}, overlap ${o} gives ${segments.length} segments, not ${S}`);
    } else {
      if (budget !== undefined) throw new UsageError('--token-budget needs --segment-tokens (and --overlap-tokens, --context-tokens)');
      segments = Array.from({ length: S }, (_, i) => ({ start: i, end: i + 1 }));
    }
    const topK = int(f, 'top-k', 0) ?? (budget === undefined ? Math.min(4, S) : undefined);
    const t0 = process.hrtime.bigint();
    const scores = await score(logits, { segments: S, metric, pooling, targets, temperature, backend });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const selected = select(scores, { segments }, { topK, tokenBudget: budget });
    const ranking = rankSegments(scores);
    if (f.json) {
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
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lengthwise xl3m: ${err.message}\n(lengthwise xl3m --help for usage)\n`);
      return 2;
    }
    throw err;
  }
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
