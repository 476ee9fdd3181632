/**
 * Hostile values for the boundary fuzz: wrong types, non-finite and out-of-range numbers, sizes whose products
 * overflow 32 bits, empty and detached arrays, aborted signals. Each entry builds a fresh value (a detached
 * buffer cannot be reused across calls once a test mutates it).
 */

/** A view whose ArrayBuffer was transferred away (detached: length 0, no backing store). */
export function detached<T extends ArrayBufferView>(make: (b: ArrayBuffer) => T, bytes = 16): T {
  const buf = new ArrayBuffer(bytes);
  const view = make(buf);
  structuredClone(buf, { transfer: [buf] });
  return view;
}

export function abortedSignal(): AbortSignal {
  const c = new AbortController();
  c.abort();
  return c.signal;
}

export interface Nasty {
  label: string;
  make: () => unknown;
}

const n = (label: string, make: () => unknown): Nasty => ({ label, make });

export const NASTY: readonly Nasty[] = [
  n('undefined', () => undefined),
  n('null', () => null),
  n('NaN', () => NaN),
  n('Infinity', () => Infinity),
  n('-Infinity', () => -Infinity),
  n('-1', () => -1),
  n('0', () => 0),
  n('-0', () => -0),
  n('0.5', () => 0.5),
  n('1', () => 1),
  n('3', () => 3),
  n('65536', () => 65536),
  n('65537', () => 65537),
  n('2^31-1', () => 2 ** 31 - 1),
  n('2^31', () => 2 ** 31),
  n('2^32', () => 2 ** 32),
  n('2^32+1', () => 2 ** 32 + 1),
  n('2^53', () => 2 ** 53),
  n('1e300', () => 1e300),
  n('-2^31-1', () => -(2 ** 31) - 1),
  n("''", () => ''),
  n("'x'", () => 'x'),
  n("'1'", () => '1'),
  n("'toString'", () => 'toString'),
  n("'constructor'", () => 'constructor'),
  n("'__proto__'", () => '__proto__'),
  n("'cpu'", () => 'cpu'),
  n("'cuda'", () => 'cuda'),
  n('true', () => true),
  n('false', () => false),
  n('1n', () => 1n),
  n('2^64n', () => 2n ** 64n),
  n('-1n', () => -1n),
  n('Symbol', () => Symbol('s')),
  n('{}', () => ({})),
  n('Object.create(null)', () => Object.create(null) as object),
  n('[]', () => []),
  n('[1,2,3]', () => [1, 2, 3]),
  n('[NaN]', () => [NaN]),
  n('[[1,2]]', () => [[1, 2]]),
  n('function', () => () => 1),
  n('Date', () => new Date(0)),
  n('{length: 2^40}', () => ({ length: 2 ** 40 })),
  n('detached Float32Array', () => detached((b) => new Float32Array(b))),
  n('detached Int32Array', () => detached((b) => new Int32Array(b))),
  n('detached Uint16Array', () => detached((b) => new Uint16Array(b))),
  n('detached Float64Array', () => detached((b) => new Float64Array(b))),
  n('empty Float32Array', () => new Float32Array(0)),
  n('empty Int32Array', () => new Int32Array(0)),
  n('empty Uint16Array', () => new Uint16Array(0)),
  n('empty Float64Array', () => new Float64Array(0)),
  n('Float32Array [NaN,Inf,-Inf,1]', () => Float32Array.of(NaN, Infinity, -Infinity, 1)),
  n('Float32Array -Inf x4', () => new Float32Array(4).fill(-Infinity)),
  n('Float64Array [0.2,0.3,0.5]', () => Float64Array.of(0.2, 0.3, 0.5)),
  n('Float64Array [NaN,1]', () => Float64Array.of(NaN, 1)),
  n('Int32Array [-1,2^31-1,0]', () => Int32Array.of(-1, 2 ** 31 - 1, 0)),
  n('Int32Array [0,1,2,3]', () => Int32Array.of(0, 1, 2, 3)),
  n('Int32Array [0]', () => Int32Array.of(0)),
  n('Uint16Array [0x7c00,0xffff,0xff80,0]', () => Uint16Array.of(0x7c00, 0xffff, 0xff80, 0)),
  n('Uint8Array(3)', () => new Uint8Array(3)),
  n('Uint32Array(4)', () => new Uint32Array(4)),
  n('BigInt64Array(2)', () => new BigInt64Array(2)),
  n('Float32Array over SharedArrayBuffer', () => new Float32Array(new SharedArrayBuffer(16))),
  n('Int32Array over SharedArrayBuffer', () => new Int32Array(new SharedArrayBuffer(16))),
  n('offset Float32Array view', () => new Float32Array(new ArrayBuffer(64), 12, 4)),
  n('DataView', () => new DataView(new ArrayBuffer(8))),
  n('ArrayBuffer', () => new ArrayBuffer(16)),
  n('aborted AbortSignal', () => abortedSignal()),
  n('AbortSignal', () => new AbortController().signal),
  n('Promise', () => Promise.resolve(1)),
];
