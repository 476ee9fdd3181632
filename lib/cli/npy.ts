/**
 * Reading arrays for the CLI in bounded memory: NumPy .npy (v1–v3, C order, little-endian), .npz (a zip of .npy
 * members: stored ones are read in place, deflated ones inflated as a stream with node:zlib), or raw little-endian
 * files. {@link openArray} reads only the header; {@link readChunks} then yields whole rows, a bounded number at a
 * time, so a file of any size passes through a fixed amount of memory.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import { Readable } from 'stream';
import { createInflateRaw } from 'zlib';
import { UsageError } from './usage';

/** Element kinds: 'f8' float64, 'f4' float32, 'f2' float16, 'u2' 16-bit words (bfloat16 bits), 'i4', 'i8'. */
export type ElementKind = 'f8' | 'f4' | 'f2' | 'u2' | 'i4' | 'i8';

const KINDS: Record<string, ElementKind> = {
  '<f8': 'f8', '<f4': 'f4', '<f2': 'f2', '<u2': 'u2', '<i2': 'u2', '|V2': 'u2', '<V2': 'u2', '<i4': 'i4', '<i8': 'i8',
};
/** Bytes per element. */
export const ITEM_SIZE: Record<ElementKind, number> = { f8: 8, f4: 4, f2: 2, u2: 2, i4: 4, i8: 8 };

/** Where an array's bytes are: a byte range of a file, stored or deflated. */
export interface ArraySource {
  /** For messages: the file, or file:member for a .npz. */
  name: string;
  /** 'npy', 'npz' or 'raw'. */
  format: 'npy' | 'npz' | 'raw';
  /** Element kind (raw files: undefined, the caller knows). */
  kind?: ElementKind;
  shape: number[];
  file: string;
  /** Offset of the (stored) member or .npy in the file. */
  start: number;
  /** Bytes of the (stored or compressed) member. */
  length: number;
  /** Deflated .npz member: the header is inside the compressed stream. */
  deflated: boolean;
  /** Offset of the array data from `start` in the (inflated) byte stream. */
  dataOffset: number;
}

interface NpyHeader {
  kind: ElementKind;
  shape: number[];
  dataOffset: number;
}

