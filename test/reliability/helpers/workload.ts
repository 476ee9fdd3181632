/**
 * A deterministic mix of async calls across capabilities (built from the fuzz surface's valid-argument builders),
 * and a canonical form of their outcomes so runs can be compared exactly (typed arrays element by element, NaN
 * included; errors by name and message).
 */
import { TARGETS, seeded } from './surface';

export const ASYNC_CAPABILITIES = [
  'logitStats',
  'verifyTree',
  'tree.expectedAcceptance',
  'tree.gtoReward',
  'tree.nodeProbabilities',
  'xl3m.score',
  'xl3m.coarseScore',
  'multidraft.optimalAcceptance',
  'scaling.fit',
] as const;

export interface Call {
  name: string;
  run: () => Promise<unknown>;
}

/** `n` calls cycling through the capabilities; arguments are built once per call (and never mutated). */
export function mixedCalls(n: number, seed = 1): Call[] {
  const out: Call[] = [];
  for (let i = 0; i < n; i++) {
    const name = ASYNC_CAPABILITIES[i % ASYNC_CAPABILITIES.length]!;
    const t = TARGETS.find((x) => x.name === name)!;
    const args = t.build(seeded(seed * 1000003 + i));
    out.push({ name, run: () => Promise.resolve().then(() => t.call(args)) });
  }
  return out;
}

/** JSON-comparable form: typed arrays as [tag, ...values] (NaN/±Infinity as strings), keys sorted. */
export function canon(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const tag = (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
    return [tag, ...Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : String(x)))];
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = canon((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

/** Settles a call into a comparable outcome. */
export async function outcome(c: Call): Promise<string> {
  try {
    return JSON.stringify(canon(await c.run()));
  } catch (e) {
    const err = e as Error;
    return `error ${err.name}: ${err.message}`;
  }
}
