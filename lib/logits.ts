/**
 * The `Logits` input shared by every kernel: rows × vocab, row-major, in host memory or on a device.
 *
 * @packageDocumentation
 */
import { DeviceTensor, isDeviceTensor, nativeHandle } from './device';
import type { NativeLogitsArg } from './runtime/addonTypes';
import { byteView, isByteView } from './runtime/dtype';
import { show } from './runtime/show';
import { integer, invalidType, isDetached, object, oneOf, outOfRange, rangeError, typeError, typedArray } from './runtime/validate';

/** Element type of logits. 16-bit data arrives as a Uint16Array carrying float16 or bfloat16 bits. */
export type LogitsDType = 'float32' | 'float16' | 'bfloat16';

/**
 * `[rows, vocab]` logits, row-major and contiguous: element (r, v) is `data[r * vocab + v]`. Values are raw
 * (unnormalised) logits; every statistic derived from them is in nats.
 */
export interface Logits {
  /**
   * The `rows × vocab` elements: a Float32Array (float32), a Uint16Array of float16 / bfloat16 bit patterns, a
   * Buffer / Uint8Array / DataView over the raw bytes of either (platform byte order, i.e. little-endian; the byte
   * offset must be a multiple of the element size, else a RangeError says how to copy), or a DeviceTensor.
   * Host data is read in place, not copied; do not modify it while a call is in flight.
   */
  data: Float32Array | Uint16Array | ArrayBufferView | DeviceTensor;
  /**
   * Element type: defaults to 'float32' for a Float32Array; required for a Uint16Array ('float16' or
   * 'bfloat16'), for raw bytes and for device data that is not float32.
   */
  dtype?: LogitsDType;
  /** Number of rows (integer ≥ 0). */
  rows: number;
  /** Vocabulary size: elements per row (integer in [1, 2^31)). */
  vocab: number;
}

/** @internal What the addon receives (declared with the native surface; the dtype crosses by name). */
export type NativeLogits = NativeLogitsArg;

/** @internal */
export interface NormalizedLogits {
  native: NativeLogits;
  onDevice: boolean;
  dtype: LogitsDType;
}

/** Every logits dtype, in the addon's order. */
export const LOGITS_DTYPES = ['float32', 'float16', 'bfloat16'] as const satisfies readonly LogitsDType[];

/**
 * @internal Validates a Logits argument and turns it into the addon's form. `name` is the argument's name in
 * error messages ('logits', 'target', 'draft'...).
 */
export function normalizeLogits(logits: unknown, name = 'logits'): NormalizedLogits {
  const l = object(logits, name, '{ data, dtype?, rows, vocab }') as Partial<Logits>;
  const rows = integer(l.rows, `${name}.rows`, { min: 0 });
  const vocab = integer(l.vocab, `${name}.vocab`, { min: 1 });
  if (rows * vocab > Number.MAX_SAFE_INTEGER) throw rangeError(`${name}.rows × ${name}.vocab is too large (${rows} × ${vocab})`);
  if (vocab > 0x7fffffff) throw outOfRange(`${name}.vocab`, 'an integer < 2^31', vocab);
  let data: unknown = l.data;
  let dtype: LogitsDType;
  if (l.dtype !== undefined) oneOf(l.dtype, `${name}.dtype`, LOGITS_DTYPES);
  const expected = rows * vocab;
  if (isByteView(data)) {
    // A Buffer / Uint8Array / DataView over the raw bytes: viewed in place as the dtype's elements.
    if (l.dtype === undefined) {
      throw typeError(`${name}.data is raw bytes (${show(data)}), so ${name}.dtype must say 'float32', 'float16' or 'bfloat16'`);
    }
    if (isDetached(data)) throw typeError(`${name}.data is detached`);
    data = l.dtype === 'float32'
      ? byteView(data, 4, `${name}.data`, Float32Array, 'float32')
      : byteView(data, 2, `${name}.data`, Uint16Array, l.dtype);
  }
  if (data instanceof Float32Array) {
    if (l.dtype !== undefined && l.dtype !== 'float32') {
      throw typeError(`${name}.data is a Float32Array but ${name}.dtype is '${l.dtype}' (16-bit data must be a Uint16Array)`);
    }
    dtype = 'float32';
    if (data.length !== expected) {
      throw rangeError(`${name}.data has ${data.length} elements but rows × vocab = ${rows} × ${vocab} = ${expected}`);
    }
  } else if (data instanceof Uint16Array) {
    if (l.dtype !== 'float16' && l.dtype !== 'bfloat16') {
      throw typeError(`${name}.data is a Uint16Array, so ${name}.dtype must say 'float16' or 'bfloat16'`);
    }
    dtype = l.dtype;
    if (data.length !== expected) {
      throw rangeError(`${name}.data has ${data.length} elements but rows × vocab = ${rows} × ${vocab} = ${expected}`);
    }
  } else if (isDeviceTensor(data)) {
    if (data.disposed) throw typeError(`${name}.data is a disposed DeviceTensor`);
    if (l.dtype === undefined && data.elementType !== 'float32') {
      throw typeError(`${name}.dtype is required for device data that is not float32`);
    }
    dtype = l.dtype ?? 'float32';
    const bytes = expected * (dtype === 'float32' ? 4 : 2);
    if (data.byteLength !== bytes) {
      throw rangeError(`${name}.data holds ${data.byteLength} bytes but rows × vocab × ${dtype} needs ${bytes}`);
    }
    return { native: { data: nativeHandle(data), dtype, rows, vocab }, onDevice: true, dtype };
  } else {
    throw invalidType(
      `${name}.data`,
      'a Float32Array, a Uint16Array (float16/bfloat16 bits), a Buffer / Uint8Array / DataView of their bytes, or a DeviceTensor',
      data,
    );
  }
  if (data.buffer.byteLength === 0 && expected > 0) throw typeError(`${name}.data is detached`);
  return { native: { data, dtype, rows, vocab }, onDevice: false, dtype };
}

/** @internal Validates an Int32Array of `length` ids in [0, vocab). */
export function checkTokenIds(v: unknown, name: string, length: number, vocab: number): Int32Array {
  const ids = typedArray(v, name, 'Int32Array', length, 'one per row');
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (t < 0 || t >= vocab) throw outOfRange(`${name}[${i}]`, `a token id in [0, vocab = ${vocab})`, t);
  }
  return ids;
}
