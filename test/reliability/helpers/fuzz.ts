/**
 * One fuzz case = (target, seed, mutation). Valid arguments are built from the seed; a mutation replaces one or
 * two values anywhere in them (an argument, an option, a field of a nested object) with a hostile value, drops
 * trailing arguments, or turns a logits/tree object into one whose sizes overflow 32 bits. The outcome of a
 * call is classified: a result (checked for valid calls), a TypeError/RangeError naming the argument, an
 * AbortError for an aborted signal, a "no CUDA device" Error where a GPU is needed — or a failure.
 */
import { NASTY } from './nasty';
import { Args, Target, TARGETS, seeded } from './surface';

export type Mutation =
  | { kind: 'none' }
  | { kind: 'replace'; picks: { path: number; value: number }[] }
  | { kind: 'truncate'; keep: number }
  | { kind: 'overflow'; path: number; variant: number };

export interface FuzzCase {
  target: number;
  seed: number;
  mutation: Mutation;
}

export interface Outcome {
  kind: 'ok' | 'type-error' | 'range-error' | 'abort' | 'no-gpu' | 'failure';
  detail?: string;
}

type Path = (string | number)[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(v);
}

/** Every mutable location in args, up to three levels deep (plus option keys a target declares). */
export function paths(t: Target, args: Args): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, p: Path, depth: number) => {
    if (!isPlainObject(v) || depth >= 3) return;
    const keys = Array.isArray(v) ? (v.length <= 4 ? [...v.keys()] : [0, v.length - 1]) : Object.keys(v);
    for (const k of keys) {
      out.push([...p, k]);
      walk((v as Record<string | number, unknown>)[k], [...p, k], depth + 1);
    }
  };
  args.forEach((a, i) => {
    out.push([i]);
    walk(a, [i], 1);
    for (const k of t.extraKeys?.[i] ?? []) if (!isPlainObject(a) || !(k in a)) out.push([i, k]);
  });
  return out;
}

function setAt(args: Args, path: Path, value: unknown): Args {
  const root = [...args];
  let parent: Record<string | number, unknown> = root as unknown as Record<string | number, unknown>;
  for (let d = 0; d < path.length - 1; d++) {
    const k = path[d]!;
    const child = parent[k];
    const copy = Array.isArray(child) ? [...child] : isPlainObject(child) ? { ...child } : {};
    parent[k] = copy;
    parent = copy as Record<string | number, unknown>;
  }
  parent[path[path.length - 1]!] = value;
  return root;
}

/** Objects that look like logits ({data, rows, vocab}) or trees ({tokens, parents, offsets}). */
function overflowed(v: unknown, variant: number): unknown {
  if (!isPlainObject(v)) return v;
  if ('rows' in v && 'vocab' in v) {
    // rows × vocab wraps to a small 32-bit value that matches the data length (65536 × 65537 ≡ 65536 mod 2^32).
    const sizes = [
      [65536, 65537, 65536],
      [2 ** 31, 2, 0],
      [2 ** 32 + 1, 1, 1],
      [1, 2 ** 32 + 4, 4],
      [2 ** 26, 2 ** 27, 0],
    ][variant % 5]!;
    return { ...v, rows: sizes[0], vocab: sizes[1], data: new Float32Array(sizes[2]!), dtype: undefined };
  }
  if ('offsets' in v && 'tokens' in v) {
    return { ...v, offsets: Int32Array.of(0, 2 ** 31 - 1) };
  }
  if ('segments' in v && 'question' in v) {
    return { ...v, contextLength: 2 ** 32 };
  }
  return { ...v, segments: 2 ** 31, positionsPerSegment: 2 ** 31 + 3, segmentTokens: 2 ** 31 - 1, questionTokens: 2 ** 31 - 1 };
}

export function applyMutation(t: Target, args: Args, m: Mutation): { args: Args; touched: Path[] } {
  if (m.kind === 'none') return { args, touched: [] };
  if (m.kind === 'truncate') return { args: args.slice(0, m.keep % (args.length + 1)), touched: [[Math.min(m.keep % (args.length + 1), args.length - 1)]] };
  const ps = paths(t, args);
  if (ps.length === 0) return { args, touched: [] };
  if (m.kind === 'overflow') {
    const candidates = ps.filter((p) => isPlainObject(p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], args)));
    if (candidates.length === 0) return { args, touched: [] };
    const p = candidates[m.path % candidates.length]!;
    const old = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], args);
    return { args: setAt(args, p, overflowed(old, m.variant)), touched: [p] };
  }
  let out = args;
  const touched: Path[] = [];
  for (const pk of m.picks) {
    const p = ps[pk.path % ps.length]!;
    out = setAt(out, p, NASTY[pk.value % NASTY.length]!.make());
    touched.push(p);
  }
  return { args: out, touched };
}

