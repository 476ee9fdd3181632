/**
 * @internal The one validation vocabulary of the TypeScript layer (in the spirit of sharp's `lib/is.js`): checks
 * that name the argument and what it expects in one message shape, `${name} must be ${expected} (got ${value})`,
 * and errors that carry a `code` exactly as the addon's (`native/addon/errors.cc`) do.
 *
 * TS owns types, shapes and defaults; core owns semantic checks (tree structure, per-request ranges it also
 * tests natively); the addon only unpacks.
 *
 * @packageDocumentation
 */
import { show } from './show';

/**
 * `code` of every error lengthwise throws. The first three are Node's own codes (the addon sets the same ones);
 * the rest are lengthwise's.
 */
export type ErrorCode =
  /** TypeError: a value of the wrong type or shape (also an unknown option key). */
  | 'ERR_INVALID_ARG_TYPE'
  /** RangeError: a value of the right type outside its range, or inconsistent sizes. */
  | 'ERR_OUT_OF_RANGE'
  /** AbortError from the native layer (an AbortSignal's own reason is rethrown unchanged). */
  | 'ABORT_ERR'
  /** CUDA was asked for but this build or machine has none. */
  | 'ERR_LENGTHWISE_NO_CUDA'
  /** A CUDA runtime failure. */
  | 'ERR_LENGTHWISE_DEVICE'
  /** The native addon could not be loaded, or is older than this TypeScript layer. */
  | 'ERR_LENGTHWISE_LOAD'
  /** A call made in the wrong state (e.g. a streaming scorer used after a failed push). */
  | 'ERR_LENGTHWISE_STATE'
  /** A command-line usage or input-file error. */
  | 'ERR_LENGTHWISE_USAGE'
  /** Any other native failure. */
  | 'ERR_LENGTHWISE';

/** An error thrown by lengthwise: a TypeError, RangeError or Error with a {@link ErrorCode}. */
export type LengthwiseError = Error & { code: ErrorCode };

/** Attaches `code` to `err` and returns it. */
export function withCode<E extends Error>(err: E, code: ErrorCode): E & { code: ErrorCode } {
  return Object.assign(err, { code });
}

/** TypeError with code ERR_INVALID_ARG_TYPE. */
export function typeError(message: string): TypeError & { code: ErrorCode } {
  return withCode(new TypeError(message), 'ERR_INVALID_ARG_TYPE');
}

/** RangeError with code ERR_OUT_OF_RANGE. */
export function rangeError(message: string): RangeError & { code: ErrorCode } {
  return withCode(new RangeError(message), 'ERR_OUT_OF_RANGE');
}

/** Error with a lengthwise code (no CUDA, device, load, state, usage). */
export function lwError(code: ErrorCode, message: string): Error & { code: ErrorCode } {
  return withCode(new Error(message), code);
}

/** The one message shape. */
export function mustBe(name: string, expected: string, v: unknown): string {
  return `${name} must be ${expected} (got ${show(v)})`;
}

/** TypeError `${name} must be ${expected} (got …)`. */
export function invalidType(name: string, expected: string, v: unknown): TypeError & { code: ErrorCode } {
  return typeError(mustBe(name, expected, v));
}

/** RangeError `${name} must be ${expected} (got …)`. */
export function outOfRange(name: string, expected: string, v: unknown): RangeError & { code: ErrorCode } {
  return rangeError(mustBe(name, expected, v));
}

/** Bounds of {@link integer}. */
export interface IntegerBounds {
  /** Default 0. */
  min?: number;
  /** Default Number.MAX_SAFE_INTEGER; Infinity admits every integer (also those above 2^53, e.g. "keep all"). */
  max?: number;
}

function intRange(min: number, max: number): string {
  if (max >= Number.MAX_SAFE_INTEGER) return `an integer >= ${min}`;
  if (min <= Number.MIN_SAFE_INTEGER) return `an integer <= ${max}`;
  return `an integer in [${min}, ${max}]`;
}

/**
 * A safe integer in [min, max]: TypeError when `v` is not a number, RangeError when it is a number but not an
 * integer in range (Node's own convention, and the addon's).
 */
export function integer(v: unknown, name: string, bounds: IntegerBounds = {}): number {
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'number') throw invalidType(name, intRange(min, max), v);
  const whole = max === Infinity ? Number.isInteger(v) : Number.isSafeInteger(v);
  if (!whole || v < min || v > max) throw outOfRange(name, intRange(min, max), v);
  return v;
}

/** Bounds of {@link number}: finite unless `finite: false`; each bound inclusive unless marked exclusive. */
export interface NumberBounds {
  min?: number;
  max?: number;
  /** `min` itself is excluded (e.g. > 0). */
  minExclusive?: boolean;
  /** `max` itself is excluded (e.g. < 1). */
  maxExclusive?: boolean;
  /** Default true. With false, ±Infinity pass the bounds (NaN never does). */
  finite?: boolean;
}

