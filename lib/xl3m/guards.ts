/** Typed-array checks that also accept arrays from another realm (vm contexts, jest, worker-transferred views). */
type Tag = 'Float32Array' | 'Float64Array' | 'Int32Array' | 'Uint16Array';

function tagged(v: unknown, tag: Tag): boolean {
  return ArrayBuffer.isView(v) && (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === tag && !detached(v);
}

/** A view whose buffer was transferred away is not a usable array (any read or copy of it throws). */
function detached(v: ArrayBufferView): boolean {
  if (v.byteLength > 0) return false;
  try {
    new Uint8Array(v.buffer);
    return false;
  } catch {
    return true;
  }
}

export function isFloat32Array(v: unknown): v is Float32Array {
  return tagged(v, 'Float32Array');
}
export function isFloat64Array(v: unknown): v is Float64Array {
  return tagged(v, 'Float64Array');
}
export function isInt32Array(v: unknown): v is Int32Array {
  return tagged(v, 'Int32Array');
}