/** A deterministic case from an index (the long fuzz replays any case from its number). */
export function caseAt(index: number, baseSeed: number, targets = TARGETS): FuzzCase {
  const r = seeded((baseSeed * 7919 + index * 104729) >>> 0);
  const u = () => Math.floor(r() * 2 ** 30);
  const target = u() % targets.length;
  const seed = u();
  const roll = r();
  let mutation: Mutation;
  if (roll < 0.15) mutation = { kind: 'none' };
  else if (roll < 0.8) mutation = { kind: 'replace', picks: [{ path: u(), value: u() }] };
  else if (roll < 0.9) mutation = { kind: 'replace', picks: [{ path: u(), value: u() }, { path: u(), value: u() }] };
  else if (roll < 0.95) mutation = { kind: 'overflow', path: u(), variant: u() };
  else mutation = { kind: 'truncate', keep: u() };
  return { target, seed, mutation };
}

const ABORT_RE = /abort/i;

function errorInfo(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: typeof e, message: String(e) };
}

function describe(t: Target, c: FuzzCase): string {
  return `${t.name} seed=${c.seed} mutation=${JSON.stringify(c.mutation)}`;
}

/**
 * Runs one case and classifies the outcome. `timeoutMs` catches hangs of async calls: 10 s, times LW_TIME_SCALE
 * where jest.arm64.config.js sets it (under qemu-user a valid scaling.fit call that takes 0.27 s natively took over
 * 10 s); unset (every native run) it is 1.
 */
export async function runCase(c: FuzzCase, timeoutMs = 10000 * Number(process.env.LW_TIME_SCALE ?? 1), targets = TARGETS): Promise<Outcome> {
  const t = targets[c.target]!;
  const valid = t.build(seeded(c.seed));
  const { args, touched } = applyMutation(t, valid, c.mutation);
  const aborted = touched.some((p) => p[p.length - 1] === 'signal');
  let result: unknown;
  try {
    const ret = t.call(args);
    if (ret !== null && typeof ret === 'object' && typeof (ret as { then?: unknown }).then === 'function') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`HANG: no settlement after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        result = await Promise.race([ret as Promise<unknown>, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      result = ret;
    }
  } catch (e) {
    const { name, message } = errorInfo(e);
    if (name === 'AbortError' && aborted) return { kind: 'abort' };
    if (name === 'TypeError' || name === 'RangeError') {
      const words = new Set<string>(t.names);
      for (const p of touched) for (const k of p) if (typeof k === 'string') words.add(k);
      const named = [...words].some((w) => message.includes(w)) || (t.names.length === 0 && touched.length === 0);
      if (!named) return { kind: 'failure', detail: `${name} does not name the argument: "${message}" (${describe(t, c)})` };
      return { kind: name === 'TypeError' ? 'type-error' : 'range-error' };
    }
    if (name === 'Error' && /cuda/i.test(message) && (t.needsGpu || touched.length > 0)) return { kind: 'no-gpu' };
    return { kind: 'failure', detail: `${name}: ${message} (${describe(t, c)})` };
  }
  if (c.mutation.kind === 'none' && t.check) {
    let problem: string | undefined;
    try {
      problem = t.check(args, result);
    } catch (e) {
      problem = `check threw ${errorInfo(e).message}`;
    }
    if (problem) return { kind: 'failure', detail: `wrong result: ${problem} (${describe(t, c)})` };
  }
  return { kind: 'ok' };
}

export interface Tally {
  calls: number;
  byKind: Record<Outcome['kind'], number>;
  failures: string[];
}

export function newTally(): Tally {
  return { calls: 0, byKind: { ok: 0, 'type-error': 0, 'range-error': 0, abort: 0, 'no-gpu': 0, failure: 0 }, failures: [] };
}

export function record(t: Tally, o: Outcome): void {
  t.calls++;
  t.byKind[o.kind]++;
  if (o.detail && t.failures.length < 50) t.failures.push(o.detail);
}