/** Parses a .npy header from its first bytes (`head` must hold the whole header). */
function parseNpyHeader(head: Buffer, name: string): NpyHeader | 'short' {
  if (head.length < 10) return 'short';
  if (head.readUInt8(0) !== 0x93 || head.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new UsageError(`${name}: not a .npy file (bad magic)`);
  }
  const major = head.readUInt8(6);
  if (major < 1 || major > 3) throw new UsageError(`${name}: .npy format version ${major} is not supported (1–3)`);
  if (major > 1 && head.length < 12) return 'short';
  const headerLen = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (head.length < start + headerLen) return 'short';
  const header = head.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new UsageError(`${name}: unreadable .npy header`);
  const kind = KINDS[descr];
  if (!kind) {
    throw new UsageError(`${name}: dtype '${descr}' is not supported (little-endian float64, float32, float16, 16-bit bfloat16 words, int32, int64)`);
  }
  if (fortran === 'True') throw new UsageError(`${name}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new UsageError(`${name}: bad shape (${shapeText})`);
  return { kind, shape, dataOffset: start + headerLen };
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, b, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

/** A file's first bytes tell its format: .npy magic, zip (a .npz), or neither. */
function sniff(fd: number): 'npy' | 'npz' | 'raw' {
  const b = readAt(fd, 0, 6);
  if (b.length >= 6 && b[0] === 0x93 && b.toString('latin1', 1, 6) === 'NUMPY') return 'npy';
  if (b.length >= 4 && b.readUInt32LE(0) === 0x04034b50) return 'npz';
  return 'raw';
}

interface ZipMember {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The members of a zip file, from its central directory (zip64 included). */
function zipMembers(fd: number, fileSize: number, name: string): ZipMember[] {
  const tailLen = Math.min(fileSize, 65536 + 22);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UsageError(`${name}: a zip (.npz) without an end-of-central-directory record (truncated?)`);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new UsageError(`${name}: zip64 locator missing`);
    const recAt = Number(tail.readBigUInt64LE(loc + 8));
    const rec = readAt(fd, recAt, 56);
    if (rec.readUInt32LE(0) !== 0x06064b50) throw new UsageError(`${name}: bad zip64 end-of-central-directory record`);
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  const cd = readAt(fd, cdOffset, cdSize);
  const out: ZipMember[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new UsageError(`${name}: corrupt zip central directory`);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28), extraLen = cd.readUInt16LE(p + 30), commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const memberName = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 8-byte values of the fields that read 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = cd.readUInt16LE(e), len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (localOffset === 0xffffffff) localOffset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    out.push({ name: memberName, method, compressedSize, size, localOffset });
    p = end + commentLen;
  }
  return out;
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  for await (const c of stream) {
    parts.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(parts);
}

/** The byte stream of a source from its start (inflated for a deflated member). */
function byteStream(src: ArraySource, highWaterMark = 1 << 22): Readable {
  if (src.length === 0) return Readable.from([]);
  const raw = fs.createReadStream(src.file, { start: src.start, end: src.start + src.length - 1, highWaterMark });
  if (!src.deflated) return raw;
  const inflate = createInflateRaw({ chunkSize: 1 << 20 });
  raw.on('error', (e) => inflate.destroy(e));
  return raw.pipe(inflate);
}

/**
 * Opens an array file without reading its data: .npy and .npz are recognised by their first bytes (whatever the
 * extension); anything else is raw (shape and kind then come from the caller). For a .npz, `member` picks the array
 * (default: the only one, or `preferred`).
 */
export async function openArray(file: string, member?: string, preferred = 'logits'): Promise<ArraySource> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const format = sniff(fd);
    if (format === 'raw') {
      if (file.endsWith('.npy')) throw new UsageError(`${file}: not a .npy file (bad magic)`);
      if (file.endsWith('.npz')) throw new UsageError(`${file}: not a .npz file (not a zip archive)`);
      return { name: file, format, shape: [], file, start: 0, length: size, deflated: false, dataOffset: 0 };
    }
    if (format === 'npy') {
      const head = readAt(fd, 0, Math.min(size, 1 << 16));
      const h = parseNpyHeader(head, file);
      if (h === 'short') throw new UsageError(`${file}: truncated .npy header`);
      checkLength(file, h, size);
      return { name: file, format, kind: h.kind, shape: h.shape, file, start: 0, length: size, deflated: false, dataOffset: h.dataOffset };
    }
    const members = zipMembers(fd, size, file).filter((m) => m.name.endsWith('.npy'));
    if (members.length === 0) throw new UsageError(`${file}: a zip without .npy members (not a .npz)`);
    const list = members.map((m) => m.name.replace(/\.npy$/, '')).join(', ');
    let m: ZipMember | undefined;
    if (member !== undefined) {
      m = members.find((x) => x.name === member || x.name === `${member}.npy`);
      if (!m) throw new UsageError(`${file}: no array '${member}' (arrays: ${list})`);
    } else {
      m = members.length === 1 ? members[0] : members.find((x) => x.name === `${preferred}.npy`);
      if (!m) throw new UsageError(`${file}: ${members.length} arrays (${list}); pick one with --npz-key`);
    }
    if (m.method !== 0 && m.method !== 8) throw new UsageError(`${file}:${m.name}: zip compression method ${m.method} is not supported (stored or deflate)`);
    const local = readAt(fd, m.localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new UsageError(`${file}: corrupt zip local header for ${m.name}`);
    const start = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const name = `${file}:${m.name}`;
    const src: ArraySource = { name, format: 'npz', file, start, length: m.compressedSize, deflated: m.method === 8, shape: [], dataOffset: 0 };
    const head = m.method === 0 ? readAt(fd, start, Math.min(m.compressedSize, 1 << 16)) : await firstBytes(byteStream(src, 1 << 16), 1 << 16);
    const h = parseNpyHeader(head, name);
    if (h === 'short') throw new UsageError(`${name}: truncated .npy header`);
    checkLength(name, h, m.size);
    return { ...src, kind: h.kind, shape: h.shape, dataOffset: h.dataOffset };
  } finally {
    fs.closeSync(fd);
  }
}

function checkLength(name: string, h: NpyHeader, total: number): void {
  const bytes = elements(h.shape) * ITEM_SIZE[h.kind];
  if (total - h.dataOffset !== bytes) throw new UsageError(`${name}: holds ${total - h.dataOffset} data bytes, its shape (${h.shape.join(', ')}) needs ${bytes}`);
}

/**
 * Yields the data of `src` as consecutive chunks of whole rows (`rowBytes` each), at most `rowsPerChunk` rows a
 * chunk, each an aligned Buffer (offset 0 of its own ArrayBuffer). The chunks rotate through `buffers` buffers: a
 * chunk stays valid until `buffers` more have been requested (so with 2, the consumer may work on chunk k while
 * chunk k+1 is read). Memory: `buffers` chunks plus the stream's buffers, whatever the file size.
 */
export async function* readChunks(src: ArraySource, rowBytes: number, rowsPerChunk: number, buffers = 2): AsyncGenerator<Buffer> {
  const stream = byteStream(src);
  let skip = src.dataOffset;
  const chunkBytes = rowBytes * rowsPerChunk;
  const pool = Array.from({ length: buffers }, () => Buffer.allocUnsafeSlow(chunkBytes));
  let turn = 0;
  let buf = pool[0]!;
  let fill = 0;
  for await (const piece of stream) {
    let c = piece as Buffer;
    if (skip > 0) {
      const n = Math.min(skip, c.length);
      c = c.subarray(n);
      skip -= n;
    }
    while (c.length > 0) {
      const n = Math.min(c.length, chunkBytes - fill);
      c.copy(buf, fill, 0, n);
      fill += n;
      c = c.subarray(n);
      if (fill === chunkBytes) {
        yield buf;
        turn = (turn + 1) % buffers;
        buf = pool[turn]!;
        fill = 0;
      }
    }
  }
  if (fill % rowBytes !== 0) throw new UsageError(`${src.name}: ends inside a row (${fill % rowBytes} stray bytes)`);
  if (fill > 0) yield buf.subarray(0, fill);
}

/** Token ids from a .npy (int32/int64; inside a .npz: the only array, or 'targets') or a raw int32 file. */
export async function readTokens(file: string, member?: string): Promise<Int32Array> {
  const src = await openArray(file, member, 'targets');
  if (src.format === 'raw') {
    if (src.length % 4 !== 0) throw new UsageError(`${file}: raw int32 file size ${src.length} is not a multiple of 4`);
  } else if (src.kind !== 'i4' && src.kind !== 'i8') throw new UsageError(`${src.name}: token ids must be int32 or int64`);
  const item = src.format === 'raw' ? 4 : ITEM_SIZE[src.kind!];
  const n = src.format === 'raw' ? src.length / 4 : elements(src.shape);
  const out = new Int32Array(n);
  let k = 0;
  for await (const chunk of readChunks(src, item, 1 << 16)) {
    if (item === 4) {
      out.set(new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4), k);
      k += chunk.length / 4;
    } else {
      const big = new BigInt64Array(chunk.buffer, chunk.byteOffset, chunk.length / 8);
      for (let i = 0; i < big.length; i++) {
        const v = big[i]!;
        if (v < -2147483648n || v > 2147483647n) throw new UsageError(`${src.name}: token id ${v} at ${k} does not fit int32`);
        out[k++] = Number(v);
      }
    }
  }
  return out;
}
