// Shared benchmark helpers: arguments, medians, .npy files and persistent python baseline processes.
import { spawn } from 'child_process';
import * as readline from 'readline';
import { toBf16 } from '../lib/runtime/dtype';
import { lcg, uniformLogits } from '../lib/runtime/prng';

/** Numeric command-line option `--name value`, or the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A .npy file (version 1) holding `data` with numpy dtype `descr` and `shape`. */
export function npyBuffer(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** The benchmarks' logits: uniform in [-8, 8) from lcg(12345) (as `lengthwise bench`), as float32 or bfloat16 bits. */
export function randomLogits(n: number, bf16: boolean): Float32Array | Uint16Array {
  const f = uniformLogits(n, lcg(12345));
  return bf16 ? toBf16(f) : f;
}

/** A persistent python process (numpy/scipy baselines) answering one request per line after printing 'ready'. */
export async function pythonServer(
  script: string,
  args: string[],
): Promise<{ ask: (cmd: string) => Promise<string>; close: () => void }> {
  const p = spawn('python3', [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: p.stdout });
  const queue: ((s: string) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = () => new Promise<string>((resolve) => queue.push(resolve));
  const ready = await next();
  if (ready !== 'ready') throw new Error(`numpy helper: ${ready}`);
  return {
    ask: (cmd) => {
      const r = next();
      p.stdin.write(cmd + '\n');
      return r;
    },
    close: () => {
      p.stdin.end('quit\n');
    },
  };
}

/** Median of a list of numbers. */
export const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