/** Describes NumberBounds as the `expected` part of a message ("a finite number > 0", "a number in (0, 1]"). */
export function numberRange(b: NumberBounds): string {
  const lo = b.min !== undefined, hi = b.max !== undefined;
  // Two finite bounds already say "finite".
  const kind = b.finite === false || (lo && hi && Number.isFinite(b.min) && Number.isFinite(b.max)) ? 'a number' : 'a finite number';
  if (lo && hi) return `${kind} in ${b.minExclusive ? '(' : '['}${b.min}, ${b.max}${b.maxExclusive ? ')' : ']'}`;
  if (lo) return `${kind} ${b.minExclusive ? '>' : '>='} ${b.min}`;
  if (hi) return `${kind} ${b.maxExclusive ? '<' : '<='} ${b.max}`;
  return kind;
}

/** Whether a number satisfies `b` (NaN never does). */
export function inRange(x: number, b: NumberBounds): boolean {
  if (Number.isNaN(x)) return false;
  if (b.finite !== false && !Number.isFinite(x)) return false;
  if (b.min !== undefined && (b.minExclusive ? !(x > b.min) : !(x >= b.min))) return false;
  if (b.max !== undefined && (b.maxExclusive ? !(x < b.max) : !(x <= b.max))) return false;
  return true;
}

/** A number within `bounds`: TypeError when not a number, RangeError when outside (NaN included). */
export function number(v: unknown, name: string, bounds: NumberBounds = {}): number {
  if (typeof v !== 'number') throw invalidType(name, numberRange(bounds), v);
  if (!inRange(v, bounds)) throw outOfRange(name, numberRange(bounds), v);
  return v;
}

