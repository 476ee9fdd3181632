/**
 * Reading logits and token files for the CLI: NumPy .npy (v1–v3, C order, little-endian) or raw little-endian
 * arrays.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import { lwError } from '../runtime/validate';

/** A loaded array: element kind, shape and an aligned copy of the data. */
export interface LoadedArray {
  /** 'f4' float32, 'f2' float16, 'u2' 16-bit words (bfloat16 bits), 'i4' int32, 'i8' int64. */
  kind: 'f4' | 'f2' | 'u2' | 'i4' | 'i8';
  shape: number[];
  data: ArrayBuffer;
}

const KINDS: Record<string, LoadedArray['kind']> = {
  '<f4': 'f4', '<f2': 'f2', '<u2': 'u2', '<i2': 'u2', '|V2': 'u2', '<V2': 'u2', '<i4': 'i4', '<i8': 'i8',
};

/** Parses a .npy file. Throws an Error (code ERR_LENGTHWISE_USAGE) naming the file on anything unsupported. */
export function readNpy(file: string): LoadedArray {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw lwError('ERR_LENGTHWISE_USAGE', `${file}: not a .npy file (bad magic)`);
  }
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw lwError('ERR_LENGTHWISE_USAGE', `${file}: unreadable .npy header`);
  const kind = KINDS[descr];
  if (!kind) throw lwError('ERR_LENGTHWISE_USAGE', `${file}: dtype '${descr}' is not supported (float32, float16, 16-bit bfloat16 words, int32, int64)`);
  if (fortran === 'True') throw lwError('ERR_LENGTHWISE_USAGE', `${file}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const offset = start + headerLen;
  const bytes = shape.reduce((a, b) => a * b, 1) * (kind === 'f4' || kind === 'i4' ? 4 : kind === 'i8' ? 8 : 2);
  if (buf.length - offset !== bytes) throw lwError('ERR_LENGTHWISE_USAGE', `${file}: holds ${buf.length - offset} data bytes, shape needs ${bytes}`);
  return { kind, shape, data: buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytes) };
}

/** Reads a raw file as an aligned ArrayBuffer. */
export function readRaw(file: string): ArrayBuffer {
  const buf = fs.readFileSync(file);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
}

/** Token ids from a .npy (int32/int64) or raw int32 file. */
export function readTokens(file: string): Int32Array {
  if (file.endsWith('.npy')) {
    const a = readNpy(file);
    if (a.kind === 'i4') return new Int32Array(a.data);
    if (a.kind === 'i8') return Int32Array.from(new BigInt64Array(a.data), (v) => Number(v));
    throw lwError('ERR_LENGTHWISE_USAGE', `${file}: token ids must be int32 or int64`);
  }
  const raw = readRaw(file);
  if (raw.byteLength % 4 !== 0) throw lwError('ERR_LENGTHWISE_USAGE', `${file}: raw int32 file size ${raw.byteLength} is not a multiple of 4`);
  return new Int32Array(raw);
}
