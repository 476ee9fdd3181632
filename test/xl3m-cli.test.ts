import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runXl3m, demoXl3m } from '../lib/cli/xl3m';
import { score } from '../lib/xl3m/score';
import { random16 } from './helpers/logits';
import { rng } from './helpers/rng';

function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt8(0, 7);
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await runXl3m(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('lengthwise xl3m', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-xl3m-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const S = 6, P = 3, V = 1000;
  const data = random16(S * P * V, 'bfloat16', rng(5));
  const targets = Int32Array.from({ length: S * P }, (_, i) => (i * 37) % V);

  test('3-D .npy of bfloat16 words with targets, JSON output', async () => {
    const f = path.join(dir, 'l.npy');
    fs.writeFileSync(f, npy('<u2', [S, P, V], data));
    const t = path.join(dir, 't.npy');
    fs.writeFileSync(t, npy('<i8', [S * P], BigInt64Array.from(targets, (x) => BigInt(x))));
    const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--metric', 'nll', '--targets', t, '--top-k', '2', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { scores: number[]; selected: number[]; ranking: number[] };
    const want = await score({ data, dtype: 'bfloat16', rows: S * P, vocab: V }, { segments: S, metric: 'nll', targets, backend: 'cpu' });
    expect(j.scores).toEqual(Array.from(want));
    expect(j.selected).toEqual(j.ranking.slice(0, 2).sort((a, b) => a - b));
  });

  test('raw file with shape flags, table output, token budget', async () => {
    const f = path.join(dir, 'l.bin');
    fs.writeFileSync(f, Buffer.from(data.buffer));
    const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--rows', String(S * P), '--vocab', String(V), '--segments', String(S),
      '--pooling', 'min', '--token-budget', '25', '--segment-tokens', '10', '--overlap-tokens', '5', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/6 segments × 3 positions × vocab 1000/);
    expect(r.out).toMatch(/selected \(chronological\):/);
  });

  test('usage errors exit 2 with a message', async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture(['--logits', 'x.bin', '--rows', '2'])).err).toMatch(/--rows and --vocab/);
    const f = path.join(dir, 'small.bin');
    fs.writeFileSync(f, Buffer.alloc(12));
    expect((await capture(['--logits', f, '--rows', '2', '--vocab', '2', '--segments', '1'])).err).toMatch(/bytes/);
    expect((await capture(['--bogus'])).code).toBe(2);
    expect((await capture(['--help'])).out).toMatch(/usage: lengthwise xl3m/);
  });

  test('demo finds the needle', async () => {
    const text = await demoXl3m();
    expect(text).toMatch(/the secret code of the blue castle is seven four nine/);
    const m = /needle sits in segment (\d+); best by entropy: (\d+)/.exec(text);
    expect(m?.[1]).toBe(m?.[2]);
  });
});