/** `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`. */
export function listOf(values: readonly string[]): string {
  const q = values.map((s) => `'${s}'`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** One of `values` (a string enum): RangeError naming the allowed values otherwise. */
export function oneOf<const T extends string>(v: unknown, name: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw outOfRange(name, listOf(values), v);
  return v as T;
}

/** A boolean. */
export function boolean(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw invalidType(name, 'a boolean', v);
  return v;
}

/** A non-null object (not an array-like check: arrays are objects too). */
export function object(v: unknown, name: string, shape = ''): Record<string, unknown> {
  if (v === null || typeof v !== 'object') throw invalidType(name, `an object${shape ? ` ${shape}` : ''}`, v);
  return v as Record<string, unknown>;
}

type TypedArrayName =
  | 'Float32Array'
  | 'Float64Array'
  | 'Int32Array'
  | 'Uint16Array'
  | 'Uint32Array'
  | 'Uint8Array';
type TypedArrayOf<N extends TypedArrayName> = N extends 'Float32Array'
  ? Float32Array
  : N extends 'Float64Array'
    ? Float64Array
    : N extends 'Int32Array'
      ? Int32Array
      : N extends 'Uint16Array'
        ? Uint16Array
        : N extends 'Uint32Array'
          ? Uint32Array
          : Uint8Array;

/** A view whose buffer was transferred away is not a usable array (any read or copy of it throws). */
export function isDetached(v: ArrayBufferView): boolean {
  if (v.byteLength > 0) return false;
  try {
    new Uint8Array(v.buffer);
    return false;
  } catch {
    return true;
  }
}

/** Whether `v` is a live typed array of the given kind (by tag, so arrays from another realm pass too). */
export function isTypedArray<N extends TypedArrayName>(v: unknown, ctor: N): v is TypedArrayOf<N> {
  return ArrayBuffer.isView(v) && (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === ctor && !isDetached(v);
}

/**
 * A typed array of kind `ctor` (TypeError otherwise; a detached one too), of exactly `length` entries when given
 * (RangeError otherwise; `per` names what each entry is for: "one per row").
 */
export function typedArray<N extends TypedArrayName>(
  v: unknown,
  name: string,
  ctor: N,
  length?: number,
  per = '',
): TypedArrayOf<N> {
  if (!isTypedArray(v, ctor)) throw invalidType(name, `a${ctor === 'Int32Array' ? 'n' : ''} ${ctor}`, v);
  if (length !== undefined && v.length !== length) {
    throw outOfRange(name, `a${ctor === 'Int32Array' ? 'n' : ''} ${ctor} of ${length} entries${per ? ` (${per})` : ''}`, v);
  }
  return v;
}

/**
 * A seed: a safe integer >= 0 or a bigint in [0, 2^64). Returned as a bigint: seeds cross to the addon as
 * bigint everywhere (Napi BigInt → Uint64Value).
 */
export function seed(v: unknown, name: string): bigint {
  const expected = 'a safe integer >= 0 or a bigint in [0, 2^64)';
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) throw outOfRange(name, expected, v);
    return v;
  }
  if (typeof v !== 'number') throw invalidType(name, expected, v);
  if (!Number.isSafeInteger(v) || v < 0) throw outOfRange(name, expected, v);
  return BigInt(v);
}

/**
 * A per-request knob in FlashInfer's convention (`arr ? arr[b] : val`): one number shared by all `batch`
 * requests, or a typed array with one entry per request. Each value must satisfy `bounds` (and be an integer
 * when `bounds.integer`). Returns the value as given, or undefined when `v` is undefined.
 */
export function perRequest<N extends 'Float32Array' | 'Int32Array'>(
  v: unknown,
  name: string,
  ctor: N,
  batch: number,
  bounds: NumberBounds & { integer?: boolean },
  expectedText?: string,
  what = 'tree',
): number | TypedArrayOf<N> | undefined {
  if (v === undefined) return undefined;
  // Formatted only when it is needed (an error): this runs on every call.
  const expected = () =>
    expectedText ?? (bounds.integer ? intRange(bounds.min ?? 0, bounds.max ?? Number.MAX_SAFE_INTEGER) : numberRange(bounds));
  const ok = (x: number) => inRange(x, bounds) && (!bounds.integer || Number.isInteger(x));
  if (typeof v === 'number') {
    if (!ok(v)) throw outOfRange(name, expected(), v);
    return v;
  }
  const article = ctor === 'Int32Array' ? 'an' : 'a';
  if (!isTypedArray(v, ctor)) throw invalidType(name, `a number or ${article} ${ctor} with one entry per ${what}`, v);
  if (v.length !== batch) throw outOfRange(name, `a number or ${article} ${ctor} with one entry per ${what} (${batch})`, v);
  for (let i = 0; i < v.length; i++) if (!ok(v[i]!)) throw outOfRange(`${name}[${i}]`, expected(), v[i]);
  return v;
}

/**
 * `opts.devices` of the multi-GPU calls (scaling fit, XL3M scoring): undefined or 'all' → undefined (automatic),
 * else a non-empty array of device ordinals (integers in [0, 1023]; visibility is checked natively).
 */
export function deviceList(v: unknown, name = 'opts.devices'): number[] | undefined {
  if (v === undefined || v === 'all') return undefined;
  if (!Array.isArray(v) || v.length === 0) throw invalidType(name, "'all' or a non-empty array of device ordinals", v);
  return v.map((x: unknown, i) => integer(x, `${name}[${i}]`, { min: 0, max: 1023 }));
}

/** A function. */
export function callback(v: unknown, name: string): (...args: never[]) => unknown {
  if (typeof v !== 'function') throw invalidType(name, 'a function', v);
  return v as (...args: never[]) => unknown;
}

// ---- option keys ------------------------------------------------------------------------------------------------

/**
 * The option keys of an options type, as a table the compiler checks against the type: every key of `T`
 * must be listed, and nothing else (so a new option cannot be forgotten in the unknown-key check).
 *
 * @example `const KEYS = optionKeys<LogitStatsOptions>({ targets: 1, temperature: 1, backend: 1, signal: 1 });`
 */
export function optionKeys<T>(table: { [K in keyof Required<T>]: 1 }): readonly string[] {
  return Object.freeze(Object.keys(table));
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The valid key closest to `key`, when it is close enough to be a likely misspelling. */
export function nearest(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of valid) {
    const dk = distance(key, k);
    if (dk < bestD) {
      best = k;
      bestD = dk;
    }
  }
  return bestD <= Math.max(2, Math.floor(Math.min(key.length, best?.length ?? 0) / 3)) ? best : undefined;
}

/**
 * `opts` (undefined allowed: returns `{}`) must be an object whose own enumerable keys are all in `valid`.
 * An unknown key is a TypeError naming it and the nearest valid key: "unknown option 'topp' in opts (did you
 * mean 'topP'?)"; a key far from every valid one lists them instead.
 */
const keySets = new WeakMap<readonly string[], Set<string>>();

export function options<T extends object>(opts: unknown, name: string, valid: readonly string[], required = false): T {
  if (opts === undefined && !required) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw invalidType(name, 'an object', opts);
  let set = keySets.get(valid);
  if (set === undefined) keySets.set(valid, (set = new Set(valid)));
  for (const key in opts) {
    if (set.has(key) || !Object.prototype.hasOwnProperty.call(opts, key)) continue;
    const near = nearest(key, valid);
    throw typeError(
      `unknown option '${key}' in ${name} (${near !== undefined ? `did you mean '${near}'?` : `valid options: ${valid.join(', ')}`})`,
    );
  }
  return opts as T;
}
