/**
 * Determinism: fixed seeds reproduce results across runs, thread counts (LENGTHWISE_THREADS=1 vs 2) and SIMD
 * paths (LENGTHWISE_SIMD=scalar / avx2 vs the default), each in its own process. Integers (tokens, argmax,
 * ranks) must be identical; floats identical across runs and thread counts, within tolerance across SIMD paths.
 */
import { spawn } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(__dirname, 'helpers', 'fingerprint.ts');

function fingerprint(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.js'), SCRIPT], { env: { ...process.env, ...env }, cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

interface Diff {
  integerMismatches: string[];
  maxRel: Record<string, number>;
}

/** Walks two canonical results; integer typed arrays must match exactly, floats are compared relatively. */
function compare(a: unknown, b: unknown, at = '', d: Diff = { integerMismatches: [], maxRel: {} }): Diff {
  if (Array.isArray(a) && Array.isArray(b) && typeof a[0] === 'string' && /Array$/.test(a[0])) {
    const integer = /Int|Uint/.test(a[0]);
    if (a.length !== b.length) d.integerMismatches.push(`${at}: length ${a.length} vs ${b.length}`);
    for (let i = 1; i < Math.min(a.length, b.length); i++) {
      if (integer) {
        if (a[i] !== b[i] && d.integerMismatches.length < 10) d.integerMismatches.push(`${at}[${i - 1}]: ${String(a[i])} vs ${String(b[i])}`);
      } else rel(a[i], b[i], at, d);
    }
    return d;
  }
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
    for (const k of Object.keys(a as object)) compare((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k, d);
    return d;
  }
  if (typeof a === 'number' || typeof b === 'number') rel(a, b, at, d);
  else if (a !== b) d.integerMismatches.push(`${at}: ${String(a)} vs ${String(b)}`);
  return d;
}

function rel(x: unknown, y: unknown, at: string, d: Diff): void {
  const key = at.replace(/\[\d+\]$/, '');
  let r: number;
  if (typeof x !== 'number' || typeof y !== 'number') r = x === y ? 0 : Infinity; // 'NaN', 'Infinity' strings
  else r = Math.abs(x - y) / Math.max(1e-30, Math.abs(x), Math.abs(y));
  d.maxRel[key] = Math.max(d.maxRel[key] ?? 0, r);
}

let base: Record<string, unknown>;
const runs: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  const settings: Record<string, Record<string, string>> = {
    default: {},
    again: {},
    threads1: { LENGTHWISE_THREADS: '1' },
    threads2: { LENGTHWISE_THREADS: '2' },
    scalar: { LENGTHWISE_SIMD: 'scalar' },
    avx2: { LENGTHWISE_SIMD: 'avx2' },
  };
  const names = Object.keys(settings);
  for (let i = 0; i < names.length; i += 2) {
    const pair = names.slice(i, i + 2);
    const got = await Promise.all(pair.map((n) => fingerprint(settings[n]!)));
    pair.forEach((n, j) => (runs[n] = got[j]!));
  }
  base = runs.default!;
}, 120000);

const strip = (r: Record<string, unknown>) => {
  const { info, ...rest } = r;
  void info;
  return rest;
};

test('two runs with the same seeds give bit-identical results', () => {
  expect(strip(runs.again!)).toEqual(strip(base));
});

test('LENGTHWISE_THREADS=1 and =2 give bit-identical results', () => {
  expect((runs.threads1!.info as { threads: number }).threads).toBe(1);
  expect((runs.threads2!.info as { threads: number }).threads).toBe(2);
  expect(strip(runs.threads1!)).toEqual(strip(runs.threads2!));
  expect(strip(runs.threads1!)).toEqual(strip(base));
});

test.each(['scalar', 'avx2'])('LENGTHWISE_SIMD=%s: identical integers, floats within tolerance of the default path', (simd) => {
  const run = runs[simd]!;
  expect([simd, 'scalar']).toContain((run.info as { simd: string }).simd); // a CPU without AVX2 caps to scalar
  const d = compare(strip(base), strip(run));
  console.log(`SIMD ${(base.info as { simd: string }).simd} vs ${simd}: max relative float differences ${JSON.stringify(d.maxRel, (_k, v: number) => (typeof v === 'number' ? Number(v.toPrecision(2)) : v))}`);
  expect(d.integerMismatches).toEqual([]);
  for (const [k, v] of Object.entries(d.maxRel)) {
    // Float32 kernels: a few ulps; bootstrap refits (L-BFGS to a relative tolerance) to ~1e-4.
    if (!(v < 1e-4)) throw new Error(`${k}: relative difference ${v} >= 1e-4`);
  }
});
