/**
 * The `Logits` input shared by every kernel: rows × vocab, row-major, in host memory or on a device.
 *
 * @packageDocumentation
 */
import { DeviceTensor, isDeviceTensor, nativeHandle } from './device';
import { show } from './show';

/** Element type of logits. 16-bit data arrives as a Uint16Array carrying float16 or bfloat16 bits. */
export type LogitsDType = 'float32' | 'float16' | 'bfloat16';

/** rows × vocab logits, row-major and contiguous. */
export interface Logits {
  /** Host data (Float32Array for float32, Uint16Array for float16/bfloat16 bits) or a DeviceTensor. */
  data: Float32Array | Uint16Array | DeviceTensor;
  /** Required for Uint16Array and device data; defaults to 'float32' for Float32Array. */
  dtype?: LogitsDType;
  /** Number of rows (≥ 0). */
  rows: number;
  /** Vocabulary size (≥ 1). */
  vocab: number;
}

/** @internal What the addon receives. */
export interface NativeLogits {
  data: Float32Array | Uint16Array | object;
  dtype: 0 | 1 | 2;
  rows: number;
  vocab: number;
}

/** @internal */
export interface NormalizedLogits {
  native: NativeLogits;
  onDevice: boolean;
  dtype: LogitsDType;
}

const DTYPE_CODE: Record<LogitsDType, 0 | 1 | 2> = { float32: 0, float16: 1, bfloat16: 2 };

/** @internal Checks that `v` is a non-negative (or positive) safe integer. */
export function checkCount(v: unknown, name: string, min = 0): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number (got ${typeof v})`);
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer >= ${min} (got ${v})`);
  }
  return v;
}

/**
 * @internal Validates a Logits argument and turns it into the addon's form. `name` is the argument's name in
 * error messages ('logits', 'target', 'draft'...).
 */
export function normalizeLogits(logits: unknown, name = 'logits'): NormalizedLogits {
  if (logits === null || typeof logits !== 'object') {
    throw new TypeError(`${name} must be an object { data, dtype?, rows, vocab }`);
  }
  const l = logits as Partial<Logits>;
  const rows = checkCount(l.rows, `${name}.rows`, 0);
  const vocab = checkCount(l.vocab, `${name}.vocab`, 1);
  if (rows * vocab > Number.MAX_SAFE_INTEGER) throw new RangeError(`${name}.rows × ${name}.vocab is too large`);
  if (l.vocab !== undefined && vocab > 0x7fffffff) throw new RangeError(`${name}.vocab must be < 2^31`);
  const data = l.data;
  let dtype: LogitsDType;
  if (l.dtype !== undefined && l.dtype !== 'float32' && l.dtype !== 'float16' && l.dtype !== 'bfloat16') {
    throw new RangeError(`${name}.dtype must be 'float32', 'float16' or 'bfloat16' (got ${show(l.dtype)})`);
  }
  const expected = rows * vocab;
  if (data instanceof Float32Array) {
    if (l.dtype !== undefined && l.dtype !== 'float32') {
      throw new TypeError(`${name}.data is a Float32Array but ${name}.dtype is '${l.dtype}' (16-bit data must be a Uint16Array)`);
    }
    dtype = 'float32';
    if (data.length !== expected) {
      throw new RangeError(`${name}.data has ${data.length} elements but rows × vocab = ${rows} × ${vocab} = ${expected}`);
    }
  } else if (data instanceof Uint16Array) {
    if (l.dtype !== 'float16' && l.dtype !== 'bfloat16') {
      throw new TypeError(`${name}.data is a Uint16Array, so ${name}.dtype must say 'float16' or 'bfloat16'`);
    }
    dtype = l.dtype;
    if (data.length !== expected) {
      throw new RangeError(`${name}.data has ${data.length} elements but rows × vocab = ${rows} × ${vocab} = ${expected}`);
    }
  } else if (isDeviceTensor(data)) {
    if (data.disposed) throw new TypeError(`${name}.data is a disposed DeviceTensor`);
    if (l.dtype === undefined && data.elementType !== 'float32') {
      throw new TypeError(`${name}.dtype is required for device data that is not float32`);
    }
    dtype = l.dtype ?? 'float32';
    const bytes = expected * (dtype === 'float32' ? 4 : 2);
    if (data.byteLength !== bytes) {
      throw new RangeError(`${name}.data holds ${data.byteLength} bytes but rows × vocab × ${dtype} needs ${bytes}`);
    }
    return { native: { data: nativeHandle(data), dtype: DTYPE_CODE[dtype], rows, vocab }, onDevice: true, dtype };
  } else {
    throw new TypeError(`${name}.data must be a Float32Array, a Uint16Array (float16/bfloat16 bits) or a DeviceTensor`);
  }
  if (data.buffer.byteLength === 0 && expected > 0) throw new TypeError(`${name}.data is detached`);
  return { native: { data, dtype: DTYPE_CODE[dtype], rows, vocab }, onDevice: false, dtype };
}

/** @internal Validates an Int32Array of `length` ids in [0, vocab). */
export function checkTokenIds(v: unknown, name: string, length: number, vocab: number): Int32Array {
  if (!(v instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array`);
  if (v.length !== length) throw new RangeError(`${name} must have ${length} entries (one per row), got ${v.length}`);
  for (let i = 0; i < v.length; i++) {
    const t = v[i]!;
    if (t < 0 || t >= vocab) throw new RangeError(`${name}[${i}] = ${t} is out of range [0, vocab = ${vocab})`);
  }
  return v;
}
