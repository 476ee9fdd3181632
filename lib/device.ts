/**
 * Device-resident data: tensors in GPU memory so kernels run where a model left its logits.
 *
 * @packageDocumentation
 */
import type { NativeDeviceBuffer } from './runtime/addonTypes';
import { cudaNative, cudaUnavailable } from './runtime/native';
import { integer, invalidType, lwError, object, optionKeys, options, typeError } from './runtime/validate';

/** Element kinds a DeviceTensor may hold (what the uploaded TypedArray was). */
export type DeviceElementType = 'float32' | 'uint16' | 'int32' | 'float64' | 'uint8' | 'bytes';

const handles = new WeakMap<DeviceTensor, NativeDeviceBuffer>();

/**
 * A block of CUDA device memory. `upload` tensors own their memory (freed by `dispose()` or, failing that, by
 * the garbage collector); `wrap` tensors borrow memory owned by another CUDA library and never free it.
 * Disposing a tensor while a call is using it is safe: the memory is released when that call settles.
 */
export class DeviceTensor {
  /** What the data was uploaded as ('bytes' for wrapped memory). */
  readonly elementType: DeviceElementType;
  /** @internal */
  constructor(handle: NativeDeviceBuffer, elementType: DeviceElementType) {
    handles.set(this, handle);
    this.elementType = elementType;
  }
  /** Size in bytes (0 once disposed). */
  get byteLength(): number {
    return handle(this).byteLength;
  }
  /** CUDA device ordinal (−1 once disposed). */
  get device(): number {
    return handle(this).device;
  }
  /** Whether `dispose()` was called. */
  get disposed(): boolean {
    return handle(this).disposed;
  }
  /** Copies the tensor back to host memory. */
  download(): Promise<ArrayBuffer> {
    return handle(this).download();
  }
  /** Releases the memory now (owned tensors) or forgets it (wrapped tensors). Idempotent. */
  dispose(): void {
    handle(this).dispose();
  }
}

function handle(t: DeviceTensor): NativeDeviceBuffer {
  const h = handles.get(t);
  if (!h) throw typeError('not a DeviceTensor created by lengthwise');
  return h;
}

/** @internal The native buffer behind a tensor (passed to kernels). */
export function nativeHandle(t: DeviceTensor): NativeDeviceBuffer {
  return handle(t);
}

/** @internal */
export function isDeviceTensor(v: unknown): v is DeviceTensor {
  return v instanceof DeviceTensor;
}

type UploadInput = Float32Array | Uint16Array | Int32Array | Float64Array | Uint8Array;

function elementTypeOf(data: UploadInput): DeviceElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float64Array) return 'float64';
  return 'uint8';
}

function cuda(what: string) {
  const addon = cudaNative();
  if (!addon) throw lwError('ERR_LENGTHWISE_NO_CUDA', `lengthwise: ${what} needs a CUDA device, but ${cudaUnavailable()}`);
  return addon;
}

/** Option keys of {@link upload} and {@link wrap}. */
const DEVICE_KEYS = optionKeys<{ device?: number }>({ device: 1 });

/** Copies host data to a CUDA device. */
export async function upload(data: UploadInput, opts: { device?: number } = {}): Promise<DeviceTensor> {
  if (
    !(data instanceof Float32Array || data instanceof Uint16Array || data instanceof Int32Array ||
      data instanceof Float64Array || data instanceof Uint8Array)
  ) {
    throw invalidType('data', 'a Float32Array, Uint16Array, Int32Array, Float64Array or Uint8Array', data);
  }
  const o = options<{ device?: number }>(opts, 'opts', DEVICE_KEYS);
  const dev = o.device === undefined ? 0 : integer(o.device, 'opts.device');
  const h = await cuda('device.upload').deviceUpload(data, dev);
  return new DeviceTensor(h, elementTypeOf(data));
}

/**
 * Borrows device memory allocated by another CUDA library in this process (e.g. a tensor's data pointer).
 * lengthwise never frees it; keep the owner alive while calls that use it are in flight.
 */
export function wrap(pointer: bigint, byteLength: number, opts: { device: number }): DeviceTensor {
  if (typeof pointer !== 'bigint') throw invalidType('pointer', 'a bigint device address', pointer);
  integer(byteLength, 'byteLength');
  object(opts, 'opts', '{ device }');
  const dev = integer(options<{ device: number }>(opts, 'opts', DEVICE_KEYS).device ?? 0, 'opts.device');
  return new DeviceTensor(cuda('device.wrap').deviceWrap(pointer, byteLength, dev), 'bytes');
}

/** The device address of a tensor (for handing it to another CUDA library). */
export function pointer(t: DeviceTensor): bigint {
  return cuda('device.pointer').devicePointer(handle(t));
}
